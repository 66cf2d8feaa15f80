"""``make bench-scale``: qos-xl at its largest: ``merge`` (feedback on) and ``status`` at N = 10,000 units.

    .venv/bin/python bench/scale.py                          # N = 1,000 and 10,000, one run each
    .venv/bin/python bench/scale.py --sizes 10000 --repeats 2

For each N (sets from bench/generate.py, cached under bench/work/N/) it runs, as separate
processes and interleaved, ``qos-xl merge --period 102-06`` with feedback into a fresh
folder and ``qos-xl status --period 102-06``, each measured by bench/measure.py: wall time,
CPU time of the whole tree, the largest single process and the peak RSS of the whole
process tree (main process and workers together, sampled every 50 ms).  Prints a markdown
table (and the ratio of the largest N to the smallest: time should grow linearly) and
writes the raw numbers to bench/work/scale.json.  Target (issue 21): the whole tree under
1 GiB at N = 10,000 with feedback on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import generate as gen  # noqa: E402
from measure import run  # noqa: E402

QOS = str(Path(sys.executable).parent / "qos-xl")
TARGET_TREE_MB = 1024


def _commands(bench: gen.BenchSet, out: Path) -> dict[str, list[str]]:
    common = ["--config", str(bench.config), "--inbox", str(bench.inbox), "--period", gen.PERIOD]
    return {"merge (feedback)": [QOS, "merge", *common, "--out", str(out)], "status": [QOS, "status", *common]}


def measure_sizes(sizes: list[int], repeats: int) -> dict:
    results: dict = {"load_before": os.getloadavg(), "runs": {}}
    for n in sizes:
        bench = gen.generate(n)
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="qos-bench-") as scratch:
                for name, cmd in _commands(bench, Path(scratch) / "out").items():
                    m = run(cmd)
                    if m.rc not in (0, 1):
                        raise SystemExit(f"{name} at N={n} failed ({m.rc}):\n{m.stderr[-2000:]}")
                    results["runs"].setdefault(f"{name}|{n}", []).append(m.to_dict())
                    print(f"N={n:>6} {name:<17} {m.wall:7.1f} s  cpu {m.cpu:7.1f} s  largest {m.maxrss_mb:6.0f} MiB  "
                          f"tree {m.tree_rss_mb:6.0f} MiB", file=sys.stderr, flush=True)
    results["load_after"] = os.getloadavg()
    return results


def table(results: dict, sizes: list[int]) -> str:
    def median(name, n, key):
        runs = results["runs"].get(f"{name}|{n}", [])
        return statistics.median(r[key] for r in runs) if runs else None

    lines = ["| command | N | wall (s) | CPU (s) | largest process (MiB) | process tree (MiB) |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name in ("merge (feedback)", "status"):
        for n in sizes:
            lines.append(f"| `qos-xl {name}` | {n:,} | {median(name, n, 'wall'):.1f} | {median(name, n, 'cpu'):.1f} | "
                         f"{median(name, n, 'maxrss_mb'):.0f} | {median(name, n, 'tree_rss_mb'):.0f} |")
    if len(sizes) > 1:
        small, large = min(sizes), max(sizes)
        for name in ("merge (feedback)", "status"):
            wall = median(name, large, "wall") / median(name, small, "wall")
            cpu = median(name, large, "cpu") / median(name, small, "cpu")
            lines.append(f"\n`{name}`: N={large:,} ÷ N={small:,} = {wall:.1f}× wall, {cpu:.1f}× CPU "
                         f"(N grew {large / small:.0f}×).")
    tree = median("merge (feedback)", max(sizes), "tree_rss_mb")
    verdict = "meets" if tree < TARGET_TREE_MB else "MISSES"
    lines.append(f"\nProcess tree at N={max(sizes):,} with feedback: {tree:.0f} MiB — {verdict} the target "
                 f"(< {TARGET_TREE_MB} MiB). Load average before {results['load_before'][0]:.1f}, "
                 f"after {results['load_after'][0]:.1f} (2 CPUs).")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="qos-xl merge and status at N = 10,000: time and process-tree memory.")
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated N (default 1000,10000)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each command at each N (default 1)")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    if shutil.which(QOS) is None and not Path(QOS).exists():
        raise SystemExit(f"{QOS} not found: run from the project's venv (make bench-scale)")
    results = measure_sizes(sizes, args.repeats)
    gen.WORK.mkdir(parents=True, exist_ok=True)
    (gen.WORK / "scale.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(table(results, sizes))


if __name__ == "__main__":
    main()
