"""Cards for workflow integration and draft initiatives (issue 12): the status card's workflow line and draft
section, the flags in `pilots` and `overdue`, and the completion form a draft's sponsor gets."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cards.pilot_form import FORM_FIELDS, INPUT_IDS, draft_form, draft_values, new_pilot_form, pilot_created_card
from cards.portfolio import overdue_card, portfolio_card
from cards.status import status_card, status_preview
from cards.submissions import NewPilotSubmission, read
from cards.text import card_json
from cards.verbs import PILOT_COMPLETE
from governance.errors import ValidationFailed
from governance.model import Integration, Person, Stage, Workflow, WorkSurface
from governance.views import PilotStatus
from tests.cards.test_cards import NOON, TODAY, healthy, make_pilot, status_of
from tests.helpers import action_verbs, card_text, inputs

STANDALONE = Workflow(WorkSurface.STANDALONE, Integration.NO, "Its own web app")
INTEGRATED = Workflow(WorkSurface.ITSM, Integration.PARTLY, "ServiceNow [x](http://y)")


def standalone() -> PilotStatus:
    return status_of(make_pilot("p-alone", "Lonely bot", workflow=STANDALONE))


def draft(name: str = "Tender drafting", **changes: Any) -> PilotStatus:
    pilot = make_pilot("p-draft", name, stage=Stage.DRAFT, metrics=(), budget_monthly=None, **changes)
    return status_of(pilot)


def unresolved() -> PilotStatus:
    return draft("Mail sorter **now**", sponsor=Person(""), sponsor_email="ceo@contoso.com")


def shown(card: Any) -> str:
    """The card's text as read, markdown escapes dropped."""
    return card_text(card_json(card)).replace("\\", "")


def initiative_cards() -> dict[str, dict[str, Any]]:
    return {
        "status-standalone": card_json(status_card(standalone())),
        "status-integrated": card_json(status_card(status_of(make_pilot(workflow=INTEGRATED)))),
        "status-draft": card_json(status_card(draft())),
        "status-draft-unresolved": card_json(status_card(unresolved())),
        "portfolio-with-drafts": card_json(portfolio_card([healthy(), standalone(), draft(), unresolved()])),
        "overdue-with-gaps": card_json(overdue_card([healthy(), standalone(), draft(), unresolved()])),
        "draft-form": card_json(draft_form(draft().pilot, TODAY)),
        "draft-form-errors": card_json(
            draft_form(draft().pilot, TODAY, {"workflowSystem": "SAP"}, {"workflowSurface": "Choose one."})
        ),
        "created-with-workflow": card_json(pilot_created_card(make_pilot(workflow=INTEGRATED))),
    }


def test_the_status_card_shows_the_workflow_and_flags_a_standalone_pilot() -> None:
    alone = shown(status_card(standalone()))
    assert "Standalone (Its own web app), not integrated" in alone and "outside the flow of work" in alone
    unknown = shown(status_card(healthy()))
    assert "Workflow integration" in unknown and "not recorded" in unknown
    assert "outside the flow of work" not in unknown


def test_a_draft_shows_what_it_lacks_and_no_metric_or_gate() -> None:
    text = shown(status_card(unresolved()))
    assert "Draft initiative" in text and "a success metric" in text and "workflow integration" in text
    assert "ceo@contoso.com is not known to PilotGate" in text
    assert "Gate Bolder" not in text and "Check-ins" not in text
    preview = status_preview(draft())["content"]
    assert preview["subtitle"] == "Draft" and "gate" not in preview["text"]


def test_pilots_and_overdue_list_drafts_and_pilots_outside_the_flow_of_work() -> None:
    rows = shown(portfolio_card([healthy(), standalone(), draft(), unresolved()]))
    assert "outside the flow of work" in rows and "draft: 3 missing" in rows and "sponsor not resolved" in rows
    overdue = shown(overdue_card([healthy(), standalone(), draft()]))
    assert "Outside the flow of work (1)" in overdue and "Lonely bot" in overdue
    assert "Drafts waiting for details (1)" in overdue and "Tender drafting" in overdue


def test_the_completion_form_is_the_registration_form_prefilled() -> None:
    pilot = replace(draft().pilot, workflow=INTEGRATED, budget_monthly=1234567.0)
    card = card_json(draft_form(pilot, TODAY))
    assert action_verbs(card) == {PILOT_COMPLETE}
    fields = inputs(card)
    assert set(fields) == set(INPUT_IDS)
    assert fields["name"]["value"] == "Tender drafting" and fields["budgetMonthly"]["value"] == 1234567
    assert fields["workflowSurface"]["value"] == "itsm" and fields["workflowIntegrated"]["value"] == "partly"
    assert draft_values(pilot)["budgetMonthly"] == "1234567"
    registration = card_json(new_pilot_form({}, {}, "Sam", "aad-1", TODAY))
    assert set(inputs(registration)) == set(INPUT_IDS)


def test_workflow_inputs_are_read_both_or_neither() -> None:
    base = {
        "name": "X",
        "metricName": "Time",
        "metricBaseline": "10",
        "metricTarget": "5",
        "metricDirection": "decrease",
        "sponsor": "aad-1",
    }
    neither = read(NewPilotSubmission, base).to_draft("Sam", TODAY)
    assert neither.workflow is None
    both = {**base, "workflowSurface": "crm", "workflowIntegrated": "yes", "workflowSystem": " Dynamics "}
    assert read(NewPilotSubmission, both).to_draft("Sam", TODAY).workflow == Workflow(
        WorkSurface.CRM, Integration.YES, "Dynamics"
    )
    for half, named in (
        ({"workflowSurface": "crm"}, "workflowIntegrated"),
        ({"workflowSystem": "SAP"}, "workflowSurface"),
        ({"workflowSurface": "telex", "workflowIntegrated": "yes"}, "workflowSurface"),
    ):
        try:
            read(NewPilotSubmission, {**base, **half}).to_draft("Sam", TODAY)
        except ValidationFailed as exc:
            assert set(exc.fields) == {named}, half
        else:
            raise AssertionError(half)
    assert FORM_FIELDS["workflow.integrated"] == "workflowIntegrated"
    assert NOON.date() == TODAY
