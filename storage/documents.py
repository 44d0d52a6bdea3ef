"""The document store every repository is written on: JSON documents in containers, each with a partition key.

Two implementations pass one contract suite (tests/storage): SQLite (embedded default) and Cosmos DB. The
operations are the intersection of what both do well: point reads, conditional writes with ETags, and queries
with AND-ed comparisons on top-level fields. No OFFSET/LIMIT, DISTINCT, GROUP BY or date functions (the Cosmos
test server and cross-partition Cosmos queries do not support them all); callers sort and page in Python.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import orjson

Document = dict[str, Any]
Operator = Literal["=", "!=", "<", "<=", ">", ">="]

ETAG = "_etag"


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    name: str
    partition_key: str  # a top-level field of every document in the container
    default_ttl: int | None = None
    # Top-level string fields whose value may appear only once per partition. The store enforces each one (a unique
    # index in SQLite, a unique key policy in Cosmos DB), so two writers racing cannot both win.
    unique_keys: tuple[str, ...] = ()


# The containers, with partition keys chosen for the access paths (README, "Storage"):
CONTAINERS: dict[str, ContainerSpec] = {
    spec.name: spec
    for spec in (
        # Pilots are listed and matched by name per tenant; a tenant has hundreds, not millions. A name
        # (rules.name_key) is unique in its tenant.
        ContainerSpec("pilots", "tenantId", unique_keys=("nameKey",)),
        # Readings, decisions and audit events are read per pilot; one reading per (pilot, period) by id.
        ContainerSpec("readings", "pilotId"),
        ContainerSpec("decisions", "pilotId"),
        ContainerSpec("audit", "pilotId"),
        # Conversation references and roster entries are looked up per tenant (by user or channel).
        ContainerSpec("conversations", "tenantId"),
        ContainerSpec("members", "tenantId"),
        # One settings document per tenant, id = tenant id.
        ContainerSpec("tenants", "tenantId"),
        # The quarterly audit: one document per (tenant, quarter), id "<tenant>:<YYYY>-Q<n>"; openKey is "open" while
        # it is open (else its id), unique in the tenant, so a tenant has one open audit however many admins press.
        ContainerSpec("audits", "tenantId", unique_keys=("openKey",)),
        # botbuilder dialog/conversation state: one document per state key.
        ContainerSpec("botstate", "id"),
        # The scheduler's send-log: one document per (pilot, kind, period), created with a conditional write.
        ContainerSpec("sendlog", "pilotId"),
        # The per-pilot summary (storage.summaries): the facts of a pilot's status, read per tenant in one query.
        ContainerSpec("summaries", "tenantId"),
        # When each pilot next has scheduled work: the sweep queries nextDueAt <= now and nothing else.
        ContainerSpec("agenda", "id"),
    )
}


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    op: Operator
    value: str | int | float | bool | None


def where(field: str, op: Operator, value: str | int | float | bool | None) -> Condition:
    return Condition(field, op, value)


class DocumentStore(Protocol):
    """JSON documents with ETags. Every failure is a GovernanceError subclass (see governance.errors).

    - ``read`` answers None for a missing document.
    - ``create`` raises AlreadyExists when the id is taken in that partition.
    - ``create``, ``replace`` and ``upsert`` raise AlreadyExists when another document in the partition holds the
      same value of one of the container's ``unique_keys``; every document must carry those fields as strings.
    - ``replace`` raises ConcurrencyConflict when ``etag`` is given and stale, RecordNotFound when missing.
    - ``read`` answers None, and ``delete`` does nothing, for an id no document can have (Cosmos DB refuses some
      characters in ids): asking for it is not a failure.
    - ``delete`` is idempotent unless ``etag`` is given (then stale -> ConcurrencyConflict).
    - Any backend failure (unreachable, throttled past its retries) raises StorageUnavailable; nothing is half
      written because every operation writes one document.
    Returned documents carry their ETag under ``_etag``.
    """

    name: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> None: ...

    async def read(self, container: str, partition: str, doc_id: str) -> Document | None: ...

    async def create(self, container: str, doc: Document) -> Document: ...

    async def replace(self, container: str, doc: Document, etag: str | None = None) -> Document: ...

    async def upsert(self, container: str, doc: Document) -> Document: ...

    async def delete(self, container: str, partition: str, doc_id: str, etag: str | None = None) -> None: ...

    async def query(
        self, container: str, conditions: Sequence[Condition] = (), partition: str | None = None
    ) -> list[Document]: ...


def partition_of(container: str, doc: Document) -> str:
    spec = CONTAINERS[container]
    value = doc.get(spec.partition_key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{container} document needs a string {spec.partition_key!r}")
    return value


def check_unique_keys(container: str, doc: Document) -> None:
    """A unique key must be present: Cosmos DB counts a missing one as null, and allows one null per partition."""
    for field in CONTAINERS[container].unique_keys:
        value = doc.get(field)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{container} document needs a string {field!r}")


def strip_system(doc: Document) -> Document:
    """Drop store-specific system properties (Cosmos adds _rid, _self, _ts, _attachments)."""
    return {k: v for k, v in doc.items() if not k.startswith("_") or k == ETAG}


def parse_json(text: str | bytes) -> Any:
    """JSON text parsed by orjson (several times faster than the standard library on the megabytes a tenant's
    summaries are); what orjson refuses and the standard library writes (NaN, Infinity, integers beyond 64 bits) is
    parsed by the standard library, as before."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
