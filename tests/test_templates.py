"""The unit templates as a user (and the reader) sees them: opened with openpyxl and LibreOffice."""

from __future__ import annotations

import os
import re
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from conftest import need_tool
from openpyxl.utils import range_boundaries

from qos_xl import TEMPLATE_VERSION
from qos_xl.output.templates import FILL_NOT_DUE, SC_HEADER_CELLS, write_templates
from qos_xl.output.xlsxout import display_width, row_height

from builders import CELL
from office import convert, pdf_pages

SC_HEADER = ["項次", "實施要項", "執行重點", "執行步驟", "查核期限", "執行狀態", "辦理情形", "完成日期", "佐證資料", "備註"]
WP_HEADER = ["實施要項", "工作重點", "工作(推動)方法", "備註"]
STATUSES = ["已完成", "辦理中", "未辦理", "不適用"]
FIRST, LAST = 6, 55      # the step rows
HEADER = FIRST - 1        # the table's header row


@dataclass(frozen=True)
class Period:
    year: int
    month: int | None

    def __str__(self) -> str:
        return f"{self.year}" if self.month is None else f"{self.year}-{self.month:02d}"


@pytest.fixture(scope="module")
def june(tmp_path_factory, plan, registry):
    out = tmp_path_factory.mktemp("june")
    return out, write_templates(plan, registry, out, Period(plan.year, 6))


@pytest.fixture(scope="module")
def december(tmp_path_factory, plan, registry):
    out = tmp_path_factory.mktemp("december")
    return out, write_templates(plan, registry, out, Period(plan.year, 12))


@pytest.fixture(scope="module")
def mnt(registry):
    return registry.by_code("MNT")


def _open(out: Path, name: str) -> openpyxl.Workbook:
    return openpyxl.load_workbook(out / name)


@pytest.fixture(scope="module")
def sc_wb(june, mnt, plan):
    return _open(june[0], f"{mnt.short_name}_自行檢核表_{plan.year}-06.xlsx")


@pytest.fixture(scope="module")
def wp_wb(june, mnt, plan):
    return _open(june[0], f"{mnt.short_name}_工作計畫_{plan.year}.xlsx")


def _fill(cell) -> str:
    return (cell.fill.fgColor.rgb or "")[-6:].upper() if cell.fill.fill_type == "solid" else ""


def _validation_for(ws, ref: str):
    found = [dv for dv in ws.data_validations.dataValidation if ref in dv.sqref]
    assert found, f"no data validation on {ref}"
    return found[0]


# -- files ------------------------------------------------------------------------------
def test_three_files_per_unit_with_expected_names(june, registry, plan):
    out, paths = june
    expected = []
    for unit in registry.units:
        expected += [out / f"{unit.short_name}_自行檢核表_{plan.year}-06.xlsx", out / f"{unit.short_name}_工作計畫_{plan.year}.xlsx",
                     out / f"{unit.short_name}_工作計畫_{plan.year}.docx"]
    assert paths == expected
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in expected)  # no temp files left
    assert "養工處_自行檢核表_102-06.xlsx" in {p.name for p in paths}


def test_unit_subset_and_year_only_period(tmp_path, plan, registry, mnt):
    paths = write_templates(plan, registry, tmp_path / "a", Period(plan.year, 6), units=[mnt])
    assert [p.name for p in paths] == [f"養工處_自行檢核表_{plan.year}-06.xlsx", f"養工處_工作計畫_{plan.year}.xlsx",
                                       f"養工處_工作計畫_{plan.year}.docx"]
    paths = write_templates(plan, registry, tmp_path / "b", Period(plan.year, None), units=[mnt])
    assert [p.name for p in paths] == [f"養工處_工作計畫_{plan.year}.xlsx", f"養工處_工作計畫_{plan.year}.docx"]


def test_period_of_another_year_is_refused(tmp_path, plan, registry):
    with pytest.raises(ValueError, match="計畫年度"):
        write_templates(plan, registry, tmp_path, Period(plan.year + 1, 6))
    assert not list(tmp_path.iterdir())


# -- self-check -------------------------------------------------------------------------
def test_selfcheck_sheets(sc_wb):
    assert sc_wb.sheetnames[0] == "自行檢核表"
    assert sc_wb.active.title == "自行檢核表"
    assert "填表說明" in sc_wb.sheetnames
    assert sc_wb["qos_meta"].sheet_state == "veryHidden"
    assert sc_wb["填表說明"].sheet_state == "visible"


def test_selfcheck_title_and_header_block(sc_wb, mnt, plan):
    ws = sc_wb["自行檢核表"]
    assert ws["A1"].value == f"{plan.organisation}{plan.year}年度提升服務品質自行檢核表　期中自行檢核（{plan.year}-06）"
    assert ws["A1"].font.b and ws["A1"].font.sz > 11
    assert "A1:J1" in {str(r) for r in ws.merged_cells.ranges}
    labels = {label: name for name, (label, _) in SC_HEADER_CELLS.items()}
    assert {ref: ws[ref].value for ref in labels} == {
        "B2": "機關(單位)名稱", "E2": "填報期別", "H2": "填報日期", "B3": "填表人", "E3": "聯絡電話"}
    assert all(ws[ref].protection.locked for ref in labels)
    assert ws[CELL["unit"]].value == mnt.name and not ws[CELL["unit"]].protection.locked
    assert ws[CELL["period"]].value == f"{plan.year}-06" and ws[CELL["period"]].protection.locked
    for name in ("filler", "phone", "report_date"):
        assert ws[CELL[name]].value is None and not ws[CELL[name]].protection.locked
    assert ws[CELL["report_date"]].number_format == "@"   # text: a typed 102/6/30 stays as typed
    assert "102/6/30" in _validation_for(ws, CELL["report_date"]).prompt
    assert {"C2:D2", "C3:D3", "F3:G3"} <= {str(r) for r in ws.merged_cells.ranges}


def test_selfcheck_december_title(december, mnt, plan):
    ws = _open(december[0], f"{mnt.short_name}_自行檢核表_{plan.year}-12.xlsx")["自行檢核表"]
    assert ws["A1"].value.endswith(f"年度執行成果（{plan.year}-12）")
    assert ws[CELL["period"]].value == f"{plan.year}-12"


def test_selfcheck_table_header(sc_wb):
    ws = sc_wb["自行檢核表"]
    assert [c.value for c in ws[HEADER][:10]] == SC_HEADER
    for cell in ws[HEADER][:10]:
        assert cell.font.b and cell.alignment.wrap_text and cell.alignment.horizontal == "center"
        assert _fill(cell) and cell.border.left.style


def test_selfcheck_rows_match_catalogue(sc_wb, plan):
    ws = sc_wb["自行檢核表"]
    assert len(plan.steps) == LAST - FIRST + 1 == 50
    areas = {a.number: a.label for a in plan.areas}
    for r, step in enumerate(plan.steps, start=FIRST):
        code, area, focus, text, deadline = (ws.cell(r, c).value for c in range(1, 6))
        assert code == step.code and ws.cell(r, 1).data_type == "s"
        assert area == areas[step.area]
        assert focus == step.focus_label
        assert text == step.text
        assert deadline.split("\n")[0] == step.deadline
        assert all(ws.cell(r, c).value is None for c in range(6, 11))
    assert all(ws.cell(LAST + 1, c).value is None for c in range(1, 11))
    assert ws[f"B{FIRST}"].value == "一、提升服務品質，深化服務績效"


def test_not_due_rows_marked_and_shaded_in_june(sc_wb, plan):
    ws = sc_wb["自行檢核表"]
    only_december = {s.code for s in plan.steps if s.months == (12,)}
    assert only_december == {"1-2-3", "3-5-1", "3-5-2"}
    marked = set()
    for r in range(FIRST, LAST + 1):
        code = ws.cell(r, 1).value
        fills = {_fill(ws.cell(r, c)) for c in range(1, 11)}
        if "未到期" in ws.cell(r, 5).value:
            marked.add(code)
            assert ws.cell(r, 5).value.startswith("12月\n")
            assert fills == {FILL_NOT_DUE.lstrip("#").upper()}
        else:
            assert FILL_NOT_DUE.lstrip("#").upper() not in fills
    assert marked == only_december
    row = FIRST + [s.code for s in plan.steps].index("1-2-3")
    dv = _validation_for(ws, f"F{row}")  # 1-2-3 keeps its dropdown
    assert ws[f"A{row}"].value == "1-2-3" and dv.type == "list"
    # the note says what the two greys are: plan text locked, a not-due row still open to input (as it is)
    assert all(not ws.cell(row, c).protection.locked for c in range(6, 11))
    assert all(ws.cell(row, c).protection.locked for c in range(1, 6))
    assert ws["A4"].value == ("白底儲存格請填寫，淺灰底為計畫內容（已鎖定）；日期請以民國年填寫，例如 102/6/30。"
                              "深灰底的 3 列本期尚未到查核期限，可不填（填寫欄仍可輸入）。詳細規定請見「填表說明」工作表。")


def test_nothing_marked_in_december(december, mnt, plan):
    ws = _open(december[0], f"{mnt.short_name}_自行檢核表_{plan.year}-12.xlsx")["自行檢核表"]
    assert ws["A4"].value == ("白底儲存格請填寫，淺灰底為計畫內容（已鎖定）；日期請以民國年填寫，例如 102/6/30。"
                              "詳細規定請見「填表說明」工作表。")
    for r in range(FIRST, LAST + 1):
        assert "未到期" not in ws.cell(r, 5).value
        assert FILL_NOT_DUE.lstrip("#").upper() not in {_fill(ws.cell(r, c)) for c in range(1, 11)}


def test_status_dropdown(sc_wb):
    ws = sc_wb["自行檢核表"]
    dv = _validation_for(ws, f"F{FIRST}")
    assert str(dv.sqref) == f"F{FIRST}:F{LAST}"
    assert dv.type == "list"
    assert dv.formula1 == '"' + ",".join(STATUSES) + '"'
    assert dv.showErrorMessage and dv.errorStyle in (None, "stop")
    assert dv.error and dv.errorTitle and dv.showInputMessage and dv.prompt


def test_completion_date_column_is_text(sc_wb):
    """A date typed into a date-formatted cell becomes the year 102 in LibreOffice: the column is text (@)."""
    ws = sc_wb["自行檢核表"]
    assert {ws.cell(r, 8).number_format for r in range(FIRST, LAST + 1)} == {"@"}
    dv = _validation_for(ws, f"H{FIRST}")
    assert str(dv.sqref) == f"H{FIRST}:H{LAST}"
    assert "102/6/30" in dv.prompt and "文字格式" in dv.prompt and len(dv.prompt) <= 255 and len(dv.promptTitle) <= 32


def test_no_date_formatted_cell_in_either_template(sc_wb, wp_wb):
    for wb in (sc_wb, wp_wb):
        for ws in wb.worksheets:
            formats = {c.number_format for row in ws.iter_rows() for c in row}
            assert not {f for f in formats if "y" in f.lower() or "d" in f.lower().replace("general", "")}, ws.title


def test_selfcheck_protection(sc_wb):
    ws = sc_wb["自行檢核表"]
    p = ws.protection
    assert p.sheet and not p.password
    assert not p.formatRows and not p.formatColumns      # allowed
    assert p.insertRows and p.deleteRows and p.sort      # protected
    for r in (FIRST, 12, LAST):
        assert all(ws.cell(r, c).protection.locked for c in range(1, 6))
        assert not any(ws.cell(r, c).protection.locked for c in range(6, 11))
    assert ws[f"A{HEADER}"].protection.locked


def test_selfcheck_layout_fits_chinese_text(sc_wb, plan):
    ws = sc_wb["自行檢核表"]
    widths = {c: ws.column_dimensions[c].width for c in "ABCDEFGHIJ"}
    for letter, name in zip("ABCDEFGHIJ", SC_HEADER):
        assert display_width(name) <= widths[letter]
    inputs = "FGHIJ"
    assert max(inputs, key=widths.get) == "G" and widths["G"] >= max(widths.values())   # 辦理情形 the widest
    for r in range(FIRST, LAST + 1):
        texts = [(ws.cell(r, c).value, widths[letter]) for c, letter in enumerate("ABCDE", start=1)]
        # the height to open with shows the plan's texts whole, and at least two lines
        assert ws.row_dimensions[r].height >= max(row_height(texts), row_height([], min_lines=2)) - 1
        assert ws.cell(r, 4).alignment.wrap_text and ws.cell(r, 4).alignment.vertical == "top"
        assert ws.cell(r, 7).alignment.wrap_text
    assert ws.freeze_panes == f"B{FIRST}"


def test_step_rows_grow_with_what_is_typed(june, mnt, plan):
    """No step row is sized by hand (customHeight), so Excel and LibreOffice re-fit it as text is typed."""
    with zipfile.ZipFile(june[0] / f"{mnt.short_name}_自行檢核表_{plan.year}-06.xlsx") as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    rows = {int(m[1]): m[0] for m in re.finditer(r'<row r="([0-9]+)"[^>]*>', xml)}
    assert all("customHeight" not in rows[r] and ' ht="' in rows[r] for r in range(FIRST, LAST + 1))
    assert all('customHeight="1"' in rows[r] for r in range(1, FIRST))


def test_frozen_block_is_short(sc_wb):
    """Rows 1-5 stay on screen: under 100 pt (it was 159), so a 1366x768 laptop shows steps below it."""
    ws = sc_wb["自行檢核表"]
    frozen = sum(ws.row_dimensions[r].height for r in range(1, FIRST))
    assert frozen <= 100


def test_selfcheck_print_setup(sc_wb):
    ws = sc_wb["自行檢核表"]
    assert ws.page_setup.paperSize in (9, "9")
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth in (None, 1, "1")  # 1 is the default and may be omitted
    assert int(ws.page_setup.fitToHeight) == 0
    assert ws.print_title_rows.replace("$", "") == f"{HEADER}:{HEADER}"
    assert "&P" in ws.oddFooter.center.text
    assert ws.print_area.replace("$", "").endswith(f"A1:J{LAST}")


def test_metadata(sc_wb, wp_wb, mnt, plan):
    for wb, form, period in ((sc_wb, "selfcheck", f"{plan.year}-06"), (wp_wb, "workplan", str(plan.year))):
        expected = {"qos_form": form, "qos_period": period, "qos_plan_year": str(plan.year),
                    "qos_template_version": TEMPLATE_VERSION, "qos_unit": mnt.code}
        assert {k: wb.defined_names[k].value for k in expected} == {k: f'"{v}"' for k, v in expected.items()}
        meta = wb["qos_meta"]
        assert meta.sheet_state == "veryHidden"
        pairs = {row[0]: row[1] for row in meta.iter_rows(values_only=True)}
        assert {k: pairs[k] for k in expected} == expected
        assert wb.properties.title and mnt.name in wb.properties.title


def test_selfcheck_help_sheet(sc_wb, mnt):
    ws = sc_wb["填表說明"]
    text = "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v)
    for word in [*STATUSES, *SC_HEADER, "機關(單位)名稱", "填報期別", "填表人", "聯絡電話", "填報日期",
                 "102/6/30", "102.6.30", "102年6月30日", ".xlsx", "秘書室", "sec@pwb.kcg.gov.tw",
                 "錯誤", "警告", "不可晚於", "理由", "未到期", "請勿刪除", mnt.name]:
        assert word in text, word
    assert "提醒" not in text and "自訂" not in text       # one word for a non-blocking problem, one rule for the file name
    assert ws.protection.sheet and not ws.protection.password
    assert ws.page_setup.orientation == "portrait" and ws.page_setup.paperSize in (9, "9")


def _help_rows(wb) -> dict[str, str]:
    """The 填表說明 sheet as a unit reads it: each label (column A) with its text (column B); a heading with ""."""
    return {row[0]: row[1] or "" for row in wb["填表說明"].iter_rows(min_row=3, max_col=2, values_only=True) if row[0]}


# what 填表說明 says for each warning a self-check can get (core/messages.py): a new warning must be listed there too
SELFCHECK_WARNINGS = {
    "filler-missing": "填表人或聯絡電話未填", "status-synonym": "執行狀態寫成「完成」「進行中」等其他說法",
    "done-date-before-plan-year": "完成日期早於 102 年度", "date-read-as-roc": "日期被試算表存成西元年（已依民國年讀取）",
    "status-not-due": "本期尚未到期的步驟填了執行狀態", "cell-outside-table": "表格範圍以外",
    "hidden-data": "隱藏的列、欄、工作表有資料", "macro-ignored": "檔案含有巨集",
    "same-report-date": "兩份檔案填報日期相同但內容不同（以較晚收到的為準）", "sender-unit-mismatch": "寄件者不屬於表上填寫的單位",
}
WORKPLAN_ONLY_WARNINGS = {"section-empty"}


def test_selfcheck_help_says_what_each_thing_is_called(sc_wb, mnt, plan):
    """填表說明 uses the reply's words: 檔名不拘, 警告 (every warning listed), the two greys apart, the quality hints."""
    from qos_xl.core.messages import HINT_NAMES, MESSAGES, QUALITY_HINTS
    from qos_xl.pipeline.hints import MIN_MEANINGFUL_CHARS

    rows = _help_rows(sc_wb)
    assert "檔名不拘（秘書室依表內的機關名稱及期別辨識），例如「養工處_自行檢核表_102-06.xlsx」。" in rows["2. 存檔"]
    assert "淺灰底儲存格是計畫內容，已鎖定不能修改" in rows["1. 開啟"]
    assert "深灰底的列是本期尚未到期的步驟，填寫欄仍可輸入。" in rows["1. 開啟"]
    assert "五、本期未到期的步驟（深灰底列）" in rows and "灰底列" not in rows
    assert "這些列的填寫欄仍可輸入，但可以不填；若填了執行狀態，系統會照收並列為警告" in rows["深灰底列"]
    assert "要補充的內容請寫在相關項次的「辦理情形」或「備註」。" in rows["4. 請勿"]
    assert "提醒（照收）" not in rows
    warned = rows["警告（照收）"]
    assert warned.startswith("下列情形照收，但會列為警告請您確認：")
    warnings = {code for code, (severity, _) in MESSAGES.items() if severity == "warning"} - QUALITY_HINTS
    assert set(SELFCHECK_WARNINGS) == warnings - WORKPLAN_ONLY_WARNINGS
    assert [code for code, said in SELFCHECK_WARNINGS.items() if said not in warned] == []
    assert rows["填表人"].endswith("未填寫時會列為警告。") and rows["聯絡電話"].endswith("未填寫時會列為警告。")
    assert "七、品質提示（不影響收件）" in rows
    assert rows[HINT_NAMES["narrative-too-short"]] == (
        "「辦理情形」請具體寫出做了什麼、何時辦理、有何成果；扣除標點符號及執行狀態文字後"
        f"少於 {MIN_MEANINGFUL_CHARS} 個字，會列為品質提示。")
    assert rows[HINT_NAMES["evidence-missing"]] == (
        "「已完成」的步驟請在「佐證資料」填寫可供查證的資料名稱、文號或網址；未填寫會列為品質提示。")


def test_workplan_help_says_what_each_thing_is_called(wp_wb):
    rows = _help_rows(wp_wb)
    assert "檔名不拘（秘書室依表內的機關全銜及年度辨識），例如「養工處_工作計畫_102.xlsx」。" in rows["2. 存檔"]
    assert rows["警告（照收）"] == ("下列情形照收，但會列為警告請您確認：計畫依據、計畫目標、實施對象或考核與獎勵未填寫；"
                                  "表格範圍以外或隱藏的列、欄、工作表有資料；檔案含有巨集；寄件者不屬於表上填寫的單位。")
    text = "\n".join(rows) + "\n".join(rows.values())
    assert "提醒" not in text and "自訂" not in text


# -- work plan --------------------------------------------------------------------------
def _label_row(ws, label: str) -> int:
    rows = [c.row for c in ws["A"] if c.value == label]
    assert len(rows) == 1, label
    return rows[0]


def test_workplan_header_and_sections(wp_wb, mnt, plan):
    assert wp_wb.sheetnames[0] == "工作計畫" and wp_wb.active.title == "工作計畫"
    ws = wp_wb["工作計畫"]
    assert ws["A1"].value == f"{mnt.name}{plan.year}年度提升服務品質工作計畫"
    assert ws["A3"].value == "機關全銜" and ws["B3"].value == "高雄市政府工務局養護工程處"
    assert ws["A4"].value == "年度" and ws["B4"].value == plan.year
    merged = {str(r) for r in ws.merged_cells.ranges}
    for label, value in (("計畫依據", plan.basis), ("計畫目標", plan.goals), ("實施對象", None)):
        r = _label_row(ws, label)
        cell = ws.cell(r, 2)
        assert f"B{r}:D{r}" in merged
        assert not cell.protection.locked and cell.alignment.wrap_text
        if value:
            assert cell.value.replace("\n", "") == value
            assert ws.row_dimensions[r].height >= 50
        else:
            assert cell.value is None


def test_workplan_table(wp_wb, plan):
    ws = wp_wb["工作計畫"]
    top = _label_row(ws, "計畫內容")
    header = top + 1
    assert [c.value for c in ws[header][:4]] == WP_HEADER
    assert all(c.font.b and _fill(c) for c in ws[header][:4])
    rows = range(header + 1, header + 41)
    for r in rows:
        assert all(ws.cell(r, c).value is None and not ws.cell(r, c).protection.locked for c in range(1, 5))
    closing = _label_row(ws, "考核與獎勵")
    assert closing > rows[-1]
    assert f"B{closing}:D{closing}" in {str(r) for r in ws.merged_cells.ranges}
    assert not ws.cell(closing, 2).protection.locked and ws.cell(closing, 2).value is None

    dv = _validation_for(ws, f"A{header + 1}")
    assert str(dv.sqref) == f"A{header + 1}:A{rows[-1]}"
    assert dv.type == "list" and dv.showErrorMessage and dv.error
    assert dv.errorStyle == "information"   # a typed numeral (二) may stay: the reader takes it
    sheet, ref = dv.formula1.split("!")
    min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
    source = wp_wb[sheet.strip("'")]
    labels = [source.cell(r, min_col).value for r in range(min_row, max_row + 1)]
    assert labels == [a.label for a in plan.areas] and len(labels) == 5


def test_workplan_protection_and_print(wp_wb):
    ws = wp_wb["工作計畫"]
    p = ws.protection
    assert p.sheet and not p.password
    assert not p.insertRows and not p.formatRows and not p.formatColumns  # allowed
    assert ws["A3"].protection.locked and ws["B4"].protection.locked
    assert ws.page_setup.paperSize in (9, "9") and ws.sheet_properties.pageSetUpPr.fitToPage
    assert int(ws.page_setup.fitToHeight) == 0
    header = _label_row(ws, "計畫內容") + 1
    assert ws.print_title_rows.replace("$", "") == f"{header}:{header}"
    assert "&P" in ws.oddFooter.center.text


def test_workplan_help_sheet(wp_wb, plan):
    ws = wp_wb["填表說明"]
    text = "\n".join(str(v) for row in ws.iter_rows(values_only=True) for v in row if v)
    for word in [*WP_HEADER, "機關全銜", "年度", "計畫依據", "計畫目標", "實施對象", "考核與獎勵",
                 "下拉選單", "插入列", "至少", ".xlsx", "秘書室", *(a.label for a in plan.areas)]:
        assert word in text, word
    assert ws.protection.sheet and not ws.protection.password


# -- LibreOffice ------------------------------------------------------------------------


def _soffice(tmp_path: Path, target: str, files: list[Path]) -> Path:
    soffice = need_tool("soffice")
    out = tmp_path / target.split(":")[0]
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home)}
    subprocess.run([soffice, "--headless", "--norestore", "--convert-to", target, "--outdir", str(out), *map(str, files)],
                   env=env, timeout=120, check=True, capture_output=True)
    return out


def test_libreoffice_prints_every_step_with_repeated_header(tmp_path, june, mnt, plan):
    pdftotext = need_tool("pdftotext")
    source = june[0] / f"{mnt.short_name}_自行檢核表_{plan.year}-06.xlsx"
    pdf = _soffice(tmp_path, "pdf", [source]) / (source.stem + ".pdf")
    assert pdf.is_file()
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, timeout=60, check=True).stdout
    pages = [p for p in text.split("\f") if p.strip()]
    data_pages = [p for p in pages if f"自行檢核表（{plan.year}-06）" in p]  # page header of the data sheet
    assert len(data_pages) > 1
    assert all("執行狀態" in p and "項次" in p for p in data_pages)
    body = "\n".join(data_pages)
    for step in plan.steps:
        assert re.search(rf"(?<![\d-]){re.escape(step.code)}(?![\d-])", body), step.code
    assert mnt.name in data_pages[0] and "機關(單位)名稱" in data_pages[0]
    assert "第 1 頁" in data_pages[0]
    assert any("填表說明" in p for p in pages)


def test_metadata_and_dropdowns_survive_a_libreoffice_save(tmp_path, june, mnt, plan):
    files = [june[0] / f"{mnt.short_name}_自行檢核表_{plan.year}-06.xlsx", june[0] / f"{mnt.short_name}_工作計畫_{plan.year}.xlsx"]
    out = _soffice(tmp_path, "xlsx:Calc MS Excel 2007 XML", files)
    sc = openpyxl.load_workbook(out / files[0].name)
    wp = openpyxl.load_workbook(out / files[1].name)
    for wb, form in ((sc, "selfcheck"), (wp, "workplan")):
        assert wb.defined_names["qos_form"].value == f'"{form}"'
        assert wb.defined_names["qos_unit"].value == f'"{mnt.code}"'
        assert wb["qos_meta"].sheet_state in ("hidden", "veryHidden")  # LibreOffice has no "very hidden"
        assert wb.worksheets[0].protection.sheet
    ws = sc["自行檢核表"]
    assert [c.value for c in ws[HEADER][:10]] == SC_HEADER and ws[CELL["unit"]].value == mnt.name
    assert _validation_for(ws, f"F{FIRST}").formula1 == '"' + ",".join(STATUSES) + '"'
    dv = _validation_for(wp["工作計畫"], "A12")
    assert dv.type == "list" and "qos_meta" in dv.formula1


def _typed_into(template: Path, target: Path, ref: str, text: str, *, sized_by_hand: bool = False) -> Path:
    """The template with ``text`` typed into cell ``ref`` (stored as Excel and LibreOffice store a typed entry), nothing else changed.

    openpyxl would rewrite every row it saves as sized by hand, so the cell is written into the sheet XML as is.
    ``sized_by_hand`` marks the cell's row the way the old templates marked every step row.
    """
    from xml.sax.saxutils import escape

    row = int(re.sub(r"[A-Z]", "", ref))
    with zipfile.ZipFile(template) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in members:
            if info.filename == "xl/worksheets/sheet1.xml":
                xml, n = re.subn(rf'<c r="{ref}" s="([0-9]+)"/>',
                                 lambda m: f'<c r="{ref}" s="{m[1]}" t="inlineStr"><is><t>{escape(text)}</t></is></c>', data.decode())
                assert n == 1
                if sized_by_hand:
                    xml = re.sub(rf'(<row r="{row}"[^>]*?)>', r'\1 customHeight="1">', xml, count=1)
                data = xml.encode()
            z.writestr(info, data)
    return target


LONG_NARRATIVE = ("本處於102年3月起依計畫推動服務品質提升工作，辦理櫃台服務流程簡化、線上申辦系統擴充、民眾滿意度調查，"
                  "並召開檢討改善會議，追蹤各課室改善情形，按月提報局務會議列管。") * 4 + "\n全案辦理完竣（完）"


@pytest.mark.parametrize("sized_by_hand", [False, True], ids=["template", "a row sized by hand, as before"])
def test_long_narrative_prints_uncut(tmp_path, june, mnt, plan, sized_by_hand):
    """A long 辦理情形 typed in LibreOffice prints whole: the row grows (and would not, had it been sized by hand).

    Typing re-fits a row; LibreOffice does the same when it loads the saved .ods (rows not
    sized by hand are "optimal height" there), so the typed template goes .xlsx -> .ods -> PDF.
    """
    source = june[0] / f"{mnt.short_name}_自行檢核表_{plan.year}-06.xlsx"
    row = FIRST + [s.code for s in plan.steps].index("2-3-2")   # the shortest step text: the narrative is the tallest cell
    typed = _typed_into(source, tmp_path / "typed.xlsx", f"G{row}", LONG_NARRATIVE, sized_by_hand=sized_by_hand)
    ods = convert(typed, "ods", tmp_path / "ods")
    pages = pdf_pages(convert(ods, "pdf", tmp_path / "pdf"))
    text = "".join(pages)
    assert "本處於102年3月起" in text
    assert ("全案辦理完竣（完）" in text) is not sized_by_hand
