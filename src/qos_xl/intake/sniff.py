"""What a file is, by its content (never by its name), and the one zh-TW name of each kind of file."""

from __future__ import annotations

from qos_xl.intake.xmlparts import find_workbook_part
from qos_xl.intake.zipguard import Package, read_all

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SNIFF_BYTES = 64 * 1024
_HTML_STARTS = (b"<html", b"<!doctype html", b"<table", b"<head", b"<body", b"<meta", b"mime-version:")
SPREADSHEET_2003 = b"urn:schemas-microsoft-com:office:spreadsheet"


def utf16_head(head: bytes) -> bytes | None:
    """A UTF-16 head (BOM or '<\\0' pattern) re-encoded as UTF-8, else None."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        enc = "utf-16"
    elif head[:2] == b"<\x00":
        enc = "utf-16-le"
    elif head[:2] == b"\x00<":
        enc = "utf-16-be"
    else:
        return None
    return head[: len(head) & ~1].decode(enc, errors="replace").encode("utf-8")


def _decode_text(head: bytes, truncated: bool) -> str | None:
    """The head as text (UTF-8 or Big5/cp950), or None when it looks binary."""
    if b"\x00" in head:
        return None
    for enc in ("utf-8-sig", "cp950"):
        try:
            text = head.decode(enc)
        except UnicodeDecodeError as e:
            if truncated and e.start >= len(head) - 3:
                try:
                    text = head[: e.start].decode(enc)
                except UnicodeDecodeError:
                    continue
            else:
                continue
        controls = sum(1 for ch in text if ch < " " and ch not in "\t\r\n\f\v" or ch == "\x7f")
        if controls > max(2, len(text) // 100):
            return None
        return text
    return None


def sniff_head(head: bytes, size: int) -> str:
    if size == 0:
        return "empty"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    wide = utf16_head(head)
    text_head = wide if wide is not None else head
    stripped = text_head.lstrip(b"\xef\xbb\xbf").lstrip(b" \t\r\n\f\v")
    lowered = stripped[:4096].lower()
    if lowered.startswith(_HTML_STARTS):
        return "html"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if lowered.startswith((b"<?xml", b"<!--")) and SPREADSHEET_2003 not in lowered:
        if b"<html" in lowered or b"<!doctype html" in lowered:
            return "html"
    text = _decode_text(text_head, truncated=len(head) >= SNIFF_BYTES)
    if text is None:
        return "unknown"
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if lines:
        delimited = sum(1 for line in lines if "," in line or "\t" in line)
        if delimited * 2 >= len(lines) and not text.lstrip().startswith("<"):
            return "csv"
    return "text"


def sniff(path) -> str:
    """What the file is by its CONTENT: "zip", "ole", "html", "csv", "pdf", "empty", "text", "unknown"."""
    with open(path, "rb") as f:
        head = f.read(SNIFF_BYTES)
    return sniff_head(head, len(head))


# What a container holds.  Small functions shared by the spreadsheet reader, the document
# reader and mail intake: each decides from content only (names of members or streams,
# the ODF ``mimetype`` member, magic bytes), never from a file name.

# the zh-TW name of every kind of file, as users read it in problems, replies and summaries
KIND_NOUNS = {
    "xlsx": "Excel 活頁簿（.xlsx）", "xlsm": "含巨集的 Excel 活頁簿（.xlsm）", "xlsb": "Excel 二進位活頁簿（.xlsb）",
    "xls": "Excel 97-2003 活頁簿（.xls）", "ods": "OpenDocument 試算表（.ods）",
    "docx": "Word 文件（.docx）", "docm": "含巨集的 Word 文件（.docm）", "doc": "Word 97-2003 文件（.doc）",
    "odt": "OpenDocument 文字文件（.odt）", "pdf": "PDF 文件（.pdf）",
    "pptx": "PowerPoint 簡報（.pptx）", "ppt": "PowerPoint 97-2003 簡報（.ppt）", "odp": "OpenDocument 簡報（.odp）",
    "odf": "OpenDocument 文件", "msg": "Outlook 郵件（.msg）", "encrypted": "加密的 Office 文件", "ole": "舊版 Office 檔案",
    "zip": "ZIP 壓縮檔", "gzip": "gzip 壓縮檔（.gz）", "bzip2": "bzip2 壓縮檔（.bz2）", "7z": "7-Zip 壓縮檔（.7z）",
    "rar": "RAR 壓縮檔（.rar）", "xz": "xz 壓縮檔（.xz）", "zstd": "Zstandard 壓縮檔（.zst）", "tar": "tar 封存檔（.tar）",
    "image": "圖片檔", "html": "HTML 網頁", "csv": "CSV 文字檔", "text": "純文字檔", "rtf": "RTF 文件", "xml": "XML 文件",
    "unknown": "無法辨識的資料",
}
SPREADSHEET_KINDS = frozenset({"xlsx", "xlsm", "xlsb", "xls", "ods"})
DOCUMENT_KINDS = frozenset({"pdf", "docx", "docm", "doc", "odt"})
_ARCHIVE_MAGICS = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"Rar!\x1a\x07", "rar"),
                   (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"))
_IMAGE_MAGICS = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")
_ODF_KINDS = {b"application/vnd.oasis.opendocument.spreadsheet": "ods",
              b"application/vnd.oasis.opendocument.text": "odt",
              b"application/vnd.oasis.opendocument.presentation": "odp"}
_ODF_PREFIX = b"application/vnd.oasis.opendocument"
# each Office Open XML kind's folder and main part
_MAIN_PARTS = (("xl/", "xl/workbook.xml"), ("xl/", "xl/workbook.bin"), ("word/", "word/document.xml"),
               ("ppt/", "ppt/presentation.xml"))
_OOXML_FOLDERS = ("xl/", "word/", "ppt/")
MIMETYPE_MAX = 200            # bytes: the ODF ``mimetype`` member is one short line, a longer one is not read


def detected_noun(kind: str, head: bytes) -> str:
    """zh-TW noun phrase for file-not-spreadsheet's {detected}: ``kind`` is what ``sniff_head`` said."""
    if kind in ("html", "pdf", "csv"):
        return KIND_NOUNS[kind]
    if kind == "text":
        start = (utf16_head(head) or head).lstrip(b"\xef\xbb\xbf \t\r\n")
        if start.startswith(b"{\\rtf"):
            return KIND_NOUNS["rtf"]
        if start.startswith(b"<"):
            return KIND_NOUNS["xml"]
        return KIND_NOUNS["text"]
    if is_image(head):
        return KIND_NOUNS["image"]
    return KIND_NOUNS[archive_kind(head) or "unknown"]


def archive_kind(head: bytes) -> str | None:
    """The compressed archive a file's first bytes announce (other than ZIP): "gzip", "bzip2", "7z", "rar",
    "xz", "zstd", "tar", or None."""
    for magic, kind in _ARCHIVE_MAGICS:
        if head.startswith(magic):
            return kind
    if head[257:262] == b"ustar":
        return "tar"
    return None


def is_image(head: bytes) -> bool:
    return head.startswith(_IMAGE_MAGICS)


def package_kind(names, mimetype: bytes = b"") -> str:
    """What a ZIP package is, from its member names and its ODF ``mimetype`` member: "xlsx", "xlsm", "xlsb",
    "ods", "docx", "docm", "odt", "pptx", "odp", "odf" (another OpenDocument) or "zip" (a plain archive).

    The ``mimetype`` member decides first.  An Office Open XML package is known by its main part
    (``xl/workbook.xml`` or ``.bin``, ``word/document.xml``, ``ppt/presentation.xml``), or by its
    ``[Content_Types].xml`` beside a member in that folder (a package whose main part is missing or
    named otherwise): that kind of file, damaged or not.  A folder named ``xl``, ``word`` or ``ppt``
    zipped with neither is a plain archive."""
    mimetype = mimetype.strip()
    for prefix, kind in _ODF_KINDS.items():
        if mimetype.startswith(prefix) and mimetype[len(prefix):len(prefix) + 1] in (b"", b"-"):
            return kind
    if mimetype.startswith(_ODF_PREFIX):
        return "odf"
    lowered = {name.replace("\\", "/").lower() for name in names}
    # a main part decides before a folder does: a Word document with a stray xl/ member is still Word
    folder = next((f for f, part in _MAIN_PARTS if part in lowered), None)
    if folder is None and "[content_types].xml" in lowered:
        folder = next((f for f in _OOXML_FOLDERS if any(n.startswith(f) for n in lowered)), None)
    if folder == "xl/":
        return _workbook_kind("xl/workbook.bin" in lowered, "xl/vbaproject.bin" in lowered)
    if folder == "word/":
        return "docm" if "word/vbaproject.bin" in lowered else "docx"
    return "pptx" if folder == "ppt/" else "zip"


def _workbook_kind(binary: bool, macros: bool) -> str:
    return "xlsb" if binary else "xlsm" if macros else "xlsx"


def read_package_kind(pkg: Package) -> str:
    """``package_kind`` of a package the ZIP guard has opened: its ``mimetype`` member is inflated (through
    the guard) only when it declares at most MIMETYPE_MAX bytes.  Raises the guard's ``FileProblem`` when
    that member is damaged."""
    info = pkg.info("mimetype")
    mimetype = read_all(pkg, info) if info is not None and info.file_size <= MIMETYPE_MAX else b""
    kind = package_kind(pkg.names(), mimetype)
    if kind == "zip" and pkg.info("_rels/.rels") is not None:
        # a workbook keeps its parts outside xl/ when its root relationship says so (Excel reads it)
        part = find_workbook_part(pkg)
        if part is not None:
            return _workbook_kind(part.lower().endswith(".bin"), any(n.lower().endswith("vbaproject.bin") for n in pkg.names()))
    return kind


def ole_kind(source) -> str | None:
    """What an OLE compound file is, from its stream names: "msg" (Outlook), "xls", "doc", "ppt",
    "encrypted" (a password-protected OOXML file) or "ole"; None when it cannot be parsed.

    ``source`` is the file's bytes or a path."""
    import io

    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    except Exception:           # olefile raises many kinds for damaged input
        return None
    try:
        entries = {"/".join(e).lower() for e in ole.listdir(streams=True, storages=True)}
    except Exception:
        return None
    finally:
        ole.close()
    if any(e.startswith(("__substg1.0_", "__properties_version1.0", "__nameid_version1.0")) for e in entries):
        return "msg"
    if "encryptedpackage" in entries:
        return "encrypted"
    if entries & {"workbook", "book"}:
        return "xls"
    if "worddocument" in entries:
        return "doc"
    if "powerpoint document" in entries:
        return "ppt"
    return "ole"
