"""The quarterly audit over REST: open one (``POST /api/audits``), list a tenant's (``GET /api/audits``), and its
record (``GET /api/audits/{id}?format=json|csv|xlsx|html``): JSON here, CSV and Excel by reports.audit (on
reports.tables), the page with Jinja2 from the same rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, Final

from aiohttp import web
from jinja2 import Environment, select_autoescape

from api.routes import check_bearer, parse_body
from api.schemas import AuditIn
from config import Settings
from governance.audit_service import QuarterlyAuditService
from governance.errors import ValidationFailed
from governance.quarterly_audit import AuditItem, QuarterlyAudit, summary_of
from governance.services import API_ACTOR
from reports.audit import audit_csv, audit_filename, audit_xlsx, initiatives_sheet
from reports.monthly import CSV_TYPE, XLSX_TYPE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FORMATS: Final = ("json", "html", "csv", "xlsx")


def _day(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def item_json(item: AuditItem) -> dict[str, Any]:
    attestation = item.attestation
    decision = item.decision
    metric = item.metric
    return {
        "pilotId": item.pilot_id,
        "name": item.name,
        "sponsor": {"aadObjectId": item.sponsor.aad_object_id, "name": item.sponsor.name},
        "stage": item.stage,
        "metric": None
        if metric is None
        else {"name": metric.name, "unit": metric.unit, "baseline": metric.baseline, "target": metric.target},
        "gateDate": _day(item.gate_date),
        "governance": dict(item.governance),
        "sponsorReachable": item.reachable,
        "gaps": [gap.value for gap in item.gaps],
        "attestation": None
        if attestation is None
        else {
            "by": {"aadObjectId": attestation.by.aad_object_id, "name": attestation.by.name},
            "at": _day(attestation.at),
            "metricName": attestation.metric_name,
            "baseline": attestation.baseline,
            "target": attestation.target,
            "targetDate": _day(attestation.target_date),
            "integration": attestation.integration.value,
            "governance": {k: v.value for k, v in attestation.governance.items()},
            "recommendation": attestation.recommendation.value,
            "recommendedDate": _day(attestation.recommended_date),
            "note": attestation.note,
        },
        "decision": None
        if decision is None
        else {
            "recommendation": decision.recommendation.value,
            "date": _day(decision.on),
            "note": decision.note,
            "accepted": decision.accepted,
            "by": {"aadObjectId": decision.by.aad_object_id, "name": decision.by.name},
            "at": _day(decision.at),
        },
        "outcome": item.outcome.value if item.outcome else None,
    }


def audit_json(audit: QuarterlyAudit, *, items: bool = True) -> dict[str, Any]:
    summary = summary_of(audit)
    out: dict[str, Any] = {
        "id": audit.id,
        "tenantId": audit.tenant_id,
        "quarter": audit.quarter,
        "status": audit.status.value,
        "openedBy": audit.opened_by.name,
        "openedAt": _day(audit.opened_at),
        "closedAt": _day(audit.closed_at),
        "initiatives": summary.initiatives,
        "attested": summary.attested,
        "decisions": {rec.value: count for rec, count in summary.decisions.items()},
        "gaps": {gap.value: [item.name for item in found] for gap, found in audit.gaps.items()},
    }
    if items:
        out["items"] = [item_json(item) for item in audit.items]
    return out


_TEMPLATE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Quarterly audit {{ a.quarter }}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}</style></head>
<body><h1>Quarterly audit {{ a.quarter }}</h1>
<p>{{ a.status }}{% if a.closedAt %} (closed {{ a.closedAt[:10] }}){% endif %}: {{ a.initiatives }} initiatives,
{{ a.attested }} attested by their sponsors.</p>
<h2>Gaps</h2>{% if not gaps %}<p>None found.</p>{% endif %}<ul>
{% for label, names in gaps %}<li><strong>{{ label }}</strong> ({{ names|length }}): {{ names|join(", ") }}</li>
{% endfor %}</ul>
<h2>Initiatives</h2><table><thead><tr>{% for h in headers %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr>{% for h in headers %}<td>{{ row[h] }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></body></html>
"""
_ENV: Final = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def audit_html(audit: QuarterlyAudit) -> str:
    """The record as a page, the spreadsheet's rows; every value is escaped by Jinja2's autoescape."""
    sheet = initiatives_sheet(audit)
    headers = [column.title for column in sheet.columns]
    rows = [dict(zip(headers, ("" if cell is None else cell for cell in row), strict=True)) for row in sheet.rows]
    gaps = [(gap.label, [item.name for item in found]) for gap, found in audit.gaps.items()]
    return _ENV.from_string(_TEMPLATE).render(a=audit_json(audit, items=False), gaps=gaps, rows=rows, headers=headers)


class AuditApi:
    def __init__(self, service: QuarterlyAuditService, settings: Settings) -> None:
        self._service = service
        self._settings = settings

    def _guard(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            problem = check_bearer(request, self._settings.api_token)
            return problem if problem is not None else await handler(request)

        return guarded

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/audits", self._guard(self.open)),
            web.get("/api/audits", self._guard(self.list)),
            web.get("/api/audits/{audit_id}", self._guard(self.get)),
        ]

    async def open(self, request: web.Request) -> web.Response:
        body = await parse_body(request, AuditIn)
        tenant_id = body.tenant_id.strip().lower()
        if not tenant_id or not self._settings.tenant_allowed(tenant_id):
            raise ValidationFailed({"tenantId": "Give a tenant this bot serves (ALLOWED_TENANTS)."})
        audit, opened = await self._service.open(tenant_id, API_ACTOR)
        return web.json_response(
            audit_json(audit), status=201 if opened else 200, headers={"Location": f"/api/audits/{audit.id}"}
        )

    async def list(self, request: web.Request) -> web.Response:
        tenant_id = request.query.get("tenantId", "").strip().lower()
        if not tenant_id:
            raise ValidationFailed({"tenantId": "Give the tenant whose audits to list."})
        audits = await self._service.list(tenant_id)
        return web.json_response({"audits": [audit_json(a, items=False) for a in audits], "count": len(audits)})

    async def get(self, request: web.Request) -> web.Response:
        fmt = request.query.get("format", "json")
        if fmt not in FORMATS:
            raise ValidationFailed({"format": "Use json, html, csv or xlsx."})
        tenant_id = request.query.get("tenantId", "").strip().lower() or None
        audit = await self._service.get(request.match_info["audit_id"], tenant_id)
        if fmt == "html":
            return web.Response(text=audit_html(audit), content_type="text/html")
        if fmt == "csv":
            return self._download(audit_csv(audit), CSV_TYPE, audit_filename(audit, "csv"))
        if fmt == "xlsx":
            return self._download(audit_xlsx(audit), XLSX_TYPE, audit_filename(audit, "xlsx"))
        return web.json_response(audit_json(audit))

    @staticmethod
    def _download(body: bytes, content_type: str, filename: str) -> web.Response:
        headers = {"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{filename}"'}
        return web.Response(body=body, headers=headers)
