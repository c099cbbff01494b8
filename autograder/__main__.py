"""Command line: ``python -m autograder {grade,feedback,export,release} ...``.

    python -m autograder grade SUBMITTED --out OUT [--db URL] [--workers N]
    python -m autograder feedback OUT
    python -m autograder export [--db URL] --csv FILE
    python -m autograder remove-student STUDENT [--db URL] [--out OUT]
    python -m autograder gradescope ASSIGNMENT --zip FILE
    python -m autograder release [ASSIGNMENT ...]
    python -m autograder serve [--host 127.0.0.1] [--port 8000] [--workers N]
    python -m autograder members {add NAME [--organizer],link NAME,list}
"""
from __future__ import annotations

import argparse
import signal
import sys
from collections import Counter
from pathlib import Path

from .course import GRADEBOOK
from .gradebook import sqlite_url
from .results import SubmissionResult
from .sandbox.process import Limits, isolation_available
from .suites import SUITES


def score_table(rows: list[tuple[str, str, float, float, str]]) -> str:
    """One line per student, one column per assignment: score/max, and the status of a
    submission that was not graded on its merits (missing, blank, unreadable)."""
    assignments = sorted({r[1] for r in rows})
    students = sorted({r[0] for r in rows})
    cells = {(student, assignment): f"{score:g}/{top:g}"
             + ("" if status == "graded" else f" {status}")
             for student, assignment, score, top, status in rows}
    width = max([len("student")] + [len(s) for s in students])
    lines = ["  ".join(["student".ljust(width)] + [a.rjust(14) for a in assignments])]
    for student in students:
        lines.append("  ".join([student.ljust(width)] + [cells.get((student, a), "-").rjust(14)
                                                        for a in assignments]))
    return "\n".join(lines)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def cmd_grade(args) -> int:
    from .batch import Interrupted, grade_batch, layout_problem, recorded_scores

    submitted = Path(args.submitted)
    if not submitted.is_dir():
        print(f"error: {submitted} is not a folder of submissions "
              f"(<student>/<assignment>/<notebook>.ipynb)", file=sys.stderr)
        return 2
    if args.isolation == "bubblewrap" and isolation_available() != "bubblewrap":
        print("error: --isolation bubblewrap needs bwrap (and, run as root, setpriv) "
              "installed", file=sys.stderr)
        return 2
    suites = [SUITES[a] for a in (args.assignment or sorted(SUITES))]
    problem = layout_problem(submitted, suites)
    if problem:
        print(f"error: {problem}; nothing was graded", file=sys.stderr)
        return 2
    db_url = args.db or sqlite_url(GRADEBOOK)
    if args.hidden_details_from:
        from .hidden_details import write_setting

        write_setting(Path(args.out), args.hidden_details_from)
    done = []

    def progress(result: SubmissionResult, total: int) -> None:
        done.append(result)
        if sys.stderr.isatty():
            filled = 30 * len(done) // max(total, 1)
            print(f"\r[{'#' * filled}{'.' * (30 - filled)}] {len(done)}/{total} graded",
                  end="", file=sys.stderr, flush=True)

    limits = Limits(call_seconds=args.timeout, submission_seconds=args.submission_timeout,
                    memory_bytes=args.memory_mb * 2**20)
    # a stop asked by SIGTERM (systemd, timeout, a CI job cancelled) is a Ctrl-C: the grading
    # processes and their sandboxes are ended, what was recorded is kept
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        results = grade_batch(submitted, Path(args.out), suites, db_url, workers=args.workers,
                              limits=limits, isolation=args.isolation, progress=progress,
                              force=args.force)
    except (Interrupted, KeyboardInterrupt) as exc:
        done_text = f"{exc}" if isinstance(exc, Interrupted) else "nothing was recorded"
        print(f"\ninterrupted: {done_text}; run the same command again to grade the rest "
              f"(what was recorded is kept)", file=sys.stderr)
        return 130
    if args.hidden_details_from:  # the pages of submissions not graded again follow it too
        from .feedback import rebuild

        rebuild(Path(args.out))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    rows = recorded_scores(Path(args.out), submitted, suites)
    print(score_table(rows))
    isolation = sorted({r.isolation for r in results}) or [isolation_available()]
    print(f"\ngraded now: {len(results)}; already recorded and unchanged: {len(rows) - len(results)}"
          + (" (--force grades them again)" if len(rows) > len(results) else ""))
    print(f"isolation of learner code: {', '.join(isolation)}")
    print(f"results: {Path(args.out).resolve()}/<student>/<assignment>/results.json")
    print(f"feedback pages: {Path(args.out).resolve() / 'index.html'}")
    print(f"gradebook: {db_url}")
    print(f"grader's peak memory: {peak_memory_mib():.0f} MiB")
    statuses = Counter(row[4] for row in rows if row[4] != "graded")
    if statuses:
        print("not graded on their merits: " + ", ".join(f"{n} {status}" for status, n
                                                         in sorted(statuses.items())))
    return 0


def peak_memory_mib() -> float:
    """The grader process's own peak resident memory (learner processes not included)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def cmd_remove_student(args) -> int:
    import shutil

    from .feedback import write_index
    from .gradebook import GradebookWriter

    db_url = args.db or sqlite_url(GRADEBOOK)
    with GradebookWriter(db_url) as gradebook:
        try:
            assignments = gradebook.remove_student(args.student)
        except KeyError as exc:
            print(f"error: {exc.args[0]} ({db_url}); nothing was removed", file=sys.stderr)
            return 2
    print(f"removed {args.student} and their submissions of "
          f"{', '.join(assignments) or 'no assignment'} from {db_url}")
    folder = Path(args.out) / args.student if args.out else None
    if folder is not None and folder.resolve().parent == Path(args.out).resolve() \
            and folder.is_dir():
        shutil.rmtree(folder)
        write_index(Path(args.out))
        print(f"removed their results {folder} and updated {Path(args.out) / 'index.html'}")
    return 0


def cmd_feedback(args) -> int:
    from .feedback import rebuild

    out = Path(args.out)
    if not out.is_dir():
        print(f"error: {out} is not a folder of results", file=sys.stderr)
        return 2
    pages = rebuild(out)
    print(f"rebuilt {len(pages)} feedback pages and {out / 'index.html'}")
    return 0


def cmd_export(args) -> int:
    from .export import export_csv

    rows = export_csv(args.db or sqlite_url(GRADEBOOK), Path(args.csv))
    print(f"wrote {rows} rows to {args.csv}")
    return 0


def cmd_gradescope(args) -> int:
    from .gradescope import package

    print(f"wrote {package(args.assignment, Path(args.zip))}: upload it as a Gradescope "
          f"autograder")
    return 0


def cmd_release(args) -> int:
    from .release import release

    for name in release(args.assignment or None):
        print(f"released {name}: assignments/{name}, solutions/{name}")
    return 0


def _date(text: str):
    from .hidden_details import parse_date

    try:
        return parse_date(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date such as 2026-12-15 "
                                         f"or 2026-12-15T18:00") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder")
    commands = parser.add_subparsers(dest="command", required=True)

    grade = commands.add_parser("grade", help="grade a folder of submissions")
    grade.add_argument("submitted", help="folder in nbgrader's layout: "
                                         "<student>/<assignment>/<notebook>.ipynb")
    grade.add_argument("--out", required=True, help="folder for the results.json files")
    grade.add_argument("--db", help="gradebook URL (default: the course's gradebook.db)")
    grade.add_argument("--workers", type=int, default=None,
                       help="submissions graded at once (default: the number of cores)")
    grade.add_argument("--assignment", action="append", choices=sorted(SUITES),
                       help="grade only this assignment (repeatable; default: all)")
    grade.add_argument("--force", action="store_true",
                       help="grade again submissions already recorded and unchanged")
    grade.add_argument("--timeout", type=float, default=Limits.call_seconds,
                       help="seconds one case may take (default: %(default)s)")
    grade.add_argument("--submission-timeout", type=float, default=Limits.submission_seconds,
                       help="seconds all cases of one submission may take together "
                            "(default: %(default)s)")
    grade.add_argument("--memory-mb", type=int, default=Limits.memory_bytes // 2**20,
                       help="memory cap of each learner process in MiB (default: %(default)s)")
    grade.add_argument("--hidden-details-from", type=_date, metavar="DATE",
                       help="hold the hidden checks' details back on the feedback pages until "
                            "DATE (ISO, UTC), as Gradescope's after_published; kept for OUT")
    grade.add_argument("--isolation", choices=["bubblewrap", "rlimits"],
                       help="force an isolation level (default: bubblewrap where installed)")
    grade.set_defaults(run=cmd_grade)

    feedback = commands.add_parser("feedback", help="rebuild the feedback pages from the "
                                                    "recorded results.json files")
    feedback.add_argument("out", help="the --out folder of an earlier grade run")
    feedback.set_defaults(run=cmd_feedback)

    remove = commands.add_parser("remove-student", help="remove a learner and their grades "
                                                        "from the gradebook")
    remove.add_argument("student", help="the learner's id (their folder's name)")
    remove.add_argument("--db", help="gradebook URL (default: the course's gradebook.db)")
    remove.add_argument("--out", help="also remove OUT/<student> (results and pages) and "
                                      "update OUT/index.html")
    remove.set_defaults(run=cmd_remove_student)

    export = commands.add_parser("export", help="write the gradebook as CSV")
    export.add_argument("--db", help="gradebook URL (default: the course's gradebook.db)")
    export.add_argument("--csv", required=True, help="the CSV file to write")
    export.set_defaults(run=cmd_export)

    gradescope = commands.add_parser("gradescope", help="package an assignment as a "
                                                        "Gradescope autograder zip")
    gradescope.add_argument("assignment", choices=sorted(SUITES))
    gradescope.add_argument("--zip", required=True, help="the zip file to write")
    gradescope.set_defaults(run=cmd_gradescope)

    release = commands.add_parser("release", help="regenerate assignments/ and solutions/ "
                                                  "from source/ with nbgrader")
    release.add_argument("assignment", nargs="*", choices=sorted(SUITES) + [[]])
    release.set_defaults(run=cmd_release)

    from .server.cli import add_commands
    add_commands(commands, Limits())

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
