"""Read models: what a status card, a gate card, the portfolio and `overdue` show, from a pilot and its history.

They combine the rule homes (governance.checkin, governance.gate, governance.projections); nothing is computed here
that one of those already knows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from governance.calendars import with_tenant_country
from governance.checkin import CheckinState, checkin_log_key, checkin_state
from governance.corrections import correctable_periods
from governance.decisions import retirement_date
from governance.gate import GateState, gate_state
from governance.lead import checkin_audiences
from governance.model import GateDecision, Metric, MetricReading, Pilot, SendRecord, SendStatus
from governance.period import Period
from governance.projections import Projection, SpendProjection, project_metric, spend_projection
from governance.rules import name_key, progress, target_met


@dataclass(frozen=True, slots=True)
class MetricView:
    metric: Metric
    latest: float | None
    progress_pct: float | None
    met: bool
    trend: tuple[tuple[Period, float], ...]  # (period, value), oldest first
    latest_corrected: bool = False  # the latest value was corrected after it was first sent


@dataclass(frozen=True, slots=True)
class PilotStatus:
    pilot: Pilot
    metrics: tuple[MetricView, ...]
    readings: tuple[MetricReading, ...]  # one per period, oldest first
    decisions: tuple[GateDecision, ...]
    checkin: CheckinState
    gate: GateState

    @property
    def today(self) -> date:
        return self.gate.today

    @property
    def primary(self) -> MetricView:
        return self.metrics[0]

    @property
    def latest_decision(self) -> GateDecision | None:
        return self.decisions[-1] if self.decisions else None

    @property
    def last_checkin(self) -> MetricReading | None:
        return self.readings[-1] if self.readings else None

    @property
    def days_to_gate(self) -> int:
        return self.gate.days_to_gate

    @property
    def due_period(self) -> Period | None:
        """The period whose check-in is open (due and unanswered), if any."""
        return self.checkin.period if self.checkin.open else None

    @property
    def checkin_overdue_days(self) -> int:
        return self.checkin.overdue_days

    @property
    def gate_passed_undecided_days(self) -> int:
        return self.gate.purgatory_days

    @property
    def spend_this_period(self) -> float | None:
        return self.last_checkin.spend if self.last_checkin else None

    @property
    def over_budget(self) -> bool:
        spend, budget = self.spend_this_period, self.pilot.budget_monthly
        return budget is not None and spend is not None and spend > budget

    @property
    def active_users(self) -> int | None:
        return self.last_checkin.active_users if self.last_checkin else None

    @property
    def total_spend(self) -> float:
        return sum(r.spend or 0.0 for r in self.readings)

    @property
    def governance_gaps(self) -> tuple[str, ...]:
        return self.pilot.governance_gaps

    @property
    def correctable(self) -> dict[Period, MetricReading | None]:
        """The months that can still be corrected (governance.corrections), latest first, with their readings."""
        by_period = {r.period: r for r in self.readings}
        return {period: by_period.get(period) for period in correctable_periods(self.pilot, self.today)}

    @property
    def needs_attention(self) -> bool:
        return bool(self.checkin_overdue_days or self.gate_passed_undecided_days)


def attention_first(status: PilotStatus) -> tuple[bool, str, str]:
    """The order pilots are listed in: those needing attention first, then by name."""
    return not status.needs_attention, name_key(status.pilot.name), status.pilot.id


def pilot_status(
    pilot: Pilot,
    readings: Sequence[MetricReading],
    decisions: Sequence[GateDecision],
    now: datetime,
) -> PilotStatus:
    """The status at ``now``; when the due check-in card really went out is the send-log's, which
    governance.portfolio adds (``checkin.sent_at``)."""
    by_period = {r.period: r for r in readings}
    ordered = tuple(by_period[p] for p in sorted(by_period))
    views = []
    for metric in pilot.metrics:
        with_value = [r for r in ordered if metric.name in r.values]
        trend = tuple((r.period, r.values[metric.name]) for r in with_value)
        latest = trend[-1][1] if trend else None
        views.append(
            MetricView(
                metric=metric,
                latest=latest,
                progress_pct=round(progress(metric, latest) * 100, 1) if latest is not None else None,
                met=latest is not None and target_met(metric, latest),
                trend=trend,
                latest_corrected=bool(with_value) and with_value[-1].corrected,
            )
        )
    gate = gate_state(pilot, decisions, now)
    checkin = checkin_state(pilot, now, by_period, retired_on=retirement_date(gate.decisions))
    return PilotStatus(pilot, tuple(views), ordered, gate.decisions, checkin, gate)


def with_checkin_sent(status: PilotStatus, sent: SendRecord | None) -> PilotStatus:
    """Nudges and "overdue" count from the day the due check-in card really went out (the send-log's record of
    it), as the scheduler does."""
    if status.due_period is None or sent is None or sent.status is not SendStatus.SENT or sent.sent_at is None:
        return status
    return dataclasses.replace(status, checkin=dataclasses.replace(status.checkin, sent_at=sent.sent_at))


@dataclass(frozen=True, slots=True)
class PilotFacts:
    """What a pilot's status is built from: the pilot, its readings and decisions, and the send-log's records of its
    recent check-in cards. The per-pilot summary (storage.summaries) keeps these, not answers, so that a status built
    from it at any moment is the one ``pilot_status`` gives at that moment."""

    pilot: Pilot
    readings: tuple[MetricReading, ...]
    decisions: tuple[GateDecision, ...]
    checkins: tuple[SendRecord, ...]  # keyed by governance.checkin.checkin_log_key

    def checkin_sent(self, period: Period) -> SendRecord | None:
        """The record of the period's card to the first recipient (the sponsor, or the lead instead), whose sending
        starts the nudges' count."""
        key = checkin_log_key(period, checkin_audiences(self.pilot)[0])
        return next((record for record in self.checkins if record.key == key), None)


def status_of(facts: PilotFacts, now: datetime, default_country: str | None = None) -> PilotStatus:
    """``default_country``: the tenant's holiday calendar, for a pilot that names no country of its own."""
    pilot = with_tenant_country(facts.pilot, default_country) if facts.pilot.country is None else facts.pilot
    status = pilot_status(pilot, facts.readings, facts.decisions, now)
    return status if status.due_period is None else with_checkin_sent(status, facts.checkin_sent(status.due_period))


@dataclass(frozen=True, slots=True)
class GateView:
    """What a gate card shows: the status, where metric and spend are heading, and the decision it is about."""

    status: PilotStatus
    projection: Projection
    spend: SpendProjection
    gate: date  # the gate the card is about (a card for an earlier gate shows that gate's decision)

    @property
    def decided(self) -> GateDecision | None:
        return self.status.gate.decision_on(self.gate)

    @property
    def decisions_open(self) -> bool:
        return self.gate == self.status.pilot.gate_date and self.status.gate.decisions_open


def gate_view(status: PilotStatus, gate: date | None = None) -> GateView:
    pilot = status.pilot
    return GateView(
        status=status,
        projection=project_metric(status.primary.trend, pilot.gate_date),
        spend=spend_projection(pilot, status.readings),
        gate=gate or pilot.gate_date,
    )
