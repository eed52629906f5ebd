"""Audio helpers: resampling, VAD endpointing, WAV I/O."""
