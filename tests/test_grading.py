"""The grading promise: solutions score full marks, blanks score zero, nothing hidden leaks,
and nbgrader's awkward cases (deleted, edited, looping cells) cannot earn points."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from vidlab import classroom, grading

from conftest import FIXTURES

GRADING_FIXTURES = FIXTURES / "grading"


def fixture_round_trip(name: str, root: Path, tmp_path: Path) -> grading.RoundTrip:
    return grading.round_trip(GRADING_FIXTURES / name, workdir=tmp_path,
                              config=root / "grading" / "nbgrader_config.py")


@pytest.mark.slow
def test_course_round_trip(root, tiny_data, tmp_path):
    report = grading.round_trip(root, workdir=tmp_path)
    assert report.ok, "\n".join(report.problems)
    students = {(s.assignment, s.student) for s in report.scores}
    assert students == {(a, st) for a in grading.assignments(root)
                        for st in (grading.REFERENCE_STUDENT, grading.BLANK_STUDENT)}


def test_committed_exercises_match_a_fresh_build(root, tmp_path):
    course = grading.copy_course(root, tmp_path)
    shutil.rmtree(course / "exercises", ignore_errors=True)
    grading.build_exercises(course)
    differences = grading.notebook_differences(root / "exercises", course / "exercises")
    assert not differences, "exercises/ is stale, run `make exercises`: " + "; ".join(differences)


def test_committed_exercises_carry_no_hidden_text(root):
    assert grading.assignments(root), "no assignments found under solutions/"
    assert not grading.leaked_markers(root / "exercises")


def test_sound_fixture_passes_the_round_trip(root, tmp_path):
    report = fixture_round_trip("sound", root, tmp_path)
    assert report.ok, report.problems
    by_student = {s.student: s for s in report.scores}
    assert by_student[grading.REFERENCE_STUDENT].score == 2
    assert by_student[grading.BLANK_STUDENT].score == 0


def test_round_trip_catches_a_solution_that_loses_points(root, tmp_path):
    report = fixture_round_trip("wrong_solution", root, tmp_path)
    assert any("reference solution scored 0 of 2" in p for p in report.problems), report.problems


def test_round_trip_catches_a_blank_exercise_that_scores(root, tmp_path):
    report = fixture_round_trip("lenient_test", root, tmp_path)
    assert any("blank exercise scored 2 of 2" in p for p in report.problems), report.problems


def test_leak_check_finds_hidden_tests_left_in_an_exercise(tmp_path):
    leaky = nbformat.read(GRADING_FIXTURES / "sound" / "solutions" / "double" / "double.ipynb", as_version=4)
    nbformat.write(leaky, tmp_path / "double.ipynb")
    leaks = grading.leaked_markers(tmp_path)
    assert any("BEGIN HIDDEN TESTS" in leak for leak in leaks)
    assert any("BEGIN SOLUTION" in leak for leak in leaks)


AWKWARD = {  # submission: (autograded score of 2, what the instructor is told)
    "deleted_test_cell": (0, "test_double was deleted or renamed"),
    "edited_locked_cell": (0, "test_double is locked but was edited"),
    "infinite_loop": (0, None),
    "renamed_test_cell": (0, "test_double was deleted or renamed"),
    "huge_output": (2, None),
    "reads_answer_key": (2, "answer_double refers to 'answer_key'"),
}


@pytest.mark.parametrize("submission", sorted(AWKWARD))
def test_awkward_submissions_score_as_they_should_and_are_flagged(root, tmp_path, submission):
    course = grading.copy_course(GRADING_FIXTURES / "sound", tmp_path / "course", root / "grading" / "nbgrader_config.py")
    grading.build_exercises(course)
    handed_in = tmp_path / "handed_in"
    handed_in.mkdir()
    shutil.copy(GRADING_FIXTURES / "submissions" / f"{submission}.ipynb", handed_in / "double.ipynb")
    grading.submit(course, "trainee", "double", handed_in)
    [row] = classroom.autograde(course, "double", timeout=5).to_dict("records")
    assert row["graded"], row["error"]
    [score] = grading.scores(grading.api(course), "double")
    expected_score, expected_flag = AWKWARD[submission]
    assert (score.code_score, score.max_code_score) == (expected_score, 2)
    autograded = course / "grading" / "autograded" / "trainee" / "double" / "double.ipynb"
    graded = nbformat.read(autograded, as_version=4)
    test_cell = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double"]
    assert len(test_cell) == 1 and "BEGIN HIDDEN TESTS" in test_cell[0].source, "the locked test was not restored"
    assert autograded.stat().st_size < 1_000_000, "the autograder should cap a flood of output"
    assert (expected_flag in (row["flags"] or "")) if expected_flag else row["flags"] is None, row["flags"]


def test_feedback_hides_hidden_tests_and_their_tracebacks(root, tmp_path):
    course = grading.copy_course(GRADING_FIXTURES / "sound", tmp_path, root / "grading" / "nbgrader_config.py")
    grading.build_exercises(course)
    handed_in = tmp_path / "handed_in"
    handed_in.mkdir()
    wrong = nbformat.read(GRADING_FIXTURES / "wrong_solution" / "solutions" / "double" / "double.ipynb", as_version=4)
    nbformat.write(wrong, handed_in / "double.ipynb")
    grading.submit(course, "trainee", "double", handed_in)
    grader = grading.api(course)
    assert grader.autograde("double", "trainee")["success"]
    assert grader.generate_feedback("double", "trainee")["success"]
    [html] = (course / "grading" / "feedback" / "trainee" / "double").glob("*.html")
    text = html.read_text()
    assert "AssertionError" in text, "the trainee should still see that the test failed"
    assert "double(-3)" not in text and "HIDDEN TESTS" not in text


def test_written_answers_wait_for_a_person_without_failing_the_round_trip(root, tmp_path):
    report = fixture_round_trip("written_answer", root, tmp_path)
    assert report.ok, report.problems
    reference = next(s for s in report.scores if s.student == grading.REFERENCE_STUDENT)
    assert (reference.code_score, reference.max_code_score, reference.max_score) == (2, 2, 3)
