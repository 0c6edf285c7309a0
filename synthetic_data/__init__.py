"""Deterministic generator of synthetic, non-abusive case data for VID Lab: same seed and profile, same bytes."""

from importlib import import_module
from typing import Any

_HOME = {
    "NotEnoughDiskError": "build", "OutputNotWritableError": "build", "generate": "build",
    "PROFILE_SPECS": "profiles", "ProfileSpec": "profiles", "UnknownProfileError": "profiles", "get_spec": "profiles",
    "contact_sheet": "summary", "describe": "summary",
}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    """The public names, imported on first use: the builder pulls in video, HEIC and database code that a notebook
    reading only the atlas or a device's tables does not need (about a second per kernel)."""
    if name in _HOME:
        return getattr(import_module(f"synthetic_data.{_HOME[name]}"), name)
    raise AttributeError(f"module 'synthetic_data' has no attribute {name!r}")
