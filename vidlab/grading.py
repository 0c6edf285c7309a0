"""nbgrader, driven in-process: build exercises from solutions and prove the grading round trip.

The round trip is the promise the course makes to instructors: every reference solution
earns full marks, every untouched exercise earns zero, and nothing hidden reaches a trainee.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets.config.loader import PyFileConfigLoader

HIDDEN_TEST_MARKERS = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
HIDDEN_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", *HIDDEN_TEST_MARKERS)
REFERENCE_STUDENT = "reference_solution"
BLANK_STUDENT = "blank_exercise"


class GradingError(RuntimeError):
    """An nbgrader step failed; the message carries nbgrader's own log."""


class HideHiddenTestTracebacks(NbGraderPreprocessor):
    """Cut tracebacks of graded test cells to their last line: a traceback quotes the hidden test."""

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


def assignments(root: Path) -> list[str]:
    """Assignment names: one folder per graded session under solutions/."""
    source = root / "solutions"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def config(root: Path, timeout: int | None = None):
    """The course's nbgrader configuration (root/grading/nbgrader_config.py), rooted at root."""
    loaded = PyFileConfigLoader("nbgrader_config.py", path=str(root / "grading")).load_config()
    loaded.CourseDirectory.root = str(root)
    if timeout is not None:
        loaded.Execute.timeout = loaded.ExecutePreprocessor.timeout = timeout
    return loaded


def api(root: Path, timeout: int | None = None):
    """An NbGraderAPI for the course at root, configured by root/grading/nbgrader_config.py."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    # nbgrader creates and upgrades the gradebook by running the `alembic` command, which is
    # installed beside this Python; without an activated venv it would not be on PATH.
    here = str(Path(sys.executable).parent)
    if here not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")
    loaded = config(root, timeout)
    return NbGraderAPI(coursedir=CourseDirectory(config=loaded), config=loaded)


def _run(step: str, result: dict) -> None:
    if not result.get("success"):
        raise GradingError(f"nbgrader {step} failed:\n{result.get('error') or ''}\n{result.get('log') or ''}")


def build_exercises(root: Path, names: list[str] | None = None) -> list[Path]:
    """Regenerate exercises/<assignment>/ from solutions/<assignment>/ with nbgrader."""
    grader = api(root)
    built = []
    for name in names or assignments(root):
        _run(f"generate_assignment {name}", grader.generate_assignment(name, force=True, create=True))
        built.append(root / "exercises" / name)
    return built


def leaked_markers(folder: Path, pattern: str = "*.ipynb", markers: tuple[str, ...] = HIDDEN_MARKERS) -> list[str]:
    """Files under folder whose text still carries solution or hidden-test markers."""
    leaks = []
    for path in sorted(folder.rglob(pattern)):
        text = path.read_text(encoding="utf-8", errors="replace")
        leaks += [f"{path}: {m}" for m in markers if m in text]
    return leaks


def notebook_differences(expected: Path, actual: Path) -> list[str]:
    """Assignment notebooks that differ between two exercise folders (cell sources and metadata)."""
    def cells(path: Path) -> list:
        nb = json.loads(path.read_text(encoding="utf-8"))
        return [(c["cell_type"], "".join(c["source"]), c.get("metadata", {})) for c in nb["cells"]]

    names = {p.relative_to(expected) for p in expected.rglob("*.ipynb")}
    names |= {p.relative_to(actual) for p in actual.rglob("*.ipynb")}
    differences = []
    for name in sorted(names):
        a, b = expected / name, actual / name
        if not a.exists() or not b.exists():
            differences.append(f"{name}: only in {'regenerated' if b.exists() else 'committed'} copy")
        elif cells(a) != cells(b):
            differences.append(f"{name}: differs")
    return differences


@dataclass
class Score:
    """One submission's marks; the ``code_`` pair counts only autograded (test-cell) points."""

    assignment: str
    student: str
    score: float
    max_score: float
    code_score: float
    max_code_score: float


@dataclass
class RoundTrip:
    scores: list[Score] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def copy_course(root: Path, dest: Path, config: Path | None = None) -> Path:
    """A throw-away copy of the graded parts of a course, so grading never touches the real one."""
    for part in ("solutions", "exercises"):
        if (root / part).is_dir():
            shutil.copytree(root / part, dest / part, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (dest / "grading").mkdir(parents=True, exist_ok=True)
    shutil.copy2(config or root / "grading" / "nbgrader_config.py", dest / "grading" / "nbgrader_config.py")
    return dest


def submit(course: Path, student: str, assignment: str, source: Path) -> Path:
    """Place a folder of notebooks where nbgrader expects a trainee's submission."""
    target = course / "grading" / "submitted" / student / assignment
    shutil.copytree(source, target)
    # nbgrader reads the submission time from this file; a fixed value keeps runs identical.
    (target / "timestamp.txt").write_text("2026-01-01 00:00:00.000000 UTC")
    return target


def round_trip(root: Path, names: list[str] | None = None, workdir: Path | None = None,
               config: Path | None = None) -> RoundTrip:
    """Release, submit the reference solution and a blank exercise, autograde, give feedback; check it all."""
    names = names or assignments(root)
    report = RoundTrip()
    with tempfile.TemporaryDirectory(prefix="vidlab-roundtrip-", dir=workdir) as tmp:
        course = copy_course(root, Path(tmp), config)
        shutil.rmtree(course / "exercises", ignore_errors=True)
        build_exercises(course, names)
        report.problems += [f"exercise leaks {leak}" for leak in leaked_markers(course / "exercises")]
        grader = api(course)
        for name in names:
            submit(course, REFERENCE_STUDENT, name, course / "solutions" / name)
            submit(course, BLANK_STUDENT, name, course / "exercises" / name)
            for student in (REFERENCE_STUDENT, BLANK_STUDENT):
                _run(f"autograde {name} {student}", grader.autograde(name, student, force=True, create=True))
                _run(f"generate_feedback {name} {student}", grader.generate_feedback(name, student, force=True))
            report.scores += scores(grader, name)
        feedback = course / "grading" / "feedback"
        # The reference solution's own feedback rightly shows its solution; hidden tests never.
        report.problems += [f"feedback leaks {leak}" for leak in leaked_markers(feedback, "*.html", HIDDEN_TEST_MARKERS)]
        report.problems += [f"feedback leaks {leak}" for leak in leaked_markers(feedback / BLANK_STUDENT, "*.html")]
    # Manually graded answers (written scenario questions) wait for a person, so only
    # autograded points can prove the round trip.
    for s in report.scores:
        if s.max_code_score <= 0:
            report.problems.append(f"{s.assignment}: no autograded points at all")
        elif s.student == REFERENCE_STUDENT and s.code_score != s.max_code_score:
            report.problems.append(
                f"{s.assignment}: reference solution scored {s.code_score:g} of {s.max_code_score:g} autograded points")
        elif s.student == BLANK_STUDENT and s.code_score != 0:
            report.problems.append(
                f"{s.assignment}: blank exercise scored {s.code_score:g} of {s.max_code_score:g} autograded points")
    return report


def scores(grader, assignment: str) -> list[Score]:
    """Every autograded submission's total for one assignment, from the gradebook."""
    with grader.gradebook as book:
        return [
            Score(assignment, sub.student.id, float(sub.score), float(sub.max_score),
                  float(sub.code_score), float(sub.max_code_score))
            for sub in book.assignment_submissions(assignment)
        ]


#: Text in a trainee's code that points at what only the instructor should read.
FORBIDDEN_PATHS = ("answer_key", "solutions/", "gradebook.db", "released_solutions")
#: A notebook larger than this was flooded with output (the autograder caps what it keeps).
FLOOD_BYTES = 5_000_000


def flags(notebook: Path, released: Path | None = None) -> list[str]:
    """Why a submitted notebook deserves an instructor's look: answer-key paths, locked cells edited,
    renamed or deleted, floods of output.

    Locked cells are compared with the released notebook when one is given (a trainee can strip
    nbgrader's checksums, not the release), else with their checksums. A flag is not a mark: the
    autograder has already scored the work; flags say which submissions to open by hand.
    """
    from nbgrader.utils import compute_checksum

    reasons = []
    if notebook.stat().st_size > FLOOD_BYTES:
        reasons.append(f"{notebook.name} is {notebook.stat().st_size / 1e6:.0f} MB: flooded with output")
    nb = nbformat.read(notebook, as_version=4)
    submitted = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution"):
            name = meta.get("grade_id", f"cell {index}")
            reasons += [f"{name} refers to {path!r}" for path in FORBIDDEN_PATHS if path in cell.source]
        elif released is None and meta.get("locked") and meta.get("checksum") and compute_checksum(cell) != meta["checksum"]:
            reasons.append(f"{meta.get('grade_id', f'cell {index}')} is locked but was edited")
    if released is not None:
        for cell in nbformat.read(released, as_version=4).cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("locked") or "grade_id" not in meta:
                continue
            mine = submitted.get(meta["grade_id"])
            if mine is None:
                reasons.append(f"{meta['grade_id']} was deleted or renamed")
            elif mine.source.strip() != cell.source.strip():
                reasons.append(f"{meta['grade_id']} is locked but was edited")
    return reasons


def unknown_graded_cells(notebook: Path, released: Path) -> list[str]:
    """Make cells that claim a grade id the release never had into plain cells (nbgrader would refuse
    the whole submission over them); returns their ids. Works on the submitted copy, never the trainee's."""
    known = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nbformat.read(released, as_version=4).cells}
    nb = nbformat.read(notebook, as_version=4)
    unknown = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id is not None and grade_id not in known:
            unknown.append(grade_id)
            del cell.metadata["nbgrader"]
    if unknown:
        nbformat.write(nb, notebook)
    return unknown


def is_clean(path: Path) -> bool:
    """A committed notebook carries no outputs and no execution counts."""
    nb = nbformat.read(path, as_version=4)
    return all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")
