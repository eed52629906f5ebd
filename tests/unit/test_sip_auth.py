"""SIP digest authentication (voicebot.protocol.sip.auth) with the RFCs' own values."""

from __future__ import annotations

import pytest

from voicebot.protocol.sip.auth import (
    DigestVerifier,
    authorization,
    digest_response,
    parse_digest,
)

# RFC 2617 §3.5 (MD5) and RFC 7616 §3.9.1 (MD5 and SHA-256), qop=auth, method GET
RFC_VECTORS = [
    (
        "MD5", "Mufasa", "testrealm@host.com", "Circle Of Life",
        "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        "0a4f113b", "6629fae49393a05397450978507c4ef1",
    ),
    (
        "MD5", "Mufasa", "http-auth@example.org", "Circle of Life",
        "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "8ca523f5e9506fed4657c9700eebdbec",
    ),
    (
        "SHA-256", "Mufasa", "http-auth@example.org", "Circle of Life",
        "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("algorithm", "username", "realm", "password", "nonce", "cnonce", "expected"), RFC_VECTORS
)
def test_digest_response_matches_the_rfc_examples(
    algorithm: str, username: str, realm: str, password: str, nonce: str, cnonce: str,
    expected: str,
) -> None:  # fmt: skip
    assert (
        digest_response(
            algorithm=algorithm,
            username=username,
            realm=realm,
            password=password,
            method="GET",
            uri="/dir/index.html",
            nonce=nonce,
            qop="auth",
            nc="00000001",
            cnonce=cnonce,
        )  # fmt: skip
        == expected
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('Digest realm="a\\"b", nonce=x', {"realm": 'a"b', "nonce": "x"}),
        (
            'Digest realm="pbx", nonce="n1", algorithm=SHA-256, qop="auth"',
            {"realm": "pbx", "nonce": "n1", "algorithm": "SHA-256", "qop": "auth"},
        ),
        ('digest Username="u"', {"username": "u"}),
        ('Basic realm="x"', {}),
        ("", {}),
    ],
)
def test_parse_digest(value: str, expected: dict[str, str]) -> None:
    assert parse_digest(value) == expected


def test_authorization_answers_a_challenge_with_its_parameters() -> None:
    challenge = 'Digest realm="pbx", nonce="abc", algorithm=MD5, qop="auth", opaque="o1"'
    value = authorization(
        challenge, method="REGISTER", uri="sip:pbx", username="bot", password="pw"
    )
    p = parse_digest(value)
    assert (p["username"], p["realm"], p["nonce"], p["uri"]) == ("bot", "pbx", "abc", "sip:pbx")
    assert (p["algorithm"], p["qop"], p["nc"], p["opaque"]) == ("MD5", "auth", "00000001", "o1")
    assert p["response"] == digest_response(
        algorithm="MD5", username="bot", realm="pbx", password="pw", method="REGISTER",
        uri="sip:pbx", nonce="abc", qop="auth", nc="00000001", cnonce=p["cnonce"],
    )  # fmt: skip


def test_authorization_without_qop_and_an_unknown_algorithm() -> None:
    p = parse_digest(
        authorization('Digest realm="r", nonce="n"', method="INVITE", uri="sip:x", username="u",
                      password="pw")
    )  # fmt: skip
    assert "qop" not in p and p["algorithm"] == "MD5"
    assert p["response"] == digest_response(
        algorithm="MD5", username="u", realm="r", password="pw", method="INVITE", uri="sip:x",
        nonce="n",
    )  # fmt: skip
    with pytest.raises(ValueError, match="SHA-512"):
        authorization('Digest realm="r", nonce="n", algorithm=SHA-512', method="INVITE",
                      uri="sip:x", username="u", password="pw")  # fmt: skip


def test_digest_verifier_md5_and_sha256() -> None:
    verifier = DigestVerifier("voicebot", "pbx", "secret")
    for challenge in verifier.challenges():
        header = authorization(
            challenge, method="INVITE", uri="sip:bot@x", username="pbx", password="secret"
        )
        assert verifier.verify(header, "INVITE")
        assert not verifier.verify(header, "BYE")  # bound to the method
        wrong = authorization(
            challenge, method="INVITE", uri="sip:bot@x", username="pbx", password="guess"
        )
        assert not verifier.verify(wrong, "INVITE")
    old = verifier.challenges(now=0)[0]
    stale = authorization(old, method="INVITE", uri="sip:bot@x", username="pbx", password="secret")
    assert not verifier.verify(stale, "INVITE")


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (None, False),
        ("", False),
        ("Basic dXNlcjpwdw==", False),
        ('Digest username="pbx", realm="voicebot"', False),  # parameters missing
    ],
)
def test_digest_verifier_refuses_incomplete_credentials(header: str | None, ok: bool) -> None:
    assert DigestVerifier("voicebot", "pbx", "secret").verify(header, "INVITE") is ok


def test_nonces_are_signed_and_expire() -> None:
    verifier = DigestVerifier("voicebot", "pbx", "secret")
    nonce = verifier.nonce(now=1000)
    challenge = f'Digest realm="voicebot", nonce="{nonce}", algorithm=MD5, qop="auth"'
    answer = authorization(
        challenge, method="INVITE", uri="sip:b", username="pbx", password="secret"
    )
    assert verifier.verify(answer, "INVITE", now=1000 + 299)
    assert not verifier.verify(answer, "INVITE", now=1000 + 301)  # older than 5 minutes
    forged = answer.replace(nonce, nonce.split(".")[0] + ".000000000000000000000000")
    assert not verifier.verify(forged, "INVITE", now=1000)


def test_unknown_algorithms_are_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="SHA-256 and/or MD5"):
        DigestVerifier("voicebot", "pbx", "secret", ("SHA-512",))
