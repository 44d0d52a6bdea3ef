"""botbuilder's ``Storage`` (conversation, user and dialog state) on the project's DocumentStore.

So bot state lives in the same SQLite file or Cosmos account as the pilots, with the same ETag rules: a write
whose ``e_tag`` is stale raises ConcurrencyConflict; ``"*"`` or no e_tag overwrites; an empty ``e_tag`` is a
conflict too, as in botbuilder's MemoryStorage (a state that lost its ETag must not overwrite blindly). It passes
botbuilder-testing's StorageBaseTests on both stores (tests/bots/test_state_storage.py).
"""

from __future__ import annotations

import hashlib
from typing import Any

import jsonpickle  # type: ignore[import-untyped]
from botbuilder.core import Storage

from governance.errors import ConcurrencyConflict, RecordNotFound
from storage.documents import ETAG, DocumentStore

CONTAINER = "botstate"


def document_id(key: str) -> str:
    """Cosmos ids may not contain / \\ ? # and are at most 255 chars: escape, and hash long keys."""
    safe = "".join(f"*{ord(ch):02x}" if ch in "/\\?#*" else ch for ch in key)
    if len(safe) > 200:
        safe = safe[:150] + "-" + hashlib.sha256(key.encode()).hexdigest()
    return safe


class DocumentBotStorage(Storage):  # type: ignore[misc]
    def __init__(self, store: DocumentStore) -> None:
        super().__init__()
        self._store = store

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if keys is None:
            raise ValueError("Keys are required when reading")  # the text botbuilder's storage tests expect
        found: dict[str, Any] = {}
        for key in keys:
            doc_id = document_id(key)
            doc = await self._store.read(CONTAINER, doc_id, doc_id)
            if doc is None:
                continue
            # Only this app writes these documents (same trust as the database), as botbuilder's own storages do.
            state = jsonpickle.decode(doc["state"])  # noqa: S301
            if isinstance(state, dict):
                state["e_tag"] = doc[ETAG]
            elif hasattr(state, "e_tag"):
                state.e_tag = doc[ETAG]
            found[key] = state
        return found

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("Changes are required when writing")  # the text botbuilder's storage tests expect
        if not changes:  # botbuilder passes an empty list or dict when nothing changed
            return
        for key, value in changes.items():
            doc_id = document_id(key)
            etag = value.get("e_tag") if isinstance(value, dict) else getattr(value, "e_tag", None)
            if etag == "":
                raise ConcurrencyConflict(f"bot state {key} was written with an empty e_tag")
            state = {k: v for k, v in value.items() if k != "e_tag"} if isinstance(value, dict) else value
            doc = {"id": doc_id, "realId": key, "state": jsonpickle.encode(state, unpicklable=True)}
            if etag in (None, "*"):
                await self._store.upsert(CONTAINER, doc)
                continue
            try:
                await self._store.replace(CONTAINER, doc, etag)
            except RecordNotFound as exc:  # written with an e_tag, so somebody deleted it meanwhile
                raise ConcurrencyConflict(f"bot state {key} was deleted meanwhile") from exc

    async def delete(self, keys: list[str]) -> None:
        for key in keys:
            doc_id = document_id(key)
            await self._store.delete(CONTAINER, doc_id, doc_id)
