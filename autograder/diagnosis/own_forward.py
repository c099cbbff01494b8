"""A backward pass judged against the numerical gradient of the learner's own forward pass.

A backward case is held to the numerical gradient of the reference forward pass. When it
fails, probes tell the two reasons apart, as CS231n's own gradient checks do: the learner's
forward pass is run at the case's inputs moved by +-h, one element at a time (bn_forward
cases in the sandbox), and the centred differences give the gradient of *that* forward.

- The backward matches it, and the forward's train-mode output is within FORWARD_TOL of the
  reference's: the backward is right and keeps its marks; the page says that the forward
  is what is wrong.
- The backward matches it, but the forward is far off (an identity, zeros): no marks, and
  the page says to fix the forward first.
- The backward does not match it: the backward itself is wrong.

A forward within DEFAULT_TOL of the reference is right: the rule is not for it (a backward
that is nearly right for a right forward is judged by its own cases, as ever).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from ..kit.checks import DEFAULT_TOL, rel_error
from ..suites.batchnorm import BACKWARD_TOL

H = 1e-5  # the step of eval_numerical_gradient_array
FORWARD_TOL = 1e-2  # "only slightly off": CS231n's notebooks call a relative error < 1e-2 close


@dataclass(frozen=True)
class OwnForward:
    matches: bool               # the backward equals the gradient of the learner's forward
    forward_error: float        # the forward's train-mode output against the reference's
    backward_error: float       # the backward against the gradient of the learner's forward

    @property
    def forward_wrong(self) -> bool:
        return self.forward_error > DEFAULT_TOL

    @property
    def keeps_marks(self) -> bool:
        return self.matches and self.forward_wrong and self.forward_error <= FORWARD_TOL


def probe(function: str, forward: str) -> dict:
    """The bn_backward case the judgement is made on: ordinary data (no feature of tiny
    variance, where the place of epsilon would make any slip in the forward a large one),
    the default eps; held to the backward cases' own tolerance."""
    rng = np.random.default_rng(43_000)
    n, d = 5, 3
    return {"function": function, "kind": "bn_backward", "forward": forward,
            "description": "probe: your backward against your own forward pass",
            "x": rng.standard_normal((n, d)) * 3.0 + 1.0, "gamma": rng.uniform(0.5, 2.0, d),
            "beta": rng.standard_normal(d), "dout": rng.standard_normal((n, d)),
            "bn_param": {"mode": "train"}, "tol": BACKWARD_TOL}


def _forward_case(case: dict, description: str, calls: list[dict], **inputs) -> dict:
    return {"function": case["forward"], "kind": "bn_forward",
            "description": f"{description} ({case['description']})",
            "gamma": inputs.get("gamma", case["gamma"]), "beta": inputs.get("beta", case["beta"]),
            "bn_param": {k: v for k, v in case["bn_param"].items() if k != "mode"},
            "calls": calls}


def gradient_cases(case: dict) -> list[dict]:
    """The forward runs that give the numerical gradient of the learner's forward at the
    inputs of bn_backward ``case``: first one case with the unmoved x and x moved by +-h
    per element (out does not depend on the running statistics in train mode), then per
    feature gamma and beta moved by +-h."""
    x = np.array(case["x"], dtype=float)
    calls = [{"mode": "train", "x": x}]
    for index in np.ndindex(x.shape):
        for sign in (1, -1):
            moved = x.copy()
            moved[index] += sign * H
            calls.append({"mode": "train", "x": moved})
    cases = [_forward_case(case, "your forward pass at moved inputs", calls)]
    for name in ("gamma", "beta"):
        value = np.array(case[name], dtype=float)
        for j in range(value.size):
            for sign in (1, -1):
                moved = value.copy()
                moved[j] += sign * H
                cases.append(_forward_case(case, f"your forward pass at a moved {name}",
                                           [{"mode": "train", "x": x}], **{name: moved}))
    return cases


def numerical_gradient(case: dict, traces: list[list[dict]]) -> dict[str, np.ndarray]:
    """dx, dgamma, dbeta of sum(out * dout) from the traces of gradient_cases(case)."""
    dout = np.array(case["dout"], dtype=float)
    x_runs = [np.asarray(step["out"], dtype=float) for step in traces[0]]
    dx = np.array([np.sum((plus - minus) * dout) / (2 * H)
                   for plus, minus in zip(x_runs[1::2], x_runs[2::2])]).reshape(dout.shape)
    rest = [np.asarray(trace[0]["out"], dtype=float) for trace in traces[1:]]
    d = np.size(case["gamma"])
    pairs = [np.sum((plus - minus) * dout) / (2 * H) for plus, minus in zip(rest[::2], rest[1::2])]
    return {"dx": dx, "dgamma": np.array(pairs[:d]), "dbeta": np.array(pairs[d:])}


def judge(case: dict, actual: list[dict], traces: list[list[dict]],
          reference_forward) -> OwnForward:
    """The learner's backward output ``actual`` against the gradient of their forward
    (``traces``: of gradient_cases(case)); their forward's output against the reference's."""
    own = numerical_gradient(case, traces)
    tol = case.get("tol", DEFAULT_TOL)
    try:
        errors = [rel_error(np.asarray(actual[0][k], dtype=float).reshape(own[k].shape), own[k])
                  for k in ("dx", "dgamma", "dbeta")]
    except (KeyError, TypeError, ValueError):
        errors = [np.inf]
    x, gamma, beta = (np.array(case[k], dtype=float) for k in ("x", "gamma", "beta"))
    want = reference_forward(x, gamma, beta, copy.deepcopy(case["bn_param"]))[0]
    got = np.asarray(traces[0][0]["out"], dtype=float)
    forward_error = rel_error(got, want) if got.shape == np.shape(want) else np.inf
    return OwnForward(max(errors) <= tol, float(forward_error), float(max(errors)))


def words(function: str, forward: str, verdict: OwnForward) -> str:
    if verdict.keeps_marks:
        return (f"your {function} is right for your own {forward}: it matches the numerical "
                f"gradient of your forward pass (relative error {verdict.backward_error:.1e}). "
                f"It is {forward} that is wrong: its train-mode output differs from the "
                f"reference's by {verdict.forward_error:.1e}, within the {FORWARD_TOL:g} "
                f"allowed here, so these checks keep their marks. Fix {forward}.")
    return (f"your {function} is right for your own {forward} (it matches the numerical "
            f"gradient of your forward pass), but that forward pass is far from the reference "
            f"(relative error {verdict.forward_error:.1e} in train mode, more than the "
            f"{FORWARD_TOL:g} allowed here): fix {forward} first, then look at this function "
            f"again.")
