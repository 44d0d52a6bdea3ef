"""A local Bot Framework OpenID provider: metadata and a JWKS on 127.0.0.1, keys it signs channel tokens with.

Shaped like https://login.botframework.com/v1/.well-known/openidconfiguration and its `jwks_uri`: RSA keys with a
`kid` and the channels that endorse them. It can hang or fail on request, and counts what it served.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.teams_sim import BOT_APP_ID

CHANNEL_ISSUER = "https://api.botframework.com"
TEAMS_ENDORSEMENTS = ("msteams", "webchat", "directline")


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """One 2048-bit key per name for the whole test run: generating one takes a noticeable fraction of a second."""
    del name  # only the cache key
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def jwk_of(key: rsa.RSAPrivateKey, kid: str, endorsements: Iterable[str] = TEAMS_ENDORSEMENTS) -> dict[str, Any]:
    entry: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    entry.update(kid=kid, use="sig", endorsements=list(endorsements))
    return entry


def channel_claims(service_url: str, **overrides: Any) -> dict[str, Any]:
    """The claims of a token the Bot Framework channel sends to the bot with an activity."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "serviceurl": service_url,
        "nbf": now - 5,
        "exp": now + 3600,
        "iss": CHANNEL_ISSUER,
        "aud": BOT_APP_ID,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def sign(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def unsigned(claims: dict[str, Any], kid: str) -> str:
    """`alg: none`, no signature."""
    return f"{_segment({'alg': 'none', 'kid': kid, 'typ': 'JWT'})}.{_segment(claims)}."


def hs256_with_public_key(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str) -> str:
    """The classic confusion: HMAC-signed with the RSA public key (which anyone can fetch) as the secret.
    PyJWT refuses to build such a token, so it is assembled by hand."""
    signing_input = f"{_segment({'alg': 'HS256', 'kid': kid, 'typ': 'JWT'})}.{_segment(claims)}"
    mac = hmac.new(public_pem(key), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def with_payload(token: str, claims: dict[str, Any]) -> str:
    """The same header and signature over other claims: a tampered token."""
    header, _, signature = token.split(".")
    return f"{header}.{_segment(claims)}.{signature}"


class OpenIdProvider:
    """`async with OpenIdProvider() as idp`: `idp.metadata_url`, `idp.publish(...)`, `idp.token(service_url)`."""

    def __init__(self) -> None:
        self.jwks: list[dict[str, Any]] = []
        self.metadata_requests = 0
        self.jwks_requests = 0
        self.metadata_status = 200
        self.jwks_body: bytes | None = None  # served instead of the JWKS when set
        self.metadata_body: dict[str, Any] | None = None  # served instead of the metadata when set
        self.delay_s = 0.0
        self.hanging = asyncio.Event()  # set once a request is held by hang()
        self._release: asyncio.Event | None = None
        self._server: TestServer | None = None
        self.publish(rsa_key("channel"), "channel-key-1")

    async def __aenter__(self) -> OpenIdProvider:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/keys", self._keys)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()  # a held request would keep the server from closing
        if self._server is not None:
            await self._server.close()

    def _url(self, path: str) -> str:
        assert self._server is not None, "use `async with OpenIdProvider()`"
        return str(self._server.make_url(path))

    @property
    def metadata_url(self) -> str:
        return self._url("/v1/.well-known/openidconfiguration")

    def publish(self, key: rsa.RSAPrivateKey, kid: str, endorsements: Iterable[str] = TEAMS_ENDORSEMENTS) -> None:
        self.jwks.append(jwk_of(key, kid, endorsements))

    def token(self, service_url: str, *, kid: str = "channel-key-1", key: str = "channel", **claims: Any) -> str:
        return sign(channel_claims(service_url, **claims), rsa_key(key), kid)

    def hang(self) -> None:
        """Hold every metadata request until release()."""
        self._release = asyncio.Event()

    def release(self) -> None:
        if self._release is not None:
            self._release.set()
            self._release = None

    async def _metadata(self, request: web.Request) -> web.Response:
        self.metadata_requests += 1
        if self._release is not None:
            self.hanging.set()
            await self._release.wait()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.metadata_status != 200:
            return web.Response(status=self.metadata_status, text="unavailable")
        body = self.metadata_body or {
            "issuer": CHANNEL_ISSUER,
            "jwks_uri": self._url("/v1/keys"),
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        }
        return web.json_response(body)

    async def _keys(self, request: web.Request) -> web.Response:
        self.jwks_requests += 1
        if self.jwks_body is not None:
            return web.Response(body=self.jwks_body, content_type="application/json")
        return web.json_response({"keys": self.jwks})
