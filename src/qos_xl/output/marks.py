"""qos-xl's own marks in an annotated copy: recorded as they are made, taken off exactly before the next annotation.

A unit corrects the annotated copy and sends it back; when that copy is annotated again,
the earlier run's fills, borders and comments must go, or a fixed cell still reads as
wrong.  So ``annotate`` records, in the copy itself, every cell it marks:

- a hidden defined name per cell (``qos_mark_1`` → ``'自行檢核表'!$F$12``), which Excel and
  LibreOffice move with the cell when the unit inserts or deletes rows and columns;
- a very hidden sheet ``qos_marks`` (skipped by the reader, like ``qos_meta``): row 1 a
  format tag, then one row per name: the name, the comment qos-xl wrote, the cell's own
  comment before (text and author), and a cell that wears the cell's own fill and border.

``take_off`` puts each recorded cell's fill and border back, and its own comment in place
of the one qos-xl wrote; what the unit typed after ours stays, a comment the unit rewrote
is theirs and stays whole.
The record is the unit's file, so it is untrusted: a row that does not check out is
skipped, too many rows are not read, and nothing in it can make the annotation fail.
"""

from __future__ import annotations

import re
from copy import copy
from dataclasses import dataclass

from openpyxl.comments import Comment
from openpyxl.utils.cell import absolute_coordinate, column_index_from_string, coordinate_from_string, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName

from qos_xl.core.text import MAX_CELL_CHARS
from qos_xl.core.vocabulary import MARKS_SHEET, PROBLEM_LIST_SHEET

NAME_PREFIX = "qos_mark_"
RECORD_TAG = "qos-xl marks 1"        # row 1, column A: which layout the rows below follow
MAX_MARKS = 20_000                   # cells recorded, and record rows read back, at most
# record columns (1-based): name, comment written, comment before, its author, the cell's own fill and border
NAME, WRITTEN, BEFORE, AUTHOR, LOOK = 1, 2, 3, 4, 5
_NAME = re.compile(rf"^{NAME_PREFIX}[1-9][0-9]{{0,5}}$")
_CELL_REF = re.compile(r"^[A-Z]{1,3}[1-9][0-9]{0,6}$")


@dataclass(frozen=True)
class Mark:
    """One marked cell: what it looked like before, and the comment qos-xl gave it."""

    cell: object                 # the openpyxl cell
    fill: object
    border: object
    comment: Comment | None
    written: str


def valid_ref(cell: str | None) -> bool:
    """A single cell's reference (F12) inside the sheet's bounds."""
    if not cell or not _CELL_REF.match(cell):
        return False
    letters, row = coordinate_from_string(cell)
    return column_index_from_string(letters) <= 16384 and row <= 1048576


def before(cell) -> tuple:
    """The cell's own fill, border and comment, to hand to ``Mark`` once it is marked."""
    return copy(cell.fill), copy(cell.border), cell.comment


def take_off(wb) -> None:
    """Restore every cell an earlier annotation recorded, then drop the record.

    Never raises on what it finds: a malformed record is dropped unread."""
    try:
        _restore(wb)
    except Exception:  # noqa: BLE001 - the record came back from a unit: whatever is wrong with it, ignore it
        pass
    if MARKS_SHEET in wb.sheetnames:
        wb.remove(wb[MARKS_SHEET])
    for name in [n for n in wb.defined_names if n.casefold().startswith(NAME_PREFIX)]:
        del wb.defined_names[name]


def _text(value) -> str | None:
    return value if isinstance(value, str) and value else None


def _destination(wb, name: str):
    """The single cell a recorded name points at, or None."""
    if not _NAME.match(name) or name not in wb.defined_names:
        return None
    places = list(wb.defined_names[name].destinations)
    if len(places) != 1:
        return None
    title, ref = places[0]
    title = title.replace("''", "'")           # openpyxl hands the quoted form's doubled quotes back as they are
    ref = ref.replace("$", "")
    if title not in wb.sheetnames or title in (MARKS_SHEET, PROBLEM_LIST_SHEET) or not valid_ref(ref):
        return None
    ws = wb[title]
    return ws[ref] if hasattr(ws, "cell") else None    # not a chart sheet


def _restore(wb) -> None:
    if MARKS_SHEET not in wb.sheetnames:
        return
    record = wb[MARKS_SHEET]
    if not hasattr(record, "cell") or record.cell(1, 1).value != RECORD_TAG:
        return
    done: set[tuple[str, str]] = set()
    for row in record.iter_rows(min_row=2, max_row=min(record.max_row, MAX_MARKS + 1), max_col=LOOK):
        name = row[NAME - 1].value
        cell = _destination(wb, name) if isinstance(name, str) else None
        if cell is None or (cell.parent.title, cell.coordinate) in done:
            continue
        done.add((cell.parent.title, cell.coordinate))
        look = row[LOOK - 1]
        cell.fill = copy(look.fill)
        cell.border = copy(look.border)
        written = _text(row[WRITTEN - 1].value)
        now = cell.comment.text if cell.comment is not None else None
        if written is not None and isinstance(now, str) and now.startswith(written):
            own, author = _text(row[BEFORE - 1].value), _text(row[AUTHOR - 1].value)
            added = now[len(written):].strip()       # what the unit typed after ours: kept
            text = "\n".join(t for t in (own, added) if t)
            cell.comment = Comment(text, author or "") if text else None


def _put(ws, row: int, col: int, text: str | None) -> None:
    if text:
        cell = ws.cell(row=row, column=col)
        cell.value = text
        cell.data_type = "s"                   # text, never a formula, whatever it starts with


def record(wb, marks: list[Mark]) -> None:
    """Write the record of ``marks`` into ``wb``: a very hidden sheet and a hidden name per cell."""
    if not marks:
        return
    ws = wb.create_sheet(MARKS_SHEET)
    ws.sheet_state = "veryHidden"
    _put(ws, 1, NAME, RECORD_TAG)
    row = 1
    for mark in marks[:MAX_MARKS]:
        texts = (mark.written, mark.comment.text if mark.comment else None, mark.comment.author if mark.comment else None)
        if any(t is not None and len(t) > MAX_CELL_CHARS for t in texts):
            continue                           # would not fit a cell: recorded inexactly is worse than not at all
        row += 1
        name = f"{NAME_PREFIX}{row - 1}"
        cell = mark.cell
        wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(cell.parent.title)}!{absolute_coordinate(cell.coordinate)}",
                                             hidden=True)
        _put(ws, row, NAME, name)
        for col, text in zip((WRITTEN, BEFORE, AUTHOR), texts):
            _put(ws, row, col, text)
        look = ws.cell(row=row, column=LOOK)
        look.fill = copy(mark.fill)
        look.border = copy(mark.border)
