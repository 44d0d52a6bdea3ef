"""Card action verbs: the bot routes every card action by its verb through one table.

Every button is an ``Action.Execute`` carrying ``verb`` and a ``data.verb`` copy; its ``Action.Submit`` fallback
(for hosts older than Adaptive Cards 1.4) carries the same ``data``, so a router can read ``data.verb`` for both.

A card's ``refresh`` (Universal Actions) is an ``Action.Execute`` too: Teams sends it with ``trigger: "automatic"``
when the card is shown, and shows the card the bot answers to that person only. It has no fallback: a host without
Universal Actions ignores ``refresh`` altogether.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

from microsoft_teams.cards import ExecuteAction, RefreshDefinition, SubmitAction
from microsoft_teams.cards.core import ActionStyle

PILOT_CREATE: Final = "pilot.create"
PILOT_COMPLETE: Final = "pilot.complete"  # data {pilotId}: a draft's sponsor completes it (the registration form)
PILOT_STATUS: Final = "pilot.status"  # data {pilotId}
PILOTS_PAGE: Final = "pilots.page"  # data {page}
CHECKIN_SUBMIT: Final = "checkin.submit"
CHECKIN_VIEW: Final = "checkin.view"  # data {pilotId, period}: the check-in card as it stands now (refresh)
CHECKIN_AWAY: Final = "checkin.away"  # data {pilotId, period[, confirm]}: "Remind me on ...": the form, then record
CHECKIN_SKIP: Final = "checkin.skip"  # data {pilotId, period[, confirm]}: "Skip this month": the form, then record
GATE_DECIDE: Final = "gate.decide"
GATE_VIEW: Final = "gate.view"  # data {pilotId, gateDate}: the gate card as the asker may see it (refresh, Decide)
READING_CORRECT: Final = "reading.correct"  # data {pilotId, period?} or input correctPeriod: the correction form
CORRECTION_SUBMIT: Final = "correction.submit"  # data {pilotId, period, basedOn} + the check-in's inputs
READING_CONFIRM: Final = "reading.confirm"  # data {pilotId, period, basedOn}: the sponsor confirms the lead's values

VERBS: Final = frozenset(
    {
        PILOT_CREATE,
        PILOT_COMPLETE,
        PILOT_STATUS,
        PILOTS_PAGE,
        CHECKIN_SUBMIT,
        CHECKIN_VIEW,
        CHECKIN_AWAY,
        CHECKIN_SKIP,
        GATE_DECIDE,
        GATE_VIEW,
        READING_CORRECT,
        CORRECTION_SUBMIT,
        READING_CONFIRM,
    }
)
# Teams refreshes a card automatically for at most 60 users (``refresh.userIds``); everyone else sees the card as
# it was sent until they press one of its buttons.
MAX_REFRESH_USERS: Final = 60


def execute(
    title: str,
    verb: str,
    data: dict[str, Any] | None = None,
    *,
    style: ActionStyle | None = None,
    with_inputs: bool = True,
) -> ExecuteAction:
    """An Action.Execute for ``verb`` with an Action.Submit fallback that carries the same data.

    ``with_inputs=False`` sends none of the card's inputs (``associatedInputs: "none"``), so the host does not
    insist on the card's required inputs either: for a button that leaves a form unanswered."""
    payload: dict[str, Any] = {"verb": verb, **(data or {})}
    inputs: Literal["none"] | None = None if with_inputs else "none"
    fallback = SubmitAction(title=title, data=dict(payload), style=style, associated_inputs=inputs)
    return ExecuteAction(title=title, verb=verb, data=payload, style=style, fallback=fallback, associated_inputs=inputs)


def refresh(verb: str, data: dict[str, Any], user_ids: Sequence[str] | None = None) -> RefreshDefinition:
    """A card's ``refresh``: Teams asks the bot (``verb``, ``trigger: "automatic"``) for each listed user's view of
    the card whenever it is shown to them.

    ``user_ids`` are Teams user ids (``29:...``). Teams needs them in channels and group chats and takes at most
    ``MAX_REFRESH_USERS``: the first 60 are kept, so put the people who matter most first. ``None`` (a 1:1 chat)
    leaves them out.
    """
    action = ExecuteAction(title="Refresh", verb=verb, data={"verb": verb, **data})
    ids = list(user_ids[:MAX_REFRESH_USERS]) if user_ids is not None else None
    return RefreshDefinition(action=action, user_ids=ids)
