"""An admin picks any person in the directory as sponsor (issue 13): the form carries Teams' people picker, the
pilot is registered for the picked Entra id, and the created card says honestly whether check-ins can reach them."""

from __future__ import annotations

from typing import Any

from tests.bots.test_conversations import FORM
from tests.conftest import Harness
from tests.helpers import card_text, cards_of, nodes
from tests.scheduler.test_checkins import tick
from tests.teams_sim import ADMIN, SPONSOR, TEAM, TENANT, adaptive_card_invoke, installation_update, personal_message

PICKED = "5b0c7d1e-0000-4f2a-8b3c-00000000f00d"  # someone in the directory the bot has never seen


async def create_as_admin(h: Harness, sponsor: str) -> dict[str, Any]:
    press = adaptive_card_invoke(
        "pilot.create", inputs={**FORM, "sponsor": sponsor}, user=ADMIN, service_url=h.connector.service_url
    )
    status, body = await h.bot.post(press)
    assert status == 200 and isinstance(body, dict), body
    return body


async def test_the_admins_form_searches_the_directory_and_a_sponsors_form_does_not(harness: Harness) -> None:
    url = harness.connector.service_url
    for user, picker in ((ADMIN, True), (SPONSOR, False)):
        await harness.bot.post(personal_message("new pilot", user, service_url=url))
        form = cards_of(harness.connector.sent_activities())[-1]
        [sponsor] = [node for node in nodes(form) if node.get("id") == "sponsor"]
        assert ("choices.data" in sponsor) is picker
        if picker:
            assert sponsor["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
            assert sponsor["choices"][0]["value"] == ADMIN.aad_object_id  # the static fallback, asker first


async def test_a_sponsor_picked_from_the_directory_whom_the_bot_cannot_reach_is_said_so(harness: Harness) -> None:
    body = await create_as_admin(harness, PICKED)
    shown = card_text(body["value"])
    assert "Pilot registered: Claims triage" in shown
    assert "cannot reach the sponsor yet" in shown
    [pilot] = await harness.repos.pilots.list(TENANT.id)
    assert pilot.sponsor.aad_object_id == PICKED
    await harness.bot.post(personal_message("overdue", ADMIN, service_url=harness.connector.service_url))
    assert "Claims triage" in card_text(cards_of(harness.connector.sent_activities())[-1])  # listed as unreachable


async def test_a_picked_sponsor_on_a_team_roster_gets_a_new_chat_at_the_first_checkin(harness: Harness) -> None:
    harness.connector.set_members(TEAM.id, [SPONSOR, ADMIN])
    await harness.bot.post(installation_update("add", "team", ADMIN, service_url=harness.connector.service_url))
    body = await create_as_admin(harness, SPONSOR.aad_object_id)
    assert "will open a 1:1 chat with the sponsor" in card_text(body["value"])
    report = await tick(harness, "2026-12-01T14:00:00Z")  # 09:00 in New York on the first business day
    assert report["by_kind"].get("checkin") == 1 and len(harness.connector.created_conversations()) == 1
