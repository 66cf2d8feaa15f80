"""The consolidated bureau workbook: completion rates, details, intake log, for managers.

Written with xlsxwriter, every sheet strictly top to bottom.  The long tables (檢核明細
and the like) go row by row straight to sheet XML spooled on disk
(``xlsxout.BulkWorksheet``), so a city-scale merge (hundreds of thousands of detail rows)
stays fast and small in memory.  There are no formulas: rates are stored as numbers
(LibreOffice does not recalculate on load) beside their display text (``83.3% (10/12)``).
Every string that came from a unit's file is written as a shared string
(``xlsxout.write_string`` or ``BulkWorksheet.add_row``), so it stays text and never
becomes a formula or a link.  The file appears atomically.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import math
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from qos_xl.output import xlsxout
from qos_xl.process import paused_gc
from qos_xl.pipeline.merge import MergeResult, Rate, output_name
from qos_xl.core.problems import FORM_NAMES, STATE_NAMES, column_letter
from qos_xl.pipeline.locate import SELFCHECK, WORKPLAN
from qos_xl.core.values import each_distinct, format_roc

FONT = "微軟正黑體"
MAX_ROW_HEIGHT = 409.0        # Excel's limit, in points
CHART_ROW_PX = 20             # default row height in pixels, for reserving rows under a chart
MAX_CHART_UNITS = 60          # beyond this a per-unit bar chart is unreadable

SEVERITY_NAMES = {"error": "錯誤", "warning": "警告"}
MISSING = "未繳交"

_ONE_LINE = xlsxout.row_height([("", 10)])


def output_path(result: MergeResult, out_dir: Path) -> Path:
    """Where ``merge`` writes the consolidated workbook for this plan and period."""
    return Path(out_dir) / output_name(result.plan, result.period)


# ---------------------------------------------------------------------------------------
# Small helpers


def _missing(value: object) -> bool:
    """None, NaN, NaT or pandas NA."""
    return value is None or (not isinstance(value, str) and pd.isna(value))


def _s(value: object) -> str:
    """A cell value as text; None, NaN and NaT are empty."""
    if isinstance(value, str):
        return value
    return "" if _missing(value) else str(value)


def _texts(values: list) -> list[str]:
    """``_s`` of many values; strings (nearly all) take the short way."""
    return [v if v.__class__ is str else _s(v) for v in values]


def _roc(value: object) -> str:
    """A date, datetime or Timestamp as an ROC date (102/06/30); blank when missing."""
    if _missing(value):
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):  # includes pandas.Timestamp
        value = value.date()
    if isinstance(value, dt.date):
        try:
            return format_roc(value)
        except ValueError:
            return value.isoformat()
    return str(value)


def _roc_time(value: object) -> str:
    """A datetime as ROC date and time (102/06/30 14:05); a date or text as _roc does."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and not _missing(value):
        return f"{_roc(value)} {value:%H:%M}"
    return _roc(value)


def _period_text(period) -> str:
    """102-06（期中自行檢核）, 102-12（年度執行成果）, 102（年度）."""
    if period.month is None:
        return f"{period}（{period.year} 年度）"
    wording = "年度執行成果" if period.month == 12 else "期中自行檢核"
    return f"{period}（{period.year} 年度{wording}）"


def _ratio(rate: Rate) -> float | None:
    """The exact ratio, so a 0.0% cell shows the same figure as ``Rate.label``."""
    return rate.completed / rate.applicable if rate.applicable else None


# Rows sized by qos-xl; further down a city-scale sheet, Excel and LibreOffice size wrapped rows themselves.
SIZED_ROWS = 2_000


@functools.lru_cache(maxsize=65_536)
def _cell_height(text: str, width: float) -> float:
    return xlsxout.row_height([(text, width)])


def _height(pairs: Iterable[tuple[str, float]]) -> float:
    """Row height (points) showing every wrapped cell whole; cheap for short text."""
    height = _ONE_LINE
    for text, width in pairs:
        if text and (2 * len(text) > width - 1 or "\n" in text):
            height = max(height, _cell_height(text, width))
    return min(height, MAX_ROW_HEIGHT)


def _check(code: int, what: str) -> None:
    if code is not None and code < 0:
        raise xlsxout.WriteError(f"xlsxwriter {what} failed ({code})")


# ---------------------------------------------------------------------------------------
# Formats and a sheet written top to bottom


class _Formats:
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


class _Sheet:
    """One worksheet, written strictly row after row.

    A ``table`` sheet is a header and then only ``line``s: those rows are gathered and go
    to the sheet's XML a column at a time (``xlsxout.BulkWorksheet``), which is what keeps
    a city-scale detail sheet fast.
    """

    BATCH_ROWS = 10_000

    def __init__(self, wb, fmt: _Formats, name: str, cols: list[Col], page_title: str, *, table: bool = False):
        self.wb, self.fmt, self.name, self.cols = wb, fmt, name, cols
        self.ws = wb.add_worksheet(name, worksheet_class=xlsxout.BulkWorksheet if table else None)
        self.table = table
        self.row = 0
        self.page_title = page_title
        self._batch: list[tuple[list, str, float | None]] = []
        for i, col in enumerate(cols):
            _check(self.ws.set_column(i, i, col.width), "set_column")

    @property
    def last_col(self) -> int:
        return len(self.cols) - 1

    def _set_height(self, height: float) -> None:
        _check(self.ws.set_row(self.row, height), "set_row")

    def text_row(self, text: str, fmt, *, first_col: int = 0, last_col: int | None = None, height: float | None = None) -> None:
        """A line of text across columns (merged when wider than one column)."""
        last_col = self.last_col if last_col is None else last_col
        width = sum(c.width for c in self.cols[first_col:last_col + 1])
        self._set_height(height if height is not None else _height([(text, width)]))
        if last_col > first_col:
            _check(self.ws.merge_range(self.row, first_col, self.row, last_col, "", fmt), "merge_range")
        xlsxout.write_string(self.ws, self.row, first_col, text, fmt)
        self.row += 1

    def header(self) -> None:
        """The column titles, bold on a shaded ground."""
        self._set_height(_height((c.title, c.width) for c in self.cols))
        for i, col in enumerate(self.cols):
            xlsxout.write_string(self.ws, self.row, i, col.title, self.fmt.header)
        self.row += 1

    def _row_height(self, values) -> float:
        """The height that shows every text value of a row whole."""
        return _height((v, c.width) for v, c in zip(values, self.cols) if isinstance(v, str))

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
            self._set_height(height)
        ws, cells, row = self.ws, self.fmt.cells, self.row
        for i, (value, col) in enumerate(zip(values, cols)):
            fmt = cells[(col.kind, style)]
            if col.kind in ("int", "rate"):
                xlsxout.write_value(ws, row, i, value, fmt)
            elif value is None or value == "":
                _check(ws.write_blank(row, i, None, fmt), "write_blank")
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
            _check(self.ws.autofilter(autofilter[0], 0, self.row - 1, autofilter[1]), "autofilter")
        if print_to is not None:
            _check(self.ws.print_area(0, 0, max(print_to, self.row - 1), self.last_col), "print_area")


def _bar_chart(wb, title: str, sheet: str, first_row: int, value_col: int, categories: list[str],
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
        "values_data": [_ratio(rate) for rate in rates],
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


def _width_px(cols: list[Col]) -> int:
    return int(sum(c.width * 7 + 5 for c in cols))


# ---------------------------------------------------------------------------------------
# The sheets


class _Book:
    def __init__(self, wb, result: MergeResult):
        self.wb, self.result = wb, result
        self.fmt = _Formats(wb)
        self.plan = result.plan
        self.title = f"{self.plan.full_title} 執行成果彙整"
        self.area_label = {a.number: a.label for a in self.plan.areas}
        self.unit_rank = {u.code: i for i, u in enumerate(result.registry.units)}
        self.step_rank = {s.code: i for i, s in enumerate(self.plan.steps)}

    def sheet(self, name: str, cols: list[Col], *, table: bool = False) -> _Sheet:
        return _Sheet(self.wb, self.fmt, name, cols, self.title, table=table)

    def _sorted_steps(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows in registry order of units, then catalogue order of steps."""
        big = len(self.unit_rank) + len(self.step_rank) + 1
        keys = pd.DataFrame({"u": frame["unit_code"].map(self.unit_rank).fillna(big).to_numpy(),
                             "s": frame["code"].map(self.step_rank).fillna(big).to_numpy()})
        order = keys.sort_values(["u", "s"], kind="stable").index
        return frame.iloc[order]

    # -- 摘要 ------------------------------------------------------------------------------
    def summary(self) -> None:
        r = self.result
        cols = [Col("實施要項", 34), Col("已完成", 10, "int"), Col("應辦理（扣除不適用）", 16, "int"),
                Col("完成率", 10, "rate"), Col("完成率（件數）", 18, "label")]
        sh = self.sheet("摘要", cols)
        fmt = self.fmt
        width = sum(c.width for c in cols)
        sh.text_row(self.title, fmt.title, height=max(30.0, xlsxout.row_height([(self.title, width / 1.5)], line_height=24)))
        submission = r.submission
        counts: dict[str, int] = {}
        for report in r.files:
            counts[report.state] = counts.get(report.state, 0) + 1
        received = "、".join(f"{STATE_NAMES.get(s, s)} {n}" for s, n in counts.items())

        def info(label: str, value, kind: str = "text", extra: str = "") -> None:
            sh._set_height(_height([(label, cols[0].width), (extra or _s(value), width - cols[0].width)]))
            xlsxout.write_string(sh.ws, sh.row, 0, label, fmt.info_label)
            if kind == "text":
                _check(sh.ws.merge_range(sh.row, 1, sh.row, 4, "", fmt.info), "merge_range")
                xlsxout.write_string(sh.ws, sh.row, 1, value, fmt.info)
            else:
                xlsxout.write_value(sh.ws, sh.row, 1, value, fmt.info_num if kind == "int" else fmt.info_rate)
                if extra:
                    _check(sh.ws.merge_range(sh.row, 2, sh.row, 4, "", fmt.info), "merge_range")
                    xlsxout.write_string(sh.ws, sh.row, 2, extra, fmt.info)
            sh.row += 1

        submitted = Rate(submission["accepted"], submission["expected"])
        info("填報期別", _period_text(r.period))
        info("製表時間", _roc_time(r.made_at))
        info("應繳交單位數", submission["expected"], "int")
        info("已繳交單位數（本期自行檢核表）", submission["submitted"], "int")
        info("已接受單位數", submission["accepted"], "int")
        info("繳交率（已接受／應繳交）", _ratio(submitted), "rate", f"({submitted.completed}/{submitted.applicable})")
        info("收件檔案", f"共 {len(r.files)} 個" + (f"：{received}" if received else ""))
        for form in (SELFCHECK, WORKPLAN):
            names = "、".join(u.name for u in r.missing.get(form, []))
            info(f"未繳交{FORM_NAMES[form]}", names or "（無，全部單位均已繳交）")
        sh.skip()
        sh.text_row("各實施要項完成率（全局）", fmt.section, last_col=0)
        sh.header()
        first = sh.row
        for area in self.plan.areas:
            rate = r.area_rates.get(area.number, Rate(0, 0))
            sh.line([area.label, rate.completed, rate.applicable, _ratio(rate), rate.label])
        total = r.overall
        sh.line(["全局合計", total.completed, total.applicable, _ratio(total), total.label], "total")
        sh.text_row("完成率＝已完成 ÷ 應辦理；應辦理＝本期應辦執行步驟數 − 不適用。「辦理中」「未辦理」列為未完成；"
                    "應辦理為 0 時以「—」表示。全局完成率為各單位件數加總後計算，不是各單位完成率的平均。", fmt.note)
        sh.skip()
        rates = [r.area_rates.get(a.number, Rate(0, 0)) for a in self.plan.areas]
        chart, height_px = _bar_chart(self.wb, "各實施要項完成率", sh.name, first, 3,
                                      [a.label for a in self.plan.areas], rates, _width_px(cols))
        _check(sh.ws.insert_chart(sh.row, 0, chart, {"x_offset": 2, "y_offset": 2, "object_position": 2}), "insert_chart")
        sh.skip(math.ceil(height_px / CHART_ROW_PX) + 1)
        if r.notes:
            sh.text_row("附註", fmt.section, last_col=0)
            for note in r.notes:
                sh.text_row(f"・{note}", fmt.note)
        sh.finish(header_rows=(0, 0), freeze=(1, 0), print_to=sh.row)

    # -- 各單位完成率 ---------------------------------------------------------------------
    def unit_matrix(self) -> None:
        r = self.result
        areas = self.plan.areas
        cols = [Col("單位", 16)]
        for _ in (*areas, None):
            cols += [Col("完成率", 8.5, "rate"), Col("完成率（件數）", 15, "label")]
        sh = self.sheet("各單位完成率", cols)
        ws, header = sh.ws, self.fmt.header
        sh._set_height(_height([(a.label, 23.5) for a in areas]))
        for i, title in enumerate([*(a.label for a in areas), "整體"]):
            _check(ws.merge_range(0, 1 + 2 * i, 0, 2 + 2 * i, "", header), "merge_range")
            xlsxout.write_string(ws, 0, 1 + 2 * i, title, header)
        # the vertical merge comes last in row 0: it writes into row 1, after which row 0 is closed
        _check(ws.merge_range(0, 0, 1, 0, "單位", header), "merge_range")
        sh.row = 1
        sh._set_height(_ONE_LINE)
        for i, title in enumerate(["完成率", "完成率（件數）"] * (len(areas) + 1), start=1):
            xlsxout.write_string(ws, 1, i, title, header)
        sh.row = 2
        units = r.accepted_units
        first = sh.row
        for unit in units:
            rates = [*(r.unit_rates[unit.code].get(a.number, Rate(0, 0)) for a in areas), r.unit_overall(unit.code)]
            sh.line([unit.name, *(v for rate in rates for v in (_ratio(rate), rate.label))])
        last = sh.row - 1
        if units:
            rate_cols = [1 + 2 * i for i in range(len(areas) + 1)]
            ranges = " ".join(f"{_col(c)}{first + 1}:{_col(c)}{last + 1}" for c in rate_cols)
            _check(sh.ws.conditional_format(first, rate_cols[0], last, rate_cols[0], {
                "type": "3_color_scale", "multi_range": ranges,
                "min_type": "num", "min_value": 0, "min_color": "#F8696B",
                "mid_type": "num", "mid_value": 0.5, "mid_color": "#FFEB84",
                "max_type": "num", "max_value": 1, "max_color": "#63BE7B"}), "conditional_format")
            overall = [*(r.area_rates.get(a.number, Rate(0, 0)) for a in areas), r.overall]
            sh.line(["全局合計", *(v for rate in overall for v in (_ratio(rate), rate.label))], "total")
        else:
            sh.text_row("（本期尚無已接受的自行檢核表）", self.fmt.note)
        missing = r.missing.get(SELFCHECK, [])
        if missing:
            sh.skip()
            sh.text_row("未繳交自行檢核表的單位（不列入完成率計算）", self.fmt.section)
            for unit in missing:
                sh.line([unit.name, MISSING], "missing")
        print_to = None
        if units and len(units) <= MAX_CHART_UNITS:
            sh.skip()
            chart, height_px = _bar_chart(self.wb, "各單位整體完成率", sh.name, first, len(cols) - 2,
                                          [u.name for u in units], [r.unit_overall(u.code) for u in units],
                                          min(_width_px(cols), 800))
            _check(sh.ws.insert_chart(sh.row, 0, chart, {"x_offset": 2, "y_offset": 2, "object_position": 2}), "insert_chart")
            print_to = sh.row + math.ceil(height_px / CHART_ROW_PX) + 1
        sh.finish(header_rows=(0, 1), freeze=(2, 1), print_to=print_to)

    # -- 檢核明細 ---------------------------------------------------------------------------
    def details(self) -> None:
        cols = [Col("單位", 11), Col("項次", 7, "center"), Col("實施要項", 14), Col("執行重點", 22), Col("執行步驟", 32),
                Col("查核期限", 8, "center"), Col("本期應辦", 6, "center"), Col("執行狀態", 8, "center"),
                Col("辦理情形", 34), Col("完成日期", 10.5, "center"), Col("佐證資料", 18), Col("備註", 14),
                Col("來源檔案", 18)]
        sh = self.sheet("檢核明細", cols, table=True)
        sh.header()
        frame = self.result.selfcheck
        if frame.empty:
            sh.text_row("（本期尚無已接受的自行檢核表）", self.fmt.note)
        else:
            frame = self._sorted_steps(frame)
            steps = self.plan.step_by_code
            catalogue = {code: (self.area_label.get(s.area, s.area_title), s.focus_label, s.text, s.deadline)
                         for code, s in steps.items()}
            codes = _texts(frame["code"].tolist())
            plan_texts = list(zip(*(catalogue.get(code, ("", "", "", "")) for code in codes)))
            sh.columns([
                _texts(frame["unit"].tolist()), codes, *map(list, plan_texts),
                ["是" if due else "否" for due in frame["due"].tolist()], _texts(frame["status"].tolist()),
                _texts(frame["narrative"].tolist()), each_distinct(_roc, frame["done_date"].tolist()),
                _texts(frame["evidence"].tolist()), _texts(frame["remarks"].tolist()),
                _texts(frame["file"].tolist()),
            ])
        sh.finish(header_rows=(0, 0), freeze=(1, 2), autofilter=(0, sh.last_col))

    # -- 工作計畫彙整 / 工作計畫涵蓋 --------------------------------------------------------
    def workplan(self) -> None:
        cols = [Col("單位", 12), Col("實施要項", 20), Col("工作重點", 36), Col("工作(推動)方法", 50), Col("備註", 20),
                Col("來源檔案", 18)]
        sh = self.sheet("工作計畫彙整", cols, table=True)
        sh.header()
        frame = self.result.workplan
        if frame.empty:
            sh.text_row("（本期尚無已接受的工作計畫）", self.fmt.note)
        else:
            big = len(self.unit_rank) + 1
            area = pd.to_numeric(frame["area"], errors="coerce")
            keys = pd.DataFrame({"u": frame["unit_code"].map(self.unit_rank).fillna(big).to_numpy(),
                                 "a": area.fillna(len(self.area_label) + 1).to_numpy()})
            order = keys.sort_values(["u", "a"], kind="stable").index
            frame, area = frame.iloc[order], area.iloc[order]
            for unit, number, raw, focus, method, remarks, file in zip(
                    frame["unit"].tolist(), area.tolist(), frame["area_raw"].tolist(), frame["focus"].tolist(),
                    frame["method"].tolist(), frame["remarks"].tolist(), frame["file"].tolist()):
                label = self.area_label.get(int(number)) if not pd.isna(number) else None
                sh.line([_s(unit), label or _s(raw), _s(focus), _s(method), _s(remarks), _s(file)])
        sh.finish(header_rows=(0, 0), freeze=(1, 1), autofilter=(0, sh.last_col))

    def coverage(self) -> None:
        r = self.result
        areas = self.plan.areas
        cols = [Col("單位", 16), *(Col(a.label, 17, "int") for a in areas), Col("合計", 8, "int")]
        sh = self.sheet("工作計畫涵蓋", cols)
        sh.header()
        frame = r.workplan
        counts: dict[tuple[str, int], int] = {}
        if not frame.empty:
            numbers = pd.to_numeric(frame["area"], errors="coerce")
            for (code, number), n in frame.assign(_a=numbers).groupby(["unit_code", "_a"]).size().items():
                counts[(code, int(number))] = int(n)
        have = {code for code, _ in counts}
        units = [u for u in r.registry.units if u.code in have]
        for unit in units:
            per_area = [counts.get((unit.code, a.number)) for a in areas]
            sh._set_height(_height([(unit.name, cols[0].width)]))
            xlsxout.write_string(sh.ws, sh.row, 0, unit.name, self.fmt.cells[("text", "body")])
            for i, n in enumerate(per_area, start=1):
                if n:
                    xlsxout.write_value(sh.ws, sh.row, i, n, self.fmt.cells[("int", "body")])
                else:
                    _check(sh.ws.write_blank(sh.row, i, None, self.fmt.gap), "write_blank")
            xlsxout.write_value(sh.ws, sh.row, len(cols) - 1, sum(n or 0 for n in per_area), self.fmt.cells[("int", "total")])
            sh.row += 1
        if not units:
            sh.text_row("（本期尚無已接受的工作計畫）", self.fmt.note)
        sh.text_row("表中數字為各單位在該實施要項的工作項目數；紅底空白表示該實施要項沒有任何工作項目。", self.fmt.note)
        missing = r.missing.get(WORKPLAN, [])
        if missing:
            sh.skip()
            sh.text_row("未繳交工作計畫的單位", self.fmt.section)
            for unit in missing:
                sh.line([unit.name, MISSING], "missing")
        sh.finish(header_rows=(0, 0), freeze=(1, 1))

    # -- 未繳交 -------------------------------------------------------------------------------
    def missing(self) -> None:
        r = self.result
        cols = [Col("表單", 22), Col("代碼", 8, "center"), Col("機關全銜", 22), Col("類別", 10, "center"), Col("電子郵件", 44)]
        sh = self.sheet("未繳交", cols, table=True)
        sh.header()
        period_of = {SELFCHECK: f"{FORM_NAMES[SELFCHECK]}（{r.period}）", WORKPLAN: f"{FORM_NAMES[WORKPLAN]}（{r.period.year} 年度）"}
        for form in (SELFCHECK, WORKPLAN):
            units = r.missing.get(form, [])
            for unit in units:
                sh.line([period_of[form], unit.code, unit.name, unit.kind, "；".join(unit.emails)])
            if not units:
                sh.line([period_of[form], "", "（全部單位均已繳交）", "", ""])
        sh.finish(header_rows=(0, 0), freeze=(1, 0), autofilter=(0, sh.last_col))

    # -- 未完成項目 ---------------------------------------------------------------------------
    def unfinished(self) -> None:
        cols = [Col("單位", 14), Col("項次", 8, "center"), Col("執行步驟", 60), Col("執行狀態", 10, "center"), Col("辦理情形", 60)]
        sh = self.sheet("未完成項目", cols, table=True)
        sh.header()
        frame = self.result.unfinished
        if frame.empty:
            sh.text_row("（本期沒有未完成的應辦項目）", self.fmt.note)
        else:
            frame = self._sorted_steps(frame)
            steps = self.plan.step_by_code
            for unit, code, status, narrative in zip(frame["unit"].tolist(), frame["code"].tolist(),
                                                     frame["status"].tolist(), frame["narrative"].tolist()):
                step = steps.get(code)
                sh.line([_s(unit), _s(code), step.text if step else "", _s(status) or "（未填）", _s(narrative)])
        sh.finish(header_rows=(0, 0), freeze=(1, 1), autofilter=(0, sh.last_col))

    # -- 收件紀錄 -----------------------------------------------------------------------------
    def intake(self) -> None:
        files = self.result.files
        cols = [Col("檔案", 26), Col("SHA-256", 18), Col("單位", 12), Col("表單", 10, "center"), Col("期別", 8, "center"),
                Col("填報日期", 10.5, "center"), Col("狀態", 8, "center"), Col("錯誤數", 6, "int"), Col("警告數", 6, "int"),
                Col("說明", 40)]
        with_mail = any("sender" in f.extra or "received" in f.extra for f in files)
        if with_mail:
            cols += [Col("寄件者", 22), Col("收件日期", 15, "center")]
        sh = self.sheet("收件紀錄", cols, table=True)
        sh.header()
        for report in files:
            errors = len(report.errors)
            values = [report.file, report.sha256, _s(report.unit), FORM_NAMES.get(report.form, _s(report.form)),
                      _s(report.period), _roc(report.report_date), STATE_NAMES.get(report.state, _s(report.state)),
                      errors, len(report.problems) - errors, _explain(report)]
            if with_mail:
                values += [_s(report.extra.get("sender")), _roc_time(report.extra.get("received"))]
            sh.line(values, "error" if report.state == "rejected" else "body")
        if not files:
            sh.text_row("（收件匣中沒有檔案）", self.fmt.note)
        sh.finish(header_rows=(0, 0), freeze=(1, 1), autofilter=(0, sh.last_col))

    # -- 檢核問題 -----------------------------------------------------------------------------
    def problems(self) -> None:
        cols = [Col("檔案", 24), Col("狀態", 8, "center"), Col("嚴重度", 7, "center"), Col("工作表", 12), Col("儲存格", 7, "center"),
                Col("代碼", 18), Col("說明", 56), Col("填寫內容", 24)]
        sh = self.sheet("檢核問題", cols, table=True)
        sh.header()
        count = 0
        for report in self.result.files:
            state = STATE_NAMES.get(report.state, _s(report.state))
            for p in report.problems:
                sh.line([report.file, state, SEVERITY_NAMES.get(p.severity, p.severity), _s(p.sheet), _s(p.cell), p.code,
                         p.message, _s(p.value)], "error" if p.severity == "error" else "body")
                count += 1
        if not count:
            sh.text_row("（沒有任何檢核問題）", self.fmt.note)
        sh.finish(header_rows=(0, 0), freeze=(1, 1), autofilter=(0, sh.last_col))


def _col(index: int) -> str:
    """0-based column index -> letters."""
    return column_letter(index + 1)


def _explain(report) -> str:
    """Why a file ended in its state, in one line."""
    if "superseded_by" in report.extra:
        return f"已由較新的「{report.extra['superseded_by']}」取代"
    if "duplicate_of" in report.extra:
        return f"與「{report.extra['duplicate_of']}」內容完全相同"
    if report.state == "ignored":
        return "暫存檔或系統檔，不是填報檔案，未處理"
    errors = report.errors
    if errors:
        first = errors[0]
        text = f"{first.where}：{first.message}" if first.where else first.message
        return text + (f"（共 {len(errors)} 個錯誤，詳見「檢核問題」）" if len(errors) > 1 else "")
    warnings = len(report.problems)
    return f"有 {warnings} 個警告，詳見「檢核問題」" if warnings else ""


# ---------------------------------------------------------------------------------------


def write_consolidated(result: MergeResult, path: Path) -> Path:
    """Write the consolidated workbook to ``path`` atomically; the previous file survives a failure."""
    path = Path(path)
    # Millions of short-lived lists and tuples, no reference cycles: the cyclic GC would only
    # rescan the merge's big heap over and over (a third of the time at 1,000 units).
    with paused_gc(), tempfile.TemporaryDirectory(prefix="qos-xl-", ignore_cleanup_errors=True) as scratch, \
            xlsxout.atomic_path(path) as tmp:
        wb = xlsxout.new_workbook(tmp, tmpdir=scratch, fast_save=True)
        book = _Book(wb, result)
        book.summary()
        book.unit_matrix()
        book.details()
        book.workplan()
        book.coverage()
        book.missing()
        book.unfinished()
        book.intake()
        book.problems()
        wb.close()
    return path
