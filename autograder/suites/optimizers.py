"""The optimizers assignment: SGD+momentum, Nesterov, AdaGrad, RMSProp and Adam.

Every function gets three groups: the visible cases shipped with the release (2 points),
hidden single steps on inputs that separate conventions (4 points) and hidden trajectories
of 60 steps compared step by step, state included (4 points). Hidden inputs come from
seeds that never leave this file; visible ones from other seeds.

Every catalogued mistake fails the hidden groups it fails by at least 100 times the
tolerance (tests/test_diagnosis.py prints and asserts the margins): hence the tiny gradients
with epsilon passed, where epsilon is as large as the root it is added to, and Adam's
trajectory on a shallow bowl. An output whose values are right in a shape that differs only
by dimensions of size 1 keeps its marks, with a note (the README's grading section).
"""
from __future__ import annotations

import numpy as np

from ..suite import FunctionSpec, Group, Suite

FUNCTIONS = ("sgd_momentum", "nesterov_momentum", "adagrad", "rmsprop", "adam")
STEPS = 60

DEFAULTS_HINT = ("Set every default with config.setdefault(key, value) so that a config "
                 "passed in keeps its own values and config=None gets the defaults.")
HINTS = {
    "sgd_momentum": {
        "velocity": "v = momentum * v - learning_rate * dw: the old velocity decays by the "
                    "friction `momentum`, the gradient enters scaled by the learning rate "
                    "alone, and the new v goes back into config['velocity'].",
        "next_w": "next_w = w + v, with the velocity just updated; the velocity already "
                  "carries the minus sign and the learning rate.",
    },
    "nesterov_momentum": {
        "velocity": "v = momentum * v - learning_rate * dw, stored back in config['velocity'], "
                    "exactly as for plain momentum.",
        "next_w": "In the change of variables w is the look-ahead point: next_w = w - "
                  "momentum * v_prev + (1 + momentum) * v, with v_prev the velocity before "
                  "this step. Plain momentum (next_w = w + v) is not enough.",
    },
    "adagrad": {
        "cache": "cache = cache + dw**2: AdaGrad adds every squared gradient and never "
                 "forgets (a decaying cache is RMSProp).",
        "next_w": "next_w = w - learning_rate * dw / (sqrt(cache) + epsilon), with epsilon "
                  "added after the square root.",
    },
    "rmsprop": {
        "cache": "cache = decay_rate * cache + (1 - decay_rate) * dw**2: the old cache keeps "
                 "weight decay_rate (0.99), the new squared gradient 1 - decay_rate; store "
                 "it back in config['cache'].",
        "next_w": "next_w = w - learning_rate * dw / (sqrt(cache) + epsilon): the square root "
                  "of the cache, and epsilon after the square root, not inside it.",
    },
    "adam": {
        "t": "Increment t before using it: the first step uses t = 1, and config['t'] "
             "counts the steps taken.",
        "m": "m = beta1 * m + (1 - beta1) * dw, stored as it is: the bias correction "
             "m / (1 - beta1**t) is used for the step but never stored.",
        "v": "v = beta2 * v + (1 - beta2) * dw**2, stored as it is: the bias correction "
             "v / (1 - beta2**t) is used for the step but never stored.",
        "next_w": "next_w = w - learning_rate * mt / (sqrt(vt) + epsilon) with the bias "
                  "corrections mt = m / (1 - beta1**t), vt = v / (1 - beta2**t), using t after "
                  "incrementing it (t = 1 on the first step, so 1 - beta**t is never 0), and "
                  "epsilon after the square root.",
    },
}
for _hints in HINTS.values():
    _hints.update({key: DEFAULTS_HINT for key in (
        "learning_rate", "momentum", "decay_rate", "epsilon", "beta1", "beta2")})

# Hyper-parameters far from the defaults, so a hard-coded default is caught.
OTHER_HYPER = {
    "sgd_momentum": {"learning_rate": 0.05, "momentum": 0.5},
    "nesterov_momentum": {"learning_rate": 0.05, "momentum": 0.5},
    "adagrad": {"learning_rate": 0.2, "epsilon": 1e-6},
    "rmsprop": {"learning_rate": 0.02, "decay_rate": 0.9, "epsilon": 1e-6},
    "adam": {"learning_rate": 0.02, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6},
}
STATE = {
    "sgd_momentum": ("velocity",), "nesterov_momentum": ("velocity",),
    "adagrad": ("cache",), "rmsprop": ("cache",), "adam": ("m", "v"),
}
# A learning rate per method that makes 60 steps on the trajectory problems interesting.
TRAJECTORY_LR = {"sgd_momentum": 0.02, "nesterov_momentum": 0.02, "adagrad": 0.5,
                 "rmsprop": 0.02, "adam": 0.05}


def step_case(function, description, w, dw, config):
    return {"function": function, "kind": "update_step", "description": description,
            "w": w, "dw": dw, "config": config}


def trajectory_case(function, description, problem, w0, config, schedule=None, steps=STEPS):
    return {"function": function, "kind": "update_trajectory", "description": description,
            "problem": problem, "w0": w0, "config": config, "schedule": schedule,
            "steps": steps}


def ill_conditioned(rng, dim=2, condition=50.0, angle=None):
    """A quadratic bowl with curvatures from 1 to ``condition``, axes rotated."""
    if dim == 2:
        angle = rng.uniform(0.3, 1.2) if angle is None else angle
        q = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    else:
        q, _ = np.linalg.qr(rng.standard_normal((dim, dim)))
    curvatures = np.geomspace(1.0, condition, dim) / condition  # largest curvature 1
    return {"A": q @ np.diag(curvatures * 2.0) @ q.T, "b": rng.standard_normal(dim) * 0.1,
            "noise": None}


def saddle(rng, dim=2):
    """0.5 w^T A w with one negative curvature: the gradient vanishes at the origin."""
    curvatures = np.linspace(1.0, 0.2, dim)
    curvatures[-1] = -0.3
    return {"A": np.diag(curvatures), "b": np.zeros(dim), "noise": None}


def noisy(rng, dim, steps=STEPS, scale=0.5):
    problem = ill_conditioned(rng, dim, condition=20.0)
    problem["noise"] = rng.standard_normal((steps, dim)) * scale
    return problem


def state(function, rng, shape, scale=1.0):
    """A non-zero state, as left by earlier steps."""
    if function == "adam":
        return {"m": rng.standard_normal(shape) * 0.1 * scale,
                "v": rng.uniform(0.01, 0.2, shape) * scale**2, "t": 5}
    if function in ("adagrad", "rmsprop"):
        return {"cache": rng.uniform(0.05, 2.0, shape) * scale**2}
    return {"velocity": rng.standard_normal(shape) * 0.1 * scale}


def hidden_steps(function, rng):
    shape = (4, 5)
    w = rng.standard_normal(shape)
    dw = rng.standard_normal(shape)
    cases = [
        step_case(function, "config=None: the default hyper-parameters and a fresh state",
                  w, dw, None),
        step_case(function, "tiny gradients (about 1e-9) from a fresh state",
                  w, dw * 1e-9, {"learning_rate": 1e-2}),
        step_case(function, "a non-zero stored state and non-default hyper-parameters",
                  w, dw, {**OTHER_HYPER[function], **state(function, rng, shape)}),
        step_case(function, "a non-zero stored state with large gradients",
                  w, dw * 30.0, {**state(function, rng, shape, scale=10.0)}),
    ]
    if function == "adam":
        cases.append(step_case(function, "mid-run with t=5 and tiny moments",
                               w, dw * 1e-5, {"m": dw * 1e-6, "v": dw**2 * 1e-11, "t": 5}))
    if "epsilon" in OTHER_HYPER[function]:
        # epsilon passed where it is as large as the root it is added to: an epsilon that is
        # hard-coded, or sits elsewhere, moves the step by far more than the tolerance
        cases.append(step_case(function, "tiny gradients (about 1e-6) with epsilon=1e-6 passed",
                               w, dw * 1e-6, {"learning_rate": 1e-2, "epsilon": 1e-6}))
    return tuple(cases)


def shallow(dim=3, scale=1e-6):
    """A quadratic bowl so shallow that every gradient is about ``scale``: epsilon is then
    as large as the root of Adam's second moment, and where it sits decides each step."""
    return {"A": np.diag(np.linspace(1.0, 0.3, dim)) * scale, "b": np.full(dim, 0.5 * scale),
            "noise": None}


def hidden_trajectories(function, rng):
    lr = TRAJECTORY_LR[function]
    extra = () if function != "adam" else (
        trajectory_case(function, "60 steps on a shallow quadratic: gradients about 1e-6",
                        shallow(), np.array([1.0, -2.0, 0.5]), {"learning_rate": lr}),)
    return extra + (
        trajectory_case(function, "60 steps on an ill-conditioned quadratic (condition 50)",
                        ill_conditioned(rng), np.array([1.8, -2.2]), {"learning_rate": lr}),
        trajectory_case(function, "60 steps starting near a saddle point",
                        saddle(rng, 3), np.array([1.0, -0.5, 1e-3]), {"learning_rate": lr}),
        trajectory_case(function, "60 steps with noisy gradients in 6 dimensions",
                        noisy(rng, 6), rng.standard_normal(6), {"learning_rate": lr}),
        trajectory_case(function, "60 steps with the learning rate halved every 20 steps",
                        ill_conditioned(rng, 4, condition=30.0), rng.standard_normal(4),
                        {"learning_rate": lr * 2}, schedule={"every": 20, "factor": 0.5}),
    )


def visible_cases(function, rng):
    shape = (2, 3)
    w = np.linspace(-0.4, 0.6, 6).reshape(shape)
    dw = np.linspace(-0.6, 0.4, 6).reshape(shape)
    return (
        step_case(function, "visible: first step with config=None", w, dw, None),
        step_case(function, "visible: a step with a stored state",
                  w, dw, {"learning_rate": 1e-2, **state(function, rng, shape)}),
        trajectory_case(function, "visible: 10 steps on an ill-conditioned quadratic",
                        ill_conditioned(rng, angle=0.5), np.array([-2.0, 1.5]),
                        {"learning_rate": TRAJECTORY_LR[function]}, steps=10),
    )


def function_spec(index, function):
    hidden = np.random.default_rng(7_000 + index)
    visible = np.random.default_rng(100 + index)
    return FunctionSpec(function, (
        Group("visible", 2, visible_cases(function, visible), False,
              "the visible cases from the notebook"),
        Group("steps", 4, hidden_steps(function, hidden), True,
              "single steps on inputs that separate conventions"),
        Group("trajectories", 4, hidden_trajectories(function, hidden), True,
              "60-step trajectories compared step by step, state included"),
    ), HINTS[function])


SUITE = Suite(
    assignment="optimizers",
    notebook="optimizers.ipynb",
    prelude="import numpy as np\n",
    functions=tuple(function_spec(i, f) for i, f in enumerate(FUNCTIONS)),
)
