"""The quarterly audit's messages: one attestation card per initiative to its sponsor, then a nudge after 3 and
after 7 business days while it is not attested, each through the send-log like every scheduled message.

The card's send-log key is ``audit:<quarter>``, the nudges' ``audit:<quarter>:nudge3`` and ``:nudge7``; the nudges
count from the day the card really went out (its send-log record), in the pilot's time zone, in business days of its
holiday calendar (its country, else the tenant's). Only the latest nudge due is sent: a sweep that was down for a
week sends one reminder, not two.
"""

from __future__ import annotations

from datetime import datetime

from cards.audit import attestation_card
from governance.calendars import read_tenant_country
from governance.model import Pilot, SendStatus
from governance.ports import QuarterlyAuditRepository, SendLog, TenantSettingsRepository
from governance.quarterly_audit import NUDGE_DAYS, attestation_due_times, card_log_key, nudge_log_key
from scheduler.sweep import Job, Message, Plan


class AuditPlanner:
    def __init__(
        self, audits: QuarterlyAuditRepository, sendlog: SendLog, tenants: TenantSettingsRepository | None = None
    ) -> None:
        self._audits = audits
        self._sendlog = sendlog
        self._tenants = tenants  # the tenant's default holiday calendar, for pilots that name no country

    async def __call__(self, pilot: Pilot, now: datetime) -> Plan:
        audit = await self._audits.open_for(pilot.tenant_id)
        item = audit.item(pilot.id) if audit is not None else None
        if audit is None or item is None or item.attestation is not None:
            return Plan((), ())

        async def compose(nudge: bool = False) -> Message:
            return Message(card=attestation_card(audit, item, reminder=nudge))

        async def compose_nudge() -> Message:
            return await compose(nudge=True)

        country = (await read_tenant_country(pilot, self._tenants)).country
        sent = await self._sendlog.get(pilot.id, card_log_key(audit))
        if sent is None or sent.status is not SendStatus.SENT or sent.sent_at is None:
            # Look again when the nudges would be due if the card goes out now (a retry brings its own time).
            return Plan(
                (Job(card_log_key(audit), "sponsor", compose),), attestation_due_times(now, item.timezone, country)
            )
        times = attestation_due_times(sent.sent_at, item.timezone, country)
        due = [days for days, at in zip(NUDGE_DAYS, times, strict=True) if at <= now]
        later = tuple(at for at in times if at > now)
        if not due:
            return Plan((), later)
        return Plan((Job(nudge_log_key(audit, due[-1]), "sponsor", compose_nudge),), later)
