"""工作計畫彙整 and 工作計畫涵蓋: the accepted work plans' rows, and how many per area and unit."""

from __future__ import annotations

import pandas as pd

from qos_xl.core.vocabulary import WORKPLAN
from qos_xl.output import xlsxout
from qos_xl.output.consolidated.sheet import Book, MISSING, Col, check, fit_height, text_of


def write_workplan(book: Book) -> None:
    cols = [Col("單位", 12), Col("實施要項", 20), Col("工作重點", 36), Col("工作(推動)方法", 50), Col("備註", 20),
            Col("來源檔案", 18)]
    sh = book.sheet("工作計畫彙整", cols, table=True)
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
    sh.finish(header_rows=(0, 0), freeze=(1, 1), autofilter=(0, sh.last_col))


def write_coverage(book: Book) -> None:
    r = book.result
    areas = book.plan.areas
    cols = [Col("單位", 16), *(Col(a.label, 17, "int") for a in areas), Col("合計", 8, "int")]
    sh = book.sheet("工作計畫涵蓋", cols)
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
        sh.set_height(fit_height([(unit.name, cols[0].width)]))
        xlsxout.write_string(sh.ws, sh.row, 0, unit.name, book.fmt.cells[("text", "body")])
        for i, n in enumerate(per_area, start=1):
            if n:
                xlsxout.write_value(sh.ws, sh.row, i, n, book.fmt.cells[("int", "body")])
            else:
                check(sh.ws.write_blank(sh.row, i, None, book.fmt.gap), "write_blank")
        xlsxout.write_value(sh.ws, sh.row, len(cols) - 1, sum(n or 0 for n in per_area), book.fmt.cells[("int", "total")])
        sh.row += 1
    if not units:
        sh.text_row("（本期尚無已接受的工作計畫）", book.fmt.note)
    sh.text_row("表中數字為各單位在該實施要項的工作項目數；紅底空白表示該實施要項沒有任何工作項目。", book.fmt.note)
    missing = r.missing.get(WORKPLAN, [])
    if missing:
        sh.skip()
        sh.text_row("未繳交工作計畫的單位", book.fmt.section)
        for unit in missing:
            sh.line([unit.name, MISSING], "missing")
    sh.finish(header_rows=(0, 0), freeze=(1, 1))
