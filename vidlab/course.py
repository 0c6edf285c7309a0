"""Where the course's data lives, and which generated profile a notebook uses."""

from __future__ import annotations

import os
from pathlib import Path

PROFILES = ("tiny", "classroom", "full")
COURSE_DEFAULT_PROFILE = "classroom"


class DataMissingError(FileNotFoundError):
    """The generated data a notebook asks for has not been made yet."""


def default_profile() -> str:
    """The profile notebooks use unless told otherwise: $VIDLAB_PROFILE, else 'classroom'."""
    return os.environ.get("VIDLAB_PROFILE") or COURSE_DEFAULT_PROFILE


def project_root() -> Path:
    """The course folder this toolkit was installed from (holds solutions/, exercises/, grading/)."""
    return Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """Folder holding one sub-folder per generated profile: $VIDLAB_DATA, else synthetic_data/output."""
    override = os.environ.get("VIDLAB_DATA")
    if override:
        return Path(override).expanduser().resolve()
    return project_root() / "synthetic_data" / "output"


def data_dir(profile: str | None = None) -> Path:
    """The generated data of one profile; a clear error if it has not been generated."""
    profile = profile or default_profile()
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    folder = data_root() / profile
    if not (folder / "generation.json").is_file():
        raise DataMissingError(
            f"no generated data for profile {profile!r} in {folder}: "
            f"run `make data PROFILE={profile}` (or `vidlab data generate --profile {profile}`)"
        )
    return folder


def case_dir(profile: str | None = None) -> Path:
    """The trainee-visible case files of a profile (what a seized device would give you)."""
    return data_dir(profile) / "case"


def answer_key_dir(profile: str | None = None) -> Path:
    """Ground truth kept apart from the case files; used by hidden tests and scoring."""
    return data_dir(profile) / "answer_key"


def hint(text: str, title: str = "Hint") -> None:
    """A collapsed box that shows a hint only when the trainee opens it (falls back to plain text)."""
    try:
        import ipywidgets as widgets
        from IPython.display import display
    except ImportError:  # outside Jupyter: just print it
        print(f"{title}: {text}")
        return
    box = widgets.Accordion(children=[widgets.HTML(f"<p>{text}</p>")], selected_index=None)
    box.set_title(0, title)
    display(box)
