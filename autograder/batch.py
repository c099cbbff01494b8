"""Grade a folder of submissions in nbgrader's layout, in parallel, into results and a gradebook.

    SUBMITTED/<student>/<assignment>/<notebook>.ipynb  ->  OUT/<student>/<assignment>/results.json

Every student gets a results.json for every assignment with a suite, even when the notebook
is missing or broken. Workers are threads: each one's heavy work runs in its own sandboxed
process, and results are recorded from the calling thread, one submission at a time.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from .grading import grade_submission
from .gradebook import GradebookWriter
from .results import SubmissionResult
from .sandbox.process import Limits
from .suite import Suite


@dataclass(frozen=True)
class Job:
    suite: Suite
    student: str
    notebook: Path


def find_jobs(submitted: Path, suites: list[Suite]) -> Iterator[Job]:
    for student_dir in sorted(p for p in Path(submitted).iterdir() if p.is_dir()):
        if student_dir.name.startswith("."):
            continue
        for suite in suites:
            yield Job(suite, student_dir.name, student_dir / suite.assignment / suite.notebook)


def write_results(out: Path, result: SubmissionResult) -> Path:
    folder = Path(out) / result.student / result.assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    path.write_text(json.dumps(result.to_gradescope(), indent=2) + "\n", encoding="utf-8")
    return path


def grade_batch(submitted: Path, out: Path, suites: list[Suite], db_url: str,
                workers: int | None = None, limits: Limits = Limits(),
                isolation: str | None = None,
                progress: Callable[[SubmissionResult], None] | None = None
                ) -> list[SubmissionResult]:
    jobs = list(find_jobs(submitted, suites))
    workers = workers or os.cpu_count() or 1
    results = []
    with GradebookWriter(db_url) as gradebook, ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(grade_submission, job.suite, job.student, job.notebook,
                               limits, isolation) for job in jobs]
        for future in as_completed(futures):
            result = future.result()
            suite = next(s for s in suites if s.assignment == result.assignment)
            gradebook.record(suite, result)
            write_results(out, result)
            results.append(result)
            if progress:
                progress(result)
    return sorted(results, key=lambda r: (r.student, r.assignment))
