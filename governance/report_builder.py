"""Builds the monthly outcome report (governance.report) for a tenant and a month from its pilots' statuses.

The report describes the portfolio *as at the end of the month* (its ``as_of`` day, or today for the month in
progress), so that November's report reads the same in December as on the day it went out:

- each pilot is taken as it stood then (``decisions.pilot_as_of`` undoes later decisions) with the readings up to
  that month and the decisions up to then, and ``views.pilot_status`` is evaluated at that moment: gate state, days
  to gate, purgatory, the metric's latest value and trend all come from their rule homes as they stood;
- except the month's own check-in, which is sent in the following month: whether it is due, answered (and by whom)
  or late is read at ``now`` (``governance.checkin``);
- "on track" is ``projections.on_track`` on the as-of day; spend to date and the projection to the gate are
  ``projections.spend_projection``, and cost drift of the month's reading is judged on that same projection
  (``projections.drift_of``, what ``cost_drift`` and so the scheduler's alert use); low adoption is
  ``rules.low_adoption``;
- gates in the next 30 days and the roadmap (gates, expansion dates of go decisions, retirement dates) count the
  days after the as-of day.

Which pilots are in it: those that had started by the end of the month and were not retired before it began.
Draft initiatives (no metric or gate yet) are counted by stage but not listed.
The month's spend is every listed pilot's; the budget it is set against, the users and the governance items are
those of the pilots in use (in a pilot stage or in production); the projection to the gates only of the pilots
still in a pilot stage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, Protocol

from governance.checkin import checkin_due_at, escalation_due_at, is_checkin_period
from governance.decisions import pilot_as_of, retirement_date
from governance.localtime import local_date, local_send_time
from governance.model import DecisionKind, GateDecision, HealthStatus, Person, Pilot, Stage
from governance.period import Period
from governance.ports import Clock, QuarterlyAuditRepository, TenantSettingsRepository
from governance.projections import drift_of, on_track, spend_projection
from governance.quarterly_audit import AuditStatus, QuarterlyAudit, summary_of
from governance.report import (
    AuditDecisionLine,
    AuditOutcome,
    DecisionLine,
    Flag,
    MetricLine,
    MonthlyReport,
    PilotRow,
    PurgatoryLine,
    RoadmapItem,
    RoadmapKind,
    Totals,
)
from governance.rules import low_adoption, name_key, progress
from governance.views import PilotStatus, pilot_status

GATES_SOON_DAYS: Final = 30
ROADMAP_DAYS: Final = 90
HISTORY_MONTHS: Final = 12  # readings kept per row for its sparkline
_ROADMAP_KINDS: Final = {DecisionKind.GO: RoadmapKind.EXPANSION, DecisionKind.RETIRE: RoadmapKind.RETIREMENT}


class StatusSource(Protocol):
    """Where the report reads a tenant's pilot statuses: governance.portfolio.Portfolio, from the per-pilot summaries
    (one query per tenant)."""

    async def statuses(self, tenant_id: str) -> list[PilotStatus]: ...


class MonthlyReports:
    """The use case every caller of the report goes through (REST, the signed page, the card and its delivery).

    With ``audits``, a whole-portfolio report also carries the outcome of the quarterly audit that closed in its
    month (one read of the tenant's audits per report, whatever the number of pilots).
    """

    def __init__(
        self,
        source: StatusSource,
        tenants: TenantSettingsRepository,
        clock: Clock,
        audits: QuarterlyAuditRepository | None = None,
    ) -> None:
        self._source = source
        self._tenants = tenants
        self._clock = clock
        self._audits = audits

    async def default_period(self, tenant_id: str) -> Period:
        """The previous month in the tenant's report time zone."""
        settings = await self._tenants.get(tenant_id)
        return default_report_period(self._clock.now(), settings.report_timezone)

    async def monthly(
        self, tenant_id: str, period: Period | None = None, sponsor: Person | None = None
    ) -> MonthlyReport:
        """The report of ``period`` (default: the previous month); with ``sponsor``, of their own pilots only."""
        settings = await self._tenants.get(tenant_id)
        month = period or default_report_period(self._clock.now(), settings.report_timezone)
        statuses = await self._source.statuses(tenant_id)
        audit = None
        if sponsor is None and self._audits is not None:  # the audit's counts are the whole portfolio's
            closed = audit_closed_in(await self._audits.list_for(tenant_id), month, settings.report_timezone)
            audit = audit_outcome(closed, settings.report_timezone) if closed is not None else None
        return build_monthly_report(
            statuses, month, self._clock.now(), tenant_id=tenant_id, sponsor=sponsor, audit=audit
        )


def default_report_period(now: datetime, timezone: str = "UTC") -> Period:
    """The month a report is for when none is named: the previous month in the tenant's report time zone."""
    return Period.of(local_date(now, timezone)).previous


def audit_closed_in(audits: Iterable[QuarterlyAudit], period: Period, timezone: str) -> QuarterlyAudit | None:
    """The newest audit that closed in ``period`` (its month in the tenant's report time zone), if any.

    The report of the month an audit closed in is the first one sent after it (on a business day of the next
    month), and the month whose decisions list the gate decisions closing recorded; keying on the month rather than
    on "the latest closed audit" keeps an old month's report the same when it is read again after a later audit.
    """
    for audit in audits:  # newest quarter first
        closed_at = audit.closed_at if audit.status is AuditStatus.CLOSED else None
        if closed_at is not None and Period.of(local_date(closed_at, timezone)) == period:
            return audit
    return None


def audit_outcome(audit: QuarterlyAudit, timezone: str) -> AuditOutcome:
    """The report's view of a closed audit: ``quarterly_audit.summary_of``'s counts and each decision's date."""
    summary = summary_of(audit)
    assert audit.closed_at is not None, "only a closed audit has an outcome"
    lines = sorted(
        (
            AuditDecisionLine(item.pilot_id, item.name, item.decision.recommendation, item.decision.on, item.outcome)
            for item in audit.items
            if item.decision is not None
        ),
        key=lambda line: (line.on, name_key(line.pilot_name), line.pilot_id),
    )
    return AuditOutcome(
        audit_id=audit.id,
        quarter=summary.quarter,
        closed_on=local_date(audit.closed_at, timezone),
        initiatives=summary.initiatives,
        attested=summary.attested,
        missing=summary.initiatives - summary.attested,
        gaps=summary.gaps,
        decisions=summary.decisions,
        decision_lines=tuple(lines),
    )


def period_end(period: Period, timezone: str) -> datetime:
    """The last instant of ``period`` in ``timezone`` (UTC): local midnight starting the next month, less 1 µs."""
    return local_send_time(period.next.first_day, timezone, hour=0) - timedelta(microseconds=1)


def report_as_of(period: Period, now: datetime) -> date:
    """The day the report describes: the month's last day, or today (UTC) while the month is still running."""
    return min(period.last_day, now.astimezone(UTC).date())


@dataclass(frozen=True, slots=True)
class _Entry:
    """One pilot's part in the report: its row, what it adds to the totals, its decisions and roadmap items."""

    row: PilotRow
    live: bool  # in a pilot stage at the as-of moment
    decisions: tuple[DecisionLine, ...]
    roadmap: tuple[RoadmapItem, ...]
    purgatory: PurgatoryLine | None


def build_monthly_report(
    statuses: Iterable[PilotStatus],
    period: Period,
    now: datetime,
    *,
    tenant_id: str,
    sponsor: Person | None = None,
    audit: AuditOutcome | None = None,
) -> MonthlyReport:
    """The report of ``period`` for the tenant whose pilots' ``statuses`` (as read at ``now``) are given; with
    ``sponsor``, only that sponsor's own pilots (by Entra object id)."""
    if sponsor is not None:
        wanted = sponsor.aad_object_id.lower()
        statuses = [s for s in statuses if s.pilot.sponsor.aad_object_id.lower() == wanted]
        if not sponsor.name and statuses:  # known by id only (a signed link): named as their pilots name them
            sponsor = statuses[0].pilot.sponsor
    statuses = list(statuses)
    entries = [entry for status in statuses if (entry := _entry(status, period, now)) is not None]
    drafts = sum(1 for status in statuses if status.pilot.is_draft)
    rows = tuple(sorted((e.row for e in entries), key=_attention_first))
    decisions = tuple(sorted((d for e in entries for d in e.decisions), key=lambda d: (d.decided_at, d.pilot_name)))
    roadmap = tuple(
        sorted((i for e in entries for i in e.roadmap), key=lambda i: (i.on, i.kind.value, name_key(i.pilot_name)))
    )
    return MonthlyReport(
        tenant_id=tenant_id,
        period=period,
        generated_at=now,
        totals=_totals(entries, len(decisions), drafts),
        pilots=rows,
        decisions=decisions,
        roadmap=roadmap,
        sponsor=sponsor,
        as_of=report_as_of(period, now),
        audit=audit,
    )


def _attention_first(row: PilotRow) -> tuple[int, str, str]:
    """Red first, then pilots with a flag, then the rest; by name within each."""
    rank = 0 if row.status is HealthStatus.RED else 1 if row.flags else 2
    return rank, name_key(row.name), row.id


def _entry(status: PilotStatus, period: Period, now: datetime) -> _Entry | None:
    current = status.pilot
    if current.is_draft or Period.of(current.start_date) > period:
        return None  # a draft initiative has no metric or gate yet: counted by stage, not listed
    cut = min(now, period_end(period, current.timezone))
    decisions = tuple(d for d in status.decisions if d.decided_at <= cut)
    readings = tuple(r for r in status.readings if r.period <= period)
    at = pilot_status(pilot_as_of(current, status.decisions, cut), readings, decisions, cut)
    pilot = at.pilot
    retired_on = retirement_date(decisions)
    if pilot.stage is Stage.RETIRED and (retired_on or local_date(cut, pilot.timezone)) < period.first_day:
        return None
    reading = next((r for r in reversed(readings) if r.period == period), None)
    live = pilot.stage.is_active
    in_use = live or pilot.stage is Stage.PRODUCTION
    hold = current.hold_for(period)
    skipped = reading is None and hold is not None and hold.skipped  # the sponsor said there is nothing to report
    asked = is_checkin_period(pilot, period, retired_on=retired_on) and checkin_due_at(pilot, period) <= now
    checkin_due = asked and not skipped
    sent_at = status.checkin.sent_at if status.checkin.period == period else None
    late = checkin_due and reading is None and escalation_due_at(pilot, period, sent_at) <= now
    spend = spend_projection(pilot, readings)
    drift = live and reading is not None and drift_of(pilot, reading, spend) is not None  # reading is in readings
    gaps = pilot.governance_gaps if in_use else ()
    adoption_low = in_use and low_adoption(at.active_users, pilot.intended_users)
    purgatory_days = at.gate_passed_undecided_days
    flags = tuple(
        flag
        for flag, raised in (
            (Flag.LATE_CHECKIN, late),
            (Flag.PURGATORY, purgatory_days > 0),
            (Flag.COST_DRIFT, drift),
            (Flag.GOVERNANCE_GAPS, bool(gaps)),
            (Flag.LOW_ADOPTION, adoption_low),
            (Flag.WORKFLOW_GAP, in_use and pilot.workflow_gap),
        )
        if raised
    )
    row = PilotRow(
        id=pilot.id,
        name=pilot.name,
        sponsor=pilot.sponsor,
        stage=pilot.stage,
        status=at.last_checkin.status if at.last_checkin else None,
        metric=_metric_line(at, period),
        checkin_due=checkin_due,
        checkin_answered=reading is not None,
        answered_by=reading.submitted_by.name if reading is not None else "",
        spend=reading.spend if reading is not None else None,
        budget=pilot.budget_monthly,
        spend_to_date=spend.spent if spend.months_reported else None,
        projected_spend_at_gate=_cents(spend.projected_total) if live else None,
        active_users=at.active_users,
        intended_users=pilot.intended_users,
        gate_date=pilot.gate_date,
        days_to_gate=at.days_to_gate,
        flags=flags,
        governance_gaps=gaps,
        answered_at=reading.submitted_at if reading is not None else None,
        reading_period=at.last_checkin.period if at.last_checkin else None,
        checkin_skipped=asked and skipped,
    )
    purgatory = PurgatoryLine(pilot.id, pilot.name, pilot.gate_date, purgatory_days) if purgatory_days else None
    return _Entry(
        row=row,
        live=live,
        decisions=tuple(_decision_line(pilot, d) for d in decisions if _decided_in(pilot, d, period)),
        roadmap=_roadmap(pilot, decisions, at.today),
        purgatory=purgatory,
    )


def _decided_in(pilot: Pilot, decision: GateDecision, period: Period) -> bool:
    return Period.of(local_date(decision.decided_at, pilot.timezone)) == period


def _metric_line(at: PilotStatus, period: Period) -> MetricLine:
    view = at.primary
    metric = view.metric
    values = dict(view.trend)
    latest = view.latest
    share = progress(metric, latest) if latest is not None else None
    shown = view.progress_pct / 100 if view.progress_pct is not None else None  # as the status card rounds it
    this_month, last_month = values.get(period), values.get(period.previous)
    tracked = None
    if share is not None and at.pilot.stage is not Stage.RETIRED:
        tracked = on_track(share, at.pilot.start_date, at.pilot.gate_date, at.today)
    return MetricLine(
        name=metric.name,
        unit=metric.unit,
        baseline=metric.baseline,
        latest=latest,
        target=metric.target,
        progress=shown,
        change_since_last_month=this_month - last_month if this_month is not None and last_month is not None else None,
        on_track=tracked,
        history=view.trend[-HISTORY_MONTHS:],
    )


def _decision_line(pilot: Pilot, decision: GateDecision) -> DecisionLine:
    return DecisionLine(
        pilot_id=pilot.id,
        pilot_name=pilot.name,
        kind=decision.kind,
        rationale=decision.rationale,
        decided_by=decision.decided_by,
        decided_at=decision.decided_at,
        gate_date=decision.gate_date,
        effective_date=decision.effective_date,
        new_gate_date=decision.new_gate_date,
    )


def _roadmap(pilot: Pilot, decisions: tuple[GateDecision, ...], as_of: date) -> tuple[RoadmapItem, ...]:
    """The pilot's dated events in the ``ROADMAP_DAYS`` after ``as_of``: its gate while it is a pilot, and the
    effective dates of its go and retire decisions."""
    last = as_of + timedelta(days=ROADMAP_DAYS)
    items: list[RoadmapItem] = []
    if pilot.stage.is_active and as_of < pilot.gate_date <= last:
        items.append(RoadmapItem(pilot.gate_date, RoadmapKind.GATE, pilot.id, pilot.name))
    for decision in decisions:
        kind = _ROADMAP_KINDS.get(decision.kind)
        day = decision.effective_date
        if kind is not None and day is not None and as_of < day <= last:
            items.append(RoadmapItem(day, kind, pilot.id, pilot.name))
    return tuple(items)


def _cents(amount: float | None) -> float | None:
    return round(amount, 2) if amount is not None else None


def _totals(entries: list[_Entry], decisions_taken: int, drafts: int) -> Totals:
    rows = [e.row for e in entries]
    live = [e.row for e in entries if e.live]
    in_use = [e.row for e in entries if e.live or e.row.stage is Stage.PRODUCTION]
    stages = Counter(row.stage for row in rows) + Counter({Stage.DRAFT: drafts})
    with_users = [row for row in in_use if row.active_users is not None and row.intended_users]
    return Totals(
        pilots_by_stage={stage: stages.get(stage, 0) for stage in Stage},
        checkins_due=sum(row.checkin_due for row in rows),
        checkins_answered=sum(row.checkin_due and row.checkin_answered for row in rows),
        on_track=sum(row.metric.on_track is True for row in rows),
        decisions_taken=decisions_taken,
        gates_next_30_days=sum(1 for row in live if 0 < row.days_to_gate <= GATES_SOON_DAYS),
        purgatory=tuple(
            sorted((e.purgatory for e in entries if e.purgatory), key=lambda p: (-p.days_since, name_key(p.pilot_name)))
        ),
        spend=round(sum(row.spend for row in rows if row.spend is not None), 2),
        budget=round(sum(row.budget for row in in_use if row.budget is not None), 2),
        spend_to_date=round(sum(row.spend_to_date for row in rows if row.spend_to_date is not None), 2),
        projected_spend_at_gates=round(
            sum(row.projected_spend_at_gate for row in live if row.projected_spend_at_gate), 2
        ),
        active_users=sum(row.active_users or 0 for row in with_users),
        intended_users=sum(row.intended_users or 0 for row in with_users),
        open_governance_items=sum(len(row.governance_gaps) for row in in_use),
        cost_drift_alerts=sum(Flag.COST_DRIFT in row.flags for row in rows),
        tracked=sum(row.metric.on_track is not None for row in rows),
    )
