"""From the learner's probe traces to what the feedback says.

A diagnosis is stated only when it is part of every simplest member of the family that
reproduces the learner's traces on every probe: a member one or two knobs from the
reference, every quantity of every probe (next_w and the whole state; out and both running
statistics; dx, dgamma and dbeta) matching. Otherwise the feedback says which quantities
differ, in how many probes and by how much, and which explanations remain.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..kit.checks import differing_quantities, same_trace
from .family import Family
from .fit import fitting_members

CATALOGUED = "catalogued mistake"  # a member given by the catalog's code, not by a knob


@dataclass(frozen=True)
class Explanation:
    diagnoses: tuple[str, ...]  # each a mistake the probes prove, with what to change
    differs: str | None         # what differs, by how much, and explanations left open
    deviations: tuple[tuple[str, object], ...] = ()  # (knob, value) of each diagnosis


def known_mistake(name: str, description: str, hint: str) -> str:
    """The words of a catalogued mistake, as the per-case diagnosis gives them."""
    return f"your outputs match a known mistake, {name} ({description}). {hint}"


def words(family: Family, deviation: dict[str, object], catalog: dict[str, tuple[str, str]]
          ) -> list[tuple[tuple[str, object], str]]:
    """((knob, value), text) for each knob of a member; a catalogued one in the catalog's
    words (``catalog``: name -> (description, hint))."""
    settings = {**family.reference(), **deviation}
    found = []
    for name, value in deviation.items():
        entry = value if name == CATALOGUED else family.knob(name).catalog.get(value)
        text = known_mistake(entry, *catalog[entry]) if entry in catalog else \
            family.knob(name).words(value, settings)
        found.append(((name, value), text))
    return found


def catalogued_members(family: Family, probes: list[dict], learner: list[list[dict] | None],
                       keys: frozenset[str], catalogued: dict[str, list],
                       distance: int, members: list[dict]) -> tuple[int, list[dict]]:
    """The fitting members with the catalog's evidence: a catalogued mistake (its code run on
    the probes) is a member one step from the reference; one the family already words is
    that member."""
    fits = [name for name, traces in catalogued.items()
            if all(same_trace(p, got, want, keys) for p, got, want in zip(probes, learner, traces))]
    if not fits or distance == 0:
        return distance, members
    worded = {family.knob(k).catalog.get(v) for m in members if distance == 1 for k, v in m.items()}
    extra = [{CATALOGUED: name} for name in fits if name not in worded]
    if distance == 1:
        return 1, members + extra
    return (1, extra) if extra else (distance, members)


def explain(family: Family, probes: list[dict], learner: list[list[dict] | None],
            expected: list[list[dict]], keys: frozenset[str],
            catalog: dict[str, tuple[str, str]], catalogued: dict[str, list]) -> Explanation:
    """``catalog``: name -> (description, hint); ``catalogued``: name -> the traces of that
    catalogued mistake on the probes."""
    differs = differing_quantities(probes, learner, expected, keys)
    if all(trace is None for trace in learner):  # raising everywhere shows no formula
        return Explanation((), differs)
    distance, members = catalogued_members(
        family, probes, learner, keys, catalogued,
        *fitting_members(family, probes, learner, keys))
    if distance <= 0:
        return Explanation((), differs)
    shared = set(members[0].items()).intersection(*(m.items() for m in members[1:]))
    stated = words(family, {k: v for k, v in members[0].items() if (k, v) in shared}, catalog)
    rest = [m for m in ({k: v for k, v in m.items() if (k, v) not in shared} for m in members)
            if m]
    open_ = ""
    if rest:
        options = ["; ".join(text for _, text in words(family, m, catalog)) for m in rest[:3]]
        open_ = (f" The probes fit {'either ' if len(options) > 1 else ''}"
                 + " or ".join(f"({o})" for o in options) + ", and cannot tell which.")
    return Explanation(tuple(text for _, text in stated),
                       f"{differs}{open_}",
                       tuple(dev for dev, _ in stated))
