"""Deciders: who may decide a gate, by the Teams ids the bot learned (1:1 chats, team rosters), sponsor first."""

from __future__ import annotations

from datetime import date

import pytest

from governance.model import ConversationKind, ConversationRef, Direction, Metric, Person, Pilot, TeamMember
from governance.portfolio import Deciders
from storage.repositories import Repositories
from tests.fakes import MemoryDocumentStore

TENANT = "tenant-1"
SPONSOR = "5b0c7d1e-0000-4f2a-8b3c-000000005e01"
PILOT = Pilot(
    id="p-1",
    tenant_id=TENANT,
    name="Claims triage",
    sponsor=Person(SPONSOR.upper(), "Sam Sponsor"),  # Entra ids compare case-insensitively
    metrics=(Metric("Handling time", "min", 42, 30, Direction.DECREASE),),
    start_date=date(2026, 9, 1),
    gate_date=date(2026, 11, 30),
)


@pytest.fixture
async def repos() -> Repositories:
    store = MemoryDocumentStore()
    await store.open()
    return Repositories.on(store)


async def chat(repos: Repositories, aad_object_id: str, user_id: str, tenant_id: str = TENANT) -> None:
    await repos.conversations.upsert(
        ConversationRef(
            f"a:{user_id}", tenant_id, ConversationKind.PERSONAL, "https://smba", "28:bot", user_id, aad_object_id
        )
    )


async def test_sponsor_first_then_admins_in_a_fixed_order_from_chats_and_rosters(repos: Repositories) -> None:
    await chat(repos, SPONSOR, "29:sponsor")
    await repos.members.upsert(TeamMember(TENANT, SPONSOR, "29:sponsor-roster"))  # the 1:1 chat's id wins
    await chat(repos, "bbbb", "29:admin-b")
    await repos.members.upsert(TeamMember(TENANT, "aaaa", "29:admin-a"))  # known from a team roster only
    deciders = Deciders(repos.conversations, repos.members, ["BBBB", "aaaa", "cccc", SPONSOR])
    # cccc has neither a chat nor a roster entry: left out (they press Decide); the sponsor as admin counts once.
    assert await deciders.teams_ids(PILOT) == ("29:sponsor", "29:admin-a", "29:admin-b")


async def test_ids_from_another_tenant_do_not_count(repos: Repositories) -> None:
    await chat(repos, SPONSOR, "29:sponsor")
    await chat(repos, "aaaa", "29:admin-elsewhere", tenant_id="tenant-2")
    assert await Deciders(repos.conversations, repos.members, ["aaaa"]).teams_ids(PILOT) == ("29:sponsor",)


async def test_the_limit_stops_the_look_ups_with_the_sponsor_in(repos: Repositories) -> None:
    await chat(repos, SPONSOR, "29:sponsor")
    admins = [f"admin-{i:03d}" for i in range(80)]
    for i, admin in enumerate(admins):
        await repos.members.upsert(TeamMember(TENANT, admin, f"29:admin-{i:03d}"))
    ids = await Deciders(repos.conversations, repos.members, admins, limit=60).teams_ids(PILOT)
    assert len(ids) == 60 and ids[0] == "29:sponsor" and ids[-1] == "29:admin-058"


async def test_an_unknown_sponsor_leaves_the_admins(repos: Repositories) -> None:
    await repos.members.upsert(TeamMember(TENANT, "aaaa", "29:admin-a"))
    assert await Deciders(repos.conversations, repos.members, ["aaaa"]).teams_ids(PILOT) == ("29:admin-a",)
