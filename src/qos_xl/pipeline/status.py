"""The status table: for each unit of the registry, its submission at each checkpoint of the plan year."""

from __future__ import annotations

from dataclasses import dataclass

from qos_xl.core.report import FileReport
from qos_xl.core.values import Period
from qos_xl.core.vocabulary import ACCEPTED, CHECKPOINT_FORMS, CHECKPOINT_NAMES, MISSING, REJECTED, SUBMISSION_NAMES
from qos_xl.pipeline.merge import Intake, MergeResult
from qos_xl.pipeline.states import checkpoint_periods, received


@dataclass(frozen=True)
class Cell:
    """One unit's submission at one checkpoint: its current file accepted, only rejected files, or nothing."""

    state: str
    file: str | None

    def to_dict(self) -> dict:
        return {"state": self.state, "file": self.file}


@dataclass(frozen=True)
class Row:
    unit: str
    code: str
    cells: dict[str, Cell]            # period -> cell

    def to_dict(self) -> dict:
        return {"unit": self.unit, "code": self.code, "submissions": {p: c.to_dict() for p, c in self.cells.items()}}


@dataclass(frozen=True)
class StatusTable:
    year: int
    periods: tuple[str, ...]
    rows: tuple[Row, ...]

    @property
    def titles(self) -> list[str]:
        """The checkpoints' names: 工作計畫, 期中自行檢核, 參獎申請書, 年度自行檢核."""
        return [CHECKPOINT_NAMES[Period.parse(p).month] for p in self.periods]

    def count(self, period: str, state: str) -> int:
        return sum(1 for row in self.rows if row.cells[period].state == state)

    def counts(self, period: str) -> str:
        """已接受 6、退回待修正 1、未繳交 3: how many units stand where at one checkpoint."""
        return "、".join(f"{SUBMISSION_NAMES[s]} {self.count(period, s)}" for s in (ACCEPTED, REJECTED, MISSING))

    @property
    def started(self) -> tuple[str, ...]:
        """The checkpoints up to the latest one any unit has sent a file for."""
        sent = [i for i, p in enumerate(self.periods) if any(row.cells[p].state != MISSING for row in self.rows)]
        return self.periods[:max(sent) + 1] if sent else ()

    @property
    def waiting(self) -> dict[str, list[str]]:
        """Checkpoint -> units with nothing accepted for it, over the checkpoints started."""
        return {p: [row.unit for row in self.rows if row.cells[p].state != ACCEPTED] for p in self.started}

    def to_dict(self) -> dict:
        return {"year": self.year, "periods": list(self.periods), "units": [row.to_dict() for row in self.rows]}


def status_table(result: Intake | MergeResult, period: Period | None = None) -> StatusTable:
    """Each registry unit's submission at every checkpoint of the plan year, or only at ``period``'s."""
    year = result.plan.year
    periods = (str(period),) if period is not None else checkpoint_periods(year)
    mine: dict[tuple, list[FileReport]] = {}
    for report in result.year:
        mine.setdefault((report.unit_code, report.form, report.period), []).append(report)
    rows = []
    for unit in result.registry.units:
        cells = {}
        for shown in periods:
            files = mine.get((unit.code, CHECKPOINT_FORMS[Period.parse(shown).month], shown), [])
            accepted = next((f for f in files if f.state == ACCEPTED), None)
            rejected = [f for f in files if f.state == REJECTED]
            if accepted is not None:
                cells[shown] = Cell(ACCEPTED, accepted.file)
            elif rejected:
                cells[shown] = Cell(REJECTED, max(rejected, key=lambda f: (received(f), f.file)).file)
            else:
                cells[shown] = Cell(MISSING, None)
        rows.append(Row(unit.name, unit.code, cells))
    return StatusTable(year, periods, tuple(rows))
