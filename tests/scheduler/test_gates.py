"""The 90-day gate through the Teams simulator: milestones, the decision card, its effects and cost drift."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from governance.model import DecisionKind, Stage
from tests import helpers
from tests.conftest import Harness
from tests.helpers import action_verbs, card_text, cards_of
from tests.scheduler.test_checkins import install_sponsor, tick
from tests.teams_sim import (
    ADMIN,
    FOREIGN_USER,
    OUTSIDER,
    SPONSOR,
    TEAM,
    TENANT,
    adaptive_card_invoke,
    channel_message,
    personal_message,
)

GATE = "2026-11-30"  # a Monday; New York leaves daylight saving on 1 Nov 2026


def pilot_body(**overrides: Any) -> dict[str, Any]:
    base = {
        "name": "Claims triage",
        "metrics": [{"name": "Handling time", "unit": "min", "baseline": 42, "target": 30, "direction": "decrease"}],
        "gateDate": GATE,
        "timezone": "America/New_York",
        "budgetMonthly": 10000,
    }
    return helpers.pilot_body(**{**base, **overrides})


async def register_linked(h: Harness, registered: datetime, **overrides: Any) -> dict[str, Any]:
    h.clock.set(registered)
    status, pilot = await h.api("POST", "/api/pilots", pilot_body(**overrides))
    assert status == 201 and isinstance(pilot, dict), pilot
    await install_sponsor(h)
    await h.bot.post(channel_message("link claims triage", SPONSOR, service_url=h.connector.service_url))
    return pilot


def gate_posts(h: Harness) -> list[dict[str, Any]]:
    posts = cards_of(h.connector.sent_activities(TEAM.id))
    return [c for c in posts if "Gate" in c["body"][1].get("text", "")]  # the milestone line under the heading


async def daily_ticks(h: Harness, first: date, last: date) -> list[date]:
    """Tick at 09:00 New York every day (13:00 and 14:00 UTC, so both sides of DST); the days gate cards went out."""
    days: list[date] = []
    day = first
    while day <= last:
        for hour in (13, 14):
            report = await tick(h, datetime(day.year, day.month, day.day, hour, tzinfo=UTC).isoformat())
            if report["by_kind"].get("gate"):
                days.append(day)
        day += timedelta(days=1)
    return days


async def decide(h: Harness, pilot: dict[str, Any], kind: str, user: Any = SPONSOR, **inputs: str) -> Any:
    status, body = await h.bot.post(
        adaptive_card_invoke(
            "gate.decide",
            data={"pilotId": pilot["id"], "gateDate": pilot["gateDate"], "kind": kind},
            inputs=inputs,
            user=user,
            scope="channel",
            service_url=h.connector.service_url,
            reply_to_id="1700000000002",
        )
    )
    assert status == 200, body
    return body


async def refreshed_for_the_sponsor(h: Harness, card: dict[str, Any]) -> dict[str, Any]:
    """The card Teams shows the sponsor: what the bot answers the posted card's automatic refresh."""
    status, body = await h.bot.post(
        adaptive_card_invoke(
            "gate.view",
            data=card["refresh"]["action"]["data"],
            user=SPONSOR,
            scope="channel",
            service_url=h.connector.service_url,
            trigger="automatic",
        )
    )
    assert status == 200 and body["type"] == "application/vnd.microsoft.card.adaptive", body
    value = body["value"]
    assert isinstance(value, dict)
    return value


async def test_milestones_post_once_each_across_month_end_and_dst(harness: Harness) -> None:
    await register_linked(harness, datetime(2026, 9, 20, tzinfo=UTC))
    days = await daily_ticks(harness, date(2026, 10, 25), date(2026, 12, 15))
    assert days == [
        date(2026, 10, 31),  # t-30, still on daylight time
        date(2026, 11, 16),  # t-14
        date(2026, 11, 23),  # t-7
        date(2026, 11, 29),  # t-1
        date(2026, 11, 30),  # gate day
        date(2026, 12, 7),  # a week in purgatory
        date(2026, 12, 14),
    ]
    posts = gate_posts(harness)
    assert all("gate.decide" not in action_verbs(post) for post in posts)  # as posted, every card is read-only
    assert all(post["refresh"]["userIds"] == [SPONSOR.teams_id] for post in posts)  # the sponsor's own view
    harness.clock.set(datetime(2026, 10, 31, 14, tzinfo=UTC))
    reminder = await refreshed_for_the_sponsor(harness, posts[0])
    assert "gate.decide" not in action_verbs(reminder)  # before the gate: a reminder
    harness.clock.set(datetime(2026, 11, 30, 15, tzinfo=UTC))
    gate_day = await refreshed_for_the_sponsor(harness, posts[4])
    assert "gate.decide" in action_verbs(gate_day)  # from the gate day: the decisions


async def test_late_registration_gets_the_milestones_ahead_not_a_burst(harness: Harness) -> None:
    await register_linked(harness, datetime(2026, 11, 20, 15, tzinfo=UTC))
    days = await daily_ticks(harness, date(2026, 11, 20), date(2026, 11, 30))
    assert days == [date(2026, 11, 23), date(2026, 11, 29), date(2026, 11, 30)]


async def test_non_owner_gets_a_private_refusal_and_nothing_is_recorded(harness: Harness) -> None:
    pilot = await register_linked(harness, datetime(2026, 11, 30, 15, tzinfo=UTC))
    body = await decide(
        harness, pilot, "go", user=OUTSIDER, goRationale="Looks great", goScope="All", goDate="2027-01-04"
    )
    assert body["type"] == "application/vnd.microsoft.activity.message"
    assert "Only the pilot's sponsor or a governance admin" in body["value"]
    assert await harness.repos.decisions.list_for(pilot["id"]) == []
    stored = await harness.repos.pilots.get(pilot["id"], TENANT.id)
    assert stored is not None and stored.stage is Stage.PILOT


async def test_two_presses_at_once_record_one_decision(harness: Harness) -> None:
    pilot = await register_linked(harness, datetime(2026, 11, 30, 15, tzinfo=UTC))
    go = {"goRationale": "Hit the target", "goScope": "All claims teams", "goDate": "2027-01-04"}
    retire = {"retireRationale": "Not worth it", "retireDate": "2026-12-31"}
    first, second = await asyncio.gather(
        decide(harness, pilot, "go", **go), decide(harness, pilot, "retire", user=ADMIN, **retire)
    )
    decisions = await harness.repos.decisions.list_for(pilot["id"])
    assert len(decisions) == 1
    winner = decisions[0].kind
    for body in (first, second):
        assert body["type"] == "application/vnd.microsoft.card.adaptive"
        assert winner.value in card_text(body["value"]).lower()
    stored = await harness.repos.pilots.get(pilot["id"], TENANT.id)
    assert stored is not None and stored.stage in (Stage.PRODUCTION, Stage.RETIRED)
    again = await decide(harness, pilot, "go", **go)
    assert len(await harness.repos.decisions.list_for(pilot["id"])) == 1
    assert "gate.decide" not in action_verbs(again)


async def test_go_moves_to_production_posts_a_summary_and_stops_reminders(harness: Harness) -> None:
    pilot = await register_linked(harness, datetime(2026, 11, 30, 15, tzinfo=UTC))
    body = await decide(
        harness, pilot, "go", goRationale="Handling time down 25%", goScope="All claims teams", goDate="2027-01-04"
    )
    assert "Handling time down 25%" in card_text(body["value"])
    stored = await harness.repos.pilots.get(pilot["id"], TENANT.id)
    assert stored is not None and stored.stage is Stage.PRODUCTION
    summary = harness.connector.sent_activities(TEAM.id)[-1].get("text") or ""
    assert "Go" in summary and "Claims triage" in summary
    assert any(u for u in harness.connector.updates())  # the card was replaced for everyone
    audit = [e.action for e in await harness.repos.audit.list_for(pilot["id"])]
    assert "gate.go" in audit
    days = await daily_ticks(harness, date(2026, 12, 1), date(2026, 12, 20))
    assert days == []


async def test_extend_moves_the_gate_and_its_reminders(harness: Harness) -> None:
    pilot = await register_linked(harness, datetime(2026, 11, 30, 15, tzinfo=UTC))
    await decide(harness, pilot, "extend", extendRationale="Need more data", extendGateDate="2027-01-29")
    stored = await harness.repos.pilots.get(pilot["id"], TENANT.id)
    assert stored is not None
    assert stored.stage is Stage.EXTENDED and stored.gate_date == date(2027, 1, 29) and stored.extensions == 1
    days = await daily_ticks(harness, date(2026, 12, 1), date(2027, 1, 29))
    assert days == [date(2026, 12, 30), date(2027, 1, 15), date(2027, 1, 22), date(2027, 1, 28), date(2027, 1, 29)]
    second = dict(pilot, gateDate="2027-01-29")
    body = await decide(harness, second, "extend", extendRationale="Again", extendGateDate="2027-03-01")
    assert "extend" in card_text(body["value"]).lower()
    stored = await harness.repos.pilots.get(pilot["id"], TENANT.id)
    assert stored is not None and stored.gate_date == date(2027, 1, 29)  # one extension unless an admin


async def test_narrow_sets_a_new_gate(harness: Harness) -> None:
    pilot = await register_linked(harness, datetime(2026, 11, 30, 15, tzinfo=UTC))
    await decide(
        harness,
        pilot,
        "narrow",
        narrowRationale="Only motor claims",
        narrowScope="Home claims",
        narrowGateDate="2027-02-26",
    )
    stored = await harness.repos.pilots.get(pilot["id"], TENANT.id)
    assert stored is not None and stored.stage is Stage.NARROWED and stored.gate_date == date(2027, 2, 26)


async def test_retire_stops_checkins_after_the_retirement_date(harness: Harness) -> None:
    pilot = await register_linked(harness, datetime(2026, 11, 30, 15, tzinfo=UTC))
    await decide(harness, pilot, "retire", retireRationale="Missed target", retireDate="2026-12-31", retireLessons="x")
    stored = await harness.repos.pilots.get(pilot["id"], TENANT.id)
    assert stored is not None and stored.stage is Stage.RETIRED
    # December's check-in (sent 4 Jan) is after the retirement date: no more cards.
    report = await tick(harness, "2027-01-04T14:00:00Z")
    assert report["by_kind"] == {}
    [decision] = await harness.repos.decisions.list_for(pilot["id"])
    assert decision.kind is DecisionKind.RETIRE and decision.effective_date == date(2026, 12, 31)


async def test_bad_decisions_say_what_is_wrong_and_change_nothing(harness: Harness) -> None:
    pilot = await register_linked(harness, datetime(2026, 11, 30, 15, tzinfo=UTC))
    body = await decide(harness, pilot, "go", goScope="All", goDate="2027-01-04")
    assert "Give a rationale" in card_text(body["value"])
    body = await decide(harness, pilot, "extend", extendRationale="More time", extendGateDate="2026-11-01")
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    body = await decide(harness, pilot, "retire", retireRationale="Stop", retireDate="2026-11-15")
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    status, forged = await harness.bot.post(
        adaptive_card_invoke(
            "gate.decide",
            data={"pilotId": pilot["id"], "gateDate": GATE, "kind": "go"},
            inputs={"goRationale": "x", "goScope": "y", "goDate": "2027-01-04"},
            user=FOREIGN_USER,
            service_url=harness.connector.service_url,
        )
    )
    assert status == 200 and forged["type"] == "application/vnd.microsoft.activity.message"
    status, other = await harness.bot.post(
        adaptive_card_invoke(
            "gate.decide",
            data={"pilotId": "not-a-pilot", "gateDate": GATE, "kind": "go"},
            inputs={"goRationale": "x", "goScope": "y", "goDate": "2027-01-04"},
            user=SPONSOR,
            service_url=harness.connector.service_url,
        )
    )
    assert status == 200 and "No pilot named" in other["value"]
    assert await harness.repos.decisions.list_for(pilot["id"]) == []
    stored = await harness.repos.pilots.get(pilot["id"], TENANT.id)
    assert stored is not None and stored.stage is Stage.PILOT and stored.gate_date.isoformat() == GATE


async def test_overdue_and_pilots_show_the_gate_passed_without_decision(harness: Harness) -> None:
    await register_linked(harness, datetime(2026, 11, 20, 15, tzinfo=UTC))
    harness.clock.set(datetime(2026, 12, 10, 15, tzinfo=UTC))
    url = harness.connector.service_url
    await harness.bot.post(personal_message("overdue", SPONSOR, service_url=url))
    assert "10" in card_text(cards_of(harness.connector.sent_activities())[-1])
    await harness.bot.post(personal_message("pilots", SPONSOR, service_url=url))
    assert "no decision" in card_text(cards_of(harness.connector.sent_activities())[-1])


async def test_spend_over_budget_posts_one_cost_drift_alert(harness: Harness) -> None:
    pilot = await register_linked(harness, datetime(2026, 10, 20, 15, tzinfo=UTC))
    reading = {"period": "2026-10", "values": {"Handling time": 38}, "status": "amber", "spend": 14000}
    assert (await harness.api("POST", f"/api/pilots/{pilot['id']}/readings", reading))[0] == 201
    first = await tick(harness, "2026-10-21T15:00:00Z")
    second = await tick(harness, "2026-10-21T16:00:00Z")
    assert first["by_kind"].get("costdrift") == 1 and second["by_kind"].get("costdrift") is None
    alerts = [c for c in cards_of(harness.connector.sent_activities(TEAM.id)) if "Cost drift" in card_text(c)]
    assert len(alerts) == 1


async def test_a_decision_whose_effects_were_not_saved_is_finished_by_the_next_sweep(harness: Harness) -> None:
    from governance.model import GateDecision, Person

    pilot = await register_linked(harness, datetime(2026, 11, 30, 15, tzinfo=UTC))
    # The store failed between the two writes of a decision: the decision is recorded, the pilot unchanged.
    await harness.repos.decisions.add(
        GateDecision(
            pilot["id"],
            TENANT.id,
            date(2026, 11, 30),
            DecisionKind.EXTEND,
            "More data",
            Person("x", "Sam"),
            datetime(2026, 11, 30, 15, tzinfo=UTC),
            new_gate_date=date(2027, 1, 29),
        )
    )
    await tick(harness, "2026-11-30T16:00:00Z")
    stored = await harness.repos.pilots.get(pilot["id"], TENANT.id)
    assert stored is not None and stored.stage is Stage.EXTENDED and stored.gate_date == date(2027, 1, 29)
    assert "gate.extend.completed" in [e.action for e in await harness.repos.audit.list_for(pilot["id"])]
