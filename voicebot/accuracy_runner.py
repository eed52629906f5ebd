"""`voicebot bench --accuracy`: the evaluation set through a hotline per ASR model, transport
and condition; writes docs/accuracy.md (machine, date, commit, the table, the misses).

Without --url it starts a private stack per Whisper model (`--models base,small,...`, set as
VOICEBOT_ASR_MODEL_NAME). A model that is not in the model cache is not measured (the product
would fall back to base, and the row would lie): the report says how to fetch it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from voicebot.accuracy import (
    CONDITIONS,
    LOSS_RATE,
    NOISE_SNR_DB,
    CallFn,
    Outcome,
    load_eval_set,
    misses,
    run_set,
    summary,
    websocket_caller,
)
from voicebot.bench import git_commit, kept_notes, machine_description
from voicebot.config import Settings
from voicebot.errors import ModelError
from voicebot.tokens import read_api_token

TRANSPORTS = ("ws", "sip")


@dataclass
class Target:
    """A running hotline to measure: media URL, API token, SIP address."""

    media_url: str
    token: str
    sip: tuple[str, int] | None


def wait_healthy(port: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    """Polls /health of a starting stack (RuntimeError when it stops or never answers)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the hotline stopped while starting; see its logs")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=3):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    raise RuntimeError("the hotline did not become healthy")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def model_missing(settings: Settings, name: str) -> str | None:
    """Why Whisper `name` cannot be measured here (not in the cache), or None."""
    from voicebot.services.models import resolve_asr_model

    configured = dataclasses.replace(settings.asr, model_name=name, model_path=None)
    try:
        resolved = resolve_asr_model(dataclasses.replace(settings, asr=configured))
    except ModelError as exc:
        return str(exc)
    return resolved.warning


@contextmanager
def private_stack(settings: Settings, model: str, max_calls: int) -> Iterator[Target]:
    """`voicebot stack` on free ports with Whisper `model`, stopped afterwards."""
    with tempfile.TemporaryDirectory(prefix="voicebot-accuracy-") as data_dir:
        port, sip_port = str(_free_port()), _free_port()
        env = dict(os.environ)
        env.update(
            {
                "VOICEBOT_DATA_DIR": data_dir,
                "VOICEBOT_PORT": port,
                "VOICEBOT_SIP_PORT": str(sip_port),
                "VOICEBOT_MAX_CALLS": str(max_calls),
                "VOICEBOT_ASR_MODEL_NAME": model,
                # staff always on duty: a request for a person is answered the same at night
                "VOICEBOT_HANDOFF_SERVICE_HOURS": "Mo-So 00:00-24:00",
                "VOICEBOT_API_TOKEN": secrets.token_urlsafe(32),
                "VOICEBOT_MEDIA_TOKEN": os.environ.setdefault(
                    "VOICEBOT_MEDIA_TOKEN", secrets.token_urlsafe(32)
                ),
                "VOICEBOT_MODELS_CACHE_DIR": str(settings.model_cache_dir.resolve()),
            }
        )
        print(
            f"starting a private hotline with Whisper {model} on port {port} ...", file=sys.stderr
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "voicebot", "stack"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_healthy(port, proc)
            yield Target(
                f"ws://127.0.0.1:{port}/media/twilio",
                env["VOICEBOT_API_TOKEN"],
                ("127.0.0.1", sip_port),
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def caller_for(target: Target, transport: str, condition: str) -> CallFn:
    """The CallFn of a transport (SIP drops the lost packets; the WebSocket sends silence)."""
    if transport == "ws":
        return websocket_caller(target.media_url, target.token)
    if target.sip is None:
        raise ValueError("SIP needs --sip HOST:PORT with --url")
    from voicebot.accuracy_sip import sip_caller

    parts = urlsplit(target.media_url.replace("ws", "http", 1))
    http_url = f"{parts.scheme}://{parts.netloc}"
    return sip_caller(*target.sip, http_url, target.token, loss=condition == "loss")


def _progress(outcome: Outcome) -> None:
    mark = "ok" if outcome.topic_ok else "MISS"
    print(f"    {outcome.clip.name}: {mark}", file=sys.stderr, flush=True)


def measure(
    target: Target,
    model: str,
    transports: list[str],
    conditions: list[str],
    concurrency: int,
    fixtures: Path,
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Rows (one per transport and condition) and the misses per row."""
    clips = load_eval_set(fixtures)[:limit]
    rows, missed = [], {}
    for transport in transports:
        for condition in conditions:
            print(f"  Whisper {model}, {transport}, {condition}:", file=sys.stderr)
            call = caller_for(target, transport, condition)
            outcomes = asyncio.run(run_set(clips, call, condition, concurrency, _progress))
            row = {"model": model, "transport": transport, "condition": condition}
            row |= summary(outcomes)
            rows.append(row)
            missed[f"{model} / {transport} / {condition}"] = misses(outcomes)
            print(f"  => {row}", file=sys.stderr)
    return rows, missed


def format_rows(rows: list[dict[str, Any]]) -> str:
    """The Markdown table of the accuracy rows."""
    head = "| model | transport | condition | clips | WER | intent | topic | failed calls |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.get("not_measured"):
            lines.append(
                f"| {r['model']} | - | - | - | - | - | - | not measured: {r['not_measured']} |"
            )
            continue
        lines.append(
            f"| {r['model']} | {r['transport']} | {r['condition']} | {r['clips']} | "
            f"{r['wer']:.0%} | {r['intent_accuracy']:.0%} | {r['topic_accuracy']:.0%} | "
            f"{r['failed_calls']} |"
        )
    return "\n".join(lines)


def write_accuracy_report(
    rows: list[dict[str, Any]], missed: dict[str, list[str]], out: Path, note: str
) -> None:
    """docs/accuracy.md: machine, date, commit, settings, the table and the misses; a
    hand-written part after the notes marker of an existing file is kept."""
    notes = kept_notes(out)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    miss_text = "\n\n".join(
        f"**{key}** ({len(lines)} off topic)\n\n" + "\n".join(f"- {line}" for line in lines)
        for key, lines in missed.items()
        if lines
    )
    text = f"""# Speech accuracy

Measured by `voicebot bench --accuracy` on {now}, commit `{git_commit()}`.

- Machine: {machine_description()}
- Setup: {note}
- Clips: the held-out evaluation set (audio_fixtures/manifest.yml `evaluation_clips:`, made
  by `python -m voicebot.tools.eval_fixtures`; never tuned on), one call per clip: the
  greeting, the question, the answer.
- Transports: `ws` the media WebSocket (8 kHz u-law); `sip` SIP over UDP with G.711 A-law RTP.
- Conditions: `clean`; `noise` pink phone-band noise at {NOISE_SNR_DB:g} dB SNR on top;
  `loss` {LOSS_RATE:.0%} of the 20 ms packets lost (over SIP not sent, over the WebSocket
  silence).
- WER: the gateway's transcript (the call record) against the text said, all edits over all
  words. Intent: Rasa's intent of the caller's turn is the expected one. Topic: the bot's answer
  names the right service, office or action (the clip's `answer_words`).

{format_rows(rows)}

## Misses

{miss_text or "none"}

```json
{json.dumps(rows, indent=1)}
```
{notes}"""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


def run_accuracy_command(args: argparse.Namespace, settings: Settings) -> int:
    """`voicebot bench --accuracy`: measures, writes the report, returns an exit code."""
    transports = args.transports.split(",")
    conditions = args.conditions.split(",")
    bad = [t for t in transports if t not in TRANSPORTS] + [
        c for c in conditions if c not in CONDITIONS
    ]
    if bad:
        print(f"voicebot bench: unknown transport or condition {bad}", file=sys.stderr)
        return 2
    out = Path(args.out or "docs/accuracy.md")
    fixtures = Path(args.fixtures)
    note = (
        f"Whisper {settings.asr.compute_type}, beam {settings.asr.beam_size}, "
        f"{settings.asr.cpu_threads} threads, {settings.asr.num_workers} worker(s), hot words; "
        f"{args.concurrency} calls at a time"
    )
    rows: list[dict[str, Any]] = []
    missed: dict[str, list[str]] = {}
    if args.url:
        token = args.token or read_api_token(settings)
        if not token:
            print("voicebot bench: give --token or VOICEBOT_API_TOKEN", file=sys.stderr)
            return 2
        sip = None
        if args.sip:
            host, _, port = args.sip.rpartition(":")
            sip = (host, int(port))
        target = Target(args.url, token, sip)
        name = args.models or settings.asr.model_name
        rows, missed = measure(
            target, name, transports, conditions, args.concurrency, fixtures, args.clips
        )
    else:
        for model in (args.models or settings.asr.model_name).split(","):
            why = model_missing(settings, model)
            if why:
                print(f"  Whisper {model}: not measured: {why}", file=sys.stderr)
                rows.append({"model": model, "not_measured": why})
                continue
            with private_stack(settings, model, max(8, args.concurrency)) as target:
                got, miss = measure(
                    target, model, transports, conditions, args.concurrency, fixtures, args.clips
                )
            rows += got
            missed |= miss
    write_accuracy_report(rows, missed, out, note)
    print(f"wrote {out}", file=sys.stderr)
    return 0
