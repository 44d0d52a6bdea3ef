"""`report [YYYY-MM]`, `report day N`, `report timezone <zone>` and `link leadership` as Teams sends them: who may
read which report, admins-only settings, and one friendly sentence for bad input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from tests import helpers
from tests.cards.test_cards import shown_text
from tests.conftest import Harness
from tests.helpers import cards_of
from tests.teams_sim import (
    ADMIN,
    OUTSIDER,
    SPONSOR,
    TEAM,
    TENANT,
    channel_message,
    personal_conversation_id,
    personal_message,
)


async def seed(h: Harness) -> None:
    h.clock.set(datetime(2026, 12, 2, 12, tzinfo=UTC))
    for name, sponsor in (("Claims triage", SPONSOR), ("Invoice matching", ADMIN)):
        body = helpers.pilot_body(
            name=name, gateDate="2027-03-31", sponsor={"aadObjectId": sponsor.aad_object_id, "name": sponsor.name}
        )
        status, created = await h.api("POST", "/api/pilots", body)
        assert status == 201, created


async def ask(h: Harness, text: str, user: Any) -> dict[str, Any]:
    """The bot's last answer in the user's 1:1 chat; its text as a reader sees it (markdown escapes removed)."""
    await h.bot.post(personal_message(text, user, service_url=h.connector.service_url))
    return readable(h.connector.sent_activities(personal_conversation_id(user))[-1])


async def ask_in_channel(h: Harness, text: str, user: Any) -> dict[str, Any]:
    await h.bot.post(channel_message(text, user, service_url=h.connector.service_url))
    return readable(h.connector.sent_activities(TEAM.id)[-1])


def readable(activity: dict[str, Any]) -> dict[str, Any]:
    if isinstance(activity.get("text"), str):
        return {**activity, "text": re.sub(r"\\(.)", r"\1", activity["text"])}
    return activity


async def test_an_admin_gets_the_whole_portfolio_for_last_month(harness: Harness) -> None:
    await seed(harness)
    (card,) = cards_of([await ask(harness, "report", ADMIN)])
    shown = shown_text(card)
    assert "Monthly outcome report: November 2026" in shown
    assert "2 (Pilot: 2)" in shown  # both pilots in the headline


async def test_a_named_month_is_reported_and_a_future_or_bad_one_explained(harness: Harness) -> None:
    await seed(harness)
    (card,) = cards_of([await ask(harness, "REPORT 2026-10", ADMIN)])
    assert "October 2026" in shown_text(card)
    assert "has not begun yet" in (await ask(harness, "report 2027-02", ADMIN))["text"]
    assert "report YYYY-MM" in (await ask(harness, "report october", ADMIN))["text"]


async def test_a_sponsor_gets_their_own_pilots_only(harness: Harness) -> None:
    await seed(harness)
    (card,) = cards_of([await ask(harness, "report", SPONSOR)])
    shown = shown_text(card)
    assert "The pilots Sam Sponsor sponsors." in shown
    assert "1 (Pilot: 1)" in shown
    assert "Invoice matching" not in shown


async def test_anyone_else_is_refused(harness: Harness) -> None:
    await seed(harness)
    reply = await ask(harness, "report", OUTSIDER)
    assert reply["text"].startswith("The monthly report is for governance admins")
    assert cards_of([reply]) == []


async def test_the_leadership_channel_gets_the_whole_portfolio_for_anyone_there(harness: Harness) -> None:
    await seed(harness)
    refused = await ask_in_channel(harness, "report", OUTSIDER)
    assert refused["text"].startswith("The monthly report is for governance admins")
    linked = await ask_in_channel(harness, "link leadership", ADMIN)
    assert "business day 5 of each month at 09:00 (UTC); next: 2026-12-07" in linked["text"]
    settings = await harness.repos.tenants.get(TENANT.id)
    assert settings.leadership_channel is not None and settings.leadership_channel.conversation_id == TEAM.id
    (card,) = cards_of([await ask_in_channel(harness, "report", OUTSIDER)])
    assert "2 (Pilot: 2)" in shown_text(card)


async def test_link_leadership_outside_a_channel_says_where(harness: Harness) -> None:
    reply = await ask(harness, "link leadership", ADMIN)
    assert "in the leadership team's channel" in reply["text"]


async def test_an_admin_sets_the_report_day_and_time_zone(harness: Harness) -> None:
    await seed(harness)
    day = await ask(harness, "report day 3", ADMIN)
    assert "business day 3 of each month at 09:00 (UTC)" in day["text"]
    assert "once an admin types link leadership" in day["text"]
    zone = await ask(harness, "report timezone Europe/Paris", ADMIN)
    assert "business day 3 of each month at 09:00 (Europe/Paris) once an admin" in zone["text"]
    assert zone["text"].endswith("next: 2026-12-03.")
    settings = await harness.repos.tenants.get(TENANT.id)
    assert (settings.report_business_day, settings.report_timezone, settings.updated_by) == (
        3,
        "Europe/Paris",
        ADMIN.aad_object_id,
    )


async def test_bad_report_settings_get_one_sentence_and_change_nothing(harness: Harness) -> None:
    await seed(harness)
    assert "from 1 to 15" in (await ask(harness, "report day 40", ADMIN))["text"]
    assert "report day N" in (await ask(harness, "report day five", ADMIN))["text"]
    assert "not a time zone I know" in (await ask(harness, "report timezone Mars/Olympus", ADMIN))["text"]
    refused = await ask(harness, "report day 3", SPONSOR)
    assert refused["text"] == "Only a governance admin can set the report day."
    settings = await harness.repos.tenants.get(TENANT.id)
    assert (settings.report_business_day, settings.report_timezone, settings.version) == (5, "UTC", None)


async def test_two_admins_changing_the_settings_at_once_both_land(harness: Harness) -> None:
    """Each change reads, changes and saves with the document's ETag; the one that loses the race reads again."""
    await seed(harness)
    first = personal_message("report day 4", ADMIN, service_url=harness.connector.service_url)
    second = channel_message("link leadership", ADMIN, service_url=harness.connector.service_url)
    results = await harness.bot.post_all([first, second])
    assert all(status in (200, 201) for status, _ in results), results
    settings = await harness.repos.tenants.get(TENANT.id)
    assert settings.report_business_day == 4
    assert settings.leadership_channel is not None and settings.leadership_channel.conversation_id == TEAM.id
