"""The quarterly audit's outcome in the monthly report, through the real audit service on memory, SQLite and Cosmos
DB: close an audit, build the month's report, and read it back in every rendering."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl

from cards.report import report_card
from cards.text import MAX_CARD_BYTES, card_json, card_size
from governance.audit_service import QuarterlyAuditService
from governance.model import Integration
from governance.period import Period
from governance.quarterly_audit import Gap, Outcome, Recommendation
from governance.report import MonthlyReport
from governance.report_builder import MonthlyReports
from governance.services import Actor, PilotService
from reports.html import render_report_html
from reports.monthly import report_csv, report_json, report_xlsx
from storage.documents import DocumentStore
from storage.repositories import Repositories
from tests.cards.test_cards import assert_official_parser_accepts, shown_text
from tests.fakes import FixedClock
from tests.report_fixtures import HOSTILE_NAME
from tests.storage.conftest import StoreFactory
from tests.storage.test_repositories_contract import SPONSOR, TENANT, a_pilot
from tests.store_wrappers import CountingStore
from tests.unit.test_quarterly_audit_service import a_draft

ADMIN = Actor("ad000000-0000-4000-8000-0000000000a1", "Ada Admin", is_admin=True)
CLOSED_AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
NOVEMBER = Period(2026, 11)


async def closed_audit_reports(store: DocumentStore) -> MonthlyReports:
    """Two pilots audited: the first attested (narrow, not integrated), the second missing and funded by the admin;
    the audit closed on 26 November."""
    repos = Repositories.on(store)
    clock = FixedClock(CLOSED_AT)
    sponsor = Actor(SPONSOR.aad_object_id, SPONSOR.name)
    pilots = PilotService(repos.pilots, repos.readings, repos.decisions, repos.audit, clock, repos.agenda)
    audits = QuarterlyAuditService(
        repos.audits, repos.pilots, pilots, repos.conversations, repos.members, repos.tenants, clock
    )
    first = dataclasses.replace(a_pilot(), id="p1", name=HOSTILE_NAME, start_date=date(2026, 9, 1))
    second = dataclasses.replace(a_pilot(), id="p2", name="Invoice OCR", start_date=date(2026, 9, 1))
    for pilot in (first, second):
        await repos.pilots.add(pilot)
    audit, _ = await audits.open(TENANT, ADMIN)
    await audits.attest(TENANT, audit.id, "p1", a_draft(integration=Integration.NO), sponsor)
    await audits.decide(TENANT, audit.id, "p1", ADMIN)
    await audits.decide(TENANT, audit.id, "p2", ADMIN, (Recommendation.FUND, date(2027, 1, 4), "all EMEA"))
    await audits.close(TENANT, audit.id, ADMIN)
    return MonthlyReports(repos.portfolio(clock), repos.tenants, clock, repos.audits)


async def test_the_month_the_audit_closed_in_carries_its_outcome(store_factory: StoreFactory) -> None:
    reports = await closed_audit_reports(await store_factory())
    report = await reports.monthly(TENANT, NOVEMBER)
    audit = report.audit
    assert audit is not None
    assert (audit.quarter, audit.closed_on) == ("2026-Q4", date(2026, 11, 26))
    assert (audit.initiatives, audit.attested, audit.missing) == (2, 1, 1)
    assert audit.decisions == {Recommendation.NARROW: 1, Recommendation.FUND: 1}
    assert audit.gaps[Gap.NO_INTEGRATION] >= 1
    assert [(line.pilot_id, line.recommendation, line.on, line.outcome) for line in audit.decision_lines] == [
        ("p2", Recommendation.FUND, date(2027, 1, 4), Outcome.DECIDED),
        ("p1", Recommendation.NARROW, date(2027, 2, 15), Outcome.DECIDED),
    ]
    # The decisions closing recorded are the month's gate decisions too.
    assert {d.pilot_id for d in report.decisions} == {"p1", "p2"}
    # Another month, and a sponsor's own report, carry none.
    assert (await reports.monthly(TENANT, Period(2026, 10))).audit is None
    assert (await reports.monthly(TENANT, Period(2026, 12))).audit is None
    assert (await reports.monthly(TENANT, NOVEMBER, sponsor=SPONSOR)).audit is None


async def test_the_audit_costs_one_store_query_per_report_whatever_the_number_of_pilots(
    store_factory: StoreFactory,
) -> None:
    store = CountingStore(await store_factory())
    reports = await closed_audit_reports(store)
    calls = []
    for more in (0, 12):
        for k in range(more):
            await Repositories.on(store).pilots.add(dataclasses.replace(a_pilot(), id=f"o{k}", name=f"Other {k}"))
        await reports.monthly(TENANT, NOVEMBER)  # the summaries catch up with the audit's decisions once
        store.reset()
        report = await reports.monthly(TENANT, NOVEMBER)
        assert report.audit is not None and len(report.pilots) == 2 + more
        assert {op: n for (op, container), n in store.calls.items() if container == "audits"} == {"query": 1}
        calls.append(dict(store.calls))
    assert calls[0] == calls[1]


async def test_every_rendering_shows_the_audit(store_factory: StoreFactory, tmp_path: Path) -> None:
    report = await (await closed_audit_reports(await store_factory())).monthly(TENANT, NOVEMBER)
    assert_json(report)
    assert_workbook(report)
    assert_csv_is_one_row_per_pilot(report)
    assert_page(report)
    assert_card(report, tmp_path)


def assert_json(report: MonthlyReport) -> None:
    audit = json.loads(json.dumps(report_json(report)))["audit"]
    assert audit["quarter"] == "2026-Q4" and audit["closedOn"] == "2026-11-26"
    assert (audit["initiatives"], audit["attested"], audit["missing"]) == (2, 1, 1)
    assert audit["decisionsByKind"] == {"narrow": 1, "fund": 1}
    assert audit["gaps"]["noIntegration"] >= 1
    assert [(d["pilotId"], d["kind"], d["on"], d["outcome"]) for d in audit["decisions"]] == [
        ("p2", "fund", "2027-01-04", "decided"),
        ("p1", "narrow", "2027-02-15", "decided"),
    ]


def assert_workbook(report: MonthlyReport) -> None:
    book = openpyxl.load_workbook(io.BytesIO(report_xlsx(report)))
    assert book.sheetnames == ["Summary", "Pilots", "Decisions", "Roadmap", "Quarterly audit"]
    rows = list(book["Quarterly audit"].iter_rows(values_only=True))
    assert rows[0] == ("Section", "Item", "Count", "Date", "Outcome")
    assert ("Audit", "Not attested (missing)", 1, None, None) in rows
    assert ("Decisions", "Fund to production", 1, None, None) in rows
    decision = next(row for row in rows if row[0] == "Decision" and str(row[1]).startswith("Invoice OCR"))
    assert decision[3] == datetime(2027, 1, 4) and decision[4] == "decided"  # a typed date cell
    assert book["Quarterly audit"].freeze_panes == "A2"


def assert_csv_is_one_row_per_pilot(report: MonthlyReport) -> None:
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    assert len(rows) == 1 + len(report.pilots) == 3
    assert "2026-Q4" not in report_csv(report).decode("utf-8-sig")


def assert_page(report: MonthlyReport) -> None:
    page = render_report_html(report)
    section = page[page.index('<section class="audit"') :]
    assert "Quarterly audit 2026-Q4, closed 2026-11-26" in section
    assert "1 (1 missing)" in section and "2027-01-04" in section and "Fund to production" in section
    assert "recorded as its gate decision" in section
    assert HOSTILE_NAME not in page  # the pilot's name is autoescaped, in the audit's section as everywhere
    assert "&lt;" in section


def assert_card(report: MonthlyReport, tmp_path: Path) -> None:
    card = card_json(report_card(report))
    assert card_size(card) < MAX_CARD_BYTES
    shown = shown_text(card)
    assert "Quarterly audit 2026-Q4, closed 2026-11-26" in shown
    assert "2 initiatives" not in shown and "1 (1 missing)" in shown
    assert "1 narrow scope" in shown and "1 fund to production" in shown
    assert_official_parser_accepts({"report-with-audit": card}, tmp_path)
