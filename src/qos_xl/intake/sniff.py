"""What a file is, by its content (never by its name): the first bytes decide."""

from __future__ import annotations

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


def detected_noun(kind: str, head: bytes) -> str:
    """zh-TW noun phrase for file-not-spreadsheet's {detected}."""
    if kind == "html":
        return "HTML 網頁"
    if kind == "pdf":
        return "PDF 文件"
    if kind == "csv":
        return "CSV 文字檔"
    if kind == "text":
        start = (utf16_head(head) or head).lstrip(b"\xef\xbb\xbf \t\r\n")
        if start.startswith(b"{\\rtf"):
            return "RTF 文件"
        if start.startswith(b"<"):
            return "XML 文件"
        return "純文字檔"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "圖片檔"
    if head.startswith((b"Rar!", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b")):
        return "壓縮檔"
    return "無法辨識的資料"


