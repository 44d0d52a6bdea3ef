"""The 90-day gate: milestone cards to the project channel (or the sponsor), and cost-drift alerts.

Which milestone is due and whether decisions are open is governance.gate's GateState; this planner only reads what
it needs and composes. The card it posts is the read-only view, with a refresh for the Teams ids ``deciders`` names
(the sponsor and the admins), who then see the decision forms (cards.gate).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from cards.cost_drift import cost_drift_card
from cards.gate import gate_card
from governance.calendars import read_tenant_country
from governance.gate import gate_state
from governance.milestones import milestone_log_key
from governance.model import Pilot
from governance.ports import DeciderIds, DecisionRepository, ReadingRepository, TenantSettingsRepository
from governance.projections import cost_drift
from governance.views import gate_view, pilot_status
from scheduler.sweep import Job, Message, Plan


def audience(pilot: Pilot) -> str:
    """Gate news goes to the project channel; without one, to the sponsor 1:1."""
    return "channel" if pilot.channel is not None else "sponsor"


class GatePlanner:
    def __init__(
        self,
        readings: ReadingRepository,
        decisions: DecisionRepository,
        finish_decision: Callable[[Pilot], Awaitable[Pilot]] | None = None,
        *,
        deciders: DeciderIds | None = None,
        tenants: TenantSettingsRepository | None = None,
    ) -> None:
        self._tenants = tenants  # the tenant's default holiday calendar: the card counts the check-ins asked so far
        self._readings = readings
        self._decisions = decisions
        self._finish_decision = finish_decision
        self._deciders = deciders

    async def __call__(self, pilot: Pilot, now: datetime) -> Plan:
        if not pilot.stage.is_active:
            return Plan((), ())
        decisions = await self._decisions.list_for(pilot.id)
        state = gate_state(pilot, decisions, now)
        if state.effects_pending and self._finish_decision is not None:
            await self._finish_decision(pilot)  # the decision's effects were never saved: carry them out now
            return Plan((), ())
        later = (state.next_milestone_at,) if state.next_milestone_at else ()
        due = state.due_milestone
        if due is None:
            return Plan((), later)
        key, _ = due

        async def compose() -> Message:
            readings = await self._readings.list_for(pilot.id)
            calendar = await read_tenant_country(pilot, self._tenants)
            view = gate_view(pilot_status(calendar, readings, decisions, now))
            deciders = await self._deciders(pilot) if self._deciders is not None else ()
            return Message(card=gate_card(view, key, refresh_for=deciders))

        return Plan((Job(milestone_log_key(pilot.gate_date, key), audience(pilot), compose),), later)


class CostDriftPlanner:
    """One alert per period when the latest reading's spend passes the monthly budget or the projection the total."""

    def __init__(self, readings: ReadingRepository) -> None:
        self._readings = readings

    async def __call__(self, pilot: Pilot, now: datetime) -> Plan:
        if pilot.budget_monthly is None or not pilot.stage.is_active:
            return Plan((), ())
        readings = await self._readings.list_for(pilot.id)
        if not readings:
            return Plan((), ())
        latest = readings[-1]
        drift = cost_drift(pilot, latest, readings)
        if drift is None:
            return Plan((), ())

        async def compose() -> Message:
            return Message(card=cost_drift_card(pilot, drift))

        return Plan((Job(f"costdrift:{latest.period}", audience(pilot), compose),), ())
