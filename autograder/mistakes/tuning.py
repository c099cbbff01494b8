"""Known wrong variants of the search functions and of the curve diagnosis, and correct forms
that look different."""
from ..mistakes import Variant

MISTAKES = (
    Variant("sample_log_uniform", "uniform instead of log-uniform",
            "values uniform on [low, high], so nearly all fall in the top factor of ten", """
def sample_log_uniform(rng, low, high, size):
    return rng.uniform(low, high, size)
"""),
    Variant("sample_log_uniform", "bounds taken as exponents",
            "10 ** rng.uniform(low, high): the bounds used as exponents", """
def sample_log_uniform(rng, low, high, size):
    return 10 ** rng.uniform(low, high, size)
"""),
    Variant("sample_log_uniform", "one draw for all values",
            "a single random number repeated over the whole array", """
def sample_log_uniform(rng, low, high, size):
    return np.full(size, np.exp(rng.uniform(np.log(low), np.log(high))))
"""),
    Variant("random_search_configs", "uniform instead of log-uniform",
            "log-scaled names drawn uniformly on [low, high]", """
def random_search_configs(rng, space, budget):
    columns = {name: rng.uniform(low, high, budget) for name, (low, high, scale) in space.items()}
    return [{name: float(values[i]) for name, values in columns.items()} for i in range(budget)]
"""),
    Variant("random_search_configs", "bounds taken as exponents",
            "10 ** rng.uniform(low, high) for log-scaled names", """
def random_search_configs(rng, space, budget):
    columns = {}
    for name, (low, high, scale) in space.items():
        drawn = rng.uniform(low, high, budget)
        columns[name] = 10.0 ** drawn if scale == "log" else drawn
    return [{name: float(values[i]) for name, values in columns.items()} for i in range(budget)]
"""),
    Variant("random_search_configs", "one draw shared by all names",
            "one uniform number per configuration, scaled into every name's range", """
def random_search_configs(rng, space, budget):
    u = rng.random(budget)
    columns = {name: low * (high / low) ** u if scale == "log" else low + u * (high - low)
               for name, (low, high, scale) in space.items()}
    return [{name: float(values[i]) for name, values in columns.items()} for i in range(budget)]
"""),
    Variant("random_search_configs", "one draw shared by all configurations",
            "one configuration drawn, then repeated budget times", """
def random_search_configs(rng, space, budget):
    config = {name: float(np.exp(rng.uniform(np.log(low), np.log(high))) if scale == "log"
                          else rng.uniform(low, high))
              for name, (low, high, scale) in space.items()}
    return [dict(config) for _ in range(budget)]
"""),
    Variant("random_search_configs", "samples a grid",
            "each value picked at random from grid search's k values per name", """
def random_search_configs(rng, space, budget):
    k = int(round(budget ** (1.0 / len(space))))
    while k ** len(space) > budget:
        k -= 1
    axes = {name: np.geomspace(low, high, k) if scale == "log" else np.linspace(low, high, k)
            for name, (low, high, scale) in space.items()}
    columns = {name: rng.choice(values, budget) for name, values in axes.items()}
    return [{name: float(values[i]) for name, values in columns.items()} for i in range(budget)]
"""),
    Variant("grid_search_configs", "linear grid for a log scale",
            "np.linspace for every name, log-scaled ones included", """
def grid_search_configs(space, budget):
    d = len(space)
    k = int(round(budget ** (1.0 / d)))
    while k ** d > budget:
        k -= 1
    axes = {name: np.linspace(low, high, k) for name, (low, high, scale) in space.items()}
    return [dict(zip(axes, map(float, values))) for values in itertools.product(*axes.values())]
"""),
    Variant("grid_search_configs", "overshoots the budget",
            "k = ceil(budget ** (1/d)): more configurations than the budget", """
def grid_search_configs(space, budget):
    k = int(np.ceil(budget ** (1.0 / len(space))))
    axes = {name: np.geomspace(low, high, k) if scale == "log" else np.linspace(low, high, k)
            for name, (low, high, scale) in space.items()}
    return [dict(zip(axes, map(float, values))) for values in itertools.product(*axes.values())]
"""),
    Variant("grid_search_configs", "floor in floating point",
            "int(budget ** (1/d)), which rounds 64 ** (1/3) = 3.9999999999999996 down to 3", """
def grid_search_configs(space, budget):
    k = int(budget ** (1.0 / len(space)))
    axes = {name: np.geomspace(low, high, k) if scale == "log" else np.linspace(low, high, k)
            for name, (low, high, scale) in space.items()}
    return [dict(zip(axes, map(float, values))) for values in itertools.product(*axes.values())]
"""),
    Variant("coarse_to_fine", "around the worst results",
            "the top_k results of lowest validation accuracy", """
def coarse_to_fine(results, space, top_k):
    kept = sorted(results, key=lambda result: result[1])[:top_k]
    narrowed = {}
    for name, (low, high, scale) in space.items():
        to_c, from_c = (np.log, np.exp) if scale == "log" else (float, float)
        values = [to_c(config[name]) for config, _ in kept]
        margin = 0.1 * (to_c(high) - to_c(low))
        narrowed[name] = (float(from_c(max(to_c(low), min(values) - margin))),
                          float(from_c(min(to_c(high), max(values) + margin))), scale)
    return narrowed
"""),
    Variant("coarse_to_fine", "around the first results",
            "the first top_k results, whatever their accuracy", """
def coarse_to_fine(results, space, top_k):
    kept = results[:top_k]
    narrowed = {}
    for name, (low, high, scale) in space.items():
        to_c, from_c = (np.log, np.exp) if scale == "log" else (float, float)
        values = [to_c(config[name]) for config, _ in kept]
        margin = 0.1 * (to_c(high) - to_c(low))
        narrowed[name] = (float(from_c(max(to_c(low), min(values) - margin))),
                          float(from_c(min(to_c(high), max(values) + margin))), scale)
    return narrowed
"""),
    Variant("coarse_to_fine", "linear space for a log scale",
            "the margin taken in the values themselves for every name", """
def coarse_to_fine(results, space, top_k):
    best = sorted(results, key=lambda result: -result[1])[:top_k]
    narrowed = {}
    for name, (low, high, scale) in space.items():
        values = [config[name] for config, _ in best]
        margin = 0.1 * (high - low)
        narrowed[name] = (float(max(low, min(values) - margin)),
                          float(min(high, max(values) + margin)), scale)
    return narrowed
"""),
    Variant("coarse_to_fine", "not narrowing", "the space returned unchanged", """
def coarse_to_fine(results, space, top_k):
    return dict(space)
"""),
    Variant("diagnose_curves", "overfitting and underfitting swapped",
            "a train-validation gap called underfitting, a low training accuracy overfitting", """
def diagnose_curves(history):
    loss = np.asarray(history["train_loss"], dtype=float)
    train_acc = np.asarray(history["train_acc"], dtype=float)
    val_acc = np.asarray(history["val_acc"], dtype=float)
    epochs = len(loss)
    start, last = max(2, epochs // 6), max(1, epochs // 3)
    if not np.all(np.isfinite(loss)) or loss.max() > 1.5 * loss[0] or loss[-1] >= loss[0]:
        return "learning rate too high"
    if np.all(np.abs(loss[:start] - loss[0]) <= 0.02 * loss[0]) and loss[-1] < 0.5 * loss[0]:
        return "bad initialization"
    if train_acc[-1] - val_acc[-1] > 0.1 and val_acc[-1] - val_acc[-1 - last] < 0.02:
        return "underfitting"
    if loss[-1] > 0.7 * loss[0] and loss[-1] < 0.99 * loss[-1 - last]:
        return "learning rate too low"
    if train_acc[-1] < 0.9:
        return "overfitting"
    return "healthy"
"""),
    Variant("diagnose_curves", "NaN loss not caught",
            "only an exploding finite loss counts: NaN compares False with everything", """
def diagnose_curves(history):
    loss = np.asarray(history["train_loss"], dtype=float)
    train_acc = np.asarray(history["train_acc"], dtype=float)
    val_acc = np.asarray(history["val_acc"], dtype=float)
    epochs = len(loss)
    start, last = max(2, epochs // 6), max(1, epochs // 3)
    if loss.max() > 1.5 * loss[0] or loss[-1] >= loss[0]:
        return "learning rate too high"
    if np.all(np.abs(loss[:start] - loss[0]) <= 0.02 * loss[0]) and loss[-1] < 0.5 * loss[0]:
        return "bad initialization"
    if train_acc[-1] - val_acc[-1] > 0.1 and val_acc[-1] - val_acc[-1 - last] < 0.02:
        return "overfitting"
    if loss[-1] > 0.7 * loss[0] and loss[-1] < 0.99 * loss[-1 - last]:
        return "learning rate too low"
    if train_acc[-1] < 0.9:
        return "underfitting"
    return "healthy"
"""),
    Variant("diagnose_curves", "exploding loss not caught",
            "only NaN or infinity counts as divergence, not a finite loss that blows up", """
def diagnose_curves(history):
    loss = np.asarray(history["train_loss"], dtype=float)
    train_acc = np.asarray(history["train_acc"], dtype=float)
    val_acc = np.asarray(history["val_acc"], dtype=float)
    epochs = len(loss)
    start, last = max(2, epochs // 6), max(1, epochs // 3)
    if not np.all(np.isfinite(loss)):
        return "learning rate too high"
    if np.all(np.abs(loss[:start] - loss[0]) <= 0.02 * loss[0]) and loss[-1] < 0.5 * loss[0]:
        return "bad initialization"
    if train_acc[-1] - val_acc[-1] > 0.1 and val_acc[-1] - val_acc[-1 - last] < 0.02:
        return "overfitting"
    if loss[-1] > 0.7 * loss[0] and loss[-1] < 0.99 * loss[-1 - last]:
        return "learning rate too low"
    if train_acc[-1] < 0.9:
        return "underfitting"
    return "healthy"
"""),
)

HINTS = {
    ("sample_log_uniform", "uniform instead of log-uniform"):
        "Draw uniformly in log space, then exponentiate: np.exp(rng.uniform(np.log(low), "
        "np.log(high), size)).",
    ("sample_log_uniform", "bounds taken as exponents"):
        "low and high are values, not exponents: take their logs first, "
        "10 ** rng.uniform(np.log10(low), np.log10(high), size).",
    ("sample_log_uniform", "one draw for all values"):
        "Draw size numbers, one per value: pass size to rng.uniform.",
    ("random_search_configs", "uniform instead of log-uniform"):
        "A name with scale \"log\" is drawn log-uniformly: exp(rng.uniform(log(low), log(high))).",
    ("random_search_configs", "bounds taken as exponents"):
        "low and high are values, not exponents: draw between their logs.",
    ("random_search_configs", "one draw shared by all names"):
        "Draw a separate random number for each name: one number shared by all ties the "
        "names together (a large learning rate always with a large reg).",
    ("random_search_configs", "one draw shared by all configurations"):
        "Draw new values for every configuration: budget runs of one configuration try "
        "nothing new.",
    ("random_search_configs", "samples a grid"):
        "Draw each value from the continuous range, not from a grid's few values: trying a "
        "new value of every name in every run is random search's advantage.",
    ("grid_search_configs", "linear grid for a log scale"):
        "For a log scale use np.geomspace(low, high, k): evenly spaced in log, not in value.",
    ("grid_search_configs", "overshoots the budget"):
        "k is the largest integer with k ** d <= budget (floor, not ceil).",
    ("grid_search_configs", "floor in floating point"):
        "budget ** (1/d) can land just below an integer: correct k with integer arithmetic "
        "(while (k + 1) ** d <= budget: k += 1).",
    ("coarse_to_fine", "around the worst results"):
        "Sort by validation accuracy, highest first: sorted(results, key=lambda r: -r[1]).",
    ("coarse_to_fine", "around the first results"):
        "Choose the top_k results by validation accuracy, not the first ones in the list.",
    ("coarse_to_fine", "linear space for a log scale"):
        "For a log scale, take min, max and the margin of log(value), then exp back.",
    ("coarse_to_fine", "not narrowing"):
        "Return the new (low, high, scale) per name, around the best results.",
    ("diagnose_curves", "overfitting and underfitting swapped"):
        "Overfitting is a large train-validation gap (training fits, validation does not "
        "follow); underfitting is a low training accuracy.",
    ("diagnose_curves", "NaN loss not caught"):
        "Test np.isfinite first: any comparison with NaN is False, so a NaN loss slips past "
        "`loss.max() > 1.5 * loss[0]`.",
    ("diagnose_curves", "exploding loss not caught"):
        "A loss that grows past 1.5 times its first value diverges too, finite or not: "
        "learning rate too high.",
}

ALTERNATIVES = (
    Variant("sample_log_uniform", "log10 and 10 **", "base-10 logs", """
def sample_log_uniform(rng, low, high, size):
    return 10 ** rng.uniform(np.log10(low), np.log10(high), size)
"""),
    Variant("sample_log_uniform", "rng.random scaled", "low * (high / low) ** u, u = rng.random", """
def sample_log_uniform(rng, low, high, size):
    return low * (high / low) ** rng.random(size)
"""),
    Variant("random_search_configs", "one configuration at a time",
            "values drawn configuration by configuration, with rng.random and log10", """
def random_search_configs(rng, space, budget):
    configs = []
    for _ in range(budget):
        config = {}
        for name, (low, high, scale) in space.items():
            u = rng.random()
            if scale == "log":
                config[name] = float(10 ** (np.log10(low) + u * (np.log10(high) - np.log10(low))))
            else:
                config[name] = float(low + u * (high - low))
        configs.append(config)
    return configs
"""),
    Variant("grid_search_configs", "sorted high to low, last name slowest",
            "values from high to low, product over the names in reverse order", """
def grid_search_configs(space, budget):
    names = list(space)
    k = 1
    while (k + 1) ** len(names) <= budget:
        k += 1
    axes = {}
    for name in reversed(names):
        low, high, scale = space[name]
        if scale == "log":
            axes[name] = np.exp(np.linspace(np.log(high), np.log(low), k))
        else:
            axes[name] = np.linspace(high, low, k)
    return [{name: float(value) for name, value in zip(axes, values)}
            for values in itertools.product(*axes.values())]
"""),
    Variant("coarse_to_fine", "log10 and argsort", "np.argsort for the best, base-10 logs", """
def coarse_to_fine(results, space, top_k):
    scores = np.array([score for _, score in results])
    best = [results[i][0] for i in np.argsort(-scores, kind="stable")[:top_k]]
    narrowed = {}
    for name, (low, high, scale) in space.items():
        if scale == "log":
            c = np.log10([config[name] for config in best])
            width = np.log10(high) - np.log10(low)
            new = (max(np.log10(low), c.min() - 0.1 * width), min(np.log10(high), c.max() + 0.1 * width))
            narrowed[name] = (float(10 ** new[0]), float(10 ** new[1]), scale)
        else:
            c = np.array([config[name] for config in best])
            width = high - low
            narrowed[name] = (float(max(low, c.min() - 0.1 * width)),
                              float(min(high, c.max() + 0.1 * width)), scale)
    return narrowed
"""),
    Variant("diagnose_curves", "plain Python", "lists and math.isfinite, the rules as a loop", """
def diagnose_curves(history):
    import math
    loss = [float(v) for v in history["train_loss"]]
    train_acc, val_acc = list(history["train_acc"]), list(history["val_acc"])
    n = len(loss)
    start, last = max(2, n // 6), max(1, n // 3)
    if not all(math.isfinite(v) for v in loss) or max(loss) > 1.5 * loss[0] or loss[-1] >= loss[0]:
        return "learning rate too high"
    rules = [
        ("bad initialization", all(abs(v - loss[0]) <= 0.02 * loss[0] for v in loss[:start])
         and loss[-1] < 0.5 * loss[0]),
        ("overfitting", train_acc[-1] - val_acc[-1] > 0.1
         and val_acc[-1] - val_acc[-1 - last] < 0.02),
        ("learning rate too low", loss[-1] > 0.7 * loss[0] and loss[-1] < 0.99 * loss[-1 - last]),
        ("underfitting", train_acc[-1] < 0.9),
    ]
    return next((label for label, holds in rules if holds), "healthy")
"""),
)
