"""The monthly check-in: when each period's card is sent, which one is due, when it is late, which nudge is due.

This is the one home of those rules: the scheduler, ``overdue``, the status and gate cards and the REST API all read
``CheckinState``.

The check-in for period P (the month just ended) is sent in month P+1 on the pilot's check-in day
(``localtime.checkin_date``) at 09:00 local time in the pilot's time zone. A period is due from that moment until the
next period's card goes out. Nudges count business days from the day the card went out (the scheduled day, or the
day it really went out when that was later): a reminder to the sponsor after 3, and after 7 the check-in is
overdue and the project channel hears of it.

Business days skip weekends and the public holidays of the pilot's country (``Pilot.holiday_country``, see
governance.calendars): the check-in day moves to the next business day, and the nudges count business days only.

Instead of answering, the sponsor may be away or skip the month (a ``CheckinHold`` on the pilot). Away: the reminder
comes at 09:00 local on the day they named instead of after 3 business days, and the escalation 4 business days
after that day. Skipped: the month asks nothing more, is not late, and counts as skipped in "check-ins answered".
A reading that arrives anyway wins: the month is answered.

Check-ins start with the first check-in day after the pilot was registered (no backlog of cards for a pilot
registered late). A retired pilot: ``Stage.RETIRED`` alone stops every check-in. When the caller passes
``retired_on`` (the retirement date of a retire decision), check-ins whose send day is on or before that date are
still sent, so a pilot that retires at the end of next month reports until then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Final, Literal

from governance.lead import SPONSOR, Audience
from governance.localtime import KEPT_ANSWERS, add_business_days, checkin_date, local_date, local_send_time
from governance.model import CheckinHold, Pilot, Stage
from governance.period import Period, month_name

REMINDER_BUSINESS_DAYS: Final = 3
ESCALATION_BUSINESS_DAYS: Final = 7

Nudge = Literal["reminder", "escalation"]
REMINDER: Final[Nudge] = "reminder"
ESCALATION: Final[Nudge] = "escalation"


# --- when a check-in is sent --------------------------------------------------------------------------------------
def checkin_send_date(pilot: Pilot, period: Period) -> date:
    """The local day the check-in for ``period`` is sent: the pilot's check-in day in the month after it."""
    return _send_date(period, pilot.checkin_day, pilot.holiday_country)


def checkin_due_at(pilot: Pilot, period: Period) -> datetime:
    """When the check-in for ``period`` is sent: 09:00 local on its send day, in UTC."""
    return _due_at(period, pilot.checkin_day, pilot.holiday_country, pilot.timezone)


# Pure, and asked the same few questions for every pilot of a tenant (`pilots`, `overdue`): answers are kept.
@lru_cache(maxsize=KEPT_ANSWERS)
def _send_date(period: Period, checkin_day: int, country: str | None) -> date:
    following = period.next
    return checkin_date(following.year, following.month, checkin_day, country)


@lru_cache(maxsize=KEPT_ANSWERS)
def _due_at(period: Period, checkin_day: int, country: str | None, timezone: str) -> datetime:
    return local_send_time(_send_date(period, checkin_day, country), timezone)


def is_checkin_period(pilot: Pilot, period: Period, *, retired_on: date | None = None) -> bool:
    """Whether the pilot gets a check-in for ``period`` at all (see the module note on retirement)."""
    if period < Period.of(pilot.start_date):
        return False
    if pilot.created_at is not None and checkin_due_at(pilot, period) < pilot.created_at:
        return False  # sent before the pilot was registered: no backlog burst
    if pilot.stage.is_active:
        return True
    if pilot.stage is Stage.RETIRED and retired_on is not None:
        return checkin_send_date(pilot, period) <= retired_on
    return False


def _latest_sent_period(pilot: Pilot, now: datetime) -> Period:
    """The latest period whose send time is at or before ``now``, ignoring whether the pilot takes part."""
    return _latest_sent(now, pilot.checkin_day, pilot.holiday_country, pilot.timezone)


@lru_cache(maxsize=KEPT_ANSWERS)
def _latest_sent(now: datetime, checkin_day: int, country: str | None, timezone: str) -> Period:
    candidate = Period.of(local_date(now, timezone)).previous
    # A weekend shift can push a send day into the next month (28 Feb on a Saturday -> 2 March): look back further.
    for _ in range(3):
        if _due_at(candidate, checkin_day, country, timezone) <= now:
            return candidate
        candidate = candidate.previous
    return candidate


def due_checkin_period(pilot: Pilot, now: datetime, *, retired_on: date | None = None) -> Period | None:
    """The period whose check-in is due at ``now``: the latest one sent at or before ``now``, if the pilot gets it.

    Earlier periods are never returned: once the next card has gone out, the older one is no longer "due".
    """
    period = _latest_sent_period(pilot, now)
    return period if is_checkin_period(pilot, period, retired_on=retired_on) else None


def next_checkin(pilot: Pilot, now: datetime, *, retired_on: date | None = None) -> tuple[Period, datetime] | None:
    """The first period whose check-in is sent strictly after ``now``, and when; None if no more will be sent."""
    if not (pilot.stage.is_active or (pilot.stage is Stage.RETIRED and retired_on is not None)):
        return None
    period = max(_latest_sent_period(pilot, now).next, Period.of(pilot.start_date))
    due = checkin_due_at(pilot, period)
    while due <= now:  # only when a weekend shift made two sends swap places; bounded by a couple of steps
        period = period.next
        due = checkin_due_at(pilot, period)
    if not is_checkin_period(pilot, period, retired_on=retired_on):
        return None
    return period, due


def next_checkin_at(pilot: Pilot, now: datetime, *, retired_on: date | None = None) -> datetime | None:
    """When the next check-in after ``now`` is sent (UTC), for the scheduler's stored next-due time."""
    found = next_checkin(pilot, now, retired_on=retired_on)
    return found[1] if found else None


# --- nudges -------------------------------------------------------------------------------------------------------
def sent_on(pilot: Pilot, period: Period, sent_at: datetime | None = None) -> date:
    """The local day the card counts as sent: the scheduled day, or the day it really went out if that was later."""
    scheduled = checkin_send_date(pilot, period)
    if sent_at is None:
        return scheduled
    return max(scheduled, local_date(sent_at, pilot.timezone))


def remind_on(pilot: Pilot, period: Period) -> date | None:
    """The day the sponsor asked to be reminded of ``period``'s check-in (away), if they did."""
    hold = pilot.hold_for(period)
    return hold.remind_on if hold is not None and not hold.skipped else None


def reminder_due_at(pilot: Pilot, period: Period, sent_at: datetime | None = None) -> datetime:
    """3 business days after the check-in's send day, 09:00 local: one reminder to the sponsor; or 09:00 on the
    day they asked to be reminded on."""
    asked = remind_on(pilot, period)
    if asked is not None:
        return local_send_time(asked, pilot.timezone)
    day = add_business_days(sent_on(pilot, period, sent_at), REMINDER_BUSINESS_DAYS, pilot.holiday_country)
    return local_send_time(day, pilot.timezone)


def escalation_due_at(pilot: Pilot, period: Period, sent_at: datetime | None = None) -> datetime:
    """7 business days after the check-in's send day, 09:00 local: overdue, and a post in the project channel. After
    an away reminder, the same 4 business days later than that reminder."""
    asked = remind_on(pilot, period)
    if asked is not None:
        gap = ESCALATION_BUSINESS_DAYS - REMINDER_BUSINESS_DAYS
        return local_send_time(add_business_days(asked, gap, pilot.holiday_country), pilot.timezone)
    day = add_business_days(sent_on(pilot, period, sent_at), ESCALATION_BUSINESS_DAYS, pilot.holiday_country)
    return local_send_time(day, pilot.timezone)


def due_nudges(pilot: Pilot, period: Period, now: datetime, sent_at: datetime | None = None) -> tuple[Nudge, ...]:
    """The nudges whose time has come for an unanswered check-in, reminder first; the send-log keeps each once."""
    out: list[Nudge] = []
    if reminder_due_at(pilot, period, sent_at) <= now:
        out.append(REMINDER)
    if escalation_due_at(pilot, period, sent_at) <= now:
        out.append(ESCALATION)
    return tuple(out)


def next_nudge_at(pilot: Pilot, period: Period, now: datetime, sent_at: datetime | None = None) -> datetime | None:
    """The next nudge time after ``now`` for an unanswered check-in, or None when both are past."""
    times = (reminder_due_at(pilot, period, sent_at), escalation_due_at(pilot, period, sent_at))
    later = [moment for moment in times if moment > now]
    return min(later) if later else None


# --- away and skip -----------------------------------------------------------------------------------------------
def away_problem(pilot: Pilot, period: Period, day: date, now: datetime) -> str | None:
    """Why the sponsor cannot be reminded of ``period``'s check-in on ``day``, or None: the check-in must be the
    one due now, and the day after today and within the month the card went out."""
    if due_checkin_period(pilot, now) != period:
        return f"The {_month(period)} check-in is not the one due now, so there is nothing to postpone."
    today = local_date(now, pilot.timezone)
    month = period.next
    if day <= today:
        return "Pick a day after today."
    if Period.of(day) != month:
        return f"Pick a day in {_month(month)}, the month this check-in is answered in."
    return None


def skip_problem(pilot: Pilot, period: Period, now: datetime) -> str | None:
    """Why ``period`` cannot be skipped, or None: it must be a month the pilot reports on that has begun (a sponsor
    may skip the month in progress before its card comes, e.g. before going on leave)."""
    if not is_checkin_period(pilot, period) or period > Period.of(local_date(now, pilot.timezone)):
        return f"There is no {_month(period)} check-in to skip."
    return None


def _month(period: Period) -> str:
    return month_name(period)


# --- the state everyone reads -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CheckinState:
    """Where a pilot's monthly check-in stands at ``now``."""

    pilot: Pilot
    now: datetime
    period: Period | None  # the period whose check-in is due now; None when none is
    answered: bool  # a reading for ``period`` is in
    sent_at: datetime | None  # when the card really went out, if known

    @property
    def hold(self) -> CheckinHold | None:
        return self.pilot.hold_for(self.period) if self.period is not None else None

    @property
    def skipped(self) -> bool:
        """The sponsor skipped the due month (and no reading came in anyway)."""
        return not self.answered and self.hold is not None and self.hold.skipped

    @property
    def skip_reason(self) -> str:
        return self.hold.reason if self.skipped and self.hold is not None else ""

    @property
    def remind_on(self) -> date | None:
        """The day the sponsor asked to be reminded of the open check-in (away), if they did."""
        return remind_on(self.pilot, self.period) if self.open and self.period is not None else None

    @property
    def open(self) -> bool:
        """Due, not answered and not skipped."""
        return self.period is not None and not self.answered and not self.skipped

    @property
    def sent_on(self) -> date | None:
        return sent_on(self.pilot, self.period, self.sent_at) if self.period is not None else None

    @property
    def overdue_since(self) -> datetime | None:
        """When the open check-in became overdue (the 7th business day at 09:00), if it is."""
        if not self.open or self.period is None:
            return None
        since = escalation_due_at(self.pilot, self.period, self.sent_at)
        return since if since <= self.now else None

    @property
    def overdue_days(self) -> int:
        """Days since the overdue check-in was sent; 0 when it is not overdue."""
        if self.overdue_since is None or self.sent_on is None:
            return 0
        return max(1, (local_date(self.now, self.pilot.timezone) - self.sent_on).days)

    @property
    def due_nudges(self) -> tuple[Nudge, ...]:
        if not self.open or self.period is None:
            return ()
        return due_nudges(self.pilot, self.period, self.now, self.sent_at)

    @property
    def next_nudge_at(self) -> datetime | None:
        if not self.open or self.period is None:
            return None
        return next_nudge_at(self.pilot, self.period, self.now, self.sent_at)


def checkin_state(
    pilot: Pilot,
    now: datetime,
    answered_periods: Iterable[Period],
    *,
    sent_at: datetime | None = None,
    retired_on: date | None = None,
) -> CheckinState:
    """The check-in state from the periods that have a reading and, if known, when the due card really went out."""
    period = due_checkin_period(pilot, now, retired_on=retired_on)
    answered = period is not None and period in set(answered_periods)
    return CheckinState(pilot, now, period, answered, sent_at)


def checkins_answered(pilot: Pilot, answered_periods: Iterable[Period], now: datetime) -> tuple[int, int]:
    """(answered, asked): the check-ins sent so far (from the start month, after registration) and how many have a
    reading."""
    last = _latest_sent_period(pilot, now)
    first = Period.of(pilot.start_date)
    while first <= last and pilot.created_at is not None and checkin_due_at(pilot, first) < pilot.created_at:
        first = first.next
    if last < first:
        return 0, 0
    answered = len({p for p in answered_periods if first <= p <= last})
    return answered, last.months_since(first) + 1


def checkins_skipped(pilot: Pilot, answered_periods: Iterable[Period], now: datetime) -> tuple[CheckinHold, ...]:
    """The months skipped among the check-ins ``checkins_answered`` counts as asked (a month answered anyway is
    answered, not skipped), oldest first."""
    last = _latest_sent_period(pilot, now)
    answered = set(answered_periods)
    return tuple(
        hold
        for hold in sorted(pilot.checkin_holds, key=lambda h: h.period)
        if hold.skipped and hold.period <= last and hold.period not in answered
        if is_checkin_period(pilot, hold.period)
    )


def checkin_log_key(period: Period, audience: Audience = SPONSOR) -> str:
    """The send-log key of a period's check-in card to ``audience`` (no ``/``: Cosmos DB ids may not contain it).
    The sponsor's keeps the form it had before pilots had leads; the lead's card is logged on its own."""
    return f"checkin:{period}" if audience == SPONSOR else f"checkin:{period}:{audience}"


def is_checkin_log_key(key: str) -> bool:
    """Whether a send-log key is a check-in card's (``checkin_log_key``): the records a status reads."""
    return key.startswith("checkin:")


def nudge_log_key(nudge: Nudge, period: Period, audience: Audience = SPONSOR, remind_on: date | None = None) -> str:
    """A reminder someone asked for (away) has its own key, with its day: it is sent once even if the usual
    reminder went out before they asked, and once more if they ask again for another day."""
    key = f"{nudge}:{period}" if audience == SPONSOR else f"{nudge}:{period}:{audience}"
    return key if remind_on is None else f"{key}:{remind_on.isoformat()}"
