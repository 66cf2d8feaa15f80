"""A pause of the cyclic garbage collector, for stages that allocate millions of acyclic objects."""

from __future__ import annotations

import contextlib
import gc


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
