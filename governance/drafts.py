"""When a draft initiative's sponsor is asked for the rest: once a week, on business days, until it is complete.

The first card goes out at the first 09:00 (the draft's time zone) on a business day at or after it was registered,
then one a week: on the week's first business day at 09:00, or later that week if the sweep could not send it then.
Each week's card is one send-log entry (``draft_log_key``), so however often the sweep runs, a sponsor gets at most
one a week. A draft whose sponsor is only an email nobody matched gets none: an admin resolves the sponsor first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from governance.localtime import is_business_day, local_date, local_send_time, next_business_day, working_day
from governance.model import Pilot
from governance.rules import is_valid_timezone

DRAFT_LOG_PREFIX = "draft"


def draft_log_key(week_of: date) -> str:
    """``draft:2026-W49``: the send-log key of the nudge for the ISO week of ``week_of``."""
    year, week, _ = week_of.isocalendar()
    return f"{DRAFT_LOG_PREFIX}:{year}-W{week:02d}"


@dataclass(frozen=True, slots=True)
class DraftNudge:
    due_key: str | None  # the send-log key of the nudge due now, if one is
    next_at: datetime | None  # when the next one is due (None: never, e.g. not a draft)


def draft_nudge(pilot: Pilot, now: datetime) -> DraftNudge:
    if not pilot.is_draft or not pilot.sponsor.aad_object_id:
        return DraftNudge(None, None)
    zone = pilot.timezone if is_valid_timezone(pilot.timezone) else "UTC"
    registered = local_date(pilot.created_at or now, zone)
    today = working_day(now, zone)  # the local day whose 09:00 has come
    if today >= registered and is_business_day(today):
        monday = today - timedelta(days=today.weekday())
        return DraftNudge(draft_log_key(today), local_send_time(next_business_day(monday + timedelta(days=7)), zone))
    first = next_business_day(max(registered, today + timedelta(days=1)))
    return DraftNudge(None, local_send_time(first, zone))
