"""Check-in timing (09:00 local, DST-proof, business-day nudges) and reading the check-in card back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cards.pieces import period_label
from cards.submissions import CheckinSubmission, read
from governance.checkin import (
    ESCALATION,
    REMINDER,
    checkin_due_at,
    checkin_send_date,
    due_checkin_period,
    due_nudges,
    escalation_due_at,
    next_checkin,
    next_checkin_at,
    next_nudge_at,
    reminder_due_at,
)
from governance.errors import ValidationFailed
from governance.localtime import add_business_days
from governance.model import Direction, HealthStatus, Metric, Person, Pilot, Stage
from governance.period import Period
from governance.rules import MAX_TEXT, ReadingDraft

P = Period.parse

NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"


def make_pilot(**changes: Any) -> Pilot:
    pilot = Pilot(
        id="p-1",
        tenant_id="t-1",
        name="Invoice triage",
        sponsor=Person("aad-1", "Dana"),
        metrics=(
            Metric("Handling time", "min", 30.0, 20.0, Direction.DECREASE),
            Metric("Accuracy", "%", 82.0, 95.0, Direction.INCREASE),
        ),
        start_date=date(2025, 11, 3),
        gate_date=date(2026, 12, 1),
    )
    return replace(pilot, **changes)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(moment: datetime, tz: str) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


# --- when the check-in is sent ------------------------------------------------------------------------------------
def test_checkin_for_a_month_is_sent_on_the_first_business_day_of_the_next_at_nine() -> None:
    pilot = make_pilot()
    assert checkin_send_date(pilot, P("2026-04")) == date(2026, 5, 1)  # a Friday
    assert checkin_due_at(pilot, P("2026-04")) == utc(2026, 5, 1, 9)
    assert checkin_send_date(pilot, P("2026-02")) == date(2026, 3, 2)  # 1 March 2026 is a Sunday
    assert checkin_send_date(pilot, P("2026-12")) == date(2027, 1, 1)  # December's check-in is sent in January


def test_new_york_march_checkin_stays_at_nine_local_across_the_spring_change() -> None:
    pilot = make_pilot(timezone=NEW_YORK, checkin_day=9)  # DST starts Sunday 8 March 2026
    assert checkin_due_at(pilot, P("2026-01")) == utc(2026, 2, 9, 14)  # 09:00 EST
    assert checkin_due_at(pilot, P("2026-02")) == utc(2026, 3, 9, 13)  # 09:00 EDT, the day after the change


def test_new_york_november_checkin_stays_at_nine_local_across_the_autumn_change() -> None:
    pilot = make_pilot(timezone=NEW_YORK)  # DST ends Sunday 1 November 2026; Monday 2 is the first business day
    assert checkin_due_at(pilot, P("2026-09")) == utc(2026, 10, 1, 13)  # 09:00 EDT
    assert checkin_due_at(pilot, P("2026-10")) == utc(2026, 11, 2, 14)  # 09:00 EST


def test_berlin_late_march_and_october_checkins_stay_at_nine_local() -> None:
    march = make_pilot(timezone=BERLIN, checkin_day=28)  # Sat 28 March 2026 -> Mon 30, the day after the change
    assert checkin_send_date(march, P("2026-02")) == date(2026, 3, 30)
    assert checkin_due_at(march, P("2026-02")) == utc(2026, 3, 30, 7)  # 09:00 CEST
    assert checkin_due_at(march, P("2026-01")) == utc(2026, 3, 2, 8)  # Sat 28 Feb -> Mon 2 March, 09:00 CET
    october = make_pilot(timezone=BERLIN, checkin_day=26)  # DST ends Sunday 25 October 2026
    assert checkin_due_at(october, P("2026-08")) == utc(2026, 9, 28, 7)  # 26 Sep is a Saturday; 09:00 CEST
    assert checkin_due_at(october, P("2026-09")) == utc(2026, 10, 26, 8)  # 09:00 CET


@pytest.mark.parametrize("tz", [NEW_YORK, BERLIN, "Australia/Sydney", "Asia/Kolkata", "UTC"])
@pytest.mark.parametrize("day", [1, 9, 25, 26, 28])
def test_every_checkin_of_the_year_is_at_nine_local_on_a_weekday(tz: str, day: int) -> None:
    pilot = make_pilot(timezone=tz, checkin_day=day)
    for month in range(1, 13):
        period = Period(2026, month)
        sent = local(checkin_due_at(pilot, period), tz)
        assert (sent.hour, sent.minute) == (9, 0), period
        assert sent.weekday() < 5, period


@pytest.mark.parametrize(
    ("tz", "day", "start", "end"),
    [
        (NEW_YORK, 9, utc(2026, 3, 1), utc(2026, 3, 20)),
        (NEW_YORK, 1, utc(2026, 10, 25), utc(2026, 11, 10)),
        (BERLIN, 28, utc(2026, 3, 20), utc(2026, 4, 5)),
        (BERLIN, 26, utc(2026, 10, 20), utc(2026, 11, 2)),
    ],
)
def test_a_sweep_across_a_dst_change_finds_each_checkin_due_exactly_once_at_nine_local(
    tz: str, day: int, start: datetime, end: datetime
) -> None:
    pilot = make_pilot(timezone=tz, checkin_day=day)
    seen: list[tuple[Period, datetime]] = []
    now = start
    while now <= end:
        period = due_checkin_period(pilot, now)
        assert period is not None
        if not seen or seen[-1][0] != period:
            seen.append((period, now))
        now += timedelta(minutes=15)
    changes = seen[1:]  # the first entry is the period already due when the sweep began
    assert len(changes) == 1
    period, first_seen = changes[0]
    assert first_seen == checkin_due_at(pilot, period)
    assert (local(first_seen, tz).hour, local(first_seen, tz).minute) == (9, 0)


def test_a_weekend_shift_into_the_next_month_keeps_the_periods_in_order() -> None:
    pilot = make_pilot(checkin_day=28)  # Sat 28 Feb 2026 -> Mon 2 March; Sat 28 March -> Mon 30 March
    assert checkin_send_date(pilot, P("2026-01")) == date(2026, 3, 2)
    assert due_checkin_period(pilot, utc(2026, 3, 1, 12)) == P("2025-12")
    assert next_checkin(pilot, utc(2026, 3, 1, 12)) == (P("2026-01"), utc(2026, 3, 2, 9))
    assert due_checkin_period(pilot, utc(2026, 3, 2, 9)) == P("2026-01")
    assert next_checkin(pilot, utc(2026, 3, 2, 9)) == (P("2026-02"), utc(2026, 3, 30, 9))


# --- which period is due, and the next one ------------------------------------------------------------------------
def test_due_period_switches_at_nine_local_on_the_checkin_day() -> None:
    pilot = make_pilot()
    assert due_checkin_period(pilot, utc(2026, 5, 1, 8, 59)) == P("2026-03")
    assert due_checkin_period(pilot, utc(2026, 5, 1, 9)) == P("2026-04")
    assert next_checkin(pilot, utc(2026, 5, 1, 8, 59)) == (P("2026-04"), utc(2026, 5, 1, 9))
    assert next_checkin(pilot, utc(2026, 5, 1, 9)) == (P("2026-05"), checkin_due_at(pilot, P("2026-05")))
    assert next_checkin_at(pilot, utc(2026, 5, 1, 9)) == utc(2026, 6, 1, 9)


def test_no_checkin_for_periods_before_the_start_month() -> None:
    pilot = make_pilot(start_date=date(2026, 5, 4))
    assert due_checkin_period(pilot, utc(2026, 5, 10)) is None  # April was before the pilot
    assert next_checkin(pilot, utc(2026, 5, 10)) == (P("2026-05"), utc(2026, 6, 1, 9))
    assert due_checkin_period(pilot, utc(2026, 6, 1, 9)) == P("2026-05")
    future = make_pilot(start_date=date(2026, 8, 10))
    assert next_checkin(future, utc(2026, 5, 10)) == (P("2026-08"), utc(2026, 9, 1, 9))


def test_a_pilot_in_production_gets_no_more_checkins() -> None:
    pilot = make_pilot(stage=Stage.PRODUCTION)
    assert due_checkin_period(pilot, utc(2026, 6, 2)) is None
    assert next_checkin_at(pilot, utc(2026, 6, 2)) is None


def test_a_retired_pilot_gets_checkins_only_until_its_retirement_date() -> None:
    pilot = make_pilot(stage=Stage.RETIRED)
    assert due_checkin_period(pilot, utc(2026, 7, 2)) is None
    assert next_checkin(pilot, utc(2026, 7, 2)) is None
    retiring = date(2026, 7, 31)
    assert due_checkin_period(pilot, utc(2026, 7, 2, 10), retired_on=retiring) == P("2026-06")
    assert next_checkin(pilot, utc(2026, 7, 2, 10), retired_on=retiring) is None  # July's goes out 3 August
    assert due_checkin_period(pilot, utc(2026, 8, 4), retired_on=retiring) is None
    assert next_checkin(pilot, utc(2026, 6, 20), retired_on=retiring) == (P("2026-06"), utc(2026, 7, 1, 9))


def test_extended_and_narrowed_pilots_keep_getting_checkins() -> None:
    for stage in (Stage.EXTENDED, Stage.NARROWED):
        assert due_checkin_period(make_pilot(stage=stage), utc(2026, 6, 2)) == P("2026-05")


# --- nudges -------------------------------------------------------------------------------------------------------
def test_business_days_skip_weekends() -> None:
    assert add_business_days(date(2026, 5, 1), 3) == date(2026, 5, 6)  # Fri -> Wed
    assert add_business_days(date(2026, 5, 4), 3) == date(2026, 5, 7)  # Mon -> Thu
    assert add_business_days(date(2026, 5, 1), 7) == date(2026, 5, 12)
    assert add_business_days(date(2026, 5, 2), 1) == date(2026, 5, 4)  # from a Saturday


def test_reminder_after_3_and_escalation_after_7_business_days_at_nine_local() -> None:
    pilot = make_pilot()
    assert reminder_due_at(pilot, P("2026-04")) == utc(2026, 5, 6, 9)
    assert escalation_due_at(pilot, P("2026-04")) == utc(2026, 5, 12, 9)


def test_nudges_keep_nine_local_across_the_new_york_spring_change() -> None:
    pilot = make_pilot(timezone=NEW_YORK)  # sent Mon 2 March (EST); DST starts Sunday 8 March
    assert checkin_due_at(pilot, P("2026-02")) == utc(2026, 3, 2, 14)
    assert reminder_due_at(pilot, P("2026-02")) == utc(2026, 3, 5, 14)  # Thu, still EST
    assert escalation_due_at(pilot, P("2026-02")) == utc(2026, 3, 11, 13)  # Wed, 09:00 EDT


def test_a_card_sent_late_counts_its_nudges_from_the_day_it_went_out() -> None:
    pilot = make_pilot()
    late = utc(2026, 5, 8, 15)  # the scheduler was down for a week
    assert reminder_due_at(pilot, P("2026-04"), late) == utc(2026, 5, 13, 9)
    assert escalation_due_at(pilot, P("2026-04"), late) == utc(2026, 5, 19, 9)
    assert reminder_due_at(pilot, P("2026-04"), utc(2026, 5, 1, 9)) == utc(2026, 5, 6, 9)  # on time: unchanged


def test_due_nudges_and_the_next_nudge_time() -> None:
    pilot = make_pilot()
    assert due_nudges(pilot, P("2026-04"), utc(2026, 5, 6, 8, 59)) == ()
    assert next_nudge_at(pilot, P("2026-04"), utc(2026, 5, 6, 8, 59)) == utc(2026, 5, 6, 9)
    assert due_nudges(pilot, P("2026-04"), utc(2026, 5, 6, 9)) == (REMINDER,)
    assert next_nudge_at(pilot, P("2026-04"), utc(2026, 5, 6, 9)) == utc(2026, 5, 12, 9)
    assert due_nudges(pilot, P("2026-04"), utc(2026, 5, 12, 9)) == (REMINDER, ESCALATION)
    assert next_nudge_at(pilot, P("2026-04"), utc(2026, 5, 12, 9)) is None


# --- reading the card back ----------------------------------------------------------------------------------------
GOOD = {
    "pilotId": "p-1",
    "period": "2026-04",
    "metric_0": "27.5",
    "metric_1": "",
    "status": "Amber",
    "activeUsers": "1,200",
    "spend": "$1,250.50",
    "blockers": "  Waiting for   DLP review  ",
    "notes": "",
}


def parse_checkin(values: dict[str, str], pilot: Pilot) -> ReadingDraft:
    return read(CheckinSubmission, {"pilotId": "p-1", **values}).to_draft(pilot)


def problems(values: dict[str, str]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as failed:
        parse_checkin(values, make_pilot())
    return failed.value.fields


def test_a_good_submission_becomes_a_reading_draft() -> None:
    draft = parse_checkin(GOOD, make_pilot())
    assert draft.period == Period(2026, 4)
    assert draft.values == {"Handling time": 27.5}  # a blank secondary metric is simply not reported
    assert draft.status is HealthStatus.AMBER
    assert draft.active_users == 1200
    assert draft.spend == 1250.5
    assert draft.blockers == "Waiting for DLP review"
    assert draft.notes == ""


def test_optional_fields_may_be_left_out() -> None:
    draft = parse_checkin({"period": "2026-04", "metric_0": "30", "metric_1": "90", "status": "green"}, make_pilot())
    assert draft.values == {"Handling time": 30.0, "Accuracy": 90.0}
    assert draft.active_users is None and draft.spend is None


@pytest.mark.parametrize("raw", ["abc", "nan", "inf", "-inf", "1e999", "1,5", "12,34,5", "1.2.3", "0x10"])
def test_a_metric_that_is_not_an_ordinary_number_is_refused_by_input_id(raw: str) -> None:
    found = problems({**GOOD, "metric_1": raw})
    assert set(found) == {"metric_1"}
    assert "Accuracy" in found["metric_1"]


def test_the_primary_metric_is_required() -> None:
    assert "Handling time" in problems({**GOOD, "metric_0": " "})["metric_0"]


def test_metric_values_beyond_the_bound_are_refused() -> None:
    assert "far too large" in problems({**GOOD, "metric_0": "2e12"})["metric_0"]
    assert parse_checkin({**GOOD, "metric_0": "-3"}, make_pilot()).values["Handling time"] == -3.0


@pytest.mark.parametrize(
    ("field", "raw", "words"),
    [
        ("status", "", "Choose an overall status"),
        ("status", "purple", "green, amber or red"),
        ("activeUsers", "12.5", "whole number"),
        ("activeUsers", "-1", "negative"),
        ("activeUsers", "20000000", "at most"),
        ("activeUsers", "many", "whole number"),
        ("spend", "-5", "negative"),
        ("spend", "2e12", "far too large"),
        ("spend", "lots", "amount"),
        ("blockers", "x" * (MAX_TEXT + 1), "under 2,000 characters"),
        ("notes", "y" * (MAX_TEXT + 5), "under 2,000 characters"),
        ("period", "2026-13", "no valid month"),
    ],
)
def test_each_bad_field_gets_a_friendly_sentence_under_its_input_id(field: str, raw: str, words: str) -> None:
    found = problems({**GOOD, field: raw})
    assert set(found) == {field}
    assert words in found[field]


def test_every_problem_is_reported_at_once() -> None:
    found = problems({"period": "2026-04", "metric_0": "x", "metric_1": "y", "status": "", "spend": "-1"})
    assert set(found) == {"metric_0", "metric_1", "status", "spend"}


def test_period_label_reads_as_a_month() -> None:
    assert period_label(Period(2026, 4)) == "April 2026"
