"""The reference's traces, and the cache that keeps them between grader runs: read back as
they were computed, computed again whenever anything they come from changes, and never
taken from a file the grader did not write for the same inputs."""
from __future__ import annotations

import math
import os
import pickle
from dataclasses import replace

import numpy as np
import pytest

import autograder.mistakes
from autograder import reference
from autograder.mistakes import catalog
from autograder.suites import SUITES


def same(a, b) -> bool:
    """Equal values of the same types, arrays of the same dtype and shape, all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(
            a, b, equal_nan=a.dtype.kind in "fc")
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder, and no traces held by this process."""
    monkeypatch.setattr(reference, "GRADER_CACHE", tmp_path / "cache")
    monkeypatch.setattr(reference, "_TRACES", {})
    return tmp_path / "cache"


def computations(monkeypatch) -> list[str]:
    """The assignments whose expected traces are computed from here on (not read)."""
    computed, compute = [], reference._expected_traces
    monkeypatch.setattr(reference, "_expected_traces",
                        lambda assignment: computed.append(assignment) or compute(assignment))
    return computed


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_traces_read_from_the_cache_are_the_ones_computed(cache, monkeypatch, assignment):
    computed = computations(monkeypatch)
    made = reference._traces(assignment)
    assert computed == [assignment] and len(list(cache.iterdir())) == 1
    monkeypatch.setattr(reference, "_TRACES", {})  # a later grader run
    read = reference._traces(assignment)
    assert computed == [assignment]  # read, not computed
    assert read is not made and same(read, made)
    assert len(made[0]) == sum(len(g.cases) for s in SUITES[assignment].functions
                               for g in s.groups) and made[1]


def changed_mistake(assignment):
    mistakes, alternatives = catalog(assignment)
    first = mistakes[0]
    return (replace(first, source=first.source + "\n# another line\n"), *mistakes[1:]), alternatives


def changed_hint(assignment):
    mistakes, alternatives = catalog(assignment)
    return (replace(mistakes[0], hint=mistakes[0].hint + " More."), *mistakes[1:]), alternatives


@pytest.mark.parametrize("change", ["mistake", "hint", "prelude", "case", "reference cell"])
def test_the_key_changes_with_everything_the_traces_come_from(monkeypatch, change):
    assignment = "preprocessing"
    before = reference.traces_key(assignment)
    suite = SUITES[assignment]
    reference.suite_fingerprint.cache_clear()
    if change == "mistake":
        monkeypatch.setattr(autograder.mistakes, "catalog", changed_mistake)
    elif change == "hint":
        monkeypatch.setattr(autograder.mistakes, "catalog", changed_hint)
    elif change == "prelude":
        monkeypatch.setitem(SUITES, assignment, replace(suite, prelude=suite.prelude + "\n"))
    elif change == "case":
        spec, group = suite.functions[0], suite.functions[0].groups[0]
        case = {**group.cases[0], "description": group.cases[0]["description"] + "!"}
        changed = replace(spec, groups=(replace(group, cases=(case, *group.cases[1:])),
                                        *spec.groups[1:]))
        monkeypatch.setitem(SUITES, assignment, replace(suite, functions=(
            changed, *suite.functions[1:])))
    else:
        cells = dict(reference.answer_cells(reference.read_notebook(
            reference.SOURCE / assignment / suite.notebook)))
        name = suite.functions[0].name
        monkeypatch.setattr(reference, "answer_cells", lambda nb: [
            (grade_id, source + ("\n" if grade_id == name else ""))
            for grade_id, source in cells.items()])
    try:
        assert reference.traces_key(assignment) != before
    finally:
        reference.suite_fingerprint.cache_clear()
    monkeypatch.undo()
    assert reference.traces_key(assignment) == before


def test_a_file_of_another_key_is_not_used(cache, monkeypatch):
    assignment = "preprocessing"
    made = reference._traces(assignment)
    (path,) = cache.iterdir()
    key, expected, mistakes = pickle.loads(path.read_bytes())
    path.write_bytes(pickle.dumps(("0" * 64, expected, {})))  # stale: made for other inputs
    monkeypatch.setattr(reference, "_TRACES", {})
    computed = computations(monkeypatch)
    assert same(reference._traces(assignment), made) and computed == [assignment]
    assert pickle.loads(path.read_bytes())[0] == key  # and stored again under its own key


class Planted:
    """What a planted pickle could do when read: here, make a folder."""

    def __init__(self, folder):
        self.folder = folder

    def __reduce__(self):
        return os.mkdir, (str(self.folder),)


def test_a_planted_file_runs_nothing_and_the_traces_are_computed_again(cache, monkeypatch,
                                                                       tmp_path):
    assignment = "preprocessing"
    made = reference._traces(assignment)
    (path,) = cache.iterdir()
    key = pickle.loads(path.read_bytes())[0]
    path.write_bytes(pickle.dumps((key, Planted(tmp_path / "ran"), {})))
    monkeypatch.setattr(reference, "_TRACES", {})
    computed = computations(monkeypatch)
    assert same(reference._traces(assignment), made) and computed == [assignment]
    assert not (tmp_path / "ran").exists()


def test_a_cache_that_cannot_be_written_costs_only_time(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setattr(reference, "GRADER_CACHE", tmp_path / "file" / "cache")
    monkeypatch.setattr(reference, "_TRACES", {})
    expected = reference.expected_traces("preprocessing")
    assert expected and reference.mistake_traces("preprocessing")
