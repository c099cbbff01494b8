"""Inside a released folder, `pytest` checks the learner's notebook with the visible cases,
needs nothing from the grader, and agrees with the notebook's own visible test cells."""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course import RELEASE
from autograder.mistakes import catalog, with_answer
from autograder.reference import solution_sources
from autograder.suites import SUITES

from .helpers import ROOT

LEARNER_PACKAGES = {"numpy", "matplotlib", "pytest", "checks"}


def released_folder(tmp_path: Path, assignment: str, answers: dict[str, str]) -> Path:
    """A copy of the released folder whose notebook has ``answers`` filled in."""
    folder = tmp_path / assignment
    shutil.copytree(RELEASE / assignment, folder)
    notebook = folder / SUITES[assignment].notebook
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for grade_id, source in answers.items():
        nb = with_answer(nb, grade_id, source)
    notebook.write_text(json.dumps(nb), encoding="utf-8")
    return folder


def learner_pytest(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-rf"], cwd=folder, capture_output=True, text=True, timeout=300)


def failed_functions(pytest_output: str) -> set[str]:
    return set(re.findall(r"FAILED \S*test_visible_cases\[(\w+)\]", pytest_output))


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_learner_files_import_only_what_a_learner_has(assignment):
    for path in (RELEASE / assignment).glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {alias.name.split(".")[0] for node in ast.walk(tree)
                   if isinstance(node, ast.Import) for alias in node.names}
        modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
        extra = modules - LEARNER_PACKAGES - set(sys.stdlib_module_names)
        assert not extra, f"{path.name} imports {extra}"


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_pytest_passes_for_a_solved_notebook(tmp_path, assignment):
    run = learner_pytest(released_folder(tmp_path, assignment, solution_sources(assignment)))
    assert run.returncode == 0, run.stdout
    assert f"{len(SUITES[assignment].functions)} passed" in run.stdout


@pytest.mark.parametrize("assignment", sorted(SUITES))
def test_pytest_fails_on_the_stub_and_says_it_is_a_stub(tmp_path, assignment):
    run = learner_pytest(released_folder(tmp_path, assignment, {}))
    assert run.returncode == 1
    assert failed_functions(run.stdout) == {f.name for f in SUITES[assignment].functions}
    assert "the answer cell is still the stub" in run.stdout


def test_pytest_names_the_function_quantity_error_and_the_known_mistake(tmp_path):
    mistakes, _ = catalog("optimizers")
    ema = next(m for m in mistakes if m.name == "EMA form")
    answers = {**solution_sources("optimizers"), "sgd_momentum": ema.source}
    run = learner_pytest(released_folder(tmp_path, "optimizers", answers))
    assert failed_functions(run.stdout) == {"sgd_momentum"}
    assert re.search(r"sgd_momentum: velocity relative error \S+ > tolerance 1e-06", run.stdout)
    assert "Diagnosis: your outputs match a known mistake, EMA form" in run.stdout


def test_pytest_gives_the_quantitys_hint_for_a_mistake_nobody_catalogued(tmp_path):
    novel = ("def sgd_momentum(w, dw, config=None):\n    config = config or {}\n"
             "    config.setdefault('learning_rate', 1e-2)\n    config.setdefault('momentum', 0.9)\n"
             "    v = config['momentum'] * config.get('velocity', np.zeros_like(w))"
             " - 2 * config['learning_rate'] * dw\n    config['velocity'] = v\n    return w + v, config\n")
    run = learner_pytest(released_folder(tmp_path, "optimizers",
                                         {**solution_sources("optimizers"), "sgd_momentum": novel}))
    assert failed_functions(run.stdout) == {"sgd_momentum"}
    assert "Hint: v = momentum * v - learning_rate * dw" in run.stdout
    assert "Diagnosis" not in run.stdout


def test_pytest_reports_a_cell_that_does_not_run(tmp_path):
    answers = {**solution_sources("optimizers"), "adagrad": "def adagrad(w, dw, config=None:\n"}
    run = learner_pytest(released_folder(tmp_path, "optimizers", answers))
    assert failed_functions(run.stdout) == {"adagrad"}
    assert "answer cell 'adagrad' does not run: SyntaxError" in run.stdout


EXAMPLE_NOTEBOOKS = sorted(p.relative_to(ROOT / "examples" / "submitted")
                          for p in (ROOT / "examples" / "submitted").glob("*/*/*.ipynb")
                          if p.parts[-3] != "dee")  # dee's notebook is not JSON: neither can run it


@pytest.mark.parametrize("example", EXAMPLE_NOTEBOOKS, ids=str)
def test_notebook_test_cells_agree_with_pytest_on_every_example(tmp_path, example):
    student, assignment, name = example.parts
    folder = tmp_path / assignment
    shutil.copytree(RELEASE / assignment, folder)
    shutil.copy(ROOT / "examples" / "submitted" / example, folder / name)
    run = learner_pytest(folder)

    nb = nbformat.read(folder / name, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    failing_cells = {cell.metadata["nbgrader"]["grade_id"] for cell in nb.cells
                     if cell.cell_type == "code"
                     and cell.metadata.get("nbgrader", {}).get("grade_id", "").endswith("_visible")
                     and any(o.output_type == "error" for o in cell.outputs)}
    assert failing_cells == {f"test_{f}_visible" for f in failed_functions(run.stdout)}
    if student == "ada":
        assert not failing_cells and run.returncode == 0


def test_a_helper_in_a_cell_the_learner_added_works_in_pytest_as_in_jupyter(tmp_path):
    """The same cells load as in the grader: the learner's own cells, then the answers."""
    solved = solution_sources("optimizers")
    adam = solved["adam"].replace("def adam(", "def _adam(") + \
        "\ndef adam(w, dw, config=None):\n    return adam_helper(w, dw, config)\n"
    folder = released_folder(tmp_path, "optimizers", {**solved, "adam": adam})
    notebook = folder / SUITES["optimizers"].notebook
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    at = next(i for i, c in enumerate(nb["cells"])
              if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "adam")
    nb["cells"].insert(at + 1, {"cell_type": "code", "id": "my-helper", "metadata": {},
                                "execution_count": None, "outputs": [],
                                "source": "%matplotlib inline\ndef adam_helper(w, dw, config):\n"
                                          "    return _adam(w, dw, config)\n"})
    notebook.write_text(json.dumps(nb), encoding="utf-8")
    run = learner_pytest(folder)
    assert run.returncode == 0, run.stdout[-3000:]


LEARNER_FOLDERS = ("batchnorm", "optimizers", "preprocessing")
PYPI_NAMES = {"numpy": "numpy", "matplotlib": "matplotlib", "pytest": "pytest"}


def _notebook_imports(path: Path) -> set[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    source = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    return set(re.findall(r"^\s*(?:from|import)\s+(\w+)", source, re.MULTILINE))


@pytest.mark.parametrize("assignment", LEARNER_FOLDERS)
def test_the_learners_folder_says_what_to_install_how_to_check_and_what_to_submit(assignment):
    folder, notebook = RELEASE / assignment, SUITES[assignment].notebook
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "python -m pip install -r requirements.txt" in readme
    assert "python -m pytest" in readme and f"`{notebook}`" in readme
    assert all(f"`{f.name}`" in readme for f in SUITES[assignment].functions)
    assert all(f"`{p.name}`" in readme for p in folder.iterdir() if p.is_file())
    required = {re.split(r"[<>=\[ ]", line)[0]
                for line in (folder / "requirements.txt").read_text().splitlines() if line}
    imported = _notebook_imports(folder / notebook) - set(sys.stdlib_module_names) - {"checks"}
    for path in folder.glob("*.py"):
        imported |= {n.split(".")[0] for n in re.findall(r"^(?:from|import)\s+([\w.]+)",
                                                         path.read_text(), re.MULTILINE)}
    imported -= set(sys.stdlib_module_names) | {"checks"}
    assert {PYPI_NAMES[m] for m in imported} <= required
    assert {"pytest", "jupyterlab"} <= required


def test_pytest_in_the_learners_folder_leaves_jupyters_plugins_and_its_cache_out(tmp_path):
    folder = released_folder(tmp_path, "optimizers", solution_sources("optimizers"))
    run = subprocess.run([sys.executable, "-m", "pytest"], cwd=folder, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout
    plugins = re.search(r"^plugins: (.*)$", run.stdout, re.MULTILINE)
    assert plugins is None or "anyio" not in plugins.group(1)
    assert f"rootdir: {folder}" in run.stdout and "configfile: pytest.ini" in run.stdout
    assert not (folder / ".pytest_cache").exists()
    without = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
                             cwd=folder, env={"PYTEST_ADDOPTS": "-c /dev/null",
                                              "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, timeout=300)
    assert "anyio" in without.stdout  # installed here: the ini is what keeps it out
