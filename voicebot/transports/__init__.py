"""asyncio adapters between the wire and the per-call pipeline."""
