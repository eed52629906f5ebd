"""G.711 u-law and A-law codecs with numpy, bit-exact with the ITU-T/Sun reference (audioop).

Decoding uses 256-entry tables built at import (a few microseconds, no I/O); encoding uses
65536-entry tables indexed by the raw 16-bit sample, built lazily on first use and cached.
Encoders take int16 arrays only, so a float or int32 buffer is never silently truncated.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

__all__ = ["alaw_decode", "alaw_encode", "ulaw_decode", "ulaw_encode"]

Pcm16 = npt.NDArray[np.int16]

_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159  # largest 14-bit magnitude the reference encoder keeps
_ULAW_SEG_END = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)
_ALAW_SEG_END = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF], dtype=np.int32)


def _build_ulaw_decode() -> Pcm16:
    """Return the 256-entry u-law to linear table (reference st_ulaw2linear16)."""
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + _ULAW_BIAS) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, _ULAW_BIAS - t, t - _ULAW_BIAS).astype(np.int16)


def _build_alaw_decode() -> Pcm16:
    """Return the 256-entry A-law to linear table (reference st_alaw2linear16)."""
    a = np.arange(256, dtype=np.int32) ^ 0x55
    seg = (a & 0x70) >> 4
    t = (a & 0x0F) << 4
    t = np.where(seg == 0, t + 8, (t + 0x108) << np.maximum(seg - 1, 0))
    return np.where(a & 0x80, t, -t).astype(np.int16)


_ULAW_DECODE: Pcm16 = _build_ulaw_decode()
_ALAW_DECODE: Pcm16 = _build_alaw_decode()
_ULAW_DECODE.flags.writeable = False
_ALAW_DECODE.flags.writeable = False


def _all_samples() -> npt.NDArray[np.int32]:
    """Return every int16 value, ordered by its uint16 bit pattern, widened to int32."""
    return np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.int16).astype(np.int32)


@cache
def _ulaw_encode_table() -> npt.NDArray[np.uint8]:
    """Build (once) the uint16-indexed linear to u-law table (reference st_14linear2ulaw)."""
    p = _all_samples() >> 2
    mask = np.where(p < 0, 0x7F, 0xFF)
    p = np.minimum(np.abs(p), _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    seg = np.searchsorted(_ULAW_SEG_END, p, side="left").astype(np.int32)
    uval = (seg << 4) | ((p >> (seg + 1)) & 0x0F)
    out = np.where(seg >= 8, 0x7F ^ mask, uval ^ mask).astype(np.uint8)
    out.flags.writeable = False
    return out


@cache
def _alaw_encode_table() -> npt.NDArray[np.uint8]:
    """Build (once) the uint16-indexed linear to A-law table (reference st_linear2alaw)."""
    p = _all_samples() >> 3
    mask = np.where(p >= 0, 0xD5, 0x55)
    p = np.where(p >= 0, p, -p - 1)
    seg = np.searchsorted(_ALAW_SEG_END, p, side="left").astype(np.int32)
    quant = np.where(seg < 2, p >> 1, p >> np.minimum(seg, 15)) & 0x0F
    aval = (seg << 4) | quant
    out = np.where(seg >= 8, 0x7F ^ mask, aval ^ mask).astype(np.uint8)
    out.flags.writeable = False
    return out


def _codes(data: bytes | bytearray | memoryview) -> npt.NDArray[np.uint8]:
    """View G.711 bytes as a uint8 array without copying."""
    return np.frombuffer(data, dtype=np.uint8)


def _sample_index(pcm: Pcm16) -> npt.NDArray[np.uint16]:
    """Check that `pcm` is native int16 and return its samples as uint16 table indices."""
    arr = np.asarray(pcm)
    if arr.dtype != np.dtype(np.int16):
        raise TypeError(f"G.711 encoders take int16 PCM, got dtype {arr.dtype}; convert first")
    return np.ascontiguousarray(arr).reshape(-1).view(np.uint16)


def ulaw_decode(data: bytes | bytearray | memoryview) -> Pcm16:
    """Decode u-law bytes to a new int16 PCM array, one sample per byte."""
    return _ULAW_DECODE[_codes(data)]


def ulaw_encode(pcm: Pcm16) -> bytes:
    """Encode int16 PCM (any shape, flattened in C order) to u-law bytes."""
    return _ulaw_encode_table()[_sample_index(pcm)].tobytes()


def alaw_decode(data: bytes | bytearray | memoryview) -> Pcm16:
    """Decode A-law bytes to a new int16 PCM array, one sample per byte."""
    return _ALAW_DECODE[_codes(data)]


def alaw_encode(pcm: Pcm16) -> bytes:
    """Encode int16 PCM (any shape, flattened in C order) to A-law bytes."""
    return _alaw_encode_table()[_sample_index(pcm)].tobytes()
