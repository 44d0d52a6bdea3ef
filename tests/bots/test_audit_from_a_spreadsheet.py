"""Issue 12's whole story at its size: the governance office imports its list of 200 initiatives, runs the quarter's
audit in Teams to its end (sponsors attest, the admin accepts and decides the rest, closes), and exports the record:
every initiative attested or listed as missing, every gap named, every pilot decided with a date."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

import pytest_asyncio

from bots.notifier import SenderLimits
from governance.model import ChannelLink, ConversationKind, ConversationRef, Stage, TenantSettings
from tests.api.test_imports import csv_bytes, post_file
from tests.bots.test_quarterly_audit import (
    LEADERSHIP,
    OPENED,
    answer_text,
    attestation,
    attestation_cards,
    install_sponsor,
    press,
    say,
    tick,
)
from tests.conftest import Harness, start_harness, stop_harness
from tests.helpers import card_text, cards_of
from tests.teams_sim import SPONSOR, TENANT, FakeConnector

FULL: Final = 150  # full pilots, all sponsored by the one sponsor the bot knows
ATTESTED: Final = 100  # of those, the ones the sponsor attests; the admin decides the other 50 without them
DRAFTS: Final = 50  # half by the known sponsor, half by an email nobody matched


@pytest_asyncio.fixture
async def harness(tmp_path: Path, connector: FakeConnector) -> AsyncIterator[Harness]:
    """One sponsor gets 175 cards here: Teams' 2 messages a second per chat would make the test wait 90 s."""
    limits = SenderLimits(per_conversation_per_s=1000, base_backoff_s=0.01, max_backoff_s=0.05)
    h = await start_harness(tmp_path, connector, sender_limits=limits)
    yield h
    await stop_harness(h)


def the_list() -> bytes:
    rows = [
        (f"Initiative {i:03d}", SPONSOR.aad_object_id, "Cycle time", "10", "5", "2026-11-02", str(1000 + i))
        for i in range(FULL)
    ]
    rows += [
        (f"Idea {i:03d}", SPONSOR.aad_object_id if i % 2 else f"exec{i}@contoso.example", "", "", "", "", "")
        for i in range(DRAFTS)
    ]
    return csv_bytes(("name", "sponsor", "metric", "baseline", "target", "startDate", "budgetMonthly"), tuple(rows))


async def test_an_audit_of_200_imported_initiatives_runs_to_its_end(harness: Harness) -> None:
    h = harness
    status, imported = await post_file(h, the_list())
    assert status == 200 and imported["summary"]["created"] == FULL + DRAFTS, imported["summary"]
    assert len(imported["unresolvedSponsors"]) == DRAFTS // 2
    await install_sponsor(h)
    await h.repos.conversations.upsert(
        ConversationRef(LEADERSHIP, TENANT.id, ConversationKind.CHANNEL, h.connector.service_url)
    )
    await h.repos.tenants.save(TenantSettings(TENANT.id, leadership_channel=ChannelLink(LEADERSHIP)))

    [board] = cards_of(await say(h, "audit"))
    assert f"0 of {FULL + DRAFTS} by their sponsors" in card_text(board)
    audit_id = f"{TENANT.id}:2026-Q4"
    await tick(h, OPENED)
    assert len(attestation_cards(h)) == FULL + DRAFTS // 2  # one per initiative whose sponsor the bot can reach

    pilots = {p.name: p for p in await h.repos.pilots.list(TENANT.id)}
    for i in range(ATTESTED):
        ref = {"auditId": audit_id, "pilotId": pilots[f"Initiative {i:03d}"].id}
        done = await press(
            h, "audit.attest", ref, user=SPONSOR, **attestation(metricName="Cycle time", baseline="10", target="5")
        )
        assert "Attested by" in answer_text(done)
    page = {"auditId": audit_id, "page": "1"}
    await press(h, "audit.acceptAll", page)
    for i in range(ATTESTED, FULL):
        pilot = pilots[f"Initiative {i:03d}"]
        ref = {"auditId": audit_id, "pilotId": pilot.id, "page": "1"}
        await press(h, "audit.decide", ref, **{f"rec_{pilot.id}": "retire", f"date_{pilot.id}": "2027-03-31"})

    closed = await press(h, "audit.close", page)
    assert "closed" in answer_text(closed)
    await tick(h, OPENED)  # the summary to leadership
    [summary] = [a for a in h.connector.sent_activities(LEADERSHIP) if a.get("text")]
    assert f"{FULL + DRAFTS} initiatives, {ATTESTED} attested" in summary["text"]

    stages = [p.stage for p in await h.repos.pilots.list(TENANT.id)]
    assert stages.count(Stage.NARROWED) == ATTESTED and stages.count(Stage.RETIRED) == FULL - ATTESTED
    assert stages.count(Stage.DRAFT) == DRAFTS
    token = {"Authorization": f"Bearer {h.settings.api_token}"}
    async with h.http.get(h.url(f"/api/audits/{audit_id}?format=csv"), headers=token) as response:
        assert response.status == 200
        rows = list(csv.DictReader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert len(rows) == FULL + DRAFTS
    drafts = [row for row in rows if row["Initiative"].startswith("Idea")]
    assert all("Still a draft" in row["Gaps"] or "draft" in row["Gaps"].lower() for row in drafts), drafts[0]
