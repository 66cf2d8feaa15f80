"""The receipts of ``qos-xl ingest``: one text file per message, the reply the secretariat sends back.

A receipt is written atomically under ``<ROC date>_<unit>_<hash of the Message-ID>.txt``, and
depends only on the message and what became of its files (``pipeline.ingest``), so ingesting
the same mail again rewrites every receipt byte for byte.  Its text is ``reply.mail_receipt``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from qos_xl.core.files import write_text_atomic
from qos_xl.core.names import safe_filename
from qos_xl.core.values import format_roc
from qos_xl.output.reply import Sender, mail_receipt
from qos_xl.pipeline.ingest import IngestResult, MailMessage


def check_folder(receipts_dir: Path, inbox: Path) -> None:
    """ValueError (a zh-TW sentence) when the receipts would land in the inbox, where the next merge would read them."""
    if Path(receipts_dir).resolve().is_relative_to(Path(inbox).resolve()):
        raise ValueError(f"回覆文字資料夾 {receipts_dir} 不可位於收件匣 {inbox} 之內，否則下次彙整會把回覆文字當成繳交檔案。")


def receipt_path(message: MailMessage, receipts_dir: Path) -> Path:
    """``<ROC date>_<unit>_<hash of the Message-ID, else of the message>.txt``; undated messages get no date."""
    key = message.message_id or message.fingerprint or f"{message.source}|{message.subject}|{message.date}"
    short = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    day = format_roc(message.received, compact=True) if message.received else "未註明日期"
    return Path(receipts_dir) / safe_filename(f"{day}_{message.unit}_{short}.txt")


def write_receipts(result: IngestResult, receipts_dir: Path, sender: Sender) -> IngestResult:
    """A receipt for every message that was read (an unreadable message without files gets none),
    signed as ``sender`` says; the result again, each message with its receipt's path."""
    check_folder(receipts_dir, result.inbox)
    receipts_dir = Path(receipts_dir)
    done = []
    for message in result.messages:
        if message.reason and not message.attachments:
            done.append(message)
            continue
        target = receipt_path(message, receipts_dir)
        write_text_atomic(target, mail_receipt(message, sender))
        done.append(replace(message, receipt=str(target)))
    return replace(result, messages=done, receipts_dir=receipts_dir)
