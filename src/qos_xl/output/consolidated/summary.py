"""摘要: on one A4 page, the key figures, the bureau's rate per area and its chart.

The key figures are a list of ``Info`` lines made by the functions in ``INFO_LINES``, in
order: to show one more figure, add a function that returns its lines there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qos_xl.core.report import state_counts
from qos_xl.core.values import format_roc
from qos_xl.core.vocabulary import COMPARISON_SHEET, FORM_NAMES, SELFCHECK
from qos_xl.output import xlsxout
from qos_xl.output.consolidated.sheet import (CHART_OFFSET_PX, CHART_ROW_PX, MISSING, RETURNED, Book, Col, bar_chart, check,
                                              fit_height, period_name, rate_cells, width_px)
from qos_xl.pipeline.merge import MergeResult
from qos_xl.pipeline.rates import NO_RATE, Rate
from qos_xl.pipeline.status import status_table

NAMES_SHOWN = 10      # a longer list of units is cut short and points to the sheet that lists them all


@dataclass(frozen=True)
class Info:
    """One key figure: its label, its value (text, a count, or a rate shown 0.0% with its counts) and words beside a count."""

    label: str
    value: str | int | Rate
    extra: str = ""


def unit_names(units, sheet: str) -> str:
    """Unit names joined with 、; a long list is cut short and points to ``sheet``."""
    names = [u.name for u in units]
    if len(names) <= NAMES_SHOWN:
        return "、".join(names)
    return "、".join(names[:NAMES_SHOWN]) + f" 等 {len(names)} 個單位（詳見「{sheet}」）"


def period_lines(r: MergeResult) -> list[Info]:
    return [Info("填報期別", period_text(r.period)), Info("製表時間", format_roc(r.made_at, with_time=True))]


def submission_lines(r: MergeResult) -> list[Info]:
    """This period's form: expected = accepted + returned + missing, every unit in exactly one of them."""
    form = r.form
    expected, accepted = len(r.registry.units), r.submission["accepted"]
    returned, missing = r.returned.get(form, []), r.missing.get(form, [])
    return [Info(f"應繳交{FORM_NAMES[form]}單位數", expected),
            Info("已接受" + ("（列入完成率）" if form == SELFCHECK else ""), accepted),
            Info(RETURNED, len(returned), unit_names(returned, MISSING)),
            Info(MISSING, len(missing), unit_names(missing, MISSING)),
            Info("合格繳交率（已接受／應繳交）", Rate(accepted, expected))]   # 未繳交 and 退回 both count against it


def other_form_lines(r: MergeResult) -> list[Info]:
    """The other forms this merge takes in (a self-check period's work plans): who has not sent one, who was sent back."""
    lines = []
    for form in r.missing:
        if form == r.form:
            continue
        name = FORM_NAMES[form]
        lines.append(Info(f"{name}{MISSING}", unit_names(r.missing[form], MISSING) or "（無，全部單位均已繳交）"))
        returned = r.returned.get(form, [])
        if returned:
            lines.append(Info(f"{name}{RETURNED}", unit_names(returned, MISSING)))
    return lines


def checkpoint_lines(r: MergeResult) -> list[Info]:
    """The whole year's record, one line per checkpoint: 已接受 6、退回待修正 1、未繳交 3."""
    year = status_table(r)
    return [Info(f"{title}（{period}）單位數", year.counts(period)) for title, period in zip(year.titles, year.periods)]


def files_lines(r: MergeResult) -> list[Info]:
    received = state_counts(r.files)
    return [Info("收件檔案", f"共 {len(r.files)} 個" + (f"：{received}（詳見「收件紀錄」）" if received else ""))]


def comparison_lines(r: MergeResult) -> list[Info]:
    """December against June, in one line: the bureau's rate in both, and the steps that went back or never started."""
    if r.comparison is None:
        return []
    return [Info(f"與期中（{r.comparison.before}）比較", f"{r.comparison.headline}（詳見「{COMPARISON_SHEET}」）")]


# the key figures, top to bottom
INFO_LINES = (period_lines, comparison_lines, submission_lines, other_form_lines, files_lines, checkpoint_lines)


def write_summary(book: Book) -> None:
    r = book.result
    cols = [Col("實施要項", 36), Col("完成率", 11, "rate"), Col("已完成", 11, "int"), Col("應辦理（扣除不適用）", 16, "int")]
    sh = book.sheet("摘要", cols, landscape=False, freeze=None)
    fmt = book.fmt
    width = sum(c.width for c in cols)
    sh.text_row(book.title, fmt.title, height=max(30.0, xlsxout.row_height([(book.title, width / 1.6)], line_height=22)))
    for make in INFO_LINES:
        for info in make(r):
            write_info(sh, info)
    sh.skip()
    sh.text_row("各實施要項完成率（全局）", fmt.section, height=22.0)
    sh.header()
    first = sh.row
    rates = [r.area_rates.get(a.number, NO_RATE) for a in book.plan.areas]
    for area, rate in zip(book.plan.areas, rates):
        sh.line([area.label, rate_cells(rate)[0], rate.completed, rate.applicable])
    total = r.overall
    sh.line(["全局合計", rate_cells(total)[0], total.completed, total.applicable], "total")
    sh.text_row("完成率＝已完成 ÷ 應辦理；應辦理＝本期應辦執行步驟數 − 不適用。「辦理中」「未辦理」列為未完成；"
                "應辦理為 0 時以「—」表示。全局完成率為各單位件數加總後計算，不是各單位完成率的平均。", fmt.note)
    sh.skip()
    chart, height_px = bar_chart(book.wb, "各實施要項完成率", sh.name, first, 1,
                                 [a.label for a in book.plan.areas], rates, width_px(cols))
    check(sh.ws.insert_chart(sh.row, 0, chart, {"x_offset": CHART_OFFSET_PX, "y_offset": CHART_OFFSET_PX, "object_position": 2}), "insert_chart")
    sh.finish(print_to=sh.row + math.ceil(height_px / CHART_ROW_PX), pages_tall=1)


def write_info(sh, info: Info) -> None:
    """A key figure: the label in column A, the value beside it (a count or rate in B, words after it)."""
    fmt, ws, row = sh.fmt, sh.ws, sh.row
    value, extra = info.value, info.extra
    if isinstance(value, Rate):
        value, extra = rate_cells(value)[0], f"({value.completed}/{value.applicable})"
    text = value if isinstance(value, str) else extra
    sh.set_height(fit_height([(info.label, sh.cols[0].width), (text, sum(c.width for c in sh.cols[1 + (not isinstance(value, str)):]))]))
    xlsxout.write_string(ws, row, 0, info.label, fmt.info_label)
    if isinstance(value, str):
        check(ws.merge_range(row, 1, row, sh.last_col, "", fmt.info), "merge_range")
        xlsxout.write_string(ws, row, 1, value, fmt.info)
    else:
        xlsxout.write_value(ws, row, 1, value, fmt.info_rate if isinstance(value, float) else fmt.info_num)
        if extra:
            check(ws.merge_range(row, 2, row, sh.last_col, "", fmt.info), "merge_range")
            xlsxout.write_string(ws, row, 2, extra, fmt.info)
    sh.row += 1


def period_text(period) -> str:
    """102-06（102 年度期中自行檢核）, 102-12（102 年度執行成果）, 102（102 年度）."""
    if period.month is None:
        return f"{period}（{period.year} 年度）"
    return f"{period}（{period.year} 年度{period_name(period).removeprefix('年度')}）"     # never 「年度年度執行成果」
