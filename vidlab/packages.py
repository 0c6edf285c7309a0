"""Intelligence packages: one record per actionable series, checked, merged across a team, and scored.

A package is what a task force hands on for intervention: the series (the team's label and its case
files), a location estimate with its confidence and evidence chain, the devices, the time frame in
UTC, linked series, recommended next steps and safe thumbnails only. Records are plain dicts checked
against ``vidlab/data/intelligence_package.schema.json``; each is written as JSON plus a one-page
printable HTML sheet. ``score_packages`` compares a team's packages with the answer key (instructor
side only). The rules are in docs/capstone_packages.md.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from hashlib import sha1
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import pandas as pd
from PIL import Image, PngImagePlugin

from vidlab.evidence import short_error
from vidlab.geo import _geonames_places, haversine_km
from vidlab.view import safe_thumbnail

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "SCHEMA_VERSION",
    "LOCATED_KM",
    "PackageError",
    "schema",
    "new_package",
    "validate",
    "safe_thumbnails",
    "write_package",
    "read_packages",
    "Conflict",
    "MergeReport",
    "merge_packages",
    "Score",
    "score_packages",
    "leaderboard",
    "leaderboard_figure",
]

PathLike = str | os.PathLike[str]
Record = dict[str, Any]

SCHEMA_VERSION = 1
#: A found series counts as located when the estimate is within this many km of the true site:
#: city level (the synthetic sites lie within 1.5 km of their city's point, so a city name suffices).
LOCATED_KM = 25.0
#: PNG text key that marks a thumbnail made by `safe_thumbnails`; sheets embed nothing without it.
SAFE_MARK = "vidlab-safe-thumbnail"
THUMBNAIL_FOLDER = "thumbnails"
#: Files in a package folder that are not packages (the merge report).
REPORT_NAME = "_merge_report.json"
#: Fields that say who wrote a package and when, not what was found: ignored when comparing versions.
AUTHORSHIP = ("team", "analyst", "created", "safe_thumbnails")


class PackageError(ValueError):
    """A package that cannot be written or read; the message names the file or fields."""


# --------------------------------------------------------------------------- building and checking


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The intelligence-package JSON Schema shipped with the toolkit."""
    text = resources.files("vidlab").joinpath("data", "intelligence_package.schema.json").read_text("utf-8")
    return json.loads(text)


def _utc(value: Any, what: str) -> str | None:
    """A time as ISO 8601 UTC ending in Z (None stays None); a time without a zone is refused."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        raise ValueError(f"{what} {value!r} has no time zone: give it in UTC (e.g. '2024-06-04T09:45:00Z')")
    stamp = stamp.tz_convert("UTC")
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{stamp.microsecond:06d}Z" if stamp.microsecond else f"{text}Z"


def _case_relative(path: PathLike, case_root: PathLike | None) -> str:
    """A case file's path relative to the case folder, with / separators (how packages name files)."""
    text = os.fspath(path).replace("\\", "/")
    if case_root is not None and os.path.isabs(text):
        try:
            return Path(text).resolve().relative_to(Path(case_root).resolve()).as_posix()
        except ValueError:
            pass
    if os.path.isabs(text) and "/case/" in text:  # the same case generated elsewhere: cut at its case folder
        return text.rsplit("/case/", 1)[1]
    return PurePosixPath(text).as_posix()


def new_package(
    series_id: str,
    files: Iterable[PathLike],
    *,
    confidence: float | str,
    evidence: Iterable[Mapping[str, Any]],
    next_steps: Iterable[str],
    team: str,
    analyst: str,
    lat: float | None = None,
    lon: float | None = None,
    city: str | None = None,
    country: str | None = None,
    devices: Iterable[Mapping[str, Any] | str] = (),
    start_utc: Any = None,
    end_utc: Any = None,
    linked_series: Iterable[str] = (),
    thumbnails: Iterable[PathLike] = (),
    case_root: PathLike | None = None,
    created: Any = None,
) -> Record:
    """A package record in the schema's shape; case paths made relative to `case_root` when given.

    `devices` items are a serial (str) or a mapping with serial/make/model; `evidence` items have
    clue, source_file, technique, supports. Check the result with `validate` (write_package does).
    """
    def clean(value: Any) -> Any:  # a table's missing value (NaN, NA, NaT) is no value
        return None if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) else value

    chain = [
        {"clue": str(e.get("clue", "")), "source_file": _case_relative(e.get("source_file", ""), case_root),
         "technique": str(e.get("technique", "")), "supports": str(e.get("supports", ""))}
        for e in evidence
    ]
    kit = []
    for d in devices:
        item = {"serial": d} if isinstance(d, str) else {k: str(d[k]) for k in ("serial", "make", "model")
                                                        if clean(d.get(k)) not in (None, "")}
        kit.append(item)
    return {
        "schema_version": SCHEMA_VERSION,
        "series": {"id": str(series_id), "files": list(dict.fromkeys(_case_relative(f, case_root) for f in files))},
        "location": {
            "lat": None if clean(lat) is None else float(lat),
            "lon": None if clean(lon) is None else float(lon),
            "city": clean(city),
            "country": clean(country),
            "confidence": confidence,
            "evidence": chain,
        },
        "devices": kit,
        "time_frame_utc": {"start": _utc(start_utc, "start_utc"), "end": _utc(end_utc, "end_utc")},
        "linked_series": list(dict.fromkeys(str(s) for s in linked_series)),
        "next_steps": [str(s) for s in next_steps],
        "safe_thumbnails": [os.fspath(t) for t in thumbnails],
        "team": str(team),
        "analyst": str(analyst),
        "created": _utc(created if created is not None else datetime.now(timezone.utc), "created"),
    }


def _field(path: Iterable[Any]) -> str:
    """A JSON location as the analyst reads it: location.evidence[0].clue."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the record)"


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator  # imported here: only checking records needs it

    return Draft202012Validator(schema())


def _schema_problems(record: Any) -> list[str]:
    """What the JSON Schema rejects, one message per problem, naming the field."""
    problems = []
    for error in sorted(_validator().iter_errors(record), key=lambda e: list(map(str, e.path))):
        where = _field(error.absolute_path)
        if error.validator == "pattern" and error.schema.get("pattern") == "\\.png$":
            message = f"{error.instance!r} is not a safe thumbnail (make them with vidlab.packages.safe_thumbnails)"
        elif error.validator == "pattern" and "description" in error.schema:
            message = f"{error.instance!r} is not {error.schema['description']}"
        elif error.validator == "oneOf" and where == "location.confidence":
            message = f"{error.instance!r} is not a number from 0 to 1 or one of low, medium, high"
        elif error.validator == "oneOf" and where.startswith("time_frame_utc"):
            message = f"{error.instance!r} is not a UTC time like 2024-06-04T09:45:00Z (or null)"
        else:
            message = error.message
        problems.append(f"{where}: {message}")
    return problems


def _meaning_problems(record: Mapping[str, Any]) -> list[str]:
    """What a schema cannot say well: a usable location, a time frame in order."""
    problems = []
    where = record.get("location")
    if isinstance(where, Mapping):
        has_lat, has_lon = where.get("lat") is not None, where.get("lon") is not None
        if has_lat != has_lon:
            problems.append("location: give both lat and lon, or neither")
        if not (has_lat and has_lon) and not (where.get("city") and where.get("country")):
            problems.append("location: give lat and lon, or city and country")
    frame = record.get("time_frame_utc")
    utc = re.compile(schema()["$defs"]["utc"]["pattern"])
    if isinstance(frame, Mapping) and all(isinstance(frame.get(k), str) and utc.match(frame[k]) for k in ("start", "end")):
        try:
            if pd.Timestamp(frame["start"]) > pd.Timestamp(frame["end"]):
                problems.append(f"time_frame_utc: start {frame['start']} is after end {frame['end']}")
        except ValueError as exc:  # well-formed but impossible, e.g. month 13
            problems.append(f"time_frame_utc: {short_error(exc)}")
    return problems


def validate(record: Any) -> list[str]:
    """Every problem with a package record, each naming its field; an empty list means it is valid."""
    if not isinstance(record, Mapping):
        return [f"(the record): a package is a JSON object (dict), not {type(record).__name__}"]
    problems = _schema_problems(dict(record))
    return problems + _meaning_problems(record)


# --------------------------------------------------------------------------- thumbnails and files


def safe_thumbnails(files: Iterable[PathLike], folder: PathLike, size: int = 256,
                    case_root: PathLike | None = None) -> list[str]:
    """Blurred greyscale PNG thumbnails (vidlab.view.safe_thumbnail) of case files, written to `folder`.

    Relative `files` are read from `case_root`. The PNGs carry a mark that write_package checks, so a
    sheet never embeds an original picture; an unreadable file gives the viewer's placeholder tile.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in files:
        source = Path(case_root) / f if case_root is not None and not os.path.isabs(f) else Path(f)
        tile = safe_thumbnail(source, size=size)  # the viewer's defaults: blurred and grey
        info = PngImagePlugin.PngInfo()
        info.add_text(SAFE_MARK, f"vidlab.view.safe_thumbnail size={size} blur grey")
        name = f"{sha1(os.fspath(f).encode()).hexdigest()[:16]}.png"
        tile.save(out / name, pnginfo=info)
        paths.append(os.fspath(out / name))
    return paths


def _is_safe_thumbnail(path: Path) -> bool:
    """Whether a file is a PNG marked by safe_thumbnails."""
    try:
        with Image.open(path) as im:
            return im.format == "PNG" and SAFE_MARK in getattr(im, "text", {})
    except (OSError, ValueError):
        return False


def _stem(series_id: str) -> str:
    """A file-name-safe form of a series label."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", series_id).strip("._-") or "series"


def _resolve(path: str, base: Path | None) -> Path:
    """A thumbnail path as written in a record: absolute, relative to its package folder, or to here."""
    p = Path(path)
    if p.is_absolute() or base is None or not (base / p).exists():
        return p
    return base / p


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _sheet(record: Mapping[str, Any], thumbnails: Sequence[Path]) -> str:
    """The one-page, self-contained, printable HTML sheet of a package."""
    def e(value: Any) -> str:
        return html.escape("" if value is None else str(value))

    where, frame = record["location"], record["time_frame_utc"]
    point = f"{where['lat']:.5f}, {where['lon']:.5f}" if where.get("lat") is not None else "—"
    place = ", ".join(x for x in (where.get("city"), where.get("country")) if x) or "—"
    chain = "".join(
        f"<tr><td>{e(c['clue'])}</td><td class=path>{e(c['source_file'])}</td><td>{e(c['technique'])}</td>"
        f"<td>{e(c['supports'])}</td></tr>" for c in where["evidence"])
    kit = "".join(f"<tr><td>{e(d.get('serial', '—'))}</td><td>{e(d.get('make', ''))} {e(d.get('model', ''))}</td></tr>"
                  for d in record["devices"]) or "<tr><td colspan=2>none identified</td></tr>"
    files = record["series"]["files"]
    shown = "".join(f"<li class=path>{e(f)}</li>" for f in files[:8])
    more = f"<li>… and {len(files) - 8} more</li>" if len(files) > 8 else ""
    tiles = "".join(f'<img src="{_data_uri(t)}" alt="safe thumbnail">' for t in thumbnails)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Intelligence package {e(record['series']['id'])}</title>
<style>
@page {{ size: A4; margin: 12mm; }}
body {{ font: 10pt/1.35 "DejaVu Sans", Arial, sans-serif; max-width: 186mm; margin: 0 auto; color: #111; }}
h1 {{ font-size: 15pt; margin: 0 0 2mm; }} h2 {{ font-size: 11pt; margin: 4mm 0 1mm; border-bottom: 1px solid #999; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ border: 1px solid #ccc; padding: 1mm 2mm; text-align: left; vertical-align: top; }}
.path {{ font: 8pt monospace; word-break: break-all; }} .meta {{ color: #444; }}
.thumbs img {{ width: 28mm; height: 28mm; margin: 0 1.5mm 1.5mm 0; }}
ul, ol {{ margin: 0; padding-left: 6mm; }}
</style></head><body>
<h1>Intelligence package: {e(record['series']['id'])}</h1>
<p class=meta>Team {e(record['team'])} · analyst {e(record['analyst'])} · created {e(record['created'])} ·
{len(files)} case files</p>
<h2>Location estimate</h2>
<table><tr><th>place</th><td>{e(place)}</td><th>lat, lon</th><td>{e(point)}</td><th>confidence</th><td>{e(where['confidence'])}</td></tr></table>
<table><tr><th>clue</th><th>source file</th><th>technique</th><th>supports</th></tr>{chain}</table>
<h2>Devices</h2><table><tr><th>serial</th><th>make and model</th></tr>{kit}</table>
<h2>Time frame (UTC)</h2><p>{e(frame.get('start') or '?')} to {e(frame.get('end') or '?')}</p>
<h2>Linked series</h2><p>{e(', '.join(record['linked_series']) or 'none')}</p>
<h2>Recommended next steps</h2><ol>{''.join(f'<li>{e(s)}</li>' for s in record['next_steps'])}</ol>
<h2>Files</h2><ul>{shown}{more}</ul>
<h2>Safe thumbnails</h2><div class=thumbs>{tiles or 'none'}</div>
</body></html>
"""


def _write(record: Mapping[str, Any], folder: Path, stem: str) -> Path:
    """Copy a valid record's safe thumbnails beside it, write <stem>.json and <stem>.html."""
    thumbs_dir = folder / THUMBNAIL_FOLDER
    sources = [Path(t) for t in record["safe_thumbnails"]]
    for source, given in zip(sources, record["safe_thumbnails"]):
        if not _is_safe_thumbnail(source):
            raise PackageError(f"safe_thumbnails: {given} is missing or was not made by vidlab.packages.safe_thumbnails; "
                               "a package carries safe thumbnails only, never a case picture")
    thumbs_dir.mkdir(parents=True, exist_ok=True)
    kept, placed = [], []
    for source in sources:
        target = thumbs_dir / source.name
        if source.resolve() != target.resolve():
            shutil.copyfile(source, target)
        kept.append(f"{THUMBNAIL_FOLDER}/{source.name}")
        placed.append(target)
    out = dict(record) | {"safe_thumbnails": kept}
    path = folder / f"{stem}.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (folder / f"{stem}.html").write_text(_sheet(out, placed), encoding="utf-8")
    return path


def write_package(record: Mapping[str, Any], folder: PathLike) -> Path:
    """Write a valid package as <series>.json and a one-page HTML sheet in `folder`; the JSON's path.

    Raises PackageError listing every problem if the record is invalid or a thumbnail is not a safe
    one. Rewriting the same series replaces its earlier version; another series never overwrites it.
    """
    problems = validate(record)
    if problems:
        raise PackageError("the package is not valid:\n  " + "\n  ".join(problems))
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    stem, n = _stem(record["series"]["id"]), 1
    name = stem
    while (out / f"{name}.json").exists() and _series_id_in(out / f"{name}.json") != record["series"]["id"]:
        n += 1
        name = f"{stem}-{n}"
    return _write(record, out, name)


def _series_id_in(path: Path) -> str | None:
    try:
        return json.loads(path.read_text("utf-8")).get("series", {}).get("id")
    except (OSError, ValueError, AttributeError):
        return None


def read_packages(folder: PathLike) -> list[Record]:
    """The package records written in a folder (its *.json, in name order); a PackageError names a broken file."""
    root = Path(folder)
    if not root.is_dir():
        raise PackageError(f"{root}: no such package folder")
    records = []
    for path in sorted(root.glob("*.json")):
        if path.name.startswith("_"):  # the merge report
            continue
        try:
            record = json.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PackageError(f"{path}: not a readable package ({short_error(exc)})") from exc
        if not isinstance(record, dict):
            raise PackageError(f"{path}: a package is a JSON object, not {type(record).__name__}")
        records.append(record)
    return records


# --------------------------------------------------------------------------- team mode


@dataclass(frozen=True)
class Conflict:
    """One series id packaged differently by several trainees; every version is kept."""

    series_id: str
    versions: tuple[tuple[str, str, Path], ...]  # (source, analyst, written JSON)
    differences: tuple[str, ...]  # top-level fields that differ


@dataclass
class MergeReport:
    """What merge_packages did: packages written, identical ones merged, conflicts, overlaps, rejects."""

    out: Path
    written: list[Path] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    overlaps: list[tuple[str, str, int]] = field(default_factory=list)  # (series a, series b, shared files)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (source, series id, problems)

    def table(self) -> pd.DataFrame:
        """One row per finding: merged, conflict, overlap or rejected, with the details."""
        rows = [{"kind": "merged", "series": s, "detail": "identical versions merged"} for s in self.merged]
        rows += [{"kind": "conflict", "series": c.series_id,
                  "detail": f"{len(c.versions)} versions kept ({', '.join(a for _, a, _ in c.versions)}); "
                            f"differ in {', '.join(c.differences)}"} for c in self.conflicts]
        rows += [{"kind": "overlap", "series": f"{a} / {b}", "detail": f"{n} case files in both"}
                 for a, b, n in self.overlaps]
        rows += [{"kind": "rejected", "series": s, "detail": f"from {src}: {p}"} for src, s, p in self.rejected]
        return pd.DataFrame(rows, columns=["kind", "series", "detail"])

    def __str__(self) -> str:
        head = (f"{len(self.written)} packages written to {self.out}: {len(self.merged)} merged, "
                f"{len(self.conflicts)} conflicts, {len(self.overlaps)} overlaps, {len(self.rejected)} rejected")
        table = self.table()
        return head if table.empty else head + "\n" + table.to_string(index=False)


def _findings(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record without its authorship, files as a set: what two versions must share to be one."""
    out = {k: v for k, v in record.items() if k not in AUTHORSHIP}
    if isinstance(out.get("series"), Mapping):
        out["series"] = dict(out["series"]) | {"files": sorted(out["series"].get("files", []))}
    return out


def _sources(sources: Sequence[PathLike | Sequence[Mapping[str, Any]]]) -> list[tuple[str, Record]]:
    """(source name, record) for every record of every source, thumbnail paths made absolute."""
    out = []
    for i, source in enumerate(sources, 1):
        if isinstance(source, (str, os.PathLike)):
            name, base, records = Path(source).name or os.fspath(source), Path(source), read_packages(source)
        else:
            name, base, records = f"source {i}", None, [dict(r) if isinstance(r, Mapping) else r for r in source]
        for r in records:
            if isinstance(r, dict) and isinstance(r.get("safe_thumbnails"), list):
                r = r | {"safe_thumbnails": [os.fspath(_resolve(t, base).absolute()) if isinstance(t, str) else t
                                             for t in r["safe_thumbnails"]]}
            out.append((name, r))
    return out


def merge_packages(sources: Sequence[PathLike | Sequence[Mapping[str, Any]]], out: PathLike) -> MergeReport:
    """Merge several trainees' packages (folders or lists of records) into `out`, losing none.

    One series id from several sources: identical findings are written once (analysts joined), different
    ones are all kept side by side as <series>~<analyst>.json and listed as a conflict to resolve.
    Different ids sharing case files are listed as overlaps; invalid records as rejected. `out` must
    not already hold packages (merge it as a source instead).
    """
    target = Path(out)
    if target.is_dir() and any(p for p in target.glob("*.json") if not p.name.startswith("_")):
        raise FileExistsError(f"{target} already holds packages: merge into a new folder (list {target} as a source)")
    target.mkdir(parents=True, exist_ok=True)
    report = MergeReport(out=target)
    groups: dict[str, list[tuple[str, Record]]] = {}
    for name, record in _sources(sources):
        problems = validate(record)
        series = record.get("series") if isinstance(record, Mapping) else None
        series_id = str(series.get("id", "?")) if isinstance(series, Mapping) else "?"
        if problems:
            report.rejected.append((name, series_id, "; ".join(problems)))
        else:
            groups.setdefault(series_id, []).append((name, record))

    def keep(versions: list[tuple[str, Record]], stem: str) -> Path | None:
        """Write identical versions as one (analysts joined, thumbnails pooled); a bad thumbnail rejects it."""
        pooled: dict[str, str] = {}  # the same case file's thumbnail has the same name in every source
        for _, r in versions:
            for t in r["safe_thumbnails"]:
                pooled.setdefault(Path(t).name, t)
        record = versions[0][1] | {"analyst": "; ".join(dict.fromkeys(r["analyst"] for _, r in versions)),
                                   "safe_thumbnails": list(pooled.values())}
        try:
            path = _write(record, target, stem)
        except PackageError as exc:
            report.rejected.append((", ".join(n for n, _ in versions), record["series"]["id"], str(exc)))
            return None
        report.written.append(path)
        return path

    for series_id, versions in groups.items():
        distinct: list[tuple[dict, list[tuple[str, Record]]]] = []
        for version in versions:
            same = next((d for d in distinct if d[0] == _findings(version[1])), None)
            if same:
                same[1].append(version)
            else:
                distinct.append((_findings(version[1]), [version]))
        if len(distinct) == 1:
            if keep(versions, _stem(series_id)) and len(versions) > 1:
                report.merged.append(series_id)
            continue
        kept = []
        for _, group in distinct:
            analysts = "; ".join(dict.fromkeys(r["analyst"] for _, r in group))
            stem = f"{_stem(series_id)}~{_stem(analysts)}"
            while (target / f"{stem}.json").exists():  # two versions by one analyst name
                stem += "+"
            path = keep(group, stem)
            if path is not None:
                kept.append((", ".join(dict.fromkeys(n for n, _ in group)), analysts, path))
        fields = sorted({k for f, _ in distinct for k in f if any(f.get(k) != g.get(k) for g, _ in distinct)})
        report.conflicts.append(Conflict(series_id, tuple(kept), tuple(fields)))
    files = {s: set(v[0][1]["series"]["files"]) for s, v in groups.items()}
    ids = list(files)
    report.overlaps = [(a, b, len(files[a] & files[b])) for i, a in enumerate(ids) for b in ids[i + 1:]
                       if files[a] & files[b]]
    (target / REPORT_NAME).write_text(json.dumps(
        {"written": [p.name for p in report.written], "merged": report.merged,
         "conflicts": [{"series": c.series_id, "versions": [{"source": s, "analyst": a, "file": p.name}
                                                            for s, a, p in c.versions],
                        "differences": list(c.differences)} for c in report.conflicts],
         "overlaps": [{"series": [a, b], "shared_files": n} for a, b, n in report.overlaps],
         "rejected": [{"source": s, "series": i, "problems": p} for s, i, p in report.rejected]},
        ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return report


# --------------------------------------------------------------------------- scoring (instructor side)


@dataclass(frozen=True)
class _Key:
    """The answer-key facts scoring needs."""

    series_of_file: dict[str, str]
    targets: frozenset[str]  # actionable and not already known
    known_id: dict[str, str]  # series → its known-series database id
    actionable: frozenset[str]
    site: dict[str, tuple[float, float]]
    serials: dict[str, frozenset[str]]  # every serial of the series' devices
    visible_serials: dict[str, frozenset[str]]  # serials that reached the case files
    case_root: Path


def _truthy(column: pd.Series) -> pd.Series:
    return column.astype(str).str.strip().str.lower().eq("true")


def _answer_key(answer_key_dir: PathLike) -> _Key:
    """Read series, files, devices and clues of an answer key; a clear error naming a missing table."""
    root = Path(answer_key_dir)
    tables = {}
    for name in ("series", "files", "devices", "clues"):
        path = root / f"{name}.csv"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: not found — is {root} an answer_key folder?")
        tables[name] = pd.read_csv(path, dtype=str, keep_default_na=False)
    series, files, devices, clues = tables["series"], tables["files"], tables["devices"], tables["clues"]
    known = _truthy(series["known"])
    actionable = _truthy(series["actionable"])
    serial_of = dict(zip(devices["device_id"], devices["serial"].str.upper()))
    serial_clues = clues[clues["kind"].isin(["device_serial", "registered_serial"])]
    return _Key(
        series_of_file=dict(zip(files["path"], files["series_id"])),
        targets=frozenset(series.loc[actionable & ~known, "series_id"]),
        known_id=dict(zip(series.loc[known, "series_id"], series.loc[known, "known_db_id"])),
        actionable=frozenset(series.loc[actionable, "series_id"]),
        site={s: (float(a), float(b)) for s, a, b in zip(series["series_id"], series["site_lat"], series["site_lon"])},
        serials={s: frozenset(serial_of[d] for d in ds.split(";") if d in serial_of)
                 for s, ds in zip(series["series_id"], series["devices"])},
        visible_serials={s: frozenset(g["value"].str.upper()) for s, g in serial_clues.groupby("series_id")},
        case_root=root.parent / "case",
    )


def _country_codes(country: str) -> set[str]:
    """ISO codes a written country may mean: the code itself, its GeoNames name or the course atlas's name."""
    from synthetic_data.atlas import load_atlas  # the course's own spellings ("Laos", "South Korea")

    want = country.strip().casefold()
    codes = {code for code, name in _geonames_places()[1].items() if want in (code.casefold(), name.casefold())}
    return codes | {loc.country_code for loc in load_atlas() if want in (loc.country.casefold(), loc.country_code.casefold())}


@lru_cache(maxsize=256)
def _city_point(city: str, country: str | None) -> tuple[float, float] | None:
    """A named city's point: the course atlas (English or local name), else the most populous GeoNames place.

    An unrecognised country is ignored rather than failing the lookup; None when no place has the name.
    """
    from synthetic_data.atlas import load_atlas

    want = city.strip().casefold()
    codes = _country_codes(country) if country else set()
    for loc in load_atlas():
        if want in (loc.city.casefold(), loc.city_local.casefold(), loc.city_id) and (not codes or loc.country_code in codes):
            return loc.lat, loc.lon
    matches = [p for p in _geonames_places()[0]
               if p["city"].casefold() == want and (not codes or p["country_code"] in codes)]
    if not matches:
        return None
    best = max(matches, key=lambda p: p.get("population", 0))
    return best["latitude"], best["longitude"]


def _estimate(record: Mapping[str, Any]) -> tuple[float, float] | None:
    """The package's location as a point: its lat/lon, else its city geocoded offline, else None."""
    where = record.get("location") if isinstance(record.get("location"), Mapping) else {}
    lat, lon = where.get("lat"), where.get("lon")
    if isinstance(lat, (int, float)) and isinstance(lon, (int, float)):
        return float(lat), float(lon)
    if isinstance(where.get("city"), str) and where["city"].strip():
        country = where.get("country") if isinstance(where.get("country"), str) else None
        return _city_point(where["city"].strip(), country.strip() if country else None)
    return None


def _package_files(record: Mapping[str, Any]) -> list[str]:
    series = record.get("series") if isinstance(record.get("series"), Mapping) else {}
    files = series.get("files", [])
    return [f for f in files if isinstance(f, str)] if isinstance(files, list) else []


def _package_serials(record: Mapping[str, Any]) -> set[str]:
    devices = record.get("devices") if isinstance(record.get("devices"), list) else []
    return {str(d["serial"]).strip().upper() for d in devices
            if isinstance(d, Mapping) and d.get("serial") and str(d["serial"]).strip()}


def _ratio(a: float, b: float, empty: float = 0.0) -> float:
    return a / b if b else empty


#: The headline numbers of a Score, in leaderboard order.
LEADERBOARD_COLUMNS = ("total", "precision", "recall", "f1", "median_location_km", "located", "device_precision",
                       "device_recall", "device_f1", "duplicate_packages", "known_as_new", "duplicates_avoided",
                       "packages", "found", "actionable")
DETAIL_COLUMNS = ["package", "series_id", "file_share", "status", "location_km", "serials_listed",
                  "serials_correct", "serials_visible", "valid"]


@dataclass(frozen=True)
class Score:
    """How a team's packages compare with the answer key (rules: docs/capstone_packages.md)."""

    packages: int
    actionable: int  # series the team should have packaged (actionable, not already known)
    found: int
    precision: float
    recall: float
    f1: float
    median_location_km: float
    located: float  # share of found series located within LOCATED_KM
    device_precision: float
    device_recall: float
    device_f1: float
    duplicate_packages: int  # extra packages for a series already packaged
    known_as_new: int  # a known series packaged without linking its known-series id
    duplicates_avoided: float
    total: float
    details: pd.DataFrame = field(repr=False, compare=False)  # one row per package
    missed: tuple[str, ...] = ()  # actionable series no package found

    def summary(self) -> dict[str, float | int]:
        """The headline numbers as a dict (a leaderboard row)."""
        return {k: getattr(self, k) for k in LEADERBOARD_COLUMNS}


def score_packages(packages: PathLike | Iterable[Mapping[str, Any]], answer_key_dir: PathLike) -> Score:
    """Score a team's packages (a folder or records) against the answer key (rules: docs/capstone_packages.md).

    A record that breaks the schema is still scored on what it holds; an unreadable file is a PackageError.
    """
    key = _answer_key(answer_key_dir)
    if isinstance(packages, (str, os.PathLike)):
        records = read_packages(packages)
    else:
        records = [dict(p) if isinstance(p, Mapping) else {} for p in packages]
    rows = []
    for i, record in enumerate(records):
        files = [_case_relative(f, key.case_root) for f in _package_files(record)]
        votes = Counter(key.series_of_file.get(f) for f in files)
        votes.pop(None, None)
        series_id, n = votes.most_common(1)[0] if votes else (None, 0)
        share = _ratio(n, len(files))
        label = record.get("series", {}).get("id") if isinstance(record.get("series"), Mapping) else None
        rows.append({"package": str(label if label is not None else f"#{i}"),
                     "series_id": series_id if share > 0.5 else None, "file_share": round(share, 3),
                     "valid": not validate(record), "_order": i, "_files": n, "_record": record})
    # the purest package of a series stands for it (then the one with most of its files); the rest are duplicates
    best: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: (-r["file_share"], -r["_files"], r["_order"])):
        if row["series_id"] is not None:
            best.setdefault(row["series_id"], row["_order"])
    for row in rows:
        s, record = row["series_id"], row["_record"]
        linked = {str(x) for x in record.get("linked_series", [])} if isinstance(record.get("linked_series"), list) else set()
        if s is None:
            row["status"] = "no_majority"
        elif best[s] != row["_order"]:
            row["status"] = "duplicate"
        elif s in key.known_id:
            row["status"] = "known_linked" if key.known_id[s] in linked else "known_as_new"
        elif s in key.targets:
            row["status"] = "found"
        else:
            row["status"] = "not_actionable"
        found = row["status"] == "found"
        estimate = _estimate(record) if found else None
        row["location_km"] = round(float(haversine_km(estimate, key.site[s])), 3) if estimate else math.nan
        listed = _package_serials(record) if found else set()
        row["serials_listed"] = len(listed)
        row["serials_correct"] = len(listed & key.serials.get(s, frozenset())) if found else 0
        row["serials_visible"] = len(key.visible_serials.get(s, frozenset())) if found else 0
        row["_recalled"] = len(listed & key.visible_serials.get(s, frozenset())) if found else 0
    details = pd.DataFrame(rows, columns=DETAIL_COLUMNS + ["_recalled"])
    status = details["status"].value_counts()
    found, judged = int(status.get("found", 0)), len(details) - int(status.get("known_linked", 0))
    precision, recall = _ratio(found, judged), _ratio(found, len(key.targets))
    hits = details[details["status"] == "found"]
    listed, visible = int(hits["serials_listed"].sum()), int(hits["serials_visible"].sum())
    nothing_to_link = 1.0 if found else 0.0  # no serial in the case and none claimed: nothing wrong
    device_precision = _ratio(int(hits["serials_correct"].sum()), listed, 0.0 if visible else nothing_to_link)
    device_recall = _ratio(int(hits["_recalled"].sum()), visible, nothing_to_link)
    repeats, as_new = int(status.get("duplicate", 0)), int(status.get("known_as_new", 0))
    duplicates_avoided = 1.0 - _ratio(repeats + as_new, len(details), 1.0) if len(details) else 0.0
    km = hits["location_km"]
    located = _ratio(int((km <= LOCATED_KM).sum()), found)
    f1 = _ratio(2 * precision * recall, precision + recall)
    device_f1 = _ratio(2 * device_precision * device_recall, device_precision + device_recall)
    return Score(
        packages=len(details), actionable=len(key.targets), found=found,
        precision=precision, recall=recall, f1=f1,
        median_location_km=float(km.median()) if km.notna().any() else math.nan, located=located,
        device_precision=device_precision, device_recall=device_recall, device_f1=device_f1,
        duplicate_packages=repeats, known_as_new=as_new, duplicates_avoided=duplicates_avoided,
        total=f1 * (located + device_f1 + duplicates_avoided) / 3,
        details=details[DETAIL_COLUMNS],
        missed=tuple(sorted(key.targets - set(hits["series_id"]))),
    )


def leaderboard(team_scores: Mapping[str, Score]) -> pd.DataFrame:
    """One row per team, best total first (ties: higher F1), ranked from 1, for the instructor."""
    board = pd.DataFrame([{"team": team} | score.summary() for team, score in team_scores.items()],
                         columns=["team", *LEADERBOARD_COLUMNS])
    board = board.sort_values(["total", "f1", "team"], ascending=[False, False, True], kind="stable")
    board.insert(0, "rank", range(1, len(board) + 1))
    return board.reset_index(drop=True)


def leaderboard_figure(board: pd.DataFrame) -> Figure:
    """Grouped bars per team: precision, recall, located, device F1 and duplicates avoided (0 to 1)."""
    from matplotlib.figure import Figure

    metrics = {"precision": "precision", "recall": "recall", "located": f"located ≤ {LOCATED_KM:g} km",
               "device_f1": "device linkage (F1)", "duplicates_avoided": "duplicates avoided"}
    figure = Figure(figsize=(9, 1.5 + 0.55 * max(len(board), 1) * 1.6), layout="constrained")
    ax = figure.add_subplot()
    teams = list(board["team"])[::-1]  # best at the top
    height = 0.8 / len(metrics)
    for j, (column, label) in enumerate(metrics.items()):
        values = board.set_index("team").loc[teams, column].astype(float) if teams else []
        ax.barh([i + j * height for i in range(len(teams))], values, height=height, label=label)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(teams))], teams)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share (1 = perfect)")
    ax.set_title("Capstone leaderboard (best total at the top)")
    figure.legend(loc="outside right upper", fontsize=8)
    return figure
