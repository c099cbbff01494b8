"""Helpers for the tests: submissions built from the solution notebooks."""
from __future__ import annotations

import json
from pathlib import Path

from autograder.course import SOLUTIONS

ROOT = Path(__file__).resolve().parents[1]


def solution_notebook(assignment: str, notebook: str) -> dict:
    return json.loads((SOLUTIONS / assignment / notebook).read_text(encoding="utf-8"))


def write_submission(root: Path, student: str, assignment: str, notebook: str, nb) -> Path:
    """Lay out ``root/<student>/<assignment>/<notebook>`` as nbgrader's submitted folder does."""
    path = root / student / assignment / notebook
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(nb, (bytes, str)):
        path.write_bytes(nb if isinstance(nb, bytes) else nb.encode("utf-8"))
    else:
        path.write_text(json.dumps(nb), encoding="utf-8")
    return path




def assert_feedback_redraws_the_same_pages(out: Path, scratch: Path) -> None:
    """`python -m autograder feedback` on a copy of ``out`` without its pages draws them again,
    byte for byte."""
    import shutil
    import subprocess
    import sys

    copy = scratch / "copy"
    shutil.copytree(out, copy)
    for page in copy.glob("*/*/feedback.html"):
        page.unlink()
    run = subprocess.run([sys.executable, "-m", "autograder", "feedback", str(copy)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    for page in out.glob("*/*/feedback.html"):
        assert (copy / page.relative_to(out)).read_bytes() == page.read_bytes()
