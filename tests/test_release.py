"""The committed release and solutions are what `python -m autograder release` makes from
source/ today, and the release reveals no solution and no hidden case."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from autograder.kit.checks import answer_cells, from_json
from autograder.suites import SUITES

from .helpers import ROOT

SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)


def same_data(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype and np.allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_data(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_data(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return bool(np.isclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True))
    return a == b


def notebook_signature(path: Path, outputs: bool) -> list:
    """Cells as (type, source, nbgrader metadata[, output kinds, image count]).

    Output text is left out: timings and the last bits of BLAS results vary between runs.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        entry = [cell["cell_type"], "".join(cell["source"]), cell["metadata"].get("nbgrader")]
        if outputs and cell["cell_type"] == "code":
            # a kernel may split one print's text into several stream messages
            entry.append(sorted({o["output_type"] for o in cell["outputs"]}))
            entry.append(sum("image/png" in o.get("data", {}) for o in cell["outputs"]))
        cells.append(entry)
    return cells


@pytest.mark.parametrize("folder", ["assignments", "solutions"])
def test_committed_folders_are_what_source_builds(released_course, folder):
    fresh_release = released_course
    built = sorted(p.relative_to(fresh_release / folder)
                   for p in (fresh_release / folder).rglob("*") if p.is_file())
    committed = sorted(p.relative_to(ROOT / folder)
                       for p in (ROOT / folder).rglob("*") if p.is_file())
    assert committed == built, f"{folder}/ is stale: run `python -m autograder release`"
    for relative in built:
        new, old = fresh_release / folder / relative, ROOT / folder / relative
        if relative.suffix == ".ipynb":
            assert notebook_signature(old, folder == "solutions") == \
                notebook_signature(new, folder == "solutions"), f"{folder}/{relative} is stale"
        elif relative.name == "visible_cases.json":
            # expected values from eigh and friends may differ in the last bits between BLAS
            # builds; they are compared with tolerances far coarser than that
            assert same_data(from_json(json.loads(old.read_text())),
                             from_json(json.loads(new.read_text()))), f"{folder}/{relative} is stale"
        else:
            assert old.read_bytes() == new.read_bytes(), f"{folder}/{relative} is stale"


def test_solutions_are_executed_with_plots_and_without_hidden_tests():
    for suite in SUITES.values():
        cells = notebook_signature(ROOT / "solutions" / suite.assignment / suite.notebook, True)
        assert sum(cell[4] for cell in cells if cell[0] == "code") >= 1, "plots missing"
        assert not any("error" in cell[3] for cell in cells if cell[0] == "code")
        assert not any("HIDDEN TESTS" in cell[1] for cell in cells)


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_release_reveals_no_solution_code(assignment):
    suite = SUITES[assignment]
    source = json.loads((ROOT / "source" / assignment / suite.notebook).read_text())
    codes = [code for _, code in answer_cells(source)]
    public = "\n".join(SOLUTION_BLOCK.sub("", code) for code in codes)  # docstrings state formulas
    solution_lines = {line.strip() for code in codes for block in SOLUTION_BLOCK.findall(code)
                      for line in block.splitlines()
                      if len(line.strip()) > 12 and line.strip() not in public}
    assert solution_lines, "the source notebook has no solution blocks"
    for path in (ROOT / "assignments" / assignment).rglob("*"):
        if path.suffix == ".npz":  # data: numbers only, nothing that could hold code
            with np.load(path, allow_pickle=False) as data:
                assert all(data[key].dtype.kind in "biuf" for key in data.files), path.name
        elif path.is_file():
            text = path.read_text(encoding="utf-8")
            leaked = [line for line in solution_lines if line in text]
            assert not leaked, f"{path.name} contains solution lines: {leaked[:3]}"
            assert "HIDDEN TESTS" not in text and "check_hidden" not in text, path.name
            assert "autograder" not in text, f"{path.name} refers to the grader"


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_release_reveals_no_hidden_case(assignment):
    suite = SUITES[assignment]
    visible = from_json(json.loads(
        (ROOT / "assignments" / assignment / "visible_cases.json").read_text()))

    def arrays(value):
        if isinstance(value, np.ndarray):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from arrays(v)
        elif isinstance(value, list):
            for v in value:
                yield from arrays(v)

    shipped = [a for a in arrays(visible) if a.size > 1]
    for spec in suite.functions:
        for group in spec.groups:
            if not group.hidden:
                continue
            for case in group.cases:
                for hidden in arrays(case):
                    if hidden.size > 1:
                        assert not any(a.shape == hidden.shape and np.array_equal(a, hidden)
                                       for a in shipped), f"{spec.name}: {case['description']}"
        shipped_descriptions = {c["description"] for c in visible["functions"][spec.name]["cases"]}
        assert all(c["description"] in shipped_descriptions for c in spec.group("visible").cases)


REPRODUCED = ("batchnorm", "optimizers", "preprocessing")  # the finished assignments


def _files(root: Path) -> dict[str, bytes]:
    """Every file a release of REPRODUCED writes, by its path in the course: the learners'
    and the solutions' folders, and what it writes into source/."""
    found = {}
    for assignment in REPRODUCED:
        for folder in ("assignments", "solutions"):
            found.update({str(p.relative_to(root)): p.read_bytes()
                          for p in (root / folder / assignment).rglob("*") if p.is_file()})
        for name in ("visible_cases.json", "README.md", "requirements.txt", "pytest.ini"):
            path = root / "source" / assignment / name
            found[str(path.relative_to(root))] = path.read_bytes()
    return found


def test_a_second_release_writes_the_same_bytes(released_course, tmp_path):
    import shutil
    import subprocess
    import sys

    from .conftest import RELEASE_COMMAND

    course = tmp_path / "course"
    shutil.copytree(released_course, course, symlinks=True)
    before = _files(course)
    assert any(name.endswith("solutions/batchnorm/batchnorm.ipynb") for name in before)
    run = subprocess.run([sys.executable, *RELEASE_COMMAND.split()[1:], *REPRODUCED], cwd=course,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    after = _files(course)
    assert after.keys() == before.keys()
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, changed


def test_computed_values_that_moved_in_the_last_bits_keep_their_released_digits():
    from autograder.release import SIGNIFICANT_DIGITS, kept_as_released, rounded

    released = rounded({"expected": [5.924162380503693, -1e-20, 3.0], "n": 3, "w0": [0.1]})
    assert released["expected"][0] == float(f"{5.924162380503693:.{SIGNIFICANT_DIGITS}g}")
    assert released["w0"] == [0.1] and released["n"] == 3
    elsewhere = {"expected": [np.nextafter(v, np.inf) for v in released["expected"]],
                 "n": 3, "w0": [0.1]}  # another machine, one bit up everywhere
    assert json.dumps(kept_as_released(elsewhere, released)) == json.dumps(released)
    moved = {**elsewhere, "expected": [5.9241, -1e-20, 3.0]}  # a real change is written
    assert kept_as_released(moved, released)["expected"][0] == 5.9241


def test_a_solution_that_differs_only_in_printed_numbers_is_left_as_released(tmp_path):
    from autograder.release import keep_if_unchanged

    def notebook(printed: str, source: str = "print(t)") -> bytes:
        return json.dumps({"cells": [{"cell_type": "code", "source": source, "outputs": [
            {"output_type": "stream", "name": "stdout", "text": printed}]}]}).encode()

    path = tmp_path / "solution.ipynb"
    released = notebook("staged 1.153 ms, 6.47x\n")
    path.write_bytes(notebook("staged 1.2 ms, 6.1x\n"))
    keep_if_unchanged(path, released)
    assert path.read_bytes() == released
    path.write_bytes(notebook("staged 1.2 ms, 6.1x\n", source="print(t, 'ms')"))
    keep_if_unchanged(path, released)
    assert path.read_bytes() != released
