"""Every course notebook runs top to bottom on the tiny data, and every committed one is clean."""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
import pytest

from vidlab import grading

from conftest import ROOT

RUN_NOTEBOOKS = sorted((ROOT / "curriculum").rglob("*.ipynb")) + sorted((ROOT / "solutions").rglob("*.ipynb"))
COMMITTED_NOTEBOOKS = RUN_NOTEBOOKS + sorted((ROOT / "exercises").rglob("*.ipynb"))
FRONT_MATTER = ("day", "session", "title", "teaching_minutes", "exercise_minutes", "questions", "objectives", "keypoints")


def ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def test_the_course_has_notebooks():
    assert RUN_NOTEBOOKS, "no notebooks found under curriculum/ or solutions/"


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", RUN_NOTEBOOKS, ids=ids(RUN_NOTEBOOKS))
def test_notebook_runs_on_tiny(notebook: Path, tiny_data, tmp_path):
    papermill.execute_notebook(
        str(notebook), str(tmp_path / notebook.name),
        parameters={"PROFILE": "tiny"}, kernel_name="python3",
        cwd=str(notebook.parent), progress_bar=False, execution_timeout=300,
    )


@pytest.mark.parametrize("notebook", COMMITTED_NOTEBOOKS, ids=ids(COMMITTED_NOTEBOOKS))
def test_committed_notebook_is_clean(notebook: Path):
    assert grading.is_clean(notebook), f"{notebook.name} carries outputs: clear them before committing"
    nb = nbformat.read(notebook, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("notebook", RUN_NOTEBOOKS, ids=ids(RUN_NOTEBOOKS))
def test_notebook_has_parameters_and_front_matter(notebook: Path):
    nb = nbformat.read(notebook, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and "PROFILE" in tagged[0].source, "one cell tagged `parameters` must set PROFILE"
    front = nb.metadata.get("vidlab", {})
    missing = [key for key in FRONT_MATTER if not front.get(key)]
    assert not missing, f"notebook metadata 'vidlab' lacks {missing}"
    assert front["title"] in nb.cells[0].source, "the first cell should show the session title"


def test_every_assignment_mirrors_a_curriculum_session():
    sessions = {p.stem for p in (ROOT / "curriculum").rglob("*.ipynb")}
    for name in grading.assignments(ROOT):
        assert name in sessions, f"solutions/{name} has no curriculum notebook of the same name"
