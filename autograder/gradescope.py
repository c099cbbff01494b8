"""Package an assignment as a Gradescope autograder, and the entry point that runs there.

    python -m autograder gradescope ASSIGNMENT --zip FILE

Gradescope unzips the package into /autograder/source, runs setup.sh from there once when
the image is built, and for each upload copies run_autograder to /autograder and runs it,
with the upload in /autograder/submission; it reads /autograder/results/results.json. So the
zip holds, at its top: setup.sh (bubblewrap where it can be installed, and a virtual
environment in /autograder/venv with requirements.txt), run_autograder, this grading engine
(autograder/) and the assignment's source folder (source/<assignment>/: the reference stays
on Gradescope's side, as the hidden cases do). Neither script names /autograder: each takes
the root from its own location (or AUTOGRADER_ROOT), so the package runs the same in any
folder laid out that way. Each function gets two entries: its visible checks, shown at
once, and its hidden checks, shown "after_published".
"""
from __future__ import annotations

import os
import sys
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Iterator

from .course import ROOT, SOURCE
from .results import results_text, write_atomically
from .suites import SUITES

REQUIREMENTS = "numpy>=1.24,<3\n"  # all the engine imports on the grading path

# The root is the folder above the one setup.sh is unzipped into (/autograder). apt-get
# runs only as root and only for what is missing, so that setup.sh changes nothing on a
# machine that has it all.
SETUP = """#!/usr/bin/env bash
set -euo pipefail
SOURCE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=${AUTOGRADER_ROOT:-$(dirname "$SOURCE")}
missing=()
for package in python3 python3-venv bubblewrap util-linux libseccomp2; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if (( ${#missing[@]} )) && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update
    apt-get install -y "${missing[@]}"
fi
python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install --disable-pip-version-check -q -r "$SOURCE/requirements.txt"
"""

# Gradescope runs a copy of this file as /autograder/run_autograder; run from the unzipped
# folder itself (beside setup.sh), the root is the folder above.
RUN = """#!/usr/bin/env bash
set -euo pipefail
HERE=$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)
if [ -f "$HERE/setup.sh" ]; then DEFAULT_ROOT=$(dirname "$HERE"); else DEFAULT_ROOT=$HERE; fi
ROOT=${{AUTOGRADER_ROOT:-$DEFAULT_ROOT}}
cd "$ROOT/source"
exec "$ROOT/venv/bin/python" -m autograder.gradescope "{assignment}" "$ROOT/submission" \\
    "$ROOT/results/results.json"
"""


def _script(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o755 << 16
    archive.writestr(info, text)


def package(assignment: str, target: Path) -> Path:
    if assignment not in SUITES:
        raise SystemExit(f"error: no assignment {assignment!r}; choose from {sorted(SUITES)}")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        _script(archive, "setup.sh", SETUP)
        _script(archive, "run_autograder", RUN.format(assignment=assignment))
        archive.writestr("requirements.txt", REQUIREMENTS)
        for path in sorted((ROOT / "autograder").rglob("*.py")):
            archive.write(path, str(path.relative_to(ROOT)))
        for path in sorted((SOURCE / assignment).iterdir()):
            if path.is_file():  # follows the links to the kit and the data
                archive.write(path, f"source/{assignment}/{path.name}")
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
            "output": result.output(), "tests": tests,
            "extra_data": {"status": result.status, "isolation": result.isolation}}


def run(assignment: str, submission: Path, results: Path) -> None:
    from .grading import grade_submission

    suite = SUITES[assignment]
    # The upload folder is Gradescope's: links in its own path are resolved here, so that
    # only what the learner uploaded is read without following links.
    notebook = find_notebook(Path(submission).resolve(), suite.notebook)
    result = grade_submission(suite, "gradescope", notebook)
    result.submitted = os.path.lexists(notebook)
    write_atomically(Path(results), results_text(gradescope_results(result)))


if __name__ == "__main__":
    run(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
