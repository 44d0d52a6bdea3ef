"""The lead through the REST API and the registration form: set, changed, cleared, refused by field."""

from __future__ import annotations

from tests.bots.test_conversations import FORM
from tests.conftest import Harness
from tests.helpers import inputs, pilot_body
from tests.scheduler.test_lead import LEAD
from tests.teams_sim import SPONSOR, TENANT, adaptive_card_invoke, personal_message

LEAD_JSON = {"aadObjectId": LEAD.aad_object_id, "name": LEAD.name}


async def test_a_lead_is_registered_changed_and_cleared_through_the_api(harness: Harness) -> None:
    status, pilot = await harness.api("POST", "/api/pilots", pilot_body())
    assert status == 201 and pilot["lead"] is None and pilot["checkinRecipient"] == "sponsor"
    path = f"/api/pilots/{pilot['id']}"
    status, led = await harness.api("PATCH", path, {"lead": LEAD_JSON, "checkinRecipient": "lead"})
    assert status == 200 and led["lead"] == LEAD_JSON and led["checkinRecipient"] == "lead"
    status, cleared = await harness.api("PATCH", path, {"lead": None})
    assert status == 200 and cleared["lead"] is None
    assert cleared["checkinRecipient"] == "sponsor"  # without a lead, check-ins go back to the sponsor


async def test_lead_problems_are_named_by_field(harness: Harness) -> None:
    sponsor_as_lead = pilot_body(lead={"aadObjectId": SPONSOR.aad_object_id.upper(), "name": "Sam"})
    status, error = await harness.api("POST", "/api/pilots", sponsor_as_lead)
    assert status == 400 and set(error["fields"]) == {"lead"}
    status, error = await harness.api("POST", "/api/pilots", pilot_body(checkinRecipient="lead"))
    assert status == 400 and set(error["fields"]) == {"checkinRecipient"}
    status, error = await harness.api("POST", "/api/pilots", pilot_body(checkinRecipient="chief"))
    assert status == 400 and set(error["fields"]) == {"checkinRecipient"}
    status, listed = await harness.api("GET", "/api/pilots")
    assert listed["count"] == 0


async def test_the_registration_form_names_a_lead_and_who_gets_the_checkin(harness: Harness) -> None:
    url = harness.connector.service_url
    await harness.bot.post(personal_message("new pilot", SPONSOR, service_url=url))
    form = [a for a in harness.connector.sent_activities() if a.get("attachments")][-1]["attachments"][0]["content"]
    assert {"lead", "checkinRecipient"} <= set(inputs(form))
    chosen = {**FORM, "lead": LEAD.aad_object_id, "checkinRecipient": "both"}
    status, body = await harness.bot.post(
        adaptive_card_invoke("pilot.create", inputs=chosen, user=SPONSOR, service_url=url)
    )
    assert status == 200, body
    [pilot] = await harness.repos.pilots.list(TENANT.id)
    assert pilot.lead is not None and pilot.lead.aad_object_id == LEAD.aad_object_id
    assert pilot.checkin_recipient.value == "both"
    refused = {**FORM, "name": "Another", "checkinRecipient": "lead"}
    status, again = await harness.bot.post(
        adaptive_card_invoke("pilot.create", inputs=refused, user=SPONSOR, service_url=url)
    )
    assert "Name a lead first" in inputs(again["value"])["checkinRecipient"]["errorMessage"]
