"""Card actions, routed by verb through one table. Each handler reads its card's data through one submission
model (cards.submissions) and answers with a Reply; the server checks who pressed on every action.

The ``*.view`` verbs answer a card's ``refresh``: Teams sends them by itself (``trigger: "automatic"``) whenever the
card is shown, so they only read: no conversation state, no record."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from bots.activity import CardAction
from bots.turn import STALE_CARD_REPLY, Reply, Turn, friendly
from cards import verbs
from cards.checkin import (
    checkin_card,
    checkin_summary_card,
    checkin_superseded_card,
)
from cards.checkin_holds import checkin_away_card, checkin_skip_card, checkin_skipped_card
from cards.portfolio import portfolio_card
from cards.status import status_card
from cards.submissions import (
    CheckinHoldRequest,
    CheckinRef,
    CheckinSubmission,
    PageRequest,
    PilotRef,
    checkin_errors,
    read,
)
from dialogs import quarterly_audit
from dialogs.correct_reading import confirm_reading, open_correction, reading_taken, save_correction
from dialogs.gate_decision import decide, show_gate
from dialogs.register_pilot import complete_pilot, create_pilot
from governance.errors import GovernanceError, NotPilotOwner, ReadingChanged, ValidationFailed
from governance.localtime import local_date
from governance.model import Pilot, ReadingSource
from governance.period import Period
from governance.services import may_answer, may_hold_checkin

logger = logging.getLogger(__name__)

ActionHandler = Callable[[Turn, dict[str, Any]], Awaitable[Reply]]
OLD_CARD_REPLY: Final = "That button is from an older version of this card. Please ask again."
NOT_A_REFRESH_REPLY: Final = "This card cannot refresh itself. Press its button instead."


async def show_status(turn: Turn, data: dict[str, Any]) -> Reply:
    """The status card again: a Refresh press, a row of the portfolio, or the card refreshing itself (automatic).

    Anyone in the pilot's tenant may read it, as with the `status` command; a card pasted into a chat by the message
    extension refreshes for whoever looks at it there.
    """
    ref = read(PilotRef, data)
    pilot = await turn.app.pilots.get(ref.pilot_id, turn.asker.tenant_id)
    if not turn.automatic:  # `status` alone shows the pilot someone last asked for, not the last card on screen
        await turn.app.last_pilot.set(turn.context, pilot.id)
    return Reply(card=status_card(await turn.app.portfolio.status(pilot)))


async def show_page(turn: Turn, data: dict[str, Any]) -> Reply:
    page = read(PageRequest, data).number
    return Reply(card=portfolio_card(await turn.app.portfolio.statuses(turn.asker.tenant_id), page=page))


async def submit_checkin(turn: Turn, data: dict[str, Any]) -> Reply:
    try:
        submission = read(CheckinSubmission, data)
    except ValidationFailed:
        return Reply(text=STALE_CARD_REPLY)
    service = turn.app.pilots
    pilot = await service.get(submission.pilot_id, turn.asker.tenant_id)
    if not may_answer(pilot, turn.asker.actor):
        raise NotPilotOwner("submit this check-in", lead_too=True)
    period = submission.valid_period
    if period is None:
        return Reply(text=STALE_CARD_REPLY)
    values = submission.values(pilot)
    last = await service.reading(pilot, period.previous)
    try:
        draft = submission.to_draft(pilot)
    except ValidationFailed as exc:
        return Reply(card=checkin_card(pilot, period, last, values, exc.fields))
    try:
        reading = await service.record_reading(
            pilot.id, draft, turn.asker.actor, ReadingSource.TEAMS, pilot.tenant_id, only_own=True
        )
    except ValidationFailed as exc:
        return Reply(card=checkin_card(pilot, period, last, values, checkin_errors(pilot, exc.fields)))
    except ReadingChanged as exc:  # the other recipient answered first, or the month was corrected: nothing lost
        return await reading_taken(turn, pilot, period, exc, submission)
    summary = checkin_summary_card(pilot, reading)
    await turn.replace_pressed_card(summary)
    return Reply(card=summary)


async def show_checkin(turn: Turn, data: dict[str, Any]) -> Reply:
    """A check-in card as it stands now: "already received" once the month's reading is in (however it came),
    "superseded" once a later month's check-in is due, else the form. Writes nothing."""
    try:
        ref = read(CheckinRef, data)
    except ValidationFailed:
        return Reply(text=STALE_CARD_REPLY)
    period = ref.valid_period
    if period is None:
        return Reply(text=STALE_CARD_REPLY)
    pilot = await turn.app.pilots.get(ref.pilot_id, turn.asker.tenant_id)
    status = await turn.app.portfolio.status(pilot)  # its check-in state is governance.checkin's rule
    readings = {reading.period: reading for reading in status.readings}
    last = readings.get(period.previous)
    received = readings.get(period)
    if received is not None:
        return Reply(card=checkin_card(pilot, period, last, {}, {}, received=received))
    hold = pilot.hold_for(period)
    if hold is not None and hold.skipped:
        return Reply(card=checkin_skipped_card(pilot, hold))
    due = status.checkin.period
    if due is not None and due > period:
        return Reply(card=checkin_superseded_card(pilot, period, due, newer_received=status.checkin.answered))
    return Reply(card=checkin_card(pilot, period, last, {}, {}))


async def _hold_target(
    turn: Turn, data: dict[str, Any], action: str
) -> tuple[CheckinHoldRequest, Pilot, Period] | None:
    """A "Remind me on ..." or "Skip this month" press: what it asks, about which pilot and month, once the presser
    may (NotPilotOwner otherwise); None for a card too old to read."""
    try:
        ref = read(CheckinHoldRequest, data)
    except ValidationFailed:
        return None
    period = ref.valid_period
    if period is None:
        return None
    pilot = await turn.app.pilots.get(ref.pilot_id, turn.asker.tenant_id)
    if not may_hold_checkin(pilot, turn.asker.actor):
        raise NotPilotOwner(action)
    return ref, pilot, period


async def checkin_away(turn: Turn, data: dict[str, Any]) -> Reply:
    """ "Remind me on ...": the day picker, then the reminder moved to that day (the check-in form comes back)."""
    target = await _hold_target(turn, data, "postpone this check-in")
    if target is None:
        return Reply(text=STALE_CARD_REPLY)
    ref, pilot, period = target
    today = local_date(turn.app.clock.now(), pilot.timezone)
    if not ref.confirmed:
        return Reply(card=checkin_away_card(pilot, period, today))
    try:
        day = ref.remind_day()
        pilot = await turn.app.pilots.remind_me_on(pilot, period, day, turn.asker.actor)
    except ValidationFailed as exc:
        problem = " ".join(exc.fields.values()) or exc.message
        return Reply(card=checkin_away_card(pilot, period, today, ref.remind_on, problem))
    card = checkin_card(pilot, period, await turn.app.pilots.reading(pilot, period.previous), {}, {})
    await turn.replace_pressed_card(card)
    return Reply(card=card)


async def checkin_skip(turn: Turn, data: dict[str, Any]) -> Reply:
    """ "Skip this month": the reason, then the month skipped (the card says so for everyone)."""
    target = await _hold_target(turn, data, "skip this check-in")
    if target is None:
        return Reply(text=STALE_CARD_REPLY)
    ref, pilot, period = target
    if not ref.confirmed:
        return Reply(card=checkin_skip_card(pilot, period))
    try:
        pilot = await turn.app.pilots.skip_month(pilot, period, ref.skip_reason, turn.asker.actor)
    except ValidationFailed as exc:
        problem = " ".join(exc.fields.values()) or exc.message
        return Reply(card=checkin_skip_card(pilot, period, ref.skip_reason, problem))
    hold = pilot.hold_for(period)
    assert hold is not None and hold.skipped  # skip_month stored it, or found it stored
    card = checkin_skipped_card(pilot, hold)
    await turn.replace_pressed_card(card)
    return Reply(card=card)


ACTIONS: Final[dict[str, ActionHandler]] = {
    verbs.PILOT_CREATE: create_pilot,
    verbs.PILOT_COMPLETE: complete_pilot,
    verbs.PILOT_STATUS: show_status,
    verbs.PILOTS_PAGE: show_page,
    verbs.CHECKIN_SUBMIT: submit_checkin,
    verbs.CHECKIN_VIEW: show_checkin,
    verbs.CHECKIN_AWAY: checkin_away,
    verbs.CHECKIN_SKIP: checkin_skip,
    verbs.GATE_DECIDE: decide,
    verbs.GATE_VIEW: show_gate,
    verbs.READING_CORRECT: open_correction,
    verbs.CORRECTION_SUBMIT: save_correction,
    verbs.READING_CONFIRM: confirm_reading,
    verbs.AUDIT_VIEW: quarterly_audit.show_board,
    verbs.AUDIT_ATTEST: quarterly_audit.attest,
    verbs.AUDIT_ATTESTATION: quarterly_audit.show_attestation,
    verbs.AUDIT_DECIDE: quarterly_audit.decide,
    verbs.AUDIT_ACCEPT_ALL: quarterly_audit.accept_all,
    verbs.AUDIT_CLOSE: quarterly_audit.close,
}
# The verbs a card may refresh itself with: they only read. Teams sends a card's `refresh` action to everyone who
# looks at the card, so a verb that writes must never run that way.
REFRESH_VERBS: Final = frozenset(
    {verbs.PILOT_STATUS, verbs.CHECKIN_VIEW, verbs.GATE_VIEW, verbs.AUDIT_VIEW, verbs.AUDIT_ATTESTATION}
)


async def run_action(turn: Turn, action: CardAction) -> Reply:
    handler = ACTIONS.get(action.verb)
    if handler is None:
        return Reply(text=OLD_CARD_REPLY)
    if action.automatic and action.verb not in REFRESH_VERBS:
        logger.warning("refused an automatic refresh with the verb %r, which is not a read", action.verb)
        return Reply(text=NOT_A_REFRESH_REPLY)
    try:
        return await handler(turn, action.data)
    except GovernanceError as exc:
        return Reply(text=friendly(exc))
