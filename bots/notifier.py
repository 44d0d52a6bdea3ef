"""Proactive messages to Teams at Teams' rate limits, on one pooled HTTP session.

botbuilder 4.17.1 builds a new connector client and credentials for every ``continue_conversation`` (about 20 ms of
CPU each), which caps a naive sender near 50 messages/s. This sender speaks the Bot Connector REST API directly on
one aiohttp session, takes the bot's token from botbuilder's own credential factory (cached until shortly before it
expires), and paces requests per tenant (Teams allows about 50/s per app per tenant) and per conversation.

Failures: 429 waits for Retry-After; 412, 5xx and network errors back off with full jitter; 403 raises
Undeliverable at once (the bot was blocked or removed: never retry it); what still fails raises DeliveryFailed so
the caller keeps the message due for the next sweep.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from botbuilder.integration.aiohttp import ConfigurationServiceClientCredentialFactory
from botframework.connector.auth import AuthenticationConstants

from governance.errors import DeliveryFailed, Undeliverable
from governance.model import ConversationRef
from governance.ports import Card

logger = logging.getLogger(__name__)

RETRYABLE = frozenset({408, 412, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class SenderLimits:
    # Teams allows about 50/s per app per tenant. 49.5/s: any 50 sends span at least 1.0101 s on our clock, 10 ms of
    # margin for jitter between here and Teams' counter (48/s left 4% of the limit unused, and a run with 6% of the
    # calls failing below 90% of it).
    per_tenant_per_s: float = 49.5
    per_conversation_per_s: float = 2.0  # Teams: 7/1 s, 8/2 s, 60/30 s per thread; 2/s keeps all three
    attempts: int = 6
    base_backoff_s: float = 0.5
    max_backoff_s: float = 8.0
    max_retry_after_s: float = 30.0
    timeout_s: float = 15.0


class Pacer:
    """Evenly spaced slots per key: each caller reserves the next free slot and sleeps until it.

    A sleeper can wake late (a busy event loop), and a late send followed by punctual ones packs more sends into a
    second than the spacing meant; ``admit`` checks at the moment of sending that any ``ceil(rate)`` consecutive
    sends of a key span at least ``ceil(rate) / rate`` seconds, and says how long to wait if not.
    """

    PRUNE_EVERY = 10_000  # reservations between sweeps of keys that have gone quiet

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._next: dict[str, float] = {}
        self._sent: dict[str, deque[float]] = {}
        self._clock = clock
        self._reservations = 0

    def reserve(self, key: str, rate: float) -> float:
        """Reserve a slot; returns how long to wait for it."""
        now = self._clock()
        self._reservations += 1
        if self._reservations % self.PRUNE_EVERY == 0:
            self._prune(now)
        slot = max(now, self._next.get(key, now))
        self._next[key] = slot + 1.0 / rate
        return slot - now

    def admit(self, key: str, rate: float) -> float:
        """0 and the send is recorded, or how long to wait before asking again."""
        now = self._clock()
        count = max(1, math.ceil(rate))
        sent = self._sent.get(key)
        if sent is None:
            sent = self._sent[key] = deque(maxlen=count)
        if len(sent) == count:
            wait = sent[0] + count / rate - now
            if wait > 0:
                return wait
        sent.append(now)
        return 0.0

    def hold(self, key: str, seconds: float) -> None:
        """Nothing for this key before ``seconds`` from now (a Retry-After)."""
        self._next[key] = max(self._next.get(key, 0.0), self._clock() + seconds)

    def _prune(self, now: float) -> None:
        """Forget keys with no slot ahead and no send in the last minute (one entry per conversation ever used)."""
        self._next = {key: slot for key, slot in self._next.items() if slot > now}
        self._sent = {key: sent for key, sent in self._sent.items() if sent and sent[-1] > now - 60.0}


class BotToken:
    """The bot's outgoing token for the Bot Connector; None in local anonymous mode."""

    def __init__(self, credential_factory: ConfigurationServiceClientCredentialFactory | None, app_id: str) -> None:
        self._factory = credential_factory
        self._app_id = app_id
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def header(self) -> dict[str, str]:
        if not self._app_id or self._factory is None:
            return {}
        async with self._lock:
            if self._token is None or time.monotonic() > self._expires:
                credentials = await self._factory.create_credentials(
                    self._app_id,
                    AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
                    AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL,
                    True,
                )
                # msal caches and refreshes the token itself; the call can hit the network, so not on the loop.
                self._token = await asyncio.to_thread(credentials.get_access_token)
                self._expires = time.monotonic() + 300
        return {"Authorization": f"Bearer {self._token}"}


class ConnectorMessenger:
    """The Messenger port on the Bot Connector REST API (v3)."""

    def __init__(
        self,
        token: BotToken,
        limits: SenderLimits | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._token = token
        self._limits = limits or SenderLimits()
        self._pacer = Pacer()
        self._sleep = sleep
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._limits.timeout_s),
                connector=aiohttp.TCPConnector(limit=256, limit_per_host=128),
            )
        return self._session

    async def send(self, target: ConversationRef, *, card: Card | None = None, text: str | None = None) -> str:
        body = _message(target, card=card, text=text)
        url = f"{_base(target.service_url)}/v3/conversations/{quote(target.conversation_id, safe='')}/activities"
        answer = await self._request("POST", url, body, target.tenant_id, target.conversation_id)
        return str(answer.get("id", ""))

    async def update(self, target: ConversationRef, activity_id: str, *, card: Card) -> None:
        body = _message(target, card=card, text=None)
        body["id"] = activity_id
        conversation = quote(target.conversation_id, safe="")
        url = f"{_base(target.service_url)}/v3/conversations/{conversation}/activities/{quote(activity_id, safe='')}"
        await self._request("PUT", url, body, target.tenant_id, target.conversation_id)

    async def open_personal_chat(self, tenant_id: str, user_id: str, service_url: str, bot_id: str) -> str:
        body = {
            "isGroup": False,
            "bot": {"id": bot_id},
            "members": [{"id": user_id}],
            "tenantId": tenant_id,
            "channelData": {"tenant": {"id": tenant_id}},
        }
        answer = await self._request("POST", f"{_base(service_url)}/v3/conversations", body, tenant_id, user_id)
        conversation_id = answer.get("id")
        if not isinstance(conversation_id, str) or not conversation_id:
            raise DeliveryFailed("Teams did not return a conversation id")
        return conversation_id

    async def _request(
        self, method: str, url: str, body: dict[str, Any], tenant_id: str, conversation_key: str
    ) -> dict[str, Any]:
        limits = self._limits
        last_problem = "not sent"
        for attempt in range(limits.attempts):
            await self._pace(tenant_id, conversation_key)
            try:
                headers = await self._token.header()
                async with self._http().request(method, url, json=body, headers=headers) as response:
                    status = response.status
                    if 200 <= status < 300:
                        return await _json_or_empty(response)
                    retry_after = _retry_after(response.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, retry_after = 0, None
                last_problem = f"network error: {type(exc).__name__}"
            if status == 403:
                raise Undeliverable(f"Teams answered 403 for conversation {_short(conversation_key)}")
            if status and status not in RETRYABLE:
                raise DeliveryFailed(f"Teams answered {status}")
            if status:
                last_problem = f"Teams answered {status}"
            if status == 429:
                wait = min(retry_after if retry_after is not None else 1.0, limits.max_retry_after_s)
                self._pacer.hold(f"c:{conversation_key}", wait)
            else:
                wait = random.uniform(0, min(limits.max_backoff_s, limits.base_backoff_s * 2**attempt))
            if attempt + 1 < limits.attempts:
                await self._sleep(wait)
        raise DeliveryFailed(f"gave up after {limits.attempts} attempts: {last_problem}")

    async def _pace(self, tenant_id: str, conversation_key: str) -> None:
        limits, pacer = self._limits, self._pacer
        conversation, tenant = f"c:{conversation_key}", f"t:{tenant_id}"
        wait_conversation = pacer.reserve(conversation, limits.per_conversation_per_s)
        if wait_conversation > 0:
            await self._sleep(wait_conversation)
        wait_tenant = pacer.reserve(tenant, limits.per_tenant_per_s)
        if wait_tenant > 0:
            await self._sleep(wait_tenant)
        # The slots were reserved ahead; check the sends themselves (a late wake-up must not make a burst).
        while (wait := pacer.admit(tenant, limits.per_tenant_per_s)) > 0:
            await self._sleep(wait)


def _base(service_url: str) -> str:
    return service_url.rstrip("/")


def _short(identifier: str) -> str:
    return identifier[:12] + "..." if len(identifier) > 12 else identifier


def _message(target: ConversationRef, *, card: Card | None, text: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "message",
        "from": {"id": target.bot_id} if target.bot_id else None,
        "conversation": {"id": target.conversation_id},
        "channelData": {"tenant": {"id": target.tenant_id}},
    }
    if text:
        body["text"] = text
        body["textFormat"] = "markdown"
    if card is not None:
        content = card.model_dump(by_alias=True, exclude_none=True)
        body["attachments"] = [{"contentType": "application/vnd.microsoft.card.adaptive", "content": content}]
    return {k: v for k, v in body.items() if v is not None}


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


async def _json_or_empty(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        data = await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return data if isinstance(data, dict) else {}
