"""Bot turns through the real /api/messages route, with Teams-shaped activities and a fake Bot Connector."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bots.teams_bot import UNKNOWN_COMMAND_REPLY
from storage.documents import CONTAINERS
from tests.conftest import Harness, start_harness, stop_harness
from tests.helpers import card_text, cards_of, inputs, texts_of
from tests.teams_sim import (
    ADMIN,
    FOREIGN_USER,
    GENERAL,
    OUTSIDER,
    SPONSOR,
    TEAM,
    TENANT,
    FakeConnector,
    adaptive_card_invoke,
    channel_message,
    conversation_update,
    group_chat_message,
    installation_update,
    personal_message,
    submit_message,
)

FORM = {
    "name": "Claims triage",
    "metricName": "Handling time",
    "metricUnit": "min",
    "metricBaseline": "42",
    "metricTarget": "30",
    "metricDirection": "decrease",
    "startDate": "2026-09-01",
    "gateDate": "",
    "sponsor": SPONSOR.aad_object_id,
    "timezone": "America/New_York",
    "budgetMonthly": "12000",
    "intendedUsers": "150",
    "scaleExpand": "All claims teams",
    "scaleRetire": "Switch it off",
}


async def say(h: Harness, activity: dict[str, Any]) -> list[dict[str, Any]]:
    """Post an activity and return what the bot sent back to the connector during that turn."""
    before = len(h.connector.sent_activities())
    status, body = await h.bot.post(activity)
    assert status in (200, 201), (status, body)
    return h.connector.sent_activities()[before:]


async def create_pilot(h: Harness, **changes: str) -> dict[str, Any]:
    status, body = await h.bot.post(
        adaptive_card_invoke(
            "pilot.create", inputs={**FORM, **changes}, user=SPONSOR, service_url=h.connector.service_url
        )
    )
    assert status == 200 and isinstance(body, dict), body
    return body


async def stored_documents(h: Harness) -> int:
    return sum([len(await h.store.query(name)) for name in CONTAINERS])


async def test_install_greets_once_and_remembers_the_personal_chat(harness: Harness) -> None:
    url = harness.connector.service_url
    sent = await say(harness, installation_update("add", "personal", SPONSOR, service_url=url))
    sent += await say(harness, conversation_update(scope="personal", user=SPONSOR, service_url=url))
    assert len(cards_of(sent)) == 1
    assert "new pilot" in card_text(cards_of(sent)[0])
    ref = await harness.repos.conversations.find_personal(TENANT.id, SPONSOR.aad_object_id)
    assert ref is not None and ref.user_id == SPONSOR.teams_id and ref.service_url == url and ref.active


async def test_uninstall_marks_the_conversation_inactive(harness: Harness) -> None:
    url = harness.connector.service_url
    await say(harness, installation_update("add", "personal", SPONSOR, service_url=url))
    await say(harness, installation_update("remove", "personal", SPONSOR, service_url=url))
    ref = await harness.repos.conversations.find_personal(TENANT.id, SPONSOR.aad_object_id)
    assert ref is not None and not ref.active


async def test_service_url_is_refreshed_from_every_activity(harness: Harness) -> None:
    await say(harness, installation_update("add", "personal", SPONSOR, service_url=harness.connector.service_url))
    moved = harness.connector.service_url.rstrip("/") + "/emea/"
    await harness.bot.post(personal_message("help", SPONSOR, service_url=moved))
    ref = await harness.repos.conversations.find_personal(TENANT.id, SPONSOR.aad_object_id)
    assert ref is not None and ref.service_url == moved


async def test_team_install_learns_the_roster(harness: Harness) -> None:
    harness.connector.add_team(TEAM)
    harness.connector.set_members(TEAM.id, [SPONSOR, ADMIN, OUTSIDER])
    await say(harness, conversation_update(scope="team", user=ADMIN, service_url=harness.connector.service_url))
    member = await harness.repos.members.find(TENANT.id, SPONSOR.aad_object_id)
    assert member is not None and member.user_id == SPONSOR.teams_id


async def test_help_answers_in_personal_chat_with_any_case_and_spacing(harness: Harness) -> None:
    sent = await say(harness, personal_message("   HeLp  ", SPONSOR, service_url=harness.connector.service_url))
    assert len(cards_of(sent)) == 1
    assert "status" in card_text(cards_of(sent)[0])


async def test_unknown_text_gets_a_hint(harness: Harness) -> None:
    sent = await say(harness, personal_message("what's up", SPONSOR, service_url=harness.connector.service_url))
    assert texts_of(sent) == ["I didn't catch that. Type **help** to see what I can do."]


async def test_new_pilot_form_then_status_card_in_personal_chat(harness: Harness) -> None:
    url = harness.connector.service_url
    sent = await say(harness, personal_message("new pilot", SPONSOR, service_url=url))
    form = cards_of(sent)[0]
    assert SPONSOR.aad_object_id in card_text(form)
    created = await create_pilot(harness)
    assert created["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Claims triage" in card_text(created["value"])
    pilots = await harness.repos.pilots.list(TENANT.id)
    assert [p.name for p in pilots] == ["Claims triage"]
    assert pilots[0].sponsor.aad_object_id == SPONSOR.aad_object_id
    assert pilots[0].gate_date.isoformat() == "2026-11-30"
    sent = await say(harness, personal_message("status claims", OUTSIDER, service_url=url))
    status = card_text(cards_of(sent)[0])
    assert "Claims triage" in status and "Handling time" in status


async def test_form_errors_come_back_next_to_their_fields_and_nothing_is_stored(harness: Harness) -> None:
    body = await create_pilot(harness, metricBaseline="lots", metricTarget="42", gateDate="2026-08-01", name="")
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    text = card_text(body["value"])
    assert "'lots' is not a number." in text and "Give the pilot a name." in text
    assert "America/New_York" in text  # the values are kept
    assert await harness.repos.pilots.list(TENANT.id) == []


async def test_domain_errors_on_the_form_are_mapped_to_inputs(harness: Harness) -> None:
    body = await create_pilot(harness, metricTarget="42")
    assert "The target must differ from the baseline." in card_text(body["value"])
    assert await harness.repos.pilots.list(TENANT.id) == []


async def test_only_admins_register_pilots_for_someone_else(harness: Harness) -> None:
    url = harness.connector.service_url
    status, body = await harness.bot.post(
        adaptive_card_invoke("pilot.create", inputs=FORM, user=OUTSIDER, service_url=url)
    )
    assert status == 200 and "You can register pilots you sponsor" in card_text(body["value"])
    assert await harness.repos.pilots.list(TENANT.id) == []
    status, body = await harness.bot.post(
        adaptive_card_invoke("pilot.create", inputs=FORM, user=ADMIN, service_url=url)
    )
    assert status == 200 and len(await harness.repos.pilots.list(TENANT.id)) == 1


async def test_double_submit_creates_one_pilot(harness: Harness) -> None:
    await create_pilot(harness)
    second = await create_pilot(harness)  # the second press of a double click sees what the first registered
    assert "Pilot registered: Claims triage" in card_text(second["value"])
    harness.clock.advance(minutes=3)
    later = await create_pilot(harness)  # a new registration of a taken name, minutes later, is refused
    assert "already exists" in card_text(later["value"])
    assert len(await harness.repos.pilots.list(TENANT.id)) == 1


async def test_channel_mention_is_stripped_and_link_needs_the_sponsor(harness: Harness) -> None:
    url = harness.connector.service_url
    await create_pilot(harness)
    sent = await say(harness, channel_message("link claims", OUTSIDER, service_url=url))
    assert "Only the pilot's sponsor or a governance admin" in texts_of(sent)[0]
    sent = await say(harness, channel_message("  LINK   Claims Triage ", SPONSOR, service_url=url))
    assert "project channel" in texts_of(sent)[0]
    pilot = (await harness.repos.pilots.list(TENANT.id))[0]
    assert pilot.channel is not None and pilot.channel.conversation_id == GENERAL.id
    sent = await say(harness, channel_message("status claims triage", OUTSIDER, service_url=url))
    assert "Handling time" in card_text(cards_of(sent)[0])


async def test_link_outside_a_channel_explains_where_to_use_it(harness: Harness) -> None:
    await create_pilot(harness)
    sent = await say(harness, personal_message("link claims", SPONSOR, service_url=harness.connector.service_url))
    assert "project channel" in texts_of(sent)[0]
    assert (await harness.repos.pilots.list(TENANT.id))[0].channel is None


async def test_group_chat_commands_after_a_mention(harness: Harness) -> None:
    sent = await say(harness, group_chat_message("pilots", SPONSOR, service_url=harness.connector.service_url))
    assert len(cards_of(sent)) == 1


async def test_unknown_pilot_gets_the_closest_names(harness: Harness) -> None:
    await create_pilot(harness)
    sent = await say(
        harness, personal_message("status fraud detection", SPONSOR, service_url=harness.connector.service_url)
    )
    assert "fraud detection" in texts_of(sent)[0]


async def test_several_matches_get_a_choice_card(harness: Harness) -> None:
    await create_pilot(harness, name="Copilot for sales")
    await create_pilot(harness, name="Copilot for legal")
    sent = await say(harness, personal_message("status copilot", SPONSOR, service_url=harness.connector.service_url))
    choice = card_text(cards_of(sent)[0])
    assert "Copilot for sales" in choice and "Copilot for legal" in choice
    pilot = next(p for p in await harness.repos.pilots.list(TENANT.id) if p.name == "Copilot for legal")
    status, body = await harness.bot.post(
        adaptive_card_invoke(
            "pilot.status", data={"pilotId": pilot.id}, user=SPONSOR, service_url=harness.connector.service_url
        )
    )
    assert status == 200 and "Copilot for legal" in card_text(body["value"])


async def test_action_submit_fallback_is_routed_by_data_verb(harness: Harness) -> None:
    sent = await say(
        harness,
        submit_message({"verb": "pilot.create"}, SPONSOR, inputs=FORM, service_url=harness.connector.service_url),
    )
    assert "Claims triage" in card_text(cards_of(sent)[0])
    assert len(await harness.repos.pilots.list(TENANT.id)) == 1


async def test_foreign_tenant_is_refused_and_nothing_is_stored(tmp_path: Path, connector: FakeConnector) -> None:
    h = await start_harness(tmp_path, connector, allowed_tenants=frozenset({TENANT.id}))
    try:
        url = connector.service_url
        before = await stored_documents(h)
        sent = await say(h, installation_update("add", "personal", FOREIGN_USER, service_url=url))
        assert cards_of(sent) == []
        sent = await say(h, personal_message("new pilot", FOREIGN_USER, service_url=url))
        assert texts_of(sent) == ["Sorry, PilotGate is not enabled for your organization."]
        status, body = await h.bot.post(
            adaptive_card_invoke("pilot.create", inputs=FORM, user=FOREIGN_USER, service_url=url)
        )
        assert status == 200 and body["type"] == "application/vnd.microsoft.activity.message"
        assert await stored_documents(h) == before
    finally:
        await stop_harness(h)


async def test_a_body_that_is_not_an_activity_is_400_and_the_bot_keeps_serving(harness: Harness) -> None:
    async with harness.http.post(
        harness.url("/api/messages"), data=b"hello", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
    status, body = await harness.bot.post({"text": "no type"})
    assert status == 400 and body["error"] == "bad_activity"
    sent = await say(harness, personal_message("help", SPONSOR, service_url=harness.connector.service_url))
    assert len(cards_of(sent)) == 1


async def test_a_reply_that_fails_to_send_does_not_stop_the_bot(harness: Harness) -> None:
    harness.connector.fail_next(500, count=1)  # the reply itself fails...
    await harness.bot.post(personal_message("help", SPONSOR, service_url=harness.connector.service_url))
    # ...and the bot still answers the next turn
    sent = await say(harness, personal_message("help", SPONSOR, service_url=harness.connector.service_url))
    assert len(cards_of(sent)) == 1


async def test_storage_outage_gets_a_friendly_sentence(harness: Harness) -> None:
    url = harness.connector.service_url
    await say(harness, personal_message("help", SPONSOR, service_url=url))
    await harness.store.close()
    status, _ = await harness.bot.post(personal_message("pilots", SPONSOR, service_url=url))
    assert status == 200
    sent = harness.connector.sent_activities()[-1]
    assert "error id" in (sent.get("text") or "") or "storage" in (sent.get("text") or "")
    assert "Traceback" not in (sent.get("text") or "")


async def test_an_activity_without_a_tenant_is_refused_and_nothing_is_stored(harness: Harness) -> None:
    activity = personal_message("help", SPONSOR, service_url=harness.connector.service_url)
    activity["conversation"].pop("tenantId", None)
    activity["channelData"].pop("tenant", None)
    sent = await say(harness, activity)
    assert texts_of(sent) == ["Sorry, PilotGate is not enabled for your organization."]
    assert await stored_documents(harness) == 0


async def test_install_events_arriving_together_greet_once(harness: Harness) -> None:
    import asyncio

    url = harness.connector.service_url
    await asyncio.gather(
        harness.bot.post(installation_update("add", "personal", SPONSOR, service_url=url)),
        harness.bot.post(conversation_update(scope="personal", user=SPONSOR, service_url=url)),
    )
    assert len(cards_of(harness.connector.sent_activities())) == 1
    ref = await harness.repos.conversations.find_personal(TENANT.id, SPONSOR.aad_object_id)
    assert ref is not None and ref.greeted


async def corrupt_a_pilot(h: Harness) -> None:
    """A stored pilot the code cannot read: every turn that touches it fails unexpectedly."""
    await h.store.create(
        "pilots", {"id": "broken", "tenantId": TENANT.id, "name": "Broken pilot", "nameKey": "broken pilot"}
    )


async def test_a_failing_turn_answers_one_friendly_sentence_with_an_error_id(harness: Harness) -> None:
    import re

    await corrupt_a_pilot(harness)
    sent = await say(
        harness, personal_message("status broken pilot", SPONSOR, service_url=harness.connector.service_url)
    )
    [text] = texts_of(sent)
    assert re.fullmatch(r"Sorry, something went wrong on my side \(error id [0-9a-f]{8}\)\. Please try again\.", text)
    sent = await say(harness, personal_message("help", SPONSOR, service_url=harness.connector.service_url))
    assert len(cards_of(sent)) == 1  # and keeps serving


async def test_a_failing_card_action_answers_the_invoke_not_http_500(harness: Harness) -> None:
    await corrupt_a_pilot(harness)
    status, body = await harness.bot.post(
        adaptive_card_invoke(
            "pilot.status", data={"pilotId": "broken"}, user=SPONSOR, service_url=harness.connector.service_url
        )
    )
    assert status == 200
    assert body["type"] == "application/vnd.microsoft.activity.message" and "error id" in body["value"]


async def test_every_command_in_the_manifest_is_answered(harness: Harness) -> None:
    from bots.commands import COMMANDS
    from manifest.build import build_manifest

    manifest = build_manifest("6a7e5f9c-0b1d-4e2a-9c3f-5b8d7e6a4c21", "pilotgate.contoso.com", "1.0.0")
    titles = {c["title"] for lists in manifest["bots"][0]["commandLists"] for c in lists["commands"]}
    assert titles == {c.title for c in COMMANDS}
    await create_pilot(harness)
    url = harness.connector.service_url
    for title in sorted(titles):
        text = f"{title} claims" if title in ("status", "link") else title
        activity = channel_message(text, SPONSOR, service_url=url) if title == "link" else None
        sent = await say(harness, activity or personal_message(text, SPONSOR, service_url=url))
        assert sent, title
        assert UNKNOWN_COMMAND_REPLY not in texts_of(sent), title


async def test_admins_pick_the_sponsor_from_the_people_the_bot_knows(harness: Harness) -> None:
    url = harness.connector.service_url
    harness.connector.set_members(TEAM.id, [SPONSOR, ADMIN, OUTSIDER])
    await harness.bot.post(conversation_update(scope="team", user=ADMIN, service_url=url))
    form = cards_of(await say(harness, personal_message("new pilot", ADMIN, service_url=url)))[0]
    assert {SPONSOR.aad_object_id, OUTSIDER.aad_object_id} <= set(card_text(form).split())
    mine = cards_of(await say(harness, personal_message("new pilot", SPONSOR, service_url=url)))[0]
    # Others only sponsor their own pilots; they may name anyone the bot knows as its lead.
    assert [c["value"] for c in inputs(mine)["sponsor"]["choices"]] == [SPONSOR.aad_object_id]
    assert OUTSIDER.aad_object_id in [c["value"] for c in inputs(mine)["lead"]["choices"]]
    chosen = {**FORM, "sponsor": OUTSIDER.aad_object_id}
    status, _ = await harness.bot.post(adaptive_card_invoke("pilot.create", inputs=chosen, user=ADMIN, service_url=url))
    assert status == 200
    [pilot] = await harness.repos.pilots.list(TENANT.id)
    assert pilot.sponsor.aad_object_id == OUTSIDER.aad_object_id and pilot.sponsor.name == OUTSIDER.name


async def test_with_app_credentials_an_unauthenticated_activity_is_refused(
    tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(
        tmp_path,
        connector,
        app_id="6a7e5f9c-0b1d-4e2a-9c3f-5b8d7e6a4c21",
        app_password="not-a-real-secret",
        app_type="SingleTenant",
        app_tenant_id=TENANT.id,
    )
    try:
        url = connector.service_url
        status, body = await h.bot.post(personal_message("new pilot", SPONSOR, service_url=url))
        assert status == 401 and body["error"] == "unauthorized"
        status, _ = await h.bot.post(personal_message("help", SPONSOR, service_url=url), authorization="Bearer forged")
        assert status == 401
        assert connector.sent_activities() == []
        assert await stored_documents(h) == 0
    finally:
        await stop_harness(h)
