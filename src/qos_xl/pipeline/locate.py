"""Reading a unit's workbook: find the data sheet, the header block and the table by their labels.

The reader never trusts coordinates: rows and columns may be inserted, sheets reordered,
labels padded with spaces or typed in full-width characters.  What it finds is a
``Submission`` of raw cell values with their positions; judging them is ``validate``'s job.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field

from qos_xl.core.problems import Problem, cell_name, column_letter, make_problem
from qos_xl.core.text import key
from qos_xl.core.values import shown_date
from qos_xl.core.vocabulary import (FORM_NAMES, HELP_SHEET, MARKS_SHEET, META_SHEET, PROBLEM_LIST_SHEET, SELFCHECK, SELFCHECK_COLUMNS,
                                    SELFCHECK_INPUTS, SELFCHECK_LABELS, WORKPLAN, WORKPLAN_COLUMNS, WORKPLAN_LABELS,
                                    WORKPLAN_SECTIONS)
from qos_xl.intake.spreadsheet import ErrorValue, Sheet, Workbook

# the fields of a table row that a Submission keeps (the plan's own texts are not the unit's input)
ROW_FIELDS = {SELFCHECK: ("code", *SELFCHECK_INPUTS), WORKPLAN: tuple(WORKPLAN_COLUMNS)}
# sheets qos-xl itself puts in a template or an annotated copy: never reported as stray data
OWN_SHEETS = {key(n) for n in (HELP_SHEET, META_SHEET, "選項", PROBLEM_LIST_SHEET, MARKS_SHEET)}
FORM_SHEET_KEYS = {key(FORM_NAMES[form]) for form in (SELFCHECK, WORKPLAN)}
# the columns whose header must be found for the table to be read at all
_REQUIRED = {SELFCHECK: ("code", "status"), WORKPLAN: ("area", "focus")}


@dataclass
class Located:
    """A raw value and where it was: (row, col), 1-based; or, in a document, a place named in words."""

    value: object
    row: int
    col: int
    place: str | None = None                # a document's position: 「文件標題」, 標題「壹、計畫依據」下

    @property
    def cell(self) -> str:
        return self.place or cell_name(self.row, self.col)


@dataclass(frozen=True)
class Layout:
    """Where a file's table lies: its sheet and each field's column, or a document's rows named in words."""

    sheet: str | None
    columns: dict[str, str]                 # field -> column letter
    places: dict[int, str] | None = None    # a document's rows: row -> 「第 2 個表格第 5 列」

    def cell_of(self, name: str, row: int) -> str | None:
        """Where a table row's field is, as the user finds it: F12, or 第 2 個表格第 5 列."""
        if self.places is not None:
            return self.places.get(row)
        letter = self.columns.get(name)
        return f"{letter}{row}" if letter else None


@dataclass
class Submission:
    """What one file holds, as found: header values, table rows, and reading problems."""

    form: str
    sheet: str
    header: dict[str, Located]
    rows: list[dict[str, object]]           # each: {"_row": n, field: raw value, ...}
    columns: dict[str, str]                 # field -> column letter
    date1904: bool = False
    table_row: int = 0                      # the row of the table's header (1-based); 0 when there is none
    problems: list[Problem] = field(default_factory=list)
    places: dict[int, str] | None = None    # a document's rows named the Word way: row -> 「第 2 個表格第 5 列」

    @property
    def layout(self) -> Layout:
        """The table's place, kept after the rows are read (``Checked.layouts``)."""
        return Layout(self.sheet, self.columns, self.places)

    def cell_of(self, name: str, row: int) -> str | None:
        """Where a table row's field is, as the user finds it: F12, or 第 2 個表格第 5 列."""
        return self.layout.cell_of(name, row)


_LABEL_MAX_CHARS = 24  # labels are short: longer text is never one


def _label_index(sheet: Sheet) -> dict[str, list[tuple[int, int]]]:
    index: dict[str, list[tuple[int, int]]] = {}
    for (row, col), value in sheet.cells.items():
        if isinstance(value, str) and len(value) <= _LABEL_MAX_CHARS:
            index.setdefault(_label_key(value), []).append((row, col))
    return index


@functools.lru_cache(maxsize=4096)
def _label_key(value: str) -> str:
    return key(value)


def _find_header_row(index: dict[str, list[tuple[int, int]]], columns: dict[str, str], required: tuple[str, ...]):
    """The row holding the table header: the row where the most column labels stand."""
    rows: dict[int, dict[str, int]] = {}
    for name, label in columns.items():
        for row, col in index.get(key(label), ()):
            rows.setdefault(row, {}).setdefault(name, col)
    candidates = [(len(found), row, found) for row, found in rows.items() if all(r in found for r in required)]
    if not candidates:
        return None, {}
    _, row, found = max(candidates, key=lambda c: (c[0], -c[1]))
    return row, found


def _detect(workbook: Workbook):
    """(form, sheet, header row, found columns, label index) of the best data sheet, or None."""
    best = None
    for order, sheet in enumerate(workbook.sheets):
        index = _label_index(sheet)
        for form, columns in ((SELFCHECK, SELFCHECK_COLUMNS), (WORKPLAN, WORKPLAN_COLUMNS)):
            row, found = _find_header_row(index, columns, _REQUIRED[form])
            if row is None:
                continue
            named = key(sheet.name) == key(FORM_NAMES[form])
            score = (named, sheet.state == "visible", len(found) / len(columns), -order)
            if best is None or score > best[0]:
                best = (score, form, sheet, row, found, index)
    return best[1:] if best else None


def _value_right_of(sheet: Sheet, row_cols: list[int], row: int, col: int, stop_cols: set[int]) -> Located:
    """The first non-empty cell right of a label, before the next label; else the adjacent cell.

    ``row_cols``: the sorted columns of the row's non-empty cells."""
    for c in row_cols:
        if c <= col:
            continue
        if c in stop_cols:
            break
        return Located(sheet.cells[(row, c)], row, c)
    return Located(None, row, col + 1)


def _header_block(sheet, index, labels: dict[str, str], above_row: int | None, add, seen: set) -> dict[str, Located]:
    """Each label's value; the label cells themselves are added to ``seen``."""
    positions = {}
    for name, label in labels.items():
        spots = [rc for rc in index.get(key(label), ()) if above_row is None or rc[0] < above_row]
        if spots:
            positions[name] = min(spots)
        else:
            add("label-missing", label=label)
    seen.update(positions.values())
    label_cols_by_row: dict[int, set[int]] = {}
    for row, col in positions.values():
        label_cols_by_row.setdefault(row, set()).add(col)
    cols_by_row: dict[int, list[int]] = {row: [] for row in label_cols_by_row}
    for row, col in sheet.cells:
        if row in cols_by_row:
            cols_by_row[row].append(col)
    for cols in cols_by_row.values():
        cols.sort()
    header = {}
    for name, (row, col) in positions.items():
        header[name] = _value_right_of(sheet, cols_by_row[row], row, col, label_cols_by_row[row])
    return header


def read_submission(workbook: Workbook, file: str) -> Submission | list[Problem]:
    """Locate the form in a workbook; a list of problems when no form can be found."""
    detected = _detect(workbook)
    if detected is None:
        return [make_problem("form-unknown", file=file)]
    form, sheet, header_row, found, index = detected
    problems: list[Problem] = []

    def add(code, cell=None, value=None, sheet_name=None, **params):
        problems.append(make_problem(code, file=file, sheet=sheet_name or sheet.name, cell=cell, value=value, **params))

    all_columns = SELFCHECK_COLUMNS if form == SELFCHECK else WORKPLAN_COLUMNS
    for name, label in all_columns.items():
        if name not in found:
            add("label-missing", label=label)
    used: set[tuple[int, int]] = set()
    if form == SELFCHECK:
        header = _header_block(sheet, index, SELFCHECK_LABELS, header_row, add, used)
    else:
        header = _header_block(sheet, index, WORKPLAN_LABELS, header_row, add, used)
        header.update(_header_block(sheet, index, WORKPLAN_SECTIONS, None, add, used))
    used |= {(loc.row, loc.col) for loc in header.values()}
    rows, table_cells = _table_rows(sheet, form, header_row, found, header)
    used |= table_cells
    steps = {row["_row"]: key(row.get("code")) for row in rows} if form == SELFCHECK else {}
    _report_sheet_oddities(workbook, sheet, header_row, found, used, add, steps)
    submission = Submission(
        form=form,
        sheet=sheet.name,
        header=header,
        rows=rows,
        columns={name: column_letter(col) for name, col in found.items()},
        date1904=workbook.date1904,
        table_row=header_row,
        problems=problems,
    )
    return submission


def _table_rows(sheet: Sheet, form: str, header_row: int, found: dict[str, int], header: dict[str, Located]):
    """Table rows below the header, as raw values; and the cells they cover."""
    col_of = found
    stop_row = sheet.max_row + 1
    if form == WORKPLAN and "review" in header:
        review = header["review"]
        if review.row > header_row:
            stop_row = review.row
    by_row: dict[int, dict[int, object]] = {}
    for (r, c), value in sheet.cells.items():
        if header_row < r < stop_row:
            by_row.setdefault(r, {})[c] = value
    for (r, c) in sheet.uncached:
        if header_row < r < stop_row:
            by_row.setdefault(r, {}).setdefault(c, None)
    rows = []
    kept = ROW_FIELDS[form]
    covered: set[tuple[int, int]] = set()
    for r in sorted(by_row):
        cells = by_row[r]
        values = {name: cells.get(col) for name, col in col_of.items()}
        if form == SELFCHECK and not _is_step_row(values):
            continue
        if not any(v not in (None, "") for v in values.values()) and not any((r, c) in sheet.uncached for c in col_of.values()):
            continue
        row = {name: values[name] for name in kept if name in values}  # what validation reads, no plan texts
        row["_row"] = r
        rows.append(row)
        covered |= {(r, c) for c in col_of.values()}
    return rows, covered


def _is_step_row(values: dict[str, object]) -> bool:
    """A self-check row is a step row when its 項次 looks like a code or an input column is filled."""
    code = key(values.get("code"))
    if code.count("-") == 2 and code.replace("-", "").isdigit():
        return True
    return any(values.get(name) not in (None, "") for name in SELFCHECK_INPUTS)


def _report_sheet_oddities(workbook: Workbook, sheet: Sheet, header_row: int, found: dict[str, int], used, add,
                           steps: dict[int, str]) -> None:
    """Problems that the cell values alone do not show: formulas, errors, merges, hidden and stray data.

    ``steps``: a self-check row's 項次, by sheet row, so that a problem in a step's row names it."""
    table_cols = set(found.values())

    def at_step(row: int) -> dict:
        code = steps.get(row)
        return {"step": code, "at_step": f"項次 {code}："} if code else {}

    for r, c in sorted(sheet.uncached):
        if (r, c) in used:
            add("cell-formula-uncached", cell=cell_name(r, c), **at_step(r))
    errors = sorted((rc, value) for rc, value in sheet.cells.items() if isinstance(value, ErrorValue) and rc in used)
    for (r, c), value in errors:
        add("cell-error-value", cell=cell_name(r, c), value=str(value), **at_step(r))
    for min_row, min_col, max_row, max_col in sheet.merged:
        if max_row > header_row and max_row > min_row and table_cols & set(range(min_col, max_col + 1)):
            add("merged-cells", cell=cell_name(min_row, min_col),
                range=f"{cell_name(min_row, min_col)}:{cell_name(max_row, max_col)}")
    hidden_rows = sorted({r for (r, c) in used if r in sheet.hidden_rows}) if sheet.hidden_rows else []
    if hidden_rows:
        add("hidden-data", cell=cell_name(hidden_rows[0], min(table_cols)), what=f"隱藏的列（第 {hidden_rows[0]} 列等 {len(hidden_rows)} 列）")
    hidden_cols = sorted({c for (r, c) in used if c in sheet.hidden_cols}) if sheet.hidden_cols else []
    if hidden_cols:
        add("hidden-data", cell=cell_name(header_row, hidden_cols[0]), what=f"隱藏的欄（{column_letter(hidden_cols[0])} 欄）")
    stray = sorted((rc, value) for rc, value in sheet.cells.items() if rc[0] > header_row and rc not in used)
    for (r, c), value in stray:
        shown = shown_date(value, date1904=workbook.date1904) if isinstance(value, datetime.date) else str(value)
        add("cell-outside-table", cell=cell_name(r, c), value=shown[:50])   # a date as 102/06/27, as units read dates
    for other in workbook.sheets:
        if other is sheet or key(other.name) in OWN_SHEETS or not other.cells:
            continue
        if other.state != "visible":
            add("hidden-data", sheet_name=other.name, what=f"隱藏的工作表「{other.name}」")
