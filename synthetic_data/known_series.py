"""The case database of previously identified series, as the generator writes it: through vidlab.casedb.

The generator and the toolkit share one schema and one VICS layout: this module only keeps the generator's two
entry points. Both outputs are deterministic (same series in, same bytes out): SQLite with a fixed page size, no
journal left behind and VACUUM at the end; JSON with a fixed key order. Hashes are lower-case in SQLite and
MD5/SHA-1/SHA-256 upper-case in the JSON, as the real tools write them, so trainees meet both spellings.
The VICS layout and field mapping are described in vidlab/casedb.py and docs/casedb.md.
"""

from __future__ import annotations

from pathlib import Path

from vidlab.casedb import (
    KNOWN_SERIES_CATEGORY, DeviceSerial, KnownFile, KnownSeries, Submission, check_series, write_database, write_vics,
)

__all__ = ["KnownFile", "KnownSeries", "Submission", "DeviceSerial", "KNOWN_SERIES_CATEGORY", "check_series",
           "write_known_series_db", "write_vics_json"]


def write_known_series_db(path: Path, series: list[KnownSeries]) -> None:
    """Write the known-series SQLite database (schema of vidlab.casedb), replacing an earlier one."""
    check_series(series)
    write_database(path, series)


def write_vics_json(path: Path, series: list[KnownSeries]) -> None:
    """Write the known files as a VICS-style JSON hash set (UTF-8, two-space indent, fixed key order)."""
    write_vics(path, series)
