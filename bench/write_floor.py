"""What writing the consolidated workbook costs at the least through xlsxwriter's public API.

    .venv/bin/python bench/write_floor.py 1000 [--runs 3]

Merges the generated set for N (generating it if needed), writes the consolidated workbook
as ``qos-xl merge`` does, reads every sheet of it back with python-calamine, then writes
exactly those cells again with nothing but ``add_worksheet``, ``write_string`` /
``write_number`` and ``close`` — no formats, row heights, merged titles, print setup or
text checks.  The second figure is the floor under the first: what any workbook holding
the same cells costs xlsxwriter, however it is designed.  Each is timed ``--runs`` times,
alternately; the minimum and the median are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402


def bare_write(sheets: dict[str, list[list]], path: Path) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value == "" or value is None:
                    continue
                if isinstance(value, str):
                    ws.write_string(r, c, value)
                else:
                    ws.write_number(r, c, float(value))
    wb.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    bench = generate(args.n)
    from qos_xl.cli import set_up_process

    set_up_process()
    from python_calamine import CalamineWorkbook

    from qos_xl.core.catalogue import load_plan
    from qos_xl.core.registry import load_registry
    from qos_xl.core.values import Period
    from qos_xl.output.consolidated import output_path, write_consolidated
    from qos_xl.pipeline.merge import merge

    plan = load_plan(bench.config / "plan.csv", bench.config / "settings.csv")
    registry = load_registry(bench.config / "units.csv", plan.organisation)
    result = merge(bench.inbox, plan, registry, Period(102, 6), jobs=2)
    times: dict[str, list[float]] = {"qos-xl's consolidated workbook": [], "the same cells, bare public API": []}
    with tempfile.TemporaryDirectory() as out:
        ours = output_path(result, Path(out))
        write_consolidated(result, ours)
        book = CalamineWorkbook.from_path(str(ours))
        sheets = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
        cells = sum(1 for rows in sheets.values() for row in rows for v in row if v != "" and v is not None)
        for _ in range(args.runs):
            started = time.perf_counter()
            write_consolidated(result, ours)
            times["qos-xl's consolidated workbook"].append(time.perf_counter() - started)
            started = time.perf_counter()
            bare_write(sheets, Path(out) / "bare.xlsx")
            times["the same cells, bare public API"].append(time.perf_counter() - started)
    print(f"N={args.n}: {len(sheets)} sheets, {cells:,} cells written; {args.runs} runs each, alternately")
    for name, seconds in times.items():
        print(f"  {name:<34} min {min(seconds):5.2f} s   median {statistics.median(seconds):5.2f} s")


if __name__ == "__main__":
    main()
