"""Two app replicas sweeping the same store at once send one check-in per sponsor (SQLite and Cosmos)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app import sweep_ports
from bots.notifier import BotToken, ConnectorMessenger, SenderLimits
from governance.model import ConversationKind, ConversationRef, SendRecord, SendStatus
from scheduler.checkins import CheckinPlanner
from scheduler.sweep import LEASE, LEGACY_LEASE, Planner, Sweep
from storage.codec import send_to_doc
from storage.repositories import Repositories
from tests.fakes import FixedClock
from tests.helpers import FIRST_CHECKIN, deliveries, seed_sponsors
from tests.storage.conftest import StoreFactory
from tests.teams_sim import TENANT, FakeConnector

CHECKIN_TIME = FIRST_CHECKIN


def sweep_on(
    repos: Repositories,
    connector_messenger: ConnectorMessenger,
    clock: FixedClock,
    planners: list[Planner] | None = None,
    **options: Any,
) -> Sweep:
    return Sweep(
        sweep_ports(repos, connector_messenger),
        planners or [CheckinPlanner(repos.readings, repos.decisions, repos.sendlog)],
        clock,
        **options,
    )


async def test_two_replicas_ticking_at_once_send_one_checkin_per_sponsor(store_factory: StoreFactory) -> None:
    clock = FixedClock(CHECKIN_TIME)
    limits = SenderLimits(base_backoff_s=0.01, max_backoff_s=0.05)
    async with FakeConnector() as connector:
        first = Repositories.on(await store_factory())
        second = Repositories.on(await store_factory())
        await seed_sponsors(first, connector.service_url, 12)
        messengers = [ConnectorMessenger(BotToken(None, ""), limits) for _ in range(2)]
        try:
            sweeps = [sweep_on(first, messengers[0], clock), sweep_on(second, messengers[1], clock)]
            reports = await asyncio.gather(*(s.tick(CHECKIN_TIME) for s in sweeps), sweeps[0].tick(CHECKIN_TIME))
            again = await asyncio.gather(*(s.tick(CHECKIN_TIME) for s in sweeps))
        finally:
            for messenger in messengers:
                await messenger.close()
        assert sum(r.sent for r in reports) == 12
        assert sum(r.sent for r in again) == 0
        per_chat = [len(connector.sent_activities(f"a:chat-{i}")) for i in range(12)]
        assert per_chat == [1] * 12


@pytest.mark.parametrize("written_by", ["a sweep that renews its claims", "a version before leases"])
async def test_a_claim_left_by_a_crashed_replica_is_sent_once_its_lease_has_really_run_out(
    store_factory: StoreFactory, written_by: str
) -> None:
    clock = FixedClock(CHECKIN_TIME)
    lease_clock = FixedClock(CHECKIN_TIME)  # the real time, which only the test moves here
    # A claim without leaseUntil holds for LEGACY_LEASE from claimed_at, as it did when it was written.
    lease = LEGACY_LEASE if written_by == "a version before leases" else LEASE
    async with FakeConnector() as connector:
        store = await store_factory()
        repos = Repositories.on(store)
        await seed_sponsors(repos, connector.service_url, 1)
        # A replica claimed the November check-in and died before sending it.
        claim = SendRecord(
            "pilot-0",
            TENANT.id,
            "checkin:2026-11",
            SendStatus.PENDING,
            claimed_at=lease_clock.now(),
            lease_until=lease_clock.now() + LEASE,
            owner="replica-that-died",
        )
        document = send_to_doc(claim)
        if written_by == "a version before leases":
            del document["leaseUntil"], document["owner"]
        await store.create("sendlog", document)
        messenger = ConnectorMessenger(BotToken(None, ""))
        try:
            sweep = sweep_on(repos, messenger, clock, lease_clock=lease_clock)
            lease_clock.set(CHECKIN_TIME + lease - timedelta(seconds=1))
            assert (await sweep.tick(CHECKIN_TIME + timedelta(minutes=1))).sent == 0
            # A tick whose `now` is far ahead does not end a lease: only time that really passed does.
            assert (await sweep.tick(CHECKIN_TIME + timedelta(hours=1))).sent == 0
            lease_clock.advance(seconds=1)
            assert (await sweep.tick(CHECKIN_TIME + timedelta(hours=2))).sent == 1
            assert (await sweep.tick(CHECKIN_TIME + timedelta(hours=3))).sent == 0
        finally:
            await messenger.close()
        assert len(connector.sent_activities("a:chat-0")) == 1
        record = await repos.sendlog.get("pilot-0", "checkin:2026-11")
        assert record is not None and record.status is SendStatus.SENT and record.attempts == 2


async def test_two_replicas_post_each_gate_milestone_once(store_factory: StoreFactory) -> None:
    import dataclasses

    from governance.model import ChannelLink
    from scheduler.gates import GatePlanner

    gate_day = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    clock = FixedClock(gate_day)
    async with FakeConnector() as connector:
        first = Repositories.on(await store_factory())
        second = Repositories.on(await store_factory())
        await seed_sponsors(first, connector.service_url, 6)
        for i in range(6):
            pilot = await first.pilots.get(f"pilot-{i}", TENANT.id)
            assert pilot is not None
            await first.pilots.save(dataclasses.replace(pilot, channel=ChannelLink(f"19:channel-{i}@thread.tacv2")))
            await first.conversations.upsert(
                ConversationRef(
                    f"19:channel-{i}@thread.tacv2", TENANT.id, ConversationKind.CHANNEL, connector.service_url
                )
            )
        messengers = [ConnectorMessenger(BotToken(None, ""), SenderLimits(base_backoff_s=0.01)) for _ in range(2)]
        try:
            sweeps = [
                sweep_on(repos, messenger, clock, [GatePlanner(repos.readings, repos.decisions)])
                for repos, messenger in zip((first, second), messengers, strict=True)
            ]
            reports = await asyncio.gather(*(s.tick(gate_day) for s in sweeps), *(s.tick(gate_day) for s in sweeps))
        finally:
            for messenger in messengers:
                await messenger.close()
        assert sum(r.sent for r in reports) == 6
        assert [len(connector.sent_activities(f"19:channel-{i}@thread.tacv2")) for i in range(6)] == [1] * 6


@pytest.mark.parametrize("where", ["on another replica", "on the same replica"])
async def test_a_later_tick_does_not_take_over_what_a_slow_sweep_is_still_sending(
    store_factory: StoreFactory, where: str
) -> None:
    # Issue 10, finding 1: a claim stamped with the first tick's `now` looked expired to a tick whose `now` was
    # 11 minutes later, which sent it again while the first sweep was still waiting for Teams.
    clock = FixedClock(CHECKIN_TIME)
    async with FakeConnector() as connector:
        connector.set_response_delay(0.5)
        first = Repositories.on(await store_factory())
        second = Repositories.on(await store_factory())
        await seed_sponsors(first, connector.service_url, 24)
        messengers = [ConnectorMessenger(BotToken(None, "")) for _ in range(2)]
        try:
            sweeps = [
                sweep_on(repos, m, clock, per_tenant=4) for repos, m in zip((first, second), messengers, strict=True)
            ]
            later = sweeps[1] if where == "on another replica" else sweeps[0]  # the timer's tick and an API tick
            early = asyncio.create_task(sweeps[0].tick(CHECKIN_TIME))
            await connector.wait_for_sent(4)
            late = await later.tick(CHECKIN_TIME + timedelta(minutes=11))
            reports = [await early, late]
        finally:
            for messenger in messengers:
                await messenger.close()
        assert deliveries(connector, 24) == {1: 24}
        assert sum(r.sent for r in reports) == 24


@pytest.mark.parametrize("wait", ["teams answers slowly", "the rate limit queues the sends"])
async def test_a_claim_outlives_its_lease_while_its_sender_is_still_at_work(
    store_factory: StoreFactory, wait: str
) -> None:
    # The lease (real time) is shorter than each send: only renewals keep another replica from taking it over. It
    # is a second, renewed every quarter of it: a lease of 0.4 s lapsed on a loaded CI machine whose loop stalled
    # for 0.3 s, which is the one window the README names (a sender stalled for a whole lease), not this test's.
    clock = FixedClock(CHECKIN_TIME)
    limits = SenderLimits()
    async with FakeConnector() as connector:
        if wait == "teams answers slowly":
            connector.set_response_delay(2.5)
        else:
            limits = SenderLimits(per_tenant_per_s=2)
        first = Repositories.on(await store_factory())
        second = Repositories.on(await store_factory())
        await seed_sponsors(first, connector.service_url, 8)
        messengers = [ConnectorMessenger(BotToken(None, ""), limits) for _ in range(2)]
        lease: dict[str, Any] = {"lease": timedelta(seconds=1), "per_tenant": 8}
        try:
            sweeps = [sweep_on(repos, m, clock, **lease) for repos, m in zip((first, second), messengers, strict=True)]
            early = asyncio.create_task(sweeps[0].tick(CHECKIN_TIME))
            await connector.wait_for(lambda c: c.requests)
            await asyncio.sleep(1.3)  # every claim of the first sweep is older than its lease
            late = await sweeps[1].tick(CHECKIN_TIME + timedelta(seconds=2))
            reports = [await early, late]
        finally:
            for messenger in messengers:
                await messenger.close()
        assert deliveries(connector, 8) == {1: 8}
        assert sum(r.sent for r in reports) == 8
