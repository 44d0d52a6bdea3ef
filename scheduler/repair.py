"""Before a pilot's messages are planned, finish what a failed write left behind (governance.audit)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Final

from governance.model import Pilot
from scheduler.sweep import Plan

RETRY_AFTER: Final = timedelta(minutes=5)


class RepairPlanner:
    def __init__(self, repair: Callable[[Pilot], Awaitable[bool]]) -> None:
        self._repair = repair

    async def __call__(self, pilot: Pilot, now: datetime) -> Plan:
        # Every write puts the pilot on the agenda first, so a pilot whose later writes failed comes here soon.
        whole = await self._repair(pilot)
        return Plan((), () if whole else (now + RETRY_AFTER,))
