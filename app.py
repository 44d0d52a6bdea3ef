"""PilotGate's entry point. ``create_app(settings)`` is the one place that wires the app together."""

from __future__ import annotations

import gc
import logging
import sys
import uuid
from typing import Any, NoReturn

import jwt
from aiohttp import web
from botbuilder.core import ConversationState, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity, ActivityTypes

from api import json_input
from api.audits import AuditApi
from api.pages import page_routes
from api.reports import RedactedAccessLogger, ReportApi
from api.routes import ImportApi, PilotApi, SchedulerApi, error_response, json_errors
from bots.activity import invoke_text
from bots.auth import CachingBotFrameworkAuthentication, ChannelTokenValidator
from bots.bookkeeping import ConversationBook
from bots.notifier import BotToken, ConnectorMessenger, SenderLimits
from bots.signing_keys import BotFrameworkSigningKeys, SigningKeysUnavailable
from bots.state_storage import DocumentBotStorage
from bots.teams_bot import PilotGateBot
from bots.turn import BotServices
from cards.verbs import MAX_REFRESH_USERS
from config import Settings, SettingsError, load_settings
from governance.audit_service import QuarterlyAuditService
from governance.errors import StorageUnavailable
from governance.imports import InitiativeImport
from governance.leadership import LeadershipService, ReportLinks, ReportSource, no_links
from governance.portfolio import Deciders
from governance.ports import Clock, DeciderIds, Messenger, SystemClock
from governance.report_builder import MonthlyReports
from governance.services import PilotService, TenantCalendar
from reports.links import signed_links
from scheduler.audit_summary import AuditSummaryPlanner
from scheduler.audits import AuditPlanner
from scheduler.checkins import CheckinCardUpdater, CheckinPlanner
from scheduler.drafts import DraftPlanner
from scheduler.gates import CostDriftPlanner, GatePlanner
from scheduler.loop import SchedulerLoop
from scheduler.repair import RepairPlanner
from scheduler.report import ReportPlanner
from scheduler.sweep import Planner, Sweep, SweepPorts, TenantPlanner, withdrawable_sleep
from storage.documents import DocumentStore
from storage.factory import make_document_store
from storage.repositories import Repositories

logger = logging.getLogger("pilotgate")

STORE_KEY = web.AppKey("store", DocumentStore)  # type: ignore[type-abstract]
MAX_ACTIVITY_BYTES = 1024 * 1024
MAX_ACTIVITY_DEPTH = 64  # Teams nests an adaptive card submission a dozen levels deep at most
TURN_ERROR_REPLY = "Sorry, something went wrong on my side (error id {error_id}). Please try again."


class BotFrameworkConfig:
    """The attribute names botbuilder's ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.app_id
        self.APP_PASSWORD = settings.app_password
        self.APP_TYPE = settings.app_type or ("SingleTenant" if settings.app_tenant_id else "MultiTenant")
        self.APP_TENANTID = settings.app_tenant_id


async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
    """A failed turn: log the traceback under an id and tell the person one friendly sentence with that id."""
    error_id = uuid.uuid4().hex[:8]
    logger.error("turn failed, error id %s", error_id, exc_info=(type(error), error, error.__traceback__))
    reply = TURN_ERROR_REPLY.format(error_id=error_id)
    try:
        if turn_context.activity.type == ActivityTypes.message:
            await turn_context.send_activity(reply)
        elif turn_context.activity.type == ActivityTypes.invoke:  # a card button or a search: answer it, not a 500
            response = invoke_text(turn_context.activity, reply)
            await turn_context.send_activity(Activity(type=ActivityTypes.invoke_response, value=response))
    except Exception:
        logger.warning("could not tell the user about error %s", error_id)


class MessagesEndpoint:
    """POST /api/messages. Deserializes the activity itself and answers invoke bodies with json_response, because
    botbuilder 4.17.1's CloudAdapter.process re-serializes invoke bodies and answers 500 (DESIGN.md)."""

    def __init__(self, adapter: CloudAdapter, bot: PilotGateBot) -> None:
        self._adapter = adapter
        self._bot = bot

    async def handle(self, request: web.Request) -> web.Response:
        if "application/json" not in request.headers.get("Content-Type", ""):
            return error_response(415, "unsupported_media_type", "Send the activity as application/json.")
        if request.content_length is not None and request.content_length > MAX_ACTIVITY_BYTES:
            return error_response(413, "too_large", "The activity is too large.")
        try:
            body: Any = json_input.loads(await request.read(), max_depth=MAX_ACTIVITY_DEPTH)
        except json_input.UnreadableJson as exc:
            return error_response(400, "bad_activity", exc.message, {"body": exc.message})
        if not isinstance(body, dict) or not isinstance(body.get("type"), str) or not body["type"]:
            return error_response(400, "bad_activity", "The body is not a Bot Framework activity.", {"type": "missing"})
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return error_response(400, "bad_activity", "The body is not a Bot Framework activity.")
        if activity.conversation is None or not activity.conversation.id or not activity.service_url:
            return error_response(
                400, "bad_activity", "The activity has no conversation or serviceUrl.", {"conversation": "missing"}
            )
        auth_header = request.headers.get("Authorization", "")
        try:
            invoke_response = await self._adapter.process_activity(auth_header, activity, self._bot.on_turn)
        except (PermissionError, jwt.PyJWTError):  # BotTokenRejected is a PermissionError; botbuilder raises either
            return error_response(401, "unauthorized", "The Bot Framework token is missing or invalid.")
        except SigningKeysUnavailable as exc:  # the token could not be checked: the channel should retry, not drop it
            return error_response(
                503,
                "auth_unavailable",
                "The Bot Framework signing keys are unavailable; retry shortly.",
                headers={"Retry-After": str(exc.retry_after_s)},
            )
        if invoke_response is not None:
            return web.json_response(invoke_body(invoke_response.body), status=invoke_response.status)
        return web.Response(status=201 if activity.type == ActivityTypes.invoke else 200)


def invoke_body(body: Any) -> Any:
    """An invoke answer's body as JSON. botbuilder 4.17.1's handlers hand over dicts (TeamsActivityHandler runs its
    serializer_helper on a MessagingExtensionResponse before wrapping it), but a handler that puts an msrest model
    into an InvokeResponse itself would make json_response fail: such a body is serialized here."""
    serialize = getattr(body, "serialize", None)
    return serialize() if callable(serialize) else body


async def healthz(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    try:
        await store.ping()
    except StorageUnavailable:
        return web.json_response({"status": "unavailable", "storage": store.name}, status=503)
    return web.json_response({"status": "ok", "storage": store.name})


def build_sweep(
    repos: Repositories,
    messenger: Messenger,
    clock: Clock,
    service: PilotService | None = None,
    deciders: DeciderIds | None = None,
    reports: ReportSource | None = None,
    report_links: ReportLinks = no_links,
) -> Sweep:
    """The scheduler's sweep with every planner, as the app runs it (the benchmarks build it here too).

    ``deciders``: the Teams ids of who may decide a gate; the gate card's refresh shows them the decision forms.
    ``reports``: the monthly report, for the leadership channel on the report day (none: no report planner)."""
    finish = service.finish_decision if service else None
    planners: list[Planner] = [
        CheckinPlanner(repos.readings, repos.decisions, repos.sendlog, repos.tenants),
        GatePlanner(repos.readings, repos.decisions, finish, deciders=deciders, tenants=repos.tenants),
        CostDriftPlanner(repos.readings),
        DraftPlanner(repos.sendlog),
        AuditPlanner(repos.audits, repos.sendlog, repos.tenants),
    ]
    if service is not None:
        planners.insert(0, RepairPlanner(service.repair, repos.summaries.repair))
    # The tenant's own messages: a closed audit's summary to leadership, and the monthly report.
    tenant_planners: list[TenantPlanner] = [
        AuditSummaryPlanner(repos.tenants, repos.audits, repos.sendlog, repos.conversations)
    ]
    if reports is not None:
        tenant_planners.append(ReportPlanner(repos.tenants, repos.sendlog, repos.conversations, reports, report_links))
    return Sweep(sweep_ports(repos, messenger), planners, clock, tenant_planners=tenant_planners)


def sweep_ports(repos: Repositories, messenger: Messenger) -> SweepPorts:
    return SweepPorts(
        pilots=repos.pilots,
        readings=repos.readings,
        decisions=repos.decisions,
        conversations=repos.conversations,
        members=repos.members,
        sendlog=repos.sendlog,
        agenda=repos.agenda,
        messenger=messenger,
    )


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    store: DocumentStore | None = None,
    sender_limits: SenderLimits | None = None,
    signing_keys: BotFrameworkSigningKeys | None = None,
) -> web.Application:
    clock = clock or SystemClock()
    store = store or make_document_store(settings)
    repos = Repositories.on(store, clock)
    service = PilotService(
        repos.pilots, repos.readings, repos.decisions, repos.audit, clock, repos.agenda, tenants=repos.tenants
    )

    bot_config = BotFrameworkConfig(settings)
    signing_keys = signing_keys or BotFrameworkSigningKeys(settings.bot_openid_metadata_url)
    # Anonymous local mode has no app id to check tokens against: botbuilder lets it through, as before.
    validator = None if settings.anonymous else ChannelTokenValidator(settings.app_id, signing_keys)
    adapter = CloudAdapter(
        CachingBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication(bot_config), validator)
    )
    adapter.on_turn_error = on_turn_error
    credentials = None if settings.anonymous else ConfigurationServiceClientCredentialFactory(bot_config)
    # A stopping sweep can take back the sends still waiting in the messenger's pacer (Sweep.stop).
    messenger = ConnectorMessenger(BotToken(credentials, settings.app_id), sender_limits, sleep=withdrawable_sleep)
    # The sponsor and the admins by their Teams ids, for the gate card's per-user views (as many as a refresh takes).
    deciders = Deciders(repos.conversations, repos.members, settings.admin_users, limit=MAX_REFRESH_USERS)
    portfolio = repos.portfolio(clock)
    # The monthly report reads the statuses the portfolio reads (from the per-pilot summaries); its card's
    # "Open full report" is a signed link when REPORT_LINK_SECRET and PUBLIC_HOSTNAME are set; it carries the
    # outcome of the quarterly audit closed in its month.
    monthly_reports = MonthlyReports(portfolio, repos.tenants, clock, repos.audits)
    reports = monthly_reports.monthly
    report_links = signed_links(settings, clock)
    sweep = build_sweep(repos, messenger, clock, service, deciders.teams_ids, reports, report_links)
    scheduler_loop = SchedulerLoop(sweep, settings.scheduler_interval_s)
    card_updater = CheckinCardUpdater(repos.readings, repos.sendlog, repos.conversations, messenger)
    audits = QuarterlyAuditService(
        repos.audits,
        repos.pilots,
        service,
        repos.conversations,
        repos.members,
        repos.tenants,
        clock,
        agenda=repos.agenda,
    )
    conversation_state = ConversationState(DocumentBotStorage(store))
    bot_services = BotServices(
        settings=settings,
        pilots=service,
        portfolio=portfolio,
        calendar=TenantCalendar(repos.tenants, repos.pilots, clock, repos.agenda),
        conversations=repos.conversations,
        members=repos.members,
        messenger=messenger,
        clock=clock,
        last_pilot=conversation_state.create_property("lastPilotId"),
        deciders=deciders.teams_ids,
        audits=audits,
        leadership=LeadershipService(repos.tenants, repos.agenda, clock),
        reports=reports,
        report_links=report_links,
    )
    bot = PilotGateBot(bot_services, ConversationBook(repos.conversations, repos.members, clock), conversation_state)

    app = web.Application(middlewares=[json_errors], client_max_size=MAX_ACTIVITY_BYTES)
    app[STORE_KEY] = store
    app.router.add_post("/api/messages", MessagesEndpoint(adapter, bot).handle)
    app.router.add_get("/healthz", healthz)
    app.add_routes(page_routes())
    app.add_routes(PilotApi(service, settings, on_reading=card_updater.reading_received).routes())
    app.add_routes(ImportApi(InitiativeImport(service, repos.members), settings).routes())
    app.add_routes(AuditApi(audits, settings).routes())
    app.add_routes(SchedulerApi(sweep.tick, settings).routes())
    app.add_routes(ReportApi(monthly_reports, settings, clock).routes())

    async def start(_: web.Application) -> None:
        await store.open()
        # Everything made so far (modules, the wiring) lives as long as the process: frozen, it is no longer walked
        # by each full garbage collection, which cut `pilots` p95 at 1,000 pilots from ~200 ms to ~100 ms.
        gc.collect()
        gc.freeze()
        scheduler_loop.start()

    async def stop_sweeping(_: web.Application) -> None:
        # SIGTERM: this runs before aiohttp waits for the requests in flight, so a tick via the API stops here too.
        await scheduler_loop.stop()

    async def stop(_: web.Application) -> None:
        await scheduler_loop.stop()
        await messenger.close()
        await signing_keys.close()
        await store.close()

    app.on_startup.append(start)
    app.on_shutdown.append(stop_sweeping)
    app.on_cleanup.append(stop)
    return app


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # botbuilder logs request bodies at DEBUG and the Azure SDK logs every request at INFO: keep personal data
    # and noise out of the logs.
    logging.getLogger("msrest").setLevel(logging.WARNING)
    logging.getLogger("azure").setLevel(logging.WARNING)
    mode = "anonymous local mode (no MicrosoftAppId)" if settings.anonymous else "Bot Framework authentication on"

    def listening(*_: object) -> None:  # run_app calls this once the store is open and the port is bound
        logger.info(
            "PilotGate on http://%s:%s, storage %s, %s", settings.listen_host, settings.port, settings.storage, mode
        )

    # A failed start ends the process with one line on stderr and a non-zero status, so a supervisor sees it at once.
    try:
        web.run_app(
            create_app(settings),
            host=settings.listen_host,
            port=settings.port,
            print=listening,
            access_log_class=RedactedAccessLogger,  # report links carry a token in their path
        )
    except StorageUnavailable as exc:
        fail(3, f"storage error: {exc}")
    except OSError as exc:  # the port is taken or the address is not this machine's
        fail(4, f"cannot listen on {settings.listen_host}:{settings.port}: {exc.strerror or exc}")


def fail(status: int, message: str) -> NoReturn:
    print(" ".join(message.split()), file=sys.stderr)
    sys.exit(status)


if __name__ == "__main__":
    main()
