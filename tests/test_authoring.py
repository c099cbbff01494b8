"""The authoring recipe of the README, done: a new exercise (gradient clipping) is added as
a suite, a catalog of mistakes and a source notebook, without touching the engine; it is
released, self-checked and graded like the others."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.mistakes import with_answer

from .helpers import ROOT

SUITE = '''
"""Gradient clipping: rescale a gradient whose norm is too large."""
import numpy as np

from ..suite import FunctionSpec, Group, Suite


def case(description, dw, max_norm):
    return {"function": "clip_gradient", "kind": "call", "description": description,
            "args": [dw, max_norm], "outputs": ["dw_clipped"]}


rng = np.random.default_rng(11)
SUITE = Suite("clipping", "clipping.ipynb", "import numpy as np\\n", (FunctionSpec(
    "clip_gradient",
    (Group("visible", 2, (case("visible: a long gradient", np.array([3.0, 4.0]), 1.0),), False,
           "the visible cases from the notebook"),
     Group("hidden", 8, (case("a long gradient in 5 dimensions", rng.standard_normal(5) * 9, 2.0),
                         case("a short gradient is left alone", rng.standard_normal(4) * 0.1, 5.0)),
           True, "long and short gradients")),
    {"dw_clipped": "Scale the whole gradient by max_norm / norm when its norm is larger."}),))
'''

MISTAKES = '''
from ..mistakes import Variant

MISTAKES = (Variant("clip_gradient", "element-wise clipping", "np.clip on each element", """
def clip_gradient(dw, max_norm):
    return np.clip(dw, -max_norm, max_norm)
"""),)
HINTS = {("clip_gradient", "element-wise clipping"):
         "Clipping by norm keeps the direction: scale the whole vector, not each element."}
ALTERNATIVES = ()
'''

SOLUTION = '''def clip_gradient(dw, max_norm):
    """Rescale dw to norm max_norm when it is longer: dw * min(1, max_norm / ||dw||).

    Inputs: dw, any shape; max_norm, a positive scalar. Returns dw_clipped, dw's shape.
    """
    ### BEGIN SOLUTION
    norm = np.linalg.norm(dw)
    return dw * min(1.0, max_norm / norm) if norm > 0 else dw
    ### END SOLUTION
'''


def meta(grade_id, solution=False, grade=False, points=0):
    return {"nbgrader": {"grade": grade, "grade_id": grade_id, "locked": not solution,
                         "points": points, "schema_version": 3, "solution": solution,
                         "task": False}}


def notebook() -> nbformat.NotebookNode:
    cells = [new_markdown_cell("# Gradient clipping"),
             new_code_cell("import numpy as np\nfrom checks import check_implemented, check_visible",
                           metadata=meta("imports")),
             new_code_cell(SOLUTION, metadata=meta("clip_gradient", solution=True)),
             new_code_cell('check_visible("clip_gradient", clip_gradient)',
                           metadata=meta("test_clip_gradient_visible", grade=True, points=2)),
             new_code_cell('check_implemented("clip_gradient", clip_gradient)\n'
                           '### BEGIN HIDDEN TESTS\nfrom autograder.inkernel import check_hidden\n'
                           'check_hidden("clipping", "clip_gradient", "hidden", clip_gradient)\n'
                           '### END HIDDEN TESTS',
                           metadata=meta("test_clip_gradient_hidden", grade=True, points=8))]
    for i, cell in enumerate(cells):
        cell.id = f"cell-{i}"
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("authoring")
    for name in ("autograder", "source", "data"):
        shutil.copytree(ROOT / name, course / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", course)
    engine = {p.relative_to(course): p.read_bytes() for p in (course / "autograder").rglob("*.py")}
    # The recipe: a suite, a catalog, a source folder with the notebook and the kit's links.
    (course / "autograder" / "suites" / "clipping.py").write_text(SUITE)
    (course / "autograder" / "mistakes" / "clipping.py").write_text(MISTAKES)
    folder = course / "source" / "clipping"
    folder.mkdir()
    nbformat.write(notebook(), folder / "clipping.ipynb")
    (folder / "checks.py").symlink_to("../../autograder/kit/checks.py")
    (folder / "test_clipping.py").symlink_to("../../autograder/kit/test_notebook.py")
    run = subprocess.run([sys.executable, "-m", "autograder", "release", "clipping"], cwd=course,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    changed = [path for path, data in engine.items() if (course / path).read_bytes() != data]
    return course, changed


def answer(course: Path, source: str) -> dict:
    released = json.loads((course / "assignments" / "clipping" / "clipping.ipynb").read_text())
    return with_answer(released, "clip_gradient", source)


def test_the_new_exercise_needs_no_engine_change(course):
    _, changed = course
    assert changed == []


def test_the_new_exercise_is_released_without_its_solution(course):
    root, _ = course
    released = (root / "assignments" / "clipping" / "clipping.ipynb").read_text()
    assert "raise NotImplementedError()" in released and "min(1.0, max_norm" not in released
    assert (root / "solutions" / "clipping" / "clipping.ipynb").is_file()


def test_the_new_exercise_is_graded_and_its_mistake_named(course):
    root, _ = course
    solved = SOLUTION.replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION\n", "")
    wrong = "def clip_gradient(dw, max_norm):\n    return np.clip(dw, -max_norm, max_norm)\n"
    for student, source in (("right", solved), ("wrong", wrong)):
        path = root / "submitted" / student / "clipping" / "clipping.ipynb"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(answer(root, source)))
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", "submitted", "--out", "out",
                          "--db", f"sqlite:///{root / 'gb.db'}", "--assignment", "clipping"],
                         cwd=root, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    right = json.loads((root / "out" / "right" / "clipping" / "results.json").read_text())
    wrong = json.loads((root / "out" / "wrong" / "clipping" / "results.json").read_text())
    assert right["score"] == 10 and wrong["score"] == 0
    assert "known mistake, element-wise clipping" in wrong["tests"][0]["output"]


def test_the_new_exercise_self_checks_with_pytest(course):
    root, _ = course
    folder = root / "learner"
    shutil.copytree(root / "assignments" / "clipping", folder)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                         cwd=folder, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "still the stub" in run.stdout
