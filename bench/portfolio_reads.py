"""`pilots` and `overdue` with 1,000 pilots in one tenant and the `report` card with 2,000: round trip of POST
/api/messages, and the store operations each command costs (with 10 pilots and with 1,000 or 2,000), on SQLite and on
the Cosmos DB test server.

The pilots are written the way a version before the per-pilot summary wrote them (tests.store_wrappers.
BeforeSummaries), so the first read of the tenant summarises them: that one-off cost is reported too. The app then
runs as tests/conftest.py starts it, on a store that counts its operations (tests.store_wrappers.CountingStore); an
admin sends each command from a 1:1 chat, and a round trip ends when the fake Bot Connector has the reply card.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.bot_latency import BenchError, drop_cosmos_database, machine_note, prose, run_turns
from bench.harness import BotUnderTest, FrozenClock, bench_settings, cosmos_endpoint, new_store, running_bot
from bench.seed import SeedPlan, seed, sponsors
from bench.stats import Stats, ms, table
from storage.repositories import Repositories
from tests.store_wrappers import BeforeSummaries, CountingStore
from tests.teams_sim import (
    ADMIN,
    TENANT,
    FakeConnector,
    installation_update,
    personal_conversation_id,
    personal_message,
)

NAME = "portfolio_reads"
HEADING = "The portfolio at 1,000 pilots: `pilots` and `overdue`; the report card at 2,000 (`portfolio_reads`)"
# p95 on SQLite (issue 11): `pilots` and `overdue` with 1,000 pilots, the report card with 2,000.
GOAL_MS = {"pilots": 200.0, "overdue": 200.0, "report": 500.0}
COMMANDS = ("pilots", "overdue")
REPORT_COMMANDS = ("report",)
CARD = "application/vnd.microsoft.card.adaptive"
# Thursday 10 December 2026, 09:30 UTC: November's check-ins went out on the 1st, and some are overdue since 09:00.
NOW = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)

Turn = Callable[[int], Awaitable[float]]


@dataclass(frozen=True, slots=True)
class Options:
    pilots: int = 1_000
    report_pilots: int = 2_000
    small: int = 10  # the second tenant size whose operation counts are compared
    runs: int = 100
    warmup: int = 10
    stores: tuple[str, ...] = ("sqlite", "cosmos")

    @classmethod
    def quick(cls) -> Options:
        return cls(pilots=200, report_pilots=400, runs=20, warmup=3)


@dataclass(frozen=True, slots=True)
class Measured:
    store: str
    pilots: int
    summarise_s: float  # the first read of a tenant written before summaries
    latency: dict[str, Stats]
    operations: dict[int, dict[str, Counter[str]]]  # pilots -> command -> operation -> calls


@dataclass
class Report:
    options: Options
    measured: list[Measured] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def goal_misses(self) -> list[str]:
        return [
            f"{m.store} {command} p95 {ms(stats.p95)} ms"
            for m in self.measured
            if m.store == "sqlite"
            for command, stats in m.latency.items()
            if stats.p95 > GOAL_MS[command]
        ]


def command_turns(bot: BotUnderTest, store: CountingStore, command: str, counted: Counter[str]) -> Turn:
    """One `command` from the admin's 1:1 chat; ``counted`` keeps the store operations of the latest turn."""
    conversation = personal_conversation_id(ADMIN)
    connector = bot.connector

    async def turn(i: int) -> float:
        activity = personal_message(command, ADMIN, service_url=connector.service_url)
        before = connector.sent_count(conversation)
        store.reset()
        start = time.perf_counter()
        status, body = await bot.client.post(activity)
        await connector.wait_for(lambda c: c.sent_count(conversation) > before, timeout=60)
        elapsed = (time.perf_counter() - start) * 1000
        reply = connector.sent(conversation)[before].body
        if status != 200 or not any(a.get("contentType") == CARD for a in reply.get("attachments") or []):
            raise BenchError(f"{command}: HTTP {status} {body!r}, reply without a card")
        counted.clear()
        for (op, _), n in store.calls.items():
            counted[op] += n
        return elapsed

    return turn


async def measure_tenant(
    kind: str,
    pilots: int,
    commands: tuple[str, ...],
    options: Options,
    connector: FakeConnector,
    tmp: Path,
    *,
    timed: bool,
) -> tuple[float, dict[str, Stats], dict[str, Counter[str]]]:
    db_path = tmp / f"portfolio-{pilots}.db"
    database = f"bench-{uuid.uuid4().hex[:12]}"
    plan = SeedPlan(TENANT.id.lower(), pilots, NOW, sponsors(150, random.Random(11)))
    try:
        seeder = new_store(kind, db_path, database)
        await seeder.open()
        try:
            print(f"[{kind}] seeding {pilots:,} pilots as before summaries ...", flush=True)
            await seed(Repositories.on(BeforeSummaries(seeder)), plan, concurrency=8 if kind == "sqlite" else 16)
            started = time.perf_counter()
            await Repositories.on(seeder).summaries.for_tenant(plan.tenant_id)
            summarise_s = time.perf_counter() - started
        finally:
            await seeder.close()
        store = CountingStore(new_store(kind, db_path, database))
        async with running_bot(kind, store, bench_settings(db_path), FrozenClock(NOW), connector) as bot:  # type: ignore[arg-type]
            install = installation_update("add", "personal", ADMIN, service_url=connector.service_url)
            status_code, _ = await bot.client.post(install)
            if status_code not in (200, 201):
                raise BenchError(f"installationUpdate answered {status_code}")
            latency: dict[str, Stats] = {}
            operations: dict[str, Counter[str]] = {}
            for command in commands:
                counted: Counter[str] = Counter()
                turn = command_turns(bot, store, command, counted)
                await run_turns(turn, options.warmup if timed else 2)
                if timed:
                    print(f"[{kind}] measuring {options.runs} `{command}` ...", flush=True)
                    samples, _ = await run_turns(turn, options.runs, connector=connector)
                    latency[command] = Stats.of(samples)
                operations[command] = Counter(counted)
        return summarise_s, latency, operations
    finally:
        if kind == "cosmos":
            await drop_cosmos_database(database)


async def run(options: Options) -> Report:
    report = Report(options)
    async with FakeConnector() as connector:
        for kind in options.stores:
            if kind == "cosmos" and cosmos_endpoint() is None:
                report.skipped.append("Cosmos DB: COSMOS_TEST_ENDPOINT is not set (run `make bench`)")
                continue
            for pilots, commands in ((options.pilots, COMMANDS), (options.report_pilots, REPORT_COMMANDS)):
                with TemporaryDirectory(prefix="pilotgate-portfolio-") as tmp:
                    summarise_s, latency, many = await measure_tenant(
                        kind, pilots, commands, options, connector, Path(tmp), timed=True
                    )
                    _, _, few = await measure_tenant(
                        kind, options.small, commands, options, connector, Path(tmp), timed=False
                    )
                measured = Measured(kind, pilots, summarise_s, latency, {options.small: few, pilots: many})
                report.measured.append(measured)
                print(render_latency([measured]), flush=True)
    return report


def render_latency(measured: list[Measured]) -> str:
    rows = []
    for m in measured:
        for command, stats in m.latency.items():
            goal = f"{GOAL_MS[command]:.0f} ms"
            met = "" if m.store != "sqlite" else ("met" if stats.p95 <= GOAL_MS[command] else "**missed**")
            row = [m.store, f"{m.pilots:,}", f"`{command}`", ms(stats.p50), ms(stats.p95), ms(stats.p99), goal, met]
            rows.append(row)
    header = ["store", "pilots", "command", "p50 ms", "p95 ms", "p99 ms", "goal p95 (SQLite)", ""]
    return table(header, rows, "lrlrrrrl")


def render_operations(measured: list[Measured], small: int) -> str:
    rows = []
    for m in measured:
        for command in m.operations[m.pilots]:
            cells = []
            for size in (small, m.pilots):
                calls = m.operations[size][command]
                writes = sum(calls[op] for op in ("create", "replace", "upsert", "delete"))
                cells.append(f"{calls['query']} / {calls['read']} / {writes}")
            rows.append([m.store, f"`{command}`", f"{m.pilots:,}", *cells])
    header = [
        "store",
        "command",
        "many pilots",
        f"{small:,} pilots: queries / point reads / writes",
        "many pilots: queries / point reads / writes",
    ]
    return table(header, rows, "llrrr")


def render(report: Report) -> str:
    parts = [
        prose(
            f"{report.options.pilots:,} pilots in one tenant (months of readings, some decisions), an admin's `pilots` "
            f"and `overdue` through POST /api/messages, and in a tenant of {report.options.report_pilots:,} pilots "
            f"the admin's `report` (last month's report card), {report.options.runs} turns each, one at a time after "
            "a warm-up. Before the per-pilot summary (README, Storage) `pilots` and `overdue` took 1.4 s and 2.6 s "
            "(p95) on SQLite: each read every pilot and then two queries per pilot. With the summary but before it was "
            "packed (README, Reading a thousand pilots fast) they took 376 ms and 771 ms (p95, on a loaded machine): "
            "most of a turn parsed 4.7 MB of summaries."
        ),
        render_latency(report.measured),
        prose(
            "Store operations per command (everything one turn asks of the store, the bot's own bookkeeping "
            "included). The same with "
            f"{report.options.small} pilots as with many: one query of the tenant's summaries; "
            "`overdue` adds the tenant's 1:1 chats and roster, for the sponsors the bot cannot reach, and `report` "
            "the tenant's quarterly audits, for the outcome of one that closed in the month."
        ),
        render_operations(report.measured, report.options.small),
    ]
    firsts = [f"{m.store} {m.summarise_s:.1f} s for {m.pilots:,} pilots" for m in report.measured]
    if firsts:
        parts.append(
            prose(f"A tenant written before summaries is summarised by its first read, once: {', '.join(firsts)}.")
        )
    parts += [prose(f"Skipped: {note}.") for note in report.skipped]
    parts.append(machine_note())
    return "\n\n".join(parts)


def main(options: Options) -> Report:
    return asyncio.run(run(options))
