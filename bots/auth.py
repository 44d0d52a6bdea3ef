"""Bot Framework authentication that validates channel tokens without blocking and reuses clients across turns.

Incoming tokens: botbuilder 4.17.1 fetches the channel's signing keys with a blocking, timeout-less request on the
event loop (DESIGN.md). With app credentials, ChannelTokenValidator checks the token instead, with the checks
botbuilder makes for a channel token (ChannelValidation, JwtTokenExtractor): RS256 signature by a published key that
endorses the activity's channel, issuer https://api.botframework.com, audience = our app id, exp/nbf with five
minutes of clock skew, and a `serviceurl` claim equal to the activity's serviceUrl. Emulator and skill tokens are
refused: PilotGate serves Teams only. Without app credentials (local anonymous mode) botbuilder still decides.

Outgoing clients: botbuilder builds a new ConnectorClient and a new UserTokenClient, each with fresh credentials
and an msrest retry policy, for every turn: about 6 ms of CPU a turn here, plus a new HTTP connection (and TLS
handshake) for every reply. The clients keep no per-turn state, so one per (app id, serviceUrl, audience) serves
every turn; the credentials refresh their own tokens.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    SkillValidation,
    UserTokenClient,
)

from bots.signing_keys import SIGNING_ALGORITHM, BotFrameworkSigningKeys

logger = logging.getLogger(__name__)

MAX_CACHED_CLIENTS = 64  # Teams uses a handful of serviceUrls; the cap only guards against a flood of odd ones
CHANNEL_TOKEN_ISSUER = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER  # https://api.botframework.com
CLOCK_SKEW_S = 5 * 60  # botbuilder's clock_tolerance for channel tokens
REQUIRED_CLAIMS = ["exp", "nbf", "iss", "aud"]


class BotTokenRejected(PermissionError):
    """The request carries no Bot Framework token, or one that is not valid for this bot (answered 401)."""


class ChannelTokenValidator:
    """Checks the `Authorization: Bearer <jwt>` the Bot Framework channel sends with every activity."""

    def __init__(
        self,
        app_id: str,
        keys: BotFrameworkSigningKeys,
        *,
        issuer: str = CHANNEL_TOKEN_ISSUER,
        clock_skew_s: float = CLOCK_SKEW_S,
    ) -> None:
        self._app_id = app_id
        self._keys = keys
        self._issuer = issuer
        self._clock_skew_s = clock_skew_s

    async def claims(self, auth_header: str, channel_id: str | None, service_url: str | None) -> dict[str, Any]:
        """The token's verified claims. Raises BotTokenRejected, or SigningKeysUnavailable when it cannot be checked."""
        token = _bearer_token(auth_header)
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise BotTokenRejected("the token is not a JWT") from exc
        # Checked before any key is fetched, so that a forged token costs the login host nothing.
        if header.get("alg") != SIGNING_ALGORITHM:
            raise BotTokenRejected(f"the token is not signed with {SIGNING_ALGORITHM}")
        if unverified.get("iss") != self._issuer:
            raise BotTokenRejected("the token is not from the Bot Framework channel")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise BotTokenRejected("the token names no signing key")
        key = await self._keys.get(kid)
        if key is None:
            raise BotTokenRejected("the token is signed with a key the channel does not publish")
        if channel_id and key.endorsements and channel_id not in key.endorsements:
            raise BotTokenRejected(f"the signing key is not endorsed for channel {channel_id!r}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[SIGNING_ALGORITHM],
                audience=self._app_id,
                issuer=self._issuer,
                leeway=self._clock_skew_s,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as exc:
            raise BotTokenRejected(f"the token is not valid: {exc}") from exc
        if service_url is not None and claims.get(AuthenticationConstants.SERVICE_URL_CLAIM) != service_url:
            raise BotTokenRejected("the token's serviceurl claim does not match the activity's serviceUrl")
        if SkillValidation.is_skill_claim(claims):
            # botbuilder refuses skill claims unless a claims validator is configured; PilotGate has none.
            raise BotTokenRejected("skill tokens are not accepted")
        return claims


def _bearer_token(auth_header: str) -> str:
    scheme, _, token = (auth_header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise BotTokenRejected("no bearer token")
    return token.strip()


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
    """`inner` is botbuilder's authentication; with a `validator`, incoming tokens are checked by it instead.

    `caller_id` is what botbuilder stamps on a channel's activities in the public cloud.
    """

    def __init__(
        self,
        inner: BotFrameworkAuthentication,
        validator: ChannelTokenValidator | None = None,
        *,
        caller_id: str = CallerIdConstants.public_azure_channel,
    ) -> None:
        self._inner = inner
        self._validator = validator
        self._caller_id = caller_id
        self._connectors: dict[tuple[str, str, str], Any] = {}
        self._token_clients: dict[str, UserTokenClient] = {}

    async def authenticate_request(self, activity: Any, auth_header: str) -> AuthenticateRequestResult:
        if self._validator is None:
            result = await self._inner.authenticate_request(activity, auth_header)
        else:
            result = await self._authenticate(activity, auth_header, self._validator)
        if result.connector_factory is not None:
            result.connector_factory = _CachingConnectorFactory(result.connector_factory, self._connectors)
        return result

    async def _authenticate(
        self, activity: Any, auth_header: str, validator: ChannelTokenValidator
    ) -> AuthenticateRequestResult:
        try:
            claims = await validator.claims(auth_header, activity.channel_id, activity.service_url)
        except BotTokenRejected as exc:
            logger.info("refused a Bot Framework request: %s", exc)
            raise
        identity = ClaimsIdentity(claims, True)
        # What botbuilder's _BuiltinBotFrameworkAuthentication.authenticate_request sets for a channel token.
        result = AuthenticateRequestResult()
        result.claims_identity = identity
        result.audience = self._inner.get_originating_audience()
        result.caller_id = self._caller_id
        result.connector_factory = self._inner.create_connector_factory(identity)
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
