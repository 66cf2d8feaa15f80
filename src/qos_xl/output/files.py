"""Writing files: every output appears whole or not at all, with the mode the user's umask gives.

A file is written to a temporary name beside its target (``.qos-tmp-<pid>-…``: the inbox
listing skips the ``.qos-`` prefix) and renamed over the target only when complete, so a
reader never sees half a workbook and a failure leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

TEMP_PREFIX = ".qos-tmp-"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()       # what open() would give a new file in this process


@contextlib.contextmanager
def atomic_path(target: Path):
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-", suffix=target.suffix + ".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(target: Path, content: str) -> None:
    """A UTF-8 text file, written atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(content, encoding="utf-8")


def write_bytes_atomic(target: Path, content: bytes) -> None:
    """A binary file, written atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(content)
