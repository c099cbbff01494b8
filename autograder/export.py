"""The gradebook as CSV: one row per learner and assignment, one column per function.

A function's score is the sum of its nbgrader test cells' scores, read through nbgrader's
own gradebook API, so grades written by `nbgrader autograde` export the same way. The
``status`` column says whether a submission was graded on its merits, from the answer
cells' automatic comments (see gradebook.py): "graded", "missing", "blank", "unreadable"
or "grader failed"; for nbgrader's own grades, "blank" when every answer cell had "No
response.".
"""
from __future__ import annotations

import csv
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .course import put_python_tools_on_path
from .gradebook import STATUS_COMMENT
from .results import BLANK, GRADED
from .suites import SUITES

NBGRADER_BLANK = "No response."  # nbgrader autograde's comment on an unchanged answer cell


def submission_status(submission) -> str:
    """The status of a gradebook submission, from its answer cells' automatic comments."""
    comments = {comment.auto_comment for notebook in submission.notebooks
                for comment in notebook.comments}
    if len(comments) != 1:
        return GRADED
    (comment,) = comments
    if comment == NBGRADER_BLANK:
        return BLANK
    return comment[len(STATUS_COMMENT):] if (comment or "").startswith(STATUS_COMMENT) \
        else GRADED


def as_text_cell(value: str) -> str:
    """A learner-chosen text that a spreadsheet shows as text: one starting like a formula
    (=, +, -, @, or a tab or carriage return before one) gets a leading apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(db_url: str, path: Path) -> int:
    """Write the CSV; returns the number of rows (learner and assignment) written."""
    put_python_tools_on_path()
    functions = [spec.name for suite in SUITES.values() for spec in suite.functions]
    rows = 0
    with Gradebook(db_url) as gradebook, open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "status", "score", "max_score", *functions])
        for student in sorted(s.id for s in gradebook.students):
            for assignment, suite in SUITES.items():
                try:
                    submission = gradebook.find_submission(assignment, student)
                except MissingEntry:
                    continue
                scores = {grade.name: grade.score for notebook in submission.notebooks
                          for grade in notebook.grades}
                per_function = {spec.name: sum(scores.get(g.grade_id(spec.name), 0) or 0
                                               for g in spec.groups) for spec in suite.functions}
                writer.writerow([as_text_cell(student), assignment,
                                 submission_status(submission), f"{submission.score:g}",
                                 f"{submission.max_score:g}",
                                 *[f"{per_function[name]:g}" if name in per_function else ""
                                   for name in functions]])
                rows += 1
    return rows
