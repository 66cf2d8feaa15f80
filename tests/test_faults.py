"""Faults leave no mess: killed, interrupted, starved of disk, denied writes, run twice at once.

The runs that are killed or interrupted are real ``qos-xl`` processes in their own process
group, on a generated inbox large enough for worker processes (bench/generate.py).  A test
waits for an event it can see (worker processes started, a temporary file in the output
folder), never for a fixed time.  Zombies count as ended: this machine's PID 1 does not
reap orphans, and a zombie holds no pipe, file or memory.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import importlib.util
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CONFIG, REPO
from openpyxl import load_workbook

import builders
from qos_xl.cli import ending
from qos_xl.cli.app import cli
from qos_xl.core import files, interrupt, platform
from qos_xl.pipeline import load, workers
from qos_xl.pipeline.load import Loading, list_inbox

WORKBOOK = "102年度提升服務品質彙整_102-06.xlsx"
INTERRUPTED_MERGE = "已中斷，未產生新的彙整活頁簿；先前的檔案保持不變。"
PREVIOUS = b"the previous workbook, which must survive"
TIMEOUT = 120          # generous: the machine is shared and may be loaded

needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc (Linux)")


# ---------------------------------------------------------------------------------------
# helpers


def _generator():
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """300 units' inboxes (about 30 files with problems: feedback runs in worker processes)."""
    return _generator().generate(300, work=tmp_path_factory.mktemp("city"), quiet=True)


def _merge_command(bench, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "qos_xl", "merge", "--config", str(bench.config), "--inbox", str(bench.inbox),
            "--out", str(out), "--period", "102-06", *extra]


_started: list[int] = []


@pytest.fixture(autouse=True)
def _no_strays():
    """Whatever a failing test leaves running is ended with it (by the group ids this module started)."""
    yield
    while _started:
        with contextlib.suppress(OSError):
            os.killpg(_started.pop(), signal.SIGKILL)


def _start(command: list[str], tmp: Path) -> subprocess.Popen:
    """A qos-xl process in its own process group, with its own TMPDIR, output captured through pipes."""
    tmp.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp)}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, env=env)
    _started.append(proc.pid)
    return proc


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()     # state, ppid, pgrp, ...


def _live(pids) -> list[int]:
    return [pid for pid in pids if (fields := _stat(pid)) is not None and fields[0] not in ("Z", "X")]


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _sigint(pid: int) -> tuple[bool, bool]:
    """Whether the process is a started Python that catches SIGINT and nothing else yet (past exec and
    interpreter start, not yet running qos-xl code), and whether SIGINT is blocked: one snapshot."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False, False
    masks = {line.split(":")[0]: int(line.split()[1], 16) for line in status.splitlines()
             if line.startswith(("SigCgt:", "SigBlk:"))}
    bit = 1 << (signal.SIGINT - 1)
    return masks.get("SigCgt") == bit, bool(masks.get("SigBlk", 0) & bit)


def _group(pgid: int) -> list[int]:
    return _live(pid for pid in _all_pids() if (fields := _stat(pid)) is not None and int(fields[2]) == pgid)


def _children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:          # a kernel without that file: scan every process
        return _live(p for p in _all_pids() if (fields := _stat(p)) is not None and int(fields[1]) == pid)
    return _live(int(child) for child in listed)


def _wait_for(condition, timeout: float = TIMEOUT, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.005)


def _temps(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.startswith(files.TEMP_PREFIX)] if folder.exists() else []


def _writing_workbook(out: Path) -> bool:
    """The consolidated workbook is being written: its temporary file exists."""
    return out.is_dir() and any(p.name.startswith(files.TEMP_PREFIX) and p.name.endswith(".xlsx.tmp") for p in out.iterdir())


def _ended(proc: subprocess.Popen) -> tuple[int, str, str]:
    """Exit code and output; the pipes reach end-of-file only once no process holds them."""
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out.decode(), err.decode()


def _group_ends(pgid: int, seconds: float = 15) -> None:
    _wait_for(lambda: not _group(pgid), seconds, f"every process of group {pgid} to end (left: {_group(pgid)})")


def _run_cli(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """``qos-xl ARGS`` in this process as ``main`` runs it (without taking over this process's signals)."""
    monkeypatch.setattr(interrupt, "install", lambda: None)
    code = ending.run(lambda: cli.main(list(args), prog_name="qos-xl"), list(args))
    gc.collect()          # what a failed write left unclosed is closed now, within the test
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def inbox(tmp_path, plan, registry):
    """Three units: one clean, two with problems (so feedback has two pairs to write)."""
    folder = tmp_path / "inbox"
    builders.selfcheck(folder, plan, registry, unit="MNT")
    for unit in ("SEC", "NCE"):
        builders.selfcheck(folder, plan, registry, unit=unit,
                           edit=lambda ws: ws.cell(builders.step_row(plan, "1-1-1"), 6, "做完了"))
    return folder


def _merge_args(inbox: Path, out: Path, *extra: str) -> list[str]:
    return ["merge", "--config", str(CONFIG), "--inbox", str(inbox), "--out", str(out), "--period", "102-06", *extra]


# ---------------------------------------------------------------------------------------
# Workers never outlive the command


@needs_proc
def test_killed_merge_takes_its_workers_and_releases_the_pipes(city, tmp_path):
    proc = _start(_merge_command(city, tmp_path / "out", "--json"), tmp_path / "tmp")
    _wait_for(lambda: len(_children(proc.pid)) >= 2 or proc.poll() is not None, what="the reading workers")
    assert proc.poll() is None, "the merge ended before its workers were seen"
    os.kill(proc.pid, signal.SIGKILL)
    code, out, _ = _ended(proc)          # returns only when no worker holds stdout/stderr any more
    assert code == -signal.SIGKILL and out == ""
    _group_ends(proc.pid)


@needs_proc
def test_killed_while_writing_feedback_takes_its_workers(city, tmp_path):
    out = tmp_path / "out"
    proc = _start(_merge_command(city, out), tmp_path / "tmp")
    _wait_for(lambda: (out / WORKBOOK).exists() and _children(proc.pid) or proc.poll() is not None,
              what="the feedback workers")
    assert proc.poll() is None, "the merge ended before its feedback workers were seen"
    os.kill(proc.pid, signal.SIGKILL)
    _ended(proc)
    _group_ends(proc.pid)


@needs_proc
def test_what_a_killed_run_left_goes_with_the_next_run(city, tmp_path):
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    proc = _start(_merge_command(city, out, "--no-feedback"), tmp)
    _wait_for(lambda: _writing_workbook(out) or proc.poll() is not None, what="the workbook being written")
    os.kill(proc.pid, signal.SIGKILL)
    _ended(proc)
    _group_ends(proc.pid)
    stranded = _temps(out)
    assert stranded, "the kill came after the workbook was written"
    # the next run removes them, and writes nothing into the system's temporary folder
    code, stdout, err = _ended(_start(_merge_command(city, out, "--json"), tmp))
    assert code == 1, err
    assert _temps(out) == [] and list(tmp.iterdir()) == []
    assert sorted(p.name for p in out.iterdir()) == [WORKBOOK, "feedback"]
    assert json.loads(stdout)["output"].endswith(WORKBOOK)


def test_a_stale_temporary_file_goes_only_when_its_run_has_ended(tmp_path):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(ended.stdout)
    assert not platform.pid_alive(dead)
    gone_file = tmp_path / f"{files.TEMP_PREFIX}{dead}-abc.xlsx.tmp"
    gone_dir = tmp_path / f"{files.TEMP_PREFIX}{dead}-def.d"
    live_file = tmp_path / f"{files.TEMP_PREFIX}{os.getppid()}-ghi.xlsx.tmp"     # another run, still going
    mine = tmp_path / f"{files.TEMP_PREFIX}{os.getpid()}-jkl.txt.tmp"
    unit_file = tmp_path / "qos-tmp-1-單位檔案.xlsx"
    gone_file.write_bytes(b"partial zip")
    (gone_dir / "sheet1.xml").parent.mkdir()
    (gone_dir / "sheet1.xml").write_text("<x/>")
    for path in (live_file, mine, unit_file):
        path.write_bytes(b"x")
    assert sorted(files.sweep(tmp_path)) == sorted([gone_file, gone_dir])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live_file, mine, unit_file))


# ---------------------------------------------------------------------------------------
# A worker that dies on a file rejects that file only


def _double(item: int) -> int:
    if item == 3:
        os.kill(os.getpid(), signal.SIGKILL)      # as a reader library aborting the process would
    if item == 5:
        raise ValueError("five")
    return item * 2


def test_a_dead_worker_costs_its_task_only():
    with workers.WorkerPool(_double, range(12), 2) as pool:
        outcomes = sorted(pool.outcomes(), key=lambda o: o.index)
    assert [o.index for o in outcomes] == list(range(12))
    assert [o.crashed for o in outcomes] == [i == 3 for i in range(12)]
    assert isinstance(outcomes[5].error, ValueError) and str(outcomes[5].error) == "five"
    assert [o.value for o in outcomes if not o.crashed and o.error is None] == [i * 2 for i in range(12) if i not in (3, 5)]


def _collecting(_item) -> bool:
    return gc.isenabled()


def test_workers_keep_their_cyclic_collector_though_the_process_pauses_its_own():
    """The qos-xl process runs without the cyclic GC (process.py); a worker forked from it serves many tasks
    and must not inherit that (with it, each file read left ~0.1 MB behind: 300 MB a worker at N = 5,000)."""
    gc.disable()
    try:
        with workers.WorkerPool(_collecting, range(4), 2, context=multiprocessing.get_context("fork")) as pool:
            answers = [o.value for o in pool.outcomes()]
    finally:
        gc.enable()
    assert answers == [True] * 4


def test_reading_a_workbook_leaves_no_reference_cycle(tmp_path, plan, registry):
    """Every XML parser's handlers are let go once it is done: nothing read is left for the cyclic GC."""
    path = builders.selfcheck(tmp_path, plan, registry, unit="MNT")
    entry = load.list_inbox([tmp_path])[0]
    load.load_file(entry)                         # first-use caches
    gc.collect()
    gc.disable()
    try:
        for _ in range(5):
            load.load_file(entry)
        left = gc.collect()
    finally:
        gc.enable()
    assert left == 0, f"{left} objects of {path.name}'s reading were only freed by the cyclic GC"


def test_a_file_whose_reader_dies_is_rejected_and_the_rest_are_read(tmp_path, monkeypatch, plan, registry):
    folder = tmp_path / "inbox"
    first = builders.selfcheck(folder, plan, registry, unit="MNT", name="單位00.xlsx")
    for n in range(1, load.PARALLEL_THRESHOLD + 2):
        builders.copy(first, folder / f"單位{n:02}.xlsx")
    hostile = folder / "單位07.xlsx"
    opened = load.open_workbook

    def open_or_die(path, **kwargs):
        if Path(path).name == hostile.name:
            os.kill(os.getpid(), signal.SIGKILL)
        return opened(path, **kwargs)

    monkeypatch.setattr(load, "open_workbook", open_or_die)
    # replacement workers start fresh ("spawn") and would not see the patch: fork them here
    monkeypatch.setattr(platform, "spawn_context", lambda: __import__("multiprocessing").get_context("fork"))
    loaded = Loading(list_inbox([folder]), jobs=2).results()
    reports = {item.report.file: item.report for item in loaded}
    assert len(reports) == load.PARALLEL_THRESHOLD + 2
    bad = reports[hostile.name]
    assert [p.code for p in bad.problems] == ["format-unreadable"]
    assert "讀取時程式異常中止" in bad.problems[0].message and bad.sha256 == reports["單位00.xlsx"].sha256
    assert all(item.submission is not None for item in loaded if item.report.file != hostile.name)


# ---------------------------------------------------------------------------------------
# Signals


@needs_proc
def test_sigterm_while_reading_cleans_up_and_exits_143(city, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / WORKBOOK).write_bytes(PREVIOUS)
    proc = _start(_merge_command(city, out), tmp_path / "tmp")
    _wait_for(lambda: len(_children(proc.pid)) >= 2 or proc.poll() is not None, what="the reading workers")
    os.kill(proc.pid, signal.SIGTERM)
    code, _, err = _ended(proc)
    assert code == 143
    assert err.strip() == INTERRUPTED_MERGE
    _group_ends(proc.pid)
    assert (out / WORKBOOK).read_bytes() == PREVIOUS and _temps(out) == []


@needs_proc
def test_ctrl_c_while_writing_cleans_up_and_exits_130(city, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / WORKBOOK).write_bytes(PREVIOUS)
    proc = _start(_merge_command(city, out, "--json"), tmp_path / "tmp")
    _wait_for(lambda: _writing_workbook(out) or proc.poll() is not None, what="the workbook being written")
    os.killpg(proc.pid, signal.SIGINT)         # Ctrl-C: the terminal signals the whole group
    code, stdout, err = _ended(proc)
    assert code == 130 and "Aborted" not in err and "Traceback" not in err
    line = err.strip()
    if (out / WORKBOOK).read_bytes() == PREVIOUS:
        assert line == INTERRUPTED_MERGE
    else:        # the signal came just after the rename: the new workbook is whole, and the line says so
        assert line.startswith(f"已中斷：已完整寫入 {WORKBOOK}")
        load_workbook(out / WORKBOOK, read_only=True).close()
    assert json.loads(stdout)["error"] == {"code": "interrupted", "message": line}
    _group_ends(proc.pid)
    assert _temps(out) == [] and list((tmp_path / "tmp").iterdir()) == []


@needs_proc
def test_ctrl_c_while_feedback_workers_start_is_still_one_line(city, tmp_path):
    """Workers start with Ctrl-C held back and then ignore it: none prints a KeyboardInterrupt of its own."""
    out = tmp_path / "out"
    proc = _start(_merge_command(city, out), tmp_path / "tmp")
    # a feedback worker's Python is up (it has a Ctrl-C handler) and has not yet come to ignore Ctrl-C
    starting = []

    def a_worker_starting() -> bool:
        if (out / WORKBOOK).exists():
            starting.extend(masks for masks in map(_sigint, _children(proc.pid)) if masks[0])
        return bool(starting) or proc.poll() is not None

    _wait_for(a_worker_starting, what="a feedback worker starting")
    assert starting == [(True, True)] * len(starting), "a starting worker must hold Ctrl-C back"
    os.killpg(proc.pid, signal.SIGINT)
    code, _, err = _ended(proc)
    assert code == 130
    assert err.strip() == f"已中斷：已完整寫入 {WORKBOOK}，其餘未完成的檔案未寫入；先前的檔案保持不變。"
    _group_ends(proc.pid)
    load_workbook(out / WORKBOOK, read_only=True).close()
    assert _temps(out) == []


# ---------------------------------------------------------------------------------------
# Output that cannot be written


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (mounting needs root); ``None`` where this machine cannot mount one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(disk: Path) -> None:
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        with contextlib.suppress(OSError):
            while os.write(fd, b"\0" * 4096):
                pass
    finally:
        os.close(fd)


def _no_space(small_disk, tmp_path, monkeypatch) -> Path:
    """An output folder on a full disk: the tmpfs filled up, or (no tmpfs) every new file refused with ENOSPC."""
    if small_disk is not None:
        out = small_disk / "outputs"
        out.mkdir()
        (out / WORKBOOK).write_bytes(PREVIOUS)
        _fill(small_disk)
        return out
    out = tmp_path / "outputs"
    out.mkdir()
    (out / WORKBOOK).write_bytes(PREVIOUS)
    real = files.tempfile.mkstemp

    def full(*args, dir=None, **kwargs):
        if dir is not None and Path(dir).is_relative_to(out):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(files.tempfile, "mkstemp", full)
    return out


# the writer libraries leave their zip file unclosed when the disk fills up; its __del__ fails again
full_disk_warning = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@full_disk_warning
def test_merge_on_a_full_disk_is_one_line_exit_2_and_json_error(inbox, tmp_path, monkeypatch, capsys, small_disk):
    out = _no_space(small_disk, tmp_path, monkeypatch)
    code, stdout, err = _run_cli(monkeypatch, capsys, *_merge_args(inbox, out, "--json"))
    assert code == 2
    line = err.strip()
    assert "\n" not in line and "Traceback" not in line
    assert line.startswith(f"無法寫入「{out / WORKBOOK}」：磁碟空間不足") and "--out" in line and "先前的檔案保持不變" in line
    assert json.loads(stdout)["error"]["code"] == "output-no-space"
    assert json.loads(stdout)["error"]["message"] == line
    assert (out / WORKBOOK).read_bytes() == PREVIOUS
    assert _temps(out) == [] and not (out / "feedback").exists()


@full_disk_warning
def test_validate_on_a_full_disk_still_prints_its_report(inbox, tmp_path, monkeypatch, capsys, small_disk):
    out = _no_space(small_disk, tmp_path, monkeypatch)
    code, stdout, err = _run_cli(monkeypatch, capsys, "validate", "--config", str(CONFIG), "--out", str(out), str(inbox))
    assert code == 2
    assert "✘" in stdout and "共 3 個檔案" in stdout          # the report, as without the disk problem
    line = err.strip()
    assert "\n" not in line and "磁碟空間不足" in line and str(out / "feedback") in line
    code, stdout, err = _run_cli(monkeypatch, capsys, "validate", "--config", str(CONFIG), "--out", str(out), "--json",
                                 str(inbox))
    data = json.loads(stdout)
    assert code == 2 and len(data["files"]) == 3 and data["valid"] is False
    assert data["error"]["code"] == "output-no-space" and data["feedback"] == []
    assert _temps(out) == []


def test_merge_into_a_read_only_folder(inbox, tmp_path, monkeypatch, capsys, small_disk):
    if small_disk is None:
        if os.geteuid() == 0:
            pytest.skip("cannot mount a read-only file system here, and root ignores folder permissions")
        out = tmp_path / "outputs"
        out.mkdir()
        (out / WORKBOOK).write_bytes(PREVIOUS)
        out.chmod(0o555)
        expected = "沒有寫入"
    else:
        out = small_disk / "outputs"
        out.mkdir()
        (out / WORKBOOK).write_bytes(PREVIOUS)
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
        expected = "唯讀"
    try:
        code, stdout, err = _run_cli(monkeypatch, capsys, *_merge_args(inbox, out, "--json"))
        assert code == 2
        line = err.strip()
        assert "\n" not in line and line.startswith(f"無法寫入「{out}") and expected in line and "--out" in line
        assert json.loads(stdout)["error"]["code"] in ("output-read-only", "output-permission")
        assert (out / WORKBOOK).read_bytes() == PREVIOUS
        # validate: the report, then the line
        code, stdout, err = _run_cli(monkeypatch, capsys, "validate", "--config", str(CONFIG), "--out", str(out), str(inbox))
        assert code == 2 and "共 3 個檔案" in stdout and expected in err
    finally:
        out.chmod(0o755) if small_disk is None else None


def _replace_fails_for(monkeypatch, suffix: str) -> list[str]:
    """``os.replace`` onto a name ending in ``suffix`` fails as Windows fails it for a workbook open in Excel."""
    real, refused = os.replace, []

    def replace(src, dst, *args, **kwargs):
        if str(dst).endswith(suffix):
            refused.append(str(dst))
            raise PermissionError(errno.EACCES, "Access is denied", str(dst))
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    return refused


def test_workbook_open_in_excel_is_named_and_the_rest_is_written(inbox, tmp_path, monkeypatch, capsys):
    out = tmp_path / "outputs"
    out.mkdir()
    (out / WORKBOOK).write_bytes(PREVIOUS)
    refused = _replace_fails_for(monkeypatch, WORKBOOK)
    code, stdout, err = _run_cli(monkeypatch, capsys, *_merge_args(inbox, out, "--json"))
    assert refused and code == 2
    line = err.strip()
    assert line.startswith(f"無法寫入「{out / WORKBOOK}」：") and "Excel" in line and "關閉這個檔案" in line
    data = json.loads(stdout)
    assert data["error"]["code"] == "output-locked" and data["error"]["file"] == str(out / WORKBOOK)
    assert (out / WORKBOOK).read_bytes() == PREVIOUS
    # everything else was written: both feedback pairs
    assert len(data["feedback"]) == 4 and all(Path(p).is_file() for p in data["feedback"])
    assert _temps(out) == []


def test_feedback_copy_open_in_excel_leaves_its_pair_as_it_was(inbox, tmp_path, monkeypatch, capsys):
    out = tmp_path / "outputs"
    code, stdout, _ = _run_cli(monkeypatch, capsys, *_merge_args(inbox, out, "--json"))
    assert code == 1
    pairs = sorted(Path(p).name for p in json.loads(stdout)["feedback"])
    locked = next(name for name in pairs if name.endswith("_問題標註.xlsx"))
    reply = locked.replace("_問題標註.xlsx", "_回覆.txt")
    before = {name: (out / "feedback" / name).read_bytes() for name in (locked, reply)}
    (out / "feedback" / reply).write_text("the previous reply", encoding="utf-8")
    before[reply] = (out / "feedback" / reply).read_bytes()
    _replace_fails_for(monkeypatch, locked)
    code, stdout, err = _run_cli(monkeypatch, capsys, *_merge_args(inbox, out, "--json"))
    assert code == 2
    assert err.strip().startswith(f"無法寫入「{out / 'feedback' / locked}」：") and "Excel" in err
    data = json.loads(stdout)
    assert data["error"]["code"] == "output-locked" and data["output"].endswith(WORKBOOK)
    # the locked pair is as it was (no new reply without its copy); the other pair is new
    assert {name: (out / "feedback" / name).read_bytes() for name in before} == before
    assert sorted(Path(p).name for p in data["feedback"]) == sorted(n for n in pairs if n not in (locked, reply))
    for text in (out / "feedback").glob("*_回覆.txt"):
        assert "原檔案無法由系統開啟加註" not in text.read_text(encoding="utf-8")
    assert _temps(out) == []


def test_our_own_failed_write_is_never_blamed_on_the_unit(inbox, tmp_path, monkeypatch, capsys):
    """Saving an annotated copy fails (the disk, not the unit's file): no 問題清單 saying the original could not be opened."""
    from openpyxl.workbook.workbook import Workbook

    def save(self, filename):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(filename))

    monkeypatch.setattr(Workbook, "save", save)
    out = tmp_path / "outputs"
    code, stdout, err = _run_cli(monkeypatch, capsys, "validate", "--config", str(CONFIG), "--out", str(out), str(inbox))
    assert code == 2 and "共 3 個檔案" in stdout
    assert "磁碟空間不足" in err and "_問題標註.xlsx」" in err
    assert sorted(p.name for p in (out / "feedback").iterdir()) == []       # nothing half-done, nothing false


def test_a_pair_appears_together_or_not_at_all(tmp_path, monkeypatch):
    copy, reply = tmp_path / "a_問題標註.xlsx", tmp_path / "a_回覆.txt"
    copy.write_bytes(b"old copy")
    reply.write_bytes(b"old reply")
    _replace_fails_for(monkeypatch, "_回覆.txt")       # the second rename fails after the first is done
    with pytest.raises(files.OutputError) as failed, files.together():
        files.write_bytes_atomic(copy, b"new copy")
        files.write_text_atomic(reply, "new reply")
    assert failed.value.path == reply
    assert copy.read_bytes() == b"old copy" and reply.read_bytes() == b"old reply"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([copy.name, reply.name])


@pytest.mark.parametrize("error, replacing, code", [
    (OSError(errno.ENOSPC, "No space left on device"), False, "output-no-space"),
    (OSError(errno.EROFS, "Read-only file system"), False, "output-read-only"),
    (PermissionError(errno.EACCES, "Permission denied"), False, "output-permission"),
    (PermissionError(errno.EACCES, "Access is denied"), True, "output-locked"),
    (OSError(errno.ENAMETOOLONG, "File name too long"), False, "output-path-too-long"),
    (OSError(errno.EIO, "Input/output error"), False, "output-failed"),
    (NotADirectoryError(errno.ENOTDIR, "Not a directory"), False, "output-not-folder"),
])
def test_each_cause_has_its_line(tmp_path, error, replacing, code):
    target = tmp_path / "x.xlsx"
    target.write_bytes(b"")
    made = files.output_error(target, error, replacing=replacing)
    assert made.code == code
    assert made.message.startswith(f"無法寫入「{target}」：") and made.message.endswith("先前的檔案保持不變。")
    assert "請" in made.message and "Error" not in made.message


def test_an_output_folder_under_a_file_is_named_as_typed_in_zh_tw(inbox, tmp_path, monkeypatch, capsys):
    (tmp_path / "afile").write_bytes(b"")
    code, stdout, err = _run_cli(monkeypatch, capsys, *_merge_args(inbox, tmp_path / "afile" / "sub"))
    assert code == 2 and stdout == ""
    assert err.strip() == (f"無法寫入「{tmp_path / 'afile' / 'sub'}」：路徑中有一段是檔案而不是資料夾。"
                           "請確認 --out 指定的是資料夾（不是檔案）、路徑拼寫正確後，再執行一次；先前的檔案保持不變。")


def test_an_error_kept_for_later_holds_nothing_of_the_failed_write(tmp_path):
    """merge keeps a locked workbook's error to report after the feedback: kept alone, it holds no frame of
    the write (whose locals are the merge's rows), and says the same."""
    target = tmp_path / "x.xlsx"

    def write(rows):
        try:
            raise PermissionError(errno.EACCES, "Access is denied", str(target))
        except OSError as exc:
            raise files.output_error(target, exc, replacing=True) from exc

    try:
        write(list(range(10)))
    except files.OutputError as exc:
        caught = exc
    assert caught.__traceback__ is not None and caught.__cause__ is not None
    caught.written, caught.others = [tmp_path / "a.txt"], 2
    kept = caught.alone()
    assert kept.__traceback__ is None and kept.__cause__ is None and kept.__context__ is None
    assert (kept.message, kept.to_dict(), kept.folder_wide) == (caught.message, caught.to_dict(), caught.folder_wide)
    assert "另有 2 個檔案也無法寫入" in kept.message


def test_an_error_no_writer_reported_is_one_line_naming_the_folder(tmp_path):
    stranded = tmp_path / f"{files.TEMP_PREFIX}123-abc.xlsx.tmp"
    line = files.describe(OSError(errno.ENOSPC, "No space left on device", str(stranded)))
    assert line == (f"無法存取「{tmp_path}」：磁碟空間不足。請清出磁碟空間，或以 --out 改存到其他磁碟後，再執行一次。")


# ---------------------------------------------------------------------------------------
# Two runs, one output folder


def test_a_merge_into_a_folder_another_run_is_writing_says_so(inbox, tmp_path):
    out = tmp_path / "outputs"
    with files.folder_lock(out):          # another run, here: this test process
        run = subprocess.run([sys.executable, "-m", "qos_xl", *_merge_args(inbox, out, "--json")], capture_output=True,
                             text=True, timeout=TIMEOUT)
    assert run.returncode == 2
    line = run.stderr.strip()
    assert line == f"另一個 qos-xl（程序 {os.getpid()}）正在寫入「{out}」。請等它結束後再執行一次。"
    assert json.loads(run.stdout)["error"]["code"] == "output-busy"
    assert sorted(p.name for p in out.iterdir()) == []        # nothing written, and the lock is gone with its holder


# ---------------------------------------------------------------------------------------
# The platform's parent-death guarantee, each way it is kept


_ORPHAN = """
import os, subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]], stdout=subprocess.PIPE)
print(child.stdout.readline().decode().strip(), flush=True)
child.wait()
"""
_WORKER = """
import os, sys, time
from qos_xl.core import platform
getattr(platform, sys.argv[1])(os.getppid())
print(os.getpid(), flush=True)
time.sleep(300)
"""


@needs_proc
@pytest.mark.parametrize("way", ["die_with_parent", "watch_parent"])
def test_a_worker_ends_when_its_parent_is_killed(way):
    _child_ends_with_its_parent([sys.executable, "-c", _ORPHAN, _WORKER, way], "worker")


def _child_ends_with_its_parent(parent_command: list[str], what: str, *, settle: float = 0.0) -> None:
    """Start a parent that prints its child's pid, kill the parent, and wait for the child to end too."""
    parent = subprocess.Popen(parent_command, stdout=subprocess.PIPE)
    child = int(parent.stdout.readline())
    try:
        time.sleep(settle)
        assert _live([child]) == [child]
        parent.kill()
        parent.wait(timeout=TIMEOUT)
        _wait_for(lambda: not _live([child]), 15, f"the orphaned {what} to end")
    finally:
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)


_READER_PARENT = """
import json, os, subprocess, sys
fifo = sys.argv[1]
child = subprocess.Popen([sys.executable, "-P", "-m", "qos_xl.intake.isolated"], stdin=subprocess.PIPE)
request = {"path": fifo, "memory": 2**30, "cpu": 300, "max_cells": 10, "max_total_cells": 10, "parent": os.getpid()}
child.stdin.write(json.dumps(request).encode())
child.stdin.close()
print(child.pid, flush=True)
child.wait()
"""


@needs_proc
def test_the_isolated_reader_ends_when_its_worker_is_killed(tmp_path):
    """The .xls/.ods reader child of a killed worker does not live on (here it blocks opening a FIFO)."""
    fifo = tmp_path / "book.xls"
    os.mkfifo(fifo)
    # settle: let it reach the blocking open
    _child_ends_with_its_parent([sys.executable, "-c", _READER_PARENT, str(fifo)], "reader", settle=1.0)
