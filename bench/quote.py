"""Quote the latest bench/RESULTS.md in the README, between its results markers.

    .venv/bin/python bench/quote.py          # bench/run.py does it after a run written to RESULTS.md

The README keeps its own words around the quote; only the text between
``<!-- results:start -->`` and ``<!-- results:end -->`` is replaced.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
README = ROOT / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def table_after(markdown: str, heading: str) -> str:
    """The first table under ``heading`` (a whole ``## ...`` line)."""
    lines = markdown.splitlines()
    at = lines.index(heading)
    table = []
    for line in lines[at + 1:]:
        if line.startswith("|"):
            table.append(line)
        elif table or line.startswith("## "):
            break
    if not table:
        raise ValueError(f"no table under {heading!r}")
    return "\n".join(table)


def quoted(results: str) -> str:
    """The README's part of the results: when and on what, the tables, the phases."""
    run = re.search(r"^Run (\S+ \S+) ", results, re.M)
    python = re.search(r"^- Python ([^,;]+)(?:, ([^;]+))?;", results, re.M)
    if not run or not python:
        raise ValueError("RESULTS.md has no 'Run ...' or '- Python ...' line")
    phases = re.search(r"^N=(\S+), the library called in one process \(`([^`]+)`", results, re.M)
    parts = [
        f"Figures from the run of {run[1]} on the 2-core development machine, Python {python[1]}"
        + (f" (`{python[2].split(' (')[0]}`)" if python[2] else "")
        + "; the machine is shared, so ±10–20 % from run to run; median wall time from process start to exit:",
        "",
        table_after(results, "## Merge at scale"),
        "",
        table_after(results, "## Targets"),
    ]
    if phases:
        parts += ["", f"Where the time goes at N = {phases[1]} (`{phases[2]}`, the library in one process, one run):",
                  "", table_after(results, "## Where the time goes")]
    return "\n".join(parts)


def quote(results_md: Path = RESULTS_MD, readme: Path = README) -> None:
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(START) + len(START), text.index(END)
    readme.write_text(f"{text[:start]}\n{quoted(results_md.read_text(encoding='utf-8'))}\n{text[end:]}", encoding="utf-8")


if __name__ == "__main__":
    quote(*(Path(a) for a in sys.argv[1:3]))
