"""The monthly report on every store (memory, SQLite, Cosmos test server): two replicas on the report day send it
once, and a claim left by a replica that died mid-send is sent once its lease has run out."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from app import sweep_ports
from bots.notifier import BotToken, ConnectorMessenger, SenderLimits
from governance.leadership import LeadershipService, report_log_key, tenant_subject
from governance.model import ChannelLink, ConversationKind, ConversationRef, SendRecord, SendStatus
from governance.period import Period
from governance.ports import Clock
from governance.report_builder import MonthlyReports
from governance.services import Actor
from scheduler.report import ReportPlanner
from scheduler.sweep import LEASE, Sweep
from storage.repositories import Repositories
from tests.fakes import FixedClock
from tests.helpers import seed_sponsors
from tests.storage.conftest import StoreFactory
from tests.teams_sim import TENANT, FakeConnector

REPORT_TIME = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # the 5th business day of December 2026
CHANNEL = "19:leadership@thread.tacv2"
ADMIN = Actor("admin", "Ada", is_admin=True)


async def link(repos: Repositories, service_url: str, clock: FixedClock) -> None:
    await repos.conversations.upsert(
        ConversationRef(CHANNEL, TENANT.id, ConversationKind.CHANNEL, service_url, bot_id="28:bot", team_id="t")
    )
    await LeadershipService(repos.tenants, repos.agenda, clock).link_channel(TENANT.id, ChannelLink(CHANNEL), ADMIN)


def sweep_of(
    repos: Repositories, messenger: ConnectorMessenger, clock: FixedClock, lease_clock: Clock | None = None
) -> Sweep:
    """The report's sweep as app.build_sweep wires it (its report planner, on this replica's store)."""
    portfolio = repos.portfolio(clock)
    planner = ReportPlanner(
        repos.tenants, repos.sendlog, repos.conversations, MonthlyReports(portfolio, repos.tenants, clock).monthly
    )
    return Sweep(sweep_ports(repos, messenger), [], clock, tenant_planners=[planner], lease_clock=lease_clock)


async def test_two_replicas_on_the_report_day_send_one_report(store_factory: StoreFactory) -> None:
    clock = FixedClock(datetime(2026, 12, 1, 12, tzinfo=UTC))
    limits = SenderLimits(base_backoff_s=0.01, max_backoff_s=0.05)
    async with FakeConnector() as connector:
        first, second = Repositories.on(await store_factory()), Repositories.on(await store_factory())
        await seed_sponsors(first, connector.service_url, 3)
        await link(first, connector.service_url, clock)
        messengers = [ConnectorMessenger(BotToken(None, ""), limits) for _ in range(2)]
        try:
            sweeps = [sweep_of(first, messengers[0], clock), sweep_of(second, messengers[1], clock)]
            ticks = await asyncio.gather(*(s.tick(REPORT_TIME) for s in sweeps), sweeps[1].tick(REPORT_TIME))
            again = await asyncio.gather(*(s.tick(REPORT_TIME) for s in sweeps))
        finally:
            for messenger in messengers:
                await messenger.close()
    assert sum(t.by_kind.get("report", 0) for t in ticks) == 1
    assert sum(t.by_kind.get("report", 0) for t in again) == 0
    assert len(connector.sent_activities(CHANNEL)) == 1
    log = await first.sendlog.get(tenant_subject(TENANT.id), report_log_key(Period(2026, 11)))
    assert log is not None and log.status is SendStatus.SENT and log.conversation_id == CHANNEL


async def test_a_report_claimed_by_a_dead_replica_is_sent_once_after_its_lease(store_factory: StoreFactory) -> None:
    clock = FixedClock(datetime(2026, 12, 1, 12, tzinfo=UTC))
    async with FakeConnector() as connector:
        repos = Repositories.on(await store_factory())
        await link(repos, connector.service_url, clock)
        stamp = datetime.now(UTC)
        await repos.sendlog.create(
            SendRecord(
                tenant_subject(TENANT.id),
                TENANT.id,
                report_log_key(Period(2026, 11)),
                SendStatus.PENDING,
                claimed_at=stamp,
                lease_until=stamp + LEASE,
                owner="dead-replica",
            )
        )
        messenger = ConnectorMessenger(BotToken(None, ""), SenderLimits(base_backoff_s=0.01, max_backoff_s=0.05))
        try:
            sweep = sweep_of(repos, messenger, clock)
            held = await sweep.tick(REPORT_TIME)
            assert held.by_kind.get("report") is None and connector.sent_activities(CHANNEL) == []
            # The lease runs out (the real time, which the test moves here): the next sweep takes the report over.
            later = sweep_of(repos, messenger, clock, lease_clock=FixedClock(stamp + LEASE))
            taken_over = await later.tick(REPORT_TIME + LEASE)
        finally:
            await messenger.close()
    assert taken_over.by_kind == {"report": 1}
    assert len(connector.sent_activities(CHANNEL)) == 1
