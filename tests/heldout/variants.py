"""Held-out variants: wrong (and a few right) answers that are NOT in the mistake catalog.

Plain data, one dict per variant:

- ``id``: unique, ``<function>-<what>``.
- ``function``: the graded function (the answer cell's grade_id) the variant is about.
- ``kind``: ``"mistake"`` or ``"correct"`` (a right answer that looks different and must
  keep full marks).
- ``description``: the mistake (or the form) in one line.
- ``expected``: the canonical labels a right diagnosis names (all of them for a variant with
  several mistakes); empty for a correct form.
- ``seen_in``: for a mistake found in public CS231n student code, the repository it was
  seen in ("" when written to mirror learners without a single source). The code is written
  here, not copied.
- ``source``: the whole answer cell, as a learner would write it.
- ``others``: optional {grade_id: source} of further cells the variant replaces (a backward
  pass needs a forward pass with the cache layout it reads).

A diagnosis names a label when its line is the catalog's ("your outputs match a known
mistake, <name> (...)") and ``CATALOG_LABELS`` maps that name to the label, or, for any
other wording, when the line matches the label's pattern in ``KEYWORDS``.
"""
from __future__ import annotations

# Every catalogued mistake, (function, name) -> its canonical label.
CATALOG_LABELS = {
    ("sgd_momentum", "sign flipped"): "momentum/gradient-sign-flipped",
    ("sgd_momentum", "EMA form"): "momentum/ema-form",
    ("sgd_momentum", "velocity not saved"): "momentum/velocity-not-stored",
    ("sgd_momentum", "friction reversed"): "momentum/friction-reversed",
    ("nesterov_momentum", "plain momentum"): "nesterov/plain-momentum",
    ("nesterov_momentum", "missing -mu*v_prev"): "nesterov/missing-mu-v-prev",
    ("adagrad", "decaying cache"): "adagrad/decaying-cache",
    ("rmsprop", "epsilon inside the square root"): "rmsprop/eps-inside-sqrt",
    ("rmsprop", "decay reversed"): "rmsprop/decay-reversed",
    ("rmsprop", "no square root"): "rmsprop/no-sqrt",
    ("rmsprop", "cache not saved"): "rmsprop/cache-not-stored",
    ("adam", "no bias correction"): "adam/no-bias-correction",
    ("adam", "t incremented after use"): "adam/t-starts-at-0",
    ("adam", "(1-beta)**t"): "adam/correction-(1-beta)**t",
    ("adam", "epsilon inside the square root"): "adam/eps-inside-sqrt",
    ("adam", "corrected moments stored"): "adam/corrected-moments-stored",
    ("batchnorm_forward", "unbiased variance"): "bn/unbiased-variance",
    ("batchnorm_forward", "running weights reversed"): "bn/running-weights-reversed",
    ("batchnorm_forward", "batch statistics in test mode"): "bn/test-mode-batch-statistics",
    ("batchnorm_forward", "test mode without gamma and beta"): "bn/test-mode-no-gamma-beta",
    ("batchnorm_forward", "running statistics not written back"):
        "bn/running-stats-not-written-back",
    ("batchnorm_forward", "epsilon outside the square root"): "bn/eps-outside-sqrt",
    ("batchnorm_forward", "mean over the wrong axis"): "bn/statistics-over-wrong-axis",
    ("batchnorm_backward", "missing the mean path"): "bn-backward/missing-mean-path",
    ("batchnorm_backward", "missing the variance path"): "bn-backward/missing-variance-path",
    ("batchnorm_backward", "missing gamma"): "bn-backward/missing-gamma",
    ("batchnorm_backward", "summing over the wrong axis"): "bn-backward/sums-over-wrong-axis",
    ("batchnorm_backward_alt", "missing 1/N"): "bn-alt/missing-1-over-N",
    ("batchnorm_backward_alt", "missing the x_hat term"): "bn-alt/missing-x-hat-term",
    ("batchnorm_backward_alt", "missing gamma"): "bn-alt/missing-gamma",
    ("zero_center", "test with its own mean"): "zc/test-own-mean",
    ("zero_center", "mean over the wrong axis"): "zc/mean-over-wrong-axis",
    ("zero_center", "one global mean"): "zc/one-global-mean",
    ("standardize", "test with its own statistics"): "standardize/test-own-statistics",
    ("standardize", "not centred"): "standardize/not-centred",
    ("standardize", "divided by the variance"): "standardize/divided-by-variance",
    ("standardize", "epsilon outside the square root"): "standardize/eps-outside-sqrt",
    ("pca_project", "no centring"): "pca/not-centred",
    ("pca_project", "smallest components"): "pca/smallest-components",
    ("pca_project", "test with its own mean"): "pca/test-own-mean",
    ("pca_project", "rows of U"): "pca/rows-of-U",
    ("whiten", "divided by the eigenvalue"): "whiten/divided-by-eigenvalue",
    ("whiten", "smallest first"): "whiten/smallest-first",
    ("whiten", "test with its own statistics"): "whiten/test-own-statistics",
    ("whiten", "covariance over N-1"): "whiten/covariance-over-N-1",
}

# Label -> a regular expression (searched case-insensitively in one diagnosis line) that a
# diagnosis in other words than the catalog's must match to name that label.
KEYWORDS = {
    "momentum/nesterov-update-in-sgd-momentum": r"nesterov|look-?ahead",
    "momentum/wrong-default-learning-rate": r"default.{0,40}learning.?rate|learning.?rate.{0,40}default",
    "momentum/momentum-not-read-from-config": r"momentum.{0,60}(not read|hard-?coded|ignor)|(not read|hard-?coded|ignor).{0,60}momentum",
    "momentum/step-uses-old-velocity": r"(old|previous|stale).{0,30}velocity.{0,60}(step|next_w|update)|(step|next_w).{0,60}(old|previous|stale).{0,30}velocity",
    "momentum/buffer-stored-as-velocity": r"buffer|velocity.{0,60}(-learning_rate \* b|times -?learning.?rate)",
    "momentum/stored-velocity-ignored": r"(stored|saved|config).{0,40}velocity.{0,40}(ignored|not read|never read|unused)|starts? from (rest|zero).{0,40}every",
    "nesterov/step-stored-as-velocity": r"velocity.{0,60}(step|next_w - w)|(step|change of w).{0,60}stored.{0,30}velocity",
    "nesterov/wrong-default-momentum": r"default.{0,40}momentum|momentum.{0,40}default",
    "nesterov/learning-rate-not-read-from-config": r"learning.?rate.{0,60}(not read|hard-?coded|ignor)|(not read|hard-?coded|ignor).{0,60}learning.?rate",
    "nesterov/missing-1-plus-mu-on-gradient": r"1 ?\+ ?(mu|momentum)\)?.{0,40}(gradient|learning.?rate|dw)|(gradient|dw).{0,40}1 ?\+ ?(mu|momentum)",
    "nesterov/v-prev-sign-flipped": r"sign.{0,60}(v_prev|previous velocity)|(v_prev|previous velocity).{0,60}sign",
    "adagrad/eps-inside-sqrt": r"eps\w*.{0,40}(inside|under).{0,20}(square )?root|sqrt\(cache \+ eps",
    "adagrad/eps-not-read-from-config": r"eps\w*.{0,60}(not read|hard-?coded|ignor)|(not read|hard-?coded|ignor).{0,60}eps",
    "adagrad/cache-not-stored": r"cache.{0,40}(not (stored|saved|kept|returned)|never reaches)",
    "adagrad/no-sqrt": r"(no|without|missing).{0,20}square root|sqrt.{0,20}missing",
    "adagrad/gradient-doubled-not-squared": r"(2 ?\* ?dw|dw ?\* ?2|twice|doubled).{0,60}(square|dw\*\*2)|not squared",
    "adagrad/step-uses-old-cache": r"(old|previous|stale) cache.{0,60}(step|divid|next_w)|(step|divid\w*|next_w).{0,60}((old|previous|stale) cache|before.{0,30}(update|dw))",
    "adagrad/wrong-default-learning-rate": r"default.{0,40}learning.?rate|learning.?rate.{0,40}default",
    "rmsprop/new-term-weighted-by-learning-rate": r"(1 ?- ?decay|weight).{0,80}learning.?rate|learning.?rate.{0,80}(weight|1 ?- ?decay)",
    "rmsprop/eps-inside-sqrt": r"eps\w*.{0,40}(inside|under).{0,20}(square )?root|sqrt\(cache \+ eps",
    "rmsprop/no-decay": r"never (decays|forgets)|adagrad|(no|without) decay|accumulat",
    "rmsprop/eps-not-read-from-config": r"eps\w*.{0,60}(not read|hard-?coded|ignor)|(not read|hard-?coded|ignor).{0,60}eps",
    "rmsprop/wrong-default-decay-rate": r"default.{0,40}decay.?rate|decay.?rate.{0,40}default",
    "rmsprop/decay-rate-not-read-from-config": r"decay.?rate.{0,60}(not read|hard-?coded|ignor)|(not read|hard-?coded|ignor).{0,60}decay.?rate",
    "rmsprop/step-uses-old-cache": r"(old|previous|stale) cache.{0,60}(step|divid|next_w)|(step|divid\w*|next_w).{0,60}((old|previous|stale) cache|before.{0,30}update)",
    "rmsprop/eps-added-to-w": r"eps\w*.{0,60}(added to (w|the weights)|outside the (division|fraction))|precedence|parenthes",
    "adam/t-starts-at-1": r"t (starts|defaults?) (at|to) 1|first step uses t ?= ?2|default.{0,20}\bt\b.{0,20}1",
    "adam/t-not-incremented": r"\bt\b.{0,40}(never|not) (incremented|increase|updated|change)|(never|not) increment",
    "adam/no-bias-correction": r"(no|without|missing|skip\w*).{0,30}bias.?correct",
    "adam/correction-1-(1-beta)**t": r"1 ?- ?\(1 ?- ?beta",
    "adam/t-not-stored": r"\bt\b.{0,60}(not (stored|saved|returned|written)|never reaches)",
    "adam/eps-not-read-from-config": r"eps\w*.{0,60}(not read|hard-?coded|ignor)|(not read|hard-?coded|ignor).{0,60}eps",
    "adam/wrong-default-learning-rate": r"default.{0,40}learning.?rate|learning.?rate.{0,40}default",
    "adam/beta1-used-for-v": r"beta1.{0,60}\bv\b|\bv\b.{0,60}beta1|second moment.{0,40}beta1",
    "adam/v-not-bias-corrected": r"\bv\b.{0,40}(not|never|without).{0,20}correct|(only|just) m.{0,20}correct",
    "adam/moments-not-carried-over": r"(moments|m and v).{0,60}(reset|start from zero|not carried|every step|each call)",
    "adam/t-stored-one-ahead": r"\bt\b.{0,60}(one ahead|ahead of the steps?)|stored.{0,30}t ?\+ ?1|\bt\b.{0,40}(one|1) (too )?(high|large|many)",
    "adam/epsilon-hat-form": r"eps\w*.{0,80}(sqrt\(1 ?- ?beta2|not scaled|hat|corrected v)",
    "bn/running-var-stores-var-plus-eps": r"running_var.{0,60}(var ?\+ ?eps|eps)",
    "bn/test-mode-eps-outside-sqrt": r"test.{0,80}eps\w*.{0,40}(outside|after).{0,20}(square )?root|eps\w*.{0,40}(outside|after).{0,30}root.{0,60}test",
    "bn/statistics-over-all-elements": r"(all|every) (elements|entries|values)|one (mean|number) for (the whole|all)|axis=None|without an axis",
    "bn/train-mode-uses-running-mean": r"train.{0,60}running_mean|running_mean.{0,60}train",
    "bn/running-stats-written-from-stale-local": r"stale|old (value|local)|written back.{0,40}(old|before)",
    "bn/eps-not-read-from-bn-param": r"eps\w*.{0,60}(not read|hard-?coded|ignor)|(not read|hard-?coded|ignor).{0,60}eps",
    "bn/wrong-default-momentum": r"default.{0,40}momentum|momentum.{0,40}default",
    "bn/no-eps": r"(no|without|missing|forg\w+).{0,20}eps",
    "bn/test-mode-no-sqrt": r"test.{0,80}(no|without|missing).{0,20}square root|(no|without|missing).{0,20}square root.{0,60}test",
    "bn/shift-before-normalizing": r"beta.{0,60}(before|inside).{0,30}(normaliz|divid|scal)",
    "bn/running-var-stores-std": r"running_var.{0,60}(std|standard deviation)",
    "bn/running-var-unbiased": r"running_var.{0,60}(unbiased|N ?- ?1|ddof)|(unbiased|N ?- ?1|ddof).{0,60}running_var",
    "bn/test-mode-updates-running-stats": r"test.{0,60}(changes|updates|moves).{0,30}running|running.{0,60}(changed|updated).{0,30}test",
    "bn-backward/cache-unpacked-in-wrong-order": r"cache.{0,60}(order|unpack|swap)",
    "bn-backward/dgamma-without-eps": r"dgamma.{0,80}eps|eps.{0,80}dgamma",
    "bn-backward/dvar-wrong-power": r"dvar.{0,80}(power|-1\.5|\*\*-?3|exponent)",
    "bn-backward/dvar-missing-half": r"dvar.{0,80}(0\.5|half)|(0\.5|half).{0,80}dvar",
    "bn-backward/divides-by-D-not-N": r"\bD\b.{0,40}(instead of|not).{0,10}\bN\b|divid\w+ by (D|the number of features)",
    "bn-backward/mean-instead-of-sum": r"mean.{0,30}instead of.{0,10}sum|sum.{0,30}not.{0,10}mean",
    "bn-backward/dgamma-uses-centred": r"dgamma.{0,80}(centred|x - mean|x_hat)",
    "bn-alt/missing-cross-sample-terms": r"cross.?sample|(dbeta|mean) and .{0,20}x_hat.{0,20}terms|only the (diagonal|first) term",
    "bn-alt/dbeta-mean-not-sum": r"mean.{0,30}instead of.{0,10}sum|sum.{0,30}not.{0,10}mean",
    "bn-alt/x-hat-term-sign": r"sign.{0,60}x_hat|x_hat.{0,60}sign",
    "bn-alt/std-without-eps": r"(no|without|missing).{0,30}eps|eps.{0,40}missing",
    "bn-alt/divides-by-D-not-N": r"\bD\b.{0,40}(instead of|not).{0,10}\bN\b|divid\w+ by (D|the number of features)",
    "bn-alt/sums-over-wrong-axis": r"axis|per row",
    "zc/test-not-centred": r"test.{0,60}(not centred|not centered|unchanged|left as)",
    "zc/median-not-mean": r"median",
    "zc/mean-of-train-and-test": r"(train and test|both sets|test data).{0,60}mean|mean.{0,60}(train and test|both sets|includes the test)",
    "zc/mean-divided-by-wrong-count": r"(divid\w+|count).{0,60}(M|len\(X_test\)|test rows|wrong number)",
    "standardize/unbiased-std": r"unbiased|N ?- ?1|ddof",
    "standardize/no-eps": r"(no|without|missing).{0,20}eps",
    "standardize/eps-added-after-division": r"eps\w*.{0,60}(added (to|after)|outside the (division|fraction))|precedence|parenthes",
    "standardize/test-not-scaled": r"test.{0,60}not (scaled|divided)",
    "standardize/range-not-std": r"range|min.{0,10}max",
    "standardize/wrong-default-eps": r"default.{0,40}eps|eps.{0,40}default",
    "pca/components-from-uncentred-data": r"(uncentred|not centred|uncentered|not centered).{0,60}(covariance|svd|components|eigen)",
    "pca/svd-components-not-transposed": r"transpos|rows of vt|vt\[:k\]",
    "pca/components-in-ascending-order": r"(right|correct|top|largest) (k )?components.{0,60}(order|reversed|ascending)|(reversed|ascending) order.{0,60}(largest|top)",
    "pca/keeps-k-plus-1-components": r"k ?\+ ?1|one (component )?too many|off by one",
    "pca/data-standardized-first": r"standardi[sz]|divided by the (std|standard deviation)|unit variance",
    "whiten/eps-outside-sqrt": r"eps\w*.{0,40}(outside|after).{0,20}(square )?root",
    "whiten/no-eps": r"(no|without|missing).{0,20}eps",
    "whiten/zca-rotated-back": r"zca|rotat\w+ back|U\.T|vectors\.T",
    "whiten/singular-values-as-eigenvalues": r"singular value|s\*\*2|squared",
    "whiten/test-not-centred": r"test.{0,60}(not centred|not centered|without (subtracting|the mean))",
    "whiten/multiplies-by-std": r"multipl\w+.{0,40}(sqrt|standard deviation|std)",
    "whiten/wrong-default-eps": r"default.{0,40}eps|eps.{0,40}default",
}

VARIANTS = [
    # ---- sgd_momentum -------------------------------------------------------------------
    {"id": "sgd_momentum-nesterov-update", "function": "sgd_momentum", "kind": "mistake",
     "description": "the Nesterov look-ahead update written into plain momentum",
     "expected": ["momentum/nesterov-update-in-sgd-momentum"], "seen_in": "Basasuya/cs231n",
     "source": '''
def sgd_momentum(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    mu, lr = config["momentum"], config["learning_rate"]
    v_prev = v
    v = mu * v - lr * dw
    w += -mu * v_prev + (1 + mu) * v
    config["velocity"] = v
    return w, config
'''},
    {"id": "sgd_momentum-default-lr-1e-3", "function": "sgd_momentum", "kind": "mistake",
     "description": "default learning_rate 1e-3 instead of the docstring's 1e-2",
     "expected": ["momentum/wrong-default-learning-rate"], "seen_in": "",
     "source": '''
def sgd_momentum(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config
'''},
    {"id": "sgd_momentum-momentum-hard-coded", "function": "sgd_momentum", "kind": "mistake",
     "description": "momentum 0.9 written as a literal, config['momentum'] never read",
     "expected": ["momentum/momentum-not-read-from-config"], "seen_in": "",
     "source": '''
def sgd_momentum(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = 0.9 * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config
'''},
    {"id": "sgd_momentum-step-with-old-velocity", "function": "sgd_momentum", "kind": "mistake",
     "description": "w moves by the previous velocity; the new one is only stored",
     "expected": ["momentum/step-uses-old-velocity"], "seen_in": "",
     "source": '''
def sgd_momentum(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    next_w = w + v
    config["velocity"] = config["momentum"] * v - config["learning_rate"] * dw
    return next_w, config
'''},
    {"id": "sgd_momentum-buffer-as-velocity", "function": "sgd_momentum", "kind": "mistake",
     "description": "PyTorch's buffer b = mu*b + dw stored as the velocity (not -lr*b)",
     "expected": ["momentum/buffer-stored-as-velocity"], "seen_in": "",
     "source": '''
def sgd_momentum(w, dw, config=None):
    if config is None: config = {}
    lr = config.setdefault("learning_rate", 1e-2)
    mu = config.setdefault("momentum", 0.9)
    buf = mu * config.get("velocity", np.zeros_like(w)) + dw
    config["velocity"] = buf
    return w - lr * buf, config
'''},
    {"id": "sgd_momentum-velocity-always-zero", "function": "sgd_momentum", "kind": "mistake",
     "description": "the stored velocity is never read: every step starts from rest",
     "expected": ["momentum/stored-velocity-ignored"], "seen_in": "",
     "source": '''
def sgd_momentum(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = np.zeros_like(w)
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config
'''},
    # ---- nesterov_momentum ----------------------------------------------------------------
    {"id": "nesterov-v-prev-sign", "function": "nesterov_momentum", "kind": "mistake",
     "description": "+mu*v_prev instead of -mu*v_prev in the look-ahead step",
     "expected": ["nesterov/v-prev-sign-flipped"], "seen_in": "",
     "source": '''
def nesterov_momentum(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    v_prev = config.get("velocity", np.zeros_like(w))
    v = mu * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w + mu * v_prev + (1 + mu) * v, config
'''},
    {"id": "nesterov-step-stored-as-velocity", "function": "nesterov_momentum", "kind": "mistake",
     "description": "config['velocity'] keeps the change of w, not v",
     "expected": ["nesterov/step-stored-as-velocity"], "seen_in": "",
     "source": '''
def nesterov_momentum(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    v_prev = config.get("velocity", np.zeros_like(w))
    v = mu * v_prev - config["learning_rate"] * dw
    step = -mu * v_prev + (1 + mu) * v
    config["velocity"] = step
    return w + step, config
'''},
    {"id": "nesterov-default-momentum-0.99", "function": "nesterov_momentum", "kind": "mistake",
     "description": "default momentum 0.99 instead of 0.9",
     "expected": ["nesterov/wrong-default-momentum"], "seen_in": "",
     "source": '''
def nesterov_momentum(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.99)
    mu = config["momentum"]
    v_prev = config.get("velocity", np.zeros_like(w))
    v = mu * v_prev - config["learning_rate"] * dw
    config["velocity"] = v
    return w - mu * v_prev + (1 + mu) * v, config
'''},
    {"id": "nesterov-lr-hard-coded", "function": "nesterov_momentum", "kind": "mistake",
     "description": "learning rate 1e-2 written as a literal",
     "expected": ["nesterov/learning-rate-not-read-from-config"], "seen_in": "",
     "source": '''
def nesterov_momentum(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    v_prev = config.get("velocity", np.zeros_like(w))
    v = mu * v_prev - 1e-2 * dw
    config["velocity"] = v
    return w - mu * v_prev + (1 + mu) * v, config
'''},
    {"id": "nesterov-gradient-without-1-plus-mu", "function": "nesterov_momentum", "kind": "mistake",
     "description": "expanded form mu**2 * v_prev - lr*dw: the (1 + mu) on the gradient dropped",
     "expected": ["nesterov/missing-1-plus-mu-on-gradient"], "seen_in": "",
     "source": '''
def nesterov_momentum(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu, lr = config["momentum"], config["learning_rate"]
    v_prev = config.get("velocity", np.zeros_like(w))
    config["velocity"] = mu * v_prev - lr * dw
    return w + mu**2 * v_prev - lr * dw, config
'''},
    {"id": "nesterov-correct-sutskever-form", "function": "nesterov_momentum", "kind": "correct",
     "description": "next_w = w + mu*v - lr*dw: the same step written another way",
     "expected": [], "seen_in": "",
     "source": '''
def nesterov_momentum(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu, lr = config["momentum"], config["learning_rate"]
    v = mu * config.get("velocity", np.zeros_like(w)) - lr * dw
    config["velocity"] = v
    return w + mu * v - lr * dw, config
'''},
    {"id": "nesterov-correct-expanded", "function": "nesterov_momentum", "kind": "correct",
     "description": "next_w = w + mu**2 * v_prev - (1 + mu) * lr * dw, expanded by hand",
     "expected": [], "seen_in": "",
     "source": '''
def nesterov_momentum(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu, lr = config["momentum"], config["learning_rate"]
    v_prev = config.get("velocity", np.zeros_like(w))
    config["velocity"] = mu * v_prev - lr * dw
    return w + mu**2 * v_prev - (1 + mu) * lr * dw, config
'''},
    # ---- adagrad ------------------------------------------------------------------------
    {"id": "adagrad-eps-inside-sqrt", "function": "adagrad", "kind": "mistake",
     "description": "sqrt(cache + eps), the form of the course notes' one-liner",
     "expected": ["adagrad/eps-inside-sqrt"], "seen_in": "",
     "source": '''
def adagrad(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config
'''},
    {"id": "adagrad-eps-hard-coded", "function": "adagrad", "kind": "mistake",
     "description": "epsilon 1e-8 written as a literal, config['epsilon'] never read",
     "expected": ["adagrad/eps-not-read-from-config"], "seen_in": "",
     "source": '''
def adagrad(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + 1e-8), config
'''},
    {"id": "adagrad-cache-not-stored", "function": "adagrad", "kind": "mistake",
     "description": "the new cache never reaches config",
     "expected": ["adagrad/cache-not-stored"], "seen_in": "",
     "source": '''
def adagrad(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))
    cache = cache + dw**2
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
'''},
    {"id": "adagrad-no-sqrt", "function": "adagrad", "kind": "mistake",
     "description": "divides by the cache, not its square root",
     "expected": ["adagrad/no-sqrt"], "seen_in": "",
     "source": '''
def adagrad(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (cache + config["epsilon"]), config
'''},
    {"id": "adagrad-dw-times-2", "function": "adagrad", "kind": "mistake",
     "description": "cache += dw * 2 (a typo for dw ** 2)",
     "expected": ["adagrad/gradient-doubled-not-squared"], "seen_in": "",
     "source": '''
def adagrad(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw * 2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(np.abs(cache)) + config["epsilon"]), config
'''},
    {"id": "adagrad-step-with-old-cache", "function": "adagrad", "kind": "mistake",
     "description": "the step divides by the cache before this step's dw**2 is added",
     "expected": ["adagrad/step-uses-old-cache"], "seen_in": "",
     "source": '''
def adagrad(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    config["cache"] = cache + dw**2
    return next_w, config
'''},
    {"id": "adagrad-default-lr-1e-3", "function": "adagrad", "kind": "mistake",
     "description": "default learning_rate 1e-3 instead of 1e-2",
     "expected": ["adagrad/wrong-default-learning-rate"], "seen_in": "",
     "source": '''
def adagrad(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w)) + dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
'''},
    # ---- rmsprop ------------------------------------------------------------------------
    {"id": "rmsprop-lr-weights-new-term-eps-inside", "function": "rmsprop", "kind": "mistake",
     "description": "cache = decay*cache + learning_rate*dw**2, and sqrt(cache + eps)",
     "expected": ["rmsprop/new-term-weighted-by-learning-rate", "rmsprop/eps-inside-sqrt"],
     "seen_in": "514DNA/cs231n",
     "source": '''
def rmsprop(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    s = config.get("cache", np.zeros_like(w))
    s = s * config["decay_rate"] + dw * dw * config["learning_rate"]
    next_w = w - config["learning_rate"] * dw / np.sqrt(s + config["epsilon"])
    config["cache"] = s
    return next_w, config
'''},
    {"id": "rmsprop-no-decay", "function": "rmsprop", "kind": "mistake",
     "description": "cache += dw**2 (AdaGrad's cache) with the RMSProp step",
     "expected": ["rmsprop/no-decay"], "seen_in": "",
     "source": '''
def rmsprop(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))
    cache += dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
'''},
    {"id": "rmsprop-eps-hard-coded", "function": "rmsprop", "kind": "mistake",
     "description": "epsilon 1e-8 written as a literal",
     "expected": ["rmsprop/eps-not-read-from-config"], "seen_in": "",
     "source": '''
def rmsprop(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + 1e-8), config
'''},
    {"id": "rmsprop-default-decay-0.9", "function": "rmsprop", "kind": "mistake",
     "description": "default decay_rate 0.9 instead of 0.99",
     "expected": ["rmsprop/wrong-default-decay-rate"], "seen_in": "",
     "source": '''
def rmsprop(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.9)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
'''},
    {"id": "rmsprop-decay-hard-coded", "function": "rmsprop", "kind": "mistake",
     "description": "decay 0.99 written as a literal",
     "expected": ["rmsprop/decay-rate-not-read-from-config"], "seen_in": "",
     "source": '''
def rmsprop(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = 0.99 * config.get("cache", np.zeros_like(w)) + 0.01 * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
'''},
    {"id": "rmsprop-step-with-old-cache", "function": "rmsprop", "kind": "mistake",
     "description": "the step divides by the cache read before this step's update",
     "expected": ["rmsprop/step-uses-old-cache"], "seen_in": "",
     "source": '''
def rmsprop(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    old = config.get("cache", np.zeros_like(w))
    d = config["decay_rate"]
    config["cache"] = d * old + (1 - d) * dw**2
    return w - config["learning_rate"] * dw / (np.sqrt(old) + config["epsilon"]), config
'''},
    {"id": "rmsprop-eps-added-to-w", "function": "rmsprop", "kind": "mistake",
     "description": "missing parentheses: w - lr*dw/np.sqrt(cache) + eps",
     "expected": ["rmsprop/eps-added-to-w"], "seen_in": "",
     "source": '''
def rmsprop(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache) + config["epsilon"], config
'''},
    # ---- adam ---------------------------------------------------------------------------
    {"id": "adam-t-defaults-to-1", "function": "adam", "kind": "mistake",
     "description": "setdefault('t', 1) then t += 1: the first step uses t = 2",
     "expected": ["adam/t-starts-at-1"],
     "seen_in": "0a1c/cs231n, AKSoo/CS231n-2017, BigZihao/CS231",
     "source": '''
def adam(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 1)
    b1, b2 = config["beta1"], config["beta2"]
    t = config["t"] + 1
    m = b1 * config["m"] + (1 - b1) * dw
    v = b2 * config["v"] + (1 - b2) * dw * dw
    m_hat = m / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    config["m"], config["v"], config["t"] = m, v, t
    return next_w, config
'''},
    {"id": "adam-no-correction-t-frozen", "function": "adam", "kind": "mistake",
     "description": "no bias correction and t never incremented (the moments only)",
     "expected": ["adam/no-bias-correction", "adam/t-not-incremented"],
     "seen_in": "1FengL/cs231n, Aneureka/cs231n-assignments-2018, Al73r/CS231n",
     "source": '''
def adam(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    config["m"] = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
    config["v"] = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw**2
    next_w = w - config["learning_rate"] * config["m"] / (np.sqrt(config["v"]) + config["epsilon"])
    return next_w, config
'''},
    {"id": "adam-one-minus-one-minus-beta-power-t", "function": "adam", "kind": "mistake",
     "description": "the correction divides by 1 - (1 - beta)**t",
     "expected": ["adam/correction-1-(1-beta)**t"], "seen_in": "",
     "source": '''
def adam(w, dw, config=None):
    if config is None: config = {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    mt = m / (1 - (1 - b1)**t)
    vt = v / (1 - (1 - b2)**t)
    config.update(m=m, v=v, t=t)
    return w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"]), config
'''},
    {"id": "adam-t-not-stored", "function": "adam", "kind": "mistake",
     "description": "t incremented in a local, never written back to config",
     "expected": ["adam/t-not-stored"], "seen_in": "",
     "source": '''
def adam(w, dw, config=None):
    if config is None: config = {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    config.setdefault("t", 0)
    b1, b2 = config["beta1"], config["beta2"]
    t = config["t"] + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    config["m"], config["v"] = m, v
    mt, vt = m / (1 - b1**t), v / (1 - b2**t)
    return w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"]), config
'''},
    {"id": "adam-eps-hard-coded", "function": "adam", "kind": "mistake",
     "description": "epsilon 1e-8 written as a literal",
     "expected": ["adam/eps-not-read-from-config"], "seen_in": "",
     "source": '''
def adam(w, dw, config=None):
    if config is None: config = {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    config.update(m=m, v=v, t=t)
    mt, vt = m / (1 - b1**t), v / (1 - b2**t)
    return w - config["learning_rate"] * mt / (np.sqrt(vt) + 1e-8), config
'''},
    {"id": "adam-default-lr-1e-2", "function": "adam", "kind": "mistake",
     "description": "default learning_rate 1e-2 instead of 1e-3",
     "expected": ["adam/wrong-default-learning-rate"], "seen_in": "",
     "source": '''
def adam(w, dw, config=None):
    if config is None: config = {}
    for key, value in (("learning_rate", 1e-2), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    config.update(m=m, v=v, t=t)
    mt, vt = m / (1 - b1**t), v / (1 - b2**t)
    return w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"]), config
'''},
    {"id": "adam-beta1-for-v", "function": "adam", "kind": "mistake",
     "description": "the second moment decays with beta1 (copied line)",
     "expected": ["adam/beta1-used-for-v"], "seen_in": "",
     "source": '''
def adam(w, dw, config=None):
    if config is None: config = {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b1 * config.get("v", np.zeros_like(w)) + (1 - b1) * dw**2
    config.update(m=m, v=v, t=t)
    mt, vt = m / (1 - b1**t), v / (1 - b2**t)
    return w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"]), config
'''},
    {"id": "adam-v-not-corrected", "function": "adam", "kind": "mistake",
     "description": "only m is bias-corrected",
     "expected": ["adam/v-not-bias-corrected"], "seen_in": "",
     "source": '''
def adam(w, dw, config=None):
    if config is None: config = {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    config.update(m=m, v=v, t=t)
    mt = m / (1 - b1**t)
    return w - config["learning_rate"] * mt / (np.sqrt(v) + config["epsilon"]), config
'''},
    {"id": "adam-moments-reset", "function": "adam", "kind": "mistake",
     "description": "m and v start from zero on every call; the stored ones are never read",
     "expected": ["adam/moments-not-carried-over"], "seen_in": "",
     "source": '''
def adam(w, dw, config=None):
    if config is None: config = {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = (1 - b1) * dw
    v = (1 - b2) * dw**2
    config.update(m=m, v=v, t=t)
    mt, vt = m / (1 - b1**t), v / (1 - b2**t)
    return w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"]), config
'''},
    {"id": "adam-t-stored-one-ahead", "function": "adam", "kind": "mistake",
     "description": "t defaults to 1, is used, then stored as t + 1: one ahead of the steps",
     "expected": ["adam/t-stored-one-ahead"], "seen_in": "",
     "source": '''
def adam(w, dw, config=None):
    if config is None: config = {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 1)
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    mt, vt = m / (1 - b1**t), v / (1 - b2**t)
    config.update(m=m, v=v, t=t + 1)
    return w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"]), config
'''},
    {"id": "adam-paper-step-size-form", "function": "adam", "kind": "mistake",
     "description": "the paper's alpha_t form with an unscaled epsilon (epsilon-hat)",
     "expected": ["adam/epsilon-hat-form"], "seen_in": "",
     "source": '''
def adam(w, dw, config=None):
    if config is None: config = {}
    for key, value in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    config.update(m=m, v=v, t=t)
    alpha = config["learning_rate"] * np.sqrt(1 - b2**t) / (1 - b1**t)
    return w - alpha * m / (np.sqrt(v) + config["epsilon"]), config
'''},
    {"id": "adam-correct-t-from-config", "function": "adam", "kind": "correct",
     "description": "t read with get, incremented before use, corrected step in one line",
     "expected": [], "seen_in": "",
     "source": '''
def adam(w, dw, config=None):
    config = dict(config or {})
    lr = config.setdefault("learning_rate", 1e-3)
    b1 = config.setdefault("beta1", 0.9)
    b2 = config.setdefault("beta2", 0.999)
    eps = config.setdefault("epsilon", 1e-8)
    config["t"] = t = config.get("t", 0) + 1
    config["m"] = m = b1 * config.get("m", 0.0) + (1 - b1) * dw
    config["v"] = v = b2 * config.get("v", 0.0) + (1 - b2) * np.square(dw)
    return w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps), config
'''},
]

VARIANTS += [
    # ---- batchnorm_forward ----------------------------------------------------------------
    {"id": "bn-running-var-plus-eps", "function": "batchnorm_forward", "kind": "mistake",
     "description": "running_var averages var + eps, so test mode adds eps twice",
     "expected": ["bn/running-var-stores-var-plus-eps"], "seen_in": "",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        mu = x.mean(axis=0)
        var = x.var(axis=0) + eps
        std = np.sqrt(var)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta
        cache = {"x_hat": x_hat, "centred": x - mu, "std": std, "gamma": gamma}
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache
'''},
    {"id": "bn-test-eps-outside-sqrt", "function": "batchnorm_forward", "kind": "mistake",
     "description": "test mode only: sqrt(running_var) + eps",
     "expected": ["bn/test-mode-eps-outside-sqrt"],
     "seen_in": "several public assignment-2 layers.py files (found by text search)",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        std = np.sqrt(var + eps)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta
        cache = {"x_hat": x_hat, "centred": x - mu, "std": std, "gamma": gamma}
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        x_norm = (x - running_mean) / (np.sqrt(running_var) + eps)
        out = gamma * x_norm + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache
'''},
    {"id": "bn-statistics-over-all-elements", "function": "batchnorm_forward", "kind": "mistake",
     "description": "np.mean(x) and np.var(x) without an axis: one number for the batch",
     "expected": ["bn/statistics-over-all-elements"],
     "seen_in": "public assignment-2 layers.py (found by text search)",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        sample_mean = np.mean(x)
        sample_var = np.var(x)
        std = np.sqrt(sample_var + eps)
        x_hat = (x - sample_mean) / std
        out = gamma * x_hat + beta
        cache = {"x_hat": x_hat, "centred": x - sample_mean, "std": std, "gamma": gamma}
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache
'''},
    {"id": "bn-train-uses-running-mean", "function": "batchnorm_forward", "kind": "mistake",
     "description": "train mode centres x on running_mean instead of the batch mean",
     "expected": ["bn/train-mode-uses-running-mean"],
     "seen_in": "public assignment-2 layers.py (found by text search)",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        sample_mean = x.mean(axis=0)
        sample_var = x.var(axis=0)
        std = np.sqrt(sample_var + eps)
        x_hat = (x - running_mean) / std
        out = gamma * x_hat + beta
        cache = {"x_hat": x_hat, "centred": x - running_mean, "std": std, "gamma": gamma}
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache
'''},
    {"id": "bn-stale-write-back", "function": "batchnorm_forward", "kind": "mistake",
     "description": "bn_param gets the running statistics read at the start, not the new ones",
     "expected": ["bn/running-stats-written-from-stale-local"], "seen_in": "",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    rm = bn_param.get("running_mean", np.zeros(D))
    rv = bn_param.get("running_var", np.zeros(D))
    cache = None
    if mode == "train":
        mu, var = x.mean(axis=0), x.var(axis=0)
        std = np.sqrt(var + eps)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta
        cache = {"x_hat": x_hat, "centred": x - mu, "std": std, "gamma": gamma}
        running_mean = momentum * rm + (1 - momentum) * mu
        running_var = momentum * rv + (1 - momentum) * var
    else:
        out = gamma * (x - rm) / np.sqrt(rv + eps) + beta
    bn_param["running_mean"] = rm
    bn_param["running_var"] = rv
    return out, cache
'''},
    {"id": "bn-eps-hard-coded", "function": "batchnorm_forward", "kind": "mistake",
     "description": "eps 1e-5 written as a literal, bn_param['eps'] never read",
     "expected": ["bn/eps-not-read-from-bn-param"], "seen_in": "",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    cache = None
    if mode == "train":
        mu, var = x.mean(axis=0), x.var(axis=0)
        std = np.sqrt(var + 1e-5)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta
        cache = {"x_hat": x_hat, "centred": x - mu, "std": std, "gamma": gamma}
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + 1e-5) + beta
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return out, cache
'''},
    {"id": "bn-default-momentum-0.99", "function": "batchnorm_forward", "kind": "mistake",
     "description": "default momentum 0.99 instead of 0.9",
     "expected": ["bn/wrong-default-momentum"], "seen_in": "",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.99)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    cache = None
    if mode == "train":
        mu, var = x.mean(axis=0), x.var(axis=0)
        std = np.sqrt(var + eps)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta
        cache = {"x_hat": x_hat, "centred": x - mu, "std": std, "gamma": gamma}
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return out, cache
'''},
    {"id": "bn-no-eps", "function": "batchnorm_forward", "kind": "mistake",
     "description": "x.std(axis=0) with no eps anywhere",
     "expected": ["bn/no-eps"], "seen_in": "",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    cache = None
    if mode == "train":
        mu, std = x.mean(axis=0), x.std(axis=0)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta
        cache = {"x_hat": x_hat, "centred": x - mu, "std": std, "gamma": gamma}
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * std**2
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var) + beta
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return out, cache
'''},
    {"id": "bn-test-no-sqrt", "function": "batchnorm_forward", "kind": "mistake",
     "description": "test mode divides by running_var + eps, not its square root",
     "expected": ["bn/test-mode-no-sqrt"], "seen_in": "",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    cache = None
    if mode == "train":
        mu, var = x.mean(axis=0), x.var(axis=0)
        std = np.sqrt(var + eps)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta
        cache = {"x_hat": x_hat, "centred": x - mu, "std": std, "gamma": gamma}
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        out = gamma * (x - running_mean) / (running_var + eps) + beta
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return out, cache
'''},
    {"id": "bn-shift-before-normalizing-and-std-stats", "function": "batchnorm_forward",
     "kind": "mistake",
     "description": "(x - mean + beta) / std * gamma with no eps, running_var keeps the std, "
                    "test mode divides by running_var",
     "expected": ["bn/shift-before-normalizing", "bn/no-eps", "bn/running-var-stores-std",
                  "bn/test-mode-no-sqrt"], "seen_in": "Al73r/CS231n",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    cache = None
    if mode == "train":
        xmean, xstd = x.mean(axis=0), x.std(axis=0)
        tmp = x - xmean + beta
        out = tmp / xstd * gamma
        x_hat = (x - xmean) / xstd
        cache = {"x_hat": x_hat, "centred": x - xmean, "std": xstd, "gamma": gamma}
        running_mean = momentum * running_mean + (1 - momentum) * xmean
        running_var = momentum * running_var + (1 - momentum) * xstd
    else:
        out = (x - running_mean + beta) / running_var * gamma
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache
'''},
    {"id": "bn-running-var-unbiased", "function": "batchnorm_forward", "kind": "mistake",
     "description": "PyTorch's convention: the running variance averages the unbiased variance",
     "expected": ["bn/running-var-unbiased"], "seen_in": "",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    cache = None
    if mode == "train":
        mu, var = x.mean(axis=0), x.var(axis=0)
        std = np.sqrt(var + eps)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta
        cache = {"x_hat": x_hat, "centred": x - mu, "std": std, "gamma": gamma}
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var * N / (N - 1)
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    return out, cache
'''},
    {"id": "bn-test-updates-running", "function": "batchnorm_forward", "kind": "mistake",
     "description": "the running averages also move in test mode, with the test batch",
     "expected": ["bn/test-mode-updates-running-stats"], "seen_in": "",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    cache = None
    mu, var = x.mean(axis=0), x.var(axis=0)
    if mode == "train":
        std = np.sqrt(var + eps)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta
        cache = {"x_hat": x_hat, "centred": x - mu, "std": std, "gamma": gamma}
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mu
    bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    return out, cache
'''},
    {"id": "bn-correct-keepdims", "function": "batchnorm_forward", "kind": "correct",
     "description": "keepdims=True: running statistics of shape (1, D), every value exact",
     "expected": [], "seen_in": "1FengL/cs231n",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    cache = None
    if mode == "train":
        sample_mean = np.mean(x, axis=0, keepdims=True)
        sample_var = np.var(x, axis=0, keepdims=True)
        std = np.sqrt(sample_var + eps)
        x_hat = (x - sample_mean) / std
        out = gamma * x_hat + beta
        cache = {"x_hat": x_hat, "centred": x - sample_mean, "std": std, "gamma": gamma}
        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var
    else:
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache
'''},
    {"id": "bn-correct-inverse-std", "function": "batchnorm_forward", "kind": "correct",
     "description": "1 / sqrt(var + eps) kept and multiplied; in-place updates of bn_param",
     "expected": [], "seen_in": "",
     "source": '''
def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    bn_param.setdefault("running_mean", np.zeros(D))
    bn_param.setdefault("running_var", np.zeros(D))
    if bn_param["mode"] == "test":
        inv = 1.0 / np.sqrt(bn_param["running_var"] + eps)
        return gamma * (x - bn_param["running_mean"]) * inv + beta, None
    mu = x.sum(axis=0) / len(x)
    centred = x - mu
    var = np.einsum("nd,nd->d", centred, centred) / len(x)
    inv = 1.0 / np.sqrt(var + eps)
    x_hat = centred * inv
    bn_param["running_mean"] = momentum * bn_param["running_mean"] + (1 - momentum) * mu
    bn_param["running_var"] = momentum * bn_param["running_var"] + (1 - momentum) * var
    return gamma * x_hat + beta, {"x_hat": x_hat, "centred": centred, "std": 1.0 / inv, "gamma": gamma}
'''},
]

# A forward pass (correct) whose cache is a tuple, for backward variants that unpack one.
TUPLE_FORWARD = '''
def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    if bn_param["mode"] == "test":
        return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta, None
    sample_mean, sample_var = x.mean(axis=0), x.var(axis=0)
    x_hat = (x - sample_mean) / np.sqrt(sample_var + eps)
    bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * sample_mean
    bn_param["running_var"] = momentum * running_var + (1 - momentum) * sample_var
    return gamma * x_hat + beta, (x, sample_mean, sample_var, eps, gamma, x_hat)
'''
TUPLE_ALT = '''
def batchnorm_backward_alt(dout, cache):
    x, sample_mean, sample_var, eps, gamma, x_hat = cache
    N = x.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = gamma / np.sqrt(sample_var + eps) / N * (N * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta
'''
TUPLE_BACKWARD = '''
def batchnorm_backward(dout, cache):
    x, sample_mean, sample_var, eps, gamma, x_hat = cache
    N = x.shape[0]
    std = np.sqrt(sample_var + eps)
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * (x - sample_mean), axis=0) * -0.5 * std**-3
    dmean = -np.sum(dx_hat, axis=0) / std
    dx = dx_hat / std + dvar * 2 * (x - sample_mean) / N + dmean / N
    return dx, dgamma, dbeta
'''


def staged_backward(dgamma="(dout * x_hat).sum(axis=0)", dbeta="dout.sum(axis=0)",
                    dvar="(dx_hat * centred).sum(axis=0) * -0.5 * std**-3",
                    count="N") -> str:
    """A staged backward pass on the solution's dict cache, with one line changed."""
    return f'''
def batchnorm_backward(dout, cache):
    x_hat, centred, std, gamma = cache["x_hat"], cache["centred"], cache["std"], cache["gamma"]
    N, D = dout.shape
    dbeta = {dbeta}
    dgamma = {dgamma}
    dx_hat = dout * gamma
    dvar = {dvar}
    dmean = -dx_hat.sum(axis=0) / std
    dx = dx_hat / std + dvar * 2 * centred / {count} + dmean / {count}
    return dx, dgamma, dbeta
'''


def alt_backward(dx, dbeta="dout.sum(axis=0)", axis="0", std=None) -> str:
    """A closed-form backward pass on the solution's dict cache, with one part changed."""
    own_std = f"\n    std = {std}" if std else ""
    return f'''
def batchnorm_backward_alt(dout, cache):
    x_hat, centred, std, gamma = cache["x_hat"], cache["centred"], cache["std"], cache["gamma"]
    N, D = dout.shape{own_std}
    dbeta = {dbeta.replace("axis=0", f"axis={axis}")}
    dgamma = (dout * x_hat).sum(axis={axis})
    dx = {dx}
    return dx, dgamma, dbeta
'''


VARIANTS += [
    # ---- batchnorm_backward ---------------------------------------------------------------
    {"id": "bn_backward-cache-order", "function": "batchnorm_backward", "kind": "mistake",
     "description": "the tuple cache unpacked with the mean and the variance swapped",
     "expected": ["bn-backward/cache-unpacked-in-wrong-order"], "seen_in": "",
     "source": TUPLE_BACKWARD.replace("x, sample_mean, sample_var, eps, gamma, x_hat = cache",
                                      "x, sample_var, sample_mean, eps, gamma, x_hat = cache"),
     "others": {"batchnorm_forward": TUPLE_FORWARD, "batchnorm_backward_alt": TUPLE_ALT}},
    {"id": "bn_backward-dgamma-without-eps", "function": "batchnorm_backward", "kind": "mistake",
     "description": "dgamma recomputes x_hat with the std of the batch, without eps",
     "expected": ["bn-backward/dgamma-without-eps"], "seen_in": "",
     "source": staged_backward(
         dgamma="(dout * centred / np.sqrt((centred**2).mean(axis=0))).sum(axis=0)")},
    {"id": "bn_backward-dvar-power", "function": "batchnorm_backward", "kind": "mistake",
     "description": "dvar with std**-2 instead of std**-3 ((var + eps)**-1 for **-1.5)",
     "expected": ["bn-backward/dvar-wrong-power"], "seen_in": "",
     "source": staged_backward(dvar="(dx_hat * centred).sum(axis=0) * -0.5 * std**-2")},
    {"id": "bn_backward-dvar-no-half", "function": "batchnorm_backward", "kind": "mistake",
     "description": "dvar without the factor -0.5 (the derivative of the power forgotten)",
     "expected": ["bn-backward/dvar-missing-half"], "seen_in": "",
     "source": staged_backward(dvar="-(dx_hat * centred).sum(axis=0) * std**-3")},
    {"id": "bn_backward-divides-by-D", "function": "batchnorm_backward", "kind": "mistake",
     "description": "the mean and variance paths divided by D, the number of features",
     "expected": ["bn-backward/divides-by-D-not-N"], "seen_in": "",
     "source": staged_backward(count="D")},
    {"id": "bn_backward-dbeta-mean", "function": "batchnorm_backward", "kind": "mistake",
     "description": "dbeta and dgamma averaged over the batch instead of summed",
     "expected": ["bn-backward/mean-instead-of-sum"], "seen_in": "",
     "source": staged_backward(dgamma="(dout * x_hat).mean(axis=0)", dbeta="dout.mean(axis=0)")},
    {"id": "bn_backward-dgamma-centred", "function": "batchnorm_backward", "kind": "mistake",
     "description": "dgamma = sum(dout * (x - mean)), not sum(dout * x_hat)",
     "expected": ["bn-backward/dgamma-uses-centred"], "seen_in": "",
     "source": staged_backward(dgamma="(dout * centred).sum(axis=0)")},
    {"id": "bn_backward-correct-keepdims", "function": "batchnorm_backward", "kind": "correct",
     "description": "sums with keepdims=True: dgamma and dbeta of shape (1, D), exact values",
     "expected": [], "seen_in": "1FengL/cs231n",
     "source": staged_backward(dgamma="(dout * x_hat).sum(axis=0, keepdims=True)",
                               dbeta="dout.sum(axis=0, keepdims=True)")},
    {"id": "bn_backward-correct-tuple-cache", "function": "batchnorm_backward", "kind": "correct",
     "description": "a tuple cache (x, mean, var, eps, gamma, x_hat), its own forward and alt",
     "expected": [], "seen_in": "",
     "source": TUPLE_BACKWARD,
     "others": {"batchnorm_forward": TUPLE_FORWARD, "batchnorm_backward_alt": TUPLE_ALT}},
    # ---- batchnorm_backward_alt -----------------------------------------------------------
    {"id": "bn_alt-no-cross-sample-terms", "function": "batchnorm_backward_alt", "kind": "mistake",
     "description": "dx = gamma * dout / std: the mean and variance terms dropped",
     "expected": ["bn-alt/missing-cross-sample-terms"], "seen_in": "",
     "source": alt_backward("gamma * dout / std")},
    {"id": "bn_alt-dbeta-mean", "function": "batchnorm_backward_alt", "kind": "mistake",
     "description": "dbeta averaged instead of summed, and used so in dx",
     "expected": ["bn-alt/dbeta-mean-not-sum"], "seen_in": "",
     "source": alt_backward("gamma / std / N * (N * dout - dbeta - x_hat * dgamma)",
                            dbeta="dout.mean(axis=0)")},
    {"id": "bn_alt-x-hat-term-sign", "function": "batchnorm_backward_alt", "kind": "mistake",
     "description": "+ x_hat * dgamma inside the parentheses",
     "expected": ["bn-alt/x-hat-term-sign"], "seen_in": "",
     "source": alt_backward("gamma / std / N * (N * dout - dbeta + x_hat * dgamma)")},
    {"id": "bn_alt-std-without-eps", "function": "batchnorm_backward_alt", "kind": "mistake",
     "description": "the std recomputed from the centred data without eps",
     "expected": ["bn-alt/std-without-eps"], "seen_in": "",
     "source": alt_backward("gamma / std / N * (N * dout - dbeta - x_hat * dgamma)",
                            std="np.sqrt((centred**2).mean(axis=0))")},
    {"id": "bn_alt-divides-by-D", "function": "batchnorm_backward_alt", "kind": "mistake",
     "description": "1/D and D * dout in place of 1/N and N * dout",
     "expected": ["bn-alt/divides-by-D-not-N"], "seen_in": "",
     "source": alt_backward("gamma / std / D * (D * dout - dbeta - x_hat * dgamma)")},
    {"id": "bn_alt-sums-over-rows", "function": "batchnorm_backward_alt", "kind": "mistake",
     "description": "dgamma and dbeta summed over axis 1",
     "expected": ["bn-alt/sums-over-wrong-axis"], "seen_in": "",
     "source": alt_backward("gamma / std / N * (N * dout - dout.sum(axis=0) - x_hat * (dout * x_hat).sum(axis=0))",
                            axis="1")},
    {"id": "bn_alt-correct-dx-hat-means", "function": "batchnorm_backward_alt", "kind": "correct",
     "description": "dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / std",
     "expected": [], "seen_in": "",
     "source": alt_backward("(gamma * dout - (gamma * dout).mean(axis=0) - x_hat * (gamma * dout * x_hat).mean(axis=0)) / std")},
    # ---- zero_center ----------------------------------------------------------------------
    {"id": "zero_center-test-not-centred", "function": "zero_center", "kind": "mistake",
     "description": "only the training data is centred; X_test returned as it came",
     "expected": ["zc/test-not-centred"], "seen_in": "",
     "source": '''
def zero_center(X_train, X_test):
    mean = np.mean(X_train, axis=0)
    return X_train - mean, X_test
'''},
    {"id": "zero_center-median", "function": "zero_center", "kind": "mistake",
     "description": "the per-feature median instead of the mean",
     "expected": ["zc/median-not-mean"], "seen_in": "",
     "source": '''
def zero_center(X_train, X_test):
    centre = np.median(X_train, axis=0)
    return X_train - centre, X_test - centre
'''},
    {"id": "zero_center-mean-of-both", "function": "zero_center", "kind": "mistake",
     "description": "the mean of the training and test data together",
     "expected": ["zc/mean-of-train-and-test"], "seen_in": "",
     "source": '''
def zero_center(X_train, X_test):
    mean = np.concatenate([X_train, X_test]).mean(axis=0)
    return X_train - mean, X_test - mean
'''},
    {"id": "zero_center-wrong-count", "function": "zero_center", "kind": "mistake",
     "description": "the column sums divided by the number of test rows",
     "expected": ["zc/mean-divided-by-wrong-count"], "seen_in": "",
     "source": '''
def zero_center(X_train, X_test):
    mean = X_train.sum(axis=0) / X_test.shape[0]
    return X_train - mean, X_test - mean
'''},
    {"id": "zero_center-correct-average", "function": "zero_center", "kind": "correct",
     "description": "np.average over axis 0",
     "expected": [], "seen_in": "",
     "source": '''
def zero_center(X_train, X_test):
    mean = np.average(X_train, axis=0)
    return X_train - mean, X_test - mean
'''},
    # ---- standardize ----------------------------------------------------------------------
    {"id": "standardize-unbiased", "function": "standardize", "kind": "mistake",
     "description": "np.std(ddof=1): the unbiased standard deviation",
     "expected": ["standardize/unbiased-std"], "seen_in": "",
     "source": '''
def standardize(X_train, X_test, eps=1e-8):
    mean = X_train.mean(axis=0)
    std = np.sqrt(X_train.var(axis=0, ddof=1) + eps)
    return (X_train - mean) / std, (X_test - mean) / std
'''},
    {"id": "standardize-no-eps", "function": "standardize", "kind": "mistake",
     "description": "divides by np.std, eps unused",
     "expected": ["standardize/no-eps"], "seen_in": "",
     "source": '''
def standardize(X_train, X_test, eps=1e-8):
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    return (X_train - mean) / std, (X_test - mean) / std
'''},
    {"id": "standardize-eps-after-division", "function": "standardize", "kind": "mistake",
     "description": "missing parentheses: (X - mean) / sqrt(var) + eps",
     "expected": ["standardize/eps-added-after-division"], "seen_in": "",
     "source": '''
def standardize(X_train, X_test, eps=1e-8):
    mean, var = X_train.mean(axis=0), X_train.var(axis=0)
    return (X_train - mean) / np.sqrt(var) + eps, (X_test - mean) / np.sqrt(var) + eps
'''},
    {"id": "standardize-test-not-scaled", "function": "standardize", "kind": "mistake",
     "description": "the test data centred but not divided by the std",
     "expected": ["standardize/test-not-scaled"], "seen_in": "",
     "source": '''
def standardize(X_train, X_test, eps=1e-8):
    mean = X_train.mean(axis=0)
    scale = np.sqrt(X_train.var(axis=0) + eps)
    return (X_train - mean) / scale, X_test - mean
'''},
    {"id": "standardize-range", "function": "standardize", "kind": "mistake",
     "description": "divided by max - min instead of the standard deviation",
     "expected": ["standardize/range-not-std"], "seen_in": "",
     "source": '''
def standardize(X_train, X_test, eps=1e-8):
    mean = X_train.mean(axis=0)
    spread = X_train.max(axis=0) - X_train.min(axis=0) + eps
    return (X_train - mean) / spread, (X_test - mean) / spread
'''},
    {"id": "standardize-default-eps-1e-5", "function": "standardize", "kind": "mistake",
     "description": "default eps 1e-5 instead of 1e-8",
     "expected": ["standardize/wrong-default-eps"], "seen_in": "",
     "source": '''
def standardize(X_train, X_test, eps=1e-5):
    mean = X_train.mean(axis=0)
    scale = np.sqrt(X_train.var(axis=0) + eps)
    return (X_train - mean) / scale, (X_test - mean) / scale
'''},
    # ---- pca_project ----------------------------------------------------------------------
    {"id": "pca-components-from-raw-data", "function": "pca_project", "kind": "mistake",
     "description": "SVD of the uncentred data, then the centred data projected",
     "expected": ["pca/components-from-uncentred-data"], "seen_in": "",
     "source": '''
def pca_project(X_train, X_test, k):
    mean = X_train.mean(axis=0)
    _, _, vt = np.linalg.svd(X_train, full_matrices=False)
    top = vt[:k].T
    return (X_train - mean) @ top, (X_test - mean) @ top
'''},
    {"id": "pca-vt-not-transposed", "function": "pca_project", "kind": "mistake",
     "description": "vt[:k] reshaped to (D, k) instead of transposed",
     "expected": ["pca/svd-components-not-transposed"], "seen_in": "",
     "source": '''
def pca_project(X_train, X_test, k):
    mean = X_train.mean(axis=0)
    _, _, vt = np.linalg.svd(X_train - mean, full_matrices=False)
    top = vt[:k]
    return (X_train - mean) @ top.reshape(-1, k), (X_test - mean) @ top.reshape(-1, k)
'''},
    {"id": "pca-ascending-order", "function": "pca_project", "kind": "mistake",
     "description": "the k largest components, but in eigh's ascending order",
     "expected": ["pca/components-in-ascending-order"], "seen_in": "",
     "source": '''
def pca_project(X_train, X_test, k):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    top = vectors[:, np.argsort(values)[-k:]]
    return (X_train - mean) @ top, (X_test - mean) @ top
'''},
    {"id": "pca-k-plus-one", "function": "pca_project", "kind": "mistake",
     "description": "keeps k + 1 components",
     "expected": ["pca/keeps-k-plus-1-components"], "seen_in": "",
     "source": '''
def pca_project(X_train, X_test, k):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    top = vectors[:, np.argsort(values)[::-1][:k + 1]]
    return (X_train - mean) @ top, (X_test - mean) @ top
'''},
    {"id": "pca-standardized-first", "function": "pca_project", "kind": "mistake",
     "description": "the data standardized (divided by its std) before PCA",
     "expected": ["pca/data-standardized-first"], "seen_in": "",
     "source": '''
def pca_project(X_train, X_test, k):
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    Z = (X_train - mean) / std
    values, vectors = np.linalg.eigh(Z.T @ Z / len(Z))
    top = vectors[:, np.argsort(values)[::-1][:k]]
    return Z @ top, ((X_test - mean) / std) @ top
'''},
    {"id": "pca-correct-cov-n-minus-1", "function": "pca_project", "kind": "correct",
     "description": "np.cov's default (N - 1): the same eigenvectors",
     "expected": [], "seen_in": "",
     "source": '''
def pca_project(X_train, X_test, k):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train, rowvar=False))
    top = vectors[:, ::-1][:, :k]
    return (X_train - mean) @ top, (X_test - mean) @ top
'''},
    # ---- whiten ---------------------------------------------------------------------------
    {"id": "whiten-eps-outside-sqrt", "function": "whiten", "kind": "mistake",
     "description": "sqrt(eigenvalue) + eps",
     "expected": ["whiten/eps-outside-sqrt"], "seen_in": "",
     "source": '''
def whiten(X_train, X_test, eps=1e-5):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    order = np.argsort(values)[::-1]
    scale = vectors[:, order] / (np.sqrt(values[order]) + eps)
    return (X_train - mean) @ scale, (X_test - mean) @ scale
'''},
    {"id": "whiten-no-eps", "function": "whiten", "kind": "mistake",
     "description": "divided by sqrt(eigenvalue), eps unused",
     "expected": ["whiten/no-eps"], "seen_in": "",
     "source": '''
def whiten(X_train, X_test, eps=1e-5):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    order = np.argsort(values)[::-1]
    scale = vectors[:, order] / np.sqrt(values[order])
    return (X_train - mean) @ scale, (X_test - mean) @ scale
'''},
    {"id": "whiten-zca", "function": "whiten", "kind": "mistake",
     "description": "ZCA: the whitened data rotated back with U.T",
     "expected": ["whiten/zca-rotated-back"], "seen_in": "",
     "source": '''
def whiten(X_train, X_test, eps=1e-5):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    order = np.argsort(values)[::-1]
    U, lam = vectors[:, order], values[order]
    W = U / np.sqrt(lam + eps) @ U.T
    return (X_train - mean) @ W, (X_test - mean) @ W
'''},
    {"id": "whiten-singular-values", "function": "whiten", "kind": "mistake",
     "description": "s / N used as the eigenvalues instead of s**2 / N",
     "expected": ["whiten/singular-values-as-eigenvalues"], "seen_in": "",
     "source": '''
def whiten(X_train, X_test, eps=1e-5):
    mean = X_train.mean(axis=0)
    _, s, vt = np.linalg.svd(X_train - mean, full_matrices=False)
    values = s / len(X_train)
    scale = vt.T / np.sqrt(values + eps)
    return (X_train - mean) @ scale, (X_test - mean) @ scale
'''},
    {"id": "whiten-test-not-centred", "function": "whiten", "kind": "mistake",
     "description": "the test data rotated and scaled without subtracting the mean",
     "expected": ["whiten/test-not-centred"], "seen_in": "",
     "source": '''
def whiten(X_train, X_test, eps=1e-5):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    order = np.argsort(values)[::-1]
    scale = vectors[:, order] / np.sqrt(values[order] + eps)
    return (X_train - mean) @ scale, X_test @ scale
'''},
    {"id": "whiten-multiplies-by-std", "function": "whiten", "kind": "mistake",
     "description": "multiplied by sqrt(eigenvalue + eps) instead of divided",
     "expected": ["whiten/multiplies-by-std"], "seen_in": "",
     "source": '''
def whiten(X_train, X_test, eps=1e-5):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    order = np.argsort(values)[::-1]
    scale = vectors[:, order] * np.sqrt(values[order] + eps)
    return (X_train - mean) @ scale, (X_test - mean) @ scale
'''},
    {"id": "whiten-default-eps-1e-8", "function": "whiten", "kind": "mistake",
     "description": "default eps 1e-8 instead of 1e-5",
     "expected": ["whiten/wrong-default-eps"], "seen_in": "",
     "source": '''
def whiten(X_train, X_test, eps=1e-8):
    mean = X_train.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(X_train.T, bias=True))
    order = np.argsort(values)[::-1]
    scale = vectors[:, order] / np.sqrt(values[order] + eps)
    return (X_train - mean) @ scale, (X_test - mean) @ scale
'''},
]

ASSIGNMENTS = {
    "optimizers": ("sgd_momentum", "nesterov_momentum", "adagrad", "rmsprop", "adam"),
    "batchnorm": ("batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt"),
    "preprocessing": ("zero_center", "standardize", "pca_project", "whiten"),
}


def assignment_of(function: str) -> str:
    return next(a for a, functions in ASSIGNMENTS.items() if function in functions)
