"""A reporting period: one calendar month. Every place that parses, compares or steps a month uses this type."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from typing import Final

# ASCII digits only: ``\d`` would also take fullwidth or Arabic-Indic digits, which int() reads but no person means.
_PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])", re.ASCII)
MIN_YEAR: Final = 1900
MAX_YEAR: Final = 2999


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A month, ordered by time; ``str()`` is ``YYYY-MM``, the form stored, sent and shown in ids."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (MIN_YEAR <= self.year <= MAX_YEAR and 1 <= self.month <= 12):
            raise ValueError(f"not a period: {self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-11`` -> Period(2026, 11); ValueError for anything else (no spaces, no other digits)."""
        match = _PERIOD.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"not a period: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)

    @property
    def previous(self) -> Period:
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def months_since(self, earlier: Period) -> int:
        """How many months ``earlier`` lies before this one (0 for the same month, negative if it is later)."""
        return (self.year - earlier.year) * 12 + self.month - earlier.month

    def plus(self, months: int) -> Period:
        index = self.year * 12 + self.month - 1 + months
        return Period(index // 12, index % 12 + 1)


def month_name(period: Period) -> str:
    """``2026-04`` -> ``April 2026``, for sentences."""
    return f"{calendar.month_name[period.month]} {period.year}"
