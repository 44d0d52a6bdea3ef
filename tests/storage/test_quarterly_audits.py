"""The quarterly audit's store on memory, SQLite and Cosmos DB: one open audit per tenant, whoever presses."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date
from pathlib import Path

import pytest

from governance.audit_service import QuarterlyAuditService
from governance.errors import AlreadyExists, ConcurrencyConflict
from governance.model import Integration, Person
from governance.quarterly_audit import (
    AdminDecision,
    Attestation,
    AuditStatus,
    ItemState,
    Outcome,
    QuarterlyAudit,
    Recommendation,
    audit_id,
    snapshot_item,
)
from governance.services import Actor, PilotService
from storage.documents import DocumentStore
from storage.repositories import Repositories
from tests.bots.test_quarterly_audit import whole_audit
from tests.conftest import start_harness, stop_harness
from tests.fakes import FixedClock
from tests.storage.conftest import StoreFactory
from tests.storage.test_repositories_contract import NOW, SPONSOR, TENANT, a_pilot
from tests.teams_sim import FakeConnector

ADMIN = Actor("ad000000-0000-4000-8000-0000000000a1", "Ada Admin", is_admin=True)


def an_audit(quarter: str = "2026-Q4") -> QuarterlyAudit:
    attested = dataclasses.replace(
        snapshot_item(a_pilot(), True),
        attestation=Attestation(
            by=SPONSOR,
            at=NOW,
            metric_name="Handling time",
            baseline=41.0,
            target=30.0,
            target_date=date(2027, 2, 1),
            integration=Integration.PARTLY,
            governance={"dataLabels": ItemState.DONE, "dlp": ItemState.IN_PROGRESS},
            recommendation=Recommendation.NARROW,
            recommended_date=date(2027, 3, 1),
            note="EMEA only",
        ),
        decision=AdminDecision(Recommendation.RETIRE, date(2027, 1, 15), "", Person("a", "A"), NOW, False),
        outcome=Outcome.DECIDED,
    )
    return QuarterlyAudit(
        id=audit_id(TENANT, quarter),
        tenant_id=TENANT,
        quarter=quarter,
        status=AuditStatus.OPEN,
        opened_by=ADMIN.person,
        opened_at=NOW,
        items=(attested, snapshot_item(a_pilot("p2", "Invoice OCR"), False)),
    )


async def test_an_audit_reads_back_as_written(document_store: DocumentStore) -> None:
    audits = Repositories.on(document_store).audits
    stored = await audits.create(an_audit())
    assert stored.version
    again = await audits.get(TENANT, stored.id)
    assert again == stored
    assert await audits.get(None, stored.id) == stored  # by id alone (REST), across tenants
    assert await audits.open_for(TENANT) == stored
    assert await audits.open_for("another-tenant") is None


async def test_a_tenant_has_one_open_audit_and_a_stale_write_is_refused(document_store: DocumentStore) -> None:
    audits = Repositories.on(document_store).audits
    first = await audits.create(an_audit("2026-Q4"))
    with pytest.raises(AlreadyExists):
        await audits.create(an_audit("2026-Q4"))  # the same quarter
    with pytest.raises(AlreadyExists):
        await audits.create(an_audit("2027-Q1"))  # another quarter while one is open
    closed = await audits.save(dataclasses.replace(first, status=AuditStatus.CLOSED))
    with pytest.raises(ConcurrencyConflict):
        await audits.save(dataclasses.replace(first, status=AuditStatus.CLOSED))
    next_quarter = await audits.create(an_audit("2027-Q1"))
    assert await audits.open_for(TENANT) == next_quarter
    assert [a.quarter for a in await audits.list_for(TENANT)] == ["2027-Q1", "2026-Q4"]
    assert (await audits.list_for(TENANT))[1] == closed


async def test_two_admins_opening_at_once_on_two_replicas_get_one_audit(store_factory: StoreFactory) -> None:
    services = []
    for _ in range(2):
        repos = Repositories.on(await store_factory())
        services.append(_service(repos))
    await Repositories.on(await store_factory()).pilots.add(a_pilot())
    results = await asyncio.gather(*(service.open(TENANT, ADMIN) for service in services))
    assert results[0][0].id == results[1][0].id
    assert sorted(opened for _, opened in results) == [False, True]
    assert len(await services[0].list(TENANT)) == 1


def _service(repos: Repositories) -> QuarterlyAuditService:
    clock = FixedClock(NOW)
    pilots = PilotService(repos.pilots, repos.readings, repos.decisions, repos.audit, clock, repos.agenda)
    return QuarterlyAuditService(
        repos.audits,
        repos.pilots,
        pilots,
        repos.conversations,
        repos.members,
        repos.tenants,
        clock,
        agenda=repos.agenda,
    )


async def test_the_whole_audit_through_teams_on_this_store(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(tmp_path, connector, store=await store_factory())
    try:
        await whole_audit(h)
    finally:
        await stop_harness(h)
