"""The held-out set is well formed: every graded function has wrong variants, none of them is
a catalogued mistake, and every label a right diagnosis should name can be recognised.

It says nothing of how many the grader names: benchmarks/diagnosis_rate.py measures that.
"""
from __future__ import annotations

import ast
import re
from collections import Counter

import pytest

from autograder.mistakes import catalog
from autograder.suites import SUITES

from .variants import ASSIGNMENTS, CATALOG_LABELS, KEYWORDS, VARIANTS, assignment_of

MISTAKES = [v for v in VARIANTS if v["kind"] == "mistake"]


def normalized(source: str) -> str:
    return ast.dump(ast.parse(source))


def test_ids_are_unique_and_kinds_known():
    ids = Counter(v["id"] for v in VARIANTS)
    assert [i for i, n in ids.items() if n > 1] == []
    assert {v["kind"] for v in VARIANTS} == {"mistake", "correct"}


def test_the_assignments_are_suites_with_the_same_functions():
    for assignment, functions in ASSIGNMENTS.items():
        assert functions == tuple(spec.name for spec in SUITES[assignment].functions)


def test_at_least_sixty_mistakes_and_three_per_graded_function():
    assert len(MISTAKES) >= 60
    per_function = Counter(v["function"] for v in MISTAKES)
    graded = {f for functions in ASSIGNMENTS.values() for f in functions}
    assert {f: per_function[f] for f in graded if per_function[f] < 3} == {}


def test_mistakes_expect_labels_and_correct_forms_none():
    for v in VARIANTS:
        assert bool(v["expected"]) == (v["kind"] == "mistake"), v["id"]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v["id"])
def test_every_source_defines_its_function_and_nothing_runs_on_load(variant):
    for grade_id, source in [(variant["function"], variant["source"]),
                             *variant.get("others", {}).items()]:
        body = ast.parse(source).body
        assert [type(node) for node in body] == [ast.FunctionDef], (variant["id"], grade_id)
        assert body[0].name == grade_id, variant["id"]
        assert assignment_of(grade_id) == assignment_of(variant["function"])


def test_no_variant_is_a_catalogued_mistake_or_alternative():
    catalogued = {normalized(source) for assignment in ASSIGNMENTS
                  for entries in catalog(assignment) for entry in entries
                  for _, source in entry.cells()}
    assert [v["id"] for v in VARIANTS if normalized(v["source"]) in catalogued] == []


def test_every_catalogued_mistake_has_a_label_of_its_function():
    names = {(m.function, m.name) for assignment in ASSIGNMENTS for m in catalog(assignment)[0]}
    assert set(CATALOG_LABELS) == names
    assert len(set(CATALOG_LABELS.values())) == len(CATALOG_LABELS)


def test_held_out_labels_are_new_and_recognisable():
    """A held-out mistake's label is not a catalog label (else it is no held-out mistake),
    except in a variant that also has a new one; every label has a pattern."""
    catalog_labels = set(CATALOG_LABELS.values())
    for v in MISTAKES:
        assert set(v["expected"]) - catalog_labels, v["id"]
        for label in v["expected"]:
            assert label in KEYWORDS or label in catalog_labels, (v["id"], label)


def test_keyword_patterns_compile_and_do_not_match_the_catalog_wording_of_another_label():
    """A catalog-worded diagnosis is read by its name, but a pattern that matched another
    entry's description would make a reworded diagnosis of that entry look like this one."""
    entries = [m for assignment in ASSIGNMENTS for m in catalog(assignment)[0]]
    for label, pattern in KEYWORDS.items():
        compiled = re.compile(pattern, re.IGNORECASE)
        prefix = label.split("/")[0]
        clashes = [m.name for m in entries
                   if CATALOG_LABELS[m.function, m.name].split("/")[0] == prefix
                   and CATALOG_LABELS[m.function, m.name] != label
                   and compiled.search(f"{m.name} ({m.description})")]
        assert clashes == [], (label, clashes)


def test_real_mistakes_name_where_they_were_seen():
    real = [v for v in MISTAKES if v["seen_in"]]
    assert len(real) >= 8
    issue_cases = {"sgd_momentum-nesterov-update", "adam-t-defaults-to-1",
                   "adam-no-correction-t-frozen", "adam-one-minus-one-minus-beta-power-t",
                   "bn-running-var-plus-eps", "bn-test-eps-outside-sqrt", "bn-stale-write-back",
                   "bn_backward-cache-order", "bn_backward-dgamma-without-eps",
                   "bn_alt-no-cross-sample-terms", "adam-eps-hard-coded", "adam-t-not-stored",
                   "adam-default-lr-1e-2"}
    assert issue_cases <= {v["id"] for v in MISTAKES}
