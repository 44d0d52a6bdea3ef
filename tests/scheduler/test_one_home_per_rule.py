"""Regression tests for rules that had two homes and drifted: each failed before the rule got one home."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest

from cards.pilot_form import new_pilot_form
from cards.submissions import NewPilotSubmission, read
from cards.text import card_json
from governance.errors import ValidationFailed
from governance.model import ConversationKind, ConversationRef, TeamMember
from tests.conftest import Harness
from tests.helpers import card_text, cards_of, inputs
from tests.scheduler.test_checkins import install_sponsor, register, tick
from tests.teams_sim import ADMIN, SPONSOR, TEAM, TENANT, channel_message, personal_message

NEW_YORK_9AM = "14:00:00Z"  # 09:00 in New York in December


async def overdue_text(h: Harness) -> str:
    await h.bot.post(personal_message("overdue", ADMIN, service_url=h.connector.service_url))
    return card_text(cards_of(h.connector.sent_activities())[-1])


async def test_a_pilot_registered_over_rest_with_a_channel_gets_its_gate_cards_there(harness: Harness) -> None:
    url = harness.connector.service_url
    await harness.bot.post(channel_message("help", SPONSOR, service_url=url))  # the bot learns the channel
    await install_sponsor(harness)
    harness.clock.set(datetime(2026, 10, 20, 15, tzinfo=UTC))
    pilot = await register(harness, gateDate="2026-11-30", channel={"conversationId": TEAM.id})
    assert pilot["channel"]["conversationId"] == TEAM.id
    report = await tick(harness, "2026-11-16T15:00:00Z")  # 14 days before the gate
    assert report["by_kind"].get("gate") == 1
    assert any("Gate in 14 days" in card_text(c) for c in cards_of(harness.connector.sent_activities(TEAM.id)))


async def test_the_cost_drift_alert_shows_spend_so_far_and_the_projection_to_the_gate(harness: Harness) -> None:
    await harness.bot.post(channel_message("help", SPONSOR, service_url=harness.connector.service_url))
    harness.clock.set(datetime(2026, 10, 20, 15, tzinfo=UTC))
    pilot = await register(harness, budgetMonthly=10000, channel={"conversationId": TEAM.id})
    reading = {"period": "2026-10", "values": {"Handling time": 38}, "status": "amber", "spend": 14000}
    assert (await harness.api("POST", f"/api/pilots/{pilot['id']}/readings", reading))[0] == 201
    assert (await tick(harness, "2026-10-21T15:00:00Z"))["by_kind"].get("costdrift") == 1
    alert = next(c for c in cards_of(harness.connector.sent_activities(TEAM.id)) if "Cost drift" in card_text(c))
    assert "Spent so far" in card_text(alert) and "Projected by the gate" in card_text(alert)


@pytest.mark.parametrize("typed", ["1,5", "12,34"])
def test_the_pilot_form_and_its_submission_read_a_comma_decimal_the_same_way(typed: str) -> None:
    values = {"name": "Claims", "metricName": "Time", "metricBaseline": typed, "metricTarget": "3"}
    with pytest.raises(ValidationFailed) as failed:
        read(NewPilotSubmission, {**values, "metricDirection": "increase", "sponsor": "aad-1"}).to_draft(
            "Sam", date(2026, 11, 26)
        )
    assert set(failed.value.fields) == {"metricBaseline"}
    refilled = inputs(card_json(new_pilot_form(values, failed.value.fields, "Sam", "aad-1", date(2026, 11, 26))))
    assert "value" not in refilled["metricBaseline"]  # not shown as 15 next to its error
    assert refilled["metricTarget"]["value"] == 3


def personal_chat(h: Harness, *, active: bool = True, undeliverable: bool = False) -> ConversationRef:
    return ConversationRef(
        conversation_id="a:sponsor-chat",
        tenant_id=TENANT.id,
        kind=ConversationKind.PERSONAL,
        service_url=h.connector.service_url,
        bot_id="28:bot",
        user_id=SPONSOR.teams_id,
        aad_object_id=SPONSOR.aad_object_id,
        active=active,
        undeliverable=undeliverable,
    )


def roster_entry(h: Harness, **changes: Any) -> TeamMember:
    member = TeamMember(
        TENANT.id, SPONSOR.aad_object_id, SPONSOR.teams_id, SPONSOR.name, h.connector.service_url, "28:bot"
    )
    return dataclasses.replace(member, **changes)


@pytest.mark.parametrize(
    ("chat", "member", "reachable"),
    [
        ({}, None, True),
        ({"undeliverable": True}, {}, False),  # blocked: a new chat through the roster is refused the same way
        ({"active": False}, {}, True),  # uninstalled, but on a team roster: a new 1:1 chat
        (None, {}, True),
        (None, {"bot_id": ""}, False),
        (None, None, False),
    ],
)
async def test_chat_and_sweep_agree_on_whether_a_sponsor_can_be_reached(
    harness: Harness, chat: dict[str, bool] | None, member: dict[str, str] | None, reachable: bool
) -> None:
    await register(harness)
    if chat is not None:
        await harness.repos.conversations.upsert(personal_chat(harness, **chat))
    if member is not None:
        await harness.repos.members.upsert(roster_entry(harness, **member))
    listed = "Sam Sponsor" in await overdue_text(harness)
    report = await tick(harness, "2026-12-01T" + NEW_YORK_9AM)
    assert (report["sent"], report["undeliverable"]) == ((1, 0) if reachable else (0, 1))
    assert listed is not reachable


async def test_overdue_and_the_scheduler_agree_on_who_is_late_at_the_boundaries(harness: Harness) -> None:
    url = harness.connector.service_url
    await register(harness, name="Claims triage")
    await install_sponsor(harness)
    await harness.bot.post(channel_message("link claims triage", SPONSOR, service_url=url))
    harness.clock.set(datetime(2026, 12, 1, 13, 59, tzinfo=UTC))  # 08:59 on the check-in day: November not due
    assert (await tick(harness, "2026-12-01T13:59:00Z"))["sent"] == 0
    assert "2026-11" not in await overdue_text(harness)
    harness.clock.set(datetime(2026, 12, 1, 14, 0, tzinfo=UTC))
    assert (await tick(harness, "2026-12-01T" + NEW_YORK_9AM))["by_kind"] == {"checkin": 1}
    # The 7th business day after Tue 1 Dec is Thu 10 Dec: late from 09:00 New York, not from midnight.
    for moment, late in (("2026-12-10T13:59:00Z", False), ("2026-12-10T" + NEW_YORK_9AM, True)):
        harness.clock.set(datetime.fromisoformat(moment))
        escalated = (await tick(harness, moment))["by_kind"].get("escalation") == 1
        listed = "Claims triage" in await overdue_text(harness)
        assert escalated is late and listed is late, moment
