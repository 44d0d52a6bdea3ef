"""Realistic pilots for benchmarks, written straight through the repositories (no HTTP, no bot turns).

Every pilot belongs to one tenant and has one or two success metrics, a sponsor, a budget, a governance checklist
in some state of completion, a monthly reading for most months since it started (two to nine months of history),
a "pilot.created" audit event, and, when its gate has passed, usually a gate decision that moved its stage.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from governance.audit import snapshot
from governance.errors import AlreadyExists
from governance.model import (
    GOVERNANCE_ITEMS,
    AuditEvent,
    ChannelLink,
    DecisionKind,
    Direction,
    GateDecision,
    HealthStatus,
    Metric,
    MetricReading,
    Person,
    Pilot,
    ReadingSource,
    ScalePlan,
    Stage,
)
from governance.period import Period
from storage.repositories import Repositories

DEPARTMENTS = (
    "Claims",
    "Finance",
    "HR",
    "Legal",
    "Customer service",
    "Sales",
    "Marketing",
    "IT service desk",
    "Procurement",
    "Supply chain",
    "Engineering",
    "Compliance",
    "Risk",
    "Operations",
    "Facilities",
    "Field service",
)
USE_CASES = (
    "triage",
    "invoice matching",
    "contract review",
    "knowledge search",
    "meeting summaries",
    "code review",
    "demand forecasting",
    "onboarding",
    "policy questions",
    "email drafting",
    "fraud screening",
    "document extraction",
    "translation",
    "call summaries",
    "RFP drafting",
    "ticket routing",
)
KINDS = ("assistant", "copilot", "agent", "bot")
METRICS = (
    ("Handling time", "min", 42.0, 30.0, Direction.DECREASE),
    ("First-contact resolution", "%", 61.0, 75.0, Direction.INCREASE),
    ("Cycle time", "days", 12.0, 8.0, Direction.DECREASE),
    ("Cost per case", "EUR", 18.5, 12.0, Direction.DECREASE),
    ("Customer satisfaction", "pts", 3.9, 4.4, Direction.INCREASE),
    ("Hours saved per week", "h", 5.0, 120.0, Direction.INCREASE),
    ("Error rate", "%", 4.2, 2.0, Direction.DECREASE),
    ("Cases per agent per day", "cases", 31.0, 40.0, Direction.INCREASE),
)
TIMEZONES = ("UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago", "Asia/Singapore")
BLOCKERS = ("", "", "", "Waiting for the DLP review.", "Licences for the second team are not approved yet.")


@dataclass(frozen=True, slots=True)
class SeedPlan:
    tenant_id: str
    pilots: int
    now: datetime
    sponsors: tuple[Person, ...]
    rng_seed: int = 7


@dataclass(slots=True)
class Seeded:
    names: list[str]
    pilots: int = 0
    readings: int = 0
    decisions: int = 0
    audit_events: int = 0

    @property
    def documents(self) -> int:
        return self.pilots + self.readings + self.decisions + self.audit_events


def pilot_name(i: int) -> str:
    dept = DEPARTMENTS[i % len(DEPARTMENTS)]
    use = USE_CASES[(i // len(DEPARTMENTS)) % len(USE_CASES)]
    kind = KINDS[(i // (len(DEPARTMENTS) * len(USE_CASES))) % len(KINDS)]
    return f"{dept} {use} {kind} {i + 1:05d}"


def sponsors(count: int, rng: random.Random) -> tuple[Person, ...]:
    first = ("Ada", "Sam", "Noor", "Kai", "Lena", "Ravi", "Mia", "Tomás", "Yuki", "Olu", "Ines", "Piotr")
    last = ("Okafor", "Lindqvist", "Haddad", "Moreau", "Tanaka", "Silva", "Novak", "Brennan", "Mehta", "Ito")
    return tuple(
        Person(str(uuid.UUID(int=rng.getrandbits(128))), f"{rng.choice(first)} {rng.choice(last)}")
        for _ in range(count)
    )


def _periods(start: date, today: date) -> list[Period]:
    """Every full month from the start month up to last month."""
    out: list[Period] = []
    period = Period.of(start)
    while period < Period.of(today):
        out.append(period)
        period = period.next
    return out


def _metric(rng: random.Random, index: int) -> Metric:
    name, unit, baseline, target, direction = METRICS[index % len(METRICS)]
    scale = rng.uniform(0.8, 1.25)
    return Metric(name, unit, round(baseline * scale, 1), round(target * scale, 1), direction)


def build_pilot(i: int, plan: SeedPlan, rng: random.Random) -> tuple[Pilot, list[MetricReading], GateDecision | None]:
    today = plan.now.date()
    start = today - timedelta(days=rng.randint(45, 280))
    gate = start + timedelta(days=90)
    first = rng.randrange(len(METRICS))
    metrics = (_metric(rng, first),) + ((_metric(rng, first + 3),) if rng.random() < 0.3 else ())
    sponsor = plan.sponsors[i % len(plan.sponsors)]
    budget = float(rng.choice((2000, 5000, 8000, 12000, 20000, 35000)))
    users = rng.choice((25, 40, 80, 150, 300, 1200))
    created = datetime.combine(start, plan.now.timetz()) - timedelta(days=rng.randint(3, 20))
    pilot = Pilot(
        id=uuid.UUID(int=rng.getrandbits(128)).hex,
        tenant_id=plan.tenant_id,
        name=pilot_name(i),
        sponsor=sponsor,
        metrics=metrics,
        start_date=start,
        gate_date=gate,
        checkin_day=1,
        timezone=rng.choice(TIMEZONES),
        channel=(
            ChannelLink(f"19:bench{i:05d}@thread.tacv2", f"19:team{i % 40:02d}@thread.tacv2", "Pilot project")
            if rng.random() < 0.4
            else None
        ),
        budget_monthly=budget,
        intended_users=users,
        scale_plan=ScalePlan(
            expand=f"Roll out to every {DEPARTMENTS[i % len(DEPARTMENTS)].lower()} team in the region.",
            retire="Switch the pilot off, export the prompts and close the licences.",
        ),
        governance={item: rng.random() < 0.6 for item in GOVERNANCE_ITEMS},
        created_by=sponsor.aad_object_id,
        created_at=created,
        updated_at=created,
    )
    periods = _periods(start, today)
    if periods and rng.random() < 0.2:  # a sponsor who has not answered last month's check-in yet
        periods = periods[:-1]
    readings: list[MetricReading] = []
    for n, period in enumerate(periods, start=1):
        values = {}
        for metric in metrics:
            progress = min(1.2, n / max(3, len(periods)) * rng.uniform(0.5, 1.3))
            value = metric.baseline + (metric.target - metric.baseline) * progress
            values[metric.name] = round(value * rng.uniform(0.97, 1.03), 2)
        year, month = period.year, period.month
        submitted = datetime(year, month, 28, 15, 0, tzinfo=plan.now.tzinfo) + timedelta(days=rng.randint(4, 12))
        readings.append(
            MetricReading(
                pilot_id=pilot.id,
                tenant_id=plan.tenant_id,
                period=period,
                values=values,
                status=rng.choice((HealthStatus.GREEN, HealthStatus.GREEN, HealthStatus.AMBER, HealthStatus.RED)),
                submitted_by=sponsor,
                submitted_at=min(submitted, plan.now),
                source=ReadingSource.API if rng.random() < 0.25 else ReadingSource.TEAMS,
                active_users=int(users * min(1.0, n * rng.uniform(0.1, 0.3))),
                spend=round(budget * rng.uniform(0.6, 1.3), 2),
                blockers=rng.choice(BLOCKERS),
                notes="Numbers from the team's dashboard." if rng.random() < 0.5 else "",
            )
        )
    decision = None
    if gate < today and rng.random() < 0.6:
        kind = rng.choice((DecisionKind.GO, DecisionKind.EXTEND, DecisionKind.NARROW, DecisionKind.RETIRE))
        decided = datetime.combine(gate, plan.now.timetz()) + timedelta(days=rng.randint(0, 10))
        decision = GateDecision(
            pilot_id=pilot.id,
            tenant_id=plan.tenant_id,
            gate_date=gate,
            kind=kind,
            rationale="Decided at the gate review with the governance office.",
            decided_by=sponsor,
            decided_at=min(decided, plan.now),
            new_gate_date=gate + timedelta(days=60) if kind is DecisionKind.EXTEND else None,
        )
        stage = {
            DecisionKind.GO: Stage.PRODUCTION,
            DecisionKind.EXTEND: Stage.EXTENDED,
            DecisionKind.NARROW: Stage.NARROWED,
            DecisionKind.RETIRE: Stage.RETIRED,
        }[kind]
        new_gate = decision.new_gate_date or gate
        pilot = dataclasses.replace(pilot, stage=stage, gate_date=new_gate, extensions=int(new_gate != gate))
    return pilot, readings, decision


async def _bounded(jobs: Iterable[Callable[[], Awaitable[None]]], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def run(job: Callable[[], Awaitable[None]]) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(run(job) for job in jobs))


async def seed(repos: Repositories, plan: SeedPlan, *, concurrency: int = 1, batch: int = 200) -> Seeded:
    """Write ``plan.pilots`` pilots with their history; ``concurrency`` > 1 overlaps round trips (Cosmos)."""
    rng = random.Random(plan.rng_seed)
    result = Seeded(names=[])

    async def write(pilot: Pilot, readings: list[MetricReading], decision: GateDecision | None) -> None:
        try:
            stored = await repos.pilots.add(pilot)
        except AlreadyExists:  # a re-run on the same store: keep what is there
            return
        await repos.audit.add(
            AuditEvent(
                id=uuid.uuid4().hex,
                tenant_id=plan.tenant_id,
                pilot_id=pilot.id,
                actor=pilot.created_by,
                at=pilot.created_at or plan.now,
                action="pilot.created",
                before=None,
                after=snapshot(stored),
            )
        )
        for reading in readings:
            await repos.readings.add(reading)
        if decision is not None:
            await repos.decisions.add(decision)
        result.pilots += 1
        result.readings += len(readings)
        result.decisions += int(decision is not None)
        result.audit_events += 1

    for lo in range(0, plan.pilots, batch):
        built = [build_pilot(i, plan, rng) for i in range(lo, min(plan.pilots, lo + batch))]
        result.names.extend(p.name for p, _, _ in built)
        await _bounded(
            [lambda p=p, r=r, d=d: write(p, r, d) for p, r, d in built],  # type: ignore[misc]
            concurrency,
        )
    return result
