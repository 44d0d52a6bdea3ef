"""Holidays, away and skipped months through the Teams simulator: no check-in on a public holiday of the pilot's
country (or the tenant's default, set with `country`), "Remind me on ..." moving the nudges to one reminder on that
day, and "Skip this month" stopping them, shown as skipped rather than late."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from governance.period import Period
from tests.cards.test_cards import shown_text
from tests.conftest import Harness
from tests.helpers import card_text, cards_of, inputs, texts_of
from tests.scheduler.test_checkins import (
    CHECKIN_TIME,
    NOVEMBER,
    SPONSOR_CHAT,
    checkin_cards,
    install_sponsor,
    pilot_body,
    register,
    submit,
    tick,
)
from tests.teams_sim import (
    ADMIN,
    OUTSIDER,
    SPONSOR,
    TEAM,
    TeamsUser,
    adaptive_card_invoke,
    channel_message,
    personal_message,
)

DECEMBER = Period(2026, 12)
# The December check-in: 1 January 2027 is New Year's Day, a Friday; Monday 4 January at 09:00 in New York.
NEW_YEARS_DAY = "2027-01-01T14:00:00Z"
FIRST_US_BUSINESS_DAY = "2027-01-04T14:00:00Z"
REMINDER_TIME = "2026-12-04T14:00:00Z"  # 3 business days after 1 December
ESCALATION_TIME = "2026-12-10T14:00:00Z"  # 7 business days after
AWAY_DAY = "2026-12-15"
AWAY_REMINDER_TIME = "2026-12-15T14:00:00Z"


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(UTC)


async def press(
    h: Harness,
    verb: str,
    pilot_id: str,
    period: str = "2026-11",
    user: TeamsUser = SPONSOR,
    trigger: Any = "manual",
    **values: str,
) -> dict[str, Any]:
    """A press on the check-in card's "Remind me on ..." or "Skip this month" (``confirm`` for the form's button)."""
    data = {"pilotId": pilot_id, "period": period}
    if "confirm" in values:
        data["confirm"] = values.pop("confirm")
    status, body = await h.bot.post(
        adaptive_card_invoke(
            verb,
            data=data,
            inputs=values,
            user=user,
            service_url=h.connector.service_url,
            reply_to_id="1700000000001",
            trigger=trigger,
        )
    )
    assert status == 200, body
    assert isinstance(body, dict)
    return body


async def say(h: Harness, text: str, user: TeamsUser = SPONSOR) -> list[dict[str, Any]]:
    before = len(h.connector.sent_activities())
    await h.bot.post(personal_message(text, user, service_url=h.connector.service_url))
    return h.connector.sent_activities()[before:]


async def with_project_channel(h: Harness) -> dict[str, Any]:
    pilot = await register(h)
    await h.bot.post(channel_message("link claims triage", SPONSOR, service_url=h.connector.service_url))
    return pilot


async def sent_to_sponsor(h: Harness) -> list[str]:
    return texts_of(h.connector.sent_activities(SPONSOR_CHAT))


async def away_until_the_15th(h: Harness, pilot_id: str) -> dict[str, Any]:
    """The sponsor, on 2 December, asks to be reminded of the November check-in on 15 December."""
    h.clock.set(at("2026-12-02T15:00:00Z"))
    form = await press(h, "checkin.away", pilot_id)
    assert "Remind me on" in card_text(form["value"]) and "remindOn" in inputs(form["value"])
    body = await press(h, "checkin.away", pilot_id, confirm="1", remindOn=AWAY_DAY)
    return body


async def skip_november(h: Harness, pilot_id: str, reason: str = "On leave until January") -> dict[str, Any]:
    h.clock.set(at("2026-12-02T15:00:00Z"))
    form = await press(h, "checkin.skip", pilot_id)
    assert "skipReason" in inputs(form["value"])
    return await press(h, "checkin.skip", pilot_id, confirm="1", skipReason=reason)


# --- public holidays ------------------------------------------------------------------------------------------------
async def test_no_checkin_goes_out_on_a_public_holiday_of_the_pilots_country(harness: Harness) -> None:
    us = await register(harness, country="us")
    assert us["country"] == "US"
    await install_sponsor(harness)
    assert (await tick(harness, CHECKIN_TIME))["sent"] == 1
    await submit(harness, us["id"])  # November answered: only the December check-in is left to send
    assert (await tick(harness, NEW_YEARS_DAY))["sent"] == 0
    assert (await tick(harness, "2027-01-02T14:00:00Z"))["sent"] == 0
    report = await tick(harness, FIRST_US_BUSINESS_DAY)
    assert report["by_kind"] == {"checkin": 1}
    assert "December 2026" in card_text(checkin_cards(harness)[-1])


async def test_without_a_country_new_years_day_is_a_working_day(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    await submit(harness, pilot["id"])
    assert (await tick(harness, NEW_YEARS_DAY))["by_kind"] == {"checkin": 1}


async def test_an_admin_sets_the_tenants_holidays_and_pilots_without_a_country_follow(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    await submit(harness, pilot["id"])
    refused = await say(harness, "country US", SPONSOR)
    assert "Only the pilot's sponsor or a governance admin can set" in texts_of(refused)[0]
    bad = await say(harness, "country XX", ADMIN)
    assert "two-letter ISO country code" in texts_of(bad)[0]
    done = await say(harness, "country us", ADMIN)
    assert "public holidays of **US**" in texts_of(done)[0]
    assert (await harness.repos.tenants.get(pilot["tenantId"])).default_country == "US"
    shown = await say(harness, "country", SPONSOR)
    assert "public holidays of **US**" in texts_of(shown)[0]
    assert (await tick(harness, NEW_YEARS_DAY))["sent"] == 0
    assert (await tick(harness, FIRST_US_BUSINESS_DAY))["by_kind"] == {"checkin": 1}


async def test_country_none_goes_back_to_weekends_only(harness: Harness) -> None:
    await say(harness, "country FR", ADMIN)
    cleared = await say(harness, "country none", ADMIN)
    assert "weekends only" in texts_of(cleared)[0]
    tenant = (await register(harness))["tenantId"]
    assert (await harness.repos.tenants.get(tenant)).default_country is None


async def test_a_pilot_with_an_unknown_country_is_refused_naming_the_field(harness: Harness) -> None:
    status, body = await harness.api("POST", "/api/pilots", pilot_body(country="Narnia"))
    assert status == 400 and set(body["fields"]) == {"country"}


# --- away -----------------------------------------------------------------------------------------------------------
async def test_remind_me_on_moves_the_nudges_to_one_reminder_that_day(harness: Harness) -> None:
    pilot = await with_project_channel(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    body = await away_until_the_15th(harness, pilot["id"])
    assert "You asked to be reminded on Tuesday 15 December 2026" in card_text(body["value"])
    assert "Submit check-in" in card_text(body["value"])  # the form again, to answer later
    status = card_text(cards_of(await say(harness, "status claims triage"))[-1])
    assert "The sponsor is away: reminder on 2026-12-15." in status
    assert (await tick(harness, REMINDER_TIME))["sent"] == 0
    assert (await tick(harness, ESCALATION_TIME))["sent"] == 0  # the project channel hears nothing either
    assert (await tick(harness, "2026-12-15T13:59:00Z"))["sent"] == 0
    assert (await tick(harness, AWAY_REMINDER_TIME))["by_kind"] == {"reminder": 1}
    assert (await tick(harness, AWAY_REMINDER_TIME))["sent"] == 0  # exactly once
    assert (await tick(harness, "2026-12-16T14:00:00Z"))["sent"] == 0
    reminders = [t for t in await sent_to_sponsor(harness) if "reminded today" in t]
    assert len(reminders) == 1 and "November 2026" in reminders[0]
    # Still unanswered 4 business days after the asked-for reminder: the project channel hears of it.
    assert (await tick(harness, "2026-12-21T14:00:00Z"))["by_kind"] == {"escalation": 1}
    assert "has not answered" in card_text(cards_of(harness.connector.sent_activities(TEAM.id))[-1])
    [event] = [e for e in await harness.repos.audit.list_for(pilot["id"]) if e.action == "checkin.away"]
    assert event.actor == SPONSOR.aad_object_id and event.after is not None
    assert event.after["remind_on"] == AWAY_DAY


async def test_pressing_remind_me_twice_records_it_once(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    await away_until_the_15th(harness, pilot["id"])
    await press(harness, "checkin.away", pilot["id"], confirm="1", remindOn=AWAY_DAY)
    events = [e for e in await harness.repos.audit.list_for(pilot["id"]) if e.action == "checkin.away"]
    assert len(events) == 1


async def test_a_remind_day_in_the_past_or_next_month_is_shown_next_to_the_input(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    harness.clock.set(at("2026-12-02T15:00:00Z"))
    for day, problem in (
        ("2026-12-02", "Pick a day after today."),
        ("2027-01-05", "Pick a day in December 2026"),
        ("", "Pick the day to be reminded on."),
        ("soon", "Use a date like"),
    ):
        body = await press(harness, "checkin.away", pilot["id"], confirm="1", remindOn=day)
        card = body["value"]
        assert problem in card_text(card), day
        assert inputs(card)["remindOn"]["isRequired"]
    stored = await harness.repos.pilots.get(pilot["id"], pilot["tenantId"])
    assert stored is not None and stored.checkin_holds == ()


async def test_only_the_sponsor_or_an_admin_may_postpone_or_skip(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    harness.clock.set(at("2026-12-02T15:00:00Z"))
    away = await press(harness, "checkin.away", pilot["id"], user=OUTSIDER)
    skip = await press(harness, "checkin.skip", pilot["id"], user=OUTSIDER, confirm="1", skipReason="nope")
    assert "Only the pilot's sponsor or a governance admin can postpone" in away["value"]
    assert "Only the pilot's sponsor or a governance admin can skip" in skip["value"]
    stored = await harness.repos.pilots.get(pilot["id"], pilot["tenantId"])
    assert stored is not None and stored.checkin_holds == ()
    by_admin = await press(harness, "checkin.skip", pilot["id"], user=ADMIN, confirm="1", skipReason="Paused")
    assert "Check-in skipped" in card_text(by_admin["value"])


# --- skip -----------------------------------------------------------------------------------------------------------
async def test_a_skipped_month_gets_no_nudges_and_shows_as_skipped_not_late(harness: Harness) -> None:
    pilot = await with_project_channel(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    body = await skip_november(harness, pilot["id"])
    text = card_text(body["value"])
    assert "Check-in skipped" in text and "On leave until January" in text and "Sam Sponsor" in text
    updated = cards_of(harness.connector.updates(SPONSOR_CHAT))
    assert updated and "Check-in skipped" in card_text(updated[-1])  # every device sees it
    assert (await tick(harness, REMINDER_TIME))["sent"] == 0
    assert (await tick(harness, ESCALATION_TIME))["sent"] == 0
    assert (await tick(harness, "2026-12-20T14:00:00Z"))["sent"] == 0
    assert cards_of(harness.connector.sent_activities(TEAM.id)) == []

    harness.clock.set(at(ESCALATION_TIME))
    status = cards_of(await say(harness, "status claims triage"))[-1]
    assert "The check-in for 2026-11 was skipped: On leave until January" in card_text(status)
    overdue = card_text(cards_of(await say(harness, "overdue", ADMIN))[-1])
    assert "Nothing overdue" in overdue
    assert "Skipped this month (not late)" in overdue and "On leave until January" in overdue
    code, fetched = await harness.api("GET", f"/api/pilots/{pilot['id']}")
    assert code == 200
    [hold] = fetched["checkinHolds"]
    assert hold["period"] == "2026-11" and hold["skipped"] and hold["skipReason"] == "On leave until January"
    # The check-in card, refreshed by Teams when shown again, says so too.
    refreshed = await press(harness, "checkin.view", pilot["id"], trigger="automatic")
    assert "Check-in skipped" in card_text(refreshed["value"])
    [event] = [e for e in await harness.repos.audit.list_for(pilot["id"]) if e.action == "checkin.skipped"]
    assert event.after is not None and event.after["reason"] == "On leave until January"


async def test_skip_needs_a_reason_shown_next_to_its_input(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    body = await skip_november(harness, pilot["id"], reason="   ")
    assert "Say why this month is skipped" in card_text(body["value"])
    assert inputs(body["value"])["skipReason"]["isRequired"]
    stored = await harness.repos.pilots.get(pilot["id"], pilot["tenantId"])
    assert stored is not None and stored.checkin_holds == ()


async def test_a_double_click_on_skip_records_one_skip_with_the_first_reason(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    first = await skip_november(harness, pilot["id"], reason="On leave")
    second = await press(harness, "checkin.skip", pilot["id"], confirm="1", skipReason="Travelling")
    assert "On leave" in card_text(first["value"]) and "On leave" in card_text(second["value"])
    events = [e for e in await harness.repos.audit.list_for(pilot["id"]) if e.action == "checkin.skipped"]
    assert len(events) == 1


async def test_skipping_an_answered_month_is_refused_politely(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    await submit(harness, pilot["id"])
    body = await skip_november(harness, pilot["id"])
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert "already answered" in body["value"] and "November 2026" in body["value"]
    later = await press(harness, "checkin.away", pilot["id"], confirm="1", remindOn=AWAY_DAY)
    assert "already answered" in later["value"]
    stored = await harness.repos.pilots.get(pilot["id"], pilot["tenantId"])
    assert stored is not None and stored.checkin_holds == ()


async def test_a_reading_after_a_skip_counts_as_answered(harness: Harness) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    await skip_november(harness, pilot["id"])
    await submit(harness, pilot["id"])
    assert await harness.repos.readings.get(pilot["id"], NOVEMBER) is not None
    status = card_text(cards_of(await say(harness, "status claims triage"))[-1])
    assert "skipped" not in status


async def test_a_sponsor_may_skip_the_month_in_progress_before_its_card_comes_but_no_later_one(
    harness: Harness,
) -> None:
    pilot = await register(harness)
    await install_sponsor(harness)
    harness.clock.set(at("2026-11-27T15:00:00Z"))  # November's card goes out on 1 December
    ahead = await press(harness, "checkin.skip", pilot["id"], period="2026-12", confirm="1", skipReason="Leave")
    assert "There is no December 2026 check-in to skip." in card_text(ahead["value"])
    body = await press(harness, "checkin.skip", pilot["id"], confirm="1", skipReason="Leave")
    assert "Check-in skipped" in card_text(body["value"])
    assert (await tick(harness, CHECKIN_TIME))["sent"] == 0  # no card for a skipped month
    status = shown_text(cards_of(await say(harness, "status claims triage"))[-1])
    assert "Skipped months: November 2026 (Leave)." in status


async def test_the_rest_api_sets_and_clears_a_pilots_country(harness: Harness) -> None:
    pilot = await register(harness)
    assert pilot["country"] is None and pilot["checkinHolds"] == []
    status, changed = await harness.api("PATCH", f"/api/pilots/{pilot['id']}", {"country": " de "})
    assert status == 200 and changed["country"] == "DE"
    status, cleared = await harness.api("PATCH", f"/api/pilots/{pilot['id']}", {"country": None})
    assert status == 200 and cleared["country"] is None
    status, body = await harness.api("PATCH", f"/api/pilots/{pilot['id']}", {"country": "ZZ"})
    assert status == 400 and set(body["fields"]) == {"country"}


async def test_away_after_the_usual_reminder_still_reminds_on_the_day_and_a_new_day_moves_it(
    harness: Harness,
) -> None:
    pilot = await with_project_channel(harness)
    await install_sponsor(harness)
    await tick(harness, CHECKIN_TIME)
    assert (await tick(harness, REMINDER_TIME))["by_kind"] == {"reminder": 1}  # the usual one, on 4 December
    harness.clock.set(at("2026-12-07T15:00:00Z"))
    await press(harness, "checkin.away", pilot["id"], confirm="1", remindOn=AWAY_DAY)
    assert (await tick(harness, ESCALATION_TIME))["sent"] == 0  # the escalation waits too
    assert (await tick(harness, AWAY_REMINDER_TIME))["by_kind"] == {"reminder": 1}
    harness.clock.set(at("2026-12-15T15:00:00Z"))
    await press(harness, "checkin.away", pilot["id"], confirm="1", remindOn="2026-12-18")
    assert (await tick(harness, "2026-12-17T14:00:00Z"))["sent"] == 0
    assert (await tick(harness, "2026-12-18T14:00:00Z"))["by_kind"] == {"reminder": 1}
    actions = [e.action for e in await harness.repos.audit.list_for(pilot["id"]) if e.action == "checkin.away"]
    assert len(actions) == 2


async def test_away_follows_the_tenants_holidays_too(harness: Harness) -> None:
    """On Saturday 2 January 2027 the December check-in went out the day before on weekdays alone, but not on the
    US calendar (it goes out on Monday the 4th): there is nothing to postpone yet."""
    pilot = await register(harness)
    harness.clock.set(at("2027-01-02T15:00:00Z"))
    await say(harness, "country US", ADMIN)
    early = await press(harness, "checkin.away", pilot["id"], period="2026-12", confirm="1", remindOn="2027-01-20")
    assert "The December 2026 check-in is not the one due now" in card_text(early["value"])
    await say(harness, "country none", ADMIN)
    body = await press(harness, "checkin.away", pilot["id"], period="2026-12", confirm="1", remindOn="2027-01-20")
    assert "You asked to be reminded on Wednesday 20 January 2027" in card_text(body["value"])
