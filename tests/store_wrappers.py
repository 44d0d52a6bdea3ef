"""DocumentStore wrappers for tests and benchmarks: one counts what passes through it, by operation and container (to
show that a command's store queries do not grow with the number of pilots); one behaves as the store did before the
per-pilot summaries existed (to write data the way an older version left it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from storage.documents import ETAG, Condition, Document, DocumentStore
from storage.summaries import SUMMARIES


class PassThrough:
    """A DocumentStore that hands every operation to ``inner``; the wrappers below change what they are about."""

    def __init__(self, inner: DocumentStore) -> None:
        self._inner = inner
        self.name = inner.name

    async def open(self) -> None:
        await self._inner.open()

    async def close(self) -> None:
        await self._inner.close()

    async def ping(self) -> None:
        await self._inner.ping()

    async def read(self, container: str, partition: str, doc_id: str) -> Document | None:
        return await self._inner.read(container, partition, doc_id)

    async def create(self, container: str, doc: Document) -> Document:
        return await self._inner.create(container, doc)

    async def replace(self, container: str, doc: Document, etag: str | None = None) -> Document:
        return await self._inner.replace(container, doc, etag)

    async def upsert(self, container: str, doc: Document) -> Document:
        return await self._inner.upsert(container, doc)

    async def delete(self, container: str, partition: str, doc_id: str, etag: str | None = None) -> None:
        await self._inner.delete(container, partition, doc_id, etag)

    async def query(
        self, container: str, conditions: Sequence[Condition] = (), partition: str | None = None
    ) -> list[Document]:
        return await self._inner.query(container, conditions, partition)


class CountingStore(PassThrough):
    def __init__(self, inner: DocumentStore) -> None:
        super().__init__(inner)
        self.calls: Counter[tuple[str, str]] = Counter()  # (operation, container) -> calls

    def reset(self) -> None:
        self.calls.clear()

    def count(self, operation: str) -> int:
        return sum(n for (op, _), n in self.calls.items() if op == operation)

    async def read(self, container: str, partition: str, doc_id: str) -> Document | None:
        self.calls["read", container] += 1
        return await super().read(container, partition, doc_id)

    async def create(self, container: str, doc: Document) -> Document:
        self.calls["create", container] += 1
        return await super().create(container, doc)

    async def replace(self, container: str, doc: Document, etag: str | None = None) -> Document:
        self.calls["replace", container] += 1
        return await super().replace(container, doc, etag)

    async def upsert(self, container: str, doc: Document) -> Document:
        self.calls["upsert", container] += 1
        return await super().upsert(container, doc)

    async def delete(self, container: str, partition: str, doc_id: str, etag: str | None = None) -> None:
        self.calls["delete", container] += 1
        await super().delete(container, partition, doc_id, etag)

    async def query(
        self, container: str, conditions: Sequence[Condition] = (), partition: str | None = None
    ) -> list[Document]:
        self.calls["query", container] += 1
        return await super().query(container, conditions, partition)


class BeforeSummaries(PassThrough):
    """A store without the ``summaries`` container: its writes vanish and its reads find nothing, so repositories on
    it write pilots, readings, decisions and send-log records the way a version before summaries did."""

    async def read(self, container: str, partition: str, doc_id: str) -> Document | None:
        return None if container == SUMMARIES else await super().read(container, partition, doc_id)

    async def create(self, container: str, doc: Document) -> Document:
        return {**doc, ETAG: "none"} if container == SUMMARIES else await super().create(container, doc)

    async def replace(self, container: str, doc: Document, etag: str | None = None) -> Document:
        return {**doc, ETAG: "none"} if container == SUMMARIES else await super().replace(container, doc, etag)

    async def upsert(self, container: str, doc: Document) -> Document:
        return {**doc, ETAG: "none"} if container == SUMMARIES else await super().upsert(container, doc)

    async def delete(self, container: str, partition: str, doc_id: str, etag: str | None = None) -> None:
        if container != SUMMARIES:
            await super().delete(container, partition, doc_id, etag)

    async def query(
        self, container: str, conditions: Sequence[Condition] = (), partition: str | None = None
    ) -> list[Document]:
        return [] if container == SUMMARIES else await super().query(container, conditions, partition)
