"""Whatever one submission returns or raises, a batch finishes, honest learners keep their
marks, what the submission leaves behind is bounded, and results.json, the feedback page,
the gradebook and the export agree on its grade."""
from __future__ import annotations

import csv
import json
import os
import re
from dataclasses import replace

import numpy as np
import pytest
from nbgrader.api import Gradebook

from autograder import batch as batch_module
from autograder import feedback
from autograder.export import export_csv
from autograder.kit.checks import Check, answer_cells
from autograder.mistakes import with_answer
from autograder.results import (MAX_FAILURES_KEPT, MAX_PAGE_BYTES, MAX_RESULTS_BYTES,
                                MAX_TEXT_CHARS, FunctionResult, GroupResult,
                                SubmissionResult, clean_text, results_text)
from autograder.suites import SUITES

from .helpers import (assert_feedback_redraws_the_same_pages, solution_notebook,
                      write_submission)

SUITE = SUITES["optimizers"]
FLOOD = 8 * 2**20  # characters of one forged failure text
HOSTILE_TEXT = "<'&\udc80\x00\x1b\x7f\x85\ufffe"  # markup, a lone surrogate, controls
CUT = re.compile(r" \[\.\.\. (\d+) characters cut\]")
# Characters a page or results.json must never hold: controls but tab and newline (and
# the carriage return, which only a hand-made file could hold), and lone surrogates.
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def hostile_notebook() -> dict:
    """sgd_momentum raises a text with a lone surrogate and controls; adam returns
    ±finfo.max; rmsprop's trajectories turn NaN from step 3; the others are right."""
    nb = solution_notebook("optimizers", SUITE.notebook)
    solved = dict(answer_cells(nb))
    nb = with_answer(nb, "sgd_momentum", "def sgd_momentum(w, dw, config=None):\n"
                                         f"    raise ValueError({HOSTILE_TEXT!r})\n")
    nb = with_answer(nb, "adam", solved["adam"] + "\n_solved = adam\n"
                     "def adam(w, dw, config=None):\n"
                     "    next_w, config = _solved(w, dw, config)\n"
                     "    big = np.finfo(float).max\n"
                     "    return np.where(np.arange(w.size) % 2, -big, big).reshape(w.shape), config\n")
    return with_answer(nb, "rmsprop", solved["rmsprop"] + "\n_solved = rmsprop\n"
                       "def rmsprop(w, dw, config=None):\n"
                       "    step = (config or {}).get('step', 0) + 1\n"
                       "    next_w, config = _solved(w, dw, config)\n"
                       "    config['step'] = step\n"
                       "    return (next_w * np.nan if step >= 3 else next_w), config\n")


def forge(result: SubmissionResult) -> SubmissionResult:
    """What a learner who forges the sandbox's replies could make of a result: in every
    group an 8 MiB failure text and many distinct 20 KiB ones full of markup, surrogates
    and controls, and an 8 MiB problem."""
    def flood(index: int, size: int) -> str:
        return f"forged {index}: " + HOSTILE_TEXT * (size // len(HOSTILE_TEXT))

    functions = []
    for function in result.functions:
        groups = []
        for group in function.groups:
            checks = [Check(function.name, f"case {i}", False, flood(i, FLOOD if i == 0 else 20000))
                      for i in range(3 * MAX_FAILURES_KEPT)]
            groups.append(replace(group, checks=tuple(checks)))
        functions.append(replace(function, groups=tuple(groups), problem=flood(-1, FLOOD)))
    return replace(result, functions=functions, problems=[flood(-2, FLOOD)])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """honest, hostile (its own code), forged (its replies) and crashes (the grader fails
    on it, after an earlier run gave it full marks), graded in one batch."""
    root = tmp_path_factory.mktemp("bounds")
    nb = solution_notebook("optimizers", SUITE.notebook)
    for student, content in (("honest", nb), ("hostile", hostile_notebook()), ("forged", nb),
                             ("crashes", nb)):
        write_submission(root / "submitted", student, "optimizers", SUITE.notebook, content)
    out, db = root / "out", f"sqlite:///{root / 'gradebook.db'}"
    before = batch_module.grade_batch(root / "submitted", out, [SUITE], db, workers=1,
                                      students=["crashes"])
    real, real_render = batch_module.grade_submission, feedback.render_page
    rendered_in = root / "rendered_in"  # a line per page: the pid of the process that drew it

    def grader(suite, student, notebook, *args):
        if student == "crashes":
            raise RuntimeError("boom " + HOSTILE_TEXT)
        result = real(suite, student, notebook, *args)
        return forge(result) if student == "forged" else result

    def render(data):
        with open(rendered_in, "a") as f:  # drawn in a grading process: a file reaches us
            f.write(f"{os.getpid()}\n")
        return real_render(data)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(batch_module, "grade_submission", grader)
        patch.setattr(feedback, "render_page", render)
        results = batch_module.grade_batch(root / "submitted", out, [SUITE], db, workers=1,
                                           force=True)
    return {r.student: r for r in results}, out, db, before, rendered_in.read_text().split()


def recorded(out, student) -> dict:
    return json.loads((out / student / "optimizers" / "results.json").read_text(encoding="utf-8"))


def strict_json(path) -> dict:
    def refuse(name):
        raise ValueError(f"{path} holds {name}, which is not JSON")

    return json.loads(path.read_bytes().decode("utf-8"), parse_constant=refuse)


def test_the_batch_finishes_and_honest_learners_keep_full_marks(graded):
    results, out, _, _, _ = graded
    assert set(results) == {"honest", "hostile", "forged", "crashes"}
    assert results["honest"].score == recorded(out, "honest")["score"] == SUITE.max_score
    scores = {t["name"]: t["score"] for t in recorded(out, "hostile")["tests"]}
    assert scores["sgd_momentum"] == scores["rmsprop"] == scores["adam"] == 0
    assert scores["nesterov_momentum"] == scores["adagrad"] == 10


def test_every_file_is_strict_utf8_json_and_html_without_unsafe_characters(graded):
    _, out, _, _, _ = graded
    for student in ("honest", "hostile", "forged", "crashes"):
        folder = out / student / "optimizers"
        data = strict_json(folder / "results.json")
        page = (folder / "feedback.html").read_bytes().decode("utf-8")
        text = json.dumps(data, ensure_ascii=False)
        assert not UNSAFE.search(text) and not UNSAFE.search(page), student
    hostile = recorded(out, "hostile")["tests"][0]["output"]
    assert "ValueError: <'&\ufffd\u2400\u241b\u2421\ufffd\ufffd" in hostile  # shown, made safe
    assert "&lt;&#x27;&amp;\ufffd\u2400" in (out / "hostile" / "optimizers" /
                                           "feedback.html").read_text(encoding="utf-8")


def test_pictures_are_drawn_and_say_where_the_values_went_wrong(graded):
    _, out, _, _, _ = graded
    pictures = recorded(out, "hostile")["extra_data"]["pictures"]
    assert feedback.plot(pictures["rmsprop"]).axes[0].get_title().endswith(
        "your values are NaN from step 3")
    assert "your values are beyond" in feedback.plot(pictures["adam"]).axes[0].get_title()
    page = (out / "hostile" / "optimizers" / "feedback.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<img [^>]*src='data:image/png;base64,", page)) == 2
    assert "could not be drawn" not in page


def test_one_submission_leaves_at_most_its_bounds_whatever_it_sends(graded):
    _, out, _, _, _ = graded
    for student in ("honest", "hostile", "forged", "crashes"):
        folder = out / student / "optimizers"
        assert (folder / "results.json").stat().st_size <= MAX_RESULTS_BYTES
        assert (folder / "feedback.html").stat().st_size <= MAX_PAGE_BYTES
    forged = recorded(out, "forged")
    assert forged["score"] == 0 and len(forged["tests"]) == len(SUITE.functions)
    for groups in forged["extra_data"]["checks"].values():
        for group in groups:
            assert len(group["failed"]) <= MAX_FAILURES_KEPT + 1
            assert all(len(message) <= MAX_TEXT_CHARS for message in group["failed"])
    assert CUT.search(json.dumps(forged))
    page = (out / "forged" / "optimizers" / "feedback.html").read_text(encoding="utf-8")
    assert "forged 0: &lt;&#x27;&amp;" in page and CUT.search(page)


def test_a_grader_failure_is_graded_zero_in_results_gradebook_and_export(graded, tmp_path):
    results, out, db, before, _ = graded
    assert before[0].score == SUITE.max_score  # what the gradebook held before this run
    crashes = recorded(out, "crashes")
    assert crashes["score"] == 0 and sum(t["max_score"] for t in crashes["tests"]) == SUITE.max_score
    assert "the grader failed on this submission (RuntimeError: boom" in crashes["output"]
    assert crashes["extra_data"]["fingerprint"] == ""  # the next run grades it again
    assert not results["crashes"].complete
    with Gradebook(db) as gradebook:
        for student in results:
            assert gradebook.find_submission("optimizers", student).score == \
                recorded(out, student)["score"]
    target = tmp_path / "grades.csv"
    export_csv(db, target)
    rows = {row["student"]: row for row in csv.DictReader(target.open(encoding="utf-8"))
            if row["assignment"] == "optimizers"}
    assert set(rows) == set(results)
    for student, row in rows.items():
        data = recorded(out, student)
        assert float(row["score"]) == data["score"]
        assert {t["name"]: float(row[t["name"]]) for t in data["tests"]} == \
            {t["name"]: t["score"] for t in data["tests"]}
    assert float(rows["crashes"]["score"]) == 0


def test_pages_are_drawn_in_the_grading_processes_not_the_batchs(graded):
    _, _, _, _, rendered_in = graded
    assert len(rendered_in) == 4 and str(os.getpid()) not in rendered_in


def test_the_feedback_command_redraws_the_same_bounded_pages(graded, tmp_path):
    _, out, _, _, _ = graded
    assert_feedback_redraws_the_same_pages(out, tmp_path)


def test_clean_text_keeps_text_valid_and_says_how_much_it_cut():
    assert clean_text("a\udc80b\ud83d\ude00") == "a\ufffdb\U0001f600"  # a pair is its character
    assert clean_text("tab\tnew\nline\r\nnul\x00esc\x1bdel\x7fc1\x85") == \
        "tab\tnew\nline\nnul\u2400esc\u241bdel\u2421c1\ufffd"
    text = clean_text("x" * 10000 + "\udc80", 100)
    kept, cut = text.index(" ["), int(CUT.search(text).group(1))
    assert len(text) <= 100 and text[:kept] == "x" * kept and kept + cut == 10001
    assert clean_text(text, 100) == text  # a cut text is not cut again

    class Hostile:
        def __str__(self):
            raise RuntimeError("no")

    assert "cannot be shown" in clean_text(Hostile())


def test_the_final_guard_shrinks_results_until_they_fit(monkeypatch):
    """With a bound far below what the capped texts take, results.json is still strict
    JSON within the bound and keeps every score."""
    group = GroupResult("test_adam_steps", "steps", 4.0, True,
                        tuple(Check("adam", f"case {i}", False, f"{i}: " + "<\u2400" * 3000)
                              for i in range(30)))
    result = SubmissionResult("s", "optimizers", "optimizers.ipynb", "rlimits",
                              functions=[FunctionResult("adam", (group,) * 3)])
    for bound in (60_000, 3_000):
        monkeypatch.setattr("autograder.results.MAX_RESULTS_BYTES", bound)
        text = results_text(result.to_gradescope())
        assert len(text.encode("utf-8")) <= bound
        data = json.loads(text)
        assert data["score"] == 0 and data["tests"][0]["max_score"] == 12
        assert data["extra_data"]["grades"] == {"test_adam_steps": 0.0}


def test_numbers_json_cannot_hold_are_written_as_their_names():
    picture = {"kind": "scatter", "title": "t", "quantity": "dx", "step": 2,
               "expected": [1.0, 2.0, 3.0], "actual": [np.nan, np.inf, -np.inf]}
    result = SubmissionResult("s", "optimizers", "optimizers.ipynb", "rlimits",
                              functions=[FunctionResult("f", (), picture=picture)])
    data = json.loads(results_text(result.to_gradescope()),
                      parse_constant=lambda name: pytest.fail(f"{name} in results.json"))
    assert data["extra_data"]["pictures"]["f"]["actual"] == ["NaN", "Infinity", "-Infinity"]
