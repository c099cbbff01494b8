"""The data preprocessing assignment: zero-centring, standardizing, PCA and whitening.

Every function gets the visible cases (2 points), hidden cases on demanding data (4
points: train and test sets with different means and scales, N != D, features far from the
origin and on very different scales) and hidden edge cases (4 points). Principal
components are compared up to a sign per component, the same for train and test. An output
whose values are right in a shape that differs only by dimensions of size 1 keeps its marks,
with a note (the README's grading section).
"""
from __future__ import annotations

import numpy as np

from ..suite import FunctionSpec, Group, Suite

FUNCTIONS = ("zero_center", "standardize", "pca_project", "whiten")
OUTPUTS = {
    "zero_center": ["X_train_c", "X_test_c"],
    "standardize": ["X_train_s", "X_test_s"],
    "pca_project": ["Z_train", "Z_test"],
    "whiten": ["Z_train", "Z_test"],
}
TRAIN_ONLY = ("Transform the test data with the training statistics: the mean (and scale, "
              "and eigenvectors) come from X_train alone, never from X_test.")
HINTS = {
    "zero_center": {
        "X_train_c": "Subtract the mean of each feature: the mean over the rows of X_train "
                     "(axis 0), one number per feature, shape (D,).",
        "X_test_c": TRAIN_ONLY,
    },
    "standardize": {
        "X_train_s": "Per feature: (X - mean) / sqrt(var + eps) with mean and the biased "
                     "variance (np.var) over the rows of X_train (axis=0), eps inside the root.",
        "X_test_s": TRAIN_ONLY,
    },
    "pca_project": {
        "Z_train": "Centre with the training mean, then project on the eigenvectors of the "
                   "covariance Xc.T @ Xc / N with the k largest eigenvalues, largest first "
                   "(np.linalg.eigh returns them smallest first).",
        "Z_test": TRAIN_ONLY,
    },
    "whiten": {
        "Z_train": "Project the centred data on all eigenvectors of Xc.T @ Xc / N, largest "
                   "eigenvalue first, and divide component i by sqrt(eigenvalue_i + eps): "
                   "the square root, so each component ends with variance close to 1.",
        "Z_test": TRAIN_ONLY,
    },
}
SIGN_FREE = {"pca_project": ["Z_train", "Z_test"], "whiten": ["Z_train", "Z_test"]}


def distinct_spectrum_data(rng, n, d, scales, offset):
    """Data with covariance eigenvalues well apart, so each component is defined up to sign."""
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    spread = np.geomspace(1.0, 0.1, d)
    X = (rng.standard_normal((n, d)) * spread) @ q.T
    return X * scales + offset


def case(function, description, X_train, X_test, *extra):
    entry = {"function": function, "kind": "call", "description": description,
             "args": [X_train, X_test, *extra], "outputs": OUTPUTS[function]}
    if function in SIGN_FREE:
        entry["sign_free"] = SIGN_FREE[function]
    return entry


def extra_args(function, k):
    return (k,) if function == "pca_project" else ()


def hidden_data(function, rng):
    d = 6
    k = 3
    if function in ("zero_center", "standardize"):
        scales = np.geomspace(1e-3, 1e3, d)
        offset = rng.uniform(-500, 500, d)
        X_train = (rng.standard_normal((40, d)) + rng.uniform(-2, 2, d)) * scales + offset
        X_test = (rng.standard_normal((9, d)) * 1.7 + 3.0) * scales + offset
    else:
        scales = np.geomspace(0.5, 20.0, d)
        offset = rng.uniform(100, 1000, d)
        X_train = distinct_spectrum_data(rng, 40, d, scales, offset)
        X_test = distinct_spectrum_data(rng, 9, d, scales * 1.5, offset + 50.0)
    return (
        case(function, "features far from the origin on scales from 1e-3 to 1e3"
             if function in ("zero_center", "standardize") else
             "features far from the origin; a test set with another mean and scale",
             X_train, X_test, *extra_args(function, k)),
        _wide_case(function, rng),
        case(function, "a test set of one row, shifted far from the training data",
             X_train, X_test[:1] + 40.0, *extra_args(function, k)),
    )


def _wide_case(function, rng):
    if function == "whiten":
        # Whitening keeps every component, and with D > N the null space's eigenvectors are
        # not unique: the test data's projection on them would be arbitrary. Use N > D.
        X_train = distinct_spectrum_data(rng, 30, 5, 2.0, 10.0)
        X_test = distinct_spectrum_data(rng, 4, 5, 3.0, 12.0)
        return case(function, "more training rows than features (N=30, D=5)", X_train, X_test)
    X_train = rng.standard_normal((4, 7)) * 3.0 + 10.0
    X_test = rng.standard_normal((5, 7)) + 12.0
    return case(function, "more features than training rows (N=4, D=7)",
                X_train, X_test, *extra_args(function, 2))


def edge_cases(function, rng):
    X_train = distinct_spectrum_data(rng, 25, 4, np.array([1.0, 3.0, 0.3, 8.0]), 60.0)
    X_test = distinct_spectrum_data(rng, 11, 4, np.array([2.0, 1.0, 0.3, 5.0]), -30.0)
    cases = [case(function, "train and test of different sizes and offsets",
                  X_train, X_test, *extra_args(function, 4))]
    if function == "standardize":
        cases.append(case(function, "a constant feature, where eps keeps the division finite",
                          np.column_stack([X_train[:, :3], np.full(25, 7.0)]),
                          np.column_stack([X_test[:, :3], np.full(11, 9.0)]), 1e-8))
        cases.append(case(function, "eps=1e-2 passed in", X_train, X_test, 1e-2))
    if function == "pca_project":
        cases.append(case(function, "k=1: the single largest component", X_train, X_test, 1))
    if function == "whiten":
        cases.append(case(function, "eps=1e-1 passed in", X_train, X_test, 1e-1))
    return tuple(cases)


def visible_cases(function, rng):
    X_train = distinct_spectrum_data(rng, 8, 3, np.array([1.0, 4.0, 0.5]), 5.0)
    X_test = distinct_spectrum_data(rng, 3, 3, np.array([1.0, 4.0, 0.5]), 6.0)
    return (
        case(function, "visible: 8 training rows, 3 features",
             X_train, X_test, *extra_args(function, 2)),
        case(function, "visible: a test set with another mean",
             X_train, X_test + 2.0, *extra_args(function, 3)),
    )


def function_spec(index, function):
    hidden = np.random.default_rng(9_100 + index)
    visible = np.random.default_rng(300 + index)
    return FunctionSpec(function, (
        Group("visible", 2, visible_cases(function, visible), False,
              "the visible cases from the notebook"),
        Group("data", 4, hidden_data(function, hidden), True,
              "demanding data: far from the origin, mixed scales, N != D, shifted test sets"),
        Group("edges", 4, edge_cases(function, hidden), True,
              "edge cases: other sizes, parameters passed in, degenerate features"),
    ), HINTS[function])


SUITE = Suite(
    assignment="preprocessing",
    notebook="preprocessing.ipynb",
    prelude="import numpy as np\n",
    functions=tuple(function_spec(i, f) for i, f in enumerate(FUNCTIONS)),
)
