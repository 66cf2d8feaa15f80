"""Cell values from the stored text of each cell, for the .xlsx sheets python-calamine cannot read safely or at all.

Why this module exists (measured on ``../shared/corpus/realworld``, README there):

* calamine refuses a whole workbook that lists a sheet with an empty relationship id (how
  Excel 2013/2016 keep old macro sheets), or holds an XLM macro sheet, and it refuses a sheet
  with a whole-column merge (``<mergeCell ref="A:A"/>``): legitimate files that must be read;
* calamine allocates a dense grid from the first to the last cell of a sheet: a two-cell
  sheet with A1 and XFD1048576 makes it ask for 550 GB and abort the process, and a
  shared-strings part is held whole.  ``xlsx.py`` lets calamine read a sheet only when that
  grid and those parts fit the bounds in ``Limits``; the others come here, where the cost
  follows the cells present, not their span, and only the shared strings used are kept.

What a cell becomes follows calamine's rules (its number-format test, the date / time /
datetime / duration split of python-calamine, its whitespace rule for ``<t>``), so a sheet
reads the same whichever way it went; the values then go through ``cells.cell_value`` like
calamine's.
"""

from __future__ import annotations

import math
import zipfile
from datetime import datetime, timedelta

from qos_xl.core.values import excel_serial_to_datetime
from qos_xl.intake import xmlparts
from qos_xl.intake.book import ErrorValue
from qos_xl.intake.cells import cell_value, xstring
from qos_xl.intake.sheetpass import TEXT_CAP, Survey, cell_name
from qos_xl.intake.zipguard import Package, corrupt

DATE, DURATION, OTHER = "date", "duration", ""
_MAX_STYLES = 200_000                                    # Excel allows 64,000; the rest read as General
_BUILTIN = {**dict.fromkeys(("14", "15", "16", "17", "18", "19", "20", "21", "22", "45", "47"), DATE), "46": DURATION}
_XML_SPACE = "http://www.w3.org/XML/1998/namespace}space"
_WHITESPACE = " \t\r\n"


def format_kind(code: str) -> str:
    """A number format code -> DATE, DURATION or OTHER, as calamine decides (first section only)."""
    escaped = quoted = ampm = hms = False
    brackets = 0
    prev = " "
    for ch in code:
        if escaped:
            escaped = False
        elif ch in "_\\*":
            escaped = True
        elif quoted:
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == ";":
            return OTHER
        elif ch == "[":
            brackets += 1
        elif ch == "]" and brackets == 1 and hms:
            return DURATION
        elif ch == "]":
            brackets = max(brackets - 1, 0)
        elif brackets == 0 and not ampm and ch in "aA":
            ampm = True
        elif brackets == 0 and ampm and ch in "pmPM/":
            return DATE
        elif brackets == 0 and not ampm and ch in "dmhysDMHYS":
            return DATE
        elif not (hms and ch.lower() == prev.lower()):
            hms = prev == "[" and ch in "mhsMHS"
        prev = ch
    return OTHER


def cell_formats(pkg: Package, info: zipfile.ZipInfo | None) -> list[str]:
    """Each cell style's number format kind, by the index a cell's s="..." gives."""
    if info is None:
        return []
    codes: dict[str, str] = {}
    kinds: list[str] = []
    where = {"numFmts": 0, "cellXfs": 0}

    def start(tag, attrs):
        name = xmlparts.local(tag)
        if name in where:
            where[name] += 1
        elif name == "numFmt" and where["numFmts"] and len(codes) < _MAX_STYLES:
            if "numFmtId" in attrs and "formatCode" in attrs:
                codes[attrs["numFmtId"]] = attrs["formatCode"][:1000]
        elif name == "xf" and where["cellXfs"] and len(kinds) < _MAX_STYLES:
            fmt = attrs.get("numFmtId")
            if fmt is None:
                kinds.append(OTHER)
            else:
                code = codes.get(fmt)
                kinds.append(format_kind(code) if code is not None else _BUILTIN.get(fmt, OTHER))

    def end(tag):
        name = xmlparts.local(tag)
        if name in where:
            where[name] -= 1

    xmlparts.parse(pkg, info, start, end)
    return kinds


def shared_strings(pkg: Package, info: zipfile.ZipInfo, needed: set[int]) -> dict[int, str]:
    """The shared strings at the indices ``needed``, parsing up to the last one needed."""
    strings: dict[int, str] = {}
    last = max(needed)
    item: list[str] = []
    piece: list[str] = []
    index = -1
    in_si = in_t = preserved = False
    rph = kept = 0

    def start(tag, attrs):
        nonlocal in_si, in_t, preserved, rph, kept
        name = xmlparts.local(tag)
        if name == "t":
            if in_si and not rph:
                in_t = True
                preserved = attrs.get(_XML_SPACE) == "preserve"
                piece.clear()
        elif name == "si":
            in_si = True
            item.clear()
            kept = 0
        elif name == "rPh":
            rph += 1

    def end(tag):
        nonlocal in_si, in_t, rph, index
        name = xmlparts.local(tag)
        if name == "t":
            if in_t:
                text = "".join(piece)
                item.append(text if preserved else text.strip(_WHITESPACE))
                in_t = False
        elif name == "si":
            in_si = False
            index += 1
            if index in needed:
                strings[index] = xstring("".join(item))
                if index >= last:
                    raise xmlparts.Stop
        elif name == "rPh":
            rph -= 1

    def data(text):
        nonlocal kept
        if in_t:
            kept += len(text)
            if kept <= TEXT_CAP:
                piece.append(text)

    xmlparts.parse(pkg, info, start, end, data)
    return strings


def _iso(text: str):
    """A t="d" cell as python-calamine gives it: datetime, time or date, else the text."""
    raw = text.strip()
    try:
        if "T" in raw:
            value = datetime.fromisoformat(raw)
            return raw if value.tzinfo is not None else value      # calamine reads no time zone
        if ":" in raw:
            return datetime.fromisoformat("1899-12-31T" + raw).time()
        return datetime.fromisoformat(raw).date()
    except ValueError:
        return raw


def _dated(value: float, kind: str, date1904: bool):
    """A number shown in a date or duration format -> what python-calamine gives for it, except a
    negative one: the date before 1900 LibreOffice stores so (102/6/28 typed in zh-TW becomes
    the year 102 AD; ``core.values`` reads it back), as LibreOffice and openpyxl show it, where
    calamine keeps only the time of day."""
    if kind == DURATION:
        return timedelta(milliseconds=round(value * 86_400_000))
    if value < 0:
        shown = excel_serial_to_datetime(value, date1904)
        return value if shown is None else shown
    if value < 1:
        return excel_serial_to_datetime(value - math.floor(value)).time()
    shown = excel_serial_to_datetime(value, date1904)
    if shown is None:
        return value
    return shown.date() if value.is_integer() else shown


class Cells:
    """Turns the raw cells of sheets into values, with the shared strings and styles read once."""

    def __init__(self, pkg: Package, strings_part: str | None, styles_part: str | None, date1904: bool):
        self.pkg = pkg
        self.strings_part = strings_part
        self.date1904 = date1904
        self.formats = cell_formats(pkg, pkg.info(styles_part) if styles_part else None)

    def read(self, found: Survey, part: str) -> tuple[dict, set]:
        """The cells and the formulas saved without a value, from ``found.raw``."""
        part = part[:80]
        cells: dict[tuple[int, int], object] = {}
        uncached: set[tuple[int, int]] = set()
        pending: list[tuple[tuple[int, int], int]] = []
        formats, date1904 = self.formats, self.date1904
        for pos, t, style, formula, text, inline in found.raw:
            if t == "inlineStr" and (inline is not None or text):
                value = xstring(inline if inline is not None else text)
            elif text is None or not text.strip() and t in (None, "n", "s", "b", "e"):
                if formula and not (text is not None and t in ("str", "inlineStr")):
                    uncached.add(pos)
                    cells.pop(pos, None)
                continue
            elif t is None or t == "n":
                try:
                    number = float(text)
                except ValueError:
                    if t == "n":
                        raise corrupt(f"{part} 的 {cell_name(pos)} 的數值「{text.strip()[:20]}」無效") from None
                    value = xstring(text)
                else:
                    kind = OTHER
                    if style is not None and formats:
                        index = int(style) if style.isascii() and style.isdigit() else 0
                        kind = formats[index] if index < len(formats) else OTHER
                    value = _dated(number, kind, date1904) if kind and math.isfinite(number) else number
            elif t == "s":
                index = text.strip()
                if not index.isascii() or not index.isdigit() or len(index) > 9:
                    raise corrupt(f"{part} 的 {cell_name(pos)} 的共用字串索引「{index[:20]}」無效")
                pending.append((pos, int(index)))
                continue
            elif t == "str":
                value = xstring(text)
            elif t == "b":
                flag = text.strip().lower()
                if flag not in ("0", "1", "true", "false"):
                    raise corrupt(f"{part} 的 {cell_name(pos)} 的布林值「{text[:20]}」無效")
                value = flag in ("1", "true")
            elif t == "e":
                cells[pos] = ErrorValue(text.strip())
                uncached.discard(pos)
                continue
            elif t == "d":
                value = _iso(text)
            else:
                raise corrupt(f"{part} 的 {cell_name(pos)} 的儲存格類型「{t[:20]}」無效")
            self._put(cells, uncached, pos, value, part)
        if pending:
            strings = self._strings({index for _, index in pending})
            for pos, index in pending:
                value = strings.get(index)
                if value is None:
                    raise corrupt(f"共用字串索引 {index} 超出範圍")
                self._put(cells, uncached, pos, value, part)
        return cells, uncached

    @staticmethod
    def _put(cells: dict, uncached: set, pos, value, part: str) -> None:
        try:
            value = (value or None) if type(value) is str else cell_value(value)   # text is decoded already
        except ValueError:
            raise corrupt(f"{part} 的 {cell_name(pos)} 的數值無效") from None
        uncached.discard(pos)
        if value is None:
            cells.pop(pos, None)
        else:
            cells[pos] = value

    def _strings(self, needed: set[int]) -> dict[int, str]:
        info = self.pkg.info(self.strings_part) if self.strings_part else None
        if info is None:
            raise corrupt("缺少共用字串表 sharedStrings.xml")
        return shared_strings(self.pkg, info, needed)

