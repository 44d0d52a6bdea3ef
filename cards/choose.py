"""When `status <name>` matches several pilots (a card of buttons) or none (a sentence with suggestions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from microsoft_teams.cards import ActionSet, AdaptiveCard, CardElement

from cards.elements import build, text
from cards.text import plain
from cards.verbs import PILOT_STATUS, execute

MAX_BUTTONS: Final = 5  # the official renderer's default host config allows five actions per set


def choose_pilot_card(query: str, candidates: Sequence[tuple[str, str]]) -> AdaptiveCard:
    """``candidates`` are (pilot id, name); each button asks for that pilot's status."""
    body: list[CardElement] = [text(plain(f"Several pilots match '{query}'. Which one?"), weight="Bolder")]
    shown = candidates[:MAX_BUTTONS]
    if shown:
        # Button titles are plain text (no markdown), so names go in as they are.
        body.append(ActionSet(actions=[execute(name, PILOT_STATUS, {"pilotId": pilot_id}) for pilot_id, name in shown]))
    if len(candidates) > MAX_BUTTONS:
        body.append(
            text(
                f"{len(candidates) - MAX_BUTTONS:,} more match: type more of the name, or pilots for the list.",
                subtle=True,
            )
        )
    return build(body)


def not_found_text(query: str, suggestions: Sequence[str]) -> str:
    """A reply sentence, escaped for Teams' markdown: "No pilot named 'x'. Did you mean A or B?"."""
    sentence = f"No pilot named '{query}'."
    if not suggestions:
        return plain(f"{sentence} Type pilots to see them all.")
    names = list(suggestions)
    options = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
    return plain(f"{sentence} Did you mean {options}?")
