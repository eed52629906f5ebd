"""Agent console authentication: scrypt password hashes, cookie sessions, CSRF tokens.

- Console users and their password hashes come from the configuration, one table per role
  (`[console] agents`, `supervisors`, `trainers`); a hash is made with
  `voicebot agents hash-password` (scrypt, stdlib) and verified in a thread. Every user sees
  the queue and the requests; analytics and the forecast need the supervisor role
  (`require_role`), else 403.
- A login creates a random session token; the browser keeps it in an HttpOnly, SameSite=Strict
  cookie, the database keeps only its SHA-256 with an expiry.
- Every POST under /agent must carry the session's CSRF token (form field `csrf_token` or
  header `X-CSRF-Token`), else 403. The login form uses a double-submit cookie instead.
- /agent/* without a valid session: pages redirect to the login, everything else gets 401.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import TypeVar

from aiohttp import web

from voicebot.config import ConsoleSettings, Settings
from voicebot.store.sessions import AgentSession
from voicebot.web.keys import GATEWAY

SESSION_COOKIE = "voicebot_agent"
LOGIN_CSRF_COOKIE = "voicebot_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
PUBLIC_PATHS = ("/agent/login", "/agent/static/")
WEBSOCKETS = ("/agent/ws", "/agent/phone/ws")  # without a session: 401, not the login page
MAX_FAILURES, FAILURE_WINDOW_S = 5, 600.0
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
SESSION = web.RequestKey("agent_session", AgentSession)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
R = TypeVar("R", bound=web.StreamResponse)


# ---- passwords -----------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt:N:r:p:salt:hash`, for `[console] agents` (no `$`, so it survives shells)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}:{_b64(salt)}:{_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a stored hash; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt, digest = stored.split(":")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=128 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH = "scrypt:16384:8:1:AAAAAAAAAAAAAAAAAAAAAA:" + "A" * 43


MAX_NAME_CHARS = 64  # longer login names are refused before any work
MAX_PASSWORD_CHARS = 1024  # scrypt's cost grows with the password's length
MAX_TRACKED = 10_000  # (name, address) pairs the throttle remembers; the oldest go first
SCRYPT_WORKERS = 2
_scrypt_pool: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """scrypt's own small pool: logins never hold up TTS or ASR in the default executor."""
    global _scrypt_pool
    if _scrypt_pool is None:
        _scrypt_pool = ThreadPoolExecutor(SCRYPT_WORKERS, thread_name_prefix="scrypt")
    return _scrypt_pool


async def check_login(agents: dict[str, str], name: str, password: str) -> bool:
    """Verifies a login off the event loop; unknown names cost as much time as known ones."""
    if len(name) > MAX_NAME_CHARS or len(password) > MAX_PASSWORD_CHARS:
        return False
    stored = agents.get(name)
    loop = asyncio.get_running_loop()
    ok = await loop.run_in_executor(_pool(), verify_password, password, stored or _DUMMY_HASH)
    return ok and stored is not None


class LoginThrottle:
    """At most MAX_FAILURES wrong passwords per name and address within FAILURE_WINDOW_S.

    Bounded: expired entries are pruned as failures come in, and past MAX_TRACKED pairs the
    oldest are forgotten, so a flood of invented names cannot grow it without limit."""

    def __init__(self, max_tracked: int = MAX_TRACKED) -> None:
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._max = max_tracked

    @staticmethod
    def _key(name: str, remote: str) -> tuple[str, str]:
        return name[:MAX_NAME_CHARS], remote

    def _recent(self, key: tuple[str, str]) -> int:
        failures = self._failures.get(key)
        if failures is None:
            return 0
        while failures and failures[0] < time.monotonic() - FAILURE_WINDOW_S:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return len(failures)

    def _prune(self) -> None:
        """Drops expired pairs, then the oldest ones while over the bound."""
        cutoff = time.monotonic() - FAILURE_WINDOW_S
        for key in [k for k, v in self._failures.items() if not v or v[-1] < cutoff]:
            del self._failures[key]
        while len(self._failures) >= self._max:
            del self._failures[next(iter(self._failures))]

    def __len__(self) -> int:
        return len(self._failures)

    def blocked(self, name: str, remote: str) -> bool:
        """Whether this name from this address must wait."""
        return self._recent(self._key(name, remote)) >= MAX_FAILURES

    def failed(self, name: str, remote: str) -> None:
        """Counts one wrong password."""
        key = self._key(name, remote)
        if self._recent(key) == 0:
            if len(self._failures) >= self._max:
                self._prune()
            self._failures[key] = deque()
        self._failures[key].append(time.monotonic())

    def succeeded(self, name: str, remote: str) -> None:
        """Forgets the failures after a good login."""
        self._failures.pop(self._key(name, remote), None)


def cookie_secure(settings: Settings) -> bool:
    """The Secure flag of console cookies: on unless "auto" and the console is plain-HTTP
    loopback (make run, the tests), where a browser would not send a Secure cookie back."""
    mode = settings.console.secure_cookie.strip().lower()
    if mode in {"1", "true", "yes", "on"}:
        return True
    if mode in {"0", "false", "no", "off"}:
        return False
    return settings.host not in LOOPBACK_HOSTS


# ---- roles --------------------------------------------------------------------------------
ROLES = ("agent", "supervisor", "trainer")
ROLE_LABELS = {"agent": "Agent", "supervisor": "Leitung", "trainer": "Training"}


def _role_tables(console: ConsoleSettings) -> dict[str, dict[str, str]]:
    return {
        "agent": console.agents,
        "supervisor": console.supervisors,
        "trainer": console.trainers,
    }


def console_users(console: ConsoleSettings) -> dict[str, str]:
    """Every console login -> its password hash; a name in several role tables logs in with
    the hash of its highest role (supervisor, then trainer, then agent)."""
    users = dict(console.agents)
    users.update(console.trainers)
    users.update(console.supervisors)
    return users


def roles_of(console: ConsoleSettings, name: str) -> frozenset[str]:
    """The roles a login has: the role tables that list the name."""
    return frozenset(role for role, table in _role_tables(console).items() if name in table)


def require_role(request: web.Request, role: str) -> AgentSession:
    """The request's session if its user has `role`; otherwise 403 with a German reason."""
    session: AgentSession | None = request.get(SESSION)
    console = request.app[GATEWAY].settings.console
    if session is None or role not in roles_of(console, session.agent):
        raise forbidden(f"Diese Seite ist der Rolle „{ROLE_LABELS[role]}“ vorbehalten.")
    return session


# ---- sessions ------------------------------------------------------------------------------
def token_hash(token: str) -> str:
    """What the database stores for a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(request: web.Request, response: web.StreamResponse, agent: str) -> None:
    """Creates a session for `agent` and sets its cookie on `response`."""
    gateway = request.app[GATEWAY]
    console = gateway.settings.console
    token = secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    expires = now + timedelta(hours=console.session_hours)
    await gateway.sessions.create(token_hash(token), agent, secrets.token_urlsafe(32), now, expires)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(console.session_hours * 3600),
        path="/agent",
        httponly=True,
        samesite="Strict",
        secure=cookie_secure(gateway.settings),
    )


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    """Deletes the session and its cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await request.app[GATEWAY].sessions.delete(token_hash(token))
    response.del_cookie(SESSION_COOKIE, path="/agent")


async def current_session(request: web.Request) -> AgentSession | None:
    """The valid session of this request, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    gateway = request.app[GATEWAY]
    session = await gateway.sessions.get(token_hash(token), datetime.now(timezone.utc))
    if session is None or session.agent not in console_users(gateway.settings.console):
        return None  # expired, logged out, or the agent was removed from the configuration
    return session


def csrf_ok(expected: str, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens."""
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


def forbidden(
    text: str = "CSRF-Token fehlt oder ist falsch. Bitte laden Sie die Seite neu.",
) -> web.HTTPForbidden:
    """A 403 with a German explanation."""
    return web.HTTPForbidden(text=text, content_type="text/plain")


@web.middleware
async def agent_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Guards /agent/*: a valid session, and a CSRF token on every POST."""
    path = request.path
    if not (path == "/agent" or path.startswith("/agent/")) or path.startswith(PUBLIC_PATHS):
        return await handler(request)
    session = await current_session(request)
    if session is None:
        if request.method == "GET" and path not in WEBSOCKETS:
            raise web.HTTPSeeOther("/agent/login")
        raise web.HTTPUnauthorized(text="Nicht angemeldet.", content_type="text/plain")
    if request.method == "POST":
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type == "application/x-www-form-urlencoded":
            given = str((await request.post()).get(CSRF_FIELD) or "")
        if not csrf_ok(session.csrf_token, given):
            raise forbidden()
    request[SESSION] = session
    return await handler(request)


def security_headers(response: R) -> R:
    """No framing, no third-party content, no caching of personal data."""
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response
