"""A catalog of hostile and broken submissions, graded in one batch beside honest ones.

The batch runs as the organizer runs it, ``python -m autograder grade`` in its own process,
so that its exit status, its wall time and the grader's own peak memory are measured. Each
submission gets a verdict that names what happened, loses marks only where its own code is
at fault, leaves no process behind, and changes nothing for the honest learners in the
batch. Under bubblewrap the whole catalog runs; without it (the fallback), the part whose
containment needs namespaces (killing other processes, reading the course, host settings,
sized folders) is left out.
"""
from __future__ import annotations

import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.batch import grade_batch
from autograder.export import export_csv
from autograder.kit.checks import answer_cells
from autograder.mistakes import with_answer
from autograder.sandbox.process import Limits
from autograder.suites import SUITES

from .helpers import ROOT, solution_notebook, write_submission

SUITE = SUITES["optimizers"]
LIMITS = Limits(call_seconds=2.0, submission_seconds=60.0)
MAX_GRADER_MIB = 800  # the grader alone: numpy, nbgrader, matplotlib, two submissions at once
MAX_RESULT_BYTES = 2 * 2**20  # one submission's results.json, and its feedback page
LEVELS = ["rlimits"] + (["bubblewrap"] if shutil.which("bwrap") else [])


@dataclass(frozen=True)
class Scenario:
    broken: str | None   # the function that must lose marks; None: the whole notebook
    says: str            # what its feedback must say
    only_bubblewrap: bool = False


SNOOP = """
import os, sys
FOUND = []
# the read-only runtime is public; everything else a learner could reach is searched
for top, dirs, files in os.walk("/"):
    if top.startswith(("/proc", "/sys", "/dev", "/usr", sys.prefix, sys.base_prefix)):
        dirs[:] = []
        continue
    FOUND += [os.path.join(top, f) for f in files if f in {
        "optimizers.ipynb", "batchnorm.ipynb", "preprocessing.ipynb", "gradebook.db",
        "visible_cases.json", "results.json", "suite.py", "reference.py"}]
"""

WRITER = """
import os
for path in ("/tmp/big", "big", "/escape", os.path.expanduser("~/.bashrc"), "/usr/evil"):
    try:
        with open(path, "wb") as f:
            f.write(b"x" * (100 * 2**20))
    except OSError:
        pass
"""


HOST_SETTINGS = """
import os
OPENED = []
for path in ("/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches", "/proc/sys/kernel/pid_max",
             "/proc/sys/kernel/modprobe", "/sys/kernel/uevent_helper"):
    try:
        with open(path, "a"):
            OPENED.append(path)
    except OSError:
        pass
if os.getuid() == 0:
    OPENED.append("uid 0")
"""

FILLS_FOLDERS = """
import os
for folder in ("/", "/dev", "/dev/shm", "/tmp", "/sandbox", os.getcwd()):
    for i in range(40):
        try:
            with open(os.path.join(folder, f"hog{i}"), "wb") as f:
                for _ in range(64):
                    f.write(b"x" * 2**20)
        except OSError:
            pass
"""

# Answers its own load request through the grader's pipe, then sleeps instead of reading.
STALLS = "import os, sys, time, wire\nos.write(int(sys.argv[2]), wire.pack({'error': None}))\ntime.sleep(10**6)\n"

# Replies to adam's cases forged through the worker's own modules.
FORGES_REFERENCES = """
import json, struct
import numpy as np
import checks, wire
_run, _pack = checks.run_case, wire.pack
def _forged_run(fn, case, functions=None):
    return "FORGE" if case["function"] == "adam" else _run(fn, case, functions)
def _forged_pack(body, **options):
    if isinstance(body, dict) and body.get("trace") == "FORGE":
        raw = np.zeros(2**23).tobytes()  # 64 MiB, referenced 48 times
        ref = {"$nd": 0, "dtype": "<f8", "shape": [2**23]}
        body = {"$dict": {"trace": [{"$dict": {"next_w": ref}}] * 48}}
        header = json.dumps({"body": body, "arrays": [len(raw)]}).encode()
        return struct.pack(">I", len(header)) + header + raw
    return _pack(body, **options)
checks.run_case, wire.pack = _forged_run, _forged_pack
"""

FORGES_TEXTS = """
import checks
_run = checks.run_case
def _forged_run(fn, case, functions=None):
    if case["function"] == "adam":
        raise checks.CallFailed("adam() failed: " + "x" * (19 * 2**16))
    return _run(fn, case, functions)
checks.run_case = _forged_run
"""


def wrapped(solved: str, name: str, body: str) -> str:
    """The reference answer, called by a wrapper whose extra lines are ``body``."""
    return (solved + f"\n_solved = {name}\ndef {name}(w, dw, config=None):\n"
            + "".join(f"    {line}\n" for line in body.strip("\n").splitlines()))


def scenarios(nb: dict) -> dict[str, tuple[object, Scenario]]:
    """student -> (notebook JSON, bytes, or None for a missing file; expected verdict)."""
    solved = dict(answer_cells(nb))
    broken_nb = copy.deepcopy(nb)
    broken_nb["cells"] = [c for c in nb["cells"]
                          if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != "adam"]
    markdown = copy.deepcopy(nb)
    for c in markdown["cells"]:
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "rmsprop":
            c["cell_type"] = "markdown"
            c.pop("outputs", None), c.pop("execution_count", None)
    duplicated = copy.deepcopy(nb)
    index = next(i for i, c in enumerate(nb["cells"])
                 if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "sgd_momentum")
    duplicated["cells"].insert(index + 1, copy.deepcopy(nb["cells"][index]))
    stripped = copy.deepcopy(nb)
    for c in stripped["cells"]:
        c.get("metadata", {}).pop("nbgrader", None)
    huge = copy.deepcopy(nb)
    huge["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout",
                                    "text": "y" * (40 * 2**20)}]
    return {
        "exit-at-call": (with_answer(nb, "sgd_momentum", "import sys\ndef sgd_momentum(w, dw, config=None):\n    sys.exit(0)\n"),
                         Scenario("sgd_momentum", "SystemExit")),
        "os-exit-at-call": (with_answer(nb, "adagrad", "import os\ndef adagrad(w, dw, config=None):\n    os._exit(0)\n"),
                            Scenario("adagrad", "exited (status 0)")),
        "base-exception": (with_answer(nb, "rmsprop", "def rmsprop(w, dw, config=None):\n    raise KeyboardInterrupt\n"),
                           Scenario("rmsprop", "KeyboardInterrupt")),
        "segfault": (with_answer(nb, "adam", "import ctypes\ndef adam(w, dw, config=None):\n    ctypes.string_at(0)\n"),
                     Scenario("adam", "segmentation fault")),
        "loop-at-call": (with_answer(nb, "nesterov_momentum", "def nesterov_momentum(w, dw, config=None):\n    while True:\n        pass\n"),
                         Scenario("nesterov_momentum", "took longer than 2 s")),
        "loop-at-import": (with_answer(nb, "adagrad", "while True:\n    pass\n" + solved["adagrad"]),
                           Scenario("adagrad", "loading answer cell 'adagrad' took longer")),
        "exit-at-import": (with_answer(nb, "rmsprop", "import os\nos._exit(3)\n"),
                           Scenario("rmsprop", "exited (status 3)")),
        "ignores-signals": (with_answer(nb, "sgd_momentum", "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
                                 "    signal.signal(s, signal.SIG_IGN)\ndef sgd_momentum(w, dw, config=None):\n    while True:\n        pass\n"),
                            Scenario("sgd_momentum", "took longer than 2 s")),
        "memory-hog": (with_answer(nb, "adam", "import numpy as np\ndef adam(w, dw, config=None):\n"
                            "    return [np.empty(2**27) for _ in range(64)], config\n"),
                       Scenario("adam", "MemoryError")),
        "fork-bomb": (with_answer(nb, "nesterov_momentum", "import os, time\ndef nesterov_momentum(w, dw, config=None):\n"
                           "    while True:\n        if os.fork() == 0:\n            time.sleep(30)\n            os._exit(0)\n"),
                      Scenario("nesterov_momentum", "Resource temporarily unavailable")),
        "floods-stdout": (with_answer(nb, "rmsprop", "def rmsprop(w, dw, config=None):\n    while True:\n        print('x' * 100000)\n"),
                          Scenario("rmsprop", "took longer than 2 s")),  # drained, so a hang
        "tampers-with-checks": (with_answer(nb, "sgd_momentum", "import numpy as np\nimport checks\n"
                                     "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
                                     "checks.rel_error = lambda *a, **k: 0.0\nchecks.compare_traces = lambda *a, **k: None\n"
                                     "def sgd_momentum(w, dw, config=None):\n    return w * 0, config or {}\n"),
                                Scenario("sgd_momentum", "relative error")),
        "fakes-traces": (with_answer(nb, "adam", solved["adam"] + "\nimport checks\n_real = checks.run_case\n"
                              "checks.run_case = lambda fn, case, f=None: [{'next_w': 1.0}] "
                              "if case['function'] == 'adam' else _real(fn, case, f)\n"),
                         Scenario("adam", "not 60 steps")),
        "hostile-object": (with_answer(nb, "rmsprop", "class Evil:\n    def __eq__(self, other):\n        return True\n"
                                "def rmsprop(w, dw, config=None):\n    return Evil(), config\n"),
                           Scenario("rmsprop", "got a value of type Evil")),
        "returns-nan": (with_answer(nb, "adam", solved["adam"] + "\n_solved = adam\ndef adam(w, dw, config=None):\n"
                             "    next_w, config = _solved(w, dw, config)\n    return next_w * np.nan, config\n"),
                        Scenario("adam", "NaN")),
        "huge-array": (with_answer(nb, "adagrad", solved["adagrad"] + "\n_solved = adagrad\ndef adagrad(w, dw, config=None):\n"
                            "    next_w, config = _solved(w, dw, config)\n"
                            "    config['junk'] = np.zeros(10**7)\n    return next_w, config\n"),
                       Scenario("adagrad", "larger than 64 MiB")),
        "snoops": (with_answer(nb, "sgd_momentum", SNOOP + solved["sgd_momentum"] +
                        "\n_solved = sgd_momentum\ndef sgd_momentum(w, dw, config=None):\n"
                        "    if FOUND:\n        raise RuntimeError(FOUND[:5])\n    return _solved(w, dw, config)\n"),
                   Scenario(None, "", only_bubblewrap=True)),
        "writes-files": (with_answer(nb, "adagrad", WRITER + solved["adagrad"]), Scenario(None, "", only_bubblewrap=True)),
        "kills-parent": (with_answer(nb, "sgd_momentum", "import os, signal\ndef sgd_momentum(w, dw, config=None):\n"
                              "    os.kill(os.getppid(), signal.SIGKILL)\n    os.kill(-1, signal.SIGKILL)\n"),
                         Scenario("sgd_momentum", "os.kill", only_bubblewrap=True)),
        "not-json": (json.dumps(nb)[:5000], Scenario(None, "is not a notebook: invalid JSON")),
        "not-utf8": (json.dumps(nb).encode("utf-8").replace(b"Adam", b"Ad\xffm", 1), Scenario(None, "is not UTF-8")),
        "deeply-nested": ("[" * 200000 + "]" * 200000, Scenario(None, "nested too deep")),
        "no-cells": ({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, Scenario(None, "has no cells")),
        "missing": (None, Scenario(None, "is missing")),
        "cell-deleted": (broken_nb, Scenario("adam", "has no answer cell 'adam'")),
        "cell-as-markdown": (markdown, Scenario("rmsprop", "turned into markdown")),
        "renamed": (with_answer(nb, "adagrad", solved["adagrad"].replace("def adagrad(", "def ada_grad(")),
                    Scenario("adagrad", "defines no function adagrad()")),
        "syntax-error": (with_answer(nb, "nesterov_momentum", "def nesterov_momentum(w, dw, config=None:\n    pass\n"),
                         Scenario("nesterov_momentum", "SyntaxError")),
        "warns-and-writes-stderr": (with_answer(nb, "adagrad", "import sys, warnings\n" + solved["adagrad"] +
                                        "\n_solved = adagrad\ndef adagrad(w, dw, config=None):\n"
                                        "    warnings.warn('careful')\n    print('to stderr', file=sys.stderr)\n"
                                        "    return _solved(w, dw, config)\n"), Scenario(None, "")),
        "cell-duplicated": (duplicated, Scenario(None, "")),
        "metadata-stripped": (stripped, Scenario(None, "")),
        "huge-outputs": (huge, Scenario(None, "")),
        "extra-files": (nb, Scenario(None, "")),
        "host-settings": (with_answer(nb, "sgd_momentum", HOST_SETTINGS + wrapped(
            solved["sgd_momentum"], "sgd_momentum",
            "if OPENED:\n    raise RuntimeError(OPENED)\nreturn _solved(w, dw, config)")),
            Scenario(None, "", only_bubblewrap=True)),
        "fills-folders": (with_answer(nb, "adagrad", FILLS_FOLDERS + solved["adagrad"]),
                          Scenario(None, "", only_bubblewrap=True)),
        # the next request, adam's cell, is far larger than a pipe's buffer
        "stalls-the-grader": (with_answer(with_answer(nb, "rmsprop", STALLS), "adam",
                                          solved["adam"] + "# padding\n" * 100_000),
                              Scenario(None, "could not be loaded")),
        "forges-array-references": (with_answer(nb, "adam", solved["adam"] + FORGES_REFERENCES),
                                    Scenario("adam", "referenced twice")),
        "forges-huge-texts": (with_answer(nb, "adam", solved["adam"] + FORGES_TEXTS),
                              Scenario("adam", "characters cut")),
        "surrogate-message": (with_answer(nb, "rmsprop", "def rmsprop(w, dw, config=None):\n"
                                          "    raise ValueError('bad \\udc80 text')\n"),
                              Scenario("rmsprop", "ValueError: bad \ufffd text")),
        "returns-float-max": (with_answer(nb, "adam", wrapped(solved["adam"], "adam",
            "next_w, config = _solved(w, dw, config)\nreturn next_w * 0 + np.finfo(float).max, config")),
            Scenario("adam", "next_w")),
        "huge-step-count": (with_answer(nb, "adam", wrapped(solved["adam"], "adam",
            "next_w, config = _solved(w, dw, config)\nconfig['t'] = 10**4000\nreturn next_w, config")),
            Scenario("adam", "t contains NaN or infinity")),
        "zero-d-config": (with_answer(nb, "sgd_momentum", wrapped(solved["sgd_momentum"], "sgd_momentum",
            "config = {} if config is None else config\n"
            "config.setdefault('learning_rate', np.asarray(1e-2))\n"
            "config.setdefault('momentum', np.asarray(0.9))\nreturn _solved(w, dw, config)")),
            Scenario(None, "")),
        "prints-a-lot": (with_answer(nb, "rmsprop", wrapped(solved["rmsprop"], "rmsprop",
            "print('x' * 2**20)\nreturn _solved(w, dw, config)")), Scenario(None, "")),
        "symlinked-notebook": (ROOT / "source" / "optimizers" / SUITE.notebook,
                               Scenario(None, "symbolic link")),
        "fifo-notebook": (os.mkfifo, Scenario(None, "FIFO")),
        # a right notebook with 40 MiB of tiny containers beside its cells: ~30 bytes of
        # Python objects for each byte, were it parsed in the grader's process
        "json-bomb": (json.dumps(dict(nb, junk=[[{}]] * (40 * 2**20 // 6)),
                                 separators=(",", ":")), Scenario(None, "")),
        "config-holds-objects": (with_answer(nb, "adagrad", wrapped(solved["adagrad"], "adagrad",
            "next_w, config = _solved(w, dw, config)\nconfig['dtype'] = w.dtype\n"
            "config['seen'] = {1, 2}\nreturn next_w.astype(config['dtype']), config")),
            Scenario(None, "")),
        "honest-1": (nb, Scenario(None, "")),
        "honest-2": (nb, Scenario(None, "")),
    }


EXTRA_FILES = {"numpy.py": "raise ImportError('shadowed numpy')\n",
               "conftest.py": "import os\nos._exit(1)\n",
               "sitecustomize.py": "raise SystemExit('site hijacked')\n",
               "checks.py": "raise ImportError('shadowed checks')\n"}


def our_processes(owners: list[int]) -> list[str]:
    """Processes left by the graders ``owners``: by their scratch folders' names (learner-<pid>-)
    and their cgroups' (lecture7-sandbox-<pid>-), so that other tests running at the same
    time do not count."""
    marks = [f"learner-{pid}-" for pid in owners] + [f"lecture7-sandbox-{pid}-" for pid in owners]
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                seen = ((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                        + (entry / "cgroup").read_text())
            except OSError:
                continue
            if any(mark in seen for mark in marks):
                found.append(seen)
    return found


def our_cgroups(owners: list[int]) -> list[str]:
    roots = [Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup")]
    return [p.name for root in roots if root.is_dir() for pid in owners
            for p in root.glob(f"lecture7-sandbox-{pid}-*")]


def lay_out(root: Path, catalog: dict) -> None:
    for student, (content, _) in catalog.items():
        folder = root / "submitted" / student / "optimizers"
        if content is None:
            folder.mkdir(parents=True)
        elif isinstance(content, Path):  # a link to another file
            folder.mkdir(parents=True)
            (folder / SUITE.notebook).symlink_to(content)
        elif callable(content):  # makes the special file itself
            folder.mkdir(parents=True)
            content(folder / SUITE.notebook)
        else:
            write_submission(root / "submitted", student, "optimizers", SUITE.notebook, content)
    for name, text in EXTRA_FILES.items():
        (root / "submitted" / "extra-files" / "optimizers" / name).write_text(text)


@dataclass
class Batch:
    level: str
    catalog: dict
    results: dict[str, dict]     # student -> results.json
    alone: list                   # honest-1 graded alone, in-process
    root: Path
    graders: list[int]           # the pids of the graders that ran the batch
    exit_status: int
    seconds: float
    peak_mib: float
    output: str


@pytest.fixture(scope="module", params=LEVELS)
def batch(request, tmp_path_factory):
    level = request.param
    root = tmp_path_factory.mktemp(f"hostile-{level}")
    nb = solution_notebook("optimizers", SUITE.notebook)
    catalog = {student: entry for student, entry in scenarios(nb).items()
               if level == "bubblewrap" or not entry[1].only_bubblewrap}
    lay_out(root, catalog)
    started = time.monotonic()
    grader = subprocess.Popen(
        [sys.executable, "-m", "autograder", "grade", str(root / "submitted"), "--out",
         str(root / "out"), "--db", f"sqlite:///{root / 'gradebook.db'}", "--workers", "2",
         "--timeout", str(LIMITS.call_seconds), "--submission-timeout",
         str(LIMITS.submission_seconds), "--isolation", level, "--assignment", "optimizers"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    stdout, stderr = grader.communicate(timeout=900)
    run = subprocess.CompletedProcess(grader.args, grader.returncode, stdout, stderr)
    seconds = time.monotonic() - started
    peak = re.search(r"grader's peak memory: (\d+) MiB", run.stdout)
    results = {}
    for student in catalog:
        path = root / "out" / student / "optimizers" / "results.json"
        if path.exists():
            results[student] = json.loads(path.read_text(encoding="utf-8"))
    alone = grade_batch(root / "submitted", root / "alone", [SUITE],
                        f"sqlite:///{root / 'alone.db'}", workers=1, limits=LIMITS,
                        isolation=level, students=["honest-1"])
    return Batch(level, catalog, results, alone, root, [grader.pid, os.getpid()], run.returncode,
                 seconds, float(peak.group(1)) if peak else float("inf"),
                 run.stdout + run.stderr)


def test_the_batch_ends_well_in_bounded_time_and_memory(batch):
    assert batch.exit_status == 0, batch.output[-3000:]
    assert batch.peak_mib < MAX_GRADER_MIB, batch.output[-500:]
    # every submission within its own budget; two graded at once
    for student, data in batch.results.items():
        assert data["execution_time"] < LIMITS.submission_seconds + 10, student
    assert batch.seconds < LIMITS.submission_seconds * len(batch.catalog) / 2


def test_every_submission_gets_results_naming_the_isolation(batch):
    assert set(batch.results) == set(batch.catalog)
    for data in batch.results.values():
        assert data["extra_data"]["isolation"] == batch.level


def test_each_verdict_names_what_happened_and_costs_only_its_own_function(batch):
    for student, (_, scenario) in batch.catalog.items():
        data = batch.results[student]
        outputs = {t["name"]: t["output"] for t in data["tests"]}
        scores = {t["name"]: (t["score"], t["max_score"]) for t in data["tests"]}
        if scenario.broken is None and scenario.says:
            assert data["score"] == 0, student
            assert scenario.says in data["output"], (student, data["output"])
            continue
        if scenario.broken is not None:
            score, max_score = scores.pop(scenario.broken)
            assert score < max_score, student
            assert scenario.says in outputs[scenario.broken], (student, outputs[scenario.broken])
        for name, (score, max_score) in scores.items():
            assert score == max_score, (student, name, outputs[name])


def test_what_one_submission_leaves_is_bounded_and_readable(batch):
    for student in batch.catalog:
        folder = batch.root / "out" / student / "optimizers"
        for name in ("results.json", "feedback.html"):
            size = (folder / name).stat().st_size
            assert size <= MAX_RESULT_BYTES, (student, name, size)
            (folder / name).read_text(encoding="utf-8")  # valid UTF-8, whatever was raised


def test_the_gradebook_agrees_with_every_results_file(batch):
    path = batch.root / "grades.csv"
    export_csv(f"sqlite:///{batch.root / 'gradebook.db'}", path)
    with open(path, newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)
                if row["assignment"] == "optimizers"}
    for student, data in batch.results.items():
        row = rows[student]
        assert float(row["score"]) == data["score"], student
        for test in data["tests"]:
            assert float(row[test["name"]]) == test["score"], (student, test["name"])


def test_the_feedback_command_redraws_every_page(batch):
    run = subprocess.run([sys.executable, "-m", "autograder", "feedback", str(batch.root / "out")],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]


def test_honest_learners_grade_exactly_as_they_would_alone(batch):
    results = batch.results
    assert results["honest-1"]["score"] == results["honest-2"]["score"] == SUITE.max_score
    assert [f.output() for f in batch.alone[0].functions] == \
        [t["output"] for t in results["honest-1"]["tests"]]


def test_printed_output_is_kept_in_short_not_held_against_the_learner(batch):
    data = batch.results["prints-a-lot"]
    assert data["score"] == SUITE.max_score
    printed = data["extra_data"]["printed"]
    assert "MiB" in printed and len(printed) < 20_000


def test_no_process_and_no_cgroup_is_left_behind(batch):
    assert our_processes(batch.graders) == []
    assert our_cgroups(batch.graders) == []


def test_nothing_was_written_outside_the_sandbox(batch):
    if batch.level == "bubblewrap":
        assert not Path("/escape").exists() and not Path("/usr/evil").exists()
    assert not list((batch.root / "submitted").rglob("big"))
    assert not list((batch.root / "submitted").rglob("hog*"))


NUMERICAL_FORWARD = """
_forward = batchnorm_forward
def batchnorm_forward(x, gamma, beta, bn_param):
    out, _ = _forward(x, gamma, beta, bn_param)
    # the cache holds the inputs and the forward pass itself: all a numerical backward needs
    return out, (x.copy(), gamma.copy(), beta.copy(), dict(bn_param, mode="train"), _forward)
"""

ELEMENTWISE = """
import copy
import numpy as np
def {name}(dout, cache):
    x, gamma, beta, bn_param, forward = cache
    def grad(a, h=1e-5):
        g = np.zeros_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + h
            plus = forward(x, gamma, beta, copy.deepcopy(bn_param))[0]
            a[i] = old - h
            minus = forward(x, gamma, beta, copy.deepcopy(bn_param))[0]
            a[i] = old
            g[i] = np.sum((plus - minus) * dout) / (2 * h)
        return g
    return grad(x), grad(gamma), grad(beta)
"""

# Columns of batch norm are independent: perturbing a whole row at once costs 2 forward
# passes per row instead of per element.
ROW_AT_ONCE = """
import copy
import numpy as np
def {name}(dout, cache):
    x, gamma, beta, bn_param, forward = cache
    h = 1e-5
    def run(x_, gamma_, beta_):
        return forward(x_, gamma_, beta_, copy.deepcopy(bn_param))[0]
    dx = np.zeros_like(x)
    for i in range(x.shape[0]):
        plus, minus = x.copy(), x.copy()
        plus[i] += h
        minus[i] -= h
        dx[i] = np.sum((run(plus, gamma, beta) - run(minus, gamma, beta)) * dout, axis=0) / (2 * h)
    dgamma = np.sum((run(x, gamma + h, beta) - run(x, gamma - h, beta)) * dout, axis=0) / (2 * h)
    dbeta = np.sum((run(x, gamma, beta + h) - run(x, gamma, beta - h)) * dout, axis=0) / (2 * h)
    return dx, dgamma, dbeta
"""


@pytest.mark.parametrize("cheat", [ELEMENTWISE, ROW_AT_ONCE], ids=["elementwise", "row-at-once"])
def test_a_numerical_backward_pass_loses_the_timed_case_and_is_told_why(cheat, tmp_path):
    from autograder.grading import grade_submission

    suite = SUITES["batchnorm"]
    nb = solution_notebook("batchnorm", suite.notebook)
    solved = dict(answer_cells(nb))
    nb = with_answer(nb, "batchnorm_forward", solved["batchnorm_forward"] + NUMERICAL_FORWARD)
    for name in ("batchnorm_backward", "batchnorm_backward_alt"):
        nb = with_answer(nb, name, cheat.format(name=name))
    path = write_submission(tmp_path, "cheat", "batchnorm", suite.notebook, nb)
    result = grade_submission(suite, "cheat", path, Limits(call_seconds=5.0))
    scores = {f.name: (f.score, f.max_score) for f in result.functions}
    assert scores["batchnorm_forward"] == (10, 10)
    for name in ("batchnorm_backward", "batchnorm_backward_alt"):
        function = next(f for f in result.functions if f.name == name)
        groups = {g.grade_id: g.passed for g in function.groups}
        # right on every small case, so only the timed one tells
        assert groups == {f"test_{name}_visible": True, f"test_{name}_gradients": False,
                          f"test_{name}_small": True}, function.output()
        assert "took longer than 2 s" in function.output()
        assert "differentiates the forward pass numerically" in function.output()


def test_what_the_code_printed_is_held_back_with_the_hidden_details(tmp_path):
    from datetime import datetime, timedelta, timezone

    from autograder.feedback import feedback_page
    from autograder.grading import grade_submission

    nb = solution_notebook("optimizers", SUITE.notebook)
    solved = dict(answer_cells(nb))["sgd_momentum"]
    # printing its arguments shows a hidden case's inputs to whoever reads the output
    nb = with_answer(nb, "sgd_momentum", wrapped(solved, "sgd_momentum", """
print("ARGUMENTS", w.ravel()[:2].tolist(), config)
return _solved(w, dw, config)
"""))
    path = write_submission(tmp_path, "printer", "optimizers", SUITE.notebook, nb)
    data = grade_submission(SUITE, "printer", path, LIMITS).to_gradescope()
    assert "ARGUMENTS" in data["extra_data"]["printed"]  # the organizer's results keep it
    now = datetime.now(timezone.utc)
    before = feedback_page(lambda: data, "printer", hidden_from=now + timedelta(days=1))
    after = feedback_page(lambda: data, "printer", hidden_from=now - timedelta(days=1))
    assert "ARGUMENTS" not in before and "What your code printed is shown from" in before
    assert "ARGUMENTS" in after
