"""What `python -m pytest` costs a learner beyond the checks themselves, with Jupyter installed.

    .venv/bin/python benchmarks/learner_pytest.py [--runs N]

For each assignment, a copy of its released folder with the solutions filled in is checked
side by side, in one run, by:

* ``pytest``: `python -m pytest -q` in the folder, as the learner runs it (its pytest.ini
  keeps Jupyter's pytest plugins out);
* ``pytest, no pytest.ini``: the same without the folder's pytest.ini (every installed
  plugin loads, as before the release wrote one);
* ``checks``: the visible checks alone, timed inside one Python process that has already
  imported numpy and the checks (what any way of running them must pay);
* ``python + numpy``: starting Python and importing numpy and checks.py, the floor.

The median of N runs of each is printed, and the overhead: pytest minus (checks + python).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.course import RELEASE  # noqa: E402
from autograder.mistakes import with_answer  # noqa: E402
from autograder.reference import solution_sources  # noqa: E402
from autograder.suites import SUITES  # noqa: E402

CHECKS_ONLY = """
import json, sys, time
sys.path.insert(0, ".")
import checks
visible = checks.load_visible(".")
nb = json.load(open(visible["notebook"]))
namespace = {"__name__": "learner"}
exec(visible["prelude"], namespace)
for _, source in checks.answer_cells(nb):
    exec(checks.without_ipython(source), namespace)
started = time.perf_counter()
for name in visible["functions"]:
    assert all(c.passed for c in checks.visible_checks(name, namespace[name], ".", namespace))
print(time.perf_counter() - started)
"""


def solved_folder(scratch: Path, assignment: str) -> Path:
    folder = scratch / assignment
    shutil.copytree(RELEASE / assignment, folder)
    notebook = folder / SUITES[assignment].notebook
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for grade_id, source in solution_sources(assignment).items():
        nb = with_answer(nb, grade_id, source)
    notebook.write_text(json.dumps(nb), encoding="utf-8")
    return folder


def wall(command: list[str], folder: Path) -> float:
    started = time.perf_counter()
    run = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed in {folder}:\n{run.stdout}{run.stderr}")
    return seconds


def measure(folder: Path, runs: int) -> dict[str, float]:
    python = sys.executable
    times: dict[str, list[float]] = {"pytest": [], "pytest, no pytest.ini": [], "checks": [],
                                     "python + numpy": []}
    ini = folder / "pytest.ini"
    kept = ini.read_text()
    for _ in range(runs):  # interleaved, so that a busy moment costs every variant alike
        times["pytest"].append(wall([python, "-m", "pytest", "-q"], folder))
        ini.unlink()
        times["pytest, no pytest.ini"].append(wall([python, "-m", "pytest", "-q", "-p",
                                                    "no:cacheprovider"], folder))
        ini.write_text(kept)
        run = subprocess.run([python, "-c", CHECKS_ONLY], cwd=folder, capture_output=True,
                             text=True, check=True)
        times["checks"].append(float(run.stdout))
        times["python + numpy"].append(wall([python, "-c", "import sys; sys.path.insert(0, "
                                             "'.'); import numpy, checks"], folder))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for assignment in ("optimizers", "batchnorm", "preprocessing"):
            medians = measure(solved_folder(Path(scratch), assignment), args.runs)
            overhead = medians["pytest"] - medians["checks"] - medians["python + numpy"]
            print(f"{assignment:14s} " + "  ".join(f"{name} {seconds:.2f} s"
                                                  for name, seconds in medians.items())
                  + f"  overhead of pytest {overhead:.2f} s")


if __name__ == "__main__":
    main()
