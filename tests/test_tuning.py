"""The tuning assignment: random functions graded by distribution under fixed seeds, a right
sampler passing under 200 grader seeds and every wrong one failing under all of them, the
catalog named case by case, and the recorded histories reproduced by the notebook's network."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from autograder.kit import checks
from autograder.kit.checks import check_case, compare_traces, run_case
from autograder.mistakes import catalog
from autograder.reference import expected_traces, mistake_traces, reference_functions
from autograder.suites import SUITES
from autograder.suites.tuning import (RECORDED, SPACE, random_search_case, sampler_case,
                                      scored_results, narrowing_case)

from .helpers import ROOT

SUITE = SUITES["tuning"]
MISTAKES, ALTERNATIVES = catalog("tuning")
GRADER_SEEDS = 200


def variant_function(variant):
    """A catalogued variant as a function, loaded as the reference loads its cells."""
    namespace = {"__name__": "variant"}
    exec(SUITE.prelude, namespace)
    exec(compile(variant.source, f"<variant {variant.name}>", "exec"), namespace)
    return namespace[variant.function]


def of(function: str, variants) -> dict:
    return {v.name: variant_function(v) for v in variants if v.function == function}


def hidden_cases(function: str):
    return [(group.id, i, case) for group in SUITE.function(function).groups if group.hidden
            for i, case in enumerate(group.cases)]


def reseeded(case: dict, index: int) -> dict:
    return {**case, "seeds": (1_000_003 * index + 17, 1_000_003 * index + 18)}


def test_thresholds_are_the_stated_bounds_solved():
    alpha = checks.FALSE_REJECTION
    for n in (1000, 4000):
        t = checks.ks_threshold(n)
        assert 2 * math.exp(-2 * n * t * t) == pytest.approx(alpha)
        # the asymptotic Kolmogorov tail at the same t agrees with the bound used
        kolmogorov = 2 * sum((-1) ** (k - 1) * math.exp(-2 * k * k * n * t * t) for k in range(1, 50))
        assert kolmogorov == pytest.approx(alpha, rel=1e-6)
        d = checks.dependence_threshold(n)
        assert 2 * math.exp(-8 * n * d * d) == pytest.approx(alpha)
    assert checks.ks_threshold(4000) == pytest.approx(0.0517, abs=1e-4)


def test_ks_distance_of_known_samples():
    n = 1000
    assert checks.ks_distance((np.arange(n) + 0.5) / n) == pytest.approx(0.5 / n)
    assert checks.ks_distance(np.full(n, 0.5)) == pytest.approx(0.5)
    assert checks.ks_distance(np.array([0.2, np.nan])) == 1.0


@pytest.mark.parametrize("function", ["sample_log_uniform", "random_search_configs"])
def test_a_right_sampler_passes_under_200_grader_seeds_and_each_wrong_one_fails_under_all(function):
    """The false-rejection claim, measured: each seed is another grader's fixed seeds. For the
    sampler, every hidden case; for random search, the notebook's three-name space at the
    visible budget of 1000 (its hidden budgets of 2000 to 4000 only add power)."""
    reference = reference_functions("tuning")[function]
    rights = {"reference": reference, **of(function, ALTERNATIVES)}
    wrongs = of(function, MISTAKES)
    if function == "sample_log_uniform":
        cases = [case for _, _, case in hidden_cases(function)]
    else:
        cases = [random_search_case("1000 configurations", SPACE, 1000, (0, 1))]
    failures = {name: 0 for name in wrongs}
    for index in range(GRADER_SEEDS):
        for base in cases:
            case = reseeded(base, index)
            expected = run_case(reference, case)
            for name, fn in rights.items():
                check = check_case(fn, case, expected)
                assert check.passed, (name, index, check.message)
            for name, fn in wrongs.items():
                failures[name] += not check_case(fn, case, expected).passed
    assert failures == {name: GRADER_SEEDS * len(cases) for name in wrongs}


def test_every_mistake_fails_a_hidden_case_and_every_failure_with_outputs_names_it_alone():
    expected, named = expected_traces("tuning"), mistake_traces("tuning")
    for mistake in MISTAKES:
        fn = variant_function(mistake)
        spec = SUITE.function(mistake.function)
        failed, diagnosed = 0, []
        for group_id, i, case in hidden_cases(mistake.function):
            key = (mistake.function, group_id, i)
            check = check_case(fn, case, expected[key], spec.hints, {}, named.get(key))
            failed += not check.passed
            if not check.passed and " raised " not in check.message:  # a raise is named as such
                diagnosed.append(check.diagnosis)
        assert failed, f"{mistake.name} passes every hidden case"
        for diagnosis in diagnosed:
            assert len(diagnosis) == 1 and f"known mistake, {mistake.name} (" in diagnosis[0], \
                (mistake.name, diagnosis)


def test_every_alternative_passes_every_case():
    expected = expected_traces("tuning")
    for alternative in ALTERNATIVES:
        fn = variant_function(alternative)
        for group in SUITE.function(alternative.function).groups:
            for i, case in enumerate(group.cases):
                check = check_case(fn, case, expected[alternative.function, group.id, i])
                assert check.passed, (alternative.name, check.message)


def test_the_reference_earns_every_verdict_and_fails_the_uniform_one():
    """The expected summary of a sampler case is the ideal one: every verdict True but the
    uniform-in-value test of a log range, which names the uniform sampler."""
    expected = expected_traces("tuning")
    for group_id, i, case in hidden_cases("sample_log_uniform"):
        summary = checks.measure_samples(case, expected["sample_log_uniform", group_id, i])[0]
        assert summary.pop("x uniform (KS test)") is False
        assert all(value is True for key, value in summary.items() if key != "shape")


def test_a_grid_is_accepted_in_any_order_and_a_repeated_row_is_not():
    reference = reference_functions("tuning")["grid_search_configs"]
    case = {"function": "grid_search_configs", "kind": "grid_configs", "description": "grid",
            "space": SPACE, "budget": 30}
    expected = run_case(reference, case)
    rows = expected[0]["configs"]
    shuffled = [{"configs": rows[np.random.default_rng(0).permutation(len(rows))]}]
    assert compare_traces("grid_search_configs", case, shuffled, expected).passed
    repeated = [{"configs": np.vstack([rows[:-1], rows[:1]])}]
    assert not compare_traces("grid_search_configs", case, repeated, expected).passed


@pytest.mark.parametrize("trace", [
    None, [], "text", [{"samples": "x"}] * 3, [{"samples": np.array(["a"])}] * 3,
    [{"samples": np.full(4000, np.nan)}] * 3, [{"samples": np.ones((4000, 2))}] * 3,
    [{"configs": np.ones(3)}] * 3, [{}, {}, {}],
])
def test_odd_outputs_fail_with_a_verdict_and_never_raise(trace):
    reference = reference_functions("tuning")
    for case in (sampler_case("4000 draws", 1e-6, 1e-1, 4000, (1, 2)),
                 random_search_case("1000 configurations", SPACE, 1000, (1, 2))):
        expected = run_case(reference[case["function"]], case)
        check = compare_traces(case["function"], case, trace, expected)
        assert not check.passed and check.message


def test_a_learner_who_ignores_rng_is_told_so():
    def global_state(rng, low, high, size):
        return np.exp(np.random.uniform(np.log(low), np.log(high), size))

    case = sampler_case("4000 draws", 1e-6, 1e-1, 4000, (1, 2))
    expected = run_case(reference_functions("tuning")["sample_log_uniform"], case)
    check = check_case(global_state, case, expected, SUITE.function("sample_log_uniform").hints)
    assert check.quantity == "same seed, same values" and "rng argument" in check.hint


def test_narrowing_keeps_inside_the_old_range_and_narrows_around_the_best():
    narrow = reference_functions("tuning")["coarse_to_fine"]
    results = scored_results(np.random.default_rng(5), SPACE, 30, -3.0)
    space = narrow(results, SPACE, 5)
    best = sorted(results, key=lambda r: -r[1])[:5]
    for name, (low, high, scale) in SPACE.items():
        new_low, new_high, new_scale = space[name]
        assert new_scale == scale and low <= new_low <= new_high <= high
        assert all(new_low <= config[name] <= new_high for config, _ in best)
    case = narrowing_case("30 results", results, SPACE, 5)
    assert run_case(narrow, case)[0]["learning_rate range"].tolist() == \
        list(space["learning_rate"][:2])


def notebook_namespace() -> dict:
    """The source notebook's data, network and gallery cells, run as the notebook runs them."""
    nb = json.loads((ROOT / "source" / "tuning" / "tuning.ipynb").read_text(encoding="utf-8"))
    cells = {cell["id"]: "".join(cell["source"]) for cell in nb["cells"]}
    namespace: dict = {"np": np}
    cwd = os.getcwd()
    os.chdir(ROOT / "source" / "tuning")
    try:
        for cell_id in ("load_digits", "network", "gallery"):
            exec(cells[cell_id], namespace)
    finally:
        os.chdir(cwd)
    return namespace


@pytest.mark.parametrize("kind", ["healthy", "overfitting", "bad initialization"])
def test_recorded_histories_are_the_notebooks_network_under_held_out_seeds(kind):
    namespace = notebook_namespace()
    history = namespace["gallery_run"](namespace["GALLERY"][kind], 11)
    for key, values in RECORDED[f"{kind}, seed 11"].items():
        np.testing.assert_allclose(history[key], values, rtol=1e-3, atol=1e-4)
    assert reference_functions("tuning")["diagnose_curves"](history) == kind


def test_a_grid_over_the_budget_fails_on_its_count_without_being_sorted():
    case = {"function": "grid_search_configs", "kind": "grid_configs", "description": "grid",
            "space": SPACE, "budget": 30}
    expected = run_case(reference_functions("tuning")["grid_search_configs"], case)
    check = compare_traces("grid_search_configs", case, [{"configs": np.ones((10**6, 3))}],
                           expected)
    assert check.quantity == "number of configurations" and "is 1000000, expected 27" in check.message


def test_failed_random_cases_get_pictures_of_where_the_values_fall():
    from autograder.evidence import plot_data
    from autograder.feedback import draw

    mistakes = {(v.function, v.name): variant_function(v) for v in MISTAKES}
    reference = reference_functions("tuning")
    sampler = sampler_case("1000 draws", 1e-6, 1e-1, 1000, (1, 2))
    search = random_search_case("1000 configurations", SPACE, 1000, (1, 2))
    grid = {"function": "grid_search_configs", "kind": "grid_configs", "description": "grid",
            "space": SPACE, "budget": 27}
    for case, mistake, kind in ((sampler, "uniform instead of log-uniform", "distribution"),
                                (search, "one draw shared by all names", "pairs"),
                                (grid, "linear grid for a log scale", "pairs")):
        expected = run_case(reference[case["function"]], case)
        actual = run_case(mistakes[case["function"], mistake], case)
        check = compare_traces(case["function"], case, actual, expected)
        picture = plot_data(case, actual, expected, check.quantity, check.step)
        assert picture["kind"] == kind, mistake
        assert draw(json.loads(json.dumps(picture))).startswith("data:image/png;base64,")
    shared = plot_data(search, run_case(mistakes["random_search_configs",
                                                 "one draw shared by all names"], search),
                       run_case(reference["random_search_configs"], search),
                       "dimensions independent", 1)
    learner = np.array(shared["learner"])
    assert np.allclose(learner[:, 0], learner[:, 1])  # the picture shows the shared draw


KEYS = ["learning_rate", "reg"]


def looped_matrix(configs) -> np.ndarray:
    """What config_matrix returns for valid configurations, written as its definition."""
    return np.array([[float(c[k]) for k in KEYS] for c in configs], dtype=float
                    ).reshape(len(configs), len(KEYS))


class Config(dict):
    pass


@pytest.mark.parametrize("configs", [
    [{"learning_rate": 1e-3, "reg": 0.5}, {"reg": 2, "learning_rate": np.float64(0.25)}],
    ({"learning_rate": 10 ** 30, "reg": -0.0},),                  # a tuple; a large int
    [{"learning_rate": True, "reg": "1.5"}],                       # what float() accepts
    [Config(learning_rate=1.0, reg=2.0)],                          # a dict subclass
    [{"learning_rate": np.float32(0.1), "reg": np.int64(3)}],      # other numpy scalars
    [{"learning_rate": float("nan"), "reg": float("inf")}] * 3,
    []])
def test_config_matrix_gives_the_values_float_gives_them(configs):
    got = checks.config_matrix(configs, "f", KEYS)
    want = looped_matrix(configs)
    assert got.dtype == np.float64 and got.shape == want.shape == (len(configs), 2)
    assert np.array_equal(got, want, equal_nan=True)


def test_config_matrix_of_one_key_is_a_column():
    configs = [{"reg": float(i)} for i in range(4)]
    assert checks.config_matrix(configs, "f", ["reg"]).tolist() == [[0.0], [1.0], [2.0], [3.0]]


@pytest.mark.parametrize("configs, message", [
    ({"learning_rate": 1.0, "reg": 1.0},
     "f() must return a list of configurations (dicts), got a value of type dict"),
    ([{"learning_rate": 1.0, "reg": 1.0}, {"learning_rate": 1.0}],
     "f(): configuration 1 is {'learning_rate': 1.0}; each must be a dict with exactly the "
     "keys ['learning_rate', 'reg']"),
    ([{"learning_rate": 1.0, "reg": 1.0, "dropout": 0.5}],
     "f(): configuration 0 is {'learning_rate': 1.0, 'reg': 1.0, 'dropout': 0.5}; each must "
     "be a dict with exactly the keys ['learning_rate', 'reg']"),
    ([{"learning_rate": 1.0, "reg": 1.0}, [1.0, 1.0]],
     "f(): configuration 1 is [1.0, 1.0]; each must be a dict with exactly the keys "
     "['learning_rate', 'reg']"),
    ([{"learning_rate": 1.0, "reg": 1.0}, {"learning_rate": None, "reg": 1.0}],
     "f(): configuration 1 holds a value that is not a number: {'learning_rate': None, "
     "'reg': 1.0}"),
    ([{"learning_rate": "fast", "reg": 1.0}],
     "f(): configuration 0 holds a value that is not a number: {'learning_rate': 'fast', "
     "'reg': 1.0}"),
    ([{"learning_rate": np.zeros(2), "reg": 1.0}],
     "f(): configuration 0 holds a value that is not a number: {'learning_rate': "
     "array([0., 0.]), 'reg': 1.0}"),
])
def test_config_matrix_words_what_is_wrong_with_a_configuration(configs, message):
    with pytest.raises(checks.CallFailed) as raised:
        checks.config_matrix(configs, "f", KEYS)
    assert str(raised.value) == message


def test_config_matrix_lets_an_int_beyond_floats_raise_as_float_does():
    with pytest.raises(OverflowError):
        checks.config_matrix([{"learning_rate": 10 ** 400, "reg": 1.0}], "f", KEYS)


def test_the_expected_side_of_a_random_case_is_measured_once():
    case = SUITE.function("sample_log_uniform").group("distribution").cases[0]
    expected = expected_traces("tuning")["sample_log_uniform", "distribution", 0]
    measured = []
    measure = checks.MEASURES["samples"]

    def counted(case, trace):
        measured.append(trace)
        return measure(case, trace)

    first = checks._measured_expected(counted, case, expected)
    again = checks._measured_expected(counted, case, expected)
    assert again is first and first == measure(case, expected)
    copied = [dict(step) for step in expected]  # another trace, measured on its own
    checks._measured_expected(counted, case, copied)
    assert [id(t) for t in measured] in ([id(expected), id(copied)], [id(copied)])


def test_sorted_rows_round_to_nine_digits_as_text_does():
    rng = np.random.default_rng(5)
    configs = rng.standard_normal((300, 3)) * 10.0 ** rng.integers(-8, 8, (300, 3))
    configs[::7, 0] = configs[1::7, 0] * (1 + 1e-12)  # equal to 9 digits: the next key decides
    configs[5] = [np.nan, np.inf, -0.0]
    keys = np.array([[float(f"{v:.9g}") for v in row] for row in configs.tolist()])
    want = configs[np.lexsort(keys.T[::-1])]
    assert np.array_equal(checks.sorted_rows(configs), want, equal_nan=True)
