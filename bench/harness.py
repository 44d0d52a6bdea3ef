"""The bot under test, started as tests/conftest.py starts it: create_app on a real aiohttp TestServer.

Anonymous mode (no MicrosoftAppId), the in-process Teams simulator posts activities over real HTTP and the fake
Bot Connector (also real HTTP, on its own port) records what the bot sends back.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from app import create_app
from config import Settings
from storage.cosmos_store import CosmosDocumentStore
from storage.documents import DocumentStore
from storage.sqlite_store import SqliteDocumentStore
from tests.teams_sim import ADMIN, BotClient, FakeConnector

# The Cosmos DB emulator's published well-known key; the test server accepts any key.
EMULATOR_KEY = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="


class FrozenClock:
    """The app's clock, fixed at the moment the benchmark seeded its data."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


def cosmos_endpoint() -> str | None:
    return os.environ.get("COSMOS_TEST_ENDPOINT") or None


def bench_settings(sqlite_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "sqlite_path": sqlite_path,
        "app_id": "",  # anonymous local mode, as in the tests
        "app_password": "",
        "scheduler_interval_s": 0,
        "admin_users": frozenset({ADMIN.aad_object_id}),
        "allowed_tenants": frozenset(),
        "log_level": "WARNING",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def new_store(kind: str, sqlite_path: Path, cosmos_database: str) -> DocumentStore:
    """A fresh, unopened store instance on the benchmark's data (same file or same Cosmos database)."""
    if kind == "sqlite":
        return SqliteDocumentStore(sqlite_path)
    endpoint = cosmos_endpoint()
    if endpoint is None:
        raise RuntimeError("COSMOS_TEST_ENDPOINT is not set: run `make bench`")
    # Production retry settings: the benchmark measures the store as the app configures it.
    return CosmosDocumentStore(endpoint, EMULATOR_KEY, cosmos_database)


@dataclass
class BotUnderTest:
    store_kind: str
    app: web.Application
    server: TestServer
    store: DocumentStore
    client: BotClient
    connector: FakeConnector


@asynccontextmanager
async def running_bot(
    kind: str, store: DocumentStore, settings: Settings, clock: FrozenClock, connector: FakeConnector
) -> AsyncIterator[BotUnderTest]:
    """The app on 127.0.0.1 with a free port; the app opens ``store`` on startup and closes it on cleanup."""
    app = create_app(settings, clock=clock, store=store)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    client = BotClient(str(server.make_url("/")), connector=connector)
    try:
        yield BotUnderTest(kind, app, server, store, client, connector)
    finally:
        await client.close()
        await server.close()
