"""What a suite declares: per graded function, groups of cases with points and hints.

A group is the unit of credit: it earns its points when every case in it passes, and it
is one nbgrader test cell (grade_id ``test_<function>_<group>``) in the source notebook,
so the gradebook holds the same per-cell scores whether ``python -m autograder grade`` or
``nbgrader autograde`` filled it. Suites are data: adding an exercise adds a suite module
and notebook cells, not engine code.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    id: str
    points: float
    cases: tuple[dict, ...]
    hidden: bool
    summary: str  # what the group tests, in words, for feedback

    def grade_id(self, function: str) -> str:
        return f"test_{function}_{self.id}"


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    groups: tuple[Group, ...]
    hints: dict[str, str]  # quantity -> hint; "*" for any other
    depends_on: tuple[str, ...] = ()  # learner functions its cases also call

    @property
    def max_score(self) -> float:
        return sum(g.points for g in self.groups)

    def group(self, group_id: str) -> Group:
        return next(g for g in self.groups if g.id == group_id)


@dataclass(frozen=True)
class Suite:
    assignment: str
    notebook: str  # the notebook's file name in the assignment folder
    prelude: str   # run before the answer cells, as the notebook's import cell does
    functions: tuple[FunctionSpec, ...]

    def function(self, name: str) -> FunctionSpec:
        return next(f for f in self.functions if f.name == name)

    @property
    def max_score(self) -> float:
        return sum(f.max_score for f in self.functions)
