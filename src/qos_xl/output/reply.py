"""Reply texts to units, in zh-TW, ready to paste into an e-mail: about one file, or about one message.

``file_reply`` answers one validated file (written beside its feedback workbook);
``mail_receipt`` answers one e-mail, listing each file it brought and its other attachments.  Both are built
from the same pieces, so a verdict, a problem and the closing request read the same in both.
Everything that came from outside is cleaned (no control or direction-override characters)
and bounded.  Who signs, the resend deadline and the contact come from ``settings.csv``
(``Sender``); units read no problem codes, only what is wrong and what to do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qos_xl.core.messages import AT_TABLE_HEADING
from qos_xl.core.problems import Problem
from qos_xl.core.report import SHORT_HASH, FileReport
from qos_xl.core.text import safe_text
from qos_xl.core.values import format_roc, parse_date
from qos_xl.core.vocabulary import (DUPLICATE, FORM_NAMES, HINT_HEADING, HINT_NAME, IGNORED, OTHER_ATTACHMENTS, SELFCHECK,
                                    SELFCHECK_PERIOD_NAMES, SEVERITY_NAMES, SUPERSEDED, WARNING, WORKPLAN)

if TYPE_CHECKING:
    from qos_xl.pipeline.ingest import MailMessage

SIGNATURE = "秘書室"
VALUE_CHARS = 200
# settings.csv rows (項目) a reply reads
SETTING_SIGNATURE, SETTING_DEADLINE, SETTING_CONTACT, SETTING_PHONE = "回覆署名", "補件期限", "聯絡人", "聯絡電話"
ANY_NAME = "檔名不拘"   # a file is known by what it holds (unit, form, period), never by its name


@dataclass(frozen=True)
class Sender:
    """Who answers units: the signature, the date to resend by, whom to call (each from settings.csv, may be blank)."""

    signature: str = SIGNATURE
    deadline: str = ""       # as written for users: 102/07/10
    contact: str = ""
    phone: str = ""

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> Sender:
        """From the rows 回覆署名, 補件期限, 聯絡人, 聯絡電話 (``load_plan`` has checked 補件期限 is a date)."""
        deadline = parse_date(settings.get(SETTING_DEADLINE, "")).value
        return cls(signature=clean(settings.get(SETTING_SIGNATURE, ""), 40, one_line=True) or SIGNATURE,
                   deadline=format_roc(deadline) if deadline else "",
                   contact=clean(settings.get(SETTING_CONTACT, ""), 40, one_line=True),
                   phone=clean(settings.get(SETTING_PHONE, ""), 40, one_line=True))

    def contact_line(self) -> str:
        """「如有疑問，請洽秘書室 王小明（07-3368333 轉 123）。」, or "" when neither is set."""
        if not (self.contact or self.phone):
            return ""
        who = " ".join(x for x in (self.signature, self.contact) if x)
        return f"如有疑問，請洽{who}" + (f"（{self.phone}）" if self.phone else "") + "。"

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
    """「檢核通過，已收件」, accepted with warnings or quality hints, or 「檢核未通過，請修正後重新寄送」."""
    hints = len(report.hints)
    errors, warnings = len(report.errors), len(report.warnings) - hints
    if report.state == IGNORED:
        return "非填報檔案，未檢核"
    if errors:
        return "檢核未通過，請修正後重新寄送"
    if warnings or hints:
        also = "、".join(x for x in (f"{warnings} 項{SEVERITY_NAMES[WARNING]}" if warnings else "",
                                    f"{hints} 項{HINT_NAME}" if hints else "") if x)
        return f"檢核通過，已收件（另有 {also}，請參考）"
    return "檢核通過，已收件"


def period_text(report: FileReport) -> str:
    """102-06（期中自行檢核）, 102-12（年度執行成果）, 102 年度."""
    period = report.period or ""
    month = period[-2:] if report.form == SELFCHECK and "-" in period else ""
    if month.isdigit() and int(month) in SELFCHECK_PERIOD_NAMES:
        return f"{period}（{SELFCHECK_PERIOD_NAMES[int(month)]}）"
    if report.form == WORKPLAN and period:
        return f"{period} 年度"
    return period


def where_text(problem: Problem) -> str:
    """工作表「自行檢核表」儲存格 F12：; the sheet alone for a row the file lacks (its message says where it belongs)."""
    if problem.sheet and problem.cell and problem.code not in AT_TABLE_HEADING:
        return f"工作表「{clean(problem.sheet)}」儲存格 {problem.cell}："
    if problem.sheet:
        return f"工作表「{clean(problem.sheet)}」："
    if problem.cell:                     # a Word document's place: 第 2 個表格第 5 列
        return f"{clean(problem.cell)}："
    return ""


def problem_lines(problems: tuple[Problem, ...] | list[Problem], *, indent: str = "", number: str = "{}. ",
                  message_chars: int | None = None) -> list[str]:
    """Each problem on a line (level, place, message), and what the unit typed on the next; a quality hint's level is 品質提示."""
    lines = []
    for index, problem in enumerate(problems, start=1):
        level = HINT_NAME if problem.is_hint else SEVERITY_NAMES.get(problem.severity, problem.severity)
        lines.append(f"{indent}{number.format(index)}【{level}】{where_text(problem)}{clean(problem.message, message_chars)}")
        if problem.value:
            lines.append(f"{indent}   填寫內容：「{clean(problem.value, VALUE_CHARS)}」")
    return lines


def closing(errors: bool, warnings: bool, *, one_file: bool = True, deadline: str = "", dated: bool = True) -> str:
    """What the unit should do now (``one_file``: about one file, else about the files of an e-mail;
    ``deadline``: the date to resend by, as written for users; ``dated``: the file has a 填報日期 to update,
    which documents — Word or PDF — do not).  The file name is free (``ANY_NAME``)."""
    by = f"於 {deadline} 前" if deadline else ""
    update = "，並更新「填報日期」。" if dated else "。"
    if errors:
        return f"請{by}依上列說明{'修正原檔案' if one_file else '修正'}後重新寄送（{ANY_NAME}）{update}"
    if warnings:
        return f"以上事項不影響收件，本次無須重新寄送；如需更正，請修正後重新寄送（{ANY_NAME}）{update}"
    return "本檔案無須修正，謝謝貴單位配合。" if one_file else "檔案無須修正，謝謝貴單位配合。"


def _greeting_name(report: FileReport) -> str:
    """The unit's registry name; a name it typed that is not in the registry only when short and plain."""
    name = clean(report.unit).strip()
    if report.unit_code or (0 < len(name) <= 30 and "\n" not in name):
        return name or "貴單位"
    return "貴單位"


def file_reply(report: FileReport, *, annotated: str | None = None, problem_list: str | None = None,
               note: str | None = None, sender: Sender = Sender()) -> str:
    """The reply to a unit about one file; works for any report.

    ``annotated`` / ``problem_list`` name the attached feedback workbook, ``note`` says why
    no annotated copy could be made.  The text is a list of sections (``_reply_sections``),
    separated by blank lines.
    """
    sections = _reply_sections(report, annotated=annotated, problem_list=problem_list, note=note, sender=sender)
    return "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n"


def _reply_sections(report: FileReport, *, annotated, problem_list, note, sender: Sender) -> list[list[str]]:
    """The reply's sections in order: greeting, the file, the verdict, the problems, the quality hints, what to do,
    the attachment, signature."""
    return [
        [f"{_greeting_name(report)} 您好："],
        ["本室已收到貴單位寄送的檔案，檢核結果如下。"],
        _file_facts(report),
        _verdict_lines(report),
        _problem_section(report),
        _hint_section(report),
        _what_next(report, annotated, sender),
        _attachment(annotated, problem_list, note),
        [line for line in (sender.contact_line(),) if line],
        [sender.signature + " 敬上"],
    ]


def _file_facts(report: FileReport) -> list[str]:
    lines = [f"檔案名稱：{clean(Path(report.file).name)}"]
    if report.sha256:
        lines.append(f"檔案識別碼（SHA-256 前 {SHORT_HASH} 碼）：{report.short_hash}")
    if report.form:
        lines.append(f"表單：{FORM_NAMES.get(report.form, report.form)}")
    if report.period:
        lines.append(f"期別：{period_text(report)}")
    if report.report_date:
        lines.append(f"填報日期：{format_roc(report.report_date)}")
    return lines


def _verdict_lines(report: FileReport) -> list[str]:
    lines = [f"檢核結果：{verdict(report)}"]
    if report.state == DUPLICATE:
        lines.append("（本檔案與已收到的另一個檔案內容完全相同，不重複收件。）")
    elif report.state == SUPERSEDED:
        lines.append("（本檔案已由貴單位較新的檔案取代，不列入彙整。）")
    return lines


def not_hints(report: FileReport) -> list[Problem]:
    """The file's errors and warnings without its quality hints, which a reply lists apart."""
    return [p for p in report.problems if not p.is_hint]


def _problem_section(report: FileReport) -> list[str]:
    problems = not_hints(report)
    if not problems:
        return []
    errors = len(report.errors)
    warnings = len(problems) - errors
    summary = "、".join(x for x in (f"錯誤 {errors} 項" if errors else "", f"警告 {warnings} 項" if warnings else "") if x)
    return [f"問題明細（{summary}）：", *problem_lines(problems)]


def _hint_section(report: FileReport) -> list[str]:
    """The quality hints, apart from the problems: they never stop a file being accepted."""
    hints = report.hints
    if not hints:
        return []
    return [f"{HINT_HEADING}（{len(hints)} 項）：", "以下是本室對填寫內容的建議，供貴單位更正或下次填寫時參考。", *problem_lines(hints)]


def _what_next(report: FileReport, annotated: str | None, sender: Sender) -> list[str]:
    errors, warnings = bool(report.errors), bool(report.warnings)
    if errors and annotated:   # the annotated copy validates like the original once corrected
        by = f"於 {sender.deadline} 前" if sender.deadline else ""
        return [f"請{by}依上列說明修正後重新寄送，並更新「填報日期」：可以直接在附件「{clean(annotated)}」上修正後寄回"
                f"（{ANY_NAME}），也可以修正原檔案後寄回。"]
    return [closing(errors, warnings, deadline=sender.deadline, dated=report.document is None)]


def _attachment(annotated: str | None, problem_list: str | None, note: str | None) -> list[str]:
    if annotated:
        return [f"附件「{clean(annotated)}」以底色及框線標出有問題的儲存格（錯誤：紅底粗框；警告：黃底虛線框），"
                "滑鼠移到儲存格上可看到說明；第一個工作表「問題清單」列出所有問題（可列印），點選儲存格位置可直接跳到該處。"]
    if problem_list:
        reason = f"（{note}）" if note else ""
        return [f"本次未附標註副本{reason}；所有問題列於附件「{clean(problem_list)}」。"]
    return []


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


def mail_receipt(message: MailMessage, sender: Sender = Sender()) -> str:
    """The reply to one message: which files arrived and each one's verdict, then its other attachments,
    signed as ``sender`` (settings.csv) says."""
    from qos_xl.pipeline.ingest import ALREADY, REJECTED  # ingest's states; its mail modules only for a receipt

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
        lines += problem_lines(not_hints(report), indent="   ", number="({}) ", message_chars=400)
        if report.hints:
            lines.append(f"   {HINT_HEADING}（{len(report.hints)} 項）：")
            lines += problem_lines(report.hints, indent="   ", number="({}) ", message_chars=400)
    if message.others:
        lines += ["", f"其他附件（{len(message.others)} 個，{OTHER_ATTACHMENTS}）："]
        lines += [f"- {clean(other, 200, one_line=True)}" for other in message.others[:20]]
        if len(message.others) > 20:
            lines.append(f"- 另有 {len(message.others) - 20} 個，未逐一列出")
    notes = [*message.notes, *([f"郵件讀取時發生問題：{message.reason}"] if message.reason else [])]
    for note in dict.fromkeys(clean(note, 400, one_line=True) for note in notes):
        lines += ["", note]
    if files:
        reports = [att.report for att in files if att.report is not None]
        to_fix = [r for r in reports if (r.errors if any_errors else r.warnings)]
        dated = not to_fix or any(r.document is None for r in to_fix)
        lines += ["", closing(any_errors, any_warnings, one_file=False, deadline=sender.deadline, dated=dated)]
    if sender.contact_line():
        lines += ["", sender.contact_line()]
    lines += ["", f"{sender.signature} 敬上", ""]
    return "\n".join(lines)
