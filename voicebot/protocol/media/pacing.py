"""Media faster than real time is refused: a caller's audio may run ahead of the clock only by a
small burst (jitter, a platform's catch-up), never by seconds. Sans-I/O: the caller passes `now`.
"""

from __future__ import annotations

from voicebot.errors import ProtocolError

CLOSE_POLICY_VIOLATION = 1008


class MediaPacer:
    """Counts the audio one stream delivered against the time since its first media."""

    def __init__(self, sample_rate: int, burst_ms: int) -> None:
        self._rate = sample_rate
        self._burst_ms = burst_ms
        self._first: float | None = None
        self._samples = 0

    def arrive(self, samples: int, now: float) -> None:
        """Counts `samples` arriving at `now` (seconds); raises ProtocolError (1008) once the
        stream is more than the burst allowance ahead of real time."""
        if self._first is None:
            self._first = now
        self._samples += samples
        ahead_ms = self._samples * 1000 / self._rate - (now - self._first) * 1000
        if ahead_ms > self._burst_ms:
            raise ProtocolError(
                f"Twilio media stream: media {ahead_ms:.0f} ms ahead of real time "
                f"(allowed: {self._burst_ms} ms)",
                CLOSE_POLICY_VIOLATION,
            )
