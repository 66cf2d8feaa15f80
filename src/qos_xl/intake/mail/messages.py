"""One message read: its sender, subject, date and Message-ID, and its attachments sorted.

RFC 822 messages are parsed with ``email.policy.default`` (headers through ``headers.Decoder``);
Outlook ``.msg`` files with extract-msg's public properties (``sender``, ``header``,
``headerText``, ``messageId``, ``subject``, ``date``, ``attachments``).  Forwards are followed:
``message/rfc822`` parts, attached ``.eml`` and ``.msg`` files, messages embedded by Outlook.
Nothing here raises for a bad message: what cannot be read becomes a reason or a note.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import BinaryIO

from qos_xl.intake import zipguard
from qos_xl.intake.mail.attachments import MAX_MESSAGE_DEPTH, TOO_DEEP, Collector, Found, Refused
from qos_xl.intake.mail.headers import Decoder, display_and_address, one_line, parse_date, taipei
from qos_xl.intake.mail.sources import TOO_MANY_PARTS, Raw, detail, too_many_parts

MESSAGE_TYPES = {"message/rfc822"}
NO_EXTRACT_MSG = "無法讀取 Outlook 郵件檔（.msg）：未安裝 extract-msg 套件。請在 Outlook 另存為 .eml，或安裝 extract-msg。"
MIME_BROKEN = "郵件的 MIME 結構異常（找不到分隔線），可能有附件無法取出。"


@dataclass
class Mail:
    """What was read from one message before anything is saved."""

    source: str
    fingerprint: str = ""                # SHA-256 of the message as read: its identity when it has no Message-ID
    display: str = ""
    address: str = ""
    subject: str = ""
    date: dt.datetime | None = None      # Taipei time, to the second
    date_text: str = ""                  # the Date header as written, when it cannot be read as a date
    message_id: str = ""
    found: list[Found] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    others: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reason: str | None = None


class _NoExtractMsg(Exception):
    pass


def _open_msg(data: bytes):
    """An extract-msg message object from a .msg file's bytes."""
    try:
        import extract_msg
    except ImportError as exc:
        raise _NoExtractMsg() from exc
    logging.getLogger("extract_msg").setLevel(logging.ERROR)
    return extract_msg.openMsg(data, strict=False)


def _close(msg) -> None:
    if msg is not None:
        try:
            msg.close()
        except Exception:
            pass


def _attribute(obj, name: str):
    """A property of an extract-msg object; None when reading it fails (damaged files raise)."""
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def read(raw: Raw, limits: zipguard.Limits) -> Mail:
    """One message from a source."""
    mail = Mail(raw.source, fingerprint=raw.fingerprint)
    if raw.reason or raw.open is None:
        mail.reason = raw.reason
        return mail
    reader = _Reader(mail, limits)
    try:
        with raw.open() as handle:
            if raw.format == "msg":
                reader.outlook_file(handle.read())
            else:
                reader.mime_file(handle)
    except Exception as exc:       # a library failing on hostile input: the message is unreadable, the run goes on
        mail.reason = f"郵件格式異常，無法解析（{detail(exc)}）。"
    collector = reader.collector
    if collector is not None:
        mail.found, mail.refused = collector.found, collector.refused
        mail.others, mail.notes = collector.others, collector.notes
    return mail


class _Reader:
    """Reads one message's headers, then walks its parts into a ``Collector``."""

    def __init__(self, mail: Mail, limits: zipguard.Limits):
        self.mail = mail
        self.limits = limits
        self.collector: Collector | None = None

    def _collect(self) -> Collector:
        self.collector = Collector(self.mail.subject, self.limits, self.nested)
        return self.collector

    # -- RFC 822 --------------------------------------------------------------------------
    def mime_file(self, handle: BinaryIO) -> None:
        mail = self.mail
        msg = BytesParser(policy=policy.default).parse(handle)   # from the file in chunks: no copy of it in memory
        decoder = Decoder.for_message(msg)
        mail.display, mail.address = decoder.sender(msg)
        mail.subject = decoder.text(msg, "Subject")
        mail.message_id = decoder.text(msg, "Message-ID")
        date = decoder.text(msg, "Date")
        if not date:
            received = decoder.text(msg, "Received")
            date = received.rpartition(";")[2].strip() if ";" in received else ""
        mail.date = parse_date(date)
        mail.date_text = "" if mail.date else date
        self._collect()
        self.walk(msg, decoder, 0)

    def walk(self, msg: Message, decoder: Decoder, depth: int) -> None:
        collector = self.collector
        if msg.is_multipart():
            payload = msg.get_payload()
            inner = depth + (1 if _content_type(msg) in MESSAGE_TYPES else 0)
            for part in payload if isinstance(payload, list) else ():
                if not isinstance(part, Message):
                    continue
                if inner > MAX_MESSAGE_DEPTH:
                    collector.refuse(decoder.text(part, "Subject") or "轉寄郵件", TOO_DEEP)
                    continue
                self.walk(part, decoder, inner)
            return
        ctype = _content_type(msg)
        if ctype.startswith("multipart/"):
            collector.note(MIME_BROKEN)
            return
        name = decoder.filename(msg)
        if not name and ctype.startswith("text/") and ctype != "text/csv":
            return  # the body
        try:
            data = msg.get_payload(decode=True)
        except Exception:
            data = None
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        if data is None:
            if name:
                collector.note(f"附件「{name}」的內容無法解碼。")
            return
        disposition = (decoder.raw(msg, "Content-Disposition") or "").lower()
        if ctype.startswith("image/") and (decoder.raw(msg, "Content-ID") or disposition.startswith("inline")):
            return  # an inline picture (signature, logo)
        collector.take(name, ctype, data, depth)

    # -- Outlook --------------------------------------------------------------------------
    def outlook_file(self, data: bytes) -> None:
        mail = self.mail
        msg = None
        try:
            msg = _open_msg(data)
            self._outlook_headers(msg)
            self._collect()
            self.outlook(msg, 0)
        except _NoExtractMsg:
            mail.reason = NO_EXTRACT_MSG
        except Exception as exc:
            if self.collector is None:
                mail.reason = f"無法讀取 Outlook 郵件檔（{detail(exc)}）。請在 Outlook 重新另存，或另存為 .eml 後再匯入。"
            else:
                mail.reason = f"Outlook 郵件檔內容異常，無法解析（{detail(exc)}）。"
        finally:
            _close(msg)

    def _outlook_headers(self, msg) -> None:
        """Sender, subject, date and Message-ID: the transport headers when the message kept them, else
        its properties (extract-msg composes ``sender`` as ``name <address>``, the name unquoted)."""
        mail = self.mail
        header = _attribute(msg, "header") if _attribute(msg, "headerText") else None
        decoder = Decoder()
        if header is not None and decoder.raw(header, "From"):
            mail.display, mail.address = decoder.sender(header)
        else:
            sender = _attribute(msg, "sender")
            mail.display, mail.address = display_and_address(sender) if isinstance(sender, str) else ("", "")
        subject = _attribute(msg, "subject")
        if isinstance(subject, str) and subject.strip("\x00 "):
            mail.subject = one_line(subject.strip("\x00"))
        elif header is not None:
            mail.subject = decoder.text(header, "Subject")
        message_id = _attribute(msg, "messageId")
        mail.message_id = one_line(message_id.strip("\x00")) if isinstance(message_id, str) else ""
        when = _attribute(msg, "date")
        if isinstance(when, dt.datetime):
            mail.date = taipei(when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc))
        elif header is not None:
            text = decoder.text(header, "Date")
            mail.date = parse_date(text)
            mail.date_text = "" if mail.date else text

    def outlook(self, msg, depth: int) -> None:
        collector = self.collector
        for att in list(_attribute(msg, "attachments") or []):
            name = _attribute(att, "name")
            name = name.strip("\x00") if isinstance(name, str) else ""
            data = _attribute(att, "data")
            mimetype = _attribute(att, "mimetype")
            ctype = str(mimetype).lower() if isinstance(mimetype, str) else "application/octet-stream"
            if isinstance(data, (bytes, bytearray)):
                if ctype.startswith("image/") and (_attribute(att, "hidden") or _attribute(att, "contentId")):
                    continue  # an inline picture (signature, logo)
                collector.take(name, ctype, bytes(data), depth)
            elif data is not None and hasattr(data, "attachments"):   # a message Outlook embedded
                if depth >= MAX_MESSAGE_DEPTH:
                    collector.refuse(name or "轉寄郵件", TOO_DEEP)
                else:
                    self.outlook(data, depth + 1)
            else:
                collector.note(f"附件「{name or '未命名'}」無法取出內容，請直接附上檔案後重新寄送。")

    # -- attached messages ------------------------------------------------------------------
    def nested(self, kind: str, name: str, data: bytes, depth: int) -> None:
        """An attached ``.eml`` or ``.msg``: its attachments are this message's too."""
        collector = self.collector
        if kind == "eml":
            if too_many_parts(data):
                collector.refuse(name, TOO_MANY_PARTS)
                return
            try:
                inner = BytesParser(policy=policy.default).parse(io.BytesIO(data))
                self.walk(inner, Decoder.for_message(inner), depth)
            except Exception as exc:
                collector.refuse(name, f"無法解析附件中的郵件（{detail(exc)}）。請直接附上試算表檔案後重新寄送。")
            return
        msg = None
        try:
            msg = _open_msg(data)
            self.outlook(msg, depth)
        except _NoExtractMsg:
            collector.refuse(name, "無法讀取 Outlook 郵件檔（.msg）：未安裝 extract-msg 套件。請另存為 .eml 或直接附上試算表檔案。")
        except Exception as exc:
            collector.refuse(name, f"無法讀取附件中的 Outlook 郵件檔（{detail(exc)}）。請直接附上試算表檔案後重新寄送。")
        finally:
            _close(msg)


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"
