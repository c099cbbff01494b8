"""Grade one submitted notebook: the pipeline, stage by stage.

    read the notebook (submission.py) -> answer cells by grade_id
    -> start the sandbox with that code (sandbox/process.py)
    -> drive every case through the learner's function inside the sandbox (kit/checks.py)
    -> compare the traces with the reference's in the grader (reference.py, kit/checks.py)
    -> typed results (results.py)

The grader's process holds the cases, the reference and the comparisons; the sandbox holds
only the learner's code.
"""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from .diagnosis import diagnosable
from .diagnosis.stage import explain_function
from .evidence import plot_data
from .kit.checks import Check, compare_traces, diagnose, too_slow
from .reference import expected_traces, mistake_traces
from .results import FunctionResult, GroupResult, SubmissionResult
from .sandbox.process import (CaseFailed, LearnerError, Limits, Sandbox, SandboxFailure,
                              SandboxTimeout)
from .sandbox.wire import Steps
from .submission import read_submission
from .suite import FunctionSpec, Suite


_WITH_COLUMNS: dict[int, tuple[dict, dict]] = {}


def _with_columns(expected: dict) -> dict:
    """The reference's traces as Steps, whose columns are compared whole with the learner's;
    made once per table of traces (the table is kept: its id stays its own)."""
    held = _WITH_COLUMNS.get(id(expected))
    if held is None or held[0] is not expected:
        held = _WITH_COLUMNS[id(expected)] = (
            expected, {key: Steps.of(trace) for key, trace in expected.items()})
    return held[1]


def _verdict(spec: FunctionSpec, case: dict, outcome: list[dict] | Exception,
             expected: list[dict], mistakes: list[dict]) -> tuple[Check, bool, dict | None]:
    """The verdict on one case from its outcome in the sandbox (the trace, or the error
    Sandbox.run_case raises), whether the learner's process died or hung on it, and the
    data of a picture of the failure."""
    description = case["description"]
    try:
        if isinstance(outcome, Exception):
            raise outcome
        actual = outcome
    except CaseFailed as exc:
        return Check(spec.name, description, False, f"{exc} ({description})."), False, None
    except LearnerError as exc:
        detail = f"\n{exc.detail}" if exc.detail else ""
        return Check(spec.name, description, False,
                     f"{spec.name}() raised {exc}{detail} ({description})."), False, None
    except SandboxTimeout as exc:
        if case.get("seconds"):  # its own budget, not a hang: the next cases still run
            return Check(spec.name, description, False, too_slow(case)), False, None
        return Check(spec.name, description, False,
                     f"{spec.name}(): {exc} ({description})."), True, None
    except SandboxFailure as exc:
        return Check(spec.name, description, False,
                     f"{spec.name}(): {exc} ({description})."), True, None
    check = diagnose(compare_traces(spec.name, case, actual, expected, spec.hints),
                     case, actual, mistakes)
    picture = None if check.passed else plot_data(case, actual, expected, check.quantity,
                                                  check.step)
    return check, False, picture


def _grade_function(spec: FunctionSpec, sandbox: Sandbox, expected: dict, mistakes: dict,
                    problem: str | None) -> FunctionResult:
    """Every case of every group, sent to the sandbox in one request (again for the cases
    left after a timed case ran out of time); once the function kills or hangs the
    learner's process, its remaining cases are not run (each would cost a restart and a
    timeout)."""
    todo = [((spec.name, group.id, i), case) for group in spec.groups
            for i, case in enumerate(group.cases if problem is None else ())]
    checks, stopped, picture = {}, None, None
    while todo and not stopped:
        outcomes = sandbox.run_cases(spec.name, [case for _, case in todo])
        for outcome in outcomes:
            key, case = todo.pop(0)
            check, fatal, data = _verdict(spec, case, outcome, expected[key],
                                          mistakes.get(key, []))
            checks[key] = check
            if data and (picture is None or data["kind"] == "paths" != picture["kind"]):
                picture = data  # an optimizer's path says more than a scatter of values
            if fatal:
                stopped = (f"{spec.name}(): not run, since an earlier case ended the learner's "
                           f"process ({check.case}).")
        outcomes.close()
    for key, case in todo:
        checks[key] = Check(spec.name, case["description"], False, stopped)
    groups = [GroupResult(group.grade_id(spec.name), group.summary, group.points, group.hidden,
                          tuple(checks[(spec.name, group.id, i)] for i in range(len(group.cases))
                                if (spec.name, group.id, i) in checks))
              for group in spec.groups]
    return FunctionResult(spec.name, tuple(groups), problem, picture,
                          process_ended=stopped is not None)


def _function_problem(name: str, submission, defined: list[str], cell_errors: dict[str, str],
                      load_failure: str | None) -> str | None:
    """Why ``name`` cannot be called at all, or None when its cell defined it."""
    if load_failure:
        return load_failure
    if not any(grade_id == name for grade_id, _ in submission.cells):
        if submission.problems:
            return "not graded: " + "; ".join(submission.problems)
        return (f"{submission.path.name} has no answer cell '{name}' (was it deleted, or "
                f"turned into markdown?) and no code cell that defines {name}()")
    if name in defined:
        return None
    if name in cell_errors:
        return f"answer cell '{name}' does not run:\n{cell_errors[name]}"
    return (f"answer cell '{name}' runs but defines no function {name}(); keep the "
            f"function's name as given")


def _note_failed_dependencies(suite: Suite, result: SubmissionResult) -> None:
    """Say so when a function lost points while a function its cases call also did."""
    lost = {f.name for f in result.functions if f.score < f.max_score}
    for index, function in enumerate(result.functions):
        failed = [d for d in suite.function(function.name).depends_on if d in lost]
        # the banner only where the backward is right for the learner's own forward pass
        right_for_it = function.forward_first or not diagnosable(suite.assignment, function.name)
        if function.name in lost and failed and function.problem is None and right_for_it:
            note = (f"these checks call your {', '.join(failed)}(), which fails its own checks: "
                    f"fix it first, then look at this function again")
            result.functions[index] = replace(function, problem=note)


def prepare(suite: Suite) -> None:
    """The suite's reference and mistake traces made (or read from the grader's cache) now:
    grading processes forked after this share them instead of each making its own."""
    _with_columns(expected_traces(suite.assignment))
    mistake_traces(suite.assignment)


def grade_submission(suite: Suite, student: str, notebook: Path,
                     limits: Limits = Limits(), isolation: str | None = None) -> SubmissionResult:
    started = time.perf_counter()
    names = [spec.name for spec in suite.functions]
    submission = read_submission(notebook, names, suite.assignment, limits.submission_seconds)
    # reading counts against the submission's time, as the sandbox's requests do
    limits = replace(limits, submission_seconds=max(
        0.0, limits.submission_seconds - (time.perf_counter() - started)))
    expected = _with_columns(expected_traces(suite.assignment))
    mistakes = mistake_traces(suite.assignment)
    # The learner's own code cells load first, so the helpers they define are there for
    # the answer cells, as they were when the notebook ran in Jupyter.
    with Sandbox(submission.added + submission.cells, suite.prelude, limits, isolation,
                 functions=names) as sandbox:
        result = SubmissionResult(student, suite.assignment, suite.notebook, sandbox.isolation,
                                  problems=list(submission.problems))
        defined, load_failure = [], None
        if submission.cells:
            try:
                defined = sandbox.start()
            except SandboxFailure as exc:
                load_failure = f"the answer cells could not be loaded: {exc}"
                result.problems.append(load_failure)
        for spec in suite.functions:
            problem = _function_problem(spec.name, submission, defined, sandbox.cell_errors,
                                        load_failure)
            function = _grade_function(spec, sandbox, expected, mistakes, problem)
            # probes in the same sandbox, after the graded cases, for a function that failed
            function = explain_function(suite.assignment, function, sandbox.run_cases,
                                        next(iter(spec.depends_on), None))
            if spec.name in submission.notes:
                function = replace(function, problem="; ".join(
                    filter(None, [submission.notes[spec.name], function.problem])))
            result.functions.append(function)
        result.problems += [f"{label} did not run (cells you added are loaded before the "
                            f"answer cells): {sandbox.cell_errors[label]}"
                            for label, _ in submission.added if label in sandbox.cell_errors]
        result.printed = sandbox.output.report()
    _note_failed_dependencies(suite, result)
    result.seconds = time.perf_counter() - started
    return result
