"""Shared fixtures. The expensive ones are built once per test run, however many pytest-xdist
workers ask for them (the first builds under a lock, the others wait and reuse), and are
read-only: a test that changes one works on its own copy."""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from .helpers import ROOT

EXAMPLES = ROOT / "examples" / "submitted"


@pytest.fixture
def gradebook_url(tmp_path):
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


def built_once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder ``name``, made by ``build(folder)`` the first time any worker asks."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, shared by its workers
    folder, done = base / name, base / f"{name}.done"
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def _grade_examples(folder: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(EXAMPLES), "--out",
                          str(folder / "out"), "--db", f"sqlite:///{folder / 'gradebook.db'}",
                          "--workers", "2"], capture_output=True, text=True, timeout=600)
    (folder / "run.json").write_text(json.dumps(
        {"returncode": run.returncode, "stdout": run.stdout, "stderr": run.stderr}))


@pytest.fixture(scope="session")
def graded_examples(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path, str]:
    """`python -m autograder grade` on examples/submitted: (the run, OUT, the gradebook URL)."""
    folder = built_once(tmp_path_factory, "graded-examples", _grade_examples)
    run = json.loads((folder / "run.json").read_text())
    return (subprocess.CompletedProcess("grade", run["returncode"], run["stdout"], run["stderr"]),
            folder / "out", f"sqlite:///{folder / 'gradebook.db'}")


RELEASE_COMMAND = "python -m autograder release"


def _release_copy(folder: Path) -> None:
    for name in ("autograder", "source", "data", "examples", "assignments"):
        shutil.copytree(ROOT / name, folder / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    command = [sys.executable] + RELEASE_COMMAND.split()[1:]
    run = subprocess.run(command, cwd=folder, text=True, capture_output=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.fixture(scope="session")
def released_course(tmp_path_factory) -> Path:
    """A copy of the course in which `python -m autograder release` rebuilt assignments/ and
    solutions/ from source/ (run from the copy: it grades and releases its own files)."""
    return built_once(tmp_path_factory, "released-course", _release_copy)
