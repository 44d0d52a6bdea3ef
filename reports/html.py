"""The monthly report as an HTML page: printable to A4 without cut tables, charts drawn on the server as inline SVG
(a sparkline per pilot, the portfolio's progress to target), every user-supplied text escaped by Jinja2's autoescape.

A pure function of governance.report's MonthlyReport. The headline figures, the progress bands and the flag words
are the report card's (cards.report), so the card and the page say the same thing the same way; the geometry of
the charts is computed here, from the report's numbers only.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from cards.audit import OUTCOME_LABEL
from cards.pieces import DECISION_LABEL, HEALTH_LABEL, money, period_label, stage_label, users_line
from cards.report import FLAG_LABEL, audit_facts, audit_title, headline, needs_attention, progress_bands
from cards.text import NO_VALUE, fmt_number
from governance.report import MetricLine, MonthlyReport, PilotRow, RoadmapKind

TEMPLATES: Final = Path(__file__).with_name("templates")
SPARK_WIDTH: Final = 120.0
SPARK_HEIGHT: Final = 28.0
SPARK_PAD: Final = 3.0
BAR_WIDTH: Final = 360.0  # the progress chart's longest bar, in SVG units
BAND_COLOR: Final[dict[str, str]] = {
    "good": "#2e7d32",
    "categoricalBlue": "#1565c0",
    "warning": "#b26a00",
    "attention": "#c62828",
    "neutral": "#757575",
}
ROADMAP_LABEL: Final[dict[RoadmapKind, str]] = {
    RoadmapKind.GATE: "Gate",
    RoadmapKind.EXPANSION: "Expansion (go decision)",
    RoadmapKind.RETIREMENT: "Retirement",
}


@dataclass(frozen=True, slots=True)
class Sparkline:
    """An SVG polyline of the metric's history and the target as a dashed line, in a fixed box."""

    points: str  # "x,y x,y ..."
    target_y: float
    last_x: float
    last_y: float
    label: str  # what a screen reader and the printed page's hover text say

    @property
    def width(self) -> float:
        return SPARK_WIDTH

    @property
    def height(self) -> float:
        return SPARK_HEIGHT


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    width: float
    y: float
    color: str


def sparkline(metric: MetricLine) -> Sparkline | None:
    """None for fewer than two readings (nothing to draw a line through)."""
    values = [value for _, value in metric.history]
    if len(values) < 2:
        return None
    low = min(*values, metric.target, metric.baseline)
    high = max(*values, metric.target, metric.baseline)
    span = high - low or 1.0
    inner_w, inner_h = SPARK_WIDTH - 2 * SPARK_PAD, SPARK_HEIGHT - 2 * SPARK_PAD

    def y(value: float) -> float:
        return round(SPARK_PAD + (high - value) / span * inner_h, 2)

    step = inner_w / (len(values) - 1)
    coords = [(round(SPARK_PAD + k * step, 2), y(value)) for k, value in enumerate(values)]
    first, last = metric.history[0][0], metric.history[-1][0]
    label = (
        f"{metric.name} from {first} to {last}: "
        + ", ".join(fmt_number(v, metric.unit) for v in values)
        + f"; target {fmt_number(metric.target, metric.unit)}"
    )
    return Sparkline(" ".join(f"{px},{py}" for px, py in coords), y(metric.target), *coords[-1], label)


def progress_bars(rows: Sequence[PilotRow]) -> list[Bar]:
    bands = progress_bands(rows)
    most = max((band.count for band in bands), default=0) or 1
    return [
        Bar(band.label, band.count, round(BAR_WIDTH * band.count / most, 2), 28.0 * k, BAND_COLOR[band.color])
        for k, band in enumerate(bands)
    ]


def metric_cell(metric: MetricLine) -> str:
    latest = fmt_number(metric.latest, metric.unit)
    shown = f"{fmt_number(metric.baseline, metric.unit)} → {latest} → {fmt_number(metric.target, metric.unit)}"
    if metric.progress is not None:
        shown += f" ({fmt_number(round(metric.progress * 100), '%')} of the way)"
    return shown


def change_cell(metric: MetricLine) -> str:
    change = metric.change_since_last_month
    if change is None:
        return NO_VALUE
    return ("+" if change > 0 else "") + fmt_number(change, metric.unit)


def spend_cell(row: PilotRow) -> str:
    if row.spend is None:
        return "not reported"
    return money(row.spend) + (f" of {money(row.budget)}" if row.budget is not None else "")


def checkin_cell(row: PilotRow) -> str:
    if not row.checkin_due:
        return "not due"
    if row.checkin_answered:
        return f"answered by {row.answered_by}" if row.answered_by else "answered"
    return "not answered"


def gate_cell(row: PilotRow) -> str:
    days = row.days_to_gate
    when = f"in {days} d" if days >= 0 else f"{-days} d ago"
    return f"{row.gate_date.isoformat()} ({when})"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        sparkline=sparkline,
        metric_cell=metric_cell,
        change_cell=change_cell,
        spend_cell=spend_cell,
        checkin_cell=checkin_cell,
        gate_cell=gate_cell,
        needs_attention=needs_attention,
        audit_facts=audit_facts,
        audit_title=audit_title,
        outcome_label=lambda outcome: OUTCOME_LABEL[outcome] if outcome else NO_VALUE,
        stage_label=stage_label,
        health_label=lambda status: HEALTH_LABEL[status] if status else "no reading",
        flag_label=lambda flag: FLAG_LABEL[flag],
        decision_label=lambda kind: DECISION_LABEL[kind],
        roadmap_label=lambda kind: ROADMAP_LABEL[kind],
        users_line=users_line,
        money=money,
    )
    return env


def render_report_html(report: MonthlyReport) -> str:
    """The whole page, one self-contained HTML document (no scripts, no external files)."""
    title = f"Monthly outcome report: {period_label(report.period)}"
    month_end = calendar.monthrange(report.period.year, report.period.month)[1]
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            report=report,
            title=title,
            headline=headline(report),
            bars=progress_bars(report.pilots),
            bar_width=BAR_WIDTH,
            month_end=f"{report.period}-{month_end:02d}",
        )
    )
