"""Reading card inputs as Teams sends them: every value is a string, typed by a person.

One parser for the whole app, so a form that refills a value and the submission that checks it read "1,5" the
same way (refused, rather than 15).
"""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Final

_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_GROUPED: Final = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?", re.ASCII)
_CURRENCY: Final = "$€£¥"
MAX_NUMBER_CHARS: Final = 40  # longer digit strings are typos or attacks, never amounts


class BadNumber(ValueError):
    """The text is not a number as people type one."""


def parse_number(raw: str, *, money: bool = False) -> float | None:
    """A number as people type it: ``1200``, ``1,200.50``, ``-3``, ``2.5e3``; None for blank.

    Commas are accepted only as thousands separators (``1,5`` is refused rather than read as 15). With
    ``money`` a leading or trailing currency sign is dropped. NaN and infinities are refused.
    """
    text = raw.strip().replace(" ", "").replace("\u00a0", "").replace("_", "")
    if money:
        text = text.strip(_CURRENCY)
    if not text:
        return None
    if len(text) > MAX_NUMBER_CHARS:
        raise BadNumber(text[:MAX_NUMBER_CHARS])
    if "," in text:
        if not _GROUPED.fullmatch(text):
            raise BadNumber(text)
        text = text.replace(",", "")
    if not _NUMBER.fullmatch(text):
        raise BadNumber(text)
    number = float(text)
    if not math.isfinite(number):
        raise BadNumber(text)
    return number


def parse_date(raw: str) -> date | None:
    """A date input's value (``YYYY-MM-DD``, Teams may append a time); None for blank; ValueError otherwise."""
    text = raw.strip()
    if not text:
        return None
    return date.fromisoformat(text[:10])
