"""Diagnosis by experiment: probes run on the learner's function, reasoning in the grader.

    probe_cases(assignment, function)  -> extra cases (plain data, the kit's case kinds),
                                          run in the sandbox like the graded ones
    diagnose_function(assignment, function, traces) -> Explanation

The probes' traces are matched against members of a formula family around the reference
(family.py, one module of families and probes per assignment); the reference's traces
for the same probes come from reference.py, in the grader's process. The catalog of known
mistakes is one source of evidence: a member that is a catalogued mistake is named in the
catalog's words.
"""
from __future__ import annotations

import functools
import importlib

from .explain import Explanation, explain

MODULES = {"optimizers": "optimizers", "batchnorm": "batchnorm", "preprocessing": "preprocessing"}


def _module(assignment: str):
    return importlib.import_module(f"{__name__}.{MODULES[assignment]}")


def diagnosable(assignment: str, function: str) -> bool:
    return assignment in MODULES and function in _module(assignment).BUILDERS


@functools.cache
def probe_cases(assignment: str, function: str) -> tuple[dict, ...]:
    return tuple(_module(assignment).probes(function))


@functools.cache
def _expected(assignment: str, function: str) -> tuple[list[dict], ...]:
    from ..kit.checks import run_case
    from ..reference import reference_functions

    reference = reference_functions(assignment)
    return tuple(run_case(reference[function], case, reference)
                 for case in probe_cases(assignment, function))


@functools.cache
def _catalog(assignment: str, function: str) -> dict[str, tuple[str, str]]:
    from ..mistakes import catalog

    return {m.name: (m.description, m.hint) for m in catalog(assignment)[0]
            if m.function == function}


@functools.cache
def _catalogued(assignment: str, function: str) -> dict[str, list]:
    """name -> each catalogued mistake's traces on the probes (None where it raises)."""
    from ..kit.checks import CallFailed, run_case
    from ..mistakes import catalog
    from ..reference import mistake_functions

    found = {}
    for mistake in catalog(assignment)[0]:
        if mistake.function != function:
            continue
        functions = mistake_functions(assignment, mistake)
        traces = []
        for case in probe_cases(assignment, function):
            try:
                traces.append(run_case(functions[function], case, functions))
            except CallFailed:
                traces.append(None)
        found[mistake.name] = traces
    return found


def diagnose_function(assignment: str, function: str, traces: list[list[dict] | None]
                      ) -> Explanation:
    """What the probes' traces (one per probe case, None where the learner's function
    raised) say about the learner's ``function``."""
    module = _module(assignment)
    probes = list(probe_cases(assignment, function))
    return explain(module.family(function, traces), probes, list(traces),
                   list(_expected(assignment, function)), module.compared_keys(function),
                   _catalog(assignment, function), _catalogued(assignment, function))


__all__ = ["Explanation", "diagnosable", "diagnose_function", "probe_cases"]
