"""期中與年度比較: June's and December's rates per unit and area with the change, then the steps that went back."""

from __future__ import annotations

from qos_xl.core.vocabulary import CHECKPOINT_NAMES, COMPARISON_SHEET, MOVE_NAMES, NOT_STARTED, REGRESSED
from qos_xl.output import xlsxout
from qos_xl.output.consolidated.sheet import Book, Col, rate_cells
from qos_xl.pipeline.compare import change
from qos_xl.pipeline.rates import Rate

NO_DATA = "無資料"                 # the unit has no accepted self-check in that period
STEP_CHARS = 48                   # a step's text is cut here: 項次對照 has it whole
SHORT = {6: "期中", 12: "年度"}     # the self-check periods in a column title
# up and down read by their sign (▲ ▼, also on a black-and-white print) and by colour on screen
CHANGE_FORMAT = '"▲ "0.0;"▼ "0.0;"＝ "0.0'
CHANGE_COLOURS = {1: ("#006100", "#C6EFCE"), -1: ("#9C0006", "#FFC7CE"), 0: ("#404040", None)}


def write_comparison(book: Book) -> None:
    moved = book.result.comparison
    if moved is None:
        return
    before, after = CHECKPOINT_NAMES[moved.before.month], CHECKPOINT_NAMES[moved.after.month]
    early, late = SHORT[moved.before.month], SHORT[moved.after.month]
    # one set of columns for both tables, so that the header printed on every page fits both
    cols = [Col("單位", 14), Col("實施要項／執行步驟", 36), Col(f"{early}完成率", 10, "rate"),
            Col(f"{early}（件數／狀態）", 16, "center"), Col(f"{late}完成率", 10, "rate"),
            Col(f"{late}（件數／狀態）", 16, "center"), Col("變化（百分點）／類別", 14, "center")]
    sh = book.sheet(COMPARISON_SHEET, cols, freeze=(2, 2))
    fmt, wb = book.fmt, book.wb
    cell = {**fmt.base, "align": "center", "border": 1, "border_color": "#A6A6A6", "num_format": CHANGE_FORMAT}
    changes = {(sign, style): wb.add_format({**cell, "font_color": font, **({"bg_color": ground} if ground else {}),
                                             **({"bold": True} if style == "total" else {})})
               for sign, (font, ground) in CHANGE_COLOURS.items() for style in ("body", "total")}
    sh.text_row(f"{before}（{moved.before}）與{after}（{moved.after}）比較：完成率，以及退步與未啟動的執行步驟", fmt.section)
    sh.header()

    def line(unit: str, label: str, a: Rate | None, b: Rate | None, style: str = "body") -> None:
        shown = [rate_cells(r) if r is not None else (None, NO_DATA) for r in (a, b)]   # 79.0% beside 83/105, once
        sh.line([unit, label, *shown[0], *shown[1]], style)
        points = change(a, b)
        row = sh.row - 1
        if points is None:
            xlsxout.write_string(sh.ws, row, 6, "—", fmt.cell("center", style))
        else:
            xlsxout.write_value(sh.ws, row, 6, float(points), changes[((points > 0) - (points < 0), style)])

    for area in book.plan.areas:
        line("全局", area.label, *moved.areas[area.number])
    line("全局", "整體", *moved.overall, "total")
    for unit in moved.units:
        for area in book.plan.areas:
            line(unit.unit, area.label, *unit.areas[area.number])
        line(unit.unit, "整體", unit.before, unit.after, "total")
    sh.text_row(f"變化＝{late}完成率 − {early}完成率，以百分點計；▲ 上升、▼ 下降、＝ 持平。完成率分母為 0 時以「—」表示；"
                f"「{NO_DATA}」表示該單位該期沒有已接受的自行檢核表。全局為各期已接受單位的件數加總。", fmt.note)
    sh.skip()
    regressed, not_started = moved.of_kind(REGRESSED), moved.of_kind(NOT_STARTED)
    sh.text_row(f"退步與未啟動的執行步驟（退步 {len(regressed)} 項：{early}已完成、{late}未完成；"
                f"未啟動 {len(not_started)} 項：{early}應辦，兩期均為未辦理）", fmt.section)
    for i, col in enumerate(cols):                   # the header again, right above the steps
        xlsxout.write_string(sh.ws, sh.row, i, col.title, fmt.header)
    sh.row += 1
    steps = book.plan.step_by_code
    for moved_step in moved.steps:
        step = steps.get(moved_step.step)
        text = step.text if step else ""
        text = text if len(text) <= STEP_CHARS else text[:STEP_CHARS] + "…"
        said = f"\n{late}辦理情形：{moved_step.narrative}" if moved_step.narrative else ""
        sh.line([moved_step.unit, f"{moved_step.step}　{text}{said}", None, moved_step.before, None, moved_step.after,
                 MOVE_NAMES[moved_step.kind]])
    if not moved.steps:
        sh.text_row("（沒有退步或未啟動的執行步驟）", fmt.note)
    sh.finish()
