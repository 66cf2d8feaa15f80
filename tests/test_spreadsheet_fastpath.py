"""The .xlsx fast path reads exactly what the expat callback path reads.

Worksheets and shared strings small enough are checked by a handler-less defused expat
parse and then read with regular expressions (spreadsheet._scan_*); anything in a shape
those do not know goes through the expat callbacks.  Every test here reads a file both
ways (``spreadsheet._FAST_PATH`` off for the reference) and asserts the same Workbook,
field by field and value types included, or the same FileProblem code and parameters;
most also assert which parts were left to the callbacks.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import zipfile
from pathlib import Path
from xml.parsers import expat
from xml.sax.saxutils import escape

import builders
import hostile
import pytest
from conftest import DEMO_INBOX, REPO, need_tool
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook as OpenpyxlBook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from test_hostile_inbox import CASES

from qos_xl.intake import spreadsheet as S
from qos_xl.core.problems import FileProblem, column_letter
from qos_xl.intake.spreadsheet import ErrorValue, Limits, open_workbook

EXPAT_SHEET, EXPAT_STRINGS = S._expat_sheet, S._expat_strings
SHEET1, SST = hostile.SHEET1, "xl/sharedStrings.xml"
MAIN_NS = hostile.MAIN_NS
D = dt.datetime
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def snapshot(book) -> tuple:
    """Every field of a Workbook and of its sheets; cell values with their types."""
    sheets = tuple(
        (s.name, s.state, s.skipped, sorted((pos, type(v).__name__, v) for pos, v in s.cells.items()),
         sorted(s.uncached), list(s.merged), sorted(s.hidden_rows), sorted(s.hidden_cols))
        for s in book.sheets
    )
    return book.format, book.date1904, book.has_macros, sheets


def read(path, *, fast: bool, limits: Limits = Limits(), wanted=None) -> tuple[tuple, list[str]]:
    """(the snapshot, or ("problem", code, params)), and the parts read through expat callbacks."""
    callbacks: list[str] = []

    def sheet(pkg, info, *handlers):
        callbacks.append(info.filename)
        return EXPAT_SHEET(pkg, info, *handlers)

    def strings(pkg, info, *args):
        callbacks.append(info.filename)
        return EXPAT_STRINGS(pkg, info, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(S, "_FAST_PATH", fast)
        mp.setattr(S, "_expat_sheet", sheet)
        mp.setattr(S, "_expat_strings", strings)
        try:
            outcome = snapshot(open_workbook(path, limits, wanted))
        except FileProblem as e:
            outcome = ("problem", e.code, e.params)
    return outcome, callbacks


def both(path, limits: Limits = Limits(), wanted=None) -> tuple[tuple, list[str]]:
    """The outcome, asserted the same both ways, and the parts the fast path left to callbacks."""
    fast, callbacks = read(path, fast=True, limits=limits, wanted=wanted)
    reference, _ = read(path, fast=False, limits=limits, wanted=wanted)
    assert fast == reference
    return fast, callbacks


def cells_of(outcome, sheet: int = 0) -> dict:
    assert outcome[0] != "problem", outcome
    return {pos: value for pos, _type, value in outcome[3][sheet][3]}


def worksheet(sheet_data: str, *, before: str = "", after: str = "", decl: str = hostile.XML_DECL) -> str:
    """A worksheet part; the prefix x is bound to the main namespace too."""
    return (f'{decl}<worksheet xmlns="{MAIN_NS}" xmlns:x="{MAIN_NS}" xmlns:r="{hostile.REL_NS}" '
            f'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">'
            f"{before}<sheetData>{sheet_data}</sheetData>{after}</worksheet>")


def shared_strings(items: str, decl: str = hostile.XML_DECL) -> str:
    return f'{decl}<sst xmlns="{MAIN_NS}" xmlns:x="{MAIN_NS}">{items}</sst>'


def xlsx(directory, sheet: str | bytes, sst: str | bytes | None = None, name: str = "book.xlsx") -> Path:
    raw = sheet.encode() if isinstance(sheet, str) else sheet
    extra = {SST: sst.encode() if isinstance(sst, str) else sst} if sst is not None else None
    return hostile.with_sheet1(directory, name, raw, extra)


# ------------------------------------------------------------------------------------------
# every .xlsx the test suite builds
# ------------------------------------------------------------------------------------------

# (builder, whether the fast path reads all its parts; None: not asserted)
HOSTILE = [
    (hostile.plain_xlsx, True), (hostile.truncated_zip, None), (hostile.flipped_byte, None),
    (hostile.flipped_byte_deflated, None), (hostile.overlapping_entries, None), (hostile.duplicate_names, None),
    (hostile.zip_bomb_lying_sizes, None), (hostile.billion_laughs, None), (hostile.external_entity, None),
    (hostile.doctype_in_unread_part, True), (hostile.doctype_after_long_prolog, None), (hostile.utf16_doctype, None),
    (hostile.huge_dimension, True), (hostile.far_corner, True), (hostile.lone_far_cell, True),
    (hostile.beyond_excel, True), (hostile.lying_dimension, True), (hostile.many_cells, True),
    (hostile.many_blank_cells, True), (hostile.no_r_attributes, True), (hostile.xlsm_with_macros, True),
    (hostile.uncached_formulas, True), (hostile.openpyxl_formulas, True), (hostile.date_1904, True),
    (hostile.date_serials, True), (hostile.long_string, True), (hostile.huge_inline_string, False),
    (hostile.control_characters, True), (hostile.emoji_cjk, True), (hostile.rich_text_phonetic, True),
    (hostile.hidden_parts, True), (hostile.merged_cells, True), (hostile.absolute_targets, True),
    (hostile.too_many_members, None),
]
TIGHT = [Limits(max_cells=10), Limits(max_cells=1_000), Limits(max_rows=5, max_cols=3),
         Limits(max_total_cells=50), Limits(max_total_bytes=60_000)]


@pytest.mark.parametrize("builder, fast", HOSTILE, ids=[b.__name__ for b, _ in HOSTILE])
def test_hostile_builders(tmp_path, builder, fast):
    path = builder(tmp_path)
    _, callbacks = both(path)
    if fast is not None:
        assert (callbacks == []) is fast, callbacks
    if path.stat().st_size < 2**20:
        for limits in TIGHT:
            both(path, limits)


@pytest.mark.parametrize("case", [c for c in CASES if c != "zip-bomb"])
def test_hostile_inbox_cases(tmp_path, plan, registry, case):
    path = CASES[case][0](tmp_path, plan, registry)
    if path.suffix.startswith(".xls"):
        both(path)


def test_template_builders(tmp_path, plan, registry):
    row = builders.step_row(plan, "1-1-1")

    def edit(ws):
        ws[f"G{row}"] = "含 & < > \" ' 與\r\n換行  "
        ws[f"H{row}"] = dt.datetime(2013, 6, 1)
        ws[f"I{row}"] = "=1+1"
        ws[f"J{row}"] = True
        ws.merge_cells(f"I{row + 1}:J{row + 2}")
        ws.row_dimensions[row + 3].hidden = True

    paths = [builders.template(plan, registry, "MNT", "102-06", "selfcheck"),
             builders.template(plan, registry, "MNT", "102-06", "workplan"),
             builders.selfcheck(tmp_path, plan, registry),
             builders.selfcheck(tmp_path / "edited", plan, registry, unit="SEC", edit=edit),
             builders.workplan(tmp_path, plan, registry)]
    for path in paths:
        _, callbacks = both(path)
        assert callbacks == []


def test_sheets_not_wanted(tmp_path):
    outcome, callbacks = both(hostile.hidden_parts(tmp_path), wanted=lambda name, state: state == "visible")
    assert callbacks == [] and [sheet[2] for sheet in outcome[3]] == [False, True, True]


def test_demo_inbox():
    paths = sorted(DEMO_INBOX.glob("*.xls*"))
    assert paths
    for path in paths:
        _, callbacks = both(path)
        assert callbacks == [], path.name


def test_benchmark_inbox_sample():
    inbox = REPO / "bench" / "work" / "1000" / "inbox"
    if not inbox.is_dir():
        pytest.skip("bench/work/1000/inbox not generated (python bench/run.py)")
    for path in sorted(inbox.iterdir())[::40]:
        _, callbacks = both(path)
        assert callbacks == [], path.name


# ------------------------------------------------------------------------------------------
# what writers write
# ------------------------------------------------------------------------------------------

TRICKY = ["a & b < c > d \" ' e", "line\r\nbreak\rand\nmore", "literal _x000D_ and _x0041_", "  padded  ",
          "", " ", "tab\there", "😀𠀀 全形，標點", "]]> and &amp; as text", "=NOT A FORMULA", "x" * 300]


def xlsxwriter_tricky(path: Path) -> Path:
    def fill(book):
        ws = book.add_worksheet("資料")
        date = book.add_format({"num_format": "yyyy/mm/dd"})
        bold = book.add_format({"bold": True})
        for r, text in enumerate(TRICKY):
            ws.write_string(r, 0, text)
        ws.write_formula("B1", "=1/0", None, "#DIV/0!")
        ws.write_formula("B2", '="a"&"b"', None, "ab")
        ws.write_formula("B3", "=TRUE()", None, True)
        ws.write_formula("B4", "=1+1")
        ws.write_formula("B5", "=2*3", None, 6)
        ws.write_array_formula("B6:B7", "{=SUM(A1:A2*A1:A2)}")
        ws.write_dynamic_array_formula("B8", "=SEQUENCE(2)")
        ws.write_rich_string("C1", "plain ", bold, "bold & <b>", " end")
        ws.write_rich_string("C2", bold, "only bold", "\r\ntail")
        ws.write_datetime("D1", dt.datetime(2024, 1, 2), date)
        stamp = book.add_format({"num_format": "yyyy/mm/dd hh:mm:ss"})
        ws.write_datetime("D2", dt.datetime(2024, 1, 2, 3, 4, 5), stamp)
        ws.write_number("D3", 45473, book.add_format({"num_format": "@"}))
        ws.write_number("D4", 1.5e-7)
        ws.write_number("D5", -12345678901234)
        ws.write_boolean("E1", False)
        ws.write_boolean("E2", True)
        ws.write_blank("E3", None, bold)
        ws.set_row(5, None, None, {"hidden": True})
        ws.set_column("F:G", None, None, {"hidden": True})
        ws.merge_range("H1:I2", "合併")
        ws.write_url("J1", "https://example.com/?a=1&b=2", string="連結")
        ws.write_comment("A1", "a note")
        other = book.add_worksheet("隱藏")
        other.write("A1", "secret")
        other.hide()

    return hostile.xlsxwriter_book(path, fill)


def openpyxl_tricky(path: Path) -> Path:
    book = OpenpyxlBook()
    ws = book.active
    for r, text in enumerate(TRICKY, start=1):
        ws.cell(r, 1, text)
    ws["B1"] = "=SUM(1,2)"
    ws["B2"] = True
    ws["B3"] = "#N/A"
    ws["B4"] = dt.datetime(2024, 1, 2, 3, 4, 5)
    ws["B5"] = dt.date(2023, 12, 31)
    ws["B6"] = 1.5
    ws["B7"] = 10**16
    ws["C1"] = CellRichText("x & ", TextBlock(InlineFont(b=True), "bold <"), " y\r\n")
    ws.row_dimensions[3].hidden = True
    ws.column_dimensions["D"].hidden = True
    ws.merge_cells("E5:F6")
    book.create_sheet("第二頁")["A1"] = "two"
    book.save(path)
    return path


@pytest.mark.parametrize("writer", [xlsxwriter_tricky, openpyxl_tricky])
def test_writers_tricky_content(tmp_path, writer):
    outcome, callbacks = both(writer(tmp_path / "tricky.xlsx"))
    assert callbacks == []
    cells = cells_of(outcome)
    assert cells[(1, 1)] == TRICKY[0]
    assert (5, 1) not in cells                             # the empty string reads as blank
    assert cells[(9, 1)] == "]]> and &amp; as text"


def test_writers_values(tmp_path):
    cells = cells_of(both(xlsxwriter_tricky(tmp_path / "w.xlsx"))[0])
    assert cells[(2, 1)] == "line\r\nbreak\rand\nmore"     # xlsxwriter writes CR as _x000D_
    assert cells[(3, 1)] == "literal _x000D_ and _x0041_"
    assert cells[(1, 2)] == ErrorValue("#DIV/0!") and cells[(2, 2)] == "ab" and cells[(3, 2)] is True
    assert cells[(5, 2)] == 6 and cells[(1, 4)] == D(2024, 1, 2) and cells[(2, 4)] == D(2024, 1, 2, 3, 4, 5)
    assert cells[(3, 4)] == 45473 and cells[(1, 5)] is False
    assert cells[(1, 3)] == "plain bold & <b> end" and cells[(2, 3)].startswith("only bold")
    path = openpyxl_tricky(tmp_path / "o.xlsx")
    cells = cells_of(both(path)[0])
    # openpyxl writes CR raw (XML reads it as LF), or as &#13; when it writes with lxml (installed with python-docx)
    with zipfile.ZipFile(path) as package:
        escaped = b"&#13;" in package.read("xl/worksheets/sheet1.xml")
    assert cells[(2, 1)] == ("line\r\nbreak\rand\nmore" if escaped else "line\nbreak\nand\nmore")
    assert cells[(3, 2)] == ErrorValue("#N/A") and cells[(2, 2)] is True
    assert cells[(1, 3)] == ("x & bold < y\r\n" if escaped else "x & bold < y\n")


def test_libreoffice_resaved_tricky_content(tmp_path):
    need_tool("soffice")
    source = xlsxwriter_tricky(tmp_path / "tricky.xlsx")
    out = tmp_path / "out"
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
                    "--convert-to", "xlsx", "--outdir", str(out), str(source)],
                   check=True, env=env, capture_output=True, timeout=180)
    outcome, callbacks = both(out / "tricky.xlsx")
    assert callbacks == []
    assert cells_of(outcome)[(1, 1)] == TRICKY[0]


# ------------------------------------------------------------------------------------------
# shapes: read by the fast path itself, or left to the callbacks
# ------------------------------------------------------------------------------------------

SST_ITEMS = ("<si><t>zero</t></si>"
             '<si><t xml:space="preserve"> one </t></si>'
             '<si><r><t>ri</t></r><r><rPr><b/><sz val="11"/><color rgb="FFFF0000"/><rFont val="新細明體"/></rPr>'
             '<t xml:space="preserve">ch &amp; </t></r><r><rPr/><t>text</t></r></si>'
             '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh>'
             '<phoneticPr fontId="1" type="noConversion"/></si>'
             "<si/>"
             "<si><t/></si>"
             "<si>\n  <t>pretty</t>\n</si>")

# (sheet data, expected cells) the fast path reads without help
KNOWN = {
    "attribute orders": ('<row r="1"><c t="s" r="A1"><v>0</v></c><c s="0" t="n" r="B1"><v>2</v></c>'
                         '<c r="C1" t="s" s="0"><v>1</v></c></row>',
                         {(1, 1): "zero", (1, 2): 2, (1, 3): " one "}),
    "attributes never read": ('<row r="1" spans="1:3" x14ac:dyDescent="0.25" customHeight="1" ht="20">'
                              '<c r="A1" s="0" cm="1" vm="2" ph="1" x14ac:foo="1"><v>7</v></c></row>',
                              {(1, 1): 7}),
    "references in attributes": ('<row r="&#49;"><c r="A&#49;" t="&#115;"><v>2</v></c>'
                                 '<c r="B1" s="0" t="inline&#83;tr"><is><t>x</t></is></c></row>',
                                 {(1, 1): "rich & text", (1, 2): "x"}),
    "white space between elements": ('\n <row r="1">\n  <c r="A1" t="inlineStr">\n   <is>\n    <t>in</t>\n'
                                     '   </is>\n  </c>\n  <c r="B1" >  <f>1+1</f>\n  <v>2</v> </c>\n'
                                     ' <c r="C1" t="s" ><v>6</v></c></row>\n',
                                     {(1, 1): "in", (1, 2): 2, (1, 3): "pretty"}),
    "empty forms": ('<row r="1"><c r="A1"/><c r="B1"></c><c r="C1"><v/></c><c r="D1"><v></v></c>'
                    '<c r="E1" t="s"><v>4</v></c><c r="F1" t="s"><v>5</v></c>'
                    '<c r="G1" t="inlineStr"><is><t/></is></c><c r="H1" t="inlineStr" />'
                    '<c r="I1"><v /></c></row><row r="2"/><row r="3" />',
                    {}),
    "formulas": ('<row r="1"><c r="A1"><f>1+1</f></c><c r="B1"><f t="shared" ref="B1:B2" si="0">A1</f><v>3</v></c>'
                 '<c r="C1"><f t="shared" si="0"/><v>4</v></c><c r="D1" t="str"><f>"a"&amp;"b"</f><v>a&amp;b</v></c>'
                 '<c r="E1" t="str"><f/><v/></c><c r="F1" t="e"><f aca="false">1/0</f><v>#DIV/0!</v></c>'
                 '<c r="G1" t="b"><f>TRUE()</f><v>1</v></c></row>',
                 {(1, 2): 3, (1, 3): 4, (1, 4): "a&b", (1, 6): ErrorValue("#DIV/0!"), (1, 7): True}),
    "inline rich text and phonetic runs": (
        '<row r="1"><c r="A1" t="inlineStr"><is><r><t>a</t></r><r><rPr><i/><u val="single"/></rPr>'
        '<t xml:space="preserve"> b</t></r></is></c>'
        '<c r="B1" t="inlineStr"><is><t>漢</t><rPh sb="0" eb="1"><t>かん</t></rPh></is></c></row>',
        {(1, 1): "a b", (1, 2): "漢"}),
    "line ends and references": (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>a\r\nb\rc&#13;d&#10;e&#x1F600;&lt;&gt;&amp;&quot;&apos;</t>'
        '</is></c><c r="B1" t="str"><v>x\r\ny</v></c>'
        '<c r="C1" t="inlineStr"><is><r><t>p\r</t></r><r><t>\nq</t></r></is></c></row>',
        {(1, 1): "a\nb\nc\rd\ne😀<>&\"'", (1, 2): "x\ny", (1, 3): "p\n\nq"}),
    "zero-padded character references": (
        f'<row r="1"><c r="A&#{"0" * 5000}49;" t="inlineStr">'
        f'<is><t>&#{"0" * 5000}65;&#x{"0" * 5000}42;</t></is></c></row>',
        {(1, 1): "AB"}),
    "rows and cells without r": ('<row><c t="inlineStr"><is><t>a</t></is></c><c/><c><v>3</v></c></row>'
                                 '<row r="4"><c><v>1</v></c><c r="D4"><v>2</v></c><c><v>3</v></c></row>',
                                 {(1, 1): "a", (1, 3): 3, (4, 1): 1, (4, 4): 2, (4, 5): 3}),
    "hidden rows": ('<row r="1" hidden="1"><c r="A1"><v>1</v></c></row><row r="2" hidden="true"/>'
                    '<row r="3" hidden="0"/><row r="4" hidden="&#32;TRUE&#9;"/><row r="5" hidden="false"/>',
                    {(1, 1): 1}),
    "booleans, errors, dates, numbers": (
        '<row r="1"><c r="A1" t="b"><v>0</v></c><c r="B1" t="b"><v> true </v></c><c r="C1" t="e"><v> #N/A </v></c>'
        '<c r="D1" t="d"><v>2024-01-02T03:04:05Z</v></c><c r="E1" t="d"><v>12:30</v></c><c r="F1"><v> 7 </v></c>'
        '<c r="G1"><v>1e3</v></c><c r="H1"><v>9007199254740993</v></c><c r="I1" t="n"><v>0.5</v></c></row>',
        {(1, 1): False, (1, 2): True, (1, 3): ErrorValue("#N/A"), (1, 4): D(2024, 1, 2, 3, 4, 5),
         (1, 5): D(1899, 12, 31, 12, 30), (1, 6): 7, (1, 7): 1000, (1, 8): 9007199254740992.0, (1, 9): 0.5}),
}


@pytest.mark.parametrize("case", KNOWN)
def test_shapes_the_fast_path_reads(tmp_path, case):
    sheet_data, expected = KNOWN[case]
    outcome, callbacks = both(xlsx(tmp_path, worksheet(sheet_data), shared_strings(SST_ITEMS)))
    assert callbacks == []
    assert cells_of(outcome) == expected


@pytest.mark.parametrize("window", [1, 60])
def test_sheet_data_read_in_windows(tmp_path, monkeypatch, window):
    """Sheet data is tokenized in windows that end after a </row>: the same cells."""
    monkeypatch.setattr(S, "_WINDOW", window)
    sst = shared_strings(SST_ITEMS)
    for number, (sheet_data, expected) in enumerate(KNOWN.values()):
        outcome, callbacks = both(xlsx(tmp_path, worksheet(sheet_data), sst, name=f"{number}.xlsx"))
        assert callbacks == [] and cells_of(outcome) == expected
    late = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 30))
    late += '<row r="30"><!-- c --></row>'
    outcome, callbacks = both(xlsx(tmp_path, worksheet(late), sst, name="late.xlsx"))
    assert callbacks == [SHEET1] and len(cells_of(outcome)) == 29
    outcome, callbacks = both(hostile.plain_xlsx(tmp_path))
    assert callbacks == [] and len(cells_of(outcome)) == 600


def test_outside_sheet_data(tmp_path):
    before = ('<!-- a comment --><?pi data?><sheetPr/><cols><col min="2" max="3" hidden="1" width="9"/>'
              "<col min='5' max='5' hidden='true'/><col min=\"7\" max=\"7\" hidden=\"0\"/>"
              '<x:col min="9" max="9" hidden="1"/>'
              '<col min="11" max="11" hidden="1" x14ac:hidden="0"/></cols>')
    after = ('<mergeCells count="3"><mergeCell ref="A1:B2"/><mergeCell ref="$C$3:$D$4"/><x:mergeCell ref=" E5"/>'
             '</mergeCells><headerFooter><oddHeader>&amp;L&amp;9 <![CDATA[<sheetData>]]></oddHeader></headerFooter>')
    sheet = worksheet('<row r="1"><c r="A1"><v>1</v></c></row>', before=before, after=after)
    outcome, callbacks = both(xlsx(tmp_path, sheet))
    assert callbacks == []
    sheet = outcome[3][0]
    assert sheet[5] == [(1, 1, 2, 2), (3, 3, 4, 4), (5, 5, 5, 5)]
    assert sheet[7] == [2, 3, 5, 9, 11]



def test_space_before_the_end_of_a_tag(tmp_path):
    """openpyxl writes ``<v />`` and ``<pageMargins ... />``: still the fast path, on every 3.11.

    Python 3.11.0-3.11.4 (Debian 12's python3 is 3.11.2) match a possessively repeated group
    that fails part-way wrongly (CPython gh-106052): the attribute group then took the space
    before "/>" and the tag was not recognised.
    """
    assert S._MARKUP.fullmatch('<pageMargins left="0.75" />').groups() == ("pageMargins", ' left="0.75"', "/", None)
    sheet = worksheet('<row r="1"><c r="A1" s="1" ><f>1+1</f><v /></c><c r="B1" t="s" ><v>0</v></c></row>',
                      after='<pageMargins left="0.75" right="0.75" />')
    outcome, callbacks = both(xlsx(tmp_path, sheet, shared_strings("<si><t>ok</t></si>")))
    assert callbacks == []
    assert cells_of(outcome) == {(1, 2): "ok"}


def test_repeated_groups_are_atomic_not_possessive():
    """The gh-106052 shape is kept out of every pattern of the fast path."""
    for name, pattern in vars(S).items():
        if isinstance(pattern, re.Pattern):
            source = pattern.pattern if isinstance(pattern.pattern, str) else pattern.pattern.decode("latin-1")
            assert ")*+" not in source and ")++" not in source, name


# (sheet data, shared strings, expected cells) the callbacks read: the fast path must give up
FALLBACK = {
    "prefixed cell": ('<row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>p</x:t></x:is></x:c></row>', None,
                      {(1, 1): "p"}),
    "prefixed row": ('<x:row r="2"><c r="A2"><v>1</v></c></x:row>', None, {(2, 1): 1}),
    "CDATA": ('<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[<b>&]]></t></is></c></row>', None,
              {(1, 1): "<b>&"}),
    "comment": ('<row r="1"><!-- note --><c r="A1"><v>1</v></c></row>', None, {(1, 1): 1}),
    "processing instruction": ('<row r="1"><c r="A1"><?pi x?><v>1</v></c></row>', None, {(1, 1): 1}),
    "single quotes": ("<row r='1'><c r='A1'><v>1</v></c></row>", None, {(1, 1): 1}),
    "spaces around =": ('<row r = "1"><c r="A1"><v>1</v></c></row>', None, {(1, 1): 1}),
    "text between cells": ('<row r="1">stray<c r="A1"><v>1</v></c></row>', None, {(1, 1): 1}),
    "formula and inline string": ('<row r="1"><c r="A1" t="inlineStr"><f>1</f><is><t>a</t></is></c></row>', None,
                                  {(1, 1): "a"}),
    "unknown run property": ('<row r="1"><c r="A1" t="inlineStr"><is><r><rPr><foo/></rPr><t>a</t></r></is></c></row>',
                             None, {(1, 1): "a"}),
    "extension list": ('<row r="1"><c r="A1"><v>1</v><extLst/></c></row>', None, {(1, 1): 1}),
    "two sheetData": ('<row r="1"><c r="A1"><v>1</v></c></row></sheetData><sheetData><row><c><v>2</v></c></row>',
                      None,
                      {(1, 1): 1, (2, 1): 2}),
    "prefixed shared string": ('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', "<x:si><x:t>q</x:t></x:si>",
                               {(1, 1): "q"}),
    "comment in shared strings": ('<row r="1"><c r="A1" t="s"><v>1</v></c></row>',
                                  "<si><t>a</t></si><!-- c --><si><t>b</t></si>",
                                  {(1, 1): "b"}),
    "CDATA in shared strings": ('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', "<si><t><![CDATA[&x]]></t></si>",
                                {(1, 1): "&x"}),
}


@pytest.mark.parametrize("case", FALLBACK)
def test_shapes_left_to_the_callbacks(tmp_path, case):
    sheet_data, items, expected = FALLBACK[case]
    sst = shared_strings(items if items is not None else SST_ITEMS)
    outcome, callbacks = both(xlsx(tmp_path, worksheet(sheet_data), sst))
    assert callbacks == [SHEET1 if items is None else SST]
    assert cells_of(outcome) == expected


@pytest.mark.parametrize("encoding, decl, text", [
    ("utf-16", '<?xml version="1.0" encoding="UTF-16"?>', "café"),
    ("latin-1", '<?xml version="1.0" encoding="ISO-8859-1"?>', "café"),
    ("latin-1", "<?xml version='1.0' encoding='iso-8859-1'?>", "Ã©"),      # bytes that are also UTF-8 for "é"
    ("utf-8-sig", '<?xml version="1.0" encoding="UTF-8"?>', "café"),
    ("utf-8", "", "café"),
])
def test_encodings(tmp_path, encoding, decl, text):
    sheet = worksheet(f'<row r="1"><c r="A1" t="inlineStr"><is><t>{text}</t></is></c>'
                      '<c r="B1" t="s"><v>0</v></c></row>', decl=decl).encode(encoding)
    sst = shared_strings(f"<si><t>{text}</t></si>", decl=decl).encode(encoding)
    outcome, callbacks = both(xlsx(tmp_path, sheet, sst))
    assert callbacks == ([] if encoding.startswith("utf-8") else [SHEET1, SST])
    assert cells_of(outcome) == {(1, 1): text, (1, 2): text}


def test_values_longer_than_collected_are_left_to_the_callbacks(tmp_path):
    long = "長" * (S._TEXT_CAP + 1)
    for sheet_data, items in [(f'<row r="1"><c r="A1" t="inlineStr"><is><t>{long}</t></is></c></row>', None),
                              (f'<row r="1"><c r="A1" t="str"><v>{long}</v></c></row>', None),
                              ('<row r="1"><c r="A1" t="s"><v>0</v></c></row>', f"<si><t>{long}</t></si>")]:
        path = xlsx(tmp_path, worksheet(sheet_data), shared_strings(items or SST_ITEMS))
        outcome, callbacks = both(path)
        assert callbacks == [SHEET1 if items is None else SST]
        assert cells_of(outcome) == {(1, 1): long[:32_767]}
        path.unlink()


def test_members_larger_than_the_fast_path_takes_are_streamed(tmp_path, monkeypatch):
    monkeypatch.setattr(S, "_FAST_MAX_BYTES", 100)
    outcome, callbacks = both(xlsx(tmp_path, worksheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'),
                                   shared_strings(SST_ITEMS)))
    assert callbacks == [SHEET1, SST]
    assert cells_of(outcome) == {(1, 1): "zero"}


# ------------------------------------------------------------------------------------------
# problems and their order
# ------------------------------------------------------------------------------------------

# sheet data -> the code both ways (None: read)
PROBLEMS = {
    "bad reference": ('<row r="1"><c r="A0"><v>1</v></c></row>', "file-corrupt"),
    "lowercase reference": ('<row r="1"><c r="a1"><v>1</v></c><c r="b1" t="s"><v>0</v></c></row>', None),
    "empty reference": ('<row r="1"><c r=""><v>1</v></c></row>', "file-corrupt"),
    "empty type": ('<row r="1"><c r="A1" t=""><v>1</v></c></row>', "file-corrupt"),
    "unknown type": ('<row r="1"><c r="A1" t="x"><v>1</v></c></row>', "file-corrupt"),
    "bad number": ('<row r="1"><c r="A1"><v>nan</v></c></row>', "file-corrupt"),
    "bad bool": ('<row r="1"><c r="A1" t="b"><v>2</v></c></row>', "file-corrupt"),
    "bad date": ('<row r="1"><c r="A1" t="d"><v>soon</v></c></row>', "file-corrupt"),
    "bad shared index": ('<row r="1"><c r="A1" t="s"><v>x</v></c></row>', "file-corrupt"),
    "shared index out of range": ('<row r="1"><c r="A1" t="s"><v>99</v></c></row>', "file-corrupt"),
    "bad row": ('<row r="01"><c><v>1</v></c></row>', "file-corrupt"),
    "empty row number": ('<row r=""><c><v>1</v></c></row>', "file-corrupt"),
    "row beyond Excel": ('<row r="1048577"><c><v>1</v></c></row>', "file-corrupt"),
    "column beyond Excel": ('<row r="1"><c r="XFE1"><v>1</v></c></row>', "file-corrupt"),
    "cell outside rows": ("<c><v>1</v></c>", "file-corrupt"),
    "bad then malformed": ('<row r="1"><c r="A0"><v>1</v></c></row><row r="2"><c r="A2"><v>&bogus;</v></c></row>',
                           "file-corrupt"),
    "malformed then bad": ('<row r="1"><c r="A1"><v>&bogus;</v></c></row><row r="2"><c r="A0"><v>1</v></c></row>',
                           "file-corrupt"),
    "unclosed": ('<row r="1"><c r="A1"><v>1</v></c>', "file-corrupt"),
    "DOCTYPE inside": ('<row r="1"/><!DOCTYPE x>', "file-corrupt"),
}


@pytest.mark.parametrize("case", PROBLEMS)
def test_problems(tmp_path, case):
    sheet_data, code = PROBLEMS[case]
    sheet = worksheet(sheet_data)
    if case == "unclosed":
        sheet = sheet.replace("</sheetData>", "")
    outcome, _ = both(xlsx(tmp_path, sheet, shared_strings(SST_ITEMS)))
    assert (outcome[1] if outcome[0] == "problem" else None) == code, outcome


def test_junk_after_the_document(tmp_path):
    outcome, callbacks = both(xlsx(tmp_path, worksheet('<row r="1"/>') + "<junk/>"))
    assert outcome[1] == "file-corrupt" and callbacks == [SHEET1]


def test_bad_merge_range_before_the_data(tmp_path):
    path = xlsx(tmp_path, worksheet('<row r="1"><c r="A0"><v>1</v></c></row>',
                                    before='<mergeCells><mergeCell ref="B0:C1"/></mergeCells>'))
    outcome, callbacks = both(path)
    assert callbacks == [] and "B0" in outcome[2]["detail"]


def test_cell_and_merge_budgets(tmp_path):
    cells = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" s="0"/><c r="C{r}"><f>1</f></c></row>'
                    for r in range(1, 41))
    merges = "<mergeCells>" + "".join(f'<mergeCell ref="D{r}:E{r}"/>' for r in range(1, 41)) + "</mergeCells>"
    path = xlsx(tmp_path, worksheet(cells, after=merges))
    for limits in (Limits(max_cells=79), Limits(max_cells=80), Limits(max_cells=39), Limits(max_cells=9),
                   Limits(max_total_cells=10), Limits(max_rows=39), Limits(max_cols=2)):
        outcome, callbacks = both(path, limits)
        assert callbacks == []
    assert both(path, Limits(max_cells=9))[0][1] == "sheet-too-large"


def test_shared_strings_after_the_last_one_needed_are_never_judged(tmp_path):
    """The callback path stops at the last string needed: what follows may be anything."""
    sheet = worksheet('<row r="1"><c r="A1" t="s"><v>1</v></c></row>')
    for tail in ("<si><t>late</t></si><bad", "<si><t>&nope;</t></si></sst>", "<!DOCTYPE x>"):
        sst = shared_strings("<si><t>a</t></si><si><t>b</t></si>").replace("</sst>", tail)
        path = xlsx(tmp_path, sheet, sst)
        outcome, callbacks = both(path)
        assert callbacks == [SST] and cells_of(outcome) == {(1, 1): "b"}
        path.unlink()


def test_shared_strings_crc_after_the_last_one_needed(tmp_path):
    """A broken checksum is found only by reading a member to its end, which the callbacks skip."""
    sst = shared_strings("<si><t>a</t></si><si><t>b</t></si>").encode()
    path = xlsx(tmp_path, worksheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), sst)
    members = hostile.read_members(path)
    hostile.write_members(path, members, stored=(SST,))
    data = bytearray(path.read_bytes())
    at = data.find(b"<t>b</t>")
    data[at + 3] ^= 0x20                                  # 'b' -> 'B': CRC wrong, XML fine
    path.write_bytes(bytes(data))
    outcome, callbacks = both(path)
    assert callbacks == [SST] and cells_of(outcome) == {(1, 1): "a"}


def smallest_total_budget(path) -> int:
    """The least Limits.max_total_bytes the callback path reads ``path`` with."""
    lo, hi = 1, 10**8
    while lo < hi:
        mid = (lo + hi) // 2
        if read(path, fast=False, limits=Limits(max_total_bytes=mid))[0][0] == "problem":
            lo = mid + 1
        else:
            hi = mid
    return lo


@pytest.mark.parametrize("sheet_data, items", [
    ('<row r="1"><!-- c --><c r="A1" t="s"><v>1</v></c></row>' + "<row/>" * 500, SST_ITEMS),
    ('<row r="1"><c r="A1" t="s"><v>1</v></c></row>' + "<row/>" * 500,
     "<si><t>a</t></si><!-- c --><si><t>b</t></si>"),
])
def test_inflated_budget_counts_a_part_read_twice_once(tmp_path, sheet_data, items):
    path = xlsx(tmp_path, worksheet(sheet_data), shared_strings(items + "<si><t>pad</t></si>" * 300))
    least = smallest_total_budget(path)
    outcome, callbacks = both(path, Limits(max_total_bytes=least))
    assert outcome[0] != "problem" and len(callbacks) == 1
    assert both(path, Limits(max_total_bytes=least - 1))[0][1] == "archive-too-large"


# ------------------------------------------------------------------------------------------
# generated: decoding, texts, worksheets, mutations
# ------------------------------------------------------------------------------------------

RAW_PIECES = st.sampled_from([
    "a", " ", "  ", "\t", "\r", "\n", "\r\n", "中", "😀", ">", "'", "]", "_x000D_", "_x0041_", "_xD83D__xDE00_",
    "\x85",
    "\u2028", "&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#13;", "&#10;", "&#9;", "&#x20;", "&#x1F600;", "&#65;",
])
XML_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff").filter(
    lambda c: c >= " " or c in "\t\n\r")


@FUZZ
@given(text=st.lists(RAW_PIECES, max_size=12).map("".join), attr=st.lists(RAW_PIECES, max_size=8).map("".join))
def test_decoding_matches_expat(text, attr):
    document = f'<a x="{attr}">{text}</a>'
    assume(S._well_formed(document.encode()))
    parser = expat.ParserCreate()
    found = {"data": [], "attr": None}
    parser.StartElementHandler = lambda name, attrs: found.__setitem__("attr", attrs["x"])
    parser.CharacterDataHandler = found["data"].append
    parser.Parse(document.encode(), True)
    assert S._char_data(text) == "".join(found["data"])
    assert S._attribute_value(attr) == found["attr"]
    assert S._attributes(f' x="{attr}" y:z="1" xmlns="u"') == {"x": found["attr"]}


@FUZZ
@given(texts=st.lists(st.text(XML_CHARS, max_size=30), min_size=1, max_size=6))
def test_generated_texts_written_by_xlsxwriter(tmp_path_factory, texts):
    directory = tmp_path_factory.mktemp("texts")

    def fill(book):
        ws = book.add_worksheet()
        for r, text in enumerate(texts):
            ws.write_string(r, 0, text)
            ws.write_formula(r, 1, "=A1", None, text)

    outcome, callbacks = both(hostile.xlsxwriter_book(directory / "t.xlsx", fill))
    assert callbacks == []


@FUZZ
@given(texts=st.lists(st.text(XML_CHARS, max_size=30), min_size=1, max_size=6))
def test_generated_texts_in_raw_xml(tmp_path_factory, texts):
    directory = tmp_path_factory.mktemp("raw")
    esc = [escape(t, {'"': "&quot;"}) for t in texts]
    rows = "".join(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t xml:space="preserve">{t}</t></is></c>'
                   f'<c r="B{r}" t="s"><v>{r - 1}</v></c><c r="C{r}" t="str"><v>{t}</v></c></row>'
                   for r, t in enumerate(esc, start=1))
    items = "".join(f"<si><r><t>{t}</t></r><r><rPr><b/></rPr><t>{t}</t></r></si>" for t in esc)
    outcome, callbacks = both(xlsx(directory, worksheet(rows), shared_strings(items)))
    assert callbacks == []


@st.composite
def cells(draw, row: int, implicit: bool):
    out, col = [], 0
    for _ in range(draw(st.integers(0, 5))):
        col += draw(st.sampled_from([1, 1, 2, 27]))
        attrs = [] if implicit and draw(st.booleans()) else [("r", f"{column_letter(col)}{row}")]
        kind, inner = draw(st.sampled_from([
            (None, ""), (None, "<v>12</v>"), (None, "<v>2.5</v>"), (None, "<v></v>"), ("n", "<v> 3 </v>"),
            ("s", "<v>0</v>"), ("s", "<v>2</v>"), ("s", "<v>3</v>"), ("str", "<v>t&amp;x</v>"), ("b", "<v>1</v>"),
            ("e", "<v>#REF!</v>"), ("inlineStr", "<is><t>i</t></is>"),
            ("inlineStr", '<is><t xml:space="preserve"> p </t></is>'),
            ("inlineStr", "<is><r><t>r1</t></r><r><rPr><b/></rPr><t>r2</t></r></is>"), (None, "<f>1+1</f>"),
            (None, "<f>1+1</f><v>2</v>"), ("str", "<f>A1</f><v></v>"), ("d", "<v>2024-05-06</v>"),
            (None, "<v>45473</v>"), ("inlineStr", "<is><t>&#13;\r\n</t></is>"),
        ]))
        style = draw(st.sampled_from([None, "0", "1", "2"]))
        if kind:
            attrs.append(("t", kind))
        if style:
            attrs.append(("s", style))
        if draw(st.booleans()):
            attrs.reverse()
        if draw(st.integers(0, 9)) == 0:
            attrs.append(("cm", "1"))
        tag = "".join(f' {k}="{v}"' for k, v in attrs)
        out.append(f"<c{tag}/>" if not inner and draw(st.booleans()) else f"<c{tag}>{inner}</c>")
    return "".join(out)


STYLES = (f'{hostile.XML_DECL}<styleSheet xmlns="{MAIN_NS}"><numFmts count="1">'
          '<numFmt numFmtId="164" formatCode="yyyy/mm/dd"/></numFmts>'
          '<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/></cellXfs></styleSheet>')


@st.composite
def worksheets(draw):
    rows, row = [], 0
    for _ in range(draw(st.integers(0, 6))):
        row += draw(st.sampled_from([1, 1, 3]))
        implicit = draw(st.integers(0, 4)) == 0
        attrs = "" if implicit else f' r="{row}"'
        if draw(st.integers(0, 4)) == 0:
            attrs += ' hidden="1"'
        if draw(st.booleans()):
            attrs += ' spans="1:5" x14ac:dyDescent="0.25"'
        body = draw(cells(row, implicit))
        rows.append(f"<row{attrs}>{body}</row>" if body or draw(st.booleans()) else f"<row{attrs}/>")
    before = '<cols><col min="2" max="3" hidden="1"/></cols>' if draw(st.booleans()) else ""
    after = '<mergeCells><mergeCell ref="A1:B2"/></mergeCells>' if draw(st.booleans()) else ""
    return worksheet("".join(rows), before=before, after=after)


@FUZZ
@given(sheet=worksheets())
def test_generated_worksheets(tmp_path_factory, sheet):
    directory = tmp_path_factory.mktemp("gen")
    path = hostile.with_sheet1(directory, "g.xlsx", sheet.encode(),
                               {SST: shared_strings(SST_ITEMS).encode(), "xl/styles.xml": STYLES.encode()})
    outcome, callbacks = both(path)
    assert callbacks == []
    both(path, Limits(max_cells=3, max_rows=4, max_cols=3))


MUTATION_BASE = worksheet(
    KNOWN["formulas"][0]
    + '<row r="2"><c r="A2" t="inlineStr"><is><t>a\r\nb&#13;&amp;</t></is></c><c r="B2" t="str"><v>x</v></c></row>'
    + '<row r="5" hidden="1"><c r="A5" t="s"><v>2</v></c><c r="B5" t="inlineStr"><is><r><t>a</t></r></is></c></row>',
    before='<cols><col min="1" max="2" hidden="1"/></cols>',
    after='<mergeCells><mergeCell ref="A1:B2"/></mergeCells>')
PIECES = st.sampled_from(["<", ">", "&", '"', "'", " ", "\r", "\n", "/", "=", "x", "1", "&amp;", "</c>", "<v>", "</v>",
                          "<c>", '<c r="A9">', "<row>", "</row>", 't="s"', 'r="B1" ', "<!--c-->", "<![CDATA[z]]>",
                          "<x:c/>", "<t>", "</t>", "<is>", "<r>", "</sheetData>", "<sheetData>"])


@FUZZ
@given(edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 2), PIECES), min_size=1, max_size=3))
def test_mutated_worksheets(tmp_path_factory, edits):
    directory = tmp_path_factory.mktemp("mut")
    sheet = MUTATION_BASE
    for where, op, piece in edits:
        at = int(where * len(sheet))
        sheet = (sheet[:at] + piece + sheet[at:], sheet[:at] + sheet[at + len(piece):],
                 sheet[:at] + piece + sheet[at + 1:])[op]
    both(xlsx(directory, sheet, shared_strings(SST_ITEMS)))


@FUZZ
@given(edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 2), PIECES), min_size=1, max_size=3),
       index=st.integers(0, 7))
def test_mutated_shared_strings(tmp_path_factory, edits, index):
    directory = tmp_path_factory.mktemp("mutsst")
    sst = shared_strings(SST_ITEMS)
    for where, op, piece in edits:
        at = int(where * len(sst))
        sst = (sst[:at] + piece + sst[at:], sst[:at] + sst[at + len(piece):], sst[:at] + piece + sst[at + 1:])[op]
    both(xlsx(directory, worksheet(f'<row r="1"><c r="A1" t="s"><v>{index}</v></c></row>'), sst))
