"""What differs between Unix and Windows, in one place: every OS-specific call qos-xl makes lives here.

Each function keeps its guarantee on both kinds of system, or says (by its return value)
that it could not, so the caller can fall back to a portable way.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

IS_WINDOWS = os.name == "nt"


def link_or_copy(source: Path, target: Path) -> None:
    """Make ``target`` show ``source``'s content: a symbolic link where allowed, else a copy."""
    try:
        os.symlink(os.path.abspath(source), target)
    except (OSError, NotImplementedError, AttributeError):
        shutil.copyfile(source, target)


def killed_for_cpu_time(returncode: int | None) -> bool:
    """Whether a child process ended because it used up its CPU-time limit (SIGXCPU, Unix only)."""
    xcpu = getattr(signal, "SIGXCPU", None)
    return xcpu is not None and returncode == -xcpu


def fsync(handle) -> None:
    """Flush a written file to the disk (where the system supports it)."""
    handle.flush()
    os.fsync(handle.fileno())


def spawn_context():
    """A multiprocessing context whose workers start fresh (not forked from a big parent)."""
    import multiprocessing

    return multiprocessing.get_context("spawn")
