"""Typed results of grading, turned into Gradescope's results.json only at the edge."""
from __future__ import annotations

import html
import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .kit.checks import Check, cut_text, distinct_failures, distinct_hints, safe_text

MAX_FAILURES_SHOWN = 3  # in a function's output; results.json keeps up to MAX_FAILURES_KEPT

# Bounds on what one submission leaves behind. Learner code controls the texts of its
# exceptions and, by forging the sandbox's replies, anything it sends back: forged 8 MiB
# failure texts once made an 847 MB results.json and a 470 MB feedback page.
MAX_TEXT_CHARS = 4096      # one message or problem: a learner's traceback fits, a flood does not
MAX_OUTPUT_CHARS = 16384   # one output, made of capped messages, summaries and hints
MAX_FAILURES_KEPT = 10     # distinct failure messages kept per group: a group has few cases
MAX_RESULTS_BYTES = 2 * 2**20  # one results.json; Gradescope and a gradebook need far less
MAX_PAGE_BYTES = 2 * 2**20     # one feedback page, its PNG pictures included
MIN_TEXT_CHARS = 64        # the final guard cuts texts down to this before giving up on details

# What a text may not hold, and what stands for it: C0 controls but tab and newline, DEL and
# the C1 controls break HTML and terminals; they are shown as Unicode's control pictures
# (U+2400..), one character for one, so a learner still sees that something was there.
# Noncharacters are not allowed in HTML either.
_NONCHARACTERS = [*range(0xFDD0, 0xFDF0), *(plane * 0x10000 + low for plane in range(17)
                                            for low in (0xFFFE, 0xFFFF))]
_SAFE_CHARACTERS = {**{c: 0x2400 + c for c in range(0x20) if chr(c) not in "\t\n"},
                    0x7F: 0x2421, **{c: 0xFFFD for c in range(0x80, 0xA0)},
                    **{c: 0xFFFD for c in _NONCHARACTERS}}
_NONFINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}  # and "NaN", as JSON writes them


def clean_text(value, limit: int = MAX_TEXT_CHARS) -> str:
    """``value`` as text any page or JSON file can hold: valid Unicode (a lone surrogate
    becomes U+FFFD, a surrogate pair the character it stands for), no control characters
    but tab and newline, and at most ``limit`` characters, the rest cut with a marker
    saying how much."""
    # cut before cleaning: a flood is large
    text = cut_text(value if type(value) is str else safe_text(value, limit), limit)
    text = text.replace("\r\n", "\n").encode("utf-16", "surrogatepass")
    return text.decode("utf-16", "replace").translate(_SAFE_CHARACTERS)


def html_text(value, limit: int = MAX_TEXT_CHARS) -> str:
    """``value`` cleaned (clean_text), cut to ``limit`` characters and escaped for HTML."""
    return html.escape(clean_text(value, limit))


def clean_data(value, limit: int = MAX_OUTPUT_CHARS):
    """Plain data (results as JSON holds them) with every text cleaned and cut to ``limit``
    by clean_text, and every NaN or infinity written as JSON's name for it ("NaN",
    "Infinity"), so that strict JSON, a page and a picture can all take it."""
    if isinstance(value, (np.generic, np.ndarray)):
        value = value.tolist()
    if isinstance(value, str):
        return clean_text(value, limit)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else _NONFINITE.get(value, "NaN")
    if isinstance(value, dict):
        return {clean_text(k, limit): clean_data(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_data(v, limit) for v in value]
    return clean_text(value, limit)  # anything else is shown as its text


def _json_size(data) -> int:
    return len(dump_json(data))  # ASCII: as many bytes as characters


def dump_json(data) -> str:
    """Strict JSON, all ASCII: writing it can never fail on a character."""
    return json.dumps(data, indent=2, allow_nan=False) + "\n"


def shrink(data: dict, limit: int) -> dict:
    """``data`` with every text cut to ``limit`` characters and at most MAX_FAILURES_KEPT
    failures per group (and the line saying how many more), for the final guards of
    results.json and of the page."""
    data = clean_data(data, limit)
    checks = data.get("extra_data", {}).get("checks") if isinstance(data, dict) else None
    for groups in checks.values() if isinstance(checks, dict) else ():
        for group in groups if isinstance(groups, list) else ():
            if isinstance(group, dict) and isinstance(group.get("failed"), list):
                group["failed"] = group["failed"][:MAX_FAILURES_KEPT + 1]
    return data


def fit(data: dict, size: Callable[[dict], int], bound: int,
        limit: int = MAX_OUTPUT_CHARS) -> dict:
    """``data`` shrunk (texts cut shorter and shorter, down to MIN_TEXT_CHARS) until
    ``size(data)`` is at most ``bound``; the last try, however large."""
    data = shrink(data, limit)
    while size(data) > bound and limit > MIN_TEXT_CHARS:
        limit //= 4
        data = shrink(data, max(limit, MIN_TEXT_CHARS))
    return data


def results_text(data: dict) -> str:
    """The text of results.json for ``data``: strict JSON of at most MAX_RESULTS_BYTES.

    The final guard on a submission's size: texts are cut shorter until it fits, and if
    even that is not enough, only the scores are kept and the output says why."""
    data = fit(data, _json_size, MAX_RESULTS_BYTES)
    if _json_size(data) > MAX_RESULTS_BYTES:
        data = _scores_only(data)
    return dump_json(data)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` as UTF-8, whole or not at all: a killed grader leaves the old file or
    the new, never half. A character UTF-8 cannot hold is replaced, never fatal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8", errors="replace")
    os.replace(partial, path)


def _scores_only(data: dict) -> dict:
    note = "the details of this result were too large to keep; the scores are exact"
    extra = {k: data["extra_data"].get(k) for k in ("student", "assignment", "notebook",
                                                    "isolation", "status", "grades",
                                                    "fingerprint")}
    return {"score": data["score"], "execution_time": data.get("execution_time", 0),
            "output": note, "extra_data": {**extra, "problems": [note]},
            "tests": [{**{k: t.get(k) for k in ("name", "score", "max_score", "visibility")},
                       "output": note} for t in data["tests"]]}


# What became of a submission, as results.json, the index, the score table and the CSV
# say it: graded, or why it earned nothing without a check having failed on its merits.
GRADED = "graded"
MISSING = "missing"            # no notebook where nbgrader's layout puts it
BLANK = "blank"                # every check met a stub: the release as it came
UNREADABLE = "unreadable"      # a notebook no case could run on (not JSON, refused, no cells)
GRADER_FAILED = "grader failed"  # the grader's own error: the next run grades it again
STATUSES = (GRADED, MISSING, BLANK, UNREADABLE, GRADER_FAILED)
_STUB = "raised NotImplementedError"  # how a check reports a stub (kit/checks.py)


@dataclass(frozen=True)
class GroupResult:
    grade_id: str      # the nbgrader test cell this group stands for
    summary: str
    points: float
    hidden: bool
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def score(self) -> float:
        return self.points if self.passed else 0.0

    def failures(self, limit: int = MAX_FAILURES_KEPT) -> list[str]:
        """Its first ``limit`` distinct failure messages, each a capped text, then a line
        saying how many more there are, if any."""
        failures = distinct_failures(list(self.checks))
        kept = [clean_text(message) for message in failures[:limit]]
        if len(failures) > limit:
            more = len(failures) - limit
            kept.append(f"... and {more} more failing check{'s' * (more != 1)}")
        return kept


@dataclass(frozen=True)
class FunctionResult:
    name: str
    groups: tuple[GroupResult, ...]
    problem: str | None = None  # why the function could not be graded at all, if so
    picture: dict | None = None  # evidence.plot_data of its first failed case
    process_ended: bool = False  # a case killed or hung the learner's process
    explanation: tuple[str, ...] = ()  # the diagnosis stage's lines (diagnosis/stage.py)
    forward_first: bool = False  # right for the learner's forward pass, which is far off

    @property
    def score(self) -> float:
        return sum(g.score for g in self.groups)

    @property
    def max_score(self) -> float:
        return sum(g.points for g in self.groups)

    def output(self) -> str:
        lines = [f"{self.name}: {self.score:g}/{self.max_score:g}"]
        if self.problem:
            lines.append(f"  {clean_text(self.problem)}")
        for group in self.groups:
            mark = "pass" if group.passed else "FAIL"
            lines.append(f"  [{mark}] {group.summary} ({group.score:g}/{group.points:g})")
            for message in group.failures(MAX_FAILURES_SHOWN):
                lines.append("    - " + message.replace("\n", "\n      "))
        lines += [f"  {line}" for line in self.hints()]
        return clean_text("\n".join(lines), MAX_OUTPUT_CHARS)

    def hints(self) -> list[str]:
        """The diagnosis stage's lines, then each diagnosis, hint and note of its checks
        once, each a capped text. The stage's lines replace the per-case known mistakes
        (the stage weighed them with the probes), and its diagnosis the generic hints."""
        checks = [c for g in self.groups for c in g.checks]
        if self.explanation:
            named = any(line.startswith("Diagnosis") for line in self.explanation)
            checks = [replace(c, diagnosis=(), hint="" if named else c.hint) for c in checks]
        lines = dict.fromkeys([*self.explanation, *distinct_hints(checks)])
        return [clean_text(line) for line in lines]


@dataclass
class SubmissionResult:
    student: str
    assignment: str
    notebook: str
    isolation: str
    functions: list[FunctionResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the notebook as a whole
    seconds: float = 0.0
    complete: bool = True  # False when the grader itself failed: a rerun grades it again
    printed: str | None = None  # the start and end of what the learner's code printed
    submitted: bool = True  # False when there was no notebook file at all

    @property
    def status(self) -> str:
        """One of STATUSES: graded, or why no check could judge the learner's code."""
        checks = [c for f in self.functions for g in f.groups for c in g.checks]
        if not self.complete:
            return GRADER_FAILED
        if not self.submitted:
            return MISSING
        if not checks:
            return UNREADABLE
        if all(_STUB in c.message for c in checks):
            return BLANK
        return GRADED

    @property
    def score(self) -> float:
        return sum(f.score for f in self.functions)

    @property
    def max_score(self) -> float:
        return sum(f.max_score for f in self.functions)

    def output(self) -> str:
        status = "" if self.status == GRADED else f" ({self.status})"
        lines = [f"{self.assignment} for {self.student}: {self.score:g}/{self.max_score:g}"
                 f"{status}",
                 f"Isolation of the learner's code: {self.isolation}."]
        lines += [f"Problem: {clean_text(p)}" for p in self.problems]
        return clean_text("\n".join(lines), MAX_OUTPUT_CHARS)

    def to_gradescope(self) -> dict:
        """Gradescope's results.json as plain data: every text cleaned and capped, every
        number JSON can write (results_text then bounds the whole)."""
        return clean_data({
            "score": self.score,
            "execution_time": round(self.seconds, 3),
            "output": self.output(),
            "tests": [{"name": f.name, "score": f.score, "max_score": f.max_score,
                       "output": f.output(), "visibility": "visible"} for f in self.functions],
            "extra_data": {"student": self.student, "assignment": self.assignment,
                           "notebook": self.notebook, "isolation": self.isolation,
                           "status": self.status,
                           "problems": [clean_text(p) for p in self.problems],
                           "printed": self.printed,
                           "grades": {g.grade_id: g.score for f in self.functions
                                      for g in f.groups},
                           "checks": {f.name: [{"group": g.summary, "hidden": g.hidden,
                                                "score": g.score, "points": g.points,
                                                "cases": len(g.checks),
                                                "passed": [c.case for c in g.checks if c.passed],
                                                "failed": g.failures()}
                                               for g in f.groups] for f in self.functions},
                           "diagnosis": {f.name: f.hints() for f in self.functions},
                           "function_problems": {f.name: clean_text(f.problem)
                                                 for f in self.functions if f.problem},
                           "pictures": {f.name: f.picture for f in self.functions
                                        if f.picture}},
        })
