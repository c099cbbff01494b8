"""The learner's code runs in a child process that sees nothing of the course, is stopped
when it hangs, and is started again for the next function when it dies."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from autograder.sandbox import process as process_module
from autograder.sandbox.process import (Limits, LearnerError, Sandbox, SandboxFailure,
                                        SandboxTimeout)
from autograder.sandbox.template import ForkedWorker
from autograder.course import ROOT

LEVELS = ["rlimits"] + (["bubblewrap"] if shutil.which("bwrap") else [])
FAST = Limits(call_seconds=2.0)


@pytest.fixture(autouse=True, params=["cold", "warm"])
def start(request):
    """Every bubblewrap test runs twice: sandboxes started cold, and forked from the warm
    template (inside warm_sandboxes), which must hold every guarantee the cold ones do."""
    if request.param == "cold":
        yield
        return
    level = getattr(request.node, "callspec", None) and request.node.callspec.params.get("level")
    if level == "rlimits" or "bubblewrap" not in LEVELS:
        pytest.skip("the warm template is for bubblewrap sandboxes only")
    if "warm" in request.node.name.split("[")[0]:
        pytest.skip("the test keeps the warm template itself")
    with process_module.warm_sandboxes():
        yield


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
def test_values_that_are_not_plain_data_arrive_as_their_description(level):
    # a config may hold a dtype or a set: the quantities compared still arrive
    cells = {"obj": "def obj():\n    return object()\n",
             "arr": "import numpy as np\ndef arr():\n    return np.array([object()])\n",
             "conf": "import numpy as np\ndef conf(w):\n"
                     "    return w + 1, {'dtype': w.dtype, 'seen': {1, 2}, 't': 1}\n"}
    with sandbox(cells, level) as box:
        box.start()
        assert repr(box.call("obj")) == "<a value of type object>"
        assert box.call("arr").described == "an array of dtype object"
        out, config = box.call("conf", np.zeros(2))
    assert out.tolist() == [1.0, 1.0] and config["t"] == 1
    assert config["dtype"].described.startswith("a value of type") and \
        config["seen"].described == "a value of type set"


@pytest.mark.parametrize("level", LEVELS)
def test_replies_too_large_to_send_are_refused(level):
    cells = {"big": "import numpy as np\ndef big():\n    return np.zeros(10**7)\n"}
    with sandbox(cells, level) as box:
        box.start()
        with pytest.raises(LearnerError, match="larger than 64 MiB cannot be sent"):
            box.call("big")


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


ROOT_BWRAP = "bubblewrap" in LEVELS and os.geteuid() == 0


@pytest.mark.skipif("bubblewrap" not in LEVELS, reason="bubblewrap is not installed")
def test_under_bubblewrap_no_host_setting_is_writable_and_no_capability_is_held():
    probe = """
import os
def probe():
    seen = {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups()}
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    seen["caps"] = {k: int(status[k], 16) for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb")}
    seen["no_new_privs"] = status["NoNewPrivs"].strip()
    seen["writable"] = []
    for path in ("/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches",
                 "/proc/sys/kernel/pid_max", "/proc/sys/kernel/modprobe", "/proc/sysrq-trigger",
                 "/sys/kernel/uevent_helper", "/sys/fs/cgroup/pids/cgroup.procs"):
        try:
            with open(path, "a"):
                seen["writable"].append(path)
        except OSError:
            pass
    return seen
"""
    with sandbox({"probe": probe}, "bubblewrap") as box:
        box.start()
        seen = box.call("probe")
    assert seen["writable"] == []
    assert seen["caps"] == {"CapEff": 0, "CapPrm": 0, "CapBnd": 0, "CapAmb": 0} or \
        os.geteuid() != 0 and seen["caps"]["CapEff"] == 0
    assert seen["no_new_privs"] == "1"
    if os.geteuid() == 0:  # the uid outside the sandbox is the one it runs as: not root
        assert seen["uid"] != 0 and seen["gid"] != 0 and seen["groups"] == []


@pytest.mark.skipif("bubblewrap" not in LEVELS, reason="bubblewrap is not installed")
def test_under_bubblewrap_every_writable_folder_is_sized():
    fill = """
import os
def fill():
    written = {}
    for folder in ("/", "/dev", "/tmp", "/dev/shm", "/sandbox", "/worker", "/proc"):
        written[folder] = 0
        for i in range(64):  # many files: the per-file cap alone does not bound a folder
            try:
                with open(os.path.join(folder, f"fill{i}"), "wb") as f:
                    while True:
                        f.write(b"x" * 2**18)
                        written[folder] += 2**18
            except OSError:
                if written[folder] == 0 or i > 0 and not os.path.exists(os.path.join(folder, f"fill{i}")):
                    break
    return written
"""
    limits = Limits(call_seconds=20.0, scratch_bytes=4 * 2**20, shm_bytes=2 * 2**20,
                    output_bytes=2**20)
    with Sandbox([("fill", fill)], "", limits, isolation="bubblewrap") as box:
        box.start()
        written = box.call("fill")
    assert written["/"] == written["/dev"] == written["/worker"] == written["/proc"] == 0
    for folder, size in (("/tmp", 4), ("/sandbox", 4), ("/dev/shm", 2)):
        assert 0 < written[folder] <= size * 2**20, (folder, written)


@pytest.mark.skipif(not ROOT_BWRAP or not os.path.isdir("/sys/fs/cgroup/memory") and
                    not os.path.exists("/sys/fs/cgroup/memory.max"),
                    reason="needs root, bubblewrap and a memory cgroup")
def test_the_memory_of_the_whole_sandbox_is_capped_children_included():
    hog = """
import os, time
def hog():
    children = []
    for _ in range(8):
        pid = os.fork()
        if pid == 0:
            try:
                block = bytearray(150 * 2**20)   # each child alone is under its own limit
                for i in range(0, len(block), 4096):
                    block[i] = 1
                time.sleep(0.5)
            finally:
                os._exit(0)
        children.append(pid)
    return sum(os.waitpid(pid, 0)[1] == 0 for pid in children)
"""
    limits = Limits(call_seconds=30.0, memory_bytes=400 * 2**20)
    with Sandbox([("hog", hog)], "", limits, isolation="bubblewrap") as box:
        box.start()
        try:
            finished = box.call("hog")
        except SandboxFailure as exc:
            assert "memory" in str(exc) or "killed" in str(exc)
        else:  # 8 x 150 MiB > the sandbox's cap: the kernel ended some of them
            assert finished < 8


@pytest.mark.parametrize("level", LEVELS)
def test_a_worker_that_stops_reading_cannot_stall_the_grader(level):
    # The first cell answers its own load request, then sleeps instead of reading: the next
    # request (a cell far larger than a pipe's buffer) can never be written in full.
    forge = ("import os, sys, time, wire\n"
             "os.write(int(sys.argv[2]), wire.pack({'error': None}))\n"
             "time.sleep(1000)\n")
    big = "def big():\n    return 1\n" + "# padding\n" * 200_000
    limits = Limits(call_seconds=1.0, submission_seconds=6.0)
    started = time.monotonic()
    with Sandbox([("forge", forge), ("big", big), ("ok", "def ok():\n    return 1\n")], "",
                 limits, isolation=level) as box:
        with pytest.raises(SandboxFailure):
            box.start()
            box.call("ok")
    assert time.monotonic() - started < limits.submission_seconds + 3


@pytest.mark.parametrize("level", LEVELS)
def test_printing_any_amount_costs_nothing_and_its_start_and_end_are_kept(level):
    cells = {"loud": "def loud(i):\n    print('first line' if i == 0 else 'x' * 2**20)\n"
                     "    print(f'end of call {i}')\n    return i\n"}
    with sandbox(cells, level) as box:
        box.start()
        assert [box.call("loud", i) for i in range(24)] == list(range(24))
        report = box.output.report()
    assert box.output.total > 23 * 2**20
    assert report.startswith("Your code printed 23.0 MiB") and "first line" in report
    assert "end of call 23" in report and len(report) < 10_000


@pytest.mark.parametrize("level", LEVELS)
def test_a_case_with_its_own_time_budget_is_stopped_at_it(level):
    cells = {"slow": "import time\ndef slow(x):\n    time.sleep(5)\n    return x\n"}
    case = {"function": "slow", "kind": "call", "args": [1], "outputs": ["y"],
            "description": "timed", "seconds": 0.5}
    with sandbox(cells, level) as box:
        box.start()
        started = time.monotonic()
        with pytest.raises(SandboxTimeout, match="longer than 0.5 s"):
            box.run_case("slow", case)
        assert time.monotonic() - started < 2.0


def test_a_killed_graders_scratch_folders_are_removed_by_the_next_run(tmp_path):
    start = ("import os, signal, sys\n"
             "from autograder.sandbox.process import Sandbox\n"
             "box = Sandbox([('f', 'def f():\\n    return 1\\n')], '')\n"
             "box.start()\n"
             "print(box._scratch, flush=True)\n"
             "os.kill(os.getpid(), signal.SIGKILL)\n")
    killed = subprocess.run([sys.executable, "-c", start], capture_output=True, text=True,
                            timeout=60)
    scratch = Path(killed.stdout.strip())
    assert killed.returncode == -9 and scratch.is_dir()
    subprocess.run([sys.executable, "-c", "from autograder.sandbox.process import Sandbox\n"
                    "Sandbox([], '').close()\n"], check=True, timeout=60)
    assert not scratch.exists()


@pytest.mark.parametrize("level", LEVELS)
def test_a_reply_that_came_in_time_counts_though_the_grader_looked_late(level, monkeypatch):
    # Another thread holding the GIL can keep the grader from looking before the deadline.
    cells = {"quick": "def quick():\n    return 7\n"}
    with Sandbox(list(cells.items()), "", Limits(call_seconds=0.5), isolation=level) as box:
        box.start()
        write = Sandbox._write_all

        def write_then_stall(self, *args):
            write(self, *args)
            time.sleep(1.5)

        monkeypatch.setattr(Sandbox, "_write_all", write_then_stall)
        assert box.call("quick") == 7


@pytest.mark.skipif("bubblewrap" not in LEVELS, reason="bubblewrap is not installed")
def test_under_bubblewrap_no_user_namespace_no_pipe_held_by_splice_no_kernel_key():
    from autograder.sandbox import seccomp

    if seccomp.program() is None:
        pytest.skip("libseccomp is not installed")
    probe = """
import ctypes, os, shutil, socket, subprocess
def probe():
    libc = ctypes.CDLL(None, use_errno=True)
    unshared = libc.unshare(0x10000000)  # CLONE_NEWUSER
    tool = subprocess.run(["/usr/bin/unshare", "-Ur", "true"], capture_output=True)
    forked = subprocess.run(["/bin/sh", "-c", "echo child"], capture_output=True, text=True)
    a, b = socket.socketpair()
    read_end, write_end = os.pipe()
    try:
        os.splice(a.fileno(), write_end, 1, flags=os.SPLICE_F_NONBLOCK)
        spliced = "allowed"
    except OSError as exc:
        spliced = exc.errno
    shutil.copyfile("/worker/wire.py", "copy.py")  # falls back from sendfile to plain copying
    add_key = {"x86_64": 248, "aarch64": 217}[os.uname().machine]
    key = libc.syscall(add_key, b"user", b"left-behind", b"data", 4, -3)  # session keyring
    return unshared, ctypes.get_errno(), tool.returncode, forked.stdout, spliced, \
        os.path.getsize("copy.py"), (key, ctypes.get_errno())
"""
    with sandbox({"probe": probe}, "bubblewrap") as box:
        box.start()
        unshared, error, tool, forked, spliced, copied, key = box.call("probe")
    assert (unshared, error) == (-1, 1)  # EPERM
    assert tool != 0
    assert spliced == 1  # EPERM: no moving data into a pipe inside the kernel
    assert key == (-1, 1)  # EPERM: no key left in the kernel's store, which outlives us
    assert forked == "child\n" and copied > 0  # processes and copies are made as usual


@pytest.mark.parametrize("level", LEVELS)
def test_a_read_stuck_in_the_kernel_is_freed_by_ending_the_sandbox(level, monkeypatch):
    # A learner's splice can hold the reply pipe's lock, and the grader's read then sleeps
    # in the kernel whatever O_NONBLOCK says; here that read is simulated by one that
    # returns only once the worker's processes are gone.
    from autograder.sandbox import process

    cells = {"stall": "import os, sys, time\ndef stall():\n"
                      "    os.write(int(sys.argv[2]), b'\\0')\n    time.sleep(1000)\n"}
    real_read = os.read
    with Sandbox(list(cells.items()), "", Limits(call_seconds=1.0), isolation=level) as box:
        box.start()
        reply_pipe = box._pipes["from"]

        def stuck_read(fd, n):
            if fd == reply_pipe:
                given_up = time.monotonic() + 10
                while box._proc.poll() is None and time.monotonic() < given_up:
                    time.sleep(0.01)
                return b""
            return real_read(fd, n)

        monkeypatch.setattr(process.os, "read", stuck_read)
        started = time.monotonic()
        with pytest.raises(SandboxTimeout, match="took longer than 1 s"):
            box.call("stall")
        assert time.monotonic() - started < 1.0 + process.Watchdog.GRACE + 1.5


@pytest.mark.parametrize("level", LEVELS)
def test_a_stuck_output_pipe_cannot_hold_the_grader_after_a_bad_reply(level, monkeypatch):
    # The reply is malformed (checked after the request), and reading what the learner
    # printed would wait for as long as its processes live: they are ended first.
    from autograder.sandbox import process

    cells = {"f": "import checks\nprint('x', flush=True)\n"
                  "checks.run_case = lambda fn, case, functions=None: 5\ndef f(x):\n    return x\n"}
    case = {"function": "f", "kind": "call", "args": [1], "outputs": ["y"], "description": "d"}
    real_read = os.read
    with Sandbox(list(cells.items()), "", Limits(call_seconds=1.0, submission_seconds=30.0),
                 isolation=level) as box:
        box.start()
        output_pipe = box._pipes["output"]

        def stuck_read(fd, n):
            if fd == output_pipe:
                given_up = time.monotonic() + 10
                while box._proc.poll() is None and time.monotonic() < given_up:
                    time.sleep(0.01)
            return real_read(fd, n)

        monkeypatch.setattr(process.os, "read", stuck_read)
        started = time.monotonic()
        with pytest.raises(SandboxFailure, match="malformed trace"):
            box.run_case("f", case)
        assert time.monotonic() - started < 3.0


def test_the_writable_folders_are_mounted_before_a_runtime_that_lives_beneath_them(monkeypatch):
    # A clone under /tmp has its venv there: a tmpfs laid over /tmp afterwards would hide it.
    from autograder.sandbox import process

    monkeypatch.setattr(process, "_python_roots", lambda: ["/tmp/clone/.venv", "/usr/local"])
    command = process._bwrap_command(Path("/tmp/learner-1-x"), "/tmp/clone/.venv/bin/python",
                                     Limits(), uid=None)
    tmpfs = [i for i, word in enumerate(command) if word == "--tmpfs"]
    binds = [i for i, word in enumerate(command) if word == "--ro-bind"
             and command[i + 2].startswith(("/tmp", "/sandbox"))]
    assert binds and max(i for i in tmpfs if command[i + 1] in ("/tmp", "/sandbox")) < min(binds)


def _owner(path: Path) -> int | None:
    try:
        return path.stat().st_uid
    except OSError:  # a process that ended meanwhile
        return None


@pytest.mark.skipif(not ROOT_BWRAP, reason="needs root and bubblewrap")
def test_warm_sandboxes_are_forked_fresh_and_see_nothing_of_one_another():
    leave = """
import checks, os, subprocess
def leave():
    for path in ("/tmp/left", "/sandbox/left", "/dev/shm/left"):
        open(path, "w").write("secret")
    checks.left = "secret"
    subprocess.Popen(["/bin/sleep", "1000"], start_new_session=True)
    return os.getuid()
"""
    look = """
import checks, os
def look():
    return {"files": [p for p in ("/tmp/left", "/sandbox/left", "/dev/shm/left")
                      if os.path.exists(p)],
            "module": hasattr(checks, "left"), "uid": os.getuid(),
            "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit())}
"""
    with process_module.warm_sandboxes():
        if process_module._Warm.template is None:
            pytest.skip("the warm template needs a cgroup and a runtime outside /tmp")
        with sandbox({"leave": leave}, "bubblewrap") as first:
            first.start()
            assert isinstance(first._proc, ForkedWorker)  # the warm path is the one tested
            first_uid = first.call("leave")
            with sandbox({"look": look}, "bubblewrap") as beside:  # at the same time
                beside.start()
                seen_beside = beside.call("look")
        # the detached process ended with its sandbox
        assert [p for p in Path("/proc").iterdir() if p.name.isdigit()
                and _owner(p) == first_uid] == []
        with sandbox({"look": look}, "bubblewrap") as after:
            after.start()
            seen_after = after.call("look")
        template = process_module._Warm.template
        assert template is not None and template.alive()
    for seen in (seen_beside, seen_after):
        assert seen["files"] == [] and seen["module"] is False
        assert seen["uid"] not in (0, first_uid)
        # its pid namespace holds its first process and the worker only
        assert seen["processes"] == [1, 2]
    assert process_module._Warm.template is None and not template.alive()
    assert not template.scratch.exists()


@pytest.mark.skipif(not ROOT_BWRAP, reason="needs root and bubblewrap")
@pytest.mark.parametrize("warm", [True, False])
def test_warm_and_cold_sandboxes_hold_the_same_restrictions(warm):
    probe = """
import os
def probe():
    status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
    return {"caps": [int(status[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd",
                                                  "CapAmb")],
            "no_new_privs": status["NoNewPrivs"].strip(), "seccomp": status["Seccomp"].strip(),
            "uid": os.getuid(), "cwd": os.getcwd(), "home": os.environ.get("HOME"),
            "mounts": sorted(line.split()[1] for line in open("/proc/self/mounts")
                             if line.split()[1] in ("/sandbox", "/tmp", "/dev/shm", "/proc"))}
"""
    with process_module.warm_sandboxes(), \
            Sandbox([("probe", probe)], "", FAST, isolation="bubblewrap", warm=warm) as box:
        box.start()
        assert isinstance(box._proc, ForkedWorker) == \
            (warm and process_module._Warm.template is not None)
        seen = box.call("probe")
    from autograder.sandbox import seccomp

    assert seen["caps"] == [0, 0, 0, 0, 0] and seen["no_new_privs"] == "1"
    assert seen["seccomp"] == ("2" if seccomp.program() is not None else "0")
    assert seen["uid"] != 0 and seen["cwd"] == seen["home"] == "/sandbox"
    assert set(seen["mounts"]) == {"/sandbox", "/tmp", "/dev/shm", "/proc"}


def call_case(x, seconds=None) -> dict:
    case = {"function": "f", "kind": "call", "args": [x], "outputs": ["y"], "description": "d"}
    return case if seconds is None else {**case, "seconds": seconds}


@pytest.mark.parametrize("level", LEVELS)
def test_cases_sent_together_are_each_timed_from_the_answer_before(level):
    cells = {"f": "import time\ndef f(x):\n    time.sleep(0.4)\n    return x\n"}
    with sandbox(cells, level) as box:
        box.start()
        started = time.monotonic()
        outcomes = list(box.run_cases("f", [call_case(i, seconds=0.8) for i in range(5)]))
    # 2 s in all, far over one case's 0.8 s: each case has its own time
    assert time.monotonic() - started >= 2.0
    assert [trace[0]["y"] for trace in outcomes] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("level", LEVELS)
def test_cases_sent_together_stop_at_a_timeout_or_a_crash_and_the_rest_can_be_asked_again(level):
    cells = {"f": "import os, time\ndef f(x):\n    if x == 2:\n        time.sleep(5)\n"
                  "    if x == 4:\n        os._exit(3)\n"
                  "    if x == 1:\n        raise ValueError(x)\n    return x\n"}
    cases = [call_case(0), call_case(1), call_case(2, seconds=0.5), call_case(3), call_case(4),
             call_case(5)]
    with sandbox(cells, level) as box:
        box.start()
        first = list(box.run_cases("f", cases))
        kinds = [type(o).__name__ if isinstance(o, Exception) else "trace" for o in first]
        assert kinds == ["trace", "CaseFailed", "SandboxTimeout"]
        assert "ValueError" in str(first[1])
        second = list(box.run_cases("f", cases[3:]))  # a new worker takes the cases left
        kinds = [type(o).__name__ if isinstance(o, Exception) else "trace" for o in second]
        assert kinds == ["trace", "SandboxFailure"]
        assert second[0][0]["y"] == 3 and "status 3" in str(second[1])
        assert box.run_case("f", cases[5])[0]["y"] == 5


@pytest.mark.parametrize("level", LEVELS)
def test_cases_left_unread_end_the_worker_so_no_answer_is_read_out_of_turn(level):
    cells = {"f": "def f(x):\n    return x\n", "g": "def g():\n    return 'g'\n"}
    with sandbox(cells, level) as box:
        box.start()
        outcomes = box.run_cases("f", [call_case(i) for i in range(3)])
        assert next(outcomes)[0]["y"] == 0
        outcomes.close()
        assert not box.alive()
        assert box.call("g") == "g"


@pytest.mark.skipif(not ROOT_BWRAP, reason="needs root and bubblewrap")
def test_a_warm_submission_out_of_time_with_functions_left_ends_within_a_bound():
    cells = [("f", "import time\ndef f():\n    time.sleep(5)\n"), ("g", "def g():\n    return 1\n"),
             ("h", "def h():\n    return 2\n")]
    limits = Limits(call_seconds=10.0, submission_seconds=2.0)
    failures: list[str] = []

    def grade() -> None:
        with Sandbox(cells, "", limits, isolation="bubblewrap") as box:
            box.start()
            assert isinstance(box._proc, ForkedWorker)
            for name in ("f", "g", "h", "g"):  # a restart for each function left
                with pytest.raises(SandboxFailure) as failure:
                    box.call(name)
                failures.append(str(failure.value))

    with process_module.warm_sandboxes():
        if process_module._Warm.template is None:
            pytest.skip("the warm template needs a cgroup and a runtime outside /tmp")
        started = time.monotonic()
        grading = threading.Thread(target=grade, daemon=True)
        grading.start()
        grading.join(30)
        assert not grading.is_alive(), "the grader waits on a sandbox out of time"
    # 2 s of the submission's own, then no wait for any function left
    assert time.monotonic() - started < 8
    assert len(failures) == 4 and all("used up its 2 s" in f for f in failures)


@pytest.mark.skipif(not ROOT_BWRAP, reason="needs root and bubblewrap")
def test_a_warm_sandbox_is_in_its_cgroup_once_it_is_spawned():
    from autograder.sandbox.cgroup import SandboxCgroup

    with process_module.warm_sandboxes():
        template = process_module._Warm.template
        if template is None:
            pytest.skip("the warm template needs a cgroup and a runtime outside /tmp")
        cgroup = SandboxCgroup.create(FAST.processes, FAST.sandbox_memory)
        pipes = [os.pipe() for _ in range(3)]
        try:
            request = process_module.spawn_request(FAST, process_module._sandbox_uid())
            worker = template.spawn((pipes[0][0], pipes[1][1], pipes[2][1]), request, cgroup)
            # nothing waited for: ending the cgroup now must end the sandbox
            assert cgroup.pids() != []
        finally:
            cgroup.remove()
            for fd in (fd for pair in pipes for fd in pair):
                os.close(fd)
        assert worker.wait(5) != 0


@pytest.mark.skipif(not ROOT_BWRAP, reason="needs root and bubblewrap")
def test_warm_sandboxes_beside_one_another_see_none_of_each_others_ptys():
    opener = """
import os
def opener():
    global kept
    kept = os.openpty()
    os.chmod(os.ttyname(kept[1]), 0o666)
    return sorted(os.listdir("/dev/pts"))
"""
    look = "import os\ndef look():\n    return sorted(os.listdir('/dev/pts'))\n"
    with process_module.warm_sandboxes():
        if process_module._Warm.template is None:
            pytest.skip("the warm template needs a cgroup and a runtime outside /tmp")
        with sandbox({"opener": opener}, "bubblewrap") as first, \
                sandbox({"look": look}, "bubblewrap") as beside:
            first.start()
            beside.start()
            assert isinstance(beside._proc, ForkedWorker)
            opened = first.call("opener")
            seen = beside.call("look")
    assert "0" in opened  # the pty was made, in the first sandbox's own instance
    assert seen == ["ptmx"]


@pytest.mark.skipif(not ROOT_BWRAP, reason="needs root and bubblewrap")
def test_warm_and_cold_workers_see_the_same_environment_signals_and_network():
    probe = """
import ctypes, os, signal, socket
def probe():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            loopback = True
    return {"env": dict(os.environ), "loopback": loopback,
            "dumpable": ctypes.CDLL(None).prctl(3, 0, 0, 0, 0),
            "signals": {s.name: repr(signal.getsignal(s)) for s in signal.Signals
                        if s.name not in ("SIGKILL", "SIGSTOP")}}
"""
    seen = {}
    with process_module.warm_sandboxes():
        if process_module._Warm.template is None:
            pytest.skip("the warm template needs a cgroup and a runtime outside /tmp")
        for warm in (True, False):
            with Sandbox([("probe", probe)], "", FAST, isolation="bubblewrap", warm=warm) as box:
                box.start()
                assert isinstance(box._proc, ForkedWorker) == warm
                seen[warm] = box.call("probe")
    assert seen[True] == seen[False]
    assert seen[True]["loopback"] and seen[True]["dumpable"] == 1
    assert "default_int_handler" in seen[True]["signals"]["SIGINT"]


def _descendants(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return children + [d for c in children for d in _descendants(c)]


def _memory(pid: int) -> bytes:
    """What a process holds in its writable memory (read by root, from outside)."""
    held = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            span, perms = line.split()[:2]
            if perms.startswith("rw"):
                start, end = (int(x, 16) for x in span.split("-"))
                try:
                    mem.seek(start)
                    held.append(mem.read(end - start))
                except OSError:
                    pass
    return b"".join(held)


@pytest.mark.skipif(not ROOT_BWRAP, reason="needs root and bubblewrap")
def test_the_warm_template_keeps_nothing_of_the_sandboxes_it_made():
    look = "import os\ndef uid():\n    return os.getuid()\n"
    with process_module.warm_sandboxes():
        template = process_module._Warm.template
        if template is None:
            pytest.skip("the warm template needs a cgroup and a runtime outside /tmp")
        uids = []
        for _ in range(3):
            with sandbox({"uid": look}, "bubblewrap") as box:
                box.start()
                assert isinstance(box._proc, ForkedWorker)
                uids.append(box.call("uid"))
        zygotes = [pid for pid in _descendants(template._proc.pid)  # not bubblewrap's
                   if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] != b"bwrap"]
        assert len(zygotes) == 1  # the template alone: no sandbox is left
        held = _memory(zygotes[0])
    assert b"numpy" in held  # its memory was read
    assert [uid for uid in uids if str(uid).encode() in held] == []


@pytest.mark.skipif(not ROOT_BWRAP, reason="needs root and bubblewrap")
def test_warm_sandboxes_at_once_each_lead_a_pid_namespace_the_template_does_not_share():
    look = "import os\ndef ns():\n    return os.readlink('/proc/self/ns/pid'), os.getppid()\n"
    with process_module.warm_sandboxes():
        template = process_module._Warm.template
        if template is None:
            pytest.skip("the warm template needs a cgroup and a runtime outside /tmp")
        with sandbox({"ns": look}, "bubblewrap") as first, \
                sandbox({"ns": look}, "bubblewrap") as second:
            first.start()
            second.start()
            assert isinstance(second._proc, ForkedWorker)
            seen = [first.call("ns"), second.call("ns")]
            zygote = next(pid for pid in _descendants(template._proc.pid)
                          if Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0] != b"bwrap")
            own = os.readlink(f"/proc/{zygote}/ns/pid")
            # the template went back to its own namespace after each fork
            assert os.readlink(f"/proc/{zygote}/ns/pid_for_children") == own
    (first_ns, first_parent), (second_ns, second_parent) = seen
    assert first_ns != second_ns and own not in (first_ns, second_ns)
    assert first_parent == second_parent == 1  # each worker's parent leads its namespace


@pytest.mark.skipif(not ROOT_BWRAP, reason="needs root and bubblewrap")
def test_a_warm_worker_once_ended_leaves_no_process_in_its_cgroup():
    """Ending a warm worker waits, through a pidfd of its namespace's first process, for
    every process of the namespace, detached ones included, without listing the cgroup."""
    scatter = """
import os, subprocess
def scatter():
    for _ in range(3):
        subprocess.Popen(["/bin/sleep", "1000"], start_new_session=True)
    if os.fork() == 0:  # an orphan, reparented to the namespace's first process
        os.setsid()
        os.execv("/bin/sleep", ["sleep", "1000"])
    return len(os.listdir("/proc"))
"""
    with process_module.warm_sandboxes():
        if process_module._Warm.template is None:
            pytest.skip("the warm template needs a cgroup and a runtime outside /tmp")
        with sandbox({"scatter": scatter}, "bubblewrap") as box:
            box.start()
            assert isinstance(box._proc, ForkedWorker) and box._proc.whole_namespace
            box.call("scatter")
            assert len(box._cgroup.pids()) >= 6  # its first process, the worker, four sleeps
            worker = box._proc
            box.end_worker()
            assert worker.returncode is not None
            assert box._cgroup.pids() == []
            paths = list(box._cgroup.paths)
        assert not any(path.exists() for path in paths)  # removed at the first try


def _running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has, and waits for its
    parent's wait)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not ROOT_BWRAP, reason="needs root and bubblewrap")
def test_removing_a_cgroup_that_holds_processes_ends_them_first():
    from autograder.sandbox.cgroup import SandboxCgroup

    cgroup = SandboxCgroup.create(FAST.processes, FAST.sandbox_memory)
    if cgroup is None:
        pytest.skip("needs a writable cgroup")
    command = cgroup.wrap(["/bin/sh", "-c", "sleep 1000 & sleep 1000 & wait"])
    shell = subprocess.Popen(command, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while len(cgroup.pids()) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        held = cgroup.pids()
        assert len(held) >= 3
        cgroup.remove()
        assert not any(path.exists() for path in cgroup.paths)
        assert shell.wait(5) == -9
        assert [pid for pid in held if _running(pid)] == []
    finally:
        shell.kill()
        cgroup.remove()


@pytest.mark.skipif(not ROOT_BWRAP, reason="needs root and bubblewrap")
def test_a_template_killed_while_its_sandbox_works_is_the_graders_failure_not_the_learners():
    """Every sandbox dies with its template: no verdict may blame the learner for that."""
    import signal

    from autograder.sandbox.process import TemplateEnded

    slow = "import time\ndef slow():\n    time.sleep(5)\n    return 1\n"
    with process_module.warm_sandboxes():
        template = process_module._Warm.template
        if template is None:
            pytest.skip("the warm template needs a cgroup and a runtime outside /tmp")
        with sandbox({"slow": slow}, "bubblewrap") as box:
            box.start()
            zygote = next(pid for pid in _descendants(template._proc.pid)
                          if b"zygote.py" in Path(f"/proc/{pid}/cmdline").read_bytes()
                          and os.stat(f"/proc/{pid}").st_uid == 0)  # root: not a sandbox
            threading.Timer(0.5, os.kill, (zygote, signal.SIGKILL)).start()
            with pytest.raises(TemplateEnded, match="template ended"):
                box.call("slow")
