"""The OpenAPI 3.1 document for /api/*, generated from the same pydantic models that parse the bodies."""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from pydantic.json_schema import models_json_schema

from api.schemas import AuditIn, PilotIn, PilotPatch, ReadingIn, TickIn
from api.spreadsheets import XLSX_TYPE
from governance.imports import IMPORT_COLUMNS
from governance.quarterly_audit import Gap, Outcome, Recommendation

_ERROR = {
    "type": "object",
    "required": ["error", "message", "fields"],
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _errors(*codes: int) -> dict[str, Any]:
    return {
        str(code): {
            "description": "error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code in codes
    }


def _json_body(name: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}


def _ok(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}


_DAY: Final = {"type": "string", "format": "date"}
_COUNTS: Final = {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}
_AUDIT_OUTCOME: Final = {
    "type": ["object", "null"],
    "description": "The outcome of the quarterly audit that closed in the report's month (report time zone)",
    "required": ["id", "quarter", "closedOn", "initiatives", "attested", "missing", "gaps", "decisionsByKind"],
    "properties": {
        "id": {"type": "string"},
        "quarter": {"type": "string", "examples": ["2026-Q4"]},
        "closedOn": _DAY,
        "initiatives": {"type": "integer", "description": "initiatives audited"},
        "attested": {"type": "integer", "description": "attested by their sponsors"},
        "missing": {"type": "integer", "description": "not attested"},
        "gaps": {
            **_COUNTS,
            "propertyNames": {"enum": [gap.value for gap in Gap]},
            "description": "initiatives per gap (gaps nobody had are left out)",
        },
        "decisionsByKind": {
            **_COUNTS,
            "propertyNames": {"enum": [rec.value for rec in Recommendation]},
            "description": "decisions per kind",
        },
        "decisions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "pilotId": {"type": "string"},
                    "pilotName": {"type": "string"},
                    "kind": {"type": "string", "enum": [rec.value for rec in Recommendation]},
                    "on": {**_DAY, "description": "the expansion, new gate or retirement date"},
                    "outcome": {"type": ["string", "null"], "enum": [*(o.value for o in Outcome), None]},
                },
            },
        },
    },
}
_REPORT_JSON: Final = {
    "type": "object",
    "required": ["period", "tenantId", "totals", "pilots", "decisions", "roadmap"],
    "properties": {"audit": _AUDIT_OUTCOME},
}


def _monthly_report() -> dict[str, Any]:
    """GET /api/reports/monthly: the parameters api.reports parses, and the four formats it answers in."""
    text = {"type": "string"}
    return {
        "get": {
            "summary": "The monthly outcome report of a tenant: headline figures, one row per pilot, the month's "
            "decisions and the next 90 days' roadmap",
            "parameters": [
                {"name": "tenantId", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1}},
                {
                    "name": "period",
                    "in": "query",
                    "required": False,
                    "description": "the month, YYYY-MM; default: the previous month in the tenant's report time zone",
                    "schema": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
                },
                {
                    "name": "format",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["json", "csv", "xlsx", "html"], "default": "json"},
                },
            ],
            "responses": {
                "200": {
                    "description": "the report; csv and xlsx come as attachments named pilotgate-report-YYYY-MM.*; "
                    "the JSON's audit is the quarterly audit closed in the month (null if none, and in a sponsor's "
                    "own report); the workbook then has a Quarterly audit sheet and the page an audit section",
                    "content": {
                        "application/json": {"schema": _REPORT_JSON},
                        "text/csv": {"schema": text},
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                            "schema": {"type": "string", "format": "binary"}
                        },
                        "text/html": {"schema": text},
                    },
                },
                **_errors(400, 401, 403, 503),
            },
        }
    }


@cache
def openapi_document() -> dict[str, Any]:
    _, schemas = models_json_schema(
        [
            (PilotIn, "validation"),
            (PilotPatch, "validation"),
            (ReadingIn, "validation"),
            (TickIn, "validation"),
            (AuditIn, "validation"),
        ],
        by_alias=True,
        ref_template="#/components/schemas/{model}",
    )
    components = {**schemas.get("$defs", {}), "Error": _ERROR}
    pilot_id = [{"name": "pilot_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PilotGate API",
            "version": "1.0.0",
            "description": "Register pilots, push readings, read the monthly outcome report.",
        },
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/pilots": {
                "post": {
                    "summary": "Register a pilot",
                    "requestBody": _json_body("PilotIn"),
                    "responses": {"201": _ok("the pilot"), **_errors(400, 401, 403, 409, 503)},
                },
                "get": {
                    "summary": "List pilots",
                    "parameters": [
                        {"name": "tenantId", "in": "query", "required": False, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": _ok("the pilots"), **_errors(401, 403, 503)},
                },
            },
            "/api/pilots/{pilot_id}": {
                "get": {
                    "summary": "A pilot with its readings and decisions",
                    "parameters": pilot_id,
                    "responses": {"200": _ok("the pilot"), **_errors(401, 403, 404, 503)},
                },
                "patch": {
                    "summary": "Change some fields of a pilot",
                    "parameters": pilot_id,
                    "requestBody": _json_body("PilotPatch"),
                    "responses": {"200": _ok("the pilot"), **_errors(400, 401, 403, 404, 409, 503)},
                },
            },
            "/api/pilots/{pilot_id}/readings": {
                "post": {
                    "summary": "Push a metric reading for a month (replaces that month's reading)",
                    "parameters": pilot_id,
                    "requestBody": _json_body("ReadingIn"),
                    "responses": {"201": _ok("the stored reading"), **_errors(400, 401, 403, 404, 409, 503)},
                }
            },
            "/api/reports/monthly": _monthly_report(),
            "/api/audits": {
                "post": {
                    "summary": "Open the quarter's audit for a tenant (201), or answer the open one (200)",
                    "requestBody": _json_body("AuditIn"),
                    "responses": {
                        "200": _ok("the open audit"),
                        "201": _ok("the new audit"),
                        **_errors(400, 401, 403, 409, 503),
                    },
                },
                "get": {
                    "summary": "A tenant's quarterly audits, newest first (without their initiatives)",
                    "parameters": [{"name": "tenantId", "in": "query", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": _ok("the audits"), **_errors(400, 401, 403, 503)},
                },
            },
            "/api/audits/{audit_id}": {
                "get": {
                    "summary": "An audit's record: every initiative, its attestation, gaps, decision and outcome",
                    "parameters": [
                        {"name": "audit_id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "tenantId", "in": "query", "required": False, "schema": {"type": "string"}},
                        {
                            "name": "format",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string", "enum": ["json", "html", "csv", "xlsx"], "default": "json"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "the record (JSON, an HTML page, or a CSV or Excel download)",
                            "content": {
                                "application/json": {"schema": {"type": "object"}},
                                "text/html": {"schema": {"type": "string"}},
                                "text/csv": {"schema": {"type": "string"}},
                                XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                            },
                        },
                        **_errors(400, 401, 403, 404, 503),
                    },
                }
            },
            "/api/imports": {
                "post": {
                    "summary": "Import a CSV or Excel list of initiatives: each row created or updated",
                    "description": "Columns (header row; case, spaces and underscores ignored): "
                    + "; ".join(f"{column}: {meaning}" for column, meaning in IMPORT_COLUMNS.items())
                    + ". A row with a metric (metric, baseline, target) and a startDate is a pilot; one with less is a "
                    "draft its sponsor is asked to complete. Rows are matched to existing initiatives by name; "
                    "importing the same file again changes nothing. Unknown columns are listed, not read.",
                    "parameters": [
                        {"name": "tenantId", "in": "query", "required": True, "schema": {"type": "string"}},
                        {"name": "dryRun", "in": "query", "required": False, "schema": {"type": "boolean"}},
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "text/csv": {"schema": {"type": "string"}},
                            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                        },
                    },
                    "responses": {"200": _ok("per-row results and a summary"), **_errors(400, 401, 403, 503)},
                }
            },
            "/api/scheduler/tick": {
                "post": {
                    "summary": "Run one scheduler sweep now; returns counts of what was sent, skipped and failed",
                    "requestBody": {**_json_body("TickIn"), "required": False},
                    "responses": {"200": _ok("the counts"), **_errors(400, 401, 403, 503)},
                }
            },
        },
    }
