"""Custom actions of the Bürgertelefon, served by `rasa run actions` (rasa_sdk)."""
