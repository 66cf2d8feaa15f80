"""Merging an inbox: file states, completion rates by hand, the CLI's output and the demo inbox."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from qos_xl.cli import cli
from qos_xl.core import files
from qos_xl.pipeline import load
from qos_xl.pipeline.merge import merge
from qos_xl.pipeline.rates import Rate
from qos_xl.core.values import Period
from qos_xl.pipeline.validate import validate_paths

import builders
import office
from builders import CELL, FIRST_ROW, step_row
from conftest import CONFIG, DEMO_INBOX


def set_statuses(plan, statuses: dict[str, str]):
    """An edit that gives the listed steps a status (with what that status needs)."""
    def edit(ws):
        for code, status in statuses.items():
            row = step_row(plan, code)
            ws[f"F{row}"] = status
            ws[f"G{row}"] = "說明" if status != "未辦理" else None
            ws[f"H{row}"] = "102/5/1" if status == "已完成" else None
    return edit


@pytest.fixture
def small_inbox(tmp_path, plan, registry):
    """MNT: area 1 has 2 不適用 and 3 辦理中; SEC: area 2 all 不適用 (a zero denominator)."""
    inbox = tmp_path / "inbox"
    area1 = [s.code for s in plan.steps if s.area == 1 and s.due_at(6)]
    mnt = {**{c: "不適用" for c in area1[:2]}, **{c: "辦理中" for c in area1[2:5]}}
    builders.selfcheck(inbox, plan, registry, unit="MNT", edit=set_statuses(plan, mnt))
    area2 = {s.code: "不適用" for s in plan.steps if s.area == 2}
    builders.selfcheck(inbox, plan, registry, unit="SEC", edit=set_statuses(plan, area2))
    return inbox


def test_rates_by_hand(small_inbox, plan, registry):
    result = merge(small_inbox, plan, registry, Period(102, 6), jobs=1)
    assert {f.state for f in result.files} == {"accepted"}
    assert len([s for s in plan.steps if s.area == 1 and s.due_at(6)]) == 14
    assert result.unit_rates["MNT"][1] == Rate(9, 12)
    assert result.unit_rates["SEC"][1] == Rate(14, 14)
    assert result.unit_rates["SEC"][2] == Rate(0, 0) and result.unit_rates["SEC"][2].label == "—"
    assert result.area_rates[1] == Rate(23, 26)          # sums, not the mean of 75% and 100%
    assert result.area_rates[1].label == "88.5% (23/26)"
    assert result.area_rates[2] == Rate(8, 8)
    due_june = len(plan.due_codes(6))
    assert result.overall == Rate(due_june * 2 - 2 - 3 - 8, due_june * 2 - 2 - 8)
    assert [u.name for u in result.missing["selfcheck"]] == [u.name for u in registry.units if u.code not in ("MNT", "SEC")]
    unfinished = result.unfinished
    assert sorted(unfinished["code"]) == sorted([s.code for s in plan.steps if s.area == 1 and s.due_at(6)][2:5])


def test_json_matches_product_shape(small_inbox, tmp_path):
    result = CliRunner().invoke(cli, ["merge", "--config", str(CONFIG), "--inbox", str(small_inbox), "--out",
                                      str(tmp_path / "out"), "--period", "102-06", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["output"].endswith("102年度提升服務品質彙整_102-06.xlsx")
    assert data["period"] == "102-06"
    assert {f["state"] for f in data["files"]} == {"accepted"}
    area1 = data["completion"]["areas"][0]
    assert area1 == {"area": 1, "name": "提升服務品質，深化服務績效", "completed": 23, "applicable": 26, "rate": 0.8846}
    sec = next(u for u in data["completion"]["units"] if u["unit"] == "秘書室")
    assert sec["areas"][1] == {"area": 2, "completed": 0, "applicable": 0, "rate": None}
    assert "下水道工程處" in data["missing"]
    assert data["unfinished"] == 3          # MNT's three due steps of area 1 not done (test_rates_by_hand), counted
    #                                         before the rows were let go to spare the feedback's memory (written)


def test_a_written_result_is_a_new_one_without_the_rows(small_inbox, plan, registry, tmp_path):
    """Once the workbook is written, ``merge`` goes on with a result that no longer holds the combined rows
    (hundreds of MB at city scale): the merge's own result is not changed, and nothing keeps its rows alive."""
    import gc
    import weakref

    result = merge(small_inbox, plan, registry, Period(102, 6), jobs=1)
    before = result.to_dict()
    rows = weakref.ref(result.selfcheck)
    after = result.written(tmp_path / "out.xlsx")
    assert len(result.selfcheck) > 0 and result.output is None and result.to_dict() == before   # not changed
    assert after.selfcheck.empty and after.workplan.empty
    assert after.to_dict() == {**before, "output": str(tmp_path / "out.xlsx")}       # counts and rates the same
    assert after.written(None).to_dict()["unfinished"] == before["unfinished"] == 3
    was_enabled = gc.isenabled()
    gc.disable()                        # as in the qos-xl process: freed by reference counts alone
    try:
        del result
        assert rows() is None
    finally:
        if was_enabled:
            gc.enable()


def test_strict_fails_when_units_are_missing(small_inbox, tmp_path):
    args = ["merge", "--config", str(CONFIG), "--inbox", str(small_inbox), "--out", str(tmp_path / "o"), "--period", "102-06"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    assert CliRunner().invoke(cli, [*args, "--strict"]).exit_code == 1


def test_every_file_state(tmp_path, plan, registry):
    inbox = tmp_path / "inbox"
    old = builders.selfcheck(inbox, plan, registry, unit="NCE", name="新工處_0620.xlsx", report_date="102/6/20")
    new = builders.selfcheck(inbox, plan, registry, unit="NCE", name="sub/新工處_0628(修正版).xlsx", report_date="102/6/28")
    shutil.copy(new, inbox / "新工處_0628(修正版) (1).xlsx")
    os.utime(inbox / "新工處_0628(修正版) (1).xlsx", (new.stat().st_mtime + 60,) * 2)
    builders.selfcheck(inbox, plan, registry, unit="SEW", edit=lambda ws: ws.__setitem__(f"F{FIRST_ROW + 4}", "做完了"))
    first = builders.selfcheck(inbox, plan, registry, unit="BLD", name="建管處_A.xlsx", report_date="102/6/27")
    second = builders.selfcheck(inbox, plan, registry, unit="BLD", name="建管處_B.xlsx", report_date="102/6/27",
                                edit=lambda ws: ws.__setitem__(f"G{FIRST_ROW}", "建築管理處於102年6月另行修訂服務計畫並公告。"))
    os.utime(first, (1_372_000_000,) * 2)
    os.utime(second, (1_372_000_100,) * 2)      # received later: it wins
    builders.selfcheck(inbox, plan, registry, unit="PER", period="102-12", report_date="102/12/20",
                       edit=lambda ws: ws.__setitem__(f"F{FIRST_ROW + 1}", "做完了"))
    builders.selfcheck(inbox, plan, registry, unit="ACC", name="會計室_去年.xlsx", edit=lambda ws: ws.__setitem__(CELL["period"], "101-06"))
    (inbox / "~$新工處_0620.xlsx").write_bytes(b"lock")
    (inbox / "Thumbs.db").write_bytes(b"\0" * 10)
    before = {p: p.read_bytes() for p in inbox.rglob("*") if p.is_file()}
    result = merge(inbox, plan, registry, Period(102, 6), jobs=1)
    states = {f.file: f.state for f in result.files}
    assert states == {
        "新工處_0620.xlsx": "superseded",
        "sub/新工處_0628(修正版).xlsx": "accepted",
        "新工處_0628(修正版) (1).xlsx": "duplicate",
        "下水道處_自行檢核表_102-06.xlsx": "rejected",
        "建管處_A.xlsx": "superseded",
        "建管處_B.xlsx": "accepted",
        "人事室_自行檢核表_102-12.xlsx": "other-period",
        "會計室_去年.xlsx": "rejected",
        "~$新工處_0620.xlsx": "ignored",
        "Thumbs.db": "ignored",
    }
    by_name = {f.file: f for f in result.files}
    assert by_name["新工處_0620.xlsx"].superseded_by == "sub/新工處_0628(修正版).xlsx"
    assert by_name["新工處_0628(修正版) (1).xlsx"].duplicate_of == "sub/新工處_0628(修正版).xlsx"
    # the same 填報日期 twice: the later received wins, and both files say so, naming the other and the cells that differ
    assert by_name["建管處_A.xlsx"].superseded_by == "建管處_B.xlsx"
    for name, other in (("建管處_A.xlsx", "建管處_B.xlsx"), ("建管處_B.xlsx", "建管處_A.xlsx")):
        [warning] = by_name[name].problems
        assert (warning.code, warning.severity) == ("same-report-date", "warning")
        assert f"「{other}」與本檔案的填報日期同為 102/06/27，內容卻有 1 個儲存格不同" in warning.message
        assert "已以較晚收到的「建管處_B.xlsx」為準" in warning.message
    # another period of the year: listed, no problem; another plan year: a problem that says what was found
    assert by_name["人事室_自行檢核表_102-12.xlsx"].problems == () and by_name["人事室_自行檢核表_102-12.xlsx"].period == "102-12"
    assert [p.code for p in by_name["會計室_去年.xlsx"].errors] == ["plan-year-mismatch"]
    assert "這份檔案屬於 101 年度" in by_name["會計室_去年.xlsx"].errors[0].message
    assert old.exists() and before == {p: p.read_bytes() for p in inbox.rglob("*") if p.is_file()}
    assert set(result.unit_rates) == {"NCE", "BLD"}
    assert [u.code for u in result.returned["selfcheck"]] == ["ACC", "SEW"]
    assert "PER" in [u.code for u in result.missing["selfcheck"]]


def test_default_period_is_the_latest_found(tmp_path, plan, registry):
    inbox = tmp_path / "inbox"
    builders.selfcheck(inbox, plan, registry, unit="MNT", period="102-06")
    builders.selfcheck(inbox, plan, registry, unit="SEC", period="102-12", report_date="102/12/20")
    result = merge(inbox, plan, registry, jobs=1)
    assert str(result.period) == "102-12"
    assert {f.unit_code: f.state for f in result.files} == {"MNT": "other-period", "SEC": "accepted"}
    assert "102-12" in result.notes[0]


def test_work_plans_join_the_year(tmp_path, plan, registry):
    inbox = tmp_path / "inbox"
    builders.selfcheck(inbox, plan, registry, unit="MNT")
    builders.workplan(inbox, plan, registry, unit="MNT")
    result = merge(inbox, plan, registry, Period(102, 6), jobs=1)
    assert sorted((f.form, f.state) for f in result.files) == [("selfcheck", "accepted"), ("workplan", "accepted")]
    assert len(result.workplan) == 5 and "MNT" not in [u.code for u in result.missing["workplan"]]


def test_status_command_narrowed_to_one_checkpoint(small_inbox):
    result = CliRunner().invoke(cli, ["status", "--config", str(CONFIG), "--inbox", str(small_inbox), "--period", "102-06", "--json"])
    data = json.loads(result.output)
    assert data["year"] == 102 and data["periods"] == ["102-06"]
    mnt = next(u for u in data["units"] if u["code"] == "MNT")
    assert mnt["submissions"] == {"102-06": {"state": "accepted", "file": "養工處_自行檢核表_102-06.xlsx"}}
    text = CliRunner().invoke(cli, ["status", "--config", str(CONFIG), "--inbox", str(small_inbox), "--period", "102-06"])
    assert "期別 102-06（期中自行檢核）各單位繳交狀況" in text.output and text.exit_code == 0
    assert "期中自行檢核（102-06）：已接受 2、退回待修正 0、未繳交 8" in text.output
    strict = CliRunner().invoke(cli, ["status", "--config", str(CONFIG), "--inbox", str(small_inbox), "--strict"])
    assert strict.exit_code == 1


def test_missing_inbox_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(cli, ["merge", "--config", str(CONFIG), "--inbox", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "找不到收件匣資料夾" in result.output


def test_demo_inbox_is_the_year_merged_for_december(tmp_path):
    """The shipped demo: the whole year in one inbox, merged for December as `make demo` does, every file
    accounted for, June compared with December, and the workbook's numbers read right in LibreOffice."""
    inbox = DEMO_INBOX
    before = {p.name: p.read_bytes() for p in inbox.iterdir()}
    result = CliRunner().invoke(cli, ["merge", "--config", str(CONFIG), "--inbox", str(inbox), "--out", str(tmp_path), "--json"])
    assert result.exit_code == 1  # 下水道工程處's December file has an error on purpose
    data = json.loads(result.output)
    assert data["period"] == "102-12"                          # the latest period in the inbox
    by_name = {f["file"]: f for f in data["files"]}
    assert len(by_name) == len(before) - 1                     # all but the ingest ledger
    june = [f for f in data["files"] if f["period"] == "102-06"]
    assert len(june) == 11 and {(f["state"], len(f["problems"])) for f in june} == {("other-period", 0)}
    assert {f["state"] for f in data["files"] if f["form"] == "workplan"} == {"accepted"}
    assert by_name["政風室_工作計畫.docx"]["form"] == "workplan"           # a work plan written in Word
    # August's award applications belong to 102-08: listed, no problem, not counted in December
    awards = {f["file"]: (f["form"], f["unit"], f["period"], f["state"], f["problems"]) for f in data["files"]
              if f["form"] == "award"}
    assert awards == {"養工處_政府服務品質獎參獎申請書.pdf": ("award", "養護工程處", "102-08", "other-period", []),
                      "新工處_參獎申請書.docx": ("award", "新建工程處", "102-08", "other-period", [])}
    assert data["missing"] == ["工程管理科"] and data["returned"] == ["下水道工程處"]
    assert by_name["下水道處_年度自行檢核表.xlsx"]["state"] == "rejected"
    # 會計室 re-saved its file and sent it again: other bytes, the same cells
    resent = by_name["會計室_自行檢核表_年度(再寄).xlsx"]
    assert resent["state"] == "duplicate" and resent["duplicate_of"] == "會計室_自行檢核表_年度.xlsx"
    assert resent["sha256"] != by_name["會計室_自行檢核表_年度.xlsx"]["sha256"]
    # 新建工程處 corrected one cell without changing 填報日期: the later e-mail wins, both files say so
    old, new = by_name["新工處_年度執行成果_1021220.xlsx"], by_name["新工處_年度執行成果_1021220(更正).xlsx"]
    assert (old["state"], new["state"]) == ("superseded", "accepted")
    assert [p["code"] for p in old["problems"]] == [p["code"] for p in new["problems"]] == ["same-report-date"]
    assert "內容卻有 1 個儲存格不同" in old["problems"][0]["message"]
    assert data["comparison"]["steps"] == [
        {"unit": "養護工程處", "code": "MNT", "step": "2-1-1", "from": "已完成", "to": "辦理中", "kind": "regressed"},
        {"unit": "工程企劃科", "code": "PLN", "step": "3-2-1", "from": "未辦理", "to": "未辦理", "kind": "not-started"}]
    assert [u["code"] for u in data["comparison"]["units"]] == ["SEC", "PER", "ACC", "ETH", "PLN", "NCE", "MNT", "BLD"]
    assert before == {p.name: p.read_bytes() for p in inbox.iterdir()}
    folder = office.convert(data["output"], office.CSV_ALL_SHEETS, tmp_path / "csv")
    sheets = {p.name: list(csv.reader(p.open(encoding="utf-8"))) for p in folder.glob("*.csv")}
    summary = next(rows for name, rows in sheets.items() if "摘要" in name)
    log = next(rows for name, rows in sheets.items() if "收件紀錄" in name)
    other = [row for row in log if len(row) > 8 and row[6] == "其他期別"]
    assert len(other) == 13 and all(row[7:9] == ["", ""] for row in other)   # not checked in this merge: no counts
    moved = next(row for row in summary if row and row[0] == "與期中（102-06）比較")     # the year-end headline, page 1
    assert moved[1] == "全局 78.1% (257/329) → 92.1% (325/353)，▲ 14.0 個百分點；退步 1 項、未啟動 1 項（詳見「期中與年度比較」）"
    received = next(row for row in summary if row and row[0] == "收件檔案")   # in the contract's order of states
    assert received[1] == "共 31 個：接受 15（自行檢核表 8、工作計畫 7）、已被取代 1、重複 1、其他期別 13、退回 1（詳見「收件紀錄」）"
    shown = {row[0]: row for row in summary if row and row[0][:2] in {"一、", "二、", "三、", "四、", "五、"}}
    for area in data["completion"]["areas"]:
        row = next(r for label, r in shown.items() if area["name"] in label)
        rate = Rate(area["completed"], area["applicable"])
        assert row[1:4] == [rate.percent, str(rate.completed), str(rate.applicable)], row   # the rate beside its counts
        assert abs(float(rate.percent[:-1]) - area["rate"] * 100) < 0.051
    workbook = load_workbook(data["output"], read_only=True)
    assert workbook.sheetnames[:5] == ["摘要", "各單位完成率", "期中與年度比較", "未完成項目", "未繳交"]
    text = CliRunner().invoke(cli, ["merge", "--config", str(CONFIG), "--inbox", str(inbox), "--out", str(tmp_path),
                                    "--period", "102-12", "--no-feedback"]).output
    assert "退步 1 項、未啟動 1 項，詳見彙整活頁簿的「期中與年度比較」工作表。" in text
    assert f"彙整活頁簿：{data['output']}" in text
    lines = text.splitlines()
    assert "未繳交自行檢核表：工程管理科" in lines                # sent nothing
    assert "自行檢核表退回待修正：下水道工程處" in lines          # sent, and its only file was rejected
    year = json.loads(CliRunner().invoke(cli, ["status", "--config", str(CONFIG), "--inbox", str(inbox), "--json"]).output)
    counts = {period: Counter(u["submissions"][period]["state"] for u in year["units"]) for period in year["periods"]}
    assert counts == {"102": {"accepted": 7, "missing": 3}, "102-06": {"accepted": 8, "rejected": 1, "missing": 1},
                      "102-08": {"accepted": 2, "missing": 8}, "102-12": {"accepted": 8, "rejected": 1, "missing": 1}}
    mnt = next(u for u in year["units"] if u["code"] == "MNT")["submissions"]
    assert mnt["102-08"] == {"state": "accepted", "file": "養工處_政府服務品質獎參獎申請書.pdf"}


def test_parallel_path_gives_the_same_result_as_one_file_at_a_time(tmp_path, plan, registry, pools):
    inbox = tmp_path / "inbox"
    for i, unit in enumerate(registry.units):
        builders.selfcheck(inbox, plan, registry, unit=unit.code,
                           edit=set_statuses(plan, {"1-1-1": ["辦理中", "不適用", "已完成"][i % 3], "2-2-2": "做完了" if i == 4 else "已完成"}))
        if i % 3:
            builders.workplan(inbox, plan, registry, unit=unit.code)
    count = len(list(inbox.iterdir()))
    assert count >= load.PARALLEL_THRESHOLD  # enough to take the process-pool path
    fast = merge(inbox, plan, registry, Period(102, 6), jobs=2).to_dict()
    assert [(pool.total, pool.yielded) for pool in pools] == [(count, count)]    # worker processes read every file
    slow = merge(inbox, plan, registry, Period(102, 6), jobs=1).to_dict()
    assert len(pools) == 1                                                        # and here none did
    for data in (fast, slow):
        data.pop("made_at")
    assert fast == slow
    assert [f["state"] for f in fast["files"]].count("rejected") == 1


def test_bulk_validation_equals_validating_each_file_alone(tmp_path, plan, registry):
    """One pandera validation over all files finds exactly what one validation per file finds."""
    inbox = tmp_path / "inbox"
    edits = [{"1-1-1": "做完了"}, {"2-2-2": "辦理中"}, {"1-2-1": "不適用"}, {"3-1-1": "完成"}]
    for i, unit in enumerate(registry.units):
        builders.selfcheck(inbox, plan, registry, unit=unit.code, edit=set_statuses(plan, edits[i % len(edits)]))
        if i % 2:
            builders.workplan(inbox, plan, registry, unit=unit.code)
    together = validate_paths([inbox], plan, registry, jobs=2).to_dict()["files"]
    alone = [validate_paths([inbox / f["file"]], plan, registry, jobs=1).to_dict()["files"][0] for f in together]
    assert together == alone
    assert sum(1 for f in together if f["problems"]) >= 4


# The merge run as a clerk runs it, telling the test (one line on stdout) each time it finds its folder locked.
_SAYS_WHEN_LOCKED_OUT = """
from qos_xl.core import platform

real_try_lock = platform.try_lock

def try_lock(fd):
    got = real_try_lock(fd)
    if not got:
        print("locked out", flush=True)
    return got

platform.try_lock = try_lock
from qos_xl.cli import main

main()
"""


def test_a_merge_waits_for_the_run_writing_its_folder_then_writes(small_inbox, tmp_path):
    """A second run into a folder another run is writing waits for it (up to files.LOCK_WAIT_SECONDS) and then
    writes its workbook: the clerk who started it a moment too early gets a workbook, not an error.

    (A run that waits in vain says so and writes nothing: test_faults.py, a merge into a folder another run is writing.)
    """
    out = tmp_path / "out"
    command = [sys.executable, "-c", _SAYS_WHEN_LOCKED_OUT, "merge", "--config", str(CONFIG), "--inbox", str(small_inbox),
               "--out", str(out), "--period", "102-06", "--no-feedback", "--json"]
    with files.folder_lock(out):                   # the other run, here: this test
        run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            first = run.stdout.readline()          # blocks until the merge finds the folder locked (or ends)
            assert first == "locked out\n", (first, run.stdout.read(), run.stderr.read())
            time.sleep(0.5)
            assert run.poll() is None              # still waiting, not given up
            assert sorted(p.name for p in out.iterdir()) == [files.LOCK_NAME]    # and nothing written meanwhile
        except BaseException:
            run.kill()
            run.wait()
            raise
    said, errors = run.communicate(timeout=300)
    assert run.returncode == 0, errors
    data = json.loads(said[said.index("{"):])      # after the "locked out" lines, the merge's own JSON
    assert data["output"] == str(out / "102年度提升服務品質彙整_102-06.xlsx")
    assert sorted(p.name for p in out.iterdir()) == ["102年度提升服務品質彙整_102-06.xlsx"]    # the lock gone with its run
    workbook = load_workbook(out / "102年度提升服務品質彙整_102-06.xlsx", read_only=True)
    assert "摘要" in workbook.sheetnames
