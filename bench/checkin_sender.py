"""The monthly check-in to thousands of sponsors, sent by the scheduler's sweep at Teams' rate limits.

Each run seeds an embedded store (a SQLite file in a temporary directory) with pilots due at the check-in time,
their sponsors' stored 1:1 conversation references and last month's reading, then runs ``Sweep.tick(now)`` as
the app builds it (the three planners, ``ConnectorMessenger`` with the shipped ``SenderLimits``) until nothing is
left to retry. Three processes, so that each is measured alone: the fake Bot Connector (the project's
FakeConnector, enforcing 50 requests/s per tenant and 7/s per conversation, optionally answering 5% of calls 429
with Retry-After 1 s and 1% 503) runs in its own process with its own event loop; the sweep runs in a fresh
process (its peak RSS is the sweep's alone); the parent seeds the store with SQL ``executemany`` and compares
what the connector recorded with what was due.

Reads: the sweep's store is wrapped in a proxy that counts the documents each read and query returns, and the
same tick runs on 10,000 and 100,000 pilots of which only a few are due.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import inspect
import json
import math
import multiprocessing
import resource
import sqlite3
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from app import build_sweep
from bench.bot_latency import machine_note, prose
from bench.harness import FrozenClock
from bench.profiling import GcWatch
from bench.stats import table
from bots.notifier import BotToken, ConnectorMessenger, SenderLimits
from governance.model import (
    ConversationKind,
    ConversationRef,
    Direction,
    HealthStatus,
    Metric,
    MetricReading,
    Person,
    Pilot,
    ReadingSource,
)
from governance.period import Period
from scheduler.sweep import Sweep
from storage.codec import conversation_to_doc, pilot_to_doc, reading_to_doc, utc_key
from storage.documents import Condition, Document, DocumentStore, partition_of
from storage.repositories import Repositories
from storage.sqlite_store import SqliteDocumentStore

NAME = "checkin_sender"
HEADING = "The monthly check-in to thousands of sponsors at Teams' rate limits (`checkin_sender`)"

CHECKIN_AT = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)  # Monday 1 February 2027: first business day, 09:00 UTC
REGISTERED = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
START = date(2026, 12, 14)
GATE = date(2027, 3, 15)  # 30 days before is 13 February: no gate milestone is due with the check-in
PERIOD = "2027-01"
LAST_PERIOD = Period(2026, 12)
BOT = "28:pilotgate-bench"

PER_TENANT_PER_S = 50
PER_CONVERSATION_PER_S = 7
RATE_429 = 0.05
RATE_503 = 0.01
RETRY_AFTER_S = 1
PERFECT_WITH_FAULTS = 1 - RATE_429 - RATE_503  # rejected calls still count against the tenant's window
GOAL_CLEAN = 0.95
GOAL_FAULTS = 0.90
RSS_GOAL_MB = 200.0
MAX_TICKS = 6
RETRY_STEP = timedelta(minutes=6)  # the sweep keeps a failed send due for 5 minutes (Retry-After or its backoff)
# find_personal's query (container, tenant, aadObjectId, kind) uses the primary key's (container, pk) prefix and
# scans every conversation of the tenant; with this index it reads one.
WHAT_IF_INDEX = "CREATE INDEX bench_ix_aad ON documents (json_extract(body, '$.aadObjectId'))"
# What SqliteDocumentStore.query runs for DocumentConversationRepository.find_personal.
FIND_PERSONAL_SQL = (
    "SELECT body, etag FROM documents WHERE container = ? AND pk = ? AND json_extract(body, '$.aadObjectId') = ? "
    "AND json_extract(body, '$.kind') = ?"
)


@dataclass(frozen=True, slots=True)
class Options:
    sponsors: int = 2_000  # per tenant, in the throughput runs
    tenant_counts: tuple[int, ...] = (1, 3)
    faults: tuple[bool, ...] = (False, True)
    reads_pilots: tuple[int, ...] = (10_000, 100_000)
    reads_due: int = 100
    what_if: bool = False  # run the largest reads again with WHAT_IF_INDEX (the index now ships)
    seed: int = 20270201

    @classmethod
    def quick(cls) -> Options:
        return cls(sponsors=150, reads_pilots=(1_000, 5_000), reads_due=20)


@dataclass(frozen=True, slots=True)
class Scenario:
    label: str
    tenants: int
    due_per_tenant: int
    pilots_per_tenant: int
    faults: bool
    kind: str  # "throughput" or "reads"
    what_if_index: bool = False  # an index on conversations' aadObjectId, in this benchmark's database only


# -- the store: seeding with executemany -------------------------------------------------------------------------


def tenant_id(t: int) -> str:
    return str(uuid.UUID(int=0xBE7C0000_0000_4000_8000_000000000000 + t))


def sponsor_of(t: int, i: int) -> Person:
    return Person(str(uuid.UUID(int=(0x5B0 << 112) + (t << 40) + i)), f"Sponsor {t}-{i}")


def conversation_id(t: int, i: int) -> str:
    return f"a:bench-{t}-{i:06d}"


def pilot_id(t: int, i: int) -> str:
    """A uuid4-like hex id, as the app makes (the agenda returns due pilots in id order: tenants mixed)."""
    return hashlib.blake2b(f"pilot {t} {i}".encode(), digest_size=16).hexdigest()


def _pilot(t: int, i: int) -> Pilot:
    metrics: tuple[Metric, ...] = (Metric("Handling time", "min", 42.0, 30.0, Direction.DECREASE),)
    if i % 3 == 0:
        metrics += (Metric("First-contact resolution", "%", 61.0, 75.0, Direction.INCREASE),)
    return Pilot(
        id=pilot_id(t, i),
        tenant_id=tenant_id(t),
        name=f"Bench pilot {t}-{i:06d}",
        sponsor=sponsor_of(t, i),
        metrics=metrics,
        start_date=START,
        gate_date=GATE,
        checkin_day=1,
        timezone="UTC",
        budget_monthly=10_000.0,
        intended_users=120,
        created_by=sponsor_of(t, i).aad_object_id,
        created_at=REGISTERED,
        updated_at=REGISTERED,
    )


def _documents(t: int, i: int, service_url: str, due: bool) -> Iterator[tuple[str, Document]]:
    pilot = _pilot(t, i)
    yield "pilots", pilot_to_doc(pilot)
    yield (
        "conversations",
        conversation_to_doc(
            ConversationRef(
                conversation_id=conversation_id(t, i),
                tenant_id=pilot.tenant_id,
                kind=ConversationKind.PERSONAL,
                service_url=service_url,
                bot_id=BOT,
                user_id=f"29:bench-user-{t}-{i}",
                aad_object_id=pilot.sponsor.aad_object_id,
                user_name=pilot.sponsor.name,
                greeted=True,
                updated_at=REGISTERED,
            )
        ),
    )
    yield (
        "readings",
        reading_to_doc(
            MetricReading(
                pilot_id=pilot.id,
                tenant_id=pilot.tenant_id,
                period=LAST_PERIOD,
                values={m.name: m.baseline for m in pilot.metrics},
                status=HealthStatus.GREEN,
                submitted_by=pilot.sponsor,
                submitted_at=datetime(2027, 1, 6, 10, 0, tzinfo=UTC),
                source=ReadingSource.TEAMS,
                active_users=40,
                spend=6_000.0,
            )
        ),
    )
    # What DocumentAgenda.set writes; a pilot that is not due has its next check-in later in the month.
    next_due = CHECKIN_AT if due else CHECKIN_AT + timedelta(days=1 + i % 27, hours=i % 7)
    yield "agenda", {"id": pilot.id, "type": "agenda", "tenantId": pilot.tenant_id, "nextDueAt": utc_key(next_due)}


@dataclass(frozen=True, slots=True)
class Seeded:
    pilots: int
    due: int
    documents: int
    seconds: float


def seed_store(path: Path, scenario: Scenario, service_url: str) -> Seeded:
    """The schema from SqliteDocumentStore.open, then every document in one transaction of executemany batches."""

    async def schema() -> None:
        store = SqliteDocumentStore(path)
        await store.open()
        await store.close()

    started = time.perf_counter()
    asyncio.run(schema())
    documents = 0
    sql = "INSERT INTO documents (container, pk, id, etag, body) VALUES (?, ?, ?, ?, ?)"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA synchronous=OFF")
        rows: list[tuple[str, str, str, str, str]] = []
        for t in range(scenario.tenants):
            for i in range(scenario.pilots_per_tenant):
                for container, doc in _documents(t, i, service_url, i < scenario.due_per_tenant):
                    body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
                    rows.append((container, partition_of(container, doc), doc["id"], uuid.uuid4().hex, body))
                if len(rows) >= 20_000:
                    db.executemany(sql, rows)
                    documents += len(rows)
                    rows.clear()
        db.executemany(sql, rows)
        documents += len(rows)
        if scenario.what_if_index:
            db.execute(WHAT_IF_INDEX)
        db.commit()  # no ANALYZE: the app never runs it, and its averages would steer SQLite's plans elsewhere
    return Seeded(
        pilots=scenario.tenants * scenario.pilots_per_tenant,
        due=scenario.tenants * scenario.due_per_tenant,
        documents=documents,
        seconds=time.perf_counter() - started,
    )


def sendlog_statuses(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT json_extract(body, '$.status'), count(*) FROM documents WHERE container = 'sendlog' GROUP BY 1"
        ).fetchall()
    return {str(status): int(count) for status, count in rows}


# -- the counting proxy ------------------------------------------------------------------------------------------


class CountingStore:
    """A DocumentStore that counts calls and the documents reads and queries return, per container."""

    def __init__(self, inner: DocumentStore) -> None:
        self._inner = inner
        self.name = inner.name
        self.docs_read: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def _note(self, op: str, container: str, started: float, returned: int = 0) -> None:
        self.calls[f"{op}({container})"] += 1
        self.seconds[f"{op}({container})"] += time.perf_counter() - started
        if op in ("read", "query"):
            self.docs_read[container] += returned

    async def open(self) -> None:
        await self._inner.open()

    async def close(self) -> None:
        await self._inner.close()

    async def ping(self) -> None:
        await self._inner.ping()

    async def read(self, container: str, partition: str, doc_id: str) -> Document | None:
        started = time.perf_counter()
        doc = await self._inner.read(container, partition, doc_id)
        self._note("read", container, started, int(doc is not None))
        return doc

    async def create(self, container: str, doc: Document) -> Document:
        started = time.perf_counter()
        try:
            return await self._inner.create(container, doc)
        finally:
            self._note("create", container, started)

    async def replace(self, container: str, doc: Document, etag: str | None = None) -> Document:
        started = time.perf_counter()
        try:
            return await self._inner.replace(container, doc, etag)
        finally:
            self._note("replace", container, started)

    async def upsert(self, container: str, doc: Document) -> Document:
        started = time.perf_counter()
        try:
            return await self._inner.upsert(container, doc)
        finally:
            self._note("upsert", container, started)

    async def delete(self, container: str, partition: str, doc_id: str, etag: str | None = None) -> None:
        started = time.perf_counter()
        try:
            await self._inner.delete(container, partition, doc_id, etag)
        finally:
            self._note("delete", container, started)

    async def query(
        self, container: str, conditions: Sequence[Condition] = (), partition: str | None = None
    ) -> list[Document]:
        started = time.perf_counter()
        docs = await self._inner.query(container, conditions, partition)
        self._note("query", container, started, len(docs))
        return docs


# -- the sweep process -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SweepJob:
    db_path: str
    now: datetime
    profile: bool = False


@dataclass(slots=True)
class TickRow:
    now: datetime
    seconds: float
    due: int
    sent: int
    skipped: int
    failed: int
    undeliverable: int


@dataclass(slots=True)
class SweepResult:
    ticks: list[TickRow]
    started: float  # time.monotonic() (system-wide on Linux: comparable with the connector's)
    finished: float
    cpu_s: float
    maxrss_mb: float
    rss_before_mb: float
    docs_read: dict[str, int]
    calls: dict[str, int]
    store_seconds: dict[str, float]
    full_gcs: int = 0
    longest_gc_ms: float = 0.0
    profile: list[tuple[str, float, float, int]] = field(default_factory=list)

    @property
    def elapsed(self) -> float:
        return sum(t.seconds for t in self.ticks)


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _sweep(job: SweepJob) -> SweepResult:
    store = CountingStore(SqliteDocumentStore(job.db_path))
    await store.open()
    repos = Repositories.on(store)
    messenger = ConnectorMessenger(BotToken(None, ""))  # the shipped SenderLimits
    sweep = build_sweep(repos, messenger, FrozenClock(job.now))
    profiler = None
    if job.profile:
        import cProfile

        profiler = cProfile.Profile()
    gc.collect()
    rss_before = _maxrss_mb()
    cpu_before = _cpu_s()
    ticks: list[TickRow] = []
    now = job.now
    gcs = GcWatch()
    started = time.monotonic()
    try:
        with gcs.watching():
            for _ in range(MAX_TICKS):
                t0 = time.perf_counter()
                if profiler is not None:
                    profiler.enable()
                report = await sweep.tick(now)
                if profiler is not None:
                    profiler.disable()
                ticks.append(
                    TickRow(
                        now,
                        time.perf_counter() - t0,
                        report.due,
                        report.sent,
                        report.skipped,
                        report.failed,
                        report.undeliverable,
                    )
                )
                if not report.failed:
                    break
                now += RETRY_STEP
    finally:
        finished = time.monotonic()
        await messenger.close()
        await store.close()
    top: list[tuple[str, float, float, int]] = []
    if profiler is not None:
        import pstats

        stats = pstats.Stats(profiler)
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:25]  # type: ignore[attr-defined]
        top = [(f"{Path(k[0]).name}:{k[1]}:{k[2]}", v[2], v[3], v[1]) for k, v in rows]
    return SweepResult(
        ticks=ticks,
        started=started,
        finished=finished,
        cpu_s=_cpu_s() - cpu_before,
        maxrss_mb=_maxrss_mb(),
        rss_before_mb=rss_before,
        docs_read=dict(store.docs_read),
        calls=dict(store.calls),
        store_seconds=dict(store.seconds),
        full_gcs=gcs.full,
        longest_gc_ms=gcs.longest_ms,
        profile=top,
    )


def _sweep_process(job: SweepJob, pipe: Connection) -> None:
    import logging

    logging.basicConfig(level=logging.ERROR)
    pipe.send(asyncio.run(_sweep(job)))
    pipe.close()


# -- the connector process ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConnectorJob:
    faults: bool
    seed: int


@dataclass(frozen=True, slots=True)
class Request:
    at: float  # time.monotonic() when the connector read it (system-wide on Linux: comparable across processes)
    status: int
    tenant: str
    conversation: str


@dataclass(slots=True)
class ConnectorResult:
    cards: dict[str, int]  # conversation id -> check-in cards delivered
    other_messages: int
    stats: dict[str, dict[str, int]]
    limiter_429: int
    first_delivered: dict[str, float]  # per tenant, time.monotonic()
    last_delivered: dict[str, float]
    requests: int
    cpu_s: float
    maxrss_mb: float
    full_gcs: int
    longest_gc_ms: float
    timeline: list[Request] = field(default_factory=list)


async def _serve(job: ConnectorJob, pipe: Connection) -> None:
    from tests.teams_sim import FakeConnector

    class MeteredConnector(FakeConnector):
        """Counts the 429s the rate limiter answers (the ones a perfect sender never gets)."""

        limiter_429 = 0

        def _fault_for(self, rec: Any) -> tuple[int, str, str, float | None] | None:
            fault = super()._fault_for(rec)
            if fault is not None and fault[0] == 429 and rec.tenant_id:
                hits = self._windows.get(("tenant", rec.tenant_id))
                if hits is None or not hits[0].hits or hits[0].hits[-1] != rec.at:  # not admitted to the window
                    self.limiter_429 += 1
            return fault

    connector = MeteredConnector()
    await connector.start()
    connector.enforce_limits(per_tenant_per_s=PER_TENANT_PER_S, per_conversation_per_s=PER_CONVERSATION_PER_S)
    if job.faults:
        connector.set_fault_rates(rate_429=RATE_429, rate_503=RATE_503, retry_after_s=RETRY_AFTER_S, seed=job.seed)
    # The connector keeps every request it answered (thousands of card bodies): its full garbage collections grew
    # to 125 ms pauses that stalled its clock and made the next second look like a burst. Reference counting frees
    # what a request leaves behind; cycles wait for the end of the run.
    gc.collect()
    gc.freeze()
    gc.disable()
    cpu_before = _cpu_s()
    gcs = GcWatch()
    pipe.send(connector.service_url)
    with gcs.watching():
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # "stop"
    cpu = _cpu_s() - cpu_before
    gc.enable()
    cards: Counter[str] = Counter()
    other = 0
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for rec in connector.sent():
        body = rec.body if isinstance(rec.body, dict) else {}
        attachments = body.get("attachments") or []
        if rec.conversation_id and attachments:
            cards[rec.conversation_id] += 1
        else:
            other += 1
        tenant = rec.tenant_id or "unknown"
        first.setdefault(tenant, rec.at)
        last[tenant] = rec.at
    result = ConnectorResult(
        cards=dict(cards),
        other_messages=other,
        stats=connector.stats(),
        limiter_429=connector.limiter_429,
        first_delivered=first,
        last_delivered=last,
        requests=len(connector.requests),
        cpu_s=cpu,
        maxrss_mb=_maxrss_mb(),
        full_gcs=gcs.full,
        longest_gc_ms=gcs.longest_ms,
        timeline=[
            Request(rec.at, rec.status, rec.tenant_id or "", rec.conversation_id or "") for rec in connector.requests
        ],
    )
    await connector.close()
    pipe.send(result)


def _connector_process(job: ConnectorJob, pipe: Connection) -> None:
    asyncio.run(_serve(job, pipe))
    pipe.close()


# -- one scenario ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LookupTiming:
    """find_personal's SQL on the seeded file, timed alone: as shipped, then with WHAT_IF_INDEX."""

    conversations: int  # in the tenant
    plan: str
    ms: float
    plan_indexed: str
    ms_indexed: float


def time_lookup(db_path: Path, conversations: int, runs: int = 20) -> LookupTiming:
    tenant = tenant_id(0)
    keys = [sponsor_of(0, i * max(1, conversations // runs) % conversations).aad_object_id for i in range(runs)]

    def measure(db: sqlite3.Connection) -> tuple[str, float]:
        params = ("conversations", tenant, keys[0], ConversationKind.PERSONAL.value)
        plan = " / ".join(row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + FIND_PERSONAL_SQL, params))
        started = time.perf_counter()
        for key in keys:
            rows = db.execute(FIND_PERSONAL_SQL, (*params[:2], key, params[3])).fetchall()
            assert len(rows) == 1
        return plan, (time.perf_counter() - started) * 1000 / len(keys)

    with contextlib.closing(sqlite3.connect(db_path)) as db:
        plan, ms = measure(db)
        db.execute(WHAT_IF_INDEX.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))
        plan_indexed, ms_indexed = measure(db)
    return LookupTiming(conversations, plan, ms, plan_indexed, ms_indexed)


@dataclass(slots=True)
class Outcome:
    scenario: Scenario
    seeded: Seeded
    sweep: SweepResult
    connector: ConnectorResult
    sendlog: dict[str, int]
    lookup: LookupTiming | None = None

    @property
    def due(self) -> int:
        return self.seeded.due

    @property
    def delivered(self) -> int:
        return sum(self.connector.cards.values())

    @property
    def duplicates(self) -> int:
        """Extra cards: a sponsor's chat that received n > 1 check-in cards counts n - 1."""
        return sum(n - 1 for n in self.connector.cards.values() if n > 1)

    @property
    def lost(self) -> int:
        """Due sponsors whose chat received no card."""
        scenario = self.scenario
        return sum(
            1
            for t in range(scenario.tenants)
            for i in range(scenario.due_per_tenant)
            if self.connector.cards.get(conversation_id(t, i), 0) == 0
        )

    @property
    def rate(self) -> float:
        return self.delivered / self.sweep.elapsed if self.sweep.elapsed else math.nan

    @property
    def ratio(self) -> float:
        """Delivered per second as a share of the tenants' combined limit."""
        return self.rate / (PER_TENANT_PER_S * self.scenario.tenants)

    @property
    def goal(self) -> float:
        return GOAL_FAULTS if self.scenario.faults else GOAL_CLEAN

    @property
    def reads_per_due(self) -> float:
        return sum(self.sweep.docs_read.values()) / self.due if self.due else math.nan

    def totals(self, key: str) -> int:
        return sum(counts.get(key, 0) for counts in self.connector.stats.values())

    @property
    def requests_per_tenant_s(self) -> float:
        return len(self.connector.timeline) / self.sweep.elapsed / self.scenario.tenants

    @property
    def first_card_s(self) -> float:
        """From the start of the tick to the first request at the connector."""
        times = [r.at for r in self.connector.timeline]
        return min(times) - self.sweep.started if times else math.nan

    @property
    def retry_tail_s(self) -> float:
        """From the last first try of any message to the end of the run: retries nothing else could overlap."""
        first_try: dict[str, float] = {}
        for r in self.connector.timeline:
            first_try.setdefault(r.conversation, r.at)
        return self.sweep.finished - max(first_try.values()) if first_try else math.nan

    def misses(self) -> list[str]:
        out = []
        label = self.scenario.label
        if self.scenario.kind == "throughput" and self.ratio < self.goal:
            out.append(f"{label}: {share(self.ratio)} of the limit (goal {self.goal:.2f})")
        if self.duplicates:
            out.append(f"{label}: {self.duplicates} duplicate cards")
        if self.lost:
            out.append(f"{label}: {self.lost} sponsors without a card")
        if self.sendlog.get("sent", 0) != self.delivered:
            out.append(
                f"{label}: the send-log records {self.sendlog.get('sent', 0)} sent, the connector got {self.delivered}"
            )
        if self.sweep.maxrss_mb >= RSS_GOAL_MB:
            out.append(f"{label}: peak RSS {self.sweep.maxrss_mb:.0f} MB")
        return out


def _receive(pipe: Connection, process: Any, what: str, timeout: float) -> Any:
    if not pipe.poll(timeout):
        process.kill()
        raise RuntimeError(f"the {what} process did not answer within {timeout:.0f} s")
    try:
        return pipe.recv()
    except EOFError as exc:
        raise RuntimeError(f"the {what} process died (exit code {process.exitcode})") from exc


def run_scenario(scenario: Scenario, options: Options, tmp: Path, *, profile: bool = False) -> Outcome:
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters: the sweep inherits nothing from the seeding
    db_path = tmp / "store.db"
    ours, theirs = ctx.Pipe()
    connector = ctx.Process(
        target=_connector_process, args=(ConnectorJob(scenario.faults, options.seed), theirs), daemon=True
    )
    connector.start()
    try:
        service_url: str = _receive(ours, connector, "connector", 60)
        seeded = seed_store(db_path, scenario, service_url)
        sweep_ours, sweep_theirs = ctx.Pipe()
        sweeper = ctx.Process(target=_sweep_process, args=(SweepJob(str(db_path), CHECKIN_AT, profile), sweep_theirs))
        sweeper.start()
        try:
            result: SweepResult = _receive(sweep_ours, sweeper, "sweep", 600)
        finally:
            sweeper.join(30)
        ours.send("stop")
        received: ConnectorResult = _receive(ours, connector, "connector", 60)
    finally:
        connector.join(10)
        if connector.is_alive():
            connector.kill()
    outcome = Outcome(scenario, seeded, result, received, sendlog_statuses(db_path))
    if scenario.kind == "reads" and not scenario.what_if_index:
        outcome.lookup = time_lookup(db_path, scenario.pilots_per_tenant)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    return outcome


def scenarios(options: Options) -> list[Scenario]:
    out = []
    for tenants in options.tenant_counts:
        for faults in options.faults:
            label = f"{tenants} x {options.sponsors:,}" if tenants > 1 else f"{options.sponsors:,}, 1 tenant"
            label += ", 5% 429 + 1% 503" if faults else ", no faults"
            out.append(Scenario(label, tenants, options.sponsors, options.sponsors, faults, "throughput"))
    for pilots in options.reads_pilots:
        out.append(Scenario(f"{pilots:,} pilots", 1, options.reads_due, pilots, False, "reads"))
    if options.what_if and options.reads_pilots:
        pilots = max(options.reads_pilots)
        label = f"{pilots:,} pilots, what-if: index on `aadObjectId`"
        out.append(Scenario(label, 1, options.reads_due, pilots, False, "reads", what_if_index=True))
    return out


# -- the whole run -----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Report:
    options: Options
    started: datetime
    machine: str
    outcomes: list[Outcome] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def sender_rate(self) -> float:
        return SenderLimits().per_tenant_per_s  # what ConnectorMessenger paces at without limits of its own

    @property
    def throughput(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.scenario.kind == "throughput"]

    @property
    def reads(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.scenario.kind == "reads"]

    def goal_misses(self) -> list[str]:
        misses = [m for o in self.outcomes for m in o.misses()]
        shipped = [o for o in self.reads if not o.scenario.what_if_index]
        if len(shipped) >= 2 and shipped[-1].reads_per_due > shipped[0].reads_per_due * 1.05:
            misses.append(
                f"documents read per due pilot grow with the pilots: {shipped[0].reads_per_due:.2f} at "
                f"{shipped[0].seeded.pilots:,}, {shipped[-1].reads_per_due:.2f} at {shipped[-1].seeded.pilots:,}"
            )
        return misses


def run(options: Options, *, only: Sequence[str] = (), profile: bool = False) -> Report:
    started = time.perf_counter()
    report = Report(options, datetime.now(UTC).replace(microsecond=0), machine_note())
    with TemporaryDirectory(prefix="pilotgate-checkin-bench-") as tmp:
        for scenario in scenarios(options):
            if only and not any(word in scenario.label for word in only):
                continue
            print(f"[{NAME}] {scenario.label} ...", flush=True)
            outcome = run_scenario(scenario, options, Path(tmp), profile=profile)
            report.outcomes.append(outcome)
            print(f"[{NAME}]   {summary(outcome)}", flush=True)
    report.duration_s = time.perf_counter() - started
    return report


def summary(o: Outcome) -> str:
    s, c = o.sweep, o.connector
    return (
        f"seeded {o.seeded.documents:,} documents in {o.seeded.seconds:.1f} s; {len(s.ticks)} tick(s), "
        f"{s.elapsed:.1f} s; delivered {o.delivered:,}/{o.due:,}, {o.rate:.1f}/s = {share(o.ratio)} of the limit; "
        f"duplicates {o.duplicates}, lost {o.lost}; 429 {o.totals('429')} (limiter {c.limiter_429}), 5xx "
        f"{o.totals('5xx')}; first card {o.first_card_s:.2f} s, retry tail {o.retry_tail_s:.2f} s; CPU sweep "
        f"{s.cpu_s:.1f} s, connector {c.cpu_s:.1f} s; peak RSS {s.maxrss_mb:.0f} MB; documents read per due pilot "
        f"{o.reads_per_due:.2f}; full GCs {s.full_gcs} (longest {s.longest_gc_ms:.0f} ms)"
    )


# -- rendering ---------------------------------------------------------------------------------------------------


def share(ratio: float) -> str:
    """Three decimals, rounded down: 0.8996 of a 0.90 goal reads 0.899, not 0.900."""
    return f"{math.floor(ratio * 1000) / 1000:.3f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render_throughput(outcomes: list[Outcome]) -> str:
    rows = []
    one_tenant = {o.scenario.faults: o.rate for o in outcomes if o.scenario.tenants == 1}
    for o in outcomes:
        s = o.sweep
        scale = ""
        if o.scenario.tenants > 1 and one_tenant.get(o.scenario.faults):
            scale = f" ({o.rate / one_tenant[o.scenario.faults]:.2f} x 1)"
        rows.append(
            [
                o.scenario.label,
                str(len(s.ticks)),
                f"{s.elapsed:.1f}",
                f"{o.delivered:,} / {o.due:,}",
                f"{o.rate:.1f}{scale}",
                f"**{share(o.ratio)}** ({_verdict(o.ratio >= o.goal)})",
                str(o.duplicates),
                str(o.lost),
                f"{o.requests_per_tenant_s:.1f}",
                f"{o.totals('429')} ({o.connector.limiter_429}) / {o.totals('5xx')}",
                f"{o.first_card_s:.2f}",
                f"{o.retry_tail_s:.2f}",
                f"{s.cpu_s / max(o.delivered, 1) * 1000:.1f} / {o.connector.cpu_s / max(o.delivered, 1) * 1000:.1f}",
                f"{s.maxrss_mb:.0f}",
            ]
        )
    header = [
        "sponsors",
        "ticks",
        "s",
        "delivered / due",
        "cards/s",
        f"of the limit (goal {GOAL_CLEAN:.2f} / {GOAL_FAULTS:.2f} with faults)",
        "dup",
        "lost",
        "requests/s per tenant",
        "429 (by the limiter) / 503",
        "first request, s",
        "after the last first try, s",
        "CPU ms per card: sweep / connector",
        "peak RSS MB",
    ]
    return table(header, rows, "lrrrrlrrrrrrrr")


def render_reads(outcomes: list[Outcome]) -> str:
    containers = sorted({c for o in outcomes for c in o.sweep.docs_read})
    rows = []
    for o in outcomes:
        per = [f"{o.sweep.docs_read.get(c, 0) / o.due:.2f}" for c in containers]
        rows.append(
            [
                f"{o.scenario.label} ({o.seeded.documents:,} documents)",
                f"{o.due:,}",
                f"**{o.reads_per_due:.2f}**",
                *per,
                f"{o.sweep.elapsed:.2f}",
                f"{o.sweep.cpu_s / o.due * 1000:.0f}",
                f"{o.sweep.maxrss_mb:.0f}",
            ]
        )
    header = [
        "pilots in one tenant",
        "due",
        "documents read per due pilot",
        *containers,
        "tick s",
        "CPU ms per due pilot",
        "peak RSS MB",
    ]
    return table(header, rows, "lrr" + "r" * len(containers) + "rrr")


def render(report: Report) -> str:
    o = report.options
    parts = [
        prose(
            f"Run {report.started:%Y-%m-%d %H:%M} UTC on {report.machine}; whole run "
            f"{report.duration_s:.0f} s. Each run seeds a fresh SQLite store (SQL `executemany` of the "
            "repositories' documents) with pilots due at the monthly check-in (Monday 1 February 2027, 09:00 UTC), "
            "each with its sponsor's stored 1:1 conversation and last month's reading, then runs `Sweep.tick(now)` "
            "as the app builds it (three planners; `ConnectorMessenger` with the shipped `SenderLimits`, "
            f"{report.sender_rate:g} requests/s per tenant) and ticks again 6 minutes later while a tick leaves "
            "failed sends. The project's FakeConnector enforces 50 requests/s per tenant and 7/s per conversation "
            "(sliding one-second windows); in the fault runs it answers 5% of the calls it admits 429 (Retry-After "
            "1 s) and 1% 503, seeded. Rejected calls count against the tenant's window, so a perfect sender "
            f"reaches {PERFECT_WITH_FAULTS:.2f} of the limit there. The connector, the sweep and the seeding run in "
            "three processes, so the sweep process's CPU and peak RSS are the sender's alone (the connector runs "
            "with its garbage collector off: with thousands of recorded requests in memory its full collections "
            "paused it for over 0.1 s, and the delayed requests looked like a burst). Seconds are the ticks' wall "
            "clock, from reading "
            "the agenda to the last send-log write; cards/s is delivered / seconds, and of the limit divides it by "
            f"50 per tenant. {o.sponsors:,} sponsors per tenant."
        ),
        render_throughput(report.throughput) if report.throughput else "",
        prose(
            "Reads: the sweep's store is wrapped in a proxy that counts the documents each point read and query "
            f"returns, per container. {o.reads_due} pilots are due; the others, in the same tenant with their "
            "conversations, have their next check-in later in the month."
        )
        if report.reads
        else "",
        render_reads(report.reads) if report.reads else "",
        render_findings(report),
        prose(render_goals(report)),
    ]
    return "\n\n".join(p for p in parts if p)


def render_findings(report: Report) -> str:
    bullets: list[str] = []
    faults = [o for o in report.throughput if o.scenario.faults]
    if faults:
        worst = min(faults, key=lambda o: o.ratio)
        per_tenant = worst.scenario.due_per_tenant
        paced_s = per_tenant / PERFECT_WITH_FAULTS / PER_TENANT_PER_S  # first tries and retries at exactly 50/s
        perfect = per_tenant / (paced_s + worst.retry_tail_s)
        paced = report.sender_rate * PERFECT_WITH_FAULTS / PER_TENANT_PER_S
        bullets.append(
            f"With faults the sender paces {report.sender_rate:g} requests/s per tenant, and "
            f"{PERFECT_WITH_FAULTS:.0%} of them succeed: {paced:.3f} of the limit while first tries remain. The "
            f"rest is the end of the run ({worst.scenario.label}): "
            f"{worst.retry_tail_s:.2f} s after the last first try, spent on cards answered 429 in the last second "
            "(their Retry-After of 1 s with nothing else left to send) and on the few that draw a second 429 or "
            f"503. At {per_tenant:,} cards per tenant (about {paced_s:.0f} s) each such second costs "
            f"{1 / (paced_s + 1):.0%} of the limit: a sender "
            f"pacing exactly 50 requests/s with the same tail would reach {perfect / PER_TENANT_PER_S:.3f}, so "
            "whether a fault run clears 0.90 depends on the seeded draw near its end."
        )
    lanes = {k: v.default for k, v in inspect.signature(Sweep).parameters.items()}
    one = next((o for o in report.throughput if o.scenario.tenants == 1 and not o.scenario.faults), None)
    many = next((o for o in report.throughput if o.scenario.tenants > 1 and not o.scenario.faults), None)
    if one is not None and many is not None:
        bullets.append(
            f"{many.scenario.tenants} tenants deliver {many.rate / one.rate:.2f} times the cards per second of one: "
            f"the sweep gives each tenant its own lane of up to {lanes['per_tenant']} workers, started "
            f"{lanes['ramp_s'] * 1000:g} ms apart, so neither the "
            "agenda's order nor a crowd of first reads in the store decides who sends (first request after "
            f"{many.first_card_s:.2f} s)."
        )
    shipped = [o for o in report.reads if not o.scenario.what_if_index and o.lookup is not None]
    what_if = next((o for o in report.reads if o.scenario.what_if_index), None)
    if shipped:
        small, large = shipped[0], shipped[-1]
        assert small.lookup is not None and large.lookup is not None
        growth = (
            f"The documents read per due pilot do not grow with the pilots ({small.reads_per_due:.2f} at "
            f"{small.seeded.pilots:,}, {large.reads_per_due:.2f} at {large.seeded.pilots:,}); the tick took "
            f"{small.sweep.elapsed:.1f} s and {large.sweep.elapsed:.1f} s for the same {large.due} pilots."
        )
        if "ix_aad_object_id" in large.lookup.plan:
            text = (
                f"{growth} `find_personal` (the sponsor's stored 1:1 chat) is planned as `{large.lookup.plan}`: "
                f"{small.lookup.ms:.2f} ms at {small.lookup.conversations:,} conversations, {large.lookup.ms:.2f} ms "
                f"at {large.lookup.conversations:,}"
            )
        else:  # the index in storage/sqlite_store.py is gone or not chosen: say what that costs
            text = (
                f"{growth} `find_personal` (the sponsor's stored 1:1 chat) is planned as `{large.lookup.plan}` and "
                f"reads every conversation of the tenant to return one: {small.lookup.ms:.1f} ms at "
                f"{small.lookup.conversations:,} conversations, {large.lookup.ms:.1f} ms at "
                f"{large.lookup.conversations:,}; with an index on `json_extract(body, '$.aadObjectId')` it is "
                f"`{large.lookup.plan_indexed}`: {large.lookup.ms_indexed:.2f} ms"
            )
        if what_if is not None:
            text += f", and the tick at {what_if.seeded.pilots:,} pilots takes {what_if.sweep.elapsed:.1f} s"
        bullets.append(text + ".")
    if report.throughput:
        cpu = max(o.sweep.cpu_s / max(o.delivered, 1) * 1000 for o in report.throughput)
        rss = max(o.sweep.maxrss_mb for o in report.outcomes)
        bullets.append(
            f"The sweep process used at most {cpu:.1f} ms of CPU per card (event loop and SQLite's thread "
            f"together) and peaked at {rss:.0f} MB, most of it the imported libraries."
        )
    return "Findings:\n\n" + "\n".join(prose(b, bullet=True) for b in bullets) if bullets else ""


def render_goals(report: Report) -> str:
    misses = report.goal_misses()
    return (
        "Goals (cards/s of the limit, no duplicates, nobody lost, send-log agrees with the connector, peak RSS "
        "under 200 MB, documents read per due pilot flat): "
        + ("met." if not misses else "missed: " + "; ".join(misses) + ".")
    )


def main(options: Options, *, only: Sequence[str] = (), profile: bool = False) -> Report:
    return run(options, only=only, profile=profile)


if __name__ == "__main__":
    # For a closer look, not for README: `python -m bench.checkin_sender [--quick] [--profile] [label words ...]`
    # runs the scenarios whose label contains a word (e.g. `3 x` or `faults`) and prints cProfile's top functions.
    arguments = sys.argv[1:]
    chosen = Options.quick() if "--quick" in arguments else Options()
    outcome_report = main(
        chosen, only=[a for a in arguments if not a.startswith("--")], profile="--profile" in arguments
    )
    print("\n" + render(outcome_report))
    for outcome in outcome_report.outcomes:
        for function, self_s, inclusive_s, calls in outcome.sweep.profile:
            print(f"{self_s * 1000:9.0f} {inclusive_s * 1000:9.0f} {calls:8d}  {function}")
