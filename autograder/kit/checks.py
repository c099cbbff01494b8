"""Checks shared by the learner's self-check, the notebook's test cells and the grader.

This module needs only the standard library and numpy: it is copied into every released
assignment folder, and the grader imports the same file, so a verdict printed in the
notebook is the verdict the grader gives on the same case.

A *case* is plain data: a dict naming the function under test, its ``kind`` (how the
function is driven), the inputs, a description in words and, once filled in from the
reference, the ``expected`` trace. Driving a function produces a *trace*: a list of steps,
each a dict from quantity name (``next_w``, ``velocity``, ``out`` ...) to value. Comparing
two traces gives one :class:`Check` per case, naming the first quantity and step that
differ. The function under test may be a local function or a proxy to a sandboxed one;
the checks cannot tell the difference.
"""
from __future__ import annotations

import copy
import errno
import hashlib
import itertools
import json
import math
import operator
import re
import threading
import time
import traceback
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Container, Mapping

import numpy as np

DEFAULT_TOL = 1e-6
ERROR_FLOOR = 1e-8  # as in CS231n's rel_error: keeps 0 vs 1e-20 from counting as 100%


def rel_error(actual, expected) -> float:
    """max |a - e| / max(1e-8, |a| + |e|), element-wise, as in CS231n's notebooks."""
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - e) / np.maximum(ERROR_FLOOR, np.abs(a) + np.abs(e))))


@dataclass(frozen=True)
class Check:
    """The verdict on one case: passed, or the first quantity and step that went wrong."""

    function: str
    case: str
    passed: bool
    message: str
    hint: str = ""
    quantity: str | None = None
    step: int | None = None
    error: float | None = None
    tol: float | None = None
    diagnosis: tuple[str, ...] = ()  # the known mistakes the outputs match, with their hints
    note: str = ""  # said even when it passed (values right in another shape)


class CallFailed(Exception):
    """The function under test raised, returned something unusable, or could not be run."""


# ---------------------------------------------------------------------------------------
# Driving a function: one runner per case kind, each returning a trace.

def cell_filename(label: str) -> str:
    """The name tracebacks give a cell's code: an answer cell by its grade_id, or a cell the
    learner added by its label ("added code cell 7 ...")."""
    return f"<{label}>" if label.startswith("added ") else f"<answer cell {label}>"


def cut_text(text: str, limit: int) -> str:
    """``text``, or its start and a marker saying how much was cut, ``limit`` characters in
    all (so that a cut text is not cut again)."""
    if len(text) <= limit:
        return text
    keep = max(0, limit - len(f" [... {len(text)} characters cut]"))
    return f"{text[:keep]} [... {len(text) - keep} characters cut]"


def safe_text(value, limit: int) -> str:
    """str(value), cut to ``limit`` characters; a hostile __str__ cannot break a verdict."""
    try:
        text = str(value)
    except BaseException:  # noqa: B036 - whatever __str__ raises, the verdict stands
        text = f"<an object of type {type(value).__name__} that cannot be shown>"
    return text if len(text) <= limit else text[:limit] + " [...]"


def learner_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` through the learner's cells only: their own lines."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(("<answer cell", "<added "))]
    lines = traceback.format_list(frames) + [f"{type(exc).__name__}: {safe_text(exc, 2000)}"]
    return "".join(lines).strip()


def _call(fn: Callable, name: str, *args):
    try:
        with np.errstate(all="ignore"):
            return fn(*args)
    except CallFailed:
        raise
    except (Exception, SystemExit) as exc:  # the learner's own error, reported as the verdict
        # A sandbox call raises an error carrying the learner's exception type as `kind`
        # and their traceback as `detail`; a local call raises the exception itself.
        kind = getattr(exc, "kind", type(exc).__name__)
        text = safe_text(exc, 2000)
        text = text.partition(": ")[2] if hasattr(exc, "kind") else text
        if kind == "NotImplementedError":
            raise CallFailed(f"{name}() raised NotImplementedError: the answer cell is still "
                             f"the stub; replace `raise NotImplementedError()` with your "
                             f"code") from exc
        if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
            raise CallFailed(f"{name}() wrote too much output (File too large): printing or "
                             f"writing files is capped; remove the prints from loops") from exc
        detail = getattr(exc, "detail", None) or learner_traceback(exc)
        raise CallFailed(f"{name}() raised {kind}" + (f": {text}" if text else "")
                         + (f"\n{detail}" if "File " in detail else "")) from exc


def _as_update_result(result, name: str, w: np.ndarray):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise CallFailed(f"{name}() must return a pair (next_w, config), got {_describe(result)}")
    next_w, config = result
    if not isinstance(config, dict):
        raise CallFailed(f"{name}() must return config as a dict, got {_describe(config)}")
    if not isinstance(next_w, np.ndarray) and not np.isscalar(next_w):
        raise CallFailed(f"{name}() must return next_w as an array, got {_describe(next_w)}")
    next_w = np.asarray(next_w)
    if next_w.shape != w.shape:
        raise CallFailed(f"{name}() returned next_w of shape {next_w.shape}; w has shape {w.shape}")
    return next_w, config


def _update_entry(next_w, config) -> dict:
    # The state comes first: a wrong velocity or cache is the cause, a wrong next_w the effect.
    entry = dict(config)
    entry["next_w"] = next_w
    return entry


# Types whose deep copy is the value itself (copy.deepcopy's atomic types used in configs).
_ATOMIC = frozenset({type(None), bool, int, float, complex, str, bytes})


def deepcopy_config(config):
    """copy.deepcopy(config), made quickly for what a config holds: a dict whose values are
    numbers and arrays of numbers. Arrays are copied as ndarray.__deepcopy__ does (same
    memory order); one memo serves every value, so two keys holding one array still hold
    one copy; anything else (object arrays, subclasses, lists) goes through copy.deepcopy
    with that memo. A trajectory copies the config before each of its steps."""
    if type(config) is not dict:
        return copy.deepcopy(config)
    copied: dict = {}
    memo = {id(config): copied}
    for key, value in config.items():
        if type(key) not in _ATOMIC:
            key = copy.deepcopy(key, memo)
        if type(value) in _ATOMIC:
            copied[key] = value
        elif type(value) is np.ndarray and not value.dtype.hasobject:
            if id(value) not in memo:
                memo[id(value)] = value.copy(order="K")
            copied[key] = memo[id(value)]
        else:
            copied[key] = copy.deepcopy(value, memo)
    return copied


def run_update_step(fn: Callable, case: dict, functions: Mapping[str, Callable]) -> list[dict]:
    """One call ``fn(w, dw, config)``; the trace holds next_w and every key of the config."""
    name = case["function"]
    w, dw = np.array(case["w"], dtype=float), np.array(case["dw"], dtype=float)
    config = copy.deepcopy(case.get("config"))
    next_w, config = _as_update_result(_call(fn, name, w, dw, config), name, w)
    return [_update_entry(next_w, config)]


def quadratic_gradient(problem: dict, w: np.ndarray, step: int) -> np.ndarray:
    """Gradient of 0.5 w^T A w + b^T w, plus the step's row of ``noise`` when given."""
    dw = np.asarray(problem["A"]) @ w + np.asarray(problem["b"])
    if problem.get("noise") is not None:
        dw = dw + np.asarray(problem["noise"])[step]
    return dw


def run_update_trajectory(fn: Callable, case: dict,
                          functions: Mapping[str, Callable]) -> list[dict]:
    """A training loop: ``steps`` calls on a quadratic problem, the config carried over.

    Each call gets fresh copies of w, dw and the config the previous call returned, so
    state kept anywhere but the returned config is lost, and in-place updates are safe.
    With a ``schedule`` {"every": k, "factor": f} the loop multiplies
    config["learning_rate"] by f before every k-th step, as a step-decay schedule does.
    """
    name = case["function"]
    problem, schedule = case["problem"], case.get("schedule")
    w = np.array(case["w0"], dtype=float)
    config = copy.deepcopy(case.get("config"))
    trace = []
    for step in range(case["steps"]):
        if schedule and step > 0 and step % schedule["every"] == 0:
            if "learning_rate" not in config:
                raise CallFailed(f"{name}() returned a config without 'learning_rate' at step {step}")
            config["learning_rate"] = config["learning_rate"] * schedule["factor"]
        dw = quadratic_gradient(problem, w, step)
        result = _call(fn, name, w.copy(), dw, deepcopy_config(config))
        w, config = _as_update_result(result, name, w)
        trace.append(_update_entry(w, config))
    return trace


def _as_outputs(result, name: str, outputs: list[str]) -> dict:
    if len(outputs) == 1:
        result = (result,)
    if not isinstance(result, (tuple, list)) or len(result) != len(outputs):
        raise CallFailed(f"{name}() must return ({', '.join(outputs)}), got {_describe(result)}")
    return dict(zip(outputs, result))


def run_call(fn: Callable, case: dict, functions: Mapping[str, Callable]) -> list[dict]:
    """One call ``fn(*args)`` on copies of the inputs; the trace holds the named outputs."""
    name = case["function"]
    result = _call(fn, name, *copy.deepcopy(case["args"]))
    return [_as_outputs(result, name, case["outputs"])]


def run_bn_forward(fn: Callable, case: dict, functions: Mapping[str, Callable]) -> list[dict]:
    """Calls ``out, cache = fn(x, gamma, beta, bn_param)``, one per entry of ``calls``.

    One bn_param dict is carried through the calls, each setting its ``mode``, as a layer
    used for several training batches and then for testing would; the trace holds ``out``
    and the running statistics the function wrote into bn_param.
    """
    name = case["function"]
    bn_param = copy.deepcopy(case["bn_param"])
    trace = []
    for call in case["calls"]:
        bn_param["mode"] = call["mode"]
        result = _call(fn, name, np.array(call["x"]), np.array(case["gamma"]),
                       np.array(case["beta"]), bn_param)
        entry = {"out": _as_outputs(result, name, ["out", "cache"])["out"]}
        entry.update({k: bn_param[k] for k in ("running_mean", "running_var") if k in bn_param})
        trace.append(entry)
    return trace


def run_bn_backward(fn: Callable, case: dict, functions: Mapping[str, Callable]) -> list[dict]:
    """``out, cache = forward(x, gamma, beta, bn_param)`` then ``fn(dout, cache)``.

    The forward pass is the learner's own (``case["forward"]``), so any cache layout works.
    """
    name, forward = case["function"], case["forward"]
    if forward not in functions:
        raise CallFailed(f"{name}() needs {forward}() for its cache, and {forward}() did not "
                         f"run (see its problem)")
    result = _call(functions[forward], forward, np.array(case["x"]), np.array(case["gamma"]),
                   np.array(case["beta"]), copy.deepcopy(case["bn_param"]))
    cache = _as_outputs(result, forward, ["out", "cache"])["cache"]
    result = _call(fn, name, np.array(case["dout"]), cache)
    return [_as_outputs(result, name, ["dx", "dgamma", "dbeta"])]


# Random functions get a generator seeded by the case, and hyperparameter searches return
# configurations (dicts): the runners turn what they return into arrays, and the
# distribution of random outputs is judged in compare_traces (MEASURES), in the grader.

def _seeded_calls(fn: Callable, case: dict, *args) -> list:
    """``fn(rng, *args)`` for the seeds a, a, b of ``case["seeds"] = (a, b)``: the first two
    show whether the same seed gives the same values, the third whether another differs."""
    first, other = case["seeds"]
    return [_call(fn, case["function"], np.random.default_rng(seed), *copy.deepcopy(args))
            for seed in (first, first, other)]


def run_samples(fn: Callable, case: dict, functions: Mapping[str, Callable]) -> list[dict]:
    """``fn(rng, low, high, size)`` under seeds a, a, b; the trace holds each call's samples."""
    name, trace = case["function"], []
    for samples in _seeded_calls(fn, case, case["low"], case["high"], case["size"]):
        if not isinstance(samples, np.ndarray):
            raise CallFailed(f"{name}() must return a numpy array, got {_describe(samples)}")
        trace.append({"samples": samples})
    return trace


# Values np.array(..., dtype=float) converts exactly as float() does.
_PLAIN_NUMBERS = frozenset({float, int, np.float64})


def _plain_config_matrix(configs, keys: list[str]) -> np.ndarray | None:
    """config_matrix's array when ``configs`` is a list or tuple of plain dicts with exactly
    ``keys``, holding floats, ints or np.float64 only; else None, and config_matrix's loop
    decides (and words what is wrong). A search returns tens of thousands of configurations:
    here they pass through map() and one np.array, without a Python step per configuration."""
    if type(configs) not in (list, tuple) or not configs or not keys or \
            set(map(type, configs)) != {dict} or set(map(len, configs)) != {len(keys)}:
        return None
    try:
        rows = list(map(operator.itemgetter(*keys), configs))
    except KeyError:
        return None
    values = rows if len(keys) == 1 else list(itertools.chain.from_iterable(rows))
    if not set(map(type, values)) <= _PLAIN_NUMBERS:
        return None
    try:
        return np.array(values, dtype=float).reshape(len(configs), len(keys))
    except OverflowError:  # an int beyond float's range: the loop raises float()'s error
        return None


def config_matrix(configs, name: str, keys: list[str]) -> np.ndarray:
    """A list of configurations (dicts with the space's keys) as an array (n, len(keys)),
    columns in the order of ``keys``."""
    if not isinstance(configs, (list, tuple)):
        raise CallFailed(f"{name}() must return a list of configurations (dicts), "
                         f"got {_describe(configs)}")
    plain = _plain_config_matrix(configs, keys)
    if plain is not None:
        return plain
    rows = []
    for i, config in enumerate(configs):
        if not isinstance(config, dict) or set(config) != set(keys):
            raise CallFailed(f"{name}(): configuration {i} is {safe_text(config, 200)}; each "
                             f"must be a dict with exactly the keys {sorted(keys)}")
        try:
            rows.append([float(config[key]) for key in keys])
        except (TypeError, ValueError):
            raise CallFailed(f"{name}(): configuration {i} holds a value that is not a "
                             f"number: {safe_text(config, 200)}") from None
    return np.array(rows, dtype=float).reshape(len(rows), len(keys))


def run_random_configs(fn: Callable, case: dict,
                       functions: Mapping[str, Callable]) -> list[dict]:
    """``fn(rng, space, budget)`` under seeds a, a, b; each step holds the configurations as
    an array (budget, dimensions), columns in the space's order."""
    keys = list(case["space"])
    return [{"configs": config_matrix(configs, case["function"], keys)}
            for configs in _seeded_calls(fn, case, case["space"], case["budget"])]


def run_grid_configs(fn: Callable, case: dict, functions: Mapping[str, Callable]) -> list[dict]:
    """``fn(space, budget)``; one step holding the configurations as for random search."""
    configs = _call(fn, case["function"], copy.deepcopy(case["space"]), case["budget"])
    return [{"configs": config_matrix(configs, case["function"], list(case["space"]))}]


def run_narrowing(fn: Callable, case: dict, functions: Mapping[str, Callable]) -> list[dict]:
    """``fn(results, space, top_k)`` must return a space with the same keys; the trace holds
    ``"<key> range"`` (low, high) and ``"<key> scale"`` for each key, in the space's order."""
    name = case["function"]
    space = _call(fn, name, copy.deepcopy(case["results"]), copy.deepcopy(case["space"]),
                  case["top_k"])
    if not isinstance(space, dict) or set(space) != set(case["space"]):
        raise CallFailed(f"{name}() must return a dict with the space's keys "
                         f"{sorted(case['space'])}, got {safe_text(space, 200)}")
    step = {}
    for key in case["space"]:
        entry = space[key]
        try:
            low, high, scale = entry
            step[f"{key} range"] = np.array([float(low), float(high)])
        except (TypeError, ValueError):
            raise CallFailed(f"{name}(): space[{key!r}] must be (low, high, scale) with two "
                             f"numbers, got {safe_text(entry, 200)}") from None
        step[f"{key} scale"] = scale
    return [step]


RUNNERS: dict[str, Callable[[Callable, dict, Mapping[str, Callable]], list[dict]]] = {
    "update_step": run_update_step,
    "update_trajectory": run_update_trajectory,
    "call": run_call,
    "bn_forward": run_bn_forward,
    "bn_backward": run_bn_backward,
    "samples": run_samples,
    "random_configs": run_random_configs,
    "grid_configs": run_grid_configs,
    "narrowing": run_narrowing,
}
# Where a missing quantity should have been, for the message.
CONTAINERS = {"update_step": "the returned config", "update_trajectory": "the returned config",
              "bn_forward": "bn_param"}


def run_case(fn: Callable, case: dict, functions: Mapping[str, Callable] | None = None
             ) -> list[dict]:
    return RUNNERS[case["kind"]](fn, case, functions or {})


def eval_numerical_gradient_array(f: Callable, x: np.ndarray, df: np.ndarray,
                                  h: float = 1e-5) -> np.ndarray:
    """Centred differences: the gradient of sum(f(x) * df) with respect to x, shape of x.

    f takes no argument and reads x, which is changed in place and restored.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        index = it.multi_index
        old = x[index]
        x[index] = old + h
        plus = np.array(f(), copy=True)
        x[index] = old - h
        minus = np.array(f(), copy=True)
        x[index] = old
        grad[index] = np.sum((plus - minus) * df) / (2 * h)
        it.iternext()
    return grad


def numerical_bn_backward(forward: Callable, case: dict) -> list[dict]:
    """The expected trace of a bn_backward case: numerical gradients of ``forward``."""
    x, gamma, beta = (np.array(case[k], dtype=float) for k in ("x", "gamma", "beta"))
    dout = np.array(case["dout"], dtype=float)

    def out():
        return forward(x, gamma, beta, copy.deepcopy(case["bn_param"]))[0]

    return [{"dx": eval_numerical_gradient_array(out, x, dout),
             "dgamma": eval_numerical_gradient_array(out, gamma, dout),
             "dbeta": eval_numerical_gradient_array(out, beta, dout)}]


# ---------------------------------------------------------------------------------------
# Judging random outputs. Two right samplers that draw from the generator differently
# return different numbers, so their traces are compared by what is measured on them here,
# in the grader, from the returned samples: named verdicts (True or False, a shape) that a
# right answer earns and each known mistake misses in its own way, so diagnose() can name
# it. Beside each verdict: its false-rejection probability for a right sampler, and its
# power against the mistakes. A verdict that a right sampler can miss by chance is a test
# at level FALSE_REJECTION; a case holds at most 2 per dimension plus one per pair of
# dimensions, so a right answer fails a 3-dimensional case with probability below 1e-8.

FALSE_REJECTION = 1e-9


def ks_distance(u: np.ndarray) -> float:
    """The Kolmogorov-Smirnov distance sup_x |F_n(x) - x| of samples u from the uniform
    distribution on [0, 1], F_n their empirical distribution function; 1.0 when a value
    is not finite."""
    u = np.sort(np.asarray(u, dtype=float).ravel())
    if u.size == 0 or not np.all(np.isfinite(u)):
        return 1.0
    ranks = np.arange(1, u.size + 1)
    return float(max(np.max(ranks / u.size - u), np.max(u - (ranks - 1) / u.size)))


def ks_threshold(n: int, alpha: float = FALSE_REJECTION) -> float:
    """The distance that n samples of the right distribution exceed with probability at
    most ``alpha``. The Dvoretzky-Kiefer-Wolfowitz inequality with Massart's constant holds
    for every n: P(D_n > t) <= 2 exp(-2 n t^2), so t = sqrt(ln(2 / alpha) / (2 n)); for
    alpha = 1e-9, t = 3.272 / sqrt(n): 0.0517 at n = 4000, 0.1035 at n = 1000.

    Power: the same inequality bounds a wrong sampler's empirical distribution to within t
    of its own, so one whose distribution lies at distance Delta > 2 t from the right one
    fails with probability at least 1 - alpha."""
    return math.sqrt(math.log(2 / alpha) / (2 * n))


def dependence_threshold(n: int, alpha: float = FALSE_REJECTION) -> float:
    """The value of |mean((u - 1/2)(v - 1/2))| that n pairs of independent uniform u, v on
    [0, 1] exceed with probability at most ``alpha``: each term lies in [-1/4, 1/4] with
    mean 0, so Hoeffding's inequality gives P(|mean| >= t) <= 2 exp(-8 n t^2), and
    t = sqrt(ln(2 / alpha) / (8 n)): 0.0259 at n = 4000, 0.0517 at n = 1000.

    Power: one draw shared by two dimensions makes u = v, and the terms (u - 1/2)^2 lie in
    [0, 1/4] with mean 1/12 = 0.083; by Hoeffding their mean falls to t or below with
    probability at most exp(-32 n (1/12 - t)^2): 1.3e-14 at n = 1000, 3e-184 at n = 4000."""
    return math.sqrt(math.log(2 / alpha) / (8 * n))


def to_unit(x: np.ndarray, low: float, high: float, scale: str) -> np.ndarray:
    """Where each x lies from low (0) to high (1), measured on its scale ("log": in log x).
    A right sampler's values come out uniform on [0, 1]; the base of the log cancels."""
    with np.errstate(all="ignore"):
        if scale != "log":
            return (np.asarray(x, dtype=float) - low) / (high - low)
        return (np.log(x) - math.log(low)) / (math.log(high) - math.log(low))


def dimension_verdicts(prefix: str, x: np.ndarray, low: float, high: float,
                       scale: str) -> dict[str, bool]:
    """The verdicts on n values x of one dimension, drawn from [low, high] on ``scale``.

    * "in [low, high]" (with a relative slack of 1e-12 for the rounding of exp(log low)):
      a right sampler never fails it; ``10 ** rng.uniform(low, high)``, the bounds taken as
      exponents, always does (its values lie in [10^low, 10^high], about 1).
    * "distinct values", at least n / 2 of them: n doubles drawn from a continuous
      distribution collide in about n^2 2^-53 pairs (2e-9 at n = 4000), far from n / 2;
      a sampled grid (k < n / 2 values) or one draw shared by every configuration always
      fails it.
    * "log(x) uniform (KS test)" for a log scale, "x uniform (KS test)" for a linear one:
      false rejection at most 1e-9 (ks_threshold); uniform sampling of a log range whose
      high / low = r >= 1e3 is at distance Delta >= 1/2 - 1/sqrt(r) >= 0.468 from the right
      distribution (at the geometric midpoint), so it fails with probability 1 - 1e-9.
    * for a log scale also "x uniform (KS test)", which a right answer fails (the same
      Delta, the same probability): a uniform sampler passes it, and is named by it.
    """
    n, t = x.size, ks_threshold(x.size)
    slack = 1e-12 * max(abs(low), abs(high))
    verdicts = {
        f"{prefix}in [low, high]": bool(np.all((x >= low - slack) & (x <= high + slack))),
        f"{prefix}distinct values": bool(np.unique(x).size >= n / 2),
        f"{prefix}{'log(x)' if scale == 'log' else 'x'} uniform (KS test)":
            ks_distance(to_unit(x, low, high, scale)) <= t,
    }
    if scale == "log":
        verdicts[f"{prefix}x uniform (KS test)"] = \
            ks_distance(to_unit(x, low, high, "linear")) <= t
    return verdicts


def seed_verdicts(first: np.ndarray, again: np.ndarray, other: np.ndarray) -> dict[str, bool]:
    """* "same seed, same values": a right function draws only from ``rng``, so it never
      fails; one that draws from np.random's global state or the clock always does.
    * "another seed, other values" (fewer than half the values equal): two seeds' streams
      agree in a value with probability about 2^-52 each; a generator made inside the
      function with a fixed seed always fails."""
    return {"same seed, same values": bool(np.array_equal(first, again, equal_nan=True)),
            "another seed, other values": bool(np.mean(first == other) < 0.5)}


def _three_arrays(trace, key: str) -> list[np.ndarray] | str:
    """The arrays under ``key`` in the three steps of a seeded trace, as floats, or what
    is wrong with the trace."""
    if not isinstance(trace, list) or len(trace) != 3 or \
            not all(isinstance(step, dict) for step in trace):
        return f"{_describe(trace)}, not three calls' outputs"
    arrays = [step.get(key) for step in trace]
    for value in arrays:
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
            return _describe(value)
    return [value.astype(float) for value in arrays]


def measure_samples(case: dict, trace: list[dict]) -> list[dict]:
    """The verdicts on a ``samples`` trace: the shape, dimension_verdicts on the first
    call's samples (the log scale unless the case says "scale"), seed_verdicts."""
    size = case["size"]
    arrays = _three_arrays(trace, "samples")
    if isinstance(arrays, str):
        return [{"shape": arrays}]
    shapes = ", ".join(dict.fromkeys(str(a.shape) for a in arrays))
    if shapes != str(tuple(size) if isinstance(size, (list, tuple)) else (size,)):
        return [{"shape": shapes}]
    return [{"shape": shapes,
             **dimension_verdicts("", arrays[0].ravel(), case["low"], case["high"],
                                  case.get("scale", "log")),
             **seed_verdicts(*arrays)}]


def measure_random_configs(case: dict, trace: list[dict]) -> list[dict]:
    """The verdicts on a ``random_configs`` trace: the number of configurations, "distinct
    configurations" (at least n / 2: one configuration repeated fails), dimension_verdicts
    per dimension, "dimensions independent" (every pair's |mean((u - 1/2)(v - 1/2))| within
    dependence_threshold, u and v the dimensions' to_unit values), seed_verdicts."""
    arrays = _three_arrays(trace, "configs")
    if isinstance(arrays, str):
        return [{"configurations": arrays}]
    shapes = ", ".join(dict.fromkeys(str(a.shape) for a in arrays))
    if shapes != str((case["budget"], len(case["space"]))):
        return [{"configurations": shapes}]
    first = arrays[0]
    verdicts = {"configurations": shapes,
                "distinct configurations": bool(np.unique(first, axis=0).shape[0]
                                                >= len(first) / 2)}
    units = []
    for j, (key, (low, high, scale)) in enumerate(case["space"].items()):
        verdicts.update(dimension_verdicts(f"{key}: ", first[:, j], low, high, scale))
        units.append(to_unit(first[:, j], low, high, scale) - 0.5)
    t = dependence_threshold(len(first))
    verdicts["dimensions independent"] = all(
        bool(abs(np.mean(units[i] * units[j])) <= t)
        for i in range(len(units)) for j in range(i + 1, len(units)))
    return [{**verdicts, **seed_verdicts(*arrays)}]


def sorted_rows(configs: np.ndarray) -> np.ndarray:
    """The rows of ``configs`` (n, d) in lexicographic order, comparing values rounded to
    9 significant digits, so that two ways of computing one grid sort alike."""
    if configs.ndim != 2 or not len(configs):
        return configs
    values = configs.ravel().tolist()
    # one %-format of every value at once: the same digits as f"{v:.9g}", value by value
    rounded = map(float, ("%.9g " * len(values) % tuple(values)).split())
    keys = np.array(list(rounded), dtype=float).reshape(configs.shape)
    return configs[np.lexsort(keys.T[::-1])]


def measure_grid(case: dict, trace: list[dict]) -> list[dict]:
    """A grid in any order: the number of configurations, then the configurations in
    sorted_rows order, compared exactly (to the case's tolerance). A grid over the budget
    is not sorted: its number already fails it, and sorting costs the grader time."""
    configs = trace[0].get("configs") if isinstance(trace, list) and len(trace) == 1 and \
        isinstance(trace[0], dict) else None
    if not isinstance(configs, np.ndarray) or configs.dtype.kind not in "biuf" or \
            configs.ndim != 2:
        return [{"number of configurations": _describe(configs)}]
    if len(configs) > case["budget"]:
        return [{"number of configurations": len(configs)}]
    return [{"number of configurations": len(configs),
             "configurations, in sorted order": sorted_rows(configs.astype(float))}]


MEASURES: dict[str, Callable[[dict, list[dict]], list[dict]]] = {
    "samples": measure_samples,
    "random_configs": measure_random_configs,
    "grid_configs": measure_grid,
}


# ---------------------------------------------------------------------------------------
# Comparing traces.

def _describe(value) -> str:
    described = getattr(value, "described", None)  # a value that could not leave the sandbox
    if isinstance(described, str):
        return described
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a value of type {type(value).__name__}"


def align_signs(got: dict, want: dict, keys: list[str]) -> dict:
    """Flip columns of every output in ``keys`` where the first one points the other way.

    Principal components are defined up to sign, and eigen-solvers pick either; a learner's
    choice is accepted when it is applied consistently to the training and the test data.
    """
    first = got.get(keys[0])
    if not isinstance(first, np.ndarray) or first.ndim != 2 or \
            np.shape(first) != np.shape(want.get(keys[0])):
        return got
    signs = np.where(np.sum(first * want[keys[0]], axis=0) < 0, -1.0, 1.0)
    aligned = dict(got)
    for key in keys:
        value = got.get(key)
        if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[1] == signs.size:
            aligned[key] = value * signs
    return aligned


def _compare_value(got, want, tol: float) -> tuple[str | None, float | None]:
    """(problem, error): problem is None when ``got`` matches ``want``."""
    if isinstance(want, str) or want is None or isinstance(want, bool):
        return (None, None) if got == want else (f"is {got!r}, expected {want!r}", None)
    if isinstance(got, (str, dict, list, tuple)) or got is None or hasattr(got, "described"):
        return f"is {_describe(got)}, expected a number or an array", None
    got_a, want_a = np.asarray(got), np.asarray(want)
    if got_a.dtype.kind not in "biuf":
        return f"has dtype {got_a.dtype}, expected numbers", None
    if got_a.shape != want_a.shape:
        return f"has shape {got_a.shape}, expected {want_a.shape}", None
    got_finite, want_finite = np.isfinite(got_a), np.isfinite(want_a)
    if not np.array_equal(got_finite, want_finite):
        if not got_finite.all():
            return "contains NaN or infinity", None
        return "is finite where NaN or infinity was expected", None
    if isinstance(want, int) and not isinstance(want, bool):
        return (None, 0.0) if got_a == want else (f"is {got!r}, expected {want}", None)
    err = rel_error(got_a[got_finite], want_a[want_finite])
    if err > tol:
        return f"relative error {err:.1e} > tolerance {tol:.0e}", err
    return None, err


def _numeric(value) -> bool:
    return (isinstance(value, np.ndarray) and value.dtype.kind in "iuf") or \
        (isinstance(value, (int, float)) and not isinstance(value, bool))


def _numeric_column(trace: list[dict], key: str) -> np.ndarray | None:
    """The values of ``key`` over the steps as one float array, or None unless they are all
    numbers of one shape. A trace that carries its columns (``trace.columns``: {key: array
    over the steps}, as the sandbox's replies arrive) gives them without a pass per step."""
    column = getattr(trace, "columns", {}).get(key)
    if column is not None:
        return column.astype(float) if column.dtype.kind in "iuf" else None
    values = [step[key] for step in trace]
    # shape of an array or () of a number: np.shape would cost more than the comparison
    if not all(map(_numeric, values)) or len({getattr(v, "shape", ()) for v in values}) != 1:
        return None
    return np.asarray(values, dtype=float)


def _all_close(actual: list[dict], expected: list[dict], tol: float) -> bool:
    """True when every quantity of every step matches: one vectorized pass per quantity.

    False means "not sure": the step-by-step comparison then finds and words the failure.
    """
    for key in expected[0]:
        try:
            got_a, want_a = _numeric_column(actual, key), _numeric_column(expected, key)
        except KeyError:
            return False
        if got_a is None or want_a is None or got_a.shape != want_a.shape:
            return False
        if not (np.all(np.isfinite(got_a)) and np.all(np.isfinite(want_a))):
            return False
        if got_a.size and rel_error(got_a, want_a) > tol:
            return False
    return all(step.keys() == expected[0].keys() for step in expected)


# The verdicts measured on an expected trace, which is the same one (the reference's, a
# mistake's) submission after submission: (id(case), id(trace)) -> (case, trace, verdicts),
# the case and the trace kept so that no other object takes their ids, for the most
# recently used. A sampler's trace takes a sort of every dimension to measure.
_MEASURED: OrderedDict = OrderedDict()
_MEASURED_LOCK = threading.Lock()
KEPT_MEASURES = 128


def _measured_expected(measure: Callable, case: dict, expected: list[dict]) -> list[dict]:
    key = (id(case), id(expected))
    with _MEASURED_LOCK:  # a caller may compare in threads
        held = _MEASURED.get(key)
        if held is not None:
            _MEASURED.move_to_end(key)
            return held[2]
    verdicts = measure(case, expected)
    with _MEASURED_LOCK:
        _MEASURED[key] = (case, expected, verdicts)
        if len(_MEASURED) > KEPT_MEASURES:
            _MEASURED.popitem(last=False)
    return verdicts


def compare_traces(function: str, case: dict, actual: list[dict], expected: list[dict],
                   hints: dict[str, str] | None = None) -> Check:
    tol = case.get("tol", DEFAULT_TOL)
    description = case["description"]
    hints = hints or {}
    container = CONTAINERS.get(case["kind"], "the outputs")
    measure = MEASURES.get(case["kind"])
    if measure is not None:  # random outputs: compared by the verdicts measured on them
        actual, expected = measure(case, actual), _measured_expected(measure, case, expected)
    if not isinstance(actual, list) or len(actual) != len(expected) or \
            not all(isinstance(step, dict) for step in actual):
        return Check(function, description, False, f"{function}: the run produced "
                     f"{_describe(actual)}, not {len(expected)} steps ({description}).")
    if case.get("sign_free"):
        actual = [align_signs(got, want, case["sign_free"]) for got, want in zip(actual, expected)]
    actual, note = without_singletons(actual, expected)
    if _all_close(actual, expected, tol):
        return Check(function, description, True, f"{function}: ok ({description}).", tol=tol,
                     note=note)
    for step, (got, want) in enumerate(zip(actual, expected)):
        for key, want_value in want.items():
            if key not in got:
                problem, err = f"is missing from {container}", None
            else:
                problem, err = _compare_value(got[key], want_value, tol)
            if problem is None:
                continue
            where = f" at step {step + 1} of {len(expected)}" if len(expected) > 1 else ""
            hint = hints.get(key, hints.get("*", ""))
            message = f"{function}: {key} {problem}{where} ({description})."
            return Check(function, description, False, message, hint, key, step + 1, err, tol)
    return Check(function, description, True, f"{function}: ok ({description}).", tol=tol,
                 note=note)


def _singleton_free(shape: tuple) -> tuple:
    return tuple(d for d in shape if d != 1)


def _same_column_shapes(actual: list[dict], expected: list[dict]) -> bool:
    """Every quantity of ``expected`` has a column (``trace.columns``) on both sides, of one
    shape: no step's value then differs from the expected one in shape."""
    got, want = getattr(actual, "columns", None), getattr(expected, "columns", None)
    if not got or not want or not expected:
        return False
    return all(key in got and key in want and got[key].shape == want[key].shape
               for key in expected[0])


def without_singletons(actual: list[dict], expected: list[dict]) -> tuple[list[dict], str]:
    """``actual`` with every array whose shape differs from the expected one only by
    dimensions of size 1 (keepdims=True: (1, D) for (D,)) reshaped to the expected shape,
    and a note naming them: such values keep their marks (the README's grading policy)."""
    if _same_column_shapes(actual, expected):
        return actual, ""
    reshaped, shapes = [], {}
    for got, want in zip(actual, expected):
        step = dict(got)
        for key, value in want.items():
            value_got = got.get(key)
            if isinstance(value_got, np.ndarray) and isinstance(value, np.ndarray) and \
                    value_got.shape != value.shape and \
                    _singleton_free(value_got.shape) == _singleton_free(value.shape):
                step[key] = value_got.reshape(value.shape)
                shapes.setdefault(key, (value_got.shape, value.shape))
        reshaped.append(step)
    if not shapes:
        return actual, ""
    named = ", ".join(f"{key} has shape {got} where {want} is expected"
                      for key, (got, want) in shapes.items())
    return reshaped, (f"{named}: the values are right, so the marks are kept; return the "
                      f"shapes the docstring gives (no keepdims=True)")


def diagnose(check: Check, case: dict, actual: list[dict], mistakes: list[dict] | None) -> Check:
    """A failed check, with the known mistakes whose outputs the learner's outputs match.

    ``mistakes``: {"name", "description", "hint", "trace"} per catalogued mistake, with the
    trace that mistake produces on this case (None where it raises).
    """
    if check.passed or not mistakes:
        return check
    found = tuple(f"your outputs match a known mistake, {m['name']} ({m['description']}). "
                  f"{m['hint']}" for m in mistakes if _same_outputs(check, case, actual, m["trace"]))
    return replace(check, diagnosis=found) if found else check


def _same_outputs(check: Check, case: dict, actual: list[dict], trace: list[dict] | None) -> bool:
    """The learner's trace equals a mistake's: the same quantities, the same values."""
    if trace is None or not isinstance(actual, list) or len(actual) != len(trace):
        return False
    if any(not isinstance(got, dict) or got.keys() != want.keys()
           for got, want in zip(actual, trace)):
        return False
    return compare_traces(check.function, case, actual, trace).passed


# ---------------------------------------------------------------------------------------
# Diagnosis by probes: extra cases whose traces are matched against the reference's and
# against those of formulas with one mistake (the grader's formula families, or their
# traces released as data for the learner's own run).

def kept_quantities(trace: list[dict] | None, keys) -> list[dict] | None:
    if trace is None:
        return None
    return [{k: v for k, v in step.items() if k in keys} for step in trace]


def same_trace(case: dict, got: list[dict] | None, want: list[dict] | None, keys) -> bool:
    """``got`` (the learner's) and ``want`` (a candidate formula's) agree on ``keys``: the
    same keys present at every step, the same values within the case's tolerance; or both
    raised (None)."""
    if got is None or want is None:
        return got is None and want is None
    got, want = kept_quantities(got, keys), kept_quantities(want, keys)
    if len(got) != len(want) or any(g.keys() != w.keys() for g, w in zip(got, want)):
        return False
    return compare_traces(case["function"], case, got, want).passed


def differing_quantities(probes: list[dict], learner: list, expected: list, keys
                         ) -> str | None:
    """Every quantity that differs from the reference's (not only the first): in how many
    probes and by how much; None when none does."""
    seen: dict[str, list[Check]] = {}
    raised = 0
    for probe, got, want in zip(probes, learner, expected):
        if got is None:
            raised += 1
            continue
        if probe.get("sign_free") and len(got) == len(want):
            # components are compared up to a sign, chosen by the first sign-free quantity
            got = [align_signs(g, w, probe["sign_free"]) for g, w in zip(got, want)]
        one_by_one = {**probe, "sign_free": None}
        for key in sorted(set(keys) & set(want[0])):
            check = compare_traces(probe["function"], one_by_one, kept_quantities(got, {key}),
                                   kept_quantities(want, {key}))
            if not check.passed:
                seen.setdefault(key, []).append(check)
    if not seen and not raised:
        return None
    parts = []
    for key, checks in seen.items():
        errors = [c.error for c in checks if c.error is not None]
        size = f", relative error up to {max(errors):.1e}" if errors else \
            f"; e.g. {checks[0].message.split(f'{key} ', 1)[-1].rstrip('.')}"
        parts.append(f"{key} in {len(checks)} of {len(probes)}{size}")
    if raised:
        parts.append(f"the function raised in {raised} of {len(probes)}")
    return "What differs in the diagnostic probes: " + "; ".join(parts) + "."


def run_probes(fn: Callable, probes: list[dict],
               functions: Mapping[str, Callable] | None = None) -> list[list[dict] | None]:
    """The trace of every probe, None where ``fn`` raised on it."""
    traces = []
    for case in probes:
        try:
            traces.append(run_case(fn, case, functions))
        except CallFailed:
            traces.append(None)
    return traces


def probe_diagnosis(fn: Callable, table: dict,
                    functions: Mapping[str, Callable] | None = None) -> list[str]:
    """What the released probes say of ``fn``: the words of the one formula in ``table``
    (the reference first, then every formula with one mistake, as traces on the probes)
    whose traces match the learner's on every probe, then what differs from the
    reference; [] when nothing differs."""
    keys, probes = set(table["keys"]), table["probes"]
    traces = run_probes(fn, probes, functions)
    fitting = [member["words"] for member in table["members"]
               if all(same_trace(case, got, want, keys)
                      for case, got, want in zip(probes, traces, member["traces"]))]
    shown = len(fitting) == 1 and any(trace is not None for trace in traces)
    lines = [f"Diagnosis: {text}" for text in fitting[0]] if shown else []
    differs = differing_quantities(probes, traces, table["members"][0]["traces"], keys)
    return lines + ([differs] if differs else [])


def too_slow(case: dict) -> str:
    """The verdict on a case with a time budget (``seconds``) that ran past it."""
    return (f"{case['function']}() took longer than {case['seconds']:g} s "
            f"({case['description']}): {case.get('why_timed', 'it must be faster')}.")


def check_case(fn: Callable, case: dict, expected: list[dict],
               hints: dict[str, str] | None = None,
               functions: Mapping[str, Callable] | None = None,
               mistakes: list[dict] | None = None) -> Check:
    """Drive ``fn`` through ``case``, compare with the expected trace, diagnose a failure.

    ``functions`` holds the learner's other functions, for cases that need one (a backward
    pass needs its forward pass's cache); ``mistakes`` as for :func:`diagnose`.
    """
    function = case["function"]
    started = time.perf_counter()
    try:
        actual = run_case(fn, case, functions)
    except CallFailed as exc:
        return Check(function, case["description"], False, f"{exc} ({case['description']}).")
    if case.get("seconds") and time.perf_counter() - started > case["seconds"]:
        return Check(function, case["description"], False, too_slow(case))
    return diagnose(compare_traces(function, case, actual, expected, hints), case, actual, mistakes)


# ---------------------------------------------------------------------------------------
# Cases and traces as readable JSON: arrays keep their dtype, shape and exact values
# (Python writes the shortest repr that reads back to the same float).

def to_json(value) -> Any:
    if isinstance(value, np.ndarray):
        return {"__array__": value.ravel().tolist(), "dtype": str(value.dtype),
                "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    return value


def from_json(value) -> Any:
    if isinstance(value, dict):
        if "__array__" in value:
            return np.array(value["__array__"], dtype=value["dtype"]).reshape(value["shape"])
        return {k: from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------
# The learner's side: answer cells of a notebook, and the visible cases shipped beside it.

HERE = Path(__file__).absolute().parent  # not resolve(): the folder it was copied or linked into
VISIBLE_CASES = "visible_cases.json"


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def answer_cells(nb: dict) -> list[tuple[str, str]]:
    """(grade_id, source) of every nbgrader answer cell, in notebook order.

    A duplicated cell appears twice: executed in order, the last definition wins, as when
    the notebook runs top to bottom. Malformed cells are skipped, not fatal.
    """
    cells = []
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata")
        nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
        if isinstance(nbgrader, dict) and nbgrader.get("solution") and nbgrader.get("grade_id"):
            cells.append((str(nbgrader["grade_id"]), cell_source(cell)))
    return cells


# ---------------------------------------------------------------------------------------
# The learner's cells as the grader and the self-check load them: IPython lines made plain
# Python, and the code cells the learner added to the release (helpers the answers call).

# Cell magics whose body is Python that IPython runs; any other (%%bash, %%html, ...) is not.
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
# A line that may be IPython syntax: its first non-blank character is % or !.
_IPYTHON_LINE = re.compile(r"^[ \t]*[%!]", re.MULTILINE)


class _StatementStarts:
    """Whether the next line of Python code begins a statement, as lines are fed in: it does
    unless a bracket, a string or a backslash continuation is still open."""

    def __init__(self) -> None:
        self.depth = 0          # brackets open
        self.quote = ""         # the delimiter of the string open
        self.continued = False  # the last line ended in a backslash

    def at_start(self) -> bool:
        return not (self.depth or self.quote or self.continued)

    def feed(self, line: str) -> None:
        line = line[:-1] if line.endswith("\r") else line
        i, self.continued, escaped_end = 0, False, False
        while i < len(line):
            char = line[i]
            if self.quote:
                if char == "\\":
                    escaped_end = i == len(line) - 1
                    i += 2
                    continue
                if line.startswith(self.quote, i):
                    i, self.quote = i + len(self.quote), ""
                    continue
            elif char == "#":
                break
            elif char in "'\"":
                self.quote = line[i:i + 3] if line[i:i + 3] in ('"""', "'''") else char
                i += len(self.quote)
                continue
            elif char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(0, self.depth - 1)
            elif char == "\\" and i == len(line) - 1:
                self.continued = True
            i += 1
        if len(self.quote) == 1 and not escaped_end:
            self.quote = ""  # a one-line string ends with its line (else a SyntaxError anyway)


def _as_pass(line: str) -> str:
    """``pass`` at the line's indentation, the line itself kept in a comment."""
    code = line.lstrip(" \t")
    indent = line[:len(line) - len(code)]
    return f"{indent}pass  # IPython, not run by the grader: {code.rstrip()}"


def without_ipython(source: str) -> str:
    """The cell's code as plain Python: each statement that is IPython syntax, a line whose
    first non-blank character is ``%`` (a magic) or ``!`` (a shell escape), becomes ``pass``
    at the same indentation; a cell magic whose body is not Python (``%%bash``) becomes
    ``pass`` and comments. Lines inside brackets or strings are left alone (``% b`` there is
    Python's modulo), so valid Python comes back unchanged."""
    if not _IPYTHON_LINE.search(source):
        return source  # the common case, without reading the code character by character
    lines = source.split("\n")
    magic = re.match(r"%%(\w*)", lines[0])
    if magic and magic.group(1) not in _PYTHON_CELL_MAGICS:
        # a comment keeps any indentation valid, whatever language the body is in
        return "\n".join([_as_pass(lines[0])] + ["# " + line for line in lines[1:]])
    statements, python, in_magic = _StatementStarts(), [], False
    for line in lines:
        if in_magic:  # IPython goes on with a magic whose line ends in a backslash
            python.append("# " + line)
        elif statements.at_start() and line.lstrip(" \t")[:1] in ("%", "!"):
            python.append(_as_pass(line))
        else:
            statements.feed(line)
            python.append(line)
            continue
        in_magic = line.rstrip("\r").endswith("\\")
    return "\n".join(python)


def code_digest(source: str) -> str:
    """A short digest of a cell's code, whitespace around it ignored."""
    return hashlib.sha256(source.strip().encode("utf-8", "replace")).hexdigest()[:20]


@dataclass(frozen=True)
class ReleasedCells:
    """The cells the learner was given: every cell id and the digest of every code cell's
    code. The grader reads them from the release; the learner's copy is in visible_cases.json."""
    ids: frozenset[str]
    code: frozenset[str]

    @classmethod
    def of(cls, notebooks: list[dict]) -> "ReleasedCells":
        cells = [c for nb in notebooks for c in nb.get("cells", []) if isinstance(c, dict)]
        return cls(frozenset(c["id"] for c in cells if isinstance(c.get("id"), str)),
                   frozenset(code_digest(cell_source(c)) for c in cells
                             if c.get("cell_type") == "code"))

    @classmethod
    def from_json(cls, data: dict) -> "ReleasedCells":
        return cls(frozenset(data.get("ids", ())), frozenset(data.get("code", ())))

    def to_json(self) -> dict:
        return {"ids": sorted(self.ids), "code": sorted(self.code)}

    @property
    def digest(self) -> str:
        """Changes when the release's cells do."""
        return hashlib.sha256(json.dumps(self.to_json()).encode()).hexdigest()

    def has(self, cell: dict) -> bool:
        """Whether the learner was given this cell: by its id, else by its code."""
        cell_id = cell.get("id")
        if isinstance(cell_id, str) and cell_id in self.ids:
            return True
        return code_digest(cell_source(cell)) in self.code


def _nbgrader(cell: dict) -> dict:
    meta = cell.get("metadata")
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbgrader if isinstance(nbgrader, dict) else {}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _added_label(number: int, after: int, answer: str | None) -> str:
    """Where a learner finds the cell: its place among all cells, and among the code cells
    below the nearest answer cell above it."""
    where = f"after answer cell '{answer[:40]}'" if answer else "from the top"  # a learner's id
    return f"added code cell {number} (the {_ordinal(after)} code cell {where})"


def added_cells(cells: list, release: ReleasedCells,
                taken: Container[int] = ()) -> list[tuple[str, str]]:
    """(label, source) of every code cell the learner added, in notebook order: a code cell
    that is no nbgrader answer or test cell and that the release does not have. Empty cells
    are left out, and so are cells already graded as answers (``taken``: their ``id()``)."""
    added, answer, after = [], None, 0
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        nbgrader = _nbgrader(cell)
        if nbgrader.get("solution") and nbgrader.get("grade_id"):
            answer, after = str(nbgrader["grade_id"]), 0
            continue
        after += 1
        source = cell_source(cell)
        if (nbgrader.get("solution") or nbgrader.get("grade") or not source.strip()
                or id(cell) in taken or release.has(cell)):
            continue
        added.append((_added_label(number, after, answer), without_ipython(source)))
    return added


def load_visible(folder: Path = HERE) -> dict:
    with open(Path(folder) / VISIBLE_CASES, encoding="utf-8") as f:
        return from_json(json.load(f))


def visible_checks(name: str, fn: Callable, folder: Path = HERE,
                   functions: Mapping[str, Callable] | None = None) -> list[Check]:
    spec = load_visible(folder)["functions"][name]
    return [check_case(fn, case, case["expected"], spec["hints"], functions, case.get("mistakes"))
            for case in spec["cases"]]


def distinct_failures(checks: list[Check]) -> list[str]:
    """Failure messages; those that differ only in the case they name are shown once."""
    groups: dict[str, list[str]] = {}
    for check in checks:
        if check.passed:
            continue
        suffix = f" ({check.case})."
        key = check.message[:-len(suffix)] if check.message.endswith(suffix) else check.message
        groups.setdefault(key, []).append(check.message)
    return [messages[0] if len(messages) == 1 else f"{key} (in {len(messages)} cases)."
            for key, messages in groups.items()]


def distinct_hints(checks: list[Check]) -> list[str]:
    """Each diagnosis once, the generic hints where none explains a failure, then each note.

    A known mistake is named only when its outputs match on every failed case whose outputs
    were compared: one that matched a single case, and not the others, is no explanation.
    """
    failed = [c for c in checks if not c.passed]
    compared = [c for c in failed if c.quantity is not None]
    explaining = [d for d in (compared[0].diagnosis if compared else ())
                  if all(d in c.diagnosis for c in compared)]
    diagnoses = [f"Diagnosis: {d}" for d in explaining]
    hints = [f"Hint: {c.hint}" for c in failed if c.hint and not explaining]
    notes = [f"Note: {c.note}" for c in checks if c.note]
    return list(dict.fromkeys(diagnoses + hints + notes))


def explain(checks: list[Check], probed: list[str] = ()) -> str:
    """The failures' messages, then what the probes found (probe_diagnosis: a diagnosis
    there replaces the per-case hints and known mistakes), then each distinct diagnosis,
    hint or note once."""
    if any(line.startswith("Diagnosis") for line in probed):
        checks = [replace(c, diagnosis=(), hint="") for c in checks]
    return "\n".join(distinct_failures(checks) + list(probed) + distinct_hints(checks))


def visible_probes(name: str, fn: Callable, folder: Path = HERE,
                   functions: Mapping[str, Callable] | None = None) -> list[str]:
    """The released probes' diagnosis of ``fn`` (probe_diagnosis); [] without a table."""
    table = load_visible(folder)["functions"][name].get("diagnosis")
    return probe_diagnosis(fn, table, functions) if table else []


def check_visible(name: str, fn: Callable, **functions: Callable) -> None:
    """Run the visible cases for ``name``; print a summary or raise AssertionError.

    Name any other function a case needs, e.g. ``batchnorm_forward=batchnorm_forward``.
    """
    checks = visible_checks(name, fn, HERE, functions)
    if not all(c.passed for c in checks):
        raise AssertionError(explain(checks, visible_probes(name, fn, HERE, functions)))
    print(f"{name}: all {len(checks)} visible checks passed.")


def check_implemented(name: str, fn: Callable, **functions: Callable) -> None:
    """Fail only while ``name`` is still the stub (it raises NotImplementedError).

    Hidden test cells start with this line, so that in the released notebook, where their
    hidden part is removed, they still fail until the function is written.
    """
    case = load_visible(HERE)["functions"][name]["cases"][0]
    try:
        run_case(fn, case, functions)
    except CallFailed as exc:
        if "NotImplementedError" in str(exc):
            raise AssertionError(str(exc)) from None
