"""The Gradescope package: its run_autograder, run here against a submission folder,
writes a valid results.json with hidden checks marked after_published; its entry point
refuses, with a verdict, an upload that is a link, a FIFO or a folder."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.course import SOLUTIONS
from autograder.gradescope import run
from autograder.suites import SUITES

from .helpers import ROOT
from .test_submission_files import within

NOTEBOOK = SUITES["optimizers"].notebook
SOLVED = SOLUTIONS / "optimizers" / NOTEBOOK


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    work = tmp_path_factory.mktemp("gradescope")
    target = work / "optimizers.zip"
    run = subprocess.run([sys.executable, "-m", "autograder", "gradescope", "optimizers",
                          "--zip", str(target)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return work, target


def run_autograder(work: Path, target: Path, notebook: Path, name: str) -> dict:
    root = work / name
    with zipfile.ZipFile(target) as archive:
        archive.extractall(root / "source_zip")
    (root / "submission").mkdir(parents=True)
    (root / "submission" / notebook.name).write_bytes(notebook.read_bytes())
    os.rename(root / "source_zip" / "source", root / "source")
    script = root / "source_zip" / "run_autograder"
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}
    env.pop("LECTURE7_COURSE", None)
    done = subprocess.run(["bash", str(script)], env=env, cwd=root, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_the_zip_holds_setup_run_autograder_the_engine_and_the_source(package):
    _, target = package
    names = set(zipfile.ZipFile(target).namelist())
    assert {"setup.sh", "run_autograder", "source/autograder/grading.py",
            "source/source/optimizers/optimizers.ipynb",
            "source/source/optimizers/checks.py"} <= names


def test_run_autograder_grades_a_submission_into_results_json(package):
    work, target = package
    results = run_autograder(work, target, ROOT / "examples/submitted/ben/optimizers/optimizers.ipynb",
                             "ben")
    names = [t["name"] for t in results["tests"]]
    functions = [f.name for f in SUITES["optimizers"].functions]
    assert names == [f"{f} ({kind} checks)" for f in functions for kind in ("visible", "hidden")]
    assert {t["visibility"] for t in results["tests"] if "hidden" in t["name"]} == {"after_published"}
    assert {t["visibility"] for t in results["tests"] if "visible" in t["name"]} == {"visible"}
    assert results["score"] == sum(t["score"] for t in results["tests"]) == 30
    assert all(0 <= t["score"] <= t["max_score"] for t in results["tests"])
    # what is shown at once tells nothing of the hidden groups, nor the other way round
    outputs = {t["name"]: t["output"] for t in results["tests"]}
    for spec in SUITES["optimizers"].functions:
        shown, later = outputs[f"{spec.name} (visible checks)"], outputs[f"{spec.name} (hidden checks)"]
        for group in spec.groups:
            assert (group.summary in shown, group.summary in later) == \
                (not group.hidden, group.hidden), (spec.name, group.summary)


def test_run_autograder_gives_full_marks_to_a_correct_notebook(package):
    work, target = package
    results = run_autograder(work, target, ROOT / "examples/submitted/ada/optimizers/optimizers.ipynb",
                             "ada")
    assert results["score"] == SUITES["optimizers"].max_score


def graded_upload(tmp_path: Path, upload) -> dict:
    """results.json from the entry point run_autograder calls, for a submission folder
    laid out by ``upload(folder)``; the run must not block, whatever was uploaded."""
    submission = tmp_path / "submission"
    submission.mkdir()
    upload(submission)
    results = tmp_path / "results" / "results.json"
    fifo = submission / NOTEBOOK if (submission / NOTEBOOK).is_fifo() else None
    within(60, lambda: run("optimizers", submission, results), fifo=fifo)
    return json.loads(results.read_text())


REFUSED = {
    "linked-to-the-solution": (lambda s: (s / NOTEBOOK).symlink_to(SOLVED),
                               "optimizers.ipynb is a symbolic link; submit the notebook file itself"),
    "linked-under-another-name": (lambda s: (s / "mine.ipynb").symlink_to(SOLVED),
                                  "mine.ipynb is a symbolic link"),
    "linked-to-dev-zero": (lambda s: (s / NOTEBOOK).symlink_to("/dev/zero"),
                           "optimizers.ipynb is a symbolic link"),
    "fifo": (lambda s: os.mkfifo(s / NOTEBOOK), "optimizers.ipynb is a FIFO (named pipe)"),
    "folder": (lambda s: (s / NOTEBOOK).mkdir(), "optimizers.ipynb is a directory"),
}


@pytest.mark.parametrize("upload", sorted(REFUSED))
def test_an_upload_that_is_not_a_regular_file_scores_zero_with_its_verdict(tmp_path, upload):
    lay_out, says = REFUSED[upload]
    results = graded_upload(tmp_path, lay_out)
    assert results["score"] == 0 and {t["score"] for t in results["tests"]} == {0}
    assert says in results["output"], results["output"]


def test_a_notebook_in_a_real_folder_is_found_past_jupyters_checkpoints(tmp_path):
    def upload(submission: Path) -> None:
        checkpoints = submission / "work" / ".ipynb_checkpoints"
        checkpoints.mkdir(parents=True)
        (submission / "work" / NOTEBOOK).write_bytes(SOLVED.read_bytes())
        (checkpoints / "optimizers-checkpoint.ipynb").write_text("{}")

    assert graded_upload(tmp_path, upload)["score"] == SUITES["optimizers"].max_score
