"""A pids cgroup per sandbox: caps how many processes learner code can start, and lists
every process it started, detached or not, so that all of them can be ended.

RLIMIT_NPROC does not bind root (nor, on some kernels, a process that bubblewrap started
as root), so a fork bomb would be stopped only by the call's timeout, after it had used
up the machine's process table for every other learner. A pids cgroup binds everyone.
Where no cgroup hierarchy is writable (not root, no Linux), ``PidsCgroup.create`` returns
None and the worker's own RLIMIT_NPROC is all there is.
"""
from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

PREFIX = "lecture7-sandbox-"
V1_ROOT = Path("/sys/fs/cgroup/pids")
V2_ROOT = Path("/sys/fs/cgroup")


def _writable_root() -> Path | None:
    if (V1_ROOT / "cgroup.procs").exists() and os.access(V1_ROOT, os.W_OK):
        return V1_ROOT
    controllers = V2_ROOT / "cgroup.subtree_control"
    if controllers.exists() and os.access(V2_ROOT, os.W_OK) and \
            "pids" in controllers.read_text().split():
        return V2_ROOT
    return None


def sweep_stale(root: Path) -> None:
    """Remove the cgroups of graders that were killed, and end what still runs in them."""
    for path in root.glob(f"{PREFIX}*"):
        owner = path.name[len(PREFIX):].split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            PidsCgroup(path).remove()


class PidsCgroup:
    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def create(cls, max_processes: int) -> "PidsCgroup | None":
        root = _writable_root()
        if root is None:
            return None
        sweep_stale(root)
        path = root / f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(f"{max_processes}\n")
        except OSError:
            if path.exists():
                path.rmdir()
            return None
        return cls(path)

    def wrap(self, command: list[str]) -> list[str]:
        """The command, started from inside the cgroup: its first process joins before exec."""
        return ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(self.path),
                *command]

    def pids(self) -> list[int]:
        try:
            return [int(line) for line in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill(self) -> bool:
        """SIGKILL every process in the cgroup; False when there was none."""
        pids = self.pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return bool(pids)

    def remove(self, wait_seconds: float = 5.0) -> None:
        """End every process in the cgroup, then remove it."""
        deadline = time.monotonic() + wait_seconds
        while self.kill() and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            self.path.rmdir()
        except OSError:
            pass  # a process that is still exiting; the directory goes when it is gone
