"""The reference: the source notebook's solution cells, run in the grader's own process.

The source notebook is the only place the reference is written. Expected traces for every
case are computed from it once per process; the learner never sees them.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path
from typing import Callable

import numpy as np

from .course import SOURCE
from .kit.checks import (CallFailed, answer_cells, compare_traces, numerical_bn_backward,
                         run_case, to_json)
from .suite import Suite
from .suites import SUITES


def read_notebook(path: Path) -> dict:
    """One of the course's own notebooks (format 4, written by nbformat): plain JSON, read
    without nbformat's schema validation, which costs more than the grading it precedes."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


def solution_sources(assignment: str) -> dict[str, str]:
    """The reference's answer cells as a learner would write them: markers removed."""
    path = SOURCE / assignment / SUITES[assignment].notebook
    return {grade_id: SOLUTION_MARKERS.sub("", source)
            for grade_id, source in answer_cells(read_notebook(path))}


@functools.cache
def reference_functions(assignment: str) -> dict[str, Callable]:
    suite = SUITES[assignment]
    path = SOURCE / assignment / suite.notebook
    cells = dict(answer_cells(read_notebook(path)))
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


def mistake_functions(assignment: str, mistake) -> dict:
    """The reference's functions, with a catalogued mistake's cells in place of their own
    (the catalog is the grader's code: it runs in the grader's process)."""
    namespace = {**reference_functions(assignment), "__name__": "mistake"}
    exec(SUITES[assignment].prelude, namespace)
    for grade_id, source in mistake.cells():
        exec(compile(source, f"<mistake {mistake.name}: {grade_id}>", "exec"), namespace)
    return namespace


@functools.cache
def mistake_traces(assignment: str) -> dict[tuple[str, str, int], list[dict]]:
    """(function, group id, case index) -> what each catalogued mistake of that function
    produces on the case: {"name", "description", "hint", "trace"}, trace None where the
    mistake raises. Mistakes that produce the expected trace are left out: they cannot
    explain a failure there."""
    from .mistakes import catalog

    suite = SUITES[assignment]
    expected = expected_traces(assignment)
    mistakes, _ = catalog(assignment)
    found: dict[tuple[str, str, int], list[dict]] = {}
    for mistake in mistakes:
        namespace = mistake_functions(assignment, mistake)
        spec = suite.function(mistake.function)
        for group in spec.groups:
            for i, case in enumerate(group.cases):
                try:
                    trace = run_case(namespace[mistake.function], case, namespace)
                except CallFailed:
                    trace = None
                key = (spec.name, group.id, i)
                if trace is None or not compare_traces(spec.name, case, trace, expected[key]).passed:
                    found.setdefault(key, []).append(
                        {"name": mistake.name, "description": mistake.description,
                         "hint": mistake.hint, "trace": trace})
    return found


def _expected(reference: dict[str, Callable], name: str, case: dict) -> list[dict]:
    if case.get("expected_from") == "numerical":
        # Gradients are held to the numerical gradient of the reference forward pass, not
        # to another analytic backward that could share its mistakes.
        return numerical_bn_backward(reference[case["forward"]], case)
    return run_case(reference[name], case, reference)


def _digest_value(digest, value) -> None:
    """Feed a case's data to ``digest``: arrays by their bytes (a JSON text of the large
    timed batch would take half a second), the rest by its JSON."""
    if isinstance(value, np.ndarray):
        digest.update(f"<{value.dtype.str}{value.shape}>".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        for key in sorted(value):
            digest.update(json.dumps(key).encode())
            _digest_value(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(b"[")
        for item in value:
            _digest_value(digest, item)
        digest.update(b"]")
    else:
        digest.update(json.dumps(to_json(value)).encode())


@functools.cache
def suite_fingerprint(assignment: str) -> str:
    """Changes when the cases, the reference or the checks change: then results are stale."""
    suite = SUITES[assignment]
    digest = hashlib.sha256()
    for spec in suite.functions:
        for group in spec.groups:
            _digest_value(digest, [group.id, group.points, list(group.cases)])
    path = SOURCE / assignment / suite.notebook
    for grade_id, source in answer_cells(read_notebook(path)):
        digest.update(f"{grade_id}\0{source}".encode())
    digest.update((Path(__file__).parent / "kit" / "checks.py").read_bytes())
    return digest.hexdigest()
