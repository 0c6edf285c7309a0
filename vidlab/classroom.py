"""Running a class: release, collect, autograde, feedback, report, new cohort, trainee pack.

Each step is one call (and one `vidlab course …` verb) over nbgrader's own API, and each
works offline on one machine: without a shared server, exercises go out as one zip per
trainee and come back as zips named after the trainee. Batch steps never stop at the first
bad submission: every trainee gets a row, with the reason when something failed.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import nbformat
import pandas as pd

from vidlab import grading

__all__ = [
    "TRAINEE_ID", "ZIP_NAME", "CollectReport", "release", "collect", "zip_collect", "trainees",
    "autograde", "feedback", "grades", "question_scores", "report", "reset", "trainee_pack",
    "pack_problems", "progress", "schedule", "schedule_markdown", "guide_with_schedule", "handouts",
]

#: A trainee id becomes a folder name in nbgrader's gradebook, so keep it to safe characters.
TRAINEE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
#: Zips go out and come back as ``<assignment>__<trainee>.zip`` (two underscores: names use one).
ZIP_NAME = re.compile(r"(?P<assignment>.+?)__(?P<trainee>[A-Za-z0-9][A-Za-z0-9._-]*?)(?: \(\d+\))?\.zip", re.I)
#: What a trainee pack must never carry: reference solutions, grading state, answer keys, instructor notes.
PACK_EXCLUDED_PARTS = ("solutions", "grading", "answer_key", "instructor", "output", ".git", ".venv")
PACK_PARTS = ("README.md", "Makefile", "pyproject.toml", "requirements.lock", "environment.yml",
              "vidlab", "synthetic_data", "curriculum", "exercises", "docs")
#: nbgrader's placeholder in an unanswered code cell (grading/nbgrader_config.py sets it).
STUB = "raise NotImplementedError()"
#: A report marks a trainee as behind below this share of the autograded points released so far.
BEHIND_SHARE = 0.5


@dataclass
class CollectReport:
    collected: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _check_trainee(trainee: str) -> str:
    if not TRAINEE_ID.fullmatch(trainee):
        raise ValueError(f"trainee id {trainee!r} may hold only letters, digits, '.', '_' and '-'")
    return trainee


def _released_notebooks(root: Path, assignment: str) -> list[Path]:
    folder = root / "exercises" / assignment
    notebooks = sorted(folder.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no released exercise {assignment!r} under {root / 'exercises'}: run `vidlab course build`")
    return notebooks


def release(root: Path, assignment: str, trainees: list[str] | None = None, out: Path | None = None) -> list[Path]:
    """Release an exercise: to nbgrader's exchange, or (with ``out``) as one zip per trainee."""
    notebooks = _released_notebooks(root, assignment)
    if out is None:
        grader = grading.api(root)
        grading._run(f"release_assignment {assignment}", grader.release_assignment(assignment))
        return [Path(grader.config.Exchange.root)]
    if not trainees:
        raise ValueError("name the trainees (one zip each) when releasing to a folder")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for trainee in map(_check_trainee, trainees):
        target = out / f"{assignment}__{trainee}.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as pack:
            for notebook in notebooks:
                pack.write(notebook, f"{assignment}/{notebook.name}")
        written.append(target)
    return written


def collect(root: Path, assignment: str) -> list[str]:
    """Collect submissions from the exchange into grading/submitted; returns who has handed in."""
    grading._run(f"collect {assignment}", grading.api(root).collect(assignment))
    return trainees(root, assignment)


def _zip_timestamp(pack: zipfile.ZipFile, members: list[zipfile.ZipInfo]) -> str:
    newest = max(datetime(*m.date_time) for m in members)
    return newest.replace(tzinfo=timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f %Z")


def zip_collect(root: Path, assignment: str, folder: Path) -> CollectReport:
    """Collect returned zips named ``<assignment>__<trainee>.zip``; the trainee id comes from the name.

    Only the released notebooks are taken from a zip, by file name wherever they sit inside it,
    so a zip can neither write outside the submission folder nor smuggle other files in.
    """
    wanted = {nb.name for nb in _released_notebooks(root, assignment)}
    report = CollectReport()
    for path in sorted(folder.glob("*.zip")):
        name = ZIP_NAME.fullmatch(path.name)
        if not name:
            report.problems.append(f"{path.name}: name is not <assignment>__<trainee>.zip")
            continue
        if name["assignment"] != assignment:
            continue
        trainee = name["trainee"]
        try:
            with zipfile.ZipFile(path) as pack:
                members = [m for m in pack.infolist()
                           if not m.is_dir() and PurePosixPath(m.filename).name in wanted]
                if not members:
                    report.problems.append(f"{path.name}: holds none of {sorted(wanted)}")
                    continue
                target = root / "grading" / "submitted" / trainee / assignment
                if target.exists():
                    shutil.rmtree(target)  # a later zip from the same trainee replaces the earlier one
                target.mkdir(parents=True)
                for member in members:
                    (target / PurePosixPath(member.filename).name).write_bytes(pack.read(member))
                (target / "timestamp.txt").write_text(_zip_timestamp(pack, members))
        except (zipfile.BadZipFile, OSError) as error:
            report.problems.append(f"{path.name}: not a readable zip ({error})")
            continue
        report.collected.append(trainee)
    return report


def trainees(root: Path, assignment: str) -> list[str]:
    """Trainees who have a submission of this assignment waiting in grading/submitted."""
    submitted = root / "grading" / "submitted"
    return sorted(p.parent.name for p in submitted.glob(f"*/{assignment}") if p.is_dir())


def autograde(root: Path, assignment: str, trainee: str | None = None, timeout: int | None = None) -> pd.DataFrame:
    """Autograde one trainee or everyone who handed in; one row each, with the error if grading failed
    and any flags (grading.flags) that say a submission needs opening by hand."""
    grader = grading.api(root, timeout=timeout)
    rows = []
    for who in [trainee] if trainee else trainees(root, assignment):
        submitted = sorted((root / "grading" / "submitted" / who / assignment).glob("*.ipynb"))
        released = {nb: root / "exercises" / assignment / nb.name for nb in submitted}
        reasons = [reason for nb in submitted if released[nb].exists() for reason in grading.flags(nb, released[nb])]
        for nb in submitted:
            if released[nb].exists():
                reasons += [f"{grade_id} is not a cell of the release: graded as plain code"
                            for grade_id in grading.unknown_graded_cells(nb, released[nb])]
        result = grader.autograde(assignment, who, force=True, create=True)
        rows.append({"trainee": who, "graded": bool(result.get("success")),
                     "error": None if result.get("success") else (result.get("error") or "autograde failed").strip()[-500:],
                     "flags": "; ".join(reasons) or None})
    return pd.DataFrame(rows, columns=["trainee", "graded", "error", "flags"])


def feedback(root: Path, assignment: str, trainee: str | None = None, out: Path | None = None) -> list[Path]:
    """HTML feedback without hidden tests; with ``out``, copied there as ``<assignment>__<trainee>.html``."""
    grading._run(f"generate_feedback {assignment}", grading.api(root).generate_feedback(assignment, trainee))
    pages = sorted((root / "grading" / "feedback").glob(f"{trainee or '*'}/{assignment}/*.html"))
    if out is None:
        return pages
    out.mkdir(parents=True, exist_ok=True)
    copied = []
    for page in pages:
        who = page.parent.parent.name
        target = out / (f"{assignment}__{who}.html" if len(list(page.parent.glob("*.html"))) == 1
                        else f"{assignment}__{who}__{page.name}")
        shutil.copy2(page, target)
        copied.append(target)
    return copied


def grades(root: Path) -> pd.DataFrame:
    """Every graded submission: trainee, assignment, total and autograded points, share of the autograded."""
    grader = grading.api(root)
    rows = []
    with grader.gradebook as book:
        for assignment in book.assignments:
            for sub in book.assignment_submissions(assignment.name):
                rows.append({
                    "trainee": sub.student.id, "assignment": assignment.name,
                    "score": float(sub.score), "max_score": float(sub.max_score),
                    "code_score": float(sub.code_score), "max_code_score": float(sub.max_code_score),
                    "needs_manual_grade": bool(sub.needs_manual_grade),
                })
    table = pd.DataFrame(rows, columns=["trainee", "assignment", "score", "max_score", "code_score",
                                        "max_code_score", "needs_manual_grade"])
    table["share"] = (table["code_score"] / table["max_code_score"]).where(table["max_code_score"] > 0)
    return table.sort_values(["assignment", "trainee"], ignore_index=True)


def question_scores(root: Path) -> pd.DataFrame:
    """Points per graded cell per trainee: the raw material of a question-difficulty plot."""
    grader = grading.api(root)
    rows = []
    with grader.gradebook as book:
        for assignment in book.assignments:
            for sub in book.assignment_submissions(assignment.name):
                for notebook in sub.notebooks:
                    for grade in notebook.grades:
                        rows.append({"trainee": sub.student.id, "assignment": assignment.name,
                                     "question": grade.name, "autograded": grade.cell_type == "code",
                                     "score": float(grade.score), "max_score": float(grade.max_score)})
    return pd.DataFrame(rows, columns=["trainee", "assignment", "question", "autograded", "score", "max_score"])


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figures(table: pd.DataFrame, questions: pd.DataFrame) -> dict[str, str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = {}
    by_session = table.groupby("assignment")["share"].agg(["mean", "min", "max"]) * 100
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(by_session) + 1.2))
    ax.barh(by_session.index, by_session["mean"], color="#4c72b0")
    ax.errorbar(by_session["mean"], by_session.index, fmt="none", ecolor="black",
                xerr=[by_session["mean"] - by_session["min"], by_session["max"] - by_session["mean"]])
    ax.set(xlim=(0, 100), xlabel="autograded score, % (bar: class mean; line: lowest to highest)", title="Scores per session")
    figures["Scores per session"] = _png(fig)
    plt.close(fig)

    auto = questions[questions["autograded"] & (questions["max_score"] > 0)]
    difficulty = (auto.groupby(["assignment", "question"])["score"].sum()
                  / auto.groupby(["assignment", "question"])["max_score"].sum() * 100).sort_values()
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(difficulty) + 1.2))
    ax.barh([f"{a} · {q}" for a, q in difficulty.index], difficulty.values, color="#dd8452")
    ax.set(xlim=(0, 100), xlabel="points earned by the class, % of possible", title="Question difficulty (hardest first)")
    figures["Question difficulty"] = _png(fig)
    plt.close(fig)

    per_trainee = table.groupby("trainee")[["code_score", "max_code_score"]].sum()
    share = (per_trainee["code_score"] / per_trainee["max_code_score"] * 100).sort_values()
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(share) + 1.2))
    ax.barh(share.index, share.values, color=["#c44e52" if s < BEHIND_SHARE * 100 else "#55a868" for s in share])
    ax.axvline(BEHIND_SHARE * 100, color="black", linestyle=":")
    ax.set(xlim=(0, 100), xlabel="autograded score over all sessions handed in, %", title="Who is behind (red)")
    figures["Who is behind"] = _png(fig)
    plt.close(fig)
    return figures


def report(root: Path, out: Path) -> dict[str, Path]:
    """Write grades.csv, questions.csv and a class report (report.html, plots embedded) into ``out``."""
    table, questions = grades(root), question_scores(root)
    if table.empty:
        raise ValueError("nothing graded yet: autograde some submissions first")
    out.mkdir(parents=True, exist_ok=True)
    paths = {"grades": out / "grades.csv", "questions": out / "questions.csv", "report": out / "report.html"}
    table.to_csv(paths["grades"], index=False)
    questions.to_csv(paths["questions"], index=False)
    wide = table.pivot_table(index="trainee", columns="assignment", values="share", aggfunc="first") * 100
    sections = "".join(f'<h2>{title}</h2><img alt="{title}" src="data:image/png;base64,{png}">'
                       for title, png in _figures(table, questions).items())
    waiting = table[table["needs_manual_grade"]]
    paths["report"].write_text(
        "<!doctype html><meta charset='utf-8'><title>VID Lab class report</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}</style>"
        "<h1>VID Lab class report</h1>"
        f"<p>{table['trainee'].nunique()} trainees, {table['assignment'].nunique()} sessions graded; "
        f"{len(waiting)} submissions still need a written answer marked by hand.</p>"
        f"{sections}<h2>Autograded score, % per trainee and session</h2>{wide.round(0).to_html(na_rep='—')}",
        encoding="utf-8",
    )
    return paths


def reset(root: Path) -> Path | None:
    """Start a new cohort: move submissions, grades, feedback and the exchange into grading/archive/<time>."""
    parts = [root / "grading" / p for p in ("submitted", "autograded", "feedback", "released_solutions",
                                            "exchange", "gradebook.db")]
    present = [p for p in parts if p.exists()]
    if not present:
        return None
    archive = root / "grading" / "archive" / datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    archive.mkdir(parents=True)
    for part in present:
        shutil.move(str(part), archive / part.name)
    return archive


def _pack_files(root: Path) -> list[Path]:
    files = []
    for part in PACK_PARTS:
        base = root / part
        candidates = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in candidates:
            relative = path.relative_to(root)
            if any(piece in PACK_EXCLUDED_PARTS or piece == "__pycache__" or piece.startswith(".")
                   for piece in relative.parts):
                continue
            files.append(path)
    return files


def trainee_pack(root: Path, out: Path) -> Path:
    """A zip for a trainee: exercises, curriculum, toolkit and generator; no solutions, answer keys or grading."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as pack:
        for path in _pack_files(root):
            pack.write(path, f"vidlab-course/{path.relative_to(root).as_posix()}")
    problems = pack_problems(partial)
    if problems:
        partial.unlink()
        raise RuntimeError("trainee pack would leak: " + "; ".join(problems[:5]))
    partial.replace(out)
    return out


def pack_problems(pack: Path) -> list[str]:
    """What in a trainee zip a trainee must not have: solution or hidden-test text, answer keys, grading state."""
    problems = []
    with zipfile.ZipFile(pack) as archive:
        for name in archive.namelist():
            parts = PurePosixPath(name).parts
            if any(piece in PACK_EXCLUDED_PARTS for piece in parts[1:]):
                problems.append(f"{name}: excluded folder")
            elif name.endswith(".ipynb"):
                text = archive.read(name).decode("utf-8", errors="replace")
                problems += [f"{name}: {marker}" for marker in grading.HIDDEN_MARKERS if marker in text]
    return problems


def _answers(nb: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]


def _untouched(nb: nbformat.NotebookNode, released: Path | None) -> bool:
    """No answer written yet: answers as released, or (with no release to compare) every code answer still a stub."""
    if released is not None and released.exists():
        return _answers(nb) == _answers(nbformat.read(released, as_version=4))
    code = [c.source for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    return bool(code) and all(STUB in source for source in code)


def _status(root: Path, notebook: Path, released: Path | None) -> tuple[str, int, int, str]:
    from nbgrader.validator import Validator

    nb = nbformat.read(notebook, as_version=4)
    if _untouched(nb, released):
        return "to do", 0, 0, ""
    checks = sum(1 for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade"))
    try:
        result = Validator(config=grading.config(root)).validate(str(notebook))
    except Exception as error:  # a notebook that cannot even be run still gets its row
        return "done, not passing", 0, checks, f"{type(error).__name__}: {error}"
    if result.get("changed") or result.get("type_changed"):
        return "locked cell edited", 0, checks, "a cell that should not be edited was changed: restore it from the release"
    failed = len(result.get("failed", []))
    return ("passing" if not failed else "done, not passing"), checks - failed, failed, ""


def progress(root: Path, work: Path, released: Path | None = None) -> pd.DataFrame:
    """Self-study progress: each exercise notebook in ``work`` as to do, done (not passing) or passing.

    A notebook whose answers are unchanged from the release (or, with no release given, still
    nbgrader's stubs) is "to do"; otherwise nbgrader's validator runs it and counts the visible
    checks that pass.
    """
    rows = []
    for notebook in sorted(work.glob("*/*.ipynb")):
        if ".ipynb_checkpoints" in notebook.parts:
            continue
        original = released / notebook.parent.name / notebook.name if released else None
        status, passed, failed, error = _status(root, notebook, original)
        rows.append({"assignment": notebook.parent.name, "notebook": notebook.name, "status": status,
                     "checks_passed": passed, "checks_failed": failed, "error": error or None})
    return pd.DataFrame(rows, columns=["assignment", "notebook", "status", "checks_passed", "checks_failed", "error"])


def schedule(root: Path) -> pd.DataFrame:
    """The week from the curriculum notebooks' own front matter: day, session, title, minutes."""
    rows = []
    for notebook in sorted((root / "curriculum").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in notebook.parts:
            continue
        front = nbformat.read(notebook, as_version=4).metadata.get("vidlab", {})
        rows.append({"day": front.get("day"), "session": front.get("session"), "title": front.get("title"),
                     "teaching_minutes": front.get("teaching_minutes", 0),
                     "exercise_minutes": front.get("exercise_minutes", 0),
                     "notebook": notebook.relative_to(root).as_posix()})
    table = pd.DataFrame(rows, columns=["day", "session", "title", "teaching_minutes", "exercise_minutes", "notebook"])
    table["minutes"] = table["teaching_minutes"] + table["exercise_minutes"]
    return table.sort_values(["day", "session"], ignore_index=True)


def _clock(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60:02d} min"


def schedule_markdown(root: Path) -> str:
    """The five-day schedule as Markdown tables, one per day, with day totals (for the instructor guide)."""
    parts = []
    for day, sessions in schedule(root).groupby("day", sort=True):
        parts.append(f"### Day {day} — {_clock(int(sessions['minutes'].sum()))} of sessions\n")
        parts.append("| # | session | teaching | exercises | notebook |\n|---|---|---|---|---|")
        for row in sessions.itertuples():
            parts.append(f"| {day}.{row.session} | {row.title} | {row.teaching_minutes} min | "
                         f"{row.exercise_minutes} min | `{row.notebook}` |")
        parts.append("")
    return "\n".join(parts)


SCHEDULE_MARKERS = ("<!-- schedule:start -->", "<!-- schedule:end -->")


def guide_with_schedule(guide_text: str, schedule_text: str) -> str:
    """The instructor guide's text with the generated schedule between its two markers."""
    start, end = SCHEDULE_MARKERS
    if start not in guide_text or end not in guide_text:
        raise ValueError(f"the instructor guide has lost its {start} … {end} markers")
    head, rest = guide_text.split(start, 1)
    return f"{head}{start}\n{schedule_text}\n{end}{rest.split(end, 1)[1]}"


def handouts(root: Path, out: Path, profile: str = "classroom", names: list[str] | None = None,
             timeout: int = 600) -> pd.DataFrame:
    """Run curriculum notebooks on a profile with papermill and save each as self-contained HTML.

    Images are embedded in the page, so the handout reads offline without Jupyter. One row per
    notebook; a notebook that fails still gets its page (showing where it stopped) and its error.
    """
    import papermill
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(embed_images=True)
    rows = []
    for notebook in sorted((root / "curriculum").rglob("*.ipynb")):
        if names and notebook.stem not in names or ".ipynb_checkpoints" in notebook.parts:
            continue
        executed = out / f".{notebook.stem}.executed.ipynb"
        error = None
        try:
            papermill.execute_notebook(str(notebook), str(executed), parameters={"PROFILE": profile},
                                       kernel_name="python3", cwd=str(notebook.parent),
                                       progress_bar=False, execution_timeout=timeout)
        except Exception as failure:  # papermill still wrote the notebook up to the failing cell
            error = f"{type(failure).__name__}: {str(failure).strip().splitlines()[-1] if str(failure).strip() else ''}"
        page = out / f"{notebook.stem}.html"
        if executed.exists():
            body, _ = exporter.from_filename(str(executed))
            page.write_text(body, encoding="utf-8")
            executed.unlink()
        rows.append({"notebook": notebook.stem, "html": page if page.exists() else None, "error": error})
    return pd.DataFrame(rows, columns=["notebook", "html", "error"])
