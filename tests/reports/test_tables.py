"""reports/tables.py: a Sheet of typed columns as CSV (read back with the csv module) and as a workbook (opened with
openpyxl)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from reports.tables import Column, Kind, Sheet, csv_bytes, neutralise, plain_number, xlsx_bytes

COLUMNS = (
    Column("Name"),
    Column("Users", Kind.INTEGER),
    Column("Value", Kind.NUMBER),
    Column("Spend", Kind.MONEY),
    Column("Progress", Kind.PERCENT),
    Column("Gate", Kind.DATE),
    Column("Decided at (UTC)", Kind.DATETIME),
    Column("Answered", Kind.BOOLEAN),
)
BERLIN_WINTER = timezone(timedelta(hours=1))
DECIDED = datetime(2026, 11, 3, 10, 30, tzinfo=UTC)
DECIDED_IN_BERLIN = datetime(2026, 11, 3, 10, 30, tzinfo=BERLIN_WINTER)
ROWS: tuple[tuple[object, ...], ...] = (
    (
        "Zoë's invoice triage",
        1200,
        1234.5,
        9800.0,
        0.75,
        date(2026, 12, 15),
        datetime(2026, 11, 3, 10, 30, tzinfo=UTC),
        True,
    ),
    (
        '=HYPERLINK("http://evil")',
        None,
        -2.0,
        0,
        -0.25,
        None,
        datetime(2026, 11, 3, 10, 30, tzinfo=BERLIN_WINTER),
        False,
    ),
    ("+cmd", 0, 1e16, 12.345, 1.5, date(2027, 1, 1), None, None),
    ("-1+2", 7, 0.1, None, None, None, None, True),
    ("@SUM(A1)", 1, 3, 1.0, 0.0, None, None, False),
    ("\tTabbed", 2, 2.5, 1.0, 0.5, None, None, False),
    ("\rReturn", 3, 2.5, 1.0, 0.5, None, None, False),
    ('a, "quoted"\nline', 4, 2.5, 1.0, 0.5, None, None, False),
)
SHEET = Sheet("Pilots", COLUMNS, ROWS)  # type: ignore[arg-type]


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_starts_with_a_byte_order_mark_for_excel_and_reads_back_with_the_csv_module() -> None:
    data = csv_bytes(SHEET)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = read_csv(data)
    assert rows[0] == [c.title for c in COLUMNS]
    assert rows[1] == [
        "Zoë's invoice triage", "1200", "1234.5", "9800", "0.75", "2026-12-15", "2026-11-03T10:30:00Z", "TRUE"
    ]  # fmt: skip
    assert len(rows) == len(ROWS) + 1
    assert data.count(b"\r\n") >= len(ROWS) + 1


def test_csv_numbers_are_plain_and_dates_iso() -> None:
    rows = read_csv(csv_bytes(SHEET))
    assert rows[2][1:7] == ["", "-2", "0", "-0.25", "", "2026-11-03T09:30:00Z"]  # +01:00 written in UTC
    assert rows[3][2] == "10000000000000000"  # no exponent
    assert rows[3][3] == "12.345"
    assert rows[4][2] == "0.1"
    assert rows[3][7] == ""  # None is an empty cell


@pytest.mark.parametrize("row", [2, 3, 4, 5, 6, 7])
def test_csv_text_that_a_spreadsheet_would_run_is_neutralised(row: int) -> None:
    cell = read_csv(csv_bytes(SHEET))[row][0]
    assert cell.startswith("'"), cell
    assert cell[1:] == ROWS[row - 1][0]


def test_csv_keeps_commas_quotes_and_newlines_inside_one_cell() -> None:
    assert read_csv(csv_bytes(SHEET))[8][0] == 'a, "quoted"\nline'


def test_negative_numbers_are_numbers_not_neutralised_text() -> None:
    assert read_csv(csv_bytes(SHEET))[2][2] == "-2"
    assert neutralise("-2") == "'-2"  # the same characters as text would be neutralised


@pytest.mark.parametrize(
    ("value", "text"), [(0.0, "0"), (-0.0, "0"), (1.0, "1"), (0.1 + 0.2, "0.30000000000000004"), (1e-7, "0.0000001")]
)
def test_plain_number(value: float, text: str) -> None:
    assert plain_number(value) == text
    assert float(text) == value


def _open(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_workbook_has_one_sheet_per_table_with_frozen_header_and_filter() -> None:
    other = Sheet("Decisions", (Column("Pilot"), Column("On", Kind.DATE)), (("A", date(2026, 11, 2)),))
    book = _open(xlsx_bytes([SHEET, other], title="Report"))
    assert book.sheetnames == ["Pilots", "Decisions"]
    pilots = book["Pilots"]
    assert isinstance(pilots, Worksheet)
    assert pilots.freeze_panes == "A2"
    assert pilots.auto_filter.ref == f"A1:H{len(ROWS) + 1}"
    assert [cell.value for cell in pilots[1]] == [c.title for c in COLUMNS]
    assert all(cell.font.b for cell in pilots[1])
    assert book.properties.title == "Report"
    decisions = book["Decisions"]
    assert isinstance(decisions, Worksheet)
    assert decisions.auto_filter.ref == "A1:B2"


def test_workbook_cells_are_typed() -> None:
    sheet = _open(xlsx_bytes([SHEET]))["Pilots"]
    assert isinstance(sheet, Worksheet)
    name, users, value, spend, share, gate, decided, answered = (cell for cell in sheet[2])
    assert (name.data_type, name.value) == ("s", "Zoë's invoice triage")
    assert (users.data_type, users.value, users.number_format) == ("n", 1200, "#,##0")
    assert (value.data_type, value.value) == ("n", 1234.5)
    assert (spend.value, spend.number_format) == (9800, "#,##0.00")
    assert (share.value, share.number_format) == (0.75, "0%")
    assert gate.value == datetime(2026, 12, 15) and gate.number_format == "yyyy-mm-dd"
    assert decided.value == datetime(2026, 11, 3, 10, 30)
    assert (answered.data_type, answered.value) == ("b", True)
    later = sheet[3]
    assert later[1].value is None  # None stays an empty cell
    assert later[6].value == datetime(2026, 11, 3, 9, 30)  # written in UTC


def test_workbook_text_is_a_string_cell_never_a_formula() -> None:
    sheet = _open(xlsx_bytes([SHEET]))["Pilots"]
    assert isinstance(sheet, Worksheet)
    for row, expected in zip(sheet.iter_rows(min_row=2, max_col=1), ROWS, strict=True):
        assert row[0].data_type == "s"
        assert row[0].value == str(expected[0]).replace("\r", "\n")  # Excel's line break in a cell is LF


def test_an_empty_sheet_still_has_its_header_filter_and_freeze() -> None:
    sheet = _open(xlsx_bytes([Sheet("Empty", COLUMNS)]))["Empty"]
    assert isinstance(sheet, Worksheet)
    assert sheet.auto_filter.ref == "A1:H1"
    assert sheet.freeze_panes == "A2"
    assert read_csv(csv_bytes(Sheet("Empty", COLUMNS))) == [[c.title for c in COLUMNS]]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (Kind.INTEGER, 1.5),
        (Kind.INTEGER, True),
        (Kind.NUMBER, "12"),
        (Kind.NUMBER, float("nan")),
        (Kind.MONEY, float("inf")),
        (Kind.DATE, datetime(2026, 1, 1, tzinfo=UTC)),
        (Kind.DATETIME, datetime(2026, 1, 1)),  # naive: which zone?
        (Kind.TEXT, 3),
        (Kind.BOOLEAN, 1),
    ],
)
def test_a_cell_of_the_wrong_type_is_refused_before_anything_is_written(kind: Kind, value: object) -> None:
    with pytest.raises(TypeError):
        Sheet("Bad", (Column("x", kind),), ((value,),))  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "x" * 32, "a/b", "Q1?", "[x]"])
def test_a_sheet_name_excel_refuses_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="worksheet name"):
        Sheet(name, (Column("x"),))


def test_rows_must_match_the_columns() -> None:
    with pytest.raises(TypeError):
        Sheet("Rows", (Column("a"), Column("b")), (("only one",),))


def test_two_sheets_with_one_name_are_refused() -> None:
    with pytest.raises(ValueError, match="same name"):
        xlsx_bytes([Sheet("A", (Column("x"),)), Sheet("a", (Column("x"),))])
