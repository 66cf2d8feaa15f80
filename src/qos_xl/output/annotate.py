"""The feedback workbooks: the unit's own workbook annotated (openpyxl), or a standalone 問題清單 (xlsxwriter).

Imported by ``feedback.write_feedback`` only when some file has problems, so that checking
clean files never pays for loading openpyxl and xlsxwriter.  What units read carries no
problem code: the 問題清單 names severity (with a text mark that survives greyscale
printing), sheet, cell, 項次, what is wrong and what was typed; a problem cell gets a fill
and a border (errors thick, warnings dashed) and a comment signed by the secretariat.
A copy that comes back to be annotated again first loses the marks an earlier run
recorded in it (``marks.py``).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.hyperlink import Hyperlink

from qos_xl.core.files import atomic_path
from qos_xl.core.problems import Problem
from qos_xl.core.report import FileReport
from qos_xl.core.text import key
from qos_xl.core.vocabulary import ERROR, FORM_NAMES, HINT_HEADING, HINT_NAME, PROBLEM_LIST_SHEET, SEVERITY_NAMES, WARNING
from qos_xl.output import marks
from qos_xl.output.reply import SIGNATURE
from qos_xl.output.xlsxout import display_width, new_workbook, row_height, safe_text, write_string

LIST_SHEET = PROBLEM_LIST_SHEET

ERROR_FILL = "FFC7CE"
WARNING_FILL = "FFEB9C"
HEADER_FILL = "D9E1F2"
LINK_COLOUR = "0563C1"
ERROR_BORDER = "C00000"
# a mark that reads in greyscale too, before the severity's name
SEVERITY_MARKS = {ERROR: f"✖ {SEVERITY_NAMES[ERROR]}", WARNING: f"△ {SEVERITY_NAMES[WARNING]}"}
HINT_MARK = f"◇ {HINT_NAME}"      # a quality hint: a warning that never stops a file being accepted

# 問題清單 layout: (header, width in Excel character units)
COLUMNS = (("嚴重度", 9), ("工作表", 14), ("儲存格", 9), ("項次", 9), ("說明", 66), ("填寫內容", 34))
TITLE_ROW, NOTE_ROW, HEADER_ROW = 1, 2, 3
FIRST_DATA_ROW = 4


# ---------------------------------------------------------------------------------------
# The 問題清單 rows, shared by both workbook kinds


@dataclass
class _Row:
    problem: Problem
    severity: str
    sheet: str
    cell: str
    step: str
    message: str
    value: str

    @property
    def values(self) -> tuple[str, ...]:
        return self.severity, self.sheet, self.cell, self.step, self.message, self.value


def _rows(report: FileReport) -> list[_Row]:
    return [
        _Row(p, HINT_MARK if p.is_hint else SEVERITY_MARKS.get(p.severity, p.severity), p.sheet or "", p.cell or "", p.step or "", p.message, p.value or "")
        for p in report.problems
    ]


def _title(report: FileReport) -> str:
    hints = len(report.hints)
    also = f"；{HINT_HEADING} {hints} 項" if hints else ""
    return f"檔案「{Path(report.file).name}」檢核問題：錯誤 {len(report.errors)} 項、警告 {len(report.warnings) - hints} 項{also}"


def _subtitle(report: FileReport, note: str | None) -> str:
    parts = [x for x in (report.unit, FORM_NAMES.get(report.form or ""), report.period) if x]
    if report.sha256:
        parts.append(f"SHA-256 {report.short_hash}")
    text = "｜".join(parts)
    if note:
        return f"{text}。{note}" if text else note
    hint = ("點選「儲存格」欄可跳到該儲存格。有問題的儲存格以底色及框線標出（錯誤：紅底粗框；警告：黃底虛線框），"
            "滑鼠移到儲存格上可看到說明。可以直接在這份檔案上修正後寄回。")
    return f"{text}。{hint}" if text else hint


# ---------------------------------------------------------------------------------------
# Annotated copy (openpyxl)


def _put(ws, row: int, col: int, value: object):
    """Write untrusted text as a string cell: never a formula, whatever it starts with."""
    cell = ws.cell(row=row, column=col)
    cell.value = safe_text(value)
    cell.data_type = "s"
    return cell


def _location(sheet: str, cell: str) -> str:
    return "'" + sheet.replace("'", "''") + "'!" + cell


def _sheet_named(wb, name: str | None):
    if not name:
        return None
    if name in wb.sheetnames:
        return wb[name]
    return next((ws for ws in wb.worksheets if key(ws.title) == key(name)), None)


def _anchor(ws, ref: str):
    """The cell that carries fill and comment: the top-left cell of a merged range holding ``ref``."""
    for merged in ws.merged_cells.ranges:
        if ref in merged:
            return ws.cell(row=merged.min_row, column=merged.min_col)
    return ws[ref]


def _comment_text(problems: list[Problem], signature: str) -> str:
    parts = []
    for n, p in enumerate(problems, start=1):
        level = HINT_NAME if p.is_hint else SEVERITY_NAMES.get(p.severity, p.severity)
        prefix = f"{n}. " if len(problems) > 1 else ""
        parts.append(f"{prefix}【{level}】{safe_text(p.message)}")
    return f"{signature}檢核意見：\n" + "\n".join(parts)


def _comment(text: str, signature: str) -> Comment:
    lines = sum(max(1, -(-display_width(part) // 46)) for part in text.split("\n"))
    return Comment(text, signature, width=300, height=max(80, min(600, 15 * lines + 20)))


def _marking_border(severity: str) -> Border:
    """Thick for an error, dashed for a warning: a mark that survives greyscale printing, unlike a fill."""
    side = Side(style="thick", color=ERROR_BORDER) if severity == ERROR else Side(style="dashed", color="7F6000")
    return Border(left=side, right=side, top=side, bottom=side)


def annotate(report: FileReport, data: bytes, target: Path, signature: str = SIGNATURE) -> None:
    """Load the unit's workbook from ``data``, mark its problem cells, add 問題清單 and save to ``target``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=False, rich_text=False)
    wb.template = False  # save as a plain .xlsx, whatever it was loaded from (no macros either)
    marks.take_off(wb)   # a copy the unit sent back: the earlier run's marks go, only this run's are shown

    # group problems by the cell that will carry them
    by_cell: dict[tuple[str, str], list[Problem]] = {}
    links: dict[int, str] = {}
    for index, problem in enumerate(report.problems):
        ws = _sheet_named(wb, problem.sheet)
        if ws is None or not marks.valid_ref(problem.cell) or ws.title == LIST_SHEET:
            continue
        anchor = _anchor(ws, problem.cell)
        by_cell.setdefault((ws.title, anchor.coordinate), []).append(problem)
        links[index] = _location(ws.title, problem.cell)
    made: list[marks.Mark] = []
    for (title, ref), problems in by_cell.items():
        cell = wb[title][ref]
        fill, border, comment = marks.before(cell)
        severity = ERROR if any(p.severity == ERROR for p in problems) else WARNING
        colour = ERROR_FILL if severity == ERROR else WARNING_FILL
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        cell.border = _marking_border(severity)
        text = _comment_text(problems, signature)
        if comment is not None and comment.text:
            text += "\n\n（原有註解）\n" + comment.text
        cell.comment = _comment(text, signature)
        made.append(marks.Mark(cell, fill, border, comment, cell.comment.text))
    marks.record(wb, made)

    name = LIST_SHEET
    if name in wb.sheetnames:
        referenced = any(p.sheet == name for p in report.problems)
        if referenced:
            n = 2
            while f"{LIST_SHEET}({n})" in wb.sheetnames:
                n += 1
            name = f"{LIST_SHEET}({n})"
        else:
            wb.remove(wb[name])  # an older list from a copy the unit sent back
    ws = wb.create_sheet(name, 0)
    _fill_list_sheet(ws, report, links)
    for other in wb.worksheets:
        other.sheet_view.tabSelected = other is ws
    wb.active = 0
    for view in wb.views:
        view.firstSheet = 0
        view.activeTab = 0
    with atomic_path(target) as tmp:
        wb.save(tmp)


def _fill_list_sheet(ws, report: FileReport, links: dict[int, str]) -> None:
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    last_col = len(COLUMNS)

    title = _put(ws, TITLE_ROW, 1, _title(report))
    title.font = Font(bold=True, size=14)
    ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=last_col)
    ws.row_dimensions[TITLE_ROW].height = 24
    note = _put(ws, NOTE_ROW, 1, _subtitle(report, None))
    note.alignment = wrap
    ws.merge_cells(start_row=NOTE_ROW, start_column=1, end_row=NOTE_ROW, end_column=last_col)
    total_width = sum(w for _, w in COLUMNS)
    ws.row_dimensions[NOTE_ROW].height = row_height([(note.value, total_width)])

    for col, (header, width) in enumerate(COLUMNS, start=1):
        cell = _put(ws, HEADER_ROW, col, header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill(fill_type="solid", start_color=HEADER_FILL, end_color=HEADER_FILL)
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[cell.column_letter].width = width

    for offset, row in enumerate(_rows(report)):
        r = FIRST_DATA_ROW + offset
        values = row.values
        for col, value in enumerate(values, start=1):
            cell = _put(ws, r, col, value)
            cell.border = border
            cell.alignment = wrap
        severity = ws.cell(row=r, column=1)
        colour = ERROR_FILL if row.problem.severity == ERROR else WARNING_FILL
        severity.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        severity.font = Font(bold=row.problem.severity == ERROR)
        location = links.get(offset)
        if location:
            link = ws.cell(row=r, column=3)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=location, tooltip=f"跳到 {row.sheet} {row.cell}")
            link.font = Font(color=LINK_COLOUR, underline="single")
        ws.row_dimensions[r].height = row_height(list(zip(values, (w for _, w in COLUMNS))))

    last_row = max(HEADER_ROW, FIRST_DATA_ROW + len(report.problems) - 1)
    ws.auto_filter.ref = f"A{HEADER_ROW}:F{last_row}"
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 頁，共 &N 頁"
    ws.oddFooter.center.size = 9


# ---------------------------------------------------------------------------------------
# Standalone 問題清單 (xlsxwriter), when the original cannot be annotated


def write_standalone(report: FileReport, target: Path, note: str) -> None:
    with atomic_path(target) as tmp:
        wb = new_workbook(tmp)
        ws = wb.add_worksheet(LIST_SHEET)
        title_fmt = wb.add_format({"bold": True, "font_size": 14})
        note_fmt = wb.add_format({"text_wrap": True, "valign": "top"})
        header_fmt = wb.add_format({"bold": True, "bg_color": "#" + HEADER_FILL, "border": 1, "border_color": "#999999",
                                    "align": "center", "valign": "vcenter", "text_wrap": True})
        cell_fmt = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "border_color": "#999999"})
        severity_fmt = {
            sev: wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "border_color": "#999999", "bg_color": "#" + colour,
                                "bold": sev == ERROR})
            for sev, colour in ((ERROR, ERROR_FILL), (WARNING, WARNING_FILL))
        }
        last_col = len(COLUMNS) - 1
        ws.merge_range(TITLE_ROW - 1, 0, TITLE_ROW - 1, last_col, "", title_fmt)
        write_string(ws, TITLE_ROW - 1, 0, _title(report), title_fmt)
        ws.set_row(TITLE_ROW - 1, 24)
        subtitle = _subtitle(report, note)
        ws.merge_range(NOTE_ROW - 1, 0, NOTE_ROW - 1, last_col, "", note_fmt)
        write_string(ws, NOTE_ROW - 1, 0, subtitle, note_fmt)
        ws.set_row(NOTE_ROW - 1, row_height([(subtitle, sum(w for _, w in COLUMNS))]))
        for col, (header, width) in enumerate(COLUMNS):
            write_string(ws, HEADER_ROW - 1, col, header, header_fmt)
            ws.set_column(col, col, width)
        for offset, row in enumerate(_rows(report)):
            r = FIRST_DATA_ROW - 1 + offset
            values = row.values
            for col, value in enumerate(values):
                fmt = severity_fmt.get(row.problem.severity, cell_fmt) if col == 0 else cell_fmt
                write_string(ws, r, col, value, fmt)
            ws.set_row(r, row_height(list(zip(values, (w for _, w in COLUMNS)))))
        last_row = max(HEADER_ROW - 1, FIRST_DATA_ROW - 2 + len(report.problems))
        ws.autofilter(HEADER_ROW - 1, 0, last_row, last_col)
        ws.freeze_panes(FIRST_DATA_ROW - 1, 0)
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.repeat_rows(HEADER_ROW - 1)
        ws.set_footer("&C&9第 &P 頁，共 &N 頁")
        ws.activate()
        wb.close()
