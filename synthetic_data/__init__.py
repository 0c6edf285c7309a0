"""Deterministic generator of synthetic, non-abusive case data for VID Lab: same seed and profile, same bytes."""

from synthetic_data.build import NotEnoughDiskError, OutputNotWritableError, generate
from synthetic_data.profiles import PROFILE_SPECS, ProfileSpec, UnknownProfileError, get_spec
from synthetic_data.summary import contact_sheet, describe

__all__ = [
    "PROFILE_SPECS", "NotEnoughDiskError", "OutputNotWritableError", "ProfileSpec", "UnknownProfileError",
    "contact_sheet", "describe", "generate", "get_spec",
]
