"""Shared fixtures: the app wired as in production (real aiohttp server, SQLite store, fake Bot Connector)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from app import create_app
from bots.notifier import SenderLimits
from bots.signing_keys import BotFrameworkSigningKeys
from config import Settings
from storage.documents import DocumentStore
from storage.repositories import Repositories
from storage.sqlite_store import SqliteDocumentStore
from tests.fakes import FixedClock
from tests.teams_sim import ADMIN, BotClient, FakeConnector

API_TOKEN = "test-token-0123456789"


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "sqlite_path": tmp_path / "pilotgate.db",
        "api_token": API_TOKEN,
        "scheduler_interval_s": 0,
        "admin_users": frozenset({ADMIN.aad_object_id}),
        "allow_clock_override": True,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Harness:
    settings: Settings
    clock: FixedClock
    store: DocumentStore
    repos: Repositories
    server: TestServer
    bot: BotClient
    http: aiohttp.ClientSession
    connector: FakeConnector

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def api(
        self, method: str, path: str, json: Any = None, token: str | None = API_TOKEN, **kw: Any
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(method, self.url(path), json=json, headers=headers, **kw) as response:
            body = await response.json(content_type=None) if response.content_length != 0 else None
            return response.status, body


async def start_harness(
    tmp_path: Path,
    connector: FakeConnector,
    *,
    sender_limits: SenderLimits | None = None,
    store: DocumentStore | None = None,
    signing_keys: BotFrameworkSigningKeys | None = None,
    clock: FixedClock | None = None,
    **overrides: Any,
) -> Harness:
    settings = make_settings(tmp_path, **overrides)
    clock = clock or FixedClock()
    store = store or SqliteDocumentStore(settings.sqlite_path)
    limits = sender_limits or SenderLimits(base_backoff_s=0.01, max_backoff_s=0.05)
    app = create_app(settings, clock=clock, store=store, sender_limits=limits, signing_keys=signing_keys)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return Harness(
        settings=settings,
        clock=clock,
        store=store,
        repos=Repositories.on(store),
        server=server,
        bot=BotClient(str(server.make_url("/"))),
        http=aiohttp.ClientSession(),
        connector=connector,
    )


async def stop_harness(harness: Harness) -> None:
    await harness.bot.close()
    await harness.http.close()
    await harness.server.close()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as conn:
        yield conn


@pytest.fixture
async def harness(tmp_path: Path, connector: FakeConnector) -> AsyncIterator[Harness]:
    h = await start_harness(tmp_path, connector)
    yield h
    await stop_harness(h)
