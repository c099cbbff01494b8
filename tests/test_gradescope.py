"""The Gradescope package: its run_autograder, run here against a submission folder,
writes a valid results.json with hidden checks marked after_published."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder.suites import SUITES

from .helpers import ROOT


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


def test_run_autograder_gives_full_marks_to_a_correct_notebook(package):
    work, target = package
    results = run_autograder(work, target, ROOT / "examples/submitted/ada/optimizers/optimizers.ipynb",
                             "ada")
    assert results["score"] == SUITES["optimizers"].max_score
