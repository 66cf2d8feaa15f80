"""Writing workbooks safely: text stays text, files appear atomically, pages print on A4."""

from __future__ import annotations

import functools
import math
import shutil
import sys
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path

import xlsxwriter
from xlsxwriter.packager import Packager
from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

from qos_xl.core.text import safe_text


class WriteError(Exception):
    """xlsxwriter refused a value; raised instead of silently losing it."""


def new_workbook(path: Path, *, fast_save: bool = False, **options) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook where no string ever becomes a formula or a link."""
    kind = FastSaveWorkbook if fast_save else xlsxwriter.Workbook
    return kind(str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, **options})


def _text_element(text: str) -> str:
    """The ``<t>`` element xlsxwriter writes for a plain shared string, in one step for common text."""
    if "_x" in text or not text.isprintable():       # printable: no control character, no line end
        text = XMLwriter._escape_control_characters(text)
    space = ' xml:space="preserve"' if text and (text[0].isspace() or text[-1].isspace()) else ""
    if "&" in text or "<" in text or ">" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<t{space}>{text}</t>"


class _FastSharedStrings(SharedStrings):
    """xlsxwriter's sharedStrings.xml, the same bytes, each plain string rendered in one step.

    xlsxwriter runs several regular expressions per string (~8 µs): at city scale, with
    tens of thousands of narratives, that was a sixth of the saving time.
    """

    def _write_sst_strings(self) -> None:
        chunk: list[str] = []
        for string in self.string_table.string_array:
            if string.startswith("<r>") and string.endswith("</r>"):   # xlsxwriter's rich strings: its own way
                self.fh.write("".join(chunk))
                chunk = []
                self._write_si(string)
                continue
            chunk.append(f"<si>{_text_element(string)}</si>")
            if len(chunk) >= 10_000:
                self.fh.write("".join(chunk))
                chunk = []
        self.fh.write("".join(chunk))


class FastSaveWorkbook(xlsxwriter.Workbook):
    """Saved faster: shared strings written in one step each, the zip at deflate level 1 instead of 6.

    For the city-scale consolidated workbook, where compressing ~40 MB of sheet XML was a
    fifth of the writing time (level 1: three times faster, the file about 40 % larger).
    xlsxwriter offers no option for either, so its ``ZipFile`` and ``SharedStrings`` are
    swapped for the duration of the save.
    """

    def _store_workbook(self) -> None:
        workbook = sys.modules[xlsxwriter.Workbook.__module__]
        packager = sys.modules[Packager.__module__]
        zip_file, shared_strings = workbook.ZipFile, packager.SharedStrings
        workbook.ZipFile = functools.partial(zip_file, compresslevel=1)
        packager.SharedStrings = _FastSharedStrings
        try:
            super()._store_workbook()
        finally:
            workbook.ZipFile, packager.SharedStrings = zip_file, shared_strings


def write_string(ws, row: int, col: int, value: object, fmt=None) -> None:
    """Write untrusted text as a string cell (never a formula or URL) and check the result."""
    code = ws.write_string(row, col, safe_text(value), fmt)
    if code < 0:
        raise WriteError(f"xlsxwriter write_string failed ({code}) at row {row + 1}, col {col + 1}")


def write_value(ws, row: int, col: int, value: object, fmt=None) -> None:
    """Numbers as numbers, None as blank, everything else as a string."""
    if value is None or value == "":
        code = ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        code = ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        code = ws.write_number(row, col, value, fmt)
    else:
        return write_string(ws, row, col, value, fmt)
    if code < 0:
        raise WriteError(f"xlsxwriter write failed ({code}) at row {row + 1}, col {col + 1}")


class BulkWorksheet(Worksheet):
    """A worksheet whose table body is written as ready XML, column by column, kept on disk.

    xlsxwriter keeps an object per cell and serialises each with several calls, ~12 µs a
    cell; a city-scale detail sheet has about a million cells.  Rows given to ``add_rows``
    go below every cell written the usual way: they are rendered at once to ``<row>`` XML,
    a column at a time (strings through the workbook's shared-string table, so they stay
    text), spooled to a scratch file, and copied into the sheet part when the workbook
    closes.  Memory stays flat however many rows there are.
    """

    def __init__(self):
        super().__init__()
        self._spool = None
        self._first_bulk_row: int | None = None
        self._next_bulk_row = 0
        self._strings: dict[str, int] = {}     # value -> shared-string index, made text once
        self._registered = 0                    # strings added to the table (each counted once there)

    def add_rows(self, first_row: int, columns: list[list], xf_columns: list[list[int]], heights: list) -> None:
        """Rows from ``first_row`` down: per column its values (str, int/float, bool, None = formatted
        blank) and its cells' xf indices; per row a height in points or None."""
        count = len(heights)
        if not count:
            return
        last_row = first_row + count - 1
        floor = max(self._next_bulk_row, 0 if self.dim_rowmax is None else self.dim_rowmax + 1)
        if first_row < floor:
            raise WriteError(f"bulk row {first_row + 1} must come below every row already written")
        if any(len(c) != count for c in (*columns, *xf_columns)):
            raise WriteError("bulk columns of different lengths")
        if self._check_dimensions(first_row, 0) < 0 or self._check_dimensions(last_row, len(columns) - 1) < 0:
            raise WriteError(f"rows {first_row + 1}-{last_row + 1} are outside the sheet")
        if self._first_bulk_row is None:
            self._first_bulk_row = first_row
        self._next_bulk_row = last_row + 1
        numbers = range(first_row + 1, last_row + 2)
        cells = [self._column_xml(xl_col_to_name(col), numbers, values, xfs)
                 for col, (values, xfs) in enumerate(zip(columns, xf_columns))]
        starts = [f'<row r="{r}">' if h is None else f'<row r="{r}" ht="{h:.16g}" customHeight="1">'
                  for r, h in zip(numbers, heights)]
        if self._spool is None:
            self._spool = tempfile.TemporaryFile("w+", encoding="utf-8", dir=self.tmpdir)
        self._spool.write("".join(f"{start}{''.join(row)}</row>" for start, *row in zip(starts, *cells)))

    def _column_xml(self, letter: str, numbers: range, values: list, xfs: list[int]) -> list[str]:
        """``<c>`` elements of one column; each distinct (value, style) is rendered once."""
        if len(set(xfs)) == 1:
            xf = xfs[0]
            keys, counts = values, Counter(values)
            tails = {v: self._cell_tail(v, xf) for v in counts}       # in order of first appearance
            strings = sum(n for v, n in counts.items() if v.__class__ is str and v)
        else:
            keys = list(zip(values, xfs))
            counts = Counter(keys)
            tails = {k: self._cell_tail(*k) for k in counts}
            strings = sum(n for (v, _), n in counts.items() if v.__class__ is str and v)
        # sharedStrings' count attribute: every string reference (informative; readers do not rely on it)
        self.str_table.count += strings - self._registered
        self._registered = 0
        return [f'<c r="{letter}{r}{tail}' for r, tail in zip(numbers, map(tails.__getitem__, keys))]

    def _cell_tail(self, value, xf: int) -> str:
        """What follows the cell reference: style, type and value."""
        if value is None or value == "":
            return f'" s="{xf}"/>'
        if value is True or value is False:
            return f'" s="{xf}" t="b"><v>{int(value)}</v></c>'
        if value.__class__ is not str and isinstance(value, (int, float)) and math.isfinite(value):
            return f'" s="{xf}"><v>{value:.16G}</v></c>'
        index = self._strings.get(value)
        if index is None:
            index = self._strings[value] = self.str_table._get_shared_string_index(safe_text(value))
            self._registered += 1
        return f'" s="{xf}" t="s"><v>{index}</v></c>'

    def _write_rows(self) -> None:
        if self._first_bulk_row is None:
            return super()._write_rows()
        if any(self.table[row] for row in self.table if row >= self._first_bulk_row):
            raise WriteError(f"cells written at or below bulk row {self._first_bulk_row + 1}")
        last = self.dim_rowmax
        if self.dim_rowmin is not None and self.dim_rowmin < self._first_bulk_row:
            self.dim_rowmax = self._first_bulk_row - 1
            try:
                super()._write_rows()
            finally:
                self.dim_rowmax = last
        self._spool.seek(0)
        shutil.copyfileobj(self._spool, self.fh, 1 << 20)
        self._spool.close()
        self._spool = None


class _CharWidths(dict):
    """Width of each character met (2: CJK and full-width), looked up once; a few thousand entries
    in practice, and at most ``LIMIT`` remembered whatever the input."""

    LIMIT = 70_000

    def __missing__(self, ch: str) -> int:
        width = 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if len(self) < self.LIMIT:
            self[ch] = width
        return width


_CHAR_WIDTHS = _CharWidths()


def display_width(text: str) -> int:
    """Width in Excel character units: CJK and full-width characters count double."""
    return len(text) if text.isascii() else sum(map(_CHAR_WIDTHS.__getitem__, text))


def row_height(texts_and_widths, line_height: float = 16.5, min_lines: int = 1) -> float:
    """Row height in points that shows every wrapped cell whole."""
    lines = min_lines
    for text, width in texts_and_widths:
        text = "" if text is None else str(text)
        need = sum(max(1, math.ceil(display_width(part) / max(width - 1, 1))) for part in text.split("\n"))
        lines = max(lines, need)
    return round(lines * line_height + 4, 1)


def print_a4(ws, *, header_rows: tuple[int, int] | None, title: str = "", landscape: bool = True) -> None:
    """A4, landscape, one page wide, repeated header rows, page numbers in the footer."""
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if header_rows is not None:
        ws.repeat_rows(*header_rows)
    if title:
        ws.set_header(f"&L&9{title.replace('&', '&&')}")
    ws.set_footer("&C&9第 &P 頁，共 &N 頁")
