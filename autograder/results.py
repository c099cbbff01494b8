"""Typed results of grading, turned into Gradescope's results.json only at the edge."""
from __future__ import annotations

from dataclasses import dataclass, field

from .kit.checks import Check, distinct_failures, distinct_hints

MAX_FAILURES_SHOWN = 3


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


@dataclass(frozen=True)
class FunctionResult:
    name: str
    groups: tuple[GroupResult, ...]
    problem: str | None = None  # why the function could not be graded at all, if so
    picture: dict | None = None  # evidence.plot_data of its first failed case

    @property
    def score(self) -> float:
        return sum(g.score for g in self.groups)

    @property
    def max_score(self) -> float:
        return sum(g.points for g in self.groups)

    def output(self) -> str:
        lines = [f"{self.name}: {self.score:g}/{self.max_score:g}"]
        if self.problem:
            lines.append(f"  {self.problem}")
        for group in self.groups:
            mark = "pass" if group.passed else "FAIL"
            lines.append(f"  [{mark}] {group.summary} ({group.score:g}/{group.points:g})")
            failures = distinct_failures(list(group.checks))
            for message in failures[:MAX_FAILURES_SHOWN]:
                lines.append("    - " + message.replace("\n", "\n      "))
            if len(failures) > MAX_FAILURES_SHOWN:
                lines.append(f"    - ... and {len(failures) - MAX_FAILURES_SHOWN} more failing checks")
        lines += [f"  {line}" for line in distinct_hints([c for g in self.groups for c in g.checks])]
        return "\n".join(lines)


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

    @property
    def score(self) -> float:
        return sum(f.score for f in self.functions)

    @property
    def max_score(self) -> float:
        return sum(f.max_score for f in self.functions)

    def output(self) -> str:
        lines = [f"{self.assignment} for {self.student}: {self.score:g}/{self.max_score:g}",
                 f"Isolation of the learner's code: {self.isolation}."]
        lines += [f"Problem: {p}" for p in self.problems]
        return "\n".join(lines)

    def to_gradescope(self) -> dict:
        return {
            "score": self.score,
            "execution_time": round(self.seconds, 3),
            "output": self.output(),
            "tests": [{"name": f.name, "score": f.score, "max_score": f.max_score,
                       "output": f.output(), "visibility": "visible"} for f in self.functions],
            "extra_data": {"student": self.student, "assignment": self.assignment,
                           "notebook": self.notebook, "isolation": self.isolation,
                           "problems": self.problems,
                           "grades": {g.grade_id: g.score for f in self.functions
                                      for g in f.groups},
                           "checks": {f.name: [{"group": g.summary, "hidden": g.hidden,
                                                "score": g.score, "points": g.points,
                                                "passed": [c.case for c in g.checks if c.passed],
                                                "failed": distinct_failures(list(g.checks))}
                                               for g in f.groups] for f in self.functions},
                           "diagnosis": {f.name: distinct_hints([c for g in f.groups
                                                                 for c in g.checks])
                                         for f in self.functions},
                           "pictures": {f.name: f.picture for f in self.functions
                                        if f.picture}},
        }
