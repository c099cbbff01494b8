"""Package an assignment as a Gradescope autograder, and the entry point that runs there.

    python -m autograder gradescope ASSIGNMENT --zip FILE

The zip holds setup.sh (installs Python's packages and bubblewrap), run_autograder, this
grading engine and the assignment's source folder (the reference stays on Gradescope's
side, as the hidden cases do). On Gradescope, run_autograder grades the uploaded notebook
with the same sandbox and checks and writes /autograder/results/results.json. Each
function gets two entries: its visible checks, shown at once, and its hidden checks,
shown "after_published".
"""
from __future__ import annotations

import json
import os
import sys
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from .course import ROOT, SOURCE
from .suites import SUITES

SETUP = """#!/usr/bin/env bash
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip python3-venv bubblewrap util-linux libseccomp2
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install "numpy>=1.24" "nbformat>=5.9"
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this with the submission in $AUTOGRADER_ROOT/submission.
set -euo pipefail
ROOT=${{AUTOGRADER_ROOT:-/autograder}}
PYTHON=${{PYTHON:-$ROOT/venv/bin/python}}
cd "$ROOT/source"
exec "$PYTHON" -m autograder.gradescope "{assignment}" "$ROOT/submission" "$ROOT/results/results.json"
"""


def package(assignment: str, target: Path) -> Path:
    if assignment not in SUITES:
        raise SystemExit(f"error: no assignment {assignment!r}; choose from {sorted(SUITES)}")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (("setup.sh", SETUP), ("run_autograder", RUN.format(assignment=assignment))):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16
            archive.writestr(info, text)
        for path in sorted((ROOT / "autograder").rglob("*.py")):
            archive.write(path, f"source/{path.relative_to(ROOT)}")
        for path in sorted((SOURCE / assignment).iterdir()):
            if path.is_file():  # follows the links to the kit and the data
                archive.write(path, f"source/source/{assignment}/{path.name}")
    return target


def _uploaded(submission: Path) -> Iterator[Path]:
    """Everything uploaded, links included, without following a link into another folder
    and without Jupyter's hidden .ipynb_checkpoints copies."""
    for folder, dirs, files in os.walk(submission):  # os.walk follows no links
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files + dirs):
            yield Path(folder) / name


def find_notebook(submission: Path, name: str) -> Path:
    """The uploaded notebook: by its released name, else the only notebook uploaded.

    Nothing is opened or followed here: a link, a FIFO or a folder found under a
    notebook's name is returned as it is, and reading it gives the learner the verdict
    (submission.read_submitted_file)."""
    if os.path.lexists(submission / name):
        return submission / name
    notebooks = [path for path in _uploaded(submission) if path.name.endswith(".ipynb")]
    return notebooks[0] if len(notebooks) == 1 else submission / name


def gradescope_results(result) -> dict:
    tests = []
    for function in result.functions:
        for hidden, label in ((False, "visible checks"), (True, "hidden checks")):
            groups = [g for g in function.groups if g.hidden == hidden]
            if not groups:
                continue
            # each entry tells of its own groups only: the visible one is shown at once
            part = replace(function, groups=tuple(groups))
            tests.append({"name": f"{function.name} ({label})",
                          "score": part.score, "max_score": part.max_score,
                          "output": part.output(),
                          "visibility": "after_published" if hidden else "visible"})
    return {"score": result.score, "execution_time": round(result.seconds, 3),
            "output": result.output(), "tests": tests}


def run(assignment: str, submission: Path, results: Path) -> None:
    from .grading import grade_submission

    suite = SUITES[assignment]
    # The upload folder is Gradescope's: links in its own path are resolved here, so that
    # only what the learner uploaded is read without following links.
    notebook = find_notebook(Path(submission).resolve(), suite.notebook)
    result = grade_submission(suite, "gradescope", notebook)
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(gradescope_results(result), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    run(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
