"""One defused pass over a worksheet part: what calamine does not give, and the bounds calamine needs.

python-calamine gives cell values only.  This pass finds, for the same part: the rows and
columns that are hidden, the merged ranges (whole rows and columns too), the error cells
and the formulas saved without a value (calamine reads both as empty), an inline string
kept in ``<v>``, and the span from the first to the last ``<c>`` — calamine allocates a
dense grid over that span, so it is checked before calamine sees the part.

``survey`` takes only start tags (one Python call per element); ``read_raw`` also collects
each cell's stored text, for ``fallback.py`` when calamine cannot serve.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from functools import lru_cache

from qos_xl.core.problems import FileProblem, column_letter
from qos_xl.intake import xmlparts
from qos_xl.intake.book import ErrorValue
from qos_xl.intake.cells import xstring
from qos_xl.intake.zipguard import Limits, Package, corrupt

TEXT_CAP = 8 * 32_767            # characters of one stored value collected (escapes take room)
_MAX_COL_RANGES = 20_000
_XML_SPACE = "http://www.w3.org/XML/1998/namespace}space"
_SHEET_NAMESPACES = ("http://schemas.openxmlformats.org/spreadsheetml/2006/main",   # transitional
                     "http://purl.oclc.org/ooxml/spreadsheetml/main")                 # strict
_SURVEYED = frozenset(("c", "v", "f", "is", "row", "col", "mergeCell"))
_READ = _SURVEYED | {"t", "rPh"}
_DIGITS = "0123456789"
_COLUMNS: dict[str, int] = {}    # column letters -> index, filled as letters are met (<= 18,278 keys x 2 cases)


@lru_cache(maxsize=32_768)
def _column_index(letters: str) -> int:
    """'A' -> 1, 'XFD' -> 16384; 0 when not column letters (at most 3 of A-Z)."""
    if not 1 <= len(letters) <= 3 or not letters.isascii() or not letters.isalpha():
        return 0
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index


def cell_ref(ref: str, limits: Limits) -> tuple[int, int]:
    """'B12' -> (12, 2); file-corrupt when malformed or beyond the limits."""
    letters = ref.rstrip(_DIGITS)
    digits = ref[len(letters):]
    col = _COLUMNS.get(letters) or _column_index(letters)
    if not col or not digits or digits[0] == "0" or len(digits) > 9:
        raise corrupt(f"儲存格位置「{ref[:20]}」無效")
    _COLUMNS[letters] = col
    row = int(digits)
    if row > limits.max_rows or col > limits.max_cols:
        raise corrupt(f"儲存格位置 {ref[:20]} 超出 Excel 的範圍")
    return row, col


def cell_range(ref: str, limits: Limits) -> tuple[tuple[int, int, int, int], bool]:
    """'A1:C3' -> ((1, 1, 3, 3), False); whole columns 'A:B' and whole rows '2:3' span the sheet (True)."""
    first, _, last = ref.strip().replace("$", "").partition(":")
    last = last or first
    if first.isalpha() and last.isalpha():                   # whole columns
        c1, c2 = _column_index(first), _column_index(last)
        if c1 and c2 and max(c1, c2) <= limits.max_cols:
            return (1, min(c1, c2), limits.max_rows, max(c1, c2)), True
    elif first.isdigit() and last.isdigit() and first.isascii() and last.isascii():   # whole rows
        r1, r2 = int(first), int(last)
        if 1 <= min(r1, r2) and max(r1, r2) <= limits.max_rows and len(first) < 10 and len(last) < 10:
            return (min(r1, r2), 1, max(r1, r2), limits.max_cols), True
    r1, c1 = cell_ref(first, limits)
    r2, c2 = cell_ref(last, limits)
    return (min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)), False


def merge_spans(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint, non-adjacent (lo, hi) ranges covering the same integers."""
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            if hi > merged[-1][1]:
                merged[-1] = (merged[-1][0], hi)
        else:
            merged.append((lo, hi))
    return merged


@dataclass
class Survey:
    """What one pass found in a worksheet part."""

    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    whole_lines: bool = False                   # a merge over whole rows or columns (calamine refuses those)
    errors: dict[tuple[int, int], ErrorValue] = field(default_factory=dict)
    formulas: set[tuple[int, int]] = field(default_factory=set)   # formulas whose stored value is missing or blank
    inline_in_v: dict[tuple[int, int], str] = field(default_factory=dict)
    extent: tuple[int, int, int, int] | None = None   # rows and columns of the first and last <c>
    positioned: bool = True                     # every <c> carries its position (r="...")
    raw: list[tuple] = field(default_factory=list)   # read_raw: (pos, t, s, formula, value text or None, inline text or None)

    def grid(self) -> int:
        """Cells of the dense grid calamine would allocate for this sheet."""
        if self.extent is None:
            return 0
        r1, c1, r2, c2 = self.extent
        return (r2 - r1 + 1) * (c2 - c1 + 1)


class _Pass:
    """The state shared by both kinds of pass: rows, hidden columns, merges, limits."""

    def __init__(self, part: str, sheet: str, limits: Limits, names: frozenset[str]):
        self.names = names
        self.part = part[:80]
        self.sheet = sheet
        self.limits = limits
        self.found = Survey()
        self.row = 0
        self.row_digits: str | None = None        # the current row's r="..." text, to split cell refs fast
        self.col = 0
        self.cells = 0
        self.col_ranges: list[tuple[int, int]] = []
        self.main = set(_SHEET_NAMESPACES)        # the namespaces of cells ('ns}'), and the root element's
        self.kinds: dict[str, str] = {}

    def too_many(self, detail: str) -> FileProblem:
        return FileProblem("sheet-too-large", sheet=self.sheet, detail=detail)

    def kind(self, tag: str) -> str:
        """A tag -> the name this pass acts on ('c' in any namespace; the rest in SpreadsheetML's), else ''."""
        found = self.kinds.get(tag)
        if found is None:
            namespace, _, name = tag.rpartition("}")
            if not self.kinds:                    # the root element
                self.main.add(namespace)
            found = name if name in self.names and (name == "c" or namespace in self.main) else ""
            if len(self.kinds) < 4096:
                self.kinds[tag] = found
        return found

    def open_row(self, attrs) -> None:
        r = attrs.get("r")
        if r is None:
            self.row += 1
            self.row_digits = None
        else:
            r = r.strip()
            if not r.isascii() or not r.isdigit() or len(r) > 9 or r[0] == "0":
                raise corrupt(f"{self.part} 的列號「{r[:20]}」無效")
            self.row = int(r)
            self.row_digits = r
        if self.row > self.limits.max_rows:
            raise corrupt(f"{self.part} 的列號 {self.row} 超出 Excel 的範圍")
        self.col = 0
        if xmlparts.is_true(attrs.get("hidden")):
            self.found.hidden_rows.add(self.row)

    def position(self, ref: str | None) -> tuple[int, int]:
        """Where a <c> is: its r attribute, else the next column of the current row."""
        limits = self.limits
        if ref is not None:
            digits = self.row_digits
            if digits is not None and ref.endswith(digits):
                col = _COLUMNS.get(ref[: -len(digits)], 0)   # letters never hold a digit: a wrong split misses
                pos = (self.row, col) if col and col <= limits.max_cols else cell_ref(ref, limits)
            else:
                pos = cell_ref(ref, limits)
            self.col = pos[1]
            return pos
        self.found.positioned = False
        self.col += 1
        if self.col > limits.max_cols:
            raise corrupt(f"{self.part} 第 {self.row} 列的欄數超出 Excel 的範圍")
        if self.row < 1:
            raise corrupt(f"{self.part} 有不屬於任何列的儲存格")
        return self.row, self.col

    def count(self) -> None:
        self.cells += 1
        if self.cells > self.limits.max_cells * 5:
            raise self.too_many(f"儲存格（含空白）超過 {self.limits.max_cells * 5:,} 個")

    def hidden_col(self, attrs) -> None:
        if xmlparts.is_true(attrs.get("hidden")):
            lo, hi = attrs.get("min", "").strip(), attrs.get("max", "").strip()
            if lo.isascii() and lo.isdigit() and hi.isascii() and hi.isdigit() and len(lo) < 7 and len(hi) < 7:
                lo_i, hi_i = max(int(lo), 1), min(int(hi), self.limits.max_cols)
                if lo_i <= hi_i:
                    self.col_ranges.append((lo_i, hi_i))
                    if len(self.col_ranges) > _MAX_COL_RANGES:
                        self.col_ranges[:] = merge_spans(self.col_ranges)

    def merge_cell(self, attrs) -> None:
        ref = attrs.get("ref")
        if ref:
            span, whole = cell_range(ref, self.limits)
            self.found.merged.append(span)
            self.found.whole_lines = self.found.whole_lines or whole
            if len(self.found.merged) > self.limits.max_cells:
                raise self.too_many(f"合併儲存格超過 {self.limits.max_cells:,} 個")

    def finish(self) -> Survey:
        for lo, hi in merge_spans(self.col_ranges):
            self.found.hidden_cols.update(range(lo, hi + 1))
        return self.found


def survey(pkg: Package, info: zipfile.ZipInfo, raw: bytes | None, sheet: str, limits: Limits) -> Survey:
    """The start tags of a worksheet part, for calamine's read (``raw``: its bytes inflated by the
    guard, or None to stream it).

    One Python call per element is most of the cost, so the common path (a <c> with an r
    attribute that matches its row) is written out here rather than in ``_Pass``.
    """
    state = _Pass(info.filename, sheet, limits, _SURVEYED)
    found = state.found
    parser = xmlparts.defused_parser()
    expat = parser.parser
    kind_of = state.kinds.get
    classify = state.kind
    column_of = _COLUMNS.get
    max_cols = limits.max_cols
    most = limits.max_cells * 5
    count = 0
    r1 = c1 = 1 << 30             # the span of the <c>s
    r2 = c2 = 0
    row = 0                       # the current <row>, and its r="..." text to split cell refs fast
    digits = "\0"
    width = 0
    at_row = at_col = 0           # the current <c>
    t = None
    has_f = has_v = False
    text: list[str] = []
    kept = 0

    def close():
        """The cell before: a formula left without its value, an error, an inline string in <v>."""
        pos = (at_row, at_col)
        if has_f and not (has_v and (t == "str" or t == "inlineStr")):
            found.formulas.add(pos)
        if text:
            value = "".join(text)
            text.clear()
            if t == "e":
                found.errors[pos] = ErrorValue(value.strip())
            elif value:
                found.inline_in_v[pos] = xstring(value)

    def collect(chars):
        nonlocal kept
        if kept < TEXT_CAP:
            text.append(chars)
            kept += len(chars)

    def stop_collecting(_tag):
        expat.CharacterDataHandler = None
        expat.EndElementHandler = None

    def start(tag, attrs):
        nonlocal count, r1, c1, r2, c2, row, digits, width, at_row, at_col, t, has_f, has_v, kept
        name = kind_of(tag)
        if name is None:
            name = classify(tag)
        if name == "c":
            if has_f or text:
                close()
            count += 1
            if count > most:
                raise state.too_many(f"儲存格（含空白）超過 {most:,} 個")
            ref = attrs.get("r")
            col = column_of(ref[:-width], 0) if ref is not None and ref.endswith(digits) else 0
            if col and col <= max_cols:           # letters never hold a digit: a wrong split misses
                at_row = row
            else:
                at_row, col = state.position(ref)
            at_col = col
            if at_row < r1:
                r1 = at_row
            if at_row > r2:
                r2 = at_row
            if col < c1:
                c1 = col
            if col > c2:
                c2 = col
            t = attrs.get("t")
            has_f = has_v = False
        elif name == "v":
            has_v = True
            if t is not None and (t == "e" or t == "inlineStr") and count:   # the text of these is ours to read
                text.clear()
                kept = 0
                expat.CharacterDataHandler = collect
                expat.EndElementHandler = stop_collecting
        elif not name:
            return
        elif name == "f":
            has_f = True
        elif name == "row":
            if has_f or text:
                close()
            has_f = False
            state.open_row(attrs)
            row, digits = state.row, state.row_digits or "\0"      # "\0": no ref ends with it
            width = len(digits)
        elif name == "col":
            state.hidden_col(attrs)
        elif name == "mergeCell":
            state.merge_cell(attrs)
        elif name == "is":
            has_v = True

    expat.StartElementHandler = start
    xmlparts.feed(parser, pkg, info, raw)
    if has_f or text:
        close()
    if r2:
        found.extent = (r1, c1, r2, c2)
    return state.finish()


def read_raw(pkg: Package, info: zipfile.ZipInfo, raw: bytes | None, sheet: str, limits: Limits) -> Survey:
    """Every cell of a worksheet part with its stored text, in document order (``Survey.raw``)."""
    state = _Pass(info.filename, sheet, limits, _READ)
    found = state.found
    cells = found.raw
    classify = state.kind
    kind_of = state.kinds.get
    v_buf: list[str] = []
    is_buf: list[str] = []
    c_ref = c_t = c_s = None
    has_f = has_v = is_seen = False
    collect = None                 # the buffer character data goes to, when any
    in_t = in_is = False
    preserved = False
    t_buf: list[str] = []
    rph = 0
    kept = 0

    def start(tag, attrs):
        nonlocal c_ref, c_t, c_s, has_f, has_v, is_seen, collect, in_t, in_is, preserved, rph, kept
        name = kind_of(tag)
        if name is None:
            name = classify(tag)
        if not name:
            return
        if name == "c":
            c_ref, c_t, c_s = attrs.get("r"), attrs.get("t"), attrs.get("s")
            has_f = has_v = is_seen = False
        elif name == "v":
            has_v = True
            v_buf.clear()
            kept = 0
            collect = v_buf
        elif name == "row":
            state.open_row(attrs)
        elif name == "f":
            has_f = True
        elif name == "is":
            in_is = is_seen = True
            is_buf.clear()
            kept = 0
        elif name == "t":
            if in_is and not rph:
                in_t = True
                preserved = attrs.get(_XML_SPACE) == "preserve"
                t_buf.clear()
                collect = t_buf
        elif name == "rPh":
            rph += 1
        elif name == "col":
            state.hidden_col(attrs)
        elif name == "mergeCell":
            state.merge_cell(attrs)

    def end(tag):
        nonlocal collect, in_t, in_is, rph
        name = kind_of(tag)
        if name is None:
            name = classify(tag)
        if name == "v":
            collect = None
        elif name == "t":
            if in_t:
                piece = "".join(t_buf)
                is_buf.append(piece if preserved else piece.strip(" \t\r\n"))
                in_t = False
                collect = None
        elif name == "is":
            in_is = False
        elif name == "rPh":
            rph -= 1
        elif name == "c":
            state.count()
            pos = state.position(c_ref)
            cells.append((pos, c_t, c_s, has_f, "".join(v_buf) if has_v else None, "".join(is_buf) if is_seen else None))

    def data(chars):
        nonlocal kept
        if collect is not None:
            kept += len(chars)
            if kept <= TEXT_CAP:           # nothing longer than Excel's limit is kept anyway
                collect.append(chars)

    xmlparts.parse(pkg, info, start, end, data, raw=raw)
    return state.finish()


def cell_name(pos: tuple[int, int]) -> str:
    return f"{column_letter(pos[1])}{pos[0]}"
