"""The monthly outcome report over HTTP: ``GET /api/reports/monthly`` (Bearer API_TOKEN) in four formats, and the
page behind a card's signed link, ``GET /reports/{token}``.

Handlers parse the query or the token, call governance.report_builder.MonthlyReports and hand the view to a
rendering in reports/; they compute nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from api.routes import bearer_only
from config import Settings
from governance.errors import StorageUnavailable, ValidationFailed
from governance.model import Person
from governance.period import Period
from governance.ports import Clock
from governance.report import MonthlyReport
from governance.report_builder import MonthlyReports
from governance.rules import EARLIEST_DATE
from reports.html import render_report_html
from reports.links import BadReportLink, read_token
from reports.monthly import CSV_TYPE, XLSX_TYPE, report_csv, report_filename, report_json, report_xlsx

logger = logging.getLogger(__name__)

MAX_TENANT_ID: Final = 128
HTML_TYPE: Final = "text/html; charset=utf-8"
# The page carries a token in its address and business figures in its body: no caching, no referrer, no framing
# by others, no scripts.
PAGE_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
}
# One answer for every link that does not open a report, whatever was wrong with it.
REFUSED_PAGE: Final = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Report link not valid</title></head>'
    "<body><h1>This report link is not valid</h1><p>It may have expired. Ask PilotGate for the report again in "
    "Teams (<code>report</code>) to get a new link.</p></body></html>"
)
UNAVAILABLE_PAGE: Final = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Report unavailable</title></head>'
    "<body><h1>The report is unavailable right now</h1><p>Try again in a minute.</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class _Format:
    content_type: str
    extension: str
    disposition: str  # inline or attachment
    render: Callable[[MonthlyReport], bytes]


def _json_bytes(report: MonthlyReport) -> bytes:
    return json.dumps(report_json(report), ensure_ascii=False).encode("utf-8")


FORMATS: Final[dict[str, _Format]] = {
    "json": _Format("application/json; charset=utf-8", "json", "inline", _json_bytes),
    "csv": _Format(CSV_TYPE, "csv", "attachment", report_csv),
    "xlsx": _Format(XLSX_TYPE, "xlsx", "attachment", report_xlsx),
    "html": _Format(HTML_TYPE, "html", "inline", lambda report: render_report_html(report).encode("utf-8")),
}


PAGE_FORMATS: Final = {name: FORMATS[name] for name in ("html", "csv", "xlsx")}
UNKNOWN_FORMAT_PAGE: Final = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Unknown format</title></head>'
    "<body><h1>Unknown format</h1><p>This link opens the report as a page, or as <code>?format=csv</code> or "
    "<code>?format=xlsx</code>.</p></body></html>"
)


def parse_period(text: str | None, clock: Clock) -> Period | None:
    """A ``YYYY-MM`` query value: None when absent; ValidationFailed naming ``period`` when it is not a month of
    the pilots' possible lifetime up to this one."""
    if text is None or text == "":
        return None
    try:
        period = Period.parse(text)
    except ValueError:
        raise ValidationFailed({"period": "Use a month as YYYY-MM, e.g. 2026-11."}) from None
    this_month = Period.of(clock.now().date())
    if period < Period.of(EARLIEST_DATE):
        raise ValidationFailed({"period": f"Pick a month from {Period.of(EARLIEST_DATE)} on."})
    if period > this_month:
        raise ValidationFailed({"period": f"{period} has not begun: pick {this_month} or earlier."})
    return period


class ReportApi:
    def __init__(self, reports: MonthlyReports, settings: Settings, clock: Clock) -> None:
        self._reports = reports
        self._settings = settings
        self._clock = clock

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/reports/monthly", bearer_only(self.monthly, self._settings)),
            web.get("/reports/{token}", self.page),
        ]

    async def monthly(self, request: web.Request) -> web.Response:
        query = request.query
        tenant_id = query.get("tenantId", "").strip().lower()
        errors: dict[str, str] = {}
        if not tenant_id:
            errors["tenantId"] = "Name the tenant: tenantId=<Entra tenant id>."
        elif len(tenant_id) > MAX_TENANT_ID:
            errors["tenantId"] = "This is not a tenant id."
        elif not self._settings.tenant_allowed(tenant_id):
            errors["tenantId"] = "This tenant is not in ALLOWED_TENANTS."
        name = query.get("format", "json") or "json"
        chosen = FORMATS.get(name)
        if chosen is None:
            errors["format"] = f"Use one of {', '.join(FORMATS)}."
        try:
            period = parse_period(query.get("period"), self._clock)
        except ValidationFailed as exc:
            errors.update(exc.fields)
        if errors or chosen is None:
            raise ValidationFailed(errors)
        report = await self._reports.monthly(tenant_id, period)
        return self._file(report, chosen)

    async def page(self, request: web.Request) -> web.Response:
        try:
            claims = read_token(self._settings.report_link_secret, request.match_info["token"], self._clock.now())
            if not self._settings.tenant_allowed(claims.tenant_id):
                raise BadReportLink
        except BadReportLink:
            return web.Response(status=403, text=REFUSED_PAGE, content_type="text/html", headers=PAGE_HEADERS)
        # The same link downloads the spreadsheets: ?format=csv or ?format=xlsx (a board pack wants the workbook).
        chosen = PAGE_FORMATS.get(request.query.get("format", "html"))
        if chosen is None:
            return web.Response(status=400, text=UNKNOWN_FORMAT_PAGE, content_type="text/html", headers=PAGE_HEADERS)
        sponsor = Person(claims.sponsor_id) if claims.sponsor_id else None
        try:
            report = await self._reports.monthly(claims.tenant_id, claims.period, sponsor)
        except StorageUnavailable:
            logger.warning("report page: storage unavailable")
            return web.Response(status=503, text=UNAVAILABLE_PAGE, content_type="text/html", headers=PAGE_HEADERS)
        if chosen.extension == "html":
            return web.Response(text=render_report_html(report), content_type="text/html", headers=PAGE_HEADERS)
        return self._file(report, chosen)

    def _file(self, report: MonthlyReport, chosen: _Format) -> web.Response:
        filename = report_filename(report, chosen.extension)
        headers = {
            **PAGE_HEADERS,
            "Content-Type": chosen.content_type,
            "Content-Disposition": f'{chosen.disposition}; filename="{filename}"',
        }
        return web.Response(body=chosen.render(report), headers=headers)


class RedactedAccessLogger(AbstractAccessLogger):
    """aiohttp's access log without the report link tokens: a token in a log line would open the report to anyone
    who reads the logs, for as long as it is valid. Query strings are left out too."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        path = request.path
        if path.startswith("/reports/"):
            path = "/reports/<token>"
        self.logger.info(
            '%s "%s %s" %s %s %.3fs', request.remote, request.method, path, response.status, response.body_length, time
        )
