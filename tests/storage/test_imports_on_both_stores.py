"""The import of a mixed list on each store (memory, SQLite, the Cosmos test server): each row's result read back,
and a second run of the same file writes nothing."""

from __future__ import annotations

from pathlib import Path

from tests.api.test_imports import MIXED_CSV, assert_mixed_file_imported, know_the_sponsor, outcomes, post_file
from tests.conftest import start_harness, stop_harness
from tests.storage.conftest import StoreFactory
from tests.teams_sim import TENANT, FakeConnector


async def test_a_mixed_list_is_imported_once_on_this_store(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(tmp_path, connector, store=await store_factory())
    try:
        await know_the_sponsor(h)
        status, answer = await post_file(h, MIXED_CSV)
        assert status == 200, answer
        await assert_mixed_file_imported(h, answer)
        before = await h.repos.pilots.list(TENANT.id)
        status, again = await post_file(h, MIXED_CSV)
        assert status == 200 and set(outcomes(again).values()) == {"unchanged", "failed"}
        assert sorted(await h.repos.pilots.list(TENANT.id), key=lambda p: p.id) == sorted(before, key=lambda p: p.id)
    finally:
        await stop_harness(h)
