"""The signing-key cache: when it fetches, when it refuses to, and what it does while the key host is down."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from bots.signing_keys import BotFrameworkSigningKeys, SigningKeysUnavailable
from tests.bots.openid import OpenIdProvider, rsa_key

DAY = 24 * 3600.0


class Ticks:
    """A monotonic clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
async def idp() -> AsyncIterator[OpenIdProvider]:
    async with OpenIdProvider() as provider:
        yield provider


@pytest.fixture
async def keys(idp: OpenIdProvider, ticks: Ticks) -> AsyncIterator[BotFrameworkSigningKeys]:
    source = BotFrameworkSigningKeys(idp.metadata_url, timeout_s=0.5, clock=ticks)
    yield source
    await source.close()


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


async def test_the_published_key_is_found_with_its_endorsements(keys: BotFrameworkSigningKeys) -> None:
    key = await keys.get("channel-key-1")
    assert key is not None and "msteams" in key.endorsements


async def test_concurrent_requests_share_one_fetch(keys: BotFrameworkSigningKeys, idp: OpenIdProvider) -> None:
    idp.delay_s = 0.05
    found = await asyncio.gather(*(keys.get("channel-key-1") for _ in range(10)))
    assert all(k is not None for k in found)
    assert (idp.metadata_requests, idp.jwks_requests) == (1, 1)


async def test_an_unknown_kid_refreshes_the_keys_at_most_once_per_five_minutes(
    keys: BotFrameworkSigningKeys, idp: OpenIdProvider, ticks: Ticks
) -> None:
    await keys.get("channel-key-1")
    ticks.advance(301)
    for _ in range(5):  # a burst of forged key ids: one refresh
        assert await keys.get("forged") is None
    assert idp.jwks_requests == 2
    ticks.advance(60)
    assert await keys.get("forged") is None
    assert idp.jwks_requests == 2
    ticks.advance(240)
    assert await keys.get("forged") is None
    assert idp.jwks_requests == 3


async def test_a_rotated_key_is_picked_up_when_a_token_names_it(
    keys: BotFrameworkSigningKeys, idp: OpenIdProvider, ticks: Ticks
) -> None:
    await keys.get("channel-key-1")
    idp.publish(rsa_key("rotated"), "channel-key-2")
    ticks.advance(301)
    key = await keys.get("channel-key-2")
    assert key is not None and key.kid == "channel-key-2"


async def test_day_old_keys_refresh_in_the_background_while_requests_use_them(
    keys: BotFrameworkSigningKeys, idp: OpenIdProvider, ticks: Ticks
) -> None:
    await keys.get("channel-key-1")
    ticks.advance(DAY)
    idp.hang()
    started = time.monotonic()
    assert await keys.get("channel-key-1") is not None
    assert time.monotonic() - started < 0.4  # did not wait for the hanging host (which never answers)
    await asyncio.wait_for(idp.hanging.wait(), 5)
    assert idp.metadata_requests == 2


async def test_cached_keys_outlive_failed_refreshes_until_five_days_old(
    keys: BotFrameworkSigningKeys, idp: OpenIdProvider, ticks: Ticks
) -> None:
    await keys.get("channel-key-1")
    idp.metadata_status = 503
    for _ in range(4):
        ticks.advance(DAY)
        assert await keys.get("channel-key-1") is not None
        await asyncio.sleep(0.05)  # let the background refresh fail
    ticks.advance(DAY)
    with pytest.raises(SigningKeysUnavailable):
        await keys.get("channel-key-1")


async def test_after_a_failed_fetch_callers_get_unavailable_at_once_until_retry_after(
    keys: BotFrameworkSigningKeys, idp: OpenIdProvider, ticks: Ticks
) -> None:
    idp.metadata_status = 500
    with pytest.raises(SigningKeysUnavailable) as first:
        await keys.get("channel-key-1")
    assert first.value.retry_after_s == 10
    ticks.advance(4)
    with pytest.raises(SigningKeysUnavailable) as second:
        await keys.get("channel-key-1")
    assert second.value.retry_after_s == 6 and idp.metadata_requests == 1
    idp.metadata_status = 200
    ticks.advance(6)
    assert await keys.get("channel-key-1") is not None
    assert idp.metadata_requests == 2


async def test_a_new_kid_while_the_host_is_down_is_unavailable_not_invalid(
    keys: BotFrameworkSigningKeys, idp: OpenIdProvider, ticks: Ticks
) -> None:
    await keys.get("channel-key-1")
    idp.metadata_status = 502
    ticks.advance(301)
    with pytest.raises(SigningKeysUnavailable):
        await keys.get("channel-key-2")  # the refresh it triggers fails
    ticks.advance(30)
    with pytest.raises(SigningKeysUnavailable) as caught:
        await keys.get("channel-key-2")  # no new fetch yet, but still no proof the key is bogus
    assert caught.value.retry_after_s == 270 and idp.metadata_requests == 2
    assert await keys.get("channel-key-1") is not None  # known keys keep working meanwhile


async def test_only_rsa_signing_keys_are_taken_from_the_key_set(
    keys: BotFrameworkSigningKeys, idp: OpenIdProvider
) -> None:
    good = idp.jwks[0]
    idp.jwks_body = json.dumps(
        {
            "keys": [
                good,
                {"kty": "oct", "kid": "symmetric", "k": "c2VjcmV0"},
                {**good, "kid": "encryption", "use": "enc"},
                {**good, "kid": "other-alg", "alg": "RS512"},
                {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
                {"kty": "RSA", "kid": "not-text", "n": 12345, "e": ["AQAB"]},
            ]
        }
    ).encode()
    assert await keys.get("channel-key-1") is not None
    for kid in ("symmetric", "encryption", "other-alg", "broken", "not-text"):
        assert await keys.get(kid) is None, kid
