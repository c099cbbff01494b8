"""What a picture of a failed case should show, as plain data kept in results.json.

Made at grading time from the learner's trace and the reference's; drawn later by
feedback.py, so that `python -m autograder feedback` can redraw every page from the
recorded results alone. Nothing here is code or a hidden input beyond what the picture
itself shows.
"""
from __future__ import annotations

import numpy as np

from .kit.checks import DEFAULT_TOL, align_signs, rel_error

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
    if case["kind"] == "update_trajectory":
        start = [float(v) for v in np.asarray(case["w0"], dtype=float)[:2]]
        learner, reference = _path(actual), _path(expected)
        if reference is None:
            return None
        contour = None
        if np.shape(case["problem"]["A"]) == (2, 2):
            contour = {"A": np.asarray(case["problem"]["A"]).tolist(),
                       "b": np.asarray(case["problem"]["b"]).tolist()}
        return {"kind": "paths", "title": title, "start": start, "learner": learner or [],
                "reference": reference, "diverged_at": step, "contour": contour}
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
