"""The consolidated bureau workbook: completion rates, details, intake log, for managers.

Written with xlsxwriter, every sheet strictly top to bottom, one module per sheet.  The
long tables (檢核明細 and the like) go row by row straight to sheet XML spooled on disk
(``xlsxout.BulkWorksheet``), so a city-scale merge (hundreds of thousands of detail rows)
stays fast and small in memory.  There are no formulas: rates are stored as numbers
(LibreOffice does not recalculate on load) beside their display text (``83.3% (10/12)``).
Every string that came from a unit's file is written as a shared string, so it stays text
and never becomes a formula or a link.  The file appears atomically.
"""

from __future__ import annotations

from pathlib import Path

from qos_xl.output import xlsxout
from qos_xl.output.consolidated import comparison, details, intake_log, summary, units, workplans
from qos_xl.output.consolidated.sheet import Book
from qos_xl.output.files import atomic_path, scratch_folder
from qos_xl.pipeline.merge import MergeResult, output_name
from qos_xl.process import paused_gc

# the sheets in the order a manager reads them
SHEETS = (summary.write_summary, units.write_unit_matrix, comparison.write_comparison, details.write_details,
          workplans.write_workplan, workplans.write_coverage, intake_log.write_missing, details.write_unfinished,
          intake_log.write_intake, intake_log.write_problems)


def output_path(result: MergeResult, out_dir: Path) -> Path:
    """Where ``merge`` writes the consolidated workbook for this plan and period."""
    return Path(out_dir) / output_name(result.plan, result.period)


def write_consolidated(result: MergeResult, path: Path) -> Path:
    """Write the consolidated workbook to ``path`` atomically; the previous file survives a failure."""
    path = Path(path)
    # Millions of short-lived lists and tuples, no reference cycles: the cyclic GC would only
    # rescan the merge's big heap over and over (a third of the time at 1,000 units).
    with paused_gc(), scratch_folder(path) as scratch, atomic_path(path) as tmp:
        wb = xlsxout.new_workbook(tmp, tmpdir=scratch, fast_save=True)
        book = Book(wb, result)
        for write in SHEETS:
            write(book)
        wb.close()
    return path
