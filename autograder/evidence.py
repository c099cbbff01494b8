"""What a picture of a failed case should show, as plain data kept in results.json.

Made at grading time from the learner's trace and the reference's; drawn later by
feedback.py, so that `python -m autograder feedback` can redraw every page from the
recorded results alone. Nothing here is code or a hidden input beyond what the picture
itself shows.
"""
from __future__ import annotations

import numpy as np

from .kit.checks import DEFAULT_TOL, align_signs, rel_error, to_unit

MAX_POINTS = 400  # per series: a learner's trace can be longer than any picture needs


def _floats(values) -> list[float]:
    """At most MAX_POINTS numbers; NaN and infinities are kept, for the picture to name."""
    return [float(v) for v in np.asarray(values, dtype=float).ravel()[:MAX_POINTS]]


def _path(trace: list[dict]) -> list[list[float]] | None:
    """The first two coordinates of next_w at each step, NaN and infinities kept, up to
    the first step that has no such vector."""
    points = []
    for step in trace[:MAX_POINTS]:
        w = step.get("next_w") if isinstance(step, dict) else None
        if not isinstance(w, np.ndarray) or w.dtype.kind not in "biuf" or w.ndim != 1 \
                or w.size < 2:
            break
        points.append(_floats(w[:2]))
    return points or None


def _step_errors(actual: list[dict], expected: list[dict], quantity: str) -> list[float]:
    """The relative error of ``quantity`` at each step (NaN where the learner's value is),
    as the check measures it, up to the first step where the learner's has no such array:
    what the picture shows when the two paths cannot show the difference."""
    errors = []
    for got, want in zip(actual[:MAX_POINTS], expected):
        got = got.get(quantity) if isinstance(got, dict) else None
        want = want.get(quantity)
        if not (isinstance(got, np.ndarray) and isinstance(want, np.ndarray)
                and got.dtype.kind in "biuf" and got.shape == want.shape):
            break
        errors.append(rel_error(got, want))
    return errors


def _distribution(case: dict, actual: list[dict], expected: list[dict],
                  quantity: str | None) -> dict | None:
    """A random function's values (the first call's) where they fall from low (0) to high (1)
    on their scale, sorted, the learner's and the reference's: right draws lie along the
    diagonal. For configurations, the dimension the failed verdict names, else the first."""
    if case["kind"] == "samples":
        key, column, name = "samples", None, "samples"
        low, high, scale = case["low"], case["high"], case.get("scale", "log")
    else:
        names = list(case["space"])
        name = next((n for n in names if (quantity or "").startswith(f"{n}: ")), names[0])
        key, column = "configs", names.index(name)
        low, high, scale = case["space"][name]

    def sorted_units(trace):
        values = trace[0].get(key) if isinstance(trace, list) and trace and \
            isinstance(trace[0], dict) else None
        if not isinstance(values, np.ndarray) or values.dtype.kind not in "biuf":
            return None
        if column is not None:
            if values.ndim != 2 or values.shape[1] <= column:
                return None
            values = values[:, column]
        units = np.sort(to_unit(values.astype(float).ravel(), low, high, scale))
        picks = np.linspace(0, len(units) - 1, min(len(units), MAX_POINTS)).round().astype(int)
        return _floats(units[picks]) if len(units) else None

    learner, reference = sorted_units(actual), sorted_units(expected)
    if learner is None or reference is None:
        return None
    return {"kind": "distribution", "title": case["description"], "quantity": name,
            "scale": scale, "learner": learner, "reference": reference}


def _pairs(case: dict, actual: list[dict], expected: list[dict]) -> dict | None:
    """Configurations on two dimensions, each from low (0) to high (1) on its scale, the
    learner's (the first call's) against the reference's: for random search the pair whose
    values depend on each other most in the learner's, for a grid the first two."""
    names = list(case["space"])

    def units(trace):
        configs = trace[0].get("configs") if isinstance(trace, list) and trace and \
            isinstance(trace[0], dict) else None
        if not isinstance(configs, np.ndarray) or configs.dtype.kind not in "biuf" or \
                configs.ndim != 2 or configs.shape[1] != len(names):
            return None
        return np.column_stack([to_unit(configs[:, j].astype(float), *case["space"][name])
                                for j, name in enumerate(names)])

    learner, reference = units(actual), units(expected)
    if learner is None or reference is None:
        return None
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))] or [(0, 0)]
    if case["kind"] == "random_configs":
        centred = np.nan_to_num(learner - 0.5)
        pairs.sort(key=lambda ij: -abs(np.mean(centred[:, ij[0]] * centred[:, ij[1]])))
    pair = list(pairs[0])
    return {"kind": "pairs", "title": case["description"], "names": [names[k] for k in pair],
            "learner": [_floats(row) for row in learner[:MAX_POINTS, pair]],
            "reference": [_floats(row) for row in reference[:MAX_POINTS, pair]]}


def plot_data(case: dict, actual: list[dict], expected: list[dict], quantity: str | None,
              step: int | None) -> dict | None:
    """The data of the picture for one failed case, or None when no picture helps or the
    learner's outputs are too odd to picture: a picture never costs a verdict."""
    try:
        with np.errstate(all="ignore"):  # the learner's values may overflow any arithmetic
            return _plot_data(case, actual, expected, quantity, step)
    except Exception:  # noqa: BLE001 - whatever the outputs are, the grade stands without it
        return None


def _plot_data(case: dict, actual: list[dict], expected: list[dict], quantity: str | None,
               step: int | None) -> dict | None:
    title = case["description"]
    if case["kind"] == "grid_configs" or quantity == "dimensions independent":
        return _pairs(case, actual, expected)
    if case["kind"] in ("samples", "random_configs"):
        return _distribution(case, actual, expected, quantity)
    if case["kind"] == "update_trajectory":
        start = [float(v) for v in np.asarray(case["w0"], dtype=float)[:2]]
        learner, reference = _path(actual), _path(expected)
        if reference is None:
            return None
        contour = None
        if np.shape(case["problem"]["A"]) == (2, 2):
            contour = {"A": np.asarray(case["problem"]["A"]).tolist(),
                       "b": np.asarray(case["problem"]["b"]).tolist()}
        quantity = quantity or "next_w"
        return {"kind": "paths", "title": title, "start": start, "learner": learner or [],
                "reference": reference, "diverged_at": step, "contour": contour,
                "quantity": quantity, "errors": _step_errors(actual, expected, quantity),
                "tol": case.get("tol", DEFAULT_TOL)}
    if case["kind"] == "bn_backward" and isinstance(actual, list) and actual and \
            isinstance(actual[0], dict):
        errors = {}
        for key in ("dx", "dgamma", "dbeta"):
            got, want = actual[0].get(key), expected[0][key]
            if isinstance(got, np.ndarray) and got.dtype.kind in "biuf" and \
                    got.shape == want.shape:
                errors[key] = rel_error(got, want)  # NaN or infinite when the values are
        return {"kind": "errors", "title": title, "errors": errors, "tol": case.get("tol", DEFAULT_TOL)}
    if quantity and isinstance(actual, list) and step and step <= len(actual):
        got_step, want_step = actual[step - 1], expected[step - 1]
        if not isinstance(got_step, dict):
            return None
        if case.get("sign_free"):
            got_step = align_signs(got_step, want_step, case["sign_free"])
        got, want = got_step.get(quantity), want_step.get(quantity)
        if isinstance(got, np.ndarray) and isinstance(want, np.ndarray) and \
                got.dtype.kind in "biuf" and got.shape == want.shape:
            return {"kind": "scatter", "title": title, "quantity": quantity, "step": step,
                    "expected": _floats(want), "actual": _floats(got)}
    return None
