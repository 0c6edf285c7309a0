"""The instructor's week: release, collect, autograde, feedback and report for three simulated
trainees (complete, partial, blank), over zips and over nbgrader's exchange; packs and progress."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from vidlab import classroom, grading

from conftest import FIXTURES, ROOT

pytestmark = pytest.mark.xdist_group("classroom")

CLASS_FIXTURE = FIXTURES / "grading" / "class"
ANSWERS = {"answer_square": "def square(x):\n    return x * x", "answer_cube": "def cube(x):\n    return x * x * x"}


def answered(released: Path, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The released notebook with some answer cells filled in, as a trainee would hand it back."""
    nb = nbformat.read(released, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


@pytest.fixture
def course(tmp_path):
    root = grading.copy_course(CLASS_FIXTURE, tmp_path / "course", ROOT / "grading" / "nbgrader_config.py")
    grading.build_exercises(root)
    return root


def hand_back(outbox: Path, inbox: Path, trainee: str, answers: dict[str, str]) -> None:
    """Unzip the trainee's release, answer, zip it back under the same name."""
    inbox.mkdir(exist_ok=True)
    name = f"squares__{trainee}.zip"
    with zipfile.ZipFile(outbox / name) as given, zipfile.ZipFile(inbox / name, "w") as returned:
        for member in given.namelist():
            nb = nbformat.reads(given.read(member).decode(), as_version=4)
            for cell in nb.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if grade_id in answers:
                    cell.source = answers[grade_id]
            returned.writestr(member, nbformat.writes(nb))


def test_zip_cycle_scores_complete_partial_and_blank_trainees(course, tmp_path):
    outbox, inbox = tmp_path / "outbox", tmp_path / "inbox"
    zips = classroom.release(course, "squares", ["alice", "bob", "carol"], out=outbox)
    assert sorted(z.name for z in zips) == ["squares__alice.zip", "squares__bob.zip", "squares__carol.zip"]
    hand_back(outbox, inbox, "alice", ANSWERS)
    hand_back(outbox, inbox, "bob", {"answer_square": ANSWERS["answer_square"]})
    hand_back(outbox, inbox, "carol", {})
    (inbox / "holiday_photos.zip").write_bytes(b"PK not really")
    (inbox / "squares__dave.zip").write_bytes(b"this is not a zip")

    collected = classroom.zip_collect(course, "squares", inbox)
    assert collected.collected == ["alice", "bob", "carol"]
    assert any("holiday_photos.zip" in p for p in collected.problems)
    assert any("squares__dave.zip" in p and "not a readable zip" in p for p in collected.problems)

    graded = classroom.autograde(course, "squares")
    assert graded["graded"].all(), graded

    pages = classroom.feedback(course, "squares", out=tmp_path / "feedback")
    assert sorted(p.name for p in pages) == ["squares__alice.html", "squares__bob.html", "squares__carol.html"]
    for page in pages:
        text = page.read_text()
        assert not [m for m in grading.HIDDEN_TEST_MARKERS if m in text] and "square(-4)" not in text

    written = classroom.report(course, tmp_path / "report")
    grades = pd.read_csv(written["grades"]).set_index("trainee")
    assert grades.loc[["alice", "bob", "carol"], "share"].tolist() == [1.0, 0.5, 0.0]
    questions = pd.read_csv(written["questions"])
    assert set(questions["question"]) == {"test_square", "test_cube"} and len(questions) == 6
    html = written["report"].read_text()
    assert html.count("data:image/png;base64,") == 3 and "carol" in html


def test_a_returned_zip_cannot_write_outside_the_submission(course, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    released = course / "exercises" / "squares" / "squares.ipynb"
    with zipfile.ZipFile(inbox / "squares__eve.zip", "w") as sneaky:
        sneaky.writestr("../../../squares.ipynb", nbformat.writes(answered(released, ANSWERS)))
        sneaky.writestr("squares/notes.py", "print('not a notebook')")
    collected = classroom.zip_collect(course, "squares", inbox)
    assert collected.collected == ["eve"]
    submitted = course / "grading" / "submitted" / "eve" / "squares"
    assert sorted(p.name for p in submitted.iterdir()) == ["squares.ipynb", "timestamp.txt"]
    assert not (tmp_path / "squares.ipynb").exists()


def test_exchange_cycle_release_fetch_submit_collect_autograde(course, tmp_path, monkeypatch):
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchAssignment, ExchangeSubmit
    from nbgrader.utils import get_username

    classroom.release(course, "squares")
    config = grading.config(course)
    config.CourseDirectory.assignment_id = "squares"
    home = tmp_path / "trainee_home"
    home.mkdir()
    monkeypatch.chdir(home)
    coursedir = CourseDirectory(config=config)
    ExchangeFetchAssignment(coursedir=coursedir, authenticator=Authenticator(config=config), config=config).start()
    fetched = home / "squares" / "squares.ipynb"
    nbformat.write(answered(fetched, ANSWERS), fetched)
    ExchangeSubmit(coursedir=coursedir, authenticator=Authenticator(config=config), config=config).start()

    assert classroom.collect(course, "squares") == [get_username()]
    assert classroom.autograde(course, "squares")["graded"].all()
    [row] = classroom.grades(course).to_dict("records")
    assert (row["code_score"], row["max_code_score"]) == (4, 4)


def test_reset_archives_a_cohort_instead_of_deleting_it(course, tmp_path):
    hand_back(classroom.release(course, "squares", ["alice"], out=tmp_path / "out")[0].parent,
              tmp_path / "in", "alice", ANSWERS)
    classroom.zip_collect(course, "squares", tmp_path / "in")
    classroom.autograde(course, "squares")
    archive = classroom.reset(course)
    assert (archive / "gradebook.db").exists() and (archive / "submitted" / "alice").is_dir()
    assert not (course / "grading" / "submitted").exists()
    assert classroom.reset(course) is None, "nothing left to archive"
    assert classroom.grades(course).empty


def test_trainee_pack_has_the_exercises_and_no_solutions(tmp_path):
    pack = classroom.trainee_pack(ROOT, tmp_path / "pack.zip")
    with zipfile.ZipFile(pack) as archive:
        names = archive.namelist()
    assert any(n.startswith("vidlab-course/exercises/") and n.endswith(".ipynb") for n in names)
    assert any(n.startswith("vidlab-course/curriculum/") for n in names)
    assert "vidlab-course/synthetic_data/build.py" in names and "vidlab-course/Makefile" in names
    assert not [n for n in names if "/solutions/" in n or "answer_key" in n or "/instructor/" in n
                or "/grading/" in n or "/output/" in n]
    assert classroom.pack_problems(pack) == []


def test_pack_check_catches_a_planted_solution(tmp_path):
    leaky = tmp_path / "leaky.zip"
    with zipfile.ZipFile(leaky, "w") as archive:
        archive.writestr("vidlab-course/exercises/x/x.ipynb", '{"cells": ["### BEGIN SOLUTION"]}')
        archive.writestr("vidlab-course/synthetic_data/output/tiny/answer_key/series.csv", "series_id\n")
    problems = classroom.pack_problems(leaky)
    assert len(problems) == 2 and "BEGIN SOLUTION" in problems[0] and "excluded folder" in problems[1]


def test_progress_tells_to_do_passing_failing_and_tampered(course, tmp_path):
    released = course / "exercises"
    work = tmp_path / "work"
    states = {
        "todo": {},
        "passing": ANSWERS,
        "failing": {**ANSWERS, "answer_square": "def square(x):\n    return x + x"},
    }
    for name, answers in states.items():
        (work / name).mkdir(parents=True)
        nbformat.write(answered(released / "squares" / "squares.ipynb", answers), work / name / "squares.ipynb")
    tampered = answered(released / "squares" / "squares.ipynb", ANSWERS)
    next(c for c in tampered.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_cube").source = "pass"
    (work / "tampered").mkdir()
    nbformat.write(tampered, work / "tampered" / "squares.ipynb")
    # progress compares each folder with the release of the same name
    for name in states.keys() | {"tampered"}:
        shutil.copytree(released / "squares", tmp_path / "released" / name)

    table = classroom.progress(course, work, tmp_path / "released").set_index("assignment")
    assert table.loc["todo", "status"] == "to do"
    assert (table.loc["passing", "status"], table.loc["passing", "checks_passed"]) == ("passing", 2)
    assert (table.loc["failing", "status"], table.loc["failing", "checks_failed"]) == ("done, not passing", 1)
    assert table.loc["tampered", "status"] == "locked cell edited"
    without_release = classroom.progress(course, work).set_index("assignment")
    assert without_release.loc["todo", "status"] == "to do", "unanswered stubs mean to do, even with no release copy"


def test_instructor_guide_carries_the_current_schedule():
    guide = (ROOT / "docs" / "instructor" / "README.md").read_text(encoding="utf-8")
    expected = classroom.guide_with_schedule(guide, classroom.schedule_markdown(ROOT))
    assert guide == expected, "the schedule in docs/instructor/README.md is stale: run `vidlab course schedule --write`"


def test_schedule_lists_every_session_with_its_minutes():
    table = classroom.schedule(ROOT)
    assert len(table) == len(list((ROOT / "curriculum").rglob("*.ipynb")))
    assert (table["minutes"] > 0).all() and table["title"].notna().all()
    assert table[["day", "session"]].apply(tuple, axis=1).is_unique, "two notebooks claim the same day and session"


def test_handouts_are_self_contained_html(tiny_data, tmp_path):
    table = classroom.handouts(ROOT, tmp_path, profile="tiny", names=["day1_2_anatomy_of_an_image_file"])
    [row] = table.to_dict("records")
    assert row["error"] is None, row["error"]
    page = row["html"].read_text(encoding="utf-8")
    assert "Anatomy of an image file" in page and "data:image/png;base64," in page
    assert not list(tmp_path.glob(".*.ipynb")), "the executed notebook is a working file, not a handout"


def test_each_day_of_the_week_is_about_six_hours():
    minutes = classroom.schedule(ROOT).groupby("day")["minutes"].sum()
    assert set(minutes.index) == {1, 2, 3, 4, 5}, f"the week should have five days of sessions, has {sorted(minutes.index)}"
    long_or_short = {day: f"{m // 60} h {m % 60} min" for day, m in minutes.items() if not 330 <= m <= 405}
    assert not long_or_short, f"days should hold 5 h 30 to 6 h 45 of sessions: {long_or_short}"
