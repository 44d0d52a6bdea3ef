"""The report's HTML page: every user text escaped, charts drawn as inline SVG on the server, and, in headless
Chromium (Debian's), a screenshot kept and a print to A4 whose pages are counted, with no table row cut across
two pages and the table header repeated on each."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from governance.model import Person
from reports.html import SPARK_HEIGHT, SPARK_WIDTH, render_report_html, sparkline
from tests.cards.test_report_card import an_audit
from tests.report_fixtures import HOSTILE_NAME, make_report, make_row

PILOTS_HEADER = "Pilot Sponsor Stage Status Primary metric Trend Change Check-in Spend this month Users Gate Flags"
ROW_START = re.compile(r"(?=Pilot \d{4} with|<script>)")
GATE_CELL = re.compile(r"\d{4}-\d\d-\d\d \((in \d+ d|\d+ d ago)\)")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
SHOTS = ROOT / "build" / "report-screenshots"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)


def chromium(tmp_path: Path, *args: str) -> None:
    if not CHROMIUM.is_file():
        pytest.fail(f"Debian's chromium is missing at {CHROMIUM}: `make e2e-deps` (or apt-get install chromium)")
    profile = tmp_path / "profile"
    subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        check=True,
        capture_output=True,
        timeout=90,
    )


def page_texts(pdf: Path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(pdf).pages]


def test_every_user_text_is_escaped() -> None:
    page = render_report_html(make_report(6, hostile=True, sponsor=Person("s", "<img src=x onerror=alert(1)>")))
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; [click](http://evil.example) **bold**" in page
    assert "&lt;b&gt;expand&lt;/b&gt;" in page  # a decision's rationale
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_the_page_has_a_sparkline_per_pilot_with_readings_and_a_portfolio_chart() -> None:
    report = make_report(8)
    page = render_report_html(report)
    with_history = [row for row in report.pilots if len(row.metric.history) >= 2]
    assert page.count("<polyline") == len(with_history) > 0
    bands = "Target met: 2; Half way or more: 2; Under half way: 2; Moving away: 0; No reading yet: 2"
    assert f'aria-label="{bands}"' in page
    for row in report.pilots:
        assert f'id="pilot-{row.id}"' in page


def test_a_sparkline_stays_in_its_box_and_states_its_numbers() -> None:
    row = make_row(1)
    spark = sparkline(row.metric)
    assert spark is not None
    points = [tuple(map(float, p.split(","))) for p in spark.points.split()]
    assert len(points) == len(row.metric.history)
    assert all(0 <= x <= SPARK_WIDTH and 0 <= y <= SPARK_HEIGHT for x, y in points)
    assert 0 <= spark.target_y <= SPARK_HEIGHT
    assert "target 30 min" in spark.label
    assert sparkline(make_row(3).metric) is None  # no reading: nothing drawn


def test_printed_to_a4_no_row_is_cut_and_headers_repeat(tmp_path: Path) -> None:
    report = make_report(60, hostile=True, long_text=True)
    html = tmp_path / "report.html"
    html.write_text(render_report_html(report), encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri())
    pages = page_texts(pdf)
    assert len(pages) >= 4, len(pages)  # 60 pilots with long names do not fit on a few pages
    first = PdfReader(pdf).pages[0].mediabox
    assert first.width > first.height  # A4 landscape
    everything = " ".join(pages)
    for row in report.pilots:
        # A name listed once (not also under purgatory or decisions) is whole on one page: its wrapped lines together.
        name = " ".join(row.name.split())
        if everything.count(name) == 1:
            assert sum(name in text for text in pages) == 1, row.id
    # Page by page, the pilots table: the header comes first (repeated), then whole rows. A cut row would leave a
    # row without its gate cell at the foot of one page and its remaining cells before any name on the next.
    table_pages = [text for text in pages if PILOTS_HEADER in text]
    assert len(table_pages) >= 3
    rows_seen = 0
    for text in table_pages:
        body = text.split(PILOTS_HEADER, 1)[1].split("Decisions this month", 1)[0].strip()
        assert ROW_START.match(body), body[:80]
        chunks = [chunk for chunk in ROW_START.split(body) if chunk.strip()]
        for chunk in chunks:
            assert GATE_CELL.search(chunk), chunk[:200]
        rows_seen += len(ROW_START.findall(body))
    assert rows_seen == len(report.pilots)
    assert HOSTILE_NAME in " ".join(pages)  # shown as text
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(pdf, SHOTS / "report-page.pdf")


def test_a_screenshot_of_the_page_is_kept(tmp_path: Path) -> None:
    """The README's picture: the real builder over the hand-worked portfolio of tests/reports/portfolio.py."""
    from governance.period import Period
    from governance.report_builder import build_monthly_report
    from tests.reports import portfolio

    report = build_monthly_report(portfolio.statuses(), Period.parse("2026-11"), portfolio.NOW, tenant_id="contoso")
    html = tmp_path / "report.html"
    html.write_text(render_report_html(report), encoding="utf-8")
    shot = tmp_path / "report-page.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1400", html.as_uri())
    assert shot.stat().st_size > 10_000
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SHOTS / "report-page.png")


def test_the_audit_section_prints_with_each_decision_and_its_date_on_one_page(tmp_path: Path) -> None:
    audit = an_audit(40)
    html = tmp_path / "audit.html"
    html.write_text(render_report_html(dataclasses.replace(make_report(20), audit=audit)), encoding="utf-8")
    pdf = tmp_path / "audit.pdf"
    chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", html.as_uri())
    pages = page_texts(pdf)
    assert any("Quarterly audit 2026-Q4, closed 2026-11-26" in text for text in pages)
    for line in audit.decision_lines:
        row = f"{line.on.isoformat()} {line.pilot_name} {line.recommendation.label}"
        assert sum(row in text for text in pages) == 1, row
