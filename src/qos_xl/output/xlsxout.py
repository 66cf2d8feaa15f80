"""Writing workbooks safely with xlsxwriter's public API: text stays text, rows sized to their text, pages print on A4."""

from __future__ import annotations

import math
from pathlib import Path

import xlsxwriter

from qos_xl.core.text import display_width, safe_text

__all__ = ["EXCEL_ROWS", "WriteError", "display_width", "new_workbook", "print_a4", "row_height", "safe_text",
           "write_string", "write_value"]

EXCEL_ROWS = 1_048_576            # rows of a worksheet in Excel and LibreOffice


class WriteError(Exception):
    """xlsxwriter refused a value; raised instead of silently losing it."""


def new_workbook(path: Path, **options) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook where no string ever becomes a formula, a number or a link.

    ``options`` are xlsxwriter's own (``constant_memory``, ``tmpdir``, ``use_zip64``, ...).
    """
    return xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                           "strings_to_numbers": False, **options})


def write_string(ws, row: int, col: int, value: object, fmt=None) -> None:
    """Write untrusted text as a string cell (never a formula or URL) and check the result."""
    code = ws.write_string(row, col, safe_text(value), fmt)
    if code < 0:
        raise WriteError(f"xlsxwriter write_string failed ({code}) at row {row + 1}, col {col + 1}")


def write_value(ws, row: int, col: int, value: object, fmt=None) -> None:
    """Numbers as numbers, None as blank, everything else as a string."""
    if value is None or value == "":
        code = ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        code = ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        code = ws.write_number(row, col, value, fmt)
    else:
        return write_string(ws, row, col, value, fmt)
    if code < 0:
        raise WriteError(f"xlsxwriter write failed ({code}) at row {row + 1}, col {col + 1}")


def row_height(texts_and_widths, line_height: float = 16.5, min_lines: int = 1) -> float:
    """Row height in points that shows every wrapped cell whole."""
    lines = min_lines
    for text, width in texts_and_widths:
        text = "" if text is None else str(text)
        need = sum(max(1, math.ceil(display_width(part) / max(width - 1, 1))) for part in text.split("\n"))
        lines = max(lines, need)
    return round(lines * line_height + 4, 1)


def print_a4(ws, *, header_rows: tuple[int, int] | None, title: str = "", landscape: bool = True,
             pages_tall: int = 0, gridlines: bool = False) -> None:
    """A4, one page wide (and ``pages_tall`` high, 0: as many as needed), repeated header rows,
    the title in the page header, page numbers in the footer; ``gridlines`` prints the cell grid."""
    ws.set_paper(9)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(1, pages_tall)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if header_rows is not None:
        ws.repeat_rows(*header_rows)
    if title:
        ws.set_header(f"&L&9{title.replace('&', '&&')}")
    ws.set_footer("&C&9第 &P 頁，共 &N 頁")
    if gridlines:
        ws.hide_gridlines(0)       # 0: grid shown on screen and printed
