"""Calls and handoffs per hour for the next days: a seasonal baseline, backtested (numpy only).

The history is one row of 24 hourly counts per local day (NaN for a day without a roll-up).
- **seasonal mean** (the model): the mean of the same weekday and hour over the last `weeks`
  weeks, times a trend factor: the mean weekly total of the last two weeks over the mean
  weekly total of all `weeks`, clamped to [0.8, 1.25] so one odd week cannot run away;
- **seasonal naive** (the yardstick): the same weekday and hour one week earlier.
The backtest holds out the last 7 days, fits both on the days before and reports the mean
absolute error per hour (MAE) and the weighted absolute percentage error
(WAPE = sum |error| / sum actual, a MAPE that empty night hours cannot blow up). The
forecast uses the seasonal mean unless the naive forecast backtests clearly better (an MAE
at least NAIVE_MARGIN lower); the page shows both errors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
HOLDOUT_DAYS = 7
TREND_LIMITS = (0.8, 1.25)
NAIVE_MARGIN = 0.05  # the naive forecast must beat the seasonal mean's MAE by 5 %


@dataclass(frozen=True)
class History:
    """Hourly counts of consecutive local days from `first_day` (NaN: no roll-up that day)."""

    first_day: date
    values: Array  # shape (days, 24)

    @property
    def end(self) -> date:
        """The day after the last day of the history."""
        return self.first_day + timedelta(days=len(self.values))

    def head(self, days: int) -> History:
        """The history without its last `days` days."""
        return History(self.first_day, self.values[: len(self.values) - days])


@dataclass(frozen=True)
class Error:
    """A backtest's error: mean absolute error per hour and weighted percentage error."""

    mae: float
    wape: float | None  # None when the held-out week had no calls


def _weekday_rows(history: History, weeks: int) -> list[list[npt.NDArray[np.float64]]]:
    """For each weekday (Monday = 0), the rows of its last `weeks` occurrences."""
    rows: list[list[Array]] = [[] for _ in range(7)]
    first = max(0, len(history.values) - 7 * weeks)
    for index in range(first, len(history.values)):
        day = history.first_day + timedelta(days=index)
        rows[day.weekday()].append(history.values[index])
    return rows


def profile(history: History, weeks: int) -> Array:
    """The mean count per weekday and hour over the last `weeks` weeks (7 x 24)."""
    result = np.zeros((7, 24))
    for weekday, rows in enumerate(_weekday_rows(history, weeks)):
        known = [r for r in rows if not np.isnan(r).any()]
        if known:
            result[weekday] = np.mean(known, axis=0)
    return result


def trend_factor(history: History, weeks: int) -> float:
    """Recent level over the longer mean: mean weekly total of 2 weeks over `weeks` weeks."""
    values = history.values[-7 * weeks :]
    days: npt.NDArray[np.bool_] = np.asarray(~np.isnan(values).any(axis=1), dtype=bool)
    recent = days[-14:]
    if days.sum() < 14 or recent.sum() < 7:
        return 1.0
    longer = float(np.nansum(values[days]) / days.sum())
    short = float(np.nansum(values[-14:][recent]) / recent.sum())
    if longer <= 0:
        return 1.0
    low, high = TREND_LIMITS
    return min(high, max(low, short / longer))


def seasonal_forecast(history: History, days: int, weeks: int) -> Array:
    """The seasonal mean model for `days` days from the end of the history (days x 24)."""
    shape = profile(history, weeks) * trend_factor(history, weeks)
    start = history.end
    return np.array([shape[(start + timedelta(days=i)).weekday()] for i in range(days)])


def naive_forecast(history: History, days: int) -> Array:
    """The same weekday and hour of the history's last week, for `days` days."""
    last = history.values[-7:]
    last = np.nan_to_num(last) if len(last) == 7 else np.zeros((7, 24))
    return np.array([last[i % 7] for i in range(days)])


def error(forecast: Array, actual: Array) -> Error:
    """MAE per hour and WAPE of a forecast against what happened (NaN days left out)."""
    known = ~np.isnan(actual).any(axis=1)
    if not known.any():
        return Error(math.nan, None)
    diff = np.abs(forecast[known] - actual[known])
    total = float(actual[known].sum())
    return Error(float(diff.mean()), float(diff.sum() / total) if total > 0 else None)


def backtest(history: History, weeks: int) -> dict[str, Error]:
    """Both methods fitted without the last 7 days and scored on them."""
    if len(history.values) < HOLDOUT_DAYS + 7:
        return {}
    train, actual = history.head(HOLDOUT_DAYS), history.values[-HOLDOUT_DAYS:]
    return {
        "seasonal": error(seasonal_forecast(train, HOLDOUT_DAYS, weeks), actual),
        "naive": error(naive_forecast(train, HOLDOUT_DAYS), actual),
    }


def best_method(errors: dict[str, Error]) -> str:
    """The seasonal mean, unless the naive forecast's backtest MAE is clearly lower."""
    if not errors or any(math.isnan(e.mae) for e in errors.values()):
        return "seasonal"
    if errors["naive"].mae < errors["seasonal"].mae * (1 - NAIVE_MARGIN):
        return "naive"
    return "seasonal"


def forecast(history: History, days: int, weeks: int, method: str) -> Array:
    """`days` x 24 expected counts from the end of the history by the named method."""
    if method == "naive":
        return naive_forecast(history, days)
    return seasonal_forecast(history, days, weeks)
