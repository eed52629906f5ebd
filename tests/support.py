"""Helpers shared by the test modules: paths, free ports, the stack handle, audio checks."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from aiohttp import web

from voicebot.caller import CallResult

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "audio_fixtures"
SHARED = ROOT.parent / "shared"
ARTIFACTS = ROOT / "test-artifacts"
# Agent console logins of the test stack (name -> password); hashed into its settings.
AGENTS = {"anna": "anna-passwort-1", "ben": "ben-passwort-2"}
# The trainer of the test stack (the workbench and the test phone need the role).
TRAINERS = {"tina": "tina-passwort-3"}
HOOK_SECRET = "test-hook-secret"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    """A running hotline: URLs, the API token and where its data lives."""

    media_url: str
    http_url: str
    token: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    hooks: HookReceiver | None = None  # records the transfer hook and CRM webhook POSTs


def stack_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a private stack on free ports."""
    env = dict(os.environ)
    env.update(
        {
            "VOICEBOT_DATA_DIR": str(data_dir),
            "VOICEBOT_PORT": str(free_port()),
            "VOICEBOT_RASA_URL": f"http://127.0.0.1:{free_port()}",
            "VOICEBOT_RASA_ACTIONS_URL": f"http://127.0.0.1:{free_port()}",
            "VOICEBOT_API_TOKEN": "test-token-" + os.urandom(16).hex(),
            # the media stream's token; also in this process, where `place_call` reads it
            "VOICEBOT_MEDIA_TOKEN": os.environ.setdefault(
                "VOICEBOT_MEDIA_TOKEN", "test-media-" + os.urandom(16).hex()
            ),
            # the stack's Rasa token, so that a second gateway can use the same Rasa
            "VOICEBOT_RASA_TOKEN": "test-rasa-token-" + os.urandom(16).hex(),
            "VOICEBOT_MODELS_CACHE_DIR": str(ROOT / "var" / "models"),
            "VOICEBOT_LOG_LEVEL": "INFO",
            # handoffs always transfer in tests (the callback path has its own tests)
            "VOICEBOT_HANDOFF_SERVICE_HOURS": "Mo-So 00:00-24:00",
            "VOICEBOT_SIP_PORT": str(free_port()),
            "VOICEBOT_SIP_RING_MS": "300",  # lets the CANCEL test cancel before the answer
            # sipp's scenarios send RTP only now and then (a DTMF pcap), where a phone streams
            # all the time: a long handoff announcement must not end their calls as abandoned
            "VOICEBOT_SIP_RTP_TIMEOUT_S": "120",
        }
    )
    env.update(extra)
    return env


def voiced_seconds(pcm: np.ndarray, rate: int = 8000) -> float:
    """Seconds of 20 ms frames whose level is clearly above line silence."""
    frame = rate // 50
    n = len(pcm) // frame
    if n == 0:
        return 0.0
    frames = pcm[: n * frame].astype(np.float64).reshape(n, frame)
    rms = np.sqrt((frames**2).mean(axis=1))
    return float((rms > 300).sum() * 0.02)


def clip(manifest: list[dict[str, Any]], intent: str, name: str | None = None) -> dict[str, Any]:
    """A fixture of the given intent (the named file if given)."""
    for entry in manifest:
        if entry["expected_intent"] == intent and (name is None or entry["file"] == name):
            return entry
    raise LookupError(f"no fixture for {intent} {name or ''}")


def turns(result: CallResult, speaker: str) -> list[dict[str, Any]]:
    """The record's turns of one speaker."""
    assert result.record is not None, "the call record was not readable through the API"
    return [t for t in result.record["turns"] if t["speaker"] == speaker]


@dataclass
class Postgres:
    """A private PostgreSQL cluster started for the test session."""

    port: int
    directory: Path
    bin_dir: Path
    user: str
    run_as: list[str]  # prefix that runs a command as the cluster's owner

    def url(self, database: str = "postgres") -> str:
        """A connection URL for one database of the cluster."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stops the server (fast shutdown) and removes its files."""
        subprocess.run(
            [*self.run_as, str(self.bin_dir / "pg_ctl"), "-D", str(self.directory / "data")]
            + ["-m", "fast", "-w", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def start_postgres() -> Postgres:
    """initdb + pg_ctl start of Debian's PostgreSQL on a free port in a temporary directory.

    Raises RuntimeError saying why it cannot start (no package, no `postgres` user as root...).
    """
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if not candidates:
        raise RuntimeError(
            "PostgreSQL is not installed (Debian package `postgresql`; scripts/bootstrap.sh "
            "installs it when run as root)"
        )
    bin_dir = candidates[0].parent
    run_as: list[str] = []
    directory = Path(tempfile.mkdtemp(prefix="voicebot-pg-"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use its own system user
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise RuntimeError("running as root and there is no `postgres` user") from exc
        os.chown(directory, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    user = "voicebot"
    steps = [
        [str(bin_dir / "initdb"), "-D", str(directory / "data"), "-U", user, "--auth=trust"]
        + ["-E", "UTF8", "--locale=C.UTF-8"],
        [str(bin_dir / "pg_ctl"), "-D", str(directory / "data"), "-l", str(directory / "log")]
        + ["-w", "-t", "60", "start", "-o"]
        + [f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"],
    ]
    for argv in steps:
        done = subprocess.run([*run_as, *argv], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = directory / "log"
            detail = done.stderr.strip() or done.stdout.strip()
            if log.exists():
                detail += "\n" + log.read_text(errors="replace")[-1500:]
            shutil.rmtree(directory, ignore_errors=True)
            raise RuntimeError(f"`{Path(argv[0]).name}` failed: {detail}")
    return Postgres(port, directory, bin_dir, user, run_as)


@dataclass
class Received:
    """One request a HookReceiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


class HookReceiver:
    """A local HTTP server in its own thread that records POSTs (transfer hook, CRM webhook).

    `fail_next[path] = n` makes the next n requests to that path answer 503 (a CRM that is down).
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[Received] = []
        self.fail_next: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        """The URL of a path on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(Received(request.path, dict(request.headers), await request.read()))
        if self.fail_next.get(request.path, 0) > 0:
            self.fail_next[request.path] -= 1
            return web.Response(status=503, text="down")
        return web.json_response({"ok": True})

    def start(self) -> HookReceiver:
        """Starts serving; returns self."""
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_post("/{tail:.*}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", self.port)
            loop.run_until_complete(site.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="hook-receiver", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the hook receiver did not start")
        return self

    def stop(self) -> None:
        """Stops the server thread."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def received(self, path: str) -> list[Received]:
        """The requests to one path so far."""
        return [r for r in list(self.requests) if r.path == path]

    def wait_for(
        self, path: str, predicate: Callable[[Received], bool], timeout: float = 20.0
    ) -> Received:
        """Waits for a request to `path` that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for request in self.received(path):
                if predicate(request):
                    return request
            time.sleep(0.1)
        raise AssertionError(f"no matching request to {path} within {timeout} s")


@contextmanager
def running_gateway(data_dir: Path, env: dict[str, str], timeout: float = 180) -> Iterator[str]:
    """A lone `voicebot serve` with `env`, yielded (as its base URL) once its models are loaded.

    Rasa may be down on purpose, so readiness is the models' state, not a 200 from /health.
    """
    log_path = data_dir / "gateway.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voicebot", "serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{env['VOICEBOT_PORT']}"
    try:
        deadline = time.monotonic() + timeout
        while not _models_ready(base):
            assert proc.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, f"the gateway never loaded its models: {log_path}"
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _models_ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=3) as resp:
            body = json.loads(resp.read())
    except urllib.error.HTTPError as exc:  # 503 while Rasa is down
        body = json.loads(exc.read() or b"{}")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False
    return bool(body.get("components", {}).get("models", {}).get("state") == "ready")
