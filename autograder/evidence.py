"""What a picture of a failed case should show, as plain data kept in results.json.

Made at grading time from the learner's trace and the reference's; drawn later by
feedback.py, so that `python -m autograder feedback` can redraw every page from the
recorded results alone. Nothing here is code or a hidden input beyond what the picture
itself shows.
"""
from __future__ import annotations

import numpy as np

from .kit.checks import DEFAULT_TOL, align_signs, rel_error

MAX_POINTS = 400


def _floats(values) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=float).ravel()[:MAX_POINTS]]


def _path(trace: list[dict]) -> list[list[float]] | None:
    points = []
    for step in trace:
        w = np.asarray(step.get("next_w"), dtype=float) if isinstance(step, dict) else None
        if w is None or w.ndim != 1 or w.size < 2 or not np.all(np.isfinite(w[:2])):
            break
        points.append([float(w[0]), float(w[1])])
    return points or None


def plot_data(case: dict, actual: list[dict], expected: list[dict], quantity: str | None,
              step: int | None) -> dict | None:
    """The data of the picture for one failed case, or None when no picture helps."""
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
            if isinstance(got, np.ndarray) and got.shape == want.shape and np.all(np.isfinite(got)):
                errors[key] = rel_error(got, want)
        return {"kind": "errors", "title": title, "errors": errors, "tol": case.get("tol", DEFAULT_TOL)}
    if quantity and isinstance(actual, list) and step and step <= len(actual):
        got_step, want_step = actual[step - 1], expected[step - 1]
        if not isinstance(got_step, dict):
            return None
        if case.get("sign_free"):
            got_step = align_signs(got_step, want_step, case["sign_free"])
        got, want = got_step.get(quantity), want_step.get(quantity)
        if isinstance(got, np.ndarray) and isinstance(want, np.ndarray) and \
                got.shape == want.shape and np.all(np.isfinite(got)):
            return {"kind": "scatter", "title": title, "quantity": quantity,
                    "expected": _floats(want), "actual": _floats(got)}
    return None
