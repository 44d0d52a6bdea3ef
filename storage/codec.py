"""Domain objects <-> the JSON documents the stores keep: one pair of functions a type, and ``decoded`` for lists
that must survive one document that does not read."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from governance.model import (
    AgendaEntry,
    AuditEvent,
    ChannelLink,
    CheckinHold,
    CheckinRecipient,
    ConversationKind,
    ConversationRef,
    DecisionKind,
    Direction,
    GateDecision,
    HealthStatus,
    Integration,
    Metric,
    MetricReading,
    Person,
    Pilot,
    ReadingSource,
    ScalePlan,
    SendRecord,
    SendStatus,
    Stage,
    TeamMember,
    TenantSettings,
    Workflow,
    WorkSurface,
)
from governance.period import Period
from governance.rules import name_key
from storage.documents import ETAG, Document

logger = logging.getLogger(__name__)

T = TypeVar("T")


def decoded(docs: Iterable[Document], decode: Callable[[Document], T], what: str) -> list[T]:
    """Every document that reads as ``what``; one that does not (written by an older version, or by hand) is
    logged by id and left out, so it cannot break the lists, `pilots`, `overdue` or the sweep for everyone else."""
    out: list[T] = []
    for doc in docs:
        try:
            out.append(decode(doc))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            logger.error("skipped a %s document that does not read (id %r): %s", what, doc.get("id"), exc)
    return out


# -- documents ---------------------------------------------------------------------------------------------------


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse_dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _required_dt(doc: Document, key: str) -> datetime:
    moment = _parse_dt(doc.get(key))
    if moment is None:
        raise ValueError(f"{key} is missing")
    return moment


def _person(doc: dict[str, Any]) -> Person:
    return Person(doc.get("aadObjectId", ""), doc.get("name", ""))


def _person_doc(person: Person | None) -> Document | None:
    return {"aadObjectId": person.aad_object_id, "name": person.name} if person is not None else None


def _person_or_none(doc: dict[str, Any] | None) -> Person | None:
    return _person(doc) if doc else None


def _channel_doc(channel: ChannelLink | None) -> Document | None:
    if channel is None:
        return None
    return {"conversationId": channel.conversation_id, "teamId": channel.team_id, "name": channel.name}


def _channel_of(doc: Document | None) -> ChannelLink | None:
    if not doc:
        return None
    return ChannelLink(doc["conversationId"], doc.get("teamId", ""), doc.get("name", ""))


def _workflow_doc(workflow: Workflow | None) -> Document | None:
    if workflow is None:
        return None
    return {"surface": workflow.surface.value, "system": workflow.system, "integrated": workflow.integrated.value}


def _workflow_of(doc: Document | None) -> Workflow | None:
    if not doc:
        return None
    return Workflow(WorkSurface(doc["surface"]), Integration(doc["integrated"]), doc.get("system", ""))


def _hold_doc(hold: CheckinHold) -> Document:
    return {
        "period": str(hold.period),
        "by": {"aadObjectId": hold.by.aad_object_id, "name": hold.by.name},
        "at": _dt(hold.at),
        "remindOn": hold.remind_on.isoformat() if hold.remind_on else None,
        "skipped": hold.skipped,
        "reason": hold.reason,
    }


def _hold_of(doc: Document) -> CheckinHold:
    remind_on = doc.get("remindOn")
    return CheckinHold(
        period=Period.parse(doc["period"]),
        by=_person(doc.get("by") or {}),
        at=_required_dt(doc, "at"),
        remind_on=date.fromisoformat(remind_on) if remind_on else None,
        skipped=bool(doc.get("skipped", False)),
        reason=doc.get("reason", ""),
    )


def pilot_to_doc(pilot: Pilot) -> Document:
    return {
        "id": pilot.id,
        "type": "pilot",
        "tenantId": pilot.tenant_id,
        "name": pilot.name,
        "nameKey": name_key(pilot.name),
        "sponsor": _person_doc(pilot.sponsor),
        "metrics": [
            {"name": m.name, "unit": m.unit, "baseline": m.baseline, "target": m.target, "direction": m.direction.value}
            for m in pilot.metrics
        ],
        "startDate": pilot.start_date.isoformat(),
        "gateDate": pilot.gate_date.isoformat(),
        "checkinDay": pilot.checkin_day,
        "timezone": pilot.timezone,
        "country": pilot.country,
        "checkinHolds": [_hold_doc(hold) for hold in pilot.checkin_holds],
        "channel": _channel_doc(pilot.channel),
        "budgetMonthly": pilot.budget_monthly,
        "intendedUsers": pilot.intended_users,
        "scalePlan": {"expand": pilot.scale_plan.expand, "retire": pilot.scale_plan.retire},
        "governance": dict(pilot.governance),
        "stage": pilot.stage.value,
        "extensions": pilot.extensions,
        "workflow": _workflow_doc(pilot.workflow),
        "sponsorEmail": pilot.sponsor_email,
        "lead": _person_doc(pilot.lead),
        "checkinRecipient": pilot.checkin_recipient.value,
        "createdBy": pilot.created_by,
        "createdAt": _dt(pilot.created_at),
        "updatedAt": _dt(pilot.updated_at),
        **_pending(pilot.pending_audit),
    }


def pilot_from_doc(doc: Document) -> Pilot:
    return Pilot(
        id=doc["id"],
        tenant_id=doc["tenantId"],
        name=doc["name"],
        sponsor=_person(doc["sponsor"]),
        metrics=tuple(
            Metric(m["name"], m.get("unit", ""), float(m["baseline"]), float(m["target"]), Direction(m["direction"]))
            for m in doc["metrics"]
        ),
        start_date=date.fromisoformat(doc["startDate"]),
        gate_date=date.fromisoformat(doc["gateDate"]),
        checkin_day=int(doc.get("checkinDay", 1)),
        timezone=doc.get("timezone", "UTC"),
        country=doc.get("country") or None,
        checkin_holds=tuple(_hold_of(hold) for hold in doc.get("checkinHolds") or ()),
        channel=_channel_of(doc.get("channel")),
        budget_monthly=doc.get("budgetMonthly"),
        intended_users=doc.get("intendedUsers"),
        scale_plan=ScalePlan(**(doc.get("scalePlan") or {})),
        governance={str(k): bool(v) for k, v in (doc.get("governance") or {}).items()},
        stage=Stage(doc.get("stage", "pilot")),
        extensions=int(doc.get("extensions", 0)),
        workflow=_workflow_of(doc.get("workflow")),
        sponsor_email=doc.get("sponsorEmail") or "",
        lead=_person_or_none(doc.get("lead")),
        checkin_recipient=CheckinRecipient(doc.get("checkinRecipient") or "sponsor"),
        created_by=doc.get("createdBy", ""),
        created_at=_parse_dt(doc.get("createdAt")),
        updated_at=_parse_dt(doc.get("updatedAt")),
        pending_audit=_pending_of(doc),
        version=doc.get(ETAG),
    )


def reading_to_doc(reading: MetricReading) -> Document:
    return {
        "id": str(reading.period),
        "type": "reading",
        "pilotId": reading.pilot_id,
        "tenantId": reading.tenant_id,
        "period": str(reading.period),
        "values": dict(reading.values),
        "status": reading.status.value,
        "activeUsers": reading.active_users,
        "spend": reading.spend,
        "blockers": reading.blockers,
        "notes": reading.notes,
        "source": reading.source.value,
        "submittedBy": _person_doc(reading.submitted_by),
        "submittedAt": _dt(reading.submitted_at),
        "correctedBy": _person_doc(reading.corrected_by),
        "correctedAt": _dt(reading.corrected_at),
        "confirmedBy": _person_doc(reading.confirmed_by),
        "confirmedAt": _dt(reading.confirmed_at),
        **_pending(reading.pending_audit),
    }


def reading_from_doc(doc: Document) -> MetricReading:
    submitted_at = _required_dt(doc, "submittedAt")
    return MetricReading(
        pilot_id=doc["pilotId"],
        tenant_id=doc["tenantId"],
        period=Period.parse(doc["period"]),
        values={str(k): float(v) for k, v in doc["values"].items()},
        status=HealthStatus(doc["status"]),
        active_users=doc.get("activeUsers"),
        spend=doc.get("spend"),
        blockers=doc.get("blockers", ""),
        notes=doc.get("notes", ""),
        source=ReadingSource(doc.get("source", "teams")),
        submitted_by=_person(doc["submittedBy"]),
        submitted_at=submitted_at,
        corrected_by=_person_or_none(doc.get("correctedBy")),
        corrected_at=_parse_dt(doc.get("correctedAt")),
        confirmed_by=_person_or_none(doc.get("confirmedBy")),
        confirmed_at=_parse_dt(doc.get("confirmedAt")),
        pending_audit=_pending_of(doc),
        version=doc.get(ETAG),
    )


def decision_to_doc(decision: GateDecision) -> Document:
    return {
        # One decision per gate: the id makes a second one for the same gate date a conflict.
        "id": f"gate-{decision.gate_date.isoformat()}",
        "type": "decision",
        "pilotId": decision.pilot_id,
        "tenantId": decision.tenant_id,
        "gateDate": decision.gate_date.isoformat(),
        "kind": decision.kind.value,
        "rationale": decision.rationale,
        "decidedBy": {"aadObjectId": decision.decided_by.aad_object_id, "name": decision.decided_by.name},
        "decidedAt": _dt(decision.decided_at),
        "newGateDate": decision.new_gate_date.isoformat() if decision.new_gate_date else None,
        "effectiveDate": decision.effective_date.isoformat() if decision.effective_date else None,
        "details": dict(decision.details),
        **_pending(decision.pending_audit),
    }


def decision_from_doc(doc: Document) -> GateDecision:
    decided_at = _required_dt(doc, "decidedAt")
    return GateDecision(
        pilot_id=doc["pilotId"],
        tenant_id=doc["tenantId"],
        gate_date=date.fromisoformat(doc["gateDate"]),
        kind=DecisionKind(doc["kind"]),
        rationale=doc.get("rationale", ""),
        decided_by=_person(doc["decidedBy"]),
        decided_at=decided_at,
        new_gate_date=date.fromisoformat(doc["newGateDate"]) if doc.get("newGateDate") else None,
        effective_date=date.fromisoformat(doc["effectiveDate"]) if doc.get("effectiveDate") else None,
        details={str(k): str(v) for k, v in (doc.get("details") or {}).items()},
        pending_audit=_pending_of(doc),
        version=doc.get(ETAG),
    )


def conversation_to_doc(ref: ConversationRef) -> Document:
    return {
        "id": ref.conversation_id,
        "type": "conversation",
        "tenantId": ref.tenant_id,
        "kind": ref.kind.value,
        "serviceUrl": ref.service_url,
        "botId": ref.bot_id,
        "userId": ref.user_id,
        "aadObjectId": ref.aad_object_id.lower(),
        "userName": ref.user_name,
        "teamId": ref.team_id,
        "channelId": ref.channel_id,
        "active": ref.active,
        "undeliverable": ref.undeliverable,
        "greeted": ref.greeted,
        "updatedAt": _dt(ref.updated_at),
    }


def conversation_from_doc(doc: Document) -> ConversationRef:
    return ConversationRef(
        conversation_id=doc["id"],
        tenant_id=doc["tenantId"],
        kind=ConversationKind(doc["kind"]),
        service_url=doc["serviceUrl"],
        bot_id=doc.get("botId", ""),
        user_id=doc.get("userId", ""),
        aad_object_id=doc.get("aadObjectId", ""),
        user_name=doc.get("userName", ""),
        team_id=doc.get("teamId", ""),
        channel_id=doc.get("channelId", ""),
        active=bool(doc.get("active", True)),
        undeliverable=bool(doc.get("undeliverable", False)),
        greeted=bool(doc.get("greeted", False)),
        updated_at=_parse_dt(doc.get("updatedAt")),
        version=doc.get(ETAG),
    )


def audit_to_doc(event: AuditEvent) -> Document:
    return {
        "id": event.id,
        "type": "audit",
        "pilotId": event.pilot_id,
        "tenantId": event.tenant_id,
        "actor": event.actor,
        "at": _dt(event.at),
        "action": event.action,
        "before": event.before,
        "after": event.after,
    }


def audit_from_doc(doc: Document) -> AuditEvent:
    at = _required_dt(doc, "at")
    return AuditEvent(
        id=doc["id"],
        tenant_id=doc["tenantId"],
        pilot_id=doc["pilotId"],
        actor=doc["actor"],
        at=at,
        action=doc["action"],
        before=doc.get("before"),
        after=doc.get("after"),
    )


def _pending(events: tuple[AuditEvent, ...]) -> Document:
    """Audit events written with their change (governance.audit); absent when there are none."""
    return {"pendingAudit": [audit_to_doc(e) for e in events]} if events else {}


def _pending_of(doc: Document) -> tuple[AuditEvent, ...]:
    return tuple(audit_from_doc(e) for e in doc.get("pendingAudit") or ())


def member_to_doc(member: TeamMember) -> Document:
    return {
        "id": member.aad_object_id.lower(),
        "type": "member",
        "tenantId": member.tenant_id,
        "userId": member.user_id,
        "name": member.name,
        "serviceUrl": member.service_url,
        "botId": member.bot_id,
        "email": member.email,
        "updatedAt": _dt(member.updated_at),
    }


def member_from_doc(doc: Document) -> TeamMember:
    return TeamMember(
        tenant_id=doc["tenantId"],
        aad_object_id=doc["id"],
        user_id=doc["userId"],
        name=doc.get("name", ""),
        service_url=doc.get("serviceUrl", ""),
        bot_id=doc.get("botId", ""),
        email=doc.get("email") or "",
        updated_at=_parse_dt(doc.get("updatedAt")),
    )


def utc_key(moment: datetime) -> str:
    """A UTC timestamp that sorts as text (the stores compare nextDueAt as strings)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def send_to_doc(record: SendRecord) -> Document:
    return {
        "id": record.key,
        "type": "send",
        "pilotId": record.pilot_id,
        "tenantId": record.tenant_id,
        "status": record.status.value,
        "claimedAt": _dt(record.claimed_at),
        "attempts": record.attempts,
        "nextAttemptAt": _dt(record.next_attempt_at),
        "conversationId": record.conversation_id,
        "activityId": record.activity_id,
        "sentAt": _dt(record.sent_at),
        "detail": record.detail,
        "leaseUntil": _dt(record.lease_until),
        "owner": record.owner,
    }


def send_from_doc(doc: Document) -> SendRecord:
    claimed_at = _required_dt(doc, "claimedAt")
    return SendRecord(
        pilot_id=doc["pilotId"],
        tenant_id=doc["tenantId"],
        key=doc["id"],
        status=SendStatus(doc["status"]),
        claimed_at=claimed_at,
        attempts=int(doc.get("attempts", 1)),
        next_attempt_at=_parse_dt(doc.get("nextAttemptAt")),
        conversation_id=doc.get("conversationId", ""),
        activity_id=doc.get("activityId", ""),
        sent_at=_parse_dt(doc.get("sentAt")),
        detail=doc.get("detail", ""),
        lease_until=_parse_dt(doc.get("leaseUntil")),  # absent on records written before leases were renewed
        owner=doc.get("owner", ""),
        version=doc.get(ETAG),
    )


def agenda_to_doc(entry: AgendaEntry) -> Document:
    return {
        "id": entry.pilot_id,
        "type": "agenda",
        "tenantId": entry.tenant_id,
        "nextDueAt": utc_key(entry.next_due_at) if entry.next_due_at else None,
    }


def agenda_from_doc(doc: Document) -> AgendaEntry:
    due = doc["nextDueAt"]
    return AgendaEntry(doc["id"], doc["tenantId"], datetime.strptime(due, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC))


def tenant_settings_to_doc(settings: TenantSettings) -> Document:
    return {
        "id": settings.tenant_id,
        "type": "tenant",
        "tenantId": settings.tenant_id,
        "leadershipChannel": _channel_doc(settings.leadership_channel),
        "reportBusinessDay": settings.report_business_day,
        "reportTimezone": settings.report_timezone,
        "defaultCountry": settings.default_country,
        "updatedBy": settings.updated_by,
        "updatedAt": _dt(settings.updated_at),
    }


def tenant_settings_from_doc(doc: Document) -> TenantSettings:
    return TenantSettings(
        tenant_id=doc["tenantId"],
        leadership_channel=_channel_of(doc.get("leadershipChannel")),
        report_business_day=int(doc.get("reportBusinessDay", 5)),
        report_timezone=doc.get("reportTimezone") or "UTC",
        default_country=doc.get("defaultCountry") or None,
        updated_by=doc.get("updatedBy", ""),
        updated_at=_parse_dt(doc.get("updatedAt")),
        version=doc.get(ETAG),
    )
