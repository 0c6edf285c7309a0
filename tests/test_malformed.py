"""Malformed input at scale: every toolkit call over ~1,300 broken files returns a result or a clear error value,
within a per-call bound of time and memory; batches give one row per file; decompression bombs are refused.

The broken files come from tests/malformed.py (truncation at every marker, byte flips in headers and EXIF,
oversized dimensions, looping IFDs, bogus lengths, wrong magic, zero bytes) and a 1 GiB sparse file of zeros;
hypothesis then tries bytes nobody thought of. The bounds are guards against a hang or a bomb, not benchmarks:
5 s and 200 MB for any one call (Python allocations by tracemalloc, and the process's peak RSS, which also
sees the C decoders' buffers, where Linux lets us reset it).
"""

from __future__ import annotations

import os
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import malformed
from vidlab import carve, enhance, evidence, formats, media, metadata, similarity, view
from vidlab.enhance import PictureError
from vidlab.formats import Segment

SECONDS = 5.0
BYTES = 200 << 20
SPARSE_SIZE = 1 << 30
_CLEAR_REFS = Path("/proc/self/clear_refs")
HYPOTHESIS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --------------------------------------------------------------------------- the per-call guard


def _status_kb(field: str) -> int | None:
    """A memory figure of this process from /proc/self/status (kB), None where there is no /proc."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> int | None:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux ≥ 4.0); the current RSS in kB, or None."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return None
    return _status_kb("VmRSS")


@dataclass
class Cost:
    seconds: float = 0.0
    python_bytes: int = 0
    rss_bytes: int | None = None


@contextmanager
def bounded(what: str) -> Iterator[Cost]:
    """Measure one call; fail naming `what` when it took over SECONDS or BYTES (Python heap or peak RSS)."""
    cost = Cost()
    started = tracemalloc.is_tracing()
    if not started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    rss = _reset_peak_rss()
    t0 = time.perf_counter()
    try:
        yield cost
    finally:
        cost.seconds = time.perf_counter() - t0
        cost.python_bytes = tracemalloc.get_traced_memory()[1] - before
        peak = _status_kb("VmHWM") if rss is not None else None
        cost.rss_bytes = (peak - rss) * 1024 if peak is not None and rss is not None else None
        if not started:
            tracemalloc.stop()
    assert cost.seconds < SECONDS, f"{what}: {cost.seconds:.1f} s"
    assert cost.python_bytes < BYTES, f"{what}: {cost.python_bytes / 2**20:.0f} MB of Python allocations"
    assert cost.rss_bytes is None or cost.rss_bytes < BYTES, f"{what}: peak RSS grew {cost.rss_bytes / 2**20:.0f} MB"


# --------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Corpus:
    folder: Path
    paths: list[Path]
    broken: list[malformed.Broken]


@pytest.fixture(scope="module")
def seeds(tiny_data: Path) -> dict[str, tuple[str, bytes]]:
    return malformed.seeds(tiny_data / "case")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory, seeds: dict[str, tuple[str, bytes]]) -> Corpus:
    broken = list(malformed.broken_files(seeds))
    folder = tmp_path_factory.mktemp("malformed") / "files"
    return Corpus(folder, malformed.write_all(folder, broken), broken)


@pytest.fixture(scope="module")
def sparse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return malformed.sparse_zeros(tmp_path_factory.mktemp("sparse") / "wiped_card.jpg", SPARSE_SIZE)


def test_the_corpus_holds_every_kind_of_damage(corpus: Corpus, seeds: dict[str, tuple[str, bytes]]) -> None:
    hows = [b.how for b in corpus.broken]
    for damage in ("truncated at", "byte flips", "SOF declares 65535×65535", "IHDR declares", "next-IFD points",
                   "points to IFD0", "recursion", "length 0", "box size", "RIFF size", "magic", "zero bytes",
                   "65,535 entries", "count 4 G", "PNG bomb"):
        assert any(damage in how for how in hows), damage
    jpeg = seeds["jpeg"][1]
    markers = {s.offset for s in formats.jpeg_segments(jpeg)}
    cut_at = {len(b.data) for b in corpus.broken if b.name == "camera.jpg" and b.how.startswith("truncated")}
    assert markers - {0} <= cut_at  # cut just before every marker
    again = list(malformed.broken_files(seeds))
    assert [b.data for b in again] == [b.data for b in corpus.broken]  # same seeds, same bytes
    assert len(corpus.paths) > 1000


# --------------------------------------------------------------------------- every call, every file


def _metadata_row(path: Path) -> dict:
    row = metadata.metadata_row(path)
    assert list(row) == list(metadata.METADATA_COLUMNS)
    error = row["error"]
    assert error is None or (isinstance(error, str) and error and not malformed.BUGS.search(error)), error
    assert row["notes"] is None or isinstance(row["notes"], str)
    assert row["width"] is None or isinstance(row["width"], int)
    return row


def _hash_file(path: Path) -> None:
    row = similarity.hash_file(path)
    assert list(row) == list(similarity.HASH_COLUMNS)
    if row["error"] is not None:
        assert isinstance(row["error"], str) and row["error"]
        assert all(row[k] is None for k in similarity.HASH_KINDS)  # an unreadable file can never match
    else:
        assert len(row["phash"]) == 16 and len(row["pdq"]) == 64


def _identify(path: Path) -> None:
    kind = evidence.identify(path)
    assert kind in evidence.KINDS
    assert evidence.extension_matches(path, kind) in (True, False, None)


def _hashes(path: Path) -> None:
    assert {k: len(v) for k, v in evidence.hashes(path).items()} == {"md5": 32, "sha1": 40, "sha256": 64}


def _structure(path: Path) -> None:
    segments = formats.structure(path)
    assert all(isinstance(s, Segment) and s.offset >= 0 and s.length >= 0 for s in segments)
    assert formats.is_complete(path) in (True, False, None)
    assert formats.hex_view(path, 0, 32).count("\n") <= 1


def _thumbnails(path: Path) -> None:
    tile = view.safe_thumbnail(path, size=48)
    assert tile.size == (48, 48) and tile.mode == "RGB"
    thumb = metadata.thumbnail_bytes(path)
    assert thumb is None or thumb.startswith(b"\xff\xd8")
    tables = metadata.quantisation_tables(path)
    assert all(len(t) == 64 for t in tables.values())


def _media(path: Path) -> None:
    kind = evidence.identify(path)
    if path.suffix not in (".wav", ".mp4") and kind not in ("wav", "mp4", "avi"):
        return  # pictures and the rest: media_files would never hand them over
    hum = media.hum_table([path])
    assert len(hum) == 1 and (hum["error"].notna() | hum["reason"].notna()).all()
    if kind in ("mp4", "avi") or path.suffix == ".mp4":
        frames = media.frame_table(path, kinds=("phash",))
        assert len(frames) >= 1 and list(frames.columns) == list(media.FRAME_COLUMNS)
        assert frames["error"].iloc[:-1].isna().all()  # an error, if any, comes last


CALLS: dict[str, Callable[[Path], None]] = {
    "metadata.metadata_row": _metadata_row,
    "similarity.hash_file": _hash_file,
    "evidence.identify": _identify,
    "evidence.hashes": _hashes,
    "formats.structure/is_complete/hex_view": _structure,
    "view.safe_thumbnail, metadata.thumbnail_bytes/quantisation_tables": _thumbnails,
    "media.hum_table/frame_table": _media,
}


@pytest.mark.parametrize("call", list(CALLS))
def test_every_call_on_every_broken_file(call: str, corpus: Corpus) -> None:
    check, failures = CALLS[call], []
    tracemalloc.start()
    try:
        for path, broken in zip(corpus.paths, corpus.broken):
            try:
                with bounded(f"{call} on {path.name} ({broken.how})"):
                    check(path)
            except Exception as exc:  # collected, so one run names every file that fails
                failures.append(f"{path.name} ({broken.how}): {type(exc).__name__}: {exc}")
    finally:
        tracemalloc.stop()
    assert not failures, f"{len(failures)} of {len(corpus.paths)} files failed {call}:\n" + "\n".join(failures[:20])


def test_a_sparse_gigabyte_of_zeros(sparse: Path, tmp_path: Path) -> None:
    """A wiped card's image named .jpg: read by its header, never slurped; carving it finds nothing."""
    for call in ("metadata.metadata_row", "similarity.hash_file", "evidence.identify",
                 "formats.structure/is_complete/hex_view",
                 "view.safe_thumbnail, metadata.thumbnail_bytes/quantisation_tables"):
        with bounded(f"{call} on 1 GiB of zeros"):
            CALLS[call](sparse)
    assert metadata.metadata_row(sparse)["error"] == "not an image: unknown format"
    assert similarity.hash_file(sparse)["error"].startswith("not a picture")
    assert formats.is_complete(sparse) is None and formats.structure(sparse) == []
    # carving reads every byte (a throughput question, not a malformation one): 64 MiB of it is enough here
    (tmp_path / "card").mkdir()
    wiped = malformed.sparse_zeros(tmp_path / "card" / "wiped.dd", 64 << 20)
    with bounded("carve.carve on 64 MiB of zeros"):
        table = carve.carve(wiped, out=tmp_path / "carved", progress=False)
    assert table.empty and list(table.columns) == list(carve.CARVE_COLUMNS)


# --------------------------------------------------------------------------- bombs


def test_decompression_bombs_are_refused_without_decoding(tmp_path: Path) -> None:
    """A 500 KB PNG of 100 M pixels (Pillow only warns below 2× its limit) is refused before it is inflated:
    regression test for hash_file and safe_thumbnail decoding it whole (600 MB, 4 s)."""
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(malformed.png_bomb(10_000, 10_000))
    with bounded("hash_file on a PNG bomb") as cost:
        row = similarity.hash_file(bomb)
    assert row["error"].startswith("decompression bomb: 10,000×10,000 = 100,000,000 pixels")
    assert cost.rss_bytes is None or cost.rss_bytes < 50 << 20
    with bounded("safe_thumbnail on a PNG bomb"):
        tile = view.safe_thumbnail(bomb, size=64)
    assert "decompression bomb" in tile.info["error"]
    assert "exceeds limit" in metadata.metadata_row(bomb)["notes"]  # headers only: said, not decoded
    with bounded("open_picture on a PNG bomb"), pytest.raises(PictureError, match="decompression bomb"):
        enhance.open_picture(bomb)  # camera identification and manipulation checks open pictures this way
    jpeg = bytearray(malformed.camera_jpeg()[0])
    sof = next(s.offset for s in formats.jpeg_segments(bytes(jpeg)) if s.name.startswith("SOF"))
    jpeg[sof + 5:sof + 9] = (65500).to_bytes(2, "big") * 2
    big = tmp_path / "bomb.jpg"
    big.write_bytes(bytes(jpeg))
    assert metadata.metadata_row(big)["error"].startswith("decompression bomb")
    assert "exceeds limit" in similarity.hash_file(big)["error"]


def test_a_big_jpeg_is_still_hashed_from_its_draft(tmp_path: Path) -> None:
    """The bomb guard counts the pixels really decoded: a JPEG over Pillow's limit is drafted to 1/8 and hashed."""
    limit = Image.MAX_IMAGE_PIXELS
    panorama = malformed._picture(2048, 1536)
    picture, png = tmp_path / "panorama.jpg", tmp_path / "panorama.png"
    panorama.save(picture, quality=80)
    panorama.save(png, compress_level=1)
    try:
        Image.MAX_IMAGE_PIXELS = 2_000_000  # 3.1 M pixels declared; PDQ's 512-px draft decodes 1/4 of them
        row = similarity.hash_file(picture)
        assert row["error"] is None and row["scale"] == 2
        assert similarity.hash_file(png)["error"].startswith("decompression bomb: 2,048×1,536")
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def test_a_chunk_declaring_4_gib_costs_no_memory(tmp_path: Path, seeds: dict[str, tuple[str, bytes]]) -> None:
    """Regression: Pillow skips a broken PNG's IDAT by reading its declared length, and Python allocated all 4 GiB
    of it before reading 17 KB; evidence files now never ask for more than they hold."""
    png = bytearray(seeds["png"][1])
    idat = next(s.offset for s in formats.png_chunks(bytes(png)) if s.name == "IDAT")
    png[idat:idat + 4] = b"\xff\xff\xff\xff"
    path = tmp_path / "shot.png"
    path.write_bytes(bytes(png))
    for call in ("similarity.hash_file", "view.safe_thumbnail, metadata.thumbnail_bytes/quantisation_tables"):
        with bounded(call) as cost:
            CALLS[call](path)
        assert cost.python_bytes < 20 << 20, f"{call}: {cost.python_bytes / 2**20:.0f} MB"
    with evidence.open_readonly(path) as f:
        f.seek(100)
        assert f.read(1 << 40) == bytes(png[100:]) and f.read(10) == b""


def test_broken_wav_headers_give_clear_errors(tmp_path: Path, seeds: dict[str, tuple[str, bytes]]) -> None:
    """Regression: a format chunk running past the end gave the bare 'RuntimeError: ' and a sample rate of 0
    gave scipy's 'nperseg=0' message; both now say what is wrong with the recording."""
    found = {b.how: b.data for b in malformed.riff_attacks("hum.wav", seeds["wav"][1])}
    for how, expected in (("fmt chunk size 4 GiB", "a chunk runs past the end of the file"),
                          ("sample rate 0", "sample rate 0 Hz")):
        path = tmp_path / "rec.wav"
        path.write_bytes(found[how])
        assert media.hum_table([path])["error"].iloc[0] == f"not a PCM WAV file we can read ({expected})"


def test_an_ifd0_inside_the_tiff_header_is_not_walked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression (found by fuzz/fuzz_metadata.py): a 5 KB TIFF whose IFD0 offset (3) points into its own header
    made exifread walk ~100,000 phantom entries and sub-IFDs made of other bytes: 0.7 s a file."""
    import exifread.core.exif_header as exif_header

    walked = []  # the tags exifread reads an IFD entry for
    process_tag = exif_header.ExifHeader._process_tag

    def counted(self, *args, **kwargs):
        walked.append(args[3])
        return process_tag(self, *args, **kwargs)

    monkeypatch.setattr(exif_header.ExifHeader, "_process_tag", counted)
    fixture = Path(__file__).parent / "fixtures" / "malformed" / "fuzz_tiff_ifd0_inside_header.tif"
    row = metadata.metadata_row(fixture)
    assert row["error"] == "EXIF IFD0 offset 3 points into the TIFF header"
    assert row["width"] is None and row["make"] is None
    assert walked == []  # before the fix: 104,020


def test_one_value_past_the_end_costs_only_that_tag(tmp_path: Path) -> None:
    """Regression (found by fuzz/fuzz_metadata.py): a single DOUBLE (or RATIONAL) value stored past the end of
    the EXIF data made exifread raise IndexError, and every tag of the file was lost ('EXIF unreadable')."""
    fixture = Path(__file__).parent / "fixtures" / "malformed" / "fuzz_tiff_double_past_the_end.tif"
    row = metadata.metadata_row(fixture)
    assert "EXIF unreadable" not in row["error"]
    assert "EXIF IFD0 tag 0x0111: its value lies past the end of the EXIF data (ignored)" in row["notes"]
    assert (row["width"], row["height"]) == (8, 8)  # IFD0's other tags are read again
    jpeg, base, layout = malformed.camera_jpeg()
    at = base + layout.fields["ifd0.0112"]  # Orientation, made one DOUBLE stored far past the end
    path = tmp_path / "camera.jpg"
    path.write_bytes(jpeg[:at - 6] + (12).to_bytes(2, "little") + (1).to_bytes(4, "little")
                     + (0x7FFFFFF0).to_bytes(4, "little") + jpeg[at + 4:])
    row = metadata.metadata_row(path)
    assert row["make"] == "Canon" and row["gps_lat"] == pytest.approx(-33.859972) and row["orientation"] is None
    assert row["notes"] == "EXIF IFD0 tag 0x0112: its value lies past the end of the EXIF data (ignored)"


def test_carving_survives_a_scan_header_without_a_body(tmp_path: Path) -> None:
    """Regression: an SOS segment of length 2 (no component count) raised IndexError and stopped the whole carve."""
    jpeg = malformed.camera_jpeg()[0]
    sos = next(s.offset for s in formats.jpeg_segments(jpeg) if s.name == "SOS")
    broken = jpeg[:sos + 2] + b"\x00\x02" + jpeg[sos + 4:]
    (tmp_path / "card").mkdir()
    image = tmp_path / "card" / "card.dd"
    image.write_bytes(bytes(4096) + broken + bytes(4096 - len(broken) % 512) + jpeg + bytes(1024))
    table = carve.carve(image, out=tmp_path / "carved", keep_rejected=True, progress=False)
    # the broken picture is rejected; its EXIF thumbnail and the good picture after it are still carved
    assert table["state"].tolist() == ["rejected", "whole", "whole"]
    assert table["note"].iloc[0] == "the scan header (SOS) is cut or malformed: no picture data"
    assert table["offset"].iloc[2] == 4096 + len(broken) + 4096 - len(broken) % 512
    assert table["length"].iloc[2] == len(jpeg)


# --------------------------------------------------------------------------- batches


def test_batches_give_one_row_per_file(corpus: Corpus, tmp_path: Path) -> None:
    paths = corpus.paths[::3]
    names = [os.fsdecode(p) for p in paths]
    table = metadata.metadata_table(paths, progress=False)
    assert list(table["path"]) == names
    hashed = similarity.hash_table(paths, workers=2, progress=False)
    assert len(hashed) == len(paths) and hashed["path"].tolist() == [evidence.printable_path(n) for n in names]
    assert hashed["error"].notna().sum() > len(paths) // 4  # most are broken, and say so
    survey = evidence.survey(corpus.folder, progress=False)
    assert len(survey) == len(corpus.paths)
    manifest = evidence.manifest(corpus.folder, progress=False)
    assert len(manifest) == len(corpus.paths) and manifest["error"].isna().all()
    wavs = [p for p in corpus.paths if p.suffix == ".wav"]
    assert len(media.hum_table(wavs)) == len(wavs)


def test_scan_inventories_every_broken_file(corpus: Corpus, tmp_path: Path) -> None:
    from vidlab.scan import read_inventory, scan

    folder = tmp_path / "evidence"
    folder.mkdir()
    chosen = [p for i, p in enumerate(corpus.paths) if i % 3 == 0 or "bomb" in p.name]
    for path in chosen:
        os.link(path, folder / path.name)
    out = scan(folder, tmp_path / "inventory.parquet", workers=2, perceptual=True, progress=False)
    inventory = read_inventory(out)
    assert len(inventory) == len(chosen)
    assert sorted(inventory["path"]) == sorted(p.name for p in chosen)
    bombs = inventory[inventory["path"].str.contains("bomb")]
    assert bombs["hash_error"].str.contains("decompression bomb|exceeds limit").all()


def test_carving_a_disk_of_broken_jpegs(corpus: Corpus, tmp_path: Path) -> None:
    jpegs = [b for b in corpus.broken if b.data.startswith(b"\xff\xd8")]
    (tmp_path / "card").mkdir()
    image = malformed.disk_image(tmp_path / "card" / "disk.dd", jpegs)
    carved = tmp_path / "carved"
    with bounded("carve over broken JPEGs"):
        table = carve.carve(image, out=carved, keep_rejected=True, progress=False)
    assert len(table) > len(jpegs) // 2 and set(table["state"]) <= set(carve.STATES)
    saved = table["file"].dropna()
    assert all((carved / name).is_file() for name in saved)
    assert len(list(carved.iterdir())) == len(saved)  # no half-written leftovers


# --------------------------------------------------------------------------- properties (hypothesis)

_MAGICS = [b"", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*",
           b"II+\x00", b"\x00\x00\x00\x18ftypheic", b"\x00\x00\x00\x18ftypmif1", b"\x00\x00\x00\x18ftypisom",
           b"RIFF\x00\x10\x00\x00WEBP", b"RIFF\x00\x10\x00\x00WAVE", b"GIF89a", b"BM", b"%PDF-", b"PK\x03\x04"]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hypothesis")


def _every_reader(path: Path) -> None:
    for call in ("metadata.metadata_row", "similarity.hash_file", "evidence.identify",
                 "formats.structure/is_complete/hex_view"):
        with bounded(call):
            CALLS[call](path)


@HYPOTHESIS
@given(magic=st.sampled_from(_MAGICS), body=st.binary(max_size=4096))
def test_any_bytes_behind_a_magic(scratch: Path, magic: bytes, body: bytes) -> None:
    path = scratch / "any.jpg"
    path.write_bytes(magic + body)
    _every_reader(path)


@HYPOTHESIS
@given(data=st.data())
def test_any_damage_to_a_valid_file(scratch: Path, seeds: dict[str, tuple[str, bytes]], data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(sorted(k for k in seeds if k not in ("wav", "mp4"))))
    name, original = seeds[kind]
    broken = bytearray(original)
    header = min(len(broken), 2048)
    for at, value in data.draw(st.lists(st.tuples(st.integers(0, header - 1), st.integers(0, 255)), max_size=12)):
        broken[at] = value
    cut = data.draw(st.none() | st.integers(0, len(broken)))
    path = scratch / name
    path.write_bytes(bytes(broken[:cut]))
    _every_reader(path)
    with bounded("safe_thumbnail"):
        CALLS["view.safe_thumbnail, metadata.thumbnail_bytes/quantisation_tables"](path)


@HYPOTHESIS
@given(kind=st.sampled_from(["wav", "mp4"]), data=st.data())
def test_any_damage_to_a_recording_or_video(scratch: Path, seeds: dict[str, tuple[str, bytes]], kind: str,
                                             data: st.DataObject) -> None:
    name, original = seeds[kind]
    broken = bytearray(original)
    for at, value in data.draw(st.lists(st.tuples(st.integers(0, min(len(broken), 4096) - 1), st.integers(0, 255)),
                                        max_size=12)):
        broken[at] = value
    path = scratch / name
    path.write_bytes(bytes(broken[:data.draw(st.none() | st.integers(0, len(broken)))]))
    with bounded(f"media on a damaged {kind}"):
        _media(path)


@HYPOTHESIS
@given(chunks=st.lists(st.one_of(st.binary(max_size=600), st.sampled_from(
    [b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb\x00\x43", b"\xff\xda\x00\x08", b"\xff\xd9", b"\xff\xc0\x00\x11\x08",
     b"\xff" * 7, bytes(512)])), max_size=40))
def test_carving_any_bytes(scratch: Path, chunks: list[bytes]) -> None:
    image = scratch / "card.dd"
    image.write_bytes(b"".join(chunks))
    with bounded("carve"):
        table = carve.carve(image, keep_rejected=True, progress=False)
    assert set(table["state"]) <= set(carve.STATES)
    assert (table["offset"].diff().dropna() > 0).all()  # in offset order, each candidate once


@HYPOTHESIS
@given(magic=st.sampled_from(_MAGICS), body=st.binary(max_size=2048))
def test_walkers_describe_or_refuse_by_kind(magic: bytes, body: bytes) -> None:
    data = magic + body
    for walker in (formats.jpeg_segments, formats.png_chunks, formats.bmff_boxes):
        try:
            segments = walker(data)
        except ValueError as exc:  # the one deliberate error: handed another kind of file
            assert str(exc).startswith("not a"), exc
            continue
        assert all(s.offset >= 0 and s.length >= 0 for s in segments)
    try:
        header = formats.tiff_header(data)
    except ValueError as exc:
        assert str(exc).startswith("not a"), exc
    else:
        assert isinstance(header, dict)


def test_results_are_frames_with_fixed_columns(corpus: Corpus) -> None:
    """The batch tables keep their columns and dtypes even when every file in them is broken."""
    broken = [p for p, b in zip(corpus.paths, corpus.broken) if b.how in ("zero bytes", "4 KiB of zeros")]
    table = metadata.metadata_table(broken, progress=False)
    hashes = similarity.hash_table(broken, progress=False)
    assert list(table.columns) == list(metadata.METADATA_COLUMNS) and table["error"].notna().all()
    assert list(hashes.columns) == list(similarity.HASH_COLUMNS) and hashes["error"].notna().all()
    assert isinstance(table, pd.DataFrame) and str(hashes["width"].dtype) == "Int64"


@pytest.mark.realdata
def test_damaged_real_camera_files(real_samples: Path, tmp_path: Path) -> None:
    """Real MakerNotes, thumbnails and IFD layouts (Canon, Nikon, Olympus, Fujifilm, Apple …), truncated at every
    marker and with bytes flipped inside their EXIF: still a row, within the bounds, for every variant."""
    originals = sorted(p for p in real_samples.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".tif", ".tiff",
                       ".heic", ".heif") and p.stat().st_size < 1 << 20)  # each variant is written whole: keep it quick
    assert len(originals) > 50
    path, failures, tried = tmp_path / "variant", [], 0
    tracemalloc.start()
    try:
        for n, original in enumerate(originals):
            for broken in malformed.real_file_variants(original, 8, malformed.SEED + n):
                path.write_bytes(broken.data)
                tried += 1
                try:
                    with bounded(f"metadata_row on {original.name} ({broken.how})"):
                        row = _metadata_row(path)
                    # the row's safety net must not be hiding a reader bug
                    assert not malformed.BUGS.search(row["error"] or ""), row["error"]
                except Exception as exc:  # collected, so one run names every variant that fails
                    failures.append(f"{original.relative_to(real_samples)} ({broken.how}): {type(exc).__name__}: {exc}")
    finally:
        tracemalloc.stop()
    assert tried > 1000
    assert not failures, f"{len(failures)} of {tried} variants failed:\n" + "\n".join(failures[:20])
