"""The status card of one pilot: metric vs target with its trend, check-ins, adoption, spend, governance, gate."""

from __future__ import annotations

from typing import Any, Final

from microsoft_teams.cards import Action, AdaptiveCard, CardElement
from microsoft_teams.cards.core import TextColor

from cards.checkin import correct_action
from cards.elements import build, facts, heading, section, text
from cards.pieces import (
    DECISION_LABEL,
    HEALTH_LABEL,
    MAX_FREE_TEXT,
    WORKFLOW_GAP_FLAG,
    draft_gaps_line,
    flags,
    gate_phrase,
    governance_block,
    metric_summary,
    period_label,
    primary_metric,
    spend_line,
    sponsor_label,
    stage_label,
    trend,
    users_line,
    workflow_line,
)
from cards.text import THUMBNAIL_CONTENT_TYPE, fmt_number, plain, plural, shorten
from cards.verbs import PILOT_STATUS, execute
from governance.lead import needs_confirmation
from governance.model import DecisionKind, GateDecision, Metric
from governance.views import PilotStatus

HISTORY_ROWS: Final = 6


def status_card(status: PilotStatus) -> AdaptiveCard:
    pilot = status.pilot
    sponsor = sponsor_label(pilot, "unknown")
    body: list[CardElement] = [
        heading(plain(pilot.name)),
        text(
            plain(f"{stage_label(pilot.stage)} · Sponsor: {sponsor} · Started {pilot.start_date}"),
            subtle=True,
            spacing="None",
        ),
    ]
    if pilot.is_draft:
        body += _draft(status)
    else:
        body += primary_metric(status.primary)
        body += trend(status.primary)
        if len(status.metrics) > 1:
            body.append(section("Other metrics"))
            body.append(facts((view.metric.name, metric_summary(view)) for view in status.metrics[1:]))
        body += _checkins(status)
        body += _adoption_and_spend(status)
    body += _workflow(status)
    body += governance_block(status)
    if not pilot.is_draft:
        body += _gate(status)
    show_again = {"pilotId": pilot.id}
    actions: list[Action] = [execute("Refresh", PILOT_STATUS, show_again)]
    correct = correct_action(pilot, status.correctable)  # the server checks who presses (sponsor, lead or admin)
    if correct is not None:
        actions.append(correct)
    # The card refreshes itself when shown: a status card pasted into a chat from the message extension, or an old
    # one scrolled back to, shows today's numbers.
    return build(body, actions, full_width=True, refresh=execute("Refresh", PILOT_STATUS, show_again))


def status_preview(status: PilotStatus) -> dict[str, Any]:
    """The small card a message-extension result list shows for a pilot: name, stage, gate and what needs attention.

    A Bot Framework thumbnail card: Teams formats only its ``text``, which holds no user text; the name is the title,
    which Teams shows as typed.
    """
    pilot = status.pilot
    # flags() names a gate passed without a decision itself; otherwise the gate phrase says where the gate is.
    gate = [] if status.gate_passed_undecided_days or pilot.is_draft else [gate_phrase(status)]
    line = " · ".join([*gate, *flags(status)])
    return {
        "contentType": THUMBNAIL_CONTENT_TYPE,
        "content": {"title": pilot.name, "subtitle": stage_label(pilot.stage), "text": line[:1].upper() + line[1:]},
    }


SKIPS_SHOWN = 3  # the latest skipped months on the status card, with their reasons


def _draft(status: PilotStatus) -> list[CardElement]:
    """A draft initiative: what it still lacks; no metric, check-ins or gate until its sponsor completes it."""
    pilot = status.pilot
    elements: list[CardElement] = [
        section("Draft initiative"),
        text("No check-ins or gate until its sponsor completes it.", subtle=True, spacing="None"),
    ]
    if pilot.draft_gaps:
        elements.append(text(plain(draft_gaps_line(pilot)), color="Attention"))
    if pilot.sponsor_email and not pilot.sponsor.aad_object_id:
        elements.append(
            text(plain(f"Sponsor {pilot.sponsor_email} is not known to PilotGate yet: an admin resolves it."))
        )
    return elements


def _workflow(status: PilotStatus) -> list[CardElement]:
    pilot = status.pilot
    line = text(plain(workflow_line(pilot.workflow)), color="Attention" if pilot.workflow_gap else None)
    elements: list[CardElement] = [section("Workflow integration"), line]
    if pilot.workflow_gap:
        elements.append(text(f"Flagged: {WORKFLOW_GAP_FLAG}.", color="Attention", spacing="None"))
    return elements


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
        line = f"The check-in for {status.due_period} is due."
        if status.checkin.remind_on is not None:
            line += f" The sponsor is away: reminder on {status.checkin.remind_on.isoformat()}."
        elements.append(text(plain(line), color="Accent"))
    elif status.checkin.skipped and status.checkin.period is not None:
        skipped = f"The check-in for {status.checkin.period} was skipped: {status.checkin.skip_reason}"
        elements.append(text(plain(shorten(skipped, MAX_FREE_TEXT)), color="Accent"))
    answered = {r.period for r in status.readings}
    skips = [h for h in status.pilot.checkin_holds if h.skipped and h.period not in answered]
    if skips:
        listed = "; ".join(f"{period_label(h.period)} ({shorten(h.reason, 80)})" for h in skips[-SKIPS_SHOWN:])
        elements.append(text(plain(f"Skipped months: {listed}."), subtle=True, spacing="Small"))
    if not status.readings:
        elements.append(text("No check-ins yet.", subtle=True))
        return elements
    metric: Metric = status.primary.metric
    recent = status.readings[-HISTORY_ROWS:][::-1]
    elements.append(
        facts(
            (
                str(r.period),
                f"{HEALTH_LABEL[r.status]} · {fmt_number(r.values.get(metric.name), metric.unit)}"
                + (" (corrected)" if r.corrected else ""),
            )
            for r in recent
        )
    )
    earlier = len(status.readings) - len(recent)
    if earlier:
        elements.append(text(f"{earlier:,} more earlier.", subtle=True, spacing="Small"))
    last = status.last_checkin
    waiting = [r for r in recent if needs_confirmation(status.pilot, r)]
    if waiting:
        months = ", ".join(str(r.period) for r in waiting)
        who = sponsor_label(status.pilot)
        elements.append(text(plain(f"Sent by the lead, not yet confirmed by {who}: {months}."), subtle=True))
    if last is not None and last.blockers:
        elements.append(text(plain(f"Blockers ({last.period}): {shorten(last.blockers, MAX_FREE_TEXT)}")))
    return elements


def _adoption_and_spend(status: PilotStatus) -> list[CardElement]:
    pilot = status.pilot
    period = status.last_checkin.period if status.last_checkin else None
    spend = spend_line(status.spend_this_period, pilot.budget_monthly)
    if status.spend_this_period is None and pilot.budget_monthly is not None:
        spend += f" (budget {fmt_number(pilot.budget_monthly)} a month)"
    users = users_line(status.active_users, pilot.intended_users)
    if status.active_users is None and pilot.intended_users:
        users += f" (goal {fmt_number(pilot.intended_users)})"
    rows = [(f"Spend ({period})" if period else "Spend", spend)]
    if any(r.spend is not None for r in status.readings):
        rows.append(("Total spend", fmt_number(status.total_spend)))
    rows.append((f"Active users ({period})" if period else "Active users", users))
    elements: list[CardElement] = [section("Adoption and spend"), facts(rows)]
    if status.over_budget:
        elements.append(text("Spend is over the monthly budget.", color="Attention", spacing="Small"))
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
