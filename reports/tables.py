"""Tables for spreadsheets: a Sheet of typed columns, written as CSV bytes or as an Excel workbook.

Every export that ends in a spreadsheet (the monthly report, the quarterly audit's record) builds ``Sheet`` values
and calls ``csv_bytes`` or ``xlsx_bytes``; neither knows what the rows mean.

- Cells are typed by their column (``Kind``): text stays text, numbers are numbers, dates are dates. A cell of the
  wrong type is a programming error (TypeError), found before anything is written.
- CSV is UTF-8 *with* a byte order mark: Excel, which is what most readers of these files open them with, reads a
  CSV without one in the machine's ANSI code page and garbles every accented name ("ZoÃ«"); with it Excel, LibreOffice,
  pandas and Python's ``csv`` module (``encoding="utf-8-sig"``) all read it right. Numbers are plain (``1234.5``: no
  thousands separator, no currency, no exponent), dates ISO 8601, booleans ``TRUE``/``FALSE`` (what Excel reads as
  booleans), empty cells empty. Percentages are written as the share (``0.75``); Excel shows them as ``75%``.
- Formula injection: a CSV text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
  leading apostrophe, so a spreadsheet shows it as text instead of running it (OWASP's "CSV injection" advice). In
  the workbook text is written as typed string cells, which Excel never evaluates, so it is kept as it was (line
  breaks become LF, as Excel stores them in a cell).
- The workbook has one worksheet per Sheet, a bold frozen header row, an autofilter over the table, column widths
  from the content, and number formats per kind. It is built in memory with XlsxWriter.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

import xlsxwriter

Cell = str | int | float | bool | date | datetime | None


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    MONEY = "money"  # a number shown with two decimals (the currency is the organization's)
    PERCENT = "percent"  # a share: 0.75 is 75 %
    DATE = "date"
    DATETIME = "datetime"  # written in UTC, without the offset (Excel has no time zones)
    BOOLEAN = "boolean"


_XLSX_FORMATS: Final[dict[Kind, str]] = {
    Kind.INTEGER: "#,##0",
    Kind.NUMBER: "General",
    Kind.MONEY: "#,##0.00",
    Kind.PERCENT: "0%",
    Kind.DATE: "yyyy-mm-dd",
    Kind.DATETIME: "yyyy-mm-dd hh:mm",
}
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
# Excel's limits: a sheet name of at most 31 characters without []:*?/\ ; a cell of at most 32,767 characters.
_BAD_SHEET_NAME: Final = re.compile(r"[\[\]:*?/\\]")
MAX_SHEET_NAME: Final = 31
MAX_CELL_TEXT: Final = 32_767
MAX_ROWS: Final = 1_048_575  # below the header row
_MIN_WIDTH: Final = 6
_MAX_WIDTH: Final = 60


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    kind: Kind = Kind.TEXT
    width: float | None = None  # in characters; None: from the title and the content


@dataclass(frozen=True, slots=True)
class Sheet:
    """A table: a name (the worksheet's), typed columns and rows of cells in column order."""

    name: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.name or len(self.name) > MAX_SHEET_NAME or _BAD_SHEET_NAME.search(self.name):
            raise ValueError(f"not a worksheet name (1-{MAX_SHEET_NAME} characters, none of []:*?/\\): {self.name!r}")
        if not self.columns:
            raise ValueError(f"sheet {self.name!r} has no columns")
        if len(self.rows) > MAX_ROWS:
            raise ValueError(f"sheet {self.name!r} has more rows than a worksheet holds")
        width = len(self.columns)
        for number, row in enumerate(self.rows, start=1):
            if len(row) != width:
                raise TypeError(f"sheet {self.name!r} row {number}: {len(row)} cells for {width} columns")
        for index, column in enumerate(self.columns):
            fits = _CHECKS[column.kind]
            for number, row in enumerate(self.rows, start=1):
                value = row[index]
                if value is not None and not fits(value):
                    raise TypeError(
                        f"sheet {self.name!r} row {number}, column {column.title!r} ({column.kind}): "
                        f"{type(value).__name__} {value!r:.40}"
                    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


_CHECKS: Final[dict[Kind, Callable[[object], bool]]] = {
    Kind.TEXT: lambda value: isinstance(value, str),
    Kind.BOOLEAN: lambda value: isinstance(value, bool),
    Kind.INTEGER: lambda value: isinstance(value, int) and not isinstance(value, bool),
    Kind.NUMBER: _is_number,
    Kind.MONEY: _is_number,
    Kind.PERCENT: _is_number,
    Kind.DATETIME: lambda value: isinstance(value, datetime) and value.tzinfo is not None,
    Kind.DATE: lambda value: isinstance(value, date) and not isinstance(value, datetime),
}


# --- CSV ----------------------------------------------------------------------------------------------------------
def neutralise(text: str) -> str:
    """A text cell as a spreadsheet shows it but never runs it: a leading apostrophe before ``= + - @``, tab or CR."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def plain_number(value: float) -> str:
    """``1234.5`` -> ``1234.5``, ``1200.0`` -> ``1200``, ``1e16`` -> ``10000000000000000``: no exponent, no
    separators, the shortest digits that read back as the same float."""
    if isinstance(value, int):
        return str(value)
    if value == 0:
        return "0"
    text = repr(value)
    if "e" in text:  # 1e16, 1e-07: written out in full
        text = format(Decimal(text), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def csv_cell(kind: Kind, value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return plain_number(value)
    return neutralise(value)


def csv_bytes(sheet: Sheet) -> bytes:
    """The sheet as CSV: UTF-8 with a byte order mark, a header row, CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(column.title) for column in sheet.columns])
    kinds = [column.kind for column in sheet.columns]
    writer.writerows([csv_cell(kind, value) for kind, value in zip(kinds, row, strict=True)] for row in sheet.rows)
    return out.getvalue().encode("utf-8-sig")


# --- Excel --------------------------------------------------------------------------------------------------------
def xlsx_bytes(sheets: Sequence[Sheet], *, title: str = "") -> bytes:
    """The sheets as one workbook (.xlsx), in order; sheet names must differ."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    names = [sheet.name.casefold() for sheet in sheets]
    if len(set(names)) != len(names):
        raise ValueError("two sheets have the same name")
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    if title:
        workbook.set_properties({"title": title})
    header = workbook.add_format({"bold": True, "bottom": 1, "text_wrap": False})
    formats = {kind: workbook.add_format({"num_format": pattern}) for kind, pattern in _XLSX_FORMATS.items()}
    for sheet in sheets:
        _write_sheet(workbook.add_worksheet(sheet.name), sheet, header, formats)
    workbook.close()
    return buffer.getvalue()


def _write_sheet(worksheet: Any, sheet: Sheet, header: Any, formats: dict[Kind, Any]) -> None:
    for col, column in enumerate(sheet.columns):
        worksheet.write_string(0, col, _xlsx_text(column.title), header)
        fmt = formats.get(column.kind)
        kind = column.kind
        for row_number, row in enumerate(sheet.rows, start=1):
            value = row[col]
            if value is None:
                continue
            if kind is Kind.TEXT:
                worksheet.write_string(row_number, col, _xlsx_text(str(value)))
            elif kind is Kind.BOOLEAN:
                worksheet.write_boolean(row_number, col, value)
            elif isinstance(value, datetime):
                worksheet.write_datetime(row_number, col, value.astimezone(UTC).replace(tzinfo=None), fmt)
            elif isinstance(value, date):
                worksheet.write_datetime(row_number, col, value, fmt)
            else:
                worksheet.write_number(row_number, col, value, fmt)
        worksheet.set_column(col, col, column.width or _width(column, (row[col] for row in sheet.rows)))
    worksheet.freeze_panes(1, 0)
    worksheet.autofilter(0, 0, len(sheet.rows), len(sheet.columns) - 1)


def _xlsx_text(text: str) -> str:
    """A cell's text as Excel keeps it: line breaks as LF (a CR would be stored as ``_x000D_``), within its limit."""
    return text.replace("\r\n", "\n").replace("\r", "\n")[:MAX_CELL_TEXT]


# Widths of the kinds whose cells are about as wide as their format, so only text is measured.
_KIND_WIDTHS: Final[dict[Kind, int]] = {
    Kind.INTEGER: 10,
    Kind.NUMBER: 12,
    Kind.MONEY: 14,
    Kind.PERCENT: 8,
    Kind.DATE: 11,
    Kind.DATETIME: 17,
    Kind.BOOLEAN: 8,
}


def _width(column: Column, values: Iterable[Cell]) -> float:
    """Wide enough for the title (and the filter button) and most values, within bounds."""
    widest = max(len(column.title) + 3, _KIND_WIDTHS.get(column.kind, 0))
    if column.kind is Kind.TEXT:
        for value in values:
            if isinstance(value, str) and len(value) > widest:
                widest = len(value)
                if widest >= _MAX_WIDTH:
                    break
    return float(min(max(widest, _MIN_WIDTH), _MAX_WIDTH))
