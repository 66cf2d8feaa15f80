"""Real-shaped mail for the ingest tests, built with the standard library's ``email`` package.

Each builder returns ``bytes`` (an RFC 5322 message) or writes a mailbox / .msg file, shaped
the way the mailers units use really write them:

* ``webmail``: Content-Disposition with an RFC 2231 ``filename*=utf-8''...`` name
  (optionally ``inline``, as some webmail sends);
* ``outlook``: the name only in ``Content-Type name="=?big5?B?...?="`` (RFC 2047 in a
  parameter, Big5), a Big5 encoded subject, no filename in Content-Disposition;
* ``raw_big5``: raw 8-bit Big5 bytes in the filename parameter and subject;
* ``continuations``: RFC 2231 continuations ``filename*0*=``/``filename*1*=``;
* ``octet_stream``: ``application/octet-stream`` and a name without extension;
* ``no_type``: an attachment part with no Content-Type at all;
* ``forward``: a ``message/rfc822`` part holding the original message;
* ``with_zip``: a ``.zip`` attachment; ``zip_bytes`` builds it (cp950 member names
  without the UTF-8 flag, as Windows writes them, and ``../`` members);
* ``outlook_msg``: a real Outlook ``.msg`` (OLE compound file), written with
  extract-msg's own ``OleWriter``: property streams, string streams
  ``__substg1.0_0037001F`` (subject), ``0C1A001F``/``0C1F001F``/``5D01001F`` (sender), attachment
  storages ``__attach_version1.0_#0000000N`` with ``3707001F`` (long file name) and
  ``37010102`` (data), or an embedded message in ``3701000D``.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import mailbox
import struct
import zipfile
from email import policy
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from pathlib import Path

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TAIPEI = dt.timezone(dt.timedelta(hours=8))
DEFAULT_DATE = dt.datetime(2013, 6, 28, 10, 15, tzinfo=TAIPEI)


def b_word(text: str, charset: str = "big5") -> str:
    """An RFC 2047 B encoded word; "big5" text is encoded as cp950, as Windows does."""
    codec = "cp950" if charset.lower() == "big5" else charset
    return f"=?{charset}?B?{base64.b64encode(text.encode(codec)).decode()}?="


def _headers(msg, sender: str | None, subject: str | None, date: dt.datetime | None, message_id: str | None,
             to: str = "sec@pwb.kcg.gov.tw") -> None:
    if sender is not None:
        msg["From"] = sender
    msg["To"] = to
    if subject is not None:
        msg["Subject"] = subject
    if date is not None:
        msg["Date"] = format_datetime(date)
    if message_id is not None:
        msg["Message-ID"] = message_id


def webmail(payload: bytes, filename: str, *, sender="王小明 <mnt@pwb.kcg.gov.tw>", subject="養工處自行檢核表",
            date=DEFAULT_DATE, message_id="<web-1@mail.example>", inline=False, content_type=XLSX_TYPE) -> bytes:
    """Webmail: a UTF-8 subject and an RFC 2231 UTF-8 filename in Content-Disposition."""
    msg = EmailMessage(policy=policy.SMTP.clone(max_line_length=998))  # one unfolded filename*= line
    _headers(msg, sender, subject, date, message_id)
    msg.set_content("您好，附件為本處自行檢核表，請查收。\n")
    maintype, subtype = content_type.split("/")
    msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename,
                       disposition="inline" if inline else "attachment")
    data = msg.as_bytes()
    assert b"filename*=utf-8''" in data or filename.isascii(), "expected an RFC 2231 filename"
    return data


def outlook(payload: bytes, filename: str, *, sender_name="養工處 王小明", address="mnt@pwb.kcg.gov.tw",
            subject="養工處期中自行檢核表", date=DEFAULT_DATE, message_id="<outlook-1@mnt.kcg.gov.tw>") -> bytes:
    """Outlook (Big5 locale): Big5 encoded words, the name only in Content-Type name=."""
    msg = MIMEMultipart()
    _headers(msg, f'"{b_word(sender_name)}" <{address}>', b_word(subject), date, message_id)
    msg.attach(MIMEText("附件如說明。", "plain", "big5"))
    part = MIMEBase(*XLSX_TYPE.split("/"))
    part.set_payload(base64.encodebytes(payload).decode("ascii"))
    part["Content-Transfer-Encoding"] = "base64"
    del part["Content-Type"]
    part["Content-Type"] = f'{XLSX_TYPE};\r\n\tname="{b_word(filename)}"'
    part["Content-Disposition"] = "attachment"
    msg.attach(part)
    return msg.as_bytes()


def _raw_message(headers: list[bytes], parts: list[tuple[list[bytes], bytes]], boundary=b"==b0undary==") -> bytes:
    """A multipart message assembled from raw header lines and (headers, body) parts."""
    out = io.BytesIO()
    for line in headers:
        out.write(line + b"\r\n")
    out.write(b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"" + boundary + b"\"\r\n\r\n")
    out.write(b"This is a multi-part message in MIME format.\r\n")
    for part_headers, body in parts:
        out.write(b"--" + boundary + b"\r\n")
        for line in part_headers:
            out.write(line + b"\r\n")
        out.write(b"\r\n" + body + b"\r\n")
    out.write(b"--" + boundary + b"--\r\n")
    return out.getvalue()


def _b64(payload: bytes) -> bytes:
    return base64.encodebytes(payload).replace(b"\n", b"\r\n").rstrip()


def _date_line(date: dt.datetime) -> bytes:
    return b"Date: " + format_datetime(date).encode()


def raw_big5(payload: bytes, filename: str, *, address="sewer@pwb.kcg.gov.tw", subject="下水道處自行檢核表",
             date=DEFAULT_DATE, message_id="<raw-big5@sewer>") -> bytes:
    """An old mailer: raw 8-bit Big5 bytes in the subject and in the filename parameter."""
    name = filename.encode("cp950")
    return _raw_message(
        [b"From: " + address.encode(), b"To: sec@pwb.kcg.gov.tw", b"Subject: " + subject.encode("cp950"),
         _date_line(date), b"Message-ID: " + message_id.encode()],
        [([b"Content-Type: text/plain; charset=big5"], "請查收。".encode("cp950")),
         ([b'Content-Type: application/vnd.ms-excel; name="' + name + b'"', b"Content-Transfer-Encoding: base64",
           b'Content-Disposition: attachment; filename="' + name + b'"'], _b64(payload))])


def raw_filename(payload: bytes, name: bytes, *, address="mnt@pwb.kcg.gov.tw", subject="檢核表",
                 text_charset: str | None = None, date=DEFAULT_DATE, message_id="<raw-name@mnt>") -> bytes:
    """A file name in raw 8-bit bytes (no charset of its own); the text part may declare one."""
    declared = b"; charset=" + text_charset.encode() if text_charset else b""
    return _raw_message(
        [b"From: " + address.encode(), b"To: sec@pwb.kcg.gov.tw", b"Subject: " + b_word(subject, "UTF-8").encode(),
         _date_line(date), b"Message-ID: " + message_id.encode()],
        [([b"Content-Type: text/plain" + declared], b"see attached"),
         ([b'Content-Type: application/octet-stream; name="' + name + b'"', b"Content-Transfer-Encoding: base64",
           b'Content-Disposition: attachment; filename="' + name + b'"'], _b64(payload))])


def continuations(payload: bytes, filename: str, *, address="bld@pwb.kcg.gov.tw", date=DEFAULT_DATE,
                  message_id="<cont@bld>") -> bytes:
    """RFC 2231 continuations: filename*0*=UTF-8''...; filename*1*=... (Thunderbird for long names)."""
    quoted = "".join(f"%{b:02X}" for b in filename.encode("utf-8"))
    half = len(quoted) // 2
    half -= half % 3  # keep %XX triples whole
    return _raw_message(
        [b"From: " + address.encode(), b"To: sec@pwb.kcg.gov.tw", b"Subject: =?UTF-8?B?" +
         base64.b64encode("建管處檔案".encode()) + b"?=", _date_line(date), b"Message-ID: " + message_id.encode()],
        [([b"Content-Type: text/plain; charset=UTF-8"], "附件".encode()),
         ([b"Content-Type: " + XLSX_TYPE.encode() + b";", b"Content-Transfer-Encoding: base64",
           b"Content-Disposition: attachment;", b" filename*0*=UTF-8''" + quoted[:half].encode() + b";",
           b" filename*1*=" + quoted[half:].encode()], _b64(payload))])


def octet_stream(payload: bytes, name: str | None, *, address="nce@pwb.kcg.gov.tw", subject="新工處資料",
                 date=DEFAULT_DATE, message_id="<octet@nce>") -> bytes:
    """application/octet-stream and a name with no extension (or no name at all)."""
    params = f'; name="{name}"' if name is not None else ""
    disposition = f'attachment; filename="{name}"' if name is not None else "attachment"
    return _raw_message(
        [b"From: " + address.encode(), b"To: sec@pwb.kcg.gov.tw", b"Subject: " + b_word(subject, "UTF-8").encode(),
         _date_line(date), b"Message-ID: " + message_id.encode()],
        [([b"Content-Type: application/octet-stream" + params.encode() if name is None or name.isascii()
           else b"Content-Type: application/octet-stream; name=\"" + b_word(name, "UTF-8").encode() + b'"',
           b"Content-Transfer-Encoding: base64",
           b"Content-Disposition: " + (disposition.encode() if name is None or name.isascii()
                                       else b'attachment; filename="' + b_word(name, "UTF-8").encode() + b'"')],
          _b64(payload))])


def no_type(payload: bytes, *, address="planning@pwb.kcg.gov.tw", date=DEFAULT_DATE, message_id="<notype@pln>") -> bytes:
    """An attachment part with no Content-Type at all, only a disposition filename."""
    return _raw_message(
        [b"From: " + address.encode(), b"To: sec@pwb.kcg.gov.tw", b"Subject: plan", _date_line(date),
         b"Message-ID: " + message_id.encode()],
        [([b"Content-Type: text/plain"], b"see attached"),
         ([b"Content-Transfer-Encoding: base64", b'Content-Disposition: attachment; filename="workplan.xlsx"'],
          _b64(payload))])


def forward(inner: bytes, *, sender="秘書室 <sec@pwb.kcg.gov.tw>", subject="FW: 養工處自行檢核表",
            date=DEFAULT_DATE, message_id="<fwd-1@pwb>") -> bytes:
    """A forward: the original message attached as message/rfc822."""
    from email import message_from_bytes

    msg = EmailMessage(policy=policy.SMTP)
    _headers(msg, sender, subject, date, message_id)
    msg.set_content("轉寄養工處來信。\n")
    msg.add_attachment(message_from_bytes(inner, policy=policy.SMTP))
    data = msg.as_bytes()
    assert b"message/rfc822" in data
    return data


def plain(*, sender="mnt@pwb.kcg.gov.tw", subject="請問填報期限", date=DEFAULT_DATE, message_id="<plain@mnt>",
          pdf: bytes | None = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n") -> bytes:
    """A message with no spreadsheet: text, and optionally a PDF."""
    msg = EmailMessage(policy=policy.SMTP)
    _headers(msg, sender, subject, date, message_id)
    msg.set_content("請問自行檢核表何時截止？\n")
    if pdf is not None:
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="公文.pdf")
    return msg.as_bytes()


def with_attachment(data: bytes, filename: str, content_type: str = "application/zip", *, sender="mnt@pwb.kcg.gov.tw",
                    subject="附件", date=DEFAULT_DATE, message_id="<zip@mnt>") -> bytes:
    msg = MIMEMultipart()
    _headers(msg, sender, subject, date, message_id)
    msg.attach(MIMEText("see attached", "plain", "utf-8"))
    part = MIMEApplication(data, _subtype=content_type.split("/")[1])
    part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", filename))
    msg.attach(part)
    return msg.as_bytes()


def zip_pair(first: bytes, second: bytes, *, sender="mnt@pwb.kcg.gov.tw", date=DEFAULT_DATE,
             message_id="<zips@mnt>") -> bytes:
    """A message with two zip attachments, a.zip and b.zip."""
    msg = MIMEMultipart()
    _headers(msg, sender, "兩個壓縮檔", date, message_id)
    msg.attach(MIMEText("see attached", "plain", "utf-8"))
    for name, data in (("a.zip", first), ("b.zip", second)):
        part = MIMEApplication(data, _subtype="zip")
        part.add_header("Content-Disposition", "attachment", filename=name)
        msg.attach(part)
    return msg.as_bytes()


def zip_bytes(members: dict[str, bytes], *, cp950_names: bool = False) -> bytes:
    """A zip; with ``cp950_names`` non-ASCII names are stored as cp950 without the UTF-8 flag (Windows)."""
    buffer = io.BytesIO()
    swaps: list[tuple[bytes, bytes]] = []
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for number, (name, data) in enumerate(members.items()):
            stored = name
            if cp950_names and not name.isascii():
                raw = name.encode("cp950")
                stored = f"Q{number}".ljust(len(raw), "Z")
                swaps.append((stored.encode("ascii"), raw))
            zf.writestr(stored, data)
    out = buffer.getvalue()
    for placeholder, raw in swaps:
        assert out.count(placeholder) == 2
        out = out.replace(placeholder, raw)
    return out


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.mbox(str(path), create=True)
    try:
        for data in messages:
            box.add(data)
        box.flush()
    finally:
        box.close()
    return path


def write_maildir(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.Maildir(str(path), create=True)
    for data in messages:
        box.add(data)
    return path


# ---------------------------------------------------------------------------------------
# Outlook .msg


def _u16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _filetime(when: dt.datetime) -> int:
    return int((when - dt.datetime(1601, 1, 1, tzinfo=dt.timezone.utc)).total_seconds() * 10_000_000)


def _properties(kind: str, entries: list[tuple[int, bytes]], attachments: int = 0) -> bytes:
    """A __properties_version1.0 stream: header, then 16-byte entries (tag, flags, 8-byte value)."""
    if kind == "message":
        head = struct.pack("<8xIIII8x", 0, attachments, 0, attachments)
    elif kind == "embedded":
        head = struct.pack("<8xIIII", 0, attachments, 0, attachments)
    else:
        head = b"\0" * 8
    return head + b"".join(struct.pack("<II", tag, 6) + value for tag, value in entries)


def ole_file(streams: dict[str, bytes]) -> bytes:
    """An OLE compound file with the given streams (an .xls has Workbook, a .doc WordDocument, an encrypted
    .xlsx EncryptedPackage), written with extract-msg's ``OleWriter``."""
    from extract_msg.ole_writer import OleWriter

    writer, out = OleWriter(), io.BytesIO()
    for name, data in streams.items():
        writer.addEntry([name], data)
    writer.write(out)
    return out.getvalue()


def outlook_msg(path: Path, *, subject: str, sender_name: str, address: str, date: dt.datetime = DEFAULT_DATE,
                attachments: list[tuple[str, object]]) -> Path:
    """Write an Outlook .msg; an attachment's data is bytes, or a dict (subject, sender_name, address,
    attachments) for an embedded message (a forward as Outlook attaches it)."""
    from extract_msg.ole_writer import OleWriter

    writer = OleWriter()

    def string(prefix: list[str], entries: list, prop: int, text: str) -> None:
        data = _u16(text)
        entries.append(((prop << 16) | 0x001F, struct.pack("<II", len(data) + 2, 0)))
        writer.addEntry(prefix + [f"__substg1.0_{prop:04X}001F"], data)

    def message(prefix: list[str], kind: str, spec: dict) -> None:
        entries: list[tuple[int, bytes]] = []
        string(prefix, entries, 0x001A, "IPM.Note")
        string(prefix, entries, 0x0037, spec["subject"])
        string(prefix, entries, 0x0C1A, spec["sender_name"])
        if spec["address"]:
            string(prefix, entries, 0x0C1F, spec["address"])
            string(prefix, entries, 0x5D01, spec["address"])   # PR_SENDER_SMTP_ADDRESS, as Outlook 2010+ writes it
        if spec.get("date"):
            entries.append((0x00390040, struct.pack("<Q", _filetime(spec["date"]))))
        for number, (name, data) in enumerate(spec["attachments"]):
            storage = prefix + [f"__attach_version1.0_#{number:08X}"]
            writer.addEntry(storage, storage=True)
            att: list[tuple[int, bytes]] = []
            string(storage, att, 0x3707, name)
            string(storage, att, 0x3704, name[:8])
            if isinstance(data, bytes):
                writer.addEntry(storage + ["__substg1.0_37010102"], data)
                att.append((0x37010102, struct.pack("<II", len(data), 0)))
                att.append((0x37050003, struct.pack("<II", 1, 0)))  # ATTACH_BY_VALUE
            else:
                inner = storage + ["__substg1.0_3701000D"]
                writer.addEntry(inner, storage=True)
                message(inner, "embedded", data)
                att.append((0x3701000D, struct.pack("<II", 0xFFFFFFFF, 0)))
                att.append((0x37050003, struct.pack("<II", 5, 0)))  # ATTACH_EMBEDDED_MSG
            writer.addEntry(storage + ["__properties_version1.0"], _properties("attachment", att))
        writer.addEntry(prefix + ["__properties_version1.0"], _properties(kind, entries, len(spec["attachments"])))

    message([], "message", {"subject": subject, "sender_name": sender_name, "address": address, "date": date,
                            "attachments": attachments})
    for stream in ("00020102", "00030102", "00040102"):  # empty named-property map
        writer.addEntry(["__nameid_version1.0", f"__substg1.0_{stream}"], b"")
    writer.write(str(path))
    return Path(path)
