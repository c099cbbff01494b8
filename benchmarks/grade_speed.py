"""Grading speed: `python -m autograder grade` against real `nbgrader autograde`, one run.

    .venv/bin/python benchmarks/grade_speed.py [--learners 100] [--nbgrader-learners 10]
                                               [--assignments A ...] [--floor-runs 20]

Both graders get the same honest submissions (the example learner "ada", who solved every
assignment) of every released assignment, on this machine, one after the other. Ours runs
with --workers 2 into a fresh SQLite gradebook; nbgrader autograde runs in a scratch copy
of the course, as an organizer would run it. Printed: seconds per submission for each, the
ratio, the peak memory of the largest process of each run, and that each grader gave
every submission full marks (a fast grader that grades wrongly would prove nothing).

The floor is what one submission would cost if grading were free: a sandboxed
``python -c "import numpy"`` (bubblewrap as the cold sandbox starts, the runtime only),
started one after the other ``--floor-runs`` times, half just before our grader runs and
half just after (the machine is shared: its load drifts); ours is printed as a multiple
of it.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.sandbox import process  # noqa: E402
from autograder.suites import SUITES  # noqa: E402

EXAMPLE = ROOT / "examples" / "submitted" / "ada"


def lay_out(submitted: Path, learners: int) -> None:
    for i in range(learners):
        for assignment, suite in SUITES.items():  # the assignments chosen (main)
            target = submitted / f"learner{i:03d}" / assignment / suite.notebook
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(EXAMPLE / assignment / suite.notebook, target)


def run(command: list[str], cwd: Path) -> tuple[float, int]:
    """(wall seconds, peak RSS in MiB of the largest process it started).

    The command runs under a fresh copy of this script (``--measure``), so the peak is
    that command's alone, not the largest of everything this benchmark ran before it.
    """
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--measure", *command], cwd=cwd,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return seconds, int(done.stdout.splitlines()[-1]) // 1024


def measure(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-3000:], file=sys.stderr)
        sys.exit(done.returncode)
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def ours(work: Path, learners: int) -> tuple[float, int, bool]:
    submitted, out = work / "ours" / "submitted", work / "ours" / "feedback"
    lay_out(submitted, learners)
    seconds, peak = run([sys.executable, "-m", "autograder", "grade", str(submitted),
                         "--out", str(out), "--db", f"sqlite:///{work / 'ours' / 'gradebook.db'}",
                         "--workers", "2", *[f"--assignment={a}" for a in SUITES]], ROOT)
    full = all(json.loads(p.read_text())["score"] == SUITES[p.parent.name].max_score
               for p in out.glob("*/*/results.json"))
    return seconds, peak, full and len(list(out.glob("*/*/results.json"))) == learners * len(SUITES)


def nbgrader(work: Path, learners: int) -> tuple[float, int, bool]:
    course = work / "nbgrader"
    shutil.copytree(ROOT / "source", course / "source", symlinks=False)
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    lay_out(course / "submitted", learners)
    nbgrader_cli = [str(Path(sys.executable).parent / "nbgrader")]
    for assignment in SUITES:  # records the assignments' cells in the gradebook
        run(nbgrader_cli + ["generate_assignment", assignment, "--force"], course)
    seconds = 0.0
    peak = 0
    for assignment in SUITES:
        s, p = run(nbgrader_cli + ["autograde", assignment, "--force"], course)
        seconds, peak = seconds + s, max(peak, p)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        full = all(gradebook.find_submission(a, f"learner{i:03d}").score == SUITES[a].max_score
                   for a in SUITES for i in range(learners))
    return seconds, peak, full


def floor(runs: int) -> float:
    """Seconds of one sandboxed ``python -c "import numpy"``, the mean of ``runs`` in a row."""
    scratch = process.new_scratch()
    try:
        command = process.cold_python_command(scratch, "import numpy")
        subprocess.run(command, check=True, cwd=scratch)  # the runtime's files in the cache
        started = time.perf_counter()
        for _ in range(runs):
            subprocess.run(command, check=True, cwd=scratch)
        return (time.perf_counter() - started) / runs
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    if sys.argv[1:2] == ["--measure"]:
        return measure(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100)
    parser.add_argument("--nbgrader-learners", type=int, default=10)
    parser.add_argument("--floor-runs", type=int, default=20)
    parser.add_argument("--assignments", nargs="+", choices=sorted(SUITES),
                        help="grade these only (default: every assignment with a suite)")
    args = parser.parse_args()
    for name in set(SUITES) - set(args.assignments or SUITES):
        del SUITES[name]  # this process's table: what is laid out, graded and counted
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    with tempfile.TemporaryDirectory(prefix="grade-speed-") as tmp:
        work = Path(tmp)
        floor_before = floor(args.floor_runs // 2)
        our_seconds, our_peak, our_full = ours(work, args.learners)
        floor_each = (floor_before + floor(args.floor_runs - args.floor_runs // 2)) / 2
        nb_seconds, nb_peak, nb_full = nbgrader(work, args.nbgrader_learners)
    ours_each = our_seconds / (args.learners * len(SUITES))
    nb_each = nb_seconds / (args.nbgrader_learners * len(SUITES))
    print(f"assignments: {', '.join(SUITES)}; {os.cpu_count()} cores")
    print(f"python -m autograder grade --workers 2: {args.learners * len(SUITES)} submissions "
          f"in {our_seconds:.1f} s = {ours_each * 1000:.0f} ms each, peak {our_peak} MiB, "
          f"all full marks: {our_full}")
    print(f"nbgrader autograde:                     {args.nbgrader_learners * len(SUITES)} "
          f"submissions in {nb_seconds:.1f} s = {nb_each * 1000:.0f} ms each, peak {nb_peak} MiB, "
          f"all full marks: {nb_full}")
    print(f"floor (a sandboxed python -c 'import numpy', {process.isolation_available()}): "
          f"{floor_each * 1000:.0f} ms, the mean of {args.floor_runs} (before and after ours)")
    print(f"ratio (nbgrader / ours, per submission): {nb_each / ours_each:.1f}x")
    print(f"ratio (ours / floor, per submission):    {ours_each / floor_each:.2f}x")


if __name__ == "__main__":
    main()
