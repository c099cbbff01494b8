"""The class summary: share of learners passing each function, diagnosed mistakes by count."""
from __future__ import annotations

import json
import re

from autograder.class_summary import mistake_name, summarize, summary_html
from autograder.kit.checks import Check
from autograder.results import FunctionResult, GroupResult, SubmissionResult


def _function(name: str, passed: bool, mistakes: tuple[str, ...] = ()) -> FunctionResult:
    """A function with one visible group of two cases; failed ones carry ``mistakes`` as the
    grader's diagnosis writes them."""
    diagnosis = tuple(f"your outputs match a known mistake, {m} (what it does). Fix it."
                      for m in mistakes)
    # a failed case's outputs were compared (it names a quantity): a known mistake is named
    # only when it explains every such case
    checks = tuple(Check(name, f"case {i}", passed, "ok" if passed else "wrong",
                         quantity=None if passed else "next_w",
                         diagnosis=() if passed else diagnosis) for i in range(2))
    return FunctionResult(name, (GroupResult(f"test_{name}_visible", "visible", 2, False,
                                             checks),))


def _result(student: str, *functions: FunctionResult, assignment="optimizers") -> dict:
    result = SubmissionResult(student, assignment, f"{assignment}.ipynb", "bubblewrap",
                              list(functions))
    return json.loads(json.dumps(result.to_gradescope()))  # as read back from results.json


def test_share_passing_and_mistakes_most_frequent_first():
    results = [
        _result("a", _function("sgd", True), _function("adam", False, ("t after use",))),
        _result("b", _function("sgd", False, ("EMA form",)),
                _function("adam", False, ("t after use", "no bias correction"))),
        _result("c", _function("sgd", False), _function("adam", False, ("no bias correction",
                                                                            "t after use"))),
        _result("d", _function("sgd", True), _function("adam", True)),
    ]
    summary = summarize(results)
    sgd, adam = summary.of("optimizers")
    assert (sgd.function, sgd.learners, sgd.passing, sgd.share) == ("sgd", 4, 2, 0.5)
    assert sgd.mistakes == (("EMA form", 1),) and sgd.undiagnosed == 1
    assert (adam.passing, adam.undiagnosed) == (1, 0)
    assert adam.mistakes == (("t after use", 3), ("no bias correction", 2))
    assert summary.statuses == {"optimizers": {"graded": 4}}


def test_a_later_result_of_the_same_learner_replaces_the_earlier_and_junk_is_skipped():
    results = [_result("a", _function("sgd", False, ("EMA form",))), {"tests": 3}, None,
               "text", {"extra_data": {"student": "x"}},
               _result("a", _function("sgd", True))]
    (sgd,) = summarize(results).functions
    assert (sgd.learners, sgd.passing, sgd.mistakes) == (1, 1, ())


def test_assignments_are_kept_apart_and_statuses_counted():
    missing = _result("b", _function("sgd", False))
    missing["extra_data"]["status"] = "missing"
    summary = summarize([_result("a", _function("sgd", True)), missing,
                         _result("a", _function("zero_center", True), assignment="prep")])
    assert summary.assignments() == ["optimizers", "prep"]
    assert summary.statuses == {"optimizers": {"graded": 1, "missing": 1},
                                "prep": {"graded": 1}}
    assert [f.function for f in summary.of("prep")] == ["zero_center"]


def test_only_diagnosis_lines_name_mistakes():
    assert mistake_name("Diagnosis: your outputs match a known mistake, (1-beta)**t (x).") \
        == "(1-beta)**t"
    assert mistake_name("Hint: the velocity (v) ...") is None
    assert mistake_name(None) is None


def test_what_the_probes_found_counts_by_its_words_before_the_details():
    found = ["Diagnosis: your default learning_rate is 0.001; the docstring says 0.01 (x)",
             "Diagnosis: your default learning_rate is 0.001 (config.setdefault(...))"]
    assert {mistake_name(line) for line in found} == {"your default learning_rate is 0.001"}
    assert mistake_name("Diagnosis: ") is None
    learners = [_result(s, FunctionResult("sgd", (GroupResult(
        "test_sgd_visible", "visible", 2, False,
        (Check("sgd", "case", False, "wrong", quantity="next_w"),)),),
        explanation=(line,))) for s, line in zip("ab", found)]
    sgd, = summarize(learners).of("optimizers")
    assert (sgd.mistakes, sgd.undiagnosed) == ((("your default learning_rate is 0.001", 2),), 0)


def test_missing_and_unreadable_submissions_count_in_statuses_not_as_failures():
    ran = _result("a", _function("sgd", False, ("EMA form",)))
    absent = []
    for student, status in (("b", "missing"), ("c", "unreadable")):
        data = _result(student, _function("sgd", False))
        data["extra_data"]["status"] = status
        absent.append(data)
    summary = summarize([ran, *absent])
    sgd, = summary.of("optimizers")
    assert (sgd.learners, sgd.passing, sgd.undiagnosed, sgd.mistakes) == (1, 0, 0,
                                                                          (("EMA form", 1),))
    assert summary.statuses["optimizers"] == {"graded": 1, "missing": 1, "unreadable": 1}


def test_html_draws_a_bar_per_function_as_long_as_its_share_and_escapes_names():
    summary = summarize([_result("a", _function("sgd", True),
                                 _function("adam", False, ("<script>x</script>",))),
                         _result("b", _function("sgd", False), _function("adam", False))])
    page = summary_html(summary)
    widths = [int(w) for w in re.findall(r"fill='#eee'/><rect [^>]*width='(\d+)'", page)]
    assert widths == [150, 0]  # half of the 300-pixel bar for sgd, none for adam
    assert "1/2 pass (50%)" in page and "0/2 pass (0%)" in page
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;: 1 learner" in page
    assert "failed with no diagnosis: 1 learner" in page


def test_the_index_opens_with_the_class_summary(tmp_path):
    from autograder.feedback import write_index

    for student, passed in (("a", True), ("b", False)):
        path = tmp_path / student / "optimizers" / "results.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(_result(student, _function("sgd", passed, ("EMA form",)))))
    (tmp_path / "c" / "optimizers").mkdir(parents=True)
    (tmp_path / "c" / "optimizers" / "results.json").write_text("{not json")
    index = write_index(tmp_path).read_text()
    assert index.index("Class summary") < index.index("<table>")
    assert "1/2 pass (50%)" in index and "EMA form: 1 learner" in index
    assert "results unreadable" in index


def test_a_function_left_as_the_stub_is_not_attempted_not_an_undiagnosed_failure():
    stub = "sgd() raised NotImplementedError: the answer cell is still the stub"
    checks = tuple(Check("sgd", f"case {i}", False, stub) for i in range(2))
    untouched = FunctionResult("sgd", (GroupResult("test_sgd_visible", "visible", 2, False,
                                                   checks),))
    (sgd,) = summarize([_result("a", untouched), _result("b", _function("sgd", False)),
                        _result("c", _function("sgd", False, ("EMA form",)))]).functions
    assert (sgd.learners, sgd.not_attempted, sgd.undiagnosed) == (3, 1, 1)
    assert sgd.mistakes == (("EMA form", 1),)
    page = summary_html(summarize([_result("a", untouched)]))
    assert "not attempted (still the stub): 1 learner" in page
    assert "no known mistake" not in page
