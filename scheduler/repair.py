"""Before a pilot's messages are planned, finish what a failed write left behind: audit events still pending
(governance.audit) and a summary left dirty (storage.summaries)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Final

from governance.model import Pilot
from scheduler.sweep import Plan

RETRY_AFTER: Final = timedelta(minutes=5)


class RepairPlanner:
    def __init__(self, *repairs: Callable[[Pilot], Awaitable[bool]]) -> None:
        self._repairs = repairs

    async def __call__(self, pilot: Pilot, now: datetime) -> Plan:
        # Every write puts the pilot on the agenda first, so a pilot whose later writes failed comes here soon.
        whole = [await repair(pilot) for repair in self._repairs]
        return Plan((), () if all(whole) else (now + RETRY_AFTER,))
