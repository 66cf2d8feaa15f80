"""摘要: the key figures, the bureau's rate per area and its chart."""

from __future__ import annotations

import math

from qos_xl.core.values import format_roc
from qos_xl.core.vocabulary import FORM_NAMES, STATE_NAMES
from qos_xl.output import xlsxout
from qos_xl.output.consolidated.sheet import Book, CHART_ROW_PX, Col, bar_chart, check, fit_height, text_of, width_px
from qos_xl.pipeline.rates import NO_RATE, Rate
from qos_xl.pipeline.status import status_table


def write_summary(book: Book) -> None:
    r = book.result
    cols = [Col("實施要項", 34), Col("已完成", 10, "int"), Col("應辦理（扣除不適用）", 16, "int"),
            Col("完成率", 10, "rate"), Col("完成率（件數）", 18, "label")]
    sh = book.sheet("摘要", cols)
    fmt = book.fmt
    width = sum(c.width for c in cols)
    sh.text_row(book.title, fmt.title, height=max(30.0, xlsxout.row_height([(book.title, width / 1.5)], line_height=24)))
    submission = r.submission
    counts: dict[str, int] = {}
    for report in r.files:
        counts[report.state] = counts.get(report.state, 0) + 1
    received = "、".join(f"{STATE_NAMES.get(s, s)} {n}" for s, n in counts.items())

    def info(label: str, value, kind: str = "text", extra: str = "") -> None:
        sh.set_height(fit_height([(label, cols[0].width), (extra or text_of(value), width - cols[0].width)]))
        xlsxout.write_string(sh.ws, sh.row, 0, label, fmt.info_label)
        if kind == "text":
            check(sh.ws.merge_range(sh.row, 1, sh.row, 4, "", fmt.info), "merge_range")
            xlsxout.write_string(sh.ws, sh.row, 1, value, fmt.info)
        else:
            xlsxout.write_value(sh.ws, sh.row, 1, value, fmt.info_num if kind == "int" else fmt.info_rate)
            if extra:
                check(sh.ws.merge_range(sh.row, 2, sh.row, 4, "", fmt.info), "merge_range")
                xlsxout.write_string(sh.ws, sh.row, 2, extra, fmt.info)
        sh.row += 1

    submitted = Rate(submission["accepted"], submission["expected"])
    info("填報期別", period_text(r.period))
    info("製表時間", format_roc(r.made_at, with_time=True))
    info("應繳交單位數", submission["expected"], "int")
    info(f"已繳交單位數（本期{FORM_NAMES[r.form]}）", submission["submitted"], "int")
    info("已接受單位數", submission["accepted"], "int")
    info("繳交率（已接受／應繳交）", submitted.ratio, "rate", f"({submitted.completed}/{submitted.applicable})")
    info("收件檔案", f"共 {len(r.files)} 個" + (f"：{received}" if received else ""))
    year = status_table(r)
    for title, period in zip(year.titles, year.periods):       # the whole year's record, one line per checkpoint
        info(f"{title}（{period}）單位數", year.counts(period))
    for form in r.missing:
        names = "、".join(u.name for u in r.missing.get(form, []))
        info(f"未繳交{FORM_NAMES[form]}", names or "（無，全部單位均已繳交）")
        returned = "、".join(u.name for u in r.returned.get(form, []))
        if returned:
            info(f"{FORM_NAMES[form]}退回待補正", returned)
    sh.skip()
    sh.text_row("各實施要項完成率（全局）", fmt.section, last_col=0)
    sh.header()
    first = sh.row
    for area in book.plan.areas:
        rate = r.area_rates.get(area.number, NO_RATE)
        sh.line([area.label, rate.completed, rate.applicable, rate.ratio, rate.label])
    total = r.overall
    sh.line(["全局合計", total.completed, total.applicable, total.ratio, total.label], "total")
    sh.text_row("完成率＝已完成 ÷ 應辦理；應辦理＝本期應辦執行步驟數 − 不適用。「辦理中」「未辦理」列為未完成；"
                "應辦理為 0 時以「—」表示。全局完成率為各單位件數加總後計算，不是各單位完成率的平均。", fmt.note)
    sh.skip()
    rates = [r.area_rates.get(a.number, NO_RATE) for a in book.plan.areas]
    chart, height_px = bar_chart(book.wb, "各實施要項完成率", sh.name, first, 3,
                                  [a.label for a in book.plan.areas], rates, width_px(cols))
    check(sh.ws.insert_chart(sh.row, 0, chart, {"x_offset": 2, "y_offset": 2, "object_position": 2}), "insert_chart")
    sh.skip(math.ceil(height_px / CHART_ROW_PX) + 1)
    if r.notes:
        sh.text_row("附註", fmt.section, last_col=0)
        for note in r.notes:
            sh.text_row(f"・{note}", fmt.note)
    sh.finish(header_rows=(0, 0), freeze=(1, 0), print_to=sh.row)


def period_text(period) -> str:
    """102-06（期中自行檢核）, 102-12（年度執行成果）, 102（年度）."""
    if period.month is None:
        return f"{period}（{period.year} 年度）"
    wording = {12: "年度執行成果", 8: "參獎申請書"}.get(period.month, "期中自行檢核")
    return f"{period}（{period.year} 年度{wording}）"
