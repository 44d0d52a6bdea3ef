"""Workflow integration on every pilot and draft initiatives, through the REST API (issue 12)."""

from __future__ import annotations

from tests.conftest import Harness
from tests.helpers import pilot_body
from tests.teams_sim import SPONSOR, TENANT

STANDALONE = {"surface": "standalone", "system": "A web app of its own", "integrated": "no"}


async def test_a_pilot_records_its_workflow_and_a_standalone_one_is_flagged(harness: Harness) -> None:
    integrated = {"surface": "itsm", "system": "ServiceNow", "integrated": "partly"}
    status, body = await harness.api("POST", "/api/pilots", pilot_body(workflow=integrated))
    assert status == 201, body
    assert body["workflow"] == integrated and body["workflowGap"] is False
    status, body = await harness.api("POST", "/api/pilots", pilot_body(name="Loner", workflow=STANDALONE))
    assert status == 201 and body["workflowGap"] is True
    status, fetched = await harness.api("GET", f"/api/pilots/{body['id']}")
    assert fetched["workflow"] == STANDALONE
    stored = await harness.repos.pilots.get(body["id"])
    assert stored is not None and stored.workflow_gap


async def test_a_pilot_without_workflow_is_not_recorded_rather_than_flagged(harness: Harness) -> None:
    status, body = await harness.api("POST", "/api/pilots", pilot_body())
    assert status == 201 and body["workflow"] is None and body["workflowGap"] is False


async def test_bad_workflow_values_are_named_by_field(harness: Harness) -> None:
    bad = {"surface": "fax machine", "integrated": "maybe", "system": "x" * 101}
    status, error = await harness.api("POST", "/api/pilots", pilot_body(workflow=bad))
    assert status == 400
    assert {"workflow.surface", "workflow.integrated", "workflow.system"} <= set(error["fields"])
    contradiction = {"surface": "standalone", "integrated": "yes"}
    status, error = await harness.api("POST", "/api/pilots", pilot_body(workflow=contradiction))
    assert status == 400 and set(error["fields"]) == {"workflow.integrated"}
    assert (await harness.api("GET", "/api/pilots"))[1]["count"] == 0


async def test_patch_sets_and_clears_the_workflow(harness: Harness) -> None:
    _, pilot = await harness.api("POST", "/api/pilots", pilot_body())
    status, patched = await harness.api("PATCH", f"/api/pilots/{pilot['id']}", {"workflow": STANDALONE})
    assert status == 200 and patched["workflow"] == STANDALONE and patched["workflowGap"]
    status, patched = await harness.api("PATCH", f"/api/pilots/{pilot['id']}", {"workflow": None})
    assert status == 200 and patched["workflow"] is None


async def test_a_draft_needs_only_a_name_and_a_sponsor(harness: Harness) -> None:
    body = {
        "name": "Contract summariser",
        "tenantId": TENANT.id,
        "sponsor": {"aadObjectId": SPONSOR.aad_object_id},
        "stage": "draft",
    }
    status, draft = await harness.api("POST", "/api/pilots", body)
    assert status == 201, draft
    assert draft["stage"] == "draft" and draft["metrics"] == []
    assert draft["draftGaps"] == ["metrics", "workflow", "budgetMonthly"]
    assert draft["startDate"] == "2026-11-26"  # the day it was registered (the FixedClock's)
    stored = await harness.repos.pilots.get(draft["id"])
    assert stored is not None and stored.is_draft and not stored.stage.is_active


async def test_a_pilot_still_needs_metrics_and_a_start_date(harness: Harness) -> None:
    body = pilot_body()
    del body["metrics"], body["startDate"]
    status, error = await harness.api("POST", "/api/pilots", body)
    assert status == 400 and set(error["fields"]) == {"metrics", "startDate"}


async def test_completing_a_draft_checks_it_as_a_full_pilot(harness: Harness) -> None:
    body = {"name": "Tender drafting", "tenantId": TENANT.id, "sponsor": {"aadObjectId": SPONSOR.aad_object_id}}
    _, draft = await harness.api("POST", "/api/pilots", {**body, "stage": "draft"})
    url = f"/api/pilots/{draft['id']}"
    status, error = await harness.api("PATCH", url, {"stage": "pilot"})
    assert status == 400 and "metrics" in error["fields"]
    assert (await harness.api("GET", url))[1]["stage"] == "draft"
    metric = {"name": "Hours per tender", "unit": "h", "baseline": 30, "target": 12, "direction": "decrease"}
    status, pilot = await harness.api(
        "PATCH", url, {"stage": "pilot", "metrics": [metric], "startDate": "2026-12-01", "workflow": STANDALONE}
    )
    assert status == 200, pilot
    assert pilot["stage"] == "pilot" and pilot["draftGaps"] == [] and pilot["gateDate"] == draft["gateDate"]
    status, error = await harness.api("PATCH", url, {"stage": "pilot"})
    assert status == 200  # a pilot already: nothing to complete, nothing refused
    trail = [event.action for event in await harness.repos.audit.list_for(draft["id"])]
    assert sorted(trail) == ["pilot.completed", "pilot.drafted", "pilot.updated"]  # one clock time: any order
