"""Reading and validating submissions: messy-but-valid files pass, each broken rule is named at its cell."""

from __future__ import annotations

import datetime as dt
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from qos_xl.output.reply import file_reply
from qos_xl.output.templates import SC_HEADER_CELLS
from qos_xl.pipeline.validate import validate_paths

import builders
from builders import CELL, FIRST_ROW, step_row
from office import convert


LABEL = {name: label for name, (label, _) in SC_HEADER_CELLS.items()}
HEADING = f"A{FIRST_ROW - 1}"  # the table's 項次 heading: where a step the file lacks is named


def run(plan, registry, *paths):
    checked = validate_paths(list(paths), plan, registry, jobs=1)
    return checked.files


def codes(report, severity=None):
    return {(p.code, p.cell) for p in report.problems if severity is None or p.severity == severity}


def test_clean_file_is_accepted(tmp_path, plan, registry):
    path = builders.selfcheck(tmp_path, plan, registry)
    [report] = run(plan, registry, path)
    assert report.problems == ()
    assert (report.state, report.unit, report.unit_code, report.form, report.period) == (
        "accepted", "養護工程處", "MNT", "selfcheck", "102-06")
    assert report.report_date == dt.date(2013, 6, 28)


def _set(cell, value):
    def edit(ws):
        ws[cell] = value
    return edit


DATE_FORMS = ["102/5/30", "102.5.30", "102-05-30", "1020530", "102年5月30日", "民國102年5月30日",
              "１０２／５／３０", "2013/5/30", "2013-05-30", dt.datetime(2013, 5, 30), " 102/05/30 "]


@pytest.mark.parametrize("form", DATE_FORMS, ids=str)
def test_every_date_form_reads(tmp_path, plan, registry, form):
    row = step_row(plan, "1-1-1")
    path = builders.selfcheck(tmp_path, plan, registry, edit=_set(f"H{row}", form))
    [report] = run(plan, registry, path)
    assert report.problems == () and report.state == "accepted"


@pytest.mark.parametrize("synonym,status", [("完成", "已完成"), ("進行中", "辦理中"), ("尚未辦理", "未辦理"), ("N/A", "不適用")])
def test_synonyms_accepted_with_a_warning(tmp_path, plan, registry, synonym, status):
    row = step_row(plan, "2-1-1")

    def edit(ws):
        ws[f"F{row}"] = synonym
        ws[f"H{row}"] = None if status != "已完成" else "102/5/1"
    path = builders.selfcheck(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    assert report.state == "accepted"
    assert codes(report) == {("status-synonym", f"F{row}")}
    assert f"「{status}」" in report.problems[0].message


def _insert_rows(ws):
    ws.insert_rows(1, 3)


def _insert_cols(ws):
    ws.insert_cols(1, 2)


def _swap_rows(ws):
    for col in range(1, 11):
        top, other = ws.cell(FIRST_ROW, col), ws.cell(FIRST_ROW + 12, col)
        top.value, other.value = other.value, top.value


def _spaced_labels(ws):
    ws[LABEL["unit"]] = " 機關（單位）名稱 "
    ws[LABEL["report_date"]] = "填報日期\u3000"
    ws.cell(FIRST_ROW - 1, 6, "執行狀態 ")
    ws[CELL["unit"]] = "養工處"
    ws[CELL["period"]] = "102年6月"


def _blank_rows(ws):
    ws.insert_rows(30, 2)


VARIANTS = {"inserted-rows": _insert_rows, "inserted-cols": _insert_cols, "rows-reordered": _swap_rows,
            "labels-spaced-fullwidth-alias": _spaced_labels, "blank-rows-in-table": _blank_rows}


@pytest.mark.parametrize("variant", VARIANTS)
def test_layout_variants_read(tmp_path, plan, registry, variant):
    path = builders.selfcheck(tmp_path, plan, registry, edit=VARIANTS[variant])
    [report] = run(plan, registry, path)
    assert report.problems == () and report.state == "accepted" and report.unit_code == "MNT"


def test_sheet_order_and_file_name_do_not_matter(tmp_path, plan, registry):
    path = builders.selfcheck(tmp_path, plan, registry, name="養工處 自評(最終版).xlsx")
    wb = load_workbook(path)
    wb.move_sheet("自行檢核表", offset=1)
    wb.save(path)
    [report] = run(plan, registry, path)
    assert report.state == "accepted" and report.problems == ()


def test_libreoffice_resaved_file_reads(tmp_path, plan, registry):
    """A unit that fills the template in LibreOffice and saves it as .xlsx, .ods or .xls: each reads, no problem."""
    path = builders.selfcheck(tmp_path / "in", plan, registry)
    produced = [convert(path, target, tmp_path / "lo") for target in ("xlsx:Calc MS Excel 2007 XML", "ods", "xls:MS Excel 97")]
    assert sorted(p.name for p in (tmp_path / "lo").iterdir() if p.is_file()) == \
        sorted(f"{path.stem}.{ext}" for ext in ("xlsx", "ods", "xls"))
    for resaved in produced:
        [report] = run(plan, registry, resaved)
        assert report.state == "accepted", (resaved.name, report.problems)
        assert report.problems == ()


def broken_cases(plan):
    r = lambda code: step_row(plan, code)  # noqa: E731
    return {
        "status-not-allowed": ({f"F{r('1-2-1')}": "做完了"}, {("status-not-allowed", f"F{r('1-2-1')}")}),
        "status-missing": ({f"F{r('1-2-1')}": None, f"G{r('1-2-1')}": None, f"H{r('1-2-1')}": None},
                           {("status-missing", f"F{r('1-2-1')}")}),
        "narrative-missing-done": ({f"G{r('1-3-1')}": None}, {("narrative-missing", f"G{r('1-3-1')}")}),
        "narrative-missing-doing": ({f"F{r('1-3-2')}": "辦理中", f"G{r('1-3-2')}": "  ", f"H{r('1-3-2')}": None},
                                    {("narrative-missing", f"G{r('1-3-2')}")}),
        "done-date-missing": ({f"H{r('2-1-1')}": None}, {("done-date-missing", f"H{r('2-1-1')}")}),
        "date-invalid": ({f"H{r('2-1-1')}": "六月底"}, {("date-invalid", f"H{r('2-1-1')}")}),
        "date-ambiguous": ({f"H{r('2-1-1')}": "6/30"}, {("date-invalid", f"H{r('2-1-1')}")}),
        "done-date-after-report": ({f"H{r('2-2-1')}": "102/7/1"}, {("done-date-after-report", f"H{r('2-2-1')}")}),
        "reason-missing": ({f"F{r('4-1-1')}": "不適用", f"G{r('4-1-1')}": None, f"H{r('4-1-1')}": None},
                           {("reason-missing", f"G{r('4-1-1')}")}),
        "step-unknown": ({f"A{r('5-4-2')}": "9-9-9"}, {("step-unknown", f"A{r('5-4-2')}"), ("step-missing", HEADING)}),
        "step-duplicate": ({f"A{r('5-4-2')}": "5-4-1"}, {("step-duplicate", f"A{r('5-4-2')}"), ("step-missing", HEADING)}),
        "unit-missing": ({CELL["unit"]: None}, {("unit-missing", CELL["unit"])}),
        "unit-unknown": ({CELL["unit"]: "路燈管理處"}, {("unit-unknown", CELL["unit"])}),
        "period-missing": ({CELL["period"]: None}, {("period-missing", CELL["period"])}),
        "period-invalid": ({CELL["period"]: "下學期"}, {("period-invalid", CELL["period"])}),
        "plan-year-mismatch": ({CELL["period"]: "101-06"}, {("plan-year-mismatch", CELL["period"])}),
        "report-date-missing": ({CELL["report_date"]: None}, {("report-date-missing", CELL["report_date"])}),
        "report-date-invalid": ({CELL["report_date"]: "102/13/1"}, {("report-date-invalid", CELL["report_date"])}),
        # a 102-06 self-check dated in the next year: a typo that would win "the latest 填報日期" over the correction
        "report-date-out-of-period": ({CELL["report_date"]: "103/1/5"}, {("report-date-out-of-period", CELL["report_date"])}),
    }


@pytest.mark.parametrize("case", [
    "status-not-allowed", "status-missing", "narrative-missing-done", "narrative-missing-doing", "done-date-missing",
    "date-invalid", "date-ambiguous", "done-date-after-report", "reason-missing", "step-unknown", "step-duplicate",
    "unit-missing", "unit-unknown", "period-missing", "period-invalid", "plan-year-mismatch", "report-date-missing",
    "report-date-invalid", "report-date-out-of-period"])
def test_each_broken_rule_named_at_its_cell(tmp_path, plan, registry, case):
    edits, expected = broken_cases(plan)[case]

    def edit(ws):
        for cell, value in edits.items():
            ws[cell] = value
    path = builders.selfcheck(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    assert codes(report, "error") == expected
    assert report.state == "rejected"
    assert all(p.message and p.sheet == "自行檢核表" for p in report.problems)


def test_warnings_are_listed_but_accepted(tmp_path, plan, registry):
    before, not_due = step_row(plan, "1-1-1"), step_row(plan, "1-2-3")

    def edit(ws):
        ws[f"H{before}"] = "101/12/1"
        ws[f"F{not_due}"] = "未辦理"
        ws[CELL["filler"]] = None
    path = builders.selfcheck(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    assert report.state == "accepted"
    assert codes(report) == {("done-date-before-plan-year", f"H{before}"), ("status-not-due", f"F{not_due}"),
                             ("filler-missing", CELL["filler"])}
    assert all(p.severity == "warning" for p in report.problems)


def test_every_problem_of_a_file_at_once(tmp_path, plan, registry):
    rows = [step_row(plan, c) for c in ("1-2-1", "1-2-2", "1-2-4")]

    def edit(ws):
        for row in rows:
            ws[f"F{row}"] = "做完了"
        ws[CELL["report_date"]] = None
    path = builders.selfcheck(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    assert codes(report, "error") == {("status-not-allowed", f"F{r}") for r in rows} | {("report-date-missing", CELL["report_date"])}
    assert [p for p in report.problems if p.code == "status-not-allowed"][0].value == "做完了"


RESTORE = "本表不可新增列，請改用秘書室寄發的原範本填寫（已填的內容可複製貼上）後再寄送。"


def test_deleted_row_is_a_missing_step(tmp_path, plan, registry):
    """The message says where the row belongs (its neighbours in the plan) and a way back that works on a protected sheet."""
    order = [s.code for s in plan.steps]
    at = order.index("3-3-1")
    path = builders.selfcheck(tmp_path, plan, registry, edit=lambda ws: ws.delete_rows(step_row(plan, "3-3-1")))
    [report] = run(plan, registry, path)
    assert codes(report, "error") == {("step-missing", HEADING)}
    [missing] = report.errors
    assert (missing.value, missing.step) == (None, "3-3-1")
    assert missing.message == f"項次 3-3-1 這一列不見了（應在項次 {order[at - 1]} 與 {order[at + 1]} 之間）。" + RESTORE
    # the reply names the sheet, not the heading cell the problem is kept at
    assert f"1. 【錯誤】工作表「自行檢核表」：{missing.message}\n" in file_reply(report)


def test_deleted_first_and_last_rows_are_placed_by_their_one_neighbour(tmp_path, plan, registry):
    first, last = plan.steps[0].code, plan.steps[-1].code

    def edit(ws):
        ws.delete_rows(step_row(plan, last))
        ws.delete_rows(step_row(plan, first))
    path = builders.selfcheck(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    assert sorted(p.message for p in report.errors) == sorted([
        f"項次 {first} 這一列不見了（應在項次 {plan.steps[1].code} 之前）。" + RESTORE,
        f"項次 {last} 這一列不見了（應在項次 {plan.steps[-2].code} 之後）。" + RESTORE])


def test_inserted_row_without_a_step_is_told_to_go(tmp_path, plan, registry):
    """A row a unit added (the 項次 left blank) is not a changed 項次: the unit is told to delete it, and where its text can go."""
    row = step_row(plan, "1-2-1")

    def edit(ws):
        ws.insert_rows(row)
        ws[f"G{row}"] = "另外補充：本處已增設線上預約。"
    path = builders.selfcheck(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    [problem] = [p for p in report.errors if p.code == "step-unknown"]
    assert (problem.cell, problem.value) == (f"A{row}", None)
    assert problem.message == "這一列沒有項次：本表不可新增列，請刪除此列；要補充的內容可寫在相關項次的「辦理情形」或「備註」。"
    changed = builders.selfcheck(tmp_path / "b", plan, registry, edit=_set(f"A{row}", "9-9-9"))
    [report] = run(plan, registry, changed)
    assert next(p for p in report.errors if p.code == "step-unknown").message == (
        "項次「9-9-9」不在本年度計畫中。請勿修改項次欄，使用範本原有的項次。")


def test_workplan_valid_and_broken(tmp_path, plan, registry):
    good = builders.workplan(tmp_path / "a", plan, registry)
    [report] = run(plan, registry, good)
    assert (report.state, report.form, report.period, report.problems) == ("accepted", "workplan", "102", ())

    def edit(ws):
        header = next(r for r in range(1, 60) if ws.cell(r, 1).value == "實施要項")
        ws.cell(header + 1, 1, "六、其他")          # not an area
        ws.cell(header + 2, 3).value = None        # 二 without a method
        ws.cell(header + 3, 1).value = None        # 三: work without an area
    bad = builders.workplan(tmp_path / "b", plan, registry, edit=edit)
    [report] = run(plan, registry, bad)
    header = 1 + next(i for i, p in enumerate(load_workbook(bad)["工作計畫"].iter_rows(values_only=True)) if p[0] == "實施要項")
    assert sorted((p.code, p.cell) for p in report.errors) == sorted([
        ("area-invalid", f"A{header + 1}"), ("work-item-incomplete", f"C{header + 2}"), ("area-missing", f"A{header + 3}"),
        ("area-uncovered", f"A{header}"), ("area-uncovered", f"A{header}")])   # 一 and 三: no row names them
    uncovered = [p for p in report.errors if p.code == "area-uncovered"]
    assert [p.value for p in uncovered] == [None, None]                 # nothing the unit wrote to quote
    assert {a.label for a in (plan.areas[0], plan.areas[2]) if any(a.label in p.message for p in uncovered)} == {
        plan.areas[0].label, plan.areas[2].label}
    assert uncovered[0].message == (f"實施要項「{plan.areas[0].label}」沒有任何工作項目。"
                                    "請在表格的空白列選擇此實施要項，並填寫工作重點及工作(推動)方法。")
    reply = file_reply(report)
    assert f"【錯誤】工作表「工作計畫」：{uncovered[0].message}\n" in reply and f"儲存格 A{header}：" not in reply
    incomplete = next(p for p in report.errors if p.code == "work-item-incomplete")
    assert "缺少「工作(推動)方法」" in incomplete.message
    assert next(p for p in report.errors if p.code == "area-missing").message == (
        "這一列有工作內容，但「實施要項」空白。請從下拉選單選擇實施要項。")


AREA_FORMS = ["二", "2", "二、", "二、便捷服務程序", "（二）", "(2)", "２．便捷服務程序", "便捷服務程序", "（二）便捷服務程序",
              "便捷服務程序，確保流程透明", " 二、便捷服務程序，確保流程透明 "]


@pytest.mark.parametrize("written", AREA_FORMS)
def test_workplan_area_by_numeral_or_name(tmp_path, plan, registry, written):
    """A 實施要項 typed, or pasted back from Word, by its numeral or its name."""
    def edit(ws):
        header = next(r for r in range(1, 60) if ws.cell(r, 1).value == "實施要項")
        ws.cell(header + 2, 1, written)
    path = builders.workplan(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    assert (report.state, report.problems) == ("accepted", ())


@pytest.mark.parametrize("written", ["二、提升服務品質", "六", "第二項", "十、便捷服務程序"])
def test_workplan_area_that_cannot_be_told_is_one_problem_at_its_cell(tmp_path, plan, registry, written):
    def edit(ws):
        header = next(r for r in range(1, 60) if ws.cell(r, 1).value == "實施要項")
        ws.cell(header + 2, 1, written)
        ws.cell(header + 2, 3).value = None          # also lacks its method: still one problem for the row
    path = builders.workplan(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    header = next(r for r, row in enumerate(load_workbook(path)["工作計畫"].iter_rows(values_only=True), 1) if row[0] == "實施要項")
    assert [(p.code, p.cell, p.value) for p in report.errors] == [   # in sheet order
        ("area-uncovered", f"A{header}", None), ("area-invalid", f"A{header + 2}", written)]
    assert plan.areas[1].label in report.errors[0].message


def test_not_a_form(tmp_path, plan, registry):
    from openpyxl import Workbook
    path = tmp_path / "隨便.xlsx"
    wb = Workbook()
    wb.active["A1"] = "hello"
    wb.save(path)
    [report] = run(plan, registry, path)
    assert codes(report) == {("form-unknown", None)} and report.state == "rejected"


# -- dates as units' spreadsheets store them -------------------------------------------------
# Each due step's 完成日期, typed in one of the ways clerks type it; the clean fill writes the same date as 102/5/1.
TYPED = ["102/5/1", "102.6.20", "102年6月15日", "１０２／６／１", "102/06/03"]
REPORT_TYPED = "102/6/28"


def _canonical(typed: str) -> str:
    from qos_xl.core.values import parse_date
    day = parse_date(typed).value
    return f"{day.year - 1911}/{day.month}/{day.day}"


def _fill_dates(values: dict[str, object], report: object, number_format: str | None = None):
    """An edit: every due step's 完成日期 from ``values`` (by typed text), the 填報日期 ``report``."""
    def edit(ws):
        rows = [r for r in range(FIRST_ROW, FIRST_ROW + 50) if ws.cell(r, 6).value == "已完成"]
        for i, r in enumerate(rows):
            cell = ws.cell(r, 8)
            cell.value = values[TYPED[i % len(TYPED)]]
            if number_format:
                cell.number_format = number_format
        ws[CELL["report_date"]] = report
        if number_format:
            ws[CELL["report_date"]].number_format = number_format
    return edit


def _submission(checked, report) -> tuple:
    """What a merge takes from a file: its state, 填報日期 and each step's status and 完成日期."""
    rows = checked.selfcheck.loc[report.id]
    steps = {(code, status, None if pd.isna(day) else day.date())
             for code, status, day in zip(rows["code"], rows["status"], rows["done_date"])}
    return report.state, report.report_date, report.unit_code, report.period, frozenset(steps)


def _checked(plan, registry, path):
    checked = validate_paths([path], plan, registry, jobs=1)
    [report] = checked.files
    return checked, report


@pytest.fixture(scope="module")
def clean_fill(tmp_path_factory, plan, registry):
    folder = tmp_path_factory.mktemp("clean")
    path = builders.selfcheck(folder, plan, registry,
                              edit=_fill_dates({t: _canonical(t) for t in TYPED}, _canonical(REPORT_TYPED)))
    checked, report = _checked(plan, registry, path)
    assert report.problems == ()
    return _submission(checked, report)


def test_typing_into_the_template_in_libreoffice_gives_the_clean_fill(tmp_path, plan, registry, clean_fill):
    """The date cells are text (@): what is typed is stored as text, also after LibreOffice saves .xlsx and .ods."""
    path = builders.selfcheck(tmp_path, plan, registry, edit=_fill_dates({t: t for t in TYPED}, REPORT_TYPED))
    checked, report = _checked(plan, registry, path)
    assert report.problems == () and _submission(checked, report) == clean_fill
    for fmt in ("xlsx:Calc MS Excel 2007 XML", "ods"):
        saved = convert(path, fmt, tmp_path / fmt.split(":")[0])
        checked, report = _checked(plan, registry, saved)
        assert report.problems == (), (saved.name, report.problems)
        assert _submission(checked, report) == clean_fill


def test_old_template_date_cells_typed_in_libreoffice_read_as_typed(tmp_path, plan, registry, clean_fill):
    """A template with date-formatted cells: LibreOffice (zh-TW) stores 102/6/28 as the year 102 AD.

    The serials are LibreOffice's own (a zh-TW typing of each text); the .ods is LibreOffice's
    save of that workbook (office:date-value="0102-…").  Both give the clean fill, with one
    warning for 填報日期 and one for all the 完成日期 cells, quoting what was typed.
    """
    stored = builders.libreoffice_typed([*TYPED, REPORT_TYPED], tmp_path / "typed")
    assert stored["１０２／６／１"] == ("１０２／６／１", None)     # full-width digits stay text
    serial = {t: s for t, (s, _) in stored.items()}
    path = builders.selfcheck(tmp_path / "old", plan, registry,
                              edit=_fill_dates(serial, serial[REPORT_TYPED], number_format="yyyy/m/d"))
    ods = convert(path, "ods", tmp_path / "ods")
    with zipfile.ZipFile(ods) as z:
        assert f'office:date-value="{stored[REPORT_TYPED][1]}"' in z.read("content.xml").decode()
    resaved = convert(path, "xlsx:Calc MS Excel 2007 XML", tmp_path / "xlsx")
    first = next(r for r in range(FIRST_ROW, FIRST_ROW + 50) if plan.steps[r - FIRST_ROW].due_at(6))
    due = sum(s.due_at(6) for s in plan.steps)
    for produced in (path, ods, resaved):
        checked, report = _checked(plan, registry, produced)
        assert _submission(checked, report) == clean_fill, produced.name
        assert [(p.code, p.cell, p.value) for p in report.problems] == [
            ("date-read-as-roc", CELL["report_date"], REPORT_TYPED), ("date-read-as-roc", f"H{first}", TYPED[0])]
        report_note, done_note = (p.message for p in report.problems)
        assert "「填報日期」輸入的「102/6/28」被試算表當成西元 102 年的日期存檔，已依民國年讀為 102/06/28" in report_note
        assert f"項次 {plan.steps[first - FIRST_ROW].code} 的「完成日期」輸入的「102/5/1」" in done_note
        as_dates = sum(not isinstance(serial[TYPED[i % len(TYPED)]], str) for i in range(due))
        assert f"另有 {as_dates - 1} 格" in done_note


@pytest.mark.parametrize(("typed", "detail"), [
    ("102/2/30", "日期不存在（2 月沒有 30 日）"),
    ("1020230", "日期不存在（2 月沒有 30 日）"),
    ("13/6/1", "年份「13」只有兩位數，無法判斷是民國 13 年還是西元 2013 年"),
    ("2013-06-31", "日期不存在（6 月沒有 31 日）"),
])
def test_bad_dates_named_precisely(tmp_path, plan, registry, typed, detail):
    row = step_row(plan, "2-1-1")
    path = builders.selfcheck(tmp_path, plan, registry, edit=_set(f"H{row}", typed))
    [report] = run(plan, registry, path)
    [problem] = report.problems
    assert (problem.code, problem.cell, problem.value, problem.step) == ("date-invalid", f"H{row}", typed, "2-1-1")
    assert problem.message.startswith(f"項次 2-1-1 的「完成日期」「{typed}」不是有效的日期（{detail}")


def test_dates_are_quoted_as_the_cell_shows_them(tmp_path, plan, registry):
    """A real date cell is quoted in ROC (102/07/01), a date of the year 102 AD as typed: never a serial or ISO text."""
    late, early = step_row(plan, "2-2-1"), step_row(plan, "2-1-1")

    def edit(ws):
        ws[f"H{late}"] = dt.datetime(2013, 7, 1)
        ws[f"H{late}"].number_format = "yyyy/m/d"
        ws[f"H{early}"] = -656525 + 40        # 102/8/9 typed into a LibreOffice date cell: after the report date
        ws[f"H{early}"].number_format = "yyyy/m/d"
        ws[f"L{late}"] = dt.datetime(2013, 6, 27)   # a note beside the table
    path = builders.selfcheck(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    [stray] = [p for p in report.problems if p.code == "cell-outside-table"]
    assert stray.value == "102/06/27" and "（102/06/27）" in stray.message
    after = {p.cell: p for p in report.problems if p.code == "done-date-after-report"}
    assert after[f"H{late}"].value == "102/07/01" and "完成日期 102/07/01 晚於填報日期 102/06/28" in after[f"H{late}"].message
    assert after[f"H{early}"].value == "102/8/9" and "完成日期 102/08/09" in after[f"H{early}"].message
    text = " ".join(f"{p.value} {p.message}" for p in report.problems)
    assert "2013" not in text and "-656" not in text


def test_not_due_step_with_a_bad_value_may_be_cleared(tmp_path, plan, registry):
    row = step_row(plan, "1-2-3")          # due only in December
    path = builders.selfcheck(tmp_path, plan, registry, edit=_set(f"F{row}", "做完了"))
    [report] = run(plan, registry, path)
    [problem] = report.errors
    assert problem.code == "status-not-allowed" and "項次 1-2-3" in problem.message
    assert "本期尚未到查核期限" in problem.message and "清除" in problem.message
    due = step_row(plan, "1-2-1")
    path = builders.selfcheck(tmp_path / "due", plan, registry, edit=_set(f"F{due}", "做完了"))
    [report] = run(plan, registry, path)
    assert "清除" not in report.errors[0].message


def test_every_row_level_message_names_its_step(tmp_path, plan, registry):
    cases = broken_cases(plan)
    rows = {step.code: step_row(plan, step.code) for step in plan.steps}
    edits = {}
    for case in ("status-not-allowed", "narrative-missing-done", "done-date-missing", "date-invalid",
                 "done-date-after-report", "reason-missing"):
        edits.update(cases[case][0])
    edits[f"F{rows['3-1-1']}"] = "完成"                          # synonym (warning)
    edits[f"H{rows['3-2-1']}"] = "101/12/1"                      # before the plan year (warning)

    def edit(ws):
        for cell, value in edits.items():
            ws[cell] = value
    path = builders.selfcheck(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    row_level = [p for p in report.problems if p.cell and p.cell[0] in "FGH"]
    assert len(row_level) == 7   # done-date-missing and date-invalid share 2-1-1: the later edit stays
    for p in row_level:
        code = next(c for c, r in rows.items() if p.cell[1:] == str(r))
        assert p.step == code and f"項次 {code}" in p.message, p


def test_a_reading_problem_in_a_step_row_names_the_step(tmp_path, plan, registry):
    row = step_row(plan, "2-1-1")

    def edit(ws):
        cell = ws.cell(row, 7)
        cell.value, cell.data_type = "#N/A", "e"        # an error value, as a broken formula leaves it
    path = builders.selfcheck(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    [problem] = report.errors
    assert (problem.code, problem.cell, problem.step) == ("cell-error-value", f"G{row}", "2-1-1")
    assert problem.message.startswith("項次 2-1-1：儲存格的內容是錯誤值 #N/A")


def test_a_report_date_out_of_its_period_is_named_with_the_dates_it_may_bear(tmp_path, plan, registry):
    path = builders.selfcheck(tmp_path, plan, registry, edit=lambda ws: ws.__setitem__(CELL["report_date"], "103/1/5"))
    [report] = run(plan, registry, path)
    [problem] = [p for p in report.errors if p.code == "report-date-out-of-period"]
    assert problem.message == ("「填報日期」103/01/05 不在 102-06 期的填報期間（102/01/01 至 102/12/31）內。"
                               "請確認年份、月份是否誤植；沿用舊檔案時，請改為本次填報的日期。")
    december = builders.selfcheck(tmp_path / "12", plan, registry, period="102-12", report_date="103/1/5")
    [annual] = run(plan, registry, december)          # the annual results, sent in January: as it should be
    assert annual.state == "accepted", annual.problems
    last_year = builders.selfcheck(tmp_path / "101", plan, registry, report_date="101/6/28")   # last year's, not updated
    [old] = run(plan, registry, last_year)
    assert "report-date-out-of-period" in {p.code for p in old.errors}

