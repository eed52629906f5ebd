"""Outgoing e-mail: the outbox sender and the SMTP delivery it runs in a thread."""
