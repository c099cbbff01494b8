"""Write results into the nbgrader gradebook: nbgrader's own tables, in the rows its API makes.

The assignment's structure (one grade cell per suite group, one solution cell per graded
function) mirrors the source notebook's nbgrader cells, so ``nbgrader export`` and
``nbgrader generate_feedback`` read our grades as if ``nbgrader autograde`` had written them.
Each submission's grades are committed in one transaction.

A submission that was not graded on its merits (results.Status: missing, blank, unreadable,
grader failed) says so in the automatic comment of each of its answer cells, as
``status: <status>``; nbgrader's own autograde writes "No response." there for an answer
cell left as released. export.py reads either back as the submission's status.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import nbgrader.api as nbgrader_api
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy import bindparam, insert, select, update

from .course import put_python_tools_on_path
from .results import GRADED, SubmissionResult
from .suite import Suite

STATUS_COMMENT = "status: "


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


@functools.cache
def _alembic_head() -> str:
    """The head of nbgrader's gradebook migrations, read with alembic's own API.

    nbgrader asks the ``alembic`` command for it each time it creates a gradebook: a new
    Python process that took 2.5 s here, longer than grading the demo's submissions. The
    answer is the same, read in this process."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import _temp_alembic_ini

    with _temp_alembic_ini("sqlite://") as ini:
        return ScriptDirectory.from_config(Config(ini)).get_current_head()


class GradebookWriter:
    def __init__(self, db_url: str, course_id: str = "lecture7"):
        put_python_tools_on_path()
        nbgrader_api.get_alembic_version = _alembic_head
        self.gradebook = Gradebook(db_url, course_id=course_id)
        self._known: set[str] = set()
        self._cell_ids: dict[str, _Cells] = {}
        self._students: set[str] = set()  # known to be in the gradebook

    def close(self) -> None:
        self.gradebook.close()

    def __enter__(self) -> "GradebookWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def ensure_assignment(self, suite: Suite) -> None:
        if suite.assignment in self._known:
            return
        gb, notebook = self.gradebook, Path(suite.notebook).stem
        gb.update_or_create_assignment(suite.assignment)
        gb.update_or_create_notebook(notebook, suite.assignment)
        for spec in suite.functions:
            gb.update_or_create_solution_cell(spec.name, notebook, suite.assignment)
            for group in spec.groups:
                gb.update_or_create_grade_cell(group.grade_id(spec.name), notebook,
                                               suite.assignment, max_score=group.points,
                                               cell_type="code")
        self._known.add(suite.assignment)

    def remove_student(self, student: str) -> list[str]:
        """Remove ``student`` and every submission of theirs; returns the assignments whose
        submissions were removed. Raises KeyError naming the learner when there is none."""
        try:
            found = self.gradebook.find_student(student)
        except MissingEntry:
            raise KeyError(f"no student {student!r} in the gradebook") from None
        assignments = sorted(s.assignment.name for s in found.submissions)
        self.gradebook.remove_student(student)
        return assignments

    def submitted(self, suite: Suite) -> set[str]:
        """The students with a submission of ``suite``'s assignment, in one query."""
        submission, assignment = nbgrader_api.SubmittedAssignment, nbgrader_api.Assignment
        rows = self.gradebook.db.execute(
            select(submission.student_id).join(assignment,
                                              submission.assignment_id == assignment.id)
            .where(assignment.name == suite.assignment))
        return {student for student, in rows}

    def _cells(self, suite: Suite) -> _Cells:
        """The ids the rows of a submission of ``suite`` refer to, read once per writer."""
        cells = self._cell_ids.get(suite.assignment)
        if cells is None:
            self.ensure_assignment(suite)
            notebook = self.gradebook.find_notebook(Path(suite.notebook).stem, suite.assignment)
            cells = self._cell_ids[suite.assignment] = _Cells(
                notebook.assignment.id, notebook.id,
                {cell.name: cell.id for cell in notebook.grade_cells},
                [cell.id for cell in notebook.solution_cells],
                [cell.id for cell in notebook.task_cells])
        return cells

    def record(self, suite: Suite, result: SubmissionResult) -> None:
        """The submission's grades and status, in one transaction.

        The rows are those nbgrader's ``add_submission`` makes (a grade per grade and task
        cell, a comment per solution and task cell), written as plain statements: through
        nbgrader's ORM a record took 11.5 ms, most of a batch's time in the grader's process."""
        cells = self._cells(suite)
        scores = {cells.grades[group.grade_id]: group.score
                  for function in result.functions for group in function.groups}
        status = None if result.status == GRADED else STATUS_COMMENT + result.status
        connection = self.gradebook.db.connection()
        try:
            if result.student not in self._students and _find(
                    connection, _STUDENT, id=result.student) is None:
                connection.execute(insert(_STUDENT).values(id=result.student))
            submission = _find(connection, _SUBMISSION, assignment_id=cells.assignment,
                               student_id=result.student)
            notebook = None
            if submission is None:
                submission = _insert(connection, _SUBMISSION, assignment_id=cells.assignment,
                                     student_id=result.student)
            else:
                notebook = _find(connection, _NOTEBOOK, assignment_id=submission,
                                 notebook_id=cells.notebook)
            if notebook is None:
                notebook = _insert(connection, _NOTEBOOK, assignment_id=submission,
                                   notebook_id=cells.notebook)
            _write_rows(connection, _GRADE, notebook, [*cells.grades.values(), *cells.tasks],
                        {cell: {"auto_score": score, "needs_manual_grade": False}
                         for cell, score in scores.items()})
            _write_rows(connection, _COMMENT, notebook, [*cells.solutions, *cells.tasks],
                        dict.fromkeys(cells.solutions + cells.tasks, {"auto_comment": status}))
            self.gradebook.db.commit()
        except Exception:
            self.gradebook.db.rollback()
            raise
        self._students.add(result.student)


@dataclass(frozen=True)
class _Cells:
    assignment: str
    notebook: str
    grades: dict[str, str]  # grade cell name -> id
    solutions: list[str]
    tasks: list[str]


_STUDENT = nbgrader_api.Student.__table__
_SUBMISSION = nbgrader_api.SubmittedAssignment.__table__
_NOTEBOOK = nbgrader_api.SubmittedNotebook.__table__
_GRADE = nbgrader_api.Grade.__table__
_COMMENT = nbgrader_api.Comment.__table__


def _find(connection, table, **key) -> str | None:
    """The id of ``table``'s row with these values, or None."""
    found = connection.execute(select(table.c.id).where(
        *(table.c[name] == value for name, value in key.items()))).first()
    return None if found is None else found[0]


def _insert(connection, table, **values) -> str:
    row = nbgrader_api.new_uuid()
    connection.execute(insert(table).values(id=row, **values))
    return row


def _write_rows(connection, table, notebook: str, cells: list[str],
                values: dict[str, dict]) -> None:
    """The submitted notebook's row of ``table`` (grades or comments) for each of ``cells``,
    holding ``values[cell]``: made with the table's defaults for the rest where there is
    none, updated where there is one."""
    have = {cell for cell, in connection.execute(
        select(table.c.cell_id).where(table.c.notebook_id == notebook))}
    missing = [{"id": nbgrader_api.new_uuid(), "notebook_id": notebook, "cell_id": cell,
                **values.get(cell, {})} for cell in cells if cell not in have]
    for columns in {tuple(row) for row in missing}:  # one statement per set of columns
        connection.execute(insert(table), [row for row in missing if tuple(row) == columns])
    for cell, changes in values.items():
        if cell in have:
            connection.execute(update(table).where(table.c.notebook_id == notebook,
                                                   table.c.cell_id == cell).values(**changes))
