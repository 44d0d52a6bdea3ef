"""The status card of one pilot: metric vs target with its trend, check-ins, adoption, spend, governance, gate."""

from __future__ import annotations

from typing import Any, Final

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

from cards.elements import build, facts, heading, section, text
from cards.text import fmt_number, plain, plural, shorten
from cards.verbs import PILOT_STATUS, execute
from governance.model import DecisionKind, Direction, GateDecision, HealthStatus, Metric
from governance.views import MetricView, PilotStatus, stage_label

# A year of points reads well in a chart and keeps a pilot with years of readings far below 28 KB.
MAX_TREND_POINTS: Final = 12
HISTORY_ROWS: Final = 6
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


def status_card(status: PilotStatus) -> dict[str, Any]:
    pilot = status.pilot
    sponsor = shorten(pilot.sponsor.name, 60) or "unknown"
    body: list[CardElement] = [
        heading(plain(pilot.name)),
        text(
            plain(f"{stage_label(pilot.stage)} · Sponsor: {sponsor} · Started {pilot.start_date}"),
            subtle=True,
            spacing="None",
        ),
    ]
    body += _primary_metric(status.primary)
    body += _trend(status.primary)
    if len(status.metrics) > 1:
        body.append(section("Other metrics"))
        body.append(facts((view.metric.name, _metric_summary(view)) for view in status.metrics[1:]))
    body += _checkins(status)
    body += _adoption_and_spend(status)
    body += _governance(status)
    body += _gate(status)
    actions = [execute("Refresh", PILOT_STATUS, {"pilotId": pilot.id})]
    return build(body, actions, full_width=True)


def _primary_metric(view: MetricView) -> list[CardElement]:
    metric = view.metric
    direction = "higher is better" if metric.direction is Direction.INCREASE else "lower is better"
    columns = [
        _figure("Baseline", fmt_number(metric.baseline, metric.unit)),
        _figure("Latest", fmt_number(view.latest, metric.unit)),
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


def _figure(label: str, value: str) -> Column:
    return Column(
        width="stretch",
        items=[
            TextBlock(text=label, is_subtle=True, wrap=True, size="Small"),
            TextBlock(text=plain(value), wrap=True, size="Medium", weight="Bolder", spacing="None"),
        ],
    )


def _trend(view: MetricView) -> list[CardElement]:
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
            LineChartData(legend=metric.name, values=[LineChartValue(x=period, y=value) for period, value in shown]),
            LineChartData(legend="Target", values=[LineChartValue(x=period, y=metric.target) for period, _ in shown]),
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


def _metric_summary(view: MetricView) -> str:
    metric = view.metric
    target = f"target {fmt_number(metric.target, metric.unit)}"
    if view.latest is None or view.progress_pct is None:
        return f"no reading yet, {target}"
    state = "met" if view.met else f"{fmt_number(view.progress_pct, '%')} of the way"
    return f"{fmt_number(view.latest, metric.unit)} ({target}, {state})"


def _checkins(status: PilotStatus) -> list[CardElement]:
    elements: list[CardElement] = [section("Check-ins")]
    if status.checkin_overdue_days and status.due_period:
        elements.append(
            text(
                plain(f"The check-in for {status.due_period} is {plural(status.checkin_overdue_days, 'day')} overdue."),
                color="Attention",
            )
        )
    elif status.due_period:
        elements.append(text(plain(f"The check-in for {status.due_period} is due."), color="Accent"))
    if not status.readings:
        elements.append(text("No check-ins yet.", subtle=True))
        return elements
    metric: Metric = status.primary.metric
    recent = status.readings[-HISTORY_ROWS:][::-1]
    elements.append(
        facts(
            (r.period, f"{HEALTH_LABEL[r.status]} · {fmt_number(r.values.get(metric.name), metric.unit)}")
            for r in recent
        )
    )
    earlier = len(status.readings) - len(recent)
    if earlier:
        elements.append(text(f"{earlier:,} more earlier.", subtle=True, spacing="Small"))
    last = status.last_checkin
    if last is not None and last.blockers:
        elements.append(text(plain(f"Blockers ({last.period}): {shorten(last.blockers, MAX_FREE_TEXT)}")))
    return elements


def _adoption_and_spend(status: PilotStatus) -> list[CardElement]:
    pilot = status.pilot
    period = status.last_checkin.period if status.last_checkin else None
    if status.spend_this_period is None:
        spend = (
            "not reported"
            if pilot.budget_monthly is None
            else f"not reported (budget {fmt_number(pilot.budget_monthly)} a month)"
        )
    elif pilot.budget_monthly is None:
        spend = f"{fmt_number(status.spend_this_period)} (no budget set)"
    else:
        spend = f"{fmt_number(status.spend_this_period)} of {fmt_number(pilot.budget_monthly)} monthly budget"
        if status.over_budget:
            spend += ": over budget"
    if status.active_users is None:
        users = (
            "not reported" if not pilot.intended_users else f"not reported (goal {fmt_number(pilot.intended_users)})"
        )
    elif pilot.intended_users:
        share = fmt_number(round(100 * status.active_users / pilot.intended_users), "%")
        users = f"{fmt_number(status.active_users)} of {fmt_number(pilot.intended_users)} intended ({share})"
    else:
        users = f"{fmt_number(status.active_users)} (no target set)"
    rows = [(f"Spend ({period})" if period else "Spend", spend)]
    if any(r.spend is not None for r in status.readings):
        rows.append(("Total spend", fmt_number(status.total_spend)))
    rows.append((f"Active users ({period})" if period else "Active users", users))
    elements: list[CardElement] = [section("Adoption and spend"), facts(rows)]
    if status.over_budget:
        elements.append(text("Spend is over the monthly budget.", color="Attention", spacing="Small"))
    return elements


def _governance(status: PilotStatus) -> list[CardElement]:
    elements: list[CardElement] = [section("Governance checklist")]
    if status.governance_gaps:
        gaps = ", ".join(status.governance_gaps)
        elements.append(text(plain(f"Open: {gaps}."), color="Attention"))
    else:
        elements.append(text("Every item is done.", color="Good"))
    return elements


def _gate(status: PilotStatus) -> list[CardElement]:
    pilot = status.pilot
    color: TextColor | None = None
    days = status.days_to_gate
    if status.gate_passed_undecided_days:
        phrase = f"passed {plural(status.gate_passed_undecided_days, 'day')} ago, no decision"
        color = "Attention"
    elif days > 0:
        phrase = f"in {plural(days, 'day')}"
        color = "Accent" if days <= 14 and pilot.stage.is_active else None
    elif days == 0:
        phrase = "today"
        color = "Attention"
    else:
        phrase = f"passed {plural(-days, 'day')} ago"
    elements: list[CardElement] = [
        section("Gate"),
        text(plain(f"{pilot.gate_date}: {phrase}"), color=color),
    ]
    decision = status.latest_decision
    if decision is not None:
        elements.append(text(plain(_decision_line(decision)), spacing="Small"))
        if decision.rationale:
            elements.append(text(plain(shorten(decision.rationale, MAX_FREE_TEXT)), subtle=True, spacing="None"))
    plan = pilot.scale_plan
    plan_rows = [
        (label, shorten(value, MAX_FREE_TEXT))
        for label, value in (("If met", plan.expand), ("If missed", plan.retire))
        if value
    ]
    if plan_rows:
        elements.append(facts(plan_rows))
    return elements


def _decision_line(decision: GateDecision) -> str:
    label = DECISION_LABEL[decision.kind]
    if decision.kind is DecisionKind.EXTEND and decision.new_gate_date:
        label += f" to {decision.new_gate_date}"
    by = f" by {decision.decided_by.name}" if decision.decided_by.name else ""
    return f"Latest decision: {label} ({decision.decided_at.date()}{by})"
