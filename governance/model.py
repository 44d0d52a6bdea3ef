"""The domain: pilots, their metrics, readings, gate decisions, conversation references and the audit trail.

Plain frozen dataclasses and enums. Nothing here knows about Teams, HTTP or a database. ``version`` fields
carry the storage's opaque concurrency token (an ETag) so that a read-modify-write can be checked.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from governance.period import Period


class Direction(StrEnum):
    INCREASE = "increase"
    DECREASE = "decrease"


class Stage(StrEnum):
    DRAFT = "draft"  # an initiative known by name and sponsor only: no check-ins, no gate, until completed
    PILOT = "pilot"
    EXTENDED = "extended"
    NARROWED = "narrowed"
    PRODUCTION = "production"
    RETIRED = "retired"

    @property
    def is_active(self) -> bool:
        return self in (Stage.PILOT, Stage.EXTENDED, Stage.NARROWED)


class WorkSurface(StrEnum):
    """Where a pilot's users do the work it supports (DESIGN.md, trait 3: workflow integration)."""

    M365 = "m365"  # a Microsoft 365 app: Teams, Outlook, Word, Excel...
    LOB = "lob"  # a line-of-business system, through its API or the Power Platform
    ITSM = "itsm"  # service management (ServiceNow, Jira Service Management...)
    CRM = "crm"  # customer relationship management (Dynamics 365, Salesforce...)
    STANDALONE = "standalone"  # a tool of its own, outside where the work happens


class Integration(StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class HealthStatus(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


class ReadingSource(StrEnum):
    TEAMS = "teams"
    API = "api"


class CheckinRecipient(StrEnum):
    """Who gets a pilot's monthly check-in (and its reminder): the sponsor, the sponsor and the lead, or the lead."""

    SPONSOR = "sponsor"
    BOTH = "both"
    LEAD = "lead"


class DecisionKind(StrEnum):
    GO = "go"
    NARROW = "narrow"
    EXTEND = "extend"
    RETIRE = "retire"


class ConversationKind(StrEnum):
    PERSONAL = "personal"
    GROUP_CHAT = "groupChat"
    CHANNEL = "channel"


# The governance checklist every pilot starts with (DESIGN.md, "security review surprise").
GOVERNANCE_ITEMS: tuple[str, ...] = (
    "dataLabels",
    "auditLogging",
    "dlp",
    "dataResidency",
    "identityScopes",
)


@dataclass(frozen=True, slots=True)
class Person:
    """Someone known by their Entra object id; ``name`` is for display only."""

    aad_object_id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Workflow:
    """Where the pilot's users work (``surface``), which system (``system``, free text) and whether the pilot is
    built into it (``integrated``)."""

    surface: WorkSurface
    integrated: Integration
    system: str = ""

    @property
    def gap(self) -> bool:
        """The pilot lives outside real work: a standalone tool, or not integrated with where people work."""
        return self.surface is WorkSurface.STANDALONE or self.integrated is Integration.NO


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    unit: str
    baseline: float
    target: float
    direction: Direction


@dataclass(frozen=True, slots=True)
class ScalePlan:
    expand: str = ""
    retire: str = ""


@dataclass(frozen=True, slots=True)
class ChannelLink:
    """The pilot's project channel (a Teams conversation id, e.g. ``19:...@thread.tacv2``)."""

    conversation_id: str
    team_id: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class TenantSettings:
    """What an admin sets once for a whole tenant. A tenant nobody has configured has these defaults."""

    tenant_id: str
    # Where the monthly outcome report to leadership goes (`link leadership` in a channel).
    leadership_channel: ChannelLink | None = None
    # The report goes out on this business day of the month, at 09:00 in report_timezone.
    report_business_day: int = 5
    report_timezone: str = "UTC"
    # The public-holiday calendar (ISO 3166 alpha-2) of pilots that do not name their own country.
    default_country: str | None = None
    updated_by: str = ""
    updated_at: datetime | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class CheckinHold:
    """What the sponsor said about one month's check-in instead of answering it (governance.checkin reads it).

    Away: ``remind_on`` postpones that month's reminder and escalation until 09:00 local on that day. Skipped: the
    month asks for nothing more and counts as skipped, with ``reason``, rather than late or unanswered.
    """

    period: Period
    by: Person
    at: datetime
    remind_on: date | None = None
    skipped: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Pilot:
    id: str
    tenant_id: str
    name: str
    sponsor: Person
    metrics: tuple[Metric, ...]
    start_date: date
    gate_date: date
    checkin_day: int = 1
    timezone: str = "UTC"
    # The public-holiday calendar (ISO 3166-1 alpha-2) its business days skip; None: the tenant's default.
    country: str | None = None
    channel: ChannelLink | None = None
    budget_monthly: float | None = None
    intended_users: int | None = None
    scale_plan: ScalePlan = field(default_factory=ScalePlan)
    governance: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(GOVERNANCE_ITEMS, False))
    stage: Stage = Stage.PILOT
    extensions: int = 0
    workflow: Workflow | None = None  # None: not recorded (pilots registered before it was asked)
    # A draft's sponsor given by email that matched nobody the bot knows (sponsor.aad_object_id is then empty),
    # for an admin to resolve.
    sponsor_email: str = ""
    # Someone who answers check-ins on the sponsor's behalf (e.g. a chief of staff); the sponsor stays accountable.
    lead: Person | None = None
    checkin_recipient: CheckinRecipient = CheckinRecipient.SPONSOR
    # Away and skipped months (one entry per period at most), oldest first.
    checkin_holds: tuple[CheckinHold, ...] = ()
    created_by: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    pending_audit: tuple[AuditEvent, ...] = ()  # see governance.audit: written with the change, then copied
    version: str | None = None
    # The tenant's TenantSettings.default_country, filled in where check-in dates are computed
    # (governance.calendars.with_tenant_country); never stored: a changed tenant default applies at once.
    tenant_country: str | None = field(default=None, compare=False)

    @property
    def primary_metric(self) -> Metric:
        return self.metrics[0]

    @property
    def holiday_country(self) -> str | None:
        """Whose public holidays its business days skip: its own country, else the tenant's default."""
        return self.country or self.tenant_country

    def hold_for(self, period: Period) -> CheckinHold | None:
        return next((hold for hold in self.checkin_holds if hold.period == period), None)

    @property
    def governance_gaps(self) -> tuple[str, ...]:
        return tuple(item for item, done in self.governance.items() if not done)

    @property
    def is_draft(self) -> bool:
        return self.stage is Stage.DRAFT

    @property
    def workflow_gap(self) -> bool:
        """Flagged in `pilots`, `overdue` and the monthly report: standalone, or not integrated where people work.
        A pilot whose workflow was never recorded is not flagged here (``workflow is None`` says that)."""
        return self.workflow is not None and self.workflow.gap

    @property
    def draft_gaps(self) -> tuple[str, ...]:
        """What a draft still lacks before it can be a pilot, as field names (empty for a pilot)."""
        if not self.is_draft:
            return ()
        missing = []
        if not self.sponsor.aad_object_id:
            missing.append("sponsor")
        if not self.metrics:
            missing.append("metrics")
        if self.workflow is None:
            missing.append("workflow")
        if self.budget_monthly is None:
            missing.append("budgetMonthly")
        return tuple(missing)


@dataclass(frozen=True, slots=True)
class MetricReading:
    pilot_id: str
    tenant_id: str
    period: Period
    values: dict[str, float]
    status: HealthStatus
    submitted_by: Person
    submitted_at: datetime
    source: ReadingSource = ReadingSource.TEAMS
    active_users: int | None = None
    spend: float | None = None
    blockers: str = ""
    notes: str = ""
    # A correction keeps who first submitted; the audit trail keeps the values before it.
    corrected_by: Person | None = None
    corrected_at: datetime | None = None
    # The sponsor's confirmation of a reading the lead submitted (governance.lead).
    confirmed_by: Person | None = None
    confirmed_at: datetime | None = None
    pending_audit: tuple[AuditEvent, ...] = ()  # see governance.audit: written with the change, then copied
    version: str | None = None

    @property
    def corrected(self) -> bool:
        return self.corrected_at is not None

    @property
    def changed_by(self) -> Person:
        """Who wrote the values as they stand: the last corrector, else the submitter."""
        return self.corrected_by or self.submitted_by

    @property
    def changed_at(self) -> datetime:
        return self.corrected_at or self.submitted_at

    @property
    def stamp(self) -> str:
        """Names the values as they stand, for a card built on them (a correction form, a Confirm button): it
        changes with every submit and correction (when, by whom, what), unlike the ETag, which also changes when the
        audit is copied."""
        content = (
            self.changed_at.isoformat(),
            self.changed_by.aad_object_id,
            sorted((name, float(value)) for name, value in self.values.items()),  # 9500 and 9500.0 alike
            self.status.value,
            None if self.active_users is None else int(self.active_users),
            None if self.spend is None else float(self.spend),
            self.blockers,
            self.notes,
        )
        return hashlib.sha256(repr(content).encode()).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class GateDecision:
    pilot_id: str
    tenant_id: str
    gate_date: date
    kind: DecisionKind
    rationale: str
    decided_by: Person
    decided_at: datetime
    new_gate_date: date | None = None
    effective_date: date | None = None
    details: dict[str, str] = field(default_factory=dict)
    pending_audit: tuple[AuditEvent, ...] = ()  # see governance.audit: written with the change, then copied
    version: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """Where the bot can reach a person (personal chat) or a channel/group chat, learned from Teams traffic."""

    conversation_id: str
    tenant_id: str
    kind: ConversationKind
    service_url: str
    bot_id: str = ""
    user_id: str = ""  # the Teams user id (29:...) for personal chats
    aad_object_id: str = ""
    user_name: str = ""
    team_id: str = ""
    channel_id: str = ""
    active: bool = True
    undeliverable: bool = False
    greeted: bool = False
    updated_at: datetime | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class TeamMember:
    """A roster entry: how to reach someone by Entra object id when they have not installed the bot yet."""

    tenant_id: str
    aad_object_id: str
    user_id: str  # 29:...
    name: str = ""
    service_url: str = ""
    bot_id: str = ""  # the bot's id in that tenant's conversations (28:...), needed to open a 1:1 chat
    email: str = ""  # the roster's email or userPrincipalName, lower case: matches sponsors imported by email
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: str
    tenant_id: str
    pilot_id: str
    actor: str
    at: datetime
    action: str
    before: dict[str, object] | None = None
    after: dict[str, object] | None = None


class SendStatus(StrEnum):
    PENDING = "pending"  # claimed by a sweep that is sending it now (until lease_until, unless renewed)
    SENT = "sent"
    RETRY = "retry"  # failed for now, or released unsent by a stopping sweep; due again at next_attempt_at (None: now)
    UNDELIVERABLE = "undeliverable"  # Teams said 403, or nobody to send it to; retried rarely
    SKIPPED = "skipped"  # no longer needed (e.g. the reading arrived before the reminder)


@dataclass(frozen=True, slots=True)
class SendRecord:
    """One scheduled message (kind:period or kind:milestone) for one pilot: the exactly-once ledger."""

    pilot_id: str
    tenant_id: str
    key: str  # e.g. "checkin:2026-10", "reminder:2026-10", "gate:2026-11-30:t-7"
    status: SendStatus
    claimed_at: datetime
    attempts: int = 1
    next_attempt_at: datetime | None = None
    conversation_id: str = ""
    activity_id: str = ""
    sent_at: datetime | None = None
    detail: str = ""
    # A pending claim holds until lease_until unless its owner (a sweep's replica) renews it; None on records
    # written before leases were renewed, which hold for 10 minutes from claimed_at as they did then.
    lease_until: datetime | None = None
    owner: str = ""
    version: str | None = None


@dataclass(frozen=True, slots=True)
class AgendaEntry:
    """When a pilot next has scheduled work; the sweep reads only entries that are due."""

    pilot_id: str
    tenant_id: str
    next_due_at: datetime | None
