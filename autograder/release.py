"""Build what learners receive and the solutions, from ``source/`` alone.

Stages, in order, for every assignment with a suite:

1. ``visible_cases.json`` in the source folder: the suite's visible cases with the expected
   traces of the reference (data only; the reference code stays in the source notebook);
   and the learner's README.md, requirements.txt and pytest.ini (learner_folder.py).
2. ``nbgrader generate_assignment``: the student notebook and the folder's files, with
   solutions and hidden tests removed, into ``assignments/``.
3. ``nbgrader generate_solution``: the notebook with solutions, executed so its plots are in
   it, into ``solutions/``. Any cell that raised, hidden tests included, stops the release;
   hidden tests are then cleared from it, since solutions are handed out (nbgrader keeps
   them).

nbgrader is driven through its Python API in this process, not its command line.

A release changes no byte when nothing changed, on this machine or another: the computed
values in visible_cases.json are written to SIGNIFICANT_DIGITS significant digits, and a
value that moved by less than REPRODUCED relative to the one already released keeps its
released digits (another CPU or BLAS differs in the last bits, which rounding alone can
still carry across a digit). Solution notebooks keep no execution timestamps, and one
whose cells and outputs equal the released one's but for the numbers it printed (a
measured time, a float's last digits) is left as released.
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
from .learner_folder import write_learner_files
from .diagnosis import diagnosable
from .diagnosis.table import visible_diagnosis
from .reference import expected_traces, mistake_traces, read_notebook
from .suites import SUITES

SIGNIFICANT_DIGITS = 12  # the checks' tolerances are 1e-6 and wider
REPRODUCED = 1e-10       # relative: a computed value this close to the released one is it

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
        cases = [{**case, "expected": rounded(to_json(expected[spec.name, "visible", i])),
                  "mistakes": [{**m, "trace": rounded(to_json(m["trace"]))}
                               for m in mistakes.get((spec.name, "visible", i), [])]}
                 for i, case in enumerate(group.cases)]
        functions[spec.name] = {"hints": spec.hints, "cases": cases}
        if diagnosable(assignment, spec.name):
            # the probes, and what the reference and each formula with one mistake give on
            # them: the learner's own run names a mistake without the reference's code
            table = visible_diagnosis(assignment, spec.name)
            table["members"] = [{"words": m["words"], "traces": rounded(to_json(m["traces"]))}
                                for m in table["members"]]
            functions[spec.name]["diagnosis"] = table
    source = read_notebook(SOURCE / assignment / suite.notebook)
    # the cells the learner is given, so the self-check can load the ones they add
    released = ReleasedCells.of([source]).to_json()
    return to_json({"assignment": assignment, "notebook": suite.notebook,
                    "prelude": suite.prelude, "released_cells": released,
                    "functions": functions})


def rounded(value):
    """JSON data with every float to SIGNIFICANT_DIGITS significant digits. Only computed
    values are rounded: the cases' inputs are written as they are, since rounding them
    would move data far from the origin by more than a tolerance once centred."""
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT_DIGITS}g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def kept_as_released(new, old):
    """``new`` with every float that is within REPRODUCED (relative) of the float at the
    same place in ``old`` replaced by that one; where the two differ in shape, ``new``."""
    if isinstance(new, float) and isinstance(old, float):
        close = abs(new - old) <= REPRODUCED * max(abs(new), abs(old))
        return old if close else new
    if isinstance(new, dict) and isinstance(old, dict):
        return {k: kept_as_released(v, old.get(k)) for k, v in new.items()}
    if isinstance(new, list) and isinstance(old, list) and len(new) == len(old):
        return [kept_as_released(v, w) for v, w in zip(new, old)]
    return new


def write_visible_cases(assignment: str) -> Path:
    path = SOURCE / assignment / VISIBLE_CASES
    document = visible_cases_document(assignment)
    try:
        document = kept_as_released(document, json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        pass  # a first release, or a broken file: written anew
    text = json.dumps(document, indent=1) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def cell_errors(notebook: Path) -> list[str]:
    """'cell <id>: <error>' for every cell of an executed notebook that raised."""
    nb = nbformat.read(notebook, as_version=4)
    return [f"cell {cell.get('id', i)}: {out.ename}: {out.evalue}"
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.output_type == "error"]


def _coalesced(outputs: list) -> list:
    """Outputs with consecutive stream outputs of one stream merged: the kernel sends a
    print's text and its newline in one message or in two, as it happens."""
    merged = []
    for output in outputs:
        if (output.get("output_type") == "stream" and merged
                and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == output.get("name")):
            merged[-1]["text"] += output["text"]
        else:
            merged.append(output)
    return merged


_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _but_printed_numbers(nb: dict) -> dict:
    """A notebook's JSON data with every number in what its cells printed masked."""
    nb = json.loads(json.dumps(nb))
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                output["text"] = _NUMBER.sub("#", "".join(output["text"]))
    return nb


def keep_if_unchanged(notebook: Path, released: bytes | None) -> None:
    """Put the released notebook back when the new one differs from it only in the numbers
    its cells printed."""
    if released is None:
        return
    try:
        same = _but_printed_numbers(json.loads(released)) == \
            _but_printed_numbers(json.loads(notebook.read_bytes()))
    except ValueError:
        return
    if same:
        notebook.write_bytes(released)


def finish_solution(notebook: Path) -> None:
    """Clear the hidden tests from an executed solution notebook, with what would change
    from one release to the next though nothing changed: the times its cells ran at, and
    how the kernel happened to split what a cell printed."""
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs = _coalesced(cell.outputs)
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
    # Their matplotlib keeps its font list in the course's build folder: a list that another
    # program on the machine wrote (one found no mathtext fonts here) changed the solutions'
    # outputs with warnings about fonts.
    os.environ["MPLCONFIGDIR"] = str(ROOT / "build" / "matplotlib")
    api = nbgrader_api()
    for name in names:
        write_visible_cases(name)
        suite = SUITES[name]
        write_learner_files(SOURCE / name, suite.notebook, [f.name for f in suite.functions])
        released = {path.name: path.read_bytes()
                    for path in (SOLUTIONS / name).glob("*.ipynb")}
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
            finish_solution(notebook)
            keep_if_unchanged(notebook, released.get(notebook.name))
    return names
