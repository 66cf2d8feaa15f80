"""An .xlsx / .xlsm package -> a ``Workbook``: the package checked, each sheet surveyed, values by python-calamine.

Order of work, so that nothing reaches calamine that the guards have not seen:

1. the ZIP checks (``zipguard``) and the prolog of every XML part (``xmlparts``);
2. the workbook part and its relationships, parsed defused: sheet names, states, parts,
   the date system, the shared strings and styles parts;
3. each wanted sheet inflated by the guard and surveyed (``sheetpass.survey``): hidden
   rows and columns, merges, error cells, formulas without a value, and the span of its
   cells;
4. python-calamine reads the values of the sheets whose dense grid and shared parts fit the
   bounds in ``Limits``, from a package rebuilt in memory out of exactly those bytes (the
   surveyed sheets, the shared strings and styles the guard inflated, a workbook part and
   relationships of our own): calamine never opens a part we have not checked, and quirks
   of the original package's structure are not in its way;
5. the sheets calamine cannot serve, or that it refuses, are read by ``fallback``.
"""

from __future__ import annotations

import io
import zipfile
from datetime import time

from python_calamine import CalamineWorkbook

from qos_xl.core.problems import FileProblem
from qos_xl.intake import sheetpass, xmlparts, zipguard
from qos_xl.intake.book import Sheet, Workbook
from qos_xl.intake.cells import MAX_TEXT, calamine_text, cell_value
from qos_xl.intake.fallback import Cells
from qos_xl.intake.sheetpass import Survey, cell_name
from qos_xl.intake.zipguard import Limits, Package, corrupt, read_all

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ROOT_RELS = (f'{_DECL}<Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
              f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>').encode()


def read_xlsx(pkg: Package, workbook_part: str, limits: Limits, wanted=None) -> Workbook:
    """Read the sheets of a checked package (those ``wanted(name, state)`` accepts, or all)."""
    structure = xmlparts.workbook_structure(pkg, workbook_part)
    if not structure.sheets:
        raise corrupt("活頁簿中沒有工作表")
    has_macros = (any(name.lower().endswith("vbaproject.bin") for name in pkg.names())
                  or any("macrosheet" in entry.kind for entry in structure.sheets))
    book = Workbook(format="xlsm" if has_macros else "xlsx", date1904=structure.date1904, has_macros=has_macros)
    todo: list[tuple[Sheet, zipfile.ZipInfo]] = []
    parts: set[str] = set()
    for entry in structure.sheets:
        sheet = Sheet(name=entry.name, state=entry.state)
        book.sheets.append(sheet)
        if entry.part is None:                      # a chart or dialog sheet, or one listed without content
            continue
        info = pkg.info(entry.part)
        # every sheet has a part of its own: so at most max_members surveys, each bounded
        if info.filename.lower() in parts:
            raise corrupt(f"工作表「{entry.name[:40]}」與其他工作表指向同一內容")
        parts.add(info.filename.lower())
        if wanted is not None and not wanted(entry.name, entry.state):
            sheet.skipped = True
            continue
        todo.append((sheet, info))
    _Reader(pkg, structure, limits).read(todo)
    return book


class _Reader:
    """Reads the wanted sheets of one package: surveys, then calamine, then the fallback."""

    def __init__(self, pkg: Package, structure: xmlparts.Structure, limits: Limits):
        self.pkg = pkg
        self.structure = structure
        self.limits = limits
        self.total = 0
        self.fallback: Cells | None = None

    def read(self, todo: list[tuple[Sheet, zipfile.ZipInfo]]) -> None:
        pkg, limits = self.pkg, self.limits
        shared, shared_fits = self._whole_part(self.structure.shared_strings)
        styles, styles_fits = self._whole_part(self.structure.styles)
        held = {info.filename: read_all(pkg, info) for _, info in todo if info.file_size <= limits.max_whole_part_bytes}
        for name, data in ((self.structure.shared_strings, shared), (self.structure.styles, styles)):
            if data is not None:
                held[pkg.info(name).filename] = data
        zipguard.scan_prologs(pkg, held)
        surveyed = []
        chosen = []
        for sheet, info in todo:
            raw = held.get(info.filename)
            found = sheetpass.survey(pkg, info, raw, sheet.name, limits)
            if raw is not None and shared_fits and styles_fits and found.positioned and not found.whole_lines \
                    and found.grid() <= limits.max_dense_cells:
                chosen.append(len(surveyed))
            surveyed.append((sheet, info, raw, found))
        answers = _calamine_values([surveyed[k][2] for k in chosen], shared, styles, self.structure.date1904)
        by_calamine = dict(zip(chosen, answers))
        for k, (sheet, info, raw, found) in enumerate(surveyed):
            rows = by_calamine.get(k)
            taken = self._from_calamine(rows, found, info.filename) if rows is not None else None
            cells, uncached = taken if taken is not None else self._fallback(info, raw, sheet.name)
            self._fill(sheet, found, cells, uncached)

    def _whole_part(self, name: str | None) -> tuple[bytes | None, bool]:
        """A part calamine holds whole, inflated by the guard (None when absent), and whether it fits the bound."""
        info = self.pkg.info(name) if name else None
        if info is None:
            return None, True
        if info.file_size > self.limits.max_whole_part_bytes:
            return None, False
        return read_all(self.pkg, info), True

    def _from_calamine(self, rows, found: Survey, part: str) -> tuple[dict, set] | None:
        """Calamine's rows -> cells, with what only the survey saw: errors, inline strings in <v>.

        None when calamine gave a time of day: that may be a negative serial in a date format
        (a date before 1900, as LibreOffice stores 102/6/28 typed in zh-TW), of which calamine
        keeps only the time; the fallback reads the date.
        """
        (top, left), grid = rows
        cells: dict[tuple[int, int], object] = {}
        for r, row in enumerate(grid, top + 1):
            for c, value in enumerate(row, left + 1):
                kind = value.__class__
                if kind is str:                       # most cells: text that needs nothing more
                    if value:
                        cells[(r, c)] = value if "_x" not in value and len(value) <= MAX_TEXT else calamine_text(value)
                    continue
                if kind is time:
                    return None
                try:
                    value = cell_value(value)
                except ValueError:
                    raise corrupt(f"{part[:80]} 的 {cell_name((r, c))} 的數值無效") from None
                if value is not None:
                    cells[(r, c)] = value
        for pos, text in found.inline_in_v.items():
            cells.setdefault(pos, text)
        cells.update(found.errors)
        uncached = {pos for pos in found.formulas if pos not in cells}
        return cells, uncached

    def _fallback(self, info: zipfile.ZipInfo, raw: bytes | None, name: str) -> tuple[dict, set]:
        if self.fallback is None:
            self.fallback = Cells(self.pkg, self.structure.shared_strings, self.structure.styles, self.structure.date1904)
        found = sheetpass.read_raw(self.pkg, info, raw, name, self.limits)
        return self.fallback.read(found, info.filename)

    def _fill(self, sheet: Sheet, found: Survey, cells: dict, uncached: set) -> None:
        limits = self.limits
        if len(cells) + len(uncached) > limits.max_cells:
            raise FileProblem("sheet-too-large", sheet=sheet.name, detail=f"超過 {limits.max_cells:,} 個非空白儲存格")
        self.total += len(cells) + len(uncached)
        if self.total > limits.max_total_cells:
            raise FileProblem("sheet-too-large", sheet=sheet.name,
                              detail=f"整本活頁簿超過 {limits.max_total_cells:,} 個非空白儲存格")
        sheet.cells, sheet.uncached = cells, uncached
        sheet.merged, sheet.hidden_rows, sheet.hidden_cols = found.merged, found.hidden_rows, found.hidden_cols


def _package(sheets: list[bytes], shared: bytes | None, styles: bytes | None, date1904: bool) -> io.BytesIO:
    """A minimal package holding exactly these parts, for calamine."""
    listed = "".join(f'<sheet name="s{k}" sheetId="{k}" r:id="rId{k}"/>' for k in range(1, len(sheets) + 1))
    system = ' date1904="1"' if date1904 else ""
    workbook = f'{_DECL}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><workbookPr{system}/><sheets>{listed}</sheets></workbook>'
    rels = "".join(f'<Relationship Id="rId{k}" Type="{_REL}/worksheet" Target="worksheets/sheet{k}.xml"/>'
                   for k in range(1, len(sheets) + 1))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
        out.writestr("_rels/.rels", _ROOT_RELS)
        out.writestr("xl/workbook.xml", workbook.encode())
        out.writestr("xl/_rels/workbook.xml.rels", f'{_DECL}<Relationships xmlns="{_RELS}">{rels}</Relationships>'.encode())
        for k, data in enumerate(sheets, 1):
            out.writestr(f"xl/worksheets/sheet{k}.xml", data)
        if shared is not None:
            out.writestr("xl/sharedStrings.xml", shared)
        if styles is not None:
            out.writestr("xl/styles.xml", styles)
    buffer.seek(0)
    return buffer


def _calamine_values(sheets: list[bytes], shared: bytes | None, styles: bytes | None, date1904: bool) -> list:
    """Each sheet's ((top, left), rows) as calamine reads it, or None where calamine refuses it."""
    if not sheets:
        return []
    try:
        book = CalamineWorkbook.from_filelike(_package(sheets, shared, styles, date1904))
    except BaseException as e:          # calamine's errors, and pyo3's PanicException (a BaseException)
        _reraise_interrupts(e)
        return [None] * len(sheets)
    answers = []
    for index in range(len(sheets)):
        try:
            sheet = book.get_sheet_by_index(index)
            answers.append(((sheet.start or (0, 0)), sheet.to_python(skip_empty_area=True)))
        except BaseException as e:
            _reraise_interrupts(e)
            answers.append(None)
    return answers


def _reraise_interrupts(e: BaseException) -> None:
    if isinstance(e, (KeyboardInterrupt, SystemExit)):
        raise e
