"""The Gradescope package, laid out as Gradescope lays it out (unzipped into source/,
setup.sh run into a fresh virtual environment, run_autograder run from the root): it
writes a valid results.json with hidden checks marked after_published; its entry point
refuses, with a verdict, an upload that is a link, a FIFO or a folder."""
from __future__ import annotations

import json
import os
import shutil
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


def _clean_env() -> dict:
    """This machine's environment without what would let the package lean on this checkout
    or its virtual environment."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "LECTURE7_COURSE", "PYTHONHOME")}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p != venv_bin)
    return env


@pytest.fixture(scope="module")
def autograder_root(package):
    """A folder laid out as Gradescope lays out /autograder: the zip unzipped into source/,
    setup.sh run from there (a fresh virtual environment in venv/, pip's own cache allowed)."""
    work, target = package
    root = work / "autograder"
    with zipfile.ZipFile(target) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):  # zipfile keeps no modes; Gradescope does
        (root / "source" / script).chmod(0o755)
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source",
                           env=_clean_env(), capture_output=True, text=True, timeout=900)
    assert setup.returncode == 0, setup.stdout[-2000:] + setup.stderr[-3000:]
    assert (root / "venv" / "pyvenv.cfg").is_file()
    return root


def run_autograder(root: Path, notebook: Path) -> dict:
    """What Gradescope does for one upload: the notebook in submission/, run_autograder
    copied to the root and run from there, results read from results/results.json."""
    for folder in ("submission", "results"):
        shutil.rmtree(root / folder, ignore_errors=True)
    (root / "submission").mkdir()
    (root / "submission" / notebook.name).write_bytes(notebook.read_bytes())
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    done = subprocess.run([str(root / "run_autograder")], env=_clean_env(), cwd=root,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_the_zip_holds_setup_run_autograder_the_engine_and_the_source_at_its_top(package):
    _, target = package
    names = set(zipfile.ZipFile(target).namelist())
    assert {"setup.sh", "run_autograder", "requirements.txt", "autograder/grading.py",
            "source/optimizers/optimizers.ipynb", "source/optimizers/checks.py"} <= names
    assert not any(name.startswith("source/autograder/") for name in names)


def test_the_grading_venv_is_fresh_and_holds_only_the_requirements(autograder_root):
    config = (autograder_root / "venv" / "pyvenv.cfg").read_text()
    assert "include-system-site-packages = false" in config
    listed = subprocess.run([str(autograder_root / "venv" / "bin" / "python"), "-c",
                             "import importlib.util as u; print([m for m in ('numpy', "
                             "'nbformat', 'nbgrader', 'matplotlib', 'autograder') "
                             "if u.find_spec(m)])"], cwd="/", env=_clean_env(),
                            capture_output=True, text=True, timeout=60)
    assert listed.stdout.strip() == "['numpy']", listed.stderr


def test_run_autograder_grades_a_submission_into_results_json(autograder_root):
    results = run_autograder(autograder_root,
                             ROOT / "examples/submitted/ben/optimizers/optimizers.ipynb")
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


def test_run_autograder_gives_full_marks_to_a_correct_notebook(autograder_root):
    results = run_autograder(autograder_root,
                             ROOT / "examples/submitted/ada/optimizers/optimizers.ipynb")
    assert results["score"] == SUITES["optimizers"].max_score
    assert results["extra_data"]["status"] == "graded"


def test_run_autograder_says_a_blank_notebook_is_blank(autograder_root):
    results = run_autograder(autograder_root,
                             ROOT / "examples/submitted/eve/optimizers/optimizers.ipynb")
    assert results["score"] == 0 and results["extra_data"]["status"] == "blank"


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
