"""The optimizers notebook's comparison text says what its own figures show: every number
it quotes is computed here by the notebook's code, with the reference solutions."""
from __future__ import annotations

import contextlib
import io
import json
import re
import sys

import pytest

from .helpers import ROOT

NOTEBOOK = ROOT / "solutions" / "optimizers" / "optimizers.ipynb"
SOURCE = ROOT / "source" / "optimizers" / "optimizers.ipynb"
METHODS = ("SGD", "momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam")


@pytest.fixture(scope="module")
def runs():
    """Each method's path and losses on the notebook's three problems, 100 steps at
    learning rate 0.1 and seed 3, as the comparison cell runs them."""
    import matplotlib

    matplotlib.use("Agg")
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    namespace: dict = {}
    saved = sys.modules.pop("checks", None)  # the notebook imports its folder's checks.py
    sys.path.insert(0, str(NOTEBOOK.parent))
    try:
        for cell in nb["cells"]:
            if cell.get("id") == "cell-36":
                break
            if cell["cell_type"] == "code":
                source = "".join(cell["source"]).replace("plt.show()", "plt.close('all')")
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(source, namespace)
    finally:
        sys.path.remove(str(NOTEBOOK.parent))
        sys.modules.pop("checks", None)
        if saved is not None:
            sys.modules["checks"] = saved
    updates = dict(zip(METHODS, (namespace[n] for n in ("sgd", "sgd_momentum",
                                                         "nesterov_momentum", "adagrad",
                                                         "rmsprop", "adam"))))
    problems = {"quadratic": (namespace["TACO"], namespace["W0"], 0.0),
                "saddle": (namespace["SADDLE"], [-4.0, 1e-3], 0.0),
                "noisy": (namespace["TACO"], namespace["W0"], 0.5)}
    return {(problem, method): namespace["optimize"](update, A, w0, 100, 0.1, noise=noise,
                                                     seed=3)
            for problem, (A, w0, noise) in problems.items() for method, update in updates.items()}


@pytest.fixture(scope="module")
def text() -> str:
    nb = json.loads(SOURCE.read_text(encoding="utf-8"))
    return "".join(next(c for c in nb["cells"] if c.get("id") == "cell-35")["source"])


def _section(text: str, name: str) -> str:
    return re.search(rf"\*\*{name}.*?(?=\n\* \*\*|\Z)", text, re.DOTALL).group(0)


def test_final_losses_quoted_are_the_computed_ones(runs, text):
    for problem, name in (("quadratic", "Ill-conditioned"), ("noisy", "Noisy")):
        section = _section(text, name)
        for method in METHODS:
            final = runs[problem, method][1][-1]
            quoted = {f"{final:.1e}", f"{final:.2g}", f"{final:.3g}"}
            assert any(q in section for q in quoted), (problem, method, final)


def test_the_saddle_is_left_in_the_order_and_at_the_steps_the_text_gives(runs, text):
    section = _section(text, "Saddle")
    left = {m: next((i for i, w in enumerate(runs["saddle", m][0]) if abs(w[1]) > 1), None)
            for m in METHODS}
    assert left["SGD"] is None  # stuck
    order = sorted((m for m in METHODS if left[m] is not None), key=left.get)
    assert order == ["RMSProp", "Adam", "AdaGrad", "Nesterov", "momentum"]
    assert [section.index(m) for m in order] == sorted(section.index(m) for m in order)
    for method in ("Adam", "AdaGrad", "Nesterov", "momentum"):
        assert f"step {left[method]}" in section, method
    assert left["RMSProp"] == 1 and "at its first step" in section
    assert runs["saddle", "AdaGrad"][1][-1] > runs["saddle", "SGD"][1][-1]
    assert f"{runs['saddle', 'AdaGrad'][1][-1]:.2f}" in section
