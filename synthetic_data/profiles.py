"""How much data each profile generates: tiny for CI, classroom for the course week, full for the capstone."""

from __future__ import annotations

from dataclasses import dataclass

from vidlab.course import PROFILES

DEFAULT_SEED = 20261125


class UnknownProfileError(ValueError):
    """A profile name that is not one of vidlab.course.PROFILES."""


@dataclass(frozen=True)
class ProfileSpec:
    """Sizes and file counts of one profile; the awkward files (liars, truncated, empty) come on top."""

    name: str
    image_size: tuple[int, int]
    jpegs: int
    pngs: int
    gifs: int
    tiffs: int
    heics: int
    webps: int
    bmps: int
    pdfs: int
    zips: int
    text_files: int
    large_jpegs: int = 0
    large_image_size: tuple[int, int] = (4000, 3000)
    seed: int = DEFAULT_SEED


PROFILE_SPECS: dict[str, ProfileSpec] = {
    "tiny": ProfileSpec(
        name="tiny", image_size=(320, 240),
        jpegs=4, pngs=2, gifs=1, tiffs=1, heics=1, webps=1, bmps=1, pdfs=1, zips=1, text_files=3,
    ),
    "classroom": ProfileSpec(
        name="classroom", image_size=(1600, 1200),
        jpegs=24, pngs=6, gifs=2, tiffs=2, heics=4, webps=3, bmps=1, pdfs=2, zips=2, text_files=6,
    ),
    "full": ProfileSpec(
        name="full", image_size=(1600, 1200),
        jpegs=90, pngs=20, gifs=6, tiffs=5, heics=15, webps=10, bmps=3, pdfs=6, zips=4, text_files=24,
        large_jpegs=10,
    ),
}


def get_spec(name: str) -> ProfileSpec:
    """The spec of a profile by name, or an error that lists the profiles there are."""
    try:
        return PROFILE_SPECS[name]
    except (KeyError, TypeError):
        raise UnknownProfileError(f"unknown profile {name!r}: choose one of {', '.join(PROFILES)}") from None
