"""The quarterly audit's cards: the sponsor's attestation card per initiative, and the admin's audit board.

Pure functions of the audit (governance.quarterly_audit); user text goes through plain(). The board refreshes itself
in place (verb ``audit.view``) and carries every admin action: accept or change each recommendation, accept all,
close.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Final

from microsoft_teams.cards import (
    Action,
    ActionSet,
    AdaptiveCard,
    CardElement,
    Choice,
    ChoiceSetInput,
    DateInput,
    NumberInput,
    ShowCardAction,
    TextInput,
)

from cards.elements import build, facts, heading, section, text
from cards.pieces import governance_label, kept_number, kept_text, with_error
from cards.text import fmt_number, plain, shorten
from cards.verbs import (
    AUDIT_ACCEPT_ALL,
    AUDIT_ATTEST,
    AUDIT_ATTESTATION,
    AUDIT_CLOSE,
    AUDIT_DECIDE,
    AUDIT_VIEW,
    execute,
    refresh,
)
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
    AuditItem,
    AuditStatus,
    ItemState,
    Outcome,
    QuarterlyAudit,
    Recommendation,
    governance_states,
)

PAGE_SIZE: Final = 8
MAX_NAMES: Final = 12  # initiatives named under each gap; the rest are counted
INTEGRATION_CHOICES: Final = (
    (Integration.YES.value, "Yes: people use it inside the tools they already work in"),
    (Integration.PARTLY.value, "Partly"),
    (Integration.NO.value, "No: it lives outside real work"),
)
STATE_CHOICES: Final = (
    (ItemState.DONE.value, "Done"),
    (ItemState.IN_PROGRESS.value, "In progress"),
    (ItemState.NOT_STARTED.value, "Not started"),
)
RECOMMENDATION_CHOICES: Final = tuple((r.value, r.label) for r in Recommendation)
OUTCOME_LABEL: Final = {
    Outcome.DECIDED: "recorded as its gate decision",
    Outcome.DECIDED_AT_GATE: "its gate was decided meanwhile; that decision stands",
    Outcome.NOT_A_PILOT: "no longer a pilot: nothing to decide",
    Outcome.DRAFT: "still a draft: no gate to decide",
}


def governance_input_id(item: str) -> str:
    return f"gov_{item}"


def decide_input_ids(pilot_id: str) -> tuple[str, str, str]:
    """The board's recommendation, date and note inputs for one initiative (unique in the card)."""
    return f"rec_{pilot_id}", f"date_{pilot_id}", f"note_{pilot_id}"


def _ref(audit: QuarterlyAudit, item: AuditItem | None = None) -> dict[str, str]:
    data = {"auditId": audit.id}
    return data | ({"pilotId": item.pilot_id} if item is not None else {})


def _choices(choices: Sequence[tuple[str, str]]) -> list[Choice]:
    return [Choice(title=title, value=value) for value, title in choices]


# -- the sponsor's card -------------------------------------------------------------------------------------------


def attestation_card(
    audit: QuarterlyAudit,
    item: AuditItem,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    *,
    reminder: bool = False,
) -> AdaptiveCard:
    """Confirm or correct the metric, baseline, target and target date; the integration; each governance item;
    and recommend fund, narrow or retire with a date. Filled with what PilotGate knows."""
    values = values or {}
    errors = errors or {}
    if item.attestation is not None:
        return attested_card(audit, item)
    metric = item.metric
    body: list[CardElement] = [heading(f"Quarterly audit {audit.quarter}: {plain(item.name)}")]
    if reminder:
        body.append(text("A reminder: your attestation is still missing.", color="Warning", weight="Bolder"))
    body.append(
        text(
            "The governance office is auditing every AI initiative this quarter. Confirm or correct what PilotGate "
            "knows, say where governance stands, and recommend what should happen next, with a date.",
            subtle=True,
        )
    )
    body.append(section("Success metric"))
    body += with_error(
        TextInput(
            id=METRIC_NAME,
            label="Metric",
            value=kept_text(values.get(METRIC_NAME), 200) or (metric.name if metric else None),
            max_length=200,
            is_required=True,
            error_message="Name the success metric.",
        ),
        errors.get(METRIC_NAME),
    )
    for field, label, known in (
        (
            BASELINE,
            f"Baseline{f' ({plain(metric.unit)})' if metric and metric.unit else ''}",
            metric.baseline if metric else None,
        ),
        (TARGET, "Target", metric.target if metric else None),
    ):
        kept = kept_number(values.get(field))
        body += with_error(
            NumberInput(
                id=field,
                label=label,
                value=kept if kept is not None else known,
                is_required=True,
                error_message="Enter a number.",
            ),
            errors.get(field),
        )
    body += with_error(
        DateInput(
            id=TARGET_DATE,
            label="Target date (when the target should be met)",
            value=_date_value(values.get(TARGET_DATE)) or (item.gate_date.isoformat() if item.gate_date else None),
            is_required=True,
            error_message="Pick the target date.",
        ),
        errors.get(TARGET_DATE),
    )
    body.append(section("Workflow integration"))
    body += with_error(
        ChoiceSetInput(
            id=INTEGRATION,
            label="Is it integrated into the way people already work?",
            style="expanded",
            choices=_choices(INTEGRATION_CHOICES),
            value=values.get(INTEGRATION) or (item.integration.value if item.integration else None),
            is_required=True,
            error_message="Choose yes, partly or no.",
        ),
        errors.get(INTEGRATION),
    )
    body.append(section("Governance"))
    defaults = governance_states(item.governance)
    for gov in GOVERNANCE_ITEMS:
        input_id = governance_input_id(gov)
        body += with_error(
            ChoiceSetInput(
                id=input_id,
                label=governance_label(gov),
                style="compact",
                choices=_choices(STATE_CHOICES),
                value=values.get(input_id) or defaults[gov].value,
                is_required=True,
                error_message="Say where this item stands.",
            ),
            errors.get(input_id) or errors.get(gov),
        )
    body.append(section("Your recommendation"))
    body += with_error(
        ChoiceSetInput(
            id=RECOMMENDATION,
            label="What should happen next?",
            style="expanded",
            choices=_choices(RECOMMENDATION_CHOICES),
            value=values.get(RECOMMENDATION) or None,
            is_required=True,
            error_message="Choose fund, narrow or retire.",
        ),
        errors.get(RECOMMENDATION),
    )
    body += with_error(
        DateInput(
            id=RECOMMENDED_DATE,
            label="By when (production date, new gate date, or retirement date)",
            value=_date_value(values.get(RECOMMENDED_DATE)),
            is_required=True,
            error_message="Pick the date.",
        ),
        errors.get(RECOMMENDED_DATE),
    )
    body += with_error(
        TextInput(
            id=NOTE,
            label="Note (optional): scope, conditions, why",
            value=kept_text(values.get(NOTE), MAX_NOTE),
            max_length=MAX_NOTE,
            is_multiline=True,
        ),
        errors.get(NOTE),
    )
    if audit.status is not AuditStatus.OPEN:
        return build([*body[:1], text("This audit is closed: attestations are no longer taken.", subtle=True)])
    card = build(body, [execute("Attest", AUDIT_ATTEST, _ref(audit, item), style="positive")])
    # In the sponsor's 1:1 chat: whenever they look at it, Teams asks for its state (attested, closed, or the form).
    card.refresh = refresh(AUDIT_ATTESTATION, _ref(audit, item))
    return card


def attested_card(audit: QuarterlyAudit, item: AuditItem) -> AdaptiveCard:
    attestation = item.attestation
    body: list[CardElement] = [heading(f"Quarterly audit {audit.quarter}: {plain(item.name)}")]
    if attestation is None:
        return build([*body, text("Not attested yet.")])
    body.append(text(f"Attested by {plain(attestation.by.name or 'the sponsor')}. Thank you.", color="Good"))
    body.append(
        facts(
            [
                ("Metric", attestation.metric_name),
                ("Baseline", fmt_number(attestation.baseline)),
                ("Target", f"{fmt_number(attestation.target)} by {attestation.target_date.isoformat()}"),
                ("Integrated", attestation.integration.value),
                (
                    "Recommendation",
                    f"{attestation.recommendation.label} by {attestation.recommended_date.isoformat()}",
                ),
            ]
        )
    )
    if audit.status is AuditStatus.OPEN:
        body.append(
            text("You can attest again from a reminder while the audit is open; the latest counts.", subtle=True)
        )
    return build(body)


def _date_value(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip()[:10]).isoformat()
    except ValueError:
        return None


# -- the admin's board --------------------------------------------------------------------------------------------


def audit_board_card(
    audit: QuarterlyAudit,
    page: int = 1,
    errors: Mapping[str, str] | None = None,
    *,
    notice: str = "",
    refresh_for: Sequence[str] | None = None,
) -> AdaptiveCard:
    """The attested count, the gaps grouped, each initiative's recommendation and decision; an admin's actions."""
    errors = errors or {}
    items = audit.items
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = min(max(1, page), pages)
    is_open = audit.status is AuditStatus.OPEN
    decided = sum(1 for item in items if item.decision is not None)
    body: list[CardElement] = [heading(f"Quarterly audit {audit.quarter}")]
    if notice:
        body.append(text(plain(notice), color="Good"))
    for key in ("audit", *(k for k in errors if k not in ("audit",))):
        if key in errors and not key.startswith(("rec_", "date_", "note_")):
            body.append(text(plain(errors[key]), color="Attention"))
    state = "open" if is_open else f"closed {audit.closed_at.date().isoformat() if audit.closed_at else ''}".strip()
    body.append(
        facts(
            [
                ("Status", state),
                ("Opened", f"{audit.opened_at.date().isoformat()} by {audit.opened_by.name or 'an admin'}"),
                ("Attested", f"{audit.attested} of {len(items)} by their sponsors"),
                ("Decided", f"{decided} of {len(items)}"),
            ]
        )
    )
    body.append(section("Gaps"))
    gaps = audit.gaps
    if not gaps:
        body.append(text("None found.", subtle=True))
    else:
        rows = []
        for gap, with_gap in gaps.items():
            shown = ", ".join(shorten(item.name, 60) for item in with_gap[:MAX_NAMES])
            more = f" and {len(with_gap) - MAX_NAMES} more" if len(with_gap) > MAX_NAMES else ""
            rows.append((f"{gap.label} ({len(with_gap)})", f"{shown}{more}"))
        body.append(facts(rows))
    body.append(section(f"Initiatives (page {page} of {pages})"))
    for item in items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
        body += _item_rows(audit, item, is_open, errors, page)
    actions = []
    if page > 1:
        actions.append(execute("Previous page", AUDIT_VIEW, {**_ref(audit), "page": str(page - 1)}))
    if page < pages:
        actions.append(execute("Next page", AUDIT_VIEW, {**_ref(audit), "page": str(page + 1)}))
    if is_open:
        actions.append(execute("Accept all attested", AUDIT_ACCEPT_ALL, {**_ref(audit), "page": str(page)}))
        actions.append(execute("Close audit", AUDIT_CLOSE, {**_ref(audit), "page": str(page)}, style="destructive"))
    card = build(body, actions, full_width=True)
    card.refresh = refresh(AUDIT_VIEW, {**_ref(audit), "page": str(page)}, refresh_for)
    return card


def _item_rows(
    audit: QuarterlyAudit, item: AuditItem, is_open: bool, errors: Mapping[str, str], page: int
) -> list[CardElement]:
    attestation = item.attestation
    status = "attested" if attestation else ("not attested" if item.reachable else "not attested, sponsor unreachable")
    rows: list[CardElement] = [
        text(
            f"{plain(shorten(item.name, 120))} · {plain(shorten(item.sponsor.name or 'sponsor', 80))} · {status}",
            weight="Bolder",
            separator=True,
        )
    ]
    if attestation is not None:
        line = f"Sponsor recommends: {attestation.recommendation.label} by {attestation.recommended_date.isoformat()}"
        rows.append(
            text(line + (f". {plain(shorten(attestation.note, 200))}" if attestation.note else ""), subtle=True)
        )
    if item.decision is not None:
        how = "accepted" if item.decision.accepted else "changed"
        rows.append(
            text(
                f"Decision ({how}): {item.decision.recommendation.label} by {item.decision.on.isoformat()}",
                weight="Bolder",
            )
        )
    if item.outcome is not None:
        rows.append(text(f"Outcome: {OUTCOME_LABEL[item.outcome]}", subtle=True))
    if item.pilot_id in errors:
        rows.append(text(plain(errors[item.pilot_id]), color="Attention"))
    if not is_open or item.is_draft:
        return rows
    rec_id, date_id, note_id = decide_input_ids(item.pilot_id)
    data = {**_ref(audit, item), "page": str(page)}
    form: list[CardElement] = [
        ChoiceSetInput(
            id=rec_id,
            label="Decision",
            style="compact",
            choices=_choices(RECOMMENDATION_CHOICES),
            value=item.recommendation[0].value if item.recommendation else None,
        ),
    ]
    form += with_error(
        DateInput(
            id=date_id,
            label="Date",
            value=item.recommendation[1].isoformat() if item.recommendation else None,
        ),
        errors.get(date_id),
    )
    form += with_error(TextInput(id=note_id, label="Note", max_length=MAX_NOTE), errors.get(note_id))
    change = ShowCardAction(
        title="Change" if attestation else "Decide",
        card=AdaptiveCard(body=form, actions=[execute("Record", AUDIT_DECIDE, data)]),
    )
    buttons: list[Action] = [change]
    if attestation is not None and item.decision is None:
        buttons.insert(0, execute("Accept", AUDIT_DECIDE, {**data, "accept": "1"}, style="positive"))
    rows.append(ActionSet(actions=buttons))
    return rows
