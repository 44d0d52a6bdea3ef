"""Read models: what a status card, the portfolio and `overdue` show, computed from a pilot and its history.

The monthly check-in in month M asks for the readings of the month just ended (period M-1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from governance.model import GOVERNANCE_LABELS, GateDecision, Metric, MetricReading, Pilot, Stage
from governance.rules import checkin_date, period_of, previous_period, progress, target_met

CHECKIN_GRACE_DAYS = 7


@dataclass(frozen=True, slots=True)
class MetricView:
    metric: Metric
    latest: float | None
    progress_pct: float | None
    met: bool
    trend: tuple[tuple[str, float], ...]  # (period, value), oldest first


@dataclass(frozen=True, slots=True)
class PilotStatus:
    pilot: Pilot
    today: date
    metrics: tuple[MetricView, ...]
    readings: tuple[MetricReading, ...]
    decisions: tuple[GateDecision, ...]
    days_to_gate: int
    last_checkin: MetricReading | None
    due_period: str | None  # the period whose check-in is due now, if any
    checkin_overdue_days: int  # 0 when not overdue
    gate_passed_undecided_days: int  # 0 unless the gate passed with no decision
    spend_this_period: float | None
    over_budget: bool
    active_users: int | None
    governance_gaps: tuple[str, ...]

    @property
    def primary(self) -> MetricView:
        return self.metrics[0]

    @property
    def latest_decision(self) -> GateDecision | None:
        return self.decisions[-1] if self.decisions else None

    @property
    def total_spend(self) -> float:
        return sum(r.spend or 0.0 for r in self.readings)

    @property
    def flags(self) -> tuple[str, ...]:
        out: list[str] = []
        if self.checkin_overdue_days:
            out.append(f"check-in overdue {self.checkin_overdue_days}d")
        if self.gate_passed_undecided_days:
            out.append(f"gate passed {self.gate_passed_undecided_days}d ago, no decision")
        if self.over_budget:
            out.append("over budget")
        if self.governance_gaps:
            out.append(f"{len(self.governance_gaps)} governance gap{'s' if len(self.governance_gaps) > 1 else ''}")
        return tuple(out)

    @property
    def needs_attention(self) -> bool:
        return bool(self.checkin_overdue_days or self.gate_passed_undecided_days)


def expected_period(pilot: Pilot, today: date) -> tuple[str | None, date | None]:
    """The latest period whose check-in date has come (and its check-in date), if the pilot ran in it."""
    this_checkin = checkin_date(today.year, today.month, pilot.checkin_day)
    anchor = today if today >= this_checkin else (today.replace(day=1) - timedelta(days=1))
    period = previous_period(period_of(anchor))
    asked_on = checkin_date(anchor.year, anchor.month, pilot.checkin_day)
    if period < period_of(pilot.start_date):
        return None, None
    return period, asked_on


def pilot_status(
    pilot: Pilot, readings: tuple[MetricReading, ...], decisions: tuple[GateDecision, ...], today: date
) -> PilotStatus:
    by_period = {r.period: r for r in readings}
    ordered = tuple(by_period[p] for p in sorted(by_period))
    views = []
    for metric in pilot.metrics:
        trend = tuple((r.period, r.values[metric.name]) for r in ordered if metric.name in r.values)
        latest = trend[-1][1] if trend else None
        views.append(
            MetricView(
                metric=metric,
                latest=latest,
                progress_pct=round(progress(metric, latest) * 100, 1) if latest is not None else None,
                met=latest is not None and target_met(metric, latest),
                trend=trend,
            )
        )
    active = pilot.stage.is_active
    due_period, asked_on = expected_period(pilot, today) if active else (None, None)
    overdue = 0
    if due_period and asked_on and due_period not in by_period:
        late = (today - asked_on).days
        overdue = late if late > CHECKIN_GRACE_DAYS else 0
    decided_this_gate = any(d.gate_date == pilot.gate_date for d in decisions)
    gate_days = (pilot.gate_date - today).days
    undecided = -gate_days if active and gate_days < 0 and not decided_this_gate else 0
    last = ordered[-1] if ordered else None
    spend = last.spend if last else None
    over_budget = bool(pilot.budget_monthly is not None and spend is not None and spend > pilot.budget_monthly)
    return PilotStatus(
        pilot=pilot,
        today=today,
        metrics=tuple(views),
        readings=ordered,
        decisions=decisions,
        days_to_gate=gate_days,
        last_checkin=last,
        due_period=due_period if due_period not in by_period else None,
        checkin_overdue_days=overdue,
        gate_passed_undecided_days=undecided,
        spend_this_period=spend,
        over_budget=over_budget,
        active_users=last.active_users if last else None,
        governance_gaps=tuple(GOVERNANCE_LABELS.get(g, g) for g in pilot.governance_gaps),
    )


def stage_label(stage: Stage) -> str:
    return {
        Stage.PILOT: "Pilot",
        Stage.EXTENDED: "Pilot (extended)",
        Stage.NARROWED: "Pilot (narrowed)",
        Stage.PRODUCTION: "Production",
        Stage.RETIRED: "Retired",
    }[stage]
