"""A trainee's first exercise in a real browser: Debian's Chromium, driven by Playwright, on the
JupyterLab that `make lab` starts (same prepare / command line, a temporary copy of the course).

The trainee opens the Day 1 session 2 exercise, types the answer to Task 1 (the other answers are
already written, as after an hour's work), runs all cells, presses nbgrader's Validate, then opens
the Assignments list and the Formgrader. Screenshots go to the test's tmp folder, and also to
$VIDLAB_SCREENSHOTS when that is set.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from vidlab import classroom, grading, lab

from conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed (`apt-get install -y chromium`)"),
]

ASSIGNMENT = "day1_2_anatomy_of_an_image_file"
NOTEBOOK = f"exercises/{ASSIGNMENT}/anatomy_of_an_image_file.ipynb"
TYPED_ANSWER = "answer_looks_like_jpeg"
TYPED_CODE = 'def looks_like_jpeg(header: bytes) -> bool:\n    return header.startswith(b"\\xff\\xd8\\xff")'
#: Offline and quiet: no first-run dialogs, no update or sync traffic, a fresh profile per run.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 150_000  # generous: CI shares 2 cores with the rest of `make test`


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def solved(exercise: Path, solution: Path, leave_blank: set[str]) -> nbformat.NotebookNode:
    """The exercise with every answer cell (except ``leave_blank``) holding the reference answer."""
    answers = {}
    for cell in nbformat.read(solution, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            kept = [line for line in cell.source.splitlines() if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
            answers[meta["grade_id"]] = "\n".join(kept)
    nb = nbformat.read(exercise, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers and grade_id not in leave_blank:
            cell.source = answers[grade_id]
    return nb


@pytest.fixture(scope="module")
def course_lab(tmp_path_factory, tiny_data):
    """`make lab` on a throw-away copy of the course (tiny data); Validate saves, so never the real one."""
    tmp = tmp_path_factory.mktemp("browser")
    course = grading.copy_course(ROOT, tmp / "course")
    nbformat.write(solved(course / NOTEBOOK, course / "solutions" / ASSIGNMENT / Path(NOTEBOOK).name, {TYPED_ANSWER}),
                   course / NOTEBOOK)
    if lab.kernel_problem(ROOT):  # re-registering while another test starts a kernel would race it
        lab.register_kernel()
    lab.write_jupyter_config(course)
    classroom.release(course, ASSIGNMENT)  # so the Assignments list has something to show
    (tmp / "home").mkdir()
    port, token = free_port(), secrets.token_hex(16)
    env = {**lab.jupyter_env(course), "HOME": str(tmp / "home"), "VIDLAB_PROFILE": "tiny"}
    log = tmp / "lab.log"
    with log.open("w") as out:
        process = subprocess.Popen(lab.lab_command(course, port, token), cwd=course, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"}), timeout=5)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"JupyterLab did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
    yield course, base, token
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def shots(tmp_path):
    """Save a screenshot by name into tmp_path (and $VIDLAB_SCREENSHOTS); returns the saver."""
    folder = tmp_path / "screenshots"
    folder.mkdir()
    extra = Path(os.environ["VIDLAB_SCREENSHOTS"]) if os.environ.get("VIDLAB_SCREENSHOTS") else None

    def take(page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path))
        if extra:
            extra.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, extra / path.name)
        return path

    return take


@pytest.fixture
def browser_page(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1400, "height": 900})
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context.new_page()
        finally:
            context.close()


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=top).first.click()
    page.locator(".lm-Menu-itemLabel").get_by_text(item, exact=True).click()


def test_trainee_runs_validates_and_instructor_sees_the_formgrader(course_lab, browser_page, shots):
    course, base, token = course_lab
    page = browser_page
    code_cells = sum(c.cell_type == "code" for c in nbformat.read(course / NOTEBOOK, as_version=4).cells)

    page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")

    # Task 1, typed as a trainee would, into the answer cell's editor.
    answer = page.locator(".jp-CodeCell").filter(has_text="raise NotImplementedError()").first
    answer.scroll_into_view_if_needed()
    answer.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(TYPED_CODE)
    page.keyboard.press("Escape")

    menu(page, "Run", "Run All Cells")
    page.wait_for_function(
        """n => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                 .filter(p => /\\[\\d+\\]/.test(p.textContent)).length === n""", arg=code_cells)
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] .jp-RenderedText, "
                          ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    assert errors.count() == 0, errors.first.inner_text()
    page.locator(".jp-CodeCell").filter(has_text="report = evidence.survey(SAMPLE)").first.scroll_into_view_if_needed()
    shots(page, "1_exercise_after_run_all")

    page.locator(".jp-Toolbar-item").get_by_text("Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog").filter(has_text="Validation Results")
    dialog.wait_for()
    assert "Success! Your notebook passes all the tests." in dialog.inner_text()
    shots(page, "2_validate_passes")
    dialog.get_by_role("button", name="Ok").click()
    saved = nbformat.read(course / NOTEBOOK, as_version=4)
    typed = next(c for c in saved.cells if c.metadata.get("nbgrader", {}).get("grade_id") == TYPED_ANSWER)
    assert "header.startswith" in typed.source, "Validate saved the notebook with the typed answer"

    menu(page, "Nbgrader", "Assignment List")
    released = page.locator("#released_assignments_list")
    released.get_by_text(ASSIGNMENT).wait_for()
    shots(page, "3_assignment_list")

    menu(page, "Nbgrader", "Formgrader")
    formgrader = page.frame_locator("#formgrader-iframe iframe")
    formgrader.get_by_text("Manage Assignments").first.wait_for()
    formgrader.get_by_text(ASSIGNMENT).first.wait_for()
    shots(page, "4_formgrader")
