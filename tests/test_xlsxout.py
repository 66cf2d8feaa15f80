"""xlsxout: xlsxwriter's public API only, and untrusted text written as text in both of its writing modes."""

from __future__ import annotations

import ast
import csv
import zipfile
from pathlib import Path

import openpyxl
import pytest

import office
from qos_xl.intake.spreadsheet import open_workbook
from qos_xl.output import xlsxout

HOSTILE = ["=1+1", "+886-7-1234567", "-5", "@SUM(A1)", '=HYPERLINK("http://x","y")', "a & b <c> \"d\"",
           "回車\r\n換行", "_x0041_ 與 _X00e9_ 字面", "\t開頭定位", "結尾換行\n",
           "  前後空白  ", "第一行\n第二行", "_x000D_ 字面", "控制\x07字元", "中文，全形。", "http://evil.example/x",
           "<r><t>x</t></r></si><si><t>injected</t></r>", "1e5", "0012", "TRUE"]
OUTPUT = Path(xlsxout.__file__).parent


def write_texts(path: Path, *, constant_memory: bool) -> Path:
    wb = xlsxout.new_workbook(path, constant_memory=constant_memory, tmpdir=str(path.parent))
    ws = wb.add_worksheet("文字")
    for row, text in enumerate(HOSTILE):
        xlsxout.write_string(ws, row, 0, text)
        xlsxout.write_value(ws, row, 1, row / 10)
    xlsxout.write_value(ws, len(HOSTILE), 0, None)
    xlsxout.write_value(ws, len(HOSTILE), 1, True)
    wb.close()
    return path


@pytest.mark.parametrize("constant_memory", [False, True])
def test_untrusted_text_stays_text(tmp_path, constant_memory):
    path = write_texts(tmp_path / "texts.xlsx", constant_memory=constant_memory)
    cells = open_workbook(path).sheets[0].cells          # decodes _xHHHH_ as Excel does (openpyxl does not)
    assert [cells.get((r, 1)) for r in range(1, len(HOSTILE) + 1)] == [xlsxout.safe_text(t) for t in HOSTILE]
    assert xlsxout.safe_text("控制\x07字元") == "控制字元" and xlsxout.safe_text(HOSTILE[16]).endswith("</r> ")
    ws = openpyxl.load_workbook(path)["文字"]
    assert {ws.cell(r, 1).data_type for r in range(1, len(HOSTILE) + 1)} == {"s"}
    assert ws.cell(2, 2).value == pytest.approx(0.1) and ws.cell(len(HOSTILE) + 1, 2).value is True
    assert not ws._hyperlinks
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet and "<f " not in sheet
        assert ('t="inlineStr"' in sheet) == constant_memory
        assert not any(n.endswith(".rels") and b"External" in z.read(n) for n in z.namelist())


def test_libreoffice_reads_the_text_as_typed(tmp_path):
    path = write_texts(tmp_path / "lo.xlsx", constant_memory=True)
    with open(office.convert(path, office.CSV_UTF8, tmp_path), encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    # the CSV export writes a cell's CR LF as LF
    assert [r[0] for r in table[:len(HOSTILE)]] == [xlsxout.safe_text(t).replace("\r\n", "\n") for t in HOSTILE]


def test_write_refusals_are_errors(tmp_path):
    wb = xlsxout.new_workbook(tmp_path / "refused.xlsx", constant_memory=True)
    ws = wb.add_worksheet("a")
    xlsxout.write_string(ws, 5, 0, "第六列")
    with pytest.raises(xlsxout.WriteError):            # constant_memory: a row already written is closed
        xlsxout.write_string(ws, 2, 0, "回頭寫")
    with pytest.raises(xlsxout.WriteError):
        xlsxout.write_value(ws, xlsxout.EXCEL_ROWS, 0, 1)
    wb.close()


def test_print_setup(tmp_path):
    path = tmp_path / "print.xlsx"
    wb = xlsxout.new_workbook(path)
    tall = wb.add_worksheet("直式")
    xlsxout.print_a4(tall, header_rows=(0, 1), title="標題 & 副標", landscape=False, pages_tall=1)
    wide = wb.add_worksheet("橫式")
    xlsxout.print_a4(wide, header_rows=None, gridlines=True)
    for ws in (tall, wide):
        ws.write_string(0, 0, "x")
    wb.close()
    tall, wide = openpyxl.load_workbook(path).worksheets
    assert tall.page_setup.orientation == "portrait" and wide.page_setup.orientation == "landscape"
    assert int(tall.page_setup.paperSize) == int(wide.page_setup.paperSize) == 9
    assert tall.page_setup.fitToHeight in (None, 1, "1") and int(wide.page_setup.fitToHeight) == 0
    assert tall.print_title_rows == "$1:$2" and not wide.print_title_rows
    assert tall.oddHeader.left.text == "標題 && 副標" and "&P" in wide.oddFooter.center.text   # &&: one & printed
    assert wide.print_options.gridLines and not tall.print_options.gridLines


def test_row_height_fits_wrapped_text():
    assert xlsxout.display_width("ab中文") == 6
    assert xlsxout.row_height([("短", 10)]) == 20.5
    assert xlsxout.row_height([("中" * 20, 11)]) == 4 * 16.5 + 4          # 40 widths in 10 a line
    assert xlsxout.row_height([("a\nb\nc", 30), ("", 5)]) == 3 * 16.5 + 4


def private_uses(path: Path) -> list[str]:
    """Names starting with _ reached on anything but self/cls, and xlsxwriter's modules imported or subclassed."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append(f"{path.name}:{node.lineno} .{node.attr}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xlsxwriter."):
            found.append(f"{path.name}:{node.lineno} from {node.module}")
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                if "xlsxwriter" in ast.unparse(base) or ast.unparse(base) in ("Workbook", "Worksheet"):
                    found.append(f"{path.name}:{node.lineno} subclass of {ast.unparse(base)}")
    return found


def test_no_private_xlsxwriter_api(tmp_path):
    """The consolidated workbook and xlsxout use xlsxwriter's public API: no private attribute, no subclass."""
    files = [OUTPUT / "xlsxout.py", *sorted((OUTPUT / "consolidated").glob("*.py"))]
    assert len(files) > 5
    assert [use for path in files for use in private_uses(path)] == []
    planted = tmp_path / "planted.py"      # the check finds what it is there to find
    planted.write_text("from xlsxwriter.worksheet import Worksheet\nclass W(Worksheet):\n    pass\nfmt._get_xf_index()\n",
                       encoding="utf-8")
    assert len(private_uses(planted)) == 3
