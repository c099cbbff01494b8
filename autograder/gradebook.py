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

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select, update

from .course import put_python_tools_on_path
from .gradebook_api import Gradebook, MissingEntry, nbgrader_api
from .results import GRADED, SubmissionResult
from .suite import Suite

STATUS_COMMENT = "status: "


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


@functools.cache
def _alembic_head() -> str:
    """The head of nbgrader's gradebook migrations.

    nbgrader asks the ``alembic`` command for it each time it creates a gradebook: a new
    Python process that took 2.5 s here, longer than grading the demo's submissions. The
    migration scripts name their revision and the one before it as plain assignments, so
    the head, the one revision no other follows, is read from their text (2 ms); importing
    alembic to ask its API took 0.15-0.44 s. A history that is not one line (a branch, a
    merge) is left to alembic's API."""
    names: dict[str, list] = {"revision": [], "down_revision": []}
    for script in (Path(nbgrader_api.__file__).parent / "alembic" / "versions").glob("*.py"):
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and [getattr(t, "id", None)
                                                 for t in node.targets] in (["revision"],
                                                                            ["down_revision"]):
                names[node.targets[0].id].append(ast.literal_eval(node.value))
    revisions, followed = names["revision"], names["down_revision"]
    if len(followed) == len(revisions) and all(isinstance(r, str) for r in revisions) \
            and all(isinstance(r, (str, type(None))) for r in followed):
        heads = set(revisions) - set(followed)
        if len(heads) == 1:
            return heads.pop()
    return _alembic_api_head()


def _alembic_api_head() -> str:
    """The head as alembic's own API reads it (importing alembic and every script)."""
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
        """The assignment, its notebook, a solution cell per function and a grade cell per
        group (its points as max_score), in one transaction: the rows nbgrader's
        ``update_or_create_*`` calls make, whose commit per cell (an fsync each) took 0.45 s
        for a new gradebook. Only what is missing or differs is written."""
        if suite.assignment in self._known:
            return
        db, name = self.gradebook.db, Path(suite.notebook).stem
        try:
            assignment = db.execute(select(nbgrader_api.Assignment).where(
                nbgrader_api.Assignment.name == suite.assignment)).scalar_one_or_none()
            if assignment is None:
                assignment = nbgrader_api.Assignment(name=suite.assignment,
                                                     course_id=self.gradebook.course_id)
                db.add(assignment)
            notebook = next((n for n in assignment.notebooks if n.name == name), None)
            if notebook is None:
                notebook = nbgrader_api.Notebook(name=name, assignment=assignment)
                db.add(notebook)
                solutions, grades = set(), {}
            else:  # the grade cells whole, in one query (not one per cell's max_score)
                solutions = {cell.name for cell in notebook.solution_cells}
                grades = {cell.name: cell for cell in db.execute(
                    select(nbgrader_api.GradeCell).where(
                        nbgrader_api.GradeCell.notebook_id == notebook.id)).scalars()}
            for spec in suite.functions:
                if spec.name not in solutions:
                    db.add(nbgrader_api.SolutionCell(name=spec.name, notebook=notebook))
                for group in spec.groups:
                    cell = grades.get(group.grade_id(spec.name))
                    if cell is None:
                        db.add(nbgrader_api.GradeCell(name=group.grade_id(spec.name),
                                                      notebook=notebook, max_score=group.points,
                                                      cell_type="code"))
                    elif (cell.max_score, cell.cell_type) != (group.points, "code"):
                        # set only when it differs: SQLAlchemy writes any value assigned
                        cell.max_score, cell.cell_type = group.points, "code"
            db.commit()
        except Exception:
            db.rollback()
            raise
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
        """The submission's grades and status, in one transaction."""
        self.record_all([(suite, result)])

    def record_all(self, graded: list[tuple[Suite, SubmissionResult]]) -> None:
        """Each submission's grades and status, all in one transaction.

        The rows are those nbgrader's ``add_submission`` makes (a grade per grade and task
        cell, a comment per solution and task cell), written as plain statements: through
        nbgrader's ORM a record took 11.5 ms, most of a batch's time in the grader's process.
        One commit for what is ready at once: each commit waits for the disk, longest when
        the machine is busiest, which is when results come in together."""
        # first: the assignment's structure is written in a transaction of its own
        cells = {suite.assignment: self._cells(suite) for suite, _ in graded}
        connection = self.gradebook.db.connection()
        known = set(self._students)  # becomes ours only once committed
        try:
            for suite, result in graded:
                self._write(connection, cells[suite.assignment], result, known)
            self.gradebook.db.commit()
        except Exception:
            self.gradebook.db.rollback()
            raise
        self._students = known

    @staticmethod
    def _write(connection, cells: _Cells, result: SubmissionResult, known: set[str]) -> None:
        scores = {cells.grades[group.grade_id]: group.score
                  for function in result.functions for group in function.groups}
        status = None if result.status == GRADED else STATUS_COMMENT + result.status
        if result.student not in known and _find(connection, _STUDENT,
                                                 id=result.student) is None:
            connection.execute(insert(_STUDENT).values(id=result.student))
        known.add(result.student)
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
