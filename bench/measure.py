"""Run one command and measure it: wall time, CPU time, peak RSS of the whole process tree.

    python bench/measure.py -- CMD ARGS...     # prints one JSON line

* wall: from just before the process is started to when it has exited (so it includes
  interpreter start-up, imports and writing the outputs);
* cpu: user + system seconds of the process and every descendant it waited for;
* maxrss_mb: ``ru_maxrss`` from ``os.wait4`` — Linux reports the maximum over the child
  and all its waited-for descendants, i.e. the LARGEST SINGLE PROCESS of the tree;
* tree_rss_mb: the largest SUM of the RSS of all live processes of the tree, sampled from
  /proc every 50 ms (what the machine has to hold at once when a process pool runs).
  A sampled peak can miss a short spike; maxrss_mb cannot.

No dependency beyond the standard library.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
INTERVAL = 0.05


@dataclass
class Measurement:
    wall: float
    cpu: float
    maxrss_mb: float
    tree_rss_mb: float
    rc: int
    stdout: str = ""
    stderr: str = ""

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("stdout", "stderr")}


def _tree_rss(root: int) -> int:
    """Bytes of RSS of ``root`` and its live descendants (a /proc scan), an address space counted once."""
    found: dict[int, tuple[int, int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()  # after "pid (comm) "
        found[int(entry.name)] = (int(fields[1]), int(fields[20]), int(fields[21]) * PAGE)   # ppid, vsize, rss
    return tree_total(found, root)


def tree_total(found: dict[int, tuple[int, int, int]], root: int) -> int:
    """The RSS of ``root`` and its descendants in ``found`` (pid -> ppid, vsize, rss), a child whose vsize and RSS
    are its parent's counted as nothing.

    Such a child shares its parent's address space: ``multiprocessing``'s "spawn" starts a worker with
    vfork() then exec(), and in between the child runs in the parent's memory, so /proc shows it with the
    parent's very counters. A sample taken in that instant summed the big parent twice (N = 5,000 with
    feedback: 1,428 MB = 2 x the 714 MB the main process held while it started the feedback workers).
    """
    children: dict[int, list[int]] = {}
    for pid, (ppid, _vsize, _rss) in found.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        if pid in found:
            ppid, vsize, rss = found[pid]
            parent = found.get(ppid)
            shares = pid != root and parent is not None and (parent[1], parent[2]) == (vsize, rss)
            total += 0 if shares else rss
        todo.extend(children.get(pid, ()))
    return total


def run(cmd: list[str], *, cwd: Path | None = None, env: dict | None = None, sample: bool = True) -> Measurement:
    peak = [0]
    done = threading.Event()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def poll():
        while not done.wait(INTERVAL):
            try:
                peak[0] = max(peak[0], _tree_rss(proc.pid))
            except Exception:  # noqa: BLE001 - sampling is best effort
                pass

    sampler = threading.Thread(target=poll, daemon=True)
    if sample:
        sampler.start()
    out_chunks: dict[str, bytes] = {}

    def drain(name, stream):
        out_chunks[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s), daemon=True) for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    for t in readers:
        t.join()
    if sample:
        sampler.join()
    return Measurement(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        maxrss_mb=usage.ru_maxrss / 1024,  # KiB on Linux
        tree_rss_mb=max(peak[0], usage.ru_maxrss * 1024) / 2**20,
        rc=proc.returncode,
        stdout=out_chunks.get("out", b"").decode("utf-8", "replace"),
        stderr=out_chunks.get("err", b"").decode("utf-8", "replace"),
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--":
        args = args[1:]
    m = run(args)
    sys.stderr.write(m.stderr)
    print(json.dumps(m.to_dict()))
    sys.exit(m.rc)
