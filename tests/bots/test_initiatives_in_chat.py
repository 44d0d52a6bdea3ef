"""`pilots`, `overdue` and `status` in Teams show drafts and pilots outside the flow of work (issue 12)."""

from __future__ import annotations

from tests.api.test_imports import post_file
from tests.conftest import Harness
from tests.helpers import card_text, cards_of, pilot_body
from tests.teams_sim import ADMIN, SPONSOR, personal_message

LIST = (
    b"name,sponsor,metric,baseline,target,startDate,workflowSurface,workflowIntegrated\n"
    b"Lonely bot,%s,Minutes,10,5,2026-11-02,standalone,no\n"
    b"Contract summariser,%s,,,,,,\n"
    b"Tender drafting,new.exec@contoso.example,,,,,,\n"
) % (SPONSOR.aad_object_id.encode(), SPONSOR.aad_object_id.encode())


async def ask(h: Harness, text: str) -> str:
    await h.bot.post(personal_message(text, ADMIN, service_url=h.connector.service_url))
    return card_text(cards_of(h.connector.sent_activities())[-1]).replace("\\", "")


async def test_pilots_overdue_and_status_show_drafts_and_workflow_gaps(harness: Harness) -> None:
    status, _ = await harness.api("POST", "/api/pilots", pilot_body(name="Claims triage"))
    assert status == 201
    status, answer = await post_file(harness, LIST)
    assert status == 200 and answer["summary"]["created"] == 3, answer
    pilots = await ask(harness, "pilots")
    assert "outside the flow of work" in pilots and "draft: 3 missing" in pilots and "sponsor not resolved" in pilots
    assert "Claims triage" in pilots
    overdue = await ask(harness, "overdue")
    assert "Outside the flow of work (1)" in overdue and "Lonely bot" in overdue
    assert "Drafts waiting for details (2)" in overdue and "Tender drafting" in overdue
    draft = await ask(harness, "status contract summariser")
    assert "Draft initiative" in draft and "a success metric" in draft
    alone = await ask(harness, "status lonely bot")
    assert "Standalone, not integrated" in alone
