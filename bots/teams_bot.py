"""The Teams activity handler: checks the tenant, keeps the books, and hands each activity to its handler.

Every turn first checks the tenant (nothing about a foreign tenant is stored), then refreshes the conversation
reference, except for message-extension queries and automatic card refreshes, which come from chats the bot need not
be part of (bots.activity.leaves_no_trace). Commands are routed through bots.commands.COMMANDS, message-extension
searches through bots.commands.SEARCH_COMMANDS, card actions by verb through bots.actions.ACTIONS.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, Final

from botbuilder.core import ConversationState, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, InvokeResponse
from botbuilder.schema.teams import MessagingExtensionQuery, MessagingExtensionResponse

from bots.actions import run_action
from bots.activity import (
    CARD_ACTION_INVOKE,
    action_of,
    asker_of,
    command_text,
    invoke_card,
    invoke_message,
    invoke_text,
    leaves_no_trace,
    search_of,
    tenant_of,
)
from bots.bookkeeping import ConversationBook
from bots.commands import parse_command, search_command
from bots.search import OLD_SEARCH_REPLY, search_message
from bots.turn import BotServices, Reply, Turn, friendly
from cards import verbs
from governance.errors import ConcurrencyConflict, GovernanceError
from governance.model import ConversationKind

logger = logging.getLogger(__name__)

FOREIGN_TENANT_REPLY: Final = "Sorry, PilotGate is not enabled for your organization."
PERSONAL_VIEWS: Final = frozenset({verbs.GATE_VIEW})
PERSONAL_VIEW_NEEDS_EXECUTE: Final = (
    "This Teams client cannot show you your own view of the card: open it in Teams on the desktop, web or mobile."
)
UNKNOWN_COMMAND_REPLY: Final = "I didn't catch that. Type **help** to see what I can do."


class PilotGateBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(self, app: BotServices, book: ConversationBook, conversation_state: ConversationState) -> None:
        super().__init__()
        self._app = app
        self._book = book
        self._conversation_state = conversation_state

    # -- every turn ------------------------------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        tenant_id = tenant_of(activity)
        # No tenant (not Teams, e.g. the Bot Framework Emulator) is refused like a foreign one: every record is
        # scoped to a tenant.
        if not tenant_id or not self._app.settings.tenant_allowed(tenant_id):
            await self._refuse_foreign_tenant(turn_context)
            return
        if not leaves_no_trace(activity):
            await self._book.remember(activity, tenant_id)
        await super().on_turn(turn_context)
        try:
            await self._conversation_state.save_changes(turn_context)
        except ConcurrencyConflict:
            # Another turn in this conversation saved first. The work is done and answered; the state only
            # remembers the last pilot looked at, and the other turn's value is as good as ours.
            logger.info("conversation state was saved by a concurrent turn; keeping theirs")

    async def _refuse_foreign_tenant(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        logger.info("refused an activity of type %s from a tenant not in ALLOWED_TENANTS", activity.type)
        if activity.type == ActivityTypes.invoke:  # answered in the shape the invoke takes, or Teams shows an error
            response = invoke_text(activity, FOREIGN_TENANT_REPLY, HTTPStatus.FORBIDDEN)
            await turn_context.send_activity(Activity(type=ActivityTypes.invoke_response, value=response))
        elif activity.type == ActivityTypes.message:
            await turn_context.send_activity(FOREIGN_TENANT_REPLY)

    def _turn(self, turn_context: TurnContext, *, automatic: bool = False) -> Turn:
        return Turn(turn_context, asker_of(turn_context.activity, self._app.settings), self._app, automatic)

    # -- install / uninstall ---------------------------------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        # Teams also sends conversationUpdate on install; either may come first, both are idempotent.
        await self._book.greet_once(turn_context)
        await self._book.learn_roster(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        await self._book.deactivate(turn_context.activity)

    async def on_teams_members_added(
        self, members_added: list[ChannelAccount], team_info: Any, turn_context: TurnContext
    ) -> None:
        if self._is_bot_among(members_added, turn_context):
            await self._book.greet_once(turn_context)  # Teams also sends installationUpdate; the first one greets
            await self._book.learn_roster(turn_context)
        else:
            await self._book.learn_members(turn_context.activity, members_added)

    async def on_teams_members_removed(
        self, members_removed: list[ChannelAccount], team_info: Any, turn_context: TurnContext
    ) -> None:
        if self._is_bot_among(members_removed, turn_context):
            await self._book.deactivate(turn_context.activity)

    @staticmethod
    def _is_bot_among(members: list[ChannelAccount], turn_context: TurnContext) -> bool:
        bot_id = turn_context.activity.recipient.id if turn_context.activity.recipient else None
        return any(m.id == bot_id for m in members)

    # -- messages and card actions ---------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        turn = self._turn(turn_context)
        action = action_of(turn_context.activity)
        if action.verb:  # Action.Submit, the fallback of hosts without Action.Execute
            if action.verb in PERSONAL_VIEWS and turn.asker.conversation_kind is not ConversationKind.PERSONAL:
                # A Submit answer is a new post everyone in the channel sees: no one's own view goes there.
                await turn.say(PERSONAL_VIEW_NEEDS_EXECUTE)
                return
            reply = await run_action(turn, action)
            if reply.card is not None:
                await turn.show(reply.card)
            elif reply.text:
                await turn.say(reply.text)
            return
        command, argument = parse_command(command_text(turn_context.activity))
        if command is None:
            await turn.say(UNKNOWN_COMMAND_REPLY)
            return
        try:
            await command.handler(turn, argument)
        except GovernanceError as exc:
            await turn.say(friendly(exc))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if turn_context.activity.name != CARD_ACTION_INVOKE:
            return await super().on_invoke_activity(turn_context)
        action = action_of(turn_context.activity)
        reply: Reply = await run_action(self._turn(turn_context, automatic=action.automatic), action)
        if reply.card is not None:
            return invoke_card(reply.card)
        return invoke_message(reply.text or "Done.")

    # -- the message extension -------------------------------------------------------------------------------

    async def on_teams_messaging_extension_query(
        self, turn_context: TurnContext, query: MessagingExtensionQuery
    ) -> MessagingExtensionResponse:
        # `query` is botbuilder's reading of the value; bots.activity reads the value itself, as for every activity.
        search = search_of(turn_context.activity)
        command = search_command(search.command_id)
        if command is None:
            return search_message(OLD_SEARCH_REPLY)
        try:
            return await command.handler(self._turn(turn_context), search)
        except GovernanceError as exc:
            return search_message(friendly(exc))
