"""Two app replicas sweeping the same store at once send one check-in per sponsor (SQLite and Cosmos)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from app import sweep_ports
from bots.notifier import BotToken, ConnectorMessenger, SenderLimits
from governance.model import ConversationKind, ConversationRef, Direction, Metric, Person, Pilot
from scheduler.checkins import CheckinPlanner
from scheduler.sweep import Planner, Sweep
from storage.repositories import Repositories
from tests.fakes import FixedClock
from tests.storage.conftest import StoreFactory
from tests.teams_sim import TENANT, FakeConnector

REGISTERED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CHECKIN_TIME = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # pilots below are on UTC


def sweep_on(
    repos: Repositories,
    connector_messenger: ConnectorMessenger,
    clock: FixedClock,
    planners: list[Planner] | None = None,
) -> Sweep:
    return Sweep(
        sweep_ports(repos, connector_messenger),
        planners or [CheckinPlanner(repos.readings, repos.decisions, repos.sendlog)],
        clock,
    )


async def seed(repos: Repositories, service_url: str, count: int) -> None:
    for i in range(count):
        sponsor = Person(f"00000000-0000-4000-8000-{i:012d}", f"Sponsor {i}")
        pilot = Pilot(
            id=f"pilot-{i}",
            tenant_id=TENANT.id,
            name=f"Pilot {i}",
            sponsor=sponsor,
            metrics=(Metric("Handling time", "min", 42, 30, Direction.DECREASE),),
            start_date=date(2026, 9, 1),
            gate_date=date(2026, 11, 30),
            created_at=REGISTERED,
        )
        await repos.pilots.add(pilot)
        await repos.conversations.upsert(
            ConversationRef(
                conversation_id=f"a:chat-{i}",
                tenant_id=TENANT.id,
                kind=ConversationKind.PERSONAL,
                service_url=service_url,
                bot_id="28:bot",
                user_id=f"29:user-{i}",
                aad_object_id=sponsor.aad_object_id,
            )
        )
        await repos.agenda.set_due(pilot.id, pilot.tenant_id, REGISTERED)


async def test_two_replicas_ticking_at_once_send_one_checkin_per_sponsor(store_factory: StoreFactory) -> None:
    clock = FixedClock(CHECKIN_TIME)
    limits = SenderLimits(base_backoff_s=0.01, max_backoff_s=0.05)
    async with FakeConnector() as connector:
        first = Repositories.on(await store_factory())
        second = Repositories.on(await store_factory())
        await seed(first, connector.service_url, 12)
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


async def test_a_claim_left_by_a_crashed_replica_is_sent_after_the_lease(store_factory: StoreFactory) -> None:
    from datetime import timedelta

    from governance.model import SendRecord, SendStatus

    clock = FixedClock(CHECKIN_TIME)
    async with FakeConnector() as connector:
        repos = Repositories.on(await store_factory())
        await seed(repos, connector.service_url, 1)
        # A replica claimed the November check-in and died before sending it.
        await repos.sendlog.create(
            SendRecord("pilot-0", TENANT.id, "checkin:2026-11", SendStatus.PENDING, claimed_at=CHECKIN_TIME)
        )
        messenger = ConnectorMessenger(BotToken(None, ""))
        try:
            sweep = sweep_on(repos, messenger, clock)
            assert (await sweep.tick(CHECKIN_TIME + timedelta(minutes=1))).sent == 0
            assert (await sweep.tick(CHECKIN_TIME + timedelta(minutes=11))).sent == 1
            assert (await sweep.tick(CHECKIN_TIME + timedelta(minutes=30))).sent == 0
        finally:
            await messenger.close()
        assert len(connector.sent_activities("a:chat-0")) == 1


async def test_two_replicas_post_each_gate_milestone_once(store_factory: StoreFactory) -> None:
    import dataclasses

    from governance.model import ChannelLink
    from scheduler.gates import GatePlanner

    gate_day = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    clock = FixedClock(gate_day)
    async with FakeConnector() as connector:
        first = Repositories.on(await store_factory())
        second = Repositories.on(await store_factory())
        await seed(first, connector.service_url, 6)
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
