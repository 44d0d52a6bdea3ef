"""Helpers the test layers share: reading what the bot sent, walking card JSON, and a pilot as the REST API takes it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from microsoft_teams.cards import AdaptiveCard

from cards.text import card_json
from governance.model import ConversationKind, ConversationRef, Direction, Metric, Person, Pilot
from storage.repositories import Repositories
from tests.teams_sim import SPONSOR, TENANT, FakeConnector

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def texts_of(activities: list[dict[str, Any]]) -> list[str]:
    return [a.get("text") or "" for a in activities]


def cards_of(activities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        att["content"]
        for a in activities
        for att in a.get("attachments") or []
        if att.get("contentType") == ADAPTIVE_CARD
    ]


def nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every object in a card (a model or its JSON), depth first (show cards and fallbacks included)."""
    if isinstance(value, AdaptiveCard):
        value = card_json(value)
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from nodes(child)


def card_text(card: dict[str, Any]) -> str:
    """Every string in a card, joined: enough to assert on what a person would read."""
    return " ".join(v for node in nodes(card) for v in node.values() if isinstance(v, str))


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in nodes(card) if str(node.get("type", "")).startswith("Input.")}


def action_verbs(card: dict[str, Any]) -> set[str]:
    """Every Action.Execute verb anywhere in a card."""
    return {str(node.get("verb")) for node in nodes(card) if node.get("type") == "Action.Execute"}


def pilot_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /api/pilots body; tests override what they are about."""
    body: dict[str, Any] = {
        "name": "Claims triage assistant",
        "tenantId": TENANT.id,
        "sponsor": {"aadObjectId": SPONSOR.aad_object_id, "name": SPONSOR.name},
        "metrics": [
            {"name": "Handling time", "unit": "min", "baseline": 42, "target": 30, "direction": "decrease"},
            {"name": "Accuracy", "unit": "%", "baseline": 80, "target": 90, "direction": "increase"},
        ],
        "startDate": "2026-09-01",
        "timezone": "Europe/Berlin",
        "budgetMonthly": 12000,
        "intendedUsers": 150,
        "scalePlan": {"expand": "All claims teams", "retire": "Switch off the pilot tenant"},
        "governance": {"dataLabels": True},
    }
    body.update(overrides)
    return body


# Sponsors seeded straight into a store, for scheduler tests with many of them: pilot-{i}'s sponsor is reached in
# the 1:1 chat a:chat-{i}. Their pilots are on UTC, so the November check-in is due at FIRST_CHECKIN.
SEEDED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
FIRST_CHECKIN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def seed_sponsors(
    repos: Repositories, service_url: str, count: int, gate_date: date = date(2026, 11, 30)
) -> None:
    for i in range(count):
        sponsor = Person(f"00000000-0000-4000-8000-{i:012d}", f"Sponsor {i}")
        pilot = Pilot(
            id=f"pilot-{i}",
            tenant_id=TENANT.id,
            name=f"Pilot {i}",
            sponsor=sponsor,
            metrics=(Metric("Handling time", "min", 42, 30, Direction.DECREASE),),
            start_date=date(2026, 9, 1),
            gate_date=gate_date,
            created_at=SEEDED_AT,
        )
        await repos.pilots.add(pilot)
        await repos.conversations.upsert(
            ConversationRef(
                conversation_id=f"a:chat-{i}",
                tenant_id=TENANT.id,
                kind=ConversationKind.PERSONAL,
                service_url=service_url,
                bot_id="28:bot",
                user_id=f"29:user-{i}",
                aad_object_id=sponsor.aad_object_id,
            )
        )
        await repos.agenda.set_due(pilot.id, pilot.tenant_id, SEEDED_AT)


def deliveries(connector: FakeConnector, count: int) -> Counter[int]:
    """How many of the seeded sponsors got each number of messages: {1: count} is all once, none lost or doubled."""
    return Counter(len(connector.sent_activities(f"a:chat-{i}")) for i in range(count))
