"""Feedback to a unit: an annotated copy of its own workbook and a receipt to paste into a reply.

For every file with problems, ``write_feedback`` writes into the feedback folder

- ``{stem}_問題標註.xlsx``: the unit's workbook, untouched except that each problem cell
  is filled (errors light red, warnings light yellow) and carries a comment with the
  message(s), and a first sheet ``問題清單`` lists every problem with a link to its cell;
- or, when the original cannot be opened by openpyxl (.ods, .xls, corrupt, encrypted,
  not a spreadsheet, changed since validation), ``{stem}_問題清單.xlsx``: the same list
  as a standalone workbook;
- ``{stem}_回覆.txt``: the receipt text (``receipt_text``), UTF-8, zh-TW.

The inbox file is only ever read.  Everything that came from the unit's file is written
as a string cell, so nothing it typed can become a formula or a link.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from qos_xl.core.problems import ERROR, FORM_NAMES, FileReport, Problem
from qos_xl.core.text import safe_text
from qos_xl.core.values import format_roc

if TYPE_CHECKING:
    from qos_xl.pipeline.validate import Checked

ANNOTATED_SUFFIX = "_問題標註.xlsx"
LIST_SUFFIX = "_問題清單.xlsx"
RECEIPT_SUFFIX = "_回覆.txt"
LIST_SHEET = "問題清單"
AUTHOR = "qos-xl"
SENDER = "秘書室"

ERROR_FILL = "FFC7CE"
WARNING_FILL = "FFEB9C"
HEADER_FILL = "D9E1F2"
LINK_COLOUR = "0563C1"

SEVERITY_NAMES = {ERROR: "錯誤", "warning": "警告"}
OPENPYXL_SUFFIXES = {".xlsx", ".xlsm"}
# problems that mean the safe reader refused the file: openpyxl must not open it either
REFUSED_CODES = frozenset({
    "file-empty", "file-too-large", "file-not-spreadsheet", "file-corrupt", "file-encrypted",
    "archive-too-large", "archive-invalid", "xml-unsafe", "format-unreadable", "sheet-too-large",
})

# 問題清單 layout: (header, width in Excel character units)
COLUMNS = (("嚴重度", 8), ("工作表", 14), ("儲存格", 10), ("問題代碼", 26), ("說明", 60), ("填寫內容", 36))
TITLE_ROW, NOTE_ROW, HEADER_ROW = 1, 2, 3
FIRST_DATA_ROW = 4

_CELL_REF = re.compile(r"^[A-Z]{1,3}[1-9][0-9]{0,6}$")
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MAX_NAME_BYTES = 180
PARALLEL_FEEDBACK = 8          # from this many files with problems, workbooks are written in worker processes
RECEIPT_VALUE_CHARS = 200


class FeedbackError(ValueError):
    """The feedback folder would land inside the inbox (the next run would read it as submissions)."""


# ---------------------------------------------------------------------------------------
# Receipt text


def _clean(value: object, limit: int | None = None) -> str:
    """Untrusted text for plain-text output: no control or bidi-override characters, bounded."""
    text = _BIDI.sub("", safe_text(value))
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return text


def _roc(value) -> str:
    return format_roc(value) if value is not None and hasattr(value, "year") else ""


def _period_text(report: FileReport) -> str:
    period = report.period or ""
    if report.form == "selfcheck" and period.endswith("-06"):
        return f"{period}（期中自行檢核）"
    if report.form == "selfcheck" and period.endswith("-12"):
        return f"{period}（年度執行成果）"
    if report.form == "workplan" and period:
        return f"{period} 年度"
    return period


def _counts(report: FileReport) -> tuple[int, int]:
    errors = len(report.errors)
    return errors, len(report.problems) - errors


def verdict(report: FileReport) -> str:
    """「檢核通過，已收件」, accepted with warnings, or 「檢核未通過，請修正後重新寄送」."""
    errors, warnings_ = _counts(report)
    if report.state == "ignored":
        return "非填報檔案，未檢核"
    if errors:
        return "檢核未通過，請修正後重新寄送"
    if warnings_:
        return f"檢核通過，已收件（另有 {warnings_} 項提醒，請參考）"
    return "檢核通過，已收件"


def receipt_text(report: FileReport, *, annotated: str | None = None, problem_list: str | None = None,
                 note: str | None = None, sender: str = SENDER) -> str:
    """The reply to a unit about one file, ready to paste into an e-mail; works for any report.

    ``annotated`` / ``problem_list`` name the attached feedback workbook, ``note`` says why
    no annotated copy could be made.
    """
    name = _clean(Path(report.file).name)
    unit = _greeting_name(report)
    errors, warnings_ = _counts(report)
    lines = [f"{unit} 您好：", "", "本室已收到貴單位寄送的檔案，檢核結果如下。", ""]
    lines.append(f"檔案名稱：{name}")
    if report.sha256:
        lines.append(f"檔案識別碼（SHA-256 前 12 碼）：{report.sha256[:12]}")
    if report.form:
        lines.append(f"表單：{FORM_NAMES.get(report.form, report.form)}")
    if report.period:
        lines.append(f"期別：{_period_text(report)}")
    if report.report_date:
        lines.append(f"填報日期：{_roc(report.report_date)}")
    lines += ["", f"檢核結果：{verdict(report)}"]
    if report.state == "duplicate":
        lines.append("（本檔案與已收到的另一個檔案內容完全相同，不重複收件。）")
    elif report.state == "superseded":
        lines.append("（本檔案已由貴單位較新的檔案取代，不列入彙整。）")
    if report.problems:
        summary = "、".join(x for x in (f"錯誤 {errors} 項" if errors else "", f"警告 {warnings_} 項" if warnings_ else "") if x)
        lines += ["", f"問題明細（{summary}）："]
        for number, problem in enumerate(report.problems, start=1):
            level = SEVERITY_NAMES.get(problem.severity, problem.severity)
            where = _where_text(problem)
            lines.append(f"{number}. 【{level}】{where}{_clean(problem.message)}")
            if problem.value:
                lines.append(f"   填寫內容：「{_clean(problem.value, RECEIPT_VALUE_CHARS)}」")
    lines.append("")
    if errors:
        lines.append("請依上列說明修正原檔案後，以原檔名重新寄送，並更新「填報日期」。")
    elif warnings_:
        lines.append("以上提醒不影響收件，本次無須重新寄送；如需更正，請修正後以原檔名重新寄送，並更新「填報日期」。")
    else:
        lines.append("本檔案無須修正，謝謝貴單位配合。")
    if annotated:
        lines.append(f"附件「{_clean(annotated)}」以底色標出有問題的儲存格（紅色為錯誤、黃色為警告），"
                     "滑鼠移到儲存格上可看到說明；第一個工作表「問題清單」列出所有問題，點選儲存格位置可直接跳到該處。"
                     "此附件僅供對照，請在原檔案上修正。")
    elif problem_list:
        reason = f"（{note}）" if note else ""
        lines.append(f"本次未附標註副本{reason}；所有問題列於附件「{_clean(problem_list)}」。")
    lines += ["", sender + " 敬上", ""]
    return "\n".join(lines)


def _greeting_name(report: FileReport) -> str:
    """The unit's registry name; a name it typed that is not in the registry only when short and plain."""
    name = _clean(report.unit).strip()
    if report.unit_code or (0 < len(name) <= 30 and "\n" not in name):
        return name or "貴單位"
    return "貴單位"


def _where_text(problem: Problem) -> str:
    if problem.sheet and problem.cell:
        return f"工作表「{_clean(problem.sheet)}」儲存格 {problem.cell}："
    if problem.sheet:
        return f"工作表「{_clean(problem.sheet)}」："
    return ""


# ---------------------------------------------------------------------------------------
# Finding the source file and naming the outputs


def _source_paths(reports: list[FileReport], entries: list[tuple[Path, str]]) -> list[Path | None]:
    """The inbox path of each report: by position when the listing still matches, else by name and hash."""
    if len(entries) == len(reports) and all(shown == r.file for (_, shown), r in zip(entries, reports)):
        return [path for path, _ in entries]
    by_name: dict[str, list[Path]] = {}
    for path, shown in entries:
        by_name.setdefault(shown, []).append(path)
    found: list[Path | None] = []
    for report in reports:
        candidates = by_name.get(report.file, [])
        if len(candidates) > 1 and report.sha256:
            matching = [p for p in candidates if _sha256(p) == report.sha256]
            candidates = matching or candidates
        found.append(candidates[0] if candidates else None)
    return found


def _sha256(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def _bounded_stem(stem: str) -> str:
    """A stem short enough that stem + suffix + hash stays a legal file name."""
    encoded = stem.encode("utf-8")
    if len(encoded) <= MAX_NAME_BYTES:
        return stem
    return encoded[:MAX_NAME_BYTES].decode("utf-8", errors="ignore")


def _output_stems(reports: list[FileReport]) -> list[str]:
    """One stem per report; stems shared by several files get the first 8 hex of their SHA-256."""
    stems = [_bounded_stem(Path(r.file).stem) or "file" for r in reports]
    shared: dict[str, int] = {}
    for report, stem in zip(reports, stems):
        if report.state != "ignored":
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


def _original(report: FileReport, source: Path | None) -> tuple[bytes | None, str]:
    """The bytes openpyxl may annotate, or None and the reason (zh-TW) why not."""
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


def write_feedback(checked: Checked, out_dir: Path, sources: list[Path]) -> list[Path]:
    """Annotated copy (or standalone 問題清單) and receipt for every file with problems; the written paths."""
    from qos_xl.pipeline.load import list_inbox

    out_dir = Path(out_dir)
    sources = [Path(s) for s in sources]
    _check_out_dir(out_dir, sources)
    reports = checked.files
    paths = _source_paths(reports, list_inbox(sources))
    stems = _output_stems(reports)
    protected = {p.resolve() for p in paths if p is not None}
    jobs = []
    for report, source, stem in zip(reports, paths, stems):
        if report.state == "ignored" or not report.problems:
            continue
        targets = tuple(out_dir / f"{stem}{suffix}" for suffix in (ANNOTATED_SUFFIX, LIST_SUFFIX, RECEIPT_SUFFIX))
        if {t.resolve() for t in targets} & protected:
            raise FeedbackError(f"回饋檔案會覆蓋收件檔案「{report.file}」，請改用其他輸出資料夾。")
        jobs.append((report, source, targets))
    if not jobs:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = min(os.cpu_count() or 1, 4)
    if workers > 1 and len(jobs) >= PARALLEL_FEEDBACK:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # openpyxl costs ~0.1 s a workbook.  Fresh ("spawn") workers: forked from a city-scale
        # merge they would each start as big as it is.
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            done = list(pool.map(_write_one, jobs, chunksize=2))
    else:
        done = [_write_one(job) for job in jobs]
    return [path for pair in done for path in pair]


def _write_one(job: tuple[FileReport, Path | None, tuple[Path, Path, Path]]) -> tuple[Path, Path]:
    """One file's feedback workbook and receipt; the two paths written."""
    from qos_xl.output.annotate import annotate, write_standalone  # openpyxl and xlsxwriter: only when there is feedback to write
    from qos_xl.output.xlsxout import write_text_atomic

    report, source, (annotated, standalone, receipt) = job
    data, note = _original(report, source)
    made = None
    if data is not None:
        try:
            annotate(report, data, annotated)
            made = annotated
        except Exception:  # noqa: BLE001 - any workbook openpyxl cannot round-trip gets the standalone list
            note = "原檔案無法由系統開啟加註"
    if made is None:
        write_standalone(report, standalone, f"{note}，因此未產生標註副本，僅列出問題清單。")
        made = standalone
        text = receipt_text(report, problem_list=standalone.name, note=note)
    else:
        text = receipt_text(report, annotated=annotated.name)
    write_text_atomic(receipt, text)
    return made, receipt
