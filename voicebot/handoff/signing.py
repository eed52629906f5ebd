"""HMAC-SHA256 signatures for outgoing webhooks (CRM and transfer hook).

The receiver recomputes `sha256=HEX(HMAC(secret, "<timestamp>.<body>"))` from the raw body and
the `X-Voicebot-Timestamp` header, compares in constant time and rejects old timestamps, so a
captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Voicebot-Signature"
TIMESTAMP_HEADER = "X-Voicebot-Timestamp"
DELIVERY_HEADER = "X-Voicebot-Delivery"  # stable per outbox entry: lets the receiver dedupe
EVENT_HEADER = "X-Voicebot-Event"
TOLERANCE_S = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp` (Unix seconds)."""
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str | None, body: bytes, now: float | None = None) -> dict[str, str]:
    """Content type, timestamp and (with a secret) signature headers for one request."""
    timestamp = int(time.time() if now is None else now)
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: str(timestamp)}
    if secret:
        headers[SIGNATURE_HEADER] = sign(secret, timestamp, body)
    return headers


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance_s: int = TOLERANCE_S,
) -> bool:
    """Whether a received request is authentic and recent (for receivers and tests)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)
