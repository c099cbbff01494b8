"""Hidden checks' details held back on the feedback pages until the organizer's date."""
from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone

from autograder.feedback import render_page
from autograder.hidden_details import held_back, read_setting

NOW = datetime.now(timezone.utc)


def _ben(out) -> dict:
    return json.loads((out / "ben" / "optimizers" / "results.json").read_text())


def _hidden_failures(data) -> list[str]:
    """The hidden groups' failure messages, as a page writes them (escaped)."""
    return [html.escape(f) for groups in data["extra_data"]["checks"].values() for g in groups
            if g["hidden"] for f in g["failed"]]


def test_before_the_date_a_page_shows_visible_checks_only(graded_examples):
    _, out, _ = graded_examples
    data = _ben(out)
    hidden = _hidden_failures(data)
    assert hidden  # ben fails hidden cases: there is something to hold back
    page = render_page(held_back(data, NOW + timedelta(days=1)))
    assert not any(failure in page for failure in hidden)
    assert "shown from" in page and "the score here is the visible checks" in page
    visible = sum(g["score"] for groups in data["extra_data"]["checks"].values()
                  for g in groups if not g["hidden"])
    assert f"Score: {visible:g} / 10" in page  # 5 functions, 2 visible points each
    assert "60 steps" not in page  # no hidden case's description, nor its picture's title


def test_from_the_date_on_the_page_shows_everything(graded_examples):
    _, out, _ = graded_examples
    data = _ben(out)
    page = render_page(held_back(data, NOW - timedelta(seconds=1)))
    assert page == render_page(data)
    assert all(failure in page for failure in _hidden_failures(data))


def test_held_back_keeps_the_recorded_results_untouched(graded_examples):
    _, out, _ = graded_examples
    data = _ben(out)
    before = json.dumps(data)
    held = held_back(data, NOW + timedelta(days=1))
    assert json.dumps(data) == before and held["score"] < data["score"]


def test_the_date_set_with_grade_is_kept_for_the_feedback_command(graded_examples, tmp_path):
    _, out, _ = graded_examples
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    later = (NOW + timedelta(days=30)).strftime("%Y-%m-%d")
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "none"),
                          "--out", str(copy), "--hidden-details-from", "not a date"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "is not an ISO date" in run.stderr
    empty = tmp_path / "submitted"
    empty.mkdir()
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(empty), "--out",
                          str(copy), "--db", f"sqlite:///{tmp_path / 'gb.db'}",
                          "--hidden-details-from", later],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert read_setting(copy).strftime("%Y-%m-%d") == later
    run = subprocess.run([sys.executable, "-m", "autograder", "feedback", str(copy)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    page = (copy / "ben" / "optimizers" / "feedback.html").read_text()
    assert f"shown from {later}" in page
    assert not any(f in page for f in _hidden_failures(_ben(out)))
