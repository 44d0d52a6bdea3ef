"""Business days that know public holidays: the calendar against the ``holidays`` package, the check-in day, the
nudges, the tenant's default country, and what a pilot may name as its country."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import holidays
import pytest

from governance.calendars import (
    is_valid_country,
    normalize_country,
    public_holidays,
    with_tenant_country,
)
from governance.checkin import checkin_send_date, escalation_due_at, reminder_due_at
from governance.errors import ValidationFailed
from governance.localtime import add_business_days, checkin_date, is_business_day, local_send_time
from governance.period import Period
from governance.rules import PilotDraft, validate_pilot
from tests.unit.test_checkin import make_pilot

COUNTRIES = ("US", "GB", "DE", "FR", "JP")


def days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("country", COUNTRIES)
def test_business_days_are_weekdays_that_are_not_the_countrys_public_holidays(country: str) -> None:
    calendar = holidays.country_holidays(country, years=2027)
    for day in days_of(2027):
        assert is_business_day(day, country) == (day.weekday() < 5 and day not in calendar), day
    assert public_holidays(country, 2027) == frozenset(calendar)


@pytest.mark.parametrize("country", COUNTRIES)
def test_each_month_starts_on_the_first_day_that_is_neither_weekend_nor_holiday(country: str) -> None:
    calendar = holidays.country_holidays(country, years=2027)
    for month in range(1, 13):
        day = checkin_date(2027, month, 1, country)
        assert day.weekday() < 5 and day not in calendar
        between = [date(2027, month, 1) + timedelta(days=n) for n in range((day - date(2027, month, 1)).days)]
        assert all(d.weekday() >= 5 or d in calendar for d in between)


def test_a_us_pilots_january_checkin_comes_on_monday_4_january_not_new_years_day() -> None:
    december = Period(2026, 12)
    assert checkin_send_date(make_pilot(), december) == date(2027, 1, 1)  # no country: weekends only
    assert checkin_send_date(make_pilot(country="US"), december) == date(2027, 1, 4)


def test_a_checkin_day_on_a_holiday_at_a_month_start_moves_past_every_holiday_in_a_row() -> None:
    april = Period(2027, 4)
    # Japan's Golden Week: 3, 4 and 5 May 2027 are holidays (Monday to Wednesday).
    assert checkin_send_date(make_pilot(country="JP"), april) == date(2027, 5, 6)
    assert checkin_send_date(make_pilot(country="GB"), april) == date(2027, 5, 4)  # Early May bank holiday
    assert checkin_send_date(make_pilot(country="DE"), april) == date(2027, 5, 3)  # 1 May is a Saturday anyway
    # A chosen day (the 6th) that is Ascension Day in Germany moves to the next business day.
    assert checkin_date(2027, 5, 6, "DE") == date(2027, 5, 7)
    assert checkin_date(2027, 5, 6, None) == date(2027, 5, 6)


def test_nudges_count_business_days_past_holidays() -> None:
    # Germany: the April card goes out on Monday 3 May 2027; Thursday 6 May is Ascension Day.
    assert add_business_days(date(2027, 5, 3), 3, "DE") == date(2027, 5, 7)
    assert add_business_days(date(2027, 5, 3), 3) == date(2027, 5, 6)
    pilot = make_pilot(country="DE", timezone="Europe/Berlin")
    april = Period(2027, 4)
    assert reminder_due_at(pilot, april) == local_send_time(date(2027, 5, 7), "Europe/Berlin")
    # 7 business days: 4, 5, 7, 10, 11, 12, 13 May (Whit Monday, the 17th, is later).
    assert escalation_due_at(pilot, april) == local_send_time(date(2027, 5, 13), "Europe/Berlin")


def test_a_pilot_without_a_country_follows_the_tenant_default_and_its_own_country_wins() -> None:
    december = Period(2026, 12)
    follows = with_tenant_country(make_pilot(), "US")
    assert follows.holiday_country == "US" and checkin_send_date(follows, december) == date(2027, 1, 4)
    own = with_tenant_country(make_pilot(country="JP"), "US")
    assert own.holiday_country == "JP"
    assert checkin_send_date(own, Period(2027, 4)) == date(2027, 5, 6)  # Japan's Golden Week, not the US calendar
    assert with_tenant_country(make_pilot(), None).holiday_country is None


def test_the_tenant_default_is_never_stored_or_compared() -> None:
    pilot = make_pilot()
    assert with_tenant_country(pilot, "US") == pilot  # the same pilot, whatever calendar it was read with


def test_country_codes_are_checked_and_tidied() -> None:
    assert normalize_country(" de ") == "DE" and normalize_country("") is None and normalize_country(None) is None
    assert is_valid_country("US") and is_valid_country("JP")
    for bad in ("us", "XX", "USA", "U1", "", "ÜS"):
        assert not is_valid_country(bad), bad


def test_a_pilot_with_an_unknown_country_is_refused_naming_the_field() -> None:
    pilot = make_pilot()
    draft = PilotDraft(
        name=pilot.name,
        sponsor=pilot.sponsor,
        metrics=pilot.metrics,
        start_date=pilot.start_date,
        gate_date=pilot.gate_date,
        country="XX",
    )
    with pytest.raises(ValidationFailed) as failed:
        validate_pilot(draft)
    assert set(failed.value.fields) == {"country"} and "ISO" in failed.value.fields["country"]
    validate_pilot(replace(draft, country="FR"))  # no error


def test_calendars_are_built_once_per_country_and_year() -> None:
    public_holidays.cache_clear()
    for _ in range(3):
        public_holidays("FR", 2027)
        is_business_day(date(2027, 7, 14), "FR")
    info = public_holidays.cache_info()
    assert info.misses == 1 and info.hits >= 5
    assert public_holidays("FR", 3000) == frozenset()  # no calendar for a year nobody can schedule in
