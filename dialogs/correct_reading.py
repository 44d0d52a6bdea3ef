"""Correcting a past reading, and the sponsor's confirmation of what the lead sent.

"Correct a reading" (status card: choose a month; or Correct on the sponsor's confirmation card) opens the check-in
form for that month filled with its reading; "Save correction" validates it as the check-in does and stores it only
if the reading is still the one the form showed. When it is not (a check-in submit or another correction won the
race), the form comes back with the person's own values and a sentence saying who changed what: nothing typed is
lost and nothing is overwritten unseen. "Confirm" records that the sponsor confirmed the lead's values.
"""

from __future__ import annotations

from typing import Any, TypeVar

from bots.turn import STALE_CARD_REPLY, Reply, Turn
from cards.checkin import checkin_summary_card, correction_card, reading_values, received_from
from cards.lead import confirmation_card, confirmed_card
from cards.pieces import period_label
from cards.submissions import (
    CheckinRef,
    CheckinSubmission,
    ConfirmRef,
    CorrectionRequest,
    CorrectionSubmission,
    checkin_errors,
    read,
)
from governance.corrections import correction_problem
from governance.errors import NotPilotOwner, ReadingChanged, ValidationFailed
from governance.localtime import local_date
from governance.model import MetricReading, Pilot
from governance.period import Period
from governance.services import may_answer

CORRECTED = "Reading corrected"


def changed_note(period: Period, current: MetricReading | None, *, correcting: bool) -> str:
    """Why the correction form is shown again after a submit lost a race; the form keeps what was typed."""
    month = period_label(period)
    if current is None:
        return f"The readings for {month} were removed meanwhile. Your values are below: save them to record them."
    who = current.changed_by.name or "Someone"
    what = "changed" if correcting else "already sent"
    return (
        f"{who} {what} the {month} readings ({received_from(current)}) while you were filling this in. Nothing of "
        "yours is saved yet: your values are below. Press Save correction to replace theirs, or leave it."
    )


R = TypeVar("R", bound=CheckinRef)


async def _target(
    turn: Turn, model: type[R], data: dict[str, Any], *, correcting: bool = False
) -> tuple[R, Pilot, Period] | None:
    """The pressed card's data, its pilot and its month; None when the card is too old to say (STALE_CARD_REPLY).
    ``correcting``: NotPilotOwner unless the presser may correct the pilot's readings (sponsor, lead, admin)."""
    try:
        ref = read(model, data)
    except ValidationFailed:
        return None
    period = ref.valid_period
    if period is None:
        return None
    pilot = await turn.app.pilots.get(ref.pilot_id, turn.asker.tenant_id)
    if correcting and not may_answer(pilot, turn.asker.actor):
        raise NotPilotOwner("correct this pilot's readings", lead_too=True)
    return ref, pilot, period


async def open_correction(turn: Turn, data: dict[str, Any]) -> Reply:
    """The correction form for the chosen month, filled with its reading (or empty for a month without one)."""
    target = await _target(turn, CorrectionRequest, data, correcting=True)
    if target is None:
        return Reply(text=STALE_CARD_REPLY)
    _, pilot, period = target
    service = turn.app.pilots
    problem = correction_problem(pilot, period, local_date(turn.app.clock.now(), pilot.timezone))
    if problem is not None:
        return Reply(text=problem)
    current = await service.reading(pilot, period)
    last = await service.reading(pilot, period.previous)
    values = reading_values(pilot, current) if current is not None else {}
    return Reply(card=correction_card(pilot, period, current, last, values, {}))


async def save_correction(turn: Turn, data: dict[str, Any]) -> Reply:
    target = await _target(turn, CorrectionSubmission, data, correcting=True)
    if target is None:
        return Reply(text=STALE_CARD_REPLY)
    submission, pilot, period = target
    service = turn.app.pilots
    current = await service.reading(pilot, period)
    try:
        draft = submission.to_draft(pilot)
        reading = await service.correct_reading(pilot.id, draft, submission.based_on, turn.asker.actor, pilot.tenant_id)
    except ValidationFailed as exc:
        errors = checkin_errors(pilot, exc.fields)
        changed = (current.stamp if current is not None else "") != submission.based_on
        note = changed_note(period, current, correcting=True) if changed else ""
        return await _form_again(turn, pilot, period, current, submission, errors, note)
    except ReadingChanged as exc:
        note = changed_note(period, exc.current, correcting=True)
        return await _form_again(turn, pilot, period, exc.current, submission, {}, note)
    summary = checkin_summary_card(pilot, reading, CORRECTED)
    await turn.replace_pressed_card(summary)
    return Reply(card=summary)


async def reading_taken(
    turn: Turn, pilot: Pilot, period: Period, exc: ReadingChanged, submission: CheckinSubmission
) -> Reply:
    """A check-in submit found the month answered by someone else (or corrected): the correction form with the
    submitted values, so that they can replace the reading on purpose."""
    return await _form_again(
        turn, pilot, period, exc.current, submission, {}, changed_note(period, exc.current, correcting=False)
    )


async def _form_again(
    turn: Turn,
    pilot: Pilot,
    period: Period,
    current: MetricReading | None,
    submission: CheckinSubmission,
    errors: dict[str, str],
    note: str = "",
) -> Reply:
    last = await turn.app.pilots.reading(pilot, period.previous)
    values = submission.values(pilot)
    return Reply(card=correction_card(pilot, period, current, last, values, errors, note=note))


async def confirm_reading(turn: Turn, data: dict[str, Any]) -> Reply:
    """The sponsor (or an admin) confirms the values the lead sent; the lead is refused like anyone else."""
    target = await _target(turn, ConfirmRef, data)
    if target is None:
        return Reply(text=STALE_CARD_REPLY)
    ref, pilot, period = target
    service = turn.app.pilots
    try:
        reading = await service.confirm_reading(pilot.id, period, ref.based_on, turn.asker.actor, pilot.tenant_id)
    except ReadingChanged as exc:
        if exc.current is None:
            return Reply(text=f"The readings for {period_label(period)} were removed; there is nothing to confirm.")
        note = f"These readings changed since the card you pressed ({received_from(exc.current)}): check them again."
        return Reply(card=confirmation_card(pilot, exc.current, note))
    confirmed = confirmed_card(pilot, reading)
    await turn.replace_pressed_card(confirmed)
    return Reply(card=confirmed)
