"""Merging: every inbox file read, validated and given a state; accepted submissions combined and rated.

``merge`` is the library behind ``qos-xl merge`` and ``qos-xl status``: it reads the inbox
once, the whole plan year, and returns a ``MergeResult`` for one period (the files of the
year's other periods listed as such, June compared with December) that the consolidated
workbook, the feedback and the command line read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from qos_xl.core.catalogue import Plan
from qos_xl.core.names import safe_filename
from qos_xl.core.registry import Registry, Unit
from qos_xl.core.report import FileReport
from qos_xl.core.values import Period
from qos_xl.core.vocabulary import (ACCEPTED, CHECKPOINT_FORMS, DONE, NOT_APPLICABLE, REJECTED, SELFCHECK, SELFCHECK_MONTHS,
                                    WORKPLAN)
from qos_xl.intake import ledger
from qos_xl.pipeline import states
from qos_xl.pipeline.compare import Comparison, compare
from qos_xl.pipeline.hints import with_hints
from qos_xl.pipeline.load import Loading, list_inbox
from qos_xl.pipeline.provenance import with_provenance
from qos_xl.pipeline.rates import NO_RATE, Rate, completion, total

if TYPE_CHECKING:
    import pandas as pd

    from qos_xl.pipeline.checked import Checked


@dataclass
class MergeResult:
    plan: Plan
    registry: Registry
    period: Period
    made_at: dt.datetime
    files: list[FileReport]
    selfcheck: pd.DataFrame        # accepted self-check rows, one per step per unit
    workplan: pd.DataFrame         # accepted work-plan rows
    area_rates: dict[int, Rate]    # the bureau's rate per area
    unit_rates: dict[str, dict[int, Rate]]  # unit code -> area -> rate
    missing: dict[str, list[Unit]]  # form of this period -> units that sent no file of it
    returned: dict[str, list[Unit]]  # form of this period -> units whose files of it were all rejected (退回待修正)
    output: Path | None = None
    notes: list[str] = field(default_factory=list)
    year_files: list[FileReport] | None = None  # every file with its state in its own period (None: as ``files``)
    comparison: Comparison | None = None        # December against June, in a December merge with June files
    unfinished_steps: int | None = None         # the count of ``unfinished``, kept once the rows are let go

    def written(self, output: Path | None) -> MergeResult:
        """This result once its rows are in the workbook at ``output`` (None: it could not be written): a new
        result without the combined rows (hundreds of MB at city scale), every count and rate the same."""
        return replace(self, output=output, selfcheck=self.selfcheck.iloc[:0].copy(),
                       workplan=self.workplan.iloc[:0].copy(), unfinished_steps=self.unfinished_count)

    @property
    def unfinished_count(self) -> int:
        """How many due steps are neither 已完成 nor 不適用 (kept by ``written``)."""
        return len(self.unfinished) if self.unfinished_steps is None else self.unfinished_steps

    @property
    def form(self) -> str:
        """The form units send for this period: the self-check, the award application or (the year) the work plan."""
        return CHECKPOINT_FORMS[self.period.month]

    @property
    def year(self) -> list[FileReport]:
        """Every file with its state in its own period's merge."""
        return self.files if self.year_files is None else self.year_files

    @property
    def waiting(self) -> list[Unit]:
        """Units that sent nothing of this period's form, or only rejected files."""
        return [*self.missing.get(self.form, []), *self.returned.get(self.form, [])]

    @property
    def overall(self) -> Rate:
        return total(self.area_rates.values())

    def unit_overall(self, code: str) -> Rate:
        return total(self.unit_rates[code].values())

    @property
    def accepted_units(self) -> list[Unit]:
        return [u for u in self.registry.units if u.code in self.unit_rates]

    @property
    def unfinished(self) -> pd.DataFrame:
        """Due steps neither 已完成 nor 不適用, per unit."""
        frame = self.selfcheck
        if frame.empty:
            return frame
        return frame[frame["due"] & ~frame["status"].isin([DONE, NOT_APPLICABLE])]

    @property
    def has_problems(self) -> bool:
        return any(f.state == REJECTED for f in self.files)

    @property
    def missing_names(self) -> dict[str, list[str]]:
        """Form -> names of the units that sent no file of it."""
        return {form: [u.name for u in units] for form, units in self.missing.items()}

    @property
    def returned_names(self) -> dict[str, list[str]]:
        """Form -> names of the units whose files of it were all rejected."""
        return {form: [u.name for u in units] for form, units in self.returned.items()}

    @property
    def submission(self) -> dict:
        """Units expected, with a file of this period's form received, and accepted."""
        expected = len(self.registry.units)
        mine = [f for f in self.files if f.form == self.form and f.unit_code and f.period == str(self.period)]
        accepted = len({f.unit_code for f in mine if f.state == ACCEPTED})
        submitted = len({f.unit_code for f in mine})
        return {"expected": expected, "submitted": submitted, "accepted": accepted,
                "rate": round(accepted / expected, 4) if expected else None}

    def to_dict(self) -> dict:
        return {
            "output": str(self.output) if self.output else None,
            "period": str(self.period),
            "plan_year": self.plan.year,
            "made_at": self.made_at.isoformat(timespec="seconds"),
            "files": [f.to_dict() for f in self.files],
            "form": self.form,
            "missing": [u.name for u in self.missing.get(self.form, [])],
            "returned": [u.name for u in self.returned.get(self.form, [])],
            "missing_by_form": self.missing_names,
            "returned_by_form": self.returned_names,
            "submission": self.submission,
            "completion": {
                "areas": [{"area": a.number, "name": a.title, **self.area_rates[a.number].to_dict()} for a in self.plan.areas],
                "overall": self.overall.to_dict(),
                "units": [{"unit": u.name, "code": u.code, "overall": self.unit_overall(u.code).to_dict(),
                           "areas": [{"area": a.number, **self.unit_rates[u.code][a.number].to_dict()} for a in self.plan.areas]}
                          for u in self.accepted_units],
            },
            "unfinished": self.unfinished_count,
            "comparison": self.comparison.to_dict() if self.comparison else None,
            "notes": self.notes,
        }


def choose_period(files: list[FileReport], plan: Plan) -> Period:
    """The latest self-check period found among valid files, else the plan year's June."""
    found = [Period.parse(f.period) for f in files
             if f.form == SELFCHECK and f.valid and f.period and f.period.startswith(f"{plan.year}-")]
    return max(found) if found else Period(plan.year, 6)


def accepted_rows(frame: pd.DataFrame, files: list[FileReport], form: str) -> pd.DataFrame:
    """The rows of ``frame`` (indexed by file id) that belong to accepted files of ``form``, with unit and file."""
    import pandas as pd

    by_id = {f.id: f for f in files if f.state == ACCEPTED and f.form == form}
    if frame.empty or not by_id:
        return pd.DataFrame()
    rows = frame[frame.index.get_level_values("fid").isin(list(by_id)) & frame["present"]].copy()
    fid = rows.index.get_level_values("fid")
    rows["unit_code"] = [by_id[i].unit_code for i in fid]
    rows["unit"] = [by_id[i].unit for i in fid]
    rows["file"] = [by_id[i].file for i in fid]
    return rows


@dataclass
class Intake:
    """The inbox read once and validated, each file with its state in its own period: all ``status`` needs."""

    plan: Plan
    registry: Registry
    files: list[FileReport]          # with provenance, before any period's states
    year: list[FileReport]           # every file with its state in its own period
    decided: dict[int, states.Decision]   # file id -> its state in its own period
    checked: Checked


def take_in(inbox: Path, plan: Plan, registry: Registry, *, jobs: int | None = None, progress=None,
            states_only: bool = False) -> Intake:
    """Read and validate the whole inbox once and give each file its state in its own period
    (``states_only``: the rules that can reject a file, no warnings — what ``status`` needs)."""
    loading = Loading(list_inbox([inbox]), jobs, progress)  # the workers start reading now...
    from qos_xl.pipeline.validate import check  # ...while pandas and pandera load here

    rows = ledger.read(inbox)
    checked = check(loading.results(), plan, registry, rows, states_only=states_only)
    files = with_provenance(checked.files, rows, registry)
    own = states.decide(files, lambda ids: states.read_contents(checked, ids))
    return Intake(plan, registry, files, states.apply(files, own), own, checked)


def merge(inbox: Path, plan: Plan, registry: Registry, period: Period | None = None, *,
          jobs: int | None = None, progress=None) -> MergeResult:
    """Read and validate the whole inbox once, give each file its state, combine and rate the period's accepted files."""
    intake = take_in(inbox, plan, registry, jobs=jobs, progress=progress)
    checked, year = intake.checked, intake.year
    notes = []
    if period is None:
        period = choose_period(intake.files, plan)
        notes.append(f"未指定期別，依收件匣內容採用 {period}。")
    files = states.apply(intake.files, states.for_merge(intake.files, intake.decided, period))
    files = with_hints(files, checked, plan)     # quality hints: warnings only, once the states are decided
    selfcheck = accepted_rows(checked.selfcheck, files, SELFCHECK)
    workplan = accepted_rows(checked.workplan, files, WORKPLAN)
    unit_rates = completion(selfcheck, plan)
    area_rates = {a.number: total(r.get(a.number, NO_RATE) for r in unit_rates.values()) for a in plan.areas}
    missing, returned = submissions(files, registry, period)
    comparison = None
    if period.month == max(SELFCHECK_MONTHS):
        june = Period(period.year, min(SELFCHECK_MONTHS))
        earlier = accepted_rows(checked.selfcheck, [f for f in year if f.period == str(june)], SELFCHECK)
        comparison = compare(earlier, selfcheck, plan, registry, june, period)
    return MergeResult(plan, registry, period, dt.datetime.now().replace(microsecond=0), files, selfcheck, workplan,
                       area_rates, unit_rates, missing, returned, notes=notes, year_files=year, comparison=comparison)


def merge_forms(period: Period) -> tuple[str, ...]:
    """The forms a merge of ``period`` takes in: a self-check period takes the year's work plans too."""
    form = CHECKPOINT_FORMS[period.month]
    return (form, WORKPLAN) if period.month in SELFCHECK_MONTHS else (form,)


def submissions(files: list[FileReport], registry: Registry,
                period: Period) -> tuple[dict[str, list[Unit]], dict[str, list[Unit]]]:
    """Per form of the period: the units that sent nothing, and those whose files were all rejected."""
    accepted = {(f.unit_code, f.form) for f in files if f.state == ACCEPTED}
    rejected = {(f.unit_code, f.form) for f in files if f.state == REJECTED}
    missing, returned = {}, {}
    for form in merge_forms(period):
        waiting = [u for u in registry.units if (u.code, form) not in accepted]
        missing[form] = [u for u in waiting if (u.code, form) not in rejected]
        returned[form] = [u for u in waiting if (u.code, form) in rejected]
    return missing, returned


def output_name(plan: Plan, period: Period) -> str:
    """The consolidated workbook's file name (through safe_filename, as every name qos-xl makes)."""
    return safe_filename(f"{plan.year}年度提升服務品質彙整_{period}.xlsx")
