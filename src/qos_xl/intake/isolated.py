"""The isolated reading worker: python-calamine on one .xls / .xlsb / .ods file, in a child process under memory
and time limits, answering ONE JSON object on stdout (never pickle).

Run as ``python -P -m qos_xl.intake.isolated [--rlimits]`` by ``bounded.py``, with the
request on stdin: ``{"path", "memory", "cpu", "max_cells", "max_total_cells"}``.  With
``--rlimits`` (Unix) it bounds its own address space and CPU time before it opens the file;
elsewhere the parent watches it.  calamine can panic or abort on a hostile .xls and
allocates a dense grid from a sheet's first to its last cell; here that costs only this
process.  A worker subverted by a hostile file can at most lie in its answer, which the
parent checks, never run code in the parent.

Before each sheet it writes ``qos-xl-sheet<TAB>"name"`` on stderr, so that a worker the
kernel or the parent stops can still be blamed on the sheet it was reading.

Imports stay light (standard library, python_calamine, ``core.platform``, ``intake.cells``):
the worker starts for every such file.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from qos_xl.core import platform
from qos_xl.intake.cells import cell_value

SHEET_MARK = "qos-xl-sheet"
DONE_MARK = "qos-xl-done"


class _CellLimit(Exception):
    pass


class _BadNumber(Exception):
    pass


def _tagged(value):
    """A qos-xl cell value -> [tag, JSON value]."""
    if isinstance(value, str):
        return ["s", value]
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, datetime):
        return ["d", value.isoformat()]
    return ["n", value]


def _read_sheet(sheet, max_cells: int) -> tuple[list, list]:
    cells = []
    start = sheet.start
    if start is not None:
        top, left = start
        for r, row in enumerate(sheet.to_python(skip_empty_area=True), top + 1):   # begins at `start`
            for c, value in enumerate(row, left + 1):
                if value == "":
                    continue
                try:
                    value = cell_value(value)
                except ValueError:                    # a number that is not finite
                    raise _BadNumber(r, c) from None
                if value is None:
                    continue
                cells.append([r, c, *_tagged(value)])
                if len(cells) > max_cells:
                    raise _CellLimit
    merged = [[a[0] + 1, a[1] + 1, b[0] + 1, b[1] + 1] for a, b in (sheet.merged_cell_ranges or [])]
    return cells, merged


def _state(visible) -> str:
    text = str(visible)
    return "veryHidden" if "VeryHidden" in text else "hidden" if "Hidden" in text else "visible"


def _answer(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=True))
    sys.stdout.flush()


def _mark(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def read(request: dict) -> dict:
    """Read the workbook the request names; the answer, or the error, as one JSON-able dict."""
    from python_calamine import CalamineWorkbook, PasswordError

    current = None
    try:
        try:
            book = CalamineWorkbook.from_path(request["path"])
        except PasswordError:
            return {"error": "password"}
        sheets, macro_sheets, total = [], False, 0
        for index, meta in enumerate(book.sheets_metadata):
            current = meta.name
            _mark(f"{SHEET_MARK}\t{json.dumps(current)}")
            kind = str(meta.typ)
            entry = {"name": current, "state": _state(meta.visible), "cells": [], "merged": []}
            sheets.append(entry)
            macro_sheets = macro_sheets or "Macro" in kind
            if "Chart" in kind or "Dialog" in kind or "Vba" in kind:
                continue
            try:
                entry["cells"], entry["merged"] = _read_sheet(book.get_sheet_by_index(index), request["max_cells"])
            except _BadNumber as bad:
                return {"error": "number", "sheet": current, "cell": list(bad.args)}
            except _CellLimit:
                return {"error": "cells", "sheet": current, "detail": f"超過 {request['max_cells']:,} 個非空白儲存格"}
            total += len(entry["cells"])
            if total > request["max_total_cells"]:
                return {"error": "cells", "sheet": current,
                        "detail": f"整本活頁簿超過 {request['max_total_cells']:,} 個非空白儲存格"}
        _mark(DONE_MARK)
        return {"sheets": sheets, "macro_sheets": macro_sheets}
    except MemoryError:
        return {"error": "memory", "sheet": current}
    except BaseException as e:      # calamine's errors, and pyo3's PanicException (a BaseException)
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return {"error": "unreadable", "sheet": current, "kind": type(e).__name__, "message": str(e)[:300]}


def main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    if "parent" in request:
        platform.die_with_parent(int(request["parent"]))
    if "--rlimits" in sys.argv[1:]:
        platform.limit_self(int(request["memory"]), int(request["cpu"]))
    _answer(read(request))


if __name__ == "__main__":
    main()
