"""The course with the real nbgrader: generate, validate, autograde, feedback, export; and
`nbgrader autograde` gives every test cell the same score as `python -m autograder grade`."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.suites import SUITES

from .helpers import ROOT

STUDENTS = ("ada", "ben", "cy", "eve")  # honest, partly wrong, partly wrong, stubs only


# The `nbgrader` command itself, with one optional import marked absent as autograder does
# (see autograder/__init__.py): it saves a second at each of the twenty calls below.
NBGRADER = ("import sys; sys.modules['rfc3987_syntax'] = None; "
            "from nbgrader.apps.nbgraderapp import main; sys.exit(main())")


def nbgrader(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run([sys.executable, "-c", NBGRADER, *args], cwd=course,
                         env=env, capture_output=True, text=True, timeout=900)
    if check:
        assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return run


def build_course(course: Path, assignment: str) -> Path:
    """One assignment through nbgrader (generate, solution, autograde) and through ours."""
    course.mkdir(parents=True)
    shutil.copytree(ROOT / "source" / assignment, course / "source" / assignment, symlinks=False)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for student in STUDENTS:
        submitted = ROOT / "examples" / "submitted" / student / assignment
        if submitted.is_dir():
            shutil.copytree(submitted, course / "submitted" / student / assignment)
    nbgrader(course, "generate_assignment", assignment, "--force")
    nbgrader(course, "generate_solution", assignment, "--force")
    nbgrader(course, "autograde", assignment, "--force")
    ours = subprocess.run([sys.executable, "-m", "autograder", "grade", str(course / "submitted"),
                           "--out", str(course / "ours"), "--db", f"sqlite:///{course / 'ours.db'}",
                           "--assignment", assignment], capture_output=True, text=True,
                          timeout=600)
    assert ours.returncode == 0, ours.stderr
    return course


@pytest.fixture(scope="module")
def courses(tmp_path_factory) -> dict[str, Path]:
    """assignment -> its course folder: one course per assignment, built side by side (each
    chain of nbgrader commands is sequential, and each has its own nbgrader database)."""
    root = tmp_path_factory.mktemp("courses")
    with ThreadPoolExecutor(len(SUITES)) as pool:
        built = {a: pool.submit(build_course, root / a, a) for a in sorted(SUITES)}
        return {a: future.result() for a, future in built.items()}


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_generated_folders_match_the_committed_ones(courses, assignment):
    course, notebook = courses[assignment], SUITES[assignment].notebook
    for folder in ("assignments", "solutions"):
        assert (course / folder / assignment / notebook).is_file()
    for name in ("checks.py", "visible_cases.json", f"test_{assignment}.py"):
        assert (course / "assignments" / assignment / name).read_bytes() == \
            (ROOT / "assignments" / assignment / name).read_bytes()


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_validate_passes_the_source_and_fails_every_test_of_the_release(courses, assignment):
    course, notebook = courses[assignment], SUITES[assignment].notebook
    source = nbgrader(course, "validate", f"source/{assignment}/{notebook}")
    assert "Success! Your notebook passes all the tests." in source.stdout
    release = nbgrader(course, "validate", "--invert", f"assignments/{assignment}/{notebook}")
    assert "Success! The notebook does not pass any tests." in release.stdout


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_nbgrader_autograde_and_our_grader_give_every_test_cell_the_same_score(courses, assignment):
    course, suite = courses[assignment], SUITES[assignment]
    notebook = Path(suite.notebook).stem
    cells = [g.grade_id(f.name) for f in suite.functions for g in f.groups]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as theirs, \
            Gradebook(f"sqlite:///{course / 'ours.db'}") as ours:
        for student in STUDENTS:
            if not (course / "submitted" / student / assignment).is_dir():
                continue
            for cell in cells:
                nb_score = theirs.find_grade(cell, notebook, assignment, student).score
                our_score = ours.find_grade(cell, notebook, assignment, student).score
                assert nb_score == our_score, (student, cell, nb_score, our_score)


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_generate_feedback_and_export_work_on_the_result(courses, assignment):
    course = courses[assignment]
    nbgrader(course, "generate_feedback", assignment, "--force")
    submitted = sum((course / "submitted" / s / assignment).is_dir() for s in STUDENTS)
    assert len(list((course / "feedback").glob("*/*/*.html"))) == submitted
    nbgrader(course, "export")
    rows = (course / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + submitted


def test_zip_collect_output_is_graded_by_our_grade_command(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(ROOT / "source", course / "source", symlinks=False)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    archive = course / "downloaded" / "optimizers" / "archive"
    archive.mkdir(parents=True)
    for student in ("ada", "ben"):  # as a learning management system names its downloads
        shutil.copy(ROOT / "examples" / "submitted" / student / "optimizers" / "optimizers.ipynb",
                    archive / f"optimizers_{student}_attempt_2026-11-26-10-00-00_optimizers.ipynb")
    nbgrader(course, "zip_collect", "optimizers", "--force",
             "--FileNameCollectorPlugin.named_regexp="
             r".+_(?P<student_id>[a-z]+)_attempt_(?P<timestamp>[0-9\-]+)_(?P<file_id>.+)")
    assert (course / "submitted" / "ada" / "optimizers" / "optimizers.ipynb").is_file()
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(course / "submitted"),
                          "--out", str(course / "out"), "--db", f"sqlite:///{tmp_path / 'gb.db'}",
                          "--assignment", "optimizers"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    scores = {line.split()[0]: line.split()[1] for line in run.stdout.splitlines()[1:3]}
    assert scores == {"ada": "50/50", "ben": "30/50"}
