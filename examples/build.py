"""Rebuild examples/submitted/ from the released notebooks: ``python examples/build.py``.

Each example learner starts from the notebooks they were given and fills answer cells with
the reference solution or with a catalogued mistake, as a real learner would:

* ada: everything right, in all four assignments.
* ben: momentum in its EMA form and Adam's t incremented after use; batch norm with
  epsilon outside the square root; preprocessing right; learning rates sampled uniformly
  instead of log-uniformly and a linear grid for log-scaled hyperparameters.
* cy: RMSProp with epsilon inside the square root, Nesterov as plain momentum, Adam not
  done; standardize uses the test set's own statistics; batch norm not submitted; random
  search sharing one draw across hyperparameters, coarse-to-fine around the worst results,
  the curve diagnosis not done.
* dee: an optimizers notebook cut off half way through saving (not valid JSON), nothing else.
* eve: nothing done yet: the released notebooks as they came.
"""
import json
import shutil
from pathlib import Path

from autograder.course import RELEASE
from autograder.mistakes import catalog, with_answer, with_variant
from autograder.reference import solution_sources
from autograder.suites import SUITES

HERE = Path(__file__).resolve().parent

# student -> assignment -> {function: mistake name, or None for "left as the stub"}
PLANS = {
    "ada": {"optimizers": {}, "batchnorm": {}, "preprocessing": {}, "tuning": {}},
    "ben": {"optimizers": {"sgd_momentum": "EMA form", "adam": "t incremented after use"},
            "batchnorm": {"batchnorm_forward": "epsilon outside the square root"},
            "preprocessing": {},
            "tuning": {"sample_log_uniform": "uniform instead of log-uniform",
                       "grid_search_configs": "linear grid for a log scale"}},
    "cy": {"optimizers": {"rmsprop": "epsilon inside the square root",
                          "nesterov_momentum": "plain momentum", "adam": None},
           "preprocessing": {"standardize": "test with its own statistics"},
           "tuning": {"random_search_configs": "one draw shared by all names",
                      "coarse_to_fine": "around the worst results", "diagnose_curves": None}},
}


def released(assignment: str) -> str:
    return (RELEASE / assignment / SUITES[assignment].notebook).read_text(encoding="utf-8")


def submission(assignment: str, plan: dict[str, str | None]) -> dict:
    nb = json.loads(released(assignment))
    mistakes, _ = catalog(assignment)
    for grade_id, code in solution_sources(assignment).items():
        if grade_id not in plan:
            nb = with_answer(nb, grade_id, code)
        elif plan[grade_id] is not None:
            nb = with_variant(nb, next(m for m in mistakes
                                       if m.function == grade_id and m.name == plan[grade_id]))
    return nb


def main() -> None:
    learners = {(student, assignment): json.dumps(submission(assignment, plan), indent=1)
                for student, plans in PLANS.items() for assignment, plan in plans.items()}
    learners["dee", "optimizers"] = json.dumps(submission("optimizers", {}), indent=1)[:20000]
    learners.update({("eve", assignment): released(assignment) for assignment in SUITES})
    target = HERE / "submitted"
    shutil.rmtree(target, ignore_errors=True)
    for (student, assignment), text in sorted(learners.items()):
        path = target / student / assignment / SUITES[assignment].notebook
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
