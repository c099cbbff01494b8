"""Formula families: the reference written with knobs, one per way a formula can go wrong.

A knob is one choice in the formula (where epsilon sits, which weight the old cache keeps,
whether a hyper-parameter is read from config, which default it has); its reference value
gives the reference, every other value a member of the family and the words that name it.
A family runs any member on a probe case with the kit's own runners, in the grader's
process: members are the grader's code, never the learner's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from ..kit.checks import CallFailed, run_case

Settings = Mapping[str, object]


@dataclass(frozen=True)
class Knob:
    name: str
    reference: object
    # value -> the words naming that member, formatted with the member's settings
    alternatives: Mapping[object, str]
    catalog: Mapping[object, str] = field(default_factory=dict)  # value -> catalogued name

    def words(self, value, settings: Settings) -> str:
        return self.alternatives[value].format(**{k.replace(" ", "_"): v
                                                  for k, v in settings.items()})


@dataclass(frozen=True)
class Family:
    function: str
    knobs: tuple[Knob, ...]
    # settings -> {function name: callable} for run_case: the member and what its cases call
    build: Callable[[Settings], dict[str, Callable]]

    def reference(self) -> dict[str, object]:
        return {knob.name: knob.reference for knob in self.knobs}

    def knob(self, name: str) -> Knob:
        return next(k for k in self.knobs if k.name == name)

    def run(self, settings: Settings, case: dict) -> list[dict] | None:
        """The member's trace on ``case``; None where the member raises."""
        functions = self.build(settings)
        try:
            return run_case(functions[self.function], case, functions)
        except (CallFailed, ArithmeticError, ValueError):
            return None
