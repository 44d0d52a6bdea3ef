"""The monthly outcome report to leadership: one domain view of a tenant's portfolio for a month.

It is rendered four ways (an Adaptive Card, an HTML page, CSV, an Excel workbook) and served as JSON; every
rendering reads this view and computes nothing of its own. The figures come from the rule homes
(governance.checkin, governance.gate, governance.projections, governance.views) through PilotStatus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from governance.model import DecisionKind, HealthStatus, Person, Stage
from governance.period import Period
from governance.quarterly_audit import Gap, Outcome, Recommendation


class Flag(StrEnum):
    """Why a pilot needs attention; a row may carry several."""

    LATE_CHECKIN = "late-checkin"
    PURGATORY = "purgatory"  # the gate passed without a decision
    COST_DRIFT = "cost-drift"
    GOVERNANCE_GAPS = "governance-gaps"
    LOW_ADOPTION = "low-adoption"
    WORKFLOW_GAP = "workflow-gap"  # standalone, or not integrated where its users work (Pilot.workflow_gap)


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
    answered_at: datetime | None = None  # when the period's check-in was answered
    reading_period: Period | None = None  # the month of the latest reading (``status``, ``metric.latest``)
    checkin_skipped: bool = False  # the sponsor skipped the period's check-in (then it is neither due nor late)


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
    budget: float  # the monthly budgets of the pilots in use (pilot stages and production)
    spend_to_date: float
    projected_spend_at_gates: float
    active_users: int
    intended_users: int
    open_governance_items: int
    cost_drift_alerts: int
    tracked: int = 0  # pilots with a reading that "on track" is judged for (on_track counts of these)


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
class AuditDecisionLine:
    """One initiative's decision as the quarterly audit recorded it on closing."""

    pilot_id: str
    pilot_name: str
    recommendation: Recommendation
    on: date  # the expansion, new gate or retirement date
    outcome: Outcome | None  # what closing did with it (recorded, decided at the gate meanwhile, ...)


@dataclass(frozen=True, slots=True)
class AuditOutcome:
    """The quarterly audit that closed in the report's month: its counts (``quarterly_audit.summary_of``) and its
    decisions with their dates."""

    audit_id: str
    quarter: str
    closed_on: date  # in the tenant's report time zone
    initiatives: int
    attested: int
    missing: int  # initiatives whose sponsor did not attest
    gaps: dict[Gap, int]  # in the order of Gap; gaps nobody had are left out
    decisions: dict[Recommendation, int]  # by kind
    decision_lines: tuple[AuditDecisionLine, ...] = ()  # by date, then name


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
    as_of: date | None = None  # the day the figures describe: the period's last day, or today while it runs
    audit: AuditOutcome | None = None  # the quarterly audit closed in this month (whole-portfolio reports only)
