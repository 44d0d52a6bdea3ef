"""The gate: milestones (month ends, DST, late registration, no bursts), projections, decisions, cost drift."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cards.decision import decision_errors
from cards.pieces import cost_drift_text, milestone_label, projection_basis
from cards.submissions import DecisionSubmission, read
from governance.checkin import checkins_answered
from governance.decisions import DecisionDraft, apply_decision, gate_set_on, retirement_date
from governance.errors import GateAlreadyDecided, ValidationFailed
from governance.gate import gate_state
from governance.milestones import (
    due_milestone,
    due_milestone_at,
    gate_milestones,
    milestone_log_key,
    milestone_offset,
    next_milestone,
    next_milestone_at,
)
from governance.model import (
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
from governance.projections import cost_drift as drift_of
from governance.projections import months_between, period_midpoint, project_metric, project_spend

P = Period.parse


def cost_drift(pilot: Pilot, latest: MetricReading, readings: list[MetricReading]) -> str | None:
    """The drift as the channel reads it."""
    drift = drift_of(pilot, latest, readings)
    return cost_drift_text(drift, pilot.gate_date.isoformat()) if drift else None


SPONSOR = Person("aad-1", "Dana")
GATE = date(2026, 6, 10)  # a Wednesday


def make_pilot(**changes: Any) -> Pilot:
    pilot = Pilot(
        id="p-1",
        tenant_id="t-1",
        name="Invoice triage",
        sponsor=SPONSOR,
        metrics=(Metric("Handling time", "min", 30.0, 20.0, Direction.DECREASE),),
        start_date=date(2026, 3, 2),
        gate_date=GATE,
        budget_monthly=1000.0,
        created_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
    )
    return replace(pilot, **changes)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def reading(period: str, spend: float | None = None, value: float = 25.0) -> MetricReading:
    return MetricReading(
        pilot_id="p-1",
        tenant_id="t-1",
        period=P(period),
        values={"Handling time": value},
        status=HealthStatus.GREEN,
        submitted_by=SPONSOR,
        submitted_at=utc(2026, 1, 1),
        spend=spend,
    )


def sweep(
    pilot: Pilot, start: datetime, end: datetime, step: timedelta = timedelta(hours=1)
) -> list[tuple[str, datetime]]:
    """Run the milestone check every ``step`` with a send-log, as the scheduler would: (key, first sent)."""
    sent: dict[str, datetime] = {}
    now = start
    while now <= end:
        due = due_milestone_at(pilot, False, now)
        if due is not None:
            sent.setdefault(milestone_log_key(pilot.gate_date, due[0]), now)
        now += step
    return [(key.rsplit(":", 1)[1], at) for key, at in sent.items()]


# --- milestones ---------------------------------------------------------------------------------------------------
def test_milestones_are_30_14_7_1_days_before_the_gate_day_then_weekly() -> None:
    assert gate_milestones(GATE, GATE + timedelta(days=21)) == [
        ("t-30", date(2026, 5, 11)),
        ("t-14", date(2026, 5, 27)),
        ("t-7", date(2026, 6, 3)),
        ("t-1", date(2026, 6, 9)),
        ("t-0", date(2026, 6, 10)),
        ("t+7", date(2026, 6, 17)),
        ("t+14", date(2026, 6, 24)),
        ("t+21", date(2026, 7, 1)),
    ]
    assert len(gate_milestones(GATE)) == 5 + 12  # twelve weeks of purgatory by default


def test_gate_on_january_31_crosses_into_february() -> None:
    assert dict(gate_milestones(date(2026, 1, 31), date(2026, 3, 7))) == {
        "t-30": date(2026, 1, 1),
        "t-14": date(2026, 1, 17),
        "t-7": date(2026, 1, 24),
        "t-1": date(2026, 1, 30),
        "t-0": date(2026, 1, 31),
        "t+7": date(2026, 2, 7),
        "t+14": date(2026, 2, 14),
        "t+21": date(2026, 2, 21),
        "t+28": date(2026, 2, 28),
        "t+35": date(2026, 3, 7),
    }


def test_gate_on_february_28_and_29_count_back_into_january() -> None:
    plain_year = dict(gate_milestones(date(2027, 2, 28), date(2027, 3, 7)))
    assert plain_year["t-30"] == date(2027, 1, 29) and plain_year["t-1"] == date(2027, 2, 27)
    assert plain_year["t+7"] == date(2027, 3, 7)
    leap = dict(gate_milestones(date(2028, 2, 29), date(2028, 3, 7)))
    assert leap["t-30"] == date(2028, 1, 30) and leap["t-1"] == date(2028, 2, 28)
    assert leap["t+7"] == date(2028, 3, 7)


def test_milestones_across_a_month_end_are_each_due_on_their_day() -> None:
    pilot = make_pilot(start_date=date(2026, 1, 5), gate_date=date(2026, 3, 3), created_at=utc(2026, 1, 5))
    assert due_milestone(pilot, False, date(2026, 2, 23)) == ("t-14", date(2026, 2, 17))
    assert due_milestone(pilot, False, date(2026, 2, 24)) == ("t-7", date(2026, 2, 24))
    assert due_milestone(pilot, False, date(2026, 3, 1)) == ("t-7", date(2026, 2, 24))
    assert due_milestone(pilot, False, date(2026, 3, 2)) == ("t-1", date(2026, 3, 2))
    assert due_milestone(pilot, False, date(2026, 3, 3)) == ("t-0", date(2026, 3, 3))
    assert due_milestone(pilot, False, date(2026, 3, 10)) == ("t+7", date(2026, 3, 10))


def test_a_missed_milestone_older_than_a_week_is_not_sent_late() -> None:
    pilot = make_pilot()
    assert due_milestone(pilot, False, date(2026, 5, 17)) == ("t-30", date(2026, 5, 11))
    assert due_milestone(pilot, False, date(2026, 5, 18)) is None  # t-30 was a week ago; t-14 is on 27 May
    assert due_milestone(pilot, False, date(2026, 5, 10)) is None  # before the first milestone


def test_the_weekly_purgatory_reminder_is_always_the_latest_week() -> None:
    pilot = make_pilot()
    assert due_milestone(pilot, False, date(2026, 6, 16)) == ("t-0", GATE)
    assert due_milestone(pilot, False, date(2026, 6, 17)) == ("t+7", date(2026, 6, 17))
    assert due_milestone(pilot, False, date(2026, 9, 1)) == ("t+77", date(2026, 8, 26))


def test_a_decided_gate_or_a_pilot_out_of_the_pilot_stages_has_no_milestones() -> None:
    assert due_milestone(make_pilot(), True, GATE) is None
    assert next_milestone_at(make_pilot(), True, utc(2026, 5, 1)) is None
    for stage in (Stage.PRODUCTION, Stage.RETIRED):
        assert due_milestone(make_pilot(stage=stage), False, GATE) is None
        assert next_milestone_at(make_pilot(stage=stage), False, utc(2026, 5, 1)) is None


@pytest.mark.parametrize(
    ("tz", "gate"),
    [
        ("UTC", GATE),
        ("Europe/Berlin", date(2026, 4, 5)),  # t-7 falls on Sunday 29 March, the day clocks go forward
        ("America/New_York", date(2026, 11, 3)),  # t-1 is the day after clocks go back
        ("Australia/Sydney", date(2026, 4, 10)),  # clocks go back on 5 April
    ],
)
def test_each_milestone_is_sent_once_at_nine_local_over_hourly_ticks(tz: str, gate: date) -> None:
    pilot = make_pilot(timezone=tz, start_date=gate - timedelta(days=90), gate_date=gate, created_at=None)
    start = datetime.combine(gate - timedelta(days=40), datetime.min.time(), tzinfo=UTC)
    sent = sweep(pilot, start, start + timedelta(days=40 + 36))
    assert [key for key, _ in sent] == ["t-30", "t-14", "t-7", "t-1", "t-0", "t+7", "t+14", "t+21", "t+28", "t+35"]
    for key, at in sent:
        local = at.astimezone(ZoneInfo(tz))
        assert (local.hour, local.minute) == (9, 0), key
        assert local.date() == gate + timedelta(days=milestone_offset(key)), key


def test_a_pilot_registered_ten_days_before_its_gate_gets_t7_onward_and_no_burst() -> None:
    registered = utc(2026, 5, 31, 14)  # gate on 10 June
    pilot = make_pilot(created_at=registered)
    assert due_milestone_at(pilot, False, registered) is None  # t-14 (27 May) was before it existed
    sent = sweep(pilot, registered, utc(2026, 6, 18))
    assert sent == [
        ("t-7", utc(2026, 6, 3, 9)),
        ("t-1", utc(2026, 6, 9, 9)),
        ("t-0", utc(2026, 6, 10, 9)),
        ("t+7", utc(2026, 6, 17, 9)),
    ]


def test_a_pilot_registered_on_a_milestone_day_gets_that_milestone_right_away() -> None:
    registered = utc(2026, 6, 3, 15)
    pilot = make_pilot(created_at=registered)
    assert due_milestone_at(pilot, False, registered) == ("t-7", date(2026, 6, 3))


def test_a_pilot_registered_after_its_gate_gets_one_decision_card_then_weekly() -> None:
    registered = utc(2026, 6, 13, 10)
    pilot = make_pilot(created_at=registered)
    assert due_milestone_at(pilot, False, registered) == ("t-0", GATE)
    assert sweep(pilot, registered, utc(2026, 6, 25)) == [
        ("t-0", registered),
        ("t+7", utc(2026, 6, 17, 9)),
        ("t+14", utc(2026, 6, 24, 9)),
    ]


def test_after_an_extension_missed_milestones_of_the_new_gate_are_not_sent() -> None:
    pilot = make_pilot(gate_date=date(2026, 7, 1), stage=Stage.EXTENDED, extensions=1)
    decided_on = date(2026, 6, 20)  # t-14 of the new gate was 17 June
    assert due_milestone(pilot, False, decided_on) == ("t-14", date(2026, 6, 17))
    assert due_milestone(pilot, False, decided_on, gate_set_on=decided_on) is None
    assert due_milestone(pilot, False, date(2026, 6, 24), gate_set_on=decided_on) == ("t-7", date(2026, 6, 24))
    assert milestone_log_key(date(2026, 7, 1), "t-7") != milestone_log_key(GATE, "t-7")


def test_milestone_due_at_respects_nine_local() -> None:
    pilot = make_pilot(timezone="Europe/Berlin")
    assert due_milestone_at(pilot, False, utc(2026, 6, 3, 6, 59)) == ("t-14", date(2026, 5, 27))  # 08:59 CEST
    assert due_milestone_at(pilot, False, utc(2026, 6, 3, 7)) == ("t-7", date(2026, 6, 3))


def test_next_milestone_time_for_the_scheduler() -> None:
    pilot = make_pilot()
    assert next_milestone(pilot, False, utc(2026, 5, 1)) == ("t-30", utc(2026, 5, 11, 9))
    assert next_milestone(pilot, False, utc(2026, 5, 11, 9)) == ("t-14", utc(2026, 5, 27, 9))
    assert next_milestone(pilot, False, utc(2026, 6, 9, 9)) == ("t-0", utc(2026, 6, 10, 9))
    assert next_milestone(pilot, False, utc(2026, 6, 10, 9)) == ("t+7", utc(2026, 6, 17, 9))
    assert next_milestone(pilot, False, utc(2026, 6, 19)) == ("t+14", utc(2026, 6, 24, 9))
    assert next_milestone_at(pilot, False, utc(2026, 6, 24, 8)) == utc(2026, 6, 24, 9)
    short = make_pilot(start_date=date(2026, 5, 20))  # t-30 (11 May) falls before the start
    assert next_milestone(short, False, utc(2026, 5, 1)) == ("t-14", utc(2026, 5, 27, 9))


def test_next_milestone_in_berlin_is_nine_local_on_both_sides_of_the_change() -> None:
    pilot = make_pilot(timezone="Europe/Berlin", start_date=date(2026, 1, 5), gate_date=date(2026, 4, 5))
    assert next_milestone_at(pilot, False, utc(2026, 3, 20)) == utc(2026, 3, 22, 8)  # 09:00 CET
    assert next_milestone_at(pilot, False, utc(2026, 3, 22, 8)) == utc(2026, 3, 29, 7)  # 09:00 CEST


def test_milestone_labels() -> None:
    assert milestone_label("t-30") == "30 days to the gate"
    assert milestone_label("t-1") == "1 day to the gate"
    assert milestone_label("t-0") == "Gate day"
    assert milestone_label("t+7") == "1 week past the gate"
    assert milestone_label("t+21") == "3 weeks past the gate"
    assert milestone_label("t+3") == "3 days past the gate"
    with pytest.raises(ValueError, match="not a milestone key"):
        milestone_offset("soon")


# --- projection ---------------------------------------------------------------------------------------------------
def line(periods: list[Period], start: float, per_day: float) -> list[tuple[Period, float]]:
    origin = period_midpoint(periods[0])
    return [(p, start + per_day * (period_midpoint(p) - origin)) for p in periods]


MONTHS = [P("2026-01"), P("2026-02"), P("2026-03"), P("2026-04"), P("2026-05")]


def test_no_readings_or_one_reading_gives_no_projection() -> None:
    assert project_metric([], GATE).value is None and project_metric([], GATE).confidence == "none"
    one = project_metric([(P("2026-04"), 25.0)], GATE)
    assert one.value is None and one.confidence == "none" and "at least two" in projection_basis(one)


@pytest.mark.parametrize(("count", "confidence"), [(2, "low"), (3, "medium"), (4, "medium"), (5, "high")])
def test_confidence_grows_with_the_number_of_readings(count: int, confidence: str) -> None:
    trend = line(MONTHS[:count], 30.0, -0.1)
    projection = project_metric(trend, GATE)
    assert projection.confidence == confidence
    assert projection.readings == count
    expected = 30.0 - 0.1 * (GATE.toordinal() - period_midpoint(P("2026-01")))
    assert projection.value == pytest.approx(expected)
    assert projection.r_squared == pytest.approx(1.0)


def test_a_poor_fit_lowers_the_confidence_one_step() -> None:
    scattered = list(zip(MONTHS, [10.0, 30.0, 5.0, 28.0, 12.0], strict=True))
    projection = project_metric(scattered, GATE)
    assert projection.r_squared is not None and projection.r_squared < 0.5
    assert projection.confidence == "medium"
    assert "scatter" in projection_basis(projection)
    assert project_metric(scattered[:3], GATE).confidence == "low"


def test_a_flat_trend_projects_the_same_value() -> None:
    projection = project_metric([(p, 25.0) for p in MONTHS[:3]], GATE)
    assert projection.value == pytest.approx(25.0) and projection.confidence == "medium"


def test_duplicate_periods_count_once() -> None:
    assert project_metric([(P("2026-01"), 30.0), (P("2026-01"), 30.0)], GATE).confidence == "none"


# --- spend --------------------------------------------------------------------------------------------------------
def test_months_between_counts_partial_months_as_fractions() -> None:
    assert months_between(date(2026, 1, 1), date(2026, 4, 1)) == pytest.approx(3.0)
    assert months_between(date(2026, 4, 16), date(2026, 5, 1)) == pytest.approx(0.5)
    assert months_between(date(2026, 5, 1), date(2026, 4, 1)) == 0.0


def test_spending_exactly_the_budget_every_month_projects_exactly_the_total() -> None:
    spend = project_spend(
        [reading("2026-01", 1000.0), reading("2026-02", 1000.0)], 1000.0, date(2026, 1, 1), date(2026, 4, 1)
    )
    assert spend.spent == 2000.0 and spend.monthly_average == 1000.0
    assert spend.projected_total == pytest.approx(3000.0)
    assert spend.budget_total == pytest.approx(3000.0)
    assert not spend.over_budget


def test_spend_above_the_monthly_rate_projects_over_the_total() -> None:
    spend = project_spend(
        [reading("2026-01", 1000.0), reading("2026-02", 1400.0), reading("2026-03")],
        1000.0,
        date(2026, 1, 1),
        date(2026, 4, 1),
    )
    assert spend.projected_total == pytest.approx(3600.0)
    assert spend.over_budget


def test_no_spend_or_no_budget_projects_nothing_over() -> None:
    none_yet = project_spend([reading("2026-01")], 1000.0, date(2026, 1, 1), date(2026, 4, 1))
    assert none_yet.projected_total is None and not none_yet.over_budget
    unbudgeted = project_spend([reading("2026-01", 5000.0)], None, date(2026, 1, 1), date(2026, 4, 1))
    assert unbudgeted.budget_total is None and not unbudgeted.over_budget


def test_cost_drift_when_a_month_passes_the_monthly_budget() -> None:
    pilot = make_pilot()
    assert cost_drift(pilot, reading("2026-04", 1400.0), [reading("2026-03", 900.0)]) == (
        "Spend for 2026-04 was 1,400, over the monthly budget of 1,000 by 400 (+40%)."
    )


def test_cost_drift_when_the_projection_passes_the_total_budget() -> None:
    pilot = make_pilot(start_date=date(2026, 1, 15), gate_date=date(2026, 4, 1))
    drift = cost_drift(pilot, reading("2026-02", 990.0), [reading("2026-01", 990.0)])
    assert drift == "At the current rate spend reaches 2,970 by the gate (2026-04-01), over the total budget of 2,548."


def test_no_cost_drift_on_track_without_budget_or_without_spend() -> None:
    pilot = make_pilot()
    assert cost_drift(pilot, reading("2026-04", 800.0), [reading("2026-03", 800.0)]) is None
    assert cost_drift(replace(pilot, budget_monthly=None), reading("2026-04", 9e6), []) is None
    assert cost_drift(pilot, reading("2026-04"), []) is None


# --- decisions ----------------------------------------------------------------------------------------------------
TODAY = GATE
NOW = utc(2026, 6, 10, 14)
ADMIN = Person("aad-admin", "Ada Admin")


def decide(
    values: dict[str, str],
    kind: str,
    pilot: Pilot | None = None,
    *,
    admin: bool = False,
    allow_more: bool = False,
    today: date = TODAY,
) -> tuple[Pilot, GateDecision]:
    submission = read(DecisionSubmission, {"pilotId": "p-1", "gateDate": GATE.isoformat(), "kind": kind, **values})
    draft = submission.to_draft()  # what the card can check: keyed by input id
    actor = ADMIN if admin else SPONSOR
    try:
        return apply_decision(pilot or make_pilot(), draft, admin, allow_more, today, actor, NOW)
    except ValidationFailed as exc:  # the domain's checks, keyed by field: shown next to the card's inputs
        raise ValidationFailed(decision_errors(draft.kind, exc.fields)) from None


def refused(values: dict[str, str], kind: str, pilot: Pilot | None = None, **kw: Any) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        decide(values, kind, pilot, **kw)
    return failed.value.fields


GO = {"goRationale": "Hit target two months running.", "goScope": "All AP clerks in EMEA", "goDate": "2026-07-01"}
NARROW = {"narrowRationale": "Only invoices work.", "narrowScope": "Credit notes", "narrowGateDate": "2026-08-01"}
EXTEND = {"extendRationale": "Data arrived late.", "extendGateDate": "2026-09-01", "extendReason": "Two clean months"}
RETIRE = {
    "retireRationale": "Missed the target.",
    "retireDate": "2026-06-30",
    "retireArchived": "Prompts and eval sets",
    "retireAccess": "Graph Mail.Read for the bot",
    "retireLessons": "Start with cleaner data.",
}


def test_go_moves_the_pilot_to_production_with_its_follow_up_date() -> None:
    pilot, decision = decide(GO, "go")
    assert pilot.stage is Stage.PRODUCTION and pilot.gate_date == GATE and pilot.updated_at == NOW
    assert decision.kind is DecisionKind.GO and decision.gate_date == GATE
    assert decision.effective_date == date(2026, 7, 1) and decision.new_gate_date is None
    assert decision.details == {"expansionScope": "All AP clerks in EMEA"}
    assert decision.decided_by == SPONSOR and decision.decided_at == NOW
    assert decision.rationale == "Hit target two months running."


def test_narrow_cuts_scope_and_moves_the_gate() -> None:
    pilot, decision = decide(NARROW, "narrow")
    assert pilot.stage is Stage.NARROWED and pilot.gate_date == date(2026, 8, 1) and pilot.extensions == 0
    assert decision.gate_date == GATE and decision.new_gate_date == date(2026, 8, 1)
    assert decision.details == {"cutScope": "Credit notes"}


def test_extend_moves_the_gate_and_counts_the_extension() -> None:
    pilot, decision = decide(EXTEND, "extend")
    assert pilot.stage is Stage.EXTENDED and pilot.gate_date == date(2026, 9, 1) and pilot.extensions == 1
    assert decision.gate_date == GATE and decision.new_gate_date == date(2026, 9, 1)
    assert decision.details == {"reason": "Two clean months"}


def test_retire_records_the_date_what_is_archived_revoked_and_learned() -> None:
    pilot, decision = decide(RETIRE, "retire")
    assert pilot.stage is Stage.RETIRED and pilot.gate_date == GATE
    assert decision.effective_date == date(2026, 6, 30)
    assert decision.details == {
        "archived": "Prompts and eval sets",
        "accessRevoked": "Graph Mail.Read for the bot",
        "lessons": "Start with cleaner data.",
    }
    assert retirement_date([decision]) == date(2026, 6, 30)


@pytest.mark.parametrize(
    ("values", "kind", "key"),
    [
        (GO, "go", "goRationale"),
        (NARROW, "narrow", "narrowRationale"),
        (EXTEND, "extend", "extendRationale"),
        (RETIRE, "retire", "retireRationale"),
    ],
)
def test_a_decision_without_rationale_is_refused(values: dict[str, str], kind: str, key: str) -> None:
    found = refused({**values, key: "   "}, kind)
    assert set(found) == {key}
    assert "rationale" in found[key]


def test_a_draft_built_elsewhere_is_checked_again() -> None:
    with pytest.raises(ValidationFailed) as failed:
        apply_decision(make_pilot(), DecisionDraft(DecisionKind.GO, ""), False, False, TODAY, SPONSOR, NOW)
    assert set(failed.value.fields) == {"rationale", "expansionScope", "expansionDate"}


def test_an_extension_date_in_the_past_or_today_is_refused() -> None:
    assert "after today" in refused({**EXTEND, "extendGateDate": "2026-06-01"}, "extend")["extendGateDate"]
    assert "after today" in refused({**EXTEND, "extendGateDate": "2026-06-10"}, "extend")["extendGateDate"]


def test_an_extension_must_move_the_gate_later() -> None:
    found = refused({**EXTEND, "extendGateDate": "2026-06-08"}, "extend", today=date(2026, 6, 1))
    assert "after 2026-06-10" in found["extendGateDate"]


def test_a_gate_more_than_two_years_after_the_start_is_refused() -> None:
    assert "two years" in refused({**EXTEND, "extendGateDate": "2028-06-01"}, "extend")["extendGateDate"]


def test_a_second_extension_needs_an_admin_who_allows_it() -> None:
    once = make_pilot(stage=Stage.EXTENDED, extensions=1, gate_date=date(2026, 6, 10))
    assert "already extended once" in refused(EXTEND, "extend", once)["extendDecision"]
    assert "extendDecision" in refused(EXTEND, "extend", once, admin=True)  # admin, but more are not allowed
    assert "extendDecision" in refused(EXTEND, "extend", once, allow_more=True)  # allowed, but not an admin
    pilot, decision = decide(EXTEND, "extend", once, admin=True, allow_more=True)
    assert pilot.extensions == 2 and decision.decided_by == ADMIN


def test_narrowing_to_a_past_date_is_refused() -> None:
    assert "after today" in refused({**NARROW, "narrowGateDate": "2026-05-01"}, "narrow")["narrowGateDate"]


def test_a_retire_date_before_today_is_refused() -> None:
    found = refused({**RETIRE, "retireDate": "2026-06-12"}, "retire", today=date(2026, 6, 20))
    assert "has passed" in found["retireDate"]


def test_a_retire_date_before_the_gate_is_refused() -> None:
    found = refused({**RETIRE, "retireDate": "2026-06-07"}, "retire", today=date(2026, 6, 5))
    assert "before the gate (2026-06-10)" in found["retireDate"]


def test_a_follow_up_date_in_the_past_is_refused() -> None:
    assert "has passed" in refused({**GO, "goDate": "2026-06-01"}, "go")["goDate"]


def test_missing_kind_specific_fields_are_named_by_input_id() -> None:
    assert set(refused({"goRationale": "x"}, "go")) == {"goScope", "goDate"}
    assert set(refused({"narrowRationale": "x"}, "narrow")) == {"narrowScope", "narrowGateDate"}
    assert set(refused({"extendRationale": "x"}, "extend")) == {"extendGateDate"}
    assert set(refused({"retireRationale": "x"}, "retire")) == {"retireDate"}


def test_a_date_that_is_not_a_date_and_an_unknown_kind_are_refused() -> None:
    assert "Pick a date" in refused({**EXTEND, "extendGateDate": "next week"}, "extend")["extendGateDate"]
    assert "go, narrow, extend or retire" in refused(GO, "expand")["kind"]
    assert decide(GO, " GO ")[1].kind is DecisionKind.GO


def test_overlong_text_is_refused() -> None:
    assert "under 2,000 characters" in refused({**RETIRE, "retireLessons": "x" * 2001}, "retire")["retireLessons"]


def test_a_pilot_already_in_production_cannot_be_decided_again() -> None:
    with pytest.raises(GateAlreadyDecided):
        decide(GO, "go", make_pilot(stage=Stage.PRODUCTION))


def test_gate_bookkeeping_helpers() -> None:
    pilot, decision = decide(EXTEND, "extend")
    assert gate_state(make_pilot(), [decision], NOW).decided and not gate_state(pilot, [decision], NOW).decided
    assert gate_set_on(pilot, [decision]) == date(2026, 6, 10)
    assert gate_set_on(make_pilot(), []) is None
    assert retirement_date([decision]) is None
    assert checkins_answered(make_pilot(), [P("2026-03"), P("2026-05")], utc(2026, 6, 2, 10)) == (2, 3)
    assert checkins_answered(make_pilot(), [], utc(2026, 3, 20)) == (0, 0)
