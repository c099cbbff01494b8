"""Probes and formula families of the preprocessing functions.

Probes (call cases): training and test sets with different means and scales, far from the
origin; the default eps, eps passed, and eps changed alone; a second shape (N != D, another
k). Families: which statistic centres (axis, median, both sets, none), how the scale is
taken (where epsilon sits, N or N - 1, range), which components (order, rows or columns,
one too many, from uncentred or standardized data), how whitening divides (square root,
epsilon, singular values, rotated back), and what the test set gets (the training
statistics, its own, none).
"""
from __future__ import annotations

import numpy as np

from ..suites.preprocessing import OUTPUTS, SIGN_FREE
from .family import Family, Knob, Settings

DEFAULT_EPS = {"standardize": 1e-8, "whiten": 1e-5}


def _data(rng, n, d):
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    X = (rng.standard_normal((n + 5, d)) * np.geomspace(3.0, 0.3, d)) @ q.T
    X = X * rng.uniform(0.5, 4.0, d) + rng.uniform(-20.0, 20.0, d)
    return X[:n], X[n:] * 1.3 + 2.0


def probes(function: str) -> list[dict]:
    rng = np.random.default_rng(51_000)
    first, second = _data(rng, 12, 4), _data(rng, 7, 3)

    def case(description, data, *extra):
        entry = {"function": function, "kind": "call", "description": f"probe: {description}",
                 "args": [*data, *extra], "outputs": OUTPUTS[function]}
        if function in SIGN_FREE:
            entry["sign_free"] = SIGN_FREE[function]
        return entry

    if function == "pca_project":
        return [case("k=2", first, 2), case("k=1, another set", second, 1),
                case("k=3, another set", second, 3)]
    cases = [case("the default eps", first), case("another set", second)]
    if function in DEFAULT_EPS:
        cases += [case("eps=0.5 passed", first, 0.5), case("eps=2.0 passed", first, 2.0)]
    return cases


def compared_keys(function: str) -> frozenset[str]:
    return frozenset(OUTPUTS[function])


def _centre(X, X_test, how):
    return {"axis0": X.mean(axis=0), "axis1": X.mean(axis=1, keepdims=True),
            "all": X.mean(), "median": np.median(X, axis=0),
            "both sets": np.concatenate([X, X_test]).mean(axis=0),
            "none": np.zeros(X.shape[1])}[how]


def member(s: Settings, function: str):
    def transform(X_train, X_test, extra=None):
        eps = s["default eps"] if extra is None else extra
        mean = _centre(X_train, X_test, s["mean"])
        fitted = fit(X_train, mean, eps, extra)
        test_mean = mean if np.ndim(mean) < 2 else X_test.mean(axis=1, keepdims=True)
        train_out = fitted(X_train - mean)
        if s["test"] == "own":
            test_out = member({**s, "test": "train"}, function)[function](X_test, X_test, extra)[0]
        elif s["test"] == "own mean":
            test_out = fitted(X_test - _centre(X_test, X_test, s["mean"]))
        elif s["test"] == "not centred":
            test_out = fitted(X_test)
        else:
            test_out = fitted(X_test - test_mean)
        return train_out, test_out

    def fit(X, mean, eps, k):
        centred = X - mean
        if function == "zero_center":
            return lambda Z: Z
        if function == "standardize":
            var = centred.var(axis=0, ddof=s["ddof"])
            if s["scale"] == "eps after":
                return lambda Z: Z / np.sqrt(var) + eps
            scale = {"sqrt(var+eps)": np.sqrt(var + eps), "sqrt(var)+eps": np.sqrt(var) + eps,
                     "var+eps": var + eps, "sqrt(var)": np.sqrt(var),
                     "range": X.max(axis=0) - X.min(axis=0)}[s["scale"]]
            return lambda Z: Z / scale
        source = {"centred": centred, "uncentred": X, "standardized": centred / centred.std(axis=0)
                  }[s["covariance of"]]
        values, vectors = np.linalg.eigh(source.T @ source / (X.shape[0] - s["ddof"]))
        order = np.argsort(values)
        order = order if s["order"] == "ascending" else order[::-1]
        # rows: the eigenvectors read as rows of eigh's matrix, not its columns
        values, vectors = values[order], (vectors.T if s["rows"] else vectors)[:, order]
        if function == "pca_project":
            top = vectors[:, :k + s["extra components"]]
            top = top[:, ::-1] if s["top reversed"] else top
            prepare = (lambda Z: Z / centred.std(axis=0)) if s["covariance of"] == \
                "standardized" else (lambda Z: Z)
            return lambda Z: prepare(Z) @ top
        scale = {"sqrt(l+eps)": np.sqrt(values + eps), "l+eps": values + eps,
                 "sqrt(l)+eps": np.sqrt(values) + eps, "sqrt(l)": np.sqrt(values),
                 "singular values": np.sqrt(np.sqrt(values * X.shape[0]) + eps),
                 "times": 1 / np.sqrt(values + eps)}[s["divide"]]
        back = vectors.T if s["zca"] else np.eye(len(values))
        return lambda Z: (Z @ vectors / scale) @ back

    return {function: transform}


def _test_knob(function: str) -> Knob:
    own = {"zero_center": ("own mean", "test with its own mean"),
           "standardize": ("own", "test with its own statistics"),
           "pca_project": ("own mean", "test with its own mean"),
           "whiten": ("own", "test with its own statistics")}[function]
    words = {
        "own": "the test set is transformed with its own statistics, not the training set's",
        "own mean": "the test set is centred on its own mean, not the training mean",
        "not centred": "the test set is not centred: the training mean is not subtracted "
                       "from X_test"}
    if function == "zero_center":  # centring is all it does: "own" is "own mean"
        del words["own"]
    return Knob("test", "train", words, {own[0]: own[1]})


def _mean_knob(function: str) -> Knob:
    words = {
        "axis1": "the mean is taken per row (axis=1), not per feature (axis=0)",
        "all": "one mean over all elements (one number for the whole array), not one per "
               "feature",
        "median": "the median is subtracted, not the mean",
        "both sets": "the mean includes the test data (the mean of train and test together), "
                     "not the training set's alone",
        "none": "the data is not centred (the mean is never subtracted)"}
    catalog = {"zero_center": {"axis1": "mean over the wrong axis", "all": "one global mean"},
               "standardize": {"none": "not centred"},
               "pca_project": {"none": "no centring"}}.get(function, {})
    values = ("axis1", "all", "median", "both sets", "none") if function == "zero_center" \
        else ("none", "both sets")
    return Knob("mean", "axis0", {v: words[v] for v in values}, catalog)


def family(function: str, traces: list[list[dict] | None]) -> Family:
    knobs = [_mean_knob(function), _test_knob(function)]
    reference = {"default eps": DEFAULT_EPS.get(function), "ddof": 0, "scale": "sqrt(var+eps)",
                 "covariance of": "centred", "order": "descending", "rows": False,
                 "extra components": 0, "top reversed": False, "divide": "sqrt(l+eps)",
                 "zca": False}
    if function in DEFAULT_EPS:
        default = DEFAULT_EPS[function]
        knobs.append(Knob("default eps", default, {
            v: f"your default eps is {v:g}; the docstring says {default:g}"
            for v in (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.0) if v != default}))
    if function == "standardize":
        knobs += [
            Knob("ddof", 0, {1: "the standard deviation is unbiased (N - 1, ddof=1); use the "
                                "biased one (np.var, dividing by N)"}),
            Knob("scale", "sqrt(var+eps)", {
                "sqrt(var)+eps": "epsilon is outside the square root: sqrt(var) + eps",
                "var+eps": "divided by the variance: the square root is missing",
                "sqrt(var)": "epsilon is missing: dividing by sqrt(var) without eps",
                "range": "divided by the range (max - min), not the standard deviation",
                "eps after": "epsilon is added after the division (operator precedence: "
                             "put var + eps in parentheses under the root)"},
                {"sqrt(var)+eps": "epsilon outside the square root",
                 "var+eps": "divided by the variance"}),
        ]
    if function in ("pca_project", "whiten"):
        pca = function == "pca_project"
        knobs += [
            Knob("covariance of", "centred", {
                "uncentred": "the components are computed from uncentred data: the "
                             "covariance of the raw X (X.T @ X / N), not of the centred data",
                "standardized": "the data is standardized first (divided by the standard "
                                "deviation), not only centred"}),
            Knob("order", "descending", {
                "ascending": "the components are in eigh's ascending order: the smallest "
                             "first, not the largest"},
                {"ascending": "smallest components" if pca else "smallest first"}),
            Knob("rows", False, {True: "the eigenvectors are taken as rows, not columns (a "
                                       "transpose is missing or extra)"},
                 {True: "rows of U"} if pca else {}),
        ]
        if pca:
            knobs += [
                Knob("extra components", 0, {1: "k + 1 components are kept, one too many"}),
                Knob("top reversed", False, {True: "the right components in reversed order: "
                                                   "the k largest, but in ascending order"}),
            ]
        else:
            knobs += [
                Knob("ddof", 0, {1: "the covariance divides by N - 1 (np.cov's default), "
                                    "not N"}, {1: "covariance over N-1"}),
                Knob("divide", "sqrt(l+eps)", {
                    "l+eps": "divided by the eigenvalue: the square root is missing",
                    "sqrt(l)+eps": "epsilon is outside the square root: sqrt(eigenvalue) + eps",
                    "sqrt(l)": "epsilon is missing: dividing by sqrt(eigenvalue) without eps",
                    "singular values": "the singular values of the data are used as "
                                       "eigenvalues: an eigenvalue is s**2 / N",
                    "times": "each component is multiplied by sqrt(eigenvalue + eps) (its "
                             "standard deviation), not divided by it"},
                    {"l+eps": "divided by the eigenvalue"}),
                Knob("zca", False, {True: "the whitened data is rotated back (ZCA, @ U.T): "
                                          "this exercise keeps PCA whitening's components"}),
            ]
    for knob in knobs:
        reference[knob.name] = knob.reference

    def build(s: Settings):
        return member({**reference, **s}, function)

    return Family(function, tuple(knobs), build)


BUILDERS = {f: family for f in OUTPUTS}
