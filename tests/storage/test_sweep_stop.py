"""A sweep stopped in the middle (SIGTERM on a deploy) is not a crash: what it did not send goes out at once with
the next sweep, nothing twice and nothing lost (SQLite and Cosmos)."""

from __future__ import annotations

import asyncio

from app import sweep_ports
from bots.notifier import BotToken, ConnectorMessenger, SenderLimits
from governance.model import SendStatus
from scheduler.checkins import CheckinPlanner
from scheduler.sweep import Planner, Sweep, withdrawable_sleep
from storage.repositories import Repositories
from tests.fakes import FixedClock
from tests.helpers import FIRST_CHECKIN, deliveries, seed_sponsors
from tests.storage.conftest import StoreFactory
from tests.teams_sim import FakeConnector

# Two sends a second: the sweep claims all its sponsors at once and most of them wait for their turn.
PACED = SenderLimits(per_tenant_per_s=2)


def sweep_on(repos: Repositories, messenger: ConnectorMessenger) -> Sweep:
    planners: list[Planner] = [CheckinPlanner(repos.readings, repos.decisions, repos.sendlog)]
    return Sweep(sweep_ports(repos, messenger), planners, FixedClock(FIRST_CHECKIN))


def paced_messenger() -> ConnectorMessenger:
    return ConnectorMessenger(BotToken(None, ""), PACED, sleep=withdrawable_sleep)


async def test_a_stopped_sweep_finishes_what_is_on_the_wire_and_the_next_sends_the_rest_at_once(
    store_factory: StoreFactory,
) -> None:
    async with FakeConnector() as connector:
        connector.set_response_delay(0.3)
        repos = Repositories.on(await store_factory())
        await seed_sponsors(repos, connector.service_url, 12)
        messenger = paced_messenger()
        try:
            sweep = sweep_on(repos, messenger)
            ticking = asyncio.create_task(sweep.tick(FIRST_CHECKIN))
            await connector.wait_for_sent(2)  # the second check-in is on its way; ten wait for their turn
            loop = asyncio.get_running_loop()
            started = loop.time()
            await sweep.stop(grace_s=5)
            stopped_in = loop.time() - started
            report = await ticking
        finally:
            await messenger.close()
        assert stopped_in < 1.5  # Teams' answer to the one on the wire (0.3 s), not the ten behind it
        # Each of the other ten was either claimed and handed back, or not claimed yet when the stop came: how many
        # of each depends on how fast the store took the claims (all ten on SQLite; a loaded Cosmos lags behind).
        assert report.sent == 2 and report.released <= 10
        records = [r for i in range(12) for r in await repos.sendlog.list_for(f"pilot-{i}")]
        released = [r for r in records if r.status is SendStatus.RETRY]
        assert len(released) == report.released
        assert all(r.next_attempt_at is None and r.lease_until is None for r in released)
        assert not [r for r in records if r.status is SendStatus.PENDING]  # no claim left to wait out its lease

        # The replica comes back (or another one sweeps): the ten go out now, not after a lease.
        restarted = Repositories.on(await store_factory())
        messenger = ConnectorMessenger(BotToken(None, ""))
        try:
            again = await sweep_on(restarted, messenger).tick(FIRST_CHECKIN)
        finally:
            await messenger.close()
        assert again.sent == 10
    assert deliveries(connector, 12) == {1: 12}


async def test_a_stop_cuts_off_a_send_teams_does_not_answer_within_the_grace(store_factory: StoreFactory) -> None:
    async with FakeConnector() as connector:
        connector.set_response_delay(2)
        repos = Repositories.on(await store_factory())
        await seed_sponsors(repos, connector.service_url, 1)
        messenger = paced_messenger()
        try:
            sweep = sweep_on(repos, messenger)
            ticking = asyncio.create_task(sweep.tick(FIRST_CHECKIN))
            await connector.wait_for_sent(1)
            loop = asyncio.get_running_loop()
            started = loop.time()
            await sweep.stop(grace_s=0.3)
            stopped_in = loop.time() - started
            report = await ticking
        finally:
            await messenger.close()
        assert stopped_in < 1.5
        # Released, so the next sweep sends it at once; Teams may have it already: the one window left.
        assert (report.sent, report.released) == (0, 1)
        record = await repos.sendlog.get("pilot-0", "checkin:2026-11")
        assert record is not None and record.status is SendStatus.RETRY and record.next_attempt_at is None


async def test_a_stopped_sweep_takes_no_new_tick(store_factory: StoreFactory) -> None:
    async with FakeConnector() as connector:
        repos = Repositories.on(await store_factory())
        await seed_sponsors(repos, connector.service_url, 2)
        messenger = paced_messenger()
        try:
            sweep = sweep_on(repos, messenger)
            await sweep.stop()
            report = await sweep.tick(FIRST_CHECKIN)
        finally:
            await messenger.close()
        assert report.due == 0 and report.sent == 0
        assert connector.requests == []
