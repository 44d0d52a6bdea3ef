"""The report day: the n-th business day of the month at 09:00 in the tenant's report time zone, across month
ends, year ends and daylight-saving changes; and who may read which report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from governance.errors import ValidationFailed
from governance.leadership import (
    due_report_period,
    next_report_at,
    report_scope,
    report_send_time,
    tenant_of_subject,
    tenant_subject,
    validate_report_day,
    validate_report_timezone,
)
from governance.model import TenantSettings
from governance.period import Period
from governance.services import Actor


def settings(day: int = 5, zone: str = "UTC") -> TenantSettings:
    return TenantSettings("t-1", report_business_day=day, report_timezone=zone)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tenant", "month", "expected"),
    [
        # December 2026 starts on a Tuesday: 1, 2, 3, 4, 7.
        (settings(), Period(2026, 12), utc(2026, 12, 7, 9)),
        # August 2026 starts on a Saturday: the first business day is Monday the 3rd.
        (settings(1), Period(2026, 8), utc(2026, 8, 3, 9)),
        # January 2027 starts on a Friday: 1, 4, 5, 6, 7.
        (settings(), Period(2027, 1), utc(2027, 1, 7, 9)),
        # Paris: winter time (UTC+1) in March before the 29th, summer time (UTC+2) in April.
        (settings(zone="Europe/Paris"), Period(2026, 3), utc(2026, 3, 6, 8)),
        (settings(zone="Europe/Paris"), Period(2026, 4), utc(2026, 4, 7, 7)),
        # New York: daylight time in October (UTC-4), standard time from 1 November (UTC-5).
        (settings(zone="America/New_York"), Period(2026, 10), utc(2026, 10, 7, 13)),
        (settings(zone="America/New_York"), Period(2026, 11), utc(2026, 11, 6, 14)),
        # Auckland (UTC+13 in February): 09:00 on Monday 1 February is still 31 January in UTC.
        (settings(1, "Pacific/Auckland"), Period(2027, 2), utc(2027, 1, 31, 20)),
        (settings(15), Period(2026, 2), utc(2026, 2, 20, 9)),
    ],
)
def test_report_time_is_09_00_local_on_the_nth_business_day(
    tenant: TenantSettings, month: Period, expected: datetime
) -> None:
    assert report_send_time(tenant, month) == expected


def test_the_report_due_is_last_months_from_the_report_time_on() -> None:
    tenant = settings()
    assert due_report_period(tenant, utc(2026, 12, 7, 8, 59)) is None
    assert due_report_period(tenant, utc(2026, 12, 7, 9)) == Period(2026, 11)
    assert due_report_period(tenant, utc(2026, 12, 31, 23, 59)) == Period(2026, 11)
    # Across the year end.
    assert due_report_period(tenant, utc(2027, 1, 6, 12)) is None
    assert due_report_period(tenant, utc(2027, 1, 7, 9)) == Period(2026, 12)


def test_the_local_month_decides_across_a_utc_month_end() -> None:
    tenant = settings(1, "Pacific/Auckland")
    assert due_report_period(tenant, utc(2027, 1, 31, 19, 59)) is None  # 08:59 on 1 February in Auckland
    assert due_report_period(tenant, utc(2027, 1, 31, 20)) == Period(2027, 1)  # 09:00: January's report


def test_next_report_at_is_this_months_until_it_passes_then_next_months() -> None:
    tenant = settings(zone="Europe/Paris")
    assert next_report_at(tenant, utc(2026, 3, 6, 7, 59)) == utc(2026, 3, 6, 8)
    assert next_report_at(tenant, utc(2026, 3, 6, 8)) == utc(2026, 4, 7, 7)  # summer time by then


def test_a_dst_change_neither_moves_nor_repeats_the_report() -> None:
    """Hour by hour through a year in New York: the report is due from one moment each month, always 09:00 local."""
    tenant = settings(zone="America/New_York")
    moment, seen = utc(2026, 1, 1), []
    previous = due_report_period(tenant, moment)
    while moment < utc(2027, 1, 1):
        moment += timedelta(hours=1)
        due = due_report_period(tenant, moment)
        if due != previous and due is not None:
            seen.append((due, moment.astimezone(ZoneInfo(tenant.report_timezone)).hour))
        previous = due
    assert [hour for _, hour in seen] == [9] * 12
    assert [str(period) for period, _ in seen] == [str(Period(2025, 12).plus(k)) for k in range(12)]


def test_report_settings_are_validated_with_the_rule_homes() -> None:
    validate_report_day(1)
    validate_report_day(15)
    for bad in (0, 16, -1):
        with pytest.raises(ValidationFailed) as caught:
            validate_report_day(bad)
        assert "reportBusinessDay" in caught.value.fields
    validate_report_timezone("Europe/Paris")
    with pytest.raises(ValidationFailed) as caught:
        validate_report_timezone("Mars/Olympus")
    assert "reportTimezone" in caught.value.fields


def test_tenant_subjects_do_not_collide_with_pilot_ids() -> None:
    assert tenant_subject("t-1") == "tenant:t-1"
    assert tenant_of_subject("tenant:t-1") == "t-1"
    assert tenant_of_subject("p-1") is None


def test_who_reads_which_report() -> None:
    admin, sponsor = Actor("a", "Admin", is_admin=True), Actor("s", "Sam")
    assert report_scope(admin, False, False).whole
    assert report_scope(Actor("x"), True, False).whole  # in the leadership channel
    own = report_scope(sponsor, False, True)
    assert not own.whole and own.sponsor is not None and own.sponsor.aad_object_id == "s"
    assert not report_scope(Actor("x"), False, False).allowed


def test_the_report_day_skips_the_tenants_public_holidays() -> None:
    """January 2027 in the US: Friday 1 is New Year's Day, Monday 18 is MLK Day. The 5th business day is Friday 8
    on the holiday calendar (4, 5, 6, 7, 8), Thursday 7 without it (1, 4, 5, 6, 7)."""
    from datetime import UTC, datetime

    from governance.leadership import report_send_time
    from governance.model import TenantSettings
    from governance.period import Period

    january = Period.parse("2027-01")
    assert report_send_time(TenantSettings("t"), january) == datetime(2027, 1, 7, 9, tzinfo=UTC)
    assert report_send_time(TenantSettings("t", default_country="US"), january) == datetime(2027, 1, 8, 9, tzinfo=UTC)
