"""A card refreshing itself (Universal Actions `refresh`, invoke `adaptiveCard/action` with trigger automatic),
through the real /api/messages route: it answers the card, reads only, and remembers nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botbuilder.schema import Activity

from bots.activity import action_of, leaves_no_trace
from bots.teams_bot import FOREIGN_TENANT_REPLY
from cards.verbs import PILOT_STATUS
from storage.documents import CONTAINERS
from storage.summaries import SUMMARIES
from tests.cards.test_cards import shown_text
from tests.conftest import Harness, start_harness, stop_harness
from tests.helpers import card_text, cards_of, pilot_body
from tests.teams_sim import (
    FOREIGN_USER,
    OUTSIDER,
    PEOPLE_CHAT_ID,
    SPONSOR,
    TENANT,
    FakeConnector,
    adaptive_card_invoke,
    personal_message,
)

ADAPTIVE = "application/vnd.microsoft.card.adaptive"
MESSAGE = "application/vnd.microsoft.activity.message"
FORM = {
    "name": "Claims intake",
    "metricName": "Handling time",
    "metricUnit": "min",
    "metricBaseline": "42",
    "metricTarget": "30",
    "metricDirection": "decrease",
    "startDate": "2026-09-01",
    "sponsor": SPONSOR.aad_object_id,
}


async def register(h: Harness, name: str, **overrides: Any) -> dict[str, Any]:
    status, pilot = await h.api("POST", "/api/pilots", pilot_body(name=name, **overrides))
    assert status == 201, pilot
    assert isinstance(pilot, dict)
    return pilot


async def stored_documents(h: Harness) -> int:
    """What the bot stored, less the per-pilot summaries (storage.summaries): a read model of the rest, which a
    tenant's first read completes for data from before it existed."""
    return sum([len(await h.store.query(name)) for name in CONTAINERS if name != SUMMARIES])


def automatic_refresh(card: dict[str, Any], **options: Any) -> dict[str, Any]:
    """The invoke Teams sends when it shows ``card``: the card's refresh action, trigger automatic."""
    action = card["refresh"]["action"]
    data = {k: v for k, v in action["data"].items() if k != "verb"}
    return adaptive_card_invoke(action["verb"], data=data, trigger="automatic", **options)


async def status_alone(h: Harness) -> str:
    """What `status` with no name shows OUTSIDER in their chat with the bot: the pilot last asked for there."""
    before = len(h.connector.sent_activities())
    await h.bot.post(personal_message("status", OUTSIDER, service_url=h.connector.service_url))
    [card] = cards_of(h.connector.sent_activities()[before:])
    return card_text(card)


async def test_a_status_card_refreshing_in_a_chat_without_the_bot_is_answered_and_changes_nothing(
    harness: Harness,
) -> None:
    url = harness.connector.service_url
    pilot = await register(harness, "Claims triage")
    await harness.bot.post(personal_message("status claims triage", SPONSOR, service_url=url))
    [shown] = cards_of(harness.connector.sent_activities())
    reading = {"period": "2026-11", "values": {"Handling time": 35}, "status": "green"}
    assert (await harness.api("POST", f"/api/pilots/{pilot['id']}/readings", reading))[0] == 201
    before, sent = await stored_documents(harness), len(harness.connector.sent_activities())
    # Someone else in the tenant sees the card forwarded into a chat the bot is no member of.
    refresh = automatic_refresh(
        shown, user=OUTSIDER, scope="groupChat", conversation_id=PEOPLE_CHAT_ID, service_url=url
    )
    status, body = await harness.bot.post(refresh)
    assert status == 200 and body["statusCode"] == 200 and body["type"] == ADAPTIVE
    assert "35 min" in shown_text(body["value"]) and "35 min" not in shown_text(shown)
    assert body["value"]["refresh"] == shown["refresh"]  # and it keeps refreshing
    assert await stored_documents(harness) == before  # no conversation learned, no conversation state saved
    assert await harness.repos.conversations.get(TENANT.id, PEOPLE_CHAT_ID) is None
    assert len(harness.connector.sent_activities()) == sent  # answered in the HTTP response only


async def test_an_automatic_refresh_does_not_become_the_pilot_last_asked_for(harness: Harness) -> None:
    url = harness.connector.service_url
    await register(harness, "Claims triage")
    invoice = await register(harness, "Invoice matching")
    await harness.bot.post(personal_message("status claims", OUTSIDER, service_url=url))
    shown = {"pilotId": invoice["id"]}
    await harness.bot.post(
        adaptive_card_invoke(PILOT_STATUS, shown, user=OUTSIDER, trigger="automatic", service_url=url)
    )
    assert "Claims triage" in await status_alone(harness)  # still the one they asked for
    await harness.bot.post(adaptive_card_invoke(PILOT_STATUS, shown, user=OUTSIDER, trigger="manual", service_url=url))
    assert "Invoice matching" in await status_alone(harness)  # a press is asking


async def test_an_automatic_refresh_honours_the_tenant_allow_list(tmp_path: Path, connector: FakeConnector) -> None:
    h = await start_harness(tmp_path, connector, allowed_tenants=frozenset({TENANT.id}))
    try:
        pilot = await register(h, "Claims triage")
        before = await stored_documents(h)
        status, body = await h.bot.post(
            adaptive_card_invoke(
                PILOT_STATUS,
                {"pilotId": pilot["id"]},
                user=FOREIGN_USER,
                trigger="automatic",
                service_url=connector.service_url,
            )
        )
        assert status == 200 and body["statusCode"] == 403 and body["value"] == FOREIGN_TENANT_REPLY
        assert await stored_documents(h) == before
    finally:
        await stop_harness(h)


async def test_an_automatic_refresh_never_shows_another_tenants_pilot(harness: Harness) -> None:
    pilot = await register(harness, "Claims triage")  # in TENANT; ALLOWED_TENANTS is empty, so Fabrikam is served too
    status, body = await harness.bot.post(
        adaptive_card_invoke(
            PILOT_STATUS,
            {"pilotId": pilot["id"]},
            user=FOREIGN_USER,
            trigger="automatic",
            service_url=harness.connector.service_url,
        )
    )
    assert status == 200 and body["type"] == MESSAGE
    assert "Claims triage" not in body["value"]


async def test_an_automatic_trigger_never_runs_a_verb_that_writes(harness: Harness) -> None:
    url = harness.connector.service_url
    status, body = await harness.bot.post(
        adaptive_card_invoke("pilot.create", inputs=FORM, user=SPONSOR, trigger="automatic", service_url=url)
    )
    assert status == 200 and body["type"] == MESSAGE
    assert await harness.repos.pilots.list(TENANT.id) == []
    status, body = await harness.bot.post(
        adaptive_card_invoke("pilot.create", inputs=FORM, user=SPONSOR, service_url=url)
    )
    assert status == 200 and len(await harness.repos.pilots.list(TENANT.id)) == 1  # pressed, it registers


def test_only_an_invoke_with_trigger_automatic_is_an_automatic_refresh() -> None:
    def read(raw: dict[str, Any]) -> tuple[bool, bool]:
        activity = Activity().deserialize(raw)
        return action_of(activity).automatic, leaves_no_trace(activity)

    assert read(adaptive_card_invoke(PILOT_STATUS, {"pilotId": "p"}, trigger="automatic")) == (True, True)
    assert read(adaptive_card_invoke(PILOT_STATUS, {"pilotId": "p"}, trigger="manual")) == (False, False)
    submit = personal_message("", SPONSOR)
    submit["value"] = {"verb": PILOT_STATUS, "pilotId": "p", "trigger": "automatic"}  # a Submit's data is its value
    assert read(submit) == (False, False)
    assert read(personal_message("status claims", SPONSOR)) == (False, False)
