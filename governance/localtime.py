"""Local days and times: business days, the check-in day of a month, and the 09:00 local send time.

A business day is Monday to Friday and not a public holiday of ``country`` (ISO 3166-1 alpha-2, see
governance.calendars; None: weekends only). Every business-day count in PilotGate goes through these functions.

Times are computed as a local wall time and converted to UTC, so a daylight-saving change never moves or repeats a
send (09:00 is never inside a DST gap or fold in any IANA zone in use today).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

from governance.calendars import is_public_holiday

SEND_HOUR: Final = 9  # local wall-clock hour of every scheduled send (check-ins, nudges, gate milestones)
# The day and time functions below are pure; `pilots` and `overdue` ask them the same few questions for a thousand
# pilots (the same month, check-in day, country and time zone), so their answers are kept.
KEPT_ANSWERS: Final = 16_384


@lru_cache(maxsize=KEPT_ANSWERS)
def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


@lru_cache(maxsize=KEPT_ANSWERS)
def local_send_time(day: date, timezone: str, hour: int = SEND_HOUR) -> datetime:
    """``hour``:00 wall-clock time on ``day`` in ``timezone``, as an aware UTC datetime."""
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def working_day(moment: datetime, timezone: str) -> date:
    """The local day whose 09:00 has come at ``moment``: before 09:00 it is still yesterday's work."""
    today = local_date(moment, timezone)
    return today if moment >= local_send_time(today, timezone) else today - timedelta(days=1)


def is_business_day(day: date, country: str | None = None) -> bool:
    return day.weekday() < 5 and not is_public_holiday(day, country)


def next_business_day(day: date, country: str | None = None) -> date:
    """``day`` itself when it is a business day, else the first one after it."""
    while not is_business_day(day, country):
        day += timedelta(days=1)
    return day


@lru_cache(maxsize=KEPT_ANSWERS)
def add_business_days(day: date, count: int, country: str | None = None) -> date:
    """``count`` business days after ``day``; ``day`` itself may be a weekend day or a holiday."""
    current = day
    added = 0
    while added < count:
        current += timedelta(days=1)
        if is_business_day(current, country):
            added += 1
    return current


def first_business_day(year: int, month: int, country: str | None = None) -> date:
    return next_business_day(date(year, month, 1), country)


@lru_cache(maxsize=KEPT_ANSWERS)
def checkin_date(year: int, month: int, checkin_day: int, country: str | None = None) -> date:
    """Day 1 means the first business day; any other day is that calendar day (moved off a weekend or holiday)."""
    if checkin_day <= 1:
        return first_business_day(year, month, country)
    return next_business_day(date(year, month, checkin_day), country)
