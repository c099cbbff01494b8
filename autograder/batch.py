"""Grade a folder of submissions in nbgrader's layout, in parallel, into results and a gradebook.

    SUBMITTED/<student>/<assignment>/<notebook>.ipynb  ->  OUT/<student>/<assignment>/results.json

Every student gets a results.json for every assignment with a suite, even when the notebook
is missing or broken. Workers are threads: each one's heavy work runs in its own sandboxed
process, and results are recorded from the calling thread, one submission at a time: the
gradebook first, in one transaction, then results.json, written whole or not at all.

A batch that was interrupted resumes: a submission whose results.json carries the same
fingerprint (the notebook's bytes, the suite and the checks) and whose grades are in the
gradebook is not graded again, unless ``force`` is set.
"""
from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .feedback import write_index, write_page
from .grading import grade_submission
from .reference import suite_fingerprint
from .gradebook import GradebookWriter
from .results import FunctionResult, SubmissionResult
from .sandbox.process import Limits, isolation_available
from .suite import Suite


@dataclass(frozen=True, eq=False)
class Job:
    suite: Suite
    student: str
    notebook: Path

    def fingerprint(self) -> str:
        digest = hashlib.sha256(suite_fingerprint(self.suite.assignment).encode())
        digest.update(self.notebook.read_bytes() if self.notebook.is_file() else b"<missing>")
        return digest.hexdigest()

    def results_path(self, out: Path) -> Path:
        return Path(out) / self.student / self.suite.assignment / "results.json"


def recorded_fingerprint(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["extra_data"]["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def find_jobs(submitted: Path, suites: list[Suite],
              students: list[str] | None = None) -> Iterator[Job]:
    for student_dir in sorted(p for p in Path(submitted).iterdir() if p.is_dir()):
        if student_dir.name.startswith(".") or (students and student_dir.name not in students):
            continue
        for suite in suites:
            yield Job(suite, student_dir.name, student_dir / suite.assignment / suite.notebook)


def grade_safely(job: Job, limits: Limits, isolation: str | None) -> SubmissionResult:
    """grade_submission, but a failure of the grader itself on one submission is that
    submission's verdict (zero marks, graded again by the next run), never the end of the
    batch."""
    try:
        return grade_submission(job.suite, job.student, job.notebook, limits, isolation)
    except Exception as exc:  # a bug in the grader must not cost the other learners
        reason = (f"the grader failed on this submission ({type(exc).__name__}: {exc}); "
                  f"tell the organizer: the next run grades it again")
        return SubmissionResult(job.student, job.suite.assignment, job.suite.notebook,
                                isolation or isolation_available(), problems=[reason],
                                functions=[FunctionResult(spec.name, (), reason)
                                           for spec in job.suite.functions], complete=False)


def write_results(path: Path, result: SubmissionResult, fingerprint: str) -> None:
    data = result.to_gradescope()
    data["extra_data"]["fingerprint"] = fingerprint
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)  # a killed grader leaves the old file or the new, never half


def grade_batch(submitted: Path, out: Path, suites: list[Suite], db_url: str,
                workers: int | None = None, limits: Limits = Limits(),
                isolation: str | None = None,
                progress: Callable[[SubmissionResult, int], None] | None = None,
                students: list[str] | None = None,
                force: bool = False) -> list[SubmissionResult]:
    """Grade every job not yet recorded; returns the results graded in this run."""
    jobs = list(find_jobs(submitted, suites, students))
    workers = workers or os.cpu_count() or 1
    results = []
    with GradebookWriter(db_url) as gradebook, ThreadPoolExecutor(workers) as pool:
        todo = [(job, job.fingerprint()) for job in jobs]
        todo = [(job, fingerprint) for job, fingerprint in todo if force
                or recorded_fingerprint(job.results_path(out)) != fingerprint
                or not gradebook.has(job.suite, job.student)]
        futures = {pool.submit(grade_safely, job, limits, isolation): (job, fingerprint)
                   for job, fingerprint in todo}
        for future in as_completed(futures):
            (job, fingerprint), result = futures[future], future.result()
            gradebook.record(job.suite, result)
            write_results(job.results_path(out), result, fingerprint if result.complete else "")
            write_page(job.results_path(out))
            results.append(result)
            if progress:
                progress(result, len(todo))
    if jobs:
        write_index(out)
    return sorted(results, key=lambda r: (r.student, r.assignment))


def recorded_scores(out: Path, submitted: Path, suites: list[Suite],
                    students: list[str] | None = None) -> list[tuple[str, str, float, float]]:
    """(student, assignment, score, max score) from the results.json of every job."""
    rows = []
    for job in find_jobs(submitted, suites, students):
        try:
            data = json.loads(job.results_path(out).read_text(encoding="utf-8"))
            rows.append((job.student, job.suite.assignment, data["score"],
                         sum(t["max_score"] for t in data["tests"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return rows
