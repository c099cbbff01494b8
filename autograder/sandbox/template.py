"""The warm template on the grader's side: start it once, ask it for a sandbox per worker.

Starting a sandbox cold (bubblewrap, then an interpreter that imports numpy and the checks)
costs most of a submission's grading time; the template (zygote.py) pays that once per
grader and forks every worker from it inside new namespaces of the worker's own, with the
worker's own uid, tmpfs folders, cgroup, capabilities cleared and seccomp filter
(zygote.py lists them). It is used only where it can hold every guarantee of the cold
bubblewrap level: run as root, with a cgroup for each sandbox (it caps and counts the
sandbox's processes, and ends any left when the sandbox is removed) and a runtime outside
the sandbox's own folders. It checks itself once with a worker that must answer; anywhere it
cannot, the cold start is used.

A sandbox is ended through a pidfd of its pid namespace's first process (ForkedWorker):
one signal ends every process of the namespace, and the pidfd says when the last is gone,
so closing a sandbox neither lists its cgroup again and again nor sleeps while its
processes leave.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from . import seccomp, wire
from .cgroup import SandboxCgroup

SELF_CHECK_SECONDS = 20.0
# a fork and a write: a template slower than this is treated as ended
JOIN_SECONDS = 10.0


class ForkedWorker:
    """A worker forked by the template, seen through its status pipe and a pidfd of its
    namespace's first process: that process writes the worker's exit status to the pipe,
    and exits once the worker has, which ends every process of the namespace. The interface
    is the part of subprocess.Popen the sandbox uses, and ``kill``.

    The pidfd is readable once the namespace's first process has fully exited, which the
    kernel lets it do only after every other process of the namespace is gone: every
    process of the sandbox's cgroup (all are started inside it), so a worker that has
    ended leaves a cgroup that can be removed at once."""

    pid = None  # in a pid namespace of its own: the grader ends it through kill()

    def __init__(self, status_fd: int, pidfd: int | None):
        self._fd: int | None = status_fd
        self._pidfd = pidfd
        # kill() then ends, and wait() waits for, every process of the sandbox
        self.whole_namespace = pidfd is not None
        self._pidfd_lock = threading.Lock()  # kill() comes from the watchdog's thread too
        os.set_blocking(status_fd, False)
        self._said = b""
        self.said = False  # whether the namespace's first process wrote the worker's status
        self._status: int | None = None
        self.returncode: int | None = None

    def kill(self) -> None:
        """SIGKILL the namespace's first process, which ends all of it (the kernel does)."""
        with self._pidfd_lock:
            if self._pidfd is None:
                return
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it has ended

    def __del__(self) -> None:  # a worker given up on (process.END_SECONDS)
        for fd in (self._fd, self._pidfd):
            if fd is not None:
                os.close(fd)

    def _namespace_ended(self) -> bool:
        with self._pidfd_lock:
            if self._pidfd is None:
                return True
            if not select.select([self._pidfd], [], [], 0)[0]:
                return False
            os.close(self._pidfd)
            self._pidfd = None
            return True

    def poll(self) -> int | None:
        while self._fd is not None:
            try:
                chunk = os.read(self._fd, 64)
            except BlockingIOError:
                return None
            if chunk and len(self._said) < 64:
                self._said += chunk
                continue
            os.close(self._fd)
            self._fd = None
            said = self._said.strip()
            # no status: the namespace was ended from outside (the grader, or the kernel)
            self.said = said.lstrip(b"-").isdigit()
            self._status = int(said) if self.said else -signal.SIGKILL
        if self.returncode is None and self._namespace_ended():
            self.returncode = self._status
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired("sandbox", timeout)
            with self._pidfd_lock:
                waited = [fd for fd in (self._fd, self._pidfd) if fd is not None]
            select.select(waited[:1], [], [], left)
        return self.returncode


class Template:
    """One zygote under bubblewrap, started from a thread that lives as long as it does
    (bubblewrap's --die-with-parent follows the thread that started it, and the batch's
    grading threads come and go)."""

    def __init__(self, command: list[str], scratch: Path):
        self.scratch = scratch
        self._control, peer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        started, self._ended = threading.Event(), threading.Event()

        def run() -> None:
            try:
                self._proc = subprocess.Popen(
                    command + [str(peer.fileno())], stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=scratch, env={},
                    pass_fds=[peer.fileno()], start_new_session=True)
            except OSError:
                return  # reported by __init__: no template
            finally:
                peer.close()
                started.set()
            self._proc.wait()  # only this thread waits on it: Popen.wait holds a lock
            self._ended.set()

        threading.Thread(target=run, name="sandbox-template", daemon=True).start()
        started.wait()
        if self._proc is None:
            raise OSError("the sandbox template did not start")

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def ended(self, seconds: float) -> bool:
        """Whether the template has ended, waiting at most ``seconds`` for it to."""
        return self._ended.wait(seconds)

    def spawn(self, pipes: tuple[int, int, int], request: dict,
              cgroup: SandboxCgroup) -> ForkedWorker:
        """A worker on ``pipes`` (its input, its replies, its output), in ``cgroup``.

        Returns once the template's child has joined ``cgroup`` (so ending the cgroup ends
        it), or raises TimeoutError after JOIN_SECONDS. The request travels on a socket of
        the child's own, read after the fork: it never passes through the template's memory,
        which every later sandbox is a copy of."""
        status_r, status_w = os.pipe()
        pidfd = None
        channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        passed = [status_w, theirs.detach()]
        try:
            passed += [os.open(p / "cgroup.procs", os.O_WRONLY) for p in cgroup.paths]
            with self._lock:
                socket.send_fds(self._control, [b"spawn"], [*pipes, *passed])
            for fd in passed:
                os.close(fd)
            passed = []
            channel.settimeout(JOIN_SECONDS)
            said, pidfds, _, _ = socket.recv_fds(channel, 16, 1)
            pidfd = pidfds[0] if pidfds else None
            if said != wire.JOINED:  # b"": it failed to join, and has exited
                raise OSError("the sandbox could not join its cgroup")
            channel.sendall(json.dumps(request).encode())
        except OSError:  # socket.timeout is a TimeoutError, hence an OSError
            os.close(status_r)
            if pidfd is not None:
                os.close(pidfd)
            raise
        finally:
            for fd in passed:
                os.close(fd)
            channel.close()
        return ForkedWorker(status_r, pidfd)

    def kill(self) -> None:
        """End it at once, and every sandbox forked from it; takes no lock."""
        if self._proc is not None:
            try:
                os.kill(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        self._control.close()  # the zygote reads the end of its input and exits
        if self._proc is not None and not self._ended.wait(2):
            self.kill()
            # bounded: at the interpreter's exit the waiting thread may be frozen, and
            # bubblewrap then ends with the grader (--die-with-parent)
            self._ended.wait(2)
        shutil.rmtree(self.scratch, ignore_errors=True)


def spawn_request(limits, uid: int) -> dict:
    return {"uid": uid, "memory": limits.memory_bytes, "cpu": limits.cpu_seconds,
            "fsize": limits.output_bytes, "nproc": limits.processes,
            "scratch_bytes": limits.scratch_bytes, "shm_bytes": limits.shm_bytes,
            "seccomp": (seccomp.program() or b"").hex()}


def answers(worker: ForkedWorker, to_worker: int, from_worker: int, seconds: float) -> bool:
    """Whether a fresh worker answers a request within ``seconds``: the template's self-check."""
    deadline = time.monotonic() + seconds

    def read_exact(n: int) -> bytes:
        data = b""
        while len(data) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([from_worker], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(from_worker, n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    try:
        os.write(to_worker, wire.pack({"op": "defined", "names": ["f"]}))
        return wire.read_message(read_exact) == {"defined": []}
    except (OSError, EOFError, wire.WireError):
        return False
