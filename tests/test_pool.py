"""Grading processes (autograder/pool.py): a process that dies costs no learner a grade."""
from __future__ import annotations

import os

from autograder import batch
from autograder.suites import SUITES

from .helpers import ROOT

EXAMPLES = ROOT / "examples" / "submitted"
SUITE = SUITES["optimizers"]


def test_a_grading_process_that_dies_fails_only_the_submission_it_was_grading(tmp_path,
                                                                             monkeypatch):
    db = f"sqlite:///{tmp_path / 'gb.db'}"
    honest = {r.student: r.score for r in batch.grade_batch(
        EXAMPLES, tmp_path / "honest", [SUITE], f"sqlite:///{tmp_path / 'honest.db'}",
        workers=2)}
    real = batch.grade_submission

    def dies_on_ben(suite, student, notebook, *args):
        if student == "ben":
            os._exit(3)  # the process ends at once, as a crash of the grader's own code would
        return real(suite, student, notebook, *args)

    monkeypatch.setattr(batch, "grade_submission", dies_on_ben)  # forked into the processes
    results = {r.student: r for r in batch.grade_batch(EXAMPLES, tmp_path / "out", [SUITE], db,
                                                       workers=2)}
    assert set(results) == set(honest)
    assert results["ben"].score == 0 and results["ben"].status == "grader failed"
    assert "its grading process ended while grading it" in results["ben"].output()
    # the others, graded beside it when it died, keep the grades they have alone
    assert {s: r.score for s, r in results.items() if s != "ben"} == \
        {s: score for s, score in honest.items() if s != "ben"}
    assert all(r.status != "grader failed" for s, r in results.items() if s != "ben")
    monkeypatch.setattr(batch, "grade_submission", real)
    again = batch.grade_batch(EXAMPLES, tmp_path / "out", [SUITE], db, workers=2)
    assert [(r.student, r.score) for r in again] == [("ben", honest["ben"])]


def test_grading_processes_grade_as_the_batchs_own_process_would(tmp_path):
    """Every submission's results.json is the same from one grading process or several."""
    one = tmp_path / "one"
    batch.grade_batch(EXAMPLES, one, [SUITE], f"sqlite:///{tmp_path / 'one.db'}", workers=1)
    three = tmp_path / "three"
    batch.grade_batch(EXAMPLES, three, [SUITE], f"sqlite:///{tmp_path / 'three.db'}",
                      workers=3)
    pages = sorted(p.relative_to(one) for p in one.glob("*/*/results.json"))
    assert len(pages) == len(os.listdir(EXAMPLES))
    for page in pages:
        assert _without_times((one / page).read_text()) == _without_times((three / page).read_text())


def _without_times(text: str) -> str:
    import json

    data = json.loads(text)
    data.pop("execution_time", None)
    data["extra_data"].pop("seconds", None)
    return json.dumps(data, sort_keys=True)
