"""The per-call pipeline: endpointing, ASR, dialogue, TTS and paced playout."""
