"""The quarterly audit <-> its document: one document per (tenant, quarter), the snapshot and every answer in it.

Kept beside storage.codec (whose helpers it uses) so that the audit's shape reads in one place.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from governance.model import Direction, Integration, Metric, Person
from governance.quarterly_audit import (
    AdminDecision,
    Attestation,
    AuditItem,
    AuditStatus,
    ItemState,
    Outcome,
    QuarterlyAudit,
    Recommendation,
)
from storage.codec import _dt, _person, _required_dt
from storage.documents import ETAG, Document


def _person_doc(person: Person) -> Document:
    return {"aadObjectId": person.aad_object_id, "name": person.name}


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _required_date(doc: Document, key: str) -> date:
    day = _date(doc.get(key))
    if day is None:
        raise ValueError(f"{key} is missing")
    return day


def _attestation_doc(attestation: Attestation | None) -> Document | None:
    if attestation is None:
        return None
    return {
        "by": _person_doc(attestation.by),
        "at": _dt(attestation.at),
        "metricName": attestation.metric_name,
        "baseline": attestation.baseline,
        "target": attestation.target,
        "targetDate": attestation.target_date.isoformat(),
        "integration": attestation.integration.value,
        "governance": {item: state.value for item, state in attestation.governance.items()},
        "recommendation": attestation.recommendation.value,
        "recommendedDate": attestation.recommended_date.isoformat(),
        "note": attestation.note,
    }


def _attestation_of(doc: Document | None) -> Attestation | None:
    if not doc:
        return None
    return Attestation(
        by=_person(doc["by"]),
        at=_required_dt(doc, "at"),
        metric_name=doc["metricName"],
        baseline=float(doc["baseline"]),
        target=float(doc["target"]),
        target_date=_required_date(doc, "targetDate"),
        integration=Integration(doc["integration"]),
        governance={str(k): ItemState(v) for k, v in (doc.get("governance") or {}).items()},
        recommendation=Recommendation(doc["recommendation"]),
        recommended_date=_required_date(doc, "recommendedDate"),
        note=doc.get("note", ""),
    )


def _decision_doc(decision: AdminDecision | None) -> Document | None:
    if decision is None:
        return None
    return {
        "recommendation": decision.recommendation.value,
        "on": decision.on.isoformat(),
        "note": decision.note,
        "by": _person_doc(decision.by),
        "at": _dt(decision.at),
        "accepted": decision.accepted,
    }


def _decision_of(doc: Document | None) -> AdminDecision | None:
    if not doc:
        return None
    return AdminDecision(
        recommendation=Recommendation(doc["recommendation"]),
        on=_required_date(doc, "on"),
        note=doc.get("note", ""),
        by=_person(doc["by"]),
        at=_required_dt(doc, "at"),
        accepted=bool(doc.get("accepted", False)),
    )


def _item_doc(item: AuditItem) -> Document:
    metric = item.metric
    return {
        "pilotId": item.pilot_id,
        "name": item.name,
        "sponsor": _person_doc(item.sponsor),
        "stage": item.stage,
        "metric": None
        if metric is None
        else {
            "name": metric.name,
            "unit": metric.unit,
            "baseline": metric.baseline,
            "target": metric.target,
            "direction": metric.direction.value,
        },
        "gateDate": item.gate_date.isoformat() if item.gate_date else None,
        "governance": dict(item.governance),
        "reachable": item.reachable,
        "timezone": item.timezone,
        "integration": item.integration.value if item.integration else None,
        "attestation": _attestation_doc(item.attestation),
        "decision": _decision_doc(item.decision),
        "outcome": item.outcome.value if item.outcome else None,
    }


def _item_of(doc: Document) -> AuditItem:
    metric = doc.get("metric")
    return AuditItem(
        pilot_id=doc["pilotId"],
        name=doc["name"],
        sponsor=_person(doc["sponsor"]),
        stage=doc["stage"],
        metric=None
        if not metric
        else Metric(
            metric["name"],
            metric.get("unit", ""),
            float(metric["baseline"]),
            float(metric["target"]),
            Direction(metric["direction"]),
        ),
        gate_date=_date(doc.get("gateDate")),
        governance={str(k): bool(v) for k, v in (doc.get("governance") or {}).items()},
        reachable=bool(doc.get("reachable", False)),
        timezone=doc.get("timezone") or "UTC",
        integration=Integration(doc["integration"]) if doc.get("integration") else None,
        attestation=_attestation_of(doc.get("attestation")),
        decision=_decision_of(doc.get("decision")),
        outcome=Outcome(doc["outcome"]) if doc.get("outcome") else None,
    )


def quarterly_audit_to_doc(audit: QuarterlyAudit) -> Document:
    return {
        "id": audit.id,
        "type": "quarterlyAudit",
        "tenantId": audit.tenant_id,
        "openKey": audit.open_key,
        "quarter": audit.quarter,
        "status": audit.status.value,
        "openedBy": _person_doc(audit.opened_by),
        "openedAt": _dt(audit.opened_at),
        "closedBy": _person_doc(audit.closed_by) if audit.closed_by else None,
        "closedAt": _dt(audit.closed_at),
        "items": [_item_doc(item) for item in audit.items],
    }


def quarterly_audit_from_doc(doc: Document) -> QuarterlyAudit:
    closed_by = doc.get("closedBy")
    return QuarterlyAudit(
        id=doc["id"],
        tenant_id=doc["tenantId"],
        quarter=doc["quarter"],
        status=AuditStatus(doc["status"]),
        opened_by=_person(doc["openedBy"]),
        opened_at=_required_dt(doc, "openedAt"),
        items=tuple(_item_of(item) for item in doc.get("items") or ()),
        closed_by=_person(closed_by) if closed_by else None,
        closed_at=_required_dt(doc, "closedAt") if doc.get("closedAt") else None,
        version=doc.get(ETAG),
    )
