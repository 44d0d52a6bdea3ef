"""The Teams simulator against botbuilder itself: activities it deserializes, REST routes its clients call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.core.teams.teams_activity_extensions import teams_get_channel_data
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from botbuilder.schema.teams import MessagingExtensionQuery, TeamInfo, TeamsChannelAccount
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.models import ErrorResponseException
from botframework.connector.teams import TeamsConnectorClient

from tests.teams_sim import (
    ADMIN,
    BOT_ID,
    FOREIGN_TENANT,
    FOREIGN_USER,
    GENERAL,
    GROUP_CHAT_ID,
    OUTSIDER,
    PEOPLE_CHAT_ID,
    SPONSOR,
    TEAM,
    TENANT,
    BotClient,
    FakeConnector,
    TeamsUser,
    adaptive_card_invoke,
    bot_account,
    channel_message,
    channel_thread_id,
    conversation_update,
    group_chat_message,
    installation_update,
    messaging_extension_query,
    personal_conversation_id,
    personal_message,
    submit_message,
)

# Factories


def _parse(d: dict[str, Any]) -> Activity:
    activity = Activity().deserialize(d)
    assert activity.channel_id == "msteams"
    assert activity.recipient.id == BOT_ID
    assert activity.service_url == d["serviceUrl"]
    return activity


@pytest.mark.parametrize(
    ("make", "conversation_type", "tenant_id"),
    [
        (lambda: personal_message("help", SPONSOR), "personal", TENANT.id),
        (lambda: personal_message("help", FOREIGN_USER), "personal", FOREIGN_TENANT.id),
        (lambda: channel_message("status Copilot", ADMIN), "channel", TENANT.id),
        (lambda: group_chat_message("pilots", OUTSIDER), "groupChat", TENANT.id),
        (lambda: installation_update("add", "personal", SPONSOR), "personal", TENANT.id),
        (lambda: installation_update("add", "team", ADMIN), "channel", TENANT.id),
        (lambda: installation_update("remove", "groupChat", ADMIN), "groupChat", TENANT.id),
        (lambda: conversation_update(scope="team", user=ADMIN), "channel", TENANT.id),
        (lambda: submit_message({"verb": "checkin"}, SPONSOR, inputs={"reading": 31}), "personal", TENANT.id),
        (lambda: adaptive_card_invoke("checkin", {"pilotId": "p1"}, {"reading": "31"}), "personal", TENANT.id),
        (lambda: messaging_extension_query("claims", OUTSIDER), "groupChat", TENANT.id),
        (lambda: messaging_extension_query("", ADMIN, scope="channel"), "channel", TENANT.id),
        (lambda: messaging_extension_query("x", FOREIGN_USER, scope="personal"), "personal", FOREIGN_TENANT.id),
    ],
)
def test_factories_deserialize_with_scope_and_tenant(
    make: Callable[[], dict[str, Any]], conversation_type: str, tenant_id: str
) -> None:
    raw = make()
    activity = _parse(raw)
    assert activity.conversation.conversation_type == conversation_type
    assert raw["conversation"]["tenantId"] == tenant_id
    # botbuilder-python 4.17.1 maps ConversationAccount.tenant_id to "tenantID", so Teams' "tenantId" lands
    # in additional_properties: bots must read the tenant from channelData.
    assert activity.conversation.additional_properties["tenantId"] == tenant_id
    assert teams_get_channel_data(activity).tenant.id == tenant_id
    assert activity.from_property.id.startswith("29:")
    assert activity.from_property.aad_object_id
    assert activity.timestamp is not None
    assert any(e.type == "clientInfo" for e in activity.entities)
    # Plain JSON all the way down: what travels over HTTP.
    assert json.loads(json.dumps(raw)) == raw


def test_channel_message_mentions_the_bot() -> None:
    raw = channel_message("status Copilot", ADMIN)
    activity = _parse(raw)
    assert raw["text"] == "<at>PilotGate</at> status Copilot"
    assert raw["textFormat"] == "plain"
    mentions = activity.get_mentions()
    assert len(mentions) == 1
    # botbuilder keeps a mention's fields in the Entity's additional_properties.
    assert mentions[0].additional_properties["mentioned"] == {"id": BOT_ID, "name": "PilotGate"}
    assert mentions[0].additional_properties["text"] == "<at>PilotGate</at>"
    assert TurnContext.remove_recipient_mention(activity).strip() == "status Copilot"
    # A new post is its own thread root.
    assert activity.conversation.id == channel_thread_id(GENERAL.id, raw["id"])
    channel_data = teams_get_channel_data(activity)
    assert channel_data.team.id == TEAM.id
    assert channel_data.channel.id == GENERAL.id
    assert activity.conversation.is_group is True

    reply = channel_message("more", ADMIN, thread_id=raw["id"])
    assert reply["conversation"]["id"] == activity.conversation.id
    assert reply["replyToId"] == raw["id"]
    assert channel_message("x", ADMIN, mention_bot=False)["text"] == "x"


def test_personal_and_group_messages() -> None:
    raw = personal_message("help", SPONSOR, service_url="http://127.0.0.1:1/amer/")
    assert raw["serviceUrl"] == "http://127.0.0.1:1/amer/"
    assert raw["conversation"]["id"] == personal_conversation_id(SPONSOR)
    assert raw["text"] == "help"
    assert all(e["type"] != "mention" for e in raw["entities"])
    assert raw["from"] == {"id": SPONSOR.teams_id, "name": SPONSOR.name, "aadObjectId": SPONSOR.aad_object_id}

    group = group_chat_message("pilots", OUTSIDER, chat_name="AI pilots")
    assert group["conversation"] == {
        "isGroup": True,
        "conversationType": "groupChat",
        "tenantId": TENANT.id,
        "id": GROUP_CHAT_ID,
        "name": "AI pilots",
    }
    assert group["text"].startswith("<at>PilotGate</at> ")
    assert _parse(group).get_mentions()[0].additional_properties["mentioned"]["name"] == "PilotGate"


def test_installation_and_conversation_updates() -> None:
    install = installation_update("add", "team", ADMIN)
    assert install["type"] == "installationUpdate"
    assert install["action"] == "add"
    assert install["conversation"]["id"] == GENERAL.id
    assert install["channelData"]["settings"] == {"selectedChannel": {"id": GENERAL.id}}
    assert install["channelData"]["team"]["name"] == "Pilots Team"
    assert installation_update("remove", "personal", SPONSOR)["action"] == "remove"

    added = conversation_update(scope="team", user=ADMIN)
    assert added["membersAdded"] == [{"id": BOT_ID}]
    assert added["channelData"]["eventType"] == "teamMemberAdded"
    assert added["channelData"]["settings"]["selectedChannel"]["id"] == GENERAL.id
    assert _parse(added).members_added[0].id == BOT_ID

    removed = conversation_update(members_removed=[bot_account()], scope="team", user=ADMIN)
    assert removed["channelData"]["eventType"] == "teamMemberRemoved"
    assert removed["membersRemoved"] == [{"id": BOT_ID}]
    assert "membersAdded" not in removed

    user_joined = conversation_update(members_added=[OUTSIDER], scope="team", user=ADMIN)
    assert user_joined["conversation"]["id"] == TEAM.id
    assert user_joined["membersAdded"] == [{"id": OUTSIDER.teams_id, "aadObjectId": OUTSIDER.aad_object_id}]

    personal = conversation_update(user=SPONSOR)
    assert [m["id"] for m in personal["membersAdded"]] == [BOT_ID, SPONSOR.teams_id]
    assert "eventType" not in personal["channelData"]


def test_card_actions_send_strings() -> None:
    submit = submit_message({"verb": "checkin", "pilotId": "p1"}, SPONSOR, inputs={"reading": 31, "ok": True})
    assert submit["type"] == "message"
    assert "text" not in submit
    assert submit["value"] == {"verb": "checkin", "pilotId": "p1", "reading": "31", "ok": "true"}
    assert submit["replyToId"]

    invoke = adaptive_card_invoke(
        "checkin", {"pilotId": "p1", "reading": "0"}, {"reading": "31"}, SPONSOR, reply_to_id="1700000000000"
    )
    assert invoke["type"] == "invoke"
    assert invoke["name"] == "adaptiveCard/action"
    assert invoke["replyToId"] == "1700000000000"
    assert invoke["value"] == {
        "action": {"type": "Action.Execute", "verb": "checkin", "data": {"pilotId": "p1", "reading": "31"}},
        "trigger": "manual",
    }
    value = AdaptiveCardInvokeValue(**_parse(invoke).value)
    assert value.action["verb"] == "checkin"

    in_channel = adaptive_card_invoke("decide", {}, {}, ADMIN, scope="channel", reply_to_id="42")
    assert in_channel["conversation"]["id"] == channel_thread_id(GENERAL.id, "42")


def test_message_extension_queries_are_shaped_as_teams_sends_them() -> None:
    typed = messaging_extension_query("claims", OUTSIDER, skip=10, count=5)
    assert typed["type"] == "invoke" and typed["name"] == "composeExtension/query"
    assert typed["value"] == {
        "commandId": "findPilot",
        "parameters": [{"name": "pilotName", "value": "claims"}],
        "queryOptions": {"skip": 10, "count": 5},
    }
    assert typed["from"]["aadObjectId"] == OUTSIDER.aad_object_id
    assert typed["channelData"] == {"tenant": {"id": TENANT.id}, "source": {"name": "compose"}}
    assert typed["conversation"]["id"] == PEOPLE_CHAT_ID  # a chat between people: the bot is no member
    assert "replyToId" not in typed
    opened = messaging_extension_query(initial_run=True)
    assert opened["value"]["parameters"] == [{"name": "initialRun", "value": "true"}]
    assert opened["value"]["queryOptions"] == {"skip": 0, "count": 25}
    in_channel = messaging_extension_query("x", ADMIN, scope="channel", source="commandbox")
    assert in_channel["channelData"]["team"] == {"id": TEAM.id}
    assert in_channel["channelData"]["source"] == {"name": "commandbox"}
    # botbuilder reads it into its MessagingExtensionQuery, as TeamsActivityHandler does.
    query = MessagingExtensionQuery().deserialize(typed["value"])
    assert query.command_id == "findPilot"
    assert query.parameters[0].name == "pilotName" and query.parameters[0].value == "claims"
    assert (query.query_options.skip, query.query_options.count) == (10, 5)


def test_ids_are_unique() -> None:
    ids = [personal_message("x", SPONSOR)["id"] for _ in range(200)]
    ids += [adaptive_card_invoke("v", {}, {})["id"] for _ in range(200)]
    assert len(set(ids)) == len(ids)


# Fake connector with botframework-connector's clients


@pytest.fixture
async def conn() -> AsyncIterator[FakeConnector]:
    async with FakeConnector() as connector:
        yield connector


def _client(conn: FakeConnector) -> ConnectorClient:
    return ConnectorClient(MicrosoftAppCredentials(None, None), base_url=conn.service_url)


def _message(text: str, conversation_id: str, tenant_id: str = TENANT.id) -> Activity:
    return Activity(
        type="message",
        text=text,
        from_property=ChannelAccount(id=BOT_ID, name="PilotGate"),
        conversation=ConversationAccount(id=conversation_id, tenant_id=tenant_id),
    )


async def test_connector_client_round_trip_is_recorded(conn: FakeConnector) -> None:
    personal = personal_conversation_id(SPONSOR)
    thread = channel_thread_id(GENERAL.id, "1700000000001")
    async with _client(conn) as client:
        sent = await client.conversations.send_to_conversation(personal, _message("hello", personal))
        replied = await client.conversations.reply_to_activity(thread, "1700000000001", _message("re", thread))
        card = _message("updated", personal)
        card.id = sent.id
        await client.conversations.update_activity(personal, sent.id, card)
        await client.conversations.delete_activity(thread, replied.id)

        created = await client.conversations.create_conversation(
            ConversationParameters(
                bot=ChannelAccount(id=BOT_ID),
                members=[ChannelAccount(id=SPONSOR.teams_id)],
                tenant_id=TENANT.id,
                channel_data={"tenant": {"id": TENANT.id}},
            )
        )
        thread_root = await client.conversations.create_conversation(
            ConversationParameters(
                is_group=True,
                bot=ChannelAccount(id=BOT_ID),
                channel_data={"channel": {"id": GENERAL.id}, "tenant": {"id": TENANT.id}},
                activity=_message("new thread", GENERAL.id),
            )
        )

    assert sent.id != replied.id
    # The 1:1 chat Teams returns is the one the user talks to the bot in.
    assert created.id == personal
    assert thread_root.id == channel_thread_id(GENERAL.id, thread_root.activity_id)

    assert [r.operation for r in conn.requests] == [
        "send",
        "reply",
        "update",
        "delete",
        "create_conversation",
        "create_conversation",
    ]
    # Ids with ':' ';' '@' '=' arrive URL-encoded and are recorded decoded.
    assert conn.requests[1].conversation_id == thread
    assert conn.requests[1].activity_id == "1700000000001"
    assert [a["text"] for a in conn.sent_activities()] == ["hello", "re", "new thread"]
    assert [a["text"] for a in conn.sent_activities(personal)] == ["hello"]
    assert [a["text"] for a in conn.sent_activities(GENERAL.id)] == ["re", "new thread"]
    assert conn.updates() == [conn.activity(sent.id)]
    updated = conn.activity(sent.id)
    assert updated is not None and updated["text"] == "updated"
    assert conn.activity(replied.id) is None
    assert conn.deletes() == [(thread, replied.id)]
    # botbuilder writes ConversationParameters.tenant_id as "tenantID"; Teams reads it case-insensitively.
    assert [c.get("tenantID") for c in conn.created_conversations()] == [TENANT.id, None]
    assert all(r.tenant_id == TENANT.id for r in conn.requests)
    assert conn.stats() == {TENANT.id: {"delivered": 3, "ok": 3}}


async def test_rosters_paged_and_single(conn: FakeConnector) -> None:
    people = [TeamsUser(f"29:user{i}", f"00000000-0000-0000-0000-{i:012d}", f"User {i}", TENANT.id) for i in range(120)]
    members = conn.set_members(TEAM.id, [ADMIN, SPONSOR, *people])
    assert members[0]["userPrincipalName"] == ADMIN.upn
    assert members[0]["tenantId"] == TENANT.id
    assert members[0]["userRole"] == "user"

    async with _client(conn) as client:
        pages = []
        token = None
        while True:
            page = await client.conversations.get_teams_conversation_paged_members(TEAM.id, 50, token)
            pages.append(page)
            token = page.continuation_token
            if not token:
                break
        everyone = await client.conversations.get_conversation_members(TEAM.id)
        by_aad = await client.conversations.get_conversation_member(TEAM.id, SPONSOR.aad_object_id)
        # A channel thread resolves to its team's roster.
        in_thread = await client.conversations.get_conversation_member(
            channel_thread_id(GENERAL.id, "1"), SPONSOR.teams_id
        )
        with pytest.raises(ErrorResponseException) as missing:
            await client.conversations.get_conversation_member(TEAM.id, FOREIGN_USER.teams_id)

    assert [len(p.members) for p in pages] == [50, 50, 22]
    assert pages[0].members[0].id == ADMIN.teams_id
    member = TeamsChannelAccount().deserialize(pages[0].members[1].serialize())
    assert member.aad_object_id == SPONSOR.aad_object_id
    assert member.user_principal_name == SPONSOR.upn
    assert member.tenant_id == TENANT.id
    assert len(everyone) == 122
    assert by_aad.id == SPONSOR.teams_id
    assert in_thread.name == SPONSOR.name
    assert missing.value.response.status_code == 404
    assert [r.operation for r in conn.requests[:3]] == ["paged_members"] * 3


async def test_personal_roster_resolves_known_users(conn: FakeConnector) -> None:
    conn.add_users([SPONSOR])
    async with _client(conn) as client:
        me = await client.conversations.get_conversation_member(personal_conversation_id(SPONSOR), SPONSOR.teams_id)
    assert me.name == SPONSOR.name


async def test_teams_routes_with_teams_connector_client(conn: FakeConnector) -> None:
    conn.set_members(TEAM.id, [ADMIN, SPONSOR])
    client = TeamsConnectorClient(MicrosoftAppCredentials(None, None), base_url=conn.service_url)
    # The Teams client is synchronous (requests): keep it off the event loop the server runs on.
    details = await asyncio.to_thread(client.teams.get_team_details, TEAM.id)
    channels = await asyncio.to_thread(client.teams.get_teams_channels, TEAM.id)
    assert (details.id, details.name, details.aad_group_id) == (TEAM.id, "Pilots Team", TEAM.aad_group_id)
    assert details.member_count == 2
    assert [(c.id, c.name) for c in channels.conversations] == [(GENERAL.id, None)]
    assert [r.operation for r in conn.requests] == ["team_details", "team_channels"]
    assert conn.requests[0].team_id == TEAM.id


async def test_fail_next_429_has_retry_after(conn: FakeConnector) -> None:
    cid = personal_conversation_id(SPONSOR)
    conn.fail_next(429, retry_after=3)
    async with _client(conn) as client:
        with pytest.raises(ErrorResponseException) as throttled:
            await client.conversations.send_to_conversation(cid, _message("one", cid))
        await client.conversations.send_to_conversation(cid, _message("two", cid))

    assert throttled.value.response.status_code == 429
    assert throttled.value.response.headers["Retry-After"] == "3"
    assert throttled.value.error.error.code == "Throttled"
    [fault] = conn.faults()
    assert (fault.status, fault.fault, fault.retry_after) == (429, "Throttled", "3")
    assert [a["text"] for a in conn.sent_activities()] == ["two"]
    assert conn.stats()[TENANT.id] == {"429": 1, "delivered": 1}


async def test_fail_next_matches_one_conversation(conn: FakeConnector) -> None:
    blocked = personal_conversation_id(SPONSOR)
    other = personal_conversation_id(ADMIN)
    conn.fail_next(403, count=2, match=blocked)
    conn.fail_next(412, match=lambda r: r.operation == "update")
    async with _client(conn) as client:
        ok = await client.conversations.send_to_conversation(other, _message("fine", other))
        for _ in range(2):
            with pytest.raises(ErrorResponseException) as forbidden:
                await client.conversations.send_to_conversation(blocked, _message("no", blocked))
            assert forbidden.value.error.error.code == "ConversationBlockedByUser"
        await client.conversations.send_to_conversation(blocked, _message("later", blocked))
        with pytest.raises(ErrorResponseException) as precondition:
            await client.conversations.update_activity(other, ok.id, _message("edit", other))
    assert precondition.value.error.error.code == "PreconditionFailed"
    assert [r.status for r in conn.requests] == [200, 403, 403, 200, 412]


async def test_msrest_retries_idempotent_5xx_by_itself(conn: FakeConnector) -> None:
    # botframework-connector's msrest pipeline (urllib3 Retry) retries 408 and 5xx other than 501/505 up to
    # 3 times for GET/PUT/DELETE, with no delay before the first retry; POSTs (sends, replies, creates), 429
    # and 412 reach the caller.
    cid = personal_conversation_id(SPONSOR)
    conn.fail_next(503, match=lambda r: r.operation == "send")
    conn.fail_next(503, match=lambda r: r.operation == "update")
    async with _client(conn) as client:
        with pytest.raises(ErrorResponseException) as unavailable:
            await client.conversations.send_to_conversation(cid, _message("post", cid))
        sent = await client.conversations.send_to_conversation(cid, _message("post", cid))
        await client.conversations.update_activity(cid, sent.id, _message("put", cid))
    assert unavailable.value.response.status_code == 503
    assert [(r.operation, r.status) for r in conn.requests] == [
        ("send", 503),
        ("send", 200),
        ("update", 503),
        ("update", 200),
    ]


async def test_block_until_unblocked(conn: FakeConnector) -> None:
    conn.block(SPONSOR.teams_id)
    params = ConversationParameters(
        bot=ChannelAccount(id=BOT_ID), members=[ChannelAccount(id=SPONSOR.teams_id)], tenant_id=TENANT.id
    )
    async with _client(conn) as client:
        with pytest.raises(ErrorResponseException) as blocked:
            await client.conversations.create_conversation(params)
        conn.unblock(SPONSOR.teams_id)
        created = await client.conversations.create_conversation(params)
        with pytest.raises(ErrorResponseException) as no_tenant:
            await client.conversations.create_conversation(
                ConversationParameters(bot=ChannelAccount(id=BOT_ID), members=[ChannelAccount(id=ADMIN.teams_id)])
            )
    assert blocked.value.response.status_code == 403
    assert created.id == personal_conversation_id(SPONSOR)
    assert no_tenant.value.response.status_code == 400


async def test_a_slow_connector_has_the_message_before_it_answers(conn: FakeConnector) -> None:
    slow = personal_conversation_id(SPONSOR)
    quick = personal_conversation_id(ADMIN)
    conn.set_response_delay(0.3, match=slow)
    async with _client(conn) as client:
        sending = asyncio.ensure_future(client.conversations.send_to_conversation(slow, _message("slow", slow)))
        await conn.wait_for_sent(1, slow, timeout=0.2)  # received on arrival, not when answered
        assert not sending.done()
        started = asyncio.get_running_loop().time()
        await client.conversations.send_to_conversation(quick, _message("quick", quick))
        assert asyncio.get_running_loop().time() - started < 0.2
        await sending
    assert [a["text"] for a in conn.sent_activities()] == ["slow", "quick"]


async def test_enforce_limits_per_conversation(conn: FakeConnector) -> None:
    conn.enforce_limits(per_tenant_per_s=50, per_conversation_per_s=7)
    busy = personal_conversation_id(SPONSOR)
    quiet = personal_conversation_id(ADMIN)
    statuses = []
    async with _client(conn) as client:
        for i in range(10):
            try:
                await client.conversations.send_to_conversation(busy, _message(str(i), busy))
                statuses.append(200)
            except ErrorResponseException as error:
                statuses.append(error.response.status_code)
                assert error.response.headers["Retry-After"] == "1"
        await client.conversations.send_to_conversation(quiet, _message("other chat", quiet))
    assert statuses == [200] * 7 + [429] * 3
    assert conn.sent_count(busy) == 7
    assert conn.sent_count(quiet) == 1
    assert conn.stats()[TENANT.id] == {"delivered": 8, "429": 3}


async def test_enforce_limits_per_tenant(conn: FakeConnector) -> None:
    conn.enforce_limits(per_tenant_per_s=5, per_conversation_per_s=None)
    statuses = []
    async with _client(conn) as client:
        for i in range(6):
            cid = f"a:chat{i}"
            try:
                await client.conversations.send_to_conversation(cid, _message("x", cid))
                statuses.append(200)
            except ErrorResponseException as error:
                statuses.append(error.response.status_code)
        foreign = "a:foreign"
        await client.conversations.send_to_conversation(foreign, _message("x", foreign, FOREIGN_TENANT.id))
    assert statuses == [200] * 5 + [429]
    assert conn.stats()[FOREIGN_TENANT.id] == {"delivered": 1}


async def test_limit_windows_slide(conn: FakeConnector) -> None:
    conn.enforce_limits(None, None, conversation_windows=[(2, 0.2)])
    cid = personal_conversation_id(SPONSOR)
    statuses = []
    async with _client(conn) as client:
        for pause in (0, 0, 0, 0.25):
            await asyncio.sleep(pause)
            try:
                await client.conversations.send_to_conversation(cid, _message("x", cid))
                statuses.append(200)
            except ErrorResponseException as error:
                statuses.append(error.response.status_code)
                assert error.response.headers["Retry-After"] == "1"
    assert statuses == [200, 200, 429, 200]


async def test_fault_rates_are_seeded(conn: FakeConnector) -> None:
    async def run(seed: int) -> list[int]:
        conn.reset()
        conn.set_fault_rates(rate_429=0.2, rate_503=0.03, retry_after_s=2, seed=seed)
        async with _client(conn) as client:
            for i in range(100):
                cid = f"a:bench{i % 10}"
                try:
                    await client.conversations.send_to_conversation(cid, _message("x", cid, TENANT.id))
                except ErrorResponseException as error:
                    assert error.response.status_code in (429, 503)
        return [r.status for r in conn.requests]

    first = await run(7)
    assert first == await run(7)
    assert 5 <= first.count(429) <= 40
    totals = conn.stats()[TENANT.id]
    assert totals["429"] == first.count(429)
    assert totals.get("5xx", 0) == first.count(503)
    assert totals["delivered"] == first.count(200)
    assert all(r.retry_after == "2" for r in conn.faults() if r.status == 429)


async def test_wait_for(conn: FakeConnector) -> None:
    cid = personal_conversation_id(SPONSOR)

    async def later() -> None:
        await asyncio.sleep(0.05)
        async with _client(conn) as client:
            await client.conversations.send_to_conversation(cid, _message("late", cid))

    task = asyncio.create_task(later())
    [activity] = await conn.wait_for_sent(1, cid, timeout=5)
    await task
    assert activity["text"] == "late"
    found = await conn.wait_for(lambda c: [r for r in c.requests if r.operation == "send"])
    assert found[0].conversation_id == cid
    with pytest.raises(TimeoutError):
        await conn.wait_for(lambda c: c.sent_count() > 1, timeout=0.05)


async def test_unknown_route_is_recorded_404(conn: FakeConnector) -> None:
    async with aiohttp.ClientSession() as session, session.get(conn.service_url + "v3/attachments/abc") as response:
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "NotFound"
    assert [(r.operation, r.status, r.fault) for r in conn.requests] == [("unknown", 404, "NotFound")]


async def test_any_service_path_reaches_the_connector_unless_strict(conn: FakeConnector) -> None:
    moved = conn.service_url_for("emea")
    assert moved.endswith("/emea/") and conn.service_url.endswith("/amer/")
    cid = personal_conversation_id(SPONSOR)
    async with ConnectorClient(MicrosoftAppCredentials(None, None), base_url=moved) as client:
        await client.conversations.send_to_conversation(cid, _message("moved", cid))
    assert conn.requests[-1].service_path == "/emea/"
    assert FakeConnector.for_service_url(moved) is conn

    async with FakeConnector(strict_prefix=True) as strict, aiohttp.ClientSession() as session:
        bare = strict.service_url_for() + "v3/conversations/x/activities"
        async with session.post(bare, json={"type": "message"}) as response:
            assert response.status == 404
        async with session.post(strict.service_url + "v3/conversations/x/activities", json={"type": "message"}) as ok:
            assert ok.status == 200
    assert FakeConnector.for_service_url(moved) is conn


# A real botbuilder bot talking through the simulator


class EchoBot(TeamsActivityHandler):  # type: ignore[misc]
    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.value:
            await turn_context.send_activity(f"submitted {json.dumps(activity.value, sort_keys=True)}")
            return
        text = (TurnContext.remove_recipient_mention(activity) or "").strip()
        if text == "roster":
            page = await TeamsInfo.get_paged_members(turn_context)
            await turn_context.send_activity(f"{len(page.members)} members")
            return
        await turn_context.send_activity(f"echo: {text}")

    async def on_teams_members_added(  # type: ignore[override]
        self, teams_members_added: list[TeamsChannelAccount], team_info: TeamInfo, turn_context: TurnContext
    ) -> None:
        names = ", ".join(m.name or m.id for m in teams_members_added)
        await turn_context.send_activity(f"added {names} to {team_info.name}")

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        data = invoke_value.action["data"]
        # A dict value: botbuilder 4.17.1 cannot serialize a string value here.
        card = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": data["reading"]}]}
        return AdaptiveCardInvokeResponse(status_code=200, type="application/vnd.microsoft.card.adaptive", value=card)


class _AnonymousConfig:
    APP_ID = ""
    APP_PASSWORD = ""
    APP_TYPE = "MultiTenant"
    APP_TENANTID = ""


@pytest.fixture
async def bot_url() -> AsyncIterator[str]:
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_AnonymousConfig()))
    bot = EchoBot()

    # As the design notes say: process the activity ourselves so invoke bodies are not serialized twice.
    async def messages(request: web.Request) -> web.Response:
        activity = Activity().deserialize(await request.json())
        response = await adapter.process_activity(request.headers.get("Authorization", ""), activity, bot.on_turn)
        if response:
            return web.json_response(response.body, status=response.status)
        return web.Response(status=201)

    app = web.Application()
    app.router.add_post("/api/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def test_bot_round_trip_through_simulator(conn: FakeConnector, bot_url: str) -> None:
    conn.set_members(TEAM.id, [ADMIN, SPONSOR, OUTSIDER])
    url = conn.service_url
    # BotClient finds the FakeConnector behind each activity's serviceUrl and tells it the conversation's tenant.
    async with BotClient(bot_url) as bot:
        status, body = await bot.post(personal_message("help", SPONSOR, service_url=url))
        assert (status, body) == (201, None)
        [reply] = await conn.wait_for_sent(1, personal_conversation_id(SPONSOR))
        assert reply["text"] == "echo: help"
        assert reply["replyToId"]

        post = channel_message("roster", ADMIN, service_url=url)
        await bot.post(post)
        [roster] = await conn.wait_for_sent(1, post["conversation"]["id"])
        assert roster["text"] == "3 members"

        await bot.post(conversation_update(members_added=[OUTSIDER], scope="team", user=ADMIN, service_url=url))
        # The team id is also the General channel's id: its threads count as the same conversation.
        welcome = (await conn.wait_for_sent(2, TEAM.id))[-1]
        assert welcome["text"] == "added Oli Outsider to Pilots Team"

        await bot.post(submit_message({"verb": "checkin"}, SPONSOR, service_url=url, inputs={"reading": 31}))
        await conn.wait_for_sent(2, personal_conversation_id(SPONSOR))
        assert conn.sent_activities(personal_conversation_id(SPONSOR))[-1]["text"] == (
            'submitted {"reading": "31", "verb": "checkin"}'
        )

        status, body = await bot.post(adaptive_card_invoke("checkin", {}, {"reading": 31}, SPONSOR, service_url=url))
        assert status == 200
        assert body["statusCode"] == 200
        assert body["type"] == "application/vnd.microsoft.card.adaptive"
        assert body["value"]["body"][0]["text"] == "31"

    operations = [r.operation for r in conn.requests]
    assert operations.count("paged_members") == 1
    assert operations.count("member") == 1
    assert all(r.tenant_id == TENANT.id for r in conn.requests)
