"""SIP digest authentication (RFC 3261 §22, RFC 8760): MD5 and SHA-256, qop=auth.

Server side: stateless nonces (a timestamp signed with a per-process key) and `verify`;
client side: `authorization` answers a 401/407 challenge (used by REGISTER).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

ALGORITHMS = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
NONCE_MAX_AGE_S = 300
_PARAM_RE = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)\s*,?')


def parse_digest(value: str) -> dict[str, str]:
    """The parameters of a `Digest k=v, ...` header value (keys lower-cased); {} if not Digest."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        return {}
    out: dict[str, str] = {}
    for m in _PARAM_RE.finditer(rest):
        raw = m.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        out[m.group(1).lower()] = raw
    return out


def _h(algorithm: str, text: str) -> str:
    return ALGORITHMS[algorithm](text.encode("utf-8")).hexdigest()


def digest_response(
    *,
    algorithm: str,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str = "",
    cnonce: str = "",
) -> str:
    """The `response` value of RFC 2617/8760 for qop=auth or no qop."""
    ha1 = _h(algorithm, f"{username}:{realm}:{password}")
    ha2 = _h(algorithm, f"{method}:{uri}")
    if qop:
        return _h(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _h(algorithm, f"{ha1}:{nonce}:{ha2}")


class DigestVerifier:
    """Challenges and checks requests for one user (the PBX's trunk credentials), with the
    digest algorithms offered, most preferred first; an answer with another one is refused."""

    def __init__(
        self,
        realm: str,
        username: str,
        password: str,
        algorithms: tuple[str, ...] = ("SHA-256", "MD5"),
    ) -> None:
        unknown = [a for a in algorithms if a not in ALGORITHMS]
        if unknown or not algorithms:
            raise ValueError(f"digest algorithms {list(algorithms)}: use SHA-256 and/or MD5")
        self.realm, self.username, self.password = realm, username, password
        self.algorithms = algorithms
        self._key = secrets.token_bytes(32)

    def nonce(self, now: float | None = None) -> str:
        """A fresh nonce: issue time plus its signature."""
        stamp = f"{int(now if now is not None else time.time()):x}"
        sig = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:24]
        return f"{stamp}.{sig}"

    def _nonce_ok(self, nonce: str, now: float) -> bool:
        stamp, _, sig = nonce.partition(".")
        good = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:24]
        if not hmac.compare_digest(sig, good):
            return False
        try:
            return 0 <= now - int(stamp, 16) <= NONCE_MAX_AGE_S
        except ValueError:
            return False

    def challenges(self, now: float | None = None) -> list[str]:
        """WWW-Authenticate values, one per algorithm in order of preference (RFC 8760 §2.4)."""
        nonce = self.nonce(now)
        return [
            f'Digest realm="{self.realm}", nonce="{nonce}", algorithm={alg}, qop="auth"'
            for alg in self.algorithms
        ]

    def verify(self, authorization: str | None, method: str, now: float | None = None) -> bool:
        """Tell whether an Authorization header carries valid credentials for `method`."""
        if not authorization:
            return False
        p = parse_digest(authorization)
        algorithm = p.get("algorithm", "MD5").upper()
        needed = ("username", "realm", "nonce", "uri", "response")
        if algorithm not in self.algorithms or any(k not in p for k in needed):
            return False
        if p["username"] != self.username or p["realm"] != self.realm:
            return False
        if not self._nonce_ok(p["nonce"], now if now is not None else time.time()):
            return False
        expected = digest_response(
            algorithm=algorithm, username=self.username, realm=self.realm,
            password=self.password, method=method, uri=p["uri"], nonce=p["nonce"],
            qop=p.get("qop"), nc=p.get("nc", ""), cnonce=p.get("cnonce", ""),
        )  # fmt: skip
        return hmac.compare_digest(expected, p["response"].lower())


def authorization(
    challenge: str, *, method: str, uri: str, username: str, password: str, nc: int = 1
) -> str:
    """An Authorization value answering one WWW-/Proxy-Authenticate challenge."""
    p = parse_digest(challenge)
    algorithm = p.get("algorithm", "MD5").upper()
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported digest algorithm {algorithm}")
    qops = [q.strip() for q in p.get("qop", "").split(",") if q.strip()]
    qop = "auth" if "auth" in qops else None
    cnonce = secrets.token_hex(8)
    nc_text = f"{nc:08x}"
    response = digest_response(
        algorithm=algorithm, username=username, realm=p.get("realm", ""), password=password,
        method=method, uri=uri, nonce=p.get("nonce", ""), qop=qop, nc=nc_text, cnonce=cnonce,
    )  # fmt: skip
    parts = [
        f'username="{username}"', f'realm="{p.get("realm", "")}"', f'nonce="{p.get("nonce", "")}"',
        f'uri="{uri}"', f'response="{response}"', f"algorithm={algorithm}",
    ]  # fmt: skip
    if qop:
        parts += [f"qop={qop}", f"nc={nc_text}", f'cnonce="{cnonce}"']
    if "opaque" in p:
        parts.append(f'opaque="{p["opaque"]}"')
    return "Digest " + ", ".join(parts)
