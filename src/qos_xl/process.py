"""Settings of the qos-xl process, each kept only for a measured gain of at least 5 % of the N = 1,000 merge.

Measured (bench/README.md, "Process settings"): without the cyclic GC pause the merge took
6.8 % longer (median of 8 interleaved pairs, 5.85 s against 6.25 s).  Three others were
measured and dropped: the fast exit (``os._exit``, 2.6 %), keeping hypothesis from being
imported (0 % of the merge) and OpenBLAS's thread pool off (0 %).
"""

from __future__ import annotations

import contextlib
import gc


def set_up_process() -> None:
    """What a process that runs one qos-xl command does first (``main``, and the bench's in-process profile)."""
    # One command, then exit: no cyclic collection, which would only rescan a city-scale merge's
    # many acyclic objects again and again (reference counting frees memory as usual).
    gc.disable()


@contextlib.contextmanager
def paused_gc():
    """No cyclic collection inside the block (for library callers and worker processes, which keep theirs).

    Reference counting still frees everything as usual; collection resumes afterwards.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
