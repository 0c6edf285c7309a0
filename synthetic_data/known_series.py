"""The case database of previously identified series: an SQLite file and the same hash set as VICS-style JSON.

Both are written deterministically: same series in, same bytes out (SQLite with a fixed page size, no journal
left behind, and VACUUM at the end; JSON with a fixed key order). Hashes are stored lower-case in SQLite and
upper-case in the JSON, as the real tools do, so trainees meet both spellings.

The JSON follows the Project VIC "VICS" data model 2.0 as hash sets are exchanged: an OData document whose
"@odata.context" names the model and whose "value" is the list of media, each with MediaID, Category, MD5,
SHA1, MediaSize, Series, IsDistributed, DateUpdated, MimeType and a MediaFiles list of file names. Field names
were checked against public VICS writers and readers (a forensic tool's VICS 2.0 exporter and published
structure dumps of VICS hash sets). PDQ is not a VICS field: it is added as "PDQ" beside them, in the same
PascalCase style as VICS's own "PhotoDNA", and is null until the toolkit computes PDQ hashes.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

VICS_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"
# VICS category numbers are set per agency scheme (US, Canada, UK); in this course 1 marks "file of a known series".
KNOWN_SERIES_CATEGORY = 1
SCHEMA_VERSION = 1
PAGE_SIZE = 4096
MIME_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".heic": "image/heic",
              ".gif": "image/gif", ".webp": "image/webp", ".mp4": "video/mp4", ".mov": "video/quicktime"}
HEX = {"md5": 32, "sha1": 40, "pdq": 64}
SCHEMA = """
CREATE TABLE series (
    series_id  TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    country    TEXT NOT NULL,
    first_seen TEXT NOT NULL            -- ISO date the series was first reported
);
CREATE TABLE files (
    file_id    INTEGER PRIMARY KEY,
    series_id  TEXT NOT NULL REFERENCES series(series_id),
    name       TEXT NOT NULL,
    md5        TEXT NOT NULL,           -- lower-case hex
    sha1       TEXT NOT NULL,           -- lower-case hex
    size       INTEGER NOT NULL,
    pdq        TEXT                     -- 64 hex digits (256-bit PDQ), NULL until computed
);
CREATE INDEX files_md5 ON files(md5);
CREATE INDEX files_sha1 ON files(sha1);
CREATE INDEX files_series ON files(series_id);
"""


@dataclass(frozen=True)
class KnownFile:
    """One file of a known series as the database records it."""

    name: str
    md5: str
    sha1: str
    size: int
    pdq: str | None


@dataclass(frozen=True)
class KnownSeries:
    """A previously identified series: id, label, reporting country, first-seen date and its files."""

    series_id: str
    label: str
    country: str
    first_seen: str
    files: tuple[KnownFile, ...]


def check_series(series: list[KnownSeries]) -> None:
    """Refuse input the database would store wrongly: duplicate ids, bad dates, malformed hashes or sizes."""
    seen: set[str] = set()
    for entry in series:
        if entry.series_id in seen:
            raise ValueError(f"series id {entry.series_id!r} appears twice")
        seen.add(entry.series_id)
        try:
            date.fromisoformat(entry.first_seen)
        except (TypeError, ValueError):
            message = f"series {entry.series_id!r}: first_seen {entry.first_seen!r} is not an ISO date"
            raise ValueError(message) from None
        for known in entry.files:
            for field, digits in HEX.items():
                value = getattr(known, field)
                if (value is not None or field != "pdq") and not re.fullmatch(f"[0-9a-fA-F]{{{digits}}}", str(value)):
                    raise ValueError(f"series {entry.series_id!r}, file {known.name!r}: {field} {value!r} "
                                     f"is not {digits} hex digits")
            if not isinstance(known.size, int) or known.size < 0:
                raise ValueError(f"series {entry.series_id!r}, file {known.name!r}: "
                                 f"size {known.size!r} is not a byte count")


def write_known_series_db(path: Path, series: list[KnownSeries]) -> None:
    """Write the known-series SQLite database (tables series and files, indexed by MD5, SHA-1 and series)."""
    check_series(series)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a fresh file: SQLite would otherwise reuse pages in whatever order they were
    connection = sqlite3.connect(path)
    try:
        connection.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        with connection:
            connection.executescript(SCHEMA)
            connection.executemany("INSERT INTO series VALUES (?, ?, ?, ?)",
                                   [(s.series_id, s.label, s.country, s.first_seen) for s in series])
            connection.executemany(
                "INSERT INTO files (series_id, name, md5, sha1, size, pdq) VALUES (?, ?, ?, ?, ?, ?)",
                [(s.series_id, f.name, f.md5.lower(), f.sha1.lower(), f.size, f.pdq.lower() if f.pdq else None)
                 for s in series for f in s.files],
            )
        connection.execute("VACUUM")  # pack pages in a canonical order
    finally:
        connection.close()


def vics_media(series: list[KnownSeries]) -> list[dict[str, Any]]:
    """The VICS media entries of every file, numbered from 1 in input order."""
    media = []
    for entry in series:
        for known in entry.files:
            media.append({
                "MediaID": len(media) + 1,
                "Category": KNOWN_SERIES_CATEGORY,
                "MD5": known.md5.upper(),
                "SHA1": known.sha1.upper(),
                "MediaSize": known.size,
                "Series": entry.series_id,
                "IsDistributed": True,  # a known series is one that has circulated between cases
                "DateUpdated": f"{entry.first_seen}T00:00:00Z",
                "MimeType": MIME_TYPES.get(PurePosixPath(known.name).suffix.lower(), "application/octet-stream"),
                "MediaFiles": [{"MD5": known.md5.upper(), "FileName": known.name}],
                "PDQ": known.pdq.lower() if known.pdq else None,
            })
    return media


def write_vics_json(path: Path, series: list[KnownSeries]) -> None:
    """Write the known files as a VICS-style JSON hash set (UTF-8, two-space indent, fixed key order)."""
    check_series(series)
    document = {"@odata.context": VICS_CONTEXT, "value": vics_media(series)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8", newline="\n")
