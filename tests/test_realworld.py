"""The reader on 283 real spreadsheets from other projects' test suites (../shared/corpus/realworld, README there).

Each file ends as its folder says:

* ``readable/``: read, not rejected as damaged (the .xls whose used corners make calamine
  allocate its whole grid may instead be a plain "too large to read here" rejection);
* ``values/`` and ``agree/``: the non-empty cells equal python-calamine's and openpyxl's
  (``data_only=True``; numbers as floats, dates as datetimes, times of day before 1900 by
  their time), except in the three files where qos-xl is right and both references are
  wrong, which are checked against the right values explicitly (``QOS_XL_RIGHT``);
* ``reject/``: one clear rejection each.

qos-xl reads every file in a child process under an address-space limit (this file run as
a script), twice: as files are read (calamine, with the fallback where calamine cannot
serve) and with every sheet sent to ``intake/fallback.py``, which must give the same.  No
file may end in a traceback.  ``test_agreement_table`` prints, per file, which reader agreed, and fails on
a row that shows a file not ending as its folder says, or an exception in ``QOS_XL_RIGHT`` no longer needed.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import subprocess
import sys
import warnings
from functools import lru_cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "realworld"
MEMORY_LIMIT = 1536 * 2**20          # address space of the child that reads the corpus
DAY_ONE = dt.datetime(1900, 1, 1)

# Where qos-xl is right and both references are wrong (README of the corpus): the right values.
QOS_XL_RIGHT = {
    # an inline string held in <v> instead of <is> (Apache POI bug 52575): both references drop it
    "values/poi__test-data__spreadsheet__52575_main.xlsx": {("Tabelle1", 2, 1): ["s", "POI rocks!"]},
    # _xFFFE_ and _xFFFF_ escape U+FFFE and U+FFFF: both references leave the escape as text
    "values/XlsxWriter__xlsxwriter__test__comparison__xlsx_files__shared_strings03.xlsx": {
        ("Sheet1", 1, 1): ["s", "\ufffe"], ("Sheet1", 2, 1): ["s", "\uffff"]},
    # escapes beyond U+00FF: _xC1EF_ is one Hangul syllable, _xD801__xDC05_ one character (a
    # surrogate pair), a lone surrogate is no character (U+FFFD); both references keep the text
    "values/PhpSpreadsheet__tests__data__Reader__XLSX__issue.4724.xlsx": {
        ("Worksheet", 4, 1): ["s", "쇯"], ("Worksheet", 5, 1): ["s", "𐐅"], ("Worksheet", 6, 1): ["s", "\ufffd8"],
        ("Worksheet", 7, 1): ["s", "9\ufffd"], ("Worksheet", 8, 1): ["s", "\ufffd\ufffd"]},
}
TOO_LARGE_HERE = "readable/poi__test-data__spreadsheet__51535.xls"


# ------------------------------------------------------------------------------------------
# the child: read every file, print JSON (run as ``python tests/test_realworld.py ROLE``)
# ------------------------------------------------------------------------------------------


def normal(value):
    """A cell value as the comparison sees it, JSON-able; None for an empty cell."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, (int, float)):
        return ["n", float(value)] if math.isfinite(value) else ["s", repr(value)]
    if isinstance(value, dt.timedelta):
        return ["n", value / dt.timedelta(days=1)]
    if isinstance(value, dt.datetime):
        when = value.replace(tzinfo=None)
    elif isinstance(value, dt.date):
        when = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, dt.time):
        when = dt.datetime.combine(dt.date(1899, 12, 31), value.replace(tzinfo=None))
    else:
        return ["s", str(value)]
    if when < DAY_ONE:                     # Excel's day 0 and negative serials: a time of day
        return ["t", when.time().isoformat()]
    return ["d", when.isoformat()]


def _sheets(pairs) -> dict:
    """{sheet: {"r,c": normal value}} from (sheet, ((r, c), value) ...) pairs."""
    out = {}
    for name, cells in pairs:
        out[name] = {f"{r},{c}": v for (r, c), value in cells if (v := normal(value)) is not None}
    return out


def _read_qos(files: list[str]) -> dict:
    import resource

    from qos_xl.core.messages import MESSAGES
    from qos_xl.core.problems import FileProblem
    from qos_xl.intake import fallback
    from qos_xl.intake.spreadsheet import Limits, open_workbook

    counted = []
    original = fallback.Cells.read
    fallback.Cells.read = lambda self, *a: counted.append(1) or original(self, *a)
    results = {}
    for name in files:
        entry = {}
        for mode, limits in (("default", Limits()), ("fallback", Limits(max_dense_cells=0))):
            counted.clear()
            try:
                book = open_workbook(CORPUS / name, limits)
                entry[mode] = {"sheets": _sheets((s.name, s.cells.items()) for s in book.sheets),
                               "fallback_sheets": len(counted)}
            except FileProblem as problem:
                severity, template = MESSAGES[problem.code]
                entry[mode] = {"code": problem.code, "params": problem.params,
                               "message": template.format(value="", **problem.params)}
            except BaseException as e:        # what must never happen: reported, not raised
                entry[mode] = {"crash": f"{type(e).__name__}: {e}"[:500]}
        results[name] = entry
    return {"files": results, "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def _read_references(files: list[str]) -> dict:
    import openpyxl
    from python_calamine import CalamineWorkbook

    warnings.simplefilter("ignore")
    results = {}
    for name in files:
        path = CORPUS / name
        entry = {}
        try:
            book = CalamineWorkbook.from_path(path)
            pairs = []
            for index, meta in enumerate(book.sheets_metadata):
                try:
                    sheet = book.get_sheet_by_index(index)
                except Exception:             # a sheet calamine refuses: compared on the others
                    continue
                top, left = sheet.start or (0, 0)
                rows = sheet.to_python(skip_empty_area=True)
                pairs.append((meta.name, [((top + r + 1, left + c + 1), v)
                                          for r, row in enumerate(rows) for c, v in enumerate(row)]))
            entry["calamine"] = _sheets(pairs)
        except BaseException as e:           # calamine's errors and pyo3's PanicException
            if isinstance(e, KeyboardInterrupt):
                raise
            entry["calamine"] = {"error": f"{type(e).__name__}: {e}"[:200]}
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            try:
                book = openpyxl.load_workbook(path, data_only=True)
                entry["openpyxl"] = _sheets((ws.title, (((c.row, c.column), c.value) for row in ws.iter_rows() for c in row))
                                            for ws in book.worksheets)
            except Exception as e:
                entry["openpyxl"] = {"error": f"{type(e).__name__}: {e}"[:200]}
        results[name] = entry
    return results


def _child(role: str) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    files = json.loads(sys.stdin.read())
    print(json.dumps(_read_qos(files) if role == "qos" else _read_references(files), ensure_ascii=True))


# ------------------------------------------------------------------------------------------
# the tests
# ------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def manifest() -> list[tuple[str, str]]:
    if not (CORPUS / "MANIFEST.csv").exists():
        return []
    with open(CORPUS / "MANIFEST.csv", newline="", encoding="utf-8") as f:
        return sorted((row["file"], row["expect"]) for row in csv.DictReader(f))


pytestmark = pytest.mark.skipif(not manifest(), reason=f"{CORPUS} is not here (../shared/corpus is not part of the repository)")


def _run_child(role: str, files: list[str], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, __file__, role], input=json.dumps(files), capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


@pytest.fixture(scope="module")
def qos():
    run = _run_child("qos", [name for name, _ in manifest()], timeout=600)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr[-3000:]
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def references():
    files = [name for name, expect in manifest() if expect in ("values", "agree", "readable")]
    run = _run_child("references", files, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout)


def _same(a, b) -> bool:
    if a is None or b is None or a[0] != b[0]:
        return a == b
    if a[0] == "n":
        return math.isclose(a[1], b[1], rel_tol=1e-9, abs_tol=1e-9)
    if a[0] in ("d", "t"):                # to the millisecond
        return abs(dt.datetime.fromisoformat(_day(a)) - dt.datetime.fromisoformat(_day(b))) < dt.timedelta(milliseconds=2)
    return a[1] == b[1]


def _day(value) -> str:
    return value[1] if value[0] == "d" else "1899-12-31T" + value[1]


def _differences(ours: dict, theirs: dict, errors_unseen: bool = False) -> list:
    """(sheet, row, col, ours, theirs) where the two readings differ, on the sheets the reference read.

    ``errors_unseen``: the reference reads error cells as empty (calamine), so ours are not compared.
    """
    found = []
    for sheet, cells in theirs.items():
        mine = ours.get(sheet)
        if mine is None:
            found.append((sheet, None, None, "no such sheet", None))
            continue
        for key in cells.keys() | mine.keys():
            a, b = mine.get(key), cells.get(key)
            if errors_unseen and b is None and a is not None and a[0] == "s" and a[1].startswith("#"):
                continue
            if not _same(a, b):
                r, c = map(int, key.split(","))
                found.append((sheet, r, c, a, b))
    return sorted(found, key=lambda d: (d[0], d[1] or 0, d[2] or 0))


def _agreement(name: str, sheets: dict, refs: dict) -> dict:
    """Per reference: 'agrees', the differences, or why it could not read the file."""
    out = {}
    for reader in ("calamine", "openpyxl"):
        theirs = refs.get(reader)
        if theirs is None:
            out[reader] = "n/a (not its format)"
        elif "error" in theirs and isinstance(theirs["error"], str):
            out[reader] = f"cannot read it ({theirs['error'][:60]})"
        else:
            diff = _differences(sheets, theirs, errors_unseen=reader == "calamine")
            right = QOS_XL_RIGHT.get(name, {})
            diff = [d for d in diff if (d[0], d[1], d[2]) not in right]
            out[reader] = "agrees" if not diff else diff
    return out


def _references_disagree(refs: dict, sheet: str, r: int, c: int) -> bool:
    cal, opx = refs.get("calamine"), refs.get("openpyxl")
    if not isinstance(cal, dict) or not isinstance(opx, dict) or "error" in cal or "error" in opx:
        return False
    key = f"{r},{c}"
    a, b = cal.get(sheet, {}).get(key), opx.get(sheet, {}).get(key)
    if b is not None and b[0] == "s" and b[1].startswith("#") and a is None:
        return False                      # an error cell: calamine reads it as empty
    return not _same(a, b)


FILES = [pytest.param(name, expect, id=name) for name, expect in manifest()]


@pytest.mark.parametrize("name, expect", FILES)
@pytest.mark.parametrize("mode", ["default", "fallback"])
def test_file(qos, references, name, expect, mode):
    got = qos["files"][name][mode]
    assert "crash" not in got, got["crash"]
    if expect == "reject":
        assert "code" in got, f"read, but must be rejected: {list(got['sheets'])}"
        assert got["code"] in ("file-corrupt", "archive-invalid", "archive-too-large", "xml-unsafe",
                               "format-unreadable", "sheet-too-large", "file-not-spreadsheet"), got
        assert got["message"] and "Traceback" not in got["message"] and "Error" not in got["message"]
        return
    if name == TOO_LARGE_HERE and "code" in got:
        assert got["code"] in ("sheet-too-large", "format-unreadable") and "記憶體" in got["params"]["detail"], got
        return
    assert "sheets" in got, f"rejected, but must be read: {got}"
    if expect == "readable":
        return
    refs = references[name]
    for (sheet, r, c), right in QOS_XL_RIGHT.get(name, {}).items():
        assert got["sheets"][sheet].get(f"{r},{c}") == right, (sheet, r, c)
    for reader, verdict in _agreement(name, got["sheets"], refs).items():
        if isinstance(verdict, list):
            wrong = [d for d in verdict if not _references_disagree(refs, *d[:3])]
            assert not wrong, f"differs from {reader}: {wrong[:5]}"


def test_the_corpus_is_read_in_bounded_memory(qos):
    """The child that read all 283 files twice stayed well inside its address-space limit
    (the .xls/.ods workers have their own, Limits.memory_bytes)."""
    assert qos["max_rss_kib"] * 1024 < MEMORY_LIMIT * 0.75, f"peak RSS {qos['max_rss_kib'] / 1024:.0f} MiB"


def test_agreement_table(qos, references):
    """Per file: how qos-xl read it, and which reader agreed (run with -rP to see it), as the corpus README asks.

    The table is checked as well as printed: every row ends as its folder says (reject/ rejected, the others read,
    none crashed), no file of values/ or agree/ DIFFERS where the references agree, and each "qos-xl right, both
    references wrong" row is so: each reference has another value in each of its cells (an exception no longer
    needed must go).
    """
    lines = ["file | qos-xl | sheets by fallback | python-calamine | openpyxl"]
    counts: dict[str, int] = {}
    wrong = []
    for name, expect in manifest():
        got = qos["files"][name]["default"]
        cal = opx = "-"
        if "crash" in got:
            outcome = f"crashed: {got['crash']}"
        elif "sheets" not in got:
            outcome = f"rejected: {got.get('code')}"
        else:
            outcome = "read"
            verdict = _agreement(name, got["sheets"], references.get(name, {})) if name in references else {}
            cal, opx = (_short(verdict.get(r, "-"), name, references.get(name, {})) for r in ("calamine", "openpyxl"))
        counts[f"{expect}: {outcome.split(':')[0]}"] = counts.get(f"{expect}: {outcome.split(':')[0]}", 0) + 1
        lines.append(f"{name} | {outcome} | {got.get('fallback_sheets', '-')} | {cal} | {opx}")
        if name in QOS_XL_RIGHT:
            lines[-1] += " | qos-xl right, both references wrong: " + ", ".join(
                f"{s}!{r},{c}" for s, r, c in QOS_XL_RIGHT[name])
            for reader in ("calamine", "openpyxl"):
                for (sheet, r, c), right in QOS_XL_RIGHT[name].items():
                    if _same(references[name][reader].get(sheet, {}).get(f"{r},{c}"), right):
                        wrong.append(f"{name}: {reader} reads {sheet}!{r},{c} right: no longer an exception")
        ended_right = outcome == "read" if expect != "reject" else outcome.startswith("rejected")
        if name == TOO_LARGE_HERE and outcome.startswith("rejected"):
            ended_right = got["code"] in ("sheet-too-large", "format-unreadable")
        if not ended_right or (expect in ("values", "agree") and "DIFFERS" in f"{cal} {opx}"):
            wrong.append(f"{expect}/: {lines[-1]}")
    print("\n".join(lines))
    print(counts)
    assert not wrong, "\n".join(wrong)


def _short(verdict, name: str, refs: dict) -> str:
    if isinstance(verdict, str):
        return verdict
    disagree = [d for d in verdict if _references_disagree(refs, *d[:3])]
    return f"agrees except {len(disagree)} cells where the references disagree" if len(disagree) == len(verdict) \
        else f"DIFFERS in {len(verdict)} cells"


if __name__ == "__main__":
    _child(sys.argv[1])
