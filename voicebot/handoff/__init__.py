"""Handing a call to a person: the handoff record, its id, service hours, transfer and webhooks."""
