"""Feedback pages, the index, the `feedback` and `export` commands."""
from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from autograder.suites import SUITES

from .helpers import ROOT

EXAMPLES = ROOT / "examples" / "submitted"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("feedback")
    db = f"sqlite:///{out / 'gradebook.db'}"
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(EXAMPLES), "--out",
                          str(out / "out"), "--db", db], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    return out / "out", db


def page(out, student, assignment) -> str:
    return (out / student / assignment / "feedback.html").read_text(encoding="utf-8")


def test_every_learner_and_assignment_has_a_page_and_the_index_links_them(graded):
    out, _ = graded
    index = (out / "index.html").read_text()
    for student in ("ada", "ben", "cy", "dee", "eve"):
        for assignment in SUITES:
            assert (out / student / assignment / "feedback.html").is_file()
            assert f"href='{student}/{assignment}/feedback.html'" in index


def test_pages_show_diagnosis_and_pictures_and_no_hidden_test_code(graded):
    out, _ = graded
    ben = page(out, "ben", "optimizers")
    assert "Diagnosis: your outputs match a known mistake, EMA form" in ben
    assert len(re.findall(r"<img [^>]*src='data:image/png;base64,", ben)) == 2
    assert "(hidden)" in ben and "single steps on inputs that separate conventions" in ben
    for student in ("ada", "ben", "cy", "dee", "eve"):
        for assignment in SUITES:
            text = page(out, student, assignment)
            assert "check_hidden" not in text and "HIDDEN TESTS" not in text
            assert "BEGIN SOLUTION" not in text and "default_rng" not in text


def test_learner_text_is_escaped(tmp_path, graded):
    from autograder.feedback import render_page

    out, _ = graded
    data = json.loads((out / "ben" / "optimizers" / "results.json").read_text())
    data["extra_data"]["problems"] = ["<script>alert(1)</script>"]
    html = render_page(data)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_the_feedback_command_rebuilds_the_same_pages(graded, tmp_path):
    out, _ = graded
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    for path in copy.glob("*/*/feedback.html"):
        path.unlink()
    run = subprocess.run([sys.executable, "-m", "autograder", "feedback", str(copy)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    for path in out.glob("*/*/feedback.html"):
        assert (copy / path.relative_to(out)).read_text() == path.read_text()


def test_export_writes_one_row_per_learner_and_assignment_one_column_per_function(graded, tmp_path):
    out, db = graded
    target = tmp_path / "grades.csv"
    run = subprocess.run([sys.executable, "-m", "autograder", "export", "--db", db, "--csv",
                          str(target)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == 5 * len(SUITES)
    for row in rows:
        results = json.loads((out / row["student"] / row["assignment"] / "results.json").read_text())
        assert float(row["score"]) == results["score"]
        for test in results["tests"]:
            assert float(row[test["name"]]) == test["score"]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (./run setup installs it as root)")
def test_a_page_renders_in_headless_chromium_with_its_images_loaded(graded, tmp_path):
    out, _ = graded
    probe = ("<script>window.addEventListener('load', () => { const images = [...document.images];"
             " document.title = 'images:' + images.length + ':loaded:' +"
             " images.filter(i => i.complete && i.naturalWidth > 0).length; });</script>")
    target = tmp_path / "page.html"
    target.write_text(page(out, "cy", "optimizers").replace("</body>", probe + "</body>"))
    with tempfile.TemporaryDirectory() as profile:
        run = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                              "--disable-quic", "--no-first-run", "--disable-background-networking",
                              "--disable-component-update", "--disable-sync",
                              f"--user-data-dir={profile}", "--virtual-time-budget=5000",
                              "--dump-dom", target.as_uri()],
                             capture_output=True, text=True, timeout=120)
    title = re.search(r"<title>images:(\d+):loaded:(\d+)</title>", run.stdout)
    assert title, run.stderr[-2000:]
    assert int(title.group(1)) == 2 and title.group(1) == title.group(2)
