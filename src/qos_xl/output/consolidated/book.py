"""The consolidated bureau workbook for managers: twelve sheets, from 摘要 to 檢核問題, one module each.

Written with xlsxwriter's public API, every sheet strictly top to bottom, one module per
sheet.  ``SHEETS`` lists their writers in the order a manager reads them — to add a sheet,
write a module with a ``write_x(book)`` function that makes its sheet with
``book.sheet(name, columns, ...)``, writes it row by row and calls ``finish()``, and put
the function in ``SHEETS``.  A sheet that grows with the units is a ``table`` sheet: it goes
on in continued sheets before a worksheet's row limit.  A city-scale workbook is written in
xlsxwriter's ``constant_memory`` mode (each row on disk as soon as the next begins), so
memory stays flat however many units there are.  There are no formulas: rates are stored as
numbers shown 0.0% (LibreOffice does not recalculate on load) beside their counts.  Every
string that came from a unit's file is written as text, never a formula or a link.  The file
appears atomically.
"""

from __future__ import annotations

from pathlib import Path

from qos_xl.core.files import atomic_path, scratch_folder
from qos_xl.output import xlsxout
from qos_xl.output.consolidated import comparison, details, hints, intake_log, summary, units, workplans
from qos_xl.output.consolidated.sheet import Book
from qos_xl.pipeline.merge import MergeResult, output_name
from qos_xl.process import paused_gc

# the sheets in the order a manager reads them: the figures and what explains them first (which steps are open,
# who is missing), then the work plans, then the long tables to look things up in
SHEETS = (summary.write_summary, units.write_unit_matrix, comparison.write_comparison, details.write_unfinished,
          intake_log.write_missing, workplans.write_coverage, workplans.write_workplan,
          details.write_details, details.write_lookup,
          hints.write_hints, intake_log.write_intake, intake_log.write_problems)


# Above this many table rows the workbook is written in xlsxwriter's constant_memory mode: each row goes to
# disk as soon as the next begins (memory stays flat; below it, ~40 KB a unit is held until the save) but every
# string is written inline, escaped once per cell, which makes the write ~35 % slower than with a shared-string table.
LOW_MEMORY_ROWS = 250_000


def output_path(result: MergeResult, out_dir: Path) -> Path:
    """Where ``merge`` writes the consolidated workbook for this plan and period."""
    return Path(out_dir) / output_name(result.plan, result.period)


def write_consolidated(result: MergeResult, path: Path, *, max_rows: int = xlsxout.EXCEL_ROWS,
                       low_memory: bool | None = None) -> Path:
    """Write the consolidated workbook to ``path`` atomically; the previous file survives a failure.

    ``max_rows``: the rows a worksheet may hold before a table goes on in a continued sheet;
    ``low_memory``: write in constant_memory mode (default: above ``LOW_MEMORY_ROWS`` table rows).
    """
    path = Path(path)
    if low_memory is None:
        low_memory = len(result.selfcheck) + len(result.workplan) > LOW_MEMORY_ROWS
    units.alert_threshold(result.plan)           # a broken setting stops the write before it starts
    # Many short-lived lists and tuples, no reference cycles: the cyclic GC would only rescan the merge's big heap.
    with paused_gc(), scratch_folder(path) as scratch, atomic_path(path) as tmp:
        wb = xlsxout.new_workbook(tmp, constant_memory=low_memory, tmpdir=str(scratch), use_zip64=True)
        book = Book(wb, result, max_rows=max_rows)
        for write in SHEETS:
            write(book)
        wb.close()
    return path
