"""The plan year as one inbox: work plans, June and December self-checks, award applications, resends.

The year inbox (built once per module) holds, for the units 秘書室 (SEC), 養護工程處 (MNT),
新建工程處 (NCE) and 建築管理處 (BLD):

- work plans of SEC and MNT (accepted) and of NCE (an incomplete row: rejected);
- June self-checks of SEC (all done), MNT (1-2-1 辦理中, 1-2-2 未辦理), NCE (area 5 不適用, its
  period typed 102年6月), and MNT's June file re-saved by openpyxl (other bytes, same cells);
- December self-checks of SEC (4-1-1 不適用; sent twice with the same 填報日期, the second
  differing in one cell and received later by the ledger), MNT (1-2-2 still 未辦理, 2-1-1
  back to 辦理中) and BLD (all done, its period typed １０２－１２).

Every expected figure below is counted by hand from those edits and the catalogue: areas
have 15/8/8/10/9 steps, of which 14/8/6/10/9 are due in June (47 of 50).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import unicodedata
from dataclasses import replace
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import builders
import office
from builders import CELL, step_row
from conftest import CONFIG
from qos_xl.cli import cli
from qos_xl.core.problems import make_problem
from qos_xl.core.report import FileReport, Provenance
from qos_xl.core.values import Period
from qos_xl.intake import ledger
from qos_xl.pipeline import states
from qos_xl.pipeline.merge import merge
from qos_xl.pipeline.rates import Rate
from qos_xl.pipeline.status import status_table

JUNE, DECEMBER = Period(102, 6), Period(102, 12)


def set_statuses(plan, statuses: dict[str, str]):
    """An edit giving the listed steps a status, with what that status needs."""
    def edit(ws):
        for code, status in statuses.items():
            row = step_row(plan, code)
            ws[f"F{row}"] = status
            ws[f"G{row}"] = None if status == "未辦理" else ("本單位無此業務。" if status == "不適用" else f"項次{code}刻正辦理中，預計年底前完成。")
            ws[f"H{row}"] = "102/5/1" if status == "已完成" else None
    return edit


def also(*edits):
    def edit(ws):
        for one in edits:
            one(ws)
    return edit


def stamp(path, when: dt.datetime) -> None:
    os.utime(path, (when.timestamp(),) * 2)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory, plan, registry):
    inbox = tmp_path_factory.mktemp("year") / "inbox"
    for unit in ("SEC", "MNT"):
        builders.workplan(inbox, plan, registry, unit=unit)
    builders.workplan(inbox, plan, registry, unit="NCE", edit=lambda ws: setattr(ws.cell(
        next(r for r in range(1, 60) if ws.cell(r, 1).value == "實施要項") + 1, 2), "value", None))
    builders.selfcheck(inbox, plan, registry, unit="SEC", name="秘書室_期中.xlsx")
    june = builders.selfcheck(inbox, plan, registry, unit="MNT", name="養工處_期中.xlsx",
                              edit=set_statuses(plan, {"1-2-1": "辦理中", "1-2-2": "未辦理"}))
    resaved = load_workbook(june)                      # opened and saved again: other bytes, the same cells
    resaved.properties.modified = dt.datetime(2013, 7, 1, 8, 0)
    resaved.save(inbox / "養工處_期中 (另存).xlsx")
    area5 = {s.code: "不適用" for s in plan.steps if s.area == 5}
    builders.selfcheck(inbox, plan, registry, unit="NCE", name="新工處_期中.xlsx",
                       edit=also(set_statuses(plan, area5), lambda ws: ws.__setitem__(CELL["period"], "102年6月")))
    december = dict(period="102-12", report_date="102/12/20")
    first = builders.selfcheck(inbox, plan, registry, unit="SEC", name="秘書室_年度.xlsx",
                               edit=set_statuses(plan, {"4-1-1": "不適用"}), **december)
    second = builders.selfcheck(inbox, plan, registry, unit="SEC", name="秘書室_年度(更正).xlsx", **december,
                                edit=also(set_statuses(plan, {"4-1-1": "不適用"}),
                                          lambda ws: ws.__setitem__(f"G{step_row(plan, '1-1-1')}", "已於 12 月修訂計畫。")))
    builders.selfcheck(inbox, plan, registry, unit="MNT", name="養工處_年度.xlsx", **december,
                       edit=set_statuses(plan, {"1-2-2": "未辦理", "2-1-1": "辦理中"}))
    builders.selfcheck(inbox, plan, registry, unit="BLD", name="建管處_年度.xlsx", **december,
                       edit=lambda ws: ws.__setitem__(CELL["period"], "１０２－１２"))
    for path in sorted(inbox.iterdir()):
        stamp(path, dt.datetime(2013, 12, 21, 9, 0))
    stamp(inbox / "養工處_期中 (另存).xlsx", dt.datetime(2013, 12, 21, 9, 5))   # saved again after the first
    stamp(first, dt.datetime(2013, 12, 25, 9, 0))           # its file time is later...
    stamp(second, dt.datetime(2013, 12, 21, 9, 0))
    ledger.append(inbox, {"ingested_at": "2013-12-27T10:00:00", "sender": "sec@pwb.kcg.gov.tw", "subject": "秘書室年度執行成果（更正）",
                          "date": "2013-12-26T16:30:00+08:00",  # ...but the mail with this one came later: it wins
                          "sha256": hashlib.sha256(second.read_bytes()).hexdigest(), "saved_as": second.name,
                          "unit_code": "SEC"})
    return inbox


@pytest.fixture(scope="module")
def june(inbox, plan, registry):
    return merge(inbox, plan, registry, JUNE, jobs=1)


@pytest.fixture(scope="module")
def december(inbox, plan, registry):
    return merge(inbox, plan, registry, DECEMBER, jobs=1)


WORK_PLANS = {"秘書室_工作計畫_102.xlsx": "accepted", "養工處_工作計畫_102.xlsx": "accepted", "新工處_工作計畫_102.xlsx": "rejected"}
JUNE_FILES = {"秘書室_期中.xlsx": "accepted", "養工處_期中.xlsx": "accepted", "養工處_期中 (另存).xlsx": "duplicate",
              "新工處_期中.xlsx": "accepted"}
DECEMBER_FILES = {"秘書室_年度.xlsx": "superseded", "秘書室_年度(更正).xlsx": "accepted", "養工處_年度.xlsx": "accepted",
                  "建管處_年度.xlsx": "accepted"}


def test_june_merge_states_and_rates(june):
    assert {f.file: f.state for f in june.files} == {**WORK_PLANS, **JUNE_FILES,
                                                     **{name: "other-period" for name in DECEMBER_FILES}}
    by_name = {f.file: f for f in june.files}
    # December's files are listed with their period, without a problem, whatever their own merge says
    for name in DECEMBER_FILES:
        assert by_name[name].period == "102-12" and by_name[name].problems == ()
    assert by_name["養工處_期中 (另存).xlsx"].duplicate_of == "養工處_期中.xlsx"
    assert by_name["新工處_期中.xlsx"].period == "102-06"          # typed 102年6月
    rates = june.unit_rates
    assert rates["MNT"][1] == Rate(12, 14) and rates["MNT"][2] == Rate(8, 8)
    assert rates["NCE"][5] == Rate(0, 0) and rates["NCE"][5].label == "—"
    assert june.area_rates[1] == Rate(40, 42) and june.area_rates[5] == Rate(18, 18)
    assert june.overall == Rate(130, 132)
    assert june.comparison is None
    assert [u.code for u in june.returned["workplan"]] == ["NCE"]
    assert [u.code for u in june.missing["selfcheck"]] == ["PER", "ACC", "ETH", "PLN", "MGT", "SEW", "BLD"]


def test_december_merge_states_rates_and_resends(december):
    assert {f.file: f.state for f in december.files} == {**WORK_PLANS, **DECEMBER_FILES,
                                                         **{name: "other-period" for name in JUNE_FILES}}
    by_name = {f.file: f for f in december.files}
    assert all(by_name[name].problems == () for name in JUNE_FILES)
    assert by_name["建管處_年度.xlsx"].period == "102-12"            # typed １０２－１２
    # the same 填報日期 twice: the one received later by mail wins over the later file time
    loser, winner = by_name["秘書室_年度.xlsx"], by_name["秘書室_年度(更正).xlsx"]
    assert loser.superseded_by == winner.file
    assert [p.code for p in loser.problems] == [p.code for p in winner.problems] == ["same-report-date"]
    assert "「秘書室_年度(更正).xlsx」與本檔案的填報日期同為 102/12/20，內容卻有 1 個儲存格不同" in loser.problems[0].message
    assert "「秘書室_年度.xlsx」與本檔案" in winner.problems[0].message
    rates = december.unit_rates
    assert rates["MNT"][1] == Rate(14, 15) and rates["MNT"][2] == Rate(7, 8)
    assert rates["SEC"][4] == Rate(9, 9)
    assert december.area_rates[1] == Rate(44, 45) and december.area_rates[2] == Rate(23, 24)
    assert december.area_rates[4] == Rate(29, 29)
    assert december.overall == Rate(147, 149)
    assert [u.code for u in december.missing["selfcheck"]] == ["PER", "ACC", "ETH", "PLN", "MGT", "NCE", "SEW"]
    assert december.returned["selfcheck"] == []


def test_december_compares_with_june(december):
    data = december.to_dict()["comparison"]
    assert (data["from"], data["to"]) == ("102-06", "102-12")
    units = {u["code"]: u for u in data["units"]}
    assert list(units) == ["SEC", "NCE", "MNT", "BLD"]          # registry order; a unit with either period
    mnt = units["MNT"]
    assert mnt["from"] == {"completed": 45, "applicable": 47, "rate": 0.9574}
    assert mnt["to"] == {"completed": 48, "applicable": 50, "rate": 0.96}
    assert mnt["change"] == 0.3                                   # 96.0 - 95.74
    assert mnt["areas"][0] == {"area": 1, "from": {"completed": 12, "applicable": 14, "rate": 0.8571},
                               "to": {"completed": 14, "applicable": 15, "rate": 0.9333}, "change": 7.6}
    assert mnt["areas"][1]["change"] == -12.5
    assert units["SEC"]["areas"][3]["to"] == {"completed": 9, "applicable": 9, "rate": 1.0}
    assert units["SEC"]["areas"][3]["change"] == 0.0
    assert units["NCE"]["to"] is None and units["NCE"]["areas"][4]["from"] == {"completed": 0, "applicable": 0, "rate": None}
    assert units["NCE"]["change"] is None
    assert units["BLD"]["from"] is None and units["BLD"]["to"]["completed"] == 50
    assert data["steps"] == [
        {"unit": "秘書室", "code": "SEC", "step": "4-1-1", "from": "已完成", "to": "不適用", "kind": "regressed"},
        {"unit": "養護工程處", "code": "MNT", "step": "2-1-1", "from": "已完成", "to": "辦理中", "kind": "regressed"},
        {"unit": "養護工程處", "code": "MNT", "step": "1-2-2", "from": "未辦理", "to": "未辦理", "kind": "not-started"},
    ]
    assert data["bureau"]["from"] == {"completed": 130, "applicable": 132, "rate": 0.9848}
    assert data["bureau"]["to"] == {"completed": 147, "applicable": 149, "rate": 0.9866}


def test_december_workbook_in_libreoffice_shows_the_json_comparison(inbox, tmp_path, plan):
    run = CliRunner().invoke(cli, ["merge", "--config", str(CONFIG), "--inbox", str(inbox), "--out", str(tmp_path),
                                   "--period", "102-12", "--no-feedback", "--json"])
    assert run.exit_code == 1          # NCE's work plan is rejected; June's files are no reason
    data = json.loads(run.output)
    folder = office.convert(data["output"], office.CSV_ALL_SHEETS, tmp_path / "csv")
    sheets = {p.stem: list(csv.reader(p.open(encoding="utf-8"))) for p in folder.glob("*.csv")}
    rows = next(rows for name, rows in sheets.items() if "期中與年度比較" in name)
    assert rows[0][0] == "期中自行檢核（102-06）與年度自行檢核（102-12）比較：完成率，以及退步與未啟動的執行步驟"
    header = ["單位", "實施要項／執行步驟", "期中完成率", "期中（件數／狀態）", "年度完成率", "年度（件數／狀態）", "變化（百分點）／類別"]
    assert rows[1] == header and rows.count(header) == 2        # the same columns above the steps
    labels = {a.number: a.label for a in plan.areas}
    shown = {(row[0], row[1]): row for row in rows if len(row) >= 7}

    def expect(row, before, after, moved):
        for rate, at in ((before, 2), (after, 4)):
            if rate is None:
                assert row[at:at + 2] == ["", "無資料"], row
            else:
                assert row[at + 1] == f"{rate['completed']}/{rate['applicable']}", row      # the counts beside the rate
                assert row[at] == Rate(rate["completed"], rate["applicable"]).percent, row   # "—" when nothing applies
        sign = "—" if moved is None else ("▲" if moved > 0 else "▼" if moved < 0 else "＝")
        assert row[6] == (sign if moved is None else f"{sign} {abs(moved):.1f}"), row
        if moved is not None:      # what a manager gets from the two rates beside it, checking by hand
            assert Decimal(row[4][:-1]) - Decimal(row[2][:-1]) == Decimal(str(moved)), row

    for unit in data["comparison"]["units"]:
        for area in unit["areas"]:
            expect(shown[(unit["unit"], labels[area["area"]])], area["from"], area["to"], area["change"])
        expect(shown[(unit["unit"], "整體")], unit["from"], unit["to"], unit["change"])
    assert shown[("養護工程處", labels[1])][2:] == ["85.7%", "12/14", "93.3%", "14/15", "▲ 7.6"]
    assert shown[("養護工程處", labels[2])][6] == "▼ 12.5"
    assert shown[("全局", "整體")][2:4] == ["98.5%", "130/132"]
    steps = [row for row in rows if len(row) >= 7 and row[6] in ("退步", "未啟動")]
    assert [(r[0], r[1].split("　")[0], r[3], r[5], r[6]) for r in steps] == [
        ("秘書室", "4-1-1", "已完成", "不適用", "退步"), ("養護工程處", "2-1-1", "已完成", "辦理中", "退步"),
        ("養護工程處", "1-2-2", "未辦理", "未辦理", "未啟動")]
    intake = {row[0]: row for row in next(rows for name, rows in sheets.items() if "收件紀錄" in name)}
    assert intake["養工處_期中.xlsx"][4:9] == ["102-06", "102/06/28", "其他期別", "", ""]    # not checked here: no counts
    assert intake["養工處_期中.xlsx"][9] == "屬於期中自行檢核（102-06），列入該期的彙整，不列入本期"
    summary = next(rows for name, rows in sheets.items() if "摘要" in name)
    lines = {row[0]: row[1] for row in summary if row and row[0].endswith("單位數") and "（1" in row[0]}
    assert lines == {"工作計畫（102）單位數": "已接受 2、退回待修正 1、未繳交 7",
                     "期中自行檢核（102-06）單位數": "已接受 3、退回待修正 0、未繳交 7",
                     "參獎申請書（102-08）單位數": "已接受 0、退回待修正 0、未繳交 10",
                     "年度自行檢核（102-12）單位數": "已接受 3、退回待修正 0、未繳交 7"}


def award(fid: int, name: str, unit, *, state="accepted", when=dt.datetime(2013, 8, 20, 10, 0), sha="a", problems=()):
    return FileReport(fid, name, sha256=sha * 64, size=2048, mtime=when.timestamp(), state=state, unit=unit.name,
                      unit_code=unit.code, form="award", period="102-08", problems=tuple(problems))


def test_status_shows_the_year(december, registry):
    """The year's four checkpoints, award applications (as the documents reader gives them) included."""
    mnt, sec = registry.by_code("MNT"), registry.by_code("SEC")
    refused = make_problem("file-encrypted", file="秘書室_參獎申請書.docx")
    awards = [award(900, "養工處_參獎申請書.pdf", mnt), award(901, "秘書室_參獎申請書.docx", sec, state="rejected", sha="b",
                                                      problems=[refused])]
    result = replace(december, year_files=[*december.year, *awards])
    table = status_table(result).to_dict()
    assert table["year"] == 102 and table["periods"] == ["102", "102-06", "102-08", "102-12"]
    rows = {u["code"]: u for u in table["units"]}
    assert list(rows) == [u.code for u in registry.units]
    assert rows["MNT"] == {"unit": "養護工程處", "code": "MNT", "submissions": {
        "102": {"state": "accepted", "file": "養工處_工作計畫_102.xlsx"},
        "102-06": {"state": "accepted", "file": "養工處_期中.xlsx"},
        "102-08": {"state": "accepted", "file": "養工處_參獎申請書.pdf"},
        "102-12": {"state": "accepted", "file": "養工處_年度.xlsx"}}}
    assert rows["SEC"]["submissions"]["102-08"] == {"state": "rejected", "file": "秘書室_參獎申請書.docx"}
    assert rows["SEC"]["submissions"]["102-12"] == {"state": "accepted", "file": "秘書室_年度(更正).xlsx"}
    assert rows["NCE"]["submissions"]["102"] == {"state": "rejected", "file": "新工處_工作計畫_102.xlsx"}
    assert rows["NCE"]["submissions"]["102-12"] == {"state": "missing", "file": None}
    assert rows["PER"]["submissions"] == {p: {"state": "missing", "file": None} for p in table["periods"]}


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def test_status_command_for_the_year(inbox):
    run = CliRunner().invoke(cli, ["status", "--config", str(CONFIG), "--inbox", str(inbox), "--json"])
    assert run.exit_code == 0
    data = json.loads(run.output)
    assert set(data) == {"year", "periods", "units"} and data["periods"] == ["102", "102-06", "102-08", "102-12"]
    nce = next(u for u in data["units"] if u["code"] == "NCE")
    assert nce["submissions"]["102-06"] == {"state": "accepted", "file": "新工處_期中.xlsx"}
    assert nce["submissions"]["102-08"] == {"state": "missing", "file": None}
    text = CliRunner().invoke(cli, ["status", "--config", str(CONFIG), "--inbox", str(inbox)]).output
    lines = text.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("單位"))
    table = lines[header:header + 11]
    assert table[0].split() == ["單位", "工作計畫", "期中自行檢核", "參獎申請書", "年度自行檢核"]
    assert table[3].split() == ["會計室", "－", "未繳交", "－", "未繳交", "－", "未繳交", "－", "未繳交"]
    assert [line.split()[0] for line in table[1:]] == ["秘書室", "人事室", "會計室", "政風室", "工程企劃科", "工程管理科",
                                                       "新建工程處", "養護工程處", "下水道工程處", "建築管理處"]
    row = lines[header + 7]
    assert row.split() == ["新建工程處", "✘", "退回待修正", "✔", "已接受", "－", "未繳交", "－", "未繳交"]
    # every column starts at the same terminal column on every line (CJK characters are two columns wide)
    starts = None
    for line in table:
        marks, at = [], 0
        for cell in _cells(line):
            at = line.index(cell, at)
            marks.append(display_width(line[:at]))
            at += len(cell)
        starts = starts or marks
        assert marks == starts, line
    assert "期中自行檢核（102-06）：已接受 3、退回待修正 0、未繳交 7" in text
    assert "年度自行檢核（102-12）：已接受 3、退回待修正 0、未繳交 7" in text
    strict = CliRunner().invoke(cli, ["status", "--config", str(CONFIG), "--inbox", str(inbox), "--strict"])
    assert strict.exit_code == 1                # units are missing at checkpoints already started
    # the work plans' period alone: work plans are judged, the self-checks of the year are not 退回
    plans = json.loads(CliRunner().invoke(cli, ["status", "--config", str(CONFIG), "--inbox", str(inbox), "--period", "102",
                                                "--json"]).output)
    assert plans["periods"] == ["102"]
    assert {u["code"]: u["submissions"]["102"] for u in plans["units"] if u["code"] in ("SEC", "MNT", "NCE", "BLD")} == {
        "SEC": {"state": "accepted", "file": "秘書室_工作計畫_102.xlsx"},
        "MNT": {"state": "accepted", "file": "養工處_工作計畫_102.xlsx"},
        "NCE": {"state": "rejected", "file": "新工處_工作計畫_102.xlsx"},
        "BLD": {"state": "missing", "file": None}}


def test_december_without_june_files_compares_nothing(tmp_path, plan, registry):
    """A December inbox without June self-checks: no comparison in the JSON, no 期中與年度比較 sheet."""
    inbox = tmp_path / "inbox"
    builders.selfcheck(inbox, plan, registry, unit="MNT", name="養工處_年度.xlsx", period="102-12", report_date="102/12/20")
    run = CliRunner().invoke(cli, ["merge", "--config", str(CONFIG), "--inbox", str(inbox), "--out", str(tmp_path / "out"),
                                   "--no-feedback", "--json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.output)
    assert data["period"] == "102-12" and data["comparison"] is None
    assert "期中與年度比較" not in load_workbook(data["output"], read_only=True).sheetnames


def _cells(line: str) -> list[str]:
    """The cells of a status line: runs separated by two spaces or more."""
    import re

    return [cell for cell in re.split(r" {2,}", line.strip()) if cell]


def test_merge_text_names_other_periods_and_the_comparison(inbox, tmp_path):
    run = CliRunner().invoke(cli, ["merge", "--config", str(CONFIG), "--inbox", str(inbox), "--out", str(tmp_path),
                                   "--period", "102-12", "--no-feedback"])
    assert "其他期別的檔案 4 個：列於收件紀錄，不列入本期彙整。" in run.output
    assert ("期中（102-06）與年度（102-12）比較：全局 98.5% (130/132) → 98.7% (147/149)，▲ 0.2 個百分點；"
            "退步 2 項、未啟動 1 項，詳見彙整活頁簿的「期中與年度比較」工作表。") in run.output
    assert "✘ 養工處_期中" not in run.output and "✘ 新工處_工作計畫_102.xlsx" in run.output


def test_feedback_only_for_this_periods_files(inbox, tmp_path):
    run = CliRunner().invoke(cli, ["merge", "--config", str(CONFIG), "--inbox", str(inbox), "--out", str(tmp_path),
                                   "--period", "102-06"])
    written = sorted(p.name for p in (tmp_path / "feedback").iterdir())
    assert written == ["新工處_工作計畫_102_問題標註.xlsx", "新工處_工作計畫_102_回覆.txt"], run.output


# ---------------------------------------------------------------------------------------
# States decided on reports built by hand: award applications, resends


def _decide(files, contents=None):
    own = states.decide(files, lambda ids: {i: (contents or {}).get(i, {}) for i in ids})
    return {f.file: own[f.id] for f in files}


def test_award_applications_belong_to_august(registry):
    mnt = registry.by_code("MNT")
    first = award(1, "養工處_參獎申請書.pdf", mnt, when=dt.datetime(2013, 8, 1))
    later = award(2, "養工處_參獎申請書(修正).docx", mnt, sha="c", when=dt.datetime(2013, 8, 5))
    copy = replace(award(3, "養工處_參獎申請書 (1).pdf", mnt, when=dt.datetime(2013, 8, 2)))
    decided = _decide([first, later, copy])
    assert {name: d.state for name, d in decided.items()} == {
        "養工處_參獎申請書.pdf": "superseded", "養工處_參獎申請書(修正).docx": "accepted", "養工處_參獎申請書 (1).pdf": "duplicate"}
    assert decided["養工處_參獎申請書.pdf"].problems == ()      # a document has no 填報日期 to compare
    own = states.decide([first, later], lambda ids: {})
    for period in (JUNE, DECEMBER, Period(102, None)):
        assert {d.state for d in states.for_merge([first, later], own, period).values()} == {"other-period"}
    assert [d.state for d in states.for_merge([first, later], own, Period(102, 8)).values()] == ["superseded", "accepted"]


def test_same_content_is_a_duplicate_whatever_the_bytes(registry):
    mnt = registry.by_code("MNT")
    made = dict(unit=mnt.name, unit_code="MNT", form="selfcheck", period="102-12", state="accepted", size=100,
                report_date=dt.date(2013, 12, 20))
    one = FileReport(1, "養工處.xlsx", sha256="1" * 64, mtime=1.0, **made)
    again = FileReport(2, "養工處 (另存).xlsx", sha256="2" * 64, mtime=2.0, **made)
    other = FileReport(3, "養工處(更正).xlsx", sha256="3" * 64, mtime=3.0,
                       provenance=Provenance(received=dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)), **made)
    cells = {("1-1-1", 1, "status_raw"): "已完成", ("1-1-1", 1, "narrative"): "已辦理。"}
    changed = {**cells, ("1-1-1", 1, "narrative"): "已辦理並公告。", ("1-1-2", 1, "status_raw"): "辦理中"}
    decided = _decide([one, again, other], {1: cells, 2: dict(cells), 3: changed})
    assert decided["養工處 (另存).xlsx"].state == "duplicate" and decided["養工處 (另存).xlsx"].duplicate_of == "養工處.xlsx"
    # the mail of 養工處(更正) is dated before the file time of 養工處: received first, it loses
    assert decided["養工處(更正).xlsx"].state == "superseded" and decided["養工處(更正).xlsx"].superseded_by == "養工處.xlsx"
    assert "內容卻有 2 個儲存格不同" in decided["養工處(更正).xlsx"].problems[0].message
    assert decided["養工處.xlsx"].state == "accepted" and decided["養工處.xlsx"].problems[0].code == "same-report-date"


def test_a_later_report_date_wins_without_warning(registry):
    made = dict(unit="養護工程處", unit_code="MNT", form="selfcheck", period="102-12", state="accepted", size=100)
    old = FileReport(1, "a.xlsx", sha256="1" * 64, mtime=9.0, report_date=dt.date(2013, 12, 20), **made)
    new = FileReport(2, "b.xlsx", sha256="2" * 64, mtime=1.0, report_date=dt.date(2013, 12, 21), **made)
    decided = _decide([old, new], {1: {("x", 1, "y"): "1"}, 2: {("x", 1, "y"): "2"}})
    assert (decided["a.xlsx"].state, decided["b.xlsx"].state) == ("superseded", "accepted")
    assert decided["a.xlsx"].problems == decided["b.xlsx"].problems == ()


def test_a_period_that_is_no_checkpoint_is_named(tmp_path, plan, registry):
    folder = tmp_path / "in"
    builders.selfcheck(folder, plan, registry, unit="ETH", name="政風室_8月.xlsx", edit=lambda ws: ws.__setitem__(CELL["period"], "102年8月"))
    builders.selfcheck(folder, plan, registry, unit="ETH", name="政風室_國字.xlsx", edit=lambda ws: ws.__setitem__(CELL["period"], "一○二年六月"))
    result = merge(folder, plan, registry, JUNE, jobs=1)
    by_name = {f.file: f for f in result.files}
    august = by_name["政風室_8月.xlsx"]
    assert august.state == "rejected" and [p.code for p in august.errors] == ["period-not-checkpoint"]
    assert august.errors[0].message == ("「填報期別」的「102年8月」不是自行檢核的期別。自行檢核只有 102-06（6 月期中自行檢核）與 "
                                         "102-12（12 月年度執行成果）兩期，請改填其中一期。")
    assert august.errors[0].cell == CELL["period"]
    words = by_name["政風室_國字.xlsx"]
    assert words.state == "rejected" and [p.code for p in words.errors] == ["period-invalid"]
    assert "「一○二年六月」無法辨識" in words.errors[0].message


def test_status_reads_states_without_merging(inbox, plan, registry, june, december):
    """``status`` takes the inbox in (states only, no rows combined, no rates): the same table as from a merge."""
    from qos_xl.pipeline.merge import take_in

    intake = take_in(inbox, plan, registry, jobs=1, states_only=True)
    assert status_table(intake).to_dict() == status_table(december).to_dict() == status_table(june).to_dict()
    assert status_table(intake, JUNE).to_dict() == status_table(june, JUNE).to_dict()
    # only the rules that can reject a file ran: the same states and errors, no warning looked for
    full = {f.file: f for f in take_in(inbox, plan, registry, jobs=1).year}
    fast = {f.file: f for f in intake.year}
    assert {n: (f.state, f.errors) for n, f in fast.items()} == {n: (f.state, f.errors) for n, f in full.items()}


def test_status_looks_for_no_warning_and_gives_the_same_states(tmp_path, plan, registry):
    """A file with only warnings is accepted either way; status does not spend time finding the warnings."""
    from qos_xl.pipeline.merge import take_in

    inbox = tmp_path / "inbox"
    builders.selfcheck(inbox, plan, registry, unit="MNT", name="養工處.xlsx",
                       edit=lambda ws: ws.__setitem__(CELL["filler"], None))            # filler-missing: a warning
    builders.selfcheck(inbox, plan, registry, unit="SEC", name="秘書室.xlsx",
                       edit=lambda ws: ws.__setitem__(CELL["report_date"], None))       # report-date-missing: an error
    full = {f.file: f for f in take_in(inbox, plan, registry, jobs=1).year}
    fast = {f.file: f for f in take_in(inbox, plan, registry, jobs=1, states_only=True).year}
    assert [p.code for p in full["養工處.xlsx"].problems] == ["filler-missing"]
    assert fast["養工處.xlsx"].problems == () and fast["養工處.xlsx"].state == full["養工處.xlsx"].state == "accepted"
    assert [p.code for p in fast["秘書室.xlsx"].errors] == [p.code for p in full["秘書室.xlsx"].errors] == ["report-date-missing"]
    assert fast["秘書室.xlsx"].state == full["秘書室.xlsx"].state == "rejected"


def test_a_change_is_the_difference_of_the_rates_as_shown():
    """79.0% (83/105) to 91.2% (1823/2000, exactly 91.15%): 12.2 points as the sheet shows both, not the 12.1 of the
    exact ratios; no rate on a side, no change."""
    from qos_xl.pipeline.compare import change

    before, after = Rate(83, 105), Rate(1823, 2000)
    assert (before.percent, after.percent) == ("79.0%", "91.2%")
    assert change(before, after) == Decimal("12.2") and change(after, before) == Decimal("-12.2")
    assert change(before, Rate(0, 0)) is None and change(None, after) is None
