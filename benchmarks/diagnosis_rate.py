"""How often the feedback's diagnosis names a mistake it was not written for, and by how much
the catalogued mistakes fail their hidden groups.

    .venv/bin/python benchmarks/diagnosis_rate.py [--workers 2] [--only FUNCTION ...]
        [--no-margins] [--show] [--json FILE]

Every held-out variant of tests/heldout/variants.py (none of them in the mistake catalog)
becomes a submission: the solution notebook with that answer cell replaced
(autograder.mistakes.with_answer, and the tests' own solution_notebook/write_submission
helpers). They and every catalogued mistake are graded by the real grader, sandbox
included, one batch per assignment, as a course would grade them. For each wrong variant
the "Diagnosis" lines of its function's feedback are read:

- named: every expected label is named, and nothing else;
- partly: some expected labels are named (a variant with several mistakes), nothing else;
- wrong: a diagnosis names a label the variant does not have;
- unrecognised: a diagnosis that names no label this script knows (its text is printed,
  so that KEYWORDS in the variants file can learn its wording);
- unnamed: a failure without a diagnosis;
- missed: the function got full marks, so there is nothing to diagnose.

A catalog-worded line ("your outputs match a known mistake, <name> (") names the label
CATALOG_LABELS gives that name; any other line names the labels of its function whose
KEYWORDS pattern it matches. Correct forms must earn the whole notebook's marks ("full",
else "lost"). The catalog's own mistakes are classified the same way against their labels.

Margins: for every catalogued mistake, each hidden group it fails has a margin, the largest
relative error among its failing cases divided by the case's tolerance (a wrong shape, a
missing quantity or a raised error counts as infinite), in two readings: "reported", the
error of the first differing quantity and step that the feedback shows (from the graded
results), and "worst", the largest error over every quantity and step of the case (from the
traces the grader computes for the catalog in its own process: autograder/diagnosis/
margins.py, which tests/test_diagnosis.py also asserts). The
table lists each mistake's smallest margin over the hidden groups it fails: a margin near 1
means a slightly different case could let the mistake through. Held-out variants that fail
only by less than the target are listed too.

A figure: it prints what the grader does today, through the sandbox. The test of the rate
(tests/test_diagnosis.py) runs the grader's reasoning on the same variants in-process.
"""
from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.batch import grade_batch  # noqa: E402
from autograder.mistakes import catalog, with_answer, with_variant  # noqa: E402
from autograder.diagnosis.margins import worst_margins  # noqa: E402
from autograder.results import FunctionResult  # noqa: E402
from autograder.suites import SUITES  # noqa: E402
from tests.helpers import solution_notebook, write_submission  # noqa: E402
from tests.heldout.variants import (ASSIGNMENTS, CATALOG_LABELS, KEYWORDS,  # noqa: E402
                                    VARIANTS, assignment_of)

OUTCOMES = ("named", "partly", "wrong", "unrecognised", "unnamed", "missed")
TARGET_MARGIN = 100.0  # the margin every catalogued mistake should have


@dataclass
class Verdict:
    variant: dict
    outcome: str           # one of OUTCOMES; "full" or "lost" for a correct form
    named: list[str]       # labels the diagnosis names
    lines: list[str]       # the diagnosis lines, as the learner reads them
    score: float
    max_score: float


def label_prefix(label: str) -> str:
    return label.split("/", 1)[0]


def function_prefixes() -> dict[str, set[str]]:
    """function -> the label prefixes its labels use (from the catalog and the variants)."""
    prefixes: dict[str, set[str]] = {}
    for (function, _), label in CATALOG_LABELS.items():
        prefixes.setdefault(function, set()).add(label_prefix(label))
    for variant in VARIANTS:
        for label in variant["expected"]:
            prefixes.setdefault(variant["function"], set()).add(label_prefix(label))
    return prefixes


PREFIXES = function_prefixes()


def diagnosis_lines(function: FunctionResult) -> list[str]:
    return [line for line in function.hints() if line.lower().startswith("diagnosis")]


def labels_named(function_name: str, line: str, expected: list[str]) -> tuple[list[str], bool]:
    """(labels the line names, whether it was recognised at all). A catalog-worded line
    names exactly its entry; another line names the expected labels it matches, else every
    label of the function it matches."""
    for (function, name), label in CATALOG_LABELS.items():
        if function == function_name and f"known mistake, {name} (" in line:
            return [label], True
    own = [label for label, pattern in KEYWORDS.items()
           if label_prefix(label) in PREFIXES.get(function_name, ())
           and re.search(pattern, line, re.IGNORECASE)]
    right = [label for label in own if label in expected]
    return (right or own), bool(own)


def classify(variant: dict, function: FunctionResult) -> Verdict:
    lines = diagnosis_lines(function)
    expected = variant["expected"]
    named, unrecognised = [], False
    for line in lines:
        labels, known = labels_named(variant["function"], line, expected)
        named += labels
        unrecognised |= not known
    named = list(dict.fromkeys(named))
    if function.score == function.max_score:
        outcome = "missed"
    elif any(label not in expected for label in named):
        outcome = "wrong"
    elif named and set(expected) <= set(named):
        outcome = "named"
    elif named:
        outcome = "partly"
    elif unrecognised:
        outcome = "unrecognised"
    else:
        outcome = "unnamed"
    return Verdict(variant, outcome, named, lines, function.score, function.max_score)


def student_of(kind: str, function: str, name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{kind}-{function}-{name}")


def build(submitted: Path, variants: list[dict], with_catalog: bool,
          functions: set[str]) -> dict[str, tuple[str, object]]:
    """Write one submission per variant (and per catalogued mistake) under
    ``submitted/<assignment>/``, nbgrader's layout beneath it; student -> (kind, item)."""
    students: dict[str, tuple[str, object]] = {}
    bases = {a: solution_notebook(a, SUITES[a].notebook) for a in ASSIGNMENTS}
    for variant in variants:
        assignment = assignment_of(variant["function"])
        nb = with_answer(bases[assignment], variant["function"], variant["source"])
        for grade_id, source in variant.get("others", {}).items():
            nb = with_answer(nb, grade_id, source)
        student = student_of("heldout", variant["function"], variant["id"])
        write_submission(submitted / assignment, student, assignment,
                         SUITES[assignment].notebook, nb)
        students[student] = ("heldout", variant)
    if with_catalog:
        for assignment in ASSIGNMENTS:
            for mistake in catalog(assignment)[0]:
                if mistake.function not in functions:
                    continue
                student = student_of("catalog", mistake.function, mistake.name)
                write_submission(submitted / assignment, student, assignment,
                                 SUITES[assignment].notebook,
                                 with_variant(bases[assignment], mistake))
                students[student] = ("catalog", mistake)
    return students


def group_margin(group) -> float:
    """The largest reported error / tolerance among the group's failing cases."""
    ratios = [math.inf if c.error is None or not c.tol else c.error / c.tol
              for c in group.checks if not c.passed]
    return max(ratios) if ratios else math.inf


def reported_margin(function: FunctionResult, hidden_only: bool = True) -> float | None:
    """The smallest group margin over the (hidden) groups the function fails; None if none."""
    failing = [group_margin(g) for g in function.groups
               if (g.hidden or not hidden_only) and not g.passed]
    return min(failing) if failing else None


def fmt_margin(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:,.0f}x" if value >= 10 else f"{value:.1f}x"


def print_rates(verdicts: list[Verdict]) -> None:
    mistakes = [v for v in verdicts if v.variant["kind"] == "mistake"]
    print(f"\nHeld-out wrong variants: {len(mistakes)}")
    header = f"{'function':24} {'n':>3} " + " ".join(f"{o:>12}" for o in OUTCOMES)
    print(header)
    print("-" * len(header))
    for assignment, functions in ASSIGNMENTS.items():
        for function in functions:
            rows = [v for v in mistakes if v.variant["function"] == function]
            if rows:
                counts = Counter(v.outcome for v in rows)
                print(f"{function:24} {len(rows):>3} "
                      + " ".join(f"{counts[o]:>12}" for o in OUTCOMES))
    counts = Counter(v.outcome for v in mistakes)
    print("-" * len(header))
    print(f"{'total':24} {len(mistakes):>3} " + " ".join(f"{counts[o]:>12}" for o in OUTCOMES))
    if mistakes:
        caught = len(mistakes) - counts["missed"]
        print(f"named {counts['named']}/{len(mistakes)} ({100 * counts['named'] / len(mistakes):.0f}%); "
              f"wrongly named {counts['wrong']}; unnamed {counts['unnamed'] + counts['unrecognised']} "
              f"(of which unrecognised wording {counts['unrecognised']}); partly named "
              f"{counts['partly']}; graded full marks {counts['missed']} (caught {caught})")
    real = [v for v in mistakes if v.variant["seen_in"]]
    if real:
        real_counts = Counter(v.outcome for v in real)
        print(f"of which seen in public student code: {len(real)}, named {real_counts['named']}, "
              f"wrongly named {real_counts['wrong']}")
    correct = [v for v in verdicts if v.variant["kind"] == "correct"]
    if correct:
        passed = [v for v in correct if v.outcome == "full"]
        print(f"\nCorrect forms: {len(passed)}/{len(correct)} keep full marks")
        for v in correct:
            if v.outcome != "full":
                print(f"  LOST MARKS  {v.variant['id']}: {v.score:g}/{v.max_score:g} "
                      f"({v.variant['description']})")


def print_details(verdicts: list[Verdict]) -> None:
    print("\nPer variant:")
    for v in verdicts:
        print(f"  [{v.outcome:12}] {v.variant['id']}: expected {v.variant['expected'] or 'full marks'}"
              f"; named {v.named or '-'}")
        for line in v.lines:
            print(f"      {line[:200]}")


def print_unrecognised(verdicts: list[Verdict]) -> None:
    odd = [(v, line) for v in verdicts for line in v.lines
           if not labels_named(v.variant["function"], line, v.variant["expected"])[1]]
    if odd:
        print("\nDiagnosis lines no label recognises (add their wording to KEYWORDS):")
        for v, line in odd:
            print(f"  {v.variant['id']}: {line[:200]}")


def print_margins(rows: list[tuple[object, float | None, float | None]]) -> None:
    print(f"\nMargins of the catalogued mistakes: error / tolerance in the hidden groups they "
          f"fail, the smallest over those groups (target >= {TARGET_MARGIN:g}x):")
    print(f"  {'function':24} {'mistake':40} {'reported':>12} {'worst':>12}")
    for mistake, reported, worst in sorted(rows, key=lambda r: -1.0 if r[1] is None else r[1]):
        print(f"  {mistake.function:24} {mistake.name:40} "
              f"{'none fails' if reported is None else fmt_margin(reported):>12} "
              f"{'none fails' if worst is None else fmt_margin(worst):>12}")
    thin = [m for m, reported, _ in rows if reported is None or reported < TARGET_MARGIN]
    worst_thin = [m for m, _, worst in rows if worst is None or worst < TARGET_MARGIN]
    print(f"  below {TARGET_MARGIN:g}x: {len(thin)}/{len(rows)} as reported, "
          f"{len(worst_thin)}/{len(rows)} at their worst")


def print_thin_heldout(verdicts: list[Verdict], margins: dict[str, float | None]) -> None:
    thin = [(v, margins[v.variant["id"]]) for v in verdicts
            if v.variant["kind"] == "mistake" and v.outcome != "missed"
            and (margins[v.variant["id"]] or 0.0) < TARGET_MARGIN]
    print(f"\nHeld-out variants caught, but by less than {TARGET_MARGIN:g}x (reported error / "
          f"tolerance, the largest over the groups they fail): {len(thin)}")
    for v, margin in sorted(thin, key=lambda t: t[1] or 0.0):
        print(f"  {v.variant['id']:45} {fmt_margin(margin) if margin else 'visible only':>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="grading threads (default 2)")
    parser.add_argument("--only", action="append", metavar="FUNCTION",
                        help="grade only this function's variants (repeatable)")
    parser.add_argument("--no-margins", action="store_true",
                        help="skip grading the catalog's mistakes for their margins")
    parser.add_argument("--show", action="store_true", help="print every variant's diagnosis")
    parser.add_argument("--json", type=Path, help="also write each variant's outcome here")
    args = parser.parse_args()
    # the feedback pages' plots otherwise log every missing font
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    every = {f for functions in ASSIGNMENTS.values() for f in functions}
    functions = set(args.only or every)
    if functions - every:
        parser.error(f"unknown function(s) {sorted(functions - every)}; choose from {sorted(every)}")
    variants = [v for v in VARIANTS if v["function"] in functions]
    with tempfile.TemporaryDirectory(prefix="diagnosis-rate-") as scratch:
        root = Path(scratch)
        students = build(root / "submitted", variants, not args.no_margins, functions)
        started = time.perf_counter()
        results = []
        # one batch per assignment: a batch grades every assignment of every student folder
        for assignment in sorted(p.name for p in (root / "submitted").iterdir()):
            results += grade_batch(root / "submitted" / assignment, root / "out" / assignment,
                                   [SUITES[assignment]], f"sqlite:///{root / 'gradebook.db'}",
                                   workers=args.workers)
        seconds = time.perf_counter() - started
    by_student = {r.student: r for r in results}
    missing = sorted(set(students) - set(by_student))
    if missing:
        sys.exit(f"the batch left {len(missing)} submissions ungraded: {missing[:5]}")
    verdicts, margin_rows, ungraded = [], [], []
    heldout_margins: dict[str, float | None] = {}
    catalog_verdicts: list[Verdict] = []
    for student, (kind, item) in students.items():
        result = by_student[student]
        name = item["function"] if kind == "heldout" else item.function
        function = next((f for f in result.functions if f.name == name), None)
        if function is None:  # the grader itself failed on this submission
            ungraded.append(f"{student}: {'; '.join(result.problems)[:300]}")
            continue
        if kind == "catalog":
            margin_rows.append((item, reported_margin(function),
                                worst_margins(assignment_of(item.function), item)))
            catalog_verdicts.append(classify(
                {"id": item.name, "function": item.function, "kind": "mistake",
                 "expected": [CATALOG_LABELS[item.function, item.name]]}, function))
        elif item["kind"] == "correct":
            full = result.score == result.max_score
            verdicts.append(Verdict(item, "full" if full else "lost", [],
                                    diagnosis_lines(function), result.score, result.max_score))
        else:
            verdicts.append(classify(item, function))
            failing = [group_margin(g) for g in function.groups if not g.passed]
            heldout_margins[item["id"]] = max(failing) if failing else None
    isolation = Counter(r.isolation for r in results)
    print(f"graded {len(results)} submissions in {seconds:.1f} s on {args.workers} workers "
          f"(isolation: {dict(isolation)})")
    for line in ungraded:
        print(f"NOT GRADED (the grader failed; rerun): {line}")
    print_rates(verdicts)
    if args.show:
        print_details(verdicts)
    print_unrecognised(verdicts)
    print_thin_heldout(verdicts, heldout_margins)
    if catalog_verdicts:
        counts = Counter(v.outcome for v in catalog_verdicts)
        print(f"\nThe catalog's own mistakes: {counts['named']}/{len(catalog_verdicts)} named"
              + "".join(f"; {n} {o}" for o, n in counts.items() if o != "named"))
    if margin_rows:
        print_margins(margin_rows)
    if args.json:
        args.json.write_text(json.dumps(
            [{"id": v.variant["id"], "function": v.variant["function"],
              "kind": v.variant["kind"], "expected": v.variant["expected"],
              "outcome": v.outcome, "named": v.named, "diagnosis": v.lines,
              "score": v.score, "max_score": v.max_score} for v in verdicts], indent=2) + "\n")


if __name__ == "__main__":
    main()
