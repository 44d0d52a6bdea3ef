"""A pilot's name is unique in its tenant, and the store enforces it: racing registrations and renames cannot both win.

The service looks the name up first (a friendly, early answer), but a look-up and a write are two steps: 20
registrations at once all saw "no such name" and several were stored. Every test runs on SQLite and on Cosmos DB.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from azure.cosmos import PartitionKey
from azure.cosmos.aio import CosmosClient

from governance.errors import AlreadyExists
from storage.documents import ETAG, Document, DocumentStore, where
from storage.sqlite_store import SqliteDocumentStore
from tests.conftest import Harness, start_harness, stop_harness
from tests.helpers import pilot_body
from tests.storage.conftest import EMULATOR_KEY, StoreFactory, cosmos_test_endpoint
from tests.teams_sim import FOREIGN_TENANT, TENANT, FakeConnector


async def app_on(store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector) -> Harness:
    return await start_harness(tmp_path, connector, store=await store_factory())


async def names_in(h: Harness, tenant_id: str = TENANT.id) -> list[str]:
    status, body = await h.api("GET", f"/api/pilots?tenantId={tenant_id}")
    assert status == 200
    return sorted(p["name"] for p in body["pilots"])


def duplicate_answers(answers: list[tuple[int, Any]]) -> list[str]:
    return [body["error"] for status, body in answers if status == 409]


# -- through the REST API ----------------------------------------------------------------------------------------


async def test_twenty_registrations_of_one_name_at_once_store_one_pilot(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await app_on(store_factory, tmp_path, connector)
    try:
        answers = await asyncio.gather(*(h.api("POST", "/api/pilots", pilot_body()) for _ in range(20)))

        assert sorted(status for status, _ in answers) == [201] + [409] * 19
        assert duplicate_answers(answers) == ["duplicate_pilot"] * 19
        assert await names_in(h) == ["Claims triage assistant"]
    finally:
        await stop_harness(h)


async def test_names_that_differ_only_in_case_and_spacing_are_one_name(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await app_on(store_factory, tmp_path, connector)
    try:
        spellings = ["Claims triage assistant", "CLAIMS TRIAGE ASSISTANT", "  claims   Triage assistant "] * 4
        answers = await asyncio.gather(*(h.api("POST", "/api/pilots", pilot_body(name=n)) for n in spellings))

        assert sorted(status for status, _ in answers) == [201] + [409] * 11
        assert len(await names_in(h)) == 1
    finally:
        await stop_harness(h)


async def test_the_same_name_in_another_tenant_is_another_pilot(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await app_on(store_factory, tmp_path, connector)
    try:
        bodies = [pilot_body(), pilot_body(tenantId=FOREIGN_TENANT.id)]
        answers = await asyncio.gather(*(h.api("POST", "/api/pilots", body) for body in bodies))

        assert [status for status, _ in answers] == [201, 201]
        assert await names_in(h, FOREIGN_TENANT.id) == ["Claims triage assistant"]
    finally:
        await stop_harness(h)


async def test_renaming_a_pilot_to_a_taken_name_is_409_and_keeps_its_name(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await app_on(store_factory, tmp_path, connector)
    try:
        await h.api("POST", "/api/pilots", pilot_body(name="Invoice matching"))
        _, other = await h.api("POST", "/api/pilots", pilot_body(name="Contract review"))

        status, error = await h.api("PATCH", f"/api/pilots/{other['id']}", {"name": "invoice  MATCHING"})

        assert status == 409 and error["error"] == "duplicate_pilot"
        assert await names_in(h) == ["Contract review", "Invoice matching"]
    finally:
        await stop_harness(h)


async def test_two_pilots_renamed_to_one_free_name_at_once_leave_one_with_it(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await app_on(store_factory, tmp_path, connector)
    try:
        created = [await h.api("POST", "/api/pilots", pilot_body(name=f"Pilot {n}")) for n in range(6)]
        renames = [h.api("PATCH", f"/api/pilots/{body['id']}", {"name": "Underwriting copilot"}) for _, body in created]

        answers = await asyncio.gather(*renames)

        assert sorted(status for status, _ in answers) == [200] + [409] * 5
        assert duplicate_answers(answers) == ["duplicate_pilot"] * 5
        assert (await names_in(h)).count("Underwriting copilot") == 1
    finally:
        await stop_harness(h)


# -- the store's contract ----------------------------------------------------------------------------------------


def named(doc_id: str, name_key: str, tenant: str = "tenant-a") -> Document:
    return {"id": doc_id, "tenantId": tenant, "nameKey": name_key}


async def test_a_taken_unique_key_is_refused_by_create_replace_and_upsert(document_store: DocumentStore) -> None:
    await document_store.create("pilots", named("p1", "claims"))
    other = await document_store.create("pilots", named("p2", "invoices"))

    with pytest.raises(AlreadyExists):
        await document_store.create("pilots", named("p3", "claims"))
    with pytest.raises(AlreadyExists):
        await document_store.replace("pilots", named("p2", "claims"), etag=other[ETAG])
    with pytest.raises(AlreadyExists):
        await document_store.upsert("pilots", named("p2", "claims"))
    with pytest.raises(AlreadyExists):
        await document_store.upsert("pilots", named("p4", "claims"))

    assert await document_store.read("pilots", "tenant-a", "p2") == other
    assert sorted(d["id"] for d in await document_store.query("pilots", [where("nameKey", "=", "claims")])) == ["p1"]


async def test_a_unique_key_is_unique_per_partition_and_freed_by_a_rename_or_delete(
    document_store: DocumentStore,
) -> None:
    first = await document_store.create("pilots", named("p1", "claims"))
    await document_store.create("pilots", named("p1", "claims", tenant="tenant-b"))
    await document_store.replace("pilots", {**first, "stage": "pilot"}, etag=first[ETAG])  # keeping its own key

    await document_store.upsert("pilots", named("p1", "claims v2"))
    await document_store.create("pilots", named("p2", "claims"))
    await document_store.delete("pilots", "tenant-a", "p2")
    await document_store.create("pilots", named("p3", "claims"))

    assert [d["id"] for d in await document_store.query("pilots", [where("nameKey", "=", "claims")], "tenant-a")] == [
        "p3"
    ]


async def test_a_document_without_its_unique_key_is_refused(document_store: DocumentStore) -> None:
    with pytest.raises(ValueError):
        await document_store.create("pilots", {"id": "p1", "tenantId": "tenant-a"})
    with pytest.raises(ValueError):
        await document_store.upsert("pilots", {"id": "p1", "tenantId": "tenant-a", "nameKey": ""})


# -- data written before names were unique -----------------------------------------------------------------------


def old_database_with_duplicates(path: Path) -> None:
    """A database file as the previous version left it: no unique index, and one name twice in a tenant."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE documents (container TEXT NOT NULL, pk TEXT NOT NULL, id TEXT NOT NULL, etag TEXT NOT NULL, "
            "body TEXT NOT NULL, PRIMARY KEY (container, pk, id)) WITHOUT ROWID"
        )
        for doc_id in ("p1", "p2"):
            db.execute(
                "INSERT INTO documents VALUES ('pilots', 't', ?, 'e', ?)",
                (doc_id, f'{{"id":"{doc_id}","tenantId":"t","nameKey":"claims"}}'),
            )
    db.close()


async def test_an_old_database_with_duplicate_names_opens_names_them_and_is_enforced_once_resolved(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "old.db"
    old_database_with_duplicates(path)
    store = SqliteDocumentStore(path)

    with caplog.at_level(logging.WARNING, logger="storage.sqlite_store"):
        await store.open()
    try:
        assert "'claims' (ids p1, p2)" in caplog.text
        await store.upsert("pilots", named("p2", "claims (2)", tenant="t"))  # an admin renames one of them
    finally:
        await store.close()

    caplog.clear()
    await store.open()
    try:
        assert "not unique" not in caplog.text
        with pytest.raises(AlreadyExists):
            await store.create("pilots", named("p3", "claims", tenant="t"))
    finally:
        await store.close()


@pytest.mark.cosmos
async def test_a_pilots_container_made_without_the_unique_key_is_reported_at_open(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from storage.cosmos_store import CosmosDocumentStore

    endpoint = cosmos_test_endpoint()
    database = f"test-{uuid.uuid4().hex}"
    async with CosmosClient(endpoint, EMULATOR_KEY) as client:
        db = await client.create_database_if_not_exists(database)
        await db.create_container_if_not_exists("pilots", PartitionKey("/tenantId"))  # as the previous version did
        store = CosmosDocumentStore(endpoint, EMULATOR_KEY, database)
        try:
            with caplog.at_level(logging.WARNING, logger="storage.cosmos_store"):
                await store.open()
            assert "'pilots' was created without the unique key /nameKey" in caplog.text
        finally:
            await store.close()
            await client.delete_database(database)
