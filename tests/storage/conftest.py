"""Fixtures for the storage contract: every test runs on SQLite and on Cosmos DB (the test server).

The Cosmos runs need COSMOS_TEST_ENDPOINT; without it they fail with the command that starts the server, so a
green run always means both stores were tested.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from azure.cosmos.aio import CosmosClient
from azure.cosmos.exceptions import CosmosHttpResponseError

from storage.cosmos_store import CosmosDocumentStore
from storage.documents import DocumentStore
from storage.sqlite_store import SqliteDocumentStore
from tests.fakes import MemoryData, MemoryDocumentStore

# The Cosmos DB emulator's published well-known key; the test server accepts any key.
EMULATOR_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
START_THE_SERVER = (
    "start the Cosmos test server: run `make test` "
    "(or `make cosmos-start` and set COSMOS_TEST_ENDPOINT=http://127.0.0.1:8081/)"
)

StoreFactory = Callable[[], Awaitable[DocumentStore]]
CosmosStoreFactory = Callable[..., Awaitable[CosmosDocumentStore]]


def cosmos_test_endpoint() -> str:
    endpoint = os.environ.get("COSMOS_TEST_ENDPOINT", "")
    if not endpoint:
        pytest.fail(START_THE_SERVER, pytrace=False)
    return endpoint


@asynccontextmanager
async def cosmos_stores() -> AsyncIterator[CosmosStoreFactory]:
    """Opens CosmosDocumentStore instances on one fresh test database (keyword arguments go to the
    constructor); on exit closes them all and deletes the database."""
    endpoint = cosmos_test_endpoint()
    database = f"test-{uuid.uuid4().hex}"
    opened: list[CosmosDocumentStore] = []

    async def open_store(**options: Any) -> CosmosDocumentStore:
        store = CosmosDocumentStore(endpoint, EMULATOR_KEY, database, **options)
        await store.open()
        opened.append(store)
        return store

    try:
        yield open_store
    finally:
        for store in reversed(opened):
            await store.close()
        async with CosmosClient(endpoint, EMULATOR_KEY) as client:
            try:
                await client.delete_database(database)
            except CosmosHttpResponseError as exc:
                if exc.status_code != 404:  # the test never opened it
                    raise


@pytest.fixture
async def cosmos_store_factory() -> AsyncIterator[CosmosStoreFactory]:
    async with cosmos_stores() as open_store:
        yield open_store


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("cosmos", id="cosmos", marks=pytest.mark.cosmos),
    ]
)
async def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """Opens another store instance on the same backing data (same SQLite file, same Cosmos database), the way
    a second app replica would; every instance is closed after the test."""
    if request.param == "cosmos":
        async with cosmos_stores() as open_cosmos:

            async def open_cosmos_store() -> DocumentStore:
                return await open_cosmos()

            yield open_cosmos_store
        return

    if request.param == "memory":
        data = MemoryData()

        async def open_memory_store() -> DocumentStore:
            store = MemoryDocumentStore(data)
            await store.open()
            return store

        yield open_memory_store
        return

    opened: list[SqliteDocumentStore] = []

    async def open_sqlite_store() -> DocumentStore:
        store = SqliteDocumentStore(tmp_path / "store.db")
        await store.open()
        opened.append(store)
        return store

    yield open_sqlite_store
    for store in reversed(opened):
        await store.close()


@pytest.fixture
async def document_store(store_factory: StoreFactory) -> DocumentStore:
    return await store_factory()
