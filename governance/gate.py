"""The go/no-go gate: reminder milestones, where the metric and spend are heading, and the decision itself.

Pure functions of a pilot, its readings and the time; the scheduler, the cards and the service call them.

Milestones are keyed relative to the gate being decided (``t-30`` ... ``t-0``, then ``t+7``, ``t+14`` ... while no
decision is recorded). An extension or a narrowing moves the gate, and the keys start again for the new gate: a
send-log should key milestones with ``milestone_log_key(gate_date, key)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final, Literal

from governance.checkin import local_send_time, period_bounds
from governance.errors import GateAlreadyDecided, ValidationFailed
from governance.model import DecisionKind, GateDecision, MetricReading, Person, Pilot, Stage
from governance.rules import MAX_TEXT, clean_text, local_date, period_of

# --- milestones ---------------------------------------------------------------------------------------------------
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


def milestone_label(key: str) -> str:
    """How a milestone reads on a card: ``30 days to the gate``, ``Gate day``, ``2 weeks past the gate``."""
    offset = milestone_offset(key)
    if offset == 0:
        return "Gate day"
    if offset == -1:
        return "1 day to the gate"
    if offset < 0:
        return f"{-offset} days to the gate"
    if offset % 7:
        return f"{offset} days past the gate"
    weeks = offset // 7
    return f"{weeks} week{'s' if weeks != 1 else ''} past the gate"


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
    today = local_date(now, pilot.timezone)
    if now < milestone_due_at(pilot, today):
        today -= timedelta(days=1)
    return due_milestone(pilot, decided, today, gate_set_on=gate_set_on)


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


# --- projection ---------------------------------------------------------------------------------------------------
Confidence = Literal["none", "low", "medium", "high"]
_LOWER: Final[dict[Confidence, Confidence]] = {"none": "none", "low": "low", "medium": "low", "high": "medium"}
POOR_FIT_R2: Final = 0.5


@dataclass(frozen=True, slots=True)
class Projection:
    """Where a linear trend puts a metric on the gate date, and how far to trust it."""

    value: float | None
    confidence: Confidence
    basis: str
    readings: int = 0
    r_squared: float | None = None


def period_midpoint(period: str) -> float:
    """The middle of a month as a day number (proleptic ordinal), e.g. 16 April 00:00 for ``2026-04``."""
    first, last = period_bounds(period)
    return first.toordinal() + (last.day / 2)


def _confidence_for(count: int) -> Confidence:
    if count <= 1:
        return "none"
    if count == 2:
        return "low"
    if count <= 4:
        return "medium"
    return "high"


def project_metric(trend: Sequence[tuple[str, float]], gate_date: date) -> Projection:
    """Least-squares line through the readings (at period midpoints), read off at the gate date.

    Confidence follows the number of readings (0-1 none, 2 low, 3-4 medium, 5+ high), one step lower when the
    line fits poorly (R² below 0.5). With fewer than two readings there is no projection.
    """
    points = sorted({period: value for period, value in trend}.items())
    count = len(points)
    if count == 0:
        return Projection(None, "none", "No readings yet: no trend to project.")
    if count == 1:
        return Projection(None, "none", f"One reading ({points[0][0]}): a trend needs at least two.", readings=1)
    xs = [period_midpoint(period) for period, _ in points]
    ys = [value for _, value in points]
    mean_x = sum(xs) / count
    mean_y = sum(ys) / count
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    residual = sum((y - (intercept + slope * x)) ** 2 for x, y in zip(xs, ys, strict=True))
    total = sum((y - mean_y) ** 2 for y in ys)
    r_squared = 1.0 if total == 0 else max(0.0, 1.0 - residual / total)
    value = intercept + slope * gate_date.toordinal()
    confidence = _confidence_for(count)
    span = f"{points[0][0]} to {points[-1][0]}"
    basis = f"Straight-line trend over {count} monthly readings ({span})"
    if r_squared < POOR_FIT_R2:
        confidence = _LOWER[confidence]
        basis += f"; the readings scatter around it (fit {r_squared:.2f})"
    else:
        basis += f", fit {r_squared:.2f}"
    return Projection(value, confidence, basis + ".", readings=count, r_squared=r_squared)


@dataclass(frozen=True, slots=True)
class SpendProjection:
    """Spend so far and, at the average monthly rate, by the gate; against the budget for the whole pilot."""

    spent: float
    months_reported: int
    monthly_average: float | None
    projected_total: float | None
    budget_total: float | None
    basis: str

    @property
    def over_budget(self) -> bool:
        return (
            self.projected_total is not None
            and self.budget_total is not None
            and (self.projected_total > self.budget_total)
        )


def months_between(first: date, end: date) -> float:
    """Calendar months covered by the days ``first`` (inclusive) to ``end`` (exclusive), partial months as
    fractions: 1 Jan to 1 Apr is 3.0, 16 Apr to 1 May is 0.5."""
    total = 0.0
    day = first
    while day < end:
        month_last = period_bounds(period_of(day))[1]
        stop = min(end, month_last + timedelta(days=1))
        total += (stop - day).days / month_last.day
        day = stop
    return total


def total_budget(budget_monthly: float | None, start_date: date, gate_date: date) -> float | None:
    """The monthly budget over the pilot's run, from its start up to the gate day, in calendar months."""
    if budget_monthly is None:
        return None
    return budget_monthly * months_between(start_date, gate_date)


def project_spend(
    readings: Sequence[MetricReading], budget_monthly: float | None, start_date: date, gate_date: date
) -> SpendProjection:
    """Reported spend plus the average monthly spend for the months from the last reported one to the gate."""
    by_period = {r.period: r.spend for r in readings if r.spend is not None}
    budget = total_budget(budget_monthly, start_date, gate_date)
    if not by_period:
        return SpendProjection(0.0, 0, None, None, budget, "No spend reported yet.")
    spent = sum(by_period.values())
    months = len(by_period)
    average = spent / months
    after_last = period_bounds(max(by_period))[1] + timedelta(days=1)
    remaining = months_between(max(after_last, start_date), gate_date)
    projected = spent + average * remaining
    basis = f"{months} month{'s' if months != 1 else ''} reported"
    if remaining:
        basis += f", then the average monthly spend until the gate ({gate_date.isoformat()})"
    return SpendProjection(spent, months, average, projected, budget, basis + ".")


def cost_drift(pilot: Pilot, reading: MetricReading, readings: Sequence[MetricReading]) -> str | None:
    """One line when ``reading`` spends more than the monthly budget, or the projection to the gate passes the
    total budget; None when spend is on track or there is no budget to compare with."""
    budget = pilot.budget_monthly
    if budget is None or reading.spend is None:
        return None
    if reading.spend > budget:
        over = reading.spend - budget
        share = f" (+{over / budget:.0%})" if budget > 0 else ""
        return (
            f"Spend for {reading.period} was {_money(reading.spend)}, over the monthly budget of "
            f"{_money(budget)} by {_money(over)}{share}."
        )
    merged = {r.period: r for r in readings}
    merged[reading.period] = reading
    projection = project_spend(tuple(merged.values()), budget, pilot.start_date, pilot.gate_date)
    if projection.over_budget and projection.projected_total is not None and projection.budget_total is not None:
        return (
            f"At the current rate spend reaches {_money(projection.projected_total)} by the gate "
            f"({pilot.gate_date.isoformat()}), over the total budget of {_money(projection.budget_total)}."
        )
    return None


def _money(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 0.005 or abs(value) >= 1000 else f"{value:,.2f}"


# --- decisions ----------------------------------------------------------------------------------------------------
RATIONALE: Final = "rationale"
EXPANSION_SCOPE: Final = "expansionScope"
EXPANSION_DATE: Final = "expansionDate"
CUT_SCOPE: Final = "cutScope"
NEW_GATE_DATE: Final = "newGateDate"
REASON: Final = "reason"
RETIREMENT_DATE: Final = "retirementDate"
ARCHIVED: Final = "archived"
ACCESS_REVOKED: Final = "accessRevoked"
LESSONS: Final = "lessons"
KIND_FIELD: Final = "kind"  # errors about the decision as a whole (which kind, a second extension)

# Decision field (camelCase, as in the REST API) -> the card input that holds it, per kind. Ids are unique across
# the four decision forms because all four sit in one card.
DECISION_INPUTS: Final[dict[DecisionKind, dict[str, str]]] = {
    DecisionKind.GO: {RATIONALE: "goRationale", EXPANSION_SCOPE: "goScope", EXPANSION_DATE: "goDate"},
    DecisionKind.NARROW: {RATIONALE: "narrowRationale", CUT_SCOPE: "narrowScope", NEW_GATE_DATE: "narrowGateDate"},
    DecisionKind.EXTEND: {RATIONALE: "extendRationale", NEW_GATE_DATE: "extendGateDate", REASON: "extendReason"},
    DecisionKind.RETIRE: {
        RATIONALE: "retireRationale",
        RETIREMENT_DATE: "retireDate",
        ARCHIVED: "retireArchived",
        ACCESS_REVOKED: "retireAccess",
        LESSONS: "retireLessons",
    },
}
# The decision-wide error key of each kind's form (shown at the top of that form).
DECISION_GENERAL_INPUT: Final[dict[DecisionKind, str]] = {kind: f"{kind.value}Decision" for kind in DecisionKind}
MAX_GATE_SPAN_DAYS: Final = 730  # as rules.validate_pilot: a gate within two years of the start
MAX_DATE_AHEAD_DAYS: Final = 730


@dataclass(frozen=True, slots=True)
class DecisionDraft:
    kind: DecisionKind
    rationale: str
    expansion_scope: str = ""
    expansion_date: date | None = None
    cut_scope: str = ""
    new_gate_date: date | None = None
    reason: str = ""
    retirement_date: date | None = None
    archived: str = ""
    access_revoked: str = ""
    lessons: str = ""


def decision_kind(raw: DecisionKind | str) -> DecisionKind:
    """The kind named by a card's data; ValidationFailed (key ``kind``) for anything else."""
    try:
        return DecisionKind(raw.strip().lower() if isinstance(raw, str) else raw)
    except ValueError:
        raise ValidationFailed({KIND_FIELD: "Choose one of the decisions: go, narrow, extend or retire."}) from None


def _parse_date(raw: str) -> date:
    return date.fromisoformat(raw.strip()[:10])


def parse_decision(values: Mapping[str, str], kind: DecisionKind | str) -> DecisionDraft:
    """A decision form's submission (strings keyed by input id) as a DecisionDraft.

    Checks what needs no clock (required fields, text length, date format); ``apply_decision`` checks the dates
    against today and the gate. Errors are keyed by input id.
    """
    chosen = decision_kind(kind)
    inputs = DECISION_INPUTS[chosen]
    errors: dict[str, str] = {}
    texts: dict[str, str] = {}
    dates: dict[str, date | None] = {}
    for field, input_id in inputs.items():
        raw = values.get(input_id)
        text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
        if field in (EXPANSION_DATE, NEW_GATE_DATE, RETIREMENT_DATE):
            dates[field] = None
            if text.strip():
                try:
                    dates[field] = _parse_date(text)
                except ValueError:
                    errors[input_id] = "Pick a date from the calendar (YYYY-MM-DD)."
        else:
            texts[field] = clean_text(text)
    draft = DecisionDraft(
        kind=chosen,
        rationale=texts.get(RATIONALE, ""),
        expansion_scope=texts.get(EXPANSION_SCOPE, ""),
        expansion_date=dates.get(EXPANSION_DATE),
        cut_scope=texts.get(CUT_SCOPE, ""),
        new_gate_date=dates.get(NEW_GATE_DATE),
        reason=texts.get(REASON, ""),
        retirement_date=dates.get(RETIREMENT_DATE),
        archived=texts.get(ARCHIVED, ""),
        access_revoked=texts.get(ACCESS_REVOKED, ""),
        lessons=texts.get(LESSONS, ""),
    )
    problems = {**_draft_problems(draft), **errors}  # a date that did not parse keeps its own message
    if problems:
        raise ValidationFailed(problems)
    return draft


def _draft_problems(draft: DecisionDraft) -> dict[str, str]:
    """Required fields and text lengths, keyed by input id."""
    inputs = DECISION_INPUTS[draft.kind]
    errors: dict[str, str] = {}
    if not draft.rationale:
        errors[inputs[RATIONALE]] = "Give a rationale: why this decision, in a sentence or two."
    required: dict[DecisionKind, dict[str, tuple[object, str]]] = {
        DecisionKind.GO: {
            EXPANSION_SCOPE: (draft.expansion_scope, "Say what expands, e.g. 'all AP clerks in EMEA'."),
            EXPANSION_DATE: (draft.expansion_date, "Pick the production follow-up date."),
        },
        DecisionKind.NARROW: {
            CUT_SCOPE: (draft.cut_scope, "Say what is cut from the pilot."),
            NEW_GATE_DATE: (draft.new_gate_date, "Pick the new gate date for the narrowed pilot."),
        },
        DecisionKind.EXTEND: {NEW_GATE_DATE: (draft.new_gate_date, "Pick the new gate date.")},
        DecisionKind.RETIRE: {RETIREMENT_DATE: (draft.retirement_date, "Pick the retirement date.")},
    }
    for field, (value, message) in required[draft.kind].items():
        if value is None or value == "":
            errors[inputs[field]] = message
    texts = {
        RATIONALE: draft.rationale,
        EXPANSION_SCOPE: draft.expansion_scope,
        CUT_SCOPE: draft.cut_scope,
        REASON: draft.reason,
        ARCHIVED: draft.archived,
        ACCESS_REVOKED: draft.access_revoked,
        LESSONS: draft.lessons,
    }
    for field, value in texts.items():
        if field in inputs and len(value) > MAX_TEXT:
            errors[inputs[field]] = f"Keep this under {MAX_TEXT:,} characters (now {len(value):,})."
    return errors


def _date_problems(
    pilot: Pilot, draft: DecisionDraft, actor_is_admin: bool, allow_more_extensions: bool, today: date
) -> dict[str, str]:
    inputs = DECISION_INPUTS[draft.kind]
    errors: dict[str, str] = {}
    latest = today + timedelta(days=MAX_DATE_AHEAD_DAYS)
    gate = pilot.gate_date
    if draft.kind is DecisionKind.GO and draft.expansion_date is not None:
        if draft.expansion_date < today:
            errors[inputs[EXPANSION_DATE]] = f"The follow-up date has passed: pick {today.isoformat()} or later."
        elif draft.expansion_date > latest:
            errors[inputs[EXPANSION_DATE]] = "Pick a follow-up date within two years."
    if draft.kind in (DecisionKind.EXTEND, DecisionKind.NARROW) and draft.new_gate_date is not None:
        new_gate = draft.new_gate_date
        key = inputs[NEW_GATE_DATE]
        if new_gate <= today:
            errors[key] = f"The new gate date must be after today ({today.isoformat()})."
        elif draft.kind is DecisionKind.EXTEND and new_gate <= gate:
            errors[key] = f"An extension moves the gate later: pick a date after {gate.isoformat()}."
        elif (new_gate - pilot.start_date).days > MAX_GATE_SPAN_DAYS:
            errors[key] = "The gate must stay within two years of the pilot's start."
    if draft.kind is DecisionKind.EXTEND and pilot.extensions >= 1 and not (actor_is_admin and allow_more_extensions):
        times = "once" if pilot.extensions == 1 else f"{pilot.extensions} times"
        errors[DECISION_GENERAL_INPUT[DecisionKind.EXTEND]] = (
            f"This pilot was already extended {times}. Another extension needs a governance admin: "
            "decide go, narrow or retire, or ask an admin."
        )
    if draft.kind is DecisionKind.RETIRE and draft.retirement_date is not None:
        key = inputs[RETIREMENT_DATE]
        if draft.retirement_date < today:
            errors[key] = f"The retirement date has passed: pick {today.isoformat()} or later."
        elif draft.retirement_date < gate:
            errors[key] = f"The retirement date can't be before the gate ({gate.isoformat()})."
        elif draft.retirement_date > latest:
            errors[key] = "Pick a retirement date within two years."
    return errors


def apply_decision(
    pilot: Pilot,
    draft: DecisionDraft,
    actor_is_admin: bool,
    allow_more_extensions: bool,
    today: date,
    decided_by: Person,
    now: datetime,
) -> tuple[Pilot, GateDecision]:
    """Check the decision against the pilot and today, and return the changed pilot and the decision record.

    ValidationFailed (keyed by input id) for bad input; GateAlreadyDecided when the pilot left the pilot stages.
    Whether the actor may decide at all (sponsor or admin) and whether this gate already has a stored decision
    are the service's checks.
    """
    if not pilot.stage.is_active:
        raise GateAlreadyDecided(f"{pilot.name} is no longer a pilot ({pilot.stage.value}): its gate was decided.")
    errors = {**_draft_problems(draft), **_date_problems(pilot, draft, actor_is_admin, allow_more_extensions, today)}
    if errors:
        raise ValidationFailed(errors)
    details: dict[str, str]
    new_gate: date | None = None
    effective: date | None = None
    if draft.kind is DecisionKind.GO:
        details = {EXPANSION_SCOPE: draft.expansion_scope}
        effective = draft.expansion_date
    elif draft.kind is DecisionKind.NARROW and draft.new_gate_date is not None:
        details = {CUT_SCOPE: draft.cut_scope}
        new_gate = draft.new_gate_date
    elif draft.kind is DecisionKind.EXTEND and draft.new_gate_date is not None:
        details = {REASON: draft.reason} if draft.reason else {}
        new_gate = draft.new_gate_date
    elif draft.kind is DecisionKind.RETIRE:
        pairs = ((ARCHIVED, draft.archived), (ACCESS_REVOKED, draft.access_revoked), (LESSONS, draft.lessons))
        details = {key: value for key, value in pairs if value}
        effective = draft.retirement_date
    else:  # unreachable: _draft_problems requires the new gate date of narrow and extend
        raise ValidationFailed({KIND_FIELD: "This decision is incomplete."})
    decision = GateDecision(
        pilot_id=pilot.id,
        tenant_id=pilot.tenant_id,
        gate_date=pilot.gate_date,
        kind=draft.kind,
        rationale=draft.rationale,
        decided_by=decided_by,
        decided_at=now,
        new_gate_date=new_gate,
        effective_date=effective,
        details=details,
    )
    return decision_effects(pilot, decision, now), decision


def decision_effects(pilot: Pilot, decision: GateDecision, now: datetime) -> Pilot:
    """The pilot as ``decision`` leaves it: go -> production; narrow/extend -> a new gate; retire -> retired."""
    if decision.kind is DecisionKind.GO:
        return dataclasses.replace(pilot, stage=Stage.PRODUCTION, updated_at=now)
    if decision.kind is DecisionKind.RETIRE:
        return dataclasses.replace(pilot, stage=Stage.RETIRED, updated_at=now)
    gate = decision.new_gate_date or pilot.gate_date
    if decision.kind is DecisionKind.NARROW:
        return dataclasses.replace(pilot, stage=Stage.NARROWED, gate_date=gate, updated_at=now)
    return dataclasses.replace(
        pilot, stage=Stage.EXTENDED, gate_date=gate, extensions=pilot.extensions + 1, updated_at=now
    )


def retirement_date(decisions: Sequence[GateDecision]) -> date | None:
    """The retirement date of the latest retire decision, for ``checkin.*(retired_on=...)``."""
    for decision in reversed(decisions):
        if decision.kind is DecisionKind.RETIRE:
            return decision.effective_date
    return None


def gate_set_on(pilot: Pilot, decisions: Sequence[GateDecision]) -> date | None:
    """The local day the current gate date was set by an extend/narrow decision (for ``due_milestone``)."""
    for decision in reversed(decisions):
        if decision.new_gate_date == pilot.gate_date:
            return local_date(decision.decided_at, pilot.timezone)
    return None


def is_decided(pilot: Pilot, decisions: Sequence[GateDecision]) -> bool:
    """Whether the pilot's current gate has a decision."""
    return any(decision.gate_date == pilot.gate_date for decision in decisions)


def checkins_answered(pilot: Pilot, readings: Sequence[MetricReading], due_through: str | None) -> tuple[int, int]:
    """(answered, due): check-in periods from the start month through ``due_through`` and how many have a reading."""
    if due_through is None:
        return 0, 0
    first = period_of(pilot.start_date)
    if due_through < first:
        return 0, 0
    due = (int(due_through[:4]) - int(first[:4])) * 12 + int(due_through[5:7]) - int(first[5:7]) + 1
    answered = len({r.period for r in readings if first <= r.period <= due_through})
    return answered, due
