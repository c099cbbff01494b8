"""The call server that runs inside the sandbox beside the learner's code.

Started as ``python -I worker.py IN_FD OUT_FD MEMORY CPU FSIZE NPROC``; it lowers its own
resource limits to those numbers before it runs any learner code. It runs the notebook's
imports (``prelude``), then each answer cell on its own request (``cell``: so a broken or
hanging cell costs only its function), says which functions exist (``defined``), then
answers requests until its input closes:

* ``case``: drive a function through one case with the checks' own runner (checks.py, the
  file learners have) and reply with the trace, as one array per quantity over the steps
  where it can (wire.columns), so a 60-step trajectory is one round trip of a few arrays;
* ``cases``: the same for each of a function's cases, one reply per case as it is done;
* ``call``: call one function once and reply with its result.

Replies carry plain data only (see wire.py). Whatever the learner's code prints goes to
stdout and stderr, never into the replies. This process trusts nothing and is trusted by
nothing: the grader checks every reply, and compares traces in its own process.
"""
import linecache
import os
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checks  # noqa: E402
import wire  # noqa: E402


def load_cell(grade_id: str, source: str, namespace: dict) -> str | None:
    """Run one answer cell; None, or the learner's traceback when it raised."""
    filename = checks.cell_filename(grade_id)
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    try:
        exec(compile(source, filename, "exec"), namespace)
    except BaseException as exc:  # noqa: B036 - SystemExit in a cell is the learner's error too
        return checks.learner_traceback(exc)
    return None


def error_reply(exc: BaseException) -> dict:
    return {"error": {"type": checks.safe_text(type(exc).__name__, 200),
                      "message": checks.safe_text(exc, 2000),
                      "traceback": checks.learner_traceback(exc)[-4000:]}}


def handle(request: dict, namespace: dict) -> dict:
    if request["op"] == "prelude":
        exec(request["source"], namespace)
        return {}
    if request["op"] == "cell":
        return {"error": load_cell(request["grade_id"], request["source"], namespace)}
    if request["op"] == "defined":
        return {"defined": [name for name in request["names"] if callable(namespace.get(name))]}
    fn = namespace.get(request["fn"])
    if not callable(fn):
        return {"error": {"type": "NameError",
                          "message": f"no function named {request['fn']}() is defined"}}
    if request["op"] == "case":
        try:
            return {"trace": wire.columns(checks.run_case(fn, request["case"], namespace))}
        except checks.CallFailed as exc:
            return {"failed": checks.safe_text(exc, 6000)}
    result = fn(*request["args"])
    # Dicts the function changed in place travel back: the caller sees the same effect as
    # a call in its own process.
    return {"result": result,
            "dicts": {str(i): a for i, a in enumerate(request["args"]) if isinstance(a, dict)}}


def replies(request: dict, namespace: dict):
    """The replies to one request: one, or one per case of a ``cases`` request, each sent as
    soon as it is made, so that the grader times every case on its own."""
    if request["op"] != "cases":
        yield reply(request, namespace)
        return
    for case in request["cases"]:
        yield reply({"op": "case", "fn": request["fn"], "case": case}, namespace)


def reply(request: dict, namespace: dict) -> dict:
    try:
        return handle(request, namespace)
    except BaseException as exc:  # noqa: B036 - sys.exit() inside a call is an answer too
        return error_reply(exc)


def serve(inp, out) -> None:
    def read_exact(n: int) -> bytes:
        data = inp.read(n)
        if len(data) != n:
            raise EOFError
        return data

    namespace = {"__name__": "__main__"}
    while True:
        try:
            request = wire.read_message(read_exact)
        except EOFError:
            return
        for body in replies(request, namespace):
            try:
                # what is not plain data travels as its description: the grader compares the
                # quantities it needs, and a config may hold anything else
                message = wire.pack(body, opaque=True)
            except Exception as exc:  # an unsendable result, or one that breaks the encoder
                message = wire.pack({"error": {"type": "UnsendableResult",
                                               "message": checks.safe_text(exc, 2000)}})
            flush_output()  # what a request printed reaches the grader before its answer
            out.write(message)
            out.flush()


def flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: B036 - the learner may have replaced the stream
            pass


def limit_self(memory: int, cpu: int, fsize: int, nproc: int) -> None:
    for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, cpu),
                         (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CORE, 0),
                         (resource.RLIMIT_NPROC, nproc)):
        resource.setrlimit(which, (value, value))


if __name__ == "__main__":
    in_fd, out_fd, memory, cpu, fsize, nproc = map(int, sys.argv[1:7])
    limit_self(memory, cpu, fsize, nproc)
    serve(os.fdopen(in_fd, "rb"), os.fdopen(out_fd, "wb"))
