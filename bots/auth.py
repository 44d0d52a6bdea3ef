"""Bot Framework authentication that reuses connector and token clients across turns.

botbuilder 4.17.1 builds a new ConnectorClient and a new UserTokenClient, each with fresh credentials and an msrest
retry policy, for every turn: about 6 ms of CPU a turn here, plus a new HTTP connection (and TLS handshake) for
every reply. The clients keep no per-turn state, so one per (app id, serviceUrl, audience) serves every turn; the
credentials refresh their own tokens. Token validation of incoming requests is untouched.
"""

from __future__ import annotations

from typing import Any

from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)

MAX_CACHED_CLIENTS = 64  # Teams uses a handful of serviceUrls; the cap only guards against a flood of odd ones


class _CachingConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    def __init__(self, inner: ConnectorFactory, cache: dict[tuple[str, str, str], Any]) -> None:
        self._inner = inner
        self._cache = cache

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (str(getattr(self._inner, "_app_id", "")), service_url, audience or "")
        client = self._cache.get(key)
        if client is None:
            if len(self._cache) >= MAX_CACHED_CLIENTS:
                self._cache.pop(next(iter(self._cache)))
            client = self._cache[key] = await self._inner.create(service_url, audience)
        return client


class CachingBotFrameworkAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._connectors: dict[tuple[str, str, str], Any] = {}
        self._token_clients: dict[str, UserTokenClient] = {}

    async def authenticate_request(self, activity: Any, auth_header: str) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _CachingConnectorFactory(result.connector_factory, self._connectors)
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str) -> Any:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _CachingConnectorFactory(self._inner.create_connector_factory(claims_identity), self._connectors)

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        claims = getattr(claims_identity, "claims", None) or {}
        key = str(claims.get("aud") or claims.get("appid") or "")
        client = self._token_clients.get(key)
        if client is None:
            client = self._token_clients[key] = await self._inner.create_user_token_client(claims_identity)
        return client

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
