"""Validation: every file read, then every rule checked at once with pandera, in bulk.

Rows of all files go into one DataFrame indexed by (file, sheet row); each rule is a
named pandera check, and ``_translate`` turns pandera's failure cases into problem
records naming file, sheet and cell.  Rules live in ``HEADER_RULES``, ``SELFCHECK_RULES``
and ``WORKPLAN_RULES``: a code, the field whose cell is named, and the test (True = fine).
"""

from __future__ import annotations

import ast
import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import pandas as pd
import pandera.pandas as pa

from qos_xl.core.catalogue import Plan
from qos_xl.core.messages import BETWEEN_NOTES, MESSAGES, NOT_DUE_NOTE, OTHERS_NOTE
from qos_xl.core.problems import Problem, make_problem, problem_order
from qos_xl.core.registry import Registry
from qos_xl.core.text import key, text, texts
from qos_xl.core.values import (Period, cached, each_distinct, format_roc, parse_date, parse_period, parse_roc_year,
                                parse_status, shown_date)
from qos_xl.core.vocabulary import (ACCEPTED, DOING, DONE, ERROR, FIELD_LABELS, NOT_APPLICABLE, REJECTED, SELFCHECK,
                                    SELFCHECK_MONTHS, WORKPLAN, WORKPLAN_SECTIONS)
from qos_xl.intake import ledger
from qos_xl.intake.ledger import LedgerRow
from qos_xl.pipeline import documents
from qos_xl.pipeline.checked import Checked
from qos_xl.pipeline.hints import with_hints
from qos_xl.pipeline.load import Loaded, list_inbox, load_files


# ---------------------------------------------------------------------------------------
# Rules. Each test takes the frame and returns a boolean Series: True where the rule holds.


@dataclass(frozen=True)
class Rule:
    code: str
    field: str | None
    test: Callable[[pd.DataFrame], pd.Series]


def _blank(series: pd.Series) -> pd.Series:
    return series.fillna("").astype(str).str.len() == 0


HEADER_RULES = (
    Rule("unit-missing", "unit", lambda d: ~_blank(d.unit_raw)),
    Rule("unit-unknown", "unit", lambda d: _blank(d.unit_raw) | d.unit_code.notna()),
    Rule("period-missing", "period", lambda d: (d.form != SELFCHECK) | ~_blank(d.period_raw)),
    Rule("period-invalid", "period", lambda d: d.period_error.isna()),
    Rule("period-not-checkpoint", "period",
         lambda d: (d.form != SELFCHECK) | d.month.isna() | (d.year != d.plan_year) | d.month.isin(SELFCHECK_MONTHS)),
    Rule("plan-year-mismatch", "period", lambda d: d.year.isna() | (d.year == d.plan_year)),
    Rule("report-date-missing", "report_date", lambda d: (d.form != SELFCHECK) | ~_blank(d.report_raw)),
    Rule("report-date-invalid", "report_date", lambda d: d.report_error.isna()),
    Rule("date-read-as-roc", "report_date", lambda d: d.report_typed.isna()),
    Rule("report-date-out-of-period", "report_date",
         lambda d: d.report_date.isna() | d.report_latest.isna() | d.report_date.between(d.plan_start, d.report_latest)),
    Rule("filler-missing", "filler", lambda d: (d.form != SELFCHECK) | ~_blank(d.filler)),
    Rule("filler-missing", "phone", lambda d: (d.form != SELFCHECK) | ~_blank(d.phone)),
    Rule("year-missing", "year", lambda d: (d.form != WORKPLAN) | ~_blank(d.period_raw)),
    Rule("year-invalid", "year", lambda d: (d.form != WORKPLAN) | d.year_error.isna()),
    *(Rule("section-empty", name, lambda d, name=name: (d.form != WORKPLAN) | ~_blank(d[name]))
      for name in WORKPLAN_SECTIONS),
)

SELFCHECK_RULES = (   # "x_blank": the text column x is empty (computed once per column)
    Rule("step-unknown", "code", lambda d: ~d.present | d.known),
    Rule("step-duplicate", "code", lambda d: ~d.repeated),
    Rule("step-missing", "code", lambda d: d.present),   # at the table's 項次 heading
    Rule("status-not-allowed", "status", lambda d: d.status_raw_blank | d.status.notna()),
    Rule("status-synonym", "status", lambda d: ~d.synonym),
    Rule("status-missing", "status", lambda d: ~(d.present & d.known & d.due & d.status_raw_blank)),
    Rule("narrative-missing", "narrative", lambda d: ~(d.status.isin([DONE, DOING]) & d.narrative_blank)),
    Rule("done-date-missing", "done_date", lambda d: ~((d.status == DONE) & d.done_raw_blank)),
    Rule("date-invalid", "done_date", lambda d: d.done_error.isna()),
    Rule("date-read-as-roc", "done_date", lambda d: ~d.typed_first),   # once a file, at its first such cell
    Rule("done-date-after-report", "done_date", lambda d: ~(d.done_date > d.report_date)),
    Rule("done-date-before-plan-year", "done_date", lambda d: ~(d.done_date < d.plan_start)),
    Rule("reason-missing", "narrative", lambda d: ~((d.status == NOT_APPLICABLE) & d.narrative_blank & d.remarks_blank)),
    Rule("status-not-due", "status", lambda d: ~(d.present & d.known & d.period_known & ~d.due & d.status.notna())),
)

WORKPLAN_RULES = (   # one problem a row, at the cell of the first thing wrong in it
    Rule("area-invalid", "area", lambda d: _blank(d.area_raw) | d.area.notna()),
    Rule("area-missing", "area", lambda d: ~(_blank(d.area_raw) & ~(_blank(d.focus) & _blank(d.method)))),
    Rule("work-item-incomplete", "focus", lambda d: ~(d.present & d.area.notna() & _blank(d.focus))),
    Rule("work-item-incomplete", "method", lambda d: ~(d.present & d.area.notna() & ~_blank(d.focus) & _blank(d.method))),
    Rule("area-uncovered", "area", lambda d: d.present),   # at the table's 實施要項 heading
)


def _schema(name: str, rules: tuple[Rule, ...]) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        name=name,
        checks=[pa.Check(rule.test, name=f"{i}:{rule.code}", ignore_na=False) for i, rule in enumerate(rules)],
    )


def _deciding(rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """The rules whose failure rejects a file: all a file's state needs (``qos-xl status``)."""
    return tuple(rule for rule in rules if MESSAGES[rule.code][0] == ERROR)


HEADER_SCHEMA = _schema("header", HEADER_RULES)
SELFCHECK_SCHEMA = _schema("selfcheck", SELFCHECK_RULES)
WORKPLAN_SCHEMA = _schema("workplan", WORKPLAN_RULES)
# (schema, rules) per frame: every rule, or (states_only) the errors alone
RULESETS = {False: ((HEADER_SCHEMA, HEADER_RULES), (SELFCHECK_SCHEMA, SELFCHECK_RULES), (WORKPLAN_SCHEMA, WORKPLAN_RULES)),
            True: tuple((_schema(name, _deciding(rules)), _deciding(rules)) for name, rules in
                        (("header", HEADER_RULES), ("selfcheck", SELFCHECK_RULES), ("workplan", WORKPLAN_RULES)))}


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> list[tuple[int, object]]:
    """(rule number, index) of every failing row, from one lazy validation."""
    if frame.empty:
        return []
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        cases = cases[cases["check"].astype(str).str.contains(":", regex=False)]
        pairs = {(int(str(c).split(":", 1)[0]), _index(i)) for c, i in zip(cases["check"], cases["index"])}
        return sorted(pairs, key=lambda p: (p[0], str(p[1])))
    return []


def _index(label):
    """pandera reports a MultiIndex label as the text of its tuple: turn it back."""
    return ast.literal_eval(label) if isinstance(label, str) else label


# ---------------------------------------------------------------------------------------
# Frames: the raw values of every file, normalised, in one DataFrame per form.


def _header_frame(loaded: dict[int, Loaded], plan: Plan, registry: Registry) -> pd.DataFrame:
    records = []
    for fid, item in loaded.items():
        sub = item.submission
        h = {name: text(loc.value) for name, loc in sub.header.items()}
        unit = registry.find(h.get("unit", ""))
        rec = {"fid": fid, "form": sub.form, "unit_raw": h.get("unit", ""), "unit_code": unit.code if unit else None,
               "plan_year": plan.year, "filler": h.get("filler", ""), "phone": h.get("phone", ""),
               "period_error": None, "year_error": None, "report_error": None, "year": None, "month": None,
               "report_raw": "", "report_date": pd.NaT, "report_typed": None}
        if sub.form == SELFCHECK:
            rec["period_raw"] = h.get("period", "")
            parsed = parse_period(sub.header["period"].value) if "period" in sub.header else None
            if parsed and parsed.error:
                rec["period_error"] = parsed.error
            elif parsed and parsed.value:
                rec["year"], rec["month"] = parsed.value.year, parsed.value.month
            rec["report_raw"] = h.get("report_date", "")
            if "report_date" in sub.header:
                parsed = parse_date(sub.header["report_date"].value, date1904=sub.date1904)
                rec["report_error"] = parsed.error
                rec["report_typed"] = parsed.typed
                rec["report_date"] = pd.Timestamp(parsed.value) if parsed.value else pd.NaT
        else:
            rec["period_raw"] = h.get("year", "")
            if "year" in sub.header:
                parsed = parse_roc_year(sub.header["year"].value)
                rec["year_error"] = parsed.error
                rec["year"] = parsed.value
            for name in WORKPLAN_SECTIONS:
                rec[name] = h.get(name, "")
        records.append(rec)
    frame = pd.DataFrame.from_records(records).set_index("fid")
    for name in WORKPLAN_SECTIONS:
        if name not in frame:
            frame[name] = ""
    frame["year"] = frame["year"].astype("Float64")
    frame["report_date"] = pd.to_datetime(frame["report_date"])
    frame["plan_start"] = pd.Timestamp(plan.year + 1911, 1, 1)
    # the last 填報日期 a self-check of this plan year's period can bear: six months after its month (June's by
    # 12/31, December's annual results by the next 6/30); later is a typo (the year, the month) that would win
    # "the latest 填報日期" over the unit's correction; before the plan year, last year's file not updated
    frame["report_latest"] = pd.to_datetime([_latest_report(plan.year, y, m) for y, m in zip(frame["year"], frame["month"])])
    return frame


def _latest_report(plan_year: int, year, month) -> dt.date | None:
    if pd.isna(year) or pd.isna(month) or int(year) != plan_year:
        return None
    after = int(month) + 7                  # the first day of the 7th month after: one day later than allowed
    return dt.date(plan_year + 1911 + (after - 1) // 12, (after - 1) % 12 + 1, 1) - dt.timedelta(days=1)


def _selfcheck_frame(loaded: dict[int, Loaded], plan: Plan, headers: pd.DataFrame) -> pd.DataFrame:
    records = [
        (fid, row["_row"], row.get("code"), row.get("status"), row.get("narrative"), row.get("done_date"),
         row.get("evidence"), row.get("remarks"), item.submission.date1904)
        for fid, item in loaded.items() if item.submission.form == SELFCHECK
        for row in item.submission.rows
    ]
    columns = ["fid", "row", "code_raw", "status_raw", "narrative_raw", "done_value", "evidence_raw", "remarks_raw", "date1904"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame["code"] = each_distinct(key, frame["code_raw"].tolist())
    frame["present"] = True
    catalogue = set(plan.step_by_code)
    # placeholders for steps a file lacks, so "step-missing" is a rule like any other
    have: dict[int, set] = {}
    for fid, code in zip(frame["fid"].tolist(), frame["code"].tolist()):
        have.setdefault(fid, set()).add(code)
    missing = []
    for fid in (f for f, item in loaded.items() if item.submission.form == SELFCHECK):
        absent = [s.code for s in plan.steps if s.code not in have.get(fid, set())]
        missing.extend({"fid": fid, "row": -(i + 1), "code_raw": c, "code": c, "present": False, "date1904": False}
                       for i, c in enumerate(absent))
    if missing:
        frame = pd.concat([frame, pd.DataFrame.from_records(missing)], ignore_index=True)
    column = {"status_raw": texts(frame["status_raw"].tolist())}
    for name in ("narrative", "evidence", "remarks"):
        column[name] = texts(frame[f"{name}_raw"].tolist())
    status = each_distinct(parse_status, column["status_raw"])
    frame["status"] = [s.value for s in status]
    frame["synonym"] = [bool(s.synonym) for s in status]
    frame["known"] = frame["code"].isin(catalogue)
    months = headers["month"].reindex(frame["fid"]).to_numpy()
    frame["period_known"] = ~pd.isna(months)
    # with the period unreadable, claim only what is due at the first checkpoint (June)
    first_month = frame["code"].map({s.code: min(s.months) for s in plan.steps}).to_numpy(dtype=float)
    frame["due"] = first_month <= pd.Series(months, dtype=float).fillna(6).to_numpy()  # unknown codes: NaN, not due
    frame["repeated"] = frame["present"] & frame["known"] & frame.duplicated(["fid", "code"], keep="first")
    date_parse = cached(lambda pair: parse_date(None if pd.isna(pair[0]) else pair[0], date1904=pair[1]))
    dates, systems = frame["done_value"].tolist(), [bool(f) for f in frame["date1904"].tolist()]
    parsed = [date_parse((v, f)) for v, f in zip(dates, systems)]
    # what each cell shows (a date as 102/06/30, never a serial or ISO text): quoted in problems
    column["done_raw"] = [v.strip() if v.__class__ is str else "" if v is None else shown_date(v, date1904=f)
                          for v, f in zip(dates, systems)]
    for name, values in column.items():
        frame[name] = values
    for name in ("status_raw", "narrative", "remarks", "done_raw"):    # the rules' "left blank", once per column
        frame[f"{name}_blank"] = [not v for v in column[name]]
    frame["done_error"] = [p.error for p in parsed]
    frame["done_typed"] = [p.typed for p in parsed]
    typed = frame["done_typed"].notna()   # rows are in sheet order within each file here
    frame["typed_first"] = typed & ~frame["fid"].where(typed).duplicated(keep="first")
    frame["typed_count"] = typed.groupby(frame["fid"]).transform("sum")
    frame["done_date"] = pd.to_datetime([p.value if p.value else None for p in parsed])
    frame["report_date"] = headers["report_date"].reindex(frame["fid"]).to_numpy()
    frame["report_date"] = pd.to_datetime(frame["report_date"])
    frame["plan_start"] = pd.Timestamp(plan.year + 1911, 1, 1)
    frame = frame.drop(columns=["done_value", "narrative_raw", "evidence_raw", "remarks_raw"])
    return frame.set_index(["fid", "row"]).sort_index()


def _workplan_frame(loaded: dict[int, Loaded], plan: Plan) -> pd.DataFrame:
    fields = ("area", "focus", "method", "remarks")
    records = [
        (fid, row["_row"], *(text(row.get(f)) for f in fields))
        for fid, item in loaded.items() if item.submission.form == WORKPLAN
        for row in item.submission.rows
    ]
    frame = pd.DataFrame.from_records(records, columns=["fid", "row", "area_raw", "focus", "method", "remarks"])
    area_of = cached(lambda v: (a.number if (a := plan.find_area(v)) else None))
    frame["area"] = pd.array([area_of(v) for v in frame["area_raw"].tolist()], dtype="Int64")
    frame["present"] = True
    # an area no row names at all; a row that names it but lacks its texts is that row's problem
    named = set(zip(frame["fid"], frame["area"]))
    gaps = [{"fid": fid, "row": -area.number, "area_raw": "", "area": area.number, "present": False,
             "focus": "", "method": "", "remarks": ""}
            for fid, item in loaded.items() if item.submission.form == WORKPLAN and item.submission.columns
            for area in plan.areas if (fid, area.number) not in named]  # no table found: the reader said so
    if gaps:
        frame = pd.concat([frame, pd.DataFrame.from_records(gaps)], ignore_index=True)
    frame["area"] = frame["area"].astype("Int64")
    return frame.set_index(["fid", "row"]).sort_index()


# ---------------------------------------------------------------------------------------
# Translation: pandera failures -> problem records, in one place.

def _translate(failures, rules, frame, loaded: dict[int, Loaded], plan: Plan) -> dict[int, list[Problem]]:
    """Each failing (rule, row) as a problem record naming file, sheet and cell, grouped by file id.

    A value quoted back is what the cell shows (a date as 102/06/30); a row the file lacks
    (a deleted step, an area with no row) quotes nothing, and is named at the table's heading.
    """
    found: dict[int, list[Problem]] = {}
    for number, index in failures:
        rule = rules[number]
        fid, row = index if isinstance(index, tuple) else (index, None)
        record = frame.loc[index]
        item = loaded[fid]
        sub = item.submission
        cell = None
        value = None
        letter = sub.columns.get(rule.field) if rule.field else None
        if row is None:  # header rule
            loc = sub.header.get(rule.field)
            if loc is None and rule.field == "period":
                loc = sub.header.get("year")  # a work plan's period is its 年度
            if loc is None:
                continue  # the label itself is missing: already reported by the reader
            quote_date = rule.field == "report_date" or isinstance(loc.value, dt.date)   # a date as 102/06/30
            shown = shown_date(loc.value, date1904=sub.date1904) if quote_date else text(loc.value)
            cell, value = loc.cell, shown or None
        elif row > 0:
            cell = sub.cell_of(rule.field, row) if rule.field else None
            value = _shown_value(record, rule.field)
        elif letter and sub.table_row:  # a row the file lacks
            cell = f"{letter}{sub.table_row}"
        code = record.get("code", "") if sub.form == SELFCHECK and row is not None else ""
        step = plan.step_by_code.get(code)
        typed = record.get("done_typed") if row is not None else record.get("report_typed")
        label = FIELD_LABELS[sub.form].get(rule.field, "")
        params = {
            "label": label,
            "step": (code or "（空白）") if sub.form == SELFCHECK and row is not None else "",
            "subject": f"項次 {code} 的「{label}」" if code else f"「{label}」",
            "status": record.get("status") or "",
            "date": format_roc(record.get("done_date") if row is not None else record.get("report_date")),
            "report_date": format_roc(record.get("report_date")),
            "year": plan.year,
            "expected": plan.year,
            "found": _found_year(record),
            "deadline": step.deadline if step else "",
            "detail": record.get("done_error") or record.get("report_error") or record.get("period_error") or record.get("year_error") or "",
            "example": _example(plan, item, rule.code),
            "not_due": NOT_DUE_NOTE if step and row is not None and record.get("period_known") and not record.get("due") else "",
            "ad_year": typed.split("/")[0] if isinstance(typed, str) else "",
            "others": _others(record),
            "between": _between(plan, code) if sub.form == SELFCHECK and row is not None and row < 0 else "",
            "missing": _missing(record) if sub.form == WORKPLAN else "",
            "area": plan.areas[int(record["area"]) - 1].label if sub.form == WORKPLAN and row is not None and row < 0 else "",
            "first": format_roc(record.get("plan_start")) if row is None else "",
            "last": format_roc(record.get("report_latest")) if row is None else "",
            "period": str(Period(int(record["year"]), int(record["month"])))
            if row is None and not pd.isna(record.get("month")) and not pd.isna(record.get("year")) else "",
        }
        found.setdefault(fid, []).append(make_problem(rule.code, file=item.report.file, sheet=sub.sheet, cell=cell,
                                                      value=value, word=sub.places is not None, **params))
    return found


def _shown_value(record, field_name: str | None):
    raw = {"code": "code_raw", "status": "status_raw", "narrative": "narrative", "done_date": "done_raw",
           "area": "area_raw", "focus": "focus", "method": "method"}.get(field_name, field_name)
    shown = text(record.get(raw)) if raw else ""
    return shown or None


def _others(record) -> str:
    """For the one date-read-as-roc warning of a file: how many more cells were read the same way."""
    count = record.get("typed_count")
    if count is None or pd.isna(count) or count <= 1:
        return ""
    return OTHERS_NOTE.format(count=int(count) - 1)


def _between(plan: Plan, code: str) -> str:
    """Where a step's row belongs, by its neighbours in the plan: 「（應在項次 1-3-1 與 1-3-3 之間）」."""
    codes = [s.code for s in plan.steps]
    if code not in codes:
        return ""
    at = codes.index(code)
    before, after = (codes[at - 1] if at else ""), (codes[at + 1] if at + 1 < len(codes) else "")
    return BETWEEN_NOTES[bool(before), bool(after)].format(before=before, after=after) if before or after else ""


def _missing(record) -> str:
    """The texts a work-plan row lacks: 「工作重點」, 「工作(推動)方法」 or both."""
    labels = [f"「{FIELD_LABELS[WORKPLAN][name]}」" for name in ("focus", "method") if not text(record.get(name))]
    return "及".join(labels)


def _found_year(record) -> str:
    year = record.get("year")
    return "" if year is None or pd.isna(year) else str(int(year))


def _example(plan: Plan, item: Loaded, code: str) -> str:
    if code == "unit-unknown":
        return "養護工程處"
    return f"{plan.year}-06 或 {plan.year}-12"


def check(loaded: list[Loaded], plan: Plan, registry: Registry, ledger: dict[str, LedgerRow] | None = None, *,
          states_only: bool = False) -> Checked:
    """Validate every loaded file at once: new reports with unit, period, problems and state.

    ``ledger``: the ingest ledger's rows by SHA-256, by which documents are recognised (award applications);
    ``states_only``: only the rules that can reject a file run (warnings are not looked for): the same states."""
    forms = {item.report.id: item for item in loaded if item.submission is not None}
    empty = pd.DataFrame()
    headers = _header_frame(forms, plan, registry) if forms else empty
    selfcheck = _selfcheck_frame(forms, plan, headers) if any(i.submission.form == SELFCHECK for i in forms.values()) else empty
    workplan = _workplan_frame(forms, plan) if any(i.submission.form == WORKPLAN for i in forms.values()) else empty
    found: dict[int, list[Problem]] = {}
    for (schema, rules), frame in zip(RULESETS[states_only], (headers, selfcheck, workplan)):
        if not frame.empty:
            for fid, problems in _translate(_failures(schema, frame), rules, frame, forms, plan).items():
                found.setdefault(fid, []).extend(problems)
    by_fid = headers[["unit_code", "unit_raw", "year", "month", "report_date"]].to_dict("index") if forms else {}
    reports = []
    for item in loaded:
        report = item.report
        if report.id in by_fid:
            report = replace(report, **_identity(by_fid[report.id], report.form, registry))
        elif item.document is not None and item.submission is None:
            report = documents.settle(report, item.document, plan, registry, ledger or {})
        problems = sorted((*report.problems, *found.get(report.id, ())), key=problem_order)
        report = replace(report, problems=tuple(problems))
        if report.state is None:
            report = replace(report, state=ACCEPTED if report.valid else REJECTED)
        reports.append(report)
    return Checked(reports, selfcheck, workplan, headers, {fid: item.submission.layout for fid, item in forms.items()})


def _identity(header: dict, form: str, registry: Registry) -> dict:
    """Unit, period and report date of a file, as its header block gives them."""
    unit = registry.by_code(header["unit_code"]) if header["unit_code"] else None
    facts = {"unit": unit.name if unit else (header["unit_raw"] or None), "unit_code": unit.code if unit else None}
    if not pd.isna(header["year"]):
        month = header["month"]
        facts["period"] = (f"{int(header['year'])}-{int(month):02d}" if form == SELFCHECK and not pd.isna(month)
                           else str(int(header["year"])))
    if not pd.isna(header["report_date"]):
        facts["report_date"] = header["report_date"].date()
    return facts


def validate_paths(paths: list[Path], plan: Plan, registry: Registry, *, jobs: int | None = None, progress=None) -> Checked:
    """Read and validate files or folders: the library behind ``qos-xl validate``.

    Accepted self-checks get their quality hints, ``narrative-copied`` comparing the files read together."""
    rows: dict[str, LedgerRow] = {}
    folders = (Path(p) if Path(p).is_dir() else Path(p).parent for p in paths)
    for folder in dict.fromkeys(folders):   # a file given alone is still known by its folder's 收件紀錄 (ingest)
        rows.update(ledger.read(folder))
    checked = check(load_files(list_inbox(paths), jobs, progress), plan, registry, rows)
    return replace(checked, files=with_hints(checked.files, checked, plan))
