"""spreadsheet.py: from a file on disk to sparse sheets, safely, or a precise FileProblem.

Value tests run twice (the ``read`` fixture): through python-calamine, as files normally
are, and through ``intake/fallback.py``, which reads the sheets calamine cannot serve and
must give the same values.  Tests of the isolated worker (.xls, .ods) run twice too (the
``branch`` fixture): with Unix rlimits, and as on Windows, where ``resource`` does not
exist and the parent's watchdog bounds the worker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import resource
import shutil
import string
import struct
import time
import tracemalloc
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import hostile
import office
import pytest
from conftest import REPO, need_tool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qos_xl.intake import bounded, fallback, sheetpass, zipguard
from qos_xl.core import platform
from qos_xl.core.messages import MESSAGES
from qos_xl.core.problems import FileProblem
from qos_xl.core.values import excel_serial_to_datetime
from qos_xl.intake.spreadsheet import ErrorValue, Limits, Sheet, open_workbook, sniff

D = dt.datetime
REALWORLD = REPO.parent / "shared" / "corpus" / "realworld"
SPARSE = Limits(max_dense_cells=0)        # every sheet to intake/fallback.py


@pytest.fixture(params=["calamine", "fallback"])
def read(request, monkeypatch):
    """open_workbook through python-calamine, or through the fallback reader; either must give the same."""
    calls = []
    original = fallback.Cells.read
    monkeypatch.setattr(fallback.Cells, "read", lambda self, *a: calls.append(a) or original(self, *a))

    def opened(path, limits: Limits = Limits(), **kwargs):
        if request.param == "fallback":
            limits = dataclasses.replace(limits, max_dense_cells=0)
        return open_workbook(path, limits, **kwargs)

    opened.path = request.param
    opened.fallback_calls = calls
    return opened


@pytest.fixture(params=["rlimits", "watchdog"])
def branch(request, monkeypatch, tmp_path_factory):
    """The isolated worker bounded by Unix rlimits, or as on Windows: ``resource`` cannot be
    imported in the worker, and this process watches its memory and time."""
    if request.param == "watchdog":
        shim = tmp_path_factory.mktemp("no_resource")
        (shim / "resource.py").write_text('raise ImportError("no module named resource (as on Windows)")\n')
        monkeypatch.setenv("PYTHONPATH", str(shim))
        monkeypatch.setattr(platform, "has_rlimits", lambda: False)
    return request.param


def problem(path, limits: Limits = Limits()) -> FileProblem:
    with pytest.raises(FileProblem) as caught:
        open_workbook(path, limits)
    err = caught.value
    # every problem raised must render with exactly its template's parameters
    _severity, template = MESSAGES[err.code]
    template.format(value="", **err.params)
    names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    assert set(err.params) == names - {"value"}, (err.code, err.params)
    return err


def only_sheet(path, limits: Limits = Limits(), read=open_workbook) -> Sheet:
    book = read(path, limits)
    assert len(book.sheets) == 1
    return book.sheets[0]


def cost(fn):
    """(result or exception, seconds, peak traced Python memory in bytes)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = fn()
    except FileProblem as e:
        result = e
    finally:
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return result, seconds, peak


# ------------------------------------------------------------------------------------------
# sniffing and routing by content
# ------------------------------------------------------------------------------------------


def test_sniff_by_content_not_extension(tmp_path):
    assert sniff(hostile.empty_file(tmp_path)) == "empty"
    assert sniff(hostile.random_bytes(tmp_path)) == "unknown"
    assert sniff(hostile.plain_xlsx(tmp_path)) == "zip"
    assert sniff(hostile.encrypted_ooxml(tmp_path)) == "ole"
    assert sniff(hostile.html_renamed(tmp_path)) == "html"
    assert sniff(hostile.csv_renamed(tmp_path)) == "csv"
    assert sniff(hostile.csv_renamed(tmp_path, "big5")) == "csv"
    assert sniff(hostile.pdf_renamed(tmp_path)) == "pdf"
    assert sniff(hostile.text_file(tmp_path)) == "text"
    table = tmp_path / "t.xlsx"
    table.write_bytes(b"\r\n  <TABLE border=1><tr><td>1</td></tr></TABLE>")
    assert sniff(table) == "html"
    wide = tmp_path / "w.xls"
    wide.write_bytes("<html><body>x</body></html>".encode("utf-16"))
    assert sniff(wide) == "html"
    tabbed = tmp_path / "u.xls"          # Excel's "Unicode text": UTF-16 with tabs
    tabbed.write_bytes("項次\t狀態\n1\t已完成\n".encode("utf-16"))
    assert sniff(tabbed) == "csv"


def test_empty_file(tmp_path):
    assert problem(hostile.empty_file(tmp_path)).code == "file-empty"


def test_too_large_is_refused_before_reading(tmp_path):
    err = problem(hostile.plain_xlsx(tmp_path), Limits(max_file_bytes=1000))
    assert err.code == "file-too-large"
    assert err.params["limit"] == "1000 位元組"
    big = tmp_path / "big.xlsx"
    with open(big, "wb") as f:               # sparse: 21 MiB on paper, nothing to read
        f.truncate(21 * 2**20)
    err = problem(big)
    assert err.code == "file-too-large"
    assert err.params == {"size": "21 MB", "limit": "20 MB"}


def test_random_bytes(tmp_path):
    err = problem(hostile.random_bytes(tmp_path))
    assert (err.code, err.params) == ("file-not-spreadsheet", {"detected": "無法辨識的資料"})


@pytest.mark.parametrize(
    "builder, detected",
    [
        (hostile.docx_renamed, "Word 文件（.docx）"),
        (hostile.plain_zip, "ZIP 壓縮檔"),
        (hostile.html_renamed, "HTML 網頁"),
        (hostile.csv_renamed, "CSV 文字檔"),
        (lambda d: hostile.csv_renamed(d, "big5"), "CSV 文字檔"),
        (hostile.pdf_renamed, "PDF 文件（.pdf）"),
        (hostile.text_file, "純文字檔"),
        (hostile.ole_without_workbook, "Word 97-2003 文件（.doc）"),
    ],
)
def test_not_a_spreadsheet(tmp_path, builder, detected):
    err = problem(builder(tmp_path))
    assert (err.code, err.params) == ("file-not-spreadsheet", {"detected": detected})


def test_truncated_zip(tmp_path):
    assert problem(hostile.truncated_zip(tmp_path)).code == "file-corrupt"


def test_flipped_byte_fails_the_crc(tmp_path):
    err = problem(hostile.flipped_byte(tmp_path))
    assert err.code == "file-corrupt"
    assert "CRC" in err.params["detail"] and "sheet1.xml" in err.params["detail"]


def test_flipped_byte_in_deflated_data(tmp_path):
    assert problem(hostile.flipped_byte_deflated(tmp_path)).code == "file-corrupt"


# ------------------------------------------------------------------------------------------
# encrypted OOXML: a real compound file
# ------------------------------------------------------------------------------------------


def cfb_streams(data: bytes) -> dict[str, bytes]:
    """A tiny compound-file reader (regular sectors only), to prove the builder's CFB is valid."""
    assert data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    shift, = struct.unpack_from("<H", data, 30)
    size = 1 << shift
    n_fat, first_dir = struct.unpack_from("<LL", data, 44)
    difat = struct.unpack_from("<109L", data, 76)

    def sector(i):
        return data[(i + 1) * size: (i + 2) * size]

    fat = []
    for i in difat[:n_fat]:
        fat += struct.unpack(f"<{size // 4}L", sector(i))

    def chain(start):
        out, seen = b"", set()
        while start != 0xFFFFFFFE:
            assert start not in seen and start < len(fat)
            seen.add(start)
            out += sector(start)
            start = fat[start]
        return out

    directory = chain(first_dir)
    entries = [directory[i: i + 128] for i in range(0, len(directory), 128)]

    def name(e):
        length, = struct.unpack_from("<H", e, 64)
        return e[: max(length - 2, 0)].decode("utf-16-le")

    assert name(entries[0]) == "Root Entry" and entries[0][66] == 5
    found, todo = {}, [struct.unpack_from("<L", entries[0], 76)[0]]
    while todo:                                       # walk the red-black tree
        i = todo.pop()
        if i == 0xFFFFFFFF:
            continue
        e = entries[i]
        left, right = struct.unpack_from("<LL", e, 68)
        todo += [left, right]
        start, length = struct.unpack_from("<LQ", e, 116)
        assert e[66] == 2
        found[name(e)] = chain(start)[:length]
    return found


def test_encrypted_ooxml_is_a_valid_compound_file(tmp_path):
    streams = cfb_streams(hostile.encrypted_ooxml(tmp_path).read_bytes())
    assert set(streams) == {"EncryptionInfo", "EncryptedPackage"}
    assert len(streams["EncryptedPackage"]) == 8192


def test_encrypted_ooxml(tmp_path):
    assert problem(hostile.encrypted_ooxml(tmp_path)).code == "file-encrypted"


def test_encrypted_zip_member(tmp_path):
    path = hostile.plain_xlsx(tmp_path)
    data = bytearray(path.read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    pos, = struct.unpack_from("<L", data, eocd + 16)
    while pos < eocd:                                     # set the "encrypted" flag of sheet1.xml
        n, e, c = struct.unpack_from("<3H", data, pos + 28)
        if data[pos + 46: pos + 46 + n] == hostile.SHEET1.encode():
            struct.pack_into("<H", data, pos + 8, 1)
            struct.pack_into("<H", data, struct.unpack_from("<L", data, pos + 42)[0] + 6, 1)
        pos += 46 + n + e + c
    path.write_bytes(bytes(data))
    assert problem(path).code == "file-encrypted"


def test_directory_offset_beyond_its_place_is_corrupt(tmp_path):
    """The end record claims the directory starts later than it does: zipfile then shifts every
    member's offset below zero (found by the mutation test below)."""
    path = hostile.plain_xlsx(tmp_path)
    data = bytearray(path.read_bytes())
    eocd = data.rfind(b"PK\x05\x06")
    offset, = struct.unpack_from("<L", data, eocd + 16)
    struct.pack_into("<L", data, eocd + 16, offset + 5000)
    path.write_bytes(bytes(data))
    err = problem(path)
    assert (err.code, err.params["detail"]) == ("file-corrupt", "ZIP 目錄損毀")


# ------------------------------------------------------------------------------------------
# archives that attack the reader
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bomb(tmp_path_factory):
    return hostile.zip_bomb(tmp_path_factory.mktemp("bomb"))


def test_zip_bomb_is_refused_from_the_size_table(bomb):
    with zipfile.ZipFile(bomb) as zf:
        info = zf.getinfo(hostile.SHEET1)
    assert info.file_size > 2**30 and info.compress_size < 5 * 2**20 and bomb.stat().st_size < 6 * 2**20
    err, seconds, peak = cost(lambda: open_workbook(bomb))
    assert isinstance(err, FileProblem) and err.code == "archive-too-large"
    assert "sheet1.xml" in err.params["detail"]
    assert seconds < 5 and peak < 20 * 2**20


def test_zip_bomb_is_a_real_one(bomb):
    """With limits that allow it, the first megabytes inflate to real rows (so the
    size-table check, not a broken stream, is what stops it)."""
    with zipfile.ZipFile(bomb) as zf, zf.open(hostile.SHEET1) as member:
        head = member.read(4 * 2**20)
    assert head.count(hostile.BOMB_ROW) > 70_000


def test_ratio_alone_is_refused(bomb):
    err = problem(bomb, Limits(max_part_bytes=2**31, max_total_bytes=2**32))
    assert err.code == "archive-too-large" and "壓縮比" in err.params["detail"]


def test_lying_central_directory_is_stopped_while_inflating(tmp_path):
    path = hostile.zip_bomb_lying_sizes(tmp_path)
    err, seconds, peak = cost(lambda: open_workbook(path))
    assert isinstance(err, FileProblem) and err.code == "archive-too-large"
    assert "記錄的大小" in err.params["detail"]
    assert seconds < 5 and peak < 20 * 2**20


def test_total_inflated_budget(tmp_path):
    path = hostile.plain_xlsx(tmp_path)
    assert problem(path, Limits(max_total_bytes=10_000)).code == "archive-too-large"


def test_overlapping_entries(tmp_path):
    err = problem(hostile.overlapping_entries(tmp_path))
    assert err.code == "archive-invalid" and "重疊" in err.params["detail"]


def test_duplicate_names(tmp_path):
    err = problem(hostile.duplicate_names(tmp_path))
    assert err.code == "archive-invalid" and "重複" in err.params["detail"]


def test_too_many_members(tmp_path):
    err = problem(hostile.too_many_members(tmp_path))
    assert err.code == "archive-too-large" and "2,000" in err.params["detail"]


# ------------------------------------------------------------------------------------------
# XML attacks
# ------------------------------------------------------------------------------------------


def test_billion_laughs(tmp_path):
    err, seconds, peak = cost(lambda: open_workbook(hostile.billion_laughs(tmp_path)))
    assert isinstance(err, FileProblem) and err.code == "xml-unsafe"
    assert err.params["detail"] == "DOCTYPE 宣告 於 xl/worksheets/sheet1.xml"
    assert seconds < 5 and peak < 20 * 2**20


def test_external_entity(tmp_path):
    err = problem(hostile.external_entity(tmp_path))
    assert err.code == "xml-unsafe" and "xl/sharedStrings.xml" in err.params["detail"]
    assert "root:" not in repr(err.params)


def test_doctype_in_a_part_never_parsed(tmp_path):
    err = problem(hostile.doctype_in_unread_part(tmp_path))
    assert (err.code, err.params["detail"]) == ("xml-unsafe", "DOCTYPE 宣告 於 docProps/app.xml")


def test_doctype_after_a_long_prolog(tmp_path):
    assert problem(hostile.doctype_after_long_prolog(tmp_path)).code == "xml-unsafe"
    # under the prolog cap the scan reads on until it finds the DOCTYPE
    err = problem(hostile.doctype_after_long_prolog(tmp_path, padding=30_000))
    assert (err.code, err.params["detail"]) == ("xml-unsafe", "DOCTYPE 宣告 於 xl/worksheets/sheet1.xml")


def test_doctype_in_utf16_part(tmp_path):
    assert problem(hostile.utf16_doctype(tmp_path)).code == "xml-unsafe"


@pytest.mark.parametrize("builder", [hostile.billion_laughs, hostile.external_entity])
def test_parser_refuses_dtds_even_without_the_prolog_scan(tmp_path, monkeypatch, builder):
    """Defence in depth: defusedxml in the parse path refuses on its own."""
    monkeypatch.setattr(zipguard, "scan_prologs", lambda pkg, held=None: None)
    err = problem(builder(tmp_path))
    assert err.code == "xml-unsafe"


def test_malformed_xml_is_corrupt(tmp_path):
    path = hostile.with_sheet1(tmp_path, "bad.xlsx", b"<worksheet><sheetData><row></sheetData>")
    err = problem(path)
    assert err.code == "file-corrupt" and "sheet1.xml" in err.params["detail"]


# ------------------------------------------------------------------------------------------
# the cell grid: sparse, bounded, dimension ignored
# ------------------------------------------------------------------------------------------


def test_huge_dimension_with_few_cells(tmp_path, read):
    sheet = only_sheet(hostile.huge_dimension(tmp_path), read=read)
    assert sheet.cells == {(1, 1): "a", (1, 2): "b", (2, 1): "c"}
    assert (sheet.max_row, sheet.max_col) == (2, 2)


def test_far_corner_costs_nothing(tmp_path, read):
    """A1 and XFD1048576: calamine would allocate 17 billion cells (and abort the process);
    the survey sees the span first and the sheet is read sparsely."""
    path = hostile.far_corner(tmp_path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    book, seconds, peak = cost(lambda: read(path))
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert book.sheets[0].cells == {(1, 1): "top", (1_048_576, 16_384): "far"}
    assert (book.sheets[0].max_row, book.sheets[0].max_col) == (1_048_576, 16_384)
    assert seconds < 5 and peak < 5 * 2**20 and grown_kib < 50 * 1024
    assert len(read.fallback_calls) == 1


def test_lone_far_cell(tmp_path, read):
    book, seconds, peak = cost(lambda: read(hostile.lone_far_cell(tmp_path)))
    assert book.sheets[0].cells == {(1_048_576, 16_384): 42}
    assert seconds < 5 and peak < 5 * 2**20
    assert len(read.fallback_calls) == (read.path == "fallback")      # a one-cell grid: calamine's


def test_a_grid_just_over_the_bound_goes_to_the_fallback(tmp_path, read):
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="1000"><c r="J1000"><v>2</v></c></row>'
    path = hostile.with_sheet1(tmp_path, "grid.xlsx", hostile.sheet_xml(rows))
    assert only_sheet(path, Limits(max_dense_cells=10_000), read=read).cells == {(1, 1): 1, (1000, 10): 2}
    assert len(read.fallback_calls) == (read.path == "fallback")
    assert only_sheet(path, Limits(max_dense_cells=9_999), read=read).cells == {(1, 1): 1, (1000, 10): 2}
    assert len(read.fallback_calls) == 1 + (read.path == "fallback")


@pytest.mark.parametrize("ref", ["XFE1", "A1048577", "AAAA1", "A0", "1A"])
def test_refs_beyond_excel_are_corrupt(tmp_path, ref):
    assert problem(hostile.beyond_excel(tmp_path, ref)).code == "file-corrupt"


def test_lying_dimension(tmp_path, read):
    sheet = only_sheet(hostile.lying_dimension(tmp_path), read=read)
    assert (sheet.max_row, sheet.max_col) == (60, 10)
    assert len(sheet.cells) == 600
    assert sheet.cells[(60, 5)] == "第59列 4 辦理情形 text"


@pytest.mark.parametrize("limits", [Limits(), SPARSE], ids=["calamine", "fallback"])
def test_cell_limit(tmp_path, limits):
    path = hostile.many_cells(tmp_path, 2_000)
    assert len(only_sheet(path, limits).cells) == 2_000
    err = problem(path, dataclasses.replace(limits, max_cells=1_000))
    assert (err.code, err.params["sheet"]) == ("sheet-too-large", "Sheet1")


def test_blank_cells_are_free_but_bounded(tmp_path, read):
    path = hostile.many_blank_cells(tmp_path, 20_000)
    assert only_sheet(path, read=read).cells == {}
    assert problem(path, Limits(max_cells=1_000)).code == "sheet-too-large"


@pytest.mark.parametrize("limits", [Limits(max_total_cells=4), dataclasses.replace(SPARSE, max_total_cells=4)],
                         ids=["calamine", "fallback"])
def test_workbook_cell_limit(tmp_path, limits):
    err = problem(hostile.hidden_parts(tmp_path), limits)
    assert err.code == "sheet-too-large"


def test_cells_without_r_attributes(tmp_path, read):
    """Positions by counting, as Excel does: calamine is not asked (it places such cells by its own count)."""
    sheet = only_sheet(hostile.no_r_attributes(tmp_path), read=read)
    assert sheet.cells == {
        (1, 1): "A1", (1, 2): "B1",
        (2, 1): 1, (2, 3): 3,
        (5, 1): "A5", (5, 4): "D5", (5, 5): "E5",
        (6, 1): "A6",
    }
    assert len(read.fallback_calls) == 1


# ------------------------------------------------------------------------------------------
# values
# ------------------------------------------------------------------------------------------


def test_plain_values(tmp_path, read):
    sheet = only_sheet(hostile.plain_xlsx(tmp_path), read=read)
    assert sheet.name == "自行檢核表" and sheet.state == "visible"
    assert sheet.cells[(1, 1)] == "欄位1"
    assert sheet.cells[(2, 1)] == 1 and type(sheet.cells[(2, 1)]) is int
    assert sheet.cells[(2, 2)] == D(2024, 1, 2)
    assert sheet.cells[(2, 3)] == 1.25
    assert sheet.cells[(3, 4)] is True and sheet.cells[(2, 4)] is False
    assert sheet.uncached == set() and sheet.merged == []
    assert len(read.fallback_calls) == (read.path == "fallback")


def test_xlsm_macros_detected_never_read(tmp_path, read):
    book = read(hostile.xlsm_with_macros(tmp_path))
    assert (book.format, book.has_macros) == ("xlsm", True)
    assert book.sheets[0].cells == {(1, 1): "base"}


def test_uncached_formulas(tmp_path, read):
    sheet = only_sheet(hostile.uncached_formulas(tmp_path), read=read)
    assert sheet.uncached == {(1, 1), (1, 2), (1, 8)}
    assert sheet.cells == {(1, 3): 4, (1, 4): "ab", (1, 6): ErrorValue("#DIV/0!"), (1, 7): True}
    assert isinstance(sheet.cells[(1, 6)], ErrorValue)
    assert sheet.max_col == 8


def test_error_cells(tmp_path, read):
    """calamine reads error cells as empty: the survey gives them back, as typed."""
    rows = ('<row r="1"><c r="A1" t="e"><v>#N/A</v></c><c r="B1" t="e"><v>#REF!</v></c>'
            '<c r="C1" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="D1"><v>5</v></c></row>')
    sheet = only_sheet(hostile.with_sheet1(tmp_path, "errors.xlsx", hostile.sheet_xml(rows)), read=read)
    assert sheet.cells == {(1, 1): "#N/A", (1, 2): "#REF!", (1, 3): "#DIV/0!", (1, 4): 5}
    assert all(isinstance(sheet.cells[(1, c)], ErrorValue) for c in (1, 2, 3)) and sheet.uncached == set()


def test_formula_cells_in_extensions_are_not_cells(tmp_path, read):
    """<xm:f> in a worksheet's extension list (data validations of Excel 2010) is not a cell formula."""
    after = ('<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
             'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
             '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
             '<x14:dataValidation type="list"><x14:formula1><xm:f>選項!$A$1:$A$4</xm:f></x14:formula1>'
             '<xm:sqref>F8:F20</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>')
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"/></row>'
    sheet = only_sheet(hostile.with_sheet1(tmp_path, "ext.xlsx", hostile.sheet_xml(rows, after=after)), read=read)
    assert sheet.cells == {(1, 1): "base"} and sheet.uncached == set()


def test_openpyxl_formulas_are_uncached(tmp_path, read):
    sheet = only_sheet(hostile.openpyxl_formulas(tmp_path), read=read)
    assert sheet.cells == {(1, 1): 2}
    assert sheet.uncached == {(2, 1), (3, 1)}
    assert sheet.max_row == 3


def test_date_1904(tmp_path, read):
    """Serial 0 of the 1904 system (1904-01-01) is below 1, which python-calamine reads as a
    time of day: midnight, put on Excel's day 0 like every time without a date."""
    book = read(hostile.date_1904(tmp_path))
    assert book.date1904 is True
    assert book.sheets[0].cells == {(1, 1): D(2024, 2, 29, 13, 30), (2, 1): D(1899, 12, 31), (3, 1): D(1904, 1, 2)}


def test_date_serials(tmp_path, read):
    cells = only_sheet(hostile.date_serials(tmp_path), read=read).cells
    # a negative serial is a date before 1900, counted back as LibreOffice stores one (and openpyxl reads it)
    assert [cells[(r, 1)] for r in range(1, 8)] == [
        D(1900, 1, 1), D(1900, 2, 28), D(1900, 2, 28), D(1900, 3, 1), D(2023, 3, 15, 12), D(1899, 12, 29), 3_000_000,
    ]
    assert cells[(1, 2)] == D(2024, 6, 30)            # [$-404]e"年"m"月"d"日"
    assert cells[(2, 2)] == 1.5                       # [h]:mm:ss is a duration, in days
    assert cells[(3, 2)] == D(1899, 12, 31, 18, 0)    # h:mm
    assert cells[(4, 2)] == 45473                     # @ is text format
    assert cells[(5, 2)] == 45473                     # 0.00E+00
    assert cells[(6, 2)] == D(2024, 6, 30)            # built-in 14
    assert cells[(7, 2)] == 45473                     # General


def test_time_formats(tmp_path, read):
    """Built-in 45-47 and h / s alone are times, [h] a duration; a <numFmt> of <dxfs>
    (conditional formatting) is no cell's format (each was read wrongly before)."""
    cells = only_sheet(hostile.time_formats(tmp_path), read=read).cells
    assert cells == {
        (1, 1): D(1899, 12, 31, 0, 15),      # 45 mm:ss
        (2, 1): pytest.approx(1.1053819444),  # 46 [h]:mm:ss: 26:31:45, a duration in days
        (3, 1): D(1899, 12, 31, 12, 0),      # 47 mmss.0
        (4, 1): D(2015, 2, 27),              # yyyy-mm-dd, though a dxf gives id 164 another code
        (5, 1): D(1899, 12, 31, 18, 0),      # h
        (6, 1): D(1899, 12, 31, 6, 0),       # ss
    }


@pytest.mark.parametrize(
    "code, expected",
    [
        ("yyyy/mm/dd", "date"), ("[$-404]e/m/d", "date"), ('[DBNum1][$-404]m"月"d"日"', "date"),
        ("yyyy年m月d日", "date"), ("h:mm", "date"), ("mmm-yy", "date"), ("h", "date"), ("ss", "date"),
        ("mm:ss", "date"), ("hh:mm AM/PM", "date"), ("[h]:mm:ss", "duration"), ("[mm]:ss", "duration"),
        ("General", ""), ("0.00E+00", ""), ("@", ""), ('#,##0 "元"', ""), ("#,##0.00_);[Red](#,##0.00)", ""),
        ('"date" 0', ""), ("0\\d", ""), ("[$NT$-404]#,##0", ""), ("yyyy/mm/dd;@", "date"),
    ],
)
def test_format_kind(code, expected):
    assert fallback.format_kind(code) == expected


def test_excel_serial_to_datetime():
    assert excel_serial_to_datetime(60) == D(1900, 2, 28)
    assert excel_serial_to_datetime(0.5) == D(1899, 12, 31, 12)
    assert excel_serial_to_datetime(45000.4166666667) == D(2023, 3, 15, 10)
    assert excel_serial_to_datetime(0, date1904=True) == D(1904, 1, 1)
    assert excel_serial_to_datetime(-0.5) == D(1899, 12, 29, 12)          # LibreOffice's dates before 1900
    assert excel_serial_to_datetime(-657_069) == D(101, 1, 1)             # early enough for ROC years typed as AD
    assert excel_serial_to_datetime(-700_000) is None and excel_serial_to_datetime(2_958_466) is None
    assert excel_serial_to_datetime(float("nan")) is None


def test_long_string_kept_whole(tmp_path, read):
    value = only_sheet(hostile.long_string(tmp_path), read=read).cells[(1, 1)]
    assert len(value) == 32_767 and value.startswith("長字串") and value.endswith("尾")


def test_huge_string_is_cut_at_excels_limit_in_bounded_memory(tmp_path):
    """A 5 MB sheet part is more than calamine gets here (Limits.max_whole_part_bytes): it is streamed."""
    path = hostile.huge_inline_string(tmp_path)
    book, seconds, peak = cost(lambda: open_workbook(path))
    assert book.sheets[0].cells == {(1, 1): hostile.huge_text(5_000_000)[:32_767]}
    assert seconds < 5 and peak < 10 * 2**20


def test_control_characters_and_escapes(tmp_path, read):
    cells = only_sheet(hostile.control_characters(tmp_path), read=read).cells
    assert cells[(1, 1)] == hostile.CONTROL_TEXT
    assert cells[(2, 1)] == hostile.ESCAPE_LOOKALIKE
    assert cells[(3, 1)] == "  padded  "
    assert cells[(4, 1)] == "x\ry😀z"


def test_wide_escapes(tmp_path, read):
    """_xHHHH_ beyond U+00FF (calamine decodes only _x00HH_): a CJK character, an escaped
    surrogate pair, a non-character; an escaped underscore keeps the rest literal."""
    rows = ('<row r="1">' + hostile.inline("A1", "_x4E2D__x6587_") + hostile.inline("B1", "_xD840__xDC00_")
            + hostile.inline("C1", "_xFFFE_") + hostile.inline("D1", "_x005F_x0041_") + "</row>")
    sheet = only_sheet(hostile.with_sheet1(tmp_path, "escapes.xlsx", hostile.sheet_xml(rows)), read=read)
    assert sheet.cells == {(1, 1): "中文", (1, 2): "𠀀", (1, 3): "\ufffe", (1, 4): "_x0041_"}


def test_inline_string_kept_in_v(tmp_path, read):
    """t="inlineStr" with its text in <v> (Apache POI bug 52575): calamine reads nothing, the text is there."""
    rows = '<row r="1"><c r="A1" t="inlineStr"><v>POI rocks!</v></c></row>'
    sheet = only_sheet(hostile.with_sheet1(tmp_path, "inline_v.xlsx", hostile.sheet_xml(rows)), read=read)
    assert sheet.cells == {(1, 1): "POI rocks!"}


def test_emoji_and_cjk_ext_b(tmp_path, read):
    sheet = only_sheet(hostile.emoji_cjk(tmp_path), read=read)
    assert sheet.name == "表😀𠀀"
    assert sheet.cells == {(1, 1): hostile.EMOJI_CJK, (2, 2): "𠀀"}


def test_rich_text_without_phonetic_guide(tmp_path, read):
    """A run's <t> without xml:space="preserve" loses its outer spaces, as in Excel (and calamine)."""
    cells = only_sheet(hostile.rich_text_phonetic(tmp_path), read=read).cells
    assert cells == {(1, 1): "plain", (1, 2): "richbold end", (1, 3): "漢字"}


def test_hidden_sheets_rows_cols(tmp_path, read):
    book = read(hostile.hidden_parts(tmp_path))
    assert [(s.name, s.state) for s in book.sheets] == [("可見", "visible"), ("隱藏", "hidden"), ("非常隱藏", "veryHidden")]
    first = book.sheets[0]
    assert first.hidden_rows == {3} and first.hidden_cols == {3, 4, 6}
    assert first.cells == {(1, 1): "visible", (3, 1): "in hidden row", (1, 3): "in hidden col"}
    assert book.sheets[1].cells == {(2, 2): "secret"} and book.sheets[2].cells == {(1, 1): "deep"}


def test_merged_cells(tmp_path, read):
    sheet = only_sheet(hostile.merged_cells(tmp_path), read=read)
    assert sorted(sheet.merged) == [(1, 1, 1, 3), (3, 2, 5, 2)]
    assert sheet.cells == {(1, 1): "標題", (3, 2): "直", (4, 4): "other"}


def test_whole_column_and_row_merges(tmp_path, read):
    """calamine refuses a sheet with <mergeCell ref="A:A"/>; Excel writes such merges."""
    sheet = only_sheet(hostile.whole_line_merges(tmp_path), read=read)
    assert sheet.cells == {(1, 2): "beside"}
    assert sheet.merged == [(1, 1, 1_048_576, 1), (3, 1, 4, 16_384)]


def test_sheet_listed_without_relationship(tmp_path, read):
    """<sheet r:id=""/> (an old macro sheet kept by Excel 2013/2016): listed, empty, not damage."""
    book = read(hostile.sheet_without_relationship(tmp_path))
    assert [(s.name, s.state, s.cells) for s in book.sheets] == [("Sheet1", "visible", {(1, 1): "base"}),
                                                                  ("Module1", "veryHidden", {})]


def test_macro_sheet_is_read_never_run(tmp_path, read):
    book = read(hostile.macro_sheet(tmp_path))
    assert book.has_macros and book.format == "xlsm"
    assert [(s.name, s.cells) for s in book.sheets] == [("Sheet1", {(1, 1): "base"}), ("Macro1", {(1, 1): "stop"})]


def test_xlsx_renamed_is_read_by_content(tmp_path):
    path = hostile.plain_xlsx(tmp_path)
    renamed = path.rename(tmp_path / "form.xls")
    assert open_workbook(renamed).format == "xlsx"


def test_two_sheets_sharing_one_part_is_corrupt(tmp_path):
    members = hostile.base_members(tmp_path)
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(
        b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/>',
        b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/><sheet name="Again" sheetId="2" r:id="rId1"/>',
    )
    assert b"Again" in members["xl/workbook.xml"]
    err = problem(hostile.write_members(tmp_path / "shared.xlsx", members))
    assert err.code == "file-corrupt" and "Again" in err.params["detail"]


def test_a_sheet_whose_part_is_missing_is_corrupt(tmp_path):
    members = hostile.base_members(tmp_path)
    del members[hostile.SHEET1]
    err = problem(hostile.write_members(tmp_path / "missing.xlsx", members))
    assert (err.code, err.params["detail"]) == ("file-corrupt", "找不到工作表「Sheet1」的內容")


def test_merge_spans():
    assert sheetpass.merge_spans([(5, 6), (1, 2), (3, 3), (10, 12), (11, 11)]) == [(1, 3), (5, 6), (10, 12)]
    assert sheetpass.merge_spans([]) == []


def test_absolute_relationship_targets(tmp_path, read):
    assert only_sheet(hostile.absolute_targets(tmp_path), read=read).cells == {(1, 1): "base"}


@pytest.mark.parametrize("limits", [Limits(), SPARSE], ids=["calamine", "fallback"])
def test_bad_values_are_corrupt(tmp_path, limits):
    """A damaged value is the file's problem (calamine refuses the sheet, the fallback says where)."""
    for i, cell in enumerate(['<c r="A1"><v>nan</v></c>', '<c r="A1" t="n"><v>12abc</v></c>',
                              '<c r="A1" t="s"><v>7</v></c>', '<c r="A1" t="zz"><v>1</v></c>',
                              '<c r="A1"><v>inf</v></c>']):
        path = hostile.with_sheet1(tmp_path, f"bad{i}.xlsx", hostile.sheet_xml(f'<row r="1">{cell}</row>'))
        assert problem(path, limits).code == "file-corrupt", cell


def test_a_boolean_that_is_not_one(tmp_path, read):
    """t="b" holding "maybe": refused by the fallback and by python-calamine from 0.9.1; 0.8 to
    0.9.0 read anything but "0" as TRUE.  Either way a plain answer, never a crash."""
    path = hostile.with_sheet1(tmp_path, "bool.xlsx", hostile.sheet_xml('<row r="1"><c r="A1" t="b"><v>maybe</v></c></row>'))
    try:
        assert only_sheet(path, read=read).cells == {(1, 1): True} and read.path == "calamine"
    except FileProblem as err:
        assert err.code == "file-corrupt"


def test_text_in_a_number_cell_without_type_is_text(tmp_path, read):
    """<v>12abc</v> with no t="...": python-calamine reads it as the text it is."""
    path = hostile.with_sheet1(tmp_path, "text.xlsx", hostile.sheet_xml('<row r="1"><c r="A1"><v>12abc</v></c></row>'))
    assert only_sheet(path, read=read).cells == {(1, 1): "12abc"}


def test_iso_date_cells(tmp_path, read):
    """t="d" (Strict OOXML, LibreOffice): ISO dates; one with a time zone, or a duration
    (PT0H0M0.000S, which Strict files hold), is kept as the text python-calamine gives."""
    rows = ('<row r="1"><c r="A1" t="d"><v>2024-06-30</v></c><c r="B1" t="d"><v>2024-06-30T08:15:00Z</v></c>'
            '<c r="C1" t="d"><v>2024-06-30T08:15:00</v></c><c r="D1" t="d"><v>PT0H11M0.000S</v></c></row>')
    sheet = only_sheet(hostile.with_sheet1(tmp_path, "d.xlsx", hostile.sheet_xml(rows)), read=read)
    assert sheet.cells == {(1, 1): D(2024, 6, 30), (1, 2): "2024-06-30T08:15:00Z", (1, 3): D(2024, 6, 30, 8, 15),
                           (1, 4): "PT0H11M0.000S"}


@pytest.mark.parametrize("stored", [True, False])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
       truncate=st.booleans())
def test_mutated_files_only_raise_file_problems(tmp_path, stored, flips, truncate):
    """Whatever the damage, the reader answers with a Workbook or a FileProblem.

    With STORED members the flips land in the XML itself, and the handlers see the damaged
    text before the CRC check at the end of the member."""
    source = tmp_path / f"fuzz_src_{stored}.xlsx"
    if not source.exists():
        members = hostile.base_members(tmp_path)
        members[hostile.SHEET1] = hostile.sheet_xml(
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="0"><v>45000</v></c>'
            '<c r="C1"><f>1+1</f></c><c r="D1" t="b"><v>1</v></c><c r="E1" t="e"><v>#N/A</v></c></row>'
            '<row r="3" hidden="1"><c r="A3" t="inlineStr"><is><t>x_x000D_</t></is></c><c><v>2.5</v></c></row>',
            before='<cols><col min="2" max="3" hidden="1"/></cols>',
            after='<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>',
        )
        hostile.write_members(source, members, stored=tuple(members) if stored else ())
    data = bytearray(source.read_bytes())
    for at, byte in flips:
        data[at % len(data)] = byte
    if truncate:
        data = data[: flips[0][0] % len(data)]
    target = tmp_path / "fuzz.xlsx"
    target.write_bytes(bytes(data))
    try:
        open_workbook(target)
    except FileProblem as e:
        assert e.code in MESSAGES


# ------------------------------------------------------------------------------------------
# speed
# ------------------------------------------------------------------------------------------


def test_60_by_10_xlsx_reads_in_milliseconds(tmp_path):
    path = hostile.plain_xlsx(tmp_path, rows=60, cols=10)
    open_workbook(path)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(20):
            open_workbook(path)
        best = min(best, (time.perf_counter() - started) / 20)
    print(f"60x10 xlsx: {best * 1000:.2f} ms per file")
    assert best < 0.05


# ------------------------------------------------------------------------------------------
# calamine formats, in the bounded worker
# ------------------------------------------------------------------------------------------


def roundtrip_source(directory: Path) -> Path:
    def fill(book):
        ws = book.add_worksheet("資料")
        date = book.add_format({"num_format": "yyyy/mm/dd"})
        stamp = book.add_format({"num_format": "yyyy/mm/dd hh:mm:ss"})
        ws.write_row(0, 0, ["項次", "狀態", "日期", "時間", "數量", "比例", "布林"])
        for r in range(1, 25):
            ws.write_string(r, 0, f"{r}.1")
            ws.write_string(r, 1, ["已完成", "辦理中", " 前後空白 ", "😀𠀀"][r % 4])
            ws.write_datetime(r, 2, dt.datetime(2024, 1, 1) + dt.timedelta(days=r * 7), date)
            ws.write_datetime(r, 3, dt.datetime(2024, 3, 1, r % 24, 30, 15), stamp)
            ws.write_number(r, 4, r * 3)
            ws.write_number(r, 5, r / 8)
            ws.write_boolean(r, 6, r % 3 == 0)
        ws.write_formula("I1", "=E2*2", None, 6)
        ws.merge_range("A30:C30", "合併")
        ws.write("Z100", "遠處")
        hidden = book.add_worksheet("隱藏")
        hidden.write("B2", "secret")
        hidden.hide()

    return hostile.xlsxwriter_book(directory / "source.xlsx", fill)


def soffice_convert(source: Path, fmt: str, outdir: Path) -> Path:
    return office.convert(source, fmt, outdir, timeout=120)


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory):
    need_tool("soffice")
    root = tmp_path_factory.mktemp("lo")
    source = roundtrip_source(root)
    jobs = {fmt: root / fmt for fmt in ("xlsx", "ods", "xls")}
    for d in jobs.values():
        d.mkdir()
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {fmt: pool.submit(soffice_convert, source, fmt, d) for fmt, d in jobs.items()}
        converted = {fmt: f.result() for fmt, f in futures.items()}
    return source, converted


def comparable(book, bools_as_numbers=False):
    out = []
    for sheet in book.sheets:
        cells = {}
        for pos, value in sheet.cells.items():
            if bools_as_numbers and isinstance(value, bool):
                value = int(value)
            cells[pos] = value
        out.append((sheet.name, sheet.state, cells))
    return out


def test_libreoffice_resaved_xlsx_reads_the_same(libreoffice):
    source, converted = libreoffice
    original = open_workbook(source)
    resaved = open_workbook(converted["xlsx"])
    assert comparable(resaved) == comparable(original)
    assert original.sheets[0].cells[(1, 9)] == 6
    assert resaved.sheets[0].merged == original.sheets[0].merged == [(30, 1, 30, 3)]
    assert original.sheets[0].cells[(100, 26)] == "遠處"


def test_libreoffice_ods_via_calamine(libreoffice, branch):
    source, converted = libreoffice
    assert sniff(converted["ods"]) == "zip"
    book = open_workbook(converted["ods"])
    assert book.format == "ods"
    # ODS has no boolean cells of its own: calamine reads LibreOffice's TRUE/FALSE as 1/0
    assert comparable(book, bools_as_numbers=True) == comparable(open_workbook(source), bools_as_numbers=True)


def test_libreoffice_xls_via_calamine(libreoffice, tmp_path, branch):
    source, converted = libreoffice
    renamed = tmp_path / "really_xls.xlsx"                 # routed by content, not name
    shutil.copy(converted["xls"], renamed)
    book = open_workbook(renamed)
    assert book.format == "xls"
    assert comparable(book) == comparable(open_workbook(source))
    assert book.sheets[0].merged == [(30, 1, 30, 3)]


def test_ods_doctype_in_unused_part(libreoffice, tmp_path):
    _, converted = libreoffice
    err = problem(hostile.ods_with_doctype(tmp_path, converted["ods"]))
    assert (err.code, err.params["detail"]) == ("xml-unsafe", "DOCTYPE 宣告 於 settings.xml")


def test_calamine_timeout(libreoffice, branch):
    _, converted = libreoffice
    err = problem(converted["ods"], Limits(timeout_seconds=0.01))
    assert err.code in ("format-unreadable", "sheet-too-large") and "秒" in err.params["detail"]


def test_calamine_cell_limit(libreoffice, branch):
    _, converted = libreoffice
    err = problem(converted["xls"], Limits(max_cells=10))
    assert (err.code, err.params["sheet"]) == ("sheet-too-large", "資料")


def test_ods_repeat_bomb_is_contained(tmp_path, branch):
    path = hostile.ods_repeat_bomb(tmp_path)
    started = time.perf_counter()
    err = problem(path, Limits(memory_bytes=512 * 2**20))
    assert err.code in ("format-unreadable", "sheet-too-large")
    assert time.perf_counter() - started < 20


def test_ods_garbage_content(tmp_path, branch):
    assert problem(hostile.ods_garbage_content(tmp_path)).code in ("format-unreadable", "file-corrupt")


def test_ole_garbage_workbook(tmp_path, branch):
    err = problem(hostile.ole_garbage_workbook(tmp_path))
    assert (err.code, err.params["format"]) == ("format-unreadable", "XLS")


def test_a_killed_worker_is_blamed_on_the_sheet_it_was_reading():
    assert bounded.last_sheet(b'qos-xl-sheet\t"\\u8cc7\\u6599"\nqos-xl-sheet\t"B\\nC"\n') == "B\nC"
    assert bounded.last_sheet(b'qos-xl-sheet\t"A"\nqos-xl-done\n') is None
    assert bounded.last_sheet(None) is None


def test_a_worker_too_big_for_this_machine_is_a_plain_rejection(tmp_path, branch):
    """An .xls whose four used corners make calamine allocate the whole 65,536 x 256 grid
    (Apache POI's 51535.xls): more than the worker may use, so a plain "too large" answer,
    never "damaged" -- with rlimits the kernel stops the worker, on Windows the watchdog."""
    source = REALWORLD / "readable" / "poi__test-data__spreadsheet__51535.xls"
    if not source.exists():
        pytest.skip(f"{source.parent.parent} is not here (../shared/corpus is not part of the repository)")
    err = problem(source)
    assert err.code in ("sheet-too-large", "format-unreadable") and "記憶體" in err.params["detail"]


def test_without_rlimits_or_psutil_the_worker_is_not_started(tmp_path, monkeypatch):
    """Where neither the system (rlimits) nor psutil can bound the worker, nothing is read unbounded."""
    monkeypatch.setattr(platform, "has_rlimits", lambda: False)
    monkeypatch.setattr(platform, "can_watch_memory", lambda: False)
    err = problem(hostile.ole_garbage_workbook(tmp_path))
    assert (err.code, err.params["format"]) == ("format-unreadable", "XLS") and "記憶體" in err.params["detail"]
