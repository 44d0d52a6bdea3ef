"""The monthly report's figures from the seeded portfolio (tests/reports/portfolio.py), worked out by hand.

November 2026, read on 11 December 2026 10:00 UTC; as of 30 November (the month's last day).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from governance.model import DecisionKind, HealthStatus, Stage
from governance.period import Period
from governance.report import Flag, MonthlyReport, PilotRow, RoadmapKind
from governance.report_builder import build_monthly_report, default_report_period, period_end
from tests.reports.portfolio import NOVEMBER, NOW, SAM, TENANT, statuses


@pytest.fixture(scope="module")
def report() -> MonthlyReport:
    return build_monthly_report(statuses(), NOVEMBER, NOW, tenant_id=TENANT)


def row(report: MonthlyReport, name: str) -> PilotRow:
    return next(r for r in report.pilots if r.name == name)


def test_the_report_covers_the_pilots_that_ran_in_the_month_attention_first(report: MonthlyReport) -> None:
    # HR chatbot retired on 30 September (before November began); Legal search starts in December.
    # Order: red first (Sales), then flagged by name (Contract review, Ops copilot), then the rest (Invoice triage).
    assert [r.name for r in report.pilots] == ["Sales email drafts", "Contract review", "Ops copilot", "Invoice triage"]
    assert report.as_of == date(2026, 11, 30)
    assert report.period == NOVEMBER and report.tenant_id == TENANT and report.generated_at == NOW


def test_headline_figures(report: MonthlyReport) -> None:
    totals = report.totals
    # Stages as at 30 November: Contract review and Sales are pilots; Ops copilot extended (its go on 4 December is
    # after the month); Invoice triage went to production on 30 November.
    assert totals.pilots_by_stage == {
        Stage.DRAFT: 0,
        Stage.PILOT: 2,
        Stage.EXTENDED: 1,
        Stage.NARROWED: 0,
        Stage.PRODUCTION: 1,
        Stage.RETIRED: 0,
    }
    # November check-ins due (sent 1 December) for the pilots still in a pilot stage: Contract review, Sales, Ops;
    # answered: Sales and Ops (Contract review has no November reading).
    assert (totals.checkins_due, totals.checkins_answered) == (3, 2)
    # On track (on or past the straight line at 30 November), of the 4 pilots with a reading:
    #   Invoice triage: (30-60)/(30-60) = 1.0, target met -> on track
    #   Contract review: (76-70)/(90-70) = 0.3; the gate (1 Nov) has passed, the line is at 1.0 -> not
    #   Sales: (145-100)/(160-100) = 0.75; line = (30 Nov - 1 Oct) / (30 Dec - 1 Oct) = 60/90 = 0.667 -> on track
    #   Ops: (17-10)/(20-10) = 0.7; line = (30 Nov - 1 Jul) / (4 Dec - 1 Jul) = 152/156 = 0.974 -> not
    assert (totals.on_track, totals.tracked) == (2, 4)
    assert totals.decisions_taken == 1  # Invoice triage's go on 30 November
    # Gates 1..30 days after 30 November, of pilots in a pilot stage: Ops 4 December (4 days), Sales 30 December (30).
    assert totals.gates_next_30_days == 2
    # Contract review's gate was 1 November, undecided: 30 Nov - 1 Nov = 29 days.
    assert [(p.pilot_name, p.days_since, p.gate_date) for p in totals.purgatory] == [
        ("Contract review", 29, date(2026, 11, 1))
    ]
    # November spend: Invoice 9,500 + Sales 12,000 (Contract review and Ops reported none) = 21,500.
    assert totals.spend == 21_500
    # Monthly budgets of the pilots in use: Contract review 5,000 + Sales 10,000 + Invoice triage 10,000 (in
    # production; Ops has none) = 25,000, against the 21,500 they spent.
    assert totals.budget == 25_000
    # Spend to date: Invoice 8,000+9,000+9,500 = 26,500; Contract 4,000+6,000 = 10,000; Sales 7,000+12,000 = 19,000.
    assert totals.spend_to_date == 55_500
    # Projection to each gate (pilot stages only):
    #   Contract review: 10,000 spent, gate passed -> 10,000
    #   Sales: 19,000 + average 9,500 x (1 Dec to 30 Dec = 29/31 of a month) = 27,887.10
    assert totals.projected_spend_at_gates == round(10_000 + 19_000 + 9_500 * 29 / 31, 2) == 37_887.10
    # Active vs intended users, pilots in use with both: Contract review 40/200, Sales 50/60, Invoice triage 80/100.
    assert (totals.active_users, totals.intended_users) == (170, 360)
    # Open governance items of pilots in use: Contract review 1 (dlp) + Ops 2 (dataResidency, identityScopes).
    assert totals.open_governance_items == 3
    assert totals.cost_drift_alerts == 1  # Sales spent 12,000 of a 10,000 monthly budget in November


def test_rows(report: MonthlyReport) -> None:
    sales = row(report, "Sales email drafts")
    assert sales.status is HealthStatus.RED
    assert sales.metric.progress == 0.75  # the share the status card shows (75.0 %)
    assert sales.metric.change_since_last_month == 35  # 145 - 110
    assert sales.metric.on_track is True
    assert (sales.checkin_due, sales.checkin_answered, sales.answered_by) == (True, True, "Sam Sponsor")
    assert (sales.spend, sales.budget, sales.spend_to_date) == (12_000, 10_000, 19_000)
    assert sales.projected_spend_at_gate == 27_887.10  # in cents
    assert (sales.active_users, sales.intended_users) == (50, 60)
    assert (sales.gate_date, sales.days_to_gate) == (date(2026, 12, 30), 30)
    assert sales.flags == (Flag.COST_DRIFT,)

    contracts = row(report, "Contract review")
    # Late: due 1 December, overdue since 10 December 09:00, unanswered at 11 December 10:00.
    # Low adoption: 40 active of 200 intended is under half.
    assert contracts.flags == (Flag.LATE_CHECKIN, Flag.PURGATORY, Flag.GOVERNANCE_GAPS, Flag.LOW_ADOPTION)
    assert contracts.governance_gaps == ("dlp",)
    assert contracts.status is HealthStatus.AMBER  # October's, the latest reading
    assert contracts.reading_period == Period(2026, 10)
    assert (contracts.metric.latest, contracts.metric.change_since_last_month) == (76, None)  # no November value
    assert (contracts.checkin_due, contracts.checkin_answered, contracts.answered_by) == (True, False, "")
    assert contracts.spend is None and contracts.days_to_gate == -29

    ops = row(report, "Ops copilot")
    assert ops.stage is Stage.EXTENDED  # as at 30 November
    assert (ops.gate_date, ops.days_to_gate) == (date(2026, 12, 4), 4)
    assert ops.metric.latest == 17  # December's 19 is after the month
    assert ops.metric.progress == 0.7
    assert [value for _, value in ops.metric.history] == [11, 12, 13, 15, 17]
    assert ops.metric.change_since_last_month == 2
    assert ops.metric.on_track is False
    assert ops.flags == (Flag.GOVERNANCE_GAPS,)
    assert ops.spend_to_date is None and ops.projected_spend_at_gate is None and ops.budget is None

    invoices = row(report, "Invoice triage")
    assert invoices.stage is Stage.PRODUCTION
    assert invoices.metric.progress == 1.0 and invoices.metric.on_track is True
    assert invoices.metric.change_since_last_month == -18  # 30 - 48
    assert invoices.checkin_due is False and invoices.checkin_answered is True  # out of the pilot stage: not asked
    assert invoices.projected_spend_at_gate is None  # decided: no projection to a gate
    assert invoices.flags == ()


def test_decisions_and_roadmap(report: MonthlyReport) -> None:
    assert [(d.pilot_name, d.kind, d.decided_at) for d in report.decisions] == [
        ("Invoice triage", DecisionKind.GO, datetime(2026, 11, 30, 10, tzinfo=UTC))
    ]
    assert report.decisions[0].effective_date == date(2027, 1, 15)
    assert "<b>as agreed</b>" in report.decisions[0].rationale  # kept as typed: renderings escape it
    # 1 December to 28 February: Ops' gate, Sales' gate, Invoice triage's expansion. Ops' expansion (1 Feb) comes
    # from a decision taken after November; Contract review's gate has passed.
    assert [(i.on, i.kind, i.pilot_name) for i in report.roadmap] == [
        (date(2026, 12, 4), RoadmapKind.GATE, "Ops copilot"),
        (date(2026, 12, 30), RoadmapKind.GATE, "Sales email drafts"),
        (date(2027, 1, 15), RoadmapKind.EXPANSION, "Invoice triage"),
    ]


def test_a_sponsor_report_covers_only_their_own_pilots() -> None:
    own = build_monthly_report(statuses(), NOVEMBER, NOW, tenant_id=TENANT, sponsor=SAM)
    assert own.sponsor == SAM
    assert [r.name for r in own.pilots] == ["Sales email drafts"]  # Legal search starts in December
    assert own.totals.pilots_by_stage[Stage.PILOT] == 1
    assert (own.totals.spend, own.totals.budget, own.totals.decisions_taken) == (12_000, 10_000, 0)
    assert [i.pilot_name for i in own.roadmap] == ["Sales email drafts"]


def test_the_same_month_reads_the_same_later_except_check_ins_answered_since() -> None:
    later = datetime(2027, 3, 1, 10, tzinfo=UTC)
    first = build_monthly_report(statuses(), NOVEMBER, NOW, tenant_id=TENANT)
    again = build_monthly_report(statuses(later), NOVEMBER, later, tenant_id=TENANT)
    assert dataclasses.replace(again, generated_at=NOW) == first


def test_the_month_in_progress_is_as_of_today() -> None:
    december = build_monthly_report(statuses(), Period(2026, 12), NOW, tenant_id=TENANT)
    assert december.as_of == date(2026, 12, 11)
    ops = row(december, "Ops copilot")
    assert ops.stage is Stage.PRODUCTION and ops.metric.latest == 19
    assert [d.pilot_name for d in december.decisions] == ["Ops copilot"]  # its go on 4 December
    assert "Legal search" in [r.name for r in december.pilots]
    assert december.totals.checkins_due == 0  # December's check-ins go out in January


def test_an_empty_portfolio_has_zero_figures() -> None:
    empty = build_monthly_report([], NOVEMBER, NOW, tenant_id=TENANT)
    assert empty.pilots == () and empty.decisions == () and empty.roadmap == ()
    assert empty.totals.spend == 0 and sum(empty.totals.pilots_by_stage.values()) == 0


@pytest.mark.parametrize(
    ("now", "timezone", "period"),
    [
        (datetime(2027, 1, 3, 12, tzinfo=UTC), "UTC", Period(2026, 12)),  # across the year's end
        (datetime(2026, 12, 1, 3, tzinfo=UTC), "America/New_York", Period(2026, 10)),  # still 30 Nov there
        (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "Europe/Berlin", Period(2026, 11)),  # already 1 Dec there
    ],
)
def test_default_period_is_the_previous_month_in_the_report_time_zone(
    now: datetime, timezone: str, period: Period
) -> None:
    assert default_report_period(now, timezone) == period


def test_a_month_ends_at_local_midnight() -> None:
    # Berlin is UTC+1 in winter: November ends at 30 Nov 23:00 UTC.
    assert period_end(NOVEMBER, "Europe/Berlin") == datetime(2026, 11, 30, 22, 59, 59, 999999, tzinfo=UTC)
