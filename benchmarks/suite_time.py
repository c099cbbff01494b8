"""The project's own checks: wall time of the whole suite as `./run test` runs it.

    .venv/bin/python benchmarks/suite_time.py [--serial]

Runs pytest on two workers (what `./run test` does) and prints the wall time, the number of
tests and the modules that take longest (their tests' durations added up, setup included).
With --serial it also runs the suite in one process, in the same run, and prints the ratio.
A figure, not a test: the machines are shared, so compare runs side by side.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARALLEL = ["-n", "2", "--dist", "loadscope"]


def run_suite(extra: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "--durations=0", *extra],
                          cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"the suite failed:\n{done.stdout[-3000:]}")
    return seconds, done.stdout


def by_module(output: str) -> dict[str, float]:
    modules: dict[str, float] = defaultdict(float)
    for seconds, path in re.findall(r"^([\d.]+)s \w+\s+(tests/\S+?\.py)", output, re.MULTILINE):
        modules[path] += float(seconds)
    return dict(modules)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serial", action="store_true", help="also run in one process")
    args = parser.parse_args()
    seconds, output = run_suite(PARALLEL)
    passed = re.search(r"(\d+) passed", output).group(1)
    print(f"suite on 2 workers: {passed} tests passed in {seconds:.0f} s wall "
          f"({seconds / 60:.1f} min)")
    for module, total in sorted(by_module(output).items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {total:6.1f} s  {module}")
    if args.serial:
        serial, _ = run_suite(["-p", "no:xdist"])
        print(f"suite in one process: {serial:.0f} s wall; ratio {serial / seconds:.2f}x")


if __name__ == "__main__":
    main()
