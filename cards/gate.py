"""The gate card: everything a go/no-go needs on one card, and from the gate day on the four decisions.

Before the gate day the card is a reminder. From the gate day on, the people who may decide (the sponsor and the
governance admins: governance.services.may_change) see four ``Action.ShowCard`` buttons (Go, Narrow scope, Extend,
Retire); each opens that decision's inputs and an ``Action.Execute`` with verb ``gate.decide`` and data
``{pilotId, gateDate, kind}``. Input ids (``DECISION_INPUTS``) are unique across the four forms (the official parser
rejects a duplicate id anywhere in the card). Teams sends the inputs of the opened form (and of the card around it)
with the action.

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
from datetime import date, timedelta
from typing import Final

from microsoft_teams.cards import (
    Action,
    AdaptiveCard,
    CardElement,
    DateInput,
    ShowCardAction,
    TextInput,
)
from microsoft_teams.cards.core import ActionStyle, TextColor

from cards.elements import CARD_BUDGET, build, facts, heading, section, text
from cards.pieces import (
    DECISION_LABEL,
    MAX_FREE_TEXT,
    MAX_LABEL_NAME,
    cost_drift_text,
    governance_block,
    kept_text,
    metric_summary,
    milestone_label,
    money,
    period_label,
    primary_metric,
    projection_basis,
    spend_line,
    sponsor_label,
    trend,
    users_line,
    with_error,
)
from cards.text import card_size, fmt_number, plain, plural, shorten
from cards.verbs import GATE_DECIDE, GATE_VIEW, PILOT_STATUS, execute, refresh
from governance.checkin import checkins_answered
from governance.decisions import (
    ACCESS_REVOKED,
    ARCHIVED,
    CUT_SCOPE,
    EXPANSION_DATE,
    EXPANSION_SCOPE,
    LESSONS,
    NEW_GATE_DATE,
    RATIONALE,
    REASON,
    RETIREMENT_DATE,
)
from governance.model import DecisionKind, Direction, GateDecision, Pilot
from governance.projections import CostDrift, Projection, SpendProjection
from governance.rules import MAX_TEXT, target_met
from governance.views import GateView, PilotStatus

# Decision field -> the card input that holds it, per kind. Ids are unique across the four decision forms because
# all four sit in one card.
DECISION_INPUTS: Final[dict[DecisionKind, dict[str, str]]] = {
    DecisionKind.GO: {RATIONALE: "goRationale", EXPANSION_SCOPE: "goScope", EXPANSION_DATE: "goDate"},
    DecisionKind.NARROW: {RATIONALE: "narrowRationale", CUT_SCOPE: "narrowScope", NEW_GATE_DATE: "narrowGateDate"},
    DecisionKind.EXTEND: {RATIONALE: "extendRationale", NEW_GATE_DATE: "extendGateDate", REASON: "extendReason"},
    DecisionKind.RETIRE: {
        RATIONALE: "retireRationale",
        RETIREMENT_DATE: "retireDate",
        ARCHIVED: "retireArchived",
        ACCESS_REVOKED: "retireAccess",
        LESSONS: "retireLessons",
    },
}
# Where each kind's form shows problems with the decision as a whole (which kind, a second extension).
DECISION_GENERAL_INPUT: Final[dict[DecisionKind, str]] = {kind: f"{kind.value}Decision" for kind in DecisionKind}


def decision_errors(kind: DecisionKind, problems: Mapping[str, str]) -> dict[str, str]:
    """The domain's problems (keyed by decision field) keyed by the inputs of ``kind``'s form."""
    inputs = DECISION_INPUTS[kind]
    return {inputs.get(field, DECISION_GENERAL_INPUT[kind]): message for field, message in problems.items()}


BUTTON_TITLE: Final[dict[DecisionKind, str]] = {
    DecisionKind.GO: "Go",
    DecisionKind.NARROW: "Narrow scope",
    DecisionKind.EXTEND: "Extend",
    DecisionKind.RETIRE: "Retire",
}
RECORD_STYLE: Final[dict[DecisionKind, ActionStyle]] = {
    DecisionKind.GO: "positive",
    DecisionKind.NARROW: "default",
    DecisionKind.EXTEND: "default",
    DecisionKind.RETIRE: "destructive",
}
MAX_DETAIL: Final = 300
KIND_VALUE: Final = "kind"


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
        body += _decision(decided)
    elif decision_enabled and may_decide:
        body += _decision_prompt(status, values, errors)
        actions = [_decision_form(kind, status, values, errors, keep=keep) for kind in DecisionKind]
    elif decision_enabled:
        body += _read_only_prompt(status)
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
    answered, due = checkins_answered(status.pilot, (r.period for r in status.readings), status.checkin.now)
    line = f"{answered} of {plural(due, 'check-in')} answered" if due else "No check-in was due yet"
    if status.last_checkin is not None:
        line += f"; the latest is for {period_label(status.last_checkin.period)}"
    color: TextColor | None = "Attention" if due and answered < due else None
    return [section("Check-ins"), text(plain(line + "."), color=color)]


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
        line += f"; the latest reading ({fmt_number(view.latest, metric.unit)}) meets it."
    else:
        line += f"; the latest reading ({fmt_number(view.latest, metric.unit)}) does not yet."
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


def _decision(decision: GateDecision) -> list[CardElement]:
    who = shorten(decision.decided_by.name, MAX_LABEL_NAME) or decision.decided_by.aad_object_id
    rows = [
        ("Decision", DECISION_LABEL[decision.kind]),
        ("Decided by", f"{who} on {decision.decided_at.date().isoformat()}"),
        ("Gate", decision.gate_date.isoformat()),
    ]
    if decision.new_gate_date is not None:
        rows.append(("New gate", decision.new_gate_date.isoformat()))
    if decision.effective_date is not None:
        label = "Production follow-up" if decision.kind is DecisionKind.GO else "Retires on"
        rows.append((label, decision.effective_date.isoformat()))
    labels = {
        EXPANSION_SCOPE: "Expands",
        CUT_SCOPE: "Cut",
        REASON: "Extra time for",
        ARCHIVED: "Archived",
        ACCESS_REVOKED: "Access revoked",
        LESSONS: "Lessons learned",
    }
    rows += [(labels.get(key, key), shorten(value, MAX_DETAIL)) for key, value in decision.details.items() if value]
    return [
        section("Decision"),
        text(plain(f"Rationale: {shorten(decision.rationale, MAX_FREE_TEXT)}")),
        facts(rows),
    ]


def _failed_kind(values: Mapping[str, str], errors: Mapping[str, str]) -> DecisionKind | None:
    """Which decision form a failed submission came from: the action's ``kind``, else the inputs in error."""
    raw = values.get(KIND_VALUE)
    if isinstance(raw, str) and raw.strip().lower() in {kind.value for kind in DecisionKind}:
        return DecisionKind(raw.strip().lower())
    for kind in DecisionKind:
        if any(key in errors for key in (*DECISION_INPUTS[kind].values(), DECISION_GENERAL_INPUT[kind])):
            return kind
    return None


def _decision_prompt(status: PilotStatus, values: Mapping[str, str], errors: Mapping[str, str]) -> list[CardElement]:
    pilot = status.pilot
    elements: list[CardElement] = [
        section("Decision"),
        text(
            plain(
                f"{_decider(pilot)} (or a governance admin) decides: go to production, narrow the scope, extend "
                f"the pilot{' once more (admins only)' if pilot.extensions else ' once'} or retire it. "
                "Open a decision below; a rationale is required."
            )
        ),
    ]
    if errors:
        kind = _failed_kind(values, errors)
        where = f"open {BUTTON_TITLE[kind]} again" if kind is not None else "open the decision again"
        elements.append(
            text(f"The decision was not recorded: {where}, the problems are marked there.", color="Attention")
        )
        elements += [text(plain(problem), color="Attention", spacing="None") for problem in errors.values()]
    return elements


def _read_only_prompt(status: PilotStatus) -> list[CardElement]:
    pilot = status.pilot
    return [
        section("Decision"),
        text(
            plain(
                f"Decisions are open: {_decider(pilot)} (or a governance admin) decides whether the pilot goes to "
                "production, narrows its scope, is extended or retires. They see the decision forms on this card; "
                "if they do not, Decide opens them."
            )
        ),
    ]


def _decision_form(
    kind: DecisionKind,
    status: PilotStatus,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    *,
    keep: int,
) -> ShowCardAction:
    pilot = status.pilot
    today = status.today
    ids = DECISION_INPUTS[kind]

    def kept(field: str, default: str = "") -> str | None:
        return kept_text(values.get(ids[field]), keep) or (shorten(default, max(keep, MAX_DETAIL)) or None)

    def text_input(field: str, label: str, *, required: bool = False, default: str = "") -> list[CardElement]:
        input_id = ids[field]
        problem = errors.get(input_id)
        element = TextInput(
            id=input_id,
            label=label,
            value=kept(field, default),
            is_multiline=True,
            max_length=MAX_TEXT,
            is_required=required or None,
            error_message=problem or ("This is needed." if required else None),
        )
        return with_error(element, problem)

    def date_input(field: str, label: str, earliest: date) -> list[CardElement]:
        input_id = ids[field]
        problem = errors.get(input_id)
        raw = values.get(input_id)
        element = DateInput(
            id=input_id,
            label=label,
            value=raw if isinstance(raw, str) and _is_date(raw) else None,
            min=earliest.isoformat(),
            is_required=True,
            error_message=problem or f"{label}: pick a date.",
        )
        return with_error(element, problem)

    body: list[CardElement] = []
    general = errors.get(DECISION_GENERAL_INPUT[kind])
    if general:
        body.append(text(plain(general), color="Attention"))
    body += text_input(RATIONALE, "Rationale: why this decision?", required=True)
    gate = pilot.gate_date
    if kind is DecisionKind.GO:
        body += text_input(
            EXPANSION_SCOPE,
            "What expands to production",
            required=True,
            default=pilot.scale_plan.expand,
        )
        body += date_input(EXPANSION_DATE, "Production follow-up date", today)
    elif kind is DecisionKind.NARROW:
        body += text_input(CUT_SCOPE, "What is cut from the pilot", required=True)
        body += date_input(NEW_GATE_DATE, "New gate date", today + timedelta(days=1))
    elif kind is DecisionKind.EXTEND:
        if pilot.extensions:
            body.append(
                text(
                    plain(f"Already extended {_times(pilot.extensions)}: only a governance admin can extend again."),
                    color="Warning",
                )
            )
        body += date_input(NEW_GATE_DATE, f"New gate date (after {gate})", max(today, gate) + timedelta(days=1))
        body += text_input(REASON, "What the extra time must show (optional)")
    else:
        body += date_input(RETIREMENT_DATE, "Retirement date", max(today, gate))
        body += text_input(ARCHIVED, "What is archived (prompts, data, reports)")
        body += text_input(ACCESS_REVOKED, "Which access is revoked")
        body += text_input(LESSONS, "Lessons learned")
    record = execute(
        f"Record: {BUTTON_TITLE[kind]}",
        GATE_DECIDE,
        {"pilotId": pilot.id, "gateDate": gate.isoformat(), KIND_VALUE: kind.value},
        style=RECORD_STYLE[kind],
    )
    return ShowCardAction(title=BUTTON_TITLE[kind], card=AdaptiveCard(body=body, actions=[record]))


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def _is_date(raw: str) -> bool:
    try:
        date.fromisoformat(raw.strip()[:10])
    except ValueError:
        return False
    return True


def decision_summary_text(pilot: Pilot, decision: GateDecision) -> str:
    """One line for the project channel (markdown; user text escaped, line breaks folded)."""
    name = plain(pilot.name)
    details = decision.details
    if decision.kind is DecisionKind.GO:
        what = f"Go: to production ({_one_line(details.get(EXPANSION_SCOPE, ''), 120)})"
        if decision.effective_date:
            what += f", follow-up on {decision.effective_date}"
    elif decision.kind is DecisionKind.NARROW:
        what = f"Narrowed ({_one_line(details.get(CUT_SCOPE, ''), 120)} cut), new gate {decision.new_gate_date}"
    elif decision.kind is DecisionKind.EXTEND:
        what = f"Extended, new gate {decision.new_gate_date}"
    else:
        what = f"Retire on {decision.effective_date}"
    who = decision.decided_by.name or "an admin"
    return (
        f"**{name}** gate {decision.gate_date}: {what}. Decided by {plain(who)} on "
        f"{decision.decided_at.date()}. Rationale: {_one_line(decision.rationale, 200)}"
    )


def _one_line(value: str, limit: int) -> str:
    return plain(shorten(" ".join(value.split()), limit))


def cost_drift_card(pilot: Pilot, drift: CostDrift) -> AdaptiveCard:
    """The one cost-drift alert for a period in the project channel, with spend so far and by the gate."""
    spend = drift.projection
    body: list[CardElement] = [
        heading(plain(f"Cost drift: {pilot.name}"), size="Medium"),
        text(plain(cost_drift_text(drift, pilot.gate_date.isoformat())), color="Attention"),
    ]
    if spend.projected_total is not None:
        rows = [
            ("Spent so far", money(round(spend.spent, 2))),
            ("Projected by the gate", money(round(spend.projected_total))),
        ]
        if spend.budget_total is not None:
            rows.append(("Total budget", money(round(spend.budget_total))))
        body.append(facts(rows))
    body.append(
        text(
            plain(
                f"Reported in the {period_label(drift.period)} check-in. The gate on {pilot.gate_date} will weigh it."
            ),
            subtle=True,
            spacing="Small",
        )
    )
    return build(body, [execute("Show status", PILOT_STATUS, {"pilotId": pilot.id})])
