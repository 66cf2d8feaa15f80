"""spreadsheet.py: from a file on disk to sparse sheets, safely, or a precise FileProblem."""

from __future__ import annotations

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
from conftest import need_tool
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qos_xl.intake import spreadsheet as S
from qos_xl.core.messages import MESSAGES
from qos_xl.core.problems import FileProblem
from qos_xl.intake.spreadsheet import ErrorValue, Limits, Sheet, open_workbook, sniff

D = dt.datetime


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


def only_sheet(path, limits: Limits = Limits()) -> Sheet:
    book = open_workbook(path, limits)
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
        (hostile.pdf_renamed, "PDF 文件"),
        (hostile.text_file, "純文字檔"),
        (hostile.ole_without_workbook, "Word 文件（.doc）"),
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
    monkeypatch.setattr(S, "scan_prologs", lambda pkg: None)
    err = problem(builder(tmp_path))
    assert err.code == "xml-unsafe"


def test_malformed_xml_is_corrupt(tmp_path):
    path = hostile.with_sheet1(tmp_path, "bad.xlsx", b"<worksheet><sheetData><row></sheetData>")
    err = problem(path)
    assert err.code == "file-corrupt" and "sheet1.xml" in err.params["detail"]


# ------------------------------------------------------------------------------------------
# the cell grid: sparse, bounded, dimension ignored
# ------------------------------------------------------------------------------------------


def test_huge_dimension_with_few_cells(tmp_path):
    sheet = only_sheet(hostile.huge_dimension(tmp_path))
    assert sheet.cells == {(1, 1): "a", (1, 2): "b", (2, 1): "c"}
    assert (sheet.max_row, sheet.max_col) == (2, 2)


def test_far_corner_costs_nothing(tmp_path):
    path = hostile.far_corner(tmp_path)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    book, seconds, peak = cost(lambda: open_workbook(path))
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert book.sheets[0].cells == {(1, 1): "top", (1_048_576, 16_384): "far"}
    assert (book.sheets[0].max_row, book.sheets[0].max_col) == (1_048_576, 16_384)
    assert seconds < 5 and peak < 5 * 2**20 and grown_kib < 50 * 1024


def test_lone_far_cell(tmp_path):
    book, seconds, peak = cost(lambda: open_workbook(hostile.lone_far_cell(tmp_path)))
    assert book.sheets[0].cells == {(1_048_576, 16_384): 42}
    assert seconds < 5 and peak < 5 * 2**20


@pytest.mark.parametrize("ref", ["XFE1", "A1048577", "AAAA1", "A0", "1A"])
def test_refs_beyond_excel_are_corrupt(tmp_path, ref):
    assert problem(hostile.beyond_excel(tmp_path, ref)).code == "file-corrupt"


def test_lying_dimension(tmp_path):
    sheet = only_sheet(hostile.lying_dimension(tmp_path))
    assert (sheet.max_row, sheet.max_col) == (60, 10)
    assert len(sheet.cells) == 600
    assert sheet.cells[(60, 5)] == "第59列 4 辦理情形 text"


def test_cell_limit(tmp_path):
    path = hostile.many_cells(tmp_path, 2_000)
    assert len(only_sheet(path).cells) == 2_000
    err = problem(path, Limits(max_cells=1_000))
    assert (err.code, err.params["sheet"]) == ("sheet-too-large", "Sheet1")


def test_blank_cells_are_free_but_bounded(tmp_path):
    path = hostile.many_blank_cells(tmp_path, 20_000)
    assert only_sheet(path).cells == {}
    assert problem(path, Limits(max_cells=1_000)).code == "sheet-too-large"


def test_workbook_cell_limit(tmp_path):
    err = problem(hostile.hidden_parts(tmp_path), Limits(max_total_cells=4))
    assert err.code == "sheet-too-large"


def test_cells_without_r_attributes(tmp_path):
    sheet = only_sheet(hostile.no_r_attributes(tmp_path))
    assert sheet.cells == {
        (1, 1): "A1", (1, 2): "B1",
        (2, 1): 1, (2, 3): 3,
        (5, 1): "A5", (5, 4): "D5", (5, 5): "E5",
        (6, 1): "A6",
    }


# ------------------------------------------------------------------------------------------
# values
# ------------------------------------------------------------------------------------------


def test_plain_values(tmp_path):
    sheet = only_sheet(hostile.plain_xlsx(tmp_path))
    assert sheet.name == "自行檢核表" and sheet.state == "visible"
    assert sheet.cells[(1, 1)] == "欄位1"
    assert sheet.cells[(2, 1)] == 1 and type(sheet.cells[(2, 1)]) is int
    assert sheet.cells[(2, 2)] == D(2024, 1, 2)
    assert sheet.cells[(2, 3)] == 1.25
    assert sheet.cells[(3, 4)] is True and sheet.cells[(2, 4)] is False
    assert sheet.uncached == set() and sheet.merged == []


def test_xlsm_macros_detected_never_read(tmp_path):
    book = open_workbook(hostile.xlsm_with_macros(tmp_path))
    assert (book.format, book.has_macros) == ("xlsm", True)
    assert book.sheets[0].cells == {(1, 1): "base"}


def test_uncached_formulas(tmp_path):
    sheet = only_sheet(hostile.uncached_formulas(tmp_path))
    assert sheet.uncached == {(1, 1), (1, 2), (1, 8)}
    assert sheet.cells == {(1, 3): 4, (1, 4): "ab", (1, 6): ErrorValue("#DIV/0!"), (1, 7): True}
    assert isinstance(sheet.cells[(1, 6)], ErrorValue)
    assert sheet.max_col == 8


def test_openpyxl_formulas_are_uncached(tmp_path):
    sheet = only_sheet(hostile.openpyxl_formulas(tmp_path))
    assert sheet.cells == {(1, 1): 2}
    assert sheet.uncached == {(2, 1), (3, 1)}
    assert sheet.max_row == 3


def test_date_1904(tmp_path):
    book = open_workbook(hostile.date_1904(tmp_path))
    assert book.date1904 is True
    assert book.sheets[0].cells == {(1, 1): D(2024, 2, 29, 13, 30), (2, 1): D(1904, 1, 1), (3, 1): D(1904, 1, 2)}


def test_small_parts_are_remembered_only_for_the_same_bytes(tmp_path, monkeypatch):
    """What a parse of styles or the workbook part found is reused for a file with the very
    same bytes (files from one template), never for a file whose part differs in any way."""
    def fill(book):
        book.add_worksheet().write_number("A1", 45473, book.add_format({"num_format": "yyyy/mm/dd"}))

    dated = hostile.xlsxwriter_book(tmp_path / "dated.xlsx", fill)
    members = hostile.read_members(dated)
    as_number = dict(members, **{"xl/styles.xml": members["xl/styles.xml"].replace(b"yyyy/mm/dd", b"0.00")})
    number = hostile.write_members(tmp_path / "number.xlsx", as_number)
    in_1904 = dict(members, **{"xl/workbook.xml": members["xl/workbook.xml"].replace(b"<workbookPr", b'<workbookPr date1904="1"')})
    shifted = hostile.write_members(tmp_path / "1904.xlsx", in_1904)
    broken = dict(members, **{"xl/styles.xml": members["xl/styles.xml"].replace(b"</cellXfs>", b"</cellXf>")})
    corrupt = hostile.write_members(tmp_path / "broken.xlsx", broken)
    monkeypatch.setattr(S, "_PARSED", {})
    for _ in range(2):
        assert only_sheet(dated).cells == {(1, 1): D(2024, 6, 30)}
        assert only_sheet(number).cells == {(1, 1): 45473}
        assert only_sheet(shifted).cells == {(1, 1): D(2028, 7, 1)}
        assert problem(corrupt).code == "file-corrupt"
    # two workbook parts, two styles (the broken one is not remembered), one of each relationship and content types
    assert sorted(what for what, _bytes in S._PARSED) == [
        "date styles", "date styles", "macro content type of /xl/workbook.xml", "relationships of /",
        "relationships of /xl/workbook.xml", "workbook", "workbook"]


def test_remembered_parts_are_bounded(tmp_path, monkeypatch):
    members = hostile.read_members(hostile.plain_xlsx(tmp_path, rows=1, cols=1))
    monkeypatch.setattr(S, "_PARSED", {})
    sizes = []
    for i in range(S._PARSED_MAX_ITEMS + 5):
        styles = members["xl/styles.xml"].replace(b"<numFmts", f"<!-- {i} --><numFmts".encode(), 1)
        styles = styles if styles != members["xl/styles.xml"] else styles.replace(b"</styleSheet>", f"<!-- {i} --></styleSheet>".encode())
        open_workbook(hostile.write_members(tmp_path / f"{i}.xlsx", dict(members, **{"xl/styles.xml": styles})))
        sizes.append(len(S._PARSED))
    assert max(sizes) == S._PARSED_MAX_ITEMS and sizes[-1] < S._PARSED_MAX_ITEMS    # full, then emptied


def test_date_serials(tmp_path):
    cells = only_sheet(hostile.date_serials(tmp_path)).cells
    assert [cells[(r, 1)] for r in range(1, 8)] == [
        D(1900, 1, 1), D(1900, 2, 28), D(1900, 2, 28), D(1900, 3, 1), D(2023, 3, 15, 12), -1, 3_000_000,
    ]
    assert cells[(1, 2)] == D(2024, 6, 30)            # [$-404]e"年"m"月"d"日"
    assert cells[(2, 2)] == 1.5                       # [h]:mm:ss is a duration
    assert cells[(3, 2)] == D(1899, 12, 31, 18, 0)    # h:mm
    assert cells[(4, 2)] == 45473                     # @ is text format
    assert cells[(5, 2)] == 45473                     # 0.00E+00
    assert cells[(6, 2)] == D(2024, 6, 30)            # built-in 14
    assert cells[(7, 2)] == 45473                     # General


@pytest.mark.parametrize(
    "code, expected",
    [
        ("yyyy/mm/dd", True), ("[$-404]e/m/d", True), ('[DBNum1][$-404]m"月"d"日"', True),
        ("yyyy年m月d日", True), ("h:mm", True), ("mmm-yy", True), ("[h]:mm:ss", False),
        ("[mm]:ss", False), ("General", False), ("0.00E+00", False), ("@", False),
        ('#,##0 "元"', False), ("#,##0.00_);[Red](#,##0.00)", False), ('"date" 0', False),
        ("0\\d", False), ("[$NT$-404]#,##0", False), ("yyyy/mm/dd;@", True),
    ],
)
def test_is_date_format(code, expected):
    assert S.is_date_format(code) is expected


def test_serial_to_datetime():
    assert S.serial_to_datetime(60) == D(1900, 2, 28)
    assert S.serial_to_datetime(0.5) == D(1899, 12, 31, 12)
    assert S.serial_to_datetime(45000.4166666667) == D(2023, 3, 15, 10)
    assert S.serial_to_datetime(0, date1904=True) == D(1904, 1, 1)
    assert S.serial_to_datetime(-0.5) is None and S.serial_to_datetime(2_958_466) is None


def test_long_string_kept_whole(tmp_path):
    value = only_sheet(hostile.long_string(tmp_path)).cells[(1, 1)]
    assert len(value) == 32_767 and value.startswith("長字串") and value.endswith("尾")


def test_huge_string_is_cut_at_excels_limit_in_bounded_memory(tmp_path):
    path = hostile.huge_inline_string(tmp_path)
    book, seconds, peak = cost(lambda: open_workbook(path))
    assert book.sheets[0].cells == {(1, 1): hostile.huge_text(5_000_000)[:32_767]}
    assert seconds < 5 and peak < 10 * 2**20


def test_control_characters_and_escapes(tmp_path):
    cells = only_sheet(hostile.control_characters(tmp_path)).cells
    assert cells[(1, 1)] == hostile.CONTROL_TEXT
    assert cells[(2, 1)] == hostile.ESCAPE_LOOKALIKE
    assert cells[(3, 1)] == "  padded  "
    assert cells[(4, 1)] == "x\ry😀z"


def test_emoji_and_cjk_ext_b(tmp_path):
    sheet = only_sheet(hostile.emoji_cjk(tmp_path))
    assert sheet.name == "表😀𠀀"
    assert sheet.cells == {(1, 1): hostile.EMOJI_CJK, (2, 2): "𠀀"}


def test_rich_text_without_phonetic_guide(tmp_path):
    assert only_sheet(hostile.rich_text_phonetic(tmp_path)).cells == {(1, 1): "plain", (1, 2): "rich bold end", (1, 3): "漢字"}


def test_hidden_sheets_rows_cols(tmp_path):
    book = open_workbook(hostile.hidden_parts(tmp_path))
    assert [(s.name, s.state) for s in book.sheets] == [("可見", "visible"), ("隱藏", "hidden"), ("非常隱藏", "veryHidden")]
    first = book.sheets[0]
    assert first.hidden_rows == {3} and first.hidden_cols == {3, 4, 6}
    assert first.cells == {(1, 1): "visible", (3, 1): "in hidden row", (1, 3): "in hidden col"}
    assert book.sheets[1].cells == {(2, 2): "secret"} and book.sheets[2].cells == {(1, 1): "deep"}


def test_merged_cells(tmp_path):
    sheet = only_sheet(hostile.merged_cells(tmp_path))
    assert sorted(sheet.merged) == [(1, 1, 1, 3), (3, 2, 5, 2)]
    assert sheet.cells == {(1, 1): "標題", (3, 2): "直", (4, 4): "other"}


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


def test_merge_ranges():
    assert S._merge_ranges([(5, 6), (1, 2), (3, 3), (10, 12), (11, 11)]) == [(1, 3), (5, 6), (10, 12)]
    assert S._merge_ranges([]) == []


def test_absolute_relationship_targets(tmp_path):
    assert only_sheet(hostile.absolute_targets(tmp_path)).cells == {(1, 1): "base"}


def test_bad_values_are_corrupt(tmp_path):
    for i, cell in enumerate(['<c r="A1"><v>nan</v></c>', '<c r="A1"><v>12abc</v></c>', '<c r="A1" t="s"><v>7</v></c>',
                              '<c r="A1" t="b"><v>maybe</v></c>', '<c r="A1" t="zz"><v>1</v></c>']):
        path = hostile.with_sheet1(tmp_path, f"bad{i}.xlsx", hostile.sheet_xml(f'<row r="1">{cell}</row>'))
        assert problem(path).code == "file-corrupt", cell


def test_iso_date_cells(tmp_path):
    rows = '<row r="1"><c r="A1" t="d"><v>2024-06-30</v></c><c r="B1" t="d"><v>2024-06-30T08:15:00Z</v></c></row>'
    sheet = only_sheet(hostile.with_sheet1(tmp_path, "d.xlsx", hostile.sheet_xml(rows)))
    assert sheet.cells == {(1, 1): D(2024, 6, 30), (1, 2): D(2024, 6, 30, 8, 15)}


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


def test_libreoffice_ods_via_calamine(libreoffice):
    source, converted = libreoffice
    assert sniff(converted["ods"]) == "zip"
    book = open_workbook(converted["ods"])
    assert book.format == "ods"
    # ODS has no boolean cells of its own: calamine reads LibreOffice's TRUE/FALSE as 1/0
    assert comparable(book, bools_as_numbers=True) == comparable(open_workbook(source), bools_as_numbers=True)


def test_libreoffice_xls_via_calamine(libreoffice, tmp_path):
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


def test_calamine_timeout(libreoffice):
    _, converted = libreoffice
    err = problem(converted["ods"], Limits(timeout_seconds=0.01))
    assert err.code in ("format-unreadable", "sheet-too-large") and "秒" in err.params["detail"]


def test_calamine_cell_limit(libreoffice):
    _, converted = libreoffice
    err = problem(converted["xls"], Limits(max_cells=10))
    assert (err.code, err.params["sheet"]) == ("sheet-too-large", "資料")


def test_ods_repeat_bomb_is_contained(tmp_path):
    path = hostile.ods_repeat_bomb(tmp_path)
    started = time.perf_counter()
    err = problem(path, Limits(memory_bytes=512 * 2**20))
    assert err.code in ("format-unreadable", "sheet-too-large")
    assert time.perf_counter() - started < 20


def test_ods_garbage_content(tmp_path):
    assert problem(hostile.ods_garbage_content(tmp_path)).code in ("format-unreadable", "file-corrupt")


def test_ole_garbage_workbook(tmp_path):
    err = problem(hostile.ole_garbage_workbook(tmp_path))
    assert (err.code, err.params["format"]) == ("format-unreadable", "XLS")


def test_a_killed_worker_is_blamed_on_the_sheet_it_was_reading():
    assert S._last_sheet(b'qos-xl-sheet\t"\\u8cc7\\u6599"\nqos-xl-sheet\t"B\\nC"\n') == "B\nC"
    assert S._last_sheet(b'qos-xl-sheet\t"A"\nqos-xl-done\n') is None
    assert S._last_sheet(None) is None
