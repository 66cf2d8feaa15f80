"""Profile ``qos-xl merge`` in ONE process (the CLI reads files in a process pool, whose
workers cProfile does not see).

    .venv/bin/python bench/profile_merge.py 1000 [--out /tmp/merge1.prof] [--top 25]
    .venv/bin/python bench/profile_merge.py 1000 --no-profile --jobs 2   # phase timings only

Runs ``merge(inbox, plan, registry, Period(102, 6), jobs=1)`` and
``consolidated.write_consolidated`` on the generated set for N (generating it if needed),
prints phase timings, then the top entries by cumulative and by total (own) time, and a
roll-up of own time per module.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402


def by_module(stats: pstats.Stats, top: int) -> str:
    own: dict[str, float] = {}
    for (file, _line, _func), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        name = file
        for marker in ("site-packages/", "src/", "lib/python3.11/"):
            if marker in file:
                name = file.split(marker, 1)[1]
                break
        name = name.split("/", 1)[0] if "/" in name and not name.startswith("qos_xl") else name
        if name == "~":
            name = "C built-ins (expat Parse, re, zlib, dict/str methods...)"
        own[name] = own.get(name, 0.0) + tt
    total = sum(own.values())
    lines = [f"{'own s':>8} {'share':>6}  module/package"]
    for name, t in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"{t:8.2f} {t / total:6.1%}  {name}")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int)
    parser.add_argument("--out", type=Path, default=Path("/tmp/merge-single.prof"))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--jobs", type=int, default=1, help="reading processes (default 1: what cProfile can see)")
    parser.add_argument("--no-profile", action="store_true", help="only the phase timings, without cProfile's overhead")
    parser.add_argument("--json", action="store_true", help="with --no-profile: print the phase timings as JSON")
    args = parser.parse_args(argv)
    bench = generate(args.n)
    from qos_xl.cli import set_up_process

    set_up_process()        # as the qos-xl process does: no cyclic GC

    started = time.perf_counter()
    from qos_xl.core.catalogue import load_plan
    from qos_xl.pipeline.merge import merge
    from qos_xl.core.registry import load_registry
    from qos_xl.core.values import Period
    imported = time.perf_counter()

    plan = load_plan(bench.config / "plan.csv", bench.config / "settings.csv")
    registry = load_registry(bench.config / "units.csv", plan.organisation)
    from qos_xl.pipeline import load

    profiler = cProfile.Profile()
    timings: dict[str, float] = {}
    marks: dict[str, float] = {}
    from qos_xl.pipeline import merge as merging
    original_results, original_provenance = load.Loading.results, merging.with_provenance

    def results(self):
        marks["results"] = time.perf_counter()
        try:
            return original_results(self)
        finally:
            marks["loaded"] = time.perf_counter()

    def provenance(*a, **k):  # the first step after the rule checks
        marks["checked"] = time.perf_counter()
        return original_provenance(*a, **k)

    load.Loading.results, merging.with_provenance = results, provenance
    try:
        with tempfile.TemporaryDirectory() as out:
            if not args.no_profile:
                profiler.enable()
            t0 = time.perf_counter()
            result = merge(bench.inbox, plan, registry, Period(102, 6), jobs=args.jobs)
            t1 = time.perf_counter()
            from qos_xl.output.consolidated import output_path, write_consolidated
            t_imported = time.perf_counter()
            write_consolidated(result, output_path(result, Path(out)))
            t2 = time.perf_counter()
            profiler.disable()
    finally:
        load.Loading.results, merging.with_provenance = original_results, original_provenance
    timings = {"  start reading, import pandas + pandera meanwhile": marks["results"] - t0,
               "  read files (rest of the wait for the workers)": marks["loaded"] - marks["results"],
               "  check rules (validate.check)": marks["checked"] - marks["loaded"]}
    timings["  states, provenance, rates"] = (t1 - t0) - sum(timings.values())
    phases = {"imports (light)": imported - started, "load plan + registry": t0 - imported,
              "merge() total": t1 - t0, **timings, "import consolidated": t_imported - t1,
              "write_consolidated": t2 - t_imported}
    if args.no_profile and args.json:
        print(json.dumps({"n": args.n, "jobs": args.jobs, "phases": phases}, ensure_ascii=False))
        return
    how = "without profiler" if args.no_profile else "profiled (cProfile roughly doubles pure-Python time)"
    print(f"N={args.n}, jobs={args.jobs}, {how}:")
    for name, seconds in phases.items():
        print(f"  {name:<40} {seconds:8.2f} s")
    if args.no_profile:
        return
    profiler.dump_stats(args.out)
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats(key).print_stats(args.top)
        text = buf.getvalue()
        print(f"\n=== top {args.top} by {key} ===")
        print(text[text.index("   ncalls"):].rstrip())
    print("\n=== own time by module ===")
    print(by_module(pstats.Stats(profiler), args.top))
    print(f"\nprofile written to {args.out}")


if __name__ == "__main__":
    main()
