"""A draft initiative's sponsor is asked for the rest once a week until it is complete (issue 12): through the
send-log, exactly once a week however often the sweep runs or fails, and never a check-in or gate card."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import Harness
from tests.helpers import action_verbs, card_text, cards_of, inputs
from tests.scheduler.test_checkins import SPONSOR_CHAT, install_sponsor, tick
from tests.teams_sim import ADMIN, OUTSIDER, SPONSOR, TENANT, adaptive_card_invoke

# The FixedClock says Thursday 26 November 2026, 09:00 UTC; drafts are on UTC unless they say otherwise.
THURSDAY = "2026-11-26T10:00:00Z"
FRIDAY = "2026-11-27T10:00:00Z"
SATURDAY = "2026-11-28T10:00:00Z"
MONDAY = "2026-11-30T09:00:00Z"
NEXT_MONDAY = "2026-12-07T09:00:00Z"


async def register_draft(h: Harness, **fields: Any) -> dict[str, Any]:
    body = {"name": "Contract summariser", "tenantId": TENANT.id, "sponsor": {"aadObjectId": SPONSOR.aad_object_id}}
    status, draft = await h.api("POST", "/api/pilots", {**body, "stage": "draft", **fields})
    assert status == 201, draft
    assert isinstance(draft, dict)
    return draft


def draft_cards(h: Harness) -> list[dict[str, Any]]:
    return [c for c in cards_of(h.connector.sent_activities(SPONSOR_CHAT)) if "Complete the draft" in card_text(c)]


async def test_the_sponsor_is_asked_once_a_week_on_business_days(harness: Harness) -> None:
    await register_draft(harness)
    await install_sponsor(harness)
    first = await tick(harness, THURSDAY)
    assert first["by_kind"] == {"draft": 1}
    [card] = draft_cards(harness)
    assert "pilot.complete" in action_verbs(card) and inputs(card)["name"]["value"] == "Contract summariser"
    for moment in (THURSDAY, FRIDAY, SATURDAY):
        assert (await tick(harness, moment))["sent"] == 0
    assert (await tick(harness, MONDAY))["by_kind"] == {"draft": 1}
    assert (await tick(harness, MONDAY))["sent"] == 0
    assert len(draft_cards(harness)) == 2


async def test_two_sweeps_at_once_send_one_card(harness: Harness) -> None:
    await register_draft(harness)
    await install_sponsor(harness)
    reports = await asyncio.gather(tick(harness, THURSDAY), tick(harness, THURSDAY))
    assert sum(r["sent"] for r in reports) == 1 and len(draft_cards(harness)) == 1


async def test_a_failed_send_is_retried_and_still_sent_once(harness: Harness) -> None:
    await register_draft(harness)
    await install_sponsor(harness)
    harness.connector.fail_next(503, count=6, match=SPONSOR_CHAT)  # every attempt of the first send
    failed = await tick(harness, THURSDAY)
    assert failed["sent"] == 0 and failed["failed"] == 1 and draft_cards(harness) == []
    friday = await tick(harness, FRIDAY)
    assert friday["by_kind"] == {"draft": 1}, (friday, harness.connector.sent_activities(SPONSOR_CHAT))
    assert (await tick(harness, FRIDAY))["sent"] == 0
    assert len(draft_cards(harness)) == 1


async def test_a_draft_with_an_unresolved_sponsor_asks_nobody(harness: Harness) -> None:
    data = b"name,sponsor\nTender drafting,new.exec@contoso.example\n"
    headers = {"Authorization": "Bearer test-token-0123456789", "Content-Type": "text/csv"}
    async with harness.http.post(harness.url(f"/api/imports?tenantId={TENANT.id}"), data=data, headers=headers) as r:
        assert r.status == 200
    assert (await tick(harness, MONDAY))["sent"] == 0


async def test_completing_the_draft_from_its_card_makes_a_pilot_and_ends_the_nudges(harness: Harness) -> None:
    draft = await register_draft(harness)
    await install_sponsor(harness)
    await tick(harness, THURSDAY)
    [card] = draft_cards(harness)
    values = {key: str(field.get("value", "")) for key, field in inputs(card).items() if field.get("value")}

    async def press(user: Any, **changed: str) -> Any:
        status, body = await harness.bot.post(
            adaptive_card_invoke(
                "pilot.complete",
                data={"pilotId": draft["id"]},
                inputs={**values, **changed},
                user=user,
                service_url=harness.connector.service_url,
            )
        )
        assert status == 200, body
        return body

    refused = await press(OUTSIDER, metricName="Hours", metricBaseline="3", metricTarget="1")
    assert refused["value"] == "Only the pilot's sponsor or a governance admin can complete this draft."
    missing = await press(SPONSOR)
    assert "Name the success metric" in card_text(missing["value"])
    assert (await harness.repos.pilots.get(draft["id"])).is_draft  # type: ignore[union-attr]
    done = await press(
        SPONSOR,
        metricName="Hours per contract",
        metricBaseline="3",
        metricTarget="1",
        metricDirection="decrease",
        workflowSurface="m365",
        workflowSystem="Word",
        workflowIntegrated="yes",
        governanceDone="dlp,auditLogging",
    )
    assert "Pilot registered: Contract summariser" in card_text(done["value"])
    pilot = await harness.repos.pilots.get(draft["id"])
    assert pilot is not None and pilot.stage.value == "pilot" and pilot.workflow is not None
    assert pilot.governance_gaps == ("dataLabels", "dataResidency", "identityScopes")
    assert (await tick(harness, MONDAY))["sent"] == 0 and len(draft_cards(harness)) == 1
    again = await press(ADMIN)  # an old card pressed after completion: what the pilot is now
    assert "Pilot registered" in card_text(again["value"])
