"""The files that make a learner's folder self-explaining: README.md, requirements.txt and
pytest.ini, written into ``source/<assignment>/`` by the release, so that nbgrader copies
them into ``assignments/<assignment>/`` beside the notebook.

Learners receive that folder alone, not this repository: what to install, how to check and
what to submit must be in it.
"""
from __future__ import annotations

from pathlib import Path

# What the notebook imports (numpy, matplotlib), what runs the checks (pytest) and what
# opens it (Jupyter). checks.py itself needs numpy only.
REQUIREMENTS = """\
numpy>=1.24
matplotlib>=3.7
pytest>=7
jupyterlab>=4
"""

# Jupyter installs pytest plugins (anyio's among them) that these checks do not use and
# whose imports took longer than the checks themselves; cacheprovider would write a
# .pytest_cache folder into what the learner submits.
PYTEST_INI = """\
[pytest]
addopts = -p no:anyio -p no:cacheprovider
testpaths = {test_file}
"""

README = """\
# {assignment}

This folder is your exercise: the notebook `{notebook}` and what checks it. You implement
{functions}.

## Install (once)

Python 3.11 or newer (the checks are tested with 3.11), then, in this folder:

```sh
python -m pip install -r requirements.txt
```

## Work

1. Open the notebook (`jupyter lab {notebook}`) and read it from the top.
2. Fill in each cell marked `YOUR CODE HERE`. Keep the function names and the cells: the
   grader finds your answers by them. Helper code may go in code cells of your own.
3. Check your answers: run the test cell below each answer, or, in this folder,

   ```sh
   python -m pytest
   ```

   Both run the same visible checks. A failure names the quantity that is wrong, by how
   much, and, when your outputs match a known mistake, which one and how to fix it.

## Submit

Save the notebook and hand in `{notebook}` as your course says{submit}. After you submit,
hidden checks test more inputs than the visible ones; passing the visible checks is
necessary, not sufficient.

## Files

{files}
"""

FILE_ROLES = {
    "checks.py": "the checks (used by the notebook's test cells and by pytest)",
    "visible_cases.json": "the visible cases and their expected values",
    "submit.py": "sends the notebook to the course's server, if your course uses one "
                 "(`python submit.py --help`)",
    "requirements.txt": "what to install",
    "pytest.ini": "makes `python -m pytest` run only this folder's checks",
    "README.md": "this file",
}


def write_learner_files(folder: Path, notebook: str, functions: list[str]) -> list[Path]:
    """README.md, requirements.txt and pytest.ini in ``folder`` (an assignment's source
    folder), describing the files that are in it; returns the paths written."""
    folder = Path(folder)
    test_file = f"test_{folder.name}.py"
    written = {"requirements.txt": REQUIREMENTS,
               "pytest.ini": PYTEST_INI.format(test_file=test_file)}
    names = sorted({p.name for p in folder.iterdir() if p.is_file()} | set(written)
                   | {"README.md"})
    roles = {**FILE_ROLES, notebook: "the exercise: the file you fill in and submit",
             test_file: "runs the visible checks on the notebook (`python -m pytest`)"}
    files = "\n".join(f"- `{name}`: {roles[name]}" if name in roles else f"- `{name}`: data "
                      f"the notebook loads" for name in names)
    submit = (" (on a course server: `python submit.py --token 'YOUR LINK'`, with the personal "
              "link your organizer sent)" if "submit.py" in names else "")
    written["README.md"] = README.format(
        assignment=folder.name, notebook=notebook, files=files, submit=submit,
        functions=", ".join(f"`{name}`" for name in functions))
    paths = []
    for name, text in written.items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
