"""vidlab.carve: JPEGs carved from raw disk images, checked against the generator's answer key."""

from __future__ import annotations

import hashlib
import io
import os
import random
import tracemalloc
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from synthetic_data.disk_image import SECTOR, write_disk_image
from vidlab import carve as carving
from vidlab.carve import CARVE_COLUMNS, RESUME_BYTES, carve, carve_states
from vidlab.formats import jpeg_segments


@pytest.fixture(scope="module")
def key(tiny_data: Path) -> pd.DataFrame:
    return pd.read_csv(tiny_data / "answer_key" / "disk_images.csv")


@pytest.fixture(scope="module")
def originals(tiny_data: Path) -> list[tuple[str, bytes]]:
    """Every JPEG of the tiny case (camera originals and re-shares, baseline and progressive)."""
    files = pd.read_csv(tiny_data / "answer_key" / "files.csv")
    return [(path, (tiny_data / "case" / path).read_bytes()) for path in files.loc[files["true_kind"] == "jpeg", "path"]]


@pytest.fixture(scope="module")
def photo(originals: list[tuple[str, bytes]]) -> bytes:
    """A camera original with EXIF and an embedded thumbnail (a JPEG inside the JPEG)."""
    return next(data for name, data in originals if "/DCIM/" in name or "/Pictures/" in name)


def disk_with(tmp_path: Path, *parts: bytes) -> Path:
    """A small raw image of the given parts, each starting on a sector, zeros between."""
    image = tmp_path / "evidence" / "stick.dd"
    image.parent.mkdir(exist_ok=True)
    with image.open("wb") as out:
        for part in parts:
            out.write(part + bytes(-len(part) % SECTOR))
    return image


def test_tiny_disk_images_match_the_answer_key(tiny_data: Path, key: pd.DataFrame, tmp_path: Path) -> None:
    images = sorted((tiny_data / "case" / "submissions").glob("*/*.dd"))
    assert images, "the tiny profile has no disk image"
    for image in images:
        before = (hashlib.sha256(image.read_bytes()).hexdigest(), image.stat().st_mtime_ns)
        out = tmp_path / image.stem
        table = carve(image, out, progress=False)
        truth = key[key["image"] == image.relative_to(tiny_data / "case").as_posix()].sort_values("offset")
        assert list(table["offset"]) == list(truth["offset"])
        assert list(table["state"]) == list(truth["state"])
        for row, expected in zip(table.itertuples(), truth.itertuples()):
            saved = (out / row.file).read_bytes()
            assert hashlib.sha256(saved).hexdigest() == row.sha256
            if expected.state == "whole":
                assert row.sha256 == expected.sha256_original and row.decodes == "ok"
        assert (hashlib.sha256(image.read_bytes()).hexdigest(), image.stat().st_mtime_ns) == before


def resumed_tail(disk: bytes, row: pd.Series, original: bytes) -> int:
    """Bytes of an overwritten original that are on disk again after the overwritten stretch."""
    on_disk = disk[row["offset"]:row["offset"] + len(original)]
    for at in range(row["length_on_disk"], len(original), SECTOR):
        if on_disk[at:] == original[at:]:
            return len(original) - at
    return 0


def test_generator_layout_with_every_state(originals: list[tuple[str, bytes]], tmp_path: Path) -> None:
    """The generator's own disk image writer, a third of the pictures truncated and a third overwritten."""
    image = tmp_path / "evidence" / "mixed.dd"
    image.parent.mkdir()
    truth = pd.DataFrame(write_disk_image(image, originals, random.Random(2024), 8 << 20,
                                          truncated_share=0.3, overwritten_share=0.3))
    table = carve(image, progress=False)
    assert set(truth["state"]) == {"whole", "truncated", "overwritten"}
    found = truth.merge(table, on="offset", how="left", suffixes=("_key", ""))
    assert found["state"].notna().all(), "a deleted picture was not found"
    disk, by_name = image.read_bytes(), dict(originals)
    for row in found.to_dict("records"):
        expected = row["state_key"]
        if expected == "overwritten" and resumed_tail(disk, row, by_name[row["name"]]) < RESUME_BYTES:
            expected = "truncated"  # the documented limit: too little of the picture after the damage to tell
        assert row["state"] == expected, row["name"]
        if expected == "whole":
            assert row["sha256"] == row["sha256_original"]
        else:  # the intact bytes are found to within two sectors
            assert 0 <= row["intact_length"] - row["length_on_disk"] <= 2 * SECTOR, row["name"]
    assert carve_states(table)["whole"] == (truth["state"] == "whole").sum()


def test_an_overwrite_that_looks_like_a_comment_segment_is_still_damage(photo: bytes, tmp_path: Path) -> None:
    """Random bytes starting FF E9 read as an APP9 segment when its length lands on an FF (1 in 256): the walker
    skipped the whole overwrite and called the picture whole. A segment between scans must now be followed by
    one that can come there, and the picture's own FF 00 cannot."""
    start = len(photo) // 3 // SECTOR * SECTOR  # inside the picture data, on a sector
    assert start > next(s for s in jpeg_segments(photo) if s.name == "SOS").offset + SECTOR
    resumes = photo.index(b"\xff\x00", start + SECTOR)  # the overwrite ends where the picture has a stuffed FF
    rng = random.Random(5)
    noise = bytes(rng.choice(range(0xFF)) for _ in range(resumes - start - 4))  # no FF of its own
    overwrite = b"\xff\xe9" + (resumes - start - 2).to_bytes(2, "big") + noise
    damaged = photo[:start] + overwrite + photo[resumes:]
    assert len(damaged) == len(photo) and len(photo) - resumes > 2 * RESUME_BYTES
    row = carve(disk_with(tmp_path, damaged), progress=False).iloc[0]
    assert row["state"] == "overwritten" and row["length"] == len(photo)
    assert start <= row["intact_length"] <= start + 2 * SECTOR


def test_image_without_jpegs_gives_an_empty_table(tmp_path: Path) -> None:
    rng = random.Random(7)
    noise = rng.randbytes(1 << 20).replace(b"\xff\xd8\xff", b"\xff\xd8\x00")
    text = ("log line with nothing in it\n" * 2000).encode()
    for image in (disk_with(tmp_path, noise, text, b"\xff" * 4096), disk_with(tmp_path)):
        table = carve(image, tmp_path / "out", progress=False)
        assert table.empty and list(table.columns) == list(CARVE_COLUMNS)
    assert not any((tmp_path / "out").iterdir())


def test_a_jpeg_cut_at_every_marker(photo: bytes, tmp_path: Path) -> None:
    """Cut before the picture data: no picture (rejected, with why); cut inside it: truncated; uncut: whole."""
    segments = jpeg_segments(photo)
    sos = next(s for s in segments if s.name == "SOS")
    scan_data = sos.offset + 2 + int.from_bytes(photo[sos.offset + 2:sos.offset + 4], "big")
    cuts = sorted({at for s in segments for at in (s.offset, s.offset + 1, s.offset + 3, s.end)} - {0})
    junk = random.Random(3).randbytes(8192).replace(b"\xff\xd8\xff", b"\xff\xd8\x00")
    for cut in cuts:
        for after in (junk, b""):  # another file's data follows, or the image simply ends
            image = disk_with(tmp_path, photo[:cut] + after)
            table = carve(image, keep_rejected=True, progress=False)
            if cut < len(carving.SOI):  # not even the signature is left: nothing to find
                assert table.empty
                continue
            row = table.iloc[0]
            assert row["offset"] == 0 and row["state"] in carving.STATES
            if cut >= len(photo):
                assert row["state"] == "whole" and row["length"] == len(photo)
            elif cut < scan_data:
                assert row["state"] == "rejected" and row["note"], cut
            else:
                assert row["state"] == "truncated", cut
                assert cut - SECTOR <= row["intact_length"] <= cut + 2 * SECTOR


def test_progressive_and_damaged_pictures(photo: bytes, tmp_path: Path) -> None:
    """A progressive JPEG (tables between scans) is whole; a sector of text or random bytes in it is damage."""
    buffer = io.BytesIO()
    Image.open(io.BytesIO(photo)).save(buffer, "JPEG", progressive=True, quality=90)
    progressive = buffer.getvalue()
    start = -(-len(progressive) // 2 // SECTOR) * SECTOR
    text = (b"2025-11-03 09:00:00 INFO sync started\n" * 20)[:SECTOR]
    noise = random.Random(5).randbytes(SECTOR).replace(b"\xff\xd8\xff", b"\xff\xd8\x00")
    damaged = [progressive[:start] + stretch + progressive[start + SECTOR:] for stretch in (text, noise)]
    table = carve(disk_with(tmp_path, progressive, *damaged, photo), progress=False)
    assert list(table["state"]) == ["whole", "overwritten", "overwritten", "whole"]
    assert table["sha256"].iloc[0] == hashlib.sha256(progressive).hexdigest()
    assert list(table["intact_length"].iloc[1:3]) == [start, start]
    assert list(table["length"].iloc[1:3]) == [len(progressive)] * 2


def test_memory_stays_flat_on_a_large_sparse_image(photo: bytes, tmp_path: Path) -> None:
    image = tmp_path / "evidence" / "big.dd"
    image.parent.mkdir()
    size, offsets = 384 << 20, (5 << 20, 200 << 20, (384 << 20) - 2 * len(photo))
    with image.open("wb") as out:
        out.truncate(size)  # sparse: reads as zeros, costs no disk
        for offset in offsets:
            out.seek(offset - offset % SECTOR)
            out.write(photo)
    tracemalloc.start()
    try:
        table = carve(image, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert list(table["offset"]) == [o - o % SECTOR for o in offsets]
    assert set(table["state"]) == {"whole"}
    assert peak < carving.CHUNK + (4 << 20), f"peak {peak:,} bytes for a {size:,}-byte image"


def test_refuses_to_write_inside_the_evidence_folder(photo: bytes, tmp_path: Path) -> None:
    image = disk_with(tmp_path, photo)
    with pytest.raises(ValueError, match="inside the evidence folder"):
        carve(image, image.parent / "carved", progress=False)
    assert os.listdir(image.parent) == [image.name]


def test_decompression_bomb_guard(photo: bytes, tmp_path: Path) -> None:
    table = carve(disk_with(tmp_path, photo), max_pixels=100, progress=False)
    assert table["decodes"].iloc[0].startswith("not decoded") and table["state"].iloc[0] == "whole"
