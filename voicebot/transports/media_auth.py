"""Who may open a media stream on /media/twilio, and the loopback rule for `media_auth = "none"`.

A stream is let in when one of these holds (`[media]` settings):
- the upgrade request's `X-Twilio-Signature` is Twilio's HMAC-SHA1 (base64) of the URL Twilio
  dialled, keyed with `twilio_auth_token` (a GET upgrade has no POST parameters to append);
- the upgrade request carries `Authorization: Bearer <media token>`;
- its `start` message carries `customParameters.token` equal to the media token (checked by the
  transport before anything else is done with the start).
Every comparison is constant-time over bytes (`voicebot.tokens.same_secret`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
from collections.abc import Mapping

from aiohttp import web

from voicebot.config import Settings
from voicebot.errors import ConfigError
from voicebot.tokens import same_secret

START_TOKEN_PARAMETER = "token"


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str] | None = None) -> str:
    """Twilio's request signature: base64 HMAC-SHA1 of the URL and the sorted POST params."""
    data = url + "".join(k + v for k, v in sorted((params or {}).items()))
    mac = hmac.new(auth_token.encode(), data.encode("utf-8", "surrogatepass"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def _signed_urls(request: web.Request, public_url: str | None) -> list[str]:
    """The URLs Twilio may have signed: the configured public one, else this request's own
    (as wss:// and ws://, since TLS usually ends at a proxy in front of the gateway)."""
    if public_url:
        query = request.rel_url.query_string
        return [public_url + ("?" + query if query and "?" not in public_url else "")]
    rest = f"{request.host}{request.rel_url}"
    return [f"wss://{rest}", f"ws://{rest}"]


def upgrade_authorised(request: web.Request, settings: Settings) -> bool:
    """Whether the upgrade request itself authenticates the stream (signature or bearer)."""
    media = settings.media
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and same_secret(header[7:].strip(), media.token):
        return True
    signature = request.headers.get("X-Twilio-Signature")
    if signature and media.twilio_auth_token:
        token = media.twilio_auth_token
        urls = _signed_urls(request, media.public_url)
        return any(same_secret(signature, twilio_signature(token, url)) for url in urls)
    return False


def start_authorised(params: Mapping[str, str], settings: Settings) -> bool:
    """Whether a `start` message's customParameters carry the media token."""
    return same_secret(params.get(START_TOKEN_PARAMETER), settings.media.token)


def auth_required(settings: Settings) -> bool:
    """Whether streams must authenticate (anything but an explicit "none")."""
    return settings.media.auth != "none"


def is_loopback(host: str) -> bool:
    """Whether a listen address is loopback only ("localhost", 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_media_auth(settings: Settings) -> None:
    """Refuses to start with media auth off on a non-loopback address, or an unknown mode."""
    mode = settings.media.auth
    if mode not in ("token", "none"):
        raise ConfigError(f'VOICEBOT_MEDIA_AUTH must be "token" or "none", not {mode!r}')
    if mode == "none" and not is_loopback(settings.host):
        raise ConfigError(
            f'VOICEBOT_MEDIA_AUTH="none" is allowed only when the gateway listens on loopback, '
            f"but VOICEBOT_HOST is {settings.host!r}: anyone who reaches /media/twilio could "
            'place calls. Use media_auth = "token" (the default) with VOICEBOT_MEDIA_TOKEN or '
            "VOICEBOT_MEDIA_TWILIO_AUTH_TOKEN, or listen on 127.0.0.1."
        )
