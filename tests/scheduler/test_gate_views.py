"""Per-user views of the gate card (Universal Actions), through the real /api/messages route.

The card a tick posts to the project channel is read-only and carries a refresh for the Teams ids of the sponsor
and the admins; Teams' automatic refresh (invoke ``adaptiveCard/action``, ``trigger: "automatic"``, verb
``gate.view``) gets the decision forms for them and the read-only view for anyone else. Pressing a decision anyway
is still refused by the server.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from cards.verbs import GATE_VIEW
from governance.model import Stage, TeamMember
from storage.documents import CONTAINERS, ETAG
from tests.conftest import Harness, start_harness, stop_harness
from tests.helpers import action_verbs, card_text, cards_of, inputs, nodes, texts_of
from tests.scheduler.test_checkins import tick
from tests.scheduler.test_gates import decide, gate_posts, register_linked
from tests.teams_sim import (
    ADMIN,
    OUTSIDER,
    SPONSOR,
    TEAM,
    TENANT,
    FakeConnector,
    TeamsUser,
    adaptive_card_invoke,
    installation_update,
    submit_message,
)

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
MESSAGE = "application/vnd.microsoft.activity.message"
GATE_DAY_TICK = "2026-11-30T14:00:00Z"  # 09:00 in New York on the gate day
POSTED_ID = "1700000000009"  # the posted card's message id, which Teams names in replyToId
DECISION_TITLES = ["Go", "Narrow scope", "Extend", "Retire"]


async def install(h: Harness, user: TeamsUser) -> None:
    status, _ = await h.bot.post(installation_update("add", "personal", user, service_url=h.connector.service_url))
    assert status in (200, 201)


async def posted_gate_day_card(h: Harness) -> tuple[dict[str, Any], dict[str, Any]]:
    """A pilot linked to the TEAM channel the day before its gate, the admin known by a 1:1 chat, and the gate-day
    card the tick posts."""
    pilot = await register_linked(h, datetime(2026, 11, 29, 20, tzinfo=UTC))
    await install(h, ADMIN)
    report = await tick(h, GATE_DAY_TICK)
    assert report["by_kind"].get("gate") == 1, report
    h.clock.set(datetime(2026, 11, 30, 15, tzinfo=UTC))
    return pilot, gate_posts(h)[-1]


async def view(
    h: Harness,
    card: dict[str, Any],
    user: TeamsUser,
    trigger: Literal["manual", "automatic"] = "automatic",
) -> dict[str, Any]:
    """What the bot answers ``user`` for the card's refresh (automatic) or its Decide button (manual)."""
    data = card["refresh"]["action"]["data"] if trigger == "automatic" else decide_button(card)["data"]
    status, body = await h.bot.post(
        adaptive_card_invoke(
            "gate.view",
            data=data,
            user=user,
            scope="channel",
            service_url=h.connector.service_url,
            reply_to_id=POSTED_ID,
            trigger=trigger,
        )
    )
    assert status == 200, body
    assert isinstance(body, dict)
    return body


def decide_button(card: dict[str, Any]) -> dict[str, Any]:
    [button] = [a for a in card.get("actions", []) if a.get("title") == "Decide"]
    assert isinstance(button, dict) and button["type"] == "Action.Execute" and button["verb"] == "gate.view"
    return button


def decision_forms(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each decision's form (the ShowCard's card), by button title."""
    return {a["title"]: a["card"] for a in card.get("actions", []) if a.get("type") == "Action.ShowCard"}


def assert_read_only(card: dict[str, Any]) -> None:
    assert decision_forms(card) == {}
    assert inputs(card) == {}
    assert "gate.decide" not in action_verbs(card)
    assert not any(node.get("type") == "Action.ShowCard" for node in nodes(card))


def assert_decision_view(card: dict[str, Any], pilot: dict[str, Any]) -> None:
    forms = decision_forms(card)
    assert list(forms) == DECISION_TITLES
    for kind, title in zip(("go", "narrow", "extend", "retire"), DECISION_TITLES, strict=True):
        [record] = forms[title]["actions"]
        assert record["verb"] == "gate.decide"
        assert record["data"] == {"verb": "gate.decide", "pilotId": pilot["id"], "gateDate": "2026-11-30", "kind": kind}
        assert inputs(forms[title]), title
    assert "Decide" not in [a.get("title") for a in card["actions"]]


async def stored_documents(h: Harness) -> dict[tuple[str, str], str]:
    """Every stored document's ETag, by container and id: equal before and after means nothing was written."""
    return {(name, doc["id"]): doc[ETAG] for name in CONTAINERS for doc in await h.store.query(name)}


async def test_the_posted_gate_card_is_read_only_and_refreshes_for_the_sponsor_and_the_admins(
    harness: Harness,
) -> None:
    pilot, card = await posted_gate_day_card(harness)
    assert "Gate day: Claims triage" in card_text(card)
    assert_read_only(card)
    assert decide_button(card)["data"] == {"verb": "gate.view", "pilotId": pilot["id"], "gateDate": "2026-11-30"}
    refresh = card["refresh"]
    assert refresh["action"]["type"] == "Action.Execute" and refresh["action"]["verb"] == "gate.view"
    assert refresh["action"]["data"] == {"verb": "gate.view", "pilotId": pilot["id"], "gateDate": "2026-11-30"}
    assert refresh["userIds"] == [SPONSOR.teams_id, ADMIN.teams_id]


async def test_the_sponsors_and_an_admins_automatic_refresh_get_the_four_decision_forms(harness: Harness) -> None:
    pilot, card = await posted_gate_day_card(harness)
    for user in (SPONSOR, ADMIN):
        body = await view(harness, card, user)
        assert body["type"] == ADAPTIVE_CARD, user.name
        refreshed = body["value"]
        assert_decision_view(refreshed, pilot)
        assert refreshed["refresh"] == card["refresh"]  # stays current each time they look at it
        assert "Gate day: Claims triage" in card_text(refreshed)


async def test_an_outsiders_automatic_refresh_gets_the_read_only_view(harness: Harness) -> None:
    _, card = await posted_gate_day_card(harness)
    body = await view(harness, card, OUTSIDER)
    assert body["type"] == ADAPTIVE_CARD
    assert_read_only(body["value"])
    assert decide_button(body["value"])
    assert "Gate day: Claims triage" in card_text(body["value"])


async def test_pressing_decide_opens_the_forms_for_a_decider_and_refuses_anyone_else_in_one_line(
    harness: Harness,
) -> None:
    pilot, card = await posted_gate_day_card(harness)
    sponsor = await view(harness, card, SPONSOR, trigger="manual")
    assert sponsor["type"] == ADAPTIVE_CARD
    assert_decision_view(sponsor["value"], pilot)
    outsider = await view(harness, card, OUTSIDER, trigger="manual")
    assert outsider["type"] == MESSAGE
    assert outsider["value"] == "Only the pilot's sponsor or a governance admin can decide this gate."


async def test_an_outsider_pressing_a_decision_anyway_is_refused_by_the_server_and_nothing_is_recorded(
    harness: Harness,
) -> None:
    pilot, card = await posted_gate_day_card(harness)
    record = decision_forms((await view(harness, card, SPONSOR))["value"])["Go"]["actions"][0]
    before = await stored_documents(harness)
    for inputs_sent in ({"goRationale": "Ship it", "goScope": "All", "goDate": "2027-01-04"}, {"goRationale": ""}):
        status, body = await harness.bot.post(
            adaptive_card_invoke(
                "gate.decide",
                data=record["data"],
                inputs=inputs_sent,
                user=OUTSIDER,
                scope="channel",
                service_url=harness.connector.service_url,
                reply_to_id=POSTED_ID,
            )
        )
        assert status == 200 and body["type"] == MESSAGE  # a refusal, never the forms with the outsider's errors
        assert body["value"] == "Only the pilot's sponsor or a governance admin can decide this gate."
    assert await harness.repos.decisions.list_for(pilot["id"]) == []
    stored = await harness.repos.pilots.get(pilot["id"], TENANT.id)
    assert stored is not None and stored.stage is Stage.PILOT
    assert await stored_documents(harness) == before
    assert harness.connector.updates() == []


async def test_an_automatic_refresh_writes_nothing(harness: Harness) -> None:
    _, card = await posted_gate_day_card(harness)
    before = await stored_documents(harness)
    for user in (SPONSOR, ADMIN, OUTSIDER):
        await view(harness, card, user)
    assert await stored_documents(harness) == before  # no conversation state (last pilot), no record
    assert harness.connector.updates() == []


async def test_after_a_decision_everyone_sees_the_decided_card(harness: Harness) -> None:
    pilot, card = await posted_gate_day_card(harness)
    await decide(harness, pilot, "go", goRationale="Hit the target", goScope="All claims teams", goDate="2027-01-04")
    [updated] = cards_of(harness.connector.updates(TEAM.id))
    for decided in [updated] + [(await view(harness, card, user))["value"] for user in (SPONSOR, ADMIN, OUTSIDER)]:
        assert "Gate decided: Claims triage" in card_text(decided)
        assert_read_only(decided)
        assert "refresh" not in decided and "actions" not in decided


async def test_more_than_60_deciders_name_the_first_60_sponsor_first_and_the_rest_press_decide(
    tmp_path: Path, connector: FakeConnector
) -> None:
    admins = [f"00000000-0000-4000-8000-{i:012d}" for i in range(70)]
    h = await start_harness(tmp_path, connector, admin_users=frozenset({*admins, ADMIN.aad_object_id}))
    try:
        for i, admin in enumerate(admins):
            await h.repos.members.upsert(TeamMember(TENANT.id, admin, f"29:1Admin-{i:03d}", f"Admin {i}"))
        pilot, card = await posted_gate_day_card(h)
        user_ids = card["refresh"]["userIds"]
        assert len(user_ids) == 60
        assert user_ids[0] == SPONSOR.teams_id
        assert user_ids[1:] == [f"29:1Admin-{i:03d}" for i in range(59)]
        assert ADMIN.teams_id not in user_ids  # known (1:1 chat), but the 61st in line
        assert_read_only(card)
        pressed = await view(h, card, ADMIN, trigger="manual")
        assert pressed["type"] == ADAPTIVE_CARD
        assert_decision_view(pressed["value"], pilot)
        assert pressed["value"]["refresh"]["userIds"] == user_ids
    finally:
        await stop_harness(h)


async def test_a_decide_press_from_a_client_without_execute_never_posts_the_forms_in_the_channel(
    harness: Harness,
) -> None:
    pilot, _ = await posted_gate_day_card(harness)
    before = len(harness.connector.sent_activities(TEAM.id))
    press = submit_message(
        {"verb": GATE_VIEW, "pilotId": pilot["id"], "gateDate": pilot["gateDate"]},
        SPONSOR,
        service_url=harness.connector.service_url,
        scope="channel",
    )
    status, _ = await harness.bot.post(press)
    assert status in (200, 201)
    posted = harness.connector.sent_activities(TEAM.id)[before:]
    assert not cards_of(posted) and "cannot show you your own view" in texts_of(posted)[0]
