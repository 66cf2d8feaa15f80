"""Stopping a run on a signal: Ctrl-C or SIGTERM becomes ``Interrupted`` in the main thread, held back while files are renamed.

``Interrupted`` derives from ``BaseException``, like ``KeyboardInterrupt``: it unwinds through
every ``with`` and ``finally`` (temporary files, scratch folders and worker processes are
cleaned up on the way out) and no ``except Exception`` stops it.  The few renames that put
outputs in place run inside ``held()``, so a signal never leaves half of a pair renamed.
A second signal while the first is being handled ends the process at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading

from qos_xl.core import platform


class Interrupted(BaseException):
    """The run was asked to stop by a signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM)."""
        return 128 + int(self.signum)


_held = 0
_pending: int | None = None          # the signal received, once one is
_raised = False                      # whether Interrupted has been raised for it


def _handler(signum, frame):
    global _pending, _raised
    if _pending is not None:             # asked again while cleaning up: stop now
        os._exit(128 + int(signum))
    _pending = signum
    if _held == 0:
        _raised = True
        raise Interrupted(signum)


def requested() -> bool:
    """Whether a stopping signal has arrived (from any thread: the pool's starts no new worker then)."""
    return _pending is not None


def install() -> None:
    """Turn the stopping signals into ``Interrupted`` (call once, from the main thread)."""
    for signum in platform.termination_signals():
        signal.signal(signum, _handler)


@contextlib.contextmanager
def held():
    """A block that a signal does not cut short: the interruption is raised when it ends."""
    global _held, _raised
    _held += 1
    try:
        yield
    finally:
        _held -= 1
    if _held == 0 and _pending is not None and not _raised and threading.current_thread() is threading.main_thread():
        _raised = True
        raise Interrupted(_pending)
