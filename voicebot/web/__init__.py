"""HTTP side of the gateway: app factory, API, health, media endpoints."""
