"""檢核明細 and 未完成項目: the accepted self-checks row by row, and the due steps not finished."""

from __future__ import annotations

from qos_xl.core.values import each_distinct, format_roc
from qos_xl.output.consolidated.sheet import Book, Col, text_of, texts_of


def write_details(book: Book) -> None:
    cols = [Col("單位", 11), Col("項次", 7, "center"), Col("實施要項", 14), Col("執行重點", 22), Col("執行步驟", 32),
            Col("查核期限", 8, "center"), Col("本期應辦", 6, "center"), Col("執行狀態", 8, "center"),
            Col("辦理情形", 34), Col("完成日期", 10.5, "center"), Col("佐證資料", 18), Col("備註", 14),
            Col("來源檔案", 18)]
    sh = book.sheet("檢核明細", cols, table=True)
    sh.header()
    frame = book.result.selfcheck
    if frame.empty:
        sh.text_row("（本期尚無已接受的自行檢核表）", book.fmt.note)
    else:
        frame = book.sorted_steps(frame)
        steps = book.plan.step_by_code
        catalogue = {code: (book.area_label.get(s.area, s.area_title), s.focus_label, s.text, s.deadline)
                     for code, s in steps.items()}
        codes = texts_of(frame["code"].tolist())
        plan_texts = list(zip(*(catalogue.get(code, ("", "", "", "")) for code in codes)))
        sh.columns([
            texts_of(frame["unit"].tolist()), codes, *map(list, plan_texts),
            ["是" if due else "否" for due in frame["due"].tolist()], texts_of(frame["status"].tolist()),
            texts_of(frame["narrative"].tolist()), each_distinct(format_roc, frame["done_date"].tolist()),
            texts_of(frame["evidence"].tolist()), texts_of(frame["remarks"].tolist()),
            texts_of(frame["file"].tolist()),
        ])
    sh.finish(header_rows=(0, 0), freeze=(1, 2), autofilter=(0, sh.last_col))


def write_unfinished(book: Book) -> None:
    cols = [Col("單位", 14), Col("項次", 8, "center"), Col("執行步驟", 60), Col("執行狀態", 10, "center"), Col("辦理情形", 60)]
    sh = book.sheet("未完成項目", cols, table=True)
    sh.header()
    frame = book.result.unfinished
    if frame.empty:
        sh.text_row("（本期沒有未完成的應辦項目）", book.fmt.note)
    else:
        frame = book.sorted_steps(frame)
        steps = book.plan.step_by_code
        for unit, code, status, narrative in zip(frame["unit"].tolist(), frame["code"].tolist(),
                                                 frame["status"].tolist(), frame["narrative"].tolist()):
            step = steps.get(code)
            sh.line([text_of(unit), text_of(code), step.text if step else "", text_of(status) or "（未填）", text_of(narrative)])
    sh.finish(header_rows=(0, 0), freeze=(1, 1), autofilter=(0, sh.last_col))
