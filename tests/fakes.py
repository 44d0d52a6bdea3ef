"""Hand-written fakes against the real Protocols."""

from __future__ import annotations

import json
import operator
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from governance.errors import AlreadyExists, ConcurrencyConflict, RecordNotFound, StorageUnavailable
from storage.documents import CONTAINERS, ETAG, Condition, Document, check_unique_keys, partition_of


class FixedClock:
    """A Clock whose time only moves when a test moves it."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now

    def advance(self, **delta: float) -> None:
        self._now += timedelta(**delta)


class MemoryData:
    """What a MemoryDocumentStore keeps: shared by every store opened on it, as replicas share one database."""

    def __init__(self) -> None:
        self.documents: dict[tuple[str, str, str], tuple[str, str]] = {}  # (container, pk, id) -> (etag, JSON)


class MemoryDocumentStore:
    """An in-memory DocumentStore for fast service and planner tests; it passes the same contract suite as the
    SQLite and Cosmos DB stores (tests/storage). Documents are kept as JSON text, so a caller can never change a
    stored document by mutating what it got back."""

    name = "memory"

    def __init__(self, data: MemoryData | None = None) -> None:
        self._data = data or MemoryData()
        self._open = False

    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        self._open = False

    async def ping(self) -> None:
        self._check_open()

    def _check_open(self) -> None:
        if not self._open:
            raise StorageUnavailable("the memory store is not open")

    async def read(self, container: str, partition: str, doc_id: str) -> Document | None:
        self._check_open()
        found = self._data.documents.get((container, partition, doc_id))
        return _load(found) if found else None

    async def create(self, container: str, doc: Document) -> Document:
        key, body = self._prepare(container, doc)
        if key in self._data.documents:
            raise AlreadyExists(f"{container}/{key[2]} already exists")
        self._check_unique(key, doc)
        return self._store(key, body)

    async def replace(self, container: str, doc: Document, etag: str | None = None) -> Document:
        key, body = self._prepare(container, doc)
        current = self._data.documents.get(key)
        if current is None:
            raise RecordNotFound(f"{container}/{key[2]} does not exist")
        if etag is not None and current[0] != etag:
            raise ConcurrencyConflict(f"{container}/{key[2]} was changed by someone else")
        self._check_unique(key, doc)
        return self._store(key, body)

    async def upsert(self, container: str, doc: Document) -> Document:
        key, body = self._prepare(container, doc)
        self._check_unique(key, doc)
        return self._store(key, body)

    async def delete(self, container: str, partition: str, doc_id: str, etag: str | None = None) -> None:
        self._check_open()
        key = (container, partition, doc_id)
        current = self._data.documents.get(key)
        if current is None:
            return
        if etag is not None and current[0] != etag:
            raise ConcurrencyConflict(f"{container}/{doc_id} was changed by someone else")
        del self._data.documents[key]

    async def query(
        self, container: str, conditions: Sequence[Condition] = (), partition: str | None = None
    ) -> list[Document]:
        self._check_open()
        for condition in conditions:
            if not condition.field.replace("_", "").isalnum():
                raise ValueError(f"unsupported field name {condition.field!r}")
        out = []
        for (kind, pk, _), stored in list(self._data.documents.items()):
            if kind != container or (partition is not None and pk != partition):
                continue
            doc = _load(stored)
            if all(_matches(doc.get(c.field), c) for c in conditions):
                out.append(doc)
        return out

    def _prepare(self, container: str, doc: Document) -> tuple[tuple[str, str, str], str]:
        self._check_open()
        if container not in CONTAINERS:
            raise ValueError(f"unknown container {container!r}")
        doc_id = doc.get("id")
        if not isinstance(doc_id, str) or not doc_id:
            raise ValueError(f"{container} document needs a string id")
        check_unique_keys(container, doc)
        body = json.dumps({k: v for k, v in doc.items() if k != ETAG})
        return (container, partition_of(container, doc), doc_id), body

    def _check_unique(self, key: tuple[str, str, str], doc: Document) -> None:
        """AlreadyExists when another document in the partition holds one of the container's unique keys."""
        container, partition, doc_id = key
        for field in CONTAINERS[container].unique_keys:
            for (kind, pk, other_id), stored in self._data.documents.items():
                same_partition = (kind, pk) == (container, partition) and other_id != doc_id
                if same_partition and json.loads(stored[1]).get(field) == doc[field]:
                    raise AlreadyExists(f"{container}/{doc_id}: the {field} is taken in its partition")

    def _store(self, key: tuple[str, str, str], body: str) -> Document:
        stored = (uuid.uuid4().hex, body)
        self._data.documents[key] = stored
        return _load(stored)


def _load(stored: tuple[str, str]) -> Document:
    doc: Document = json.loads(stored[1])
    doc[ETAG] = stored[0]
    return doc


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _matches(value: Any, condition: Condition) -> bool:
    """As SQL and Cosmos DB compare: None matches a missing or null field; otherwise values of one kind only."""
    wanted = condition.value
    if wanted is None:
        return (value is None) is (condition.op == "=")
    if value is None:
        return False
    numbers = (int, float)
    same_kind = (
        isinstance(value, bool) == isinstance(wanted, bool)
        and (isinstance(value, numbers) and isinstance(wanted, numbers))
    ) or type(value) is type(wanted)
    return same_kind and _COMPARE[condition.op](value, wanted)
