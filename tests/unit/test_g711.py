"""Byte-table tests for the G.711 codecs against reference vectors and an independent formula."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from voicebot.protocol import g711
from voicebot.protocol.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode

# fmt: off
# u-law code 0x00..0xFF -> int16, generated once with CPython 3.11 audioop.
ULAW_DECODE_REF: tuple[int, ...] = (
    -32124, -31100, -30076, -29052, -28028, -27004, -25980, -24956,  # 0x00
    -23932, -22908, -21884, -20860, -19836, -18812, -17788, -16764,  # 0x08
    -15996, -15484, -14972, -14460, -13948, -13436, -12924, -12412,  # 0x10
    -11900, -11388, -10876, -10364,  -9852,  -9340,  -8828,  -8316,  # 0x18
     -7932,  -7676,  -7420,  -7164,  -6908,  -6652,  -6396,  -6140,  # 0x20
     -5884,  -5628,  -5372,  -5116,  -4860,  -4604,  -4348,  -4092,  # 0x28
     -3900,  -3772,  -3644,  -3516,  -3388,  -3260,  -3132,  -3004,  # 0x30
     -2876,  -2748,  -2620,  -2492,  -2364,  -2236,  -2108,  -1980,  # 0x38
     -1884,  -1820,  -1756,  -1692,  -1628,  -1564,  -1500,  -1436,  # 0x40
     -1372,  -1308,  -1244,  -1180,  -1116,  -1052,   -988,   -924,  # 0x48
      -876,   -844,   -812,   -780,   -748,   -716,   -684,   -652,  # 0x50
      -620,   -588,   -556,   -524,   -492,   -460,   -428,   -396,  # 0x58
      -372,   -356,   -340,   -324,   -308,   -292,   -276,   -260,  # 0x60
      -244,   -228,   -212,   -196,   -180,   -164,   -148,   -132,  # 0x68
      -120,   -112,   -104,    -96,    -88,    -80,    -72,    -64,  # 0x70
       -56,    -48,    -40,    -32,    -24,    -16,     -8,      0,  # 0x78
     32124,  31100,  30076,  29052,  28028,  27004,  25980,  24956,  # 0x80
     23932,  22908,  21884,  20860,  19836,  18812,  17788,  16764,  # 0x88
     15996,  15484,  14972,  14460,  13948,  13436,  12924,  12412,  # 0x90
     11900,  11388,  10876,  10364,   9852,   9340,   8828,   8316,  # 0x98
      7932,   7676,   7420,   7164,   6908,   6652,   6396,   6140,  # 0xA0
      5884,   5628,   5372,   5116,   4860,   4604,   4348,   4092,  # 0xA8
      3900,   3772,   3644,   3516,   3388,   3260,   3132,   3004,  # 0xB0
      2876,   2748,   2620,   2492,   2364,   2236,   2108,   1980,  # 0xB8
      1884,   1820,   1756,   1692,   1628,   1564,   1500,   1436,  # 0xC0
      1372,   1308,   1244,   1180,   1116,   1052,    988,    924,  # 0xC8
       876,    844,    812,    780,    748,    716,    684,    652,  # 0xD0
       620,    588,    556,    524,    492,    460,    428,    396,  # 0xD8
       372,    356,    340,    324,    308,    292,    276,    260,  # 0xE0
       244,    228,    212,    196,    180,    164,    148,    132,  # 0xE8
       120,    112,    104,     96,     88,     80,     72,     64,  # 0xF0
        56,     48,     40,     32,     24,     16,      8,      0,  # 0xF8
)
# A-law code 0x00..0xFF -> int16, generated once with CPython 3.11 audioop.
ALAW_DECODE_REF: tuple[int, ...] = (
     -5504,  -5248,  -6016,  -5760,  -4480,  -4224,  -4992,  -4736,  # 0x00
     -7552,  -7296,  -8064,  -7808,  -6528,  -6272,  -7040,  -6784,  # 0x08
     -2752,  -2624,  -3008,  -2880,  -2240,  -2112,  -2496,  -2368,  # 0x10
     -3776,  -3648,  -4032,  -3904,  -3264,  -3136,  -3520,  -3392,  # 0x18
    -22016, -20992, -24064, -23040, -17920, -16896, -19968, -18944,  # 0x20
    -30208, -29184, -32256, -31232, -26112, -25088, -28160, -27136,  # 0x28
    -11008, -10496, -12032, -11520,  -8960,  -8448,  -9984,  -9472,  # 0x30
    -15104, -14592, -16128, -15616, -13056, -12544, -14080, -13568,  # 0x38
      -344,   -328,   -376,   -360,   -280,   -264,   -312,   -296,  # 0x40
      -472,   -456,   -504,   -488,   -408,   -392,   -440,   -424,  # 0x48
       -88,    -72,   -120,   -104,    -24,     -8,    -56,    -40,  # 0x50
      -216,   -200,   -248,   -232,   -152,   -136,   -184,   -168,  # 0x58
     -1376,  -1312,  -1504,  -1440,  -1120,  -1056,  -1248,  -1184,  # 0x60
     -1888,  -1824,  -2016,  -1952,  -1632,  -1568,  -1760,  -1696,  # 0x68
      -688,   -656,   -752,   -720,   -560,   -528,   -624,   -592,  # 0x70
      -944,   -912,  -1008,   -976,   -816,   -784,   -880,   -848,  # 0x78
      5504,   5248,   6016,   5760,   4480,   4224,   4992,   4736,  # 0x80
      7552,   7296,   8064,   7808,   6528,   6272,   7040,   6784,  # 0x88
      2752,   2624,   3008,   2880,   2240,   2112,   2496,   2368,  # 0x90
      3776,   3648,   4032,   3904,   3264,   3136,   3520,   3392,  # 0x98
     22016,  20992,  24064,  23040,  17920,  16896,  19968,  18944,  # 0xA0
     30208,  29184,  32256,  31232,  26112,  25088,  28160,  27136,  # 0xA8
     11008,  10496,  12032,  11520,   8960,   8448,   9984,   9472,  # 0xB0
     15104,  14592,  16128,  15616,  13056,  12544,  14080,  13568,  # 0xB8
       344,    328,    376,    360,    280,    264,    312,    296,  # 0xC0
       472,    456,    504,    488,    408,    392,    440,    424,  # 0xC8
        88,     72,    120,    104,     24,      8,     56,     40,  # 0xD0
       216,    200,    248,    232,    152,    136,    184,    168,  # 0xD8
      1376,   1312,   1504,   1440,   1120,   1056,   1248,   1184,  # 0xE0
      1888,   1824,   2016,   1952,   1632,   1568,   1760,   1696,  # 0xE8
       688,    656,    752,    720,    560,    528,    624,    592,  # 0xF0
       944,    912,   1008,    976,    816,    784,    880,    848,  # 0xF8
)
# fmt: on

# sha256 of encoding every int16 from -32768 to 32767 in order (CPython 3.11 audioop output).
ULAW_ENCODE_ALL_SHA256 = "81d633c9e6972a18c74a58720b96cb8ca0bdd096d4060b646dd708c3b846019a"
ALAW_ENCODE_ALL_SHA256 = "38488f6fd710f4686360edc4d38639f96c491595ef93f8eb8d62d5e07ca6ce7b"

ALL_CODES = bytes(range(256))
ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int16)


def ref_ulaw_decode(code: int) -> int:
    """Decode one u-law code by the G.711 sign/exponent/mantissa formula."""
    u = ~code & 0xFF
    exponent, mantissa = (u >> 4) & 0x07, u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return -magnitude if u & 0x80 else magnitude


def ref_alaw_decode(code: int) -> int:
    """Decode one A-law code by the G.711 sign/exponent/mantissa formula."""
    a = code ^ 0x55
    exponent, mantissa = (a >> 4) & 0x07, a & 0x0F
    step = 8 if exponent == 0 else 0x108
    magnitude = ((mantissa << 4) + step) << max(exponent - 1, 0)
    return magnitude if a & 0x80 else -magnitude


def ref_ulaw_encode(sample: int) -> int:
    """Encode one sample to u-law with bit_length instead of segment tables."""
    p = sample >> 2
    mask = 0x7F if p < 0 else 0xFF
    biased = min(abs(p), 8159) + 33
    exponent = max(0, biased.bit_length() - 6)
    if exponent > 7:
        return 0x7F ^ mask
    return ((exponent << 4) | ((biased >> (exponent + 1)) & 0x0F)) ^ mask


def ref_alaw_encode(sample: int) -> int:
    """Encode one sample to A-law with bit_length instead of segment tables."""
    p = sample >> 3
    mask = 0xD5 if p >= 0 else 0x55
    magnitude = p if p >= 0 else -p - 1
    exponent = max(0, magnitude.bit_length() - 5)
    mantissa = (magnitude >> (1 if exponent < 2 else exponent)) & 0x0F
    return ((exponent << 4) | mantissa) ^ mask


def test_reference_tables_agree_with_independent_formula() -> None:
    """The literal audioop tables and the spec formula describe the same 256 values."""
    assert [ref_ulaw_decode(c) for c in range(256)] == list(ULAW_DECODE_REF)
    assert [ref_alaw_decode(c) for c in range(256)] == list(ALAW_DECODE_REF)


@pytest.mark.parametrize(
    ("decode", "table"),
    [(ulaw_decode, ULAW_DECODE_REF), (alaw_decode, ALAW_DECODE_REF)],
    ids=["ulaw", "alaw"],
)
def test_decode_full_table(decode: Callable[[bytes], np.ndarray], table: tuple[int, ...]) -> None:
    """Every one of the 256 codes decodes to the reference int16 value."""
    out = decode(ALL_CODES)
    assert out.dtype == np.int16
    assert out.tolist() == list(table)


@pytest.mark.parametrize(
    ("code", "expected"),
    [(0xFF, 0), (0x7F, 0), (0x00, -32124), (0x80, 32124), (0xFE, 8), (0x7E, -8), (0x8F, 16764)],
)
def test_ulaw_decode_vectors(code: int, expected: int) -> None:
    """Known u-law codes decode to their reference values."""
    assert ulaw_decode(bytes([code])).tolist() == [expected]


@pytest.mark.parametrize(
    ("code", "expected"),
    [(0xD5, 8), (0x55, -8), (0x2A, -32256), (0xAA, 32256), (0xD4, 24), (0x80, 5504)],
)
def test_alaw_decode_vectors(code: int, expected: int) -> None:
    """Known A-law codes decode to their reference values."""
    assert alaw_decode(bytes([code])).tolist() == [expected]


# (linear sample, u-law code, A-law code), generated once with CPython 3.11 audioop.
ENCODE_VECTORS = [
    (0, 0xFF, 0xD5),
    (3, 0xFF, 0xD5),
    (4, 0xFE, 0xD5),
    (-1, 0x7E, 0x55),
    (-6, 0x7E, 0x55),
    (15, 0xFD, 0xD5),
    (16, 0xFD, 0xD4),
    (100, 0xF2, 0xD3),
    (-100, 0x72, 0x53),
    (1000, 0xCE, 0xFA),
    (-1000, 0x4E, 0x7A),
    (8031, 0xA0, 0x8A),
    (12345, 0x97, 0xBD),
    (-12345, 0x17, 0x3D),
    (32124, 0x80, 0xAA),
    (32767, 0x80, 0xAA),
    (-32124, 0x00, 0x2A),
    (-32768, 0x00, 0x2A),
]


@pytest.mark.parametrize(("sample", "ulaw", "alaw"), ENCODE_VECTORS)
def test_encode_vectors(sample: int, ulaw: int, alaw: int) -> None:
    """Known linear samples encode to their reference codes in both laws."""
    pcm = np.array([sample], dtype=np.int16)
    assert ulaw_encode(pcm) == bytes([ulaw])
    assert alaw_encode(pcm) == bytes([alaw])


def test_encode_every_sample_matches_reference_digest() -> None:
    """Encoding all 65536 int16 values is byte-identical to the reference output."""
    assert hashlib.sha256(ulaw_encode(ALL_SAMPLES)).hexdigest() == ULAW_ENCODE_ALL_SHA256
    assert hashlib.sha256(alaw_encode(ALL_SAMPLES)).hexdigest() == ALAW_ENCODE_ALL_SHA256


def test_encode_every_sample_matches_independent_formula() -> None:
    """Encoding all 65536 int16 values agrees with the scalar bit_length formula."""
    samples = range(-32768, 32768)
    assert ulaw_encode(ALL_SAMPLES) == bytes(ref_ulaw_encode(s) for s in samples)
    assert alaw_encode(ALL_SAMPLES) == bytes(ref_alaw_encode(s) for s in samples)


def test_matches_audioop_when_available() -> None:
    """Cross-check against the stdlib reference where this Python still ships audioop."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    raw = ALL_SAMPLES.astype("<i2").tobytes()
    assert ulaw_encode(ALL_SAMPLES) == audioop.lin2ulaw(raw, 2)
    assert alaw_encode(ALL_SAMPLES) == audioop.lin2alaw(raw, 2)
    assert ulaw_decode(ALL_CODES).astype("<i2").tobytes() == audioop.ulaw2lin(ALL_CODES, 2)
    assert alaw_decode(ALL_CODES).astype("<i2").tobytes() == audioop.alaw2lin(ALL_CODES, 2)


@pytest.mark.parametrize(
    ("decode", "encode"),
    [(ulaw_decode, ulaw_encode), (alaw_decode, alaw_encode)],
    ids=["ulaw", "alaw"],
)
def test_round_trip_is_stable_for_every_code(
    decode: Callable[[bytes], np.ndarray], encode: Callable[[np.ndarray], bytes]
) -> None:
    """decode(encode(decode(x))) == decode(x) for all 256 codes."""
    once = decode(ALL_CODES)
    assert decode(encode(once)).tolist() == once.tolist()


def test_silence_encodes_to_idle_codes() -> None:
    """A 20 ms frame of digital silence is 0xFF in u-law and 0xD5 in A-law."""
    silence = np.zeros(160, dtype=np.int16)
    assert ulaw_encode(silence) == b"\xff" * 160
    assert alaw_encode(silence) == b"\xd5" * 160
    assert not ulaw_decode(b"\xff" * 160).any()


def test_empty_and_buffer_inputs() -> None:
    """Empty input gives empty output; bytearray and memoryview decode like bytes."""
    assert ulaw_decode(b"").shape == (0,)
    assert ulaw_encode(np.zeros(0, dtype=np.int16)) == b""
    assert alaw_decode(bytearray(b"\xd5\x55")).tolist() == [8, -8]
    assert ulaw_decode(memoryview(b"\x00\x80")).tolist() == [-32124, 32124]


def test_encode_flattens_multidimensional_and_strided_input() -> None:
    """Encoders accept any shape or stride and read samples in C order."""
    pcm = np.array([[0, 100], [-100, 1000]], dtype=np.int16)
    assert ulaw_encode(pcm) == bytes([0xFF, 0xF2, 0x72, 0xCE])
    assert alaw_encode(pcm.T) == bytes([0xD5, 0x53, 0xD3, 0xFA])


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.uint16, np.dtype(">i2")])
def test_encode_rejects_non_int16(dtype: np.dtype) -> None:
    """Anything but native int16 raises TypeError instead of being silently truncated."""
    pcm = np.zeros(4, dtype=dtype)
    with pytest.raises(TypeError, match="int16"):
        ulaw_encode(pcm)
    with pytest.raises(TypeError, match="int16"):
        alaw_encode(pcm)


def test_decoded_array_is_a_fresh_copy() -> None:
    """Writing into a decoded frame never corrupts the shared decode table."""
    out = ulaw_decode(b"\x00")
    out[0] = 1
    assert ulaw_decode(b"\x00").tolist() == [-32124]


def test_encode_tables_are_not_built_at_import() -> None:
    """Importing the module leaves the 64k encode tables unbuilt until first use."""
    root = Path(g711.__file__).resolve().parents[2]
    code = (
        f"import sys; sys.path.insert(0, {str(root)!r});"
        "import voicebot.protocol.g711 as g;"
        "assert g._ulaw_encode_table.cache_info().currsize == 0;"
        "assert g._alaw_encode_table.cache_info().currsize == 0"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
