"""Hand-written fakes against the real Protocols."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FixedClock:
    """A Clock whose time only moves when a test moves it."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)
