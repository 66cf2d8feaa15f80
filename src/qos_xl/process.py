"""Settings of the qos-xl process, each kept only for a measured gain (bench/README.md)."""

from __future__ import annotations

import contextlib
import gc
import os
import sys


def set_up_process() -> None:
    """What a process that runs one qos-xl command and exits does first (``main``, and the bench
    when it times the library in one process)."""
    # pandera imports hypothesis, when installed, for data synthesis qos-xl never uses
    # (0.2-0.3 s of every command): a process started as qos-xl goes without it.
    sys.modules.setdefault("hypothesis", None)
    # numpy's OpenBLAS starts a thread per core at import; qos-xl does no linear algebra.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # One command, then exit: no cyclic collection, which would only rescan a city-scale merge's
    # millions of acyclic objects again and again (reference counting frees memory as usual).
    gc.disable()


@contextlib.contextmanager
def paused_gc():
    """No cyclic collection inside the block: it would only rescan a big heap of acyclic objects.

    Reference counting still frees everything as usual; collection resumes afterwards.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
