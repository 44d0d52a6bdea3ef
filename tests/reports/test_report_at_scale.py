"""The report on the benchmark's randomized portfolio (bench.seed: every stage, six time zones, decisions, missing
check-ins): every rendering is made, they agree on the pilots, and the figures stay within their bounds."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from bench import monthly_report
from governance.model import Stage
from governance.report_builder import build_monthly_report
from reports.monthly import report_csv, report_json, report_xlsx


def test_the_report_of_a_randomized_portfolio() -> None:
    statuses = monthly_report.portfolio(monthly_report.Options(pilots=150, runs=1))
    report = build_monthly_report(statuses, monthly_report.PERIOD, monthly_report.NOW, tenant_id=monthly_report.TENANT)
    totals = report.totals
    assert 0 < len(report.pilots) <= len(statuses)
    assert sum(n for stage, n in totals.pilots_by_stage.items() if stage is not Stage.DRAFT) == len(report.pilots)
    assert 0 <= totals.checkins_answered <= totals.checkins_due <= len(report.pilots)
    assert 0 <= totals.on_track <= totals.tracked <= len(report.pilots)
    assert all(p.days_since > 0 for p in totals.purgatory)
    assert all(report.roadmap[i].on <= report.roadmap[i + 1].on for i in range(len(report.roadmap) - 1))
    ids = [row.id for row in report.pilots]
    assert len(set(ids)) == len(ids)

    data = json.loads(json.dumps(report_json(report)))
    assert [p["id"] for p in data["pilots"]] == ids
    rows = list(csv.DictReader(io.StringIO(report_csv(report).decode("utf-8-sig"), newline="")))
    assert [r["Pilot id"] for r in rows] == ids
    sheet = openpyxl.load_workbook(io.BytesIO(report_xlsx(report)))["Pilots"]
    assert isinstance(sheet, Worksheet)
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == ids


def test_the_benchmark_runs_and_reports_every_rendering() -> None:
    result = monthly_report.main(monthly_report.Options(pilots=20, runs=1))
    text = monthly_report.render(result)
    assert set(result.cpu_ms) == {"json", "csv", "xlsx", "html", "card"}
    assert all(f"| {name} |" in text for name in result.cpu_ms)
