"""The monthly report card: headline figures, the progress chart and its fallback, the pilots that need attention
first, the link to the full page; under 28 KB however many pilots."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from cards.report import MAX_ATTENTION_ROWS, OPEN_REPORT, progress_bands, report_card
from cards.text import MAX_CARD_BYTES, card_json, card_size
from governance.model import Person
from governance.quarterly_audit import Gap, Outcome, Recommendation
from governance.report import AuditDecisionLine, AuditOutcome
from tests.cards.test_cards import charts, rendered_texts, shown_text
from tests.helpers import nodes
from tests.report_fixtures import HOSTILE_NAME, make_report

LINK = "https://pilotgate.contoso.com/reports/eyJ0IjoidGVuYW50LTEifQ.sig"


def report_cards() -> dict[str, dict[str, Any]]:
    """The catalogue tests/cards/test_every_card.py checks with the official parser."""
    return {
        "report-empty": card_json(report_card(make_report(0))),
        "report-small": card_json(report_card(make_report(4), LINK)),
        "report-500": card_json(report_card(make_report(500), LINK)),
        "report-500-long-texts": card_json(report_card(make_report(500, long_text=True, hostile=True), LINK)),
        "report-hostile": card_json(report_card(make_report(6, hostile=True))),
        "report-sponsor": card_json(report_card(make_report(3, sponsor=Person("aad-3", "Ada [Lovelace]")), LINK)),
        "report-500-audit": card_json(report_card(dataclasses.replace(make_report(500), audit=an_audit(200)), LINK)),
        "report-empty-audit": card_json(report_card(dataclasses.replace(make_report(0), audit=an_audit(3)))),
    }


def an_audit(initiatives: int) -> AuditOutcome:
    """An audit of ``initiatives`` with every gap and every kind of decision, each decision dated."""
    kinds = tuple(Recommendation)
    lines = tuple(
        AuditDecisionLine(f"p{k}", f"Initiative {k}", kinds[k % 3], date(2027, 1, 1 + k % 28), Outcome.DECIDED)
        for k in range(initiatives)
    )
    return AuditOutcome(
        audit_id="audit-2026-Q4",
        quarter="2026-Q4",
        closed_on=date(2026, 11, 26),
        initiatives=initiatives,
        attested=initiatives - 1,
        missing=1,
        gaps=dict.fromkeys(Gap, 1),
        decisions={kind: sum(1 for line in lines if line.recommendation is kind) for kind in kinds},
        decision_lines=lines,
    )


def test_the_audit_block_is_short_and_fits_with_500_pilots() -> None:
    plain_card = card_json(report_card(make_report(500), LINK))
    card = card_json(report_card(dataclasses.replace(make_report(500), audit=an_audit(200)), LINK))
    assert card_size(card) < MAX_CARD_BYTES - 2 * 1024
    assert card_size(card) - card_size(plain_card) < 1024  # counts only: no line per decision
    shown = shown_text(card)
    assert "Quarterly audit 2026-Q4, closed 2026-11-26" in shown
    assert "199 (1 missing)" in shown and "67 fund to production, 67 narrow scope, 66 retire" in shown
    assert "Initiative 1" not in shown


def open_urls(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in nodes(card) if node.get("type") == "Action.OpenUrl"]


def test_card_of_500_pilots_fits_in_28_kb_and_lists_a_bounded_number() -> None:
    for long_text in (False, True):
        card = card_json(report_card(make_report(500, long_text=long_text), LINK))
        assert card_size(card) < MAX_CARD_BYTES - 2 * 1024
        shown = shown_text(card)
        assert shown.count("Pilot 0") <= MAX_ATTENTION_ROWS
        assert "more pilots need attention: see them in the full report" in shown
        assert [a["url"] for a in open_urls(card)] == [LINK]


def test_headline_figures_state_the_reports_totals() -> None:
    report = make_report(12)
    shown = shown_text(card_json(report_card(report)))
    totals = report.totals
    assert "Monthly outcome report: November 2026" in shown
    assert f"{totals.checkins_answered} of {totals.checkins_due} due" in shown
    assert f"{totals.on_track} of 12" in shown
    assert "Gates passed without a decision" in shown and "longest" in shown
    assert "of 18,000 budget" in shown  # 12 pilots x 1,500 a month


def test_progress_chart_has_a_fallback_stating_the_same_counts() -> None:
    report = make_report(20)
    card = card_json(report_card(report))
    (chart,) = charts(card)
    bands = progress_bands(report.pilots)
    assert [(v["x"], v["y"]) for v in chart["data"]] == [(b.label, b.count) for b in bands]
    assert sum(b.count for b in bands) == 20
    fallback = chart["fallback"]["text"]
    for band in bands:
        assert f"{band.label}: {band.count}" in fallback


def test_attention_first_lists_red_or_flagged_pilots_only() -> None:
    report = make_report(8)
    shown = shown_text(card_json(report_card(report)))
    for row in report.pilots:
        listed = f"{row.name}" in shown
        assert listed == ((row.status is not None and row.status.value == "red") or bool(row.flags)), row.name


def test_no_link_means_no_button() -> None:
    assert open_urls(card_json(report_card(make_report(5)))) == []
    assert [a["title"] for a in open_urls(card_json(report_card(make_report(5), LINK)))] == [OPEN_REPORT]


def test_hostile_names_are_text() -> None:
    card = card_json(report_card(make_report(6, hostile=True)))
    assert HOSTILE_NAME in shown_text(card)  # shown as typed...
    assert any("\\<script\\>" in t and "\\[click\\]" in t for t in rendered_texts(card))  # ...because escaped


def test_sponsor_report_says_whose_pilots() -> None:
    shown = shown_text(card_json(report_card(make_report(3, sponsor=Person("aad-3", "Ada")))))
    assert "The pilots Ada sponsors." in shown
