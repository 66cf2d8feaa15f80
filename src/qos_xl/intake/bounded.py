"""Reading .xls / .xlsb / .ods in the isolated worker: its answer becomes a ``Workbook``, its death a plain ``FileProblem``."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import datetime

from qos_xl.core import platform
from qos_xl.core.problems import FileProblem, column_letter
from qos_xl.intake.book import Sheet, Workbook
from qos_xl.intake.cells import MAX_TEXT
from qos_xl.intake.isolated import DONE_MARK, SHEET_MARK
from qos_xl.intake.zipguard import Limits, corrupt

FORMAT_NAMES = {"ods": "ODS", "xls": "XLS", "xlsb": "XLSB"}
WORKER = "qos_xl.intake.isolated"


def read_isolated(path: str, fmt: str, limits: Limits) -> Workbook:
    """Run the isolated worker on ``path`` (content sniffed as ``fmt``) within ``limits``."""
    # calamine picks its reader from the file name's extension: give it a link whose
    # extension is the format the content was sniffed as
    with tempfile.TemporaryDirectory(prefix="qos-xl-") as tmp:
        link = os.path.join(tmp, f"book.{fmt}")
        platform.link_or_copy(path, link)
        return _run(link, fmt, limits)


def _run(path: str, fmt: str, limits: Limits) -> Workbook:
    label = FORMAT_NAMES[fmt]
    request = {
        "path": path,
        "memory": limits.memory_bytes,
        "cpu": int(limits.timeout_seconds) + 2,
        "max_cells": limits.max_cells,
        "max_total_cells": limits.max_total_cells,
        "parent": os.getpid(),          # the reader ends with this process, however it ends
    }
    # -P: the working directory is not put on sys.path (no stray json.py is imported)
    done = platform.run_bounded([sys.executable, "-P", "-m", WORKER], json.dumps(request).encode(),
                                limits.memory_bytes, limits.timeout_seconds)
    if done.stopped == "unguarded":
        raise FileProblem("format-unreadable", format=label, detail="這台電腦無法限制讀取程式的記憶體，不能安全讀取此格式")
    seconds = f"讀取超過 {limits.timeout_seconds:g} 秒"
    try:
        answer = json.loads(done.stdout) if done.stdout and done.stopped is None else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):                 # stopped or killed: out of memory (abort) or time
        if done.stopped == "time" or platform.killed_for_cpu_time(done.returncode):
            detail = seconds
        else:
            detail = "讀取時耗用的記憶體超過上限"
        sheet = last_sheet(done.stderr)
        if sheet is not None:
            raise FileProblem("sheet-too-large", sheet=sheet, detail=detail)
        raise FileProblem("format-unreadable", format=label, detail=f"{detail}，資料範圍可能過大")
    return _answered(answer, fmt, limits)


def last_sheet(stderr: bytes | None) -> str | None:
    """The sheet a worker was reading when it stopped, from its marks on stderr; None when done or unknown."""
    sheet = None
    for line in (stderr or b"").decode("utf-8", "replace").splitlines():
        if line.startswith(SHEET_MARK + "\t"):
            try:
                sheet = str(json.loads(line.split("\t", 1)[1]))
            except ValueError:
                sheet = None
        elif line == DONE_MARK:
            sheet = None
    return sheet


def _answered(answer: dict, fmt: str, limits: Limits) -> Workbook:
    label = FORMAT_NAMES[fmt]
    error = answer.get("error")
    if error == "password":
        raise FileProblem("file-encrypted")
    if error in ("memory", "cells"):
        sheet = answer.get("sheet")
        detail = answer.get("detail") or "讀取時耗用的記憶體超過上限"
        if isinstance(sheet, str):
            raise FileProblem("sheet-too-large", sheet=sheet, detail=str(detail))
        raise FileProblem("format-unreadable", format=label, detail=str(detail))
    if error == "number":
        row, col = answer.get("cell") or (0, 0)
        raise corrupt(f"工作表「{str(answer.get('sheet'))[:40]}」的 {column_letter(int(col))}{int(row)} 數值無效")
    if error is not None:
        if "cell limit" in str(answer.get("message", "")).lower():
            sheet = answer.get("sheet")
            detail = "資料範圍過大，超過可讀取的儲存格數"
            if isinstance(sheet, str):
                raise FileProblem("sheet-too-large", sheet=sheet, detail=detail)
            raise FileProblem("format-unreadable", format=label, detail=detail)
        raise FileProblem("format-unreadable", format=label, detail="檔案內容無法解析")
    try:
        return _workbook(answer, fmt, limits)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise FileProblem("format-unreadable", format=label, detail="讀取程式回傳的資料無效") from None


def _workbook(answer: dict, fmt: str, limits: Limits) -> Workbook:
    """The worker's answer, checked: positions within Excel's grid, values of the four kinds it sends."""
    book = Workbook(format=fmt, has_macros=bool(answer.get("macro_sheets")))
    for entry in answer.get("sheets", []):
        state = entry.get("state", "visible")
        sheet = Sheet(name=str(entry["name"]), state=state if state in ("visible", "hidden", "veryHidden") else "visible")
        cells = sheet.cells
        for r, c, tag, value in entry.get("cells", []):
            if not (isinstance(r, int) and isinstance(c, int) and 1 <= r <= limits.max_rows and 1 <= c <= limits.max_cols):
                raise FileProblem("sheet-too-large", sheet=sheet.name, detail="資料超出 Excel 的列數或欄數範圍")
            if tag == "s":
                value = str(value)[:MAX_TEXT]
            elif tag == "d":
                value = datetime.fromisoformat(value)
            elif tag == "b":
                value = bool(value)
            elif not isinstance(value, (int, float)) or isinstance(value, bool):
                raise ValueError(value)
            cells[(r, c)] = value
        sheet.merged = [tuple(int(n) for n in m) for m in entry.get("merged", [])]
        book.sheets.append(sheet)
    if not book.sheets:
        raise corrupt("活頁簿中沒有工作表")
    return book
