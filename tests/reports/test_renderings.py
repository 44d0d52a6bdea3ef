"""The monthly report rendered as JSON, CSV (read back with the csv module), Excel (opened with openpyxl) and the
placeholder HTML page: the issue's field names, one row per pilot, typed cells, escaped text, and the renderings
agree with each other."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import datetime

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from governance.report import MonthlyReport
from governance.report_builder import build_monthly_report
from reports.html import render_report_html
from reports.monthly import PILOT_COLUMNS, report_csv, report_filename, report_json, report_xlsx
from tests.reports.portfolio import NOVEMBER, NOW, SAM, TENANT, statuses


@pytest.fixture(scope="module")
def report() -> MonthlyReport:
    return build_monthly_report(statuses(), NOVEMBER, NOW, tenant_id=TENANT)


def csv_rows(report: MonthlyReport) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(report_csv(report).decode("utf-8-sig"), newline="")))


def worksheet(report: MonthlyReport, name: str) -> Worksheet:
    sheet = openpyxl.load_workbook(io.BytesIO(report_xlsx(report)))[name]
    assert isinstance(sheet, Worksheet)
    return sheet


def test_json_has_the_issues_field_names(report: MonthlyReport) -> None:
    data = json.loads(json.dumps(report_json(report)))
    assert {"period", "tenantId", "totals", "pilots", "decisions", "roadmap"} <= set(data)
    assert (data["period"], data["tenantId"], data["asOf"]) == ("2026-11", TENANT, "2026-11-30")
    sales = data["pilots"][0]
    assert {
        "id", "name", "stage", "status", "sponsor", "primaryMetric", "spend", "budget", "activeUsers",
        "intendedUsers", "gateDate", "flags",
    } <= set(sales)  # fmt: skip
    assert sales["primaryMetric"] | {"history": None} == {
        "name": "Replies",
        "unit": "",
        "baseline": 100,
        "latest": 145,
        "target": 160,
        "progress": 0.75,
        "changeSinceLastMonth": 35,
        "onTrack": True,
        "history": None,
    }
    assert sales["primaryMetric"]["history"] == [
        {"period": "2026-10", "value": 110},
        {"period": "2026-11", "value": 145},
    ]
    assert (sales["id"], sales["stage"], sales["status"], sales["gateDate"]) == (
        "p-sales",
        "pilot",
        "red",
        "2026-12-30",
    )
    assert sales["sponsor"] == {"aadObjectId": SAM.aad_object_id, "name": "Sam Sponsor"}
    assert (sales["spend"], sales["budget"], sales["activeUsers"], sales["intendedUsers"]) == (12000, 10000, 50, 60)
    assert sales["flags"] == ["cost-drift"]
    assert sales["checkin"] == {
        "due": True,
        "answered": True,
        "answeredBy": "Sam Sponsor",
        "answeredAt": "2026-12-02T11:00:00Z",
        "skipped": False,
    }
    totals = data["totals"]
    assert totals["pilotsByStage"] == {
        "draft": 0,
        "pilot": 2,
        "extended": 1,
        "narrowed": 0,
        "production": 1,
        "retired": 0,
    }
    assert totals["purgatory"] == [
        {"pilotId": "p-contracts", "pilotName": "Contract review", "gateDate": "2026-11-01", "daysSince": 29}
    ]
    assert data["decisions"][0]["kind"] == "go" and data["decisions"][0]["decidedAt"] == "2026-11-30T10:00:00Z"
    assert [item["kind"] for item in data["roadmap"]] == ["gate", "gate", "expansion"]


def test_csv_has_one_row_per_pilot_with_plain_numbers(report: MonthlyReport) -> None:
    rows = csv_rows(report)
    assert [r["Pilot"] for r in rows] == [row.name for row in report.pilots]
    assert list(rows[0]) == [column.title for column in PILOT_COLUMNS]
    sales = rows[0]
    assert (sales["Baseline"], sales["Latest"], sales["Target"], sales["Progress to target"]) == (
        "100",
        "145",
        "160",
        "0.75",
    )
    assert (sales["Spend in month"], sales["Projected spend at gate"]) == ("12000", "27887.1")
    assert (sales["Gate date"], sales["Days to gate"], sales["On track"]) == ("2026-12-30", "30", "TRUE")
    assert sales["Flags"] == "cost drift"
    contracts = rows[1]
    assert contracts["Flags"] == "late check-in; gate passed, no decision; governance gaps; low adoption"
    assert (contracts["Days to gate"], contracts["Spend in month"], contracts["Answered by"]) == ("-29", "", "")
    assert contracts["Latest reading for"] == "2026-10"


def test_csv_neutralises_a_pilot_name_that_is_a_formula() -> None:
    hostile = [
        dataclasses.replace(s, pilot=dataclasses.replace(s.pilot, name='=HYPERLINK("http://x","y")'))
        for s in statuses()
    ]
    rows = csv_rows(build_monthly_report(hostile[:1], NOVEMBER, NOW, tenant_id=TENANT))
    assert rows[0]["Pilot"] == '\'=HYPERLINK("http://x","y")'


def test_workbook_has_a_sheet_per_section_with_typed_cells(report: MonthlyReport) -> None:
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(report)))
    assert book.sheetnames == ["Summary", "Pilots", "Decisions", "Roadmap"]
    assert book.properties.title == "PilotGate monthly outcome report 2026-11, as of 2026-11-30"
    pilots = book["Pilots"]
    assert isinstance(pilots, Worksheet)
    assert pilots.freeze_panes == "A2" and pilots.auto_filter.ref == f"A1:AA{len(report.pilots) + 1}"
    header = [cell.value for cell in pilots[1]]
    sales = dict(zip(header, (cell.value for cell in pilots[2]), strict=True))
    assert (sales["Pilot"], sales["Progress to target"], sales["Gate date"]) == (
        "Sales email drafts",
        0.75,
        datetime(2026, 12, 30),
    )
    assert (sales["Spend in month"], sales["Active users"], sales["On track"]) == (12000, 50, True)
    summary = {row[0].value: row[1].value for row in worksheet(report, "Summary").iter_rows(min_row=2)}
    assert summary["Pilots on track"] == 2 and summary["Spend in month"] == 21500
    assert summary["Gates passed without a decision"] == 1
    decisions = worksheet(report, "Decisions")
    assert decisions["C2"].value == datetime(2026, 11, 30, 10, 0)
    assert decisions["H2"].value == "go for Invoice triage: <b>as agreed</b>"
    roadmap = [[cell.value for cell in row] for row in worksheet(report, "Roadmap").iter_rows(min_row=2)]
    assert roadmap[0] == [datetime(2026, 12, 4), "Gate", "Ops copilot", "p-ops"]


def test_the_renderings_agree(report: MonthlyReport) -> None:
    data = report_json(report)
    rows = csv_rows(report)
    pilots = worksheet(report, "Pilots")
    header = [cell.value for cell in pilots[1]]
    sheet_rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in pilots.iter_rows(min_row=2)]
    html = render_report_html(report)
    for row, as_json, as_csv, as_sheet in zip(report.pilots, data["pilots"], rows, sheet_rows, strict=True):
        assert as_json["name"] == as_csv["Pilot"] == as_sheet["Pilot"] == row.name
        progress = as_json["primaryMetric"]["progress"]
        assert progress == (float(as_csv["Progress to target"]) if as_csv["Progress to target"] else None)
        assert progress == as_sheet["Progress to target"]
        assert as_json["spend"] == (float(as_csv["Spend in month"]) if as_csv["Spend in month"] else None)
        assert as_json["spend"] == as_sheet["Spend in month"]
        gate = as_sheet["Gate date"]
        assert isinstance(gate, datetime)
        assert as_json["gateDate"] == as_csv["Gate date"] == gate.date().isoformat()
        assert f"<td>{row.name}</td>" in html


def test_html_escapes_what_people_typed(report: MonthlyReport) -> None:
    html = render_report_html(report)
    assert "&lt;b&gt;as agreed&lt;/b&gt;" in html and "<b>as agreed" not in html
    hostile = [
        dataclasses.replace(s, pilot=dataclasses.replace(s.pilot, name="<script>alert(1)</script>")) for s in statuses()
    ]
    page = render_report_html(build_monthly_report(hostile, NOVEMBER, NOW, tenant_id=TENANT))
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_file_names_name_the_month_and_a_sponsor_scope(report: MonthlyReport) -> None:
    assert report_filename(report, "csv") == "pilotgate-report-2026-11.csv"
    own = build_monthly_report(statuses(), NOVEMBER, NOW, tenant_id=TENANT, sponsor=SAM)
    assert report_filename(own, "xlsx") == "pilotgate-report-2026-11-sponsor.xlsx"
