"""Generate one profile's data into <root>/<profile>/, atomically: a half-written profile is never seen as done.

Layout: case/ is what trainees see (seized_sample/, submissions/<country>/<seized device>/…, case_db/, reference/);
answer_key/ is the ground truth (docs/data.md); generation.json is written last.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import secrets
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import PIL
import pillow_heif
from PIL import Image
from tqdm import tqdm

from synthetic_data.atlas import location
from synthetic_data.devices import model_qtables
from synthetic_data.device_trees import os_and_app_files, write_known_file_list
from synthetic_data.disk_image import write_disk_image
from synthetic_data.known_series import KnownFile, KnownSeries, write_known_series_db, write_vics_json
from synthetic_data.profiles import ProfileSpec, get_spec
from synthetic_data.seized_sample import ANSWER_KEY_COLUMNS, make_seized_sample, settle_folder_times
from synthetic_data.series import Job, render_series
from synthetic_data.world import SeizedDevice, World, plan_world, stream
from vidlab.course import data_root
from vidlab.similarity import hash_file

GENERATOR_VERSION = "0.5.0"
# Written last: vidlab.course.data_dir treats a profile folder without it as not generated.
RECORD_NAME = "generation.json"
T = TypeVar("T")
MANIFEST_NAME = "manifest.csv"

FILE_COLUMNS = (
    "path", "series_id", "shot", "scene", "form", "platform", "seized_device", "device_id", "true_kind", "width",
    "height", "orientation", "taken_utc", "recorded_local", "offset_written", "clock_tz", "clock_error_s", "exif",
    "has_gps", "gps_lat", "gps_lon", "thumbnail", "transformations", "visible_clues", "status_bar_time", "mains_hz",
    "keyframes", "known_hash", "modified_utc", "size", "md5", "sha1", "sha256",
)
SERIES_COLUMNS = (
    "series_id", "city_id", "city", "country", "country_code", "site_lat", "site_lon", "setting", "scenes", "shots",
    "devices", "first_taken_utc", "last_taken_utc", "submitters", "actionable", "locating_clues", "clues",
    "exif_stripped", "known", "known_db_id", "files", "language", "business_name", "business_branch",
    "business_phone", "business_web", "calendar_month", "plug", "currency", "driving_side", "mains_hz", "video",
    "audio",
)
CLUE_COLUMNS = ("series_id", "kind", "value", "locating", "path", "box", "corners", "text_px", "needs_enhancement")
DEVICE_COLUMNS = (
    "device_id", "make", "model", "kind", "serial", "software", "native_width", "native_height", "clock_tz",
    "clock_error_s", "gps", "writes_offset", "registered", "series", "qtable_luminance", "qtable_chrominance",
)
SEIZED_COLUMNS = ("seized_device", "country", "platform", "owner_tz", "series_files", "os_files")
OS_FILE_COLUMNS = ("path", "seized_device", "role", "known", "size", "md5", "sha1", "sha256")
DISK_COLUMNS = ("image", "name", "series_id", "shot", "device_id", "state", "offset", "length_original",
                "length_on_disk", "sha256_original")
KNOWN_COLUMNS = ("known_db_id", "series_id", "label", "country", "first_seen", "files_in_db", "files_in_case")
MANIFEST_COLUMNS = ("path", "size", "sha256")


class OutputNotWritableError(PermissionError):
    """The output folder cannot be written."""


class NotEnoughDiskError(OSError):
    """Less free disk space than the profile needs."""


def csv_value(value: Any) -> str:
    """One answer-key cell: booleans as lower-case true/false (pandas reads them back as booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_answer_key(path: Path, rows: Iterable[dict[str, Any]], columns: Sequence[str] = ANSWER_KEY_COLUMNS) -> None:
    """Write answer-key rows as CSV with Unix line endings, so the bytes are the same on every platform."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([csv_value(row.get(column, "")) for column in columns] for row in rows)


def existing_parent(path: Path) -> Path:
    """The nearest folder at or above path that exists."""
    path = path.absolute()
    while not path.exists():
        path = path.parent
    return path


def check_output(root: Path, spec: ProfileSpec, series: int | None) -> None:
    """Refuse, before any work, an output folder that cannot be written or has too little free space."""
    parent = existing_parent(root)
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputNotWritableError(f"cannot write generated data into {root}: {parent} is not a writable folder")
    needed_mb = round(spec.estimated_mb * (series if series is not None else spec.series) / spec.series) + 10
    free_mb = shutil.disk_usage(parent).free // 2**20
    if free_mb < needed_mb:
        raise NotEnoughDiskError(
            f"profile {spec.name!r} needs about {needed_mb:,} MB free in {parent}; only {free_mb:,} MB is free"
        )


def generation_record(spec: ProfileSpec, seed: int, rows: list[dict[str, Any]], world: dict[str, Any]) -> dict[str, Any]:
    """What was generated and with which encoders; no timestamps, so the same inputs give the same file."""
    return {
        "profile": spec.name,
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        # Encoded bytes depend on these libraries: a version change explains a changed checksum.
        "encoders": {
            "pillow": PIL.__version__,
            "pillow_heif": pillow_heif.__version__,
            "libheif": pillow_heif.libheif_version(),
        },
        "seized_sample": {
            "files": len(rows),
            "kinds": dict(sorted(Counter(row["true_kind"] for row in rows).items())),
            "extension_liars": sum(row["extension_lies"] for row in rows),
            "truncated": sum(row["truncated"] for row in rows),
            "empty": sum(row["empty"] for row in rows),
        },
        "world": world,
    }


def series_cost(job: Job) -> int:
    """Rough work of a series (files written), to start the biggest first and keep workers busy to the end."""
    return len(job.plan.files) * job.plan.scenes


def run_jobs(pool: Executor | None, work: Callable[[Any], T], items: Sequence[Any], progress: bool, label: str) -> list[T]:
    """Run independent jobs in the pool (inline without one); results in input order, whatever order they finish."""
    results: list[Any] = [None] * len(items)
    with tqdm(total=len(items), desc=label, unit="job", disable=not progress) as bar:
        if pool is None:
            for index, item in enumerate(items):
                results[index] = work(item)
                bar.update()
            return results
        futures = {pool.submit(work, item): index for index, item in enumerate(items)}
        try:
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                bar.update()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return results


def render_world(world: World, spec: ProfileSpec, folder: Path, progress: bool,
                 pool: Executor | None) -> list[dict[str, Any]]:
    """Draw and write every series (largest first, to keep workers busy); results sorted by series id."""
    owners = tuple((device.name, device.owner_tz) for device in world.seized)
    jobs = sorted((Job(plan, spec, folder / "case", folder / "staging", owners) for plan in world.series),
                  key=series_cost, reverse=True)
    results = run_jobs(pool, render_series, jobs, progress, f"{spec.name}: series")
    return sorted(results, key=lambda result: result["series_id"])


def seen_thumbnails(case: Path, paths: Sequence[str]) -> list[Image.Image]:
    """Small versions of pictures a seized device held: its thumbnail stores keep them (a classic find)."""
    pictures = []
    for path in paths:
        with Image.open(case / path) as image:
            image.draft("RGB", (160, 160))
            pictures.append(image.convert("RGB").resize((96, 72)))
    return pictures


@dataclass(frozen=True)
class TreeJob:
    """One seized phone or computer's OS and application files."""

    device: SeizedDevice
    seed: int
    count: int
    case: Path
    last_use: datetime
    seen: tuple[str, ...]  # case paths of pictures it showed


def write_device_tree(job: TreeJob) -> list[dict[str, Any]]:
    """Write one device's OS and application files; rows with paths relative to case/."""
    device = job.device
    dest = job.case / "submissions" / device.country / device.name
    rows = os_and_app_files(dest, stream(job.seed, "device tree", device.name), job.count, device.platform,
                            when=job.last_use, thumbnails=seen_thumbnails(job.case, job.seen))
    return [row | {"path": f"submissions/{device.country}/{device.name}/{row['path']}", "seized_device": device.name}
            for row in rows]


def write_device_trees(world: World, spec: ProfileSpec, case: Path, files: list[dict[str, Any]],
                       pool: Executor | None) -> list[dict[str, Any]]:
    """OS and application files on every seized phone and computer (memory cards hold none)."""
    jobs = []
    for device in world.seized:
        if device.platform == "sdcard":
            continue
        held = [row for row in files if row["seized_device"] == device.name]
        last_use = max((row["modified_utc"] for row in held), default="2025-06-01T00:00:00Z")
        seen = tuple(row["path"] for row in held if row["true_kind"] in ("jpeg", "png"))[:3]
        jobs.append(TreeJob(device, world.seed, spec.os_files, case,
                            datetime.fromisoformat(last_use.replace("Z", "+00:00")) + timedelta(days=2), seen))
    return [row for rows in run_jobs(pool, write_device_tree, jobs, False, "") for row in rows]


@dataclass(frozen=True)
class DiskJob:
    """One wiped memory stick and the deleted originals it still holds."""

    image: str
    path: Path
    deleted: tuple[tuple[str, str, str, int, str], ...]  # (name, staged file, series id, shot, device id)
    seed: int
    size: int


def write_one_disk_image(job: DiskJob) -> list[dict[str, Any]]:
    """Write a raw image holding the deleted JPEGs; rows say where each one is and what survived of it."""
    jpegs = [(name, Path(staged).read_bytes()) for name, staged, *_ in job.deleted]
    owners = {hashlib.sha256(data).hexdigest(): entry for (_, data), entry in zip(jpegs, job.deleted)}
    job.path.parent.mkdir(parents=True, exist_ok=True)
    rows = write_disk_image(job.path, jpegs, stream(job.seed, "disk image", job.image), job.size)
    return [row | {"image": job.image, "series_id": owners[row["sha256_original"]][2],
                   "shot": owners[row["sha256_original"]][3], "device_id": owners[row["sha256_original"]][4]}
            for row in rows]


def write_disk_images(world: World, spec: ProfileSpec, case: Path, deleted: list[dict[str, Any]],
                      pool: Executor | None) -> list[dict[str, Any]]:
    """Each country's wiped memory stick as a raw image, holding some series originals as deleted JPEGs."""
    jobs = [DiskJob(image, case / image, tuple((gone["name"], gone["staged"], gone["series_id"], gone["shot"],
                                                gone["device_id"]) for gone in deleted if gone["image"] == image),
                    world.seed, spec.disk_image_mb * 2**20) for image, _ in world.disk_images]
    return [row for rows in run_jobs(pool, write_one_disk_image, jobs, False, "") for row in rows]


LABEL_WORDS = (("Yellow", "Blue", "Green", "Red", "Grey", "White", "Striped", "Tiled"),
               ("sofa", "curtain", "shelf", "cabinet", "street", "shopfront", "window", "table"))


def known_series(world: World, files: list[dict[str, Any]], series_rows: dict[str, dict[str, Any]], case: Path,
                 pool: Executor | None) -> list[KnownSeries]:
    """The case database: series identified before, with most of their files' hashes (MD5, SHA-1 and the PDQ the
    toolkit computes for the same file), among decoy series that this case does not contain."""
    rng = stream(world.seed, "known series")
    chosen = []
    for plan in world.series:
        if not plan.known:
            continue
        held = {row["md5"]: row for row in files if row["series_id"] == plan.series_id and row["true_kind"] == "jpeg"}
        listed = [held[md5] for md5 in sorted(held) if rng.random() < 0.75] or list(held.values())[:1]
        first = plan.shots[0].taken - timedelta(days=rng.randint(30, 700))
        series_id = f"KS-{first.year}-{rng.randrange(10000):04d}"
        chosen.append((plan, series_id, f"{rng.choice(LABEL_WORDS[0])} {rng.choice(LABEL_WORDS[1])}", first, listed))
    paths = [row["path"] for *_, listed in chosen for row in listed]
    pdq = dict(zip(paths, listed_pdq([case / path for path in paths], pool)))
    entries = []
    for plan, series_id, label, first, listed in chosen:
        entries.append(KnownSeries(
            series_id, label, location(plan.city_id).country_code, first.strftime("%Y-%m-%d"),
            tuple(KnownFile(row["path"].rsplit("/", 1)[-1], row["md5"], row["sha1"], row["size"], pdq[row["path"]])
                  for row in listed),
        ))
        series_rows[plan.series_id]["known_db_id"] = series_id
    for _ in range(max(3, len(entries))):  # series from other cases: their hashes match nothing here
        first_seen = f"{rng.randint(2015, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        # Decoys get random PDQs too (a real hash list has one for every picture): 256 random bits lie about 128
        # bits from any picture, far beyond PDQ's match threshold, so they match nothing here either.
        decoys = tuple(KnownFile(f"IMG_{rng.randrange(10000):04d}.jpg", f"{rng.getrandbits(128):032x}",
                                 f"{rng.getrandbits(160):040x}", rng.randint(60_000, 900_000),
                                 f"{rng.getrandbits(256):064x}")
                       for _ in range(rng.randint(3, 12)))
        entries.append(KnownSeries(f"KS-{first_seen[:4]}-{rng.randrange(10000):04d}",
                                   f"{rng.choice(LABEL_WORDS[0])} {rng.choice(LABEL_WORDS[1])}",
                                   rng.choice(("AU", "PH", "TH", "GB", "US", "NZ", "JP")), first_seen, decoys))
    unique = {entry.series_id: entry for entry in entries}  # a clash of random ids keeps the first
    return sorted(unique.values(), key=lambda entry: entry.series_id)


def listed_pdq(paths: Sequence[Path], pool: Executor | None) -> list[str | None]:
    """PDQ of each file exactly as the toolkit hashes case files (vidlab.similarity.hash_file, PDQ's 512-pixel
    decode), so a database entry and its file in the case hash alike; None where a file cannot be hashed."""
    rows = run_jobs(pool, partial(hash_file, kinds=("pdq",)), paths, False, "")
    return [row["pdq"] for row in rows]


def series_summary(world: World, results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One answer-key row per series (what it is, where, which clues reached the case) and every clue row."""
    registered = {entry.serial for entry in world.registrations}
    rows, clue_rows = [], []
    for plan, result in zip(world.series, results):
        place = location(plan.city_id)
        clues = result["clues"]
        serials = {clue["value"] for clue in clues if clue["kind"] == "device_serial"}
        for serial in sorted(serials & registered):
            path = next(clue["path"] for clue in clues if clue["kind"] == "device_serial" and clue["value"] == serial)
            clues.append({"series_id": plan.series_id, "path": path, "kind": "registered_serial", "value": serial,
                          "box": "", "text_px": 0})
        if plan.audio:
            path = next(row["path"] for row in result["files"] if row["form"] == "audio")
            clues.append({"series_id": plan.series_id, "path": path, "kind": "mains_hum", "value": str(place.mains_hz),
                          "box": "", "text_px": 0})
        kinds = {clue["kind"] for clue in clues}
        locating = sorted(kinds & {"gps", "business_sign", "registered_serial"})
        if bool(locating) != plan.actionable:
            raise RuntimeError(f"{plan.series_id}: planned actionable={plan.actionable} but locating clues {locating}")
        for clue in clues:
            clue_rows.append(clue | {"locating": clue["kind"] in locating})
        facts = result["facts"]
        rows.append({
            "series_id": plan.series_id, "city_id": place.city_id, "city": place.city, "country": place.country,
            "country_code": place.country_code, "site_lat": plan.site[0], "site_lon": plan.site[1],
            "setting": "street" if plan.outdoor else "room", "scenes": plan.scenes, "shots": len(plan.shots),
            "devices": ";".join(device.device_id for device in plan.devices),
            "first_taken_utc": plan.shots[0].taken.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "last_taken_utc": plan.shots[-1].taken.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "submitters": ";".join(plan.submitters), "actionable": plan.actionable, "locating_clues": ";".join(locating),
            "clues": ";".join(sorted(kinds)), "exif_stripped": plan.exif_stripped, "known": plan.known,
            "known_db_id": "", "files": len(result["files"]), "driving_side": place.driving_side,
            "mains_hz": place.mains_hz, "video": plan.video, "audio": plan.audio,
        } | {column: facts.get(column, "") for column in ("language", "business_name", "business_branch",
                                                          "business_phone", "business_web", "calendar_month",
                                                          "plug", "currency")})
    return rows, clue_rows


def device_rows(world: World) -> list[dict[str, Any]]:
    """One answer-key row per camera or phone that took series photos."""
    registered = {entry.serial for entry in world.registrations}
    rows = {}
    for plan in world.series:
        for device in plan.devices:
            row = rows.setdefault(device.device_id, {
                "device_id": device.device_id, "make": device.model.make, "model": device.model.model,
                "kind": device.model.kind, "serial": device.serial, "software": device.software,
                "native_width": device.model.native[0], "native_height": device.model.native[1],
                "clock_tz": device.clock_tz, "clock_error_s": device.clock_error_s, "gps": device.gps,
                "writes_offset": device.model.writes_offset, "registered": device.serial in registered, "series": [],
                "qtable_luminance": " ".join(map(str, model_qtables(device.model)[0])),
                "qtable_chrominance": " ".join(map(str, model_qtables(device.model)[1])),
            })
            row["series"].append(plan.series_id)
    return [row | {"series": ";".join(row["series"])} for _, row in sorted(rows.items())]


def manifest_rows(folder: Path, known: dict[str, str]) -> list[dict[str, Any]]:
    """Every generated file under case/ and answer_key/ with its size and SHA-256 (hashes already computed reused)."""
    rows = []
    for top in ("case", "answer_key"):
        for path in sorted((folder / top).rglob("*")):
            if not path.is_file() or path.name == MANIFEST_NAME:
                continue
            relative = path.relative_to(folder).as_posix()
            digest = known.get(relative)
            if digest is None:
                with path.open("rb") as handle:
                    digest = hashlib.file_digest(handle, "sha256").hexdigest()
            rows.append({"path": relative, "size": path.stat().st_size, "sha256": digest})
    return rows


def write_case_db(world: World, case: Path, entries: list[KnownSeries]) -> None:
    """The case database folder: known series (SQLite and VICS JSON) and the device register (CSV)."""
    write_known_series_db(case / "case_db" / "known_series.sqlite", entries)
    write_vics_json(case / "case_db" / "known_series_vics.json", entries)
    write_answer_key(case / "case_db" / "registered_devices.csv",
                     [vars(entry) for entry in world.registrations],
                     ("serial", "make", "model", "city", "country", "source"))


def build_world(folder: Path, spec: ProfileSpec, world: World, progress: bool, pool: Executor | None) -> dict[str, Any]:
    """Write the series world and its case files, then its answer key; return the record's summary."""
    case, key = folder / "case", folder / "answer_key"
    results = render_world(world, spec, folder, progress, pool)
    files = sorted((row for result in results for row in result["files"]), key=lambda row: row["path"])
    os_rows = write_device_trees(world, spec, case, files, pool)
    write_known_file_list(case / "reference" / "known_files_nsrl.csv", os_rows)
    deleted = [gone for result in results for gone in result["deleted"]]
    disk_rows = write_disk_images(world, spec, case, deleted, pool)
    shutil.rmtree(folder / "staging", ignore_errors=True)
    series_rows, clue_rows = series_summary(world, results)
    by_series = {row["series_id"]: row for row in series_rows}
    entries = known_series(world, files, by_series, case, pool)
    write_case_db(world, case, entries)
    in_db = {file.md5 for entry in entries for file in entry.files}
    for row in files:
        row["known_hash"] = row["md5"] in in_db
    # Files the task force made (disk images, database, reference list) are dated after the newest evidence, so
    # the same seed gives the same times too.
    closed = datetime.fromisoformat(max(row["modified_utc"] for row in files).replace("Z", "+00:00")) + timedelta(days=7)
    made_here = [case / image for image, _ in world.disk_images]
    for path in made_here + [*(case / "case_db").iterdir(), *(case / "reference").iterdir()]:
        os.utime(path, (closed.timestamp(), closed.timestamp()))

    write_answer_key(key / "series.csv", series_rows, SERIES_COLUMNS)
    write_answer_key(key / "files.csv", files, FILE_COLUMNS)
    write_answer_key(key / "clues.csv", sorted(clue_rows, key=lambda row: (row["series_id"], row["kind"], row["path"])),
                     CLUE_COLUMNS)
    write_answer_key(key / "devices.csv", device_rows(world), DEVICE_COLUMNS)
    counts = Counter(row["seized_device"] for row in files)
    os_counts = Counter(row["seized_device"] for row in os_rows)
    write_answer_key(key / "seized_devices.csv", [
        {"seized_device": d.name, "country": d.country, "platform": d.platform, "owner_tz": d.owner_tz,
         "series_files": counts[d.name], "os_files": os_counts[d.name]} for d in world.seized], SEIZED_COLUMNS)
    write_answer_key(key / "os_files.csv", sorted(os_rows, key=lambda row: row["path"]), OS_FILE_COLUMNS)
    write_answer_key(key / "disk_images.csv", disk_rows, DISK_COLUMNS)
    case_md5 = Counter(row["md5"] for row in files)
    write_answer_key(key / "known_series.csv", [
        {"known_db_id": entry.series_id, "label": entry.label, "country": entry.country, "first_seen": entry.first_seen,
         "files_in_db": len(entry.files), "files_in_case": sum(case_md5[file.md5] for file in entry.files),
         "series_id": next((row["series_id"] for row in series_rows if row["known_db_id"] == entry.series_id), "")}
        for entry in entries], KNOWN_COLUMNS)
    return {
        "series": len(world.series),
        "actionable": sum(plan.actionable for plan in world.series),
        "known": sum(plan.known for plan in world.series),
        "series_files": dict(sorted(Counter(row["form"] for row in files).items())),
        "os_files": len(os_rows),
        "disk_images": len(world.disk_images),
        "hashes": {f"case/{row['path']}": row["sha256"] for row in files + os_rows},
    }


def build(folder: Path, spec: ProfileSpec, seed: int, progress: bool, series: int | None = None,
          workers: int | None = None) -> None:
    """Write every part of a profile into folder, the generation record last; independent parts (the Day 1 sample,
    each series, each device tree and disk image) run in parallel worker processes."""
    world = plan_world(spec, seed, series)
    workers = max(1, min(workers or os.cpu_count() or 1, len(world.series)))
    with ExitStack() as stack:
        pool = stack.enter_context(ProcessPoolExecutor(max_workers=workers)) if workers > 1 else None
        sample_dest = folder / "case" / "seized_sample"
        sample = pool.submit(make_seized_sample, sample_dest, spec, random.Random(seed)) if pool else None
        summary = build_world(folder, spec, world, progress, pool)
        rows = sample.result() if sample else make_seized_sample(sample_dest, spec, random.Random(seed))
    settle_folder_times(folder / "case")
    write_answer_key(folder / "answer_key" / "seized_sample.csv", rows)
    manifest = manifest_rows(folder, summary.pop("hashes"))
    write_answer_key(folder / "answer_key" / MANIFEST_NAME, manifest, MANIFEST_COLUMNS)
    summary |= {"files": len(manifest), "bytes": sum(row["size"] for row in manifest),
                "manifest_sha256": hashlib.sha256((folder / "answer_key" / MANIFEST_NAME).read_bytes()).hexdigest()}
    record = json.dumps(generation_record(spec, seed, rows, summary), indent=2, sort_keys=True) + "\n"
    (folder / RECORD_NAME).write_text(record, encoding="utf-8", newline="\n")


def made_by_this_generator(record: Path) -> bool:
    """Whether a finished generation came from this generator version (older data lacks newer parts: regenerate)."""
    try:
        return json.loads(record.read_text(encoding="utf-8")).get("generator_version") == GENERATOR_VERSION
    except (OSError, ValueError):
        return False


def leftovers(root: Path, profile: str) -> list[Path]:
    """Folders a killed or failed run of this profile left behind."""
    return sorted(root.glob(f".{profile}.partial-*"))


def generate(
    profile: str, root: Path | None = None, seed: int | None = None, progress: bool = True, force: bool = False,
    series: int | None = None, workers: int | None = None,
) -> Path:
    """Generate a profile's data and return its folder; an existing generation by this generator version is kept
    unless force=True (one by another version is replaced: its files and answer key differ).

    series overrides the profile's number of series; workers the number of processes (default: one per CPU).
    Bad input (unknown profile, unwritable folder, too little disk) fails with a one-line error before any work.
    """
    spec = get_spec(profile)
    if series is not None and (not isinstance(series, int) or series < 1):
        raise ValueError(f"series must be a whole number of at least 1, got {series!r}")
    root = Path(root) if root is not None else data_root()
    target = root / profile
    record = target / RECORD_NAME
    if target.exists() and not force:
        if not record.is_file():
            raise FileExistsError(
                f"{target} exists but holds no {RECORD_NAME}: it is not a finished generation; use force=True to replace it"
            )
        if made_by_this_generator(record):
            return target
    check_output(root, spec, series)
    root.mkdir(parents=True, exist_ok=True)
    # Assumes one generator per profile at a time; a second one would lose its folder here and fail loudly.
    for stale in leftovers(root, profile):
        shutil.rmtree(stale)
    partial = root / f".{profile}.partial-{secrets.token_hex(4)}"
    partial.mkdir()
    try:
        build(partial, spec, spec.seed if seed is None else seed, progress, series, workers)
        if target.exists():
            retired = root / f".{profile}.partial-replaced-{secrets.token_hex(4)}"
            target.rename(retired)
            partial.rename(target)
            shutil.rmtree(retired)
        else:
            partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return target
