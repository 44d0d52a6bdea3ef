"""A closed quarterly audit's summary to the leadership channel, through the send-log like every other scheduled
message (under the tenant's own subject, governance.leadership.tenant_subject): closing the audit puts the tenant on
the agenda, and the next sweep posts the summary once, however many admins pressed Close, replicas ticked, or times
Teams failed before it got through."""

from __future__ import annotations

from datetime import datetime

from governance.audit_service import latest_closed_audit
from governance.leadership import tenant_subject
from governance.model import ChannelLink, ConversationRef
from governance.ports import ConversationRepository, QuarterlyAuditRepository, SendLog, TenantSettingsRepository
from governance.quarterly_audit import QuarterlyAudit, summary_of, summary_text
from scheduler.recipients import channel_target
from scheduler.sweep import DONE, Job, Message, Plan


def audit_summary_log_key(audit: QuarterlyAudit) -> str:
    """One summary per audit; the audit id is ``tenant:quarter``, and the send-log is partitioned by tenant already."""
    return f"audit-summary:{audit.quarter}"


class AuditSummaryPlanner:
    def __init__(
        self,
        tenants: TenantSettingsRepository,
        audits: QuarterlyAuditRepository,
        sendlog: SendLog,
        conversations: ConversationRepository,
    ) -> None:
        self._tenants = tenants
        self._audits = audits
        self._sendlog = sendlog
        self._conversations = conversations

    async def __call__(self, tenant_id: str, now: datetime) -> Plan:
        channel = (await self._tenants.get(tenant_id)).leadership_channel
        if channel is None:  # no leadership channel: the board and the record are where the outcome is read
            return Plan((), ())
        audit = await latest_closed_audit(self._audits, tenant_id)
        if audit is None:
            return Plan((), ())
        log = await self._sendlog.get(tenant_subject(tenant_id), audit_summary_log_key(audit))
        if log is not None and log.status in DONE:
            return Plan((), ())
        return Plan((self._job(tenant_id, audit, channel),), ())

    def _job(self, tenant_id: str, audit: QuarterlyAudit, channel: ChannelLink) -> Job:
        async def compose() -> Message:
            return Message(text=summary_text(summary_of(audit)))

        async def to(now: datetime) -> ConversationRef:
            return await channel_target(tenant_id, channel, self._conversations)

        return Job(audit_summary_log_key(audit), "leadership", compose, to=to)
