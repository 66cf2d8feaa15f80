"""Where messages come from: files and folders given to ``ingest``, each message's bytes, and what
format it is by its content.

A file's content decides its format, whatever its name: an OLE compound file is an Outlook
``.msg``; text whose first line is ``From `` is an mbox; text that starts with mail headers
(after an optional UTF-8 byte-order mark) is one RFC 822 message.  Folders are searched
recursively for ``.eml``, ``.msg`` and ``.mbox`` files and for Maildirs (a folder with
``cur`` and ``new``).  Every message is bounded before it is parsed: in size, and in the
number of MIME delimiter lines (the parser's work grows with them).  A message is handed on as
a way to open it, so that it is parsed from its file in chunks rather than from one copy in
memory.
"""

from __future__ import annotations

import codecs
import functools
import hashlib
import mailbox
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from qos_xl.core.text import strip_controls
from qos_xl.intake.sniff import KIND_NOUNS, OLE_MAGIC, SNIFF_BYTES, archive_kind, ole_kind, sniff_head
from qos_xl.intake.zipguard import human_size

MAX_MESSAGE_BYTES = 40 * 2**20        # one message: a 25 MB attachment as Gmail sends it (base64) fits
MAX_MIME_PARTS = 2000                 # MIME delimiter lines in one message (the parser costs ~0.5 ms each)
CHUNK = 1 << 20
MAX_FOLDER_DEPTH = 32
MAIL_SUFFIXES = (".eml", ".msg", ".mbox", ".mbx")
MAILDIR_PARTS = ("cur", "new", "tmp")

# header names that mark text as a mail message (any one of them in the first header block)
_MAIL_HEADERS = frozenset({
    "from", "to", "cc", "subject", "date", "message-id", "received", "return-path", "delivered-to", "reply-to",
    "sender", "mime-version", "content-type", "content-transfer-encoding", "content-disposition", "in-reply-to",
    "references", "x-mailer", "thread-topic", "x-sender"})
_FIELD = re.compile(rb"([!-9;-~]+)[ \t]*:")


@dataclass(frozen=True)
class Raw:
    """One message as found: where, its format ("mime" or "msg") and how to open it, or why it cannot be read."""

    source: str
    format: str = "mime"
    open: Callable[[], BinaryIO] | None = None    # a fresh binary file positioned at the message's first byte
    fingerprint: str = ""                          # SHA-256 of the message's bytes
    reason: str | None = None


def message_format(head: bytes) -> str | None:
    """"msg", "mbox" or "mime" by content (``head``: the first bytes), or None when it is not mail."""
    if head.startswith(OLE_MAGIC):
        return "msg"
    text = head[len(codecs.BOM_UTF8):] if head.startswith(codecs.BOM_UTF8) else head
    if text.startswith(b"From "):
        return "mbox"
    names = []
    for line in text.lstrip(b" \t\r\n").splitlines()[:200]:
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):
            continue
        match = _FIELD.match(line)
        if match is None:
            return None
        names.append(match.group(1).decode("ascii").lower())
    return "mime" if _MAIL_HEADERS.intersection(names) else None


def _not_mail(head: bytes, size: int, path: Path) -> str:
    """Why a file is not a message, with what it looks like."""
    kind = sniff_head(head, size)
    if kind == "zip":
        return "無法辨識為電子郵件：這是 ZIP 格式的檔案（例如 .xlsx 或 .docx）。試算表請直接存入收件匣；郵件請另存為 .eml 或 .msg。"
    noun = KIND_NOUNS.get(archive_kind(head) or (ole_kind(path) if kind == "ole" else kind) or "")
    found = f"（內容看起來是{noun}）" if noun else ""
    return f"無法辨識為電子郵件{found}：找不到寄件者、主旨、日期等郵件標頭。請在郵件軟體將郵件另存為 .eml 或 .msg 後再匯入。"


def _too_large() -> str:
    return f"郵件超過 {human_size(MAX_MESSAGE_BYTES)} 上限，未讀取。請把附件另存後直接放入收件匣。"


TOO_MANY_PARTS = (f"郵件結構異常（超過 {MAX_MIME_PARTS:,} 個 MIME 分段），疑似惡意郵件，未讀取。"
                  "若是正常郵件，請把附件另存後直接放入收件匣。")


def too_many_parts(data: bytes) -> bool:
    """Whether a message in memory has more MIME delimiter lines than one message may."""
    return data.count(b"\n--") > MAX_MIME_PARTS


def _checked(label: str, kind: str, opener: Callable[[], BinaryIO]) -> Raw:
    """A message read once in chunks before it is parsed: its size, its SHA-256, its delimiter lines."""
    digest, size, delimiters, tail = hashlib.sha256(), 0, 0, b"\n"
    with opener() as handle:
        while chunk := handle.read(CHUNK):
            size += len(chunk)
            if size > MAX_MESSAGE_BYTES:
                return Raw(label, reason=_too_large())
            digest.update(chunk)
            delimiters += (tail + chunk).count(b"\n--")
            tail = chunk[-2:]
    if not size:
        return Raw(label, reason="郵件是空的。")
    if kind == "mime" and delimiters > MAX_MIME_PARTS:
        return Raw(label, reason=TOO_MANY_PARTS)
    return Raw(label, kind, opener, digest.hexdigest())


def _open_file(path: Path, skip: int) -> BinaryIO:
    handle = open(path, "rb")
    handle.seek(skip)
    return handle


def read_file(path: Path, label: str | None = None) -> Iterator[Raw]:
    """Every message in one file, by its content."""
    label = label or str(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        yield Raw(label, reason=f"無法讀取檔案（{exc.strerror or exc}）。")
        return
    if not head.strip():
        empty = "信箱中沒有任何郵件。" if path.suffix.lower() in (".mbox", ".mbx") else "郵件檔是空的。"
        yield Raw(label, reason=empty)
        return
    kind = message_format(head)
    if kind == "mbox":
        yield from _read_mbox(path, label, head.startswith(codecs.BOM_UTF8))
        return
    if kind == "msg" and ole_kind(path) not in ("msg", None):   # a workbook or a document, not a message
        kind = None
    if kind is None:
        yield Raw(label, reason=_not_mail(head, size, path))
        return
    skip = len(codecs.BOM_UTF8) if head.startswith(codecs.BOM_UTF8) else 0
    try:
        yield _checked(label, kind, functools.partial(_open_file, path, skip))
    except OSError as exc:
        yield Raw(label, reason=f"無法讀取檔案（{exc.strerror or exc}）。")


def _read_mbox(path: Path, label: str, bom: bool) -> Iterator[Raw]:
    if not bom:
        yield from _read_mailbox(label, lambda: mailbox.mbox(str(path), factory=None, create=False), numbered=True)
        return
    with tempfile.TemporaryDirectory(prefix="qos-mbox-") as folder:   # mailbox reads a file: one without the BOM
        copy = Path(folder) / "box.mbox"
        with open(path, "rb") as source, open(copy, "wb") as target:
            source.read(len(codecs.BOM_UTF8))
            shutil.copyfileobj(source, target)
        yield from _read_mailbox(label, lambda: mailbox.mbox(str(copy), factory=None, create=False), numbered=True)


def _read_mailbox(label: str, open_box, *, numbered: bool) -> Iterator[Raw]:
    """Every message of an mbox (labelled ``path#1``…) or a Maildir (``path#key``)."""
    try:
        box = open_box()
        keys = list(box.iterkeys()) if numbered else sorted(box.iterkeys())
    except Exception as exc:
        yield Raw(label, reason=f"無法開啟信箱（{detail(exc)}）。")
        return
    try:
        if not keys:
            yield Raw(label, reason="信箱中沒有任何郵件。")
        for number, key in enumerate(keys, start=1):
            where = f"{label}#{number if numbered else key}"
            opener = functools.partial(box.get_file, key)
            try:
                with opener() as handle:
                    head = handle.read(SNIFF_BYTES)
                kind = "msg" if message_format(head) == "msg" else "mime"   # a mailbox holds RFC 822 messages
                yield _checked(where, kind, opener)
            except Exception as exc:
                yield Raw(where, reason=f"無法讀取這封郵件（{detail(exc)}）。")
    finally:
        try:
            box.close()
        except Exception:
            pass


def is_maildir(folder: Path) -> bool:
    return (folder / "cur").is_dir() and (folder / "new").is_dir()


def _mail_in(folder: Path) -> Iterator[Path]:
    """Maildirs and mail files under ``folder``, in name order, without following links out of it."""
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        if len(here.relative_to(folder).parts) >= MAX_FOLDER_DEPTH:
            dirs[:] = []
        if here != folder and is_maildir(here):
            yield here
        dirs[:] = sorted(d for d in dirs if not (is_maildir(here) and d in MAILDIR_PARTS))
        for name in sorted(files):
            if name.lower().endswith(MAIL_SUFFIXES) and not name.startswith("."):
                yield here / name


def read_source(source: Path) -> Iterator[Raw]:
    """Every message in one source given to ``ingest``: a file, a Maildir, or a folder searched recursively."""
    if source.is_dir():
        found = False
        if is_maildir(source):
            found = True
            yield from _read_maildir(source)
        for path in _mail_in(source):
            found = True
            yield from _read_maildir(path) if path.is_dir() else read_file(path)
        if not found:
            yield Raw(str(source), reason="這個資料夾（含子資料夾）中沒有 .eml、.msg、.mbox 郵件檔，也不是 Maildir 信箱。")
        return
    yield from read_file(source)


def _read_maildir(folder: Path) -> Iterator[Raw]:
    yield from _read_mailbox(str(folder), lambda: mailbox.Maildir(str(folder), factory=None, create=False),
                             numbered=False)


def detail(exc: BaseException) -> str:
    """An exception as a short line for a message: its type and the start of its text."""
    text = strip_controls(str(exc)).strip()
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__
