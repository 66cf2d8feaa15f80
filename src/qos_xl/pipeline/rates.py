"""Completion rates: 已完成 over the steps due minus 不適用, summed over units (never averaged)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from qos_xl.core.catalogue import Plan
from qos_xl.core.vocabulary import DONE, NOT_APPLICABLE

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Rate:
    """Completed over applicable (steps due minus 不適用)."""

    completed: int
    applicable: int

    @property
    def rate(self) -> float | None:
        return round(self.completed / self.applicable, 4) if self.applicable else None

    @property
    def ratio(self) -> float | None:
        """The exact ratio, for a cell formatted 0.0% that must show the same figure as ``label``."""
        return self.completed / self.applicable if self.applicable else None

    @property
    def shown(self) -> Decimal | None:
        """The percentage as every sheet and line shows it, one decimal (83.3); None when nothing is applicable."""
        if not self.applicable:
            return None
        return (Decimal(self.completed * 100) / self.applicable).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def percent(self) -> str:
        """83.3%, or — when nothing is applicable; halves round up, as spreadsheets do."""
        shown = self.shown
        return "—" if shown is None else f"{shown}%"

    @property
    def label(self) -> str:
        """83.3% (10/12), or — when nothing is applicable."""
        return f"{self.percent} ({self.completed}/{self.applicable})" if self.applicable else "—"

    def __add__(self, other: Rate) -> Rate:
        return Rate(self.completed + other.completed, self.applicable + other.applicable)

    def to_dict(self) -> dict:
        return {"completed": self.completed, "applicable": self.applicable, "rate": self.rate}


NO_RATE = Rate(0, 0)


def total(rates) -> Rate:
    """The sum of rates (numerators and denominators)."""
    return sum(rates, NO_RATE)


def completion(selfcheck: pd.DataFrame, plan: Plan) -> dict[str, dict[int, Rate]]:
    """Unit code -> area -> Rate over the due steps of accepted self-checks (columns unit_code, code, due, status)."""
    import pandas as pd

    rates: dict[str, dict[int, Rate]] = {}
    if selfcheck.empty:
        return rates
    due = selfcheck[selfcheck["due"]]
    area_of = {s.code: s.area for s in plan.steps}
    table = pd.DataFrame({
        "unit": due["unit_code"].to_numpy(),
        "area": due["code"].map(area_of).to_numpy(),
        "done": (due["status"] == DONE).to_numpy(),
        "applicable": (due["status"] != NOT_APPLICABLE).to_numpy(),
    }).groupby(["unit", "area"]).sum()
    for unit in selfcheck["unit_code"].unique():
        rates[unit] = {a.number: NO_RATE for a in plan.areas}
    for (unit, area), done, applicable in zip(table.index, table["done"].tolist(), table["applicable"].tolist()):
        rates[unit][int(area)] = Rate(int(done), int(applicable))
    return rates
