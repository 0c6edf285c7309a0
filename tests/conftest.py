"""Shared test set-up: Jupyter's dirs inside the project, the tiny data, the course root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vidlab import course, lab

ROOT = course.project_root()
FIXTURES = Path(__file__).parent / "fixtures"

# Same isolation as the `vidlab` command: kernels and nbgrader find the project's dirs, not $HOME's.
lab.use_project_dirs(ROOT)
os.environ.setdefault("VIDLAB_PROFILE", "tiny")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def tiny_data() -> Path:
    """The tiny profile's data folder (`make test` generates it before pytest starts)."""
    import synthetic_data

    return synthetic_data.generate("tiny", progress=False)


@pytest.fixture(scope="session")
def real_samples() -> Path:
    """The real camera files for `realdata` tests; skipped, with the reason, when not provided."""
    folder = os.environ.get("VIDLAB_REAL_SAMPLES")
    if not folder:
        pytest.skip("VIDLAB_REAL_SAMPLES is not set (CI sets it when ../shared/real-exif-samples exists)")
    return Path(folder)
