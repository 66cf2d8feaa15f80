"""The report on one file: its identity, what was found in it, its problems and its final state.

A ``FileReport`` is immutable.  Each stage (load, validate, provenance, states) returns new
facts and a new report built with ``dataclasses.replace``; no stage writes into another's.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from qos_xl.core.problems import Problem, make_problem
from qos_xl.core.vocabulary import ACCEPTED, FORM_NAMES, IGNORED, STATE_NAMES, STATES

SHORT_HASH = 12      # the characters of the SHA-256 that replies, annotated copies and 收件紀錄 quote


@dataclass(frozen=True)
class Provenance:
    """How a file reached the inbox by e-mail, from the ingest ledger."""

    sender: str = ""
    subject: str = ""
    received: dt.datetime | None = None      # the message's Date header
    unit_code: str | None = None             # the unit the sender's address belongs to


@dataclass(frozen=True)
class FileReport:
    """Everything qos-xl learnt about one file."""

    id: int                                  # stable within one run: rows of every stage are keyed by it
    file: str                                # the name shown to users (relative to the folder read)
    path: Path | None = None                 # where it is on disk
    sha256: str = ""
    size: int = 0
    mtime: float = 0.0
    state: str | None = None
    unit: str | None = None
    unit_code: str | None = None
    form: str | None = None
    period: str | None = None
    report_date: dt.date | None = None
    problems: tuple[Problem, ...] = ()
    duplicate_of: str | None = None          # the file a duplicate repeats
    superseded_by: str | None = None         # the file that replaced a superseded one
    provenance: Provenance | None = None
    document: str | None = None              # a document's kind (pdf, docx, doc, odt): its feedback is the reply alone

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def short_hash(self) -> str:
        """The start of the file's SHA-256 that users are shown (``SHORT_HASH`` characters)."""
        return self.sha256[:SHORT_HASH]

    @property
    def hints(self) -> list[Problem]:
        """The quality hints among the warnings."""
        return [p for p in self.problems if p.is_hint]

    @property
    def valid(self) -> bool:
        return self.state != IGNORED and not self.errors

    def with_problems(self, *problems: Problem, first: bool = False) -> FileReport:
        """A new report with ``problems`` added (at the front with ``first``)."""
        added = tuple(problems)
        return replace(self, problems=added + self.problems if first else self.problems + added)

    def problem(self, code: str, **kwargs) -> Problem:
        """A problem about this file, built from its code's template."""
        return make_problem(code, file=self.file, **kwargs)

    def to_dict(self) -> dict:
        data = {
            "file": self.file,
            "sha256": self.sha256,
            "state": self.state,
            "unit": self.unit,
            "form": self.form,
            "period": self.period,
            "report_date": self.report_date.isoformat() if self.report_date else None,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "hints": len(self.hints),
            "problems": [p.to_dict() for p in self.problems],
        }
        if self.duplicate_of:
            data["duplicate_of"] = self.duplicate_of
        if self.superseded_by:
            data["superseded_by"] = self.superseded_by
        if self.provenance is not None:
            data["sender"] = self.provenance.sender
            data["received"] = self.provenance.received.isoformat() if self.provenance.received else None
        return data


def state_counts(reports: list[FileReport]) -> str:
    """接受 15（自行檢核表 8、工作計畫 7）、已被取代 1、退回 1: the files in each state, in the contract's order of
    states whatever the files' order, the accepted ones split by form when there are several."""
    counts = Counter(report.state for report in reports)
    forms = Counter(FORM_NAMES.get(report.form, "") for report in reports if report.state == ACCEPTED)
    parts = []
    for state in (*STATES, *sorted(set(counts) - set(STATES), key=str)):
        if counts[state]:
            split = f"（{'、'.join(f'{name} {n}' for name, n in forms.most_common())}）" if state == ACCEPTED and len(forms) > 1 else ""
            parts.append(f"{STATE_NAMES.get(state, state)} {counts[state]}{split}")
    return "、".join(parts)
