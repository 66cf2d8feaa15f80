"""Merging: one state per inbox file, the accepted submissions combined, completion rates.

States (PRODUCT.md): accepted, superseded (an older valid submission of the same unit,
form and period), duplicate (byte-identical to another file), rejected; office clutter
is ignored.  Rates sum numerators and denominators, never average unit rates.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qos_xl.core.catalogue import Plan
from qos_xl.pipeline.load import Loading, list_inbox
from qos_xl.core.problems import FileReport, make_problem
from qos_xl.pipeline.locate import SELFCHECK, WORKPLAN
from qos_xl.core.registry import Registry, Unit
from qos_xl.core.values import Period

if TYPE_CHECKING:
    import pandas as pd

    from qos_xl.pipeline.validate import Checked

DONE, NOT_APPLICABLE = "已完成", "不適用"


@dataclass(frozen=True)
class Rate:
    """Completed over applicable (steps due minus 不適用)."""

    completed: int
    applicable: int

    @property
    def rate(self) -> float | None:
        return round(self.completed / self.applicable, 4) if self.applicable else None

    @property
    def label(self) -> str:
        """83.3% (10/12), or — when nothing is applicable; halves round up, as spreadsheets do."""
        if not self.applicable:
            return "—"
        percent = (Decimal(self.completed * 100) / self.applicable).quantize(Decimal("0.1"), ROUND_HALF_UP)
        return f"{percent}% ({self.completed}/{self.applicable})"

    def __add__(self, other: "Rate") -> "Rate":
        return Rate(self.completed + other.completed, self.applicable + other.applicable)

    def to_dict(self) -> dict:
        return {"completed": self.completed, "applicable": self.applicable, "rate": self.rate}


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
    missing: dict[str, list[Unit]]  # form -> units with no accepted file
    checked: Checked | None = None
    output: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def overall(self) -> Rate:
        return sum(self.area_rates.values(), Rate(0, 0))

    def unit_overall(self, code: str) -> Rate:
        return sum(self.unit_rates[code].values(), Rate(0, 0))

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
        return any(f.state == "rejected" for f in self.files)

    @property
    def missing_names(self) -> dict[str, list[str]]:
        """Form -> names of the units with no accepted file."""
        return {form: [u.name for u in units] for form, units in self.missing.items()}

    @property
    def submission(self) -> dict:
        """Units expected, with a self-check for the period received, and accepted."""
        expected = len(self.registry.units)
        accepted = len(self.unit_rates)
        submitted = len({f.unit_code for f in self.files if f.form == SELFCHECK and f.unit_code and f.period == str(self.period)})
        return {"expected": expected, "submitted": submitted, "accepted": accepted,
                "rate": round(accepted / expected, 4) if expected else None}

    def to_dict(self) -> dict:
        return {
            "output": str(self.output) if self.output else None,
            "period": str(self.period),
            "plan_year": self.plan.year,
            "made_at": self.made_at.isoformat(timespec="seconds"),
            "files": [f.to_dict() for f in self.files],
            "missing": [u.name for u in self.missing[SELFCHECK]],
            "missing_by_form": self.missing_names,
            "submission": self.submission,
            "completion": {
                "areas": [{"area": a.number, "name": a.title, **self.area_rates[a.number].to_dict()} for a in self.plan.areas],
                "overall": self.overall.to_dict(),
                "units": [{"unit": u.name, "code": u.code, "overall": self.unit_overall(u.code).to_dict(),
                           "areas": [{"area": a.number, **self.unit_rates[u.code][a.number].to_dict()} for a in self.plan.areas]}
                          for u in self.accepted_units],
            },
            "unfinished": len(self.unfinished),
            "notes": self.notes,
        }


def choose_period(checked: Checked, plan: Plan) -> Period:
    """The latest self-check period found among valid files, else the plan year's June."""
    found = [Period.parse(f.period) for f in checked.files
             if f.form == SELFCHECK and f.valid and f.period and f.period.startswith(f"{plan.year}-")]
    return max(found) if found else Period(plan.year, 6)


def assign_states(files: list[FileReport], period: Period) -> None:
    """Give every file exactly one state for a merge of ``period``."""
    _mark_duplicates(files)
    for report in files:
        if report.state != "accepted":
            continue
        expected = str(period) if report.form == SELFCHECK else str(period.year)
        if report.period and report.period != expected:
            report.problems.insert(0, make_problem("period-other", file=report.file, found=report.period, expected=expected))
            report.state = "rejected"
    groups: dict[tuple, list[FileReport]] = {}
    for report in files:
        if report.state == "accepted":
            groups.setdefault((report.unit_code, report.form, report.period), []).append(report)
    for group in groups.values():
        _supersede(group)


def _mark_duplicates(files: list[FileReport]) -> None:
    first_by_hash: dict[str, FileReport] = {}
    for report in sorted(files, key=lambda f: (f.mtime, f.file)):
        if report.state == "ignored" or not report.size:
            continue
        original = first_by_hash.setdefault(report.sha256, report)
        if original is not report:
            report.state = "duplicate"
            report.extra["duplicate_of"] = original.file


def _supersede(group: list[FileReport]) -> None:
    group.sort(key=lambda f: (f.report_date or dt.date.min, f.mtime), reverse=True)
    latest = group[0]
    rivals = [f for f in group[1:] if f.report_date and f.report_date == latest.report_date]
    if rivals:
        for report in [latest, *rivals]:
            others = "、".join(o.file for o in (latest, *rivals) if o is not report)
            report.problems.insert(0, make_problem("submission-conflict", file=report.file,
                                                   report_date=report.report_date.isoformat(), other=others))
            report.state = "rejected"
        latest = None
    for report in group:
        if report is not latest and report.state == "accepted":
            report.state = "superseded"
            if latest is not None:
                report.extra["superseded_by"] = latest.file


def _accepted_rows(frame: pd.DataFrame, files: list[FileReport], form: str) -> pd.DataFrame:
    import pandas as pd

    fids = [i for i, f in enumerate(files) if f.state == "accepted" and f.form == form]
    if frame.empty or not fids:
        return pd.DataFrame()
    rows = frame[frame.index.get_level_values("fid").isin(fids) & frame["present"]].copy()
    fid = rows.index.get_level_values("fid")
    rows["unit_code"] = [files[i].unit_code for i in fid]
    rows["unit"] = [files[i].unit for i in fid]
    rows["file"] = [files[i].file for i in fid]
    return rows


def completion(selfcheck: pd.DataFrame, plan: Plan) -> dict[str, dict[int, Rate]]:
    """Unit code -> area -> Rate over the due steps of accepted self-checks."""
    import pandas as pd

    rates: dict[str, dict[int, Rate]] = {}
    if selfcheck.empty:
        return rates
    due = selfcheck[selfcheck["due"]]
    area_of = {s.code: s.area for s in plan.steps}
    table = pd.DataFrame({
        "unit": due["unit_code"].to_numpy(),
        "area": due["code"].map(area_of).to_numpy(),
        "done": (due["status"] == DONE).to_numpy(),
        "applicable": (due["status"] != NOT_APPLICABLE).to_numpy(),
    }).groupby(["unit", "area"]).sum()
    for unit in selfcheck["unit_code"].unique():
        rates[unit] = {a.number: Rate(0, 0) for a in plan.areas}
    for (unit, area), done, applicable in zip(table.index, table["done"].tolist(), table["applicable"].tolist()):
        rates[unit][int(area)] = Rate(int(done), int(applicable))
    return rates


def merge(inbox: Path, plan: Plan, registry: Registry, period: Period | None = None, *,
          jobs: int | None = None, progress=None) -> MergeResult:
    """Validate every inbox file, give each a state, combine the accepted ones and rate them."""
    loading = Loading(list_inbox([inbox]), jobs, progress)  # the workers start reading now...
    from qos_xl.intake.mail import apply_provenance  # ...while the heavy modules load here
    from qos_xl.pipeline.validate import check

    checked = check(loading.results(), plan, registry)
    apply_provenance(checked.files, inbox, registry)
    notes = []
    if period is None:
        period = choose_period(checked, plan)
        notes.append(f"未指定期別，依收件匣內容採用 {period}。")
    assign_states(checked.files, period)
    files = checked.files
    selfcheck = _accepted_rows(checked.selfcheck, files, SELFCHECK)
    workplan = _accepted_rows(checked.workplan, files, WORKPLAN)
    unit_rates = completion(selfcheck, plan)
    area_rates = {a.number: sum((r[a.number] for r in unit_rates.values()), Rate(0, 0)) for a in plan.areas}
    accepted_forms = {(f.unit_code, f.form) for f in files if f.state == "accepted"}
    missing = {form: [u for u in registry.units if (u.code, form) not in accepted_forms] for form in (SELFCHECK, WORKPLAN)}
    return MergeResult(plan, registry, period, dt.datetime.now().replace(microsecond=0), files, selfcheck, workplan,
                       area_rates, unit_rates, missing, checked=checked, notes=notes)


def output_name(plan: Plan, period: Period) -> str:
    return f"{plan.year}年度提升服務品質彙整_{period}.xlsx"
