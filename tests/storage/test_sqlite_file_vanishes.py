"""A SQLite file that disappears or changes under the running app: /healthz says 503 and writes fail, never lost.

Seen before: with the file deleted while running, /healthz stayed 200 and every write went into the unlinked file,
reported as saved; at the next start all of it was gone.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from governance.errors import StorageUnavailable
from storage.sqlite_store import SqliteDocumentStore
from tests.conftest import Harness, start_harness, stop_harness
from tests.helpers import pilot_body
from tests.teams_sim import FakeConnector


@pytest.fixture
async def app(tmp_path: Path, connector: FakeConnector) -> AsyncIterator[Harness]:
    h = await start_harness(tmp_path, connector)
    yield h
    await stop_harness(h)


def db_path(h: Harness) -> Path:
    return Path(h.settings.sqlite_path)


async def assert_storage_refuses(h: Harness) -> None:
    status, health = await h.api("GET", "/healthz", token=None)
    assert status == 503 and health == {"status": "unavailable", "storage": "sqlite"}
    status, error = await h.api("POST", "/api/pilots", pilot_body(name="Written after the file went"))
    assert status == 503 and error["error"] == "storage_unavailable"
    status, error = await h.api("GET", "/api/pilots")
    assert status == 503 and error["error"] == "storage_unavailable"


async def test_a_deleted_database_file_makes_healthz_503_and_writes_fail(app: Harness) -> None:
    assert (await app.api("POST", "/api/pilots", pilot_body()))[0] == 201

    db_path(app).unlink()

    await assert_storage_refuses(app)


async def test_a_database_file_replaced_by_another_makes_healthz_503_and_writes_fail(
    app: Harness, tmp_path: Path
) -> None:
    assert (await app.api("POST", "/api/pilots", pilot_body()))[0] == 201
    restored = tmp_path / "backup.db"
    with sqlite3.connect(restored) as backup:  # e.g. an older backup moved into place
        backup.execute("CREATE TABLE documents (x)")
    backup.close()

    os.replace(restored, db_path(app))

    await assert_storage_refuses(app)


async def test_the_file_moved_back_into_place_serves_again(app: Harness, tmp_path: Path) -> None:
    assert (await app.api("POST", "/api/pilots", pilot_body()))[0] == 201
    aside = tmp_path / "aside.db"
    os.rename(db_path(app), aside)
    await assert_storage_refuses(app)

    os.rename(aside, db_path(app))

    assert (await app.api("GET", "/healthz", token=None))[0] == 200
    assert (await app.api("POST", "/api/pilots", pilot_body(name="Second pilot")))[0] == 201


async def test_a_write_refused_while_the_file_is_away_is_not_written_into_it(tmp_path: Path) -> None:
    store = SqliteDocumentStore(tmp_path / "store.db")
    await store.open()
    try:
        await store.create("pilots", {"id": "p1", "tenantId": "t", "nameKey": "first"})
        os.rename(tmp_path / "store.db", tmp_path / "aside.db")
        with pytest.raises(StorageUnavailable):
            await store.create("pilots", {"id": "p2", "tenantId": "t", "nameKey": "second"})
        with pytest.raises(StorageUnavailable):
            await store.read("pilots", "t", "p1")

        os.rename(tmp_path / "aside.db", tmp_path / "store.db")

        assert await store.read("pilots", "t", "p1") is not None
        assert await store.read("pilots", "t", "p2") is None
    finally:
        await store.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files: permission bits cannot show this")
async def test_a_database_file_made_read_only_makes_ping_and_writes_fail(tmp_path: Path) -> None:
    store = SqliteDocumentStore(tmp_path / "store.db")
    await store.open()
    try:
        (tmp_path / "store.db").chmod(0o444)
        with pytest.raises(StorageUnavailable):
            await store.ping()
        with pytest.raises(StorageUnavailable):
            await store.upsert("pilots", {"id": "p1", "tenantId": "t", "nameKey": "first"})
        assert await store.read("pilots", "t", "p1") is None  # reads still answer
    finally:
        (tmp_path / "store.db").chmod(0o644)
        await store.close()
