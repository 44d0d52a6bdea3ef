"""The monthly outcome report as an Adaptive Card for the leadership channel (and `report` on demand).

A pure function of governance.report's MonthlyReport: the headline figures, a chart of the portfolio's progress to
target (a Teams chart with a FactSet fallback that states the same numbers), the pilots that need attention first
(a bounded number, trimmed further to fit), and "Open full report" when a signed link is available. However many
pilots there are, the card stays within Teams' 28 KB: everything it lists is bounded and ``largest_fitting`` trims.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    ChartColor,
    Container,
    HorizontalBarChart,
    HorizontalBarChartDataValue,
    OpenUrlAction,
)
from microsoft_teams.cards.core import TextColor

from cards.elements import build, facts, heading, largest_fitting, section, text
from cards.pieces import (
    HEALTH_LABEL,
    MAX_LABEL_NAME,
    WORKFLOW_GAP_FLAG,
    money,
    period_label,
    stage_label,
    users_line,
)
from cards.text import fmt_number, plain, plural, shorten
from governance.model import HealthStatus, Stage
from governance.report import AuditOutcome, Flag, MonthlyReport, PilotRow

MAX_ATTENTION_ROWS: Final = 8  # the pilots a board member can act on in one read; the page lists every pilot
MAX_ROW_NAME: Final = 80
OPEN_REPORT: Final = "Open full report"

FLAG_LABEL: Final[dict[Flag, str]] = {
    Flag.LATE_CHECKIN: "late check-in",
    Flag.PURGATORY: "gate passed, no decision",
    Flag.COST_DRIFT: "cost drift",
    Flag.GOVERNANCE_GAPS: "governance gaps",
    Flag.LOW_ADOPTION: "low adoption",
    Flag.WORKFLOW_GAP: WORKFLOW_GAP_FLAG,
}


@dataclass(frozen=True, slots=True)
class ProgressBand:
    label: str
    count: int
    color: ChartColor  # a Teams chart colour token


def progress_bands(rows: Sequence[PilotRow]) -> tuple[ProgressBand, ...]:
    """The portfolio's pilots by how far their primary metric has come from baseline to target (progress is the
    report's share of the way; nothing is recomputed here)."""
    met = ahead = behind = away = none = 0
    for row in rows:
        progress = row.metric.progress
        if progress is None:
            none += 1
        elif progress >= 1:
            met += 1
        elif progress >= 0.5:
            ahead += 1
        elif progress >= 0:
            behind += 1
        else:
            away += 1
    return (
        ProgressBand("Target met", met, "good"),
        ProgressBand("Half way or more", ahead, "categoricalBlue"),
        ProgressBand("Under half way", behind, "warning"),
        ProgressBand("Moving away", away, "attention"),
        ProgressBand("No reading yet", none, "neutral"),
    )


def needs_attention(row: PilotRow) -> bool:
    return row.status is HealthStatus.RED or bool(row.flags)


def report_card(report: MonthlyReport, link: str | None = None) -> AdaptiveCard:
    """The card for ``report``; ``link`` (a signed https URL to the full page) adds "Open full report"."""
    title = f"Monthly outcome report: {period_label(report.period)}"
    head: list[CardElement] = [heading(title)]
    if report.sponsor is not None:
        who = shorten(report.sponsor.name, MAX_LABEL_NAME) or "you"
        head.append(text(plain(f"The pilots {who} sponsors."), subtle=True, spacing="None"))
    rows = report.pilots
    if not rows:
        head.append(text("No pilots in this report.", subtle=True))
        return build(head + audit_block(report), _actions(link))
    head += [section("Headline figures"), facts(headline(report))]
    head += progress_chart(rows)
    head += audit_block(report)
    attention = [row for row in rows if needs_attention(row)][:MAX_ATTENTION_ROWS]
    listed = [_attention_row(row) for row in attention]
    flagged = sum(1 for row in rows if needs_attention(row))

    def card_with(count: int) -> AdaptiveCard:
        body = list(head)
        if listed:
            body.append(section("Needs attention first"))
            body += listed[:count]
        else:
            body.append(text("No pilot needs attention this month.", color="Good"))
        rest = flagged - count
        if rest > 0:
            where = "in the full report" if link else "with `overdue` and `pilots`"
            body.append(text(f"{plural(rest, 'more pilot')} need attention: see them {where}.", subtle=True))
        return build(body, _actions(link), full_width=True)

    return largest_fitting(card_with, len(listed))


def headline(report: MonthlyReport) -> list[tuple[str, str]]:
    """The headline figures as (label, value) pairs: the card's facts and the page's summary read the same."""
    totals = report.totals
    count = len(report.pilots)
    by_stage = totals.pilots_by_stage
    stages = ", ".join(f"{stage_label(stage)}: {by_stage[stage]:,}" for stage in Stage if by_stage.get(stage))
    purgatory = totals.purgatory
    longest = max((line.days_since for line in purgatory), default=0)
    return [
        ("Pilots", f"{count:,}" + (f" ({stages})" if stages else "")),
        ("Check-ins answered", f"{totals.checkins_answered:,} of {totals.checkins_due:,} due"),
        ("On track", f"{totals.on_track:,} of {count:,}"),
        ("Decisions this month", f"{totals.decisions_taken:,}"),
        ("Gates in the next 30 days", f"{totals.gates_next_30_days:,}"),
        (
            "Gates passed without a decision",
            f"{len(purgatory):,}" + (f" (longest {plural(longest, 'day')})" if purgatory else ""),
        ),
        ("Spend this month", f"{money(totals.spend)} of {money(totals.budget)} budget"),
        ("Spend to date", money(totals.spend_to_date)),
        ("Active users", users_line(totals.active_users, totals.intended_users or None)),
        ("Open governance items", f"{totals.open_governance_items:,}"),
        ("Cost-drift alerts", f"{totals.cost_drift_alerts:,}"),
    ]


def audit_title(audit: AuditOutcome) -> str:
    return f"Quarterly audit {audit.quarter}, closed {audit.closed_on.isoformat()}"


def audit_facts(audit: AuditOutcome) -> list[tuple[str, str]]:
    """The audit closed in the month as (label, value) pairs: counts only, so the card's block stays short (the page
    and the workbook list each decision with its date)."""
    decided = ", ".join(f"{count:,} {rec.label.lower()}" for rec, count in audit.decisions.items()) or "none"
    gaps = ", ".join(f"{gap.label.lower()}: {count:,}" for gap, count in audit.gaps.items()) or "none"
    return [
        ("Initiatives audited", f"{audit.initiatives:,}"),
        ("Attested by sponsors", f"{audit.attested:,} ({audit.missing:,} missing)"),
        ("Decisions", decided),
        ("Gaps found", gaps),
    ]


def audit_block(report: MonthlyReport) -> list[CardElement]:
    """The quarterly audit closed in the report's month, as one short block; nothing when none closed."""
    if report.audit is None:
        return []
    return [section(audit_title(report.audit)), facts(audit_facts(report.audit))]


def progress_chart(rows: Sequence[PilotRow]) -> list[CardElement]:
    """A bar per progress band; hosts without Teams charts show the fallback, which states the same counts."""
    bands = progress_bands(rows)
    listing = "; ".join(f"{band.label}: {band.count:,}" for band in bands)
    return [
        # The Playground does not draw a chart's title: the title is a TextBlock above the chart.
        section("Progress to target"),
        HorizontalBarChart(
            data=[HorizontalBarChartDataValue(x=band.label, y=band.count, color=band.color) for band in bands],
            display_mode="AbsoluteNoAxis",
            fallback=text(plain(listing)),
        ),
    ]


def _attention_row(row: PilotRow) -> Container:
    metric = row.metric
    status = HEALTH_LABEL[row.status] if row.status else "no reading"
    if metric.latest is None or metric.progress is None:
        measure = f"{metric.name}: no reading, target {fmt_number(metric.target, metric.unit)}"
    else:
        measure = (
            f"{metric.name}: {fmt_number(metric.latest, metric.unit)} vs target "
            f"{fmt_number(metric.target, metric.unit)} ({fmt_number(round(metric.progress * 100), '%')} of the way)"
        )
    if row.days_to_gate >= 0:
        gate = f"gate {row.gate_date.isoformat()} (in {plural(row.days_to_gate, 'day')})"
    else:
        gate = f"gate {row.gate_date.isoformat()} ({plural(-row.days_to_gate, 'day')} ago)"
    color: TextColor = "Attention" if row.status is HealthStatus.RED else "Warning"
    items: list[CardElement] = [
        text(plain(shorten(row.name, MAX_ROW_NAME)), weight="Bolder"),
        text(plain(f"{status} · {measure} · {gate}"), subtle=True, spacing="None"),
    ]
    if row.flags:
        items.append(text(plain(", ".join(FLAG_LABEL[f] for f in row.flags)), color=color, spacing="None"))
    return Container(items=items, separator=True, spacing="Small")


def _actions(link: str | None) -> list[Action]:
    return [OpenUrlAction(title=OPEN_REPORT, url=link)] if link else []
