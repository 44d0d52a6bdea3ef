"""The embedded document store: one SQLite file, one table of JSON documents, ETags as random UUIDs.

WAL mode and a busy timeout let two processes share the file; every write is one statement, so a failure
leaves either the old or the new document, never a mix.

A container's unique keys (documents.ContainerSpec) are partial unique indexes on (pk, field). A database that
already holds duplicates cannot get the index: it still opens, a warning names the duplicates, and the index is
created at the first start after they are resolved (until then only the service's look-up guards names).

The store tells the truth about its file: an open connection keeps writing into a file that was deleted or
replaced on disk, and all of it is gone at the next start. So every operation checks that the path still leads to
the file opened (device and inode, one stat call) and every write that the file is still writable; otherwise it
raises StorageUnavailable and /healthz answers 503.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from governance.errors import AlreadyExists, ConcurrencyConflict, RecordNotFound, StorageUnavailable
from storage.documents import CONTAINERS, ETAG, Condition, Document, check_unique_keys, parse_json, partition_of

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    container TEXT NOT NULL,
    pk TEXT NOT NULL,
    id TEXT NOT NULL,
    etag TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (container, pk, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_documents_id ON documents (container, id);
-- Led by the expression: an index led by (container, pk) loses to the primary key's same prefix, and SQLite then
-- scans a whole tenant to find one name (35 ms at 10,000 pilots).
DROP INDEX IF EXISTS ix_pilots_name;
CREATE INDEX IF NOT EXISTS ix_name_key ON documents (json_extract(body, '$.nameKey'));
-- A sponsor's 1:1 chat by Entra id (the sweep asks once per check-in; 67 ms at 100,000 conversations without it).
CREATE INDEX IF NOT EXISTS ix_aad_object_id ON documents (json_extract(body, '$.aadObjectId'));
CREATE INDEX IF NOT EXISTS ix_due ON documents (container, json_extract(body, '$.nextDueAt'));
"""

_READ_ONLY = "became read-only"
_SQL_OPS = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _field_expr(field: str) -> str:
    if not field.replace("_", "").isalnum():
        raise ValueError(f"unsupported field name {field!r}")
    if field == "id":
        return "id"
    return f"json_extract(body, '$.{field}')"


class SqliteDocumentStore:
    name = "sqlite"

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._folder = os.path.dirname(os.path.abspath(self._path))  # where SQLite also puts -wal and -shm
        self._db: aiosqlite.Connection | None = None
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file opened; None in memory
        self._reported: str | None = None  # the file problem last logged, so a failing check logs once

    async def open(self) -> None:
        if self._db is not None:
            return
        on_disk = self._path != ":memory:"
        try:
            if on_disk:
                self._check_place()
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
                # SQLite opens a file it may not write read-only without a word; every write would fail later.
                if not self._writable():
                    raise StorageUnavailable(f"cannot open the SQLite store at {self._path}: it is read-only")
                # Tried with the standard library first: when aiosqlite cannot connect, it stops its worker thread
                # without waiting, and the thread then fails noisily against the closed event loop at exit.
                await asyncio.to_thread(_connect_and_close, self._path)
        except sqlite3.Error as exc:
            raise StorageUnavailable(f"cannot open the SQLite store at {self._path}: {exc}") from exc
        except OSError as exc:
            raise StorageUnavailable(f"cannot open the SQLite store at {self._path}: {exc.strerror or exc}") from exc
        db: aiosqlite.Connection | None = None
        try:
            # Autocommit: every write is one statement and its own transaction. With Python's implicit transactions
            # the writes of concurrent turns share one open transaction on this connection, and one turn's rollback
            # (a duplicate create) silently undid another turn's update that had not been committed yet.
            db = await aiosqlite.connect(self._path, timeout=10, isolation_level=None)
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.executescript(_SCHEMA)
            await self._create_unique_indexes(db)
            if on_disk:
                status = os.stat(self._path)
                self._identity = (status.st_dev, status.st_ino)
        except (sqlite3.Error, OSError) as exc:
            if db is not None:
                # aiosqlite's worker thread is not a daemon: a connection left open keeps the process from exiting.
                await _close_quietly(db)
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise StorageUnavailable(f"cannot open the SQLite store at {self._path}: {detail}") from exc
        self._db = db
        self._reported = None

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None
        self._identity = None

    @property
    def _conn(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageUnavailable("the SQLite store is not open")
        return self._db

    async def ping(self) -> None:
        self._check_file(write=True)
        try:
            await self._conn.execute_fetchall("SELECT 1")
        except (sqlite3.Error, ValueError) as exc:
            raise StorageUnavailable(f"SQLite store not answering: {exc}") from exc

    async def read(self, container: str, partition: str, doc_id: str) -> Document | None:
        rows = await self._fetch(
            "SELECT body, etag FROM documents WHERE container = ? AND pk = ? AND id = ?", (container, partition, doc_id)
        )
        return _load(rows[0]) if rows else None

    async def create(self, container: str, doc: Document) -> Document:
        pk, doc_id, body = _prepare(container, doc)
        etag = uuid.uuid4().hex
        try:
            await self._write(
                "INSERT INTO documents (container, pk, id, etag, body) VALUES (?, ?, ?, ?, ?)",
                (container, pk, doc_id, etag, body),
            )
        except sqlite3.IntegrityError as exc:
            raise _taken(container, doc_id) from exc
        return {**_parsed(body), ETAG: etag}

    async def replace(self, container: str, doc: Document, etag: str | None = None) -> Document:
        pk, doc_id, body = _prepare(container, doc)
        new_etag = uuid.uuid4().hex
        sql = "UPDATE documents SET body = ?, etag = ? WHERE container = ? AND pk = ? AND id = ?"
        params: tuple[Any, ...] = (body, new_etag, container, pk, doc_id)
        if etag is not None:
            sql += " AND etag = ?"
            params += (etag,)
        try:
            changed = await self._write(sql, params)
        except sqlite3.IntegrityError as exc:
            raise _taken(container, doc_id) from exc
        if changed == 0:
            if await self.read(container, pk, doc_id) is None:
                raise RecordNotFound(f"{container}/{doc_id} does not exist")
            raise ConcurrencyConflict(f"{container}/{doc_id} was changed by someone else")
        return {**_parsed(body), ETAG: new_etag}

    async def upsert(self, container: str, doc: Document) -> Document:
        pk, doc_id, body = _prepare(container, doc)
        etag = uuid.uuid4().hex
        try:
            await self._write(
                "INSERT INTO documents (container, pk, id, etag, body) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (container, pk, id) DO UPDATE SET body = excluded.body, etag = excluded.etag",
                (container, pk, doc_id, etag, body),
            )
        except sqlite3.IntegrityError as exc:
            raise _taken(container, doc_id) from exc
        return {**_parsed(body), ETAG: etag}

    async def delete(self, container: str, partition: str, doc_id: str, etag: str | None = None) -> None:
        sql = "DELETE FROM documents WHERE container = ? AND pk = ? AND id = ?"
        params: tuple[Any, ...] = (container, partition, doc_id)
        if etag is not None:
            sql += " AND etag = ?"
            params += (etag,)
        deleted = await self._write(sql, params)
        if deleted == 0 and etag is not None and await self.read(container, partition, doc_id) is not None:
            raise ConcurrencyConflict(f"{container}/{doc_id} was changed by someone else")

    async def query(
        self, container: str, conditions: Sequence[Condition] = (), partition: str | None = None
    ) -> list[Document]:
        sql = "SELECT body, etag FROM documents WHERE container = ?"
        params: list[Any] = [container]
        if partition is not None:
            sql += " AND pk = ?"
            params.append(partition)
        for cond in conditions:
            expr = _field_expr(cond.field)
            if cond.value is None:
                sql += f" AND {expr} IS {'NOT ' if cond.op == '!=' else ''}NULL"
                continue
            sql += f" AND {expr} {_SQL_OPS[cond.op]} ?"
            params.append(int(cond.value) if isinstance(cond.value, bool) else cond.value)
        return [_load(row) for row in await self._fetch(sql, tuple(params))]

    async def _fetch(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        self._check_file(write=False)
        # Execute and fetch in one call on the connection's thread. Between a separate execute and fetchall, other
        # coroutines' writes ran on this connection inside the query's read transaction, and any write another
        # connection had committed meanwhile made them fail at once with SQLITE_BUSY_SNAPSHOT ("database is locked").
        try:
            return list(await self._conn.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise StorageUnavailable(f"SQLite read failed: {exc}") from exc

    async def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        self._check_file(write=True)
        try:
            cursor = await self._conn.execute(sql, params)
        except sqlite3.IntegrityError:
            raise  # a taken id or unique key: the caller turns it into AlreadyExists
        except sqlite3.Error as exc:
            raise StorageUnavailable(f"SQLite write failed: {exc}") from exc
        # Again after the write: if the file vanished meanwhile the write went nowhere, and must not look saved.
        self._check_file(write=False)
        return cursor.rowcount

    def _check_place(self) -> None:
        """Say plainly what is in the way (SQLite says "unable to open database file", mkdir "File exists")."""
        path = Path(self._path)
        if path.is_dir():
            raise StorageUnavailable(f"cannot open the SQLite store at {self._path}: it is a folder")
        nearest = next((parent for parent in path.parents if parent.exists()), None)
        if nearest is not None and not nearest.is_dir():
            raise StorageUnavailable(f"cannot open the SQLite store at {self._path}: {nearest} is not a folder")

    def _writable(self) -> bool:
        """The file (when it exists) and its folder. access() answers for this process: root passes permission
        bits, but not a read-only file system (EROFS)."""
        return os.access(self._folder, os.W_OK) and (not os.path.exists(self._path) or os.access(self._path, os.W_OK))

    def _check_file(self, *, write: bool) -> None:
        """StorageUnavailable unless the path still leads to the file opened (and, for a write, it is writable)."""
        problem = self._file_problem(write=write)
        if problem is None:
            if write:
                self._reported = None
            return
        if problem != self._reported:  # once per change, not once per request
            remedy = (
                "writes fail until it is writable again"
                if problem == _READ_ONLY
                else "reads and writes fail rather than go to a file nobody will see again; put the file back and "
                "restart PilotGate"
            )
            logger.error("the SQLite store at %s %s: %s", self._path, problem, remedy)
            self._reported = problem
        raise StorageUnavailable(f"the SQLite store at {self._path} {problem}")

    def _file_problem(self, *, write: bool) -> str | None:
        if self._identity is None:  # in memory, or not open (then _conn says so)
            return None
        try:
            status = os.stat(self._path)
        except FileNotFoundError:
            return "was deleted while open"
        except OSError as exc:
            return f"cannot be checked ({exc.strerror})"
        if (status.st_dev, status.st_ino) != self._identity:
            return "was replaced by another file while open"
        if write and not self._writable():
            return _READ_ONLY
        return None

    async def _create_unique_indexes(self, db: aiosqlite.Connection) -> None:
        for spec in CONTAINERS.values():
            for field in spec.unique_keys:
                expr = _field_expr(field)
                try:
                    await db.execute(
                        f"CREATE UNIQUE INDEX IF NOT EXISTS ux_{spec.name}_{field} ON documents (pk, {expr}) "
                        f"WHERE container = '{spec.name}'"
                    )
                except sqlite3.IntegrityError:
                    # Written before the index existed. Renaming someone's pilot is not the store's call: open,
                    # say which ones, and try again at the next start.
                    async with db.execute(
                        f"SELECT pk, {expr}, group_concat(id, ', ') FROM documents WHERE container = ? "  # noqa: S608
                        f"GROUP BY pk, {expr} HAVING count(*) > 1",
                        (spec.name,),
                    ) as cursor:
                        duplicates = "; ".join(
                            f"{row[0]}: {row[1]!r} (ids {row[2]})" for row in await cursor.fetchall()
                        )
                    logger.warning(
                        "%s %s is not unique in the SQLite store at %s, so the store cannot enforce it: %s. Until "
                        "these are renamed only the service's look-up guards it (two writers at one moment can both "
                        "succeed); the index is created at the first start after that.",
                        spec.name,
                        field,
                        self._path,
                        duplicates,
                    )


def _connect_and_close(path: str) -> None:
    sqlite3.connect(path, timeout=10).close()


async def _close_quietly(db: aiosqlite.Connection) -> None:
    try:
        await db.close()
    except sqlite3.Error:
        logger.debug("closing a SQLite connection that failed to open", exc_info=True)


def _taken(container: str, doc_id: str) -> AlreadyExists:
    keys = CONTAINERS[container].unique_keys
    if not keys:
        return AlreadyExists(f"{container}/{doc_id} already exists")
    return AlreadyExists(f"{container}/{doc_id}: the id or the {', '.join(keys)} is taken in its partition")


def _prepare(container: str, doc: Document) -> tuple[str, str, str]:
    if container not in CONTAINERS:
        raise ValueError(f"unknown container {container!r}")
    doc_id = doc.get("id")
    if not isinstance(doc_id, str) or not doc_id:
        raise ValueError(f"{container} document needs a string id")
    check_unique_keys(container, doc)
    body = {k: v for k, v in doc.items() if k != ETAG}
    return partition_of(container, doc), doc_id, json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def _parsed(body: str) -> Document:
    doc: Document = parse_json(body)
    return doc


def _load(row: Any) -> Document:
    doc = _parsed(row[0])
    doc[ETAG] = row[1]
    return doc
