"""Self-check: `pytest` in this folder runs the visible checks on the notebook beside it.

The answer cells are found by their nbgrader grade_id (the function's name), so cells may
be moved around; each runs on its own, so one broken cell fails only its own test. These
are the same checks as the notebook's visible test cells, with the same verdicts; the
grader adds hidden cases after you submit.
"""
import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).absolute().parent  # not resolve(): the folder it was copied or linked into
sys.path.insert(0, str(HERE))

from checks import (ReleasedCells, added_cells, answer_cells, cell_filename,  # noqa: E402
                    explain, load_visible, visible_checks, visible_probes,
                    without_ipython)

VISIBLE = load_visible(HERE)
NOTEBOOK = HERE / VISIBLE["notebook"]


@pytest.fixture(scope="module")
def learner_code():
    """(namespace, errors): the code cells you added (your helpers), then every answer cell,
    executed after the notebook's imports, as the grader loads them."""
    try:  # plain JSON: nbformat's schema validation would take ten times the checks' time
        nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    except Exception as exc:
        pytest.fail(f"cannot read {NOTEBOOK.name}: {exc}", pytrace=False)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        pytest.fail(f"{NOTEBOOK.name} is not a notebook in format 4: save it from Jupyter "
                    f"again", pytrace=False)
    namespace, errors = {"__name__": "learner"}, {}
    exec(VISIBLE["prelude"], namespace)
    added = added_cells(nb["cells"], ReleasedCells.from_json(VISIBLE.get("released_cells", {})))
    answers = [(grade_id, without_ipython(source)) for grade_id, source in answer_cells(nb)]
    for label, source in added + answers:
        try:
            exec(compile(source, cell_filename(label), "exec"), namespace)
            errors.pop(label, None)
        except Exception as exc:
            errors[label] = f"{type(exc).__name__}: {exc}"
    return namespace, errors


@pytest.mark.parametrize("name", list(VISIBLE["functions"]))
def test_visible_cases(name, learner_code):
    namespace, errors = learner_code
    if name in errors and not callable(namespace.get(name)):
        pytest.fail(f"{NOTEBOOK.name}, answer cell '{name}' does not run: {errors[name]}", pytrace=False)
    if not callable(namespace.get(name)):
        pytest.fail(f"{NOTEBOOK.name}: no answer cell defines a function {name}(); "
                    f"keep the cell with grade_id '{name}' and the function's name as given",
                    pytrace=False)
    checks = visible_checks(name, namespace[name], HERE, namespace)
    if not all(c.passed for c in checks):
        notes = [f"\n{label} did not run (cells you added load before the answer cells): "
                 f"{error}" for label, error in errors.items() if label.startswith("added ")]
        probed = visible_probes(name, namespace[name], HERE, namespace)
        pytest.fail(explain(checks, probed) + "".join(notes), pytrace=False)
