"""Monthly check-ins: the card to the sponsor, one reminder after 3 business days, one channel post after 7."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime

from cards.checkin import checkin_card, checkin_reminder_text, overdue_channel_card
from governance import checkin
from governance.errors import DeliveryFailed, Undeliverable
from governance.gate import retirement_date
from governance.model import MetricReading, Pilot, SendStatus
from governance.ports import ConversationRepository, DecisionRepository, Messenger, ReadingRepository, SendLog
from governance.rules import local_date, previous_period
from scheduler.sweep import DONE, Job, Message, Plan

logger = logging.getLogger(__name__)

Compose = Callable[[], Awaitable[Message]]


def checkin_key(period: str) -> str:
    return f"checkin:{period}"


class CheckinPlanner:
    def __init__(self, readings: ReadingRepository, decisions: DecisionRepository, sendlog: SendLog) -> None:
        self._readings = readings
        self._decisions = decisions
        self._sendlog = sendlog

    async def __call__(self, pilot: Pilot, now: datetime) -> Plan:
        retired_on = None
        if not pilot.stage.is_active:
            retired_on = retirement_date(await self._decisions.list_for(pilot.id))
        later: list[datetime] = []
        upcoming = checkin.next_checkin_at(pilot, now, retired_on=retired_on)
        if upcoming is not None:
            later.append(upcoming)
        period = checkin.due_checkin_period(pilot, now, retired_on=retired_on)
        if period is not None and pilot.created_at and checkin.checkin_due_at(pilot, period) < pilot.created_at:
            period = None  # check-ins start with the first check-in day after registration: no backlog burst
        if period is None or await self._readings.get(pilot.id, period) is not None:
            return Plan((), tuple(later))

        log = await self._sendlog.get(pilot.id, checkin_key(period))
        if log is None or log.status not in DONE:
            # Nudges count from the day the card really goes out: look again at the reminder time.
            later.append(checkin.reminder_due_at(pilot, period, now))
            return Plan((self._checkin_job(pilot, period),), tuple(later))

        jobs: list[Job] = []
        if log.status is SendStatus.SENT:
            sent_on = local_date(log.sent_at, pilot.timezone) if log.sent_at else None
            for nudge in checkin.due_nudges(pilot, period, now, log.sent_at):
                if nudge == checkin.REMINDER:
                    jobs.append(Job(f"reminder:{period}", "sponsor", self._reminder(pilot, period, sent_on)))
                elif pilot.channel is not None:  # without a project channel, `overdue` shows it instead
                    jobs.append(Job(f"escalation:{period}", "channel", self._escalation(pilot, period, now, sent_on)))
            nudge_at = checkin.next_nudge_at(pilot, period, now, log.sent_at)
            if nudge_at is not None:
                later.append(nudge_at)
        return Plan(tuple(jobs), tuple(later))

    def _checkin_job(self, pilot: Pilot, period: str) -> Job:
        async def compose() -> Message:
            last = await self._readings.get(pilot.id, previous_period(period))
            return Message(card=checkin_card(pilot, period, last, {}, {}))

        return Job(checkin_key(period), "sponsor", compose)

    @staticmethod
    def _reminder(pilot: Pilot, period: str, sent_on: date | None) -> Compose:
        async def compose() -> Message:
            return Message(text=checkin_reminder_text(pilot, period, sent_on))

        return compose

    @staticmethod
    def _escalation(pilot: Pilot, period: str, now: datetime, sent_on: date | None) -> Compose:
        async def compose() -> Message:
            return Message(card=overdue_channel_card(pilot, period, now, sent_on))

        return compose


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
        log = await self._sendlog.get(pilot.id, checkin_key(reading.period))
        if log is None or log.status is not SendStatus.SENT or not log.activity_id:
            return
        target = await self._conversations.get(pilot.tenant_id, log.conversation_id)
        if target is None:
            return
        last = await self._readings.get(pilot.id, previous_period(reading.period))
        card = checkin_card(pilot, reading.period, last, {}, {}, received=reading)
        try:
            await self._messenger.update(target, log.activity_id, card=card)
        except (DeliveryFailed, Undeliverable) as exc:  # the reading is stored; the old card is only cosmetic
            logger.warning("could not mark the check-in card of pilot %s as received: %s", pilot.id, exc.message)
