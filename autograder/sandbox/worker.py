"""The call server that runs inside the sandbox beside the learner's code.

Started as ``python -I worker.py IN_FD OUT_FD MEMORY CPU FSIZE``; it lowers its own resource
limits to those numbers before it runs any learner code. It reads one ``load`` request with the
answer cells, executes each cell on its own (so a broken cell costs only its function),
then answers ``call`` requests until its input closes. Replies carry plain data only
(see wire.py). Whatever the learner's code prints goes to stdout and stderr, never into
the replies. This process trusts nothing and is trusted by nothing: the grader checks
every reply.
"""
import linecache
import os
import resource
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wire  # noqa: E402


def cell_filename(grade_id: str) -> str:
    return f"<answer cell {grade_id}>"


def load_cells(prelude: str, cells: list, namespace: dict) -> dict:
    exec(prelude, namespace)
    status = {}
    for grade_id, source in cells:
        filename = cell_filename(grade_id)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            exec(compile(source, filename, "exec"), namespace)
            status[grade_id] = None
        except BaseException:  # noqa: B036 - SystemExit in a cell is the learner's error too
            status[grade_id] = learner_traceback()
    return status


def learner_traceback() -> str:
    """The traceback without this file's frames: the learner sees only their own code."""
    kind, exc, tb = sys.exc_info()
    frames = [f for f in traceback.extract_tb(tb) if f.filename.startswith("<answer cell")]
    lines = traceback.format_list(frames) + traceback.format_exception_only(kind, exc)
    return "".join(lines).strip()


def serve(inp, out) -> None:
    def read_exact(n: int) -> bytes:
        data = inp.read(n)
        if len(data) != n:
            raise EOFError
        return data

    def reply(body) -> None:
        try:
            message = wire.pack(body)
        except wire.WireError as exc:
            message = wire.pack({"error": {"type": "UnsendableResult", "message": str(exc)}})
        out.write(message)
        out.flush()

    namespace = {"__name__": "__main__"}
    while True:
        try:
            request = wire.read_message(read_exact)
        except EOFError:
            return
        if request["op"] == "load":
            status = load_cells(request["prelude"], request["cells"], namespace)
            defined = sorted(name for name in status if callable(namespace.get(name)))
            reply({"cells": status, "defined": defined})
            continue
        fn = namespace.get(request["fn"])
        if not callable(fn):
            reply({"error": {"type": "NameError",
                             "message": f"no function named {request['fn']}() is defined"}})
            continue
        try:
            result = fn(*request["args"])
        except BaseException as exc:  # noqa: B036 - sys.exit() inside a call is an answer too
            reply({"error": {"type": type(exc).__name__, "message": str(exc)[:2000],
                             "traceback": learner_traceback()[-4000:]}})
            continue
        # Dicts the function changed in place travel back, as bn_param's running averages
        # must: the caller sees the same effect as a call in its own process.
        reply({"result": result,
               "dicts": {str(i): a for i, a in enumerate(request["args"]) if isinstance(a, dict)}})


def limit_self(memory: int, cpu: int, fsize: int) -> None:
    for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, cpu),
                         (resource.RLIMIT_FSIZE, fsize), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))


if __name__ == "__main__":
    in_fd, out_fd, memory, cpu, fsize = map(int, sys.argv[1:6])
    limit_self(memory, cpu, fsize)
    serve(os.fdopen(in_fd, "rb"), os.fdopen(out_fd, "wb"))
