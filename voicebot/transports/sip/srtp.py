"""SRTP and SRTCP for one call (RFC 3711), with libsrtp through pylibsrtp.

The keys come from the SDES exchange (`voicebot.protocol.sdes.SrtpKeys`): ours protect what we
send, the peer's unprotect what we receive. libsrtp checks each packet's authentication tag and
its replay window; a packet that fails is an `SrtpError` (dropped and counted by the caller).
RTCP shares the RTP port only with rtcp-mux (RFC 5761): `is_rtcp` tells such packets apart.
Keys are never logged: this module writes no log line, and `SrtpKeys` hides them in its repr.
"""

from __future__ import annotations

import pylibsrtp

from voicebot.protocol.sdes import SrtpKeys

PROFILES = {
    "AES_CM_128_HMAC_SHA1_80": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
    "AES_CM_128_HMAC_SHA1_32": pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_32,
}


class SrtpError(Exception):
    """A packet that is not authentic, is replayed, or cannot be protected."""


def is_rtcp(data: bytes) -> bool:
    """Whether a datagram on a muxed port is RTCP: packet types 192-223 (RFC 5761 §4)."""
    return len(data) >= 2 and 192 <= data[1] <= 223


class SrtpStreams:
    """The two directions of one call's SRTP: protect outgoing, unprotect incoming."""

    def __init__(self, keys: SrtpKeys) -> None:
        profile = PROFILES[keys.suite]
        self.keys = keys
        self._tx = pylibsrtp.Session(
            pylibsrtp.Policy(keys.local, pylibsrtp.Policy.SSRC_ANY_OUTBOUND, 0, profile)
        )
        self._rx = pylibsrtp.Session(
            pylibsrtp.Policy(keys.remote, pylibsrtp.Policy.SSRC_ANY_INBOUND, 0, profile)
        )

    def protect(self, rtp: bytes) -> bytes:
        """An RTP packet as SRTP."""
        try:
            return bytes(self._tx.protect(rtp))
        except pylibsrtp.Error as exc:
            raise SrtpError(f"cannot protect: {exc}") from None

    def unprotect(self, srtp: bytes) -> bytes:
        """An SRTP packet as RTP; SrtpError if it is not authentic or a replay."""
        try:
            return bytes(self._rx.unprotect(srtp))
        except pylibsrtp.Error as exc:
            raise SrtpError(f"not authentic: {exc}") from None

    def protect_rtcp(self, rtcp: bytes) -> bytes:
        """An RTCP packet as SRTCP."""
        try:
            return bytes(self._tx.protect_rtcp(rtcp))
        except pylibsrtp.Error as exc:
            raise SrtpError(f"cannot protect RTCP: {exc}") from None

    def unprotect_rtcp(self, srtcp: bytes) -> bytes:
        """An SRTCP packet as RTCP; SrtpError if it is not authentic or a replay."""
        try:
            return bytes(self._rx.unprotect_rtcp(srtcp))
        except pylibsrtp.Error as exc:
            raise SrtpError(f"RTCP not authentic: {exc}") from None
