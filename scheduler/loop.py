"""The in-process timer: runs a sweep every SCHEDULER_INTERVAL_S; several replicas may all run it safely."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from scheduler.sweep import STOP_GRACE_S, Sweep

logger = logging.getLogger(__name__)


class SchedulerLoop:
    def __init__(self, sweep: Sweep, interval_s: float) -> None:
        self._sweep = sweep
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._interval_s > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(), name="pilotgate-scheduler")

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop ticking, and stop the sweep, whoever runs it (a tick through the API too): what is on its way to
        Teams finishes within ``grace_s``, the rest is released for the next sweep. Safe to call twice."""
        await self._sweep.stop(grace_s)
        if self._task is not None:
            # Cancelling a tick would leave its claims to wait out their lease; the sweep has ended it by now.
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                report = await self._sweep.tick()
                if report.sent or report.failed or report.undeliverable or report.released:
                    logger.info("scheduler sweep: %s", report.as_json())
            except Exception:  # a failed sweep is retried at the next interval; the loop must not die
                logger.exception("scheduler sweep failed")
            await asyncio.sleep(self._interval_s)
