"""Autograded exercises for Training Neural Networks II, and the sandboxed grader."""
import sys

# jsonschema (under nbformat and nbgrader) imports rfc3987_syntax when it is installed, to
# check IRI formats that no notebook schema uses; building its grammar costs about a second
# in every process that reads a notebook or the gradebook. Marking it absent skips that.
sys.modules.setdefault("rfc3987_syntax", None)
