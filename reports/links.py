"""Signed links to the monthly report page, ``https://<PUBLIC_HOSTNAME>/reports/<token>``.

A token names a tenant, a month, an expiry and, for a sponsor's own report, the sponsor; it is signed with
HMAC-SHA256 under ``REPORT_LINK_SECRET``. It is two URL-safe base64 parts without padding, ``<claims>.<signature>``,
about 120 characters. Reading one checks the signature (constant-time) before anything in it is trusted, then the
expiry; every failure is the one ``BadReportLink``, which says nothing about what was wrong, so the page answers
every bad, tampered or expired link the same way. Without a secret no link is minted and none is accepted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from config import Settings
from governance.period import Period
from governance.ports import Clock

LINK_LIFETIME: Final = timedelta(days=30)
MAX_TOKEN_LENGTH: Final = 512
_VERSION: Final = "1"
_DOMAIN: Final = b"pilotgate/report-link/v1\n"  # the signature covers what the token is for, not just its bytes
_PART: Final = re.compile(r"[A-Za-z0-9_-]+")
_ID: Final = re.compile(r"[^|\s]{1,128}")


class BadReportLink(Exception):
    """A token that is malformed, tampered with, signed with another secret, or expired: deliberately one kind."""


@dataclass(frozen=True, slots=True)
class ReportLinkClaims:
    tenant_id: str
    period: Period
    expires_at: datetime
    sponsor_id: str | None = None  # the Entra object id of a sponsor whose own report this is


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not _PART.fullmatch(text):
        raise BadReportLink
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadReportLink from None
    if _b64(data) != text:  # one spelling per token: unused low bits in the last character must be zero
        raise BadReportLink
    return data


def _signature(secret: str, claims: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), _DOMAIN + claims, hashlib.sha256).digest()


def mint_token(secret: str, claims: ReportLinkClaims) -> str:
    if not secret:
        raise ValueError("no REPORT_LINK_SECRET: report links are off")
    for value in (claims.tenant_id, claims.sponsor_id or "-"):
        if not _ID.fullmatch(value):
            raise ValueError(f"cannot put {value!r} in a report link")
    expires = int(claims.expires_at.timestamp())
    payload = "|".join((_VERSION, claims.tenant_id, str(claims.period), str(expires), claims.sponsor_id or ""))
    raw = payload.encode("utf-8")
    return f"{_b64(raw)}.{_b64(_signature(secret, raw))}"


def read_token(secret: str, token: str, now: datetime) -> ReportLinkClaims:
    """The claims of a valid, unexpired token signed with ``secret``; BadReportLink for anything else."""
    if not secret or not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        raise BadReportLink
    encoded_claims, encoded_signature = token.split(".")
    raw = _unb64(encoded_claims)
    if not hmac.compare_digest(_unb64(encoded_signature), _signature(secret, raw)):
        raise BadReportLink
    try:
        version, tenant_id, period, expires, sponsor_id = raw.decode("utf-8").split("|")
        claims = ReportLinkClaims(
            tenant_id=tenant_id,
            period=Period.parse(period),
            expires_at=datetime.fromtimestamp(int(expires), UTC),
            sponsor_id=sponsor_id or None,
        )
    except (UnicodeDecodeError, ValueError, OverflowError, OSError):
        raise BadReportLink from None  # signed by us but unreadable: only if the format changed
    if version != _VERSION or not tenant_id or now >= claims.expires_at:
        raise BadReportLink
    return claims


def report_link(
    settings: Settings,
    tenant_id: str,
    period: Period,
    now: datetime,
    *,
    sponsor_id: str | None = None,
    lifetime: timedelta = LINK_LIFETIME,
) -> str | None:
    """The page's address for a card's "Open full report", valid for ``lifetime`` from ``now``; None when links are
    off (no ``REPORT_LINK_SECRET``) or the bot has no public address (no ``PUBLIC_HOSTNAME``). A sponsor's card
    passes ``sponsor_id``: the page then shows only that sponsor's pilots."""
    if not settings.report_link_secret or not settings.public_hostname:
        return None
    claims = ReportLinkClaims(tenant_id, period, now + lifetime, sponsor_id)
    return f"https://{settings.public_hostname}/reports/{mint_token(settings.report_link_secret, claims)}"


def signed_links(settings: Settings, clock: Clock) -> Callable[[str, Period], str | None]:
    """The whole-tenant report link of (tenant, month) as the report card wants it (governance.leadership's
    ``ReportLinks``), valid for ``LINK_LIFETIME`` from when the card is made."""

    def link(tenant_id: str, period: Period) -> str | None:
        return report_link(settings, tenant_id, period, clock.now())

    return link
