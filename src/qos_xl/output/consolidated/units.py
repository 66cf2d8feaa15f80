"""各單位完成率: the units ranked by overall rate, lowest first, with their per-area rates and a chart in the same order.

A unit whose overall rate is below the alert threshold (``完成率警示門檻`` in settings.csv)
is marked with ※ and in bold, which prints in black and white as well as in colour.
"""

from __future__ import annotations

import math
import unicodedata
from fractions import Fraction

from qos_xl.core.config import ConfigError
from qos_xl.core.vocabulary import DOING, NOT_DONE, SELFCHECK
from qos_xl.output import xlsxout
from qos_xl.output.consolidated.sheet import (CHART_OFFSET_PX, CHART_ROW_PX, MAX_CHART_UNITS, MISSING, RETURNED, Book, Col,
                                              bar_chart, check, fit_height, rate_cells, width_px)
from qos_xl.pipeline.rates import NO_RATE

ALERT_SETTING = "完成率警示門檻"
DEFAULT_ALERT = 0.6
ONE_PAGE_UNITS = 40     # up to this many units the sheet is scaled to one page


def alert_threshold(plan) -> float:
    """The rate below which a unit is marked, from settings.csv (0.6, 60%, or 60); 0.6 when the row is absent."""
    raw = plan.settings.get(ALERT_SETTING, "").strip()
    if not raw:
        return DEFAULT_ALERT
    text = unicodedata.normalize("NFKC", raw).replace(" ", "")
    percent = text.endswith("%")
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        value = math.nan
    if percent or value > 1:
        value /= 100
    if not 0 <= value <= 1:     # also NaN
        raise ConfigError([f"settings.csv：「{ALERT_SETTING}」須為 0 到 1 之間的小數（例如 0.6）或百分比（例如 60%），"
                           f"目前是「{raw}」。請修正後再執行。"])
    return value


def ranked(units, overall) -> list:
    """Lowest overall rate first, ties by name; units with no applicable step (rate —) last, by name."""
    def key(unit):
        rate = overall(unit.code)
        return (1, 0, unit.name) if not rate.applicable else (0, Fraction(rate.completed, rate.applicable), unit.name)
    return sorted(units, key=key)


def open_counts(book: Book) -> dict[str, tuple[int, int]]:
    """Unit code -> (未辦理, 辦理中) among its due steps."""
    frame = book.result.selfcheck
    if frame.empty:
        return {}
    due = frame[frame["due"] & frame["status"].isin([NOT_DONE, DOING])]
    counts = due.groupby(["unit_code", "status"]).size()
    result: dict[str, tuple[int, int]] = {}
    for (code, status), n in counts.items():
        not_done, doing = result.get(code, (0, 0))
        result[code] = (not_done + int(n), doing) if status == NOT_DONE else (not_done, doing + int(n))
    return result


def write_unit_matrix(book: Book) -> None:
    r = book.result
    areas = book.plan.areas
    threshold = alert_threshold(book.plan)
    percent = f"{threshold:.0%}" if threshold * 100 == round(threshold * 100) else f"{threshold:.1%}"
    mark = f"※未達{percent}"
    cols = [Col("單位", 14), Col("完成率", 8, "rate"), Col("件數", 7, "center"), Col("未辦理", 6.5, "int"),
            Col("辦理中", 6.5, "int")]
    for _ in areas:
        cols += [Col("完成率", 7.5, "rate"), Col("件數", 6.5, "center")]
    cols.append(Col("警示", 10, "center"))
    units = ranked(r.accepted_units, r.unit_overall)
    small = len(units) <= ONE_PAGE_UNITS
    sh = book.sheet("各單位完成率", cols, freeze=(2, 1))
    ws, header = sh.ws, book.fmt.header
    sh.set_height(fit_height([(a.label, 13) for a in areas]))
    groups = [(1, "整體"), *((5 + 2 * i, a.label) for i, a in enumerate(areas))]
    singles = ((0, "單位"), (3, "未辦理"), (4, "辦理中"), (len(cols) - 1, "警示"))
    # constant_memory writes row by row, so no merge spans two rows: a single column's title sits in the second row
    for col, title in groups:
        check(ws.merge_range(0, col, 0, col + 1, "", header), "merge_range")
        xlsxout.write_string(ws, 0, col, title, header)
    for col, _ in singles:
        check(ws.write_blank(0, col, None, header), "write_blank")
    sh.row = 1
    for col, _ in groups:
        xlsxout.write_string(ws, 1, col, "完成率", header)
        xlsxout.write_string(ws, 1, col + 1, "件數", header)
    for col, title in singles:
        xlsxout.write_string(ws, 1, col, title, header)
    sh.row = sh.header_rows = 2
    first = sh.row
    counts = open_counts(book)
    marked = []
    for unit in units:
        overall = r.unit_overall(unit.code)
        low = bool(overall.applicable) and overall.completed < threshold * overall.applicable
        marked.append(low)
        rates = [r.unit_rates[unit.code].get(a.number, NO_RATE) for a in areas]
        sh.line([unit.name, *rate_cells(overall), *counts.get(unit.code, (0, 0)),
                 *(v for rate in rates for v in rate_cells(rate)), mark if low else ""], "low" if low else "body")
    if units:
        overall = [r.area_rates.get(a.number, NO_RATE) for a in areas]
        total_open = [sum(c[i] for c in counts.values()) for i in (0, 1)]
        sh.line(["全局合計", *rate_cells(r.overall), *total_open, *(v for rate in overall for v in rate_cells(rate)), ""],
                "total")
    else:
        sh.text_row("（本期尚無已接受的自行檢核表）", book.fmt.note)
    notes = [f"依整體完成率由低至高排列（相同者依單位名稱）。※ 與粗體：整體完成率未達警示門檻 {percent}"
             "（門檻由秘書室設定）。未辦理、辦理中為本期應辦步驟的件數。"]
    if any(not r.unit_overall(u.code).applicable for u in units):
        notes.append("完成率「—」：本期應辦步驟均為不適用，無法計算，排在最後。")
    for note in notes:
        sh.text_row(note, book.fmt.note)
    waiting = [(u, MISSING) for u in r.missing.get(SELFCHECK, [])] + [(u, RETURNED) for u in r.returned.get(SELFCHECK, [])]
    if waiting:
        sh.text_row(f"{MISSING}或{RETURNED}自行檢核表的單位（不列入完成率計算）", book.fmt.section, height=20.0)
        for unit, word in waiting:
            sh.text_row(f"{unit.name}：{word}", book.fmt.note)
    print_to = None
    if units and len(units) <= MAX_CHART_UNITS:
        sh.skip()
        chart, height_px = bar_chart(book.wb, "各單位整體完成率（由低至高）", sh.name, first, 1,
                                     [u.name for u in units], [r.unit_overall(u.code) for u in units],
                                     min(width_px(cols), 900), marked=marked, bar_px=24)
        check(ws.insert_chart(sh.row, 0, chart, {"x_offset": CHART_OFFSET_PX, "y_offset": CHART_OFFSET_PX, "object_position": 2}), "insert_chart")
        print_to = sh.row + math.ceil(height_px / CHART_ROW_PX)
    sh.finish(print_to=print_to, pages_tall=1 if small else 0)

