"""Reply texts to units, in zh-TW, ready to paste into an e-mail: about one file, or about one message.

``file_reply`` answers one validated file (written beside its feedback workbook);
``mail_receipt`` answers one e-mail, listing each file it brought and its other attachments.  Both are built
from the same pieces, so a verdict, a problem and the closing request read the same in both.
Everything that came from outside is cleaned (no control or direction-override characters)
and bounded.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from qos_xl.core.problems import Problem
from qos_xl.core.report import FileReport
from qos_xl.core.text import safe_text
from qos_xl.core.values import format_roc
from qos_xl.core.vocabulary import (DUPLICATE, FORM_NAMES, IGNORED, SELFCHECK, SEVERITY_NAMES, SUPERSEDED, WORKPLAN)

if TYPE_CHECKING:
    from qos_xl.intake.mail import MailMessage

SIGNATURE = "秘書室"
VALUE_CHARS = 200

_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")


def clean(value: object, limit: int | None = None, *, one_line: bool = False) -> str:
    """Untrusted text for plain-text output: no control or bidi-override characters, bounded."""
    text = _BIDI.sub("", safe_text(value))
    if one_line:
        text = _SPACES.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return text


def verdict(report: FileReport) -> str:
    """「檢核通過，已收件」, accepted with warnings, or 「檢核未通過，請修正後重新寄送」."""
    errors, warnings = len(report.errors), len(report.warnings)
    if report.state == IGNORED:
        return "非填報檔案，未檢核"
    if errors:
        return "檢核未通過，請修正後重新寄送"
    if warnings:
        return f"檢核通過，已收件（另有 {warnings} 項提醒，請參考）"
    return "檢核通過，已收件"


def period_text(report: FileReport) -> str:
    """102-06（期中自行檢核）, 102-12（年度執行成果）, 102 年度."""
    period = report.period or ""
    if report.form == SELFCHECK and period.endswith("-06"):
        return f"{period}（期中自行檢核）"
    if report.form == SELFCHECK and period.endswith("-12"):
        return f"{period}（年度執行成果）"
    if report.form == WORKPLAN and period:
        return f"{period} 年度"
    return period


def where_text(problem: Problem) -> str:
    """工作表「自行檢核表」儲存格 F12：."""
    if problem.sheet and problem.cell:
        return f"工作表「{clean(problem.sheet)}」儲存格 {problem.cell}："
    if problem.sheet:
        return f"工作表「{clean(problem.sheet)}」："
    return ""


def problem_lines(problems: tuple[Problem, ...] | list[Problem], *, indent: str = "", number: str = "{}. ",
                  message_chars: int | None = None) -> list[str]:
    """Each problem on a line (level, place, message), and what the unit typed on the next."""
    lines = []
    for index, problem in enumerate(problems, start=1):
        level = SEVERITY_NAMES.get(problem.severity, problem.severity)
        lines.append(f"{indent}{number.format(index)}【{level}】{where_text(problem)}{clean(problem.message, message_chars)}")
        if problem.value:
            lines.append(f"{indent}   填寫內容：「{clean(problem.value, VALUE_CHARS)}」")
    return lines


def closing(errors: bool, warnings: bool, *, original_name: bool = True) -> str:
    """What the unit should do now (``original_name``: about one file it should resend under its name)."""
    if errors:
        if original_name:
            return "請依上列說明修正原檔案後，以原檔名重新寄送，並更新「填報日期」。"
        return "請依上列說明修正後重新寄送，並更新「填報日期」。"
    if warnings:
        again = "以原檔名重新寄送" if original_name else "重新寄送"
        return f"以上提醒不影響收件，本次無須重新寄送；如需更正，請修正後{again}，並更新「填報日期」。"
    return "本檔案無須修正，謝謝貴單位配合。" if original_name else "檔案無須修正，謝謝貴單位配合。"


def _greeting_name(report: FileReport) -> str:
    """The unit's registry name; a name it typed that is not in the registry only when short and plain."""
    name = clean(report.unit).strip()
    if report.unit_code or (0 < len(name) <= 30 and "\n" not in name):
        return name or "貴單位"
    return "貴單位"


def file_reply(report: FileReport, *, annotated: str | None = None, problem_list: str | None = None,
               note: str | None = None, sender: str = SIGNATURE) -> str:
    """The reply to a unit about one file; works for any report.

    ``annotated`` / ``problem_list`` name the attached feedback workbook, ``note`` says why
    no annotated copy could be made.
    """
    errors, warnings = len(report.errors), len(report.warnings)
    lines = [f"{_greeting_name(report)} 您好：", "", "本室已收到貴單位寄送的檔案，檢核結果如下。", ""]
    lines.append(f"檔案名稱：{clean(Path(report.file).name)}")
    if report.sha256:
        lines.append(f"檔案識別碼（SHA-256 前 12 碼）：{report.sha256[:12]}")
    if report.form:
        lines.append(f"表單：{FORM_NAMES.get(report.form, report.form)}")
    if report.period:
        lines.append(f"期別：{period_text(report)}")
    if report.report_date:
        lines.append(f"填報日期：{format_roc(report.report_date)}")
    lines += ["", f"檢核結果：{verdict(report)}"]
    if report.state == DUPLICATE:
        lines.append("（本檔案與已收到的另一個檔案內容完全相同，不重複收件。）")
    elif report.state == SUPERSEDED:
        lines.append("（本檔案已由貴單位較新的檔案取代，不列入彙整。）")
    if report.problems:
        summary = "、".join(x for x in (f"錯誤 {errors} 項" if errors else "", f"警告 {warnings} 項" if warnings else "") if x)
        lines += ["", f"問題明細（{summary}）："]
        lines += problem_lines(report.problems)
    lines += ["", closing(bool(errors), bool(warnings))]
    if annotated:
        lines.append(f"附件「{clean(annotated)}」以底色標出有問題的儲存格（紅色為錯誤、黃色為警告），"
                     "滑鼠移到儲存格上可看到說明；第一個工作表「問題清單」列出所有問題，點選儲存格位置可直接跳到該處。"
                     "此附件僅供對照，請在原檔案上修正。")
    elif problem_list:
        reason = f"（{note}）" if note else ""
        lines.append(f"本次未附標註副本{reason}；所有問題列於附件「{clean(problem_list)}」。")
    lines += ["", sender + " 敬上", ""]
    return "\n".join(lines)


def _mail_greeting(message: MailMessage) -> str:
    """「養護工程處 王小明 您好：」: the unit once, the sender's name once; 「您好：」 alone without either."""
    display = clean(message.display, 40, one_line=True)
    names = sorted((n for n in message.unit_names if n), key=len, reverse=True)
    for name in names:   # 「秘書室 張小姐」, 「養工處-王小明」: the unit is said once, by its full name
        if display.startswith(name):
            display = display[len(name):].lstrip(" -_－—/／、,，:：()（）")
            break
    unit = message.unit_name or ""
    if unit and any(name in display for name in names):
        unit = ""        # 「王小明（秘書室）」 already names the unit
    greeting = " ".join(x for x in (unit, display) if x)
    return f"{greeting} 您好：" if greeting else "您好："


def mail_receipt(message: MailMessage) -> str:
    """The reply to one message: which files arrived and each one's verdict, then its other attachments."""
    from qos_xl.intake.mail import ALREADY, REJECTED  # the attachment states of ingest

    lines = [_mail_greeting(message), ""]
    when = f"於 {format_roc(message.received)} " if message.received else ""
    subject = f"（主旨：「{clean(message.subject, 200, one_line=True)}」）" if message.subject else ""
    files = message.attachments
    if not files:
        lines.append(f"本室已收到您{when}寄來的郵件{subject}，但郵件中沒有試算表（.xlsx、.xlsm、.xls 或 .ods）"
                     "或參獎申請書附件。")
        lines.append("請附上填寫完成的自行檢核表、工作計畫或參獎申請書後重新寄送。")
    else:
        lines.append(f"本室已收到您{when}寄來的郵件{subject}，共 {len(files)} 個檔案，處理結果如下。")
    any_errors = any_warnings = False
    for number, att in enumerate(files, start=1):
        lines += ["", f"{number}. {clean(att.name, 200, one_line=True)}"]
        if att.state == REJECTED:
            any_errors = True
            lines.append(f"   處理結果：未存檔。{clean(att.reason, 400, one_line=True)}")
            continue
        repeat = att.state == ALREADY and not att.reimported
        lines.append(f"   存檔名稱：{clean(att.saved_as, 200, one_line=True)}" + ("（先前已收到相同檔案，未重複存檔）" if repeat else ""))
        report = att.report
        if report is None:
            continue
        what = "，".join(x for x in (clean(report.unit, 200, one_line=True), FORM_NAMES.get(report.form or ""), report.period) if x)
        if what:
            lines.append(f"   內容：{what}")
        lines.append(f"   檢核結果：{verdict(report)}")
        any_errors |= bool(report.errors)
        any_warnings |= bool(report.warnings)
        lines += problem_lines(report.problems, indent="   ", number="({}) ", message_chars=400)
    if message.others:
        lines += ["", f"其他附件（{len(message.others)} 個，不是試算表或參獎申請書，未存入收件匣）："]
        lines += [f"- {clean(other, 200, one_line=True)}" for other in message.others[:20]]
        if len(message.others) > 20:
            lines.append(f"- 另有 {len(message.others) - 20} 個，未逐一列出")
    notes = [*message.notes, *([f"郵件讀取時發生問題：{message.reason}"] if message.reason else [])]
    for note in dict.fromkeys(clean(note, 400, one_line=True) for note in notes):
        lines += ["", note]
    if files:
        lines += ["", closing(any_errors, any_warnings, original_name=False)]
    lines += ["", f"{SIGNATURE} 敬上", ""]
    return "\n".join(lines)
