"""The Bot Framework channel's token-signing keys, fetched without blocking the event loop and cached.

botframework-connector 4.17.1 fetches the OpenID metadata and the keys with a synchronous ``requests.get`` and no
timeout, on the event loop: while the login host hangs, every request (``/healthz`` too) hangs with it. Here both
documents are fetched with aiohttp under one deadline, one fetch at a time, shared by every request that waits.

Caching (botbuilder keeps keys a day and refetches on an unknown key id, at most hourly):
- keys a day old are refreshed in the background; requests keep using them meanwhile;
- a token naming a key id we do not know triggers a refresh (Microsoft rotates keys), at most once per
  ``min_refresh_interval_s``, so forged key ids cannot make the bot hammer the login host;
- when refreshes fail, keys stay in use until ``max_age_s`` after the last good fetch;
- with no usable keys, a failed fetch is remembered for ``retry_after_s``: during that window callers get
  ``SigningKeysUnavailable`` at once, so a down host costs one timeout per window rather than one per request.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import jwt

logger = logging.getLogger(__name__)

SIGNING_ALGORITHM = "RS256"  # botbuilder decodes channel tokens with RS256 only, whatever else it lists


class SigningKeysUnavailable(Exception):
    """The signing keys could not be fetched; the request may be retried after ``retry_after_s`` seconds."""

    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason)
        self.retry_after_s = retry_after_s


class _BadKeyDocument(ValueError):
    """The metadata or key document is not what an OpenID provider publishes."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    key: jwt.PyJWK
    endorsements: frozenset[str]  # Bot Framework keys list the channels (e.g. "msteams") that may use them


class BotFrameworkSigningKeys:
    """`await keys.get(kid)`: the signing key with that id, None when the provider does not publish it."""

    def __init__(
        self,
        metadata_url: str,
        *,
        timeout_s: float = 5.0,
        refresh_after_s: float = 24 * 3600,
        max_age_s: float = 5 * 24 * 3600,
        min_refresh_interval_s: float = 300,
        retry_after_s: float = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metadata_url = metadata_url
        self._timeout_s = timeout_s
        self._refresh_after_s = refresh_after_s
        self._max_age_s = max_age_s
        self._min_refresh_interval_s = min_refresh_interval_s
        self._retry_after_s = retry_after_s
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at = -math.inf
        self._attempted_at = -math.inf
        self._failed_until = -math.inf
        self._last_fetch_failed = False
        self._refresh: asyncio.Task[bool] | None = None

    async def get(self, kid: str) -> SigningKey | None:
        """Raises SigningKeysUnavailable when no usable keys can be had, or when the key id is new to us and the
        keys cannot be refreshed to look for it (a rotation we cannot see yet is not proof of a forgery)."""
        now = self._clock()
        age = now - self._fetched_at
        if age >= self._max_age_s:
            await self._refreshed()
        elif age >= self._refresh_after_s and self._refresh is None and self._may_refresh(now):
            self._start_refresh()  # in the background: these keys are still good
        key = self._keys.get(kid)
        if key is not None:
            return key
        now = self._clock()
        if self._refresh is not None or self._may_refresh(now):
            await self._refreshed()
            return self._keys.get(kid)
        if self._last_fetch_failed:
            next_try = max(self._failed_until, self._attempted_at + self._min_refresh_interval_s)
            raise SigningKeysUnavailable("the signing keys cannot be refreshed", _seconds(next_try - now))
        return None

    async def close(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
            await asyncio.gather(self._refresh, return_exceptions=True)
            self._refresh = None

    def _may_refresh(self, now: float) -> bool:
        return now - self._attempted_at >= self._min_refresh_interval_s

    async def _refreshed(self) -> None:
        """Join the fetch in flight or start one; raise SigningKeysUnavailable if it fails or failed just now."""
        task = self._refresh
        if task is None:
            now = self._clock()
            if now < self._failed_until:
                raise SigningKeysUnavailable(
                    "the last fetch of the signing keys failed", _seconds(self._failed_until - now)
                )
            task = self._start_refresh()
        # shield: a caller that gives up must not cancel the fetch the other callers share
        if not await asyncio.shield(task):
            raise SigningKeysUnavailable(
                f"could not fetch the signing keys from {self.metadata_url}", _seconds(self._retry_after_s)
            )

    def _start_refresh(self) -> asyncio.Task[bool]:
        self._attempted_at = self._clock()
        self._refresh = asyncio.create_task(self._fetch_and_keep(), name="bot-framework-signing-keys")
        return self._refresh

    async def _fetch_and_keep(self) -> bool:
        try:
            keys = await self._fetch()
        except (aiohttp.ClientError, TimeoutError, ValueError, OSError) as exc:
            self._failed_until = self._clock() + self._retry_after_s
            self._last_fetch_failed = True
            logger.warning("could not fetch the Bot Framework signing keys from %s: %r", self.metadata_url, exc)
            return False
        finally:
            self._refresh = None
        self._keys = keys
        self._fetched_at = self._clock()
        self._failed_until = -math.inf
        self._last_fetch_failed = False
        logger.info("fetched %d Bot Framework signing keys from %s", len(keys), self.metadata_url)
        return True

    async def _fetch(self) -> dict[str, SigningKey]:
        async with asyncio.timeout(self._timeout_s), aiohttp.ClientSession() as http:  # one deadline for both
            metadata = await _get_json(http, self.metadata_url)
            jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
            if not isinstance(jwks_uri, str) or not _is_http_url(jwks_uri):
                raise _BadKeyDocument("the OpenID metadata has no http(s) jwks_uri")
            return parse_jwks(await _get_json(http, jwks_uri))


def parse_jwks(document: Any) -> dict[str, SigningKey]:
    """The RSA signing keys of a JWKS document, by key id; other keys are skipped so that, for example, a symmetric
    ("oct") key can never verify a token."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise _BadKeyDocument("the key document has no list of keys")
    keys: dict[str, SigningKey] = {}
    for entry in entries:
        if not _is_rsa_signing_key(entry):
            continue
        try:
            jwk = jwt.PyJWK(dict(entry), algorithm=SIGNING_ALGORITHM)
        except (jwt.PyJWTError, ValueError, TypeError):  # one bad entry must not cost us the good ones
            logger.warning("skipped the malformed signing key %r", entry.get("kid"))
            continue
        endorsements = entry.get("endorsements")
        names = frozenset(e for e in endorsements if isinstance(e, str)) if isinstance(endorsements, list) else None
        keys[entry["kid"]] = SigningKey(entry["kid"], jwk, names or frozenset())
    if not keys:
        raise _BadKeyDocument("the key document has no RSA signing keys")
    return keys


def _is_rsa_signing_key(entry: Any) -> bool:
    return (
        isinstance(entry, Mapping)
        and entry.get("kty") == "RSA"
        and isinstance(entry.get("kid"), str)
        and bool(entry["kid"])
        and entry.get("use", "sig") == "sig"
        and entry.get("alg", SIGNING_ALGORITHM) == SIGNING_ALGORITHM
    )


async def _get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url, headers={"Accept": "application/json"}) as response:
        response.raise_for_status()
        return await response.json(content_type=None)


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _seconds(delay: float) -> int:
    return max(1, math.ceil(delay))
