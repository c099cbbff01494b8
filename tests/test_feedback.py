"""Feedback pages, the index, the `feedback` and `export` commands."""
from __future__ import annotations

import csv
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from autograder.suites import SUITES

from .helpers import ROOT, assert_feedback_redraws_the_same_pages

EXAMPLES = ROOT / "examples" / "submitted"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def graded(graded_examples):
    run, out, db = graded_examples
    assert run.returncode == 0, run.stderr
    return out, db


def page(out, student, assignment) -> str:
    return (out / student / assignment / "feedback.html").read_text(encoding="utf-8")


def test_every_learner_and_assignment_has_a_page_and_the_index_links_them(graded):
    out, _ = graded
    index = (out / "index.html").read_text()
    for student in ("ada", "ben", "cy", "dee", "eve"):
        for assignment in SUITES:
            assert (out / student / assignment / "feedback.html").is_file()
            assert f"href='./{student}/{assignment}/feedback.html'" in index


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
    assert_feedback_redraws_the_same_pages(out, tmp_path)


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


# ---------------------------------------------------------------------------------------
# Hostile recorded results: any text, any number, any shape of results.json.

BIG = float(np.finfo(float).max)
REFERENCE = [[-1.9, 1.4], [-1.8, 1.3], [-1.7, 1.2], [-1.6, 1.1]]
CONTOUR = {"A": [[1.0, 0.0], [0.0, 10.0]], "b": [0.0, 0.0]}
UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def paths(learner) -> dict:
    return {"kind": "paths", "title": "10 steps", "start": [-2.0, 1.5], "reference": REFERENCE,
            "learner": learner, "diverged_at": 1, "contour": CONTOUR}


HOSTILE_PICTURES = {  # picture -> what its title must say
    "paths-huge": (paths([[-1.9, 1.4], [BIG, -BIG], [BIG, BIG]]), "beyond ±1e+12 from step 2"),
    "paths-nan": (paths([[-1.9, 1.4], [-1.8, 1.3], [math.nan, 1.0], ["NaN", "NaN"]]),
                  "NaN from step 3"),
    "paths-inf": (paths([[math.inf, -math.inf], ["Infinity", 0]]), "infinite from step 1"),
    "paths-all-odd": ({**paths([[None, "x"], [], "junk"]), "reference": [[BIG, math.nan]] * 3,
                       "start": [math.inf, 0], "diverged_at": "2", "contour": {"A": [[BIG, 0]]}},
                      "NaN from step 1"),
    "errors": ({"kind": "errors", "title": "backward", "tol": 1e-6,
                "errors": {"dx": math.nan, "dgamma": "Infinity", "dbeta": BIG, "$x": 0.0}},
               "your dx, dgamma hold NaN or infinite values"),
    "scatter": ({"kind": "scatter", "title": "$velocity", "quantity": "v$", "step": 4,
                 "expected": [1.0, 2.0, 3.0, 4.0], "actual": [math.nan, math.inf, -BIG, 4.0]},
                "your values are NaN at step 4 (3 of 4)"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_PICTURES))
def test_pictures_of_hostile_values_have_finite_limits_and_say_what_is_wrong(name):
    from autograder.feedback import draw, plot

    picture, says = HOSTILE_PICTURES[name]
    figure = plot(picture)
    ax = figure.axes[0]
    assert np.all(np.isfinite(ax.get_xlim() + ax.get_ylim()))
    assert says in ax.get_title()
    assert draw(picture).startswith("data:image/png;base64,")


def recorded_results(student: str, **picture) -> dict:
    """results.json's data for one function failing one group, as the grader writes it."""
    from autograder.kit.checks import Check
    from autograder.results import FunctionResult, GroupResult, SubmissionResult

    group = GroupResult("test_adam_steps", "single steps", 4.0, True,
                        (Check("adam", "a case", False, "adam: m is wrong (a case)."),))
    result = SubmissionResult(student, "optimizers", "optimizers.ipynb", "rlimits",
                              functions=[FunctionResult("adam", (group,), picture=picture or None)])
    return result.to_gradescope()


def test_a_picture_that_cannot_be_drawn_is_left_out_and_the_page_says_so(monkeypatch):
    from autograder import feedback

    def broken(picture):
        raise ValueError("Axis limits cannot be NaN or Inf")

    monkeypatch.setattr(feedback, "plot", broken)
    html = feedback.render_page(recorded_results("ada", **paths([[BIG, BIG]])))
    assert "The picture of this failure could not be drawn (ValueError: Axis limits" in html
    assert "adam: m is wrong (a case)." in html and "<img" not in html


def write_results(out, student: str, data) -> None:
    """A results.json as anyone could leave it: NaN as JSON's non-standard token, a lone
    surrogate as its escape."""
    path = out / student / "optimizers" / "results.json"
    path.parent.mkdir(parents=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")


def test_the_feedback_command_survives_any_recorded_results(tmp_path):
    from autograder.results import MAX_PAGE_BYTES

    out = tmp_path / "out"
    write_results(out, "plain", recorded_results("plain"))
    texts = recorded_results("texts")
    texts["extra_data"]["problems"] = ["lone \udc80 surrogate, nul \x00, escape \x1b[31m, <b>"]
    texts["extra_data"]["checks"]["adam"][0]["failed"] = ["\udcff\x7f\x9b" * 100]
    write_results(out, "texts", texts)
    write_results(out, "huge", recorded_results("huge", **paths([[BIG, -BIG], [math.nan] * 2])))
    flood = recorded_results("flood")  # as an older grader kept them: 8 MiB per failure
    flood["extra_data"]["checks"]["adam"][0]["failed"] = [(f"{i} <'&" * 2**21)[:8 * 2**20]
                                                          for i in range(3)]
    write_results(out, "flood", flood)
    write_results(out, "shapeless", {**recorded_results("shapeless"), "tests": 5})
    write_results(out, "not-json", '{"score": ')
    (out / "folder" / "optimizers" / "results.json").mkdir(parents=True)
    run = subprocess.run([sys.executable, "-m", "autograder", "feedback", str(out)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    students = ("plain", "texts", "huge", "flood", "shapeless", "not-json", "folder")
    pages = {s: (out / s / "optimizers" / "feedback.html").read_bytes() for s in students}
    for student, page in pages.items():
        assert len(page) <= MAX_PAGE_BYTES and not UNSAFE.search(page.decode("utf-8")), student
    text = {s: page.decode("utf-8") for s, page in pages.items()}
    assert "adam: m is wrong (a case)." in text["plain"]
    assert "lone \ufffd surrogate, nul \u2400, escape \u241b[31m, &lt;b&gt;" in text["texts"]
    assert len(re.findall(r"<img [^>]*src='data:image/png;base64,", text["huge"])) == 1
    assert "could not be drawn" not in text["huge"]
    assert "0 &lt;&#x27;&amp;" in text["flood"] and "characters cut]" in text["flood"]
    for student in ("shapeless", "not-json", "folder"):
        assert "This feedback page could not be made" in text[student], student
    index = (out / "index.html").read_text(encoding="utf-8")
    for student in students:
        assert f"href='./{student}/optimizers/feedback.html'" in index
    assert index.count("results unreadable") == 3


def test_learner_chosen_folder_names_are_paths_in_links_and_text_in_spreadsheets(tmp_path):
    from autograder.export import export_csv
    from autograder.feedback import write_index
    from autograder.gradebook import GradebookWriter
    from autograder.results import SubmissionResult

    suite = SUITES["optimizers"]
    names = ["javascript:alert(document.domain)", "=HYPERLINK(\"http:x\",\"y\")", "it's#1"]
    for name in names:
        folder = tmp_path / "out" / name / "optimizers"
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(
            {"score": 0, "tests": [{"name": "adam", "score": 0, "max_score": 10}]}))
    index = write_index(tmp_path / "out").read_text(encoding="utf-8")
    links = re.findall(r"href='([^']*)'", index)
    assert len(links) == 3 and all(link.startswith("./") for link in links)
    assert not any(":" in link or "#" in link or "'" in link for link in links)
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with GradebookWriter(db) as gradebook:
        for name in names:
            gradebook.record(suite, SubmissionResult(name, "optimizers", suite.notebook, "rlimits"))
    export_csv(db, tmp_path / "grades.csv")
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as f:
        students = [row["student"] for row in csv.DictReader(f)]
    assert "'=HYPERLINK(\"http:x\",\"y\")" in students
    assert not any(s.startswith(("=", "+", "-", "@")) for s in students)


def test_paths_within_a_pixel_show_the_error_per_step_on_a_log_scale(graded):
    """cy's RMSProp adds epsilon inside the square root (a catalogued mistake): its path is
    a hair off the reference's, too close to see, with an error of about 0.5 at step 1."""
    from autograder.feedback import plot

    out, _ = graded
    data = json.loads((out / "cy" / "optimizers" / "results.json").read_text())
    picture = data["extra_data"]["pictures"]["rmsprop"]
    output = next(t["output"] for t in data["tests"] if t["name"] == "rmsprop")
    assert picture["kind"] == "paths" and picture["quantity"] == "next_w"
    assert f"next_w relative error {picture['errors'][0]:.1e} > tolerance" in output
    ax = plot(picture).axes[0]
    assert "the paths overlap within a pixel" in ax.get_title()
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step"
    line = ax.get_lines()[0]
    assert list(line.get_ydata()) == picture["errors"]
    assert len(picture["errors"]) == len(picture["reference"]) == 60


def test_nan_in_the_learners_path_shows_the_error_per_step_and_says_nan(graded):
    from autograder.feedback import plot

    out, _ = graded
    picture = json.loads((out / "cy" / "optimizers" / "results.json").read_text())
    picture = picture["extra_data"]["pictures"]["rmsprop"]
    picture["learner"] = picture["learner"][:2] + [["NaN", "NaN"]] * 58
    picture["errors"] = picture["errors"][:2] + ["NaN"] * 58
    ax = plot(picture).axes[0]
    assert "your values are NaN from step 3" in ax.get_title()
    crosses = [line for line in ax.get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == list(range(3, 61))


def test_paths_that_differ_visibly_are_still_drawn_as_paths(graded):
    from autograder.feedback import plot

    out, _ = graded
    picture = json.loads((out / "ben" / "optimizers" / "results.json").read_text())
    picture = picture["extra_data"]["pictures"]["sgd_momentum"]  # the EMA form: far off
    ax = plot(picture).axes[0]
    assert ax.get_xlabel() == "$w_1$" and ax.get_yscale() == "linear"


def test_group_rows_count_cases_as_the_messages_do_and_unrun_groups_say_so(graded):
    out, _ = graded
    for student in ("ada", "ben", "cy", "dee", "eve"):
        for assignment in SUITES:
            data = json.loads((out / student / assignment / "results.json").read_text())
            for groups in data["extra_data"]["checks"].values():
                for group in groups:
                    merged = [int(m.group(1)) if (m := re.search(r"\(in (\d+) cases\)\.$", f))
                              else 1 for f in group["failed"]]
                    assert len(group["passed"]) + sum(merged) == group["cases"]
    assert "0 of 0 checks" not in page(out, "dee", "optimizers")
    assert "not run (see the problem above)" in page(out, "dee", "optimizers")
    assert "0 of 4 checks passed" in page(out, "ben", "optimizers")
