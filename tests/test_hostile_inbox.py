"""Hostile and broken input: every bad file rejected in plain words, nothing lost, nothing executed.

The whole corpus sits in one inbox beside a valid file and goes through ``qos-xl merge``
in a subprocess, as the secretariat runs it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils.datetime import CALENDAR_MAC_1904

import builders
import hostile
from builders import CELL, FIRST_ROW, step_row
from conftest import CONFIG, REPO

VALID = "養工處_正確檔案.xlsx"


def _form(name, **kwargs):
    """A filled self-check (SEC unless told) with ``edit`` applied."""
    def build(folder, plan, registry):
        kwargs.setdefault("unit", "SEC")
        return builders.selfcheck(folder, plan, registry, name=name, **kwargs)
    return build


def _raw(builder, name):
    """A file from tests/hostile.py, renamed into the inbox."""
    def build(folder, plan, registry):
        made = builder(folder)
        return made.rename(Path(folder) / name)
    return build


def _bytes(name, data):
    def build(folder, plan, registry):
        path = Path(folder) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path
    return build


def _with_macros(folder, plan, registry):
    path = builders.selfcheck(folder, plan, registry, unit="PER", name="人事室_含巨集.xlsm")
    members = hostile.read_members(path)
    members["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"Sub AutoOpen(): Shell \"calc\": End Sub" * 4
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml")
    return hostile.write_members(path, members)


def _epoch_1904(folder, plan, registry):
    import datetime as dt

    def edit(ws):
        ws.parent.epoch = CALENDAR_MAC_1904
        ws[CELL["report_date"]] = dt.datetime(2013, 6, 28)
        ws[f"H{step_row(plan, '1-1-1')}"] = dt.datetime(2013, 4, 1)
    return builders.selfcheck(folder, plan, registry, unit="ACC", name="會計室_1904.xlsx", edit=edit)


def _hidden(ws):
    ws.row_dimensions[FIRST_ROW + 4].hidden = True
    ws.column_dimensions["I"].hidden = True
    ws[f"I{FIRST_ROW + 4}"] = "藏起來的佐證"
    secret = ws.parent.create_sheet("草稿")
    secret["A1"] = "隱藏工作表的資料"
    secret.sheet_state = "hidden"


def _text_edge_cases(ws):
    ws[f"G{FIRST_ROW}"] = "長" * 32_767
    ws[f"G{FIRST_ROW + 1}"] = "含控制字元CTRL結束"  # becomes control characters below: openpyxl refuses to write them
    ws[f"G{FIRST_ROW + 2}"] = "表情😀與罕用字𠀀𪚥"
    ws[f"G{FIRST_ROW + 3}"] = '=HYPERLINK("http://evil.example/","點我")'
    ws[f"I{FIRST_ROW + 3}"] = "@SUM(A1:A9)"
    ws[f"J{FIRST_ROW + 3}"] = "+886-7-1234567"
    ws[f"I{FIRST_ROW + 4}"] = "-1"
    ws[f"J{FIRST_ROW + 4}"] = "http://evil.example/track"
    for ref in (f"G{FIRST_ROW + 3}", f"I{FIRST_ROW + 3}", f"J{FIRST_ROW + 3}", f"I{FIRST_ROW + 4}"):
        ws[ref].data_type = "s"  # typed as text ('=...), as a unit's cell would hold it


def _text_file(folder, plan, registry):
    path = builders.selfcheck(folder, plan, registry, unit="BLD", name="建管處_特殊文字.xlsx", edit=_text_edge_cases)
    members = hostile.read_members(path)
    members = {name: data.replace(b"CTRL", b"_x0001__x0002__x001F_") for name, data in members.items()}
    return hostile.write_members(path, members)


# name -> (builder, expected state, {(code, cell)} that must be among the problems)
CASES = {
    "empty": (_bytes("空檔案.xlsx", b""), "rejected", {("file-empty", None)}),
    "random-bytes": (_raw(hostile.random_bytes, "亂碼.xlsx"), "rejected", {("file-not-spreadsheet", None)}),
    "truncated-zip": (_raw(hostile.truncated_zip, "截斷.xlsx"), "rejected", {("file-corrupt", None)}),
    "flipped-byte": (_raw(hostile.flipped_byte_deflated, "壞CRC.xlsx"), "rejected", {("file-corrupt", None)}),
    "docx-renamed": (_raw(hostile.docx_renamed, "其實是Word.xlsx"), "rejected", {("document-unrecognised", None)}),
    "html-renamed": (_raw(hostile.html_renamed, "網頁.xlsx"), "rejected", {("file-not-spreadsheet", None)}),
    "csv-renamed": (_raw(hostile.csv_renamed, "逗號.xlsx"), "rejected", {("file-not-spreadsheet", None)}),
    "encrypted": (_raw(hostile.encrypted_ooxml, "有密碼.xlsx"), "rejected", {("file-encrypted", None)}),
    "zip-bomb": (_raw(hostile.zip_bomb, "炸彈.xlsx"), "rejected", {("archive-too-large", None)}),
    "overlapping": (_raw(hostile.overlapping_entries, "重疊.xlsx"), "rejected", {("archive-invalid", None)}),
    "duplicate-entries": (_raw(hostile.duplicate_names, "重名.xlsx"), "rejected", {("archive-invalid", None)}),
    "billion-laughs": (_raw(hostile.billion_laughs, "笑.xlsx"), "rejected", {("xml-unsafe", None)}),
    "external-entity": (_raw(hostile.external_entity, "外部.xlsx"), "rejected", {("xml-unsafe", None)}),
    "huge-dimension": (_raw(hostile.huge_dimension, "大範圍.xlsx"), "rejected", {("form-unknown", None)}),
    "far-corner": (_raw(hostile.far_corner, "遠角.xlsx"), "rejected", {("form-unknown", None)}),
    "lying-dimension": (_raw(hostile.lying_dimension, "說謊.xlsx"), "rejected", {("form-unknown", None)}),
    "macros": (_with_macros, "accepted", {("macro-ignored", None)}),
    "uncached-formula": (_form("秘書室_公式.xlsx", edit=lambda ws: ws.__setitem__(f"G{FIRST_ROW}", "=CONCAT(\"已\",\"辦\")")),
                         "rejected", {("cell-formula-uncached", f"G{FIRST_ROW}")}),
    "merged-cells": (_form("秘書室_合併.xlsx", unit="ETH", edit=lambda ws: ws.merge_cells(f"G{FIRST_ROW + 12}:G{FIRST_ROW + 14}")),
                     "rejected", {("merged-cells", f"G{FIRST_ROW + 12}")}),
    "hidden-data": (_form("企劃科_隱藏.xlsx", unit="PLN", edit=_hidden), "accepted", {("hidden-data", f"A{FIRST_ROW + 4}"), ("hidden-data", None)}),
    "1904": (_epoch_1904, "accepted", set()),
    "serial-60": (_form("工管科_序號60.xlsx", unit="MGT", edit=lambda ws: ws.__setitem__(f"H{FIRST_ROW}", 60)),
                  "rejected", {("date-invalid", f"H{FIRST_ROW}")}),
    "text-edge-cases": (_text_file, "accepted", set()),
    "same-date-a": (_form("新工處_A.xlsx", unit="NCE"), "superseded", {("same-report-date", None)}),
    "same-date-b": (_form("新工處_B.xlsx", unit="NCE", edit=lambda ws: ws.__setitem__(f"G{FIRST_ROW}", "另一版本")),  # written later
                    "accepted", {("same-report-date", None)}),
    "other-period": (_form("下水道處_年度.xlsx", unit="SEW", period="102-12", report_date="102/12/20"),
                     "other-period", set()),
    "last-year": (_form("下水道處_去年.xlsx", unit="SEW", edit=lambda ws: ws.__setitem__(CELL["period"], "101-06")),
                  "rejected", {("plan-year-mismatch", CELL["period"])}),
    "lock-excel": (_bytes("~$養工處_正確檔案.xlsx", b"owner"), "ignored", set()),
    "lock-libreoffice": (_bytes(".~lock.養工處_正確檔案.xlsx#", b"lock"), "ignored", set()),
    "thumbs": (_bytes("Thumbs.db", b"\0" * 64), "ignored", set()),
    "ds-store": (_bytes("子資料夾/.DS_Store", b"\0\0\0\1Bud1"), "ignored", set()),
    "long-name": (_form("子資料夾/" + "高雄市政府工務局秘書室一百零二年度提升服務品質執行計畫期中自行檢核表修正版第三次" * 2 + ".xlsx",
                        unit="SEC", edit=lambda ws: ws.__setitem__(f"F{FIRST_ROW + 1}", "做完了")),
                  "rejected", {("status-not-allowed", f"F{FIRST_ROW + 1}")}),
}


@pytest.fixture(scope="module")
def merged(tmp_path_factory, plan, registry):
    """The corpus and a valid file in one inbox, merged once by the real command."""
    root = tmp_path_factory.mktemp("hostile")
    inbox, out = root / "inbox", root / "out"
    inbox.mkdir()
    files = {name: build(inbox, plan, registry) for name, (build, _, _) in CASES.items()}
    builders.selfcheck(inbox, plan, registry, unit="MNT", name=VALID)
    snapshot = {p: (p.read_bytes(), p.stat().st_mtime) for p in inbox.rglob("*") if p.is_file()}
    code = ("import resource, subprocess, sys, json; "
            "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr, "
            "'rss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))")
    command = [sys.executable, "-m", "qos_xl", "merge", "--config", str(CONFIG), "--inbox", str(inbox),
               "--out", str(out), "--period", "102-06", "--json"]
    run = json.loads(subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True,
                                    timeout=300, cwd=REPO).stdout)
    data = json.loads(run["out"])
    by_file = {f["file"]: f for f in data["files"]}
    return {"run": run, "data": data, "by_file": by_file, "files": files, "inbox": inbox, "out": out, "snapshot": snapshot}


def test_merge_finishes_with_exit_1_no_traceback_and_bounded_memory(merged):
    run = merged["run"]
    assert run["rc"] == 1
    assert "Traceback" not in run["err"]
    assert run["rss_kib"] < 1024 * 1024, f"peak RSS {run['rss_kib'] / 1024:.0f} MiB"


def test_the_valid_file_beside_them_is_merged(merged):
    assert merged["by_file"][VALID]["state"] == "accepted"
    assert "養護工程處" in [u["unit"] for u in merged["data"]["completion"]["units"]]


def test_every_file_is_in_the_intake_log(merged):
    listed = set(merged["by_file"])
    on_disk = {p.relative_to(merged["inbox"]).as_posix() for p in merged["inbox"].rglob("*") if p.is_file()}
    assert listed == on_disk


@pytest.mark.parametrize("case", CASES)
def test_each_case_gets_its_state_and_reason(merged, case):
    _, state, expected = CASES[case]
    name = merged["files"][case].relative_to(merged["inbox"]).as_posix()
    report = merged["by_file"][name]
    assert report["state"] == state, report["problems"]
    found = {(p["code"], p["cell"]) for p in report["problems"]}
    assert expected <= found, found
    for problem in report["problems"]:
        assert problem["message"] and problem["file"] == name
        assert "Traceback" not in problem["message"] and "Error" not in problem["message"]


def test_no_outside_content_ever_appears(merged):
    text = json.dumps(merged["data"], ensure_ascii=False)
    assert "root:" not in text and "/bin/" not in text  # /etc/passwd from the external entity
    assert "lol" not in text.lower()


def test_inbox_untouched(merged):
    after = {p: (p.read_bytes(), p.stat().st_mtime) for p in merged["inbox"].rglob("*") if p.is_file()}
    assert after == merged["snapshot"]


def _all_cells(path):
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.endswith(".rels"):
                rels = zf.read(name)
                assert b'TargetMode="External"' not in rels and b"evil" not in rels, name
    workbook = load_workbook(path)
    for ws in workbook.worksheets:
        assert not ws._hyperlinks or all((h.target or "").startswith("#") or h.location for h in ws._hyperlinks), ws.title
        for cell in list(ws._cells.values()):  # sparse: some inputs have a cell at XFD1048576
            yield ws.title, cell


def test_outputs_hold_no_formula_or_link_from_input(merged):
    consolidated = Path(merged["data"]["output"])
    outputs = [consolidated, *sorted((merged["out"] / "feedback").glob("*.xlsx"))]
    assert len(outputs) > 5
    hostile_texts = ('=HYPERLINK("http://evil.example/","點我")', "@SUM(A1:A9)", "+886-7-1234567", "-1",
                     "http://evil.example/track")
    seen = set()
    for path in outputs:
        for sheet, cell in _all_cells(path):
            if isinstance(cell.value, str):
                seen.add(cell.value)
                # qos-xl writes no formulas; a unit's own annotated copy keeps the unit's cells as they were
                if path == consolidated:
                    assert cell.data_type != "f", (path.name, sheet, cell.coordinate)
                if cell.value in hostile_texts:
                    assert cell.data_type == "s", (path.name, sheet, cell.coordinate)
    assert set(hostile_texts) <= seen
    assert any(v.startswith("長" * 100) for v in seen)
    assert any("表情😀與罕用字𠀀𪚥" in v for v in seen)
    assert not any("\x01" in v for v in seen)
