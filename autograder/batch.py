"""Grade a folder of submissions in nbgrader's layout, in parallel, into results and a gradebook.

    SUBMITTED/<student>/<assignment>/<notebook>.ipynb  ->  OUT/<student>/<assignment>/results.json

Every student gets a results.json for every assignment with a suite, even when the notebook
is missing or broken. Submissions are graded in grading processes (pool.py), each learner's
code in a sandbox of its own, and recorded by the batch's process, one submission at a time:
the gradebook first, in one transaction, then results.json, written whole or not at all.

A batch that was interrupted resumes: a submission whose results.json carries the same
fingerprint (the notebook's bytes, the suite and the checks) and whose grades are in the
gradebook is not graded again, unless ``force`` is set. Ctrl-C (KeyboardInterrupt) stops a
batch within a few seconds: queued submissions are dropped, the grading processes are ended
(the learner processes of the submissions being graded with them) and those results not
recorded, and Interrupted says how many were.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from .feedback import PAGE, feedback_page, write_index
from .grading import grade_submission, prepare
from .kit.checks import Check, safe_text
from .reference import suite_fingerprint
from .gradebook import GradebookWriter
from .hidden_details import read_setting
from .results import (MAX_TEXT_CHARS, STATUSES, FunctionResult, GroupResult, SubmissionResult,
                      results_text, write_atomically)
from .pool import GradingPool
from .sandbox.process import Limits, isolation_available
from .submission import Refused, read_submitted_file, released_cells
from .suite import Suite


@dataclass(frozen=True, eq=False)
class Job:
    suite: Suite
    student: str
    notebook: Path

    def fingerprint(self) -> str:
        """Changes when the notebook, the suite, the checks, or the release (which tells the
        cells the learner added) change; the notebook read as grading reads it."""
        digest = hashlib.sha256(suite_fingerprint(self.suite.assignment).encode())
        digest.update(released_cells(self.suite.assignment).digest.encode())
        try:
            digest.update(read_submitted_file(self.notebook))
        except Refused as exc:  # refused for a reason: graded again when the reason changes
            digest.update(f"<refused: {exc}>".encode())
        return digest.hexdigest()

    def results_path(self, out: Path) -> Path:
        return Path(out) / self.student / self.suite.assignment / "results.json"


class Interrupted(Exception):
    """The batch was stopped by Ctrl-C; what was recorded before stays, a rerun resumes."""

    def __init__(self, recorded: int, total: int):
        super().__init__(f"{recorded} of {total} submissions were recorded")
        self.recorded, self.total = recorded, total


def layout_problem(submitted: Path, suites: list[Suite]) -> str | None:
    """Why ``submitted`` is not a folder in nbgrader's layout
    ``<student>/<assignment>/<notebook>.ipynb``, or None when it may be one.

    It is not when no student folder holds a folder of a graded assignment while notebooks
    lie directly in it or in its folders: a release (``assignments/``, whose folders are
    assignments), or one learner's folder. Grading it would record each folder as a
    learner who submitted nothing."""
    names = sorted({suite.assignment for suite in suites})
    with os.scandir(submitted) as entries:
        folders = [Path(e.path) for e in entries
                   if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
    if any((folder / name).is_dir() for folder in folders for name in names):
        return None
    stray = sorted(Path(submitted).glob("*.ipynb")) or sorted(
        path for folder in folders for path in folder.glob("*.ipynb"))
    if not stray:
        return None
    return (f"{submitted} is not a folder of submissions: {stray[0]} lies "
            f"{'directly in it' if stray[0].parent == Path(submitted) else 'one level down'}, "
            f"and no folder in it holds an assignment folder ({', '.join(names)}). Expected "
            f"{submitted}/<student>/<assignment>/<notebook>.ipynb, as nbgrader's submitted/ "
            f"folder is laid out (a release folder such as assignments/ is not one)")


def recorded_fingerprint(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["extra_data"]["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.scandir keeps undecodable bytes as lone surrogates
        return False
    return True


def find_jobs(submitted: Path, suites: list[Suite],
              students: list[str] | None = None) -> Iterator[Job]:
    """A job per student folder and suite. A link where a student folder belongs is a job
    too, never followed: reading it gives the learner the verdict."""
    with os.scandir(submitted) as entries:
        folders = sorted(entry.name for entry in entries
                         if entry.is_dir(follow_symlinks=False) or entry.is_symlink())
    for student in folders:
        if student.startswith(".") or (students and student not in students):
            continue
        if not _is_utf8(student):  # the gradebook could not store the learner's id
            print(f"warning: skipped the folder {student!r} in {submitted}: a student folder's "
                  f"name is the learner's id and must be UTF-8 text; rename it",
                  file=sys.stderr)
            continue
        for suite in suites:
            yield Job(suite, student, Path(submitted) / student / suite.assignment / suite.notebook)


def grade_safely(job: Job, fingerprint: str, limits: Limits, isolation: str | None,
                 hidden_from: datetime | None = None) -> tuple[SubmissionResult, str, str]:
    """Grade one job, in a worker thread: its result, the text of its results.json and its
    feedback page, drawn here so that the main thread only records.

    A failure of the grader itself on one submission is that submission's verdict (zero
    marks in every group, graded again by the next run), never the end of the batch; a
    page that cannot be drawn is a page naming the error."""
    try:
        result = grade_submission(job.suite, job.student, job.notebook, limits, isolation)
        result.submitted = os.path.lexists(job.notebook)
        text = _results_text(result, fingerprint)
    except Exception as exc:  # a bug in the grader must not cost the other learners
        return _failure_outcome(job, isolation, exc, fingerprint, hidden_from)
    return result, text, _page(job, text, hidden_from)


def _page(job: Job, text: str, hidden_from: datetime | None) -> str:
    return feedback_page(lambda: json.loads(text), f"{job.student}/{job.suite.assignment}",
                         hidden_from)


def _failure_outcome(job: Job, isolation: str | None, exc: Exception, fingerprint: str,
                     hidden_from: datetime | None = None) -> tuple[SubmissionResult, str, str]:
    result = _grader_failure(job, isolation, exc)
    text = _results_text(result, fingerprint)
    return result, text, _page(job, text, hidden_from)


def _grader_failure(job: Job, isolation: str | None, exc: Exception) -> SubmissionResult:
    """Zero marks in every group of the suite, each failed for the grader's reason, so that
    results.json, the gradebook and the export all say 0; incomplete, to be graded again."""
    reason = (f"the grader failed on this submission ({type(exc).__name__}: "
              f"{safe_text(exc, MAX_TEXT_CHARS)}); "
              f"tell the organizer: the next run grades it again")
    functions = [FunctionResult(spec.name, tuple(
        GroupResult(group.grade_id(spec.name), group.summary, group.points, group.hidden,
                    (Check(spec.name, group.summary, False, reason),))
        for group in spec.groups)) for spec in job.suite.functions]
    return SubmissionResult(job.student, job.suite.assignment, job.suite.notebook,
                            isolation or isolation_available(), problems=[reason],
                            functions=functions, complete=False)


def _results_text(result: SubmissionResult, fingerprint: str) -> str:
    """results.json's text; an incomplete result has no fingerprint, so a rerun grades it."""
    data = result.to_gradescope()
    data["extra_data"]["fingerprint"] = fingerprint if result.complete else ""
    return results_text(data)


def write_results(path: Path, text: str, page: str) -> None:
    """results.json, then the feedback page beside it, each written whole or not at all."""
    write_atomically(path, text)
    write_atomically(path.with_name(PAGE), page)


def grade_batch(submitted: Path, out: Path, suites: list[Suite], db_url: str,
                workers: int | None = None, limits: Limits = Limits(),
                isolation: str | None = None,
                progress: Callable[[SubmissionResult, int], None] | None = None,
                students: list[str] | None = None,
                force: bool = False) -> list[SubmissionResult]:
    """Grade every job not yet recorded, ``workers`` at a time, each in a grading process
    (pool.py); returns the results graded in this run. Raises Interrupted on Ctrl-C, once
    the submissions being graded have been stopped."""
    jobs = list(find_jobs(submitted, suites, students))
    workers = workers or os.cpu_count() or 1
    results, hidden_from = [], read_setting(out)
    for suite in {job.suite.assignment: job.suite for job in jobs}.values():
        prepare(suite)
    with GradingPool(_grade_job, suites, limits, isolation, hidden_from, workers) as pool, \
            GradebookWriter(db_url) as gradebook:
        recorded = {suite.assignment: gradebook.submitted(suite) for suite in suites}
        todo = [(job, job.fingerprint()) for job in jobs]
        todo = [(job, fingerprint) for job, fingerprint in todo if force
                or recorded_fingerprint(job.results_path(out)) != fingerprint
                or job.student not in recorded[job.suite.assignment]]
        graded = pool.results(
            todo, key=lambda item: (item[0].suite.assignment, item[0].student,
                                    item[0].notebook, item[1]),
            failed=lambda item, why: _failure_outcome(item[0], isolation, RuntimeError(why),
                                                      item[1], hidden_from))
        try:
            for ready in graded:
                gradebook.record_all([(job.suite, result) for (job, _), (result, _, _) in ready])
                for (job, _), (result, text, page) in ready:
                    write_results(job.results_path(out), text, page)
                    results.append(result)
                    if progress:
                        progress(result, len(todo))
        except KeyboardInterrupt:
            pool.stop()
            raise Interrupted(len(results), len(todo)) from None
    if jobs:
        write_index(out)
    return sorted(results, key=lambda r: (r.student, r.assignment))


def _grade_job(suite: Suite, student: str, notebook: Path, fingerprint: str, limits: Limits,
               isolation: str | None, hidden_from: datetime | None):
    """grade_safely, as a grading process calls it."""
    return grade_safely(Job(suite, student, notebook), fingerprint, limits, isolation,
                        hidden_from)


def recorded_scores(out: Path, submitted: Path, suites: list[Suite],
                    students: list[str] | None = None
                    ) -> list[tuple[str, str, float, float, str]]:
    """(student, assignment, score, max score, status) from the results.json of every job."""
    rows = []
    for job in find_jobs(submitted, suites, students):
        try:
            data = json.loads(job.results_path(out).read_text(encoding="utf-8"))
            status = data["extra_data"].get("status", "graded")
            rows.append((job.student, job.suite.assignment, data["score"],
                         sum(t["max_score"] for t in data["tests"]),
                         status if status in STATUSES else "graded"))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    return rows
