"""The seasonal forecast and its backtest on generated hourly counts (numpy only).

A known weekly pattern with Poisson noise: the seasonal mean (4 weeks, trend-adjusted)
backtests better than the seasonal naive forecast (last week's same hour) and below the
stated bound; an exact pattern is forecast exactly; the trend factor is clamped.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from voicebot.analytics import forecast as fc

MONDAY = date(2026, 10, 5)
# calls per hour on a weekday (8-17 o'clock) and on Saturday morning; none on Sunday
WEEKDAY = np.array([0] * 8 + [6, 12, 16, 14, 8, 10, 13, 11, 7, 3] + [0] * 6, dtype=float)
SATURDAY = np.array([0] * 9 + [3, 5, 3] + [0] * 12, dtype=float)
WAPE_BOUND = 0.35  # Poisson noise alone gives about 0.25; seeds 0-4 measured 0.26-0.34


def pattern(weeks: int) -> np.ndarray:
    days = [WEEKDAY] * 5 + [SATURDAY, np.zeros(24)]
    return np.array([days[i % 7] for i in range(7 * weeks)])


def test_seasonal_mean_beats_naive_on_noisy_counts() -> None:
    rng = np.random.default_rng(11)
    history = fc.History(MONDAY, rng.poisson(pattern(8)).astype(float))
    errors = fc.backtest(history, weeks=4)
    assert errors["seasonal"].wape is not None and errors["naive"].wape is not None
    assert errors["seasonal"].wape < WAPE_BOUND
    assert errors["seasonal"].mae < errors["naive"].mae
    assert fc.best_method(errors) == "seasonal"


def test_an_exact_pattern_is_forecast_exactly() -> None:
    history = fc.History(MONDAY, pattern(6))
    assert fc.backtest(history, weeks=4)["seasonal"].mae == 0.0
    ahead = fc.forecast(history, 14, 4, "seasonal")
    assert ahead.shape == (14, 24)
    assert np.array_equal(ahead, pattern(2)), "the history ends on a Sunday: Monday follows"


def test_missing_days_are_left_out_and_the_trend_is_clamped() -> None:
    values = pattern(6)
    values[3] = np.nan  # a day without a roll-up
    history = fc.History(MONDAY, values)
    assert np.array_equal(fc.profile(history, 4), pattern(1))
    doubled = values.copy()
    doubled[-14:] *= 3
    assert fc.trend_factor(fc.History(MONDAY, doubled), 4) == fc.TREND_LIMITS[1]


def test_too_short_a_history_has_no_backtest() -> None:
    history = fc.History(MONDAY, pattern(2)[:10])
    assert fc.backtest(history, 4) == {}
    assert fc.best_method({}) == "seasonal"
    clearly = {"seasonal": fc.Error(1.0, 0.3), "naive": fc.Error(0.9, 0.27)}
    assert fc.best_method(clearly) == "naive"
    barely = {"seasonal": fc.Error(1.0, 0.3), "naive": fc.Error(0.97, 0.29)}
    assert fc.best_method(barely) == "seasonal"
    assert history.end == MONDAY + timedelta(days=10)
