"""The quarterly audit in Teams: ``audit`` opens the quarter's audit (or shows the open one's board); the sponsor's
attestation card; the admin's board with accept, change, accept all and close. Each handler reads its card through
one submission model, calls QuarterlyAuditService (which checks who asks) and answers a card."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bots.turn import STALE_CARD_REPLY, Reply, Turn
from cards.audit import attestation_card, attested_card, audit_board_card
from cards.audit_submissions import (
    AttestationRef,
    AttestationSubmission,
    AuditDecisionSubmission,
    AuditRef,
    attestation_errors,
)
from cards.submissions import read
from governance.errors import AdminsOnly, NotAuditor, ValidationFailed
from governance.model import ConversationKind
from governance.quarterly_audit import QuarterlyAudit


async def open_audit(turn: Turn, argument: str) -> None:
    """The `audit` command (admins): open this quarter's audit, or show the open one's board."""
    actor = turn.asker.actor
    if not actor.is_admin:
        await turn.say("Only governance admins can run the quarterly audit.")
        return
    audit, opened = await turn.app.audits.open(turn.asker.tenant_id, actor)
    if opened:
        notice = (
            f"Audit {audit.quarter} opened with {len(audit.items)} initiatives. Each sponsor gets an attestation "
            "card per initiative, with reminders after 3 and 7 business days."
        )
    else:
        notice = ""
    await turn.show(audit_board_card(audit, notice=notice, refresh_for=_refresh_for(turn)))


async def show_board(turn: Turn, data: dict[str, Any]) -> Reply:
    """``audit.view``: the board as it stands (a page, or its refresh). Admins only; writes nothing."""
    try:
        ref = read(AuditRef, data)
    except ValidationFailed:
        return Reply(text=STALE_CARD_REPLY)
    if not turn.asker.actor.is_admin:
        raise AdminsOnly("see the audit board")
    audit = await turn.app.audits.get(ref.audit_id, turn.asker.tenant_id)
    return _board(turn, audit, ref.number)


async def show_attestation(turn: Turn, data: dict[str, Any]) -> Reply:
    """``audit.attestation``: the attestation card as it stands (its refresh): the form while the audit is open and the
    initiative not attested, else what was attested. The sponsor's and the admins' view; writes nothing."""
    try:
        ref = read(AttestationRef, data)
    except ValidationFailed:
        return Reply(text=STALE_CARD_REPLY)
    audit = await turn.app.audits.get(ref.audit_id, turn.asker.tenant_id)
    item = audit.item(ref.pilot_id)
    if item is None:
        return Reply(text=STALE_CARD_REPLY)
    actor = turn.asker.actor
    if not actor.is_admin and actor.aad_object_id.lower() != item.sponsor.aad_object_id.lower():
        raise NotAuditor(f"Only the sponsor of {item.name} can attest it.")
    return Reply(card=attestation_card(audit, item))


async def attest(turn: Turn, data: dict[str, Any]) -> Reply:
    """``audit.attest``: the sponsor's answer; field errors next to each input; refused to anyone else."""
    try:
        submission = read(AttestationSubmission, data)
    except ValidationFailed:
        return Reply(text=STALE_CARD_REPLY)
    service = turn.app.audits
    audit = await service.get(submission.audit_id, turn.asker.tenant_id)
    item = audit.item(submission.pilot_id)
    if item is None:
        return Reply(text=STALE_CARD_REPLY)
    if turn.asker.actor.aad_object_id.lower() != item.sponsor.aad_object_id.lower():
        raise NotAuditor(f"Only the sponsor of {item.name} can attest it.")
    values = submission.values()
    try:
        draft = submission.to_draft()
        audit = await service.attest(audit.tenant_id, audit.id, item.pilot_id, draft, turn.asker.actor)
    except ValidationFailed as exc:
        return Reply(card=attestation_card(audit, item, values, attestation_errors(exc.fields)))
    done = audit.item(item.pilot_id)
    card = attested_card(audit, done if done is not None else item)
    await turn.replace_pressed_card(card)
    return Reply(card=card)


async def decide(turn: Turn, data: dict[str, Any]) -> Reply:
    """``audit.decide``: accept the recommendation or record another one, with its date."""
    try:
        submission = read(AuditDecisionSubmission, data)
    except ValidationFailed:
        return Reply(text=STALE_CARD_REPLY)
    service = turn.app.audits
    tenant_id = turn.asker.tenant_id
    try:
        change = submission.change()
        audit = await service.decide(tenant_id, submission.audit_id, submission.pilot_id, turn.asker.actor, change)
    except ValidationFailed as exc:
        audit = await service.get(submission.audit_id, tenant_id)
        return _board(turn, audit, submission.number, _board_errors(submission.pilot_id, exc.fields))
    return _board(turn, audit, submission.number)


async def accept_all(turn: Turn, data: dict[str, Any]) -> Reply:
    try:
        ref = read(AuditRef, data)
    except ValidationFailed:
        return Reply(text=STALE_CARD_REPLY)
    audit, refused = await turn.app.audits.accept_all(turn.asker.tenant_id, ref.audit_id, turn.asker.actor)
    by_id = {item.name: item.pilot_id for item in audit.items}
    errors = {by_id[name]: problem for name, problem in refused.items() if name in by_id}
    return _board(turn, audit, ref.number, errors)


async def close(turn: Turn, data: dict[str, Any]) -> Reply:
    try:
        ref = read(AuditRef, data)
    except ValidationFailed:
        return Reply(text=STALE_CARD_REPLY)
    service = turn.app.audits
    try:
        audit = await service.close(turn.asker.tenant_id, ref.audit_id, turn.asker.actor)
    except ValidationFailed as exc:
        return _board(turn, await service.get(ref.audit_id, turn.asker.tenant_id), ref.number, exc.fields)
    notice = f"Audit {audit.quarter} closed: each decision is recorded with its date."
    card = audit_board_card(audit, ref.number, notice=notice, refresh_for=_refresh_for(turn))
    await turn.replace_pressed_card(card)
    return Reply(card=card)


def _board(turn: Turn, audit: QuarterlyAudit, page: int, errors: dict[str, str] | None = None) -> Reply:
    return Reply(card=audit_board_card(audit, page, errors, refresh_for=_refresh_for(turn)))


def _board_errors(pilot_id: str, fields: dict[str, str]) -> dict[str, str]:
    """The service's errors (recommendation, recommendedDate, note) onto the board's inputs for that initiative."""
    suffix = {"recommendation": "rec", "recommendedDate": "date", "note": "note"}
    out = {f"{suffix[k]}_{pilot_id}" if k in suffix else k: v for k, v in fields.items()}
    out[pilot_id] = " ".join(fields.values())
    return out


def _refresh_for(turn: Turn) -> Sequence[str] | None:
    """The board refreshes for the admin who asked; in a 1:1 chat Teams needs no user ids."""
    if turn.asker.conversation_kind is ConversationKind.PERSONAL:
        return None
    sender = turn.context.activity.from_property
    return [sender.id] if sender is not None and sender.id else []
