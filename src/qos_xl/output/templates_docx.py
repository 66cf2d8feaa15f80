"""The Word work plan per unit (附件2 as a .docx): the workbook's labels, the table pre-structured, the areas listed.

附件2 lets units write the work plan in Word.  This template is what qos-xl reads back
(``pipeline/locate_docx``): the title line and a 「機關全銜：」 and 「年度：」 line, the
headings 壹、計畫依據 … 伍、考核與獎勵, and the table 實施要項 | 工作重點 | 工作(推動)方法 |
備註 with two rows per area, the area cell merged over them as clerks do.  A4 portrait.
"""

from __future__ import annotations

from pathlib import Path

from qos_xl.core.catalogue import Plan
from qos_xl.core.files import atomic_path
from qos_xl.core.registry import Registry, Unit
from qos_xl.core.vocabulary import WORKPLAN_COLUMNS, WORKPLAN_LABELS, WORKPLAN_SECTIONS
from qos_xl.output.reply import ANY_NAME
from qos_xl.output.templates_text import WARNING_NAME, full_unit_name, numbered_lines, secretariat_contact, workplan_filename

ROWS_PER_AREA = 2
TABLE_HEADING = "肆、計畫內容（工作推動重點與方法）"
HEADINGS = {"basis": "壹、", "goals": "貳、", "audience": "叁、", "review": "伍、"}
COLUMN_WIDTHS_CM = (4.2, 4.6, 6.2, 2.0)


def write_workplan_docx(path: Path, plan: Plan, registry: Registry, unit: Unit, fill=None) -> None:
    """The unit's Word work plan, written atomically; ``fill`` (the demo's) may write into its table and sections.

    ``fill(document, table, sections)``: ``table`` is the work-plan table, ``sections`` maps
    a section (basis, goals, audience, review) to its first paragraph."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Cm, Pt

    full_name = full_unit_name(plan, registry, unit)
    title = f"{full_name}{plan.year} 年度提升服務品質工作計畫"
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.0)
    section.top_margin = section.bottom_margin = Cm(2.0)
    document.core_properties.title = title
    document.core_properties.subject = f"{plan.year}年度工作計畫"
    document.core_properties.author = plan.organisation

    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(title)
    run.bold, run.font.size = True, Pt(16)
    note = document.add_paragraph().add_run("請在各標題下填寫；標題文字及表格標題列請勿修改。填寫說明見文末。")
    note.font.size = Pt(9)
    document.add_paragraph(f"{WORKPLAN_LABELS['unit']}：{full_name}")
    document.add_paragraph(f"{WORKPLAN_LABELS['year']}：{plan.year}")

    sections = {}

    def section_heading(text: str) -> None:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.space_before = Pt(12)
        paragraph.add_run(text).bold = True

    prefilled = {"basis": numbered_lines(plan.basis), "goals": numbered_lines(plan.goals), "audience": "", "review": ""}
    for name in ("basis", "goals", "audience"):
        section_heading(HEADINGS[name] + WORKPLAN_SECTIONS[name])
        lines = prefilled[name].splitlines() or [""]
        paragraphs = [document.add_paragraph(line) for line in lines]
        sections[name] = paragraphs[0]

    section_heading(TABLE_HEADING)
    areas = plan.areas
    table = document.add_table(rows=1 + ROWS_PER_AREA * len(areas), cols=len(WORKPLAN_COLUMNS))
    table.style = "Table Grid"
    for col, label in enumerate(WORKPLAN_COLUMNS.values()):
        cell = table.cell(0, col)
        cell.text = label
        cell.paragraphs[0].runs[0].bold = True
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for index, area in enumerate(areas):
        top = 1 + ROWS_PER_AREA * index
        merged = table.cell(top, 0).merge(table.cell(top + ROWS_PER_AREA - 1, 0))
        merged.text = area.label
    for row in table.rows:
        for cell, width in zip(row.cells, COLUMN_WIDTHS_CM):
            cell.width = Cm(width)

    section_heading(HEADINGS["review"] + WORKPLAN_SECTIONS["review"])
    sections["review"] = document.add_paragraph("")

    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    help_box = document.add_table(rows=1, cols=1)
    help_box.style = "Table Grid"
    cell = help_box.cell(0, 0)
    cell.paragraphs[0].add_run("填寫說明").bold = True
    for line in _help(plan, registry, unit):
        cell.add_paragraph(line)

    if fill is not None:
        fill(document, table, sections)
    with atomic_path(path) as tmp:
        document.save(tmp)


def _help(plan: Plan, registry: Registry, unit: Unit) -> list[str]:
    areas = "、".join(a.label for a in plan.areas)
    return [
        f"1. 本檔是「{unit.name}」{plan.year} 年度工作計畫的 Word 範本（附件2 格式），與試算表範本"
        f"「{workplan_filename(unit, plan.year)}」擇一填寫即可，兩種格式都收。可用 Microsoft Word 或 LibreOffice Writer 填寫，"
        "存成 Word 文件（.docx）寄送；請勿存成舊版 .doc、PDF 或 .odt。",
        "2. 文件標題及「機關全銜：」「年度：」兩行已預填，請勿修改年度；機關全銜如有錯誤請更正。",
        "3. 壹、計畫依據及貳、計畫目標已預填本局計畫內容，請依貴單位情形修改；叁、實施對象及伍、考核與獎勵請在標題下填寫。"
        "標題文字（例如「壹、計畫依據」）請勿修改。",
        f"4. 計畫內容表格：實施要項已列出本計畫五項（{areas}），每一項預留兩列，可用 Word 的「插入列」增加列數。"
        "每一列都要同時填寫「工作重點」及「工作(推動)方法」；只有實施要項、其餘空白的列視為未使用。表格標題列請勿修改，"
        "表格跨頁時請維持同一個表格。",
        "5. 每一項實施要項至少要有一列工作重點及工作(推動)方法，否則整份退回；計畫依據、計畫目標、實施對象或考核與獎勵未填寫時，"
        f"照收但會列為{WARNING_NAME}。",
        f"6. 於 4 月查核期限前，以電子郵件附件寄送{secretariat_contact(registry)}，{ANY_NAME}（秘書室依文件內的機關全銜及年度辨識）。"
        "如需更正，修改後重新寄送整份檔案即可。本頁說明可保留，不影響檢核。",
    ]
