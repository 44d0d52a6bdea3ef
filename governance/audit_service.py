"""The quarterly audit's use cases: open (one per tenant at a time), attest (the sponsor only), decide (an admin
accepts or changes a recommendation), close (each decision recorded through PilotService.decide, the same rules as a
gate decision), and the record's reads.

Who may do what: governance admins open, decide and close; only an initiative's sponsor attests it. Admins do not
attest on a sponsor's behalf: an attestation is the sponsor's word, and an initiative nobody attested stays listed
as such; the admin still decides it (with a date) on the board.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import date

from governance.conflicts import retry_on_conflict
from governance.decisions import (
    CUT_SCOPE,
    EXPANSION_DATE,
    EXPANSION_SCOPE,
    KIND,
    NEW_GATE_DATE,
    RATIONALE,
    RETIREMENT_DATE,
    apply_decision,
)
from governance.errors import (
    AdminsOnly,
    AlreadyExists,
    AuditClosed,
    GateAlreadyDecided,
    NotAuditor,
    RecordNotFound,
    ValidationFailed,
)
from governance.leadership import tenant_subject
from governance.localtime import local_date
from governance.model import AgendaEntry
from governance.portfolio import Reach, sponsor_route
from governance.ports import (
    Agenda,
    Clock,
    ConversationRepository,
    MemberRepository,
    PilotRepository,
    QuarterlyAuditRepository,
    TenantSettingsRepository,
)
from governance.quarterly_audit import (
    METRIC_NAME,
    NOTE,
    RECOMMENDATION,
    RECOMMENDED_DATE,
    TARGET,
    AdminDecision,
    Attestation,
    AttestationDraft,
    AuditItem,
    AuditStatus,
    Outcome,
    QuarterlyAudit,
    Recommendation,
    attestation_of,
    attestation_problems,
    attested_changes,
    audit_id,
    decision_draft,
    in_audit,
    quarter_of,
    rationale_prefix,
    snapshot_item,
)
from governance.rules import name_key
from governance.services import Actor, PilotService

logger = logging.getLogger(__name__)

# A decision's own fields -> the audit's (the board has one date and one note per initiative).
_DECISION_FIELDS = {
    EXPANSION_DATE: RECOMMENDED_DATE,
    NEW_GATE_DATE: RECOMMENDED_DATE,
    RETIREMENT_DATE: RECOMMENDED_DATE,
    RATIONALE: NOTE,
    EXPANSION_SCOPE: NOTE,
    CUT_SCOPE: NOTE,
    KIND: RECOMMENDATION,
}


class QuarterlyAuditService:
    def __init__(
        self,
        audits: QuarterlyAuditRepository,
        pilots: PilotRepository,
        pilot_service: PilotService,
        conversations: ConversationRepository,
        members: MemberRepository,
        tenants: TenantSettingsRepository,
        clock: Clock,
        *,
        agenda: Agenda | None = None,
    ) -> None:
        self._audits = audits
        self._pilots = pilots
        self._pilot_service = pilot_service
        self._conversations = conversations
        self._members = members
        self._tenants = tenants
        self._clock = clock
        self._agenda = agenda

    # -- reads -----------------------------------------------------------------------------------------------

    async def get(self, audit_ref: str, tenant_id: str | None = None) -> QuarterlyAudit:
        audit = await self._audits.get(tenant_id, audit_ref)
        if audit is None or (tenant_id is not None and audit.tenant_id != tenant_id):
            raise RecordNotFound(f"No audit {audit_ref!r}.")
        return audit

    async def list(self, tenant_id: str) -> list[QuarterlyAudit]:
        return await self._audits.list_for(tenant_id)

    async def current(self, tenant_id: str) -> QuarterlyAudit | None:
        """The open audit, else this quarter's closed one."""
        found = await self._audits.open_for(tenant_id)
        if found is not None:
            return found
        return await self._audits.get(tenant_id, audit_id(tenant_id, quarter_of(self._clock.now().date())))

    async def latest_closed_audit(self, tenant_id: str) -> QuarterlyAudit | None:
        return await latest_closed_audit(self._audits, tenant_id)

    # -- open --------------------------------------------------------------------------------------------------

    async def open(self, tenant_id: str, actor: Actor) -> tuple[QuarterlyAudit, bool]:
        """This quarter's audit for the tenant: (the open one, False) if there is one, else a new snapshot (True).

        Two admins pressing at once: both build a snapshot, the store's conditional create takes one, and the other
        gets the winner's audit.
        """
        _require_admin(actor, "run the quarterly audit")
        existing = await self.current(tenant_id)
        if existing is not None:
            return existing, False
        now = self._clock.now()
        quarter = quarter_of(now.date())
        pilots = sorted((p for p in await self._pilots.list(tenant_id) if in_audit(p)), key=lambda p: name_key(p.name))
        items = []
        for pilot in pilots:
            route = await sponsor_route(pilot, self._conversations, self._members)
            items.append(snapshot_item(pilot, route.reach is not Reach.NONE))
        audit = QuarterlyAudit(
            id=audit_id(tenant_id, quarter),
            tenant_id=tenant_id,
            quarter=quarter,
            status=AuditStatus.OPEN,
            opened_by=actor.person,
            opened_at=now,
            items=tuple(items),
        )
        if self._agenda is not None:  # first: the sweep sends the attestation cards at its next tick
            for item in items:
                await self._agenda.set(AgendaEntry(item.pilot_id, tenant_id, now))
        try:
            return await self._audits.create(audit), True
        except AlreadyExists:
            winner = await self.current(tenant_id)
            if winner is None:  # an open audit of another quarter closed in between: rare; ask again
                raise
            return winner, False

    # -- attest ------------------------------------------------------------------------------------------------

    async def attest(
        self, tenant_id: str, audit_ref: str, pilot_id: str, draft: AttestationDraft, actor: Actor
    ) -> QuarterlyAudit:
        """The sponsor's attestation of one initiative; a later one replaces theirs while the audit is open."""
        audit = await self.get(audit_ref, tenant_id)
        item = _item(audit, pilot_id)
        if actor.aad_object_id.lower() != item.sponsor.aad_object_id.lower() or not actor.aad_object_id:
            raise NotAuditor(f"Only the sponsor of {item.name} can attest it.")
        now = self._clock.now()
        problems = attestation_problems(draft, local_date(now, item.timezone))
        if problems:
            raise ValidationFailed(problems)
        attestation = attestation_of(draft, actor.person, now)
        await self._apply_corrections(tenant_id, pilot_id, attestation, actor)

        async def attempt() -> QuarterlyAudit:
            current = _open(await self.get(audit_ref, tenant_id))
            return await self._audits.save(
                current.with_item(dataclasses.replace(_item(current, pilot_id), attestation=attestation))
            )

        return await retry_on_conflict(attempt, gave_up="The audit kept changing; try again.")

    async def _apply_corrections(self, tenant_id: str, pilot_id: str, attestation: Attestation, actor: Actor) -> None:
        """What the sponsor corrected goes onto the pilot, by the sponsor, through the pilot's own rules and audit
        trail; before the attestation is stored, so a correction the rules refuse is refused with it."""
        pilot = await self._pilots.get(pilot_id, tenant_id)
        changes = attested_changes(pilot, attestation) if pilot is not None else {}
        if pilot is None or not changes:
            return
        try:
            await self._pilot_service.update(pilot.id, changes, actor, tenant_id)
        except ValidationFailed as exc:  # the pilot's rules, worded for its own fields: shown against the metric
            fields: dict[str, str] = {}
            for key, problem in exc.fields.items():
                field = METRIC_NAME if key.endswith("name") else TARGET
                fields[field] = f"{fields[field]} {problem}" if field in fields else problem
            raise ValidationFailed(fields) from None

    # -- decide ------------------------------------------------------------------------------------------------

    async def decide(
        self,
        tenant_id: str,
        audit_ref: str,
        pilot_id: str,
        actor: Actor,
        change: tuple[Recommendation, date, str] | None = None,
    ) -> QuarterlyAudit:
        """Accept the sponsor's recommendation (``change`` None) or set another one with its date and a note.

        The decision is checked now by the gate decision's own rules (dates against the gate and today), so that
        closing finds nothing to refuse; errors are keyed ``recommendation``, ``recommendedDate`` and ``note``.
        """
        _require_admin(actor, "decide in the quarterly audit")
        audit = _open(await self.get(audit_ref, tenant_id))
        item = _item(audit, pilot_id)
        now = self._clock.now()
        if change is None:
            if item.attestation is None:
                raise ValidationFailed({RECOMMENDATION: f"{item.name} has no recommendation yet: choose one."})
            decision = AdminDecision(
                item.attestation.recommendation, item.attestation.recommended_date, "", actor.person, now, True
            )
        else:
            recommendation, on, note = change
            decision = AdminDecision(recommendation, on, note.strip(), actor.person, now, False)
        decided = dataclasses.replace(item, decision=decision)
        await self._check(audit, decided, actor)

        async def attempt() -> QuarterlyAudit:
            current = _open(await self.get(audit_ref, tenant_id))
            return await self._audits.save(
                current.with_item(dataclasses.replace(_item(current, pilot_id), decision=decision))
            )

        return await retry_on_conflict(attempt, gave_up="The audit kept changing; try again.")

    async def accept_all(self, tenant_id: str, audit_ref: str, actor: Actor) -> tuple[QuarterlyAudit, dict[str, str]]:
        """Accept every attested recommendation not yet decided; those the gate rules refuse are left, by name."""
        _require_admin(actor, "decide in the quarterly audit")
        audit = _open(await self.get(audit_ref, tenant_id))
        refused: dict[str, str] = {}
        for item in audit.items:
            if item.decision is not None or item.attestation is None:
                continue
            try:
                audit = await self.decide(tenant_id, audit_ref, item.pilot_id, actor)
            except ValidationFailed as exc:
                refused[item.name] = " ".join(exc.fields.values())
        return audit, refused

    async def _check(self, audit: QuarterlyAudit, item: AuditItem, actor: Actor) -> None:
        draft = decision_draft(audit, item)
        pilot = await self._pilots.get(item.pilot_id, audit.tenant_id)
        if draft is None or pilot is None or item.is_draft:
            return
        now = self._clock.now()
        try:
            apply_decision(pilot, draft, True, True, local_date(now, pilot.timezone), actor.person, now)
        except GateAlreadyDecided:
            return  # decided at its gate meanwhile: closing says so rather than overriding it
        except ValidationFailed as exc:
            raise ValidationFailed(
                {_DECISION_FIELDS.get(k, RECOMMENDATION): v for k, v in exc.fields.items()}
            ) from None

    # -- close -------------------------------------------------------------------------------------------------

    async def close(self, tenant_id: str, audit_ref: str, actor: Actor) -> QuarterlyAudit:
        """Record every decision as a gate decision with its date, close the audit, and tell leadership.

        Safe to press twice or by two admins at once: each decision is one conditional write keyed by the gate
        (PilotService.decide), and a decision this audit already recorded is recognised by its rationale.
        """
        _require_admin(actor, "close the quarterly audit")
        audit = await self.get(audit_ref, tenant_id)
        if audit.status is AuditStatus.CLOSED:
            return audit
        undecided = audit.undecided
        if undecided:
            listed = ", ".join(item.name for item in undecided[:5]) + (", ..." if len(undecided) > 5 else "")
            raise ValidationFailed(
                {"audit": f"{_count(len(undecided))} no decision yet: {listed}. Decide each before closing."}
            )
        refused: dict[str, str] = {}
        for item in audit.items:
            try:
                await self._check(audit, item, actor)
            except ValidationFailed as exc:
                refused[item.pilot_id] = f"{item.name}: " + " ".join(exc.fields.values())
        if refused:
            raise ValidationFailed(refused, "Some decisions need another date before the audit can close.")
        outcomes = {item.pilot_id: await self._carry_out(audit, item, actor) for item in audit.items}
        now = self._clock.now()

        async def attempt() -> QuarterlyAudit:
            current = await self.get(audit_ref, tenant_id)
            if current.status is AuditStatus.CLOSED:  # another admin closed it meanwhile
                return current
            items = tuple(dataclasses.replace(i, outcome=outcomes.get(i.pilot_id, i.outcome)) for i in current.items)
            closed = dataclasses.replace(
                current, items=items, status=AuditStatus.CLOSED, closed_by=actor.person, closed_at=now
            )
            return await self._audits.save(closed)

        closed = await retry_on_conflict(attempt, gave_up="The audit kept changing; press Close again.")
        if self._agenda is not None:  # the next sweep posts the summary to leadership, once (scheduler.audit_summary)
            await self._agenda.set(AgendaEntry(tenant_subject(tenant_id), tenant_id, now))
        return closed

    async def _carry_out(self, audit: QuarterlyAudit, item: AuditItem, actor: Actor) -> Outcome:
        draft = decision_draft(audit, item)
        if item.is_draft:
            return Outcome.DRAFT
        pilot = await self._pilots.get(item.pilot_id, audit.tenant_id)
        if pilot is None or draft is None or item.gate_date is None:
            return Outcome.NOT_A_PILOT
        try:
            await self._pilot_service.decide(pilot.id, audit.tenant_id, item.gate_date, draft, actor)
        except GateAlreadyDecided:
            record = await self._pilot_service.record(pilot)
            ours = [
                d
                for d in record.decisions
                if d.gate_date == item.gate_date and d.rationale.startswith(rationale_prefix(audit))
            ]
            if ours:
                return Outcome.DECIDED
            if any(d.gate_date == item.gate_date for d in record.decisions):
                return Outcome.DECIDED_AT_GATE
            return Outcome.NOT_A_PILOT
        return Outcome.DECIDED


async def latest_closed_audit(audits: QuarterlyAuditRepository, tenant_id: str) -> QuarterlyAudit | None:
    """For the monthly report: the tenant's newest closed audit (``quarterly_audit.summary_of`` gives its outcome:
    initiatives, attested, decisions by kind, gaps by kind), or None before the first one closes."""
    return next((a for a in await audits.list_for(tenant_id) if a.status is AuditStatus.CLOSED), None)


def _count(n: int) -> str:
    return "1 initiative has" if n == 1 else f"{n} initiatives have"


def _require_admin(actor: Actor, action: str) -> None:
    if not actor.is_admin:
        raise AdminsOnly(action)


def _open(audit: QuarterlyAudit) -> QuarterlyAudit:
    if audit.status is not AuditStatus.OPEN:
        raise AuditClosed(f"The audit {audit.quarter} is closed; its record no longer changes.")
    return audit


def _item(audit: QuarterlyAudit, pilot_id: str) -> AuditItem:
    item = audit.item(pilot_id)
    if item is None:
        raise RecordNotFound("That initiative is not in this audit.")
    return item
