"""The ingest ledger ``<inbox>/.qos-ledger.csv``: one row per attachment ``ingest`` saved.

``ingest`` appends rows (``append``); ``merge`` reads them (``read``) to know who sent a
file and when.  The file is UTF-8 with a BOM so that Excel opens it, one line per row, and
no value can start like a formula.  The ``.qos-`` prefix keeps it out of the inbox listing.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from qos_xl.core import platform
from qos_xl.core.config import decode_csv_bytes
from qos_xl.core.text import strip_controls

LEDGER_NAME = ".qos-ledger.csv"
# (key, column header in the CSV)
COLUMNS = (
    ("ingested_at", "收件時間"),
    ("source", "來源"),
    ("sender", "寄件者"),
    ("subject", "主旨"),
    ("date", "日期"),
    ("message_id", "Message-ID"),
    ("sha256", "SHA-256"),
    ("saved_as", "存檔名稱"),
    ("unit_code", "單位代碼"),
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SPACES = re.compile(r"\s+")
_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class LedgerRow:
    """What the ledger says of one saved file."""

    sha256: str
    saved_as: str = ""
    sender: str = ""
    subject: str = ""
    date: dt.datetime | None = None          # the message's Date header
    ingested_at: dt.datetime | None = None   # when ingest saved the file
    message_id: str = ""
    source: str = ""
    unit_code: str = ""                      # the sender's unit, by address


def ledger_path(inbox: Path) -> Path:
    return Path(inbox) / LEDGER_NAME


def _cell(value: object) -> str:
    """Untrusted text for a CSV a clerk opens in Excel: one line, never a formula."""
    text = _SPACES.sub(" ", strip_controls(str(value or "").replace("\r", " ").replace("\n", " "))).strip()
    return "'" + text if text.startswith(_FORMULA_START) else text


def _uncell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:2] in _FORMULA_START else value


def as_read(value: object) -> str:
    """``value`` as ``read`` gives it back once ``append`` has written it (on one line, bounded by nothing)."""
    return _uncell(_cell(value))


def _when(value: str) -> dt.datetime | None:
    try:
        when = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when if 1912 <= when.year <= 2110 else None


def append(inbox: Path, row: dict[str, str]) -> None:
    """Add one row (keys of ``COLUMNS``), writing the header first into a new ledger; flushed to disk."""
    path = ledger_path(inbox)
    fresh = not path.exists() or path.stat().st_size == 0
    with open(path, "ab") as handle:
        if fresh:
            handle.write(codecs.BOM_UTF8)
        elif _last_byte(path) not in (b"\n", b""):
            handle.write(b"\r\n")
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if fresh:
            writer.writerow([title for _, title in COLUMNS])
        writer.writerow([_cell(row.get(k, "")) for k, _ in COLUMNS])
        handle.write(buffer.getvalue().encode("utf-8"))
        platform.fsync(handle)


def _last_byte(path: Path) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return b""
        handle.seek(-1, os.SEEK_END)
        return handle.read(1)


def read(inbox: Path) -> dict[str, LedgerRow]:
    """Every file ingest saved into ``inbox``, by SHA-256 (the latest row wins); {} without a ledger."""
    try:
        raw = ledger_path(inbox).read_bytes()
    except OSError:
        return {}
    content = decode_csv_bytes(raw) or raw.decode("utf-8-sig", errors="replace")
    rows = list(csv.reader(io.StringIO(content)))
    if not rows:
        return {}
    titles = {title: k for k, title in COLUMNS}
    header = [titles.get(h.strip(), h.strip()) for h in rows[0]]
    if "sha256" not in header:  # no header line: the columns in their usual order
        header, body = [k for k, _ in COLUMNS], rows
    else:
        body = rows[1:]
    found: dict[str, LedgerRow] = {}
    for cells in body:
        entry = {k: _uncell(v.strip()) for k, v in zip(header, cells)}
        digest = entry.get("sha256", "").lower()
        if not _DIGEST.fullmatch(digest):
            continue
        found[digest] = LedgerRow(
            sha256=digest, saved_as=entry.get("saved_as", ""), sender=entry.get("sender", ""),
            subject=entry.get("subject", ""), date=_when(entry.get("date", "")),
            ingested_at=_when(entry.get("ingested_at", "")), message_id=entry.get("message_id", ""),
            source=entry.get("source", ""), unit_code=entry.get("unit_code", ""))
    return found
