"""Every card the bot sends, from both card catalogues: the official parser accepts it, it is Adaptive Cards 1.5
under 28 KB, every button carries its verb, and user text never becomes markup."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bots.actions import REFRESH_VERBS
from cards.text import MAX_CARD_BYTES, card_size
from cards.verbs import (
    MAX_REFRESH_USERS,
    VERBS,
)
from tests.cards.test_cards import assert_official_parser_accepts, every_card, rendered_texts
from tests.cards.test_checkin_gate_cards import checkin_and_gate_cards
from tests.cards.test_initiative_cards import initiative_cards
from tests.cards.test_lead_cards import lead_cards
from tests.cards.test_report_card import report_cards
from tests.helpers import nodes


def all_cards() -> dict[str, dict[str, Any]]:
    """Named ``catalogue:card``, e.g. ``gates:gate-day``."""
    return (
        {f"portfolio:{k}": v for k, v in every_card().items()}
        | {f"gates:{k}": v for k, v in checkin_and_gate_cards().items()}
        | {f"report:{k}": v for k, v in report_cards().items()}
        | {f"initiatives:{k}": v for k, v in initiative_cards().items()}
        | {f"lead:{k}": v for k, v in lead_cards().items()}
    )


def test_every_card_passes_the_official_parser(tmp_path: Path) -> None:
    """Zero events, except the one the parser logs for every Teams chart even with a fallback (seen with
    adaptivecards 3.0.6: "Unknown element type ... Fallback will be used if present."). So each chart must have a
    TextBlock/FactSet fallback, and the card as a chart-less host renders it (fallbacks in place) has zero events.
    ShowCards holding inputs and an Action.Execute pass at 1.5."""
    assert_official_parser_accepts(all_cards(), tmp_path)


def test_every_card_is_version_1_5_and_under_28_kb() -> None:
    for name, card in all_cards().items():
        assert card["type"] == "AdaptiveCard" and card["version"] == "1.5", name
        assert card_size(card) < MAX_CARD_BYTES, f"{name}: {card_size(card)} bytes"


def test_every_action_carries_its_verb_and_a_submit_fallback_with_the_same_data() -> None:
    """A card's refresh action may go without a fallback (a host without Universal Actions ignores ``refresh``
    altogether); every other Action.Execute falls back to an Action.Submit with the same data."""
    seen = set()
    for name, card in all_cards().items():
        refresh_action = card.get("refresh", {}).get("action")
        for node in nodes(card):
            if node.get("type") == "Action.Execute":
                assert node["verb"] in VERBS, name
                assert node["data"]["verb"] == node["verb"], name
                if node is not refresh_action or "fallback" in node:
                    assert node["fallback"] == {**node["fallback"], "type": "Action.Submit", "data": node["data"]}, name
                seen.add(node["verb"])
            if node.get("type") == "Action.OpenUrl":  # only the report card's signed link to its full page
                assert name.startswith("report:") and node["url"].startswith("https://"), name
            if node.get("type") == "Action.ShowCard":  # the gate card's decision forms, the status card's "Correct"
                correct = node["title"] == "Correct a reading" and "status" in name
                assert correct or (name.startswith("gates:") and "gate" in name.split(":", 1)[1]), name
    assert seen >= VERBS


def test_every_refresh_reads_only_and_names_at_most_60_users() -> None:
    """Teams refreshes automatically for at most 60 userIds; a refresh runs only a verb that reads."""
    refreshing = set()
    for name, card in all_cards().items():
        refresh = card.get("refresh")
        if refresh is None:
            continue
        refreshing.add(name)
        assert refresh["action"]["verb"] in REFRESH_VERBS, name
        assert len(refresh.get("userIds", [])) <= MAX_REFRESH_USERS, name
    assert {"gates:checkin-empty", "gates:gate-day-posted", "gates:gate-worst-refreshed"} <= refreshing


def test_user_text_never_becomes_markup_in_any_card() -> None:
    for name, card in all_cards().items():
        for shown in rendered_texts(card):
            assert "](http" not in shown, f"{name}: {shown!r}"
            assert "${" not in shown, f"{name}: {shown!r}"
            assert "**" not in shown, f"{name}: {shown!r}"
            assert not re.search(r"(?<!\\)<", shown), f"{name}: {shown!r}"
