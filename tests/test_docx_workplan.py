"""Work plans written in Word (issue 22): read, validated and merged exactly like the workbook."""

from __future__ import annotations

import os
import shutil
import zlib
from pathlib import Path

import docx
import openpyxl
import pytest
from docx.enum.text import WD_BREAK

import builders
import hostile
from qos_xl.output import consolidated
from qos_xl.output.feedback import write_feedback
from qos_xl.output.templates import write_templates
from qos_xl.output.templates_docx import write_workplan_docx
from qos_xl.pipeline.merge import merge
from qos_xl.pipeline.validate import validate_paths
from qos_xl.core.values import Period

HEADER = ("實施要項", "工作重點", "工作(推動)方法", "備註")


def clerk_workplan(path: Path, plan, *, unit="高雄市政府工務局養護工程處", title=None, rows=None, split_after=None,
                   sections=None, headings=None, extra=None, header=HEADER) -> Path:
    """A Word work plan as a clerk writes it: a title, headings (styled or typed), one table whose
    實施要項 cells are merged over their rows; ``split_after``: the table continues in a second
    table after a page break (header repeated)."""
    document = docx.Document()
    title_paragraph = document.add_paragraph()
    title_paragraph.add_run(title or f"{unit} 102 年度提升服務品質工作計畫").bold = True
    texts = {"計畫依據": "依本局102年度提升服務品質執行計畫辦理。", "計畫目標": "提升為民服務品質。",
             "實施對象": "本處各課室。", "考核與獎勵": "依本局計畫辦理考核。", **(sections or {})}
    names = headings or {"計畫依據": "壹、計畫依據", "計畫目標": "貳、 計畫目標", "實施對象": "叁.實施對象",
                         "考核與獎勵": "伍、考核與獎勵"}
    for label in ("計畫依據", "計畫目標", "實施對象"):
        if names.get(label):
            document.add_heading(names[label], level=2)
            for line in texts[label].splitlines():
                document.add_paragraph(line)
    document.add_paragraph("肆、計畫內容")
    rows = rows if rows is not None else [(a.label, f"{a.title}工作重點", "依本處業務特性辦理。", "") for a in plan.areas]
    chunks = [] if not rows else [rows] if split_after is None else [rows[:split_after], rows[split_after:]]
    for number, chunk in enumerate(chunks):
        if number:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        table = document.add_table(rows=1 + len(chunk), cols=len(header))
        table.style = "Table Grid"
        for col, label in enumerate(header):
            table.cell(0, col).text = label
        start = 1
        for index, row in enumerate(chunk, start=1):
            for col, value in enumerate(row[1:len(header)], start=1):
                table.cell(index, col).text = value
            same_as_next = index < len(chunk) and chunk[index][0] == row[0]
            if index == start:
                table.cell(index, 0).text = row[0]
            if not same_as_next:                     # one 實施要項 cell merged over its rows
                if index > start:
                    table.cell(start, 0).merge(table.cell(index, 0))
                start = index + 1
    if extra:
        extra(document)
    if names.get("考核與獎勵"):
        document.add_paragraph(names["考核與獎勵"])
        document.add_paragraph(texts["考核與獎勵"])
    document.save(path)
    return path


def one(path, plan, registry):
    checked = validate_paths([path], plan, registry)
    assert len(checked.files) == 1
    return checked, checked.files[0]


def codes(report):
    return [(p.code, p.cell) for p in report.problems]


def test_a_clerks_word_work_plan_gives_the_same_rows_as_the_workbook(tmp_path, plan, registry):
    rows = [(a.label, f"{a.title}工作重點", "依本處業務特性辦理。", "") for a in plan.areas]
    sheet = builders.workplan(tmp_path / "xlsx", plan, registry, unit="MNT")
    word = clerk_workplan(tmp_path / "養工處_工作計畫.docx", plan, rows=rows,
                          sections={"計畫依據": builders_basis(plan), "計畫目標": builders_goals(plan)})
    sheet_checked, sheet_report = one(sheet, plan, registry)
    word_checked, word_report = one(word, plan, registry)
    assert word_report.state == sheet_report.state == "accepted"
    assert (word_report.form, word_report.unit, word_report.unit_code, word_report.period) == \
           ("workplan", "養護工程處", "MNT", "102") == \
           (sheet_report.form, sheet_report.unit, sheet_report.unit_code, sheet_report.period)
    assert word_report.problems == ()

    def table(checked):
        frame = checked.workplan
        frame = frame[frame["present"]]
        return [tuple(r) for r in frame[["area", "area_raw", "focus", "method", "remarks"]].itertuples(index=False)]

    assert table(word_checked) == table(sheet_checked)
    assert len(table(word_checked)) == 5
    sections = ["basis", "goals", "audience", "review"]
    assert word_checked.headers[sections].iloc[0].tolist() == sheet_checked.headers[sections].iloc[0].tolist()


def test_a_table_without_the_remarks_column_is_read(tmp_path, plan, registry):
    """附件2's table may leave out 備註: 實施要項 | 工作重點 | 工作(推動)方法 is a whole work plan."""
    rows = [(a.label, f"{a.title}工作重點", "依本處業務特性辦理。", "") for a in plan.areas]
    word = clerk_workplan(tmp_path / "養工處_工作計畫.docx", plan, rows=rows, header=HEADER[:3],
                          sections={"計畫依據": builders_basis(plan), "計畫目標": builders_goals(plan)})
    checked, report = one(word, plan, registry)
    assert (report.state, report.problems) == ("accepted", ())
    frame = checked.workplan[checked.workplan["present"]]
    assert len(frame) == len(plan.areas) and set(frame["method"]) == {"依本處業務特性辦理。"}
    assert set(frame["remarks"].fillna("")) == {""}


def test_a_word_plan_resent_or_replaced_takes_the_states_of_any_file(tmp_path, plan, registry):
    """The same states as a workbook: a re-saved copy is a duplicate, a later file of the unit supersedes it."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [(a.label, f"{a.title}工作重點", "依本處業務特性辦理。", "") for a in plan.areas]
    sections = {"計畫依據": builders_basis(plan), "計畫目標": builders_goals(plan)}
    first = clerk_workplan(inbox / "養工處_工作計畫.docx", plan, rows=rows, sections=sections)
    copy = clerk_workplan(inbox / "養工處_工作計畫(再寄).docx", plan, rows=rows, sections=sections)
    changed = [(a, f, "每月檢討一次。" if n == 0 else m, r) for n, (a, f, m, r) in enumerate(rows)]
    later = clerk_workplan(inbox / "養工處_工作計畫(修正).docx", plan, rows=changed, sections=sections)
    os.utime(first, (1_000_000, 1_000_000))
    os.utime(copy, (1_000_100, 1_000_100))
    os.utime(later, (1_000_200, 1_000_200))
    result = merge(inbox, plan, registry, Period(102, None))
    states = {f.file: (f.state, f.duplicate_of, f.superseded_by) for f in result.files}
    assert states["養工處_工作計畫(再寄).docx"] == ("duplicate", "養工處_工作計畫.docx", None)
    assert states["養工處_工作計畫(修正).docx"][0] == "accepted"
    assert states["養工處_工作計畫.docx"] == ("superseded", None, "養工處_工作計畫(修正).docx")


def builders_basis(plan):
    from qos_xl.output.templates_text import numbered_lines

    return numbered_lines(plan.basis)


def builders_goals(plan):
    from qos_xl.output.templates_text import numbered_lines

    return numbered_lines(plan.goals)


def test_merged_area_cells_repeat_and_a_page_break_split_continues(tmp_path, plan, registry):
    a1, a2, a3, a4, a5 = (a.label for a in plan.areas)
    rows = [(a1, "受理窗口", "單一窗口。", ""), (a1, "服務態度", "禮貌訓練。", "每季"), (a1, "申辦流程", "簡化流程。", ""),
            (a2, "公開流程", "網站公告。", ""), (a3, "民意調查", "年度調查。", ""), (a4, "網站", "定期更新。", ""),
            (a5, "創新", "跨機關合作。", "")]
    path = clerk_workplan(tmp_path / "養工處工作計畫(Word).docx", plan, rows=rows, split_after=2)
    checked, report = one(path, plan, registry)
    assert report.state == "accepted", report.problems
    frame = checked.workplan[checked.workplan["present"]]
    assert frame["area"].tolist() == [1, 1, 1, 2, 3, 4, 5]            # the merged cell read on each of its rows
    assert frame["focus"].tolist() == ["受理窗口", "服務態度", "申辦流程", "公開流程", "民意調查", "網站", "創新"]
    assert frame["remarks"].tolist()[1] == "每季"


def test_broken_rows_are_named_by_table_and_row(tmp_path, plan, registry):
    a1, a2, a3, a4, _ = (a.label for a in plan.areas)
    rows = [(a1, "受理窗口", "單一窗口。", ""), (a1, "服務態度", "", ""), (a2, "公開流程", "網站公告。", ""),
            ("六、不存在的要項", "其他", "其他。", ""), (a3, "民意調查", "年度調查。", ""), (a4, "網站", "定期更新。", ""),
            ("", "志工訓練", "每季一次。", "")]
    path = clerk_workplan(tmp_path / "broken.docx", plan, rows=rows, split_after=3)
    _, report = one(path, plan, registry)
    assert report.state == "rejected"
    found = codes(report)
    assert ("work-item-incomplete", "第 1 個表格第 3 列") in found          # 服務態度 without a method
    assert ("area-invalid", "第 2 個表格第 2 列") in found                  # header repeated in the second table
    assert ("area-uncovered", None) in found
    assert ("area-missing", "第 2 個表格第 5 列") in found
    assert next(p for p in report.problems if p.code == "area-missing").message == (
        "這一列有工作內容，但「實施要項」空白。請填寫這一列所屬的實施要項，或只寫編號，例如「二」。")
    uncovered = [p for p in report.problems if p.code == "area-uncovered"]
    assert [p.value for p in uncovered] == [None] and plan.areas[4].label in uncovered[0].message  # nothing typed to quote
    invalid = next(p for p in report.problems if p.code == "area-invalid")
    assert invalid.sheet is None and invalid.where == "第 2 個表格第 2 列" and invalid.value == "六、不存在的要項"
    assert invalid.message == ("實施要項「六、不存在的要項」不是本計畫的五項之一，或編號與名稱不符。"
                               "請改寫為範本列出的實施要項，或只寫編號，例如「二」。")               # no dropdown in Word
    assert uncovered[0].message == (f"實施要項「{plan.areas[4].label}」沒有任何工作項目。"
                                    "請在表格中此實施要項預留的列填寫工作重點及工作(推動)方法。")


def test_title_and_headings_give_unit_year_and_sections(tmp_path, plan, registry):
    path = clerk_workplan(tmp_path / "t.docx", plan, title="○○○(機關全銜)102 年度提升服務品質工作計畫",
                          sections={"實施對象": ""},
                          headings={"計畫依據": "計畫依據", "計畫目標": "２、計畫目標", "實施對象": "參、實施對象",
                                    "考核與獎勵": "伍、考核與獎勵"})
    _, report = one(path, plan, registry)
    assert report.state == "rejected"
    unknown = next(p for p in report.problems if p.code == "unit-unknown")
    assert unknown.cell == "文件標題" and unknown.value == "○○○"
    empty = next(p for p in report.problems if p.code == "section-empty")
    assert empty.severity == "warning" and empty.cell == "標題「參、實施對象」下" and "實施對象" in empty.message


def test_unit_and_year_lines_win_over_the_title(tmp_path, plan, registry):
    def lines(document):
        second = document.paragraphs[1]
        second.insert_paragraph_before("機關全銜：下水道工程處")
        second.insert_paragraph_before("年度：１０１")

    path = clerk_workplan(tmp_path / "y.docx", plan, extra=lines)
    _, report = one(path, plan, registry)
    assert (report.unit, report.unit_code) == ("下水道工程處", "SEW")
    mismatch = next(p for p in report.problems if p.code == "plan-year-mismatch")
    assert mismatch.cell == "「年度」一行" and mismatch.value == "１０１"


def test_no_table_two_tables_no_title(tmp_path, plan, registry):
    _, missing = one(clerk_workplan(tmp_path / "none.docx", plan, rows=[]), plan, registry)
    assert missing.form == "workplan" and missing.state == "rejected"
    assert [p.code for p in missing.errors] == ["docx-table-missing"]       # no area-uncovered noise

    def second_table(document):
        document.add_paragraph("附表：去年的計畫")
        table = document.add_table(rows=2, cols=4)
        for col, label in enumerate(HEADER):
            table.cell(0, col).text = label

    _, two = one(clerk_workplan(tmp_path / "two.docx", plan, extra=second_table), plan, registry)
    ambiguous = [p for p in two.problems if p.code == "docx-table-ambiguous"]
    assert two.state == "rejected" and len(ambiguous) == 1 and len(two.errors) == 1
    assert "2 個工作計畫表格" in ambiguous[0].message and "第 1、2 個表格" in ambiguous[0].message

    document = docx.Document()
    document.add_paragraph("壹、計畫依據")
    document.add_paragraph("貳、計畫目標")
    path = tmp_path / "untitled.docx"
    document.save(path)
    _, untitled = one(path, plan, registry)
    assert "docx-title-missing" in [p.code for p in untitled.errors]


def test_line_breaks_and_nested_tables_in_cells(tmp_path, plan, registry):
    rows = [(a.label, f"{a.title}工作重點", "第一步。", "") for a in plan.areas]

    def fill(document):
        table = document.tables[0]
        cell = table.cell(1, 2)
        cell.paragraphs[0].runs[0].add_break()
        cell.paragraphs[0].add_run("第二步。")
        nested = table.cell(2, 2).add_table(rows=2, cols=2)
        for r, c, value in ((0, 0, "步驟"), (0, 1, "時程"), (1, 0, "訪查"), (1, 1, "6月")):
            nested.cell(r, c).text = value

    path = clerk_workplan(tmp_path / "nested.docx", plan, rows=rows, extra=fill)
    checked, report = one(path, plan, registry)
    assert report.state == "accepted", report.problems
    methods = checked.workplan[checked.workplan["present"]]["method"].tolist()
    assert methods[0] == "第一步。\n第二步。"
    assert methods[1] == "第一步。\n步驟 時程\n訪查 6月"


def test_renamed_xlsx_is_a_spreadsheet_and_doc_odt_ask_for_docx(tmp_path, plan, registry):
    sheet = builders.workplan(tmp_path / "x", plan, registry, unit="MNT")
    renamed = builders.copy(sheet, tmp_path / "養工處工作計畫.docx")
    _, report = one(renamed, plan, registry)
    assert (report.state, report.form, report.document) == ("accepted", "workplan", None)
    doc = hostile.word97(tmp_path, "工作計畫.doc")
    _, old = one(doc, plan, registry)
    assert old.state == "rejected" and [p.code for p in old.problems] == ["document-doc"]
    assert ".docx" in old.problems[0].message
    odt = tmp_path / "工作計畫.odt"
    hostile.write_members(odt, {"mimetype": b"application/vnd.oasis.opendocument.text",
                                "content.xml": b"<?xml version='1.0'?><office:document-content/>"})
    _, open_document = one(odt, plan, registry)
    assert [p.code for p in open_document.problems] == ["document-odt"]
    assert "另存為 Word 文件（.docx）" in open_document.problems[0].message


def test_docm_macros_are_ignored_and_said_so(tmp_path, plan, registry):
    source = clerk_workplan(tmp_path / "plain.docx", plan)
    members = hostile.read_members(source)
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        b"application/vnd.ms-word.document.macroEnabled.main+xml")
    members["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    path = hostile.write_members(tmp_path / "巨集.docm", members)
    _, report = one(path, plan, registry)
    assert report.state == "accepted" and [p.code for p in report.problems] == ["macro-ignored"]
    assert "不會執行" in report.problems[0].message and ".docx" in report.problems[0].message


@pytest.mark.parametrize("lying", [False, True])
def test_a_bomb_in_word_document_xml_is_one_clear_state(tmp_path, plan, registry, lying):
    source = clerk_workplan(tmp_path / "plain.docx", plan)
    members = [hostile.RawMember.of(n, d) for n, d in hostile.read_members(source).items() if n != "word/document.xml"]
    block = b"<w:p><w:r><w:t>" + b"A" * 1000 + b"</w:t></w:r></w:p>"
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
    payload, crc, size = co.compress(head), zlib.crc32(head), len(head)
    for _ in range(200 if lying else 1200):          # 40 MB claimed as 100 KB, or 240 MB declared honestly
        payload += co.compress(block * 200)
        crc, size = zlib.crc32(block * 200, crc), size + len(block) * 200
    payload += co.flush()
    members.append(hostile.RawMember("word/document.xml", payload, 8, crc, 100_000 if lying else size))
    path = hostile.write_raw_zip(tmp_path / "養工處工作計畫.docx", members)
    _, report = one(path, plan, registry)
    assert report.state == "rejected" and [p.code for p in report.problems] == ["archive-too-large"]
    assert "異常龐大" in report.problems[0].message


def test_merged_into_the_consolidated_workbook_and_fed_back_as_text(tmp_path, plan, registry):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    clerk_workplan(inbox / "養工處_工作計畫.docx", plan)
    clerk_workplan(inbox / "新工處_工作計畫.docx", plan, unit="新建工程處",
                   rows=[(plan.areas[0].label, "只有一項", "一個方法。", "")])
    builders.selfcheck(inbox, plan, registry, unit="MNT")
    result = merge(inbox, plan, registry, Period(102, 6))
    states = {f.file: (f.state, f.form, f.period) for f in result.files}
    assert states["養工處_工作計畫.docx"] == ("accepted", "workplan", "102")
    assert states["新工處_工作計畫.docx"][:2] == ("rejected", "workplan")
    book = openpyxl.load_workbook(consolidated.write_consolidated(result, tmp_path / "book.xlsx"))
    ws = book["工作計畫彙整"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert [r[0] for r in rows] == ["養護工程處"] * 5
    assert [r[1] for r in rows] == [a.label for a in plan.areas]
    assert {r[5] for r in rows} == {"養工處_工作計畫.docx"}
    log = [[c.value for c in row] for row in book["收件紀錄"].iter_rows(min_row=2)]
    assert any("新工處_工作計畫.docx" in r for r in log)
    issues = [[c.value for c in row] for row in book["檢核問題"].iter_rows(min_row=2)]
    assert any("新工處_工作計畫.docx" in r and "area-uncovered" in r for r in issues)
    out = tmp_path / "feedback"
    written = write_feedback([f for f in result.files if f.file == "新工處_工作計畫.docx"], out, [inbox])
    assert [p.name for p in written] == ["新工處_工作計畫_回覆.txt"]
    reply = written[0].read_text(encoding="utf-8")
    assert "實施要項「二、" in reply and "表單：工作計畫" in reply and "問題清單" not in reply
    assert f"【錯誤】實施要項「{plan.areas[1].label}」沒有任何工作項目。請在表格中此實施要項預留的列填寫工作重點及工作(推動)方法。" in reply
    assert "請依上列說明修正原檔案後重新寄送（檔名不拘）。" in reply              # a Word file has no 填報日期 to update
    assert "新增一列" not in reply and "下拉選單" not in reply and "原檔名" not in reply


def test_the_docx_template_reads_back(tmp_path, plan, registry):
    written = write_templates(plan, registry, tmp_path, Period(102, 6), [registry.by_code("NCE")])
    names = [p.name for p in written]
    assert names == ["新工處_自行檢核表_102-06.xlsx", "新工處_工作計畫_102.xlsx", "新工處_工作計畫_102.docx"]
    template = tmp_path / "新工處_工作計畫_102.docx"
    checked, blank = one(template, plan, registry)
    assert (blank.form, blank.unit_code, blank.period) == ("workplan", "NCE", "102")
    assert sorted({p.code for p in blank.problems}) == ["area-uncovered", "section-empty"]
    assert len([p for p in blank.problems if p.code == "area-uncovered"]) == 5
    document = docx.Document(template)
    table = document.tables[0]
    assert tuple(c.text for c in table.rows[0].cells) == HEADER
    assert [table.cell(1 + 2 * i, 0).text for i in range(5)] == [a.label for a in plan.areas]
    assert table.cell(2, 0).text == plan.areas[0].label                    # merged over the area's two rows
    help_lines = [p.text for p in document.tables[1].cell(0, 0).paragraphs]    # the 填寫說明 box, words as in the replies
    assert help_lines[5].endswith("計畫依據、計畫目標、實施對象或考核與獎勵未填寫時，照收但會列為警告。")
    assert help_lines[6].startswith("6. 於 4 月查核期限前，以電子郵件附件寄送秘書室")
    assert "，檔名不拘（秘書室依文件內的機關全銜及年度辨識）。如需更正，修改後重新寄送整份檔案即可。" in help_lines[6]
    assert not [line for line in help_lines if "提醒" in line or "原檔名" in line]
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)

    def fill(document, table, sections):
        for i in range(5):
            table.cell(1 + 2 * i, 1).text = f"重點{i + 1}"
            table.cell(1 + 2 * i, 2).text = "方法。"
        sections["audience"].text = "本處同仁。"
        sections["review"].text = "年終考核。"

    filled = tmp_path / "filled" / "新工處_工作計畫.docx"
    write_workplan_docx(filled, plan, registry, registry.by_code("NCE"), fill=fill)
    checked, report = one(filled, plan, registry)
    assert report.state == "accepted" and report.problems == ()
    assert checked.workplan[checked.workplan["present"]]["focus"].tolist() == [f"重點{i}" for i in range(1, 6)]
    help_sheet = openpyxl.load_workbook(tmp_path / "新工處_工作計畫_102.xlsx")["填表說明"]
    assert any("新工處_工作計畫_102.docx" in str(c.value) for row in help_sheet.iter_rows() for c in row)


def test_word_template_in_libreoffice_shows_the_table(tmp_path, plan, registry):
    from office import convert, pdf_pages

    write_templates(plan, registry, tmp_path, Period(102, None), [registry.by_code("MNT")])
    pdf = convert(tmp_path / "養工處_工作計畫_102.docx", "pdf", tmp_path / "pdf")
    pages = pdf_pages(pdf)
    assert "養護工程處" in pages[0] and "實施要項" in pages[0] and "壹、計畫依據" in pages[0]
    assert plan.areas[4].label.replace("，", "") in "".join(pages).replace("，", "").replace("\n", "")
    shutil.rmtree(tmp_path / "pdf")
