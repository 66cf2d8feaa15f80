"""The consolidated workbook as a manager sees it: opened with openpyxl, and printed and read by LibreOffice."""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
import zipfile
from dataclasses import replace
from fractions import Fraction
from types import MappingProxyType
from xml.etree import ElementTree

import openpyxl
import pandas as pd
import pytest

import builders
import office
from builders import step_row
from conftest import CONFIG, DEMO_INBOX
from qos_xl.core import text as textnorm
from qos_xl.core.catalogue import load_plan
from qos_xl.core.config import ConfigError
from qos_xl.core.problems import make_problem
from qos_xl.core.registry import load_registry
from qos_xl.core.report import FileReport, Provenance
from qos_xl.core.values import Period
from qos_xl.output import consolidated, xlsxout
from qos_xl.output.consolidated.details import reported
from qos_xl.output.consolidated.sheet import MISSING, RETURNED
from qos_xl.output.consolidated.units import alert_threshold
from qos_xl.pipeline.merge import MergeResult, merge, output_name
from qos_xl.pipeline.rates import Rate, completion

SHEETS = ["摘要", "各單位完成率", "未完成項目", "未繳交", "工作計畫涵蓋", "工作計畫彙整", "檢核明細", "項次對照", "品質提示",
          "收件紀錄", "檢核問題"]
DETAIL_HEADER = ["單位", "項次", "執行狀態", "辦理情形", "完成日期", "佐證資料", "備註"]
HOSTILE = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1", "-1", "=1+1", "http://evil.example/x",
           "<r><t>x</t></r></si><si><t>injected</t></r>"]   # xlsxwriter's raw rich-text convention
LONG = "長" * 40_000
SELFCHECK_UNITS = {"MNT": "養工處_自行檢核表_1020628(修正版).xlsx", "NCE": "新工處_自行檢核表.xlsx", "SEC": "秘書室_自行檢核表.xlsx"}
WORKPLAN_UNITS = {"MNT": "養工處_工作計畫.xlsx", "NCE": "新工處_工作計畫.xlsx"}
NOTE = "未指定期別，依收件匣內容採用 102-06。"


# ---------------------------------------------------------------------------------------
# A merge result built by hand, with the columns merge.py produces


def _status(unit: str, area: int, i: int) -> str:
    """A mix of statuses; every due step of area 5 is 不適用 for every unit (bureau rate —)."""
    if area == 5:
        return "不適用"
    if unit == "SEC":
        return "已完成"
    return {0: "辦理中", 3: "未辦理", 4: "辦理中"}.get(i % 6, "已完成")     # 50 %: below the alert threshold


def _selfcheck(plan, period: Period, files: list[FileReport], status=_status) -> pd.DataFrame:
    records = []
    for report in files:
        if report.state != "accepted" or report.form != "selfcheck":
            continue
        for i, step in enumerate(plan.steps):
            due = step.due_at(period.month)
            value = status(report.unit_code, step.area, i) if due else None
            narrative = "已依計畫辦理。" if value in ("已完成", "辦理中") else ("本單位無此業務。" if value == "不適用" else "")
            evidence = remarks = ""
            if report.unit_code == "MNT" and i < len(HOSTILE):
                narrative, evidence, remarks = HOSTILE[i], HOSTILE[-1 - i], HOSTILE[(i + 2) % len(HOSTILE)]
            if report.unit_code == "MNT" and i == 10:
                narrative = LONG
            records.append({
                "fid": report.id, "row": 8 + i, "code": step.code, "status": value, "narrative": narrative,
                "done_date": pd.Timestamp(2013, 5, 1) if value == "已完成" else pd.NaT,
                "evidence": evidence, "remarks": remarks, "due": due, "present": True,
                "unit_code": report.unit_code, "unit": report.unit, "file": report.file,
            })
    frame = pd.DataFrame.from_records(records).set_index(["fid", "row"])
    frame["done_date"] = pd.to_datetime(frame["done_date"])
    return frame


def _workplan(plan, files: list[FileReport]) -> pd.DataFrame:
    records = []
    for report in files:
        if report.state != "accepted" or report.form != "workplan":
            continue
        row = 12
        for area in plan.areas:
            for n in range(2 if area.number == 1 else 1):
                records.append({"fid": report.id, "row": row, "area_raw": area.label, "area": area.number,
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
    sew = FileReport(len(files) + 3, "下水道處_自行檢核表.xlsx", sha256="d" * 64, size=800, state="rejected",
                     unit="下水道工程處", unit_code="SEW", form="selfcheck", period="102-06", report_date=dt.date(2013, 6, 27))
    sew = sew.with_problems(make_problem("status-not-allowed", file=sew.file, sheet="自行檢核表", cell="F12", step="1-2-3",
                                         value="做完了"))
    clutter = FileReport(len(files) + 4, "~$養工處_自行檢核表.xlsx", sha256="c" * 64, size=165, state="ignored")
    return [*files, old, dup, bad, sew, clutter]


def build_result(plan, registry, *, notes=(NOTE,), status=_status) -> MergeResult:
    period = Period(102, 6)
    files = _files(registry)
    selfcheck = _selfcheck(plan, period, files, status)
    workplan = _workplan(plan, files)
    unit_rates = completion(selfcheck, plan)
    area_rates = {a.number: sum((r[a.number] for r in unit_rates.values()), Rate(0, 0)) for a in plan.areas}
    accepted = {(f.unit_code, f.form) for f in files if f.state == "accepted"}
    sent = {(f.unit_code, f.form) for f in files if f.unit_code}
    forms = ("selfcheck", "workplan")
    missing = {form: [u for u in registry.units if (u.code, form) not in sent] for form in forms}
    returned = {form: [u for u in registry.units if (u.code, form) in sent - accepted] for form in forms}
    return MergeResult(plan, registry, period, dt.datetime(2013, 7, 1, 9, 5), files, selfcheck, workplan, area_rates,
                       unit_rates, missing, returned, notes=list(notes))


def with_settings(plan, **settings):
    return replace(plan, settings=MappingProxyType({**plan.settings, **settings}))


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


def fit(pages) -> int:
    """fitToWidth/fitToHeight as printed: left out of the file when 1, the OOXML default."""
    return 1 if pages is None else int(pages)


def unit_table(ws) -> list[list]:
    """各單位完成率's unit rows (below the two header rows, above 全局合計)."""
    table = []
    for row in rows(ws)[2:]:
        if row[0] == "全局合計" or row[1] is None:
            break
        table.append(row)
    return table


# ---------------------------------------------------------------------------------------
# The sheets, one by one


def test_output_path_uses_merge_name(result, tmp_path):
    assert consolidated.output_path(result, tmp_path) == tmp_path / output_name(result.plan, result.period)
    assert consolidated.output_path(result, tmp_path).name == "102年度提升服務品質彙整_102-06.xlsx"


def test_sheets_in_order(book, written):
    assert written.is_file()
    assert book.sheetnames == SHEETS


def test_summary_key_figures_add_up(book, result, plan, registry):
    ws = book["摘要"]
    assert ws["A1"].value == f"{plan.full_title} 期中自行檢核彙整（102-06）"
    values = {r[0]: r[1:] for r in rows(ws) if r[0]}
    assert values["填報期別"][0] == "102-06（102 年度期中自行檢核）"
    assert values["製表時間"][0] == "102/07/01 09:05"
    due, accepted = values["應繳交自行檢核表單位數"][0], values["已接受（列入完成率）"][0]
    returned, missing = values[RETURNED], values[MISSING]
    assert (due, accepted) == (10, 3)
    assert returned[:2] == [1, "下水道工程處"]                            # sent a file, it was rejected
    assert missing[0] == 6 and "下水道工程處" not in missing[1] and "工程管理科" in missing[1]
    assert accepted + returned[0] + missing[0] == due                     # every unit in exactly one line:
    named = [f.unit for f in result.files if f.state == "accepted" and f.form == "selfcheck"]
    named += returned[1].split("、") + missing[1].split("、")
    assert sorted(named) == sorted(u.name for u in registry.units)       # each named once, none left out
    assert values["合格繳交率（已接受／應繳交）"][:2] == [pytest.approx(0.3), "(3/10)"]
    assert "會計室" in values["工作計畫未繳交"][0]
    assert values["收件檔案"][0].startswith(f"共 {len(result.files)} 個：")
    texts = " ".join(str(v) for r in rows(ws) for v in r if v)
    assert NOTE not in texts                                              # operator notes live in 收件紀錄


def test_summary_area_table_one_rate_column(book, result, plan):
    ws = book["摘要"]
    head = find_row(ws, "實施要項")
    assert [c.value for c in ws[head]][:4] == ["實施要項", "完成率", "已完成", "應辦理（扣除不適用）"]
    for i, area in enumerate(plan.areas, start=1):
        rate = result.area_rates[area.number]
        label, number, done, applicable = (ws.cell(head + i, c) for c in range(1, 5))
        assert label.value == area.label
        assert (done.value, applicable.value) == (rate.completed, rate.applicable)
        assert number.number_format == "0.0%"
        if rate.applicable:
            assert number.data_type == "n" and number.value == pytest.approx(rate.completed / rate.applicable)
        else:
            assert number.value == "—"
    assert result.area_rates[5] == Rate(0, 0)  # every due step of area 5 is 不適用: shown as —
    total = [c.value for c in ws[head + len(plan.areas) + 1]][:4]
    assert total == ["全局合計", pytest.approx(result.overall.completed / result.overall.applicable),
                     result.overall.completed, result.overall.applicable]


def test_summary_prints_on_one_portrait_page_with_its_chart(book):
    ws = book["摘要"]
    assert ws.page_setup.orientation == "portrait"
    assert fit(ws.page_setup.fitToHeight) == 1 and fit(ws.page_setup.fitToWidth) == 1
    chart_row = ws._charts[0].anchor._from.row
    last_printed = int(re.search(r"\$(\d+)$", ws.print_area[0] if isinstance(ws.print_area, list) else ws.print_area)[1])
    assert last_printed > chart_row + 10                                  # the whole chart is in the print area


def test_charts_exist(book, written):
    assert len(book["摘要"]._charts) == 1
    assert len(book["各單位完成率"]._charts) == 1
    # 摘要's chart ends inside column D, the last one printed: its frame is not cut on paper
    assert book["摘要"]._charts[0].anchor.to.col <= 3
    with zipfile.ZipFile(written) as z:
        names = z.namelist()
        assert "xl/charts/chart1.xml" in names and "xl/charts/chart2.xml" in names
        chart = z.read("xl/charts/chart1.xml").decode()
        units = z.read("xl/charts/chart2.xml").decode()
    assert "<c:barChart>" in chart and "摘要" in chart and "<c:max val=\"1\"/>" in chart and "<c:dLbls>" in chart
    # the units' chart draws the ranked table's rows, in its order; the ones below the threshold dark and with ※
    last = 2 + len(unit_table(book["各單位完成率"]))
    assert f"<c:f>各單位完成率!$A$3:$A${last}</c:f>" in units and f"<c:f>各單位完成率!$B$3:$B${last}</c:f>" in units
    assert units.count('val="C00000"') == 2 and units.count("※") == 2


def test_units_ranked_lowest_first_with_open_counts(book, result):
    ws = book["各單位完成率"]
    assert ws.freeze_panes == "B3"
    assert [c.value for c in ws[2]][:5] == ["單位", "完成率", "件數", "未辦理", "辦理中"]
    table = unit_table(ws)
    ranked = sorted(result.accepted_units, key=lambda u: (Fraction(result.unit_overall(u.code).completed,
                                                                   result.unit_overall(u.code).applicable), u.name))
    assert [r[0] for r in table] == [u.name for u in ranked]
    assert [r[0] for r in table][:2] == ["新建工程處", "養護工程處"]        # the same rate: by name
    frame = result.selfcheck
    for row in table:
        code = next(u.code for u in ranked if u.name == row[0])
        overall = result.unit_overall(code)
        assert row[1] == pytest.approx(overall.completed / overall.applicable) and row[2] == f"{overall.completed}/{overall.applicable}"
        mine = frame[(frame["unit_code"] == code) & frame["due"]]
        assert row[3] == (mine["status"] == "未辦理").sum() and row[4] == (mine["status"] == "辦理中").sum()
        for i, area in enumerate(result.plan.areas):
            rate = result.unit_rates[code][area.number]
            number, counts = row[5 + 2 * i], row[6 + 2 * i]
            assert counts == f"{rate.completed}/{rate.applicable}"
            assert number == (pytest.approx(rate.completed / rate.applicable) if rate.applicable else "—")
    assert table[0][3] > 0 and table[0][4] > 0                          # the behind units do have open steps
    assert all(ws.cell(3 + i, 2).number_format == "0.0%" for i in range(len(table)))
    assert not [r for cf in ws.conditional_formatting for r in cf.rules if r.type == "colorScale"]   # no red→green
    texts = [r[0] for r in rows(ws) if r[0]]
    assert f"下水道工程處：{RETURNED}" in texts and f"工程管理科：{MISSING}" in texts


def test_units_below_the_threshold_are_marked(book, result):
    ws = book["各單位完成率"]
    table = unit_table(ws)
    threshold = alert_threshold(result.plan)
    assert threshold == 0.6                                              # workbooks/config/settings.csv
    for i, row in enumerate(table):
        ratio = row[1]
        low = ratio < threshold
        assert (row[-1] == "※未達60%") == low, row
        assert ws.cell(3 + i, 1).font.b == low
    assert any(r[1] < threshold for r in table) and any(r[1] >= threshold for r in table)


def test_threshold_setting_is_read_safely(plan, registry, tmp_path):
    for raw, value in (("0.6", 0.6), ("60%", 0.6), ("６５％", 0.65), ("75", 0.75), ("", 0.6), ("0", 0.0)):
        assert alert_threshold(with_settings(plan, 完成率警示門檻=raw)) == pytest.approx(value), raw
    assert alert_threshold(replace(plan, settings=MappingProxyType({}))) == 0.6        # the row absent
    for raw in ("六成", "1.5%x", "-0.1", "150%"):
        with pytest.raises(ConfigError) as caught:
            alert_threshold(with_settings(plan, 完成率警示門檻=raw))
        assert "完成率警示門檻" in caught.value.messages[0] and f"「{raw}」" in caught.value.messages[0]
    broken = build_result(with_settings(plan, 完成率警示門檻="六成"), registry)
    with pytest.raises(ConfigError):
        consolidated.write_consolidated(broken, tmp_path / "x.xlsx")
    assert list(tmp_path.iterdir()) == []                                # nothing written, no temp file left


def test_unit_without_applicable_steps_ranks_last_and_says_so(tmp_path, plan, registry):
    def status(unit, area, i):
        return "不適用" if unit == "SEC" else _status(unit, area, i)

    result = build_result(with_settings(plan, 完成率警示門檻="0.9"), registry, status=status)
    ws = openpyxl.load_workbook(consolidated.write_consolidated(result, tmp_path / "x.xlsx"))["各單位完成率"]
    table = unit_table(ws)
    assert [r[0] for r in table] == ["新建工程處", "養護工程處", "秘書室"]
    assert table[-1][1:3] == ["—", "0/0"] and table[-1][-1] is None     # no rate, no mark
    assert all(r[-1] == "※未達90%" for r in table[:2])
    assert any("排在最後" in (r[0] or "") for r in rows(ws))


def test_detail_sheet_without_plan_texts(book, result, plan):
    ws = book["檢核明細"]
    assert [c.value for c in ws[1]] == DETAIL_HEADER
    assert ws.freeze_panes == "C2"
    frame = result.selfcheck
    typed = {name: frame[name].fillna("").astype(str) != "" for name in ("status", "narrative", "evidence", "remarks")}
    shown = frame[frame["due"] | typed["status"] | typed["narrative"] | typed["evidence"] | typed["remarks"]]
    data = rows(ws)[1:1 + len(shown)]
    assert ws.auto_filter.ref == f"A1:G{len(data) + 1}"
    assert data[0][:3] == ["秘書室", plan.steps[0].code, "已完成"]      # registry order, then the catalogue's
    done = next(r for r in data if r[2] == "已完成")
    assert done[4] == "102/05/01"
    not_due = {s.code for s in plan.steps if not s.due_at(6)}
    shown_not_due = [(r[0], r[1]) for r in data if r[1] in not_due]
    assert shown_not_due and all(unit == "養護工程處" for unit, _ in shown_not_due)   # only what MNT filled in ahead
    assert len(data) == frame["due"].sum() + len(shown_not_due)
    step_texts = {s.text for s in plan.steps} | {s.focus_text for s in plan.steps}
    assert not step_texts & {v for r in data for v in r}
    narratives = [r[3] for r in data]
    for text in HOSTILE:
        assert xlsxout.safe_text(text) in narratives
    long = next(n for n in narratives if n and n.startswith("長長"))
    assert len(long) == textnorm.MAX_CELL_CHARS and long.endswith(textnorm.TRUNCATED_MARK)
    assert ws.row_dimensions[2 + narratives.index(long)].height == pytest.approx(409, abs=1)   # Excel's tallest row
    assert ws.cell(2, 4).alignment.wrap_text
    assert "項次對照" in rows(ws)[-1][0]


def test_lookup_sheet_gives_each_step_once(book, plan, result):
    ws = book["項次對照"]
    assert [c.value for c in ws[1]] == ["項次", "執行步驟", "查核期限", "本期應辦"]
    table = rows(ws)
    steps = [r for r in table[1:] if r[2]]
    assert [r[0] for r in steps] == [s.code for s in plan.steps]
    for row, step in zip(steps, plan.steps):
        assert row[1:] == [step.text, step.deadline, "是" if step.due_at(result.period.month) else "否"]
    headings = [r[0] for r in table[1:] if not r[2]]
    assert [a.label for a in plan.areas] == [h for h in headings if h in {a.label for a in plan.areas}]
    assert len(headings) == len(plan.areas) + len(plan.focus_points)


def test_workplan_sheets(book, result, plan):
    ws = book["工作計畫彙整"]
    assert [c.value for c in ws[1]] == ["單位", "實施要項", "工作重點", "工作(推動)方法", "備註", "來源檔案"]
    data = rows(ws)[1:]
    assert len(data) == len(result.workplan)
    assert data[0][:3] == ["新建工程處", plan.areas[0].label, f"{plan.areas[0].title}工作重點1"]  # registry order
    assert ws.auto_filter.ref == f"A1:F{len(data) + 1}"
    assert ws.print_area == f"'工作計畫彙整'!$A$1:$E${len(data) + 1}"   # the source file is not printed
    cover = book["工作計畫涵蓋"]
    assert [c.value for c in cover[1]] == ["單位", *(a.label for a in plan.areas), "合計"]
    table = {r[0]: r for r in rows(cover)[1:] if r[0]}
    assert table["養護工程處"][1:] == [2, 1, 1, 1, 1, 6]
    assert f"會計室：{MISSING}" in table


def test_coverage_gap_highlighted(tmp_path, plan, registry):
    result = build_result(plan, registry)
    result.workplan = result.workplan[~((result.workplan["unit_code"] == "NCE") & (result.workplan["area"] == 3))]
    ws = openpyxl.load_workbook(consolidated.write_consolidated(result, tmp_path / "gap.xlsx"))["工作計畫涵蓋"]
    row, last = find_row(ws, "新建工程處"), find_row(ws, "養護工程處")
    assert ws.cell(row, 4).value is None and ws.cell(row, 3).value == 1
    rules = [(str(cf.sqref), r) for cf in ws.conditional_formatting for r in cf.rules]
    assert [(ref, r.type) for ref, r in rules] == [(f"B2:F{last}", "containsBlanks")]
    assert rules[0][1].dxf.fill.bgColor.rgb.endswith("FFC7CE")


def test_missing_sheet_tells_missing_from_returned(book, result):
    ws = book["未繳交"]
    assert [c.value for c in ws[1]] == ["表單", "狀態", "代碼", "單位", "類別", "電子郵件", "說明"]
    data = rows(ws)[1:]
    for form, label in (("selfcheck", "自行檢核表"), ("workplan", "工作計畫")):
        listed = [r for r in data if r[0].startswith(label)]
        assert [(r[1], r[2]) for r in listed] == [(MISSING, u.code) for u in result.missing[form]] + \
            [(RETURNED, u.code) for u in result.returned[form]]
        for row, unit in zip(listed, result.missing[form]):
            assert row[3:5] == [unit.name, unit.kind]
            assert row[5] == "；".join(e for e in unit.emails if "@" in e[1:])   # addresses, never a bare @domain
    sew = next(r for r in data if r[1] == RETURNED)
    assert sew[2] == "SEW" and "「下水道處_自行檢核表.xlsx」" in sew[6] and "檢核問題" in sew[6]
    assert sew[5] == "sewer@pwb.kcg.gov.tw"         # the registry's "@sewer.kcg.gov.tw" recognises senders: no address


def test_unfinished_sheet_lists_open_steps_per_unit(book, result, plan):
    ws = book["未完成項目"]
    assert [c.value for c in ws[1]] == ["單位", "未辦理", "未辦理的執行步驟", "辦理中", "辦理中的執行步驟"]
    data = [r for r in rows(ws)[1:] if r[1] is not None or r[3] is not None]
    assert [r[0] for r in data] == ["新建工程處", "養護工程處"]           # the ranking's order; 秘書室 has none open
    frame = result.unfinished
    for row in data:
        mine = frame[frame["unit"] == row[0]]
        for count, listed, status in ((row[1], row[2], "未辦理"), (row[3], row[4], "辦理中")):
            codes = mine[mine["status"] == status]["code"].tolist()
            assert count == len(codes) and [line.split(" ")[0] for line in listed.split("\n")] == codes
            first = plan.step_by_code[codes[0]].text
            line = listed.split("\n")[0]
            assert line.startswith(f"{codes[0]} {first[:5]}") and (line.endswith("…") or line.endswith(first))


def test_intake_log_prints_the_short_hash(book, result):
    ws = book["收件紀錄"]
    header = [c.value for c in ws[1]]
    assert header == ["檔案", "SHA-256（前 12 碼）", "單位", "表單", "期別", "填報日期", "狀態", "錯誤數", "警告數", "說明",
                      "寄件者", "收件日期", "SHA-256（完整）"]
    data = rows(ws)[1:1 + len(result.files)]
    assert [r[0] for r in data] == [f.file for f in result.files]
    assert [r[1] for r in data] == [f.sha256[:12] for f in result.files]
    assert [r[-1] for r in data] == [f.sha256 for f in result.files]
    assert ws.print_area == f"'收件紀錄'!$A$1:$L${ws.max_row}"          # the full hash is kept, not printed
    by_file = {r[0]: r for r in data}
    mnt = by_file[SELFCHECK_UNITS["MNT"]]
    assert mnt[2:9] == ["養護工程處", "自行檢核表", "102-06", "102/06/28", "接受", 0, 1]
    assert mnt[10:12] == ["mnt@pwb.kcg.gov.tw", "102/06/28 14:05"]
    assert by_file["養工處_自行檢核表.xlsx"][6] == "已被取代" and SELFCHECK_UNITS["MNT"] in by_file["養工處_自行檢核表.xlsx"][9]
    assert by_file["新工處_自行檢核表 - 複製.xlsx"][6] == "重複"
    bad = by_file['=HYPERLINK("http://x","y").xlsx']
    assert bad[6:9] == ["退回", 3, 0] and "C3" in bad[9] and bad[11] == "102/06/27 09:30"
    assert by_file["~$養工處_自行檢核表.xlsx"][6] == "略過"
    below = [r[0] for r in rows(ws)[1 + len(result.files):] if r[0]]
    assert below == ["附註", f"・{NOTE}"]                                # the operator's notes


def test_intake_log_without_mail_columns(tmp_path, plan, registry):
    result = build_result(plan, registry, notes=())
    result.files = [replace(report, provenance=None) for report in result.files]
    ws = openpyxl.load_workbook(consolidated.write_consolidated(result, tmp_path / "x.xlsx"))["收件紀錄"]
    assert ws.max_column == 11 and ws.cell(1, 11).value == "SHA-256（完整）"
    assert ws.max_row == len(result.files) + 1


def test_problem_sheet(book, result):
    ws = book["檢核問題"]
    assert [c.value for c in ws[1]] == ["檔案", "狀態", "嚴重度", "工作表", "儲存格", "代碼", "說明", "填寫內容"]
    data = rows(ws)[1:]
    expected = [(f.file, p) for f in result.files for p in f.problems]
    assert len(data) == len(expected) == 5
    for row, (file, p) in zip(data, expected):
        assert row[0] == file and row[3] == p.sheet and row[4] == p.cell and row[5] == p.code
        assert row[6] == p.message and row[7] == p.value
        assert row[2] == {"error": "錯誤", "warning": "警告"}[p.severity]


def test_every_sheet_prints_on_a4_one_page_wide(book):
    portrait = {"摘要", "檢核明細", "項次對照", "未完成項目"}
    for ws in book.worksheets:
        assert int(ws.page_setup.paperSize) == 9, ws.title
        assert ws.page_setup.orientation == ("portrait" if ws.title in portrait else "landscape"), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert fit(ws.page_setup.fitToWidth) == 1, ws.title
        assert fit(ws.page_setup.fitToHeight) == (1 if ws.title in ("摘要", "各單位完成率") else 0), ws.title
        assert "&P" in ws.oddFooter.center.text and ws.title in ws.oddHeader.left.text, ws.title
        assert "期中自行檢核彙整（102-06）" in ws.oddHeader.left.text, ws.title     # which period, on every page
        if ws.title != "摘要":
            assert ws.print_title_rows, ws.title                         # the header on every page
            assert ws.freeze_panes, ws.title
            header = ws[1][1]
            assert header.font.b and header.fill.fgColor.rgb.endswith("D9E1F2"), ws.title
        # long tables print the cell grid instead of a border round every cell
        assert bool(ws.print_options.gridLines) == (ws.title not in ("摘要", "各單位完成率")), ws.title


@pytest.mark.parametrize("low_memory", [False, True])
def test_no_formulas_links_or_external_relationships(result, tmp_path, low_memory):
    written = consolidated.write_consolidated(result, tmp_path / "x.xlsx", low_memory=low_memory)
    strings = []
    for ws in openpyxl.load_workbook(written).worksheets:
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
        inline = any(b't="inlineStr"' in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
        assert inline == low_memory                                      # constant_memory writes strings inline


def test_low_memory_mode_writes_the_same_cells(result, tmp_path):
    books = [openpyxl.load_workbook(consolidated.write_consolidated(result, tmp_path / f"{m}.xlsx", low_memory=m))
             for m in (False, True)]
    assert books[0].sheetnames == books[1].sheetnames
    for a, b in zip(*(wb.worksheets for wb in books)):
        assert rows(a) == rows(b), a.title
        assert {r: d.height for r, d in a.row_dimensions.items() if d.height} == \
            {r: d.height for r, d in b.row_dimensions.items() if d.height}, a.title


def test_long_tables_go_on_in_continued_sheets(result, tmp_path):
    """With room for 100 rows a sheet, every table that grows with units continues under the same header."""
    wb = openpyxl.load_workbook(consolidated.write_consolidated(result, tmp_path / "x.xlsx", max_rows=100, low_memory=True))
    parts = [n for n in wb.sheetnames if n.startswith("檢核明細")]
    assert parts == ["檢核明細", "檢核明細(2)"]
    assert wb.sheetnames.index("檢核明細(2)") == wb.sheetnames.index("檢核明細") + 1
    details = []
    for name in parts:
        ws = wb[name]
        table = rows(ws)
        assert table[0] == DETAIL_HEADER and ws.max_row <= 100
        assert ws.print_title_rows == "$1:$1" and ws.freeze_panes == "C2" and name in ws.oddHeader.left.text
        details += table[1:]
    assert [r[:3] for r in details if r[1]] == [r[:3] for r in rows(openpyxl.load_workbook(
        consolidated.write_consolidated(result, tmp_path / "y.xlsx"))["檢核明細"])[1:] if r[1]]
    assert len([r for r in details if r[1]]) == len(reported(result.selfcheck))


def test_continued_sheets_at_a_tiny_limit(result, tmp_path):
    """Every table sheet, the intake log with its notes included, splits; nothing is lost."""
    wb = openpyxl.load_workbook(consolidated.write_consolidated(result, tmp_path / "x.xlsx", max_rows=4))
    intake = [n for n in wb.sheetnames if n.startswith("收件紀錄")]
    assert len(intake) == 4                                               # 10 files and 2 note lines, 3 a sheet
    listed = [r for name in intake for r in rows(wb[name])[1:]]
    assert [r[0] for r in listed[:len(result.files)]] == [f.file for f in result.files]
    assert [r[0] for r in listed[len(result.files):]] == ["附註", f"・{NOTE}"]
    assert all(rows(wb[name])[0][0] == "檔案" for name in intake)
    assert {"檢核問題(2)", "未繳交(2)", "工作計畫彙整(2)", "項次對照(2)"} <= set(wb.sheetnames)


def test_empty_merge_still_writes(tmp_path, plan, registry):
    empty = MergeResult(plan, registry, Period(102, 12), dt.datetime(2013, 12, 31, 17, 0), [], pd.DataFrame(),
                        pd.DataFrame(), {a.number: Rate(0, 0) for a in plan.areas}, {},
                        {"selfcheck": list(registry.units), "workplan": list(registry.units)},
                        {"selfcheck": [], "workplan": []})
    wb = openpyxl.load_workbook(consolidated.write_consolidated(empty, tmp_path / "empty.xlsx"))
    assert wb.sheetnames == SHEETS
    summary = {r[0]: r[1:] for r in rows(wb["摘要"]) if r[0]}
    assert summary["填報期別"][0] == "102-12（102 年度執行成果）"      # never 「年度年度執行成果」
    assert wb["摘要"]["A1"].value.endswith(" 年度執行成果彙整（102-12）")
    assert all("年度執行成果彙整（102-12）" in ws.oddHeader.left.text for ws in wb.worksheets)
    head = find_row(wb["摘要"], "實施要項")
    assert [wb["摘要"].cell(head + 1, c).value for c in (2, 3, 4)] == ["—", 0, 0]
    assert "（本期尚無已接受的自行檢核表）" in [r[0] for r in rows(wb["各單位完成率"])]
    assert wb["各單位完成率"]._charts == []


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
        if len(calls) == 100:
            raise xlsxout.WriteError("disk full")
        return real(value)

    monkeypatch.setattr(xlsxout, "safe_text", failing)
    with pytest.raises(xlsxout.WriteError):
        consolidated.write_consolidated(result, target, low_memory=True)
    assert len(calls) == 100
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
        assert by_label[area.label][1:4] == [rate.percent, str(rate.completed), str(rate.applicable)]
    assert by_label["全局合計"][1] == result.overall.percent


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
        rate = result.area_rates[area.number]
        assert [ws.cell(head + i, c).value for c in (3, 4)] == [rate.completed, rate.applicable]
    details = [r for r in rows(wb["檢核明細"])[1:] if r[1]]
    due = sum(s.due_at(6) for s in plan.steps)
    assert len(result.selfcheck) == 2 * len(plan.steps) and len(details) == len(reported(result.selfcheck)) >= 2 * due
    cell = next(c for row in wb["檢核明細"].iter_rows() for c in row if c.value == '=HYPERLINK("http://x","y")')
    assert cell.data_type == "s"
    states = {r[0]: r[6] for r in rows(wb["收件紀錄"])[1:] if r[6]}
    assert states["下水道處_錯誤.xlsx"] == "退回" and sorted(states.values()).count("接受") == 3
    open_steps = {r[0]: r for r in rows(wb["未完成項目"])[1:] if r[3]}
    assert list(open_steps) == ["養護工程處"] and open_steps["養護工程處"][4].startswith("1-1-1 ")
    assert [r[1] for r in rows(wb["未繳交"])[1:] if r[2] == "SEW"][0] == RETURNED
    coverage = {r[0]: r for r in rows(wb["工作計畫涵蓋"])[1:] if r[0]}
    assert coverage["養護工程處"][1:6] == [1, 1, 1, 1, 1]


# ---------------------------------------------------------------------------------------
# The demo inbox, printed by LibreOffice


def sheet_of(page: str) -> str:
    """The sheet a printed page belongs to: the last word of its page header (title　sheet name)."""
    return page.strip().splitlines()[0].split()[-1]


def hand_count(result) -> dict[str, tuple[int, int]]:
    """未辦理 and 辦理中 among the due steps of each accepted self-check, read again from the file itself."""
    counts = {}
    due = result.plan.due_codes(result.period.month)
    for report in result.files:
        if report.state != "accepted" or report.form != "selfcheck":
            continue
        ws = openpyxl.load_workbook(report.path, read_only=True, data_only=True)["自行檢核表"]
        table = [[str(v).strip() if v is not None else "" for v in row] for row in ws.iter_rows(values_only=True)]
        head = next(r for r in table if "項次" in r and "執行狀態" in r)
        code, status = head.index("項次"), head.index("執行狀態")
        statuses = [r[status] for r in table if len(r) > status and r[code] in due]
        counts[report.unit] = (statuses.count("未辦理"), statuses.count("辦理中"))
    return counts


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The shipped demo inbox merged as ``qos-xl merge`` does, with an alert threshold that marks its lowest unit."""
    inbox = DEMO_INBOX
    if not any(inbox.iterdir()):
        pytest.skip("the demo inbox is empty")
    plan = load_plan(CONFIG / "plan.csv", CONFIG / "settings.csv")
    registry = load_registry(CONFIG / "units.csv", plan.organisation)
    result = merge(inbox, plan, registry)
    rates = sorted({Fraction(u["overall"]["completed"], u["overall"]["applicable"])
                    for u in result.to_dict()["completion"]["units"] if u["overall"]["applicable"]})
    assert rates, "the demo has no accepted self-check"
    threshold = float((rates[0] + rates[1]) / 2) if len(rates) > 1 else float(rates[0]) + 0.01
    result.plan = with_settings(plan, 完成率警示門檻=f"{threshold:.4f}")
    out = tmp_path_factory.mktemp("demo")
    path = consolidated.write_consolidated(result, consolidated.output_path(result, out))
    pages = office.pdf_pages(office.convert(path, "pdf", out / "pdf"))
    return result, path, pages


def test_demo_prints_in_few_pages(demo):
    result, path, pages = demo
    per_sheet: dict[str, int] = {}
    for page in pages:
        per_sheet[sheet_of(page)] = per_sheet.get(sheet_of(page), 0) + 1
    assert list(per_sheet) == openpyxl.load_workbook(path, read_only=True).sheetnames   # every sheet prints, headed
    assert per_sheet["摘要"] == 1 and per_sheet["各單位完成率"] == 1, per_sheet
    assert len(pages) <= 30, per_sheet
    summary = pages[0]
    assert "各實施要項完成率" in summary and result.overall.percent in summary     # the chart's page too
    assert "未指定期別" not in summary
    intake = [p for p in pages if sheet_of(p) == "收件紀錄"]
    for report in result.files:
        assert any(report.sha256[:12] in p for p in intake) and not any(report.sha256 in p for p in intake)


def test_demo_units_in_rank_order_with_open_counts(demo):
    result, path, pages = demo
    data = result.to_dict()["completion"]["units"]
    expected = sorted((u for u in data if u["overall"]["applicable"]),
                      key=lambda u: (Fraction(u["overall"]["completed"], u["overall"]["applicable"]), u["unit"]))
    table = unit_table(openpyxl.load_workbook(path)["各單位完成率"])
    assert [r[0] for r in table] == [u["unit"] for u in expected] + \
        [u["unit"] for u in sorted(data, key=lambda u: u["unit"]) if not u["overall"]["applicable"]]
    counts = hand_count(result)
    assert {r[0]: (r[3], r[4]) for r in table} == counts
    assert any(not_done for not_done, _ in counts.values())


def test_demo_lowest_unit_stays_marked_in_black_and_white(demo):
    result, path, pages = demo
    page = next(p for p in pages if sheet_of(p) == "各單位完成率")
    threshold = alert_threshold(result.plan)
    mark = f"※未達{threshold:.1%}"
    lowest = unit_table(openpyxl.load_workbook(path)["各單位完成率"])[0][0]
    line = next(line for line in page.splitlines() if line.strip().startswith(lowest))
    assert "※未達" in line                                               # printed text, whatever the colours
    marked = [line.split()[0] for line in page.splitlines() if "※未達" in line]
    assert lowest in marked and len(marked) < len(result.accepted_units), (mark, marked)


def test_demo_workbook_read_by_libreoffice_shows_the_json_rates(demo, tmp_path):
    result, path, _ = demo
    folder = office.convert(path, office.CSV_ALL_SHEETS, tmp_path / "csv")
    sheet = next(p for p in folder.glob("*.csv") if "各單位完成率" in p.name)
    shown = {r[0]: r for r in csv.reader(sheet.open(encoding="utf-8")) if r}
    for unit in result.to_dict()["completion"]["units"]:
        rate = Rate(unit["overall"]["completed"], unit["overall"]["applicable"])
        assert shown[unit["unit"]][1:3] == [rate.percent, f"{rate.completed}/{rate.applicable}"]
        for i, area in enumerate(unit["areas"]):
            rate = Rate(area["completed"], area["applicable"])
            assert shown[unit["unit"]][5 + 2 * i:7 + 2 * i] == [rate.percent, f"{rate.completed}/{rate.applicable}"]
