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


