"""檢核明細, 項次對照 and 未完成項目: what each unit reported per step, the plan's texts once per step, the due steps not finished.

The plan's long texts (實施要項, 執行重點, 執行步驟) are written once, in 項次對照, not on
every 檢核明細 row: a manager reads a row by its 項次, and the sheet stays short to print and
quick to write at city scale.
"""

from __future__ import annotations

from qos_xl.core.values import each_distinct, format_roc
from qos_xl.core.vocabulary import DOING
from qos_xl.output import xlsxout
from qos_xl.output.consolidated.sheet import Book, Col, texts_of
from qos_xl.output.consolidated.units import ranked

LOOKUP = "項次對照"


def clip(text: str, width: float) -> str:
    """``text`` cut to fit one line of a column ``width`` wide, with … when cut."""
    if xlsxout.display_width(text) <= width - 1:
        return text
    out, used = [], 0
    for ch in text:
        used += xlsxout.display_width(ch)
        if used > width - 3:
            break
        out.append(ch)
    return "".join(out) + "…"


def write_details(book: Book) -> None:
    cols = [Col("單位", 12), Col("項次", 6, "center"), Col("執行狀態", 9, "center"), Col("辦理情形", 40),
            Col("完成日期", 10.5, "center"), Col("佐證資料", 16), Col("備註", 11)]
    sh = book.sheet("檢核明細", cols, table=True, landscape=False, freeze=(1, 2), autofilter=True)
    sh.header()
    frame = book.result.selfcheck
    if frame.empty:
        sh.text_row("（本期尚無已接受的自行檢核表）", book.fmt.note)
    else:
        # the columns this sheet reads, before filtering and sorting copy them (a city's frame has ~30)
        frame = frame[["unit", "unit_code", "code", "due", "status", "narrative", "done_date", "evidence", "remarks"]]
        frame = book.sorted_steps(reported(frame))
        sh.rows([frame["unit"].tolist(), frame["code"].tolist(), texts_of(frame["status"].tolist()),
                 frame["narrative"].tolist(), each_distinct(format_roc, frame["done_date"].tolist()),
                 frame["evidence"].tolist(), frame["remarks"].tolist()])
        sh.text_row(f"列出本期應辦理的執行步驟，以及單位填了內容的未到期步驟；執行步驟全文見「{LOOKUP}」。"
                    "每單位本期採用的檔案見「收件紀錄」。", book.fmt.note)
    sh.finish()


def reported(frame):
    """The rows a manager reads: every step due this period, and a step not yet due only when the unit filled it in.

    (In June a fifth of the steps are not due; listing them blank made the sheet a fifth longer to print and write.)"""
    def typed(name):
        return frame[name].fillna("").astype(str).str.len() > 0

    filled = typed("status") | typed("narrative") | frame["done_date"].notna() | typed("evidence") | typed("remarks")
    return frame[frame["due"] | filled]


def write_lookup(book: Book) -> None:
    """The plan's steps by 項次: each area and focus point once, above its steps."""
    plan, period = book.plan, book.result.period
    cols = [Col("項次", 6, "center"), Col("執行步驟", 72), Col("查核期限", 9, "center"), Col("本期應辦", 6, "center")]
    sh = book.sheet(LOOKUP, cols, table=True, landscape=False, freeze=(1, 0))
    sh.header()
    area = focus = None
    for step in plan.steps:
        if step.area != area:
            area = step.area
            sh.text_row(book.area_label.get(area, step.area_title), book.fmt.section)
        if (step.area, step.focus) != focus:
            focus = (step.area, step.focus)
            sh.text_row(step.focus_label, book.fmt.info)
        sh.line([step.code, step.text, step.deadline, "是" if step.due_at(period.month) else "否"])
    sh.finish()


def write_unfinished(book: Book) -> None:
    """Per unit, its due steps 未辦理 and 辦理中, one per line with the start of the step's text."""
    cols = [Col("單位", 12), Col("未辦理", 6, "int"), Col("未辦理的執行步驟", 42), Col("辦理中", 6, "int"),
            Col("辦理中的執行步驟", 42)]
    sh = book.sheet("未完成項目", cols, table=True, landscape=False, freeze=(1, 1), autofilter=True)
    sh.header()
    frame = book.result.unfinished
    if frame.empty:
        sh.text_row("（本期沒有未完成的應辦項目）", book.fmt.note)
    else:
        frame = book.sorted_steps(frame)
        steps = book.plan.step_by_code
        line_of = {code: clip(f"{code} {step.text}", cols[2].width) for code, step in steps.items()}
        open_steps: dict[str, tuple[list[str], list[str]]] = {}
        for unit, step, status in zip(texts_of(frame["unit_code"].tolist()), texts_of(frame["code"].tolist()),
                                      texts_of(frame["status"].tolist())):
            not_done, doing = open_steps.setdefault(unit, ([], []))
            (doing if status == DOING else not_done).append(line_of.get(step, step))
        names = {u.code: u.name for u in book.result.registry.units}
        order = [u.code for u in ranked(book.result.accepted_units, book.result.unit_overall)]
        codes = [c for c in order if c in open_steps] + [c for c in open_steps if c not in order]
        sh.rows([[names.get(c, c) for c in codes],
                 [len(open_steps[c][0]) or None for c in codes], ["\n".join(open_steps[c][0]) for c in codes],
                 [len(open_steps[c][1]) or None for c in codes], ["\n".join(open_steps[c][1]) for c in codes]])
        sh.text_row(f"單位依整體完成率由低至高排列（同「各單位完成率」）。執行步驟全文見「{LOOKUP}」，"
                    "各步驟的辦理情形見「檢核明細」（可依執行狀態篩選）。", book.fmt.note)
    sh.finish()
