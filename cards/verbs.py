"""Card action verbs: the bot routes every card action by its verb through one table.

Every button is an ``Action.Execute`` carrying ``verb`` and a ``data.verb`` copy; its ``Action.Submit`` fallback
(for hosts older than Adaptive Cards 1.4) carries the same ``data``, so a router can read ``data.verb`` for both.
"""

from __future__ import annotations

from typing import Any, Final

from microsoft_teams.cards import ExecuteAction, SubmitAction
from microsoft_teams.cards.core import ActionStyle

PILOT_CREATE: Final = "pilot.create"
PILOT_STATUS: Final = "pilot.status"  # data {pilotId}
PILOTS_PAGE: Final = "pilots.page"  # data {page}
CHECKIN_SUBMIT: Final = "checkin.submit"
GATE_DECIDE: Final = "gate.decide"

VERBS: Final = frozenset({PILOT_CREATE, PILOT_STATUS, PILOTS_PAGE, CHECKIN_SUBMIT, GATE_DECIDE})


def execute(
    title: str, verb: str, data: dict[str, Any] | None = None, *, style: ActionStyle | None = None
) -> ExecuteAction:
    """An Action.Execute for ``verb`` with an Action.Submit fallback that carries the same data."""
    payload: dict[str, Any] = {"verb": verb, **(data or {})}
    fallback = SubmitAction(title=title, data=dict(payload), style=style)
    return ExecuteAction(title=title, verb=verb, data=payload, style=style, fallback=fallback)
