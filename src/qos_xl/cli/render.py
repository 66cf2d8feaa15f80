"""Text output of the commands, for a terminal: what each result says to a clerk, in zh-TW."""

from __future__ import annotations

import click

from qos_xl.core.report import FileReport
from qos_xl.core.vocabulary import (ACCEPTED, FORM_NAMES, IGNORED, REJECTED, SELFCHECK, SEVERITY_NAMES, STATE_NAMES,
                                    SUBMISSION_NAMES)

STATE_MARKS = {ACCEPTED: "✔", REJECTED: "✘", IGNORED: "·"}
SUBMISSION_MARKS = {ACCEPTED: "✔", REJECTED: "✘", "missing": "—"}
INGEST_WORDS = {"saved": "✔ 已存入", "already-in-inbox": "= 已在收件匣", "rejected": "✘ 未存檔"}


def count_files(files: list[FileReport]) -> str:
    """共 17 個檔案：接受 14、退回 1 … — or that there were none."""
    if not files:
        return "沒有任何檔案（請確認收件匣路徑，或把單位寄來的檔案存入收件匣）"
    counts: dict[str, int] = {}
    for report in files:
        counts[report.state] = counts.get(report.state, 0) + 1
    return f"共 {len(files)} 個檔案：" + "、".join(f"{STATE_NAMES.get(s, s)} {n}" for s, n in counts.items())


def files(reports: list[FileReport]) -> None:
    """Per-file verdicts and their problems."""
    for report in reports:
        what = "，".join(x for x in (report.unit, FORM_NAMES.get(report.form), report.period) if x)
        verdict = STATE_NAMES.get(report.state, report.state)
        if report.state == REJECTED:
            verdict += f"：{len(report.errors)} 個錯誤"
        if report.warnings:
            verdict += f"，{len(report.warnings)} 個警告"
        mark = STATE_MARKS.get(report.state, "•")
        click.echo(f"{mark} {report.file}　{verdict}" + (f"（{what}）" if what else ""))
        for p in report.problems:
            where = f"{p.where} " if p.where else ""
            click.echo(f"    {SEVERITY_NAMES[p.severity]} {where}[{p.code}] {p.message}"
                       + (f"（填寫內容：「{p.value}」）" if p.value else ""))
    click.echo(f"\n{count_files(reports)}。")


def merge(result) -> None:
    click.echo(f"彙整期別：{result.period}　{count_files(result.files)}")
    for note in result.notes:
        click.echo(note)
    for report in result.files:
        if report.state == REJECTED:
            click.echo(f"  ✘ {report.file}：{report.errors[0].message if report.errors else ''}（共 {len(report.errors)} 個錯誤）")
    click.echo("各實施要項完成率：")
    for area in result.plan.areas:
        click.echo(f"  {area.label}　{result.area_rates[area.number].label}")
    click.echo(f"  全局　{result.overall.label}")
    if result.missing[SELFCHECK]:
        click.echo("未繳交自行檢核表：" + "、".join(u.name for u in result.missing[SELFCHECK]))
    if result.returned[SELFCHECK]:
        click.echo("自行檢核表退回待補正：" + "、".join(u.name for u in result.returned[SELFCHECK]))
    click.echo(f"彙整活頁簿：{result.output}")


def status(table) -> None:
    click.echo(f"期別 {table.period} 繳交狀況（{table.accepted}/{len(table.rows)} 個單位的自行檢核表已接受）")
    click.echo("\t".join(["單位", *table.titles]))
    for row in table.rows:
        cells = [f"{SUBMISSION_MARKS[c.state]} {SUBMISSION_NAMES[c.state]}" for c in row.cells.values()]
        click.echo("\t".join([row.unit, *cells]))


def ingest(result) -> None:
    for message in result.messages:
        click.echo(f"{message.source}　{message.sender or '（無寄件者）'}　{message.subject}")
        if message.reason:
            click.echo(f"    ✘ 無法讀取：{message.reason}")
        elif not message.attachments:
            click.echo("    · 沒有試算表附件")
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
        if message.receipt:
            click.echo(f"    回覆文字：{message.receipt}")
    data = result.to_dict()
    click.echo(f"\n共 {len(result.messages)} 封郵件：存入 {data['saved']} 個檔案，已在收件匣 {data['already_in_inbox']} 個，"
               f"未存檔 {data['rejected']} 個，無法讀取的郵件 {data['unreadable']} 封。收件匣：{result.inbox}")
