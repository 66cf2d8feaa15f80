"""Feedback to a unit: an annotated copy of its own workbook and a receipt to paste into a reply.

For every file with problems, ``write_feedback`` writes into the feedback folder

- ``{stem}_問題標註.xlsx``: the unit's workbook, untouched except that each problem cell
  is filled (errors light red, warnings light yellow) and carries a comment with the
  message(s), and a first sheet ``問題清單`` lists every problem with a link to its cell;
- or, when the original cannot be opened by openpyxl (.ods, .xls, corrupt, encrypted,
  not a spreadsheet, changed since validation), ``{stem}_問題清單.xlsx``: the same list
  as a standalone workbook;
- ``{stem}_回覆.txt``: the receipt text (``receipt_text``), UTF-8, zh-TW.

The inbox file is only ever read.  Everything that came from the unit's file is written
as a string cell, so nothing it typed can become a formula or a link.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.cell import coordinate_from_string, column_index_from_string
from openpyxl.worksheet.hyperlink import Hyperlink

from qos_xl.problems import ERROR, FORM_NAMES, FileReport, Problem
from qos_xl.textnorm import key
from qos_xl.values import format_roc
from qos_xl.xlsxout import atomic_path, display_width, new_workbook, row_height, safe_text, write_string, write_text_atomic

if TYPE_CHECKING:
    from qos_xl.validate import Checked

ANNOTATED_SUFFIX = "_問題標註.xlsx"
LIST_SUFFIX = "_問題清單.xlsx"
RECEIPT_SUFFIX = "_回覆.txt"
LIST_SHEET = "問題清單"
AUTHOR = "qos-xl"
SENDER = "秘書室"

ERROR_FILL = "FFC7CE"
WARNING_FILL = "FFEB9C"
HEADER_FILL = "D9E1F2"
LINK_COLOUR = "0563C1"

SEVERITY_NAMES = {ERROR: "錯誤", "warning": "警告"}
OPENPYXL_SUFFIXES = {".xlsx", ".xlsm"}
# problems that mean the safe reader refused the file: openpyxl must not open it either
REFUSED_CODES = frozenset({
    "file-empty", "file-too-large", "file-not-spreadsheet", "file-corrupt", "file-encrypted",
    "archive-too-large", "archive-invalid", "xml-unsafe", "format-unreadable", "sheet-too-large",
})

# 問題清單 layout: (header, width in Excel character units)
COLUMNS = (("嚴重度", 8), ("工作表", 14), ("儲存格", 10), ("問題代碼", 26), ("說明", 60), ("填寫內容", 36))
TITLE_ROW, NOTE_ROW, HEADER_ROW = 1, 2, 3
FIRST_DATA_ROW = 4

_CELL_REF = re.compile(r"^[A-Z]{1,3}[1-9][0-9]{0,6}$")
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MAX_NAME_BYTES = 180
RECEIPT_VALUE_CHARS = 200


class FeedbackError(ValueError):
    """The feedback folder would land inside the inbox (the next run would read it as submissions)."""


# ---------------------------------------------------------------------------------------
# Receipt text


def _clean(value: object, limit: int | None = None) -> str:
    """Untrusted text for plain-text output: no control or bidi-override characters, bounded."""
    text = _BIDI.sub("", safe_text(value))
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return text


def _roc(value) -> str:
    return format_roc(value) if value is not None and hasattr(value, "year") else ""


def _period_text(report: FileReport) -> str:
    period = report.period or ""
    if report.form == "selfcheck" and period.endswith("-06"):
        return f"{period}（期中自行檢核）"
    if report.form == "selfcheck" and period.endswith("-12"):
        return f"{period}（年度執行成果）"
    if report.form == "workplan" and period:
        return f"{period} 年度"
    return period


def _counts(report: FileReport) -> tuple[int, int]:
    errors = len(report.errors)
    return errors, len(report.problems) - errors


def verdict(report: FileReport) -> str:
    """「檢核通過，已收件」, accepted with warnings, or 「檢核未通過，請修正後重新寄送」."""
    errors, warnings_ = _counts(report)
    if report.state == "ignored":
        return "非填報檔案，未檢核"
    if errors:
        return "檢核未通過，請修正後重新寄送"
    if warnings_:
        return f"檢核通過，已收件（另有 {warnings_} 項提醒，請參考）"
    return "檢核通過，已收件"


def receipt_text(report: FileReport, *, annotated: str | None = None, problem_list: str | None = None,
                 note: str | None = None, sender: str = SENDER) -> str:
    """The reply to a unit about one file, ready to paste into an e-mail; works for any report.

    ``annotated`` / ``problem_list`` name the attached feedback workbook, ``note`` says why
    no annotated copy could be made.
    """
    name = _clean(Path(report.file).name)
    unit = _greeting_name(report)
    errors, warnings_ = _counts(report)
    lines = [f"{unit} 您好：", "", "本室已收到貴單位寄送的檔案，檢核結果如下。", ""]
    lines.append(f"檔案名稱：{name}")
    if report.sha256:
        lines.append(f"檔案識別碼（SHA-256 前 12 碼）：{report.sha256[:12]}")
    if report.form:
        lines.append(f"表單：{FORM_NAMES.get(report.form, report.form)}")
    if report.period:
        lines.append(f"期別：{_period_text(report)}")
    if report.report_date:
        lines.append(f"填報日期：{_roc(report.report_date)}")
    lines += ["", f"檢核結果：{verdict(report)}"]
    if report.state == "duplicate":
        lines.append("（本檔案與已收到的另一個檔案內容完全相同，不重複收件。）")
    elif report.state == "superseded":
        lines.append("（本檔案已由貴單位較新的檔案取代，不列入彙整。）")
    if report.problems:
        summary = "、".join(x for x in (f"錯誤 {errors} 項" if errors else "", f"警告 {warnings_} 項" if warnings_ else "") if x)
        lines += ["", f"問題明細（{summary}）："]
        for number, problem in enumerate(report.problems, start=1):
            level = SEVERITY_NAMES.get(problem.severity, problem.severity)
            where = _where_text(problem)
            lines.append(f"{number}. 【{level}】{where}{_clean(problem.message)}")
            if problem.value:
                lines.append(f"   填寫內容：「{_clean(problem.value, RECEIPT_VALUE_CHARS)}」")
    lines.append("")
    if errors:
        lines.append("請依上列說明修正原檔案後，以原檔名重新寄送，並更新「填報日期」。")
    elif warnings_:
        lines.append("以上提醒不影響收件，本次無須重新寄送；如需更正，請修正後以原檔名重新寄送，並更新「填報日期」。")
    else:
        lines.append("本檔案無須修正，謝謝貴單位配合。")
    if annotated:
        lines.append(f"附件「{_clean(annotated)}」以底色標出有問題的儲存格（紅色為錯誤、黃色為警告），"
                     "滑鼠移到儲存格上可看到說明；第一個工作表「問題清單」列出所有問題，點選儲存格位置可直接跳到該處。"
                     "此附件僅供對照，請在原檔案上修正。")
    elif problem_list:
        reason = f"（{note}）" if note else ""
        lines.append(f"本次未附標註副本{reason}；所有問題列於附件「{_clean(problem_list)}」。")
    lines += ["", sender + " 敬上", ""]
    return "\n".join(lines)


def _greeting_name(report: FileReport) -> str:
    """The unit's registry name; a name it typed that is not in the registry only when short and plain."""
    name = _clean(report.unit).strip()
    if report.unit_code or (0 < len(name) <= 30 and "\n" not in name):
        return name or "貴單位"
    return "貴單位"


def _where_text(problem: Problem) -> str:
    if problem.sheet and problem.cell:
        return f"工作表「{_clean(problem.sheet)}」儲存格 {problem.cell}："
    if problem.sheet:
        return f"工作表「{_clean(problem.sheet)}」："
    return ""


# ---------------------------------------------------------------------------------------
# Finding the source file and naming the outputs


def _source_paths(reports: list[FileReport], entries: list[tuple[Path, str]]) -> list[Path | None]:
    """The inbox path of each report: by position when the listing still matches, else by name and hash."""
    if len(entries) == len(reports) and all(shown == r.file for (_, shown), r in zip(entries, reports)):
        return [path for path, _ in entries]
    by_name: dict[str, list[Path]] = {}
    for path, shown in entries:
        by_name.setdefault(shown, []).append(path)
    found: list[Path | None] = []
    for report in reports:
        candidates = by_name.get(report.file, [])
        if len(candidates) > 1 and report.sha256:
            matching = [p for p in candidates if _sha256(p) == report.sha256]
            candidates = matching or candidates
        found.append(candidates[0] if candidates else None)
    return found


def _sha256(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def _bounded_stem(stem: str) -> str:
    """A stem short enough that stem + suffix + hash stays a legal file name."""
    encoded = stem.encode("utf-8")
    if len(encoded) <= MAX_NAME_BYTES:
        return stem
    return encoded[:MAX_NAME_BYTES].decode("utf-8", errors="ignore")


def _output_stems(reports: list[FileReport]) -> list[str]:
    """One stem per report; stems shared by several files get the first 8 hex of their SHA-256."""
    stems = [_bounded_stem(Path(r.file).stem) or "file" for r in reports]
    shared: dict[str, int] = {}
    for report, stem in zip(reports, stems):
        if report.state != "ignored":
            shared[stem.casefold()] = shared.get(stem.casefold(), 0) + 1
    result: list[str] = []
    taken: set[str] = set()
    for report, stem in zip(reports, stems):
        name = stem
        if shared.get(stem.casefold(), 0) > 1:
            name = f"{stem}_{(report.sha256 or '')[:8] or 'nohash'}"
        candidate, n = name, 2
        while candidate.casefold() in taken:
            candidate, n = f"{name}_{n}", n + 1
        taken.add(candidate.casefold())
        result.append(candidate)
    return result


def _check_out_dir(out_dir: Path, sources: list[Path]) -> None:
    out = out_dir.resolve()
    for source in sources:
        folder = Path(source).resolve()
        if folder.is_dir() and (out == folder or folder in out.parents):
            raise FeedbackError(f"回饋檔案的輸出資料夾 {out_dir} 位於收件資料夾 {source} 之內，"
                                "下次檢核會把回饋檔案當成單位繳交的檔案。請改用其他輸出資料夾。")


# ---------------------------------------------------------------------------------------
# The 問題清單 rows, shared by both workbook kinds


@dataclass
class _Row:
    problem: Problem
    severity: str
    sheet: str
    cell: str
    code: str
    message: str
    value: str


def _rows(report: FileReport) -> list[_Row]:
    return [
        _Row(p, SEVERITY_NAMES.get(p.severity, p.severity), p.sheet or "", p.cell or "", p.code, p.message, p.value or "")
        for p in report.problems
    ]


def _title(report: FileReport) -> str:
    errors, warnings_ = _counts(report)
    return f"檔案「{Path(report.file).name}」檢核問題：錯誤 {errors} 項、警告 {warnings_} 項"


def _subtitle(report: FileReport, note: str | None) -> str:
    parts = [x for x in (report.unit, FORM_NAMES.get(report.form or ""), report.period) if x]
    if report.sha256:
        parts.append(f"SHA-256 {report.sha256[:12]}")
    text = "｜".join(parts)
    if note:
        return f"{text}。{note}" if text else note
    hint = "點選「儲存格」欄可跳到該儲存格；紅色底色為錯誤、黃色底色為警告，滑鼠移到儲存格上可看到說明。"
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


def _valid_ref(cell: str | None) -> bool:
    if not cell or not _CELL_REF.match(cell):
        return False
    letters, row = coordinate_from_string(cell)
    return column_index_from_string(letters) <= 16384 and row <= 1048576


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


def _comment_text(problems: list[Problem]) -> str:
    parts = []
    for n, p in enumerate(problems, start=1):
        level = SEVERITY_NAMES.get(p.severity, p.severity)
        prefix = f"{n}. " if len(problems) > 1 else ""
        parts.append(f"{prefix}【{level}】{safe_text(p.message)}")
    return "qos-xl 檢核：\n" + "\n".join(parts)


def _comment(text: str) -> Comment:
    lines = sum(max(1, -(-display_width(part) // 46)) for part in text.split("\n"))
    return Comment(text, AUTHOR, width=300, height=max(80, min(600, 15 * lines + 20)))


def _annotate(report: FileReport, data: bytes, target: Path) -> None:
    """Load the unit's workbook from ``data``, mark its problem cells, add 問題清單 and save to ``target``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=False, rich_text=False)
    wb.template = False  # save as a plain .xlsx, whatever it was loaded from (no macros either)

    # group problems by the cell that will carry them
    by_cell: dict[tuple[str, str], list[Problem]] = {}
    links: dict[int, str] = {}
    for index, problem in enumerate(report.problems):
        ws = _sheet_named(wb, problem.sheet)
        if ws is None or not _valid_ref(problem.cell) or ws.title == LIST_SHEET:
            continue
        anchor = _anchor(ws, problem.cell)
        by_cell.setdefault((ws.title, anchor.coordinate), []).append(problem)
        links[index] = _location(ws.title, problem.cell)
    for (title, ref), problems in by_cell.items():
        cell = wb[title][ref]
        colour = ERROR_FILL if any(p.severity == ERROR for p in problems) else WARNING_FILL
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
        text = _comment_text(problems)
        if cell.comment is not None and cell.comment.text:
            text += "\n\n（原有註解）\n" + cell.comment.text
        cell.comment = _comment(text)

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
        values = (row.severity, row.sheet, row.cell, row.code, row.message, row.value)
        for col, value in enumerate(values, start=1):
            cell = _put(ws, r, col, value)
            cell.border = border
            cell.alignment = wrap
        severity = ws.cell(row=r, column=1)
        colour = ERROR_FILL if row.problem.severity == ERROR else WARNING_FILL
        severity.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
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


def _write_standalone(report: FileReport, target: Path, note: str) -> None:
    with atomic_path(target) as tmp:
        wb = new_workbook(tmp)
        ws = wb.add_worksheet(LIST_SHEET)
        title_fmt = wb.add_format({"bold": True, "font_size": 14})
        note_fmt = wb.add_format({"text_wrap": True, "valign": "top"})
        header_fmt = wb.add_format({"bold": True, "bg_color": "#" + HEADER_FILL, "border": 1, "border_color": "#999999",
                                    "align": "center", "valign": "vcenter", "text_wrap": True})
        cell_fmt = wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "border_color": "#999999"})
        severity_fmt = {
            sev: wb.add_format({"text_wrap": True, "valign": "top", "border": 1, "border_color": "#999999", "bg_color": "#" + colour})
            for sev, colour in ((ERROR, ERROR_FILL), ("warning", WARNING_FILL))
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
            values = (row.severity, row.sheet, row.cell, row.code, row.message, row.value)
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


# ---------------------------------------------------------------------------------------
# The entry point


def _original(report: FileReport, source: Path | None) -> tuple[bytes | None, str]:
    """The bytes openpyxl may annotate, or None and the reason (zh-TW) why not."""
    if source is None:
        return None, "找不到原檔案"
    suffix = Path(report.file).suffix.lower()
    if suffix not in OPENPYXL_SUFFIXES:
        return None, f"{suffix or '無副檔名'} 格式的檔案無法加註"
    if any(p.code in REFUSED_CODES for p in report.problems):
        return None, "原檔案無法開啟"
    try:
        data = source.read_bytes()
    except OSError:
        return None, "無法讀取原檔案"
    if report.sha256 and hashlib.sha256(data).hexdigest() != report.sha256:
        return None, "原檔案在檢核後已變更"
    return data, ""


def write_feedback(checked: Checked, out_dir: Path, sources: list[Path]) -> list[Path]:
    """Annotated copy (or standalone 問題清單) and receipt for every file with problems; the written paths."""
    from qos_xl.validate import list_inbox

    out_dir = Path(out_dir)
    sources = [Path(s) for s in sources]
    _check_out_dir(out_dir, sources)
    reports = checked.files
    paths = _source_paths(reports, list_inbox(sources))
    stems = _output_stems(reports)
    protected = {p.resolve() for p in paths if p is not None}
    jobs = []
    for report, source, stem in zip(reports, paths, stems):
        if report.state == "ignored" or not report.problems:
            continue
        targets = tuple(out_dir / f"{stem}{suffix}" for suffix in (ANNOTATED_SUFFIX, LIST_SUFFIX, RECEIPT_SUFFIX))
        if {t.resolve() for t in targets} & protected:
            raise FeedbackError(f"回饋檔案會覆蓋收件檔案「{report.file}」，請改用其他輸出資料夾。")
        jobs.append((report, source, targets))
    written: list[Path] = []
    for report, source, (annotated, standalone, receipt) in jobs:
        out_dir.mkdir(parents=True, exist_ok=True)
        data, note = _original(report, source)
        made = None
        if data is not None:
            try:
                _annotate(report, data, annotated)
                made = annotated
            except Exception:  # noqa: BLE001 - any workbook openpyxl cannot round-trip gets the standalone list
                note = "原檔案無法由系統開啟加註"
        if made is None:
            _write_standalone(report, standalone, f"{note}，因此未產生標註副本，僅列出問題清單。")
            made = standalone
            text = receipt_text(report, problem_list=standalone.name, note=note)
        else:
            text = receipt_text(report, annotated=annotated.name)
        write_text_atomic(receipt, text)
        written += [made, receipt]
    return written
