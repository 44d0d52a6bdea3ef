"""The REST API for admins and systems of record. Handlers only parse, call a service and answer JSON.

Errors are ``{"error": code, "message": text, "fields": {name: problem}}`` (DESIGN.md, "Interface contract").
"""

from __future__ import annotations

import hmac
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import BodyPartReader, web
from pydantic import BaseModel, ValidationError

from api import json_input
from api.openapi import openapi_document
from api.schemas import (
    PilotIn,
    PilotPatch,
    ReadingIn,
    TickIn,
    decision_json,
    field_errors,
    import_json,
    pilot_json,
    reading_json,
)
from api.spreadsheets import MAX_FILE_BYTES, read_table
from config import Settings
from governance.errors import (
    AdminsOnly,
    AmbiguousPilot,
    AuditClosed,
    ConcurrencyConflict,
    DuplicatePilot,
    GovernanceError,
    NotAuditor,
    NotPilotOwner,
    PilotNotFound,
    RecordNotFound,
    StorageUnavailable,
    ValidationFailed,
)
from governance.imports import InitiativeImport
from governance.model import MetricReading, Pilot, ReadingSource
from governance.rules import EARLIEST_DATE, LATEST_DATE
from governance.services import API_ACTOR, PilotService
from scheduler.sweep import TickReport

logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


def error_response(
    status: int, code: str, message: str, fields: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": code, "message": message, "fields": fields or {}}, status=status, headers=headers
    )


_STATUS_BY_ERROR: list[tuple[type[GovernanceError], int]] = [
    (ValidationFailed, 400),
    (NotPilotOwner, 403),
    (NotAuditor, 403),
    (AdminsOnly, 403),
    (PilotNotFound, 404),
    (RecordNotFound, 404),
    (AmbiguousPilot, 409),
    (DuplicatePilot, 409),
    (ConcurrencyConflict, 409),
    (AuditClosed, 409),
    (StorageUnavailable, 503),
]


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every /api failure becomes JSON; unexpected ones are logged with an id the caller can quote."""
    if not request.path.startswith("/api/") or request.path == "/api/messages":
        return await handler(request)
    try:
        return await handler(request)
    except GovernanceError as exc:
        status = next((s for t, s in _STATUS_BY_ERROR if isinstance(exc, t)), 400)
        fields = exc.fields if isinstance(exc, ValidationFailed) else {}
        if status == 503:
            logger.warning("storage unavailable on %s %s: %s", request.method, request.path, exc)
            return error_response(503, exc.code, "Storage is unavailable; nothing was changed. Retry shortly.")
        return error_response(status, exc.code, exc.message, fields)
    except web.HTTPException as exc:
        if exc.status >= 400:  # keep the headers that say what to do, e.g. Allow on a 405
            kept = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after", "www-authenticate")}
            return error_response(exc.status, "http_error", exc.reason, headers=kept)
        raise
    except Exception:
        error_id = uuid.uuid4().hex[:12]
        logger.exception("unhandled error %s on %s %s", error_id, request.method, request.path)
        return error_response(
            500, "internal_error", f"Something went wrong (error id {error_id}); nothing was changed."
        )


ReadingHook = Callable[[Pilot, MetricReading], Awaitable[None]]


class PilotApi:
    def __init__(self, service: PilotService, settings: Settings, on_reading: ReadingHook | None = None) -> None:
        self._service = service
        self._settings = settings
        self._on_reading = on_reading

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/api/openapi.json", self.openapi),
            web.post("/api/pilots", self._authorized(self.create_pilot)),
            web.get("/api/pilots", self._authorized(self.list_pilots)),
            web.get("/api/pilots/{pilot_id}", self._authorized(self.get_pilot)),
            web.patch("/api/pilots/{pilot_id}", self._authorized(self.patch_pilot)),
            web.post("/api/pilots/{pilot_id}/readings", self._authorized(self.post_reading)),
        ]

    def _authorized(self, handler: Handler) -> Handler:
        return bearer_only(handler, self._settings)

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(openapi_document())

    async def create_pilot(self, request: web.Request) -> web.Response:
        body = await parse_body(request, PilotIn)
        if not self._settings.tenant_allowed(body.tenant_id):
            raise ValidationFailed({"tenantId": "This tenant is not in ALLOWED_TENANTS."})
        pilot = await self._service.register(body.to_draft(), body.tenant_id.lower(), API_ACTOR, stage=body.stage_value)
        return web.json_response(pilot_json(pilot), status=201, headers={"Location": f"/api/pilots/{pilot.id}"})

    async def list_pilots(self, request: web.Request) -> web.Response:
        tenant_id = request.query.get("tenantId") or None
        pilots = await self._service.list(tenant_id.lower() if tenant_id else None)
        return web.json_response({"pilots": [pilot_json(p) for p in pilots], "count": len(pilots)})

    async def get_pilot(self, request: web.Request) -> web.Response:
        record = await self._service.record(await self._service.get(request.match_info["pilot_id"]))
        return web.json_response(
            {
                **pilot_json(record.pilot),
                "readings": [reading_json(r) for r in record.readings],
                "decisions": [decision_json(d) for d in record.decisions],
            }
        )

    async def patch_pilot(self, request: web.Request) -> web.Response:
        pilot = await self._service.get(request.match_info["pilot_id"])
        body = await parse_body(request, PilotPatch)
        try:
            changes = body.changes(pilot)
        except ValueError as exc:
            raise ValidationFailed({_camel(str(exc)): "This field cannot be cleared."}) from None
        updated = await self._service.update(pilot.id, changes, API_ACTOR, pilot.tenant_id)
        return web.json_response(pilot_json(updated))

    async def post_reading(self, request: web.Request) -> web.Response:
        pilot = await self._service.get(request.match_info["pilot_id"])
        body = await parse_body(request, ReadingIn)
        reading = await self._service.record_reading(
            pilot.id, body.to_draft(), API_ACTOR, ReadingSource.API, pilot.tenant_id
        )
        if self._on_reading is not None:
            try:
                await self._on_reading(pilot, reading)
            except Exception:  # the reading is stored; refreshing the sponsor's card is a courtesy
                logger.exception("could not refresh the check-in card of pilot %s", pilot.id)
        return web.json_response(reading_json(reading), status=201)


class ImportApi:
    """POST /api/imports?tenantId=...[&dryRun=true]: a CSV or Excel list of initiatives, created or updated row by
    row (governance.imports). The file is the body (text/csv or the .xlsx content type; sniffed otherwise), or the
    first file of a multipart/form-data upload. Per-row problems are in the 200 answer; a file that cannot be read at
    all is a 400 naming ``body``."""

    def __init__(self, importer: InitiativeImport, settings: Settings) -> None:
        self._importer = importer
        self._settings = settings

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/api/imports", self.post_import)]

    async def post_import(self, request: web.Request) -> web.Response:
        problem = check_bearer(request, self._settings.api_token)
        if problem is not None:
            return problem
        tenant_id = request.query.get("tenantId", "").strip().lower()
        if not tenant_id or not TENANT_ID.match(tenant_id):
            raise ValidationFailed({"tenantId": "Give the tenant the initiatives belong to: ?tenantId=<Entra id>."})
        if not self._settings.tenant_allowed(tenant_id):
            raise ValidationFailed({"tenantId": "This tenant is not in ALLOWED_TENANTS."})
        dry_run = request.query.get("dryRun", "false").strip().lower()
        if dry_run not in ("true", "false", "1", "0"):
            raise ValidationFailed({"dryRun": "Use true or false."})
        data, content_type = await _uploaded_file(request)
        table = read_table(data, content_type)
        report = await self._importer.run(
            tenant_id, table.header, table.rows, API_ACTOR, dry_run=dry_run in ("true", "1")
        )
        if report.problems:  # about the file as a whole (a required column missing): the body is at fault
            raise ValidationFailed({"body": " ".join(f"{col}: {problem}" for col, problem in report.problems.items())})
        return web.json_response(import_json(report))


TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9._:@-]{0,127}$")


async def _uploaded_file(request: web.Request) -> tuple[bytes, str]:
    """The body, or the first file part of a multipart upload, with its content type; at most MAX_FILE_BYTES."""
    too_large = ValidationFailed({"body": f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB."})
    if request.content_length is not None and request.content_length > MAX_FILE_BYTES + 64 * 1024:
        raise too_large
    if request.content_type.startswith("multipart/"):
        try:
            reader = await request.multipart()
            part = await reader.next()
            while part is not None and (not isinstance(part, BodyPartReader) or not part.filename):
                part = await reader.next()
        except (ValueError, AssertionError, RuntimeError):
            raise ValidationFailed({"body": "The multipart body cannot be read."}) from None
        if part is None:
            raise ValidationFailed({"body": "Attach the file (a form field with a file name)."})
        chunks = bytearray()
        while chunk := await part.read_chunk():
            chunks += chunk
            if len(chunks) > MAX_FILE_BYTES:
                raise too_large
        return bytes(chunks), part.headers.get("Content-Type", "")
    data = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > MAX_FILE_BYTES:
            raise too_large
    return bytes(data), request.content_type


class SchedulerApi:
    """POST /api/scheduler/tick: one sweep now, for an external timer or tests (``now`` only when allowed)."""

    def __init__(self, tick: Callable[[datetime | None], Awaitable[TickReport]], settings: Settings) -> None:
        self._tick = tick
        self._settings = settings

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/api/scheduler/tick", self.tick)]

    async def tick(self, request: web.Request) -> web.Response:
        problem = check_bearer(request, self._settings.api_token)
        if problem is not None:
            return problem
        now: datetime | None = None
        if request.can_read_body:
            body = await parse_body(request, TickIn)
            if body.now is not None:
                if not self._settings.allow_clock_override:
                    raise ValidationFailed({"now": "Clock override is off (set ALLOW_CLOCK_OVERRIDE=1 in tests only)."})
                if body.now.tzinfo is None:
                    raise ValidationFailed({"now": "Give a time zone, e.g. 2026-12-01T09:00:00Z."})
                # Checked before astimezone, which overflows near year 1 and 9999; a sweep outside the dates a
                # pilot can have would only fail for every pilot.
                if not EARLIEST_DATE <= body.now.date() <= LATEST_DATE:
                    raise ValidationFailed({"now": f"Use a time between {EARLIEST_DATE} and {LATEST_DATE}."})
                now = body.now.astimezone(UTC)
        report = await self._tick(now)
        return web.json_response(report.as_json())


def bearer_only(handler: Handler, settings: Settings) -> Handler:
    """``handler`` behind the API token: the 401/403 of ``check_bearer`` unless the request carries it."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        problem = check_bearer(request, settings.api_token)
        return problem if problem is not None else await handler(request)

    return guarded


def check_bearer(request: web.Request, token: str) -> web.Response | None:
    """None when the request carries the API token; otherwise the 401/403 answer."""
    if not token:
        return error_response(403, "api_disabled", "The REST API is off: set API_TOKEN to turn it on.")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return error_response(
            401,
            "unauthorized",
            "Send the API token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return None


async def parse_body(request: web.Request, model: type[M]) -> M:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ValidationFailed({"body": f"The body is larger than {MAX_BODY // 1024} KB."})
    raw = await request.read()
    try:
        data: Any = json_input.loads(raw)
    except json_input.UnreadableJson as exc:
        raise ValidationFailed({"body": exc.message}) from None
    if not isinstance(data, dict):
        raise ValidationFailed({"body": "The body must be a JSON object."})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc)) from None


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(p.title() for p in rest)
