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
    # The world of series (synthetic_data.world): how many, how big, how many shots, submitters and extras.
    series: int = 14
    long_side: int | None = 480  # photos are written at most this wide (None: at the sensor's native size)
    shots: tuple[int, int] = (3, 5)  # shots per series
    countries: int = 3  # submitting countries
    seized_per_country: tuple[int, int] = (2, 2)
    os_files: int = 6  # OS and application files per seized phone or computer
    disk_images: int = 1
    disk_image_mb: int = 2
    videos: int = 2
    video_size: tuple[int, int] = (160, 96)
    video_seconds: float = 2.0
    video_fps: int = 8
    audio: int = 2
    audio_seconds: float = 3.0
    known_share: float = 0.2  # share of series already in the known-series database
    backup_share: float = 0.3  # series whose originals sit on two seized devices (card and computer)
    estimated_mb: int = 30  # free disk space wanted before starting


PROFILE_SPECS: dict[str, ProfileSpec] = {
    "tiny": ProfileSpec(
        name="tiny", image_size=(320, 240),
        jpegs=4, pngs=2, gifs=1, tiffs=1, heics=1, webps=1, bmps=1, pdfs=1, zips=1, text_files=3,
    ),
    "classroom": ProfileSpec(
        name="classroom", image_size=(1600, 1200),
        jpegs=24, pngs=6, gifs=2, tiffs=2, heics=4, webps=3, bmps=1, pdfs=2, zips=2, text_files=6,
        series=130, long_side=1600, shots=(10, 22), backup_share=0.15, countries=10, seized_per_country=(3, 4), os_files=40,
        disk_images=3, disk_image_mb=48, videos=12, video_size=(640, 360), video_seconds=3.0, video_fps=10,
        audio=12, audio_seconds=20.0, estimated_mb=1500,
    ),
    "full": ProfileSpec(
        name="full", image_size=(1600, 1200),
        jpegs=90, pngs=20, gifs=6, tiffs=5, heics=15, webps=10, bmps=3, pdfs=6, zips=4, text_files=24,
        large_jpegs=10,
        # About 22 GB (20.3 GiB): 15 GB of series files (originals on both card and computer wherever a country
        # seized both), 6.4 GB of wiped USB-stick images to carve, 0.35 GB of OS and application files.
        series=130, long_side=None, shots=(26, 40), backup_share=1.0, countries=12, seized_per_country=(4, 5), os_files=150,
        disk_images=4, disk_image_mb=1536, videos=30, video_size=(1280, 720), video_seconds=5.0, video_fps=10,
        audio=30, audio_seconds=60.0, estimated_mb=22500,
    ),
}


def get_spec(name: str) -> ProfileSpec:
    """The spec of a profile by name, or an error that lists the profiles there are."""
    try:
        return PROFILE_SPECS[name]
    except (KeyError, TypeError):
        raise UnknownProfileError(f"unknown profile {name!r}: choose one of {', '.join(PROFILES)}") from None
