"""Known wrong variants of the optimizer updates, and correct forms that look different.

Every mistake must lose points on its own function (and only there) in the hidden suite;
every alternative must earn full marks. The project's tests prove both for the whole list.
"""
from ..mistakes import Variant

MISTAKES = (
    Variant("sgd_momentum", "sign flipped", "the velocity adds the gradient", """
def sgd_momentum(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2); config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) + config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config
"""),
    Variant("sgd_momentum", "EMA form", "v = mu*v - (1-mu)*lr*dw damps the gradient", """
def sgd_momentum(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2); config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    v = mu * config.get("velocity", np.zeros_like(w)) - (1 - mu) * config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config
"""),
    Variant("sgd_momentum", "velocity not saved", "the new velocity never reaches config", """
def sgd_momentum(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2); config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    return w + v, config
"""),
    Variant("sgd_momentum", "friction reversed", "the old velocity is scaled by 1 - mu", """
def sgd_momentum(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2); config.setdefault("momentum", 0.9)
    v = (1 - config["momentum"]) * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config
"""),
    Variant("nesterov_momentum", "plain momentum", "next_w = w + v, no look-ahead", """
def nesterov_momentum(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2); config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config
"""),
    Variant("nesterov_momentum", "missing -mu*v_prev", "next_w = w + (1+mu)*v", """
def nesterov_momentum(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2); config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    v = mu * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + (1 + mu) * v, config
"""),
    Variant("adagrad", "decaying cache", "the cache is a moving average (that is RMSProp)", """
def adagrad(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2); config.setdefault("epsilon", 1e-8)
    cache = 0.99 * config.get("cache", np.zeros_like(w)) + 0.01 * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
"""),
    Variant("rmsprop", "epsilon inside the square root", "sqrt(cache + eps)", """
def rmsprop(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2); config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / np.sqrt(cache + config["epsilon"]), config
"""),
    Variant("rmsprop", "decay reversed", "the old cache weighted by 1 - decay_rate", """
def rmsprop(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2); config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = (1 - d) * config.get("cache", np.zeros_like(w)) + d * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
"""),
    Variant("rmsprop", "no square root", "dividing by the cache itself", """
def rmsprop(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2); config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw**2
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (cache + config["epsilon"]), config
"""),
    Variant("rmsprop", "cache not saved", "the new cache never reaches config", """
def rmsprop(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2); config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    d = config["decay_rate"]
    cache = d * config.get("cache", np.zeros_like(w)) + (1 - d) * dw**2
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
"""),
    Variant("adam", "no bias correction", "m and v used as they are", """
def adam(w, dw, config=None):
    config = {} if config is None else config
    for key, value in dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8).items():
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    config.update(m=m, v=v, t=t)
    return w - config["learning_rate"] * m / (np.sqrt(v) + config["epsilon"]), config
"""),
    Variant("adam", "t incremented after use", "the first step uses t = 0", """
def adam(w, dw, config=None):
    config = {} if config is None else config
    for key, value in dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8).items():
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0)
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    mt, vt = m / (1 - b1**t), v / (1 - b2**t)
    config.update(m=m, v=v, t=t + 1)
    return w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"]), config
"""),
    Variant("adam", "(1-beta)**t", "the correction divides by (1 - beta)**t", """
def adam(w, dw, config=None):
    config = {} if config is None else config
    for key, value in dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8).items():
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    mt, vt = m / (1 - b1)**t, v / (1 - b2)**t
    config.update(m=m, v=v, t=t)
    return w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"]), config
"""),
    Variant("adam", "epsilon inside the square root", "sqrt(vt + eps)", """
def adam(w, dw, config=None):
    config = {} if config is None else config
    for key, value in dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8).items():
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    mt, vt = m / (1 - b1**t), v / (1 - b2**t)
    config.update(m=m, v=v, t=t)
    return w - config["learning_rate"] * mt / np.sqrt(vt + config["epsilon"]), config
"""),
    Variant("adam", "corrected moments stored", "config keeps mt and vt instead of m and v", """
def adam(w, dw, config=None):
    config = {} if config is None else config
    for key, value in dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8).items():
        config.setdefault(key, value)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    mt, vt = m / (1 - b1**t), v / (1 - b2**t)
    config.update(m=mt, v=vt, t=t)
    return w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"]), config
"""),
)

HINTS = {
    ("sgd_momentum", "sign flipped"):
        "The velocity must point downhill: v = momentum * v - learning_rate * dw, with a minus "
        "before the gradient term.",
    ("sgd_momentum", "EMA form"):
        "In this convention the gradient enters with the learning rate alone, not (1 - momentum) "
        "times it: the velocity is a running sum that builds up speed, not an average.",
    ("sgd_momentum", "velocity not saved"):
        "Store the new velocity in config['velocity']: without it every step starts from rest "
        "and momentum never builds up.",
    ("sgd_momentum", "friction reversed"):
        "momentum is the fraction of the old velocity that survives the friction (0.9), so the "
        "old velocity is multiplied by momentum, not 1 - momentum.",
    ("nesterov_momentum", "plain momentum"):
        "Nesterov looks ahead: with w as the look-ahead point the step is "
        "-momentum * v_prev + (1 + momentum) * v, not v.",
    ("nesterov_momentum", "missing -mu*v_prev"):
        "The change of variables moves the look-ahead point back by momentum * v_prev before "
        "adding (1 + momentum) * v.",
    ("adagrad", "decaying cache"):
        "AdaGrad never forgets: cache += dw**2. A decaying average is RMSProp's idea.",
    ("rmsprop", "epsilon inside the square root"):
        "Add epsilon after the square root: sqrt(cache) + epsilon. Inside it, a tiny cache gives "
        "a step far too small.",
    ("rmsprop", "decay reversed"):
        "decay_rate (0.99) is the weight of the old cache; the new squared gradient gets "
        "1 - decay_rate.",
    ("rmsprop", "no square root"):
        "Divide by the root mean square: sqrt(cache) + epsilon. The cache holds squared "
        "gradients, so without the root the step has the wrong units.",
    ("rmsprop", "cache not saved"):
        "Store the new cache in config['cache']: RMSProp's average lives across steps.",
    ("adam", "no bias correction"):
        "Both moments start at zero, so early on they are too small: divide m by 1 - beta1**t "
        "and v by 1 - beta2**t before the step.",
    ("adam", "t incremented after use"):
        "Increment t before using it: the first step has t = 1, so 1 - beta**t is not 0.",
    ("adam", "(1-beta)**t"):
        "The bias correction divides by 1 - beta**t (beta to the power t), not by (1 - beta)**t.",
    ("adam", "epsilon inside the square root"):
        "Add epsilon after the square root: sqrt(vt) + epsilon.",
    ("adam", "corrected moments stored"):
        "Keep the raw moments m and v in config; the corrected mt and vt are for this step only.",
}

ALTERNATIVES = (
    Variant("sgd_momentum", "in place", "w and the velocity updated in place", """
def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.setdefault("velocity", np.zeros_like(w))
    v *= config["momentum"]
    v -= config["learning_rate"] * dw
    w += v
    return w, config
"""),
    Variant("sgd_momentum", "PyTorch buffer", "buf = mu*buf + dw; w -= lr*buf; v = -lr*buf", """
def sgd_momentum(w, dw, config=None):
    if config is None:
        config = {}
    lr = config.setdefault("learning_rate", 1e-2)
    mu = config.setdefault("momentum", 0.9)
    buf = -config.get("velocity", np.zeros_like(w)) / lr
    buf = mu * buf + dw
    config["velocity"] = -lr * buf
    return w - lr * buf, config
"""),
    Variant("sgd_momentum", "fresh config", "a new dict is returned, the input untouched", """
def sgd_momentum(w, dw, config=None):
    old = dict(config or {})
    new = {"learning_rate": old.get("learning_rate", 1e-2), "momentum": old.get("momentum", 0.9)}
    v = new["momentum"] * old.get("velocity", np.zeros_like(w)) - new["learning_rate"] * dw
    new["velocity"] = v
    return w + v, new
"""),
    Variant("nesterov_momentum", "PyTorch nesterov", "buf = mu*buf + dw; w -= lr*(dw + mu*buf)", """
def nesterov_momentum(w, dw, config=None):
    if config is None:
        config = {}
    lr = config.setdefault("learning_rate", 1e-2)
    mu = config.setdefault("momentum", 0.9)
    buf = -config.get("velocity", np.zeros_like(w)) / lr
    buf = mu * buf + dw
    config["velocity"] = -lr * buf
    return w - lr * (dw + mu * buf), config
"""),
    Variant("nesterov_momentum", "in place", "w updated in place", """
def nesterov_momentum(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    mu = config["momentum"]
    v_prev = config.get("velocity", np.zeros_like(w))
    v = mu * v_prev - config["learning_rate"] * dw
    w -= mu * v_prev
    w += (1 + mu) * v
    config["velocity"] = v
    return w, config
"""),
    Variant("adagrad", "in place", "the cache and w updated in place", """
def adagrad(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    cache = config.setdefault("cache", np.zeros_like(w))
    cache += dw * dw
    w -= config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    return w, config
"""),
    Variant("rmsprop", "fresh config", "a new dict is returned", """
def rmsprop(w, dw, config=None):
    old = dict(config or {})
    new = {"learning_rate": old.get("learning_rate", 1e-2),
           "decay_rate": old.get("decay_rate", 0.99), "epsilon": old.get("epsilon", 1e-8)}
    d = new["decay_rate"]
    new["cache"] = d * old.get("cache", np.zeros_like(w)) + (1 - d) * np.square(dw)
    return w - new["learning_rate"] * dw / (np.sqrt(new["cache"]) + new["epsilon"]), new
"""),
    Variant("adam", "in place", "moments and w updated in place", """
def adam(w, dw, config=None):
    if config is None:
        config = {}
    for key, value in dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-8).items():
        config.setdefault(key, value)
    m = config.setdefault("m", np.zeros_like(w))
    v = config.setdefault("v", np.zeros_like(w))
    config["t"] = config.get("t", 0) + 1
    b1, b2, t = config["beta1"], config["beta2"], config["t"]
    m *= b1
    m += (1 - b1) * dw
    v *= b2
    v += (1 - b2) * dw**2
    step = config["learning_rate"] * np.sqrt(1 - b2**t) / (1 - b1**t)
    w -= step * m / (np.sqrt(v) + config["epsilon"] * np.sqrt(1 - b2**t))
    return w, config
"""),
)
