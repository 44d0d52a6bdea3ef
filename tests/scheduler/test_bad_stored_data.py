"""Stored data that is somehow bad (issue 10, finding 4): it never breaks the sweep, `pilots` or `overdue` for that
pilot or for the others; it is logged by id and left out."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import Harness
from tests.helpers import card_text, cards_of
from tests.scheduler.test_checkins import CHECKIN_TIME, install_sponsor, register, tick
from tests.teams_sim import ADMIN, SPONSOR, personal_message


async def test_a_reading_of_an_impossible_month_stored_earlier_breaks_nothing(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    pilot = await register(harness, name="Claims triage")
    other = await register(harness, name="Invoice triage", sponsor={"aadObjectId": ADMIN.aad_object_id, "name": "A"})
    await install_sponsor(harness)
    # What an earlier version let through: year 0 and fullwidth digits.
    for period in ("0000-01", "\uff12\uff10\uff12\uff16-10"):
        await harness.store.create(
            "readings",
            {"id": period, "pilotId": pilot["id"], "tenantId": pilot["tenantId"], "period": period, "values": {}},
        )
    await harness.store.create("agenda", {"id": "broken", "tenantId": pilot["tenantId"], "nextDueAt": "2026-01-01"})
    with caplog.at_level(logging.ERROR, logger="storage.codec"):
        report = await tick(harness, CHECKIN_TIME)
        assert report["sent"] == 1 and report["failed"] == 0  # the sponsor who installed the app got the check-in
        url = harness.connector.service_url
        answers = (("pilots", ADMIN, "Claims triage"), ("overdue", ADMIN, "Nothing overdue"))
        for command, user, expected in (*answers, ("status claims triage", SPONSOR, "Claims triage")):
            await harness.bot.post(personal_message(command, user, service_url=url))
            assert expected in card_text(cards_of(harness.connector.sent_activities())[-1]), command
        assert other["id"]
    assert "skipped a reading document that does not read (id '0000-01')" in caplog.text
