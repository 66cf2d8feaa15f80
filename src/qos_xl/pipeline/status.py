"""The status table: for each unit of the registry, the state of its submission of each form."""

from __future__ import annotations

from dataclasses import dataclass

from qos_xl.core.vocabulary import ACCEPTED, FORM_NAMES, MISSING, REJECTED, SELFCHECK, WORKPLAN
from qos_xl.pipeline.merge import MergeResult


@dataclass(frozen=True)
class Cell:
    """One unit's submission of one form: accepted, rejected (only rejected files) or missing."""

    state: str
    file: str | None
    files: int

    def to_dict(self) -> dict:
        return {"state": self.state, "file": self.file, "files": self.files}


@dataclass(frozen=True)
class Row:
    unit: str
    code: str
    cells: dict[str, Cell]            # form -> cell

    def to_dict(self) -> dict:
        return {"unit": self.unit, "code": self.code, **{form: cell.to_dict() for form, cell in self.cells.items()}}


@dataclass(frozen=True)
class StatusTable:
    period: str
    forms: tuple[str, ...]
    rows: tuple[Row, ...]
    missing: dict[str, list[str]]
    returned: dict[str, list[str]]
    accepted: int                     # units with an accepted self-check

    @property
    def titles(self) -> list[str]:
        return [FORM_NAMES[form] for form in self.forms]

    def to_dict(self) -> dict:
        return {"period": self.period, "units": [row.to_dict() for row in self.rows], "missing": self.missing,
                "returned": self.returned}


def status_table(result: MergeResult) -> StatusTable:
    """Each registry unit's state per form, from a merge of one period."""
    forms = (SELFCHECK, WORKPLAN)
    by_unit_form: dict[tuple, list] = {}
    for report in result.files:
        by_unit_form.setdefault((report.unit_code, report.form), []).append(report)
    rows = []
    for unit in result.registry.units:
        cells = {}
        for form in forms:
            mine = by_unit_form.get((unit.code, form), [])
            accepted = next((f for f in mine if f.state == ACCEPTED), None)
            state = ACCEPTED if accepted else (REJECTED if mine else MISSING)
            cells[form] = Cell(state, accepted.file if accepted else None, len(mine))
        rows.append(Row(unit.name, unit.code, cells))
    return StatusTable(str(result.period), forms, tuple(rows), result.missing_names, result.returned_names,
                       len(result.unit_rates))
