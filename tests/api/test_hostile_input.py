"""Hostile and malformed input (issue 10, findings 4, 8 and 9): a 4xx naming the field, never a 500, nothing stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import API_TOKEN, Harness
from tests.helpers import pilot_body
from tests.teams_sim import SPONSOR, adaptive_card_invoke, personal_message

FULLWIDTH_2026 = "\uff12\uff10\uff12\uff16"
ARABIC_INDIC_2026 = "\u0662\u0660\u0662\u0666"


async def raw_post(h: Harness, path: str, body: bytes, token: str | None = API_TOKEN) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    async with h.http.post(h.url(path), data=body, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def registered(h: Harness) -> dict[str, Any]:
    status, pilot = await h.api("POST", "/api/pilots", pilot_body())
    assert status == 201, pilot
    assert isinstance(pilot, dict)
    return pilot


@pytest.mark.parametrize(
    "period", [f"{FULLWIDTH_2026}-11", f"{ARABIC_INDIC_2026}-11", "0000-01", "9999-12", "2026-1", 202611, "2027-06"]
)
async def test_readings_for_impossible_months_are_refused_by_field(harness: Harness, period: object) -> None:
    pilot = await registered(harness)
    reading = {"period": period, "values": {"Handling time": 40}, "status": "green"}
    status, error = await harness.api("POST", f"/api/pilots/{pilot['id']}/readings", reading)
    assert status == 400 and set(error["fields"]) == {"period"}, error
    assert await harness.repos.readings.list_for(pilot["id"]) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("startDate", "9999-12-01"),
        ("startDate", "0001-01-01"),
        ("gateDate", "9999-12-31"),
        ("timezone", "localtime"),
        ("timezone", "Factory"),
        ("timezone", "posix/Europe/Berlin"),
        ("tenantId", "../../x'\"%00"),
        ("intendedUsers", True),
        ("intendedUsers", "150"),
        ("budgetMonthly", "12000"),
        ("checkinDay", 1.5),
    ],
)
async def test_lax_pilot_fields_are_refused_by_name(harness: Harness, field: str, value: object) -> None:
    status, error = await harness.api("POST", "/api/pilots", pilot_body(**{field: value}))
    assert status == 400 and field in error["fields"], error
    assert (await harness.api("GET", "/api/pilots"))[1]["count"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metrics": [{"name": "x", "unit": "", "baseline": "37", "target": 3, "direction": "increase"}]}, "baseline"),
        ({"metrics": [{"name": "x", "unit": "", "baseline": True, "target": 3, "direction": "increase"}]}, "baseline"),
        ({"governance": {"dlp": "yes"}}, "governance.dlp"),
        ({"sponsor": {"aadObjectId": "abc\u0000def", "name": "Nul"}}, "sponsor.aadObjectId"),
    ],
)
async def test_strings_and_booleans_are_not_numbers_or_flags(
    harness: Harness, change: dict[str, Any], field: str
) -> None:
    status, error = await harness.api("POST", "/api/pilots", pilot_body(**change))
    assert status == 400 and any(field in key for key in error["fields"]), error


async def test_patch_checks_dates_as_post_does(harness: Harness) -> None:
    pilot = await registered(harness)
    status, error = await harness.api("PATCH", f"/api/pilots/{pilot['id']}", {"startDate": "9999-12-01"})
    assert status == 400 and "startDate" in error["fields"], error
    status, error = await harness.api("PATCH", f"/api/pilots/{pilot['id']}", {"gateDate": "9999-12-01"})
    assert status == 400 and "gateDate" in error["fields"], error


@pytest.mark.parametrize("path", ["/api/pilots", "/api/messages"])
@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"type": "message", "x": ' + b"9" * 5000 + b"}", b'{"x": NaN}'],
    ids=["deep", "long-number", "nan"],
)
async def test_json_that_would_break_a_parser_is_a_400(harness: Harness, path: str, body: bytes) -> None:
    status, error = await raw_post(harness, path, body)
    assert status == 400 and error["fields"], error


async def test_a_405_says_which_methods_are_allowed(harness: Harness) -> None:
    async with harness.http.delete(harness.url("/api/pilots"), headers={"Authorization": f"Bearer {API_TOKEN}"}) as r:
        assert r.status == 405
        assert "GET" in r.headers["Allow"] and "POST" in r.headers["Allow"]
        assert (await r.json())["error"] == "http_error"


async def test_an_invoke_whose_action_is_a_string_gets_an_answer_not_a_failed_turn(harness: Harness) -> None:
    activity = adaptive_card_invoke("pilot.status", {"pilotId": "x"}, service_url=harness.connector.service_url)
    activity["value"] = {"action": "pilot.status", "trigger": "manual"}
    status, body = await harness.bot.post(activity)
    assert status == 200 and "older version of this card" in body["value"]


@pytest.mark.parametrize("tenant", ["just-a-string", ["list"], 7])
async def test_a_channel_data_tenant_that_is_not_an_object_is_refused_politely(
    harness: Harness, tenant: object
) -> None:
    activity = personal_message("help", SPONSOR, service_url=harness.connector.service_url)
    activity["channelData"]["tenant"] = tenant
    activity["conversation"].pop("tenantId", None)
    status, _ = await harness.bot.post(activity)
    assert status in (200, 201)
    assert "not enabled for your organization" in (harness.connector.sent_activities()[-1].get("text") or "")


async def test_a_pilot_id_with_a_slash_is_no_such_pilot(harness: Harness) -> None:
    status, error = await harness.api("GET", "/api/pilots/a%2Fb")
    assert status == 404 and error["error"] == "pilot_not_found"


@pytest.mark.parametrize(
    "field",
    ["name", "sponsor", "metrics", "startDate", "gateDate", "checkinDay", "timezone", "scalePlan", "governance"],
)
async def test_patch_refuses_null_for_a_field_every_pilot_has(harness: Harness, field: str) -> None:
    pilot = await registered(harness)
    status, error = await harness.api("PATCH", f"/api/pilots/{pilot['id']}", {field: None})
    assert status == 400 and error["fields"] == {field: "This field cannot be cleared."}, error
    _, fetched = await harness.api("GET", f"/api/pilots/{pilot['id']}")
    assert fetched[field] == pilot[field]


async def test_a_number_too_large_for_a_float_is_refused_rather_than_read_as_infinity(harness: Harness) -> None:
    activity = personal_message("help", SPONSOR, service_url=harness.connector.service_url)
    status, error = await raw_post(harness, "/api/messages", json.dumps(activity)[:-1].encode() + b', "x": 1e999}')
    assert status == 400 and set(error["fields"]) == {"body"}, error


@pytest.mark.parametrize(
    "now", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00", "0415-10-01T00:00:00Z", "2999-12-31T23:00:00Z"]
)
async def test_a_scheduler_tick_at_a_time_no_pilot_can_have_is_refused_by_field(harness: Harness, now: str) -> None:
    await registered(harness)
    status, error = await harness.api("POST", "/api/scheduler/tick", {"now": now})
    assert status == 400 and set(error["fields"]) == {"now"}, error
