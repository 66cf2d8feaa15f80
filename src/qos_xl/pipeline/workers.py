"""Worker processes for the long steps: a dead worker costs one task, never the run, and no worker outlives the run.

``WorkerPool`` hands each worker a task or two at a time over its own pipe, so when a worker
dies (a reader library aborting the process on a hostile file, the system killing it for
memory) the pool knows which task it was on: that task is tried once more in a fresh worker,
then comes back as ``crashed``; every other task goes on.  Workers end with their parent
however it ends (``platform.die_with_parent``), ignore Ctrl-C (the main process decides),
and the pool stops them on every way out of its ``with`` block.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import os
import queue
import threading
from dataclasses import dataclass, field
from multiprocessing import connection
from typing import Callable, Iterable, Iterator

from qos_xl.core import interrupt, platform

IN_FLIGHT = 2          # tasks queued at a worker: it never waits for the next, and a death is pinned on one task
RETRIES = 1            # a task whose worker died is tried this many more times before it counts as crashed
STOP_SECONDS = 5.0     # how long a finished worker gets to exit before it is terminated
WAIT_SECONDS = 0.5     # the main thread checks this often that the pool still runs (and sees Ctrl-C on Windows)


@dataclass
class Outcome:
    """What became of one task: its value, the exception it raised, or ``crashed`` (its worker died on it)."""

    index: int
    value: object = None
    error: BaseException | None = None
    crashed: bool = False


@dataclass
class _Worker:
    process: object
    conn: connection.Connection
    tasks: collections.deque = field(default_factory=collections.deque)   # (index, item, tries) sent, oldest first


def _serve(conn, func: Callable, parent_pid: int) -> None:
    """A worker's life: tasks in, outcomes out, until told to stop or the parent is gone."""
    platform.quiet_worker_signals()
    platform.die_with_parent(parent_pid)
    gc.enable()           # a forked worker inherits the qos-xl process's paused collector: it serves many tasks
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        index, item = task
        try:
            answer = ("ok", index, func(item))
        except Exception as exc:  # noqa: BLE001 - the task's exception goes back to the caller
            answer = ("error", index, exc)
        try:
            conn.send(answer)
        except (EOFError, OSError):
            return
        except Exception as exc:  # noqa: BLE001 - an answer that cannot be pickled
            conn.send(("error", index, RuntimeError(f"{type(exc).__name__}: {exc}")))


class WorkerPool:
    """Run ``func`` over ``items`` in ``jobs`` worker processes; ``outcomes()`` yields each as it completes.

    ``context``: a multiprocessing context for the first workers (default: the platform's);
    workers replacing dead ones always start fresh ("spawn"), as they are started from the
    pool's thread.
    """

    def __init__(self, func: Callable, items: Iterable, jobs: int, *, context=None):
        import multiprocessing

        self._func = func
        self._context = context or multiprocessing.get_context()
        self._parent = os.getpid()
        self._todo = collections.deque((index, item, 0) for index, item in enumerate(items))
        self.total = len(self._todo)
        self._left = self.total
        self._jobs = max(1, min(jobs, self.total))
        self._outcomes: queue.Queue = queue.Queue()
        self._stopping = threading.Event()
        self._wake_r, self._wake_w = multiprocessing.Pipe(duplex=False)
        self._workers: list[_Worker] = []
        self._closed = False
        try:
            for _ in range(self._jobs):
                self._start(self._context)
        except BaseException:
            self.close(cancel=True)
            raise
        self._thread = threading.Thread(target=self._dispatch, name="qos-xl-pool", daemon=True)
        self._thread.start()

    # -- the caller's side ---------------------------------------------------------------

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        self.close(cancel=kind is not None)

    def outcomes(self) -> Iterator[Outcome]:
        """Each task's ``Outcome``, in the order they complete."""
        for _ in range(self.total):
            while True:
                try:
                    item = self._outcomes.get(timeout=WAIT_SECONDS)
                    break
                except queue.Empty:
                    if not self._thread.is_alive() and self._outcomes.empty():
                        raise RuntimeError("worker pool stopped before every task was done") from None
            if isinstance(item, BaseException):
                raise item
            yield item

    def close(self, cancel: bool = False) -> None:
        """Stop the workers: let them finish and exit, or (``cancel``) end them now."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send_bytes(b"stop")
        thread = getattr(self, "_thread", None)
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=STOP_SECONDS)
        workers = list(self._workers)
        for worker in workers:
            if not cancel:
                with contextlib.suppress(OSError, ValueError):
                    worker.conn.send(None)
            else:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    worker.process.terminate()
        for worker in workers:
            worker.process.join(timeout=STOP_SECONDS if not cancel else 1.0)
            if worker.process.is_alive():
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    worker.process.kill()
                worker.process.join(timeout=STOP_SECONDS)
            with contextlib.suppress(OSError):
                worker.conn.close()
        for end in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                end.close()

    # -- the pool's thread ---------------------------------------------------------------

    def _start(self, context) -> None:
        """Start a worker and count it in; a stopping signal waits until it is counted (so it is stopped too)."""
        mine, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs, self._func, self._parent), daemon=True,
                                  name="qos-xl-worker")
        if os.name == "posix" and context.get_start_method() != "fork":
            # a fresh worker brings up multiprocessing's resource tracker once, which unblocks Ctrl-C and
            # SIGTERM as it starts: have it running before they are held back for the worker
            from multiprocessing import resource_tracker

            resource_tracker.ensure_running()
        # In the main thread, Ctrl-C or SIGTERM is held back until the worker is started and counted: cut
        # short, ``start`` would leave it reading half its start-up data (a traceback of its own on stderr).
        in_main = threading.current_thread() is threading.main_thread()
        with interrupt.held() if in_main else contextlib.nullcontext():
            with platform.worker_signals_held():     # no signal reaches it before it has its own handling
                process.start()
            theirs.close()          # only the worker holds its end: its death reads as end-of-file here
            self._workers.append(_Worker(process, mine))

    def _dispatch(self) -> None:
        try:
            self._feed()
            while self._left and not self._stopping.is_set():
                by_conn = {worker.conn: worker for worker in self._workers}
                for ready in connection.wait([*by_conn, self._wake_r]):
                    if ready is self._wake_r:
                        continue
                    worker = by_conn[ready]
                    try:
                        answer = ready.recv()
                    except (EOFError, OSError):
                        self._lost(worker)
                        continue
                    self._answered(worker, answer)
                if not self._stopping.is_set():
                    self._feed()
        except BaseException as exc:  # noqa: BLE001 - the caller must hear of it, not wait forever
            self._outcomes.put(exc)

    def _feed(self) -> None:
        for worker in list(self._workers):
            while self._todo and len(worker.tasks) < IN_FLIGHT:
                task = self._todo.popleft()
                worker.tasks.append(task)
                try:
                    worker.conn.send((task[0], task[1]))
                except (OSError, ValueError):
                    worker.tasks.pop()
                    self._todo.appendleft(task)
                    self._lost(worker)
                    break

    def _answered(self, worker: _Worker, answer: tuple) -> None:
        kind, index, payload = answer
        task = worker.tasks.popleft()
        assert task[0] == index, "a worker answers its tasks in order"
        self._left -= 1
        self._outcomes.put(Outcome(index, value=payload) if kind == "ok" else Outcome(index, error=payload))

    def _lost(self, worker: _Worker) -> None:
        """A worker died: its current task is tried again or crashed, the others go back to the queue."""
        self._workers.remove(worker)
        worker.process.join(timeout=STOP_SECONDS)
        with contextlib.suppress(OSError):
            worker.conn.close()
        tasks = list(worker.tasks)
        if tasks:
            index, item, tries = tasks[0]
            for task in reversed(tasks[1:]):
                self._todo.appendleft(task)
            if tries < RETRIES:
                self._todo.appendleft((index, item, tries + 1))
            else:
                self._left -= 1
                self._outcomes.put(Outcome(index, crashed=True))
        # no replacement once the run is stopping, or a signal is on its way to stop it: a worker spawned in that
        # moment would find its parent gone while it reads its start-up data (and print a traceback of its own)
        if self._todo and len(self._workers) < self._jobs and not self._stopping.is_set() and not interrupt.requested():
            self._start(platform.spawn_context())

