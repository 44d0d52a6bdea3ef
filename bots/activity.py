"""Reading a Teams activity (tenant, conversation, sender, command text) and building what is sent back.

Teams' payload shapes are handled here only; everything past this module sees typed values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment, InvokeResponse
from microsoft_teams.cards import AdaptiveCard

from cards.text import attachment, card_json
from config import Settings
from governance.model import ChannelLink, ConversationKind, ConversationRef
from governance.ports import Clock
from governance.services import Actor

ADAPTIVE_CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
CARD_ACTION_INVOKE = "adaptiveCard/action"
SEARCH_INVOKE_PREFIX = "composeExtension/"  # query, selectItem, querySettingUrl...: the message extension's invokes
INITIAL_RUN = "initialRun"
DEFAULT_SEARCH_COUNT = 25  # what Teams asks for
MAX_SEARCH_TEXT = 200  # pilot names are at most 80 characters: a longer query matches nothing anyway
_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Asker:
    """Who sent the activity and from where."""

    actor: Actor
    tenant_id: str
    conversation_kind: ConversationKind


def _channel_data(activity: Activity) -> dict[str, Any]:
    return activity.channel_data if isinstance(activity.channel_data, dict) else {}


def _field(container: Any, key: str) -> str:
    """``container[key]["id"]``-style lookups on Teams' channelData, tolerant of any shape a sender invents."""
    value = container.get(key) if isinstance(container, dict) else None
    return str(value) if isinstance(value, str | int) else ""


def tenant_of(activity: Activity) -> str:
    conversation_tenant = getattr(activity.conversation, "tenant_id", None) if activity.conversation else None
    tenant = conversation_tenant or _field(_channel_data(activity).get("tenant"), "id")
    return str(tenant).lower() if isinstance(tenant, str) else ""


def conversation_kind(activity: Activity) -> ConversationKind:
    kind = getattr(activity.conversation, "conversation_type", None) if activity.conversation else None
    if kind == "channel":
        return ConversationKind.CHANNEL
    if kind == "groupChat":
        return ConversationKind.GROUP_CHAT
    return ConversationKind.PERSONAL


def asker_of(activity: Activity, settings: Settings) -> Asker:
    sender = activity.from_property
    aad = str(getattr(sender, "aad_object_id", None) or "").lower()
    actor = Actor(aad, (sender.name if sender else "") or "", is_admin=settings.is_admin(aad))
    return Asker(actor, tenant_of(activity), conversation_kind(activity))


def command_text(activity: Activity) -> str:
    """The text with the bot's @mention removed (channels and group chats include it)."""
    text = activity.text if isinstance(activity.text, str) else ""
    if activity.recipient is not None:
        text = TurnContext.remove_recipient_mention(activity) or text
    return " ".join(_AT_TAG.sub(" ", text).split())


def base_conversation_id(activity: Activity) -> str:
    """A channel post's conversation id names its thread (``19:...;messageid=...``): keep the channel."""
    return str(activity.conversation.id).split(";", 1)[0]


def channel_link_of(activity: Activity) -> ChannelLink:
    data = _channel_data(activity)
    return ChannelLink(
        conversation_id=base_conversation_id(activity),
        team_id=_field(data.get("team"), "id"),
        name=_field(data.get("channel"), "name"),
    )


def conversation_ref_of(activity: Activity, tenant_id: str, clock: Clock) -> ConversationRef:
    kind = conversation_kind(activity)
    data = _channel_data(activity)
    sender = activity.from_property
    personal = kind is ConversationKind.PERSONAL and sender is not None
    return ConversationRef(
        conversation_id=base_conversation_id(activity),
        tenant_id=tenant_id,
        kind=kind,
        service_url=activity.service_url or "",
        bot_id=activity.recipient.id if activity.recipient else "",
        user_id=sender.id if personal and sender else "",
        aad_object_id=str(getattr(sender, "aad_object_id", None) or "") if personal else "",
        user_name=(sender.name or "") if personal and sender else "",
        team_id=_field(data.get("team"), "id"),
        channel_id=_field(data.get("channel"), "id"),
        updated_at=clock.now(),
    )


@dataclass(frozen=True, slots=True)
class CardAction:
    """A card action: its verb and data, and whether Teams asked for it by itself.

    ``automatic``: a Universal Actions ``refresh`` (invoke ``adaptiveCard/action`` with ``trigger: "automatic"``),
    sent when a card is shown, to whoever looks at it: nobody pressed anything.
    """

    verb: str
    data: dict[str, Any]
    automatic: bool = False


def action_of(activity: Activity) -> CardAction:
    """The card action of an ``adaptiveCard/action`` invoke or of an Action.Submit message ("" verb if none)."""
    value = activity.value if isinstance(activity.value, dict) else {}
    action = value.get("action")
    if isinstance(action, dict):  # Action.Execute
        data = action.get("data")
        data = dict(data) if isinstance(data, dict) else {}
        verb = action.get("verb")
    else:  # Action.Submit: the data is the value
        data = dict(value)
        verb = data.get("verb")
    data.pop("verb", None)
    automatic = activity.name == CARD_ACTION_INVOKE and value.get("trigger") == "automatic"
    return CardAction(verb if isinstance(verb, str) else "", data, automatic)


def leaves_no_trace(activity: Activity) -> bool:
    """A message-extension query or an automatic card refresh. Teams sends these from whatever chat a person is in,
    often one the bot is not part of (a card from the message extension is pasted anywhere), and nobody asked the
    bot anything there: it answers, and stores nothing about that conversation."""
    if activity.type != ActivityTypes.invoke:
        return False
    name = activity.name or ""
    return name.startswith(SEARCH_INVOKE_PREFIX) or (name == CARD_ACTION_INVOKE and action_of(activity).automatic)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A message-extension search (invoke ``composeExtension/query``)."""

    command_id: str
    text: str  # what the person typed; "" for the query Teams sends when the search opens (initialRun)
    skip: int  # Teams pages by skip and count as the list scrolls
    count: int


def search_of(activity: Activity) -> SearchQuery:
    """``value: {commandId, parameters: [{name, value}], queryOptions: {skip, count}}``, tolerant of any shape.

    Each search command has one parameter. The query Teams sends when the search opens carries the parameter
    ``{"name": "initialRun", "value": "true"}`` instead of anything typed.
    """
    value = activity.value if isinstance(activity.value, dict) else {}
    command_id = value.get("commandId")
    text = ""
    parameters = value.get("parameters")
    for parameter in parameters if isinstance(parameters, list) else []:
        if not isinstance(parameter, dict) or parameter.get("name") == INITIAL_RUN:
            continue
        typed = parameter.get("value")
        text = " ".join(typed[:MAX_SEARCH_TEXT].split()) if isinstance(typed, str) else ""
        break
    options = value.get("queryOptions")
    options = options if isinstance(options, dict) else {}
    return SearchQuery(
        command_id=command_id if isinstance(command_id, str) else "",
        text=text,
        skip=_count(options.get("skip"), default=0),
        count=_count(options.get("count"), default=DEFAULT_SEARCH_COUNT),
    )


def _count(value: Any, *, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def card_activity(card: AdaptiveCard) -> Activity:
    att = attachment(card)
    return MessageFactory.attachment(Attachment(content_type=att["contentType"], content=att["content"]))


def invoke_card(card: AdaptiveCard) -> InvokeResponse:
    """An invoke answer that replaces the pressed card with ``card``."""
    body = {"statusCode": 200, "type": ADAPTIVE_CARD_RESPONSE, "value": card_json(card)}
    return InvokeResponse(status=200, body=body)


def invoke_message(text: str, status: HTTPStatus = HTTPStatus.OK) -> InvokeResponse:
    """An invoke answer that Teams shows as a short message instead of replacing the card."""
    return InvokeResponse(status=200, body={"statusCode": int(status), "type": MESSAGE_RESPONSE, "value": text})


def search_message_body(text: str) -> dict[str, Any]:
    """A message-extension answer that Teams shows as a line of text where the results would be."""
    return {"composeExtension": {"type": "message", "text": text}}


def invoke_text(activity: Activity, text: str, status: HTTPStatus = HTTPStatus.OK) -> InvokeResponse:
    """``text`` as the answer the invoke expects: a message-extension answer for ``composeExtension/*``, else the
    card-action message (Teams shows an error, not the text, when the answer has the wrong shape)."""
    if (activity.name or "").startswith(SEARCH_INVOKE_PREFIX):
        return InvokeResponse(status=200, body=search_message_body(text))
    return invoke_message(text, status)
