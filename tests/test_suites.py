"""Each suite and its source notebook describe the same exercise, and the hidden cases are
strong enough to mean something."""
from __future__ import annotations

import copy
import io
import json
import re

import numpy as np
import pytest

from autograder.inkernel import check_hidden
from autograder.kit import checks
from autograder.mistakes import catalog
from autograder.reference import expected_traces, reference_functions
from autograder.sandbox import wire
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


def test_deepcopy_config_copies_as_deepcopy_does():
    shared = np.arange(6.0).reshape(2, 3)
    nested = [shared, {"inner": np.zeros(2)}]
    config = {"learning_rate": 1e-2, "t": 3, "mode": "train", "eps": None,
              "m": shared, "also_m": shared, "fortran": np.asfortranarray(shared),
              "objects": np.array([[1.0], "a"], dtype=object), "nested": nested,
              "scalar": np.float64(0.5), "rng_state": (1, [2.0])}
    config["itself"] = [config]
    got = checks.deepcopy_config(config)
    want = copy.deepcopy(config)
    assert list(got) == list(want)
    for key in ("m", "fortran"):
        assert got[key] is not config[key] and np.array_equal(got[key], config[key])
    assert got["fortran"].flags.f_contiguous  # the memory order kept, as ndarray.__deepcopy__
    assert got["m"] is got["also_m"] is got["nested"][0]  # one array, one copy
    assert got["objects"][0] is not config["objects"][0]  # an object array's items copied
    assert got["objects"][0] == [1.0] and got["nested"][1]["inner"] is not nested[1]["inner"]
    assert got["itself"][0] is got  # a config that holds itself holds its copy
    assert got["rng_state"] == (1, [2.0]) and got["rng_state"][1] is not config["rng_state"][1]
    for key in ("learning_rate", "t", "mode", "eps"):
        assert got[key] is config[key]
    assert got["scalar"] == 0.5 and type(got["scalar"]) is np.float64


class Config(dict):
    pass


@pytest.mark.parametrize("value", [None, [{"m": np.zeros(2)}], Config(m=np.zeros(2))])
def test_deepcopy_config_of_what_is_not_a_plain_dict_is_deepcopy(value):
    got = checks.deepcopy_config(value)
    assert type(got) is type(value)
    assert repr(got) == repr(copy.deepcopy(value))


def through_the_wire(trace):
    return wire.read_message(io.BytesIO(wire.pack(wire.columns(trace))).read)


@pytest.mark.parametrize("change", ["none", "t off at step 7", "m keepdims", "lr off at step 9"])
def test_traces_with_columns_get_the_verdict_of_plain_steps(change):
    case = SUITES["optimizers"].function("adam").group("trajectories").cases[0]
    expected = expected_traces("optimizers")["adam", "trajectories", 0]
    actual = [dict(step) for step in expected]
    if change == "t off at step 7":
        actual[6]["t"] += 1
    elif change == "m keepdims":
        actual = [{**step, "m": step["m"][None]} for step in actual]
    elif change == "lr off at step 9":
        actual[8]["learning_rate"] *= 1.01
    plain = checks.compare_traces("adam", case, actual, expected)
    whole = checks.compare_traces("adam", case, through_the_wire(actual),
                                  wire.Steps.of(expected))
    assert whole == plain
    assert plain.passed == (change in ("none", "m keepdims"))
    assert ("keepdims" in plain.note) == (change == "m keepdims")
