"""The per-pilot summary: one document per pilot (container ``summaries``, partition tenantId, id = pilot id) holding
the facts its status is built from, so that `pilots`, `overdue` and the search read a tenant in one query.

It keeps facts, not answers: the pilot, all its readings (one a month, at least the 13 months a trend needs), its
decisions and the send-log records of its 13 latest check-in cards that went out (``governance.views.PilotFacts``).
A status is built from them at the moment it is read, by the same ``governance.views`` functions as a single pilot's
status, so an answer that depends on the time (overdue from 09:00 on the 7th business day) is right whenever it is
read.

Stored compact (``_fact``, ``_packed``): the facts leave out what the summary names itself and are kept as one string of
JSON, decoded only when the summary's ETag is new to the reader; `pilots` at a thousand pilots is mostly reading.

No store writes two documents atomically, so the summary cannot be written "with" its change. Instead every change
is bracketed (``PilotSummaryStore.change``):

1. mark: the summary gets a pending entry (a token and the time) under its ETag, before the change is written;
2. the change is written (one document, as before);
3. settle: the summary is re-read, the facts the change touched are read again from their sources, and the summary
   is replaced under the ETag it had when it was re-read, without this change's token.

A summary with a pending entry is dirty: a reader builds that pilot from the sources instead (so a reader pays for the
changes in flight, not for the number of pilots). A summary without one is clean, and clean means current: a settle
writes facts read from the sources after it read the summary, under that summary's ETag, so a change that marked the
summary after that read makes the settle fail and go round again, and a change that marked it before still has its
token in the summary. A writer that dies between mark and settle leaves its token behind: the summary stays dirty
(and correct, read from the sources) until a reader or the sweep's repair finds the token older than
``STALE_AFTER``, rebuilds the summary from the sources and drops it.

Existing data (written before summaries existed) is summarised on a tenant's first read; a marker document in the
partition records that every pilot of the tenant has its summary from then on (a new pilot's summary is created by
its mark, before the pilot).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, TypeVar, overload

from governance.checkin import is_checkin_log_key
from governance.errors import AlreadyExists, ConcurrencyConflict, GovernanceError, RecordNotFound
from governance.model import Pilot, SendStatus
from governance.ports import Clock
from governance.views import PilotFacts
from storage.codec import decision_from_doc, decoded, pilot_from_doc, reading_from_doc, send_from_doc
from storage.documents import ETAG, Document, DocumentStore, parse_json

logger = logging.getLogger(__name__)

T = TypeVar("T")

SUMMARIES: Final = "summaries"
MARKER_ID: Final = "summaries-built"  # a pilot id (uuid hex) has no hyphen
STALE_AFTER: Final = timedelta(minutes=15)  # far longer than any request or sweep step takes between mark and settle
KEPT_CHECKINS: Final = 13
DECODED_KEPT: Final = 50_000  # decoded summaries kept in memory, across tenants
SUMMARISING_AT_ONCE: Final = 16  # pilots summarised at once on a tenant's first read
ATTEMPTS: Final = 16  # for a mark or a settle that loses ETag races to other writers of the same pilot


FACTS: Final = ("pilot", "readings", "decisions", "checkins")  # packed into one string (``_packed``)
PACKED: Final = "facts"
# Left out of the facts a summary keeps (``_fact``): the summary names its tenant and pilot itself.
_NOT_KEPT: Final = frozenset({"pendingAudit", "tenantId", "pilotId", "type", "nameKey"})


@dataclass(frozen=True, slots=True)
class Touched:
    """Which facts of a pilot's summary a change touches."""

    pilot: bool = False
    reading: str | None = None  # the period (the reading's id)
    decisions: bool = False
    checkin: str | None = None  # the send-log key


PILOT: Final = Touched(pilot=True)
DECISIONS: Final = Touched(decisions=True)


def reading_touched(period: object) -> Touched:
    return Touched(reading=str(period))


def checkin_touched(key: str) -> Touched:
    return Touched(checkin=key)


class PilotSummaryStore:
    def __init__(self, store: DocumentStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        # Decoded facts by (pilot id, summary ETag): a summary that has not changed since the last read is not decoded
        # again (a thousand pilots' readings take longer to decode than to read).
        self._decoded: dict[tuple[str, str], PilotFacts] = {}

    # -- the write side ------------------------------------------------------------------------------------------

    async def change(self, tenant_id: str, pilot_id: str, touched: Touched, write: Callable[[], Awaitable[T]]) -> T:
        """Write one change of a pilot's facts, bracketed by its summary's mark and settle (module note). A failed
        mark fails the change before anything is written; a failed settle leaves the summary dirty, not wrong."""
        token = await self._mark(tenant_id, pilot_id)
        try:
            return await write()
        finally:
            await self._settle(tenant_id, pilot_id, token, touched)

    async def _mark(self, tenant_id: str, pilot_id: str) -> str:
        token = uuid.uuid4().hex
        entry = {"token": token, "at": self._clock.now().isoformat()}

        async def attempt() -> None:
            doc = await self._store.read(SUMMARIES, tenant_id, pilot_id)
            if doc is None:  # a new pilot, or one from before summaries: its facts are read in full at the settle
                await self._store.create(SUMMARIES, _packed(_empty(tenant_id, pilot_id, [entry])))
                return
            await self._store.replace(SUMMARIES, {**doc, "pending": [*_pending(doc), entry]}, doc[ETAG])

        await _contended(attempt, gave_up="The pilot's summary kept changing; try again.")
        return token

    async def _settle(self, tenant_id: str, pilot_id: str, token: str, touched: Touched) -> None:
        async def attempt() -> None:
            doc = await self._store.read(SUMMARIES, tenant_id, pilot_id)
            if doc is None:
                return
            pending = [entry for entry in _pending(doc) if entry.get("token") != token]
            if doc.get("built"):
                facts = {**_unpacked(doc), "pending": pending}
                await self._refresh(facts, touched)
            else:
                facts = {**await self._built(tenant_id, pilot_id), "pending": pending}
            await self._save(facts, doc[ETAG])

        try:
            await _contended(attempt, gave_up="The pilot's summary kept changing.")
        except GovernanceError as exc:  # the token stays: the summary reads as dirty until it is repaired
            logger.warning("the summary of pilot %s stays dirty: %s", pilot_id, exc.message)

    async def _save(self, doc: Document, etag: str) -> None:
        if doc.get("pilot") is None and not doc["pending"]:  # the pilot was never written (its create failed)
            with contextlib.suppress(RecordNotFound):
                await self._store.delete(SUMMARIES, doc["tenantId"], doc["id"], etag)
            return
        await self._store.replace(SUMMARIES, _packed(doc), etag)

    # -- the facts, from their sources ---------------------------------------------------------------------------

    async def _refresh(self, doc: Document, touched: Touched) -> None:
        tenant_id, pilot_id = doc["tenantId"], doc["id"]
        if touched.pilot:
            doc["pilot"] = _fact(await self._store.read("pilots", tenant_id, pilot_id))
        if touched.reading is not None:
            fresh = await self._store.read("readings", pilot_id, touched.reading)
            doc["readings"] = _replaced(doc.get("readings") or [], touched.reading, fresh)
        if touched.decisions:
            doc["decisions"] = [_fact(d) for d in await self._store.query("decisions", partition=pilot_id)]
        if touched.checkin is not None:
            fresh = await self._store.read("sendlog", pilot_id, touched.checkin)
            sent = fresh if fresh is not None and _sent_checkin(fresh) else None
            doc["checkins"] = _recent(_replaced(doc.get("checkins") or [], touched.checkin, sent))

    async def _built(self, tenant_id: str, pilot_id: str) -> Document:
        """The summary's facts read in full from the sources (``pilot`` None if there is no such pilot)."""
        doc = _empty(tenant_id, pilot_id, [])
        doc["built"] = True
        doc["pilot"] = _fact(await self._store.read("pilots", tenant_id, pilot_id))
        if doc["pilot"] is None:
            return doc
        doc["readings"] = [_fact(r) for r in await self._store.query("readings", partition=pilot_id)]
        doc["decisions"] = [_fact(d) for d in await self._store.query("decisions", partition=pilot_id)]
        sends = await self._store.query("sendlog", partition=pilot_id)
        doc["checkins"] = _recent(_fact(s) for s in sends if _sent_checkin(s))
        return doc

    # -- the read side -------------------------------------------------------------------------------------------

    async def for_tenant(self, tenant_id: str) -> list[PilotFacts]:
        """Every pilot of the tenant: one query, plus the sources of the pilots whose summary is dirty."""
        docs = await self._store.query(SUMMARIES, partition=tenant_id)
        if not any(doc.get("kind") == "marker" for doc in docs):
            await self._summarise_existing(tenant_id, docs)
            docs = await self._store.query(SUMMARIES, partition=tenant_id)
        out: list[PilotFacts] = []
        seen: dict[tuple[str, str], PilotFacts] = {}
        for doc in docs:
            if doc.get("kind") != "pilot":
                continue
            if not _clean(doc):
                out += self._facts([await self._healed(doc)])
                continue
            key = (str(doc["id"]), str(doc.get(ETAG)))
            facts = self._decoded.get(key)
            if facts is None:
                decoded_now = self._facts([doc])
                if not decoded_now:
                    continue
                facts = decoded_now[0]
            seen[key] = facts
            out.append(facts)
        if len(self._decoded) > DECODED_KEPT:
            self._decoded.clear()
        self._decoded.update(seen)
        return out

    @staticmethod
    def _facts(docs: list[Document]) -> list[PilotFacts]:
        unpacked = (_unpacked(doc) for doc in docs)
        return decoded((doc for doc in unpacked if doc.get("pilot") is not None), facts_from_doc, "summary")

    async def repair(self, pilot: Pilot) -> bool:
        """The sweep's repair: rebuild a summary left dirty by a writer that died, or missing (data from before
        summaries). True when it is clean."""
        tenant_id, pilot_id = pilot.tenant_id, pilot.id
        doc = await self._store.read(SUMMARIES, tenant_id, pilot_id)
        if doc is None:
            built = await self._built(tenant_id, pilot_id)
            if built["pilot"] is not None:
                with contextlib.suppress(AlreadyExists):  # a writer's mark created it meanwhile
                    await self._store.create(SUMMARIES, _packed(built))
            return True
        if _clean(doc):
            return True
        return _clean(await self._healed(doc))

    async def _healed(self, doc: Document) -> Document:
        """A dirty summary's facts read from the sources; written back without the tokens of writers that are gone
        (older than STALE_AFTER), if nobody changed it meanwhile. Returns the facts as read either way."""
        tenant_id, pilot_id = doc["tenantId"], doc["id"]
        cutoff = self._clock.now() - STALE_AFTER
        live = [entry for entry in _pending(doc) if not _older(entry, cutoff)]
        built = {**await self._built(tenant_id, pilot_id), "pending": live}
        if len(live) < len(_pending(doc)) or not doc.get("built"):
            try:
                await self._save(built, doc[ETAG])
            except (ConcurrencyConflict, RecordNotFound):
                pass  # a writer marked or settled it meanwhile: what it wrote stands, and the facts read stand
            except GovernanceError as exc:
                logger.warning("could not repair the summary of pilot %s: %s", pilot_id, exc.message)
        return built

    async def _summarise_existing(self, tenant_id: str, docs: list[Document]) -> None:
        """Once per tenant: a summary for every pilot that has none (a few at a time, for Cosmos DB's round trips),
        then the marker that says all have one."""
        have = {doc["id"] for doc in docs}
        missing = [p["id"] for p in await self._store.query("pilots", partition=tenant_id) if p["id"] not in have]
        lanes = asyncio.Semaphore(SUMMARISING_AT_ONCE)

        async def summarise(pilot_id: str) -> None:
            async with lanes:
                with contextlib.suppress(AlreadyExists):  # a writer's mark created it meanwhile
                    await self._store.create(SUMMARIES, _packed(await self._built(tenant_id, pilot_id)))

        await asyncio.gather(*(summarise(pilot_id) for pilot_id in missing))
        marker = {"id": MARKER_ID, "tenantId": tenant_id, "kind": "marker", "at": self._clock.now().isoformat()}
        await self._store.upsert(SUMMARIES, marker)


async def _contended(attempt: Callable[[], Awaitable[None]], *, gave_up: str) -> None:
    """Read-modify-write a summary that other writers of the same pilot may be changing at the same moment: on a lost
    ETag race, wait a little (jittered, growing) and go again."""
    for tries in range(ATTEMPTS):
        try:
            await attempt()
            return
        except ConcurrencyConflict:
            if tries + 1 < ATTEMPTS:
                await asyncio.sleep(random.uniform(0, min(0.2, 0.005 * 2**tries)))
    raise ConcurrencyConflict(gave_up)


def facts_from_doc(doc: Document) -> PilotFacts:
    doc = _unpacked(doc)
    named = {"tenantId": doc["tenantId"], "pilotId": doc["id"]}  # what ``_fact`` leaves out of each fact
    return PilotFacts(
        pilot=pilot_from_doc({**named, **doc["pilot"]}),
        readings=tuple(
            sorted((reading_from_doc({**named, **r}) for r in doc.get("readings") or ()), key=lambda r: r.period)
        ),
        decisions=tuple(
            sorted((decision_from_doc({**named, **d}) for d in doc.get("decisions") or ()), key=lambda d: d.decided_at)
        ),
        checkins=tuple(send_from_doc({**named, **s}) for s in doc.get("checkins") or ()),
    )


def _packed(doc: Document) -> Document:
    """The summary as stored: its facts (``FACTS``) as one string of compact JSON beside the bookkeeping. A reader
    parses a thousand such documents quickly (one string each, not hundreds of values) and decodes the facts of only
    those whose ETag it has not decoded before (``PilotSummaryStore._decoded``)."""
    facts = {key: doc[key] for key in FACTS if key in doc}
    kept = {key: value for key, value in doc.items() if key not in FACTS and key != ETAG}
    return {**kept, PACKED: json.dumps(facts, separators=(",", ":"), ensure_ascii=False)}


def _unpacked(doc: Document) -> Document:
    """The summary with its facts as values (a summary written before packing has them so already)."""
    packed = doc.get(PACKED)
    if not isinstance(packed, str):
        return doc
    return {**{key: value for key, value in doc.items() if key != PACKED}, **parse_json(packed)}


def _empty(tenant_id: str, pilot_id: str, pending: list[Document]) -> Document:
    return {
        "id": pilot_id,
        "tenantId": tenant_id,
        "kind": "pilot",
        "built": False,
        "pending": pending,
        "pilot": None,
        "readings": [],
        "decisions": [],
        "checkins": [],
    }


def _pending(doc: Document) -> list[Document]:
    return list(doc.get("pending") or [])


def _clean(doc: Document) -> bool:
    return bool(doc.get("built")) and not doc.get("pending")


def _older(entry: Document, cutoff: datetime) -> bool:
    try:
        return datetime.fromisoformat(str(entry.get("at"))) < cutoff
    except ValueError:
        return True


@overload
def _fact(doc: Document) -> Document: ...
@overload
def _fact(doc: None) -> None: ...
@overload
def _fact(doc: Document | None) -> Document | None: ...
def _fact(doc: Document | None) -> Document | None:
    """A source document as a fact, compact: its version kept; left out are its pending audit events (large, and not
    facts), what the summary itself names (tenant, pilot, document type, the name's search key) and empty values
    (the codec reads a missing value as empty). Reading a thousand summaries is mostly parsing them, so every byte
    left out counts; ``facts_from_doc`` puts the tenant and pilot back."""
    if doc is None:
        return None
    return {key: value for key, value in doc.items() if key not in _NOT_KEPT and value is not None}


def _replaced(facts: list[Document], doc_id: str, fresh: Document | None) -> list[Document]:
    kept = [fact for fact in facts if fact.get("id") != doc_id]
    return kept if fresh is None else [*kept, _fact(fresh)]


def _sent_checkin(doc: Document) -> bool:
    """A send-log record a status reads: a check-in card that went out (a claim not yet sent changes nothing)."""
    return is_checkin_log_key(str(doc.get("id", ""))) and doc.get("status") == SendStatus.SENT.value


def _recent(checkins: Iterable[Document | None]) -> list[Document]:
    """The latest KEPT_CHECKINS check-in records (their keys sort by period)."""
    return sorted((c for c in checkins if c is not None), key=lambda c: str(c["id"]))[-KEPT_CHECKINS:]
