"""The diagnosis a learner's own pytest can make: probes and member traces as released data.

The learner's folder cannot hold the reference or its families (they are the solution), so
the release writes what they produce instead: the probe cases, and the traces of the
reference, of every member one knob away from it and of every catalogued mistake the
family does not word on them (families read with no defaults read back, so the commonly
written defaults). The kit runs the probes on the
learner's function and names the member whose traces match on every probe, with the same
comparison the grader uses (kit.checks.same_trace); two mistakes at once, and a wrong
default outside the common ones, are left to the grader's feedback.
"""
from __future__ import annotations

from ..kit.checks import same_trace
from . import _catalog, _catalogued, _module, probe_cases
from .explain import CATALOGUED, words


def visible_diagnosis(assignment: str, function: str) -> dict:
    """{"probes", "keys", "members": [{"words": [...], "traces": [...]}]}, the reference
    first (no words); traces None where a member raises."""
    module = _module(assignment)
    family = module.family(function, [])
    probes = list(probe_cases(assignment, function))
    catalog = _catalog(assignment, function)
    deviations = [{}] + [{knob.name: value} for knob in family.knobs
                         for value in knob.alternatives]
    members = []
    for deviation in deviations:
        settings = {**family.reference(), **deviation}
        members.append({"words": [text for _, text in words(family, deviation, catalog)],
                        "traces": [family.run(settings, probe) for probe in probes]})
    keys = module.compared_keys(function)
    for name, traces in _catalogued(assignment, function).items():
        said = [text for _, text in words(family, {CATALOGUED: name}, catalog)]
        if not any(m["words"] == said and all(same_trace(p, got, want, keys) for p, got, want
                                               in zip(probes, traces, m["traces"]))
                   for m in members):
            members.append({"words": said, "traces": traces})
    return {"probes": probes, "keys": sorted(module.compared_keys(function)),
            "members": members}
