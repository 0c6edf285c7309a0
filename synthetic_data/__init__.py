"""Deterministic generator of synthetic, non-abusive case data for VID Lab: same seed and profile, same bytes."""

from synthetic_data.build import generate
from synthetic_data.profiles import PROFILE_SPECS, ProfileSpec, UnknownProfileError, get_spec

__all__ = ["PROFILE_SPECS", "ProfileSpec", "UnknownProfileError", "generate", "get_spec"]
