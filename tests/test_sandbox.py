"""The learner's code runs in a child process that sees nothing of the course, is stopped
when it hangs, and is started again for the next function when it dies."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from autograder.sandbox.process import Limits, LearnerError, Sandbox, SandboxFailure
from autograder.course import ROOT

LEVELS = ["rlimits"] + (["bubblewrap"] if shutil.which("bwrap") else [])
FAST = Limits(call_seconds=2.0)


def sandbox(cells: dict[str, str], level: str) -> Sandbox:
    return Sandbox(list(cells.items()), "import numpy as np\n", FAST, isolation=level)


@pytest.mark.parametrize("level", LEVELS)
def test_calls_return_plain_data(level):
    with sandbox({"f": "def f(x, c):\n    return x * 2, {'t': c['t'] + 1}\n"}, level) as box:
        assert box.start() == ["f"]
        out, config = box.call("f", np.arange(3.0), {"t": 1})
        assert type(out) is np.ndarray and out.tolist() == [0.0, 2.0, 4.0]
        assert config == {"t": 2}


@pytest.mark.parametrize("level", LEVELS)
def test_the_learners_process_is_not_the_graders(level):
    with sandbox({"pid": "import os\ndef pid():\n    return os.getpid()\n"}, level) as box:
        box.start()
        assert box.call("pid") != os.getpid()


@pytest.mark.skipif("bubblewrap" not in LEVELS, reason="bubblewrap is not installed")
def test_under_bubblewrap_the_course_and_network_are_out_of_sight():
    probe = f"""
import os, socket
def probe():
    course = {str(ROOT)!r}
    seen = {{"course": os.path.exists(course + "/source"),
             "course_listing": sorted(os.listdir(course)) if os.path.isdir(course) else [],
             "cwd": os.getcwd(),
             "env": sorted(os.environ)}}
    try:
        socket.create_connection(("127.0.0.1", 22), timeout=1)
        seen["network"] = True
    except OSError:
        seen["network"] = False
    return seen
"""
    with sandbox({"probe": probe}, "bubblewrap") as box:
        box.start()
        seen = box.call("probe")
    assert seen["course"] is False
    assert seen["network"] is False
    assert seen["cwd"] == "/sandbox"
    # the runtime may live inside the checkout (a .venv): then that folder alone is visible
    assert set(seen["course_listing"]) <= {".venv"}
    assert "PATH" not in seen["env"] and all(not k.startswith("LECTURE7") for k in seen["env"])


@pytest.mark.parametrize("level", LEVELS)
def test_a_hanging_call_is_stopped_and_the_next_call_gets_a_new_worker(level):
    cells = {"spin": "def spin():\n    while True:\n        pass\n", "ok": "def ok():\n    return 1\n"}
    with sandbox(cells, level) as box:
        box.start()
        with pytest.raises(SandboxFailure, match="took longer than 2 s"):
            box.call("spin")
        assert box.call("ok") == 1


@pytest.mark.parametrize("level", LEVELS)
def test_exiting_or_raising_base_exceptions_is_reported(level):
    cells = {"leave": "import os\ndef leave():\n    os._exit(0)\n",
             "quit": "import sys\ndef quit():\n    sys.exit(0)\n"}
    with sandbox(cells, level) as box:
        box.start()
        with pytest.raises(SandboxFailure, match=r"exited \(status 0\) during the call to leave"):
            box.call("leave")
        with pytest.raises(LearnerError, match="SystemExit"):
            box.call("quit")


@pytest.mark.parametrize("level", LEVELS)
def test_unsendable_results_are_refused(level):
    cells = {"obj": "def obj():\n    return object()\n",
             "arr": "import numpy as np\ndef arr():\n    return np.array([object()])\n"}
    with sandbox(cells, level) as box:
        box.start()
        with pytest.raises(LearnerError, match="cannot be sent"):
            box.call("obj")
        with pytest.raises(LearnerError, match="dtype object cannot be sent"):
            box.call("arr")


@pytest.mark.parametrize("level", LEVELS)
def test_cell_errors_name_the_cell_and_keep_other_cells(level):
    cells = {"bad": "def bad(:\n", "good": "def good():\n    return 'yes'\n"}
    with sandbox(cells, level) as box:
        assert box.start() == ["good"]
        assert "SyntaxError" in box.cell_errors["bad"]
        assert "<answer cell bad>" in box.cell_errors["bad"]
        assert box.call("good") == "yes"


@pytest.mark.parametrize("level", LEVELS)
def test_memory_is_capped(level):
    cells = {"hog": "import numpy as np\ndef hog():\n    return np.ones(2**28).sum()\n"}
    limits = Limits(call_seconds=10.0, memory_bytes=512 * 2**20)
    with Sandbox(list(cells.items()), "", limits, isolation=level) as box:
        box.start()
        with pytest.raises(LearnerError, match="MemoryError"):
            box.call("hog")
