"""Where a pilot is heading by its gate: the metric's straight-line trend, spend against budget, and cost drift.

Pure functions of a pilot and its readings. They return numbers and facts; cards/ words them.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final, Literal

from governance.model import MetricReading, Pilot
from governance.period import Period

Confidence = Literal["none", "low", "medium", "high"]
_LOWER: Final[dict[Confidence, Confidence]] = {"none": "none", "low": "low", "medium": "low", "high": "medium"}
POOR_FIT_R2: Final = 0.5


@dataclass(frozen=True, slots=True)
class Projection:
    """Where a linear trend puts a metric on the gate date, and how far to trust it."""

    value: float | None
    confidence: Confidence
    readings: int = 0
    first: Period | None = None  # the readings it rests on, oldest and newest
    last: Period | None = None
    r_squared: float | None = None

    @property
    def poor_fit(self) -> bool:
        return self.r_squared is not None and self.r_squared < POOR_FIT_R2


def period_midpoint(period: Period) -> float:
    """The middle of a month as a day number (proleptic ordinal), e.g. 16 April 00:00 for ``2026-04``."""
    return period.first_day.toordinal() + (period.last_day.day / 2)


def _confidence_for(count: int) -> Confidence:
    if count <= 1:
        return "none"
    if count == 2:
        return "low"
    if count <= 4:
        return "medium"
    return "high"


def project_metric(trend: Sequence[tuple[Period, float]], gate_date: date) -> Projection:
    """Least-squares line through the readings (at period midpoints), read off at the gate date.

    Confidence follows the number of readings (0-1 none, 2 low, 3-4 medium, 5+ high), one step lower when the
    line fits poorly (R² below 0.5). With fewer than two readings there is no projection.
    """
    points = sorted(dict(trend).items())
    count = len(points)
    if count == 0:
        return Projection(None, "none")
    if count == 1:
        return Projection(None, "none", readings=1, first=points[0][0], last=points[0][0])
    xs = [period_midpoint(period) for period, _ in points]
    ys = [value for _, value in points]
    mean_x = sum(xs) / count
    mean_y = sum(ys) / count
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    residual = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    total = sum((y - mean_y) ** 2 for y in ys)
    r_squared = 1.0 if total == 0 else max(0.0, 1.0 - residual / total)
    value = intercept + slope * gate_date.toordinal()
    confidence = _confidence_for(count)
    if r_squared < POOR_FIT_R2:
        confidence = _LOWER[confidence]
    return Projection(value, confidence, count, points[0][0], points[-1][0], r_squared)


def expected_progress(start_date: date, gate_date: date, day: date) -> float:
    """The share of the way from baseline to target that a straight line from the start (at the baseline) to the
    gate (at the target) has reached on ``day``: 0 up to the start, 1 from the gate on."""
    span = (gate_date - start_date).days
    if span <= 0 or day >= gate_date:
        return 1.0
    return max(0.0, (day - start_date).days / span)


def on_track(share: float, start_date: date, gate_date: date, day: date) -> bool:
    """A reading ``share`` of the way from baseline to target (``rules.progress``) is on track on ``day`` when it is
    on or past that straight line; a reading past the target is always on track."""
    return share >= 1.0 or share >= expected_progress(start_date, gate_date, day)


@dataclass(frozen=True, slots=True)
class SpendProjection:
    """Spend so far and, at the average monthly rate, by the gate; against the budget for the whole pilot."""

    spent: float
    months_reported: int
    monthly_average: float | None
    projected_total: float | None
    budget_total: float | None
    months_to_gate: float = 0.0  # calendar months after the last reported one, up to the gate
    gate_date: date | None = None

    @property
    def over_budget(self) -> bool:
        return (
            self.projected_total is not None
            and self.budget_total is not None
            and (self.projected_total > self.budget_total)
        )


def months_between(first: date, end: date) -> float:
    """Calendar months covered by the days ``first`` (inclusive) to ``end`` (exclusive), partial months as
    fractions: 1 Jan to 1 Apr is 3.0, 16 Apr to 1 May is 0.5."""
    total = 0.0
    day = first
    while day < end:  # month by month, without building a Period each time (the report runs this for every pilot)
        days_in_month = calendar.monthrange(day.year, day.month)[1]
        next_month = date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
        stop = min(end, next_month)
        total += (stop - day).days / days_in_month
        day = stop
    return total


def total_budget(budget_monthly: float | None, start_date: date, gate_date: date) -> float | None:
    """The monthly budget over the pilot's run, from its start up to the gate day, in calendar months."""
    if budget_monthly is None:
        return None
    return budget_monthly * months_between(start_date, gate_date)


def project_spend(
    readings: Sequence[MetricReading], budget_monthly: float | None, start_date: date, gate_date: date
) -> SpendProjection:
    """Reported spend plus the average monthly spend for the months from the last reported one to the gate."""
    by_period = {r.period: r.spend for r in readings if r.spend is not None}
    budget = total_budget(budget_monthly, start_date, gate_date)
    if not by_period:
        return SpendProjection(0.0, 0, None, None, budget, gate_date=gate_date)
    spent = sum(by_period.values())
    months = len(by_period)
    average = spent / months
    after_last = max(by_period).last_day + timedelta(days=1)
    remaining = months_between(max(after_last, start_date), gate_date)
    projected = spent + average * remaining
    return SpendProjection(spent, months, average, projected, budget, remaining, gate_date)


def spend_projection(pilot: Pilot, readings: Sequence[MetricReading]) -> SpendProjection:
    return project_spend(readings, pilot.budget_monthly, pilot.start_date, pilot.gate_date)


class DriftKind(StrEnum):
    MONTH_OVER_BUDGET = "month_over_budget"  # one month spent more than the monthly budget
    PROJECTED_OVER_BUDGET = "projected_over_budget"  # the projection to the gate passes the total budget


@dataclass(frozen=True, slots=True)
class CostDrift:
    kind: DriftKind
    period: Period
    spend: float  # that month's spend
    budget_monthly: float
    projection: SpendProjection  # spend so far and by the gate, with this reading counted

    @property
    def over_by(self) -> float:
        """How far this month's spend passed the monthly budget (0 for a projected drift)."""
        return max(0.0, self.spend - self.budget_monthly)


def cost_drift(pilot: Pilot, reading: MetricReading, readings: Sequence[MetricReading]) -> CostDrift | None:
    """Drift when ``reading`` spends more than the monthly budget, or the projection to the gate passes the total
    budget; None when spend is on track or there is no budget to compare with."""
    budget = pilot.budget_monthly
    if budget is None or reading.spend is None:
        return None
    merged = {r.period: r for r in readings}
    merged[reading.period] = reading
    return drift_of(pilot, reading, spend_projection(pilot, tuple(merged.values())))


def drift_of(pilot: Pilot, reading: MetricReading, projection: SpendProjection) -> CostDrift | None:
    """``cost_drift`` for a caller that already has the spend projection with ``reading`` counted."""
    budget = pilot.budget_monthly
    if budget is None or reading.spend is None:
        return None
    if reading.spend > budget:
        return CostDrift(DriftKind.MONTH_OVER_BUDGET, reading.period, reading.spend, budget, projection)
    if projection.over_budget:
        return CostDrift(DriftKind.PROJECTED_OVER_BUDGET, reading.period, reading.spend, budget, projection)
    return None
