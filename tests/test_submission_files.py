"""What a submitted notebook is read from, and what is taken from it.

A submitted notebook is read only if it is a regular file reached without following a link:
a link (to the reference solution, /dev/zero, any file of the grader's machine), a FIFO, a
device or a folder gets a verdict naming it and no marks, and never blocks the grader. The
code cells a learner added to the release (helpers their answers call) are found, labelled
so the learner can find them, and IPython syntax in them cannot break loading.
"""
from __future__ import annotations

import ast
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from autograder.batch import find_jobs, grade_batch
from autograder.course import RELEASE, SOLUTIONS, SOURCE
from autograder.kit.checks import answer_cells, cell_source
from autograder.sandbox.process import Limits
from autograder.submission import (Refused, read_submission, read_submitted_file,
                                   without_ipython)
from autograder.suites import SUITES

from .helpers import solution_notebook, write_submission

SUITE = SUITES["optimizers"]
NAMES = [spec.name for spec in SUITE.functions]
LINKED = "optimizers.ipynb is a symbolic link; submit the notebook file itself"


def within(seconds: float, call, fifo: Path | None = None):
    """call(), which must return within ``seconds``: a grader blocked on a FIFO fails the
    test instead of hanging it (and is then let go by opening the FIFO's other end)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # raised again in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive() and fifo is not None:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(seconds)
    assert outcome, f"still running after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def notebook_at(root: Path, student: str = "eve") -> Path:
    """Where the grader looks for ``student``'s optimizers notebook; its folder made."""
    folder = root / student / "optimizers"
    folder.mkdir(parents=True)
    return folder / SUITE.notebook


def refusal(path: Path) -> str:
    """The one problem read_submission finds with ``path``; it must take no code."""
    submission = within(10, lambda: read_submission(path, NAMES, "optimizers"), fifo=path)
    assert submission.cells == [] and submission.added == []
    assert len(submission.problems) == 1, submission.problems
    return submission.problems[0]


# -- files that are not regular files -------------------------------------------------------

def test_a_notebook_linked_to_the_solution_is_refused(tmp_path):
    path = notebook_at(tmp_path)
    path.symlink_to(SOLUTIONS / "optimizers" / SUITE.notebook)
    assert refusal(path) == LINKED


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_a_notebook_linked_to_a_device_is_refused(tmp_path, device):
    path = notebook_at(tmp_path)
    path.symlink_to(device)
    assert refusal(path) == LINKED


def test_a_fifo_is_refused_without_blocking(tmp_path):
    path = notebook_at(tmp_path)
    os.mkfifo(path)
    assert refusal(path) == ("optimizers.ipynb is a FIFO (named pipe), not a regular file; "
                             "submit the notebook file itself")
    with pytest.raises(Refused, match="FIFO"):
        within(10, lambda: read_submitted_file(path), fifo=path)


def test_a_device_node_is_refused(tmp_path):
    path = notebook_at(tmp_path)
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # /dev/null's numbers
    except PermissionError:
        pytest.skip("making a device node needs CAP_MKNOD")
    assert "is a character device" in refusal(path)


def test_a_folder_named_like_the_notebook_is_refused(tmp_path):
    path = notebook_at(tmp_path)
    path.mkdir()
    assert refusal(path) == ("optimizers.ipynb is a directory, not a regular file; submit "
                             "the notebook file itself")


def test_a_linked_student_or_assignment_folder_is_not_followed(tmp_path):
    honest = write_submission(tmp_path, "ada", "optimizers", SUITE.notebook,
                              solution_notebook("optimizers", SUITE.notebook))
    assert read_submission(honest, NAMES, "optimizers").problems == []
    (tmp_path / "eve").symlink_to(tmp_path / "ada")
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "optimizers").symlink_to(SOLUTIONS / "optimizers")
    for student, folder in (("eve", "eve"), ("bob", "optimizers")):
        assert refusal(tmp_path / student / "optimizers" / SUITE.notebook) == (
            f"the folder '{folder}' that holds optimizers.ipynb is a symbolic link; submit the "
            f"notebook file itself")


def test_only_the_size_limit_is_read(tmp_path):
    path = notebook_at(tmp_path)
    path.write_bytes(b"x" * 3 * 2**20)
    assert read_submitted_file(path, limit=3 * 2**20) == b"x" * 3 * 2**20
    with pytest.raises(Refused, match=r"is 3 MiB, over the 2 MiB limit"):
        read_submitted_file(path, limit=2 * 2**20)


def test_a_batch_grades_every_refused_file_zero_with_its_verdict(tmp_path, capsys):
    """Through `python -m autograder grade`'s engine: the fingerprint and the grading read
    the same way, nothing blocks, and the linked student gets a verdict, not ada's marks."""
    submitted = tmp_path / "submitted"
    solved = solution_notebook("optimizers", SUITE.notebook)
    write_submission(submitted, "ada", "optimizers", SUITE.notebook, solved)
    notebook_at(submitted, "linked").symlink_to(SOURCE / "optimizers" / SUITE.notebook)
    notebook_at(submitted, "to-zero").symlink_to("/dev/zero")
    os.mkfifo(notebook_at(submitted, "fifo"))
    notebook_at(submitted, "folder").mkdir()
    (submitted / "linked-student").symlink_to(submitted / "ada")
    (submitted / "linked-assignment").mkdir()
    (submitted / "linked-assignment" / "optimizers").symlink_to(submitted / "ada" / "optimizers")
    # a name the gradebook cannot store as an id: skipped with a warning, the batch goes on
    undecodable = os.fsencode(submitted) + b"/bad-\xffname/optimizers"
    os.makedirs(undecodable)
    (Path(os.fsdecode(undecodable)) / SUITE.notebook).write_text(json.dumps(solved))
    expected = {"linked": LINKED, "to-zero": LINKED, "fifo": "is a FIFO (named pipe)",
                "folder": "is a directory", "linked-student": "folder 'linked-student'",
                "linked-assignment": "folder 'optimizers' that holds optimizers.ipynb is a "
                                     "symbolic link"}
    assert [job.student for job in find_jobs(submitted, [SUITE])] == sorted([*expected, "ada"])
    results = within(120, lambda: grade_batch(
        submitted, tmp_path / "out", [SUITE], f"sqlite:///{tmp_path / 'gradebook.db'}",
        workers=2, limits=Limits(call_seconds=5.0)), fifo=submitted / "fifo" / "optimizers"
        / SUITE.notebook)
    assert {r.student: r.score for r in results} == {**dict.fromkeys(expected, 0),
                                                     "ada": SUITE.max_score}
    assert "must be UTF-8 text; rename it" in capsys.readouterr().err
    for student, says in expected.items():
        data = json.loads((tmp_path / "out" / student / "optimizers" / "results.json")
                          .read_text())
        assert data["score"] == 0 and says in data["output"], (student, data["output"])


# -- the code cells a learner added ---------------------------------------------------------

def released(assignment: str) -> dict:
    return json.loads((RELEASE / assignment / SUITES[assignment].notebook).read_text())


def added(nb: dict, tmp_path: Path, assignment: str = "optimizers") -> list[tuple[str, str]]:
    suite = SUITES[assignment]
    path = write_submission(tmp_path, "eve", assignment, suite.notebook, nb)
    submission = read_submission(path, [spec.name for spec in suite.functions], assignment)
    assert submission.problems == []
    return submission.added


def code_cell(source: str, cell_id: str | None = "learner-helper") -> dict:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": source}
    return cell if cell_id is None else {"id": cell_id, **cell}


def position(nb: dict, grade_id: str) -> int:
    """The index of answer cell ``grade_id`` in the notebook's cells."""
    return next(i for i, c in enumerate(nb["cells"])
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_neither_the_release_nor_the_solution_has_added_cells(tmp_path, assignment):
    notebook = SUITES[assignment].notebook
    assert added(released(assignment), tmp_path / "release", assignment) == []
    assert added(solution_notebook(assignment, notebook), tmp_path / "solution", assignment) == []


def test_an_inserted_helper_cell_is_the_one_added_cell_with_a_label_to_find_it(tmp_path):
    nb = solution_notebook("optimizers", SUITE.notebook)
    helper = "def scaled(dw, lr):\n    return lr * dw\n"
    index = position(nb, "adagrad") + 4  # below adagrad's answer and its three test cells
    nb["cells"].insert(index, code_cell(helper))
    nb["cells"].insert(1, code_cell("   \n", "an-empty-cell"))  # nothing to load: left out
    assert added(nb, tmp_path) == [
        (f"added code cell {index + 2} (the 4th code cell after answer cell 'adagrad')", helper)]


def test_without_cell_ids_the_release_is_told_by_its_code(tmp_path):
    nb = released("optimizers")
    for cell in nb["cells"]:
        cell.pop("id", None)
    nb["nbformat_minor"] = 4
    demo = next(c for c in nb["cells"] if c["cell_type"] == "code" and not c["metadata"])
    nb["cells"] += [code_cell("print('mine')\n", None),
                    code_cell(cell_source(demo), "pasted-again")]  # the release's: not added
    assert added(nb, tmp_path) == [
        (f"added code cell {len(nb['cells']) - 1} (the 5th code cell after answer cell 'adam')",
         "print('mine')\n")]


def test_ipython_lines_become_pass_in_added_and_answer_cells(tmp_path):
    nb = solution_notebook("optimizers", SUITE.notebook)
    helper = "%matplotlib inline\ndef helper(x):\n    !echo hi\n    return (x\n        % 2)\n"
    nb["cells"].insert(1, code_cell(helper))
    answer = dict(answer_cells(nb))["adam"]
    nb["cells"][position(nb, "adam")]["source"] = "%time 1\n" + answer
    path = write_submission(tmp_path, "eve", "optimizers", SUITE.notebook, nb)
    submission = read_submission(path, NAMES, "optimizers")
    assert submission.added == [(
        "added code cell 2 (the 1st code cell from the top)",
        "pass  # IPython, not run by the grader: %matplotlib inline\ndef helper(x):\n"
        "    pass  # IPython, not run by the grader: !echo hi\n    return (x\n        % 2)\n")]
    assert dict(submission.cells)["adam"] == (
        "pass  # IPython, not run by the grader: %time 1\n" + answer)
    for _, source in submission.added + submission.cells:
        ast.parse(source)


def test_valid_python_is_left_unchanged():
    for folder in (RELEASE, SOURCE):
        for path in folder.glob("*/*.ipynb"):
            for cell in json.loads(path.read_text())["cells"]:
                if cell["cell_type"] == "code":
                    assert without_ipython(cell_source(cell)) == cell_source(cell), path
    tricky = "s = '''\n%s\n!'''\nt = 'a\\\n%d'\nif (a\n    != b):\n    x = 1 \\\n        % 2\n"
    assert without_ipython(tricky) == tricky


# -- notebooks built to cost the grader memory or time ------------------------------------

def test_a_notebook_of_countless_cells_is_refused_without_costing_the_grader_memory():
    import tracemalloc

    from autograder.submission import MAX_CELLS, parse_notebook

    small = json.dumps({"cells": [{}] * (MAX_CELLS + 1)}).encode()  # parsed in the grader
    large = json.dumps({"cells": [{}] * 2_500_000}).encode()  # 10 MB: parsed in a child
    for raw in (small, large):
        tracemalloc.start()
        with pytest.raises(Refused, match=f"over the limit of {MAX_CELLS}"):
            parse_notebook(raw)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 20 * len(small) + 3 * len(raw)  # no 30-fold expansion of the large one


def test_the_child_hands_back_code_cells_only_and_bounded_metadata():
    from autograder.submission import parse_notebook

    nb = solution_notebook("optimizers", SUITE.notebook)
    nb["cells"][0]["metadata"]["junk"] = "x" * 3 * 2**20  # over the in-process size
    parsed = parse_notebook(json.dumps(nb).encode())
    assert len(parsed["cells"]) == len(nb["cells"])
    for theirs, ours in zip(nb["cells"], parsed["cells"]):
        assert ours["cell_type"] == theirs["cell_type"]
        if theirs["cell_type"] == "code":
            assert ours["source"] == cell_source(theirs)
        else:
            assert set(ours) == {"cell_type"}
    assert dict(answer_cells(parsed)) == dict(answer_cells(nb))


def test_labels_of_added_cells_stay_short_and_only_so_many_are_loaded(tmp_path):
    from autograder.submission import MAX_ADDED_CELLS

    nb = solution_notebook("optimizers", SUITE.notebook)
    at = position(nb, "adam")
    nb["cells"][at]["metadata"]["nbgrader"]["grade_id"] = "adam" + "x" * 2**20
    nb["cells"][at + 1:at + 1] = [code_cell(f"h{i} = {i}\n", f"mine-{i}")
                                  for i in range(MAX_ADDED_CELLS + 20)]
    path = write_submission(tmp_path, "eve", "optimizers", SUITE.notebook, nb)
    submission = read_submission(path, [spec.name for spec in SUITE.functions], "optimizers")
    assert len(submission.added) == MAX_ADDED_CELLS
    assert max(len(label) for label, _ in submission.added) < 120
    assert any(f"only the first {MAX_ADDED_CELLS}" in p for p in submission.problems)


def test_reading_the_notebook_counts_against_the_submissions_time(tmp_path):
    import time

    from autograder.grading import grade_submission

    nb = solution_notebook("optimizers", SUITE.notebook)
    bomb = json.dumps(dict(nb, junk=[[{}]] * (60 * 2**20 // 6)), separators=(",", ":"))
    path = write_submission(tmp_path, "eve", "optimizers", SUITE.notebook, bomb)
    started = time.monotonic()
    result = grade_submission(SUITE, "eve", path, Limits(submission_seconds=1.0))
    assert time.monotonic() - started < 5
    assert result.score == 0 and "took over 1 s" in result.output()
