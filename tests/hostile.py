"""Builders of hostile and broken spreadsheet files, for tests.

Every builder takes a directory, writes ONE file into it and returns its path; nothing
binary is committed.  Valid base workbooks come from xlsxwriter (or openpyxl where its own
quirk is the point); the hostile parts are then written member by member, either with
``zipfile`` or, where a ZIP must lie about itself (forged sizes, overlapping or duplicate
entries, a streamed bomb), with the small raw ZIP writer below.

No builder runs LibreOffice: tests convert ``plain_xlsx``-style files with ``soffice
--headless`` themselves (``ods_with_doctype`` patches such a converted .ods).

What each kind of file is for (the expected outcome of ``spreadsheet.open_workbook``):

* not a (whole) spreadsheet: ``empty_file``, ``random_bytes``, ``truncated_zip``,
  ``flipped_byte`` / ``flipped_byte_deflated`` (bad CRC / broken deflate), ``docx_renamed``,
  ``plain_zip``, ``html_renamed``, ``csv_renamed``, ``pdf_renamed``, ``text_file``,
  ``encrypted_ooxml`` (a real minimal CFB), ``ole_without_workbook``, ``ole_garbage_workbook``
* hostile archives: ``zip_bomb`` (> 1 GiB from ~3 MB), ``zip_bomb_lying_sizes``,
  ``overlapping_entries``, ``duplicate_names``, ``too_many_members``, ``ods_repeat_bomb``
* hostile XML: ``billion_laughs``, ``external_entity``, ``doctype_in_unread_part``,
  ``doctype_after_long_prolog``, ``utf16_doctype``
* the cell grid: ``huge_dimension``, ``far_corner``, ``lone_far_cell``, ``beyond_excel``,
  ``lying_dimension``, ``many_cells``, ``many_blank_cells``, ``no_r_attributes``,
  ``huge_inline_string``
* values that must survive: ``plain_xlsx``, ``xlsm_with_macros``, ``uncached_formulas``,
  ``openpyxl_formulas``, ``date_1904``, ``date_serials``, ``long_string``,
  ``control_characters``, ``emoji_cjk``, ``rich_text_phonetic``, ``hidden_parts``,
  ``merged_cells``, ``absolute_targets``, ``time_formats``
* legitimate structures python-calamine refuses (read by ``intake/fallback.py``):
  ``whole_line_merges``, ``sheet_without_relationship``, ``macro_sheet``
"""

from __future__ import annotations

import datetime as dt
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False}
SHEET1 = "xl/worksheets/sheet1.xml"
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def xlsxwriter_book(path: Path, fill, **options) -> Path:
    """A real workbook: ``fill(workbook)`` adds sheets and cells."""
    book = xlsxwriter.Workbook(str(path), {**XLSX_OPTIONS, **options})
    fill(book)
    book.close()
    return path


def read_members(path) -> dict[str, bytes]:
    """All members of a ZIP, in order."""
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def write_members(path, members: dict[str, bytes], stored: tuple[str, ...] = ()) -> Path:
    """A ZIP with these members, deflated except the names in ``stored``."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            method = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data, compress_type=method)
    return Path(path)


def sheet_xml(sheet_data: str, *, dimension: str | None = None, before: str = "", after: str = "") -> bytes:
    """A worksheet part around ``sheet_data`` (the inside of <sheetData>)."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'{XML_DECL}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{dim}{before}'
        f"<sheetData>{sheet_data}</sheetData>{after}</worksheet>"
    ).encode()


def inline(ref: str | None, text: str) -> str:
    """An inline-string cell (``ref`` None: no r attribute)."""
    r = f' r="{ref}"' if ref else ""
    return f'<c{r} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def base_members(directory: Path) -> dict[str, bytes]:
    """The members of a one-sheet xlsxwriter workbook, to patch."""
    path = xlsxwriter_book(Path(directory) / "_base.xlsx", lambda b: b.add_worksheet("Sheet1").write("A1", "base"))
    members = read_members(path)
    path.unlink()
    return members


def with_sheet1(directory, name: str, sheet1: bytes, extra: dict[str, bytes] | None = None) -> Path:
    """A valid xlsx whose sheet1.xml is ``sheet1``; ``extra`` replaces or adds members."""
    members = base_members(directory)
    members[SHEET1] = sheet1
    members.update(extra or {})
    return write_members(Path(directory) / name, members)


# -- a raw ZIP writer for archives that lie ---------------------------------------------------


@dataclass
class RawMember:
    name: str
    payload: bytes            # the bytes stored in the archive (already compressed)
    method: int               # 0 stored, 8 deflated
    crc: int
    size: int                 # inflated size written in the headers

    @classmethod
    def of(cls, name: str, data: bytes, method: int = 8) -> "RawMember":
        if method == 8:
            co = zlib.compressobj(6, zlib.DEFLATED, -15)
            payload = co.compress(data) + co.flush()
        else:
            payload = data
        return cls(name, payload, method, zlib.crc32(data), len(data))


def write_raw_zip(path, members: list[RawMember], central: list[tuple[str, int, int | None]] | None = None) -> Path:
    """Write local headers + data for ``members``, then a central directory.

    ``central`` lists (name, index of the member whose local header it points at, size to
    declare or None for the member's own); by default one honest record per member.
    """
    out = bytearray()
    offsets = []
    for m in members:
        name = m.name.encode()
        offsets.append(len(out))
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0x800, m.method, 0, 0x5821,
                           m.crc, len(m.payload), m.size, len(name), 0)
        out += name + m.payload
    cd_start = len(out)
    records = central if central is not None else [(m.name, i, None) for i, m in enumerate(members)]
    for name_text, index, size in records:
        m = members[index]
        name = name_text.encode()
        out += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0x800, m.method, 0, 0x5821,
                           m.crc, len(m.payload), m.size if size is None else size,
                           len(name), 0, 0, 0, 0, 0, offsets[index])
        out += name
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(records), len(records),
                       len(out) - cd_start, cd_start, 0)
    Path(path).write_bytes(bytes(out))
    return Path(path)


# ------------------------------------------------------------------------------------------
# not a spreadsheet, or not a whole one
# ------------------------------------------------------------------------------------------


def empty_file(directory) -> Path:
    path = Path(directory) / "empty.xlsx"
    path.write_bytes(b"")
    return path


def random_bytes(directory, size: int = 4096) -> Path:
    path = Path(directory) / "random.xlsx"
    data = bytearray(random.Random(1).randbytes(size))
    data[:2] = b"\x00\x9c"                      # never a known signature by chance
    path.write_bytes(bytes(data))
    return path


def plain_xlsx(directory, name: str = "plain.xlsx", rows: int = 60, cols: int = 10) -> Path:
    """A real form-like workbook: a header row then ``rows`` rows of text, numbers and dates."""

    def fill(book):
        ws = book.add_worksheet("自行檢核表")
        date = book.add_format({"num_format": "yyyy/mm/dd"})
        for c in range(cols):
            ws.write(0, c, f"欄位{c + 1}")
        for r in range(1, rows):
            for c in range(cols):
                if c == 0:
                    ws.write_number(r, c, r)
                elif c == 1:
                    ws.write_datetime(r, c, dt.datetime(2024, 1, 1) + dt.timedelta(days=r), date)
                elif c == 2:
                    ws.write_number(r, c, r * 1.25)
                elif c == 3:
                    ws.write_boolean(r, c, r % 2 == 0)
                else:
                    ws.write_string(r, c, f"第{r}列 {c} 辦理情形 text")

    return xlsxwriter_book(Path(directory) / name, fill)


def truncated_zip(directory) -> Path:
    data = plain_xlsx(directory, "_whole.xlsx").read_bytes()
    (Path(directory) / "_whole.xlsx").unlink()
    path = Path(directory) / "truncated.xlsx"
    path.write_bytes(data[: len(data) // 2])
    return path


def flipped_byte(directory) -> Path:
    """sheet1.xml STORED, one letter of its text changed: the XML still parses, the CRC fails."""
    members = base_members(directory)
    members[SHEET1] = sheet_xml('<row r="1">' + inline("A1", "checksum") + "</row>")
    path = write_members(Path(directory) / "flipped.xlsx", members, stored=(SHEET1,))
    data = bytearray(path.read_bytes())
    at = data.find(b"checksum")
    data[at] ^= 0x20                             # 'c' -> 'C'
    path.write_bytes(bytes(data))
    return path


def flipped_byte_deflated(directory) -> Path:
    """A byte in the middle of a deflated sheet1.xml flipped (inflate error or CRC error)."""
    path = plain_xlsx(directory, "flipped_deflated.xlsx")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(SHEET1)
    data = bytearray(path.read_bytes())
    name_len, extra_len = struct.unpack_from("<2H", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def docx_renamed(directory) -> Path:
    members = {
        "[Content_Types].xml": (
            f'{XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ).encode(),
        "_rels/.rels": (
            f'{XML_DECL}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="word/document.xml"/></Relationships>'
        ).encode(),
        "word/document.xml": (
            f'{XML_DECL}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            "<w:body><w:p><w:r><w:t>自行檢核表</w:t></w:r></w:p></w:body></w:document>"
        ).encode(),
    }
    return write_members(Path(directory) / "report.xlsx", members)


def plain_zip(directory) -> Path:
    return write_members(Path(directory) / "photos.xlsx", {"a.txt": b"hello", "b/c.txt": b"world"})


def html_renamed(directory) -> Path:
    path = Path(directory) / "export.xls"
    path.write_bytes(
        "\ufeff  <!DOCTYPE HTML><html><head><meta charset='utf-8'></head><body><table>"
        "<tr><td>項次</td><td>執行狀態</td></tr></table></body></html>".encode()
    )
    return path


def csv_renamed(directory, encoding: str = "utf-8") -> Path:
    path = Path(directory) / f"data-{encoding}.xlsx"
    path.write_bytes("項次,執行狀態,辦理情形\n1,已完成,說明\n2,辦理中,\"有,逗號\"\n".encode(encoding))
    return path


def pdf_renamed(directory) -> Path:
    path = Path(directory) / "scan.xlsx"
    path.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n")
    return path


# ------------------------------------------------------------------------------------------
# an encrypted OOXML: a real (minimal) compound file
# ------------------------------------------------------------------------------------------

_ENDOFCHAIN = 0xFFFFFFFE
_FREESECT = 0xFFFFFFFF
_FATSECT = 0xFFFFFFFD
_NOSTREAM = 0xFFFFFFFF


def _cfb_entry(name: str, kind: int, left=_NOSTREAM, right=_NOSTREAM, child=_NOSTREAM,
               start=_ENDOFCHAIN, size=0) -> bytes:
    encoded = (name.encode("utf-16-le") + b"\x00\x00") if name else b""
    return struct.pack(
        "<64sHBB3L16sL8s8sLQ",
        encoded.ljust(64, b"\x00"), len(encoded), kind, 1 if kind else 0,
        left, right, child, b"\x00" * 16, 0, b"\x00" * 8, b"\x00" * 8, start, size,
    )


def encrypted_ooxml(directory) -> Path:
    """What Excel writes for a password-protected .xlsx: an OLE2 compound file (not a ZIP)
    holding an ``EncryptionInfo`` and an ``EncryptedPackage`` stream.  The stream contents
    are filler, not real ciphertext."""
    rng = random.Random(7)
    info = (struct.pack("<HHL", 4, 4, 0x40) + b"<encryption/>").ljust(4096, b"\x00")
    package = struct.pack("<Q", 8000) + rng.randbytes(8184)
    return compound_file(Path(directory) / "protected.xlsx", ("EncryptionInfo", info), ("EncryptedPackage", package))


def word97(directory, name: str = "letter.doc", encrypted: bool = False) -> Path:
    """A Word 97-2003 document's compound file: a ``WordDocument`` stream opening with its FIB
    (magic 0xA5EC; flag fEncrypted when ``encrypted``) and a ``1Table`` stream, both filler after that."""
    flags = 0x0100 if encrypted else 0
    fib = struct.pack("<HHHHHH", 0xA5EC, 0x00C1, 0, 0x0404, 0, flags)
    return compound_file(Path(directory) / name, ("1Table", b"\x00" * 4096), ("WordDocument", fib.ljust(4096, b"\x00")))


def compound_file(path: Path, first: tuple[str, bytes], second: tuple[str, bytes]) -> Path:
    """A minimal but structurally VALID CFB v3 (512-byte sectors) holding two streams: header,
    one FAT sector, one directory sector, then the streams in regular sectors (each >= 4096
    bytes, the mini-stream cutoff, so no mini stream is needed).  ``first``'s name must sort
    before ``second``'s (shorter names first)."""
    streams = [first, second]
    fat = [_FATSECT, _ENDOFCHAIN]                  # sector 0: FAT, sector 1: directory
    starts = []
    body = b""
    for _name, data in streams:
        count = -(-len(data) // 512)
        start = len(fat)
        starts.append(start)
        fat += [start + i + 1 for i in range(count - 1)] + [_ENDOFCHAIN]
        body += data.ljust(count * 512, b"\x00")
    assert len(fat) <= 128
    fat_sector = struct.pack("<128L", *(fat + [_FREESECT] * (128 - len(fat))))
    # red-black tree (all black): root -> the second stream, whose left sibling is the first
    directory_sector = (
        _cfb_entry("Root Entry", 5, child=2)
        + _cfb_entry(first[0], 2, start=starts[0], size=len(first[1]))
        + _cfb_entry(second[0], 2, left=1, start=starts[1], size=len(second[1]))
        + _cfb_entry("", 0, start=0)
    )
    header = struct.pack(
        "<8s16sHHHHH6sLLLLLLLLL",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\x00" * 16, 0x3E, 3, 0xFFFE, 9, 6, b"\x00" * 6,
        0, 1, 1, 0, 4096, _ENDOFCHAIN, 0, _ENDOFCHAIN, 0,
    ) + struct.pack("<109L", 0, *([_FREESECT] * 108))
    assert len(header) == 512 and len(directory_sector) == 512
    path.write_bytes(header + fat_sector + directory_sector + body)
    return path


def _renamed_streams(directory, renames: tuple[tuple[str, str], ...], name: str) -> Path:
    """The encrypted-OOXML compound file with its two stream names replaced (same UTF-16 length)."""
    path = encrypted_ooxml(directory)
    data = path.read_bytes()
    for old, new in renames:
        data = data.replace(old.encode("utf-16-le"), new.encode("utf-16-le"))
    out = Path(directory) / name
    out.write_bytes(data)
    path.unlink()
    return out


def ole_without_workbook(directory) -> Path:
    """A compound file that is a Word 97 document (WordDocument stream)."""
    return _renamed_streams(directory, (("EncryptedPackage", "WordDocument\0\0\0\0"),
                                        ("EncryptionInfo", "1Table\0\0\0\0\0\0\0\0")), "letter.xls")


def ole_garbage_workbook(directory) -> Path:
    """A compound file with a 'Workbook' stream full of filler: looks like .xls, is not."""
    return _renamed_streams(directory, (("EncryptedPackage", "Junk" + "\0" * 12),
                                        ("EncryptionInfo", "Workbook" + "\0" * 6)), "garbage.xls")


def text_file(directory) -> Path:
    path = Path(directory) / "notes.xlsx"
    path.write_bytes("這不是試算表。\n只是一段說明文字\n".encode())
    return path


def ods_garbage_content(directory) -> Path:
    """An .ods package whose content.xml is not OpenDocument."""
    members = {
        "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
        "content.xml": b'<?xml version="1.0" encoding="UTF-8"?><nothing-here/>',
        "META-INF/manifest.xml": b'<?xml version="1.0" encoding="UTF-8"?><manifest/>',
    }
    return write_members(Path(directory) / "garbage.ods", members, stored=("mimetype",))


# ------------------------------------------------------------------------------------------
# archives that attack the reader
# ------------------------------------------------------------------------------------------

BOMB_ROW = b'<row><c t="inlineStr"><is><t>boom</t></is></c></row>'


def zip_bomb(directory, inflated_mib: int = 1100) -> Path:
    """A real xlsx whose sheet1.xml inflates to ``inflated_mib`` MiB (> 1 GiB) from ~3 MB.

    The deflate stream is built from one ~1 MiB block compressed once and ended by a full
    flush (byte-aligned, no history), repeated: the builder never holds the inflated text
    and takes about a second (the CRC is computed over the real content).
    """
    head = f'{XML_DECL}<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
    block = BOMB_ROW * (2**20 // len(BOMB_ROW))
    tail = b"</sheetData></worksheet>"

    def segment(data: bytes) -> bytes:
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        return co.compress(data) + co.flush(zlib.Z_FULL_FLUSH)

    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    final = co.flush(zlib.Z_FINISH)               # an empty final block
    repeats = inflated_mib * 2**20 // len(block) + 1
    payload = segment(head) + segment(block) * repeats + segment(tail) + final
    crc = zlib.crc32(head)
    for _ in range(repeats):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + len(block) * repeats + len(tail)
    members = [RawMember.of(n, d) for n, d in base_members(directory).items() if n != SHEET1]
    members.append(RawMember(SHEET1, payload, 8, crc, size))
    return write_raw_zip(Path(directory) / "bomb.xlsx", members)


def zip_bomb_lying_sizes(directory) -> Path:
    """A ~40 MiB sheet1.xml whose central directory claims 100 KB: nothing in the size table
    looks wrong, so only counting while inflating can stop it."""
    head = f'{XML_DECL}<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
    block = BOMB_ROW * (2**20 // len(BOMB_ROW))
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = co.compress(head)
    for _ in range(40):
        payload += co.compress(block)
    payload += co.compress(b"</sheetData></worksheet>") + co.flush()
    members = [RawMember.of(n, d) for n, d in base_members(directory).items() if n != SHEET1]
    members.append(RawMember(SHEET1, payload, 8, 0, 100_000))
    return write_raw_zip(Path(directory) / "lying.xlsx", members)


def overlapping_entries(directory) -> Path:
    """Two central-directory records pointing at the same local data (the overlapping
    zip-bomb trick: N names, one stored copy)."""
    members = [RawMember.of(n, d) for n, d in base_members(directory).items()]
    central = [(m.name, i, None) for i, m in enumerate(members)]
    sheet = next(i for i, m in enumerate(members) if m.name == SHEET1)
    central.append(("xl/worksheets/sheet2.xml", sheet, None))
    return write_raw_zip(Path(directory) / "overlap.xlsx", members, central)


def duplicate_names(directory) -> Path:
    members = [RawMember.of(n, d) for n, d in base_members(directory).items()]
    members.append(RawMember.of(SHEET1, sheet_xml('<row r="1">' + inline("A1", "second copy") + "</row>")))
    return write_raw_zip(Path(directory) / "duplicate.xlsx", members)


def too_many_members(directory, count: int = 2001) -> Path:
    members = base_members(directory)
    for i in range(count):
        members[f"xl/media/pad{i}.txt"] = b"x"
    return write_members(Path(directory) / "many.xlsx", members)


# ------------------------------------------------------------------------------------------
# XML attacks
# ------------------------------------------------------------------------------------------


def billion_laughs(directory) -> Path:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    body = (
        f'{XML_DECL}<!DOCTYPE worksheet [{entities}]>'
        f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">'
        '<c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>'
    ).encode()
    return with_sheet1(directory, "laughs.xlsx", body)


def external_entity(directory) -> Path:
    """sharedStrings.xml pulls in /etc/passwd through an external entity."""
    sst = (
        f'{XML_DECL}<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&xxe;</t></si></sst>'
    ).encode()
    sheet = sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    return with_sheet1(directory, "xxe.xlsx", sheet, {"xl/sharedStrings.xml": sst})


def doctype_in_unread_part(directory) -> Path:
    """A DOCTYPE in docProps/app.xml, a part the reader never parses."""
    members = base_members(directory)
    app = members["docProps/app.xml"]
    members["docProps/app.xml"] = app.replace(b"?>", b'?>\n<!DOCTYPE Properties [<!ENTITY x "y">]>', 1)
    return write_members(Path(directory) / "app_doctype.xlsx", members)


def doctype_after_long_prolog(directory, padding: int = 100_000) -> Path:
    """A DOCTYPE pushed past the first 64 KiB by a comment."""
    body = (
        f'{XML_DECL}<!--{"x" * padding}--><!DOCTYPE worksheet [<!ENTITY a "b">]>'
        f'<worksheet xmlns="{MAIN_NS}"><sheetData/></worksheet>'
    ).encode()
    return with_sheet1(directory, "long_prolog.xlsx", body)


def utf16_doctype(directory) -> Path:
    """The DOCTYPE in a UTF-16 encoded part (a byte search for b'<!DOCTYPE' would miss it)."""
    body = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE worksheet [<!ENTITY a "b">]>'
        f'<worksheet xmlns="{MAIN_NS}"><sheetData/></worksheet>'
    ).encode("utf-16")
    return with_sheet1(directory, "utf16_doctype.xlsx", body)


# ------------------------------------------------------------------------------------------
# sheets that attack the cell grid
# ------------------------------------------------------------------------------------------


def huge_dimension(directory) -> Path:
    """<dimension ref="A1:XFD1048576"/> over three cells."""
    rows = '<row r="1">' + inline("A1", "a") + inline("B1", "b") + '</row><row r="2">' + inline("A2", "c") + "</row>"
    return with_sheet1(directory, "huge_dimension.xlsx", sheet_xml(rows, dimension="A1:XFD1048576"))


def far_corner(directory) -> Path:
    """A1 and a lone cell at XFD1048576."""
    rows = '<row r="1">' + inline("A1", "top") + '</row><row r="1048576">' + inline("XFD1048576", "far") + "</row>"
    return with_sheet1(directory, "far_corner.xlsx", sheet_xml(rows, dimension="A1:XFD1048576"))


def lone_far_cell(directory) -> Path:
    rows = '<row r="1048576"><c r="XFD1048576"><v>42</v></c></row>'
    return with_sheet1(directory, "lone_far.xlsx", sheet_xml(rows))


def beyond_excel(directory, ref: str = "XFE1") -> Path:
    rows = f'<row r="1">{inline(ref, "outside")}</row>'
    return with_sheet1(directory, f"beyond_{ref}.xlsx", sheet_xml(rows))


def lying_dimension(directory) -> Path:
    """60 rows of data under <dimension ref="A1:B2"/>."""
    path = plain_xlsx(directory, "lying_dimension.xlsx", rows=60, cols=10)
    members = read_members(path)
    members[SHEET1] = members[SHEET1].replace(b'<dimension ref="A1:J60"/>', b'<dimension ref="A1:B2"/>')
    assert b'<dimension ref="A1:B2"/>' in members[SHEET1]
    return write_members(path, members)


def many_cells(directory, count: int = 2_000) -> Path:
    """``count`` non-empty cells in one column (pair with a small Limits.max_cells)."""
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, count + 1))
    return with_sheet1(directory, "many_cells.xlsx", sheet_xml(rows))


def many_blank_cells(directory, count: int = 20_000) -> Path:
    """Styled but empty cells only."""
    rows = "".join(f'<row r="{r}"><c r="A{r}" s="0"/><c r="B{r}" s="0"/></row>' for r in range(1, count // 2 + 1))
    return with_sheet1(directory, "many_blanks.xlsx", sheet_xml(rows))


def no_r_attributes(directory) -> Path:
    """Rows and cells without r: positions are implicit (some writers do this)."""
    rows = (
        "<row>" + inline(None, "A1") + inline(None, "B1") + "</row>"       # row 1
        + "<row>" + "<c><v>1</v></c>" + "<c/>" + "<c><v>3</v></c>" + "</row>"   # row 2: A2, (B2 blank), C2
        + '<row r="5">' + inline(None, "A5") + inline("D5", "D5") + inline(None, "E5") + "</row>"
        + "<row>" + inline(None, "A6") + "</row>"                           # row 6
    )
    return with_sheet1(directory, "no_r.xlsx", sheet_xml(rows))


# ------------------------------------------------------------------------------------------
# content that must survive exactly
# ------------------------------------------------------------------------------------------


def xlsm_with_macros(directory) -> Path:
    members = base_members(directory)
    members["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"not really VBA" * 10
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
    )
    return write_members(Path(directory) / "macro.xlsm", members)


def uncached_formulas(directory) -> Path:
    """Formulas with and without a cached result, as different writers leave them."""
    rows = (
        '<row r="1">'
        '<c r="A1"><f>1+1</f></c>'                                   # no <v>: uncached
        '<c r="B1"><f>1+1</f><v></v></c>'                            # empty <v>: uncached
        '<c r="C1"><f>2+2</f><v>4</v></c>'                           # cached 4
        '<c r="D1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>'          # cached text
        '<c r="E1" t="str"><f>""</f><v></v></c>'                     # cached empty string: blank
        '<c r="F1" t="e"><f>1/0</f><v>#DIV/0!</v></c>'               # cached error
        '<c r="G1" t="b"><f>TRUE()</f><v>1</v></c>'                  # cached bool
        '<c r="H1" t="s"><f>X</f></c>'                               # shared-string type, no value
        "</row>"
    )
    return with_sheet1(directory, "formulas.xlsx", sheet_xml(rows))


def openpyxl_formulas(directory) -> Path:
    """openpyxl never stores formula results: every formula is uncached."""
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws["A1"] = 2
    ws["A2"] = "=A1*3"
    ws["A3"] = '=IF(A1>1,"big","small")'
    path = Path(directory) / "openpyxl_formulas.xlsx"
    book.save(path)
    return path


def date_1904(directory) -> Path:
    def fill(book):
        ws = book.add_worksheet()
        fmt = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        ws.write_datetime("A1", dt.datetime(2024, 2, 29, 13, 30), fmt)
        ws.write_datetime("A2", dt.datetime(1904, 1, 1), fmt)
        ws.write_number("A3", 1, fmt)

    return xlsxwriter_book(Path(directory) / "date1904.xlsx", fill, date_1904=True)


def date_serials(directory) -> Path:
    """Serials around Excel's phantom 1900-02-29 (serial 60), plus time-only and odd ones."""

    def fill(book):
        ws = book.add_worksheet()
        fmt = book.add_format({"num_format": "yyyy/mm/dd"})
        roc = book.add_format({"num_format": '[$-404]e"年"m"月"d"日"'})
        elapsed = book.add_format({"num_format": "[h]:mm:ss"})
        time = book.add_format({"num_format": "h:mm"})
        text = book.add_format({"num_format": "@"})
        sci = book.add_format({"num_format": "0.00E+00"})
        for row, serial in enumerate((1, 59, 60, 61, 45000.5, -1, 3_000_000)):
            ws.write_number(row, 0, serial, fmt)
        ws.write_number("B1", 45473, roc)                 # 2024-06-30
        ws.write_number("B2", 1.5, elapsed)               # a duration, not a date
        ws.write_number("B3", 0.75, time)                 # 18:00
        ws.write_number("B4", 45473, text)
        ws.write_number("B5", 45473, sci)
        ws.write_number("B6", 45473, book.add_format({"num_format": 14}))   # built-in m/d/yyyy
        ws.write_number("B7", 45473)                      # General

    return xlsxwriter_book(Path(directory) / "date_serials.xlsx", fill)


def long_string(directory, length: int = 32_767) -> Path:
    text = ("長字串" + "abcdefghij" * 4000)[:length - 1] + "尾"

    def fill(book):
        book.add_worksheet().write_string("A1", text)

    return xlsxwriter_book(Path(directory) / "long_string.xlsx", fill)


def huge_text(chars: int) -> str:
    """``chars`` random lowercase letters (incompressible enough to pass the ratio check)."""
    table = bytes(97 + b % 26 for b in range(256))
    return random.Random(3).randbytes(chars).translate(table).decode()


def huge_inline_string(directory, chars: int = 5_000_000) -> Path:
    """One cell holding millions of characters (Excel's limit is 32,767): ``huge_text``."""
    rows = f'<row r="1">{inline("A1", huge_text(chars))}</row>'
    return with_sheet1(directory, "huge_string.xlsx", sheet_xml(rows))


CONTROL_TEXT = "tab\there\r\nCRLF\rCR\x01\x1f\x7f end"
ESCAPE_LOOKALIKE = "literal _x0041_ stays"


def control_characters(directory) -> Path:
    def fill(book):
        ws = book.add_worksheet()
        ws.write_string("A1", CONTROL_TEXT)
        ws.write_string("A2", ESCAPE_LOOKALIKE)
        ws.write_string("A3", "  padded  ")

    path = xlsxwriter_book(Path(directory) / "control.xlsx", fill)
    # and the same escapes in an inline string, including an escaped surrogate pair
    members = read_members(path)
    members[SHEET1] = members[SHEET1].replace(
        b"</sheetData>",
        b'<row r="4"><c r="A4" t="inlineStr"><is><t>x_x000D_y_xD83D__xDE00_z</t></is></c></row></sheetData>',
    )
    return write_members(path, members)


EMOJI_CJK = "𠀀 CJK Ext-B 𪚥 emoji 😀👍🏽 全形，標點"


def emoji_cjk(directory) -> Path:
    def fill(book):
        ws = book.add_worksheet("表😀𠀀")
        ws.write_string("A1", EMOJI_CJK)
        ws.write_string("B2", "𠀀")

    return xlsxwriter_book(Path(directory) / "emoji.xlsx", fill)


def rich_text_phonetic(directory) -> Path:
    """Shared strings with rich-text runs and a phonetic guide (<rPh>) that is not text."""
    sst = (
        f'{XML_DECL}<sst xmlns="{MAIN_NS}" count="3" uniqueCount="3">'
        "<si><t>plain</t></si>"
        '<si><r><t>rich </t></r><r><rPr><b/></rPr><t xml:space="preserve">bold </t></r><r><t>end</t></r></si>'
        '<si><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/></si>'
        "</sst>"
    ).encode()
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
    return with_sheet1(directory, "rich.xlsx", sheet_xml(rows), {"xl/sharedStrings.xml": sst})


def hidden_parts(directory) -> Path:
    """Data in a hidden sheet, a very hidden sheet, a hidden row and hidden columns."""

    def fill(book):
        ws = book.add_worksheet("可見")
        ws.write("A1", "visible")
        ws.write("A3", "in hidden row")
        ws.set_row(2, None, None, {"hidden": True})
        ws.write("C1", "in hidden col")
        ws.set_column("C:D", None, None, {"hidden": True})
        ws.set_column("F:F", None, None, {"hidden": True})
        hidden = book.add_worksheet("隱藏")
        hidden.write("B2", "secret")
        hidden.hide()
        very = book.add_worksheet("非常隱藏")
        very.write("A1", "deep")
        very.very_hidden()

    return xlsxwriter_book(Path(directory) / "hidden.xlsx", fill)


def merged_cells(directory) -> Path:
    def fill(book):
        ws = book.add_worksheet()
        ws.merge_range("A1:C1", "標題")
        ws.merge_range("B3:B5", "直")
        ws.write("D4", "other")

    return xlsxwriter_book(Path(directory) / "merged.xlsx", fill)


def absolute_targets(directory) -> Path:
    """Relationship targets written as absolute part names ('/xl/worksheets/sheet1.xml')."""
    members = base_members(directory)
    rels = members["xl/_rels/workbook.xml.rels"]
    members["xl/_rels/workbook.xml.rels"] = rels.replace(b'Target="worksheets/', b'Target="/xl/worksheets/').replace(
        b'Target="sharedStrings.xml"', b'Target="/xl/sharedStrings.xml"'
    )
    assert b"/xl/worksheets/" in members["xl/_rels/workbook.xml.rels"]
    return write_members(Path(directory) / "absolute.xlsx", members)


def ods_repeat_bomb(directory, rows: int = 6000) -> Path:
    """An .ods whose few bytes declare one non-empty value repeated over 16384 x ``rows``
    cells (6000 rows: 98 million, just under calamine's own 100-million-cell cap, so only
    the worker's memory limit stops it)."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        "<office:body><office:spreadsheet>"
        '<table:table table:name="Bomb"><table:table-column table:number-columns-repeated="16384"/>'
        f'<table:table-row table:number-rows-repeated="{rows}">'
        '<table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="16384">'
        "<text:p>1</text:p></table:table-cell></table:table-row></table:table>"
        "</office:spreadsheet></office:body></office:document-content>"
    ).encode()
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    ).encode()
    members = {
        "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
        "content.xml": content,
        "META-INF/manifest.xml": manifest,
    }
    return write_members(Path(directory) / "repeat_bomb.ods", members, stored=("mimetype",))


def ods_with_doctype(directory, source_ods: Path) -> Path:
    """A copy of a real .ods with a DOCTYPE in settings.xml (a part calamine does not need)."""
    members = read_members(source_ods)
    settings = members.get("settings.xml", b'<?xml version="1.0" encoding="UTF-8"?><x/>')
    members["settings.xml"] = settings.replace(b"?>", b'?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', 1)
    return write_members(Path(directory) / "doctype.ods", members, stored=("mimetype",))



# ------------------------------------------------------------------------------------------
# number formats read wrongly before, and structures python-calamine refuses
# ------------------------------------------------------------------------------------------


def time_formats(directory) -> Path:
    """Built-in formats 45-47 (mm:ss, [h]:mm:ss, mmss.0), formats of h or s alone, and a
    conditional-format <numFmt> inside <dxfs> whose id is also a cell format's."""
    styles = (
        f'{XML_DECL}<styleSheet xmlns="{MAIN_NS}">'
        '<numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/>'
        '<numFmt numFmtId="165" formatCode="h"/><numFmt numFmtId="166" formatCode="ss"/></numFmts>'
        '<fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders>'
        '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="7"><xf numFmtId="0"/><xf numFmtId="45"/>'
        '<xf numFmtId="46"/><xf numFmtId="47"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="166"/></cellXfs>'
        '<dxfs count="1"><dxf><numFmt numFmtId="164" formatCode="0.00"/></dxf></dxfs></styleSheet>'
    ).encode()
    values = ("0.0104166666666667", "1.10538194444444", "0.5", "42062", "0.75", "0.25")
    rows = "".join(f'<row r="{r}"><c r="A{r}" s="{r}"><v>{v}</v></c></row>' for r, v in enumerate(values, 1))
    return with_sheet1(directory, "time_formats.xlsx", sheet_xml(rows), {"xl/styles.xml": styles})


def whole_line_merges(directory) -> Path:
    """Merges over a whole column (A:A) and whole rows (3:4), as Excel writes them."""
    rows = '<row r="1">' + inline("B1", "beside") + "</row>"
    after = '<mergeCells count="2"><mergeCell ref="A:A"/><mergeCell ref="3:4"/></mergeCells>'
    return with_sheet1(directory, "whole_lines.xlsx", sheet_xml(rows, after=after))


def sheet_without_relationship(directory) -> Path:
    """A sheet listed with r:id="" (how Excel 2013/2016 keep an old macro sheet) beside a real one."""
    members = base_members(directory)
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(
        b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/>',
        b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/><sheet name="Module1" sheetId="2" state="veryHidden" r:id=""/>')
    assert b"Module1" in members["xl/workbook.xml"]
    return write_members(Path(directory) / "no_rel_id.xlsm", members)


def macro_sheet(directory) -> Path:
    """An Excel 4.0 (XLM) macro sheet beside a worksheet: its cells are sheet cells, never run."""
    members = base_members(directory)
    members["xl/macrosheets/sheet1.xml"] = sheet_xml('<row r="1"><c r="A1" t="str"><f>HALT()</f><v>stop</v></c></row>')
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(
        b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/>',
        b'<sheet name="Sheet1" sheetId="1" r:id="rId1"/><sheet name="Macro1" sheetId="2" r:id="rIdM"/>')
    members["xl/_rels/workbook.xml.rels"] = members["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdM" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet"'
        b' Target="macrosheets/sheet1.xml"/></Relationships>')
    members["[Content_Types].xml"] = members["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/macrosheets/sheet1.xml" '
        b'ContentType="application/vnd.ms-excel.macrosheet+xml"/></Types>')
    return write_members(Path(directory) / "macro_sheet.xlsm", members)
