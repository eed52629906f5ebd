"""The trainer's workbench: turns the bot understood badly, their review, the NLU export."""
