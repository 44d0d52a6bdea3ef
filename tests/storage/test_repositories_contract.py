"""Repositories and botbuilder state on both stores: the same behaviour on SQLite and on Cosmos DB."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime

import pytest
from botbuilder.core import ConversationState, TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from bots.state_storage import DocumentBotStorage
from governance.errors import AlreadyExists, ConcurrencyConflict
from governance.model import (
    AuditEvent,
    ConversationKind,
    ConversationRef,
    DecisionKind,
    Direction,
    GateDecision,
    HealthStatus,
    Metric,
    MetricReading,
    Person,
    Pilot,
    ReadingSource,
    TeamMember,
)
from governance.period import Period
from governance.rules import ReadingDraft
from governance.services import Actor, PilotService
from storage.documents import DocumentStore
from storage.repositories import Repositories
from tests.fakes import FixedClock
from tests.storage.conftest import StoreFactory

TENANT = "8f0c2b7e-4a51-4c1e-9d3a-2b6f7e1c0a11"
SPONSOR = Person("5b0c7d1e-0000-4f2a-8b3c-000000005e01", "Sam Sponsor")
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def a_pilot(pilot_id: str = "p1", name: str = "Claims triage") -> Pilot:
    return Pilot(
        id=pilot_id,
        tenant_id=TENANT,
        name=name,
        sponsor=SPONSOR,
        metrics=(Metric("Handling time", "min", 42, 30, Direction.DECREASE),),
        start_date=date(2026, 9, 1),
        gate_date=date(2026, 11, 30),
        timezone="Europe/Berlin",
        budget_monthly=1000.5,
        created_at=NOW,
    )


def a_reading(period: str = "2026-10", value: float = 38.0) -> MetricReading:
    return MetricReading(
        "p1", TENANT, Period.parse(period), {"Handling time": value}, HealthStatus.AMBER, SPONSOR, NOW, spend=900
    )


async def test_pilot_round_trips_and_lists_by_tenant(document_store: DocumentStore) -> None:
    repos = Repositories.on(document_store)
    stored = await repos.pilots.add(a_pilot())
    assert stored.version
    fetched = await repos.pilots.get("p1", TENANT)
    assert fetched is not None
    assert dataclasses.replace(fetched, version=None) == a_pilot()
    assert await repos.pilots.get("p1") == fetched  # by id alone, across tenants
    assert [p.id for p in await repos.pilots.list(TENANT)] == ["p1"]
    assert await repos.pilots.list("another-tenant") == []


async def test_stale_pilot_version_is_a_conflict_and_changes_nothing(document_store: DocumentStore) -> None:
    repos = Repositories.on(document_store)
    stored = await repos.pilots.add(a_pilot())
    await repos.pilots.save(dataclasses.replace(stored, name="Renamed"))
    with pytest.raises(ConcurrencyConflict):
        await repos.pilots.save(dataclasses.replace(stored, name="Stale write"))
    fetched = await repos.pilots.get("p1", TENANT)
    assert fetched is not None and fetched.name == "Renamed"


async def test_two_replicas_saving_the_same_version_one_wins(store_factory: StoreFactory) -> None:
    first, second = Repositories.on(await store_factory()), Repositories.on(await store_factory())
    stored = await first.pilots.add(a_pilot())
    results = await asyncio.gather(
        first.pilots.save(dataclasses.replace(stored, name="A")),
        second.pilots.save(dataclasses.replace(stored, name="B")),
        return_exceptions=True,
    )
    assert sum(isinstance(r, ConcurrencyConflict) for r in results) == 1


async def test_one_reading_per_pilot_and_period(document_store: DocumentStore) -> None:
    repos = Repositories.on(document_store)
    await repos.readings.add(a_reading())
    with pytest.raises(AlreadyExists):
        await repos.readings.add(a_reading(value=1))
    await repos.readings.add(a_reading("2026-09", 40))
    assert [str(r.period) for r in await repos.readings.list_for("p1")] == ["2026-09", "2026-10"]


async def test_one_decision_per_gate(document_store: DocumentStore) -> None:
    repos = Repositories.on(document_store)
    decision = GateDecision("p1", TENANT, date(2026, 11, 30), DecisionKind.GO, "Hit target", SPONSOR, NOW)
    await repos.decisions.add(decision)
    with pytest.raises(AlreadyExists):
        await repos.decisions.add(dataclasses.replace(decision, kind=DecisionKind.RETIRE))
    assert [d.kind for d in await repos.decisions.list_for("p1")] == [DecisionKind.GO]


async def test_conversations_are_found_by_sponsor(document_store: DocumentStore) -> None:
    repos = Repositories.on(document_store)
    ref = ConversationRef(
        "a:1xyz",
        TENANT,
        ConversationKind.PERSONAL,
        "https://smba/",
        "28:bot",
        "29:sam",
        SPONSOR.aad_object_id.upper(),
        "Sam",
        updated_at=NOW,
    )
    await repos.conversations.upsert(ref)
    found = await repos.conversations.find_personal(TENANT, SPONSOR.aad_object_id)
    assert found is not None and found.user_id == "29:sam"
    await repos.members.upsert(
        TeamMember(TENANT, SPONSOR.aad_object_id, "29:sam", "Sam", "https://smba/", bot_id="28:bot", updated_at=NOW)
    )
    member = await repos.members.find(TENANT, SPONSOR.aad_object_id.upper())
    assert member is not None and member.user_id == "29:sam"


async def test_concurrent_readings_for_one_period_store_one_and_audit_the_other(store_factory: StoreFactory) -> None:
    clock = FixedClock(NOW)
    services = []
    for _ in range(2):
        repos = Repositories.on(await store_factory())
        services.append(PilotService(repos.pilots, repos.readings, repos.decisions, repos.audit, clock))
    repos = Repositories.on(await store_factory())
    await repos.pilots.add(a_pilot())
    actor = Actor(SPONSOR.aad_object_id, SPONSOR.name)
    draft = ReadingDraft(Period(2026, 10), {"Handling time": 37.0}, HealthStatus.GREEN)
    await asyncio.gather(*(s.record_reading("p1", draft, actor, ReadingSource.TEAMS) for s in services))
    assert len(await repos.readings.list_for("p1")) == 1
    actions = sorted(e.action for e in await repos.audit.list_for("p1"))
    assert actions == ["reading.recorded", "reading.replaced"]


async def test_bot_state_round_trips_with_etags(document_store: DocumentStore) -> None:
    storage = DocumentBotStorage(document_store)
    await storage.write({"msteams/conversations/a:1/ConversationState": {"lastPilotId": "p1"}})
    read = await storage.read(["msteams/conversations/a:1/ConversationState", "missing"])
    state = read["msteams/conversations/a:1/ConversationState"]
    assert state["lastPilotId"] == "p1" and state["e_tag"]
    await storage.write({"msteams/conversations/a:1/ConversationState": {**state, "lastPilotId": "p2"}})
    with pytest.raises(ConcurrencyConflict):
        await storage.write({"msteams/conversations/a:1/ConversationState": {**state, "lastPilotId": "p3"}})
    await storage.delete(["msteams/conversations/a:1/ConversationState"])
    assert await storage.read(["msteams/conversations/a:1/ConversationState"]) == {}


async def test_conversation_state_is_kept_between_turns(document_store: DocumentStore) -> None:
    state = ConversationState(DocumentBotStorage(document_store))
    prop = state.create_property("lastPilotId")
    activity = Activity(
        type="message",
        channel_id="msteams",
        conversation=ConversationAccount(id="a:1/with?odd#chars"),
        from_property=ChannelAccount(id="29:sam"),
    )
    first = TurnContext(_NoAdapter(), activity)
    await prop.set(first, "p42")
    await state.save_changes(first)
    second = TurnContext(_NoAdapter(), activity)
    assert await prop.get(second) == "p42"


class _NoAdapter:
    """TurnContext needs an adapter object; state never calls it."""


async def test_only_records_that_still_list_audit_events_are_found_pending(document_store: DocumentStore) -> None:
    repos = Repositories.on(document_store)
    event = AuditEvent("e1", TENANT, "p1", SPONSOR.aad_object_id, NOW, "reading.recorded", None, {"period": "2026-10"})
    await repos.readings.add(a_reading("2026-09", 40))
    pending = await repos.readings.add(dataclasses.replace(a_reading("2026-10"), pending_audit=(event,)))
    assert [str(r.period) for r in await repos.readings.with_pending_audit("p1")] == ["2026-10"]
    assert (await repos.readings.with_pending_audit("p1"))[0].pending_audit == (event,)
    await repos.readings.save(dataclasses.replace(pending, pending_audit=()))
    assert await repos.readings.with_pending_audit("p1") == []
    assert await repos.decisions.with_pending_audit("p1") == []


async def test_tenant_settings_default_then_saved_then_guarded(document_store: DocumentStore) -> None:
    from governance.model import ChannelLink, TenantSettings

    tenants = Repositories.on(document_store).tenants
    assert await tenants.get(TENANT) == TenantSettings(TENANT)
    assert await tenants.with_leadership_channel() == []

    channel = ChannelLink("19:leaders@thread.tacv2", "19:team@thread.tacv2", "Leadership")
    saved = await tenants.save(
        TenantSettings(TENANT, leadership_channel=channel, report_timezone="Europe/Berlin", default_country="DE")
    )
    assert saved.version
    again = await tenants.get(TENANT)
    assert (again.leadership_channel, again.report_timezone, again.default_country) == (channel, "Europe/Berlin", "DE")
    assert [s.tenant_id for s in await tenants.with_leadership_channel()] == [TENANT]

    with pytest.raises(AlreadyExists):  # a second admin who also started from the defaults
        await tenants.save(TenantSettings(TENANT, report_business_day=3))
    await tenants.save(dataclasses.replace(again, report_business_day=3))
    with pytest.raises(ConcurrencyConflict):  # the first admin's copy is now stale
        await tenants.save(dataclasses.replace(again, report_business_day=7))
    unlinked = dataclasses.replace(await tenants.get(TENANT), leadership_channel=None)
    await tenants.save(unlinked)
    assert await tenants.with_leadership_channel() == []
