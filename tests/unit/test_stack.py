"""The supervisor stops whole process groups: nothing is left behind."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from voicebot.stack import Child, _start, stop_all


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_stop_all_ends_children_and_their_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pidfile = tmp_path / "grandchild.pid"
    # one child that ignores SIGTERM and one that spawns a grandchild
    ready = tmp_path / "stubborn.ready"
    stubborn = f"trap '' TERM; touch {ready}; while true; do sleep 0.1; done"
    spawner = f"sleep 300 & echo $! > {pidfile}; wait"
    children = [
        Child("stubborn", ["bash", "-c", stubborn], tmp_path, dict(os.environ), tmp_path / "a.log"),
        Child("spawner", ["bash", "-c", spawner], tmp_path, dict(os.environ), tmp_path / "b.log"),
    ]

    async def scenario() -> list[int]:
        for child in children:
            await _start(child)
        for _ in range(50):
            if ready.exists() and pidfile.exists() and pidfile.read_text().strip():
                break
            await asyncio.sleep(0.1)
        pids = [c.proc.pid for c in children if c.proc] + [int(pidfile.read_text())]
        await stop_all(children)
        return pids

    monkeypatch.setattr("voicebot.stack.GRACE_S", 1.0)
    pids = asyncio.run(scenario())
    assert len(pids) == 3
    assert not [pid for pid in pids if alive(pid)]
    assert children[0].proc is not None and children[0].proc.returncode == -signal.SIGKILL
