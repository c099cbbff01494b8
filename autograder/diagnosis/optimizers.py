"""Probes and formula families of the optimizer updates.

Probes (update_step and update_trajectory cases, as the suite's): config=None to read the
defaults back; every hyper-parameter passed at a value other than its default, from a fresh
and from a stored state; tiny gradients with the defaults; each hyper-parameter changed alone (does the output move?); a few
steps from a fresh state, so the state carried over and the sequence of t show.

Families: one for the momentum updates (sgd_momentum, nesterov_momentum: which weight the
old velocity keeps, how the gradient enters, which step is taken, what is stored), one for
AdaGrad and RMSProp (the cache's two weights, the square, where epsilon sits, old or new
cache, what is stored), one for Adam (when t is incremented and stored, the bias
corrections, where epsilon sits, beta1 or beta2 for v, what is stored); each with a wrong
default and a hard-coded value per hyper-parameter.
"""
from __future__ import annotations

import numpy as np

from .family import Family, Knob, Settings

DEFAULTS = {
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}
# Values far from the defaults (epsilon large enough that its place shows), and a second
# value for each, to see whether the output moves with it.
PASSED = {
    "learning_rate": (0.05, 0.2), "momentum": (0.6, 0.3), "decay_rate": (0.8, 0.5),
    "epsilon": (1e-3, 3e-2), "beta1": (0.7, 0.5), "beta2": (0.9, 0.6),
}
# Defaults learners write instead of the docstring's, when the config does not show theirs.
COMMON_DEFAULTS = {
    "learning_rate": (1e-1, 1e-2, 1e-3, 1e-4), "momentum": (0.5, 0.9, 0.95, 0.99),
    "decay_rate": (0.9, 0.99, 0.999), "epsilon": (1e-4, 1e-5, 1e-6, 1e-7, 1e-8),
    "beta1": (0.9, 0.99), "beta2": (0.99, 0.999, 0.9),
}
STATE = {"sgd_momentum": ("velocity",), "nesterov_momentum": ("velocity",),
         "adagrad": ("cache",), "rmsprop": ("cache",), "adam": ("m", "v", "t")}


# ---------------------------------------------------------------------------------------
# Probes

def _step(function, description, w, dw, config):
    return {"function": function, "kind": "update_step", "description": description,
            "w": w, "dw": dw, "config": config}


def _stored_state(function, rng, shape):
    if function == "adam":
        return {"m": rng.standard_normal(shape) * 0.1, "v": rng.uniform(0.05, 0.3, shape),
                "t": 4}
    if function in ("adagrad", "rmsprop"):
        return {"cache": rng.uniform(0.2, 2.0, shape)}
    return {"velocity": rng.standard_normal(shape) * 0.1}


def probes(function: str) -> list[dict]:
    rng = np.random.default_rng(31_000 + sorted(DEFAULTS).index(function))
    shape = (2, 3)
    w, dw = rng.standard_normal(shape), rng.standard_normal(shape)
    passed = {h: PASSED[h][0] for h in DEFAULTS[function]}
    stored = {**passed, **_stored_state(function, rng, shape)}
    cases = [
        _step(function, "probe: config=None", w, dw, None),
        _step(function, "probe: every hyper-parameter passed, a fresh state", w, dw, dict(passed)),
        _step(function, "probe: every hyper-parameter passed, a stored state", w, dw, stored),
        # where the default epsilon sits, and whether it is there, shows only here
        _step(function, "probe: tiny gradients (about 1e-9), config=None", w, dw * 1e-9, None),
    ]
    cases += [_step(function, f"probe: {h} changed alone", w, dw, {**stored, h: PASSED[h][1]})
              for h in DEFAULTS[function]]
    a = np.array([[1.0, 0.3], [0.3, 0.5]])
    problem = {"A": a, "b": np.array([0.1, -0.2]), "noise": None}
    cases.append({"function": function, "kind": "update_trajectory",
                  "description": "probe: 4 steps from a fresh state", "problem": problem,
                  "w0": np.array([1.5, -1.0]), "config": dict(passed), "schedule": None,
                  "steps": 4})
    cases.append({"function": function, "kind": "update_trajectory",
                  "description": "probe: 3 steps with config=None", "problem": problem,
                  "w0": np.array([1.5, -1.0]), "config": None, "schedule": None, "steps": 3})
    return cases


def compared_keys(function: str) -> frozenset[str]:
    """The quantities a member must reproduce: next_w and the state (hyper-parameters a
    learner does not write back are no fault of the formula)."""
    return frozenset(("next_w",) + STATE[function])


# ---------------------------------------------------------------------------------------
# Hyper-parameters: defaults and whether config is read

def hyper_knobs(function: str, read_back: dict) -> tuple[Knob, ...]:
    """Per hyper-parameter: its default (the learner's, read back from config=None, else
    the values learners commonly write) and whether config is read at all."""
    knobs = []
    for h, default in DEFAULTS[function].items():
        seen = read_back.get(h)
        values = (seen,) if _number(seen) and seen != default else \
            () if _number(seen) else tuple(v for v in COMMON_DEFAULTS[h] if v != default)
        knobs.append(Knob(f"default {h}", default, {
            v: f"your default {h} is {v:g}; the docstring says {default:g} "
               f"(config.setdefault('{h}', {default:g}))" for v in values}))
        knobs.append(Knob(f"reads {h}", True, {
            False: f"{h} is not read from config: your update uses {{default_{h}:g}} "
                   f"whatever config['{h}'] says (a hard-coded value); read config['{h}']"}))
    return tuple(knobs)


def _number(value) -> bool:
    return isinstance(value, (int, float, np.floating)) and not isinstance(value, bool)


def read_back(traces: list[list[dict] | None]) -> dict:
    """The learner's config after the config=None probe (the first)."""
    first = traces[0] if traces else None
    return dict(first[0]) if first else {}


def _hyper(config: dict, s: Settings, name: str):
    default = s[f"default {name}"]
    config.setdefault(name, default)
    return config[name] if s[f"reads {name}"] else default


# ---------------------------------------------------------------------------------------
# Momentum: sgd_momentum and nesterov_momentum

def momentum_member(s: Settings, name: str):
    def update(w, dw, config=None):
        config = {} if config is None else config
        lr, mu = _hyper(config, s, "learning_rate"), _hyper(config, s, "momentum")
        stored = config.get("velocity") if s["reads state"] else None
        v_prev = np.zeros_like(w) if stored is None else \
            -lr * stored if s["stored"] == "buffer" else stored
        old = {"mu": mu, "1-mu": 1 - mu, "1": 1.0}[s["old weight"]] * v_prev
        gradient = {"-lr": -lr * dw, "+lr": lr * dw, "-(1-mu)lr": -(1 - mu) * lr * dw,
                    "-1": -dw}[s["gradient"]]
        v = old + gradient
        change = {"v": v, "v_prev": v_prev, "nesterov": -mu * v_prev + (1 + mu) * v,
                  "(1+mu)v": (1 + mu) * v, "-mu v_prev + v": -mu * v_prev + v,
                  "+mu v_prev": mu * v_prev + (1 + mu) * v,
                  "mu^2 v_prev - lr dw": mu**2 * v_prev - lr * dw}[s["step"]]
        keep = {"v": v, "buffer": -v / lr, "change": change, "none": None}[s["stored"]]
        if keep is not None:
            config["velocity"] = keep
        return w + change, config
    return {name: update}


STEP_WORDS = {
    "v": "next_w = w + v: the plain momentum step, not the look-ahead one",
    "v_prev": "next_w uses the old velocity (w + v_prev), from before this step's update",
    "nesterov": "the step is Nesterov's look-ahead update (w - mu * v_prev + (1 + mu) * v), "
                "not plain momentum's w + v",
    "(1+mu)v": "next_w = w + (1 + mu) * v: the -momentum * v_prev term is missing",
    "-mu v_prev + v": "next_w = w - mu * v_prev + v: the factor (1 + mu) on the new velocity "
                      "is missing",
    "+mu v_prev": "the sign of the momentum * v_prev term is flipped: next_w = w - momentum * "
                  "v_prev + (1 + momentum) * v",
    "mu^2 v_prev - lr dw": "the factor (1 + mu) on the gradient term is missing: next_w = w + "
                           "mu**2 * v_prev - (1 + mu) * learning_rate * dw",
}


def momentum_family(function: str, read: dict) -> Family:
    nesterov = function == "nesterov_momentum"
    step = "nesterov" if nesterov else "v"
    catalog = ({"v": "plain momentum", "(1+mu)v": "missing -mu*v_prev"} if nesterov else {})
    knobs = (
        Knob("old weight", "mu", {
            "1-mu": "the old velocity is weighted by 1 - momentum, not by momentum",
            "1": "the old velocity is kept whole: momentum does not scale it"},
            {} if nesterov else {"1-mu": "friction reversed"}),
        Knob("gradient", "-lr", {
            "+lr": "the velocity adds the gradient (v = mu * v + learning_rate * dw): the sign "
                   "of the gradient term is flipped",
            "-(1-mu)lr": "the gradient enters as -(1 - momentum) * learning_rate * dw (a moving "
                         "average), not -learning_rate * dw",
            "-1": "the gradient enters the velocity without the learning rate"},
            {} if nesterov else {"+lr": "sign flipped", "-(1-mu)lr": "EMA form"}),
        Knob("step", step, {k: v for k, v in STEP_WORDS.items() if k != step}, catalog),
        Knob("stored", "v", {
            "none": "the new velocity is not stored: config['velocity'] never reaches the "
                    "next step",
            "buffer": "config['velocity'] holds the PyTorch-style buffer (mu * buf + dw, "
                      "without -learning_rate), not the velocity v = -learning_rate * buf",
            "change": "config['velocity'] stores the step taken (next_w - w), not the velocity v"},
            {} if nesterov else {"none": "velocity not saved"}),
        Knob("reads state", True, {
            False: "the stored velocity is ignored: every call starts from rest (zero velocity)"}),
    ) + hyper_knobs(function, read)
    return Family(function, knobs, lambda s: momentum_member(s, function))


# ---------------------------------------------------------------------------------------
# AdaGrad and RMSProp: a cache of squared gradients

def adaptive_member(s: Settings, name: str):
    def update(w, dw, config=None):
        config = {} if config is None else config
        lr, eps = _hyper(config, s, "learning_rate"), _hyper(config, s, "epsilon")
        d = _hyper(config, s, "decay_rate") if "default decay_rate" in s else 0.99
        old = config.get("cache") if s["reads state"] else None
        old = np.zeros_like(w) if old is None else old
        square = {"dw**2": dw**2, "2dw": 2 * dw, "|dw|": np.abs(dw)}[s["square"]]
        weights = {"1": 1.0, "d": d, "1-d": 1 - d, "0.99": 0.99, "0.01": 0.01,
                   "(1-d)lr": (1 - d) * lr, "lr": lr}
        kept, new = s["weights"]
        cache = weights[kept] * old + weights[new] * square
        used = cache if s["cache used"] == "new" else old
        # a cache that can go negative (2 * dw) runs at all only through its magnitude
        root = np.sqrt(np.abs(used))
        step = {"sqrt+eps": lr * dw / (root + eps), "sqrt(+eps)": lr * dw / np.sqrt(used + eps),
                "no sqrt": lr * dw / (used + eps), "no eps": lr * dw / root,
                "eps on w": lr * dw / root - eps}[s["divisor"]]
        if s["stored"]:
            config["cache"] = cache
        return w - step, config
    return {name: update}


WEIGHT_WORDS = {
    ("0.99", "0.01"): "the cache decays by 0.99 (a moving average, as RMSProp does): AdaGrad's "
                      "cache sums every squared gradient and never forgets",
    ("1", "1"): "the cache never decays: it sums every squared gradient (accumulates, as "
                "AdaGrad does) instead of a moving average",
    ("1-d", "d"): "the weights are reversed: the old cache gets 1 - decay_rate, the new squared "
                  "gradient decay_rate",
    ("d", "1"): "the new squared gradient enters with weight 1, not 1 - decay_rate",
    ("d", "d"): "the new squared gradient is weighted by decay_rate, not 1 - decay_rate",
    ("1-d", "1-d"): "the old cache is weighted by 1 - decay_rate, not decay_rate",
    ("d", "(1-d)lr"): "the new squared gradient's weight (1 - decay_rate) is multiplied by the "
                      "learning_rate",
    ("d", "lr"): "the new squared gradient is weighted by the learning_rate, not by "
                 "1 - decay_rate",
}


def adaptive_family(function: str, read: dict) -> Family:
    rms = function == "rmsprop"
    reference = ("d", "1-d") if rms else ("1", "1")
    # for RMSProp, fixed weights 0.99 and 0.01 are a hard-coded decay_rate (a knob of its own)
    weights = [w for w in WEIGHT_WORDS if w != reference and (rms != (w == ("0.99", "0.01")))]
    knobs = (
        Knob("weights", reference, {w: WEIGHT_WORDS[w] for w in weights},
             {("1-d", "d"): "decay reversed"} if rms else {("0.99", "0.01"): "decaying cache"}),
        Knob("square", "dw**2", {
            "2dw": "the gradient is doubled, not squared: the cache adds 2 * dw, not dw**2",
            "|dw|": "the cache adds |dw|, not dw**2"}),
        Knob("divisor", "sqrt+eps", {
            "sqrt(+eps)": "epsilon is inside the square root: sqrt(cache + eps), not "
                          "sqrt(cache) + eps",
            "no sqrt": "no square root: the step divides by the cache itself, not by its "
                       "square root",
            "no eps": "epsilon is missing from the division",
            "eps on w": "epsilon is added to w, outside the division (operator precedence: "
                        "put sqrt(cache) + eps in parentheses)"},
            {"sqrt(+eps)": "epsilon inside the square root", "no sqrt": "no square root"}
            if rms else {}),
        Knob("cache used", "new", {
            "old": "the step divides by the previous cache, from before this step's update "
                   "(it must use the cache that already holds this step's dw**2)"}),
        Knob("stored", True, {
            False: "the new cache is not stored: config['cache'] never reaches the next step"},
            {False: "cache not saved"} if rms else {}),
        Knob("reads state", True, {
            False: "the stored cache is ignored: every call starts from a zero cache"}),
    )
    return Family(function, knobs + hyper_knobs(function, read),
                  lambda s: adaptive_member(s, function))


# ---------------------------------------------------------------------------------------
# Adam

def adam_member(s: Settings, name: str):
    def update(w, dw, config=None):
        config = {} if config is None else config
        lr, eps = _hyper(config, s, "learning_rate"), _hyper(config, s, "epsilon")
        b1, b2 = _hyper(config, s, "beta1"), _hyper(config, s, "beta2")
        fresh = not s["reads state"]
        m = np.zeros_like(w) if fresh else config.get("m", np.zeros_like(w))
        v = np.zeros_like(w) if fresh else config.get("v", np.zeros_like(w))
        # t as read (its default when absent), as used for this step, as stored
        increment, stored = s["t increment"], s["t stored"]
        # a t read as the one to use (never incremented, stored ahead) must start at 1
        start = max(s["t default"], 1) if stored == "ahead" or (
            increment == "never" and s["correction"] != "none") else s["t default"]
        read = config.setdefault("t", start) if stored == "not stored" else config.get("t", start)
        t = read + 1 if increment == "before" and stored != "ahead" else read
        m = b1 * m + (1 - b1) * dw
        b_v = b2 if s["v beta"] == "beta2" else b1
        v = b_v * v + (1 - b_v) * dw**2
        c1, c2 = {"both": (1 - b1**t, 1 - b2**t), "none": (1.0, 1.0),
                  "m only": (1 - b1**t, 1.0), "(1-b)**t": ((1 - b1)**t, (1 - b2)**t),
                  "1-(1-b)**t": (1 - (1 - b1)**t, 1 - (1 - b2)**t)}[s["correction"]]
        mt, vt = m / c1, v / c2
        step = {"outside": lr * mt / (np.sqrt(vt) + eps),
                "inside": lr * mt / np.sqrt(vt + eps),
                "hat": lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps),
                "none": lr * mt / np.sqrt(vt)}[s["eps"]]
        counted = {"before": t, "after": read + 1, "never": read}[increment]
        # not stored: config keeps what it held (the default, if setdefault put it there)
        stored_t = {"counted": counted, "ahead": t + 1}.get(stored, config.get("t"))
        config["m"], config["v"] = (mt, vt) if s["stored moments"] == "corrected" else (m, v)
        if stored_t is None:
            config.pop("t", None)
        else:
            config["t"] = stored_t
        return w - step, config
    return {name: update}


def adam_family(function: str, read: dict) -> Family:
    knobs = (
        Knob("t default", 0, {1: "t starts at 1 (config.setdefault('t', 1)), so the first step "
                                 "uses t = 2; the first step must use t = 1"}),
        Knob("t increment", "before", {
            "after": "t is incremented after it is used: the first step uses t = {t_default}, "
                     "not 1",
            "never": "t is never incremented: every step uses the t it is given (1 from a "
                     "fresh state)"},
            {"after": "t incremented after use"}),
        Knob("t stored", "counted", {
            "not stored": "t is not stored back: config['t'] never reaches the next step, so "
                          "t never counts up",
            "not stored, absent": "t is not stored back: config['t'] never reaches the next "
                                  "step, so t never counts up",
            "ahead": "the stored t is one ahead of the steps taken: t + 1 is stored after a "
                     "step that used t, and read back as the next step's t"}),
        Knob("correction", "both", {
            "none": "no bias correction: m and v are used without dividing by 1 - beta**t",
            "m only": "v is not bias-corrected: only m is divided by 1 - beta1**t",
            "(1-b)**t": "the correction divides by (1 - beta)**t, not 1 - beta**t",
            "1-(1-b)**t": "the bias correction divides by 1 - (1 - beta)**t, not by "
                          "1 - beta**t"},
            {"none": "no bias correction", "(1-b)**t": "(1-beta)**t"}),
        Knob("eps", "outside", {
            "inside": "epsilon is inside the square root: sqrt(vt + eps), not sqrt(vt) + eps",
            "hat": "epsilon is added to the uncorrected sqrt(v) (the paper's epsilon-hat form, "
                   "corrections folded into the step size): add eps to sqrt of the corrected vt",
            "none": "epsilon is missing from the division"},
            {"inside": "epsilon inside the square root"}),
        Knob("v beta", "beta2", {"beta1": "the second moment v is averaged with beta1, not "
                                          "beta2"}),
        Knob("reads state", True, {
            False: "the moments m and v are not carried over: they start from zero at every "
                   "call"}),
        Knob("stored moments", "raw", {
            "corrected": "config keeps the bias-corrected mt and vt instead of m and v"},
            {"corrected": "corrected moments stored"}),
    ) + hyper_knobs(function, read)
    return Family(function, knobs, lambda s: adam_member(s, function))


BUILDERS = {"sgd_momentum": momentum_family, "nesterov_momentum": momentum_family,
            "adagrad": adaptive_family, "rmsprop": adaptive_family, "adam": adam_family}


def family(function: str, traces: list[list[dict] | None]) -> Family:
    return BUILDERS[function](function, read_back(traces))
