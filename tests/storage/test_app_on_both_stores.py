"""The whole app on each store: REST registration, install, a check-in tick, the card submit and status; the gate
card's per-user views."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import start_harness, stop_harness
from tests.helpers import card_text, cards_of
from tests.scheduler.test_checkins import CHECKIN_TIME, checkin_cards, install_sponsor, register, submit, tick
from tests.scheduler.test_gate_views import (
    assert_decision_view,
    assert_read_only,
    posted_gate_day_card,
    stored_documents,
    view,
)
from tests.storage.conftest import StoreFactory
from tests.teams_sim import ADMIN, OUTSIDER, SPONSOR, FakeConnector, personal_message


async def test_a_month_of_pilotgate_on_this_store(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(tmp_path, connector, store=await store_factory())
    try:
        pilot = await register(h)
        await install_sponsor(h)
        assert (await tick(h, CHECKIN_TIME))["sent"] == 1
        assert len(checkin_cards(h)) == 1
        body = await submit(h, pilot["id"])
        assert "Check-in received" in card_text(body["value"])
        assert (await tick(h, CHECKIN_TIME))["sent"] == 0
        await h.bot.post(personal_message("status claims triage", SPONSOR, service_url=connector.service_url))
        assert "37.5 min" in card_text(cards_of(connector.sent_activities())[-1])
        status, fetched = await h.api("GET", f"/api/pilots/{pilot['id']}")
        assert status == 200 and [r["period"] for r in fetched["readings"]] == ["2026-11"]
        status, health = await h.api("GET", "/healthz", token=None)
        assert status == 200 and health["storage"] == h.store.name
    finally:
        await stop_harness(h)


async def test_the_gate_cards_per_user_views_on_this_store(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    """The deciders' Teams ids come from this store's chats; a refresh reads it and writes nothing."""
    h = await start_harness(tmp_path, connector, store=await store_factory())
    try:
        pilot, card = await posted_gate_day_card(h)
        assert_read_only(card)
        assert card["refresh"]["userIds"] == [SPONSOR.teams_id, ADMIN.teams_id]
        before = await stored_documents(h)
        assert_decision_view((await view(h, card, SPONSOR))["value"], pilot)
        assert_read_only((await view(h, card, OUTSIDER))["value"])
        assert await stored_documents(h) == before
    finally:
        await stop_harness(h)
