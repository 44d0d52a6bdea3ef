"""The gate decision: go, narrow, extend or retire, checked against the pilot and today, and what it changes.

Errors are keyed by the decision's own field names (``rationale``, ``newGateDate``, ``kind`` for the decision as a
whole); the card maps them onto its inputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from governance.errors import GateAlreadyDecided, ValidationFailed
from governance.localtime import local_date
from governance.model import DecisionKind, GateDecision, Person, Pilot, Stage
from governance.rules import MAX_TEXT

RATIONALE: Final = "rationale"
EXPANSION_SCOPE: Final = "expansionScope"
EXPANSION_DATE: Final = "expansionDate"
CUT_SCOPE: Final = "cutScope"
NEW_GATE_DATE: Final = "newGateDate"
REASON: Final = "reason"
RETIREMENT_DATE: Final = "retirementDate"
ARCHIVED: Final = "archived"
ACCESS_REVOKED: Final = "accessRevoked"
LESSONS: Final = "lessons"
KIND: Final = "kind"  # errors about the decision as a whole (which kind, a second extension)

MAX_GATE_SPAN_DAYS: Final = 730  # as rules.validate_pilot: a gate within two years of the start
MAX_DATE_AHEAD_DAYS: Final = 730


@dataclass(frozen=True, slots=True)
class DecisionDraft:
    kind: DecisionKind
    rationale: str
    expansion_scope: str = ""
    expansion_date: date | None = None
    cut_scope: str = ""
    new_gate_date: date | None = None
    reason: str = ""
    retirement_date: date | None = None
    archived: str = ""
    access_revoked: str = ""
    lessons: str = ""


def draft_problems(draft: DecisionDraft) -> dict[str, str]:
    """Required fields and text lengths, keyed by field."""
    errors: dict[str, str] = {}
    if not draft.rationale:
        errors[RATIONALE] = "Give a rationale: why this decision, in a sentence or two."
    required: dict[DecisionKind, dict[str, tuple[object, str]]] = {
        DecisionKind.GO: {
            EXPANSION_SCOPE: (draft.expansion_scope, "Say what expands, e.g. 'all AP clerks in EMEA'."),
            EXPANSION_DATE: (draft.expansion_date, "Pick the production follow-up date."),
        },
        DecisionKind.NARROW: {
            CUT_SCOPE: (draft.cut_scope, "Say what is cut from the pilot."),
            NEW_GATE_DATE: (draft.new_gate_date, "Pick the new gate date for the narrowed pilot."),
        },
        DecisionKind.EXTEND: {NEW_GATE_DATE: (draft.new_gate_date, "Pick the new gate date.")},
        DecisionKind.RETIRE: {RETIREMENT_DATE: (draft.retirement_date, "Pick the retirement date.")},
    }
    for field, (value, message) in required[draft.kind].items():
        if value is None or value == "":
            errors[field] = message
    texts = {
        RATIONALE: draft.rationale,
        EXPANSION_SCOPE: draft.expansion_scope,
        CUT_SCOPE: draft.cut_scope,
        REASON: draft.reason,
        ARCHIVED: draft.archived,
        ACCESS_REVOKED: draft.access_revoked,
        LESSONS: draft.lessons,
    }
    for field, value in texts.items():
        if len(value) > MAX_TEXT:
            errors[field] = f"Keep this under {MAX_TEXT:,} characters (now {len(value):,})."
    return errors


def _date_problems(
    pilot: Pilot, draft: DecisionDraft, actor_is_admin: bool, allow_more_extensions: bool, today: date
) -> dict[str, str]:
    errors: dict[str, str] = {}
    latest = today + timedelta(days=MAX_DATE_AHEAD_DAYS)
    gate = pilot.gate_date
    if draft.kind is DecisionKind.GO and draft.expansion_date is not None:
        if draft.expansion_date < today:
            errors[EXPANSION_DATE] = f"The follow-up date has passed: pick {today.isoformat()} or later."
        elif draft.expansion_date > latest:
            errors[EXPANSION_DATE] = "Pick a follow-up date within two years."
    if draft.kind in (DecisionKind.EXTEND, DecisionKind.NARROW) and draft.new_gate_date is not None:
        new_gate = draft.new_gate_date
        key = NEW_GATE_DATE
        if new_gate <= today:
            errors[key] = f"The new gate date must be after today ({today.isoformat()})."
        elif draft.kind is DecisionKind.EXTEND and new_gate <= gate:
            errors[key] = f"An extension moves the gate later: pick a date after {gate.isoformat()}."
        elif (new_gate - pilot.start_date).days > MAX_GATE_SPAN_DAYS:
            errors[key] = "The gate must stay within two years of the pilot's start."
    if draft.kind is DecisionKind.EXTEND and pilot.extensions >= 1 and not (actor_is_admin and allow_more_extensions):
        times = "once" if pilot.extensions == 1 else f"{pilot.extensions} times"
        errors[KIND] = (
            f"This pilot was already extended {times}. Another extension needs a governance admin: "
            "decide go, narrow or retire, or ask an admin."
        )
    if draft.kind is DecisionKind.RETIRE and draft.retirement_date is not None:
        key = RETIREMENT_DATE
        if draft.retirement_date < today:
            errors[key] = f"The retirement date has passed: pick {today.isoformat()} or later."
        elif draft.retirement_date < gate:
            errors[key] = f"The retirement date can't be before the gate ({gate.isoformat()})."
        elif draft.retirement_date > latest:
            errors[key] = "Pick a retirement date within two years."
    return errors


def apply_decision(
    pilot: Pilot,
    draft: DecisionDraft,
    actor_is_admin: bool,
    allow_more_extensions: bool,
    today: date,
    decided_by: Person,
    now: datetime,
) -> tuple[Pilot, GateDecision]:
    """Check the decision against the pilot and today, and return the changed pilot and the decision record.

    ValidationFailed (keyed by field) for bad input; GateAlreadyDecided when the pilot left the pilot stages.
    Whether the actor may decide at all (sponsor or admin) and whether this gate already has a stored decision
    are the service's checks.
    """
    if not pilot.stage.is_active:
        raise GateAlreadyDecided(f"{pilot.name} is no longer a pilot ({pilot.stage.value}): its gate was decided.")
    errors = {**draft_problems(draft), **_date_problems(pilot, draft, actor_is_admin, allow_more_extensions, today)}
    if errors:
        raise ValidationFailed(errors)
    details: dict[str, str]
    new_gate: date | None = None
    effective: date | None = None
    if draft.kind is DecisionKind.GO:
        details = {EXPANSION_SCOPE: draft.expansion_scope}
        effective = draft.expansion_date
    elif draft.kind is DecisionKind.NARROW and draft.new_gate_date is not None:
        details = {CUT_SCOPE: draft.cut_scope}
        new_gate = draft.new_gate_date
    elif draft.kind is DecisionKind.EXTEND and draft.new_gate_date is not None:
        details = {REASON: draft.reason} if draft.reason else {}
        new_gate = draft.new_gate_date
    elif draft.kind is DecisionKind.RETIRE:
        pairs = ((ARCHIVED, draft.archived), (ACCESS_REVOKED, draft.access_revoked), (LESSONS, draft.lessons))
        details = {key: value for key, value in pairs if value}
        effective = draft.retirement_date
    else:  # unreachable: _draft_problems requires the new gate date of narrow and extend
        raise ValidationFailed({KIND: "This decision is incomplete."})
    decision = GateDecision(
        pilot_id=pilot.id,
        tenant_id=pilot.tenant_id,
        gate_date=pilot.gate_date,
        kind=draft.kind,
        rationale=draft.rationale,
        decided_by=decided_by,
        decided_at=now,
        new_gate_date=new_gate,
        effective_date=effective,
        details=details,
    )
    return decision_effects(pilot, decision, now), decision


def decision_effects(pilot: Pilot, decision: GateDecision, now: datetime) -> Pilot:
    """The pilot as ``decision`` leaves it: go -> production; narrow/extend -> a new gate; retire -> retired."""
    if decision.kind is DecisionKind.GO:
        return dataclasses.replace(pilot, stage=Stage.PRODUCTION, updated_at=now)
    if decision.kind is DecisionKind.RETIRE:
        return dataclasses.replace(pilot, stage=Stage.RETIRED, updated_at=now)
    gate = decision.new_gate_date or pilot.gate_date
    if decision.kind is DecisionKind.NARROW:
        return dataclasses.replace(pilot, stage=Stage.NARROWED, gate_date=gate, updated_at=now)
    return dataclasses.replace(
        pilot, stage=Stage.EXTENDED, gate_date=gate, extensions=pilot.extensions + 1, updated_at=now
    )


def pilot_as_of(pilot: Pilot, decisions: Sequence[GateDecision], moment: datetime) -> Pilot:
    """The pilot as it stood at ``moment``: the decisions taken after it are undone (stage, gate date and number of
    extensions come from replaying the earlier ones through ``decision_effects``). Without a later decision the
    pilot is returned as it is, so a stage no decision sets (a draft) stays."""
    ordered = sorted(decisions, key=lambda d: d.decided_at)
    if not any(d.decided_at > moment for d in ordered):
        return pilot
    first_gate = ordered[0].gate_date
    replayed = dataclasses.replace(pilot, stage=Stage.PILOT, gate_date=first_gate, extensions=0)
    for decision in ordered:
        if decision.decided_at > moment:
            break
        replayed = decision_effects(replayed, decision, decision.decided_at)
    return dataclasses.replace(replayed, updated_at=pilot.updated_at)


def retirement_date(decisions: Sequence[GateDecision]) -> date | None:
    """The retirement date of the latest retire decision, for ``checkin.*(retired_on=...)``."""
    for decision in reversed(decisions):
        if decision.kind is DecisionKind.RETIRE:
            return decision.effective_date
    return None


def gate_set_on(pilot: Pilot, decisions: Sequence[GateDecision]) -> date | None:
    """The local day the current gate date was set by an extend/narrow decision (for ``due_milestone``)."""
    for decision in reversed(decisions):
        if decision.new_gate_date == pilot.gate_date:
            return local_date(decision.decided_at, pilot.timezone)
    return None
