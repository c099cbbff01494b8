"""Known wrong variants of batch normalization, and correct forms that look different.

Backward variants read the reference forward pass's cache: a dict with x_hat, centred, std
and gamma. A variant with another cache layout replaces all three cells.
"""
from ..mistakes import Variant

FORWARD = '''
def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D))
    running_var = bn_param.get("running_var", np.zeros(D))
    cache = None
    if mode == "train":
        mean = x.mean(axis=0)
        centred = x - mean
        var = {var}
        std = {std}
        x_hat = centred / std
        out = gamma * x_hat + beta
        cache = {{"x_hat": x_hat, "centred": centred, "std": std, "gamma": gamma}}
        running_mean = {running_mean}
        running_var = {running_var}
    else:
        out = {test_out}
    {write_back}
    return out, cache
'''
RIGHT = dict(
    var="(centred**2).mean(axis=0)",
    std="np.sqrt(var + eps)",
    running_mean="momentum * running_mean + (1 - momentum) * mean",
    running_var="momentum * running_var + (1 - momentum) * var",
    test_out="gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta",
    write_back='bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var',
)


def forward(**changes) -> str:
    return FORWARD.format(**{**RIGHT, **changes})


BACKWARD = '''
def batchnorm_backward(dout, cache):
    x_hat, centred, std, gamma = cache["x_hat"], cache["centred"], cache["std"], cache["gamma"]
    N = dout.shape[0]
    dbeta = dout.sum(axis={axis})
    dgamma = (dout * x_hat).sum(axis={axis})
    dx_hat = {dx_hat}
    dvar = (dx_hat * centred).sum(axis=0) * -0.5 * std**-3
    dmean = -dx_hat.sum(axis=0) / std{var_to_mean}
    dx = dx_hat / std{variance_path}{mean_path}
    return dx, dgamma, dbeta
'''
RIGHT_BACKWARD = dict(axis="0", dx_hat="dout * gamma", var_to_mean="",
                      variance_path=" + dvar * 2 * centred / N", mean_path=" + dmean / N")


def backward(**changes) -> str:
    return BACKWARD.format(**{**RIGHT_BACKWARD, **changes})


ALT = '''
def batchnorm_backward_alt(dout, cache):
    x_hat, std, gamma = cache["x_hat"], cache["std"], cache["gamma"]
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = {dx}
    return dx, dgamma, dbeta
'''

MISTAKES = (
    Variant("batchnorm_forward", "unbiased variance", "the batch variance divided by N - 1",
            forward(var="x.var(axis=0, ddof=1)")),
    Variant("batchnorm_forward", "running weights reversed", "the new batch gets weight momentum",
            forward(running_mean="(1 - momentum) * running_mean + momentum * mean",
                    running_var="(1 - momentum) * running_var + momentum * var")),
    Variant("batchnorm_forward", "batch statistics in test mode",
            "test mode normalizes with the test batch's own mean and variance",
            forward(test_out="gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps) + beta")),
    Variant("batchnorm_forward", "test mode without gamma and beta", "the scale and shift forgotten",
            forward(test_out="(x - running_mean) / np.sqrt(running_var + eps)")),
    Variant("batchnorm_forward", "running statistics not written back",
            "bn_param never gets the new running averages", forward(write_back="pass")),
    Variant("batchnorm_forward", "epsilon outside the square root", "sqrt(var) + eps",
            forward(std="np.sqrt(var) + eps")),
    Variant("batchnorm_forward", "mean over the wrong axis", "statistics per row, not per feature",
            forward(var="(centred**2).mean(axis=0)").replace(
                "mean = x.mean(axis=0)", "mean = x.mean(axis=1, keepdims=True)")),
    Variant("batchnorm_backward", "missing the mean path", "dx without dmean / N",
            backward(mean_path="")),
    Variant("batchnorm_backward", "missing the variance path", "dx without the dvar term",
            backward(variance_path="")),
    Variant("batchnorm_backward", "missing gamma", "dx_hat = dout, not dout * gamma",
            backward(dx_hat="dout")),
    Variant("batchnorm_backward", "summing over the wrong axis", "dgamma and dbeta summed per row",
            backward(axis="1")),
    Variant("batchnorm_backward_alt", "missing 1/N", "the closed form without the division by N",
            ALT.format(dx="gamma / std * (N * dout - dbeta - x_hat * dgamma)")),
    Variant("batchnorm_backward_alt", "missing the x_hat term", "dx without - x_hat * dgamma",
            ALT.format(dx="gamma / std / N * (N * dout - dbeta)")),
    Variant("batchnorm_backward_alt", "missing gamma", "dx without the factor gamma",
            ALT.format(dx="1 / std / N * (N * dout - dbeta - x_hat * dgamma)")),
)

TUPLE_CACHE = (
    ("batchnorm_forward", '''
def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.setdefault("eps", 1e-5)
    momentum = bn_param.setdefault("momentum", 0.9)
    mean_run = bn_param.setdefault("running_mean", np.zeros(x.shape[1]))
    var_run = bn_param.setdefault("running_var", np.zeros(x.shape[1]))
    if bn_param["mode"] == "test":
        return gamma * (x - mean_run) / np.sqrt(var_run + eps) + beta, None
    mu, var = np.mean(x, axis=0), np.var(x, axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    bn_param["running_mean"] = momentum * mean_run + (1 - momentum) * mu
    bn_param["running_var"] = momentum * var_run + (1 - momentum) * var
    return gamma * x_hat + beta, (x, mu, var, eps, gamma, inv_std, x_hat)
'''),
    ("batchnorm_backward_alt", '''
def batchnorm_backward_alt(dout, cache):
    x, mu, var, eps, gamma, inv_std, x_hat = cache
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dx = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
'''),
)

HINTS = {
    ("batchnorm_forward", "unbiased variance"):
        "Use the biased batch variance, dividing by N (np.var's default), for normalizing and "
        "for the running average.",
    ("batchnorm_forward", "running weights reversed"):
        "momentum (0.9) is the weight of the old running average; the new batch gets 1 - momentum.",
    ("batchnorm_forward", "batch statistics in test mode"):
        "Test mode normalizes with running_mean and running_var, never the test batch's own "
        "statistics: the output must not depend on the rest of the batch.",
    ("batchnorm_forward", "test mode without gamma and beta"):
        "Test mode applies the learned scale and shift too: gamma * x_hat + beta.",
    ("batchnorm_forward", "running statistics not written back"):
        "Write the updated running_mean and running_var back into bn_param, or test mode has "
        "nothing to use.",
    ("batchnorm_forward", "epsilon outside the square root"):
        "eps goes inside the square root: sqrt(var + eps).",
    ("batchnorm_forward", "mean over the wrong axis"):
        "Batch statistics are per feature, over the N rows of the batch: axis 0.",
    ("batchnorm_backward", "missing the mean path"):
        "x also reaches the loss through the batch mean: add dmean / N to dx.",
    ("batchnorm_backward", "missing the variance path"):
        "x also reaches the loss through the batch variance: add dvar * 2 * (x - mean) / N.",
    ("batchnorm_backward", "missing gamma"):
        "out = gamma * x_hat + beta, so dx_hat = dout * gamma.",
    ("batchnorm_backward", "summing over the wrong axis"):
        "dgamma and dbeta sum over the batch (axis 0): one value per feature, shape (D,).",
    ("batchnorm_backward_alt", "missing 1/N"):
        "The closed form has a factor 1 / N: gamma / sqrt(var + eps) / N * (...).",
    ("batchnorm_backward_alt", "missing the x_hat term"):
        "The closed form subtracts x_hat * dgamma inside the parentheses: the variance path.",
    ("batchnorm_backward_alt", "missing gamma"):
        "The closed form starts with gamma / sqrt(var + eps).",
}

ALTERNATIVES = (
    Variant("batchnorm_backward", "without the variance-to-mean term",
            "dmean = -sum(dx_hat) / std only: the dropped term is zero", backward()),
    Variant("batchnorm_backward", "with the variance-to-mean term",
            "dmean includes dvar * mean(-2 * centred), which is zero",
            backward(var_to_mean=" + dvar * np.mean(-2 * centred, axis=0)")),
    Variant("batchnorm_backward", "another cache layout", "a tuple cache and 1 / std kept", '''
def batchnorm_backward(dout, cache):
    x, mu, var, eps, gamma, inv_std, x_hat = cache
    N = x.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * (x - mu), axis=0) * -0.5 * inv_std**3
    dmu = np.sum(-dx_hat * inv_std, axis=0) + dvar * np.mean(-2.0 * (x - mu), axis=0)
    dx = dx_hat * inv_std + dvar * 2.0 * (x - mu) / N + dmu / N
    return dx, dgamma, dbeta
''', others=TUPLE_CACHE),
    Variant("batchnorm_forward", "setdefault and np.var", "bn_param.setdefault, np.var, in place",
            TUPLE_CACHE[0][1], others=(
                ("batchnorm_backward", backward().replace(
                    'x_hat, centred, std, gamma = cache["x_hat"], cache["centred"], cache["std"], cache["gamma"]',
                    "x, mu, var, eps, gamma, inv_std, x_hat = cache\n    centred, std = x - mu, 1 / inv_std")),
                TUPLE_CACHE[1])),
)
