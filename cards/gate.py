"""The gate card: everything a go/no-go needs on one card, and from the gate day on the four decisions.

Before the gate day the card is a reminder. From the gate day on, the people who may decide (the sponsor and the
governance admins: governance.services.may_change) see four ``Action.ShowCard`` buttons (Go, Narrow scope, Extend,
Retire); each opens that decision's inputs and an ``Action.Execute`` with verb ``gate.decide`` and data
``{pilotId, gateDate, kind}``. The forms and their input ids are in cards.decision. Teams sends the inputs of the
opened form (and of the card around it) with the action.

Per-user views (Universal Actions). The card as posted is the read-only view: anyone in a channel can read it, so it
carries no decision forms. It carries a ``refresh`` (verb ``gate.view``, data ``{pilotId, gateDate}``) for the Teams
ids of the sponsor and the admins, so Teams asks the bot for their own view when they look at it, and the bot
answers the decision view to them and the read-only view to anyone else. Teams refreshes automatically for at most
60 users: with more deciders the sponsor comes first and the rest use the read-only view's "Decide" button (the
same verb, pressed), which answers the decision view to someone who may decide and a refusal to anyone else. The
server checks who decides on every ``gate.decide`` all the same. A decided gate is the same card for everyone and
has no refresh.

A form refilled after a failed submission carries no refresh, so an automatic refresh cannot wipe what was typed.
A refreshed card closes every form, so after a failed submission the problems are listed at the top as well as
next to their inputs inside the form, whose values are kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
)
from microsoft_teams.cards.core import TextColor

from cards.decision import MAX_DETAIL, decided_section, decision_form, decision_prompt, read_only_prompt
from cards.elements import CARD_BUDGET, build, facts, heading, section, text
from cards.pieces import (
    MAX_FREE_TEXT,
    governance_block,
    latest_value,
    metric_summary,
    milestone_label,
    period_label,
    primary_metric,
    projection_basis,
    spend_line,
    sponsor_label,
    trend,
    users_line,
)
from cards.text import card_size, fmt_number, plain, plural, shorten
from cards.verbs import GATE_VIEW, PILOT_STATUS, execute, refresh
from governance.checkin import checkins_answered, checkins_skipped
from governance.model import DecisionKind, Direction, GateDecision, Pilot
from governance.projections import Projection, SpendProjection
from governance.rules import MAX_TEXT, target_met
from governance.views import GateView, PilotStatus


def gate_card(
    view: GateView,
    milestone_key: str | None = None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    *,
    may_decide: bool = False,
    refresh_for: Sequence[str] = (),
) -> AdaptiveCard:
    """The gate card of ``view`` (a pilot's current gate, or the earlier gate a card was about).

    While decisions are open (from the gate day on) it carries the four decision forms when ``may_decide`` (the
    viewer is the sponsor or an admin), else the read-only view with a "Decide" button. A decided gate shows the
    recorded decision instead, with no actions. ``refresh_for``: the Teams user ids (``29:...``) of the deciders,
    sponsor first; an undecided card carries a refresh for them (the first 60). ``values``/``errors`` (keyed by
    input id) refill a failed submission.
    """
    return render_gate_card(
        view.status,
        view.projection,
        view.spend,
        milestone_key,
        view.decisions_open,
        view.decided,
        values,
        errors,
        may_decide=may_decide,
        refresh_for=refresh_for,
    )


def render_gate_card(
    status: PilotStatus,
    projection: Projection,
    spend_projection: SpendProjection,
    milestone_key: str | None,
    decision_enabled: bool,
    decided: GateDecision | None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    *,
    may_decide: bool = False,
    refresh_for: Sequence[str] = (),
) -> AdaptiveCard:
    """The card from its parts. Kept under Teams' size limit: if the full card is too large, a compact one (no
    chart, shorter texts, kept values cut and then dropped) is sent."""
    for compact, keep in ((False, MAX_TEXT), (True, MAX_DETAIL), (True, 0)):
        card = _gate_card(
            status,
            projection,
            spend_projection,
            milestone_key,
            decision_enabled,
            decided,
            values or {},
            errors or {},
            may_decide=may_decide,
            refresh_for=refresh_for,
            compact=compact,
            keep=keep,
        )
        if card_size(card) <= CARD_BUDGET:
            break
    return card  # the last try is compact and keeps no submitted text


def _gate_card(
    status: PilotStatus,
    projection: Projection,
    spend_projection: SpendProjection,
    milestone_key: str | None,
    decision_enabled: bool,
    decided: GateDecision | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    *,
    may_decide: bool,
    refresh_for: Sequence[str],
    compact: bool,
    keep: int,
) -> AdaptiveCard:
    pilot = status.pilot
    gate = decided.gate_date if decided is not None else pilot.gate_date
    ref = {"pilotId": pilot.id, "gateDate": gate.isoformat()}
    body: list[CardElement] = [heading(plain(_title(status, decided))), *_subtitle(status, milestone_key, gate)]
    body += primary_metric(status.primary)
    if not compact:
        body += trend(status.primary)
    body += _projection(status, projection, gate)
    if len(status.metrics) > 1:
        body.append(section("Other metrics"))
        body.append(facts((shorten(view.metric.name, 60), metric_summary(view)) for view in status.metrics[1:]))
    body += _checkins(status)
    body += _adoption_and_spend(status, spend_projection)
    body += governance_block(status)
    body += _criteria(status, gate, compact=compact)
    actions: list[Action] = []
    if decided is not None:
        body += decided_section(decided)
    elif decision_enabled and may_decide:
        body += decision_prompt(status, values, errors)
        actions = [decision_form(kind, status, values, errors, keep=keep) for kind in DecisionKind]
    elif decision_enabled:
        body += read_only_prompt(status)
        actions = [
            execute("Decide", GATE_VIEW, ref, style="positive"),
            execute("Show status", PILOT_STATUS, {"pilotId": pilot.id}),
        ]
    else:
        body.append(section("Decision"))
        body.append(
            text(
                plain(
                    f"This is a reminder. On the gate day ({gate}) this card carries the decision: go, narrow scope, "
                    f"extend or retire. {_decider(pilot)} decides."
                )
            )
        )
        actions = [execute("Show status", PILOT_STATUS, {"pilotId": pilot.id})]
    card = build(body, actions, full_width=True)
    # Each decider's own view while undecided. With more than 60 deciders Teams refreshes only for the first 60
    # (refresh() keeps those, sponsor first); the others press Decide. With none known (no 1:1 chat, no roster
    # entry) there is no refresh: in a channel Teams refreshes only for the userIds named. A refilled form has
    # none either: a refresh would wipe what was typed.
    if decided is None and refresh_for and not values and not errors:
        card = card.with_refresh(refresh(GATE_VIEW, ref, refresh_for))
    return card


def _decider(pilot: Pilot) -> str:
    return sponsor_label(pilot)


def _title(status: PilotStatus, decided: GateDecision | None) -> str:
    name = status.pilot.name
    if decided is not None:
        return f"Gate decided: {name}"
    days = status.days_to_gate
    if days > 0:
        return f"Gate in {plural(days, 'day')}: {name}"
    if days == 0:
        return f"Gate day: {name}"
    return f"Gate passed {plural(-days, 'day')} ago, no decision: {name}"


def _subtitle(status: PilotStatus, milestone_key: str | None, gate: date) -> list[CardElement]:
    pilot = status.pilot
    parts = [milestone_label(milestone_key)] if milestone_key else []
    parts += [f"Gate {gate}", f"Decides: {_decider(pilot)} (sponsor) or a governance admin"]
    elements: list[CardElement] = [text(plain(" · ".join(parts)), subtle=True, spacing="None")]
    if status.gate_passed_undecided_days:
        elements.append(
            text(
                plain(
                    f"The gate passed {plural(status.gate_passed_undecided_days, 'day')} ago with no decision: the "
                    "pilot is in purgatory until someone decides. A reminder follows every week."
                ),
                color="Attention",
            )
        )
    return elements


def _projection(status: PilotStatus, projection: Projection, gate: date) -> list[CardElement]:
    metric = status.primary.metric
    if projection.value is None:
        return [
            text(plain(f"No projection for the gate: {projection_basis(projection)}"), subtle=True, spacing="Small")
        ]
    verdict = "meets" if target_met(metric, projection.value) else "misses"
    return [
        text(
            plain(
                f"Projected for the gate ({gate}): {fmt_number(round(projection.value, 2), metric.unit)}, which "
                f"{verdict} the target of {fmt_number(metric.target, metric.unit)}. "
                f"Confidence: {projection.confidence}."
            ),
            color="Good" if verdict == "meets" else "Warning",
            spacing="Small",
        ),
        text(plain(projection_basis(projection)), subtle=True, spacing="None"),
    ]


def _checkins(status: PilotStatus) -> list[CardElement]:
    periods = [r.period for r in status.readings]
    answered, due = checkins_answered(status.pilot, periods, status.checkin.now)
    skipped = checkins_skipped(status.pilot, periods, status.checkin.now)
    line = f"{answered} of {plural(due, 'check-in')} answered" if due else "No check-in was due yet"
    if skipped:
        line += f", {len(skipped)} skipped"
    if status.last_checkin is not None:
        line += f"; the latest is for {period_label(status.last_checkin.period)}"
        line += " (corrected)" if status.last_checkin.corrected else ""
    color: TextColor | None = "Attention" if due and answered + len(skipped) < due else None
    elements: list[CardElement] = [section("Check-ins"), text(plain(line + "."), color=color)]
    if skipped:
        reasons = "; ".join(f"{period_label(h.period)}: {shorten(h.reason, 80)}" for h in skipped[-3:])
        elements.append(text(plain(f"Skipped: {reasons}."), subtle=True, spacing="Small"))
    return elements


def _adoption_and_spend(status: PilotStatus, spend: SpendProjection) -> list[CardElement]:
    pilot = status.pilot
    period = status.last_checkin.period if status.last_checkin else None
    users = users_line(status.active_users, pilot.intended_users)
    monthly = spend_line(status.spend_this_period, pilot.budget_monthly).removesuffix(": over budget")
    rows = [
        (f"Active users ({period})" if period else "Active users", users),
        (f"Spend ({period})" if period else "Spend", monthly),
        ("Spent so far", fmt_number(spend.spent)),
        ("Projected by the gate", _projected(spend)),
    ]
    elements: list[CardElement] = [section("Adoption and spend"), facts(rows)]
    if spend.over_budget or status.over_budget:
        elements.append(text("Spend is running over budget.", color="Attention", spacing="Small"))
    return elements


def _projected(spend: SpendProjection) -> str:
    if spend.projected_total is None:
        return "no spend reported yet"
    projected = fmt_number(round(spend.projected_total))
    if spend.budget_total is not None:
        projected += f" of {fmt_number(round(spend.budget_total))} total budget"
        if spend.over_budget:
            projected += ": over budget"
    return projected


def _criteria(status: PilotStatus, gate: date, *, compact: bool) -> list[CardElement]:
    pilot = status.pilot
    view = status.primary
    metric = view.metric
    better = "or higher" if metric.direction is Direction.INCREASE else "or lower"
    line = f"Go if {metric.name} reaches {fmt_number(metric.target, metric.unit)} {better} by {gate}"
    if view.latest is None:
        line += "; there is no reading yet."
    elif view.met:
        line += f"; the latest reading ({latest_value(view)}) meets it."
    else:
        line += f"; the latest reading ({latest_value(view)}) does not yet."
    elements: list[CardElement] = [section("Go/no-go criteria and scale plan"), text(plain(line))]
    limit = 120 if compact else MAX_FREE_TEXT
    plan = pilot.scale_plan
    rows = [(label, shorten(value, limit)) for label, value in (("If met", plan.expand), ("If missed", plan.retire))]
    rows = [(label, value) for label, value in rows if value]
    if rows:
        elements.append(facts(rows))
    else:
        elements.append(text("No scale plan recorded: say in the rationale what expands or retires.", subtle=True))
    return elements
