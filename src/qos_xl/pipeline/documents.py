"""What a document in the inbox becomes: a Word work plan, an award application, or a clear problem.

At load (``read_document``), a file the spreadsheet reader refused and that is a document
(PDF, Word, OpenDocument) is either read as a Word work plan or kept for later.  At
validation (``settle``), a document that is not a work plan is an award application
(參獎申請書, form ``award``, period ``<year>-08``) when its file name or the subject of the
e-mail it came with says so: it is given to a unit by a registry name in its file name,
else by the sender's address, and its content is not validated.  Anything else is a
problem that says what to send instead.
"""

from __future__ import annotations

import email.utils
from dataclasses import replace

from qos_xl.core.catalogue import Plan
from qos_xl.core.problems import FileProblem
from qos_xl.core.registry import Registry, Unit
from qos_xl.core.report import FileReport
from qos_xl.core.text import key
from qos_xl.core.values import Period
from qos_xl.core.vocabulary import AWARD, AWARD_WORDS, CHECKPOINT_FORMS, WORKPLAN
from qos_xl.intake.documents import DOC, DOCX, KIND_NAMES, KIND_SUFFIXES, ODT, Document
from qos_xl.intake.docx import read_docx
from qos_xl.intake.ledger import LedgerRow
from qos_xl.pipeline.locate import Submission
from qos_xl.pipeline.locate_docx import is_workplan, read_word_submission

AWARD_MONTH = next(month for month, form in CHECKPOINT_FORMS.items() if form == AWARD)


def is_award_name(text: str) -> bool:
    """Whether a file name or an e-mail subject names an award application."""
    folded = key(text)
    return any(word in folded for word in AWARD_WORDS)


def read_document(report: FileReport, document: Document) -> tuple[FileReport, Submission | None]:
    """A document's report at load, and the work plan read from it when it is a Word work plan."""
    report = replace(report, document=document.kind or document.claimed)
    if document.problem is not None:
        return report.with_problems(_problem(document.problem, report)), None
    if document.kind != DOCX or is_award_name(report.file):
        return report, None                       # settled with the ledger at validation
    try:
        word = read_docx(report.path)
    except FileProblem as problem:
        return report.with_problems(_problem(problem, report)), None
    if not is_workplan(word):
        return report, None
    submission = read_word_submission(word, report.file)
    report = replace(report, form=WORKPLAN).with_problems(*submission.problems)
    if document.has_macros:
        report = report.with_problems(report.problem("macro-ignored"))
    return report, submission


def _problem(problem: FileProblem, report: FileReport):
    return problem.problem(report.file)


def settle(report: FileReport, document: Document, plan: Plan, registry: Registry,
           ledger: dict[str, LedgerRow]) -> FileReport:
    """A document that is not a work plan: an award application given to a unit, or a problem."""
    row = ledger.get((report.sha256 or "").lower())
    if not (is_award_name(report.file) or (row is not None and is_award_name(row.subject))):
        if report.errors:
            return report                         # it cannot be opened: that is the reason already given
        return report.with_problems(_unrecognised(report, document))
    report = replace(report, form=AWARD, period=str(Period(plan.year, AWARD_MONTH)))
    unit = unit_in_name(registry, report.file) or _sender_unit(registry, row)
    if unit is not None:
        report = replace(report, unit=unit.name, unit_code=unit.code)
    else:
        report = report.with_problems(report.problem("award-unit-unknown"))
    if document.kind and document.claimed and document.kind != document.claimed and not report.errors:
        report = report.with_problems(report.problem("document-misnamed", suffix=KIND_SUFFIXES[document.claimed],
                                                     kind=KIND_NAMES[document.kind],
                                                     right=KIND_SUFFIXES[document.kind]))
    return report


def _unrecognised(report: FileReport, document: Document):
    if document.kind == DOC:
        return report.problem("document-doc")
    if document.kind == ODT:
        return report.problem("document-odt")
    return report.problem("document-unrecognised", kind=document.name)


def unit_in_name(registry: Registry, file_name: str) -> Unit | None:
    """The unit whose name, short name or alias the file name holds (the longest such name wins)."""
    folded = key(file_name)
    names = sorted(((key(name), unit) for unit in registry.units for name in unit.names if name),
                   key=lambda pair: len(pair[0]), reverse=True)
    return next((unit for name, unit in names if name and name in folded), None)


def _sender_unit(registry: Registry, row: LedgerRow | None) -> Unit | None:
    if row is None:
        return None
    if row.unit_code and (unit := registry.by_code(row.unit_code)):
        return unit
    address = email.utils.parseaddr(row.sender)[1]
    return registry.find_by_email(address) if address else None
