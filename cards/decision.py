"""The gate decision on a card: the four forms (Go, Narrow scope, Extend, Retire) with their input ids, the prompt
above them, the recorded decision, and the one line the project channel gets.

Input ids (``DECISION_INPUTS``) are unique across the four forms because all four sit in one card (the official
parser rejects a duplicate id anywhere in it); the domain's problems, keyed by decision field, are mapped onto them
with ``decision_errors``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Final

from microsoft_teams.cards import AdaptiveCard, CardElement, DateInput, ShowCardAction, TextInput
from microsoft_teams.cards.core import ActionStyle

from cards.elements import facts, section, text
from cards.pieces import DECISION_LABEL, MAX_FREE_TEXT, MAX_LABEL_NAME, kept_text, sponsor_label, with_error
from cards.text import plain, shorten
from cards.verbs import GATE_DECIDE, execute
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
from governance.model import DecisionKind, GateDecision, Pilot
from governance.rules import MAX_TEXT
from governance.views import PilotStatus

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


def decided_section(decision: GateDecision) -> list[CardElement]:
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


def decision_prompt(status: PilotStatus, values: Mapping[str, str], errors: Mapping[str, str]) -> list[CardElement]:
    pilot = status.pilot
    elements: list[CardElement] = [
        section("Decision"),
        text(
            plain(
                f"{sponsor_label(pilot)} (or a governance admin) decides: go to production, narrow the scope, extend "
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


def read_only_prompt(status: PilotStatus) -> list[CardElement]:
    pilot = status.pilot
    return [
        section("Decision"),
        text(
            plain(
                f"Decisions are open: {sponsor_label(pilot)} (or a governance admin) decides whether the pilot goes to "
                "production, narrows its scope, is extended or retires. They see the decision forms on this card; "
                "if they do not, Decide opens them."
            )
        ),
    ]


def decision_form(
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
