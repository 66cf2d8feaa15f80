"""各單位完成率: each unit's rate per area and overall, and its chart."""

from __future__ import annotations

import math

from qos_xl.core.vocabulary import SELFCHECK
from qos_xl.output import xlsxout
from qos_xl.output.consolidated.sheet import (CHART_ROW_PX, Book, MAX_CHART_UNITS, MISSING, ONE_LINE, RETURNED, Col, bar_chart, check,
                                              col_letter, fit_height, width_px)
from qos_xl.pipeline.rates import NO_RATE


def write_unit_matrix(book: Book) -> None:
    r = book.result
    areas = book.plan.areas
    cols = [Col("單位", 16)]
    for _ in (*areas, None):
        cols += [Col("完成率", 8.5, "rate"), Col("完成率（件數）", 15, "label")]
    sh = book.sheet("各單位完成率", cols)
    ws, header = sh.ws, book.fmt.header
    sh.set_height(fit_height([(a.label, 23.5) for a in areas]))
    for i, title in enumerate([*(a.label for a in areas), "整體"]):
        check(ws.merge_range(0, 1 + 2 * i, 0, 2 + 2 * i, "", header), "merge_range")
        xlsxout.write_string(ws, 0, 1 + 2 * i, title, header)
    # the vertical merge comes last in row 0: it writes into row 1, after which row 0 is closed
    check(ws.merge_range(0, 0, 1, 0, "單位", header), "merge_range")
    sh.row = 1
    sh.set_height(ONE_LINE)
    for i, title in enumerate(["完成率", "完成率（件數）"] * (len(areas) + 1), start=1):
        xlsxout.write_string(ws, 1, i, title, header)
    sh.row = 2
    units = r.accepted_units
    first = sh.row
    for unit in units:
        rates = [*(r.unit_rates[unit.code].get(a.number, NO_RATE) for a in areas), r.unit_overall(unit.code)]
        sh.line([unit.name, *(v for rate in rates for v in (rate.ratio, rate.label))])
    last = sh.row - 1
    if units:
        rate_cols = [1 + 2 * i for i in range(len(areas) + 1)]
        ranges = " ".join(f"{col_letter(c)}{first + 1}:{col_letter(c)}{last + 1}" for c in rate_cols)
        check(sh.ws.conditional_format(first, rate_cols[0], last, rate_cols[0], {
            "type": "3_color_scale", "multi_range": ranges,
            "min_type": "num", "min_value": 0, "min_color": "#F8696B",
            "mid_type": "num", "mid_value": 0.5, "mid_color": "#FFEB84",
            "max_type": "num", "max_value": 1, "max_color": "#63BE7B"}), "conditional_format")
        overall = [*(r.area_rates.get(a.number, NO_RATE) for a in areas), r.overall]
        sh.line(["全局合計", *(v for rate in overall for v in (rate.ratio, rate.label))], "total")
    else:
        sh.text_row("（本期尚無已接受的自行檢核表）", book.fmt.note)
    waiting = [(u, MISSING) for u in r.missing.get(SELFCHECK, [])] + [(u, RETURNED) for u in r.returned.get(SELFCHECK, [])]
    if waiting:
        sh.skip()
        sh.text_row("未繳交或退回待補正自行檢核表的單位（不列入完成率計算）", book.fmt.section)
        for unit, word in waiting:
            sh.line([unit.name, word], "missing")
    print_to = None
    if units and len(units) <= MAX_CHART_UNITS:
        sh.skip()
        chart, height_px = bar_chart(book.wb, "各單位整體完成率", sh.name, first, len(cols) - 2,
                                      [u.name for u in units], [r.unit_overall(u.code) for u in units],
                                      min(width_px(cols), 800))
        check(sh.ws.insert_chart(sh.row, 0, chart, {"x_offset": 2, "y_offset": 2, "object_position": 2}), "insert_chart")
        print_to = sh.row + math.ceil(height_px / CHART_ROW_PX) + 1
    sh.finish(header_rows=(0, 1), freeze=(2, 1), print_to=print_to)
