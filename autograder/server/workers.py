"""Grading worker processes: each takes the next queued job from the store, grades it with
the batch's engine (``batch.grade_safely``: the learner's code runs in the sandbox), records
it in the gradebook and writes its results.json and feedback page, then takes the next.

The web process never grades: a slow or hostile submission holds one worker, never a page.
A worker ends with the server (the kernel tells it when its parent dies); the pool starts a
new one in place of a worker that died, and the job it held goes back to the queue (up to
store.MAX_TRIES times).

A member whose last few attempts each used up their time budget gets a quarter of it for
the next: notebooks that sleep through the budget on purpose hold a worker for the whole
budget a few times, then for a quarter of it; one graded in time gives the full budget back.
"""
from __future__ import annotations

import ctypes
import fcntl
import multiprocessing
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from ..batch import Job, grade_safely, write_results
from ..gradebook import GradebookWriter
from ..sandbox.process import Limits, warm_sandboxes
from ..results import clean_text
from ..suites import SUITES
from .config import ServerConfig
from .store import Attempt, Store

IDLE_SECONDS = 0.2  # how often an idle worker looks at the queue
RESULTS = "results.json"
SLOW_ATTEMPTS = 3  # this many attempts in a row that used up their budget cut the next one's
SLOW_SHARE = 0.9   # of its budget: an attempt that took this much used it up


def results_path(config: ServerConfig, job_id: int) -> Path:
    return config.results / str(job_id) / RESULTS


def _end_with_parent() -> None:
    """Ask Linux to send SIGTERM when the server process dies, even by SIGKILL: an orphaned
    worker would grade a job that the next server puts back in the queue."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the worker notices its new parent between jobs instead


def _stop(signum, frame):
    raise SystemExit(0)  # unwinds the sandbox's context managers, which end its processes


@contextmanager
def _locked(path: Path):
    """One gradebook writer at a time across the workers: SQLite would make the others
    wait, but nbgrader's session does not retry a busy database."""
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def limits_for(store: Store, config: ServerConfig, member: str) -> Limits:
    """The server's limits, with a quarter of the time budget for a member whose last
    SLOW_ATTEMPTS attempts each used it up."""
    recent = store.recent_budget_used(member, SLOW_ATTEMPTS)
    if len(recent) < SLOW_ATTEMPTS or min(recent) < SLOW_SHARE:
        return config.limits
    return replace(config.limits, submission_seconds=config.limits.submission_seconds / 4)


def grade_one(store: Store, config: ServerConfig, gradebook: GradebookWriter,
              attempt: Attempt, server: int) -> None:
    """Grade ``attempt`` and record it, unless the server (process ``server``) has ended."""
    suite = SUITES.get(attempt.assignment)
    if suite is None:
        store.fail(attempt.id, f"the assignment '{attempt.assignment}' is no longer served")
        return
    job = Job(suite, attempt.member, Path(attempt.stored))
    limits = limits_for(store, config, attempt.member)
    started = time.monotonic()
    result, text, page = grade_safely(job, job.fingerprint(), limits, config.isolation)
    if os.getppid() != server:
        # the server died while this was graded: the next one queues the row again, and a
        # result recorded now could race its worker's
        raise SystemExit(0)
    with _locked(config.data / "gradebook.lock"):
        # the gradebook keeps the attempt that counts, whatever order workers end in
        others = [a for a in store.graded_of(attempt) if a.id != attempt.id]
        new = {attempt.id: result.score}
        if config.counting([attempt, *others], lambda a: new.get(a.id, a.score)) is attempt:
            gradebook.record(suite, result)
        write_results(results_path(config, attempt.id), text, page)
        store.finish(attempt.id, result.score, result.max_score,
                     (time.monotonic() - started) / limits.submission_seconds)


def run_worker(config: ServerConfig, parent: int) -> None:
    """A worker's life: grade queued jobs until the server (pid ``parent``) ends.

    The server's pid is given, not read here: a server that died before this line would
    leave ``os.getppid()`` reading 1, and the worker grading on for no one."""
    _end_with_parent()
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which ends us
    store = Store(config.store_path)
    # one warm template per worker, kept for its life: a sandbox forks from it in ~10 ms
    with GradebookWriter(config.db_url) as gradebook, warm_sandboxes():
        while os.getppid() == parent:
            attempt = store.claim(os.getpid())
            if attempt is None:
                time.sleep(IDLE_SECONDS)
                continue
            try:
                grade_one(store, config, gradebook, attempt, parent)
            except Exception as exc:  # noqa: BLE001 - this job fails with the reason, the next goes on
                store.fail(attempt.id, f"the grader failed ({type(exc).__name__}: "
                                       f"{clean_text(exc, 500)}); tell the organizer")


class WorkerPool:
    """``count`` worker processes, kept at that number until ``stop``."""

    def __init__(self, config: ServerConfig, count: int):
        self.config = config
        self.count = count
        self.store = Store(config.store_path)
        self._context = multiprocessing.get_context("spawn")
        self._workers: list = []
        self._stopping = threading.Event()
        self._replacing = threading.Lock()
        self._watcher = threading.Thread(target=self._watch, name="worker-pool", daemon=True)

    def _spawn(self):
        worker = self._context.Process(target=run_worker, args=(self.config, os.getpid()),
                                       name="autograder-worker", daemon=True)
        worker.start()
        return worker

    def start(self) -> None:
        requeued = self.store.requeue_interrupted()
        if requeued:
            print(f"{requeued} submission(s) interrupted by the last shutdown are queued again",
                  file=sys.stderr)
        self._workers = [self._spawn() for _ in range(self.count)]
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            with self._replacing:  # stop() must not miss a worker started meanwhile
                if self._stopping.is_set():
                    return
                for index, worker in enumerate(self._workers):
                    if worker.is_alive():
                        continue
                    self.store.worker_died(worker.pid)
                    print(f"a grading worker ended (exit code {worker.exitcode}); started "
                          f"another", file=sys.stderr)
                    self._workers[index] = self._spawn()

    def stop(self) -> None:
        """End every worker; a job one was grading is queued again, graded at the next start."""
        with self._replacing:
            self._stopping.set()
        for worker in self._workers:
            worker.terminate()
        for worker in self._workers:
            worker.join(10)
            if worker.is_alive():
                worker.kill()
                worker.join()
        self.store.requeue_interrupted()
