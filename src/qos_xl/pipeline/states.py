"""File states: what each inbox file becomes in a merge of one period (PRODUCT.md, "What a file can become").

``decide`` looks at every file's report and returns a ``Decision`` per file id; it changes
no report.  ``apply`` makes the new reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from qos_xl.core.problems import Problem, make_problem
from qos_xl.core.report import FileReport
from qos_xl.core.values import Period, format_roc
from qos_xl.core.vocabulary import ACCEPTED, DUPLICATE, IGNORED, REJECTED, SELFCHECK, SUPERSEDED


@dataclass(frozen=True)
class Decision:
    """A file's state in this merge, the file it relates to, and problems the decision adds (first)."""

    state: str
    problems: tuple[Problem, ...] = ()
    duplicate_of: str | None = None
    superseded_by: str | None = None


def decide(files: list[FileReport], period: Period) -> dict[int, Decision]:
    """The state of every file for a merge of ``period``."""
    decisions = {f.id: Decision(f.state) for f in files}
    first_by_hash: dict[str, FileReport] = {}
    for report in sorted(files, key=lambda f: (f.mtime, f.file)):
        if report.state == IGNORED or not report.size:
            continue
        original = first_by_hash.setdefault(report.sha256, report)
        if original is not report:
            decisions[report.id] = Decision(DUPLICATE, duplicate_of=original.file)
    for report in files:
        if decisions[report.id].state != ACCEPTED:
            continue
        expected = str(period) if report.form == SELFCHECK else str(period.year)
        if report.period and report.period != expected:
            decisions[report.id] = Decision(REJECTED, (make_problem("period-other", file=report.file, found=report.period,
                                                                    expected=expected),))
    groups: dict[tuple, list[FileReport]] = {}
    for report in files:
        if decisions[report.id].state == ACCEPTED:
            groups.setdefault((report.unit_code, report.form, report.period), []).append(report)
    for group in groups.values():
        decisions.update(_supersede(group))
    return decisions


def _supersede(group: list[FileReport]) -> dict[int, Decision]:
    group = sorted(group, key=lambda f: (f.report_date or dt.date.min, f.mtime), reverse=True)
    latest = group[0]
    decided: dict[int, Decision] = {}
    rivals = [f for f in group[1:] if f.report_date and f.report_date == latest.report_date]
    if rivals:
        for report in [latest, *rivals]:
            others = "、".join(o.file for o in (latest, *rivals) if o is not report)
            decided[report.id] = Decision(REJECTED, (make_problem("submission-conflict", file=report.file,
                                                                  report_date=format_roc(report.report_date), other=others),))
        latest = None
    for report in group:
        if report is not latest and report.id not in decided:
            decided[report.id] = Decision(SUPERSEDED, superseded_by=latest.file if latest is not None else None)
    return decided


def apply(files: list[FileReport], decisions: dict[int, Decision]) -> list[FileReport]:
    """The reports with their decided state, related file and added problems."""
    made = []
    for report in files:
        decision = decisions[report.id]
        report = replace(report, state=decision.state, duplicate_of=decision.duplicate_of,
                         superseded_by=decision.superseded_by)
        made.append(report.with_problems(*decision.problems, first=True) if decision.problems else report)
    return made
