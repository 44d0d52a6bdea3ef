"""GET /api/reports/monthly through the real app on SQLite: the seeded portfolio in four formats, the default month,
and field-named 400s; and the page behind a signed link, GET /reports/{token}."""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import openpyxl
import pytest
from aiohttp.test_utils import TestServer

from api.reports import RedactedAccessLogger
from app import create_app
from governance.quarterly_audit import AuditStatus, audit_id
from governance.report_builder import build_monthly_report
from reports.links import ReportLinkClaims, mint_token, report_link
from reports.monthly import report_json
from storage.repositories import Repositories
from storage.sqlite_store import SqliteDocumentStore
from tests.conftest import API_TOKEN, Harness, make_settings, start_harness, stop_harness
from tests.fakes import FixedClock
from tests.reports.portfolio import NOVEMBER, NOW, SAM, TENANT, seed, statuses
from tests.storage.test_quarterly_audits import an_audit
from tests.teams_sim import FakeConnector

SECRET = "s" * 40
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
MONTHLY = f"/api/reports/monthly?tenantId={TENANT}"


@pytest.fixture
async def seeded(tmp_path: Path, connector: FakeConnector) -> AsyncIterator[Harness]:
    h = await start_harness(tmp_path, connector, report_link_secret=SECRET, public_hostname="pilotgate.contoso.com")
    await seed(h.repos)
    h.clock.set(NOW)
    yield h
    await stop_harness(h)


async def get(h: Harness, path: str, *, auth: bool = True) -> tuple[int, dict[str, str], bytes]:
    async with h.http.get(h.url(path), headers=AUTH if auth else {}) as response:
        return response.status, dict(response.headers), await response.read()


async def test_json_is_the_report_the_builder_makes_from_the_stored_portfolio(seeded: Harness) -> None:
    status, body = await seeded.api("GET", f"{MONTHLY}&period=2026-11")
    assert status == 200
    assert body == report_json(build_monthly_report(statuses(), NOVEMBER, NOW, tenant_id=TENANT))


async def test_the_default_month_is_the_previous_one(seeded: Harness) -> None:
    status, body = await seeded.api("GET", MONTHLY)
    assert status == 200 and body["period"] == "2026-11"  # 11 December, report time zone UTC by default


@pytest.mark.parametrize(
    ("fmt", "content_type", "disposition"),
    [
        ("json", "application/json; charset=utf-8", 'inline; filename="pilotgate-report-2026-11.json"'),
        ("csv", "text/csv; charset=utf-8", 'attachment; filename="pilotgate-report-2026-11.csv"'),
        (
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            'attachment; filename="pilotgate-report-2026-11.xlsx"',
        ),
        ("html", "text/html; charset=utf-8", 'inline; filename="pilotgate-report-2026-11.html"'),
    ],
)
async def test_each_format_has_its_content_type_and_file_name(
    seeded: Harness, fmt: str, content_type: str, disposition: str
) -> None:
    status, headers, body = await get(seeded, f"{MONTHLY}&period=2026-11&format={fmt}")
    assert status == 200
    assert headers["Content-Type"] == content_type
    assert headers["Content-Disposition"] == disposition
    assert headers["Cache-Control"] == "no-store"
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
        assert [r["Pilot"] for r in rows] == ["Sales email drafts", "Contract review", "Ops copilot", "Invoice triage"]
    if fmt == "xlsx":
        assert openpyxl.load_workbook(io.BytesIO(body)).sheetnames == ["Summary", "Pilots", "Decisions", "Roadmap"]
    if fmt == "html":
        assert b"Sales email drafts" in body and b"&lt;b&gt;as agreed" in body


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("period=2026-11", "tenantId"),
        (f"tenantId={TENANT}&period=2026-13", "period"),
        (f"tenantId={TENANT}&period=26-11", "period"),
        (f"tenantId={TENANT}&period=2027-01", "period"),  # not begun on 11 December 2026
        (f"tenantId={TENANT}&period=1999-12", "period"),
        (f"tenantId={TENANT}&format=pdf", "format"),
        (f"tenantId={'x' * 200}", "tenantId"),
    ],
)
async def test_a_bad_query_is_a_400_naming_the_field(seeded: Harness, query: str, field: str) -> None:
    status, body = await seeded.api("GET", f"/api/reports/monthly?{query}")
    assert status == 400
    assert set(body) == {"error", "message", "fields"} and field in body["fields"]


async def test_every_bad_field_is_named_at_once(seeded: Harness) -> None:
    status, body = await seeded.api("GET", "/api/reports/monthly?period=x&format=pdf")
    assert status == 400 and set(body["fields"]) == {"tenantId", "period", "format"}


async def test_the_report_needs_the_api_token(seeded: Harness) -> None:
    status, _, _ = await get(seeded, MONTHLY, auth=False)
    assert status == 401


async def test_a_tenant_outside_allowed_tenants_is_refused(tmp_path: Path, connector: FakeConnector) -> None:
    h = await start_harness(tmp_path, connector, allowed_tenants=frozenset({"99999999-0000-4000-8000-000000000000"}))
    try:
        status, body = await h.api("GET", MONTHLY)
        assert status == 400 and "tenantId" in body["fields"]
    finally:
        await stop_harness(h)


# --- the signed page --------------------------------------------------------------------------------------------
def path_of(link: str | None) -> str:
    assert link is not None and link.startswith("https://pilotgate.contoso.com/reports/")
    return link.removeprefix("https://pilotgate.contoso.com")


async def test_a_signed_link_opens_the_report_page(seeded: Harness) -> None:
    link = report_link(seeded.settings, TENANT, NOVEMBER, NOW)
    status, headers, body = await get(seeded, path_of(link), auth=False)
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert "Sales email drafts" in page and "Contract review" in page
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


async def test_the_same_link_downloads_the_csv_and_the_workbook(seeded: Harness) -> None:
    page = path_of(report_link(seeded.settings, TENANT, NOVEMBER, NOW))
    status, headers, body = await get(seeded, f"{page}?format=xlsx", auth=False)
    assert status == 200 and headers["Content-Disposition"] == 'attachment; filename="pilotgate-report-2026-11.xlsx"'
    assert openpyxl.load_workbook(io.BytesIO(body)).sheetnames == ["Summary", "Pilots", "Decisions", "Roadmap"]
    status, headers, body = await get(seeded, f"{page}?format=csv", auth=False)
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    assert body.startswith(b"\xef\xbb\xbfPilot,")
    assert (await get(seeded, f"{page}?format=json", auth=False))[0] == 400  # the page's link is for people
    forged = "/reports/forged"
    assert (await get(seeded, f"{forged}?format=xlsx", auth=False))[0] == 403  # the token is checked first


async def test_a_sponsors_link_opens_only_their_own_pilots(seeded: Harness) -> None:
    link = report_link(seeded.settings, TENANT, NOVEMBER, NOW, sponsor_id=SAM.aad_object_id)
    status, _, body = await get(seeded, path_of(link), auth=False)
    assert status == 200
    assert "Sales email drafts" in body.decode() and "Contract review" not in body.decode()


async def test_bad_tampered_and_expired_links_get_the_same_403(seeded: Harness) -> None:
    good = path_of(report_link(seeded.settings, TENANT, NOVEMBER, NOW))
    claims, signature = good.removeprefix("/reports/").split(".")
    expired = mint_token(SECRET, ReportLinkClaims(TENANT, NOVEMBER, NOW - timedelta(seconds=1)))
    other_secret = mint_token("t" * 40, ReportLinkClaims(TENANT, NOVEMBER, NOW + timedelta(days=1)))
    fresh = mint_token(SECRET, ReportLinkClaims(TENANT, NOVEMBER, NOW + timedelta(days=1)))
    answers = set()
    for token in (
        "nonsense",
        f"{claims}.{signature[:-2]}",
        f"{'N' if claims[0] != 'N' else 'M'}{claims[1:]}.{signature}",
        f"{claims}.{signature}.x",
        expired,
        other_secret,
        "%00",
        "a" * 600,
    ):
        status, headers, body = await get(seeded, f"/reports/{token}", auth=False)
        assert status == 403, token
        answers.add((headers["Content-Type"], body))
    assert len(answers) == 1
    assert b"not valid" in next(iter(answers))[1]
    assert (await get(seeded, f"/reports/{fresh}", auth=False))[0] == 200


async def test_without_a_secret_no_link_is_made_and_none_opens(tmp_path: Path, connector: FakeConnector) -> None:
    h = await start_harness(tmp_path, connector, public_hostname="pilotgate.contoso.com")
    try:
        assert report_link(h.settings, TENANT, NOVEMBER, NOW) is None
        token = mint_token(SECRET, ReportLinkClaims(TENANT, NOVEMBER, NOW + timedelta(days=1)))
        status, _, body = await get(h, f"/reports/{token}", auth=False)
        assert status == 403 and b"not valid" in body
    finally:
        await stop_harness(h)


async def test_the_access_log_never_shows_a_link_token(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = make_settings(tmp_path, report_link_secret=SECRET, public_hostname="pilotgate.contoso.com")
    store = SqliteDocumentStore(settings.sqlite_path)
    server = TestServer(create_app(settings, clock=FixedClock(NOW), store=store), host="127.0.0.1")
    await server.start_server(access_log_class=RedactedAccessLogger)  # as app.main() runs it
    try:
        await seed(Repositories.on(store))
        token = path_of(report_link(settings, TENANT, NOVEMBER, NOW)).removeprefix("/reports/")
        async with aiohttp.ClientSession() as http:
            with caplog.at_level(logging.INFO, logger="aiohttp.access"):
                async with http.get(str(server.make_url(f"/reports/{token}"))) as response:
                    assert response.status == 200
                async with http.get(str(server.make_url("/reports/forged"))) as response:
                    assert response.status == 403
        lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
        assert len(lines) == 2 and all('"GET /reports/<token>"' in line for line in lines), lines
        assert token not in caplog.text and "forged" not in caplog.text
    finally:
        await server.close()


async def test_the_report_of_this_month_agrees_with_status_for_every_pilot(seeded: Harness) -> None:
    """Issue 11's "the renderings agree with `status <pilot>`": this month's report, as of now, against each pilot's
    status card in Teams: the same latest reading of the primary metric and the same gate."""
    from cards.text import fmt_number
    from tests.helpers import card_text, cards_of
    from tests.teams_sim.activities import TeamsUser, personal_message

    sam = TeamsUser("29:1Sam-report-agrees", SAM.aad_object_id, SAM.name, TENANT)
    status, body = await seeded.api("GET", f"{MONTHLY}&period=2026-12")
    assert status == 200 and body["pilots"]
    for row in body["pilots"]:
        before = len(seeded.connector.sent_activities())
        posted, _ = await seeded.bot.post(
            personal_message(f"status {row['name']}", sam, service_url=seeded.connector.service_url)
        )
        assert posted in (200, 201)
        [card] = cards_of(seeded.connector.sent_activities()[before:])
        shown = card_text(card)
        assert row["name"] in shown and row["gateDate"] in shown, (row["name"], shown)
        latest = row["primaryMetric"]["latest"]
        if latest is not None:
            assert fmt_number(latest) in shown, (row["name"], latest, shown)


async def test_the_app_reads_the_audit_closed_in_the_month_into_the_report(seeded: Harness) -> None:
    """create_app wires the audits into the report: a closed audit stored for the tenant shows up in its month."""
    written = dataclasses.replace(
        an_audit(),
        id=audit_id(TENANT, "2026-Q4"),
        tenant_id=TENANT,
        status=AuditStatus.CLOSED,
        closed_by=SAM,
        closed_at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
    )
    await seeded.repos.audits.create(written)
    status, body = await seeded.api("GET", f"{MONTHLY}&period=2026-11")
    assert status == 200
    assert body["audit"]["quarter"] == "2026-Q4" and body["audit"]["closedOn"] == "2026-11-20"
    assert (body["audit"]["initiatives"], body["audit"]["attested"], body["audit"]["missing"]) == (2, 1, 1)
    assert body["audit"]["decisions"] == [
        {"pilotId": "p1", "pilotName": "Claims triage", "kind": "retire", "on": "2027-01-15", "outcome": "decided"}
    ]
    status, body = await seeded.api("GET", f"{MONTHLY}&period=2026-10")
    assert status == 200 and body["audit"] is None
