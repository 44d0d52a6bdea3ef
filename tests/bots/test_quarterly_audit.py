"""The quarterly audit through the Teams simulator and the REST API: `audit`, the attestation cards sent by the
sweep (once, then nudged after 3 and 7 business days), the board, closing with decisions and their effects."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bots.notifier import SenderLimits
from governance.model import ChannelLink, ConversationKind, ConversationRef, Stage, TenantSettings
from tests import helpers
from tests.conftest import Harness, start_harness, stop_harness
from tests.helpers import card_text, cards_of, inputs
from tests.teams_sim import (
    ADMIN,
    OUTSIDER,
    SPONSOR,
    TENANT,
    FakeConnector,
    adaptive_card_invoke,
    installation_update,
    personal_conversation_id,
    personal_message,
)

SPONSOR_CHAT = personal_conversation_id(SPONSOR)
ADMIN_CHAT = personal_conversation_id(ADMIN)
OPENED = "2026-11-26T09:00:00Z"  # the harness clock: Thursday
NUDGE_3 = "2026-12-01T08:00:00Z"  # Tuesday 09:00 in Berlin: 3 business days after the card went out
NUDGE_7 = "2026-12-07T08:00:00Z"  # Monday 09:00 in Berlin: 7 business days
LEADERSHIP = "19:leadership0000000000000000000000@thread.tacv2"


async def register(h: Harness, name: str, sponsor_id: str = SPONSOR.aad_object_id, **more: Any) -> dict[str, Any]:
    sponsor = {"aadObjectId": sponsor_id, "name": "S"}
    body = helpers.pilot_body(name=name, gateDate="2027-06-30", sponsor=sponsor, **more)
    status, pilot = await h.api("POST", "/api/pilots", body)
    assert status == 201, pilot
    assert isinstance(pilot, dict)
    return pilot


async def tick(h: Harness, now: str) -> dict[str, Any]:
    status, report = await h.api("POST", "/api/scheduler/tick", {"now": now})
    assert status == 200, report
    assert isinstance(report, dict)
    return report


async def say(h: Harness, text: str, user: Any = ADMIN) -> list[dict[str, Any]]:
    before = len(h.connector.sent_activities())
    status, _ = await h.bot.post(personal_message(text, user, service_url=h.connector.service_url))
    assert status in (200, 201)
    return h.connector.sent_activities()[before:]


async def press(h: Harness, verb: str, data: dict[str, Any], user: Any = ADMIN, **values: str) -> dict[str, Any]:
    status, body = await h.bot.post(
        adaptive_card_invoke(
            verb, data=data, inputs=values, user=user, service_url=h.connector.service_url, reply_to_id="17000001"
        )
    )
    assert status == 200, body
    assert isinstance(body, dict)
    return body


def answer_text(body: dict[str, Any]) -> str:
    value = body["value"]
    return card_text(value) if isinstance(value, dict) else str(value)


def attestation_cards(h: Harness) -> list[dict[str, Any]]:
    return [c for c in cards_of(h.connector.sent_activities(SPONSOR_CHAT)) if "Quarterly audit" in card_text(c)]


def attestation(**overrides: str) -> dict[str, str]:
    values = {
        "metricName": "Handling time",
        "baseline": "41",
        "target": "30",
        "targetDate": "2027-03-31",
        "integration": "partly",
        "recommendation": "narrow",
        "recommendedDate": "2027-02-15",
        "note": "EMEA only <b>for now</b>",
        **{f"gov_{item}": "done" for item in ("dataLabels", "auditLogging", "dlp", "dataResidency", "identityScopes")},
    }
    return values | overrides


async def install_sponsor(h: Harness) -> None:
    status, _ = await h.bot.post(installation_update("add", "personal", SPONSOR, service_url=h.connector.service_url))
    assert status in (200, 201)


async def whole_audit(h: Harness) -> None:
    """Open, attest, nudge-free, decide, close: the decisions recorded with their effects, leadership told."""
    claims = await register(h, "Claims triage")
    ocr = await register(h, "Invoice OCR", sponsor_id="99999999-0000-4000-8000-000000000999")  # never seen by the bot
    await install_sponsor(h)
    await h.repos.conversations.upsert(
        ConversationRef(LEADERSHIP, TENANT.id, ConversationKind.CHANNEL, h.connector.service_url)
    )
    await h.repos.tenants.save(TenantSettings(TENANT.id, leadership_channel=ChannelLink(LEADERSHIP)))

    [board] = cards_of(await say(h, "audit"))
    text = card_text(board)
    assert "Quarterly audit 2026-Q4" in text and "0 of 2 by their sponsors" in text
    assert "No reachable sponsor" in text and "Invoice OCR" in text
    audit_id = f"{TENANT.id}:2026-Q4"
    assert board["refresh"]["action"]["verb"] == "audit.view"

    report = await tick(h, OPENED)
    assert report["by_kind"].get("audit") == 1 and report["undeliverable"] >= 1  # the OCR sponsor is unreachable
    [card] = attestation_cards(h)
    assert "Claims triage" in card_text(card) and inputs(card)["metricName"]["value"] == "Handling time"
    await tick(h, OPENED)
    assert len(attestation_cards(h)) == 1  # exactly once

    ref = {"auditId": audit_id, "pilotId": claims["id"]}
    refused = await press(h, "audit.attest", ref, user=OUTSIDER, **attestation())
    assert "Only the sponsor of Claims triage" in answer_text(refused)
    bad = await press(
        h, "audit.attest", ref, user=SPONSOR, **attestation(baseline="lots", recommendedDate="2020-01-01")
    )
    assert "'lots' is not a number." in answer_text(bad)
    good = await press(h, "audit.attest", ref, user=SPONSOR, **attestation())
    assert "Attested by" in answer_text(good)

    page = {"auditId": audit_id, "page": "1"}
    view = await press(h, "audit.view", page)
    assert "1 of 2 by their sponsors" in answer_text(view) and "Narrow scope by 2027-02-15" in answer_text(view)
    too_early = await press(h, "audit.close", page)
    assert "2 initiatives have no decision yet: Claims triage, Invoice OCR" in answer_text(too_early)
    accepted = await press(h, "audit.decide", {**ref, "page": "1", "accept": "1"})
    assert "Decision (accepted): Narrow scope by 2027-02-15" in answer_text(accepted)
    ocr_ref = {"auditId": audit_id, "pilotId": ocr["id"], "page": "1"}
    ids = {"rec": f"rec_{ocr['id']}", "date": f"date_{ocr['id']}"}
    early = await press(h, "audit.decide", ocr_ref, **{ids["rec"]: "retire", ids["date"]: "2027-01-15"})
    assert "can't be before the gate" in answer_text(early)  # the gate decision's own rule
    await press(h, "audit.decide", ocr_ref, **{ids["rec"]: "retire", ids["date"]: "2027-07-15"})

    closes = await asyncio.gather(press(h, "audit.close", page), press(h, "audit.close", page))
    assert all("Audit 2026-Q4 closed" in answer_text(c) or "closed" in answer_text(c) for c in closes)
    stored_claims = await h.repos.pilots.get(claims["id"], TENANT.id)
    stored_ocr = await h.repos.pilots.get(ocr["id"], TENANT.id)
    assert stored_claims is not None and stored_ocr is not None
    assert stored_claims.stage is Stage.NARROWED and stored_claims.gate_date.isoformat() == "2027-02-15"
    assert stored_ocr.stage is Stage.RETIRED
    [decision] = await h.repos.decisions.list_for(claims["id"])
    assert decision.rationale.startswith("Quarterly audit 2026-Q4:")
    assert len(await h.repos.decisions.list_for(ocr["id"])) == 1  # two admins closing at once: one decision each
    trail = [e.action for e in await h.repos.audit.list_for(claims["id"])]
    assert "gate.narrow" in trail
    assert not [a for a in h.connector.sent_activities(LEADERSHIP) if a.get("text")]  # the sweep posts it
    for _ in range(2):  # a second tick (or replica) finds the send-log's claim: the summary goes once
        await tick(h, OPENED)
    [summary] = [a for a in h.connector.sent_activities(LEADERSHIP) if a.get("text")]
    assert "Quarterly audit 2026-Q4 closed: 2 initiatives, 1 attested" in summary["text"]

    status, listed = await h.api("GET", f"/api/audits?tenantId={TENANT.id}")
    assert status == 200 and listed["audits"][0]["status"] == "closed"
    status, record = await h.api("GET", f"/api/audits/{audit_id}")
    assert status == 200 and [i["outcome"] for i in record["items"]] == ["decided", "decided"]


async def test_the_whole_audit_on_sqlite(harness: Harness) -> None:
    await whole_audit(harness)


async def test_only_admins_open_the_audit_and_audit_again_shows_the_board(harness: Harness) -> None:
    await register(harness, "Claims triage")
    [refusal] = await say(harness, "audit", user=SPONSOR)
    assert "Only governance admins" in refusal["text"]
    await say(harness, "audit")
    [again] = cards_of(await say(harness, "audit"))
    assert "opened with" not in card_text(again) and "0 of 1" in card_text(again)
    assert len(await harness.repos.audits.list_for(TENANT.id)) == 1
    refused = await press(harness, "audit.view", {"auditId": f"{TENANT.id}:2026-Q4"}, user=SPONSOR)
    assert "Only a governance admin" in answer_text(refused)


async def test_an_unattested_sponsor_is_nudged_after_3_and_7_business_days_once_each(harness: Harness) -> None:
    await register(harness, "Claims triage", checkinDay=20)  # no check-in near the nudges to wake the pilot up
    await install_sponsor(harness)
    await say(harness, "audit")
    await tick(harness, OPENED)
    assert (await tick(harness, "2026-12-01T07:59:00Z")).get("by_kind", {}).get("audit") is None
    nudge = await tick(harness, NUDGE_3)
    assert nudge["due"] == 1 and nudge["by_kind"] == {"audit": 1}
    await tick(harness, NUDGE_3)
    assert (await tick(harness, NUDGE_7))["by_kind"].get("audit") == 1
    await tick(harness, "2026-12-20T08:00:00Z")
    cards = attestation_cards(harness)
    assert len(cards) == 3
    assert ["reminder" in card_text(c) for c in cards] == [False, True, True]


async def test_an_attested_initiative_is_not_nudged(harness: Harness) -> None:
    pilot = await register(harness, "Claims triage")
    await install_sponsor(harness)
    await say(harness, "audit")
    await tick(harness, OPENED)
    ref = {"auditId": f"{TENANT.id}:2026-Q4", "pilotId": pilot["id"]}
    [card] = attestation_cards(harness)
    assert card["refresh"]["action"]["verb"] == "audit.attestation"
    assert "Attest" in answer_text(await press(harness, "audit.attestation", ref, user=SPONSOR))
    await press(harness, "audit.attest", ref, user=SPONSOR, **attestation())
    await tick(harness, NUDGE_3)
    await tick(harness, NUDGE_7)
    assert len(attestation_cards(harness)) == 1
    # The card sent first, looked at again (its refresh): what was attested, to the sponsor only.
    assert "Attested by" in answer_text(await press(harness, "audit.attestation", ref, user=SPONSOR))
    assert "Only the sponsor" in answer_text(await press(harness, "audit.attestation", ref, user=OUTSIDER))


async def test_the_record_over_rest_in_json_and_escaped_html(harness: Harness) -> None:
    await register(harness, "<script>alert(1)</script> bot")
    status, opened = await harness.api("POST", "/api/audits", {"tenantId": TENANT.id})
    assert status == 201 and opened["initiatives"] == 1
    status, again = await harness.api("POST", "/api/audits", {"tenantId": TENANT.id})
    assert status == 200 and again["id"] == opened["id"]
    status, bad = await harness.api("POST", "/api/audits", {"tenant": TENANT.id})
    assert status == 400 and "tenantId" in bad["fields"]
    async with harness.http.get(
        harness.url(f"/api/audits/{opened['id']}?format=html"),
        headers={"Authorization": "Bearer test-token-0123456789"},
    ) as response:
        page = await response.text()
    assert response.status == 200 and "&lt;script&gt;" in page and "<script>" not in page
    status, wrong = await harness.api("GET", f"/api/audits/{opened['id']}?format=pdf")
    assert status == 400 and "format" in wrong["fields"]
    assert (await harness.api("GET", "/api/audits/nope"))[0] == 404


async def test_closing_with_fund_to_production_ends_the_check_ins_as_a_gate_decision_does(harness: Harness) -> None:
    pilot = await register(harness, "Claims triage")
    await install_sponsor(harness)
    await say(harness, "audit")
    await tick(harness, OPENED)
    ref = {"auditId": f"{TENANT.id}:2026-Q4", "pilotId": pilot["id"]}
    await press(harness, "audit.attest", ref, user=SPONSOR, **attestation(recommendation="fund"))
    await press(harness, "audit.acceptAll", {"auditId": ref["auditId"]})
    closed = await press(harness, "audit.close", {"auditId": ref["auditId"]})
    assert "recorded as its gate decision" in answer_text(closed)
    status, record = await harness.api("GET", f"/api/pilots/{pilot['id']}")
    assert status == 200 and record["stage"] == "production"
    [decision] = record["decisions"]
    assert decision["kind"] == "go" and decision["effectiveDate"] == "2027-02-15"
    # The December check-in (due Tuesday 09:00 Berlin) is not sent: the pilot left the pilot stages.
    report = await tick(harness, NUDGE_3)
    assert "checkin" not in report["by_kind"] and "audit" not in report["by_kind"]
    # Closed: the record no longer changes, and a second close answers the closed board.
    again = await press(harness, "audit.attest", ref, user=SPONSOR, **attestation())
    assert "is closed" in answer_text(again)
    assert "closed" in answer_text(await press(harness, "audit.close", {"auditId": ref["auditId"]}))


async def test_an_attestation_card_teams_refused_is_sent_again_later_and_only_once(
    tmp_path: Path, connector: FakeConnector
) -> None:
    h = await start_harness(
        tmp_path, connector, sender_limits=SenderLimits(attempts=2, base_backoff_s=0.01, max_backoff_s=0.02)
    )
    try:
        await register(h, "Claims triage")
        await install_sponsor(h)
        await say(h, "audit")
        connector.fail_next(503, count=2, match=SPONSOR_CHAT)
        failed = await tick(h, OPENED)
        assert failed["failed"] == 1 and attestation_cards(h) == []
        assert (await tick(h, "2026-11-26T09:06:00Z"))["by_kind"].get("audit") == 1
        await tick(h, "2026-11-26T09:20:00Z")
        assert len(attestation_cards(h)) == 1
    finally:
        await stop_harness(h)


async def test_sponsors_cannot_decide_or_close_and_admins_cannot_attest_for_them(harness: Harness) -> None:
    pilot = await register(harness, "Claims triage")
    await say(harness, "audit")
    ref = {"auditId": f"{TENANT.id}:2026-Q4", "pilotId": pilot["id"]}
    on_behalf = await press(harness, "audit.attest", ref, user=ADMIN, **attestation())
    assert "Only the sponsor of Claims triage can attest it." in answer_text(on_behalf)
    decide = await press(harness, "audit.decide", {**ref, "accept": "1"}, user=SPONSOR)
    assert "Only a governance admin" in answer_text(decide)
    close = await press(harness, "audit.close", ref, user=SPONSOR)
    assert "Only a governance admin" in answer_text(close)
    [audit] = await harness.repos.audits.list_for(TENANT.id)
    assert audit.attested == 0 and audit.status.value == "open"


async def test_nudges_count_business_days_of_the_pilots_holiday_calendar(harness: Harness) -> None:
    """Opened Wednesday 25 November 2026; Thursday is Thanksgiving in the US: the 3rd business day is Tuesday."""
    harness.clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    await register(harness, "Claims triage", checkinDay=20, country="US")
    await install_sponsor(harness)
    await say(harness, "audit")
    assert (await tick(harness, "2026-11-25T09:00:00Z"))["by_kind"].get("audit") == 1
    assert (await tick(harness, "2026-11-30T08:00:00Z"))["by_kind"].get("audit") is None  # Monday: the 2nd
    assert (await tick(harness, "2026-12-01T08:00:00Z"))["by_kind"].get("audit") == 1


async def test_the_record_as_csv_and_excel_neutralises_formula_looking_text(harness: Harness) -> None:
    import csv
    import io

    import openpyxl

    await register(harness, "=HYPERLINK(1) bot")
    await register(harness, "Claims triage")
    status, opened = await harness.api("POST", "/api/audits", {"tenantId": TENANT.id})
    assert status == 201
    token = {"Authorization": f"Bearer {harness.settings.api_token}"}
    url = harness.url(f"/api/audits/{opened['id']}")
    async with harness.http.get(f"{url}?format=csv", headers=token) as response:
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/csv")
        assert 'filename="pilotgate-audit-2026-Q4.csv"' in response.headers["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert [row["Initiative"] for row in rows] == ["'=HYPERLINK(1) bot", "Claims triage"]
    assert rows[1]["Baseline"] == "42" and rows[1]["Attested"] in ("FALSE", "false", "no", "0")
    assert "No workflow integration" in rows[1]["Gaps"]  # never recorded: unknown counts as a gap
    async with harness.http.get(f"{url}?format=xlsx", headers=token) as response:
        assert response.status == 200
        workbook = openpyxl.load_workbook(io.BytesIO(await response.read()))
    assert workbook.sheetnames == ["Initiatives", "Gaps"]
    sheet = workbook["Initiatives"]
    assert sheet.cell(1, 1).value == "Initiative"
    named = sheet.cell(2, 1)  # a text cell, never a formula
    assert named.value == "=HYPERLINK(1) bot" and named.data_type == "s"
    assert sheet.cell(3, 5).value == 42
