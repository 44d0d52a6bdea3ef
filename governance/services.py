"""Use cases: register and change pilots, record readings, link channels; each checks who asks and leaves an audit.

The REST API and the bot both call these; neither re-implements a rule.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from governance.audit import AuditTrail, audit_event
from governance.calendars import is_valid_country, normalize_country, read_tenant_country
from governance.checkin import away_problem, skip_problem
from governance.conflicts import retry_on_conflict
from governance.corrections import correction_problem
from governance.decisions import DecisionDraft, apply_decision, decision_effects
from governance.errors import (
    AlreadyExists,
    AmbiguousPilot,
    CheckinAnswered,
    CheckinSkipped,
    ConcurrencyConflict,
    DuplicatePilot,
    GateAlreadyDecided,
    NotPilotOwner,
    PilotNotFound,
    ReadingChanged,
    ValidationFailed,
)
from governance.lead import may_answer_checkin
from governance.localtime import local_date
from governance.model import (
    GOVERNANCE_ITEMS,
    AgendaEntry,
    AuditEvent,
    ChannelLink,
    CheckinHold,
    GateDecision,
    MetricReading,
    Person,
    Pilot,
    ReadingSource,
    Stage,
    TenantSettings,
)
from governance.period import Period, month_name
from governance.ports import (
    Agenda,
    AuditRepository,
    Clock,
    DecisionRepository,
    PilotRepository,
    ReadingRepository,
    TenantSettingsRepository,
)
from governance.rules import (
    COUNTRY_PROBLEM,
    PilotDraft,
    ReadingDraft,
    clean_text,
    default_gate_date,
    is_valid_timezone,
    match_names,
    name_key,
    suggestions,
    validate_pilot,
    validate_reading,
)

logger = logging.getLogger(__name__)

MAX_SHORT_REASON: Final = 200  # a skipped month's reason: one line on the status and gate cards


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks. ``is_admin`` comes from ADMIN_USERS, or is true for the API token holder."""

    aad_object_id: str
    name: str = ""
    is_admin: bool = False

    @property
    def person(self) -> Person:
        return Person(self.aad_object_id, self.name)


API_ACTOR = Actor("api", "REST API", is_admin=True)
SYSTEM_ACTOR = Actor("pilotgate", "PilotGate", is_admin=True)  # the bot's own repairs, in the audit trail


@dataclass(frozen=True, slots=True)
class PilotRecord:
    """A pilot with its history, for status views and GET /api/pilots/{id}."""

    pilot: Pilot
    readings: tuple[MetricReading, ...]
    decisions: tuple[GateDecision, ...]


def may_change(pilot: Pilot, actor: Actor) -> bool:
    return actor.is_admin or (
        bool(actor.aad_object_id) and actor.aad_object_id.lower() == pilot.sponsor.aad_object_id.lower()
    )


def may_answer(pilot: Pilot, actor: Actor) -> bool:
    """Who may answer or correct the pilot's check-ins: the sponsor, the lead, or an admin (governance.lead)."""
    return actor.is_admin or may_answer_checkin(pilot, actor.aad_object_id, ())


def may_hold_checkin(pilot: Pilot, actor: Actor) -> bool:
    """Who may press "Remind me on ..." or "Skip this month" on a check-in: whoever may answer it."""
    return may_answer(pilot, actor)


class PilotService:
    def __init__(
        self,
        pilots: PilotRepository,
        readings: ReadingRepository,
        decisions: DecisionRepository,
        audit: AuditRepository,
        clock: Clock,
        agenda: Agenda | None = None,
        tenants: TenantSettingsRepository | None = None,
    ) -> None:
        self._tenants = tenants  # the tenant's default holiday calendar, for the check-in rules of away and skip
        self._trail = AuditTrail(audit, pilots, readings, decisions)
        self._pilots = pilots
        self._readings = readings
        self._decisions = decisions
        self._audit = audit
        self._clock = clock
        self._agenda = agenda

    # -- queries ---------------------------------------------------------------------------------------------

    async def get(self, pilot_id: str, tenant_id: str | None = None) -> Pilot:
        pilot = await self._pilots.get(pilot_id, tenant_id)
        if pilot is None or (tenant_id is not None and pilot.tenant_id != tenant_id):
            raise PilotNotFound(pilot_id)
        return pilot

    async def list(self, tenant_id: str | None = None) -> list[Pilot]:
        pilots = await self._pilots.list(tenant_id)
        return sorted(pilots, key=lambda p: name_key(p.name))

    async def record(self, pilot: Pilot) -> PilotRecord:
        readings = await self._readings.list_for(pilot.id)
        decisions = await self._decisions.list_for(pilot.id)
        return PilotRecord(pilot, tuple(readings), tuple(sorted(decisions, key=lambda d: d.decided_at)))

    async def by_name(self, tenant_id: str, name: str) -> Pilot | None:
        """The tenant's initiative with exactly this name (as ``name_key`` compares names), if any."""
        return await self._pilots.find_by_name(tenant_id, name_key(name))

    def today(self) -> date:
        return self._clock.now().date()

    async def reading(self, pilot: Pilot, period: Period) -> MetricReading | None:
        return await self._readings.get(pilot.id, period)

    async def find(self, tenant_id: str, query: str) -> Pilot:
        """The pilot a person meant by ``query``: exact, partial or a near typo; else a helpful error."""
        exact = await self._pilots.find_by_name(tenant_id, name_key(query))
        if exact is not None:
            return exact
        pilots = await self._pilots.list(tenant_id)
        names = [p.name for p in pilots]
        match = match_names(query, names)
        if match.exact is not None:
            return next(p for p in pilots if p.name == match.exact)
        if match.candidates:
            raise AmbiguousPilot(query, match.candidates)
        raise PilotNotFound(query, suggestions(query, names))

    # -- commands --------------------------------------------------------------------------------------------

    async def register(self, draft: PilotDraft, tenant_id: str, actor: Actor, *, stage: Stage = Stage.PILOT) -> Pilot:
        """A new pilot, checked in full; ``stage=Stage.DRAFT`` registers an initiative known by its name and sponsor
        only (the rest may come later: ``update`` with ``stage`` PILOT completes it, checked in full then)."""
        if not actor.is_admin and actor.aad_object_id.lower() != draft.sponsor.aad_object_id.lower():
            raise NotPilotOwner("register a pilot for another sponsor")
        if stage not in (Stage.PILOT, Stage.DRAFT):
            raise ValidationFailed({"stage": "Register a pilot or a draft; other stages come from gate decisions."})
        now = self._clock.now()
        if draft.start_date is None and stage is Stage.DRAFT:
            zone = draft.timezone if is_valid_timezone(draft.timezone) else "UTC"  # a bad zone is named below
            draft = dataclasses.replace(draft, start_date=local_date(now, zone))
        validate_pilot(draft, today=now.date(), complete=stage is Stage.PILOT)
        assert draft.start_date is not None  # validate_pilot refuses a draft without one
        if await self._pilots.find_by_name(tenant_id, name_key(draft.name)) is not None:
            raise DuplicatePilot(draft.name)
        pilot = Pilot(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            name=draft.name,
            sponsor=draft.sponsor,
            metrics=draft.metrics,
            start_date=draft.start_date,
            gate_date=draft.gate_date or default_gate_date(draft.start_date),
            checkin_day=draft.checkin_day,
            timezone=draft.timezone,
            country=draft.country,
            budget_monthly=draft.budget_monthly,
            intended_users=draft.intended_users,
            scale_plan=draft.scale_plan,
            governance={item: bool(draft.governance.get(item, False)) for item in GOVERNANCE_ITEMS},
            channel=draft.channel,
            workflow=draft.workflow,
            stage=stage,
            sponsor_email=draft.sponsor_email,
            lead=draft.lead,
            checkin_recipient=draft.checkin_recipient,
            created_by=actor.aad_object_id,
            created_at=now,
            updated_at=now,
        )
        action = "pilot.drafted" if stage is Stage.DRAFT else "pilot.created"
        pilot = dataclasses.replace(
            pilot, pending_audit=(audit_event(pilot, actor.aad_object_id, now, action, None, pilot),)
        )
        await self._reschedule(pilot)  # first: a pilot whose later writes fail is still swept, and repaired
        try:
            stored = await self._pilots.add(pilot)
        except AlreadyExists:  # the store's unique name: another registration won the race since the look-up
            raise DuplicatePilot(draft.name) from None
        return await self._trail.copy(stored)

    async def update(self, pilot_id: str, changes: dict[str, Any], actor: Actor, tenant_id: str | None = None) -> Pilot:
        """Apply field changes (names as on Pilot); re-checks every rule; ConcurrencyConflict if raced.

        The only stage a change may set is ``Stage.PILOT`` on a draft: completing it, checked as a full pilot. A
        sponsor given by Entra id replaces a draft's unresolved sponsor email."""
        pilot = await self.get(pilot_id, tenant_id)
        if not may_change(pilot, actor):
            raise NotPilotOwner("change this pilot")
        stage = changes.get("stage", pilot.stage)
        if stage is not pilot.stage and not (pilot.is_draft and stage is Stage.PILOT):
            raise ValidationFailed(
                {"stage": "Only a draft can become a pilot here; other stages follow a gate decision."}
            )
        now = self._clock.now()
        if "sponsor" in changes and changes["sponsor"].aad_object_id:
            changes = {**changes, "sponsor_email": ""}
        updated = dataclasses.replace(pilot, **changes, updated_at=now)
        validate_pilot(draft_of(updated), today=now.date(), complete=not updated.is_draft)
        action = "pilot.completed" if pilot.is_draft and not updated.is_draft else "pilot.updated"
        event = audit_event(pilot, actor.aad_object_id, now, action, pilot, updated)
        updated = dataclasses.replace(updated, pending_audit=(*pilot.pending_audit, event))
        if "name" in changes and name_key(updated.name) != name_key(pilot.name):
            other = await self._pilots.find_by_name(pilot.tenant_id, name_key(updated.name))
            if other is not None and other.id != pilot.id:
                raise DuplicatePilot(updated.name)
        await self._reschedule(updated)
        try:
            stored = await self._pilots.save(updated)
        except AlreadyExists:  # renamed to a name another pilot took since the look-up
            raise DuplicatePilot(updated.name) from None
        return await self._trail.copy(stored)

    async def link_channel(self, pilot: Pilot, channel: ChannelLink, actor: Actor) -> Pilot:
        if not may_change(pilot, actor):
            raise NotPilotOwner("link a channel to this pilot")

        async def attempt() -> Pilot:
            current = await self.get(pilot.id, pilot.tenant_id)
            now = self._clock.now()
            linked = dataclasses.replace(current, channel=channel, updated_at=now)
            event = audit_event(current, actor.aad_object_id, now, "pilot.channel_linked", current, linked)
            return await self._pilots.save(dataclasses.replace(linked, pending_audit=(*current.pending_audit, event)))

        await self._reschedule(pilot)
        stored = await retry_on_conflict(attempt, gave_up="The pilot kept changing; try again.")
        return await self._trail.copy(stored)

    async def record_reading(
        self,
        pilot_id: str,
        draft: ReadingDraft,
        actor: Actor,
        source: ReadingSource,
        tenant_id: str | None = None,
        *,
        only_own: bool = False,
    ) -> MetricReading:
        """Store the reading for (pilot, period); a later one for the same period replaces it, audited.

        ``only_own`` (a check-in card): replace only a reading this person submitted and nobody corrected since, so
        that the lead's card cannot overwrite the sponsor's answer or a correction; ReadingChanged otherwise."""
        pilot = await self.get(pilot_id, tenant_id)
        if not may_answer(pilot, actor):
            raise NotPilotOwner("submit readings for this pilot", lead_too=True)
        now = self._clock.now()
        validate_reading(draft, pilot.metrics, pilot.start_date, local_date(now, pilot.timezone))
        reading = _new_reading(pilot, draft, actor, source, now)

        async def attempt() -> MetricReading:
            previous = await self._readings.get(pilot.id, draft.period)
            if previous is not None and only_own and (previous.corrected or not _by(previous.submitted_by, actor)):
                raise ReadingChanged(previous)
            return await self._write(pilot, previous, reading, actor, "reading.replaced")

        await self._reschedule(pilot)  # a new reading can end nudges or raise a cost-drift alert
        stored = await retry_on_conflict(attempt, gave_up="The reading kept changing; try again.")
        return await self._trail.copy(stored)

    async def correct_reading(
        self, pilot_id: str, draft: ReadingDraft, based_on: str, actor: Actor, tenant_id: str | None = None
    ) -> MetricReading:
        """Correct (or fill in a missed) reading of one of the last months (governance.corrections).

        ``based_on`` is the ``stamp`` of the reading the correction form showed ("" for a month that had none): if
        the reading changed since, nothing is written and ReadingChanged says what it is now. The write is
        conditional on the ETag just read, so a submit racing the correction makes one of them win and the other
        read the change."""
        pilot = await self.get(pilot_id, tenant_id)
        if not may_answer(pilot, actor):
            raise NotPilotOwner("correct this pilot's readings", lead_too=True)
        now = self._clock.now()
        today = local_date(now, pilot.timezone)
        problem = correction_problem(pilot, draft.period, today)
        if problem is not None:
            raise ValidationFailed({"period": problem})
        validate_reading(draft, pilot.metrics, pilot.start_date, today)

        async def attempt() -> MetricReading:
            current = await self._readings.get(pilot.id, draft.period)
            if (current.stamp if current is not None else "") != based_on:
                raise ReadingChanged(current)
            if current is None:
                missed = _new_reading(pilot, draft, actor, ReadingSource.TEAMS, now)
                return await self._write(pilot, None, missed, actor)
            corrected = dataclasses.replace(
                current,
                **_answered(draft),
                corrected_by=actor.person,
                corrected_at=now,
                confirmed_by=None,  # a confirmation was of the values before; the lead's correction asks again
                confirmed_at=None,
            )
            return await self._write(pilot, current, corrected, actor, "reading.corrected")

        await self._reschedule(pilot)  # a lead's correction asks the sponsor to confirm; spend may drift
        stored = await retry_on_conflict(attempt, gave_up="The reading kept changing; try again.")
        return await self._trail.copy(stored)

    async def confirm_reading(
        self, pilot_id: str, period: Period, stamp: str, actor: Actor, tenant_id: str | None = None
    ) -> MetricReading:
        """The sponsor confirms the values the lead wrote (``stamp``: those the confirmation card showed); pressing
        twice confirms once. ReadingChanged when they changed since the card was sent."""
        pilot = await self.get(pilot_id, tenant_id)
        if not may_change(pilot, actor):
            raise NotPilotOwner("confirm this pilot's readings")
        now = self._clock.now()

        async def attempt() -> MetricReading:
            current = await self._readings.get(pilot.id, period)
            if current is None or current.stamp != stamp:
                raise ReadingChanged(current)
            if current.confirmed_at is not None:
                return current
            confirmed = dataclasses.replace(current, confirmed_by=actor.person, confirmed_at=now)
            event = audit_event(pilot, actor.aad_object_id, now, "reading.confirmed", current, confirmed)
            return await self._readings.save(
                dataclasses.replace(confirmed, pending_audit=(*current.pending_audit, event))
            )

        stored = await retry_on_conflict(attempt, gave_up="The reading kept changing; try again.")
        return await self._trail.copy(stored)

    async def _write(
        self,
        pilot: Pilot,
        previous: MetricReading | None,
        reading: MetricReading,
        actor: Actor,
        action: str = "reading.recorded",
    ) -> MetricReading:
        """Add ``reading`` (AlreadyExists if someone stored the period meanwhile) or replace ``previous`` under its
        ETag (ConcurrencyConflict if it changed), with its audit event in the same write."""
        now = reading.changed_at
        if previous is None:
            event = audit_event(pilot, actor.aad_object_id, now, "reading.recorded", None, reading)
            return await self._readings.add(dataclasses.replace(reading, pending_audit=(event,)))
        event = audit_event(pilot, actor.aad_object_id, now, action, previous, reading)
        pending = (*previous.pending_audit, event)
        return await self._readings.save(dataclasses.replace(reading, version=previous.version, pending_audit=pending))

    async def remind_me_on(self, pilot: Pilot, period: Period, day: date, actor: Actor) -> Pilot:
        """Away: postpone ``period``'s reminder and escalation until 09:00 local on ``day`` (governance.checkin)."""
        if not may_hold_checkin(pilot, actor):
            raise NotPilotOwner("postpone this check-in", lead_too=True)

        def hold(current: Pilot, now: datetime) -> CheckinHold | None:
            problem = away_problem(current, period, day, now)
            if problem is not None:
                raise ValidationFailed({"remindOn": problem})
            existing = current.hold_for(period)
            if existing is not None and existing.skipped:
                raise CheckinSkipped(month_name(period), existing.reason)
            if existing is not None and existing.remind_on == day:
                return None  # pressed twice: nothing changes
            return CheckinHold(period, actor.person, now, remind_on=day)

        return await self._hold_checkin(pilot, period, actor, "checkin.away", hold)

    async def skip_month(self, pilot: Pilot, period: Period, reason: str, actor: Actor) -> Pilot:
        """Skip ``period``'s check-in with a reason: no more nudges, and the month counts as skipped, not late."""
        if not may_hold_checkin(pilot, actor):
            raise NotPilotOwner("skip this check-in", lead_too=True)
        reason = clean_text(reason)
        if not reason:
            raise ValidationFailed({"skipReason": "Say why this month is skipped, e.g. 'on leave' or 'paused'."})
        if len(reason) > MAX_SHORT_REASON:
            raise ValidationFailed({"skipReason": f"Keep the reason under {MAX_SHORT_REASON} characters."})

        def hold(current: Pilot, now: datetime) -> CheckinHold | None:
            problem = skip_problem(current, period, now)
            if problem is not None:
                raise ValidationFailed({"period": problem})
            existing = current.hold_for(period)
            if existing is not None and existing.skipped:
                return None  # pressed twice (or skipped before): the first reason stands
            return CheckinHold(period, actor.person, now, skipped=True, reason=reason)

        return await self._hold_checkin(pilot, period, actor, "checkin.skipped", hold)

    async def _hold_checkin(
        self,
        pilot: Pilot,
        period: Period,
        actor: Actor,
        action: str,
        hold: Callable[[Pilot, datetime], CheckinHold | None],
    ) -> Pilot:
        """Record a hold on ``period``'s check-in with its audit event, unless the month is answered already."""
        if await self._readings.get(pilot.id, period) is not None:
            raise CheckinAnswered(month_name(period))

        async def attempt() -> Pilot:
            current = await self.get(pilot.id, pilot.tenant_id)
            now = self._clock.now()
            new = hold(await read_tenant_country(current, self._tenants), now)
            if new is None:
                return current
            holds = tuple(sorted((*(h for h in current.checkin_holds if h.period != period), new), key=_by_period))
            updated = dataclasses.replace(current, checkin_holds=holds, updated_at=now)
            event = audit_event(current, actor.aad_object_id, now, action, current.hold_for(period), new)
            return await self._pilots.save(dataclasses.replace(updated, pending_audit=(*current.pending_audit, event)))

        await self._reschedule(pilot)  # the nudges move or stop
        stored = await retry_on_conflict(attempt, gave_up="The pilot kept changing; try again.")
        return await self._trail.copy(stored)

    async def decide(
        self, pilot_id: str, tenant_id: str, gate_date: date, draft: DecisionDraft, actor: Actor
    ) -> tuple[Pilot, GateDecision]:
        """Record the go/narrow/extend/retire decision on the gate ``gate_date`` and carry out its effects.

        One decision per gate: the decision document (keyed by the gate date) is created first with a conditional
        write, so two people pressing at once, or one pressing twice, record one decision; the loser gets
        GateAlreadyDecided. The pilot's stage and dates then change under an ETag, retried on a conflict.
        """
        pilot = await self.get(pilot_id, tenant_id)
        if not may_change(pilot, actor):
            raise NotPilotOwner("decide this gate")
        if gate_date != pilot.gate_date:
            raise GateAlreadyDecided(f"The gate of {gate_date.isoformat()} was already decided.")
        now = self._clock.now()
        updated, decision = apply_decision(
            pilot, draft, actor.is_admin, actor.is_admin, local_date(now, pilot.timezone), actor.person, now
        )
        event = audit_event(pilot, actor.aad_object_id, now, f"gate.{decision.kind.value}", pilot, updated)
        await self._reschedule(pilot)
        try:
            decision = await self._decisions.add(dataclasses.replace(decision, pending_audit=(event,)))
        except AlreadyExists:
            await self.finish_decision(pilot)
            raise GateAlreadyDecided(f"The gate of {gate_date.isoformat()} was already decided.") from None
        stored = await self._carry_out(updated, pilot)
        return stored, await self._trail.copy(decision)

    async def finish_decision(self, pilot: Pilot) -> Pilot:
        """Carry out a recorded decision whose effects were never saved (the store failed between the two writes).

        The decision document is the record; the pilot's stage and dates follow from it, so they can be redone.
        """
        decision = next((d for d in await self._decisions.list_for(pilot.id) if d.gate_date == pilot.gate_date), None)
        if decision is None or not pilot.stage.is_active:
            return pilot
        now = self._clock.now()
        effects = decision_effects(pilot, decision, now)
        action = f"gate.{decision.kind.value}.completed"
        event = audit_event(pilot, SYSTEM_ACTOR.aad_object_id, now, action, pilot, effects)
        await self._reschedule(pilot)
        stored = await self._carry_out(dataclasses.replace(effects, pending_audit=(*pilot.pending_audit, event)), pilot)
        return await self._trail.copy(stored)

    async def repair(self, pilot: Pilot) -> bool:
        """Finish what a failed write left behind: copy every pending audit event of the pilot into the trail.
        True when nothing is left to repair."""
        return await self._trail.flush_all(pilot)

    async def _carry_out(self, updated: Pilot, read: Pilot) -> Pilot:
        """Save the decided stage and dates; on a conflict re-apply them to the pilot as it now stands."""
        candidate = [updated]

        async def attempt() -> Pilot:
            try:
                return await self._pilots.save(candidate[0])
            except ConcurrencyConflict:
                current = await self.get(read.id, read.tenant_id)
                candidate[0] = dataclasses.replace(
                    current,
                    stage=updated.stage,
                    gate_date=updated.gate_date,
                    extensions=updated.extensions,
                    updated_at=updated.updated_at,
                    pending_audit=_merged(current.pending_audit, updated.pending_audit),
                )
                raise

        return await retry_on_conflict(
            attempt, gave_up="The pilot kept changing; the decision is recorded, its effects are not."
        )

    async def _reschedule(self, pilot: Pilot) -> None:
        """Dates or the audience changed: the next sweep plans this pilot afresh."""
        if self._agenda is not None:
            await self._agenda.set(AgendaEntry(pilot.id, pilot.tenant_id, self._clock.now()))


def _by(person: Person, actor: Actor) -> bool:
    return bool(actor.aad_object_id) and person.aad_object_id.lower() == actor.aad_object_id.lower()


def _new_reading(
    pilot: Pilot, draft: ReadingDraft, actor: Actor, source: ReadingSource, now: datetime
) -> MetricReading:
    return MetricReading(
        pilot_id=pilot.id,
        tenant_id=pilot.tenant_id,
        period=draft.period,
        source=source,
        submitted_by=actor.person,
        submitted_at=now,
        **_answered(draft),
    )


def _answered(draft: ReadingDraft) -> dict[str, Any]:
    """The reading's fields a check-in (or a correction of one) sets."""
    return {
        "values": dict(draft.values),
        "status": draft.status,
        "active_users": draft.active_users,
        "spend": draft.spend,
        "blockers": draft.blockers,
        "notes": draft.notes,
    }


class TenantCalendar:
    """The tenant's default public-holiday calendar (TenantSettings.default_country), set by an admin with
    `country XX`. Pilots that name no country of their own follow it from the next sweep on."""

    def __init__(
        self, tenants: TenantSettingsRepository, pilots: PilotRepository, clock: Clock, agenda: Agenda | None = None
    ) -> None:
        self._tenants = tenants
        self._pilots = pilots
        self._clock = clock
        self._agenda = agenda

    async def default_country(self, tenant_id: str) -> str | None:
        return (await self._tenants.get(tenant_id)).default_country

    async def set_default_country(self, tenant_id: str, country: str | None, actor: Actor) -> TenantSettings:
        """``country`` (any case; None or "none" clears it) becomes the tenant's default; admins only."""
        if not actor.is_admin:
            raise NotPilotOwner("set the organisation's public-holiday calendar")
        code = normalize_country(country)
        if code is not None and code.lower() == "none":
            code = None
        if code is not None and not is_valid_country(code):
            raise ValidationFailed({"country": COUNTRY_PROBLEM})

        async def attempt() -> TenantSettings:
            current = await self._tenants.get(tenant_id)
            if current.default_country == code:
                return current
            now = self._clock.now()
            changed = dataclasses.replace(current, default_country=code, updated_by=actor.aad_object_id, updated_at=now)
            return await self._tenants.save(changed)

        stored = await retry_on_conflict(attempt, gave_up="The settings kept changing; try again.")
        if self._agenda is not None:  # check-in days and nudges of the pilots that follow the default move
            now = self._clock.now()
            for pilot in await self._pilots.list(tenant_id):
                if pilot.country is None:
                    await self._agenda.set(AgendaEntry(pilot.id, pilot.tenant_id, now))
        return stored


def _by_period(hold: CheckinHold) -> Period:
    return hold.period


def _merged(current: tuple[AuditEvent, ...], ours: tuple[AuditEvent, ...]) -> tuple[AuditEvent, ...]:
    """The pending events of the stored version, then ours that it lacks (each event once, by id)."""
    known = {event.id for event in current}
    return (*current, *(event for event in ours if event.id not in known))


def draft_of(pilot: Pilot) -> PilotDraft:
    """The pilot as the rules check it (``validate_pilot``)."""
    return PilotDraft(
        name=pilot.name,
        sponsor=pilot.sponsor,
        metrics=pilot.metrics,
        start_date=pilot.start_date,
        gate_date=pilot.gate_date,
        checkin_day=pilot.checkin_day,
        timezone=pilot.timezone,
        country=pilot.country,
        budget_monthly=pilot.budget_monthly,
        intended_users=pilot.intended_users,
        scale_plan=pilot.scale_plan,
        governance=pilot.governance,
        channel=pilot.channel,
        workflow=pilot.workflow,
        sponsor_email=pilot.sponsor_email,
        lead=pilot.lead,
        checkin_recipient=pilot.checkin_recipient,
    )
