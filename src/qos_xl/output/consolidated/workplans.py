"""工作計畫彙整 and 工作計畫涵蓋: the accepted work plans' rows, and how many per area and unit."""

from __future__ import annotations

import pandas as pd

from qos_xl.core.vocabulary import WORKPLAN
from qos_xl.output.consolidated.sheet import MISSING, RETURNED, Book, Col, check, text_of


def write_workplan(book: Book) -> None:
    cols = [Col("單位", 10), Col("實施要項", 16), Col("工作重點", 40), Col("工作(推動)方法", 56), Col("備註", 14),
            Col("來源檔案", 24)]
    # the source file stays in the sheet, off the printed page
    sh = book.sheet("工作計畫彙整", cols, table=True, freeze=(1, 1), autofilter=True, print_cols=len(cols) - 1)
    sh.header()
    frame = book.result.workplan
    if frame.empty:
        sh.text_row("（本期尚無已接受的工作計畫）", book.fmt.note)
    else:
        big = len(book.unit_rank) + 1
        area = pd.to_numeric(frame["area"], errors="coerce")
        keys = pd.DataFrame({"u": frame["unit_code"].map(book.unit_rank).fillna(big).to_numpy(),
                             "a": area.fillna(len(book.area_label) + 1).to_numpy()})
        order = keys.sort_values(["u", "a"], kind="stable").index
        frame, area = frame.iloc[order], area.iloc[order]
        for unit, number, raw, focus, method, remarks, file in zip(
                frame["unit"].tolist(), area.tolist(), frame["area_raw"].tolist(), frame["focus"].tolist(),
                frame["method"].tolist(), frame["remarks"].tolist(), frame["file"].tolist()):
            label = book.area_label.get(int(number)) if not pd.isna(number) else None
            sh.line([text_of(unit), label or text_of(raw), text_of(focus), text_of(method), text_of(remarks), text_of(file)])
    sh.finish()


def write_coverage(book: Book) -> None:
    r = book.result
    areas = book.plan.areas
    cols = [Col("單位", 16), *(Col(a.label, 15, "int") for a in areas), Col("合計", 8, "int", "total")]
    sh = book.sheet("工作計畫涵蓋", cols, table=True, freeze=(1, 1))
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
        sh.line([unit.name, *per_area, sum(n or 0 for n in per_area)])
    if not units:
        sh.text_row("（本期尚無已接受的工作計畫）", book.fmt.note)
    sh.text_row("表中數字為各單位在該實施要項的工作項目數；紅底空白表示該實施要項沒有任何工作項目。", book.fmt.note)
    waiting = [(u, MISSING) for u in r.missing.get(WORKPLAN, [])] + [(u, RETURNED) for u in r.returned.get(WORKPLAN, [])]
    if waiting:
        sh.text_row(f"{MISSING}或{RETURNED}工作計畫的單位", book.fmt.section, height=20.0)
        for unit, word in waiting:
            sh.text_row(f"{unit.name}：{word}", book.fmt.note)
    sh.finish()
    for ws, first, last in sh.parts:     # an area without any work item: a red blank
        if last >= first:
            check(ws.conditional_format(first, 1, last, len(areas), {"type": "blanks", "format": book.fmt.gap}),
                  "conditional_format")
