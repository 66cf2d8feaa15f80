"""The unit templates: one self-check (自行檢核表) and one work plan (工作計畫) per unit, the work plan also in Word.

Both are generated from the catalogue and written with xlsxwriter. Labels are the exact
texts of the product contract; the reader finds them by text. Every workbook carries its
identity twice, so it survives a save by Excel or LibreOffice:

* workbook defined names ``qos_form``, ``qos_period``, ``qos_plan_year``,
  ``qos_template_version``, ``qos_unit`` holding string constants (``="selfcheck"``);
* a very hidden sheet ``qos_meta`` with the same keys in column A and values in column B
  (the work plan also lists the five area labels there as ``qos_area_1``…``qos_area_5``;
  its 實施要項 dropdown refers to them).

Self-check layout (1-based rows, data sheet ``自行檢核表``, first sheet); the frozen block
(rows 1-5) is short so that a 1366x768 laptop shows several steps below it::

    row 1  title and period (A1:J1 merged)
    row 2  B2 機關(單位)名稱 C2:D2 <unit>   E2 填報期別 F2 <period>   H2 填報日期 I2 <date>
    row 3  B3 填表人        C3:D3 <input>  E3 聯絡電話 F3:G3 <input>
    row 4  note (A4:J4 merged)
    row 5  table header A5:J5
    rows 6..  one row per catalogue step, in plan order; not sized by hand: each opens at
              a height that shows the plan's texts (at least two lines), and Excel and
              LibreOffice re-fit it as text is typed (``_let_rows_grow``)

Date input cells (填報日期, 完成日期) are text cells (``@``): a typed ``102/6/30`` stays as
typed in Excel and LibreOffice, where a date-formatted cell would turn it into the year 102.

Work-plan layout (data sheet ``工作計畫``, first sheet)::

    row 1  title (A1:D1)     row 2  note (A2:D2)
    row 3  A3 機關全銜 B3:D3   row 4  A4 年度 B4:D4 (number)
    row 6  計畫依據  row 7 計畫目標  row 8 實施對象   (label in A, value in merged B:D)
    row 10 A10 計畫內容      row 11 table header A11:D11    rows 12..51 input rows
    row 53 A53 考核與獎勵 B53:D53
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from xlsxwriter.utility import xl_cell_to_rowcol

from qos_xl import TEMPLATE_VERSION
from qos_xl.core import vocabulary as words
from qos_xl.core.catalogue import Plan
from qos_xl.core.files import atomic_path
from qos_xl.core.messages import HINT_NAMES
from qos_xl.core.registry import Registry, Unit
from qos_xl.core.vocabulary import (HELP_SHEET, HINT_HEADING, HINT_NAME, META_SHEET, SELFCHECK, SELFCHECK_PERIOD_NAMES,
                                    SELFCHECK_SHEET, STATUSES, WORKPLAN, WORKPLAN_SHEET)
from qos_xl.output.reply import ANY_NAME
from qos_xl.output.templates_docx import write_workplan_docx   # python-docx only when it writes
from qos_xl.output.templates_text import (WARNING_NAME, full_unit_name, numbered_lines, secretariat_contact, selfcheck_filename,
                                          workplan_docx_filename, workplan_filename)
from qos_xl.output.xlsxout import new_workbook, print_a4, row_height, write_string, write_value
from qos_xl.pipeline.hints import MIN_MEANINGFUL_CHARS

SELFCHECK_COLUMNS = tuple(words.SELFCHECK_COLUMNS.values())
WORKPLAN_COLUMNS = tuple(words.WORKPLAN_COLUMNS.values())
NOT_DUE_MARK = "本期未到期"

# -- layout (0-based rows/cols as xlsxwriter uses them) ---------------------------------
SC_HEADER_ROW = 4          # row 5
SC_FIRST_ROW = 5           # row 6
# the self-check's header block: field -> (label cell, value cell), 1-based A1 names
SC_HEADER_CELLS = {"unit": ("B2", "C2"), "period": ("E2", "F2"), "report_date": ("H2", "I2"),
                   "filler": ("B3", "C3"), "phone": ("E3", "F3")}
# 辦理情形 (G) the widest column: long narratives take fewer lines; the plan's texts as wide as before
SC_WIDTHS = (7, 15, 28, 40, 9, 10, 44, 11, 14, 11)
WP_HEADER_ROW = 10         # row 11
WP_FIRST_ROW = 11          # row 12
WP_INPUT_ROWS = 40
WP_WIDTHS = (22, 30, 40, 14)
HELP_WIDTHS = (16, 76)

FONT = "微軟正黑體"
FONT_SIZE = 11
FILL_LABEL = "#F2F2F2"     # locked structure cells (labels, catalogue text)
FILL_HEADER = "#D9E1F2"    # table header
FILL_INPUT = "#FFFFFF"     # cells a unit fills in
FILL_NOT_DUE = "#D0D0D0"   # steps not yet due at the period
BORDER_COLOR = "#808080"


@dataclass(frozen=True)
class _FormInfo:
    form: str          # selfcheck | workplan
    period: str        # 102-06 | 102
    plan_year: int
    unit: Unit


def write_templates(plan: Plan, registry: Registry, out_dir: Path, period, units: list[Unit] | None = None) -> list[Path]:
    """Write each unit's self-check (for ``period``) and work plan (for its year); return the paths.

    ``period`` is anything with ``.year``, ``.month`` (``None`` for a whole year) and
    ``str()`` like ``102-06``. A year-only period writes only the work plans.
    """
    if int(period.year) != plan.year:
        raise ValueError(f"期別 {period} 與計畫年度 {plan.year} 不符，請指定 {plan.year} 年度的期別（例如 {plan.year}-06）。")
    out_dir = Path(out_dir)
    written: list[Path] = []
    for unit in registry.units if units is None else units:
        if period.month is not None:
            target = out_dir / selfcheck_filename(unit, period)
            with atomic_path(target) as tmp:
                _write_selfcheck(tmp, plan, registry, unit, period)
            written.append(target)
        target = out_dir / workplan_filename(unit, plan.year)
        with atomic_path(target) as tmp:
            _write_workplan(tmp, plan, registry, unit)
        written.append(target)
        target = out_dir / workplan_docx_filename(unit, plan.year)
        write_workplan_docx(target, plan, registry, unit)
        written.append(target)
    return written


# -- helpers ----------------------------------------------------------------------------
_CUSTOM_HEIGHT = re.compile(r'(<row r="([0-9]+)"[^>]*?) customHeight="1"')


def _let_rows_grow(path: Path, part: str, rows: range) -> None:
    """Unmark the given 1-based rows as manually sized, so that they grow with what is typed.

    xlsxwriter marks every row it gives a height as sized by hand (``customHeight``), and
    neither Excel nor LibreOffice re-fits such a row.  Without the mark the height (``ht``)
    is only the one to open with: LibreOffice, which does not fit rows when it loads an
    .xlsx, shows the plan's texts whole, and both re-fit a row when a cell in it is edited.
    """
    with zipfile.ZipFile(path) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    freed = 0

    def unmark(m: re.Match) -> str:
        nonlocal freed
        if int(m[2]) not in rows:
            return m[0]
        freed += 1
        return m[1]

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            if info.filename == part:
                data = _CUSTOM_HEIGHT.sub(unmark, data.decode("utf-8")).encode("utf-8")
            z.writestr(info, data)
    if freed != len(rows):
        raise RuntimeError(f"{part}: {freed} of {len(rows)} rows found to let grow")


def _subtitle(period) -> str:
    return f"{SELFCHECK_PERIOD_NAMES.get(period.month, '自行檢核')}（{period}）"


def _heights(pairs, min_lines: int = 1) -> float:
    # A little narrower than the column: CJK glyphs are slightly wider than two digits.
    return row_height([(t, max(w * 0.96, 2)) for t, w in pairs], min_lines=min_lines)


class _Formats:
    """The workbook's formats; every format shares font, wrapping and borders."""

    def __init__(self, wb):
        self.wb = wb
        base = {"font_name": FONT, "font_size": FONT_SIZE, "text_wrap": True, "valign": "top"}
        cell = {**base, "border": 1, "border_color": BORDER_COLOR}
        self.title = wb.add_format({**base, "font_size": 16, "bold": True, "align": "center", "valign": "vcenter"})
        self.subtitle = wb.add_format({**base, "font_size": 12, "align": "center", "valign": "vcenter"})
        self.note = wb.add_format({**base, "font_size": 10, "font_color": "#404040", "valign": "vcenter"})
        self.label = wb.add_format({**cell, "bold": True, "bg_color": FILL_LABEL, "align": "center", "valign": "vcenter"})
        self.section = wb.add_format({**base, "bold": True, "font_size": 12, "valign": "vcenter"})
        self.header = wb.add_format({**cell, "bold": True, "bg_color": FILL_HEADER, "align": "center", "valign": "vcenter"})
        self.fixed = wb.add_format({**cell, "bg_color": FILL_LABEL, "valign": "vcenter", "num_format": "@"})
        self.fixed_number = wb.add_format({**cell, "bg_color": FILL_LABEL, "valign": "vcenter", "align": "left", "num_format": "0"})
        self.input = wb.add_format({**cell, "bg_color": FILL_INPUT, "locked": False, "num_format": "@", "valign": "vcenter"})
        self.input_top = wb.add_format({**cell, "bg_color": FILL_INPUT, "locked": False, "num_format": "@"})
        self.input_date = wb.add_format({**cell, "bg_color": FILL_INPUT, "locked": False, "num_format": "@",
                                         "align": "left", "valign": "vcenter"})
        # catalogue rows: [due, not due] variants
        self.code = [wb.add_format({**cell, "bg_color": c, "align": "center", "num_format": "@"}) for c in (FILL_LABEL, FILL_NOT_DUE)]
        self.text = [wb.add_format({**cell, "bg_color": c, "num_format": "@"}) for c in (FILL_LABEL, FILL_NOT_DUE)]
        self.deadline = [wb.add_format({**cell, "bg_color": c, "align": "center", "num_format": "@"}) for c in (FILL_LABEL, FILL_NOT_DUE)]
        self.status = [wb.add_format({**cell, "bg_color": c, "locked": False, "align": "center", "num_format": "@"})
                       for c in (FILL_INPUT, FILL_NOT_DUE)]
        self.free = [wb.add_format({**cell, "bg_color": c, "locked": False, "num_format": "@"}) for c in (FILL_INPUT, FILL_NOT_DUE)]
        self.date = [wb.add_format({**cell, "bg_color": c, "locked": False, "num_format": "@", "align": "center"})
                     for c in (FILL_INPUT, FILL_NOT_DUE)]
        # instructions sheet
        self.help_heading = wb.add_format({**cell, "bold": True, "font_size": 12, "bg_color": FILL_HEADER, "valign": "vcenter"})
        self.help_label = wb.add_format({**cell, "bold": True, "bg_color": FILL_LABEL})
        self.help_text = wb.add_format({**cell})
        self.plain = wb.add_format({**base})


def _metadata(wb, info: _FormInfo, extra: list[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """Defined names, document properties and the very hidden ``qos_meta`` sheet."""
    pairs = [
        ("qos_form", info.form),
        ("qos_period", info.period),
        ("qos_plan_year", str(info.plan_year)),
        ("qos_template_version", TEMPLATE_VERSION),
        ("qos_unit", info.unit.code),
    ]
    for name, value in pairs:
        wb.define_name(name, '="{}"'.format(value.replace('"', '""')))
        wb.set_custom_property(name, value)
    ws = wb.add_worksheet(META_SHEET)
    rows = pairs + list(extra)
    for r, (name, value) in enumerate(rows):
        write_string(ws, r, 0, name)
        write_string(ws, r, 1, value)
    ws.set_column(0, 0, 24)
    ws.set_column(1, 1, 40)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    ws.very_hidden()
    return rows


def _properties(wb, title: str, subject: str, organisation: str, info: _FormInfo) -> None:
    wb.set_properties({
        "title": title,
        "subject": subject,
        "author": organisation or "qos-xl",
        "company": organisation,
        "category": "提升服務品質",
        "keywords": f"qos-xl, {info.form}, {info.period}, {info.unit.code}",
        "comments": f"qos-xl 範本 {TEMPLATE_VERSION}：{info.form} {info.period} {info.unit.code}",
    })


def _help_sheet(wb, fmt: _Formats, title: str, entries: list[tuple[str, str] | str]) -> None:
    """A printable two-column explanation: headings (str) and (label, text) rows."""
    ws = wb.add_worksheet(HELP_SHEET)
    ws.hide_gridlines(2)
    for c, w in enumerate(HELP_WIDTHS):
        ws.set_column(c, c, w)
    ws.merge_range(0, 0, 0, 1, title, fmt.title)
    ws.set_row(0, 30)
    r = 2
    for entry in entries:
        if isinstance(entry, str):
            ws.merge_range(r, 0, r, 1, "", fmt.help_heading)
            write_string(ws, r, 0, entry, fmt.help_heading)
            ws.set_row(r, 22)
        else:
            label, text = entry
            write_string(ws, r, 0, label, fmt.help_label)
            write_string(ws, r, 1, text, fmt.help_text)
            ws.set_row(r, _heights([(label, HELP_WIDTHS[0]), (text, HELP_WIDTHS[1])]))
        r += 1
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True,
                    "format_columns": True, "format_rows": True})
    print_a4(ws, header_rows=None, title=title, landscape=False)
    ws.print_area(0, 0, r - 1, 1)


def _date_help() -> str:
    return ("請以民國年填寫，例如 102/6/30；102.6.30、102年6月30日 及全形數字亦可，西元日期請寫四位數年份，如 2013/6/30。"
            "年份請勿只寫兩位數（13/6/30 無法判斷是民國還是西元）。日期欄是文字格式，輸入的內容會照原樣保留。")


# -- self-check -------------------------------------------------------------------------
def _write_selfcheck(path: Path, plan: Plan, registry: Registry, unit: Unit, period) -> None:
    wb = new_workbook(path)
    fmt = _Formats(wb)
    info = _FormInfo(SELFCHECK, str(period), plan.year, unit)
    title = f"{plan.organisation}{plan.year}年度提升服務品質自行檢核表"
    ws = wb.add_worksheet(SELFCHECK_SHEET)
    last_col = len(SELFCHECK_COLUMNS) - 1
    for c, w in enumerate(SC_WIDTHS):
        ws.set_column(c, c, w)

    ws.merge_range(0, 0, 0, last_col, "", fmt.title)
    write_string(ws, 0, 0, f"{title}　{_subtitle(period)}", fmt.title)
    ws.set_row(0, 24)

    # header block: each label with its value in the cell to its right
    cells = {name: tuple(xl_cell_to_rowcol(ref) for ref in pair) for name, pair in SC_HEADER_CELLS.items()}
    for name, ((r, c), _) in cells.items():
        write_string(ws, r, c, words.SELFCHECK_LABELS[name], fmt.label)
    (r, c) = cells["unit"][1]
    ws.merge_range(r, c, r, c + 1, "", fmt.input)
    write_string(ws, r, c, unit.name, fmt.input)
    write_string(ws, *cells["period"][1], str(period), fmt.fixed)
    ws.write_blank(*cells["report_date"][1], None, fmt.input_date)
    (r, c) = cells["filler"][1]
    ws.merge_range(r, c, r, c + 1, "", fmt.input)
    (r, c) = cells["phone"][1]
    ws.merge_range(r, c, r, c + 1, "", fmt.input)
    for r in (1, 2):
        ws.set_row(r, 19)
    prompts = {
        "unit": ("機關(單位)名稱", "已預填貴單位全銜；如有錯誤請更正為正確全銜。"),
        "filler": ("填表人", "請填寫承辦人姓名。"),
        "phone": ("聯絡電話", "請填寫承辦人電話及分機，例如 07-1234567 轉 123。"),
        "report_date": ("填報日期（必填）", "請以民國年填寫本表填報日期，例如 102/6/30。\n本欄為文字格式，輸入的內容會照原樣保留。"
                                       "更正後重寄請更新日期。"),
    }
    for name, (heading, message) in prompts.items():
        r, c = cells[name][1]
        ws.data_validation(r, c, r, c, {"validate": "any", "input_title": heading, "input_message": message})

    due_count = sum(1 for s in plan.steps if s.due_at(period.month))
    not_due = len(plan.steps) - due_count
    note = "白底儲存格請填寫，淺灰底為計畫內容（已鎖定）；日期請以民國年填寫，例如 102/6/30。"
    if not_due:
        note += f"深灰底的 {not_due} 列本期尚未到查核期限，可不填（填寫欄仍可輸入）。"
    note += "詳細規定請見「填表說明」工作表。"
    note_row = SC_HEADER_ROW - 1
    ws.merge_range(note_row, 0, note_row, last_col, "", fmt.note)
    write_string(ws, note_row, 0, note, fmt.note)
    ws.set_row(note_row, 16)

    for c, name in enumerate(SELFCHECK_COLUMNS):
        write_string(ws, SC_HEADER_ROW, c, name, fmt.header)
    ws.set_row(SC_HEADER_ROW, 20)

    areas = {a.number: a for a in plan.areas}
    r = SC_FIRST_ROW
    for step in plan.steps:
        due = step.due_at(period.month)
        v = 0 if due else 1
        deadline = step.deadline if due else f"{step.deadline}\n{NOT_DUE_MARK}"
        texts = (step.code, areas[step.area].label, step.focus_label, step.text, deadline)
        write_string(ws, r, 0, texts[0], fmt.code[v])
        for c in (1, 2, 3):
            write_string(ws, r, c, texts[c], fmt.text[v])
        write_string(ws, r, 4, texts[4], fmt.deadline[v])
        ws.write_blank(r, 5, None, fmt.status[v])
        ws.write_blank(r, 6, None, fmt.free[v])
        ws.write_blank(r, 7, None, fmt.date[v])
        ws.write_blank(r, 8, None, fmt.free[v])
        ws.write_blank(r, 9, None, fmt.free[v])
        ws.set_row(r, _heights(zip(texts, SC_WIDTHS), min_lines=2))  # the height to open with; see _let_rows_grow
        r += 1
    last_row = r - 1

    ws.data_validation(SC_FIRST_ROW, 5, last_row, 5, {
        "validate": "list", "source": list(STATUSES),
        "error_type": "stop", "error_title": "執行狀態輸入錯誤",
        "error_message": "執行狀態只能是「已完成」「辦理中」「未辦理」「不適用」其中之一，請從下拉選單選擇。",
        "input_title": "執行狀態", "input_message": "請從下拉選單選擇：已完成、辦理中、未辦理、不適用。本期已到期的步驟必須填寫。",
    })
    ws.data_validation(SC_FIRST_ROW, 6, last_row, 6, {
        "validate": "any", "input_title": "辦理情形",
        "input_message": "已完成、辦理中須說明辦理內容；不適用須說明理由（也可寫在備註）。",
    })
    ws.data_validation(SC_FIRST_ROW, 7, last_row, 7, {
        "validate": "any", "input_title": "完成日期",
        "input_message": "已完成者必填，不可晚於填報日期。請以民國年填寫，例如 102/6/30；102.6.30、102年6月30日 亦可。\n"
                         "本欄為文字格式，輸入的內容會照原樣保留。",
    })

    ws.freeze_panes(SC_FIRST_ROW, 1)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True,
                    "format_columns": True, "format_rows": True, "format_cells": False,
                    "insert_rows": False, "delete_rows": False, "sort": False, "autofilter": False})
    print_a4(ws, header_rows=(SC_HEADER_ROW, SC_HEADER_ROW), title=f"{unit.name}　{title}（{period}）")
    ws.print_area(0, 0, last_row, last_col)

    entries = _selfcheck_help(plan, registry, unit, period, due_count, not_due)
    _help_sheet(wb, fmt, f"{title}　填表說明", entries)
    _metadata(wb, info)
    _properties(wb, f"{unit.name} {title}", _subtitle(period), plan.organisation, info)
    ws.activate()
    wb.close()
    _let_rows_grow(path, "xl/worksheets/sheet1.xml", range(SC_FIRST_ROW + 1, last_row + 2))


def _selfcheck_help(plan: Plan, registry: Registry, unit: Unit, period, due_count: int, not_due: int) -> list:
    month = period.month
    y = plan.year
    if not_due:
        shading = (f"本期（{period}）共 {due_count} 個步驟已到查核期限、必須填寫；另 {not_due} 個步驟的查核期限在 {month} 月之後，"
                   f"以深灰底標示，「查核期限」欄並註明「{NOT_DUE_MARK}」。這些列的填寫欄仍可輸入，但可以不填；"
                   f"若填了執行狀態，系統會照收並列為{WARNING_NAME}，但本期不列入完成率計算。")
    else:
        shading = f"本期（{period}）全部 {due_count} 個步驟都已到查核期限，每一列都必須填寫執行狀態。"
    return [
        "一、填寫與寄送",
        ("1. 開啟", f"本檔是「{unit.name}」{period} 期專用的自行檢核表。請用 Microsoft Excel 或 LibreOffice Calc 開啟，"
                   f"在「{SELFCHECK_SHEET}」工作表填寫。白底儲存格請填寫；淺灰底儲存格是計畫內容，已鎖定不能修改（工作表未設密碼）；"
                   "深灰底的列是本期尚未到期的步驟，填寫欄仍可輸入。"),
        ("2. 存檔", "填寫完成後請存成 Excel 活頁簿（.xlsx）格式。使用 LibreOffice 者，存檔時請選「Excel 2007-365 (.xlsx)」，"
                   f"並在詢問格式時選「使用 Excel 2007-365!」。{ANY_NAME}（秘書室依表內的機關名稱及期別辨識），"
                   f"例如「{selfcheck_filename(unit, period)}」。"),
        ("3. 寄送", f"以電子郵件附件寄送{secretariat_contact(registry)}。如需更正，修改後重新寄送整份檔案並更新「填報日期」，"
                   "秘書室以填報日期最新的一份為準（同一天則以最後修改的檔案為準）。"),
        ("4. 請勿", "請勿刪除、新增或調整項次列的順序，也不要修改項次、欄位標題文字或工作表名稱；請勿合併儲存格，也不要替檔案設定密碼。"
                   "要補充的內容請寫在相關項次的「辦理情形」或「備註」。"),
        "二、表頭欄位",
        ("機關(單位)名稱", "已預填貴單位全銜。如有錯誤，請更正為正確的全銜。"),
        ("填報期別", f"已預填本期期別 {period}（民國年-月；{y}-06 為期中自行檢核，{y}-12 為年度執行成果），請勿修改。"),
        ("填表人", f"承辦人姓名。未填寫時會列為{WARNING_NAME}。"),
        ("聯絡電話", f"承辦人電話及分機，方便秘書室聯繫。未填寫時會列為{WARNING_NAME}。"),
        ("填報日期", "本表填報日期，必填。" + _date_help()),
        "三、表格欄位",
        ("項次", "計畫執行步驟的編號「實施要項-執行重點-步驟」，例如 1-2-3 是實施要項一、執行重點（二）的第 3 個步驟。範本已填妥，請勿修改。"),
        ("實施要項", "計畫的五大實施要項（一～五），僅供參考，已鎖定。"),
        ("執行重點", "該實施要項下的執行重點（（一）、（二）…），僅供參考，已鎖定。"),
        ("執行步驟", "計畫規定的執行步驟原文，僅供參考，已鎖定。"),
        ("查核期限", "該步驟的查核月份：4月、6月、12月 或 6月、12月。步驟最早的查核月份不晚於本期月份，就是本期「已到期」，必須填寫。"),
        ("執行狀態", "從下拉選單選擇「已完成」「辦理中」「未辦理」「不適用」其中之一，不可輸入其他文字。本期已到期的步驟必須填寫。"),
        ("辦理情形", "具體說明辦理內容、成果或尚未辦理的原因。"),
        ("完成日期", "狀態為「已完成」時必填，不可晚於「填報日期」。" + _date_help()),
        ("佐證資料", "佐證資料的名稱、文號或網址（檔案請另以附件寄送）。"),
        ("備註", "其他說明。「不適用」的理由也可以寫在這裡。"),
        "四、執行狀態",
        ("已完成", "本步驟已辦理完成。必須填寫「辦理情形」及「完成日期」，完成日期不可晚於填報日期。"),
        ("辦理中", "已開始辦理但尚未完成。必須填寫「辦理情形」。"),
        ("未辦理", "尚未開始辦理。建議在「辦理情形」說明原因及預定辦理時程。"),
        ("不適用", "本步驟與貴單位業務無關。必須在「辦理情形」或「備註」說明不適用的理由；不適用的步驟不列入完成率計算。"),
        "五、本期未到期的步驟（深灰底列）",
        ("深灰底列", shading),
        "六、檢核規則",
        ("錯誤（退件）", "有下列情形之一，整份檔案退回，須更正後重新寄送：本期已到期的步驟沒有填執行狀態；執行狀態不是四種之一；"
                      "「已完成」沒有填辦理情形或完成日期，或完成日期晚於填報日期；「辦理中」沒有填辦理情形；「不適用」沒有說明理由；"
                      "項次被修改、刪除或重複，或新增了列；填報日期未填或日期無法辨識；機關(單位)名稱不是本局單位；填報期別或年度不符。"),
        (f"{WARNING_NAME}（照收）", f"下列情形照收，但會列為{WARNING_NAME}請您確認：填表人或聯絡電話未填；執行狀態寫成「完成」「進行中」等其他說法"
                             f"（已視為四種之一）；完成日期早於 {y} 年度；日期被試算表存成西元年（已依民國年讀取）；"
                             "本期尚未到期的步驟填了執行狀態；表格範圍以外或隱藏的列、欄、工作表有資料；檔案含有巨集；"
                             "兩份檔案填報日期相同但內容不同（以較晚收到的為準）；寄件者不屬於表上填寫的單位。"),
        ("完成率", "各實施要項的完成率 ＝ 已完成 ÷（本期到期步驟數 − 不適用）。「辦理中」及「未辦理」都算尚未完成。"),
        f"七、{HINT_HEADING}",
        (HINT_NAMES["narrative-too-short"], f"「辦理情形」請具體寫出做了什麼、何時辦理、有何成果；扣除標點符號及執行狀態文字後"
                                            f"少於 {MIN_MEANINGFUL_CHARS} 個字，會列為{HINT_NAME}。"),
        (HINT_NAMES["evidence-missing"], f"「已完成」的步驟請在「佐證資料」填寫可供查證的資料名稱、文號或網址；未填寫會列為{HINT_NAME}。"),
    ]


# -- work plan --------------------------------------------------------------------------
def _write_workplan(path: Path, plan: Plan, registry: Registry, unit: Unit) -> None:
    wb = new_workbook(path)
    fmt = _Formats(wb)
    info = _FormInfo(WORKPLAN, str(plan.year), plan.year, unit)
    title = f"{unit.name}{plan.year}年度提升服務品質工作計畫"
    ws = wb.add_worksheet(WORKPLAN_SHEET)
    for c, w in enumerate(WP_WIDTHS):
        ws.set_column(c, c, w)
    merged = sum(WP_WIDTHS[1:])

    ws.merge_range(0, 0, 0, 3, "", fmt.title)
    write_string(ws, 0, 0, title, fmt.title)
    ws.set_row(0, 30)
    ws.merge_range(1, 0, 1, 3, "", fmt.note)
    write_string(ws, 1, 0, "白底儲存格請填寫；實施要項請從下拉選單選擇。詳細規定請見「填表說明」工作表。", fmt.note)
    ws.set_row(1, 20)

    def field(row: int, label: str, value, value_fmt, min_lines: int = 1, prompt: str = "") -> None:
        write_string(ws, row, 0, label, fmt.label)
        ws.merge_range(row, 1, row, 3, "", value_fmt)
        write_value(ws, row, 1, value, value_fmt)
        ws.set_row(row, max(21, _heights([(value if isinstance(value, str) else "", merged)], min_lines=min_lines)))
        if prompt:
            ws.data_validation(row, 1, row, 1, {"validate": "any", "input_title": label, "input_message": prompt})

    field(2, "機關全銜", full_unit_name(plan, registry, unit), fmt.input,
          prompt="已預填貴機關(單位)全銜；如有錯誤請更正。")
    field(3, "年度", plan.year, fmt.fixed_number)
    field(5, "計畫依據", numbered_lines(plan.basis), fmt.input_top, min_lines=3,
          prompt="已預填本局計畫的依據，請依貴單位情形修改。")
    field(6, "計畫目標", numbered_lines(plan.goals), fmt.input_top, min_lines=3,
          prompt="已預填本局計畫的目標，請依貴單位情形修改。")
    field(7, "實施對象", "", fmt.input_top, min_lines=2,
          prompt="請填寫本計畫的實施對象，例如本單位全體同仁。")

    write_string(ws, 9, 0, "計畫內容", fmt.section)
    ws.set_row(9, 22)
    for c, name in enumerate(WORKPLAN_COLUMNS):
        write_string(ws, WP_HEADER_ROW, c, name, fmt.header)
    ws.set_row(WP_HEADER_ROW, 24)
    last_row = WP_FIRST_ROW + WP_INPUT_ROWS - 1
    for r in range(WP_FIRST_ROW, last_row + 1):
        for c in range(4):
            ws.write_blank(r, c, None, fmt.input_top)
    areas = [(f"qos_area_{a.number}", a.label) for a in plan.areas]
    first_area_row = 5  # qos_meta rows 1-5 are the identity keys; areas follow
    source = f"=qos_meta!$B${first_area_row + 1}:$B${first_area_row + len(areas)}"
    ws.data_validation(WP_FIRST_ROW, 0, last_row, 0, {
        "validate": "list", "source": source,
        # information, not stop: a typed numeral (二, （二）) or a name pasted back from Word is read too
        "error_type": "information", "error_title": "實施要項",
        "error_message": "實施要項須為本計畫五項之一：請從下拉選單選擇，或只寫編號（例如「二」）。",
        "input_title": "實施要項", "input_message": "請從下拉選單選擇，或只寫編號（例如「二」）。同一實施要項可寫多列，每一列都要選。",
    })
    ws.data_validation(WP_FIRST_ROW, 1, last_row, 2, {
        "validate": "any", "input_title": "工作重點及方法",
        "input_message": "有內容的每一列都要同時填寫「工作重點」及「工作(推動)方法」。",
    })

    closing = last_row + 2
    field(closing, "考核與獎勵", "", fmt.input_top, min_lines=4,
          prompt="請說明貴單位的考核方式及獎勵措施。")

    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True,
                    "format_columns": True, "format_rows": True, "format_cells": False,
                    "insert_rows": True, "delete_rows": True, "sort": False, "autofilter": False})
    print_a4(ws, header_rows=(WP_HEADER_ROW, WP_HEADER_ROW), title=title, landscape=False)
    ws.print_area(0, 0, closing, 3)

    _help_sheet(wb, fmt, f"{title}　填表說明", _workplan_help(plan, registry, unit))
    rows = _metadata(wb, info, extra=areas)
    assert rows[first_area_row][0] == "qos_area_1"
    _properties(wb, title, f"{plan.year}年度工作計畫", plan.organisation, info)
    ws.activate()
    wb.close()


def _workplan_help(plan: Plan, registry: Registry, unit: Unit) -> list:
    areas = "、".join(a.label for a in plan.areas)
    return [
        "一、填寫與寄送",
        ("1. 開啟", f"本檔是「{unit.name}」{plan.year} 年度工作計畫的範本（附件2 格式）。請用 Microsoft Excel 或 LibreOffice Calc 開啟，"
                   f"在「{WORKPLAN_SHEET}」工作表填寫。白底儲存格請填寫；淺灰底儲存格已鎖定（工作表未設密碼）。"),
        ("2. 存檔", "填寫完成後請存成 Excel 活頁簿（.xlsx）格式。使用 LibreOffice 者，存檔時請選「Excel 2007-365 (.xlsx)」，"
                   f"並在詢問格式時選「使用 Excel 2007-365!」。{ANY_NAME}（秘書室依表內的機關全銜及年度辨識），"
                   f"例如「{workplan_filename(unit, plan.year)}」。"),
        ("3. 寄送", f"於 4 月查核期限前，以電子郵件附件寄送{secretariat_contact(registry)}。如需更正，修改後重新寄送整份檔案即可。"),
        ("4. 請勿", "請勿修改欄位標題文字或工作表名稱，表格內請勿合併儲存格，也不要替檔案設定密碼。"),
        ("5. Word 版", "附件2 允許以 Word 撰寫工作計畫：也可以改用同時產生的 Word 範本「"
                      + workplan_docx_filename(unit, plan.year) + "」填寫，兩種格式都收，擇一寄送即可。"),
        "二、表頭及各段內容",
        ("機關全銜", "已預填貴機關(單位)全銜。如有錯誤，請更正為正確的全銜。"),
        ("年度", f"計畫年度（民國年），已預填 {plan.year}，請勿修改。"),
        ("計畫依據", "已預填本局計畫的依據作為起點，請依貴單位情形修改或補充。"),
        ("計畫目標", "已預填本局計畫的目標作為起點，請依貴單位情形修改或補充。"),
        ("實施對象", "本計畫的實施對象，例如本單位全體同仁。"),
        ("考核與獎勵", "貴單位的考核方式及獎勵措施（表格下方）。"),
        "三、計畫內容（表格）",
        ("實施要項", f"從下拉選單選擇，只能是本計畫的五項之一：{areas}。也可以只寫編號（例如「二」「2」「（二）」）或名稱"
                    "（例如「便捷服務程序」）。同一實施要項可寫多列，每一列都要選，請勿合併儲存格。"),
        ("工作重點", "該實施要項下，貴單位今年的工作重點。"),
        ("工作(推動)方法", "達成該工作重點的具體作法、時程及負責單位。"),
        ("備註", "其他說明。"),
        ("增加列數", f"表格預留 {WP_INPUT_ROWS} 列；不夠時可在表格中間按右鍵「插入列」，新列會保留下拉選單。沒用到的空白列留著即可。"),
        "四、檢核規則",
        ("錯誤（退件）", "有下列情形之一，整份檔案退回，須更正後重新寄送：五項實施要項中有任何一項沒有工作項目"
                      "（每一項至少要有一列同時填寫工作重點及工作(推動)方法）；有內容的列沒有選實施要項，"
                      "或實施要項不是下拉選單中的五項之一；有內容的列缺少工作重點或工作(推動)方法；"
                      "年度未填、無法辨識或不是本計畫年度；機關全銜不是本局單位。"),
        (f"{WARNING_NAME}（照收）", f"下列情形照收，但會列為{WARNING_NAME}請您確認：計畫依據、計畫目標、實施對象或考核與獎勵未填寫；"
                             "表格範圍以外或隱藏的列、欄、工作表有資料；檔案含有巨集；寄件者不屬於表上填寫的單位。"),
    ]
