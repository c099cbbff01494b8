"""Write results into the nbgrader gradebook through nbgrader's own API.

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
import warnings
from pathlib import Path

import nbgrader.api as nbgrader_api
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from .course import put_python_tools_on_path
from .results import GRADED, SubmissionResult

STATUS_COMMENT = "status: "
from .suite import Suite


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

    def has(self, suite: Suite, student: str) -> bool:
        try:
            self.gradebook.find_submission(suite.assignment, student)
        except MissingEntry:
            return False
        return True

    def record(self, suite: Suite, result: SubmissionResult) -> None:
        self.ensure_assignment(suite)
        gb, notebook = self.gradebook, Path(suite.notebook).stem
        gb.update_or_create_student(result.student)
        with warnings.catch_warnings():
            # nbgrader's add_submission builds rows before adding them to the session, which
            # SQLAlchemy 2 warns about; the rows are added and committed all the same.
            warnings.simplefilter("ignore", SAWarning)
            gb.update_or_create_submission(suite.assignment, result.student)
        try:
            # all of the notebook's grades in one query, not one query per test cell
            grades = {grade.name: grade for grade in gb.find_submission_notebook(
                notebook, suite.assignment, result.student).grades}
            for function in result.functions:
                for group in function.groups:
                    grades[group.grade_id].auto_score = group.score
                    grades[group.grade_id].needs_manual_grade = False
            status = None if result.status == GRADED else STATUS_COMMENT + result.status
            for comment in gb.find_submission_notebook(notebook, suite.assignment,
                                                       result.student).comments:
                comment.auto_comment = status
            gb.db.commit()
        except Exception:
            gb.db.rollback()
            raise
