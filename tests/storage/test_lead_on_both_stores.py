"""The pilot lead and corrections on each store (memory, SQLite, the Cosmos test server): both get the check-in
once, the lead answers, the sponsor confirms and then corrects from the status card, and a correction racing a
check-in submit has one winner with nothing lost. The ETag and the create-only write are the store's."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import start_harness, stop_harness
from tests.helpers import card_text
from tests.scheduler.test_checkins import CHECKIN_TIME, answers
from tests.scheduler.test_lead import (
    LATER_IN_DECEMBER,
    LEAD,
    LEAD_CHAT,
    NOVEMBER,
    SPONSOR_CHAT,
    answer_checkin,
    audit_actions,
    checkin_cards,
    confirmation_cards,
    correction_form,
    execute_data,
    install,
    press,
    race_correction_and_checkin,
    register_with_lead,
    tick_at,
)
from tests.storage.conftest import StoreFactory
from tests.teams_sim import SPONSOR, FakeConnector


async def test_a_leads_month_on_this_store(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(tmp_path, connector, store=await store_factory())
    try:
        pilot = await register_with_lead(h)
        await install(h, SPONSOR, LEAD)
        assert (await tick_at(h, CHECKIN_TIME))["sent"] == 2
        assert (await tick_at(h, CHECKIN_TIME))["sent"] == 0
        assert len(checkin_cards(h, SPONSOR_CHAT)) == 1 and len(checkin_cards(h, LEAD_CHAT)) == 1
        await answer_checkin(h, pilot, LEAD)
        assert (await tick_at(h, "2026-12-01T15:00:00Z"))["by_kind"] == {"confirm": 1}
        assert (await tick_at(h, "2026-12-01T15:01:00Z"))["sent"] == 0
        [card] = confirmation_cards(h)
        confirmed = await press(h, "reading.confirm", execute_data(card, "reading.confirm"), SPONSOR)
        assert "confirmed by Sam Sponsor" in card_text(confirmed["value"])

        h.clock.set(LATER_IN_DECEMBER)
        form = await correction_form(h, pilot, SPONSOR)
        save = execute_data(form["value"], "correction.submit")
        saved = await press(h, "correction.submit", save, SPONSOR, **answers(metric_0="38"))
        assert "Reading corrected" in card_text(saved["value"])
        stale = await press(h, "correction.submit", save, SPONSOR, **answers(metric_0="39"))  # the old form again
        assert "Nothing of yours is saved yet" in card_text(stale["value"])
        stored = await h.repos.readings.get(pilot["id"], NOVEMBER)
        assert stored is not None and stored.values["Handling time"] == 38 and stored.corrected
        assert [action for action, _ in await audit_actions(h, pilot)] == [
            "reading.recorded",
            "reading.confirmed",
            "reading.corrected",
        ]
        status, fetched = await h.api("GET", f"/api/pilots/{pilot['id']}")
        assert status == 200 and fetched["readings"][0]["corrected"] is True
    finally:
        await stop_harness(h)


async def test_a_correction_racing_a_checkin_on_this_store(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(tmp_path, connector, store=await store_factory())
    try:
        await race_correction_and_checkin(h)
    finally:
        await stop_harness(h)
