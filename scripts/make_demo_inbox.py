"""Build the demo inbox for period 102-06: realistic submissions from the bureau's units.

Run from the repository root: ``make demo-inbox`` (``python scripts/make_demo_inbox.py src/qos_xl/data/demo``).
The output is committed, so ``make demo`` needs nothing but Python; rerun this script
(LibreOffice on PATH for the re-saved file) to rebuild it.  Randomness is seeded.
"""

from __future__ import annotations

import datetime as dt
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
from qos_xl.output.templates import SC_FIRST_ROW, SC_HEADER_CELLS, write_templates
from qos_xl.core.values import Period

PERIOD = Period(102, 6)
FIRST_ROW = SC_FIRST_ROW + 1
CELL = {name: value for name, (_, value) in SC_HEADER_CELLS.items()}
NARRATIVES = {
    "已完成": ["已於局務會議通過並公布於機關網站。", "已完成年度辦理並留存簽陳及照片。", "已依計畫辦理完竣，成果詳如附件。",
             "已辦理 2 場次，參與人數共 85 人。", "已完成檢討修正並函送各單位。"],
    "辦理中": ["刻正辦理中，預計 9 月完成。", "已完成規劃，採購作業進行中。", "持續辦理，目前完成 60%。"],
    "未辦理": ["預計下半年辦理。", "俟市府函頒作業規定後辦理。"],
    "不適用": ["本單位無對外服務櫃台，不適用。", "本單位未辦理線上申辦業務。"],
}
EVIDENCE = ["簽陳影本", "會議紀錄", "網站截圖", "活動照片", "成果報告", ""]


def roc(d: dt.date, style: int) -> str:
    """The ways clerks type a ROC date."""
    y = d.year - 1911
    forms = [f"{y}/{d.month}/{d.day}", f"{y}.{d.month}.{d.day}", f"{y}年{d.month}月{d.day}日",
             f"{y}{d.month:02d}{d.day:02d}", f"{y}/{d.month:02d}/{d.day:02d}"]
    text = forms[style % len(forms)]
    return text.translate(str.maketrans("0123456789/", "０１２３４５６７８９／")) if style == 7 else text


def fill_selfcheck(path: Path, plan, rng: random.Random, *, report_date: dt.date, filler: str, date_style: int,
                   synonym: bool = False, broken: bool = False, insert_row: bool = False) -> None:
    wb = load_workbook(path)
    ws = wb["自行檢核表"]
    ws[CELL["filler"]], ws[CELL["phone"]] = filler, f"07-33{rng.randint(10000, 99999)}"
    ws[CELL["report_date"]] = roc(report_date, date_style)
    for i, step in enumerate(plan.steps):
        row = FIRST_ROW + i
        if not step.due_at(PERIOD.month):
            continue
        status = rng.choices(["已完成", "辦理中", "未辦理", "不適用"], [70, 17, 5, 8])[0]
        shown = status
        if synonym and status == "已完成" and i % 9 == 0:
            shown = "完成"
        ws.cell(row, 6, shown)
        ws.cell(row, 7, rng.choice(NARRATIVES[status]))
        if status == "已完成":
            done = report_date - dt.timedelta(days=rng.randint(3, 150))
            ws.cell(row, 8, roc(done, date_style + i) if i % 4 else dt.datetime(done.year, done.month, done.day))
            ws.cell(row, 9, rng.choice(EVIDENCE))
    if broken:
        ws.cell(FIRST_ROW + 4, 6, "做完了")
        ws.cell(FIRST_ROW + 5, 6, "已完成")
        ws.cell(FIRST_ROW + 5, 7).value = None
        ws.cell(FIRST_ROW + 6, 6, "已完成")
        ws.cell(FIRST_ROW + 6, 8, roc(report_date + dt.timedelta(days=20), 0))
    if insert_row:
        ws.protection.sheet = False
        ws.insert_rows(2)
        ws["A2"] = "（本表由本處企劃課彙整）"
    wb.save(path)


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


def libreoffice_resave(path: Path) -> None:
    """Round-trip a file through LibreOffice, as a unit using LibreOffice would send it."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HOME": tmp}
        subprocess.run(["soffice", "--headless", "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", f"{tmp}/out", str(path)],
                       check=True, capture_output=True, env=env, timeout=180)
        shutil.move(f"{tmp}/out/{path.name}", path)


def main(inbox: Path) -> None:
    plan, rng = load_plan(), random.Random(102)
    registry = load_registry(organisation=plan.organisation)
    inbox.mkdir(parents=True, exist_ok=True)
    for old in inbox.iterdir():
        if old.is_file():
            old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        write_templates(plan, registry, Path(tmp), PERIOD)
        template = {u.code: (Path(tmp) / f"{u.short_name}_自行檢核表_{PERIOD}.xlsx", Path(tmp) / f"{u.short_name}_工作計畫_{PERIOD.year}.xlsx")
                    for u in registry.units}
        plans = [  # unit code, file name, report date, filler, date style, options
            ("SEC", "秘書室_自行檢核表_1020625.xlsx", dt.date(2013, 6, 25), "王小明", 0, {}),
            ("PER", "人事室 自評表.xlsx", dt.date(2013, 6, 26), "林美玲", 7, {}),
            ("ACC", "會計室_自行檢核表.xlsx", dt.date(2013, 6, 24), "陳志豪", 1, {"synonym": True}),
            ("ETH", "政風室_自行檢核表_LibreOffice.xlsx", dt.date(2013, 6, 27), "張淑芬", 2, {}),
            ("PLN", "工企科_1020628.xlsx", dt.date(2013, 6, 28), "黃建國", 3, {}),
            ("NCE", "新工處_自行檢核表_1020620.xlsx", dt.date(2013, 6, 20), "李俊傑", 4, {}),
            ("NCE", "新工處_自行檢核表_1020628(修正版).xlsx", dt.date(2013, 6, 28), "李俊傑", 4, {}),
            ("MNT", "養工處_自行檢核表_1020628.xlsx", dt.date(2013, 6, 28), "吳宗翰", 0, {}),
            ("SEW", "下水道處_自行檢核表.xlsx", dt.date(2013, 6, 27), "蔡雅婷", 2, {"broken": True}),
            ("BLD", "建管處_102年期中檢核.xlsx", dt.date(2013, 6, 26), "許志明", 1, {"insert_row": True}),
        ]
        for code, name, report_date, filler, style, options in plans:
            target = inbox / name
            shutil.copy(template[code][0], target)
            fill_selfcheck(target, plan, rng, report_date=report_date, filler=filler, date_style=style, **options)
            if "LibreOffice" in name and shutil.which("soffice"):
                libreoffice_resave(target)
        shutil.copy(inbox / "養工處_自行檢核表_1020628.xlsx", inbox / "養工處_自行檢核表_1020628 (1).xlsx")
        for code in ("SEC", "PER", "NCE", "MNT", "BLD", "PLN"):
            unit = registry.by_code(code)
            target = inbox / f"{unit.short_name}_工作計畫.xlsx"
            shutil.copy(template[code][1], target)
            fill_workplan(target, plan, rng)
    print(f"demo inbox written to {inbox}/")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "src/qos_xl/data/demo"))
