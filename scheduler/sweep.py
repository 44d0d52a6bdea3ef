"""The due-work sweep: a function of ``now`` that is safe to run twice, or on two replicas at once.

It reads only the agenda entries that are due, plans each pilot's messages (monthly check-in, reminder, channel
escalation, gate milestones), and sends each through the send-log: a message is claimed by creating its send-log
document with a conditional write before it is sent, so a second tick or a second replica finds it claimed and
skips it. A claim whose sender died is taken over after ``lease``; a failed send stays due (status retry) and the
pilot's agenda entry comes back at the retry time, so nothing is lost.

The one window left: a replica that dies after Teams accepted the message but before it recorded "sent" leaves a
pending claim that is re-sent after the lease; Teams offers no idempotency key to close it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from governance.errors import AlreadyExists, ConcurrencyConflict, DeliveryFailed, Undeliverable
from governance.model import AgendaEntry, ConversationKind, ConversationRef, Pilot, SendRecord, SendStatus
from governance.portfolio import Reach, sponsor_reach
from governance.ports import (
    Agenda,
    Card,
    Clock,
    ConversationRepository,
    DecisionRepository,
    MemberRepository,
    Messenger,
    PilotRepository,
    ReadingRepository,
    SendLog,
)

logger = logging.getLogger(__name__)

DONE = frozenset({SendStatus.SENT, SendStatus.SKIPPED})


@dataclass(frozen=True, slots=True)
class Message:
    card: Card | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """One message a pilot is due: ``key`` names it in the send-log, ``compose`` builds it when it is sent."""

    key: str
    audience: str  # "sponsor" or "channel"
    compose: Callable[[], Awaitable[Message]]


@dataclass(frozen=True, slots=True)
class Plan:
    jobs: tuple[Job, ...]
    later: tuple[datetime, ...]  # when this pilot next has work, as far as the planner knows


Planner = Callable[[Pilot, datetime], Awaitable[Plan]]


@dataclass
class TickReport:
    due: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    undeliverable: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class SweepPorts:
    pilots: PilotRepository
    readings: ReadingRepository
    decisions: DecisionRepository
    conversations: ConversationRepository
    members: MemberRepository
    sendlog: SendLog
    agenda: Agenda
    messenger: Messenger


class Sweep:
    def __init__(
        self,
        ports: SweepPorts,
        planners: list[Planner],
        clock: Clock,
        *,
        lease: timedelta = timedelta(minutes=10),
        retry_after: timedelta = timedelta(minutes=5),
        unreachable_retry: timedelta = timedelta(hours=6),
        concurrency: int = 256,
        per_tenant: int = 32,
        ramp_s: float = 0.01,
    ) -> None:
        self._ports = ports
        self._planners = planners
        self._clock = clock
        self._lease = lease
        self._retry_after = retry_after
        self._unreachable_retry = unreachable_retry
        self._concurrency = concurrency
        self._per_tenant = per_tenant
        self._ramp_s = ramp_s

    async def tick(self, now: datetime | None = None) -> TickReport:
        now = now or self._clock.now()
        report = TickReport()
        due = await self._ports.agenda.due(now)
        report.due = len(due)
        # Teams limits each tenant on its own, so each tenant gets its own lane of up to `per_tenant` workers. One
        # queue in the agenda's order let one tenant's pilots fill every slot whenever the due pilots came tenant by
        # tenant (a backlog comes sorted by due time): 3 tenants then sent at 1.1 times the rate of one. 32 keep a
        # tenant's ~50/s busy while Teams takes up to half a second to answer; more only wait in the sender's pacer.
        lanes: dict[str, deque[AgendaEntry]] = defaultdict(deque)
        for entry in due:
            lanes[entry.tenant_id].append(entry)
        gate = asyncio.Semaphore(self._concurrency)

        async def worker(lane: deque[AgendaEntry], start_after: float) -> None:
            if start_after > 0:
                await asyncio.sleep(start_after)
            while lane:
                entry = lane.popleft()
                async with gate:
                    try:
                        await self._run_pilot(entry, now, report)
                    except Exception:  # one pilot's failure must not stop the sweep; it stays due
                        logger.exception("sweep failed for pilot %s", entry.pilot_id)
                        report.failed += 1

        # Interleaved, so that the semaphore's first-come order spreads the slots over the tenants; and started one
        # after another (`ramp_s` apart), so that the first pilot's reads are not queued behind every worker's.
        workers = [
            worker(lane, k * self._ramp_s) for k in range(self._per_tenant) for lane in lanes.values() if k < len(lane)
        ]
        await asyncio.gather(*workers)
        return report

    async def _run_pilot(self, entry: AgendaEntry, now: datetime, report: TickReport) -> None:
        pilot = await self._ports.pilots.get(entry.pilot_id, entry.tenant_id)
        if pilot is None:
            await self._ports.agenda.set(AgendaEntry(entry.pilot_id, entry.tenant_id, None))
            return
        later: list[datetime] = []
        for planner in self._planners:
            plan = await planner(pilot, now)
            later.extend(plan.later)
            for job in plan.jobs:
                retry_at = await self._deliver(pilot, job, now, report)
                if retry_at is not None:
                    later.append(retry_at)
        upcoming = [t for t in later if t is not None]
        await self._ports.agenda.set(AgendaEntry(pilot.id, pilot.tenant_id, min(upcoming) if upcoming else None))

    async def _deliver(self, pilot: Pilot, job: Job, now: datetime, report: TickReport) -> datetime | None:
        """Send one job at most once; returns when it should be looked at again, if it is not finished."""
        claim, wait_until = await self._claim(pilot, job.key, now)
        if claim is None:
            report.skipped += 1
            return wait_until
        target: ConversationRef | None = None
        try:
            target = await self._target(pilot, job.audience, now)
            message = await job.compose()
            activity_id = await self._ports.messenger.send(target, card=message.card, text=message.text)
        except Undeliverable as exc:
            report.undeliverable += 1
            if target is not None:
                await self._ports.conversations.upsert(dataclasses.replace(target, undeliverable=True))
            retry_at = now + self._unreachable_retry
            await self._finish(claim, SendStatus.UNDELIVERABLE, retry_at, detail=exc.message)
            return retry_at
        except DeliveryFailed as exc:
            report.failed += 1
            wait = timedelta(seconds=exc.retry_after) if exc.retry_after else self._retry_after
            retry_at = now + max(wait, self._retry_after)
            await self._finish(claim, SendStatus.RETRY, retry_at, detail=exc.message)
            return retry_at
        report.sent += 1
        kind = job.key.split(":", 1)[0]
        report.by_kind[kind] = report.by_kind.get(kind, 0) + 1
        await self._finish(
            claim,
            SendStatus.SENT,
            None,
            conversation_id=target.conversation_id,
            activity_id=activity_id,
            sent_at=now,
        )
        return None

    async def _claim(self, pilot: Pilot, key: str, now: datetime) -> tuple[SendRecord | None, datetime | None]:
        """Our claim on a message, or (None, when to look again) if it is done or someone else holds it."""
        fresh = SendRecord(pilot.id, pilot.tenant_id, key, SendStatus.PENDING, claimed_at=now)
        try:
            return await self._ports.sendlog.create(fresh), None
        except AlreadyExists:
            existing = await self._ports.sendlog.get(pilot.id, key)
        if existing is None:  # deleted between our create and read: leave it to the next sweep
            return None, now + self._retry_after
        if existing.status in DONE:
            return None, None
        if existing.status is SendStatus.PENDING and now - existing.claimed_at < self._lease:
            return None, existing.claimed_at + self._lease
        if existing.status is not SendStatus.PENDING and existing.next_attempt_at and existing.next_attempt_at > now:
            return None, existing.next_attempt_at
        retake = dataclasses.replace(
            existing, status=SendStatus.PENDING, claimed_at=now, attempts=existing.attempts + 1, next_attempt_at=None
        )
        try:
            return await self._ports.sendlog.replace(retake), None
        except ConcurrencyConflict:
            return None, now + self._lease

    async def _finish(
        self,
        claim: SendRecord,
        status: SendStatus,
        next_attempt_at: datetime | None,
        *,
        detail: str = "",
        conversation_id: str = "",
        activity_id: str = "",
        sent_at: datetime | None = None,
    ) -> None:
        done = dataclasses.replace(
            claim,
            status=status,
            next_attempt_at=next_attempt_at,
            detail=detail[:200],
            conversation_id=conversation_id or claim.conversation_id,
            activity_id=activity_id or claim.activity_id,
            sent_at=sent_at or claim.sent_at,
        )
        try:
            await self._ports.sendlog.replace(done)
        except ConcurrencyConflict:  # our lease ran out and another sweep took the claim over
            logger.warning("send-log %s/%s changed while we sent it", claim.pilot_id, claim.key)

    async def _target(self, pilot: Pilot, audience: str, now: datetime) -> ConversationRef:
        if audience == "channel":
            if pilot.channel is None:
                raise Undeliverable("the pilot has no project channel")
            ref = await self._ports.conversations.get(pilot.tenant_id, pilot.channel.conversation_id)
            if ref is None or not ref.active or ref.undeliverable:
                raise Undeliverable("the bot is not reachable in the pilot's channel")
            return ref
        return await self._sponsor_chat(pilot, now)

    async def _sponsor_chat(self, pilot: Pilot, now: datetime) -> ConversationRef:
        """The sponsor's 1:1 chat: the stored one, or a new one opened from the roster (governance.portfolio decides
        which, for the sweep and for `overdue` alike)."""
        ports = self._ports
        ref = await ports.conversations.find_personal(pilot.tenant_id, pilot.sponsor.aad_object_id)
        if ref is not None and sponsor_reach(ref, None) is Reach.CHAT:
            return ref
        member = await ports.members.find(pilot.tenant_id, pilot.sponsor.aad_object_id)
        if member is None or sponsor_reach(ref, member) is not Reach.ROSTER:
            raise Undeliverable("the sponsor has not installed PilotGate (or blocked it) and is in no team it knows")
        conversation_id = await ports.messenger.open_personal_chat(
            pilot.tenant_id, member.user_id, member.service_url, member.bot_id
        )
        opened = ConversationRef(
            conversation_id=conversation_id,
            tenant_id=pilot.tenant_id,
            kind=ConversationKind.PERSONAL,
            service_url=member.service_url,
            bot_id=member.bot_id,
            user_id=member.user_id,
            aad_object_id=member.aad_object_id,
            user_name=member.name,
            greeted=True,
            updated_at=now,
        )
        await ports.conversations.upsert(opened)
        return opened
