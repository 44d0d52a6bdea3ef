"""REST bodies: pydantic models that turn JSON into domain drafts, and domain objects back into JSON.

Field names are the camelCase names of the interface contract (DESIGN.md, "Pilot JSON").
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

from governance.calendars import normalize_country
from governance.errors import ValidationFailed
from governance.imports import ImportReport, Outcome
from governance.model import (
    GOVERNANCE_ITEMS,
    ChannelLink,
    CheckinRecipient,
    Direction,
    GateDecision,
    HealthStatus,
    Integration,
    Metric,
    MetricReading,
    Person,
    Pilot,
    ScalePlan,
    Stage,
    Workflow,
    WorkSurface,
)
from governance.period import Period
from governance.rules import (
    MAX_METRICS,
    MAX_MONEY,
    MAX_SYSTEM,
    MAX_USERS,
    METRIC_VALUE_BOUND,
    PilotDraft,
    ReadingDraft,
    clean_text,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(max_length=5000)]
# Numbers are JSON numbers: "37" and true are refused, not coerced; bounds as in governance.rules.
Number = Annotated[float, Strict(), Field(allow_inf_nan=False, ge=-METRIC_VALUE_BOUND, le=METRIC_VALUE_BOUND)]
Money = Annotated[float, Strict(), Field(allow_inf_nan=False, ge=0, le=MAX_MONEY)]
Count = Annotated[int, Strict(), Field(ge=0, le=MAX_USERS)]
# Entra tenant and object ids are GUIDs; the charset also admits the ids of test tenants, nothing that could be a
# path, a quote or a control character.
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")]
# Teams conversation ids: 19:...@thread.tacv2, a:..., 29:... (a channel thread adds ;messageid=...).
ConversationId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@;=,+-]{0,255}$")]


class Body(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class SponsorIn(Body):
    aad_object_id: Id
    name: Annotated[str, StringConstraints(max_length=200)] = ""


PersonIn = SponsorIn  # a lead is given the same way as the sponsor


class MetricIn(Body):
    name: Name
    unit: Annotated[str, StringConstraints(max_length=40)] = ""
    baseline: Number
    target: Number
    direction: Direction

    def to_domain(self) -> Metric:
        return Metric(clean_text(self.name), clean_text(self.unit), self.baseline, self.target, self.direction)


class ChannelIn(Body):
    conversation_id: ConversationId
    team_id: Annotated[str, StringConstraints(pattern=r"^([A-Za-z0-9][A-Za-z0-9._:@;=,+-]{0,255})?$")] = ""
    name: Annotated[str, StringConstraints(max_length=200)] = ""

    def to_domain(self) -> ChannelLink:
        return ChannelLink(self.conversation_id, self.team_id, clean_text(self.name))


class ScalePlanIn(Body):
    expand: Text = ""
    retire: Text = ""


class WorkflowIn(Body):
    """Where the pilot's users work: m365 (a Microsoft 365 app), lob (a line-of-business system through its API or
    the Power Platform), itsm (service management), crm, or standalone; which system; and whether it is integrated."""

    surface: WorkSurface
    system: Annotated[str, StringConstraints(max_length=MAX_SYSTEM)] = ""
    integrated: Integration

    def to_domain(self) -> Workflow:
        return Workflow(self.surface, self.integrated, clean_text(self.system))


# ISO 3166-1 alpha-2 (governance.rules checks it has a calendar); any case, "" or null for none.
Country = Annotated[str, StringConstraints(max_length=8)]


class PilotIn(Body):
    """A pilot, or with ``stage: "draft"`` an initiative known by its name and sponsor only (metrics and dates may
    follow; its sponsor is asked for them)."""

    name: Name
    tenant_id: Id
    sponsor: SponsorIn
    stage: Literal["pilot", "draft"] = "pilot"
    metrics: list[MetricIn] | None = Field(None, min_length=1, max_length=MAX_METRICS)
    start_date: date | None = None
    gate_date: date | None = None
    checkin_day: Annotated[int, Strict(), Field(ge=1, le=28)] = 1
    timezone: Annotated[str, StringConstraints(max_length=64)] = "UTC"
    country: Country | None = None
    channel: ChannelIn | None = None
    budget_monthly: Money | None = None
    intended_users: Annotated[int, Strict(), Field(ge=1, le=MAX_USERS)] | None = None
    scale_plan: ScalePlanIn = ScalePlanIn()
    governance: dict[str, StrictBool] = Field(default_factory=dict, max_length=len(GOVERNANCE_ITEMS))
    workflow: WorkflowIn | None = None

    @property
    def stage_value(self) -> Stage:
        return Stage(self.stage)

    lead: PersonIn | None = None
    checkin_recipient: CheckinRecipient = CheckinRecipient.SPONSOR

    def to_draft(self) -> PilotDraft:
        if self.stage_value is Stage.PILOT:
            missing = {key: "This field is required." for key, value in (("metrics", self.metrics),) if value is None}
            if self.start_date is None:
                missing["startDate"] = "This field is required."
            if missing:
                raise ValidationFailed(missing)
        return PilotDraft(
            name=clean_text(self.name),
            sponsor=Person(self.sponsor.aad_object_id.lower(), clean_text(self.sponsor.name)),
            metrics=tuple(m.to_domain() for m in self.metrics or ()),
            start_date=self.start_date,
            gate_date=self.gate_date,
            checkin_day=self.checkin_day,
            timezone=self.timezone,
            country=normalize_country(self.country),
            budget_monthly=self.budget_monthly,
            intended_users=self.intended_users,
            scale_plan=ScalePlan(clean_text(self.scale_plan.expand), clean_text(self.scale_plan.retire)),
            governance=dict(self.governance),
            channel=self.channel.to_domain() if self.channel else None,
            workflow=self.workflow.to_domain() if self.workflow else None,
            lead=_person(self.lead) if self.lead else None,
            checkin_recipient=self.checkin_recipient,
        )


def _person(body: SponsorIn) -> Person:
    return Person(body.aad_object_id.lower(), clean_text(body.name))


class PilotPatch(Body):
    """Every field optional; only the fields present change. Stage changes only through a gate decision, except
    ``stage: "pilot"`` on a draft, which completes it (checked as a full pilot)."""

    name: Name | None = None
    sponsor: SponsorIn | None = None
    metrics: list[MetricIn] | None = Field(None, min_length=1, max_length=MAX_METRICS)
    start_date: date | None = None
    gate_date: date | None = None
    checkin_day: Annotated[int, Strict(), Field(ge=1, le=28)] | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] | None = None
    country: Country | None = None
    channel: ChannelIn | None = None
    budget_monthly: Money | None = None
    intended_users: Annotated[int, Strict(), Field(ge=1, le=MAX_USERS)] | None = None
    scale_plan: ScalePlanIn | None = None
    governance: dict[str, StrictBool] | None = Field(None, max_length=len(GOVERNANCE_ITEMS))
    workflow: WorkflowIn | None = None
    stage: Literal["pilot"] | None = None
    lead: PersonIn | None = None
    checkin_recipient: CheckinRecipient | None = None

    def changes(self, current: Pilot) -> dict[str, Any]:
        """Pilot field name -> new value, for the fields the body set (null clears optional ones)."""
        out: dict[str, Any] = {}
        required = {
            "name",
            "sponsor",
            "metrics",
            "start_date",
            "gate_date",
            "checkin_day",
            "timezone",
            "scale_plan",
            "governance",
            "stage",
            "checkin_recipient",
        }
        nulls = sorted(f for f in required & self.model_fields_set if getattr(self, f) is None)
        if nulls:
            raise ValueError(nulls[0])
        for field in self.model_fields_set:
            value = getattr(self, field)
            if value is None:
                out[field] = None
            elif field == "name":
                out["name"] = clean_text(value)
            elif field in ("sponsor", "lead"):
                out[field] = _person(value)
            elif field == "metrics":
                out["metrics"] = tuple(m.to_domain() for m in value)
            elif field == "channel":
                out["channel"] = value.to_domain()
            elif field == "scale_plan":
                out["scale_plan"] = ScalePlan(clean_text(value.expand), clean_text(value.retire))
            elif field == "governance":
                out["governance"] = {**current.governance, **value}
            elif field == "workflow":
                out["workflow"] = value.to_domain()
            elif field == "stage":
                out["stage"] = Stage(value)
            elif field == "country":
                out["country"] = normalize_country(value)
            else:
                out[field] = value
        if "lead" in out and out["lead"] is None and "checkin_recipient" not in out:
            out["checkin_recipient"] = CheckinRecipient.SPONSOR  # without a lead, check-ins go to the sponsor
        return out


def _period(value: Any) -> Period:
    if isinstance(value, Period):
        return value
    if not isinstance(value, str):
        raise ValueError("Use the month as a string YYYY-MM, e.g. 2026-11.")
    try:
        return Period.parse(value)
    except ValueError:
        raise ValueError("Use the month as YYYY-MM with ASCII digits, e.g. 2026-11.") from None


PeriodIn = Annotated[
    Period,
    BeforeValidator(_period),
    WithJsonSchema({"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$", "example": "2026-11"}),
]


class ReadingIn(Body):
    period: PeriodIn
    values: dict[str, Number] = Field(min_length=1, max_length=MAX_METRICS)
    status: HealthStatus
    active_users: Count | None = None
    spend: Money | None = None
    blockers: Text = ""
    notes: Text = ""

    def to_draft(self) -> ReadingDraft:
        return ReadingDraft(
            period=self.period,
            values=dict(self.values),
            status=self.status,
            active_users=self.active_users,
            spend=self.spend,
            blockers=clean_text(self.blockers),
            notes=clean_text(self.notes),
        )


class TickIn(Body):
    now: datetime | None = None


def field_errors(exc: ValidationError) -> dict[str, str]:
    """pydantic's errors as {"metrics[0].target": "Input should be a valid number"}."""
    fields: dict[str, str] = {}
    for error in exc.errors():
        path = ""
        for part in error["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        message = error["msg"]
        if error["type"] == "missing":
            message = "This field is required."
        elif error["type"] == "extra_forbidden":
            message = "Unknown field."
        fields.setdefault(path or "body", message)
    return fields


# -- JSON out ----------------------------------------------------------------------------------------------------


def pilot_json(pilot: Pilot) -> dict[str, Any]:
    return {
        "id": pilot.id,
        "name": pilot.name,
        "tenantId": pilot.tenant_id,
        "sponsor": _person_json(pilot.sponsor),
        "metrics": [
            {"name": m.name, "unit": m.unit, "baseline": m.baseline, "target": m.target, "direction": m.direction}
            for m in pilot.metrics
        ],
        "startDate": pilot.start_date.isoformat(),
        "gateDate": pilot.gate_date.isoformat(),
        "checkinDay": pilot.checkin_day,
        "timezone": pilot.timezone,
        "country": pilot.country,
        "checkinHolds": [
            {
                "period": str(hold.period),
                "skipped": hold.skipped,
                "skipReason": hold.reason if hold.skipped else None,
                "remindOn": hold.remind_on.isoformat() if hold.remind_on else None,
                "by": {"aadObjectId": hold.by.aad_object_id, "name": hold.by.name},
                "at": hold.at.isoformat(),
            }
            for hold in pilot.checkin_holds
        ],
        "channel": (
            {"conversationId": pilot.channel.conversation_id, "teamId": pilot.channel.team_id}
            if pilot.channel
            else None
        ),
        "budgetMonthly": pilot.budget_monthly,
        "intendedUsers": pilot.intended_users,
        "scalePlan": {"expand": pilot.scale_plan.expand, "retire": pilot.scale_plan.retire},
        "governance": dict(pilot.governance),
        "workflow": (
            {
                "surface": pilot.workflow.surface,
                "system": pilot.workflow.system,
                "integrated": pilot.workflow.integrated,
            }
            if pilot.workflow
            else None
        ),
        "workflowGap": pilot.workflow_gap,
        "stage": pilot.stage,
        "draftGaps": list(pilot.draft_gaps),
        "sponsorEmail": pilot.sponsor_email or None,
        "lead": _person_json(pilot.lead),
        "checkinRecipient": pilot.checkin_recipient,
        "createdAt": pilot.created_at.isoformat() if pilot.created_at else None,
        "updatedAt": pilot.updated_at.isoformat() if pilot.updated_at else None,
    }


def reading_json(reading: MetricReading) -> dict[str, Any]:
    return {
        "period": str(reading.period),
        "values": dict(reading.values),
        "status": reading.status,
        "activeUsers": reading.active_users,
        "spend": reading.spend,
        "blockers": reading.blockers,
        "notes": reading.notes,
        "source": reading.source,
        "submittedBy": _person_json(reading.submitted_by),
        "submittedAt": reading.submitted_at.isoformat(),
        "corrected": reading.corrected,
        "correctedBy": _person_json(reading.corrected_by),
        "correctedAt": reading.corrected_at.isoformat() if reading.corrected_at else None,
        "confirmedBy": _person_json(reading.confirmed_by),
        "confirmedAt": reading.confirmed_at.isoformat() if reading.confirmed_at else None,
    }


def _person_json(person: Person | None) -> dict[str, str] | None:
    return {"aadObjectId": person.aad_object_id, "name": person.name} if person is not None else None


def decision_json(decision: GateDecision) -> dict[str, Any]:
    return {
        "gateDate": decision.gate_date.isoformat(),
        "kind": decision.kind,
        "rationale": decision.rationale,
        "decidedBy": _person_json(decision.decided_by),
        "decidedAt": decision.decided_at.isoformat(),
        "newGateDate": decision.new_gate_date.isoformat() if decision.new_gate_date else None,
        "effectiveDate": decision.effective_date.isoformat() if decision.effective_date else None,
        "details": dict(decision.details),
    }


def import_json(report: ImportReport) -> dict[str, Any]:
    """POST /api/imports' answer: one result per row, what needs an admin, and the counts."""
    return {
        "dryRun": report.dry_run,
        "columns": list(report.columns),
        "unknownColumns": list(report.unknown_columns),
        "problems": dict(report.problems),
        "rows": [
            {
                "row": result.row,
                "name": result.name,
                "outcome": result.outcome,
                "stage": result.stage,
                "pilotId": result.pilot_id,
                "errors": dict(result.errors),
                **({"unresolvedSponsor": result.unresolved_sponsor} if result.unresolved_sponsor else {}),
            }
            for result in report.rows
        ],
        "unresolvedSponsors": [
            {"row": result.row, "name": result.name, "email": result.unresolved_sponsor} for result in report.unresolved
        ],
        "summary": {
            "rows": len(report.rows),
            **{outcome.value: report.count(outcome) for outcome in Outcome},
            "drafts": report.drafts,
            "unresolvedSponsors": len(report.unresolved),
            "unknownColumns": len(report.unknown_columns),
        },
    }
