"""Hypothesis over the import's parsers (issue 12): any uploaded bytes are read as a table or refused naming the
body; any row of text is imported, or refused naming its row's columns, never with another exception; a dry run
stores nothing and a real run's second pass changes nothing."""

from __future__ import annotations

import asyncio
from typing import Final

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.spreadsheets import read_table
from governance.errors import ValidationFailed
from governance.imports import IMPORT_COLUMNS, InitiativeImport, Outcome
from governance.services import API_ACTOR, PilotService
from storage.repositories import Repositories
from tests.fakes import FixedClock, MemoryDocumentStore

PROPERTY: Final = settings(
    max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
CELL: Final = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=30),  # no lone surrogates: text a file can hold
    st.sampled_from(["=1+1", "+cmd", "-1", "@SUM(A1)", "1,000", "2026-12-01", "yes", "standalone", "nan", "1e309"]),
    st.from_regex(r"[a-z0-9.]{1,12}@[a-z]{1,8}\.example", fullmatch=True),
)
COLUMNS: Final = sorted(IMPORT_COLUMNS)


@PROPERTY
@given(data=st.binary(max_size=2000), content_type=st.sampled_from(["", "text/csv", "application/octet-stream"]))
def test_any_upload_is_a_table_or_refused_naming_the_body(data: bytes, content_type: str) -> None:
    try:
        table = read_table(data, content_type)
    except ValidationFailed as exc:
        assert set(exc.fields) == {"body"} and exc.fields["body"]
        return
    assert all(isinstance(cell, str) for _, cells in table.rows for cell in cells)


@PROPERTY
@given(
    extra=st.lists(st.sampled_from(COLUMNS), max_size=6, unique=True),
    rows=st.lists(st.lists(CELL, min_size=8, max_size=8), min_size=1, max_size=4),
)
def test_any_rows_are_imported_or_refused_by_column_and_a_second_run_changes_nothing(
    extra: list[str], rows: list[list[str]]
) -> None:
    header = ["name", "sponsor", *(c for c in extra if c not in ("name", "sponsor"))]
    numbered = [(i + 2, tuple(cells[: len(header)])) for i, cells in enumerate(rows)]
    asyncio.run(_import_twice(header, numbered))


async def _import_twice(header: list[str], rows: list[tuple[int, tuple[str, ...]]]) -> None:
    store = MemoryDocumentStore()
    await store.open()
    repos = Repositories.on(store)
    service = PilotService(repos.pilots, repos.readings, repos.decisions, repos.audit, FixedClock(), repos.agenda)
    importer = InitiativeImport(service, repos.members)
    dry = await importer.run("tenant-1", header, rows, API_ACTOR, dry_run=True)
    assert await repos.pilots.list("tenant-1") == []
    first = await importer.run("tenant-1", header, rows, API_ACTOR)
    for result in first.rows:
        if result.outcome is Outcome.FAILED:
            assert result.errors and set(result.errors) <= set(IMPORT_COLUMNS), result
    assert [r.outcome for r in dry.rows] == [r.outcome for r in first.rows]
    stored = await repos.pilots.list("tenant-1")
    second = await importer.run("tenant-1", header, rows, API_ACTOR)
    assert {r.outcome for r in second.rows} <= {Outcome.UNCHANGED, Outcome.FAILED}
    assert await repos.pilots.list("tenant-1") == stored
