"""品質提示: per unit the count of each quality hint, then its hints, the units with most hints first.

Each unit's block opens with its total (bold on grey) and a line per kind of hint with its
count, then one line per hint: 項次, the hint, the cell, an excerpt of what the unit typed,
what the hint saw (the message without the advice the unit reads) and, off the printed page,
its code.  The sheet says what the thresholds are; hints never change a
state or a rate, and the note says so.
"""

from __future__ import annotations

from collections import Counter

from qos_xl.core.messages import HINT_NAMES
from qos_xl.core.vocabulary import ACCEPTED, HINT_NAME, SELFCHECK
from qos_xl.output.consolidated.sheet import Book, Col, text_of
from qos_xl.pipeline import hints

SHEET = HINT_NAME


def thresholds_note() -> str:
    """What makes each hint, with the thresholds of ``pipeline.hints``."""
    return (f"品質提示不影響收件及完成率。依單位提示件數由多至少排列。判斷標準（僅看已完成、辦理中的項次）："
            f"{HINT_NAMES['narrative-too-short']}：扣除標點及執行狀態文字後少於 {hints.MIN_MEANINGFUL_CHARS} 個字；"
            f"{HINT_NAMES['narrative-repeated']}：同一段文字用於 {hints.REPEAT_MIN_STEPS} 個以上項次，"
            f"或超過本期應辦項次的 {hints.REPEAT_SHARE}；"
            f"{HINT_NAMES['narrative-copied']}：至少 {hints.COPY_MIN_CHARS} 個字的辦理情形與其他單位同一項次相同；"
            f"{HINT_NAMES['evidence-missing']}：已完成的項次佐證資料空白；"
            f"{HINT_NAMES['plan-area-not-applicable']}：工作計畫列有工作項目的實施要項，本表全部填不適用。"
            "比較文字時不計空白、換行、標點及全形半形差異。")


def write_hints(book: Book) -> None:
    # the code stays in the sheet (to filter by), off the printed page: on paper the hint's name says it
    cols = [Col("單位", 13), Col("項次", 6, "center"), Col("提示", 17), Col("儲存格", 6, "center"), Col("件數", 5, "int"),
            Col("內容摘錄", 34), Col("說明", 69), Col("代碼", 22)]
    sh = book.sheet(SHEET, cols, table=True, freeze=(1, 1), autofilter=True, print_cols=len(cols) - 1)
    sh.header()
    reports = [f for f in book.result.files if f.state == ACCEPTED and f.form == SELFCHECK and f.hints]
    reports.sort(key=lambda f: (-len(f.hints), book.unit_rank.get(f.unit_code, len(book.unit_rank)), f.file))
    for report in reports:
        found = report.hints
        unit = text_of(report.unit)
        sh.line([unit, "", "合計", "", len(found), "", f"檔案：{report.file}", ""], "total")
        counts = Counter(p.code for p in found)
        kinds = [code for code in HINT_NAMES if counts[code]]
        blank = [None] * len(kinds)                 # a line per kind with its count, then a line per hint
        sh.rows([[unit] * (len(kinds) + len(found)), blank + [p.step for p in found],
                 [HINT_NAMES[code] for code in kinds] + [HINT_NAMES[p.code] for p in found],
                 blank + [p.cell for p in found], [counts[code] for code in kinds] + [None] * len(found),
                 blank + [p.value for p in found], blank + [hints.finding(p) for p in found],
                 kinds + [p.code for p in found]])
    if not reports:
        sh.text_row("（本期已接受的自行檢核表沒有品質提示）", book.fmt.note)
    sh.text_row(thresholds_note(), book.fmt.note)
    sh.finish()
