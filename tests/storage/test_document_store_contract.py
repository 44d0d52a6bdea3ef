"""The DocumentStore contract: SQLite and Cosmos DB must behave the same for everything here.

Each test runs twice, ``[sqlite]`` and ``[cosmos]`` (see conftest.py); the Cosmos-only tests at the end cover
what only a network store does (throttling, an unreachable account).
"""

from __future__ import annotations

import asyncio
import pathlib
import time
import uuid
from typing import Any

import pytest

from governance.errors import AlreadyExists, ConcurrencyConflict, RecordNotFound, StorageUnavailable
from storage.cosmos_store import CosmosDocumentStore
from storage.documents import ETAG, Document, DocumentStore, where
from tests.storage.conftest import EMULATOR_KEY, CosmosStoreFactory, StoreFactory


def pilot(doc_id: str, tenant: str = "tenant-a", **fields: Any) -> Document:
    """A pilots document; its nameKey, unique in the tenant, follows the id unless a test gives one."""
    return {"id": doc_id, "tenantId": tenant, "nameKey": f"name of {doc_id}", **fields}


def without_etag(doc: Document) -> Document:
    return {k: v for k, v in doc.items() if k != ETAG}


def ids(docs: list[Document]) -> list[str]:
    return sorted(doc["id"] for doc in docs)


# -- create and read ---------------------------------------------------------------------------------------------


async def test_create_then_read_returns_the_document_with_an_etag(document_store: DocumentStore) -> None:
    doc = pilot("p1", name="Invoice triage", metrics=[{"name": "hours", "baseline": 10.5}], active=True)

    created = await document_store.create("pilots", doc)
    read = await document_store.read("pilots", "tenant-a", "p1")

    assert read is not None
    assert isinstance(created[ETAG], str) and created[ETAG]
    assert read[ETAG] == created[ETAG]
    assert without_etag(read) == doc
    assert without_etag(created) == doc


async def test_returned_documents_carry_no_store_properties_except_the_etag(document_store: DocumentStore) -> None:
    created = await document_store.create("pilots", pilot("p1"))
    read = await document_store.read("pilots", "tenant-a", "p1")
    [queried] = await document_store.query("pilots")

    for doc in (created, read, queried):
        assert doc is not None
        assert sorted(doc) == [ETAG, "id", "nameKey", "tenantId"]


async def test_read_of_a_missing_document_returns_none(document_store: DocumentStore) -> None:
    await document_store.create("pilots", pilot("p1"))

    assert await document_store.read("pilots", "tenant-a", "nope") is None
    assert await document_store.read("pilots", "tenant-b", "p1") is None


async def test_creating_the_same_id_twice_raises_already_exists(document_store: DocumentStore) -> None:
    await document_store.create("pilots", pilot("p1", name="first"))

    with pytest.raises(AlreadyExists):
        await document_store.create("pilots", pilot("p1", name="second"))

    stored = await document_store.read("pilots", "tenant-a", "p1")
    assert stored is not None and stored["name"] == "first"


async def test_the_same_id_in_another_partition_is_another_document(document_store: DocumentStore) -> None:
    await document_store.create("pilots", pilot("p1", "tenant-a", name="a"))
    await document_store.create("pilots", pilot("p1", "tenant-b", name="b"))

    a = await document_store.read("pilots", "tenant-a", "p1")
    b = await document_store.read("pilots", "tenant-b", "p1")
    assert a is not None and a["name"] == "a"
    assert b is not None and b["name"] == "b"


async def test_a_document_without_its_partition_key_is_refused(document_store: DocumentStore) -> None:
    with pytest.raises(ValueError):
        await document_store.create("readings", {"id": "r1", "value": 3})


# -- replace -----------------------------------------------------------------------------------------------------


async def test_replace_with_the_current_etag_succeeds_and_changes_the_etag(document_store: DocumentStore) -> None:
    created = await document_store.create("pilots", pilot("p1", status="draft"))

    replaced = await document_store.replace("pilots", {**created, "status": "active"}, etag=created[ETAG])

    assert replaced[ETAG] != created[ETAG]
    stored = await document_store.read("pilots", "tenant-a", "p1")
    assert stored is not None
    assert stored["status"] == "active"
    assert stored[ETAG] == replaced[ETAG]


async def test_replace_with_a_stale_etag_raises_conflict_and_keeps_the_stored_document(
    document_store: DocumentStore,
) -> None:
    created = await document_store.create("pilots", pilot("p1", status="draft"))
    current = await document_store.replace("pilots", {**created, "status": "active"}, etag=created[ETAG])

    with pytest.raises(ConcurrencyConflict):
        await document_store.replace("pilots", {**created, "status": "retired"}, etag=created[ETAG])

    stored = await document_store.read("pilots", "tenant-a", "p1")
    assert stored == current


async def test_replace_without_an_etag_overwrites_whatever_is_stored(document_store: DocumentStore) -> None:
    await document_store.create("pilots", pilot("p1", status="draft", extra=1))

    replaced = await document_store.replace("pilots", pilot("p1", status="active"))

    stored = await document_store.read("pilots", "tenant-a", "p1")
    assert stored == replaced
    assert without_etag(replaced) == pilot("p1", status="active")


@pytest.mark.parametrize("etag", [None, "an-etag-that-never-was"], ids=["no-etag", "with-etag"])
async def test_replace_of_a_missing_document_raises_record_not_found(
    document_store: DocumentStore, etag: str | None
) -> None:
    with pytest.raises(RecordNotFound):
        await document_store.replace("pilots", pilot("ghost"), etag=etag)

    assert await document_store.read("pilots", "tenant-a", "ghost") is None


async def test_two_replicas_racing_a_replace_with_the_same_etag_exactly_one_wins(store_factory: StoreFactory) -> None:
    replica_a, replica_b = await store_factory(), await store_factory()
    created = await replica_a.create("pilots", pilot("p1", decidedBy=None))

    results = await asyncio.gather(
        replica_a.replace("pilots", {**created, "decidedBy": "a"}, etag=created[ETAG]),
        replica_b.replace("pilots", {**created, "decidedBy": "b"}, etag=created[ETAG]),
        return_exceptions=True,
    )

    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if isinstance(r, ConcurrencyConflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    stored = await replica_b.read("pilots", "tenant-a", "p1")
    assert stored == winners[0]


async def test_two_replicas_racing_to_create_the_same_id_exactly_one_wins(store_factory: StoreFactory) -> None:
    replica_a, replica_b = await store_factory(), await store_factory()

    results = await asyncio.gather(
        replica_a.create("sendlog", {"id": "checkin-2025-01", "pilotId": "p1", "by": "a"}),
        replica_b.create("sendlog", {"id": "checkin-2025-01", "pilotId": "p1", "by": "b"}),
        return_exceptions=True,
    )

    winners = [r for r in results if isinstance(r, dict)]
    losers = [r for r in results if isinstance(r, AlreadyExists)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert await replica_a.read("sendlog", "p1", "checkin-2025-01") == winners[0]


# -- upsert and delete -------------------------------------------------------------------------------------------


async def test_upsert_creates_a_missing_document_then_overwrites_it(document_store: DocumentStore) -> None:
    first = await document_store.upsert("botstate", {"id": "conv-1:user-1", "dialog": ["start"]})
    second = await document_store.upsert("botstate", {"id": "conv-1:user-1", "dialog": ["start", "metric"]})

    assert second[ETAG] != first[ETAG]
    stored = await document_store.read("botstate", "conv-1:user-1", "conv-1:user-1")
    assert stored == second
    assert stored is not None and stored["dialog"] == ["start", "metric"]


async def test_delete_removes_the_document_and_is_idempotent(document_store: DocumentStore) -> None:
    await document_store.create("pilots", pilot("p1"))

    await document_store.delete("pilots", "tenant-a", "p1")
    await document_store.delete("pilots", "tenant-a", "p1")
    await document_store.delete("pilots", "tenant-a", "never-existed")

    assert await document_store.read("pilots", "tenant-a", "p1") is None


async def test_delete_with_the_current_etag_removes_the_document(document_store: DocumentStore) -> None:
    created = await document_store.create("pilots", pilot("p1"))

    await document_store.delete("pilots", "tenant-a", "p1", etag=created[ETAG])

    assert await document_store.read("pilots", "tenant-a", "p1") is None


async def test_delete_with_a_stale_etag_raises_conflict_and_keeps_the_document(document_store: DocumentStore) -> None:
    created = await document_store.create("pilots", pilot("p1", status="draft"))
    current = await document_store.replace("pilots", {**created, "status": "active"}, etag=created[ETAG])

    with pytest.raises(ConcurrencyConflict):
        await document_store.delete("pilots", "tenant-a", "p1", etag=created[ETAG])

    assert await document_store.read("pilots", "tenant-a", "p1") == current


async def test_delete_with_an_etag_of_a_document_already_gone_does_nothing(document_store: DocumentStore) -> None:
    created = await document_store.create("pilots", pilot("p1"))
    await document_store.delete("pilots", "tenant-a", "p1")

    await document_store.delete("pilots", "tenant-a", "p1", etag=created[ETAG])

    assert await document_store.read("pilots", "tenant-a", "p1") is None


# -- query -------------------------------------------------------------------------------------------------------


async def _seed_readings(store: DocumentStore) -> None:
    rows = [
        ("r1", "p1", "2025-01", 10, 1.5, True),
        ("r2", "p1", "2025-02", 12, 2.0, False),
        ("r3", "p1", "2025-03", 15, -0.5, True),
        ("r4", "p2", "2025-01", 7, 3.25, True),
        ("r5", "p2", "2025-02", 9, 0.0, False),
        ("r6", "p3", "2025-03", 20, 10.0, True),
    ]
    for doc_id, pilot_id, period, value, delta, on_track in rows:
        await store.create(
            "readings",
            {"id": doc_id, "pilotId": pilot_id, "period": period, "value": value, "delta": delta, "onTrack": on_track},
        )


async def test_query_without_conditions_returns_every_document_of_the_container(document_store: DocumentStore) -> None:
    await _seed_readings(document_store)
    await document_store.create("pilots", pilot("p1"))

    assert ids(await document_store.query("readings")) == ["r1", "r2", "r3", "r4", "r5", "r6"]


async def test_query_by_partition_returns_only_that_partition(document_store: DocumentStore) -> None:
    await _seed_readings(document_store)

    assert ids(await document_store.query("readings", partition="p1")) == ["r1", "r2", "r3"]
    assert ids(await document_store.query("readings", [where("value", ">", 10)], partition="p1")) == ["r2", "r3"]
    assert await document_store.query("readings", partition="nobody") == []


async def test_query_by_equality_across_partitions(document_store: DocumentStore) -> None:
    await _seed_readings(document_store)

    assert ids(await document_store.query("readings", [where("period", "=", "2025-01")])) == ["r1", "r4"]
    assert ids(await document_store.query("readings", [where("period", "!=", "2025-01")])) == ["r2", "r3", "r5", "r6"]
    assert ids(await document_store.query("readings", [where("id", "=", "r5")])) == ["r5"]


async def test_query_by_ranges_across_partitions(document_store: DocumentStore) -> None:
    await _seed_readings(document_store)
    query = document_store.query

    assert ids(await query("readings", [where("value", ">=", 12)])) == ["r2", "r3", "r6"]
    assert ids(await query("readings", [where("value", ">", 7), where("value", "<", 15)])) == ["r1", "r2", "r5"]
    assert ids(await query("readings", [where("value", "<=", 9)])) == ["r4", "r5"]
    assert ids(await query("readings", [where("period", ">=", "2025-02"), where("period", "<", "2025-03")])) == [
        "r2",
        "r5",
    ]


async def test_query_on_numbers_compares_ints_and_floats_by_value(document_store: DocumentStore) -> None:
    await _seed_readings(document_store)
    query = document_store.query

    assert ids(await query("readings", [where("delta", "<", 0)])) == ["r3"]
    assert ids(await query("readings", [where("delta", "=", 2)])) == ["r2"]
    assert ids(await query("readings", [where("delta", ">", 1.5), where("delta", "<=", 3.25)])) == ["r2", "r4"]
    assert ids(await query("readings", [where("value", "=", 15.0)])) == ["r3"]


async def test_query_on_booleans(document_store: DocumentStore) -> None:
    await _seed_readings(document_store)

    assert ids(await document_store.query("readings", [where("onTrack", "=", True)])) == ["r1", "r3", "r4", "r6"]
    assert ids(await document_store.query("readings", [where("onTrack", "=", False)], partition="p2")) == ["r5"]


async def test_query_for_none_matches_missing_and_null_fields(document_store: DocumentStore) -> None:
    await document_store.create("pilots", pilot("missing"))
    await document_store.create("pilots", pilot("null", decision=None))
    await document_store.create("pilots", pilot("set", decision="expand"))
    await document_store.create("pilots", pilot("empty", decision=""))

    assert ids(await document_store.query("pilots", [where("decision", "=", None)])) == ["missing", "null"]
    assert ids(await document_store.query("pilots", [where("decision", "!=", None)])) == ["empty", "set"]
    assert ids(await document_store.query("pilots", [where("decision", "=", "expand")])) == ["set"]
    assert ids(await document_store.query("pilots", [where("decision", "!=", "expand")])) == ["empty"]


@pytest.mark.parametrize(
    "hostile",
    ["O'Brien's pilot", "x'; DROP TABLE documents; --", 'x"; DROP c; --', "' OR '1'='1", "@p0", "back\\slash"],
)
async def test_query_values_are_parameters_not_query_text(document_store: DocumentStore, hostile: str) -> None:
    await document_store.create("pilots", pilot("hostile", name=hostile))
    await document_store.create("pilots", pilot("plain", name="Plain pilot"))

    assert ids(await document_store.query("pilots", [where("name", "=", hostile)])) == ["hostile"]
    assert ids(await document_store.query("pilots", [where("name", "!=", hostile)])) == ["plain"]
    assert ids(await document_store.query("pilots")) == ["hostile", "plain"]


@pytest.mark.parametrize("field", ["name') OR 1=1 --", "a.b", "a b", "", "c.name"])
async def test_query_refuses_field_names_that_are_not_identifiers(document_store: DocumentStore, field: str) -> None:
    with pytest.raises(ValueError):
        await document_store.query("pilots", [where(field, "=", "x")])


# -- durability --------------------------------------------------------------------------------------------------


async def test_documents_survive_close_and_reopen(store_factory: StoreFactory) -> None:
    first = await store_factory()
    created = await first.create("pilots", pilot("p1", name="Durable"))
    await first.close()

    second = await store_factory()

    assert await second.read("pilots", "tenant-a", "p1") == created
    assert ids(await second.query("pilots", [where("name", "=", "Durable")])) == ["p1"]


async def test_ping_answers_when_the_store_is_open(document_store: DocumentStore) -> None:
    await document_store.ping()


async def test_a_closed_store_reports_storage_unavailable(store_factory: StoreFactory) -> None:
    store = await store_factory()
    await store.close()

    with pytest.raises(StorageUnavailable):
        await store.ping()
    with pytest.raises(StorageUnavailable):
        await store.read("pilots", "tenant-a", "p1")


# -- Cosmos only -------------------------------------------------------------------------------------------------


@pytest.mark.cosmos
async def test_cosmos_throttled_requests_are_retried_until_they_succeed(
    cosmos_store_factory: CosmosStoreFactory,
) -> None:
    store = await cosmos_store_factory()
    doc_id = f"throttle-3-{uuid.uuid4().hex}"  # the test server answers 429 three times per request

    created = await store.create("pilots", pilot(doc_id, status="draft"))
    read = await store.read("pilots", "tenant-a", doc_id)
    replaced = await store.replace("pilots", {**created, "status": "active"}, etag=created[ETAG])
    await store.delete("pilots", "tenant-a", doc_id, etag=replaced[ETAG])

    assert read == created
    assert await store.read("pilots", "tenant-a", doc_id) is None


@pytest.mark.cosmos
async def test_cosmos_throttling_one_past_the_retry_budget_is_storage_unavailable(
    cosmos_store_factory: CosmosStoreFactory,
) -> None:
    store = await cosmos_store_factory(throttle_retries=3, throttle_max_wait_s=2)
    within = f"throttle-3-{uuid.uuid4().hex}"
    beyond = f"throttle-4-{uuid.uuid4().hex}"
    await store.create("pilots", pilot(within))
    await store.create("pilots", pilot(beyond))  # the server throttles requests on a document's own URL only

    assert await store.read("pilots", "tenant-a", within) is not None
    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        await store.read("pilots", "tenant-a", beyond)
    assert time.monotonic() - started < 2


@pytest.mark.cosmos
async def test_cosmos_default_retry_budget_gives_up_on_endless_throttling(
    cosmos_store_factory: CosmosStoreFactory,
) -> None:
    store = await cosmos_store_factory()  # production settings: 9 retries
    doc_id = f"throttle-50-{uuid.uuid4().hex}"
    created = await store.create("pilots", pilot(doc_id))

    started = time.monotonic()
    with pytest.raises(StorageUnavailable):
        await store.replace("pilots", {**created, "status": "active"}, etag=created[ETAG])
    assert time.monotonic() - started < 5

    assert await store.query("pilots", [where("id", "=", doc_id)]) == [created]  # nothing was written


@pytest.mark.cosmos
@pytest.mark.parametrize("doc_id", ["conv/user", "a\\b", "what?", "#1", "trailing ", "x" * 1024])
async def test_cosmos_refuses_to_write_ids_it_cannot_address(
    cosmos_store_factory: CosmosStoreFactory, doc_id: str
) -> None:
    store = await cosmos_store_factory()

    with pytest.raises(ValueError):
        await store.create("botstate", {"id": doc_id})
    with pytest.raises(ValueError):
        await store.upsert("botstate", {"id": doc_id})


@pytest.mark.parametrize("doc_id", ["a/b", "a\\b", "what?", "#1", "trailing ", "x" * 1024])
async def test_an_id_no_document_can_have_is_simply_not_found(document_store: DocumentStore, doc_id: str) -> None:
    """Ids come from outside (a URL, a card's data): asking for one Cosmos DB cannot hold is not a failure."""
    await document_store.create("pilots", pilot("p1"))

    assert await document_store.read("pilots", "tenant-a", doc_id) is None
    assert await document_store.query("pilots", [where("id", "=", doc_id)]) == []
    await document_store.delete("pilots", "tenant-a", doc_id)
    await document_store.delete("pilots", "tenant-a", doc_id, etag="stale")
    assert ids(await document_store.query("pilots")) == ["p1"]


@pytest.mark.cosmos
async def test_cosmos_unreachable_endpoint_fails_to_open_with_storage_unavailable() -> None:
    store = CosmosDocumentStore("http://127.0.0.1:1/", EMULATOR_KEY, database="unreachable")
    started = time.monotonic()

    with pytest.raises(StorageUnavailable):
        await store.open()

    assert time.monotonic() - started < 5
    with pytest.raises(StorageUnavailable):
        await store.ping()
    await store.close()


@pytest.mark.cosmos
def test_cosmos_store_refuses_a_key_that_is_not_base64() -> None:
    with pytest.raises(ValueError):
        CosmosDocumentStore("http://127.0.0.1:8081/", "not a key", database="any")


async def test_sqlite_finds_a_pilot_by_name_through_the_index(tmp_path: pathlib.Path) -> None:
    """A name lookup must not scan the tenant (the planner needs the canned statistics for that)."""
    from storage.sqlite_store import SqliteDocumentStore

    store = SqliteDocumentStore(tmp_path / "plan.db")
    await store.open()
    try:
        db = store._conn  # the plan is an implementation detail worth pinning
        sql = (
            "EXPLAIN QUERY PLAN SELECT body FROM documents WHERE container = ? AND pk = ? "
            "AND json_extract(body, '$.nameKey') = ?"
        )
        async with db.execute(sql, ("pilots", "t", "x")) as cursor:
            plan = " ".join(str(row[-1]) for row in await cursor.fetchall())
        # The unique (tenant, name) index serves it; ix_name_key where duplicates kept that index from being built.
        assert "ux_pilots_nameKey" in plan or "ix_name_key" in plan
        async with db.execute(
            "EXPLAIN QUERY PLAN SELECT body FROM documents WHERE container = ? "
            "AND json_extract(body, '$.nextDueAt') <= ?",
            ("agenda", "2026"),
        ) as cursor:
            assert "ix_due" in " ".join(str(row[-1]) for row in await cursor.fetchall())
        async with db.execute(
            "EXPLAIN QUERY PLAN SELECT body FROM documents WHERE container = ? AND pk = ? "
            "AND json_extract(body, '$.aadObjectId') = ? AND json_extract(body, '$.kind') = ?",
            ("conversations", "t", "x", "personal"),
        ) as cursor:
            assert "ix_aad_object_id" in " ".join(str(row[-1]) for row in await cursor.fetchall())
    finally:
        await store.close()


async def test_a_failed_create_never_undoes_a_concurrent_write(document_store: DocumentStore) -> None:
    """Seen on SQLite with a shared transaction: a duplicate create's rollback erased another turn's update."""
    await document_store.create("pilots", pilot("taken"))
    current = await document_store.create("pilots", pilot("p1", stage="pilot"))
    for round_ in range(20):
        failed, replaced = await asyncio.gather(
            document_store.create("pilots", pilot("taken")),
            document_store.replace("pilots", pilot("p1", stage=f"stage-{round_}"), current[ETAG]),
            return_exceptions=True,
        )
        assert isinstance(failed, AlreadyExists)
        assert isinstance(replaced, dict)
        current = replaced
        stored = await document_store.read("pilots", "tenant-a", "p1")
        assert stored is not None and stored["stage"] == f"stage-{round_}"


async def test_writes_while_the_same_replica_queries_succeed_when_another_replica_writes(
    store_factory: StoreFactory,
) -> None:
    """Seen on SQLite: a write that ran between a query's execute and fetch joined the query's read transaction and
    failed at once ("database is locked", SQLITE_BUSY_SNAPSHOT) when the other replica had written meanwhile."""
    replica_a, replica_b = await store_factory(), await store_factory()
    for i in range(50):
        await replica_a.upsert("agenda", {"id": f"p{i}", "nextDueAt": "2026-12-01T09:00:00Z"})

    async def sweep_reads() -> None:
        for _ in range(10):
            await replica_a.query("agenda", [where("nextDueAt", "<=", "2026-12-01T09:00:00Z")])

    async def claims(replica: DocumentStore, name: str) -> None:
        for i in range(10):
            await replica.create("sendlog", {"id": f"{name}-{i}", "pilotId": "p1"})

    await asyncio.gather(
        *(sweep_reads() for _ in range(4)), *(claims(replica_a, f"a{n}") for n in range(4)), claims(replica_b, "b")
    )
    assert len(await replica_b.query("sendlog", partition="p1")) == 50
