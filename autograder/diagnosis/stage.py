"""The diagnosis stage of grading: after a function's cases, for a function that failed one.

    probes run in the sandbox (``run_cases``: one request, the graded cases' limits)
    -> a backward pass is first held to the gradient of the learner's own forward pass
    -> the probes' traces against the formula family -> the explanation on the result

A probe that makes the learner's process die or hang stops the probing, and the function's
result stays as graded; probes never change a score, except through the stated policy of
own_forward.py.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Iterable

from ..kit.checks import Check
from ..results import FunctionResult
from ..sandbox.process import SandboxFailure
from . import diagnosable, diagnose_function, own_forward, probe_cases

# (name, cases) -> each case's trace, or the error running it raised: Sandbox.run_cases
RunCases = Callable[[str, list[dict]], Iterable[list[dict] | Exception]]


class _Stopped(Exception):
    """The learner's process died or hung on a probe."""


def _traces(run_cases: RunCases, name: str, cases: list[dict]) -> list[list[dict] | None]:
    """One request for all ``cases``: each trace, None where the learner's code raised."""
    traces = []
    for outcome in run_cases(name, cases):
        if isinstance(outcome, SandboxFailure):
            raise _Stopped(str(outcome))
        traces.append(None if isinstance(outcome, Exception) else outcome)
    return traces


def own_forward_verdict(assignment: str, function: str, forward: str, run_cases: RunCases
                        ) -> own_forward.OwnForward | None:
    """The backward pass ``function`` against the gradient of the learner's ``forward`` on
    own_forward's probe; None when either raised there. Raises _Stopped as _traces does."""
    from ..reference import reference_functions

    case = own_forward.probe(function, forward)
    actual = _traces(run_cases, function, [case])[0]
    runs = _traces(run_cases, forward, own_forward.gradient_cases(case))
    if actual is None or any(r is None for r in runs):
        return None
    try:
        return own_forward.judge(case, actual, runs, reference_functions(assignment)[forward])
    except (KeyError, TypeError, ValueError, IndexError):
        return None


def excused(check: Check) -> Check:
    """A failed check whose outputs were compared, passed by the own-forward rule (a raised
    error, or the timed case's verdict, stands)."""
    if check.passed or check.quantity is None:
        return check
    return replace(check, passed=True, diagnosis=(), message=f"{check.function}: ok, right "
                   f"for your own forward pass ({check.case}).")


def explain_function(assignment: str, function: FunctionResult, run_cases: RunCases,
                     forward: str | None = None) -> FunctionResult:
    """``function`` with its explanation (and, for a backward pass right for a slightly
    wrong forward pass, its marks); unchanged when it passed every case or has no family.
    ``forward``: the learner function whose cache a backward pass reads."""
    if function.problem is not None or function.process_ended or \
            function.score == function.max_score or not diagnosable(assignment, function.name):
        return function  # nothing to explain, or a process a probe would only end again
    try:
        traces = _traces(run_cases, function.name, list(probe_cases(assignment, function.name)))
        verdict = own_forward_verdict(assignment, function.name, forward, run_cases) \
            if forward else None
    except _Stopped:  # the verdicts stand as graded; a dead process tells nothing more
        return function
    if verdict is not None and verdict.matches and verdict.forward_wrong:
        lines = (f"Diagnosis: {own_forward.words(function.name, forward, verdict)}",)
        if verdict.keeps_marks:
            function = replace(function, groups=tuple(
                replace(g, checks=tuple(map(excused, g.checks))) for g in function.groups))
        return replace(function, explanation=lines, forward_first=not verdict.keeps_marks)
    try:
        found = diagnose_function(assignment, function.name, traces)
    except Exception:  # noqa: BLE001 - advice only: whatever a trace holds, the grade stands
        return function
    lines = tuple(f"Diagnosis: {d}" for d in found.diagnoses) + \
        ((found.differs,) if found.differs else ())
    return replace(function, explanation=lines)
