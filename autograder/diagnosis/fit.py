"""Which members of a family reproduce the learner's traces on every probe.

The search tries the reference, then every member one knob away from it, then every member
two knobs away (two mistakes at once, as when one bug hides another), and stops at the
first distance where some member fits every probe: the simplest explanations.
"""
from __future__ import annotations

from itertools import combinations

from ..kit.checks import same_trace
from .family import Family

MAX_DEVIATIONS = 2


def fitting_members(family: Family, probes: list[dict], learner: list[list[dict] | None],
                    keys: frozenset[str]) -> tuple[int, list[dict[str, object]]]:
    """(distance, the deviations {knob: value} of every member at that distance that fits
    every probe); (-1, []) when none within MAX_DEVIATIONS does."""
    reference = family.reference()
    options = [(knob.name, value) for knob in family.knobs for value in knob.alternatives]

    def fits(deviation: tuple) -> bool:
        settings = {**reference, **dict(deviation)}
        return all(same_trace(probe, got, family.run(settings, probe), keys)
                   for probe, got in zip(probes, learner))

    for distance in range(MAX_DEVIATIONS + 1):
        found = [dict(combo) for combo in combinations(options, distance)
                 if len({name for name, _ in combo}) == distance and fits(combo)]
        if found:
            return distance, found
    return -1, []
