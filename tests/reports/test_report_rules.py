"""The rules the report added to their homes (decisions.pilot_as_of, projections.on_track, rules.low_adoption) and
the report's edges: local month ends, a check-in card that went out late, a sponsor named by id only."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest

from governance.decisions import pilot_as_of
from governance.model import CheckinHold, DecisionKind, Integration, Person, Stage, Workflow, WorkSurface
from governance.projections import expected_progress, on_track
from governance.report import Flag, MonthlyReport
from governance.report_builder import build_monthly_report
from governance.rules import low_adoption
from governance.views import PilotStatus, pilot_status
from tests.reports.portfolio import (
    ANA,
    CONTRACTS,
    DECISIONS,
    INVOICES,
    LEGAL,
    NOVEMBER,
    NOW,
    OPS,
    READINGS,
    SAM,
    TENANT,
    _decision,
    statuses,
)


def test_pilot_as_of_undoes_the_decisions_taken_after_the_moment() -> None:
    ops_decisions = [d for d in DECISIONS if d.pilot_id == OPS.id]  # extend on 5 Oct, go on 4 Dec
    before_any = pilot_as_of(OPS, ops_decisions, datetime(2026, 10, 1, tzinfo=UTC))
    assert (before_any.stage, before_any.gate_date, before_any.extensions) == (Stage.PILOT, date(2026, 9, 29), 0)
    after_extension = pilot_as_of(OPS, ops_decisions, datetime(2026, 11, 30, tzinfo=UTC))
    assert (after_extension.stage, after_extension.gate_date, after_extension.extensions) == (
        Stage.EXTENDED,
        date(2026, 12, 4),
        1,
    )
    assert pilot_as_of(OPS, ops_decisions, NOW) is OPS  # nothing later: the pilot as stored


def test_pilot_as_of_replays_a_narrowing_then_an_extension() -> None:
    narrowed = _decision(
        CONTRACTS, DecisionKind.NARROW, date(2026, 11, 1), datetime(2026, 11, 2, tzinfo=UTC), new_gate=date(2027, 1, 10)
    )
    extended = _decision(
        CONTRACTS, DecisionKind.EXTEND, date(2027, 1, 10), datetime(2027, 1, 11, tzinfo=UTC), new_gate=date(2027, 3, 1)
    )
    now = dataclasses.replace(CONTRACTS, stage=Stage.EXTENDED, gate_date=date(2027, 3, 1), extensions=1)
    at = pilot_as_of(now, [extended, narrowed], datetime(2026, 12, 31, tzinfo=UTC))
    assert (at.stage, at.gate_date, at.extensions) == (Stage.NARROWED, date(2027, 1, 10), 0)


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2026, 9, 1), 0.0), (date(2026, 8, 1), 0.0), (date(2026, 10, 16), 0.5), (date(2026, 12, 1), 1.0)],
)
def test_the_straight_line_from_baseline_to_target(day: date, expected: float) -> None:
    # 1 Sep to 1 Dec is 91 days; 16 Oct is 45 days in: 45/91 = 0.4945...
    assert expected_progress(date(2026, 9, 1), date(2026, 12, 1), day) == pytest.approx(expected, abs=0.01)


def test_on_track_is_on_or_past_the_line_and_always_at_the_target() -> None:
    start, gate = date(2026, 9, 1), date(2026, 12, 1)
    assert on_track(0.5, start, gate, date(2026, 10, 16))  # 0.5 >= 0.4945
    assert not on_track(0.4, start, gate, date(2026, 10, 16))
    assert on_track(1.2, start, gate, date(2027, 6, 1))
    assert not on_track(-0.1, start, gate, date(2026, 9, 1))  # worse than the baseline


@pytest.mark.parametrize(
    ("active", "intended", "low"), [(49, 100, True), (50, 100, False), (None, 100, False), (3, None, False)]
)
def test_low_adoption_is_under_half_the_intended_users(active: int | None, intended: int | None, low: bool) -> None:
    assert low_adoption(active, intended) is low


def _with(pilot_statuses: list[PilotStatus], name: str, **changes: object) -> list[PilotStatus]:
    """The statuses with one pilot changed (and its status rebuilt at NOW from the same history)."""
    out = []
    for status in pilot_statuses:
        if status.pilot.name == name:
            pilot = dataclasses.replace(status.pilot, **changes)  # type: ignore[arg-type]
            status = pilot_status(pilot, status.readings, status.decisions, NOW)
        out.append(status)
    return out


def test_the_month_ends_at_midnight_in_the_pilots_time_zone() -> None:
    # Invoice triage's go, moved to 1 December 02:00 UTC: in Auckland (UTC+13) that is 1 December 15:00, a December
    # decision, so November's report shows the pilot before it; in New York (UTC-5) it is 30 November 21:00, a
    # November decision.
    late_go = dataclasses.replace(DECISIONS[0], decided_at=datetime(2026, 12, 1, 2, tzinfo=UTC))
    readings = [r for r in READINGS if r.pilot_id == INVOICES.id]

    def report_in(timezone: str) -> MonthlyReport:
        pilot = dataclasses.replace(INVOICES, timezone=timezone)
        return build_monthly_report([pilot_status(pilot, readings, [late_go], NOW)], NOVEMBER, NOW, tenant_id=TENANT)

    auckland = report_in("Pacific/Auckland")
    assert auckland.decisions == () and auckland.pilots[0].stage is Stage.PILOT
    new_york = report_in("America/New_York")
    assert [d.kind for d in new_york.decisions] == [DecisionKind.GO] and new_york.pilots[0].stage is Stage.PRODUCTION


def test_a_check_in_card_that_went_out_late_is_late_later() -> None:
    # Contract review's November card went out on Thursday 3 December: overdue 7 business days after that, on
    # Monday 14 December (4, 7, 8, 9, 10, 11, 14), so on 11 December it is not late yet.
    sent = []
    for status in statuses():
        if status.pilot.id == CONTRACTS.id:
            assert status.checkin.period == NOVEMBER
            checkin = dataclasses.replace(status.checkin, sent_at=datetime(2026, 12, 3, 9, tzinfo=UTC))
            status = dataclasses.replace(status, checkin=checkin)
        sent.append(status)
    row = next(r for r in build_monthly_report(sent, NOVEMBER, NOW, tenant_id=TENANT).pilots if r.id == CONTRACTS.id)
    assert Flag.LATE_CHECKIN not in row.flags and row.checkin_due and not row.checkin_answered


def test_a_sponsor_known_by_id_only_is_named_as_their_pilots_name_them() -> None:
    report = build_monthly_report(
        statuses(), NOVEMBER, NOW, tenant_id=TENANT, sponsor=Person(SAM.aad_object_id.upper())
    )
    assert report.sponsor == SAM and [r.name for r in report.pilots] == ["Sales email drafts"]


def test_a_retired_pilots_reading_is_not_judged_on_track() -> None:
    retired = _with(statuses(), "Sales email drafts", stage=Stage.RETIRED)
    row = next(r for r in build_monthly_report(retired, NOVEMBER, NOW, tenant_id=TENANT).pilots if r.id == "p-sales")
    assert row.stage is Stage.RETIRED and row.metric.on_track is None
    assert row.checkin_due is False and row.projected_spend_at_gate is None and Flag.COST_DRIFT not in row.flags


def test_a_pilot_outside_the_flow_of_work_is_flagged_and_a_draft_is_counted_not_listed() -> None:
    standalone = Workflow(surface=WorkSurface.STANDALONE, system="", integrated=Integration.NO)
    with_gap = _with(statuses(), "Sales email drafts", workflow=standalone)
    draft = dataclasses.replace(LEGAL, id="p-draft", name="Idea: HR answers", stage=Stage.DRAFT, metrics=())
    portfolio = [*with_gap, pilot_status(draft, [], [], NOW)]
    report = build_monthly_report(portfolio, NOVEMBER, NOW, tenant_id=TENANT)
    sales = next(r for r in report.pilots if r.id == "p-sales")
    assert sales.flags == (Flag.COST_DRIFT, Flag.WORKFLOW_GAP)
    assert "p-draft" not in [r.id for r in report.pilots]
    assert report.totals.pilots_by_stage[Stage.DRAFT] == 1


def test_a_skipped_check_in_is_neither_due_nor_late() -> None:
    # Contract review's November check-in, late on 11 December, skipped by its sponsor instead.
    hold = CheckinHold(NOVEMBER, ANA, datetime(2026, 12, 2, 9, tzinfo=UTC), skipped=True, reason="Team on leave")
    skipped = _with(statuses(), "Contract review", checkin_holds=(hold,))
    report = build_monthly_report(skipped, NOVEMBER, NOW, tenant_id=TENANT)
    row = next(r for r in report.pilots if r.id == CONTRACTS.id)
    assert row.checkin_skipped and not row.checkin_due and Flag.LATE_CHECKIN not in row.flags
    assert (report.totals.checkins_due, report.totals.checkins_answered) == (2, 2)
