"""Grading processes: a batch's submissions graded side by side on every core.

The grader's own share of a submission (comparing traces, diagnosing, drawing the page) is
Python; in threads of one process it queues for the interpreter's lock, which a batch held
most of the time with two threads. Each grading process here is forked from the batch's
process before it opens the gradebook or starts a thread, grades one submission at a time
in sandboxes forked from a warm template of its own, and sends back the result, the text
of its results.json and its page; the batch's process only records them.

A grading process that dies (a bug of the grader's, or something killing it) costs no
learner a grade: the submissions it may have been grading are graded again, each alone in
a new process, and one that ends a process alone too is recorded as the grader's failure
(graded again by the next run). Ctrl-C: the batch's process alone sees it (the grading
processes ignore SIGINT); ``stop`` ends them with SIGTERM, which unwinds the submission
being graded, so its sandbox is ended and removed, and they are killed if they linger. When
the batch's process is killed, the kernel kills them. (The pool must live in the thread that
made it: the kernel sends that signal when the thread ends.)
"""
from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import multiprocessing.util
import os
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import EXTRA_QUEUED_CALLS, BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator, TypeVar

from .sandbox.cgroup import remove_owned
from .sandbox.process import SCRATCH_PREFIX, Limits, kill_template, warm_sandboxes
from .suite import Suite

Item = TypeVar("Item")
STOP_SECONDS = 10.0
PR_SET_PDEATHSIG = 1

_state: dict = {}  # in a grading process: what every submission is graded with


def _start(parent: int, suites: list[Suite], limits: Limits, isolation: str | None,
           hidden_from: datetime | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_stop)
    # killed with the batch's process when that is killed (Ctrl-C and SIGTERM stop them in
    # order): else it would grade on for no one, its template holding root's capabilities.
    # Its template and sandboxes die with it; the next grader removes their folders and
    # cgroups. Not SIGTERM: sending a result to a batch that is gone can block for good.
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it ended before the request was made
        os._exit(0)
    warm = contextlib.ExitStack()
    warm.enter_context(warm_sandboxes())
    # multiprocessing ends its processes with os._exit: its finalizers run, atexit's do not
    multiprocessing.util.Finalize(None, warm.close, exitpriority=10)
    _state.update(suites={suite.assignment: suite for suite in suites}, limits=limits,
                  isolation=isolation, hidden_from=hidden_from, grading=False, warm=warm)


def _on_stop(signum, frame) -> None:
    """SIGTERM. Grading: unwind, so the submission's sandbox is ended as the stack unwinds
    (then _grade ends the process). Otherwise exit at once: the process may be sending a
    result no one will read, or starting its template under a lock a cleanup would take.
    Once: a second SIGTERM (the pool's own shutdown sends one too) must not cut the first's
    cleanup short."""
    if _state.get("stopping"):
        return
    _state["stopping"] = True
    if _state.get("grading"):
        raise KeyboardInterrupt
    kill_template()
    _end(0, clean=False)


def _end(status: int, clean: bool = True) -> None:
    """Exit now, the warm template ended (``clean``) and this process's scratch folders and
    cgroups removed."""
    if clean and "warm" in _state:
        _state["warm"].close()
    # what a sandbox cut short while being made could not remove itself
    for scratch in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}{os.getpid()}-*"):
        shutil.rmtree(scratch, ignore_errors=True)
    remove_owned(os.getpid())
    os._exit(status)


def _grade(grade: Callable, assignment: str, *args):
    _state["grading"] = True
    try:
        return grade(_state["suites"][assignment], *args, _state["limits"],
                     _state["isolation"], _state["hidden_from"])
    except KeyboardInterrupt:
        _end(130)
    finally:
        _state["grading"] = False


class GradingPool:
    """``processes`` grading processes; ``results`` yields the items with what ``grade``
    returned for them, as they are done: all those done at once together."""

    def __init__(self, grade: Callable, suites: list[Suite], limits: Limits,
                 isolation: str | None, hidden_from: datetime | None, processes: int):
        self.grade, self.processes = grade, max(1, processes)
        self._setup = (os.getpid(), suites, limits, isolation, hidden_from)
        # forked now, before the batch opens the gradebook or starts a thread
        self._pool, self._width = self._new_pool(self.processes), self.processes

    def _new_pool(self, processes: int) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(processes, multiprocessing.get_context("fork"),
                                   initializer=_start, initargs=self._setup)
        pool.submit(int)  # forks them all now: they start their templates meanwhile
        return pool

    def results(self, items: list[Item], key: Callable[[Item], tuple],
                failed: Callable[[Item, str], object]
                ) -> Iterator[list[tuple[Item, object]]]:
        """Lists of (item, grade(suite, *key(item)[1:], limits, isolation, hidden_from)), each
        item once, as they are done, ``key(item)[0]`` naming the suite's assignment;
        ``failed(item, why)`` stands for the result of an item the grader could not grade."""
        todo, suspects = list(items), []
        while todo or suspects:
            width = self.processes if todo else 1
            given = todo or [suspects.pop(0)]  # one at a time: a death then names its cause
            if self._pool is None or self._width != width:
                self.close()
                self._pool, self._width = self._new_pool(width), width
            cut = yield from self._round(given, key, failed)
            if not cut:  # all given were graded (todo, or else one suspect while todo is empty)
                todo = []
                continue
            self.close()  # a process died: the pool is broken
            if width == 1:
                yield [(cut[0], failed(cut[0], "its grading process ended while grading it, "
                                               "alone, after it had ended one with others"))]
                continue
            # the pool takes items in order: those it may have been grading come first
            in_flight = width + EXTRA_QUEUED_CALLS
            suspects, todo = suspects + cut[:in_flight], cut[in_flight:]

    def _round(self, given: list[Item], key, failed) -> Iterator[list[tuple[Item, object]]]:
        """Grade ``given`` on the pool; returns the items left ungraded when one of its
        processes died, in the order they were given."""
        futures = {self._pool.submit(_grade, self.grade, *key(item)): item for item in given}
        cut, pending = [], set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            ready = []
            for future in done:
                item = futures[future]
                try:
                    ready.append((item, future.result()))
                except BrokenProcessPool:
                    cut.append(item)
                except Exception as exc:  # e.g. a result that could not be sent back
                    ready.append((item, failed(item, f"{type(exc).__name__}: {exc}")))
            if ready:
                yield ready
        order = list(futures.values())
        return sorted(cut, key=order.index)

    def stop(self) -> None:
        """End the grading processes (Ctrl-C): queued submissions are dropped, those being
        graded are unwound, and processes still there after STOP_SECONDS are killed. A second
        Ctrl-C meanwhile is ignored: cutting this short would leave a process waiting for
        ever to send a result no one reads."""
        ignoring = threading.current_thread() is threading.main_thread()
        if ignoring:
            before = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None  # closing it would wait for what this ends
            children = multiprocessing.active_children()
            for child in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_SECONDS
            for child in children:
                child.join(max(0.0, deadline - time.monotonic()))
                if child.is_alive():
                    child.kill()
                    child.join(1)
        finally:
            if ignoring:
                signal.signal(signal.SIGINT, before)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def __enter__(self) -> "GradingPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
