"""Rules: what a valid pilot and reading look like, calendars, progress, and forgiving name matching.

Every check reports problems by field (camelCase paths as in the REST API, e.g. ``metrics[0].target``) so the
edges can show each problem next to its input.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from governance.calendars import is_valid_country
from governance.errors import ValidationFailed
from governance.lead import lead_problems
from governance.model import (
    GOVERNANCE_ITEMS,
    ChannelLink,
    CheckinRecipient,
    Direction,
    HealthStatus,
    Integration,
    Metric,
    Person,
    ScalePlan,
    Workflow,
    WorkSurface,
)
from governance.period import Period

GATE_DAYS = 90
MAX_NAME = 80
MAX_METRICS = 5
MAX_TEXT = 2000
MAX_SHORT_TEXT = 60
MAX_SYSTEM = 100  # the workflow's system, e.g. "ServiceNow ITSM (EMEA instance)"
MAX_EMAIL = 254
MAX_MONEY = 1e12
MAX_USERS = 10_000_000
METRIC_VALUE_BOUND = 1e12
# Dates a pilot can have at all (checked before any date arithmetic, which overflows near year 9999); today's
# window is checked on top of this.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)
COUNTRY_PROBLEM = "Use a two-letter ISO country code with public holidays, such as US, GB, DE or FR."
MAX_PERIODS_AHEAD = 1  # a reading may be for the month in progress or the next one, no later


@dataclass(frozen=True, slots=True)
class PilotDraft:
    """A pilot as asked for, before it has an id: already typed, not yet checked."""

    name: str
    sponsor: Person
    metrics: tuple[Metric, ...]
    start_date: date | None  # None: not given (a draft starts on the day it is registered; a pilot must say)
    gate_date: date | None = None
    checkin_day: int = 1
    timezone: str = "UTC"
    budget_monthly: float | None = None
    intended_users: int | None = None
    scale_plan: ScalePlan = field(default_factory=ScalePlan)
    governance: dict[str, bool] = field(default_factory=dict)
    channel: ChannelLink | None = None
    workflow: Workflow | None = None
    sponsor_email: str = ""  # a draft's sponsor by email that matched nobody known (sponsor id then empty)
    lead: Person | None = None
    checkin_recipient: CheckinRecipient = CheckinRecipient.SPONSOR
    country: str | None = None  # ISO 3166-1 alpha-2, upper case (governance.calendars.normalize_country)


@dataclass(frozen=True, slots=True)
class ReadingDraft:
    period: Period
    values: dict[str, float]
    status: HealthStatus
    active_users: int | None = None
    spend: float | None = None
    blockers: str = ""
    notes: str = ""


def default_gate_date(start: date) -> date:
    return start + timedelta(days=GATE_DAYS)


def clean_text(value: str) -> str:
    """Collapse whitespace and drop control characters; text is stored and shown as plain text."""
    cleaned = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C" or ch in "\n\t")
    return re.sub(r"[ \t]+", " ", cleaned).strip()


@functools.lru_cache(maxsize=65_536)
def name_key(name: str) -> str:
    """The form names are compared in: case-, accent- and spacing-insensitive (remembered: lists sort by it)."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", plain).strip().casefold()


def is_valid_timezone(tz: str) -> bool:
    """An IANA zone a person would name: ``UTC`` or ``Area/Location``; not tzdata's aliases ``localtime``,
    ``Factory`` or ``posixrules``, nor its ``posix/`` and ``right/`` copies."""
    if not tz or tz not in _TIMEZONES:
        return False
    if tz != "UTC" and ("/" not in tz or tz.startswith(("posix/", "right/"))):
        return False
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_TIMEZONES = frozenset(available_timezones()) | {"UTC"}


def validate_metric(metric: Metric, prefix: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not metric.name:
        errors[f"{prefix}.name"] = "Give the metric a name, e.g. 'Handling time'."
    elif len(metric.name) > MAX_SHORT_TEXT:
        errors[f"{prefix}.name"] = f"Keep the metric name under {MAX_SHORT_TEXT} characters."
    if len(metric.unit) > 20:
        errors[f"{prefix}.unit"] = "Keep the unit under 20 characters."
    for key, value in (("baseline", metric.baseline), ("target", metric.target)):
        if not math.isfinite(value) or abs(value) > METRIC_VALUE_BOUND:
            errors[f"{prefix}.{key}"] = "Enter an ordinary number."
    if f"{prefix}.target" not in errors and f"{prefix}.baseline" not in errors:
        if metric.target == metric.baseline:
            errors[f"{prefix}.target"] = "The target must differ from the baseline."
        elif metric.direction is Direction.INCREASE and metric.target < metric.baseline:
            errors[f"{prefix}.direction"] = "The target is below the baseline: choose 'decrease' or raise the target."
        elif metric.direction is Direction.DECREASE and metric.target > metric.baseline:
            errors[f"{prefix}.direction"] = "The target is above the baseline: choose 'increase' or lower the target."
    return errors


EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL and EMAIL_PATTERN.match(value) is not None


def validate_workflow(workflow: Workflow | None) -> dict[str, str]:
    if workflow is None:
        return {}
    errors: dict[str, str] = {}
    if len(workflow.system) > MAX_SYSTEM:
        errors["workflow.system"] = f"Keep the system's name under {MAX_SYSTEM} characters."
    if workflow.surface is WorkSurface.STANDALONE and workflow.integrated is not Integration.NO:
        errors["workflow.integrated"] = "A standalone tool is not integrated: choose 'no', or where its users work."
    return errors


def validate_pilot(draft: PilotDraft, today: date | None = None, *, complete: bool = True) -> None:
    """Raise ValidationFailed naming every field that breaks a rule.

    ``complete=False`` checks a draft initiative (Stage.DRAFT): a name and a sponsor (by Entra id, or an email
    nobody matched yet) are enough; whatever else it has must still be valid."""
    errors: dict[str, str] = {}
    if not draft.name:
        errors["name"] = "Give the pilot a name."
    elif len(draft.name) > MAX_NAME:
        errors["name"] = f"Keep the name under {MAX_NAME} characters."
    if draft.sponsor_email and not is_email(draft.sponsor_email):
        errors["sponsor"] = "This is not an email address."
    elif not draft.sponsor.aad_object_id and (complete or not draft.sponsor_email):
        errors["sponsor"] = "Every pilot needs an executive sponsor."
    errors.update(lead_problems(draft.sponsor, draft.lead, draft.checkin_recipient))
    if not draft.metrics and complete:
        errors["metrics"] = "Add at least one success metric."
    elif len(draft.metrics) > MAX_METRICS:
        errors["metrics"] = f"Track at most {MAX_METRICS} metrics."
    seen: set[str] = set()
    for i, metric in enumerate(draft.metrics):
        errors.update(validate_metric(metric, f"metrics[{i}]"))
        key = name_key(metric.name)
        if key and key in seen:
            errors[f"metrics[{i}].name"] = "Two metrics have this name."
        seen.add(key)
    if draft.start_date is None:
        errors["startDate"] = "Give the start date."
        raise ValidationFailed(errors)
    if not (EARLIEST_DATE <= draft.start_date <= LATEST_DATE) or (
        draft.gate_date is not None and not (EARLIEST_DATE <= draft.gate_date <= LATEST_DATE)
    ):
        errors["gateDate" if EARLIEST_DATE <= draft.start_date <= LATEST_DATE else "startDate"] = (
            f"Use a date between {EARLIEST_DATE} and {LATEST_DATE}."
        )
        raise ValidationFailed(errors)
    gate = draft.gate_date or default_gate_date(draft.start_date)
    if gate <= draft.start_date:
        errors["gateDate"] = "The gate date must be after the start date."
    elif (gate - draft.start_date).days > 730:
        errors["gateDate"] = "The gate must be within two years of the start."
    if today is not None and draft.start_date < today - timedelta(days=3650):
        errors["startDate"] = "The start date is too far in the past."
    if today is not None and draft.start_date > today + timedelta(days=730):
        errors["startDate"] = "The start date is more than two years ahead."
    if not 1 <= draft.checkin_day <= 28:
        errors["checkinDay"] = "Pick a day from 1 to 28 (1 = first business day of the month)."
    if not is_valid_timezone(draft.timezone):
        errors["timezone"] = "Use an IANA time zone such as Europe/Berlin or America/New_York."
    if draft.country is not None and not is_valid_country(draft.country):
        errors["country"] = COUNTRY_PROBLEM
    if draft.budget_monthly is not None and not (0 <= draft.budget_monthly <= MAX_MONEY):
        errors["budgetMonthly"] = "The monthly budget must be zero or more."
    if draft.intended_users is not None and not (1 <= draft.intended_users <= MAX_USERS):
        errors["intendedUsers"] = "Intended users must be at least 1."
    for key, text in (("scalePlan.expand", draft.scale_plan.expand), ("scalePlan.retire", draft.scale_plan.retire)):
        if len(text) > MAX_TEXT:
            errors[key] = f"Keep this under {MAX_TEXT} characters."
    unknown = sorted(set(draft.governance) - set(GOVERNANCE_ITEMS))
    if unknown:
        errors["governance"] = f"Unknown checklist item {unknown[0]!r}; known: {', '.join(GOVERNANCE_ITEMS)}."
    errors.update(validate_workflow(draft.workflow))
    if errors:
        raise ValidationFailed(errors)


def validate_reading(draft: ReadingDraft, metrics: Iterable[Metric], start_date: date, today: date) -> None:
    """A reading for a month of the pilot's life (its start month up to next month) with known metrics."""
    errors: dict[str, str] = {}
    started = Period.of(start_date)
    if draft.period < started:
        errors["period"] = f"This pilot started in {started}: there is no check-in for {draft.period}."
    elif draft.period.months_since(Period.of(today)) > MAX_PERIODS_AHEAD:
        errors["period"] = f"{draft.period} is too far ahead: readings are for months that have begun."
    names = {m.name for m in metrics}
    for name, value in draft.values.items():
        if name not in names:
            errors[f"values.{name}"] = "This pilot has no metric with that name."
        elif not math.isfinite(value) or abs(value) > METRIC_VALUE_BOUND:
            errors[f"values.{name}"] = "Enter an ordinary number."
    if not draft.values:
        errors["values"] = "Give a value for at least one metric."
    if draft.active_users is not None and not (0 <= draft.active_users <= MAX_USERS):
        errors["activeUsers"] = "Active users must be zero or more."
    if draft.spend is not None and not (0 <= draft.spend <= MAX_MONEY):
        errors["spend"] = "Spend must be zero or more."
    if len(draft.blockers) > MAX_TEXT:
        errors["blockers"] = f"Keep blockers under {MAX_TEXT} characters."
    if len(draft.notes) > MAX_TEXT:
        errors["notes"] = f"Keep notes under {MAX_TEXT} characters."
    if errors:
        raise ValidationFailed(errors)


def progress(metric: Metric, value: float) -> float:
    """Share of the way from baseline to target (0 = baseline, 1 = target reached); can go below 0 or above 1."""
    span = metric.target - metric.baseline
    return (value - metric.baseline) / span if span else 0.0


def target_met(metric: Metric, value: float) -> bool:
    if metric.direction is Direction.INCREASE:
        return value >= metric.target
    return value <= metric.target


LOW_ADOPTION_SHARE = 0.5  # fewer active users than half the intended ones: the "hero use case only" failure mode


def low_adoption(active_users: int | None, intended_users: int | None) -> bool:
    """Fewer active users than ``LOW_ADOPTION_SHARE`` of the intended ones; False when either number is unknown."""
    if active_users is None or not intended_users:
        return False
    return active_users < LOW_ADOPTION_SHARE * intended_users


TYPO_CUTOFF = 0.75  # difflib similarity from which a name counts as the one meant, mistyped


@dataclass(frozen=True, slots=True)
class NameMatch:
    exact: str | None
    candidates: tuple[str, ...]


def match_names(query: str, names: Iterable[str]) -> NameMatch:
    """Forgiving lookup: exact (ignoring case/accents/spaces), then prefix/substring, then close typos."""
    wanted = name_key(query)
    by_key = _by_key(names)
    if wanted in by_key:
        return NameMatch(by_key[wanted], ())
    partial = tuple(name for key, name in by_key.items() if wanted and wanted in key)
    if len(partial) == 1:
        return NameMatch(partial[0], ())
    if partial:
        return NameMatch(None, tuple(sorted(partial, key=_shortest)))
    close = difflib.get_close_matches(wanted, list(by_key), n=5, cutoff=TYPO_CUTOFF)
    if len(close) == 1:
        return NameMatch(by_key[close[0]], ())
    return NameMatch(None, tuple(by_key[key] for key in close))


def search_names(query: str, names: Iterable[str], limit: int) -> tuple[str, ...]:
    """Every name ``match_names`` would offer for ``query``, best first, at most ``limit``: the exact one, then those
    that contain it (shortest first), or, when none does, the close typos. For a search list, not one answer."""
    if limit < 1:
        return ()
    wanted = name_key(query)
    by_key = _by_key(names)
    found = [by_key[wanted]] if wanted in by_key else []
    found += sorted((name for key, name in by_key.items() if wanted and wanted in key and key != wanted), key=_shortest)
    if not found:
        found = [by_key[key] for key in difflib.get_close_matches(wanted, list(by_key), n=limit, cutoff=TYPO_CUTOFF)]
    return tuple(found[:limit])


def _by_key(names: Iterable[str]) -> dict[str, str]:
    """Names by their compared form (the first name wins when two compare equal)."""
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(name_key(name), name)
    return by_key


def _shortest(name: str) -> tuple[int, str, str]:
    """Shortest first (the closest to what was typed), then alphabetical as names are compared."""
    return len(name), name_key(name), name


def suggestions(query: str, names: Iterable[str], limit: int = 3) -> tuple[str, ...]:
    by_key = {name_key(n): n for n in names}
    close = difflib.get_close_matches(name_key(query), list(by_key), n=limit, cutoff=0.4)
    return tuple(by_key[key] for key in close)
