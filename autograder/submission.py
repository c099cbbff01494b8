"""Read a submitted notebook and take the code of its answer cells, whatever state it is in.

Stored outputs are never read. A notebook that cannot be read still yields a verdict: the
problems found are returned beside whatever answer cells could be recovered. Submissions are
hostile: a submitted file is read only if it is a regular file reached without following a
link (read_submitted_file), and only its first MAX_NOTEBOOK_BYTES.

Besides the answer cells, the code cells the learner added (helpers their answers call) are
returned, so that they can be loaded first, as they ran in Jupyter. IPython syntax in any
cell taken (magics, shell escapes) becomes ``pass`` (without_ipython).
"""
from __future__ import annotations

import functools
import json
import os
import re
import stat
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from .course import RELEASE, SOURCE
from .kit.checks import ReleasedCells, added_cells, answer_cells, cell_source, without_ipython
from .reference import read_notebook
from .suites import SUITES

MAX_NOTEBOOK_BYTES = 100 * 2**20  # as nbgrader's own max_file_size
# The learner's files are opened without following a link, without waiting (opening a FIFO
# that has no writer blocks forever) and without taking a terminal as the grader's own.
_OPEN_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


@dataclass
class Submission:
    path: Path
    cells: list[tuple[str, str]] = field(default_factory=list)  # (grade_id, source), in order
    problems: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # per function: how its code was found
    # (label, source) of every code cell the learner added, in notebook order
    added: list[tuple[str, str]] = field(default_factory=list)


class Refused(Exception):
    """A submitted file the grader does not read; the message tells the learner why."""


def _kind(mode: int) -> str:
    """What a file of this mode is, in words."""
    kinds = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"),
             (stat.S_ISREG, "a regular file"))
    return next((words for is_kind, words in kinds if is_kind(mode)), "not a regular file")


def _missing(notebook: str) -> str:
    return f"{notebook} is missing: nothing was submitted for this assignment"


def _refusal(name: str, mode: int, notebook: str, folder: bool) -> str:
    """Why ``name``, found where a folder (or the notebook itself) belongs, is not read."""
    what = f"the folder '{name}' that holds {notebook}" if folder else name
    kind = _kind(mode)
    if not stat.S_ISLNK(mode):  # a link says it all: the grader follows none
        kind += f", not a {'folder' if folder else 'regular file'}"
    return f"{what} is {kind}; submit the notebook file itself"


def _is_expected(mode: int, folder: bool) -> bool:
    return stat.S_ISDIR(mode) if folder else stat.S_ISREG(mode)


def _why_not_opened(dir_fd: int, name: str, notebook: str, folder: bool,
                    error: OSError) -> str:
    """Why opening ``name`` failed: it is missing, or what it is instead (a link, ...)."""
    if isinstance(error, FileNotFoundError):
        return _missing(notebook)
    try:  # only to name what it is: nothing is read from it
        mode = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode
    except OSError:
        mode = None
    if mode is None or _is_expected(mode, folder):
        return f"{name} cannot be read ({error.strerror})"
    return _refusal(name, mode, notebook, folder)


def _open_below(dir_fd: int, name: str, notebook: str, folder: bool) -> int:
    """A descriptor of ``name`` in the folder ``dir_fd``, opened without following a link or
    waiting, if it is a folder (``folder``) or else a regular file; Refused otherwise."""
    try:
        fd = os.open(name, _OPEN_FOLDER if folder else _OPEN_FILE, dir_fd=dir_fd)
    except OSError as exc:
        raise Refused(_why_not_opened(dir_fd, name, notebook, folder, exc)) from None
    # The file checked is the file opened: nothing can be swapped in between.
    mode = os.fstat(fd).st_mode
    if not _is_expected(mode, folder):
        os.close(fd)
        raise Refused(_refusal(name, mode, notebook, folder))
    return fd


def _too_big(name: str, size: int, limit: int) -> str:
    return (f"{name} is {size / 2**20:.0f} MiB, over the {limit / 2**20:.0f} MiB limit; "
            f"clear the outputs and submit again")


def _read_at_most(fd: int, name: str, limit: int) -> bytes:
    """The file's bytes, if there are at most ``limit``; Refused otherwise."""
    size = os.fstat(fd).st_size
    if size > limit:
        raise Refused(_too_big(name, size, limit))
    chunks, left = [], limit + 1  # one byte more than allowed shows a file grown since fstat
    while left > 0:
        chunk = os.read(fd, min(left, 2**20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    data = b"".join(chunks)
    if len(data) > limit:
        raise Refused(_too_big(name, len(data), limit))
    return data


def _collection_root(path: Path) -> Path:
    """The folder two above the notebook's, as in SUBMITTED/<student>/<assignment>/<notebook>
    (or as far up as a relative path goes)."""
    return path.parents[min(2, len(path.parents) - 1)]


def read_submitted_file(path: Path, root: Path | None = None,
                        limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of the submitted file ``path``, or Refused saying why they are not read.

    Every component of ``path`` below ``root`` is the learner's: each folder is opened in the
    one before it, and none is followed if it is a link; the file itself must be a regular
    file of at most ``limit`` bytes. ``root`` is where the organizer collected submissions
    (links there and above are the organizer's, and followed); by default the folder two
    above the file's, as in nbgrader's layout SUBMITTED/<student>/<assignment>/<notebook>.
    Every reader of a submitted file uses this function.
    """
    path = Path(path)
    root = _collection_root(path) if root is None else Path(root)
    *folders, name = path.relative_to(root).parts
    with ExitStack() as opened:
        try:
            fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise Refused(_missing(name) if isinstance(exc, FileNotFoundError)
                          else f"{name} cannot be read ({exc.strerror})") from None
        opened.callback(os.close, fd)
        for folder in folders:
            fd = _open_below(fd, folder, name, folder=True)
            opened.callback(os.close, fd)
        fd = _open_below(fd, name, name, folder=False)
        opened.callback(os.close, fd)
        return _read_at_most(fd, name, limit)


# JSON turns each byte of a file of small containers ("[[{}],[{}],...]") into some 32 bytes of
# Python objects, and json.loads holds the GIL throughout: a notebook larger than this is
# parsed in a child process with a memory cap, which hands back its cells without outputs.
IN_PROCESS_JSON_BYTES = 2 * 2**20
PARSER_MEMORY_BYTES = 2 * 2**30
PARSER_SECONDS = 60.0
# The child: no site, no project code; exit 3 for bad JSON (its message on stderr), 4 for
# JSON nested too deep, 5 for JSON too large to hold in memory. What it hands back holds
# only what grading reads, in plain form, so it cannot amplify either.
_PARSER = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))
try:
    nb = json.loads(sys.stdin.buffer.read().decode("utf-8"))
except UnicodeDecodeError as exc:
    sys.stderr.write(str(exc.start))
    sys.exit(6)
except json.JSONDecodeError as exc:
    sys.stderr.write(json.dumps([exc.lineno, exc.colno, exc.msg]))
    sys.exit(3)
except RecursionError:
    sys.exit(4)
except MemoryError:
    sys.exit(5)
def text(value):
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""
KEYS = ("grade", "solution", "locked", "task", "grade_id", "points")
def cell(c):
    kind = text(c.get("cell_type"))[:20]
    if kind != "code":
        return {"cell_type": kind}  # counted for the cells' numbers, nothing more is read
    meta = c.get("metadata") if isinstance(c.get("metadata"), dict) else {}
    nbgrader = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
    plain = (str, bool, int, float, type(None))
    return {"cell_type": kind, "id": c.get("id") if isinstance(c.get("id"), str) else None,
            "source": text(c.get("source")),
            "metadata": {"nbgrader": {k: nbgrader[k] for k in KEYS
                                      if k in nbgrader and isinstance(nbgrader[k], plain)}}}
if isinstance(nb, dict) and isinstance(nb.get("cells"), list):
    if len(nb["cells"]) > int(sys.argv[2]):
        sys.stderr.write(str(len(nb["cells"])))
        sys.exit(7)
    nb = {"cells": [cell(c) if isinstance(c, dict) else None for c in nb["cells"]]}
else:
    nb = None  # not a notebook: no more is needed to say so
out = json.dumps(nb)
if len(out) > int(sys.argv[3]):
    sys.exit(8)
sys.stdout.write(out)
"""
MAX_ADDED_CELLS = 100  # each loads in its own request: helpers, not a second notebook
MAX_CELLS = 5000  # Jupyter slows to a crawl long before; a notebook of more is not a notebook
MAX_PARSED_BYTES = 32 * 2**20  # the code of a notebook's cells, outputs left out


def parse_notebook(raw: bytes, seconds: float = PARSER_SECONDS):
    """The notebook's JSON, parsed so that no file can exhaust the grader's memory or hold
    up its other threads for long (``seconds`` at most); Refused (its message to follow the
    file's name) if it is not UTF-8 JSON or has more than MAX_CELLS cells."""
    nb = _parse(raw, seconds)
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if isinstance(cells, list) and len(cells) > MAX_CELLS:
        raise Refused(_too_many_cells(len(cells)))
    return nb


def _too_many_cells(count: int) -> str:
    return f"has {count} cells, over the limit of {MAX_CELLS}: not a notebook Jupyter wrote"


def _parse(raw: bytes, seconds: float):
    if len(raw) <= IN_PROCESS_JSON_BYTES:
        try:
            return json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise Refused(_not_utf8(exc.start)) from None
        except json.JSONDecodeError as exc:
            raise Refused(_invalid_json(exc.lineno, exc.colno, exc.msg)) from None
        except RecursionError:
            raise Refused(_NESTED) from None
    try:
        run = subprocess.run([sys.executable, "-I", "-S", "-c", _PARSER,
                              str(PARSER_MEMORY_BYTES), str(MAX_CELLS), str(MAX_PARSED_BYTES)],
                             input=raw, capture_output=True, timeout=max(seconds, 1.0))
    except subprocess.TimeoutExpired:
        raise Refused(f"is not a notebook Jupyter could open: reading its JSON took over "
                      f"{max(seconds, 1.0):g} s") from None
    if run.returncode == 3:
        line, column, message = json.loads(run.stderr)
        raise Refused(_invalid_json(line, column, message))
    if run.returncode == 4:
        raise Refused(_NESTED)
    if run.returncode == 6:
        raise Refused(_not_utf8(int(run.stderr)))
    if run.returncode == 7:
        raise Refused(_too_many_cells(int(run.stderr)))
    if run.returncode == 8:
        raise Refused(f"holds more than {MAX_PARSED_BYTES / 2**20:g} MiB of code: not a "
                      f"notebook Jupyter wrote")
    if run.returncode == 5 or run.returncode < 0:  # MemoryError, or ended by the cap
        raise Refused(f"is not a notebook Jupyter could open: its JSON needs more than "
                      f"{PARSER_MEMORY_BYTES / 2**30:g} GiB of memory to read")
    if run.returncode != 0:  # a bug of the reader's, not the learner's: the batch goes on
        raise RuntimeError(f"the notebook reader failed: {run.stderr[-500:]!r}")
    return json.loads(run.stdout)


_NESTED = "is not a notebook: its JSON is nested too deep to read"


def _not_utf8(position: int) -> str:
    return f"is not UTF-8 text (byte {position}); save it from Jupyter again"


def _invalid_json(line: int, column: int, message: str) -> str:
    return f"is not a notebook: invalid JSON at line {line}, column {column} ({message})"


def _load_json(path: Path, submission: Submission, seconds: float) -> dict | None:
    try:
        raw = read_submitted_file(path)
    except Refused as exc:
        submission.problems.append(str(exc))
        return None
    try:
        nb = parse_notebook(raw, seconds)
    except Refused as exc:
        submission.problems.append(f"{path.name} {exc}")
        return None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        submission.problems.append(f"{path.name} has no list of cells: not a notebook in "
                                   f"format 4")
        return None
    if not nb["cells"]:
        submission.problems.append(f"{path.name} has no cells")
    return nb


@functools.cache
def released_cells(assignment: str) -> ReleasedCells:
    """The cells of ``assignment``'s released notebook and of its source notebook, read once
    per process. Both have the same cell ids; a Gradescope package holds only the source."""
    notebook = SUITES[assignment].notebook
    return ReleasedCells.of([read_notebook(path)
                             for path in (RELEASE / assignment / notebook,
                                          SOURCE / assignment / notebook) if path.is_file()])



def read_submission(path: Path, functions: list[str], assignment: str | None = None,
                    seconds: float = PARSER_SECONDS) -> Submission:
    """The answer cells for ``functions``: by nbgrader grade_id, else by a ``def`` line; and,
    given the ``assignment``, the code cells the learner added to its release (the first
    MAX_ADDED_CELLS). Reading takes ``seconds`` at most.

    Duplicated answer cells are all kept, in notebook order, so the last definition wins
    as it does when the notebook runs top to bottom.
    """
    submission = Submission(path)
    nb = _load_json(path, submission, seconds)
    if nb is None:
        return submission
    code_cells = [c for c in nb["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]
    by_grade_id: dict[str, list[str]] = {}
    for grade_id, source in answer_cells(nb):
        by_grade_id.setdefault(grade_id, []).append(source)
    taken: set[int] = set()  # cells graded as answers though no grade_id says so
    for name in functions:
        sources = by_grade_id.get(name)
        if sources:
            if len(sources) > 1:
                submission.notes[name] = (f"the notebook has {len(sources)} answer cells "
                                          f"'{name}'; the last definition counts")
        else:
            defines = re.compile(rf"^def\s+{re.escape(name)}\s*\(", re.MULTILINE)
            found = [c for c in code_cells if defines.search(cell_source(c))]
            taken.update(map(id, found))
            sources = [cell_source(c) for c in found]
            if sources:
                submission.notes[name] = (f"no answer cell has grade_id '{name}'; graded the "
                                          f"code cell that defines {name}()")
        submission.cells += [(name, without_ipython(source)) for source in sources]
    submission.cells.sort(key=lambda item: functions.index(item[0]))
    if assignment is not None:
        added = added_cells(nb["cells"], released_cells(assignment), taken)
        if len(added) > MAX_ADDED_CELLS:
            submission.problems.append(f"the notebook has {len(added)} code cells of your own; "
                                       f"only the first {MAX_ADDED_CELLS} were loaded")
        submission.added = added[:MAX_ADDED_CELLS]
    return submission
