"""Conversation bookkeeping: where the bot can reach people and channels, learned from Teams traffic.

Every turn refreshes its conversation reference (Teams can change serviceUrl); installs greet once and learn the
roster, so a sponsor registered by Entra id can be reached 1:1 later; uninstalls mark the conversation inactive.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Final

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity

from bots.activity import base_conversation_id, card_activity, conversation_kind, conversation_ref_of, tenant_of
from cards.help import welcome_card
from governance.conflicts import retry_on_conflict
from governance.errors import ConcurrencyConflict
from governance.model import ConversationKind, TeamMember
from governance.ports import Clock, ConversationRepository, MemberRepository

logger = logging.getLogger(__name__)

MAX_REMEMBERED_CONVERSATIONS: Final = 50_000
ROSTER_PAGE: Final = 500


class ConversationBook:
    def __init__(self, conversations: ConversationRepository, members: MemberRepository, clock: Clock) -> None:
        self._conversations = conversations
        self._members = members
        self._clock = clock
        # Which serviceUrl each conversation was last stored with: saves a write on every turn.
        self._known_service_urls: dict[str, str] = {}

    async def remember(self, activity: Activity, tenant_id: str) -> None:
        """Store or refresh the conversation the activity came from (install events arrive in pairs: write
        conditionally)."""
        if activity.conversation is None or not activity.conversation.id or not activity.service_url:
            return
        conversation_id = base_conversation_id(activity)
        if self._known_service_urls.get(conversation_id) == activity.service_url:
            return

        async def attempt() -> None:
            existing = await self._conversations.get(tenant_id, conversation_id)
            if existing is None:
                await self._conversations.add(conversation_ref_of(activity, tenant_id, self._clock))
            elif existing.service_url != activity.service_url or not existing.active or existing.undeliverable:
                refreshed = dataclasses.replace(
                    existing, service_url=activity.service_url, active=True, undeliverable=False
                )
                await self._conversations.save(refreshed)

        try:
            await retry_on_conflict(attempt)
        except ConcurrencyConflict:
            return  # other turns keep writing it: they store the same facts
        if len(self._known_service_urls) >= MAX_REMEMBERED_CONVERSATIONS:
            self._known_service_urls.clear()  # a cache: forgetting costs one read per conversation
        self._known_service_urls[conversation_id] = activity.service_url

    async def greet_once(self, turn_context: TurnContext) -> None:
        """Mark the conversation greeted with a conditional write, then greet: two install events, one card."""
        activity = turn_context.activity
        tenant_id = tenant_of(activity)

        async def mark() -> bool:
            ref = await self._conversations.get(tenant_id, base_conversation_id(activity))
            if ref is None or ref.greeted:  # remember() stores it first; nothing to greet without it
                return False
            await self._conversations.save(dataclasses.replace(ref, greeted=True, active=True))
            return True

        try:
            first = await retry_on_conflict(mark)
        except ConcurrencyConflict:
            return
        if first:
            in_channel = conversation_kind(activity) is not ConversationKind.PERSONAL
            await turn_context.send_activity(card_activity(welcome_card(in_channel)))

    async def deactivate(self, activity: Activity) -> None:
        ref = await self._conversations.get(tenant_of(activity), base_conversation_id(activity))
        if ref is not None:
            await self._conversations.upsert(dataclasses.replace(ref, active=False))
        self._known_service_urls.pop(base_conversation_id(activity), None)

    async def learn_roster(self, turn_context: TurnContext) -> None:
        """Learn members' Teams ids so a sponsor registered by Entra id can be reached 1:1 later."""
        if conversation_kind(turn_context.activity) is ConversationKind.PERSONAL:
            await self.learn_members(turn_context.activity, [turn_context.activity.from_property])
            return
        try:
            members: list[Any] = []
            token = None
            while True:
                page = await TeamsInfo.get_paged_members(turn_context, token, ROSTER_PAGE)
                members.extend(page.members or [])
                token = page.continuation_token
                if not token:
                    break
        except Exception:  # the roster is a convenience: install must not fail because of it
            logger.warning("could not read the roster of a newly joined conversation", exc_info=True)
            return
        await self.learn_members(turn_context.activity, members)

    async def learn_members(self, activity: Activity, members: list[Any]) -> None:
        tenant_id = tenant_of(activity)
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
                    service_url=activity.service_url or "",
                    bot_id=activity.recipient.id if activity.recipient else "",
                    email=_email_of(member),
                    updated_at=self._clock.now(),
                )
            )


def _email_of(member: Any) -> str:
    """The roster's email, else its userPrincipalName (usually the sign-in email), lower case; "" if neither."""
    for attribute in ("email", "user_principal_name"):
        value = getattr(member, attribute, None)
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    return ""
