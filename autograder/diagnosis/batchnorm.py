"""Probes and formula families of batch normalization.

Forward probes (bn_forward cases): two training calls then a test call, with bn_param empty
(the defaults), with eps and momentum passed, with each changed alone, and test mode alone
on stored running statistics; each batch has a feature of tiny variance, where the place
of epsilon shows. Backward probes (bn_backward cases, the learner's own forward for the
cache): eps small and large, N != D, a tiny-variance feature.

Families: the forward's statistics (axis, N or N - 1), epsilon (inside, outside, none, in
test mode alone), the affine step, the running averages (weights, what is stored, whether
and what is written back) and test mode; the staged backward's paths (gamma, the variance
and mean paths, the power and factor of dvar, N, sums, epsilon, the cache read in another
order); the closed-form backward's terms.
"""
from __future__ import annotations

import numpy as np

from .family import Family, Knob, Settings

EPS, MOMENTUM = 1e-5, 0.9


# ---------------------------------------------------------------------------------------
# Probes

def _batch(rng, n, d, offset):
    x = rng.standard_normal((n, d)) * 2.0 + offset
    x[:, 1] = x[:, 1] * 1e-3  # a tiny-variance feature: where epsilon sits matters
    return x


def forward_probes() -> list[dict]:
    rng = np.random.default_rng(41_000)
    d = 3
    gamma, beta = rng.uniform(0.5, 2.0, d), rng.standard_normal(d)
    calls = [{"mode": "train", "x": _batch(rng, 5, d, 1.0)},
             {"mode": "train", "x": _batch(rng, 5, d, 2.0)},
             {"mode": "test", "x": _batch(rng, 4, d, 3.0)}]
    stored = {"running_mean": rng.standard_normal(d),
              "running_var": np.array([1.5, 2e-6, 0.7])}

    def case(description, bn_param, calls=calls):
        return {"function": "batchnorm_forward", "kind": "bn_forward",
                "description": f"probe: {description}", "gamma": gamma, "beta": beta,
                "bn_param": bn_param, "calls": calls}

    return [
        case("defaults: two training calls, then test", {}),
        case("eps=1e-2 and momentum=0.6 passed", {"eps": 1e-2, "momentum": 0.6}),
        case("eps changed alone", {"eps": 1e-1, "momentum": 0.6}),
        case("momentum changed alone", {"eps": 1e-2, "momentum": 0.3}),
        case("test mode alone on stored running statistics", {"eps": 1e-3, **stored},
             calls[2:]),
    ]


def backward_probes(function: str) -> list[dict]:
    rng = np.random.default_rng(42_000)

    def case(description, n, d, bn_param):
        x = _batch(rng, n, d, 1.5)
        return {"function": function, "kind": "bn_backward", "description": f"probe: {description}",
                "forward": "batchnorm_forward", "x": x, "gamma": rng.uniform(0.5, 2.0, d),
                "beta": rng.standard_normal(d), "dout": rng.standard_normal((n, d)),
                "bn_param": {"mode": "train", **bn_param}}

    return [case("N=5, D=3, default eps", 5, 3, {}),
            case("N=4, D=6, eps=0.5", 4, 6, {"eps": 0.5}),
            case("N=6, D=2, eps=1e-2", 6, 2, {"eps": 1e-2})]


def probes(function: str) -> list[dict]:
    return forward_probes() if function == "batchnorm_forward" else backward_probes(function)


def compared_keys(function: str) -> frozenset[str]:
    if function == "batchnorm_forward":
        return frozenset(("out", "running_mean", "running_var"))
    return frozenset(("dx", "dgamma", "dbeta"))


# ---------------------------------------------------------------------------------------
# Forward

def _root(var, eps, place, sqrt=True):
    if not sqrt:
        return var + eps
    return {"inside": np.sqrt(var + eps), "outside": np.sqrt(var) + eps,
            "none": np.sqrt(var)}[place]


TRAIN_EPS = {"inside": "inside", "outside": "outside", "outside in train": "outside",
             "none": "none"}


def forward_member(s: Settings):
    def forward(x, gamma, beta, bn_param):
        mode = bn_param["mode"]
        eps = bn_param.get("eps", s["default eps"]) if s["reads eps"] else s["default eps"]
        mu = bn_param.get("momentum", s["default momentum"]) if s["reads momentum"] \
            else s["default momentum"]
        d = x.shape[1]
        running_mean = bn_param.get("running_mean", np.zeros(d))
        running_var = bn_param.get("running_var", np.zeros(d))
        axis = {"0": 0, "1": 1, "all": None}[s["axis"]]
        keep = axis == 1
        mean = x.mean(axis=axis, keepdims=keep)
        var = x.var(axis=axis, ddof=s["ddof"], keepdims=keep)
        if mode == "train":
            m, v = (mean, var) if s["train statistics"] == "batch" else (running_mean, running_var)
            x_hat = (x - m) / _root(v, eps, TRAIN_EPS[s["eps"]])
            out = {"gamma*x_hat+beta": gamma * x_hat + beta, "gamma*(x_hat+beta)":
                   gamma * (x_hat + beta), "x_hat": x_hat}[s["affine"]]
            stored_var = {"var": var, "var+eps": var + eps, "std": np.sqrt(var + eps),
                          "unbiased": x.var(axis=axis, ddof=1, keepdims=keep)}[s["running var"]]
            a, b = (mu, 1 - mu) if s["running weights"] == "momentum" else (1 - mu, mu)
            new_mean = a * running_mean + b * np.squeeze(mean)
            new_var = a * running_var + b * np.squeeze(stored_var)
            if s["write back"] == "new":
                bn_param["running_mean"], bn_param["running_var"] = new_mean, new_var
            elif s["write back"] == "stale":
                bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
        else:
            m, v = (running_mean, running_var) if s["test statistics"] == "running" else (mean, var)
            place = s["test eps"] if s["test eps"] != "as train" else \
                "inside" if s["eps"] == "outside in train" else s["eps"]
            x_hat = (x - m) / _root(v, eps, place, s["test sqrt"])
            out = gamma * x_hat + beta if s["test affine"] else x_hat
            if s["test updates"]:
                bn_param["running_mean"] = mu * running_mean + (1 - mu) * mean
                bn_param["running_var"] = mu * running_var + (1 - mu) * var
        return out, None
    return {"batchnorm_forward": forward}


def forward_family(read: dict) -> Family:
    knobs = (
        Knob("axis", "0", {
            "1": "the statistics are taken per row (axis=1), not per feature over the batch "
                 "(axis=0)",
            "all": "one mean and one variance for all elements (no axis), not one per "
                   "feature (axis=0)"},
            {"1": "mean over the wrong axis"}),
        Knob("ddof", 0, {1: "the variance is unbiased (divides by N - 1)"},
             {1: "unbiased variance"}),
        Knob("eps", "inside", {
            "outside": "epsilon is outside the square root, in train and test mode: "
                       "sqrt(var) + eps",
            "outside in train": "epsilon is outside the square root in train mode: "
                                "sqrt(var) + eps",
            "none": "epsilon is missing: x_hat divides by sqrt(var) without eps"},
            {"outside in train": "epsilon outside the square root"}),
        Knob("affine", "gamma*x_hat+beta", {
            "gamma*(x_hat+beta)": "beta is added before scaling by gamma (inside the "
                                  "normalized value): out = gamma * (x_hat + beta)",
            "x_hat": "train mode leaves out gamma and beta"}),
        Knob("train statistics", "batch", {
            "running": "train mode normalizes with running_mean and running_var, not the "
                       "batch's own statistics"}),
        Knob("running weights", "momentum", {
            "reversed": "the running averages give the new batch the weight momentum"},
            {"reversed": "running weights reversed"}),
        Knob("running var", "var", {
            "var+eps": "running_var stores var + eps, not the batch variance var",
            "std": "running_var stores the standard deviation sqrt(var + eps), not the variance",
            "unbiased": "running_var stores the unbiased variance (N - 1), while x_hat uses "
                        "the biased one"}),
        Knob("write back", "new", {
            "none": "the running statistics are not written back into bn_param",
            "stale": "the running statistics are written back from a stale local: bn_param "
                     "gets the old value from before this call's update"},
            {"none": "running statistics not written back"}),
        Knob("test statistics", "running", {
            "batch": "test mode normalizes with the test batch's own statistics"},
            {"batch": "batch statistics in test mode"}),
        Knob("test eps", "as train", {
            "outside": "in test mode epsilon is outside the square root: sqrt(running_var) "
                       "+ eps",
            "none": "in test mode epsilon is missing: sqrt(running_var) without eps"}),
        Knob("test sqrt", True, {
            False: "in test mode there is no square root: x_hat divides by running_var + eps"}),
        Knob("test affine", True, {False: "test mode leaves out gamma and beta"},
             {False: "test mode without gamma and beta"}),
        Knob("test updates", False, {
            True: "test mode changes (updates) the running statistics; only training calls "
                  "may move them"}),
        Knob("default eps", EPS, {v: f"your default eps is {v:g}; the docstring says {EPS:g}"
                                  for v in (1e-8, 1e-7, 1e-6, 1e-4, 1e-3)}),
        Knob("reads eps", True, {
            False: "eps is not read from bn_param: your code uses {default_eps:g} whatever "
                   "bn_param['eps'] says (a hard-coded value)"}),
        Knob("default momentum", MOMENTUM, {
            v: f"your default momentum is {v:g}; the docstring says {MOMENTUM:g}"
            for v in (0.99, 0.95, 0.5, 0.1)}),
        Knob("reads momentum", True, {
            False: "momentum is not read from bn_param: your code uses {default_momentum:g} "
                   "whatever bn_param['momentum'] says (a hard-coded value)"}),
    )
    return Family("batchnorm_forward", knobs, forward_member)


# ---------------------------------------------------------------------------------------
# Backward passes: a member's forward caches the inputs, its backward derives the rest

def _cache_forward(x, gamma, beta, bn_param):
    return None, {"x": x, "gamma": gamma, "eps": bn_param.get("eps", EPS)}


def _quantities(cache, s: Settings) -> dict:
    x, gamma, eps = cache["x"], cache["gamma"], cache["eps"]
    mean = x.mean(axis=0)
    centred = x - mean
    var = (centred**2).mean(axis=0)
    std = np.sqrt(var + eps) if s["std eps"] else np.sqrt(var)
    q = {"x": x, "centred": centred, "x_hat": centred / np.sqrt(var + eps), "mean": mean,
         "var": var, "std": std, "gamma": gamma}
    if s["swap"]:
        a, b = s["swap"]
        q[a], q[b] = q[b], q[a]
    return q


def _reduce(values, how):
    return {"sum": values.sum(axis=0), "mean": values.mean(axis=0),
            "rows": values.sum(axis=1)}[how]


def _gamma_beta(dout, q, s):
    dbeta = _reduce(dout, s["reduce"])
    used = {"x_hat": q["x_hat"], "centred": q["centred"],
            "x_hat no eps": q["centred"] / np.sqrt(q["var"])}[s["dgamma"]]
    return _reduce(dout * used, s["reduce"]), dbeta


def staged_member(s: Settings):
    def backward(dout, cache):
        q = _quantities(cache, s)
        n = dout.shape[0] if s["count"] == "N" else dout.shape[1]
        dgamma, dbeta = _gamma_beta(dout, q, s)
        total = np.sum if s["sums"] == "sum" else np.mean
        dx_hat = dout * q["gamma"] if s["gamma"] else dout
        std, centred = q["std"], q["centred"]
        dvar = s["dvar factor"] * total(dx_hat * centred, axis=0) * std**(2 * s["dvar power"])
        dmean = -total(dx_hat, axis=0) / std
        dx = dx_hat / std
        if s["variance path"]:
            dx = dx + dvar * 2 * centred / n
        if s["mean path"]:
            dx = dx + dmean / n
        return dx, dgamma, dbeta
    return {"batchnorm_backward": backward, "batchnorm_forward": _cache_forward}


def alt_member(s: Settings):
    def backward(dout, cache):
        q = _quantities(cache, s)
        n = dout.shape[0] if s["count"] == "N" else dout.shape[1]
        dgamma, dbeta = _gamma_beta(dout, q, s)
        g = q["gamma"] if s["gamma"] else 1.0
        inner = n * dout
        if s["cross terms"] in ("both", "no x_hat term"):
            inner = inner - dbeta
        if s["cross terms"] in ("both", "no dbeta term"):
            inner = inner + s["x_hat sign"] * q["x_hat"] * dgamma
        dx = g / q["std"] / n * inner * (n if s["1/N"] == "missing" else 1)
        return dx, dgamma, dbeta
    return {"batchnorm_backward_alt": backward, "batchnorm_forward": _cache_forward}


SWAPS = {("std", "var"): ("var", "std"), ("x_hat", "centred"): ("centred", "x_hat"),
         ("x_hat", "x"): ("x", "x_hat"), ("centred", "x"): ("x", "centred"),
         ("gamma", "std"): ("std", "gamma"), ("mean", "std"): ("std", "mean")}


def _swap_words(pair):
    a, b = pair
    return (f"the cache is unpacked in another order than your forward packed it: your "
            f"backward uses {b} where {a} belongs (and {a} for {b})")


def shared_knobs(alt: bool) -> tuple[Knob, ...]:
    return (
        Knob("reduce", "sum", {
            "rows": "dgamma and dbeta are summed per row (axis=1), not over the batch (axis=0)",
            "mean": "dgamma and dbeta use the mean instead of the sum over the batch"},
            {"rows": "summing over the wrong axis"} if not alt else {}),
        Knob("dgamma", "x_hat", {
            "centred": "dgamma sums dout * (x - mean), the centred x, not dout * x_hat",
            "x_hat no eps": "dgamma uses x_hat without eps: (x - mean) / sqrt(var), not "
                            "sqrt(var + eps)"}),
        Knob("count", "N", {"D": "divides by D (the number of features) instead of N, the "
                                 "batch size"}),
        Knob("std eps", True, {False: "the standard deviation is taken without eps: "
                                      "sqrt(var), not sqrt(var + eps)"}),
        Knob("swap", None, {pair: _swap_words(pair) for pair in SWAPS}),
    )


def staged_family() -> Family:
    knobs = shared_knobs(False) + (
        Knob("gamma", True, {False: "gamma is missing: dx_hat = dout, not dout * gamma"},
             {False: "missing gamma"}),
        Knob("variance path", True, {False: "dx is missing the variance path (the dvar term)"},
             {False: "missing the variance path"}),
        Knob("mean path", True, {False: "dx is missing the mean path (the dmean / N term)"},
             {False: "missing the mean path"}),
        Knob("dvar power", -1.5, {p: f"dvar uses (var + eps)**{p:g}, not the power -1.5"
                                  for p in (-0.5, -1.0, 1.5, -3.0)}),
        Knob("dvar factor", -0.5, {-1.0: "dvar is missing the factor 0.5 (half) of the "
                                         "derivative of (var + eps)**-0.5",
                                   0.5: "dvar has the wrong sign: the factor is -0.5"}),
        Knob("sums", "sum", {"mean": "dvar and dmean use the mean instead of the sum over "
                                     "the batch"}),
    )
    return Family("batchnorm_backward", knobs, staged_member)


def alt_family() -> Family:
    knobs = shared_knobs(True) + (
        Knob("gamma", True, {False: "dx is missing the factor gamma"}, {False: "missing gamma"}),
        Knob("cross terms", "both", {
            "no x_hat term": "dx is missing the term - x_hat * dgamma",
            "no dbeta term": "dx is missing the term - dbeta",
            "neither": "dx keeps only the first term, N * dout: the cross-sample terms "
                       "(- dbeta and - x_hat * dgamma, every row's influence through the mean "
                       "and variance) are missing"},
            {"no x_hat term": "missing the x_hat term"}),
        Knob("x_hat sign", -1, {1: "the sign of the x_hat * dgamma term is flipped"}),
        Knob("1/N", "present", {"missing": "the division by N (1/N) is missing"},
             {"missing": "missing 1/N"}),
    )
    return Family("batchnorm_backward_alt", knobs, alt_member)


BUILDERS = {"batchnorm_forward": lambda read: forward_family(read),
            "batchnorm_backward": lambda read: staged_family(),
            "batchnorm_backward_alt": lambda read: alt_family()}


def family(function: str, traces: list[list[dict] | None]) -> Family:
    return BUILDERS[function]({})
