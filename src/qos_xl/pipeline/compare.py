"""June against December: each unit's rates in both periods, and the steps that went back or never started."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from qos_xl.core.catalogue import Plan
from qos_xl.core.registry import Registry
from qos_xl.core.values import Period
from qos_xl.core.vocabulary import DONE, MOVE_NAMES, NOT_DONE, NOT_STARTED, REGRESSED
from qos_xl.pipeline.rates import NO_RATE, Rate, completion, total

if TYPE_CHECKING:
    import pandas as pd


def change(before: Rate | None, after: Rate | None) -> Decimal | None:
    """The change in percentage points between the rates as shown (79.0% -> 91.2%: 12.2, what a reader checking by
    hand gets); None when a side has no rate."""
    if before is None or after is None or not before.applicable or not after.applicable:
        return None
    return after.shown - before.shown


def change_text(before: Rate | None, after: Rate | None) -> str:
    """，▲ 5.0 個百分點 (or ▼, or 持平); nothing when a side has no rate."""
    moved = change(before, after)
    if moved is None:
        return ""
    return "，持平" if not moved else f"，{'▲' if moved > 0 else '▼'} {abs(moved)} 個百分點"


def _rate(rate: Rate | None) -> dict | None:
    return rate.to_dict() if rate is not None else None


def _points(before: Rate | None, after: Rate | None) -> float | None:
    moved = change(before, after)
    return None if moved is None else float(moved)


@dataclass(frozen=True)
class UnitChange:
    """One unit's rates per area and overall in both periods; None where the unit has no accepted self-check."""

    unit: str
    code: str
    areas: dict[int, tuple[Rate | None, Rate | None]]
    before: Rate | None
    after: Rate | None

    def to_dict(self) -> dict:
        return {"unit": self.unit, "code": self.code,
                "areas": [{"area": area, "from": _rate(a), "to": _rate(b), "change": _points(a, b)}
                          for area, (a, b) in self.areas.items()],
                "from": _rate(self.before), "to": _rate(self.after), "change": _points(self.before, self.after)}


@dataclass(frozen=True)
class StepChange:
    """A step of one unit that went back (``regressed``) or never started (``not-started``)."""

    unit: str
    code: str
    step: str
    before: str
    after: str
    kind: str
    narrative: str          # the unit's 辦理情形 in the later period

    def to_dict(self) -> dict:
        return {"unit": self.unit, "code": self.code, "step": self.step, "from": self.before, "to": self.after,
                "kind": self.kind}


@dataclass(frozen=True)
class Comparison:
    """Two self-check periods side by side (PRODUCT.md, "The December merge compares with June")."""

    before: Period
    after: Period
    units: tuple[UnitChange, ...]
    areas: dict[int, tuple[Rate, Rate]]       # the bureau's rate per area in each period
    steps: tuple[StepChange, ...]             # regressed first, then not started; units and steps in order

    @property
    def overall(self) -> tuple[Rate, Rate]:
        return total(a for a, _ in self.areas.values()), total(b for _, b in self.areas.values())

    def of_kind(self, kind: str) -> list[StepChange]:
        return [s for s in self.steps if s.kind == kind]

    @property
    def headline(self) -> str:
        """全局 78.1% (257/329) → 92.1% (325/353)，▲ 14.0 個百分點；退步 1 項、未啟動 1 項."""
        before, after = self.overall
        return (f"全局 {before.label} → {after.label}{change_text(before, after)}；"
                f"{MOVE_NAMES[REGRESSED]} {len(self.of_kind(REGRESSED))} 項、{MOVE_NAMES[NOT_STARTED]} {len(self.of_kind(NOT_STARTED))} 項")

    def to_dict(self) -> dict:
        before, after = self.overall
        return {
            "from": str(self.before), "to": str(self.after),
            "units": [u.to_dict() for u in self.units],
            "steps": [s.to_dict() for s in self.steps],
            "bureau": {"areas": [{"area": area, "from": a.to_dict(), "to": b.to_dict(), "change": _points(a, b)}
                                 for area, (a, b) in self.areas.items()],
                       "from": before.to_dict(), "to": after.to_dict(), "change": _points(before, after)},
        }


def compare(earlier: pd.DataFrame, later: pd.DataFrame, plan: Plan, registry: Registry,
            before: Period, after: Period) -> Comparison | None:
    """Accepted self-check rows of two periods compared (columns unit_code, code, due, status, narrative);
    None when the earlier period has none."""
    if earlier.empty:
        return None
    first, second = completion(earlier, plan), completion(later, plan)
    areas = [a.number for a in plan.areas]
    units = []
    for unit in registry.units:
        a, b = first.get(unit.code), second.get(unit.code)
        if a is None and b is None:
            continue
        units.append(UnitChange(unit.name, unit.code,
                                {n: (a.get(n, NO_RATE) if a else None, b.get(n, NO_RATE) if b else None) for n in areas},
                                total(a.values()) if a else None, total(b.values()) if b else None))
    bureau = {n: (total(r.get(n, NO_RATE) for r in first.values()), total(r.get(n, NO_RATE) for r in second.values()))
              for n in areas}
    return Comparison(before, after, tuple(units), bureau, _moved_steps(earlier, later, plan, registry))


def _moved_steps(earlier: pd.DataFrame, later: pd.DataFrame, plan: Plan, registry: Registry) -> tuple[StepChange, ...]:
    if later.empty:
        return ()
    joined = earlier[["unit_code", "code", "due", "status"]].merge(
        later[["unit_code", "code", "status", "narrative"]], on=["unit_code", "code"], suffixes=("_from", "_to"))
    regressed = (joined["status_from"] == DONE) & (joined["status_to"] != DONE)
    not_started = joined["due"] & (joined["status_from"] == NOT_DONE) & (joined["status_to"] == NOT_DONE)
    unit_rank = {u.code: i for i, u in enumerate(registry.units)}
    step_rank = {s.code: i for i, s in enumerate(plan.steps)}
    found = []
    for kind, rows in ((REGRESSED, joined[regressed]), (NOT_STARTED, joined[not_started])):
        moved = [StepChange(registry.by_code(unit).name, unit, code, before or "", after if isinstance(after, str) else "",
                            kind, narrative if isinstance(narrative, str) else "")
                 for unit, code, before, after, narrative in zip(rows["unit_code"], rows["code"], rows["status_from"],
                                                                rows["status_to"], rows["narrative"])]
        found += sorted(moved, key=lambda s: (unit_rank.get(s.code, len(unit_rank)), step_rank.get(s.step, len(step_rank))))
    return tuple(found)
