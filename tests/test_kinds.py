"""What a file is, said once: the spreadsheet reader, the document reader and mail intake tell a ZIP package
by ``sniff.read_package_kind`` and name every kind by ``sniff.KIND_NOUNS``, so they agree on each built file."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

import hostile
import mail_fixtures as mf
from qos_xl.core.messages import MESSAGES
from qos_xl.core.problems import FileProblem
from qos_xl.intake import zipguard
from qos_xl.intake.documents import DOC, DOCX, ODT, examine
from qos_xl.intake.mail.attachments import What, classify
from qos_xl.intake.sniff import read_package_kind
from qos_xl.intake.spreadsheet import open_workbook

OCTET = "application/octet-stream"
CONTENT_TYPES = {"[Content_Types].xml": b'<?xml version="1.0"?><Types/>'}
DOCUMENT = {"word/document.xml": b'<?xml version="1.0"?><w:document/>'}
WORD = mf.zip_bytes({**CONTENT_TYPES, **DOCUMENT})


def odf(subtype: str) -> dict[str, bytes]:
    return {"mimetype": f"application/vnd.oasis.opendocument.{subtype}".encode(),
            "content.xml": b'<?xml version="1.0"?><office:document-content/>'}


def without_content_types(directory: Path) -> dict[str, bytes]:
    """A real workbook's members, its [Content_Types].xml left out (the parts and relationships are whole)."""
    with zipfile.ZipFile(hostile.plain_xlsx(directory)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist() if i.filename != "[Content_Types].xml"}


def outside_xl(directory: Path) -> dict[str, bytes]:
    """A real workbook whose parts are in excel/, not xl/: its root relationship and content types say so."""
    with zipfile.ZipFile(hostile.plain_xlsx(directory)) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    moved = {name.replace("xl/", "excel/", 1) if name.startswith("xl/") else name: data for name, data in members.items()}
    moved["_rels/.rels"] = moved["_rels/.rels"].replace(b'Target="xl/', b'Target="excel/')
    moved["[Content_Types].xml"] = moved["[Content_Types].xml"].replace(b'PartName="/xl/', b'PartName="/excel/')
    return moved


NOT_SHEET = "file-not-spreadsheet"
# (members, what the package is, what the spreadsheet reader says, what the document reader says of it named
# 參獎申請書.pdf, what mail makes of it as an attachment named 附件 with no subject)
CASES = {
    "docx": (lambda d: {**CONTENT_TYPES, **DOCUMENT}, "docx",
             (NOT_SHEET, "Word 文件（.docx）"), DOCX, What("other", "", "Word 文件（.docx）")),
    # Word's main part without [Content_Types].xml: a damaged Word document, not an archive of XML
    # (mail used to open it as a ZIP and list word/document.xml as another file)
    "docx-no-content-types": (lambda d: dict(DOCUMENT), "docx",
                              (NOT_SHEET, "Word 文件（.docx）"), DOCX, What("other", "", "Word 文件（.docx）")),
    # [Content_Types].xml and word/ with the main part under another name: still Word (the spreadsheet
    # and document readers used to call it a ZIP archive)
    "docx-main-part-renamed": (lambda d: {**CONTENT_TYPES, "word/document2.xml": DOCUMENT["word/document.xml"]},
                               "docx", (NOT_SHEET, "Word 文件（.docx）"), DOCX, What("other", "", "Word 文件（.docx）")),
    # a macro-enabled Word document is named as one (the spreadsheet reader used to say .docx)
    "docm": (lambda d: {**CONTENT_TYPES, **DOCUMENT, "word/vbaProject.bin": b"\0" * 64}, "docm",
             (NOT_SHEET, "含巨集的 Word 文件（.docm）"), DOCX, What("other", "", "含巨集的 Word 文件（.docm）")),
    "pptx": (lambda d: {**CONTENT_TYPES, "ppt/presentation.xml": b"<p/>"}, "pptx",
             (NOT_SHEET, "PowerPoint 簡報（.pptx）"), ("document-not-readable", "PowerPoint 簡報（.pptx）"),
             What("other", "", "PowerPoint 簡報（.pptx）")),
    "odt": (lambda d: odf("text"), "odt",
            (NOT_SHEET, "OpenDocument 文字文件（.odt）"), ODT, What("other", "", "OpenDocument 文字文件（.odt）")),
    # an OpenDocument presentation is named as one (the two readers used to say 「OpenDocument 文件」)
    "odp": (lambda d: odf("presentation"), "odp",
            (NOT_SHEET, "OpenDocument 簡報（.odp）"), ("document-not-readable", "OpenDocument 簡報（.odp）"),
            What("other", "", "OpenDocument 簡報（.odp）")),
    "odg": (lambda d: odf("graphics"), "odf",
            (NOT_SHEET, "OpenDocument 文件"), ("document-not-readable", "OpenDocument 文件"),
            What("other", "", "OpenDocument 文件")),
    "plain-zip": (lambda d: {"a.txt": b"hello"}, "zip",
                  (NOT_SHEET, "ZIP 壓縮檔"), ("document-not-readable", "ZIP 壓縮檔"), What("zip", ".zip")),
    # a folder named word/ zipped with a Word document in it is an archive to open, not a Word document
    "zipped-word-folder": (lambda d: {"word/申請書.docx": WORD}, "zip",
                           (NOT_SHEET, "ZIP 壓縮檔"), ("document-not-readable", "ZIP 壓縮檔"), What("zip", ".zip")),
    # xl/ members with neither a workbook part nor [Content_Types].xml: a plain archive (the spreadsheet
    # reader used to call it a damaged workbook while mail opened it as an archive)
    "xl-folder-only": (lambda d: {"xl/worksheets/sheet1.xml": hostile.sheet_xml("")}, "zip",
                       (NOT_SHEET, "ZIP 壓縮檔"), ("document-not-readable", "ZIP 壓縮檔"), What("zip", ".zip")),
    # [Content_Types].xml and xl/ without a workbook part: a damaged workbook, saved so validation says so
    "workbook-part-missing": (lambda d: {**CONTENT_TYPES, "xl/styles.xml": b"<styleSheet/>"}, "xlsx",
                              ("file-corrupt", "找不到活頁簿內容 xl/workbook.xml"), None, What("spreadsheet", ".xlsx")),
    # a whole workbook without [Content_Types].xml: the spreadsheet reader reads it, so mail keeps it
    # (mail used to open it as a ZIP archive and list its parts)
    "workbook-no-content-types": (without_content_types, "xlsx", "read", None, What("spreadsheet", ".xlsx")),
    # a workbook whose parts are in excel/, as its root relationship says: read (Excel and LibreOffice open it)
    "workbook-outside-xl": (outside_xl, "xlsx", "read", None, What("spreadsheet", ".xlsx")),
    # Word's main part decides, whatever else the package holds
    "docx-with-a-stray-xl-member": (lambda d: {**CONTENT_TYPES, **DOCUMENT, "xl/styles.xml": b"<styleSheet/>"}, "docx",
                                    (NOT_SHEET, "Word 文件（.docx）"), DOCX, What("other", "", "Word 文件（.docx）")),
}


@pytest.mark.parametrize("case", CASES)
def test_the_three_readers_agree_on_a_package(tmp_path, case):
    build, kind, sheet, document, mailed = CASES[case]
    path = hostile.write_members(tmp_path / "附件", build(tmp_path))
    data = path.read_bytes()
    with open(path, "rb") as f:
        assert read_package_kind(zipguard.Package(f, str(path), len(data), zipguard.Limits())) == kind

    if sheet == "read":
        book = open_workbook(path)
        assert (book.format, book.sheets[0].name, book.sheets[0].cells[1, 1]) == ("xlsx", "自行檢核表", "欄位1")
    else:
        with pytest.raises(FileProblem) as caught:
            open_workbook(path)
        assert (caught.value.code, caught.value.params.get("detected") or caught.value.params["detail"]) == sheet

    found = examine(path, "養工處參獎申請書.pdf")
    if document is None:                  # a workbook: the spreadsheet reader's finding stands
        assert found is None
    elif isinstance(document, str):
        assert (found.kind, found.problem) == (document, None)
    else:
        assert (found.kind, found.problem.code, found.problem.params) == \
               (None, document[0], {"claimed": "PDF 文件（.pdf）", "detected": document[1]})

    assert classify("附件", OCTET, data) == mailed


def test_a_macro_enabled_word_document_is_seen_with_its_macros(tmp_path):
    path = hostile.write_members(tmp_path / "工作計畫.docm", CASES["docm"][0](tmp_path))
    found = examine(path, path.name)
    assert (found.kind, found.has_macros, found.problem) == (DOCX, True, None)
    assert classify(path.name, OCTET, path.read_bytes()) == What("document", ".docm")


def test_a_word_97_document_has_one_name(tmp_path):
    """Word 97-2003 is named as Word's own 另存新檔 names it, by every reader (the spreadsheet reader used to
    say 「Word 文件（.doc）」, the document reader 「舊版 Word 文件（.doc）」)."""
    name = "Word 97-2003 文件（.doc）"
    with pytest.raises(FileProblem) as caught:
        open_workbook(hostile.ole_without_workbook(tmp_path))
    assert caught.value.params == {"detected": name}
    encrypted = examine(hostile.word97(tmp_path, "申請書.doc", encrypted=True), "申請書.doc")
    assert (encrypted.kind, encrypted.problem.code, encrypted.problem.params) == (DOC, "document-encrypted",
                                                                                {"kind": name})
    assert classify("會議紀錄.doc", OCTET, (tmp_path / "申請書.doc").read_bytes()) == What("other", ".doc", name)
    assert MESSAGES["document-doc"][1].startswith(f"這是 {name}，無法讀取其中的工作計畫表格。")


@pytest.mark.parametrize("head, detected", [
    pytest.param(b"Rar!\x1a\x07\x00" + bytes(64), "RAR 壓縮檔（.rar）", id="rar"),
    pytest.param(b"\x1f\x8b\x08\x00" + bytes(64), "gzip 壓縮檔（.gz）", id="gzip"),
    pytest.param(b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(64), "7-Zip 壓縮檔（.7z）", id="7z"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(64), "圖片檔", id="png"),
    pytest.param("{\\rtf1\\ansi 自行檢核表}".encode("cp950"), "RTF 文件", id="rtf"),
    pytest.param('<?xml version="1.0"?><root>自行檢核表</root>'.encode(), "XML 文件", id="xml"),
])
def test_a_file_that_is_not_a_package_is_named_from_the_same_table(tmp_path, head, detected):
    path = tmp_path / "自行檢核表.xlsx"
    path.write_bytes(head)
    with pytest.raises(FileProblem) as caught:
        open_workbook(path)
    assert (caught.value.code, caught.value.params) == (NOT_SHEET, {"detected": detected})
    assert classify("照片", OCTET, head).noun.startswith(detected)


def test_content_nobody_recognises_is_not_called_damaged():
    """A video, a drawing or a program mailed beside the forms is listed by its name alone: 「無法辨識的資料」
    is for a file named like a workbook (where it says the file is not one), not for every other attachment."""
    video = b"\x00\x00\x00\x18ftypmp42" + bytes(64)
    assert classify("影片.mp4", OCTET, video) == What("other", ".mp4")
    assert classify("空白.txt", OCTET, b"") == What("other", ".txt")


def test_the_mimetype_member_is_read_bounded_and_through_the_guard():
    """An ODF ``mimetype`` member declaring more than 200 bytes is not read; one that inflates to more than it
    declares is refused by the ZIP guard."""
    ods = b"application/vnd.oasis.opendocument.spreadsheet"
    long = mf.zip_bytes({"mimetype": ods + b" " * 200, "content.xml": b"<x/>"})
    assert read_package_kind(zipguard.Package(io.BytesIO(long), "", len(long), zipguard.Limits())) == "zip"
    lying = bytearray(mf.zip_bytes({"mimetype": ods}))
    entry = lying.rindex(b"PK\x01\x02")
    lying[entry + 24:entry + 28] = (10).to_bytes(4, "little")      # the central directory declares 10 bytes
    pkg = zipguard.Package(io.BytesIO(bytes(lying)), "", len(lying), zipguard.Limits())
    with pytest.raises(FileProblem) as caught:
        read_package_kind(pkg)
    assert caught.value.code == "archive-too-large"
