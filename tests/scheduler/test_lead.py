"""A pilot lead and corrections through the Teams simulator: who gets the check-in and its reminder (each once), the
lead answers, the sponsor confirms or corrects, a past month is corrected from the status card, and a correction
racing a check-in submit loses nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from governance.model import CheckinRecipient
from governance.period import Period
from tests.conftest import Harness
from tests.helpers import action_verbs, card_text, cards_of, inputs, nodes
from tests.scheduler.test_checkins import CHECKIN_TIME, answers, pilot_body, tick
from tests.teams_sim import (
    ADMIN,
    OUTSIDER,
    SPONSOR,
    TENANT,
    TeamsUser,
    adaptive_card_invoke,
    installation_update,
    personal_conversation_id,
    personal_message,
)

LEAD = TeamsUser(
    "29:1Le4d-Cs9vB2nQ9wE4rT6yU8iO1pA3sD5fG7hJ9kLm",
    "1ead0000-0000-4c1e-9d3a-00000000ead1",
    "Lee Lead",
    TENANT.id,
    "lee.lead@contoso.example",
    timezone="America/New_York",
)
SPONSOR_CHAT = personal_conversation_id(SPONSOR)
LEAD_CHAT = personal_conversation_id(LEAD)
NOVEMBER = Period(2026, 11)
# Friday 4 December 2026, 09:00 in New York: three business days after the check-in went out.
REMINDER_TIME = "2026-12-04T14:00:00Z"
LATER_IN_DECEMBER = datetime(2026, 12, 10, 15, tzinfo=UTC)


async def tick_at(h: Harness, now: str) -> dict[str, Any]:
    """A sweep at ``now``, with the bot's clock there too (presses after it happen then)."""
    h.clock.set(datetime.fromisoformat(now))
    return await tick(h, now)


async def register_with_lead(h: Harness, recipient: CheckinRecipient = CheckinRecipient.BOTH) -> dict[str, Any]:
    lead = {"aadObjectId": LEAD.aad_object_id, "name": LEAD.name}
    status, pilot = await h.api("POST", "/api/pilots", pilot_body(lead=lead, checkinRecipient=recipient.value))
    assert status == 201, pilot
    assert pilot["lead"] == lead and pilot["checkinRecipient"] == recipient.value
    return dict(pilot)


async def install(h: Harness, *users: TeamsUser) -> None:
    for user in users:
        status, _ = await h.bot.post(installation_update("add", "personal", user, service_url=h.connector.service_url))
        assert status in (200, 201)


async def press(h: Harness, verb: str, data: dict[str, str], user: TeamsUser, **values: str) -> Any:
    """A button press in the user's 1:1 chat; returns the invoke's body (a card or a message)."""
    status, body = await h.bot.post(
        adaptive_card_invoke(
            verb, data=data, inputs=values, user=user, service_url=h.connector.service_url, reply_to_id="1700000000009"
        )
    )
    assert status == 200, body
    return body


async def answer_checkin(h: Harness, pilot: dict[str, Any], user: TeamsUser, **values: str) -> Any:
    return await press(h, "checkin.submit", {"pilotId": pilot["id"], "period": "2026-11"}, user, **answers(**values))


def checkin_cards(h: Harness, chat: str) -> list[dict[str, Any]]:
    return [c for c in cards_of(h.connector.sent_activities(chat)) if "Submit check-in" in card_text(c)]


def confirmation_cards(h: Harness) -> list[dict[str, Any]]:
    return [c for c in cards_of(h.connector.sent_activities(SPONSOR_CHAT)) if "reading.confirm" in action_verbs(c)]


def reminders(h: Harness, chat: str) -> list[str]:
    return [a.get("text") or "" for a in h.connector.sent_activities(chat) if "Reminder:" in (a.get("text") or "")]


def execute_data(card: dict[str, Any], verb: str) -> dict[str, str]:
    [data] = [n["data"] for n in nodes(card) if n.get("type") == "Action.Execute" and n["verb"] == verb]
    return {k: v for k, v in data.items() if k != "verb"}


async def audit_actions(h: Harness, pilot: dict[str, Any]) -> list[tuple[str, str]]:
    events = await h.repos.audit.list_for(pilot["id"])
    return [(e.action, e.actor) for e in sorted(events, key=lambda e: e.at) if e.action.startswith("reading.")]


# --- who gets the check-in -----------------------------------------------------------------------------------------
async def test_both_get_the_checkin_and_the_reminder_each_exactly_once(harness: Harness) -> None:
    await register_with_lead(harness)
    await install(harness, SPONSOR, LEAD)
    report = await tick_at(harness, CHECKIN_TIME)
    assert report["sent"] == 2 and report["by_kind"] == {"checkin": 2}
    assert (await tick_at(harness, CHECKIN_TIME))["sent"] == 0
    assert len(checkin_cards(harness, SPONSOR_CHAT)) == 1 and len(checkin_cards(harness, LEAD_CHAT)) == 1
    nudged = await tick_at(harness, REMINDER_TIME)
    assert nudged["sent"] == 2 and nudged["by_kind"] == {"reminder": 2}
    assert (await tick_at(harness, REMINDER_TIME))["sent"] == 0
    assert len(reminders(harness, SPONSOR_CHAT)) == 1 and len(reminders(harness, LEAD_CHAT)) == 1


async def test_the_lead_instead_of_the_sponsor_gets_the_checkin(harness: Harness) -> None:
    await register_with_lead(harness, CheckinRecipient.LEAD)
    await install(harness, SPONSOR, LEAD)
    assert (await tick_at(harness, CHECKIN_TIME))["sent"] == 1
    assert len(checkin_cards(harness, LEAD_CHAT)) == 1 and checkin_cards(harness, SPONSOR_CHAT) == []
    await tick_at(harness, REMINDER_TIME)
    assert len(reminders(harness, LEAD_CHAT)) == 1 and reminders(harness, SPONSOR_CHAT) == []


async def test_an_answer_from_either_stops_both_reminders(harness: Harness) -> None:
    pilot = await register_with_lead(harness)
    await install(harness, SPONSOR, LEAD)
    await tick_at(harness, CHECKIN_TIME)
    await answer_checkin(harness, pilot, SPONSOR)
    assert (await tick_at(harness, REMINDER_TIME))["sent"] == 0


# --- the lead answers, the sponsor confirms ------------------------------------------------------------------------
async def test_the_leads_answer_counts_at_once_and_the_sponsor_confirms_it(harness: Harness) -> None:
    pilot = await register_with_lead(harness)
    await install(harness, SPONSOR, LEAD)
    await tick_at(harness, CHECKIN_TIME)
    body = await answer_checkin(harness, pilot, LEAD)
    assert "Check-in received" in card_text(body["value"])
    reading = await harness.repos.readings.get(pilot["id"], NOVEMBER)
    assert reading is not None and reading.submitted_by.aad_object_id == LEAD.aad_object_id
    assert reading.confirmed_by is None  # it counts already: the status shows it
    await harness.bot.post(personal_message("status claims triage", SPONSOR, service_url=harness.connector.service_url))
    assert "37.5 min" in card_text(cards_of(harness.connector.sent_activities(SPONSOR_CHAT))[-1])

    report = await tick_at(harness, "2026-12-01T15:00:00Z")
    assert report["by_kind"] == {"confirm": 1}
    assert (await tick_at(harness, "2026-12-01T15:05:00Z"))["sent"] == 0
    [card] = confirmation_cards(harness)
    assert "Lee Lead sent the readings for November 2026" in card_text(card)
    confirm = execute_data(card, "reading.confirm")

    refused = await press(harness, "reading.confirm", confirm, LEAD)
    assert "Only the pilot's sponsor or a governance admin can confirm" in refused["value"]
    confirmed = await press(harness, "reading.confirm", confirm, SPONSOR)
    assert "Readings confirmed" in card_text(confirmed["value"])
    assert "confirmed by Sam Sponsor" in card_text(confirmed["value"])
    again = await press(harness, "reading.confirm", confirm, SPONSOR)  # a second press confirms once
    assert "Readings confirmed" in card_text(again["value"])
    stored = await harness.repos.readings.get(pilot["id"], NOVEMBER)
    assert stored is not None and stored.confirmed_by is not None
    assert stored.confirmed_by.aad_object_id == SPONSOR.aad_object_id
    assert await audit_actions(harness, pilot) == [
        ("reading.recorded", LEAD.aad_object_id),
        ("reading.confirmed", SPONSOR.aad_object_id),
    ]
    assert (await tick_at(harness, "2026-12-02T15:00:00Z"))["sent"] == 0  # confirmed: nothing more to ask


async def test_correct_on_the_confirmation_opens_that_months_form(harness: Harness) -> None:
    pilot = await register_with_lead(harness)
    await install(harness, SPONSOR, LEAD)
    await tick_at(harness, CHECKIN_TIME)
    await answer_checkin(harness, pilot, LEAD, metric_0="41")
    await tick_at(harness, "2026-12-01T15:00:00Z")
    [card] = confirmation_cards(harness)
    form = await press(harness, "reading.correct", execute_data(card, "reading.correct"), SPONSOR)
    assert "Correct a reading" in card_text(form["value"])
    assert inputs(form["value"])["metric_0"]["value"] == 41
    save = execute_data(form["value"], "correction.submit")
    saved = await press(harness, "correction.submit", save, SPONSOR, **answers(metric_0="39"))
    assert "Reading corrected" in card_text(saved["value"])
    stored = await harness.repos.readings.get(pilot["id"], NOVEMBER)
    assert stored is not None and stored.values["Handling time"] == 39
    assert stored.submitted_by.aad_object_id == LEAD.aad_object_id  # who first sent it stays
    assert stored.corrected_by is not None and stored.corrected_by.aad_object_id == SPONSOR.aad_object_id
    # The old Confirm button now names values that changed: the card comes back with the current ones.
    stale = await press(harness, "reading.confirm", execute_data(card, "reading.confirm"), SPONSOR)
    assert "These readings changed" in card_text(stale["value"])


async def test_a_correction_by_the_lead_asks_the_sponsor_again(harness: Harness) -> None:
    pilot = await register_with_lead(harness)
    await install(harness, SPONSOR, LEAD)
    await tick_at(harness, CHECKIN_TIME)
    await answer_checkin(harness, pilot, LEAD)
    await tick_at(harness, "2026-12-01T15:00:00Z")
    [first] = confirmation_cards(harness)
    await press(harness, "reading.confirm", execute_data(first, "reading.confirm"), SPONSOR)
    harness.clock.set(LATER_IN_DECEMBER)
    form = await press(harness, "reading.correct", {"pilotId": pilot["id"], "correctPeriod": "2026-11"}, LEAD)
    save = execute_data(form["value"], "correction.submit")
    await press(harness, "correction.submit", save, LEAD, **answers(metric_0="36"))
    assert (await tick_at(harness, "2026-12-10T15:01:00Z"))["by_kind"] == {"confirm": 1}
    assert "Lee Lead corrected the readings for November 2026" in card_text(confirmation_cards(harness)[-1])


async def test_the_leads_card_does_not_overwrite_the_sponsors_answer(harness: Harness) -> None:
    pilot = await register_with_lead(harness)
    await install(harness, SPONSOR, LEAD)
    await tick_at(harness, CHECKIN_TIME)
    await answer_checkin(harness, pilot, SPONSOR)
    body = await answer_checkin(harness, pilot, LEAD, metric_0="44")
    text = card_text(body["value"])
    assert "Sam Sponsor already sent the November 2026 readings" in text and "Nothing of yours is saved yet" in text
    assert inputs(body["value"])["metric_0"]["value"] == 44  # the lead's values are kept, nothing lost
    stored = await harness.repos.readings.get(pilot["id"], NOVEMBER)
    assert stored is not None and stored.values["Handling time"] == 37.5


async def test_the_lead_may_not_decide_the_gate_or_change_the_pilot(harness: Harness) -> None:
    pilot = await register_with_lead(harness)
    body = await press(
        harness,
        "gate.decide",
        {"pilotId": pilot["id"], "gateDate": pilot["gateDate"], "kind": "go"},
        LEAD,
        goRationale="Hit the target",
        goScope="All",
        goDate="2027-07-05",
    )
    assert "Only the pilot's sponsor or a governance admin can decide this gate" in body["value"]
    assert await harness.repos.decisions.list_for(pilot["id"]) == []


# --- correcting a past reading from the status card ----------------------------------------------------------------
async def correction_form(h: Harness, pilot: dict[str, Any], user: TeamsUser, month: str = "2026-11") -> Any:
    """Status card -> "Correct a reading" -> the month -> the form, as the user sees them."""
    await h.bot.post(personal_message("status claims triage", user, service_url=h.connector.service_url))
    status_card = cards_of(h.connector.sent_activities(personal_conversation_id(user)))[-1]
    [picker] = [n for n in nodes(status_card) if n.get("id") == "correctPeriod"]
    assert month in [c["value"] for c in picker["choices"]]
    return await press(h, "reading.correct", execute_data(status_card, "reading.correct"), user, correctPeriod=month)


async def test_the_sponsor_corrects_last_months_reading_from_the_status_card(harness: Harness) -> None:
    pilot = await register_with_lead(harness)
    await install(harness, SPONSOR)
    await answer_checkin(harness, pilot, SPONSOR)
    harness.clock.set(LATER_IN_DECEMBER)
    form = await correction_form(harness, pilot, SPONSOR)
    assert inputs(form["value"])["metric_0"]["value"] == 37.5 and inputs(form["value"])["status"]["value"] == "amber"
    save = execute_data(form["value"], "correction.submit")
    bad = await press(harness, "correction.submit", save, SPONSOR, **answers(metric_0="fast"))
    assert "Enter Handling time as a number" in card_text(bad["value"])  # the check-in's own validation
    saved = await press(harness, "correction.submit", save, SPONSOR, **answers(metric_0="38"))
    assert "Reading corrected" in card_text(saved["value"])

    stored = await harness.repos.readings.get(pilot["id"], NOVEMBER)
    assert stored is not None and stored.values["Handling time"] == 38 and stored.corrected
    [event] = [e for e in await harness.repos.audit.list_for(pilot["id"]) if e.action == "reading.corrected"]
    assert event.actor == SPONSOR.aad_object_id
    assert event.before is not None and event.after is not None
    assert event.before["values"] == {"Handling time": 37.5, "Accuracy": 84.0}  # the original values are kept
    assert event.after["values"] == {"Handling time": 38.0, "Accuracy": 84.0}
    await harness.bot.post(personal_message("status claims triage", SPONSOR, service_url=harness.connector.service_url))
    assert "38 min \\(corrected\\)" in card_text(cards_of(harness.connector.sent_activities(SPONSOR_CHAT))[-1])
    status, fetched = await harness.api("GET", f"/api/pilots/{pilot['id']}")
    assert status == 200
    [reading] = fetched["readings"]
    assert reading["corrected"] is True and reading["correctedBy"]["aadObjectId"] == SPONSOR.aad_object_id
    assert reading["values"]["Handling time"] == 38


async def test_only_the_sponsor_the_lead_or_an_admin_may_correct_and_only_recent_months(harness: Harness) -> None:
    pilot = await register_with_lead(harness)
    await answer_checkin(harness, pilot, SPONSOR)
    harness.clock.set(LATER_IN_DECEMBER)
    refused = await press(harness, "reading.correct", {"pilotId": pilot["id"], "correctPeriod": "2026-11"}, OUTSIDER)
    assert "Only the pilot's sponsor, its lead or a governance admin can correct" in refused["value"]
    sneaky = await press(
        harness,
        "correction.submit",
        {"pilotId": pilot["id"], "period": "2026-11", "basedOn": ""},
        OUTSIDER,
        **answers(),
    )
    assert "Only the pilot's sponsor, its lead or a governance admin" in sneaky["value"]
    assert "Correct a reading" in card_text((await correction_form(harness, pilot, ADMIN))["value"])
    harness.clock.set(datetime(2027, 3, 2, 15, tzinfo=UTC))  # November is four months back now
    old = await press(harness, "reading.correct", {"pilotId": pilot["id"], "correctPeriod": "2026-11"}, SPONSOR)
    assert "Only the last 3 months can be corrected" in old["value"]
    stored = await harness.repos.readings.get(pilot["id"], NOVEMBER)
    assert stored is not None and not stored.corrected


async def test_a_correction_on_an_outdated_form_keeps_the_values_and_overwrites_nothing(harness: Harness) -> None:
    pilot = await register_with_lead(harness)
    await answer_checkin(harness, pilot, SPONSOR)
    harness.clock.set(LATER_IN_DECEMBER)
    sponsor_form = await correction_form(harness, pilot, SPONSOR)
    lead_form = await correction_form(harness, pilot, LEAD)
    await press(
        harness,
        "correction.submit",
        execute_data(lead_form["value"], "correction.submit"),
        LEAD,
        **answers(metric_0="35"),
    )
    late = await press(
        harness,
        "correction.submit",
        execute_data(sponsor_form["value"], "correction.submit"),
        SPONSOR,
        **answers(metric_0="39"),
    )
    text = card_text(late["value"])
    assert "Lee Lead changed the November 2026 readings" in text and "Nothing of yours is saved yet" in text
    assert inputs(late["value"])["metric_0"]["value"] == 39
    stored = await harness.repos.readings.get(pilot["id"], NOVEMBER)
    assert stored is not None and stored.values["Handling time"] == 35
    # Saving the refilled form replaces the lead's values on purpose.
    again = await press(
        harness,
        "correction.submit",
        execute_data(late["value"], "correction.submit"),
        SPONSOR,
        **answers(metric_0="39"),
    )
    assert "Reading corrected" in card_text(again["value"])


async def race_correction_and_checkin(h: Harness) -> None:
    """The sponsor fills in November from the status card while the lead submits November's check-in card: both
    start from "no reading"; one wins, the other gets the correction form with its own values back."""
    pilot = await register_with_lead(h)
    h.clock.set(LATER_IN_DECEMBER)
    form = await correction_form(h, pilot, SPONSOR)
    save = execute_data(form["value"], "correction.submit")
    assert save["basedOn"] == ""
    by_sponsor, by_lead = await asyncio.gather(
        press(h, "correction.submit", save, SPONSOR, **answers(metric_0="38")),
        answer_checkin(h, pilot, LEAD, metric_0="41"),
    )
    readings = await h.repos.readings.list_for(pilot["id"])
    assert len(readings) == 1
    won = readings[0].values["Handling time"]
    assert won in (38, 41)
    loser, kept = (by_lead, 41) if won == 38 else (by_sponsor, 38)
    winner = by_sponsor if won == 38 else by_lead
    assert "Nothing of yours is saved yet" in card_text(loser["value"])
    assert inputs(loser["value"])["metric_0"]["value"] == kept  # nothing lost
    assert "Nothing of yours" not in card_text(winner["value"])
    recorded = [action for action, _ in await audit_actions(h, pilot)]
    assert recorded == ["reading.recorded"]


async def test_a_correction_racing_a_checkin_submit_has_one_winner_and_loses_nothing(harness: Harness) -> None:
    await race_correction_and_checkin(harness)


async def test_a_reading_from_a_system_of_record_marks_both_cards_received(harness: Harness) -> None:
    pilot = await register_with_lead(harness)
    await install(harness, SPONSOR, LEAD)
    await tick_at(harness, CHECKIN_TIME)
    body = {"period": "2026-11", "values": {"Handling time": 36}, "status": "green"}
    status, _ = await harness.api("POST", f"/api/pilots/{pilot['id']}/readings", body)
    assert status == 201
    for chat in (SPONSOR_CHAT, LEAD_CHAT):
        [update] = cards_of(harness.connector.updates(chat))
        assert "already in" in card_text(update)
    assert (await tick_at(harness, REMINDER_TIME))["sent"] == 0
