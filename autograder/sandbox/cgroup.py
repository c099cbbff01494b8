"""A cgroup per sandbox: caps the processes and the memory of learner code, and lists every
process it started, detached or not, so that all of them can be ended.

RLIMIT_NPROC does not bind root, and RLIMIT_AS counts neither the pages a process parks in
a tmpfs nor those of its children: a pids cgroup binds every process, and a memory cgroup
charges tmpfs pages to the sandbox that wrote them, so that when a submission takes too
much the kernel ends a process of that sandbox, never the grader. Both hierarchies of
cgroup v1 (``/sys/fs/cgroup/{pids,memory}``) and the unified one of v2 are used where
writable. Where none is (not root, no Linux), ``SandboxCgroup.create`` returns None and the
worker's own resource limits are all there is.
"""
from __future__ import annotations

import errno
import functools
import os
import shlex
import signal
import time
import uuid
from pathlib import Path

PREFIX = "lecture7-sandbox-"
V1_ROOT = Path("/sys/fs/cgroup")  # holds one folder per controller
V2_ROOT = Path("/sys/fs/cgroup")  # or is itself the unified hierarchy


def _writable(path: Path) -> bool:
    return (path / "cgroup.procs").exists() and os.access(path, os.W_OK)


@functools.cache
def _roots() -> dict[str, Path]:
    """controller -> the writable hierarchy that holds it ("pids", "memory"); looked up once
    per grader process."""
    v1 = {name: V1_ROOT / name for name in ("pids", "memory") if _writable(V1_ROOT / name)}
    if v1:
        return v1
    controllers = V2_ROOT / "cgroup.subtree_control"
    if controllers.exists() and _writable(V2_ROOT):
        enabled = controllers.read_text().split()
        return {name: V2_ROOT for name in ("pids", "memory") if name in enabled}
    return {}


def owner_gone(name: str, prefix: str) -> bool:
    """Whether the grader whose pid follows ``prefix`` in ``name`` ("<prefix><pid>-...")
    has ended: what it left behind is stale."""
    owner = name[len(prefix):].split("-")[0]
    if not owner.isdigit():
        return False
    try:
        state = Path(f"/proc/{owner}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")  # a killed grader whose parent has not reaped it is gone too


@functools.cache
def sweep_stale(roots: frozenset[Path]) -> None:
    """Remove the cgroups of graders that were killed, and end what still runs in them;
    once per grader process."""
    _remove(roots, f"{PREFIX}*", lambda path: owner_gone(path.name, PREFIX))


def remove_owned(owner: int) -> None:
    """Remove the cgroups process ``owner`` made, and end what still runs in them: for a
    grader stopped while a sandbox was being made, before it could remove its own."""
    _remove(frozenset(_roots().values()), f"{PREFIX}{owner}-*", lambda path: True)


def _remove(roots: frozenset[Path], pattern: str, stale) -> None:
    for root in roots:
        for path in root.glob(pattern):
            if stale(path):
                SandboxCgroup([path]).remove()


@functools.cache
def _limit_files(root: Path, controller: str, unified: bool) -> dict[str, str]:
    if controller == "pids":
        return {"pids.max": "{processes}"}
    if unified:
        return {"memory.max": "{memory}", "memory.swap.max": "0"}
    files = {"memory.limit_in_bytes": "{memory}"}
    if (root / "memory.memsw.limit_in_bytes").exists():
        files["memory.memsw.limit_in_bytes"] = "{memory}"  # no escape into swap either
    return files


class SandboxCgroup:
    def __init__(self, paths: list[Path]):
        self.paths = paths  # one per hierarchy (v1), or the single unified one (v2)

    @classmethod
    def create(cls, max_processes: int, max_memory: int) -> "SandboxCgroup | None":
        """A cgroup with both caps, or None where no cgroup can be made."""
        roots = _roots()
        if not roots:
            return None
        sweep_stale(frozenset(roots.values()))
        name = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        made = cls([])
        try:
            for controller, root in roots.items():
                path = root / name
                if path not in made.paths:
                    path.mkdir()
                    made.paths.append(path)
                for file, value in _limit_files(root, controller, root == V2_ROOT).items():
                    try:
                        fd = os.open(path / file, os.O_WRONLY)
                    except FileNotFoundError:
                        continue  # a limit this kernel does not have
                    try:
                        os.write(fd, value.format(processes=max_processes,
                                                  memory=max_memory).encode())
                    finally:
                        os.close(fd)
        except OSError:
            made.remove()
            return None
        return made

    def wrap(self, command: list[str]) -> list[str]:
        """The command, started from inside the cgroup: its first process joins before exec."""
        joins = " && ".join(f"echo $$ > {shlex.quote(str(p / 'cgroup.procs'))}"
                            for p in self.paths)
        return ["/bin/sh", "-c", f'{joins} && exec "$@"', "sh", *command]

    def pids(self) -> list[int]:
        """Every process of the sandbox. A process joins the hierarchies in the order of
        ``paths`` before it starts any other (``wrap``, zygote.py), and none can leave one, so
        the first lists them all."""
        if not self.paths:
            return []
        try:
            fd = os.open(self.paths[0] / "cgroup.procs", os.O_RDONLY)
        except OSError:
            return []
        try:
            listed = b""
            while chunk := os.read(fd, 1 << 16):
                listed += chunk
        except OSError:
            return []
        finally:
            os.close(fd)
        return sorted(int(pid) for pid in listed.split())

    def kill(self) -> bool:
        """SIGKILL every process in the cgroup; False when there was none."""
        pids = self.pids()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return bool(pids)

    def oom_killed(self) -> bool:
        """Whether the kernel ended a process of this cgroup for using too much memory."""
        for path in self.paths:
            for file in ("memory.events", "memory.oom_control"):
                try:
                    fields = dict(line.split() for line in (path / file).read_text().splitlines()
                                  if len(line.split()) == 2)
                except (OSError, ValueError):
                    continue
                if int(fields.get("oom_kill", 0)) > 0:
                    return True
        return False

    def remove(self, wait_seconds: float = 5.0) -> None:
        """End every process in the cgroup, then remove it.

        The kernel refuses to remove a cgroup that holds a process (EBUSY), so removing is
        tried first: a sandbox already ended costs no listing of its processes."""
        deadline = time.monotonic() + wait_seconds
        left = list(self.paths)
        while left:
            for path in list(left):
                try:
                    path.rmdir()
                except OSError as exc:
                    if exc.errno == errno.EBUSY:
                        continue  # it still holds a process
                left.remove(path)  # removed, or gone, or not ours to remove
            if not left or time.monotonic() >= deadline:
                return  # what is still exiting then is removed by the next sweep
            self.kill()
            time.sleep(0.001)  # processes killed a moment ago are still leaving
