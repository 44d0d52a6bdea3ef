"""Posts Teams activities to a bot's /api/messages over real HTTP, as the Bot Connector service does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import aiohttp

from .connector import FakeConnector


class BotClient:
    """`async with BotClient("http://127.0.0.1:3978") as bot: status, body = await bot.post(activity)`.

    The FakeConnector an activity's serviceUrl points at (or `connector=`) learns each posted activity's
    conversation tenant, as Teams knows it: botbuilder's replies do not carry the tenant themselves.
    """

    def __init__(
        self,
        base_url: str,
        *,
        authorization: str | None = None,
        timeout_s: float = 30,
        max_connections: int = 100,
        connector: FakeConnector | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        self.url = base if base.endswith("/api/messages") else f"{base}/api/messages"
        self.authorization = authorization
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_connections = max_connections
        self.connector = connector
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> BotClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    async def post(
        self,
        activity: Mapping[str, Any],
        *,
        authorization: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, Any]:
        """POST one activity; returns (HTTP status, parsed JSON body or None when empty or not JSON)."""
        sent_headers = {"Content-Type": "application/json; charset=utf-8"}
        auth = authorization if authorization is not None else self.authorization
        if auth:
            sent_headers["Authorization"] = auth
        # Teams adds these two routing headers to every request it sends to a bot.
        conversation = activity.get("conversation") or {}
        if conversation.get("id"):
            sent_headers["x-ms-conversation-id"] = str(conversation["id"])
        if conversation.get("tenantId"):
            sent_headers["x-ms-tenant-id"] = str(conversation["tenantId"])
        if headers:
            sent_headers.update(headers)
        connector = self.connector or FakeConnector.for_service_url(str(activity.get("serviceUrl") or ""))
        if connector is not None:
            connector.observe(activity)
        async with self._get_session().post(self.url, data=json.dumps(activity), headers=sent_headers) as response:
            raw = await response.read()
            if not raw:
                return response.status, None
            try:
                return response.status, json.loads(raw)
            except ValueError:
                return response.status, None

    async def post_all(
        self, activities: Iterable[Mapping[str, Any]], *, concurrency: int = 10
    ) -> list[tuple[int, Any]]:
        """POST many activities with at most `concurrency` in flight; results in input order."""
        gate = asyncio.Semaphore(concurrency)

        async def one(activity: Mapping[str, Any]) -> tuple[int, Any]:
            async with gate:
                return await self.post(activity)

        return list(await asyncio.gather(*(one(a) for a in activities)))
