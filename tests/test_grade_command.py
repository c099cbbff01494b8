"""`python -m autograder grade` on the example submissions: the command-line contract,
Gradescope-schema results for every learner, and grades in the nbgrader gradebook."""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    grading = _children(grader.pid)
    grader.send_signal(signal.SIGKILL)
    grader.wait()
    # its grading processes are killed with it, their sandboxes and warm templates too
    given_up = time.monotonic() + 5
    while any(map(_alive, grading)) and time.monotonic() < given_up:
        time.sleep(0.05)
    assert grading and not any(map(_alive, grading))
    recorded = len(list(out.glob("*/*/results.json")))
    assert 5 <= recorded < total
    assert not list(out.glob("*/*/*.partial"))
    assert grade(submitted, out, db) == total - recorded
    assert not _left_behind(grading)  # what the killed processes left, the next run removed
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


def _children(pid: int) -> set[int]:
    """The processes ``pid`` started, by their parent id in /proc."""
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.add(int(entry))
    return found


def _left_behind(pids) -> list[Path]:
    """The scratch folders and sandbox cgroups that the processes ``pids`` made and left."""
    from autograder.sandbox.cgroup import PREFIX
    from autograder.sandbox.process import SCRATCH_PREFIX

    return [path for pid in pids for path in
            [*Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}{pid}-*"),
             *Path("/sys/fs/cgroup").glob(f"*/{PREFIX}{pid}-*"),  # cgroup v1's hierarchies
             *Path("/sys/fs/cgroup").glob(f"{PREFIX}{pid}-*")]]  # the unified one


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_ctrl_c_stops_the_batch_at_once_says_how_to_resume_and_the_rerun_resumes(tmp_path):
    submitted = copy_examples(tmp_path, 2)
    out, db = tmp_path / "out", f"sqlite:///{tmp_path / 'gb.db'}"
    total = 2 * len(STUDENTS) * len(SUITES)
    grader = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(submitted),
                               "--out", str(out), "--db", db, "--workers", "3"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while (len(list(out.glob("*/*/results.json"))) < 3 or not _children(grader.pid)) \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    learners = _children(grader.pid)  # grading processes at work when Ctrl-C comes
    assert learners
    grader.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, stderr = grader.communicate(timeout=60)
    stopped = time.monotonic() - sent
    assert grader.returncode == 130, stderr
    assert stopped < 5, f"took {stopped:.1f} s to stop"
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    message = [line for line in stderr.splitlines() if line.startswith("interrupted:")]
    assert len(message) == 1 and "run the same command again" in message[0]
    assert not any(_alive(pid) for pid in learners)
    assert not _left_behind({grader.pid, *learners})
    recorded = len(list(out.glob("*/*/results.json")))
    assert 3 <= recorded < total
    assert f"{recorded} of {total} submissions were recorded" in message[0]
    assert grade(submitted, out, db) == total - recorded


def test_grading_a_release_folder_is_refused_before_the_gradebook_is_touched(tmp_path):
    db = tmp_path / "gb.db"
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(ROOT / "assignments"),
                          "--out", str(tmp_path / "out"), "--db", f"sqlite:///{db}"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "is not a folder of submissions" in run.stderr
    assert re.search(r"assignments/(\w+)/\1\.ipynb lies one level down", run.stderr)
    assert "<student>/<assignment>" in run.stderr
    assert not db.exists() and not (tmp_path / "out").exists()


def test_a_folder_of_one_learner_with_notebooks_inside_is_refused(tmp_path):
    from autograder.batch import layout_problem

    (tmp_path / "ada").mkdir()
    (tmp_path / "ada" / "optimizers.ipynb").write_text("{}")
    assert "lies one level down" in layout_problem(tmp_path, list(SUITES.values()))
    (tmp_path / "ben" / "optimizers").mkdir(parents=True)  # one learner in the layout
    assert layout_problem(tmp_path, list(SUITES.values())) is None


def test_statuses_of_missing_blank_and_unreadable_submissions(graded, tmp_path):
    run, out, db = graded
    assert results(out, "ada")["extra_data"]["status"] == "graded"
    assert results(out, "cy", "batchnorm")["extra_data"]["status"] == "missing"
    assert results(out, "dee")["extra_data"]["status"] == "unreadable"
    assert results(out, "eve")["extra_data"]["status"] == "blank"
    table = {line.split()[0]: line for line in run.stdout.splitlines()[1:6]}
    assert "0/50 unreadable" in table["dee"] and "0/30 missing" in table["cy"]
    given = [folder.name for folder in (EXAMPLES / "eve").iterdir() if folder.name in SUITES]
    assert table["eve"].count("blank") == len(given) and "missing" not in table["ada"]
    index = (out / "index.html").read_text()
    assert "0 / 50 (unreadable)" in index and "0 / 30 (missing)" in index
    from autograder.export import export_csv

    export_csv(db, tmp_path / "grades.csv")
    rows = {(r["student"], r["assignment"]): r["status"]
            for r in csv.DictReader(open(tmp_path / "grades.csv"))}
    assert rows["ada", "optimizers"] == "graded" and rows["eve", "preprocessing"] == "blank"
    assert rows["dee", "optimizers"] == "unreadable" and rows["cy", "batchnorm"] == "missing"


def test_remove_student_removes_them_from_the_gradebook_and_the_index(graded, tmp_path):
    _, out, db = graded
    shutil.copy(db.removeprefix("sqlite:///"), tmp_path / "gb.db")
    shutil.copytree(out, tmp_path / "out")
    command = [sys.executable, "-m", "autograder", "remove-student", "eve", "--db",
               f"sqlite:///{tmp_path / 'gb.db'}", "--out", str(tmp_path / "out")]
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    with Gradebook(f"sqlite:///{tmp_path / 'gb.db'}") as gradebook:
        assert "eve" not in {s.id for s in gradebook.students}
        assert "ada" in {s.id for s in gradebook.students}
    assert not (tmp_path / "out" / "eve").exists()
    index = (tmp_path / "out" / "index.html").read_text()
    assert "<td>eve</td>" not in index and "<td>ada</td>" in index
    again = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "no student 'eve'" in again.stderr
