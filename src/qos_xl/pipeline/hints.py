"""Quality hints: boilerplate or copied narratives, 已完成 without evidence, plans the self-check contradicts.

Hints are warnings only: they never reject a file and never change a rate.  Each is a
problem record with a stable code (``messages.QUALITY_HINTS``), the cell where there is
one, and a zh-TW message that says what was seen and what a good entry looks like.
Texts are compared after ``normalised``: full/half width folded, white space, line breaks
and punctuation dropped (symbols and emoji are text and stay).  Copies across units are
found by grouping on (step, text), never by comparing every pair of units.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from qos_xl.core.catalogue import Plan
from qos_xl.core.problems import Problem, make_problem
from qos_xl.core.values import cached
from qos_xl.core.vocabulary import DOING, DONE, NOT_APPLICABLE

# The thresholds, named once (README lists them).
MIN_MEANINGFUL_CHARS = 6          # narrative-too-short: fewer meaningful characters than this
REPEAT_SHARE = 1 / 3              # narrative-repeated: one text for more than this share of a unit's due steps...
REPEAT_MIN_STEPS = 5              # ...or for at least this many steps
COPY_MIN_CHARS = 15               # narrative-copied: only texts at least this long (normalised) count
EXCERPT_CHARS = 30                # how much of a text a message quotes
NAMED_UNITS = 5                   # narrative-copied names at most this many other units


@dataclass(frozen=True)
class Row:
    """One due step of one accepted self-check, as the hints read it."""

    fid: int
    unit: str                     # the unit's name
    unit_code: str
    code: str                     # 項次
    status: str | None
    narrative: str
    evidence: str
    sheet: str
    narrative_cell: str | None
    evidence_cell: str | None
    file: str


def _drop(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in "PZC" or ch.isspace()


def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return "".join(ch for ch in folded if not _drop(ch))


normalised = cached(_normalise)


def meaningful(text: str, status: str | None) -> int:
    """Characters left once punctuation, white space and the status word itself are gone."""
    core = normalised(text)
    for word in {status or "", DONE, DOING} - {""}:
        core = core.replace(word, "")
    return len(core)


def excerpt(text: str) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS] + "…"


def hints(rows: list[Row], plan: Plan, planned_areas: dict[str, set[int]]) -> dict[int, list[Problem]]:
    """The quality hints of accepted self-checks, by file id.

    ``rows``: every due step of every accepted self-check; ``planned_areas``: unit code ->
    the areas its accepted work plan lists work for.
    """
    found: dict[int, list[Problem]] = defaultdict(list)

    def add(row: Row, code: str, cell: str | None, value: str | None, **params) -> None:
        found[row.fid].append(make_problem(code, file=row.file, sheet=row.sheet, cell=cell, value=value,
                                           step=row.code, **params))

    by_file: dict[int, list[Row]] = defaultdict(list)
    for row in rows:
        by_file[row.fid].append(row)
    for fid, mine in by_file.items():
        for row in mine:
            if row.status in (DONE, DOING) and row.narrative and meaningful(row.narrative, row.status) < MIN_MEANINGFUL_CHARS:
                add(row, "narrative-too-short", row.narrative_cell, row.narrative,
                    count=meaningful(row.narrative, row.status), minimum=MIN_MEANINGFUL_CHARS)
            if row.status == DONE and not row.evidence.strip():
                add(row, "evidence-missing", row.evidence_cell, None)
        _repeated(mine, add)
    _copied(rows, add)
    _plan_contradicted(by_file, plan, planned_areas, add)
    return dict(found)


def _repeated(mine: list[Row], add) -> None:
    """One hint per text a unit uses for too many of its due steps, at the first such step."""
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in mine:
        key = normalised(row.narrative)
        if key:
            groups[key].append(row)
    for same in groups.values():
        if len(same) >= REPEAT_MIN_STEPS or len(same) > REPEAT_SHARE * len(mine):
            if len(same) < 2:
                continue
            first = same[0]
            steps = "、".join(r.code for r in same)
            add(first, "narrative-repeated", first.narrative_cell, excerpt(first.narrative), count=len(same),
                steps=steps, total=len(mine))


def _copied(rows: list[Row], add) -> None:
    """Each unit's row whose narrative, long enough, is the same as another unit's for the same step."""
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in rows:
        key = normalised(row.narrative)
        if len(key) >= COPY_MIN_CHARS:
            groups[(row.code, key)].append(row)
    for same in groups.values():
        units = {r.unit_code for r in same}
        if len(units) < 2:
            continue
        for row in same:
            others = sorted({r.unit for r in same if r.unit_code != row.unit_code})
            named = "、".join(others[:NAMED_UNITS]) + (f"等 {len(others)} 個單位" if len(others) > NAMED_UNITS else "")
            add(row, "narrative-copied", row.narrative_cell, excerpt(row.narrative), others=named)


def _plan_contradicted(by_file: dict[int, list[Row]], plan: Plan, planned_areas: dict[str, set[int]], add) -> None:
    """An area the unit's work plan lists work for, whose every due step its self-check calls 不適用."""
    area_of = {s.code: s.area for s in plan.steps}
    labels = {a.number: a.label for a in plan.areas}
    for mine in by_file.values():
        planned = planned_areas.get(mine[0].unit_code, set())
        by_area: dict[int, list[Row]] = defaultdict(list)
        for row in mine:
            if row.code in area_of:
                by_area[area_of[row.code]].append(row)
        for area, steps in sorted(by_area.items()):
            if area in planned and all(r.status == NOT_APPLICABLE for r in steps):
                first = steps[0]
                add(first, "plan-area-not-applicable", first.narrative_cell, None, area=labels.get(area, str(area)),
                    count=len(steps))
