"""The monthly report to leadership: which channel gets it, on which day, and who may read which report.

The report for a month goes out on the tenant's report day of the following month: the n-th business day
(``TenantSettings.report_business_day``, default 5), at 09:00 in ``report_timezone`` (default UTC). Business days
and the 09:00 send time are governance.localtime's. It is sent through the scheduler's send-log like every other
scheduled message, under a tenant-scoped key (``tenant_subject``), so it goes out exactly once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from governance.conflicts import retry_on_conflict
from governance.errors import AdminsOnly, ValidationFailed
from governance.localtime import add_business_days, local_date, local_send_time
from governance.model import AgendaEntry, ChannelLink, Person, TenantSettings
from governance.period import Period
from governance.ports import Agenda, Clock, TenantSettingsRepository
from governance.report import MonthlyReport
from governance.rules import is_valid_timezone
from governance.services import Actor

TENANT_SUBJECT_PREFIX: Final = "tenant:"
REPORT_KIND: Final = "report"
MIN_REPORT_DAY: Final = 1
# Every month has at least 20 business days; 15 leaves room for public holidays and keeps the report in its month.
MAX_REPORT_DAY: Final = 15

# The report for a tenant and month, for everyone (sponsor None) or for one sponsor's own pilots.
ReportSource = Callable[[str, Period, Person | None], Awaitable[MonthlyReport]]
# A signed link to the report's full page for (tenant, period), or None when links are off (no REPORT_LINK_SECRET).
ReportLinks = Callable[[str, Period], str | None]


def no_links(tenant_id: str, period: Period) -> str | None:
    return None


def tenant_subject(tenant_id: str) -> str:
    """The send-log partition and agenda id of a tenant's own scheduled messages (pilot ids never contain ':')."""
    return f"{TENANT_SUBJECT_PREFIX}{tenant_id}"


def tenant_of_subject(subject: str) -> str | None:
    return subject.removeprefix(TENANT_SUBJECT_PREFIX) if subject.startswith(TENANT_SUBJECT_PREFIX) else None


def report_log_key(period: Period) -> str:
    """The send-log key of the report *about* ``period`` (sent in the month after it)."""
    return f"{REPORT_KIND}:{period}"


def report_send_time(settings: TenantSettings, month: Period) -> datetime:
    """09:00 local on the report day of ``month`` (the n-th business day), in UTC."""
    # Business days of the tenant's default holiday calendar (governance.calendars), as the pilots' check-ins use.
    day = add_business_days(month.first_day - timedelta(days=1), settings.report_business_day, settings.default_country)
    return local_send_time(day, settings.report_timezone)


def due_report_period(settings: TenantSettings, now: datetime) -> Period | None:
    """The month whose report is due at ``now``: last month once this month's report time has come, else none."""
    month = Period.of(local_date(now, settings.report_timezone))
    return month.previous if now >= report_send_time(settings, month) else None


def next_report_at(settings: TenantSettings, now: datetime) -> datetime:
    """The first report time after ``now``."""
    month = Period.of(local_date(now, settings.report_timezone))
    this_month = report_send_time(settings, month)
    return this_month if now < this_month else report_send_time(settings, month.next)


def validate_report_day(day: int) -> None:
    if not MIN_REPORT_DAY <= day <= MAX_REPORT_DAY:
        raise ValidationFailed(
            {
                "reportBusinessDay": f"The report day is a business day of the month from {MIN_REPORT_DAY} to "
                f"{MAX_REPORT_DAY}."
            }
        )


def validate_report_timezone(timezone: str) -> None:
    if not is_valid_timezone(timezone):
        raise ValidationFailed(
            {"reportTimezone": "That is not a time zone I know: use an IANA name such as Europe/Paris."}
        )


@dataclass(frozen=True, slots=True)
class ReportScope:
    """What a person may read with `report`: the whole portfolio, one sponsor's own pilots, or nothing."""

    whole: bool
    sponsor: Person | None = None

    @property
    def allowed(self) -> bool:
        return self.whole or self.sponsor is not None


def report_scope(actor: Actor, in_leadership_channel: bool, sponsors_a_pilot: bool) -> ReportScope:
    """Admins and the leadership channel read the whole portfolio; a sponsor their own pilots; anyone else nothing."""
    if actor.is_admin or in_leadership_channel:
        return ReportScope(whole=True)
    if sponsors_a_pilot:
        return ReportScope(whole=False, sponsor=actor.person)
    return ReportScope(whole=False)


class LeadershipService:
    """An admin's settings for the report: the leadership channel, the report day and its time zone.

    Each change moves the tenant's agenda entry to the next report time first (a lost settings write then costs
    one look at the agenda, never a report), then saves the settings with their ETag, retried on a lost race.
    """

    def __init__(self, tenants: TenantSettingsRepository, agenda: Agenda, clock: Clock) -> None:
        self._tenants = tenants
        self._agenda = agenda
        self._clock = clock

    async def settings(self, tenant_id: str) -> TenantSettings:
        return await self._tenants.get(tenant_id)

    async def link_channel(self, tenant_id: str, channel: ChannelLink, actor: Actor) -> TenantSettings:
        def linked(settings: TenantSettings) -> TenantSettings:
            return dataclasses.replace(settings, leadership_channel=channel)

        return await self._change(tenant_id, actor, "link the leadership channel", linked)

    async def set_report_day(self, tenant_id: str, day: int, actor: Actor) -> TenantSettings:
        validate_report_day(day)

        def on_day(settings: TenantSettings) -> TenantSettings:
            return dataclasses.replace(settings, report_business_day=day)

        return await self._change(tenant_id, actor, "set the report day", on_day)

    async def set_report_timezone(self, tenant_id: str, timezone: str, actor: Actor) -> TenantSettings:
        validate_report_timezone(timezone)

        def in_zone(settings: TenantSettings) -> TenantSettings:
            return dataclasses.replace(settings, report_timezone=timezone)

        return await self._change(tenant_id, actor, "set the report time zone", in_zone)

    async def _change(
        self, tenant_id: str, actor: Actor, action: str, change: Callable[[TenantSettings], TenantSettings]
    ) -> TenantSettings:
        if not actor.is_admin:
            raise AdminsOnly(action)
        now = self._clock.now()
        preview = change(await self._tenants.get(tenant_id))
        if preview.leadership_channel is not None:
            await self._agenda.set(AgendaEntry(tenant_subject(tenant_id), tenant_id, next_report_at(preview, now)))

        async def attempt() -> TenantSettings:
            changed = change(await self._tenants.get(tenant_id))
            stamped = dataclasses.replace(changed, updated_by=actor.aad_object_id, updated_at=now)
            return await self._tenants.save(stamped)

        return await retry_on_conflict(attempt, gave_up="The report settings kept changing; try again.")
