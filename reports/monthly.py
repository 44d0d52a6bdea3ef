"""The monthly outcome report as JSON, CSV and an Excel workbook: each a plain rewrite of governance.report's view,
computing nothing of its own (the card and the HTML page read the same view).

- JSON: camelCase, the fields the issue names (``period``, ``tenantId``, ``totals``, ``pilots`` with ``primaryMetric``,
  ``decisions``, ``roadmap``) and a few more a reader needs (``asOf``, ``generatedAt``, ``sponsor``, and ``audit``:
  the quarterly audit closed in the month, or null).
- CSV: one row per pilot (the ``Pilots`` table), through reports.tables.
- Excel: four sheets, Summary, Pilots, Decisions and Roadmap, through reports.tables, and a fifth, Quarterly audit,
  when an audit closed in the month.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from cards.report import FLAG_LABEL
from governance.model import Person, Stage
from governance.quarterly_audit import Outcome
from governance.report import (
    AuditOutcome,
    DecisionLine,
    MetricLine,
    MonthlyReport,
    PilotRow,
    RoadmapItem,
    Totals,
)
from reports.html import ROADMAP_LABEL
from reports.tables import Cell, Column, Kind, Sheet, csv_bytes, xlsx_bytes

CSV_TYPE: Final = "text/csv; charset=utf-8"
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_TYPE: Final = "application/json"


def report_filename(report: MonthlyReport, extension: str) -> str:
    """``pilotgate-report-2026-11.csv``; a sponsor's own report says so (``...-2026-11-sponsor.csv``)."""
    scope = "-sponsor" if report.sponsor is not None else ""
    return f"pilotgate-report-{report.period}{scope}.{extension}"


# --- JSON ---------------------------------------------------------------------------------------------------------
def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _person(person: Person) -> dict[str, str]:
    return {"aadObjectId": person.aad_object_id, "name": person.name}


def _metric_json(metric: MetricLine) -> dict[str, Any]:
    return {
        "name": metric.name,
        "unit": metric.unit,
        "baseline": metric.baseline,
        "latest": metric.latest,
        "target": metric.target,
        "progress": metric.progress,
        "changeSinceLastMonth": metric.change_since_last_month,
        "onTrack": metric.on_track,
        "history": [{"period": str(period), "value": value} for period, value in metric.history],
    }


def _pilot_json(row: PilotRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "stage": row.stage.value,
        "status": row.status.value if row.status else None,
        "sponsor": _person(row.sponsor),
        "primaryMetric": _metric_json(row.metric),
        "latestReadingPeriod": str(row.reading_period) if row.reading_period else None,
        "checkin": {
            "due": row.checkin_due,
            "answered": row.checkin_answered,
            "answeredBy": row.answered_by or None,
            "answeredAt": _iso(row.answered_at) if row.answered_at else None,
            "skipped": row.checkin_skipped,
        },
        "spend": row.spend,
        "budget": row.budget,
        "spendToDate": row.spend_to_date,
        "projectedSpendAtGate": row.projected_spend_at_gate,
        "activeUsers": row.active_users,
        "intendedUsers": row.intended_users,
        "gateDate": row.gate_date.isoformat(),
        "daysToGate": row.days_to_gate,
        "flags": [flag.value for flag in row.flags],
        "governanceGaps": list(row.governance_gaps),
    }


def _totals_json(totals: Totals) -> dict[str, Any]:
    return {
        "pilotsByStage": {stage.value: count for stage, count in totals.pilots_by_stage.items()},
        "checkinsDue": totals.checkins_due,
        "checkinsAnswered": totals.checkins_answered,
        "onTrack": totals.on_track,
        "tracked": totals.tracked,
        "decisionsTaken": totals.decisions_taken,
        "gatesNext30Days": totals.gates_next_30_days,
        "purgatory": [
            {"pilotId": p.pilot_id, "pilotName": p.pilot_name, "gateDate": str(p.gate_date), "daysSince": p.days_since}
            for p in totals.purgatory
        ],
        "spend": totals.spend,
        "budget": totals.budget,
        "spendToDate": totals.spend_to_date,
        "projectedSpendAtGates": totals.projected_spend_at_gates,
        "activeUsers": totals.active_users,
        "intendedUsers": totals.intended_users,
        "openGovernanceItems": totals.open_governance_items,
        "costDriftAlerts": totals.cost_drift_alerts,
    }


def _decision_json(decision: DecisionLine) -> dict[str, Any]:
    return {
        "pilotId": decision.pilot_id,
        "pilotName": decision.pilot_name,
        "kind": decision.kind.value,
        "rationale": decision.rationale,
        "decidedBy": _person(decision.decided_by),
        "decidedAt": _iso(decision.decided_at),
        "gateDate": decision.gate_date.isoformat(),
        "effectiveDate": decision.effective_date.isoformat() if decision.effective_date else None,
        "newGateDate": decision.new_gate_date.isoformat() if decision.new_gate_date else None,
    }


def _roadmap_json(item: RoadmapItem) -> dict[str, Any]:
    return {"on": item.on.isoformat(), "kind": item.kind.value, "pilotId": item.pilot_id, "pilotName": item.pilot_name}


def _audit_json(audit: AuditOutcome) -> dict[str, Any]:
    return {
        "id": audit.audit_id,
        "quarter": audit.quarter,
        "closedOn": audit.closed_on.isoformat(),
        "initiatives": audit.initiatives,
        "attested": audit.attested,
        "missing": audit.missing,
        "gaps": {gap.value: count for gap, count in audit.gaps.items()},
        "decisionsByKind": {rec.value: count for rec, count in audit.decisions.items()},
        "decisions": [
            {
                "pilotId": line.pilot_id,
                "pilotName": line.pilot_name,
                "kind": line.recommendation.value,
                "on": line.on.isoformat(),
                "outcome": line.outcome.value if line.outcome else None,
            }
            for line in audit.decision_lines
        ],
    }


def report_json(report: MonthlyReport) -> dict[str, Any]:
    return {
        "period": str(report.period),
        "tenantId": report.tenant_id,
        "generatedAt": _iso(report.generated_at),
        "asOf": report.as_of.isoformat() if report.as_of else None,
        "sponsor": _person(report.sponsor) if report.sponsor else None,
        "totals": _totals_json(report.totals),
        "pilots": [_pilot_json(row) for row in report.pilots],
        "decisions": [_decision_json(d) for d in report.decisions],
        "roadmap": [_roadmap_json(item) for item in report.roadmap],
        "audit": _audit_json(report.audit) if report.audit else None,
    }


# --- tables (CSV and Excel) ---------------------------------------------------------------------------------------
PILOT_COLUMNS: Final = (
    Column("Pilot"),
    Column("Pilot id"),
    Column("Sponsor"),
    Column("Stage"),
    Column("Status"),
    Column("Metric"),
    Column("Unit"),
    Column("Baseline", Kind.NUMBER),
    Column("Latest", Kind.NUMBER),
    Column("Target", Kind.NUMBER),
    Column("Progress to target", Kind.PERCENT),
    Column("On track", Kind.BOOLEAN),
    Column("Change since last month", Kind.NUMBER),
    Column("Latest reading for"),
    Column("Check-in due", Kind.BOOLEAN),
    Column("Check-in answered", Kind.BOOLEAN),
    Column("Answered by"),
    Column("Spend in month", Kind.MONEY),
    Column("Monthly budget", Kind.MONEY),
    Column("Spend to date", Kind.MONEY),
    Column("Projected spend at gate", Kind.MONEY),
    Column("Active users", Kind.INTEGER),
    Column("Intended users", Kind.INTEGER),
    Column("Gate date", Kind.DATE),
    Column("Days to gate", Kind.INTEGER),
    Column("Flags"),
    Column("Governance gaps"),
)


def _pilot_cells(row: PilotRow) -> tuple[Cell, ...]:
    metric = row.metric
    return (
        row.name,
        row.id,
        row.sponsor.name,
        row.stage.value,
        row.status.value if row.status else None,
        metric.name,
        metric.unit,
        metric.baseline,
        metric.latest,
        metric.target,
        metric.progress,
        metric.on_track,
        metric.change_since_last_month,
        str(row.reading_period) if row.reading_period else None,
        row.checkin_due,
        row.checkin_answered,
        row.answered_by or None,
        row.spend,
        row.budget,
        row.spend_to_date,
        row.projected_spend_at_gate,
        row.active_users,
        row.intended_users,
        row.gate_date,
        row.days_to_gate,
        "; ".join(FLAG_LABEL[flag] for flag in row.flags) or None,
        "; ".join(row.governance_gaps) or None,
    )


def pilots_sheet(report: MonthlyReport) -> Sheet:
    return Sheet("Pilots", PILOT_COLUMNS, tuple(_pilot_cells(row) for row in report.pilots))


def summary_sheet(report: MonthlyReport) -> Sheet:
    totals = report.totals
    figures: list[tuple[str, float | int]] = [
        *((f"Pilots: {stage.value}", totals.pilots_by_stage.get(stage, 0)) for stage in Stage),
        ("Check-ins due", totals.checkins_due),
        ("Check-ins answered", totals.checkins_answered),
        ("Pilots on track", totals.on_track),
        ("Pilots with a reading", totals.tracked),
        ("Decisions taken", totals.decisions_taken),
        ("Gates in the next 30 days", totals.gates_next_30_days),
        ("Gates passed without a decision", len(totals.purgatory)),
        ("Spend in month", totals.spend),
        ("Monthly budget", totals.budget),
        ("Spend to date", totals.spend_to_date),
        ("Projected spend at gates", totals.projected_spend_at_gates),
        ("Active users", totals.active_users),
        ("Intended users", totals.intended_users),
        ("Open governance items", totals.open_governance_items),
        ("Cost-drift alerts", totals.cost_drift_alerts),
    ]
    columns = (Column("Figure"), Column("Value", Kind.NUMBER))
    return Sheet("Summary", columns, tuple((label, value) for label, value in figures))


DECISION_COLUMNS: Final = (
    Column("Pilot"),
    Column("Decision"),
    Column("Decided at (UTC)", Kind.DATETIME),
    Column("Decided by"),
    Column("Gate date", Kind.DATE),
    Column("Effective date", Kind.DATE),
    Column("New gate date", Kind.DATE),
    Column("Rationale", width=60),
)


def decisions_sheet(report: MonthlyReport) -> Sheet:
    rows = tuple(
        (
            d.pilot_name,
            d.kind.value,
            d.decided_at,
            d.decided_by.name,
            d.gate_date,
            d.effective_date,
            d.new_gate_date,
            d.rationale,
        )
        for d in report.decisions
    )
    return Sheet("Decisions", DECISION_COLUMNS, rows)


ROADMAP_COLUMNS: Final = (Column("Date", Kind.DATE), Column("Event"), Column("Pilot"), Column("Pilot id"))


def roadmap_sheet(report: MonthlyReport) -> Sheet:
    rows = tuple((i.on, ROADMAP_LABEL[i.kind], i.pilot_name, i.pilot_id) for i in report.roadmap)
    return Sheet("Roadmap", ROADMAP_COLUMNS, rows)


AUDIT_COLUMNS: Final = (
    Column("Section"),
    Column("Item"),
    Column("Count", Kind.INTEGER),
    Column("Date", Kind.DATE),
    Column("Outcome"),
)


def audit_sheet(audit: AuditOutcome) -> Sheet:
    """The audit closed in the month: its figures, its gaps by group, its decisions by kind, then each decision with
    its date (one table, a Section column telling the parts apart, so the filter picks one)."""
    rows: list[tuple[Cell, ...]] = [
        ("Audit", f"Quarter {audit.quarter}", None, audit.closed_on, "closed"),
        ("Audit", "Initiatives audited", audit.initiatives, None, None),
        ("Audit", "Attested by their sponsors", audit.attested, None, None),
        ("Audit", "Not attested (missing)", audit.missing, None, None),
        *(("Gaps", gap.label, count, None, None) for gap, count in audit.gaps.items()),
        *(("Decisions", rec.label, count, None, None) for rec, count in audit.decisions.items()),
        *(
            ("Decision", f"{line.pilot_name}: {line.recommendation.label}", None, line.on, _outcome(line.outcome))
            for line in audit.decision_lines
        ),
    ]
    return Sheet("Quarterly audit", AUDIT_COLUMNS, tuple(rows))


def _outcome(outcome: Outcome | None) -> str | None:
    return outcome.value if outcome else None


def report_csv(report: MonthlyReport) -> bytes:
    """One row per pilot."""
    return csv_bytes(pilots_sheet(report))


def report_title(report: MonthlyReport) -> str:
    as_of = f", as of {report.as_of.isoformat()}" if report.as_of else ""
    return f"PilotGate monthly outcome report {report.period}{as_of}"


def report_xlsx(report: MonthlyReport) -> bytes:
    sheets = [summary_sheet(report), pilots_sheet(report), decisions_sheet(report), roadmap_sheet(report)]
    if report.audit is not None:
        sheets.append(audit_sheet(report.audit))
    return xlsx_bytes(sheets, title=report_title(report))
