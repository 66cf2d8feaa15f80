"""Ingest: the files that messages bring, saved into the inbox once, with a ledger row and a
validation; the result objects of ``qos-xl ingest`` (the receipts are ``output/receipts.py``).

A file is saved as ``<ROC date>_<sender unit>_<original name>`` (the name through
``safe_filename``; a name that could not be decoded becomes the unit and a short hash), written
atomically with the user's umask, and recorded in the ledger (``intake.ledger``); a file whose
SHA-256 is already in the inbox is not saved again.  Every saved file is validated by the
pipeline with its provenance, so a sender of another unit gets ``sender-unit-mismatch``.

What a message's files became depends only on the message and on the inbox before it: the
message's own earlier files are recognised from the ledger (``reimported``), so ingesting the
same mail again gives the same result, and the same receipts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from qos_xl.core.files import write_bytes_atomic
from qos_xl.core.names import safe_filename, split_suffix
from qos_xl.core.registry import Registry, Unit
from qos_xl.core.report import FileReport
from qos_xl.core.values import format_roc
from qos_xl.intake import ledger, zipguard
from qos_xl.intake.mail import messages, sources
from qos_xl.intake.mail.attachments import SPREADSHEET, Found
from qos_xl.intake.mail.headers import TAIPEI
from qos_xl.pipeline.load import is_clutter, list_inbox

UNKNOWN_SENDER = "未知寄件者"
SAVED, ALREADY, REJECTED = "saved", "already-in-inbox", "rejected"


@dataclass
class Attachment:
    """One file found in a message (a spreadsheet or a submitted document), and what became of it."""

    name: str
    state: str
    kind: str = SPREADSHEET
    saved_as: str | None = None
    sha256: str | None = None
    reason: str | None = None
    report: FileReport | None = field(default=None, repr=False)
    reimported: bool = False  # already in the inbox because this same message was ingested before

    def to_dict(self) -> dict:
        data = {"name": self.name, "kind": self.kind, "saved_as": self.saved_as, "sha256": self.sha256,
                "state": self.state, "reason": self.reason}
        if self.report is not None:
            r = self.report
            data["validation"] = {"state": r.state, "unit": r.unit, "form": r.form, "period": r.period,
                                  "errors": len(r.errors), "warnings": len(r.warnings),
                                  "problems": [p.to_dict() for p in r.problems]}
        return data


@dataclass
class MailMessage:
    """One message as read from a source, with its files."""

    source: str
    sender: str = ""
    address: str = ""
    subject: str = ""
    date: str = ""
    message_id: str = ""
    unit: str = UNKNOWN_SENDER
    unit_code: str | None = None
    unit_name: str | None = None
    unit_names: tuple[str, ...] = ()     # every name of the sender's unit (full, short, aliases)
    received: dt.datetime | None = None  # the Date header in Taipei time
    when: dt.datetime | None = None      # names saved files: Date header, else ingest time
    display: str = ""                    # the sender's display name
    fingerprint: str = ""                # SHA-256 of the message's bytes
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
    messages: list[MailMessage] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)   # sources given that do not exist
    receipts_dir: Path | None = None                   # where the receipts went (``receipts.write_receipts``)

    def count(self, state: str) -> int:
        return sum(a.state == state for m in self.messages for a in m.attachments)

    @property
    def saved(self) -> int:
        return self.count(SAVED)

    @property
    def has_problems(self) -> bool:
        """A source missing, a message unreadable, a file refused, or a saved file that fails validation."""
        return bool(self.missing) or any(m.reason for m in self.messages) or any(
            a.state == REJECTED or (a.report is not None and a.report.errors)
            for m in self.messages for a in m.attachments)

    def to_dict(self) -> dict:
        return {"inbox": str(self.inbox), "ledger": str(ledger.ledger_path(self.inbox)),
                "receipts_dir": None if self.receipts_dir is None else str(self.receipts_dir),
                "messages": [m.to_dict() for m in self.messages],
                "saved": self.saved, "already_in_inbox": self.count(ALREADY), "rejected": self.count(REJECTED),
                "unreadable": sum(1 for m in self.messages if m.reason), "missing_sources": list(self.missing)}


def ingest(sources_given: list[Path], inbox: Path, plan, registry: Registry, *,
           now: dt.datetime | None = None, limits: zipguard.Limits | None = None) -> IngestResult:
    """Save the spreadsheets and submitted documents of the given mail into ``inbox`` and validate them;
    the library behind ``qos-xl ingest``, which first refuses a receipts folder inside the inbox
    (``receipts.check_folder``) and then writes the receipts (``receipts.write_receipts``)."""
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    now = (now or dt.datetime.now(TAIPEI)).astimezone(TAIPEI)
    limits = limits or zipguard.Limits()
    inbox_files = _Inbox(inbox)
    read: list[MailMessage] = []
    missing: list[str] = []
    seen: set[Path] = set()
    for source in sources_given:
        source = Path(source)
        if not source.exists():
            missing.append(str(source))
            continue
        if source.resolve() in seen:
            continue
        seen.add(source.resolve())
        for raw in sources.read_source(source):
            mail = messages.read(raw, limits)
            message = _describe(mail, registry, now)
            message.attachments = [inbox_files.save(found, message, now) for found in mail.found]
            message.attachments += [Attachment(name=r.name, state=REJECTED, sha256=r.sha256, reason=r.reason)
                                    for r in mail.refused]
            read.append(message)
    return IngestResult(inbox, _validated(read, inbox, plan, registry), missing)


def _sender_unit(registry: Registry, address: str) -> Unit | None:
    if not address or "@" not in address:
        return None
    try:
        return registry.find_by_email(address)
    except Exception:
        return None


def _describe(mail: messages.Mail, registry: Registry, now: dt.datetime) -> MailMessage:
    display, address = mail.display, mail.address
    sender = f"{display} <{address}>" if display and address else (address or display)
    unit = _sender_unit(registry, address)
    return MailMessage(
        source=mail.source, sender=sender, address=address.lower(), subject=mail.subject,
        date=mail.date.isoformat(timespec="seconds") if mail.date else mail.date_text, message_id=mail.message_id,
        unit=unit.short_name if unit else UNKNOWN_SENDER, unit_code=unit.code if unit else None,
        unit_name=unit.name if unit else None, unit_names=unit.names if unit else (), received=mail.date,
        when=mail.date or now, display=display, fingerprint=mail.fingerprint,
        others=list(mail.others), notes=list(mail.notes), reason=mail.reason,
    )


def _same_message(row: ledger.LedgerRow, message: MailMessage) -> bool:
    """Whether a ledger row was written for this message: same Message-ID, or, without one, the same
    sender, subject and date."""
    if message.message_id or row.message_id:
        return row.message_id == ledger.as_read(message.message_id)
    return (row.sender, row.subject, row.date) == (ledger.as_read(message.sender), ledger.as_read(message.subject),
                                                   message.received)


class _Inbox:
    """The inbox as it was before this run, and what this run adds to it."""

    def __init__(self, inbox: Path):
        self.folder = inbox
        self.known = _inbox_hashes(inbox)                 # SHA-256 -> file name in the inbox
        self.rows = ledger.read(inbox)                    # SHA-256 -> the ledger's row
        self.first: dict[str, MailMessage] = {}           # SHA-256 -> the message that saved it in this run

    def save(self, found: Found, message: MailMessage, now: dt.datetime) -> Attachment:
        digest = hashlib.sha256(found.data).hexdigest()
        if digest in self.known:
            first = self.first.get(digest)
            row = self.rows.get(digest)
            again = first is message or (first is None and row is not None and _same_message(row, message))
            return Attachment(name=found.name, state=ALREADY, kind=found.kind, saved_as=self.known[digest],
                              sha256=digest, reimported=again)
        target = _unique_target(self.folder, _saved_name(found, message, digest))
        write_bytes_atomic(target, found.data)
        self.known[digest] = target.name
        self.first[digest] = message
        ledger.append(self.folder, {
            "ingested_at": now.isoformat(timespec="seconds"), "source": message.source, "sender": message.sender,
            "subject": message.subject, "date": message.date, "message_id": message.message_id, "sha256": digest,
            "saved_as": target.name, "unit_code": message.unit_code or "",
        })
        return Attachment(name=found.name, state=SAVED, kind=found.kind, saved_as=target.name, sha256=digest)


def _saved_name(found: Found, message: MailMessage, digest: str) -> str:
    """<ROC date>_<unit>_<original name>; a name that could not be decoded gives the unit and a short hash."""
    original = found.original
    if "\ufffd" in original:
        original = digest[:8]
    if split_suffix(original)[1].lower() != found.suffix:
        original += found.suffix
    return safe_filename(f"{format_roc(message.when, compact=True)}_{message.unit}_{original}", fallback="附件")


def _inbox_hashes(inbox: Path) -> dict[str, str]:
    """SHA-256 -> name of every file already in the inbox (clutter and the ledger excluded)."""
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


def _validated(read: list[MailMessage], inbox: Path, plan, registry: Registry) -> list[MailMessage]:
    """The messages again, each saved (or already present) file with its validation, provenance from the ledger."""
    from qos_xl.pipeline.provenance import with_provenance
    from qos_xl.pipeline.validate import validate_paths      # pandas and pandera: only once there are files

    wanted = {a.saved_as for m in read for a in m.attachments if a.state in (SAVED, ALREADY) and a.saved_as}
    paths = [inbox / name for name in sorted(wanted) if (inbox / name).is_file()]
    if not paths:
        return read
    checked = validate_paths(paths, plan, registry)
    reports = {Path(r.path).name: r for r in with_provenance(checked.files, ledger.read(inbox), registry)}
    return [replace(m, attachments=[replace(a, report=reports.get(a.saved_as)) if a.saved_as else a
                                    for a in m.attachments]) for m in read]
