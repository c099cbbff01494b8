"""Where the course's folders are: the nbgrader course directory that holds this package."""
import os
import sys
from pathlib import Path

ROOT = Path(os.environ.get("LECTURE7_COURSE", Path(__file__).resolve().parents[1]))
SOURCE = ROOT / "source"
RELEASE = ROOT / "assignments"
SOLUTIONS = ROOT / "solutions"
GRADEBOOK = ROOT / "gradebook.db"
# What the grader computes once and reads back in later runs (the reference's traces). In
# the organizer's build/ folder: no release, solution or Gradescope package holds it, and a
# sandbox sees nothing of the course.
GRADER_CACHE = ROOT / "build" / "grader-cache"


def put_python_tools_on_path() -> None:
    """nbgrader runs ``alembic`` by name: find it beside this interpreter, as in a venv."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
