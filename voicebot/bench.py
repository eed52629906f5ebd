"""`voicebot bench` (`make bench`): latency and capacity of a hotline, seen from the caller.

Scripted multi-turn calls from the audio fixtures run over the media WebSocket at rising
concurrency. Per turn it measures the time from the caller's last voiced sample to the first
non-silent sample of the bot's answer, collects the per-stage times from the call records,
samples the gateway's CPU and RSS through /health, prints a table and writes
docs/benchmarks.md with a PNG plot of the latency percentiles.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np

from voicebot.audio.resample import Pcm16
from voicebot.caller import RATE, CallResult, api_base, load_caller_audio, place_call

VOICED = 500  # |sample| above this counts as voice (line silence is 0 after u-law)
STAGES = ("endpointing_ms", "asr_queue_ms", "asr_ms", "dialogue_ms", "tts_first_audio_ms")


def last_voiced_s(pcm: Pcm16) -> float:
    """Offset of the last voiced sample in a clip."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > VOICED)
    return float(loud[-1] + 1) / RATE if loud.size else 0.0


def first_voiced_after(audio: Pcm16, t: float) -> float | None:
    """Time of the first voiced sample of the bot's audio at or after t."""
    start = int(t * RATE)
    loud = np.flatnonzero(np.abs(audio[start:].astype(np.int32)) > VOICED)
    return (start + int(loud[0])) / RATE if loud.size else None


def turn_latencies(result: CallResult, clips: list[Pcm16]) -> list[float]:
    """End of caller speech -> first bot audio, per turn (seconds)."""
    out = []
    for (began, _), pcm in zip(result.speech_spans, clips, strict=False):
        end_of_speech = began + last_voiced_s(pcm)
        first = first_voiced_after(result.bot_audio, end_of_speech)
        if first is not None:
            out.append(first - end_of_speech)
    return out


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank); NaN for no values."""
    return float(np.percentile(values, p, method="nearest")) if values else float("nan")


@dataclass
class LevelResult:
    """Everything measured at one concurrency level."""

    concurrency: int
    latencies: list[float] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=dict)
    failed_calls: int = 0
    cpu_percent: float = 0.0
    rss_mb: float = 0.0

    def row(self) -> dict[str, Any]:
        lat = self.latencies
        stage_p50 = {k: percentile(v, 50) for k, v in self.stages.items()}
        return {
            "concurrency": self.concurrency,
            "turns": len(lat),
            "failed_calls": self.failed_calls,
            "p50_s": percentile(lat, 50),
            "p90_s": percentile(lat, 90),
            "p95_s": percentile(lat, 95),
            "max_s": max(lat) if lat else float("nan"),
            **{f"{k.removesuffix('_ms')}_p50_ms": v for k, v in stage_p50.items()},
            "cpu_percent": self.cpu_percent,
            "rss_mb": self.rss_mb,
        }


async def _health(http: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with http.get(f"{base}/health") as resp:
        return dict(await resp.json(content_type=None))


async def run_level(
    url: str, token: str, script: list[Pcm16], concurrency: int, rounds: int
) -> LevelResult:
    """`rounds` waves of `concurrency` simultaneous scripted calls."""
    result = LevelResult(concurrency)
    base = api_base(url)
    async with aiohttp.ClientSession() as http:
        before = (await _health(http, base))["process"]
        started = time.monotonic()
        peak_rss = before["rss_mb"]
        for _ in range(rounds):
            calls = [
                asyncio.create_task(
                    place_call(url, script, api_token=token, quiet_after_answer=1.0)
                )
                for _ in range(concurrency)
            ]
            while not all(c.done() for c in calls):
                await asyncio.sleep(1.0)
                peak_rss = max(peak_rss, (await _health(http, base))["process"]["rss_mb"])
                _progress(result, calls)
            for call in calls:
                if call.exception() is not None or call.result().record is None:
                    result.failed_calls += 1
                    continue
                done = call.result()
                result.latencies += turn_latencies(done, script)
                assert done.record is not None
                for turn in done.record["turns"]:
                    if turn["speaker"] != "caller" or not turn.get("complete", True):
                        continue
                    for stage in STAGES:
                        if turn.get(stage) is not None:
                            result.stages.setdefault(stage, []).append(turn[stage])
        after = (await _health(http, base))["process"]
    wall = time.monotonic() - started
    result.cpu_percent = round(100 * (after["cpu_seconds"] - before["cpu_seconds"]) / wall, 1)
    result.rss_mb = peak_rss
    return result


def _progress(level: LevelResult, calls: list[asyncio.Task[CallResult]]) -> None:
    done = sum(c.done() for c in calls)
    width = 30
    filled = int(width * done / max(1, len(calls)))
    print(
        f"\r  {level.concurrency:>2} concurrent [{'#' * filled}{'.' * (width - filled)}] "
        f"{done}/{len(calls)} calls",
        end="",
        file=sys.stderr,
        flush=True,
    )


def format_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the level rows."""
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        cells = [f"{v:.2f}" if isinstance(v, float) else str(v) for v in row.values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine_description() -> str:
    """CPU model, cores and memory of this machine."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    except OSError:
        mem_kb = 0
    return f"{cpu}, {os.cpu_count()} cores, {mem_kb / 1024 / 1024:.0f} GiB RAM, {platform.system()}"


def git_commit() -> str:
    """The checked-out commit, for the report."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


MATPLOTLIB_MISSING = (
    "the benchmark plot needs matplotlib; install the bench extra: "
    ".venv/bin/pip install -e '.[bench]'"
)


def can_plot() -> bool:
    """Whether matplotlib (the `bench` extra, not a runtime dependency) is installed."""
    return importlib.util.find_spec("matplotlib") is not None


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    """Latency percentiles against concurrency, as a PNG."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(MATPLOTLIB_MISSING) from exc

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = [r["concurrency"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for key, label in (("p50_s", "p50"), ("p90_s", "p90"), ("p95_s", "p95")):
        ax.plot(xs, [r[key] for r in rows], marker="o", label=label)
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.axhline(2.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("concurrent calls")
    ax.set_ylabel("end of speech → first bot audio (s)")
    ax.set_xticks(xs)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


NOTES_MARKER = "<!-- written by hand from here on; voicebot bench keeps it -->"


def kept_notes(out: Path) -> str:
    """The hand-written part of an existing report (from NOTES_MARKER), or ""."""
    if not out.exists():
        return ""
    text = out.read_text(encoding="utf-8")
    at = text.find(NOTES_MARKER)
    return "\n" + text[at:] if at >= 0 else ""


def write_report(rows: list[dict[str, Any]], out: Path, settings_note: str) -> None:
    """docs/benchmarks.md with machine, date, commit, the table and the plot; the notes after
    NOTES_MARKER in the existing file are kept."""
    notes = kept_notes(out)
    png = out.with_suffix(".png")
    plot(rows, png)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = f"""# Benchmarks

Measured by `make bench` (`voicebot bench`) on {now}, commit `{git_commit()}`.

- Machine: {machine_description()}
- Setup: {settings_note}
- Latency: from the caller's last voiced sample to the first non-silent sample of the bot's
  answer, measured on the caller's side of the media WebSocket (includes the wait for the
  end of turn, ASR (started at a 192 ms pause when speculative ASR is on), Rasa and the first
  TTS sentence).
- Stage columns: medians from the call records; CPU and peak RSS of the gateway process via
  `/health` (Rasa and the action server run in their own processes and are not included).

{format_table(rows)}

![latency percentiles against concurrency]({png.name})

```json
{json.dumps(rows, indent=1)}
```
{notes}"""
    out.write_text(text, encoding="utf-8")


async def bench(
    url: str, token: str, script_files: list[Path], levels: list[int], rounds: int
) -> list[dict[str, Any]]:
    """Runs every level and returns the table rows."""
    script = [load_caller_audio(p) for p in script_files]
    rows = []
    for level in levels:
        result = await run_level(url, token, script, level, rounds)
        print(file=sys.stderr)
        rows.append(result.row())
        row = rows[-1]
        print(
            f"  {level:>2} concurrent: p50 {row['p50_s']:.2f} s, p95 {row['p95_s']:.2f} s, "
            f"cpu {row['cpu_percent']:.0f} %, rss {row['rss_mb']:.0f} MB, "
            f"failed {row['failed_calls']}",
            file=sys.stderr,
        )
    return rows


def summarize(values: list[float]) -> str:
    """A short human summary of a list of seconds."""
    if not values:
        return "no values"
    return f"median {statistics.median(values):.2f} s over {len(values)}"
