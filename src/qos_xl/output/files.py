"""Writing files: every output appears whole or not at all, with the mode the user's umask gives.

A file is written to a temporary name beside its target (``.qos-tmp-<pid>-…``: the inbox
listing skips the ``.qos-`` prefix) and renamed over the target only when complete, so a
reader never sees half a workbook and a failure leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import errno
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


_OS_REASONS = {
    errno.EACCES: "沒有寫入權限", errno.EPERM: "沒有寫入權限", errno.EROFS: "該處是唯讀的",
    errno.ENOSPC: "磁碟空間不足", errno.ENOTDIR: "路徑中有一段是檔案而不是資料夾",
    errno.EEXIST: "已有同名的檔案或資料夾", errno.ENAMETOOLONG: "路徑太長", errno.ENOENT: "路徑中的資料夾不存在",
}


def os_reason(exc: OSError) -> str:
    """Why a file or folder could not be written, in zh-TW words (the system's own text when it is a rarer case)."""
    return _OS_REASONS.get(exc.errno, f"系統回報：{exc.strerror or exc}")
