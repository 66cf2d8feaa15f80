"""The comparison points for ``qos-xl merge``, each run as its own process by bench/run.py.

    python bench/baseline.py naive INBOX OUT.xlsx   # what an analyst would write
    python bench/baseline.py floor INBOX            # reading every file, nothing else

naive: per file ``pandas.read_excel(sheet_name="自行檢核表", header=<the 項次 row>, engine="openpyxl")``,
a per-file pandera validation (a few column checks, lazy=True), then ``pandas.concat``
and ``DataFrame.to_excel`` (openpyxl engine) of the combined frame.  It does much less
than qos-xl (no label search, no header block, no dates, no rules across columns, no
feedback, one output sheet), so it is a generous baseline.

floor: ``CalamineWorkbook.from_path(p).get_sheet_by_name("自行檢核表").to_python()`` for
every file and nothing else: about the least any Python tool can spend to see the cells.
"""

from __future__ import annotations

import sys
from pathlib import Path


def naive(inbox: Path, out: Path) -> None:
    import pandas as pd
    import pandera.pandas as pa

    schema = pa.DataFrameSchema({
        "項次": pa.Column(str, pa.Check.str_matches(r"^\d+-\d+-\d+$")),
        "執行狀態": pa.Column(str, pa.Check.isin(["已完成", "辦理中", "未辦理", "不適用"]), nullable=True),
        "辦理情形": pa.Column(str, nullable=True),
    })
    from qos_xl.output.templates import SC_HEADER_ROW   # the template's 項次 row, as an analyst reads it off the sheet

    frames, failures = [], 0
    for path in sorted(inbox.glob("*.xlsx")):
        frame = pd.read_excel(path, sheet_name="自行檢核表", header=SC_HEADER_ROW, engine="openpyxl")
        if "項次" not in frame.columns:   # a wrong header row makes every file's columns differ: concat would explode
            raise SystemExit(f"{path.name}: no 項次 column in row {SC_HEADER_ROW + 1}; the template changed")
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            failures += len(exc.failure_cases)
        frame.insert(0, "檔案", path.name)
        frames.append(frame)
    combined = pd.concat(frames, ignore_index=True)
    combined.to_excel(out, index=False, engine="openpyxl")
    print(f"{len(frames)} files, {len(combined)} rows, {failures} failure cases -> {out}")


def floor(inbox: Path) -> None:
    from python_calamine import CalamineWorkbook

    cells = 0
    paths = sorted(inbox.glob("*.xlsx"))
    for path in paths:
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("自行檢核表").to_python()
        cells += sum(len(r) for r in rows)
    print(f"{len(paths)} files, {cells} cells")


if __name__ == "__main__":
    mode, args = sys.argv[1], [Path(a) for a in sys.argv[2:]]
    {"naive": naive, "floor": floor}[mode](*args)
