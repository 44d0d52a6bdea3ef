"""Importing the governance office's list of initiatives: rows of text in, pilots and drafts created or updated.

A row names an initiative (``name``) and its sponsor (``sponsor``: an Entra object id, or an email matched to
someone the bot knows from a team roster), and any pilot field it has (``IMPORT_COLUMNS``). A row with a metric and
a start date is a pilot; one with less is a draft (Stage.DRAFT) whose sponsor is asked for the rest. A row whose
name (as ``rules.name_key`` compares names) matches an initiative of the tenant updates the fields it gives;
giving the same values again changes nothing, so re-running a file is harmless. Each bad row is reported with its
row number and the column at fault; the other rows go on. Cells are text: one that looks like a formula
(``=``, ``+``, ``-``, ``@``) is stored as typed where text is expected and refused where a number is, never
evaluated. The file's format (CSV, Excel) is read at the edge; this module sees rows of strings.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Final

from governance.errors import GovernanceError, ValidationFailed
from governance.model import (
    GOVERNANCE_ITEMS,
    Direction,
    Integration,
    Metric,
    Person,
    Pilot,
    ScalePlan,
    Stage,
    Workflow,
    WorkSurface,
)
from governance.ports import MemberRepository
from governance.rules import EARLIEST_DATE, LATEST_DATE, PilotDraft, clean_text, is_email, name_key, validate_pilot
from governance.services import Actor, PilotService, draft_of

MAX_ROWS: Final = 5000

# Column -> what it holds. Header names are matched ignoring case, spaces, underscores and hyphens.
IMPORT_COLUMNS: Final[dict[str, str]] = {
    "name": "the initiative's name (required; rows are matched to existing initiatives by it)",
    "sponsor": "the executive sponsor: Entra object id, or an email PilotGate knows from a team roster (required)",
    "sponsorName": "the sponsor's display name",
    "metric": "the success metric's name",
    "unit": "its unit, e.g. min or %",
    "baseline": "its value today",
    "target": "its target",
    "direction": "increase or decrease (default: from baseline and target)",
    "startDate": "YYYY-MM-DD",
    "gateDate": "YYYY-MM-DD (default: start + 90 days)",
    "checkinDay": "1-28 (1 = first business day)",
    "timezone": "IANA time zone, e.g. Europe/Berlin",
    "budgetMonthly": "monthly budget",
    "intendedUsers": "how many people should use it",
    "scaleExpand": "what expands if the metric hits target",
    "scaleRetire": "what retires if it misses",
    "workflowSurface": "m365, lob, itsm, crm or standalone",
    "workflowSystem": "which system, e.g. ServiceNow",
    "workflowIntegrated": "yes, partly or no",
    **{item: "governance checklist item: yes or no" for item in GOVERNANCE_ITEMS},
}
REQUIRED_COLUMNS: Final = ("name", "sponsor")
METRIC_COLUMNS: Final = ("metric", "unit", "baseline", "target", "direction")
# Domain field paths (governance.rules) -> the column a row's problem is reported under.
COLUMN_OF_FIELD: Final[dict[str, str]] = {
    "metrics": "metric",
    "metrics[0].name": "metric",
    "metrics[0].unit": "unit",
    "metrics[0].baseline": "baseline",
    "metrics[0].target": "target",
    "metrics[0].direction": "direction",
    "scalePlan.expand": "scaleExpand",
    "scalePlan.retire": "scaleRetire",
    "workflow.surface": "workflowSurface",
    "workflow.system": "workflowSystem",
    "workflow.integrated": "workflowIntegrated",
    "governance": GOVERNANCE_ITEMS[0],
}
_YES: Final = frozenset({"yes", "y", "true", "1", "done", "x"})
_NO: Final = frozenset({"no", "n", "false", "0", "not done", ""})
_OBJECT_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def column_key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header).casefold()


_COLUMN_BY_KEY: Final = {column_key(column): column for column in IMPORT_COLUMNS}


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class RowResult:
    row: int  # the spreadsheet's row number (the header is row 1)
    name: str
    outcome: Outcome
    stage: Stage | None = None
    pilot_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # column -> problem
    unresolved_sponsor: str = ""  # an email that matched nobody the bot knows


@dataclass(frozen=True, slots=True)
class ImportReport:
    rows: tuple[RowResult, ...]
    columns: tuple[str, ...]  # the recognised columns, as named in IMPORT_COLUMNS
    unknown_columns: tuple[str, ...]  # headers that are not import columns: reported, their cells not read
    dry_run: bool
    problems: dict[str, str] = field(default_factory=dict)  # whole-file problems (e.g. a required column missing)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.rows if result.outcome is outcome)

    @property
    def drafts(self) -> int:
        return sum(1 for result in self.rows if result.outcome is not Outcome.FAILED and result.stage is Stage.DRAFT)

    @property
    def unresolved(self) -> tuple[RowResult, ...]:
        return tuple(result for result in self.rows if result.unresolved_sponsor)


@dataclass(frozen=True, slots=True)
class _Row:
    """One row, read: the draft it asks for and the fields its cells gave (Pilot field names)."""

    draft: PilotDraft
    given: frozenset[str]
    complete: bool


class InitiativeImport:
    """Creates or updates one initiative per row through PilotService (every rule and the audit trail apply)."""

    def __init__(self, service: PilotService, members: MemberRepository) -> None:
        self._service = service
        self._members = members

    async def run(
        self,
        tenant_id: str,
        header: Sequence[str],
        rows: Iterable[tuple[int, Sequence[str]]],
        actor: Actor,
        *,
        dry_run: bool = False,
        progress: Callable[[RowResult], None] | None = None,
    ) -> ImportReport:
        columns: dict[int, str] = {}
        unknown: list[str] = []
        for index, raw in enumerate(header):
            column = _COLUMN_BY_KEY.get(column_key(raw))
            if column is None:
                if raw.strip():
                    unknown.append(raw.strip())
            elif column not in columns.values():
                columns[index] = column
            else:
                unknown.append(f"{raw.strip()} (a second {column} column)")
        missing = [column for column in REQUIRED_COLUMNS if column not in columns.values()]
        if missing:
            problems = {column: "The file needs this column." for column in missing}
            return ImportReport((), tuple(columns.values()), tuple(unknown), dry_run, problems)
        emails = {member.email: member for member in await self._members.list_for_tenant(tenant_id) if member.email}
        today = self._service.today()
        seen: dict[str, int] = {}
        results: list[RowResult] = []
        for number, cells in rows:
            values = {column: clean_text(cells[i]) if i < len(cells) else "" for i, column in columns.items()}
            if not any(values.values()):
                continue  # a blank line between blocks of rows: nothing asked
            result = await self._row(tenant_id, number, values, emails, seen, actor, today, dry_run)
            results.append(result)
            if progress is not None:
                progress(result)
        return ImportReport(tuple(results), tuple(columns.values()), tuple(unknown), dry_run)

    async def _row(
        self,
        tenant_id: str,
        number: int,
        values: dict[str, str],
        emails: Mapping[str, Any],
        seen: dict[str, int],
        actor: Actor,
        today: date,
        dry_run: bool,
    ) -> RowResult:
        name = values.get("name", "")
        errors: dict[str, str] = {}
        try:
            read = _read_row(values, emails, errors)
        except ValidationFailed as exc:
            return RowResult(number, name, Outcome.FAILED, errors=exc.fields)
        key = name_key(name)
        if key in seen:
            problem = f"Row {seen[key]} has the same name: each initiative once."
            return RowResult(number, name, Outcome.FAILED, errors={"name": problem})
        seen[key] = number
        unresolved = read.draft.sponsor_email
        stage = Stage.PILOT if read.complete else Stage.DRAFT
        try:
            existing = await self._service.by_name(tenant_id, name)
            if existing is None:
                if dry_run:  # the checks register would make (a draft without a start date starts today)
                    candidate = read.draft
                    if candidate.start_date is None:
                        candidate = dataclasses.replace(candidate, start_date=today)
                    validate_pilot(candidate, today=today, complete=read.complete)
                    return RowResult(number, name, Outcome.CREATED, stage, None, unresolved_sponsor=unresolved)
                pilot = await self._service.register(read.draft, tenant_id, actor, stage=stage)
                return RowResult(number, name, Outcome.CREATED, pilot.stage, pilot.id, unresolved_sponsor=unresolved)
            changes = _changes(existing, read)
            if not changes:
                return RowResult(
                    number, name, Outcome.UNCHANGED, existing.stage, existing.id, unresolved_sponsor=unresolved
                )
            if dry_run:
                would_be = dataclasses.replace(existing, **changes)
                validate_pilot(draft_of(would_be), today=today, complete=not would_be.is_draft)
                new_stage = would_be.stage
                return RowResult(number, name, Outcome.UPDATED, new_stage, existing.id, unresolved_sponsor=unresolved)
            pilot = await self._service.update(existing.id, changes, actor, tenant_id)
            return RowResult(number, name, Outcome.UPDATED, pilot.stage, pilot.id, unresolved_sponsor=unresolved)
        except ValidationFailed as exc:
            return RowResult(number, name, Outcome.FAILED, errors=_by_column(exc.fields))
        except GovernanceError as exc:  # e.g. the name was taken by another writer meanwhile
            return RowResult(number, name, Outcome.FAILED, errors={"name": exc.message})


def _by_column(fields: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for path, message in fields.items():
        column = COLUMN_OF_FIELD.get(path, path if path in IMPORT_COLUMNS else "name")
        out[column] = f"{out[column]} {message}" if column in out else message
    return out


def _read_row(values: Mapping[str, str], emails: Mapping[str, Any], errors: dict[str, str]) -> _Row:
    """The row as a PilotDraft, or ValidationFailed naming each column that cannot be read at all."""
    given: set[str] = set()
    name = values.get("name", "")
    if not name:
        errors["name"] = "Give the initiative a name."
    sponsor_raw = values.get("sponsor", "").strip()
    sponsor_name = values.get("sponsorName", "")
    sponsor = Person("", sponsor_name)
    sponsor_email = ""
    if not sponsor_raw:
        errors["sponsor"] = "Name the sponsor: an Entra object id or an email."
    elif "@" in sponsor_raw:
        email = sponsor_raw.lower()
        if not is_email(email):
            errors["sponsor"] = f"{sponsor_raw[:60]!r} is not an email address."
        elif email in emails:
            member = emails[email]
            sponsor = Person(member.aad_object_id.lower(), sponsor_name or member.name)
        else:
            sponsor_email = email
    elif _OBJECT_ID.match(sponsor_raw):
        sponsor = Person(sponsor_raw.lower(), sponsor_name)
    else:
        errors["sponsor"] = "Use the sponsor's Entra object id or email."
    given.add("sponsor")
    metrics: tuple[Metric, ...] = ()
    if any(values.get(column) for column in METRIC_COLUMNS):
        metric = _metric(values, errors)
        if metric is not None:
            metrics = (metric,)
            given.add("metrics")
    start = _date(values, "startDate", errors)
    gate = _date(values, "gateDate", errors)
    checkin_day = _number(values, "checkinDay", errors, whole=True)
    budget = _number(values, "budgetMonthly", errors)
    users = _number(values, "intendedUsers", errors, whole=True)
    workflow = _workflow(values, errors)
    governance: dict[str, bool] = {}
    for item in GOVERNANCE_ITEMS:
        raw = values.get(item)
        if raw:
            answer = raw.casefold()
            if answer in _YES or answer in _NO:
                governance[item] = answer in _YES
            else:
                errors[item] = "Use yes or no."
    if errors:
        raise ValidationFailed(errors)
    for column, attribute in (
        ("startDate", "start_date"),
        ("gateDate", "gate_date"),
        ("checkinDay", "checkin_day"),
        ("timezone", "timezone"),
        ("budgetMonthly", "budget_monthly"),
        ("intendedUsers", "intended_users"),
    ):
        if values.get(column):
            given.add(attribute)
    if values.get("scaleExpand") or values.get("scaleRetire"):
        given.add("scale_plan")
    if workflow is not None:
        given.add("workflow")
    if governance:
        given.add("governance")
    draft = PilotDraft(
        name=name,
        sponsor=sponsor,
        metrics=metrics,
        start_date=start,
        gate_date=gate,
        checkin_day=int(checkin_day) if checkin_day is not None else 1,
        timezone=values.get("timezone") or "UTC",
        budget_monthly=budget,
        intended_users=int(users) if users is not None else None,
        scale_plan=ScalePlan(values.get("scaleExpand", ""), values.get("scaleRetire", "")),
        governance=governance,
        workflow=workflow,
        sponsor_email=sponsor_email,
    )
    complete = bool(metrics) and start is not None and bool(sponsor.aad_object_id)
    return _Row(draft, frozenset(given), complete)


def _metric(values: Mapping[str, str], errors: dict[str, str]) -> Metric | None:
    name = values.get("metric", "")
    if not name:
        errors["metric"] = "Name the metric that baseline and target are for."
    baseline = _number(values, "baseline", errors, required=True)
    target = _number(values, "target", errors, required=True)
    direction_raw = values.get("direction", "").casefold()
    direction: Direction | None = None
    if direction_raw:
        if direction_raw in {d.value for d in Direction}:
            direction = Direction(direction_raw)
        else:
            errors["direction"] = "Use increase or decrease."
    if errors.keys() & {"metric", "baseline", "target", "direction"} or baseline is None or target is None:
        return None
    if direction is None:
        direction = Direction.DECREASE if target < baseline else Direction.INCREASE
    return Metric(name, values.get("unit", ""), baseline, target, direction)


def _number(
    values: Mapping[str, str], column: str, errors: dict[str, str], *, required: bool = False, whole: bool = False
) -> float | None:
    """A cell as a number: digits with an optional sign, decimal point and thousands commas; a formula is text."""
    raw = values.get(column, "")
    if not raw:
        if required:
            errors[column] = "Give a number."
        return None
    plain = raw.replace(",", "").replace(" ", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", plain):
        errors[column] = f"{raw[:30]!r} is not a number."
        return None
    value = float(plain)
    if not math.isfinite(value) or abs(value) > 1e12:
        errors[column] = "Give an ordinary number."
        return None
    if whole and value != int(value):
        errors[column] = "Give a whole number."
        return None
    return value


def _date(values: Mapping[str, str], column: str, errors: dict[str, str]) -> date | None:
    raw = values.get(column, "")
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw[:10] if re.match(r"^\d{4}-\d{2}-\d{2}[T ]", raw) else raw)
    except ValueError:
        errors[column] = "Use a date like 2026-12-01."
        return None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        errors[column] = f"Use a date between {EARLIEST_DATE} and {LATEST_DATE}."
        return None
    return day


def _workflow(values: Mapping[str, str], errors: dict[str, str]) -> Workflow | None:
    surface_raw = values.get("workflowSurface", "").casefold()
    integrated_raw = values.get("workflowIntegrated", "").casefold()
    system = values.get("workflowSystem", "")
    if not (surface_raw or integrated_raw or system):
        return None
    surface = WorkSurface(surface_raw) if surface_raw in {s.value for s in WorkSurface} else None
    integrated = Integration(integrated_raw) if integrated_raw in {i.value for i in Integration} else None
    if surface is None:
        errors["workflowSurface"] = "Use m365, lob, itsm, crm or standalone."
    if integrated is None:
        errors["workflowIntegrated"] = "Use yes, partly or no."
    if surface is None or integrated is None:
        return None
    return Workflow(surface, integrated, system)


def _changes(existing: Pilot, read: _Row) -> dict[str, Any]:
    """The fields the row gives that differ from the stored initiative (Pilot field names); empty: nothing to do.

    A draft whose row is now complete becomes a pilot. A sponsor by an email nobody matched leaves a resolved
    sponsor as it is."""
    draft = read.draft
    wanted: dict[str, Any] = {}
    if draft.sponsor.aad_object_id:
        if draft.sponsor.aad_object_id != existing.sponsor.aad_object_id:
            wanted["sponsor"] = draft.sponsor
    elif not existing.sponsor.aad_object_id and draft.sponsor_email != existing.sponsor_email:
        wanted["sponsor_email"] = draft.sponsor_email
    if draft.name != existing.name:
        wanted["name"] = draft.name
    for attribute in ("start_date", "gate_date", "checkin_day", "timezone", "budget_monthly", "intended_users"):
        if attribute in read.given and getattr(draft, attribute) != getattr(existing, attribute):
            wanted[attribute] = getattr(draft, attribute)
    if "metrics" in read.given and (not existing.metrics or draft.metrics[0] != existing.metrics[0]):
        wanted["metrics"] = (*draft.metrics, *existing.metrics[1:])
    if "scale_plan" in read.given and draft.scale_plan != existing.scale_plan:
        wanted["scale_plan"] = draft.scale_plan
    if "workflow" in read.given and draft.workflow != existing.workflow:
        wanted["workflow"] = draft.workflow
    if "governance" in read.given:
        merged = {**existing.governance, **draft.governance}
        if merged != existing.governance:
            wanted["governance"] = merged
    if existing.is_draft and read.complete:
        wanted["stage"] = Stage.PILOT
    return wanted
