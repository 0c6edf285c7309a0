"""nbgrader configuration for VID Lab: solutions/ is the source, exercises/ the release.

Paths are worked out from this file's location, so a copy of the course (a temporary
test copy, a classroom server) grades itself without editing anything here.
"""

from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from vidlab.grading import HideHiddenTestTracebacks

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

course_root = Path(__file__).resolve().parent.parent
grading = course_root / "grading"

c.CourseDirectory.course_id = "vidlab"
c.CourseDirectory.root = str(course_root)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "grading/submitted"
c.CourseDirectory.autograded_directory = "grading/autograded"
c.CourseDirectory.feedback_directory = "grading/feedback"
c.CourseDirectory.solution_directory = "grading/released_solutions"
c.CourseDirectory.db_url = f"sqlite:///{grading / 'gradebook.db'}"
c.Exchange.root = str(grading / "exchange")

# Trainee notebooks run on the course kernel; some cells build inventories, so allow time.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.Execute.timeout = 300
c.ExecutePreprocessor.timeout = 300
c.ExecutePreprocessor.kernel_name = "python3"
c.Execute.interrupt_on_timeout = True

# A trainee who deletes a test cell gets it back, so it still counts against them.
c.OverwriteCells.add_missing_cells = True

# Feedback must not reveal hidden tests: strip them from the source, then drop the
# tracebacks of failing test cells, which would otherwise quote the hidden line.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    HideHiddenTestTracebacks,
    ClearHiddenTests,
    CSSHTMLHeaderPreprocessor,
]
