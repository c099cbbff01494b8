"""Submit this folder's notebook to the study group's server and print the feedback.

    python submit.py --token TOKEN [--server URL]
    python submit.py --token 'https://grader.example.org/login?token=TOKEN'

TOKEN is the end of your personal link (after ``token=``); the whole link works too, and
then gives the server's address as well. Both can also come from the environment:
LECTURE7_TOKEN and LECTURE7_SERVER. The notebook sent is the one beside this file, saved:
save it in Jupyter first. Standard library only.
"""
import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).absolute().parent  # not resolve(): the folder it was copied or linked into
DEFAULT_SERVER = "http://127.0.0.1:8000"


class SubmitError(Exception):
    """What went wrong, in words for the learner."""


class Unreachable(SubmitError):
    """The server did not answer (down, restarting, or a wrong address)."""


def assignment_here(folder: Path) -> tuple[str, Path]:
    """The assignment and notebook of ``folder``, from the visible_cases.json released in it."""
    try:
        cases = json.loads((folder / "visible_cases.json").read_text(encoding="utf-8"))
        return cases["assignment"], folder / cases["notebook"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SubmitError(f"{folder} is not a released assignment folder (its "
                          f"visible_cases.json cannot be read: {exc}); run submit.py from "
                          f"the folder you were given") from None


def server_and_token(token: str | None, server: str | None) -> tuple[str, str]:
    """The server's address and the token, from a bare token or a whole personal link."""
    token = token or os.environ.get("LECTURE7_TOKEN", "")
    if "token=" in token:
        link = urllib.parse.urlsplit(token)
        token = urllib.parse.parse_qs(link.query).get("token", [""])[0]
        server = server or f"{link.scheme}://{link.netloc}"
    if not token:
        raise SubmitError("no token: pass --token with the end of your personal link (or the "
                          "whole link), or set LECTURE7_TOKEN")
    server = server or os.environ.get("LECTURE7_SERVER") or DEFAULT_SERVER
    return server.rstrip("/"), token


def call(request: urllib.request.Request, seconds: float = 60) -> dict:
    """The JSON the server answers; SubmitError with the server's reason otherwise."""
    try:
        with urllib.request.urlopen(request, timeout=seconds) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            reason = json.loads(exc.read()).get("error", exc.reason)
        except ValueError:
            reason = exc.reason
        raise SubmitError(f"the server refused ({exc.code}): {reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise Unreachable(f"cannot reach the server at {request.full_url}: "
                          f"{getattr(exc, 'reason', exc)}. Check the address: pass --server "
                          f"with the start of your personal link (or the whole link as "
                          f"--token)") from None


def submit(server: str, token: str, assignment: str, notebook: Path) -> dict:
    try:
        data = notebook.read_bytes()
    except OSError as exc:
        raise SubmitError(f"cannot read {notebook}: {exc.strerror}") from None
    return call(urllib.request.Request(
        f"{server}/api/submit/{urllib.parse.quote(assignment)}", data=data, method="POST",
        headers={"Authorization": f"Bearer {token}",
                 "Content-Type": "application/x-ipynb+json"}))


MAX_BACKOFF = 16.0  # seconds between two tries while the server does not answer
FINAL = ("done", "failed", "superseded")  # superseded: a newer upload is graded instead


def wait(server: str, token: str, attempt: dict, seconds: float) -> dict:
    """The attempt once graded (or failed, or superseded), asking every second for
    ``seconds`` at most. While the server does not answer (it restarts, say: the upload is
    kept and graded after), it asks again less and less often; if it still does not answer
    by then, the error says where the result will be."""
    request = urllib.request.Request(f"{server}/api/attempts/{attempt['id']}",
                                     headers={"Authorization": f"Bearer {token}"})
    deadline = time.monotonic() + seconds
    retry = 1.0
    while True:
        try:
            state = call(request)
            retry = 1.0
        except Unreachable as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SubmitError(f"{exc}.\nYour upload was received as attempt "
                                  f"{attempt['number']} of {attempt['assignment']}; its result "
                                  f"will be at {attempt['feedback']}") from None
            time.sleep(min(retry, left))
            retry = min(2 * retry, MAX_BACKOFF)
            continue
        if state["state"] in FINAL or time.monotonic() > deadline:
            return state
        time.sleep(1.0)


def report(state: dict) -> str:
    if state["state"] in ("failed", "superseded"):
        return f"not graded: {state.get('error')}"
    if state["state"] != "done":
        return f"still {state['state']}; the result will be at {state['feedback']}"
    lines = [test["output"] for test in state.get("tests", [])]
    lines += [f"Problem: {problem}" for problem in state.get("problems", [])]
    lines.append(f"\nScore from the checks: {state['score']:g} / {state['max_score']:g}")
    if state.get("late"):
        lines.append(state["late"].capitalize())
    lines.append(f"Feedback with pictures (sign in with your link): {state['feedback']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python submit.py", description=__doc__.split("\n")[0])
    parser.add_argument("--server", help=f"the server's address (default: from the link, "
                                         f"LECTURE7_SERVER, or {DEFAULT_SERVER})")
    parser.add_argument("--token", help="your token, or your whole personal link")
    parser.add_argument("--wait", type=float, default=600,
                        help="seconds to wait for the grade (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        assignment, notebook = assignment_here(HERE)
        server, token = server_and_token(args.token, args.server)
        attempt = submit(server, token, assignment, notebook)
        print(f"submitted {notebook.name} as attempt {attempt['number']} of {assignment}; "
              f"grading...", flush=True)
        state = wait(server, token, attempt, args.wait)
    except SubmitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report(state))
    return 0 if state["state"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
