"""The monthly outcome report to leadership: one domain view of a tenant's portfolio for a month.

It is rendered four ways (an Adaptive Card, an HTML page, CSV, an Excel workbook) and served as JSON; every
rendering reads this view and computes nothing of its own. The figures come from the rule homes
(governance.checkin, governance.gate, governance.projections, governance.views) through PilotStatus.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from governance.model import DecisionKind, HealthStatus, Person, Stage
from governance.period import Period
from governance.views import PilotStatus


class Flag(StrEnum):
    """Why a pilot needs attention; a row may carry several."""

    LATE_CHECKIN = "late-checkin"
    PURGATORY = "purgatory"  # the gate passed without a decision
    COST_DRIFT = "cost-drift"
    GOVERNANCE_GAPS = "governance-gaps"
    LOW_ADOPTION = "low-adoption"


class RoadmapKind(StrEnum):
    GATE = "gate"
    EXPANSION = "expansion"  # a go decision's effective date
    RETIREMENT = "retirement"  # a retire decision's effective date


@dataclass(frozen=True, slots=True)
class MetricLine:
    """The primary metric: baseline -> latest -> target, and the share of the way from baseline to target."""

    name: str
    unit: str
    baseline: float
    latest: float | None
    target: float
    progress: float | None  # 0.0 at baseline, 1.0 at target; may be below 0 or above 1
    change_since_last_month: float | None
    on_track: bool | None  # latest on or past the straight line from baseline to target at the period's end
    history: tuple[tuple[Period, float], ...] = ()  # for sparklines, oldest first


@dataclass(frozen=True, slots=True)
class PilotRow:
    id: str
    name: str
    sponsor: Person
    stage: Stage
    status: HealthStatus | None  # the latest reading's status; None before the first reading
    metric: MetricLine
    checkin_due: bool  # a check-in was due for the report's period
    checkin_answered: bool
    answered_by: str  # display name of who answered the period's check-in, "" if nobody
    spend: float | None  # in the report's period
    budget: float | None  # monthly budget
    spend_to_date: float | None
    projected_spend_at_gate: float | None
    active_users: int | None
    intended_users: int | None
    gate_date: date
    days_to_gate: int  # negative once the gate has passed
    flags: tuple[Flag, ...]
    governance_gaps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PurgatoryLine:
    pilot_id: str
    pilot_name: str
    gate_date: date
    days_since: int


@dataclass(frozen=True, slots=True)
class Totals:
    pilots_by_stage: dict[Stage, int]
    checkins_due: int
    checkins_answered: int
    on_track: int
    decisions_taken: int
    gates_next_30_days: int
    purgatory: tuple[PurgatoryLine, ...]
    spend: float  # in the period, over every pilot that reported it
    budget: float  # the monthly budgets of the active pilots
    spend_to_date: float
    projected_spend_at_gates: float
    active_users: int
    intended_users: int
    open_governance_items: int
    cost_drift_alerts: int


@dataclass(frozen=True, slots=True)
class DecisionLine:
    pilot_id: str
    pilot_name: str
    kind: DecisionKind
    rationale: str
    decided_by: Person
    decided_at: datetime
    gate_date: date
    effective_date: date | None = None
    new_gate_date: date | None = None


@dataclass(frozen=True, slots=True)
class RoadmapItem:
    on: date
    kind: RoadmapKind
    pilot_id: str
    pilot_name: str


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    tenant_id: str
    period: Period
    generated_at: datetime
    totals: Totals
    pilots: tuple[PilotRow, ...]  # attention first (red, flags), then by name
    decisions: tuple[DecisionLine, ...]  # taken in the period, oldest first
    roadmap: tuple[RoadmapItem, ...]  # the next 90 days from the period's end, soonest first
    sponsor: Person | None = None  # set when the report covers one sponsor's own pilots only
    notes: tuple[str, ...] = field(default=())


# ---------------------------------------------------------------------------------------------------------------
# SEAM (branch report-delivery): a minimal stand-in for the real builder, which the `report` branch writes (every
# figure of issue 11 from the rule homes). It fills only what the card, the page and the scheduled delivery read,
# from the PilotStatus the portfolio already computes, so that they run end to end. Replace it whole on merge.
# ---------------------------------------------------------------------------------------------------------------
def build_monthly_report(
    tenant_id: str,
    period: Period,
    statuses: Sequence[PilotStatus],
    now: datetime,
    *,
    sponsor: Person | None = None,
) -> MonthlyReport:
    rows = tuple(sorted((_seam_row(status, period) for status in statuses), key=_seam_attention))
    by_stage: dict[Stage, int] = {}
    for row in rows:
        by_stage[row.stage] = by_stage.get(row.stage, 0) + 1
    totals = Totals(
        pilots_by_stage=by_stage,
        checkins_due=sum(r.checkin_due for r in rows),
        checkins_answered=sum(r.checkin_answered for r in rows),
        on_track=sum(bool(r.metric.on_track) for r in rows),
        decisions_taken=0,
        gates_next_30_days=sum(0 <= r.days_to_gate <= 30 for r in rows),
        purgatory=tuple(
            PurgatoryLine(s.pilot.id, s.pilot.name, s.pilot.gate_date, s.gate_passed_undecided_days)
            for s in statuses
            if s.gate_passed_undecided_days
        ),
        spend=sum(r.spend or 0.0 for r in rows),
        budget=sum(r.budget or 0.0 for r in rows if r.stage.is_active),
        spend_to_date=sum(r.spend_to_date or 0.0 for r in rows),
        projected_spend_at_gates=0.0,
        active_users=sum(r.active_users or 0 for r in rows),
        intended_users=sum(r.intended_users or 0 for r in rows),
        open_governance_items=sum(len(r.governance_gaps) for r in rows),
        cost_drift_alerts=sum(Flag.COST_DRIFT in r.flags for r in rows),
    )
    return MonthlyReport(tenant_id, period, now, totals, rows, (), (), sponsor=sponsor)


def _seam_row(status: PilotStatus, period: Period) -> PilotRow:
    pilot, view = status.pilot, status.primary
    reading = next((r for r in status.readings if r.period == period), None)
    history = tuple((p, v) for p, v in view.trend if p <= period)
    progress = view.progress_pct / 100 if view.progress_pct is not None else None
    flags = [Flag.LATE_CHECKIN] if status.checkin_overdue_days else []
    if status.gate_passed_undecided_days:
        flags.append(Flag.PURGATORY)
    if status.over_budget:
        flags.append(Flag.COST_DRIFT)
    if status.governance_gaps:
        flags.append(Flag.GOVERNANCE_GAPS)
    return PilotRow(
        id=pilot.id,
        name=pilot.name,
        sponsor=pilot.sponsor,
        stage=pilot.stage,
        status=status.last_checkin.status if status.last_checkin else None,
        metric=MetricLine(
            view.metric.name,
            view.metric.unit,
            view.metric.baseline,
            view.latest,
            view.metric.target,
            progress,
            history[-1][1] - history[-2][1] if len(history) > 1 else None,
            None,
            history,
        ),
        checkin_due=True,
        checkin_answered=reading is not None,
        answered_by=reading.submitted_by.name if reading else "",
        spend=reading.spend if reading else None,
        budget=pilot.budget_monthly,
        spend_to_date=status.total_spend,
        projected_spend_at_gate=None,
        active_users=status.active_users,
        intended_users=pilot.intended_users,
        gate_date=pilot.gate_date,
        days_to_gate=status.days_to_gate,
        flags=tuple(flags),
        governance_gaps=status.governance_gaps,
    )


def _seam_attention(row: PilotRow) -> tuple[bool, int, str]:
    return row.status is not HealthStatus.RED and not row.flags, -len(row.flags), row.name.casefold()
