"""Problemfelder: topics whose volume or failure rate rises significantly above their baseline.

The tests, one-sided, per topic, against the same topic's own baseline (the `k` periods of
the same length just before the chosen one):
- **volume**: the period's call count x against a Poisson distribution with the baseline's
  mean count lambda; p = P(X >= x | lambda).
- **failure rate** (not understood, low ASR confidence): the period's share of failed calls
  against the baseline's pooled share, a pooled two-proportion z-test; p = 1 - Phi(z).
A topic is flagged when p < alpha / m (Bonferroni over the m topics tested, so a normal week
with many topics flags nothing by chance) and the period has at least `min_count` calls
(volume) or failures (rate). Also: `redact` masks what could identify a caller in the
example utterances.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

FAILURES = {
    "not_understood": "nicht verstanden",
    "low_asr": "schlecht erkannt (niedrige ASR-Konfidenz)",
}


@dataclass(frozen=True)
class TopicCounts:
    """One topic in one period: its calls and failed calls."""

    calls: int
    not_understood: int = 0
    low_asr: int = 0


@dataclass(frozen=True)
class Problem:
    """A flagged topic: what rose, its value, the baseline and the test's p-value."""

    topic: str
    kind: str  # volume | not_understood | low_asr
    value: float  # calls (volume) or failure share
    baseline: float  # mean calls per period, or the baseline failure share
    p_value: float
    calls: int


def poisson_sf(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam)."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    log_term = -lam  # log P(X = 0), then each term from the previous in log space
    below = 0.0
    for i in range(k):
        if i > 0:
            log_term += math.log(lam) - math.log(i)
        below += math.exp(log_term)
    return max(0.0, 1.0 - below)


def two_proportion_p(x1: int, n1: int, x0: int, n0: int) -> float:
    """One-sided p-value that share x1/n1 exceeds x0/n0 (pooled two-proportion z-test)."""
    if n1 <= 0 or n0 <= 0:
        return 1.0
    pooled = (x1 + x0) / (n1 + n0)
    if pooled in (0.0, 1.0):
        return 1.0
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    z = (x1 / n1 - x0 / n0) / se
    return 0.5 * math.erfc(z / math.sqrt(2))


def find_problems(
    current: dict[str, TopicCounts],
    baseline: list[dict[str, TopicCounts]],
    alpha: float,
    min_count: int,
) -> list[Problem]:
    """The topics of `current` that rose significantly above their `baseline` periods."""
    if not baseline:
        return []
    topics = sorted(set(current) | {t for period in baseline for t in period})
    tests = max(1, len(topics))
    level = alpha / tests
    found: list[Problem] = []
    for topic in topics:
        now = current.get(topic, TopicCounts(0))
        before = [period.get(topic, TopicCounts(0)) for period in baseline]
        mean = sum(b.calls for b in before) / len(before)
        if now.calls >= min_count and now.calls > mean:
            p = poisson_sf(now.calls, mean)
            if p < level:
                found.append(Problem(topic, "volume", now.calls, mean, p, now.calls))
        for kind in FAILURES:
            failed = int(getattr(now, kind))
            failed_before = sum(int(getattr(b, kind)) for b in before)
            calls_before = sum(b.calls for b in before)
            if failed < min_count or calls_before == 0:
                continue
            p = two_proportion_p(failed, now.calls, failed_before, calls_before)
            if p < level:
                share_before = failed_before / calls_before
                found.append(Problem(topic, kind, failed / now.calls, share_before, p, now.calls))
    return sorted(found, key=lambda problem: problem.p_value)


# ---- redaction -----------------------------------------------------------------------------
EMAIL = re.compile(
    r"[\w.+-]+(?:\s+punkt\s+[\w+-]+)*\s*(?:@|\bat\b)\s*[\w-]+(?:\s*(?:\.|\bpunkt\b)\s*[\w-]+)+",
    re.I,
)
IBAN = re.compile(r"\b[A-Z]{2}\s?\d{2}(?:\s?[A-Z0-9]){10,30}\b", re.I)
PHONE = re.compile(r"(?:\+|\b00)\d[\d\s/().-]{5,}\d|\b0\d{2,5}[\s/.-]?\d[\d\s.-]{3,}\d")
DIGITS = re.compile(r"\d(?:[\s.-]?\d){3,}")


def redact(text: str) -> str:
    """Masks e-mail addresses, IBAN-like strings, phone numbers and runs of 4+ digits."""
    text = EMAIL.sub("[E-Mail]", text)
    text = IBAN.sub("[IBAN]", text)
    text = PHONE.sub("[Telefon]", text)
    return DIGITS.sub("[Nummer]", text)
