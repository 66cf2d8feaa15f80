"""``make bench``: time ``qos-xl merge`` at city scale against a naive baseline and a floor.

    .venv/bin/python bench/run.py                        # N = 100, 1000, 5000
    .venv/bin/python bench/run.py --sizes 100,1000 --repeats 3
    .venv/bin/python bench/run.py --skip-baseline-above 100000   # also run the baseline at 5000

Writes bench/RESULTS.md (and the raw numbers to bench/work/results.json) and prints the
table.  See bench/README.md for what is measured and the targets.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

import generate as gen  # noqa: E402
import quote  # noqa: E402
from measure import Measurement, run  # noqa: E402

VENV_BIN = Path(sys.executable).parent
QOS = str(VENV_BIN / "qos-xl")
PY = sys.executable
RESULTS_MD = BENCH / "RESULTS.md"
RESULTS_JSON = gen.WORK / "results.json"
PACKAGES = ("qos-xl", "pandas", "pandera", "numpy", "openpyxl", "xlsxwriter", "python-calamine", "click", "defusedxml")

# targets (bench/README.md)
TARGET_SPEEDUP_1000 = 5.0
TARGET_MERGE_1000_S = 8.0
TARGET_SCALING_5000 = 5.5
TARGET_RSS_5000_MB = 1024
TARGET_HELP_S = 0.3
TARGET_VALIDATE_S = 1.0

TOOLS = {  # key: (label in the table, description)
    "merge": ("qos-xl merge --no-feedback", "read, validate, merge, write the consolidated workbook"),
    "merge_fb": ("qos-xl merge (feedback)", "the same plus annotated copies and replies for files with problems"),
    "naive": ("naive baseline", "pandas.read_excel + pandera per file, concat, to_excel (bench/baseline.py)"),
    "floor": ("floor (calamine read)", "python-calamine reads every file, nothing else"),
}


@dataclass
class Series:
    tool: str
    n: int
    runs: list[Measurement] = field(default_factory=list)
    extrapolated_from: int | None = None   # N whose median was scaled linearly
    wall_override: float | None = None

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(r.rc in (0, 1) for r in self.runs) or self.wall_override is not None

    @property
    def wall(self) -> float | None:
        if self.wall_override is not None:
            return self.wall_override
        return statistics.median(r.wall for r in self.runs) if self.runs else None

    @property
    def cpu(self) -> float | None:
        return statistics.median(r.cpu for r in self.runs) if self.runs else None

    @property
    def maxrss(self) -> float | None:
        return max(r.maxrss_mb for r in self.runs) if self.runs else None

    @property
    def tree_rss(self) -> float | None:
        return max(r.tree_rss_mb for r in self.runs) if self.runs else None

    def to_dict(self) -> dict:
        return {"tool": self.tool, "n": self.n, "wall_median": self.wall, "cpu_median": self.cpu,
                "maxrss_mb": self.maxrss, "tree_rss_mb": self.tree_rss, "extrapolated_from": self.extrapolated_from,
                "runs": [r.to_dict() for r in self.runs]}


def command(tool: str, bench: gen.BenchSet, out: Path) -> list[str]:
    common = ["--config", str(bench.config), "--inbox", str(bench.inbox), "--out", str(out), "--period", gen.PERIOD]
    if tool == "merge":
        return [QOS, "merge", *common, "--no-feedback"]
    if tool == "merge_fb":
        return [QOS, "merge", *common]
    if tool == "naive":
        return [PY, str(BENCH / "baseline.py"), "naive", str(bench.inbox), str(out / "naive.xlsx")]
    if tool == "floor":
        return [PY, str(BENCH / "baseline.py"), "floor", str(bench.inbox)]
    raise ValueError(tool)


def measure_tool(tool: str, bench: gen.BenchSet, scratch: Path) -> Measurement:
    out = scratch / f"{tool}-{bench.n}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    m = run(command(tool, bench, out), cwd=ROOT, env=_env())
    if tool.startswith("merge") and not any(out.glob("*.xlsx")):
        m.rc = 99  # no consolidated workbook: count as failed
    if m.rc not in (0, 1):
        print(f"    ! {tool} N={bench.n} failed rc={m.rc}: {m.stderr.strip()[-800:]}", file=sys.stderr)
    return m


def _env() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PYTHONHASHSEED"] = "0"
    return env


def startup_timings(bench: gen.BenchSet, scratch: Path, help_repeats: int, validate_repeats: int) -> dict:
    """``qos-xl --help`` and ``qos-xl validate`` of one clean file, start-up included."""
    clean = next(p for p in bench.files() if p.name.endswith(f"_自行檢核表_{gen.PERIOD}.xlsx"))
    help_runs = [run([QOS, "--help"], cwd=ROOT, env=_env(), sample=False) for _ in range(help_repeats)]
    out = scratch / "validate-one"
    validate_runs = []
    for _ in range(validate_repeats):
        shutil.rmtree(out, ignore_errors=True)
        validate_runs.append(run([QOS, "validate", "--config", str(bench.config), "--out", str(out), str(clean)],
                                 cwd=ROOT, env=_env()))
    return {
        "help": {"median": statistics.median(r.wall for r in help_runs), "runs": [r.to_dict() for r in help_runs]},
        "validate": {"median": statistics.median(r.wall for r in validate_runs), "file": clean.name,
                     "rc": [r.rc for r in validate_runs], "maxrss_mb": max(r.maxrss_mb for r in validate_runs),
                     "runs": [r.to_dict() for r in validate_runs]},
    }


# --------------------------------------------------------------------------------------
# Report


def _s(x: float | None) -> str:
    return "—" if x is None else (f"{x:.2f}" if x < 100 else f"{x:.0f}")


def _mb(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f}"


def interpreter() -> str:
    """Which CPython build ran: the same version ran the merge 20-25% faster built with PGO/LTO (bench/README.md)."""
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    try:
        shared = "libpython" in Path("/proc/self/maps").read_text()
    except OSError:
        shared = bool(sysconfig.get_config_var("Py_ENABLE_SHARED"))
    return f"{base} (libpython {'shared' if shared else 'linked in'}; {platform.python_compiler()})"


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")))
        mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory": mem, "python": platform.python_version(),
            "interpreter": interpreter(),
            "platform": platform.platform(), "packages": versions}


def phase_lines(phases: dict | None) -> list[str]:
    if not phases:
        return []
    total = sum(v for k, v in phases["phases"].items() if not k.startswith(" ") and k != "merge() total") + \
        phases["phases"].get("merge() total", 0.0)
    lines = [
        "## Where the time goes",
        "",
        f"N={phases['n']:,}, the library called in one process (`bench/profile_merge.py {phases['n']} --no-profile "
        f"--jobs {phases['jobs']}`: `merge(..., jobs={phases['jobs']})` then `write_consolidated`), no profiler, one run:",
        "",
        "| phase | s | share |",
        "| --- | ---: | ---: |",
    ]
    for name, seconds in phases["phases"].items():
        shown = name.strip()
        shown = f"&nbsp;&nbsp;↳ {shown}" if name.startswith(" ") else shown
        lines.append(f"| {shown} | {seconds:.2f} | {seconds / total:.0%} |")
    lines += [f"| total | {total:.2f} | |", ""]
    return lines


def measure_phases(n: int, jobs: int) -> dict | None:
    m = run([PY, str(BENCH / "profile_merge.py"), str(n), "--no-profile", "--json", "--jobs", str(jobs)], cwd=ROOT,
            env=_env(), sample=False)
    if m.rc != 0:
        print(f"    ! phase timing failed: {m.stderr.strip()[-800:]}", file=sys.stderr)
        return None
    return json.loads(m.stdout.strip().splitlines()[-1])


def render(series: dict[tuple[str, int], Series], sizes: list[int], sets: dict[int, gen.BenchSet], startup: dict,
           info: dict, args, started: dt.datetime, load: tuple[str, str], phases: dict | None = None,
           code: tuple[dict, dict] | None = None) -> str:
    lines = [
        "# qos-xl benchmark results",
        "",
        f"Run {started:%Y-%m-%d %H:%M} (local time) by `{' '.join(['bench/run.py', *args.argv])}`.",
        "",
        f"- machine: {info['nproc']} CPUs ({info['cpu'] or 'unknown CPU'}), {info['memory']} RAM; {info['platform']}",
        f"- load average before / after: {load[0]} / {load[1]} (the machine is shared: other processes add noise)",
        f"- Python {info['python']}, {info.get('interpreter', 'interpreter not recorded')}; " + ", ".join(f"{k} {v}" for k, v in info["packages"].items()),
        *([f"- code: src/qos_xl fingerprint `{code[0]['sha256']}` (newest file change {code[0]['newest_change']})"
           + ("" if code[0] == code[1] else f"; **it changed during the run** (at the end: `{code[1]['sha256']}`, "
              f"{code[1]['newest_change']}), so rows measured at different times may differ in code")] if code else []),
        f"- data: generator v{gen.GENERATOR_VERSION}, seed {gen.SEED}, period {gen.PERIOD}; one filled self-check per unit "
        f"(50 steps), ~{gen.ERROR_SHARE:.0%} with an error and ~{gen.WARNING_SHARE:.0%} with a warning",
        f"- repeats: {args.repeats} for N ≤ {args.large_above}, {args.repeats_large} above; the time is the median "
        "wall clock from process start to exit (outputs written), start-up included",
        "",
        "## Merge at scale",
        "",
        "| N | tool | wall s (median) | runs | files/s | CPU s | peak RSS MB (largest process) | peak RSS MB (process tree) "
        "| baseline ÷ this | this ÷ floor |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    notes = []
    for n in sizes:
        base = series.get(("naive", n))
        floor = series.get(("floor", n))
        for tool in ("merge", "merge_fb", "naive", "floor"):
            s = series.get((tool, n))
            if s is None:
                continue
            label = TOOLS[tool][0]
            if s.extrapolated_from:
                label += f" *(extrapolated from N={s.extrapolated_from})*"
                notes.append(f"The naive baseline at N={n} was not run: its time is the N={s.extrapolated_from} median "
                             f"scaled linearly (× {n / s.extrapolated_from:g}); RSS and CPU are not extrapolated.")
            if not s.ok:
                lines.append(f"| {n:,} | {label} | failed (rc {[r.rc for r in s.runs]}) | {len(s.runs)} | | | | | | |")
                continue
            wall = s.wall
            speed = f"{base.wall / wall:.1f}×" if base and base.wall and tool != "naive" and base.ok else ("1.0×" if tool == "naive" else "—")
            over_floor = f"{wall / floor.wall:.1f}×" if floor and floor.ok and floor.wall else "—"
            runs = "extrap." if s.extrapolated_from else str(len(s.runs))
            lines.append(f"| {n:,} | {label} | {_s(wall)} | {runs} | {n / wall:,.0f} | {_s(s.cpu)} | {_mb(s.maxrss)} | "
                         f"{_mb(s.tree_rss)} | {speed} | {over_floor} |")
    lines += [""]
    lines += [f"*{note}*" for note in dict.fromkeys(notes)]
    if notes:
        lines.append("")
    lines += [
        "- *baseline ÷ this*: how many times faster than the naive baseline (higher is better);"
        " *this ÷ floor*: how many times the bare calamine read (lower is better).",
        "- *peak RSS (largest process)* is `ru_maxrss` of the tree from `wait4` (exact); *(process tree)* is the largest"
        " sum over live processes of the tree, sampled every 50 ms (the merge reads in a process pool).",
        "",
        *phase_lines(phases),
        "## Start-up",
        "",
        "| command | wall s (median) | runs | target |",
        "| --- | ---: | ---: | --- |",
        f"| `qos-xl --help` | {startup['help']['median']:.3f} | {len(startup['help']['runs'])} | < {TARGET_HELP_S} s |",
        f"| `qos-xl validate FILE` (one clean file, exit {startup['validate']['rc'][0]}) | {startup['validate']['median']:.3f} "
        f"| {len(startup['validate']['runs'])} | < {TARGET_VALIDATE_S} s |",
        "",
        "## Targets",
        "",
        "| target | measured | verdict |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in targets(series, startup)]
    lines += [
        "",
        "## Data sets",
        "",
        "| N | files | MB on disk | generated in s | injected problems |",
        "| ---: | ---: | ---: | ---: | --- |",
    ]
    for n in sizes:
        b = sets[n]
        files = b.files()
        size = sum(p.stat().st_size for p in files) / 2**20
        stamp = json.loads((b.root / "stamp.json").read_text(encoding="utf-8"))
        probs = ", ".join(f"{k} {v}" for k, v in sorted(b.problems.items())) or "none"
        lines.append(f"| {n:,} | {len(files):,} | {size:.1f} | {stamp.get('seconds', '—')} | {probs} |")
    lines.append("")
    return "\n".join(lines)


def targets(series, startup) -> list[tuple[str, str, str]]:
    rows = []

    def verdict(ok):
        return "—" if ok is None else ("PASS" if ok else "**FAIL**")

    merge1k, naive1k, merge5k = series.get(("merge", 1000)), series.get(("naive", 1000)), series.get(("merge", 5000))
    if merge1k and merge1k.ok and naive1k and naive1k.ok:
        x = naive1k.wall / merge1k.wall
        rows.append((f"N=1,000: merge ≥ {TARGET_SPEEDUP_1000:g}× faster than the naive baseline", f"{x:.1f}×",
                     verdict(x >= TARGET_SPEEDUP_1000)))
    if merge1k and merge1k.ok:
        rows.append((f"N=1,000: merge ≤ {TARGET_MERGE_1000_S:g} s", f"{merge1k.wall:.2f} s", verdict(merge1k.wall <= TARGET_MERGE_1000_S)))
    if merge1k and merge5k and merge1k.ok and merge5k.ok:
        x = merge5k.wall / merge1k.wall
        rows.append((f"N=5,000 takes ≤ {TARGET_SCALING_5000:g}× the N=1,000 time", f"{x:.2f}×", verdict(x <= TARGET_SCALING_5000)))
    for tool in ("merge", "merge_fb"):
        s = series.get((tool, 5000))
        if s and s.runs:
            rows.append((f"N=5,000: peak RSS < 1 GB ({TOOLS[tool][0]}, process tree)", f"{s.tree_rss:.0f} MB "
                         f"(largest process {s.maxrss:.0f} MB)", verdict(s.tree_rss < TARGET_RSS_5000_MB)))
    rows.append((f"`qos-xl --help` < {TARGET_HELP_S} s", f"{startup['help']['median']:.3f} s",
                 verdict(startup["help"]["median"] < TARGET_HELP_S)))
    rows.append((f"`qos-xl validate` of one file < {TARGET_VALIDATE_S} s", f"{startup['validate']['median']:.3f} s",
                 verdict(startup["validate"]["median"] < TARGET_VALIDATE_S)))
    return rows


def code_fingerprint() -> dict:
    """Which qos-xl code was measured: a hash of src/qos_xl/**/*.py and the newest change (no git needed)."""
    digest = __import__("hashlib").sha256()
    newest = 0.0
    for path in sorted((ROOT / "src" / "qos_xl").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
        newest = max(newest, path.stat().st_mtime)
    return {"sha256": digest.hexdigest()[:12], "newest_change": dt.datetime.fromtimestamp(newest).isoformat(timespec="seconds")}


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description="Benchmark qos-xl merge at city scale.")
    parser.add_argument("--sizes", default="100,1000,5000", help="comma-separated N (default 100,1000,5000)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats for N ≤ --large-above (default 3)")
    parser.add_argument("--repeats-large", type=int, default=3, help="repeats for N > --large-above (default 3)")
    parser.add_argument("--large-above", type=int, default=1000, help="N above which --repeats-large applies (default 1000)")
    parser.add_argument("--skip-baseline-above", type=int, default=1000, metavar="N",
                        help="do not run the naive baseline for sizes above N; extrapolate it linearly from the largest "
                             "size it ran at (default 1000; pass a large number to always run it)")
    parser.add_argument("--no-feedback-run", action="store_true", help="skip the merge run with feedback")
    parser.add_argument("--phases", type=int, default=None, metavar="N",
                        help="time the merge's phases in one process at this N (default: 1000 if measured, else the "
                             "largest size ≤ 1000; 0 to skip)")
    parser.add_argument("--help-repeats", type=int, default=10)
    parser.add_argument("--validate-repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=RESULTS_MD, help="the markdown report (default bench/RESULTS.md)")
    args = parser.parse_args(argv)
    args.argv = argv
    sizes = sorted({int(s.replace(",", "").replace("_", "")) for s in args.sizes.split(",") if s.strip()})

    # qos-xl as installed: pip compiles a package's modules at install time, but this checkout
    # is an editable install and PYTHONDONTWRITEBYTECODE may be set, so compile them here
    # (otherwise every measured process would compile ~7,000 lines first).
    subprocess.run([PY, "-m", "compileall", "-q", str(ROOT / "src")], check=True)
    started = dt.datetime.now()
    load_before = _load()
    code_before = code_fingerprint()
    info = machine()
    print(f"qos-xl bench: sizes {sizes}, {info['nproc']} CPUs, Python {info['python']}", file=sys.stderr)
    sets = {}
    for n in sizes:
        sets[n] = gen.generate(n)
        print(f"  set N={n}: {sets[n].inbox}", file=sys.stderr)
    gen.check_sample(sets[sizes[0]], 3)

    series: dict[tuple[str, int], Series] = {}
    scratch = Path(tempfile.mkdtemp(prefix="qos-bench-", dir=gen.WORK))
    try:
        startup = startup_timings(sets[sizes[0]], scratch, args.help_repeats, args.validate_repeats)
        print(f"  --help {startup['help']['median']:.3f} s, validate one file {startup['validate']['median']:.3f} s",
              file=sys.stderr)
        last_naive: Series | None = None
        for n in sizes:
            repeats = args.repeats if n <= args.large_above else args.repeats_large
            tools = ["floor", "merge"] + ([] if args.no_feedback_run else ["merge_fb"])
            if n <= args.skip_baseline_above:
                tools.append("naive")
            for tool in tools:
                series[(tool, n)] = Series(tool, n)
            for rep in range(repeats):  # interleaved, so drifting load hits every tool alike
                for tool in tools:
                    m = measure_tool(tool, sets[n], scratch)
                    series[(tool, n)].runs.append(m)
                    print(f"  N={n:>5} #{rep + 1} {tool:<8} {m.wall:8.2f} s  cpu {m.cpu:7.2f} s  "
                          f"rss {m.maxrss_mb:5.0f}/{m.tree_rss_mb:5.0f} MB  rc {m.rc}", file=sys.stderr)
            if "naive" in tools and series[("naive", n)].ok:
                last_naive = series[("naive", n)]
            elif last_naive is not None:
                series[("naive", n)] = Series("naive", n, extrapolated_from=last_naive.n,
                                              wall_override=last_naive.wall * n / last_naive.n)
        phase_n = args.phases if args.phases is not None else max((n for n in sizes if n <= 1000), default=0)
        phases = None
        if phase_n:
            phases = measure_phases(phase_n, min(os.cpu_count() or 1, 4))
            if phases:
                print(f"  phases at N={phase_n}: " + ", ".join(f"{k.strip()} {v:.1f}s" for k, v in phases["phases"].items()),
                      file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    code = (code_before, code_fingerprint())
    report = render(series, sizes, sets, startup, info, args, started, (load_before, _load()), phases, code)
    args.out.write_text(report, encoding="utf-8")
    RESULTS_JSON.parent.mkdir(parents=True, exist_ok=True)
    RESULTS_JSON.write_text(json.dumps({"started": started.isoformat(), "machine": info, "startup": startup, "phases": phases, "code": code,
                                        "series": [s.to_dict() for s in series.values()]}, indent=2, ensure_ascii=False),
                            encoding="utf-8")
    print(report)
    print(f"written {args.out} and {RESULTS_JSON}", file=sys.stderr)
    if args.out.resolve() == RESULTS_MD.resolve():
        quote.quote()
        print(f"quoted in {quote.README}", file=sys.stderr)


if __name__ == "__main__":
    main()
