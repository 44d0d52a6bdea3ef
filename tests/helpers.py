"""Helpers the test layers share: reading what the bot sent, walking card JSON, and a pilot as the REST API takes it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from microsoft_teams.cards import AdaptiveCard

from cards.text import card_json
from tests.teams_sim import SPONSOR, TENANT

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
