"""The one gate state: whether the current gate is decided, whether decisions are open, which milestone is due.

The views, the scheduler, the bot and the REST API all read ``GateState``; none computes these again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from governance.decisions import gate_set_on
from governance.localtime import local_date
from governance.milestones import Milestone, due_milestone_at, next_milestone_at
from governance.model import GateDecision, Pilot


@dataclass(frozen=True, slots=True)
class GateState:
    pilot: Pilot
    now: datetime
    decisions: tuple[GateDecision, ...]  # every decision of the pilot, oldest first

    @property
    def today(self) -> date:
        """The pilot's local date."""
        return local_date(self.now, self.pilot.timezone)

    @property
    def days_to_gate(self) -> int:
        return (self.pilot.gate_date - self.today).days

    @property
    def decision(self) -> GateDecision | None:
        """The decision recorded on the pilot's current gate, if any."""
        return self.decision_on(self.pilot.gate_date)

    def decision_on(self, gate: date) -> GateDecision | None:
        return next((d for d in reversed(self.decisions) if d.gate_date == gate), None)

    @property
    def decided(self) -> bool:
        return self.decision is not None

    @property
    def decisions_open(self) -> bool:
        """Go/narrow/extend/retire can be recorded: from the gate day on, while undecided and still a pilot."""
        return not self.decided and self.pilot.stage.is_active and self.days_to_gate <= 0

    @property
    def purgatory_days(self) -> int:
        """Days since the gate passed with no decision (pilot purgatory); 0 otherwise."""
        if self.decided or not self.pilot.stage.is_active or self.days_to_gate >= 0:
            return 0
        return -self.days_to_gate

    @property
    def effects_pending(self) -> bool:
        """Decided, but the pilot is still in a pilot stage: the decision's effects were never saved."""
        return self.decided and self.pilot.stage.is_active

    @property
    def due_milestone(self) -> Milestone | None:
        """The one gate card to post now, if any (see governance.milestones)."""
        gate_set = gate_set_on(self.pilot, self.decisions)
        return due_milestone_at(self.pilot, self.decided, self.now, gate_set_on=gate_set)

    @property
    def next_milestone_at(self) -> datetime | None:
        return next_milestone_at(self.pilot, self.decided, self.now)


def gate_state(pilot: Pilot, decisions: Sequence[GateDecision], now: datetime) -> GateState:
    return GateState(pilot, now, tuple(sorted(decisions, key=lambda d: d.decided_at)))
