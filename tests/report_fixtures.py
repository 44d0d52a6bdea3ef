"""Hand-built monthly reports (governance.report's view types) for the renderings' tests: the card, the HTML page
and the scheduled delivery read these, never the builder, so they test the rendering alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from governance.model import DecisionKind, HealthStatus, Person, Stage
from governance.period import Period
from governance.report import (
    DecisionLine,
    Flag,
    MetricLine,
    MonthlyReport,
    PilotRow,
    PurgatoryLine,
    RoadmapItem,
    RoadmapKind,
    Totals,
)

NOVEMBER = Period(2026, 11)
GENERATED = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HOSTILE_NAME = "<script>alert('x')</script> & [click](http://evil.example) **bold**"
STATUSES = (HealthStatus.GREEN, HealthStatus.AMBER, HealthStatus.RED, None)
FLAG_SETS: tuple[tuple[Flag, ...], ...] = (
    (),
    (Flag.LATE_CHECKIN,),
    (Flag.PURGATORY, Flag.COST_DRIFT),
    (Flag.GOVERNANCE_GAPS, Flag.LOW_ADOPTION),
)


def history(index: int, months: int = 6) -> tuple[tuple[Period, float], ...]:
    return tuple((NOVEMBER.plus(k - months + 1), 40.0 - k * (1 + index % 3) + index % 5) for k in range(months))


def make_row(index: int, *, name: str | None = None, long_text: bool = False) -> PilotRow:
    status = STATUSES[index % len(STATUSES)]
    points = history(index) if status is not None else ()
    filler = " with a deliberately long name that wraps over several lines" * (3 if long_text else 0)
    progress = None if status is None else [1.1, 0.6, 0.2, -0.1][index % 4]
    return PilotRow(
        id=f"p-{index:04d}",
        name=name or f"Pilot {index:04d}{filler}",
        sponsor=Person(f"aad-{index % 7}", f"Sponsor {index % 7}"),
        stage=(Stage.PILOT, Stage.EXTENDED, Stage.PRODUCTION, Stage.NARROWED)[index % 4],
        status=status,
        metric=MetricLine(
            name="Handling time" + (" per claim, measured end to end" * 4 if long_text else ""),
            unit="min",
            baseline=45.0,
            latest=points[-1][1] if points else None,
            target=30.0,
            progress=progress,
            change_since_last_month=points[-1][1] - points[-2][1] if len(points) > 1 else None,
            on_track=None if progress is None else progress >= 0.5,
            history=points,
        ),
        checkin_due=True,
        checkin_answered=status is not None,
        answered_by="Sponsor" if status is not None else "",
        spend=1200.0 + index if status is not None else None,
        budget=1500.0,
        spend_to_date=6000.0 + index,
        projected_spend_at_gate=9000.0,
        active_users=40 + index % 50,
        intended_users=150,
        gate_date=date(2026, 12, 31) + timedelta(days=index % 60 - 30),
        days_to_gate=index % 60 - 6,
        flags=FLAG_SETS[index % len(FLAG_SETS)] if status is not HealthStatus.GREEN else (),
        governance_gaps=("dlp",) if index % 4 == 3 else (),
    )


def make_report(
    count: int, *, hostile: bool = False, long_text: bool = False, sponsor: Person | None = None
) -> MonthlyReport:
    rows = [make_row(i, long_text=long_text) for i in range(count)]
    if hostile and rows:
        rows[0] = make_row(2, name=HOSTILE_NAME)
    purgatory = tuple(
        PurgatoryLine(r.id, r.name, r.gate_date, -r.days_to_gate) for r in rows if Flag.PURGATORY in r.flags
    )
    by_stage: dict[Stage, int] = {}
    for row in rows:
        by_stage[row.stage] = by_stage.get(row.stage, 0) + 1
    totals = Totals(
        pilots_by_stage=by_stage,
        checkins_due=len(rows),
        checkins_answered=sum(r.checkin_answered for r in rows),
        on_track=sum(bool(r.metric.on_track) for r in rows),
        decisions_taken=2,
        gates_next_30_days=sum(0 <= r.days_to_gate <= 30 for r in rows),
        purgatory=purgatory,
        spend=sum(r.spend or 0 for r in rows),
        budget=1500.0 * len(rows),
        spend_to_date=sum(r.spend_to_date or 0 for r in rows),
        projected_spend_at_gates=9000.0 * len(rows),
        active_users=sum(r.active_users or 0 for r in rows),
        intended_users=150 * len(rows),
        open_governance_items=sum(len(r.governance_gaps) for r in rows),
        cost_drift_alerts=sum(Flag.COST_DRIFT in r.flags for r in rows),
    )
    first = rows[0] if rows else make_row(0)
    decisions = (
        DecisionLine(
            first.id,
            first.name,
            DecisionKind.GO,
            "Met the target two months running; " + ("<b>expand</b> to claims in Lyon" if hostile else "expand"),
            Person("aad-1", "Sponsor 1"),
            datetime(2026, 11, 12, 15, 0, tzinfo=UTC),
            date(2026, 11, 10),
            effective_date=date(2026, 12, 15),
        ),
        DecisionLine(
            "p-0002",
            "Pilot 0002",
            DecisionKind.EXTEND,
            "Adoption is low; one more month",
            Person("aad-2", "Sponsor 2"),
            datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
            date(2026, 11, 18),
            new_gate_date=date(2026, 12, 18),
        ),
    )
    roadmap = (
        RoadmapItem(date(2026, 12, 15), RoadmapKind.EXPANSION, first.id, first.name),
        RoadmapItem(date(2026, 12, 18), RoadmapKind.GATE, "p-0002", "Pilot 0002"),
        RoadmapItem(date(2027, 1, 31), RoadmapKind.RETIREMENT, "p-0003", "Pilot 0003"),
    )
    return MonthlyReport("tenant-1", NOVEMBER, GENERATED, totals, tuple(rows), decisions, roadmap, sponsor=sponsor)
