"""Every solution notebook runs top to bottom in a fresh kernel within its time budget, plots
included; every released notebook runs up to its first stub and fails there, nowhere else."""
from __future__ import annotations

import shutil
import time

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.suites import SUITES

from .helpers import ROOT

# Seconds for a whole solution notebook on a 2-core laptop (kernel start included);
# measured on this 2-core machine: 1.6 to 2.5 s.
BUDGET = {"optimizers": 30, "batchnorm": 30, "preprocessing": 30, "tuning": 30}


def execute(nb, folder, allow_errors=False) -> float:
    started = time.perf_counter()
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return time.perf_counter() - started


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_the_solution_runs_top_to_bottom_with_its_plots(tmp_path, assignment):
    folder = tmp_path / assignment
    shutil.copytree(ROOT / "solutions" / assignment, folder)
    nb = nbformat.read(folder / SUITES[assignment].notebook, as_version=4)
    seconds = execute(nb, folder)
    assert seconds < BUDGET[assignment], f"{assignment} took {seconds:.1f} s"
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                 for o in c.outputs)
    assert images >= 1


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_the_release_runs_until_its_first_stub_and_fails_there(tmp_path, assignment):
    folder = tmp_path / assignment
    shutil.copytree(ROOT / "assignments" / assignment, folder)
    nb = nbformat.read(folder / SUITES[assignment].notebook, as_version=4)
    execute(nb, folder, allow_errors=True)
    errors = [(i, o) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "error"]
    first_stub = next(i for i, c in enumerate(nb.cells)
                      if c.metadata.get("nbgrader", {}).get("solution"))
    assert errors, "the released notebook ran without any error"
    first_error_cell, first_error = errors[0]
    assert first_error_cell > first_stub
    for _, error in errors:  # every failure is a stub's, in a stub or a cell that calls one
        assert error.ename == "NotImplementedError" or \
            "raised NotImplementedError: the answer cell is still the stub" in error.evalue
    for index, cell in enumerate(nb.cells[:first_stub + 1]):
        assert not any(o.output_type == "error" for o in cell.get("outputs", [])), index
