"""The plan catalogue: areas, focus points and steps with their check deadlines.

Loaded from ``workbooks/config/plan.csv`` and ``settings.csv`` so the secretariat can
replace the plan for next year without touching code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from qos_xl.core.config import PLAN_CSV, SETTINGS_CSV, ConfigError, read_csv_rows
from qos_xl.core.text import key
from qos_xl.core.values import parse_date

NUMERALS = "一二三四五六七八九十"
PLAN_COLUMNS = ("項次", "實施要項", "執行重點", "執行步驟", "查核期限")
_CODE = re.compile(r"^(\d+)-(\d+)-(\d+)$")
_MONTH = re.compile(r"^(\d{1,2})月$")


# an area's number at the start of what a unit wrote: (二) / (2) or 二 / 2 before a separator or text
_LEADING_NUMBER = re.compile(r"\(([一二三四五六七八九十]+|[0-9]+)\)[、.,:;]?|([一二三四五六七八九十]+|[0-9]+)(?:[、.,:;]|(?![0-9]))")
_CLAUSES = re.compile(r"[,;、]")


def _number(text: str) -> int | None:
    """一…十 or Arabic digits -> int; None for anything else (一二, 十一)."""
    if text.isdigit():
        return int(text)
    return NUMERALS.index(text) + 1 if len(text) == 1 else None


def numeral(number: int) -> str:
    """1 -> 一 (area numbering as printed in the plan)."""
    return NUMERALS[number - 1] if 1 <= number <= len(NUMERALS) else str(number)


@dataclass(frozen=True)
class Area:
    number: int
    title: str

    @property
    def label(self) -> str:
        """一、提升服務品質，深化服務績效"""
        return f"{numeral(self.number)}、{self.title}"


@dataclass(frozen=True)
class Step:
    code: str
    area: int
    focus: int
    number: int
    area_title: str
    focus_text: str
    text: str
    months: tuple[int, ...]

    @property
    def deadline(self) -> str:
        """查核期限 as printed: 6月、12月"""
        return "、".join(f"{m}月" for m in self.months)

    @property
    def focus_label(self) -> str:
        """（一）訂定機關年度…"""
        return f"（{numeral(self.focus)}）{self.focus_text}"

    def due_at(self, month: int | None) -> bool:
        """Due at a checkpoint when the earliest deadline month is not after it."""
        return month is None or min(self.months) <= month


@dataclass(frozen=True)
class Plan:
    year: int
    organisation: str
    title: str
    basis: str
    goals: str
    audience: str
    areas: tuple[Area, ...]
    steps: tuple[Step, ...]
    settings: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)  # settings.csv, by 項目

    @cached_property
    def step_by_code(self) -> dict[str, Step]:
        return {s.code: s for s in self.steps}

    @cached_property
    def focus_points(self) -> list[tuple[int, int, str]]:
        seen: dict[tuple[int, int], str] = {}
        for s in self.steps:
            seen.setdefault((s.area, s.focus), s.focus_text)
        return [(a, f, t) for (a, f), t in seen.items()]

    @cached_property
    def area_by_key(self) -> dict[str, Area]:
        """Every way the template writes an area, by key(): 一, 1, the title, 一、title."""
        lookup: dict[str, Area] = {}
        for area in self.areas:
            for name in (numeral(area.number), str(area.number), area.title, area.label,
                         f"{numeral(area.number)}{area.title}", f"{area.number}.{area.title}"):
                lookup[key(name)] = area
        return lookup

    @cached_property
    def _area_names(self) -> dict[str, set[int]]:
        """key() of each area's title and of each of its clauses (便捷服務程序) -> the areas so named."""
        names: dict[str, set[int]] = {}
        for area in self.areas:
            title = key(area.title)
            for name in {title, *(c for c in _CLAUSES.split(title) if len(c) >= 2)}:
                names.setdefault(name, set()).add(area.number)
        return names

    def _area_named(self, name: str) -> Area | None:
        """The one area a name (its title, a clause of it, or the start of it) stands for; None if none or several."""
        numbers = self._area_names.get(name)
        if numbers is None and len(name) >= 4:
            numbers = {a.number for a in self.areas if key(a.title).startswith(name)}
        return self.areas[next(iter(numbers)) - 1] if numbers and len(numbers) == 1 else None

    def find_area(self, value: object) -> Area | None:
        """The area a unit wrote: by its leading numeral (二, 2, 二、…, （二）, 2.…) or by its name.

        A numeral and a name that point at different areas (二、提升服務品質) are no area:
        which one the unit meant cannot be told.
        """
        k = key(value)
        if not k:
            return None
        if k in self.area_by_key:
            return self.area_by_key[k]
        m = _LEADING_NUMBER.match(k)
        if m is None:
            return self._area_named(k)
        number = _number(m[1] or m[2])
        area = self.areas[number - 1] if number and 1 <= number <= len(self.areas) else None
        rest = k[m.end():]
        named = self._area_named(rest) if rest else None
        if area is None or (named is not None and named != area):
            return None
        return area

    def due_codes(self, month: int | None) -> set[str]:
        return {s.code for s in self.steps if s.due_at(month)}

    @property
    def full_title(self) -> str:
        return f"{self.organisation}{self.year}年度{self.title}"


def _settings(path: Path) -> dict[str, str]:
    rows = read_csv_rows(path, ("項目", "內容"))
    return {r.values["項目"]: r.values["內容"] for r in rows}


def load_plan(plan_csv: Path = PLAN_CSV, settings_csv: Path = SETTINGS_CSV) -> Plan:
    """Read and check the catalogue; every broken line is reported at once."""
    settings = _settings(settings_csv)
    errors: list[str] = []
    year_text = settings.get("計畫年度", "")
    if not year_text.isdigit():
        errors.append(f"{settings_csv}：「計畫年度」須為民國年數字（例如 102），目前是「{year_text}」。")
    deadline = parse_date(settings.get("補件期限", ""))
    if deadline.error:
        errors.append(f"{settings_csv}：「補件期限」的「{settings['補件期限']}」不是日期（{deadline.error}），"
                      "請寫成民國日期，例如 102/7/10，或留空。")
    steps: list[Step] = []
    areas: dict[int, str] = {}
    focus_texts: dict[tuple[int, int], str] = {}
    for row in read_csv_rows(plan_csv, PLAN_COLUMNS):
        where = f"{plan_csv} 第 {row.line} 列"
        v = row.values
        code = v["項次"].replace(" ", "")
        match = _CODE.match(code)
        if not match:
            errors.append(f"{where}：項次「{v['項次']}」格式錯誤，須為「要項-重點-步驟」，例如 1-2-3。")
            continue
        area, focus, number = (int(g) for g in match.groups())
        months = []
        for part in re.split(r"[、,，/]", v["查核期限"].replace(" ", "")):
            m = _MONTH.match(part)
            if not m or not 1 <= int(m.group(1)) <= 12:
                errors.append(f"{where}：查核期限「{v['查核期限']}」無法辨識，請寫成 4月、6月、12月 或 6月、12月。")
                months = []
                break
            months.append(int(m.group(1)))
        for column in ("實施要項", "執行重點", "執行步驟"):
            if not v[column]:
                errors.append(f"{where}：「{column}」不可空白。")
        if areas.setdefault(area, v["實施要項"]) != v["實施要項"]:
            errors.append(f"{where}：實施要項 {area} 的名稱與前面的列不一致（「{v['實施要項']}」與「{areas[area]}」）。")
        if focus_texts.setdefault((area, focus), v["執行重點"]) != v["執行重點"]:
            errors.append(f"{where}：執行重點 {area}-{focus} 的內容與前面的列不一致，同一執行重點每列須相同。")
        if months:
            steps.append(Step(code, area, focus, number, v["實施要項"], v["執行重點"],
                              v["執行步驟"], tuple(sorted(set(months)))))
    codes = [s.code for s in steps]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        errors.append(f"{plan_csv}：項次 {code} 重複，每個項次只能出現一次。")
    if not steps and not errors:
        errors.append(f"{plan_csv} 沒有任何執行步驟。")
    if sorted(areas) != list(range(1, len(areas) + 1)):
        errors.append(f"{plan_csv}：實施要項編號須從 1 起連續編號，目前為 {sorted(areas)}。")
    if errors:
        raise ConfigError(errors)
    steps.sort(key=lambda s: (s.area, s.focus, s.number))
    return Plan(
        year=int(year_text),
        organisation=settings.get("主辦機關", ""),
        title=settings.get("計畫名稱", "提升服務品質執行計畫"),
        basis=settings.get("計畫依據", ""),
        goals=settings.get("計畫目標", ""),
        audience=settings.get("實施對象", ""),
        areas=tuple(Area(n, t) for n, t in sorted(areas.items())),
        steps=tuple(steps),
        settings=MappingProxyType(dict(settings)),
    )
