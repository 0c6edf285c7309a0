"""The generator: closed drawing primitives, profiles, and a seized-folder sample whose answer key tells the truth."""

from __future__ import annotations

import csv
import hashlib
import importlib
import inspect
import json
import os
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pillow_heif
import pytest
from PIL import ExifTags, Image, ImageFile

import synthetic_data
from synthetic_data import PROFILE_SPECS, UnknownProfileError, generate, get_spec
from synthetic_data import draw
from vidlab.course import PROFILES

pillow_heif.register_heif_opener()

EXPECTED_PRIMITIVES = (
    "wall", "floor", "furniture", "window", "socket", "sign", "poster", "product", "vehicle", "plant", "sky",
)
PACKAGE_DIR = Path(synthetic_data.__file__).parent
BOOLEAN_COLUMNS = ("extension_lies", "truncated", "empty", "is_image")
# Written here on purpose rather than imported: the test must not trust the generator's own tables.
HONEST_EXTENSIONS = {
    "jpeg": {"jpg", "jpeg"}, "png": {"png"}, "gif": {"gif"}, "tiff": {"tif", "tiff"}, "heic": {"heic"},
    "webp": {"webp"}, "bmp": {"bmp"}, "pdf": {"pdf"}, "zip": {"zip"}, "text": {"txt", "log", "ini"},
}
PILLOW_FORMAT = {"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "tiff": "TIFF", "heic": "HEIF", "webp": "WEBP", "bmp": "BMP"}


def magic_kind(data: bytes) -> str:
    """What a file really is, from its first bytes alone."""
    if not data:
        return "empty"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[4:8] == b"ftyp" and data[8:12] in (b"heic", b"heix", b"mif1", b"msf1"):
        return "heic"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"BM":
        return "bmp"
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "unknown"
    return "text" if all(ch.isprintable() or ch in "\r\n\t" for ch in text) else "unknown"


def tree_fingerprint(folder: Path) -> dict[str, str]:
    """sha256 of every file under folder, by relative path."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def tree_times(folder: Path) -> dict[str, int]:
    """Modification time of every file and folder under folder, by relative path."""
    return {path.relative_to(folder).as_posix(): path.stat().st_mtime_ns for path in sorted(folder.rglob("*"))}


def read_key(profile_dir: Path) -> list[dict[str, str]]:
    """The seized-sample answer key as raw CSV strings."""
    with (profile_dir / "answer_key" / "seized_sample.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny generation shared by the read-only tests of this module."""
    return generate("tiny", root=tmp_path_factory.mktemp("first"), progress=False)


@pytest.fixture(scope="module")
def key(tiny: Path) -> list[dict[str, str]]:
    return read_key(tiny)


@pytest.fixture(scope="module")
def sample(tiny: Path) -> Path:
    return tiny / "case" / "seized_sample"


# --- closed list of drawing primitives (DESIGN.md non-negotiable 1) ---------------------------------------


def test_primitive_list_is_the_closed_set() -> None:
    assert draw.PRIMITIVES == EXPECTED_PRIMITIVES


def test_every_drawing_function_is_a_listed_primitive_and_back() -> None:
    modules = [importlib.import_module(f"synthetic_data.{path.stem}") for path in PACKAGE_DIR.glob("*.py")]
    functions = {name for module in modules for name, _ in inspect.getmembers(module, inspect.isfunction)}
    assert {name.removeprefix("draw_") for name in functions if name.startswith("draw_")} == set(EXPECTED_PRIMITIVES)
    assert tuple(draw.DRAWERS) == EXPECTED_PRIMITIVES


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the primitives render_scene draws, recorded by wrapping its dispatch table."""
    names: list[str] = []

    def recording(name: str):
        original = draw.DRAWERS[name]
        return lambda *args, **kwargs: (names.append(name), original(*args, **kwargs))

    monkeypatch.setattr(draw, "DRAWERS", {name: recording(name) for name in draw.PRIMITIVES})
    return names


def test_render_scene_draws_only_through_the_primitive_table(drawn: list[str]) -> None:
    for seed in range(12):
        draw.render_scene((160, 120), random.Random(seed))
    assert set(drawn) <= set(EXPECTED_PRIMITIVES)
    assert {"vehicle", "furniture", "socket"} <= set(drawn), "twelve scenes should include both rooms and streets"


def test_render_scene_limits_and_rejects_primitives(drawn: list[str]) -> None:
    for seed in range(4):
        draw.render_scene((80, 60), random.Random(seed), primitives=("sky", "wall"))
    assert set(drawn) == {"sky", "wall"}
    with pytest.raises(ValueError, match="person"):
        draw.render_scene((80, 60), random.Random(1), primitives=("sky", "person"))


def test_no_other_generator_module_draws() -> None:
    drawing_modules = {path.name for path in PACKAGE_DIR.glob("*.py") if "ImageDraw" in path.read_text(encoding="utf-8")}
    assert drawing_modules == {"draw.py"}


def test_render_scene_is_deterministic() -> None:
    first = draw.render_scene((320, 240), random.Random(7))
    again = draw.render_scene((320, 240), random.Random(7))
    other = draw.render_scene((320, 240), random.Random(8))
    assert first.size == (320, 240)
    assert first.tobytes() == again.tobytes()
    assert first.tobytes() != other.tobytes()


# --- profiles ------------------------------------------------------------------------------------------------


def test_profile_specs_are_keyed_by_the_course_profiles() -> None:
    assert tuple(PROFILE_SPECS) == PROFILES
    assert all(spec.name == name for name, spec in PROFILE_SPECS.items())
    assert get_spec("tiny").image_size == (320, 240)
    assert get_spec("full").large_jpegs > 0


def test_unknown_profile_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    root = tmp_path / "data"
    with pytest.raises(UnknownProfileError) as caught:
        generate("nonsense", root=root, progress=False)
    assert str(caught.value) == "unknown profile 'nonsense': choose one of tiny, classroom, full"
    assert isinstance(caught.value, ValueError)
    assert not root.exists()


# --- determinism -------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes_and_times(tiny: Path, tmp_path: Path) -> None:
    again = generate("tiny", root=tmp_path, progress=False)
    assert tree_fingerprint(again) == tree_fingerprint(tiny)
    assert tree_times(again / "case") == tree_times(tiny / "case")


def test_different_seed_gives_different_pictures(tiny: Path, key: list[dict[str, str]], tmp_path: Path) -> None:
    other = generate("tiny", root=tmp_path, seed=7, progress=False)
    other_key = read_key(other)

    def picture_hashes(profile_dir: Path, rows: list[dict[str, str]]) -> set[str]:
        folder = profile_dir / "case" / "seized_sample"
        return {hashlib.sha256((folder / row["path"]).read_bytes()).hexdigest() for row in rows if row["is_image"] == "true"}

    assert picture_hashes(tiny, key).isdisjoint(picture_hashes(other, other_key))
    assert json.loads((other / "generation.json").read_text())["seed"] == 7
    assert tree_times(other / "case") != tree_times(tiny / "case")


def test_heic_bytes_are_identical_across_processes(tmp_path: Path) -> None:
    script = "import sys, synthetic_data; synthetic_data.generate('tiny', root=sys.argv[1], progress=False)"
    for name in ("one", "two"):
        subprocess.run([sys.executable, "-c", script, str(tmp_path / name)], check=True, timeout=120)
    one, two = (tree_fingerprint(tmp_path / name / "tiny" / "case") for name in ("one", "two"))
    heic = [path for path in one if path.startswith("seized_sample/Pictures/PhoneBackup/")]
    assert len(heic) >= 2
    assert {path: one[path] for path in heic} == {path: two[path] for path in heic}
    assert one == two


# --- the answer key tells the truth ------------------------------------------------------------------------


def test_answer_key_lists_exactly_the_files_on_disk_with_their_sizes(key: list[dict[str, str]], sample: Path) -> None:
    on_disk = {path.relative_to(sample).as_posix() for path in sample.rglob("*") if path.is_file()}
    assert {row["path"] for row in key} == on_disk
    for row in key:
        assert (sample / row["path"]).stat().st_size == int(row["size"]), row["path"]


def test_answer_key_format(tiny: Path, key: list[dict[str, str]]) -> None:
    assert list(key[0]) == [
        "path", "true_kind", "extension", "extension_lies", "truncated", "empty", "is_image", "size", "modified",
        "description",
    ]
    assert [row["path"] for row in key] == sorted(row["path"] for row in key)
    assert all(row[column] in ("true", "false") for row in key for column in BOOLEAN_COLUMNS)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["modified"]) for row in key)
    frame = pd.read_csv(tiny / "answer_key" / "seized_sample.csv")
    assert all(frame[column].dtype == bool for column in BOOLEAN_COLUMNS)


def test_true_kind_agrees_with_magic_bytes(key: list[dict[str, str]], sample: Path) -> None:
    for row in key:
        assert magic_kind((sample / row["path"]).read_bytes()) == row["true_kind"], row["path"]


def test_extension_columns_agree_with_the_file_name(key: list[dict[str, str]]) -> None:
    for row in key:
        extension = Path(row["path"]).suffix.lower().removeprefix(".")
        assert row["extension"] == extension
        lies = row["true_kind"] != "empty" and extension not in HONEST_EXTENSIONS[row["true_kind"]]
        assert row["extension_lies"] == str(lies).lower(), row["path"]


def test_modification_times_match_the_answer_key(key: list[dict[str, str]], sample: Path) -> None:
    for row in key:
        modified = pd.Timestamp(row["modified"]).timestamp()
        assert (sample / row["path"]).stat().st_mtime == modified, row["path"]


def test_sample_has_the_awkward_cases(key: list[dict[str, str]], sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = [row for row in key if row["empty"] == "true"]
    assert len(empty) == 1 and empty[0]["size"] == "0" and empty[0]["extension"] in ("jpg", "png", "heic")
    liars = {(row["true_kind"], row["extension"]) for row in key if row["extension_lies"] == "true"}
    assert len(liars) >= 3
    assert {("jpeg", "dat"), ("jpeg", "txt"), ("png", "jpg"), ("heic", "jpg"), ("text", "png")} <= liars
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", False)  # in case another module relaxed it globally
    truncated = [row for row in key if row["truncated"] == "true"]
    assert len(truncated) == 1 and truncated[0]["true_kind"] == "jpeg"
    data = (sample / truncated[0]["path"]).read_bytes()
    assert b"\xff\xda" in data and not data.endswith(b"\xff\xd9")
    with Image.open(sample / truncated[0]["path"]) as image, pytest.raises(OSError, match="truncated"):
        image.load()


def test_every_complete_image_opens_with_pillow(key: list[dict[str, str]], sample: Path) -> None:
    images = [row for row in key if row["is_image"] == "true" and row["truncated"] == "false"]
    assert {row["true_kind"] for row in images} == set(PILLOW_FORMAT)
    for row in images:
        with Image.open(sample / row["path"]) as image:
            image.load()
            assert image.format == PILLOW_FORMAT[row["true_kind"]], row["path"]
            assert image.width > 0 and image.height > 0


def test_camera_and_phone_photos_carry_device_exif(key: list[dict[str, str]], sample: Path) -> None:
    photos = [row for row in key if row["path"].startswith(("DCIM/", "Pictures/PhoneBackup/")) and row["size"] != "0"]
    assert len(photos) >= 4
    for row in photos:
        with Image.open(sample / row["path"]) as image:
            exif = image.getexif()
            taken = exif.get_ifd(ExifTags.IFD.Exif).get(ExifTags.Base.DateTimeOriginal)
        assert exif.get(ExifTags.Base.Make) and exif.get(ExifTags.Base.Model), row["path"]
        assert re.fullmatch(r"2026:\d\d:\d\d \d\d:\d\d:\d\d", taken or ""), row["path"]


def test_gif_is_animated(key: list[dict[str, str]], sample: Path) -> None:
    for row in (row for row in key if row["true_kind"] == "gif"):
        with Image.open(sample / row["path"]) as image:
            assert image.n_frames == 2


def test_pdf_cross_reference_points_at_its_objects(key: list[dict[str, str]], sample: Path) -> None:
    for row in (row for row in key if row["true_kind"] == "pdf"):
        data = (sample / row["path"]).read_bytes()
        assert data.startswith(b"%PDF-1.4") and data.rstrip().endswith(b"%%EOF")
        xref_at = int(data.rsplit(b"startxref", 1)[1].split()[0])
        assert data[xref_at:].startswith(b"xref")
        entries = re.findall(rb"(\d{10}) 00000 n \n", data[xref_at:])
        assert entries
        for number, offset in enumerate(entries, start=1):
            assert data[int(offset):].startswith(b"%d 0 obj" % number)


def test_zip_holds_readable_photos_and_a_note(key: list[dict[str, str]], sample: Path) -> None:
    for row in (row for row in key if row["true_kind"] == "zip"):
        with zipfile.ZipFile(sample / row["path"]) as archive:
            assert archive.testzip() is None
            names = archive.namelist()
            assert "readme.txt" in names and sum(name.endswith(".jpg") for name in names) == 2
            for name in (name for name in names if name.endswith(".jpg")):
                with archive.open(name) as member, Image.open(member) as image:
                    image.load()


def test_generation_record_counts_the_answer_key(tiny: Path, key: list[dict[str, str]]) -> None:
    record = json.loads((tiny / "generation.json").read_text(encoding="utf-8"))
    assert record["profile"] == "tiny" and record["seed"] == get_spec("tiny").seed
    assert record["seized_sample"]["files"] == len(key)
    assert sum(record["seized_sample"]["kinds"].values()) == len(key)
    assert (record["seized_sample"]["empty"], record["seized_sample"]["truncated"]) == (1, 1)


# --- generating into place safely --------------------------------------------------------------------------


def test_existing_generation_is_kept_unless_forced(tiny: Path, tmp_path: Path) -> None:
    folder = generate("tiny", root=tmp_path, progress=False)
    marker = folder / "case" / "instructor_note.txt"
    marker.write_text("added after generation")
    assert generate("tiny", root=tmp_path, seed=99, progress=False) == folder
    assert marker.exists()
    assert json.loads((folder / "generation.json").read_text())["seed"] == get_spec("tiny").seed
    assert generate("tiny", root=tmp_path, progress=False, force=True) == folder
    assert not marker.exists()
    assert tree_fingerprint(folder) == tree_fingerprint(tiny)
    assert [path.name for path in tmp_path.iterdir()] == ["tiny"]


def test_folder_left_by_an_interrupted_run_does_not_break_generation(tiny: Path, tmp_path: Path) -> None:
    leftover = tmp_path / ".tiny.partial-x"
    (leftover / "case").mkdir(parents=True)
    (leftover / "case" / "half_written.JPG").write_bytes(b"\xff\xd8\xff")
    folder = generate("tiny", root=tmp_path, progress=False)
    assert tree_fingerprint(folder) == tree_fingerprint(tiny)
    assert [path.name for path in tmp_path.iterdir()] == ["tiny"]


def test_interrupted_generation_leaves_nothing_that_looks_finished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module("synthetic_data.build"), "write_answer_key", interrupt)
    with pytest.raises(KeyboardInterrupt):
        generate("tiny", root=tmp_path, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_unfinished_profile_folder_is_not_mistaken_for_data(tmp_path: Path) -> None:
    (tmp_path / "tiny").mkdir()
    with pytest.raises(FileExistsError, match="force=True"):
        generate("tiny", root=tmp_path, progress=False)
    assert os.listdir(tmp_path / "tiny") == []
