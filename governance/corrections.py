"""Correcting a past reading: which months can still be corrected.

The sponsor, the lead or an admin (``governance.lead.may_answer_checkin``) may correct any of the last
``CORRECTION_MONTHS`` months before the current one in the pilot's time zone, from its start month on; a month
without a reading (a missed check-in) can be filled in the same way. The correction goes through the check-in's own
validation (``governance.rules.validate_reading``); the reading keeps who first submitted it and records who
corrected it and when, and the audit trail keeps the values before and after.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from governance.model import Pilot
from governance.period import Period

CORRECTION_MONTHS: Final = 3


def correctable_periods(pilot: Pilot, today: date) -> tuple[Period, ...]:
    """The months that can be corrected on ``today`` (the pilot's local date), latest first; none for a draft, which
    has no metric to read yet."""
    if pilot.is_draft:
        return ()
    started = Period.of(pilot.start_date)
    out: list[Period] = []
    period = Period.of(today)
    for _ in range(CORRECTION_MONTHS):
        period = period.previous
        if period < started:
            break
        out.append(period)
    return tuple(out)


def correction_problem(pilot: Pilot, period: Period, today: date) -> str | None:
    """Why ``period`` cannot be corrected on ``today``, or None when it can."""
    if period in correctable_periods(pilot, today):
        return None
    if pilot.is_draft:
        return "This initiative is still a draft: it has no readings to correct."
    if period < Period.of(pilot.start_date):
        return f"This pilot started in {Period.of(pilot.start_date)}: there is no reading for {period} to correct."
    if period >= Period.of(today):
        return f"{period} has not ended yet: answer its check-in when it comes."
    return f"Only the last {CORRECTION_MONTHS} months can be corrected; {period} is older."
