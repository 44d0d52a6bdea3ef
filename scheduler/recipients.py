"""Where a scheduled message goes: the pilot's project channel, or the 1:1 chat of its sponsor or its lead (the stored
one, or a new one opened from a team roster; governance.portfolio decides which, for the sweep and `overdue` alike),
or a channel the tenant linked (the leadership channel)."""

from __future__ import annotations

from datetime import datetime

from governance.errors import Undeliverable
from governance.model import ChannelLink, ConversationKind, ConversationRef, Pilot
from governance.portfolio import Reach, person_route
from governance.ports import ConversationRepository, MemberRepository, Messenger


async def channel_target(
    tenant_id: str, channel: ChannelLink, conversations: ConversationRepository
) -> ConversationRef:
    """A linked channel (a pilot's project channel, the leadership channel); Undeliverable when the bot is not
    reachable there."""
    ref = await conversations.get(tenant_id, channel.conversation_id)
    if ref is None or not ref.active or ref.undeliverable:
        raise Undeliverable("the bot is not reachable in the channel")
    return ref


async def recipient(
    pilot: Pilot,
    audience: str,
    now: datetime,
    conversations: ConversationRepository,
    members: MemberRepository,
    messenger: Messenger,
) -> ConversationRef:
    """The conversation for ``audience`` ("channel", "sponsor" or "lead"); Undeliverable when the bot cannot reach
    it."""
    if audience == "channel":
        if pilot.channel is None:
            raise Undeliverable("the pilot has no project channel")
        return await channel_target(pilot.tenant_id, pilot.channel, conversations)
    person = pilot.lead if audience == "lead" else pilot.sponsor
    if person is None:
        raise Undeliverable("the pilot has no lead")
    route = await person_route(pilot.tenant_id, person.aad_object_id, conversations, members)
    if route.reach is Reach.CHAT and route.chat is not None:
        return route.chat
    member = route.member
    if route.reach is not Reach.ROSTER or member is None:
        raise Undeliverable(f"the {audience} has not installed PilotGate (or blocked it) and is in no team it knows")
    conversation_id = await messenger.open_personal_chat(
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
    await conversations.upsert(opened)
    return opened
