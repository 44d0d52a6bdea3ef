"""Signed report links (reports/links.py): what a token carries, its expiry, and that changing any part of it, or
the secret, makes it worthless."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config import SettingsError, load_settings
from governance.period import Period
from reports.links import LINK_LIFETIME, BadReportLink, ReportLinkClaims, mint_token, read_token, report_link
from tests.conftest import make_settings

SECRET = "0123456789abcdef0123456789abcdef"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TENANT = "11111111-2222-4333-8444-555555555555"
SPONSOR = "aaaaaaaa-0000-4000-8000-000000000002"
CLAIMS = ReportLinkClaims(TENANT, Period(2026, 11), NOW + LINK_LIFETIME, SPONSOR)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _resigned_payload(token: str, change: tuple[int, str]) -> str:
    """The token with one field of its claims changed and the old signature kept: what a forger can do."""
    claims, signature = token.split(".")
    fields = base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)).decode().split("|")
    index, value = change
    fields[index] = value
    return f"{_b64('|'.join(fields).encode())}.{signature}"


def test_a_token_reads_back_its_claims_and_is_compact_and_url_safe() -> None:
    token = mint_token(SECRET, CLAIMS)
    assert read_token(SECRET, token, NOW) == CLAIMS
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", token)
    assert len(token) < 200  # with a sponsor: about 170 characters


def test_a_token_expires_at_its_expiry() -> None:
    token = mint_token(SECRET, CLAIMS)
    assert read_token(SECRET, token, CLAIMS.expires_at - timedelta(seconds=1)) == CLAIMS
    with pytest.raises(BadReportLink):
        read_token(SECRET, token, CLAIMS.expires_at)
    with pytest.raises(BadReportLink):
        read_token(SECRET, token, CLAIMS.expires_at + timedelta(days=400))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (0, "2"),  # version
        (1, "99999999-2222-4333-8444-555555555555"),  # another tenant
        (2, "2026-10"),  # another month
        (3, str(int((NOW + timedelta(days=3650)).timestamp()))),  # a later expiry
        (4, ""),  # the whole tenant instead of one sponsor's pilots
        (4, "aaaaaaaa-0000-4000-8000-000000000001"),  # another sponsor
    ],
)
def test_changing_any_part_of_the_claims_breaks_the_signature(field: int, value: str) -> None:
    forged = _resigned_payload(mint_token(SECRET, CLAIMS), (field, value))
    with pytest.raises(BadReportLink):
        read_token(SECRET, forged, NOW)


def test_changing_the_signature_or_the_shape_breaks_the_token() -> None:
    token = mint_token(SECRET, CLAIMS)
    claims, signature = token.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    for bad in (
        f"{claims}.{flipped}",
        f"{claims}.{signature[:-1]}",
        f"{claims}.",
        f".{signature}",
        claims,
        f"{token}.{signature}",
        f"{claims}={'.'}{signature}",
        token + "A",
        "",
        "x" * 600,
    ):
        with pytest.raises(BadReportLink):
            read_token(SECRET, bad, NOW)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(BadReportLink):
        read_token(SECRET, mint_token("f" * 32, CLAIMS), NOW)


def test_without_a_secret_nothing_is_minted_or_accepted() -> None:
    with pytest.raises(ValueError, match="REPORT_LINK_SECRET"):
        mint_token("", CLAIMS)
    with pytest.raises(BadReportLink):
        read_token("", mint_token(SECRET, CLAIMS), NOW)


def test_report_link_needs_the_secret_and_the_public_host_name(tmp_path: Path) -> None:
    both = make_settings(tmp_path, report_link_secret=SECRET, public_hostname="PilotGate.Contoso.com")
    link = report_link(both, TENANT, Period(2026, 11), NOW)
    assert link is not None and link.startswith("https://pilotgate.contoso.com/reports/")
    claims = read_token(SECRET, link.rsplit("/", 1)[1], NOW)
    assert claims == ReportLinkClaims(TENANT, Period(2026, 11), NOW + timedelta(days=30))
    assert (
        report_link(make_settings(tmp_path, public_hostname="pilotgate.contoso.com"), TENANT, Period(2026, 11), NOW)
        is None
    )
    assert report_link(make_settings(tmp_path, report_link_secret=SECRET), TENANT, Period(2026, 11), NOW) is None


def test_a_short_secret_is_a_configuration_error_that_does_not_echo_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORT_LINK_SECRET", "hunter2-short")
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None)
    assert "REPORT_LINK_SECRET" in str(caught.value) and "hunter2" not in str(caught.value)
    monkeypatch.setenv("REPORT_LINK_SECRET", SECRET)
    settings = load_settings(_env_file=None)
    assert settings.report_link_secret == SECRET and SECRET not in repr(settings)
