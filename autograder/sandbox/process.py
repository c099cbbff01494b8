"""Start the worker in a sandbox, call learner functions through it, and end it.

Isolation comes in two levels, and the level in force is reported with every result:

* ``bubblewrap``: the worker runs under ``bwrap`` in new user, pid, network, IPC and mount
  namespaces. It sees the read-only Python runtime, its own scratch folder and nothing else
  of the file system: not the course, the hidden cases, the reference or the gradebook.
* ``rlimits``: where ``bwrap`` is missing, the worker is a plain child process in its own
  session, started from an empty scratch folder with a scrubbed environment.

Both levels cap memory, CPU time and file size with resource limits (set by the worker on
itself before any learner code runs), and a timeout kills the whole process group: a
worker is never abandoned while it runs. Where a pids cgroup can be made (root on Linux),
it caps the number of processes and ends every process the learner's code started,
detached ones included; under bubblewrap the pid namespace does that too.
"""
from __future__ import annotations

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import wire
from .cgroup import PidsCgroup

HERE = Path(__file__).resolve().parent
# What the worker runs: itself, the wire format, and the checks learners also have.
WORKER_FILES = {"worker.py": HERE / "worker.py", "wire.py": HERE / "wire.py",
                "checks.py": HERE.parent / "kit" / "checks.py"}
SANDBOX_DIR = "/sandbox"
WORKER_DIR = "/worker"


@dataclass(frozen=True)
class Limits:
    """Per-submission limits on the learner's code."""

    call_seconds: float = 10.0   # wall clock for one request (a case, a call, loading cells)
    submission_seconds: float = 120.0  # wall clock for all requests of one submission
    cpu_seconds: int = 120       # CPU time of one worker process
    memory_bytes: int = 2 * 2**30
    output_bytes: int = 16 * 2**20  # what the learner's code may print, and any file it writes
    scratch_bytes: int = 64 * 2**20  # the sandbox's writable folders (bubblewrap only)
    processes: int = 64          # processes and threads of the sandbox's user
    restarts: int = 8            # workers started again after one died, per submission


class LearnerError(Exception):
    """The learner's code raised: ``kind`` is the exception type, ``detail`` its traceback."""

    def __init__(self, kind: str, message: str, detail: str = ""):
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind, self.detail = kind, detail


class SandboxFailure(Exception):
    """The worker died, hung, or broke the protocol: the verdict names which."""


class CaseFailed(Exception):
    """The learner's function raised or returned something unusable while driven by a case."""


def isolation_available() -> str:
    return "bubblewrap" if shutil.which("bwrap") else "rlimits"


def _python_roots() -> list[str]:
    roots = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    return sorted(roots)


def _bwrap_command(scratch: Path, python: str, limits: Limits) -> list[str]:
    # Mount order matters: a tmpfs laid over a path hides the binds made beneath it.
    size = str(limits.scratch_bytes)
    command = ["bwrap", "--size", size, "--tmpfs", "/tmp", "--ro-bind", "/usr", "/usr"]
    for link in ("lib", "lib64", "bin"):
        if os.path.islink(f"/{link}"):
            command += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
        elif os.path.isdir(f"/{link}"):
            command += ["--ro-bind", f"/{link}", f"/{link}"]
    for root in _python_roots():
        command += ["--ro-bind", root, root]
    for name in WORKER_FILES:
        command += ["--ro-bind", str(scratch / name), f"{WORKER_DIR}/{name}"]
    command += ["--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", SANDBOX_DIR,
                "--chdir", SANDBOX_DIR, "--unshare-all", "--die-with-parent", "--new-session",
                "--cap-drop", "ALL", "--clearenv", "--setenv", "HOME", SANDBOX_DIR]
    for key, value in _worker_env().items():
        command += ["--setenv", key, value]
    return command + [python, "-I", f"{WORKER_DIR}/worker.py"]


def _worker_env() -> dict[str, str]:
    # One BLAS thread per worker: the batch already runs one worker per core.
    return {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}


class Sandbox:
    """One learner's answer cells, loaded in a worker that is started again if it dies."""

    def __init__(self, cells: list[tuple[str, str]], prelude: str, limits: Limits = Limits(),
                 isolation: str | None = None):
        self.cells, self.prelude, self.limits = cells, prelude, limits
        self.isolation = isolation or isolation_available()
        self.cell_errors: dict[str, str] = {}
        self.restarts_left = limits.restarts
        self._deadline = time.monotonic() + limits.submission_seconds
        self._skipped: set[int] = set()  # cells that hung or killed the worker while loading
        self._proc: subprocess.Popen | None = None
        self._scratch = Path(tempfile.mkdtemp(prefix="learner-"))
        for name, path in WORKER_FILES.items():
            shutil.copy(path, self._scratch / name)
        self._cgroup = PidsCgroup.create(limits.processes)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> list[str]:
        """Start a worker and load the cells one by one; returns the grade_ids that define
        a function. ``cell_errors`` then holds {grade_id: why} for cells that failed.

        A cell that hangs or ends the worker while it loads is left out, and the worker is
        started again without it: only that cell's function pays.
        """
        while True:
            self._launch()
            self._request({"op": "prelude", "source": self.prelude}, what="the notebook's imports")
            for index, (grade_id, source) in enumerate(self.cells):
                if index in self._skipped:
                    continue
                try:
                    reply = self._request({"op": "cell", "grade_id": grade_id, "source": source},
                                          what=f"loading answer cell '{grade_id}'")
                except SandboxFailure as exc:
                    self._skipped.add(index)
                    self.cell_errors[grade_id] = str(exc)
                    break
                if reply.get("error") is None:
                    self.cell_errors.pop(grade_id, None)
                else:
                    self.cell_errors[grade_id] = str(reply["error"])
            else:
                names = sorted({grade_id for grade_id, _ in self.cells})
                reply = self._request({"op": "defined", "names": names}, what="loading the cells")
                defined = reply.get("defined")
                if not isinstance(defined, list):
                    self._fail("the worker sent a malformed reply while loading the cells")
                return [str(name) for name in defined if name in names]

    def _launch(self) -> None:
        self._discard_worker()
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        limits = self.limits
        if self.isolation == "bubblewrap":
            command = _bwrap_command(self._scratch, sys.executable, limits)
            env = {}
        else:
            command = [os.path.realpath(sys.executable), "-I", str(self._scratch / "worker.py")]
            env = {"HOME": str(self._scratch), **_worker_env()}
        command += [str(to_worker_r), str(from_worker_w), str(limits.memory_bytes),
                    str(limits.cpu_seconds), str(limits.output_bytes), str(limits.processes)]
        if self._cgroup is not None:
            command = self._cgroup.wrap(command)
        log = open(self._scratch / "output.log", "wb")
        try:
            self._proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self._scratch, env=env, pass_fds=(to_worker_r, from_worker_w),
                start_new_session=True)
        finally:
            log.close()
            os.close(to_worker_r)
            os.close(from_worker_w)
        self._to_worker = os.fdopen(to_worker_w, "wb")
        self._from_worker = from_worker_r

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def end_worker(self) -> None:
        """End the worker and everything it started; the next request starts a new one."""
        if self._proc is not None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._proc.wait()
        if self._cgroup is not None:
            self._cgroup.kill()  # detached processes too, where the process group missed them

    def _discard_worker(self) -> None:
        if self._proc is not None:
            self.end_worker()
            self._to_worker.close()
            os.close(self._from_worker)
            self._proc = None

    def close(self) -> None:
        self._discard_worker()
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests ----------------------------------------------------------------------

    def _ask(self, body: dict, what: str) -> dict:
        """Send a request to a live worker (starting one if needed) and check the reply."""
        if not self.alive():
            if self._proc is not None:
                if self.restarts_left <= 0:
                    raise SandboxFailure("the learner's process died too often; no more "
                                         "calls are made for this submission")
                self.restarts_left -= 1
            self.start()
        reply = self._request(body, what=what)
        if not ({"result", "error", "trace", "failed"} & set(reply)):
            self._fail(f"the worker sent a malformed reply to {what}")
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            raise LearnerError(str(error.get("type", "Error")), str(error.get("message", "")),
                               str(error.get("traceback", "")))
        return reply

    def call(self, name: str, *args):
        """Call the learner's ``name(*args)``; raises LearnerError or SandboxFailure.

        Like a local call, changes the function makes to a dict argument are seen by the
        caller afterwards (arrays changed in place are not copied back).
        """
        reply = self._ask({"op": "call", "fn": name, "args": list(args)},
                          what=f"the call to {name}()")
        changed = reply.get("dicts")
        for index, arg in enumerate(args):
            if isinstance(arg, dict) and isinstance(changed, dict) and \
                    isinstance(changed.get(str(index)), dict):
                arg.clear()
                arg.update(changed[str(index)])
        return reply.get("result")

    def run_case(self, name: str, case: dict) -> list[dict]:
        """The trace of the learner's ``name`` driven through ``case`` inside the sandbox.

        Raises CaseFailed when the learner's function raised or returned something the
        case cannot use, LearnerError when it is not defined, SandboxFailure when the
        worker died or hung. The trace is plain data: the caller compares it.
        """
        reply = self._ask({"op": "case", "fn": name, "case": case}, what=f"{name}() on a case")
        if "failed" in reply:
            raise CaseFailed(str(reply["failed"]))
        if not isinstance(reply.get("trace"), list):
            self._fail(f"the worker sent a malformed trace for {name}()")
        return reply["trace"]

    def _fail(self, reason: str):
        output = self._output_tail()
        self.end_worker()
        raise SandboxFailure(reason + (f"; its last output: {output}" if output else ""))

    def _output_tail(self, limit: int = 600) -> str:
        try:
            with open(self._scratch / "output.log", "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - limit))
                return f.read().decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def _request(self, body, what: str) -> dict:
        if time.monotonic() >= self._deadline:
            self._fail(f"the submission used up its {self.limits.submission_seconds:g} s of "
                       f"grading time before {what}")
        try:
            self._to_worker.write(wire.pack(body))
            self._to_worker.flush()
        except OSError:
            self._fail(self._death(what))
        deadline = min(time.monotonic() + self.limits.call_seconds, self._deadline)
        try:
            reply = wire.read_message(lambda n: self._read_exact(n, deadline, what))
        except wire.WireError as exc:
            self._fail(f"the worker broke the protocol during {what}: {exc}")
        if not isinstance(reply, dict):
            self._fail(f"the worker sent a malformed reply to {what}")
        return reply

    def _read_exact(self, n: int, deadline: float, what: str) -> bytes:
        chunks, remaining = [], n
        with selectors.DefaultSelector() as selector:
            selector.register(self._from_worker, selectors.EVENT_READ)
            while remaining:
                timeout = deadline - time.monotonic()
                if timeout <= 0 or not selector.select(timeout):
                    if deadline >= self._deadline:
                        self._fail(f"the submission used up its "
                                   f"{self.limits.submission_seconds:g} s of grading time "
                                   f"during {what}")
                    self._fail(f"{what} took longer than {self.limits.call_seconds:g} s "
                               f"and was stopped")
                chunk = os.read(self._from_worker, min(remaining, 1 << 20))
                if not chunk:
                    self._fail(self._death(what))
                chunks.append(chunk)
                remaining -= len(chunk)
        return b"".join(chunks)

    def _death(self, what: str) -> str:
        try:
            code = self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return f"the learner's code closed the connection to the grader during {what}"
        # bubblewrap reports a child ended by signal N as exit status 128 + N
        signum = -code if code < 0 else code - 128 if self.isolation == "bubblewrap" and \
            code > 128 else None
        if signum in {s.value for s in signal.Signals}:
            name = signal.Signals(signum).name
            reason = {"SIGKILL": "was killed (memory or CPU limit)",
                      "SIGXCPU": "ran out of CPU time", "SIGXFSZ": "wrote too much output",
                      "SIGSEGV": "crashed (segmentation fault)",
                      "SIGABRT": "aborted"}.get(name, f"was ended by {name}")
            return f"the learner's process {reason} during {what}"
        return f"the learner's process exited (status {code}) during {what}"
