"""Provenance: who sent each inbox file and when, from the ingest ledger, and a warning when the
sender belongs to another unit than the one the workbook names."""

from __future__ import annotations

import email.utils
from dataclasses import replace

from qos_xl.core.registry import Registry
from qos_xl.core.report import FileReport, Provenance
from qos_xl.intake.ledger import LedgerRow


def with_provenance(files: list[FileReport], ledger: dict[str, LedgerRow], registry: Registry) -> list[FileReport]:
    """New reports carrying their ledger row's sender and date; files the ledger does not know stay as they are."""
    made = []
    for report in files:
        row = ledger.get((report.sha256 or "").lower())
        if row is None:
            made.append(report)
            continue
        report = replace(report, provenance=Provenance(sender=row.sender, subject=row.subject, received=row.date,
                                                       unit_code=row.unit_code or None))
        sender_unit = registry.by_code(row.unit_code) if row.unit_code else None
        if sender_unit and report.unit_code and report.unit_code != sender_unit.code \
                and not any(p.code == "sender-unit-mismatch" for p in report.problems):
            _, address = email.utils.parseaddr(row.sender)
            report = report.with_problems(report.problem("sender-unit-mismatch", sender=address or row.sender,
                                                         sender_unit=sender_unit.name, unit=report.unit or report.unit_code))
        made.append(report)
    return made
