"""Problem records: a stable code, a severity, a position and a zh-TW message.

Every problem qos-xl reports about a unit's file is built here from ``messages.MESSAGES``,
so a code always reads the same and always tells the unit what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qos_xl.core.messages import BLANK_MESSAGES, MESSAGES, OPTIONAL_PARAMS, QUALITY_HINTS, WORD_MESSAGES
from qos_xl.core.vocabulary import ERROR

_NUMBERS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or suspicious) in one file, where the user can see it."""

    code: str
    severity: str
    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    value: str | None = None
    step: str | None = None     # the self-check row's 項次, for a problem in one step's row

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    @property
    def is_hint(self) -> bool:
        """A quality hint (``messages.QUALITY_HINTS``): a warning about how the self-check is written."""
        return self.code in QUALITY_HINTS

    def to_dict(self) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "value": self.value,
            "message": self.message,
            "step": self.step,
        }

    @property
    def where(self) -> str:
        """Sheet and cell as a user reads them: 「自行檢核表」F12."""
        if self.sheet and self.cell:
            return f"「{self.sheet}」{self.cell}"
        if self.sheet:
            return f"「{self.sheet}」"
        return self.cell or ""          # a document's place: 第 2 個表格第 5 列


def make_problem(code: str, *, file=None, sheet=None, cell=None, value=None, word: bool = False, **params) -> Problem:
    """Build a problem from its code's template; ``value`` is also available to the template.

    ``word``: the problem is in a Word document (``messages.WORD_MESSAGES``); a blank ``value`` may have a
    template of its own (``messages.BLANK_MESSAGES``)."""
    severity, template = MESSAGES[code]
    shown = "" if value is None else str(value)
    if word:
        template = WORD_MESSAGES.get(code, template)
    if not shown:
        template = BLANK_MESSAGES.get(code, template)
    message = template.format(value=shown, **{**OPTIONAL_PARAMS, **params})
    return Problem(code, severity, message, file, sheet, cell, None if value is None else shown, params.get("step") or None)


class FileProblem(Exception):
    """Raised while opening a file when it cannot be read at all."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    def problem(self, file: str | None) -> Problem:
        return make_problem(self.code, file=file, **self.params)


def column_letter(index: int) -> str:
    """1-based column index -> Excel letters (1 -> A, 27 -> AA)."""
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_name(row: int, col: int) -> str:
    """1-based row and column -> A1 reference."""
    return f"{column_letter(col)}{row}"


def problem_order(problem: Problem) -> tuple:
    """Errors first, then by sheet and cell as a reader scans them (row, then column)."""
    cell = problem.cell or ""
    letters = "".join(ch for ch in cell if ch.isascii() and ch.isalpha())
    numbers = tuple(int(n) for n in _NUMBERS.findall(cell))   # F12 -> (12,); 第 2 個表格第 5 列 -> (2, 5)
    return (problem.severity != ERROR, problem.sheet or "", numbers, len(letters), letters)
