"""Activities shaped as Microsoft Teams posts them to a bot's /api/messages.

Shapes follow the Teams docs' JSON samples (conversation events, installationUpdate, Universal Actions) and
what the Agents Playground sends: camelCase keys, `29:` user ids, `28:<appId>` bot id, tenant both in
`conversation.tenantId` and `channelData.tenant.id`. Every factory returns a fresh plain dict with a new id.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ActivityDict = dict[str, Any]
ConversationScope = Literal["personal", "groupChat", "channel"]
InstallScope = Literal["personal", "groupChat", "team", "channel"]

BOT_APP_ID = "6a7e5f9c-0b1d-4e2a-9c3f-5b8d7e6a4c21"
BOT_ID = f"28:{BOT_APP_ID}"
BOT_NAME = "PilotGate"
DEFAULT_SERVICE_URL = "https://smba.trafficmanager.net/amer/"


@dataclass(frozen=True, slots=True)
class Tenant:
    id: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class TeamsUser:
    """A Teams user as the bot sees them: the bot-specific `29:` id and the Entra object id."""

    teams_id: str
    aad_object_id: str
    name: str
    tenant_id: str = ""
    user_principal_name: str = ""
    user_role: str = "user"  # Teams roster values: user, guest, anonymous
    timezone: str = "UTC"

    @property
    def upn(self) -> str:
        if self.user_principal_name:
            return self.user_principal_name
        return f"{self.name.lower().replace(' ', '.')}@contoso.example"


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str
    aad_group_id: str
    tenant_id: str
    channels: tuple[Channel, ...] = field(default_factory=tuple)

    @property
    def general(self) -> Channel:
        # In Teams the General channel's id is the team id.
        for channel in self.channels:
            if channel.id == self.id:
                return channel
        return Channel(self.id, "General")


# The default cast.
TENANT = Tenant("8f0c2b7e-4a51-4c1e-9d3a-2b6f7e1c0a11", "Contoso")
FOREIGN_TENANT = Tenant("d3b1f4a2-7c6e-4e0b-8a9f-1c2d3e4f5a66", "Fabrikam")
ADMIN = TeamsUser(
    "29:1Adm1n-Gq3kz0Yw9uQp2Lr5Xv8Tb4Nc7Hs6Je1Mf0Da",
    "a1d4e2b0-0000-4c8e-9f1a-00000000ad01",
    "Ada Admin",
    TENANT.id,
    "ada.admin@contoso.example",
    timezone="Europe/London",
)
SPONSOR = TeamsUser(
    "29:1Sp0ns0r-Kx7vB2nQ9wE4rT6yU8iO1pA3sD5fG7hJ9kL",
    "5b0c7d1e-0000-4f2a-8b3c-000000005e01",
    "Sam Sponsor",
    TENANT.id,
    "sam.sponsor@contoso.example",
    timezone="America/New_York",
)
OUTSIDER = TeamsUser(
    "29:1Outs1der-Zm8nB3vC6xL9kJ2hG5fD8sA1qW4eR7tY0u",
    "0c7e5a3f-0000-4d1b-a2e9-000000000b71",
    "Oli Outsider",
    TENANT.id,
    "oli.outsider@contoso.example",
)
FOREIGN_USER = TeamsUser(
    "29:1F0re1gn-Pq2wE5rT8yU1iO4pA7sD0fG3hJ6kL9zX2c",
    "f0e1d2c3-0000-4b5a-9e8d-00000000f0e1",
    "Fay Foreign",
    FOREIGN_TENANT.id,
    "fay.foreign@fabrikam.example",
)
_TEAM_ID = "19:Q8v2pLr5Xw9tBn4Kc7Hs1Jm3Dy6Fg0Za@thread.tacv2"
GENERAL = Channel(_TEAM_ID, "General")
TEAM = Team(_TEAM_ID, "Pilots Team", "2e7d9c1b-3a4f-4e5d-8c6b-7a9e0f1d2c3b", TENANT.id, (GENERAL,))
GROUP_CHAT_ID = "19:7c1e9a4b2d6f4e8a9b3c5d7e1f2a4b6c@thread.v2"

# Message ids in Teams are epoch milliseconds; a shared counter keeps them unique within the process.
_message_ids = itertools.count(int(time.time() * 1000))


def new_message_id() -> str:
    return str(next(_message_ids))


def new_event_id() -> str:
    return f"f:{uuid.uuid4()}"


def personal_conversation_id(user: TeamsUser | str, bot_id: str = BOT_ID) -> str:
    """The 1:1 chat id for a user and bot; stable, as in Teams (the connector uses it for create-conversation)."""
    teams_id = user.teams_id if isinstance(user, TeamsUser) else user
    digest = hashlib.sha256(f"{bot_id}|{teams_id}".encode()).digest()
    return "a:1" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def channel_thread_id(channel_id: str, root_message_id: str) -> str:
    return f"{channel_id};messageid={root_message_id}"


def bot_account(bot_id: str = BOT_ID, name: str = BOT_NAME) -> TeamsUser:
    return TeamsUser(bot_id, "", name)


def mention_entity(bot_id: str = BOT_ID, bot_name: str = BOT_NAME) -> dict[str, Any]:
    return {"type": "mention", "text": f"<at>{bot_name}</at>", "mentioned": {"id": bot_id, "name": bot_name}}


def _timestamps(user: TeamsUser, now: datetime | None) -> tuple[str, str]:
    now = now or datetime.now(UTC)
    try:
        zone = ZoneInfo(user.timezone or "UTC")
    except ZoneInfoNotFoundError:
        zone = ZoneInfo("UTC")
    utc = now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return utc, now.astimezone(zone).isoformat(timespec="milliseconds")


def _client_info(user: TeamsUser, locale: str) -> dict[str, Any]:
    return {
        "type": "clientInfo",
        "locale": locale,
        "country": locale.rsplit("-", 1)[-1],
        "platform": "Web",
        "timezone": user.timezone,
    }


def _tenant_for(user: TeamsUser, tenant: Tenant | None) -> Tenant:
    if tenant is not None:
        return tenant
    return Tenant(user.tenant_id) if user.tenant_id else TENANT


def _from(user: TeamsUser) -> dict[str, Any]:
    return {"id": user.teams_id, "name": user.name, "aadObjectId": user.aad_object_id}


def _member(account: TeamsUser | str, bot_id: str) -> dict[str, Any]:
    if isinstance(account, str):
        return {"id": account}
    if account.teams_id == bot_id or account.teams_id.startswith("28:"):
        return {"id": account.teams_id}
    return {"id": account.teams_id, "aadObjectId": account.aad_object_id}


def _envelope(
    activity_type: str,
    activity_id: str,
    user: TeamsUser,
    conversation: dict[str, Any],
    channel_data: dict[str, Any],
    service_url: str,
    bot_id: str,
    bot_name: str,
    locale: str,
    now: datetime | None,
) -> ActivityDict:
    timestamp, local_timestamp = _timestamps(user, now)
    return {
        "type": activity_type,
        "id": activity_id,
        "timestamp": timestamp,
        "localTimestamp": local_timestamp,
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": _from(user),
        "conversation": conversation,
        "recipient": {"id": bot_id, "name": bot_name},
        "entities": [_client_info(user, locale)],
        "channelData": channel_data,
        "locale": locale,
    }


def _conversation(
    scope: str,
    tenant: Tenant,
    user: TeamsUser,
    bot_id: str,
    conversation_id: str | None,
    team: Team,
    channel: Channel | None,
    root_id: str | None,
    chat_name: str | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Conversation and channelData for a message-like activity in a scope."""
    channel_data: dict[str, Any] = {"tenant": {"id": tenant.id}}
    conversation: dict[str, Any]
    if scope == "personal":
        conversation = {
            "conversationType": "personal",
            "tenantId": tenant.id,
            "id": conversation_id or personal_conversation_id(user, bot_id),
        }
    elif scope == "groupChat":
        conversation = {
            "isGroup": True,
            "conversationType": "groupChat",
            "tenantId": tenant.id,
            "id": conversation_id or GROUP_CHAT_ID,
        }
        if chat_name:
            conversation["name"] = chat_name
    elif scope == "channel":
        chan = channel or team.general
        conversation = {
            "isGroup": True,
            "conversationType": "channel",
            "tenantId": tenant.id,
            "id": conversation_id or channel_thread_id(chan.id, root_id or new_message_id()),
        }
        # Messages carry only ids here; names come with installation and conversation events.
        channel_data = {
            "teamsChannelId": chan.id,
            "teamsTeamId": team.id,
            "channel": {"id": chan.id},
            "team": {"id": team.id},
            "tenant": {"id": tenant.id},
        }
    else:
        raise ValueError(f"unknown conversation scope {scope!r}")
    return conversation, channel_data


def _message(
    scope: ConversationScope,
    text: str,
    user: TeamsUser,
    tenant: Tenant | None,
    service_url: str,
    *,
    bot_id: str,
    bot_name: str,
    conversation_id: str | None,
    team: Team,
    channel: Channel | None,
    thread_id: str | None,
    chat_name: str | None,
    mention_bot: bool,
    reply_to_id: str | None,
    locale: str,
    now: datetime | None,
    with_html: bool,
) -> ActivityDict:
    tenant = _tenant_for(user, tenant)
    activity_id = new_message_id()
    conversation, channel_data = _conversation(
        scope, tenant, user, bot_id, conversation_id, team, channel, thread_id or activity_id, chat_name
    )
    activity = _envelope(
        "message", activity_id, user, conversation, channel_data, service_url, bot_id, bot_name, locale, now
    )
    if mention_bot:
        text = f"<at>{bot_name}</at> {text}"
        activity["entities"].insert(0, mention_entity(bot_id, bot_name))
    activity["text"] = text
    activity["textFormat"] = "plain"
    if with_html:
        activity["attachments"] = [{"contentType": "text/html", "content": f"<p>{text}</p>"}]
    if reply_to_id or (scope == "channel" and thread_id):
        activity["replyToId"] = reply_to_id or thread_id
    return activity


def personal_message(
    text: str,
    user: TeamsUser,
    tenant: Tenant | None = None,
    service_url: str = DEFAULT_SERVICE_URL,
    *,
    bot_id: str = BOT_ID,
    bot_name: str = BOT_NAME,
    conversation_id: str | None = None,
    reply_to_id: str | None = None,
    locale: str = "en-US",
    now: datetime | None = None,
    with_html: bool = False,
) -> ActivityDict:
    """A message in the user's 1:1 chat with the bot (no mention: Teams sends none in personal chats)."""
    return _message(
        "personal",
        text,
        user,
        tenant,
        service_url,
        bot_id=bot_id,
        bot_name=bot_name,
        conversation_id=conversation_id,
        team=TEAM,
        channel=None,
        thread_id=None,
        chat_name=None,
        mention_bot=False,
        reply_to_id=reply_to_id,
        locale=locale,
        now=now,
        with_html=with_html,
    )


def channel_message(
    text: str,
    user: TeamsUser,
    tenant: Tenant | None = None,
    service_url: str = DEFAULT_SERVICE_URL,
    *,
    team: Team = TEAM,
    channel: Channel | None = None,
    thread_id: str | None = None,
    conversation_id: str | None = None,
    mention_bot: bool = True,
    bot_id: str = BOT_ID,
    bot_name: str = BOT_NAME,
    locale: str = "en-US",
    now: datetime | None = None,
    with_html: bool = False,
) -> ActivityDict:
    """A channel post (new thread) or, with `thread_id`, a reply in that thread; @mentions the bot by default.

    Teams only delivers channel posts that @mention the bot (without RSC permissions).
    """
    return _message(
        "channel",
        text,
        user,
        tenant,
        service_url,
        bot_id=bot_id,
        bot_name=bot_name,
        conversation_id=conversation_id,
        team=team,
        channel=channel,
        thread_id=thread_id,
        chat_name=None,
        mention_bot=mention_bot,
        reply_to_id=None,
        locale=locale,
        now=now,
        with_html=with_html,
    )


def group_chat_message(
    text: str,
    user: TeamsUser,
    tenant: Tenant | None = None,
    service_url: str = DEFAULT_SERVICE_URL,
    *,
    conversation_id: str = GROUP_CHAT_ID,
    chat_name: str | None = None,
    mention_bot: bool = True,
    bot_id: str = BOT_ID,
    bot_name: str = BOT_NAME,
    locale: str = "en-US",
    now: datetime | None = None,
    with_html: bool = False,
) -> ActivityDict:
    return _message(
        "groupChat",
        text,
        user,
        tenant,
        service_url,
        bot_id=bot_id,
        bot_name=bot_name,
        conversation_id=conversation_id,
        team=TEAM,
        channel=None,
        thread_id=None,
        chat_name=chat_name,
        mention_bot=mention_bot,
        reply_to_id=None,
        locale=locale,
        now=now,
        with_html=with_html,
    )


def _team_event_parts(
    tenant: Tenant, team: Team, channel: Channel | None, conversation_id: str | None, bot_added: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    chan = channel or team.general
    # Bot added: the conversation is the selected channel; other team events use the team id.
    conv_id = conversation_id or (chan.id if bot_added else team.id)
    conversation = {
        "isGroup": True,
        "conversationType": "channel",
        "tenantId": tenant.id,
        "id": conv_id,
        "name": chan.name,
    }
    channel_data: dict[str, Any] = {
        "team": {"aadGroupId": team.aad_group_id, "name": team.name, "id": team.id},
        "tenant": {"id": tenant.id},
    }
    if bot_added:
        channel_data["settings"] = {"selectedChannel": {"id": chan.id}}
        channel_data["channel"] = {"id": chan.id}
    return conversation, channel_data


def _normalize_install_scope(scope: str) -> str:
    if scope in ("team", "channel"):
        return "team"
    if scope in ("personal", "groupChat"):
        return scope
    raise ValueError(f"unknown installation scope {scope!r}")


def installation_update(
    action: str = "add",
    scope: InstallScope = "personal",
    user: TeamsUser = SPONSOR,
    tenant: Tenant | None = None,
    service_url: str = DEFAULT_SERVICE_URL,
    *,
    conversation_id: str | None = None,
    team: Team = TEAM,
    channel: Channel | None = None,
    bot_id: str = BOT_ID,
    bot_name: str = BOT_NAME,
    locale: str = "en-US",
    now: datetime | None = None,
) -> ActivityDict:
    """The bot was installed ("add") or uninstalled ("remove"; also "add-upgrade"/"remove-upgrade") by `user`."""
    tenant = _tenant_for(user, tenant)
    kind = _normalize_install_scope(scope)
    if kind == "team":
        conversation, channel_data = _team_event_parts(tenant, team, channel, conversation_id, bot_added=True)
        channel_data["source"] = {"name": "message"}
    else:
        conversation, channel_data = _conversation(kind, tenant, user, bot_id, conversation_id, team, None, None, None)
    activity = _envelope(
        "installationUpdate",
        new_event_id(),
        user,
        conversation,
        channel_data,
        service_url,
        bot_id,
        bot_name,
        locale,
        now,
    )
    activity["action"] = action
    return activity


def conversation_update(
    members_added: Sequence[TeamsUser | str] | None = None,
    members_removed: Sequence[TeamsUser | str] | None = None,
    scope: InstallScope = "personal",
    user: TeamsUser = SPONSOR,
    tenant: Tenant | None = None,
    service_url: str = DEFAULT_SERVICE_URL,
    *,
    conversation_id: str | None = None,
    team: Team = TEAM,
    channel: Channel | None = None,
    bot_id: str = BOT_ID,
    bot_name: str = BOT_NAME,
    locale: str = "en-US",
    now: datetime | None = None,
) -> ActivityDict:
    """Members added or removed; the bot itself is the member whose id is `bot_id` (pass `bot_account()` or the id).

    With neither list given it is "the bot was added". In a team, channelData.eventType is teamMemberAdded or
    teamMemberRemoved; in a personal chat the bot-added event also lists the user, as Teams does.
    """
    if members_added is None and members_removed is None:
        default_added: list[TeamsUser | str] = [bot_account(bot_id, bot_name)]
        if _normalize_install_scope(scope) == "personal":
            default_added.append(user)
        members_added = default_added
    tenant = _tenant_for(user, tenant)
    kind = _normalize_install_scope(scope)
    added_ids = [m if isinstance(m, str) else m.teams_id for m in members_added or ()]
    bot_added = bot_id in added_ids
    if kind == "team":
        conversation, channel_data = _team_event_parts(tenant, team, channel, conversation_id, bot_added)
        channel_data["eventType"] = "teamMemberAdded" if members_added else "teamMemberRemoved"
    else:
        conversation, channel_data = _conversation(kind, tenant, user, bot_id, conversation_id, team, None, None, None)
    activity = _envelope(
        "conversationUpdate",
        new_event_id(),
        user,
        conversation,
        channel_data,
        service_url,
        bot_id,
        bot_name,
        locale,
        now,
    )
    if members_added:
        activity["membersAdded"] = [_member(m, bot_id) for m in members_added]
    if members_removed:
        activity["membersRemoved"] = [_member(m, bot_id) for m in members_removed]
    return activity


def _string_inputs(inputs: Mapping[str, Any] | None) -> dict[str, str]:
    # Teams sends every input value as a string (Input.Toggle as "true"/"false", Input.Number as "31").
    out: dict[str, str] = {}
    for key, value in (inputs or {}).items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = "" if value is None else str(value)
    return out


def _card_action_parts(
    scope: ConversationScope,
    user: TeamsUser,
    tenant: Tenant,
    bot_id: str,
    conversation_id: str | None,
    team: Team,
    channel: Channel | None,
    reply_to_id: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    conversation, channel_data = _conversation(
        scope, tenant, user, bot_id, conversation_id, team, channel, reply_to_id, None
    )
    channel_data["source"] = {"name": "message"}
    channel_data["legacy"] = {"replyToId": f"1:{reply_to_id}"}
    return conversation, channel_data


def submit_message(
    value: Mapping[str, Any],
    user: TeamsUser,
    tenant: Tenant | None = None,
    service_url: str = DEFAULT_SERVICE_URL,
    *,
    inputs: Mapping[str, Any] | None = None,
    reply_to_id: str | None = None,
    scope: ConversationScope = "personal",
    conversation_id: str | None = None,
    team: Team = TEAM,
    channel: Channel | None = None,
    bot_id: str = BOT_ID,
    bot_name: str = BOT_NAME,
    locale: str = "en-US",
    now: datetime | None = None,
) -> ActivityDict:
    """An Action.Submit press: a message with no text, `value` = action data merged with string inputs."""
    tenant = _tenant_for(user, tenant)
    reply_to = reply_to_id or new_message_id()
    conversation, channel_data = _card_action_parts(
        scope, user, tenant, bot_id, conversation_id, team, channel, reply_to
    )
    activity = _envelope(
        "message", new_message_id(), user, conversation, channel_data, service_url, bot_id, bot_name, locale, now
    )
    activity["replyToId"] = reply_to
    activity["value"] = {**value, **_string_inputs(inputs)}
    return activity


def adaptive_card_invoke(
    verb: str,
    data: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
    user: TeamsUser = SPONSOR,
    tenant: Tenant | None = None,
    service_url: str = DEFAULT_SERVICE_URL,
    *,
    reply_to_id: str | None = None,
    scope: ConversationScope = "personal",
    conversation_id: str | None = None,
    team: Team = TEAM,
    channel: Channel | None = None,
    action_id: str | None = None,
    trigger: Literal["manual", "automatic"] = "manual",
    bot_id: str = BOT_ID,
    bot_name: str = BOT_NAME,
    locale: str = "en-US",
    now: datetime | None = None,
) -> ActivityDict:
    """An Action.Execute press: invoke `adaptiveCard/action`; Teams merges input values (strings) into data."""
    tenant = _tenant_for(user, tenant)
    reply_to = reply_to_id or new_message_id()
    conversation, channel_data = _card_action_parts(
        scope, user, tenant, bot_id, conversation_id, team, channel, reply_to
    )
    activity = _envelope(
        "invoke", new_event_id(), user, conversation, channel_data, service_url, bot_id, bot_name, locale, now
    )
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "verb": verb,
        "data": {**(data or {}), **_string_inputs(inputs)},
    }
    if action_id:
        action["id"] = action_id
    activity["name"] = "adaptiveCard/action"
    activity["replyToId"] = reply_to
    activity["value"] = {"action": action, "trigger": trigger}
    return activity


# A 1:1 chat between two people, as Teams names it; the bot is no member of it. Message extensions are used from
# any chat, so their invokes often come from conversations like this one.
PEOPLE_CHAT_ID = "19:5b0c7d1e-0000-4f2a-8b3c-000000005e01_0c7e5a3f-0000-4d1b-a2e9-000000000b71@unq.gbl.spaces"


def messaging_extension_query(
    text: str = "",
    user: TeamsUser = SPONSOR,
    tenant: Tenant | None = None,
    service_url: str = DEFAULT_SERVICE_URL,
    *,
    initial_run: bool = False,
    command_id: str = "findPilot",
    parameter: str = "pilotName",
    skip: int = 0,
    count: int = 25,
    scope: ConversationScope = "groupChat",
    conversation_id: str | None = None,
    team: Team = TEAM,
    channel: Channel | None = None,
    source: Literal["compose", "commandbox"] = "compose",
    bot_id: str = BOT_ID,
    bot_name: str = BOT_NAME,
    locale: str = "en-US",
    now: datetime | None = None,
) -> ActivityDict:
    """A search in a message extension: invoke `composeExtension/query`, sent as the person types.

    `initial_run`: the query Teams sends when the search opens (manifest `initialRun`), whose one parameter is
    `{"name": "initialRun", "value": "true"}` instead of the typed text. By default the search is made in a chat
    between people (PEOPLE_CHAT_ID, Teams calls it a groupChat) that the bot is not part of.
    """
    tenant = _tenant_for(user, tenant)
    default_id = PEOPLE_CHAT_ID if scope == "groupChat" else None
    conversation, channel_data = _conversation(
        scope, tenant, user, bot_id, conversation_id or default_id, team, channel, None, None
    )
    channel_data["source"] = {"name": source}
    activity = _envelope(
        "invoke", new_event_id(), user, conversation, channel_data, service_url, bot_id, bot_name, locale, now
    )
    parameters = [{"name": "initialRun", "value": "true"}] if initial_run else [{"name": parameter, "value": text}]
    activity["name"] = "composeExtension/query"
    activity["value"] = {
        "commandId": command_id,
        "parameters": parameters,
        "queryOptions": {"skip": skip, "count": count},
    }
    return activity
