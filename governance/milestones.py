"""Gate reminder milestones: 30, 14, 7 and 1 days before the gate, the gate day, then weekly while undecided.

Milestones are keyed relative to the gate being decided (``t-30`` ... ``t-0``, then ``t+7``, ``t+14`` ... while no
decision is recorded). An extension or a narrowing moves the gate, and the keys start again for the new gate: a
send-log keys milestones with ``milestone_log_key(gate_date, key)``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from governance.localtime import local_date, local_send_time, working_day
from governance.model import Pilot

BEFORE_GATE_DAYS: Final = (30, 14, 7, 1, 0)
PURGATORY_EVERY_DAYS: Final = 7
MILESTONE_WINDOW_DAYS: Final = 7  # a missed pre-gate milestone older than this is skipped, not sent late
DEFAULT_PURGATORY_WEEKS: Final = 12

Milestone = tuple[str, date]


def milestone_key(offset_days: int) -> str:
    """``-30`` -> ``t-30``, ``0`` -> ``t-0``, ``14`` -> ``t+14``."""
    return f"t+{offset_days}" if offset_days > 0 else f"t-{-offset_days}"


def milestone_offset(key: str) -> int:
    """The inverse of ``milestone_key``: days from the gate (negative before it)."""
    if not key.startswith(("t-", "t+")) or not key[2:].isdigit():
        raise ValueError(f"not a milestone key: {key!r}")
    days = int(key[2:])
    return days if key[1] == "+" else -days


def milestone_log_key(gate_date: date, key: str) -> str:
    """A send-log key that stays unique when an extension moves the gate: ``gate:2026-06-10:t-7``.

    No ``/``: Cosmos DB ids may not contain it."""
    return f"gate:{gate_date.isoformat()}:{key}"


def gate_milestones(gate_date: date, through: date | None = None) -> list[Milestone]:
    """Every milestone of a gate in date order: 30, 14, 7 and 1 days before, the day, then weekly after it.

    The weekly ones never end while the gate is undecided; this list stops at ``through`` (inclusive), by default
    twelve weeks after the gate.
    """
    last = through if through is not None else gate_date + timedelta(weeks=DEFAULT_PURGATORY_WEEKS)
    out = [(milestone_key(-days), gate_date - timedelta(days=days)) for days in BEFORE_GATE_DAYS]
    offset = PURGATORY_EVERY_DAYS
    while gate_date + timedelta(days=offset) <= last:
        out.append((milestone_key(offset), gate_date + timedelta(days=offset)))
        offset += PURGATORY_EVERY_DAYS
    return [(key, day) for key, day in out if day <= last]


def _latest_milestone(gate_date: date, today: date) -> Milestone | None:
    if today >= gate_date:
        weeks = (today - gate_date).days // PURGATORY_EVERY_DAYS
        offset = weeks * PURGATORY_EVERY_DAYS
        return milestone_key(offset), gate_date + timedelta(days=offset)
    passed = [(key, day) for key, day in gate_milestones(gate_date, gate_date) if day <= today]
    return passed[-1] if passed else None


def _first_eligible_day(pilot: Pilot, gate_set_on: date | None) -> date:
    floor = pilot.start_date
    if pilot.created_at is not None:
        floor = max(floor, local_date(pilot.created_at, pilot.timezone))
    if gate_set_on is not None:
        floor = max(floor, gate_set_on)
    return floor


def due_milestone(
    pilot: Pilot, decided: bool, today_local: date, *, gate_set_on: date | None = None
) -> Milestone | None:
    """The one milestone to post on ``today_local``, if any: the latest one on or before today.

    No burst: only the most recent milestone is ever due. A pre-gate one is skipped when it fell before the pilot
    was registered (or before ``gate_set_on``, the day an extension or narrowing set this gate) or more than a
    week ago. From the gate day on, a milestone is due regardless of registration: the decision is owed.
    A decided gate, or a pilot no longer in the pilot stages, has no milestones.
    """
    if decided or not pilot.stage.is_active:
        return None
    latest = _latest_milestone(pilot.gate_date, today_local)
    if latest is None:
        return None
    day = latest[1]
    if (today_local - day).days >= MILESTONE_WINDOW_DAYS:
        return None
    if day < pilot.gate_date and day < _first_eligible_day(pilot, gate_set_on):
        return None
    return latest


def milestone_due_at(pilot: Pilot, day: date) -> datetime:
    """When a milestone dated ``day`` is posted: 09:00 local time, in UTC."""
    return local_send_time(day, pilot.timezone)


def due_milestone_at(
    pilot: Pilot, decided: bool, now: datetime, *, gate_set_on: date | None = None
) -> Milestone | None:
    """``due_milestone`` for an instant: today's milestone counts only from 09:00 local time."""
    return due_milestone(pilot, decided, working_day(now, pilot.timezone), gate_set_on=gate_set_on)


def next_milestone(pilot: Pilot, decided: bool, now: datetime) -> tuple[str, datetime] | None:
    """The first milestone posted strictly after ``now`` and when (UTC); None once decided or out of the pilot."""
    if decided or not pilot.stage.is_active:
        return None
    gate = pilot.gate_date
    for key, day in gate_milestones(gate, gate):  # 30, 14, 7, 1 days before and the gate day
        if day >= pilot.start_date and milestone_due_at(pilot, day) > now:
            return key, milestone_due_at(pilot, day)
    # In purgatory: the next weekly one.
    days_past = (local_date(now, pilot.timezone) - gate).days
    offset = max(PURGATORY_EVERY_DAYS, days_past // PURGATORY_EVERY_DAYS * PURGATORY_EVERY_DAYS)
    while milestone_due_at(pilot, gate + timedelta(days=offset)) <= now:
        offset += PURGATORY_EVERY_DAYS
    return milestone_key(offset), milestone_due_at(pilot, gate + timedelta(days=offset))


def next_milestone_at(pilot: Pilot, decided: bool, now: datetime) -> datetime | None:
    found = next_milestone(pilot, decided, now)
    return found[1] if found else None
