"""Load on the submission server: many members submitting at once, one run.

    .venv/bin/python benchmarks/serve_load.py [--submissions 100] [--clients 20] [--workers 2]

Starts `python -m autograder serve` on a free local port with a fresh state folder, adds
one member per client, and lets every client upload notebooks one after another (the
example learners' notebooks of every assignment, honest and wrong), each waiting for
its feedback before the next, as a member at a terminal does. A further client opens the
learner's page every 0.2 s throughout, to show whether pages stay quick while workers grade.
Then, for the ratio, `python -m autograder grade` grades the same notebooks as one batch.

Printed: throughput, p50/p95 from upload to feedback, the page's p50/p95, how many
submissions ended graded, and every HTTP status seen (the run fails on any 5xx or any
submission not graded).
"""
from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.server.members import add_member  # noqa: E402
from autograder.server.store import Store  # noqa: E402
from autograder.suites import SUITES  # noqa: E402

EXAMPLES = ROOT / "examples" / "submitted"


def _is_json(path: Path) -> bool:
    try:
        json.loads(path.read_bytes())
    except ValueError:
        return False
    return True


# dee's notebook, cut off while saving, is refused at upload (400): every other one is graded
NOTEBOOKS = sorted(p for p in EXAMPLES.glob("*/*/*.ipynb")
                   if p.parent.name in SUITES and _is_json(p))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url: str, token: str, data: bytes | None = None) -> tuple[int, dict | None]:
    req = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="serve-load-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    tokens = [add_member(Store(scratch / "server.db"), f"member{i:02d}")[1]
              for i in range(args.clients)]
    server = subprocess.Popen(
        [sys.executable, "-m", "autograder", "serve", "--port", str(port), "--data", str(scratch),
         "--db", f"sqlite:///{scratch / 'gradebook.db'}", "--workers", str(args.workers),
         "--submit-interval", "0", "--config", str(scratch / "none.toml")],
        stdout=subprocess.DEVNULL, stderr=open(scratch / "server.log", "w"))
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=1)
        except urllib.error.HTTPError:
            break  # 401 without a session: it is up
        except OSError:
            time.sleep(0.2)

    statuses: Counter = Counter()
    latencies: list[float] = []
    outcomes: Counter = Counter()
    plan = [NOTEBOOKS[i % len(NOTEBOOKS)] for i in range(args.submissions)]
    lock = threading.Lock()

    def client(index: int) -> None:
        token = tokens[index]
        for notebook in plan[index::args.clients]:
            started = time.perf_counter()
            status, attempt = request(f"{url}/api/submit/{notebook.parent.name}", token,
                                      notebook.read_bytes())
            with lock:
                statuses[status] += 1
            if status != 202:
                continue
            while True:
                status, state = request(f"{url}/api/attempts/{attempt['id']}", token)
                with lock:
                    statuses[status] += 1
                if status == 200 and state["state"] in ("done", "failed"):
                    break
                time.sleep(0.1)
            with lock:
                latencies.append(time.perf_counter() - started)
                outcomes[state["state"]] += 1

    page_times: list[float] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            started = time.perf_counter()
            request(url + "/api/assignments", tokens[0])
            page_times.append(time.perf_counter() - started)
            time.sleep(0.2)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    watcher = threading.Thread(target=reader)
    for thread in [*threads, watcher]:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    done.set()
    watcher.join()
    server.terminate()
    server.wait(30)

    batch = scratch / "batch"
    for i, notebook in enumerate(plan):
        target = batch / f"learner{i:03d}" / notebook.parent.name / notebook.name
        target.parent.mkdir(parents=True)
        shutil.copy(notebook, target)
    batch_started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(batch), "--out",
                    str(scratch / "out"), "--db", f"sqlite:///{scratch / 'batch.db'}",
                    "--workers", str(args.workers)], check=True, capture_output=True)
    batch_wall = time.perf_counter() - batch_started

    print(f"server, {args.workers} grading workers: {len(plan)} submissions from "
          f"{args.clients} concurrent clients in {wall:.1f} s: {len(plan) / wall:.2f} per second")
    print(f"upload to feedback: p50 {percentile(latencies, 0.5):.2f} s, "
          f"p95 {percentile(latencies, 0.95):.2f} s")
    print(f"a page while grading: p50 {1000 * percentile(page_times, 0.5):.0f} ms, "
          f"p95 {1000 * percentile(page_times, 0.95):.0f} ms ({len(page_times)} requests)")
    print(f"outcomes: {dict(outcomes)}; HTTP statuses: {dict(sorted(statuses.items()))}")
    print(f"the same {len(plan)} notebooks as one batch (grade --workers {args.workers}): "
          f"{batch_wall:.1f} s: {len(plan) / batch_wall:.2f} per second; the server reaches "
          f"{batch_wall / wall:.2f} of the batch's throughput")
    shutil.rmtree(scratch, ignore_errors=True)
    graded = outcomes["done"] == len(plan)
    no_5xx = not any(code >= 500 for code in statuses)
    return 0 if graded and no_5xx else 1


if __name__ == "__main__":
    sys.exit(main())
