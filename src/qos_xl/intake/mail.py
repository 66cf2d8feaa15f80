"""Mail intake: the spreadsheet attachments of e-mails saved into the inbox, with provenance.

``ingest`` reads ``.eml`` files, ``.mbox`` files, Maildir folders (or a plain folder of
``.eml``/``.msg`` files) and Outlook ``.msg`` files, and saves every spreadsheet it finds
-- also inside forwarded messages (``message/rfc822`` parts, attached ``.eml``/``.msg``)
and inside ``.zip`` attachments (bounded by ``spreadsheet.Limits``, one nested zip at
most) -- into the inbox as ``<ROC date>_<sender unit>_<original name>``.

Mail as it really arrives is decoded here: RFC 2047 encoded words and RFC 2231 parameters
(with continuations) in UTF-8 or Big5 (read as cp950, Big5's Windows superset), raw 8-bit
header bytes (tried as UTF-8, then cp950), the file name only in ``Content-Type name=``,
missing or generic content types (``application/octet-stream``): what a part *is* is
decided by its name, its content type and its first bytes.

Every saved file gets a row in the append-only ledger ``<inbox>/.qos-ledger.csv``
(UTF-8 with BOM; the ``.qos-`` prefix makes the validator skip it); a file whose
SHA-256 is already in the inbox is not saved again.  Each saved file is validated, a
sender whose unit differs from the unit named in the workbook gets a
``sender-unit-mismatch`` warning, and each message gets a zh-TW receipt in the receipts
folder, ready to paste into a reply.  A message that cannot be read is listed with its
reason; nothing here raises for a bad message.
"""

from __future__ import annotations

import codecs
import datetime as dt
import email
import hashlib
import io
import logging
import mailbox
import re
import zipfile
from dataclasses import dataclass, field, replace
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path, PureWindowsPath

from qos_xl.core.names import safe_filename, split_suffix
from qos_xl.core.registry import Registry, Unit
from qos_xl.core.report import FileReport, Provenance
from qos_xl.core.text import strip_controls
from qos_xl.core.values import format_roc
from qos_xl.intake import ledger
from qos_xl.output.files import write_bytes_atomic, write_text_atomic

UNKNOWN_SENDER = "未知寄件者"

SAVED, ALREADY, REJECTED = "saved", "already-in-inbox", "rejected"

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
ZIP_TYPES = {"application/zip", "application/x-zip-compressed", "application/x-zip", "multipart/x-zip"}
MESSAGE_TYPES = {"message/rfc822"}
MSG_TYPES = {"application/vnd.ms-outlook", "application/x-msg"}
# Suffixes whose files are never spreadsheets, whatever Content-Type a mailer gave them
# (Excel sends .csv as application/vnd.ms-excel).
OTHER_SUFFIXES = {".csv", ".txt", ".pdf", ".doc", ".docx", ".odt", ".ppt", ".pptx", ".odp", ".rtf", ".htm", ".html",
                  ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".p7s", ".vcf", ".ics"}
UNSUPPORTED_ARCHIVES = {".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz"}
MAILBOX_SUFFIXES = (".mbox", ".mbx")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")

TAIPEI = dt.timezone(dt.timedelta(hours=8), "Asia/Taipei")
MAX_MESSAGE_DEPTH = 5         # forwards inside forwards
MAX_ZIP_DEPTH = 2             # a zip attachment, and one zip inside it
CHARSET_MAP = {"big5": "cp950", "x-big5": "cp950", "big-5": "cp950", "ms950": "cp950", "windows-950": "cp950",
               "x-x-big5": "cp950", "gb2312": "gbk", "ks_c_5601-1987": "cp949", "unknown-8bit": ""}

_SPACES = re.compile(r"\s+")
_SURROGATES = re.compile("[\udc80-\udcff]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# ---------------------------------------------------------------------------------------
# Result


@dataclass
class Attachment:
    """One spreadsheet found in a message, and what became of it."""

    name: str
    state: str
    saved_as: str | None = None
    sha256: str | None = None
    reason: str | None = None
    report: FileReport | None = field(default=None, repr=False)
    reimported: bool = False  # already in the inbox because this same message was ingested before

    def to_dict(self) -> dict:
        data = {"name": self.name, "saved_as": self.saved_as, "sha256": self.sha256, "state": self.state,
                "reason": self.reason}
        if self.report is not None:
            r = self.report
            data["validation"] = {"state": r.state, "unit": r.unit, "form": r.form, "period": r.period,
                                  "errors": len(r.errors), "warnings": len(r.problems) - len(r.errors),
                                  "problems": [p.to_dict() for p in r.problems]}
        return data


@dataclass
class MailMessage:
    """One message as read from a source, with its spreadsheets."""

    source: str
    sender: str = ""
    address: str = ""
    subject: str = ""
    date: str = ""
    message_id: str = ""
    unit: str = UNKNOWN_SENDER
    unit_code: str | None = None
    unit_name: str | None = None
    received: dt.datetime | None = None
    when: dt.datetime | None = None      # names saved files and the receipt: Date header, else ingest time
    display: str = ""                    # the sender's display name
    attachments: list[Attachment] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str | None = None
    receipt: str | None = None

    def to_dict(self) -> dict:
        return {"source": self.source, "sender": self.sender, "subject": self.subject, "date": self.date,
                "message_id": self.message_id, "unit": self.unit, "unit_code": self.unit_code,
                "attachments": [a.to_dict() for a in self.attachments], "other_attachments": list(self.others),
                "notes": list(self.notes), "reason": self.reason, "receipt": self.receipt}


@dataclass
class IngestResult:
    inbox: Path
    receipts_dir: Path
    messages: list[MailMessage] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(a.state == state for m in self.messages for a in m.attachments)

    @property
    def saved(self) -> int:
        return self.count(SAVED)

    @property
    def has_problems(self) -> bool:
        """A message unreadable, an attachment refused, or a saved file that fails validation."""
        return any(m.reason for m in self.messages) or any(
            a.state == REJECTED or (a.report is not None and a.report.errors)
            for m in self.messages for a in m.attachments)

    def to_dict(self) -> dict:
        return {"inbox": str(self.inbox), "ledger": str(ledger.ledger_path(self.inbox)),
                "receipts_dir": str(self.receipts_dir), "messages": [m.to_dict() for m in self.messages],
                "saved": self.saved, "already_in_inbox": self.count(ALREADY), "rejected": self.count(REJECTED),
                "unreadable": sum(1 for m in self.messages if m.reason)}


# ---------------------------------------------------------------------------------------
# Text as mailers write it


def _codec(charset: str | None) -> str | None:
    name = (charset or "").strip().strip('"').lower()
    name = CHARSET_MAP.get(name, name)
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(raw: bytes, charset: str | None = None) -> str:
    """Bytes in the declared charset (big5 read as cp950), else UTF-8, else cp950."""
    for name in (_codec(charset), "utf-8", "cp950"):
        if name:
            try:
                return raw.decode(name)
            except (UnicodeDecodeError, LookupError):
                continue
    return raw.decode(_codec(charset) or "cp950", errors="replace")


def _fix_8bit(value: str) -> str:
    """Raw 8-bit header bytes (kept by the parser as surrogates) decoded as UTF-8 or cp950."""
    if not _SURROGATES.search(value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"))


def decode_text(value: object) -> str:
    """A header value as a user reads it: 8-bit bytes and RFC 2047 encoded words decoded."""
    if value is None:
        return ""
    text = _fix_8bit(str(value))
    if "=?" in text:
        try:
            parts = decode_header(text)
        except Exception:  # broken encoded word: show it as it came
            parts = [(text, None)]
        out = []
        for chunk, charset in parts:
            if isinstance(chunk, str):
                out.append(chunk)
            elif charset is None:
                out.append(chunk.decode("raw-unicode-escape", errors="replace"))
            else:
                out.append(decode_bytes(chunk, charset))
        text = "".join(out)
    return _SPACES.sub(" ", strip_controls(text.replace("\r", " ").replace("\n", " "))).strip()


def _raw_header(msg: Message, name: str) -> str | None:
    """The first header ``name`` exactly as it came (8-bit bytes decoded), never a Header object."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return _fix_8bit(str(value))
    return None


def _param(msg: Message, header: str, name: str) -> str | None:
    """A header parameter, RFC 2231 (charset, continuations) and RFC 2047 decoded."""
    raw = _raw_header(msg, header)
    if raw is None:
        return None
    probe = Message()
    probe[header] = raw
    try:
        value = probe.get_param(name, header=header)
    except Exception:
        return None
    if value is None:
        return None
    if isinstance(value, tuple):
        charset, _lang, text = value
        try:
            raw_bytes = text.encode("raw-unicode-escape")
        except Exception:
            return decode_text(text)
        return decode_text(decode_bytes(raw_bytes, charset))
    return decode_text(email.utils.unquote(str(value)))


def _filename(part: Message) -> str:
    for header, name in (("Content-Disposition", "filename"), ("Content-Type", "name")):
        found = _param(part, header, name)
        if found:
            return found
    return ""


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"


def _parse_date(raw: str | None) -> dt.datetime | None:
    if not raw:
        return None
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or not 1912 <= when.year <= 2110:  # the ROC years qos-xl can write
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=TAIPEI)
    return when.astimezone(TAIPEI)


def _basename(name: str) -> str:
    """The last path component: mailers sometimes send C:\\Users\\...\\x.xlsx."""
    return PureWindowsPath(name.replace("/", "\\")).name if name else ""


def _suffix(name: str) -> str:
    return split_suffix(name)[1].lower()


# ---------------------------------------------------------------------------------------
# What a part is


def _zip_kind(data: bytes) -> str | None:
    """xlsx/xlsm/xlsb/ods for workbooks, "office" for other documents, "archive", None if unreadable."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = {n.lower() for n in zf.namelist()}
            if "xl/workbook.xml" in names:
                return "xlsm" if "xl/vbaproject.bin" in names else "xlsx"
            if "xl/workbook.bin" in names:
                return "xlsb"
            if "mimetype" in names:
                info = zf.getinfo(next(n for n in zf.namelist() if n.lower() == "mimetype"))
                if info.file_size <= 200:
                    mime = zf.read(info).strip()
                    if mime == b"application/vnd.oasis.opendocument.spreadsheet":
                        return "ods"
                    if mime.startswith(b"application/vnd.oasis.opendocument"):
                        return "office"
            if "[content_types].xml" in names:
                return "office"
            return "archive"
    except Exception:
        return None


def _ole_kind(data: bytes) -> str | None:
    """"msg" for an Outlook message, "sheet" for a workbook (or an encrypted one), "other", None unknown."""
    try:
        import olefile
    except ImportError:
        return None
    try:
        ole = olefile.OleFileIO(data)
    except Exception:
        return None
    try:
        entries = {"/".join(e).lower() for e in ole.listdir(streams=True, storages=True)}
    finally:
        ole.close()
    if any(e.startswith(("__substg1.0_", "__properties_version1.0")) for e in entries):
        return "msg"
    if entries & {"workbook", "book", "encryptedpackage"}:
        return "sheet"
    return "other"


def classify(name: str, content_type: str, data: bytes) -> tuple[str, str]:
    """(kind, suffix to save under): kind is sheet, archive, eml, msg, bad-archive or other."""
    suffix = _suffix(name)
    ctype = (content_type or "").lower()
    typed = suffix not in OTHER_SUFFIXES  # a content type only counts when the name does not say otherwise
    named_sheet = suffix in SHEET_SUFFIXES
    if data.startswith(ZIP_MAGICS):
        kind = _zip_kind(data)
        if kind in ("xlsx", "xlsm", "xlsb", "ods"):
            return "sheet", suffix if named_sheet else "." + kind
        if named_sheet:
            return "sheet", suffix  # a broken or strange workbook: validation says what is wrong
        if kind == "archive" or (kind is None and (suffix == ".zip" or ctype in ZIP_TYPES)):
            return "archive", ".zip"
        return "other", suffix
    if data.startswith(OLE_MAGIC):
        kind = _ole_kind(data)
        if kind == "msg" or (kind is None and (suffix == ".msg" or ctype in MSG_TYPES)):
            return "msg", ".msg"
        if named_sheet or (typed and (kind == "sheet" or (kind is None and ctype in SHEET_TYPES))):
            return "sheet", suffix if named_sheet else ".xls"
        return "other", suffix
    if named_sheet:
        return "sheet", suffix
    if typed and ctype in SHEET_TYPES:
        return "sheet", SHEET_TYPES[ctype]
    if suffix == ".zip" or (typed and ctype in ZIP_TYPES):
        return "archive", ".zip"
    if suffix == ".eml" or ctype in MESSAGE_TYPES:
        return "eml", ".eml"
    if suffix == ".msg" or ctype in MSG_TYPES:
        return "msg", ".msg"
    if suffix in UNSUPPORTED_ARCHIVES:
        return "bad-archive", suffix
    return "other", suffix


# ---------------------------------------------------------------------------------------
# Reading messages


@dataclass
class _Found:
    name: str       # as shown to the user (a zip member as "資料.zip／養工處.xlsx")
    original: str   # the file's own name
    data: bytes
    suffix: str     # the extension to save under


@dataclass
class _Mail:
    """What was read from one message before anything is saved."""

    source: str
    headers: dict[str, str] = field(default_factory=dict)  # raw From, Subject, Date, Message-ID
    found: list[_Found] = field(default_factory=list)
    rejected: list[Attachment] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str | None = None
    msg_date: dt.datetime | None = None


class _Collector:
    """Walks a message's parts and sorts them into spreadsheets, refusals and the rest."""

    def __init__(self, mail: _Mail, limits):
        self.mail = mail
        self.limits = limits
        self.unnamed = 0
        self.inflated = 0  # bytes inflated from every zip of this message: one budget, limits.total_size

    def _name(self, name: str) -> str:
        name = _basename(name)
        if not name:
            self.unnamed += 1
            name = f"附件{self.unnamed}"
        return name

    def take(self, name: str, ctype: str, data: bytes | None, depth: int, zip_depth: int = 0, shown: str | None = None) -> None:
        name = self._name(name)
        shown = shown or name
        if data is None:
            return
        if not data:
            if _suffix(name) in SHEET_SUFFIXES:  # an empty workbook: saved, so validation tells the unit
                self.mail.found.append(_Found(shown, name, data, _suffix(name)))
            return
        kind, suffix = classify(name, ctype, data)
        too_deep = f"轉寄郵件層層包覆超過 {MAX_MESSAGE_DEPTH} 層，未再展開。請直接附上試算表檔案後重新寄送。"
        if kind == "sheet":
            self.mail.found.append(_Found(shown, name, data, suffix))
        elif kind == "archive":
            self.zip(shown, data, depth, zip_depth + 1)
        elif kind in ("eml", "msg") and depth >= MAX_MESSAGE_DEPTH:
            self.reject(shown, too_deep)
        elif kind == "eml":
            try:
                self.email(email.message_from_bytes(data), depth + 1)
            except Exception as exc:
                self.reject(shown, f"無法解析附件中的郵件（{_detail(exc)}）。請直接附上試算表檔案後重新寄送。")
        elif kind == "msg":
            self.outlook_bytes(shown, data, depth + 1)
        elif kind == "bad-archive":
            self.reject(shown, f"無法開啟 {suffix} 格式的壓縮檔。請直接附上試算表檔案，或改用 .zip 壓縮後重新寄送。")
        else:
            self.mail.others.append(shown)

    def reject(self, name: str, reason: str, data: bytes | None = None) -> None:
        digest = hashlib.sha256(data).hexdigest() if data is not None else None
        self.mail.rejected.append(Attachment(name=name, state=REJECTED, sha256=digest, reason=reason))

    # -- MIME ---------------------------------------------------------------------------
    def email(self, msg: Message, depth: int) -> None:
        if msg.is_multipart():
            payload = msg.get_payload()
            if isinstance(payload, list):
                for part in payload:
                    if isinstance(part, Message):
                        nested = depth + (1 if _content_type(msg) in MESSAGE_TYPES else 0)
                        if nested > MAX_MESSAGE_DEPTH:
                            self.reject(decode_text(_raw_header(part, "Subject")) or "轉寄郵件",
                                        f"轉寄郵件層層包覆超過 {MAX_MESSAGE_DEPTH} 層，未再展開。請直接附上試算表檔案後重新寄送。")
                            continue
                        self.email(part, nested)
            return
        ctype = _content_type(msg)
        if ctype.startswith("multipart/"):
            self.mail.notes.append("郵件的 MIME 結構異常（找不到分隔線），可能有附件無法取出。")
            return
        name = _filename(msg)
        if not name and ctype.startswith("text/") and ctype not in ("text/csv",):
            return  # the body
        try:
            data = msg.get_payload(decode=True)
        except Exception:
            data = None
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        if data is None:
            if name:
                self.mail.notes.append(f"附件「{name}」的內容無法解碼。")
            return
        disposition = (_raw_header(msg, "Content-Disposition") or "").lower()
        if ctype.startswith("image/") and (_raw_header(msg, "Content-ID") or disposition.startswith("inline")):
            return  # an inline picture (signature, logo)
        self.take(name, ctype, data, depth)

    # -- Outlook ------------------------------------------------------------------------
    def outlook_bytes(self, name: str, data: bytes, depth: int) -> None:
        msg = None
        try:
            msg = _open_msg(data)
            self.outlook(msg, depth)
        except _NoExtractMsg:
            self.reject(name, "無法讀取 Outlook 郵件檔（.msg）：未安裝 extract-msg 套件。請另存為 .eml 或直接附上試算表檔案。")
        except Exception as exc:
            self.reject(name, f"無法讀取附件中的 Outlook 郵件檔（{_detail(exc)}）。請直接附上試算表檔案後重新寄送。")
        finally:
            _close(msg)

    def outlook(self, msg, depth: int) -> None:
        for att in list(getattr(msg, "attachments", None) or []):
            name = _msg_attachment_name(att)
            try:
                data = att.data
            except Exception as exc:
                self.reject(self._name(name), f"無法讀取這個附件（{_detail(exc)}）。")
                continue
            if isinstance(data, (bytes, bytearray)):
                try:
                    ctype = str(att.mimetype or "application/octet-stream")
                except Exception:
                    ctype = "application/octet-stream"
                self.take(name, ctype, bytes(data), depth)
            elif data is not None and hasattr(data, "attachments"):
                if depth >= MAX_MESSAGE_DEPTH:
                    self.reject(self._name(name), f"轉寄郵件層層包覆超過 {MAX_MESSAGE_DEPTH} 層，未再展開。")
                    continue
                self.outlook(data, depth + 1)

    # -- zip ----------------------------------------------------------------------------
    def zip(self, name: str, data: bytes, depth: int, zip_depth: int) -> None:
        limits = self.limits
        if zip_depth > MAX_ZIP_DEPTH:
            self.reject(name, "壓縮檔內又包了多層壓縮檔，未再解開。請將試算表直接附在郵件中，或只壓縮一層後重新寄送。", data)
            return
        declared = _declared_members(data)
        if declared is not None and declared > limits.members:
            self.reject(name, f"壓縮檔內有 {declared} 個檔案，超過上限 {limits.members} 個，疑似惡意或損毀的檔案，已拒收。", data)
            return
        try:
            zf = zipfile.ZipFile(io.BytesIO(data))
            infos = [i for i in zf.infolist() if not i.is_dir()]
        except Exception as exc:
            self.reject(name, f"壓縮檔已損毀，無法開啟（{_detail(exc)}）。請重新壓縮或直接附上試算表檔案後重新寄送。", data)
            return
        if len(infos) > limits.members:
            self.reject(name, f"壓縮檔內有 {len(infos)} 個檔案，超過上限 {limits.members} 個，疑似惡意或損毀的檔案，已拒收。", data)
            return
        with zf:
            for info in infos:
                member = _zip_member_name(info)
                shown = f"{name}／{member}"
                base = _basename(member)
                if not base or base.startswith(("._", "~$", ".~lock.")) or "__MACOSX" in member.split("/"):
                    continue  # OS and Office litter
                if _unsafe_member(member):
                    self.reject(shown, f"壓縮檔內的檔名「{member}」含有上層資料夾或絕對路徑，疑似惡意檔案，已拒收。請直接附上試算表檔案後重新寄送。")
                    continue
                if info.flag_bits & 0x1:
                    self.reject(shown, "壓縮檔設有密碼，無法解開。請以不加密的方式壓縮，或直接附上試算表檔案後重新寄送。")
                    continue
                ratio = info.file_size / max(info.compress_size, 1)
                if (info.file_size > limits.member_size or self.inflated + info.file_size > limits.total_size
                        or (info.file_size >= limits.ratio_floor and ratio > limits.ratio)):
                    self.reject(shown, f"壓縮檔內的檔案解壓縮後異常龐大（{_size(info.file_size)}，壓縮比 {ratio:.0f} 倍），疑似惡意或損毀的檔案，已拒收。")
                    continue
                try:
                    content = _read_member(zf, info, min(limits.member_size, limits.total_size - self.inflated))
                except _TooLarge:
                    self.reject(shown, "壓縮檔內的檔案解壓縮後超過大小上限，疑似惡意或損毀的檔案，已拒收。")
                    continue
                except Exception as exc:
                    self.reject(shown, f"壓縮檔內的檔案已損毀，無法解開（{_detail(exc)}）。請重新壓縮後再寄送。")
                    continue
                self.inflated += len(content)
                self.take(base, "application/octet-stream", content, depth, zip_depth, shown=shown)


def _declared_members(data: bytes) -> int | None:
    """The member count the end-of-central-directory record declares, read before zipfile parses it."""
    tail = data[-(22 + 65535):]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count = int.from_bytes(tail[at + 10:at + 12], "little")
    return None if count == 0xFFFF else count


class _TooLarge(Exception):
    pass


class _NoExtractMsg(Exception):
    pass


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A member's bytes, stopping as soon as it inflates past ``limit`` (headers can lie)."""
    out = bytearray()
    with zf.open(info) as handle:
        while chunk := handle.read(1 << 16):
            out += chunk
            if len(out) > limit:
                raise _TooLarge()
    return bytes(out)


def _zip_member_name(info: zipfile.ZipInfo) -> str:
    """Member names as Windows in Taiwan writes them: cp950 without the UTF-8 flag."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = decode_bytes(name.encode("cp437"))
        except UnicodeEncodeError:
            pass
    return name


def _unsafe_member(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or bool(re.match(r"^[A-Za-z]:", name))


def _size(n: int) -> str:
    return f"{n / 1_048_576:.1f} MB" if n >= 1_048_576 else f"{n / 1024:.0f} KB"


def _detail(exc: BaseException) -> str:
    text = strip_controls(str(exc)).strip()
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def _close(msg) -> None:
    if msg is not None:
        try:
            msg.close()
        except Exception:
            pass


def _open_msg(source):
    """An extract-msg message object from a path or bytes."""
    try:
        import extract_msg
    except ImportError as exc:
        raise _NoExtractMsg() from exc
    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    return extract_msg.openMsg(source, strict=False)


def _msg_attachment_name(att) -> str:
    for attr in ("longFilename", "shortFilename", "displayName", "name"):
        try:
            value = getattr(att, attr, None)
        except Exception:
            value = None
        if value and isinstance(value, str):
            return value.strip("\x00")
    return ""


def _msg_string(msg, stream: str) -> str | None:
    try:
        value = msg.getStringStream(stream)
    except Exception:
        return None
    return value.strip("\x00") if isinstance(value, str) and value.strip("\x00") else None


def _read_outlook(path: Path, limits) -> _Mail:
    """An Outlook .msg: its transport headers when it has them, else its properties."""
    mail = _Mail(source=str(path))
    try:
        msg = _open_msg(path)
    except _NoExtractMsg:
        mail.reason = "無法讀取 Outlook 郵件檔（.msg）：未安裝 extract-msg 套件。請在 Outlook 另存為 .eml，或安裝 extract-msg。"
        return mail
    except Exception as exc:
        mail.reason = f"無法讀取 Outlook 郵件檔（{_detail(exc)}）。請在 Outlook 重新另存，或另存為 .eml 後再匯入。"
        return mail
    try:
        transport = _msg_string(msg, "__substg1.0_007D")
        if transport:
            head = email.message_from_string(transport.lstrip())
            for name in ("From", "Subject", "Date", "Message-ID"):
                value = _raw_header(head, name)
                if value:
                    mail.headers[name] = value
        if "From" not in mail.headers:
            name = _msg_string(msg, "__substg1.0_0C1A") or _msg_string(msg, "__substg1.0_0042") or ""
            address = next((a for a in (_msg_string(msg, s) for s in ("__substg1.0_5D01", "__substg1.0_0C1F",
                                                                      "__substg1.0_5D02", "__substg1.0_0065"))
                            if a and "@" in a), "")
            if not address:
                sender = getattr(msg, "sender", None)
                if isinstance(sender, str):
                    mail.headers["From"] = sender
            else:
                mail.headers["From"] = email.utils.formataddr((name, address)) if name else address
        if "Subject" not in mail.headers and isinstance(getattr(msg, "subject", None), str):
            mail.headers["Subject"] = msg.subject
        if "Message-ID" not in mail.headers:
            message_id = _msg_string(msg, "__substg1.0_1035")
            if message_id:
                mail.headers["Message-ID"] = message_id
        if "Date" not in mail.headers:
            try:
                when = msg.date  # PR_CLIENT_SUBMIT_TIME of a sent message
            except Exception:
                when = None
            if isinstance(when, dt.datetime):
                mail.msg_date = when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
                mail.headers["Date"] = email.utils.format_datetime(mail.msg_date)
            elif isinstance(when, str):
                mail.headers["Date"] = when
        _Collector(mail, limits).outlook(msg, 0)
    except Exception as exc:
        mail.reason = f"Outlook 郵件檔內容異常，無法解析（{_detail(exc)}）。"
    finally:
        _close(msg)
    return mail


HEADER_NAMES = ("From", "Subject", "Date", "Message-ID")
ANY_HEADERS = ("from", "to", "subject", "date", "message-id", "received", "mime-version", "content-type", "sender")


def _read_email(data: bytes, source: str, limits) -> _Mail:
    mail = _Mail(source=source)
    if not data.strip():
        mail.reason = "郵件檔是空的。"
        return mail
    try:
        msg = email.message_from_bytes(data)
        keys = {k.lower() for k in msg.keys()}
        if not keys & set(ANY_HEADERS):
            mail.reason = "無法辨識為電子郵件：找不到寄件者、主旨、日期等郵件標頭。請確認檔案是否為 .eml 郵件檔。"
            return mail
        for name in HEADER_NAMES:
            value = _raw_header(msg, name)
            if value is not None:
                mail.headers[name] = value
        if "Date" not in mail.headers:
            received = _raw_header(msg, "Received")
            if received and ";" in received:
                mail.headers["Date"] = received.rpartition(";")[2].strip()
        _Collector(mail, limits).email(msg, 0)
    except Exception as exc:
        mail.reason = f"郵件格式異常，無法解析（{_detail(exc)}）。"
    return mail


def _is_ole(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(8) == OLE_MAGIC
    except OSError:
        return False


def _looks_like_mbox(path: Path) -> bool:
    if path.suffix.lower() in MAILBOX_SUFFIXES:
        return True
    try:
        with open(path, "rb") as handle:
            return handle.read(5) == b"From "
    except OSError:
        return False


def _read_source(source: Path, limits):
    """Every message in one source, as _Mail records (a source that cannot be read gives one with a reason)."""
    source = Path(source)
    if not source.exists():
        yield _Mail(source=str(source), reason="找不到這個檔案或資料夾。")
        return
    if source.is_dir():
        if (source / "cur").is_dir() or (source / "new").is_dir():
            yield from _read_mailbox(source, mailbox.Maildir(str(source), factory=None, create=False), limits)
            return
        files = sorted(p for p in source.iterdir() if p.is_file() and p.suffix.lower() in (".eml", ".msg", *MAILBOX_SUFFIXES))
        if not files:
            yield _Mail(source=str(source), reason="這個資料夾不是 Maildir（沒有 cur、new 子資料夾），也沒有 .eml、.msg 或 .mbox 檔。")
        for path in files:
            yield from _read_source(path, limits)
        return
    if source.suffix.lower() == ".msg" or _is_ole(source):
        yield _read_outlook(source, limits)
        return
    if _looks_like_mbox(source):
        try:
            box = mailbox.mbox(str(source), factory=None, create=False)
        except Exception as exc:
            yield _Mail(source=str(source), reason=f"無法開啟信箱檔（{_detail(exc)}）。")
            return
        yield from _read_mailbox(source, box, limits)
        return
    try:
        data = source.read_bytes()
    except OSError as exc:
        yield _Mail(source=str(source), reason=f"無法讀取檔案（{exc.strerror or exc}）。")
        return
    yield _read_email(data, str(source), limits)


def _read_mailbox(source: Path, box: mailbox.Mailbox, limits):
    try:
        keys = sorted(box.iterkeys()) if isinstance(box, mailbox.Maildir) else list(box.iterkeys())
    except Exception as exc:
        yield _Mail(source=str(source), reason=f"無法讀取信箱（{_detail(exc)}）。")
        return
    if not keys:
        yield _Mail(source=str(source), reason="信箱中沒有任何郵件。")
    try:
        for number, key in enumerate(keys, start=1):
            label = f"{source}#{key}" if isinstance(box, mailbox.Maildir) else f"{source}#{number}"
            try:
                data = box.get_bytes(key)
            except Exception as exc:
                yield _Mail(source=label, reason=f"無法讀取這封郵件（{_detail(exc)}）。")
                continue
            yield _read_email(data, label, limits)
    finally:
        try:
            box.close()
        except Exception:
            pass


# ---------------------------------------------------------------------------------------
# Saving, validating, receipts


def _inbox_hashes(inbox: Path) -> dict[str, str]:
    """SHA-256 -> name of every file already in the inbox (clutter and the ledger excluded)."""
    from qos_xl.pipeline.load import is_clutter, list_inbox

    known: dict[str, str] = {}
    for entry in list_inbox([inbox]):
        path, shown = entry.path, entry.file
        if is_clutter(path) or (path.name.startswith(".") and path.name.endswith(".tmp")):
            continue
        try:
            with open(path, "rb") as handle:
                known.setdefault(hashlib.file_digest(handle, "sha256").hexdigest(), shown)
        except OSError:
            continue
    return known


def _unique_target(inbox: Path, name: str) -> Path:
    target = inbox / name
    stem, suffix = split_suffix(name)
    number = 2
    while target.exists():
        target = inbox / f"{stem}_{number}{suffix}"
        number += 1
    return target


def _sender_unit(registry: Registry, address: str) -> Unit | None:
    if not address or "@" not in address:
        return None
    try:
        return registry.find_by_email(address)
    except Exception:
        return None


def _describe(mail: _Mail, registry: Registry, now: dt.datetime) -> MailMessage:
    raw_from = mail.headers.get("From", "")
    pairs = getaddresses([raw_from]) if raw_from else []
    display, address = pairs[0] if pairs else ("", "")
    display = decode_text(display).strip('"').strip()
    address = decode_text(address)
    if "@" not in address:
        display, address = (display or address), ""
    sender = f"{display} <{address}>" if display and address else (address or display or decode_text(raw_from))
    unit = _sender_unit(registry, address)
    when = mail.msg_date.astimezone(TAIPEI) if mail.msg_date and 1912 <= mail.msg_date.year <= 2110 else None
    when = when or _parse_date(mail.headers.get("Date"))
    message = MailMessage(
        source=mail.source, sender=sender, address=address.lower(), subject=decode_text(mail.headers.get("Subject")),
        date=when.isoformat(timespec="seconds") if when else decode_text(mail.headers.get("Date")),
        message_id=decode_text(mail.headers.get("Message-ID")),
        unit=unit.short_name if unit else UNKNOWN_SENDER, unit_code=unit.code if unit else None,
        unit_name=unit.name if unit else None, received=when, when=when or now, display=display,
        others=list(mail.others), notes=list(mail.notes), reason=mail.reason,
    )
    return message


def ingest(sources: list[Path], inbox: Path, receipts_dir: Path, plan, registry: Registry, *, now: dt.datetime | None = None,
           limits=None) -> IngestResult:
    """Save the spreadsheets of the given mails into ``inbox``; the library behind ``qos-xl ingest``."""
    inbox, receipts_dir = Path(inbox), Path(receipts_dir)
    if receipts_dir.resolve().is_relative_to(inbox.resolve()):
        raise ValueError(f"回覆文字資料夾 {receipts_dir} 不可位於收件匣 {inbox} 之內，否則下次彙整會把回覆文字當成繳交檔案。")
    inbox.mkdir(parents=True, exist_ok=True)
    now = (now or dt.datetime.now(TAIPEI)).astimezone(TAIPEI)
    limits = limits or zip_limits()
    known = _inbox_hashes(inbox)
    first_seen = {digest: row.message_id for digest, row in ledger.read(inbox).items()}
    result = IngestResult(inbox, receipts_dir)
    for source in sources:
        for mail in _read_source(Path(source), limits):
            message = _describe(mail, registry, now)
            result.messages.append(message)
            for found in mail.found:
                message.attachments.append(_save(found, message, inbox, known, first_seen, now))
            message.attachments.extend(mail.rejected)
    _validate(result, plan, registry)
    for message in result.messages:
        if message.reason and not message.attachments:
            continue
        message.receipt = str(_write_receipt(message, receipts_dir))
    return result


def _save(found: _Found, message: MailMessage, inbox: Path, known: dict[str, str], first_seen: dict[str, str],
          now: dt.datetime) -> Attachment:
    digest = hashlib.sha256(found.data).hexdigest()
    if digest in known:
        again = bool(message.message_id) and first_seen.get(digest) == message.message_id
        return Attachment(name=found.name, state=ALREADY, saved_as=known[digest], sha256=digest, reimported=again)
    original = found.original
    if _suffix(original) != found.suffix:
        original += found.suffix
    name = safe_filename(f"{format_roc(message.when, compact=True)}_{message.unit}_{original}", fallback="附件")
    target = _unique_target(inbox, name)
    write_bytes_atomic(target, found.data)
    known[digest] = target.name
    first_seen[digest] = message.message_id
    ledger.append(inbox, {
        "ingested_at": now.isoformat(timespec="seconds"), "source": message.source, "sender": message.sender,
        "subject": message.subject, "date": message.date, "message_id": message.message_id, "sha256": digest,
        "saved_as": target.name, "unit_code": message.unit_code or "",
    })
    return Attachment(name=found.name, state=SAVED, saved_as=target.name, sha256=digest)


def _validate(result: IngestResult, plan, registry: Registry) -> None:
    """Validate every saved (or already present) file once, and flag senders of another unit."""
    from qos_xl.pipeline.validate import validate_paths

    wanted = {a.saved_as for m in result.messages for a in m.attachments if a.state in (SAVED, ALREADY) and a.saved_as}
    names = [name for name in sorted(wanted) if (result.inbox / name).is_file()]
    if not names:
        return
    checked = validate_paths([result.inbox / name for name in names], plan, registry)
    reports = dict(zip(names, checked.files))
    for message in result.messages:
        for att in message.attachments:
            base = reports.get(att.saved_as) if att.saved_as else None
            if base is None:
                continue
            report = replace(base, provenance=Provenance(sender=message.sender, subject=message.subject,
                                                         received=message.received, unit_code=message.unit_code))
            if message.unit_code and report.unit_code and report.unit_code != message.unit_code:
                report = report.with_problems(report.problem(
                    "sender-unit-mismatch", sender=message.address or message.sender,
                    sender_unit=message.unit_name or message.unit, unit=report.unit or report.unit_code))
            att.report = report


def receipt_path(message: MailMessage, receipts_dir: Path) -> Path:
    key = message.message_id or f"{message.source}|{message.subject}|{message.date}"
    short = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return Path(receipts_dir) / safe_filename(f"{format_roc(message.when, compact=True)}_{message.unit}_{short}.txt")


def _write_receipt(message: MailMessage, receipts_dir: Path) -> Path:
    from qos_xl.output.reply import mail_receipt

    target = receipt_path(message, receipts_dir)
    write_text_atomic(target, mail_receipt(message))
    return target


# ---------------------------------------------------------------------------------------
# Limits


@dataclass(frozen=True)
class ZipLimits:
    members: int
    member_size: int
    total_size: int
    ratio: float
    ratio_floor: int = 2**20   # the ratio is judged only for members at least this big, as the reader does


def zip_limits() -> ZipLimits:
    """The zip bounds of the safe spreadsheet reader (``spreadsheet.Limits``), reused for zip attachments."""
    from qos_xl.intake import zipguard

    limits = zipguard.Limits()
    return ZipLimits(members=limits.max_members, member_size=limits.max_part_bytes,
                     total_size=limits.max_total_bytes, ratio=limits.max_ratio, ratio_floor=zipguard.RATIO_FLOOR)
