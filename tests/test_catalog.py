"""Every catalogued mistake loses points on its own function only; every alternative form
earns full marks. Graded in one batch through the sandbox, as a course would."""
from __future__ import annotations

import re

import pytest

from autograder.batch import grade_batch
from autograder.mistakes import catalog, with_variant
from autograder.suites import SUITES

from .helpers import solution_notebook, write_submission


def student_id(kind: str, variant) -> str:
    return f"{kind}-{variant.function}-{variant.name}".replace(" ", "_").replace("/", "_")


@pytest.fixture(scope="module", params=sorted(SUITES))
def graded(request, tmp_path_factory):
    assignment = request.param
    suite = SUITES[assignment]
    root = tmp_path_factory.mktemp(f"catalog-{assignment}")
    base = solution_notebook(assignment, suite.notebook)
    mistakes, alternatives = catalog(assignment)
    variants = {}
    for kind, entries in (("mistake", mistakes), ("alternative", alternatives)):
        for variant in entries:
            student = student_id(kind, variant)
            variants[student] = (kind, variant)
            write_submission(root / "submitted", student, assignment, suite.notebook,
                             with_variant(base, variant))
    write_submission(root / "submitted", "reference", assignment, suite.notebook, base)
    results = grade_batch(root / "submitted", root / "out", [suite],
                          f"sqlite:///{root / 'gradebook.db'}", workers=2)
    return suite, variants, {r.student: r for r in results}


def test_the_solution_earns_full_marks(graded):
    suite, _, results = graded
    assert results["reference"].score == suite.max_score


def test_every_mistake_loses_points_on_its_own_function_and_its_dependents_only(graded):
    suite, variants, results = graded
    for student, (kind, variant) in variants.items():
        if kind != "mistake":
            continue
        scores = {f.name: (f.score, f.max_score) for f in results[student].functions}
        score, max_score = scores.pop(variant.function)
        assert score < max_score, f"{variant.function} '{variant.name}' got full marks"
        for name, (other, other_max) in scores.items():
            # a function whose cases also call the mistaken one may lose points with it
            if variant.function not in suite.function(name).depends_on:
                assert other == other_max, f"'{variant.name}' in {variant.function} cost {name} points"


def test_every_hidden_group_rejects_every_mistake_or_the_visible_cases_do(graded):
    """A mistake must fail at least one hidden group: hidden tests are not left to chance."""
    suite, variants, results = graded
    for student, (kind, variant) in variants.items():
        if kind != "mistake":
            continue
        function = next(f for f in results[student].functions if f.name == variant.function)
        assert any(not g.passed for g in function.groups if g.hidden), variant.name


def test_every_alternative_form_earns_full_marks(graded):
    suite, variants, results = graded
    for student, (kind, variant) in variants.items():
        if kind == "alternative":
            result = results[student]
            failures = [f.output() for f in result.functions if f.score < f.max_score]
            assert result.score == suite.max_score, f"{variant.name}: {failures}"


def test_catalog_covers_every_graded_function(graded):
    suite, variants, _ = graded
    mistaken = {variant.function for kind, variant in variants.values() if kind == "mistake"}
    assert mistaken == {spec.name for spec in suite.functions}


def test_the_feedback_names_every_catalogued_mistake(graded):
    suite, variants, results = graded
    for student, (kind, variant) in variants.items():
        if kind == "mistake":
            function = next(f for f in results[student].functions if f.name == variant.function)
            named = re.findall(r"Diagnosis: your outputs match a known mistake, (.+?) \(",
                               function.output())
            assert set(named) == {variant.name}, (variant.name, named)
            assert variant.hint in function.output()
