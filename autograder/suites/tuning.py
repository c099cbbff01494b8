"""The hyperparameter assignment: log-uniform sampling, random and grid search, coarse-to-fine
narrowing, and reading training curves.

Every function gets the visible cases (2 points) and two hidden groups (4 points each).
Random functions run under fixed seeds, so a submission always gets the same grade, and are
judged by the distribution of what they return (kit/checks.py, MEASURES: range, the same
seed giving the same values and another seed others, a Kolmogorov-Smirnov test of each
dimension on its scale, independence across dimensions), each check at a false-rejection
level of 1e-9; ``sampler_case`` and ``random_search_case`` build a case under any pair of
seeds, so the tests can measure the false rejections over many. Grids and narrowed spaces
are compared exactly, grids in any order. Curves are diagnosed on histories recorded from
real training runs of the notebook's network (``RECORDED``: its ``gallery_run`` under
seeds the notebook does not show) and on synthetic edge cases.
"""
from __future__ import annotations

import numpy as np

from ..suite import FunctionSpec, Group, Suite

SPACE = {"learning_rate": (1e-6, 1e-1, "log"), "reg": (1e-5, 1e1, "log"),
         "dropout": (0.0, 0.8, "linear")}
SEEDS = np.random.default_rng(12_000)  # the grader's fixed seeds, drawn once from this one

DRAWN = ("Draw from the rng passed in, log-uniformly: exp(rng.uniform(log(low), log(high), "
         "size)), never np.random's global functions, and no single draw shared by many values.")
HINTS = {
    "sample_log_uniform": {
        "shape": "Return an array of the shape `size` asks for: rng.uniform(a, b, size) does.",
        "in [low, high]": "low and high are the range itself, not exponents: take their logs "
                          "before drawing uniformly between them.",
        "same seed, same values": "Draw every number from the rng argument: the same seed "
                                  "must give the same values.",
        "another seed, other values": "Draw from the rng argument, not from a generator you "
                                      "create inside the function with a fixed seed.",
        "*": DRAWN + " The log of the values must be uniform (a Kolmogorov-Smirnov test on "
                     "thousands of draws, false-rejection probability 1e-9).",
    },
    "random_search_configs": {
        "configurations": "Return a list of budget dicts, one per configuration.",
        "same seed, same values": "Draw every number from the rng argument.",
        "another seed, other values": "Draw from the rng argument, not from a generator made "
                                      "inside the function.",
        "distinct configurations": "Draw a new configuration for every one of the budget "
                                   "runs: do not repeat one.",
        "dimensions independent": "Draw each hyperparameter's values on their own: one "
                                  "uniform number shared by several names ties them together.",
        "*": "Each value: log-uniform on [low, high] for a log scale, uniform for a linear one, "
             "drawn afresh (not picked from a grid of values).",
    },
    "grid_search_configs": {
        "number of configurations": "k = floor(budget ** (1/d)) values per name, found with "
                                    "integers (k ** d <= budget < (k + 1) ** d): never more "
                                    "configurations than the budget.",
        "*": "k values per name from low to high, both included: np.geomspace for a log scale, "
             "np.linspace for a linear one; then every combination.",
    },
    "coarse_to_fine": {
        "*": "Keep the top_k results of highest validation accuracy; per name, take the "
             "smallest and largest of their values in log space for a log scale, widen by 0.1 "
             "of the old range's width (in the same space) and clip to the old range.",
    },
    "diagnose_curves": {
        "label": "Apply the docstring's rules in their order with their thresholds; a NaN or "
                 "infinite loss is the first rule.",
    },
}


# Histories of the notebook's gallery_run(GALLERY[kind], seed), 4 significant digits:
# recorded with the notebook's own network, under seeds its pictures do not use.
RECORDED = {'healthy, seed 11': {'train_loss': [2.788, 1.17, 0.6019, 0.4176, 0.3332, 0.2873, 0.2562,
                                     0.2343, 0.2186, 0.2049, 0.1939, 0.1856, 0.1778, 0.1717,
                                     0.1657, 0.1609, 0.1565, 0.1525, 0.149, 0.1456, 0.1425,
                                     0.1399, 0.1374, 0.1352, 0.1331, 0.131, 0.129, 0.1275,
                                     0.1257, 0.1244, 0.1229, 0.1215, 0.1203, 0.1191, 0.118,
                                     0.1169, 0.1161, 0.1151, 0.1142, 0.1132],
                      'train_acc': [0.495, 0.809, 0.903, 0.931, 0.946, 0.958, 0.967, 0.977,
                                    0.98, 0.983, 0.984, 0.987, 0.989, 0.989, 0.99, 0.992,
                                    0.992, 0.992, 0.993, 0.993, 0.994, 0.994, 0.994, 0.995,
                                    0.995, 0.996, 0.996, 0.996, 0.996, 0.996, 0.997, 0.997,
                                    0.997, 0.997, 0.997, 0.997, 0.997, 0.997, 0.997, 0.997],
                      'val_acc': [0.4875, 0.78, 0.8625, 0.8975, 0.9025, 0.91, 0.9225, 0.9275,
                                  0.93, 0.9275, 0.9325, 0.935, 0.9375, 0.9425, 0.9475, 0.9475,
                                  0.9475, 0.9475, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95,
                                  0.9525, 0.955, 0.955, 0.955, 0.955, 0.9575, 0.9575, 0.9575,
                                  0.9575, 0.9575, 0.9575, 0.96, 0.96, 0.96, 0.96]},
 'learning rate too high, seed 11': {'train_loss': [12.77, 160.9, 981.0, 12950.0, 258200.0,
                                                    4252000.0, 109000000.0, 3040000000.0,
                                                    275300000000.0, 30150000000000.0,
                                                    3782000000000000.0, 1.129e+17, 1.726e+18,
                                                    4.209e+19, 1.259e+21, 7.25e+22, 2.667e+24,
                                                    8.925e+25, 1.546e+27, 1.634e+28, 4.279e+29,
                                                    1.618e+31, 3.572e+32, 1.76e+34, 3.496e+35,
                                                    6.06e+36, 7.199e+37, 8.733e+38, 1.567e+40,
                                                    4.862e+41, 1.426e+43, 2.463e+44, 3.239e+45,
                                                    1.036e+47, 3.786e+48, 9.214e+49, 5.544e+51,
                                                    1.037e+53, 1.494e+54, 4.034e+55],
                                     'train_acc': [0.705, 0.627, 0.767, 0.669, 0.74, 0.597,
                                                   0.738, 0.572, 0.63, 0.569, 0.638, 0.746,
                                                   0.762, 0.641, 0.714, 0.71, 0.786, 0.764,
                                                   0.779, 0.722, 0.603, 0.708, 0.801, 0.685,
                                                   0.777, 0.823, 0.767, 0.727, 0.712, 0.759,
                                                   0.662, 0.82, 0.656, 0.729, 0.786, 0.624,
                                                   0.664, 0.727, 0.769, 0.78],
                                     'val_acc': [0.7025, 0.6225, 0.69, 0.6575, 0.7275, 0.5675,
                                                 0.705, 0.55, 0.615, 0.5475, 0.615, 0.6825,
                                                 0.7275, 0.6, 0.7175, 0.6525, 0.7625, 0.73,
                                                 0.765, 0.6675, 0.5675, 0.6925, 0.7825, 0.6475,
                                                 0.7625, 0.78, 0.7425, 0.69, 0.6875, 0.76,
                                                 0.6275, 0.7825, 0.66, 0.685, 0.74, 0.6125,
                                                 0.6625, 0.7, 0.7425, 0.79]},
 'learning rate too low, seed 11': {'train_loss': [3.559, 3.547, 3.53, 3.511, 3.492, 3.474,
                                                   3.454, 3.435, 3.417, 3.398, 3.379, 3.361,
                                                   3.343, 3.325, 3.307, 3.289, 3.272, 3.255,
                                                   3.237, 3.22, 3.203, 3.187, 3.17, 3.153,
                                                   3.137, 3.121, 3.104, 3.088, 3.072, 3.057,
                                                   3.041, 3.025, 3.01, 2.995, 2.979, 2.964,
                                                   2.95, 2.935, 2.92, 2.905],
                                    'train_acc': [0.091, 0.091, 0.092, 0.093, 0.093, 0.094,
                                                  0.096, 0.096, 0.096, 0.096, 0.094, 0.095,
                                                  0.096, 0.096, 0.096, 0.098, 0.098, 0.098,
                                                  0.098, 0.098, 0.099, 0.101, 0.103, 0.105,
                                                  0.104, 0.106, 0.108, 0.108, 0.109, 0.109,
                                                  0.111, 0.113, 0.115, 0.116, 0.117, 0.117,
                                                  0.118, 0.119, 0.119, 0.119],
                                    'val_acc': [0.0825, 0.0825, 0.0825, 0.085, 0.0875, 0.09,
                                                0.09, 0.09, 0.0925, 0.0975, 0.0975, 0.1, 0.1,
                                                0.1025, 0.1025, 0.1025, 0.1025, 0.1025, 0.1025,
                                                0.1025, 0.1025, 0.105, 0.105, 0.105, 0.1075,
                                                0.1075, 0.1075, 0.1075, 0.1075, 0.11, 0.11,
                                                0.11, 0.11, 0.1075, 0.1075, 0.1075, 0.11, 0.11,
                                                0.11, 0.1125]},
 'overfitting, seed 11': {'train_loss': [3.652, 3.314, 2.743, 2.084, 1.501, 1.083, 0.8108,
                                         0.6218, 0.4783, 0.3675, 0.2841, 0.2219, 0.1763,
                                         0.1426, 0.1175, 0.09816, 0.08311, 0.07136, 0.06153,
                                         0.053, 0.04561, 0.03927, 0.03372, 0.02886, 0.02477,
                                         0.0212, 0.0181, 0.01545, 0.01321, 0.01134, 0.009778,
                                         0.008489, 0.007427, 0.006551, 0.005825, 0.005223,
                                         0.00472, 0.0043, 0.003944, 0.003642],
                          'train_acc': [0.12, 0.12, 0.34, 0.46, 0.68, 0.74, 0.82, 0.86, 0.88,
                                        0.92, 0.96, 0.98, 0.98, 0.98, 0.98, 0.98, 0.98, 1.0,
                                        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                                        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                                        1.0],
                          'val_acc': [0.09, 0.12, 0.19, 0.32, 0.4275, 0.5, 0.5425, 0.5625,
                                      0.595, 0.625, 0.6525, 0.675, 0.695, 0.7125, 0.72, 0.7275,
                                      0.7275, 0.7325, 0.7425, 0.7475, 0.745, 0.7475, 0.75,
                                      0.7575, 0.76, 0.76, 0.7625, 0.7625, 0.7625, 0.765, 0.765,
                                      0.7625, 0.7625, 0.765, 0.765, 0.765, 0.765, 0.765, 0.765,
                                      0.765]},
 'underfitting, seed 11': {'train_loss': [21.32, 9.651, 3.78, 2.405, 2.254, 2.216, 2.153,
                                          2.113, 2.091, 2.079, 2.071, 2.062, 2.053, 2.048,
                                          2.043, 2.038, 2.033, 2.028, 2.024, 2.022, 2.016,
                                          2.015, 2.015, 2.009, 2.006, 2.003, 2.002, 2.001,
                                          1.999, 1.998, 1.996, 1.995, 1.993, 1.991, 1.989,
                                          1.988, 1.988, 1.985, 1.987, 1.985],
                           'train_acc': [0.541, 0.792, 0.791, 0.751, 0.742, 0.734, 0.745,
                                         0.754, 0.745, 0.754, 0.771, 0.769, 0.776, 0.776,
                                         0.791, 0.783, 0.783, 0.788, 0.788, 0.792, 0.792,
                                         0.787, 0.822, 0.788, 0.8, 0.807, 0.802, 0.807, 0.8,
                                         0.801, 0.832, 0.792, 0.798, 0.816, 0.813, 0.794,
                                         0.818, 0.822, 0.762, 0.841],
                           'val_acc': [0.5175, 0.765, 0.78, 0.7275, 0.73, 0.715, 0.735, 0.735,
                                       0.7275, 0.735, 0.7475, 0.7475, 0.745, 0.7425, 0.7625,
                                       0.7675, 0.7625, 0.765, 0.7725, 0.7725, 0.775, 0.7675,
                                       0.8025, 0.7625, 0.775, 0.78, 0.7825, 0.7825, 0.775,
                                       0.7775, 0.82, 0.7675, 0.78, 0.79, 0.79, 0.7575, 0.8,
                                       0.79, 0.74, 0.8025]},
 'bad initialization, seed 11': {'train_loss': [2.303, 2.302, 2.301, 2.3, 2.298, 2.292, 2.272,
                                                2.212, 2.056, 1.757, 1.376, 1.016, 0.761,
                                                0.6041, 0.5055, 0.4329, 0.3725, 0.3288, 0.2903,
                                                0.2565, 0.2272, 0.2007, 0.1792, 0.1595, 0.1443,
                                                0.1311, 0.1206, 0.1117, 0.1041, 0.09784,
                                                0.09209, 0.08694, 0.08219, 0.07822, 0.07436,
                                                0.07049, 0.06757, 0.06459, 0.06161, 0.05887],
                                 'train_acc': [0.109, 0.109, 0.109, 0.11, 0.214, 0.232, 0.429,
                                               0.452, 0.443, 0.547, 0.645, 0.738, 0.769, 0.829,
                                               0.863, 0.895, 0.912, 0.92, 0.929, 0.944, 0.956,
                                               0.958, 0.965, 0.968, 0.97, 0.974, 0.978, 0.98,
                                               0.981, 0.983, 0.985, 0.987, 0.987, 0.989, 0.989,
                                               0.989, 0.99, 0.99, 0.992, 0.992],
                                 'val_acc': [0.1025, 0.1025, 0.1, 0.1, 0.1975, 0.2075, 0.39,
                                             0.4125, 0.4, 0.51, 0.6225, 0.73, 0.7525, 0.8075,
                                             0.85, 0.8725, 0.8825, 0.8925, 0.905, 0.9125, 0.92,
                                             0.925, 0.9275, 0.9375, 0.945, 0.9475, 0.955,
                                             0.9625, 0.96, 0.96, 0.9675, 0.965, 0.965, 0.965,
                                             0.965, 0.9675, 0.965, 0.9625, 0.9675, 0.965]},
 'healthy, seed 21': {'train_loss': [2.245, 0.9092, 0.4675, 0.3466, 0.2883, 0.2554, 0.2334,
                                     0.2159, 0.2031, 0.1926, 0.1843, 0.1759, 0.1693, 0.1636,
                                     0.1585, 0.1537, 0.1496, 0.1459, 0.1426, 0.1394, 0.1368,
                                     0.134, 0.1319, 0.1297, 0.1278, 0.126, 0.1242, 0.1226,
                                     0.1211, 0.1198, 0.1187, 0.1173, 0.1162, 0.1151, 0.1142,
                                     0.1133, 0.1124, 0.1115, 0.1108, 0.11],
                      'train_acc': [0.672, 0.888, 0.919, 0.937, 0.949, 0.961, 0.969, 0.973,
                                    0.975, 0.976, 0.98, 0.983, 0.983, 0.985, 0.987, 0.989,
                                    0.988, 0.99, 0.992, 0.993, 0.993, 0.993, 0.994, 0.996,
                                    0.997, 0.997, 0.998, 0.998, 0.998, 0.998, 0.998, 0.998,
                                    0.998, 0.998, 0.998, 0.998, 0.998, 0.998, 0.998, 0.998],
                      'val_acc': [0.625, 0.8575, 0.9, 0.9075, 0.9125, 0.9225, 0.925, 0.935,
                                  0.935, 0.945, 0.9425, 0.945, 0.945, 0.9475, 0.9575, 0.9575,
                                  0.9575, 0.9575, 0.9625, 0.9675, 0.97, 0.97, 0.97, 0.97, 0.97,
                                  0.97, 0.97, 0.97, 0.9725, 0.9725, 0.9725, 0.97, 0.9725,
                                  0.975, 0.9725, 0.9725, 0.9725, 0.9725, 0.975, 0.9725]},
 'overfitting, seed 21': {'train_loss': [3.042, 2.759, 2.286, 1.741, 1.233, 0.83, 0.547,
                                         0.3648, 0.2507, 0.1777, 0.1306, 0.09923, 0.07741,
                                         0.06163, 0.04982, 0.04077, 0.03372, 0.02803, 0.02334,
                                         0.01945, 0.01622, 0.01356, 0.0114, 0.009643, 0.008226,
                                         0.007086, 0.006169, 0.005427, 0.004827, 0.004338,
                                         0.003936, 0.003604, 0.003328, 0.003096, 0.002898,
                                         0.002729, 0.002582, 0.002454, 0.002342, 0.002244],
                          'train_acc': [0.08, 0.2, 0.48, 0.74, 0.9, 0.96, 0.96, 0.96, 0.98,
                                        0.98, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                                        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                                        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
                          'val_acc': [0.1075, 0.165, 0.2825, 0.4525, 0.5825, 0.6525, 0.685,
                                      0.695, 0.7125, 0.725, 0.7325, 0.735, 0.7425, 0.7475,
                                      0.75, 0.755, 0.7575, 0.755, 0.755, 0.755, 0.7575, 0.755,
                                      0.7575, 0.7575, 0.7625, 0.7625, 0.7625, 0.7625, 0.7625,
                                      0.76, 0.76, 0.76, 0.7625, 0.7625, 0.7625, 0.7625, 0.7625,
                                      0.765, 0.765, 0.7675]},
 'underfitting, seed 21': {'train_loss': [20.61, 9.534, 3.745, 2.384, 2.247, 2.208, 2.15,
                                          2.109, 2.089, 2.077, 2.071, 2.061, 2.054, 2.049,
                                          2.042, 2.04, 2.035, 2.029, 2.026, 2.023, 2.02, 2.017,
                                          2.013, 2.009, 2.008, 2.006, 2.004, 2.002, 1.998,
                                          1.998, 1.997, 1.993, 1.992, 1.992, 1.989, 1.988,
                                          1.986, 1.985, 1.984, 1.987],
                           'train_acc': [0.725, 0.879, 0.856, 0.794, 0.768, 0.766, 0.765,
                                         0.758, 0.773, 0.786, 0.77, 0.785, 0.793, 0.816, 0.794,
                                         0.775, 0.794, 0.813, 0.792, 0.791, 0.801, 0.814,
                                         0.814, 0.797, 0.796, 0.822, 0.799, 0.809, 0.827,
                                         0.808, 0.817, 0.803, 0.815, 0.803, 0.817, 0.803,
                                         0.805, 0.821, 0.811, 0.808],
                           'val_acc': [0.6975, 0.845, 0.8325, 0.7775, 0.745, 0.7425, 0.7525,
                                       0.7325, 0.7475, 0.76, 0.7425, 0.7525, 0.775, 0.795,
                                       0.775, 0.7475, 0.775, 0.79, 0.7675, 0.775, 0.7825,
                                       0.7925, 0.7825, 0.7675, 0.7675, 0.7925, 0.7825, 0.775,
                                       0.7925, 0.785, 0.79, 0.7675, 0.7825, 0.785, 0.7875,
                                       0.775, 0.7825, 0.795, 0.775, 0.7825]}}


def seeds() -> tuple[int, int]:
    return tuple(int(s) for s in SEEDS.integers(0, 2**31, 2))


def sampler_case(description, low, high, size, seed_pair):
    return {"function": "sample_log_uniform", "kind": "samples", "description": description,
            "low": low, "high": high, "size": size, "seeds": seed_pair}


def random_search_case(description, space, budget, seed_pair):
    return {"function": "random_search_configs", "kind": "random_configs",
            "description": description, "space": space, "budget": budget, "seeds": seed_pair}


def grid_case(description, space, budget):
    return {"function": "grid_search_configs", "kind": "grid_configs",
            "description": description, "space": space, "budget": budget}


def narrowing_case(description, results, space, top_k):
    return {"function": "coarse_to_fine", "kind": "narrowing", "description": description,
            "results": results, "space": space, "top_k": top_k}


def curve_case(description, history):
    history = {key: np.array(values, dtype=float) for key, values in history.items()}
    return {"function": "diagnose_curves", "kind": "call", "description": description,
            "args": [history], "outputs": ["label"]}


def scored_results(rng, space, n, best_log_lr):
    """n (config, validation accuracy) pairs in random order: configurations drawn on each
    name's scale, accuracy falling with the distance of log10 learning rate from
    ``best_log_lr``, plus noise (so no two tie)."""
    results = []
    for _ in range(n):
        config = {}
        for name, (low, high, scale) in space.items():
            if scale == "log":
                config[name] = float(np.exp(rng.uniform(np.log(low), np.log(high))))
            else:
                config[name] = float(rng.uniform(low, high))
        distance = np.log10(config["learning_rate"]) - best_log_lr
        results.append((config, float(0.97 - 0.04 * distance ** 2 + rng.normal(0, 0.01))))
    return results


TWO = {"learning_rate": (1e-6, 1e1, "log"), "reg": (1e-6, 1e1, "log")}
FOUR = {**SPACE, "hidden_size": (16.0, 512.0, "log")}


def sampler_groups():
    return (
        Group("visible", 2, (
            sampler_case("visible: 1000 draws from [1e-6, 1e-1]", 1e-6, 1e-1, 1000, (1, 2)),
            sampler_case("visible: size (40, 25) from [1e-3, 10]", 1e-3, 10.0, (40, 25), (3, 4)),
        ), False, "the visible cases from the notebook"),
        Group("distribution", 4, (
            sampler_case("4000 draws from [1e-6, 1e-1]", 1e-6, 1e-1, 4000, seeds()),
            sampler_case("4000 draws from [1e-5, 10]", 1e-5, 10.0, 4000, seeds()),
            sampler_case("4000 draws from [0.5, 5000]", 0.5, 5000.0, 4000, seeds()),
        ), True, "the distribution of thousands of draws under fixed seeds"),
        Group("edges", 4, (
            sampler_case("size (50, 80) from [1e-2, 1e2]", 1e-2, 1e2, (50, 80), seeds()),
            sampler_case("3000 draws from [2e-4, 0.2], three factors of ten", 2e-4, 0.2, 3000,
                         seeds()),
            sampler_case("size (4000,) given as a tuple, from [1e-8, 1e-3]", 1e-8, 1e-3, (4000,),
                         seeds()),
        ), True, "other shapes and ranges"),
    )


def random_search_groups():
    return (
        Group("visible", 2, (
            random_search_case("visible: 1000 configurations of the notebook's space", SPACE,
                               1000, (5, 6)),
        ), False, "the visible cases from the notebook"),
        Group("distribution", 4, (
            random_search_case("4000 configurations of learning rate, reg and dropout", SPACE,
                               4000, seeds()),
            random_search_case("3000 configurations of a log and a linear name",
                               {"learning_rate": (1e-5, 1.0, "log"),
                                "momentum": (0.5, 0.99, "linear")}, 3000, seeds()),
        ), True, "the distribution of thousands of configurations under fixed seeds"),
        Group("edges", 4, (
            random_search_case("2000 configurations of one name",
                               {"weight_scale": (1e-4, 1e-1, "log")}, 2000, seeds()),
            random_search_case("3000 configurations of four names", FOUR, 3000, seeds()),
        ), True, "one dimension, four dimensions"),
    )


def grid_groups():
    two = {"learning_rate": (1e-4, 1.0, "log"), "dropout": (0.0, 0.5, "linear")}
    return (
        Group("visible", 2, (
            grid_case("visible: budget 27 over learning rate, reg and dropout", SPACE, 27),
            grid_case("visible: budget 10 over a log and a linear name", two, 10),
        ), False, "the visible cases from the notebook"),
        Group("budgets", 4, (
            grid_case("budget 30 over three names: 3 values each, 27 runs", SPACE, 30),
            grid_case("budget 64 over three names: 64 ** (1/3) rounds below 4", SPACE, 64),
            grid_case("budget 50 over two names: 7 values each", two, 50),
            grid_case("budget 1000 over three names: 1000 ** (1/3) rounds below 10", SPACE, 1000),
        ), True, "budgets that are not powers, and budgets floating point rounds down"),
        Group("scales", 4, (
            grid_case("one log-scaled name, budget 7", {"reg": (1e-5, 1e1, "log")}, 7),
            grid_case("two linear names, budget 16",
                      {"dropout": (0.0, 0.8, "linear"), "momentum": (0.5, 0.99, "linear")}, 16),
            grid_case("four names of mixed scales, budget 100", FOUR, 100),
        ), True, "log and linear scales, alone and mixed"),
    )


def narrowing_groups():
    rng = np.random.default_rng(12_100)
    near_edge = scored_results(rng, TWO, 25, 0.9)
    return (
        Group("visible", 2, (
            narrowing_case("visible: 12 results over learning rate and reg, top 3",
                           scored_results(rng, TWO, 12, -2.0), TWO, 3),
        ), False, "the visible cases from the notebook"),
        Group("narrowing", 4, (
            narrowing_case("30 unsorted results over three names, top 5",
                           scored_results(rng, SPACE, 30, -3.0), SPACE, 5),
            narrowing_case("40 unsorted results over learning rate and reg, top 8",
                           scored_results(rng, TWO, 40, -1.5), TWO, 8),
        ), True, "unsorted results, log and linear scales"),
        Group("edges", 4, (
            narrowing_case("top_k=1: around the single best result",
                           scored_results(rng, SPACE, 20, -2.5), SPACE, 1),
            narrowing_case("the best results near the top of the range: clipped to it",
                           near_edge, TWO, 4),
            narrowing_case("top_k=len(results): around all of them",
                           scored_results(rng, FOUR, 10, -2.0), FOUR, 10),
        ), True, "top_k of 1 and of all results, a range clipped at its boundary"),
    )


def synthetic(train_loss, train_acc, val_acc):
    return {"train_loss": train_loss, "train_acc": train_acc, "val_acc": val_acc}


NAN = float("nan")
EDGE_HISTORIES = {
    "the loss turns NaN at epoch 7": synthetic(
        [2.3, 1.5, 1.1, 0.9, 1.4, 9.0, NAN, NAN, NAN, NAN, NAN, NAN],
        [0.3, 0.6, 0.7, 0.75, 0.6, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
        [0.3, 0.55, 0.68, 0.72, 0.58, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]),
    "the loss is infinite at the last epoch": synthetic(
        [2.3, 1.2, 0.8, 0.6, 0.5, 0.45, 0.4, float("inf")],
        [0.4, 0.7, 0.8, 0.85, 0.88, 0.9, 0.91, 0.1],
        [0.4, 0.68, 0.77, 0.82, 0.84, 0.85, 0.86, 0.1]),
    "the loss grows tenfold without overflowing": synthetic(
        [2.3, 2.9, 3.8, 5.1, 7.0, 9.4, 13.0, 17.5, 23.9, 31.0],
        [0.2, 0.25, 0.22, 0.3, 0.28, 0.3, 0.26, 0.31, 0.29, 0.3],
        [0.2, 0.24, 0.21, 0.28, 0.27, 0.28, 0.25, 0.3, 0.27, 0.29]),
    "six epochs: training accuracy 1.0, validation stalled at 0.77": synthetic(
        [2.0, 1.0, 0.5, 0.3, 0.2, 0.1],
        [0.5, 0.8, 0.9, 0.97, 0.99, 1.0],
        [0.5, 0.7, 0.75, 0.76, 0.765, 0.77]),
    "a plateau at 0.6 training accuracy": synthetic(
        [2.3, 1.8, 1.6, 1.55, 1.53, 1.52, 1.52, 1.515, 1.515, 1.515, 1.512, 1.512],
        [0.3, 0.5, 0.55, 0.58, 0.59, 0.6, 0.6, 0.6, 0.61, 0.6, 0.61, 0.61],
        [0.3, 0.48, 0.53, 0.56, 0.57, 0.58, 0.58, 0.58, 0.59, 0.58, 0.59, 0.59]),
    "a gap of 0.14 while validation still gains": synthetic(
        [2.3, 1.0, 0.5, 0.3, 0.2, 0.15, 0.1, 0.08, 0.06, 0.05, 0.04, 0.03],
        [0.5, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.99, 1.0, 1.0, 1.0, 1.0],
        [0.45, 0.7, 0.75, 0.77, 0.78, 0.79, 0.8, 0.81, 0.83, 0.84, 0.85, 0.86]),
}


def curve_groups():
    visible = [name for name in RECORDED if name.endswith("seed 21")]
    held_out = [name for name in RECORDED if name.endswith("seed 11")]
    return (
        Group("visible", 2, tuple(curve_case(f"visible: a recorded run ({name})",
                                             RECORDED[name]) for name in visible),
              False, "the visible cases from the notebook"),
        Group("recorded", 4, tuple(curve_case(f"a recorded run of 40 epochs (kind '{name.split(',')[0]}', another seed)",
                                              RECORDED[name]) for name in held_out),
              True, "histories recorded from real training runs, one of each kind"),
        Group("edges", 4, tuple(curve_case(description, history)
                                for description, history in EDGE_HISTORIES.items()),
              True, "NaN and infinite losses, slow explosions, short histories"),
    )


GROUPS = {"sample_log_uniform": sampler_groups, "random_search_configs": random_search_groups,
          "grid_search_configs": grid_groups, "coarse_to_fine": narrowing_groups,
          "diagnose_curves": curve_groups}

SUITE = Suite(
    assignment="tuning",
    notebook="tuning.ipynb",
    prelude="import itertools\nimport numpy as np\n",
    functions=tuple(FunctionSpec(name, groups(), HINTS[name]) for name, groups in GROUPS.items()),
)
