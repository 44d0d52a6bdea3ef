"""Import the governance office's list of initiatives from a CSV or Excel file into the configured store.

    python -m tools.import_initiatives initiatives.xlsx --tenant <Entra tenant id> [--dry-run]

The same import as ``POST /api/imports`` (governance.imports, through PilotService: every rule and the audit trail
apply), on the store the settings name (STORAGE, SQLITE_PATH or COSMOS_*; read from the environment or .env). It
shows a progress bar, then a summary: what was created, updated or left unchanged, each bad row with its row number
and column, the unknown columns, and the sponsors' emails nobody matched. Exit status: 0 when every row went in,
1 when some rows failed, 2 when the file or the settings could not be used at all.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable
from rich.text import Text

from api.spreadsheets import XLSX_TYPE, Table, read_table
from config import Settings, SettingsError, load_settings
from governance.errors import GovernanceError, ValidationFailed
from governance.imports import ImportReport, InitiativeImport, Outcome, RowResult
from governance.ports import SystemClock
from governance.services import Actor, PilotService
from storage.factory import make_document_store
from storage.repositories import Repositories

CLI_ACTOR = Actor("import-cli", "Import (command line)", is_admin=True)


def read_file(path: Path) -> Table:
    data = path.read_bytes()
    content_type = XLSX_TYPE if path.suffix.lower() in (".xlsx", ".xlsm") else ""
    return read_table(data, content_type)


async def import_file(
    settings: Settings, path: Path, tenant_id: str, *, dry_run: bool, console: Console
) -> ImportReport:
    """Read ``path`` and import it for ``tenant_id`` into the store ``settings`` name, showing progress."""
    table = read_file(path)
    store = make_document_store(settings)
    await store.open()
    try:
        repos = Repositories.on(store)
        service = PilotService(repos.pilots, repos.readings, repos.decisions, repos.audit, SystemClock(), repos.agenda)
        importer = InitiativeImport(service, repos.members)
        columns = (
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("Checking" if dry_run else "Importing", total=len(table.rows))

            def advance(_: RowResult) -> None:
                progress.advance(task)

            return await importer.run(tenant_id, table.header, table.rows, CLI_ACTOR, dry_run=dry_run, progress=advance)
    finally:
        await store.close()


def print_summary(report: ImportReport, console: Console) -> None:
    if report.problems:
        for column, problem in report.problems.items():
            console.print(Text(f"{column}: {problem}", style="red"))
        return
    verb = "would be" if report.dry_run else "were"
    counts = ", ".join(f"{report.count(outcome)} {outcome.value}" for outcome in Outcome)
    console.print(Text(f"{len(report.rows)} rows: {counts} ({report.drafts} drafts {verb} among them)."))
    if report.unknown_columns:
        console.print(Text(f"Unknown columns, not read: {', '.join(report.unknown_columns)}", style="yellow"))
    failed = [result for result in report.rows if result.outcome is Outcome.FAILED]
    if failed:
        table = RichTable("Row", "Name", "Column", "Problem", title="Rows not imported", title_justify="left")
        for result in failed:
            for column, problem in result.errors.items():
                table.add_row(str(result.row), Text(result.name), column, Text(problem))
        console.print(table)
    if report.unresolved:
        table = RichTable("Row", "Name", "Sponsor email", title="Sponsors to resolve", title_justify="left")
        for result in report.unresolved:
            table.add_row(str(result.row), Text(result.name), Text(result.unresolved_sponsor))
        console.print(table)
        console.print(
            "Their initiatives are drafts until an admin sets the sponsor (PATCH /api/pilots/{id} with sponsor), "
            "or the sponsor joins a team PilotGate is in and the file is imported again."
        )
    if report.dry_run:
        console.print("Dry run: nothing was stored.")


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.import_initiatives", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="a .csv (UTF-8) or .xlsx file with a header row")
    parser.add_argument("--tenant", required=True, help="the Entra tenant id the initiatives belong to")
    parser.add_argument("--dry-run", action="store_true", help="check every row and report; store nothing")
    args = parser.parse_args(argv)
    console = console or Console()
    try:
        settings = load_settings()
    except SettingsError as exc:
        console.print(Text(str(exc), style="red"))
        return 2
    tenant_id = args.tenant.strip().lower()
    if not settings.tenant_allowed(tenant_id):
        console.print(Text("This tenant is not in ALLOWED_TENANTS.", style="red"))
        return 2
    try:
        report = asyncio.run(import_file(settings, args.file, tenant_id, dry_run=args.dry_run, console=console))
    except OSError as exc:
        console.print(Text(f"Cannot read {args.file}: {exc.strerror}", style="red"))
        return 2
    except ValidationFailed as exc:
        console.print(Text(f"{args.file}: {' '.join(exc.fields.values())}", style="red"))
        return 2
    except GovernanceError as exc:
        console.print(Text(exc.message, style="red"))
        return 2
    print_summary(report, console)
    if report.problems:
        return 2
    return 1 if report.count(Outcome.FAILED) else 0


if __name__ == "__main__":
    sys.exit(main())
