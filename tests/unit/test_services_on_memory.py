"""Services and planners on the in-memory store: the use cases and the sweep's plans without aiohttp or a database."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from governance.checkin import checkin_log_key
from governance.decisions import DecisionDraft
from governance.errors import DuplicatePilot, GateAlreadyDecided, NotPilotOwner
from governance.model import (
    ChannelLink,
    DecisionKind,
    Direction,
    HealthStatus,
    Metric,
    Person,
    ReadingSource,
    SendRecord,
    SendStatus,
    Stage,
)
from governance.period import Period
from governance.rules import PilotDraft, ReadingDraft
from governance.services import Actor, PilotService
from scheduler.checkins import CheckinPlanner
from scheduler.gates import GatePlanner
from storage.repositories import Repositories
from tests.fakes import FixedClock, MemoryDocumentStore

TENANT = "tenant-1"
SPONSOR = Actor("aad-sponsor", "Sam Sponsor")
OTHER = Actor("aad-other", "Olu Other")
REGISTERED = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
async def repos() -> Repositories:
    store = MemoryDocumentStore()
    await store.open()
    return Repositories.on(store)


def service(repos: Repositories, clock: FixedClock) -> PilotService:
    return PilotService(repos.pilots, repos.readings, repos.decisions, repos.audit, clock, repos.agenda)


def draft(**changes: object) -> PilotDraft:
    values: dict[str, object] = {
        "name": "Claims triage",
        "sponsor": SPONSOR.person,
        "metrics": (Metric("Handling time", "min", 42, 30, Direction.DECREASE),),
        "start_date": date(2026, 9, 1),
        "gate_date": date(2026, 11, 30),
    }
    return PilotDraft(**(values | changes))  # type: ignore[arg-type]


async def test_registering_keeps_the_project_channel_audits_and_schedules(repos: Repositories) -> None:
    clock = FixedClock(REGISTERED)
    channel = ChannelLink("19:general@thread.tacv2", "team-1")
    pilot = await service(repos, clock).register(draft(channel=channel), TENANT, SPONSOR)
    assert pilot.channel == channel
    assert [e.action for e in await repos.audit.list_for(pilot.id)] == ["pilot.created"]
    agenda = await repos.agenda.get(pilot.id)
    assert agenda is not None and agenda.next_due_at == REGISTERED


async def test_a_name_taken_in_the_tenant_and_another_sponsor_are_refused(repos: Repositories) -> None:
    pilots = service(repos, FixedClock(REGISTERED))
    await pilots.register(draft(), TENANT, SPONSOR)
    with pytest.raises(DuplicatePilot):
        await pilots.register(draft(name="claims  TRIAGE"), TENANT, SPONSOR)
    with pytest.raises(NotPilotOwner):
        await pilots.register(draft(name="Other"), TENANT, OTHER)


async def test_a_second_reading_for_a_month_replaces_the_first_and_both_are_audited(repos: Repositories) -> None:
    pilots = service(repos, FixedClock(REGISTERED))
    pilot = await pilots.register(draft(), TENANT, SPONSOR)
    for value in (40.0, 38.0):
        reading = ReadingDraft(Period(2026, 10), {"Handling time": value}, HealthStatus.AMBER)
        await pilots.record_reading(pilot.id, reading, SPONSOR, ReadingSource.TEAMS)
    stored = await repos.readings.get(pilot.id, Period(2026, 10))
    assert stored is not None and stored.values == {"Handling time": 38.0}
    actions = [e.action for e in await repos.audit.list_for(pilot.id)]
    assert actions == ["pilot.created", "reading.recorded", "reading.replaced"]


async def test_one_decision_per_gate_and_its_effects(repos: Repositories) -> None:
    clock = FixedClock(REGISTERED)
    pilots = service(repos, clock)
    pilot = await pilots.register(draft(), TENANT, SPONSOR)
    clock.set(datetime(2026, 11, 30, 15, tzinfo=UTC))
    go = DecisionDraft(DecisionKind.GO, "Target met", expansion_scope="All teams", expansion_date=date(2027, 1, 4))
    decided, decision = await pilots.decide(pilot.id, TENANT, pilot.gate_date, go, SPONSOR)
    assert decided.stage is Stage.PRODUCTION and decision.kind is DecisionKind.GO
    with pytest.raises(GateAlreadyDecided):
        await pilots.decide(pilot.id, TENANT, pilot.gate_date, go, SPONSOR)


async def test_the_service_refuses_a_decision_by_someone_who_may_not_decide(repos: Repositories) -> None:
    """The card shows the forms only to deciders and the bot refuses other pressers first; this check stays anyway."""
    clock = FixedClock(REGISTERED)
    pilots = service(repos, clock)
    pilot = await pilots.register(draft(), TENANT, SPONSOR)
    clock.set(datetime(2026, 11, 30, 15, tzinfo=UTC))
    go = DecisionDraft(DecisionKind.GO, "Target met", expansion_scope="All teams", expansion_date=date(2027, 1, 4))
    with pytest.raises(NotPilotOwner):
        await pilots.decide(pilot.id, TENANT, pilot.gate_date, go, OTHER)
    assert await repos.decisions.list_for(pilot.id) == []
    assert [e.action for e in await repos.audit.list_for(pilot.id)] == ["pilot.created"]
    admin = Actor("aad-admin", "Ada Admin", is_admin=True)
    decided, _ = await pilots.decide(pilot.id, TENANT, pilot.gate_date, go, admin)
    assert decided.stage is Stage.PRODUCTION


async def test_the_checkin_planner_sends_the_card_then_nudges_from_the_day_it_went_out(repos: Repositories) -> None:
    pilot = await service(repos, FixedClock(REGISTERED)).register(draft(), TENANT, SPONSOR)
    planner = CheckinPlanner(repos.readings, repos.decisions, repos.sendlog)
    checkin_time = datetime(2026, 12, 1, 9, tzinfo=UTC)
    plan = await planner(pilot, checkin_time)
    assert [job.key for job in plan.jobs] == ["checkin:2026-11"]
    sent_late = datetime(2026, 12, 3, 10, tzinfo=UTC)  # Teams was down for two days
    record = SendRecord(
        pilot.id, TENANT, checkin_log_key(Period(2026, 11)), SendStatus.SENT, sent_late, sent_at=sent_late
    )
    await repos.sendlog.create(record)
    assert (await planner(pilot, datetime(2026, 12, 4, 9, tzinfo=UTC))).jobs == ()  # 3 days after 1 Dec, not after 3
    reminder = await planner(pilot, datetime(2026, 12, 8, 9, tzinfo=UTC))  # 3 business days after Thu 3 Dec
    assert [job.key for job in reminder.jobs] == ["reminder:2026-11"]


async def test_the_gate_planner_posts_the_gate_day_card_and_portfolio_flags_purgatory(repos: Repositories) -> None:
    clock = FixedClock(REGISTERED)
    pilot = await service(repos, clock).register(draft(), TENANT, SPONSOR)
    plan = await GatePlanner(repos.readings, repos.decisions)(pilot, datetime(2026, 11, 30, 9, tzinfo=UTC))
    assert [job.key for job in plan.jobs] == ["gate:2026-11-30:t-0"]
    clock.set(datetime(2026, 12, 3, 12, tzinfo=UTC))
    portfolio = repos.portfolio(clock)
    [status], unreachable = await portfolio.statuses_and_unreachable(TENANT, sponsors=True)
    assert status.gate_passed_undecided_days == 3
    assert [p.sponsor for p in unreachable] == [Person(SPONSOR.aad_object_id, SPONSOR.name)]


async def test_a_search_finds_names_in_the_tenant_and_lists_those_needing_attention_first(repos: Repositories) -> None:
    clock = FixedClock(REGISTERED)
    pilots = service(repos, clock)
    await pilots.register(draft(name="Alpha assistant", gate_date=date(2027, 2, 1)), TENANT, SPONSOR)
    await pilots.register(draft(name="Zeta summariser"), TENANT, SPONSOR)
    await pilots.register(draft(name="Zeta elsewhere"), "tenant-2", SPONSOR)
    portfolio = repos.portfolio(clock)
    assert [s.pilot.name for s in await portfolio.search(TENANT, "zeta", 10)] == ["Zeta summariser"]
    assert [s.pilot.name for s in await portfolio.search(TENANT, " ", 10)] == ["Alpha assistant", "Zeta summariser"]
    clock.set(datetime(2026, 12, 3, 12, tzinfo=UTC))  # Zeta's gate (30 November) passed without a decision
    assert [s.pilot.name for s in await portfolio.search(TENANT, "", 10)] == ["Zeta summariser", "Alpha assistant"]
    assert [s.pilot.name for s in await portfolio.search(TENANT, "", 1)] == ["Zeta summariser"]
