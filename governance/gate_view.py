"""What a gate card needs, computed once from a pilot and its history (used by the sweep and the bot)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from governance.gate import Projection, SpendProjection, project_metric, project_spend
from governance.model import GateDecision, MetricReading, Pilot
from governance.views import PilotStatus, pilot_status


@dataclass(frozen=True, slots=True)
class GateView:
    status: PilotStatus
    projection: Projection
    spend: SpendProjection
    decided: GateDecision | None  # the decision on the pilot's current gate, if any

    @property
    def decision_enabled(self) -> bool:
        """Decision actions from the gate day on, while undecided."""
        return self.decided is None and self.status.days_to_gate <= 0 and self.status.pilot.stage.is_active


def gate_view(
    pilot: Pilot,
    readings: tuple[MetricReading, ...],
    decisions: tuple[GateDecision, ...],
    today: date,
    *,
    decided_gate: date | None = None,
) -> GateView:
    """``decided_gate`` picks the decision to show (the gate a card was about); default the current gate."""
    status = pilot_status(pilot, readings, decisions, today)
    gate = decided_gate or pilot.gate_date
    decided = next((d for d in reversed(decisions) if d.gate_date == gate), None)
    return GateView(
        status=status,
        projection=project_metric(list(status.primary.trend), pilot.gate_date),
        spend=project_spend(list(status.readings), pilot.budget_monthly, pilot.start_date, pilot.gate_date),
        decided=decided,
    )
