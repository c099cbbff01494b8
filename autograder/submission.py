"""Read a submitted notebook and take the code of its answer cells, whatever state it is in.

Stored outputs are never read. A notebook that cannot be read still yields a verdict: the
problems found are returned beside whatever answer cells could be recovered.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .kit.checks import answer_cells, cell_source

MAX_NOTEBOOK_BYTES = 100 * 2**20  # as nbgrader's own max_file_size


@dataclass
class Submission:
    path: Path
    cells: list[tuple[str, str]] = field(default_factory=list)  # (grade_id, source), in order
    problems: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # per function: how its code was found


def _load_json(path: Path, submission: Submission) -> dict | None:
    if not path.is_file():
        submission.problems.append(f"{path.name} is missing: nothing was submitted for this "
                                   f"assignment")
        return None
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        submission.problems.append(f"{path.name} is {size / 2**20:.0f} MiB, over the "
                                   f"{MAX_NOTEBOOK_BYTES / 2**20:.0f} MiB limit; clear the outputs "
                                   f"and submit again")
        return None
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        submission.problems.append(f"{path.name} is not UTF-8 text (byte {exc.start}); save it "
                                   f"from Jupyter again")
        return None
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        submission.problems.append(f"{path.name} is not a notebook: invalid JSON at line "
                                   f"{exc.lineno}, column {exc.colno} ({exc.msg})")
        return None
    except RecursionError:
        submission.problems.append(f"{path.name} is not a notebook: its JSON is nested too "
                                   f"deep to read")
        return None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        submission.problems.append(f"{path.name} has no list of cells: not a notebook in "
                                   f"format 4")
        return None
    if not nb["cells"]:
        submission.problems.append(f"{path.name} has no cells")
    return nb


def read_submission(path: Path, functions: list[str]) -> Submission:
    """The answer cells for ``functions``: by nbgrader grade_id, else by a ``def`` line.

    Duplicated answer cells are all kept, in notebook order, so the last definition wins
    as it does when the notebook runs top to bottom.
    """
    submission = Submission(path)
    nb = _load_json(path, submission)
    if nb is None:
        return submission
    code_cells = [c for c in nb["cells"] if isinstance(c, dict) and c.get("cell_type") == "code"]
    by_grade_id: dict[str, list[str]] = {}
    for grade_id, source in answer_cells(nb):
        by_grade_id.setdefault(grade_id, []).append(source)
    for name in functions:
        sources = by_grade_id.get(name)
        if sources:
            if len(sources) > 1:
                submission.notes[name] = (f"the notebook has {len(sources)} answer cells "
                                          f"'{name}'; the last definition counts")
        else:
            defines = re.compile(rf"^def\s+{re.escape(name)}\s*\(", re.MULTILINE)
            sources = [s for s in map(cell_source, code_cells) if defines.search(s)]
            if sources:
                submission.notes[name] = (f"no answer cell has grade_id '{name}'; graded the "
                                          f"code cell that defines {name}()")
        submission.cells += [(name, source) for source in sources]
    submission.cells.sort(key=lambda item: functions.index(item[0]))
    return submission
