"""Loading: every inbox file hashed, opened and read into a ``Submission``, in worker processes.

No pandas here: worker processes stay light, and ``Loading`` can start reading while the
caller goes on loading the heavy validation libraries.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from qos_xl.core.names import display_name
from qos_xl.core.problems import FileProblem
from qos_xl.core.report import FileReport
from qos_xl.core.text import key
from qos_xl.core.vocabulary import IGNORED
from qos_xl.intake.documents import Document, examine
from qos_xl.intake.spreadsheet import open_workbook
from qos_xl.pipeline.documents import read_document
from qos_xl.pipeline.locate import FORM_SHEET_KEYS, OWN_SHEETS, Submission, read_submission

CLUTTER_PREFIXES = ("~$", ".~lock.", "._")
OWN_FILES_PREFIX = ".qos-"  # qos-xl's own files kept in the inbox (the e-mail ledger)
CLUTTER_NAMES = {"thumbs.db", ".ds_store", "desktop.ini"}
PARALLEL_THRESHOLD = 16


@dataclass(frozen=True)
class Entry:
    """A file to read: its id for this run, where it is, and the name shown to users."""

    id: int
    path: Path
    file: str


@dataclass(frozen=True)
class Loaded:
    """A file's report and, when a form was found in it, the submission read from it (and what document it is)."""

    report: FileReport
    submission: Submission | None = None
    document: Document | None = None         # a file the spreadsheet reader refused that is a document


def is_clutter(path: Path) -> bool:
    """Office lock files and OS litter that are never submissions."""
    name = path.name
    return name.lower() in CLUTTER_NAMES or name.startswith((*CLUTTER_PREFIXES, OWN_FILES_PREFIX))


def list_inbox(paths: list[Path]) -> list[Entry]:
    """Every file under the given files or folders, with the name shown to users, numbered."""
    found: list[tuple[Path, str]] = []
    for base in paths:
        base = Path(base)
        if base.is_dir():
            for path in sorted(p for p in base.rglob("*") if p.is_file() and not p.name.startswith(OWN_FILES_PREFIX)):
                found.append((path, display_name(path.relative_to(base).as_posix())))
        else:
            found.append((base, display_name(base.name)))
    return [Entry(number, path, shown) for number, (path, shown) in enumerate(found)]


def likely_data_sheet(name: str, state: str) -> bool:
    """Sheets worth parsing first: the forms' own, and hidden ones (they may hide data)."""
    folded = key(name)
    return folded in FORM_SHEET_KEYS or (state != "visible" and folded not in OWN_SHEETS)


def load_file(entry: Entry) -> Loaded:
    """Hash, open and read one file; never raises for a bad file."""
    path, shown = entry.path, entry.file
    report = FileReport(id=entry.id, file=shown, path=path)
    try:
        stat = path.stat()
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        return Loaded(report.with_problems(report.problem("file-corrupt", detail=f"無法讀取檔案：{exc.strerror or exc}")))
    report = replace(report, size=stat.st_size, mtime=stat.st_mtime, sha256=digest)
    if is_clutter(path):
        return Loaded(replace(report, state=IGNORED))
    try:
        workbook = open_workbook(path, wanted=likely_data_sheet)
        found = read_submission(workbook, shown)
        if isinstance(found, list) and any(sheet.skipped for sheet in workbook.sheets):
            workbook = open_workbook(path)  # the form is not where it should be: read every sheet
            found = read_submission(workbook, shown)
    except FileProblem as problem:
        document = examine(path, shown)
        if document is None:
            return Loaded(report.with_problems(problem.problem(shown)))
        report, submission = read_document(report, document)   # a Word work plan, or an award application
        return Loaded(report, submission, document)
    if workbook.has_macros:
        report = report.with_problems(report.problem("macro-ignored"))
    if isinstance(found, list):
        return Loaded(report.with_problems(*found))
    return Loaded(replace(report, form=found.form).with_problems(*found.problems), found)


class Loading:
    """Files being read, in worker processes when there are many, while the caller goes on."""

    def __init__(self, entries: list[Entry], jobs: int | None = None,
                 progress: Callable[[int], None] | None = None):
        jobs = jobs or min(os.cpu_count() or 1, 4)
        self.entries, self.progress = entries, progress
        self.pool = None
        if jobs > 1 and len(entries) >= PARALLEL_THRESHOLD:
            from qos_xl.pipeline.workers import WorkerPool  # multiprocessing: only when it is used

            self.pool = WorkerPool(load_file, entries, jobs)

    def results(self) -> list[Loaded]:
        """Every file's ``Loaded``, in the order given (waits for the workers)."""
        if self.pool is None:
            loaded = []
            for entry in self.entries:
                loaded.append(load_file(entry))
                if self.progress:
                    self.progress(1)
            return loaded
        found: list[Loaded | None] = [None] * len(self.entries)
        with self.pool:
            for outcome in self.pool.outcomes():
                if outcome.error is not None:
                    raise outcome.error
                entry = self.entries[outcome.index]
                found[outcome.index] = crashed_reader(entry) if outcome.crashed else outcome.value
                if self.progress:
                    self.progress(1)
        return found  # type: ignore[return-value]


def crashed_reader(entry: Entry) -> Loaded:
    """The report on a file whose reading ended the worker process (twice): rejected as unreadable."""
    report = FileReport(id=entry.id, file=entry.file, path=entry.path)
    try:
        stat = entry.path.stat()
        with open(entry.path, "rb") as handle:
            report = replace(report, size=stat.st_size, mtime=stat.st_mtime,
                             sha256=hashlib.file_digest(handle, "sha256").hexdigest())
    except OSError:
        pass
    label = entry.path.suffix.lstrip(".").upper() or "未知"
    return Loaded(report.with_problems(report.problem("format-unreadable", format=label,
                                                      detail="讀取時程式異常中止，檔案可能已損毀或含有異常內容")))


def load_files(entries: list[Entry], jobs: int | None = None,
               progress: Callable[[int], None] | None = None) -> list[Loaded]:
    """Load files, in worker processes when there are many."""
    return Loading(entries, jobs, progress).results()
