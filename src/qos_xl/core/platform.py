"""What differs between Unix and Windows, in one place: every OS-specific call qos-xl makes lives here.

Each function keeps its guarantee on both kinds of system, or says (by its return value)
that it could not, so the caller can fall back to a portable way.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
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


# ---------------------------------------------------------------------------------------
# Processes: who is alive, workers that end with their parent, the signals that end a run

PARENT_WATCH_SECONDS = 0.5      # how often a watching thread checks the parent (where no kernel help exists)
_PR_SET_PDEATHSIG = 1           # <linux/prctl.h>


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (a run that may still be writing)."""
    if pid <= 0:
        return False
    if IS_WINDOWS:
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # alive, someone else's
        return True
    except OSError:
        return False
    return True


def die_with_parent(parent_pid: int) -> None:
    """End this (worker) process as soon as ``parent_pid`` ends, however it ends (even SIGKILL).

    Linux: the kernel's parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``).
    Windows: a thread waiting on the parent's process handle.  Elsewhere: a thread that
    notices the parent change (``os.getppid()``).  Either way the worker ends within a
    second and releases every pipe it inherited.
    """
    if sys.platform.startswith("linux") and _linux_parent_death_signal():
        if os.getppid() != parent_pid:       # the parent ended before the signal was armed
            os._exit(1)
        return
    if IS_WINDOWS:
        handle = _windows_open_process(parent_pid)
        if not handle:
            os._exit(1)
        threading.Thread(target=_windows_wait_and_exit, args=(handle,), daemon=True, name="qos-xl-parent").start()
        return
    watch_parent(parent_pid)


def watch_parent(parent_pid: int, interval: float = PARENT_WATCH_SECONDS) -> threading.Thread:
    """The portable way: a thread that ends the process once its parent is no longer ``parent_pid``."""
    def watch():
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    thread = threading.Thread(target=watch, daemon=True, name="qos-xl-parent")
    thread.start()
    return thread


def _linux_parent_death_signal() -> bool:
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def termination_signals() -> list[int]:
    """The signals that ask a run to stop: Ctrl-C, SIGTERM, a closed terminal (SIGHUP), Ctrl-Break."""
    names = ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK")
    return [getattr(signal, name) for name in names if hasattr(signal, name)]


_GROUP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGHUP", "SIGBREAK") if hasattr(signal, name))
_STARTING_HELD = (*_GROUP_SIGNALS, *((signal.SIGTERM,) if hasattr(signal, "SIGTERM") else ()))


@contextlib.contextmanager
def worker_signals_held():
    """While a worker is started: Ctrl-C, a closed terminal and SIGTERM wait, here and in the new worker.

    The worker starts with those signals blocked (across exec too), so none reaches the handlers
    it inherited (or Python's own) before ``quiet_worker_signals`` has set its own; here they are
    delivered when the block ends.  Windows has no signal masks: there a worker still starting
    may print a KeyboardInterrupt.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _STARTING_HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def quiet_worker_signals() -> None:
    """In a worker, first: what a terminal sends the whole process group (Ctrl-C, a closed window,
    Ctrl-Break) is for the main process to act on; SIGTERM sent to the worker itself ends it."""
    for signum in _GROUP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STARTING_HELD)


# ---------------------------------------------------------------------------------------
# A lock the operating system releases when its process ends

_LOCK_OFFSET = 1 << 20           # Windows locks a byte range: one far past the pid written at the start


def try_lock(fd: int) -> bool:
    """Take an exclusive lock on the open file ``fd`` without waiting; False when another process holds it."""
    if IS_WINDOWS:
        import msvcrt

        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):
        return False
    return True


def unlock(fd: int) -> None:
    """Release a lock taken by ``try_lock``."""
    if IS_WINDOWS:
        import msvcrt

        os.lseek(fd, _LOCK_OFFSET, os.SEEK_SET)
        with contextlib.suppress(OSError):
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------
# Windows process handles (ctypes, kernel32)

_SYNCHRONIZE = 0x00100000
_PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
_STILL_ACTIVE = 259
_INFINITE = 0xFFFFFFFF


def _kernel32():
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    kernel32.WaitForSingleObject.argtypes = (wintypes.HANDLE, wintypes.DWORD)
    kernel32.GetExitCodeProcess.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
    kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
    return kernel32


def _windows_open_process(pid: int):
    return _kernel32().OpenProcess(_SYNCHRONIZE, False, pid)


def _windows_wait_and_exit(handle) -> None:
    _kernel32().WaitForSingleObject(handle, _INFINITE)
    os._exit(1)


def _windows_pid_alive(pid: int) -> bool:
    import ctypes
    from ctypes import wintypes

    kernel32 = _kernel32()
    handle = kernel32.OpenProcess(_PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        return ctypes.get_last_error() == 5     # ERROR_ACCESS_DENIED: it exists
    try:
        code = wintypes.DWORD()
        return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == _STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


# ---------------------------------------------------------------------------------------
# Bounding a reading worker: rlimits in the worker on Unix, a watchdog in the parent elsewhere

WATCH_INTERVAL = 0.02          # seconds between two looks at a watched child


def has_rlimits() -> bool:
    """Whether this system bounds a process's address space and CPU time itself (Unix ``resource``)."""
    import importlib.util

    return importlib.util.find_spec("resource") is not None


def limit_self(memory_bytes: int, cpu_seconds: int) -> bool:
    """Bound this process: address space and CPU time (Unix RLIMIT_AS, RLIMIT_CPU); False when not possible."""
    try:
        import resource
    except ImportError:
        return False
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    except (ValueError, OSError):
        return False
    return True


def can_watch_memory() -> bool:
    """Whether a child's memory can be watched from here (psutil, declared for Windows, is installed)."""
    import importlib.util

    return importlib.util.find_spec("psutil") is not None


def resident_bytes(pid: int) -> int | None:
    """Resident memory of a running process, by psutil (Linux, Windows, macOS); None once it is gone."""
    import psutil

    try:
        return psutil.Process(pid).memory_info().rss
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


@dataclass(frozen=True)
class Finished:
    """How a bounded child ended: its exit code and output, and why it was stopped, if it was."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    stopped: str | None = None       # "time" | "memory" | "unguarded" (could not be bounded here: not run)


def run_bounded(cmd: list[str], data: bytes, memory_bytes: int, timeout: float) -> Finished:
    """Run ``cmd`` with ``data`` on its stdin, bounded in wall time and memory.

    Unix: the child is told (``--rlimits``) to set RLIMIT_AS / RLIMIT_CPU on itself before it
    reads anything, so the kernel stops it; the wall clock is watched here.  Where the system
    has no rlimits (Windows), this process watches the child's resident memory every
    ``WATCH_INTERVAL`` with psutil and kills it when it passes ``memory_bytes`` (it may pass it
    by what it allocates in one interval); without psutil the child is not started at all.
    """
    self_limited = has_rlimits()
    if not self_limited and not can_watch_memory():
        return Finished(None, b"", b"", "unguarded")
    proc = subprocess.Popen([*cmd, "--rlimits"] if self_limited else cmd,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    data_left: bytes | None = data
    while True:
        left = deadline - time.monotonic()
        try:
            out, err = proc.communicate(data_left, timeout=max(left if self_limited else min(left, WATCH_INTERVAL), 0))
            return Finished(proc.returncode, out, err)
        except subprocess.TimeoutExpired:
            data_left = None
        if time.monotonic() >= deadline:
            stopped = "time"
        elif not self_limited and (resident_bytes(proc.pid) or 0) > memory_bytes:
            stopped = "memory"
        else:
            continue
        proc.kill()
        out, err = proc.communicate()
        return Finished(proc.returncode, out, err, stopped)


# ---------------------------------------------------------------------------------------
# Memory


def return_free_memory() -> bool:
    """Hand the memory this process has freed back to the system; False where there is no way to.

    glibc keeps freed memory for reuse, so a process that has let go of a city-scale merge's
    rows still counts them in its RSS while its feedback workers run (malloc_trim(0)).
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        trim = ctypes.CDLL(None).malloc_trim        # glibc; musl has none
    except (OSError, AttributeError):
        return False
    trim(0)
    return True
