"""Importing the governance office's list (issue 12): POST /api/imports and the command-line tool, on SQLite.

The mixed file has good rows and bad ones (a bad email, a duplicate row, formula-looking text, a number that is a
formula, an unknown column); each result is read back from the store, and importing the same file again changes
nothing."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import pytest
from openpyxl import Workbook
from rich.console import Console

from api.spreadsheets import XLSX_TYPE
from tests.conftest import API_TOKEN, Harness, make_settings
from tests.scheduler.test_checkins import tick
from tests.teams_sim import ADMIN, SPONSOR, TEAM, TENANT, installation_update
from tools.import_initiatives import main

HEADER: Final = (
    "Name",
    "Sponsor",
    "Metric",
    "Unit",
    "Baseline",
    "Target",
    "Start date",
    "Budget monthly",
    "Workflow surface",
    "Workflow system",
    "Workflow integrated",
    "Scale expand",
    "DLP",
    "Owner notes",
)
FORMULA_NAME: Final = '=HYPERLINK("http://evil.example","Click")'
MIXED_ROWS: Final = (
    # row 2: a full pilot, its sponsor matched by email from the team roster
    ("Claims triage", SPONSOR.upn, "Handling time", "min", "42", "30", "2026-11-02", "12,000", "itsm", "ServiceNow",
     "partly", "All claims teams", "yes", "ok"),
    # row 3: a draft: a name and a sponsor by Entra id only
    ("Contract summariser", SPONSOR.aad_object_id, "", "", "", "", "", "", "", "", "", "", "", ""),
    # row 4: a bad email
    ("Invoice matching", "sam.sponsor@@contoso", "", "", "", "", "", "", "", "", "", "", "", ""),
    # row 5: the same name as row 2
    ("claims  TRIAGE", SPONSOR.aad_object_id, "", "", "", "", "", "", "", "", "", "", "", ""),
    # row 6: formula-looking text, stored as typed
    (FORMULA_NAME, SPONSOR.aad_object_id, "", "", "", "", "", "", "standalone", "", "no", "+cmd|' /C calc'!A0", "",
     "@SUM(A1)"),
    # row 7: a budget that is a formula is not a number
    ("Budget by formula", SPONSOR.aad_object_id, "", "", "", "", "", "=2*5000", "", "", "", "", "", ""),
    # row 8: a sponsor nobody knows: a draft, listed for an admin
    ("Tender drafting", "New.Exec@contoso.example", "", "", "", "", "", "", "", "", "", "", "", "-1"),
)  # fmt: skip


def csv_bytes(header: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


MIXED_CSV: Final = csv_bytes(HEADER, MIXED_ROWS)


async def post_file(
    h: Harness, data: bytes, content_type: str = "text/csv", query: str = f"tenantId={TENANT.id}"
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": content_type}
    async with h.http.post(h.url(f"/api/imports?{query}"), data=data, headers=headers) as response:
        return response.status, await response.json()


async def know_the_sponsor(h: Harness) -> None:
    """The bot joins a team whose roster has the sponsor: it learns their email."""
    h.connector.set_members(TEAM.id, [SPONSOR, ADMIN])
    await h.bot.post(installation_update("add", "team", ADMIN, service_url=h.connector.service_url))


def outcomes(answer: dict[str, Any]) -> dict[int, str]:
    return {row["row"]: row["outcome"] for row in answer["rows"]}


async def assert_mixed_file_imported(h: Harness, answer: dict[str, Any]) -> None:
    """What the mixed file leaves: each row's result, and the store read back."""
    assert outcomes(answer) == {
        2: "created",
        3: "created",
        4: "failed",
        5: "failed",
        6: "created",
        7: "failed",
        8: "created",
    }
    rows = {row["row"]: row for row in answer["rows"]}
    assert rows[2]["stage"] == "pilot" and rows[3]["stage"] == "draft" and rows[8]["stage"] == "draft"
    assert set(rows[4]["errors"]) == {"sponsor"}
    assert rows[5]["errors"] == {"name": "Row 2 has the same name: each initiative once."}
    assert set(rows[7]["errors"]) == {"budgetMonthly"}
    assert answer["unknownColumns"] == ["Owner notes"]
    assert answer["unresolvedSponsors"] == [{"row": 8, "name": "Tender drafting", "email": "new.exec@contoso.example"}]
    assert answer["summary"] == {
        "rows": 7,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "failed": 3,
        "drafts": 3,
        "unresolvedSponsors": 1,
        "unknownColumns": 1,
    }
    pilots = {p.name: p for p in await h.repos.pilots.list(TENANT.id)}
    assert set(pilots) == {"Claims triage", "Contract summariser", FORMULA_NAME, "Tender drafting"}
    claims = pilots["Claims triage"]
    assert claims.sponsor.aad_object_id == SPONSOR.aad_object_id and claims.sponsor.name == SPONSOR.name
    assert claims.primary_metric.baseline == 42 and claims.primary_metric.direction.value == "decrease"
    assert claims.budget_monthly == 12000 and claims.start_date == date(2026, 11, 2)
    assert claims.workflow is not None and claims.workflow.system == "ServiceNow" and claims.governance["dlp"]
    formula = pilots[FORMULA_NAME]
    assert formula.is_draft and formula.workflow_gap and formula.scale_plan.expand == "+cmd|' /C calc'!A0"
    tender = pilots["Tender drafting"]
    assert tender.sponsor.aad_object_id == "" and tender.sponsor_email == "new.exec@contoso.example"


async def test_a_file_with_good_and_bad_rows_is_imported_row_by_row(harness: Harness) -> None:
    await know_the_sponsor(harness)
    status, answer = await post_file(harness, MIXED_CSV)
    assert status == 200, answer
    await assert_mixed_file_imported(harness, answer)
    status, listed = await harness.api("GET", f"/api/pilots?tenantId={TENANT.id}")
    tender = next(p for p in listed["pilots"] if p["name"] == "Tender drafting")
    assert tender["sponsorEmail"] == "new.exec@contoso.example" and tender["draftGaps"][0] == "sponsor"


async def test_importing_the_same_file_again_changes_nothing(harness: Harness) -> None:
    await know_the_sponsor(harness)
    await post_file(harness, MIXED_CSV)
    before = {p.id: p for p in await harness.repos.pilots.list(TENANT.id)}
    trails = {pilot_id: len(await harness.repos.audit.list_for(pilot_id)) for pilot_id in before}
    status, again = await post_file(harness, MIXED_CSV)
    assert status == 200
    assert outcomes(again) == {2: "unchanged", 3: "unchanged", 4: "failed", 5: "failed", 6: "unchanged",
                               7: "failed", 8: "unchanged"}  # fmt: skip
    after = {p.id: p for p in await harness.repos.pilots.list(TENANT.id)}
    assert after == before  # same versions: not one write
    assert {pilot_id: len(await harness.repos.audit.list_for(pilot_id)) for pilot_id in after} == trails


async def test_a_changed_row_updates_and_a_completed_draft_becomes_a_pilot(harness: Harness) -> None:
    await post_file(harness, csv_bytes(("name", "sponsor"), (("Contract summariser", SPONSOR.aad_object_id),)))
    completed = csv_bytes(
        ("name", "sponsor", "metric", "baseline", "target", "direction", "startDate", "budgetMonthly"),
        (("Contract summariser", SPONSOR.aad_object_id, "Hours per contract", "3", "1", "decrease", "2026-12-01",
          "500"),),
    )  # fmt: skip
    status, answer = await post_file(harness, completed)
    assert status == 200 and answer["rows"][0]["outcome"] == "updated" and answer["rows"][0]["stage"] == "pilot"
    [pilot] = await harness.repos.pilots.list(TENANT.id)
    assert pilot.stage.value == "pilot" and pilot.budget_monthly == 500
    actions = sorted(event.action for event in await harness.repos.audit.list_for(pilot.id))
    assert actions == ["pilot.completed", "pilot.drafted"]


async def test_a_dry_run_reports_and_stores_nothing(harness: Harness) -> None:
    status, answer = await post_file(harness, MIXED_CSV, query=f"tenantId={TENANT.id}&dryRun=true")
    assert status == 200 and answer["dryRun"] is True
    assert outcomes(answer)[3] == "created" and outcomes(answer)[5] == "failed"
    assert answer["rows"][0]["stage"] == "draft"  # the sponsor's email is not known yet: it would be a draft
    assert await harness.repos.pilots.list(TENANT.id) == []


async def test_an_excel_file_is_read_without_evaluating_formulas(harness: Harness) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Sponsor", "Metric", "Baseline", "Target", "Start date", "Budget monthly", "Intended users"])
    sheet.append(["Mail sorter", SPONSOR.aad_object_id, "Minutes per mail", 4.0, 1.5, datetime(2026, 11, 2), 800, 40])
    sheet.append(["=1+1", SPONSOR.aad_object_id, None, None, None, None, "=B2*2", None])
    sheet.append([None] * 8)
    sheet.append(["Agent desk", SPONSOR.aad_object_id, None, None, None, date(2026, 12, 1), None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    status, answer = await post_file(harness, buffer.getvalue(), XLSX_TYPE)
    assert status == 200, answer
    assert outcomes(answer) == {2: "created", 3: "failed", 5: "created"}
    assert set(answer["rows"][1]["errors"]) == {"budgetMonthly"}
    pilots = {p.name: p for p in await harness.repos.pilots.list(TENANT.id)}
    assert pilots["Mail sorter"].primary_metric.target == 1.5 and pilots["Mail sorter"].intended_users == 40
    assert pilots["Agent desk"].is_draft and pilots["Agent desk"].start_date == date(2026, 12, 1)
    # Sniffed without a content type too.
    status, again = await post_file(harness, buffer.getvalue(), "application/octet-stream")
    assert status == 200 and outcomes(again) == {2: "unchanged", 3: "failed", 5: "unchanged"}


async def test_a_200_row_file_goes_in_and_a_second_run_changes_nothing(harness: Harness) -> None:
    rows = tuple(
        (f"Initiative {i:03d}", SPONSOR.aad_object_id, "Cycle time", "10", "5", "2026-11-02", str(1000 + i))
        if i % 2
        else (f"Initiative {i:03d}", SPONSOR.aad_object_id, "", "", "", "", "")
        for i in range(200)
    )
    data = csv_bytes(("name", "sponsor", "metric", "baseline", "target", "startDate", "budgetMonthly"), rows)
    status, answer = await post_file(harness, data)
    assert status == 200 and answer["summary"]["created"] == 200 and answer["summary"]["drafts"] == 100
    assert len(await harness.repos.pilots.list(TENANT.id)) == 200
    status, again = await post_file(harness, data)
    assert again["summary"]["unchanged"] == 200


async def test_drafts_get_no_checkin_or_gate_card(harness: Harness) -> None:
    await post_file(harness, csv_bytes(("name", "sponsor"), (("Contract summariser", SPONSOR.aad_object_id),)))
    await harness.bot.post(installation_update("add", "personal", SPONSOR, service_url=harness.connector.service_url))
    for moment in ("2026-12-01T14:00:00Z", "2027-03-01T14:00:00Z"):  # a check-in day; past the default gate
        report = await tick(harness, moment)
        assert not {"checkin", "reminder", "escalation", "gate"} & set(report["by_kind"]), report


@pytest.mark.parametrize(
    ("data", "query", "field"),
    [
        (b"", f"tenantId={TENANT.id}", "body"),
        (b"name,sponsor\n", "", "tenantId"),
        (b"name,budget\nx,1\n", f"tenantId={TENANT.id}", "body"),  # no sponsor column
        (b"PK\x03\x04 not really a workbook", f"tenantId={TENANT.id}", "body"),
        ("name,sponsor\nMünchen,x\n".encode("latin-1"), f"tenantId={TENANT.id}", "body"),
        (b"name,sponsor\nx,y\n", f"tenantId={TENANT.id}&dryRun=maybe", "dryRun"),
    ],
)
async def test_a_file_that_cannot_be_used_is_a_400_naming_why(
    harness: Harness, data: bytes, query: str, field: str
) -> None:
    status, error = await post_file(harness, data, "application/octet-stream", query)
    assert status == 400 and field in error["fields"], error
    assert await harness.repos.pilots.list(TENANT.id) == []


async def test_a_multipart_upload_works_like_a_raw_body(harness: Harness) -> None:
    import aiohttp

    form = aiohttp.FormData()
    form.add_field("file", MIXED_CSV, filename="initiatives.csv", content_type="text/csv")
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    async with harness.http.post(harness.url(f"/api/imports?tenantId={TENANT.id}"), data=form, headers=headers) as r:
        assert r.status == 200
        assert (await r.json())["summary"]["created"] == 4


async def test_imports_need_the_api_token(harness: Harness) -> None:
    async with harness.http.post(harness.url(f"/api/imports?tenantId={TENANT.id}"), data=MIXED_CSV) as response:
        assert response.status == 401
    assert await harness.repos.pilots.list(TENANT.id) == []


def test_the_command_line_tool_imports_a_file_with_a_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = make_settings(tmp_path)
    monkeypatch.setenv("STORAGE", "sqlite")
    monkeypatch.setenv("SQLITE_PATH", str(settings.sqlite_path))
    file = tmp_path / "initiatives.csv"
    file.write_bytes(MIXED_CSV)
    console = Console(record=True, width=160)
    assert main([str(file), "--tenant", TENANT.id, "--dry-run"], console) == 1  # some rows would fail
    dry = console.export_text()
    assert "Dry run: nothing was stored." in dry and "Owner notes" in dry
    assert main([str(file), "--tenant", TENANT.id], console) == 1
    shown = console.export_text()
    assert "7 rows: 4 created, 0 updated, 0 unchanged, 3 failed" in shown
    assert "Rows not imported" in shown and "budgetMonthly" in shown and "new.exec@contoso.example" in shown
    assert main([str(file), "--tenant", TENANT.id], console) == 1
    assert "7 rows: 0 created, 0 updated, 4 unchanged, 3 failed" in console.export_text()
    assert main([str(tmp_path / "missing.csv"), "--tenant", TENANT.id], console) == 2
