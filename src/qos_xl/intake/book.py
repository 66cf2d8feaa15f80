"""What reading a spreadsheet gives: a ``Workbook`` of sparse ``Sheet``s of cell values, and ``ErrorValue``."""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import itemgetter


class ErrorValue(str):
    """An Excel error like '#DIV/0!' read from a cell."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"ErrorValue({str.__repr__(self)})"


@dataclass
class Sheet:
    """One sheet: its non-empty cells by (row, column), 1-based, and what a user cannot see at once."""

    name: str
    state: str = "visible"                                     # "visible" | "hidden" | "veryHidden"
    cells: dict[tuple[int, int], object] = field(default_factory=dict)
    uncached: set[tuple[int, int]] = field(default_factory=set)   # formulas saved without their value
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    skipped: bool = False                                      # not read: the caller did not want it

    @property
    def max_row(self) -> int:
        return max(max(map(itemgetter(0), self.cells), default=0), max(map(itemgetter(0), self.uncached), default=0))

    @property
    def max_col(self) -> int:
        return max(max(map(itemgetter(1), self.cells), default=0), max(map(itemgetter(1), self.uncached), default=0))


@dataclass
class Workbook:
    """A file's sheets in order, its date system, and whether it carries macros (never run, never copied)."""

    format: str                                  # "xlsx" | "xlsm" | "xls" | "xlsb" | "ods"
    sheets: list[Sheet] = field(default_factory=list)
    date1904: bool = False
    has_macros: bool = False
