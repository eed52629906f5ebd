"""Runs `voicebot bench`: against a given hotline, or a private stack started for the run."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from voicebot.accuracy_runner import wait_healthy
from voicebot.bench import MATPLOTLIB_MISSING, bench, can_plot, write_report
from voicebot.config import Settings
from voicebot.tokens import read_api_token

DEFAULT_SCRIPT = ("ask_opening_hours", "bot_challenge", "goodbye")


def default_script(fixtures: Path = Path("audio_fixtures")) -> list[Path]:
    """One fixture per scripted turn: opening hours, 'are you human?', goodbye."""
    data = yaml.safe_load((fixtures / "manifest.yml").read_text(encoding="utf-8"))
    clips = data["clips"] if isinstance(data, dict) else data
    chosen = []
    for intent in DEFAULT_SCRIPT:
        entry = next(c for c in clips if c["expected_intent"] == intent)
        chosen.append(fixtures / entry["file"])
    return chosen


def run_bench_command(args: argparse.Namespace, settings: Settings) -> int:
    """Benchmarks, writes the report, returns an exit code."""
    if getattr(args, "accuracy", False):  # `voicebot bench --accuracy`: docs/accuracy.md
        from voicebot.accuracy_runner import run_accuracy_command

        return run_accuracy_command(args, settings)
    args.out = getattr(args, "out", None) or "docs/benchmarks.md"
    if not can_plot():  # say so now, not after minutes of calls
        print(f"voicebot bench: {MATPLOTLIB_MISSING}", file=sys.stderr)
        return 2
    levels = [int(x) for x in args.levels.split(",")]
    script = [Path(p) for p in args.script] if args.script else default_script()
    note = (
        f"Whisper {settings.asr.model_name} {settings.asr.compute_type}, beam "
        f"{settings.asr.beam_size}, {settings.asr.cpu_threads} threads, "
        f"{settings.asr.num_workers} worker(s); {args.rounds} round(s) per level of a "
        f"{len(script)}-turn call ({', '.join(p.name for p in script)})"
    )
    if args.url:
        token = args.token or read_api_token(settings)
        if not token:
            print("voicebot bench: give --token or VOICEBOT_API_TOKEN", file=sys.stderr)
            return 2
        rows = asyncio.run(bench(args.url, token, script, levels, args.rounds))
        write_report(rows, Path(args.out), note)
        return 0
    with tempfile.TemporaryDirectory(prefix="voicebot-bench-") as data_dir:
        port = str(settings.port + 100)
        env = dict(os.environ)
        env.update(
            {
                "VOICEBOT_DATA_DIR": data_dir,
                "VOICEBOT_PORT": port,
                "VOICEBOT_MAX_CALLS": str(max(levels)),
                "VOICEBOT_API_TOKEN": os.urandom(12).hex(),
                # the media stream's token; also here, where `place_call` reads it
                "VOICEBOT_MEDIA_TOKEN": os.environ.setdefault(
                    "VOICEBOT_MEDIA_TOKEN", secrets.token_urlsafe(32)
                ),
                "VOICEBOT_MODELS_CACHE_DIR": str(settings.model_cache_dir.resolve()),
            }
        )
        print(f"starting a private hotline on port {port} ...", file=sys.stderr)
        proc = subprocess.Popen(
            [sys.executable, "-m", "voicebot", "stack"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_healthy(port, proc)
            url = f"ws://127.0.0.1:{port}/media/twilio"
            rows = asyncio.run(bench(url, env["VOICEBOT_API_TOKEN"], script, levels, args.rounds))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    write_report(rows, Path(args.out), note)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
