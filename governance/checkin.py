"""The monthly check-in: when each period's card is sent, when its nudges fall due, and reading the card back.

The check-in for period P (the month just ended, ``YYYY-MM``) is sent in month P+1 on the pilot's check-in day
(``rules.checkin_date``) at 09:00 local time in the pilot's time zone. Times are computed as a local wall time and
converted to UTC, so a daylight-saving change never moves or repeats a send (09:00 is never inside a DST gap or
fold in any IANA zone in use today).

A retired pilot: ``Stage.RETIRED`` alone stops every check-in. When the caller passes ``retired_on`` (the
retirement date of a retire decision), check-ins whose send day is on or before that date are still sent, so a
pilot that retires at the end of next month reports until then.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from governance.errors import ValidationFailed
from governance.model import HealthStatus, Pilot, Stage
from governance.rules import (
    MAX_MONEY,
    MAX_TEXT,
    MAX_USERS,
    METRIC_VALUE_BOUND,
    PERIOD_RE,
    ReadingDraft,
    checkin_date,
    clean_text,
    local_date,
    period_of,
    previous_period,
)

SEND_HOUR: Final = 9  # local wall-clock hour of every scheduled send (check-ins, nudges, gate milestones)
REMINDER_BUSINESS_DAYS: Final = 3
ESCALATION_BUSINESS_DAYS: Final = 7

Nudge = Literal["reminder", "escalation"]
REMINDER: Final[Nudge] = "reminder"
ESCALATION: Final[Nudge] = "escalation"

# Input ids of the check-in card (Teams sends each value as a string). Metric inputs are ``metric_0``, ``metric_1``
# ... in the order of ``pilot.metrics``; ``period`` and ``pilotId`` come from the action's data.
STATUS_INPUT: Final = "status"
ACTIVE_USERS_INPUT: Final = "activeUsers"
SPEND_INPUT: Final = "spend"
BLOCKERS_INPUT: Final = "blockers"
NOTES_INPUT: Final = "notes"
PERIOD_FIELD: Final = "period"


def metric_input_id(index: int) -> str:
    return f"metric_{index}"


# --- periods and local times -----------------------------------------------------------------------------------
def next_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"


def period_bounds(period: str) -> tuple[date, date]:
    """The first and last day of ``period``."""
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def period_label(period: str) -> str:
    """``2026-04`` -> ``April 2026``; anything else is returned as it is."""
    if not PERIOD_RE.match(period):
        return period
    return f"{calendar.month_name[int(period[5:7])]} {period[:4]}"


def local_send_time(day: date, timezone: str, hour: int = SEND_HOUR) -> datetime:
    """``hour``:00 wall-clock time on ``day`` in ``timezone``, as an aware UTC datetime."""
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def add_business_days(day: date, count: int) -> date:
    """``count`` business days (Monday to Friday) after ``day``; ``day`` itself may be a weekend day."""
    current = day
    added = 0
    while added < count:
        current += timedelta(days=1)
        if current.weekday() < 5:
            added += 1
    return current


# --- when a check-in is sent --------------------------------------------------------------------------------------
def checkin_send_date(pilot: Pilot, period: str) -> date:
    """The local day the check-in for ``period`` is sent: the pilot's check-in day in the month after it."""
    following = next_period(period)
    return checkin_date(int(following[:4]), int(following[5:7]), pilot.checkin_day)


def checkin_due_at(pilot: Pilot, period: str) -> datetime:
    """When the check-in for ``period`` is sent: 09:00 local on its send day, in UTC."""
    return local_send_time(checkin_send_date(pilot, period), pilot.timezone)


def is_checkin_period(pilot: Pilot, period: str, *, retired_on: date | None = None) -> bool:
    """Whether the pilot gets a check-in for ``period`` at all (see the module note on retirement)."""
    if not PERIOD_RE.match(period) or period < period_of(pilot.start_date):
        return False
    if pilot.stage.is_active:
        return True
    if pilot.stage is Stage.RETIRED and retired_on is not None:
        return checkin_send_date(pilot, period) <= retired_on
    return False


def _latest_sent_period(pilot: Pilot, now: datetime) -> str:
    """The latest period whose send time is at or before ``now``, ignoring whether the pilot takes part."""
    candidate = previous_period(period_of(local_date(now, pilot.timezone)))
    # A weekend shift can push a send day into the next month (28 Feb on a Saturday -> 2 March): look back further.
    for _ in range(3):
        if checkin_due_at(pilot, candidate) <= now:
            return candidate
        candidate = previous_period(candidate)
    return candidate


def due_checkin_period(pilot: Pilot, now: datetime, *, retired_on: date | None = None) -> str | None:
    """The period whose check-in is due at ``now``: the latest one sent at or before ``now``, if the pilot gets it.

    Earlier periods are never returned: once the next card has gone out, the older one is no longer "due" (the
    overdue view still reports it). The caller checks its send-log and readings before sending.
    """
    period = _latest_sent_period(pilot, now)
    return period if is_checkin_period(pilot, period, retired_on=retired_on) else None


def next_checkin(pilot: Pilot, now: datetime, *, retired_on: date | None = None) -> tuple[str, datetime] | None:
    """The first period whose check-in is sent strictly after ``now``, and when; None if no more will be sent."""
    if not (pilot.stage.is_active or (pilot.stage is Stage.RETIRED and retired_on is not None)):
        return None
    period = max(next_period(_latest_sent_period(pilot, now)), period_of(pilot.start_date))
    due = checkin_due_at(pilot, period)
    while due <= now:  # only when a weekend shift made two sends swap places; bounded by a couple of steps
        period = next_period(period)
        due = checkin_due_at(pilot, period)
    if not is_checkin_period(pilot, period, retired_on=retired_on):
        return None
    return period, due


def next_checkin_at(pilot: Pilot, now: datetime, *, retired_on: date | None = None) -> datetime | None:
    """When the next check-in after ``now`` is sent (UTC), for the scheduler's stored next-due time."""
    found = next_checkin(pilot, now, retired_on=retired_on)
    return found[1] if found else None


# --- nudges -------------------------------------------------------------------------------------------------------
def _nudge_base(pilot: Pilot, period: str, sent_at: datetime | None) -> date:
    """Nudges count from the scheduled send day, or from the day the card really went out if that was later."""
    scheduled = checkin_send_date(pilot, period)
    if sent_at is None:
        return scheduled
    return max(scheduled, local_date(sent_at, pilot.timezone))


def reminder_due_at(pilot: Pilot, period: str, sent_at: datetime | None = None) -> datetime:
    """3 business days after the check-in's send day, 09:00 local: one reminder to the sponsor."""
    day = add_business_days(_nudge_base(pilot, period, sent_at), REMINDER_BUSINESS_DAYS)
    return local_send_time(day, pilot.timezone)


def escalation_due_at(pilot: Pilot, period: str, sent_at: datetime | None = None) -> datetime:
    """7 business days after the check-in's send day, 09:00 local: a post in the project channel."""
    day = add_business_days(_nudge_base(pilot, period, sent_at), ESCALATION_BUSINESS_DAYS)
    return local_send_time(day, pilot.timezone)


def due_nudges(pilot: Pilot, period: str, now: datetime, sent_at: datetime | None = None) -> tuple[Nudge, ...]:
    """The nudges whose time has come for an unanswered check-in, reminder first; the send-log keeps each once."""
    out: list[Nudge] = []
    if reminder_due_at(pilot, period, sent_at) <= now:
        out.append(REMINDER)
    if escalation_due_at(pilot, period, sent_at) <= now:
        out.append(ESCALATION)
    return tuple(out)


def next_nudge_at(pilot: Pilot, period: str, now: datetime, sent_at: datetime | None = None) -> datetime | None:
    """The next nudge time after ``now`` for an unanswered check-in, or None when both are past."""
    times = (reminder_due_at(pilot, period, sent_at), escalation_due_at(pilot, period, sent_at))
    later = [moment for moment in times if moment > now]
    return min(later) if later else None


# --- reading the card back ----------------------------------------------------------------------------------------
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?$")
_CURRENCY = "$€£¥"


class _BadNumber(ValueError):
    pass


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
    if "," in text:
        if not _GROUPED.match(text):
            raise _BadNumber(text)
        text = text.replace(",", "")
    if not _NUMBER.match(text):
        raise _BadNumber(text)
    number = float(text)
    if not math.isfinite(number):
        raise _BadNumber(text)
    return number


def _raw(values: Mapping[str, str], key: str) -> str:
    value = values.get(key)
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def parse_checkin(values: Mapping[str, str], pilot: Pilot) -> ReadingDraft:
    """The check-in card's submission as a ReadingDraft; ValidationFailed keyed by input id otherwise.

    The primary metric is required (the gate is judged on it); secondary metrics may be left blank.
    """
    errors: dict[str, str] = {}
    readings: dict[str, float] = {}
    for index, metric in enumerate(pilot.metrics):
        input_id = metric_input_id(index)
        raw = _raw(values, input_id)
        try:
            number = parse_number(raw)
        except _BadNumber:
            errors[input_id] = f"Enter {metric.name} as a number, e.g. 42 or 1,250.5."
            continue
        if number is None:
            if index == 0:
                errors[input_id] = f"Enter this month's {metric.name}: the gate decision rests on it."
            continue
        if abs(number) > METRIC_VALUE_BOUND:
            errors[input_id] = f"That is far too large for {metric.name}: check the number."
            continue
        readings[metric.name] = number

    status_raw = _raw(values, STATUS_INPUT).strip().lower()
    status: HealthStatus | None = None
    try:
        status = HealthStatus(status_raw)
    except ValueError:
        errors[STATUS_INPUT] = (
            "Choose an overall status: green, amber or red."
            if not status_raw
            else "The status must be green, amber or red."
        )

    active_users: int | None = None
    try:
        users = parse_number(_raw(values, ACTIVE_USERS_INPUT))
    except _BadNumber:
        errors[ACTIVE_USERS_INPUT] = "Enter active users as a whole number, e.g. 120."
    else:
        if users is not None:
            if users != int(users):
                errors[ACTIVE_USERS_INPUT] = "Active users is a count of people: use a whole number."
            elif users < 0:
                errors[ACTIVE_USERS_INPUT] = "Active users can't be negative."
            elif users > MAX_USERS:
                errors[ACTIVE_USERS_INPUT] = f"Active users can be at most {MAX_USERS:,}."
            else:
                active_users = int(users)

    spend: float | None = None
    try:
        amount = parse_number(_raw(values, SPEND_INPUT), money=True)
    except _BadNumber:
        errors[SPEND_INPUT] = "Enter this month's spend as an amount, e.g. 1,250.50."
    else:
        if amount is not None:
            if amount < 0:
                errors[SPEND_INPUT] = "Spend can't be negative."
            elif amount > MAX_MONEY:
                errors[SPEND_INPUT] = "That amount is far too large: check the number."
            else:
                spend = amount

    texts: dict[str, str] = {}
    for input_id, label in ((BLOCKERS_INPUT, "blockers"), (NOTES_INPUT, "notes")):
        cleaned = clean_text(_raw(values, input_id))
        if len(cleaned) > MAX_TEXT:
            errors[input_id] = f"Keep {label} under {MAX_TEXT:,} characters (now {len(cleaned):,})."
        texts[input_id] = cleaned

    period = _raw(values, PERIOD_FIELD).strip()
    if not PERIOD_RE.match(period):
        errors[PERIOD_FIELD] = "This card names no valid month: open the latest check-in card and try again."
    elif period < period_of(pilot.start_date):
        started = period_of(pilot.start_date)
        errors[PERIOD_FIELD] = f"This pilot started in {started}: there is no check-in for {period}."

    if errors or status is None:
        raise ValidationFailed(errors)
    return ReadingDraft(
        period=period,
        values=readings,
        status=status,
        active_users=active_users,
        spend=spend,
        blockers=texts[BLOCKERS_INPUT],
        notes=texts[NOTES_INPUT],
    )
