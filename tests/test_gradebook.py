"""The gradebook rows GradebookWriter.record writes are the ones nbgrader's own API makes.

The writer inserts and updates nbgrader's tables with plain statements (its ORM cost most of
a batch's time); nbgrader's ``add_submission`` and attribute assignments are the oracle here,
and nbgrader's API reads both back."""
from __future__ import annotations

import importlib.metadata
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.gradebook import STATUS_COMMENT, GradebookWriter
from autograder.kit.checks import Check
from autograder.results import FunctionResult, GroupResult, SubmissionResult
from autograder.suites import SUITES

from .helpers import ROOT

SUITE = SUITES["optimizers"]
NOTEBOOK = Path(SUITE.notebook).stem
# the oracle's add_submission builds rows before adding them, which SQLAlchemy 2 warns of
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def result(student: str, passed: set[str], **fields) -> SubmissionResult:
    """A graded submission whose groups pass when their grade id is in ``passed``."""
    functions = [FunctionResult(spec.name, tuple(
        GroupResult(group.grade_id(spec.name), group.summary, group.points, group.hidden,
                    (Check(spec.name, "a case", group.grade_id(spec.name) in passed, "wrong"),))
        for group in spec.groups)) for spec in SUITE.functions]
    return SubmissionResult(student, SUITE.assignment, SUITE.notebook, "test",
                            functions=functions, **fields)


def oracle(gb: Gradebook, res: SubmissionResult) -> None:
    """What the writer does, through nbgrader's ORM."""
    gb.update_or_create_student(res.student)
    gb.update_or_create_submission(SUITE.assignment, res.student)
    notebook = gb.find_submission_notebook(NOTEBOOK, SUITE.assignment, res.student)
    grades = {grade.name: grade for grade in notebook.grades}
    for function in res.functions:
        for group in function.groups:
            grades[group.grade_id].auto_score = group.score
            grades[group.grade_id].needs_manual_grade = False
    for comment in notebook.comments:
        comment.auto_comment = None if res.status == "graded" else STATUS_COMMENT + res.status
    gb.db.commit()


def rows(gb: Gradebook, student: str) -> dict:
    """Everything nbgrader's API says of the student's submission, by cell name."""
    submission = gb.find_submission(SUITE.assignment, student)
    notebook = gb.find_submission_notebook(NOTEBOOK, SUITE.assignment, student)
    return {
        "submission": (submission.timestamp, submission.extension, submission.score,
                       submission.max_score, submission.needs_manual_grade),
        "notebook": (notebook.flagged, notebook.late_submission_penalty, notebook.score,
                     notebook.needs_manual_grade),
        "grades": {g.name: (g.auto_score, g.manual_score, g.extra_credit,
                            g.needs_manual_grade, g.score) for g in notebook.grades},
        "comments": {c.name: (c.auto_comment, c.manual_comment) for c in notebook.comments},
    }


def add_manual_cells(gb: Gradebook) -> None:
    """A manually graded cell and a task cell, as an organizer's own nbgrader cells would be."""
    gb.update_or_create_grade_cell("written-answer", NOTEBOOK, SUITE.assignment,
                                   max_score=3, cell_type="markdown")
    gb.update_or_create_solution_cell("written-answer", NOTEBOOK, SUITE.assignment)
    gb.update_or_create_task_cell("discuss", NOTEBOOK, SUITE.assignment, max_score=2,
                                  cell_type="markdown")


def test_a_new_submission_has_the_rows_and_scores_nbgraders_api_gives(tmp_path):
    groups = [g.grade_id(s.name) for s in SUITE.functions for g in s.groups]
    some = result("x", set(groups[::2]))
    with GradebookWriter(f"sqlite:///{tmp_path / 'gb.db'}") as writer:
        writer.ensure_assignment(SUITE)
        add_manual_cells(writer.gradebook)
        writer.record(SUITE, replace(some, student="ours"))
        oracle(writer.gradebook, replace(some, student="nbgrader"))
        ours, theirs = rows(writer.gradebook, "ours"), rows(writer.gradebook, "nbgrader")
    assert ours == theirs
    assert ours["submission"][2] == sum(g.points for s in SUITE.functions for g in s.groups
                                        if g.grade_id(s.name) in groups[::2]) > 0
    assert ours["grades"]["written-answer"] == (None, None, None, True, 0.0)
    assert set(ours["comments"]) == {s.name for s in SUITE.functions} | {"written-answer",
                                                                          "discuss"}


def add_rows_for_new_cells(gb: Gradebook, student: str) -> None:
    """The rows add_submission would have made for cells added after the submission, which
    nbgrader's ORM does not add later."""
    from nbgrader.api import Comment, Grade

    notebook = gb.find_submission_notebook(NOTEBOOK, SUITE.assignment, student)
    cells = gb.find_notebook(NOTEBOOK, SUITE.assignment)
    graded = {g.cell_id for g in notebook.grades}
    commented = {c.cell_id for c in notebook.comments}
    for cell in [*cells.grade_cells, *cells.task_cells]:
        if cell.id not in graded:
            gb.db.add(Grade(cell_id=cell.id, notebook=notebook))
    for cell in [*cells.solution_cells, *cells.task_cells]:
        if cell.id not in commented:
            gb.db.add(Comment(cell_id=cell.id, notebook=notebook))
    gb.db.commit()


def test_regrading_updates_rows_nbgrader_made_and_keeps_the_organizers_marks(tmp_path):
    points = {g.grade_id(s.name): g.points for s in SUITE.functions for g in s.groups}
    groups = list(points)
    with GradebookWriter(f"sqlite:///{tmp_path / 'gb.db'}") as writer:
        writer.ensure_assignment(SUITE)
        gb = writer.gradebook
        for student in ("ours", "nbgrader"):  # submitted before the organizer's cells existed
            gb.update_or_create_student(student)
            gb.update_or_create_submission(SUITE.assignment, student)
            gb.find_grade(groups[0], NOTEBOOK, SUITE.assignment, student).manual_score = 1.5
        gb.db.commit()
        add_manual_cells(gb)
        for res in (result("x", set(), submitted=False), result("x", set(groups)),
                    result("x", set(groups[1:]))):
            writer.record(SUITE, replace(res, student="ours"))
            add_rows_for_new_cells(gb, "nbgrader")
            oracle(gb, replace(res, student="nbgrader"))
            ours = rows(gb, "ours")
            assert ours == rows(gb, "nbgrader")
            assert ours["comments"]["adam"][0] == (
                None if res.status == "graded" else "status: missing")
        assert ours["grades"][groups[0]][:2] == (0.0, 1.5)  # the organizer's mark is kept
        assert ours["grades"][groups[1]][0] == points[groups[1]] > 0
        assert ours["grades"]["discuss"][3] is True  # a task cell waits for its marker


def test_the_writer_lists_who_submitted_an_assignment(tmp_path):
    with GradebookWriter(f"sqlite:///{tmp_path / 'gb.db'}") as writer:
        assert writer.submitted(SUITE) == set()
        for student in ("a", "b"):
            writer.record(SUITE, result(student, set()))
        writer.record(SUITES["batchnorm"], SubmissionResult(
            "c", "batchnorm", SUITES["batchnorm"].notebook, "test"))
        assert writer.submitted(SUITE) == {"a", "b"}
        assert writer.submitted(SUITES["batchnorm"]) == {"c"}


def nbgraders_structure(gb: Gradebook, suite) -> None:
    """What ensure_assignment does, through nbgrader's update_or_create_* API."""
    notebook = Path(suite.notebook).stem
    gb.update_or_create_assignment(suite.assignment)
    gb.update_or_create_notebook(notebook, suite.assignment)
    for spec in suite.functions:
        gb.update_or_create_solution_cell(spec.name, notebook, suite.assignment)
        for group in spec.groups:
            gb.update_or_create_grade_cell(group.grade_id(spec.name), notebook,
                                           suite.assignment, max_score=group.points,
                                           cell_type="code")


def every_row(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows, sorted, with each row id (a random uuid) replaced by what the row
    names: (table, name, type), so that two gradebooks made apart compare equal."""
    with sqlite3.connect(path) as db:
        tables = [t for t, in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        columns = {t: [c[1] for c in db.execute(f"PRAGMA table_info({t})")] for t in tables}
        labels = {}
        for table in tables:
            if {"id", "name"} <= set(columns[table]):
                kind = "type" if "type" in columns[table] else "NULL"
                labels.update({row: (table, name, kind) for row, name, kind in db.execute(
                    f"SELECT id, name, {kind} FROM {table}")})
        return {table: sorted((tuple(labels.get(v, v) for v in row)
                               for row in db.execute(f"SELECT * FROM {table}")), key=repr)
                for table in tables}


def structure_both_ways(tmp_path: Path, start: Path | None, suite) -> tuple[dict, dict]:
    """The rows after ensure_assignment and after nbgrader's API, each on its own copy of the
    gradebook ``start`` (or a new one)."""
    ours, theirs = tmp_path / "ours.db", tmp_path / "nbgrader.db"
    if start is not None:
        shutil.copy(start, ours)
        shutil.copy(start, theirs)
    with GradebookWriter(f"sqlite:///{ours}") as writer:
        writer.ensure_assignment(suite)
    with Gradebook(f"sqlite:///{theirs}", course_id="lecture7") as gb:
        nbgraders_structure(gb, suite)
    return every_row(ours), every_row(theirs)


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_a_new_gradebook_gets_the_assignment_rows_nbgraders_api_makes(tmp_path, assignment):
    suite = SUITES[assignment]
    ours, theirs = structure_both_ways(tmp_path, None, suite)
    assert ours == theirs
    groups = sum(len(spec.groups) for spec in suite.functions)
    assert len(ours["grade_cells"]) == groups and len(ours["solution_cells"]) == len(
        suite.functions)
    assert sorted(points for _, points, _ in ours["grade_cells"]) == sorted(
        group.points for spec in suite.functions for group in spec.groups)


@pytest.fixture(scope="module")
def generated_gradebook(tmp_path_factory) -> Path:
    """The gradebook `nbgrader generate_assignment optimizers` makes in a course directory:
    the assignment, its notebook, and the grade, solution and source cells it read from the
    source notebook."""
    from .test_nbgrader_roundtrip import nbgrader

    course = tmp_path_factory.mktemp("generated")
    shutil.copytree(ROOT / "source" / SUITE.assignment, course / "source" / SUITE.assignment)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    nbgrader(course, "generate_assignment", SUITE.assignment, "--force")
    return course / "gradebook.db"


def test_cells_nbgrader_generate_assignment_made_are_kept_as_nbgraders_api_keeps_them(
        tmp_path, generated_gradebook):
    before = every_row(generated_gradebook)
    ours, theirs = structure_both_ways(tmp_path, generated_gradebook, SUITE)
    assert ours == theirs
    assert len(before["source_cell"]) > 0 and ours["source_cell"] == before["source_cell"]
    assert ours["grade_cells"] == before["grade_cells"]  # the suite's points are the notebook's


def test_a_changed_max_score_and_a_missing_cell_are_written_as_nbgraders_api_writes_them(
        tmp_path):
    start = tmp_path / "start.db"
    with GradebookWriter(f"sqlite:///{start}") as writer:
        writer.ensure_assignment(SUITE)
    spec = SUITE.functions[0]
    changed = replace(spec.groups[0], points=spec.groups[0].points + 7)
    suite = replace(SUITE, functions=(replace(spec, groups=(changed, *spec.groups[1:])),
                                      *SUITE.functions[1:]))
    with sqlite3.connect(start) as db:  # a cell the organizer removed by hand
        removed = db.execute("SELECT id FROM base_cell WHERE name = ?",
                             (spec.groups[-1].grade_id(spec.name),)).fetchone()[0]
        db.execute("DELETE FROM grade_cells WHERE id = ?", (removed,))
        db.execute("DELETE FROM base_cell WHERE id = ?", (removed,))
    ours, theirs = structure_both_ways(tmp_path, start, suite)
    assert ours == theirs
    cell = ("base_cell", changed.grade_id(spec.name), "GradeCell")
    assert (cell, changed.points, "code") in ours["grade_cells"]
    assert ("base_cell", spec.groups[-1].grade_id(spec.name), "GradeCell") in [
        row[0] for row in ours["grade_cells"]]


def test_the_migration_head_read_from_the_scripts_is_alembics():
    from autograder.gradebook import _alembic_api_head, _alembic_head

    assert _alembic_head() == _alembic_api_head()
    assert len(_alembic_head()) == 12


def test_a_new_gradebook_is_stamped_with_alembics_head(tmp_path):
    from autograder.gradebook import _alembic_api_head

    path = tmp_path / "gb.db"
    GradebookWriter(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (_alembic_api_head(),)]


def test_the_gradebook_loads_without_nbgraders_jupyter_extensions_and_nbgrader_still_imports():
    """A new process: autograder.gradebook skips nbgrader's __init__ (gradebook_api.py), and
    what `release` imports of nbgrader afterwards imports as usual."""
    code = ("import sys, autograder.gradebook; "
            "print('nbgrader.server_extensions' in sys.modules); "
            "from nbgrader.apps import NbGraderAPI; "
            "from nbgrader.converters import GenerateAssignment, GenerateSolution; "
            "import nbgrader; print(nbgrader.__version__)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", importlib.metadata.version("nbgrader")]
