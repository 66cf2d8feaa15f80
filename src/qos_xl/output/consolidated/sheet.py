"""The building blocks of the consolidated workbook: cell formats, a sheet written top to bottom, a bar chart.

Every sheet is written strictly row after row, as xlsxwriter's ``constant_memory`` mode
needs (a city-scale workbook is written in it).  A ``table`` sheet (a header, then one line
per record) keeps its look in its column formats and a printed grid, so a line writes only
the cells that hold something; when it reaches the sheet's row limit it goes on in a
continued sheet (``檢核明細(2)``, ...) under the same header.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat
from dataclasses import dataclass

import pandas as pd

from qos_xl.core.text import MAX_CELL_CHARS
from qos_xl.core.vocabulary import MISSING as MISSING_STATE
from qos_xl.core.vocabulary import CHECKPOINT_NAMES, REJECTED, SELFCHECK_PERIOD_NAMES, SUBMISSION_NAMES
from qos_xl.output import xlsxout
from qos_xl.pipeline.merge import MergeResult
from qos_xl.pipeline.rates import Rate

FONT = "微軟正黑體"
FONT_SIZE = 10
LINE_HEIGHT = 14.5            # points per line of 10-point text (CJK fonts run tall)
ONE_LINE = 15.0               # xlsxwriter's default row height: rows that fit it are not sized
MAX_ROW_HEIGHT = 409.0        # Excel's limit, in points
CHART_ROW_PX = 20             # default row height in pixels, for reserving rows under a chart
MAX_CHART_UNITS = 60          # beyond this a per-unit bar chart is unreadable

MISSING = SUBMISSION_NAMES[MISSING_STATE]     # 未繳交: sent nothing
RETURNED = SUBMISSION_NAMES[REJECTED]        # 退回待修正: sent, every file rejected


# ---------------------------------------------------------------------------------------
# Small helpers


def is_missing(value: object) -> bool:
    """None, NaN, NaT or pandas NA."""
    return value is None or (not isinstance(value, str) and pd.isna(value))


def text_of(value: object) -> str:
    """A cell value as text; None, NaN and NaT are empty."""
    if isinstance(value, str):
        return value
    return "" if is_missing(value) else str(value)


def safe_cell(value: object) -> str | None:
    """A text cell's value made storable (``xlsxout.safe_text``); blank (None, NaN, "") is None."""
    text = text_of(value)
    return xlsxout.safe_text(text) if text else None


def safe_cells(values: list) -> list[str | None]:
    """``safe_cell`` of many values; plain printable text (nearly all) is taken as it is."""
    limit = MAX_CELL_CHARS
    return [v if v.__class__ is str and v.isprintable() and len(v) <= limit and not v.startswith("<r>") else safe_cell(v)
            for v in values]


def texts_of(values: list) -> list[str]:
    """``text_of`` of many values; strings (nearly all) take the short way."""
    return [v if v.__class__ is str else text_of(v) for v in values]


def text_lines(text: str, width: float) -> int:
    """Lines a wrapped text takes in a column ``width`` wide.

    Every non-ASCII character counts as two widths: CJK fonts draw the ambiguous-width marks
    (※, ○, —) full-width too, and a rare narrow accented letter only makes a row a little taller.
    """
    usable = max(width - 1, 1)
    return sum(-(-(2 * len(part) - len(part.encode("ascii", "ignore"))) // usable) or 1 for part in text.split("\n"))


def column_lines(values: list, width: float) -> list[int]:
    """The lines each value of a column takes (1 for blank and short text)."""
    limit = width - 1
    return [text_lines(v, width) if v and v.__class__ is str and (2 * len(v) > limit or "\n" in v) else 1 for v in values]


def fit_height(pairs: Iterable[tuple[str, float]]) -> float:
    """Row height (points) showing every wrapped cell whole; cheap for short text."""
    lines = 1
    for text, width in pairs:
        if text and (2 * len(text) > width - 1 or "\n" in text):
            lines = max(lines, text_lines(text, width))
    return ONE_LINE if lines == 1 else min(lines * LINE_HEIGHT + 4, MAX_ROW_HEIGHT)


def period_name(period) -> str:
    """期中自行檢核, 參獎申請書, 年度執行成果; 工作計畫 for the plan year."""
    return SELFCHECK_PERIOD_NAMES.get(period.month) or CHECKPOINT_NAMES[period.month]


def check(code: int, what: str) -> None:
    if code is not None and code < 0:
        raise xlsxout.WriteError(f"xlsxwriter {what} failed ({code})")


def rate_cells(rate: Rate) -> tuple[object, str]:
    """A rate as its two cells: the ratio (shown 0.0%; "—" when nothing applies) and the counts beside it."""
    return (rate.ratio if rate.applicable else "—"), f"{rate.completed}/{rate.applicable}"


# ---------------------------------------------------------------------------------------
# Formats


class Formats:
    """The workbook's cell formats, each made the first time it is asked for."""

    KINDS = {"text": {}, "center": {"align": "center"}, "int": {"align": "center", "num_format": "0"},
             "rate": {"align": "center", "num_format": "0.0%"}}
    STYLES = {"body": {}, "total": {"bold": True, "bg_color": "#F2F2F2"}, "low": {"bold": True},
              "error": {"font_color": "#9C0006"}}

    def __init__(self, wb):
        self.wb = wb
        self.base = {"font_name": FONT, "font_size": FONT_SIZE, "valign": "top", "text_wrap": True}
        self._made: dict[tuple, object] = {}
        self.title = self._add(bold=True, font_size=16, valign="vcenter")
        self.info_label = self._add(bold=True, font_color="#404040")
        self.info = self._add()
        self.info_num = self._add(align="left", num_format="0")
        self.info_rate = self._add(align="left", num_format="0.0%")
        self.section = self._add(bold=True, font_size=12, font_color="#1F3864", valign="bottom")
        self.note = self._add(font_color="#404040")
        self.header = self._add(bold=True, bg_color="#D9E1F2", align="center", valign="vcenter", border=1,
                                border_color="#A6A6A6")
        self.gap = self._add(bg_color="#FFC7CE", border=1, border_color="#A6A6A6")

    def _add(self, **props):
        return self.wb.add_format({**self.base, **props})

    def cell(self, kind: str, style: str = "body", *, boxed: bool = True):
        """A table cell: ``boxed`` ones carry a border (small sheets), the others rely on the printed grid."""
        made = self._made.get((kind, style, boxed))
        if made is None:
            props = {**self.KINDS[kind], **self.STYLES[style]}
            if boxed:
                props.update(border=1, border_color="#A6A6A6")
            made = self._made[(kind, style, boxed)] = self._add(**props)
        return made


# ---------------------------------------------------------------------------------------
# A sheet written top to bottom


@dataclass(frozen=True)
class Col:
    title: str
    width: float
    kind: str = "text"   # text | center (strings), int, rate (numbers; a rate may be the text "—")
    style: str = "body"  # the look of a table sheet's column: body, or total (bold on grey)
    wrap: bool | None = None   # may need several lines (sizes its rows); default: text columns do

    @property
    def wraps(self) -> bool:
        return self.kind == "text" if self.wrap is None else self.wrap


class Sheet:
    """One worksheet (and its continued sheets), written strictly row after row.

    A ``table`` sheet is a header and then ``line``s: its columns carry the look (column
    formats, a printed grid), a line writes only the cells that hold something, and when
    the sheet is full (``max_rows``) the lines go on in ``name(2)``, ``name(3)``, ... under
    the same header.  Other sheets draw a border round each cell they write.
    """

    def __init__(self, book: Book, name: str, cols: list[Col], *, table: bool = False, landscape: bool = True,
                 freeze: tuple[int, int] | None = None, autofilter: bool = False, print_cols: int | None = None):
        self.book, self.wb, self.fmt, self.name, self.cols = book, book.wb, book.fmt, name, cols
        self.table, self.landscape, self.freeze, self.autofilter = table, landscape, freeze, autofilter
        self.print_cols = len(cols) if print_cols is None else print_cols
        self.max_rows = book.max_rows
        self.part = 1
        self.sheet_name = name
        self.ws = self._new_worksheet()
        self.row = 0
        self.header_rows = 0
        self.last_line = -1               # the last row written by ``line`` in the current part
        self.print_to: int | None = None
        self.pages_tall = 0
        self.parts: list[tuple[object, int, int]] = []   # each finished part: worksheet, first and last line rows
        self._wrapping = [(i, c.width) for i, c in enumerate(cols) if c.wraps]

    def _new_worksheet(self):
        ws = self.wb.add_worksheet(self.sheet_name)
        for i, col in enumerate(self.cols):
            check(ws.set_column(i, i, col.width, self.fmt.cell(col.kind, col.style, boxed=False) if self.table else None),
                  "set_column")
        return ws

    @property
    def last_col(self) -> int:
        return len(self.cols) - 1

    def set_height(self, height: float) -> None:
        if height != ONE_LINE:
            check(self.ws.set_row(self.row, height), "set_row")

    def _room(self) -> None:
        """A table sheet that is full goes on in a continued sheet under the same header."""
        if self.table and self.row >= self.max_rows:
            self._finish_part()
            self.part += 1
            self.sheet_name = f"{self.name}({self.part})"
            self.ws = self._new_worksheet()
            self.row = 0
            self.last_line = -1
            self.header()

    def text_row(self, text: str, fmt, *, first_col: int = 0, last_col: int | None = None, height: float | None = None) -> None:
        """A line of text across columns (merged when wider than one column)."""
        self._room()
        last_col = min(self.print_cols - 1, self.last_col) if last_col is None else last_col
        width = sum(c.width for c in self.cols[first_col:last_col + 1])
        self.set_height(height if height is not None else fit_height([(text, width)]))
        if last_col > first_col:
            check(self.ws.merge_range(self.row, first_col, self.row, last_col, "", fmt), "merge_range")
        xlsxout.write_string(self.ws, self.row, first_col, text, fmt)
        self.row += 1

    def header(self) -> None:
        """The column titles, bold on a shaded ground; printed again on every page."""
        self.set_height(fit_height((c.title, c.width) for c in self.cols))
        for i, col in enumerate(self.cols):
            xlsxout.write_string(self.ws, self.row, i, col.title, self.fmt.header)
        self.row += 1
        self.header_rows = self.row

    def line(self, values: list, style: str = "body") -> None:
        """One row, a value per column: strings for text columns, numbers (or None) for int/rate ones."""
        self._room()
        ws, row = self.ws, self.row
        height = fit_height((values[i], w) for i, w in self._wrapping if values[i].__class__ is str)
        if height != ONE_LINE:
            check(ws.set_row(row, height), "set_row")
        table = self.table
        for i, (value, col) in enumerate(zip(values, self.cols)):
            if table and style == "body":
                if value is None or value == "":
                    continue
                fmt = None                                   # the column's format
            else:
                fmt = self.fmt.cell(col.kind, style, boxed=not table)
            if col.kind in ("int", "rate"):
                xlsxout.write_value(ws, row, i, value, fmt)
            elif value is None or value == "":
                check(ws.write_blank(row, i, None, fmt), "write_blank")
            else:
                xlsxout.write_string(ws, row, i, value, fmt)
        self.last_line = row
        self.row += 1

    def rows(self, columns: list[list]) -> None:
        """Many plain table rows, given column by column (a value is a string, a number or None): the fast way
        into a long table.  Text is made storable, rows are sized from their wrapping columns, blanks are not written."""
        if not columns or not columns[0]:
            return
        text = [col.kind not in ("int", "rate") for col in self.cols]
        columns = [safe_cells(values) if is_text else values for values, is_text in zip(columns, text)]
        lines = [column_lines(columns[i], width) for i, width in self._wrapping]
        most = lines[0] if len(lines) == 1 else list(map(max, *lines)) if lines else repeat(1)
        write_string, write_value = self.ws.write_string, xlsxout.write_value
        for values, height in zip(zip(*columns), most):
            if self.row >= self.max_rows:
                self._room()
                write_string = self.ws.write_string
            row = self.row
            if height > 1:
                check(self.ws.set_row(row, min(height * LINE_HEIGHT + 4, MAX_ROW_HEIGHT)), "set_row")
            for i, value in enumerate(values):
                if value is None or value == "":
                    continue
                if text[i]:
                    if write_string(row, i, value):
                        raise xlsxout.WriteError(f"xlsxwriter could not write row {row + 1}, col {i + 1}")
                else:
                    write_value(self.ws, row, i, value)
            self.last_line = row
            self.row += 1

    def skip(self, rows: int = 1) -> None:
        self.row += rows

    def finish(self, *, print_to: int | None = None, pages_tall: int = 0) -> None:
        """Print setup (A4, one page wide, ``pages_tall`` high; the header repeated), frozen panes, filter.

        ``print_to``: the last row to print (a chart below the cells reaches further down).
        """
        self.print_to, self.pages_tall = print_to, pages_tall
        self._finish_part()

    def _finish_part(self) -> None:
        ws = self.ws
        self.parts.append((ws, self.header_rows, self.last_line))
        header = (0, self.header_rows - 1) if self.header_rows else None
        xlsxout.print_a4(ws, header_rows=header, title=f"{self.book.title}　{self.sheet_name}", landscape=self.landscape,
                         pages_tall=self.pages_tall, gridlines=self.table)
        if self.freeze:
            ws.freeze_panes(*self.freeze)
        if self.autofilter and self.header_rows and self.last_line >= self.header_rows:
            check(ws.autofilter(self.header_rows - 1, 0, self.last_line, self.last_col), "autofilter")
        if self.print_cols < len(self.cols) or self.print_to is not None:
            last_row = self.row - 1 if self.print_to is None else max(self.print_to, self.row - 1)
            check(ws.print_area(0, 0, last_row, self.print_cols - 1), "print_area")


def bar_chart(wb, title: str, sheet: str, first_row: int, value_col: int, categories: list[str],
              rates: list[Rate], width_px: int, *, marked: list[bool] | None = None, bar_px: int = 36):
    """A horizontal bar chart of rates (0–100%), categories in column A, each bar labelled ``83.3% (10/12)``.

    ``marked`` bars are drawn dark and their labels start with ※, so they stand out in
    black and white too.  The plot area is laid out by hand so that long category names fit
    on the left and a label beside a 100% bar still fits on the right.
    """
    marked = marked or [False] * len(categories)
    last_row = first_row + len(categories) - 1
    height_px = 80 + bar_px * len(categories)
    left = min(6 * max((xlsxout.display_width(c) for c in categories), default=0) + 24, int(width_px * 0.45))
    right, top, bottom = 120, 40, 30
    chart = wb.add_chart({"type": "bar"})
    font = {"name": FONT, "size": 9}
    chart.add_series({
        "name": "完成率",
        "categories": [sheet, first_row, 0, last_row, 0],
        "values": [sheet, first_row, value_col, last_row, value_col],
        "fill": {"color": LIGHT_BAR},
        "border": {"color": "#595959"},
        "points": [{"fill": {"color": DARK_BAR}} if low else None for low in marked],
        "gap": 50,
        "data_labels": {"value": True, "num_format": "0.0%", "font": font, "position": "outside_end",
                        "custom": [{"value": f"※{rate.label}" if low else rate.label, "font": font}
                                   for rate, low in zip(rates, marked)]},
    })
    chart.set_title({"name": title, "name_font": {"name": FONT, "size": 11, "bold": True}})
    chart.set_x_axis({"min": 0, "max": 1, "major_unit": 0.2, "num_format": "0%", "num_font": font,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_y_axis({"reverse": True, "crossing": "max", "num_font": font})
    chart.set_legend({"none": True})
    chart.set_plotarea({"layout": {"x": left / width_px, "y": top / height_px,
                                   "width": (width_px - left - right) / width_px,
                                   "height": (height_px - top - bottom) / height_px}})
    chart.set_size({"width": width_px, "height": height_px})
    return chart, height_px


LIGHT_BAR = "#9DC3E6"     # light in greyscale too
DARK_BAR = "#C00000"      # a bar below the alert threshold: dark red, dark grey in black and white


CHART_OFFSET_PX = 2        # a chart is placed this far in from its top-left cell


def width_px(cols: list[Col]) -> int:
    """The width a chart placed ``CHART_OFFSET_PX`` in may take to end inside the last column (and the printed page):
    the columns as Excel draws them (7 pixels a character, rounded, plus 5), less the offset at both ends."""
    return sum(int(c.width * 7 + 0.5) + 5 for c in cols) - 2 * CHART_OFFSET_PX


class Book:
    """The workbook being written and what every sheet needs: formats, the merge, the plan's labels and orders."""

    def __init__(self, wb, result: MergeResult, *, max_rows: int = xlsxout.EXCEL_ROWS):
        self.wb, self.result, self.max_rows = wb, result, max_rows
        self.fmt = Formats(wb)
        self.plan = result.plan
        # on every printed page (the page header) too: a June page and a December page never look alike
        self.title = f"{self.plan.full_title} {period_name(result.period)}彙整（{result.period}）"
        self.area_label = {a.number: a.label for a in self.plan.areas}
        self.unit_rank = {u.code: i for i, u in enumerate(result.registry.units)}
        self.step_rank = {s.code: i for i, s in enumerate(self.plan.steps)}

    def sheet(self, name: str, cols: list[Col], **options) -> Sheet:
        return Sheet(self, name, cols, **options)

    def sorted_steps(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows in registry order of units, then catalogue order of steps."""
        big = len(self.unit_rank) + len(self.step_rank) + 1
        keys = pd.DataFrame({"u": frame["unit_code"].map(self.unit_rank).fillna(big).to_numpy(),
                             "s": frame["code"].map(self.step_rank).fillna(big).to_numpy()})
        order = keys.sort_values(["u", "s"], kind="stable").index
        return frame.iloc[order]
