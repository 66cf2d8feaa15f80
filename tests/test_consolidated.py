"""The consolidated workbook as a manager sees it: opened with openpyxl and with LibreOffice."""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
import zipfile
from dataclasses import replace
from xml.etree import ElementTree

import openpyxl
import pandas as pd
import pytest

import builders
import office
from builders import step_row
from qos_xl.output import consolidated
from qos_xl.core import text as textnorm
from qos_xl.output import xlsxout
from qos_xl.core.problems import make_problem
from qos_xl.core.report import FileReport, Provenance
from qos_xl.pipeline.merge import MergeResult, merge, output_name
from qos_xl.pipeline.rates import Rate, completion
from qos_xl.core.values import Period

SHEETS = ["摘要", "各單位完成率", "檢核明細", "工作計畫彙整", "工作計畫涵蓋", "未繳交", "未完成項目", "收件紀錄", "檢核問題"]
DETAIL_HEADER = ["單位", "項次", "實施要項", "執行重點", "執行步驟", "查核期限", "本期應辦", "執行狀態", "辦理情形",
                 "完成日期", "佐證資料", "備註", "來源檔案"]
HOSTILE = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1", "-1", "=1+1", "http://evil.example/x",
           "<r><t>x</t></r></si><si><t>injected</t></r>"]   # xlsxwriter's raw rich-text convention
LONG = "長" * 40_000
SELFCHECK_UNITS = {"MNT": "養工處_自行檢核表_1020628(修正版).xlsx", "NCE": "新工處_自行檢核表.xlsx", "SEC": "秘書室_自行檢核表.xlsx"}
WORKPLAN_UNITS = {"MNT": "養工處_工作計畫.xlsx", "NCE": "新工處_工作計畫.xlsx"}


# ---------------------------------------------------------------------------------------
# A merge result built by hand, with the columns merge.py produces


def _status(unit: str, area: int, i: int) -> str:
    """A mix of statuses; every due step of area 5 is 不適用 for every unit (bureau rate —)."""
    if area == 5:
        return "不適用"
    if unit == "SEC":
        return "已完成"
    return {0: "辦理中", 3: "未辦理"}.get(i % 6, "已完成")


def _selfcheck(plan, registry, period: Period, files: list[FileReport]) -> pd.DataFrame:
    records = []
    for report in files:
        fid = report.id
        if report.state != "accepted" or report.form != "selfcheck":
            continue
        for i, step in enumerate(plan.steps):
            due = step.due_at(period.month)
            status = _status(report.unit_code, step.area, i) if due else None
            narrative = "已依計畫辦理。" if status in ("已完成", "辦理中") else ("本單位無此業務。" if status == "不適用" else "")
            evidence = remarks = ""
            if report.unit_code == "MNT" and i < len(HOSTILE):
                narrative, evidence, remarks = HOSTILE[i], HOSTILE[-1 - i], HOSTILE[(i + 2) % len(HOSTILE)]
            if report.unit_code == "MNT" and i == 10:
                narrative = LONG
            records.append({
                "fid": fid, "row": 8 + i, "code": step.code, "status": status, "narrative": narrative,
                "done_date": pd.Timestamp(2013, 5, 1) if status == "已完成" else pd.NaT,
                "evidence": evidence, "remarks": remarks, "due": due, "present": True,
                "unit_code": report.unit_code, "unit": report.unit, "file": report.file,
            })
    frame = pd.DataFrame.from_records(records).set_index(["fid", "row"])
    frame["done_date"] = pd.to_datetime(frame["done_date"])
    return frame


def _workplan(plan, files: list[FileReport]) -> pd.DataFrame:
    records = []
    for report in files:
        fid = report.id
        if report.state != "accepted" or report.form != "workplan":
            continue
        row = 12
        for area in plan.areas:
            for n in range(2 if area.number == 1 else 1):
                records.append({"fid": fid, "row": row, "area_raw": area.label, "area": area.number,
                                "focus": f"{area.title}工作重點{n + 1}", "method": "依本處業務特性辦理。\n每季檢討一次。",
                                "remarks": "+1" if n else "", "present": True, "unit_code": report.unit_code,
                                "unit": report.unit, "file": report.file})
                row += 1
    frame = pd.DataFrame.from_records(records).set_index(["fid", "row"])
    frame["area"] = frame["area"].astype("Int64")
    return frame


def _files(registry) -> list[FileReport]:
    def unit(code):
        return registry.by_code(code)

    files = []
    for code, name in SELFCHECK_UNITS.items():
        report = FileReport(len(files), name, sha256=f"{len(files):064x}", size=1000, state="accepted",
                            unit=unit(code).name, unit_code=code, form="selfcheck", period="102-06",
                            report_date=dt.date(2013, 6, 28))
        if code == "MNT":
            report = replace(report.with_problems(make_problem("status-synonym", file=name, sheet="自行檢核表", cell="F12", step="1-2-3",
                                                               value="完成", status="已完成")),
                             provenance=Provenance(sender="mnt@pwb.kcg.gov.tw", received=dt.datetime(2013, 6, 28, 14, 5)))
        files.append(report)
    for code, name in WORKPLAN_UNITS.items():
        files.append(FileReport(len(files), name, sha256=f"{len(files):064x}", size=900, state="accepted",
                                unit=unit(code).name, unit_code=code, form="workplan", period="102", report_date=None))
    old = FileReport(len(files), "養工處_自行檢核表.xlsx", sha256="a" * 64, size=1000, state="superseded", unit="養護工程處",
                     unit_code="MNT", form="selfcheck", period="102-06", report_date=dt.date(2013, 6, 20),
                     superseded_by=SELFCHECK_UNITS["MNT"])
    dup = FileReport(len(files) + 1, "新工處_自行檢核表 - 複製.xlsx", sha256=files[1].sha256, size=1000, state="duplicate",
                     duplicate_of=SELFCHECK_UNITS["NCE"])
    bad = FileReport(len(files) + 2, "=HYPERLINK(\"http://x\",\"y\").xlsx", sha256="b" * 64, size=800, state="rejected",
                     unit="建築處(舊)", form="selfcheck", period="102-06", report_date=dt.date(2013, 6, 27),
                     provenance=Provenance(sender="someone@example.com", received=dt.datetime(2013, 6, 27, 9, 30)))
    bad = bad.with_problems(
        make_problem("unit-unknown", file=bad.file, sheet="自行檢核表", cell="C3", value="@SUM(A1)", example="養護工程處"),
        make_problem("status-not-allowed", file=bad.file, sheet="自行檢核表", cell="F12", step="1-2-3", value='=HYPERLINK("http://x","y")'),
        make_problem("narrative-missing", file=bad.file, sheet="=cmd|' /C calc'!A0", cell="G13", step="1-1-2", status="辦理中"),
    )
    clutter = FileReport(len(files) + 3, "~$養工處_自行檢核表.xlsx", sha256="c" * 64, size=165, state="ignored")
    return [*files, old, dup, bad, clutter]


def build_result(plan, registry, *, notes=("未指定期別，依收件匣內容採用 102-06。",)) -> MergeResult:
    period = Period(102, 6)
    files = _files(registry)
    selfcheck = _selfcheck(plan, registry, period, files)
    workplan = _workplan(plan, files)
    unit_rates = completion(selfcheck, plan)
    area_rates = {a.number: sum((r[a.number] for r in unit_rates.values()), Rate(0, 0)) for a in plan.areas}
    accepted = {(f.unit_code, f.form) for f in files if f.state == "accepted"}
    missing = {form: [u for u in registry.units if (u.code, form) not in accepted] for form in ("selfcheck", "workplan")}
    returned = {"selfcheck": [], "workplan": []}
    return MergeResult(plan, registry, period, dt.datetime(2013, 7, 1, 9, 5), files, selfcheck, workplan, area_rates,
                       unit_rates, missing, returned, notes=list(notes))


@pytest.fixture(scope="module")
def result(plan, registry):
    return build_result(plan, registry)


@pytest.fixture(scope="module")
def written(tmp_path_factory, result):
    out = tmp_path_factory.mktemp("out")
    return consolidated.write_consolidated(result, consolidated.output_path(result, out))


@pytest.fixture(scope="module")
def book(written):
    return openpyxl.load_workbook(written)


def rows(ws) -> list[list]:
    return [list(r) for r in ws.iter_rows(values_only=True)]


def find_row(ws, first: str) -> int:
    """1-based row whose column A holds ``first``."""
    return next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == first)


# ---------------------------------------------------------------------------------------


def test_output_path_uses_merge_name(result, tmp_path):
    assert consolidated.output_path(result, tmp_path) == tmp_path / output_name(result.plan, result.period)
    assert consolidated.output_path(result, tmp_path).name == "102年度提升服務品質彙整_102-06.xlsx"


def test_sheets_in_order(book, written):
    assert written.is_file()
    assert book.sheetnames == SHEETS


def test_summary_heading_and_submission(book, result, plan):
    ws = book["摘要"]
    assert ws["A1"].value == f"{plan.full_title} 執行成果彙整"
    values = {r[0]: r[1:] for r in rows(ws) if r[0]}
    assert "102-06" in values["填報期別"][0] and "期中自行檢核" in values["填報期別"][0]
    assert values["製表時間"][0] == "102/07/01 09:05"
    submission = result.to_dict()["submission"]
    assert values["應繳交單位數"][0] == submission["expected"] == 10
    assert values["已繳交單位數（本期自行檢核表）"][0] == submission["submitted"]
    assert values["已接受單位數"][0] == submission["accepted"] == 3
    assert values["繳交率（已接受／應繳交）"][0] == pytest.approx(0.3)
    assert values["繳交率（已接受／應繳交）"][1] == "(3/10)"
    assert "下水道工程處" in values["未繳交自行檢核表"][0]
    assert result.notes[0] in [r[0] for r in rows(ws) if r[0]][-1]


def test_summary_area_table_equals_rates(book, result, plan):
    ws = book["摘要"]
    head = find_row(ws, "實施要項")
    assert [c.value for c in ws[head]][:5] == ["實施要項", "已完成", "應辦理（扣除不適用）", "完成率", "完成率（件數）"]
    for i, area in enumerate(plan.areas, start=1):
        rate = result.area_rates[area.number]
        a, done, applicable, number, label = (ws.cell(head + i, c) for c in range(1, 6))
        assert a.value == area.label
        assert (done.value, applicable.value) == (rate.completed, rate.applicable)
        assert label.value == rate.label
        assert number.number_format == "0.0%"
        if rate.applicable:
            assert number.data_type == "n" and number.value == pytest.approx(rate.completed / rate.applicable)
            assert round(number.value, 4) == rate.rate
            assert re.fullmatch(r"\d{1,3}\.\d% \(\d+/\d+\)", label.value)
        else:
            assert number.value is None and label.value == "—"
    assert result.area_rates[5] == Rate(0, 0)  # every due step of area 5 is 不適用: shown as —
    total = [c.value for c in ws[head + len(plan.areas) + 1]][:5]
    assert total[0] == "全局合計"
    assert total[1:3] == [result.overall.completed, result.overall.applicable]
    assert total[4] == result.overall.label


def test_charts_exist(book, written):
    assert len(book["摘要"]._charts) == 1
    assert len(book["各單位完成率"]._charts) == 1
    with zipfile.ZipFile(written) as z:
        names = z.namelist()
        assert "xl/charts/chart1.xml" in names and "xl/charts/chart2.xml" in names
        chart = z.read("xl/charts/chart1.xml").decode()
    assert "<c:barChart>" in chart and "摘要" in chart and "<c:max val=\"1\"/>" in chart and "<c:dLbls>" in chart


def test_unit_matrix(book, result, registry):
    ws = book["各單位完成率"]
    assert ws["A1"].value == "單位" and ws["B1"].value == result.plan.areas[0].label
    assert ws.freeze_panes == "B3"
    table = {r[0]: r for r in rows(ws)[2:] if r[0]}
    for unit in result.accepted_units:
        row = table[unit.name]
        for i, area in enumerate(result.plan.areas):
            rate = result.unit_rates[unit.code][area.number]
            assert row[2 + 2 * i] == rate.label
            assert row[1 + 2 * i] == (pytest.approx(rate.completed / rate.applicable) if rate.applicable else None)
        assert row[-1] == result.unit_overall(unit.code).label
    assert table["全局合計"][-1] == result.overall.label
    for unit in result.missing["selfcheck"]:
        assert table[unit.name][1] == "未繳交"
        assert all(v in (None, "未繳交") for v in table[unit.name][1:])
    scales = [rule for cf in ws.conditional_formatting for rule in cf.rules if rule.type == "colorScale"]
    assert len(scales) == 1 and len(scales[0].colorScale.color) == 3


def test_detail_sheet(book, result, plan):
    ws = book["檢核明細"]
    assert [c.value for c in ws[1]] == DETAIL_HEADER
    assert ws.freeze_panes == "C2"
    assert ws.auto_filter.ref == f"A1:M{len(result.selfcheck) + 1}"
    data = rows(ws)[1:]
    assert len(data) == len(result.selfcheck)
    first = data[0]
    step = plan.steps[0]
    assert first[:7] == ["秘書室", step.code, plan.areas[0].label, step.focus_label, step.text, step.deadline, "是"]
    assert first[12] == SELFCHECK_UNITS["SEC"]
    done = next(r for r in data if r[7] == "已完成")
    assert done[9] == "102/05/01"
    not_due = next(r for r in data if r[6] == "否")
    assert not_due[7] is None and not_due[9] is None
    narratives = [r[8] for r in data]
    for text in HOSTILE:
        assert xlsxout.safe_text(text) in narratives
    assert ws.cell(2, 9).alignment.wrap_text
    long = next(n for n in narratives if n and n.startswith("長長"))
    assert len(long) == textnorm.MAX_CELL_CHARS and long.endswith(textnorm.TRUNCATED_MARK)


def test_workplan_sheets(book, result, registry, plan):
    ws = book["工作計畫彙整"]
    assert [c.value for c in ws[1]] == ["單位", "實施要項", "工作重點", "工作(推動)方法", "備註", "來源檔案"]
    data = rows(ws)[1:]
    assert len(data) == len(result.workplan)
    assert data[0][:3] == ["新建工程處", plan.areas[0].label, f"{plan.areas[0].title}工作重點1"]  # registry order
    assert ws.auto_filter.ref == f"A1:F{len(data) + 1}"
    cover = book["工作計畫涵蓋"]
    assert [c.value for c in cover[1]] == ["單位", *(a.label for a in plan.areas), "合計"]
    table = {r[0]: r for r in rows(cover)[1:] if r[0]}
    assert table["養護工程處"][1:] == [2, 1, 1, 1, 1, 6]
    for unit in result.missing["workplan"]:
        assert table[unit.name][1] == "未繳交"


def test_coverage_gap_highlighted(tmp_path, plan, registry):
    result = build_result(plan, registry)
    result.workplan = result.workplan[~((result.workplan["unit_code"] == "NCE") & (result.workplan["area"] == 3))]
    ws = openpyxl.load_workbook(consolidated.write_consolidated(result, tmp_path / "gap.xlsx"))["工作計畫涵蓋"]
    row = find_row(ws, "新建工程處")
    gap = ws.cell(row, 4)
    assert gap.value is None and gap.fill.fgColor.rgb.endswith("FFC7CE")
    assert ws.cell(row, 3).value == 1 and not ws.cell(row, 3).fill.fgColor.rgb.endswith("FFC7CE")


def test_missing_sheet(book, result):
    ws = book["未繳交"]
    assert [c.value for c in ws[1]] == ["表單", "代碼", "機關全銜", "類別", "電子郵件"]
    data = rows(ws)[1:]
    for form, label in (("selfcheck", "自行檢核表"), ("workplan", "工作計畫")):
        listed = [r for r in data if r[0].startswith(label)]
        assert [r[1] for r in listed] == [u.code for u in result.missing[form]]
        for row, unit in zip(listed, result.missing[form]):
            assert row[2:4] == [unit.name, unit.kind]
            assert all(e in row[4] for e in unit.emails)


def test_unfinished_sheet(book, result):
    ws = book["未完成項目"]
    assert [c.value for c in ws[1]] == ["單位", "項次", "執行步驟", "執行狀態", "辦理情形"]
    data = rows(ws)[1:]
    assert len(data) == len(result.unfinished) > 0
    assert {r[3] for r in data} == {"辦理中", "未辦理"}
    order = [u.name for u in result.registry.units]
    units = [r[0] for r in data]
    assert units == sorted(units, key=order.index) and set(units) == {"新建工程處", "養護工程處"}  # grouped by unit
    codes = [r[1] for r in data if r[0] == "養護工程處"]
    steps = [s.code for s in result.plan.steps]
    assert codes == sorted(codes, key=steps.index)


def test_intake_log(book, result):
    ws = book["收件紀錄"]
    header = [c.value for c in ws[1]]
    assert header == ["檔案", "SHA-256", "單位", "表單", "期別", "填報日期", "狀態", "錯誤數", "警告數", "說明", "寄件者", "收件日期"]
    data = rows(ws)[1:]
    assert [r[0] for r in data] == [f.file for f in result.files]
    assert [r[1] for r in data] == [f.sha256 for f in result.files]
    by_file = {r[0]: r for r in data}
    mnt = by_file[SELFCHECK_UNITS["MNT"]]
    assert mnt[2:9] == ["養護工程處", "自行檢核表", "102-06", "102/06/28", "接受", 0, 1]
    assert mnt[10:] == ["mnt@pwb.kcg.gov.tw", "102/06/28 14:05"]
    assert by_file["養工處_自行檢核表.xlsx"][6] == "已被取代" and SELFCHECK_UNITS["MNT"] in by_file["養工處_自行檢核表.xlsx"][9]
    assert by_file["新工處_自行檢核表 - 複製.xlsx"][6] == "重複"
    bad = by_file['=HYPERLINK("http://x","y").xlsx']
    assert bad[6:9] == ["退回", 3, 0] and "C3" in bad[9] and bad[11] == "102/06/27 09:30"
    assert by_file["~$養工處_自行檢核表.xlsx"][6] == "略過"
    assert {r[6] for r in data} == {"接受", "已被取代", "重複", "退回", "略過"}


def test_intake_log_without_mail_columns(tmp_path, plan, registry):
    result = build_result(plan, registry)
    result.files = [replace(report, provenance=None) for report in result.files]
    ws = openpyxl.load_workbook(consolidated.write_consolidated(result, tmp_path / "x.xlsx"))["收件紀錄"]
    assert ws.max_column == 10


def test_problem_sheet(book, result):
    ws = book["檢核問題"]
    assert [c.value for c in ws[1]] == ["檔案", "狀態", "嚴重度", "工作表", "儲存格", "代碼", "說明", "填寫內容"]
    data = rows(ws)[1:]
    expected = [(f.file, p) for f in result.files for p in f.problems]
    assert len(data) == len(expected) == 4
    for row, (file, p) in zip(data, expected):
        assert row[0] == file and row[3] == p.sheet and row[4] == p.cell and row[5] == p.code
        assert row[6] == p.message and row[7] == p.value
        assert row[2] == {"error": "錯誤", "warning": "警告"}[p.severity]


def test_every_sheet_prints_on_a4_landscape(book):
    for ws in book.worksheets:
        assert int(ws.page_setup.paperSize) == 9, ws.title
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        # fitToWidth is left out when it is 1, the OOXML default
        assert int(ws.page_setup.fitToWidth or 1) == 1 and int(ws.page_setup.fitToHeight) == 0, ws.title
        assert ws.print_title_rows, ws.title
        assert "&P" in ws.oddFooter.center.text, ws.title
        assert ws.freeze_panes, ws.title
        header = ws[1][0]
        assert header.font.b, ws.title
        if ws.title != "摘要":
            assert header.fill.fgColor.rgb.endswith("D9E1F2"), ws.title
        assert ws.column_dimensions["A"].width >= 10, ws.title


def test_no_formulas_links_or_external_relationships(book, written):
    strings = []
    for ws in book.worksheets:
        assert not ws._hyperlinks, ws.title
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate}"
                if isinstance(cell.value, str):
                    strings.append((cell.value, cell.data_type))
    for text in HOSTILE:
        shown = xlsxout.safe_text(text)      # markup typed as text gets a trailing space, nothing else
        assert shown.rstrip() == text
        found = [t for v, t in strings if v == shown]
        assert found and set(found) == {"s"}, text
    with zipfile.ZipFile(written) as z:
        for name in z.namelist():
            if name.endswith(".rels"):
                for rel in ElementTree.fromstring(z.read(name)):
                    assert not rel.get("Target", "").lower().startswith("http"), (name, rel.attrib)
                    assert rel.get("TargetMode") != "External", (name, rel.attrib)
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in z.read(name), name


def test_empty_merge_still_writes(tmp_path, plan, registry):
    empty = MergeResult(plan, registry, Period(102, 12), dt.datetime(2013, 12, 31, 17, 0), [], pd.DataFrame(),
                        pd.DataFrame(), {a.number: Rate(0, 0) for a in plan.areas}, {},
                        {"selfcheck": list(registry.units), "workplan": list(registry.units)},
                        {"selfcheck": [], "workplan": []})
    wb = openpyxl.load_workbook(consolidated.write_consolidated(empty, tmp_path / "empty.xlsx"))
    assert wb.sheetnames == SHEETS
    summary = {r[0]: r[1:] for r in rows(wb["摘要"]) if r[0]}
    assert "年度執行成果" in summary["填報期別"][0]
    head = find_row(wb["摘要"], "實施要項")
    assert [wb["摘要"].cell(head + 1, c).value for c in (4, 5)] == [None, "—"]
    assert len(rows(wb["各單位完成率"])) > 2 and wb["各單位完成率"]._charts == []


def test_interrupted_write_keeps_previous_file(tmp_path, result, monkeypatch):
    target = tmp_path / "out" / "consolidated.xlsx"
    target.parent.mkdir()
    target.write_bytes(b"previous workbook")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    real, calls = xlsxout.safe_text, []

    def failing(value):
        calls.append(1)
        if len(calls) == 400:
            raise xlsxout.WriteError("disk full")
        return real(value)

    monkeypatch.setattr(xlsxout, "safe_text", failing)
    with pytest.raises(xlsxout.WriteError):
        consolidated.write_consolidated(result, target)
    assert len(calls) == 400
    assert target.read_bytes() == b"previous workbook"
    assert sorted(p.name for p in target.parent.iterdir()) == ["consolidated.xlsx"]
    assert list(scratch.iterdir()) == []


def test_libreoffice_shows_the_same_rates(written, result, plan, tmp_path):
    csv_file = office.convert(written, office.CSV_UTF8, tmp_path)
    with open(csv_file, encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    by_label = {r[0]: r for r in table if r}
    for area in plan.areas:
        rate = result.area_rates[area.number]
        row = by_label[area.label]
        assert row[1:3] == [str(rate.completed), str(rate.applicable)]
        assert row[4] == rate.label
        assert row[3] == (rate.label.split(" ")[0] if rate.applicable else "")
    assert by_label["全局合計"][4] == result.overall.label
    assert by_label["全局合計"][3] == result.overall.label.split(" ")[0]


def test_real_inbox_through_merge(tmp_path, plan, registry):
    """Filled templates -> merge.merge -> the workbook shows exactly what the merge computed."""
    inbox = tmp_path / "inbox"

    def mnt_edit(ws):
        ws.cell(step_row(plan, "1-1-1"), 6, "辦理中")
        ws.cell(step_row(plan, "1-1-1"), 8, None)
        narrative = ws.cell(step_row(plan, "1-1-2"), 7)
        narrative.value = '=HYPERLINK("http://x","y")'
        narrative.data_type = "s"  # typed as text by the unit, not a formula
        ws.cell(step_row(plan, "1-2-1"), 6, "不適用")
        ws.cell(step_row(plan, "1-2-1"), 7, "本處無服務場所。")
        ws.cell(step_row(plan, "1-2-1"), 8, None)

    builders.selfcheck(inbox, plan, registry, unit="MNT", edit=mnt_edit)
    builders.selfcheck(inbox, plan, registry, unit="NCE")
    builders.selfcheck(inbox, plan, registry, unit="SEW", name="下水道處_錯誤.xlsx",
                       edit=lambda ws: ws.cell(step_row(plan, "1-1-1"), 6, "做完了"))
    builders.workplan(inbox, plan, registry, unit="MNT")
    result = merge(inbox, plan, registry, Period(102, 6), jobs=1)
    assert result.area_rates[1].completed < result.area_rates[1].applicable
    path = consolidated.write_consolidated(result, consolidated.output_path(result, tmp_path / "out"))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == SHEETS
    ws = wb["摘要"]
    head = find_row(ws, "實施要項")
    for i, area in enumerate(plan.areas, start=1):
        assert ws.cell(head + i, 5).value == result.area_rates[area.number].label
    assert ws.cell(head + len(plan.areas) + 1, 5).value == result.overall.label
    details = rows(wb["檢核明細"])[1:]
    assert len(details) == len(result.selfcheck) == 2 * len(plan.steps)
    cell = next(c for row in wb["檢核明細"].iter_rows() for c in row if c.value == '=HYPERLINK("http://x","y")')
    assert cell.data_type == "s"
    states = {r[0]: r[6] for r in rows(wb["收件紀錄"])[1:]}
    assert states["下水道處_錯誤.xlsx"] == "退回" and sorted(states.values()).count("接受") == 3
    assert len(rows(wb["未完成項目"])) - 1 == len(result.unfinished) == 1
    coverage = {r[0]: r for r in rows(wb["工作計畫涵蓋"])[1:] if r[0]}
    assert coverage["養護工程處"][1:6] == [1, 1, 1, 1, 1]
