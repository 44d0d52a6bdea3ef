"""Bot Framework tokens through the real POST /api/messages route, with signing keys from a local OpenID provider.

The activity is an uninstall: the bot stores the conversation and sends nothing, so an accepted request needs no
outgoing Bot Connector token (which would come from Entra ID) and a refused one leaves the store empty.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import AuthenticationConstants
from multidict import CIMultiDictProxy

from app import BotFrameworkConfig
from bots.auth import BotTokenRejected, CachingBotFrameworkAuthentication, ChannelTokenValidator
from bots.signing_keys import BotFrameworkSigningKeys
from storage.documents import CONTAINERS
from tests.bots.openid import (
    OpenIdProvider,
    channel_claims,
    hs256_with_public_key,
    rsa_key,
    unsigned,
    with_payload,
)
from tests.conftest import Harness, make_settings, start_harness, stop_harness
from tests.teams_sim import BOT_APP_ID, SPONSOR, TENANT, FakeConnector, installation_update

CREDENTIALS: dict[str, Any] = {
    "app_id": BOT_APP_ID,
    "app_password": "not-a-real-secret",
    "app_type": "SingleTenant",
    "app_tenant_id": TENANT.id,
}
KID = "channel-key-1"


@pytest.fixture
async def idp() -> AsyncIterator[OpenIdProvider]:
    async with OpenIdProvider() as provider:
        yield provider


@pytest.fixture
async def bot(tmp_path: Path, connector: FakeConnector, idp: OpenIdProvider) -> AsyncIterator[Harness]:
    h = await start_harness(tmp_path, connector, bot_openid_metadata_url=idp.metadata_url, **CREDENTIALS)
    yield h
    await stop_harness(h)


def uninstall(h: Harness) -> dict[str, Any]:
    return installation_update("remove", "personal", SPONSOR, service_url=h.connector.service_url)


async def post(
    h: Harness, activity: dict[str, Any], token: str | None
) -> tuple[int, CIMultiDictProxy[str], dict[str, Any] | None]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with h.http.post(h.url("/api/messages"), data=json.dumps(activity), headers=headers) as response:
        raw = await response.read()
        return response.status, response.headers, json.loads(raw) if raw else None


async def stored_documents(h: Harness) -> int:
    return sum([len(await h.store.query(name)) for name in CONTAINERS])


async def test_a_channel_token_for_this_bot_is_accepted_and_the_turn_runs(bot: Harness, idp: OpenIdProvider) -> None:
    activity = uninstall(bot)
    status, _, body = await post(bot, activity, idp.token(activity["serviceUrl"]))
    assert status == 200, body
    ref = await bot.repos.conversations.get(TENANT.id, activity["conversation"]["id"])
    assert ref is not None and not ref.active


async def test_five_minutes_of_clock_skew_are_tolerated(bot: Harness, idp: OpenIdProvider) -> None:
    activity = uninstall(bot)
    now = int(time.time())
    status, _, _ = await post(bot, activity, idp.token(activity["serviceUrl"], exp=now - 240, nbf=now + 240))
    assert status == 200


async def test_signing_keys_are_fetched_once_and_reused(bot: Harness, idp: OpenIdProvider) -> None:
    for _ in range(3):
        activity = uninstall(bot)
        status, _, _ = await post(bot, activity, idp.token(activity["serviceUrl"]))
        assert status == 200
    assert (idp.metadata_requests, idp.jwks_requests) == (1, 1)


TokenFor = Callable[[OpenIdProvider, str], str]
NOW = int(time.time())
BAD_TOKENS: dict[str, TokenFor] = {
    "wrong audience": lambda idp, url: idp.token(url, aud="0b9f4c1e-2d3a-4b5c-8d7e-6f5a4b3c2d1e"),
    "wrong issuer": lambda idp, url: idp.token(
        url, iss="https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/"
    ),
    "expired": lambda idp, url: idp.token(url, nbf=NOW - 7200, exp=NOW - 3600),
    "not yet valid": lambda idp, url: idp.token(url, nbf=NOW + 3600, exp=NOW + 7200),
    "no expiry": lambda idp, url: idp.token(url, exp=None),
    "unknown key": lambda idp, url: idp.token(url, kid="not-published", key="stranger"),
    "published kid, other key": lambda idp, url: idp.token(url, key="stranger"),
    "alg none": lambda idp, url: unsigned(channel_claims(url), KID),
    "HS256 with the public key": lambda idp, url: hs256_with_public_key(channel_claims(url), rsa_key("channel"), KID),
    "serviceurl of another host": lambda idp, url: idp.token(url, serviceurl="https://evil.example/amer/"),
    "no serviceurl": lambda idp, url: idp.token(url, serviceurl=None),
    "tampered payload": lambda idp, url: with_payload(idp.token(url), channel_claims(url, aud=BOT_APP_ID, tid="x")),
    "not a JWT": lambda idp, url: "forged",
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
async def test_a_token_not_valid_for_this_bot_gets_401_json_and_nothing_runs(
    bot: Harness, idp: OpenIdProvider, case: str
) -> None:
    activity = uninstall(bot)
    status, _, body = await post(bot, activity, BAD_TOKENS[case](idp, activity["serviceUrl"]))
    assert status == 401
    assert body == {"error": "unauthorized", "message": "The Bot Framework token is missing or invalid.", "fields": {}}
    assert await stored_documents(bot) == 0


async def test_a_key_that_does_not_endorse_teams_cannot_sign_for_a_teams_activity(
    bot: Harness, idp: OpenIdProvider
) -> None:
    idp.publish(rsa_key("webchat"), "webchat-key", endorsements=["webchat"])
    activity = uninstall(bot)
    status, _, _ = await post(bot, activity, idp.token(activity["serviceUrl"], kid="webchat-key", key="webchat"))
    assert status == 401
    assert await stored_documents(bot) == 0


@pytest.mark.parametrize("case", ["alg none", "HS256 with the public key", "wrong issuer", "not a JWT"])
async def test_a_token_refused_on_its_face_never_reaches_the_key_host(
    bot: Harness, idp: OpenIdProvider, case: str
) -> None:
    activity = uninstall(bot)
    status, _, _ = await post(bot, activity, BAD_TOKENS[case](idp, activity["serviceUrl"]))
    assert status == 401
    assert idp.metadata_requests == 0


async def test_a_hanging_key_host_leaves_healthz_answering_and_the_message_gets_503(
    tmp_path: Path, connector: FakeConnector, idp: OpenIdProvider
) -> None:
    idp.hang()
    keys = BotFrameworkSigningKeys(idp.metadata_url, timeout_s=0.5)
    h = await start_harness(tmp_path, connector, signing_keys=keys, **CREDENTIALS)
    try:
        assert (await h.api("GET", "/healthz", token=None))[0] == 200  # opens the client's connection
        activity = uninstall(h)
        started = time.monotonic()
        message = asyncio.create_task(post(h, activity, idp.token(activity["serviceUrl"])))
        await asyncio.wait_for(idp.hanging.wait(), 5)  # the bot is now waiting on the key host

        asked = time.monotonic()
        status, health = await h.api("GET", "/healthz", token=None)
        assert status == 200 and health["status"] == "ok"
        assert time.monotonic() - asked < 0.4  # well inside the key fetch's 0.5 s: it did not wait for it
        assert not message.done()

        status, headers, body = await message
        waited = time.monotonic() - started
        assert status == 503
        assert body is not None and body["error"] == "auth_unavailable" and body["fields"] == {} and body["message"]
        assert int(headers["Retry-After"]) >= 1
        assert 0.5 <= waited < 1.5  # bounded by the fetch timeout
        assert await stored_documents(h) == 0
    finally:
        await stop_harness(h)


def _refused_port() -> str:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/v1/.well-known/openidconfiguration"


def _break(idp: OpenIdProvider, how: str) -> None:
    if how == "metadata 500":
        idp.metadata_status = 500
    elif how == "keys not JSON":
        idp.jwks_body = b"<html>maintenance</html>"
    elif how == "keys without RSA keys":
        idp.jwks_body = json.dumps({"keys": [{"kty": "oct", "kid": KID, "k": "c2VjcmV0"}]}).encode()
    elif how == "metadata without jwks_uri":
        idp.metadata_body = {"issuer": "https://api.botframework.com"}


@pytest.mark.parametrize(
    "how", ["connection refused", "metadata 500", "keys not JSON", "keys without RSA keys", "metadata without jwks_uri"]
)
async def test_unreachable_signing_keys_get_503_json_with_retry_after_not_500(
    tmp_path: Path, connector: FakeConnector, idp: OpenIdProvider, how: str
) -> None:
    url = _refused_port() if how == "connection refused" else idp.metadata_url
    _break(idp, how)
    h = await start_harness(tmp_path, connector, bot_openid_metadata_url=url, **CREDENTIALS)
    try:
        activity = uninstall(h)
        status, headers, body = await post(h, activity, idp.token(activity["serviceUrl"]))
        assert status == 503
        assert body is not None and set(body) == {"error", "message", "fields"} and body["error"] == "auth_unavailable"
        assert int(headers["Retry-After"]) >= 1
        assert await stored_documents(h) == 0
    finally:
        await stop_harness(h)


async def test_anonymous_mode_still_takes_activities_without_a_token(harness: Harness) -> None:
    activity = uninstall(harness)
    status, _, _ = await post(harness, activity, None)
    assert status == 200
    assert await harness.repos.conversations.get(TENANT.id, activity["conversation"]["id"]) is not None


async def test_an_accepted_token_yields_what_botbuilder_would_set_for_a_channel(
    tmp_path: Path, idp: OpenIdProvider
) -> None:
    settings = make_settings(tmp_path, **CREDENTIALS)
    keys = BotFrameworkSigningKeys(idp.metadata_url)
    auth = CachingBotFrameworkAuthentication(
        ConfigurationBotFrameworkAuthentication(BotFrameworkConfig(settings)), ChannelTokenValidator(BOT_APP_ID, keys)
    )
    url = "https://smba.trafficmanager.net/amer/"
    activity = Activity(channel_id="msteams", service_url=url)
    result = await auth.authenticate_request(activity, f"Bearer {idp.token(url)}")
    assert result.claims_identity.is_authenticated and result.claims_identity.claims["aud"] == BOT_APP_ID
    assert result.audience == AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
    assert result.caller_id == CallerIdConstants.public_azure_channel
    client = await result.connector_factory.create(url, result.audience)
    assert client.config.credentials.microsoft_app_id == BOT_APP_ID and client.config.base_url == url
    assert await result.connector_factory.create(url, result.audience) is client  # still one client per serviceUrl
    with pytest.raises(BotTokenRejected):
        await auth.authenticate_request(activity, "")
    await keys.close()
