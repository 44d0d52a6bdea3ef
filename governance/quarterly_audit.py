"""The quarterly honest audit: every in-flight initiative with its sponsor, attested, its gaps named, and a dated
decision for each.

Plain frozen dataclasses and pure rules. (governance.audit is the audit TRAIL of changes; this is the audit the
governance office runs once a quarter.) The service that opens, attests, decides and closes is
governance.audit_service; the sweep's attestation cards and nudges are scheduler.audits.

One audit per tenant and quarter: its id is ``<tenant>:<YYYY>-Q<n>``; ``open_key`` is ``"open"`` while it is
open and the id once closed, and the store keeps ``open_key`` unique in a tenant, so a tenant has at most one open
audit however many admins press at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Final

from governance.decisions import DecisionDraft
from governance.localtime import add_business_days, local_date, local_send_time
from governance.model import GOVERNANCE_ITEMS, DecisionKind, Direction, Integration, Metric, Person, Pilot, Stage

OPEN_KEY: Final = "open"
NUDGE_DAYS: Final = (3, 7)  # business days after the attestation card went out
DRAFT_STAGE: Final = Stage.DRAFT.value
MAX_NOTE: Final = 500


class AuditStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Recommendation(StrEnum):
    FUND = "fund"  # fund to production
    NARROW = "narrow"  # narrow scope
    RETIRE = "retire"

    @property
    def decision_kind(self) -> DecisionKind:
        return {
            Recommendation.FUND: DecisionKind.GO,
            Recommendation.NARROW: DecisionKind.NARROW,
            Recommendation.RETIRE: DecisionKind.RETIRE,
        }[self]

    @property
    def label(self) -> str:
        return {
            Recommendation.FUND: "Fund to production",
            Recommendation.NARROW: "Narrow scope",
            Recommendation.RETIRE: "Retire",
        }[self]


class ItemState(StrEnum):
    """A governance item as the sponsor attests it."""

    DONE = "done"
    IN_PROGRESS = "inProgress"
    NOT_STARTED = "notStarted"


class Gap(StrEnum):
    NO_METRIC = "noMetricOrBaseline"
    NO_INTEGRATION = "noIntegration"
    GOVERNANCE = "governanceNotConfigured"
    UNREACHABLE = "noReachableSponsor"
    DRAFT = "stillDraft"

    @property
    def label(self) -> str:
        return {
            Gap.NO_METRIC: "No metric or baseline",
            Gap.NO_INTEGRATION: "No workflow integration",
            Gap.GOVERNANCE: "Governance not configured",
            Gap.UNREACHABLE: "No reachable sponsor",
            Gap.DRAFT: "Still a draft",
        }[self]


class Outcome(StrEnum):
    """What closing the audit did with an initiative's decision."""

    DECIDED = "decided"  # recorded as a gate decision by this audit
    DECIDED_AT_GATE = "decidedAtGate"  # the gate was decided meanwhile (by its sponsor or an admin): not overridden
    NOT_A_PILOT = "notAPilot"  # in production or retired since the snapshot, or gone
    DRAFT = "draft"  # a draft has no gate to decide yet


@dataclass(frozen=True, slots=True)
class AttestationDraft:
    """An attestation as a card or a request gives it; errors are keyed by these field names (and each governance
    item's own name)."""

    metric_name: str
    baseline: float
    target: float
    target_date: date
    integration: Integration
    governance: dict[str, ItemState]
    recommendation: Recommendation
    recommended_date: date
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Attestation(AttestationDraft):
    """What the sponsor confirmed or corrected, in their own words, with their recommendation: who and when."""

    by: Person
    at: datetime


@dataclass(frozen=True, slots=True)
class AdminDecision:
    """The admin's acceptance of the recommendation, or their change of it."""

    recommendation: Recommendation
    on: date  # expansion, new gate or retirement date
    note: str
    by: Person
    at: datetime
    accepted: bool  # True: the sponsor's recommendation as attested


@dataclass(frozen=True, slots=True)
class AuditItem:
    """One initiative as the snapshot found it, and what the audit learnt and decided about it."""

    pilot_id: str
    name: str
    sponsor: Person
    stage: str
    metric: Metric | None
    gate_date: date | None
    governance: dict[str, bool]
    reachable: bool
    timezone: str = "UTC"
    integration: Integration | None = (
        None  # from the pilot's workflow (no: standalone or not integrated); None: unknown
    )
    attestation: Attestation | None = None
    decision: AdminDecision | None = None
    outcome: Outcome | None = None

    @property
    def is_draft(self) -> bool:
        return self.stage == DRAFT_STAGE

    @property
    def gaps(self) -> tuple[Gap, ...]:
        """What the audit found missing, from the attestation where there is one, else from the snapshot."""
        found: list[Gap] = []
        if self.is_draft:
            found.append(Gap.DRAFT)
        if self.metric is None and self.attestation is None:
            found.append(Gap.NO_METRIC)
        integration = self.attestation.integration if self.attestation else self.integration
        if integration in (None, Integration.NO):
            found.append(Gap.NO_INTEGRATION)
        if self.attestation is not None:
            configured = all(self.attestation.governance.get(i) is ItemState.DONE for i in GOVERNANCE_ITEMS)
        else:
            configured = all(self.governance.get(i, False) for i in GOVERNANCE_ITEMS)
        if not configured:
            found.append(Gap.GOVERNANCE)
        if not self.reachable and self.attestation is None:
            found.append(Gap.UNREACHABLE)
        return tuple(found)

    @property
    def recommendation(self) -> tuple[Recommendation, date] | None:
        """The admin's decision if any, else the sponsor's recommendation."""
        if self.decision is not None:
            return self.decision.recommendation, self.decision.on
        if self.attestation is not None:
            return self.attestation.recommendation, self.attestation.recommended_date
        return None


@dataclass(frozen=True, slots=True)
class QuarterlyAudit:
    id: str
    tenant_id: str
    quarter: str  # "2026-Q4"
    status: AuditStatus
    opened_by: Person
    opened_at: datetime
    items: tuple[AuditItem, ...]
    closed_by: Person | None = None
    closed_at: datetime | None = None
    version: str | None = None

    @property
    def open_key(self) -> str:
        return OPEN_KEY if self.status is AuditStatus.OPEN else self.id

    def item(self, pilot_id: str) -> AuditItem | None:
        return next((item for item in self.items if item.pilot_id == pilot_id), None)

    def with_item(self, updated: AuditItem) -> QuarterlyAudit:
        items = tuple(updated if item.pilot_id == updated.pilot_id else item for item in self.items)
        return dataclasses.replace(self, items=items)

    @property
    def attested(self) -> int:
        return sum(1 for item in self.items if item.attestation is not None)

    @property
    def undecided(self) -> tuple[AuditItem, ...]:
        """The initiatives closing still needs a decision for (drafts have no gate to decide)."""
        return tuple(item for item in self.items if item.decision is None and not item.is_draft)

    @property
    def gaps(self) -> dict[Gap, tuple[AuditItem, ...]]:
        """Every gap with the initiatives that have it, in the order of ``Gap``; gaps nobody has are left out."""
        grouped = {gap: tuple(item for item in self.items if gap in item.gaps) for gap in Gap}
        return {gap: items for gap, items in grouped.items() if items}


def quarter_of(day: date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def audit_id(tenant_id: str, quarter: str) -> str:
    return f"{tenant_id}:{quarter}"


def in_audit(pilot: Pilot) -> bool:
    """The initiatives an audit lists: those in the pilot stages, and drafts."""
    return pilot.stage.is_active or pilot.stage is Stage.DRAFT


def snapshot_item(pilot: Pilot, reachable: bool) -> AuditItem:
    return AuditItem(
        pilot_id=pilot.id,
        name=pilot.name,
        sponsor=pilot.sponsor,
        stage=pilot.stage.value,
        metric=pilot.metrics[0] if pilot.metrics else None,
        gate_date=pilot.gate_date,
        governance=dict(pilot.governance),
        reachable=reachable,
        timezone=pilot.timezone,
        integration=None
        if pilot.workflow is None
        else Integration.NO
        if pilot.workflow.gap
        else pilot.workflow.integrated,
    )


def attested_changes(pilot: Pilot, attestation: AttestationDraft) -> dict[str, object]:
    """What the sponsor corrected on a pilot, as PilotService.update changes: the primary metric's name, baseline
    and target (its direction follows them), the governance checklist (done or not), and whether its workflow is
    integrated. Empty when they confirmed it as it stands, and for a draft, which is completed by its own form.

    The target date stays in the audit's record: the decision this audit records sets the pilot's next date."""
    if pilot.is_draft or not pilot.metrics:
        return {}
    changes: dict[str, object] = {}
    metric = pilot.primary_metric
    direction = Direction.INCREASE if attestation.target > attestation.baseline else Direction.DECREASE
    attested = dataclasses.replace(
        metric,
        name=attestation.metric_name,
        baseline=attestation.baseline,
        target=attestation.target,
        direction=direction,
    )
    if attested != metric:
        changes["metrics"] = (attested, *pilot.metrics[1:])
    governance = {item: attestation.governance.get(item) is ItemState.DONE for item in GOVERNANCE_ITEMS}
    if governance != {item: pilot.governance.get(item, False) for item in GOVERNANCE_ITEMS}:
        changes["governance"] = {**pilot.governance, **governance}
    if pilot.workflow is not None and pilot.workflow.integrated is not attestation.integration:
        changes["workflow"] = dataclasses.replace(pilot.workflow, integrated=attestation.integration)
    return changes


def decision_draft(audit: QuarterlyAudit, item: AuditItem) -> DecisionDraft | None:
    """The gate decision closing records for ``item``: the admin's decision with its date, or None."""
    decision = item.decision
    if decision is None:
        return None
    who = "the sponsor's recommendation, accepted" if decision.accepted else "changed by a governance admin"
    rationale = f"{rationale_prefix(audit)} {decision.recommendation.label.lower()} ({who})."
    if decision.note:
        rationale = f"{rationale} {decision.note}"
    note = decision.note or f"As decided in the quarterly audit {audit.quarter}."
    kind = decision.recommendation.decision_kind
    if kind is DecisionKind.GO:
        return DecisionDraft(kind, rationale, expansion_scope=note, expansion_date=decision.on)
    if kind is DecisionKind.NARROW:
        return DecisionDraft(kind, rationale, cut_scope=note, new_gate_date=decision.on)
    return DecisionDraft(kind, rationale, retirement_date=decision.on)


def rationale_prefix(audit: QuarterlyAudit) -> str:
    """How a decision recorded by this audit starts, so that a second close recognises its own decisions."""
    return f"Quarterly audit {audit.quarter}:"


def attestation_due_times(sent_on: datetime, timezone: str, country: str | None = None) -> tuple[datetime, ...]:
    """When the sponsor is nudged: 09:00 local on the 3rd and 7th business day after the card went out (weekends and
    the public holidays of ``country`` are not business days)."""
    day = local_date(sent_on, timezone)
    return tuple(local_send_time(add_business_days(day, n, country), timezone) for n in NUDGE_DAYS)


def nudge_log_key(audit: QuarterlyAudit, days: int) -> str:
    return f"{card_log_key(audit)}:nudge{days}"


def card_log_key(audit: QuarterlyAudit) -> str:
    return f"audit:{audit.quarter}"


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """The counts closing posts to leadership and the report lane reads (``latest_closed_audit``)."""

    quarter: str
    initiatives: int
    attested: int
    decisions: dict[Recommendation, int] = field(default_factory=dict)
    gaps: dict[Gap, int] = field(default_factory=dict)
    closed_at: datetime | None = None


def summary_of(audit: QuarterlyAudit) -> AuditSummary:
    decisions: dict[Recommendation, int] = {}
    for item in audit.items:
        if item.decision is not None:
            decisions[item.decision.recommendation] = decisions.get(item.decision.recommendation, 0) + 1
    return AuditSummary(
        quarter=audit.quarter,
        initiatives=len(audit.items),
        attested=audit.attested,
        decisions=decisions,
        gaps={gap: len(items) for gap, items in audit.gaps.items()},
        closed_at=audit.closed_at,
    )


def summary_text(summary: AuditSummary) -> str:
    """One paragraph for the leadership channel (plain text: no user text in it)."""
    decided = ", ".join(f"{count} {rec.label.lower()}" for rec, count in summary.decisions.items()) or "none"
    gaps = ", ".join(f"{gap.label.lower()}: {count}" for gap, count in summary.gaps.items()) or "none"
    return (
        f"Quarterly audit {summary.quarter} closed: {summary.initiatives} initiatives, {summary.attested} attested "
        f"by their sponsors. Decisions: {decided}. Gaps found: {gaps}."
    )


def governance_states(values: Mapping[str, bool]) -> dict[str, ItemState]:
    """The snapshot's checklist as attestation states (the card's defaults)."""
    return {item: ItemState.DONE if values.get(item) else ItemState.NOT_STARTED for item in GOVERNANCE_ITEMS}


def names(items: Iterable[AuditItem]) -> list[str]:
    return [item.name for item in items]


# -- the sponsor's answer ----------------------------------------------------------------------------------------

METRIC_NAME: Final = "metricName"
BASELINE: Final = "baseline"
TARGET: Final = "target"
TARGET_DATE: Final = "targetDate"
INTEGRATION: Final = "integration"
RECOMMENDATION: Final = "recommendation"
RECOMMENDED_DATE: Final = "recommendedDate"
NOTE: Final = "note"
MAX_DATE_AHEAD_DAYS: Final = 730


def attestation_problems(draft: AttestationDraft, today: date) -> dict[str, str]:
    """What no clock-free parser can check: the dates against today, the texts' lengths, a complete checklist."""
    errors: dict[str, str] = {}
    if not draft.metric_name.strip():
        errors[METRIC_NAME] = "Name the success metric."
    elif len(draft.metric_name) > 200:
        errors[METRIC_NAME] = "Keep the metric's name under 200 characters."
    if draft.baseline == draft.target:
        errors[TARGET] = "The target must differ from the baseline."
    latest = date.fromordinal(today.toordinal() + MAX_DATE_AHEAD_DAYS)
    if draft.recommended_date < today:
        errors[RECOMMENDED_DATE] = f"This date has passed: pick {today.isoformat()} or later."
    elif draft.recommended_date > latest:
        errors[RECOMMENDED_DATE] = "Pick a date within two years."
    if draft.target_date > latest:
        errors[TARGET_DATE] = "Pick a target date within two years."
    if len(draft.note) > MAX_NOTE:
        errors[NOTE] = f"Keep this under {MAX_NOTE} characters (now {len(draft.note)})."
    for item in GOVERNANCE_ITEMS:
        if item not in draft.governance:
            errors[item] = "Say where this item stands."
    return errors


def attestation_of(draft: AttestationDraft, by: Person, at: datetime) -> Attestation:
    fields = {f.name: getattr(draft, f.name) for f in dataclasses.fields(draft)}
    cleaned = {
        "metric_name": draft.metric_name.strip(),
        "note": draft.note.strip(),
        "governance": dict(draft.governance),
    }
    return Attestation(**(fields | cleaned), by=by, at=at)
