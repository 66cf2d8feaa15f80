"""What each attachment is, and which ones are kept: spreadsheets, submitted documents, ZIP archives
opened through the one ZIP guard, and a one-line summary of everything else.

Content decides what a part is (``classify``); its name and declared type only break ties
the content leaves open (an unreadable file named ``.xlsx`` is still saved, so that
validation tells the unit what is wrong with it).  Kept:

* **spreadsheets**: what sniffs as a workbook (``.xlsx``, ``.xlsm``, ``.xlsb``, ``.xls``,
  ``.ods``), also inside ZIP archives (one nested archive at most);
* **submitted documents**: award applications (PDF, DOCX, DOC, ODT whose file name, or the
  e-mail's subject, says 參獎, 申請書 or 服務品質獎) and work plans written in Word (``.docx``,
  ``.odt`` whose name or subject says 工作計畫).

Every other attachment is one line of 「其他附件」 (a ZIP of 41 files is one line): listed, not
saved, not a reason for the run to fail.  Archives other than ZIP are named, with what the unit
can do.  ZIP archives are checked by ``intake.zipguard`` (member count, sizes, ratio,
encryption, overlaps) before anything is inflated; what one message inflates is bounded too.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PureWindowsPath

from qos_xl.core.names import split_suffix
from qos_xl.core.problems import FileProblem
from qos_xl.core.text import key
from qos_xl.core.vocabulary import AWARD_WORDS, WORKPLAN_WORDS
from qos_xl.intake import zipguard
from qos_xl.intake.mail.headers import decode_raw
from qos_xl.intake.mail.sources import message_format
from qos_xl.intake.sniff import (DOCUMENT_KINDS, KIND_NOUNS, OLE_MAGIC, SNIFF_BYTES, SPREADSHEET_KINDS, archive_kind,
                                 detected_noun, is_image, ole_kind, read_package_kind, sniff_head)

SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".xlsb")
SHEET_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel.sheet.binary.macroenabled.12": ".xlsb",
    "application/vnd.ms-excel": ".xls",
    "application/msexcel": ".xls",
    "application/x-msexcel": ".xls",
    "application/x-excel": ".xls",
    "application/excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
}
MESSAGE_TYPES = {"message/rfc822", "application/vnd.ms-outlook", "application/x-msg"}
# names that say a file is not a spreadsheet, whatever Content-Type a mailer gave it (Excel sends
# .csv as application/vnd.ms-excel)
OTHER_SUFFIXES = {".csv", ".txt", ".pdf", ".doc", ".docx", ".odt", ".ppt", ".pptx", ".odp", ".rtf", ".htm", ".html",
                  ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".p7s", ".vcf", ".ics"}
DOCUMENT_SUFFIXES = {"pdf": (".pdf",), "docx": (".docx",), "docm": (".docm", ".docx"), "doc": (".doc",),
                     "odt": (".odt",)}
WORD_PLAN_KINDS = {"docx", "docm", "odt"}
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
MAX_MESSAGE_DEPTH = 5         # forwards inside forwards
MAX_ZIP_DEPTH = 2             # a zip attachment, and one zip inside it
LISTED_MEMBERS = 3            # members named in a ZIP's summary line
_LITTER = ("._", "~$", ".~lock.")

SPREADSHEET, DOCUMENT = "spreadsheet", "document"
ARCHIVE, MESSAGE, OUTLOOK, OTHER = "zip", "eml", "msg", "other"


@dataclass(frozen=True)
class What:
    """What a part is: ``kind`` (spreadsheet, document, zip, eml, msg, other), the suffix to save it
    under, and for other parts the zh-TW noun for it."""

    kind: str
    suffix: str = ""
    noun: str = ""


@dataclass
class Found:
    """A file to save: a spreadsheet or a submitted document."""

    name: str       # as shown to the user (a zip member as "資料.zip／養工處.xlsx")
    original: str   # the file's own name
    data: bytes
    suffix: str     # the extension to save under
    kind: str       # SPREADSHEET or DOCUMENT


@dataclass
class Refused:
    """An attachment that should have been kept but cannot be, and why (zh-TW, with what to do)."""

    name: str
    reason: str
    sha256: str | None = None


def basename(name: str) -> str:
    """The last path component: mailers sometimes send C:\\Users\\...\\x.xlsx."""
    return PureWindowsPath(name.replace("/", "\\")).name if name else ""


def _suffix(name: str) -> str:
    return split_suffix(name)[1].lower()


def is_submission(name: str, subject: str, kind: str) -> bool:
    """Whether a document is a submission: an award application (PDF, DOCX, DOC, ODT) named 參獎/申請書/
    服務品質獎 (in its file name or the e-mail's subject), or a work plan in Word named 工作計畫."""
    texts = (key(name), key(subject))
    if kind in DOCUMENT_KINDS and any(word in text for text in texts for word in AWARD_WORDS):
        return True
    return kind in WORD_PLAN_KINDS and any(word in text for text in texts for word in WORKPLAN_WORDS)


def zip_kind(data: bytes, limits: zipguard.Limits) -> str | None:
    """What a ZIP package is (``sniff.read_package_kind``), read through the ZIP guard; None if it refuses it."""
    try:
        return read_package_kind(zipguard.Package(io.BytesIO(data), "", len(data), limits))
    except FileProblem:
        return None


def classify(name: str, content_type: str, data: bytes, subject: str = "",
             limits: zipguard.Limits = zipguard.Limits()) -> What:
    """What an attachment is, by its content first (see the module docstring)."""
    suffix = _suffix(name)
    ctype = (content_type or "").lower()
    head = data[:SNIFF_BYTES]
    if head.startswith(ZIP_MAGICS):
        kind = zip_kind(data, limits)
        if kind is None:   # refused by the guard or damaged: opened as an archive, which says why
            return _by_name(name, suffix, subject) or What(ARCHIVE, ".zip")
        return _known(kind, name, suffix, subject)
    if head.startswith(OLE_MAGIC):
        kind = ole_kind(data)
        if kind == "msg" or (kind is None and (suffix == ".msg" or ctype in MESSAGE_TYPES)):
            return What(OUTLOOK, ".msg")
        if kind in (None, "encrypted"):   # damaged or password-protected: the name says what it was meant to be
            return _by_name(name, suffix, subject) or What(OTHER, suffix, KIND_NOUNS.get(kind or "ole", ""))
        return _known(kind, name, suffix, subject)
    sniffed = sniff_head(head, len(data))
    if sniffed == "pdf":
        return _known("pdf", name, suffix, subject)
    archive = archive_kind(head)
    if archive:
        return What(OTHER, suffix, f"{KIND_NOUNS[archive]}，本室無法開啟；如內含自行檢核表或工作計畫，請直接附上檔案，"
                                   "或改用 .zip 壓縮後重新寄送")
    if is_image(head):
        return What(OTHER, suffix, KIND_NOUNS["image"])
    if message_format(head) == "mime" and (suffix in ("", ".eml", ".msg") or ctype in MESSAGE_TYPES):
        return What(MESSAGE, ".eml")
    if suffix in SHEET_SUFFIXES:
        return What(SPREADSHEET, suffix)   # HTML or text named .xls: validation says what it really is
    if suffix not in OTHER_SUFFIXES and ctype in SHEET_TYPES:
        return What(SPREADSHEET, SHEET_TYPES[ctype])
    if sniffed in ("unknown", "empty"):
        return What(OTHER, suffix)         # a video, a drawing, a program: nothing to say of it but its name
    return What(OTHER, suffix, detected_noun(sniffed, head))


def _known(kind: str, name: str, suffix: str, subject: str) -> What:
    """A part whose content said what it is."""
    if kind in SPREADSHEET_KINDS:
        return What(SPREADSHEET, suffix if suffix in SHEET_SUFFIXES else "." + kind)
    if kind == "zip":
        return What(ARCHIVE, ".zip")
    if kind in DOCUMENT_SUFFIXES and is_submission(name, subject, kind):
        allowed = DOCUMENT_SUFFIXES[kind]
        return What(DOCUMENT, suffix if suffix in allowed else allowed[0])
    return What(OTHER, suffix, KIND_NOUNS.get(kind, ""))


def _by_name(name: str, suffix: str, subject: str) -> What | None:
    """A part whose content could not be read: kept when its name says it is a spreadsheet or a submitted
    document, so that validation tells the unit what is wrong with it."""
    if suffix in SHEET_SUFFIXES:
        return What(SPREADSHEET, suffix)
    kind = next((k for k, suffixes in DOCUMENT_SUFFIXES.items() if suffix == suffixes[0]), None)
    if kind and is_submission(name, subject, kind):
        return What(DOCUMENT, suffix)
    return None


def _member_name(info) -> str:
    """A ZIP member's name as Windows in Taiwan writes it: cp950 without the UTF-8 flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = decode_raw(name.encode("cp437"))
        except UnicodeEncodeError:
            pass
    return name


def _unsafe_member(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or bool(re.match(r"^[A-Za-z]:", name))


ZIP_REASONS = {
    "archive-too-large": "壓縮檔超過安全上限（{detail}），疑似惡意或損毀的檔案，已拒收。請直接附上試算表檔案後重新寄送。",
    "file-encrypted": "壓縮檔設有密碼，無法解開。請以不加密的方式壓縮，或直接附上試算表檔案後重新寄送。",
}
ZIP_DAMAGED = "壓縮檔已損毀或格式異常，無法開啟（{detail}）。請重新壓縮，或直接附上試算表檔案後重新寄送。"
TOO_DEEP = f"轉寄郵件層層包覆超過 {MAX_MESSAGE_DEPTH} 層，未再展開。請直接附上試算表檔案後重新寄送。"


def zip_reason(problem: FileProblem) -> str:
    """The ZIP guard's finding as a reason to a unit that mailed the archive."""
    detail = problem.params.get("detail", "")
    template = ZIP_REASONS.get(problem.code, ZIP_DAMAGED)
    return template.format(detail=detail or "結構不符 ZIP 格式").replace("（）", "")


@dataclass
class Collector:
    """Sorts the parts of one message into files to save, refusals and one-line summaries of the rest.

    ``nested(kind, name, data, depth)`` reads an attached message ("eml" or "msg") into this
    same collector."""

    subject: str
    limits: zipguard.Limits
    nested: Callable[[str, str, bytes, int], None]
    found: list[Found] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _listed: set[str] = field(default_factory=set)
    unnamed: int = 0
    inflated: int = 0   # bytes inflated from every zip of this message: one budget, limits.max_total_bytes

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def other(self, text: str) -> None:
        if text not in self._listed:
            self._listed.add(text)
            self.others.append(text)

    def refuse(self, name: str, reason: str, data: bytes | None = None) -> None:
        digest = hashlib.sha256(data).hexdigest() if data is not None else None
        self.refused.append(Refused(name, reason, digest))

    def _name(self, name: str) -> str:
        name = basename(name)
        if not name:
            self.unnamed += 1
            name = f"附件{self.unnamed}"
        return name

    def take(self, name: str, content_type: str, data: bytes, depth: int, zip_depth: int = 0,
             shown: str | None = None) -> bool:
        """Sort one attachment.  False when it is only one line of 「其他附件」 (which an enclosing
        archive folds into its own summary), True when it is accounted for on its own."""
        name = self._name(name)
        shown = shown or name
        if not data:
            if _suffix(name) in SHEET_SUFFIXES:   # an empty workbook: saved, so validation tells the unit
                self.found.append(Found(shown, name, data, _suffix(name), SPREADSHEET))
                return True
            self.other(f"{shown}：空白檔案（0 位元組）")
            return False
        what = classify(name, content_type, data, self.subject, self.limits)
        if what.kind in (SPREADSHEET, DOCUMENT):
            self.found.append(Found(shown, name, data, what.suffix, what.kind))
        elif what.kind == ARCHIVE:
            return self.zip(shown, data, depth, zip_depth + 1)
        elif what.kind in (MESSAGE, OUTLOOK):
            if depth >= MAX_MESSAGE_DEPTH:
                self.refuse(shown, TOO_DEEP)
            else:
                self.nested(what.kind, shown, data, depth + 1)
        else:
            self.other(f"{shown}：{what.noun}" if what.noun else shown)
            return False
        return True

    def zip(self, name: str, data: bytes, depth: int, zip_depth: int) -> bool:
        """Open a ZIP attachment through the guard and sort its members; one summary line for the rest."""
        if zip_depth > MAX_ZIP_DEPTH:
            self.refuse(name, "壓縮檔內又包了多層壓縮檔，未再解開。請將試算表直接附在郵件中，或只壓縮一層後重新寄送。", data)
            return True
        try:
            pkg = zipguard.Package(io.BytesIO(data), name, len(data), self.limits)
        except FileProblem as problem:
            self.refuse(name, zip_reason(problem), data)
            return True
        kept, rest = False, []
        for info in sorted(pkg.members.values(), key=lambda i: i.header_offset):
            if info.is_dir():
                continue
            member = _member_name(info)
            shown = f"{name}／{member}"
            base = basename(member)
            if not base or base.startswith(_LITTER) or "__MACOSX" in member.replace("\\", "/").split("/"):
                continue  # OS and Office litter
            if _unsafe_member(member):
                self.refuse(shown, f"壓縮檔內的檔名「{member}」含有上層資料夾或絕對路徑，疑似惡意檔案，已拒收。"
                                   "請直接附上試算表檔案後重新寄送。")
                kept = True
                continue
            if self.inflated + info.file_size > self.limits.max_total_bytes:
                self.refuse(shown, "郵件內壓縮檔解壓縮後的總量超過上限，未再解開。請直接附上試算表檔案後重新寄送。")
                kept = True
                continue
            try:
                content = zipguard.read_all(pkg, info)
            except FileProblem as problem:
                self.refuse(shown, zip_reason(problem))
                kept = True
                continue
            self.inflated += len(content)
            before = len(self.others)
            if self.take(base, "application/octet-stream", content, depth, zip_depth, shown=shown):
                kept = True
            else:
                rest.append((base, self.others[before:]))   # summarised below, with the archive
                self._listed.difference_update(self.others[before:])
                del self.others[before:]
        self._summarise(name, kept, rest)
        return True

    def _summarise(self, name: str, kept: bool, rest: list[tuple[str, list[str]]]) -> None:
        if not kept:
            count = f"內含 {len(rest)} 個檔案" if rest else "沒有任何檔案"
            self.other(f"{name}：{KIND_NOUNS['zip']}，{count}，沒有試算表或申請文件")
        elif len(rest) == 1:
            for line in rest[0][1]:
                self.other(line)
        elif rest:
            listed = "、".join(base for base, _ in rest[:LISTED_MEMBERS])
            self.other(f"{name} 內另有 {len(rest)} 個其他檔案：{listed}" + (" 等" if len(rest) > LISTED_MEMBERS else ""))
