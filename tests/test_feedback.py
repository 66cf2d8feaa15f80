"""Feedback to a unit: the annotated copy of its own workbook, the standalone list and the receipt."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from qos_xl.core.problems import make_problem
from qos_xl.core.report import FileReport
from qos_xl.core.messages import MESSAGES
from qos_xl.output.annotate import ERROR_FILL, LIST_SHEET, WARNING_FILL
from qos_xl.output.feedback import FeedbackError, write_feedback
from qos_xl.output.reply import Sender
from qos_xl.output.reply import file_reply as receipt_text
from qos_xl.output.templates import write_templates
from qos_xl.pipeline.validate import validate_paths
from qos_xl.core.values import Period

from builders import CELL, FIRST_ROW, evidence, narrative
from office import convert, pdf_pages

SHEET = "自行檢核表"
EVIL = '=HYPERLINK("http://evil","x")'
LIST_HEADER = ["嚴重度", "工作表", "儲存格", "項次", "說明", "填寫內容"]
# the secretariat's settings.csv rows for replies, as a clerk fills them
SETTINGS = {"回覆署名": "工務局秘書室", "補件期限": "102/7/10", "聯絡人": "陳小華", "聯絡電話": "07-3368333 轉 2231"}
SENDER = Sender.from_settings(SETTINGS)
ISO_DATE = re.compile(r"\b(19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}\b")


@dataclass
class Fixture:
    inbox: Path
    source: Path
    out: Path
    report: FileReport
    written: list[Path]
    source_bytes: bytes
    source_mtime: int
    rows: dict[str, int]            # step code -> sheet row
    expected: set[tuple[str, str]]  # (code, cell)


def _step_rows(ws) -> dict[str, int]:
    rows = {}
    for row in range(1, ws.max_row + 1):
        value = ws.cell(row=row, column=1).value
        if isinstance(value, str) and value.count("-") == 2:
            rows[value] = row
    return rows


def _fill_selfcheck(path: Path, plan) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """A realistic submission: every due step done, except for five planted problems."""
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    ws[CELL["filler"]] = "王小明"
    ws[CELL["phone"]] = "07-1234567 轉 123"
    ws[CELL["report_date"]] = "102/6/28"
    rows = _step_rows(ws)
    due = [s.code for s in plan.steps if s.due_at(6)]
    for code in due:
        r = rows[code]
        ws.cell(row=r, column=6, value="已完成")
        ws.cell(row=r, column=7, value=narrative("養護工程處", plan.step_by_code[code]))
        ws.cell(row=r, column=8, value="102/6/1")
        ws.cell(row=r, column=9, value=evidence(plan.step_by_code[code]))
    bad_status, no_narrative, late, synonym, evil = due[:5]
    ws.cell(row=rows[bad_status], column=6, value="做完了")
    ws.cell(row=rows[no_narrative], column=7).value = None
    ws.cell(row=rows[late], column=8, value="102/7/15")
    ws.cell(row=rows[synonym], column=6, value="完成")
    cell = ws.cell(row=rows[evil], column=7)
    cell.value = EVIL
    cell.data_type = "s"  # typed as text by the unit, as Excel stores a leading-apostrophe entry
    wb.save(path)
    expected = {
        ("status-not-allowed", f"F{rows[bad_status]}"),
        ("narrative-missing", f"G{rows[no_narrative]}"),
        ("done-date-after-report", f"H{rows[late]}"),
        ("status-synonym", f"F{rows[synonym]}"),
    }
    return rows, expected


@pytest.fixture(scope="module")
def fed(tmp_path_factory, plan, registry) -> Fixture:
    base = tmp_path_factory.mktemp("feedback")
    templates = base / "templates"
    unit = registry.by_code("MNT")
    written = write_templates(plan, registry, templates, Period(plan.year, 6), [unit])
    template = next(p for p in written if "自行檢核表" in p.name)
    inbox = base / "inbox"
    inbox.mkdir()
    source = inbox / "養工處_自行檢核表_1020628(修正版).xlsx"
    shutil.copy(template, source)
    rows, expected = _fill_selfcheck(source, plan)
    (inbox / "x.xlsx").write_bytes(b"not a workbook")
    source_bytes, source_mtime = source.read_bytes(), source.stat().st_mtime_ns
    checked = validate_paths([inbox], plan, registry, jobs=1)
    out = base / "out" / "feedback"
    paths = write_feedback(checked.files, out, [inbox], SENDER)
    report = next(r for r in checked.files if r.file == source.name)
    return Fixture(inbox, source, out, report, paths, source_bytes, source_mtime, rows, expected)


def _annotated(fed: Fixture):
    return openpyxl.load_workbook(fed.out / f"{fed.source.stem}_問題標註.xlsx")


def _fill_key(cell) -> tuple:
    fill = cell.fill
    return (fill.fill_type, *(tuple(getattr(c, a) for a in ("rgb", "indexed", "theme", "tint"))
                              for c in (fill.fgColor, fill.bgColor)))


def _list_rows(ws) -> list[list]:
    return [[c.value for c in row] for row in ws.iter_rows(min_row=4, max_col=6) if row[0].value]


def test_report_has_the_planted_problems(fed):
    assert {(p.code, p.cell) for p in fed.report.problems} == fed.expected
    assert fed.report.state == "rejected"


def test_outputs_written_and_source_untouched(fed):
    stem = fed.source.stem
    assert sorted(p.name for p in fed.written) == sorted([
        f"{stem}_問題標註.xlsx", f"{stem}_回覆.txt", "x_問題清單.xlsx", "x_回覆.txt"])
    assert all(p.parent == fed.out and p.is_file() for p in fed.written)
    assert fed.source.read_bytes() == fed.source_bytes
    assert fed.source.stat().st_mtime_ns == fed.source_mtime
    assert sorted(p.name for p in fed.inbox.iterdir()) == sorted([fed.source.name, "x.xlsx"])
    assert not [p for p in fed.out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_problem_list_is_first_active_and_exact(fed):
    wb = _annotated(fed)
    assert wb.sheetnames[0] == LIST_SHEET
    assert wb.active.title == LIST_SHEET
    assert [ws.sheet_view.tabSelected for ws in wb.worksheets].count(True) == 1
    ws = wb[LIST_SHEET]
    assert fed.source.name in ws["A1"].value
    assert "錯誤 3 項" in ws["A1"].value and "警告 1 項" in ws["A1"].value
    assert [c.value for c in ws[3]][:6] == LIST_HEADER
    rows = _list_rows(ws)
    assert [(r[2], r[3]) for r in rows] == [(p.cell, p.step) for p in fed.report.problems]
    assert {r[2] for r in rows} == {cell for _, cell in fed.expected}
    # a text mark beside the colour: it survives printing in greyscale
    assert [r[0] for r in rows] == ["✖ 錯誤" if p.severity == "error" else "△ 警告" for p in fed.report.problems]
    assert [r[4] for r in rows] == [p.message for p in fed.report.problems]
    assert all(f"項次 {r[3]}" in r[4] for r in rows)
    bad = next(r for r in rows if r[4].endswith("請從下拉選單選擇。") and "須為" in r[4])
    assert bad[5] == "做完了"


def test_units_read_no_problem_codes(fed):
    """Codes are for JSON and the secretariat: not in 問題清單, the comments or the reply."""
    wb = _annotated(fed)
    shown = [str(c.value) for c in wb[LIST_SHEET]._cells.values() if c.value is not None]
    shown += [c.comment.text for c in wb[SHEET]._cells.values() if c.comment is not None]
    shown.append((fed.out / f"{fed.source.stem}_回覆.txt").read_text(encoding="utf-8"))
    text = "\n".join(shown)
    assert not [code for code in MESSAGES if code in text]
    assert "問題代碼" not in text and "qos-xl" not in text


def test_problem_list_links_stay_inside_the_workbook(fed):
    ws = _annotated(fed)[LIST_SHEET]
    for row in range(4, 4 + len(fed.report.problems)):
        cell = ws.cell(row=row, column=3)
        link = cell.hyperlink
        assert link is not None
        assert link.location == f"'{SHEET}'!{cell.value}"
        assert not link.target or link.target.startswith("#")
    with zipfile.ZipFile(fed.out / f"{fed.source.stem}_問題標註.xlsx") as z:
        for name in z.namelist():
            if name.endswith(".rels"):
                rels = z.read(name).decode()
                assert 'TargetMode="External"' not in rels and "evil" not in rels


def test_problem_list_print_and_layout(fed):
    ws = _annotated(fed)[LIST_SHEET]
    assert ws.page_setup.paperSize == 9
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.column_dimensions["E"].width >= 40
    assert ws.cell(row=4, column=5).alignment.wrap_text


def test_problem_cells_filled_and_commented(fed):
    ws = _annotated(fed)[SHEET]
    for problem in fed.report.problems:
        cell = ws[problem.cell]
        colour = ERROR_FILL if problem.severity == "error" else WARNING_FILL
        assert cell.fill.fill_type == "solid"
        assert cell.fill.fgColor.rgb.endswith(colour)
        assert cell.comment is not None
        assert problem.message in cell.comment.text
        assert cell.comment.author == "工務局秘書室" and cell.comment.text.startswith("工務局秘書室檢核意見：")
        # a border that survives greyscale printing: thick for an error, dashed for a warning
        style = "thick" if problem.severity == "error" else "dashed"
        assert {cell.border.left.style, cell.border.right.style, cell.border.top.style, cell.border.bottom.style} == {style}


def test_other_cells_untouched(fed):
    original = openpyxl.load_workbook(fed.source)[SHEET]
    ws = _annotated(fed)[SHEET]
    problem_cells = {p.cell for p in fed.report.problems}
    for code, row in fed.rows.items():
        for col in "ABCDEFGHIJ":
            ref = f"{col}{row}"
            if ref in problem_cells:
                continue
            assert ws[ref].comment is None, ref
            assert _fill_key(ws[ref]) == _fill_key(original[ref]), ref
            assert ws[ref].value == original[ref].value, ref
    for ref in CELL.values():
        assert ws[ref].value == original[ref].value


def test_unit_text_stays_text(fed):
    wb = _annotated(fed)
    ws = wb[SHEET]
    evil = [c for row in ws.iter_rows() for c in row if c.value == EVIL]
    assert evil and all(c.data_type == "s" for c in evil)
    for row in wb[LIST_SHEET].iter_rows():
        for cell in row:
            assert cell.data_type != "f", cell.coordinate


def test_formula_like_values_in_list_are_strings(tmp_path):
    report = FileReport(0, file="u.xlsx", sha256="0" * 64, state="rejected").with_problems(
        make_problem("status-not-allowed", file="u.xlsx", sheet=SHEET, cell="F8", value=EVIL, step="1-1-1"),
        make_problem("cell-outside-table", file="u.xlsx", sheet=SHEET, cell="Z99", value="+1+1"))
    from qos_xl.output import annotate

    target = tmp_path / "l.xlsx"
    annotate.write_standalone(report, target, "測試")
    ws = openpyxl.load_workbook(target)[LIST_SHEET]
    values = [c for row in ws.iter_rows() for c in row if c.value in (EVIL, "+1+1") or (isinstance(c.value, str) and "+1+1" in c.value)]
    assert values and all(c.data_type == "s" for c in values)
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_unit_workbook_features_survive(fed):
    original = openpyxl.load_workbook(fed.source)
    wb = _annotated(fed)
    ws = wb[SHEET]
    status_cell = f"F{next(iter(fed.rows.values()))}"
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert any(status_cell in dv.sqref for dv in lists)
    assert len(ws.data_validations.dataValidation) == len(original[SHEET].data_validations.dataValidation)
    assert ws.protection.sheet is True
    assert ws.page_setup.paperSize == 9
    assert ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == original[SHEET].print_title_rows
    assert ws.print_area == original[SHEET].print_area
    assert ws.freeze_panes == original[SHEET].freeze_panes
    ours = {n for n in wb.defined_names if n.startswith("qos_mark_")}      # the record of the marks (output/marks.py)
    assert set(wb.defined_names) - ours == set(original.defined_names) and "qos_form" in wb.defined_names
    assert wb["qos_meta"].sheet_state == original["qos_meta"].sheet_state == "veryHidden"
    assert wb.sheetnames[1:] == [*original.sheetnames, "qos_marks"] and wb["qos_marks"].sheet_state == "veryHidden"
    assert ws.merged_cells.ranges == original[SHEET].merged_cells.ranges
    assert ws.column_dimensions["G"].width == original[SHEET].column_dimensions["G"].width
    assert ws.row_dimensions[FIRST_ROW].height == original[SHEET].row_dimensions[FIRST_ROW].height


def test_annotated_copy_reads_back_the_same(fed, plan, registry, tmp_path):
    """The copy is still the unit's form: validating it finds the same problems (問題清單 is ignored)."""
    copy = tmp_path / fed.source.name
    shutil.copy(fed.out / f"{fed.source.stem}_問題標註.xlsx", copy)
    again = validate_paths([copy], plan, registry, jobs=1).files[0]
    assert {(p.code, p.cell) for p in again.problems} == fed.expected


def test_receipt_names_unit_file_and_problems(fed):
    text = (fed.out / f"{fed.source.stem}_回覆.txt").read_text(encoding="utf-8")
    assert text.startswith("養護工程處 您好")
    assert fed.source.name in text
    assert fed.report.sha256[:12] in text
    assert "自行檢核表" in text and "102-06" in text and "102/06/28" in text
    assert "檢核未通過，請修正後重新寄送" in text
    for n, problem in enumerate(fed.report.problems, start=1):
        line = next(line for line in text.splitlines() if line.startswith(f"{n}. "))
        assert problem.cell in line and problem.message in line
    assert "「做完了」" in text
    assert "更新「填報日期」" in text
    assert f"{fed.source.stem}_問題標註.xlsx" in text


def test_unreadable_file_gets_standalone_list_and_receipt(fed):
    assert not (fed.out / "x_問題標註.xlsx").exists()
    wb = openpyxl.load_workbook(fed.out / "x_問題清單.xlsx")
    assert wb.sheetnames == [LIST_SHEET]
    ws = wb[LIST_SHEET]
    assert [c.value for c in ws[3]][:6] == LIST_HEADER
    report_rows = _list_rows(ws)
    assert report_rows and report_rows[0][0] == "✖ 錯誤"
    assert not report_rows[0][3]                         # no step: the file as a whole
    assert not [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("file-")]
    assert "未產生標註副本" in ws["A2"].value
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"
    text = (fed.out / "x_回覆.txt").read_text(encoding="utf-8")
    assert text.startswith("貴單位 您好")
    assert "x.xlsx" in text and "x_問題清單.xlsx" in text and "未附標註副本" in text
    assert "檢核未通過" in text


def test_shared_stems_are_disambiguated(plan, registry, tmp_path):
    inbox = tmp_path / "inbox"
    for folder, content in (("a", b"not a workbook"), ("b", b"still not a workbook")):
        (inbox / folder).mkdir(parents=True)
        (inbox / folder / "x.xlsx").write_bytes(content)
    (inbox / "b" / "ok.txt").write_bytes(b"")  # empty file: an error too, unique stem
    checked = validate_paths([inbox], plan, registry, jobs=1)
    paths = write_feedback(checked.files, tmp_path / "out", [inbox])
    names = sorted(p.name for p in paths)
    assert len(names) == len(set(names)) == 6
    for report in checked.files:
        if report.file.endswith("x.xlsx"):
            assert f"x_{report.sha256[:8]}_回覆.txt" in names
            assert f"x_{report.sha256[:8]}_問題清單.xlsx" in names
    assert "ok_回覆.txt" in names


def test_files_without_problems_and_ignored_files_get_nothing(plan, registry, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "~$lock.xlsx").write_bytes(b"junk")
    checked = validate_paths([inbox], plan, registry, jobs=1)
    assert checked.files[0].state == "ignored"
    assert write_feedback(checked.files, tmp_path / "out", [inbox]) == []
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_file_argument_maps_to_its_path(fed, plan, registry, tmp_path):
    checked = validate_paths([fed.inbox / "x.xlsx"], plan, registry, jobs=1)
    paths = write_feedback(checked.files, tmp_path / "out", [fed.inbox / "x.xlsx"])
    assert sorted(p.name for p in paths) == ["x_問題清單.xlsx", "x_回覆.txt"]


def test_feedback_inside_the_inbox_is_refused(plan, registry, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "x.xlsx").write_bytes(b"not a workbook")
    checked = validate_paths([inbox], plan, registry, jobs=1)
    with pytest.raises(FeedbackError):
        write_feedback(checked.files, inbox / "feedback", [inbox])
    assert sorted(p.name for p in inbox.iterdir()) == ["x.xlsx"]


def test_receipt_for_valid_and_warning_reports():
    ok = FileReport(0, file="sub/養工處.xlsx", sha256="abcdef0123456789" * 4, state="accepted", unit="養護工程處",
                    form="selfcheck", period="102-12", report_date=dt.date(2013, 12, 20))
    text = receipt_text(ok)
    assert "檢核通過，已收件" in text and "無須修正" in text
    assert "養工處.xlsx" in text and "sub/" not in text
    assert "abcdef012345" in text and "102/12/20" in text and "年度執行成果" in text
    assert "問題明細" not in text
    ok = ok.with_problems(make_problem("status-synonym", sheet=SHEET, cell="F9", value="完成", status="已完成", step="1-2-1"))
    text = receipt_text(ok)
    assert "檢核結果：檢核通過，已收件（另有 1 項警告，請參考）" in text
    assert "以上事項不影響收件，本次無須重新寄送；如需更正，請修正後重新寄送（檔名不拘），並更新「填報日期」。" in text
    assert "原檔名" not in text
    assert "1. 【警告】工作表「自行檢核表」儲存格 F9：" in text


def test_receipt_text_is_clean():
    report = FileReport(0, file="a\u202egnp.xlsx", state="rejected", unit=None).with_problems(
        make_problem("cell-outside-table", sheet=SHEET, cell="Z9", value="x\u0007" + "y" * 500))
    text = receipt_text(report)
    assert "\u202e" not in text and "\u0007" not in text
    shown = next(line for line in text.splitlines() if line.startswith("   填寫內容："))
    assert shown == "   填寫內容：「x" + "y" * 199 + "…」"


def test_xlsm_is_annotated_as_plain_xlsx(fed, tmp_path):
    """A macro workbook's copy is a plain .xlsx: no macro content type, no vbaProject."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    source = inbox / "巨集.xlsm"
    with zipfile.ZipFile(fed.source) as zin, zipfile.ZipFile(source, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "[Content_Types].xml":
                data = data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
                assert b"macroEnabled" in data
            zout.writestr(item, data)
    before = source.read_bytes()
    report = FileReport(0, file=source.name, path=source, sha256=hashlib.sha256(before).hexdigest(), state="rejected")
    report = report.with_problems(make_problem("macro-ignored", file=source.name),
                                  make_problem("status-not-allowed", file=source.name, sheet=SHEET, cell="F9", value="x", step="1-1-2"))
    paths = write_feedback([report], tmp_path / "out", [inbox])
    assert [p.name for p in paths] == ["巨集_問題標註.xlsx", "巨集_回覆.txt"]
    with zipfile.ZipFile(paths[0]) as z:
        assert b"macroEnabled" not in z.read("[Content_Types].xml")
        assert not [n for n in z.namelist() if "vba" in n.lower()]
    wb = openpyxl.load_workbook(paths[0])
    assert wb.sheetnames[0] == LIST_SHEET and wb[SHEET]["F9"].comment is not None
    assert source.read_bytes() == before


def test_changed_source_is_not_annotated(fed, tmp_path):
    """A file changed after validation is not annotated against the wrong content."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    source = inbox / "u.xlsx"
    shutil.copy(fed.source, source)
    report = FileReport(0, file=source.name, path=source, sha256="f" * 64, state="rejected").with_problems(
        make_problem("status-not-allowed", file=source.name, sheet=SHEET, cell="F9", value="x", step="1-1-2"))
    paths = write_feedback([report], tmp_path / "out", [inbox])
    assert sorted(p.name for p in paths) == ["u_問題清單.xlsx", "u_回覆.txt"]
    assert "已變更" in (tmp_path / "out" / "u_回覆.txt").read_text(encoding="utf-8")


def test_feedback_written_in_parallel_equals_one_at_a_time(fed, tmp_path, plan, registry, monkeypatch, pools):
    """From PARALLEL_FEEDBACK files on, with more than one CPU, workers write the workbooks: the same files, the
    same content as on a one-CPU machine, where they are written one at a time."""
    from qos_xl.output import feedback

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    copies = feedback.PARALLEL_FEEDBACK + 1
    for i in range(copies):
        shutil.copy(fed.source, inbox / f"單位{i:02d}_自行檢核表.xlsx")
    (inbox / "壞檔.xlsx").write_bytes(b"not a workbook")
    checked = validate_paths([inbox], plan, registry, jobs=1)
    monkeypatch.setattr(feedback.os, "cpu_count", lambda: 4)       # what write_feedback counts its workers by
    parallel = write_feedback(checked.files, tmp_path / "parallel", [inbox])
    assert [(pool.total, pool.yielded) for pool in pools] == [(copies + 1, copies + 1)]    # workers wrote every file
    monkeypatch.setattr(feedback.os, "cpu_count", lambda: 1)
    serial = write_feedback(checked.files, tmp_path / "serial", [inbox])
    assert len(pools) == 1                                                                  # and here none did
    assert [p.name for p in parallel] == [p.name for p in serial] and len(parallel) == 2 * (copies + 1)
    for a, b in zip(parallel, serial):
        if a.suffix == ".txt":
            assert a.read_text(encoding="utf-8") == b.read_text(encoding="utf-8")
        else:
            for ws_a, ws_b in zip(openpyxl.load_workbook(a).worksheets, openpyxl.load_workbook(b).worksheets):
                assert [[(c.value, c.comment and c.comment.text) for c in r] for r in ws_a.iter_rows()] == \
                       [[(c.value, c.comment and c.comment.text) for c in r] for r in ws_b.iter_rows()]


def test_reply_is_written_for_clerks(fed):
    """Each row's 項次, dates as ROC, the resend deadline and contact from settings.csv, signed by the secretariat."""
    text = (fed.out / f"{fed.source.stem}_回覆.txt").read_text(encoding="utf-8")
    for problem in fed.report.problems:
        assert problem.step and f"項次 {problem.step}" in problem.message
    assert "完成日期 102/07/15 晚於填報日期 102/06/28" in text
    assert not ISO_DATE.search(text)
    assert "請於 102/07/10 前依上列說明修正後重新寄送" in text
    assert f"可以直接在附件「{fed.source.stem}_問題標註.xlsx」上修正後寄回" in text
    assert "如有疑問，請洽工務局秘書室 陳小華（07-3368333 轉 2231）。" in text
    assert text.rstrip().endswith("工務局秘書室 敬上")


def test_reply_without_the_optional_settings():
    sender = Sender.from_settings({"補件期限": "", "聯絡人": "", "聯絡電話": ""})
    assert sender == Sender() and sender.signature == "秘書室"
    report = FileReport(0, file="a.xlsx", state="rejected").with_problems(
        make_problem("status-not-allowed", sheet=SHEET, cell="F9", value="x", step="1-1-2"))
    text = receipt_text(report, sender=sender)
    assert "請依上列說明修正原檔案後重新寄送（檔名不拘），並更新「填報日期」。" in text
    assert "前依上列" not in text and "如有疑問" not in text and "原檔名" not in text
    assert text.rstrip().endswith("秘書室 敬上")


def test_corrected_annotated_copy_is_accepted(fed, plan, registry, tmp_path):
    """The reply offers the annotated copy as the file to correct and send back: corrected, it is accepted."""
    wb = _annotated(fed)
    ws = wb[SHEET]
    for problem in fed.report.problems:
        row = int(problem.cell[1:])
        ws.cell(row, 6, "已完成")
        ws.cell(row, 7, narrative("養護工程處", plan.step_by_code[problem.step]))
        ws.cell(row, 8, "102/6/1")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    resent = inbox / f"{fed.source.stem}_問題標註.xlsx"
    wb.save(resent)
    [report] = validate_paths([inbox], plan, registry, jobs=1).files
    assert (report.state, report.problems, report.unit_code, report.period) == ("accepted", (), "MNT", "102-06")


def test_problem_list_prints(fed, tmp_path):
    """The 問題清單 is the printable part: on paper it names cell, 項次 and severity in words, with ROC dates and no codes."""
    pdf = convert(fed.out / f"{fed.source.stem}_問題標註.xlsx", "pdf", tmp_path)
    pages = [p for p in pdf_pages(pdf) if "檢核問題" in p]
    assert pages
    text = "".join(pages)
    for problem in fed.report.problems:
        assert problem.cell in text and problem.step in text
    assert "錯誤" in text and "警告" in text and "102/07/15" in text
    assert not [code for code in MESSAGES if code in text]


def test_the_secretariats_settings_reach_the_reply(fed, tmp_path, monkeypatch):
    """qos-xl validate signs and dates replies from settings.csv (回覆署名, 補件期限, 聯絡人, 聯絡電話)."""
    from click.testing import CliRunner

    from conftest import CONFIG
    from qos_xl.cli.app import cli

    config = tmp_path / "workbooks" / "config"
    config.mkdir(parents=True)
    for name in ("plan.csv", "units.csv"):
        (config / name).write_bytes((CONFIG / name).read_bytes())
    settings = (CONFIG / "settings.csv").read_text(encoding="utf-8-sig")
    for key, value in SETTINGS.items():
        settings = re.sub(rf"^{key},.*$", f"{key},{value}", settings, flags=re.M)
    (config / "settings.csv").write_text(settings, encoding="utf-8")
    monkeypatch.chdir(tmp_path)   # the workspace: its workbooks/config is found from here
    result = CliRunner().invoke(cli, ["validate", "--out", str(tmp_path / "out"), str(fed.source)])
    assert result.exit_code == 1, result.output
    reply = (tmp_path / "out" / "feedback" / f"{fed.source.stem}_回覆.txt").read_text(encoding="utf-8")
    assert "請於 102/07/10 前" in reply and "請洽工務局秘書室 陳小華（07-3368333 轉 2231）" in reply
    assert reply.rstrip().endswith("工務局秘書室 敬上")


# ---------------------------------------------------------------------------------------
# A corrected copy annotated again: only this run's marks (output/marks.py)

UNIT_NOTE = "單位備註：佐證資料下週補上"
UNIT_REPLY = "已依意見修正"


def _look(cell) -> tuple:
    sides = tuple((getattr(cell.border, s).style, getattr(getattr(cell.border, s).color, "rgb", None)) for s in ("left", "right", "top", "bottom"))
    return _fill_key(cell), sides


def _at(fed: Fixture) -> dict[str, str]:
    """The planted problems' cells, by code."""
    return {code: cell for code, cell in fed.expected}


def _resend(fed: Fixture, plan, registry, tmp_path, saved_by: str):
    """The unit's file, with a note of its own on a problem cell, annotated; the copy corrected the way a unit would and annotated again.

    Returns (the original, the first report, the second report, the second annotated copy)."""
    from openpyxl.comments import Comment

    at = _at(fed)
    first_inbox = tmp_path / "inbox1"
    first_inbox.mkdir()
    source = first_inbox / fed.source.name
    wb = openpyxl.load_workbook(fed.source)
    wb[SHEET][at["narrative-missing"]].comment = Comment(UNIT_NOTE, "承辦人")        # the unit's own note, on a cell that will be marked
    wb.save(source)
    first = validate_paths([first_inbox], plan, registry, jobs=1).files[0]
    write_feedback([first], tmp_path / "out1", [first_inbox], SENDER)
    copy = tmp_path / "out1" / f"{source.stem}_問題標註.xlsx"
    if saved_by == "libreoffice":                 # opened, and saved, in LibreOffice
        copy = convert(copy, "xlsx", tmp_path / "lo")
    wb = openpyxl.load_workbook(copy)
    ws = wb[SHEET]
    ws[at["status-not-allowed"]] = "已完成"               # fixed
    late = ws[at["done-date-after-report"]]
    late.value = "102/6/1"                               # fixed, and our note answered at its end
    late.comment = Comment(late.comment.text + "\n" + UNIT_REPLY, "承辦人")
    ws["I2"].comment = Comment("單位自己的註記", "承辦人")     # a new note of the unit's own; the narrative is left empty
    second_inbox = tmp_path / "inbox2"
    second_inbox.mkdir()
    resent = second_inbox / f"{source.stem}_問題標註.xlsx"
    wb.save(resent)
    second = validate_paths([second_inbox], plan, registry, jobs=1).files[0]
    write_feedback([second], tmp_path / "out2", [second_inbox], SENDER)
    return source, first, second, openpyxl.load_workbook(tmp_path / "out2" / f"{resent.stem}_問題標註.xlsx")


@pytest.mark.parametrize("saved_by", ["openpyxl", "libreoffice"])
def test_corrected_copy_annotated_again_shows_only_the_current_problems(fed, plan, registry, tmp_path, saved_by):
    """A cell the unit fixed gets its own look back and no comment of ours; the one still wrong reads once; the unit's notes stay."""
    source, first, second, wb = _resend(fed, plan, registry, tmp_path, saved_by)
    at = _at(fed)
    fixed, late, empty, synonym = (at[code] for code in ("status-not-allowed", "done-date-after-report", "narrative-missing", "status-synonym"))
    assert {(p.code, p.cell) for p in first.problems} == fed.expected
    assert {(p.code, p.cell) for p in second.problems} == {("narrative-missing", empty), ("status-synonym", synonym)}
    original = openpyxl.load_workbook(source if saved_by == "openpyxl" else convert(source, "xlsx", tmp_path / "lo-source"))[SHEET]
    ws = wb[SHEET]
    for ref in (fixed, late):                                       # fixed: as the unit's file was
        assert _look(ws[ref]) == _look(original[ref]), ref
        assert ERROR_FILL not in str(ws[ref].fill.fgColor.rgb)
    assert ws[fixed].comment is None
    assert ws[late].comment is not None and ws[late].comment.text == UNIT_REPLY      # the unit's answer, ours gone
    still = ws[empty].comment.text                                   # still empty: this run's comment, once, then the unit's note
    assert still.count("檢核意見") == 1 and still.count("（原有註解）") == 1 and still.count("【") == 1
    assert still.endswith("（原有註解）\n" + UNIT_NOTE)
    assert ws[empty].fill.fgColor.rgb.endswith(ERROR_FILL)
    assert ws[synonym].fill.fgColor.rgb.endswith(WARNING_FILL) and ws[synonym].comment.text.count("【") == 1
    assert ws["I2"].comment.text == "單位自己的註記"
    assert sorted(row[2] for row in _list_rows(wb[LIST_SHEET])) == sorted((empty, synonym))
    assert wb.sheetnames.count(LIST_SHEET) == 1


def test_corrected_copy_once_more_comes_back_clean(fed, plan, registry, tmp_path):
    """Every problem fixed in the second copy too: accepted, read with no word about the record sheet."""
    _, _, second, wb = _resend(fed, plan, registry, tmp_path, "openpyxl")
    ws = wb[SHEET]
    for problem in second.problems:
        if problem.code == "narrative-missing":
            ws[problem.cell] = narrative("養護工程處", plan.step_by_code[problem.step])
        else:
            ws[problem.cell] = "已完成"
    inbox = tmp_path / "inbox3"
    inbox.mkdir()
    wb.save(inbox / "third.xlsx")
    [report] = validate_paths([inbox], plan, registry, jobs=1).files
    assert (report.state, report.problems) == ("accepted", ())


TAMPERED = {
    "tag changed": lambda wb: wb["qos_marks"].cell(1, 1, "edited"),
    "names deleted": lambda wb: [wb.defined_names.pop(n) for n in list(wb.defined_names) if n.startswith("qos_mark_")],
    "names broken": lambda wb: [setattr(wb.defined_names[n], "attr_text", text) for n, text in
                                zip(sorted(n for n in wb.defined_names if n.startswith("qos_mark_")),
                                    ("#REF!", "'問題清單'!$A$1", "'自行檢核表'!$A$1:$B$9", "'不存在'!$A$1"))],
    "rows garbled": lambda wb: [wb["qos_marks"].cell(r, c, value) for r in range(2, 6) for c, value in
                                ((1, r * 7), (2, "=1+1"), (3, None), (4, 12.5))],
    "record emptied": lambda wb: wb["qos_marks"].delete_rows(1, 10),
}


@pytest.mark.parametrize("tamper", TAMPERED, ids=list(TAMPERED))
def test_tampered_record_is_ignored(fed, plan, registry, tmp_path, tamper):
    """The record came back from the unit: whatever was done to it, the copy is annotated, and carries a fresh record."""
    wb = _annotated(fed)
    TAMPERED[tamper](wb)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    wb.save(inbox / "resent.xlsx")
    [report] = validate_paths([inbox], plan, registry, jobs=1).files
    assert {(p.code, p.cell) for p in report.problems} == fed.expected
    written = write_feedback([report], tmp_path / "out", [inbox], SENDER)
    assert [p.name for p in written] == ["resent_問題標註.xlsx", "resent_回覆.txt"]
    again = openpyxl.load_workbook(written[0])
    ws = again[SHEET]
    for problem in report.problems:
        assert ws[problem.cell].comment.text.count("檢核意見") >= 1
    record = again["qos_marks"]
    assert record.sheet_state == "veryHidden" and record.cell(1, 1).value == "qos-xl marks 1"
    assert sorted(n for n in again.defined_names if n.startswith("qos_mark_")) == [f"qos_mark_{n}" for n in range(1, 5)]
