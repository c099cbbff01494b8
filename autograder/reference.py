"""The reference: the source notebook's solution cells, run in the grader's own process.

The source notebook is the only place the reference is written. Expected traces for every
case, and what each catalogued mistake produces on it, are computed from it once and kept
in the grader's cache folder (course.GRADER_CACHE), under a key that changes whenever any
of their inputs does; the learner never sees them.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Callable

import numpy as np

from .course import GRADER_CACHE, SOURCE
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


def expected_traces(assignment: str) -> dict[tuple[str, str, int], list[dict]]:
    """(function, group id, case index) -> the reference's trace for that case."""
    return _traces(assignment)[0]


def mistake_traces(assignment: str) -> dict[tuple[str, str, int], list[dict]]:
    """(function, group id, case index) -> what each catalogued mistake of that function
    produces on the case: {"name", "description", "hint", "trace"}, trace None where the
    mistake raises. Mistakes that produce the expected trace are left out: they cannot
    explain a failure there."""
    return _traces(assignment)[1]


_TRACES: dict[str, tuple[dict, dict]] = {}
_TRACES_LOCK = threading.Lock()  # threads that start together get the same tables


def _traces(assignment: str) -> tuple[dict, dict]:
    """(expected traces, mistake traces), once per process: read from the cache, else
    computed and kept there.

    Computing them runs every case through the reference and every catalogued mistake:
    0.66 s for the four assignments on an idle core, in every grading process of every
    grade command; reading them back takes about 0.06 s."""
    with _TRACES_LOCK:
        if assignment not in _TRACES:
            key = traces_key(assignment)
            found = _read_traces(assignment, key)
            if found is None:
                expected = _expected_traces(assignment)
                found = expected, _mistake_traces(assignment, expected)
                _write_traces(assignment, key, *found)
            _TRACES[assignment] = found
        return _TRACES[assignment]


def traces_key(assignment: str) -> str:
    """Changes whenever the traces could: the cases, the reference and the checks (the suite's
    fingerprint), the prelude, every catalogued mistake (and the catalog's modules, for any
    helper they hold), this file (how traces are computed and stored), and the numpy and
    Python that compute them."""
    from . import mistakes as catalogs

    digest = hashlib.sha256(suite_fingerprint(assignment).encode())
    mistakes, _ = catalogs.catalog(assignment)
    digest.update(json.dumps([SUITES[assignment].prelude, np.__version__, sys.version, [
        [m.function, m.name, m.description, m.hint, m.cells()] for m in mistakes]]).encode())
    for source in (Path(__file__), Path(catalogs.__file__),
                   Path(catalogs.__file__).with_name(f"{assignment}.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()


def _cache_file(assignment: str, key: str) -> Path:
    """Where the traces are kept; named by part of the key, which the file holds whole."""
    return GRADER_CACHE / f"traces-{assignment}-{key[:32]}.pickle"


def _read_traces(assignment: str, key: str) -> tuple[dict, dict] | None:
    """The traces stored under ``key``; None when there are none, or unreadable ones (they
    are computed again)."""
    try:
        with open(_cache_file(assignment, key), "rb") as stored:
            found_key, expected, mistakes = _TracesUnpickler(stored).load()
    except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError):
        return None
    return (expected, mistakes) if found_key == key else None


class _TracesUnpickler(pickle.Unpickler):
    """Reads back only what traces are made of: containers, numbers, text and numpy's
    arrays of numbers. The file is the grader's own, in the organizer's folder; this keeps
    a file put there by anyone else from running code when it is read. (The sandbox's
    message format, which needs no pickle, took 0.19 s to read the optimizers' 12,500
    small arrays, against 0.03 s.)"""

    ALLOWED = {("numpy", "dtype"), ("numpy._core.numeric", "_frombuffer"),
               ("numpy.core.numeric", "_frombuffer"), ("numpy._core.multiarray", "scalar"),
               ("numpy.core.multiarray", "scalar")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not part of a trace")
        return super().find_class(module, name)


def _write_traces(assignment: str, key: str, expected: dict, mistakes: dict) -> None:
    """Store the traces, whole or not at all (a grader reading at the same time gets the
    old file or the new), and remove those stored under earlier keys. A cache that cannot
    be written costs only time."""
    path = _cache_file(assignment, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as out:
                pickle.dump((key, expected, mistakes), out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(partial, path)
        finally:
            Path(partial).unlink(missing_ok=True)
        for earlier in path.parent.glob(_cache_file(assignment, "?" * 32).name):
            if earlier != path:
                earlier.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError):
        return


def _expected_traces(assignment: str) -> dict[tuple[str, str, int], list[dict]]:
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


def _mistake_traces(assignment: str, expected: dict) -> dict[tuple[str, str, int], list[dict]]:
    from .mistakes import catalog

    suite = SUITES[assignment]
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
