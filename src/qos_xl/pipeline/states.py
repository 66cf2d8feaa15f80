"""File states: what each inbox file becomes in its own period, and in a merge of one period.

PRODUCT.md, "What a file can become" and "The plan year".  ``decide`` gives every file its
state within its own period (accepted, superseded, duplicate, rejected, ignored);
``for_merge`` turns the files of the year's other periods into ``other-period`` for a merge
of one period; ``apply`` makes the new reports.  No report is changed in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from qos_xl.core.problems import Problem, make_problem
from qos_xl.core.report import FileReport
from qos_xl.core.text import text
from qos_xl.core.values import Period, format_roc
from qos_xl.core.vocabulary import (ACCEPTED, CHECKPOINT_FORMS, CHECKPOINT_MONTHS, DUPLICATE, IGNORED, OTHER_PERIOD, SELFCHECK,
                                    SELFCHECK_MONTHS, SUPERSEDED, WORKPLAN, WORKPLAN_SECTIONS)

if TYPE_CHECKING:
    from qos_xl.pipeline.checked import Checked

# what a file holds, by place in its form ("cell"), as text: two files with equal contents are one submission
Contents = dict[tuple, str]


@dataclass(frozen=True)
class Decision:
    """A file's state, the file it relates to, and problems the decision adds (first)."""

    state: str
    problems: tuple[Problem, ...] = ()
    duplicate_of: str | None = None
    superseded_by: str | None = None


# ---------------------------------------------------------------------------------------
# The plan year's periods


def checkpoint_periods(year: int) -> tuple[str, ...]:
    """The periods of the plan year in the order they come: 102, 102-06, 102-08, 102-12."""
    return tuple(str(Period(year, month)) for month in CHECKPOINT_MONTHS)


def checkpoints(year: int) -> set[tuple[str, str]]:
    """The (form, period) of each checkpoint of the plan year: (workplan, 102), (selfcheck, 102-06), ..."""
    return {(CHECKPOINT_FORMS[month], str(Period(year, month))) for month in CHECKPOINT_MONTHS}


def merged(period: Period) -> set[tuple[str, str]]:
    """The (form, period) a merge of ``period`` takes in: a self-check period takes the year's work plans too."""
    taken = {(CHECKPOINT_FORMS[period.month], str(period))}
    if period.month in SELFCHECK_MONTHS:
        taken.add((WORKPLAN, str(period.year)))
    return taken


def received(report: FileReport) -> float:
    """When the file arrived: the e-mail's date from the ingest ledger, else the file's modification time."""
    when = report.provenance.received if report.provenance is not None else None
    return when.timestamp() if when is not None else report.mtime


# ---------------------------------------------------------------------------------------
# Deciding


def decide(files: list[FileReport], contents: Callable[[list[int]], dict[int, Contents]]) -> dict[int, Decision]:
    """Every file's state within its own period (its unit, form and period).

    ``contents(ids)``: what those files hold (see ``read_contents``); asked once, only for
    files that have a rival of the same unit, form and period.
    """
    decisions = {f.id: Decision(f.state) for f in files}
    by_arrival = sorted(files, key=lambda f: (received(f), f.file))
    first_by_hash: dict[str, FileReport] = {}
    for report in by_arrival:
        if report.state == IGNORED or not report.size:
            continue
        original = first_by_hash.setdefault(report.sha256, report)
        if original is not report:
            decisions[report.id] = Decision(DUPLICATE, duplicate_of=original.file)
    groups: dict[tuple, list[FileReport]] = {}
    for report in by_arrival:
        if report.form and report.state != IGNORED and decisions[report.id].state != DUPLICATE:
            groups.setdefault((report.unit_code or report.unit, report.form, report.period), []).append(report)
    rivals = [f for group in groups.values() if len(group) > 1 for f in group if f.form in (SELFCHECK, WORKPLAN)]
    held = contents([f.id for f in rivals]) if rivals else {}
    for group in groups.values():
        if len(group) > 1:
            decisions.update(_same_content(group, held))
            kept = [f for f in group if decisions[f.id].state == ACCEPTED]
            if len(kept) > 1:
                decisions.update(_supersede(kept, held))
    return decisions


def _same_content(group: list[FileReport], held: dict[int, Contents]) -> dict[int, Decision]:
    """Later arrivals holding exactly what an earlier file of the group holds (a re-save) are its duplicates."""
    decided: dict[int, Decision] = {}
    originals: list[FileReport] = []
    for report in group:   # in order of arrival
        mine = held.get(report.id)
        original = next((o for o in originals if mine is not None and held.get(o.id) == mine
                         and o.valid == report.valid), None)
        if original is None:
            originals.append(report)
        else:
            decided[report.id] = Decision(DUPLICATE, duplicate_of=original.file)
    return decided


def _supersede(group: list[FileReport], held: dict[int, Contents]) -> dict[int, Decision]:
    """The latest 填報日期 wins; on the same date the later arrival wins and both files say so."""
    group = sorted(group, key=lambda f: (f.report_date or dt.date.min, received(f), f.file), reverse=True)
    latest = group[0]
    warnings: list[Problem] = []
    decided: dict[int, Decision] = {}
    for report in group[1:]:
        same_date = report.report_date is not None and report.report_date == latest.report_date
        added = ()
        if same_date:
            cells = differing_cells(held.get(latest.id, {}), held.get(report.id, {}))
            date = format_roc(latest.report_date)
            warnings.append(make_problem("same-report-date", file=latest.file, other=report.file, kept=latest.file,
                                         report_date=date, cells=cells))
            added = (make_problem("same-report-date", file=report.file, other=latest.file, kept=latest.file,
                                  report_date=date, cells=cells),)
        decided[report.id] = Decision(SUPERSEDED, added, superseded_by=latest.file)
    if warnings:
        decided[latest.id] = Decision(ACCEPTED, tuple(warnings))
    return decided


def differing_cells(one: Contents, other: Contents) -> int:
    """How many places of the form hold different values in two files."""
    return sum(1 for place in one.keys() | other.keys() if one.get(place, "") != other.get(place, ""))


def for_merge(files: list[FileReport], decisions: dict[int, Decision], period: Period) -> dict[int, Decision]:
    """The states in a merge of ``period``: files of the plan year's other periods are ``other-period``."""
    taken = merged(period)
    year = checkpoints(period.year) - taken
    made = {}
    for report in files:
        decision = decisions[report.id]
        if (report.form, report.period) in year and decision.state != IGNORED:
            decision = Decision(OTHER_PERIOD)
        made[report.id] = decision
    return made


def apply(files: list[FileReport], decisions: dict[int, Decision]) -> list[FileReport]:
    """The reports with their decided state and related file; problems added, or none for another period's file."""
    made = []
    for report in files:
        decision = decisions[report.id]
        report = replace(report, state=decision.state, duplicate_of=decision.duplicate_of,
                         superseded_by=decision.superseded_by)
        if decision.state == OTHER_PERIOD:      # judged in its own period's merge, not in this one
            report = replace(report, problems=())
        elif decision.problems:
            report = report.with_problems(*decision.problems, first=True)
        made.append(report)
    return made


# ---------------------------------------------------------------------------------------
# What a file holds


_HEADER_FIELDS = {SELFCHECK: ("unit_raw", "period_raw", "filler", "phone", "report_raw"),
                  WORKPLAN: ("unit_raw", "period_raw", *WORKPLAN_SECTIONS)}
_ROW_FIELDS = {SELFCHECK: ("status_raw", "narrative", "done_raw", "evidence", "remarks"),
               WORKPLAN: ("area_raw", "focus", "method", "remarks")}


def read_contents(checked: Checked, ids: Iterable[int]) -> dict[int, Contents]:
    """Every value qos-xl reads from these files, as text, by place: header fields, then each
    self-check step (by 項次) or work-plan row (by its order in the table)."""
    wanted = set(ids)
    found: dict[int, Contents] = {fid: {} for fid in wanted}
    headers = checked.headers
    if not headers.empty:
        for fid in wanted & set(headers.index):
            form = headers.at[fid, "form"]
            for name in _HEADER_FIELDS.get(form, ()):
                found[fid][("header", name)] = text(headers.at[fid, name])
    for form, frame in ((SELFCHECK, checked.selfcheck), (WORKPLAN, checked.workplan)):
        if frame.empty:
            continue
        fids = frame.index.get_level_values("fid")
        rows = frame[fids.isin(list(wanted)) & frame["present"]]
        places = rows["code"].tolist() if form == SELFCHECK else [None] * len(rows)
        seen: dict[tuple, int] = {}
        for fid, place, *values in zip(rows.index.get_level_values("fid").tolist(), places,
                                       *(rows[name].tolist() for name in _ROW_FIELDS[form])):
            at = (fid, place)
            seen[at] = number = seen.get(at, 0) + 1        # a repeated 項次, or the n-th work-plan row
            for name, value in zip(_ROW_FIELDS[form], values):
                found[fid][(place, number, name)] = text(value)
    return found

