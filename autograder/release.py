"""Build what learners receive and the solutions, from ``source/`` alone.

Stages, in order, for every assignment with a suite:

1. ``visible_cases.json`` in the source folder: the suite's visible cases with the expected
   traces of the reference (data only; the reference code stays in the source notebook).
2. ``nbgrader generate_assignment``: the student notebook and the folder's files, with
   solutions and hidden tests removed, into ``assignments/``.
3. ``nbgrader generate_solution``: the notebook with solutions, executed so its plots are in
   it, into ``solutions/``. Any cell that raised, hidden tests included, stops the release;
   hidden tests are then cleared from it, since solutions are handed out (nbgrader keeps
   them).

nbgrader is driven through its Python API in this process, not its command line.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import nbformat

from .course import RELEASE, ROOT, SOLUTIONS, SOURCE, put_python_tools_on_path
from .kit.checks import VISIBLE_CASES, ReleasedCells, to_json
from .reference import expected_traces, mistake_traces, read_notebook
from .suites import SUITES

HIDDEN_BLOCK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?",
                          re.DOTALL | re.MULTILINE)


def visible_cases_document(assignment: str) -> dict:
    suite = SUITES[assignment]
    expected = expected_traces(assignment)
    mistakes = mistake_traces(assignment)
    functions = {}
    for spec in suite.functions:
        group = spec.group("visible")
        # what each known mistake produces here, so the learner's own run can name it
        cases = [{**case, "expected": expected[spec.name, "visible", i],
                  "mistakes": mistakes.get((spec.name, "visible", i), [])}
                 for i, case in enumerate(group.cases)]
        functions[spec.name] = {"hints": spec.hints, "cases": cases}
    source = read_notebook(SOURCE / assignment / suite.notebook)
    # the cells the learner is given, so the self-check can load the ones they add
    released = ReleasedCells.of([source]).to_json()
    return to_json({"assignment": assignment, "notebook": suite.notebook,
                    "prelude": suite.prelude, "released_cells": released,
                    "functions": functions})


def write_visible_cases(assignment: str) -> Path:
    path = SOURCE / assignment / VISIBLE_CASES
    path.write_text(json.dumps(visible_cases_document(assignment), indent=1) + "\n",
                    encoding="utf-8")
    return path


def cell_errors(notebook: Path) -> list[str]:
    """'cell <id>: <error>' for every cell of an executed notebook that raised."""
    nb = nbformat.read(notebook, as_version=4)
    return [f"cell {cell.get('id', i)}: {out.ename}: {out.evalue}"
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.output_type == "error"]


def strip_hidden_tests(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "### BEGIN HIDDEN TESTS" in cell.source:
            cell.source = HIDDEN_BLOCK.sub("", cell.source).rstrip() + "\n# (hidden tests removed)"
            cell.outputs = []
    nbformat.write(nb, notebook)


def nbgrader_api(course_root: Path = ROOT):
    put_python_tools_on_path()
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(course_root)
    config.CourseDirectory.source_directory = "source"
    config.CourseDirectory.release_directory = "assignments"
    config.CourseDirectory.solution_directory = "solutions"
    config.CourseDirectory.db_url = f"sqlite:///{course_root / 'build' / 'release.db'}"
    config.Exchange.root = str(course_root / "build" / "exchange")
    (course_root / "build").mkdir(exist_ok=True)
    return NbGraderAPI(config=config)


def generate_solution(api, assignment: str) -> dict:
    """``nbgrader generate_solution`` for one assignment (the API has no method for it)."""
    from nbgrader.apps.api import capture_log, temp_attrs
    from nbgrader.converters import GenerateSolution

    with temp_attrs(api.coursedir, assignment_id=assignment):
        app = GenerateSolution(coursedir=api.coursedir, parent=api)
        app.force = True
        return capture_log(app)


def release(assignments: list[str] | None = None) -> list[str]:
    """Regenerate the release and the solutions; returns the assignments built."""
    names = assignments or sorted(SUITES)
    # The kernels that run the solutions' hidden test cells import this course's grader.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT),
                                                             os.environ.get("PYTHONPATH")]))
    api = nbgrader_api()
    for name in names:
        write_visible_cases(name)
        for target in (RELEASE / name, SOLUTIONS / name):
            shutil.rmtree(target, ignore_errors=True)
        result = api.generate_assignment(name, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{result['log']}")
        result = generate_solution(api, name)
        if not result["success"]:
            raise RuntimeError(f"nbgrader generate_solution {name} failed:\n{result['log']}")
        for notebook in (SOLUTIONS / name).glob("*.ipynb"):
            errors = cell_errors(notebook)
            if errors:  # the reference must pass its own tests and run top to bottom
                raise RuntimeError(f"{notebook.relative_to(ROOT)} does not run cleanly:\n"
                                   + "\n".join(errors))
            strip_hidden_tests(notebook)
    return names
