"""`voicebot stack` (`make run`): starts the action server, the Rasa server and the gateway.

Each child runs in its own process group with its output in <data_dir>/logs/. Ctrl-C or
SIGTERM stops all three (SIGTERM, then SIGKILL after a grace period), so nothing is left
behind. If a child dies, the others are stopped too and the tail of its log is shown.
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
from urllib.parse import urlparse

import aiohttp

from voicebot.config import Settings
from voicebot.errors import ConfigError
from voicebot.rasa_train import model_path, rasa_env, rasa_executable
from voicebot.tokens import with_api_token

GRACE_S = 10.0
READY_TIMEOUT_S = 300.0


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


def build_children(settings: Settings) -> list[Child]:
    """The three processes of the hotline, in start order."""
    rasa = settings.rasa
    exe = str(rasa_executable(rasa).resolve())
    model = model_path(rasa)
    if not model.is_file():
        raise ConfigError(f"no trained Rasa model at {model}; run `voicebot train` (make run does)")
    data_dir = settings.data_dir.resolve()
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    rasa_vars = {
        "VOICEBOT_ACTIONS_URL": rasa.actions_url.rstrip("/") + "/webhook",
        "VOICEBOT_RASA_TRACKER_DB": str(data_dir / "rasa_tracker.db"),
    }
    # the custom actions store requests through the gateway's API (POST /api/requests)
    token = with_api_token(settings).api_token or ""
    gateway_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    action_vars = {
        **rasa_vars,
        "VOICEBOT_GATEWAY_URL": f"http://{gateway_host}:{settings.port}",
        "VOICEBOT_API_TOKEN": token,
    }
    host = urlparse(rasa.url).hostname or "127.0.0.1"
    return [
        Child(
            "actions",
            [exe, "run", "actions", "--actions", "actions", "--port", str(_port(rasa.actions_url))],
            rasa.project_dir,
            rasa_env(action_vars),
            logs / "actions.log",
        ),
        Child(
            "rasa",
            [
                exe,
                "run",
                "--enable-api",
                "--auth-token",
                rasa.token,
                "--model",
                str(model.resolve()),
                "--interface",
                host,
                "--port",
                str(_port(rasa.url)),
                "--endpoints",
                "endpoints.yml",
                "--credentials",
                "credentials.yml",
            ],
            rasa.project_dir,
            rasa_env(rasa_vars),
            logs / "rasa.log",
        ),
        Child(
            "gateway",
            [sys.executable, "-m", "voicebot", "serve"],
            Path.cwd(),
            {**os.environ, "PYTHONUNBUFFERED": "1", "VOICEBOT_API_TOKEN": token},
            logs / "gateway.log",
        ),
    ]


async def _start(child: Child) -> None:
    log = await asyncio.to_thread(open, child.log, "ab")  # handed to the child, closed below
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


async def stop_all(children: list[Child]) -> None:
    """SIGTERM to every process group (gateway first), SIGKILL to whatever is left."""
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


async def run_stack(settings: Settings) -> int:
    """Runs until Ctrl-C/SIGTERM or a child dies; always stops every child."""
    children = build_children(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        for child in children:
            await _start(child)
            print(
                f"started {child.name} (pid {child.proc.pid if child.proc else '?'}), "
                f"log {child.log}",
                file=sys.stderr,
            )
        ready = await _wait_ready(settings, children, stop)
        print(file=sys.stderr)
        if ready:
            media = f"ws://{settings.host}:{settings.port}/media/twilio"
            print(
                f"Bürgertelefon is ready.\n  media stream (Twilio protocol): {media}\n"
                f"  health: http://{settings.host}:{settings.port}/health\n"
                "  try:    .venv/bin/voicebot call "
                "audio_fixtures/oeffnungszeiten_buergerbuero.wav\n"
                "Press Ctrl-C to stop.",
                flush=True,
            )
        elif not stop.is_set():
            print("the hotline did not become ready", file=sys.stderr)
        waits = [asyncio.create_task(c.proc.wait()) for c in children if c.proc]
        stopper = asyncio.create_task(stop.wait())
        if ready:
            await asyncio.wait([*waits, stopper], return_when=asyncio.FIRST_COMPLETED)
        for child in children:
            if child.proc and child.proc.returncode is not None and not stop.is_set():
                print(
                    f"{child.name} exited with {child.proc.returncode}; last lines of "
                    f"{child.log}:\n{_tail(child.log)}",
                    file=sys.stderr,
                )
        for task in [*waits, stopper]:
            task.cancel()
        return 0 if (ready and stop.is_set()) else 1
    finally:
        print("stopping all processes ...", file=sys.stderr)
        await stop_all(children)
        print("stopped.", file=sys.stderr)
