"""The unit registry: who is expected to submit, under which names and addresses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from qos_xl.core.config import UNITS_CSV, ConfigError, read_csv_rows
from qos_xl.core.names import unit_stem
from qos_xl.core.text import key

UNIT_COLUMNS = ("代碼", "機關全銜", "簡稱", "別名", "類別", "電子郵件")
KINDS = ("一級單位", "所屬機關")
_SPLIT = re.compile(r"[;；、,，\s]+")
_CODE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    short_name: str
    aliases: tuple[str, ...]
    kind: str
    emails: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.short_name, *self.aliases)

    @property
    def mailboxes(self) -> tuple[str, ...]:
        """The addresses one can write to: ``emails`` without an ``@domain`` (which only recognises senders)."""
        return tuple(e for e in self.emails if not e.startswith("@"))


@dataclass(frozen=True)
class Registry:
    organisation: str
    units: tuple[Unit, ...]

    @cached_property
    def _by_key(self) -> dict[str, Unit]:
        lookup: dict[str, Unit] = {}
        for unit in self.units:
            for name in unit.names:
                if name:
                    lookup[key(name)] = unit
                    if self.organisation:
                        lookup[key(self.organisation + name)] = unit
        return lookup

    @cached_property
    def _by_email(self) -> dict[str, Unit]:
        return {e.lower(): u for u in self.units for e in u.emails}

    def find(self, name: object) -> Unit | None:
        """The unit a cell names: full name, short name or alias, with or without the bureau prefix."""
        return self._by_key.get(key(name))

    def find_by_email(self, address: str) -> Unit | None:
        address = address.strip().lower()
        return self._by_email.get(address) or self._by_email.get("@" + address.partition("@")[2])

    @cached_property
    def _by_code(self) -> dict[str, Unit]:
        return {u.code.lower(): u for u in self.units}

    def by_code(self, code: str) -> Unit | None:
        return self._by_code.get(code.lower())


def load_registry(path: Path = UNITS_CSV, organisation: str = "") -> Registry:
    """Read and check the registry; every broken line is reported at once."""
    errors: list[str] = []
    units: list[Unit] = []
    seen: dict[str, str] = {}
    stems: dict[str, tuple[str, str]] = {}   # a unit's name in file names, folded as Windows does -> (code, short name)
    codes: dict[str, int] = {}    # code (any case, as by_code finds it) -> the line that has it
    for row in read_csv_rows(path, UNIT_COLUMNS):
        v = row.values
        where = f"{path} 第 {row.line} 列"
        if not _CODE.match(v["代碼"]):
            errors.append(f"{where}：代碼「{v['代碼']}」須為英文字母或數字（例如 SEC）。")
        elif (first := codes.setdefault(v["代碼"].lower(), row.line)) != row.line:
            errors.append(f"{where}：代碼「{v['代碼']}」與第 {first} 列重複，每個單位的代碼只能出現一次。")
        if not v["機關全銜"]:
            errors.append(f"{where}：「機關全銜」不可空白。")
        if v["類別"] not in KINDS:
            errors.append(f"{where}：類別「{v['類別']}」須為「一級單位」或「所屬機關」。")
        unit = Unit(
            code=v["代碼"],
            name=v["機關全銜"],
            short_name=v["簡稱"] or v["機關全銜"],
            aliases=tuple(a for a in _SPLIT.split(v["別名"]) if a),
            kind=v["類別"],
            emails=tuple(e.lower() for e in _SPLIT.split(v["電子郵件"]) if e),
        )
        for name in {key(n) for n in (unit.code, *unit.names) if n}:
            if name in seen and seen[name] != unit.code:
                errors.append(f"{where}：名稱或代碼「{name}」已用於 {seen[name]}，每個名稱只能對應一個單位。")
            seen[name] = unit.code
        stem = unit_stem(unit.short_name)
        other, its_name = stems.setdefault(stem.casefold(), (unit.code, key(unit.short_name)))
        if other != unit.code and its_name != key(unit.short_name):    # the same name is reported above
            errors.append(f"{where}：簡稱「{unit.short_name}」做成檔名後與 {other} 的相同（都是「{stem}」）："
                          "Windows 的檔名不分大小寫，也不能含 \\ / : * ? \" < > | 等字元。請改用可區分的簡稱。")
        units.append(unit)
    if not units and not errors:
        errors.append(f"{path} 沒有任何單位。")
    if errors:
        raise ConfigError(errors)
    return Registry(organisation, tuple(units))
