"""Reading a unit's Word work plan: the title line, the section headings and the table, found by their text.

附件2 allows the work plan in Word.  What a clerk writes there is found as the workbook's
labels are: the title line 「○○○(機關全銜)102 年度提升服務品質工作計畫」 (or a 「機關全銜：」
and a 「年度：」 line) gives the unit and the year; the headings 壹、計畫依據 … 伍、考核與獎勵
(numerals optional, full- or half-width) open the sections; the table whose header row
holds 實施要項 | 工作重點 | 工作(推動)方法 | 備註 gives the rows, continued in the next table
when a page break split it.  The result is the same ``Submission`` a workbook gives, its
positions named the Word way (第 2 個表格第 5 列, a heading), so validation is the same.
"""

from __future__ import annotations

import re

from qos_xl.core.problems import Problem, make_problem
from qos_xl.core.text import key
from qos_xl.core.vocabulary import WORKPLAN, WORKPLAN_COLUMNS, WORKPLAN_LABELS, WORKPLAN_SECTIONS
from qos_xl.intake.docx import Table, WordDocument
from qos_xl.pipeline.locate import Located, Submission

_NUMERALS = "壹貳參叁肆伍陸柒捌玖拾"
# a formal heading: 壹、… (the numbered items inside a section are 一、二、… and are not headings)
_FORMAL_HEADING = re.compile(rf"^[{_NUMERALS}]+[、.:)]")
_SECTION = re.compile(
    rf"^(?:[{_NUMERALS}一二三四五六七八九十0-9]+[、.:)]?)?({'|'.join(map(re.escape, WORKPLAN_SECTIONS.values()))})"
    r"(?::(?P<rest>.*))?$")
_TITLE = re.compile(r"^(?P<unit>.*?)(?:\(機關全銜\))?(?P<year>[0-9]{2,3})年度?提升服務品質(?:執行)?工作計畫")
_LABEL_LINE = {name: re.compile(rf"^\s*{re.escape(label)}\s*[:：]\s*(?P<value>.*)$", re.S)
               for name, label in WORKPLAN_LABELS.items()}
_SECTION_NAMES = {key(label): name for name, label in WORKPLAN_SECTIONS.items()}
_HEADER_LABELS = {key(label): name for name, label in WORKPLAN_COLUMNS.items()}
_REQUIRED = ("area", "focus")
_OPTIONAL = ("remarks",)   # the plan's 附件2 table: 實施要項 | 工作重點 | 工作(推動)方法 (| 備註)
_HEADER_ROWS = 3           # the header row is among a table's first rows (a caption row may stand above)


def is_workplan(document: WordDocument) -> bool:
    """Whether the document is a work plan at all: its title, two section headings, or the table."""
    paragraphs = [key(b) for b in document.blocks if isinstance(b, str)]
    if any(_TITLE.match(p) for p in paragraphs):
        return True
    if sum(1 for p in paragraphs if _SECTION.match(p)) >= 2:
        return True
    return any(_header(t) for t in document.blocks if isinstance(t, Table))


def read_word_submission(document: WordDocument, file: str) -> Submission:
    """The work plan in a Word document, as a workbook's ``Submission`` with Word positions."""
    problems: list[Problem] = []

    def add(code, cell=None, value=None, **params):
        problems.append(make_problem(code, file=file, cell=cell, value=value, **params))

    header = _identity(document, add)
    header.update(_sections(document, add))
    runs = _table_runs(document)
    rows: list[dict[str, object]] = []
    places: dict[int, str] = {}
    columns: dict[str, str] = {}
    if not runs:
        add("docx-table-missing")
    else:
        first = runs[0]
        if len(runs) > 1:
            add("docx-table-ambiguous", count=len(runs), tables="、".join(str(run[0][0].number) for run in runs))
        found = first[0][1]
        columns = {name: f"第 {col + 1} 欄" for name, col in found.items()}
        for name, label in WORKPLAN_COLUMNS.items():
            if name not in found and name not in _OPTIONAL:
                add("label-missing", label=label)
        for table, col_of, start in first:
            for index in range(start, len(table.rows)):
                cells = table.rows[index]
                values = {name: (cells[col] if col < len(cells) else "") for name, col in col_of.items()}
                if not any(value for name, value in values.items() if name != "area"):
                    continue             # an unused row: blank, or only the 實施要項 the template lists
                number = len(rows) + 1
                rows.append({**values, "_row": number})
                places[number] = f"第 {table.number} 個表格第 {index + 1} 列"
    return Submission(form=WORKPLAN, sheet=None, header=header, rows=rows, columns=columns, problems=problems,
                      places=places)


def _identity(document: WordDocument, add) -> dict[str, Located]:
    """機關全銜 and 年度: from their own lines (or a table's label cells), else from the title line."""
    found: dict[str, Located] = {}
    previous = ""
    title = None
    for block in document.blocks:
        if isinstance(block, Table):
            for row in block.rows:
                for col, value in enumerate(row):
                    name = _label_name(value)
                    if name and name not in found:
                        rest = next((v for v in row[col + 1:] if v and v != value), "")
                        found[name] = Located(rest, 0, 0, f"第 {block.number} 個表格「{WORKPLAN_LABELS[name]}」")
            continue
        for name, pattern in _LABEL_LINE.items():
            m = pattern.match(block)
            if m and name not in found:
                found[name] = Located(m["value"].strip(), 0, 0, f"「{WORKPLAN_LABELS[name]}」一行")
        folded = key(block)
        if title is None and (m := _TITLE.match(folded)):
            unit = _title_unit(block, m)
            title = (unit or previous.strip(), m["year"])
        if folded:
            previous = block
    if title is not None:
        found.setdefault("unit", Located(title[0], 0, 0, "文件標題"))
        found.setdefault("year", Located(title[1], 0, 0, "文件標題"))
    if "unit" not in found:
        add("docx-title-missing")
    elif "year" not in found:
        add("label-missing", label=WORKPLAN_LABELS["year"])
    return found


def _title_unit(paragraph: str, m: re.Match) -> str:
    """The unit as typed in the title line (the part before the year), placeholder words dropped."""
    typed = paragraph.strip()
    cut = typed.find(m["year"]) if m["year"] in typed else -1
    unit = typed[:cut] if cut >= 0 else m["unit"]
    return re.sub(r"[(（]\s*機關全銜\s*[)）]", "", unit).strip().strip("\u3000").strip()


def _label_name(value: str) -> str | None:
    folded = key(value).rstrip(":")
    for name, label in WORKPLAN_LABELS.items():
        if folded == key(label):
            return name
    return None


def _sections(document: WordDocument, add) -> dict[str, Located]:
    """Each section's text: the paragraphs under its heading, up to the next heading or table."""
    found: dict[str, Located] = {}
    texts: dict[str, list[str]] = {}
    current = None
    for block in document.blocks:
        if isinstance(block, Table):
            current = None
            continue
        folded = key(block)
        m = _SECTION.match(folded)
        if m and not (m["rest"] or "").startswith(":"):
            name = _SECTION_NAMES[m[1]]
            if name in found:                  # a heading repeated: its text goes on the first
                current = name
                continue
            current = name
            found[name] = Located("", 0, 0, f"標題「{block.strip()[:30]}」下")
            texts[name] = [_after_colon(block)] if m["rest"] else []
            continue
        if _FORMAL_HEADING.match(folded):
            current = None
            continue
        if current is not None and folded:
            texts[current].append(block.strip())
    for name, label in WORKPLAN_SECTIONS.items():
        if name in found:
            found[name].value = "\n".join(t for t in texts[name] if t)
        else:
            add("docx-heading-missing", label=label)
    return found


def _after_colon(paragraph: str) -> str:
    for mark in ("：", ":"):
        if mark in paragraph:
            return paragraph.split(mark, 1)[1].strip()
    return ""


def _header(table: Table) -> tuple[int, dict[str, int]] | None:
    """(row index, field -> column) of the table's header row, when it has one."""
    for index, row in enumerate(table.rows[:_HEADER_ROWS]):
        found: dict[str, int] = {}
        for col, value in enumerate(row):
            name = _HEADER_LABELS.get(key(value))
            if name:
                found.setdefault(name, col)
        if all(name in found for name in _REQUIRED):
            return index, found
    return None


def _table_runs(document: WordDocument) -> list[list[tuple[Table, dict[str, int], int]]]:
    """Work-plan tables, each with the tables that continue it (page break between, header repeated or not).

    A run is a list of (table, field -> column, first data row)."""
    runs: list[list[tuple[Table, dict[str, int], int]]] = []
    gap_is_blank = False                    # only blank paragraphs since the last table of the last run
    for block in document.blocks:
        if not isinstance(block, Table):
            if key(block):
                gap_is_blank = False
            continue
        head = _header(block)
        if runs and gap_is_blank:
            width = max(len(r) for r in runs[-1][0][0].rows)
            if head is not None:
                runs[-1].append((block, head[1], head[0] + 1))
                continue
            if block.rows and max(len(r) for r in block.rows) == width:
                runs[-1].append((block, runs[-1][0][1], 0))
                continue
        if head is not None:
            runs.append([(block, head[1], head[0] + 1)])
            gap_is_blank = True
        else:
            gap_is_blank = False
    return runs
