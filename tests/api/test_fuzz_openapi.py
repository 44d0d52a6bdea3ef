"""Schemathesis against /api/openapi.json (issue 10): no request makes the API answer 5xx or log an error, and every
4xx is the JSON error of the interface contract, a 400 naming the fields that were wrong.

The app is built as in the other API tests (create_app on SQLite, a FakeConnector) but runs on its own event loop in
a background thread for the whole module, so schemathesis calls it over HTTP synchronously. Generation is seeded and
deterministic and no example database is read: CI sends the same requests on every run.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, Final, TypeAlias, TypeVar

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, Response

from api.openapi import openapi_document
from api.spreadsheets import XLSX_TYPE
from tests.conftest import API_TOKEN, start_harness, stop_harness
from tests.helpers import pilot_body
from tests.teams_sim import FakeConnector

T = TypeVar("T")
RequestCase: TypeAlias = Case[Any]

SEED: Final = 20261126
EXAMPLES_PER_OPERATION: Final = 50
AUTH: Final = {"Authorization": f"Bearer {API_TOKEN}"}
# The FixedClock says 2026-11-26 and pilot_body() starts on 2026-09-01: this reading is one the API accepts.
VALID_READING: Final = {"period": "2026-11", "values": {"Handling time": 40}, "status": "green"}


@schemathesis.serializer(XLSX_TYPE)
def _xlsx_body(ctx: Any, value: Any) -> bytes:
    """An uploaded Excel file as the fuzzer makes it: whatever bytes (or text) it generated; the reader must refuse
    what is not a workbook by naming the body, never with a 5xx."""
    return value if isinstance(value, bytes) else str(value).encode()


SCHEMA = schemathesis.openapi.from_dict(
    openapi_document(),
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "mode": "all",  # valid requests and ones that break the schema (types, bounds, missing auth)
                "database": "none",
            },
        }
    ),
)
REGISTER = SCHEMA["/api/pilots"]["POST"]
PUSH_READING = SCHEMA["/api/pilots/{pilot_id}/readings"]["POST"]
BOUNDED = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
MUTATIONS = settings(BOUNDED, max_examples=EXAMPLES_PER_OPERATION, derandomize=True)


class _ErrorLog(logging.Handler):
    """Keeps what the app logs at ERROR (logger.exception included): a 200 can hide a failure too."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        taken, self.records = self.records, []
        return [f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in taken]


@dataclass(frozen=True)
class ServedApp:
    base_url: str
    pilot_id: str  # fuzzed requests may change this pilot
    reading_pilot_id: str  # left as registered, so a valid reading stays valid
    session: requests.Session
    errors: _ErrorLog

    def call(self, case: RequestCase) -> Response:
        """The app's answer to ``case``, after checking that answering it logged no error."""
        self.errors.take()
        response = case.call(base_url=self.base_url, session=self.session, headers=AUTH, timeout=30)
        logged = self.errors.take()
        assert not logged, f"{case.method} {case.formatted_path} body={case.body!r:.300} logged: {logged}"
        return response


class _LoopThread:
    """An event loop of its own in a daemon thread; ``run`` waits for a coroutine scheduled on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzzed-app", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """The app with two registered pilots, for the whole module."""
    thread = _LoopThread()
    errors = _ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        connector = thread.run(FakeConnector().start())
        harness = thread.run(start_harness(tmp_path_factory.mktemp("fuzz"), connector))
        ids = []
        for name in ("Fuzzed pilot", "Pilot taking readings"):
            status, pilot = thread.run(harness.api("POST", "/api/pilots", pilot_body(name=name)))
            assert status == 201, pilot
            ids.append(str(pilot["id"]))
        with requests.Session() as session:
            yield ServedApp(
                harness.url("/").rstrip("/"), pilot_id=ids[0], reading_pilot_id=ids[1], session=session, errors=errors
            )
        thread.run(stop_harness(harness))
        thread.run(connector.close())
    finally:
        logging.getLogger().removeHandler(errors)
        thread.stop()


def _names_one_of(field: str, names: set[str]) -> bool:
    """``metrics[0].target`` names ``metrics``; a stray key such as ``a.b`` is named as it was sent."""
    return field in names or re.split(r"[.\[]", field, maxsplit=1)[0] in names


def _names_a_400_may_blame(case: RequestCase) -> set[str]:
    """The whole body, the operation's parameters and body schema properties, and every key the request sent."""
    document = openapi_document()
    names = {"body", *(case.path_parameters or {}), *(case.query or {})}
    operation = document["paths"][case.operation.path][case.method.lower()]
    names.update(str(parameter["name"]) for parameter in operation.get("parameters", []))  # e.g. a missing tenantId
    request_body = operation.get("requestBody")
    if request_body is not None and "application/json" in request_body["content"]:
        model = request_body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        names.update(document["components"]["schemas"][model]["properties"])
    if isinstance(case.body, dict):
        names.update(str(key) for key in case.body)
    return names


def assert_error_contract(case: RequestCase, response: Response) -> None:
    """No 5xx; a 4xx is {"error", "message", "fields"}; a 400 names at least one field the request had or needs."""
    shown = response.content[:500].decode("utf-8", "replace")  # a 200 may be a workbook, not text
    where = f"{case.method} {case.formatted_path} body={case.body!r:.300} -> {response.status_code} {shown}"
    assert response.status_code < 500, where
    if response.status_code < 400:
        return
    error = response.json()
    assert isinstance(error, dict) and set(error) == {"error", "message", "fields"}, where
    assert isinstance(error["error"], str) and error["error"], where
    assert isinstance(error["message"], str) and error["message"], where
    fields = error["fields"]
    assert isinstance(fields, dict), where
    assert all(isinstance(problem, str) and problem for problem in fields.values()), where
    if response.status_code == 400:
        assert fields, where
        names = _names_a_400_may_blame(case)
        strangers = {field for field in fields if not _names_one_of(field, names)}
        assert not strangers, f"{where}: {strangers} were neither sent nor in the schema"


@SCHEMA.parametrize()
@BOUNDED
def test_api_answers_any_request_without_5xx_and_names_the_fields_of_every_400(
    case: RequestCase, served: ServedApp
) -> None:
    assert_error_contract(case, served.call(case))


@SCHEMA.include(path_regex=r"\{pilot_id\}").parametrize()
@BOUNDED
def test_requests_about_an_existing_pilot_get_no_5xx_and_name_the_fields_of_every_400(
    case: RequestCase, served: ServedApp
) -> None:
    case.path_parameters["pilot_id"] = served.pilot_id
    assert_error_contract(case, served.call(case))


def _overlay(base: dict[str, Any], generated: Any, fields: set[str]) -> dict[str, Any]:
    """``base`` with the chosen fields taken from the generated body (where it has them)."""
    assert isinstance(generated, dict)
    return {**base, **{key: value for key, value in generated.items() if key in fields}}


PILOT_FIELDS: Final = sorted(openapi_document()["components"]["schemas"]["PilotIn"]["properties"])
READING_FIELDS: Final = sorted(openapi_document()["components"]["schemas"]["ReadingIn"]["properties"])


@MUTATIONS
@given(case=REGISTER.as_strategy(), fields=st.sets(st.sampled_from(PILOT_FIELDS), min_size=1, max_size=3))
def test_a_valid_pilot_with_a_few_fuzzed_fields_is_registered_and_readable_or_refused_by_field(
    case: RequestCase, fields: set[str], served: ServedApp
) -> None:
    case.body = _overlay(pilot_body(name=f"Fuzzed {uuid.uuid4().hex[:8]}"), case.body, fields)
    response = served.call(case)
    assert_error_contract(case, response)
    if response.status_code == 201:
        created = response.json()
        fetched = served.session.get(f"{served.base_url}/api/pilots/{created['id']}", headers=AUTH, timeout=30)
        assert fetched.status_code == 200 and fetched.json()["name"] == created["name"], fetched.text


@MUTATIONS
@given(case=PUSH_READING.as_strategy(), fields=st.sets(st.sampled_from(READING_FIELDS), min_size=1, max_size=3))
def test_a_valid_reading_with_a_few_fuzzed_fields_is_stored_or_refused_by_field(
    case: RequestCase, fields: set[str], served: ServedApp
) -> None:
    case.path_parameters["pilot_id"] = served.reading_pilot_id
    case.body = _overlay(dict(VALID_READING), case.body, fields)
    assert_error_contract(case, served.call(case))
