"""The quarterly audit's rules and service on the memory store: gaps, a close that fails half way and is pressed
again, the outcome the monthly report reads."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from governance.audit_service import QuarterlyAuditService
from governance.errors import StorageUnavailable, ValidationFailed
from governance.model import GOVERNANCE_ITEMS, Direction, Integration, Metric, Pilot, Stage
from governance.quarterly_audit import (
    AttestationDraft,
    AuditStatus,
    Gap,
    ItemState,
    Outcome,
    Recommendation,
    quarter_of,
    snapshot_item,
    summary_of,
    summary_text,
)
from governance.services import Actor, PilotService
from storage.documents import Document
from storage.repositories import Repositories
from tests.fakes import FixedClock, MemoryDocumentStore

TENANT = "t1"
SPONSOR = Actor("aad-sponsor", "Sam Sponsor")
ADMIN = Actor("aad-admin", "Ada Admin", is_admin=True)
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


class AuditSaveFailsOnce(MemoryDocumentStore):
    """The store goes away once, at the audit's closing write (after the decisions were recorded)."""

    failing = False

    async def replace(self, container: str, doc: Document, etag: str | None = None) -> Document:
        if self.failing and container == "audits" and doc.get("status") == "closed":
            self.failing = False
            raise StorageUnavailable("injected")
        return await super().replace(container, doc, etag)


def a_pilot(pilot_id: str, name: str) -> Pilot:
    return Pilot(
        id=pilot_id,
        tenant_id=TENANT,
        name=name,
        sponsor=SPONSOR.person,
        metrics=(Metric("Handling time", "min", 42, 30, Direction.DECREASE),),
        start_date=date(2026, 9, 1),
        gate_date=date(2027, 6, 30),
        governance=dict.fromkeys(GOVERNANCE_ITEMS, True),
    )


def a_draft(**overrides: object) -> AttestationDraft:
    values: dict[str, object] = {
        "metric_name": "Handling time",
        "baseline": 41.0,
        "target": 30.0,
        "target_date": date(2027, 3, 31),
        "integration": Integration.YES,
        "governance": dict.fromkeys(GOVERNANCE_ITEMS, ItemState.DONE),
        "recommendation": Recommendation.NARROW,
        "recommended_date": date(2027, 2, 15),
    }
    return AttestationDraft(**(values | overrides))  # type: ignore[arg-type]


async def setup() -> tuple[AuditSaveFailsOnce, Repositories, QuarterlyAuditService]:
    store = AuditSaveFailsOnce()
    await store.open()
    repos = Repositories.on(store)
    clock = FixedClock(NOW)
    pilots = PilotService(repos.pilots, repos.readings, repos.decisions, repos.audit, clock, repos.agenda)
    service = QuarterlyAuditService(
        repos.audits, repos.pilots, pilots, repos.conversations, repos.members, repos.tenants, clock
    )
    for pilot in (a_pilot("p1", "Claims triage"), a_pilot("p2", "Invoice OCR")):
        await repos.pilots.add(pilot)
    await repos.pilots.add(dataclasses.replace(a_pilot("p3", "Old bot"), stage=Stage.RETIRED))
    return store, repos, service


def test_quarters_and_gaps() -> None:
    assert [quarter_of(date(2026, m, 1)) for m in (1, 3, 4, 12)] == ["2026-Q1", "2026-Q1", "2026-Q2", "2026-Q4"]
    item = snapshot_item(dataclasses.replace(a_pilot("p1", "x"), governance={"dlp": True}), reachable=False)
    assert item.gaps == (Gap.NO_INTEGRATION, Gap.GOVERNANCE, Gap.UNREACHABLE)


async def test_the_snapshot_lists_the_pilot_stages_only_and_attestation_is_checked() -> None:
    _, _, service = await setup()
    audit, opened = await service.open(TENANT, ADMIN)
    assert opened and [item.name for item in audit.items] == ["Claims triage", "Invoice OCR"]
    with pytest.raises(ValidationFailed) as caught:
        await service.attest(TENANT, audit.id, "p1", a_draft(recommended_date=date(2026, 1, 1), target=41.0), SPONSOR)
    assert set(caught.value.fields) == {"recommendedDate", "target"}


async def test_a_close_that_failed_half_way_is_finished_by_the_next_press_without_a_second_decision() -> None:
    store, repos, service = await setup()
    audit, _ = await service.open(TENANT, ADMIN)
    for pilot_id in ("p1", "p2"):
        await service.attest(TENANT, audit.id, pilot_id, a_draft(), SPONSOR)
    audit, refused = await service.accept_all(TENANT, audit.id, ADMIN)
    assert refused == {}
    store.failing = True
    with pytest.raises(StorageUnavailable):
        await service.close(TENANT, audit.id, ADMIN)
    assert (await service.get(audit.id, TENANT)).status is AuditStatus.OPEN
    assert await service.latest_closed_audit(TENANT) is None
    closed = await service.close(TENANT, audit.id, ADMIN)
    assert closed.status is AuditStatus.CLOSED
    assert [item.outcome for item in closed.items] == [Outcome.DECIDED, Outcome.DECIDED]
    for pilot_id in ("p1", "p2"):
        assert len(await repos.decisions.list_for(pilot_id)) == 1
    latest = await service.latest_closed_audit(TENANT)
    assert latest is not None and latest.id == audit.id
    summary = summary_of(latest)
    assert summary.decisions == {Recommendation.NARROW: 2}
    assert "2 initiatives, 2 attested" in summary_text(summary) and "2 narrow scope" in summary_text(summary)


async def test_a_gate_decided_meanwhile_stands() -> None:
    _, repos, service = await setup()
    audit, _ = await service.open(TENANT, ADMIN)
    await service.attest(TENANT, audit.id, "p1", a_draft(), SPONSOR)
    await service.decide(TENANT, audit.id, "p1", ADMIN)
    await service.decide(TENANT, audit.id, "p2", ADMIN, (Recommendation.FUND, date(2027, 1, 4), "all EMEA"))
    pilot_service = PilotService(repos.pilots, repos.readings, repos.decisions, repos.audit, FixedClock(NOW))
    from governance.decisions import DecisionDraft
    from governance.model import DecisionKind

    extend = DecisionDraft(DecisionKind.EXTEND, "More data", new_gate_date=date(2027, 8, 31))
    await pilot_service.decide("p1", TENANT, date(2027, 6, 30), extend, SPONSOR)
    closed = await service.close(TENANT, audit.id, ADMIN)
    assert [item.outcome for item in closed.items] == [Outcome.DECIDED_AT_GATE, Outcome.DECIDED]
    stored = await repos.pilots.get("p1", TENANT)
    assert stored is not None and stored.stage is Stage.EXTENDED


async def test_drafts_are_listed_as_gaps_and_left_undecided_and_the_workflow_is_read() -> None:
    from governance.model import Integration, Workflow, WorkSurface

    _, repos, service = await setup()
    await repos.pilots.add(dataclasses.replace(a_pilot("p4", "Draft idea"), stage=Stage.DRAFT, metrics=()))
    integrated = Workflow(WorkSurface.M365, Integration.YES, "Outlook")
    standalone = Workflow(WorkSurface.STANDALONE, Integration.YES)
    for pilot_id, workflow in (("p1", integrated), ("p2", standalone)):
        pilot = await repos.pilots.get(pilot_id, TENANT)
        assert pilot is not None
        await repos.pilots.save(dataclasses.replace(pilot, workflow=workflow))
    audit, _ = await service.open(TENANT, ADMIN)
    by_name = {item.name: item for item in audit.items}
    assert by_name["Claims triage"].integration is Integration.YES
    assert Gap.NO_INTEGRATION not in by_name["Claims triage"].gaps
    assert Gap.NO_INTEGRATION in by_name["Invoice OCR"].gaps  # standalone: outside real work
    assert {Gap.DRAFT, Gap.NO_METRIC} <= set(by_name["Draft idea"].gaps)
    assert [item.name for item in audit.undecided] == ["Claims triage", "Invoice OCR"]
    for pilot_id in ("p1", "p2"):
        await service.decide(TENANT, audit.id, pilot_id, ADMIN, (Recommendation.RETIRE, date(2027, 7, 1), ""))
    closed = await service.close(TENANT, audit.id, ADMIN)
    assert {item.name: item.outcome for item in closed.items}["Draft idea"] is Outcome.DRAFT


async def test_what_the_sponsor_corrects_goes_onto_the_pilot_through_its_rules_and_trail() -> None:
    """The attestation corrects the baseline (42 -> 41) and marks every governance item done but DLP: the pilot
    changes, by the sponsor, with an audit event; attesting the same again changes nothing more."""
    _, repos, service = await setup()
    audit, _ = await service.open(TENANT, ADMIN)
    governance = dict.fromkeys(GOVERNANCE_ITEMS, ItemState.DONE) | {"dlp": ItemState.IN_PROGRESS}
    await service.attest(TENANT, audit.id, "p1", a_draft(governance=governance), SPONSOR)
    pilot = await repos.pilots.get("p1", TENANT)
    assert pilot is not None
    assert pilot.primary_metric == Metric("Handling time", "min", 41.0, 30.0, Direction.DECREASE)
    assert pilot.governance["dlp"] is False and pilot.governance["auditLogging"] is True
    events = [e for e in await repos.audit.list_for("p1") if e.action == "pilot.updated"]
    assert [e.actor for e in events] == [SPONSOR.aad_object_id]

    await service.attest(TENANT, audit.id, "p1", a_draft(governance=governance), SPONSOR)
    assert len([e for e in await repos.audit.list_for("p1") if e.action == "pilot.updated"]) == 1
    untouched = await repos.pilots.get("p2", TENANT)
    assert untouched is not None and untouched.primary_metric.baseline == 42


async def test_a_correction_the_pilots_rules_refuse_is_refused_with_the_attestation() -> None:
    _, repos, service = await setup()
    audit, _ = await service.open(TENANT, ADMIN)
    with pytest.raises(ValidationFailed) as caught:
        await service.attest(TENANT, audit.id, "p1", a_draft(metric_name="x" * 150), SPONSOR)
    assert set(caught.value.fields) == {"metricName"}, caught.value.fields
    assert (await service.get(audit.id, TENANT)).items[0].attestation is None
    pilot = await repos.pilots.get("p1", TENANT)
    assert pilot is not None and pilot.primary_metric.name == "Handling time"
