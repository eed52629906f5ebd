"""`voicebot stack` (`make run`): starts the action server, the Rasa server and the gateway.

Each child runs in its own process group with its output in <data_dir>/logs/. Ctrl-C or
SIGTERM stops all three (SIGTERM, then SIGKILL after a grace period), so nothing is left
behind. Once the hotline is ready, a child that dies is restarted with a backoff and the tail
of its log is shown; before that, a dead child stops the start. Children get only the
environment they need, listen on loopback unless configured otherwise, and find their secrets
in the environment, never on the command line (see rasa_project/launch.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlparse

import aiohttp

from voicebot.config import Settings
from voicebot.errors import ConfigError
from voicebot.rasa_stores import write_endpoints
from voicebot.rasa_train import model_path, rasa_env, rasa_executable
from voicebot.retention_files import TRACKER_DB, make_private
from voicebot.tokens import with_api_token, with_internal_tokens

GRACE_S = 10.0
READY_TIMEOUT_S = 300.0
BACKOFF_START_S, BACKOFF_MAX_S = 1.0, 30.0  # restart delay of a dead child, doubled
STABLE_S = 60.0  # a child up this long starts again from the shortest delay


@dataclass
class Child:
    """One supervised process."""

    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    log: Path
    proc: asyncio.subprocess.Process | None = None


def _port(url: str) -> int:
    parsed = urlparse(url)
    if parsed.port is None:
        raise ConfigError(f"{url} has no port; give one, e.g. http://127.0.0.1:5005")
    return parsed.port


# what every child may see of the supervisor's environment; nothing else is handed down
BASE_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")
# the gateway reads its settings from VOICEBOT_*; these help it find libraries and models
GATEWAY_ENV: tuple[str, ...] = (
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "LD_LIBRARY_PATH",
    "OMP_NUM_THREADS",
    "HF_HOME",
)
GATEWAY_ENV += ("HF_HUB_OFFLINE", "XDG_CACHE_HOME", "XDG_DATA_HOME", "MALLOC_ARENA_MAX")
# the action server's own settings (rasa_project/actions/settings.py)
ACTIONS_ENV = ("VOICEBOT_TODAY", "VOICEBOT_SPERRMUELL_LEAD_DAYS", "VOICEBOT_CATALOGUE_DIR")
RASA_FIXED: tuple[str, ...] = ("RASA_TELEMETRY_ENABLED", "TF_CPP_MIN_LOG_LEVEL", "PYTHONUNBUFFERED")
RASA_FIXED += ("SQLALCHEMY_SILENCE_UBER_WARNING",)


def _pick(names: tuple[str, ...]) -> dict[str, str]:
    """The named variables of this process's environment that are set."""
    return {name: os.environ[name] for name in names if name in os.environ}


def _rasa_child_env(extra: dict[str, str]) -> dict[str, str]:
    """A Rasa-venv child's environment: the basics, Rasa's fixed switches, `extra`."""
    fixed = {k: v for k, v in rasa_env().items() if k in RASA_FIXED}
    return {**_pick(BASE_ENV), **fixed, **extra}


def _loopback(host: str | None) -> str:
    """Where to reach a service that listens on `host` (all interfaces: loopback)."""
    return "127.0.0.1" if host in (None, "", "0.0.0.0", "::") else str(host)


def build_children(settings: Settings) -> list[Child]:
    """The three processes of the hotline, in start order, each with only the environment it
    needs (an allowlist, not os.environ) and no secret on its command line."""
    settings = with_internal_tokens(with_api_token(settings))
    rasa = settings.rasa
    exe = rasa_executable(rasa).resolve()
    python = str(exe.parent / "python")
    model = model_path(rasa)
    if not model.is_file():
        raise ConfigError(f"no trained Rasa model at {model}; run `voicebot train` (make run does)")
    data_dir = settings.data_dir.resolve()
    logs = data_dir / "logs"
    logs.mkdir(mode=0o700, parents=True, exist_ok=True)
    make_private(data_dir)
    launcher = str((rasa.project_dir / "launch.py").resolve())
    actions_token = rasa.actions_token or ""
    rasa_vars = {
        "VOICEBOT_ACTIONS_URL": rasa.actions_url.rstrip("/") + "/webhook",
        "VOICEBOT_ACTIONS_TOKEN": actions_token,
        "VOICEBOT_RASA_TRACKER_DB": str(data_dir / TRACKER_DB),
        "VOICEBOT_RASA_TOKEN": rasa.token or "",
    }
    # the custom actions store requests through the gateway's API (POST /api/requests) with
    # their own token, which the gateway accepts there and nowhere else
    action_vars = {
        **_pick(ACTIONS_ENV),
        "SANIC_HOST": urlparse(rasa.actions_url).hostname or "127.0.0.1",
        "VOICEBOT_ACTIONS_PORT": str(_port(rasa.actions_url)),
        "VOICEBOT_ACTIONS_TOKEN": actions_token,
        "VOICEBOT_GATEWAY_URL": f"http://{_loopback(settings.host)}:{settings.port}",
        "VOICEBOT_API_TOKEN": actions_token,
    }
    gateway_env = {
        **_pick(BASE_ENV + GATEWAY_ENV),
        **{k: v for k, v in os.environ.items() if k.startswith("VOICEBOT_")},
        "PYTHONUNBUFFERED": "1",
        "VOICEBOT_API_TOKEN": settings.api_token or "",
        "VOICEBOT_RASA_TOKEN": rasa.token or "",
        "VOICEBOT_RASA_ACTIONS_TOKEN": actions_token,
        "VOICEBOT_LOG_FILE": str(logs / "gateway.log"),
    }
    rasa_args = ["--enable-api", "--model", str(model.resolve())]
    rasa_args += ["--interface", urlparse(rasa.url).hostname or "127.0.0.1"]
    rasa_args += ["--port", str(_port(rasa.url))]
    endpoints, store_env = write_endpoints(rasa, data_dir)  # [rasa] tracker/lock store URLs
    rasa_vars.update(store_env)
    rasa_args += ["--endpoints", endpoints, "--credentials", "credentials.yml"]
    return [
        Child(
            "actions",
            [python, launcher, "actions"],
            rasa.project_dir,
            _rasa_child_env(action_vars),
            logs / "actions.log",
        ),
        Child(
            "rasa",
            [python, launcher, "rasa", *rasa_args],
            rasa.project_dir,
            _rasa_child_env(rasa_vars),
            logs / "rasa.log",
        ),
        Child(
            "gateway",
            [sys.executable, "-m", "voicebot", "serve"],
            Path.cwd(),
            gateway_env,
            logs / "gateway.out",  # the gateway logs to gateway.log itself, rotated
        ),
    ]


def rotate(path: Path, max_bytes: int, backups: int) -> None:
    """Renames path -> path.1 -> ... -> path.<backups> once it reaches max_bytes; the oldest
    goes. A child's output file is rotated when the child (re)starts."""
    if not path.is_file() or path.stat().st_size < max_bytes:
        return
    for n in range(backups, 0, -1):
        older = path.with_name(f"{path.name}.{n}")
        newer = path.with_name(f"{path.name}.{n - 1}") if n > 1 else path
        if newer.exists():
            os.replace(newer, older)


def _open_log(path: Path) -> BinaryIO:
    """The child's output file, appended to, readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab")


async def _start(child: Child) -> None:
    log = await asyncio.to_thread(_open_log, child.log)  # handed to the child, closed below
    try:
        child.proc = await asyncio.create_subprocess_exec(
            *child.argv,
            cwd=child.cwd,
            env=child.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # own process group: we can stop it with everything it spawned
        )
    finally:
        log.close()


def _signal_group(child: Child, sig: int) -> None:
    if child.proc is None or child.proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.proc.pid, sig)


async def stop_all(children: list[Child], drain_s: float = 0.0) -> None:
    """SIGTERM to the gateway first, which drains its calls (Rasa still answers them) for up
    to `drain_s` (plus the grace); then SIGTERM to every process group, SIGKILL to whatever
    is left."""
    gateway = [c for c in children if c.name == "gateway" and c.proc is not None]
    for child in gateway:
        _signal_group(child, signal.SIGTERM)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(child.proc.wait(), drain_s + GRACE_S)  # type: ignore[union-attr]
    for child in reversed(children):
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    for child in children:
        if child.proc is None:
            continue
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(child.proc.wait(), max(0.1, deadline - time.monotonic()))
        _signal_group(child, signal.SIGKILL)
        if child.proc.returncode is None:
            await child.proc.wait()
    for child in children:  # the group may outlive its leader
        if child.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.proc.pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


async def _wait_ready(settings: Settings, children: list[Child], stop: asyncio.Event) -> bool:
    """Polls the gateway's /health until 200, showing progress; False if stopped or dead."""
    url = f"http://{settings.host}:{settings.port}/health"
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        while time.monotonic() - started < READY_TIMEOUT_S:
            if stop.is_set() or any(c.proc and c.proc.returncode is not None for c in children):
                return False
            state = "starting"
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with http.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    if resp.status == 200:
                        return True
                    body = await resp.json(content_type=None)
                    parts = body.get("components", {})
                    state = ", ".join(f"{k}: {v.get('state')}" for k, v in parts.items())
            print(
                f"\r  waiting for the hotline ({time.monotonic() - started:3.0f} s) {state}   ",
                end="",
                file=sys.stderr,
                flush=True,
            )
            await asyncio.sleep(1.0)
    return False


async def supervise(
    children: list[Child], stop: asyncio.Event, max_bytes: int = 10 << 20, backups: int = 5
) -> None:
    """Until `stop`: a child that dies is restarted after a backoff (1 s, doubling up to
    BACKOFF_MAX_S; reset once it has run STABLE_S), so one crash never stops the hotline.
    While Rasa or the action server is down the gateway's fault path gives callers the
    apology and a handoff."""
    delay = {c.name: BACKOFF_START_S for c in children}
    started = {c.name: time.monotonic() for c in children}
    waits = {asyncio.create_task(c.proc.wait()): c for c in children if c.proc}
    stopper = asyncio.create_task(stop.wait())
    try:
        while not stop.is_set():
            done, _ = await asyncio.wait([*waits, stopper], return_when=asyncio.FIRST_COMPLETED)
            for task in done - {stopper}:
                child = waits.pop(task)
                if stop.is_set():
                    continue
                if time.monotonic() - started[child.name] > STABLE_S:
                    delay[child.name] = BACKOFF_START_S
                code = child.proc.returncode if child.proc else None
                print(
                    f"{child.name} exited with {code}; restarting in {delay[child.name]:.0f} s. "
                    f"Last lines of {child.log}:\n{_tail(child.log)}",
                    file=sys.stderr,
                    flush=True,
                )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay[child.name])
                if stop.is_set():
                    break
                delay[child.name] = min(BACKOFF_MAX_S, delay[child.name] * 2)
                await asyncio.to_thread(rotate, child.log, max_bytes, backups)
                await _start(child)
                started[child.name] = time.monotonic()
                if child.proc:
                    waits[asyncio.create_task(child.proc.wait())] = child
    finally:
        for task in [*waits, stopper]:
            task.cancel()


async def run_stack(settings: Settings) -> int:
    """Runs until Ctrl-C/SIGTERM, restarting a child that dies; always stops every child."""
    children = build_children(settings)
    max_bytes, backups = max(1, settings.log_max_mb) << 20, max(1, settings.log_backups)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        for child in children:
            await asyncio.to_thread(rotate, child.log, max_bytes, backups)
            await _start(child)
            print(
                f"started {child.name} (pid {child.proc.pid if child.proc else '?'}), "
                f"log {child.log}",
                file=sys.stderr,
            )
        ready = await _wait_ready(settings, children, stop)
        print(file=sys.stderr)
        if not ready:
            if not stop.is_set():
                print("the hotline did not become ready", file=sys.stderr)
                for child in children:
                    if child.proc and child.proc.returncode is not None:
                        print(
                            f"{child.name} exited with {child.proc.returncode}; last lines of "
                            f"{child.log}:\n{_tail(child.log)}",
                            file=sys.stderr,
                        )
            return 1
        media = f"ws://{settings.host}:{settings.port}/media/twilio"
        print(
            f"Bürgertelefon is ready.\n  media stream (Twilio protocol): {media}\n"
            f"  health: http://{settings.host}:{settings.port}/health\n"
            "  try:    .venv/bin/voicebot call "
            "audio_fixtures/oeffnungszeiten_buergerbuero.wav\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        await supervise(children, stop, max_bytes, backups)
        return 0
    finally:
        print("stopping all processes ...", file=sys.stderr)
        await stop_all(children, settings.drain_timeout_s)  # the gateway drains first
        print("stopped.", file=sys.stderr)
