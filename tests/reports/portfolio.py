"""A seeded portfolio for the monthly report of November 2026, read on Friday 11 December 2026 at 10:00 UTC.

Every pilot is on UTC with check-in day 1, so November's check-in went out on Tuesday 1 December at 09:00 and became
overdue 7 business days later, on Thursday 10 December at 09:00 (2, 3, 4, 7, 8, 9, 10 December). The figures the
report must show are worked out by hand in tests/reports/test_report_builder.py.

| pilot | what it exercises |
|---|---|
| Invoice triage | a go decision on 30 November (decision of the month, expansion on the roadmap), target met |
| Contract review | gate passed on 1 November undecided (purgatory), November check-in late, low adoption, a gap |
| Sales email drafts | red, over the monthly budget in November (cost drift), on track, gate in 30 days |
| Ops copilot | extended in October, decided go in December (after the month: undone), a December reading |
| HR chatbot | retired on 30 September: not in November's report |
| Legal search | starts in December: not in November's report |
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final

from governance.model import (
    GOVERNANCE_ITEMS,
    DecisionKind,
    Direction,
    GateDecision,
    HealthStatus,
    Metric,
    MetricReading,
    Person,
    Pilot,
    Stage,
)
from governance.period import Period
from governance.views import PilotStatus, pilot_status
from storage.repositories import Repositories

TENANT: Final = "11111111-2222-4333-8444-555555555555"
NOW: Final = datetime(2026, 12, 11, 10, 0, tzinfo=UTC)
NOVEMBER: Final = Period(2026, 11)
CREATED: Final = datetime(2026, 4, 1, tzinfo=UTC)

ANA: Final = Person("aaaaaaaa-0000-4000-8000-000000000001", "Ana Sponsor")
SAM: Final = Person("aaaaaaaa-0000-4000-8000-000000000002", "Sam Sponsor")
FAY: Final = Person("aaaaaaaa-0000-4000-8000-000000000003", "Fay Lead")


def _governance(*missing: str) -> dict[str, bool]:
    return {item: item not in missing for item in GOVERNANCE_ITEMS}


def _reading(
    pilot: Pilot,
    period: str,
    value: float,
    status: HealthStatus = HealthStatus.GREEN,
    *,
    spend: float | None = None,
    users: int | None = None,
    by: Person = ANA,
) -> MetricReading:
    month = Period.parse(period)
    return MetricReading(
        pilot_id=pilot.id,
        tenant_id=TENANT,
        period=month,
        values={pilot.primary_metric.name: value},
        status=status,
        submitted_by=by,
        submitted_at=datetime(month.next.year, month.next.month, 2, 11, 0, tzinfo=UTC),
        active_users=users,
        spend=spend,
    )


def _decision(
    pilot: Pilot,
    kind: DecisionKind,
    gate: date,
    at: datetime,
    *,
    effective: date | None = None,
    new_gate: date | None = None,
) -> GateDecision:
    return GateDecision(
        pilot_id=pilot.id,
        tenant_id=TENANT,
        gate_date=gate,
        kind=kind,
        rationale=f"{kind.value} for {pilot.name}: <b>as agreed</b>",
        decided_by=ANA,
        decided_at=at,
        new_gate_date=new_gate,
        effective_date=effective,
    )


INVOICES: Final = Pilot(
    id="p-invoices",
    tenant_id=TENANT,
    name="Invoice triage",
    sponsor=ANA,
    metrics=(Metric("Handling time", "min", 60, 30, Direction.DECREASE),),
    start_date=date(2026, 9, 1),
    gate_date=date(2026, 11, 30),
    budget_monthly=10_000,
    intended_users=100,
    governance=_governance(),
    stage=Stage.PRODUCTION,
    created_at=CREATED,
)
CONTRACTS: Final = Pilot(
    id="p-contracts",
    tenant_id=TENANT,
    name="Contract review",
    sponsor=ANA,
    metrics=(Metric("Accuracy", "%", 70, 90, Direction.INCREASE),),
    start_date=date(2026, 8, 3),
    gate_date=date(2026, 11, 1),
    budget_monthly=5_000,
    intended_users=200,
    governance=_governance("dlp"),
    created_at=CREATED,
)
SALES: Final = Pilot(
    id="p-sales",
    tenant_id=TENANT,
    name="Sales email drafts",
    sponsor=SAM,
    metrics=(Metric("Replies", "", 100, 160, Direction.INCREASE),),
    start_date=date(2026, 10, 1),
    gate_date=date(2026, 12, 30),
    budget_monthly=10_000,
    intended_users=60,
    governance=_governance(),
    created_at=CREATED,
)
OPS: Final = Pilot(
    id="p-ops",
    tenant_id=TENANT,
    name="Ops copilot",
    sponsor=ANA,
    metrics=(Metric("Tickets resolved a day", "", 10, 20, Direction.INCREASE),),
    start_date=date(2026, 7, 1),
    gate_date=date(2026, 12, 4),  # set by the extension in October
    governance=_governance("dataResidency", "identityScopes"),
    stage=Stage.PRODUCTION,  # decided go on 4 December
    extensions=1,
    created_at=CREATED,
)
HR: Final = Pilot(
    id="p-hr",
    tenant_id=TENANT,
    name="HR chatbot",
    sponsor=ANA,
    metrics=(Metric("Answered questions", "%", 20, 60, Direction.INCREASE),),
    start_date=date(2026, 5, 4),
    gate_date=date(2026, 8, 3),
    stage=Stage.RETIRED,
    created_at=CREATED,
)
LEGAL: Final = Pilot(
    id="p-legal",
    tenant_id=TENANT,
    name="Legal search",
    sponsor=SAM,
    metrics=(Metric("Search time", "min", 20, 5, Direction.DECREASE),),
    start_date=date(2026, 12, 1),
    gate_date=date(2027, 3, 1),
    created_at=CREATED,
)

READINGS: Final = (
    _reading(INVOICES, "2026-09", 55, spend=8_000, users=40),
    _reading(INVOICES, "2026-10", 48, spend=9_000, users=60),
    _reading(INVOICES, "2026-11", 30, spend=9_500, users=80),
    _reading(CONTRACTS, "2026-09", 74, spend=4_000, users=30),
    _reading(CONTRACTS, "2026-10", 76, HealthStatus.AMBER, spend=6_000, users=40),
    _reading(SALES, "2026-10", 110, spend=7_000, users=30, by=SAM),
    _reading(SALES, "2026-11", 145, HealthStatus.RED, spend=12_000, users=50, by=SAM),
    _reading(OPS, "2026-07", 11, by=FAY),
    _reading(OPS, "2026-08", 12, by=FAY),
    _reading(OPS, "2026-09", 13, by=FAY),
    _reading(OPS, "2026-10", 15, by=FAY),
    _reading(OPS, "2026-11", 17, by=FAY),
    _reading(OPS, "2026-12", 19, by=FAY),  # the month in progress: not November's
    _reading(HR, "2026-06", 25),
)
GATE_DAY_10AM: Final = datetime(2026, 11, 30, 10, tzinfo=UTC)
DECISIONS: Final = (
    _decision(INVOICES, DecisionKind.GO, INVOICES.gate_date, GATE_DAY_10AM, effective=date(2027, 1, 15)),
    _decision(
        OPS, DecisionKind.EXTEND, date(2026, 9, 29), datetime(2026, 10, 5, 10, tzinfo=UTC), new_gate=date(2026, 12, 4)
    ),
    _decision(OPS, DecisionKind.GO, OPS.gate_date, datetime(2026, 12, 4, 10, tzinfo=UTC), effective=date(2027, 2, 1)),
    _decision(HR, DecisionKind.RETIRE, HR.gate_date, datetime(2026, 8, 5, 10, tzinfo=UTC), effective=date(2026, 9, 30)),
)
PILOTS: Final = (INVOICES, CONTRACTS, SALES, OPS, HR, LEGAL)


def statuses(now: datetime = NOW) -> list[PilotStatus]:
    """The statuses Portfolio.statuses would return at ``now`` (no send-log times: the cards went out on time)."""
    return [
        pilot_status(
            pilot,
            [r for r in READINGS if r.pilot_id == pilot.id],
            [d for d in DECISIONS if d.pilot_id == pilot.id],
            now,
        )
        for pilot in PILOTS
    ]


async def seed(repos: Repositories) -> None:
    """The same portfolio stored, for the tests that read it through the app."""
    for pilot in PILOTS:
        await repos.pilots.add(pilot)
    for reading in READINGS:
        await repos.readings.add(reading)
    for decision in DECISIONS:
        await repos.decisions.add(decision)
