"""Build the demo inbox: the bureau's plan year 102 as the secretariat's inbox holds it in December.

Run from the repository root: ``make demo-inbox`` (``python scripts/make_demo_inbox.py src/qos_xl/data/demo``).
The output is committed, so ``make demo`` needs nothing but Python; rebuilding needs
LibreOffice (``soffice``) for the file a unit saved with LibreOffice; the documents come from
``demo_documents.py``.  Randomness is seeded.

The year, checkpoint by checkpoint:

- April: work plans of seven units, one of them in Word;
- June (102-06): self-checks of nine units, one sent twice (an earlier 填報日期 superseded),
  one copied byte for byte, one with errors (退回待補正), one with a row inserted;
- August (102-08): two award applications, a PDF and a Word document, by e-mail;
- December (102-12): self-checks of nine units by e-mail (the ledger ``.qos-ledger.csv``
  records sender and date): 養護工程處 goes back on step 2-1-1 (已完成 in June), 工程企劃科
  never starts step 3-2-1 (未辦理 in June and December), 會計室 sends its file again re-saved
  (other bytes, the same cells), 新建工程處 resends a correction without changing the
  填報日期, and 下水道工程處's file has an error.  工程管理科 sends nothing all year.

Quality hints (warnings that never reject a file): 會計室 and 工程企劃科 answer every step with
stock sentences (the same text for many steps, the same as each other's for a step, some
finished steps without evidence); the other units date what they finished and name their
evidence.  人事室 writes only 「已完成。」 for its first finished step; 建築管理處's work plan
lists work in area 五, whose every step its self-checks call 不適用.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from openpyxl import load_workbook

from qos_xl.core.catalogue import load_plan
from qos_xl.core.registry import load_registry
from qos_xl.core.values import Period
from qos_xl.intake import ledger
from qos_xl.output.templates import SC_FIRST_ROW, SC_HEADER_CELLS, write_templates

import demo_documents   # beside this script: the Word work plan and the award applications

JUNE, DECEMBER = Period(102, 6), Period(102, 12)
FIRST_ROW = SC_FIRST_ROW + 1
CELL = {name: value for name, (_, value) in SC_HEADER_CELLS.items()}   # header field -> its value cell
GOES_BACK = ("MNT", "2-1-1")        # 已完成 in June, 辦理中 in December
NEVER_STARTED = ("PLN", "3-2-1")    # 未辦理 in June and in December
NARRATIVES = {
    "已完成": ["已於局務會議通過並公布於機關網站。", "已完成年度辦理並留存簽陳及照片。", "已依計畫辦理完竣，成果詳如附件。",
             "已辦理 2 場次，參與人數共 85 人。", "已完成檢討修正並函送各單位。"],
    "辦理中": ["刻正辦理中，預計 9 月完成。", "已完成規劃，採購作業進行中。", "持續辦理，目前完成 60%。"],
    "未辦理": ["預計下半年辦理。", "俟市府函頒作業規定後辦理。"],
    "不適用": ["本單位無對外服務櫃台，不適用。", "本單位未辦理線上申辦業務。"],
}
EVIDENCE = ["簽陳影本", "會議紀錄", "網站截圖", "活動照片", "成果報告", ""]
STOCK = ("ACC", "PLN")              # units writing stock sentences as drawn (quality hints); the others date them
# unit, file name, report date, filler, date style, options
JUNE_FILES = [
    ("SEC", "秘書室_自行檢核表_1020625.xlsx", dt.date(2013, 6, 25), "王小明", 0, {}),
    ("PER", "人事室 自評表.xlsx", dt.date(2013, 6, 26), "林美玲", 7, {"terse": True}),
    ("ACC", "會計室_自行檢核表.xlsx", dt.date(2013, 6, 24), "陳志豪", 1, {"synonym": True}),
    ("ETH", "政風室_自行檢核表_LibreOffice.xlsx", dt.date(2013, 6, 27), "張淑芬", 2, {"libreoffice": True}),
    ("PLN", "工企科_1020628.xlsx", dt.date(2013, 6, 28), "黃建國", 3, {}),
    ("NCE", "新工處_自行檢核表_1020620.xlsx", dt.date(2013, 6, 20), "李俊傑", 4, {}),
    ("NCE", "新工處_自行檢核表_1020628(修正版).xlsx", dt.date(2013, 6, 28), "李俊傑", 4, {}),
    ("MNT", "養工處_自行檢核表_1020628.xlsx", dt.date(2013, 6, 28), "吳宗翰", 0, {}),
    ("SEW", "下水道處_自行檢核表.xlsx", dt.date(2013, 6, 27), "蔡雅婷", 2, {"broken": True}),
    ("BLD", "建管處_102年期中檢核.xlsx", dt.date(2013, 6, 26), "許志明", 1, {"insert_row": True, "not_applicable": 5}),
]
DECEMBER_FILES = [
    ("SEC", "秘書室_年度執行成果_1021218.xlsx", dt.date(2013, 12, 18), "王小明", 0, {}),
    ("PER", "人事室 年度自評表.xlsx", dt.date(2013, 12, 19), "林美玲", 7, {"period": "１０２－１２", "terse": True}),
    ("ACC", "會計室_自行檢核表_年度.xlsx", dt.date(2013, 12, 20), "陳志豪", 1, {}),
    ("ETH", "政風室_年度自行檢核表_LibreOffice.xlsx", dt.date(2013, 12, 20), "張淑芬", 2, {"libreoffice": True}),
    ("PLN", "工企科_1021220.xlsx", dt.date(2013, 12, 20), "黃建國", 3, {}),
    ("NCE", "新工處_年度執行成果_1021220.xlsx", dt.date(2013, 12, 20), "李俊傑", 4, {}),
    ("MNT", "養工處_年度自行檢核表_1021223.xlsx", dt.date(2013, 12, 23), "吳宗翰", 0, {}),
    ("SEW", "下水道處_年度自行檢核表.xlsx", dt.date(2013, 12, 24), "蔡雅婷", 2, {"late_date": True}),
    ("BLD", "建管處_102年年度檢核.xlsx", dt.date(2013, 12, 24), "許志明", 1,
     {"insert_row": True, "period": "102年12月", "not_applicable": 5}),
]
WORK_PLANS = ("SEC", "PER", "NCE", "MNT", "BLD", "PLN")
WORD_WORK_PLANS = ("ETH",)          # 附件2 allows the work plan in Word
AWARDS = [  # unit, file name, writer, sent on
    ("MNT", "養工處_政府服務品質獎參獎申請書.pdf", demo_documents.award_pdf, dt.datetime(2013, 8, 14, 10, 12)),
    ("NCE", "新工處_參獎申請書.docx", demo_documents.award_docx, dt.datetime(2013, 8, 16, 15, 40)),
]


def roc(d: dt.date, style: int) -> str:
    """The ways clerks type a ROC date."""
    y = d.year - 1911
    forms = [f"{y}/{d.month}/{d.day}", f"{y}.{d.month}.{d.day}", f"{y}年{d.month}月{d.day}日",
             f"{y}{d.month:02d}{d.day:02d}", f"{y}/{d.month:02d}/{d.day:02d}"]
    text = forms[style % len(forms)]
    return text.translate(str.maketrans("0123456789/", "０１２３４５６７８９／")) if style == 7 else text


def june_statuses(plan, rng: random.Random, unit: str) -> dict[str, tuple[str, int]]:
    """Each step due in June: its status and how many days before the report it was done."""
    chosen = {}
    for step in plan.steps:
        if step.due_at(JUNE.month):
            status = rng.choices(["已完成", "辦理中", "未辦理", "不適用"], [70, 17, 5, 8])[0]
            chosen[step.code] = (status, rng.randint(3, 150))
    for (who, code), status in ((GOES_BACK, "已完成"), (NEVER_STARTED, "未辦理")):
        if who == unit:
            chosen[code] = (status, rng.randint(3, 150))
    return chosen


def december_statuses(plan, rng: random.Random, unit: str, june: dict[str, tuple[str, int]]) -> dict[str, tuple[str, int]]:
    """Every step in December: what June finished stays finished, what June left open moves on,
    except the one step that goes back and the one never started."""
    chosen = {}
    for step in plan.steps:
        before, days = june.get(step.code, (None, 0))
        if before in ("已完成", "不適用"):
            chosen[step.code] = (before, days + 180)
        else:
            chosen[step.code] = (rng.choices(["已完成", "辦理中"], [80, 20])[0], rng.randint(3, 150))
    if unit == GOES_BACK[0]:
        chosen[GOES_BACK[1]] = ("辦理中", 0)
    if unit == NEVER_STARTED[0]:
        chosen[NEVER_STARTED[1]] = ("未辦理", 0)
    return chosen


def fill_selfcheck(path: Path, plan, rng: random.Random, statuses: dict[str, tuple[str, int]], *, report_date: dt.date,
                   filler: str, date_style: int, synonym=False, broken=False, late_date=False, insert_row=False,
                   period: str | None = None, libreoffice=False, stock=False, terse=False,
                   not_applicable: int | None = None) -> None:
    wb = load_workbook(path)
    ws = wb["自行檢核表"]
    ws[CELL["filler"]], ws[CELL["phone"]] = filler, f"07-33{rng.randint(10000, 99999)}"
    ws[CELL["report_date"]] = roc(report_date, date_style)
    if period:
        ws[CELL["period"]] = period                   # typed over the template's 102-12
    for i, step in enumerate(plan.steps):
        if step.code not in statuses:
            continue
        row = FIRST_ROW + i
        status, days = statuses[step.code]
        done = report_date - dt.timedelta(days=days)
        ws.cell(row, 6, "完成" if synonym and status == "已完成" and i % 9 == 0 else status)
        said = rng.choice(NARRATIVES[status])
        if status == "已完成" and not stock:     # when it was done, not 「已」: no two steps alike, no longer a line
            said = f"{done.month}月{done.day}日{said.removeprefix('已')}"
        ws.cell(row, 7, said)
        if status == "已完成":
            ws.cell(row, 8, roc(done, date_style + i) if i % 4 else dt.datetime(done.year, done.month, done.day))
            shown = rng.choice(EVIDENCE)
            ws.cell(row, 9, shown if shown or stock else f"{done.month}月{done.day}日簽陳")
    if terse:
        first = next(FIRST_ROW + i for i, step in enumerate(plan.steps) if statuses.get(step.code, ("",))[0] == "已完成")
        ws.cell(first, 7, "已完成。")
    if not_applicable:
        for i, step in enumerate(plan.steps):
            if step.area == not_applicable and step.code in statuses:
                row = FIRST_ROW + i
                ws.cell(row, 6, "不適用")
                ws.cell(row, 7, NARRATIVES["不適用"][0])
                ws.cell(row, 8).value = ws.cell(row, 9).value = None
    if broken:
        ws.cell(FIRST_ROW + 4, 6, "做完了")
        ws.cell(FIRST_ROW + 5, 6, "已完成")
        ws.cell(FIRST_ROW + 5, 7).value = None
        ws.cell(FIRST_ROW + 6, 6, "已完成")
        ws.cell(FIRST_ROW + 6, 8, roc(report_date + dt.timedelta(days=20), 0))
    if late_date:
        ws.cell(FIRST_ROW + 6, 6, "已完成")
        ws.cell(FIRST_ROW + 6, 7, NARRATIVES["已完成"][0])
        ws.cell(FIRST_ROW + 6, 8, roc(report_date + dt.timedelta(days=5), 0))
    if insert_row:
        ws.protection.sheet = False
        ws.insert_rows(2)
        ws["A2"] = "（本表由本處企劃課彙整）"
    wb.save(path)
    if libreoffice:
        libreoffice_convert(path, path.parent, "xlsx:Calc MS Excel 2007 XML")


def fill_workplan(path: Path, plan, rng: random.Random) -> None:
    wb = load_workbook(path)
    ws = wb["工作計畫"]
    header_row = next(r for r in range(1, 40) if ws.cell(r, 1).value == "實施要項")
    for label, value in (("實施對象", "本處各課室及所屬工務段。"), ("考核與獎勵", "依本局計畫辦理平時、不定期及年度查核，績優人員依規定敘獎。")):
        ws.cell(next(r for r in range(1, 80) if ws.cell(r, 1).value == label), 2, value)
    row = header_row + 1
    for area in plan.areas:
        for _ in range(rng.randint(1, 3)):
            steps = [s for s in plan.steps if s.area == area.number]
            step = rng.choice(steps)
            ws.cell(row, 1, area.label)
            ws.cell(row, 2, step.focus_text[:30])
            ws.cell(row, 3, f"依本處業務特性，{step.text[:40]}")
            row += 1
    wb.save(path)


def libreoffice_convert(source: Path, out_dir: Path, fmt: str) -> Path:
    """``soffice --convert-to`` with a profile of its own; the file written into ``out_dir``."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HOME": tmp}
        subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--convert-to", fmt,
                        "--outdir", f"{tmp}/out", str(source)], check=True, capture_output=True, env=env, timeout=180)
        made = next(Path(tmp, "out").iterdir())
        target = Path(out_dir) / f"{source.stem}{made.suffix}"
        shutil.move(made, target)
    return target


def mailed(inbox: Path, path: Path, unit, when: dt.datetime, subject: str) -> None:
    """Record the file in the ingest ledger as an attachment of the unit's e-mail sent at ``when``."""
    stamp = when.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    ledger.append(inbox, {"ingested_at": (when + dt.timedelta(hours=1)).isoformat(timespec="seconds"), "source": "demo.mbox",
                          "sender": f"{unit.short_name} <{unit.emails[0]}>", "subject": subject,
                          "date": stamp.isoformat(timespec="seconds"), "message_id": f"<{path.stem}@demo>",
                          "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "saved_as": path.name,
                          "unit_code": unit.code})


def main(inbox: Path) -> None:
    if shutil.which("soffice") is None:
        sys.exit("make_demo_inbox: LibreOffice (soffice) is needed to rebuild the demo inbox")
    plan, rng = load_plan(), random.Random(102)
    registry = load_registry(organisation=plan.organisation)
    inbox.mkdir(parents=True, exist_ok=True)
    for old in inbox.iterdir():
        if old.is_file():
            old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        folders = {period: Path(tmp) / str(period) for period in (JUNE, DECEMBER)}
        for period, folder in folders.items():
            write_templates(plan, registry, folder, period)

        def template(code: str, period: Period) -> Path:
            return folders[period] / f"{registry.by_code(code).short_name}_自行檢核表_{period}.xlsx"

        june: dict[str, dict] = {}
        for code, name, report_date, filler, style, options in JUNE_FILES:
            june[code] = june_statuses(plan, rng, code)
            target = inbox / name
            shutil.copy(template(code, JUNE), target)
            fill_selfcheck(target, plan, rng, june[code], report_date=report_date, filler=filler, date_style=style,
                           stock=code in STOCK, **options)
        shutil.copy(inbox / "養工處_自行檢核表_1020628.xlsx", inbox / "養工處_自行檢核表_1020628 (1).xlsx")
        for code in WORK_PLANS:
            target = inbox / f"{registry.by_code(code).short_name}_工作計畫.xlsx"
            shutil.copy(folders[JUNE] / f"{registry.by_code(code).short_name}_工作計畫_{plan.year}.xlsx", target)
            fill_workplan(target, plan, rng)
        for code in WORD_WORK_PLANS:
            unit = registry.by_code(code)
            demo_documents.word_workplan(inbox / f"{unit.short_name}_工作計畫.docx", plan, registry, unit)
        for code, name, write, when in AWARDS:
            unit = registry.by_code(code)
            made = write(inbox / name, unit)
            mailed(inbox, made, unit, when, f"{unit.name} 102年度政府服務品質獎參獎申請書")
        for code, name, report_date, filler, style, options in DECEMBER_FILES:
            unit = registry.by_code(code)
            target = inbox / name
            shutil.copy(template(code, DECEMBER), target)
            fill_selfcheck(target, plan, rng, december_statuses(plan, rng, code, june[code]), report_date=report_date,
                           filler=filler, date_style=style, stock=code in STOCK, **options)
            sent = dt.datetime.combine(report_date, dt.time(16, 30))
            mailed(inbox, target, unit, sent, f"{unit.name} 102年度自行檢核表（年度執行成果）")
        resend_unchanged(inbox, registry)
        resend_corrected(inbox, registry, plan)
    print(f"demo inbox written to {inbox}/")


def resend_unchanged(inbox: Path, registry) -> None:
    """會計室 opens its December file in Excel, saves it again and resends it: other bytes, the same cells."""
    source = inbox / "會計室_自行檢核表_年度.xlsx"
    again = inbox / "會計室_自行檢核表_年度(再寄).xlsx"
    wb = load_workbook(source)
    wb.properties.modified = dt.datetime(2013, 12, 23, 9, 15)
    wb.save(again)
    mailed(inbox, again, registry.by_code("ACC"), dt.datetime(2013, 12, 23, 9, 20), "再寄：會計室 102年度自行檢核表")


def resend_corrected(inbox: Path, registry, plan) -> None:
    """新建工程處 corrects one 辦理情形 and resends the file without changing its 填報日期."""
    source = inbox / "新工處_年度執行成果_1021220.xlsx"
    corrected = inbox / "新工處_年度執行成果_1021220(更正).xlsx"
    wb = load_workbook(source)
    ws = wb["自行檢核表"]
    row = FIRST_ROW + [s.code for s in plan.steps].index("1-1-2")
    ws.cell(row, 7, "已於 12 月 5 日修訂年度計畫並公布於本處網站。")
    wb.save(corrected)
    mailed(inbox, corrected, registry.by_code("NCE"), dt.datetime(2013, 12, 20, 17, 45), "更正：新建工程處 102年度執行成果")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "src/qos_xl/data/demo"))
