"""Start the worker in a sandbox, call learner functions through it, and end it.

Isolation comes in two levels, and the level in force is reported with every result:

* ``bubblewrap``: the worker runs under ``bwrap`` in new pid, network, IPC, UTS and mount
  namespaces. It sees the read-only Python runtime, its own sized scratch folders and
  nothing else of the file system: not the course, the hidden cases, the reference or the
  gradebook. Started by root, it runs as an unprivileged uid of its own, outside any user
  namespace, with no capabilities: so no host-wide setting under ``/proc/sys`` is writable
  from it, and no other sandbox's processes are its own. (In a user namespace, root inside
  would be the host's root to every file owned by root.) Started by anyone else, bubblewrap
  makes a user namespace as usual and the worker runs as that user. A seccomp filter
  (seccomp.py) keeps it from making user namespaces of its own.
* ``rlimits``: where ``bwrap`` is missing, the worker is a plain child process in its own
  session, started from an empty scratch folder with a scrubbed environment.

Started by root with a cgroup at hand, bubblewrap's workers are forked warm from a template
that imported numpy and the checks once (template.py, zygote.py): each in new mount, pid,
network, IPC, UTS and cgroup namespaces of its own, with its own uid, fresh sized tmpfs
folders, /proc and /dev/pts, its loopback up, no capabilities, no new privileges and the
same seccomp filter, in its own cgroup; the worker then sees the environment, signal
handlers and dumpable flag a cold one does. Elsewhere each worker starts cold, as above.

Both levels cap memory, CPU time and file size with resource limits (set by the worker on
itself before any learner code runs), and a timeout kills the whole process group: a
worker is never abandoned while it runs. Where a cgroup can be made (root on Linux), it
caps the number of processes and the memory of the whole sandbox, tmpfs pages included,
and ends every process the learner's code started, detached ones included; under
bubblewrap the pid namespace does that too.

The grader never waits on the worker without a deadline: every write of a request and
every read of a reply has one (the case's, and the submission's), and so has ending a
worker; no worker is started once the submission's time is up. Whatever the worker prints
is drained while the grader waits, keeping the first and last lines for the feedback, so
printing can neither stall a request nor cost marks.
"""
from __future__ import annotations

import contextlib
import functools
import os
import pwd
import random
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..kit.checks import cut_text
from . import seccomp, wire
from .cgroup import SandboxCgroup, owner_gone
from .template import SELF_CHECK_SECONDS, ForkedWorker, Template, answers, spawn_request

HERE = Path(__file__).resolve().parent
# What the worker runs: itself, the wire format, and the checks learners also have.
WORKER_FILES = {"worker.py": HERE / "worker.py", "wire.py": HERE / "wire.py",
                "checks.py": HERE.parent / "kit" / "checks.py", "zygote.py": HERE / "zygote.py"}
SANDBOX_DIR = "/sandbox"
WORKER_DIR = "/worker"
SCRATCH_PREFIX = "learner-"
# Sandboxes started by root run as a uid of this range that no account holds, a new one
# each: processes of one sandbox can then neither signal nor count against another's.
SANDBOX_UIDS = range(1_900_000_000, 1_999_000_000)
SETPRIV = "/usr/bin/setpriv"
# What a submission's text fields may hold: the grader cuts what a forged reply sends.
MAX_TEXT = 4000
OUTPUT_KEPT = 4096  # bytes of the learner's printed output kept from its start and its end
END_SECONDS = 10.0  # how long a worker is killed again and waited for before it is given up


@dataclass(frozen=True)
class Limits:
    """Per-submission limits on the learner's code."""

    call_seconds: float = 10.0   # wall clock for one request (a case, a call, loading cells)
    submission_seconds: float = 120.0  # wall clock for all requests of one submission
    cpu_seconds: int = 120       # CPU time of one worker process
    memory_bytes: int = 2 * 2**30
    output_bytes: int = 16 * 2**20  # the largest file the learner's code may write
    scratch_bytes: int = 64 * 2**20  # each writable folder: /sandbox and /tmp (bubblewrap)
    shm_bytes: int = 16 * 2**20  # /dev/shm (bubblewrap)
    processes: int = 64          # processes and threads of the sandbox
    restarts: int = 8            # workers started again after one died, per submission

    @property
    def sandbox_memory(self) -> int:
        """The memory cgroup's cap: the process's, plus every tmpfs it could fill."""
        return self.memory_bytes + 2 * self.scratch_bytes + self.shm_bytes + 64 * 2**20


class LearnerError(Exception):
    """The learner's code raised: ``kind`` is the exception type, ``detail`` its traceback."""

    def __init__(self, kind: str, message: str, detail: str = ""):
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind, self.detail = kind, detail


class SandboxFailure(Exception):
    """The worker died, hung, or broke the protocol: the verdict names which."""


class SandboxTimeout(SandboxFailure):
    """A request ran past its own deadline (not the submission's)."""


class TemplateEnded(RuntimeError):
    """The warm template ended while a sandbox forked from it worked (killed from outside):
    every sandbox inside it ended with it. The grader's failure, not the learner's: the
    submission is graded again by the next run."""


class CaseFailed(Exception):
    """The learner's function raised or returned something unusable while driven by a case."""


def _runs_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@functools.cache  # a walk of PATH, for every sandbox made otherwise
def isolation_available() -> str:
    if shutil.which("bwrap") and (not _runs_as_root() or os.access(SETPRIV, os.X_OK)):
        return "bubblewrap"
    return "rlimits"


def _text(value, limit: int = MAX_TEXT) -> str:
    """A text from the worker (plain data), cut to ``limit`` characters: replies may be
    forged."""
    return cut_text(value if isinstance(value, str) else str(value), limit)


def _python_roots() -> list[str]:
    roots = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    return sorted(roots)


def _ro_bind(path: str) -> list[str]:
    """Bind ``path`` read-only, its parent folders made readable: bubblewrap would make
    them 0700, which shuts out the sandbox's unprivileged uid (a runtime under /root)."""
    parents = [str(p) for p in reversed(Path(path).parents) if str(p) != "/"]
    return [a for parent in parents for a in ("--dir", parent)] + ["--ro-bind", path, path]


def _sandbox_uid() -> int:
    while True:
        uid = random.choice(SANDBOX_UIDS)
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid


def _bwrap_view(scratch: Path, limits: Limits) -> list[str]:
    """bubblewrap's options for what the worker sees: the runtime read-only, the worker's
    files, sized writable folders, and an environment of its own."""
    # Mount order matters: a tmpfs laid over a path hides the binds made beneath it (the
    # runtime may live under /tmp), so the writable folders come first, the read-only
    # remounts last.
    command = ["bwrap"]
    for folder, size in ((SANDBOX_DIR, limits.scratch_bytes), ("/tmp", limits.scratch_bytes)):
        command += ["--perms", "1777", "--size", str(size), "--tmpfs", folder]
    command += ["--ro-bind", "/usr", "/usr"]
    for link in ("lib", "lib64", "bin"):
        if os.path.islink(f"/{link}"):
            command += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
        elif os.path.isdir(f"/{link}"):
            command += ["--ro-bind", f"/{link}", f"/{link}"]
    for root in _python_roots():
        command += _ro_bind(root)
    command += ["--dir", WORKER_DIR]
    for name in WORKER_FILES:
        command += ["--ro-bind", str(scratch / name), f"{WORKER_DIR}/{name}"]
    command += ["--proc", "/proc", "--dev", "/dev",
                "--perms", "1777", "--size", str(limits.shm_bytes), "--tmpfs", "/dev/shm"]
    command += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", SANDBOX_DIR,
                "--die-with-parent", "--new-session", "--clearenv", "--setenv", "HOME", SANDBOX_DIR]
    for key, value in _worker_env().items():
        command += ["--setenv", key, value]
    return command


def _bwrap_command(scratch: Path, python: str, limits: Limits, uid: int | None,
                   seccomp_fd: int | None = None) -> list[str]:
    command = _bwrap_view(scratch, limits)
    if seccomp_fd is not None:
        command += ["--seccomp", str(seccomp_fd)]
    if uid is None:
        return command + ["--unshare-all", "--cap-drop", "ALL", python, "-I",
                          f"{WORKER_DIR}/worker.py"]
    # Root: no user namespace, and the only capabilities kept are those setpriv needs to
    # become the sandbox's own uid, which clears them all.
    command += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--cap-drop", "ALL"]
    for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"):
        command += ["--cap-add", cap]
    return command + [SETPRIV, f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                      "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
                      python, "-I", f"{WORKER_DIR}/worker.py"]


def _worker_env() -> dict[str, str]:
    # One BLAS thread per worker: the batch already runs one worker per core.
    return {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}


def cold_python_command(scratch: Path, code: str) -> list[str]:
    """``python -c code`` as a cold bubblewrap sandbox runs its worker (the same view, uid and
    restrictions), or plainly where bubblewrap is not available: the floor of grading speed."""
    if isolation_available() != "bubblewrap":
        return [sys.executable, "-I", "-c", code]
    uid = _sandbox_uid() if _runs_as_root() else None
    return _bwrap_command(scratch, sys.executable, Limits(), uid)[:-1] + ["-c", code]


def _template_command(scratch: Path, python: str) -> list[str]:
    """The warm template under bubblewrap: the worker's view, in its own pid, network, IPC
    and UTS namespaces, root with only the capabilities that build a sandbox (zygote.py),
    CAP_NET_ADMIN for the loopback of each sandbox's network namespace."""
    command = _bwrap_view(scratch, Limits()) + [
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--cap-drop", "ALL"]
    for cap in ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_NET_ADMIN"):
        command += ["--cap-add", cap]
    return command + [python, "-I", f"{WORKER_DIR}/zygote.py"]


def new_scratch() -> Path:
    """A folder holding a copy of the worker's files, readable by the sandbox's uid."""
    sweep_stale_scratch()
    scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    os.chmod(scratch, 0o755)
    for name, path in WORKER_FILES.items():
        shutil.copyfile(path, scratch / name)
        os.chmod(scratch / name, 0o644)
    return scratch


class _Warm:
    """The grader's one template, shared by the sandboxes and batches that use it, and ended
    when the last of them is done: a grader leaves no process behind between batches."""

    lock = threading.Lock()
    template: Template | None = None
    users = 0
    unavailable = False  # it could not start here: not tried again


def acquire_template(start: bool = True) -> Template | None:
    """The warm template, started on first use (again if it died) unless ``start`` is
    False, or None where it cannot hold every guarantee of the cold bubblewrap level
    (template.py says which). Each call that returns one is matched by
    :func:`release_template`."""
    with _Warm.lock:
        if _Warm.template is not None and not _Warm.template.alive():
            _Warm.template.close()  # ended from outside: its sandboxes ended with it
            _Warm.template = None
        if _Warm.template is None and start and not _Warm.unavailable:
            _Warm.template = _start_template()
            _Warm.unavailable = _Warm.template is None
        if _Warm.template is not None:
            _Warm.users += 1
        return _Warm.template


def release_template() -> None:
    with _Warm.lock:
        _Warm.users -= 1
        if not _Warm.users and _Warm.template is not None:
            _Warm.template.close()
            _Warm.template = None


def kill_template() -> None:
    """End the warm template at once, with every sandbox forked from it, without taking its
    lock: for a signal handler, which may have interrupted the lock's holder."""
    template = _Warm.template
    if template is not None:
        template.kill()


@contextlib.contextmanager
def warm_sandboxes() -> Iterator[None]:
    """Sandboxes made inside are forked from the warm template, kept running until the
    last such block ends. Outside any, a sandbox starts cold: for a single submission,
    starting the template costs more than it saves."""
    template = acquire_template()
    try:
        yield
    finally:
        if template is not None:
            release_template()


def _start_template() -> Template | None:
    """A template that answered its self-check, or None: not root, no bubblewrap, no cgroup,
    or a runtime beneath a folder each sandbox mounts afresh (it would be hidden)."""
    if isolation_available() != "bubblewrap" or not _runs_as_root() or any(
            Path(root).is_relative_to(folder) for root in _python_roots()
            for folder in ("/tmp", "/dev/shm", SANDBOX_DIR, WORKER_DIR)):
        return None
    limits = Limits()
    cgroup = SandboxCgroup.create(limits.processes, limits.sandbox_memory)
    if cgroup is None:
        return None
    scratch = new_scratch()
    try:
        template = Template(_template_command(scratch, sys.executable), scratch)
    except OSError:
        cgroup.remove()
        shutil.rmtree(scratch, ignore_errors=True)
        return None
    ours, theirs = [os.pipe(), os.pipe(), os.pipe()], []
    worker = None
    try:
        (to_worker_r, to_worker_w), (from_worker_r, from_worker_w), (output_r, output_w) = ours
        theirs = [to_worker_r, from_worker_w, output_w]
        worker = template.spawn(tuple(theirs), spawn_request(limits, _sandbox_uid()), cgroup)
        for fd in theirs:
            os.close(fd)
        theirs = []
        answered = answers(worker, to_worker_w, from_worker_r, SELF_CHECK_SECONDS)
    except OSError:
        answered = False
    finally:
        cgroup.remove()  # ends the worker
        for fd in theirs + [to_worker_w, from_worker_r, output_r]:
            os.close(fd)
    if worker is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.wait(END_SECONDS)
    if not answered:
        template.close()
        return None
    return template


@functools.cache
def sweep_stale_scratch() -> None:
    """Remove the scratch folders of graders that were killed (named after their pid);
    once per grader process."""
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        if owner_gone(path.name, SCRATCH_PREFIX):
            shutil.rmtree(path, ignore_errors=True)


class Output:
    """What the learner's code printed: the first and last bytes kept, the rest counted."""

    def __init__(self, kept: int = OUTPUT_KEPT):
        self.kept, self.total = kept, 0
        self.head, self.tail = bytearray(), bytearray()

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        room = self.kept - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        del self.tail[:-self.kept]

    def last(self, limit: int = 600) -> str:
        return bytes((self.head + self.tail)[-limit:]).decode("utf-8", "replace").strip()

    def report(self) -> str | None:
        """The first and last lines, or None when nothing was printed."""
        if not self.total:
            return None
        head = bytes(self.head).decode("utf-8", "replace")
        cut = self.total - len(self.head) - len(self.tail)
        tail = bytes(self.tail).decode("utf-8", "replace")
        if not cut:
            return f"Your code printed {self.total} bytes:\n{head}{tail}"
        return (f"Your code printed {self.total / 2**20:.1f} MiB; its start and its end:\n"
                f"{head}\n[... {cut} bytes not shown ...]\n{tail}")


class Watchdog:
    """Calls ``fire`` when the deadline it is armed with has passed by ``GRACE`` seconds:
    a request's, and between requests the submission's.

    The grader's own waits have deadlines, but a read or write of a pipe can block inside
    the kernel whatever O_NONBLOCK says: a learner's process that splices from a socket into
    its reply pipe holds the pipe's lock while it waits, and the grader's read then sleeps
    uninterruptibly on that lock. Only ending the sandbox's processes frees it, so a thread
    beside the grader's ends them.

    One thread serves every sandbox of the process and looks at the deadlines every
    ``TICK`` seconds: a request arms its watchdog four times, and waking a thread for each
    arming cost more of the grader's time than comparing the traces of optimizers."""

    GRACE = 1.0
    TICK = 0.1

    _armed: dict["Watchdog", tuple[float, int]] = {}  # watchdog -> (when to fire, arming)
    _lock = threading.Lock()
    _work = threading.Event()  # set while any watchdog is armed
    _thread: threading.Thread | None = None

    def __init__(self, fire: Callable[[], None]):
        self._fire, self._arming, self._closed = fire, 0, False
        self._firing = threading.Lock()  # held while firing: arm and close wait for it
        self.fired = False

    def arm(self, deadline: float) -> None:
        with self._firing:
            self._arming += 1
            self.fired = False
        cls = Watchdog
        with cls._lock:
            cls._armed[self] = (deadline + self.GRACE, self._arming)
            if not cls._work.is_set():
                cls._work.set()
            if cls._thread is None:
                cls._thread = threading.Thread(target=cls._run, name="sandbox-watchdog",
                                               daemon=True)
                cls._thread.start()

    def close(self) -> None:
        """Disarmed for good: once this returns, ``fire`` is not running and never will."""
        with Watchdog._lock:
            Watchdog._armed.pop(self, None)
        with self._firing:
            self._closed = True

    @classmethod
    def _run(cls) -> None:
        while True:
            cls._work.wait()
            time.sleep(cls.TICK)
            now = time.monotonic()
            with cls._lock:
                late = [(dog, arming) for dog, (due, arming) in cls._armed.items() if due <= now]
                for dog, _ in late:
                    del cls._armed[dog]
                if not cls._armed:
                    cls._work.clear()
            for dog, arming in late:
                with dog._firing:  # not when it was armed again or closed since
                    if not dog._closed and dog._arming == arming:
                        dog.fired = True
                        try:
                            dog._fire()
                        except Exception as exc:  # the thread serves the other sandboxes too
                            print(f"warning: the sandbox watchdog could not end a learner's "
                                  f"processes: {exc!r}", file=sys.stderr)


class Sandbox:
    """One learner's answer cells, loaded in a worker that is started again if it dies."""

    def __init__(self, cells: list[tuple[str, str]], prelude: str, limits: Limits = Limits(),
                 isolation: str | None = None, functions: list[str] | None = None,
                 warm: bool = True):
        """``cells``: (label, source) in the order they load; ``functions``: the names
        ``start`` reports on (by default the cells' labels, as for answer cells); ``warm``:
        fork workers from the warm template where one runs (inside :func:`warm_sandboxes`),
        else start each one cold."""
        self.cells, self.prelude, self.limits = cells, prelude, limits
        self.functions = sorted(set(functions if functions is not None
                                    else (label for label, _ in cells)))
        self.isolation = isolation or isolation_available()
        self.cell_errors: dict[str, str] = {}
        self.output = Output()
        self.restarts_left = limits.restarts
        self._deadline = time.monotonic() + limits.submission_seconds
        self._skipped: set[int] = set()  # cells that hung or killed the worker while loading
        self._proc: subprocess.Popen | ForkedWorker | None = None
        self._pipes: dict[str, int] = {}
        self._output_open = False
        self._uid = _sandbox_uid() if self.isolation == "bubblewrap" and _runs_as_root() \
            else None
        self._cgroup = SandboxCgroup.create(limits.processes, limits.sandbox_memory)
        self._template = acquire_template(start=False) if warm and self._uid is not None \
            and self._cgroup is not None else None
        # the template's folder holds the same worker files
        self._scratch = self._template.scratch if self._template else new_scratch()
        self._watchdog = Watchdog(self._kill_processes)
        self._watchdog.arm(self._deadline)  # a backstop between requests too

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> list[str]:
        """Start a worker and load the cells one by one; returns the ``functions`` that
        the cells define. ``cell_errors`` then holds {label: why} for cells that failed.

        A cell that hangs or ends the worker while it loads is left out, and the worker is
        started again without it: only that cell's function pays.
        """
        while True:
            self._launch()
            self._request({"op": "prelude", "source": self.prelude}, what="the notebook's imports")
            for index, (label, source) in enumerate(self.cells):
                if index in self._skipped:
                    continue
                try:
                    reply = self._request({"op": "cell", "grade_id": label, "source": source},
                                          what=f"loading {_cell_name(label)}")
                except SandboxFailure as exc:
                    self._skipped.add(index)
                    self.cell_errors[label] = str(exc)
                    break
                if reply.get("error") is None:
                    self.cell_errors.pop(label, None)
                else:
                    self.cell_errors[label] = _text(reply["error"])
            else:
                reply = self._request({"op": "defined", "names": self.functions},
                                      what="loading the cells")
                defined = reply.get("defined")
                if not isinstance(defined, list):
                    self._fail("the worker sent a malformed reply while loading the cells")
                return [name for name in self.functions if name in defined]

    def _launch(self) -> None:
        if time.monotonic() >= self._deadline:  # nothing could be asked of it
            self._fail(f"the submission used up its {self.limits.submission_seconds:g} s of "
                       f"grading time before its worker could be started again")
        self._discard_worker()
        # the backstop, for a worker started after it fired
        self._watchdog.arm(self._deadline)
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        output_r, output_w = os.pipe()
        limits = self.limits
        passed = [to_worker_r, from_worker_w]
        if self._template is not None:
            try:
                self._proc = self._template.spawn((to_worker_r, from_worker_w, output_w),
                                                  spawn_request(limits, self._uid), self._cgroup)
            except OSError:  # the template ended (killed from outside): this sandbox starts cold
                self._template = None
                release_template()
                self._scratch = new_scratch()
            else:
                for fd in passed + [output_w]:
                    os.close(fd)
                self._set_pipes(to_worker_w, from_worker_r, output_r)
                return
        if self.isolation == "bubblewrap":
            filter_fd = seccomp.readable_fd()
            passed += [] if filter_fd is None else [filter_fd]
            command = _bwrap_command(self._scratch, sys.executable, limits, self._uid, filter_fd)
            env = {}
        else:
            command = [os.path.realpath(sys.executable), "-I", str(self._scratch / "worker.py")]
            env = {"HOME": str(self._scratch), **_worker_env()}
        command += [str(to_worker_r), str(from_worker_w), str(limits.memory_bytes),
                    str(limits.cpu_seconds), str(limits.output_bytes), str(limits.processes)]
        if self._cgroup is not None:
            command = self._cgroup.wrap(command)
        try:
            self._proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output_w, stderr=output_w,
                cwd=self._scratch, env=env, pass_fds=passed, start_new_session=True)
        finally:
            for fd in passed + [output_w]:
                os.close(fd)
        self._set_pipes(to_worker_w, from_worker_r, output_r)

    def _set_pipes(self, to_worker: int, from_worker: int, output: int) -> None:
        for fd in (to_worker, from_worker, output):
            os.set_blocking(fd, False)  # every wait on the worker goes through a deadline
        self._pipes = {"to": to_worker, "from": from_worker, "output": output}
        self._output_open = True

    def alive(self) -> bool:
        return self._proc is not None and "to" in self._pipes and self._proc.poll() is None

    def _kill_processes(self) -> None:
        """SIGKILL the worker's process group and every process of its cgroup, without
        waiting (the watchdog calls this while the grader's thread may be stuck)."""
        proc = self._proc
        if isinstance(proc, ForkedWorker) and proc.whole_namespace:
            proc.kill()  # its namespace holds every process of the cgroup
            return
        if proc is not None and proc.pid is not None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._cgroup is not None:
            self._cgroup.kill()  # detached processes too, where the process group missed them

    def end_worker(self) -> None:
        """End the worker and everything it started; the next request starts a new one.

        Bounded: killed again until it has ended, for at most END_SECONDS, and its input
        closed, so a worker the kills missed reads the end of its requests and exits. A
        worker that outlives that is given up (its cgroup ends it with the sandbox)."""
        self._kill_processes()
        if self._proc is None:
            return
        with contextlib.suppress(KeyError):
            os.close(self._pipes.pop("to"))  # alive() is False from now on
        deadline = time.monotonic() + END_SECONDS
        while True:
            try:
                self._proc.wait(timeout=min(0.1, max(0.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline:
                    return
                self._kill_processes()
            else:
                break
        if self._cgroup is not None and not (isinstance(self._proc, ForkedWorker)
                                             and self._proc.whole_namespace):
            self._cgroup.kill()  # what was forked while the group was being killed

    def _discard_worker(self) -> None:
        if self._proc is not None:
            self.end_worker()
            self._drain_output()
            for fd in self._pipes.values():
                os.close(fd)
            self._pipes, self._output_open = {}, False
            self._proc = None

    def close(self) -> None:
        self._watchdog.close()
        self._discard_worker()
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None
        if self._template is None:
            shutil.rmtree(self._scratch, ignore_errors=True)
        else:
            self._template = None
            release_template()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- requests ----------------------------------------------------------------------

    def _live_worker(self) -> None:
        """Start the worker again if it died, within the submission's restarts."""
        if not self.alive():
            if self._proc is not None:
                if self.restarts_left <= 0:
                    raise SandboxFailure("the learner's process died too often; no more "
                                         "calls are made for this submission")
                self.restarts_left -= 1
            self.start()

    def _ask(self, body: dict, what: str, seconds: float | None = None) -> dict:
        """Send a request to a live worker (starting one if needed) and check the reply."""
        self._live_worker()
        return self._checked(self._request(body, what=what, seconds=seconds), what)

    def _checked(self, reply: dict, what: str) -> dict:
        """A reply to a call or a case, its learner's error raised as LearnerError."""
        if not ({"result", "error", "trace", "failed"} & set(reply)):
            self._fail(f"the worker sent a malformed reply to {what}")
        if "error" in reply:
            error = reply["error"] if isinstance(reply["error"], dict) else {}
            raise LearnerError(_text(error.get("type", "Error"), 200),
                               _text(error.get("message", "")),
                               _text(error.get("traceback", "")))
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

        A case with ``seconds`` must be answered within that time (SandboxTimeout). Raises
        CaseFailed when the learner's function raised or returned something the case cannot
        use, LearnerError when it is not defined, SandboxFailure when the worker died or
        hung. The trace is plain data: the caller compares it.
        """
        outcome = next(self.run_cases(name, [case]))
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def run_cases(self, name: str, cases: list[dict]) -> Iterator[list[dict] | Exception]:
        """Each case's outcome, as :meth:`run_case` would give it (the trace, or the error
        it would raise), from one request: the worker answers the cases one by one, each
        within its own time from the answer before it.

        Stops after a SandboxFailure (the worker has then been ended, a timeout included):
        the caller asks again for the cases left, on a worker started again. Closed before
        its end, it ends the worker, whose answers to the cases left would otherwise be
        read as the answers to the next request.
        """
        what = f"{name}() on a case"
        answered = 0
        try:
            try:
                self._live_worker()
                since = self._send(wire.cases_request(name, cases),
                                   f"sending the cases of {name}()")
            except SandboxFailure as exc:
                yield exc
                return
            for case in cases:
                try:
                    reply = self._checked(self._receive(what, case.get("seconds"), since), what)
                    since = time.monotonic()
                    if "failed" in reply:
                        raise CaseFailed(_text(reply["failed"]))
                    if not isinstance(reply.get("trace"), list):
                        self._fail(f"the worker sent a malformed trace for {name}()")
                except (CaseFailed, LearnerError) as exc:
                    answered += 1
                    yield exc
                    continue
                except SandboxFailure as exc:
                    answered = len(cases)  # the worker is gone with what it had not sent
                    yield exc
                    return
                answered += 1
                yield reply["trace"]
        finally:
            if answered < len(cases):
                self.end_worker()

    def _fail(self, reason: str, kind: type[SandboxFailure] = SandboxFailure):
        # ended first: a learner's process can hold its output pipe's lock, and a read of it
        # would then wait for as long as that process lives
        self.end_worker()
        self._drain_output()
        output = self.output.last()
        raise kind(reason + (f"; its last output: {output}" if output else ""))

    def _request(self, body, what: str, seconds: float | None = None) -> dict:
        return self._receive(what, seconds, self._send(body, what, seconds))

    def _budget(self, what: str, seconds: float | None, since: float) -> tuple[float, float]:
        """(seconds allowed, deadline) for a request or an answer timed from ``since``."""
        if time.monotonic() >= self._deadline:
            self._fail(f"the submission used up its {self.limits.submission_seconds:g} s of "
                       f"grading time before {what}")
        allowed = self.limits.call_seconds if seconds is None else \
            min(seconds, self.limits.call_seconds)
        return allowed, min(since + allowed, self._deadline)

    def _send(self, body, what: str, seconds: float | None = None) -> float:
        """Write a request within its time; returns when its time began."""
        since = time.monotonic()
        allowed, deadline = self._budget(what, seconds, since)
        self._watchdog.arm(deadline)
        try:
            self._write_all(wire.pack(body), deadline, what, allowed)
        finally:
            self._watchdog.arm(self._deadline)
        return since

    def _receive(self, what: str, seconds: float | None, since: float) -> dict:
        """Read one reply, due ``seconds`` (at most the call's limit) after ``since``."""
        allowed, deadline = self._budget(what, seconds, since)
        self._watchdog.arm(deadline)
        try:
            reply = wire.read_message(lambda n: self._read_exact(n, deadline, what, allowed))
        except wire.WireError as exc:
            self._fail(f"the worker broke the protocol during {what}: {_text(exc, 300)}")
        finally:
            self._watchdog.arm(self._deadline)
        if not isinstance(reply, dict):
            self._fail(f"the worker sent a malformed reply to {what}")
        return reply

    # -- waiting on the worker, always with a deadline ----------------------------------

    def _wait(self, event: int, deadline: float, what: str, allowed: float) -> None:
        """Until the pipe to or from the worker is ready for ``event``, draining the
        learner's output meanwhile; past the deadline the worker is ended."""
        pipe = self._pipes["to" if event == selectors.EVENT_WRITE else "from"]
        # poll(2), not epoll: a wait watches two pipes, and epoll's setup costs more than that
        with selectors.PollSelector() as selector:
            selector.register(pipe, event)
            if self._output_open:
                selector.register(self._pipes["output"], selectors.EVENT_READ)
            while True:
                # Past the deadline the pipe is still polled once: a grader thread held up
                # (by another thread holding the GIL, say) must not blame the learner for a
                # reply that came in time.
                late = time.monotonic() >= deadline
                ready = {key.fd for key, _ in
                         selector.select(0 if late else deadline - time.monotonic())}
                if self._pipes["output"] in ready and not self._drain_output():
                    selector.unregister(self._pipes["output"])
                if pipe in ready:
                    return
                if late:
                    self._timed_out(deadline, what, allowed)

    def _timed_out(self, deadline: float, what: str, allowed: float):
        if deadline >= self._deadline:
            self._fail(f"the submission used up its {self.limits.submission_seconds:g} s of "
                       f"grading time during {what}")
        self._fail(f"{what} took longer than {allowed:g} s and was stopped", SandboxTimeout)

    def _write_all(self, data: bytes, deadline: float, what: str, allowed: float) -> None:
        view = memoryview(data)
        while view:
            self._wait(selectors.EVENT_WRITE, deadline, what, allowed)
            try:
                sent = os.write(self._pipes["to"], view[:1 << 16])
            except BlockingIOError:
                continue
            except OSError:  # the worker is gone (EPIPE)
                self._gone(deadline, what, allowed)
            view = view[sent:]

    def _read_exact(self, n: int, deadline: float, what: str, allowed: float) -> bytes:
        chunks, remaining = [], n
        while remaining:
            self._wait(selectors.EVENT_READ, deadline, what, allowed)
            try:
                chunk = os.read(self._pipes["from"], min(remaining, 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                self._gone(deadline, what, allowed)
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _gone(self, deadline: float, what: str, allowed: float):
        """The worker closed its pipe: it died, or the watchdog ended it for running late."""
        if self._watchdog.fired:
            self._timed_out(deadline, what, allowed)
        self._fail(self._death(what))

    def _drain_output(self) -> bool:
        """Read what the worker printed so far; False once its output is closed."""
        while self._output_open:
            try:
                chunk = os.read(self._pipes["output"], 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                chunk = b""
            if not chunk:
                self._output_open = False
            self.output.add(chunk)
        return False

    def _death(self, what: str) -> str:
        try:
            code = self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return f"the learner's code closed the connection to the grader during {what}"
        if isinstance(self._proc, ForkedWorker) and not self._proc.said and \
                self._template is not None and self._template.ended(0.5):
            raise TemplateEnded(f"the sandbox template ended during {what}")
        if self._cgroup is not None and self._cgroup.oom_killed():
            return (f"the learner's process was killed for using more than "
                    f"{self.limits.sandbox_memory / 2**30:.1f} GiB of memory (files in /tmp "
                    f"and /dev/shm count too) during {what}")
        # bubblewrap reports a child ended by signal N as exit status 128 + N
        signum = -code if code < 0 else code - 128 if self.isolation == "bubblewrap" and \
            code > 128 else None
        if signum in {s.value for s in signal.Signals}:
            name = signal.Signals(signum).name
            reason = {"SIGKILL": "was killed (memory or CPU limit)",
                      "SIGXCPU": "ran out of CPU time", "SIGXFSZ": "wrote a file that was too large",
                      "SIGSEGV": "crashed (segmentation fault)",
                      "SIGABRT": "aborted"}.get(name, f"was ended by {name}")
            return f"the learner's process {reason} during {what}"
        return f"the learner's process exited (status {code}) during {what}"


def _cell_name(label: str) -> str:
    return label if label.startswith("added ") else f"answer cell '{label}'"
