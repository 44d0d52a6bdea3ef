"""The check-in card keeps itself current (Universal Actions' refresh), through the real /api/messages route.

The card a tick sends 1:1 carries a refresh (verb ``checkin.view``, no userIds in a 1:1 chat); Teams' automatic
refresh gets the form while the month is open and unanswered, "already received" once a reading is in (from Teams
or the REST API), and "superseded" once a later month's check-in is due.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.conftest import Harness
from tests.helpers import card_text, inputs
from tests.scheduler.test_checkins import (
    CHECKIN_TIME,
    checkin_cards,
    install_sponsor,
    register,
    submit,
    tick,
)
from tests.scheduler.test_gate_views import stored_documents
from tests.teams_sim import SPONSOR, adaptive_card_invoke

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
FORM_INPUTS = ["metric_0", "metric_1", "status", "activeUsers", "spend", "blockers", "notes"]


async def sent_checkin_card(h: Harness) -> tuple[dict[str, Any], dict[str, Any]]:
    """The November check-in card as the tick sends it on 1 December; the clock then stands later that day."""
    pilot = await register(h)
    await install_sponsor(h)
    assert (await tick(h, CHECKIN_TIME))["sent"] == 1
    h.clock.set(datetime(2026, 12, 1, 16, tzinfo=UTC))
    [card] = checkin_cards(h)
    return pilot, card


async def refreshed(h: Harness, card: dict[str, Any]) -> dict[str, Any]:
    """What Teams shows the sponsor when it refreshes ``card`` by itself."""
    status, body = await h.bot.post(
        adaptive_card_invoke(
            "checkin.view",
            data=card["refresh"]["action"]["data"],
            user=SPONSOR,
            service_url=h.connector.service_url,
            reply_to_id="1700000000001",
            trigger="automatic",
        )
    )
    assert status == 200, body
    assert body["type"] == ADAPTIVE_CARD, body
    value = body["value"]
    assert isinstance(value, dict)
    return value


async def reading_through_the_api(h: Harness, pilot: dict[str, Any], period: str) -> None:
    reading = {"period": period, "values": {"Handling time": 36}, "status": "green"}
    status, body = await h.api("POST", f"/api/pilots/{pilot['id']}/readings", reading)
    assert status == 201, body


async def test_the_sent_checkin_card_refreshes_itself_without_user_ids(harness: Harness) -> None:
    pilot, card = await sent_checkin_card(harness)
    refresh = card["refresh"]
    assert refresh["action"]["type"] == "Action.Execute" and refresh["action"]["verb"] == "checkin.view"
    assert refresh["action"]["data"] == {"verb": "checkin.view", "pilotId": pilot["id"], "period": "2026-11"}
    assert "userIds" not in refresh  # a 1:1 chat


async def test_an_open_unanswered_checkin_refreshes_to_the_form_and_writes_nothing(harness: Harness) -> None:
    _, card = await sent_checkin_card(harness)
    before = await stored_documents(harness)
    form = await refreshed(harness, card)
    assert list(inputs(form)) == FORM_INPUTS
    assert "Submit check-in" in card_text(form) and "November 2026" in card_text(form)
    assert form["refresh"] == card["refresh"]
    assert form == card  # nothing changed, so the sponsor sees the card as it was sent
    assert await stored_documents(harness) == before


async def test_a_checkin_answered_in_teams_refreshes_to_already_received(harness: Harness) -> None:
    pilot, card = await sent_checkin_card(harness)
    await submit(harness, pilot["id"])  # e.g. on the sponsor's phone
    received = await refreshed(harness, card)
    assert inputs(received) == {} and "refresh" not in received
    text = card_text(received)
    assert "The readings for November 2026 are already in: sent in Teams by Sam Sponsor on 2026-12-01." in text
    assert "Submit check-in" not in text


async def test_a_checkin_answered_through_the_rest_api_refreshes_to_already_received(harness: Harness) -> None:
    pilot, card = await sent_checkin_card(harness)
    await reading_through_the_api(harness, pilot, "2026-11")
    before = await stored_documents(harness)
    received = await refreshed(harness, card)
    assert inputs(received) == {} and "refresh" not in received
    assert "The readings for November 2026 are already in: sent through the API" in card_text(received)
    assert await stored_documents(harness) == before


async def test_an_unanswered_checkin_is_superseded_once_the_next_month_is_due(harness: Harness) -> None:
    pilot, card = await sent_checkin_card(harness)
    harness.clock.set(datetime(2027, 1, 1, 13, 59, tzinfo=UTC))  # just before December's card (1 Jan, 09:00 NY)
    assert list(inputs(await refreshed(harness, card))) == FORM_INPUTS
    harness.clock.set(datetime(2027, 1, 1, 14, 0, tzinfo=UTC))
    superseded = await refreshed(harness, card)
    assert inputs(superseded) == {} and "refresh" not in superseded
    text = card_text(superseded)
    assert "This card asked for November 2026. The December 2026 check-in has replaced it" in text
    assert "answer the December 2026 card further down this chat" in text
    await reading_through_the_api(harness, pilot, "2026-12")
    assert "the readings for December 2026 are already in" in card_text(await refreshed(harness, card))


async def test_a_late_answer_for_a_superseded_month_still_shows_as_received(harness: Harness) -> None:
    pilot, card = await sent_checkin_card(harness)
    harness.clock.set(datetime(2027, 1, 20, 15, tzinfo=UTC))
    await reading_through_the_api(harness, pilot, "2026-11")
    assert "The readings for November 2026 are already in" in card_text(await refreshed(harness, card))
