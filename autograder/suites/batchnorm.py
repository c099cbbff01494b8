"""The batch normalization assignment: the forward pass, the staged and the simplified backward.

The forward pass is checked against the reference in train and test mode, running statistics
included. Both backward passes are checked against the numerical gradient of the reference
forward pass, with the cache of the learner's own forward pass (so any cache layout works,
and a wrong forward also shows in the backward: the feedback says so).

Two policies (stated in the README's grading section):

- Shapes: an output whose values are right in a shape that differs from the expected one
  only by dimensions of size 1 (running statistics or dgamma of shape (1, D) from
  keepdims=True) keeps its marks; the feedback notes the shape.
- A backward pass after a wrong forward pass: when a backward case fails, the learner's
  backward is held to the numerical gradient of the learner's *own* forward pass on a probe
  (autograder/diagnosis/own_forward.py). If it matches, and that forward's train-mode output
  is within own_forward.FORWARD_TOL (1e-2, relative) of the reference's, the backward keeps
  its marks and the feedback says the forward is what is wrong; a forward further off (an
  identity, zeros) buys its matching backward nothing, and only then does the feedback say
  to fix the forward first. The timed case keeps a numerical "backward" out either way.
"""
from __future__ import annotations

import numpy as np

from ..suite import FunctionSpec, Group, Suite

FUNCTIONS = ("batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt")
LARGE, LARGE_SECONDS = (16384, 8), 2.0  # the timed case: see large_case
BACKWARD_TOL = 1e-5  # centred differences on float64 agree with the analytic gradient to ~1e-8

FORWARD_HINTS = {
    "out": "Train mode: x_hat = (x - mean) / sqrt(var + eps) with the batch mean and the "
           "biased batch variance (np.var, dividing by N) over axis 0, then out = gamma * "
           "x_hat + beta. Test mode: the same with running_mean and running_var in place of "
           "the batch statistics, gamma and beta included.",
    "running_mean": "After every training call: running_mean = momentum * running_mean + "
                    "(1 - momentum) * batch_mean, written back into bn_param['running_mean'] "
                    "(zeros of shape (D,) when absent). Test mode leaves it unchanged.",
    "running_var": "After every training call: running_var = momentum * running_var + "
                   "(1 - momentum) * batch_var, written back into bn_param['running_var'] "
                   "(zeros of shape (D,) when absent). Test mode leaves it unchanged.",
}
GAMMA_BETA_HINTS = {
    "dgamma": "dgamma = sum over the batch (axis 0) of dout * x_hat: shape (D,).",
    "dbeta": "dbeta = sum over the batch (axis 0) of dout: shape (D,).",
}
DEPENDS = ("This check runs on the cache of your own batchnorm_forward; when that fails its "
           "own checks too, the feedback says which of the two is wrong.")
HINTS = {
    "batchnorm_forward": FORWARD_HINTS,
    "batchnorm_backward": {
        "dx": "Walk the graph back: dx_hat = dout * gamma; the variance path dvar = "
              "sum(dx_hat * (x - mean)) * -0.5 * (var + eps)**-1.5; the mean path dmean = "
              "-sum(dx_hat) / sqrt(var + eps); then dx = dx_hat / sqrt(var + eps) + dvar * 2 * "
              "(x - mean) / N + dmean / N, every sum over the batch (axis 0). " + DEPENDS,
        **{k: v + " " + DEPENDS for k, v in GAMMA_BETA_HINTS.items()},
    },
    "batchnorm_backward_alt": {
        "dx": "dx = gamma / sqrt(var + eps) / N * (N * dout - dbeta - x_hat * dgamma), with "
              "dbeta and dgamma summed over the batch (axis 0). " + DEPENDS,
        **{k: v + " " + DEPENDS for k, v in GAMMA_BETA_HINTS.items()},
    },
}


def layer(rng, n, d, scale=1.0, offset=0.0):
    x = rng.standard_normal((n, d)) * scale + offset
    gamma = rng.uniform(0.5, 2.0, d)
    beta = rng.standard_normal(d)
    return x, gamma, beta


def forward_case(description, gamma, beta, calls, bn_param=None):
    return {"function": "batchnorm_forward", "kind": "bn_forward", "description": description,
            "gamma": gamma, "beta": beta, "bn_param": bn_param or {}, "calls": calls}


def train_calls(rng, batches, n, d, scale=1.0, offset=0.0):
    return [{"mode": "train", "x": rng.standard_normal((n, d)) * scale + offset}
            for _ in range(batches)]


def backward_case(function, description, x, gamma, beta, dout, bn_param=None):
    return {"function": function, "kind": "bn_backward", "description": description,
            "forward": "batchnorm_forward", "expected_from": "numerical", "tol": BACKWARD_TOL,
            "x": x, "gamma": gamma, "beta": beta, "dout": dout,
            "bn_param": {"mode": "train", **(bn_param or {})}}


def forward_train(rng):
    x, gamma, beta = layer(rng, 7, 3, scale=2.0, offset=5.0)
    tiny = rng.standard_normal((6, 4)) * np.array([1.0, 1e-3, 3.0, 1.0])
    return (
        forward_case("N=2, a batch of two rows", *layer(rng, 2, 5)[1:],
                     [{"mode": "train", "x": rng.standard_normal((2, 5)) * 3.0}]),
        forward_case("N != D, non-unit gamma and non-zero beta, far from the origin",
                     gamma, beta, [{"mode": "train", "x": x}]),
        forward_case("a feature scaled by 1e-3, where the place of eps matters",
                     np.ones(4), np.zeros(4), [{"mode": "train", "x": tiny}]),
        forward_case("eps=1e-3 and momentum=0.5 passed in bn_param", gamma, beta,
                     [{"mode": "train", "x": x}], {"eps": 1e-3, "momentum": 0.5}),
    )


def forward_running(rng):
    _, gamma, beta = layer(rng, 1, 4)
    training = train_calls(rng, 4, 8, 4, scale=2.0, offset=3.0)
    shifted = {"mode": "test", "x": rng.standard_normal((5, 4)) * 2.0 + 9.0}
    return (
        forward_case("four training calls, then a test batch shifted far from them",
                     gamma, beta, training + [shifted]),
        forward_case("training calls, then a test batch of a single row", gamma, beta,
                     training[:2] + [{"mode": "test", "x": shifted["x"][:1]}]),
        forward_case("momentum=0.5: training, test, then training again", gamma, beta,
                     training[:2] + [shifted] + training[2:3], {"momentum": 0.5}),
        tiny_variance_test(np.random.default_rng(9_600)),
    )


def tiny_variance_test(rng):
    """Training batches with a feature of variance about 1e-6, then test mode: its
    running_var is as small as eps, so where test mode puts eps (or whether it takes the
    square root) moves that feature's output by far more than the tolerance."""
    _, gamma, beta = layer(rng, 1, 3)
    scale = np.array([1.0, 1e-3, 2.0])
    calls = [{"mode": "train", "x": rng.standard_normal((8, 3)) * scale + 1.0} for _ in range(3)]
    calls.append({"mode": "test", "x": rng.standard_normal((5, 3)) * scale + 1.0})
    return forward_case("a feature of variance about 1e-6: training calls, then test mode",
                        gamma, beta, calls)


def large_case(function, rng):
    """A batch so large that only an analytic backward pass answers in time.

    The backward pass costs a few forward passes' work (about 2 ms here, for 16384 x 8);
    centred differences of the forward pass need at least two forward passes per row even
    when every column is perturbed at once (32768 of them, about 55 s here), and one pair per
    element when done naively. Many rows and few columns make the cheat dearest for the
    data sent. Held to the reference's own backward pass: the numerical gradient of so
    large a batch would take the grader as long.
    """
    x, gamma, beta = layer(rng, LARGE[0], LARGE[1], 2.0, 1.0)
    case = backward_case(function, f"a large batch, N={LARGE[0]}, D={LARGE[1]}, answered "
                         f"within {LARGE_SECONDS:g} s", x, gamma, beta, rng.standard_normal(LARGE))
    del case["expected_from"]
    case["seconds"] = LARGE_SECONDS
    case["why_timed"] = ("an analytic backward pass takes milliseconds here; one that "
                         "differentiates the forward pass numerically cannot finish in time. "
                         "Derive dx, dgamma and dbeta with the chain rule")
    return case


def backward_groups(function, rng):
    def case(description, n, d, scale=1.0, offset=0.0, bn_param=None):
        x, gamma, beta = layer(rng, n, d, scale, offset)
        return backward_case(function, description, x, gamma, beta,
                             rng.standard_normal((n, d)), bn_param)

    gradients = (
        case("a random dout, N=6, D=4", 6, 4),
        case("N != D, non-unit gamma, inputs far from the origin", 5, 9, 3.0, 10.0),
        case("eps=1e-2 passed in bn_param", 4, 3, bn_param={"eps": 1e-2}),
    )
    gradients += (large_case(function, rng),)
    small = (
        case("N=2, a batch of two rows (eps=0.1, so dx is not vanishingly small)", 2, 3,
             bn_param={"eps": 0.1}),
        case("a single feature, D=1", 6, 1, 2.0),
        case("a wide batch: N=3, D=12", 3, 12, 0.5, -4.0),
    )
    return gradients, small


def visible(rng):
    x, gamma, beta = layer(rng, 4, 3, scale=2.0, offset=1.0)
    dout = rng.standard_normal((4, 3))
    training = train_calls(rng, 2, 4, 3, scale=2.0, offset=1.0)
    return {
        "batchnorm_forward": (
            forward_case("visible: train mode, N=4, D=3", gamma, beta, [{"mode": "train", "x": x}]),
            forward_case("visible: two training calls, then test mode", gamma, beta,
                         training + [{"mode": "test", "x": x}]),
        ),
        "batchnorm_backward": (
            backward_case("batchnorm_backward", "visible: gradient check, N=4, D=3",
                          x, gamma, beta, dout),),
        "batchnorm_backward_alt": (
            backward_case("batchnorm_backward_alt", "visible: gradient check, N=4, D=3",
                          x, gamma, beta, dout),),
    }


def build_suite() -> Suite:
    shown = visible(np.random.default_rng(500))
    hidden = np.random.default_rng(9_500)
    specs = [FunctionSpec("batchnorm_forward", (
        Group("visible", 2, shown["batchnorm_forward"], False, "the visible cases from the notebook"),
        Group("train", 4, forward_train(hidden), True,
              "train mode: N=2, N != D, gamma and beta, a tiny feature, eps and momentum passed in"),
        Group("running", 4, forward_running(hidden), True,
              "running statistics over several training calls, and test mode"),
    ), HINTS["batchnorm_forward"])]
    for function in ("batchnorm_backward", "batchnorm_backward_alt"):
        gradients, small = backward_groups(function, hidden)
        specs.append(FunctionSpec(function, (
            Group("visible", 2, shown[function], False, "the visible cases from the notebook"),
            Group("gradients", 4, gradients, True,
                  "gradients against the numerical gradient of the reference forward pass, "
                  "and a large batch in limited time"),
            Group("small", 4, small, True, "small and unusual shapes: N=2, D=1, N < D"),
        ), HINTS[function], depends_on=("batchnorm_forward",)))
    return Suite(assignment="batchnorm", notebook="batchnorm.ipynb",
                 prelude="import numpy as np\n", functions=tuple(specs))


SUITE = build_suite()
