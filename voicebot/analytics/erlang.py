"""Erlang C: how many agents a queue needs to answer a share of calls within a time.

Traffic A = arrival rate x average handling time (Erlangs). With N > A agents the probability
that a call waits is Erlang C:

    C(N, A) = (A^N / N! * N / (N - A)) / (sum_{k<N} A^k / k! + A^N / N! * N / (N - A))

and the service level, the share answered within t seconds, is
SL = 1 - C(N, A) * exp(-(N - A) * t / AHT). Computed with the Erlang B recursion
(B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1)); C = N B / (N - A (1 - B))), which stays exact
for hundreds of agents where factorials overflow.
"""

from __future__ import annotations

import math

MAX_AGENTS = 1000


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of Erlang B for `agents` servers and `traffic` Erlangs."""
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call has to wait (1.0 when the agents cannot keep up)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, handle_s: float, within_s: float) -> float:
    """The share of calls answered within `within_s` seconds."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    wait = erlang_c(agents, traffic)
    return 1.0 - wait * math.exp(-(agents - traffic) * within_s / handle_s)


def agents_needed(calls_per_hour: float, handle_s: float, target: float, within_s: float) -> int:
    """The fewest agents that answer `target` of the calls within `within_s` seconds."""
    if calls_per_hour <= 0:
        return 0
    traffic = calls_per_hour * handle_s / 3600.0
    agents = max(1, math.floor(traffic) + 1)
    while agents < MAX_AGENTS and service_level(agents, traffic, handle_s, within_s) < target:
        agents += 1
    return agents
