"""收件紀錄, 檢核問題 and 未繳交: every file with its state, every problem, every unit still missing."""

from __future__ import annotations

from qos_xl.core.values import format_roc
from qos_xl.core.vocabulary import FORM_NAMES, IGNORED, REJECTED, SELFCHECK, SEVERITY_NAMES, STATE_NAMES, WORKPLAN
from qos_xl.output.consolidated.sheet import RETURNED, Book, Col, text_of


def write_missing(book: Book) -> None:
    r = book.result
    cols = [Col("表單", 22), Col("代碼", 8, "center"), Col("機關全銜", 22), Col("類別", 10, "center"), Col("電子郵件", 44)]
    sh = book.sheet("未繳交", cols, table=True)
    sh.header()
    period_of = {SELFCHECK: f"{FORM_NAMES[SELFCHECK]}（{r.period}）", WORKPLAN: f"{FORM_NAMES[WORKPLAN]}（{r.period.year} 年度）"}
    for form in (SELFCHECK, WORKPLAN):
        units = r.missing.get(form, [])
        for unit in units:
            sh.line([period_of[form], unit.code, unit.name, unit.kind, "；".join(unit.emails)])
        for unit in r.returned.get(form, []):
            sh.line([f"{period_of[form]}{RETURNED}", unit.code, unit.name, unit.kind, "；".join(unit.emails)], "missing")
        if not units and not r.returned.get(form):
            sh.line([period_of[form], "", "（全部單位均已繳交）", "", ""])
    sh.finish(header_rows=(0, 0), freeze=(1, 0), autofilter=(0, sh.last_col))


def write_intake(book: Book) -> None:
    files = book.result.files
    cols = [Col("檔案", 26), Col("SHA-256", 18), Col("單位", 12), Col("表單", 10, "center"), Col("期別", 8, "center"),
            Col("填報日期", 10.5, "center"), Col("狀態", 8, "center"), Col("錯誤數", 6, "int"), Col("警告數", 6, "int"),
            Col("說明", 40)]
    with_mail = any(f.provenance is not None for f in files)
    if with_mail:
        cols += [Col("寄件者", 22), Col("收件日期", 15, "center")]
    sh = book.sheet("收件紀錄", cols, table=True)
    sh.header()
    for report in files:
        errors = len(report.errors)
        values = [report.file, report.sha256, text_of(report.unit), FORM_NAMES.get(report.form, text_of(report.form)),
                  text_of(report.period), format_roc(report.report_date), STATE_NAMES.get(report.state, text_of(report.state)),
                  errors, len(report.problems) - errors, explain(report)]
        if with_mail:
            mail = report.provenance
            values += [mail.sender if mail else "", format_roc(mail.received, with_time=True) if mail else ""]
        sh.line(values, "error" if report.state == REJECTED else "body")
    if not files:
        sh.text_row("（收件匣中沒有檔案）", book.fmt.note)
    sh.finish(header_rows=(0, 0), freeze=(1, 1), autofilter=(0, sh.last_col))


def write_problems(book: Book) -> None:
    cols = [Col("檔案", 24), Col("狀態", 8, "center"), Col("嚴重度", 7, "center"), Col("工作表", 12), Col("儲存格", 7, "center"),
            Col("代碼", 18), Col("說明", 56), Col("填寫內容", 24)]
    sh = book.sheet("檢核問題", cols, table=True)
    sh.header()
    count = 0
    for report in book.result.files:
        state = STATE_NAMES.get(report.state, text_of(report.state))
        for p in report.problems:
            sh.line([report.file, state, SEVERITY_NAMES.get(p.severity, p.severity), text_of(p.sheet), text_of(p.cell), p.code,
                     p.message, text_of(p.value)], "error" if p.is_error else "body")
            count += 1
    if not count:
        sh.text_row("（沒有任何檢核問題）", book.fmt.note)
    sh.finish(header_rows=(0, 0), freeze=(1, 1), autofilter=(0, sh.last_col))


def explain(report) -> str:
    """Why a file ended in its state, in one line."""
    if report.superseded_by:
        return f"已由較新的「{report.superseded_by}」取代"
    if report.duplicate_of:
        return f"與「{report.duplicate_of}」內容完全相同"
    if report.state == IGNORED:
        return "暫存檔或系統檔，不是填報檔案，未處理"
    errors = report.errors
    if errors:
        first = errors[0]
        text = f"{first.where}：{first.message}" if first.where else first.message
        return text + (f"（共 {len(errors)} 個錯誤，詳見「檢核問題」）" if len(errors) > 1 else "")
    warnings = len(report.problems)
    return f"有 {warnings} 個警告，詳見「檢核問題」" if warnings else ""
