"""A pilot id from outside (a URL, a card's data) that no pilot can have is "no such pilot", on every store.

Seen on Cosmos DB: an id with "/" (which Cosmos refuses in ids) made the store raise ValueError where SQLite
answered None, so the same request was "no such pilot" on one store and "something went wrong" on the other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from storage.repositories import Repositories
from tests.conftest import start_harness, stop_harness
from tests.helpers import card_text, texts_of
from tests.storage.conftest import StoreFactory
from tests.teams_sim import TENANT, FakeConnector, adaptive_card_invoke

ODD_IDS = ["a/b", "a\\b", "what?", "#1", "trailing ", "x" * 1024]


@pytest.mark.parametrize("pilot_id", ODD_IDS)
async def test_a_pilot_id_no_pilot_can_have_is_not_found(store_factory: StoreFactory, pilot_id: str) -> None:
    pilots = Repositories.on(await store_factory()).pilots

    assert await pilots.get(pilot_id, TENANT.id) is None
    assert await pilots.get(pilot_id) is None


async def test_the_rest_api_answers_404_for_such_ids(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(tmp_path, connector, store=await store_factory())
    try:
        for path in ("a%2Fb", "a%5Cb", "what%3F", "%231", "x" * 1024):
            status, body = await h.api("GET", f"/api/pilots/{path}")
            assert (status, body["error"]) == (404, "pilot_not_found"), path
    finally:
        await stop_harness(h)


async def test_a_card_naming_such_a_pilot_gets_a_plain_answer_not_an_error(
    store_factory: StoreFactory, tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(tmp_path, connector, store=await store_factory())
    try:
        press = adaptive_card_invoke("pilot.status", data={"pilotId": "a/b"}, service_url=connector.service_url)

        status, body = await h.bot.post(press)

        assert status == 200
        said = answer_text(body) + " ".join(texts_of(connector.sent_activities()))
        # Card submissions now check the id's form first (cards/submissions.py); either way, no turn error.
        assert said and "something went wrong" not in said.lower()
    finally:
        await stop_harness(h)


def answer_text(body: Any) -> str:
    """The invoke's answer: a message (value is text) or a card."""
    value = body.get("value") if isinstance(body, dict) else None
    if isinstance(value, str):
        return value
    return card_text(value) if isinstance(value, dict) else str(body)
