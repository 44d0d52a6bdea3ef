"""The weekly card that asks a draft initiative's sponsor for the rest (governance.drafts says when)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime

from cards.pilot_form import draft_form
from governance.drafts import draft_nudge
from governance.localtime import local_date
from governance.model import Pilot
from governance.ports import SendLog
from governance.rules import is_valid_timezone
from scheduler.sweep import DONE, Job, Message, Plan


class DraftPlanner:
    def __init__(self, sendlog: SendLog) -> None:
        self._sendlog = sendlog

    async def __call__(self, pilot: Pilot, now: datetime) -> Plan:
        nudge = draft_nudge(pilot, now)
        later = (nudge.next_at,) if nudge.next_at else ()
        if nudge.due_key is None:
            return Plan((), later)
        log = await self._sendlog.get(pilot.id, nudge.due_key)
        if log is not None and log.status in DONE:
            return Plan((), later)
        today = local_date(now, pilot.timezone if is_valid_timezone(pilot.timezone) else "UTC")
        return Plan((Job(nudge.due_key, "sponsor", _compose(pilot, today)),), later)


def _compose(pilot: Pilot, today: date) -> Callable[[], Awaitable[Message]]:
    async def compose() -> Message:
        return Message(card=draft_form(pilot, today))

    return compose
