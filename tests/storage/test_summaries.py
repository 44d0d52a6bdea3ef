"""The per-pilot summary (storage.summaries): it agrees with each pilot's status built from the sources, a store that
fails at any write of any change leaves no summary that reads as clean but is stale, racing writers leave it
current, data from before summaries is summarised on first read, and a tenant's portfolio costs a constant number of
store queries however many pilots it has."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from api.schemas import PilotIn
from bench.seed import SeedPlan, seed, sponsors
from governance.checkin import checkin_log_key, is_checkin_log_key
from governance.decisions import DecisionDraft
from governance.errors import GovernanceError
from governance.model import DecisionKind, HealthStatus, Pilot, ReadingSource, SendRecord, SendStatus
from governance.period import Period
from governance.rules import ReadingDraft
from governance.services import Actor, PilotService
from governance.views import PilotFacts, PilotStatus
from storage.documents import DocumentStore
from storage.repositories import Repositories
from storage.summaries import KEPT_CHECKINS, STALE_AFTER, SUMMARIES, facts_from_doc
from tests.fakes import FixedClock, MemoryDocumentStore
from tests.helpers import pilot_body
from tests.storage.conftest import StoreFactory
from tests.storage.test_writes_land_together import FailingStore
from tests.store_wrappers import BeforeSummaries
from tests.teams_sim import SPONSOR, TENANT

# Thursday 10 December 2026: November's check-in went out on Tuesday 1 December at 09:00 local, so it is overdue from
# 09:00 local today (the 7th business day after).
ESCALATION_DAY = datetime(2026, 12, 10, 9, tzinfo=UTC)
BEFORE = ESCALATION_DAY - timedelta(minutes=1)
SPONSOR_ACTOR = Actor(SPONSOR.aad_object_id, SPONSOR.name)


def service(repos: Repositories, clock: FixedClock) -> PilotService:
    return PilotService(repos.pilots, repos.readings, repos.decisions, repos.audit, clock, repos.agenda)


async def from_sources(repos: Repositories, pilot_id: str) -> PilotFacts | None:
    """The facts of a pilot read through its repositories, as a summary holds them (no pending audit events)."""
    pilot = await repos.pilots.get(pilot_id, TENANT.id)
    if pilot is None:
        return None
    sends = [
        r for r in await repos.sendlog.list_for(pilot_id) if is_checkin_log_key(r.key) and r.status is SendStatus.SENT
    ]
    return PilotFacts(
        pilot=dataclasses.replace(pilot, pending_audit=()),
        readings=tuple(dataclasses.replace(r, pending_audit=()) for r in await repos.readings.list_for(pilot_id)),
        decisions=tuple(dataclasses.replace(d, pending_audit=()) for d in await repos.decisions.list_for(pilot_id)),
        checkins=tuple(sorted(sends, key=lambda r: r.key)[-KEPT_CHECKINS:]),
    )


async def assert_no_clean_summary_is_stale(store: DocumentStore, repos: Repositories) -> int:
    """Every summary without a pending mark holds what the sources say; returns how many are dirty."""
    dirty = 0
    for doc in await store.query(SUMMARIES, partition=TENANT.id):
        if doc.get("kind") != "pilot":
            continue
        if doc.get("pending") or not doc.get("built"):
            dirty += 1
            continue
        expected = await from_sources(repos, doc["id"])
        assert expected is not None, f"a clean summary of pilot {doc['id']}, which does not exist"
        assert facts_from_doc(doc) == expected
    return dirty


def comparable(status: PilotStatus) -> PilotStatus:
    """A status without the audit events still pending in its records (not facts; a summary leaves them out)."""
    return dataclasses.replace(
        status,
        pilot=dataclasses.replace(status.pilot, pending_audit=()),
        readings=tuple(dataclasses.replace(r, pending_audit=()) for r in status.readings),
        decisions=tuple(dataclasses.replace(d, pending_audit=()) for d in status.decisions),
        gate=dataclasses.replace(
            status.gate,
            pilot=dataclasses.replace(status.gate.pilot, pending_audit=()),
            decisions=tuple(dataclasses.replace(d, pending_audit=()) for d in status.gate.decisions),
        ),
        checkin=dataclasses.replace(status.checkin, pilot=dataclasses.replace(status.pilot, pending_audit=())),
    )


async def assert_portfolio_agrees(repos: Repositories, clock: FixedClock) -> list[PilotStatus]:
    """`pilots` (from the summaries) shows for every pilot what `status <pilot>` (from the sources) shows."""
    reads = repos.portfolio(clock)
    statuses = await reads.statuses(TENANT.id)
    one_by_one = [await reads.status(s.pilot) for s in statuses]
    assert [comparable(s) for s in statuses] == [comparable(s) for s in one_by_one]
    assert {s.pilot.id for s in statuses} == {p.id for p in await repos.pilots.list(TENANT.id)}
    return statuses


# -- agreement ---------------------------------------------------------------------------------------------------


async def seed_portfolio(repos: Repositories, pilots: int) -> None:
    """Pilots with months of readings, some decisions, and the November check-in card sent for some of them (late
    for a few, which moves their overdue moment to a later day)."""
    await seed(repos, SeedPlan(TENANT.id, pilots, BEFORE - timedelta(hours=2), sponsors(12, random.Random(3))))
    for i, pilot in enumerate(sorted(await repos.pilots.list(TENANT.id), key=lambda p: p.id)):
        if i % 3 == 0:
            continue
        sent_at = datetime(2026, 12, 1, 9, tzinfo=UTC) + timedelta(days=1 if i % 3 == 1 else 0, minutes=i)
        key = checkin_log_key(Period(2026, 11))
        await repos.sendlog.create(SendRecord(pilot.id, TENANT.id, key, SendStatus.SENT, sent_at, sent_at=sent_at))


async def test_the_portfolio_from_summaries_agrees_with_each_pilots_status_across_the_overdue_minute(
    store_factory: StoreFactory,
) -> None:
    clock = FixedClock(BEFORE)
    repos = Repositories.on(await store_factory(), clock)
    await seed_portfolio(repos, 60)
    before = {s.pilot.id for s in await assert_portfolio_agrees(repos, clock) if s.checkin_overdue_days}
    clock.set(ESCALATION_DAY)
    after = {s.pilot.id for s in await assert_portfolio_agrees(repos, clock) if s.checkin_overdue_days}
    assert before < after  # the UTC pilots whose November card went out on time became overdue at 09:00
    clock.set(ESCALATION_DAY + timedelta(days=1))
    later = {s.pilot.id for s in await assert_portfolio_agrees(repos, clock) if s.checkin_overdue_days}
    assert after < later  # and those whose card went out a day late, a business day later
    reads = repos.portfolio(clock)
    overdue = [s.pilot.id for s in await reads.overdue(TENANT.id)]
    assert overdue == [s.pilot.id for s in await reads.statuses(TENANT.id) if s.needs_attention]


# -- a store that fails at each write of each change ---------------------------------------------------------------

Change = Callable[[PilotService, Repositories, Pilot | None], Awaitable[Any]]
CLAIMED_AT = datetime(2026, 11, 2, 8, tzinfo=UTC)
CLAIM = SendRecord("", TENANT.id, checkin_log_key(Period(2026, 10)), SendStatus.PENDING, CLAIMED_AT)


async def register(svc: PilotService, repos: Repositories, pilot: Pilot | None) -> Any:
    draft = PilotIn.model_validate(pilot_body(name="Invoice matching")).to_draft()
    return await svc.register(draft, TENANT.id, SPONSOR_ACTOR)


async def update(svc: PilotService, repos: Repositories, pilot: Pilot | None) -> Any:
    assert pilot is not None
    return await svc.update(pilot.id, {"budget_monthly": 9000.0, "name": "Claims triage copilot"}, SPONSOR_ACTOR)


async def reading(svc: PilotService, repos: Repositories, pilot: Pilot | None) -> Any:
    assert pilot is not None
    draft = ReadingDraft(Period(2026, 10), {"Handling time": 36.0, "Accuracy": 84.0}, HealthStatus.AMBER, spend=14000)
    return await svc.record_reading(pilot.id, draft, SPONSOR_ACTOR, ReadingSource.TEAMS)


async def decision(svc: PilotService, repos: Repositories, pilot: Pilot | None) -> Any:
    assert pilot is not None
    go = DecisionDraft(DecisionKind.GO, "Met", expansion_scope="All claims teams", expansion_date=date(2027, 1, 4))
    return await svc.decide(pilot.id, TENANT.id, pilot.gate_date, go, SPONSOR_ACTOR)


async def claim(svc: PilotService, repos: Repositories, pilot: Pilot | None) -> Any:
    assert pilot is not None
    return await repos.sendlog.create(dataclasses.replace(CLAIM, pilot_id=pilot.id))


async def sent(svc: PilotService, repos: Repositories, pilot: Pilot | None) -> Any:
    assert pilot is not None
    current = await repos.sendlog.get(pilot.id, CLAIM.key)
    assert current is not None
    moment = datetime(2026, 11, 2, 8, 1, tzinfo=UTC)
    return await repos.sendlog.replace(dataclasses.replace(current, status=SendStatus.SENT, sent_at=moment))


# The most writes one change makes: a decision's agenda, mark, decision, settle, audit copy, then the same for the
# pilot's new stage.
MOST_WRITES = 10
CHANGES: dict[str, tuple[Change, datetime]] = {
    "pilot created": (register, datetime(2026, 11, 20, 12, tzinfo=UTC)),
    "pilot updated": (update, datetime(2026, 11, 20, 12, tzinfo=UTC)),
    "reading": (reading, datetime(2026, 11, 20, 12, tzinfo=UTC)),
    "decision": (decision, datetime(2026, 11, 30, 15, tzinfo=UTC)),
    "send-log claim": (claim, datetime(2026, 11, 2, 8, tzinfo=UTC)),
    "send-log sent": (sent, datetime(2026, 11, 2, 8, 1, tzinfo=UTC)),
}


@pytest.mark.parametrize("fail_at", range(1, MOST_WRITES + 1))
@pytest.mark.parametrize("change", list(CHANGES))
async def test_a_change_hit_by_a_failing_write_leaves_no_summary_that_reads_clean_but_stale(
    change: str, fail_at: int
) -> None:
    do, moment = CHANGES[change]
    store = FailingStore(MemoryDocumentStore())
    await store.open()
    clock = FixedClock(datetime(2026, 9, 1, 12, tzinfo=UTC))
    repos = Repositories.on(store, clock)
    svc = service(repos, clock)
    pilot = await svc.register(PilotIn.model_validate(pilot_body()).to_draft(), TENANT.id, SPONSOR_ACTOR)
    if change == "send-log sent":
        await claim(svc, repos, pilot)
    await assert_portfolio_agrees(repos, clock)  # the tenant is summarised
    clock.set(moment)

    store.arm(fail_at)
    try:
        await do(svc, repos, pilot)
    except GovernanceError:
        assert store.failed
    # At once: no summary reads as clean unless it is current, and `pilots` shows what the sources say.
    await assert_no_clean_summary_is_stale(store, repos)
    await assert_portfolio_agrees(repos, clock)

    # The person tries again (a change that landed before the failure may refuse the retry), and later the sweep's
    # repair clears the marks of writers that are gone.
    with contextlib.suppress(GovernanceError):
        await do(svc, repos, pilot)
    clock.advance(seconds=STALE_AFTER.total_seconds() + 60)
    for each in await repos.pilots.list(TENANT.id):
        assert await repos.summaries.repair(each)
    assert await assert_no_clean_summary_is_stale(store, repos) == 0
    await assert_portfolio_agrees(repos, clock)


# -- two writers racing ------------------------------------------------------------------------------------------


class SettleHook:
    """A store that runs ``hook`` once, just before its ``nth`` replace of a summary: another replica's change lands
    between this writer's read of the summary and its conditional write."""

    def __init__(self, inner: DocumentStore, nth: int, hook: Callable[[], Awaitable[object]]) -> None:
        self._inner, self._nth, self._hook = inner, nth, hook
        self._seen = 0
        self.name = inner.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def replace(self, container: str, doc: dict[str, Any], etag: str | None = None) -> dict[str, Any]:
        if container == SUMMARIES:
            self._seen += 1
            if self._seen == self._nth:
                await self._hook()
        return await self._inner.replace(container, doc, etag)


async def test_a_settle_that_loses_the_race_to_a_mark_keeps_that_change_dirty_until_it_settles(
    store_factory: StoreFactory,
) -> None:
    """Replica A settles its reading; just before A's write, replica B marks the summary, writes its reading and
    dies before settling. A's write must not make the summary read as clean without B's reading."""
    clock = FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC))
    shared = await store_factory()
    setup = Repositories.on(shared, clock)
    pilot = await service(setup, clock).register(
        PilotIn.model_validate(pilot_body()).to_draft(), TENANT.id, SPONSOR_ACTOR
    )
    await assert_portfolio_agrees(setup, clock)

    dies = FailingStore(await store_factory())
    b = Repositories.on(dies, clock)
    november = ReadingDraft(Period(2026, 10), {"Handling time": 33.0, "Accuracy": 88.0}, HealthStatus.GREEN)

    async def b_writes_and_dies() -> None:
        dies.arm(4)  # B's agenda, mark and reading land; its settle (the 4th write) fails
        await service(b, clock).record_reading(pilot.id, november, SPONSOR_ACTOR, ReadingSource.API)
        assert dies.failed

    a = Repositories.on(SettleHook(await store_factory(), 2, b_writes_and_dies), clock)  # type: ignore[arg-type]
    await service(a, clock).update(pilot.id, {"budget_monthly": 9000.0}, SPONSOR_ACTOR)  # A: mark, save, settle

    assert await assert_no_clean_summary_is_stale(shared, setup) == 1  # B's mark is still there
    [status] = await assert_portfolio_agrees(setup, clock)
    assert status.pilot.budget_monthly == 9000.0 and status.last_checkin is not None
    assert status.last_checkin.values["Handling time"] == 33.0
    clock.advance(seconds=STALE_AFTER.total_seconds() + 1)
    await assert_portfolio_agrees(setup, clock)  # the reader drops the mark of a writer that is gone
    assert await assert_no_clean_summary_is_stale(shared, setup) == 0


async def test_many_changes_from_two_replicas_at_once_leave_no_summary_stale(
    store_factory: StoreFactory,
) -> None:
    clock = FixedClock(datetime(2026, 9, 1, 12, tzinfo=UTC))
    first, second = Repositories.on(await store_factory(), clock), Repositories.on(await store_factory(), clock)
    one, two = service(first, clock), service(second, clock)
    pilots = [
        await one.register(PilotIn.model_validate(pilot_body(name=name)).to_draft(), TENANT.id, SPONSOR_ACTOR)
        for name in ("Claims triage", "Invoice matching")
    ]
    clock.set(datetime(2027, 2, 20, 12, tzinfo=UTC))

    async def readings(svc: PilotService, pilot: Pilot, months: range) -> None:
        for month in months:
            draft = ReadingDraft(Period(2026, month), {"Handling time": 40.0 - month}, HealthStatus.GREEN, spend=month)
            await svc.record_reading(pilot.id, draft, SPONSOR_ACTOR, ReadingSource.API)

    async def budgets(svc: PilotService, pilot: Pilot) -> None:
        for budget in (1000.0, 2000.0, 3000.0):
            with contextlib.suppress(GovernanceError):  # a lost ETag race on the pilot is the caller's to retry
                await svc.update(pilot.id, {"budget_monthly": budget}, SPONSOR_ACTOR)

    async def sends(repos: Repositories, pilot: Pilot) -> None:
        for month in (9, 10, 11):
            at = datetime(2026, month + 1, 1, 9, tzinfo=UTC)
            key = checkin_log_key(Period(2026, month))
            await repos.sendlog.create(SendRecord(pilot.id, TENANT.id, key, SendStatus.SENT, at, sent_at=at))

    await asyncio.gather(
        *(readings(one, p, range(9, 13, 2)) for p in pilots),
        *(readings(two, p, range(10, 13, 2)) for p in pilots),
        *(budgets(one, p) for p in pilots),
        *(budgets(two, p) for p in pilots),
        *(sends(second, p) for p in pilots),
    )
    # A settle that lost too many ETag races in a row gives up and leaves its mark: dirty, never stale.
    await assert_no_clean_summary_is_stale(first.store, first)
    statuses = await assert_portfolio_agrees(first, clock)
    assert [len(s.readings) for s in statuses] == [4, 4]
    assert [s.total_spend for s in statuses] == [42.0, 42.0]
    clock.advance(seconds=STALE_AFTER.total_seconds() + 1)
    await assert_portfolio_agrees(first, clock)
    assert await assert_no_clean_summary_is_stale(first.store, first) == 0


# -- data from before summaries ----------------------------------------------------------------------------------


async def test_pilots_from_before_summaries_are_summarised_on_the_first_read_and_by_the_repair(
    store_factory: StoreFactory,
) -> None:
    clock = FixedClock(BEFORE)
    store = await store_factory()
    await seed_portfolio(Repositories.on(BeforeSummaries(store), clock), 12)  # type: ignore[arg-type]
    repos = Repositories.on(store, clock)
    assert await store.query(SUMMARIES, partition=TENANT.id) == []
    await assert_portfolio_agrees(repos, clock)
    summaries = await store.query(SUMMARIES, partition=TENANT.id)
    assert len(summaries) == 12 + 1  # one per pilot and the tenant's marker
    assert await assert_no_clean_summary_is_stale(store, repos) == 0

    # One more pilot written the old way (by a replica not yet upgraded): the sweep's repair summarises it.
    old = Repositories.on(BeforeSummaries(store), clock)  # type: ignore[arg-type]
    late = await service(old, clock).register(
        PilotIn.model_validate(pilot_body(name="Late arrival")).to_draft(), TENANT.id, SPONSOR_ACTOR
    )
    assert await repos.summaries.repair(late)
    assert await assert_no_clean_summary_is_stale(store, repos) == 0
    await assert_portfolio_agrees(repos, clock)


# -- the stored layout -------------------------------------------------------------------------------------------


async def test_summaries_are_packed_and_those_written_before_packing_still_read_and_repack_on_change(
    store_factory: StoreFactory,
) -> None:
    """A summary stores its facts as one compact JSON string (no tenant, pilot or type repeated per fact); one from
    before packing (facts as values, source documents whole) reads the same and is packed by its next change."""
    clock = FixedClock(BEFORE)
    store = await store_factory()
    repos = Repositories.on(store, clock)
    await seed_portfolio(repos, 4)
    statuses = await assert_portfolio_agrees(repos, clock)
    docs = [doc for doc in await store.query(SUMMARIES, partition=TENANT.id) if doc.get("kind") == "pilot"]
    assert docs and all(isinstance(doc["facts"], str) and "pilot" not in doc for doc in docs)
    assert all('"tenantId"' not in doc["facts"] and '"type"' not in doc["facts"] for doc in docs)

    # Rewrite one summary the way the version before packing wrote it: the sources' documents, whole.
    pilot = statuses[0].pilot
    old = next(doc for doc in docs if doc["id"] == pilot.id)
    unpacked = {key: value for key, value in old.items() if key != "facts"}
    unpacked["pilot"] = await store.read("pilots", TENANT.id, pilot.id)
    unpacked["readings"] = await store.query("readings", partition=pilot.id)
    unpacked["decisions"] = await store.query("decisions", partition=pilot.id)
    sends = await store.query("sendlog", partition=pilot.id)
    unpacked["checkins"] = [s for s in sends if is_checkin_log_key(s["id"]) and s["status"] == "sent"]
    await store.replace(SUMMARIES, unpacked, old["_etag"])
    fresh = Repositories.on(store, clock)  # no decoded summaries kept from before
    await assert_portfolio_agrees(fresh, clock)
    assert await assert_no_clean_summary_is_stale(store, fresh) == 0

    november = ReadingDraft(Period(2026, 11), {pilot.metrics[0].name: pilot.metrics[0].baseline}, HealthStatus.GREEN)
    # Any change of the pilot packs its summary again.
    sponsor = Actor(pilot.sponsor.aad_object_id, pilot.sponsor.name)
    await service(fresh, clock).record_reading(pilot.id, november, sponsor, ReadingSource.API)
    repacked = await store.read(SUMMARIES, TENANT.id, pilot.id)
    assert repacked is not None and isinstance(repacked["facts"], str) and "readings" not in repacked
    await assert_portfolio_agrees(fresh, clock)
