"""Model-backed services: ASR, TTS, dialogue, model resolution."""
