"""Each suite and its source notebook describe the same exercise, and the hidden cases are
strong enough to mean something."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from autograder.inkernel import check_hidden
from autograder.mistakes import catalog
from autograder.reference import expected_traces, reference_functions
from autograder.suites import SUITES

from .helpers import ROOT


def source_cells(assignment):
    suite = SUITES[assignment]
    nb = json.loads((ROOT / "source" / assignment / suite.notebook).read_text())
    return [c for c in nb["cells"] if c["metadata"].get("nbgrader")]


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_notebook_grade_cells_are_the_suite_groups(assignment):
    suite = SUITES[assignment]
    in_notebook = {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
                   for c in source_cells(assignment) if c["metadata"]["nbgrader"]["grade"]}
    in_suite = {g.grade_id(f.name): g.points for f in suite.functions for g in f.groups}
    assert in_notebook == in_suite


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_hidden_cells_call_their_own_group(assignment):
    for cell in source_cells(assignment):
        meta = cell["metadata"]["nbgrader"]
        source = "".join(cell["source"])
        if meta["grade"] and "HIDDEN TESTS" in source:
            _, function, group = re.fullmatch(r"test_(\w+)_(\w+?)", meta["grade_id"]).group(0, 1, 2)
            others = "".join(f", {d}={d}" for d in SUITES[assignment].function(function).depends_on)
            assert f'check_hidden("{assignment}", "{function}", "{group}", {function}{others})' in source


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_answer_cells_are_the_graded_functions_with_documented_formulas(assignment):
    suite = SUITES[assignment]
    answers = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"])
               for c in source_cells(assignment) if c["metadata"]["nbgrader"]["solution"]}
    assert set(answers) == {f.name for f in suite.functions}
    for name, source in answers.items():
        assert f"def {name}(" in source
        docstring = source.split('"""')[1]
        assert "Inputs:" in docstring and "Returns" in docstring and "shape" in docstring
        assert "=" in docstring, f"{name}'s docstring states no formula"


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_reference_passes_its_own_hidden_groups_in_kernel_form(assignment, capsys):
    reference = reference_functions(assignment)
    for spec in SUITES[assignment].functions:
        for group in spec.groups:
            if group.hidden:
                check_hidden(assignment, spec.name, group.id, reference[spec.name], **reference)
    assert "hidden checks" in capsys.readouterr().out


def test_in_kernel_hidden_checks_reject_a_mistake():
    mistakes, _ = catalog("optimizers")
    namespace = {"np": np}
    exec(next(m for m in mistakes if m.name == "epsilon inside the square root"
              and m.function == "rmsprop").source, namespace)
    with pytest.raises(AssertionError, match="rmsprop: next_w relative error"):
        check_hidden("optimizers", "rmsprop", "steps", namespace["rmsprop"])


def test_trajectories_are_long_and_stay_finite():
    expected = expected_traces("optimizers")
    for spec in SUITES["optimizers"].functions:
        for i, case in enumerate(spec.group("trajectories").cases):
            assert case["steps"] >= 50
            trace = expected[spec.name, "trajectories", i]
            assert all(np.all(np.isfinite(step["next_w"])) for step in trace)
            assert np.max(np.abs(trace[-1]["next_w"])) < 1e3


def test_hidden_inputs_differ_from_visible_ones():
    for spec in SUITES["optimizers"].functions:
        visible_w = [np.asarray(c.get("w", c.get("w0"))) for c in spec.group("visible").cases]
        for group in spec.groups:
            if group.hidden:
                for case in group.cases:
                    w = np.asarray(case.get("w", case.get("w0")))
                    assert not any(v.shape == w.shape and np.array_equal(v, w) for v in visible_w)
