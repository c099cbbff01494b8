"""nbgrader configuration for this course directory.

source/ holds the instructor notebooks, assignments/ what learners receive, solutions/ the
worked solutions. `python -m autograder release` drives nbgrader with the same layout.
"""
c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "lecture7"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "assignments"
c.CourseDirectory.solution_directory = "solutions"
# nbgrader counts any output on stderr as a failed test; the checks print only to stdout.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
