"""The Teams activity handler: turns activities into service calls and answers with cards. No rules live here.

Commands and card verbs are routed through one table each. Every turn first checks the tenant (nothing about a
foreign tenant is stored), then refreshes the conversation reference (Teams can change serviceUrl).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from http import HTTPStatus
from typing import Any

from botbuilder.core import ConversationState, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount, InvokeResponse

from bots.commands import COMMANDS
from bots.forms import form_values, parse_new_pilot
from cards import verbs
from cards.checkin import checkin_card, checkin_summary_card
from cards.choose import choose_pilot_card, not_found_text
from cards.gate import decision_summary_text, gate_card
from cards.help import help_card, welcome_card
from cards.pilot_form import form_errors, new_pilot_form, pilot_created_card
from cards.portfolio import overdue_card, portfolio_card
from cards.status import status_card
from cards.text import attachment, plain
from config import Settings
from governance.checkin import parse_checkin
from governance.errors import (
    AmbiguousPilot,
    ConcurrencyConflict,
    DeliveryFailed,
    DuplicatePilot,
    GateAlreadyDecided,
    GovernanceError,
    NotPilotOwner,
    PilotNotFound,
    StorageUnavailable,
    Undeliverable,
    ValidationFailed,
)
from governance.gate_view import GateView, gate_view
from governance.model import ChannelLink, ConversationKind, ConversationRef, Pilot, ReadingSource, TeamMember
from governance.ports import Clock, ConversationRepository, MemberRepository, Messenger
from governance.rules import PERIOD_RE, local_date, previous_period
from governance.services import Actor, PilotService, may_change
from governance.views import PilotStatus, pilot_status

logger = logging.getLogger(__name__)

FOREIGN_TENANT_REPLY = "Sorry, PilotGate is not enabled for your organization."
UNKNOWN_COMMAND_REPLY = "I didn't catch that. Type **help** to see what I can do."
STORAGE_DOWN_REPLY = "I can't reach my storage right now, so nothing was changed. Please try again in a minute."

CardDict = dict[str, Any]
MAX_REMEMBERED_CONVERSATIONS = 50_000


@dataclass(frozen=True, slots=True)
class Asker:
    """Who sent the activity and from where."""

    actor: Actor
    tenant_id: str
    conversation_kind: ConversationKind


@dataclass(frozen=True, slots=True)
class Reply:
    """What a verb handler answers: a card (replaces the pressed card) or a short text."""

    card: CardDict | None = None
    text: str | None = None


def parse_command(text: str) -> tuple[str, str]:
    """('status', 'Claims triage') from '  STATUS   Claims triage '; ('', text) when no command matches."""
    words = text.split()
    lowered = [w.lower() for w in words]
    if lowered[:2] == ["new", "pilot"]:
        return "new pilot", " ".join(words[2:])
    if lowered and lowered[0] in {"help", "pilots", "status", "overdue", "link", "portfolio", "?"}:
        command = {"portfolio": "pilots", "?": "help"}.get(lowered[0], lowered[0])
        return command, " ".join(words[1:])
    return "", " ".join(words)


_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


class PilotGateBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(
        self,
        settings: Settings,
        service: PilotService,
        conversations: ConversationRepository,
        members: MemberRepository,
        conversation_state: ConversationState,
        clock: Clock,
        messenger: Messenger,
    ) -> None:
        super().__init__()
        self._messenger = messenger
        self._settings = settings
        self._service = service
        self._conversations = conversations
        self._members = members
        self._conversation_state = conversation_state
        self._last_pilot = conversation_state.create_property("lastPilotId")
        self._clock = clock
        # Which serviceUrl each conversation was last stored with: saves a write on every turn.
        self._known_service_urls: dict[str, str] = {}
        self._commands: dict[str, Callable[[TurnContext, Asker, str], Awaitable[None]]] = {
            "help": self._help,
            "pilots": self._pilots,
            "status": self._status,
            "overdue": self._overdue,
            "new pilot": self._new_pilot,
            "link": self._link,
        }
        self._verbs: dict[str, Callable[[TurnContext, Asker, dict[str, Any]], Awaitable[Reply]]] = {
            verbs.PILOT_CREATE: self._create_pilot,
            verbs.PILOT_STATUS: self._status_by_id,
            verbs.PILOTS_PAGE: self._pilots_page,
            verbs.CHECKIN_SUBMIT: self._submit_checkin,
            verbs.GATE_DECIDE: self._decide,
        }

    # -- every turn ------------------------------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant_id = tenant_of(activity)
        # No tenant (not Teams, e.g. the Bot Framework Emulator) is refused like a foreign one: every record is
        # scoped to a tenant.
        if not tenant_id or not self._settings.tenant_allowed(tenant_id):
            await self._refuse_foreign_tenant(turn_context)
            return
        await self._remember_conversation(activity, tenant_id)
        await super().on_turn(turn_context)
        await self._conversation_state.save_changes(turn_context)

    async def _refuse_foreign_tenant(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        logger.info("refused an activity of type %s from a tenant not in ALLOWED_TENANTS", activity.type)
        if activity.type == ActivityTypes.invoke:
            response = invoke_message(FOREIGN_TENANT_REPLY, HTTPStatus.FORBIDDEN)
            await turn_context.send_activity(Activity(type=ActivityTypes.invoke_response, value=response))
        elif activity.type == ActivityTypes.message:
            await turn_context.send_activity(FOREIGN_TENANT_REPLY)

    async def _remember_conversation(self, activity: Activity, tenant_id: str) -> None:
        if activity.conversation is None or not activity.conversation.id or not activity.service_url:
            return
        conversation_id = base_conversation_id(activity)
        if self._known_service_urls.get(conversation_id) == activity.service_url:
            return
        for _ in range(3):  # install events arrive in pairs, milliseconds apart: write conditionally
            existing = await self._conversations.get(tenant_id, conversation_id)
            try:
                if existing is None:
                    await self._conversations.add(conversation_ref_of(activity, tenant_id, self._clock))
                elif existing.service_url != activity.service_url or not existing.active or existing.undeliverable:
                    await self._conversations.save(
                        dataclasses.replace(
                            existing, service_url=activity.service_url, active=True, undeliverable=False
                        )
                    )
            except ConcurrencyConflict:  # AlreadyExists too: another turn wrote it; look again
                continue
            if len(self._known_service_urls) >= MAX_REMEMBERED_CONVERSATIONS:
                self._known_service_urls.clear()  # a cache: forgetting costs one read per conversation
            self._known_service_urls[conversation_id] = activity.service_url
            return

    # -- install / uninstall ---------------------------------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        # Teams also sends conversationUpdate on install; either may come first, both are idempotent.
        await self._greet_once(turn_context)
        await self._learn_roster(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._deactivate(turn_context)

    async def on_teams_members_added(
        self, members_added: list[ChannelAccount], team_info: Any, turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id == bot_id for m in members_added):
            await self._greet_once(turn_context)  # Teams also sends installationUpdate; the first one greets
            await self._learn_roster(turn_context)
        else:
            await self._learn_members(turn_context, members_added)

    async def on_teams_members_removed(
        self, members_removed: list[ChannelAccount], team_info: Any, turn_context: TurnContext
    ) -> None:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        if any(m.id == bot_id for m in members_removed):
            await self._deactivate(turn_context)

    async def _greet_once(self, turn_context: TurnContext) -> None:
        """Mark the conversation greeted with a conditional write, then greet: two install events, one card."""
        activity = turn_context.activity
        tenant_id = tenant_of(activity)
        for _ in range(3):
            ref = await self._conversations.get(tenant_id, base_conversation_id(activity))
            if ref is None:
                return  # _remember_conversation stores it first; nothing to greet without it
            if ref.greeted:
                return
            try:
                await self._conversations.save(dataclasses.replace(ref, greeted=True, active=True))
            except ConcurrencyConflict:
                continue
            in_channel = conversation_kind(activity) is not ConversationKind.PERSONAL
            await turn_context.send_activity(_card_activity(welcome_card(in_channel)))
            return

    async def _deactivate(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant_id = tenant_of(activity)
        ref = await self._conversations.get(tenant_id, base_conversation_id(activity))
        if ref is not None:
            await self._conversations.upsert(dataclasses.replace(ref, active=False))
        self._known_service_urls.pop(base_conversation_id(activity), None)

    async def _learn_roster(self, turn_context: TurnContext) -> None:
        """Learn members' Teams ids so a sponsor registered by Entra id can be reached 1:1 later."""
        if conversation_kind(turn_context.activity) is ConversationKind.PERSONAL:
            await self._learn_members(turn_context, [turn_context.activity.from_property])
            return
        try:
            members: list[Any] = []
            token = None
            while True:
                page = await TeamsInfo.get_paged_members(turn_context, token, 500)
                members.extend(page.members or [])
                token = page.continuation_token
                if not token:
                    break
        except Exception:  # the roster is a convenience: install must not fail because of it
            logger.warning("could not read the roster of a newly joined conversation", exc_info=True)
            return
        await self._learn_members(turn_context, members)

    async def _learn_members(self, turn_context: TurnContext, members: list[Any]) -> None:
        tenant_id = tenant_of(turn_context.activity)
        for member in members:
            aad = getattr(member, "aad_object_id", None)
            if not aad or not member.id or member.id.startswith("28:"):
                continue
            await self._members.upsert(
                TeamMember(
                    tenant_id=tenant_id,
                    aad_object_id=aad,
                    user_id=member.id,
                    name=member.name or "",
                    service_url=turn_context.activity.service_url or "",
                    bot_id=turn_context.activity.recipient.id if turn_context.activity.recipient else "",
                    updated_at=self._clock.now(),
                )
            )

    # -- messages --------------------------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        asker = self._asker(activity)
        if isinstance(activity.value, dict) and activity.value.get("verb"):  # Action.Submit fallback
            data = dict(activity.value)
            reply = await self._run_verb(turn_context, asker, str(data.pop("verb")), data)
            await self._send_reply(turn_context, reply)
            return
        command, argument = parse_command(command_text(activity))
        handler = self._commands.get(command)
        if handler is None:
            await turn_context.send_activity(UNKNOWN_COMMAND_REPLY)
            return
        try:
            await handler(turn_context, asker, argument)
        except GovernanceError as exc:
            await turn_context.send_activity(friendly(exc))

    async def _help(self, turn_context: TurnContext, asker: Asker, argument: str) -> None:
        await turn_context.send_activity(_card_activity(help_card([(c.title, c.description) for c in COMMANDS])))

    async def _pilots(self, turn_context: TurnContext, asker: Asker, argument: str) -> None:
        statuses = await self._statuses(asker.tenant_id)
        await turn_context.send_activity(_card_activity(portfolio_card(statuses)))

    async def _overdue(self, turn_context: TurnContext, asker: Asker, argument: str) -> None:
        statuses = [s for s in await self._statuses(asker.tenant_id) if s.needs_attention]
        unreachable: list[str] = []
        if asker.actor.is_admin:
            unreachable = await self._unreachable_sponsors(asker.tenant_id)
        await turn_context.send_activity(_card_activity(overdue_card(statuses, unreachable)))

    async def _status(self, turn_context: TurnContext, asker: Asker, argument: str) -> None:
        if not argument:
            last = await self._last_pilot.get(turn_context)
            if not last:
                await turn_context.send_activity("Which pilot? Type **status** and the pilot's name.")
                return
            pilot = await self._service.get(str(last), asker.tenant_id)
        else:
            try:
                pilot = await self._service.find(asker.tenant_id, argument)
            except AmbiguousPilot as exc:
                pilots = await self._service.list(asker.tenant_id)
                options = [(p.id, p.name) for p in pilots if p.name in exc.candidates]
                await turn_context.send_activity(_card_activity(choose_pilot_card(argument, options)))
                return
        await self._last_pilot.set(turn_context, pilot.id)
        await turn_context.send_activity(_card_activity(status_card(await self._status_of(pilot))))

    async def _new_pilot(self, turn_context: TurnContext, asker: Asker, argument: str) -> None:
        values = {"name": argument} if argument else {}
        await turn_context.send_activity(_card_activity(await self._pilot_form(asker, values, {})))

    async def _link(self, turn_context: TurnContext, asker: Asker, argument: str) -> None:
        activity = turn_context.activity
        if asker.conversation_kind is not ConversationKind.CHANNEL:
            await turn_context.send_activity("Use **link <pilot>** in the pilot's project channel, after @PilotGate.")
            return
        if not argument:
            await turn_context.send_activity("Which pilot? Type **link** and the pilot's name.")
            return
        pilot = await self._service.find(asker.tenant_id, argument)
        channel_data = activity.channel_data or {}
        channel = ChannelLink(
            conversation_id=base_conversation_id(activity),
            team_id=str((channel_data.get("team") or {}).get("id", "")),
            name=str((channel_data.get("channel") or {}).get("name", "")),
        )
        linked = await self._service.link_channel(pilot, channel, asker.actor)
        await turn_context.send_activity(
            f"This channel is now the project channel of **{plain(linked.name)}**: "
            "gate reminders and overdue check-ins will be posted here."
        )

    # -- card actions ----------------------------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        if activity.name != "adaptiveCard/action":
            return await super().on_invoke_activity(turn_context)
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action") or {}
        verb = str(action.get("verb") or "")
        data = dict(action.get("data") or {})
        data.pop("verb", None)
        reply = await self._run_verb(turn_context, self._asker(activity), verb, data)
        if reply.card is not None:
            return InvokeResponse(
                status=200,
                body={"statusCode": 200, "type": "application/vnd.microsoft.card.adaptive", "value": reply.card},
            )
        return invoke_message(reply.text or "Done.")

    async def _run_verb(self, turn_context: TurnContext, asker: Asker, verb: str, data: dict[str, Any]) -> Reply:
        handler = self._verbs.get(verb)
        if handler is None:
            return Reply(text="That button is from an older version of this card. Please ask again.")
        try:
            return await handler(turn_context, asker, data)
        except GovernanceError as exc:
            return Reply(text=friendly(exc))

    async def _send_reply(self, turn_context: TurnContext, reply: Reply) -> None:
        if reply.card is not None:
            await turn_context.send_activity(_card_activity(reply.card))
        elif reply.text:
            await turn_context.send_activity(reply.text)

    async def _create_pilot(self, turn_context: TurnContext, asker: Asker, data: dict[str, Any]) -> Reply:
        values = form_values(data)
        today = self._today()
        sponsor_id = values.get("sponsor", "").strip().lower()
        sponsor_name = asker.actor.name if sponsor_id == asker.actor.aad_object_id.lower() else ""
        if sponsor_id and not sponsor_name:
            member = await self._members.find(asker.tenant_id, sponsor_id)
            sponsor_name = member.name if member else ""
        try:
            draft = parse_new_pilot(values, sponsor_name, today)
            pilot = await self._service.register(draft, asker.tenant_id, asker.actor)
        except ValidationFailed as exc:
            return Reply(card=await self._pilot_form(asker, values, form_errors(exc.fields)))
        except NotPilotOwner:
            problem = {"sponsor": "You can register pilots you sponsor; a governance admin can register any."}
            return Reply(card=await self._pilot_form(asker, values, problem))
        except DuplicatePilot as exc:
            return Reply(card=await self._pilot_form(asker, values, {"name": exc.message}))
        await self._last_pilot.set(turn_context, pilot.id)
        return Reply(card=pilot_created_card(pilot))

    async def _submit_checkin(self, turn_context: TurnContext, asker: Asker, data: dict[str, Any]) -> Reply:
        pilot = await self._service.get(str(data.get("pilotId", "")), asker.tenant_id)
        if not may_change(pilot, asker.actor):
            raise NotPilotOwner("submit this check-in")
        values = {key: str(value) for key, value in data.items() if isinstance(value, str | int | float)}
        period = values.get("period", "")
        try:
            draft = parse_checkin(values, pilot)
        except ValidationFailed as exc:
            last = await self._service.reading(pilot, previous_period(period)) if PERIOD_RE.match(period) else None
            return Reply(card=checkin_card(pilot, period, last, values, exc.fields))
        reading = await self._service.record_reading(pilot.id, draft, asker.actor, ReadingSource.TEAMS, asker.tenant_id)
        summary = checkin_summary_card(pilot, reading)
        await self._replace_card(turn_context, summary)
        return Reply(card=summary)

    async def _decide(self, turn_context: TurnContext, asker: Asker, data: dict[str, Any]) -> Reply:
        values = {key: str(value) for key, value in data.items() if isinstance(value, str | int | float)}
        try:
            gate = date.fromisoformat(values.get("gateDate", ""))
        except ValueError:
            return Reply(text="This card is incomplete. Type **status** and the pilot's name for a fresh one.")
        pilot_id, kind = values.get("pilotId", ""), values.get("kind", "")
        try:
            pilot, decision = await self._service.decide(pilot_id, asker.tenant_id, gate, kind, values, asker.actor)
        except ValidationFailed as exc:
            pilot = await self._service.get(pilot_id, asker.tenant_id)
            return Reply(card=_render_gate(await self._gate_view(pilot, gate), gate, values, exc.fields))
        except GateAlreadyDecided as exc:
            # The second of two presses (or a stale card): show the decision that was made.
            pilot = await self._service.get(pilot_id, asker.tenant_id)
            view = await self._gate_view(pilot, gate)
            return Reply(card=_render_gate(view, gate, {}, {})) if view.decided else Reply(text=exc.message)
        card = _render_gate(await self._gate_view(pilot, gate), gate, {}, {})
        await self._replace_card(turn_context, card)
        await self._announce(turn_context, pilot, decision_summary_text(pilot, decision))
        return Reply(card=card)

    async def _gate_view(self, pilot: Pilot, gate: date) -> GateView:
        record = await self._service.record(pilot)
        today = local_date(self._clock.now(), pilot.timezone)
        return gate_view(pilot, record.readings, record.decisions, today, decided_gate=gate)

    async def _announce(self, turn_context: TurnContext, pilot: Pilot, line: str) -> None:
        """One line in the pilot's project channel: in this turn if we are there, else as a new post."""
        if pilot.channel is None:
            return
        if base_conversation_id(turn_context.activity) == pilot.channel.conversation_id:
            await turn_context.send_activity(line)
            return
        target = await self._conversations.get(pilot.tenant_id, pilot.channel.conversation_id)
        if target is None:
            return
        try:
            await self._messenger.send(target, text=line)
        except (DeliveryFailed, Undeliverable) as exc:  # the decision is recorded; the post is news
            logger.warning("could not post the decision of pilot %s to its channel: %s", pilot.id, exc.message)

    async def _replace_card(self, turn_context: TurnContext, card: CardDict) -> None:
        """The invoke answer updates the presser's view; updating the message shows it on every device too."""
        activity = turn_context.activity
        if not activity.reply_to_id:
            return
        update = _card_activity(card)
        update.id = activity.reply_to_id
        try:
            await turn_context.update_activity(update)
        except Exception:  # the reading is stored and the presser sees the summary; other devices catch up later
            logger.warning("could not update the check-in card for everyone", exc_info=True)

    async def _status_by_id(self, turn_context: TurnContext, asker: Asker, data: dict[str, Any]) -> Reply:
        pilot = await self._service.get(str(data.get("pilotId", "")), asker.tenant_id)
        await self._last_pilot.set(turn_context, pilot.id)
        return Reply(card=status_card(await self._status_of(pilot)))

    async def _pilots_page(self, turn_context: TurnContext, asker: Asker, data: dict[str, Any]) -> Reply:
        try:
            page = max(1, int(str(data.get("page", "1"))))
        except ValueError:
            page = 1
        return Reply(card=portfolio_card(await self._statuses(asker.tenant_id), page=page))

    # -- helpers ---------------------------------------------------------------------------------------------

    def _asker(self, activity: Activity) -> Asker:
        sender = activity.from_property
        aad = (getattr(sender, "aad_object_id", None) or "").lower()
        actor = Actor(aad, (sender.name if sender else "") or "", is_admin=self._settings.is_admin(aad))
        return Asker(actor, tenant_of(activity), conversation_kind(activity))

    def _today(self) -> date:
        return self._clock.now().date()

    async def _pilot_form(self, asker: Asker, values: dict[str, str], errors: dict[str, str]) -> CardDict:
        others: list[tuple[str, str]] = []
        if asker.actor.is_admin:  # only admins may register a pilot for someone else
            members = await self._members.list_for_tenant(asker.tenant_id)
            others = sorted(((m.aad_object_id, m.name or m.aad_object_id) for m in members), key=lambda p: p[1])
        actor = asker.actor
        return new_pilot_form(values, errors, actor.name or "Me", actor.aad_object_id, self._today(), others)

    async def _status_of(self, pilot: Pilot) -> PilotStatus:
        record = await self._service.record(pilot)
        return pilot_status(pilot, record.readings, record.decisions, local_date(self._clock.now(), pilot.timezone))

    async def _statuses(self, tenant_id: str) -> list[PilotStatus]:
        return [await self._status_of(p) for p in await self._service.list(tenant_id)]

    async def _unreachable_sponsors(self, tenant_id: str) -> list[str]:
        names: list[str] = []
        for pilot in await self._service.list(tenant_id):
            if not pilot.stage.is_active:
                continue
            ref = await self._conversations.find_personal(tenant_id, pilot.sponsor.aad_object_id)
            member = await self._members.find(tenant_id, pilot.sponsor.aad_object_id)
            reachable = (ref is not None and ref.active and not ref.undeliverable) or (ref is None and member)
            if not reachable:
                names.append(f"{pilot.sponsor.name or pilot.sponsor.aad_object_id} ({pilot.name})")
        return names


# -- activity helpers --------------------------------------------------------------------------------------------


def tenant_of(activity: Activity) -> str:
    conversation_tenant = getattr(activity.conversation, "tenant_id", None) if activity.conversation else None
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = conversation_tenant or (channel_data.get("tenant") or {}).get("id") or ""
    return str(tenant).lower()


def conversation_kind(activity: Activity) -> ConversationKind:
    kind = getattr(activity.conversation, "conversation_type", None) if activity.conversation else None
    if kind == "channel":
        return ConversationKind.CHANNEL
    if kind == "groupChat":
        return ConversationKind.GROUP_CHAT
    return ConversationKind.PERSONAL


def command_text(activity: Activity) -> str:
    """The text with the bot's @mention removed (channels and group chats include it)."""
    text = activity.text or ""
    if activity.recipient is not None:
        text = TurnContext.remove_recipient_mention(activity) or text
    return " ".join(_AT_TAG.sub(" ", text).split())


def conversation_ref_of(activity: Activity, tenant_id: str, clock: Clock) -> ConversationRef:
    kind = conversation_kind(activity)
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    sender = activity.from_property
    personal = kind is ConversationKind.PERSONAL
    return ConversationRef(
        conversation_id=base_conversation_id(activity),
        tenant_id=tenant_id,
        kind=kind,
        service_url=activity.service_url or "",
        bot_id=activity.recipient.id if activity.recipient else "",
        user_id=sender.id if personal and sender else "",
        aad_object_id=(getattr(sender, "aad_object_id", None) or "") if personal and sender else "",
        user_name=(sender.name or "") if personal and sender else "",
        team_id=str((channel_data.get("team") or {}).get("id", "")),
        channel_id=str((channel_data.get("channel") or {}).get("id", "")),
        updated_at=clock.now(),
    )


def base_conversation_id(activity: Activity) -> str:
    """A channel post's conversation id names its thread (``19:...;messageid=...``): keep the channel."""
    return str(activity.conversation.id).split(";", 1)[0]


def _card_activity(card: CardDict) -> Activity:
    return MessageFactory.attachment(Attachment(**_attachment_kwargs(attachment(card))))


def _attachment_kwargs(att: dict[str, Any]) -> dict[str, Any]:
    return {"content_type": att["contentType"], "content": att["content"]}


def invoke_message(text: str, status: HTTPStatus = HTTPStatus.OK) -> InvokeResponse:
    """An invoke answer that Teams shows as a short message instead of replacing the card."""
    return InvokeResponse(
        status=200,
        body={"statusCode": int(status), "type": "application/vnd.microsoft.activity.message", "value": text},
    )


def _render_gate(view: GateView, gate: date, values: dict[str, str], errors: dict[str, str]) -> CardDict:
    enabled = view.decision_enabled and gate == view.status.pilot.gate_date
    return gate_card(view.status, view.projection, view.spend, None, enabled, view.decided, values, errors)


def friendly(exc: GovernanceError) -> str:
    """One sentence a person can act on, for each named failure."""
    if isinstance(exc, PilotNotFound):
        return not_found_text(exc.name_or_id, list(exc.suggestions))
    if isinstance(exc, AmbiguousPilot):
        return f"Several pilots match '{plain(exc.query)}': {', '.join(plain(c) for c in exc.candidates)}."
    if isinstance(exc, StorageUnavailable):
        return STORAGE_DOWN_REPLY
    if isinstance(exc, ConcurrencyConflict):
        return "Someone changed this at the same moment; please try again."
    # Messages may quote a pilot's name: shown as text, never as markdown.
    if isinstance(exc, ValidationFailed):
        return plain(" ".join(exc.fields.values()) or exc.message)
    return plain(exc.message)
