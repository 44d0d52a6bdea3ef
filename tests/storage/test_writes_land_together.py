"""Writes that belong together (issue 10, finding 3): a store that fails at each write in turn leaves, after the
caller's retry or the next sweep, every pilot whole (its change and its one audit event) and scheduled."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from api.schemas import PilotIn
from governance.decisions import DecisionDraft
from governance.errors import GateAlreadyDecided, StorageUnavailable
from governance.model import DecisionKind, HealthStatus, ReadingSource, Stage
from governance.period import Period
from governance.rules import ReadingDraft
from governance.services import Actor, PilotService
from scheduler.gates import GatePlanner
from scheduler.repair import RepairPlanner
from storage.documents import Document, DocumentStore
from storage.repositories import Repositories
from storage.sqlite_store import SqliteDocumentStore
from tests.conftest import Harness, start_harness, stop_harness
from tests.fakes import FixedClock, MemoryDocumentStore
from tests.helpers import pilot_body
from tests.store_wrappers import PassThrough
from tests.teams_sim import SPONSOR, TENANT, FakeConnector

# The request's writes (agenda, the change with its event, the event into the trail) and the first sweep's.
WRITES_PER_CHANGE = 6


class FailingStore(PassThrough):
    """A DocumentStore that fails its ``fail_at``-th write (counted from ``arm()``) once, as an outage would."""

    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self._fail_at: int | None = None
        self._writes = 0
        self.failed = False

    def arm(self, fail_at: int) -> None:
        self._fail_at, self._writes, self.failed = fail_at, 0, False

    def _write(self) -> None:
        self._writes += 1
        if self._writes == self._fail_at:
            self.failed = True
            raise StorageUnavailable(f"injected failure of write {self._writes}")

    async def create(self, container: str, doc: Document) -> Document:
        self._write()
        return await super().create(container, doc)

    async def replace(self, container: str, doc: Document, etag: str | None = None) -> Document:
        self._write()
        return await super().replace(container, doc, etag)

    async def upsert(self, container: str, doc: Document) -> Document:
        self._write()
        return await super().upsert(container, doc)

    async def delete(self, container: str, partition: str, doc_id: str, etag: str | None = None) -> None:
        self._write()
        await super().delete(container, partition, doc_id, etag)


async def sweeps(h: Harness, at: str) -> None:
    """The next sweep and, in case the failing write hit that one, the sweep after it (a repair that did not finish
    puts the pilot back on the agenda five minutes later)."""
    first = datetime.fromisoformat(at.replace("Z", "+00:00"))
    for moment in (first, first + timedelta(minutes=6)):
        status, report = await h.api("POST", "/api/scheduler/tick", {"now": moment.isoformat()})
        assert status == 200, report


async def assert_whole_and_scheduled(repos: Repositories, pilot_id: str, actions: dict[str, int]) -> None:
    pilot = await repos.pilots.get(pilot_id, TENANT.id)
    assert pilot is not None and not pilot.pending_audit
    for reading in await repos.readings.list_for(pilot_id):
        assert not reading.pending_audit
    for decision in await repos.decisions.list_for(pilot_id):
        assert not decision.pending_audit
    trail = [event.action for event in await repos.audit.list_for(pilot_id)]
    assert {action: trail.count(action) for action in actions} == actions, trail
    agenda = await repos.agenda.get(pilot_id)
    assert agenda is not None and agenda.next_due_at is not None


@pytest.mark.parametrize("fail_at", range(1, WRITES_PER_CHANGE + 1))
async def test_a_registration_hit_by_a_failing_write_is_whole_after_the_retry_and_the_sweep(
    tmp_path: Path, fail_at: int
) -> None:
    store = FailingStore(SqliteDocumentStore(tmp_path / "store.db"))
    async with FakeConnector() as connector:
        h = await start_harness(tmp_path, connector, store=store)
        try:
            h.clock.set(datetime(2026, 11, 20, 12, tzinfo=UTC))
            store.arm(fail_at)
            status, body = await h.api("POST", "/api/pilots", pilot_body())
            if status == 503:  # nothing was changed that a retry would trip over
                status, body = await h.api("POST", "/api/pilots", pilot_body())
            assert status == 201, body
            await sweeps(h, "2026-11-20T12:00:00Z")
            assert store.failed  # the failure hit the request or the first sweep
            pilots = await h.repos.pilots.list(TENANT.id)
            assert [p.id for p in pilots] == [body["id"]]
            await assert_whole_and_scheduled(h.repos, body["id"], {"pilot.created": 1})
        finally:
            await stop_harness(h)


@pytest.mark.parametrize("fail_at", range(1, WRITES_PER_CHANGE + 1))
async def test_a_reading_hit_by_a_failing_write_is_whole_after_the_retry_and_the_sweep(
    tmp_path: Path, fail_at: int
) -> None:
    store = FailingStore(SqliteDocumentStore(tmp_path / "store.db"))
    async with FakeConnector() as connector:
        h = await start_harness(tmp_path, connector, store=store)
        try:
            status, pilot = await h.api("POST", "/api/pilots", pilot_body())
            assert status == 201
            reading = {"period": "2026-10", "values": {"Handling time": 38}, "status": "amber"}
            store.arm(fail_at)
            status, body = await h.api("POST", f"/api/pilots/{pilot['id']}/readings", reading)
            if status == 503:
                status, body = await h.api("POST", f"/api/pilots/{pilot['id']}/readings", reading)
            assert status == 201, body
            await sweeps(h, "2026-11-26T12:00:00Z")
            stored = await h.repos.readings.get(pilot["id"], Period(2026, 10))
            assert stored is not None and stored.values == {"Handling time": 38.0}
            await assert_whole_and_scheduled(h.repos, pilot["id"], {"pilot.created": 1, "reading.recorded": 1})
        finally:
            await stop_harness(h)


@pytest.mark.parametrize("fail_at", range(1, WRITES_PER_CHANGE + 2))
async def test_a_decision_hit_by_a_failing_write_is_whole_after_the_retry_and_the_sweep(fail_at: int) -> None:
    store = FailingStore(MemoryDocumentStore())
    await store.open()
    repos = Repositories.on(store)
    clock = FixedClock(datetime(2026, 9, 1, 12, tzinfo=UTC))
    service = PilotService(repos.pilots, repos.readings, repos.decisions, repos.audit, clock, repos.agenda)
    sponsor = Actor(SPONSOR.aad_object_id, SPONSOR.name)
    pilot = await service.register(PilotIn.model_validate(pilot_body()).to_draft(), TENANT.id, sponsor)
    october = ReadingDraft(Period(2026, 10), {"Handling time": 31.0}, HealthStatus.GREEN)
    await service.record_reading(pilot.id, october, sponsor, ReadingSource.API)
    clock.set(datetime(2026, 11, 30, 15, tzinfo=UTC))
    go = DecisionDraft(DecisionKind.GO, "Met", expansion_scope="All claims teams", expansion_date=date(2027, 1, 4))
    store.arm(fail_at)
    try:
        await service.decide(pilot.id, TENANT.id, pilot.gate_date, go, sponsor)
    except StorageUnavailable:
        # The sponsor presses again; if the decision was recorded before the failure, the sweep finishes it.
        with contextlib.suppress(GateAlreadyDecided):
            await service.decide(pilot.id, TENANT.id, pilot.gate_date, go, sponsor)
    current = await repos.pilots.get(pilot.id, TENANT.id)
    assert current is not None
    for planner in (
        RepairPlanner(service.repair),
        GatePlanner(repos.readings, repos.decisions, service.finish_decision),
    ):
        await planner(current, clock.now())  # as the next sweep runs them
    await RepairPlanner(service.repair)(current, clock.now())  # and the one after, for what the effects wrote
    decided = await repos.pilots.get(pilot.id, TENANT.id)
    assert decided is not None and decided.stage is Stage.PRODUCTION
    assert len(await repos.decisions.list_for(pilot.id)) == 1
    await assert_whole_and_scheduled(repos, pilot.id, {"pilot.created": 1, "reading.recorded": 1, "gate.go": 1})
