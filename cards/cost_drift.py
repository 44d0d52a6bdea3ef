"""The cost-drift alert in the project channel: what passed the budget, spent so far and projected by the gate."""

from __future__ import annotations

from microsoft_teams.cards import AdaptiveCard, CardElement

from cards.elements import build, facts, heading, text
from cards.pieces import cost_drift_text, money, period_label
from cards.text import plain
from cards.verbs import PILOT_STATUS, execute
from governance.model import Pilot
from governance.projections import CostDrift


def cost_drift_card(pilot: Pilot, drift: CostDrift) -> AdaptiveCard:
    """The one cost-drift alert for a period in the project channel, with spend so far and by the gate."""
    spend = drift.projection
    body: list[CardElement] = [
        heading(plain(f"Cost drift: {pilot.name}"), size="Medium"),
        text(plain(cost_drift_text(drift, pilot.gate_date.isoformat())), color="Attention"),
    ]
    if spend.projected_total is not None:
        rows = [
            ("Spent so far", money(round(spend.spent, 2))),
            ("Projected by the gate", money(round(spend.projected_total))),
        ]
        if spend.budget_total is not None:
            rows.append(("Total budget", money(round(spend.budget_total))))
        body.append(facts(rows))
    body.append(
        text(
            plain(
                f"Reported in the {period_label(drift.period)} check-in. The gate on {pilot.gate_date} will weigh it."
            ),
            subtle=True,
            spacing="Small",
        )
    )
    return build(body, [execute("Show status", PILOT_STATUS, {"pilotId": pilot.id})])
