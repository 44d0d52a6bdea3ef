"""The quarterly audit's cards, as a catalogue for tests/cards/test_every_card.py (the official parser, 1.5, size,
verbs, escaping), and what each shows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

from cards.audit import PAGE_SIZE, attestation_card, attested_card, audit_board_card
from cards.text import card_json
from governance.model import GOVERNANCE_ITEMS, Direction, Integration, Metric, Person, Pilot
from governance.quarterly_audit import (
    AdminDecision,
    Attestation,
    AuditStatus,
    ItemState,
    Outcome,
    QuarterlyAudit,
    Recommendation,
    snapshot_item,
)
from tests.cards.test_cards import shown_text

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
HOSTILE = "<b>[x](http://evil)</b> **${name}** _`|`_"


def _pilot(i: int, name: str, sponsor: str) -> Pilot:
    return Pilot(
        id=f"{i:032x}",
        tenant_id="t1",
        name=name,
        sponsor=Person(f"aad-{i}", sponsor),
        metrics=(Metric("Handling time" + "[_]" * 20, "min", 42, 30, Direction.DECREASE),),
        start_date=date(2026, 9, 1),
        gate_date=date(2027, 6, 30),
    )


def _attestation(note: str) -> Attestation:
    return Attestation(
        by=Person("aad-1", HOSTILE),
        at=NOW,
        metric_name=HOSTILE,
        baseline=41.0,
        target=30.0,
        target_date=date(2027, 3, 31),
        integration=Integration.NO,
        governance=dict.fromkeys(GOVERNANCE_ITEMS, ItemState.IN_PROGRESS),
        recommendation=Recommendation.RETIRE,
        recommended_date=date(2027, 7, 15),
        note=note,
    )


def worst_audit(count: int = 200, *, closed: bool = False) -> QuarterlyAudit:
    """Every name at its maximum, made of characters that need escaping; every item attested and decided."""
    items = []
    for i in range(count):
        item = snapshot_item(_pilot(i, f"{i:04d}" + "[*]_<>" * 33, "<[_]>" * 40), reachable=i % 2 == 0)
        item = dataclasses.replace(
            item,
            attestation=_attestation("`|`<>" * 100) if i % 3 else None,
            decision=AdminDecision(Recommendation.NARROW, date(2027, 2, 1), "x", Person("a"), NOW, False)
            if i % 4
            else None,
            outcome=Outcome.DECIDED if closed else None,
        )
        items.append(item)
    return QuarterlyAudit(
        id="t1:2026-Q4",
        tenant_id="t1",
        quarter="2026-Q4",
        status=AuditStatus.CLOSED if closed else AuditStatus.OPEN,
        opened_by=Person("a", HOSTILE),
        opened_at=NOW,
        items=tuple(items),
        closed_at=NOW if closed else None,
    )


def audit_cards() -> dict[str, dict[str, Any]]:
    audit = worst_audit()
    fresh = dataclasses.replace(audit.items[0], attestation=None)
    attested = dataclasses.replace(audit.items[1], attestation=_attestation(HOSTILE))
    errors = {"baseline": "'lots' is not a number.", "recommendedDate": HOSTILE, "gov_dlp": "Say where it stands."}
    values = {"metricName": HOSTILE, "baseline": "lots", "note": HOSTILE * 20, "recommendedDate": "bad"}
    first = audit.items[0].pilot_id
    return {
        "attestation": card_json(attestation_card(audit, fresh)),
        "attestation-reminder": card_json(attestation_card(audit, fresh, reminder=True)),
        "attestation-errors": card_json(attestation_card(audit, fresh, values, errors)),
        "attested": card_json(attested_card(audit, attested)),
        "attestation-closed": card_json(attestation_card(worst_audit(3, closed=True), fresh)),
        "board-worst": card_json(audit_board_card(audit, notice=HOSTILE, refresh_for=["29:a"] * 70)),
        "board-worst-errors": card_json(
            audit_board_card(audit, 1, {"audit": HOSTILE * 5, first: HOSTILE, f"date_{first}": HOSTILE})
        ),
        "board-last-page": card_json(audit_board_card(audit, 1000)),
        "board-closed": card_json(audit_board_card(worst_audit(closed=True), 2)),
        "board-empty": card_json(audit_board_card(dataclasses.replace(audit, items=()))),
    }


def test_the_board_pages_and_names_every_gap() -> None:
    cards = audit_cards()
    text = shown_text(cards["board-worst"])
    assert f"page 1 of {-(-200 // PAGE_SIZE)}" in text
    for label in ("No workflow integration", "Governance not configured", "No reachable sponsor"):
        assert label in text
    assert "and 188 more" in text or "more" in text
    assert "page 25 of 25" in shown_text(cards["board-last-page"])
    assert "None found." in shown_text(cards["board-empty"])
    closed = shown_text(cards["board-closed"])
    assert "recorded as its gate decision" in closed and "Close audit" not in str(cards["board-closed"])


def test_the_attestation_card_is_filled_with_what_pilotgate_knows() -> None:
    card = audit_cards()["attestation"]
    by_id = {node["id"]: node for node in _inputs(card)}
    assert by_id["baseline"]["value"] == 42 and by_id["target"]["value"] == 30
    assert by_id["targetDate"]["value"] == "2027-06-30"
    assert by_id["gov_dlp"]["value"] == "notStarted"


def _inputs(card: dict[str, Any]) -> list[dict[str, Any]]:
    from tests.helpers import nodes

    return [node for node in nodes(card) if str(node.get("type", "")).startswith("Input.")]
