"""The building blocks of the consolidated workbook: cell formats, a sheet written top to bottom, a bar chart.

A ``table`` sheet is a header and then only lines: those rows go to the sheet's XML a
column at a time (``xlsxout.BulkWorksheet``), which keeps a city-scale detail sheet fast
and small in memory.  Every string is written as a shared string, so it stays text.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from qos_xl.core.problems import column_letter
from qos_xl.output import xlsxout
from qos_xl.pipeline.merge import MergeResult
from qos_xl.pipeline.rates import Rate

FONT = "微軟正黑體"
MAX_ROW_HEIGHT = 409.0        # Excel's limit, in points
CHART_ROW_PX = 20             # default row height in pixels, for reserving rows under a chart
MAX_CHART_UNITS = 60          # beyond this a per-unit bar chart is unreadable

MISSING = "未繳交"
RETURNED = "退回待補正"

ONE_LINE = xlsxout.row_height([("", 10)])


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


def texts_of(values: list) -> list[str]:
    """``text_of`` of many values; strings (nearly all) take the short way."""
    return [v if v.__class__ is str else text_of(v) for v in values]


# Rows sized by qos-xl; further down a city-scale sheet, Excel and LibreOffice size wrapped rows themselves.
SIZED_ROWS = 2_000


@functools.lru_cache(maxsize=65_536)
def _cell_height(text: str, width: float) -> float:
    return xlsxout.row_height([(text, width)])


def fit_height(pairs: Iterable[tuple[str, float]]) -> float:
    """Row height (points) showing every wrapped cell whole; cheap for short text."""
    height = ONE_LINE
    for text, width in pairs:
        if text and (2 * len(text) > width - 1 or "\n" in text):
            height = max(height, _cell_height(text, width))
    return min(height, MAX_ROW_HEIGHT)


def check(code: int, what: str) -> None:
    if code is not None and code < 0:
        raise xlsxout.WriteError(f"xlsxwriter {what} failed ({code})")


# ---------------------------------------------------------------------------------------
# Formats and a sheet written top to bottom


class Formats:
    """Every cell format of the workbook, made once."""

    def __init__(self, wb):
        base = {"font_name": FONT, "font_size": 11, "valign": "vcenter", "text_wrap": True}
        cell = {**base, "border": 1, "border_color": "#A6A6A6"}

        def make(**props):
            return wb.add_format({**cell, **props})

        self.title = wb.add_format({**base, "bold": True, "font_size": 16, "valign": "vcenter"})
        self.info_label = wb.add_format({**base, "bold": True, "font_color": "#404040"})
        self.info = wb.add_format({**base})
        self.info_num = wb.add_format({**base, "align": "left", "num_format": "0"})
        self.info_rate = wb.add_format({**base, "align": "left", "num_format": "0.0%"})
        self.section = wb.add_format({**base, "bold": True, "font_size": 12, "font_color": "#1F3864"})
        self.note = wb.add_format({**base, "font_color": "#404040"})
        self.header = make(bold=True, bg_color="#D9E1F2", align="center", valign="vcenter")
        self.gap = make(bg_color="#FFC7CE", align="center")
        kinds = {"text": {}, "center": {"align": "center"}, "int": {"align": "center", "num_format": "0"},
                 "rate": {"align": "center", "num_format": "0.0%"}, "label": {"align": "center"}}
        styles = {"body": {}, "total": {"bold": True, "bg_color": "#F2F2F2"},
                  "missing": {"font_color": "#9C0006"}, "error": {"font_color": "#9C0006"}}
        self.cells = {(kind, style): make(**kprops, **sprops)
                      for kind, kprops in kinds.items() for style, sprops in styles.items()}


@dataclass(frozen=True)
class Col:
    title: str
    width: float
    kind: str = "text"   # text | center | label (strings), int, rate (numbers)


class Sheet:
    """One worksheet, written strictly row after row.

    A ``table`` sheet is a header and then only ``line``s: those rows are gathered and go
    to the sheet's XML a column at a time (``xlsxout.BulkWorksheet``), which is what keeps
    a city-scale detail sheet fast.
    """

    BATCH_ROWS = 10_000

    def __init__(self, wb, fmt: Formats, name: str, cols: list[Col], page_title: str, *, table: bool = False):
        self.wb, self.fmt, self.name, self.cols = wb, fmt, name, cols
        self.ws = wb.add_worksheet(name, worksheet_class=xlsxout.BulkWorksheet if table else None)
        self.table = table
        self.row = 0
        self.page_title = page_title
        self._batch: list[tuple[list, str, float | None]] = []
        for i, col in enumerate(cols):
            check(self.ws.set_column(i, i, col.width), "set_column")

    @property
    def last_col(self) -> int:
        return len(self.cols) - 1

    def set_height(self, height: float) -> None:
        check(self.ws.set_row(self.row, height), "set_row")

    def text_row(self, text: str, fmt, *, first_col: int = 0, last_col: int | None = None, height: float | None = None) -> None:
        """A line of text across columns (merged when wider than one column)."""
        last_col = self.last_col if last_col is None else last_col
        width = sum(c.width for c in self.cols[first_col:last_col + 1])
        self.set_height(height if height is not None else fit_height([(text, width)]))
        if last_col > first_col:
            check(self.ws.merge_range(self.row, first_col, self.row, last_col, "", fmt), "merge_range")
        xlsxout.write_string(self.ws, self.row, first_col, text, fmt)
        self.row += 1

    def header(self) -> None:
        """The column titles, bold on a shaded ground."""
        self.set_height(fit_height((c.title, c.width) for c in self.cols))
        for i, col in enumerate(self.cols):
            xlsxout.write_string(self.ws, self.row, i, col.title, self.fmt.header)
        self.row += 1

    def _row_height(self, values) -> float:
        """The height that shows every text value of a row whole."""
        return fit_height((v, c.width) for v, c in zip(values, self.cols) if isinstance(v, str))

    def line(self, values: list, style: str = "body") -> None:
        """One table row, a value per column: strings for text columns, numbers (or None) for int/rate."""
        cols = self.cols
        height = self._row_height(values) if self.row < SIZED_ROWS else None
        if self.table:
            self._batch.append((values, style, height))
            self.row += 1
            if len(self._batch) >= self.BATCH_ROWS:
                self._flush()
            return
        if height is not None:
            self.set_height(height)
        ws, cells, row = self.ws, self.fmt.cells, self.row
        for i, (value, col) in enumerate(zip(values, cols)):
            fmt = cells[(col.kind, style)]
            if col.kind in ("int", "rate"):
                xlsxout.write_value(ws, row, i, value, fmt)
            elif value is None or value == "":
                check(ws.write_blank(row, i, None, fmt), "write_blank")
            else:
                xlsxout.write_string(ws, row, i, value, fmt)
        self.row += 1

    def columns(self, columns: list[list], style: str = "body") -> None:
        """Many table rows at once, given column by column: the fast way into a table sheet."""
        self._flush()
        count = len(columns[0]) if columns else 0
        for start in range(0, count, self.BATCH_ROWS):
            chunk = [values[start:start + self.BATCH_ROWS] for values in columns]
            size = len(chunk[0])
            sized = max(0, min(size, SIZED_ROWS - self.row))
            heights = [self._row_height(row) for row in zip(*(values[:sized] for values in chunk))] + [None] * (size - sized)
            self.row += size
            self._write_columns(chunk, [style] * size, heights)

    def _flush(self) -> None:
        """The rows gathered by ``line``, handed over column by column."""
        batch, self._batch = self._batch, []
        if batch:
            rows, styles, heights = zip(*batch)
            self._write_columns([list(values) for values in zip(*rows)], styles, heights)

    def _write_columns(self, columns: list[list], styles, heights) -> None:
        xf_columns = []
        for i, (col, values) in enumerate(zip(self.cols, columns)):
            if col.kind not in ("int", "rate"):
                columns[i] = [v if v is None or v.__class__ is str else str(v) for v in values]
            xf = {style: self.fmt.cells[(col.kind, style)]._get_xf_index() for style in set(styles)}
            xf_columns.append([xf[styles[0]]] * len(styles) if len(xf) == 1 else [xf[style] for style in styles])
        self.ws.add_rows(self.row - len(heights), columns, xf_columns, list(heights))

    def skip(self, rows: int = 1) -> None:
        self.row += rows

    def finish(self, *, header_rows: tuple[int, int] | None, freeze: tuple[int, int] | None,
               autofilter: tuple[int, int] | None = None, print_to: int | None = None) -> None:
        """Print setup (A4 landscape, 1 page wide, repeated header), frozen panes, filter."""
        if self.table:
            self._flush()
        xlsxout.print_a4(self.ws, header_rows=header_rows, title=f"{self.page_title}　{self.name}")
        if freeze:
            self.ws.freeze_panes(*freeze)
        if autofilter and self.row - 1 > autofilter[0]:
            check(self.ws.autofilter(autofilter[0], 0, self.row - 1, autofilter[1]), "autofilter")
        if print_to is not None:
            check(self.ws.print_area(0, 0, max(print_to, self.row - 1), self.last_col), "print_area")


def bar_chart(wb, title: str, sheet: str, first_row: int, value_col: int, categories: list[str],
               rates: list[Rate], width_px: int):
    """A horizontal bar chart of rates (0–100%), categories in column A, each bar labelled ``83.3% (10/12)``.

    The plot area is laid out by hand so that long category names fit on the left and a
    label beside a 100% bar still fits on the right.  The cells' values are also given as
    the chart's cached data, so viewers that do not recalculate still draw the bars and
    the categories are never declared numbers.
    """
    last_row = first_row + len(categories) - 1
    height_px = 90 + 36 * len(categories)
    left = min(6 * max((xlsxout.display_width(c) for c in categories), default=0) + 24, int(width_px * 0.45))
    right, top, bottom = 110, 44, 34
    chart = wb.add_chart({"type": "bar"})
    font = {"name": FONT, "size": 9}
    chart.add_series({
        "name": "完成率",
        "categories": [sheet, first_row, 0, last_row, 0],
        "values": [sheet, first_row, value_col, last_row, value_col],
        "categories_data": list(categories),
        "values_data": [rate.ratio for rate in rates],
        "fill": {"color": "#4472C4"},
        "gap": 60,
        "data_labels": {"value": True, "num_format": "0.0%", "font": font, "position": "outside_end",
                        "custom": [{"value": rate.label, "font": font} for rate in rates]},
    })
    chart.set_title({"name": title, "name_font": {"name": FONT, "size": 12, "bold": True}})
    chart.set_x_axis({"min": 0, "max": 1, "major_unit": 0.2, "num_format": "0%", "num_font": font,
                      "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_y_axis({"reverse": True, "crossing": "max", "num_font": font})
    chart.set_legend({"none": True})
    chart.set_plotarea({"layout": {"x": left / width_px, "y": top / height_px,
                                   "width": (width_px - left - right) / width_px,
                                   "height": (height_px - top - bottom) / height_px}})
    chart.set_size({"width": width_px, "height": height_px})
    return chart, height_px


def width_px(cols: list[Col]) -> int:
    return int(sum(c.width * 7 + 5 for c in cols))


class Book:
    """The workbook being written and what every sheet needs: formats, the merge, the plan's labels and orders."""

    def __init__(self, wb, result: MergeResult):
        self.wb, self.result = wb, result
        self.fmt = Formats(wb)
        self.plan = result.plan
        self.title = f"{self.plan.full_title} 執行成果彙整"
        self.area_label = {a.number: a.label for a in self.plan.areas}
        self.unit_rank = {u.code: i for i, u in enumerate(result.registry.units)}
        self.step_rank = {s.code: i for i, s in enumerate(self.plan.steps)}

    def sheet(self, name: str, cols: list[Col], *, table: bool = False) -> Sheet:
        return Sheet(self.wb, self.fmt, name, cols, self.title, table=table)

    def sorted_steps(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows in registry order of units, then catalogue order of steps."""
        big = len(self.unit_rank) + len(self.step_rank) + 1
        keys = pd.DataFrame({"u": frame["unit_code"].map(self.unit_rank).fillna(big).to_numpy(),
                             "s": frame["code"].map(self.step_rank).fillna(big).to_numpy()})
        order = keys.sort_values(["u", "s"], kind="stable").index
        return frame.iloc[order]


def col_letter(index: int) -> str:
    """0-based column index -> letters."""
    return column_letter(index + 1)
