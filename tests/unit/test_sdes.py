"""SDES (RFC 4568) a=crypto parsing and the SRTP answer policy, as byte tables."""

from __future__ import annotations

import base64

import pytest

from voicebot.errors import ProtocolError
from voicebot.protocol.sdes import (
    Crypto,
    SdesError,
    SrtpKeys,
    offered_cryptos,
    parse_crypto,
    secure_answer,
)
from voicebot.protocol.sdp import RTP_PROTOS, SessionDescription, answer_offer, parse_sdp

KEY = bytes(range(30))
KEY_B64 = base64.b64encode(KEY).decode()  # AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd
OTHER_B64 = base64.b64encode(bytes(range(100, 130))).decode()

GOOD = [
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64}", 1, "AES_CM_128_HMAC_SHA1_80", ()),
    (f"2 AES_CM_128_HMAC_SHA1_32 inline:{KEY_B64}", 2, "AES_CM_128_HMAC_SHA1_32", ()),
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64}|2^20", 1, "AES_CM_128_HMAC_SHA1_80", ()),
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64}|1048576", 1, "AES_CM_128_HMAC_SHA1_80", ()),
    (f"7 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64} WSH=64", 7, "AES_CM_128_HMAC_SHA1_80",
     ("WSH=64",)),
]  # fmt: skip

BAD = [
    ("", "malformed"),
    ("1", "malformed"),
    ("x AES_CM_128_HMAC_SHA1_80 inline:" + KEY_B64, "malformed"),
    ("1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + KEY_B64, "malformed"),  # tag > 9 digits
    ("1 AES_CM_128_HMAC_SHA1_80", "malformed"),  # no key
    ("1 F8_128_HMAC_SHA1_80 inline:" + KEY_B64, "not supported"),
    ("1 AEAD_AES_256_GCM inline:" + KEY_B64, "not supported"),
    ("1 AES_CM_128_HMAC_SHA1_80 uri:http://x/key", "inline"),
    ("1 AES_CM_128_HMAC_SHA1_80 inline:", "inline"),
    ("1 AES_CM_128_HMAC_SHA1_80 inline:not*base64!", "base64"),
    ("1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.b64encode(bytes(16)).decode(), "30 bytes"),
    ("1 AES_CM_128_HMAC_SHA1_80 inline:" + base64.b64encode(bytes(46)).decode(), "30 bytes"),
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64}|2^20|1:4", "MKI"),  # MKI
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64}|1:4", "MKI"),
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64}|2^x", "lifetime"),
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64};inline:{KEY_B64}", "several master keys"),
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64} UNENCRYPTED_SRTP", "session parameter"),
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64} KDR=10", "session parameter"),
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64} " + "WSH=1 " * 60, "too long"),
    (f"1  AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64}", "malformed"),  # two spaces
    (f"1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64}\x00", "base64"),
]


@pytest.mark.parametrize(("value", "tag", "suite", "params"), GOOD)
def test_usable_crypto_attributes_parse(
    value: str, tag: int, suite: str, params: tuple[str, ...]
) -> None:
    crypto = parse_crypto(value)
    assert (crypto.tag, crypto.suite, crypto.key, crypto.params) == (tag, suite, KEY, params)


@pytest.mark.parametrize(("value", "why"), BAD)
def test_unusable_crypto_attributes_say_why(value: str, why: str) -> None:
    with pytest.raises(SdesError, match=why):
        parse_crypto(value)


def test_a_crypto_value_round_trips_and_keys_stay_out_of_repr() -> None:
    crypto = Crypto(3, "AES_CM_128_HMAC_SHA1_80", KEY, ("WSH=64",))
    assert crypto.value() == f"3 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B64} WSH=64"
    assert parse_crypto(crypto.value()) == crypto
    keys = SrtpKeys("AES_CM_128_HMAC_SHA1_80", KEY, KEY)
    for text in (repr(crypto), repr(keys), str(keys)):
        assert KEY_B64 not in text and repr(KEY) not in text


def _offer(proto: str, *cryptos: str) -> bytes:
    lines = [
        "v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0",
        f"m=audio 4000 {proto} 8 0 101", "a=rtpmap:101 telephone-event/8000",
        *(f"a=crypto:{c}" for c in cryptos), "a=sendrecv",
    ]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n").encode()


def test_malformed_attributes_are_skipped_and_the_usable_ones_kept_in_order() -> None:
    offer = parse_sdp(
        _offer(
            "RTP/SAVP",
            "1 AES_CM_128_HMAC_SHA1_32 inline:" + KEY_B64,
            "2 AES_CM_128_HMAC_SHA1_80 inline:short",
            "3 F8_128_HMAC_SHA1_80 inline:" + KEY_B64,
            "4 AES_CM_128_HMAC_SHA1_80 inline:" + OTHER_B64,
        )
    )
    assert [(c.tag, c.suite) for c in offered_cryptos(offer.media[0])] == [
        (1, "AES_CM_128_HMAC_SHA1_32"),
        (4, "AES_CM_128_HMAC_SHA1_80"),
    ]


def _answer(
    offer_bytes: bytes, mode: str, tls: bool, previous: SrtpKeys | None = None
) -> tuple[SessionDescription, SrtpKeys | None]:
    offer = parse_sdp(offer_bytes)
    plain, _ = answer_offer(
        offer, local_address="127.0.0.1", local_port=20000, session_id=1, session_version=1,
        protos=(*RTP_PROTOS, "RTP/SAVP", "RTP/SAVPF"),
    )  # fmt: skip
    return secure_answer(offer, plain, mode=mode, secure_signalling=tls, previous=previous)


def test_over_tls_an_offer_with_keys_gets_srtp_with_its_tag_and_the_stronger_suite() -> None:
    offer = _offer(
        "RTP/SAVP",
        "1 AES_CM_128_HMAC_SHA1_32 inline:" + KEY_B64,
        "2 AES_CM_128_HMAC_SHA1_80 inline:" + OTHER_B64,
    )
    answer, keys = _answer(offer, "optional", tls=True)
    assert keys is not None and keys.suite == "AES_CM_128_HMAC_SHA1_80"
    assert keys.remote == bytes(range(100, 130)) and len(keys.local) == 30
    text = answer.to_bytes().decode()
    assert "m=audio 20000 RTP/SAVP 8 101\r\n" in text
    ours = parse_crypto(answer.media[0].attribute("crypto") or "")
    assert (ours.tag, ours.suite, ours.key) == (2, "AES_CM_128_HMAC_SHA1_80", keys.local)
    assert text.count("a=crypto:") == 1


def test_best_effort_srtp_on_rtp_avp_keeps_the_profile() -> None:
    answer, keys = _answer(_offer("RTP/AVP", "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY_B64),
                           "optional", tls=True)  # fmt: skip
    assert keys is not None and answer.media[0].proto == "RTP/AVP"
    assert answer.media[0].attribute("crypto") is not None


@pytest.mark.parametrize(
    ("proto", "cryptos", "mode", "tls", "result"),
    [
        ("RTP/AVP", (), "optional", True, "plain"),
        ("RTP/AVP", ("1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY_B64,), "optional", False, "plain"),
        ("RTP/AVP", ("1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY_B64,), "off", True, "plain"),
        ("RTP/AVP", (), "required", True, "488"),
        ("RTP/AVP", ("1 AES_CM_128_HMAC_SHA1_80 inline:short",), "required", True, "488"),
        ("RTP/AVP", ("1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY_B64,), "required", False, "488"),
        ("RTP/SAVP", ("1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY_B64,), "optional", False, "488"),
        ("RTP/SAVP", ("1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY_B64,), "off", True, "488"),
        ("RTP/SAVP", ("1 F8_128_HMAC_SHA1_80 inline:" + KEY_B64,), "optional", True, "488"),
        ("RTP/SAVP", ("1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY_B64,), "required", True, "srtp"),
    ],
)
def test_the_srtp_policy(
    proto: str, cryptos: tuple[str, ...], mode: str, tls: bool, result: str
) -> None:
    if result == "488":
        with pytest.raises(ProtocolError) as info:
            _answer(_offer(proto, *cryptos), mode, tls)
        assert info.value.status == 488
        return
    answer, keys = _answer(_offer(proto, *cryptos), mode, tls)
    assert (keys is not None) == (result == "srtp")
    assert (answer.media[0].attribute("crypto") is not None) == (result == "srtp")


def test_a_reoffer_with_the_same_key_keeps_ours_and_a_new_key_gets_a_new_one() -> None:
    offer = _offer("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:" + KEY_B64)
    _, first = _answer(offer, "required", tls=True)
    _, again = _answer(offer, "required", tls=True, previous=first)
    assert first is not None and again == first
    rekeyed = _offer("RTP/SAVP", "1 AES_CM_128_HMAC_SHA1_80 inline:" + OTHER_B64)
    _, changed = _answer(rekeyed, "required", tls=True, previous=first)
    assert changed is not None and changed.local != first.local


def test_a_bad_mode_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="srtp mode"):
        _answer(_offer("RTP/AVP"), "maybe", tls=True)
