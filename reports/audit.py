"""The quarterly audit's record as spreadsheets: one row per initiative (and, in Excel, a sheet of the gaps), typed
columns written by reports.tables, which neutralises formula-looking text. The HTML page shows the same rows."""

from __future__ import annotations

from typing import Final

from governance.model import GOVERNANCE_ITEMS
from governance.quarterly_audit import AuditItem, ItemState, QuarterlyAudit
from reports.tables import Cell, Column, Kind, Sheet, csv_bytes, xlsx_bytes

COLUMNS: Final = (
    Column("Initiative"),
    Column("Sponsor"),
    Column("Stage"),
    Column("Metric"),
    Column("Baseline", Kind.NUMBER),
    Column("Target", Kind.NUMBER),
    Column("Target date", Kind.DATE),
    Column("Integrated"),
    Column("Attested", Kind.BOOLEAN),
    Column("Gaps"),
    *(Column(item) for item in GOVERNANCE_ITEMS),
    Column("Recommendation"),
    Column("Recommended date", Kind.DATE),
    Column("Decision"),
    Column("Decision date", Kind.DATE),
    Column("Outcome"),
)


def audit_filename(audit: QuarterlyAudit, extension: str) -> str:
    return f"pilotgate-audit-{audit.quarter}.{extension}"


def item_row(item: AuditItem) -> tuple[Cell, ...]:
    """What the audit knows of one initiative: the sponsor's attested values where there are some, else the
    snapshot's."""
    attestation = item.attestation
    metric = item.metric
    integration = attestation.integration if attestation else item.integration
    governance: list[Cell] = []
    for gov in GOVERNANCE_ITEMS:
        if attestation is not None and gov in attestation.governance:
            governance.append(attestation.governance[gov].value)
        else:
            governance.append((ItemState.DONE if item.governance.get(gov) else ItemState.NOT_STARTED).value)
    return (
        item.name,
        item.sponsor.name or item.sponsor.aad_object_id,
        item.stage,
        attestation.metric_name if attestation else (metric.name if metric else None),
        attestation.baseline if attestation else (metric.baseline if metric else None),
        attestation.target if attestation else (metric.target if metric else None),
        attestation.target_date if attestation else item.gate_date,
        integration.value if integration else None,
        attestation is not None,
        "; ".join(gap.label for gap in item.gaps),
        *governance,
        attestation.recommendation.label if attestation else None,
        attestation.recommended_date if attestation else None,
        item.decision.recommendation.label if item.decision else None,
        item.decision.on if item.decision else None,
        item.outcome.value if item.outcome else None,
    )


def initiatives_sheet(audit: QuarterlyAudit) -> Sheet:
    return Sheet("Initiatives", COLUMNS, tuple(item_row(item) for item in audit.items))


def gaps_sheet(audit: QuarterlyAudit) -> Sheet:
    rows = tuple((gap.label, item.name) for gap, items in audit.gaps.items() for item in items)
    return Sheet("Gaps", (Column("Gap"), Column("Initiative")), rows)


def audit_csv(audit: QuarterlyAudit) -> bytes:
    return csv_bytes(initiatives_sheet(audit))


def audit_xlsx(audit: QuarterlyAudit) -> bytes:
    return xlsx_bytes([initiatives_sheet(audit), gaps_sheet(audit)], title=f"Quarterly audit {audit.quarter}")
