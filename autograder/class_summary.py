"""A class at a glance: per assignment and function, who passes and which mistakes occur.

    summarize(results: Iterable[dict]) -> ClassSummary
    summary_html(summary: ClassSummary) -> str

``results`` are the data of the results.json files a batch writes
(``OUT/<student>/<assignment>/results.json``, read with ``json.loads``), in any order; one
per learner and assignment (a later one for the same pair replaces an earlier one). Data
that is not of that shape is skipped, never fatal: the files hold texts from learners' code.

A learner *passes* a function when the function earned full marks (its ``score`` equals its
``max_score`` in ``tests``, and that is more than 0). A *diagnosed mistake* is a line
``Diagnosis: ...`` in ``extra_data.diagnosis``: a catalogued mistake by its name (``your
outputs match a known mistake, NAME (...)``), or what the probes found, by its words up to
the first detail (see ``mistake_name``); it is counted once per learner, however many cases
showed it. A learner who failed a function with no diagnosis is counted as
``undiagnosed``, unless every one of its failed checks met
the release's stub (NotImplementedError): that learner has ``not_attempted`` it.
``statuses`` counts the submissions of an assignment by ``extra_data.status`` (see
results.Status): how many were graded, missing, blank or unreadable. The functions' counts
are over graded and blank submissions only: of a missing or unreadable notebook, or one the
grader failed on, nothing ran, and it shows in ``statuses`` alone.

``summary_html`` is an HTML fragment (no <html> or <style>; inline styles only) with a bar
per function drawn as inline SVG, for the organizer's index page or any other page.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from .results import _STUB, BLANK, GRADED, clean_text, html_text

_DIAGNOSIS = "Diagnosis: "
_MISTAKE = re.compile(r"^Diagnosis: your outputs match a known mistake, (.+?) \(")
_NAME_CHARS = 120  # a mistake's name in the summary; catalog names are far shorter


@dataclass(frozen=True)
class FunctionSummary:
    assignment: str
    function: str
    learners: int  # learners whose results hold this function
    passing: int   # of them, those with full marks on it
    mistakes: tuple[tuple[str, int], ...]  # (mistake's name, learners), most frequent first
    undiagnosed: int  # learners who failed it with no diagnosis
    not_attempted: int = 0  # learners whose function is still the release's stub

    @property
    def share(self) -> float:
        """The share of learners who pass, 0 to 1 (0 when there are none)."""
        return self.passing / self.learners if self.learners else 0.0


@dataclass(frozen=True)
class ClassSummary:
    functions: tuple[FunctionSummary, ...]  # by assignment, then in the suite's order
    statuses: dict[str, dict[str, int]]     # assignment -> status -> submissions

    def assignments(self) -> list[str]:
        return sorted({f.assignment for f in self.functions} | set(self.statuses))

    def of(self, assignment: str) -> list[FunctionSummary]:
        return [f for f in self.functions if f.assignment == assignment]


def mistake_name(line) -> str | None:
    """The mistake a diagnosis line names, or None for any other line: a catalogued
    mistake by its name, one the probes found by its words up to the first detail (" (",
    "; "), so that learners with the same fault count together."""
    if not isinstance(line, str):
        return None
    match = _MISTAKE.match(line)
    if match:
        return clean_text(match.group(1), _NAME_CHARS)
    if not line.startswith(_DIAGNOSIS):
        return None
    words = re.split(r" \(|; ", line[len(_DIAGNOSIS):], maxsplit=1)[0].strip()
    return clean_text(words, _NAME_CHARS) if words else None


@dataclass(frozen=True)
class _Learner:
    """What the summary needs of one results.json: per function, full marks or not, and
    the mistakes diagnosed in it. Small, so that a class of any size fits in memory."""
    status: str
    functions: tuple[tuple[str, bool, frozenset[str], bool], ...]  # name, full, mistakes, stub


def _learner(data) -> tuple[tuple[str, str], _Learner] | None:
    """(assignment, student) and the summary's view of one results.json's data; None when
    the data is not of results.json's shape."""
    try:
        extra = data["extra_data"]
        key = (clean_text(extra["assignment"], _NAME_CHARS), clean_text(extra["student"]))
        diagnosis = extra.get("diagnosis") if isinstance(extra.get("diagnosis"), dict) else {}
        checks = extra.get("checks") if isinstance(extra.get("checks"), dict) else {}
        functions = []
        for test in data["tests"]:
            lines = diagnosis.get(test["name"])
            names = frozenset(filter(None, map(mistake_name, lines))) \
                if isinstance(lines, list) else frozenset()
            functions.append((clean_text(test["name"], _NAME_CHARS), _full_marks(test), names,
                              _stub(checks.get(test["name"]))))
        return key, _Learner(clean_text(extra.get("status", "graded"), 40), tuple(functions))
    except (KeyError, TypeError, AttributeError):
        return None


def _stub(groups) -> bool:
    """Whether a function's checks (results.json's groups) all met the release's stub."""
    if not isinstance(groups, list):
        return False
    failed = [m for g in groups if isinstance(g, dict) for m in g.get("failed") or ()]
    passed = [c for g in groups if isinstance(g, dict) for c in g.get("passed") or ()]
    return bool(failed) and not passed and all(_STUB in str(m) for m in failed)


def _full_marks(test: dict) -> bool:
    try:
        return float(test["max_score"]) > 0 and float(test["score"]) == float(test["max_score"])
    except (KeyError, TypeError, ValueError):
        return False


def summarize(results: Iterable[dict]) -> ClassSummary:
    """The class summary of ``results`` (results.json data, one per learner and assignment)."""
    latest = dict(filter(None, map(_learner, results)))  # a later result replaces an earlier
    learners: Counter = Counter()
    passing: Counter = Counter()
    undiagnosed: Counter = Counter()
    not_attempted: Counter = Counter()
    mistakes: dict[tuple[str, str], Counter] = {}
    order: dict[tuple[str, str], int] = {}
    statuses: dict[str, Counter] = {}
    for (assignment, _), learner in sorted(latest.items()):
        statuses.setdefault(assignment, Counter())[learner.status] += 1
        if learner.status not in (GRADED, BLANK):
            continue  # nothing of theirs ran: a missing notebook is not an undiagnosed failure
        for position, (function, full, names, stub) in enumerate(learner.functions):
            key = (assignment, function)
            order.setdefault(key, position)
            learners[key] += 1
            passing[key] += full
            if full:
                continue
            if stub:
                not_attempted[key] += 1
            else:
                mistakes.setdefault(key, Counter()).update(names)
                undiagnosed[key] += not names
    functions = tuple(
        FunctionSummary(assignment, function, learners[assignment, function],
                        passing[assignment, function],
                        tuple(sorted(mistakes.get((assignment, function), Counter()).items(),
                                     key=lambda item: (-item[1], item[0]))),
                        undiagnosed[assignment, function], not_attempted[assignment, function])
        for assignment, function in sorted(order, key=lambda k: (k[0], order[k])))
    return ClassSummary(functions, {a: dict(sorted(c.items())) for a, c in statuses.items()})


def _e(text) -> str:
    return html_text(text, 300)


BAR_WIDTH = 300  # pixels of a bar at 100 %
ROW_HEIGHT = 22


def _bars(functions: list[FunctionSummary]) -> str:
    """An inline SVG: per function, its name, a bar as long as its share of passing
    learners, and 'passing/learners'."""
    label = 170  # pixels for the function's name
    height = ROW_HEIGHT * len(functions) + 4
    rows = []
    for i, f in enumerate(functions):
        y = i * ROW_HEIGHT + 2
        width = round(BAR_WIDTH * f.share)
        rows.append(
            f"<text x='{label - 6}' y='{y + 15}' text-anchor='end'>{_e(f.function)}</text>"
            f"<rect x='{label}' y='{y + 3}' width='{BAR_WIDTH}' height='15' fill='#eee'/>"
            f"<rect x='{label}' y='{y + 3}' width='{width}' height='15' fill='#1a7f37'/>"
            f"<text x='{label + BAR_WIDTH + 6}' y='{y + 15}'>{f.passing}/{f.learners} pass "
            f"({100 * f.share:.0f}%)</text>")
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{label + BAR_WIDTH + 130}' "
            f"height='{height}' font-size='12' font-family='sans-serif' role='img' "
            f"aria-label='share of learners with full marks, per function'>"
            + "".join(rows) + "</svg>")


def _mistakes(f: FunctionSummary) -> str:
    items = [f"<li>{_e(name)}: {count} learner{'s' * (count != 1)}</li>"
             for name, count in f.mistakes]
    if f.undiagnosed:
        items.append(f"<li>failed with no diagnosis: {f.undiagnosed} "
                     f"learner{'s' * (f.undiagnosed != 1)}</li>")
    if f.not_attempted:
        items.append(f"<li class='muted'>not attempted (still the stub): {f.not_attempted} "
                     f"learner{'s' * (f.not_attempted != 1)}</li>")
    return f"<p>{_e(f.function)}</p><ul>{''.join(items)}</ul>" if items else ""


def summary_html(summary: ClassSummary) -> str:
    """The summary as an HTML fragment: per assignment, how many submissions of each status,
    a bar chart of the share of learners with full marks per function, and per function
    the diagnosed mistakes with how many learners made each, most frequent first."""
    parts = ["<section class='class-summary'><h2>Class summary</h2>",
             "<p>A learner passes a function with full marks on it.</p>"]
    for assignment in summary.assignments():
        functions = summary.of(assignment)
        counts = summary.statuses.get(assignment, {})
        parts.append(f"<h3>{_e(assignment)}</h3><p>"
                     + ", ".join(f"{n} {_e(status)}" for status, n in counts.items()) + "</p>")
        if functions:
            parts.append(_bars(functions))
        found = "".join(_mistakes(f) for f in functions)
        parts.append(f"<details open><summary>Diagnosed mistakes</summary>{found}</details>"
                     if found else "<p>No failures.</p>")
    parts.append("</section>")
    return "\n".join(parts)
