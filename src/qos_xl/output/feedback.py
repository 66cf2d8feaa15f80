"""Feedback to a unit: an annotated copy of its own workbook and a receipt to paste into a reply.

For every file with problems, ``write_feedback`` writes into the feedback folder

- ``{stem}_問題標註.xlsx``: the unit's workbook, untouched except that each problem cell
  is filled and framed (errors light red with a thick border, warnings light yellow with a
  dashed one) and carries a comment with the message(s) signed by the secretariat, and a
  first sheet ``問題清單`` lists every problem with a link to its cell.  Corrected and sent
  back, the copy is read like the original (the reader skips ``問題清單`` and the very hidden
  record of the marks, ``qos_marks``), and annotated again it shows only the new run's marks
  (``marks.py``);
- or, when the original cannot be opened by openpyxl (.ods, .xls, corrupt, encrypted,
  not a spreadsheet, changed since validation), ``{stem}_問題清單.xlsx``: the same list
  as a standalone workbook;
- ``{stem}_回覆.txt``: the reply text (``reply.file_reply``), UTF-8, zh-TW; for a document
  (a Word work plan, an award application) the reply alone, each problem placed in words.

The inbox file is only ever read.  Everything that came from the unit's file is written
as a string cell, so nothing it typed can become a formula or a link.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from qos_xl.core import files, platform
from qos_xl.core.names import safe_filename
from qos_xl.core.report import FileReport
from qos_xl.core.vocabulary import IGNORED
from qos_xl.output.reply import Sender, file_reply

ANNOTATED_SUFFIX = "_問題標註.xlsx"
LIST_SUFFIX = "_問題清單.xlsx"
RECEIPT_SUFFIX = "_回覆.txt"
OPENPYXL_SUFFIXES = {".xlsx", ".xlsm"}
# problems that mean the safe reader refused the file: openpyxl must not open it either
REFUSED_CODES = frozenset({
    "file-empty", "file-too-large", "file-not-spreadsheet", "file-corrupt", "file-encrypted",
    "archive-too-large", "archive-invalid", "xml-unsafe", "format-unreadable", "sheet-too-large",
})
MAX_STEM_BYTES = 150           # leaves room for the hash and the longest suffix
PARALLEL_FEEDBACK = 8          # from this many files with problems, workbooks are written in worker processes


class FeedbackError(ValueError):
    """The feedback folder would land inside the inbox (the next run would read it as submissions)."""


# ---------------------------------------------------------------------------------------
# Finding the source file and naming the outputs


def _output_stems(reports: list[FileReport]) -> list[str]:
    """One stem per report; stems shared by several files get the first 8 hex of their SHA-256."""
    stems = [safe_filename(Path(r.file).stem, fallback="file", max_bytes=MAX_STEM_BYTES) for r in reports]
    shared: dict[str, int] = {}
    for report, stem in zip(reports, stems):
        if report.state != IGNORED:
            shared[stem.casefold()] = shared.get(stem.casefold(), 0) + 1
    result: list[str] = []
    taken: set[str] = set()
    for report, stem in zip(reports, stems):
        name = stem
        if shared.get(stem.casefold(), 0) > 1:
            name = f"{stem}_{(report.sha256 or '')[:8] or 'nohash'}"
        candidate, n = name, 2
        while candidate.casefold() in taken:
            candidate, n = f"{name}_{n}", n + 1
        taken.add(candidate.casefold())
        result.append(candidate)
    return result


def _check_out_dir(out_dir: Path, sources: list[Path]) -> None:
    out = out_dir.resolve()
    for source in sources:
        folder = Path(source).resolve()
        if folder.is_dir() and (out == folder or folder in out.parents):
            raise FeedbackError(f"回饋檔案的輸出資料夾 {out_dir} 位於收件資料夾 {source} 之內，"
                                "下次檢核會把回饋檔案當成單位繳交的檔案。請改用其他輸出資料夾。")


# ---------------------------------------------------------------------------------------
# The entry point


def _original(report: FileReport) -> tuple[bytes | None, str]:
    """The bytes openpyxl may annotate, or None and the reason (zh-TW) why not."""
    source = report.path
    if source is None:
        return None, "找不到原檔案"
    suffix = Path(report.file).suffix.lower()
    if suffix not in OPENPYXL_SUFFIXES:
        return None, f"{suffix or '無副檔名'} 格式的檔案無法加註"
    if any(p.code in REFUSED_CODES for p in report.problems):
        return None, "原檔案無法開啟"
    try:
        data = source.read_bytes()
    except OSError:
        return None, "無法讀取原檔案"
    if report.sha256 and hashlib.sha256(data).hexdigest() != report.sha256:
        return None, "原檔案在檢核後已變更"
    return data, ""


def write_feedback(reports: list[FileReport], out_dir: Path, sources: list[Path], sender: Sender = Sender()) -> list[Path]:
    """Annotated copy (or standalone 問題清單) and reply for every file with problems; the written paths.

    ``sources``: the folders or files that were read, which the feedback folder must not be inside;
    ``sender``: who signs the comments and replies, the resend deadline and the contact (settings.csv).
    """
    out_dir = Path(out_dir)
    _check_out_dir(out_dir, [Path(s) for s in sources])
    stems = _output_stems(reports)
    protected = {r.path.resolve() for r in reports if r.path is not None}
    jobs = []
    for report, stem in zip(reports, stems):
        if report.state == IGNORED or not report.problems:
            continue
        targets = tuple(out_dir / f"{stem}{suffix}" for suffix in (ANNOTATED_SUFFIX, LIST_SUFFIX, RECEIPT_SUFFIX))
        if {t.resolve() for t in targets} & protected:
            raise FeedbackError(f"回饋檔案會覆蓋收件檔案「{report.file}」，請改用其他輸出資料夾。")
        jobs.append((report, targets, sender))
    if not jobs:
        return []
    with files.reported(out_dir):
        out_dir.mkdir(parents=True, exist_ok=True)
    return _write_all(jobs, out_dir)


def _write_all(jobs: list, out_dir: Path) -> list[Path]:
    """Every job's pair, in worker processes when there are many; write failures end as one ``OutputError``.

    A file that cannot be written (open in Excel, say) does not stop the others; a failure
    every further file would meet too (a full disk, a read-only folder) stops the rest.
    """
    pairs: list[tuple[Path, Path] | None] = [None] * len(jobs)      # in the order of the jobs
    failures: list[files.OutputError] = []

    def settle(index: int, value=None, error: BaseException | None = None, crashed: bool = False) -> bool:
        """Take one job's outcome; False when nothing more should be tried."""
        if crashed:              # the worker died on this unit's workbook: the list alone, written here
            try:
                value = _write_one(jobs[index], annotate_original=False)
            except files.OutputError as exc:
                error = exc
        if error is not None:
            if not isinstance(error, files.OutputError):
                raise error
            failures.append(error)
            return not error.folder_wide
        pairs[index] = value
        files.record_written(value)
        return True

    workers = min(os.cpu_count() or 1, 4)
    if workers > 1 and len(jobs) >= PARALLEL_FEEDBACK:
        from qos_xl.pipeline.workers import WorkerPool

        # openpyxl costs ~0.1 s a workbook.  Fresh ("spawn") workers: forked from a city-scale
        # merge they would each start as big as it is.
        try:
            with WorkerPool(_write_one, jobs, workers, context=platform.spawn_context()) as pool:
                for outcome in pool.outcomes():
                    if not settle(outcome.index, outcome.value, outcome.error, outcome.crashed):
                        break
        finally:
            files.sweep(out_dir)       # what workers ended mid-write left behind
    else:
        for index, job in enumerate(jobs):
            try:
                going_on = settle(index, _write_one(job))
            except files.OutputError as exc:
                going_on = settle(index, error=exc)
            if not going_on:
                break
    written = [path for pair in pairs if pair is not None for path in pair]
    if failures:
        first = failures[0]
        first.written, first.others = written, len(failures) - 1
        raise first
    return written


def _write_one(job: tuple[FileReport, tuple[Path, Path, Path], Sender], annotate_original: bool = True) -> tuple[Path, ...]:
    """One file's feedback workbook and reply, put in place together (a document's: the reply alone); the paths written."""
    from qos_xl.output.annotate import annotate, write_standalone  # openpyxl and xlsxwriter: only when there is feedback to write

    report, (annotated, standalone, receipt), sender = job
    if report.document:          # a Word work plan, an award application: the reply lists every problem
        files.write_text_atomic(receipt, file_reply(report, sender=sender))
        return (receipt,)
    data, note = _original(report) if annotate_original else (None, "原檔案無法由系統開啟加註")
    with files.together():          # the copy and its reply appear together or not at all
        made = None
        if data is not None:
            try:
                annotate(report, data, annotated, sender.signature)
                made = annotated
            except files.OutputError:
                raise           # our own write failed: not the unit's file
            except Exception:  # noqa: BLE001 - any workbook openpyxl cannot round-trip gets the standalone list
                note = "原檔案無法由系統開啟加註"
        if made is None:
            write_standalone(report, standalone, f"{note}，因此未產生標註副本，僅列出問題清單。")
            made = standalone
            text = file_reply(report, problem_list=standalone.name, note=note, sender=sender)
        else:
            text = file_reply(report, annotated=annotated.name, sender=sender)
        files.write_text_atomic(receipt, text)
    return made, receipt
