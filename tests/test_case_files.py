"""Case-file writers: videos, hum audio, the raw disk image, seized-device trees, known-file list, known-series DB."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
import sqlite3
import subprocess
import sys
import tracemalloc
import wave
import zlib
from datetime import datetime, timezone
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from synthetic_data.device_trees import (
    NSRL_COLUMNS, PLATFORMS, ROLES, os_and_app_files, thumbnail_jpeg, write_known_file_list,
)
from synthetic_data.disk_image import SECTOR, write_disk_image
from synthetic_data.known_series import KnownFile, KnownSeries, write_known_series_db, write_vics_json
from synthetic_data.media import write_hum_audio, write_video


def shapes(size: tuple[int, int], seed: int) -> Image.Image:
    """A test picture of plain shapes: a wall, a floor, a window and a few boxes."""
    rng = random.Random(seed)
    w, h = size
    picture = Image.new("RGB", size, tuple(rng.randrange(120, 240) for _ in range(3)))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, h * 2 // 3, w, h), fill=tuple(rng.randrange(40, 140) for _ in range(3)))
    draw.rectangle((w // 5, h // 8, w // 2, h // 2), fill=(150, 190, 230), outline=(60, 60, 60), width=3)
    for _ in range(6):
        x, y = rng.randrange(w), rng.randrange(h)
        box = (x, y, x + rng.randint(10, w // 4), y + rng.randint(10, h // 4))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    return picture


def jpeg_bytes(picture: Image.Image, quality: int = 88) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def decodes(data: bytes) -> bool:
    """Whether Pillow decodes the bytes as a whole picture."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.load()
        return True
    except Exception:
        return False


# ------------------------------------------------------------------------------------------- video

RECORDED = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def three_shots(per_shot: int = 8) -> list[Image.Image]:
    """Three shots of different scenes, the camera panning a few pixels a frame within each."""
    frames = []
    for scene in range(3):
        big = shapes((480, 240), seed=scene)
        frames += [big.crop((x * 4, 20, x * 4 + 320, 200)) for x in range(per_shot)]
    return frames


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("video") / "VID_20260304_050607.mp4"
    info = write_video(path, three_shots(), 8, random.Random(7), created=RECORDED, location=(13.7563, 100.5018))
    return path, info


def test_video_decodes_with_keyframes_exactly_on_the_cuts(video):
    path, info = video
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == info["codec"] == "h264"
        assert container.metadata["creation_time"].startswith("2026-03-04T05:06:07")
        assert container.metadata["location"] == "+13.7563+100.5018/"
        decoded = list(container.decode(video=0))
    assert len(decoded) == info["frames"] == 24
    assert (decoded[0].width, decoded[0].height) == (info["width"], info["height"]) == (320, 180)
    assert info["fps"] == 8 and info["seconds"] == 3.0
    assert [i for i, frame in enumerate(decoded) if frame.key_frame] == info["keyframe_indices"] == [0, 8, 16]
    # The pictures survive encoding: a decoded frame looks like its source.
    source = np.asarray(three_shots()[10], dtype=np.float32)
    assert np.abs(decoded[10].to_ndarray(format="rgb24").astype(np.float32) - source).mean() < 12


VIDEO_IN_FRESH_PROCESS = """
import random, sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from test_case_files import RECORDED, three_shots
from synthetic_data.media import write_video
write_video(Path(sys.argv[1]), three_shots(), 8, random.Random(7), created=RECORDED, location=(13.7563, 100.5018))
"""


def test_video_same_input_gives_identical_bytes_and_explicit_cuts_are_used(video, tmp_path):
    path, _ = video
    # Same bytes after another video was encoded in this process, and from a fresh process: encoders can carry state.
    write_video(tmp_path / "other.mp4", [shapes((200, 150), seed=n) for n in range(6)], 4, random.Random(1))
    again, fresh = tmp_path / "again.mp4", tmp_path / "fresh.mp4"
    write_video(again, three_shots(), 8, random.Random(7), created=RECORDED, location=(13.7563, 100.5018))
    subprocess.run([sys.executable, "-c", VIDEO_IN_FRESH_PROCESS, str(fresh), str(Path(__file__).parent)],
                   check=True, cwd=Path(__file__).parents[1])
    assert again.read_bytes() == path.read_bytes() == fresh.read_bytes()
    chosen = tmp_path / "chosen.mp4"
    info = write_video(chosen, three_shots(), 8, random.Random(7), cuts=[5, 16])
    with av.open(str(chosen)) as container:
        assert [i for i, frame in enumerate(container.decode(video=0)) if frame.key_frame] == [0, 5, 16]
    assert info["keyframe_indices"] == [0, 5, 16]


@pytest.mark.parametrize("frames, cuts, message", [
    ([], None, "at least one frame"),
    ([Image.new("RGB", (63, 64))], None, "even"),
    ([Image.new("RGB", (64, 64)), Image.new("RGB", (32, 32))], None, "frame 1"),
    ([Image.new("RGB", (64, 64))], [3], "outside"),
])
def test_video_rejects_frames_it_cannot_encode(tmp_path, frames, cuts, message):
    with pytest.raises(ValueError, match=message):
        write_video(tmp_path / "bad.mp4", frames, 8, random.Random(1), cuts=cuts)


# ------------------------------------------------------------------------------------------- audio


def read_wav(path: Path) -> tuple[np.ndarray, wave._wave_params]:
    with wave.open(str(path)) as source:
        params = source.getparams()
        samples = np.frombuffer(source.readframes(source.getnframes()), "<i2").astype(np.float64) / 32768
    return samples, params


def spectrum_peak(samples: np.ndarray, rate: int, low: float, high: float) -> tuple[float, float]:
    """(frequency, magnitude) of the strongest component between low and high Hz, refined between bins."""
    padded = len(samples) * 16
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), padded))
    freqs = np.fft.rfftfreq(padded, 1 / rate)
    band = np.flatnonzero((freqs >= low) & (freqs <= high))
    i = band[np.argmax(spectrum[band])]
    a, b, c = np.log(spectrum[i - 1:i + 2])
    shift = 0.5 * (a - c) / (a - 2 * b + c)
    return float(freqs[i] + shift * (freqs[1] - freqs[0])), float(spectrum[i])


@pytest.mark.parametrize("mains", [50, 60])
def test_mains_hum_is_recoverable_with_harmonics_and_bounded_drift(tmp_path, mains):
    path = tmp_path / f"room_{mains}.wav"
    info = write_hum_audio(path, mains, 12.0, random.Random(mains))
    samples, params = read_wav(path)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, info["sample_rate"]) == (1, 2, 8000)
    assert params.nframes == 12 * 8000 and info["seconds"] == 12.0
    # The strongest component between 40 and 70 Hz is the mains: it tells 50 Hz from 60 Hz countries apart.
    found, fundamental = spectrum_peak(samples, 8000, 40, 70)
    assert abs(found - mains) < 0.06
    padded = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), len(samples) * 16))
    floor = np.median(padded[(np.fft.rfftfreq(len(samples) * 16, 1 / 8000) > 30)])
    assert fundamental > 50 * floor
    levels = {}
    for harmonic in info["harmonics"]:
        assert harmonic % mains == 0
        frequency, level = spectrum_peak(samples, 8000, harmonic - 1, harmonic + 1)
        assert abs(frequency - harmonic) < 0.2 and level > 5 * floor
        levels[harmonic // mains] = level
    assert max(levels.values()) < fundamental and levels[3] > levels[2]
    # Drift: the hum's frequency in 4-second windows stays within the stated bound (plus estimator error).
    assert 0 < info["drift_hz_max"] <= 0.05
    window = 4 * 8000
    estimates = [spectrum_peak(samples[at:at + window], 8000, mains - 1, mains + 1)[0]
                 for at in range(0, len(samples) - window + 1, window)]
    assert max(abs(estimate - mains) for estimate in estimates) <= info["drift_hz_max"] + 0.02


def test_hum_audio_is_deterministic_and_rejects_other_frequencies(tmp_path):
    first, second = tmp_path / "a.wav", tmp_path / "b.wav"
    assert write_hum_audio(first, 50, 3.0, random.Random(4)) == write_hum_audio(second, 50, 3.0, random.Random(4))
    assert first.read_bytes() == second.read_bytes()
    with pytest.raises(ValueError, match="50 or 60"):
        write_hum_audio(tmp_path / "c.wav", 55, 3.0, random.Random(4))
    with pytest.raises(ValueError, match="too low"):
        write_hum_audio(tmp_path / "d.wav", 60, 3.0, random.Random(4), sample_rate=400)


# ------------------------------------------------------------------------------------------- disk image


def photo_jpegs(count: int = 16) -> list[tuple[str, bytes]]:
    """Photo-sized JPEGs (noise keeps them tens of kilobytes, like real pictures)."""
    pictures = []
    for n in range(count):
        picture = Image.blend(shapes((480, 360), seed=100 + n), Image.effect_noise((480, 360), 60).convert("RGB"), 0.25)
        pictures.append((f"IMG_{n:04d}.JPG", jpeg_bytes(picture)))
    return pictures


@pytest.fixture(scope="module")
def disk(tmp_path_factory) -> tuple[bytes, list[dict], dict[str, bytes], int]:
    jpegs = photo_jpegs()
    path = tmp_path_factory.mktemp("disk") / "unallocated.dd"
    tracemalloc.start()
    try:
        rows = write_disk_image(path, jpegs, random.Random(11), 64 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return path.read_bytes(), rows, dict(jpegs), peak


def test_disk_image_is_written_in_flat_memory(disk):
    image, _, _, peak = disk
    assert len(image) == 64 << 20
    assert peak < 8 << 20  # a few 1 MiB chunks, not the 64 MiB image


def test_disk_image_rows_match_the_bytes(disk):
    image, rows, originals, _ = disk
    assert sorted(row["name"] for row in rows) == sorted(originals)
    assert {row["state"] for row in rows} == {"whole", "truncated", "overwritten"}
    assert [row["offset"] for row in rows] == sorted(row["offset"] for row in rows)
    for row, following in zip(rows, rows[1:] + [None]):
        original = originals[row["name"]]
        offset, kept = row["offset"], row["length_on_disk"]
        assert offset % SECTOR == 0
        assert row["length_original"] == len(original)
        assert row["sha256_original"] == hashlib.sha256(original).hexdigest()
        assert following is None or following["offset"] >= offset + kept
        on_disk = image[offset:offset + len(original)]
        if row["state"] == "whole":
            assert on_disk == original and kept == len(original) and decodes(on_disk)
        else:
            assert 0 < kept < len(original)
            assert on_disk[:kept] == original[:kept]
            assert on_disk[kept:kept + SECTOR] != original[kept:kept + SECTOR]  # damaged from there on
        if row["state"] == "overwritten":  # the end-of-image marker survives: a naive carver takes it as whole
            assert on_disk[-2:] == b"\xff\xd9" and on_disk != original


def test_disk_image_holds_realistic_filler_and_false_jpeg_starts(disk):
    image, rows, originals, _ = disk
    assert b"%PDF-1.4" in image and b"PK\x03\x04" in image and b" INFO " in image
    assert bytes(64 * SECTOR) in image and b"\xff" * (8 * SECTOR) in image
    extents = [(row["offset"], row["offset"] + row["length_original"]) for row in rows]
    fakes = [m.start() for m in re.finditer(rb"\xff\xd8\xff", image)
             if not any(start <= m.start() < end for start, end in extents)]
    assert any(at % SECTOR == 0 for at in fakes) and any(at % SECTOR for at in fakes)
    for at in fakes:  # carved up to the next end marker, none of them is a picture
        end = image.find(b"\xff\xd9", at)
        assert not decodes(image[at:end + 2 if end > 0 else at + 65536])


def test_disk_image_is_deterministic_and_checks_its_input(tmp_path):
    jpegs = photo_jpegs(4)
    first, second = tmp_path / "a.dd", tmp_path / "b.dd"
    rows = write_disk_image(first, jpegs, random.Random(3), 1 << 20)
    assert write_disk_image(second, jpegs, random.Random(3), 1 << 20) == rows
    assert first.read_bytes() == second.read_bytes()
    with pytest.raises(ValueError, match="multiple of 512"):
        write_disk_image(tmp_path / "c.dd", jpegs, random.Random(3), 1000)
    with pytest.raises(ValueError, match="at least"):
        write_disk_image(tmp_path / "d.dd", jpegs, random.Random(3), 64 * SECTOR)
    with pytest.raises(ValueError, match="notes.txt"):
        write_disk_image(tmp_path / "e.dd", [("notes.txt", b"hello")], random.Random(3), 1 << 20)


# ------------------------------------------------------------------------------------------- device trees


def rehash(root: Path, rows: list[dict]) -> None:
    """Every row describes the file on disk exactly."""
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert on_disk == [row["path"] for row in rows]
    for row in rows:
        data = (root / row["path"]).read_bytes()
        assert (len(data), hashlib.sha1(data).hexdigest(), hashlib.md5(data).hexdigest(),
                hashlib.sha256(data).hexdigest(), f"{zlib.crc32(data):08x}") == \
               (row["size"], row["sha1"], row["md5"], row["sha256"], row["crc32"])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_devices_of_one_platform_share_byte_identical_system_files(tmp_path, platform):
    first = os_and_app_files(tmp_path / "one", random.Random(1), 60, platform)
    second = os_and_app_files(tmp_path / "two", random.Random(2), 60, platform)
    for root, rows in ((tmp_path / "one", first), (tmp_path / "two", second)):
        assert len(rows) == 60 and {row["role"] for row in rows} == set(ROLES)
        rehash(root, rows)
    shipped = {row["sha1"] for row in second if row["role"] in ("os", "app")}
    shared = [row for row in first if row["sha1"] in shipped]
    assert len(shared) >= 30  # the OS files and common apps
    assert all(row["role"] in ("os", "app") for row in shared)
    own = [row for row in first if row["role"] in ("cache", "thumbnail_db")]
    assert own and not any(row["known"] for row in own)
    assert not {row["sha1"] for row in own} & {row["sha1"] for row in second}
    for row in first:
        if row["path"].endswith(".png"):
            with Image.open(tmp_path / "one" / row["path"]) as icon:
                assert icon.format == "PNG" and icon.size[0] <= 120
    thumbs = [(tmp_path / "one" / row["path"]).read_bytes() for row in first if row["role"] == "thumbnail_db"]
    assert all(data.count(b"\xff\xd8\xff") >= 3 for data in thumbs)


def test_device_tree_is_deterministic_and_keeps_given_thumbnails(tmp_path):
    pictures = [shapes((400, 300), seed=n) for n in range(3)]
    first = os_and_app_files(tmp_path / "a", random.Random(5), 30, "android", thumbnails=pictures)
    second = os_and_app_files(tmp_path / "b", random.Random(5), 30, "android", thumbnails=pictures)
    assert first == second
    store = next(row for row in first if row["role"] == "thumbnail_db")
    data = (tmp_path / "a" / store["path"]).read_bytes()
    assert all(thumbnail_jpeg(picture) in data for picture in pictures)
    with pytest.raises(ValueError, match="unknown platform"):
        os_and_app_files(tmp_path / "c", random.Random(5), 10, "symbian")


def test_known_file_list_is_nsrl_formatted(tmp_path):
    rows = os_and_app_files(tmp_path / "a", random.Random(1), 50, "windows")
    rows += os_and_app_files(tmp_path / "b", random.Random(2), 50, "windows")
    odd = dict(next(row for row in rows if row["known"]), path='Program Files/Odd "Quote", Ltd/x.dll', sha1="f" * 40)
    listed = tmp_path / "NSRLFile.txt"
    count = write_known_file_list(listed, rows + [odd])
    known = {row["sha1"] for row in rows + [odd] if row["known"]}
    assert count == len(known) < sum(row["known"] for row in rows)  # shared system files listed once
    raw = listed.read_bytes().decode("utf-8")
    lines = raw.split("\r\n")
    assert lines[0] == ",".join(f'"{column}"' for column in NSRL_COLUMNS) and lines[-1] == ""
    pattern = re.compile(r'"[0-9A-F]{40}","[0-9A-F]{32}","[0-9A-F]{8}","([^"]|"")+",\d+,\d+,"WIN",""')
    assert all(pattern.fullmatch(line) for line in lines[1:-1])
    assert '"x.dll"' in raw
    parsed = list(csv.DictReader(io.StringIO(raw)))
    assert [entry["SHA-1"] for entry in parsed] == sorted(sha1.upper() for sha1 in known)
    by_sha1 = {row["sha1"].upper(): row for row in rows}
    for entry in parsed[:-1]:
        row = by_sha1[entry["SHA-1"]]
        expected = (row["md5"].upper(), row["crc32"].upper(), row["size"])
        assert (entry["MD5"], entry["CRC32"], int(entry["FileSize"])) == expected
    with pytest.raises(ValueError, match="crc32"):
        write_known_file_list(tmp_path / "bad.txt", [{"path": "a.dll", "known": True, "sha1": "0" * 40}])


# ------------------------------------------------------------------------------------------- known series


def known_series() -> list[KnownSeries]:
    rng = random.Random(9)
    return [
        KnownSeries(f"KS-{n:03d}", f"Series {n}", country, f"2024-0{n + 1}-1{n}",
                    tuple(KnownFile(f"IMG_{n}{k:03d}.jpg", rng.randbytes(16).hex(), rng.randbytes(20).hex(),
                                    rng.randrange(20_000, 900_000), None) for k in range(4)))
        for n, country in enumerate(("TH", "PH", "AU"))
    ]


def test_known_series_db_is_byte_identical_and_queryable(tmp_path):
    series = known_series()
    first, second = tmp_path / "known.sqlite", tmp_path / "again.sqlite"
    write_known_series_db(first, series)
    write_known_series_db(second, series)
    assert first.read_bytes() == second.read_bytes()
    write_known_series_db(first, series)  # rewriting an existing file gives the same bytes too
    assert first.read_bytes() == second.read_bytes()
    assert not list(tmp_path.glob("*-journal")) and not list(tmp_path.glob(".*partial"))
    with sqlite3.connect(f"file:{first}?mode=ro", uri=True) as db:
        assert db.execute("PRAGMA page_size").fetchone()[0] == 4096
        indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"media_md5", "media_sha1", "media_sha256"} <= indexes
        target = series[1].files[2]
        hit = db.execute("SELECT s.series_id, s.country, s.status, m.name, m.size, m.pdq FROM media m "
                         "JOIN series s USING (series_id) WHERE m.md5 = ?", (target.md5,)).fetchall()
        assert hit == [("KS-001", "PH", "known", target.name, target.size, None)]
        assert db.execute("SELECT COUNT(*) FROM media").fetchone()[0] == 12
        assert db.execute("SELECT series_id, country FROM submissions WHERE series_id = 'KS-002'").fetchall() == \
            [("KS-002", "AU")]


def test_vics_json_follows_the_project_vic_media_layout(tmp_path):
    series = known_series()
    path = tmp_path / "known_vics.json"
    write_vics_json(path, series)
    text = path.read_text(encoding="utf-8")
    write_vics_json(tmp_path / "again.json", series)
    assert (tmp_path / "again.json").read_text(encoding="utf-8") == text
    document = json.loads(text)
    assert list(document) == ["@odata.context", "@vidlab.series", "value"]
    assert document["@odata.context"].endswith("2.0.xml/Default/$metadata#Media")
    media = document["value"]
    assert [entry["MediaID"] for entry in media] == list(range(1, 13))
    first = media[0]
    assert list(first) == ["MediaID", "Category", "MD5", "SHA1", "MediaSize", "Series", "VictimIdentified",
                           "DateUpdated", "MimeType", "MediaFiles", "SHA256", "PDQ"]
    original = series[0].files[0]
    assert (first["MD5"], first["SHA1"], first["MediaSize"], first["Series"]) == \
           (original.md5.upper(), original.sha1.upper(), original.size, "KS-000")
    assert first["MediaFiles"] == [{"MD5": original.md5.upper(), "FileName": original.name}]
    assert first["PDQ"] is None and first["SHA256"] is None and first["MimeType"] == "image/jpeg"
    assert [entry["Country"] for entry in document["@vidlab.series"]] == ["TH", "PH", "AU"]


def test_known_series_refuses_malformed_input(tmp_path):
    good = known_series()
    short_md5 = [KnownSeries("KS-9", "x", "TH", "2024-01-01", (KnownFile("a.jpg", "abc", "0" * 40, 1, None),))]
    with pytest.raises(ValueError, match="md5 'abc'"):
        write_known_series_db(tmp_path / "a.sqlite", short_md5)
    with pytest.raises(ValueError, match="appears twice"):
        write_vics_json(tmp_path / "b.json", good + good[:1])
    bad_date = [KnownSeries("KS-9", "x", "TH", "last year", ())]
    with pytest.raises(ValueError, match="ISO date"):
        write_known_series_db(tmp_path / "c.sqlite", bad_date)
