"""Reading and validating submissions: messy-but-valid files pass, each broken rule is named at its cell."""

from __future__ import annotations

import datetime as dt
import os
import subprocess

import pytest
from openpyxl import load_workbook

from qos_xl.pipeline.validate import validate_paths

import builders
from builders import step_row
from conftest import need_tool


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
        top, other = ws.cell(8, col), ws.cell(20, col)
        top.value, other.value = other.value, top.value


def _spaced_labels(ws):
    ws["B3"] = " 機關（單位）名稱 "
    ws["B5"] = "填報日期\u3000"
    ws["F7"] = "執行狀態 "
    ws["C3"] = "養工處"
    ws["G3"] = "102年6月"


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
    soffice = need_tool("soffice")
    path = builders.selfcheck(tmp_path / "in", plan, registry)
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    for target in ("xlsx:Calc MS Excel 2007 XML", "ods", "xls:MS Excel 97"):
        subprocess.run([soffice, "--headless", "--convert-to", target, "--outdir", str(tmp_path / "lo"), str(path)],
                       check=True, capture_output=True, env=env, timeout=180)
    for produced in sorted((tmp_path / "lo").iterdir()):
        [report] = run(plan, registry, produced)
        assert report.state == "accepted", (produced.name, report.problems)
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
        "step-unknown": ({f"A{r('5-4-2')}": "9-9-9"}, {("step-unknown", f"A{r('5-4-2')}"), ("step-missing", None)}),
        "step-duplicate": ({f"A{r('5-4-2')}": "5-4-1"}, {("step-duplicate", f"A{r('5-4-2')}"), ("step-missing", None)}),
        "unit-missing": ({"C3": None}, {("unit-missing", "C3")}),
        "unit-unknown": ({"C3": "路燈管理處"}, {("unit-unknown", "C3")}),
        "period-missing": ({"G3": None}, {("period-missing", "G3")}),
        "period-invalid": ({"G3": "下學期"}, {("period-invalid", "G3")}),
        "plan-year-mismatch": ({"G3": "101-06"}, {("plan-year-mismatch", "G3")}),
        "report-date-missing": ({"C5": None}, {("report-date-missing", "C5")}),
        "report-date-invalid": ({"C5": "102/13/1"}, {("report-date-invalid", "C5")}),
    }


@pytest.mark.parametrize("case", [
    "status-not-allowed", "status-missing", "narrative-missing-done", "narrative-missing-doing", "done-date-missing",
    "date-invalid", "date-ambiguous", "done-date-after-report", "reason-missing", "step-unknown", "step-duplicate",
    "unit-missing", "unit-unknown", "period-missing", "period-invalid", "plan-year-mismatch", "report-date-missing",
    "report-date-invalid"])
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
        ws["C4"] = None
    path = builders.selfcheck(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    assert report.state == "accepted"
    assert codes(report) == {("done-date-before-plan-year", f"H{before}"), ("status-not-due", f"F{not_due}"),
                             ("filler-missing", "C4")}
    assert all(p.severity == "warning" for p in report.problems)


def test_every_problem_of_a_file_at_once(tmp_path, plan, registry):
    rows = [step_row(plan, c) for c in ("1-2-1", "1-2-2", "1-2-4")]

    def edit(ws):
        for row in rows:
            ws[f"F{row}"] = "做完了"
        ws["C5"] = None
    path = builders.selfcheck(tmp_path, plan, registry, edit=edit)
    [report] = run(plan, registry, path)
    assert codes(report, "error") == {("status-not-allowed", f"F{r}") for r in rows} | {("report-date-missing", "C5")}
    assert [p for p in report.problems if p.code == "status-not-allowed"][0].value == "做完了"


def test_deleted_row_is_a_missing_step(tmp_path, plan, registry):
    path = builders.selfcheck(tmp_path, plan, registry, edit=lambda ws: ws.delete_rows(step_row(plan, "3-3-1")))
    [report] = run(plan, registry, path)
    assert codes(report, "error") == {("step-missing", None)}
    assert report.errors[0].value == "3-3-1"


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
    assert codes(report, "error") == {
        ("area-invalid", f"A{header + 1}"), ("work-item-incomplete", f"C{header + 2}"), ("area-missing", f"A{header + 3}"),
        ("area-uncovered", None)}
    assert {p.value for p in report.errors if p.code == "area-uncovered"} == {
        plan.areas[0].label, plan.areas[1].label, plan.areas[2].label}


def test_not_a_form(tmp_path, plan, registry):
    from openpyxl import Workbook
    path = tmp_path / "隨便.xlsx"
    wb = Workbook()
    wb.active["A1"] = "hello"
    wb.save(path)
    [report] = run(plan, registry, path)
    assert codes(report) == {("form-unknown", None)} and report.state == "rejected"
