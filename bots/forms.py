"""Card submissions: Teams sends every input as a string; these models turn them into domain drafts.

Errors are keyed by the card's input ids so the form can show each one next to its field.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cards.pilot_form import INPUT_IDS
from governance.checkin import parse_number
from governance.errors import ValidationFailed
from governance.model import Direction, Metric, Person, ScalePlan
from governance.rules import PilotDraft, clean_text, default_gate_date


def form_values(data: dict[str, Any]) -> dict[str, str]:
    """The submitted inputs as strings (what the form shows again when something is wrong)."""
    return {key: str(data[key]) for key in INPUT_IDS if data.get(key) is not None}


def _number(raw: str, field: str, errors: dict[str, str], *, required: bool, money: bool = False) -> float | None:
    try:
        value = parse_number(raw, money=money)
    except ValueError:
        errors[field] = f"'{raw.strip()[:20]}' is not a number."
        return None
    if value is None and required:
        errors[field] = "Enter a number."
    return value


def _date(raw: str, field: str, errors: dict[str, str]) -> date | None:
    text = raw.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        errors[field] = "Use a date like 2026-12-01."
        return None


def parse_new_pilot(values: dict[str, str], sponsor_name: str, today: date) -> PilotDraft:
    """A PilotDraft from the new-pilot form, or ValidationFailed keyed by input id."""
    errors: dict[str, str] = {}
    name = clean_text(values.get("name", ""))
    if not name:
        errors["name"] = "Give the pilot a name."
    metric_name = clean_text(values.get("metricName", ""))
    if not metric_name:
        errors["metricName"] = "Name the success metric, e.g. 'Handling time'."
    baseline = _number(values.get("metricBaseline", ""), "metricBaseline", errors, required=True)
    target = _number(values.get("metricTarget", ""), "metricTarget", errors, required=True)
    direction_raw = values.get("metricDirection", "").strip().lower()
    direction = Direction(direction_raw) if direction_raw in {d.value for d in Direction} else None
    if direction is None:
        errors["metricDirection"] = "Choose whether the metric should go up or down."
    start = _date(values.get("startDate", ""), "startDate", errors) or today
    gate = _date(values.get("gateDate", ""), "gateDate", errors) or default_gate_date(start)
    sponsor_id = values.get("sponsor", "").strip().lower()
    if not sponsor_id:
        errors["sponsor"] = "Choose the executive sponsor."
    budget = _number(values.get("budgetMonthly", ""), "budgetMonthly", errors, required=False, money=True)
    users = _number(values.get("intendedUsers", ""), "intendedUsers", errors, required=False)
    if users is not None and users != int(users):
        errors["intendedUsers"] = "Enter a whole number of people."
    if errors:
        raise ValidationFailed(errors)
    assert baseline is not None and target is not None and direction is not None
    return PilotDraft(
        name=name,
        sponsor=Person(sponsor_id, sponsor_name),
        metrics=(Metric(metric_name, clean_text(values.get("metricUnit", "")), baseline, target, direction),),
        start_date=start,
        gate_date=gate,
        timezone=values.get("timezone", "").strip() or "UTC",
        budget_monthly=budget,
        intended_users=int(users) if users is not None else None,
        scale_plan=ScalePlan(clean_text(values.get("scaleExpand", "")), clean_text(values.get("scaleRetire", ""))),
    )
