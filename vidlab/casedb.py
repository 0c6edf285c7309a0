"""The known-series database: series identified before, their files' hashes, device serials and who submitted them.

One SQLite file (embedded: no server), at a path you choose or, by default, ``$VIDLAB_CASEDB`` else
``<data root>/casedb.sqlite`` (see ``default_db_path``). Tables ``series``, ``media``, ``device_serials`` and
``submissions`` (SCHEMA below; reference in docs/casedb.md). Hashes are kept lower-case.

Writes are transactional: one transaction per import, so an import that fails or is killed half-way leaves the
database as it was (a new database is built beside and renamed into place). A file that is not a case database
is refused before anything is written to it.

Hash sets travel as Project VIC "VICS" 2.0 JSON (``import_vics`` / ``export_vics``): an OData document whose
``value`` lists Media records (MediaID, Category, MD5, SHA1, MediaSize, Series, VictimIdentified, DateUpdated,
MimeType, MediaFiles), plus SHA256 and PDQ beside them and the series facts VICS has no place for (label,
country, status, submissions, serials) in a top-level ``@vidlab.series`` annotation, which VICS readers skip.

``match_inventory`` checks a case inventory (vidlab.scan's Parquet) against the database: exact hash matches
(DuckDB over the Parquet, SQLite's indexes for the known side: neither is loaded whole), near-duplicates by PDQ
(vidlab.similarity.find_matches), and a de-confliction report: the known series found, who submitted them and
their status, and material that several countries in this case submitted.
"""

from __future__ import annotations

import glob
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from vidlab import course
from vidlab.clustering import PICTURE_KINDS
from vidlab.evidence import PathLike
from vidlab.similarity import find_matches, near_duplicates, usable

__all__ = [
    "KnownFile", "KnownSeries", "Submission", "DeviceSerial", "MatchReport", "STATUSES", "SCHEMA",
    "NotACaseDatabaseError", "VicsFormatError", "default_db_path", "check_series", "write_database", "add_series",
    "read_series", "series_table", "media_table", "set_status", "add_submission", "vics_document", "write_vics",
    "parse_vics", "import_vics", "export_vics", "match_inventory", "case_country",
]

#: A series is `new` (submitted, not yet assessed), `known` (seen in earlier cases) or `identified` (victim
#: identified). The order matters: merging two records of one series keeps the furthest status.
STATUSES: tuple[str, ...] = ("new", "known", "identified")
SCHEMA_VERSION = 2
APPLICATION_ID = 0x5649444C  # "VIDL": marks the file as a VID Lab case database
PAGE_SIZE = 4096
SQLITE_MAGIC = b"SQLite format 3\x00"
VICS_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"
SERIES_ANNOTATION = "@vidlab.series"
# VICS category numbers are set per agency scheme (US, Canada, UK); in this course 1 marks "file of a known series".
KNOWN_SERIES_CATEGORY = 1
MIME_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".heic": "image/heic",
              ".gif": "image/gif", ".webp": "image/webp", ".mp4": "video/mp4", ".mov": "video/quicktime"}
HEX_DIGITS = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}
#: What a series is made of in a case: material that links countries when it turns up in more than one submission
#: (identical OS files on every seized computer must not).
SERIES_KINDS = PICTURE_KINDS | {"mp4", "avi"}
# submissions/<CC>/<CC>-01-windows/…: the country folder, recognised by the evidence items named after it
_COUNTRY_FOLDER = re.compile(r"(?:^|/)([A-Z]{2})/\1-")
SCHEMA = """
CREATE TABLE series (
    series_id  TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    country    TEXT NOT NULL,            -- ISO 3166 code of the country that first submitted it
    first_seen TEXT NOT NULL,            -- ISO date it was first reported
    status     TEXT NOT NULL CHECK (status IN ('new', 'known', 'identified'))
);
CREATE TABLE media (
    media_id   INTEGER PRIMARY KEY,
    series_id  TEXT NOT NULL REFERENCES series(series_id),
    name       TEXT NOT NULL,            -- file name as submitted
    md5        TEXT NOT NULL,            -- lower-case hex, as every hash here
    sha1       TEXT,
    sha256     TEXT,
    size       INTEGER NOT NULL,
    pdq        TEXT,                     -- 64 hex digits (256-bit PDQ), NULL until computed
    category   INTEGER,                  -- VICS category of the submitting agency's scheme
    UNIQUE (series_id, md5)
);
CREATE INDEX media_md5 ON media(md5);
CREATE INDEX media_sha1 ON media(sha1);
CREATE INDEX media_sha256 ON media(sha256);
CREATE TABLE device_serials (
    series_id  TEXT NOT NULL REFERENCES series(series_id),
    serial     TEXT NOT NULL,            -- body serial of a camera seen in the series
    make       TEXT NOT NULL,
    model      TEXT NOT NULL,
    PRIMARY KEY (series_id, serial)
);
CREATE TABLE submissions (
    series_id  TEXT NOT NULL REFERENCES series(series_id),
    country    TEXT NOT NULL,            -- a country that submitted the series (several can)
    submitted  TEXT NOT NULL,            -- ISO date
    PRIMARY KEY (series_id, country)
);
"""


class NotACaseDatabaseError(ValueError):
    """The file is not a known-series database this toolkit can use; it was left untouched."""


class VicsFormatError(ValueError):
    """A VICS file has a missing or mistyped field; the message names the record and the field."""


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class KnownFile:
    """One file of a known series as the database records it (hashes in hex, either case)."""

    name: str
    md5: str
    sha1: str | None
    size: int
    pdq: str | None = None
    sha256: str | None = None
    category: int | None = KNOWN_SERIES_CATEGORY


@dataclass(frozen=True)
class Submission:
    """A country that submitted a series, and when (ISO date)."""

    country: str
    date: str


@dataclass(frozen=True)
class DeviceSerial:
    """A camera seen in a series, by body serial (compare as text: serials can have leading zeros)."""

    serial: str
    make: str = ""
    model: str = ""


@dataclass(frozen=True)
class KnownSeries:
    """A series in the database: id, label, first submitting country, first-seen date, files, status, every
    submission (the first country's is implied when not listed) and device serials."""

    series_id: str
    label: str
    country: str
    first_seen: str
    files: tuple[KnownFile, ...]
    status: str = "known"
    submissions: tuple[Submission, ...] = ()
    serials: tuple[DeviceSerial, ...] = ()


def _normalised(entry: KnownSeries) -> KnownSeries:
    """The series as the database returns it: submissions include the first country's, in date order."""
    submissions = {s.country: s for s in entry.submissions}
    submissions.setdefault(entry.country, Submission(entry.country, entry.first_seen))
    return KnownSeries(entry.series_id, entry.label, entry.country, entry.first_seen, tuple(entry.files),
                       entry.status, tuple(sorted(submissions.values(), key=lambda s: (s.date, s.country))),
                       tuple(sorted(entry.serials, key=lambda d: d.serial)))


def _is_iso_date(text: object) -> bool:
    try:
        date.fromisoformat(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return len(str(text)) == 10


def _check_one(entry: KnownSeries) -> None:
    """Refuse a series the database would store wrongly: bad dates, status, hashes or sizes."""
    where = f"series {entry.series_id!r}"
    if not isinstance(entry.series_id, str) or not entry.series_id:
        raise ValueError(f"{where}: the series id must be non-empty text")
    if not _is_iso_date(entry.first_seen):
        raise ValueError(f"{where}: first_seen {entry.first_seen!r} is not an ISO date (YYYY-MM-DD)")
    if entry.status not in STATUSES:
        raise ValueError(f"{where}: status {entry.status!r} is not one of {', '.join(STATUSES)}")
    if not isinstance(entry.country, str) or not entry.country:
        raise ValueError(f"{where}: the submitting country must be non-empty text")
    for submission in entry.submissions:
        if not submission.country or not _is_iso_date(submission.date):
            raise ValueError(f"{where}: submission {submission!r} needs a country and an ISO date")
    for known in entry.files:
        for name, digits in HEX_DIGITS.items():
            value = getattr(known, name)
            if (value is not None or name == "md5") and not re.fullmatch(f"[0-9a-fA-F]{{{digits}}}", str(value)):
                raise ValueError(f"{where}, file {known.name!r}: {name} {value!r} is not {digits} hex digits")
        if isinstance(known.size, bool) or not isinstance(known.size, int) or known.size < 0:
            raise ValueError(f"{where}, file {known.name!r}: size {known.size!r} is not a byte count")


def check_series(series: Iterable[KnownSeries]) -> None:
    """Refuse input the database would store wrongly: duplicate ids, bad dates, malformed hashes or sizes."""
    seen: set[str] = set()
    for entry in series:
        if entry.series_id in seen:
            raise ValueError(f"series id {entry.series_id!r} appears twice")
        seen.add(entry.series_id)
        _check_one(entry)


# --------------------------------------------------------------------------- the file


def default_db_path() -> Path:
    """Where the known-series database lives unless you name one: $VIDLAB_CASEDB, else <data root>/casedb.sqlite."""
    override = os.environ.get("VIDLAB_CASEDB")
    return Path(override).expanduser() if override else course.data_root() / "casedb.sqlite"


def _journal(path: Path) -> Path:
    return path.with_name(path.name + "-journal")


def _check_file(path: Path) -> None:
    """Refuse, without writing a byte, a file that is not a case database of this schema version."""
    if not path.is_file():
        raise FileNotFoundError(f"no known-series database at {path}")
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head != SQLITE_MAGIC:
        raise NotACaseDatabaseError(f"{path} is not an SQLite database (it starts with {head[:8]!r}); "
                                    "nothing was changed")
    if _journal(path).exists():  # a crash left a hot journal: one read-write open rolls it back
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA schema_version").fetchone()
    with closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as connection:
        try:
            app, version = (connection.execute(f"PRAGMA {p}").fetchone()[0] for p in ("application_id", "user_version"))
        except sqlite3.DatabaseError as exc:
            raise NotACaseDatabaseError(f"{path} is damaged or not an SQLite database ({exc}); nothing was changed") \
                from None
    if app != APPLICATION_ID:
        older = " (an older course database: regenerate it with `vidlab data generate --force`)" if version == 1 else ""
        raise NotACaseDatabaseError(f"{path} is an SQLite database but not a VID Lab known-series database{older}; "
                                    "nothing was changed")
    if version != SCHEMA_VERSION:
        raise NotACaseDatabaseError(f"{path} has schema version {version}, this toolkit reads {SCHEMA_VERSION}; "
                                    "nothing was changed")


@contextmanager
def _reading(db: PathLike | None) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a checked case database."""
    path = Path(db) if db is not None else default_db_path()
    _check_file(path)
    with closing(sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)) as connection:
        yield connection


def _new_file(path: Path) -> sqlite3.Connection:
    """An empty case database at `path` (which must not exist), in autocommit mode."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    connection.execute("PRAGMA journal_mode = DELETE")
    connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    connection.executescript(SCHEMA)
    return connection


def _temporary(path: Path) -> Path:
    """The file a write to `path` builds beside it, named for this process; what killed writers left is cleared."""
    for left in path.parent.glob(f".{glob.escape(path.name)}.*.partial"):
        pid = left.name[len(path.name) + 2:-len(".partial")]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            left.unlink(missing_ok=True)
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


def _running(pid: int) -> bool:
    """Whether a process with this id exists (one of another user's counts: its file is left alone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def _writing(db: PathLike | None, fresh: bool = False) -> Iterator[sqlite3.Connection]:
    """One transaction on the database: committed if the block ends normally, rolled back otherwise.

    A database that does not exist yet (or `fresh`: replace it) is built in a file beside and renamed into
    place when complete, so a crash never leaves half a database, and the same content gives the same bytes.
    """
    path = Path(db) if db is not None else default_db_path()
    if path.exists() and path.stat().st_size:
        _check_file(path)  # never overwrite or write into something that is not ours
    if path.exists() and path.stat().st_size and not fresh:
        with closing(sqlite3.connect(path, isolation_level=None)) as connection:
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = _temporary(path)
    partial.unlink(missing_ok=True)
    try:
        with closing(_new_file(partial)) as connection:
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("BEGIN")
            yield connection
            connection.execute("COMMIT")
            connection.execute("VACUUM")  # pack pages in a canonical order
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _insert(connection: sqlite3.Connection, series: Iterable[KnownSeries]) -> dict[str, int]:
    """Add series, checking each as it comes; existing series gain the media, submissions and serials they lack
    and keep the furthest status. Counts of what was added."""
    added = dict.fromkeys(("series", "media", "submissions", "serials"), 0)
    seen: set[str] = set()
    rank = {status: n for n, status in enumerate(STATUSES)}
    for entry in series:
        if entry.series_id in seen:
            raise ValueError(f"series id {entry.series_id!r} appears twice")
        seen.add(entry.series_id)
        _check_one(entry)
        entry = _normalised(entry)
        cursor = connection.execute("INSERT OR IGNORE INTO series VALUES (?, ?, ?, ?, ?)",
                                    (entry.series_id, entry.label, entry.country, entry.first_seen, entry.status))
        added["series"] += cursor.rowcount
        if not cursor.rowcount:
            (status,) = connection.execute("SELECT status FROM series WHERE series_id = ?",
                                           (entry.series_id,)).fetchone()
            if rank[entry.status] > rank[status]:
                connection.execute("UPDATE series SET status = ? WHERE series_id = ?", (entry.status, entry.series_id))
        for counted, statement, rows in (
            ("media", "media (series_id, name, md5, sha1, sha256, size, pdq, category) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
             [(entry.series_id, f.name, f.md5.lower(), _lower(f.sha1), _lower(f.sha256), f.size, _lower(f.pdq),
               f.category) for f in entry.files]),
            ("submissions", "submissions VALUES (?, ?, ?)",
             [(entry.series_id, s.country, s.date) for s in entry.submissions]),
            ("serials", "device_serials VALUES (?, ?, ?, ?)",
             [(entry.series_id, d.serial, d.make, d.model) for d in entry.serials]),
        ):
            before = connection.total_changes
            connection.executemany(f"INSERT OR IGNORE INTO {statement}", rows)
            added[counted] += connection.total_changes - before
    return added


def _lower(text: str | None) -> str | None:
    return text.lower() if text else None


def write_database(path: PathLike, series: Iterable[KnownSeries]) -> Path:
    """A new database holding exactly `series` (replacing a case database at `path`); same input, same bytes."""
    with _writing(path, fresh=True) as connection:
        _insert(connection, series)
    return Path(path)


def add_series(db: PathLike | None, series: Iterable[KnownSeries]) -> dict[str, int]:
    """Add series to the database (created if missing) in one transaction; counts of rows added.

    A series already there gains the files, submissions and serials it lacks and keeps the furthest status;
    nothing is deleted or overwritten. Any bad series stops the whole batch and nothing is written.
    """
    with _writing(db) as connection:
        return _insert(connection, series)


def set_status(db: PathLike | None, series_id: str, status: str) -> None:
    """Record a series' new status (new, known, identified)."""
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    with _writing(db) as connection:
        if not connection.execute("UPDATE series SET status = ? WHERE series_id = ?", (status, series_id)).rowcount:
            raise KeyError(f"no series {series_id!r} in the database")


def add_submission(db: PathLike | None, series_id: str, country: str, submitted: str) -> bool:
    """Record that `country` submitted a series on `submitted` (ISO date); False if it already had."""
    if not country or not _is_iso_date(submitted):
        raise ValueError(f"a submission needs a country and an ISO date, got {country!r}, {submitted!r}")
    with _writing(db) as connection:
        if not connection.execute("SELECT 1 FROM series WHERE series_id = ?", (series_id,)).fetchone():
            raise KeyError(f"no series {series_id!r} in the database")
        return bool(connection.execute("INSERT OR IGNORE INTO submissions VALUES (?, ?, ?)",
                                       (series_id, country, submitted)).rowcount)


def read_series(db: PathLike | None = None) -> list[KnownSeries]:
    """Every series in the database, by id, with its files in the order they were added."""
    with _reading(db) as connection:
        files: dict[str, list[KnownFile]] = {}
        for row in connection.execute("SELECT series_id, name, md5, sha1, size, pdq, sha256, category FROM media "
                                      "ORDER BY series_id, media_id"):
            files.setdefault(row[0], []).append(KnownFile(*row[1:]))
        submissions: dict[str, list[Submission]] = {}
        for series_id, country, submitted in connection.execute(
                "SELECT series_id, country, submitted FROM submissions ORDER BY series_id, submitted, country"):
            submissions.setdefault(series_id, []).append(Submission(country, submitted))
        serials: dict[str, list[DeviceSerial]] = {}
        for series_id, *device in connection.execute(
                "SELECT series_id, serial, make, model FROM device_serials ORDER BY series_id, serial"):
            serials.setdefault(series_id, []).append(DeviceSerial(*device))
        return [KnownSeries(series_id, label, country, first_seen, tuple(files.get(series_id, ())), status,
                            tuple(submissions.get(series_id, ())), tuple(serials.get(series_id, ())))
                for series_id, label, country, first_seen, status in connection.execute(
                    "SELECT series_id, label, country, first_seen, status FROM series ORDER BY series_id")]


def series_table(db: PathLike | None = None) -> pd.DataFrame:
    """One row per series: id, label, country, first_seen, status, submitted_by (';'-joined, in date order),
    files and serials (counts)."""
    with _reading(db) as connection:
        return pd.read_sql_query(
            "SELECT s.series_id, s.label, s.country, s.first_seen, s.status, "
            "(SELECT group_concat(country, ';') FROM (SELECT country FROM submissions b WHERE b.series_id = "
            " s.series_id ORDER BY submitted, country)) AS submitted_by, "
            "(SELECT COUNT(*) FROM media m WHERE m.series_id = s.series_id) AS files, "
            "(SELECT COUNT(*) FROM device_serials d WHERE d.series_id = s.series_id) AS serials "
            "FROM series s ORDER BY s.series_id", connection)


def media_table(db: PathLike | None = None) -> pd.DataFrame:
    """Every known file: media_id, series_id, name, md5, sha1, sha256, size, pdq, category."""
    with _reading(db) as connection:
        return pd.read_sql_query("SELECT * FROM media ORDER BY series_id, media_id", connection)


# --------------------------------------------------------------------------- VICS JSON


def _mime_type(name: str) -> str:
    return MIME_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


def vics_document(series: Iterable[KnownSeries]) -> dict[str, Any]:
    """The VICS 2.0 document of these series: Media records numbered from 1, series facts in @vidlab.series."""
    entries = sorted((_normalised(entry) for entry in series), key=lambda entry: entry.series_id)
    media = []
    for entry in entries:
        for known in entry.files:
            media.append({
                "MediaID": len(media) + 1,
                "Category": known.category,
                "MD5": known.md5.upper(),
                "SHA1": known.sha1.upper() if known.sha1 else None,
                "MediaSize": known.size,
                "Series": entry.series_id,
                "VictimIdentified": entry.status == "identified",
                "DateUpdated": f"{entry.first_seen}T00:00:00Z",
                "MimeType": _mime_type(known.name),
                "MediaFiles": [{"MD5": known.md5.upper(), "FileName": known.name}],
                "SHA256": known.sha256.upper() if known.sha256 else None,
                "PDQ": known.pdq.lower() if known.pdq else None,
            })
    about = [{"Series": e.series_id, "Label": e.label, "Country": e.country, "FirstSeen": e.first_seen,
              "Status": e.status, "Submissions": [{"Country": s.country, "Date": s.date} for s in e.submissions],
              "DeviceSerials": [{"Serial": d.serial, "Make": d.make, "Model": d.model} for d in e.serials]}
             for e in entries]
    return {"@odata.context": VICS_CONTEXT, SERIES_ANNOTATION: about, "value": media}


def _write_text(path: Path, text: str) -> None:
    """Write a file whole or not at all (beside, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = _temporary(path)
    try:
        partial.write_text(text, encoding="utf-8", newline="\n")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_vics(path: PathLike, series: Iterable[KnownSeries]) -> Path:
    """Write series as a VICS JSON hash set (UTF-8, two-space indent, fixed key order): same input, same bytes."""
    series = list(series)
    check_series(series)
    _write_text(Path(path), json.dumps(vics_document(series), indent=2, ensure_ascii=False) + "\n")
    return Path(path)


def export_vics(db: PathLike | None, path: PathLike) -> Path:
    """Export the whole database as a VICS JSON hash set."""
    return write_vics(path, read_series(db))


class _Record:
    """Typed reads of one JSON object, raising VicsFormatError that names the record and the field."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise VicsFormatError(f"{where}: expected an object, got {type(data).__name__}")
        self.data, self.where = data, where

    def fail(self, key: str, why: str) -> VicsFormatError:
        return VicsFormatError(f"{self.where}: field {key!r} {why}")

    def get(self, key: str, kinds: type | tuple[type, ...], required: bool = False) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                raise self.fail(key, "is missing")
            return None
        value = self.data[key]
        if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
            raise self.fail(key, f"should be {_names(kinds)}, got {value!r}")
        if not isinstance(value, kinds):
            raise self.fail(key, f"should be {_names(kinds)}, got {type(value).__name__} {value!r}")
        return value

    def hex(self, key: str, digits: int, required: bool = False) -> str | None:
        value = self.get(key, str, required)
        if value is not None and not re.fullmatch(f"[0-9a-fA-F]{{{digits}}}", value):
            raise self.fail(key, f"should be {digits} hex digits, got {value!r}")
        return value.lower() if value is not None else None

    def flag(self, key: str) -> bool:
        """A VICS boolean: JSON true/false, or the strings "true"/"false" some writers use."""
        value = self.get(key, (bool, str))
        if isinstance(value, str):
            if value.lower() not in ("true", "false"):
                raise self.fail(key, f"should be true or false, got {value!r}")
            return value.lower() == "true"
        return bool(value)

    def date(self, key: str, required: bool = False) -> str | None:
        value = self.get(key, str, required)
        if value is None:
            return None
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(key, f"should be an ISO date, got {value!r}") from None
        return value[:10]

    def items(self, key: str) -> list[Any]:
        return self.get(key, list) or []


def _names(kinds: type | tuple[type, ...]) -> str:
    names = {int: "a whole number", str: "text", bool: "true or false", list: "a list", dict: "an object"}
    return " or ".join(names.get(k, k.__name__) for k in (kinds if isinstance(kinds, tuple) else (kinds,)))


def _series_facts(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The @vidlab.series block, checked, by series id."""
    facts: dict[str, dict[str, Any]] = {}
    block = document.get(SERIES_ANNOTATION) or []
    if not isinstance(block, list):
        raise VicsFormatError(f"{SERIES_ANNOTATION!r} should be a list of series")
    for n, raw in enumerate(block):
        record = _Record(raw, f"{SERIES_ANNOTATION} record {n}")
        series_id = record.get("Series", str, required=True)
        status = record.get("Status", str, required=True)
        if status not in STATUSES:
            raise record.fail("Status", f"should be one of {', '.join(STATUSES)}, got {status!r}")
        submissions = []
        for k, item in enumerate(record.items("Submissions")):
            sub = _Record(item, f"{record.where}, submission {k}")
            submissions.append(Submission(sub.get("Country", str, required=True), sub.date("Date", required=True)))
        serials = []
        for k, item in enumerate(record.items("DeviceSerials")):
            dev = _Record(item, f"{record.where}, device serial {k}")
            serials.append(DeviceSerial(dev.get("Serial", str, required=True), dev.get("Make", str) or "",
                                        dev.get("Model", str) or ""))
        if series_id in facts:
            raise record.fail("Series", f"{series_id!r} appears twice")
        facts[series_id] = {"label": record.get("Label", str, required=True),
                            "country": record.get("Country", str, required=True),
                            "first_seen": record.date("FirstSeen", required=True), "status": status,
                            "submissions": tuple(submissions), "serials": tuple(serials)}
    return facts


def parse_vics(document: object, country: str | None = None) -> list[KnownSeries]:
    """The series of a VICS document, every record checked first; VicsFormatError names the first bad one.

    Media records need MD5, MediaSize and Series. A plain Project VIC hash set has no @vidlab.series block: its
    series then take their id as label, `country` as submitter, the earliest DateUpdated as first seen, and
    status identified when any record says VictimIdentified, else known.
    """
    if not isinstance(document, dict) or not isinstance(document.get("value"), list):
        raise VicsFormatError('not a VICS hash set: expected a JSON object with a "value" list of Media records')
    facts = _series_facts(document)
    files: dict[str, list[KnownFile]] = {}
    dates: dict[str, list[str]] = {}
    identified: set[str] = set()
    for n, raw in enumerate(document["value"]):
        record = _Record(raw, f"record {n}" + (f" (MediaID {raw.get('MediaID')})" if isinstance(raw, dict)
                                               and "MediaID" in raw else ""))
        md5 = record.hex("MD5", 32, required=True)
        size = record.get("MediaSize", int, required=True)
        if size < 0:
            raise record.fail("MediaSize", f"should be a byte count, got {size!r}")
        series_id = record.get("Series", str, required=True)
        if not series_id.strip():
            raise record.fail("Series", "is empty (every file of the database belongs to a series)")
        names = [_Record(item, f"{record.where}, MediaFiles {k}").get("FileName", str)
                 for k, item in enumerate(record.items("MediaFiles"))]
        files.setdefault(series_id, []).append(KnownFile(
            next((name for name in names if name), ""), md5, record.hex("SHA1", 40), size, record.hex("PDQ", 64),
            record.hex("SHA256", 64), record.get("Category", int)))
        stamp = record.date("DateUpdated")
        if stamp:
            dates.setdefault(series_id, []).append(stamp)
        if record.flag("VictimIdentified"):
            identified.add(series_id)
    series = []
    for series_id in sorted(set(files) | set(facts)):
        if series_id in facts:
            about = facts[series_id]
        else:
            if not country:
                raise VicsFormatError(f"series {series_id!r} has no {SERIES_ANNOTATION} entry saying who submitted "
                                      "it: name the submitting country (country=…)")
            about = {"label": series_id, "country": country, "first_seen": min(dates.get(series_id, [])
                                                                                or [date.today().isoformat()]),
                     "status": "identified" if series_id in identified else "known"}
        series.append(KnownSeries(series_id, files=tuple(files.get(series_id, ())), **about))
    for entry in series:
        try:
            _check_one(entry)
        except ValueError as exc:
            raise VicsFormatError(str(exc)) from None
    return series


def import_vics(path: PathLike, db: PathLike | None = None, country: str | None = None) -> dict[str, int]:
    """Import a VICS JSON hash set into the database (created if missing) in one transaction; counts added.

    The whole file is read and checked before anything is written: a missing or mistyped field raises
    VicsFormatError naming the record and the field, and the database stays as it was.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))  # some exporters write a byte-order mark
    except json.JSONDecodeError as exc:
        raise VicsFormatError(f"{path} is not valid JSON: {exc}") from None
    except UnicodeDecodeError:
        raise VicsFormatError(f"{path} is not UTF-8 text") from None
    return add_series(db, parse_vics(document, country))


# --------------------------------------------------------------------------- matching a case


def case_country(path: str) -> str | None:
    """The submitting country of a case file, from the course's submissions/<CC>/<CC>-nn-… folders (else None)."""
    found = _COUNTRY_FOLDER.search(path)
    return found.group(1) if found else None


@dataclass(frozen=True)
class MatchReport:
    """What a case inventory has in common with the known-series database (see match_inventory)."""

    exact: pd.DataFrame
    near: pd.DataFrame
    deconfliction: pd.DataFrame
    notes: tuple[str, ...] = field(default=())

    def save(self, folder: PathLike) -> Path:
        """Write exact.csv, near.csv and deconfliction.csv (paths ';'-joined) into `folder`."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.exact.to_csv(folder / "exact.csv", index=False)
        self.near.to_csv(folder / "near.csv", index=False)
        self.deconfliction.assign(paths=self.deconfliction["paths"].map(";".join)).to_csv(
            folder / "deconfliction.csv", index=False)
        return folder

    def summary(self) -> str:
        """A few lines for a terminal or a notebook."""
        known = self.deconfliction["series_id"].dropna()
        lines = [f"{self.exact['path'].nunique()} files match known files exactly, "
                 f"{self.near['path'].nunique()} more are near-duplicates of known files",
                 f"{len(known)} known series found: {', '.join(known[:10]) or 'none'}{' …' * (len(known) > 10)}",
                 f"{int(self.deconfliction['series_id'].isna().sum())} more groups of pictures were submitted by "
                 "several countries in this case"]
        return "\n".join(lines + list(self.notes))


EXACT_COLUMNS = ("path", "case_country", "series_id", "label", "status", "known_name", "matched_on", "hashes_agree")
NEAR_COLUMNS = ("path", "case_country", "series_id", "label", "status", "known_name", "distance", "variant")
DECONFLICTION_COLUMNS = ("series_id", "label", "status", "submitted_by", "first_submitted", "case_countries",
                         "files", "paths")
_HASHES = ("md5", "sha1", "sha256")


def _inventory_view(connection: duckdb.DuckDBPyConnection, inventory: PathLike | pd.DataFrame) -> None:
    """The inventory as the DuckDB view `inventory` (read from Parquet where it lies, not loaded)."""
    if isinstance(inventory, pd.DataFrame):
        connection.register("inventory", inventory)
        source = "the inventory table"
    else:
        path = Path(inventory)
        if not path.is_file():
            raise FileNotFoundError(f"no inventory at {path} (make one with `vidlab scan FOLDER --out {path}`)")
        connection.read_parquet(str(path)).create_view("inventory")
        source = str(path)
    missing = {"path", "kind", *_HASHES} - set(connection.sql("SELECT * FROM inventory").columns)
    if missing:
        raise ValueError(f"{source} is not a scan inventory: no column {', '.join(sorted(missing))}")


def _known_candidates(db: sqlite3.Connection, wanted: dict[str, list[str]]) -> pd.DataFrame:
    """Known files whose MD5, SHA-1 or SHA-256 is among `wanted`, found through the database's indexes."""
    query = " UNION ".join(
        f"SELECT m.media_id, m.series_id, m.name AS known_name, m.md5, m.sha1, m.sha256 FROM media m "
        f"WHERE m.{kind} IN (SELECT value FROM json_each(?))" for kind in _HASHES)
    return pd.read_sql_query(query, db, params=[json.dumps(wanted[kind]) for kind in _HASHES])


def _exact(connection: duckdb.DuckDBPyConnection, db: sqlite3.Connection) -> pd.DataFrame:
    """(path, media_id, matched_on, hashes_agree) for every inventory file equal to a known file."""
    wanted = {kind: connection.sql(f"SELECT DISTINCT lower({kind}) FROM inventory WHERE {kind} IS NOT NULL")
              .fetchnumpy()[f"lower({kind})"].tolist() for kind in _HASHES}
    connection.register("known", _known_candidates(db, wanted))
    pairs = " UNION ALL ".join(
        f"SELECT i.path, k.media_id, {n} AS n, '{kind}' AS kind FROM inventory i JOIN known k ON lower(i.{kind}) = "
        f"k.{kind}" for n, kind in enumerate(_HASHES))
    agree = " AND ".join(f"(i.{h} IS NULL OR k.{h} IS NULL OR lower(i.{h}) = k.{h})" for h in _HASHES)
    return connection.sql(
        f"SELECT p.path, p.media_id, string_agg(p.kind, ';' ORDER BY p.n) AS matched_on, "
        f"bool_and({agree}) AS hashes_agree FROM ({pairs}) p JOIN inventory i USING (path) "
        f"JOIN known k USING (media_id) GROUP BY p.path, p.media_id ORDER BY p.path, p.media_id").df()


def _hash_frame(hashes: PathLike | pd.DataFrame | None, connection: duckdb.DuckDBPyConnection) -> pd.DataFrame | None:
    """The perceptual hashes to match: the table given, else the inventory's own pdq column, else None."""
    if isinstance(hashes, pd.DataFrame):
        return hashes
    if hashes is not None:
        return pd.read_parquet(hashes)
    columns = set(connection.sql("SELECT * FROM inventory").columns)
    if "pdq" not in columns:
        return None
    keep = [c for c in ("path", "pdq", "pdq_dihedral", "decode_side", "flag", "error") if c in columns]
    return connection.sql(f"SELECT {', '.join(keep)} FROM inventory").df()


def _near(found: pd.DataFrame, db: sqlite3.Connection, max_distance: int | None) -> pd.DataFrame:
    """(path, media_id, distance, variant) for every found picture within max_distance PDQ bits of a known one."""
    known = pd.read_sql_query("SELECT CAST(media_id AS TEXT) AS path, pdq FROM media WHERE pdq IS NOT NULL", db)
    matches = find_matches(found, known, "pdq", max_distance, turned="pdq_dihedral" in found)
    return pd.DataFrame({"path": matches["path"], "media_id": matches["known_path"].astype("int64"),
                         "distance": matches["distance"].astype("int64"), "variant": matches["variant"]})


def _described(matches: pd.DataFrame, known: pd.DataFrame, columns: Sequence[str], country: str | None
               ) -> pd.DataFrame:
    """Matches joined to what the database says of the known file and its series, with each file's country."""
    if matches.empty:
        return pd.DataFrame(columns=list(columns))
    table = matches.merge(known, on="media_id", how="left")
    table["case_country"] = [country or case_country(p) for p in table["path"]]
    return table[list(columns)].sort_values(["path", "series_id"], kind="stable").reset_index(drop=True)


def _case_links(connection: duckdb.DuckDBPyConnection, found: pd.DataFrame | None, max_distance: int | None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Series material of the case (pictures, videos) and a group label for each: files joined by equal MD5 or,
    for pictures, by near-duplicate PDQ, so a group is one picture's copies wherever they were submitted."""
    kinds = ", ".join(f"'{k}'" for k in sorted(SERIES_KINDS))
    rows = connection.sql(f"SELECT path, lower(md5) AS md5 FROM inventory WHERE kind IN ({kinds}) AND md5 IS NOT "
                          "NULL ORDER BY path").df()
    paths = rows["path"].to_numpy(dtype=object)
    position = {path: n for n, path in enumerate(paths)}
    codes = pd.factorize(rows["md5"])[0]
    first = pd.Series(np.arange(len(codes))).groupby(codes).transform("min").to_numpy()
    a, b = [first], [np.arange(len(codes))]
    if found is not None and len(found):
        pictures = usable(found[found["path"].isin(position)], "pdq")
        if len(pictures) > 1:
            pairs = near_duplicates(pictures, "pdq", max_distance)
            a.append(pairs["path_a"].map(position).to_numpy())
            b.append(pairs["path_b"].map(position).to_numpy())
    a_all, b_all = np.concatenate(a).astype(np.int64), np.concatenate(b).astype(np.int64)
    graph = coo_array((np.ones(len(a_all), dtype=np.int8), (a_all, b_all)), shape=(len(paths), len(paths)))
    return paths, connected_components(graph, directed=False)[1]


def _deconfliction(paths: np.ndarray, groups: np.ndarray, matched: pd.DataFrame, series: pd.DataFrame,
                   country: str | None) -> pd.DataFrame:
    """One row per known series found (its files and their copies in the case) and one per group of copies that
    several countries of this case submitted but the database does not know."""
    group_of = dict(zip(paths, groups))
    members: dict[int, list[str]] = {}
    for path, group in group_of.items():  # paths come sorted, so each member list is too
        members.setdefault(group, []).append(path)
    by_series: dict[str, set[str]] = {}
    claimed: set[int] = set()
    for path, series_id in matched[["path", "series_id"]].itertuples(index=False):
        files = by_series.setdefault(series_id, {path})
        if path in group_of:
            claimed.add(group_of[path])
            files.update(members[group_of[path]])
    shared = [files for files in members.values() if len(files) > 1]  # a lone file links no countries
    countries = {path: country or case_country(path) for files in (*by_series.values(), *shared) for path in files}
    about = series.set_index("series_id").to_dict("index")
    rows = [(series_id, about[series_id]["label"], about[series_id]["status"], about[series_id]["submitted_by"],
             about[series_id]["first_seen"], sorted(files)) for series_id, files in sorted(by_series.items())]
    rows += [(None, None, None, None, None, files) for group, files in sorted(members.items(), key=lambda m: m[1][0])
             if len(files) > 1 and group not in claimed and len({countries[p] for p in files} - {None}) > 1]
    return pd.DataFrame([(*row[:5], ";".join(sorted({countries[p] for p in row[5]} - {None})), len(row[5]), row[5])
                         for row in rows], columns=list(DECONFLICTION_COLUMNS))


def match_inventory(inventory: PathLike | pd.DataFrame, db: PathLike | None = None,
                    hashes: PathLike | pd.DataFrame | None = None, country: str | None = None,
                    max_distance: int | None = None) -> MatchReport:
    """Check a case inventory against the known-series database; the database is only read.

    `inventory`: vidlab.scan's Parquet (or its DataFrame): path, kind, md5, sha1, sha256. `hashes`: perceptual
    hashes of the same files (vidlab.similarity.hash_table, paths as in the inventory; default: the inventory's
    own pdq column, if it has one). `country`: who submitted the whole inventory (default: read from the
    course's submissions/<CC>/ folders). `max_distance`: PDQ bits still a near-duplicate (default THRESHOLDS).

    MatchReport.exact: files equal to a known file (matched_on: which hashes agree; hashes_agree False flags a
    file whose MD5 matches but another hash differs). .near: pictures within max_distance of a known file's PDQ
    and not equal to it. .deconfliction: the known series found (who submitted them, when, their status, and
    which countries of this case hold them or copies of them), then groups of copies submitted by several
    countries of this case that the database does not know yet.
    """
    notes: list[str] = []
    with _reading(db) as sqlite_db, closing(duckdb.connect()) as connection:
        _inventory_view(connection, inventory)
        exact = _exact(connection, sqlite_db)
        found = _hash_frame(hashes, connection)
        has_pdq = sqlite_db.execute("SELECT 1 FROM media WHERE pdq IS NOT NULL LIMIT 1").fetchone() is not None
        if found is None:
            notes.append("no perceptual hashes given (hashes=…): near-duplicates were not searched")
            near = pd.DataFrame(columns=["path", "media_id", "distance", "variant"])
        elif not has_pdq:
            notes.append("the database holds no PDQ hashes: near-duplicates were not searched")
            near = pd.DataFrame(columns=["path", "media_id", "distance", "variant"])
        else:
            near = _near(found, sqlite_db, max_distance)
            same = near.merge(exact[["path", "media_id"]], how="left", indicator=True)["_merge"] == "both"
            near = near[~same.to_numpy()]
        ids = sorted(set(exact["media_id"]) | set(near["media_id"]))
        known = pd.read_sql_query(
            "SELECT m.media_id, m.series_id, s.label, s.status, m.name AS known_name FROM media m JOIN series s "
            "USING (series_id) WHERE m.media_id IN (SELECT value FROM json_each(?))", sqlite_db,
            params=[json.dumps([int(i) for i in ids])])
        series = pd.read_sql_query(
            "SELECT s.series_id, s.label, s.status, (SELECT group_concat(country, ';') FROM (SELECT country FROM "
            "submissions b WHERE b.series_id = s.series_id ORDER BY submitted, country)) AS submitted_by, "
            "s.first_seen FROM series s WHERE s.series_id IN (SELECT value FROM json_each(?))", sqlite_db,
            params=[json.dumps(sorted(set(known["series_id"])))])
        exact_table = _described(exact, known, EXACT_COLUMNS, country)
        near_table = _described(near, known, NEAR_COLUMNS, country)
        paths, groups = _case_links(connection, found, max_distance)
    matched = pd.concat([exact_table[["path", "series_id"]], near_table[["path", "series_id"]]])
    return MatchReport(exact_table, near_table, _deconfliction(paths, groups, matched, series, country), tuple(notes))
