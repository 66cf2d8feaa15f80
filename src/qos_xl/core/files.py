"""Writing files: every output appears whole or not at all, and a failure is one zh-TW ``OutputError``.

A file is written to a temporary name beside its target (``.qos-tmp-<pid>-…``: the inbox
listing skips the ``.qos-`` prefix) and renamed over the target only when complete, so a
reader never sees half a workbook and a failure leaves the previous file intact.  Files
that belong together (a feedback copy and its reply) are renamed together or not at all
(``together``).  Temporary files and scratch folders a killed run stranded are removed by
the next run that writes to the same folder (``sweep``: their pid is no live process).
``folder_lock`` keeps two runs from writing one output folder at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from qos_xl.core import interrupt, platform

TEMP_PREFIX = ".qos-tmp-"
LOCK_NAME = ".qos-lock"
LOCK_WAIT_SECONDS = 5.0          # a second run into a busy folder waits this long, then says who is writing
STALE_SECONDS = 24 * 3600        # a temp file of a live pid older than this is stranded all the same (pid reused)
_TEMP_NAME = re.compile(re.escape(TEMP_PREFIX) + r"(\d+)-")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()       # what open() would give a new file in this process


# ---------------------------------------------------------------------------------------
# What went wrong, in one zh-TW line


# code: (what is wrong, what to do); {file} is the file, {folder} its folder
_CAUSES = {
    "output-no-space": ("磁碟空間不足", "請清出磁碟空間，或以 --out 改存到其他磁碟後，再執行一次"),
    "output-read-only": ("所在的磁碟或資料夾是唯讀的", "請以 --out 改存到可寫入的資料夾後，再執行一次"),
    "output-locked": ("檔案正在使用中，可能正在 Excel 或其他程式中開啟",
                      "請在 Excel（或其他開啟它的程式）關閉這個檔案後，再執行一次"),
    "output-permission": ("沒有寫入「{folder}」的權限", "請以 --out 改存到有權限的資料夾，或請管理人員開放寫入權限後，再執行一次"),
    "output-path-too-long": ("檔案路徑太長", "請把輸出資料夾移到較短的路徑（例如 C:\\qos）或以 --out 指定後，再執行一次"),
    "output-busy": ("另一個 qos-xl（程序 {pid}）正在寫入「{folder}」", "請等它結束後再執行一次"),
    "output-not-folder": ("{detail}", "請確認 --out 指定的是資料夾（不是檔案）、路徑拼寫正確後，再執行一次"),
    "output-failed": ("寫入時發生錯誤（{detail}）", "請確認磁碟正常、有寫入權限後，再執行一次"),
}
# a path that cannot be a folder: what is wrong with it
_PATH_REASONS = {errno.ENOTDIR: "路徑中有一段是檔案而不是資料夾", errno.ENOENT: "路徑中的資料夾不存在",
                 errno.EEXIST: "已有同名的檔案或資料夾"}
# errors that every further file in the same folder would meet too
FOLDER_WIDE = frozenset({"output-no-space", "output-read-only", "output-permission", "output-path-too-long", "output-busy",
                         "output-not-folder"})
_WINDOWS_SHARING = {32, 33}         # ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION
_WINDOWS_PATH = {206}               # ERROR_FILENAME_EXCED_RANGE


class OutputError(Exception):
    """An output could not be written: the file, a code (``output-no-space``…) and one zh-TW line."""

    def __init__(self, path: Path | str, code: str, detail: str = "", pid: int | None = None):
        self.path, self.code, self.detail, self.pid = Path(path), code, detail, pid
        self.written: list[Path] = []     # what the same step did write (kept)
        self.others = 0                   # further files that failed the same way
        super().__init__(self.message)

    def __reduce__(self):                 # crosses from a worker process whole
        return _rebuild_error, (str(self.path), self.code, self.detail, self.pid, [str(p) for p in self.written],
                                self.others)

    def alone(self) -> OutputError:
        """The same error without its traceback and cause: those hold the frames, and the data, of the write."""
        return _rebuild_error(*self.__reduce__()[1])

    @property
    def folder_wide(self) -> bool:
        return self.code in FOLDER_WIDE

    @property
    def message(self) -> str:
        what, fix = _CAUSES[self.code]
        fields = {"folder": self.path.parent if self.code != "output-busy" else self.path, "pid": self.pid or "?",
                  "detail": self.detail}
        what, fix = what.format(**fields), fix.format(**fields)
        head = f"無法寫入「{self.path}」：" if self.code != "output-busy" else ""
        more = f"（另有 {self.others} 個檔案也無法寫入）" if self.others else ""
        kept = "；先前的檔案保持不變" if self.code != "output-busy" else ""
        return f"{head}{what}{more}。{fix}{kept}。"

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "file": str(self.path),
                "written": [str(p) for p in self.written]}


def _rebuild_error(path, code, detail, pid, written, others) -> OutputError:
    error = OutputError(path, code, detail, pid)
    error.written, error.others = [Path(p) for p in written], others
    return error


def output_error(target: Path, exc: OSError, *, replacing: bool = False) -> OutputError:
    """The ``OutputError`` for ``exc`` met while writing ``target`` (``replacing``: at the final rename)."""
    number, winerror = exc.errno, getattr(exc, "winerror", None)
    if number in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        code = "output-no-space"
    elif number == errno.EROFS:
        code = "output-read-only"
    elif winerror in _WINDOWS_SHARING or number in (errno.EBUSY, errno.ETXTBSY):
        code = "output-locked"
    elif isinstance(exc, PermissionError):
        # Windows refuses to replace a workbook Excel holds open with "access denied"
        code = "output-locked" if replacing and Path(target).exists() else "output-permission"
    elif number == errno.ENAMETOOLONG or winerror in _WINDOWS_PATH:
        code = "output-path-too-long"
    elif number in _PATH_REASONS:
        return OutputError(target, "output-not-folder", _PATH_REASONS[number])
    else:
        code = "output-failed"
    return OutputError(target, code, exc.strerror or str(exc))


@contextlib.contextmanager
def reported(target: Path, *, replacing: bool = False):
    """Any ``OSError`` in the block (also one a writer library wraps) becomes the ``OutputError`` for ``target``."""
    try:
        yield
    except OSError as exc:
        raise output_error(target, exc, replacing=replacing) from exc
    except Exception as exc:
        # xlsxwriter reports a failed save as FileCreateError(the OSError)
        cause = exc.args[0] if exc.args else None
        if not isinstance(cause, OSError):
            raise
        raise output_error(target, cause, replacing=replacing) from exc


# ---------------------------------------------------------------------------------------
# Temporary names, and what a killed run left behind


def _temp_prefix() -> str:
    return f"{TEMP_PREFIX}{os.getpid()}-"


def is_stale(entry: Path, now: float | None = None) -> bool:
    """Whether ``entry`` is a temporary file or folder of ours that no live run is writing."""
    found = _TEMP_NAME.match(entry.name)
    if not found:
        return False
    pid = int(found.group(1))
    try:
        age = (now or time.time()) - entry.lstat().st_mtime
    except OSError:
        return False
    if pid == os.getpid():
        return False
    return not platform.pid_alive(pid) or age > STALE_SECONDS


def sweep(folder: Path) -> list[Path]:
    """Remove the temporary files and scratch folders that ended runs left in ``folder``; what was removed."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not is_stale(entry, now):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed


_swept: set[Path] = set()


def _sweep_once(folder: Path) -> None:
    key = Path(os.path.abspath(folder))
    if key not in _swept:
        _swept.add(key)
        sweep(key)


@contextlib.contextmanager
def scratch_folder(target: Path):
    """A scratch folder for writing ``target``, beside it (same disk), removed on every way out of the block.

    A run killed outright leaves it behind under a temporary name: the next run's ``sweep``
    removes it.
    """
    target = Path(target)
    with reported(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        _sweep_once(target.parent)
        folder = tempfile.mkdtemp(prefix=_temp_prefix(), suffix=".d", dir=target.parent)
    try:
        yield Path(folder)
    finally:
        with interrupt.held():
            shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------
# Atomic writes


_committed: dict[Path, None] = {}     # every file this run has put in place, in order
_transaction: contextvars.ContextVar[list | None] = contextvars.ContextVar("qos_xl_files_transaction", default=None)


def committed() -> list[Path]:
    """The files this run has written (put in place whole), in order."""
    return list(_committed)


def record_written(paths) -> None:
    """Note files that another process of this run (a worker) put in place."""
    _committed.update((Path(p), None) for p in paths)


def _discard(path: str | Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


@contextlib.contextmanager
def atomic_path(target: Path):
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success.

    Inside ``together()``, the rename waits for the end of that block.  An ``OSError``
    becomes an ``OutputError`` naming ``target``.
    """
    target = Path(target)
    with reported(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        _sweep_once(target.parent)
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(), suffix=target.suffix + ".tmp", dir=target.parent)
        os.close(fd)
    try:
        with reported(target):
            yield Path(tmp)
            os.chmod(tmp, FILE_MODE)
        pending = _transaction.get()
        if pending is not None:
            pending.append((Path(tmp), target))
            return
        with interrupt.held(), reported(target, replacing=True):
            os.replace(tmp, target)
        _committed[target] = None
    except BaseException:
        with interrupt.held():
            _discard(tmp)
        raise


@dataclass
class _Replaced:
    target: Path
    backup: Path | None            # the previous file, kept until every rename is done
    done: bool = field(default=False)


@contextlib.contextmanager
def together():
    """Files written with ``atomic_path`` inside the block appear together, in order, or none does.

    If one rename fails (the file is open in Excel, say), those already done are undone:
    the previous files stay as they were.
    """
    if _transaction.get() is not None:      # already inside: the outer block commits
        yield
        return
    pending: list[tuple[Path, Path]] = []
    token = _transaction.set(pending)
    try:
        yield
    except BaseException:
        with interrupt.held():
            for tmp, _ in pending:
                _discard(tmp)
        raise
    finally:
        _transaction.reset(token)
    with interrupt.held():
        _commit(pending)


def _commit(pending: list[tuple[Path, Path]]) -> None:
    steps: list[_Replaced] = []
    try:
        for tmp, target in pending:
            step = _Replaced(target, None)
            steps.append(step)
            if len(pending) > 1 and target.exists():
                with reported(target, replacing=True):
                    step.backup = _backup(target)
            with reported(target, replacing=True):
                os.replace(tmp, target)
            step.done = True
    except BaseException:
        for step in reversed(steps):
            if step.done:
                with contextlib.suppress(OSError):
                    if step.backup is not None:
                        os.replace(step.backup, step.target)
                    else:
                        os.unlink(step.target)
            elif step.backup is not None:
                _discard(step.backup)
        for tmp, _ in pending:
            _discard(tmp)
        raise
    for step in steps:
        if step.backup is not None:
            _discard(step.backup)
    _committed.update((target, None) for _, target in pending)


def _backup(target: Path) -> Path:
    """A second name for ``target``'s current content (a hard link, else a copy), to restore it from."""
    fd, backup = tempfile.mkstemp(prefix=_temp_prefix(), suffix=target.suffix + ".bak", dir=target.parent)
    os.close(fd)
    try:
        os.unlink(backup)
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)
    return Path(backup)


def write_text_atomic(target: Path, content: str) -> None:
    """A UTF-8 text file, written atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(content, encoding="utf-8")


def write_bytes_atomic(target: Path, content: bytes) -> None:
    """A binary file, written atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(content)


def os_reason(exc: OSError) -> str:
    """What is wrong, in zh-TW words, when a file or folder cannot be made (the causes above, or the path's own fault)."""
    error = output_error(Path(exc.filename or "."), exc)
    return _CAUSES[error.code][0].format(folder=error.path.parent, pid="?", detail=error.detail)


# ---------------------------------------------------------------------------------------
# One writer per output folder


@contextlib.contextmanager
def folder_lock(folder: Path, wait: float | None = None):
    """Hold ``folder`` for this run: another run wanting it waits ``wait`` seconds, then gets ``output-busy``.

    The lock is the operating system's, on ``folder/.qos-lock`` (which names the holder's
    pid), so it ends with its process however that ends; the file is removed on release.
    On entry the folder and its subfolders are swept of what ended runs left behind.
    """
    folder = Path(folder)
    lock_file = folder / LOCK_NAME
    with reported(folder):                  # named as the user gave it, not by our lock file
        folder.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + (LOCK_WAIT_SECONDS if wait is None else wait)
    while True:
        with reported(lock_file):
            fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, FILE_MODE)
        if platform.try_lock(fd):
            if _same_file(fd, lock_file):
                break
            platform.unlock(fd)        # its holder removed it as we opened it: take the new one
        os.close(fd)
        if time.monotonic() >= deadline:
            raise OutputError(folder, "output-busy", pid=_holder(lock_file))
        time.sleep(0.1)
    try:
        with contextlib.suppress(OSError):    # the pid is for messages only
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{os.getpid()}\n".encode())
        for entry in [folder, *_subfolders(folder)]:
            _swept.add(Path(os.path.abspath(entry)))
            sweep(entry)
        yield
    finally:
        with contextlib.suppress(OSError):    # Windows keeps an open file: it stays, unlocked
            os.unlink(lock_file)
        platform.unlock(fd)
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        mine, now = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)


def _subfolders(folder: Path):
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            if entry.is_dir() and not entry.is_symlink() and not entry.name.startswith(TEMP_PREFIX):
                yield entry


def _holder(lock_file: Path) -> int | None:
    try:
        text = lock_file.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def describe(exc: OSError) -> str:
    """One zh-TW line for an ``OSError`` that no writer reported (a folder that vanished, a disk error)."""
    where = str(exc.filename or "")
    if os.path.basename(where).startswith(TEMP_PREFIX):      # name the folder, not our temporary file
        where = os.path.dirname(where)
    error = output_error(Path(where or "."), exc)
    what, fix = _CAUSES[error.code]
    fields = {"folder": Path(where).parent if where else ".", "pid": "?", "detail": error.detail}
    head = f"無法存取「{where}」：" if where else "檔案存取錯誤："
    return f"{head}{what.format(**fields)}。{fix.format(**fields)}。"
