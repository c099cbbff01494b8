"""Rebuild examples/submitted/ from the released notebooks: ``python examples/build.py``.

Each example learner starts from the notebook they were given and fills answer cells with
the reference solution or with a catalogued mistake, as a real learner would:

* ada: everything right.
* ben: momentum in its EMA form and Adam's t incremented after use; the rest right.
* cy: RMSProp with epsilon inside the square root, Nesterov as plain momentum, Adam not done.
* dee: a notebook cut off half way through saving (not valid JSON).
* eve: nothing done yet: the released notebook as it came.
"""
import json
import re
import shutil
from pathlib import Path

from autograder.course import RELEASE, SOURCE
from autograder.kit.checks import answer_cells
from autograder.mistakes import catalog, with_answer
from autograder.suites import SUITES

HERE = Path(__file__).resolve().parent
SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


def solved(assignment: str, notebook: str) -> dict:
    released = json.loads((RELEASE / assignment / notebook).read_text(encoding="utf-8"))
    source = json.loads((SOURCE / assignment / notebook).read_text(encoding="utf-8"))
    for grade_id, code in answer_cells(source):
        released = with_answer(released, grade_id, SOLUTION_MARKERS.sub("", code))
    return released


def with_mistakes(nb: dict, assignment: str, names: dict[str, str]) -> dict:
    mistakes, _ = catalog(assignment)
    for function, name in names.items():
        variant = next(m for m in mistakes if m.function == function and m.name == name)
        nb = with_answer(nb, function, variant.source)
    return nb


def main() -> None:
    suite = SUITES["optimizers"]
    released_text = (RELEASE / "optimizers" / suite.notebook).read_text(encoding="utf-8")
    released = json.loads(released_text)
    good = solved("optimizers", suite.notebook)
    cy = with_mistakes(good, "optimizers", {"rmsprop": "epsilon inside the square root",
                                            "nesterov_momentum": "plain momentum"})
    for cell in cy["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "adam":
            cell["source"] = next(c for c in released["cells"] if c.get("metadata", {})
                                  .get("nbgrader", {}).get("grade_id") == "adam")["source"]
    learners = {
        "ada": json.dumps(good, indent=1),
        "ben": json.dumps(with_mistakes(good, "optimizers", {
            "sgd_momentum": "EMA form", "adam": "t incremented after use"}), indent=1),
        "cy": json.dumps(cy, indent=1),
        "dee": json.dumps(good, indent=1)[: len(released_text) // 2],
        "eve": released_text,
    }
    target = HERE / "submitted"
    shutil.rmtree(target, ignore_errors=True)
    for student, text in learners.items():
        path = target / student / "optimizers" / suite.notebook
        path.parent.mkdir(parents=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
