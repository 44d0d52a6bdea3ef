"""Card submissions: one pydantic model per card verb turns Teams' strings into a domain draft.

Teams sends every input as a string (an Action.Submit fallback may send a number). Each model reports problems by
the card's input ids, so the form can show each one next to its input; the domain's own checks (run by the
service) report by domain field names, which the cards map back onto their inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Final, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError

from cards.checkin import (
    ACTIVE_USERS_INPUT,
    BASED_ON_FIELD,
    BLOCKERS_INPUT,
    CORRECT_PERIOD_INPUT,
    NOTES_INPUT,
    SPEND_INPUT,
    STATUS_INPUT,
    input_for,
    metric_input_id,
)
from cards.checkin_holds import REMIND_ON_INPUT, SKIP_REASON_INPUT
from cards.decision import DECISION_INPUTS, decision_errors
from cards.inputs import BadNumber, parse_date, parse_number
from cards.pilot_form import INPUT_IDS, NO_LEAD
from governance.calendars import normalize_country
from governance.decisions import (
    ACCESS_REVOKED,
    ARCHIVED,
    CUT_SCOPE,
    EXPANSION_DATE,
    EXPANSION_SCOPE,
    LESSONS,
    NEW_GATE_DATE,
    RATIONALE,
    REASON,
    RETIREMENT_DATE,
    DecisionDraft,
    draft_problems,
)
from governance.errors import ValidationFailed
from governance.model import (
    GOVERNANCE_ITEMS,
    CheckinRecipient,
    DecisionKind,
    Direction,
    HealthStatus,
    Integration,
    Metric,
    Person,
    Pilot,
    ScalePlan,
    Workflow,
    WorkSurface,
)
from governance.period import Period
from governance.rules import (
    MAX_MONEY,
    MAX_TEXT,
    MAX_USERS,
    METRIC_VALUE_BOUND,
    PilotDraft,
    ReadingDraft,
    clean_text,
)

MAX_INPUT_CHARS: Final = 20_000  # far above any input's own limit: a bound on what is parsed at all
ID_PATTERN: Final = r"^[A-Za-z0-9_-]{1,64}$"


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):  # bool is an int: say what it is rather than "True"
        raise ValueError("Expected text.")
    if isinstance(value, str | int | float):
        return str(value)
    raise ValueError("Expected text.")


Text = Annotated[str, BeforeValidator(as_text), StringConstraints(max_length=MAX_INPUT_CHARS)]
PilotId = Annotated[str, BeforeValidator(as_text), StringConstraints(pattern=ID_PATTERN)]


class CardData(BaseModel):
    """The data of a card action: the pressed button's data plus the inputs of the card."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    def text(self, input_id: str) -> str:
        """An input not declared as a field (metric inputs, decision inputs), as text; "" when absent."""
        value = (self.model_extra or {}).get(input_id)
        try:
            return as_text(value)
        except ValueError:
            return ""


M = TypeVar("M", bound=CardData)


def read(model: type[M], data: Mapping[str, Any]) -> M:
    """``data`` as ``model``; ValidationFailed naming each input that is not what the card sends."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else "data"
            fields.setdefault(key, "This value is not what the card sends: open a fresh card and try again.")
        raise ValidationFailed(fields) from None


class PilotRef(CardData):
    pilot_id: PilotId = Field(alias="pilotId")


class PageRequest(CardData):
    page: Text = "1"

    @property
    def number(self) -> int:
        try:
            return max(1, int(self.page))
        except ValueError:
            return 1


# --- new pilot ----------------------------------------------------------------------------------------------------
class NewPilotSubmission(CardData):
    name: Text = ""
    metric_name: Text = Field("", alias="metricName")
    metric_unit: Text = Field("", alias="metricUnit")
    metric_baseline: Text = Field("", alias="metricBaseline")
    metric_target: Text = Field("", alias="metricTarget")
    metric_direction: Text = Field("", alias="metricDirection")
    start_date: Text = Field("", alias="startDate")
    gate_date: Text = Field("", alias="gateDate")
    sponsor: Text = ""
    timezone: Text = ""
    country: Text = ""
    budget_monthly: Text = Field("", alias="budgetMonthly")
    intended_users: Text = Field("", alias="intendedUsers")
    scale_expand: Text = Field("", alias="scaleExpand")
    scale_retire: Text = Field("", alias="scaleRetire")
    workflow_surface: Text = Field("", alias="workflowSurface")
    workflow_system: Text = Field("", alias="workflowSystem")
    workflow_integrated: Text = Field("", alias="workflowIntegrated")
    governance_done: Text = Field("", alias="governanceDone")
    lead: Text = ""
    checkin_recipient: Text = Field("", alias="checkinRecipient")

    @property
    def values(self) -> dict[str, str]:
        """The submitted inputs as the form shows them again."""
        dumped = self.model_dump(by_alias=True, exclude={"model_extra"})
        return {key: str(dumped[key]) for key in INPUT_IDS if dumped.get(key)}

    @property
    def sponsor_id(self) -> str:
        return self.sponsor.strip().lower()

    @property
    def lead_id(self) -> str:
        chosen = self.lead.strip().lower()
        return "" if chosen == NO_LEAD else chosen

    def to_draft(self, sponsor_name: str, today: date, lead_name: str = "") -> PilotDraft:
        """A PilotDraft, or ValidationFailed keyed by input id for what cannot be read at all."""
        errors: dict[str, str] = {}
        name = clean_text(self.name)
        if not name:
            errors["name"] = "Give the pilot a name."
        metric_name = clean_text(self.metric_name)
        if not metric_name:
            errors["metricName"] = "Name the success metric, e.g. 'Handling time'."
        baseline = number_field(self.metric_baseline, "metricBaseline", errors, required=True)
        target = number_field(self.metric_target, "metricTarget", errors, required=True)
        direction_raw = self.metric_direction.strip().lower()
        direction = Direction(direction_raw) if direction_raw in {d.value for d in Direction} else None
        if direction is None:
            errors["metricDirection"] = "Choose whether the metric should go up or down."
        start = date_field(self.start_date, "startDate", errors) or today
        gate = date_field(self.gate_date, "gateDate", errors)  # None: the domain defaults it, after its date checks
        if not self.sponsor_id:
            errors["sponsor"] = "Choose the executive sponsor."
        budget = number_field(self.budget_monthly, "budgetMonthly", errors, required=False, money=True)
        users = number_field(self.intended_users, "intendedUsers", errors, required=False)
        if users is not None and users != int(users):
            errors["intendedUsers"] = "Enter a whole number of people."
        workflow = _workflow(self.workflow_surface, self.workflow_system, self.workflow_integrated, errors)
        done = {item.strip() for item in self.governance_done.split(",") if item.strip()}
        if done - set(GOVERNANCE_ITEMS):
            errors["governanceDone"] = "This checklist is from an older card: open a fresh one."
        recipient_raw = self.checkin_recipient.strip().lower() or CheckinRecipient.SPONSOR.value
        recipient = CheckinRecipient(recipient_raw) if recipient_raw in {r.value for r in CheckinRecipient} else None
        if recipient is None:
            errors["checkinRecipient"] = "Choose who gets the monthly check-in."
        if errors or baseline is None or target is None or direction is None or recipient is None:
            raise ValidationFailed(errors)
        return PilotDraft(
            name=name,
            sponsor=Person(self.sponsor_id, sponsor_name),
            metrics=(Metric(metric_name, clean_text(self.metric_unit), baseline, target, direction),),
            start_date=start,
            gate_date=gate,
            timezone=self.timezone.strip() or "UTC",
            country=normalize_country(self.country),
            budget_monthly=budget,
            intended_users=int(users) if users is not None else None,
            scale_plan=ScalePlan(clean_text(self.scale_expand), clean_text(self.scale_retire)),
            workflow=workflow,
            governance={item: item in done for item in GOVERNANCE_ITEMS},
            lead=Person(self.lead_id, lead_name) if self.lead_id else None,
            checkin_recipient=recipient,
        )


def _workflow(surface_raw: str, system: str, integrated_raw: str, errors: dict[str, str]) -> Workflow | None:
    """The workflow inputs: both choices or neither (not recorded); the system is free text."""
    surface_key, integrated_key = surface_raw.strip().lower(), integrated_raw.strip().lower()
    surface = WorkSurface(surface_key) if surface_key in {s.value for s in WorkSurface} else None
    integrated = Integration(integrated_key) if integrated_key in {i.value for i in Integration} else None
    if surface_key and surface is None:
        errors["workflowSurface"] = "Choose where its users work."
    if integrated_key and integrated is None:
        errors["workflowIntegrated"] = "Choose yes, partly or no."
    if surface is None and integrated is None:
        if clean_text(system) and "workflowSurface" not in errors:
            errors["workflowSurface"] = "Choose where its users work, for this system."
        return None
    if surface is None:
        errors.setdefault("workflowSurface", "Choose where its users work.")
        return None
    if integrated is None:
        errors.setdefault("workflowIntegrated", "Choose whether the pilot is built into it.")
        return None
    return Workflow(surface, integrated, clean_text(system))


def number_field(raw: str, field: str, errors: dict[str, str], *, required: bool, money: bool = False) -> float | None:
    try:
        value = parse_number(raw, money=money)
    except BadNumber:
        errors[field] = f"'{raw.strip()[:20]}' is not a number."
        return None
    if value is None and required:
        errors[field] = "Enter a number."
    return value


def date_field(raw: str, field: str, errors: dict[str, str]) -> date | None:
    try:
        return parse_date(raw)
    except ValueError:
        errors[field] = "Use a date like 2026-12-01."
        return None


# --- monthly check-in ---------------------------------------------------------------------------------------------
class CheckinRef(CardData):
    """``checkin.view``: which check-in card asks for its current state (its refresh)."""

    pilot_id: PilotId = Field(alias="pilotId")
    period: Text = ""

    @property
    def valid_period(self) -> Period | None:
        try:
            return Period.parse(self.period.strip())
        except ValueError:
            return None


class CheckinHoldRequest(CheckinRef):
    """``checkin.away`` and ``checkin.skip``: without ``confirm`` the button that opens the form, with it the form's
    own button and its input."""

    confirm: Text = ""
    remind_on: Text = Field("", alias=REMIND_ON_INPUT)
    skip_reason: Text = Field("", alias=SKIP_REASON_INPUT)

    @property
    def confirmed(self) -> bool:
        return bool(self.confirm.strip())

    def remind_day(self) -> date:
        """The day typed in "Remind me on"; ValidationFailed keyed by the input otherwise."""
        try:
            day = parse_date(self.remind_on)
        except ValueError:
            day = None
            problem = "Use a date like 2026-12-15."
        else:
            problem = "Pick the day to be reminded on."
        if day is None:
            raise ValidationFailed({REMIND_ON_INPUT: problem})
        return day


class CheckinSubmission(CheckinRef):
    status: Text = ""
    active_users: Text = Field("", alias=ACTIVE_USERS_INPUT)
    spend: Text = ""
    blockers: Text = ""
    notes: Text = ""

    def values(self, pilot: Pilot) -> dict[str, str]:
        """The submitted inputs as the form shows them again."""
        out = {metric_input_id(i): self.text(metric_input_id(i)) for i in range(len(pilot.metrics))}
        out |= {
            STATUS_INPUT: self.status,
            ACTIVE_USERS_INPUT: self.active_users,
            SPEND_INPUT: self.spend,
            BLOCKERS_INPUT: self.blockers,
            NOTES_INPUT: self.notes,
        }
        return {key: value for key, value in out.items() if value}

    def to_draft(self, pilot: Pilot) -> ReadingDraft:
        """A ReadingDraft; ValidationFailed keyed by input id otherwise.

        The primary metric is required (the gate is judged on it); secondary metrics may be left blank.
        """
        errors: dict[str, str] = {}
        readings: dict[str, float] = {}
        for index, metric in enumerate(pilot.metrics):
            input_id = metric_input_id(index)
            try:
                number = parse_number(self.text(input_id))
            except BadNumber:
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

        status_raw = self.status.strip().lower()
        status = HealthStatus(status_raw) if status_raw in {s.value for s in HealthStatus} else None
        if status is None:
            errors[STATUS_INPUT] = (
                "Choose an overall status: green, amber or red."
                if not status_raw
                else "The status must be green, amber or red."
            )
        active_users = self._active_users(errors)
        spend = self._spend(errors)
        texts: dict[str, str] = {}
        for input_id, label, raw in ((BLOCKERS_INPUT, "blockers", self.blockers), (NOTES_INPUT, "notes", self.notes)):
            cleaned = clean_text(raw)
            if len(cleaned) > MAX_TEXT:
                errors[input_id] = f"Keep {label} under {MAX_TEXT:,} characters (now {len(cleaned):,})."
            texts[input_id] = cleaned
        period = self.valid_period
        if period is None:
            errors["period"] = "This card names no valid month: open the latest check-in card and try again."
        if errors or status is None or period is None:
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

    def _active_users(self, errors: dict[str, str]) -> int | None:
        try:
            users = parse_number(self.active_users)
        except BadNumber:
            errors[ACTIVE_USERS_INPUT] = "Enter active users as a whole number, e.g. 120."
            return None
        if users is None:
            return None
        if users != int(users):
            errors[ACTIVE_USERS_INPUT] = "Active users is a count of people: use a whole number."
        elif users < 0:
            errors[ACTIVE_USERS_INPUT] = "Active users can't be negative."
        elif users > MAX_USERS:
            errors[ACTIVE_USERS_INPUT] = f"Active users can be at most {MAX_USERS:,}."
        else:
            return int(users)
        return None

    def _spend(self, errors: dict[str, str]) -> float | None:
        try:
            amount = parse_number(self.spend, money=True)
        except BadNumber:
            errors[SPEND_INPUT] = "Enter this month's spend as an amount, e.g. 1,250.50."
            return None
        if amount is None:
            return None
        if amount < 0:
            errors[SPEND_INPUT] = "Spend can't be negative."
        elif amount > MAX_MONEY:
            errors[SPEND_INPUT] = "That amount is far too large: check the number."
        else:
            return amount
        return None


class CorrectionSubmission(CheckinSubmission):
    """``correction.submit``: the check-in's inputs, validated the same way, and the reading the form was built on."""

    based_on: Text = Field("", alias=BASED_ON_FIELD)


class ConfirmRef(CheckinRef):
    """``reading.confirm``: the month and the values (their stamp) the sponsor confirms."""

    based_on: Text = Field("", alias=BASED_ON_FIELD)


class CorrectionRequest(CheckinRef):
    """``reading.correct``: the month chosen under the status card (input), or the one a Correct button names."""

    correct_period: Text = Field("", alias=CORRECT_PERIOD_INPUT)

    @property
    def valid_period(self) -> Period | None:
        try:
            return Period.parse((self.correct_period or self.period).strip())
        except ValueError:
            return None


def checkin_errors(pilot: Pilot, problems: Mapping[str, str]) -> dict[str, str]:
    """The domain's reading problems (``values.<metric>``, ``activeUsers``...) keyed by the card's input ids."""
    return {input_for(pilot, field): message for field, message in problems.items()}


# --- gate decision ------------------------------------------------------------------------------------------------
_DATE_FIELDS: Final = (EXPANSION_DATE, NEW_GATE_DATE, RETIREMENT_DATE)
_TEXT_FIELDS: Final = (RATIONALE, EXPANSION_SCOPE, CUT_SCOPE, REASON, ARCHIVED, ACCESS_REVOKED, LESSONS)


class GateRef(CardData):
    """``gate.view``: which gate card asks for the asker's view (its refresh, or its Decide button)."""

    pilot_id: PilotId = Field(alias="pilotId")
    gate_date: Text = Field("", alias="gateDate")

    @property
    def gate(self) -> date | None:
        try:
            return date.fromisoformat(self.gate_date.strip())
        except ValueError:
            return None


class DecisionSubmission(GateRef):
    kind: Text = ""

    @property
    def chosen(self) -> DecisionKind | None:
        raw = self.kind.strip().lower()
        return DecisionKind(raw) if raw in {k.value for k in DecisionKind} else None

    @property
    def values(self) -> dict[str, str]:
        """The submitted decision inputs (and the kind) as the card shows them again."""
        ids = {input_id for inputs in DECISION_INPUTS.values() for input_id in inputs.values()}
        out = {input_id: self.text(input_id) for input_id in ids if self.text(input_id)}
        return out | ({"kind": self.kind} if self.kind else {})

    def to_draft(self) -> DecisionDraft:
        """A DecisionDraft; ValidationFailed keyed by the chosen form's input ids otherwise.

        Checks what needs no clock (required fields, text length, date format); the service checks the dates
        against today and the gate.
        """
        kind = self.chosen
        if kind is None:
            raise ValidationFailed({"kind": "Choose one of the decisions: go, narrow, extend or retire."})
        inputs = DECISION_INPUTS[kind]
        errors: dict[str, str] = {}
        dates: dict[str, date | None] = {}
        for field in _DATE_FIELDS:
            dates[field] = None
            if field in inputs:
                try:
                    dates[field] = parse_date(self.text(inputs[field]))
                except ValueError:
                    errors[field] = "Pick a date from the calendar (YYYY-MM-DD)."
        texts = {field: clean_text(self.text(inputs[field])) if field in inputs else "" for field in _TEXT_FIELDS}
        draft = DecisionDraft(
            kind=kind,
            rationale=texts[RATIONALE],
            expansion_scope=texts[EXPANSION_SCOPE],
            expansion_date=dates[EXPANSION_DATE],
            cut_scope=texts[CUT_SCOPE],
            new_gate_date=dates[NEW_GATE_DATE],
            reason=texts[REASON],
            retirement_date=dates[RETIREMENT_DATE],
            archived=texts[ARCHIVED],
            access_revoked=texts[ACCESS_REVOKED],
            lessons=texts[LESSONS],
        )
        problems = {**draft_problems(draft), **errors}  # a date that did not parse keeps its own message
        if problems:
            raise ValidationFailed(decision_errors(kind, problems))
        return draft
