"""Card pieces more than one card shows: labels, the metric block and its trend chart, adoption and spend lines,
"gate in N days", the sponsor label, field errors and text limits. Everything here is wording or layout; the
numbers come from governance/.
"""

from __future__ import annotations

from typing import Final

from microsoft_teams.cards import (
    CardElement,
    Column,
    ColumnSet,
    LineChart,
    LineChartData,
    LineChartValue,
    TextBlock,
)
from microsoft_teams.cards.core import TextColor

from cards.elements import section, text
from cards.inputs import BadNumber, parse_number
from cards.text import fmt_number, plain, plural, shorten
from governance.milestones import milestone_offset
from governance.model import DecisionKind, Direction, HealthStatus, Integration, Pilot, Stage, Workflow, WorkSurface
from governance.period import Period, month_name
from governance.projections import CostDrift, DriftKind, Projection, SpendProjection
from governance.views import MetricView, PilotStatus

MAX_LABEL_NAME: Final = 60  # a person's or a metric's name in a label

# A year of points reads well in a chart and keeps a pilot with years of readings far below 28 KB.
MAX_TREND_POINTS: Final = 12
MAX_FREE_TEXT: Final = 300  # blockers, rationale, scale plan: up to 2,000 characters in the domain

HEALTH_LABEL: Final[dict[HealthStatus, str]] = {
    HealthStatus.GREEN: "Green",
    HealthStatus.AMBER: "Amber",
    HealthStatus.RED: "Red",
}
HEALTH_COLOR: Final[dict[HealthStatus, TextColor]] = {
    HealthStatus.GREEN: "Good",
    HealthStatus.AMBER: "Warning",
    HealthStatus.RED: "Attention",
}
DECISION_LABEL: Final[dict[DecisionKind, str]] = {
    DecisionKind.GO: "Go: expand",
    DecisionKind.NARROW: "Narrow",
    DecisionKind.EXTEND: "Extend",
    DecisionKind.RETIRE: "Retire",
}


GOVERNANCE_LABELS: Final[dict[str, str]] = {
    "dataLabels": "Data sensitivity labels",
    "auditLogging": "Audit logging",
    "dlp": "Data loss prevention",
    "dataResidency": "Data residency",
    "identityScopes": "Identity scopes reviewed",
}
STAGE_LABEL: Final[dict[Stage, str]] = {
    Stage.DRAFT: "Draft",
    Stage.PILOT: "Pilot",
    Stage.EXTENDED: "Pilot (extended)",
    Stage.NARROWED: "Pilot (narrowed)",
    Stage.PRODUCTION: "Production",
    Stage.RETIRED: "Retired",
}


SURFACE_LABEL: Final[dict[WorkSurface, str]] = {
    WorkSurface.M365: "Microsoft 365 app",
    WorkSurface.LOB: "Line-of-business system (API or Power Platform)",
    WorkSurface.ITSM: "Service management",
    WorkSurface.CRM: "CRM",
    WorkSurface.STANDALONE: "Standalone",
}
INTEGRATION_LABEL: Final[dict[Integration, str]] = {
    Integration.YES: "integrated",
    Integration.PARTLY: "partly integrated",
    Integration.NO: "not integrated",
}
# What a draft still lacks (Pilot.draft_gaps), as people read it.
DRAFT_GAP_LABEL: Final[dict[str, str]] = {
    "sponsor": "a sponsor PilotGate knows",
    "metrics": "a success metric",
    "workflow": "workflow integration",
    "budgetMonthly": "a budget",
}
WORKFLOW_GAP_FLAG: Final = "outside the flow of work"


def workflow_line(workflow: Workflow | None) -> str:
    """``Service management (ServiceNow), partly integrated``; ``not recorded`` when nobody said."""
    if workflow is None:
        return "not recorded"
    system = f" ({workflow.system})" if workflow.system else ""
    return f"{SURFACE_LABEL[workflow.surface]}{system}, {INTEGRATION_LABEL[workflow.integrated]}"


def draft_gaps_line(pilot: Pilot) -> str:
    """``Still missing: a success metric, workflow integration``."""
    return "Still missing: " + ", ".join(DRAFT_GAP_LABEL.get(gap, gap) for gap in pilot.draft_gaps) + "."


def governance_label(item: str) -> str:
    return GOVERNANCE_LABELS.get(item, item)


def stage_label(stage: Stage) -> str:
    return STAGE_LABEL[stage]


def period_label(period: Period) -> str:
    """``2026-04`` -> ``April 2026``."""
    return month_name(period)


def sponsor_label(pilot: Pilot, default: str = "The sponsor") -> str:
    return shorten(pilot.sponsor.name, MAX_LABEL_NAME) or default


def money(value: float) -> str:
    """Whole amounts without decimals; cents only below 1,000 where they matter."""
    return f"{value:,.0f}" if abs(value - round(value)) < 0.005 or abs(value) >= 1000 else f"{value:,.2f}"


def gate_phrase(status: PilotStatus) -> str:
    """``gate in 12 days``, ``gate today``, ``gate decided: go``, ``gate passed 3 days ago``."""
    days = status.days_to_gate
    if days > 0:
        return f"gate in {plural(days, 'day')}"
    if days == 0:
        return "gate today"
    decision = status.latest_decision
    if not status.gate_passed_undecided_days and decision is not None:
        return f"gate decided: {decision.kind.value}"
    return f"gate passed {plural(-days, 'day')} ago"


def flags(status: PilotStatus) -> tuple[str, ...]:
    """What needs attention, in a few words each."""
    out: list[str] = []
    if status.pilot.is_draft:
        out.append(f"draft: {len(status.pilot.draft_gaps)} missing" if status.pilot.draft_gaps else "draft")
    if status.pilot.sponsor_email and not status.pilot.sponsor.aad_object_id:
        out.append("sponsor not resolved")
    if status.pilot.workflow_gap:
        out.append(WORKFLOW_GAP_FLAG)
    if status.checkin_overdue_days:
        out.append(f"check-in overdue {status.checkin_overdue_days}d")
    if status.gate_passed_undecided_days:
        out.append(f"gate passed {status.gate_passed_undecided_days}d ago, no decision")
    if status.over_budget:
        out.append("over budget")
    gaps = len(status.governance_gaps)
    if gaps:
        out.append(f"{gaps} governance gap{'s' if gaps > 1 else ''}")
    return tuple(out)


def users_line(active: int | None, intended: int | None) -> str:
    """``120 of 150 intended (80%)``; ``not reported`` when there is no figure."""
    if active is None:
        return "not reported"
    if intended:
        share = fmt_number(round(100 * active / intended), "%")
        return f"{fmt_number(active)} of {fmt_number(intended)} intended ({share})"
    return f"{fmt_number(active)} (no intended number set)"


def spend_line(spend: float | None, budget_monthly: float | None) -> str:
    """``9,000 of 12,000 monthly budget``; ``not reported`` when there is no figure."""
    if spend is None:
        return "not reported"
    if budget_monthly is None:
        return f"{fmt_number(spend)} (no budget set)"
    line = f"{fmt_number(spend)} of {fmt_number(budget_monthly)} monthly budget"
    return line + (": over budget" if spend > budget_monthly else "")


def milestone_label(key: str) -> str:
    """How a milestone reads on a card: ``30 days to the gate``, ``Gate day``, ``2 weeks past the gate``."""
    offset = milestone_offset(key)
    if offset == 0:
        return "Gate day"
    if offset == -1:
        return "1 day to the gate"
    if offset < 0:
        return f"{-offset} days to the gate"
    if offset % 7:
        return f"{offset} days past the gate"
    weeks = offset // 7
    return f"{weeks} week{'s' if weeks != 1 else ''} past the gate"


def projection_basis(projection: Projection) -> str:
    """What a projection rests on, in a sentence."""
    if projection.readings == 0 or projection.first is None or projection.last is None:
        return "No readings yet: no trend to project."
    if projection.readings == 1:
        return f"One reading ({projection.first}): a trend needs at least two."
    basis = f"Straight-line trend over {projection.readings} monthly readings ({projection.first} to {projection.last})"
    fit = projection.r_squared or 0.0
    if projection.poor_fit:
        return basis + f"; the readings scatter around it (fit {fit:.2f})."
    return basis + f", fit {fit:.2f}."


def spend_basis(spend: SpendProjection) -> str:
    if not spend.months_reported:
        return "No spend reported yet."
    basis = f"{plural(spend.months_reported, 'month')} reported"
    if spend.months_to_gate and spend.gate_date is not None:
        basis += f", then the average monthly spend until the gate ({spend.gate_date.isoformat()})"
    return basis + "."


def cost_drift_text(drift: CostDrift, gate: str) -> str:
    """One line: this month passed the monthly budget, or the projection to the gate passes the total."""
    if drift.kind is DriftKind.MONTH_OVER_BUDGET:
        budget = drift.budget_monthly
        share = f" (+{drift.over_by / budget:.0%})" if budget > 0 else ""
        return (
            f"Spend for {drift.period} was {money(drift.spend)}, over the monthly budget of "
            f"{money(budget)} by {money(drift.over_by)}{share}."
        )
    projection = drift.projection
    return (
        f"At the current rate spend reaches {money(projection.projected_total or 0.0)} by the gate "
        f"({gate}), over the total budget of {money(projection.budget_total or 0.0)}."
    )


def with_error(element: CardElement, problem: str | None) -> list[CardElement]:
    """``element`` and, right under it, its problem (escaped) when there is one."""
    if not problem:
        return [element]
    return [element, text(plain(problem), color="Attention", spacing="None")]


def kept_text(raw: str | None, limit: int) -> str | None:
    """Submitted free text to show again, cut to ``limit`` characters (0: not kept)."""
    if not isinstance(raw, str) or not raw or limit <= 0:
        return None
    return raw if len(raw) <= limit else raw[:limit]


def kept_number(raw: str | None) -> float | None:
    """A submitted number to show again; a value that does not parse is dropped (its error explains)."""
    if raw is None:
        return None
    try:
        return parse_number(str(raw), money=True)
    except BadNumber:
        return None


def primary_metric(view: MetricView) -> list[CardElement]:
    metric = view.metric
    direction = "higher is better" if metric.direction is Direction.INCREASE else "lower is better"
    columns = [
        _figure("Baseline", fmt_number(metric.baseline, metric.unit)),
        _figure("Latest", latest_value(view)),
        _figure("Target", fmt_number(metric.target, metric.unit)),
    ]
    elements: list[CardElement] = [
        section(plain(f"{metric.name} ({direction})")),
        ColumnSet(columns=columns, spacing="Small"),
    ]
    if view.latest is None or view.progress_pct is None:
        elements.append(text("No reading yet.", subtle=True))
    elif view.met:
        elements.append(text(f"Target met ({fmt_number(view.progress_pct, '%')} of the way).", color="Good"))
    elif view.progress_pct < 0:
        elements.append(text(f"Moving away from the target ({fmt_number(view.progress_pct, '%')}).", color="Attention"))
    else:
        elements.append(text(f"{fmt_number(view.progress_pct, '%')} of the way from baseline to target."))
    return elements


def latest_value(view: MetricView) -> str:
    """The latest value with its unit, marked when it was corrected: "38 min (corrected)"."""
    return fmt_number(view.latest, view.metric.unit) + (" (corrected)" if view.latest_corrected else "")


def _figure(label: str, value: str) -> Column:
    return Column(
        width="stretch",
        items=[
            TextBlock(text=label, is_subtle=True, wrap=True, size="Small"),
            TextBlock(text=plain(value), wrap=True, size="Medium", weight="Bolder", spacing="None"),
        ],
    )


def trend(view: MetricView) -> list[CardElement]:
    """A Teams line chart of the last readings and the target; the fallback states the same numbers."""
    if len(view.trend) < 2:
        return []
    metric = view.metric
    shown = view.trend[-MAX_TREND_POINTS:]
    # The Playground does not draw a chart's title: the title is a TextBlock above the chart.
    elements: list[CardElement] = [
        text(plain(f"{metric.name}, last {plural(len(shown), 'month')}"), weight="Bolder", spacing="Medium"),
    ]
    listing = " · ".join(f"{period}: {fmt_number(value)}" for period, value in shown)
    unit = f" ({metric.unit})" if metric.unit else ""
    chart = LineChart(
        data=[
            LineChartData(
                legend=metric.name, values=[LineChartValue(x=str(period), y=value) for period, value in shown]
            ),
            LineChartData(
                legend="Target", values=[LineChartValue(x=str(period), y=metric.target) for period, _ in shown]
            ),
        ],
        # Hosts without charts (the official JS renderer, older clients) drop a chart that has no fallback.
        fallback=text(plain(f"{listing}{unit}; target {fmt_number(metric.target, metric.unit)}")),
    )
    elements.append(chart)
    earlier = view.trend[:-MAX_TREND_POINTS]
    if earlier:
        first_period, first_value = earlier[0]
        elements.append(
            text(
                plain(
                    f"{plural(len(earlier), 'earlier reading')} not shown, "
                    f"from {first_period} ({fmt_number(first_value, metric.unit)})."
                ),
                subtle=True,
                spacing="Small",
            )
        )
    return elements


def metric_summary(view: MetricView) -> str:
    metric = view.metric
    target = f"target {fmt_number(metric.target, metric.unit)}"
    if view.latest is None or view.progress_pct is None:
        return f"no reading yet, {target}"
    state = "met" if view.met else f"{fmt_number(view.progress_pct, '%')} of the way"
    return f"{latest_value(view)} ({target}, {state})"


def governance_block(status: PilotStatus) -> list[CardElement]:
    elements: list[CardElement] = [section("Governance checklist")]
    if status.governance_gaps:
        gaps = ", ".join(governance_label(item) for item in status.governance_gaps)
        elements.append(text(plain(f"Open: {gaps}."), color="Attention"))
    else:
        elements.append(text("Every item is done.", color="Good"))
    return elements
