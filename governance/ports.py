"""What the domain needs from the outside world, as Protocols. storage/ implements them; tests may fake them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from governance.model import (
    AgendaEntry,
    AuditEvent,
    ConversationRef,
    GateDecision,
    MetricReading,
    Pilot,
    SendRecord,
    TeamMember,
    TenantSettings,
)
from governance.period import Period
from governance.views import PilotFacts

if TYPE_CHECKING:  # governance.quarterly_audit reads the calendars, which read these ports
    from governance.quarterly_audit import QuarterlyAudit


class Card(Protocol):
    """A card as the sender needs it: something that dumps to Adaptive Card JSON (a microsoft-teams-cards model)."""

    def model_dump(self, *, by_alias: bool = ..., exclude_none: bool = ...) -> dict[str, Any]: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class PilotRepository(Protocol):
    async def add(self, pilot: Pilot) -> Pilot: ...

    async def get(self, pilot_id: str, tenant_id: str | None = None) -> Pilot | None: ...

    async def save(self, pilot: Pilot) -> Pilot:
        """Replace the stored pilot if it still has ``pilot.version``; else ConcurrencyConflict."""
        ...

    async def list(self, tenant_id: str | None = None) -> list[Pilot]: ...

    async def find_by_name(self, tenant_id: str, name_key: str) -> Pilot | None:
        """The pilot whose rules.name_key(name) equals ``name_key`` (an indexed lookup)."""
        ...


class ReadingRepository(Protocol):
    async def get(self, pilot_id: str, period: Period) -> MetricReading | None: ...

    async def add(self, reading: MetricReading) -> MetricReading:
        """Store the first reading for (pilot, period); AlreadyExists if there is one."""
        ...

    async def save(self, reading: MetricReading) -> MetricReading:
        """Replace the reading for (pilot, period) if it still has ``reading.version``."""
        ...

    async def with_pending_audit(self, pilot_id: str) -> list[MetricReading]:
        """The pilot's readings that still list audit events (governance.audit)."""
        ...

    async def list_for(self, pilot_id: str) -> list[MetricReading]:
        """Oldest period first."""
        ...


class DecisionRepository(Protocol):
    async def add(self, decision: GateDecision) -> GateDecision:
        """One decision per (pilot, gate date); AlreadyExists if that gate was decided."""
        ...

    async def save(self, decision: GateDecision) -> GateDecision:
        """Replace the decision if it still has ``decision.version``; else ConcurrencyConflict."""
        ...

    async def list_for(self, pilot_id: str) -> list[GateDecision]: ...

    async def with_pending_audit(self, pilot_id: str) -> list[GateDecision]:
        """The pilot's decisions that still list audit events (governance.audit)."""
        ...


class AuditRepository(Protocol):
    async def add(self, event: AuditEvent) -> None: ...

    async def list_for(self, pilot_id: str) -> list[AuditEvent]: ...


class ConversationRepository(Protocol):
    async def upsert(self, ref: ConversationRef) -> ConversationRef: ...

    async def add(self, ref: ConversationRef) -> ConversationRef:
        """Store a new reference; AlreadyExists if another turn stored it first."""
        ...

    async def save(self, ref: ConversationRef) -> ConversationRef:
        """Replace the reference if it still has ``ref.version``; else ConcurrencyConflict."""
        ...

    async def get(self, tenant_id: str, conversation_id: str) -> ConversationRef | None: ...

    async def find_personal(self, tenant_id: str, aad_object_id: str) -> ConversationRef | None: ...

    async def personal_chats(self, tenant_id: str) -> dict[str, ConversationRef]:
        """Every user's 1:1 chat in the tenant, by Entra object id (lower case), as ``find_personal`` picks it: one
        query for the whole tenant."""
        ...

    async def list_for_tenant(self, tenant_id: str) -> list[ConversationRef]: ...


class MemberRepository(Protocol):
    async def upsert(self, member: TeamMember) -> None: ...

    async def find(self, tenant_id: str, aad_object_id: str) -> TeamMember | None: ...

    async def list_for_tenant(self, tenant_id: str) -> list[TeamMember]: ...


class SendLog(Protocol):
    async def get(self, pilot_id: str, key: str) -> SendRecord | None: ...

    async def create(self, record: SendRecord) -> SendRecord:
        """Claim a message: AlreadyExists when another sweep (or replica) has it."""
        ...

    async def replace(self, record: SendRecord) -> SendRecord:
        """ConcurrencyConflict when ``record.version`` is stale."""
        ...

    async def list_for(self, pilot_id: str) -> list[SendRecord]: ...


class PilotSummaries(Protocol):
    """The per-pilot summary (storage.summaries): what `pilots`, `overdue` and the search read."""

    async def for_tenant(self, tenant_id: str) -> list[PilotFacts]:
        """Every pilot of the tenant with the facts its status is built from, in a number of store queries that
        does not grow with the number of pilots (only with the changes in flight)."""
        ...


class TenantSettingsRepository(Protocol):
    async def get(self, tenant_id: str) -> TenantSettings:
        """The tenant's settings, or the defaults when nobody has set any."""
        ...

    async def save(self, settings: TenantSettings) -> TenantSettings:
        """Create (version None; AlreadyExists if taken) or replace if still at ``settings.version``."""
        ...

    async def with_leadership_channel(self) -> list[TenantSettings]: ...


class QuarterlyAuditRepository(Protocol):
    async def create(self, audit: QuarterlyAudit) -> QuarterlyAudit:
        """AlreadyExists when the tenant has this quarter's audit, or any open one (one open audit per tenant)."""
        ...

    async def save(self, audit: QuarterlyAudit) -> QuarterlyAudit:
        """Replace the audit if it still has ``audit.version``; else ConcurrencyConflict."""
        ...

    async def get(self, tenant_id: str | None, audit_id: str) -> QuarterlyAudit | None: ...

    async def open_for(self, tenant_id: str) -> QuarterlyAudit | None: ...

    async def list_for(self, tenant_id: str) -> list[QuarterlyAudit]:
        """Newest quarter first."""
        ...


class Agenda(Protocol):
    async def set(self, entry: AgendaEntry) -> None: ...

    async def due(self, now: datetime) -> list[AgendaEntry]: ...

    async def get(self, pilot_id: str) -> AgendaEntry | None: ...


class Messenger(Protocol):
    """Proactive messages to Teams. Raises Undeliverable (403) or DeliveryFailed (anything worth retrying later)."""

    async def send(self, target: ConversationRef, *, card: Card | None = None, text: str | None = None) -> str:
        """Post a message; returns the new activity id."""
        ...

    async def update(self, target: ConversationRef, activity_id: str, *, card: Card) -> None: ...

    async def open_personal_chat(self, tenant_id: str, user_id: str, service_url: str, bot_id: str) -> str:
        """Create (or find) the 1:1 conversation with a Teams user; returns its conversation id."""
        ...


# Who may decide a pilot's gate, as Teams user ids (29:...), sponsor first (governance.portfolio.Deciders): the gate
# card's per-user refresh names them.
DeciderIds = Callable[[Pilot], Awaitable[Sequence[str]]]
