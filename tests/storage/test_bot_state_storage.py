"""botbuilder's own Storage contract: DocumentBotStorage passes botbuilder-testing's StorageBaseTests on each store.

botbuilder-testing 4.17.1 is installed with --no-deps (Makefile). Its storage_base_tests module imports
botbuilder.azure only to ask ``isinstance(storage, CosmosDbPartitionedStorage)``, and botbuilder-azure pins
azure-cosmos 4.7, which this project cannot use (DESIGN.md). So a stand-in module holding that one class is put in
sys.modules before the import; our storage is not an instance of it, so the suite holds it to the stricter rules
it applies to any storage other than botbuilder's Cosmos and memory ones.
"""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from bots.state_storage import DocumentBotStorage
from governance.errors import ConcurrencyConflict
from storage.documents import DocumentStore

if importlib.util.find_spec("botbuilder.azure") is None:
    stand_in = types.ModuleType("botbuilder.azure")
    stand_in.CosmosDbPartitionedStorage = type("CosmosDbPartitionedStorage", (), {})  # type: ignore[attr-defined]
    sys.modules["botbuilder.azure"] = stand_in

from botbuilder.testing import StorageBaseTests  # after the stand-in, which it needs

# Every test of the suite, by name, so that a case added or renamed upstream shows up here (see the last test).
SUITE = [
    "return_empty_object_when_reading_unknown_key",
    "handle_null_keys_when_reading",
    "handle_null_keys_when_writing",
    "does_not_raise_when_writing_no_items",
    "create_object",
    "handle_crazy_keys",
    "update_object",
    "delete_object",
    "delete_unknown_object",
    "perform_batch_operations",
    "proceeds_through_waterfall",
]


@pytest.mark.parametrize("case", SUITE)
async def test_bot_state_storage_passes_botbuilders_storage_suite(document_store: DocumentStore, case: str) -> None:
    storage = DocumentBotStorage(document_store)

    assert await getattr(StorageBaseTests, case)(storage) is True


async def test_an_empty_e_tag_is_a_conflict_and_changes_nothing(document_store: DocumentStore) -> None:
    storage = DocumentBotStorage(document_store)
    await storage.write({"conversation/1": {"count": 1}})
    state = (await storage.read(["conversation/1"]))["conversation/1"]

    with pytest.raises(ConcurrencyConflict):
        await storage.write({"conversation/1": {**state, "count": 2, "e_tag": ""}})

    assert (await storage.read(["conversation/1"]))["conversation/1"]["count"] == 1


async def test_a_stale_e_tag_is_a_conflict(document_store: DocumentStore) -> None:
    storage = DocumentBotStorage(document_store)
    await storage.write({"conversation/1": {"count": 1}})
    first = (await storage.read(["conversation/1"]))["conversation/1"]
    await storage.write({"conversation/1": {**first, "count": 2}})

    with pytest.raises(ConcurrencyConflict):
        await storage.write({"conversation/1": {**first, "count": 3}})

    assert (await storage.read(["conversation/1"]))["conversation/1"]["count"] == 2


def test_every_case_of_the_suite_is_run() -> None:
    upstream = {name for name, value in vars(StorageBaseTests).items() if isinstance(value, staticmethod)}

    assert upstream == set(SUITE)
