"""The audit trail, written with the change it records.

A change and its audit event live in different containers (the pilot by tenant, its trail by pilot), which no store
writes atomically across. So the event travels inside the changed document (``pending_audit``): the change and its
event are one write, which lands whole or not at all. The request then copies the event into the trail under its
own id (a second copy is refused by the store, so copying twice is harmless). Every later writer carries pending
events forward (they save ``replace(current, ...)``), and the sweep's repair, which every change puts on the agenda,
copies whatever is still missing from the trail and clears the list. If the store fails in between, nothing is lost:
the event is in the document until the repair has it in the trail.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import uuid
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

from governance.errors import AlreadyExists, ConcurrencyConflict, RecordNotFound, StorageUnavailable
from governance.model import AuditEvent, GateDecision, MetricReading, Pilot
from governance.ports import AuditRepository, DecisionRepository, PilotRepository, ReadingRepository

logger = logging.getLogger(__name__)

_NOT_IN_SNAPSHOTS = ("version", "pending_audit", "tenant_country")


def snapshot(value: Any) -> dict[str, object]:
    """A JSON-ready dict of a domain object, for the audit trail."""

    def plain(v: Any) -> Any:
        if isinstance(v, datetime | date):
            return v.isoformat()
        if isinstance(v, Enum):
            return v.value
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [plain(x) for x in v]
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return snapshot(v)
        if hasattr(v, "year") and hasattr(v, "month"):  # a Period
            return str(v)
        return v

    raw = {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if f.name not in _NOT_IN_SNAPSHOTS}
    return {k: plain(v) for k, v in raw.items()}


def audit_event(pilot: Pilot, actor_id: str, at: datetime, action: str, before: Any, after: Any) -> AuditEvent:
    return AuditEvent(
        id=uuid.uuid4().hex,
        tenant_id=pilot.tenant_id,
        pilot_id=pilot.id,
        actor=actor_id,
        at=at,
        action=action,
        before=snapshot(before) if before is not None else None,
        after=snapshot(after) if after is not None else None,
    )


P = TypeVar("P", Pilot, MetricReading, GateDecision)


class AuditTrail:
    def __init__(
        self,
        audit: AuditRepository,
        pilots: PilotRepository,
        readings: ReadingRepository,
        decisions: DecisionRepository,
    ) -> None:
        self._audit = audit
        self._pilots = pilots
        self._readings = readings
        self._decisions = decisions

    async def copy(self, record: P) -> P:
        """The request path: copy ``record``'s newest pending event (the one its write just added) into the trail.
        The event stays listed in the document; the sweep's repair (``flush_all``) clears what is copied, so a
        request pays one write for its audit event, as it would without the pending list."""
        if not record.pending_audit:
            return record
        try:
            with contextlib.suppress(AlreadyExists):
                await self._audit.add(record.pending_audit[-1])
        except StorageUnavailable as exc:
            logger.warning("the audit event of pilot %s stays pending: %s", _pilot_id(record), exc.message)
        return record

    async def flush(self, record: P) -> P:
        """Copy ``record``'s pending events into the trail and clear them; on a store failure they stay pending
        (logged), to be copied by the next flush. Returns the record as stored."""
        if not record.pending_audit:
            return record
        try:
            for event in record.pending_audit:
                with contextlib.suppress(AlreadyExists):  # copied before, by a flush that could not clear the document
                    await self._audit.add(event)
            return await self._save(dataclasses.replace(record, pending_audit=()))
        except ConcurrencyConflict:  # a newer version carries the events forward; its flush copies them
            return record
        except (StorageUnavailable, RecordNotFound) as exc:
            logger.warning("audit events of pilot %s stay pending: %s", _pilot_id(record), exc.message)
            return record

    async def flush_all(self, pilot: Pilot) -> bool:
        """The sweep's repair: every pending event of a pilot, its readings and its decisions. True when none is
        left pending."""
        # Two queries that return nothing in the usual case, rather than every reading and decision of the pilot.
        readings = await self._readings.with_pending_audit(pilot.id)
        decisions = await self._decisions.with_pending_audit(pilot.id)
        left = [bool((await self.flush(r)).pending_audit) for r in readings]
        left += [bool((await self.flush(d)).pending_audit) for d in decisions]
        left.append(bool((await self.flush(pilot)).pending_audit))
        return not any(left)

    async def _save(self, record: P) -> P:
        if isinstance(record, Pilot):
            return await self._pilots.save(record)
        if isinstance(record, MetricReading):
            return await self._readings.save(record)
        return await self._decisions.save(record)


def _pilot_id(record: Pilot | MetricReading | GateDecision) -> str:
    return record.id if isinstance(record, Pilot) else record.pilot_id
