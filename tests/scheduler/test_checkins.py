"""Monthly check-ins end to end: tick -> card to the sponsor -> submit -> reading stored -> card replaced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.model import ConversationKind
from governance.period import Period
from tests import helpers
from tests.conftest import Harness, start_harness, stop_harness
from tests.helpers import card_text, cards_of, inputs
from tests.teams_sim import (
    ADMIN,
    OUTSIDER,
    SPONSOR,
    TEAM,
    TENANT,
    FakeConnector,
    adaptive_card_invoke,
    channel_message,
    installation_update,
    personal_conversation_id,
    personal_message,
)

# Tuesday 1 December 2026: the first business day; 09:00 in New York is 14:00 UTC.
CHECKIN_TIME = "2026-12-01T14:00:00Z"
NOVEMBER = Period(2026, 11)
SPONSOR_CHAT = personal_conversation_id(SPONSOR)


def pilot_body(**overrides: Any) -> dict[str, Any]:
    # The gate far away: no gate milestones in these tests.
    base = {"name": "Claims triage", "gateDate": "2027-06-30", "timezone": "America/New_York"}
    return helpers.pilot_body(**{**base, **overrides})


async def tick(h: Harness, now: str) -> dict[str, Any]:
    status, report = await h.api("POST", "/api/scheduler/tick", {"now": now})
    assert status == 200, report
    assert isinstance(report, dict)
    return report


async def register(h: Harness, **overrides: Any) -> dict[str, Any]:
    status, pilot = await h.api("POST", "/api/pilots", pilot_body(**overrides))
    assert status == 201, pilot
    assert isinstance(pilot, dict)
    return pilot


async def install_sponsor(h: Harness) -> None:
    status, _ = await h.bot.post(installation_update("add", "personal", SPONSOR, service_url=h.connector.service_url))
    assert status in (200, 201)


def checkin_cards(h: Harness) -> list[dict[str, Any]]:
    return [c for c in cards_of(h.connector.sent_activities(SPONSOR_CHAT)) if "Submit check-in" in card_text(c)]


def answers(**values: str) -> dict[str, str]:
    return {"metric_0": "37.5", "metric_1": "84", "status": "amber", "activeUsers": "60", "spend": "9,500", **values}


async def submit(h: Harness, pilot_id: str, user: Any = SPONSOR, period: str = "2026-11", **values: str) -> Any:
    status, body = await h.bot.post(
        adaptive_card_invoke(
            "checkin.submit",
            data={"pilotId": pilot_id, "period": period},
            inputs=answers(**values),
            user=user,
            service_url=h.connector.service_url,
            reply_to_id="1700000000001",
        )
    )
    assert status == 200, body
    return body


async def test_checkin_end_to_end(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    before = await tick(harness, "2026-12-01T13:59:00Z")
    assert before["sent"] == 0 and checkin_cards(harness) == []
    report = await tick(harness, CHECKIN_TIME)
    assert report["sent"] == 1 and report["by_kind"] == {"checkin": 1}
    [card] = checkin_cards(harness)
    text = card_text(card)
    assert "November 2026" in text and "Handling time" in text and "baseline 42 min" in text

    body = await submit(harness, pilot["id"])
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Check-in received" in card_text(body["value"])
    reading = await harness.repos.readings.get(pilot["id"], NOVEMBER)
    assert reading is not None
    assert reading.values == {"Handling time": 37.5, "Accuracy": 84.0} and reading.spend == 9500
    assert reading.submitted_by.aad_object_id == SPONSOR.aad_object_id
    updates = harness.connector.updates(SPONSOR_CHAT)
    assert updates and "Check-in received" in card_text(cards_of(updates)[-1])


async def test_second_tick_sends_no_duplicate_checkin(harness: Harness) -> None:
    await register(harness)
    await install_sponsor(harness)
    assert (await tick(harness, CHECKIN_TIME))["sent"] == 1
    again = await tick(harness, CHECKIN_TIME)
    later = await tick(harness, "2026-12-01T18:00:00Z")
    assert again["sent"] == 0 and later["sent"] == 0
    assert len(checkin_cards(harness)) == 1


async def test_tick_reads_only_due_pilots(harness: Harness) -> None:
    await register(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    report = await tick(harness, "2026-12-01T15:00:00Z")
    assert report["due"] == 0  # the agenda says nothing is due until the reminder


async def test_bad_values_show_the_card_again_and_store_nothing(harness: Harness) -> None:
    pilot = await register(harness)
    body = await submit(harness, pilot["id"], metric_0="fast", status="purple", activeUsers="-3")
    text = card_text(body["value"])
    assert "Enter Handling time as a number" in text
    assert "The status must be green, amber or red." in text
    assert "Active users can't be negative." in text
    assert inputs(body["value"])["metric_1"]["value"] == 84  # the values are kept
    assert await harness.repos.readings.get(pilot["id"], NOVEMBER) is None


async def test_double_submit_stores_one_reading_and_audits_the_second(harness: Harness) -> None:
    pilot = await register(harness)
    await submit(harness, pilot["id"])
    harness.clock.advance(minutes=1)
    await submit(harness, pilot["id"], metric_0="36")
    readings = await harness.repos.readings.list_for(pilot["id"])
    assert [r.values["Handling time"] for r in readings] == [36.0]
    events = [e for e in await harness.repos.audit.list_for(pilot["id"]) if e.action.startswith("reading.")]
    assert [e.action for e in events] == ["reading.recorded", "reading.replaced"]
    before: Any = events[1].before
    assert before is not None and before["values"]["Handling time"] == 37.5


async def test_only_the_sponsor_or_an_admin_may_submit(harness: Harness) -> None:
    pilot = await register(harness)
    body = await submit(harness, pilot["id"], user=OUTSIDER)
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert "Only the pilot's sponsor, its lead or a governance admin" in body["value"]
    assert await harness.repos.readings.get(pilot["id"], NOVEMBER) is None
    await submit(harness, pilot["id"], user=ADMIN)
    assert await harness.repos.readings.get(pilot["id"], NOVEMBER) is not None


async def test_a_reading_from_the_api_marks_the_sent_card_as_received(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    reading = {"period": "2026-11", "values": {"Handling time": 35}, "status": "green"}
    assert (await harness.api("POST", f"/api/pilots/{pilot['id']}/readings", reading))[0] == 201
    updates = cards_of(harness.connector.updates(SPONSOR_CHAT))
    assert updates and "already" in card_text(updates[-1]).lower()


async def test_a_reading_that_arrived_first_means_no_card(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    reading = {"period": "2026-11", "values": {"Handling time": 35}, "status": "green"}
    await harness.api("POST", f"/api/pilots/{pilot['id']}/readings", reading)
    assert (await tick(harness, CHECKIN_TIME))["sent"] == 0


async def test_sponsor_known_only_from_the_roster_gets_a_new_chat(harness: Harness) -> None:
    harness.connector.set_members(TEAM.id, [SPONSOR, ADMIN])
    status, _ = await harness.bot.post(
        installation_update("add", "team", ADMIN, service_url=harness.connector.service_url)
    )
    assert status in (200, 201)
    await register(harness)
    report = await tick(harness, CHECKIN_TIME)
    assert report["sent"] == 1
    assert len(harness.connector.created_conversations()) == 1
    ref = await harness.repos.conversations.find_personal(TENANT.id, SPONSOR.aad_object_id)
    assert ref is not None and ref.kind is ConversationKind.PERSONAL
    assert len(checkin_cards(harness)) == 1


async def test_unreachable_sponsor_is_counted_and_shown_to_admins(harness: Harness) -> None:
    await register(harness)
    report = await tick(harness, CHECKIN_TIME)
    assert report["undeliverable"] == 1 and report["sent"] == 0
    await harness.bot.post(personal_message("overdue", ADMIN, service_url=harness.connector.service_url))
    assert "Sam Sponsor" in card_text(cards_of(harness.connector.sent_activities())[-1])


async def test_throttled_send_is_retried_after_retry_after(harness: Harness) -> None:
    await register(harness)
    await install_sponsor(harness)
    harness.connector.fail_next(429, count=2, retry_after=0.05, match=SPONSOR_CHAT)
    report = await tick(harness, CHECKIN_TIME)
    assert report["sent"] == 1
    assert len(checkin_cards(harness)) == 1


async def test_blocked_bot_marks_the_chat_undeliverable_and_does_not_retry(harness: Harness) -> None:
    await register(harness)
    await install_sponsor(harness)
    harness.connector.block(SPONSOR_CHAT)
    report = await tick(harness, CHECKIN_TIME)
    assert report["undeliverable"] == 1
    forbidden = [r for r in harness.connector.requests if r.status == 403]
    assert len(forbidden) == 1
    ref = await harness.repos.conversations.find_personal(TENANT.id, SPONSOR.aad_object_id)
    assert ref is not None and ref.undeliverable
    assert (await tick(harness, "2026-12-01T14:10:00Z"))["due"] == 0


async def test_teams_outage_keeps_the_checkin_due_until_it_is_sent(tmp_path: Path, connector: FakeConnector) -> None:
    from bots.notifier import SenderLimits

    h = await start_harness(
        tmp_path, connector, sender_limits=SenderLimits(attempts=2, base_backoff_s=0.01, max_backoff_s=0.02)
    )
    try:
        await register(h)
        await install_sponsor(h)
        connector.fail_next(503, count=2, match=SPONSOR_CHAT)
        report = await tick(h, CHECKIN_TIME)
        assert report["failed"] == 1 and report["sent"] == 0
        assert (await tick(h, "2026-12-01T14:01:00Z"))["sent"] == 0  # not before the retry time
        assert (await tick(h, "2026-12-01T14:06:00Z"))["sent"] == 1
        assert len(checkin_cards(h)) == 1
    finally:
        await stop_harness(h)


async def test_nudges_remind_the_sponsor_then_tell_the_channel_once_each(harness: Harness) -> None:
    url = harness.connector.service_url
    await register(harness, name="Claims triage")
    await install_sponsor(harness)
    await harness.bot.post(channel_message("link claims triage", SPONSOR, service_url=url))
    await tick(harness, CHECKIN_TIME)
    # 3 business days after Tue 1 Dec is Fri 4 Dec; 7 is Thu 10 Dec (09:00 New York = 14:00 UTC).
    assert (await tick(harness, "2026-12-04T13:00:00Z"))["sent"] == 0
    reminder = await tick(harness, "2026-12-04T14:00:00Z")
    assert reminder["by_kind"] == {"reminder": 1}
    assert "still open" in (harness.connector.sent_activities(SPONSOR_CHAT)[-1].get("text") or "")
    assert (await tick(harness, "2026-12-07T14:00:00Z"))["sent"] == 0
    escalation = await tick(harness, "2026-12-10T14:00:00Z")
    assert escalation["by_kind"] == {"escalation": 1}
    channel_posts = harness.connector.sent_activities(TEAM.id)
    assert "has not answered" in card_text(cards_of(channel_posts)[-1])
    assert (await tick(harness, "2026-12-11T14:00:00Z"))["sent"] == 0


async def test_no_nudges_once_the_reading_is_in(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    await submit(harness, pilot["id"])
    assert (await tick(harness, "2026-12-04T14:00:00Z"))["sent"] == 0
    assert (await tick(harness, "2026-12-10T14:00:00Z"))["sent"] == 0


async def test_daylight_saving_does_not_move_or_repeat_the_checkin(harness: Harness) -> None:
    await register(harness, startDate="2027-02-01")
    await install_sponsor(harness)

    # February's check-in: Monday 1 March 2027, before the US change (14 March): 09:00 EST = 14:00 UTC.
    def checkins(report: dict[str, Any]) -> int:
        return int(report["by_kind"].get("checkin", 0))

    assert checkins(await tick(harness, "2027-03-01T13:59:00Z")) == 0
    assert checkins(await tick(harness, "2027-03-01T14:00:00Z")) == 1
    # March's check-in: Thursday 1 April 2027, after the change: 09:00 EDT = 13:00 UTC.
    assert checkins(await tick(harness, "2027-04-01T12:59:00Z")) == 0
    assert checkins(await tick(harness, "2027-04-01T13:00:00Z")) == 1
    assert checkins(await tick(harness, "2027-04-01T14:00:00Z")) == 0
    assert len(checkin_cards(harness)) == 2


async def test_clock_override_is_refused_unless_allowed(harness: Harness) -> None:
    # The harness allows it; a production-like app must not.
    assert harness.settings.allow_clock_override


async def test_clock_override_off_names_the_field(tmp_path: Path, connector: FakeConnector) -> None:
    h = await start_harness(tmp_path, connector, allow_clock_override=False)
    try:
        status, error = await h.api("POST", "/api/scheduler/tick", {"now": CHECKIN_TIME})
        assert status == 400 and "now" in error["fields"]
        status, report = await h.api("POST", "/api/scheduler/tick")
        assert status == 200 and report["sent"] == 0
        status, _ = await h.api("POST", "/api/scheduler/tick", token="wrong")
        assert status == 401
    finally:
        await stop_harness(h)


async def test_two_devices_submitting_at_once_store_one_reading(harness: Harness) -> None:
    import asyncio

    pilot = await register(harness)
    first, second = await asyncio.gather(submit(harness, pilot["id"]), submit(harness, pilot["id"], metric_0="36"))
    assert "Check-in received" in card_text(first["value"]) and "Check-in received" in card_text(second["value"])
    assert len(await harness.repos.readings.list_for(pilot["id"])) == 1
