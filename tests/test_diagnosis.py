"""Diagnosis by experiment: the probes and formula families name mistakes the catalog has
never seen, several at once, and nothing for a right answer.

Development variants are written here (none is in tests/heldout/, which measures the rate
in benchmarks/diagnosis_rate.py). They are trusted code run in the test process, as the
reference is; in grading, learner code runs only in the sandbox.
"""
from __future__ import annotations

import pytest

from autograder.diagnosis import diagnosable, diagnose_function, probe_cases
from autograder.diagnosis.margins import worst_margins
from autograder.kit.checks import CallFailed, Check, run_case
from autograder.mistakes import catalog
from autograder.reference import reference_functions
from autograder.results import FunctionResult, GroupResult
from autograder.suites import SUITES

ASSIGNMENT_OF = {spec.name: a for a in ("optimizers", "batchnorm", "preprocessing")
                 for spec in SUITES[a].functions}


def probe_traces(function: str, cells: list[tuple[str, str]]) -> list:
    assignment = ASSIGNMENT_OF[function]
    namespace = {**reference_functions(assignment), "__name__": "development"}
    exec(SUITES[assignment].prelude, namespace)
    for grade_id, source in cells:
        exec(compile(source, f"<answer cell {grade_id}>", "exec"), namespace)
    traces = []
    for case in probe_cases(assignment, function):
        try:
            traces.append(run_case(namespace[function], case, namespace))
        except CallFailed:
            traces.append(None)
    return traces


def explanation(function: str, source: str, *others: tuple[str, str]):
    cells = [(function, source), *others]
    return diagnose_function(ASSIGNMENT_OF[function], function, probe_traces(function, cells))


ADAM_HEAD = '''
def adam(w, dw, config=None):
    if config is None: config = {}
    config.setdefault("learning_rate", LR); config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999); config.setdefault("epsilon", 1e-8)
    b1, b2 = config["beta1"], config["beta2"]
'''


def adam(body: str, lr: str = "1e-3") -> str:
    return ADAM_HEAD.replace("LR", lr) + body


RIGHT_ADAM_BODY = '''
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * dw**2
    mt, vt = m / (1 - b1**t), v / (1 - b2**t)
    config.update(m=m, v=v, t=t)
    return w - config["learning_rate"] * mt / (np.sqrt(vt) + config["epsilon"]), config
'''

# (function, source, other cells, the deviations a right diagnosis names)
DEVELOPMENT = {
    "adam t defaults to 1": ("adam", adam(RIGHT_ADAM_BODY.replace('get("t", 0)', 'get("t", 1)')),
                             (), {("t default", 1)}),
    "adam without correction, t never stored": (
        "adam", adam(RIGHT_ADAM_BODY.replace("mt, vt = m / (1 - b1**t), v / (1 - b2**t)",
                                             "mt, vt = m, v").replace("v=v, t=t", "v=v")),
        (), {("correction", "none"), ("t stored", "not stored, absent")}),
    "adam 1 - (1 - beta)**t": (
        "adam", adam(RIGHT_ADAM_BODY.replace("(1 - b1**t)", "(1 - (1 - b1)**t)")
                     .replace("(1 - b2**t)", "(1 - (1 - b2)**t)")),
        (), {("correction", "1-(1-b)**t")}),
    "adam epsilon hard-coded": ("adam", adam(RIGHT_ADAM_BODY.replace('config["epsilon"]', "1e-8")),
                                (), {("reads epsilon", False)}),
    "adam default learning rate 1e-2": ("adam", adam(RIGHT_ADAM_BODY, lr="1e-2"), (),
                                        {("default learning_rate", 1e-2)}),
    "sgd_momentum takes Nesterov's step": ("sgd_momentum", '''
def sgd_momentum(w, dw, config=None):
    config = config if config is not None else {}
    lr = config.setdefault("learning_rate", 1e-2); mu = config.setdefault("momentum", 0.9)
    old = config.get("velocity", np.zeros_like(w))
    config["velocity"] = mu * old - lr * dw
    return w - mu * old + (1 + mu) * config["velocity"], config
''', (), {("step", "nesterov")}),
    "rmsprop decay rate hard-coded": ("rmsprop", '''
def rmsprop(w, dw, config=None):
    config = config if config is not None else {}
    for key, value in (("learning_rate", 1e-2), ("decay_rate", 0.99), ("epsilon", 1e-8)):
        config.setdefault(key, value)
    cache = 0.99 * config.get("cache", np.zeros_like(w)) + 0.01 * dw * dw
    config["cache"] = cache
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"]), config
''', (), {("reads decay_rate", False)}),
    "adagrad divides by the cache before the update": ("adagrad", '''
def adagrad(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2); config.setdefault("epsilon", 1e-8)
    old = config.get("cache", np.zeros_like(w))
    config["cache"] = old + dw**2
    return w - config["learning_rate"] * dw / (np.sqrt(old) + config["epsilon"]), config
''', (), {("cache used", "old")}),
    "batch norm running_var keeps var + eps": ("batchnorm_forward", '''
def batchnorm_forward(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    rm = bn_param.get("running_mean", np.zeros(x.shape[1]))
    rv = bn_param.get("running_var", np.zeros(x.shape[1]))
    if bn_param["mode"] == "train":
        mu, var = x.mean(0), x.var(0) + eps
        out = gamma * (x - mu) / np.sqrt(var) + beta
        bn_param["running_mean"] = momentum * rm + (1 - momentum) * mu
        bn_param["running_var"] = momentum * rv + (1 - momentum) * var
        return out, None
    return gamma * (x - rm) / np.sqrt(rv + eps) + beta, None
''', (), {("running var", "var+eps")}),
    "batch norm test mode puts eps after the root": ("batchnorm_forward", '''
def batchnorm_forward(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    rm = bn_param.setdefault("running_mean", np.zeros(x.shape[1]))
    rv = bn_param.setdefault("running_var", np.zeros(x.shape[1]))
    if bn_param["mode"] == "train":
        mu, var = x.mean(0), x.var(0)
        bn_param["running_mean"] = momentum * rm + (1 - momentum) * mu
        bn_param["running_var"] = momentum * rv + (1 - momentum) * var
        return gamma * (x - mu) / np.sqrt(var + eps) + beta, None
    return gamma * (x - rm) / (np.sqrt(rv) + eps) + beta, None
''', (), {("test eps", "outside")}),
    "batchnorm_backward's dgamma without eps": ("batchnorm_backward", '''
def batchnorm_backward(dout, cache):
    x_hat, centred, std, gamma = cache["x_hat"], cache["centred"], cache["std"], cache["gamma"]
    N = dout.shape[0]
    dgamma = (dout * centred / np.sqrt((centred**2).mean(0))).sum(0)
    dx_hat = dout * gamma
    dx = (N * dx_hat - dx_hat.sum(0) - x_hat * (dx_hat * x_hat).sum(0)) / (N * std)
    return dx, dgamma, dout.sum(0)
''', (), {("dgamma", "x_hat no eps")}),
    "batchnorm_backward_alt keeps only the first term": ("batchnorm_backward_alt", '''
def batchnorm_backward_alt(dout, cache):
    x_hat, std, gamma = cache["x_hat"], cache["std"], cache["gamma"]
    return gamma * dout / std, (dout * x_hat).sum(0), dout.sum(0)
''', (), {("cross terms", "neither")}),
    "batchnorm_backward reads var where std was packed": ("batchnorm_backward", '''
def batchnorm_backward(dout, cache):
    x, x_hat, mean, std, var, gamma = cache
    N = dout.shape[0]
    dx_hat = dout * gamma
    dvar = (dx_hat * (x - mean)).sum(0) * -0.5 * std**-3
    dmean = -dx_hat.sum(0) / std
    dx = dx_hat / std + dvar * 2 * (x - mean) / N + dmean / N
    return dx, (dout * x_hat).sum(0), dout.sum(0)
''', (("batchnorm_forward", '''
def batchnorm_forward(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    rm = bn_param.get("running_mean", np.zeros(x.shape[1]))
    rv = bn_param.get("running_var", np.zeros(x.shape[1]))
    if bn_param["mode"] == "test":
        return gamma * (x - rm) / np.sqrt(rv + eps) + beta, None
    mean, var = x.mean(0), x.var(0)
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    bn_param["running_mean"] = momentum * rm + (1 - momentum) * mean
    bn_param["running_var"] = momentum * rv + (1 - momentum) * var
    return gamma * x_hat + beta, (x, x_hat, mean, var, std, gamma)
'''),), {("swap", ("std", "var"))}),
    "standardize with the unbiased std": ("standardize", '''
def standardize(X_train, X_test, eps=1e-8):
    mean, std = X_train.mean(0), np.sqrt(X_train.var(0, ddof=1) + eps)
    return (X_train - mean) / std, (X_test - mean) / std
''', (), {("ddof", 1)}),
    "pca_project keeps one component too many": ("pca_project", '''
def pca_project(X_train, X_test, k):
    mean = X_train.mean(0)
    values, vectors = np.linalg.eigh(np.cov((X_train - mean).T, bias=True))
    top = vectors[:, ::-1][:, :k + 1]
    return (X_train - mean) @ top, (X_test - mean) @ top
''', (), {("extra components", 1)}),
    "whiten rotates back (ZCA)": ("whiten", '''
def whiten(X_train, X_test, eps=1e-5):
    mean = X_train.mean(0)
    values, vectors = np.linalg.eigh(np.cov((X_train - mean).T, bias=True))
    values, vectors = values[::-1], vectors[:, ::-1]
    W = vectors / np.sqrt(values + eps) @ vectors.T
    return (X_train - mean) @ W, (X_test - mean) @ W
''', (), {("zca", True)}),
}


@pytest.mark.parametrize("name", DEVELOPMENT)
def test_an_uncatalogued_mistake_is_named_by_its_deviations_alone(name):
    function, source, others, deviations = DEVELOPMENT[name]
    found = explanation(function, source, *others)
    assert set(found.deviations) == deviations, (found.diagnoses, found.differs)
    assert len(found.diagnoses) == len(deviations)
    assert found.differs.startswith("What differs in the diagnostic probes:")


def test_two_mistakes_at_once_are_both_named_and_no_other():
    """One bug does not hide another: no correction and t never stored, each in words."""
    function, source, others, _ = DEVELOPMENT["adam without correction, t never stored"]
    lines = explanation(function, source, *others).diagnoses
    assert any("no bias correction" in line for line in lines)
    assert any("t is not stored" in line for line in lines)
    assert not any("t starts at 1" in line or "first step uses t = 0" in line for line in lines)


def test_one_minus_one_minus_beta_is_not_told_no_bias_correction():
    function, source, others, _ = DEVELOPMENT["adam 1 - (1 - beta)**t"]
    lines = explanation(function, source, *others).diagnoses
    assert lines and not any("no bias correction" in line for line in lines)
    assert "1 - (1 - beta)**t" in lines[0]


def test_a_wrong_default_is_read_back_from_config():
    function, source, others, _ = DEVELOPMENT["adam default learning rate 1e-2"]
    lines = explanation(function, source, *others).diagnoses
    assert lines == ("your default learning_rate is 0.01; the docstring says 0.001 "
                     "(config.setdefault('learning_rate', 0.001))",)


def test_a_mistake_outside_every_family_is_described_not_named():
    found = explanation("sgd_momentum", '''
def sgd_momentum(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2); config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * np.tanh(dw)
    config["velocity"] = v
    return w + v, config
''')
    assert found.diagnoses == ()
    assert "next_w in" in found.differs and "velocity in" in found.differs


CATALOGUED = [(a, v) for a in ("optimizers", "batchnorm", "preprocessing")
              for v in catalog(a)[0] if diagnosable(a, v.function)]



@pytest.mark.parametrize("assignment,mistake", CATALOGUED,
                         ids=lambda x: getattr(x, "name", x))
def test_a_catalogued_mistake_is_named_in_the_catalogs_words(assignment, mistake):
    found = diagnose_function(assignment, mistake.function,
                              probe_traces(mistake.function, mistake.cells()))
    assert found.diagnoses == (f"your outputs match a known mistake, {mistake.name} "
                               f"({mistake.description}). {mistake.hint}",)


ALTERNATIVES = [(a, v) for a in ("optimizers", "batchnorm", "preprocessing")
                for v in catalog(a)[1] if diagnosable(a, v.function)]


@pytest.mark.parametrize("assignment,form", ALTERNATIVES, ids=lambda x: getattr(x, "name", x))
def test_a_right_answer_that_looks_different_differs_in_no_probe(assignment, form):
    found = diagnose_function(assignment, form.function, probe_traces(form.function, form.cells()))
    assert (found.diagnoses, found.differs) == ((), None)


TARGET_MARGIN = 100.0


def test_every_catalogued_mistake_fails_its_hidden_groups_by_100x_the_tolerance():
    """Every quantity of every case counted: the margins printed, the thinnest asserted."""
    margins = {(v.function, v.name): worst_margins(a, v)
               for a in ("optimizers", "batchnorm", "preprocessing") for v in catalog(a)[0]}
    for (function, name), margin in sorted(margins.items(), key=lambda kv: kv[1] or 0.0):
        print(f"{function:24} {name:40} {margin:,.0f}x")
    assert None not in margins.values()
    assert {key: m for key, m in margins.items() if m < TARGET_MARGIN} == {}


# ---------------------------------------------------------------------------------------
# The grading stage: probes through a runner (here local and trusted; in grading, the
# sandbox), a backward pass judged against the gradient of the learner's own forward pass.

def local_runner(namespace: dict):
    """Sandbox.run_cases's outcomes, from trusted code run here."""
    from autograder.sandbox.process import CaseFailed

    def run_cases(name: str, cases: list[dict]):
        for case in cases:
            try:
                yield run_case(namespace[name], case, namespace)
            except CallFailed as exc:
                yield CaseFailed(str(exc))
    return run_cases


def namespace_of(assignment: str, cells) -> dict:
    namespace = {**reference_functions(assignment), "__name__": "development"}
    exec(SUITES[assignment].prelude, namespace)
    for grade_id, source in cells:
        exec(compile(source, f"<answer cell {grade_id}>", "exec"), namespace)
    return namespace


def failed_backward(name: str) -> FunctionResult:
    failed = Check(name, "a case", False, f"{name}: dx differs (a case).", "a hint", "dx", 1,
                   1e-3, 1e-5)
    timed = Check(name, "the timed case", False, f"{name}() took longer than 2 s.")
    return FunctionResult(name, (GroupResult(f"test_{name}_gradients", "gradients", 4, True,
                                             (failed, timed)),))


ONLY_FORWARD_EPS_OUTSIDE = next(m for m in catalog("batchnorm")[0]
                                if m.name == "epsilon outside the square root")
IDENTITY = ('''
def batchnorm_forward(x, gamma, beta, bn_param):
    return x.copy(), None
''', '''
def batchnorm_backward(dout, cache):
    return dout.copy(), np.zeros(dout.shape[1]), np.zeros(dout.shape[1])
''')


def test_a_backward_right_for_a_slightly_wrong_forward_keeps_its_marks_and_blames_the_forward():
    from autograder.diagnosis.stage import explain_function

    namespace = namespace_of("batchnorm", ONLY_FORWARD_EPS_OUTSIDE.cells())
    result = explain_function("batchnorm", failed_backward("batchnorm_backward"),
                              local_runner(namespace), "batchnorm_forward")
    checks = result.groups[0].checks
    assert [c.passed for c in checks] == [True, False]  # the timed case is never excused
    assert not result.forward_first
    assert "right for your own batchnorm_forward" in result.explanation[0]
    assert "Fix batchnorm_forward." in result.explanation[0]
    assert not any("a hint" in line for line in result.hints())


def test_a_far_off_forward_buys_its_matching_backward_nothing_and_is_to_be_fixed_first():
    from autograder.diagnosis.stage import explain_function

    namespace = namespace_of("batchnorm", [("batchnorm_forward", IDENTITY[0]),
                                           ("batchnorm_backward", IDENTITY[1])])
    result = explain_function("batchnorm", failed_backward("batchnorm_backward"),
                              local_runner(namespace), "batchnorm_forward")
    assert [c.passed for c in result.groups[0].checks] == [False, False]
    assert result.forward_first
    assert "fix batchnorm_forward first" in result.explanation[0]


def test_a_backward_wrong_for_its_own_forward_is_diagnosed_and_not_sent_to_the_forward():
    from autograder.diagnosis.stage import explain_function

    function, source, others, _ = DEVELOPMENT["batchnorm_backward's dgamma without eps"]
    namespace = namespace_of("batchnorm", [(function, source), *others])
    result = explain_function("batchnorm", failed_backward(function), local_runner(namespace),
                              "batchnorm_forward")
    assert not result.forward_first
    assert result.explanation[0] == ("Diagnosis: dgamma uses x_hat without eps: (x - mean) / "
                                     "sqrt(var), not sqrt(var + eps)")
    assert result.explanation[1].startswith("What differs in the diagnostic probes: dgamma in 3 "
                                            "of 3")


def test_the_feedback_explains_every_quantity_of_two_mistakes_through_the_sandbox(tmp_path):
    """The real grader: the probes run in the sandbox after the graded cases."""
    from autograder.grading import grade_submission
    from autograder.mistakes import with_answer
    from tests.helpers import solution_notebook, write_submission

    function, source, _, _ = DEVELOPMENT["adam without correction, t never stored"]
    nb = with_answer(solution_notebook("optimizers", "optimizers.ipynb"), function, source)
    path = write_submission(tmp_path, "learner", "optimizers", "optimizers.ipynb", nb)
    result = grade_submission(SUITES["optimizers"], "learner", path)
    adam = next(f for f in result.functions if f.name == "adam")
    lines = adam.hints()
    assert sorted(line.split(",")[0] for line in lines[:2]) == [
        "Diagnosis: t is not stored back: config['t'] never reaches the next step",
        "Diagnosis: your outputs match a known mistake"]
    assert "no bias correction" in lines[0] + lines[1]
    assert lines[2].startswith("What differs in the diagnostic probes: next_w in")
    assert " t in " in lines[2] and " m in " in lines[2]
    assert all(f.score == f.max_score for f in result.functions if f.name != "adam")


# ---------------------------------------------------------------------------------------
# The kit: shapes, known mistakes over every failed case, the learner's own probes

def test_values_right_in_a_keepdims_shape_keep_their_marks_with_a_note():
    import numpy as np

    from autograder.kit.checks import compare_traces

    case = {"function": "f", "kind": "call", "description": "a case"}
    want = [{"dgamma": np.array([1.0, 2.0, 3.0])}]
    passed = compare_traces("f", case, [{"dgamma": np.array([[1.0, 2.0, 3.0]])}], want)
    assert passed.passed
    assert passed.note.startswith("dgamma has shape (1, 3) where (3,) is expected: the values "
                                  "are right, so the marks are kept")
    wrong = compare_traces("f", case, [{"dgamma": np.array([[1.0, 2.0, 4.0]])}], want)
    assert not wrong.passed and wrong.quantity == "dgamma"
    other = compare_traces("f", case, [{"dgamma": np.array([1.0, 2.0, 3.0, 0.0])}], want)
    assert not other.passed and "has shape (4,)" in other.message


def test_a_known_mistake_is_named_only_when_it_explains_every_compared_failure():
    from autograder.kit.checks import distinct_hints

    def failed(diagnosis):
        return Check("adam", "a case", False, "adam: next_w differs.", "the hint", "next_w", 1,
                     0.1, 1e-6, diagnosis)

    raised = Check("adam", "another case", False, "adam() raised ValueError.")
    assert distinct_hints([failed(("A",)), failed(("A", "B")), raised]) == ["Diagnosis: A"]
    assert distinct_hints([failed(("A",)), failed(())]) == ["Hint: the hint"]


def test_the_learners_own_run_names_a_single_mistake_from_the_released_table():
    from autograder.kit.checks import from_json, probe_diagnosis, to_json
    from autograder.diagnosis.table import visible_diagnosis

    table = from_json(to_json(visible_diagnosis("optimizers", "adam")))
    for name, first in (("adam 1 - (1 - beta)**t", "Diagnosis: the bias correction divides by "
                                                    "1 - (1 - beta)**t, not by 1 - beta**t"),
                        ("adam without correction, t never stored", "What differs")):
        function, source, _, _ = DEVELOPMENT[name]
        namespace = namespace_of("optimizers", [(function, source)])
        lines = probe_diagnosis(namespace[function], table, namespace)
        assert lines[0].startswith(first), lines
        assert lines[-1].startswith("What differs in the diagnostic probes: next_w in")
    right = namespace_of("optimizers", [])
    assert probe_diagnosis(right["adam"], table, right) == []


def test_a_function_that_raises_on_every_probe_is_given_no_diagnosis():
    """Members that raise too would "match": raising everywhere shows no formula."""
    probes = probe_cases("batchnorm", "batchnorm_backward_alt")
    found = diagnose_function("batchnorm", "batchnorm_backward_alt", [None] * len(probes))
    assert found.diagnoses == ()
    assert found.differs == (f"What differs in the diagnostic probes: the function raised in "
                             f"{len(probes)} of {len(probes)}.")


def test_a_function_whose_process_ended_is_not_probed_again():
    """A probe would only hang or kill the learner's process once more, at a timeout's cost."""
    from dataclasses import replace

    from autograder.diagnosis.stage import explain_function

    def no_request(name, cases):
        raise AssertionError("a probe was sent")

    ended = replace(failed_backward("batchnorm_backward"), process_ended=True)
    assert explain_function("batchnorm", ended, no_request, "batchnorm_forward") == ended


def test_the_held_out_variants_are_named_at_85_percent_and_never_wrongly():
    """tests/heldout/: wrong variants written to mirror learners, none of them catalogued.
    The grader's reasoning on their probes, run here on trusted code (the benchmark,
    benchmarks/diagnosis_rate.py, grades them through the sandbox) names at least 85% of
    them, and never a mistake a variant does not make."""
    from benchmarks.diagnosis_rate import labels_named
    from tests.heldout.variants import VARIANTS

    named, wrong = [], []
    mistakes = [v for v in VARIANTS if v["kind"] == "mistake"]
    for v in mistakes:
        cells = [(v["function"], v["source"]), *v.get("others", {}).items()]
        found = diagnose_function(ASSIGNMENT_OF[v["function"]], v["function"],
                                  probe_traces(v["function"], cells))
        labels = {label for line in found.diagnoses
                  for label in labels_named(v["function"], f"Diagnosis: {line}", v["expected"])[0]}
        wrong += [(v["id"], label) for label in labels - set(v["expected"])]
        named += [v["id"]] if labels and labels >= set(v["expected"]) else []
    print(f"named {len(named)} of {len(mistakes)}")
    assert wrong == []
    assert len(named) >= 0.85 * len(mistakes)


def test_the_learners_pytest_shows_the_probes_diagnosis_and_every_quantity(tmp_path):
    """In the released folder, with nothing of the grader: the same words as the feedback."""
    from autograder.reference import solution_sources
    from tests.test_learner_selfcheck import failed_functions, learner_pytest, released_folder

    function, source, _, _ = DEVELOPMENT["adam 1 - (1 - beta)**t"]
    folder = released_folder(tmp_path, "optimizers",
                             {**solution_sources("optimizers"), function: source})
    run = learner_pytest(folder)
    assert failed_functions(run.stdout) == {"adam"}
    assert ("Diagnosis: the bias correction divides by 1 - (1 - beta)**t, not by 1 - beta**t"
            in run.stdout)
    assert "What differs in the diagnostic probes: next_w in" in run.stdout
    assert "Hint:" not in run.stdout  # the diagnosis says what to change


def test_traces_of_any_shape_give_no_diagnosis_and_no_error():
    """What comes back from the sandbox is the learner's to choose."""
    import numpy as np

    probes = probe_cases("optimizers", "adam")
    odd = [[{"next_w": "text", "m": None, "v": np.zeros(7), "t": [1, 2]}], [], [{}]]
    traces = [odd[i % 3] for i in range(len(probes))]
    found = diagnose_function("optimizers", "adam", traces)
    assert found.diagnoses == ()
    assert found.differs.startswith("What differs in the diagnostic probes:")
