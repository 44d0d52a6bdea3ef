"""The gate decision: the gate card's forms are the first step; "Record: Go" (or Narrow, Extend, Retire) the second.

The step travels in the action's data (pilot id, the gate the card is about, the kind), so a stale card, a second
press, or two people pressing at once are each answered with the truth: the decision that was recorded.

The forms reach only those who may decide: the posted card is read-only, and ``show_gate`` (verb ``gate.view``)
answers each person's view of it, either because Teams refreshes the card for them as it is shown (the sponsor and
the admins) or because they pressed its Decide button. ``decide`` checks who presses all the same.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from bots.activity import base_conversation_id
from bots.turn import STALE_CARD_REPLY, Reply, Turn
from cards.decision import decision_errors, decision_summary_text
from cards.gate import gate_card
from cards.submissions import DecisionSubmission, GateRef, read
from governance.errors import DeliveryFailed, GateAlreadyDecided, NotPilotOwner, Undeliverable, ValidationFailed
from governance.model import Pilot
from governance.services import may_change
from governance.views import GateView, gate_view

logger = logging.getLogger(__name__)


async def show_gate(turn: Turn, data: dict[str, Any]) -> Reply:
    """The asker's view of a gate card: the decision forms to the sponsor and the admins while decisions are open,
    the read-only view to anyone else, the recorded decision to everyone once decided. A press of Decide by someone
    who may not decide is refused in one line; an automatic refresh never is (it answers the read-only view).
    Writes nothing."""
    try:
        ref = read(GateRef, data)
    except ValidationFailed:
        return Reply(text=STALE_CARD_REPLY)
    gate = ref.gate
    if gate is None:
        return Reply(text=STALE_CARD_REPLY)
    pilot = await turn.app.pilots.get(ref.pilot_id, turn.asker.tenant_id)
    view = await _view(turn, pilot, gate)
    if view.decided is not None:
        return Reply(card=gate_card(view))
    may_decide = may_change(pilot, turn.asker.actor)
    if view.decisions_open and not may_decide and not turn.automatic:
        raise NotPilotOwner("decide this gate")
    # The answer keeps the refresh, so the card stays current for the deciders each time they look at it.
    deciders = await turn.app.deciders(pilot)
    return Reply(card=gate_card(view, may_decide=may_decide, refresh_for=deciders))


async def decide(turn: Turn, data: dict[str, Any]) -> Reply:
    try:
        submission = read(DecisionSubmission, data)
    except ValidationFailed:
        return Reply(text=STALE_CARD_REPLY)
    gate = submission.gate
    if gate is None:
        return Reply(text=STALE_CARD_REPLY)
    service = turn.app.pilots
    tenant_id = turn.asker.tenant_id
    pilot = await service.get(submission.pilot_id, tenant_id)
    if not may_change(pilot, turn.asker.actor):  # before anything is shown back: the forms are for deciders only
        raise NotPilotOwner("decide this gate")
    values = submission.values
    try:
        draft = submission.to_draft()
    except ValidationFailed as exc:  # keyed by the form's input ids already
        view = await _view(turn, pilot, gate)
        return Reply(card=gate_card(view, None, values, exc.fields, may_decide=True))
    try:
        pilot, decision = await service.decide(pilot.id, tenant_id, gate, draft, turn.asker.actor)
    except ValidationFailed as exc:  # keyed by decision field: show each next to its input
        errors = decision_errors(draft.kind, exc.fields)
        return Reply(card=gate_card(await _view(turn, pilot, gate), None, values, errors, may_decide=True))
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
