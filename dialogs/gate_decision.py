"""The gate decision: the gate card's forms are the first step; "Record: Go" (or Narrow, Extend, Retire) the second.

The step travels in the action's data (pilot id, the gate the card is about, the kind), so a stale card, a second
press, or two people pressing at once are each answered with the truth: the decision that was recorded.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from bots.activity import base_conversation_id
from bots.turn import Reply, Turn
from cards.gate import decision_errors, decision_summary_text, gate_card
from cards.submissions import DecisionSubmission, read
from governance.errors import DeliveryFailed, GateAlreadyDecided, Undeliverable, ValidationFailed
from governance.model import Pilot
from governance.views import GateView, gate_view

logger = logging.getLogger(__name__)

STALE_CARD = "This card is incomplete. Type **status** and the pilot's name for a fresh one."


async def decide(turn: Turn, data: dict[str, Any]) -> Reply:
    try:
        submission = read(DecisionSubmission, data)
    except ValidationFailed:
        return Reply(text=STALE_CARD)
    gate = submission.gate
    if gate is None:
        return Reply(text=STALE_CARD)
    service = turn.app.pilots
    tenant_id = turn.asker.tenant_id
    pilot = await service.get(submission.pilot_id, tenant_id)
    values = submission.values
    try:
        draft = submission.to_draft()
    except ValidationFailed as exc:  # keyed by the form's input ids already
        return Reply(card=gate_card(await _view(turn, pilot, gate), None, values, exc.fields))
    try:
        pilot, decision = await service.decide(pilot.id, tenant_id, gate, draft, turn.asker.actor)
    except ValidationFailed as exc:  # keyed by decision field: show each next to its input
        errors = decision_errors(draft.kind, exc.fields)
        return Reply(card=gate_card(await _view(turn, pilot, gate), None, values, errors))
    except GateAlreadyDecided as exc:
        # The second of two presses (or a stale card): show the decision that was made.
        view = await _view(turn, await service.get(pilot.id, tenant_id), gate)
        return Reply(card=gate_card(view)) if view.decided else Reply(text=exc.message)
    summary = decision_summary_text(pilot, decision)
    await _announce(turn, pilot, summary)
    try:
        card = gate_card(await _view(turn, pilot, gate))
    except Exception:  # the decision is stored: say so, even if its card cannot be drawn
        logger.exception("could not draw the gate card of pilot %s after its decision", pilot.id)
        return Reply(text=f"Recorded. {summary}")
    await turn.replace_pressed_card(card)
    return Reply(card=card)


async def _view(turn: Turn, pilot: Pilot, gate: date) -> GateView:
    return gate_view(await turn.app.portfolio.status(pilot), gate)


async def _announce(turn: Turn, pilot: Pilot, line: str) -> None:
    """One line in the pilot's project channel: in this turn if we are there, else as a new post."""
    if pilot.channel is None:
        return
    if base_conversation_id(turn.context.activity) == pilot.channel.conversation_id:
        await turn.say(line)
        return
    target = await turn.app.conversations.get(pilot.tenant_id, pilot.channel.conversation_id)
    if target is None:
        return
    try:
        await turn.app.messenger.send(target, text=line)
    except (DeliveryFailed, Undeliverable) as exc:  # the decision is recorded; the post is news
        logger.warning("could not post the decision of pilot %s to its channel: %s", pilot.id, exc.message)
