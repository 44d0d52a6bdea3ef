"""`pilots`, `overdue`, `report`, the message extension's search, GET /api/pilots and GET /api/reports/monthly,
through the real bot endpoint and REST routes, cost the same store operations with 10 pilots as with 1,000 (SQLite)
or 250 (the Cosmos DB test server)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.seed import SeedPlan, seed, sponsors
from storage.documents import DocumentStore
from storage.repositories import Repositories
from storage.sqlite_store import SqliteDocumentStore
from tests.conftest import Harness, start_harness, stop_harness
from tests.fakes import FixedClock
from tests.helpers import cards_of
from tests.storage.conftest import cosmos_stores
from tests.store_wrappers import BeforeSummaries, CountingStore
from tests.teams_sim import ADMIN, TENANT, FakeConnector, messaging_extension_query, personal_message

NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)

Command = Callable[[Harness], Awaitable[None]]


async def chat(h: Harness, text: str) -> None:
    status, _ = await h.bot.post(personal_message(text, ADMIN, service_url=h.connector.service_url))
    assert status == 200
    assert cards_of(h.connector.sent_activities())  # the command answered with its card


async def pilots(h: Harness) -> None:
    await chat(h, "pilots")


async def overdue(h: Harness) -> None:
    await chat(h, "overdue")


async def report(h: Harness) -> None:
    await chat(h, "report")


async def search(h: Harness) -> None:
    for text in ("", "claims"):
        status, body = await h.bot.post(messaging_extension_query(text, service_url=h.connector.service_url))
        assert status == 200 and body["composeExtension"]["type"] == "result", body


async def rest_list(h: Harness) -> None:
    status, body = await h.api("GET", f"/api/pilots?tenantId={TENANT.id}")
    assert status == 200 and body["count"] > 0


async def rest_report(h: Harness) -> None:
    status, body = await h.api("GET", f"/api/reports/monthly?tenantId={TENANT.id}&period=2026-11")
    assert status == 200 and body["pilots"], body


COMMANDS: dict[str, Command] = {
    "pilots": pilots,
    "overdue": overdue,
    "report": report,
    "search": search,
    "GET /api/pilots": rest_list,
    "GET /api/reports/monthly": rest_report,
}
# The search runs twice (nothing typed, then a name); GET /api/pilots returns
# pilots, not statuses: one pilots query. A report also reads the tenant's audits (one query).
SUMMARY_QUERIES = {
    "pilots": 1,
    "overdue": 1,
    "report": 1,
    "search": 2,
    "GET /api/pilots": 0,
    "GET /api/reports/monthly": 1,
}


async def operations(h: Harness, store: CountingStore) -> dict[str, Counter[tuple[str, str]]]:
    """Each command's store operations, once the tenant is summarised and the conversation known (a first run)."""
    for command in COMMANDS.values():
        await command(h)
    counted: dict[str, Counter[tuple[str, str]]] = {}
    for name, command in COMMANDS.items():
        store.reset()
        await command(h)
        counted[name] = Counter(store.calls)
    return counted


@asynccontextmanager
async def bot_on(kind: str, tmp_path: Path, pilots: int) -> AsyncIterator[tuple[Harness, CountingStore]]:
    """The app on a counting store holding ``pilots`` pilots of one tenant, written as a version before summaries
    did, then summarised by a first read."""
    async with FakeConnector() as connector, stores(kind, tmp_path) as inner:
        await seed(
            Repositories.on(BeforeSummaries(inner)),  # type: ignore[arg-type]
            SeedPlan(TENANT.id, pilots, NOW, sponsors(40, random.Random(5))),
            concurrency=16,
        )
        await Repositories.on(inner).summaries.for_tenant(TENANT.id)  # the first read summarises them
        store = CountingStore(inner)
        h = await start_harness(tmp_path, connector, store=store, clock=FixedClock(NOW))
        try:
            yield h, store
        finally:
            await stop_harness(h)


@asynccontextmanager
async def stores(kind: str, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    if kind == "cosmos":
        async with cosmos_stores() as open_store:
            yield await open_store()
        return
    store = SqliteDocumentStore(tmp_path / "store.db")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


# 1,000 pilots on the Cosmos DB test server take two minutes to write; `make bench` counts them (README, Benchmarks).
@pytest.mark.parametrize(
    ("kind", "many"), [("sqlite", 1000), pytest.param("cosmos", 250, marks=pytest.mark.cosmos, id="cosmos")]
)
async def test_portfolio_commands_cost_the_same_store_operations_for_10_and_many_pilots(
    kind: str, many: int, tmp_path: Path
) -> None:
    counted = {}
    for size in (10, many):
        async with bot_on(kind, tmp_path / str(size), size) as (h, store):
            counted[size] = await operations(h, store)
    assert counted[10] == counted[many]
    for name, calls in counted[many].items():
        queries = sum(n for (op, _), n in calls.items() if op == "query")
        # the summaries; for overdue also the tenant's chats and roster, for a report the tenant's audits
        assert queries <= 4, (name, calls)
        assert calls["query", "summaries"] == SUMMARY_QUERIES[name], (name, calls)
        assert calls["query", "readings"] == calls["query", "decisions"] == calls["query", "sendlog"] == 0
