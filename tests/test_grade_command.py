"""`python -m autograder grade` on the example submissions: the command-line contract,
Gradescope-schema results for every learner, and grades in the nbgrader gradebook."""
from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
from nbgrader.api import Gradebook

from autograder.suites import SUITES

from .helpers import ROOT

EXAMPLES = ROOT / "examples" / "submitted"
STUDENTS = ("ada", "ben", "cy", "dee", "eve")


@pytest.fixture(scope="module")
def graded(graded_examples):
    return graded_examples


def results(out, student, assignment="optimizers") -> dict:
    return json.loads((out / student / assignment / "results.json").read_text())


def scores(out, student, assignment="optimizers") -> dict[str, float]:
    return {t["name"]: t["score"] for t in results(out, student, assignment)["tests"]}


def test_exits_zero_and_prints_the_score_table(graded):
    run, _, _ = graded
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["student", *sorted(SUITES)]
    assert [line.split()[0] for line in lines[1:6]] == list(STUDENTS)
    assert lines[1].split() == ["ada"] + [f"{SUITES[a].max_score:g}/{SUITES[a].max_score:g}"
                                          for a in sorted(SUITES)]
    assert "isolation of learner code:" in run.stdout


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_results_follow_the_gradescope_schema_with_one_entry_per_function(graded, assignment):
    _, out, _ = graded
    names = [spec.name for spec in SUITES[assignment].functions]
    for student in STUDENTS:
        data = results(out, student, assignment)
        assert [t["name"] for t in data["tests"]] == names
        for test in data["tests"]:
            assert set(test) >= {"name", "score", "max_score", "output"}
            assert 0 <= test["score"] <= test["max_score"] == 10
        assert data["score"] == sum(t["score"] for t in data["tests"])
        assert data["extra_data"]["isolation"] in ("bubblewrap", "rlimits")


def test_scores_land_on_the_right_functions(graded):
    _, out, _ = graded
    assert set(scores(out, "ada").values()) == {10}
    ben = scores(out, "ben")
    assert ben["sgd_momentum"] < 10 and ben["adam"] < 10
    assert ben["nesterov_momentum"] == ben["adagrad"] == ben["rmsprop"] == 10
    cy = scores(out, "cy")
    assert cy["rmsprop"] < 10 and cy["nesterov_momentum"] < 10 and cy["adam"] == 0
    assert cy["sgd_momentum"] == cy["adagrad"] == 10
    assert set(scores(out, "eve").values()) == {0}
    assert scores(out, "ben", "batchnorm")["batchnorm_forward"] < 10
    assert set(scores(out, "ben", "preprocessing").values()) == {10}
    cy = scores(out, "cy", "preprocessing")
    assert cy.pop("standardize") < 10 and set(cy.values()) == {10}


def test_a_missing_assignment_still_gets_results_saying_so(graded):
    _, out, _ = graded
    missing = results(out, "cy", "batchnorm")
    assert missing["score"] == 0 and "batchnorm.ipynb is missing" in missing["output"]


def test_feedback_says_what_went_wrong(graded):
    _, out, _ = graded
    ben = {t["name"]: t["output"] for t in results(out, "ben")["tests"]}
    assert "velocity relative error" in ben["sgd_momentum"]
    assert "Diagnosis: your outputs match a known mistake, t incremented after use" in ben["adam"]
    assert "Diagnosis: your outputs match a known mistake, EMA form" in ben["sgd_momentum"]
    dee = results(out, "dee")
    assert dee["score"] == 0 and "is not a notebook: invalid JSON" in dee["output"]
    eve = results(out, "eve")
    assert all("still the stub" in t["output"] for t in eve["tests"])


def test_feedback_never_shows_hidden_inputs_or_reference_code(graded):
    _, out, _ = graded
    for student in STUDENTS:
        text = json.dumps([results(out, student, a) for a in SUITES])
        assert "### BEGIN" not in text and "check_hidden" not in text
        assert "__array__" not in text and "default_rng" not in text


def test_grades_are_in_the_nbgrader_gradebook_per_test_cell(graded):
    _, out, db = graded
    with Gradebook(db) as gradebook:
        for student in STUDENTS:
            submission = gradebook.find_submission("optimizers", student)
            assert submission.score == results(out, student)["score"]
        grade = gradebook.find_grade("test_adam_steps", "optimizers", "optimizers", "ben")
        assert grade.auto_score == 0 and grade.max_score == 4
        grade = gradebook.find_grade("test_adagrad_trajectories", "optimizers", "optimizers", "ben")
        assert grade.auto_score == 4


def test_regrading_gives_the_same_results(graded, tmp_path):
    _, out, db = graded
    shutil.copy(db.removeprefix("sqlite:///"), tmp_path / "gradebook.db")  # the shared one stays
    again = subprocess.run([sys.executable, "-m", "autograder", "grade", str(EXAMPLES),
                            "--out", str(tmp_path / "out"), "--db",
                            f"sqlite:///{tmp_path / 'gradebook.db'}", "--workers", "1"],
                           capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    for student in STUDENTS:
        for assignment in SUITES:
            first = results(out, student, assignment)
            second = results(tmp_path / "out", student, assignment)
            first.pop("execution_time"), second.pop("execution_time")
            assert first == second


def test_a_missing_folder_is_a_clear_error(tmp_path):
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "nope"),
                          "--out", str(tmp_path / "out")], capture_output=True, text=True)
    assert run.returncode == 2 and "is not a folder of submissions" in run.stderr


def copy_examples(tmp_path, copies: int):
    submitted = tmp_path / "submitted"
    for i in range(copies):
        for student in STUDENTS:
            shutil.copytree(EXAMPLES / student, submitted / f"{student}{i}")
    return submitted


def grade(submitted, out, db, *extra):
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--out",
                          str(out), "--db", db, *extra], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return int(re.search(r"graded now: (\d+)", run.stdout).group(1))


def test_a_second_run_grades_only_what_changed_and_force_grades_all(tmp_path):
    submitted = copy_examples(tmp_path, 1)
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'gb.db'}"
    one = ("--assignment", "optimizers")  # five runs: one assignment keeps them short
    total = len(STUDENTS)
    assert grade(submitted, out, db, *one) == total
    assert grade(submitted, out, db, *one) == 0
    notebook = submitted / "ben0" / "optimizers" / "optimizers.ipynb"
    notebook.write_text(notebook.read_text() + "\n")
    assert grade(submitted, out, db, *one) == 1
    assert grade(submitted, out, db, *one, "--force") == total
    assert grade(submitted, out, f"sqlite:///{tmp_path / 'other.db'}", *one) == total


def test_a_killed_batch_resumes_without_regrading_what_was_recorded(tmp_path):
    submitted = copy_examples(tmp_path, 2)
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'gb.db'}"
    total = 2 * len(STUDENTS) * len(SUITES)
    grader = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(submitted),
                               "--out", str(out), "--db", db, "--workers", "1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list(out.glob("*/*/results.json"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    recorded = len(list(out.glob("*/*/results.json")))
    assert 5 <= recorded < total
    assert not list(out.glob("*/*/*.partial"))
    assert grade(submitted, out, db) == total - recorded
    with Gradebook(db) as gradebook:
        assert len(gradebook.submission_dicts("optimizers")) == 2 * len(STUDENTS)


def test_a_grader_failure_on_one_submission_does_not_stop_the_batch(tmp_path, monkeypatch):
    from autograder import batch

    real = batch.grade_submission

    def flaky(suite, student, notebook, *args):
        if student == "ben":
            raise RuntimeError("boom")
        return real(suite, student, notebook, *args)

    monkeypatch.setattr(batch, "grade_submission", flaky)
    results = batch.grade_batch(EXAMPLES, tmp_path / "out", [SUITES["optimizers"]],
                                f"sqlite:///{tmp_path / 'gb.db'}", workers=2)
    by_student = {r.student: r for r in results}
    assert set(by_student) == set(STUDENTS)
    assert by_student["ben"].score == 0 and "the grader failed" in by_student["ben"].output()
    assert by_student["ada"].score == SUITES["optimizers"].max_score
    monkeypatch.setattr(batch, "grade_submission", real)
    again = batch.grade_batch(EXAMPLES, tmp_path / "out", [SUITES["optimizers"]],
                              f"sqlite:///{tmp_path / 'gb.db'}", workers=2)
    assert [r.student for r in again] == ["ben"] and again[0].score > 0
