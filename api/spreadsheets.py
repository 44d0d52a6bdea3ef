"""Reading an uploaded list of initiatives: CSV (UTF-8, comma, semicolon or tab separated) or Excel (.xlsx).

The format is told by the content type or, failing that, by the bytes (an .xlsx file is a ZIP archive). Excel is
read with openpyxl in read-only mode without evaluating anything: a formula cell gives its formula as text (which
the import then treats as text), never a computed value. Every cell comes out as a string.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Final

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from governance.errors import ValidationFailed
from governance.imports import MAX_ROWS

MAX_FILE_BYTES: Final = 5 * 1024 * 1024
MAX_COLUMNS: Final = 100
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPES: Final = frozenset({"text/csv", "application/csv", "text/plain"})


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]  # (spreadsheet row number, cells)


def read_table(data: bytes, content_type: str = "") -> Table:
    """The file's first sheet as a header and rows of text; ValidationFailed ({"body": ...}) if it cannot be read."""
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed({"body": f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB."})
    if not data.strip():
        raise ValidationFailed({"body": "The file is empty."})
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == XLSX_TYPE or (kind not in CSV_TYPES and data[:4] == b"PK\x03\x04"):
        lines = _xlsx_rows(data)
    else:
        lines = _csv_rows(data)
    header: tuple[str, ...] | None = None
    rows: list[tuple[int, tuple[str, ...]]] = []
    for number, cells in lines:
        if header is None:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines above the header
            header = cells
            continue
        if len(rows) >= MAX_ROWS:
            raise ValidationFailed({"body": f"The file has more than {MAX_ROWS:,} rows: split it."})
        rows.append((number, cells))
    if header is None:
        raise ValidationFailed({"body": "The file has no header row."})
    return Table(header, tuple(rows))


def _csv_rows(data: bytes) -> Iterator[tuple[int, tuple[str, ...]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed({"body": "Save the CSV file as UTF-8 (Excel: CSV UTF-8)."}) from None
    if "\x00" in text:
        raise ValidationFailed({"body": "This is not a CSV file."})
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for cells in reader:
            yield reader.line_num, _bounded(tuple(cells))
    except csv.Error as exc:
        raise ValidationFailed({"body": f"The CSV file cannot be read near line {reader.line_num}: {exc}."}) from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, tuple[str, ...]]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise ValidationFailed({"body": "The Excel file cannot be read: save it as .xlsx and try again."}) from None
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise ValidationFailed({"body": "The Excel file has no sheet."})
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, _bounded(tuple(_cell_text(value) for value in values))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise ValidationFailed({"body": "The Excel file cannot be read: save it as .xlsx and try again."}) from None
    finally:
        workbook.close()


def _bounded(cells: tuple[str, ...]) -> tuple[str, ...]:
    while len(cells) > MAX_COLUMNS and not cells[-1]:  # Excel pads rows to the sheet's widest
        cells = cells[:-1]
    if len(cells) > MAX_COLUMNS:
        raise ValidationFailed({"body": f"A row has more than {MAX_COLUMNS} columns."})
    return tuple(cell[:10_000] for cell in cells)


def _cell_text(value: object) -> str:
    """A cell as text: dates as YYYY-MM-DD, whole numbers without '.0', booleans as yes/no, formulas as typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)
