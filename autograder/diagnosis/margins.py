"""By how much each catalogued mistake fails the hidden groups it fails.

A margin is an error divided by the case's tolerance; a wrong shape, a missing quantity or a
raised error counts as infinite. A catalogued mistake's margin is, over the hidden groups it
fails, the smallest of the group's largest margin over every quantity and step of its
cases: near 1, a slightly different case would let the mistake through.
"""
from __future__ import annotations

import math

import numpy as np

from ..kit.checks import DEFAULT_TOL, align_signs, rel_error
from ..reference import expected_traces, mistake_traces
from ..suites import SUITES


def value_margin(got, want, tol: float) -> float:
    if isinstance(want, (str, bool)) or want is None:
        return 0.0 if got == want else math.inf
    try:
        got_a, want_a = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    except (TypeError, ValueError):
        return math.inf
    if got_a.shape != want_a.shape or not np.array_equal(np.isfinite(got_a), np.isfinite(want_a)):
        return math.inf
    finite = np.isfinite(want_a)
    return rel_error(got_a[finite], want_a[finite]) / tol


def worst_margin(case: dict, trace: list[dict] | None, expected: list[dict]) -> float:
    """The largest error / tolerance over every step and quantity of one case."""
    if trace is None or len(trace) != len(expected):
        return math.inf
    tol = case.get("tol", DEFAULT_TOL)
    ratios = []
    for got, want in zip(trace, expected):
        if case.get("sign_free"):
            got = align_signs(got, want, case["sign_free"])
        ratios += [value_margin(got[key], value, tol) if key in got else math.inf
                   for key, value in want.items()]
    return max(ratios, default=0.0)


def worst_margins(assignment: str, mistake) -> float | None:
    """The smallest, over the hidden groups the mistake fails, of the group's largest
    worst-case margin; None when it fails no hidden group."""
    spec = SUITES[assignment].function(mistake.function)
    expected, traces = expected_traces(assignment), mistake_traces(assignment)
    failing = []
    for group in spec.groups:
        if not group.hidden:
            continue
        ratios = [worst_margin(case, entry["trace"], expected[spec.name, group.id, i])
                  for i, case in enumerate(group.cases)
                  for entry in traces.get((spec.name, group.id, i), ())
                  if entry["name"] == mistake.name]
        ratios = [r for r in ratios if r > 1.0]
        if ratios:
            failing.append(max(ratios))
    return min(failing) if failing else None
