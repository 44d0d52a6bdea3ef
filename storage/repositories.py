"""Repositories: domain objects in and out of any DocumentStore, through storage.codec."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from governance.checkin import is_checkin_log_key
from governance.model import (
    AgendaEntry,
    AuditEvent,
    ConversationKind,
    ConversationRef,
    GateDecision,
    MetricReading,
    Pilot,
    SendRecord,
    SendStatus,
    TeamMember,
    TenantSettings,
)
from governance.period import Period
from governance.portfolio import Portfolio
from governance.ports import Clock, SystemClock
from governance.quarterly_audit import AuditStatus, QuarterlyAudit
from storage.audit_codec import quarterly_audit_from_doc, quarterly_audit_to_doc
from storage.codec import (
    agenda_from_doc,
    agenda_to_doc,
    audit_from_doc,
    audit_to_doc,
    conversation_from_doc,
    conversation_to_doc,
    decision_from_doc,
    decision_to_doc,
    decoded,
    member_from_doc,
    member_to_doc,
    pilot_from_doc,
    pilot_to_doc,
    reading_from_doc,
    reading_to_doc,
    send_from_doc,
    send_to_doc,
    tenant_settings_from_doc,
    tenant_settings_to_doc,
    utc_key,
)
from storage.documents import DocumentStore, where
from storage.summaries import DECISIONS, PILOT, PilotSummaryStore, checkin_touched, reading_touched

# Documents whose audit events are not yet cleared (governance.audit): the repair reads only these.
PENDING = where("pendingAudit", "!=", None)


# -- repositories ------------------------------------------------------------------------------------------------


class DocumentPilotRepository:
    """Every write goes through the pilot's summary (storage.summaries), as do those of the readings, decisions and
    check-in records below."""

    container = "pilots"

    def __init__(self, store: DocumentStore, summaries: PilotSummaryStore) -> None:
        self._store = store
        self._summaries = summaries

    async def add(self, pilot: Pilot) -> Pilot:
        async def write() -> Pilot:
            return pilot_from_doc(await self._store.create(self.container, pilot_to_doc(pilot)))

        return await self._summaries.change(pilot.tenant_id, pilot.id, PILOT, write)

    async def get(self, pilot_id: str, tenant_id: str | None = None) -> Pilot | None:
        if tenant_id is not None:
            doc = await self._store.read(self.container, tenant_id, pilot_id)
            return pilot_from_doc(doc) if doc else None
        # Without a tenant (REST API by id) this is a cross-partition query on the id.
        docs = await self._store.query(self.container, [where("id", "=", pilot_id)])
        return pilot_from_doc(docs[0]) if docs else None

    async def save(self, pilot: Pilot) -> Pilot:
        async def write() -> Pilot:
            return pilot_from_doc(await self._store.replace(self.container, pilot_to_doc(pilot), pilot.version))

        return await self._summaries.change(pilot.tenant_id, pilot.id, PILOT, write)

    async def list(self, tenant_id: str | None = None) -> list[Pilot]:
        docs = await self._store.query(self.container, partition=tenant_id)
        return decoded(docs, pilot_from_doc, "pilot")

    async def find_by_name(self, tenant_id: str, name_key: str) -> Pilot | None:
        docs = await self._store.query(self.container, [where("nameKey", "=", name_key)], partition=tenant_id)
        return pilot_from_doc(docs[0]) if docs else None


class DocumentReadingRepository:
    container = "readings"

    def __init__(self, store: DocumentStore, summaries: PilotSummaryStore) -> None:
        self._store = store
        self._summaries = summaries

    async def get(self, pilot_id: str, period: Period) -> MetricReading | None:
        doc = await self._store.read(self.container, pilot_id, str(period))
        return reading_from_doc(doc) if doc else None

    async def add(self, reading: MetricReading) -> MetricReading:
        async def write() -> MetricReading:
            return reading_from_doc(await self._store.create(self.container, reading_to_doc(reading)))

        return await self._summaries.change(reading.tenant_id, reading.pilot_id, reading_touched(reading.period), write)

    async def save(self, reading: MetricReading) -> MetricReading:
        async def write() -> MetricReading:
            doc = reading_to_doc(reading)
            return reading_from_doc(await self._store.replace(self.container, doc, reading.version))

        return await self._summaries.change(reading.tenant_id, reading.pilot_id, reading_touched(reading.period), write)

    async def list_for(self, pilot_id: str) -> list[MetricReading]:
        docs = await self._store.query(self.container, partition=pilot_id)
        return sorted(decoded(docs, reading_from_doc, "reading"), key=lambda r: r.period)

    async def with_pending_audit(self, pilot_id: str) -> list[MetricReading]:
        docs = await self._store.query(self.container, [PENDING], partition=pilot_id)
        return decoded(docs, reading_from_doc, "reading")


class DocumentDecisionRepository:
    container = "decisions"

    def __init__(self, store: DocumentStore, summaries: PilotSummaryStore) -> None:
        self._store = store
        self._summaries = summaries

    async def add(self, decision: GateDecision) -> GateDecision:
        async def write() -> GateDecision:
            return decision_from_doc(await self._store.create(self.container, decision_to_doc(decision)))

        return await self._summaries.change(decision.tenant_id, decision.pilot_id, DECISIONS, write)

    async def save(self, decision: GateDecision) -> GateDecision:
        async def write() -> GateDecision:
            doc = decision_to_doc(decision)
            return decision_from_doc(await self._store.replace(self.container, doc, decision.version))

        return await self._summaries.change(decision.tenant_id, decision.pilot_id, DECISIONS, write)

    async def list_for(self, pilot_id: str) -> list[GateDecision]:
        docs = await self._store.query(self.container, partition=pilot_id)
        return sorted(decoded(docs, decision_from_doc, "decision"), key=lambda d: d.decided_at)

    async def with_pending_audit(self, pilot_id: str) -> list[GateDecision]:
        docs = await self._store.query(self.container, [PENDING], partition=pilot_id)
        return decoded(docs, decision_from_doc, "decision")


class DocumentAuditRepository:
    container = "audit"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def add(self, event: AuditEvent) -> None:
        await self._store.create(self.container, audit_to_doc(event))

    async def list_for(self, pilot_id: str) -> list[AuditEvent]:
        docs = await self._store.query(self.container, partition=pilot_id)
        return sorted(decoded(docs, audit_from_doc, "audit"), key=lambda e: e.at)


class DocumentConversationRepository:
    container = "conversations"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def upsert(self, ref: ConversationRef) -> ConversationRef:
        return conversation_from_doc(await self._store.upsert(self.container, conversation_to_doc(ref)))

    async def add(self, ref: ConversationRef) -> ConversationRef:
        return conversation_from_doc(await self._store.create(self.container, conversation_to_doc(ref)))

    async def save(self, ref: ConversationRef) -> ConversationRef:
        return conversation_from_doc(await self._store.replace(self.container, conversation_to_doc(ref), ref.version))

    async def get(self, tenant_id: str, conversation_id: str) -> ConversationRef | None:
        doc = await self._store.read(self.container, tenant_id, conversation_id)
        return conversation_from_doc(doc) if doc else None

    async def find_personal(self, tenant_id: str, aad_object_id: str) -> ConversationRef | None:
        docs = await self._store.query(
            self.container,
            [where("aadObjectId", "=", aad_object_id.lower()), where("kind", "=", ConversationKind.PERSONAL.value)],
            partition=tenant_id,
        )
        return _best_chat(decoded(docs, conversation_from_doc, "conversation"))

    async def personal_chats(self, tenant_id: str) -> dict[str, ConversationRef]:
        docs = await self._store.query(
            self.container, [where("kind", "=", ConversationKind.PERSONAL.value)], partition=tenant_id
        )
        by_user: dict[str, list[ConversationRef]] = {}
        for ref in decoded(docs, conversation_from_doc, "conversation"):
            by_user.setdefault(ref.aad_object_id.lower(), []).append(ref)
        return {user: best for user, refs in by_user.items() if (best := _best_chat(refs)) is not None}

    async def list_for_tenant(self, tenant_id: str) -> list[ConversationRef]:
        docs = await self._store.query(self.container, partition=tenant_id)
        return decoded(docs, conversation_from_doc, "conversation")


class DocumentMemberRepository:
    container = "members"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def upsert(self, member: TeamMember) -> None:
        await self._store.upsert(self.container, member_to_doc(member))

    async def find(self, tenant_id: str, aad_object_id: str) -> TeamMember | None:
        doc = await self._store.read(self.container, tenant_id, aad_object_id.lower())
        return member_from_doc(doc) if doc else None

    async def list_for_tenant(self, tenant_id: str) -> list[TeamMember]:
        docs = await self._store.query(self.container, partition=tenant_id)
        return decoded(docs, member_from_doc, "member")


class DocumentSendLog:
    """The exactly-once ledger: ``create`` is the conditional write that claims a message.

    A status reads only when a check-in card was sent: a claim (the first record of its key, not yet sent) changes
    nothing a summary holds, so only a check-in record written as sent, or replaced, goes through the summary."""

    container = "sendlog"

    def __init__(self, store: DocumentStore, summaries: PilotSummaryStore) -> None:
        self._store = store
        self._summaries = summaries

    async def get(self, pilot_id: str, key: str) -> SendRecord | None:
        doc = await self._store.read(self.container, pilot_id, key)
        return send_from_doc(doc) if doc else None

    async def create(self, record: SendRecord) -> SendRecord:
        async def write() -> SendRecord:
            return send_from_doc(await self._store.create(self.container, send_to_doc(record)))

        if record.status is not SendStatus.SENT or not is_checkin_log_key(record.key):
            return await write()
        return await self._summaries.change(record.tenant_id, record.pilot_id, checkin_touched(record.key), write)

    async def replace(self, record: SendRecord) -> SendRecord:
        async def write() -> SendRecord:
            return send_from_doc(await self._store.replace(self.container, send_to_doc(record), record.version))

        if not is_checkin_log_key(record.key):
            return await write()
        return await self._summaries.change(record.tenant_id, record.pilot_id, checkin_touched(record.key), write)

    async def list_for(self, pilot_id: str) -> list[SendRecord]:
        docs = await self._store.query(self.container, partition=pilot_id)
        return decoded(docs, send_from_doc, "send-log")


class DocumentAgenda:
    container = "agenda"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def set(self, entry: AgendaEntry) -> None:
        await self._store.upsert(self.container, agenda_to_doc(entry))

    async def set_due(self, pilot_id: str, tenant_id: str, when: datetime | None) -> None:
        await self.set(AgendaEntry(pilot_id, tenant_id, when))

    async def due(self, now: datetime) -> list[AgendaEntry]:
        docs = await self._store.query(self.container, [where("nextDueAt", "<=", utc_key(now))])
        return decoded(docs, agenda_from_doc, "agenda")

    async def get(self, pilot_id: str) -> AgendaEntry | None:
        doc = await self._store.read(self.container, pilot_id, pilot_id)
        if doc is None:
            return None
        due = doc.get("nextDueAt")
        moment = datetime.strptime(due, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) if due else None
        return AgendaEntry(doc["id"], doc["tenantId"], moment)


class DocumentTenantSettings:
    container = "tenants"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def get(self, tenant_id: str) -> TenantSettings:
        doc = await self._store.read(self.container, tenant_id, tenant_id)
        return tenant_settings_from_doc(doc) if doc else TenantSettings(tenant_id)

    async def save(self, settings: TenantSettings) -> TenantSettings:
        """Create the tenant's settings (version None: AlreadyExists if another admin did first) or replace them if
        they still have ``settings.version`` (else ConcurrencyConflict)."""
        doc = tenant_settings_to_doc(settings)
        if settings.version is None:
            return tenant_settings_from_doc(await self._store.create(self.container, doc))
        return tenant_settings_from_doc(await self._store.replace(self.container, doc, settings.version))

    async def with_leadership_channel(self) -> list[TenantSettings]:
        """Every tenant that has linked a leadership channel (a cross-partition query; tenants are few)."""
        docs = await self._store.query(self.container, [where("leadershipChannel", "!=", None)])
        return decoded(docs, tenant_settings_from_doc, "tenant settings")


class DocumentQuarterlyAudits:
    container = "audits"

    def __init__(self, store: DocumentStore) -> None:
        self._store = store

    async def create(self, audit: QuarterlyAudit) -> QuarterlyAudit:
        return quarterly_audit_from_doc(await self._store.create(self.container, quarterly_audit_to_doc(audit)))

    async def save(self, audit: QuarterlyAudit) -> QuarterlyAudit:
        doc = quarterly_audit_to_doc(audit)
        return quarterly_audit_from_doc(await self._store.replace(self.container, doc, audit.version))

    async def get(self, tenant_id: str | None, audit_id: str) -> QuarterlyAudit | None:
        if tenant_id is not None:
            doc = await self._store.read(self.container, tenant_id, audit_id)
            return quarterly_audit_from_doc(doc) if doc else None
        docs = await self._store.query(self.container, [where("id", "=", audit_id)])
        return quarterly_audit_from_doc(docs[0]) if docs else None

    async def open_for(self, tenant_id: str) -> QuarterlyAudit | None:
        docs = await self._store.query(
            self.container, [where("status", "=", AuditStatus.OPEN.value)], partition=tenant_id
        )
        audits = decoded(docs, quarterly_audit_from_doc, "quarterly audit")
        return audits[0] if audits else None

    async def list_for(self, tenant_id: str) -> list[QuarterlyAudit]:
        docs = await self._store.query(self.container, partition=tenant_id)
        return sorted(decoded(docs, quarterly_audit_from_doc, "quarterly audit"), key=lambda a: a.quarter, reverse=True)


@dataclass(frozen=True)
class Repositories:
    """Every repository on one store; built once by create_app."""

    store: DocumentStore
    pilots: DocumentPilotRepository
    readings: DocumentReadingRepository
    decisions: DocumentDecisionRepository
    audit: DocumentAuditRepository
    conversations: DocumentConversationRepository
    members: DocumentMemberRepository
    sendlog: DocumentSendLog
    agenda: DocumentAgenda
    tenants: DocumentTenantSettings
    audits: DocumentQuarterlyAudits
    summaries: PilotSummaryStore

    def portfolio(self, clock: Clock) -> Portfolio:
        """The portfolio reads on these repositories: a pilot's status from its sources, a tenant's from summaries."""
        return Portfolio(
            self.pilots,
            self.readings,
            self.decisions,
            self.sendlog,
            self.conversations,
            self.members,
            clock,
            self.summaries,
            self.tenants,
        )

    @classmethod
    def on(cls, store: DocumentStore, clock: Clock | None = None) -> Repositories:
        """``clock`` dates the summaries' pending marks (storage.summaries), to tell a writer that died."""
        summaries = PilotSummaryStore(store, clock or SystemClock())
        return cls(
            store=store,
            pilots=DocumentPilotRepository(store, summaries),
            readings=DocumentReadingRepository(store, summaries),
            decisions=DocumentDecisionRepository(store, summaries),
            audit=DocumentAuditRepository(store),
            conversations=DocumentConversationRepository(store),
            members=DocumentMemberRepository(store),
            sendlog=DocumentSendLog(store, summaries),
            agenda=DocumentAgenda(store),
            tenants=DocumentTenantSettings(store),
            audits=DocumentQuarterlyAudits(store),
            summaries=summaries,
        )


def _best_chat(refs: list[ConversationRef]) -> ConversationRef | None:
    """Of someone's 1:1 chats, the working one seen last."""
    ordered = sorted(refs, key=lambda r: (r.active and not r.undeliverable, r.updated_at or datetime.min), reverse=True)
    return ordered[0] if ordered else None
