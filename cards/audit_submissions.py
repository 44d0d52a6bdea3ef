"""The quarterly audit's card submissions: the attestation a sponsor sends and the decisions an admin takes on the
board, from Teams' strings to domain drafts with errors keyed by input id (as cards.submissions does for the rest)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Annotated, TypeVar

from pydantic import BeforeValidator, Field, StringConstraints

from cards.submissions import CardData, PageRequest, PilotId, Text, as_text, date_field, number_field
from governance.errors import ValidationFailed
from governance.model import GOVERNANCE_ITEMS, Integration
from governance.quarterly_audit import (
    BASELINE,
    INTEGRATION,
    MAX_NOTE,
    METRIC_NAME,
    NOTE,
    RECOMMENDATION,
    RECOMMENDED_DATE,
    TARGET,
    TARGET_DATE,
    AttestationDraft,
    ItemState,
    Recommendation,
)
from governance.rules import clean_text

AuditId = Annotated[str, BeforeValidator(as_text), StringConstraints(min_length=1, max_length=200)]


class AuditRef(CardData):
    """``audit.view`` (the board's refresh and paging), ``audit.acceptAll`` and ``audit.close``."""

    audit_id: AuditId = Field(alias="auditId")
    page: Text = "1"

    @property
    def number(self) -> int:
        return PageRequest(page=self.page).number


class AttestationRef(CardData):
    """``audit.attestation``: which attestation card asks for its state (its refresh)."""

    audit_id: AuditId = Field(alias="auditId")
    pilot_id: PilotId = Field(alias="pilotId")


class AttestationSubmission(AttestationRef):
    """``audit.attest``: the sponsor's attestation card."""

    def values(self) -> dict[str, str]:
        """The inputs as the card shows them again."""
        return {key: self.text(key) for key in (self.model_extra or {}) if self.text(key)}

    def to_draft(self) -> AttestationDraft:
        """ValidationFailed keyed by the card's input ids."""
        errors: dict[str, str] = {}
        metric_name = clean_text(self.text(METRIC_NAME))
        baseline = number_field(self.text(BASELINE), BASELINE, errors, required=True)
        target = number_field(self.text(TARGET), TARGET, errors, required=True)
        target_date = date_field(self.text(TARGET_DATE), TARGET_DATE, errors)
        recommended = date_field(self.text(RECOMMENDED_DATE), RECOMMENDED_DATE, errors)
        for field, value in ((TARGET_DATE, target_date), (RECOMMENDED_DATE, recommended)):
            if value is None:
                errors.setdefault(field, "Pick a date.")
        integration = _choice(Integration, self.text(INTEGRATION), INTEGRATION, "Choose yes, partly or no.", errors)
        recommendation = _choice(
            Recommendation, self.text(RECOMMENDATION), RECOMMENDATION, "Choose fund, narrow or retire.", errors
        )
        governance: dict[str, ItemState] = {}
        for item in GOVERNANCE_ITEMS:
            input_id = f"gov_{item}"
            state = _choice(
                ItemState, self.text(input_id), input_id, "Choose done, in progress or not started.", errors
            )
            if state is not None:
                governance[item] = state
        if not metric_name:
            errors[METRIC_NAME] = "Name the success metric."
        if (
            errors
            or baseline is None
            or target is None
            or target_date is None
            or recommended is None
            or integration is None
            or recommendation is None
        ):
            raise ValidationFailed(errors or {"data": "Some answers are missing."})
        return AttestationDraft(
            metric_name=metric_name,
            baseline=baseline,
            target=target,
            target_date=target_date,
            integration=integration,
            governance=governance,
            recommendation=recommendation,
            recommended_date=recommended,
            note=clean_text(self.text(NOTE)),
        )


def attestation_errors(problems: Mapping[str, str]) -> dict[str, str]:
    """The domain's errors (governance items by their own names) keyed by the card's input ids."""
    return {(f"gov_{key}" if key in GOVERNANCE_ITEMS else key): value for key, value in problems.items()}


class AuditDecisionSubmission(AuditRef):
    """``audit.decide``: accept the sponsor's recommendation, or record another with its date and a note."""

    pilot_id: PilotId = Field(alias="pilotId")
    accept: Text = ""

    def change(self) -> tuple[Recommendation, date, str] | None:
        """None to accept; else the admin's decision; ValidationFailed keyed by the board's input ids."""
        if self.accept.strip():
            return None
        rec_id, date_id, note_id = f"rec_{self.pilot_id}", f"date_{self.pilot_id}", f"note_{self.pilot_id}"
        errors: dict[str, str] = {}
        recommendation = _choice(Recommendation, self.text(rec_id), rec_id, "Choose fund, narrow or retire.", errors)
        on = date_field(self.text(date_id), date_id, errors)
        if on is None:
            errors.setdefault(date_id, "Pick the date of this decision.")
        note = clean_text(self.text(note_id))
        if len(note) > MAX_NOTE:
            errors[note_id] = f"Keep this under {MAX_NOTE} characters."
        if errors or recommendation is None or on is None:
            raise ValidationFailed(errors)
        return recommendation, on, note


E = TypeVar("E", bound=StrEnum)


def _choice(kind: type[E], raw: str, field: str, message: str, errors: dict[str, str]) -> E | None:
    value = raw.strip()
    try:
        return kind(value)
    except ValueError:
        errors[field] = message
        return None
