"""The 90-day gate: milestone cards to the project channel (or the sponsor), and cost-drift alerts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from cards.gate import cost_drift_card, gate_card
from governance.gate import (
    cost_drift,
    due_milestone_at,
    gate_set_on,
    is_decided,
    milestone_log_key,
    milestone_offset,
    next_milestone_at,
)
from governance.gate_view import gate_view
from governance.model import Pilot
from governance.ports import DecisionRepository, ReadingRepository
from governance.rules import local_date
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
    ) -> None:
        self._readings = readings
        self._decisions = decisions
        self._finish_decision = finish_decision

    async def __call__(self, pilot: Pilot, now: datetime) -> Plan:
        if not pilot.stage.is_active:
            return Plan((), ())
        decisions = tuple(await self._decisions.list_for(pilot.id))
        decided = is_decided(pilot, decisions)
        if decided and self._finish_decision is not None:
            # Decided but still in a pilot stage: the decision's effects were never saved. Carry them out now.
            await self._finish_decision(pilot)
            return Plan((), ())
        later = next_milestone_at(pilot, decided, now)
        due = due_milestone_at(pilot, decided, now, gate_set_on=gate_set_on(pilot, decisions))
        if due is None:
            return Plan((), (later,) if later else ())
        key, _ = due

        async def compose() -> Message:
            readings = tuple(await self._readings.list_for(pilot.id))
            view = gate_view(pilot, readings, decisions, local_date(now, pilot.timezone))
            enabled = milestone_offset(key) >= 0 and view.decided is None
            card = gate_card(view.status, view.projection, view.spend, key, enabled, view.decided, {}, {})
            return Message(card=card)

        job = Job(milestone_log_key(pilot.gate_date, key), audience(pilot), compose)
        return Plan((job,), (later,) if later else ())


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
        reason = cost_drift(pilot, latest, readings)
        if reason is None:
            return Plan((), ())

        async def compose() -> Message:
            return Message(card=cost_drift_card(pilot, latest.period, reason))

        return Plan((Job(f"costdrift:{latest.period}", audience(pilot), compose),), ())
