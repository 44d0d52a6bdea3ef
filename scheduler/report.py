"""The monthly report to the leadership channel, on the tenant's report day, through the send-log like every other
scheduled message (under the tenant's own subject, governance.leadership.tenant_subject).

When it is due is governance.leadership's; the figures are the report builder's; this planner only reads what it
needs and composes the card. A failed send stays due and is retried by the sweep; a second tick or replica finds the
claim and sends nothing.
"""

from __future__ import annotations

from datetime import datetime

from cards.report import report_card
from governance.leadership import (
    ReportLinks,
    ReportSource,
    due_report_period,
    next_report_at,
    no_links,
    report_log_key,
    tenant_subject,
)
from governance.model import ChannelLink, ConversationRef
from governance.period import Period
from governance.ports import ConversationRepository, SendLog, TenantSettingsRepository
from scheduler.recipients import channel_target
from scheduler.sweep import DONE, Job, Message, Plan


class ReportPlanner:
    def __init__(
        self,
        tenants: TenantSettingsRepository,
        sendlog: SendLog,
        conversations: ConversationRepository,
        reports: ReportSource,
        links: ReportLinks = no_links,
    ) -> None:
        self._tenants = tenants
        self._sendlog = sendlog
        self._conversations = conversations
        self._reports = reports
        self._links = links

    async def __call__(self, tenant_id: str, now: datetime) -> Plan:
        settings = await self._tenants.get(tenant_id)
        channel = settings.leadership_channel
        if channel is None:  # unlinked: the tenant leaves the agenda
            return Plan((), ())
        later = (next_report_at(settings, now),)
        period = due_report_period(settings, now)
        if period is None:
            return Plan((), later)
        log = await self._sendlog.get(tenant_subject(tenant_id), report_log_key(period))
        if log is not None and log.status in DONE:
            return Plan((), later)
        return Plan((self._job(tenant_id, period, channel),), later)

    def _job(self, tenant_id: str, period: Period, channel: ChannelLink) -> Job:
        async def compose() -> Message:
            report = await self._reports(tenant_id, period, None)
            return Message(card=report_card(report, self._links(tenant_id, period)))

        async def to(now: datetime) -> ConversationRef:
            return await channel_target(tenant_id, channel, self._conversations)

        return Job(report_log_key(period), "leadership", compose, to=to)
