"""The benchmark's caller-side latency arithmetic and its report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pytest

from voicebot.bench import (
    first_voiced_after,
    format_table,
    last_voiced_s,
    percentile,
    turn_latencies,
    write_report,
)
from voicebot.caller import RATE, CallResult
from voicebot.config import Settings


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.int16)


def test_latency_is_last_caller_sample_to_first_bot_sample() -> None:
    clip = np.concatenate([silence(0.3), tone(1.0), silence(0.5)])
    assert abs(last_voiced_s(clip) - 1.3) < 0.01
    # the caller started sending at 5.0 s; the bot's answer starts at 7.5 s
    bot = np.concatenate([tone(3.0), silence(4.5), tone(1.0)])
    result = CallResult("CA", "MZ", bot, speech_spans=[(5.0, 6.8)])
    (latency,) = turn_latencies(result, [clip])
    assert abs(latency - (7.5 - 6.3)) < 0.01
    assert first_voiced_after(bot, 9.0) is None


def test_percentiles_and_table() -> None:
    values = [0.5, 0.7, 0.9, 1.1, 3.0]
    assert percentile(values, 50) == 0.9 and percentile(values, 95) == 3.0
    assert np.isnan(percentile([], 50))
    table = format_table([{"concurrency": 1, "p50_s": 0.9}])
    assert table.splitlines()[2] == "| 1 | 0.90 |"


def test_report_has_machine_table_and_plot(tmp_path: Path) -> None:
    rows = [
        {"concurrency": c, "p50_s": 0.9 + c / 10, "p90_s": 1.2, "p95_s": 1.4} for c in (1, 2, 4)
    ]
    out = tmp_path / "benchmarks.md"
    write_report(rows, out, "test setup")
    text = out.read_text()
    assert "cores" in text and "test setup" in text and "| 4 | 1.30 |" in text
    png = out.with_suffix(".png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_new_run_keeps_the_hand_written_notes(tmp_path: Path) -> None:
    from voicebot.bench import NOTES_MARKER

    out = tmp_path / "benchmarks.md"
    write_report([{"concurrency": 1, "p50_s": 2.0, "p90_s": 2.1, "p95_s": 2.2}], out, "first")
    out.write_text(out.read_text() + f"\n{NOTES_MARKER}\n\n## Targets\n\nwhat stands in the way\n")
    write_report([{"concurrency": 1, "p50_s": 1.0, "p90_s": 1.1, "p95_s": 1.2}], out, "second")
    text = out.read_text()
    assert "| 1 | 1.00 |" in text and "| 1 | 2.00 |" not in text and "second" in text
    assert text.count(NOTES_MARKER) == 1 and text.endswith("what stands in the way\n")


def test_without_matplotlib_the_benchmark_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # matplotlib is the `bench` extra, not a runtime dependency: fail at once, saying what to do
    from voicebot import bench_runner
    from voicebot.bench import MATPLOTLIB_MISSING, plot

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install -e '\.\[bench\]'"):
        plot([{"concurrency": 1, "p50_s": 1.0, "p90_s": 1.1, "p95_s": 1.2}], tmp_path / "b.png")
    monkeypatch.setattr(bench_runner, "can_plot", lambda: False)
    args = argparse.Namespace(levels="1", script=None, rounds=1, url=None)
    assert bench_runner.run_bench_command(args, Settings(data_dir=tmp_path)) == 2
    assert MATPLOTLIB_MISSING in capsys.readouterr().err
