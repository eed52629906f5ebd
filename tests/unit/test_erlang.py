"""Erlang C against published table values and closed forms.

The worked example of Call Centre Helper, "Erlang C Formula – Made Simple"
(https://www.callcentrehelper.com/erlang-c-formula-example-121281.htm): 100 calls in 30
minutes, 180 s average handling time, target 80 % answered within 20 s, so 10 Erlangs. Its
table of agents -> probability of waiting / service level: 11 -> 68.2 % / 39.0 %,
12 -> 44.9 % / 64.0 %, 13 -> 28.5 % / 79.6 %, 14 -> 17.4 % / 88.8 %, 15 -> 10.2 % / 94.1 %;
14 agents are the fewest that reach 80/20.
"""

from __future__ import annotations

import pytest

from voicebot.analytics.erlang import agents_needed, erlang_b, erlang_c, service_level

TABLE = [(11, 0.682, 0.390), (12, 0.449, 0.640), (13, 0.285, 0.796), (14, 0.174, 0.888)]
TABLE += [(15, 0.102, 0.941)]


@pytest.mark.parametrize(("agents", "waiting", "level"), TABLE)
def test_the_published_example(agents: int, waiting: float, level: float) -> None:
    assert erlang_c(agents, 10.0) == pytest.approx(waiting, abs=0.0006)
    assert service_level(agents, 10.0, 180.0, 20.0) == pytest.approx(level, abs=0.0006)


def test_agents_needed_for_80_in_20() -> None:
    assert agents_needed(200.0, 180.0, 0.8, 20.0) == 14  # 100 calls per half hour


def test_closed_forms() -> None:
    assert erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: the chance of waiting is rho
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # A^2/2! * 2/(2-1) / (1 + 1 + that)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)


def test_edges() -> None:
    assert agents_needed(0.0, 300.0, 0.8, 20.0) == 0
    assert erlang_c(5, 5.0) == 1.0 and service_level(5, 5.0, 300.0, 20.0) == 0.0
    assert agents_needed(0.2, 300.0, 0.8, 20.0) == 1
    big = agents_needed(3000.0, 240.0, 0.9, 15.0)  # 200 Erlangs: no overflow
    assert 200 < big < 240
