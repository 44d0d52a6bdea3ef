"""Two turns at once in one conversation (issue 10, finding 6): both succeed, and a double click registers once."""

from __future__ import annotations

import asyncio

from tests.bots.test_conversations import FORM
from tests.conftest import Harness
from tests.helpers import card_text, cards_of, texts_of
from tests.teams_sim import SPONSOR, TENANT, adaptive_card_invoke, personal_message


async def test_quick_repeated_commands_in_one_chat_all_get_their_answer(harness: Harness) -> None:
    url = harness.connector.service_url
    await harness.api("POST", "/api/pilots", {**_pilot(), "name": "Claims triage"})
    await harness.api("POST", "/api/pilots", {**_pilot(), "name": "Invoice triage"})
    # Each `status <pilot>` remembers the pilot in conversation state: the saves race on one state document, which
    # the first turn creates (until then every save is an upsert).
    assert (await harness.bot.post(personal_message("status claims", SPONSOR, service_url=url)))[0] in (200, 201)
    messages = [personal_message(f"status {name}", SPONSOR, service_url=url) for name in ("claims", "invoice") * 4]
    results = await asyncio.gather(*(harness.bot.post(m) for m in messages))
    assert all(status in (200, 201) for status, _ in results)
    sent = harness.connector.sent_activities()
    assert not [t for t in texts_of(sent) if "went wrong" in t]
    assert len(cards_of(sent)) == len(messages) + 1


async def test_a_double_clicked_create_registers_once_and_both_presses_see_the_pilot(harness: Harness) -> None:
    url = harness.connector.service_url
    press = adaptive_card_invoke("pilot.create", inputs=FORM, user=SPONSOR, service_url=url)
    second = {**press, "id": press["id"] + "-2"}
    (status_a, body_a), (status_b, body_b) = await asyncio.gather(harness.bot.post(press), harness.bot.post(second))
    assert status_a == status_b == 200
    assert len(await harness.repos.pilots.list(TENANT.id)) == 1
    for body in (body_a, body_b):
        assert "Pilot registered: Claims triage" in card_text(body["value"]), body


def _pilot() -> dict[str, object]:
    from tests.helpers import pilot_body

    return pilot_body()
