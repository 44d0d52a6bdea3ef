"""A fake Bot Connector: the Teams REST API v3 that a bot calls back on `serviceUrl`.

It answers the routes botframework-connector's ConnectorClient and TeamsConnectorClient use, records every
request, and can inject the failures Teams produces (429 with Retry-After, 403 for a blocked bot, 412, 5xx)
either on demand, at random rates, or by enforcing Teams' rate limits. It can also answer slowly, like a Teams
that takes seconds to accept each message.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import random
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from aiohttp import web

from .activities import BOT_ID, TEAM, Team, TeamsUser, new_message_id, personal_conversation_id

T = TypeVar("T")

DEFAULT_ERROR_CODES: dict[int, str] = {
    400: "BadArgument",
    401: "BotNotRegistered",
    403: "ConversationBlockedByUser",
    404: "ConversationNotFound",
    412: "PreconditionFailed",
    413: "MessageSizeTooBig",
    429: "Throttled",
    500: "ServiceError",
    502: "ServiceError",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}

# Teams' documented per-bot-per-thread windows, for benchmarks that want more than the one-second window.
TEAMS_THREAD_WINDOWS: tuple[tuple[int, float], ...] = ((7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0))

SEND_OPERATIONS = frozenset({"send", "reply"})

# Running connectors by host:port, so a BotClient can find the one an activity's serviceUrl points at.
_LIVE: dict[str, FakeConnector] = {}


@dataclass(slots=True)
class Recorded:
    """One request the connector received; `fault` is the error code when it was answered with an error."""

    method: str
    path: str
    conversation_id: str | None
    activity_id: str | None
    body: Any
    headers: Mapping[str, str]
    at: float  # time.monotonic()
    operation: str = "unknown"
    query: Mapping[str, str] = field(default_factory=dict)
    tenant_id: str | None = None
    team_id: str | None = None
    member_id: str | None = None
    status: int = 0
    fault: str | None = None
    retry_after: str | None = None
    result_id: str | None = None
    service_path: str = "/"  # the serviceUrl path the request came in under, e.g. "/amer/"

    @property
    def delivered(self) -> bool:
        return self.fault is None and 200 <= self.status < 300


@dataclass(slots=True)
class _FaultRule:
    status: int
    remaining: int
    code: str
    message: str
    retry_after: float | None
    match: Callable[[Recorded], bool] | str | None


class _Window:
    """A sliding window of accepted request times."""

    __slots__ = ("hits", "limit", "span")

    def __init__(self, limit: int, span: float) -> None:
        self.limit = limit
        self.span = span
        self.hits: deque[float] = deque()

    def wait(self, now: float) -> float:
        hits = self.hits
        cutoff = now - self.span
        while hits and hits[0] <= cutoff:
            hits.popleft()
        if len(hits) >= self.limit:
            return hits[0] + self.span - now
        return 0.0


def base_conversation_id(conversation_id: str) -> str:
    """A channel thread id without its `;messageid=...` suffix."""
    return conversation_id.split(";", 1)[0]


def member_json(user: TeamsUser, tenant_id: str | None = None) -> dict[str, Any]:
    """A roster entry as Teams returns it from /members and /pagedmembers."""
    given, _, surname = user.name.partition(" ")
    return {
        "id": user.teams_id,
        "name": user.name,
        "aadObjectId": user.aad_object_id,
        "objectId": user.aad_object_id,
        "givenName": given,
        "surname": surname,
        "email": user.upn,
        "userPrincipalName": user.upn,
        "tenantId": tenant_id or user.tenant_id,
        "userRole": user.user_role,
    }


def _format_retry_after(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _request_matches(match: Callable[[Recorded], bool] | str | None, rec: Recorded) -> bool:
    """None matches any request; a conversation id also matches its channel threads."""
    if match is None:
        return True
    if isinstance(match, str):
        cid = rec.conversation_id
        return cid is not None and (cid == match or base_conversation_id(cid) == match)
    return bool(match(rec))


def _tenant_key(obj: dict[str, Any]) -> str | None:
    # botbuilder-python 4.17.1 writes ConversationAccount/ConversationParameters.tenant_id as "tenantID";
    # Teams reads JSON case-insensitively, so both spellings carry the tenant.
    value = obj.get("tenantId") or obj.get("tenantID")
    return str(value) if value else None


def _tenant_in_body(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    conversation = body.get("conversation")
    if isinstance(conversation, dict):
        tenant = _tenant_key(conversation)
        if tenant:
            return tenant
    channel_data = body.get("channelData")
    if isinstance(channel_data, dict):
        tenant_info = channel_data.get("tenant")
        if isinstance(tenant_info, dict) and tenant_info.get("id"):
            return str(tenant_info["id"])
    tenant = _tenant_key(body)
    if tenant:
        return tenant
    activity = body.get("activity")
    return _tenant_in_body(activity) if isinstance(activity, dict) else None


class FakeConnector:
    """Bot Connector REST API v3 on 127.0.0.1 with a free port; `async with FakeConnector() as conn`.

    `conn.service_url` has a path (default `amer/`, like Teams' `https://smba.trafficmanager.net/amer/`).
    Any path before `/v3/` is accepted, so a moved serviceUrl (`conn.service_url_for("emea")`) reaches the same
    connector; each request records the one it used in `Recorded.service_path`. With `strict_prefix=True`
    other paths get 404, which catches a bot that drops the serviceUrl's path.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = "amer",
        strict_prefix: bool = False,
        teams: Iterable[Team] = (TEAM,),
        strict_activity_ids: bool = False,
        max_activity_bytes: int | None = None,
        page_size_bounds: tuple[int, int] = (50, 500),
    ) -> None:
        self.host = host
        self._port = port
        self._prefix = [p for p in prefix.split("/") if p]
        self.strict_prefix = strict_prefix
        self._origin: str | None = None
        self.strict_activity_ids = strict_activity_ids
        self.max_activity_bytes = max_activity_bytes
        self.page_size_bounds = page_size_bounds
        self._runner: web.AppRunner | None = None
        self._service_url: str | None = None

        self.requests: list[Recorded] = []
        self._sent: list[Recorded] = []
        self._sent_by_conversation: defaultdict[str, list[Recorded]] = defaultdict(list)
        self._updates: list[Recorded] = []
        self._deletes: list[Recorded] = []
        self._created: list[Recorded] = []
        self._activities: dict[str, Any] = {}
        self._deleted_ids: set[str] = set()
        self._waiters: list[asyncio.Future[None]] = []

        self._rosters: dict[str, list[dict[str, Any]]] = {}
        self._known_users: dict[str, TeamsUser] = {}
        self._bot_ids: set[str] = {BOT_ID}
        self._teams: dict[str, Team] = {}
        self._channel_team: dict[str, str] = {}
        self._conversation_tenant: dict[str, str] = {}
        for team in teams:
            self.add_team(team)

        self._rules: list[_FaultRule] = []
        self._delay_s = 0.0
        self._delay_match: Callable[[Recorded], bool] | str | None = None
        self._blocked: dict[str, str] = {}
        self._rng = random.Random()
        self._rate_429 = 0.0
        self._rate_503 = 0.0
        self._rate_retry_after: float = 1.0
        self._conversation_limits: tuple[tuple[int, float], ...] = ()
        self._tenant_limits: tuple[tuple[int, float], ...] = ()
        self._windows: dict[tuple[str, str], list[_Window]] = {}
        self._stats: defaultdict[str, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))

    # lifecycle

    async def start(self) -> FakeConnector:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self._origin = f"{self.host}:{port}"
        self._service_url = self.service_url_for(*self._prefix)
        _LIVE[self._origin] = self
        return self

    async def close(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.cancel()
        self._waiters.clear()
        if self._origin is not None:
            _LIVE.pop(self._origin, None)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeConnector:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def service_url(self) -> str:
        if self._service_url is None:
            raise RuntimeError("FakeConnector is not started")
        return self._service_url

    def service_url_for(self, *path: str) -> str:
        """Another serviceUrl on this connector, e.g. `service_url_for("emea")` for a user whose region moved."""
        if self._origin is None:
            raise RuntimeError("FakeConnector is not started")
        return f"http://{self._origin}/" + "".join(f"{p.strip('/')}/" for p in path if p.strip("/"))

    @staticmethod
    def for_service_url(service_url: str) -> FakeConnector | None:
        """The running FakeConnector a serviceUrl points at, if any (BotClient uses it to call observe)."""
        return _LIVE.get(urlsplit(service_url).netloc)

    # directory: teams and rosters

    def add_team(self, team: Team) -> None:
        self._teams[team.id] = team
        self._conversation_tenant[team.id] = team.tenant_id
        for channel in team.channels:
            self._channel_team[channel.id] = team.id
            self._conversation_tenant[channel.id] = team.tenant_id

    def set_members(
        self, conversation_or_team_id: str, users: Iterable[TeamsUser], *, tenant_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Set the roster of a conversation or team; returns the member JSON the routes answer with."""
        users = list(users)
        for user in users:
            self._known_users[user.teams_id] = user
        members = [member_json(user, tenant_id) for user in users]
        self._rosters[conversation_or_team_id] = members
        tenant = tenant_id or next((u.tenant_id for u in users if u.tenant_id), None)
        if tenant:
            self._conversation_tenant.setdefault(conversation_or_team_id, tenant)
        return [dict(m) for m in members]

    def register_conversation(self, conversation_id: str, tenant_id: str) -> None:
        """Tell the connector a conversation's tenant, as Teams knows it (for stats and tenant limits)."""
        self._conversation_tenant[base_conversation_id(conversation_id)] = tenant_id

    def observe(self, activity: Mapping[str, Any]) -> None:
        """Learn what Teams knows from an activity it delivers to the bot: conversation tenant, bot id, sender.

        botbuilder's replies carry no tenant (its ConversationAccount drops `tenantId`), so without this a
        reply's tenant is unknown to the connector. BotClient(connector=...) calls it for every post.
        """
        conversation = activity.get("conversation") or {}
        tenant = _tenant_in_body(dict(activity))
        if conversation.get("id") and tenant:
            self._conversation_tenant.setdefault(base_conversation_id(str(conversation["id"])), tenant)
        recipient = activity.get("recipient") or {}
        if str(recipient.get("id", "")).startswith("28:"):
            self._bot_ids.add(str(recipient["id"]))

    def add_users(self, users: Iterable[TeamsUser]) -> None:
        """Make users known so a 1:1 chat's roster (the user) resolves without set_members."""
        for user in users:
            self._known_users[user.teams_id] = user

    def _roster(self, conversation_id: str) -> list[dict[str, Any]] | None:
        roster = self._rosters.get(conversation_id)
        if roster is not None:
            return roster
        base = base_conversation_id(conversation_id)
        roster = self._rosters.get(base)
        if roster is not None:
            return roster
        team_id = self._channel_team.get(base)
        if team_id is not None and team_id in self._rosters:
            return self._rosters[team_id]
        if conversation_id.startswith("a:"):
            for user in self._known_users.values():
                for bot_id in self._bot_ids:
                    if personal_conversation_id(user, bot_id) == conversation_id:
                        members = [member_json(user)]
                        self._rosters[conversation_id] = members
                        return members
        return None

    # fault injection and limits

    def fail_next(
        self,
        status: int,
        count: int = 1,
        retry_after: float | None = None,
        match: Callable[[Recorded], bool] | str | None = None,
        *,
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `count` matching requests with `status` (429 gets Retry-After, default 1 s).

        `match` is a predicate on the Recorded request or a conversation id (a channel id also matches its
        threads); None matches any request.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        self._rules.append(
            _FaultRule(
                status=status,
                remaining=count,
                code=code or DEFAULT_ERROR_CODES.get(status, "ServiceError"),
                message=message or f"Injected {status}",
                retry_after=retry_after,
                match=match,
            )
        )

    def block(self, conversation_user_or_tenant_id: str, code: str = "ConversationBlockedByUser") -> None:
        """Answer 403 `code` for a conversation, a user (create-conversation members) or a tenant until unblocked."""
        self._blocked[conversation_user_or_tenant_id] = code

    def unblock(self, conversation_user_or_tenant_id: str) -> None:
        self._blocked.pop(conversation_user_or_tenant_id, None)

    def set_fault_rates(
        self,
        rate_429: float = 0.05,
        rate_503: float = 0.01,
        retry_after_s: float = 1,
        seed: int | None = None,
    ) -> None:
        """Fail requests at random (seeded for reproducible benchmarks); rates of 0 turn it off."""
        self._rate_429 = rate_429
        self._rate_503 = rate_503
        self._rate_retry_after = retry_after_s
        self._rng = random.Random(seed)

    def set_response_delay(self, seconds: float, match: Callable[[Recorded], bool] | str | None = None) -> None:
        """Answer matching requests `seconds` late (a slow Teams); 0 turns it off. `match` is as in `fail_next`.

        A request is received, recorded and counted on arrival, before the delay: a bot that gives up waiting for
        the answer has still delivered the message, as with the real service.
        """
        self._delay_s = seconds
        self._delay_match = match

    def enforce_limits(
        self,
        per_tenant_per_s: int | None = 50,
        per_conversation_per_s: int | None = 7,
        *,
        conversation_windows: Iterable[tuple[int, float]] = (),
        tenant_windows: Iterable[tuple[int, float]] = (),
    ) -> None:
        """Answer 429 when a sender exceeds the limits (sliding windows over accepted requests).

        A conversation is keyed without its `;messageid=` suffix, so a channel's threads share its limit.
        None turns a limit off; extra windows are (count, seconds), e.g. TEAMS_THREAD_WINDOWS.
        """
        conv = [(per_conversation_per_s, 1.0)] if per_conversation_per_s else []
        tenant = [(per_tenant_per_s, 1.0)] if per_tenant_per_s else []
        self._conversation_limits = tuple(conv + list(conversation_windows))
        self._tenant_limits = tuple(tenant + list(tenant_windows))
        self._windows.clear()

    def _windows_for(self, kind: str, key: str, limits: tuple[tuple[int, float], ...]) -> list[_Window]:
        windows = self._windows.get((kind, key))
        if windows is None:
            windows = [_Window(limit, span) for limit, span in limits]
            self._windows[(kind, key)] = windows
        return windows

    def _matches(self, rule: _FaultRule, rec: Recorded) -> bool:
        return _request_matches(rule.match, rec)

    def _blocked_code(self, rec: Recorded) -> str | None:
        if not self._blocked:
            return None
        keys: list[str] = []
        if rec.conversation_id:
            keys += [rec.conversation_id, base_conversation_id(rec.conversation_id)]
        if rec.tenant_id:
            keys.append(rec.tenant_id)
        if rec.operation == "create_conversation" and isinstance(rec.body, dict):
            keys += [str(m.get("id")) for m in rec.body.get("members") or () if isinstance(m, dict)]
        for key in keys:
            if key in self._blocked:
                return self._blocked[key]
        return None

    def _fault_for(self, rec: Recorded) -> tuple[int, str, str, float | None] | None:
        code = self._blocked_code(rec)
        if code is not None:
            return 403, code, "The bot is blocked in this conversation.", None
        for rule in self._rules:
            if rule.remaining > 0 and self._matches(rule, rec):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
                return rule.status, rule.code, rule.message, rule.retry_after
        if self._conversation_limits or self._tenant_limits:
            now = rec.at
            windows: list[_Window] = []
            if self._conversation_limits and rec.conversation_id:
                key = base_conversation_id(rec.conversation_id)
                windows += self._windows_for("conversation", key, self._conversation_limits)
            if self._tenant_limits and rec.tenant_id:
                windows += self._windows_for("tenant", rec.tenant_id, self._tenant_limits)
            wait = max((w.wait(now) for w in windows), default=0.0)
            if wait > 0:
                return 429, "Throttled", "Too many requests.", max(1, math.ceil(wait))
            for window in windows:
                window.hits.append(now)
        if self._rate_429 or self._rate_503:
            roll = self._rng.random()
            if roll < self._rate_429:
                return 429, "Throttled", "Too many requests.", self._rate_retry_after
            if roll < self._rate_429 + self._rate_503:
                return 503, "ServiceUnavailable", "Service is unavailable.", None
        return None

    # inspection

    def sent(self, conversation_id: str | None = None) -> list[Recorded]:
        """Delivered activity posts (sends, replies, and create-conversation with an activity), in order."""
        if conversation_id is None:
            return list(self._sent)
        return list(self._sent_by_conversation.get(conversation_id, ()))

    def sent_activities(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Bodies of delivered activity posts; a channel id also matches its threads."""
        return [self._activity_body(rec) for rec in self.sent(conversation_id)]

    def sent_count(self, conversation_id: str | None = None) -> int:
        if conversation_id is None:
            return len(self._sent)
        return len(self._sent_by_conversation.get(conversation_id, ()))

    def updates(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        """Bodies of delivered activity updates (PUT); `activity_id` of each is in `update_records()`."""
        return [rec.body for rec in self.update_records(conversation_id)]

    def update_records(self, conversation_id: str | None = None) -> list[Recorded]:
        return [rec for rec in self._updates if self._in_conversation(rec, conversation_id)]

    def deletes(self, conversation_id: str | None = None) -> list[tuple[str, str]]:
        return [
            (rec.conversation_id or "", rec.activity_id or "")
            for rec in self._deletes
            if self._in_conversation(rec, conversation_id)
        ]

    def created_conversations(self) -> list[dict[str, Any]]:
        """Bodies (ConversationParameters) of delivered create-conversation calls; the new id is in `created()`."""
        return [rec.body for rec in self._created]

    def created(self) -> list[Recorded]:
        return list(self._created)

    def faults(self) -> list[Recorded]:
        return [rec for rec in self.requests if rec.fault is not None]

    def activity(self, activity_id: str) -> dict[str, Any] | None:
        """The current version of an activity the bot posted (after updates); None if unknown or deleted."""
        return self._activities.get(activity_id)

    def stats(self) -> dict[str, dict[str, int]]:
        """Per tenant ("unknown" when none could be found): delivered, ok, 429, 403, 4xx, 5xx."""
        return {tenant: dict(counts) for tenant, counts in self._stats.items()}

    def totals(self) -> dict[str, int]:
        out: defaultdict[str, int] = defaultdict(int)
        for counts in self._stats.values():
            for key, value in counts.items():
                out[key] += value
        return dict(out)

    def reset(self) -> None:
        """Forget requests, faults and limit windows; keeps rosters and teams."""
        self.requests.clear()
        self._sent.clear()
        self._sent_by_conversation.clear()
        self._updates.clear()
        self._deletes.clear()
        self._created.clear()
        self._activities.clear()
        self._deleted_ids.clear()
        self._rules.clear()
        self._delay_s = 0.0
        self._delay_match = None
        self._blocked.clear()
        self._rate_429 = self._rate_503 = 0.0
        self._conversation_limits = self._tenant_limits = ()
        self._windows.clear()
        self._stats.clear()

    async def wait_for(self, predicate: Callable[[FakeConnector], T], timeout: float = 5) -> T:  # noqa: ASYNC109
        """Wait until `predicate(conn)` is truthy and return its value; re-checked after every request."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate(self)
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"FakeConnector.wait_for: condition not met within {timeout} s")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                pass
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    async def wait_for_sent(
        self,
        count: int,
        conversation_id: str | None = None,
        timeout: float = 5,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Wait until at least `count` activities were delivered (to a conversation) and return them."""
        await self.wait_for(lambda c: c.sent_count(conversation_id) >= count, timeout)
        return self.sent_activities(conversation_id)

    @staticmethod
    def _activity_body(rec: Recorded) -> dict[str, Any]:
        if rec.operation == "create_conversation":
            return rec.body["activity"]  # type: ignore[no-any-return]
        return rec.body  # type: ignore[no-any-return]

    @staticmethod
    def _in_conversation(rec: Recorded, conversation_id: str | None) -> bool:
        if conversation_id is None:
            return True
        cid = rec.conversation_id
        return cid is not None and (cid == conversation_id or base_conversation_id(cid) == conversation_id)

    def _notify(self) -> None:
        if self._waiters:
            for waiter in self._waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._waiters.clear()

    # HTTP

    def _route(self, method: str, segments: list[str]) -> tuple[str, str | None, str | None, str | None]:
        """(operation, conversation id, activity id, team or member id) for a path below the prefix."""
        n = len(segments)
        if n < 2 or segments[0] != "v3":
            return "unknown", None, None, None
        if segments[1] == "teams" and n >= 3:
            if n == 3 and method == "GET":
                return "team_details", None, None, segments[2]
            if n == 4 and segments[3] == "conversations" and method == "GET":
                return "team_channels", None, None, segments[2]
            return "unknown", None, None, segments[2]
        if segments[1] != "conversations":
            return "unknown", None, None, None
        if n == 2:
            return ("create_conversation" if method == "POST" else "unknown"), None, None, None
        cid = segments[2]
        if n == 4:
            kind = segments[3]
            if kind == "activities" and method == "POST":
                return "send", cid, None, None
            if kind == "members" and method == "GET":
                return "members", cid, None, None
            if kind == "pagedmembers" and method == "GET":
                return "paged_members", cid, None, None
        elif n == 5:
            kind, item = segments[3], segments[4]
            if kind == "activities":
                if method == "POST":
                    return ("history" if item == "history" else "reply"), cid, item, None
                if method == "PUT":
                    return "update", cid, item, None
                if method == "DELETE":
                    return "delete", cid, item, None
            if kind == "members" and method == "GET":
                return "member", cid, None, item
        elif n == 6 and segments[3] == "activities" and segments[5] == "members" and method == "GET":
            return "members", cid, segments[4], None
        return "unknown", cid, None, None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        # The raw path keeps %2F inside ids apart from the separators; each segment is decoded once.
        segments = [unquote(s) for s in request.rel_url.raw_path.split("/") if s]
        start = segments.index("v3") if "v3" in segments else len(segments)
        prefix, segments = segments[:start], segments[start:]
        if self.strict_prefix and prefix != self._prefix:
            operation, cid, aid, other = "unknown", None, None, None
        else:
            operation, cid, aid, other = self._route(request.method, segments)
        body: Any = None
        size = 0
        if request.can_read_body:
            raw = await request.read()
            size = len(raw)
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
        rec = Recorded(
            method=request.method,
            path="/" + "/".join(segments),
            conversation_id=cid,
            activity_id=aid,
            body=body,
            headers=request.headers,
            at=time.monotonic(),
            operation=operation,
            query=request.query,
            service_path="/" + "".join(f"{p}/" for p in prefix),
        )
        if operation.startswith("team_"):
            rec.team_id = other
        elif operation == "member":
            rec.member_id = other
        rec.tenant_id = self._resolve_tenant(rec)
        self.requests.append(rec)
        try:
            response = self._respond(rec, size)
        finally:
            self._count(rec)
            self._notify()
        if self._delay_s > 0 and _request_matches(self._delay_match, rec):
            await asyncio.sleep(self._delay_s)
        return response

    def _resolve_tenant(self, rec: Recorded) -> str | None:
        if isinstance(rec.body, dict):
            bot = rec.body.get("bot") or rec.body.get("from")
            if isinstance(bot, dict) and isinstance(bot.get("id"), str) and bot["id"].startswith("28:"):
                self._bot_ids.add(bot["id"])
        tenant = _tenant_in_body(rec.body)
        if rec.team_id and rec.team_id in self._teams:
            tenant = tenant or self._teams[rec.team_id].tenant_id
        if rec.conversation_id:
            base = base_conversation_id(rec.conversation_id)
            if tenant:
                self._conversation_tenant.setdefault(base, tenant)
            else:
                tenant = self._conversation_tenant.get(base)
        return tenant

    def _error(
        self, rec: Recorded, status: int, code: str, message: str, retry_after: float | None = None
    ) -> web.Response:
        rec.status = status
        rec.fault = code
        headers = None
        if retry_after is not None:
            rec.retry_after = _format_retry_after(retry_after)
            headers = {"Retry-After": rec.retry_after}
        return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)

    def _ok(self, rec: Recorded, payload: Any, status: int = 200) -> web.Response:
        rec.status = status
        return web.json_response(payload, status=status)

    def _respond(self, rec: Recorded, size: int) -> web.Response:
        if rec.operation == "unknown":
            return self._error(rec, 404, "NotFound", f"No fake route for {rec.method} {rec.path}")
        fault = self._fault_for(rec)
        if fault is not None:
            return self._error(rec, *fault)
        if rec.method in ("POST", "PUT") and not isinstance(rec.body, dict):
            return self._error(rec, 400, "BadArgument", "The request body must be a JSON object.")
        if self.max_activity_bytes is not None and size > self.max_activity_bytes:
            return self._error(rec, 413, "MessageSizeTooBig", "Message size too large.")
        handler = getattr(self, f"_op_{rec.operation}")
        return handler(rec)  # type: ignore[no-any-return]

    def _count(self, rec: Recorded) -> None:
        counts = self._stats[rec.tenant_id or "unknown"]
        status = rec.status
        if 200 <= status < 300:
            delivered = rec.operation in SEND_OPERATIONS or (
                rec.operation == "create_conversation" and rec.body.get("activity")
            )
            counts["delivered" if delivered else "ok"] += 1
        elif status in (429, 403):
            counts[str(status)] += 1
        elif status >= 500:
            counts["5xx"] += 1
        else:
            counts["4xx"] += 1

    # operations

    def _accept_activity(self, rec: Recorded, conversation_id: str, activity: dict[str, Any]) -> str:
        activity_id = new_message_id()
        rec.result_id = activity_id
        self._activities[activity_id] = activity
        self._sent.append(rec)
        self._sent_by_conversation[conversation_id].append(rec)
        base = base_conversation_id(conversation_id)
        if base != conversation_id:
            self._sent_by_conversation[base].append(rec)
        return activity_id

    def _op_send(self, rec: Recorded) -> web.Response:
        assert rec.conversation_id is not None
        return self._ok(rec, {"id": self._accept_activity(rec, rec.conversation_id, rec.body)})

    def _op_reply(self, rec: Recorded) -> web.Response:
        return self._op_send(rec)

    def _op_history(self, rec: Recorded) -> web.Response:
        return self._ok(rec, {"id": str(uuid.uuid4())})

    def _known_activity(self, rec: Recorded) -> bool:
        aid = rec.activity_id or ""
        if aid in self._deleted_ids:
            return False
        return aid in self._activities or not self.strict_activity_ids

    def _op_update(self, rec: Recorded) -> web.Response:
        if not self._known_activity(rec):
            return self._error(rec, 404, "ActivityNotFoundInConversation", "Conversation not found.")
        self._activities[rec.activity_id or ""] = rec.body
        self._updates.append(rec)
        return self._ok(rec, {"id": rec.activity_id})

    def _op_delete(self, rec: Recorded) -> web.Response:
        if not self._known_activity(rec):
            return self._error(rec, 404, "ActivityNotFoundInConversation", "Conversation not found.")
        self._activities.pop(rec.activity_id or "", None)
        self._deleted_ids.add(rec.activity_id or "")
        self._deletes.append(rec)
        rec.status = 200
        return web.Response(status=200)

    def _op_create_conversation(self, rec: Recorded) -> web.Response:
        body: dict[str, Any] = rec.body
        if not rec.tenant_id:
            return self._error(rec, 400, "BadArgument", "Tenant id is required to create a conversation.")
        members = [m for m in body.get("members") or () if isinstance(m, dict)]
        bot = _as_dict(body.get("bot"))
        channel = _as_dict(_as_dict(body.get("channelData")).get("channel"))
        activity = body.get("activity") if isinstance(body.get("activity"), dict) else None
        activity_id: str | None = None
        if channel.get("id"):
            # A new channel thread: the conversation is the channel plus the root message id.
            root = new_message_id()
            cid = f"{channel['id']};messageid={root}"
            if activity is not None:
                activity_id = root
        elif not body.get("isGroup") and len(members) == 1 and members[0].get("id"):
            cid = personal_conversation_id(str(members[0]["id"]), str(bot.get("id") or BOT_ID))
        else:
            cid = f"19:{uuid.uuid4().hex}@thread.v2"
        rec.conversation_id = cid
        self._conversation_tenant.setdefault(cid, rec.tenant_id)
        if activity is not None:
            if activity_id is None:
                activity_id = self._accept_activity(rec, cid, activity)
            else:
                self._activities[activity_id] = activity
                rec.result_id = activity_id
                self._sent.append(rec)
                self._sent_by_conversation[cid].append(rec)
                self._sent_by_conversation[base_conversation_id(cid)].append(rec)
        self._created.append(rec)
        payload: dict[str, Any] = {"id": cid, "serviceUrl": self.service_url}
        if activity_id is not None:
            payload["activityId"] = activity_id
        return self._ok(rec, payload, status=201)

    def _op_members(self, rec: Recorded) -> web.Response:
        roster = self._roster(rec.conversation_id or "")
        return self._ok(rec, roster or [])

    def _op_paged_members(self, rec: Recorded) -> web.Response:
        cid = rec.conversation_id or ""
        roster = self._roster(cid) or []
        low, high = self.page_size_bounds
        try:
            page_size = min(max(int(rec.query.get("pageSize") or high), low), high)
            token = rec.query.get("continuationToken")
            offset = 0
            if token:
                token_cid, _, token_offset = base64.urlsafe_b64decode(token.encode()).decode().rpartition("|")
                if token_cid != cid:
                    raise ValueError("token for another conversation")
                offset = int(token_offset)
        except ValueError:
            return self._error(rec, 400, "BadArgument", "Invalid pageSize or continuationToken.")
        page = roster[offset : offset + page_size]
        payload: dict[str, Any] = {"members": page}
        if offset + page_size < len(roster):
            next_token = f"{cid}|{offset + page_size}".encode()
            payload["continuationToken"] = base64.urlsafe_b64encode(next_token).decode()
        return self._ok(rec, payload)

    def _op_member(self, rec: Recorded) -> web.Response:
        wanted = rec.member_id or ""
        roster = self._roster(rec.conversation_id or "")
        if roster is None:
            # botbuilder's members-added handler tolerates exactly this code when a lookup fails.
            return self._error(rec, 404, "ConversationNotFound", "Conversation not found.")
        for member in roster:
            if wanted in (member["id"], member["aadObjectId"], member["userPrincipalName"]):
                return self._ok(rec, member)
        return self._error(rec, 404, "MemberNotFoundInConversation", "The member is not in the conversation.")

    def _op_team_details(self, rec: Recorded) -> web.Response:
        team = self._teams.get(rec.team_id or "")
        if team is None:
            return self._error(rec, 404, "TeamNotFound", "Team not found.")
        payload = {
            "id": team.id,
            "name": team.name,
            "aadGroupId": team.aad_group_id,
            "type": "standard",
            "channelCount": len(team.channels),
            "memberCount": len(self._rosters.get(team.id, ())),
            "tenantId": team.tenant_id,
        }
        return self._ok(rec, payload)

    def _op_team_channels(self, rec: Recorded) -> web.Response:
        team = self._teams.get(rec.team_id or "")
        if team is None:
            return self._error(rec, 404, "TeamNotFound", "Team not found.")
        # Teams leaves the General channel unnamed so that clients can localize it.
        conversations = [{"id": c.id, "name": None if c.id == team.id else c.name} for c in team.channels]
        return self._ok(rec, {"conversations": conversations})
