"""Filled submissions built from the real templates, as units fill them (openpyxl)."""

from __future__ import annotations

import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from openpyxl import load_workbook

from qos_xl.output.templates import SC_FIRST_ROW, SC_HEADER_CELLS, write_templates
from qos_xl.core.values import Period

FIRST_ROW = SC_FIRST_ROW + 1  # the template's first step row, 1-based
CELL = {name: value for name, (_, value) in SC_HEADER_CELLS.items()}  # header field -> its value cell ("I2")
_CACHE = Path(tempfile.mkdtemp(prefix="qos-templates-"))


@lru_cache(maxsize=None)
def template(plan, registry, unit_code: str, period: str, form: str) -> Path:
    """The generated template for a unit (cached for the test session)."""
    unit = registry.by_code(unit_code)
    parsed = Period.parse(period)
    out = _CACHE / f"{unit_code}-{period}"
    if not out.exists():
        write_templates(plan, registry, out, parsed, [unit])
    name = f"{unit.short_name}_自行檢核表_{parsed}.xlsx" if form == "selfcheck" else f"{unit.short_name}_工作計畫_{parsed.year}.xlsx"
    return out / name


def step_row(plan, code: str) -> int:
    return FIRST_ROW + [s.code for s in plan.steps].index(code)


def narrative(unit_name: str, step) -> str:
    """A 辦理情形 as a careful unit writes it: what, when, for this step and by this unit (no quality hint)."""
    return f"{unit_name}於102年5月1日完成項次{step.code}：{step.text[:24]}，辦理情形已簽陳核閱。"


def evidence(step) -> str:
    """A 佐證資料 that can be looked up: a dated memo about the step."""
    return f"102年5月1日簽陳（項次{step.code}）"


def selfcheck(folder: Path, plan, registry, *, unit="MNT", period="102-06", name=None, report_date="102/6/28",
              edit=None) -> Path:
    """A valid filled self-check (every due step 已完成, its own narrative and evidence: no quality hint),
    then ``edit(ws)`` applied."""
    source = template(plan, registry, unit, period, "selfcheck")
    target = Path(folder) / (name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb = load_workbook(source)
    ws = wb["自行檢核表"]
    ws[CELL["filler"]], ws[CELL["phone"]], ws[CELL["report_date"]] = "王小明", "07-3368333", report_date
    month = Period.parse(period).month
    name = registry.by_code(unit).name
    for i, step in enumerate(plan.steps):
        if step.due_at(month):
            ws.cell(FIRST_ROW + i, 6, "已完成")
            ws.cell(FIRST_ROW + i, 7, narrative(name, step))
            ws.cell(FIRST_ROW + i, 8, "102/5/1")
            ws.cell(FIRST_ROW + i, 9, evidence(step))
    if edit:
        edit(ws)
    wb.save(target)
    return target


def workplan(folder: Path, plan, registry, *, unit="MNT", name=None, edit=None) -> Path:
    """A valid filled work plan (one row per area), then ``edit(ws)`` applied."""
    source = template(plan, registry, unit, f"{plan.year}-06", "workplan")
    target = Path(folder) / (name or source.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    wb = load_workbook(source)
    ws = wb["工作計畫"]
    header = next(r for r in range(1, 60) if ws.cell(r, 1).value == "實施要項")
    for i, area in enumerate(plan.areas):
        ws.cell(header + 1 + i, 1, area.label)
        ws.cell(header + 1 + i, 2, f"{area.title}工作重點")
        ws.cell(header + 1 + i, 3, "依本處業務特性辦理。")
    for label, value in (("實施對象", "本處各課室。"), ("考核與獎勵", "依本局計畫辦理考核。")):
        ws.cell(next(r for r in range(1, 80) if ws.cell(r, 1).value == label), 2, value)
    if edit:
        edit(ws)
    wb.save(target)
    return target


def copy(path: Path, target: Path) -> Path:
    shutil.copy(path, target)
    return target


# -- what LibreOffice stores for typed dates -----------------------------------------------

# CSV read with the zh-TW locale (language 1028): each field is parsed as if typed into a cell
ZH_TW_CSV = "Text - txt - csv (StarCalc):44,34,76,1,,1028"


def libreoffice_typed(texts: list[str], folder: Path) -> dict[str, tuple[object, str | None]]:
    """Each text as LibreOffice (zh-TW) stores it when typed into a cell of a date format.

    (the .xlsx serial, the .ods date-value) for what LibreOffice takes as a date, (the text,
    None) for what it keeps as text.  The texts are typed by reading them as a CSV with the
    zh-TW locale, then saved as .xlsx and .ods by LibreOffice itself: nothing here is our own
    model of LibreOffice.
    """
    import re
    import zipfile

    from office import convert

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "typed.csv"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    xlsx = convert(source, "xlsx", folder / "xlsx", infilter=ZH_TW_CSV)
    ods = convert(source, "ods", folder / "ods", infilter=ZH_TW_CSV)
    with zipfile.ZipFile(xlsx) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    cells = re.findall(r'<c r="A[0-9]+"([^>]*)><v>([^<]*)</v>', sheet)
    with zipfile.ZipFile(ods) as z:
        content = z.read("content.xml").decode()
    dates = iter(re.findall(r'office:date-value="([^"]+)"', content))
    assert len(cells) == len(texts), cells
    return {text: (text, None) if 't="s"' in attrs else (int(value), next(dates))
            for text, (attrs, value) in zip(texts, cells)}
