"""The generated world on the tiny profile: reproducible, honest answer key, readable EXIF, recoverable clues."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import exifread
import numpy as np
import pandas as pd
import pytest
from PIL import ExifTags, Image

import synthetic_data
from synthetic_data import build
from synthetic_data.atlas import location
from synthetic_data import contact_sheet, describe
from synthetic_data.devices import sensor_gain
from synthetic_data.world import SERIES_PREFIX, actionable_count, plan_world
from vidlab import casedb, similarity


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_data.generate("tiny", root=tmp_path_factory.mktemp("world"), progress=False)


def table(profile: Path, name: str) -> list[dict[str, str]]:
    with (profile / "answer_key" / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def gps_decimal(values: object, ref: str) -> float:
    degrees, minutes, seconds = (float(Fraction(str(value))) for value in values)  # type: ignore[union-attr]
    return (-1 if ref in ("S", "W") else 1) * (degrees + minutes / 60 + seconds / 3600)


# --- reproducible ------------------------------------------------------------------------------------------


def test_same_seed_gives_the_same_bytes_whatever_the_worker_count(tiny: Path, tmp_path: Path) -> None:
    again = synthetic_data.generate("tiny", root=tmp_path, progress=False, workers=1)
    assert (again / "answer_key" / "manifest.csv").read_bytes() == (tiny / "answer_key" / "manifest.csv").read_bytes()
    assert (again / "generation.json").read_bytes() == (tiny / "generation.json").read_bytes()


def test_manifest_lists_every_generated_file_with_its_sha256(tiny: Path) -> None:
    rows = table(tiny, "manifest.csv")
    on_disk = {path.relative_to(tiny).as_posix() for top in ("case", "answer_key") for path in (tiny / top).rglob("*")
               if path.is_file() and path.name != "manifest.csv"}
    assert {row["path"] for row in rows} == on_disk
    for row in rows:
        data = (tiny / row["path"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (int(row["size"]), row["sha256"]), row["path"]
    record = json.loads((tiny / "generation.json").read_text(encoding="utf-8"))
    manifest = (tiny / "answer_key" / "manifest.csv").read_bytes()
    assert record["world"]["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()


# --- the answer key matches the case --------------------------------------------------------------------


def test_answer_key_counts_match_the_profile(tiny: Path) -> None:
    series = table(tiny, "series.csv")
    assert len(series) == synthetic_data.get_spec("tiny").series >= 12
    assert sum(row["actionable"] == "true" for row in series) == actionable_count(len(series)) == 3
    files = table(tiny, "files.csv")
    assert {row["series_id"] for row in files} == {row["series_id"] for row in series}
    for row in series:
        assert int(row["files"]) == sum(file["series_id"] == row["series_id"] for file in files)
    for row in files:
        data = (tiny / "case" / row["path"]).read_bytes()
        assert hashlib.md5(data).hexdigest() == row["md5"] and len(data) == int(row["size"]), row["path"]
    record = json.loads((tiny / "generation.json").read_text(encoding="utf-8"))["world"]
    assert (record["series"], record["actionable"]) == (len(series), 3)
    assert sum(record["series_files"].values()) == len(files)
    frame = pd.read_csv(tiny / "answer_key" / "series.csv")
    assert frame["actionable"].dtype == bool and frame["known"].dtype == bool


def test_camera_originals_read_back_to_the_answer_key_with_exifread_and_pillow(tiny: Path) -> None:
    devices = {row["device_id"]: row for row in table(tiny, "devices.csv")}
    originals = [row for row in table(tiny, "files.csv") if row["form"] == "original"]
    assert len(originals) >= 10
    for row in originals:
        device = devices[row["device_id"]]
        data = (tiny / "case" / row["path"]).read_bytes()
        tags = exifread.process_file(io.BytesIO(data))
        with Image.open(io.BytesIO(data)) as image:
            exif = image.getexif()
            sensor_size = image.size
        details, gps = exif.get_ifd(ExifTags.IFD.Exif), exif.get_ifd(ExifTags.IFD.GPSInfo)
        stamp, subsec = row["recorded_local"].replace("-", ":", 2).replace("T", " ").split(".")
        for reader in ({"make": str(tags["Image Make"]), "model": str(tags["Image Model"]),
                        "serial": str(tags["EXIF BodySerialNumber"]), "software": str(tags["Image Software"]),
                        "taken": str(tags["EXIF DateTimeOriginal"]), "subsec": str(tags["EXIF SubSecTimeOriginal"]),
                        "offset": str(tags.get("EXIF OffsetTimeOriginal", "")),
                        "orientation": tags["Image Orientation"].values[0],
                        "size": (int(str(tags["EXIF ExifImageWidth"])), int(str(tags["EXIF ExifImageLength"])))},
                       {"make": exif[ExifTags.Base.Make], "model": exif[ExifTags.Base.Model],
                        "serial": details[ExifTags.Base.BodySerialNumber], "software": exif[ExifTags.Base.Software],
                        "taken": details[ExifTags.Base.DateTimeOriginal],
                        "subsec": details[ExifTags.Base.SubsecTimeOriginal],
                        "offset": details.get(ExifTags.Base.OffsetTimeOriginal, ""),
                        "orientation": exif[ExifTags.Base.Orientation],
                        "size": (exif[ExifTags.Base.ImageWidth], exif[ExifTags.Base.ImageLength])}):
            assert (reader["make"], reader["model"], reader["serial"], reader["software"]) == (
                device["make"], device["model"], device["serial"], device["software"]), row["path"]
            assert (reader["taken"], reader["subsec"], reader["offset"]) == (stamp, subsec, row["offset_written"])
            assert reader["orientation"] == int(row["orientation"]) and reader["size"] == sensor_size
        upright = sensor_size if row["orientation"] == "1" else sensor_size[::-1]
        assert upright == (int(row["width"]), int(row["height"]))
        assert bool(gps) == (row["has_gps"] == "true") == ("GPS GPSLatitude" in tags)
        if gps:
            for lat, lon in ((gps_decimal(tags["GPS GPSLatitude"].values, str(tags["GPS GPSLatitudeRef"])),
                              gps_decimal(tags["GPS GPSLongitude"].values, str(tags["GPS GPSLongitudeRef"]))),
                             (gps_decimal(gps[ExifTags.GPS.GPSLatitude], gps[ExifTags.GPS.GPSLatitudeRef]),
                              gps_decimal(gps[ExifTags.GPS.GPSLongitude], gps[ExifTags.GPS.GPSLongitudeRef]))):
                assert metres(lat, lon, float(row["gps_lat"]), float(row["gps_lon"])) < 1
        with Image.open(io.BytesIO(tags["JPEGThumbnail"])) as thumbnail:
            thumbnail.load()
            assert thumbnail.width == 160
            assert abs(thumbnail.width / thumbnail.height - sensor_size[0] / sensor_size[1]) < 0.05


def test_quantisation_tables_are_each_models_own(tiny: Path) -> None:
    devices = {row["device_id"]: row for row in table(tiny, "devices.csv")}
    by_model: dict[str, set[tuple[tuple[int, ...], ...]]] = defaultdict(set)
    shared: set[tuple[tuple[int, ...], ...]] = set()
    for row in table(tiny, "files.csv"):
        if row["true_kind"] != "jpeg":
            continue
        with Image.open(tiny / "case" / row["path"]) as image:
            tables = tuple(tuple(image.quantization[k]) for k in sorted(image.quantization))
        if row["form"] == "original":
            device = devices[row["device_id"]]
            by_model[f"{device['make']} {device['model']}"].add(tables)
            assert list(tables[0]) == [int(v) for v in device["qtable_luminance"].split()]
        else:
            shared.add(tables)
    assert len(by_model) >= 3
    assert all(len(tables) == 1 for tables in by_model.values())  # one model, one set of tables
    camera_tables = [next(iter(tables)) for tables in by_model.values()]
    assert len(set(camera_tables)) == len(camera_tables)  # no two models alike
    assert not shared & set(camera_tables)  # re-encoded copies carry the platform's or editor's tables


def test_gps_points_at_the_series_site_in_its_atlas_city(tiny: Path) -> None:
    series = {row["series_id"]: row for row in table(tiny, "series.csv")}
    fixes = [row for row in table(tiny, "files.csv") if row["has_gps"] == "true"]
    assert fixes
    for row in fixes:
        site = series[row["series_id"]]
        place = location(site["city_id"])
        assert metres(float(row["gps_lat"]), float(row["gps_lon"]), float(site["site_lat"]), float(site["site_lon"])) < 100
        assert metres(float(site["site_lat"]), float(site["site_lon"]), place.lat, place.lon) < 2500


def test_every_actionable_series_has_a_locating_clue_in_the_case(tiny: Path) -> None:
    clues = table(tiny, "clues.csv")
    register = (tiny / "case" / "case_db" / "registered_devices.csv").read_text(encoding="utf-8").splitlines()
    registered = {row["serial"] for row in csv.DictReader(register)}
    files = {row["path"]: row for row in table(tiny, "files.csv")}
    for series in table(tiny, "series.csv"):
        locating = [clue for clue in clues if clue["series_id"] == series["series_id"] and clue["locating"] == "true"]
        assert (series["actionable"] == "true") == bool(locating) == bool(series["locating_clues"]), series["series_id"]
        for clue in locating:
            file = files[clue["path"]]
            assert (tiny / "case" / clue["path"]).is_file()
            if clue["kind"] == "gps":
                assert file["has_gps"] == "true"
            elif clue["kind"] == "registered_serial":
                assert clue["value"] in registered
            else:
                x0, y0, x1, y1 = map(int, clue["box"].split())
                assert 0 <= x0 < x1 <= int(file["width"]) + 2 and 0 <= y0 < y1 <= int(file["height"]) + 2
                assert float(clue["text_px"]) >= 8
                assert series["business_phone"] in clue["value"] and series["business_branch"] in clue["value"]


def test_no_trainee_visible_file_holds_answer_key_text(tiny: Path) -> None:
    secrets = [SERIES_PREFIX.encode(), b"actionable", b"answer_key", b"DEV-0"]
    secrets += [row["series_id"].encode() for row in table(tiny, "series.csv")]
    for path in (tiny / "case").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert not [secret for secret in secrets if secret in data], path


def test_edited_copies_keep_the_uncropped_thumbnail(tiny: Path) -> None:
    files = table(tiny, "files.csv")
    edited = [row for row in files if row["form"] == "edited"]
    assert edited
    for row in edited:
        original = next(other for other in files if other["form"] == "original" and other["series_id"] == row["series_id"]
                        and other["shot"] == row["shot"])
        thumbs = [exifread.process_file(io.BytesIO((tiny / "case" / path).read_bytes()))["JPEGThumbnail"]
                  for path in (row["path"], original["path"])]
        assert thumbs[0] == thumbs[1]
        assert (int(row["width"]), int(row["height"])) != (int(original["width"]), int(original["height"]))
        assert "crop_after_capture" in row["transformations"] and row["thumbnail"] == "uncropped_original"


def test_reshared_copies_lose_location_and_camera_identity(tiny: Path) -> None:
    for row in table(tiny, "files.csv"):
        if row["form"] not in ("reshare", "screenshot"):
            continue
        with Image.open(tiny / "case" / row["path"]) as image:
            exif = image.getexif()
            assert image.format == ("PNG" if row["form"] == "screenshot" else "JPEG")
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert ExifTags.Base.BodySerialNumber not in exif.get_ifd(ExifTags.IFD.Exif)
        assert row["has_gps"] == "false" and row["thumbnail"] == "none"


# --- the rest of the case ------------------------------------------------------------------------------------


def test_videos_audio_and_disk_images_match_the_answer_key(tiny: Path) -> None:
    files = table(tiny, "files.csv")
    series = {row["series_id"]: row for row in table(tiny, "series.csv")}
    for row in files:
        data = (tiny / "case" / row["path"]).read_bytes()
        if row["form"] == "video":
            assert data[4:8] == b"ftyp"
        elif row["form"] == "audio":
            assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
            assert int(row["mains_hz"]) == location(series[row["series_id"]]["city_id"]).mains_hz
    assert {row["form"] for row in files} >= {"video", "audio", "original", "reshare"}
    disk = table(tiny, "disk_images.csv")
    assert disk
    for row in disk:
        with (tiny / "case" / row["image"]).open("rb") as image:
            image.seek(int(row["offset"]))
            start = image.read(int(row["length_on_disk"]))
        assert start[:3] == b"\xff\xd8\xff"
        if row["state"] == "whole":
            assert hashlib.sha256(start).hexdigest() == row["sha256_original"]


def test_known_series_database_holds_the_known_series_hashes(tiny: Path) -> None:
    stored = casedb.read_series(tiny / "case" / "case_db" / "known_series.sqlite")
    in_db = {file.md5 for entry in stored for file in entry.files}
    ids = {entry.series_id for entry in stored}
    known = [row for row in table(tiny, "series.csv") if row["known"] == "true"]
    assert known and all(row["known_db_id"] in ids for row in known)
    for row in table(tiny, "files.csv"):
        assert (row["known_hash"] == "true") == (row["md5"] in in_db)
        if row["known_hash"] == "true":
            assert row["series_id"] in {series["series_id"] for series in known}
    vics = json.loads((tiny / "case" / "case_db" / "known_series_vics.json").read_text(encoding="utf-8"))
    assert {entry["MD5"].lower() for entry in vics["value"]} == in_db


def test_known_series_pdq_is_the_toolkits_pdq_of_the_file(tiny: Path) -> None:
    stored = casedb.read_series(tiny / "case" / "case_db" / "known_series.sqlite")
    in_db = {file.md5: file.pdq for entry in stored for file in entry.files}
    vics = json.loads((tiny / "case" / "case_db" / "known_series_vics.json").read_text(encoding="utf-8"))
    assert {entry["MD5"].lower(): entry["PDQ"] for entry in vics["value"]} == in_db
    paths = {row["md5"]: row["path"] for row in table(tiny, "files.csv")}
    listed = {md5: pdq for md5, pdq in in_db.items() if md5 in paths}
    decoys = {md5: pdq for md5, pdq in in_db.items() if md5 not in paths}
    assert listed and decoys
    case_pdq = {md5: similarity.hash_file(tiny / "case" / path, kinds=("pdq",))["pdq"] for md5, path in paths.items()}
    assert all(pdq == case_pdq[md5] for md5, pdq in listed.items())
    for pdq in decoys.values():  # random but well-formed, and no match for anything in the case
        assert len(pdq) == 64 and int(pdq, 16) >= 0
        assert min(similarity.distance(pdq, other) for other in case_pdq.values() if other) > similarity.THRESHOLDS["pdq"]


def test_seized_devices_hold_os_files_filtered_by_the_known_file_list(tiny: Path) -> None:
    rows = table(tiny, "os_files.csv")
    assert rows
    for row in rows:
        assert hashlib.sha256((tiny / "case" / row["path"]).read_bytes()).hexdigest() == row["sha256"]
    listed = {line.split(",")[0].strip('"').lower()
              for line in (tiny / "case" / "reference" / "known_files_nsrl.csv").read_text().splitlines()[1:]}
    assert listed == {row["sha1"] for row in rows if row["known"] == "true"}


def test_describe_and_contact_sheet(tiny: Path, tmp_path: Path) -> None:
    summary = describe(tiny)
    items = dict(zip(summary["item"], summary["count"]))
    assert items["series"] == 14 and items["actionable"] == 3
    assert summary.loc[summary["section"] == "total", "count"].item() == len(table(tiny, "manifest.csv"))
    sheet = contact_sheet(tiny, tmp_path / "sheet.png", n=8)
    with Image.open(sheet) as image:
        assert image.size == (4 * 320, 2 * 240)


# --- generating ----------------------------------------------------------------------------------------------


def test_series_option_overrides_the_profile(tmp_path: Path) -> None:
    folder = synthetic_data.generate("tiny", root=tmp_path, progress=False, series=4)
    series = table(folder, "series.csv")
    assert len(series) == 4 and sum(row["actionable"] == "true" for row in series) == actionable_count(4) == 1


def test_data_from_another_generator_version_is_replaced(tiny: Path, tmp_path: Path) -> None:
    folder = synthetic_data.generate("tiny", root=tmp_path, progress=False, series=3)
    record = json.loads((folder / "generation.json").read_text(encoding="utf-8"))
    (folder / "generation.json").write_text(json.dumps(record | {"generator_version": "0.0.1"}), encoding="utf-8")
    assert synthetic_data.generate("tiny", root=tmp_path, progress=False, series=3) == folder
    assert json.loads((folder / "generation.json").read_text(encoding="utf-8")) == record


def test_bad_output_is_refused_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(build.OutputNotWritableError, match="not a writable folder"):
        synthetic_data.generate("tiny", root=blocker / "data", progress=False)
    with pytest.raises(ValueError, match="at least 1"):
        synthetic_data.generate("tiny", root=tmp_path / "data", progress=False, series=0)

    class Full:
        free = 5 * 2**20

    monkeypatch.setattr(build.shutil, "disk_usage", lambda path: Full())
    with pytest.raises(build.NotEnoughDiskError, match="needs about"):
        synthetic_data.generate("full", root=tmp_path / "data", progress=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a-file"]


def test_sensor_fingerprints_are_per_device() -> None:
    import numpy as np

    one = np.asarray(sensor_gain(1, 0.01, 0.0, (256, 192)), dtype=np.float32)[..., 0]
    again = np.asarray(sensor_gain(1, 0.01, 0.0, (256, 192)), dtype=np.float32)[..., 0]
    other = np.asarray(sensor_gain(2, 0.01, 0.0, (256, 192)), dtype=np.float32)[..., 0]
    assert np.array_equal(one, again)
    assert abs(np.corrcoef(one.ravel(), other.ravel())[0, 1]) < 0.05
    assert 240 < one.mean() < 250 and one.std() > 1  # gain 1 at 255/1.03, spread by 1 % PRNU


# --- shared devices and the dusk shot -------------------------------------------------------------------


def test_some_series_reuse_the_camera_of_an_earlier_series(tiny: Path) -> None:
    devices = pd.read_csv(tiny / "answer_key" / "devices.csv").set_index("device_id")
    files = pd.read_csv(tiny / "answer_key" / "files.csv")
    series = pd.read_csv(tiny / "answer_key" / "series.csv").set_index("series_id")
    shared = devices[devices["series"].str.contains(";")]
    assert len(shared) >= 2, "tiny should have at least two units each shared by two series"
    for device_id, unit in shared.iterrows():
        names = unit["series"].split(";")
        assert not unit["registered"], f"{device_id} is registered: its serial would locate every series it shot"
        assert series.loc[names, "city_id"].nunique() == 1, f"{device_id}'s series are in different cities"
        starts = pd.to_datetime(series.loc[names, "first_taken_utc"]).sort_values()
        assert (starts.diff().dropna() >= pd.Timedelta(days=40)).all(), f"{device_id}'s series are too close in time"
        originals = files[(files["device_id"] == device_id) & (files["exif"] == "full")]
        assert set(originals["series_id"]) == set(names), f"{device_id} has no camera original in some of its series"
        for _, group in originals.groupby("series_id"):  # one file per series, read back as a trainee would
            path = tiny / "case" / group["path"].iloc[0]
            with path.open("rb") as handle:
                tags = exifread.process_file(handle, details=False)
            assert str(tags["EXIF BodySerialNumber"]) == unit["serial"]
            with Image.open(path) as image:
                assert " ".join(map(str, image.quantization[0])) == unit["qtable_luminance"]
        assert files.loc[files["device_id"] == device_id, "clock_error_s"].nunique() == 1


def mean_grey(path: Path) -> float:
    with Image.open(path) as image:
        image.draft("L", (image.width // 4, image.height // 4))
        return float(np.asarray(image.convert("L")).mean())


def test_a_dusk_shot_shows_a_business_sign_dim_and_from_the_side(tiny: Path) -> None:
    files = pd.read_csv(tiny / "answer_key" / "files.csv")
    clues = pd.read_csv(tiny / "answer_key" / "clues.csv")
    jpegs = files[files["true_kind"] == "jpeg"]
    dusk = jpegs[jpegs["transformations"].str.contains("low_light")]
    assert len(dusk) >= 1 and set(dusk["form"]) == {"original"}, "the dusk shot reaches the case as originals only"
    brightness = {path: mean_grey(tiny / "case" / path) for path in jpegs["path"]}
    darkest = min(brightness, key=brightness.get)
    assert darkest in set(dusk["path"]), "the darkest JPEG of the case should be a dusk shot"
    assert max(brightness[path] for path in dusk["path"]) < 45
    assert min(brightness[path] for path in jpegs["path"] if path not in set(dusk["path"])) > 80
    signs = clues[(clues["path"].isin(dusk["path"])) & (clues["kind"] == "business_sign")]
    assert len(signs) == len(dusk) and signs["needs_enhancement"].all()
    assert not clues.loc[~clues["path"].isin(dusk["path"]), "needs_enhancement"].any()
    for _, sign in signs.iterrows():
        assert len(sign["value"].split(" | ")) == 4  # name, branch, phone, web
        tl, tr, br, bl = [tuple(map(float, pair)) for pair in zip(*[iter(sign["corners"].split())] * 2)]
        assert (br[1] - tr[1]) < 0.9 * (bl[1] - tl[1]), "the sign's far (right) end should look shorter"
        x0, y0, x1, y1 = map(int, sign["box"].split())
        with Image.open(tiny / "case" / sign["path"]) as image:
            board = image.convert("L").crop((x0, y0, x1, y1))
        spread = float(np.asarray(board).std())
        assert spread < 15, f"the sign should be low in contrast (std {spread:.1f} grey levels)"


def test_classroom_plan_shares_about_a_dozen_units_and_has_a_few_dusk_shots() -> None:
    spec = synthetic_data.get_spec("classroom")
    world = plan_world(spec, spec.seed)
    series_of: dict[str, set[str]] = defaultdict(set)
    for plan in world.series:
        for device in plan.devices:
            series_of[device.serial].add(plan.series_id)
    shared = {serial: len(names) for serial, names in series_of.items() if len(names) >= 2}
    assert 8 <= len(shared) <= 16 and max(shared.values()) <= 3
    assert not set(shared) & {entry.serial for entry in world.registrations}, "a registered unit must not be shared"
    assert sum(plan.actionable for plan in world.series) == actionable_count(130) == 27
    dusk = [plan for plan in world.series if any(shot.dusk for shot in plan.shots)]
    assert 3 <= len(dusk) <= 6
    assert all(plan.actionable and plan.outdoor and plan.clues.sign == "full" for plan in dusk)
