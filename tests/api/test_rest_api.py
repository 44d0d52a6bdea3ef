"""The REST API through the real aiohttp app: field-level errors, auth, and nothing half-stored."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Harness, start_harness, stop_harness
from tests.helpers import pilot_body
from tests.teams_sim import TENANT, FakeConnector


async def test_register_pilot_defaults_gate_to_start_plus_90_days(harness: Harness) -> None:
    status, body = await harness.api("POST", "/api/pilots", pilot_body())
    assert status == 201, body
    assert body["gateDate"] == "2026-11-30"
    assert body["checkinDay"] == 1
    assert body["governance"] == {
        "dataLabels": True,
        "auditLogging": False,
        "dlp": False,
        "dataResidency": False,
        "identityScopes": False,
    }
    status, fetched = await harness.api("GET", f"/api/pilots/{body['id']}")
    assert status == 200
    assert fetched["name"] == "Claims triage assistant"
    assert fetched["readings"] == [] and fetched["decisions"] == []


async def test_missing_and_wrong_typed_fields_are_named(harness: Harness) -> None:
    body = pilot_body(metrics=[{"name": "x", "baseline": "lots", "target": 3, "direction": "up"}])
    del body["sponsor"]
    status, error = await harness.api("POST", "/api/pilots", body)
    assert status == 400
    assert error["error"] == "validation_failed"
    assert set(error["fields"]) >= {"sponsor", "metrics[0].baseline", "metrics[0].direction"}
    assert (await harness.api("GET", "/api/pilots"))[1]["count"] == 0


async def test_domain_rules_are_reported_by_field(harness: Harness) -> None:
    body = pilot_body(
        metrics=[{"name": "Handling time", "unit": "min", "baseline": 42, "target": 42, "direction": "decrease"}],
        gateDate="2026-08-01",
        timezone="Mars/Olympus",
    )
    status, error = await harness.api("POST", "/api/pilots", body)
    assert status == 400
    assert error["fields"]["metrics[0].target"] == "The target must differ from the baseline."
    assert "gateDate" in error["fields"] and "timezone" in error["fields"]


async def test_direction_must_agree_with_target(harness: Harness) -> None:
    body = pilot_body(metrics=[{"name": "NPS", "baseline": 20, "target": 40, "direction": "decrease"}])
    status, error = await harness.api("POST", "/api/pilots", body)
    assert status == 400
    assert "metrics[0].direction" in error["fields"]


async def test_non_json_body_is_rejected_and_nothing_stored(harness: Harness) -> None:
    async with harness.http.post(
        harness.url("/api/pilots"), data=b"{not json", headers={"Authorization": "Bearer test-token-0123456789"}
    ) as response:
        assert response.status == 400
        error = await response.json()
    assert error["fields"] == {"body": "The body is not valid JSON."}
    status, error = await harness.api("POST", "/api/pilots", [1, 2])
    assert status == 400 and "body" in error["fields"]
    assert (await harness.api("GET", "/api/pilots"))[1]["count"] == 0


async def test_wrong_or_missing_token_is_401(harness: Harness) -> None:
    status, error = await harness.api("GET", "/api/pilots", token="nope")
    assert status == 401 and error["error"] == "unauthorized"
    status, _ = await harness.api("POST", "/api/pilots", pilot_body(), token=None)
    assert status == 401
    assert (await harness.api("GET", "/api/pilots"))[1]["count"] == 0


async def test_api_is_off_without_a_token(tmp_path: Path, connector: FakeConnector) -> None:
    h = await start_harness(tmp_path, connector, api_token="")
    try:
        status, error = await h.api("GET", "/api/pilots", token="")
        assert status == 403 and error["error"] == "api_disabled"
        status, _ = await h.api("GET", "/api/pilots", token="anything")
        assert status == 403
    finally:
        await stop_harness(h)


async def test_unknown_pilot_is_404(harness: Harness) -> None:
    status, error = await harness.api("GET", "/api/pilots/does-not-exist")
    assert status == 404 and error["error"] == "pilot_not_found"
    status, error = await harness.api("POST", "/api/pilots/does-not-exist/readings", {"period": "2026-10"})
    assert status == 404


async def test_duplicate_name_in_tenant_is_409(harness: Harness) -> None:
    assert (await harness.api("POST", "/api/pilots", pilot_body()))[0] == 201
    status, error = await harness.api("POST", "/api/pilots", pilot_body(name="  claims TRIAGE assistant "))
    assert status == 409 and error["error"] == "duplicate_pilot"


async def test_foreign_tenant_is_refused_when_tenants_are_allow_listed(
    tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(tmp_path, connector, allowed_tenants=frozenset({TENANT.id}))
    try:
        status, error = await h.api("POST", "/api/pilots", pilot_body(tenantId="d3b1f4a2-7c6e-4e0b-8a9f-1c2d3e4f5a66"))
        assert status == 400 and "tenantId" in error["fields"]
        assert (await h.api("POST", "/api/pilots", pilot_body()))[0] == 201
    finally:
        await stop_harness(h)


async def test_patch_changes_only_given_fields_and_revalidates(harness: Harness) -> None:
    _, pilot = await harness.api("POST", "/api/pilots", pilot_body())
    status, patched = await harness.api(
        "PATCH", f"/api/pilots/{pilot['id']}", {"budgetMonthly": 15000, "governance": {"dlp": True}}
    )
    assert status == 200
    assert patched["budgetMonthly"] == 15000
    assert patched["governance"]["dlp"] is True and patched["governance"]["dataLabels"] is True
    assert patched["name"] == pilot["name"]
    status, error = await harness.api("PATCH", f"/api/pilots/{pilot['id']}", {"gateDate": "2026-01-01"})
    assert status == 400 and "gateDate" in error["fields"]
    status, error = await harness.api("PATCH", f"/api/pilots/{pilot['id']}", {"stage": "production"})
    assert status == 400 and set(error["fields"]) == {"stage"}  # only a draft may be made a pilot
    status, error = await harness.api("PATCH", f"/api/pilots/{pilot['id']}", {"name": None})
    assert status == 400 and "name" in error["fields"]
    _, fetched = await harness.api("GET", f"/api/pilots/{pilot['id']}")
    assert fetched["gateDate"] == pilot["gateDate"] and fetched["budgetMonthly"] == 15000


async def test_reading_is_stored_and_a_resubmission_replaces_it_with_audit(harness: Harness) -> None:
    _, pilot = await harness.api("POST", "/api/pilots", pilot_body())
    reading = {"period": "2026-10", "values": {"Handling time": 38.5}, "status": "amber", "spend": 9000}
    status, stored = await harness.api("POST", f"/api/pilots/{pilot['id']}/readings", reading)
    assert status == 201, stored
    assert stored["source"] == "api" and stored["values"] == {"Handling time": 38.5}
    reading["values"] = {"Handling time": 36.0, "Accuracy": 84}
    assert (await harness.api("POST", f"/api/pilots/{pilot['id']}/readings", reading))[0] == 201
    _, fetched = await harness.api("GET", f"/api/pilots/{pilot['id']}")
    assert [r["values"] for r in fetched["readings"]] == [{"Handling time": 36.0, "Accuracy": 84.0}]
    events = await harness.repos.audit.list_for(pilot["id"])
    replaced = [e for e in events if e.action == "reading.replaced"]
    assert len(replaced) == 1 and replaced[0].before is not None
    assert replaced[0].before["values"] == {"Handling time": 38.5}


async def test_bad_readings_name_the_field_and_store_nothing(harness: Harness) -> None:
    _, pilot = await harness.api("POST", "/api/pilots", pilot_body())
    url = f"/api/pilots/{pilot['id']}/readings"
    status, error = await harness.api(
        "POST", url, {"period": "2026-13", "values": {"Handling time": 1}, "status": "green"}
    )
    assert status == 400 and "period" in error["fields"]
    status, error = await harness.api("POST", url, {"period": "2026-10", "values": {"Speed": 1}, "status": "green"})
    assert status == 400 and "values.Speed" in error["fields"]
    status, error = await harness.api(
        "POST", url, {"period": "2026-10", "values": {"Handling time": "fast"}, "status": "purple"}
    )
    assert status == 400 and {"values.Handling time", "status"} <= set(error["fields"])
    assert (await harness.api("GET", f"/api/pilots/{pilot['id']}"))[1]["readings"] == []


async def test_openapi_document_lists_the_routes(harness: Harness) -> None:
    status, doc = await harness.api("GET", "/api/openapi.json", token=None)
    assert status == 200
    assert doc["openapi"].startswith("3.")
    assert {"/api/pilots", "/api/pilots/{pilot_id}", "/api/pilots/{pilot_id}/readings"} <= set(doc["paths"])
    assert "PilotIn" in doc["components"]["schemas"]


async def test_healthz_reports_storage_and_503_when_it_is_down(harness: Harness) -> None:
    status, body = await harness.api("GET", "/healthz", token=None)
    assert status == 200 and body == {"status": "ok", "storage": "sqlite"}
    await harness.store.close()
    status, body = await harness.api("GET", "/healthz", token=None)
    assert status == 503 and body["status"] == "unavailable"
    status, body = await harness.api("GET", "/api/pilots")
    assert status == 503 and body["error"] == "storage_unavailable"


async def test_pilots_survive_a_restart(tmp_path: Path, connector: FakeConnector) -> None:
    first = await start_harness(tmp_path, connector)
    try:
        _, pilot = await first.api("POST", "/api/pilots", pilot_body())
    finally:
        await stop_harness(first)
    second = await start_harness(tmp_path, connector)
    try:
        status, fetched = await second.api("GET", f"/api/pilots/{pilot['id']}")
        assert status == 200 and fetched["name"] == pilot["name"]
    finally:
        await stop_harness(second)


async def test_the_pages_the_manifest_links_to_are_served(harness: Harness) -> None:
    for path in ("/", "/privacy", "/terms"):
        async with harness.http.get(harness.url(path)) as response:
            assert response.status == 200 and response.content_type == "text/html"
            assert "PilotGate" in await response.text()
