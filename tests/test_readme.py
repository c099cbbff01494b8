"""The README's commands are the ones that work: the organizer's term, in order, in a
scratch copy of the course, and the learner's self-check."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from autograder.suites import SUITES

from .conftest import RELEASE_COMMAND
from .helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[list[str]]:
    return [[line.strip() for line in block.splitlines() if line.strip()]
            for block in re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)]


def test_the_readme_opens_with_the_two_commands():
    first = blocks("bash")[0]
    assert first[0].startswith("./run demo") and first[1].startswith("./run test")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./run test" in ci


@pytest.fixture(scope="module")
def course(tmp_path_factory, released_course):
    """A scratch copy of the course after the README's first command, `release`, which the
    shared fixture ran in it (the release tests read the same copy)."""
    course = tmp_path_factory.mktemp("readme") / "course"
    shutil.copytree(released_course, course, symlinks=True)
    return course


def test_the_organizers_commands_run_in_order(course):
    organizer = next(b for b in blocks("sh") if b[0].startswith("python -m autograder release"))
    assert len(organizer) == 5
    assert organizer[0] == RELEASE_COMMAND  # already run in this copy, in this order
    for line in organizer[1:]:
        command = [sys.executable if word == "python" else word for word in line.split()]
        run = subprocess.run(command, cwd=course, capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, (line, run.stderr[-2000:])
    assert (course / "feedback" / "index.html").is_file()
    students = [d for d in (course / "examples" / "submitted").iterdir() if d.is_dir()]
    # a header, then one row per student and assignment: missing submissions included
    assert (course / "grades.csv").read_text().count("\n") == 1 + len(students) * len(SUITES)
    assert (course / "optimizers-gradescope.zip").is_file()


def test_the_learners_commands_run_and_report_the_stubs(course):
    learner = next(b for b in blocks("sh") if b[0].startswith("cd assignments/"))
    folder = course / learner[0].split()[1]
    command = [sys.executable if word == "python" else word for word in learner[1].split()]
    run = subprocess.run(command + ["-p", "no:cacheprovider"], cwd=folder, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 1 and "still the stub" in run.stdout
