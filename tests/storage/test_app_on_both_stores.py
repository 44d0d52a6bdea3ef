"""The whole app on each store: REST registration, install, a check-in tick, the card submit and status."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import start_harness, stop_harness
from tests.helpers import card_text, cards_of
from tests.scheduler.test_checkins import CHECKIN_TIME, checkin_cards, install_sponsor, register, submit, tick
from tests.storage.conftest import StoreFactory
from tests.teams_sim import SPONSOR, FakeConnector, personal_message


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
