"""Catalogs of known mistakes and of correct forms that look different, per assignment.

A variant is a whole answer cell: the function written the wrong (or the other right) way.
The hidden suites must reject every mistake on its own function and accept every
alternative; the project's tests prove it for each catalog.
"""
from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Variant:
    function: str
    name: str
    description: str
    source: str
    others: tuple[tuple[str, str], ...] = ()  # (grade_id, source) of other cells it replaces
    hint: str = ""  # for mistakes: what to change, in the assignment's conventions

    def cells(self) -> list[tuple[str, str]]:
        return [(self.function, self.source), *self.others]


def catalog(assignment: str) -> tuple[tuple[Variant, ...], tuple[Variant, ...]]:
    """(mistakes, alternatives) for an assignment; every mistake carries its hint."""
    module = importlib.import_module(f"{__name__}.{assignment}")
    mistakes = tuple(replace(m, hint=module.HINTS[m.function, m.name]) for m in module.MISTAKES)
    return mistakes, module.ALTERNATIVES


def with_variant(nb: dict, variant: Variant) -> dict:
    for grade_id, source in variant.cells():
        nb = with_answer(nb, grade_id, source)
    return nb


def with_answer(nb: dict, grade_id: str, source: str) -> dict:
    """A copy of notebook ``nb`` whose answer cell ``grade_id`` holds ``source``."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell["source"] = source.strip("\n") + "\n"
            return nb
    raise KeyError(f"no cell with grade_id {grade_id!r}")
