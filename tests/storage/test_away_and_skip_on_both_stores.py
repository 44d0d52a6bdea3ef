"""Away and skip on each store (memory, SQLite, the Cosmos test server): the asked-for reminder survives a restart
and two replicas ticking at once send it exactly once; a skipped month stays skipped, not late."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import start_harness, stop_harness
from tests.helpers import card_text, cards_of
from tests.scheduler.test_away_and_skip import (
    AWAY_REMINDER_TIME,
    ESCALATION_TIME,
    REMINDER_TIME,
    away_until_the_15th,
    say,
    skip_november,
    with_project_channel,
)
from tests.scheduler.test_checkins import CHECKIN_TIME, SPONSOR_CHAT, install_sponsor, tick
from tests.storage.conftest import StoreFactory
from tests.teams_sim import ADMIN, TEAM, FakeConnector


async def test_the_asked_for_reminder_survives_a_restart_and_goes_out_once(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    first = await start_harness(tmp_path, connector, store=await store_factory())
    try:
        pilot = await with_project_channel(first)
        await install_sponsor(first)
        assert (await tick(first, CHECKIN_TIME))["sent"] == 1
        await away_until_the_15th(first, pilot["id"])
    finally:
        await stop_harness(first)
    # A restarted app and a second replica on the same data, ticking at the same moment.
    replicas = [await start_harness(tmp_path / f"r{i}", connector, store=await store_factory()) for i in range(2)]
    try:
        assert (await tick(replicas[0], REMINDER_TIME))["sent"] == 0
        assert (await tick(replicas[1], ESCALATION_TIME))["sent"] == 0
        reports = await asyncio.gather(*(tick(h, AWAY_REMINDER_TIME) for h in replicas))
        assert sum(report["sent"] for report in reports) == 1
        assert (await tick(replicas[1], AWAY_REMINDER_TIME))["sent"] == 0
        texts = [a.get("text") or "" for a in connector.sent_activities(SPONSOR_CHAT)]
        assert sum("reminded today" in text for text in texts) == 1
    finally:
        for h in replicas:
            await stop_harness(h)


async def test_a_skipped_month_on_this_store(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(tmp_path, connector, store=await store_factory())
    try:
        pilot = await with_project_channel(h)
        await install_sponsor(h)
        await tick(h, CHECKIN_TIME)
        body = await skip_november(h, pilot["id"], reason="Pilot paused for the audit")
        assert "Check-in skipped" in card_text(body["value"])
        assert (await tick(h, REMINDER_TIME))["sent"] == 0
        assert (await tick(h, ESCALATION_TIME))["sent"] == 0
        assert cards_of(connector.sent_activities(TEAM.id)) == []
        stored = await h.repos.pilots.get(pilot["id"], pilot["tenantId"])
        assert stored is not None and [(str(x.period), x.reason) for x in stored.checkin_holds] == [
            ("2026-11", "Pilot paused for the audit")
        ]
        trail = [event.action for event in await h.repos.audit.list_for(pilot["id"])]
        assert trail.count("checkin.skipped") == 1
        overdue = card_text(cards_of(await say(h, "overdue", ADMIN))[-1])
        assert "Skipped this month (not late)" in overdue and "Pilot paused for the audit" in overdue
    finally:
        await stop_harness(h)
