"""收件紀錄, 檢核問題 and 未繳交: every file with its state, every problem, every unit still missing or sent back.

Quality hints are not repeated in 檢核問題: they have their own sheet, 品質提示.
"""

from __future__ import annotations

from qos_xl.core.report import SHORT_HASH
from qos_xl.core.values import Period, format_roc
from qos_xl.core.vocabulary import (CHECKPOINT_NAMES, FORM_NAMES, HINT_NAME, IGNORED, OTHER_PERIOD, REJECTED, SEVERITY_NAMES,
                                    STATE_NAMES, WORKPLAN)
from qos_xl.output.consolidated.sheet import MISSING, RETURNED, Book, Col, text_of



def write_missing(book: Book) -> None:
    r = book.result
    cols = [Col("表單", 22), Col("狀態", 11, "center"), Col("代碼", 7, "center"), Col("單位", 22), Col("類別", 9, "center"),
            Col("電子郵件", 28), Col("說明", 40)]
    sh = book.sheet(MISSING, cols, table=True, freeze=(1, 0), autofilter=True)
    sh.header()
    for form in r.missing:                     # the forms this merge takes in, its own first
        title = f"{FORM_NAMES[form]}（{r.period.year} 年度）" if form == WORKPLAN else f"{FORM_NAMES[form]}（{r.period}）"
        missing, returned = r.missing.get(form, []), r.returned.get(form, [])
        for unit in missing:
            sh.line([title, MISSING, unit.code, unit.name, unit.kind, "；".join(unit.mailboxes), ""])
        for unit in returned:
            files = [f.file for f in r.files if f.unit_code == unit.code and f.form == form and f.state == REJECTED]
            why = "有繳交但檔案未通過檢核：" + "、".join(f"「{name}」" for name in files) + "；問題詳見「檢核問題」，待單位修正後重送。"
            sh.line([title, RETURNED, unit.code, unit.name, unit.kind, "；".join(unit.mailboxes), why], "error")
        if not missing and not returned:
            sh.line([title, "", "", "（全部單位均已繳交）", "", "", ""])
    sh.finish()


def write_intake(book: Book) -> None:
    r = book.result
    files = r.files
    cols = [Col("檔案", 26), Col(f"SHA-256（前 {SHORT_HASH} 碼）", 13), Col("單位", 12), Col("表單", 11, "center"),
            Col("期別", 8, "center"), Col("填報日期", 10, "center"), Col("狀態", 8, "center"), Col("錯誤數", 6, "int"),
            Col("警告數", 6, "int"), Col("說明", 40)]
    with_mail = any(f.provenance is not None for f in files)
    if with_mail:
        cols += [Col("寄件者", 22), Col("收件日期", 15, "center")]
    cols.append(Col("SHA-256（完整）", 68))      # kept in the sheet, not printed
    sh = book.sheet("收件紀錄", cols, table=True, freeze=(1, 1), autofilter=True, print_cols=len(cols) - 1)
    sh.header()
    for report in files:
        # a file of another period, or not a submission, is not checked in this period's merge: no counts, not 0
        checked = report.state not in (OTHER_PERIOD, IGNORED)
        errors = len(report.errors)
        values = [report.file, report.short_hash, text_of(report.unit), FORM_NAMES.get(report.form, text_of(report.form)),
                  text_of(report.period), format_roc(report.report_date), STATE_NAMES.get(report.state, text_of(report.state)),
                  errors if checked else None, len(report.problems) - errors if checked else None, explain(report)]
        if with_mail:
            mail = report.provenance
            values += [mail.sender if mail else "", format_roc(mail.received, with_time=True) if mail else ""]
        sh.line([*values, report.sha256], "error" if report.state == REJECTED else "body")
    if not files:
        sh.text_row("（收件匣中沒有檔案）", book.fmt.note)
    if r.notes:
        sh.text_row("附註", book.fmt.section, height=20.0)
        for note in r.notes:
            sh.text_row(f"・{note}", book.fmt.note)
    sh.finish()


def write_problems(book: Book) -> None:
    cols = [Col("檔案", 24), Col("狀態", 8, "center"), Col("嚴重度", 7, "center"), Col("工作表", 12), Col("儲存格", 7, "center"),
            Col("代碼", 18), Col("說明", 56), Col("填寫內容", 24)]
    sh = book.sheet("檢核問題", cols, table=True, freeze=(1, 1), autofilter=True)
    sh.header()
    count = 0
    for report in book.result.files:
        state = STATE_NAMES.get(report.state, text_of(report.state))
        for p in (p for p in report.problems if not p.is_hint):
            sh.line([report.file, state, SEVERITY_NAMES.get(p.severity, p.severity), text_of(p.sheet), text_of(p.cell), p.code,
                     p.message, text_of(p.value)], "error" if p.is_error else "body")
            count += 1
    if not count:
        sh.text_row("（沒有任何檢核問題）", book.fmt.note)
    if any(report.hints for report in book.result.files):
        sh.text_row(f"{HINT_NAME}（不影響收件）另列於「{HINT_NAME}」工作表。", book.fmt.note)
    sh.finish()


def explain(report) -> str:
    """Why a file ended in its state, in one line."""
    if report.superseded_by:
        return f"已由較新的「{report.superseded_by}」取代"
    if report.duplicate_of:
        return f"與「{report.duplicate_of}」內容完全相同"
    if report.state == IGNORED:
        return "暫存檔或系統檔，不是填報檔案，未處理"
    if report.state == OTHER_PERIOD:
        return f"屬於{CHECKPOINT_NAMES[Period.parse(report.period).month]}（{report.period}），列入該期的彙整，不列入本期"
    errors = report.errors
    if errors:
        first = errors[0]
        text = f"{first.where}：{first.message}" if first.where else first.message
        return text + (f"（共 {len(errors)} 個錯誤，詳見「檢核問題」）" if len(errors) > 1 else "")
    hints = len(report.hints)
    warnings = len(report.problems) - hints
    return "；".join(x for x in (f"有 {warnings} 個警告，詳見「檢核問題」" if warnings else "",
                                f"有 {hints} 項{HINT_NAME}，詳見「{HINT_NAME}」" if hints else "") if x)
