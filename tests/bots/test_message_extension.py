"""The message extension "Find a pilot", through the real /api/messages route with invokes shaped as Teams sends
them: what a search finds, what it answers when it cannot, what it leaves behind, and the card it inserts refreshing
itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botbuilder.schema import Activity
from botbuilder.schema.teams import MessagingExtensionResponse, MessagingExtensionResult

from app import invoke_body
from bots.activity import leaves_no_trace, search_of
from bots.commands import SEARCH_COMMANDS
from bots.search import MAX_RESULTS, NO_PILOTS_REPLY, OLD_SEARCH_REPLY
from bots.teams_bot import FOREIGN_TENANT_REPLY
from bots.turn import STORAGE_DOWN_REPLY
from cards.text import MAX_CARD_BYTES, card_size
from cards.verbs import PILOT_STATUS
from manifest.build import build_manifest
from tests.bots.test_card_refresh import automatic_refresh, register, stored_documents
from tests.cards.test_cards import assert_official_parser_accepts, shown_text
from tests.conftest import Harness, start_harness, stop_harness
from tests.helpers import card_text, cards_of, seed_sponsors
from tests.teams_sim import (
    BOT_APP_ID,
    FOREIGN_USER,
    OUTSIDER,
    PEOPLE_CHAT_ID,
    SPONSOR,
    TENANT,
    FakeConnector,
    messaging_extension_query,
    personal_message,
)

ADAPTIVE = "application/vnd.microsoft.card.adaptive"
THUMBNAIL = "application/vnd.microsoft.card.thumbnail"


async def search(h: Harness, text: str = "", **options: Any) -> dict[str, Any]:
    """Post a composeExtension/query and return the composeExtension envelope Teams reads."""
    options.setdefault("service_url", h.connector.service_url)
    status, body = await h.bot.post(messaging_extension_query(text, **options))
    assert status == 200, (status, body)
    assert isinstance(body, dict) and set(body) == {"composeExtension"}, body
    envelope: dict[str, Any] = body["composeExtension"]
    return envelope


def names_in(result: dict[str, Any]) -> list[str]:
    assert result["type"] == "result" and result["attachmentLayout"] == "list", result
    return [attachment["preview"]["content"]["title"] for attachment in result["attachments"]]


# --- what a search finds -------------------------------------------------------------------------------------------


async def test_a_search_lists_each_matching_pilot_as_its_status_card_with_a_preview(
    harness: Harness, tmp_path: Path
) -> None:
    triage = await register(harness, "Claims triage")
    await register(harness, "Claims intake", gateDate="2027-01-15")
    await register(harness, "Invoice matching")
    result = await search(harness, "claims", user=OUTSIDER)  # anyone in the tenant may read, as with `status`
    assert names_in(result) == ["Claims intake", "Claims triage"]  # both contain it: shortest first
    first, second = result["attachments"]
    assert {first["contentType"], second["contentType"]} == {ADAPTIVE}
    assert first["preview"]["contentType"] == THUMBNAIL
    assert first["preview"]["content"] == {
        "title": "Claims intake",
        "subtitle": "Pilot",
        "text": "Gate in 50 days · 4 governance gaps",
    }
    card = second["content"]
    assert "Claims triage" in shown_text(card) and "Handling time" in shown_text(card)
    refresh = card["refresh"]["action"]
    assert refresh["type"] == "Action.Execute" and refresh["verb"] == PILOT_STATUS
    assert refresh["data"] == {"verb": PILOT_STATUS, "pilotId": triage["id"]}
    assert "userIds" not in card["refresh"]  # Teams refreshes it for everyone in chats of up to 60 people
    assert_official_parser_accepts({f"search-{i}": a["content"] for i, a in enumerate(result["attachments"])}, tmp_path)
    assert all(card_size(a["content"]) < MAX_CARD_BYTES for a in result["attachments"])


async def test_the_match_forgives_case_accents_spacing_and_typos_like_status(harness: Harness) -> None:
    await register(harness, "Claims triage")
    await register(harness, "Invoice matching")
    assert names_in(await search(harness, "  CLAIMS   TRIAGE ")) == ["Claims triage"]
    assert names_in(await search(harness, "invoice matchng")) == ["Invoice matching"]
    assert names_in(await search(harness, "tri")) == ["Claims triage"]


async def test_an_exact_name_comes_first_and_the_names_containing_it_follow(harness: Harness) -> None:
    for name in ("Copilot for legal", "Copilot", "Copilot for sales"):
        await register(harness, name)
    assert names_in(await search(harness, "copilot")) == ["Copilot", "Copilot for legal", "Copilot for sales"]


async def test_with_nothing_typed_the_pilots_needing_attention_come_first(harness: Harness) -> None:
    await register(harness, "Alpha assistant", gateDate="2027-02-01")
    await register(harness, "Zeta summariser", gateDate="2026-11-30")
    harness.clock.advance(days=10)  # Zeta's gate has passed without a decision: it needs attention
    opened = await search(harness, initial_run=True)
    assert names_in(opened) == ["Zeta summariser", "Alpha assistant"]
    zeta = opened["attachments"][0]["preview"]["content"]
    assert zeta["text"].startswith("Gate passed 6d ago, no decision")
    assert names_in(await search(harness, "")) == ["Zeta summariser", "Alpha assistant"]  # a cleared search box


async def test_at_most_ten_results_paged_as_teams_scrolls(harness: Harness) -> None:
    await seed_sponsors(harness.repos, harness.connector.service_url, 12)  # "Pilot 0" ... "Pilot 11"
    first = names_in(await search(harness, "pilot"))
    assert len(first) == MAX_RESULTS
    assert names_in(await search(harness, "pilot", skip=5, count=5)) == first[5:]
    assert names_in(await search(harness, "pilot", skip=10, count=25)) == []  # the end of the list
    assert len(names_in(await search(harness, initial_run=True))) == MAX_RESULTS


async def test_no_match_and_no_pilots_answer_a_line_of_text(harness: Harness) -> None:
    assert await search(harness, initial_run=True) == {"type": "message", "text": NO_PILOTS_REPLY}
    await register(harness, "Claims triage")
    nothing = await search(harness, "fraud detection")
    assert nothing["type"] == "message" and "fraud detection" in nothing["text"]


async def test_pilots_of_another_tenant_are_never_found(harness: Harness) -> None:
    await register(harness, "Claims triage")  # in TENANT; ALLOWED_TENANTS is empty, so Fabrikam is served too
    assert await search(harness, "claims", user=FOREIGN_USER) == {
        "type": "message",
        "text": "No pilot matches 'claims'. Clear the search to see every pilot.",
    }


# --- what a search leaves behind and who may search ----------------------------------------------------------------


async def test_a_search_from_a_chat_without_the_bot_stores_nothing(harness: Harness) -> None:
    await register(harness, "Claims triage")
    before = await stored_documents(harness)
    await search(harness, "claims", user=OUTSIDER)
    await search(harness, initial_run=True, scope="personal")
    assert await stored_documents(harness) == before
    assert await harness.repos.conversations.get(TENANT.id, PEOPLE_CHAT_ID) is None
    assert harness.connector.sent_activities() == []  # answered in the HTTP response, nothing posted to the chat


async def test_a_foreign_tenant_gets_a_refusal_as_a_search_answer_and_nothing_is_stored(
    tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(tmp_path, connector, allowed_tenants=frozenset({TENANT.id}))
    try:
        before = await stored_documents(h)
        refused = await search(h, "claims", user=FOREIGN_USER)
        assert refused == {"type": "message", "text": FOREIGN_TENANT_REPLY}
        no_tenant = messaging_extension_query("claims", SPONSOR, service_url=connector.service_url)
        no_tenant["conversation"].pop("tenantId")
        no_tenant["channelData"].pop("tenant")
        status, body = await h.bot.post(no_tenant)
        assert status == 200 and body == {"composeExtension": {"type": "message", "text": FOREIGN_TENANT_REPLY}}
        assert await stored_documents(h) == before
        assert connector.sent_activities() == []
    finally:
        await stop_harness(h)


async def test_an_unknown_search_command_answers_a_line_of_text(harness: Harness) -> None:
    assert await search(harness, "claims", command_id="searchCmd") == {"type": "message", "text": OLD_SEARCH_REPLY}


async def test_a_storage_outage_answers_a_line_of_text_not_an_error(harness: Harness) -> None:
    await harness.store.close()
    assert await search(harness, "claims") == {"type": "message", "text": STORAGE_DOWN_REPLY}


async def test_a_search_that_cannot_be_read_answers_a_line_of_text_with_an_error_id(harness: Harness) -> None:
    activity = messaging_extension_query("claims", service_url=harness.connector.service_url)
    activity["value"]["queryOptions"] = "all of them"  # botbuilder cannot read it into its MessagingExtensionQuery
    status, body = await harness.bot.post(activity)
    assert status == 200
    assert body["composeExtension"]["type"] == "message" and "error id" in body["composeExtension"]["text"]


async def test_every_search_command_in_the_manifest_is_answered(harness: Harness) -> None:
    await register(harness, "Claims triage")
    manifest = build_manifest(BOT_APP_ID, "pilotgate.contoso.com", "1.0.0")
    [extension] = manifest["composeExtensions"]
    assert extension["botId"] == manifest["bots"][0]["botId"]  # Universal Actions need the same bot
    commands = extension["commands"]
    assert {c["id"] for c in commands} == {c.id for c in SEARCH_COMMANDS}
    for command in commands:
        [parameter] = command["parameters"]
        result = await search(harness, "claims", command_id=command["id"], parameter=parameter["name"])
        assert names_in(result) == ["Claims triage"], command["id"]


async def test_help_tells_where_to_find_the_search(harness: Harness) -> None:
    url = harness.connector.service_url
    before = len(harness.connector.sent_activities())
    await harness.bot.post(personal_message("help", SPONSOR, service_url=url))
    [card] = cards_of(harness.connector.sent_activities()[before:])
    assert all(command.title in card_text(card) for command in SEARCH_COMMANDS)


# --- the card it inserts, refreshing itself ---------------------------------------------------------------------------


async def test_an_inserted_card_refreshes_for_anyone_in_the_tenant_and_changes_nothing(harness: Harness) -> None:
    url = harness.connector.service_url
    pilot = await register(harness, "Claims triage")
    [found] = (await search(harness, "claims triage", user=SPONSOR))["attachments"]
    reading = {"period": "2026-11", "values": {"Handling time": 35}, "status": "green"}
    assert (await harness.api("POST", f"/api/pilots/{pilot['id']}/readings", reading))[0] == 201
    before = await stored_documents(harness)
    refresh = automatic_refresh(
        found["content"], user=OUTSIDER, scope="groupChat", conversation_id=PEOPLE_CHAT_ID, service_url=url
    )
    status, body = await harness.bot.post(refresh)
    assert status == 200 and body["statusCode"] == 200 and body["type"] == ADAPTIVE
    assert "35 min" in shown_text(body["value"]) and "35 min" not in shown_text(found["content"])
    assert body["value"]["refresh"] == found["content"]["refresh"]  # and it keeps refreshing
    assert await stored_documents(harness) == before  # no conversation learned, no state saved
    assert harness.connector.sent_activities() == []


# --- reading Teams' payloads ---------------------------------------------------------------------------------------


def test_a_search_is_read_forgivingly() -> None:
    def read(value: Any) -> tuple[str, str, int, int]:
        query = search_of(Activity(type="invoke", name="composeExtension/query", value=value))
        return query.command_id, query.text, query.skip, query.count

    assert read(messaging_extension_query("  claims   triage ", skip=3, count=7)["value"]) == (
        "findPilot",
        "claims triage",
        3,
        7,
    )
    assert read(messaging_extension_query(initial_run=True)["value"]) == ("findPilot", "", 0, 25)
    assert read(None) == ("", "", 0, 25)
    assert read({"commandId": 7, "parameters": "x", "queryOptions": {"skip": -1, "count": True}}) == ("", "", 0, 25)
    assert read({"commandId": "findPilot", "parameters": [{"name": "pilotName", "value": "x" * 5000}]})[1] == "x" * 200


def test_a_search_leaves_no_trace() -> None:
    assert leaves_no_trace(Activity().deserialize(messaging_extension_query("claims")))
    assert leaves_no_trace(Activity().deserialize(messaging_extension_query(initial_run=True, scope="personal")))


def test_an_msrest_invoke_body_is_serialized_for_the_http_answer() -> None:
    model = MessagingExtensionResponse(compose_extension=MessagingExtensionResult(type="message", text="hi"))
    assert invoke_body(model) == {"composeExtension": {"type": "message", "text": "hi"}}
    assert invoke_body({"a": 1}) == {"a": 1}
    assert invoke_body(None) is None
