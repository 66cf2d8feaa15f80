"""xlsxout.BulkWorksheet: rows written as ready XML read back exactly as xlsxwriter's own cells."""

from __future__ import annotations

import csv
import os
import subprocess
import zipfile

import openpyxl
import pytest

from conftest import need_tool
from qos_xl.output import xlsxout
from qos_xl.intake.spreadsheet import open_workbook

HOSTILE = ["=1+1", "+886-7-1234567", "-5", "@SUM(A1)", '=HYPERLINK("http://x","y")', "a & b <c> \"d\"",
           "回車\r\n換行", "_x0041_ 與 _X00e9_ 字面", "\t開頭定位", "結尾換行\n",
           "  前後空白  ", "第一行\n第二行", "_x000D_ 字面", "控制\x07字元", "中文，全形。",
           "<r><t>x</t></r></si><si><t>injected</t></r>"]


def write_bulk(path, rows, *, header=("文字", "數字", "布林"), heights=None):
    wb = xlsxout.new_workbook(path)
    ws = wb.add_worksheet("明細", worksheet_class=xlsxout.BulkWorksheet)
    bold = wb.add_format({"bold": True})
    wrap = wb.add_format({"text_wrap": True, "border": 1})
    number = wb.add_format({"num_format": "0.0%"})
    for col, title in enumerate(header):
        ws.write_string(0, col, title, bold)
    xf = [wrap._get_xf_index(), number._get_xf_index(), wrap._get_xf_index()]
    half = len(rows) // 2                     # two calls: rows may come in batches
    for first, batch in ((1, rows[:half]), (1 + half, rows[half:])):
        ws.add_rows(first, [list(c) for c in zip(*batch)], [[x] * len(batch) for x in xf],
                    [(heights or {}).get(first + i) for i in range(len(batch))])
    ws.autofilter(0, 0, len(rows), 2)
    wb.close()
    return path


def test_bulk_rows_read_back_as_typed(tmp_path):
    rows = [(text, i / 10, i % 2 == 0) for i, text in enumerate(HOSTILE)]
    rows += [(None, None, None), ("", 3, "x"), ("最後", float("nan"), 1234567890123)]
    path = write_bulk(tmp_path / "bulk.xlsx", rows, heights={1: 49.5, 2: 16.5})
    cells = open_workbook(path).sheets[0].cells          # decodes _xHHHH_ as Excel does (openpyxl does not)
    got = [[cells.get((r, c)) for c in (1, 2, 3)] for r in range(2, len(rows) + 2)]
    expected = [[xlsxout.safe_text(t), n, b] for t, n, b in rows[:len(HOSTILE)]]
    expected += [[None, None, None], [None, 3, "x"], ["最後", "nan", 1234567890123]]
    assert got == expected
    ws = openpyxl.load_workbook(path)["明細"]
    for row in ws.iter_rows(min_row=2, max_row=1 + len(HOSTILE)):
        assert row[0].data_type == "s" and row[2].data_type == "b"   # text stays text: no formulas
    assert ws["A2"].alignment.wrap_text and ws["A2"].border.left.style == "thin"
    assert ws["B3"].number_format == "0.0%" and ws["A1"].font.b
    assert ws.row_dimensions[2].height == 49.5 and ws.row_dimensions[3].height == 16.5
    assert ws.auto_filter.ref == f"A1:C{len(rows) + 1}" and ws.dimensions == f"A1:C{len(rows) + 1}"
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet and "<f " not in sheet
        assert 'count="' in z.read("xl/sharedStrings.xml").decode()


def test_bulk_rows_share_strings_and_count_them(tmp_path):
    rows = [("同一句", i, "同一句" if i % 2 else None) for i in range(1, 101)]
    path = write_bulk(tmp_path / "shared.xlsx", rows)
    ws = openpyxl.load_workbook(path)["明細"]
    assert [[c.value for c in r] for r in ws.iter_rows(min_row=2)] == [list(r) for r in rows]
    with zipfile.ZipFile(path) as z:
        sst = z.read("xl/sharedStrings.xml").decode()
    assert sst.count("<si>") == 4 and 'count="153"' in sst   # 3 titles + 1 text; 3 + 100 + 50 references


def test_bulk_rows_refuse_to_go_back(tmp_path):
    wb = xlsxout.new_workbook(tmp_path / "order.xlsx")
    ws = wb.add_worksheet("明細", worksheet_class=xlsxout.BulkWorksheet)
    ws.write_string(2, 0, "表頭")
    with pytest.raises(xlsxout.WriteError):
        ws.add_rows(2, [["同一列"]], [[0]], [None])
    ws.add_rows(3, [["第四列", "第五列"]], [[0, 0]], [None, None])
    with pytest.raises(xlsxout.WriteError):
        ws.add_rows(4, [["又是第五列"]], [[0]], [None])
    with pytest.raises(xlsxout.WriteError):
        ws.add_rows(5, [["少一格", "x"]], [[0]], [None, None])
    with pytest.raises(xlsxout.WriteError):
        ws.add_rows(1_048_576, [["超出工作表"]], [[0]], [None])
    ws.write_string(10, 0, "寫在大量列之下")
    with pytest.raises(xlsxout.WriteError):
        wb.close()


def test_libreoffice_reads_bulk_rows(tmp_path):
    soffice = need_tool("soffice")
    rows = [(text, i, i % 2 == 1) for i, text in enumerate(HOSTILE)]
    path = write_bulk(tmp_path / "lo.xlsx", rows)
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    subprocess.run([soffice, "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1",
                    "--outdir", str(tmp_path), str(path)], check=True, timeout=120, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(tmp_path / "lo.csv", encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["文字", "數字", "布林"]
    # the CSV export writes a cell's CR LF as LF
    assert [r[0] for r in table[1:]] == [xlsxout.safe_text(t).replace("\r\n", "\n") for t, _, _ in rows]
    assert [r[1] for r in table[1:]] == [f"{i * 100}.0%" for _, i, _ in rows]   # the cell style applies
    assert [r[2] for r in table[1:]] == ["TRUE" if b else "FALSE" for _, _, b in rows]


def test_fast_save_workbook_is_a_normal_deflated_package(tmp_path):
    import xlsxwriter.packager
    import xlsxwriter.workbook

    originals = xlsxwriter.workbook.ZipFile, xlsxwriter.packager.SharedStrings
    paths = []
    for fast in (False, True):
        path = tmp_path / f"{fast}.xlsx"
        wb = xlsxout.new_workbook(path, fast_save=fast)
        ws = wb.add_worksheet("明細")
        for row in range(2000):
            xlsxout.write_string(ws, row, 0, f"第 {row} 列的文字，重複的內容重複的內容")
        wb.close()
        paths.append(path)
    assert (xlsxwriter.workbook.ZipFile, xlsxwriter.packager.SharedStrings) == originals   # swapped back
    with zipfile.ZipFile(paths[1]) as fast:
        assert {i.compress_type for i in fast.infolist()} == {zipfile.ZIP_DEFLATED}
        assert fast.testzip() is None
    assert paths[1].stat().st_size > paths[0].stat().st_size      # level 1 is bigger than level 6
    assert openpyxl.load_workbook(paths[1])["明細"]["A2000"].value == "第 1999 列的文字，重複的內容重複的內容"


def test_fast_save_writes_the_same_shared_strings_as_xlsxwriter(tmp_path):
    texts = [*HOSTILE, " 前導空白", "結尾空白 ", "\u3000全形空白\u3000", "a\tb", "x\n", "\n", "_x0041_", "_X0041_",
             "_x00zz_", "&amp; 已跳脫", "<b>粗體</b>", "非字元\ufffe\uffff", "表情 😀", "", "  ", "1e5", "=A1"]
    parts = []
    for fast in (False, True):
        path = tmp_path / f"sst-{fast}.xlsx"
        wb = xlsxout.new_workbook(path, fast_save=fast)
        ws = wb.add_worksheet("字串")
        for row, text in enumerate(texts):
            ws.write_string(row, 0, text)               # as given: safe_text would drop control characters
        ws.write_rich_string(len(texts), 0, "普通", wb.add_format({"bold": True}), "粗體", "結尾")
        wb.close()
        with zipfile.ZipFile(path) as z:
            parts.append(z.read("xl/sharedStrings.xml"))
    assert parts[0] == parts[1]
    assert b"<r>" in parts[1] and b"_x005F_x0041_" in parts[1]      # a rich string and an escaped escape


def test_typed_rich_text_markup_stays_text(tmp_path):
    """xlsxwriter writes a string shaped like "<r>...</r>" as raw XML: safe_text defuses it."""
    markup = "<r><t>x</t></r></si><si><t>injected</t></r>"
    path = tmp_path / "markup.xlsx"
    wb = xlsxout.new_workbook(path)
    xlsxout.write_string(wb.add_worksheet("a"), 0, 0, markup)
    wb.close()
    assert openpyxl.load_workbook(path)["a"]["A1"].value == markup + " "
