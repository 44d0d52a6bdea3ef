"""Small factories shared by the cards, so every card looks alike and is dumped the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Final

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    ExecuteAction,
    Fact,
    FactSet,
    RefreshDefinition,
    TeamsCardProperties,
    TextBlock,
)
from microsoft_teams.cards.core import Spacing, TextColor, TextSize, TextWeight

from cards.text import MAX_CARD_BYTES, card_size, plain

CARD_VERSION: Final = "1.5"
# What a card may use of Teams' 28 KB message limit: the activity around the card needs the rest.
CARD_BUDGET: Final = MAX_CARD_BYTES - 2 * 1024


def text(
    value: str,
    *,
    size: TextSize | None = None,
    weight: TextWeight | None = None,
    color: TextColor | None = None,
    subtle: bool | None = None,
    spacing: Spacing | None = None,
    separator: bool | None = None,
) -> TextBlock:
    """A wrapping TextBlock. ``value`` is markdown: pass user text through plain() first."""
    return TextBlock(
        text=value,
        wrap=True,
        size=size,
        weight=weight,
        color=color,
        is_subtle=subtle,
        spacing=spacing,
        separator=separator,
    )


def heading(value: str, *, size: TextSize = "Large") -> TextBlock:
    return TextBlock(text=value, wrap=True, size=size, weight="Bolder", style="heading")


def section(title: str) -> TextBlock:
    """A section title; markdown like text(): escape user parts with plain()."""
    return TextBlock(text=title, wrap=True, weight="Bolder", spacing="Medium", separator=True)


def facts(pairs: Iterable[tuple[str, str]]) -> FactSet:
    """A FactSet from raw (title, value) pairs; both are escaped because hosts render facts as markdown."""
    return FactSet(facts=[Fact(title=plain(title), value=plain(value)) for title, value in pairs])


def build(
    body: Sequence[CardElement],
    actions: Sequence[Action] = (),
    *,
    full_width: bool = False,
    refresh: ExecuteAction | None = None,
) -> AdaptiveCard:
    """An Adaptive Card 1.5; it becomes JSON (``cards.text.card_json``) only where it is sent.

    ``refresh``: Teams sends this action (``trigger: "automatic"``) whenever the card is shown and shows the card the
    bot answers. Without ``userIds`` it does so for everyone in chats of up to 60 people; larger chats and channels
    get a refresh option in the message's menu instead.
    """
    return AdaptiveCard(
        version=CARD_VERSION,
        body=list(body),
        actions=list(actions) or None,
        msteams=TeamsCardProperties(width="full") if full_width else None,
        refresh=RefreshDefinition(action=refresh) if refresh is not None else None,
    )


def largest_fitting(build_with: Callable[[int], AdaptiveCard], count: int, budget: int = CARD_BUDGET) -> AdaptiveCard:
    """The card ``build_with(k)`` for the largest ``k <= count`` rows that stays within ``budget`` bytes.

    Rows hold user text whose escaped size varies a lot, so a fixed row count cannot promise the size limit.
    """
    card = build_with(count)
    if card_size(card) <= budget:
        return card
    best, low, high = build_with(0), 1, count - 1
    while low <= high:
        middle = (low + high) // 2
        candidate = build_with(middle)
        if card_size(candidate) <= budget:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    return best
