"""Text helpers: user text made safe for TextBlock markdown, numbers for people, the attachment envelope, size."""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

from microsoft_teams.cards import AdaptiveCard

ADAPTIVE_CARD_CONTENT_TYPE: Final = "application/vnd.microsoft.card.adaptive"
THUMBNAIL_CONTENT_TYPE: Final = "application/vnd.microsoft.card.thumbnail"
NO_VALUE: Final = "\N{EN DASH}"
MAX_CARD_BYTES: Final = 28 * 1024  # Teams refuses larger messages (DESIGN.md)

# Characters that mean something anywhere in a line: emphasis, code, links/images, autolinks and HTML (< >),
# template expressions (${ }), table pipes, and the escape character itself.
_INLINE = re.compile(r"([\\`*_~\[\](){}$|<>])")
# Markers that only mean something at the start of a line and before a space (or a run, as in "---"): headings,
# bullets, rules and setext underlines, and ordered-list markers like "1." ("1)" is covered: ")" is escaped
# everywhere, as is ">"). "28.3 min" or "-3" read as typed.
_LINE_START = re.compile(r"^([ \t]*)(?:([#+\-=])(?=[ \t#+\-=]|$)|(\d{1,9})\.(?=[ \t]|$))", re.MULTILINE)
_ENTITY = re.compile(r"&(?=#?\w+;)")


def plain(text: str) -> str:
    """Escape user text so TextBlock/Fact markdown shows it literally.

    Backslash escapes are CommonMark's and what Teams honours. To keep the raw JSON readable on hosts that show
    markdown source, block markers (``# + - =`` and ``1.``) are escaped only at the start of a line and ``!``
    not at all (an image needs ``[``, which is always escaped); ``2026-01`` or "Great!" stay as typed.
    """
    escaped = _INLINE.sub(r"\\\1", text)
    escaped = _ENTITY.sub(r"\\&", escaped)

    def _line_start(match: re.Match[str]) -> str:
        indent, marker, number = match.group(1), match.group(2), match.group(3)
        return f"{indent}\\{marker}" if marker else f"{indent}{number}\\."

    return _LINE_START.sub(_line_start, escaped)


def shorten(text: str, limit: int) -> str:
    """Cut long free text (up to 2,000 characters in the domain) so cards stay small; before escaping."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fmt_number(value: float | None, unit: str = "") -> str:
    """``12.5 min``, ``1,200``, ``45%``; an en dash for no value. Raw text: escape with plain() for markdown."""
    if value is None or not math.isfinite(value):
        return NO_VALUE
    if abs(value - round(value)) < 1e-9:
        number = f"{round(value):,}"
    elif abs(value) < 1:
        number = f"{value:.3g}"
    else:
        number = f"{value:,.2f}".rstrip("0").rstrip(".")
    if not unit:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def card_json(card: AdaptiveCard) -> dict[str, Any]:
    """The card as the JSON Teams takes (``schema``, not ``$schema``: both clients accept it)."""
    return card.model_dump(by_alias=True, exclude_none=True)


def attachment(card: AdaptiveCard) -> dict[str, Any]:
    """The Bot Framework attachment that carries ``card``."""
    return {"contentType": ADAPTIVE_CARD_CONTENT_TYPE, "content": card_json(card)}


def card_size(card: AdaptiveCard | dict[str, Any]) -> int:
    """Bytes of compact JSON. ASCII-escaped on purpose: that is the larger of the two encodings a sender may use."""
    content = card_json(card) if isinstance(card, AdaptiveCard) else card
    return len(json.dumps(content, separators=(",", ":"), ensure_ascii=True))
