"""Quality hints: boilerplate or copied narratives, 已完成 without evidence, work plans the self-check contradicts.

Hints are warnings only, added after every state is decided: they never reject a file and
never change a rate.  Each is a problem with a stable code (``messages.QUALITY_HINTS``),
the cell where there is one, and a zh-TW message that says what was seen and what a good
entry looks like.  They read the due steps of accepted self-checks (and, for
``plan-area-not-applicable``, the same unit's accepted work plan); the narrative hints read
the steps reported 已完成 or 辦理中, whose 辦理情形 says what was done.

Texts are compared after ``normalised``: full/half width and case folded, white space, line
breaks, punctuation, control and format characters dropped (symbols and emoji are text and
stay).  Copies across units are found by grouping on (step, text), never by comparing pairs
of units, so thousands of units cost one pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import TYPE_CHECKING

from qos_xl.core.messages import HINT_ADVICE
from qos_xl.core.problems import Problem, make_problem
from qos_xl.core.values import cached, each_distinct
from qos_xl.core.vocabulary import ACCEPTED, DOING, DONE, NOT_APPLICABLE, SELFCHECK, WORKPLAN
from qos_xl.pipeline.locate import Layout

if TYPE_CHECKING:
    import pandas as pd

    from qos_xl.core.catalogue import Plan
    from qos_xl.core.report import FileReport
    from qos_xl.pipeline.checked import Checked

# The thresholds, named once (the README lists them).
MIN_MEANINGFUL_CHARS = 6       # narrative-too-short: fewer letters and digits than this, the status words not counted
REPEAT_SHARE = Fraction(1, 3)  # narrative-repeated: one text for more than this share of a unit's due steps...
REPEAT_MIN_STEPS = 5           # ...or for at least this many of its steps
COPY_MIN_CHARS = 15            # narrative-copied: only texts at least this long (normalised) count
EXCERPT_CHARS = 30             # how much of a text a hint quotes
NAMED_UNITS = 5                # narrative-copied names at most this many other units, then says how many in all

DESCRIBED = (DONE, DOING)      # the statuses whose 辦理情形 describes work done


@dataclass(frozen=True)
class Source:
    """An accepted self-check: whose it is, its name, and where its cells are."""

    unit_code: str
    unit: str
    file: str
    layout: Layout


# ---------------------------------------------------------------------------------------
# Texts


@cache
def _dropped() -> tuple[re.Pattern, re.Pattern]:
    """Runs of punctuation, separators (white space, U+3000), control and format characters: (in the BMP, beyond it).

    Built once, from the Unicode database of the running Python: planes 0-2 and 14 hold every
    such character (planes 3-13 are ideographs or unassigned, 15-16 private use).  Two
    patterns, because a character class holding both checks every kept character against
    each range beyond the BMP: four times slower on Chinese text."""
    def pattern(planes) -> re.Pattern:
        wanted = [c for plane in planes for c in range(plane << 16, (plane + 1) << 16)
                  if (cat := unicodedata.category(chr(c)))[0] in "PZ" or cat in ("Cc", "Cf")]
        ranges: list[list[int]] = []
        for c in wanted:
            if ranges and ranges[-1][1] == c - 1:
                ranges[-1][1] = c
            else:
                ranges.append([c, c])
        parts = (re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
        return re.compile(f"[{''.join(parts)}]+")
    return pattern((0,)), pattern((1, 2, 14))


_BEYOND_BMP = re.compile("[\U00010000-\U0010FFFF]")
_NOT_WORD = re.compile(r"[\W_]+")     # all but letters and digits (str.isalnum)
_WORD = re.compile(r"[^\W_]")


def drop(text: str) -> str:
    """``text`` without punctuation, separators, control and format characters."""
    bmp, beyond = _dropped()
    text = bmp.sub("", text)
    return beyond.sub("", text) if _BEYOND_BMP.search(text) else text


def normalised(text: str) -> str:
    """A text as hints compare it: punctuation, spaces, line breaks dropped; full/half width and case folded."""
    core = drop(text)
    if not unicodedata.is_normalized("NFKC", core):     # NFKC is slow on CJK text: only when it changes something
        core = drop(unicodedata.normalize("NFKC", core))
    return core.casefold()


def blank(text: str) -> bool:
    """Nothing but spaces, punctuation, control or format characters (a letter or digit never normalises away)."""
    return not text or (_WORD.search(text) is None and not normalised(text))


def meaningful(key: str) -> int:
    """Letters and digits of a normalised text once the status words (已完成, 辦理中) are taken out."""
    for word in DESCRIBED:
        key = key.replace(word, "")
    return len(key) if key.isalnum() else len(_NOT_WORD.sub("", key))


def finding(problem: Problem) -> str:
    """What a hint saw: its message without the advice that every hint of its kind ends with."""
    return problem.message.removesuffix(HINT_ADVICE.get(problem.code, ""))


def excerpt(text: str) -> str:
    """The start of a text on one line, for a message to quote."""
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[:EXCERPT_CHARS] + "…"


# ---------------------------------------------------------------------------------------
# The hints


def hints(rows: pd.DataFrame, sources: dict[int, Source], plan: Plan,
          planned_areas: dict[str, set[int]]) -> dict[int, list[Problem]]:
    """The quality hints of accepted self-checks, by file id, each file's in sheet order (row, then column).

    ``rows``: every due step of the files in ``sources`` (file id -> the self-check), indexed by
    (file id, sheet row) in sheet order, with the columns code (項次), status, narrative and
    evidence as validation normalised them; ``planned_areas``: unit code -> the areas its
    accepted work plan lists work for.  Each text is normalised once; rows that may repeat or
    copy a text are found by pandas grouping on the texts' hashes (integers: no copy of the
    texts), then grouped by the texts themselves, so Python looks again only at those rows.
    """
    import pandas as pd

    found: dict[int, list[tuple[tuple, Problem]]] = defaultdict(list)
    fids = rows.index.get_level_values("fid").tolist()
    lines = rows.index.get_level_values("row").tolist()
    steps, statuses = rows["code"].tolist(), rows["status"].tolist()
    narratives, evidences = rows["narrative"].tolist(), rows["evidence"].tolist()

    def add(i: int, code: str, field: str, value: str | None, **params) -> None:
        source = sources[fids[i]]
        letter = source.layout.columns.get(field, "")
        problem = make_problem(code, file=source.file, sheet=source.layout.sheet, cell=source.layout.cell_of(field, lines[i]),
                               value=value, step=steps[i], **params)
        found[fids[i]].append(((lines[i], len(letter), letter, len(found[fids[i]])), problem))

    described = [status in DESCRIBED for status in statuses]
    # each text's fingerprint, not its normalised copy: at city scale the copies were ~100 MB at once
    prints = each_distinct(_fingerprint, [text if yes else "" for text, yes in zip(narratives, described)])
    counted = [count for _, _, count in prints]
    empty = each_distinct(blank, [text if status == DONE else "x" for text, status in zip(evidences, statuses)])
    for i, yes in enumerate(described):
        if yes and narratives[i] and counted[i] < MIN_MEANINGFUL_CHARS:
            add(i, "narrative-too-short", "narrative", excerpt(narratives[i]), count=counted[i], minimum=MIN_MEANINGFUL_CHARS)
        if empty[i]:
            add(i, "evidence-missing", "evidence", excerpt(evidences[i]) or None)
    hashed = pd.DataFrame({"fid": fids, "step": pd.array(steps, dtype=object), "key": [key for key, _, _ in prints]})
    due = Counter(fids)
    key_of = cached(normalised)          # the texts themselves, only for rows whose hashes meet
    said = hashed[[length > 0 for _, length, _ in prints]]
    maybe = said.index[said.duplicated(["fid", "key"], keep=False).to_numpy()].tolist()
    for members in _same(maybe, lambda i: (fids[i], key_of(narratives[i]))):
        if len(members) >= REPEAT_MIN_STEPS or len(members) * REPEAT_SHARE.denominator > due[fids[members[0]]] * REPEAT_SHARE.numerator:
            add(members[0], "narrative-repeated", "narrative", excerpt(narratives[members[0]]), count=len(members),
                steps="、".join(steps[i] for i in members), total=due[fids[members[0]]])
    long = hashed[[length >= COPY_MIN_CHARS for _, length, _ in prints]]
    maybe = long.index[long.duplicated(["step", "key"], keep=False).to_numpy()].tolist()
    for members in _same(maybe, lambda i: (steps[i], key_of(narratives[i]))):
        _copied(members, [sources[fids[i]] for i in members], narratives, add)
    _plan_contradicted(fids, steps, statuses, sources, plan, planned_areas, add)
    return {fid: [problem for _, problem in sorted(made, key=lambda item: item[0])] for fid, made in found.items()}


def _fingerprint(text: str) -> tuple[int, int, int]:
    """A narrative as hints compare it: the hash and length of its normalised text, and its meaningful characters."""
    key = normalised(text)
    return hash(key), len(key), meaningful(key)


def _same(maybe: list[int], key) -> list[list[int]]:
    """The rows ``maybe`` (in sheet order) grouped by ``key(row)``: the groups of two or more."""
    groups: dict[object, list[int]] = defaultdict(list)
    for i in maybe:
        groups[key(i)].append(i)
    return [members for members in groups.values() if len(members) >= 2]


def _copied(members: list[int], units: list[Source], narratives: list[str], add) -> None:
    """Rows with the same text for the same step: each one, if another unit's is among them, names the other units.

    A row names the first units of the group's sorted names but its own, so a text 5,000
    units share costs 5,000 short lines."""
    names = {source.unit_code: source.unit for source in units}
    if len(names) < 2:
        return
    ordered = sorted(names.items(), key=lambda item: (item[1], item[0]))
    for i, source in zip(members, units):
        others = [name for code, name in ordered[:NAMED_UNITS + 1] if code != source.unit_code][:NAMED_UNITS]
        more = f"等 {len(names) - 1} 個單位" if len(names) - 1 > len(others) else ""
        add(i, "narrative-copied", "narrative", excerpt(narratives[i]), units="、".join(f"「{n}」" for n in others) + more)


def _plan_contradicted(fids: list[int], steps: list[str], statuses: list, sources: dict[int, Source], plan: Plan,
                       planned_areas: dict[str, set[int]], add) -> None:
    """An area the unit's work plan lists work for, whose every due step its self-check calls 不適用."""
    area_of = {s.code: s.area for s in plan.steps}
    labels = {a.number: a.label for a in plan.areas}
    areas: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, fid in enumerate(fids):
        planned = planned_areas.get(sources[fid].unit_code)
        if planned and area_of.get(steps[i]) in planned:
            areas[(fid, area_of[steps[i]])].append(i)
    for (fid, area), members in sorted(areas.items()):
        if all(statuses[i] == NOT_APPLICABLE for i in members):
            first, last = steps[members[0]], steps[members[-1]]
            add(members[0], "plan-area-not-applicable", "status", None, area=labels.get(area, str(area)), count=len(members),
                steps=f"項次 {first}" if len(members) == 1 else f"項次 {first} 至 {last}")


# ---------------------------------------------------------------------------------------
# The stage: after the states, the hints of every accepted self-check added to its report


def with_hints(files: list[FileReport], checked: Checked, plan: Plan) -> list[FileReport]:
    """The reports, each accepted self-check's with its quality hints added after its other problems.

    Reads the validation's rows (``checked.selfcheck``, ``checked.workplan``) and each
    file's layout; states, rates and every other problem stay as they were."""
    accepted = [f for f in files if f.state == ACCEPTED]
    sources = {f.id: Source(f.unit_code or "", f.unit or "", f.file, checked.layouts[f.id])
               for f in accepted if f.form == SELFCHECK and f.id in checked.layouts}
    if not sources or checked.selfcheck.empty:
        return files
    planned = planned_areas(checked.workplan, {f.id: f.unit_code for f in accepted if f.form == WORKPLAN and f.unit_code})
    found = hints(due_rows(checked.selfcheck, sources), sources, plan, planned)
    return [f.with_problems(*found[f.id]) if f.id in found else f for f in files]


def due_rows(frame: pd.DataFrame, sources: dict[int, Source]) -> pd.DataFrame:
    """The due steps present in the files of ``sources``, in sheet order, from the validation's self-check rows."""
    fids = frame.index.get_level_values("fid")
    rows = frame[fids.isin(list(sources)) & frame["present"].to_numpy(dtype=bool) & frame["due"].to_numpy(dtype=bool)]
    return rows[["code", "status", "narrative", "evidence"]]


def planned_areas(frame: pd.DataFrame, units: dict[int, str]) -> dict[str, set[int]]:
    """Unit code -> the areas its accepted work plans (file id -> unit code) list work for."""
    if frame.empty or not units:
        return {}
    fids = frame.index.get_level_values("fid")
    rows = frame[fids.isin(list(units)) & frame["present"].to_numpy(dtype=bool) & frame["area"].notna().to_numpy()]
    planned: dict[str, set[int]] = defaultdict(set)
    for fid, area in zip(rows.index.get_level_values("fid").tolist(), rows["area"].tolist()):
        planned[units[fid]].add(int(area))
    return dict(planned)
