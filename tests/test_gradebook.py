"""The gradebook rows GradebookWriter.record writes are the ones nbgrader's own API makes.

The writer inserts and updates nbgrader's tables with plain statements (its ORM cost most of
a batch's time); nbgrader's ``add_submission`` and attribute assignments are the oracle here,
and nbgrader's API reads both back."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder.gradebook import STATUS_COMMENT, GradebookWriter
from autograder.kit.checks import Check
from autograder.results import FunctionResult, GroupResult, SubmissionResult
from autograder.suites import SUITES

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
