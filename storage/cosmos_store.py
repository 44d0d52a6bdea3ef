"""The Cosmos DB document store (NoSQL API, azure-cosmos 4.17+ async client).

One database; one container per entry in ``storage.documents.CONTAINERS``, partitioned on a top-level field:

| container | partition key | why |
|---|---|---|
| pilots, conversations, members | ``/tenantId`` | listed and looked up per tenant (hundreds of pilots, not millions) |
| readings, decisions, audit, sendlog | ``/pilotId`` | read and written per pilot |
| botstate | ``/id`` | one document per state key, only ever point-read |

A container's unique keys (ContainerSpec.unique_keys: pilots are unique by ``/nameKey`` in their tenant) become its
unique key policy, so Cosmos DB itself refuses the second of two racing writes (409, raised as AlreadyExists).
Cosmos DB fixes that policy when a container is created: a pilots container created before it keeps working, and
``open`` logs a warning saying that only the service's look-up guards names there (to enforce them, copy the
pilots into a new container, e.g. with the Azure Cosmos DB data migration tool, and swap it in).

Queries scoped to a partition send ``partition_key``; the others fan out across partitions (the async client does
that without ``enable_cross_partition_query``). ETags are opaque strings (real Cosmos quotes them, the test server
does not) and are checked by the service with If-Match, so two replicas racing a write cannot both win.

Throttling (429) is retried by the SDK's own throttle policy, honouring ``x-ms-retry-after-ms``, up to
``throttle_retries`` attempts and about ``throttle_max_wait_s`` seconds in total; after that, and on connection
errors, timeouts, 5xx or refused credentials, the store raises StorageUnavailable. Errors are told apart by HTTP
status code, never by message text, and no azure exception leaves this module.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import aiohttp
from azure.core import MatchConditions
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError
from azure.cosmos import PartitionKey
from azure.cosmos.aio import ContainerProxy, CosmosClient, DatabaseProxy
from azure.cosmos.exceptions import CosmosHttpResponseError
from azure.identity.aio import DefaultAzureCredential

from governance.errors import (
    AlreadyExists,
    ConcurrencyConflict,
    GovernanceError,
    RecordNotFound,
    StorageUnavailable,
)
from storage.documents import (
    CONTAINERS,
    ETAG,
    Condition,
    ContainerSpec,
    Document,
    check_unique_keys,
    partition_of,
    strip_system,
)

logger = logging.getLogger(__name__)

_NOT_FOUND = 404
_CONFLICT = 409
_PRECONDITION_FAILED = 412
_OWNER_RESOURCE_NOT_FOUND = 1003  # sub-status of a 404 when the database or container itself is missing

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Cosmos refuses ids with these characters or ending in a space or newline (they would break the item's URL), and
# ids longer than 1,023 bytes (its service quotas; older accounts and libraries said 255).
_BAD_ID = re.compile(r"[/\\#?\t\r\n]|[ \n]$")
_MAX_ID_BYTES = 1023
_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
# Network-level failures that may escape the SDK's own wrapping (it normally raises AzureError subclasses).
_TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (AzureError, aiohttp.ClientError, OSError, TimeoutError)


class CosmosDocumentStore:
    """DocumentStore on Azure Cosmos DB. Without ``key`` it signs in with ``DefaultAzureCredential``.

    ``credential`` (an async token credential) overrides both; a credential passed in belongs to the caller and
    is not closed by ``close()``. The keyword-only tuning knobs default to production values; tests lower them.
    """

    name = "cosmos"

    def __init__(
        self,
        endpoint: str,
        key: str | None,
        database: str,
        *,
        credential: AsyncTokenCredential | None = None,
        throttle_retries: int = 9,
        throttle_max_wait_s: int = 10,
        connect_retries: int = 2,
        connection_timeout_s: int = 5,
        read_timeout_s: int = 10,
    ) -> None:
        if key:
            try:
                base64.b64decode(key, validate=True)
            except binascii.Error as exc:
                raise ValueError("the Cosmos DB key is not a base64 account key") from exc
        if throttle_retries < 1 or throttle_max_wait_s < 1:
            # The SDK reads 0 as "use the default" (9 retries, 30 s), so 0 cannot mean "no retries".
            raise ValueError("throttle_retries and throttle_max_wait_s must be at least 1")
        self._endpoint = endpoint
        self._key = key
        self._database_name = database
        self._credential = credential
        self._owned_credential: AsyncTokenCredential | None = None
        self._client_options: dict[str, Any] = {
            "retry_throttle_total": throttle_retries,
            "retry_throttle_backoff_max": throttle_max_wait_s,
            "retry_connect": connect_retries,
            "connection_timeout": connection_timeout_s,
            "read_timeout": read_timeout_s,
        }
        self._client: CosmosClient | None = None
        self._database: DatabaseProxy | None = None
        self._containers: dict[str, ContainerProxy] = {}

    # -- lifecycle -----------------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect, then create the database and every container that is missing (existing ones are kept as is)."""
        if self._client is not None:
            return
        client = CosmosClient(self._endpoint, self._signing_credential(), **self._client_options)
        self._client = client
        try:
            with _mapped(f"open the database {self._database_name!r} at {self._endpoint}"):
                await client.__aenter__()
                database = await _create_database(client, self._database_name)
                containers = {spec.name: await _create_container(database, spec) for spec in CONTAINERS.values()}
                for spec in CONTAINERS.values():
                    if spec.unique_keys:
                        await _warn_without_unique_keys(containers[spec.name], spec)
        except BaseException:
            await self.close()
            raise
        self._database = database
        self._containers = containers

    async def close(self) -> None:
        client, self._client = self._client, None
        credential, self._owned_credential = self._owned_credential, None
        self._database = None
        self._containers = {}
        try:
            if client is not None:
                await client.close()
        except _TRANSPORT_ERRORS:
            logger.warning("closing the Cosmos DB client failed", exc_info=True)
        finally:
            if credential is not None:
                await credential.close()

    async def ping(self) -> None:
        with _mapped("read the database properties"):
            await self._db.read()

    # -- documents -----------------------------------------------------------------------------------------------

    async def read(self, container: str, partition: str, doc_id: str) -> Document | None:
        if not _storable_id(doc_id):  # no document can have it: asking is no error (a URL from outside, say)
            return None
        with _mapped(f"read {container}/{doc_id}"):
            try:
                item = await self._container(container).read_item(doc_id, partition_key=partition)
            except CosmosHttpResponseError as exc:
                if exc.status_code == _NOT_FOUND and exc.sub_status != _OWNER_RESOURCE_NOT_FOUND:
                    return None
                raise
        return strip_system(item)

    async def create(self, container: str, doc: Document) -> Document:
        body = _body(container, doc)
        doc_id = body["id"]
        with _mapped(f"create {container}/{doc_id}", {_CONFLICT: _taken(container, doc_id)}):
            item = await self._container(container).create_item(body)
        return strip_system(item)

    async def replace(self, container: str, doc: Document, etag: str | None = None) -> Document:
        body = _body(container, doc)
        doc_id = body["id"]
        statuses = {
            _NOT_FOUND: RecordNotFound(f"{container}/{doc_id} does not exist"),
            _PRECONDITION_FAILED: ConcurrencyConflict(f"{container}/{doc_id} was changed by someone else"),
            _CONFLICT: _taken(container, doc_id),  # a unique key held by another document
        }
        with _mapped(f"replace {container}/{doc_id}", statuses):
            if etag is None:
                item = await self._container(container).replace_item(doc_id, body)
            else:
                item = await self._container(container).replace_item(
                    doc_id, body, etag=etag, match_condition=MatchConditions.IfNotModified
                )
        return strip_system(item)

    async def upsert(self, container: str, doc: Document) -> Document:
        body = _body(container, doc)
        with _mapped(f"upsert {container}/{body['id']}", {_CONFLICT: _taken(container, body["id"])}):
            item = await self._container(container).upsert_item(body)
        return strip_system(item)

    async def delete(self, container: str, partition: str, doc_id: str, etag: str | None = None) -> None:
        """Idempotent: a missing document is not an error, with or without ``etag`` (as in the SQLite store)."""
        if not _storable_id(doc_id):
            return
        conflict = ConcurrencyConflict(f"{container}/{doc_id} was changed by someone else")
        with _mapped(f"delete {container}/{doc_id}", {_PRECONDITION_FAILED: conflict}):
            try:
                if etag is None:
                    await self._container(container).delete_item(doc_id, partition_key=partition)
                else:
                    await self._container(container).delete_item(
                        doc_id, partition_key=partition, etag=etag, match_condition=MatchConditions.IfNotModified
                    )
            except CosmosHttpResponseError as exc:
                if exc.status_code != _NOT_FOUND or exc.sub_status == _OWNER_RESOURCE_NOT_FOUND:
                    raise

    async def query(
        self, container: str, conditions: Sequence[Condition] = (), partition: str | None = None
    ) -> list[Document]:
        sql, parameters = build_query(conditions)
        target = self._container(container)
        with _mapped(f"query {container}"):
            if partition is None:
                pages = target.query_items(sql, parameters=parameters)
            else:
                pages = target.query_items(sql, parameters=parameters, partition_key=partition)
            return [strip_system(item) async for item in pages]

    # -- helpers -------------------------------------------------------------------------------------------------

    def _signing_credential(self) -> str | AsyncTokenCredential:
        if self._credential is not None:
            return self._credential
        if self._key:
            return self._key
        self._owned_credential = DefaultAzureCredential()
        return self._owned_credential

    @property
    def _db(self) -> DatabaseProxy:
        if self._database is None:
            raise StorageUnavailable("the Cosmos DB store is not open")
        return self._database

    def _container(self, name: str) -> ContainerProxy:
        if name not in CONTAINERS:
            raise ValueError(f"unknown container {name!r}")
        if self._database is None:
            raise StorageUnavailable("the Cosmos DB store is not open")
        return self._containers[name]


def build_query(conditions: Sequence[Condition]) -> tuple[str, list[dict[str, Any]]]:
    """``SELECT * FROM c WHERE ...`` with every value passed as a parameter, never spliced into the text.

    Fields are written ``c["name"]`` (names like ``value`` are reserved words in Cosmos SQL) after checking that
    they are plain identifiers. A comparison only matches a field holding the same JSON type as the value (Cosmos
    semantics, spelled out with IS_STRING/IS_NUMBER/IS_BOOL so the test server, which compares like JavaScript,
    agrees), so a missing or null field never matches ``!=`` a value. None follows the SQLite store: ``= None``
    matches a missing field and a null one, ``!= None`` a present, non-null one (other operators act as ``=``).
    """
    clauses: list[str] = []
    parameters: list[dict[str, Any]] = []
    for cond in conditions:
        if not _IDENTIFIER.fullmatch(cond.field):
            raise ValueError(f"unsupported field name {cond.field!r}")
        if cond.op not in _OPS:
            raise ValueError(f"unsupported operator {cond.op!r}")
        ref = f'c["{cond.field}"]'
        if cond.value is None:
            if cond.op == "!=":
                clauses.append(f"(IS_DEFINED({ref}) AND NOT IS_NULL({ref}))")
            else:
                clauses.append(f"(NOT IS_DEFINED({ref}) OR IS_NULL({ref}))")
            continue
        name = f"@p{len(parameters)}"
        clauses.append(f"({_type_check(cond.value)}({ref}) AND {ref} {cond.op} {name})")
        parameters.append({"name": name, "value": cond.value})
    sql = "SELECT * FROM c"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    return sql, parameters


def _type_check(value: str | int | float | bool) -> str:
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "IS_BOOL"
    if isinstance(value, int | float):
        return "IS_NUMBER"
    if isinstance(value, str):
        return "IS_STRING"
    raise ValueError(f"unsupported query value {value!r}")


def _storable_id(doc_id: str) -> bool:
    return len(doc_id.encode()) <= _MAX_ID_BYTES and not _BAD_ID.search(doc_id)


def _check_id(container: str, doc_id: str) -> None:
    if not _storable_id(doc_id):
        raise ValueError(
            f"{container} id {doc_id[:40]!r} may not contain / \\ # ? tabs or line breaks, nor end in a space, nor "
            f"be longer than {_MAX_ID_BYTES} bytes"
        )


def _taken(container: str, doc_id: str) -> AlreadyExists:
    keys = CONTAINERS[container].unique_keys
    if not keys:
        return AlreadyExists(f"{container}/{doc_id} already exists")
    return AlreadyExists(f"{container}/{doc_id}: the id or the {', '.join(keys)} is taken in its partition")


def _body(container: str, doc: Document) -> Document:
    if container not in CONTAINERS:
        raise ValueError(f"unknown container {container!r}")
    doc_id = doc.get("id")
    if not isinstance(doc_id, str) or not doc_id:
        raise ValueError(f"{container} document needs a string id")
    _check_id(container, doc_id)
    partition_of(container, doc)
    check_unique_keys(container, doc)
    return {k: v for k, v in strip_system(doc).items() if k != ETAG}


@contextmanager
def _mapped(action: str, statuses: Mapping[int, GovernanceError] | None = None) -> Iterator[None]:
    """Turn every Cosmos or transport failure into a GovernanceError, chosen by status code only.

    ``statuses`` names the error for the status codes that mean something to the caller; any other answer
    (throttled past the retries, 5xx, 401/403, 400) is StorageUnavailable.
    """
    try:
        yield
    except CosmosHttpResponseError as exc:
        status = exc.status_code
        error = (statuses or {}).get(status) if status is not None else None
        if error is not None:
            raise error from exc
        detail = f"status {status}, sub-status {exc.sub_status}"
        raise StorageUnavailable(f"Cosmos DB could not {action} ({detail})") from exc
    except _TRANSPORT_ERRORS as exc:
        raise StorageUnavailable(f"Cosmos DB could not {action}: {type(exc).__name__}") from exc


async def _create_database(client: CosmosClient, name: str) -> DatabaseProxy:
    try:
        return await client.create_database_if_not_exists(name)
    except CosmosHttpResponseError as exc:
        if exc.status_code != _CONFLICT:
            raise
        # Another replica created it between our read and our create.
        return client.get_database_client(name)


async def _create_container(database: DatabaseProxy, spec: ContainerSpec) -> ContainerProxy:
    partition_key = PartitionKey(path=f"/{spec.partition_key}")
    options: dict[str, Any] = {}
    if spec.default_ttl is not None:
        options["default_ttl"] = spec.default_ttl
    if spec.unique_keys:
        options["unique_key_policy"] = _unique_key_policy(spec)
    try:
        created: ContainerProxy = await database.create_container_if_not_exists(spec.name, partition_key, **options)
        return created
    except CosmosHttpResponseError as exc:
        if exc.status_code != _CONFLICT:
            raise
        return database.get_container_client(spec.name)


def _unique_key_policy(spec: ContainerSpec) -> dict[str, Any]:
    return {"uniqueKeys": [{"paths": [f"/{field}"]} for field in spec.unique_keys]}


async def _warn_without_unique_keys(container: ContainerProxy, spec: ContainerSpec) -> None:
    """A container created before its unique keys existed keeps its old policy (Cosmos DB cannot change it)."""
    properties = await container.read()
    have = {tuple(key.get("paths", ())) for key in (properties.get("uniqueKeyPolicy") or {}).get("uniqueKeys", ())}
    missing = [field for field in spec.unique_keys if (f"/{field}",) not in have]
    if missing:
        logger.warning(
            "the Cosmos DB container %r was created without the unique key %s, and Cosmos DB cannot add one to an "
            "existing container: only the service's look-up keeps it unique (two writers at one moment can both "
            "succeed). Copy the documents into a new container created by this version to enforce it.",
            spec.name,
            ", ".join(f"/{field}" for field in missing),
        )
