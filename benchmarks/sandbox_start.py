"""The cost of one sandbox: started, one trivial answer cell loaded, closed; warm and cold.

    .venv/bin/python benchmarks/sandbox_start.py [--rounds 7] [--warm 40] [--cold 4]

Each round starts and closes ``--warm`` sandboxes forked from the warm template, then
``--cold`` sandboxes started cold (bubblewrap and a fresh interpreter), one after the other;
printed is the median over the rounds of each figure, per sandbox:

* wall: the grader's time from creating the sandbox to the end of its close;
* grader CPU: this process's own CPU time (user and system);
* tree CPU: this process and every process it started, template and sandboxes included,
  counted by a cpuacct cgroup of the benchmark's own (where cgroup v1 has one; a sandbox
  joins only the pids and memory hierarchies, so it stays counted there): unlike the
  system's figure, other load on the machine barely changes it;
* system CPU: the whole machine's busy time from /proc/stat, kernel work done on the
  sandboxes' behalf afterwards included (a network namespace is torn down by a kernel
  worker, for one). Other load on the machine adds to it: compare medians.

The machine has two cores: with a batch grading on both, CPU time per sandbox costs as
much throughput as wall time does.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.sandbox import process  # noqa: E402
from autograder.sandbox.template import ForkedWorker  # noqa: E402
from autograder.suites import SUITES  # noqa: E402

CELLS = [("f", "def f():\n    return 1\n")]
CPUACCT = Path("/sys/fs/cgroup/cpuacct")
FIGURES = ("wall", "grader CPU", "tree CPU", "system CPU")


def system_busy_ms() -> float:
    """Milliseconds the machine's cores were busy (not idle, not waiting on I/O)."""
    with open("/proc/stat") as stat:
        fields = stat.readline().split()[1:]
    ticks = sum(int(value) for i, value in enumerate(fields) if i not in (3, 4))
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


@contextmanager
def counted_tree() -> Iterator[Path | None]:
    """This process moved into a cpuacct cgroup of its own (its children follow), or None
    where none can be made."""
    group = CPUACCT / f"lecture7-bench-{os.getpid()}"
    try:
        group.mkdir()
        (group / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        with_group = None
    else:
        with_group = group
    try:
        yield with_group
    finally:
        if with_group is not None:
            (CPUACCT / "cgroup.procs").write_text(str(os.getpid()))
            time.sleep(0.2)  # the sandboxes' processes still leaving
            try:
                group.rmdir()
            except OSError:
                print(f"note: {group} still holds a process; remove it once empty")


def tree_ms(group: Path | None) -> float:
    return int((group / "cpuacct.usage").read_text()) / 1e6 if group else float("nan")


def one_sandbox(prelude: str, warm: bool) -> None:
    with process.Sandbox(CELLS, prelude, process.Limits(), warm=warm) as box:
        if box.start() != ["f"]:
            sys.exit("the sandbox did not load its cell")
        if warm and not isinstance(box._proc, ForkedWorker):
            sys.exit("the warm sandbox was started cold: no template here (root, cgroups?)")


def measure(count: int, prelude: str, warm: bool, group: Path | None) -> dict[str, float]:
    """Per-sandbox figures of ``count`` sandboxes started and closed one after the other."""
    system, tree = system_busy_ms(), tree_ms(group)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        one_sandbox(prelude, warm)
    values = ((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000,
              tree_ms(group) - tree, system_busy_ms() - system)
    return {name: value / count for name, value in zip(FIGURES, values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--warm", type=int, default=40, help="warm sandboxes per round")
    parser.add_argument("--cold", type=int, default=4, help="cold sandboxes per round")
    args = parser.parse_args()
    if process.isolation_available() != "bubblewrap":
        sys.exit("needs bubblewrap: the warm template forks bubblewrap sandboxes only")
    prelude = SUITES["optimizers"].prelude
    rounds: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    with counted_tree() as group, process.warm_sandboxes():
        for warm in (True, False):  # the runtime's files in the cache, the template's pages in
            one_sandbox(prelude, warm)
        for _ in range(args.rounds):
            for warm, count in ((True, args.warm), (False, args.cold)):
                rounds[warm].append(measure(count, prelude, warm, group))
    median = {warm: {name: statistics.median(r[name] for r in rounds[warm]) for name in FIGURES}
              for warm in rounds}
    print(f"one sandbox started (one cell loaded) and closed, ms per sandbox; median of "
          f"{args.rounds} rounds of {args.warm} warm and {args.cold} cold; {os.cpu_count()} cores")
    print(f"{'':14}" + "".join(f"{name:>16}" for name in FIGURES))
    for warm, label in ((True, "warm"), (False, "cold")):
        print(f"{label:14}" + "".join(f"{median[warm][name]:16.1f}" for name in FIGURES))
    print(f"{'cold / warm':14}" + "".join(f"{median[False][n] / median[True][n]:15.1f}x"
                                          for n in FIGURES))
    spread = [round(r["wall"], 1) for r in rounds[True]]
    print(f"warm wall of each round: {spread}")


if __name__ == "__main__":
    main()
