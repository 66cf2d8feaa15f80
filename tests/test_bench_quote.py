"""The README quotes the latest bench/RESULTS.md, word for word (bench/quote.py)."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from conftest import REPO


def _quote_module():
    spec = importlib.util.spec_from_file_location("bench_quote", REPO / "bench" / "quote.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


quote = _quote_module()

RESULTS = """# qos-xl benchmark results

Run 2026-11-28 05:10 (local time) by `bench/run.py`.

- machine: 2 CPUs (AMD EPYC), 23.5 GiB RAM; Linux
- Python 3.11.2, /usr/bin/python3.11 (libpython linked in; GCC 12.2.0); qos-xl 0.1.0, pandas 3.1.1

## Merge at scale

| N | tool | wall s (median) |
| ---: | --- | ---: |
| 1,000 | qos-xl merge --no-feedback | 6.50 |

*a note that is not quoted*

## Where the time goes

N=1,000, the library called in one process (`bench/profile_merge.py 1000 --no-profile --jobs 2`: ...), no profiler, one run:

| phase | s | share |
| --- | ---: | ---: |
| merge() total | 5.00 | 80% |

## Targets

| target | measured | verdict |
| --- | --- | --- |
| N=1,000: merge ≤ 8 s | 6.50 s | PASS |
"""


def test_the_quote_replaces_only_the_text_between_the_markers(tmp_path):
    results, readme = tmp_path / "RESULTS.md", tmp_path / "README.md"
    results.write_text(RESULTS, encoding="utf-8")
    readme.write_text(f"# intro\n\n{quote.START}\nold figures\n{quote.END}\n\n## after\n", encoding="utf-8")
    quote.quote(results, readme)
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(f"# intro\n\n{quote.START}\nFigures from the run of 2026-11-28 05:10 on the 2-core "
                           "development machine, Python 3.11.2 (`/usr/bin/python3.11`);")
    assert text.endswith(f"| merge() total | 5.00 | 80% |\n{quote.END}\n\n## after\n")
    assert "old figures" not in text and "not quoted" not in text
    assert "| 1,000 | qos-xl merge --no-feedback | 6.50 |\n\n| target | measured | verdict |" in text
    assert "Where the time goes at N = 1,000 (`bench/profile_merge.py 1000 --no-profile --jobs 2`" in text
    quote.quote(results, readme)
    assert readme.read_text(encoding="utf-8") == text          # quoting twice changes nothing


def test_results_without_a_table_are_refused(tmp_path):
    results, readme = tmp_path / "RESULTS.md", tmp_path / "README.md"
    results.write_text(RESULTS[:RESULTS.index("| target |")], encoding="utf-8")
    readme.write_text(f"{quote.START}\n{quote.END}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Targets"):
        quote.quote(results, readme)
    assert readme.read_text(encoding="utf-8") == f"{quote.START}\n{quote.END}\n"


def test_the_readme_quotes_the_committed_results():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    inside = readme[readme.index(quote.START) + len(quote.START):readme.index(quote.END)]
    assert inside.strip() == quote.quoted((REPO / "bench" / "RESULTS.md").read_text(encoding="utf-8"))


def _measure_module():
    spec = importlib.util.spec_from_file_location("bench_measure", REPO / "bench" / "measure.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_measure", module)       # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_a_process_tree_counts_an_address_space_once():
    """A child sampled between vfork() and exec() shows its parent's counters: it is the parent's memory, once."""
    total = _measure_module().tree_total
    mb = 2**20
    tree = {10: (1, 900 * mb, 714 * mb),          # the main process
            11: (10, 300 * mb, 60 * mb),          # a feedback worker, running
            12: (10, 900 * mb, 714 * mb),         # a worker being started: vfork'ed, not yet exec'ed
            13: (12, 50 * mb, 5 * mb),            # (its own child, had it one: counted)
            20: (1, 100 * mb, 99 * mb)}           # another process tree: not ours
    assert total(tree, 10) == (714 + 60 + 5) * mb
    assert total({**tree, 12: (10, 900 * mb, 700 * mb)}, 10) == (714 + 60 + 700 + 5) * mb   # its own by now
    assert total(tree, 20) == 99 * mb and total(tree, 99) == 0
