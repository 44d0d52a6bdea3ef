"""The `new pilot` form and the summary that replaces it once the pilot is registered.

Input ids are stable: the bot reads the submission by these ids (Teams sends every value as a string) and maps the
domain's field errors back onto them with ``form_errors``. Each problem is shown as an attention TextBlock right
under its input (always visible) and as the input's ``errorMessage`` (shown by Teams' own client-side checks).

Sponsor: for admins, Teams' people picker: an ``Input.ChoiceSet`` with ``choices.data`` (``Data.Query`` over
``graph.microsoft.com/users``), which searches the organization's directory and returns Entra object ids. Teams
draws it in 1.5 cards; the official JS parser only knows it from 1.6 on, so the card tests accept exactly this one
extension and nothing else. The same input keeps static choices (the asker, then the people the bot knows from team
rosters): clients without the picker show those. Anyone else can only sponsor their own pilots: a static choice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

from microsoft_teams.cards import (
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    Column,
    ColumnSet,
    DateInput,
    NumberInput,
    TextInput,
)
from microsoft_teams.cards.core import ChoiceSetInputStyle, QueryData

from cards.elements import build, facts, heading, section, text
from cards.inputs import parse_date
from cards.pieces import (
    MAX_LABEL_NAME,
    SURFACE_LABEL,
    draft_gaps_line,
    governance_label,
    kept_number,
    sponsor_label,
    with_error,
    workflow_line,
)
from cards.text import fmt_number, plain, plural, shorten
from cards.verbs import PILOT_COMPLETE, PILOT_CREATE, PILOT_STATUS, execute
from governance.model import GOVERNANCE_ITEMS, CheckinRecipient, Integration, Pilot, WorkSurface
from governance.portfolio import Reach
from governance.rules import GATE_DAYS, MAX_NAME, MAX_SHORT_TEXT, MAX_SYSTEM, MAX_TEXT, default_gate_date

PEOPLE_DATASET: Final = "graph.microsoft.com/users"  # Teams' people picker (Data.Query)
MAX_SPONSORS: Final = 100  # keeps the form well under Teams' 28 KB
MAX_LEADS: Final = 30  # with the sponsors' 100, still under 28 KB; admins search the directory for anyone else

INPUT_IDS: Final = (
    "name",
    "metricName",
    "metricUnit",
    "metricBaseline",
    "metricTarget",
    "metricDirection",
    "startDate",
    "gateDate",
    "sponsor",
    "timezone",
    "country",
    "budgetMonthly",
    "intendedUsers",
    "scaleExpand",
    "scaleRetire",
    "workflowSurface",
    "workflowSystem",
    "workflowIntegrated",
    "governanceDone",
    "lead",
    "checkinRecipient",
)

# Domain error paths (governance.rules, camelCase like the REST API) -> the input that shows the problem.
FORM_FIELDS: Final[dict[str, str]] = {
    "name": "name",
    "sponsor": "sponsor",
    "metrics": "metricName",
    "metrics[0].name": "metricName",
    "metrics[0].unit": "metricUnit",
    "metrics[0].baseline": "metricBaseline",
    "metrics[0].target": "metricTarget",
    "metrics[0].direction": "metricDirection",
    "startDate": "startDate",
    "gateDate": "gateDate",
    "timezone": "timezone",
    "country": "country",
    "budgetMonthly": "budgetMonthly",
    "intendedUsers": "intendedUsers",
    "scalePlan.expand": "scaleExpand",
    "scalePlan.retire": "scaleRetire",
    "workflow": "workflowSurface",
    "workflow.surface": "workflowSurface",
    "workflow.system": "workflowSystem",
    "workflow.integrated": "workflowIntegrated",
    "governance": "governanceDone",
    "lead": "lead",
    "checkinRecipient": "checkinRecipient",
}

GOVERNANCE_CHOICES: Final = tuple((item, governance_label(item)) for item in GOVERNANCE_ITEMS)
SURFACE_CHOICES: Final = tuple((surface.value, SURFACE_LABEL[surface]) for surface in WorkSurface)
INTEGRATION_CHOICES: Final = (
    (Integration.YES.value, "Yes, built into it"),
    (Integration.PARTLY.value, "Partly"),
    (Integration.NO.value, "No"),
)

NO_LEAD: Final = "none"  # the lead input's first choice: a choice set needs at least one, and no lead is common
RECIPIENT_CHOICES: Final = (
    (CheckinRecipient.SPONSOR.value, "The sponsor"),
    (CheckinRecipient.BOTH.value, "The sponsor and the lead"),
    (CheckinRecipient.LEAD.value, "The lead, instead of the sponsor"),
)
RECIPIENT_LABEL: Final = {CheckinRecipient(value): label for value, label in RECIPIENT_CHOICES}

DIRECTION_CHOICES: Final = (
    ("increase", "Increase (higher is better)"),
    ("decrease", "Decrease (lower is better)"),
)


def form_errors(domain_errors: Mapping[str, str]) -> dict[str, str]:
    """Domain field errors keyed by input id; a problem with no input of its own is kept under its own path."""
    out: dict[str, str] = {}
    for path, message in domain_errors.items():
        key = FORM_FIELDS.get(path, path)
        out[key] = f"{out[key]} {message}" if key in out else message
    return out


def new_pilot_form(
    values: Mapping[str, str],
    errors: Mapping[str, str],
    sponsor_name: str,
    sponsor_id: str,
    today: date,
    others: Sequence[tuple[str, str]] = (),
    *,
    people_picker: bool = False,
    completing: Pilot | None = None,
    leads: Sequence[tuple[str, str]] | None = None,
) -> AdaptiveCard:
    """The form, filled with ``values`` (as Teams sent them) and each problem in ``errors`` next to its input.

    ``others`` are (Entra object id, name) of other people who may be chosen as sponsor (at most MAX_SPONSORS);
    ``people_picker`` (admins) adds Teams' directory search to that choice and to the lead's. ``leads`` are the people
    anyone may name as the pilot's lead (default: ``others``). ``completing`` is a draft initiative this form
    completes (the same form, prefilled with ``draft_values``; its button completes that draft)."""
    start = _parse_date(values.get("startDate")) or today
    field = _Fields(values, errors)
    title = f"Complete the draft: {completing.name}" if completing is not None else "Register a pilot"
    body: list[CardElement] = [heading(plain(title))]
    if completing is not None and completing.draft_gaps:
        body.append(text(plain(draft_gaps_line(completing)), color="Accent", spacing="None"))
    general = {key: message for key, message in errors.items() if key not in INPUT_IDS}
    if errors:
        body.append(text("Some values need fixing: see the notes under the fields.", color="Attention"))
    body += [text(plain(message), color="Attention", spacing="Small") for message in general.values()]
    body += field.text("name", "Pilot name", required=True, max_length=MAX_NAME, placeholder="e.g. Invoice triage")
    body.append(section("Success metric"))
    body += field.text(
        "metricName", "Metric", required=True, max_length=MAX_SHORT_TEXT, placeholder="e.g. Handling time"
    )
    body += field.text("metricUnit", "Unit", max_length=20, placeholder="e.g. min, %, tickets")
    body.append(
        ColumnSet(
            columns=[
                Column(width="stretch", items=field.number("metricBaseline", "Baseline (today)", required=True)),
                Column(width="stretch", items=field.number("metricTarget", "Target", required=True)),
            ]
        )
    )
    body += field.choice("metricDirection", "Direction", DIRECTION_CHOICES, required=True)
    body.append(section("Owner and dates"))
    sponsors = (
        (sponsor_id, f"{sponsor_name or 'You'} (you)"),
        *(
            (person_id, shorten(name, MAX_LABEL_NAME))
            for person_id, name in others[:MAX_SPONSORS]
            if person_id != sponsor_id
        ),
    )
    body += field.choice(
        "sponsor",
        "Executive sponsor" + (" (search the directory)" if people_picker else ""),
        sponsors,
        required=True,
        default=sponsor_id,
        style="filtered" if people_picker or len(sponsors) > 5 else "compact",
        directory=people_picker,
    )
    # Anyone may name a lead (their chief of staff, say) from the people the bot knows; admins search the directory.
    lead_choices = tuple(
        (person_id, shorten(name, MAX_LABEL_NAME))
        for person_id, name in (others if leads is None else leads)
        if person_id != sponsor_id
    )[:MAX_LEADS]
    body += field.choice(
        "lead",
        "Pilot lead (optional): answers check-ins for the sponsor"
        + (" (search the directory)" if people_picker else ""),
        ((NO_LEAD, "No lead"), *lead_choices),
        default=NO_LEAD,
        style="filtered" if people_picker or len(lead_choices) > 4 else "compact",
        directory=people_picker,
    )
    body += field.choice(
        "checkinRecipient",
        "Who gets the monthly check-in",
        RECIPIENT_CHOICES,
        required=True,
        default=CheckinRecipient.SPONSOR.value,
    )
    body += field.date("startDate", "Start date", default=today.isoformat())
    body += field.date(
        "gateDate",
        f"Gate date (default: start + {GATE_DAYS} days)",
        default=default_gate_date(start).isoformat(),
    )
    body += field.text("timezone", "Time zone (IANA)", default="UTC", placeholder="e.g. Europe/Berlin")
    body += field.text(
        "country",
        "Public holidays of (country code, optional)",
        max_length=8,
        placeholder="e.g. US, GB, DE; blank: your organisation's default",
    )
    body.append(section("Budget, adoption and scale plan"))
    body += field.number("budgetMonthly", "Monthly budget (optional)", minimum=0)
    body += field.number("intendedUsers", "Intended users (optional)", minimum=1)
    body += field.text("scaleExpand", "If the metric hits target, what expands?", multiline=True, max_length=MAX_TEXT)
    body += field.text("scaleRetire", "If it misses, what retires?", multiline=True, max_length=MAX_TEXT)
    body.append(section("Workflow integration"))
    body += field.choice("workflowSurface", "Where do its users work?", SURFACE_CHOICES)
    body += field.text(
        "workflowSystem", "Which system", max_length=MAX_SYSTEM, placeholder="e.g. ServiceNow, SAP, Outlook"
    )
    body += field.choice("workflowIntegrated", "Is the pilot built into it?", INTEGRATION_CHOICES)
    body.append(section("Governance checklist"))
    body += field.checklist("governanceDone", "Done so far", GOVERNANCE_CHOICES)
    if completing is not None:
        action = execute("Complete the pilot", PILOT_COMPLETE, {"pilotId": completing.id}, style="positive")
        return build(body, [action])
    return build(body, [execute("Create pilot", PILOT_CREATE, style="positive")])


def draft_form(
    pilot: Pilot, today: date, values: Mapping[str, str] | None = None, errors: Mapping[str, str] | None = None
) -> AdaptiveCard:
    """The card a draft's sponsor gets (and is nudged with): the registration form, prefilled, completing it."""
    return new_pilot_form(
        values if values is not None else draft_values(pilot),
        errors or {},
        pilot.sponsor.name or "Me",
        pilot.sponsor.aad_object_id,
        today,
        completing=pilot,
    )


def draft_values(pilot: Pilot) -> dict[str, str]:
    """A draft's known fields as the form's input values (Teams' strings), to prefill the completion form."""
    values = {"name": pilot.name, "startDate": pilot.start_date.isoformat(), "gateDate": pilot.gate_date.isoformat()}
    if pilot.sponsor.aad_object_id:
        values["sponsor"] = pilot.sponsor.aad_object_id
    if pilot.metrics:
        metric = pilot.primary_metric
        values |= {
            "metricName": metric.name,
            "metricUnit": metric.unit,
            "metricBaseline": _number_text(metric.baseline),
            "metricTarget": _number_text(metric.target),
            "metricDirection": metric.direction.value,
        }
    if pilot.timezone:
        values["timezone"] = pilot.timezone
    if pilot.budget_monthly is not None:
        values["budgetMonthly"] = _number_text(pilot.budget_monthly)
    if pilot.intended_users is not None:
        values["intendedUsers"] = str(pilot.intended_users)
    if pilot.scale_plan.expand:
        values["scaleExpand"] = pilot.scale_plan.expand
    if pilot.scale_plan.retire:
        values["scaleRetire"] = pilot.scale_plan.retire
    done = [item for item in GOVERNANCE_ITEMS if pilot.governance.get(item)]
    if done:
        values["governanceDone"] = ",".join(done)
    if pilot.workflow is not None:
        values |= {
            "workflowSurface": pilot.workflow.surface.value,
            "workflowSystem": pilot.workflow.system,
            "workflowIntegrated": pilot.workflow.integrated.value,
        }
    return {key: value for key, value in values.items() if value}


class _Fields:
    """Builds each input with its kept value and, right under it, its problem if there is one."""

    def __init__(self, values: Mapping[str, str], errors: Mapping[str, str]) -> None:
        self.values = values
        self.errors = errors

    def _with_error(self, input_id: str, element: CardElement) -> list[CardElement]:
        return with_error(element, self.errors.get(input_id))

    def _message(self, input_id: str, label: str) -> str:
        return self.errors.get(input_id) or f"{label}: this value is needed."

    def text(
        self,
        input_id: str,
        label: str,
        *,
        required: bool = False,
        multiline: bool = False,
        max_length: int | None = None,
        placeholder: str | None = None,
        default: str | None = None,
    ) -> list[CardElement]:
        value = self.values.get(input_id, default)
        element = TextInput(
            id=input_id,
            label=label,
            value=value or None,
            placeholder=placeholder,
            is_multiline=multiline or None,
            max_length=max_length,
            is_required=required or None,
            error_message=self._message(input_id, label) if required or input_id in self.errors else None,
        )
        return self._with_error(input_id, element)

    def number(
        self, input_id: str, label: str, *, required: bool = False, minimum: float | None = None
    ) -> list[CardElement]:
        element = NumberInput(
            id=input_id,
            label=label,
            # Input.Number can only hold a number: a value that does not parse is dropped and its error explains.
            value=kept_number(self.values.get(input_id)),
            min=minimum,
            is_required=required or None,
            error_message=self._message(input_id, label) if required or input_id in self.errors else None,
        )
        return self._with_error(input_id, element)

    def date(self, input_id: str, label: str, *, default: str) -> list[CardElement]:
        kept = self.values.get(input_id)
        element = DateInput(
            id=input_id,
            label=label,
            value=kept if _parse_date(kept) else default,
            is_required=True,
            error_message=self._message(input_id, label),
        )
        return self._with_error(input_id, element)

    def checklist(self, input_id: str, label: str, choices: tuple[tuple[str, str], ...]) -> list[CardElement]:
        """Several choices ticked at once; Teams sends them comma-separated."""
        known = {value for value, _ in choices}
        kept = ",".join(v for v in (self.values.get(input_id) or "").split(",") if v in known)
        element = ChoiceSetInput(
            id=input_id,
            label=label,
            style="expanded",
            is_multi_select=True,
            choices=[Choice(title=title, value=value) for value, title in choices],
            value=kept or None,
            error_message=self.errors.get(input_id),
        )
        return self._with_error(input_id, element)

    def choice(
        self,
        input_id: str,
        label: str,
        choices: tuple[tuple[str, str], ...],
        *,
        required: bool = False,
        default: str | None = None,
        style: ChoiceSetInputStyle = "compact",
        directory: bool = False,
    ) -> list[CardElement]:
        """``directory``: Teams' people picker over the organization, the static ``choices`` as the fallback."""
        known = {value for value, _ in choices}
        kept = self.values.get(input_id)
        element = ChoiceSetInput(
            id=input_id,
            label=label,
            style=style,
            choices=[Choice(title=title, value=value) for value, title in choices],
            choices_data=QueryData(dataset=PEOPLE_DATASET) if directory else None,
            # A person picked from the directory is not among the static choices; Teams shows their name.
            value=kept if kept and (kept in known or directory) else default,
            placeholder="Choose",
            is_required=required or None,
            error_message=self._message(input_id, label) if required or input_id in self.errors else None,
        )
        return self._with_error(input_id, element)


def _number_text(value: float) -> str:
    """A stored number as the form's input holds it, without losing digits (``1234567``, ``0.25``)."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def _parse_date(raw: str | None) -> date | None:
    try:
        return parse_date(raw or "")
    except ValueError:
        return None


REACH_NOTE: Final[dict[Reach, str]] = {
    Reach.CHAT: "",
    Reach.ROSTER: "PilotGate will open a 1:1 chat with the sponsor for the first check-in (they share a team with it).",
    Reach.NONE: (
        "PilotGate cannot reach the sponsor yet: ask them to install PilotGate in Teams. "
        "Until they do, governance admins see them under overdue."
    ),
}


def pilot_created_card(pilot: Pilot, reach: Reach = Reach.CHAT) -> AdaptiveCard:
    """A read-only summary that replaces the form once the pilot is registered; ``reach`` says honestly whether
    the sponsor's check-ins can reach them."""
    metric = pilot.primary_metric
    rows = [
        ("Sponsor", sponsor_label(pilot, "picked from the directory (name not known to PilotGate yet)")),
        (
            "Metric",
            f"{metric.name}: {fmt_number(metric.baseline, metric.unit)} to {fmt_number(metric.target, metric.unit)} "
            f"({metric.direction.value})",
        ),
        ("Start", pilot.start_date.isoformat()),
        ("Gate", f"{pilot.gate_date} ({plural((pilot.gate_date - pilot.start_date).days, 'day')} after start)"),
        ("Time zone", pilot.timezone),
        *((("Lead", pilot.lead.name or "picked from the directory"),) if pilot.lead is not None else ()),
        ("Check-ins go to", RECIPIENT_LABEL[pilot.checkin_recipient]),
        ("Public holidays", pilot.country or "the organisation's default"),
        ("Monthly budget", fmt_number(pilot.budget_monthly) if pilot.budget_monthly is not None else "not set"),
        ("Intended users", fmt_number(pilot.intended_users) if pilot.intended_users is not None else "not set"),
        ("Workflow", workflow_line(pilot.workflow)),
    ]
    if pilot.scale_plan.expand:
        rows.append(("If met", shorten(pilot.scale_plan.expand, 300)))
    if pilot.scale_plan.retire:
        rows.append(("If missed", shorten(pilot.scale_plan.retire, 300)))
    gaps = [governance_label(item) for item in pilot.governance_gaps]
    body: list[CardElement] = [
        heading(plain(f"Pilot registered: {pilot.name}")),
        text("The sponsor gets a check-in card every month and a reminder before the gate.", subtle=True),
        facts(rows),
    ]
    if gaps:
        body.append(text(plain(f"Governance checklist still open: {', '.join(gaps)}."), color="Accent"))
    if REACH_NOTE[reach]:
        body.append(text(REACH_NOTE[reach], color="Warning" if reach is Reach.NONE else None))
    return build(body, [execute("Show status", PILOT_STATUS, {"pilotId": pilot.id})])
