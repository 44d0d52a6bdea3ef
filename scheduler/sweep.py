"""The due-work sweep: a function of ``now`` that is safe to run twice, or on two replicas at once.

It reads only the agenda entries that are due, plans each pilot's messages (monthly check-in, reminder, channel
escalation, gate milestones), and sends each through the send-log: a message is claimed by creating its send-log
document with a conditional write before it is sent, so a second tick or a second replica finds it claimed and
skips it. A failed send stays due (status retry) and the pilot's agenda entry comes back at the retry time, so
nothing is lost.

A tenant's own messages (the monthly report to the leadership channel) go the same way: their agenda entry and
send-log partition are ``tenant:<tenantId>`` (governance.leadership.tenant_subject), planned by the tenant planners.

A claim holds while its sender lives. It carries ``leaseUntil`` and its ``owner`` (the replica's sweep), and the
sender renews it every quarter lease for as long as the send takes (a slow Teams, the pacer's queue, a
Retry-After); another sweep takes it over only once the lease has run out, i.e. when its sender stopped renewing.
Lease stamps come from ``lease_clock``, the real wall clock by default, never from the tick's ``now``: ``now`` is
the time the sweep plans for, taken once per tick and set anywhere by a test or an external timer (with
ALLOW_CLOCK_OVERRIDE), while a lease must tell whether a live process renewed it lately. Wall time rather than a
monotonic clock, because replicas read each other's stamps; the lease (2 minutes) is far above the clock skew NTP
leaves between hosts, renewals are timed by the event loop's monotonic clock, and every write is fenced by the
record's ETag, so a sweep whose lease lapsed cannot record the message over the sweep that took it over.

``stop`` (SIGTERM) takes no new work, takes back the sends still waiting for their turn (``withdrawable_sleep``),
gives the requests already on their way to Teams up to ``grace_s`` to be answered, and releases every claim it
did not send (status retry, due at once), so the next sweep sends those at once instead of after a lease.

The window left: a replica that dies (kill -9, out of memory, host lost) after Teams accepted the message but
before it recorded "sent" leaves a pending claim that is re-sent when its lease runs out; so does a request
still unanswered when ``stop``'s grace runs out. Teams offers no idempotency key to close it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
import socket
import uuid
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from governance.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    DeliveryFailed,
    RecordNotFound,
    StorageUnavailable,
    Undeliverable,
)
from governance.leadership import tenant_of_subject
from governance.model import AgendaEntry, ConversationRef, Pilot, SendRecord, SendStatus
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
    SystemClock,
)
from scheduler.recipients import recipient

logger = logging.getLogger(__name__)

DONE = frozenset({SendStatus.SENT, SendStatus.SKIPPED})
LEASE = timedelta(minutes=2)
LEGACY_LEASE = timedelta(minutes=10)  # how long a claim without leaseUntil (written before renewals) holds
STOP_GRACE_S = 10.0  # well inside the 30 s that Kubernetes and Container Apps wait after SIGTERM
SETTLE_S = 5.0  # after the grace: for the ticks to write their releases and agenda entries

# Set inside each of a sweep's send tasks only, so that a stop withdraws the sweep's sends and not a bot turn's.
_WITHDRAW: ContextVar[asyncio.Event | None] = ContextVar("pilotgate_withdraw_sends", default=None)


class SendWithdrawn(Exception):
    """A stopping sweep took back a send that had not left for Teams yet."""


async def withdrawable_sleep(seconds: float) -> None:
    """The sender's sleep (its pacer slots, Retry-After and backoff waits; ConnectorMessenger's ``sleep``).

    Inside a sweep's send it ends with SendWithdrawn once that sweep stops: a stop takes back what has not gone out
    and never cuts a request on its way to Teams. Anywhere else it is asyncio.sleep.
    """
    withdraw = _WITHDRAW.get()
    if withdraw is None:
        await asyncio.sleep(seconds)
        return
    if not withdraw.is_set():
        try:
            await asyncio.wait_for(withdraw.wait(), timeout=max(seconds, 0.0))
        except TimeoutError:
            return
    raise SendWithdrawn


def replica_id() -> str:
    """Who holds a claim: host and process, plus a random part because a restarted container keeps both."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class Message:
    card: Card | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """One message a pilot is due: ``key`` names it in the send-log, ``compose`` builds it when it is sent.

    ``to`` finds the conversation itself (a tenant's message, e.g. the report to the leadership channel); without
    it the pilot's ``audience`` is looked up (scheduler.recipients)."""

    key: str
    audience: str  # "sponsor" or "channel"
    compose: Callable[[], Awaitable[Message]]
    to: Callable[[datetime], Awaitable[ConversationRef]] | None = None


@dataclass(frozen=True, slots=True)
class TenantSubject:
    """Whom a tenant's own scheduled messages belong to in the send-log and the agenda: ``id`` is
    governance.leadership.tenant_subject(tenant_id), so they partition and claim exactly as a pilot's do."""

    id: str
    tenant_id: str


Subject = Pilot | TenantSubject


@dataclass(frozen=True, slots=True)
class Plan:
    jobs: tuple[Job, ...]
    later: tuple[datetime, ...]  # when this pilot next has work, as far as the planner knows


Planner = Callable[[Pilot, datetime], Awaitable[Plan]]
TenantPlanner = Callable[[str, datetime], Awaitable[Plan]]  # a tenant's own messages (tenant id, now)


@dataclass
class TickReport:
    due: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    undeliverable: int = 0
    released: int = 0  # claimed but handed back unsent because the sweep stopped: due again at once
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


@dataclass
class _Attempt:
    """One send in flight: the claim as last written (renewals change its version) and where it is going."""

    claim: SendRecord
    target: ConversationRef | None = None
    lost: bool = False  # our lease ran out and another sweep took the message over


class Sweep:
    def __init__(
        self,
        ports: SweepPorts,
        planners: list[Planner],
        clock: Clock,
        *,
        tenant_planners: Sequence[TenantPlanner] = (),
        lease: timedelta = LEASE,
        lease_clock: Clock | None = None,
        owner: str | None = None,
        retry_after: timedelta = timedelta(minutes=5),
        unreachable_retry: timedelta = timedelta(hours=6),
        concurrency: int = 256,
        per_tenant: int = 32,
        ramp_s: float = 0.01,
    ) -> None:
        self._ports = ports
        self._planners = planners
        self._tenant_planners = tuple(tenant_planners)
        self._clock = clock
        self._lease = lease
        self._lease_clock = lease_clock or SystemClock()
        self._owner = owner or replica_id()
        # Three renewals may fail (a store hiccup) before the lease runs out.
        self._renew_every_s = lease.total_seconds() / 4
        self._retry_after = retry_after
        self._unreachable_retry = unreachable_retry
        self._concurrency = concurrency
        self._per_tenant = per_tenant
        self._ramp_s = ramp_s
        self._stopping = False
        self._withdraw = asyncio.Event()
        self._sending: set[asyncio.Task[str]] = set()
        self._ticks = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def tick(self, now: datetime | None = None) -> TickReport:
        report = TickReport()
        if self._stopping:
            logger.info("the sweep is stopping: tick refused")
            return report
        self._ticks += 1
        self._idle.clear()
        try:
            await self._sweep(now or self._clock.now(), report)
        finally:
            self._ticks -= 1
            if self._ticks == 0:
                self._idle.set()
        return report

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """Stop taking work: sends still waiting for their turn are taken back, those on their way to Teams get up
        to ``grace_s`` to be answered, and every claim not sent is released. Returns when every tick has ended."""
        if not self._stopping and (self._sending or self._ticks):  # an idle stop is not news
            logger.info("sweep stopping: %d sends under way in %d ticks", len(self._sending), self._ticks)
        self._stopping = True
        self._withdraw.set()
        if self._sending:
            _, unanswered = await asyncio.wait(set(self._sending), timeout=grace_s)
            if unanswered:
                # Teams may have these already; releasing them risks a duplicate, keeping them risks the same later.
                logger.warning("sweep stop: %d sends unanswered after %s s, released", len(unanswered), grace_s)
                for task in unanswered:
                    task.cancel()
        try:
            await asyncio.wait_for(self._idle.wait(), SETTLE_S)
        except TimeoutError:
            logger.warning("sweep stop: ticks still running %s s after the grace", SETTLE_S)

    async def _sweep(self, now: datetime, report: TickReport) -> None:
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
            while lane and not self._stopping:
                entry = lane.popleft()
                async with gate:
                    if self._stopping:  # its agenda entry is untouched: still due for the next sweep
                        return
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

    async def _run_pilot(self, entry: AgendaEntry, now: datetime, report: TickReport) -> None:
        if tenant_of_subject(entry.pilot_id) == entry.tenant_id:
            subject = TenantSubject(entry.pilot_id, entry.tenant_id)
            plans = [functools.partial(planner, entry.tenant_id, now) for planner in self._tenant_planners]
            await self._run_plans(subject, plans, now, report)
            return
        pilot = await self._ports.pilots.get(entry.pilot_id, entry.tenant_id)
        if pilot is None:
            await self._ports.agenda.set(AgendaEntry(entry.pilot_id, entry.tenant_id, None))
            return
        await self._run_plans(
            pilot, [functools.partial(planner, pilot, now) for planner in self._planners], now, report
        )

    async def _run_plans(
        self, subject: Subject, plans: Sequence[Callable[[], Awaitable[Plan]]], now: datetime, report: TickReport
    ) -> None:
        """Plan in turn (each planner sees what the one before it sent), deliver, and book the next look."""
        later: list[datetime] = []
        for planned in plans:
            plan = await planned()
            later.extend(plan.later)
            for job in plan.jobs:
                if self._stopping:  # not claimed: due at once, for the next sweep
                    later.append(now)
                    continue
                retry_at = await self._deliver(subject, job, now, report)
                if retry_at is not None:
                    later.append(retry_at)
        upcoming = [t for t in later if t is not None]
        await self._ports.agenda.set(AgendaEntry(subject.id, subject.tenant_id, min(upcoming) if upcoming else None))

    async def _deliver(self, pilot: Subject, job: Job, now: datetime, report: TickReport) -> datetime | None:
        """Send one job at most once; returns when it should be looked at again, if it is not finished."""
        claim, wait_until = await self._claim(pilot, job.key, now)
        if claim is None:
            report.skipped += 1
            return wait_until
        attempt = _Attempt(claim)
        if self._stopping:  # claimed as the stop began: hand it straight back
            return await self._release(attempt, now, report)
        sending = asyncio.create_task(self._send(pilot, job, now, attempt), name=f"send {pilot.id}/{job.key}")
        self._sending.add(sending)
        try:
            await self._hold(attempt, sending)
        except BaseException:  # our tick was cancelled (or renewing failed oddly): settle the send before leaving
            sending.cancel()
            await asyncio.wait({sending})
            try:
                await self._settle(pilot, job, now, report, attempt, sending)
            except Exception:
                logger.exception("could not settle %s/%s", pilot.id, job.key)
            raise
        finally:
            self._sending.discard(sending)
        return await self._settle(pilot, job, now, report, attempt, sending)

    async def _send(self, pilot: Subject, job: Job, now: datetime, attempt: _Attempt) -> str:
        _WITHDRAW.set(self._withdraw)  # in this task's own context: a stop may withdraw its waits
        ports = self._ports
        if job.to is not None:
            attempt.target = await job.to(now)
        elif isinstance(pilot, Pilot):
            attempt.target = await recipient(
                pilot, job.audience, now, ports.conversations, ports.members, ports.messenger
            )
        else:
            raise Undeliverable("a tenant's message names no conversation")
        message = await job.compose()
        return await self._ports.messenger.send(attempt.target, card=message.card, text=message.text)

    async def _hold(self, attempt: _Attempt, sending: asyncio.Task[str]) -> None:
        """Renew the claim until the send is over, so that no other sweep takes it over while it is under way."""
        while True:
            done, _ = await asyncio.wait({sending}, timeout=self._renew_every_s)
            if done:
                return
            claim = attempt.claim
            renewed = dataclasses.replace(claim, lease_until=self._lease_clock.now() + self._lease)
            try:
                attempt.claim = await self._ports.sendlog.replace(renewed)
            except (ConcurrencyConflict, RecordNotFound):
                # Renewals failed for a whole lease (a stalled loop or store) and another sweep took it over.
                logger.warning("lost the claim on %s/%s to another sweep", claim.pilot_id, claim.key)
                attempt.lost = True
                sending.cancel()
                await asyncio.wait({sending})
                return
            except StorageUnavailable:
                logger.warning("could not renew the claim on %s/%s; trying again", claim.pilot_id, claim.key)

    async def _settle(
        self, pilot: Subject, job: Job, now: datetime, report: TickReport, attempt: _Attempt, sending: asyncio.Task[str]
    ) -> datetime | None:
        """Record how the send ended; returns when to look at the job again, if it is not finished."""
        if attempt.lost:
            report.skipped += 1
            return now + self._lease
        if sending.cancelled():
            return await self._release(attempt, now, report)
        error = sending.exception()
        if isinstance(error, SendWithdrawn):
            return await self._release(attempt, now, report)
        if isinstance(error, Undeliverable):
            report.undeliverable += 1
            if attempt.target is not None:
                await self._ports.conversations.upsert(dataclasses.replace(attempt.target, undeliverable=True))
            retry_at = now + self._unreachable_retry
            await self._finish(attempt.claim, SendStatus.UNDELIVERABLE, retry_at, detail=error.message)
            return retry_at
        if isinstance(error, DeliveryFailed):
            report.failed += 1
            wait = timedelta(seconds=error.retry_after) if error.retry_after else self._retry_after
            retry_at = now + max(wait, self._retry_after)
            await self._finish(attempt.claim, SendStatus.RETRY, retry_at, detail=error.message)
            return retry_at
        if error is not None:  # a bug or the store: the claim stays pending and is taken over after its lease
            raise error
        assert attempt.target is not None
        report.sent += 1
        kind = job.key.split(":", 1)[0]
        report.by_kind[kind] = report.by_kind.get(kind, 0) + 1
        await self._finish(
            attempt.claim,
            SendStatus.SENT,
            None,
            conversation_id=attempt.target.conversation_id,
            activity_id=sending.result(),
            sent_at=now,
        )
        return None

    async def _release(self, attempt: _Attempt, now: datetime, report: TickReport) -> datetime:
        """Hand back a claim that was not sent: due at once for the next sweep, with no lease to wait out."""
        report.released += 1
        try:
            await self._finish(attempt.claim, SendStatus.RETRY, None, detail=f"released unsent by {self._owner}")
        except StorageUnavailable:  # then it is sent after its lease runs out
            logger.warning("could not release the claim on %s/%s", attempt.claim.pilot_id, attempt.claim.key)
        return now

    async def _claim(self, pilot: Subject, key: str, now: datetime) -> tuple[SendRecord | None, datetime | None]:
        """Our claim on a message, or (None, when to look again) if it is done or someone else holds it."""
        stamp = self._lease_clock.now()
        fresh = SendRecord(
            pilot.id,
            pilot.tenant_id,
            key,
            SendStatus.PENDING,
            claimed_at=stamp,
            lease_until=stamp + self._lease,
            owner=self._owner,
        )
        try:
            return await self._ports.sendlog.create(fresh), None
        except AlreadyExists:
            existing = await self._ports.sendlog.get(pilot.id, key)
        if existing is None:  # deleted between our create and read: leave it to the next sweep
            return None, now + self._retry_after
        if existing.status in DONE:
            return None, None
        stamp = self._lease_clock.now()
        if existing.status is SendStatus.PENDING:
            lease_until = existing.lease_until or existing.claimed_at + LEGACY_LEASE
            if stamp < lease_until:
                # Its sender is alive. Look again when the lease would run out, or sooner: a stopping sender
                # releases its claims for the next sweep, and this agenda entry may be written after its own.
                return None, now + min(lease_until - stamp, timedelta(seconds=self._renew_every_s))
        elif existing.next_attempt_at and existing.next_attempt_at > now:
            return None, existing.next_attempt_at
        retake = dataclasses.replace(
            existing,
            status=SendStatus.PENDING,
            claimed_at=stamp,
            lease_until=stamp + self._lease,
            owner=self._owner,
            attempts=existing.attempts + 1,
            next_attempt_at=None,
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
            lease_until=None,
            detail=detail[:200],
            conversation_id=conversation_id or claim.conversation_id,
            activity_id=activity_id or claim.activity_id,
            sent_at=sent_at or claim.sent_at,
        )
        try:
            await self._ports.sendlog.replace(done)
        except (ConcurrencyConflict, RecordNotFound):  # our lease ran out and another sweep took the claim over
            logger.warning("send-log %s/%s changed while we sent it", claim.pilot_id, claim.key)
