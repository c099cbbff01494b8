"""Hidden checks inside a notebook kernel, for real ``nbgrader autograde``.

The source notebook's hidden test cells call :func:`check_hidden`. It runs one group of the
suite's cases on the function as the kernel holds it, with the same checks and reference as
the sandboxed grader. The kernel is the learner's: this path trusts the learner's code, as
nbgrader always does. ``python -m autograder grade`` is the one that does not.
"""
from .diagnosis.stage import excused, own_forward_verdict
from .kit.checks import CallFailed, check_case, explain, run_case
from .reference import expected_traces, mistake_traces
from .suites import SUITES


def _local_cases(functions: dict):
    """Sandbox.run_cases's outcomes, from the functions as the kernel holds them."""
    def run_cases(name: str, cases: list[dict]):
        for case in cases:
            try:
                yield run_case(functions[name], case, functions)
            except CallFailed as exc:
                yield exc
    return run_cases


def check_hidden(assignment: str, function: str, group_id: str, fn, **functions) -> None:
    """Raise AssertionError naming every failed case; ``functions``: others a case needs."""
    spec = SUITES[assignment].function(function)
    group = spec.group(group_id)
    expected, mistakes = expected_traces(assignment), mistake_traces(assignment)
    checks = [check_case(fn, case, expected[function, group_id, i], spec.hints, functions,
                         mistakes.get((function, group_id, i)))
              for i, case in enumerate(group.cases)]
    if not all(c.passed for c in checks) and spec.depends_on:
        # the grader's policy for a backward pass after a slightly wrong forward pass
        verdict = own_forward_verdict(assignment, function, spec.depends_on[0],
                                      _local_cases({**functions, function: fn}))
        if verdict is not None and verdict.keeps_marks:
            checks = [excused(c) for c in checks]
    if not all(c.passed for c in checks):
        raise AssertionError(explain(checks))
    print(f"{function}: all {len(checks)} hidden checks on {group.summary} passed.")
