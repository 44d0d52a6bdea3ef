"""Registering a pilot: `new pilot` shows the form; "Create pilot" registers it, or shows the form again with each
problem next to its input and the values kept. A double click registers once: the second press finds the name
taken and is answered with the pilot that exists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from microsoft_teams.cards import AdaptiveCard

from bots.turn import STALE_CARD_REPLY, Reply, Turn
from cards.pilot_form import draft_form, form_errors, new_pilot_form, pilot_created_card
from cards.submissions import NewPilotSubmission, PilotRef, read
from governance.errors import DuplicatePilot, GovernanceError, NotPilotOwner, ValidationFailed
from governance.localtime import local_date
from governance.model import ConversationKind, Pilot, Stage
from governance.portfolio import Reach
from governance.rules import PilotDraft, default_gate_date, name_key
from governance.services import may_change

DOUBLE_CLICK_WINDOW = timedelta(minutes=2)
NOT_YOUR_PILOT = "You can register pilots you sponsor; a governance admin can register any."


async def show_pilot_form(turn: Turn, *, name: str = "") -> None:
    await turn.show(await _form(turn, {"name": name} if name else {}, {}))


async def create_pilot(turn: Turn, data: dict[str, Any]) -> Reply:
    try:
        submission = read(NewPilotSubmission, data)
    except ValidationFailed as exc:
        return Reply(card=await _form(turn, {}, exc.fields))
    values = submission.values
    asker = turn.asker
    sponsor_name = await _person_name(turn, submission.sponsor_id)
    lead_name = await _person_name(turn, submission.lead_id)
    today = local_date(turn.app.clock.now(), "UTC")
    try:
        draft = submission.to_draft(sponsor_name, today, lead_name)
    except ValidationFailed as exc:
        return Reply(card=await _form(turn, values, exc.fields))
    try:
        pilot = await turn.app.pilots.register(draft, asker.tenant_id, asker.actor)
    except ValidationFailed as exc:
        return Reply(card=await _form(turn, values, form_errors(exc.fields)))
    except NotPilotOwner:
        return Reply(card=await _form(turn, values, {"sponsor": NOT_YOUR_PILOT}))
    except DuplicatePilot as exc:
        twin = await _same_registration(turn, draft)
        if twin is not None:  # the other press of a double click: show what it registered
            return Reply(card=pilot_created_card(twin))
        return Reply(card=await _form(turn, values, {"name": exc.message}))
    await turn.app.last_pilot.set(turn.context, pilot.id)
    return Reply(card=pilot_created_card(pilot, await _reach(turn, pilot)))


async def complete_pilot(turn: Turn, data: dict[str, Any]) -> Reply:
    """A draft's sponsor (or an admin) completes it from its card: checked as a full pilot, it becomes one."""
    try:
        ref = read(PilotRef, data)
        submission = read(NewPilotSubmission, data)
    except ValidationFailed:
        return Reply(text=STALE_CARD_REPLY)
    asker = turn.asker
    pilot = await turn.app.pilots.get(ref.pilot_id, asker.tenant_id)
    if not may_change(pilot, asker.actor):
        raise NotPilotOwner("complete this draft")
    if not pilot.is_draft:  # completed already (a second press, or another person): show what it is now
        return Reply(card=pilot_created_card(pilot, await _reach(turn, pilot)))
    values = submission.values
    today = local_date(turn.app.clock.now(), "UTC")
    if not asker.actor.is_admin and submission.sponsor_id != asker.actor.aad_object_id.lower():
        return Reply(card=draft_form(pilot, today, values, {"sponsor": NOT_YOUR_PILOT}))
    try:
        sponsor_name = await _person_name(turn, submission.sponsor_id)
        draft = submission.to_draft(sponsor_name, today, await _person_name(turn, submission.lead_id))
    except ValidationFailed as exc:
        return Reply(card=draft_form(pilot, today, values, exc.fields))
    assert draft.start_date is not None  # the form defaults it to today
    changes = {
        "name": draft.name,
        "sponsor": draft.sponsor,
        "metrics": draft.metrics,
        "start_date": draft.start_date,
        "gate_date": draft.gate_date or default_gate_date(draft.start_date),
        "timezone": draft.timezone,
        "budget_monthly": draft.budget_monthly,
        "intended_users": draft.intended_users,
        "scale_plan": draft.scale_plan,
        "workflow": draft.workflow,
        "lead": draft.lead,
        "checkin_recipient": draft.checkin_recipient,
        "governance": {**pilot.governance, **draft.governance},
        "stage": Stage.PILOT,
    }
    try:
        completed = await turn.app.pilots.update(pilot.id, changes, asker.actor, pilot.tenant_id)
    except ValidationFailed as exc:
        return Reply(card=draft_form(pilot, today, values, form_errors(exc.fields)))
    except DuplicatePilot as exc:
        return Reply(card=draft_form(pilot, today, values, {"name": exc.message}))
    summary = pilot_created_card(completed, await _reach(turn, completed))
    await turn.replace_pressed_card(summary)
    return Reply(card=summary)


async def _reach(turn: Turn, pilot: Pilot) -> Reach:
    """Whether check-ins can reach the sponsor. Someone registering their own pilot in their 1:1 chat with the bot
    is reached right here; anyone else is looked up as the sweep would."""
    asker = turn.asker
    if (
        asker.conversation_kind is ConversationKind.PERSONAL
        and asker.actor.aad_object_id == pilot.sponsor.aad_object_id
    ):
        return Reach.CHAT
    return (await turn.app.portfolio.sponsor_route(pilot)).reach


async def _same_registration(turn: Turn, draft: PilotDraft) -> Pilot | None:
    """The pilot this person registered with the same name and sponsor moments ago, if that is what took the name."""
    try:
        existing = await turn.app.pilots.find(turn.asker.tenant_id, draft.name)
    except GovernanceError:
        return None
    recent = existing.created_at is not None and turn.app.clock.now() - existing.created_at <= DOUBLE_CLICK_WINDOW
    same = (
        existing.created_by == turn.asker.actor.aad_object_id
        and existing.sponsor.aad_object_id == draft.sponsor.aad_object_id
        and name_key(existing.name) == name_key(draft.name)
    )
    return existing if recent and same else None


async def _person_name(turn: Turn, person_id: str) -> str:
    """The name of the sponsor or lead picked: the asker's own, or as a team roster knows them ("" if unknown)."""
    actor = turn.asker.actor
    if person_id == actor.aad_object_id.lower():
        return actor.name
    if not person_id:
        return ""
    member = await turn.app.members.find(turn.asker.tenant_id, person_id)
    return member.name if member else ""


async def _form(turn: Turn, values: dict[str, str], errors: dict[str, str]) -> AdaptiveCard:
    asker = turn.asker
    members = await turn.app.members.list_for_tenant(asker.tenant_id)
    known = sorted(((m.aad_object_id, m.name or m.aad_object_id) for m in members), key=lambda p: p[1])
    others = known if asker.actor.is_admin else []  # only admins may register a pilot for someone else
    today = local_date(turn.app.clock.now(), "UTC")
    actor = asker.actor
    return new_pilot_form(
        values,
        errors,
        actor.name or "Me",
        actor.aad_object_id,
        today,
        others,
        people_picker=actor.is_admin,
        leads=known,  # anyone may name a lead among the people the bot knows
    )
