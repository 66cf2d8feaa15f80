"""Text output of the commands, for a terminal: what each result says to a clerk, in zh-TW."""

from __future__ import annotations

from pathlib import Path

import click

from qos_xl.cli.console import columns   # terminal columns as written: wide (CJK) characters take two
from qos_xl.core.report import FileReport, state_counts
from qos_xl.core.vocabulary import (ACCEPTED, COMPARISON_SHEET, FORM_NAMES, HINT_NAME, IGNORED, MISSING, OTHER_ATTACHMENTS,
                                    OTHER_PERIOD, REJECTED, SELFCHECK, SEVERITY_NAMES, STATE_NAMES, SUBMISSION_NAMES)

STATE_MARKS = {ACCEPTED: "✔", REJECTED: "✘", IGNORED: "·"}
SUBMISSION_MARKS = {ACCEPTED: "✔", REJECTED: "✘", MISSING: "－"}   # none of East Asian width "ambiguous": aligned everywhere
INGEST_WORDS = {"saved": "✔ 已存入", "already-in-inbox": "= 已在收件匣", "rejected": "✘ 未存檔"}


def count_files(files: list[FileReport]) -> str:
    """共 17 個檔案：接受 14、退回 1 … — or that there were none."""
    if not files:
        return "沒有任何檔案（請確認收件匣路徑，或把單位寄來的檔案存入收件匣）"
    return f"共 {len(files)} 個檔案：{state_counts(files)}"


def feedback_written(pairs: int, folder: Path) -> None:
    """Where the annotated copies and replies went, and for which files."""
    click.echo(f"已為 {pairs} 個有錯誤、警告或{HINT_NAME}的檔案產生標註副本與回覆文字：{folder}/")


def unset_reply_settings(sender, path: Path) -> None:
    """A line for the secretariat when the replies ``sender`` wrote cannot say by when to resend, or whom to call."""
    from qos_xl.output.reply import SETTING_CONTACT, SETTING_DEADLINE, SETTING_PHONE

    lacking, names = [], []
    if not sender.deadline:
        lacking.append("補件期限")
        names.append(SETTING_DEADLINE)
    if not sender.contact_line():
        lacking.append("聯絡人與電話")
        names += [SETTING_CONTACT, SETTING_PHONE]
    if lacking:
        click.echo(f"提醒：回覆文字中沒有{'及'.join(lacking)}，因為設定的{'、'.join(f'「{n}」' for n in names)}尚未填寫。"
                   f"請在 {path} 填寫後再執行一次。")


def files(reports: list[FileReport]) -> None:
    """Per-file verdicts and their problems."""
    for report in reports:
        what = "，".join(x for x in (report.unit, FORM_NAMES.get(report.form), report.period) if x)
        verdict = STATE_NAMES.get(report.state, report.state)
        if report.state == REJECTED:
            verdict += f"：{len(report.errors)} 個錯誤"
        hints = len(report.hints)
        if len(report.warnings) > hints:
            verdict += f"，{len(report.warnings) - hints} 個警告"
        if hints:
            verdict += f"，{hints} 項{HINT_NAME}"
        mark = STATE_MARKS.get(report.state, "•")
        click.echo(f"{mark} {report.file}　{verdict}" + (f"（{what}）" if what else ""))
        for p in report.problems:
            where = f"{p.where} " if p.where else ""
            click.echo(f"    {HINT_NAME if p.is_hint else SEVERITY_NAMES[p.severity]} {where}[{p.code}] {p.message}"
                       + (f"（填寫內容：「{p.value}」）" if p.value else ""))
    click.echo(f"\n{count_files(reports)}。")


def merge(result) -> None:
    click.echo(f"彙整期別：{result.period}　{count_files(result.files)}")
    for note in result.notes:
        click.echo(note)
    for report in result.files:
        if report.state == REJECTED:
            click.echo(f"  ✘ {report.file}：{report.errors[0].message if report.errors else ''}（共 {len(report.errors)} 個錯誤）")
    others = sum(1 for f in result.files if f.state == OTHER_PERIOD)
    if others:
        click.echo(f"{STATE_NAMES[OTHER_PERIOD]}的檔案 {others} 個：列於收件紀錄，不列入本期彙整。")
    if result.form == SELFCHECK:
        click.echo("各實施要項完成率：")
        for area in result.plan.areas:
            click.echo(f"  {area.label}　{result.area_rates[area.number].label}")
        click.echo(f"  全局　{result.overall.label}")
    for form in dict.fromkeys((result.form, *result.missing, *result.returned)):   # this period's form first
        name = FORM_NAMES[form]
        if result.missing.get(form):
            click.echo(f"{SUBMISSION_NAMES[MISSING]}{name}：" + "、".join(u.name for u in result.missing[form]))
        if result.returned.get(form):
            click.echo(f"{name}{SUBMISSION_NAMES[REJECTED]}：" + "、".join(u.name for u in result.returned[form]))
    if result.comparison is not None:
        comparison(result.comparison)
    click.echo(f"彙整活頁簿：{result.output}")


def comparison(moved) -> None:
    """The December merge's comparison with June, in one line and where to read it."""
    click.echo(f"期中（{moved.before}）與年度（{moved.after}）比較：{moved.headline}，詳見彙整活頁簿的「{COMPARISON_SHEET}」工作表。")


def status(table) -> None:
    """One row per unit, one column per checkpoint, aligned for CJK text; then the counts per checkpoint."""
    if len(table.periods) == 1:
        click.echo(f"期別 {table.periods[0]}（{table.titles[0]}）各單位繳交狀況")
    else:
        click.echo(f"{table.year} 年度各單位繳交狀況（{'、'.join(f'{t} {p}' for t, p in zip(table.titles, table.periods))}）")
    lines = [["單位", *table.titles]]
    for row in table.rows:
        lines.append([row.unit, *(f"{SUBMISSION_MARKS[c.state]} {SUBMISSION_NAMES[c.state]}" for c in row.cells.values())])
    widths = [max(columns(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        cells = [text + " " * (width - columns(text)) for text, width in zip(line, widths)]
        click.echo("  ".join(cells).rstrip())
    click.echo("")
    for title, period in zip(table.titles, table.periods):
        click.echo(f"{title}（{period}）：{table.counts(period)}")


def ingest(result) -> None:
    for message in result.messages:
        click.echo(f"{message.source}　{message.sender or '（無寄件者）'}　{message.subject}")
        if message.reason:
            click.echo(f"    ✘ 無法讀取：{message.reason}")
        elif not message.attachments:
            click.echo("    · 沒有試算表或參獎申請書附件")
        for att in message.attachments:
            line = f"    {INGEST_WORDS.get(att.state, att.state)} {att.name}"
            if att.saved_as and att.saved_as != att.name:
                line += f" → {att.saved_as}"
            if att.report is not None:
                errors, warnings = len(att.report.errors), len(att.report.warnings)
                line += f"　檢核：{STATE_NAMES.get(att.report.state, att.report.state)}"
                line += (f"（{errors} 個錯誤）" if errors else "") + (f"（{warnings} 個警告）" if warnings else "")
            if att.reason:
                line += f"：{att.reason}"
            click.echo(line)
        for other in message.others:
            click.echo(f"    · 其他附件 {other}")
        if message.receipt:
            click.echo(f"    回覆文字：{message.receipt}")
    data = result.to_dict()
    others = sum(len(message.others) for message in result.messages)
    click.echo(f"\n共 {len(result.messages)} 封郵件：存入 {data['saved']} 個檔案，已在收件匣 {data['already_in_inbox']} 個，"
               f"未存檔 {data['rejected']} 個" + (f"，其他附件 {others} 個（{OTHER_ATTACHMENTS}）" if others else "")
               + f"，無法讀取的郵件 {data['unreadable']} 封。收件匣：{result.inbox}")
    if result.missing:
        click.echo(f"找不到 {len(result.missing)} 個來源，未處理（請確認路徑是否正確）：" + "、".join(result.missing))


def init(made) -> None:
    """What ``qos-xl init`` made, and what to do next."""
    click.echo(f"已建立 qos-xl 工作區：{made.root.absolute()}")
    for path in made.made:
        note = {"workbooks/config": "計畫、設定與單位名冊，可用 Excel 編輯", "說明.txt": "下一步怎麼做"}.get(path.as_posix(), "")
        if path.as_posix() == "workbooks/inbox" and made.demo_files:
            note = f"已放入示範年度的 {made.demo_files} 個檔案"
        click.echo(f"  {path.as_posix()}{'' if path.suffix else '/'}" + (f"（{note}）" if note else ""))
    first = "qos-xl merge（彙整示範檔案）" if made.demo_files else "qos-xl templates（產生各單位範本）"
    where = "" if made.root.absolute() == Path.cwd() else f"進入 {made.root} 資料夾，"
    click.echo(f"下一步：{where}執行 {first}。詳見 說明.txt。")
