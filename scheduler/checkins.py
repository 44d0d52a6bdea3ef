"""Monthly check-ins: the card to the sponsor (and/or the pilot's lead, governance.lead), one reminder to each after
3 business days, one channel post after 7; and the sponsor's "Confirm or correct" card for values the lead wrote.

When each is due is governance.checkin's CheckinState; this planner only reads what it needs and composes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime

from cards.checkin import checkin_card, checkin_reminder_text, overdue_channel_card
from cards.lead import confirmation_card
from governance.calendars import read_tenant_country
from governance.checkin import (
    ESCALATION,
    REMINDER,
    CheckinState,
    checkin_log_key,
    checkin_state,
    due_checkin_period,
    next_checkin_at,
    nudge_log_key,
)
from governance.corrections import correctable_periods
from governance.decisions import retirement_date
from governance.errors import DeliveryFailed, Undeliverable
from governance.lead import SPONSOR, Audience, checkin_audiences, confirm_log_key, needs_confirmation
from governance.localtime import local_date
from governance.model import MetricReading, Pilot, SendStatus
from governance.period import Period
from governance.ports import (
    ConversationRepository,
    DecisionRepository,
    Messenger,
    ReadingRepository,
    SendLog,
    TenantSettingsRepository,
)
from scheduler.sweep import DONE, Job, Message, Plan

logger = logging.getLogger(__name__)

Compose = Callable[[], Awaitable[Message]]


class CheckinPlanner:
    def __init__(
        self,
        readings: ReadingRepository,
        decisions: DecisionRepository,
        sendlog: SendLog,
        tenants: TenantSettingsRepository | None = None,
    ) -> None:
        self._readings = readings
        self._decisions = decisions
        self._sendlog = sendlog
        self._tenants = tenants  # the tenant's default holiday calendar, for pilots that name no country

    async def __call__(self, pilot: Pilot, now: datetime) -> Plan:
        pilot = await read_tenant_country(pilot, self._tenants)
        retired_on = None
        if not pilot.stage.is_active:
            retired_on = retirement_date(await self._decisions.list_for(pilot.id))
        later: list[datetime] = []
        upcoming = next_checkin_at(pilot, now, retired_on=retired_on)
        if upcoming is not None:
            later.append(upcoming)
        confirmations = await self._confirmations(pilot, now)
        period = due_checkin_period(pilot, now, retired_on=retired_on)
        if period is None or await self._readings.get(pilot.id, period) is not None:
            return Plan(confirmations, tuple(later))
        hold = pilot.hold_for(period)
        if hold is not None and hold.skipped:  # the month was skipped: nothing more is asked
            return Plan(confirmations, tuple(later))

        jobs: list[Job] = list(confirmations)
        audiences = checkin_audiences(pilot)
        for audience in audiences:  # each recipient's card and reminder has its own send-log key: each goes once
            log = await self._sendlog.get(pilot.id, checkin_log_key(period, audience))
            if log is None or log.status not in DONE:
                jobs.append(self._checkin_job(pilot, period, audience))
                # Nudges count from the day the card really goes out: look again at the reminder time.
                reminder = checkin_state(pilot, now, (), sent_at=now, retired_on=retired_on).next_nudge_at
                later += [reminder] if reminder else []
                continue
            if log.status is not SendStatus.SENT:
                continue
            state = checkin_state(pilot, now, (), sent_at=log.sent_at, retired_on=retired_on)
            for nudge in state.due_nudges:
                if nudge == REMINDER:
                    key = nudge_log_key(REMINDER, period, audience, state.remind_on)
                    jobs.append(Job(key, audience, self._reminder(state)))
                elif audience == audiences[0] and pilot.channel is not None:  # once, without a channel `overdue`
                    jobs.append(Job(nudge_log_key(ESCALATION, period), "channel", self._escalation(state, now)))
            if state.next_nudge_at is not None:
                later.append(state.next_nudge_at)
        return Plan(tuple(jobs), tuple(later))

    async def _confirmations(self, pilot: Pilot, now: datetime) -> tuple[Job, ...]:
        """The sponsor's "Confirm or correct" card for each recent month whose values the lead wrote (once per
        version of the values: a later correction by the lead asks again)."""
        if pilot.lead is None:
            return ()
        jobs: list[Job] = []
        for period in correctable_periods(pilot, local_date(now, pilot.timezone)):
            reading = await self._readings.get(pilot.id, period)
            if reading is not None and needs_confirmation(pilot, reading):
                jobs.append(Job(confirm_log_key(reading), SPONSOR, _confirmation(pilot, reading)))
        return tuple(jobs)

    def _checkin_job(self, pilot: Pilot, period: Period, audience: Audience = SPONSOR) -> Job:
        async def compose() -> Message:
            last = await self._readings.get(pilot.id, period.previous)
            return Message(card=checkin_card(pilot, period, last, {}, {}))

        return Job(checkin_log_key(period, audience), audience, compose)

    @staticmethod
    def _reminder(state: CheckinState) -> Compose:
        period, sent = _due(state)

        async def compose() -> Message:
            return Message(text=checkin_reminder_text(state.pilot, period, sent, asked=state.remind_on is not None))

        return compose

    @staticmethod
    def _escalation(state: CheckinState, now: datetime) -> Compose:
        period, sent = _due(state)

        async def compose() -> Message:
            return Message(card=overdue_channel_card(state.pilot, period, now, sent))

        return compose


def _confirmation(pilot: Pilot, reading: MetricReading) -> Compose:
    async def compose() -> Message:
        return Message(card=confirmation_card(pilot, reading))

    return compose


def _due(state: CheckinState) -> tuple[Period, date | None]:
    assert state.period is not None  # only open check-ins are nudged
    return state.period, state.sent_on


class CheckinCardUpdater:
    """A reading that arrives another way (REST API, another device) turns the sent card into 'already received'."""

    def __init__(
        self,
        readings: ReadingRepository,
        sendlog: SendLog,
        conversations: ConversationRepository,
        messenger: Messenger,
    ) -> None:
        self._readings = readings
        self._sendlog = sendlog
        self._conversations = conversations
        self._messenger = messenger

    async def reading_received(self, pilot: Pilot, reading: MetricReading) -> None:
        for audience in checkin_audiences(pilot):
            await self._mark_received(pilot, reading, audience)

    async def _mark_received(self, pilot: Pilot, reading: MetricReading, audience: Audience) -> None:
        log = await self._sendlog.get(pilot.id, checkin_log_key(reading.period, audience))
        if log is None or log.status is not SendStatus.SENT or not log.activity_id:
            return
        target = await self._conversations.get(pilot.tenant_id, log.conversation_id)
        if target is None:
            return
        last = await self._readings.get(pilot.id, reading.period.previous)
        card = checkin_card(pilot, reading.period, last, {}, {}, received=reading)
        try:
            await self._messenger.update(target, log.activity_id, card=card)
        except (DeliveryFailed, Undeliverable) as exc:  # the reading is stored; the old card is only cosmetic
            logger.warning("could not mark the check-in card of pilot %s as received: %s", pilot.id, exc.message)
