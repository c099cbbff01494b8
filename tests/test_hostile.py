"""A catalog of hostile and broken submissions, graded in one batch beside honest ones.

Each gets a verdict that names what happened, loses marks only where its own code is at
fault, leaves no process behind, and changes nothing for the honest learners in the batch.
Under bubblewrap the whole catalog runs; without it (the fallback), the part whose
containment needs namespaces (killing other processes, reading the course) is left out.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.batch import grade_batch
from autograder.kit.checks import answer_cells
from autograder.mistakes import with_answer
from autograder.sandbox.process import Limits
from autograder.suites import SUITES

from .helpers import solution_notebook, write_submission

SUITE = SUITES["optimizers"]
LIMITS = Limits(call_seconds=3.0, submission_seconds=90.0)
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
                         Scenario("nesterov_momentum", "took longer than 3 s")),
        "loop-at-import": (with_answer(nb, "adagrad", "while True:\n    pass\n" + solved["adagrad"]),
                           Scenario("adagrad", "loading answer cell 'adagrad' took longer")),
        "exit-at-import": (with_answer(nb, "rmsprop", "import os\nos._exit(3)\n"),
                           Scenario("rmsprop", "exited (status 3)")),
        "ignores-signals": (with_answer(nb, "sgd_momentum", "import signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
                                 "    signal.signal(s, signal.SIG_IGN)\ndef sgd_momentum(w, dw, config=None):\n    while True:\n        pass\n"),
                            Scenario("sgd_momentum", "took longer than 3 s")),
        "memory-hog": (with_answer(nb, "adam", "import numpy as np\ndef adam(w, dw, config=None):\n"
                            "    return [np.ones(2**27) for _ in range(64)], config\n"),
                       Scenario("adam", "MemoryError")),
        "fork-bomb": (with_answer(nb, "nesterov_momentum", "import os, time\ndef nesterov_momentum(w, dw, config=None):\n"
                           "    while True:\n        if os.fork() == 0:\n            time.sleep(30)\n            os._exit(0)\n"),
                      Scenario("nesterov_momentum", "Resource temporarily unavailable")),
        "floods-stdout": (with_answer(nb, "rmsprop", "def rmsprop(w, dw, config=None):\n    while True:\n        print('x' * 100000)\n"),
                          Scenario("rmsprop", "wrote too much output")),
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
        "honest-1": (nb, Scenario(None, "")),
        "honest-2": (nb, Scenario(None, "")),
    }


EXTRA_FILES = {"numpy.py": "raise ImportError('shadowed numpy')\n",
               "conftest.py": "import os\nos._exit(1)\n",
               "sitecustomize.py": "raise SystemExit('site hijacked')\n",
               "checks.py": "raise ImportError('shadowed checks')\n"}


def our_processes() -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "worker.py" in cmdline or "sleep 30" in cmdline:
                found.append(cmdline)
    return found


def our_cgroups() -> list[str]:
    roots = [Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")]
    return [p.name for root in roots if root.is_dir() for p in root.glob("lecture7-sandbox-*")]


@pytest.fixture(scope="module", params=LEVELS)
def batch(request, tmp_path_factory):
    level = request.param
    root = tmp_path_factory.mktemp(f"hostile-{level}")
    nb = solution_notebook("optimizers", SUITE.notebook)
    catalog = {student: entry for student, entry in scenarios(nb).items()
               if level == "bubblewrap" or not entry[1].only_bubblewrap}
    for student, (content, _) in catalog.items():
        if content is None:
            (root / "submitted" / student / "optimizers").mkdir(parents=True)
        else:
            write_submission(root / "submitted", student, "optimizers", SUITE.notebook, content)
    for name, text in EXTRA_FILES.items():
        (root / "submitted" / "extra-files" / "optimizers" / name).write_text(text)
    processes_before = our_processes()
    results = grade_batch(root / "submitted", root / "out", [SUITE],
                          f"sqlite:///{root / 'gradebook.db'}", workers=2, limits=LIMITS,
                          isolation=level)
    alone = grade_batch(root / "submitted", root / "alone", [SUITE],
                        f"sqlite:///{root / 'alone.db'}", workers=1, limits=LIMITS,
                        isolation=level, students=["honest-1"])
    return level, catalog, {r.student: r for r in results}, alone, root, processes_before


def test_every_submission_gets_results_naming_the_isolation(batch):
    level, catalog, results, _, root, _ = batch
    assert set(results) == set(catalog)
    for student in catalog:
        data = json.loads((root / "out" / student / "optimizers" / "results.json").read_text())
        assert data["extra_data"]["isolation"] == level


def test_each_verdict_names_what_happened_and_costs_only_its_own_function(batch):
    _, catalog, results, _, _, _ = batch
    for student, (_, scenario) in catalog.items():
        result = results[student]
        outputs = {f.name: f.output() for f in result.functions}
        scores = {f.name: (f.score, f.max_score) for f in result.functions}
        if scenario.broken is None and scenario.says:
            assert result.score == 0, student
            assert scenario.says in result.output(), (student, result.output())
            continue
        if scenario.broken is not None:
            score, max_score = scores.pop(scenario.broken)
            assert score < max_score, student
            assert scenario.says in outputs[scenario.broken], (student, outputs[scenario.broken])
        for name, (score, max_score) in scores.items():
            assert score == max_score, (student, name, outputs[name])


def test_honest_learners_grade_exactly_as_they_would_alone(batch):
    _, _, results, alone, _, _ = batch
    assert results["honest-1"].score == results["honest-2"].score == SUITE.max_score
    assert [f.output() for f in alone[0].functions] == \
        [f.output() for f in results["honest-1"].functions]


def test_no_process_and_no_cgroup_is_left_behind(batch):
    _, _, _, _, _, before = batch
    assert our_processes() == before == []
    assert our_cgroups() == []


def test_nothing_was_written_outside_the_sandbox(batch):
    level, _, _, _, root, _ = batch
    if level == "bubblewrap":
        assert not Path("/escape").exists() and not Path("/usr/evil").exists()
    assert not list((root / "submitted").rglob("big"))
