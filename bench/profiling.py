"""Where a turn's time goes: wall-clock spans around named functions, and cProfile CPU grouped by package.

Spans are installed with ``unittest.mock.patch`` for the length of one measurement and removed afterwards; the
project's files are not touched. Turns run one at a time, so a span's wall time is that turn's time in it
(including waiting for SQLite's thread, the Cosmos server or the fake connector).
"""

from __future__ import annotations

import cProfile
import functools
import gc
import pstats
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import jsonpickle  # type: ignore[import-untyped]
import msrest.serialization
import msrest.universal_http.async_requests
import msrest.universal_http.requests
from botbuilder.core import BotState, TurnContext
from botbuilder.core.cloud_adapter_base import CloudAdapterBase
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector.auth import AuthenticationConstants, ConnectorFactory
from botframework.connector.auth._connector_factory_impl import _ConnectorFactoryImpl

import bots.commands
import bots.teams_bot
import dialogs.register_pilot
import governance.portfolio
from governance.portfolio import Portfolio
from governance.services import PilotService
from storage.documents import DocumentStore

# -- wall-clock spans --------------------------------------------------------------------------------------------


@dataclass
class Spans:
    """Total wall time and call count per label, over a number of turns."""

    totals: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    turns: int = 0

    def add(self, label: str, seconds: float) -> None:
        self.totals[label] += seconds
        self.calls[label] += 1

    def per_turn_ms(self, label: str) -> float:
        return self.totals.get(label, 0.0) * 1000 / max(1, self.turns)

    def calls_per_turn(self, label: str) -> float:
        return self.calls.get(label, 0) / max(1, self.turns)

    def timed_async(self, label: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - start)

        return wrapper

    def timed_sync(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(label, time.perf_counter() - start)

        return wrapper

    def timed_store(self, op: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def wrapper(container: str, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await fn(container, *args, **kwargs)
            finally:
                self.add(f"store.{op}({container})", time.perf_counter() - start)

        return wrapper


# (indent, label, key): the waterfall shown for one turn; keys without a span are left out of the table.
WATERFALL: tuple[tuple[int, str, str], ...] = (
    (1, "msrest `Activity.deserialize` of the inbound activity", "deserialize"),
    (1, "`CloudAdapter.process_activity`", "process_activity"),
    (2, "`authenticate_request` (anonymous: no JWT check)", "authenticate"),
    (2, "new `ConnectorClient` + credentials (per turn)", "connector_client"),
    (2, "new `UserTokenClient` + credentials (per turn)", "user_token_client"),
    (3, "of which msrest `ClientRetryPolicy()` in both clients", "retry_policy"),
    (2, "`PilotGateBot.on_turn`", "on_turn"),
    (3, "`ConversationState.load` (botstate read + jsonpickle)", "state_load"),
    (3, "`PilotService.find` (name lookup)", "service_find"),
    (3, "`PilotService.record` (readings + decisions)", "service_record"),
    (3, "`PilotService.register` (duplicate check, pilot, audit)", "service_register"),
    (3, "`pilot_status` view", "pilot_status"),
    (3, "card building (`status_card` / `pilot_created_card`)", "card"),
    (3, "`TurnContext.send_activity` (the reply)", "send_activity"),
    (4, "msrest `Serializer.body` of the reply", "serialize"),
    (4, "HTTP POST to the connector (requests, in a thread)", "http_out"),
    (3, "`ConversationState.save_changes` (jsonpickle + botstate write)", "state_save"),
    (3, "jsonpickle encode/decode (inside load/save)", "jsonpickle"),
)

STORE_OPS = ("read", "query", "create", "replace", "upsert", "delete")


@contextmanager
def instrumented(spans: Spans, store: DocumentStore) -> Iterator[Spans]:
    """Time the waterfall's functions and every store operation until the block ends."""
    with ExitStack() as stack:

        def patch_async(owner: Any, name: str, key: str) -> None:
            stack.enter_context(mock.patch.object(owner, name, spans.timed_async(key, getattr(owner, name))))

        def patch_sync(owner: Any, name: str, key: str) -> None:
            stack.enter_context(mock.patch.object(owner, name, spans.timed_sync(key, getattr(owner, name))))

        deserialize = Activity.deserialize.__func__  # type: ignore[attr-defined]

        def timed_deserialize(cls: Any, data: Any, content_type: str | None = None) -> Any:
            start = time.perf_counter()
            try:
                return deserialize(cls, data, content_type)
            finally:
                spans.add("deserialize", time.perf_counter() - start)

        stack.enter_context(mock.patch.object(Activity, "deserialize", classmethod(timed_deserialize)))
        patch_async(CloudAdapterBase, "process_activity", "process_activity")
        patch_async(ConfigurationBotFrameworkAuthentication, "authenticate_request", "authenticate")
        patch_async(_ConnectorFactoryImpl, "create", "connector_client")
        patch_async(ConfigurationBotFrameworkAuthentication, "create_user_token_client", "user_token_client")
        patch_sync(msrest.universal_http.requests.ClientRetryPolicy, "__init__", "retry_policy")
        patch_async(bots.teams_bot.PilotGateBot, "on_turn", "on_turn")
        patch_async(BotState, "load", "state_load")
        patch_async(BotState, "save_changes", "state_save")
        patch_async(PilotService, "find", "service_find")
        patch_async(Portfolio, "status", "service_record")
        patch_async(PilotService, "register", "service_register")
        patch_sync(governance.portfolio, "pilot_status", "pilot_status")
        patch_sync(bots.commands, "status_card", "card")
        patch_sync(dialogs.register_pilot, "pilot_created_card", "card")
        patch_async(TurnContext, "send_activity", "send_activity")
        patch_sync(msrest.serialization.Serializer, "body", "serialize")
        patch_async(msrest.universal_http.async_requests.AsyncRequestsHTTPSender, "send", "http_out")
        patch_sync(jsonpickle, "encode", "jsonpickle")
        patch_sync(jsonpickle, "decode", "jsonpickle")
        for op in STORE_OPS:
            original = getattr(store, op)
            setattr(store, op, spans.timed_store(op, original))
            stack.callback(delattr, store, op)
        yield spans


@dataclass
class GcWatch:
    """Full (generation 2) garbage collections and their pauses while installed."""

    full: int = 0
    longest_ms: float = 0.0
    total_ms: float = 0.0
    _start: float = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
            return
        pause = (time.perf_counter() - self._start) * 1000
        self.full += 1
        self.total_ms += pause
        self.longest_ms = max(self.longest_ms, pause)

    @contextmanager
    def watching(self) -> Iterator[GcWatch]:
        gc.callbacks.append(self._callback)
        try:
            yield self
        finally:
            gc.callbacks.remove(self._callback)


# -- CPU profile -------------------------------------------------------------------------------------------------

# Package groups for cProfile's self time; the first prefix that matches a file path wins.
CPU_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("msrest (client construction, (de)serialization, pipeline)", ("/msrest/",)),
    ("botbuilder / botframework (turn machinery)", ("/botbuilder/", "/botframework/")),
    ("requests / urllib3 (main-thread part)", ("/requests/", "/urllib3/")),
    ("aiohttp / yarl / multidict (HTTP server, simulator, fake connector)", ("/aiohttp/", "/yarl/", "/multidict/")),
    ("asyncio event loop, selectors, threads", ("/asyncio/", "selectors.py", "threading.py", "/concurrent/")),
    ("Teams simulator (tests/teams_sim)", ("/tests/teams_sim/",)),
    ("cards/ + microsoft-teams-cards + pydantic", ("/cards/", "/microsoft_teams/", "/pydantic", "/teams/cards")),
    ("storage/ + aiosqlite (main-thread part)", ("/storage/", "/aiosqlite/")),
    ("azure-cosmos / azure-core", ("/azure/",)),
    ("bots/ + governance/ + app.py", ("/bots/", "/governance/", "/app.py", "/api/")),
    ("jsonpickle", ("/jsonpickle/",)),
    ("json, copy, uuid, logging, other stdlib", ("/json/", "copy.py", "uuid.py", "/logging/", "/python3.11/")),
)
OTHER = "other"
IDLE = "idle: the event loop waiting (SQLite's thread, the requests thread, sockets)"


def _group(filename: str) -> str | None:
    for label, prefixes in CPU_GROUPS:
        if any(prefix in filename for prefix in prefixes):
            return label
    return None


FuncKey = tuple[str, int, str]


@dataclass(frozen=True, slots=True)
class CpuProfile:
    turns: int
    total_ms_per_turn: float
    groups: list[tuple[str, float]]  # (group, ms per turn), largest first
    top: list[tuple[str, float, float, int]]  # (function, self ms/turn, inclusive ms/turn, calls/turn)
    inclusive: dict[str, float]  # named entry points -> inclusive ms per turn


# Entry points whose inclusive CPU is worth naming (module path suffix, function name).
INCLUSIVE: dict[str, tuple[str, str]] = {
    "new ConnectorClient (msrest config, requests.Session, Serializer)": (
        "connector/aio/_connector_client_async.py",
        "__init__",
    ),
    "new TokenApiClient (UserTokenClient)": ("token_api/aio/_token_api_client_async.py", "__init__"),
    "msrest ClientRetryPolicy.__init__": ("msrest/universal_http/requests.py", "__init__@ClientRetryPolicy"),
    "msrest Serializer.body (outbound)": ("msrest/serialization.py", "body"),
    "msrest Model.deserialize (inbound)": ("msrest/serialization.py", "deserialize"),
    "TurnContext.send_activities deepcopy": ("copy.py", "deepcopy"),
    "cards: status_card": ("cards/status.py", "status_card"),
    "cards: pilot_created_card": ("cards/pilot_form.py", "pilot_created_card"),
    "jsonpickle encode": ("jsonpickle/pickler.py", "encode"),
    "jsonpickle decode": ("jsonpickle/unpickler.py", "decode"),
}


def _label(key: FuncKey) -> str:
    filename, line, name = key
    if filename == "~":
        return name
    short = filename.split("site-packages/")[-1].split("/work/main/")[-1]
    return f"{short}:{line}({name})"


def summarize_profile(profile: cProfile.Profile, turns: int, top_n: int = 15) -> CpuProfile:
    """Self time per package group (built-ins are charged to their callers' groups) and the top functions."""
    raw: dict[FuncKey, tuple[int, int, float, float, dict[FuncKey, tuple[int, int, float, float]]]]
    raw = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    per_turn = 1000 / max(1, turns)
    groups: defaultdict[str, float] = defaultdict(float)
    total = 0.0
    for key, (_cc, _nc, tt, _ct, callers) in raw.items():
        total += tt
        if key[0] == "~" and "select.epoll" in key[2]:
            groups[IDLE] += tt
            continue
        group = _group(key[0]) if key[0] != "~" else None
        if group is not None:
            groups[group] += tt
            continue
        if key[0] == "~" and callers:
            caller_tt = sum(c[2] for c in callers.values()) or 1.0
            for caller, stats in callers.items():
                share = tt * stats[2] / caller_tt
                groups[_group(caller[0]) or OTHER] += share
        else:
            groups[OTHER] += tt
    top = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top_n]
    inclusive: dict[str, float] = {}
    for label, (suffix, name) in INCLUSIVE.items():
        func, _, owner_hint = name.partition("@")
        best = 0.0
        for key, (_cc, _nc, _tt, ct, _callers) in raw.items():
            if key[0].endswith(suffix) and key[2] == func:
                if owner_hint and not _defined_in(key, owner_hint):
                    continue
                best = max(best, ct)
        inclusive[label] = best * per_turn
    return CpuProfile(
        turns=turns,
        total_ms_per_turn=total * per_turn,
        groups=sorted(((g, t * per_turn) for g, t in groups.items()), key=lambda gt: gt[1], reverse=True),
        top=[(_label(k), v[2] * per_turn, v[3] * per_turn, round(v[1] / max(1, turns))) for k, v in top],
        inclusive=inclusive,
    )


def _defined_in(key: FuncKey, class_name: str) -> bool:
    """Whether the function at ``key`` is a method of ``class_name`` (by the source lines above it)."""
    try:
        with open(key[0], encoding="utf-8") as source:
            lines = source.readlines()[: key[1]]
    except OSError:
        return False
    for line in reversed(lines):
        if line.startswith("class "):
            return line.startswith(f"class {class_name}")
    return False


# -- what-if experiments (patched in this process only) -----------------------------------------------------------


@contextmanager
def retry_policy_fix() -> Iterator[None]:
    """msrest's ClientRetryPolicy builds its retry list with ``i not in <list of 501 ints>`` for i in range(999);
    a frozenset makes that O(1) with the same result."""
    policy = msrest.universal_http.requests.ClientRetryPolicy
    with mock.patch.object(policy, "safe_codes", frozenset(policy.safe_codes)):
        yield


class _CachingConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    def __init__(self, inner: ConnectorFactory, cache: dict[tuple[str, str | None], Any]) -> None:
        self._inner = inner
        self._cache = cache

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (service_url, audience)
        client = self._cache.get(key)
        if client is None:
            client = self._cache[key] = await self._inner.create(service_url, audience)
        return client


@contextmanager
def cached_clients() -> Iterator[None]:
    """Reuse one ConnectorClient per (serviceUrl, audience) and one UserTokenClient per app id across turns,
    instead of botbuilder 4.17.1's new pair per turn."""
    auth_cls = ConfigurationBotFrameworkAuthentication
    authenticate = auth_cls.authenticate_request
    create_user_token_client = auth_cls.create_user_token_client
    connectors: dict[tuple[str, str | None], Any] = {}
    token_clients: dict[str, Any] = {}

    async def caching_authenticate(self: Any, activity: Any, auth_header: Any) -> Any:
        result = await authenticate(self, activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _CachingConnectorFactory(result.connector_factory, connectors)
        return result

    async def caching_user_token_client(self: Any, claims_identity: Any) -> Any:
        claims = getattr(claims_identity, "claims", None) or {}
        key = str(claims.get(AuthenticationConstants.AUDIENCE_CLAIM) or claims.get("appid") or "")
        client = token_clients.get(key)
        if client is None:
            client = token_clients[key] = await create_user_token_client(self, claims_identity)
        return client

    with (
        mock.patch.object(auth_cls, "authenticate_request", caching_authenticate),
        mock.patch.object(auth_cls, "create_user_token_client", caching_user_token_client),
    ):
        yield
