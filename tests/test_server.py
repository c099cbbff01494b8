"""The submission server, driven from outside: `python -m autograder serve` runs as its own
process on a free local port, members are added with `python -m autograder members add`, and
everything else goes over HTTP (and `python submit.py` in a released folder).

One server serves most tests (members are named per test, so they do not share attempts);
tests that restart or kill it, need one grading worker, or other settings start their own.
The tests under "under attack" each failed before the defence they name.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from autograder.course import RELEASE, SOLUTIONS
from autograder.server.config import ConfigError, read_config_file
from autograder.server.members import add_member
from autograder.server.store import Store
from autograder.suites import SUITES

from .helpers import ROOT

EXAMPLES = ROOT / "examples" / "submitted"
WRONG_OPTIMIZERS = EXAMPLES / "cy" / "optimizers" / "optimizers.ipynb"  # 20/50, two mistakes
SUBMIT_INTERVAL = 1.0
LIMITS = ["--timeout", "5", "--submission-timeout", "30", "--memory-mb", "1024"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def solution(assignment: str) -> bytes:
    return (SOLUTIONS / assignment / SUITES[assignment].notebook).read_bytes()


class ServerProcess:
    """`python -m autograder serve` on a free port, with its state in ``data``."""

    def __init__(self, data: Path, workers: int = 2, extra: tuple[str, ...] = ()):
        self.data = data
        self.workers = workers
        self.extra = extra
        self.port = None
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int | None = None) -> "ServerProcess":
        self.port = port or free_port()
        self.log = open(self.data / f"server-{self.port}.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autograder", "serve", "--port", str(self.port), "--data",
             str(self.data), "--db", f"sqlite:///{self.data / 'gradebook.db'}", "--workers",
             str(self.workers), "--submit-interval", str(SUBMIT_INTERVAL),
             "--config", str(self.data / "serve.toml"), *LIMITS, *self.extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                httpx.get(self.url + "/", timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"the server did not start:\n{self.output()}")

    def output(self) -> str:
        return (self.data / f"server-{self.port}.log").read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        try:
            code = self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"the server did not stop on {sig!r}:\n{self.output()}")
        finally:
            self.log.close()
        return code

    def member(self, name: str, organizer: bool = False) -> str:
        """Add a member as `members add` does, in this process (the command line's own
        tests use it; starting Python for every member would double these tests' time)."""
        return add_member(Store(self.data / "server.db"), name, organizer)[1]

    def member_by_command(self, name: str, organizer: bool = False) -> str:
        """Add a member with the command line; their token, read from the printed link."""
        run = subprocess.run([sys.executable, "-m", "autograder", "members", "add", name,
                              "--data", str(self.data), "--url", self.url,
                              *(["--organizer"] if organizer else [])],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        link = re.search(r"(http://\S+/login\?token=(\S+))", run.stdout)
        assert link, run.stdout
        return link.group(2)

    def browser(self, token: str) -> httpx.Client:
        """A client signed in with the member's link (a session cookie, as a browser has)."""
        client = httpx.Client(base_url=self.url, timeout=30)
        response = sign_in(client, token)
        assert response.status_code == 303, response.text
        return client

    def api(self, token: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, timeout=30, headers=headers)


def sign_in(client: httpx.Client, token: str, **headers) -> httpx.Response:
    """Open the personal link and press its button, as a browser does: the form's POST
    from the same origin, with the cookie the link's page set."""
    page = client.get(f"/login?token={token}")
    assert page.status_code == 200, page.text
    confirm = re.search(r"name='confirm' value='([^']+)'", page.text).group(1)
    return client.post("/login", data={"token": token, "confirm": confirm},
                       headers={"origin": str(client.base_url).rstrip("/"),
                                "sec-fetch-site": "same-origin", **headers})


def csrf(client: httpx.Client, page: str = "/") -> str:
    return re.search(r"name='csrf' value='([^']+)'", client.get(page).text).group(1)


def upload(client: httpx.Client, assignment: str, content: bytes, token: str | None = None,
           filename: str = "notebook.ipynb") -> httpx.Response:
    """The upload form, as the browser sends it."""
    return client.post("/submit", data={"csrf": token or csrf(client), "assignment": assignment},
                       files={"notebook": (filename, content, "application/octet-stream")})


def wait_graded(server: ServerProcess, token: str, attempt: int, seconds: float = 90) -> dict:
    with server.api(token) as api:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            state = api.get(f"/api/attempts/{attempt}").json()
            if state["state"] in ("done", "failed"):
                return state
            time.sleep(0.25)
    raise AssertionError(f"attempt {attempt} not graded in {seconds} s:\n{server.output()}")


def attempt_id(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def jobs(data: Path) -> list[tuple]:
    with sqlite3.connect(data / "server.db") as db:
        return db.execute("SELECT id, assignment, state, stored FROM jobs ORDER BY id").fetchall()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("server")).start()
    yield server
    assert server.stop() == 0, server.output()
    assert "Traceback" not in server.output(), server.output()


@pytest.fixture(scope="module")
def organizer(server):
    return server.browser(server.member("organizer", organizer=True))


# members and sessions

def test_a_members_link_signs_in_with_an_httponly_samesite_cookie_and_only_its_hash_is_kept(server):
    token = server.member_by_command("mia")
    client = httpx.Client(base_url=server.url)
    response = sign_in(client, token)
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie")
                  if c.startswith("session=")).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = client.get("/").text
    assert "Assignments of mia" in home and "No attempts yet." in home
    stored = (server.data / "server.db").read_bytes() + b"".join(
        p.read_bytes() for p in server.data.glob("server.db-*"))
    assert token.encode() not in stored
    assert httpx.get(f"{server.url}/login?token={token}x").status_code == 403


def test_a_new_link_replaces_the_old_one_and_a_name_is_taken_once(server):
    token = server.member("noa")
    client = server.browser(token)
    run = subprocess.run([sys.executable, "-m", "autograder", "members", "link", "noa", "--data",
                          str(server.data), "--url", server.url],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert client.get("/").status_code == 401  # its sessions ended
    assert httpx.get(f"{server.url}/login?token={token}").status_code == 403
    new = re.search(r"token=(\S+)", run.stdout).group(1)
    assert server.browser(new).get("/").status_code == 200
    again = subprocess.run([sys.executable, "-m", "autograder", "members", "add", "noa", "--data",
                            str(server.data)], capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "already a member" in again.stderr


# uploads and feedback

def test_an_uploaded_notebook_is_stored_graded_and_its_feedback_shows_the_diagnosis_and_a_picture(
        server):
    token = server.member("ada")
    client = server.browser(token)
    job = attempt_id(upload(client, "optimizers", WRONG_OPTIMIZERS.read_bytes()))
    state = wait_graded(server, token, job)
    assert (state["state"], state["score"], state["max_score"]) == ("done", 20, 50)
    page = client.get(f"/attempts/{job}").text
    assert "epsilon inside the square root" in page and "plain momentum" in page
    assert re.search(r"<img [^>]*src='data:image/png;base64,", page)
    stored = next(Path(row[3]) for row in jobs(server.data) if row[0] == job)
    assert stored.read_bytes() == WRONG_OPTIMIZERS.read_bytes()
    assert stored.parts[-3:] == ("ada", "optimizers", "optimizers.ipynb")
    home = client.get("/").text
    assert "<td class='best'>20 / 50</td>" in home


def test_the_gradebook_records_the_server_grades_for_export(server, tmp_path):
    token = server.member("gus")
    client = server.browser(token)
    job = attempt_id(upload(client, "preprocessing", solution("preprocessing")))
    assert wait_graded(server, token, job)["score"] == SUITES["preprocessing"].max_score
    run = subprocess.run([sys.executable, "-m", "autograder", "export", "--db",
                          f"sqlite:///{server.data / 'gradebook.db'}", "--csv",
                          str(tmp_path / "grades.csv")], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(open(tmp_path / "grades.csv")))
    assert {"student": "gus", "assignment": "preprocessing", "score": "40"}.items() <= \
        next(r for r in rows if r["student"] == "gus").items()


def test_submit_py_in_a_released_folder_submits_and_prints_the_score(server, tmp_path):
    token = server.member("ivy")
    folder = tmp_path / "batchnorm"
    shutil.copytree(RELEASE / "batchnorm", folder)
    shutil.copy(ROOT / "autograder" / "kit" / "submit.py", folder / "submit.py")
    (folder / "batchnorm.ipynb").write_bytes(solution("batchnorm"))
    run = subprocess.run([sys.executable, "submit.py", "--token",
                          f"{server.url}/login?token={token}"], cwd=folder,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": ""})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "submitted batchnorm.ipynb as attempt 1 of batchnorm" in run.stdout
    assert "Score from the checks: 30 / 30" in run.stdout and "late" not in run.stdout
    assert "batchnorm_backward: 10/10" in run.stdout
    bad = subprocess.run([sys.executable, "submit.py", "--token", "nope", "--server",
                          server.url], cwd=folder, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "refused (401)" in bad.stderr
    nowhere = subprocess.run([sys.executable, "submit.py", "--token", token, "--server",
                              f"http://127.0.0.1:{free_port()}"], cwd=folder,
                             capture_output=True, text=True, timeout=60)
    assert nowhere.returncode == 1 and "cannot reach the server" in nowhere.stderr
    assert "pass --server with the start of your personal link" in nowhere.stderr


def test_every_attempt_is_kept_with_the_best_and_the_last_score(server, tmp_path):
    token = server.member("ben")
    client = server.browser(token)
    first = attempt_id(upload(client, "optimizers", solution("optimizers")))
    wait_graded(server, token, first)
    time.sleep(SUBMIT_INTERVAL)
    second = attempt_id(upload(client, "optimizers", WRONG_OPTIMIZERS.read_bytes()))
    assert wait_graded(server, token, second)["score"] == 20
    home = client.get("/").text
    assert "<td class='best'>50 / 50</td>" in home
    assert f"<td class='last'><a href='/attempts/{second}'>20 / 50</a>" in home
    assert client.get(f"/attempts/{first}").status_code == 200
    assert "Score: 50 / 50" in client.get(f"/attempts/{first}").text
    # the gradebook holds the attempt that counts, as the pages do, not the latest
    run = subprocess.run([sys.executable, "-m", "autograder", "export", "--db",
                          f"sqlite:///{server.data / 'gradebook.db'}", "--csv",
                          str(tmp_path / "grades.csv")], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    rows = csv.DictReader(open(tmp_path / "grades.csv"))
    assert next(r for r in rows if r["student"] == "ben")["score"] == "50"


def test_attempts_are_numbered_per_member_and_assignment_not_across_the_group(server):
    token = server.member("bo")
    client = server.browser(token)
    other = server.member("bo2")  # uploads in between: the queue's ids are not bo's numbers
    first = attempt_id(upload(client, "optimizers", solution("optimizers")))
    server.api(other).post("/api/submit/optimizers", content=solution("optimizers"))
    wait_graded(server, token, first)
    time.sleep(SUBMIT_INTERVAL)
    second = attempt_id(upload(client, "optimizers", WRONG_OPTIMIZERS.read_bytes()))
    batchnorm = attempt_id(upload(client, "batchnorm", solution("batchnorm")))
    assert second - first >= 2
    assert wait_graded(server, token, second)["number"] == 2
    assert wait_graded(server, token, batchnorm)["number"] == 1
    page = client.get(f"/attempts/{second}").text
    assert "attempt 2 of optimizers by bo" in page
    home = client.get("/").text
    assert [int(n) for n in re.findall(r"<tr><td>optimizers</td><td>(\d+)</td>", home)] == [2, 1]


def test_members_add_prints_links_to_the_port_the_server_serves_at(server):
    run = subprocess.run([sys.executable, "-m", "autograder", "members", "add", "pia", "--data",
                          str(server.data)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    link = re.search(r"(http://\S+/login\?token=\S+)", run.stdout).group(1)
    assert link.startswith(f"{server.url}/login?token=")
    assert f"python submit.py --token '{link}'" in run.stderr
    home = server.browser(link.rsplit("=", 1)[1]).get("/").text
    assert f"python submit.py --server {server.url} --token YOUR-TOKEN" in home


# isolation between members

def test_a_member_sees_no_other_members_attempts_and_no_organizer_page(server, organizer):
    owner, other = server.member("cy"), server.member("dee")
    job = attempt_id(upload(server.browser(owner), "optimizers", WRONG_OPTIMIZERS.read_bytes()))
    wait_graded(server, owner, job)
    intruder = server.browser(other)
    assert intruder.get(f"/attempts/{job}").status_code == 404
    assert server.api(other).get(f"/api/attempts/{job}").status_code == 404
    assert intruder.get(f"/attempts/{job + 10_000}").status_code == 404  # looks the same
    assert "/attempts/" + str(job) not in intruder.get("/").text
    assert intruder.get("/organizer").status_code == 403
    assert intruder.get("/organizer/grades.csv").status_code == 403
    assert intruder.post("/organizer/regrade", data={"csrf": csrf(intruder)}).status_code == 403
    assert organizer.get(f"/attempts/{job}").status_code == 200


def test_without_a_session_or_token_nothing_is_shown(server):
    anonymous = httpx.Client(base_url=server.url)
    assert anonymous.get("/").status_code == 401
    assert anonymous.get("/attempts/1").status_code == 401
    assert anonymous.get("/organizer").status_code == 401
    assert anonymous.post("/submit", files={"notebook": ("a.ipynb", b"{}")}).status_code == 401
    assert server.api(None).get("/api/attempts/1").status_code == 401
    assert server.api("wrong").post("/api/submit/optimizers",
                                     content=solution("optimizers")).status_code == 401
    bad_session = httpx.Client(base_url=server.url, cookies={"session": "forged"})
    assert bad_session.get("/attempts/1").status_code == 401


# bad inputs

@pytest.mark.parametrize("content, words", [
    (b"print('hello')\n", "is not a notebook: invalid JSON"),
    (b'{"nbformat": 4}', "not a notebook (it has no list of cells)"),
    (b"\xff\xfe{}", "is not UTF-8"),
    (b"", "the upload is empty"),
])
def test_an_upload_that_is_not_a_notebook_is_refused_and_nothing_is_queued(server, content, words):
    token = server.member(f"bad{abs(hash(content)) % 10**6}")
    before = len(jobs(server.data))
    response = server.api(token).post("/api/submit/optimizers", content=content)
    assert response.status_code == 400 and words in response.json()["error"], response.text
    page = upload(server.browser(token), "batchnorm", content)
    assert page.status_code == 400 and words in page.text
    assert len(jobs(server.data)) == before


def test_an_oversized_upload_is_refused_while_it_streams_in(server):
    token = server.member("big")
    huge = b"{" + b" " * (8 * 2**20)
    declared = server.api(token).post("/api/submit/optimizers", content=huge)
    assert declared.status_code == 413 and "8 MiB" in declared.json()["error"]

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(9):
            yield b" " * 2**20

    streamed = server.api(token).post("/api/submit/optimizers", content=chunks())
    assert streamed.status_code == 413
    form = upload(server.browser(token), "optimizers", huge)
    assert form.status_code == 413
    assert not [row for row in jobs(server.data) if "/big/" in row[3]]
    assert not list((server.data / "uploads").glob("*/big"))


def test_an_unknown_assignment_is_refused(server):
    token = server.member("una")
    response = server.api(token).post("/api/submit/clipping", content=solution("optimizers"))
    assert response.status_code == 404 and "no assignment 'clipping'" in response.json()["error"]
    assert upload(server.browser(token), "../optimizers", solution("optimizers")).status_code == 404


def test_a_notebook_sent_under_the_wrong_assignment_is_refused_naming_the_right_one(server):
    token = server.member("wyn")
    before = len(jobs(server.data))
    api = server.api(token).post("/api/submit/preprocessing", content=solution("optimizers"))
    assert api.status_code == 400, api.text
    assert ("this notebook has none of preprocessing's answer cells" in api.json()["error"]
            and "it looks like the optimizers notebook" in api.json()["error"])
    page = upload(server.browser(token), "batchnorm", solution("tuning"))
    assert page.status_code == 400 and "it looks like the tuning notebook" in page.text
    empty = server.api(token).post("/api/submit/tuning", content=b'{"cells": []}')
    assert empty.status_code == 400 and "upload tuning.ipynb" in empty.json()["error"]
    assert len(jobs(server.data)) == before


def test_the_form_has_no_assignment_chosen_until_the_member_chooses(server):
    home = server.browser(server.member("ode")).get("/").text
    select = re.search(r"<select name='assignment'[^>]*>(.*?)</select>", home).group(1)
    assert "required" in re.search(r"<select name='assignment'[^>]*>", home).group(0)
    assert select.startswith("<option value='' selected>choose...</option>")
    assert "<option data-notebook='optimizers.ipynb'>optimizers</option>" in select
    assert upload(server.browser(server.member("ode2")), "", solution("optimizers")) \
        .status_code == 404


def test_every_page_has_the_navigation_and_a_way_back(server):
    token = server.member("nav")
    client = server.browser(token)
    job = attempt_id(upload(client, "optimizers", solution("optimizers")))
    too_soon = upload(client, "optimizers", solution("optimizers"))
    not_notebook = upload(client, "batchnorm", b"print(1)")
    missing = client.get("/attempts/999999")
    wait_graded(server, token, job)
    for response in (too_soon, not_notebook, missing, client.get(f"/attempts/{job}")):
        assert "<nav>" in response.text and ">Sign out</button>" in response.text
        assert "href='/'" in response.text
    anonymous = httpx.get(f"{server.url}/attempts/{job}")
    assert anonymous.status_code == 401 and "open your personal link" in anonymous.text


def test_a_file_name_with_a_traversal_is_never_used_as_a_path(server):
    token = server.member("tom")
    client = server.browser(token)
    job = attempt_id(upload(client, "optimizers", solution("optimizers"),
                            filename="../../../../tmp/owned.ipynb"))
    stored = Path(next(row[3] for row in jobs(server.data) if row[0] == job))
    assert stored.parent.parent.parent.parent == server.data / "uploads"
    assert stored.parts[-3:] == ("tom", "optimizers", "optimizers.ipynb")
    assert not Path("/tmp/owned.ipynb").exists()


def test_a_form_without_the_sessions_csrf_token_is_refused(server):
    token = server.member("cat")
    client = server.browser(token)
    assert upload(client, "optimizers", solution("optimizers"), token="forged").status_code == 403
    assert upload(client, "optimizers", solution("optimizers"), token="é").status_code == 403
    other = server.browser(server.member("cat2"))
    assert upload(client, "optimizers", solution("optimizers"),
                  token=csrf(other)).status_code == 403
    assert client.post("/logout").status_code == 403
    assert client.get("/").status_code == 200  # still signed in


def test_a_burst_of_uploads_gets_one_accepted_and_the_rest_told_to_wait(server):
    token = server.member("zed")
    notebook = solution("optimizers")
    answers = []

    def send():
        with server.api(token) as api:
            answers.append(api.post("/api/submit/optimizers", content=notebook))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(r.status_code for r in answers)
    assert codes == [202] + [429] * 7, codes
    assert all(int(r.headers["retry-after"]) >= 1 for r in answers if r.status_code == 429)
    assert len([row for row in jobs(server.data) if "/zed/" in row[3]]) == 1
    assert wait_graded(server, token, next(r.json()["id"] for r in answers
                                           if r.status_code == 202))["score"] == 50


# organizer's pages

def test_the_organizer_sees_members_scores_pass_shares_mistakes_and_a_csv(server, organizer):
    token = server.member("eve")
    job = attempt_id(upload(server.browser(token), "optimizers", WRONG_OPTIMIZERS.read_bytes()))
    wait_graded(server, token, job)
    page = organizer.get("/organizer").text
    assert "<td>eve</td>" in page and f"<a href='/attempts/{job}'>20 / 50</a>" in page
    counted = re.search(r"<tr><td>(\d+) of (\d+)</td>.*?epsilon inside the square root", page)
    assert counted, page
    assert int(counted.group(1)) >= 1 and int(counted.group(2)) >= int(counted.group(1))
    assert "<svg" in page and "rmsprop" in page
    rows = list(csv.DictReader(io.StringIO(organizer.get("/organizer/grades.csv").text)))
    eve = next(r for r in rows if r["member"] == "eve")
    assert {"assignment": "optimizers", "status": "graded", "counting_attempt": "1",
            "checks_score": "20", "counted_score": "20", "max_score": "50",
            "sgd_momentum": "10", "rmsprop": "0"}.items() <= eve.items(), eve


def test_regrade_grades_every_attempt_of_an_assignment_again_with_the_same_result(server,
                                                                                  organizer):
    token = server.member("hal")
    job = attempt_id(upload(server.browser(token), "preprocessing", solution("preprocessing")))
    wait_graded(server, token, job)
    with sqlite3.connect(server.data / "server.db") as db:
        before = dict(db.execute("SELECT id, score FROM jobs WHERE assignment = 'preprocessing' "
                                 "AND state = 'done'"))
        finished = dict(db.execute("SELECT id, finished FROM jobs"))
    response = organizer.post("/organizer/regrade", data={
        "csrf": csrf(organizer, "/organizer"), "assignment": "preprocessing"})
    assert response.status_code == 303
    queued = int(re.fullmatch(r"/organizer\?regraded=(\d+)", response.headers["location"])[1])
    assert queued == len(before)
    assert f"{queued} attempts queued for regrading" in organizer.get(
        response.headers["location"]).text
    deadline = time.monotonic() + 120
    while {row[2] for row in jobs(server.data) if row[1] == "preprocessing"} != {"done"}:
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.25)
    with sqlite3.connect(server.data / "server.db") as db:
        after = dict(db.execute("SELECT id, score FROM jobs WHERE assignment = 'preprocessing' "
                                "AND state = 'done'"))
        again = dict(db.execute("SELECT id, finished FROM jobs"))
    assert after == before
    assert all(again[i] > finished[i] for i in before)  # graded again
    assert all(again[i] == finished[i] for i in finished if i not in before)  # others not


# a late policy from the config file

def test_a_late_upload_counts_less_as_the_config_file_says(tmp_path):
    late = time.gmtime(time.time() - 1.5 * 86400)
    (tmp_path / "serve.toml").write_text(
        f"[deadlines]\nbatchnorm = {time.strftime('%Y-%m-%dT%H:%M:%SZ', late)}\n"
        f"[late]\npenalty_per_day = 0.25\nlast_day = 4\n")
    server = ServerProcess(tmp_path, workers=1).start()
    try:
        token = server.member("lee")
        client = server.browser(token)
        job = attempt_id(upload(client, "batchnorm", solution("batchnorm")))
        state = wait_graded(server, token, job)
        assert (state["score"], state["counted_score"]) == (30, 15)
        note = "submitted 1.5 days late: counts 15 / 30 (-50%)"  # 2 days (begun) late
        assert state["late"] == note
        home = client.get("/").text
        assert "<td class='best'>15 / 30</td>" in home
        assert f"30 / 30</a> <span class='late'>{note}</span>" in home
        assert "25% of the score is lost per day late" in home
        assert re.search(r"<td>batchnorm</td><td>[^<]+ <span class='muted'>\(past\)</span>", home)
        assert note in client.get(f"/attempts/{job}").text
        organizer = server.browser(server.member("org", organizer=True))
        (row,) = csv.DictReader(io.StringIO(organizer.get("/organizer/grades.csv").text))
        assert {"checks_score": "30", "counted_score": "15", "days_late": "1.50"}.items() \
            <= row.items(), row
    finally:
        assert server.stop() == 0


def test_a_deadline_without_a_zone_is_quoted_as_the_file_writes_it(tmp_path):
    (tmp_path / "serve.toml").write_text("[deadlines]\nbatchnorm = 2026-12-10T12:00:00\n")
    with pytest.raises(ConfigError) as refused:
        read_config_file(tmp_path / "serve.toml")
    assert "batchnorm = 2026-12-10T12:00:00: write a time with its zone" in str(refused.value)
    assert "datetime" not in str(refused.value)


def test_a_config_file_naming_no_assignment_stops_the_server_with_the_reason(tmp_path):
    (tmp_path / "serve.toml").write_text("[deadlines]\nclipping = 2026-01-01T00:00:00Z\n")
    run = subprocess.run([sys.executable, "-m", "autograder", "serve", "--data", str(tmp_path),
                          "--config", str(tmp_path / "serve.toml"), "--port", str(free_port())],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2 and "'clipping', which is not an assignment" in run.stderr


# nothing lost

def slow_notebook(seconds: float, assignment: str = "optimizers") -> bytes:
    """The solution of ``assignment`` with a code cell of the learner's own that sleeps first."""
    nb = json.loads(solution(assignment))
    nb["cells"].insert(1, {"cell_type": "code", "metadata": {}, "execution_count": None,
                           "outputs": [], "source": f"import time\ntime.sleep({seconds})\n"})
    return json.dumps(nb).encode()


def test_a_server_killed_while_grading_grades_the_interrupted_submission_on_restart(tmp_path):
    server = ServerProcess(tmp_path, workers=1).start()
    token = server.member("kim")
    response = server.api(token).post("/api/submit/optimizers", content=slow_notebook(5))
    job = response.json()["id"]
    deadline = time.monotonic() + 60
    while jobs(tmp_path)[0][2] != "grading":
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    with sqlite3.connect(tmp_path / "server.db") as db:
        worker = db.execute("SELECT worker FROM jobs WHERE id = ?", (job,)).fetchone()[0]
    started = time.perf_counter()  # the learner's code sleeps in its worker, not in the pages
    assert server.api(token).get(f"/api/attempts/{job}").json()["state"] == "grading"
    assert time.perf_counter() - started < 1.0
    server.stop(signal.SIGKILL)
    deadline = time.monotonic() + 20
    while Path(f"/proc/{worker}").exists():  # the kernel ends the orphaned worker too
        assert time.monotonic() < deadline, "the grading worker outlived its server"
        time.sleep(0.1)
    assert jobs(tmp_path)[0][2] == "grading"
    server.start()
    try:
        state = wait_graded(server, token, job)
        assert (state["state"], state["score"]) == ("done", 50), state
        assert "interrupted by the last shutdown are queued again" in server.output()
    finally:
        assert server.stop(signal.SIGINT) == 0


def test_a_grading_worker_that_dies_is_replaced_and_its_submission_graded_again(server):
    token = server.member("wes")
    job = server.api(token).post("/api/submit/optimizers", content=slow_notebook(2)).json()["id"]
    deadline = time.monotonic() + 60
    while (worker := _worker_of(server.data, job)) is None:
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    os.kill(worker, signal.SIGKILL)  # as the kernel's OOM killer would
    state = wait_graded(server, token, job)
    assert (state["state"], state["score"]) == ("done", 50), state
    with sqlite3.connect(server.data / "server.db") as db:
        assert db.execute("SELECT tries FROM jobs WHERE id = ?", (job,)).fetchone()[0] == 1
    assert "a grading worker ended" in server.output()


def _worker_of(data: Path, job: int) -> int | None:
    """The process id of the worker grading ``job``, None while it is not being graded."""
    with sqlite3.connect(data / "server.db") as db:
        row = db.execute("SELECT worker FROM jobs WHERE id = ? AND state = 'grading'",
                         (job,)).fetchone()
    return row[0] if row else None


# the views, in this process: which attempt counts, and a regrade that keeps the score

def _graded(store: Store, config, member, assignment: str, score: float, mistake: str = "",
            submitted: float | None = None) -> int:
    """An attempt graded ``score`` (of 50, one function) with ``mistake`` diagnosed, as a
    worker leaves it: a finished row and its results.json."""
    from autograder.kit.checks import Check
    from autograder.results import FunctionResult, GroupResult, SubmissionResult, results_text
    from autograder.server.workers import results_path

    job = store.enqueue(member, assignment, Path("unused.ipynb"), 1, interval=0)
    if submitted is not None:
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE jobs SET submitted = ? WHERE id = ?", (submitted, job))
    diagnosis = (f"your outputs match a known mistake, {mistake} (what it does).",) \
        if mistake else ()
    check = Check("adam", "case 0", score == 50, "ok" if score == 50 else "wrong",
                  diagnosis=diagnosis)
    result = SubmissionResult(member.name, assignment, "optimizers.ipynb", "bubblewrap", [
        FunctionResult("adam", (GroupResult("test_adam", "visible", 50, False, (check,)),))])
    path = results_path(config, job)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(results_text(result.to_gradescope()))
    store.finish(job, score, 50)
    return job


def test_the_grid_summary_and_csv_all_take_the_attempt_that_counts(tmp_path):
    from datetime import datetime, timezone

    from autograder.server import views
    from autograder.server.config import LatePolicy, ServerConfig

    deadline = time.time() - 86400
    config = ServerConfig(data=tmp_path, late=LatePolicy(0.5, 3),
                          deadlines={"optimizers": datetime.fromtimestamp(deadline,
                                                                          timezone.utc)})
    store = Store(config.store_path)
    ann = store.add_member("ann", "token-ann", False)
    on_time = _graded(store, config, ann, "optimizers", 0, "t after use", deadline - 60)
    _graded(store, config, ann, "optimizers", 50, submitted=deadline + 3600)  # counts 25
    _graded(store, config, ann, "optimizers", 0, "no bias correction")  # the latest
    (row,) = [r for r in views.member_standings(store, config, ann) if r.attempts]
    assert (row.counted, row.counting.attempt.number, row.last.attempt.number) == (25, 2, 3)
    summary = views.class_summary(store, config)
    (adam,) = summary.of("optimizers")
    assert (adam.learners, adam.passing, adam.mistakes) == (1, 1, ())
    (line,) = csv.DictReader(io.StringIO(views.grades_csv(store, config)))
    assert {"counting_attempt": "2", "checks_score": "50", "counted_score": "25",
            "adam": "50", "status": "graded"}.items() <= line.items(), line
    assert on_time == 1


def test_a_regrade_keeps_the_last_score_shown_until_the_new_one_is_in(tmp_path):
    from autograder.server import views
    from autograder.server.config import ServerConfig

    config = ServerConfig(data=tmp_path)
    store = Store(config.store_path)
    ann = store.add_member("ann", "token-ann", False)
    _graded(store, config, ann, "optimizers", 50)
    assert store.regrade("optimizers") == 1
    (row,) = [r for r in views.member_standings(store, config, ann) if r.attempts]
    assert (row.last.attempt.state, row.counted) == ("queued", 50)
    from autograder.server import pages
    home = pages.learner_page(ann, "csrf", [row], "", config.url)
    assert "50 / 50</a> <span class='muted'>(regrading...)</span>" in home
    assert "<td class='best'>50 / 50</td>" in home


def test_submit_py_prints_the_checks_score_and_what_counts_of_a_late_one():
    from autograder.kit import submit

    state = {"state": "done", "score": 30, "max_score": 30, "feedback": "http://x/attempts/4",
             "late": "submitted 1.5 days late: counts 15 / 30 (-50%)", "tests": []}
    printed = submit.report(state).splitlines()
    assert printed[1:3] == ["Score from the checks: 30 / 30",
                            "Submitted 1.5 days late: counts 15 / 30 (-50%)"]
    assert "late" not in submit.report({**state, "late": ""})


def test_submit_py_says_where_the_result_will_be_when_the_server_stays_away():
    from autograder.kit import submit

    attempt = {"id": 17, "number": 3, "assignment": "optimizers",
               "feedback": "http://grader.example.org/attempts/17"}
    started = time.monotonic()
    with pytest.raises(submit.SubmitError) as gave_up:
        submit.wait(f"http://127.0.0.1:{free_port()}", "token", attempt, seconds=2.5)
    assert 2 <= time.monotonic() - started < 5  # it kept trying for the time it was given
    assert ("Your upload was received as attempt 3 of optimizers; its result will be at "
            "http://grader.example.org/attempts/17") in str(gave_up.value)


# what the feedback page explains

def _with_answer(assignment: str, function: str, source: str) -> bytes:
    """The solution of ``assignment`` with the answer cell of ``function`` replaced."""
    nb = json.loads(solution(assignment))
    (cell,) = [c for c in nb["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == function]
    cell["source"] = source
    return json.dumps(nb).encode()


def test_an_answer_cell_that_does_not_run_shows_why_above_its_rows_and_in_its_dependents(
        server):
    token = server.member("ian")
    client = server.browser(token)
    broken = _with_answer("batchnorm", "batchnorm_forward",
                          "def batchnorm_forward(x, gamma, beta, bn_param):\n"
                          "    out = x\n      return out, None\n")
    job = attempt_id(upload(client, "batchnorm", broken))
    assert wait_graded(server, token, job)["state"] == "done"
    page = client.get(f"/attempts/{job}").text
    forward = page[page.index("<h2 id='batchnorm_forward'>"):page.index(
        "<h2 id='batchnorm_backward'>")]
    assert "IndentationError" in forward
    assert forward.index("IndentationError") < forward.index("not run (see the problem above)")
    assert "batchnorm_forward() did not run (see its problem)" in page
    assert "is not defined" not in page


def test_a_notebook_unchanged_from_the_release_is_told_so_and_the_sandbox_is_a_detail(server):
    token = server.member("una2")
    client = server.browser(token)
    released = (RELEASE / "preprocessing" / SUITES["preprocessing"].notebook).read_bytes()
    job = attempt_id(upload(client, "preprocessing", released))
    assert wait_graded(server, token, job)["score"] == 0
    page = client.get(f"/attempts/{job}").text
    assert "Your notebook is unchanged from the release" in page
    assert "<details><summary>Your code ran in a sandbox</summary>" in page
    assert "ran with isolation" not in page


# nothing lost, even by submit.py

def test_submit_py_waits_through_a_server_restart_and_prints_the_grade(tmp_path):
    server = ServerProcess(tmp_path, workers=1).start()
    folder = tmp_path / "optimizers"
    shutil.copytree(RELEASE / "optimizers", folder)
    shutil.copy(ROOT / "autograder" / "kit" / "submit.py", folder / "submit.py")
    (folder / "optimizers.ipynb").write_bytes(slow_notebook(3))
    waiting = subprocess.Popen([sys.executable, "submit.py", "--token",
                                f"{server.url}/login?token={server.member('rex')}", "--wait",
                                "120"], cwd=folder, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": ""})
    try:
        deadline = time.monotonic() + 60
        while not jobs(tmp_path) or jobs(tmp_path)[0][2] != "grading":
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.05)
        port = server.port
        assert server.stop() == 0
        time.sleep(2)  # submit.py finds no server for a while
        server.start(port)
        out, err = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, out + err
        assert "Score from the checks: 50 / 50" in out
    finally:
        waiting.kill()
        server.stop()


# under attack

def test_a_link_opened_from_another_site_signs_no_one_in_until_the_member_confirms(server):
    ada, eve = server.member("ada3"), server.member("eve3")
    browser = server.browser(ada)
    assert "Submitting as <strong>ada3</strong>" in browser.get("/").text
    # a page elsewhere sends ada's browser to eve's link: it only asks
    page = browser.get(f"/login?token={eve}")
    assert page.status_code == 200 and "<title>Sign in as eve3?</title>" in page.text
    assert "This browser is signed in as <strong>ada3</strong>" in page.text
    assert not [c for c in page.headers.get_list("set-cookie") if c.startswith("session=")]
    assert "Assignments of ada3" in browser.get("/").text
    # nor can that page press the button: not from this site, or without the page's nonce
    confirm = re.search(r"name='confirm' value='([^']+)'", page.text).group(1)
    for headers in ({"origin": "http://evil.example", "sec-fetch-site": "cross-site"},
                    {"sec-fetch-site": "cross-site"}, {"origin": "http://evil.example"}):
        forged = browser.post("/login", data={"token": eve, "confirm": confirm}, headers=headers)
        assert forged.status_code == 403 and "not sent by this site" in forged.text
    elsewhere = httpx.Client(base_url=server.url)  # a browser holding no nonce of the page
    assert elsewhere.post("/login", data={"token": eve, "confirm": confirm}).status_code == 403
    assert "Assignments of ada3" in browser.get("/").text
    # the member's own confirmation switches, and ends the session it replaced
    old = browser.cookies["session"]
    assert sign_in(browser, eve).status_code == 303
    assert "Assignments of eve3" in browser.get("/").text
    assert httpx.get(f"{server.url}/", cookies={"session": old}).status_code == 401


def test_opening_ones_own_link_again_reuses_the_session_and_sessions_are_capped(server):
    from autograder.server.store import MAX_SESSIONS

    token = server.member("ses")
    browser = server.browser(token)

    def sessions() -> int:
        with sqlite3.connect(server.data / "server.db") as db:
            return db.execute("SELECT COUNT(*) FROM sessions JOIN members ON members.id = "
                              "member_id WHERE name = 'ses'").fetchone()[0]

    again = browser.get(f"/login?token={token}")
    assert again.status_code == 303 and sessions() == 1
    for _ in range(MAX_SESSIONS + 5):
        sign_in(httpx.Client(base_url=server.url), token)
    assert sessions() == MAX_SESSIONS
    assert browser.get("/").status_code == 401  # the oldest session ended
    with sqlite3.connect(server.data / "server.db") as db:
        db.execute("UPDATE sessions SET expires = 0 WHERE member_id = "
                   "(SELECT id FROM members WHERE name = 'ses')")
    server.browser(token)
    assert sessions() == 1  # the expired ones were deleted


def test_one_member_uploading_slow_notebooks_waits_behind_the_others_and_old_uploads_are_superseded(
        tmp_path):
    server = ServerProcess(tmp_path, workers=1).start()
    try:
        hog, fair = server.member("hog"), server.member("fair")
        api = server.api(hog)
        first = api.post("/api/submit/optimizers", content=slow_notebook(3)).json()["id"]
        deadline = time.monotonic() + 60
        while _worker_of(tmp_path, first) is None:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.05)
        batchnorm = api.post("/api/submit/batchnorm",
                             content=slow_notebook(1, "batchnorm")).json()["id"]
        time.sleep(SUBMIT_INTERVAL)
        replaced = api.post("/api/submit/optimizers", content=slow_notebook(3)).json()["id"]
        time.sleep(SUBMIT_INTERVAL)
        last = api.post("/api/submit/optimizers", content=slow_notebook(1)).json()["id"]
        honest = server.api(fair).post("/api/submit/preprocessing",
                                        content=solution("preprocessing")).json()["id"]
        for job in (first, batchnorm, last, honest):
            assert wait_graded(server, hog if job != honest else fair, job)["state"] == "done"
        with sqlite3.connect(tmp_path / "server.db") as db:
            started = dict(db.execute("SELECT id, started FROM jobs"))
            states = dict(db.execute("SELECT id, state FROM jobs"))
        assert started[honest] < min(started[batchnorm], started[last])  # fair's turn first
        assert (states[replaced], started[replaced]) == ("superseded", None)
        stored = next(Path(row[3]) for row in jobs(tmp_path) if row[0] == replaced)
        assert stored.read_bytes() == slow_notebook(3)  # kept, not graded
        page = server.browser(hog).get(f"/attempts/{replaced}").text
        assert ("This upload was not graded: your newer upload (attempt 3) replaced it before "
                "it was graded") in page
    finally:
        assert server.stop() == 0


def test_claims_go_round_robin_with_new_uploads_before_a_regrade(tmp_path):
    store = Store(tmp_path / "server.db")
    ann, bob, cid = (store.add_member(n, f"token-{n}", False) for n in ("ann", "bob", "cid"))
    for member, assignment in [(ann, "optimizers")] * 3 + [(ann, "batchnorm"), (bob, "optimizers")]:
        store.finish(store.enqueue(member, assignment, Path("x.ipynb"), 1, interval=0), 1, 50)
    assert store.regrade() == 5
    fresh = store.enqueue(cid, "optimizers", Path("x.ipynb"), 1, interval=0)
    claimed = [store.claim(worker) for worker in (1, 2, 3)]
    assert claimed[0].id == fresh  # a new upload before the regrade
    assert {a.member for a in claimed[1:]} == {"ann", "bob"}  # one each, not ann's three first
    assert store.claim(4).member == "ann"
    assert store.claim(5) is None  # ann's other optimizers jobs wait: one at a time


def test_a_member_whose_attempts_all_use_up_the_budget_gets_a_quarter_of_it(tmp_path):
    from autograder.server.config import ServerConfig
    from autograder.server.workers import SLOW_ATTEMPTS, limits_for

    config = ServerConfig(data=tmp_path)
    store = Store(config.store_path)
    ann = store.add_member("ann", "token-ann", False)
    budget = config.limits.submission_seconds
    for _ in range(SLOW_ATTEMPTS):
        assert limits_for(store, config, "ann").submission_seconds == budget
        store.finish(store.enqueue(ann, "optimizers", Path("x"), 1, interval=0), 0, 50, 1.0)
    assert limits_for(store, config, "ann").submission_seconds == budget / 4
    store.finish(store.enqueue(ann, "optimizers", Path("x"), 1, interval=0), 50, 50, 0.1)
    assert limits_for(store, config, "ann").submission_seconds == budget


def test_connections_whose_headers_never_end_are_closed_and_the_open_files_limit_raised(tmp_path):
    server = ServerProcess(tmp_path, workers=1, extra=("--header-timeout", "1")).start()
    try:
        slow = []
        for _ in range(30):
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
            slow.append(sock)
        assert httpx.get(server.url + "/", timeout=5).status_code == 401
        time.sleep(2)
        for sock in slow:
            sock.settimeout(5)
            assert sock.recv(1024) == b""  # closed by the server
            sock.close()
        limits = Path(f"/proc/{server.process.pid}/limits").read_text()
        soft, hard = re.search(r"Max open files\s+(\d+)\s+(\d+)", limits).groups()
        assert soft == hard
    finally:
        assert server.stop() == 0


def test_a_flood_of_one_log_line_is_cut_to_a_few_and_then_counted():
    import logging

    from autograder.server.serving import QuietRepeats

    out = io.StringIO()
    logger = logging.getLogger("test.flood")
    logger.propagate = False
    handler = logging.StreamHandler(out)
    handler.addFilter(QuietRepeats(burst=5, window=0.5))
    logger.addHandler(handler)
    try:
        for fd in range(1000):
            logger.error("socket.accept() out of system resource: fd %d", fd)
        logger.error("another message")
        time.sleep(0.6)
        logger.error("socket.accept() out of system resource: fd %d", 5000)
    finally:
        logger.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert len(lines) == 7 and lines[5] == "another message"
    assert lines[6] == "socket.accept() out of system resource: fd 5000 (995 more like it " \
                       "left out before)"


def _trickle(notebook: bytes, pause: float):
    """A notebook's bytes sent in 64 KiB pieces, ``pause`` seconds apart."""
    for start in range(0, len(notebook), 2**16):
        time.sleep(pause)
        yield notebook[start:start + 2**16]


def _partial(data: Path) -> list[Path]:
    return list((data / "uploads" / ".partial").glob("*"))


def test_a_members_second_upload_is_refused_while_the_first_is_still_streaming_in(server):
    token = server.member("twin")
    answers = []
    first = threading.Thread(target=lambda: answers.append(server.api(token).post(
        "/api/submit/optimizers", content=_trickle(solution("optimizers"), 0.1))))
    first.start()
    deadline = time.monotonic() + 30
    while not [p for p in _partial(server.data) if (p / "twin").exists()]:
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    second = server.api(token).post("/api/submit/batchnorm", content=solution("batchnorm"))
    assert second.status_code == 429, second.text
    assert "another upload of yours is still being received" in second.json()["error"]
    first.join()
    assert answers[0].status_code == 202, answers[0].text
    assert not [p for p in _partial(server.data) if (p / "twin").exists()]


def test_at_most_two_notebooks_are_parsed_at_once_and_a_long_wait_is_refused():
    import asyncio

    from autograder.server.uploads import Gate, UploadRefused

    async def run() -> tuple[int, list]:
        gate, busy, most, outcomes = Gate(parses=2, wait=0.3), 0, 0, []

        async def parse(seconds):
            nonlocal busy, most
            try:
                async with gate.parsing():
                    busy += 1
                    most = max(most, busy)
                    await asyncio.sleep(seconds)
                    busy -= 1
                outcomes.append("parsed")
            except UploadRefused as exc:
                outcomes.append(exc.status)

        await asyncio.gather(parse(0.2), parse(0.2), parse(0.05))  # the third waits its turn
        await asyncio.gather(parse(1), parse(1), parse(0.05))  # the third waits too long
        return most, outcomes

    most, outcomes = asyncio.run(run())
    assert most == 2
    assert sorted(outcomes, key=str) == [503] + ["parsed"] * 5


def test_uploads_past_a_members_quota_or_the_disks_free_margin_are_refused(tmp_path):
    notebook = solution("optimizers")  # 1.0 MB, the largest solution with its outputs
    server = ServerProcess(tmp_path, workers=1, extra=("--member-quota-mb", "1.5")).start()
    try:
        api = server.api(server.member("full"))
        assert api.post("/api/submit/optimizers", content=notebook).status_code == 202
        time.sleep(SUBMIT_INTERVAL)
        over = api.post("/api/submit/optimizers", content=notebook)
        assert over.status_code == 413 and "fill your 1.5 MiB of storage" in over.json()["error"]
        assert len(jobs(tmp_path)) == 1
    finally:
        assert server.stop() == 0
    server = ServerProcess(tmp_path, workers=1, extra=("--min-free-mb", "1e12")).start()
    try:
        api = server.api(server.member("late"))
        full = api.post("/api/submit/optimizers", content=notebook)
        assert full.status_code == 507 and "disk is nearly full" in full.json()["error"]
    finally:
        assert server.stop() == 0


def test_what_the_server_writes_is_readable_by_its_user_alone(server):
    token = server.member("priv")
    job = server.api(token).post("/api/submit/preprocessing",
                                 content=solution("preprocessing")).json()["id"]
    assert wait_graded(server, token, job)["state"] == "done"
    stored = Path(next(row[3] for row in jobs(server.data) if row[0] == job))
    assert server.data.stat().st_mode & 0o777 == 0o700
    results = (server.data / "results" / str(job)).iterdir()
    for path in (server.data / "server.db", stored, *results):
        assert path.stat().st_mode & 0o077 == 0, (path, oct(path.stat().st_mode))


def test_an_upload_cut_by_a_killed_server_leaves_nothing_after_the_restart(tmp_path):
    server = ServerProcess(tmp_path, workers=1).start()
    token = server.member("cut")

    def send():
        with pytest.raises(httpx.TransportError):  # the server dies mid-upload
            server.api(token).post("/api/submit/optimizers",
                                   content=_trickle(solution("optimizers"), 0.2))

    sending = threading.Thread(target=send)
    sending.start()
    deadline = time.monotonic() + 30
    while not _partial(tmp_path):
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    server.stop(signal.SIGKILL)
    sending.join()
    assert _partial(tmp_path)
    server.start()
    try:
        assert not _partial(tmp_path) and not jobs(tmp_path)
        assert not [p for p in (tmp_path / "uploads").iterdir() if p.name != ".partial"]
    finally:
        assert server.stop() == 0


def test_a_second_server_on_the_same_data_stops_at_once_and_leaves_the_first_alone(tmp_path):
    server = ServerProcess(tmp_path, workers=1).start()
    try:
        token = server.member("solo")
        job = server.api(token).post("/api/submit/optimizers",
                                     content=slow_notebook(3)).json()["id"]
        deadline = time.monotonic() + 60
        while (worker := _worker_of(tmp_path, job)) is None:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.05)
        second = subprocess.run([sys.executable, "-m", "autograder", "serve", "--data",
                                 str(tmp_path), "--port", str(free_port()), "--config",
                                 str(tmp_path / "serve.toml")],
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 2, second.stderr
        assert f"another server (process {server.process.pid}) is serving from" in second.stderr
        assert _worker_of(tmp_path, job) == worker  # still graded by the first one's worker
        elsewhere = tmp_path / "other"
        same_port = subprocess.run([sys.executable, "-m", "autograder", "serve", "--data",
                                    str(elsewhere), "--port", str(server.port), "--config",
                                    str(tmp_path / "serve.toml")],
                                   capture_output=True, text=True, timeout=60)
        assert same_port.returncode == 2 and "cannot listen on" in same_port.stderr
        assert wait_graded(server, token, job)["score"] == 50
    finally:
        assert server.stop() == 0


def test_a_server_killed_three_times_while_grading_one_submission_still_grades_it(tmp_path):
    server = ServerProcess(tmp_path, workers=1).start()
    token = server.member("kit")
    job = server.api(token).post("/api/submit/optimizers", content=slow_notebook(5)).json()["id"]
    for _ in range(3):
        deadline = time.monotonic() + 60
        while (worker := _worker_of(tmp_path, job)) is None:
            assert time.monotonic() < deadline, server.output()
            time.sleep(0.05)
        server.stop(signal.SIGKILL)
        while Path(f"/proc/{worker}").exists():  # the kernel ends the orphaned worker too
            assert time.monotonic() < deadline, "the grading worker outlived its server"
            time.sleep(0.1)
        assert jobs(tmp_path)[0][2] == "grading"
        server.start()
    try:
        state = wait_graded(server, token, job)
        assert (state["state"], state["score"]) == ("done", 50), state
        with sqlite3.connect(tmp_path / "server.db") as db:
            assert db.execute("SELECT tries FROM jobs").fetchone()[0] == 0
    finally:
        assert server.stop() == 0


def test_a_server_db_from_before_superseded_uploads_is_upgraded_with_its_rows(tmp_path):
    from autograder.server import store as store_module

    old = (store_module.SCHEMA.replace(",\n" + " " * 41 + "'superseded'", "")
           .replace(",\n    budget_used REAL", ""))
    assert "superseded" not in old and "budget_used" not in old
    with sqlite3.connect(tmp_path / "server.db") as db:
        db.executescript(old)
        db.execute("INSERT INTO members(name, token_hash, created) VALUES ('ann', 'h', 0)")
        db.execute("INSERT INTO jobs(member_id, assignment, stored, size, submitted, state) "
                   "VALUES (1, 'optimizers', 'x', 1, 0, 'queued')")
    store = Store(tmp_path / "server.db")
    newer = store.enqueue(store.member("ann"), "optimizers", Path("y"), 1, interval=0)
    assert [(a.id, a.state) for a in store.attempts()] == [(1, "superseded"), (newer, "queued")]


def test_a_token_never_starts_with_a_dash_which_a_command_line_reads_as_an_option(monkeypatch):
    from autograder.server import members

    drawn = iter(["-KKBLx4Lg0Cf3xiVfBkzwaPCrh9Y3BSty9cxN0A", "-Q2", "KKBLx4Lg0Cf3x"])
    monkeypatch.setattr(members.secrets, "token_urlsafe", lambda n: next(drawn))
    assert members.new_token() == "KKBLx4Lg0Cf3x"


def test_a_worker_whose_server_is_already_gone_ends_at_once(tmp_path):
    """A worker started as its server dies must not read pid 1 as its server and grade on."""
    import multiprocessing

    from autograder.server.config import ServerConfig
    from autograder.server.workers import run_worker

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # a pid that is no process's now: the server, dead before the worker starts
    config = ServerConfig(data=tmp_path)
    Store(config.store_path)
    worker = multiprocessing.get_context("spawn").Process(target=run_worker,
                                                          args=(config, gone.pid))
    worker.start()
    worker.join(60)
    alive = worker.is_alive()
    if alive:
        worker.kill()
    assert not alive and worker.exitcode == 0
