"""The grade command's fixed cost: one learner against many, side by side with another checkout.

    .venv/bin/python benchmarks/grade_startup.py [--against DIR] [--learners 25] [--runs 3]

Times ``python -m autograder grade SUBMITTED --out OUT --db sqlite:///DB --workers 2``, as
grade_speed.py runs it (a fresh OUT and gradebook each run, the honest example learner's
notebooks), on 1 learner (a submission per assignment) and on ``--learners`` learners, ``--runs`` times
each, and prints the medians. The 1-learner time is the fixed cost a batch pays once; the
slope, (t_N - t_1) / (submissions more), is what each further submission adds.

``--against DIR`` times another checkout of the course the same way (DIR holds its own
``autograder/``, ``source/`` and ``examples/``; this venv runs both), the two taking turns
run by run, since the machine is shared and its load drifts. Each checkout grades one
batch first, untimed: it fills the caches a repeated run finds filled (the operating
system's file cache, the grader's traces in build/).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grade_speed import SUITES, lay_out  # the same learners as the speed benchmark

ROOT = Path(__file__).resolve().parents[1]


def grade_seconds(checkout: Path, submitted: Path, work: Path) -> float:
    """Wall seconds of one grade command run from ``checkout`` (``-m`` imports the
    package of the folder it runs in)."""
    out, db = work / "out", work / "gradebook.db"
    shutil.rmtree(out, ignore_errors=True)
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted),
                           "--out", str(out), "--db", f"sqlite:///{db}", "--workers", "2"],
                          cwd=checkout, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"grading from {checkout} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, help="another checkout of the course")
    parser.add_argument("--learners", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    checkouts = {f"{ROOT}": ROOT}
    if args.against:
        checkouts[f"{args.against}"] = args.against.resolve()
    with tempfile.TemporaryDirectory(prefix="grade-startup-") as tmp:
        work = Path(tmp)
        batches = {1: work / "one", args.learners: work / "many"}
        for learners, submitted in batches.items():
            lay_out(submitted, learners)
        times = {(name, n): [] for name in checkouts for n in batches}
        for checkout in checkouts.values():
            grade_seconds(checkout, batches[1], work)
        for _ in range(args.runs):
            for n, submitted in batches.items():
                for name, checkout in checkouts.items():
                    times[name, n].append(grade_seconds(checkout, submitted, work))
    submissions = len(SUITES) * (args.learners - 1)
    width = max(len(name) for name in checkouts)
    print(f"grade --workers 2, median of {args.runs} runs; "
          f"slope = (t_{args.learners} - t_1) / {submissions} submissions")
    print(f"{'':{width}}  {'1 learner (fixed)':>18}  {f'{args.learners} learners':>12}  "
          f"{'slope':>14}")
    for name in checkouts:
        one, many = (statistics.median(times[name, n]) for n in batches)
        print(f"{name:{width}}  {one:>16.2f} s  {many:>10.2f} s  "
              f"{(many - one) / submissions * 1000:>9.1f} ms/sub")
        print(f"{'':{width}}  runs: 1 learner {', '.join(f'{t:.2f}' for t in times[name, 1])}; "
              f"{args.learners} learners "
              f"{', '.join(f'{t:.2f}' for t in times[name, args.learners])}")


if __name__ == "__main__":
    main()
