"""What both template writers (workbook, Word) print alike: file names, 機關全銜, whom to send to, the plan's items."""

from __future__ import annotations

import re

from qos_xl.core.catalogue import Plan
from qos_xl.core.names import unit_stem
from qos_xl.core.registry import Registry, Unit
from qos_xl.core.vocabulary import SEVERITY_NAMES, WARNING

WARNING_NAME = SEVERITY_NAMES[WARNING]
_LIST_ITEM = re.compile(r"(?<=[。；;])\s*(?=[一二三四五六七八九十]+、)")


def selfcheck_filename(unit: Unit, period) -> str:
    return f"{unit_stem(unit.short_name)}_自行檢核表_{period}.xlsx"


def workplan_filename(unit: Unit, year: int) -> str:
    return f"{unit_stem(unit.short_name)}_工作計畫_{year}.xlsx"


def workplan_docx_filename(unit: Unit, year: int) -> str:
    return workplan_filename(unit, year).removesuffix(".xlsx") + ".docx"


def numbered_lines(text: str) -> str:
    """一、…。二、… -> one numbered item per line."""
    return _LIST_ITEM.sub("\n", text.strip())


def full_unit_name(plan: Plan, registry: Registry, unit: Unit) -> str:
    """The unit's 機關全銜: its name behind the organisation's, unless it already starts with it."""
    organisation = registry.organisation or plan.organisation
    if organisation and not unit.name.startswith(organisation):
        return organisation + unit.name
    return unit.name


def secretariat_contact(registry: Registry) -> str:
    """Whom a unit sends its files to: 秘書室, with its first mailbox address when the registry has one."""
    unit = registry.find("秘書室")
    emails = unit.mailboxes if unit else ()
    return f"秘書室（{emails[0]}）" if emails else "秘書室"
