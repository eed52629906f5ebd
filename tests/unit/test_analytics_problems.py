"""The Problemfelder test (Poisson volume test, two-proportion rate test, Bonferroni), the
masking of example utterances, and the console roles in the configuration."""

from __future__ import annotations

import math

import pytest

from voicebot.analytics.problems import (
    TopicCounts,
    find_problems,
    poisson_sf,
    redact,
    two_proportion_p,
)
from voicebot.config import load_settings
from voicebot.web.agent_auth import console_users, roles_of


def test_poisson_tail() -> None:
    assert poisson_sf(0, 3.0) == 1.0
    assert poisson_sf(1, 1.0) == pytest.approx(1 - math.exp(-1))
    # P(X >= 3 | 1) = 1 - e^-1 (1 + 1 + 1/2)
    assert poisson_sf(3, 1.0) == pytest.approx(1 - math.exp(-1) * 2.5)
    assert poisson_sf(5, 0.0) == 0.0
    assert poisson_sf(64, 35.75) < 1e-4 < poisson_sf(40, 35.75)


def test_two_proportions() -> None:
    assert two_proportion_p(10, 100, 10, 100) == pytest.approx(0.5)
    assert two_proportion_p(30, 100, 40, 400) < 1e-5  # 30 % against 10 %
    assert two_proportion_p(0, 0, 5, 10) == 1.0


def weeks(counts: list[int]) -> list[dict[str, TopicCounts]]:
    return [{"ask_fee": TopicCounts(c, c // 10)} for c in counts]


def test_a_jump_is_flagged_and_noise_is_not() -> None:
    baseline = weeks([35, 38, 33, 37])
    jump = find_problems({"ask_fee": TopicCounts(64, 6)}, baseline, 0.01, 5)
    assert [(p.topic, p.kind) for p in jump] == [("ask_fee", "volume")]
    assert jump[0].baseline == pytest.approx(35.75)
    assert find_problems({"ask_fee": TopicCounts(42, 4)}, baseline, 0.01, 5) == []
    few = find_problems({"new": TopicCounts(4)}, baseline, 0.01, 5)
    assert few == [], "below the minimum count nothing is flagged"
    worse = find_problems({"ask_fee": TopicCounts(36, 15)}, baseline, 0.01, 5)
    assert [(p.kind, round(p.value, 2)) for p in worse] == [("not_understood", 0.42)]


def test_bonferroni_divides_the_level_by_the_topics() -> None:
    base = [{f"t{i}": TopicCounts(20) for i in range(50)} for _ in range(4)]
    current = {f"t{i}": TopicCounts(20) for i in range(50)}
    current["t0"] = TopicCounts(33)  # p about 0.005: significant alone, not among 50 topics
    assert find_problems(current, base, 0.01, 5) == []
    assert find_problems({"t0": TopicCounts(33)}, [{"t0": TopicCounts(20)}] * 4, 0.01, 5)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Rufen Sie 0214 406-8811 an", "Rufen Sie [Telefon] an"),
        ("meine Nummer ist +49 214 4068811", "meine Nummer ist [Telefon]"),
        ("max.muster@example.org bitte", "[E-Mail] bitte"),
        ("max punkt muster at example punkt org", "[E-Mail]"),
        ("IBAN DE89 3704 0044 0532 0130 00", "IBAN [IBAN]"),
        ("Aktenzeichen 123456", "Aktenzeichen [Nummer]"),
        ("um 10 Uhr am 3. Mai", "um 10 Uhr am 3. Mai"),
    ],
)
def test_redaction(text: str, masked: str) -> None:
    assert redact(text) == masked


def test_roles_from_file_and_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "voicebot.toml"
    config.write_text('[console]\nagents = {anna = "scrypt:a"}\n', encoding="utf-8")
    env = {
        "VOICEBOT_CONSOLE_SUPERVISORS": '{"sina": "scrypt:s"}',
        "VOICEBOT_CONSOLE_TRAINERS": "tom=scrypt:t,anna=scrypt:a",
    }
    console = load_settings(config, env).console
    assert console.agents == {"anna": "scrypt:a"}, "today's agents table still works"
    assert roles_of(console, "anna") == {"agent", "trainer"}
    assert roles_of(console, "sina") == {"supervisor"}
    assert roles_of(console, "nobody") == frozenset()
    assert console_users(console) == {"anna": "scrypt:a", "sina": "scrypt:s", "tom": "scrypt:t"}
