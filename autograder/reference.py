"""The reference: the source notebook's solution cells, run in the grader's own process.

The source notebook is the only place the reference is written. Expected traces for every
case are computed from it once per process; the learner never sees them.
"""
from __future__ import annotations

import functools
from typing import Callable

import nbformat

from .course import SOURCE
from .kit.checks import answer_cells, numerical_bn_backward, run_case
from .suite import Suite
from .suites import SUITES


@functools.cache
def reference_functions(assignment: str) -> dict[str, Callable]:
    suite = SUITES[assignment]
    path = SOURCE / assignment / suite.notebook
    cells = dict(answer_cells(nbformat.read(path, as_version=4)))
    namespace: dict = {"__name__": f"reference_{assignment}"}
    exec(suite.prelude, namespace)
    for spec in suite.functions:
        exec(compile(cells[spec.name], f"<{path.name}: solution {spec.name}>", "exec"), namespace)
    return {spec.name: namespace[spec.name] for spec in suite.functions}


@functools.cache
def expected_traces(assignment: str) -> dict[tuple[str, str, int], list[dict]]:
    """(function, group id, case index) -> the reference's trace for that case."""
    suite: Suite = SUITES[assignment]
    reference = reference_functions(assignment)
    return {(spec.name, group.id, i): _expected(reference, spec.name, case)
            for spec in suite.functions for group in spec.groups
            for i, case in enumerate(group.cases)}


def _expected(reference: dict[str, Callable], name: str, case: dict) -> list[dict]:
    if case.get("expected_from") == "numerical":
        # Gradients are held to the numerical gradient of the reference forward pass, not
        # to another analytic backward that could share its mistakes.
        return numerical_bn_backward(reference[case["forward"]], case)
    return run_case(reference[name], case, reference)
