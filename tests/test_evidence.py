"""vidlab.evidence: real files in (made with Pillow, zipfile or by hand), real answers out."""

from __future__ import annotations

import io
import os
import random
import socket
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, PngImagePlugin

from vidlab import evidence as ev

# --------------------------------------------------------------------------- building real files


def _noise(w: int = 320, h: int = 240, seed: int = 7) -> Image.Image:
    """A noisy RGB picture: its JPEG scan data is full of stuffed FF 00 bytes."""
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, w, dtype=np.float64)[None, :, None]
    pixels = np.clip(base + rng.normal(0, 60, (h, w, 3)), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "VIDLab Optics"  # Make
    exif[0x0110] = "Synthetic 1"  # Model
    exif[0x0131] = "vidlab tests"  # Software
    return exif


def _jpeg_exif() -> bytes:
    return _save(_noise(), "JPEG", quality=90, exif=_exif())


def _jpeg_progressive() -> bytes:
    return _save(_noise(), "JPEG", quality=85, progressive=True)


def _png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "VID Lab")
    return _save(_noise(), "PNG", pnginfo=info)


def _gif_animated() -> bytes:
    frames = [_noise(64, 48, seed).convert("P") for seed in (1, 2, 3)]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _tiff_le() -> bytes:
    return _save(_noise(64, 48), "TIFF")


def _tiff_be() -> bytes:
    return _save(Image.frombytes("I;16B", (64, 48), bytes(range(256)) * 24), "TIFF")  # Pillow writes I;16B as MM


def _heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return _save(_noise(64, 48), "HEIF", quality=60)


def _pdf() -> bytes:
    body = (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    )
    xref = len(body)
    return body + (
        b"xref\n0 3\n0000000000 65535 f \n0000000019 00000 n \n0000000074 00000 n \n"
        b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n" + str(xref).encode() + b"\n%%EOF\n"
    )


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("notes/readme.txt", "case notes " * 200)
        z.writestr("photo.jpg", _save(_noise(32, 24), "JPEG"))
    return buf.getvalue()


TEXT = "Exhibit 12 – seized laptop\nÜbersicht, résumé, 日本語\n" * 20


@pytest.fixture(scope="module")
def blobs() -> dict[str, bytes]:
    """Every sample, built once per test module."""
    return {
        "jpeg_exif": _jpeg_exif(),
        "jpeg_progressive": _jpeg_progressive(),
        "png": _png(),
        "gif": _gif_animated(),
        "tiff_le": _tiff_le(),
        "tiff_be": _tiff_be(),
        "heic": _heic(),
        "webp": _save(_noise(), "WEBP", quality=80),
        "webp_lossless": _save(_noise(64, 48), "WEBP", lossless=True),
        "bmp": _save(_noise(64, 48), "BMP"),
        "pdf": _pdf(),
        "zip": _zip(),
        "text": TEXT.encode("utf-8"),
    }


# name on disk -> (blob key, real kind, extension_ok)
FILES = {
    "DCIM/IMG_0001.jpg": ("jpeg_exif", "jpeg", True),
    "DCIM/IMG_0002.JPG": ("jpeg_progressive", "jpeg", True),
    "DCIM/sub/scan.png": ("png", "png", True),
    "DCIM/sub/anim.gif": ("gif", "gif", True),
    "raw/le.tif": ("tiff_le", "tiff", True),
    "raw/be.tiff": ("tiff_be", "tiff", True),
    "raw/camera.dng": ("tiff_le", "tiff", True),
    "phone/IMG_1234.HEIC": ("heic", "heic", True),
    "phone/shared.heif": ("heic", "heic", True),
    "web/pic.webp": ("webp", "webp", True),
    "web/lossless.webp": ("webp_lossless", "webp", True),
    "paint.bmp": ("bmp", "bmp", True),
    "docs/report.pdf": ("pdf", "pdf", True),
    "docs/archive.zip": ("zip", "zip", True),
    "docs/notes.txt": ("text", "text", True),
    # renamed files: the name lies about the content
    "renamed/holiday.png": ("jpeg_exif", "jpeg", False),
    "renamed/invoice.pdf": ("png", "png", False),
    "renamed/clip.mp4": ("heic", "heic", False),
    "renamed/list.jpg": ("text", "text", False),
    "renamed/backup.dat": ("zip", "zip", None),  # extension unknown to us: cannot judge
    "renamed/noextension": ("jpeg_exif", "jpeg", None),
}


@pytest.fixture()
def evidence_dir(tmp_path: Path, blobs: dict[str, bytes]) -> Path:
    """A small seized-device-like folder of real files (plus an empty one)."""
    root = tmp_path / "exhibit"
    for rel, (key, _kind, _ok) in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blobs[key])
    (root / "empty.jpg").write_bytes(b"")
    return root


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    "header, kind",
    [
        (b"", "empty"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
        (b"\xff\xd8\xff\xe1\x12\x34Exif\x00\x00", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"GIF87a\x01\x00", "gif"),
        (b"GIF89a\x01\x00", "gif"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
        (b"II+\x00\x08\x00\x00\x00", "tiff"),  # BigTIFF
        (b"IIRO\x08\x00\x00\x00", "tiff"),  # Olympus ORF
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x14ftypheix\x00\x00\x00\x00mif1", "heic"),
        (b"\x00\x00\x00\x14ftypmsf1\x00\x00\x00\x00hevc", "heic"),
        (b"\x00\x00\x00\x20ftypavif\x00\x00\x00\x00avifmif1miafMA1B", "avif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "avif"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", "mp4"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "mp4"),
        (b"\x00\x00\x00\x08wide\x00\x10\x00\x00mdat", "mp4"),  # old QuickTime, no ftyp
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00", "unknown"),
        (b"BM6\x84\x03\x00\x00\x00\x00\x006\x00\x00\x00(\x00\x00\x00", "bmp"),
        (b"BMW service history\nBMW 320d, 2019\n", "text"),  # starts 'BM' but is text
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),
        (b"\r\n--MIME junk\r\n%PDF-1.4\n%\xe2\xe3\xcf\xd3\n\x00\x01\x02stream", "pdf"),  # junk before the header
        (b"Note: every PDF starts with %PDF-1.7, see ISO 32000.\n", "text"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "zip"),
        (b"PK\x05\x06" + bytes(18), "zip"),  # empty archive
        (b"plain ASCII notes\r\nline two\r\n", "text"),
        ("Übersicht: résumé, 日本語\n".encode(), "text"),
        ("Übersicht: résumé\n".encode("cp1252"), "text"),  # legacy 8-bit text
        ("\ufeffBOM text".encode("utf-8"), "text"),
        ("UTF-16 text with BOM\n".encode("utf-16"), "text"),
        ("日本語".encode() * 3 + "日".encode()[:2], "text"),  # header cut mid-character
        (bytes(range(256)), "unknown"),
        (b"\x00\x00\x00\x01Bud1\x00\x00\x10\x00", "unknown"),  # macOS .DS_Store
    ],
)
def test_sniff_magic_numbers(header: bytes, kind: str) -> None:
    assert ev.sniff(header) == kind
    assert kind in ev.KINDS


def test_sniff_random_binary_is_unknown() -> None:
    rng = random.Random(1)
    for _ in range(50):
        blob = bytes(rng.randrange(256) for _ in range(512))
        assert ev.sniff(blob) == "unknown"


def test_identify_every_real_format(evidence_dir: Path) -> None:
    for rel, (_key, kind, ok) in FILES.items():
        path = evidence_dir / rel
        assert ev.identify(path) == kind, rel
        assert ev.extension_matches(path) is ok, rel
        assert ev.extension_matches(path, kind) is ok, rel
    assert ev.identify(evidence_dir / "empty.jpg") == "empty"


def test_extensions_map() -> None:
    assert set(ev.EXTENSIONS.values()) <= set(ev.KINDS)
    assert all(ext == ext.lower() and not ext.startswith(".") for ext in ev.EXTENSIONS)
    for ext, kind in {"jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "jfif": "jpeg", "png": "png",
                      "gif": "gif", "tif": "tiff", "tiff": "tiff", "heic": "heic", "heif": "heic",
                      "hif": "heic", "webp": "webp", "bmp": "bmp", "pdf": "pdf", "zip": "zip",
                      "mp4": "mp4", "mov": "mp4", "m4v": "mp4", "txt": "text", "log": "text",
                      "ini": "text", "csv": "text", "json": "text", "xml": "text", "md": "text",
                      "dng": "tiff", "nef": "tiff", "cr2": "tiff", "arw": "tiff"}.items():
        assert ev.EXTENSIONS[ext] == kind, ext


def test_extension_matches_edge_cases(tmp_path: Path) -> None:
    empty = _write(tmp_path, "broken.jpg", b"")
    assert ev.extension_matches(empty) is None  # a zero-byte file claims nothing
    assert ev.extension_matches("x.JPG", "jpeg") is True
    assert ev.extension_matches("x.jpeg", "png") is False
    assert ev.extension_matches("x.jpg", "unknown") is False
    assert ev.extension_matches("archive.tar.gz", "unknown") is None
    assert ev.extension_matches("README", "text") is None
    assert ev.extension_matches(".bashrc", "text") is None
    assert ev.extension_matches("photo.heif", "avif") is True  # generic HEIF may carry AV1
    assert ev.extension_matches("photo.heic", "avif") is False
    assert ev.extension_matches("raw.NEF", "tiff") is True


# --------------------------------------------------------------------------- JPEG


def _first_occurrences(segs: list[ev.Segment]) -> list[str]:
    seen: list[str] = []
    for s in segs:
        if s.name not in seen:
            seen.append(s.name)
    return seen


def _assert_walk_consistent(segs: list[ev.Segment], data: bytes) -> None:
    """Offsets increase, segments stay inside the file, markers are the bytes at their offsets."""
    last_end = 0
    for s in segs:
        assert s.offset >= last_end and s.length >= 0 and s.end <= len(data), s
        if s.marker.startswith("FF"):
            assert data[s.offset:s.offset + 2].hex().upper() == s.marker, s
        last_end = s.end


def test_jpeg_segments_baseline_with_exif(blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    segs = ev.jpeg_segments(data)
    order = _first_occurrences(segs)
    expected = ["SOI", "APP1", "DQT", "SOF0", "DHT", "SOS", "EOI"]
    assert [n for n in order if n in expected] == expected
    assert segs[0] == ev.Segment(0, "FFD8", "SOI", 2, "")
    assert segs[-1].name == "EOI" and segs[-1].end == len(data)
    app1 = next(s for s in segs if s.name == "APP1")
    assert app1.note == "Exif" and app1.marker == "FFE1"
    assert data[app1.offset + 4:app1.offset + 10] == b"Exif\x00\x00"
    sof = next(s for s in segs if s.name == "SOF0")
    assert sof.note.startswith("baseline DCT 320×240, 3 components")
    assert sof.length == 2 + 17  # marker + 8 + 3 components × 3
    assert next(s for s in segs if s.name == "APP0").note == "JFIF"
    assert {s.note for s in segs if s.name == "DQT"} <= {"table 0", "table 1", "tables 0, 1"}
    sos = [s for s in segs if s.name == "SOS"]
    assert len(sos) == 1 and sos[0].length > 1000  # spans the entropy-coded data
    # segments tile the file exactly: nothing missed, nothing overlapping
    assert sum(s.length for s in segs) == len(data)
    _assert_walk_consistent(segs, data)


def test_jpeg_segments_path_and_bytes_agree(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    path = _write(tmp_path, "a.jpg", blobs["jpeg_exif"])
    assert ev.jpeg_segments(path) == ev.jpeg_segments(blobs["jpeg_exif"]) == ev.jpeg_segments(str(path))
    assert ev.jpeg_segments(bytearray(blobs["jpeg_exif"])) == ev.jpeg_segments(path)


def test_jpeg_segments_progressive_has_many_scans(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_progressive"]
    segs = ev.jpeg_segments(data)
    names = [s.name for s in segs]
    assert "SOF2" in names and "SOF0" not in names
    assert names.count("SOS") >= 3
    assert names[-1] == "EOI"
    assert next(s for s in segs if s.name == "SOF2").note.startswith("progressive DCT 320×240, 3 components")
    assert sum(s.length for s in segs) == len(data)
    _assert_walk_consistent(segs, data)
    assert ev.is_complete(_write(tmp_path, "p.jpg", data)) is True


def test_jpeg_restart_markers_are_inside_the_scan() -> None:
    data = _save(_noise(), "JPEG", quality=90, restart_marker_rows=1)
    segs = ev.jpeg_segments(data)
    names = [s.name for s in segs]
    assert "DRI" in names and names.count("SOS") == 1 and names[-1] == "EOI"
    assert not any(n.startswith("RST") for n in names)
    sos = next(s for s in segs if s.name == "SOS")
    assert "restart markers" in sos.note
    assert sum(s.length for s in segs) == len(data)


def test_jpeg_fill_bytes_before_a_marker() -> None:
    data = _jpeg_exif()
    dqt = next(s for s in ev.jpeg_segments(data) if s.name == "DQT")
    padded = data[:dqt.offset] + b"\xff\xff\xff" + data[dqt.offset:]
    segs = ev.jpeg_segments(padded)
    dqt2 = next(s for s in segs if s.name == "DQT")
    assert dqt2.offset == dqt.offset + 3  # points at the real FF DB
    assert "fill" in dqt2.note
    assert segs[-1].name == "EOI"


def test_jpeg_truncated_in_scan(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    sos = next(s for s in ev.jpeg_segments(data) if s.name == "SOS")
    cut = data[: sos.offset + sos.length // 2]
    segs = ev.jpeg_segments(cut)
    assert segs[-1].name == "SOS" and segs[-1].note.startswith("truncated")
    assert segs[-1].end == len(cut)
    assert "EOI" not in [s.name for s in segs]
    assert ev.is_complete(_write(tmp_path, "cut.jpg", cut)) is False
    assert ev.is_complete(_write(tmp_path, "whole.jpg", data)) is True


def test_jpeg_cut_anywhere_never_raises(blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    for cut in list(range(2, 800)) + list(range(800, len(data), 997)):
        segs = ev.jpeg_segments(data[:cut])
        assert segs[0].name == "SOI"
        assert "EOI" not in [s.name for s in segs]
        _assert_walk_consistent(segs, data[:cut])


def test_jpeg_corrupted_bytes_never_raise(blobs: dict[str, bytes]) -> None:
    rng = random.Random(42)
    data = blobs["jpeg_progressive"]
    for _ in range(150):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(2, len(damaged))] = rng.randrange(256)
        segs = ev.jpeg_segments(bytes(damaged))
        assert segs[0].name == "SOI"
        _assert_walk_consistent(segs, bytes(damaged))


def test_jpeg_bogus_lengths(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    app0 = next(s for s in ev.jpeg_segments(data) if s.name == "APP0")
    small = data[:app0.offset] + _save(_noise(16, 16), "JPEG")[2:]  # short file: SOI + a tiny JPEG body
    small_app0 = next(s for s in ev.jpeg_segments(small) if s.name == "APP0")

    # 1. a length that runs past the end of the file
    past_end = bytearray(small)
    past_end[small_app0.offset + 2:small_app0.offset + 4] = b"\xff\xff"
    segs = ev.jpeg_segments(bytes(past_end))
    assert segs[-1].name == "APP0" and segs[-1].note.startswith("truncated")
    assert segs[-1].end == len(past_end)
    assert ev.is_complete(_write(tmp_path, "past.jpg", bytes(past_end))) is False

    # 2. a length below the minimum of 2: flagged, and the walk resynchronises at the next marker
    zero = bytearray(data)
    zero[app0.offset + 2:app0.offset + 4] = b"\x00\x00"
    segs = ev.jpeg_segments(bytes(zero))
    assert segs[1].name == "APP0" and "bogus length 0" in segs[1].note
    names = [s.name for s in segs]
    assert "junk" in names and names[-1] == "EOI" and "SOF0" in names

    # 3. a length a few bytes short: the walk lands inside the segment, reports junk, then recovers
    short = bytearray(data)
    short[app0.offset + 2:app0.offset + 4] = struct.pack(">H", 16 - 5)
    segs = ev.jpeg_segments(bytes(short))
    junk = next(s for s in segs if s.name == "junk")
    assert junk.offset == app0.offset + 2 + 11 and junk.length == 5
    assert [s.name for s in segs][-1] == "EOI"
    _assert_walk_consistent(segs, bytes(short))


def test_jpeg_trailing_data_after_eoi(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    for extra, words in [(_save(_noise(32, 24), "JPEG"), "another JPEG"),
                         (_zip(), "looks like zip"),
                         (bytes(100), "zero padding")]:
        segs = ev.jpeg_segments(data + extra)
        assert segs[-2].name == "EOI"
        assert segs[-1].name == "trailing" and segs[-1].length == len(extra)
        assert words in segs[-1].note
        assert ev.is_complete(_write(tmp_path, "t.jpg", data + extra)) is True


def test_jpeg_segments_rejects_other_files(blobs: dict[str, bytes]) -> None:
    with pytest.raises(ValueError, match="not a JPEG"):
        ev.jpeg_segments(blobs["png"])
    with pytest.raises(ValueError, match="not a JPEG"):
        ev.jpeg_segments(b"")


def test_jpeg_without_scan_is_incomplete(tmp_path: Path) -> None:
    path = _write(tmp_path, "headers-only.jpg", b"\xff\xd8\xff\xfe\x00\x05hi!\xff\xd9")
    assert [s.name for s in ev.jpeg_segments(path)] == ["SOI", "COM", "EOI"]
    assert ev.jpeg_segments(path)[1].note == "hi!"
    assert ev.is_complete(path) is False


# --------------------------------------------------------------------------- PNG


def test_png_chunks(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["png"]
    chunks = ev.png_chunks(data)
    names = [c.name for c in chunks]
    assert names[0] == "IHDR" and names[-1] == "IEND" and "IDAT" in names
    assert chunks[0].offset == 8 and chunks[0].length == 25 and chunks[0].marker == "49484452"
    assert chunks[0].note == "320×240, 8-bit RGB"
    text = next(c for c in chunks if c.name in ("tEXt", "iTXt", "zTXt"))
    assert text.note == "Software"
    assert not any("bad CRC" in c.note for c in chunks)
    assert chunks[-1].end == len(data) and sum(c.length for c in chunks) == len(data) - 8
    assert ev.png_chunks(_write(tmp_path, "a.png", data)) == chunks
    assert ev.is_complete(tmp_path / "a.png") is True


def test_png_bad_crc_truncation_and_rejection(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["png"]
    idat = next(c for c in ev.png_chunks(data) if c.name == "IDAT")
    flipped = bytearray(data)
    flipped[idat.offset + 8 + 10] ^= 0xFF
    chunks = ev.png_chunks(bytes(flipped))
    bad = [c.name for c in chunks if "bad CRC" in c.note]
    assert bad == ["IDAT"]
    assert chunks[-1].name == "IEND"

    cut = data[: idat.offset + idat.length // 2]
    chunks = ev.png_chunks(cut)
    assert chunks[-1].name == "IDAT" and chunks[-1].note.startswith("truncated")
    assert ev.is_complete(_write(tmp_path, "cut.png", cut)) is False
    for n in range(8, len(data), 211):
        ev.png_chunks(data[:n])  # never raises
    with pytest.raises(ValueError, match="not a PNG"):
        ev.png_chunks(blobs["jpeg_exif"])


def test_png_palette_interlace_and_exif() -> None:
    im = _noise(40, 30).convert("P")
    data = _save(im, "PNG", exif=_exif())
    chunks = ev.png_chunks(data)
    assert chunks[0].note == "40×30, 8-bit palette"
    names = [c.name for c in chunks]
    assert "PLTE" in names and "eXIf" in names
    assert next(c for c in chunks if c.name == "PLTE").note.endswith("colours")
    # Pillow does not write Adam7 PNGs: set the IHDR interlace flag by hand, with a fresh CRC
    ihdr = bytearray(data[8:33])
    ihdr[20] = 1
    ihdr[21:25] = struct.pack(">I", zlib.crc32(bytes(ihdr[4:21])))
    chunks = ev.png_chunks(data[:8] + bytes(ihdr) + data[33:])
    assert chunks[0].note == "40×30, 8-bit palette, interlaced"


# --------------------------------------------------------------------------- ISO-BMFF (HEIC, AVIF, MP4)


def test_heic_boxes(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["heic"]
    path = _write(tmp_path, "x.heic", data)
    assert ev.identify(path) == "heic"
    boxes = ev.bmff_boxes(path)
    names = [b.name for b in boxes]
    assert names[0] == "ftyp" and "meta" in names and "mdat" in names
    assert boxes[0].marker == "66747970" and "major brand heic" in boxes[0].note
    assert sum(b.length for b in boxes) == len(data)
    assert ev.structure(path) == boxes
    assert ev.is_complete(path) is True
    mdat = next(b for b in boxes if b.name == "mdat")
    cut = _write(tmp_path, "cut.heic", data[: mdat.offset + mdat.length // 2])
    assert ev.bmff_boxes(cut)[-1].note.startswith("truncated")
    assert ev.is_complete(cut) is False


def test_avif_is_its_own_kind(tmp_path: Path) -> None:
    try:
        data = _save(_noise(32, 24), "AVIF", quality=50)
    except (KeyError, OSError, ValueError):
        data = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00\x00\x00\x08mdat"
    path = _write(tmp_path, "x.avif", data)
    assert ev.identify(path) == "avif" and ev.extension_matches(path) is True
    assert ev.bmff_boxes(path)[0].note.startswith("major brand avif")


def test_bmff_largesize_and_size_zero() -> None:
    ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41"
    free = struct.pack(">I", 1) + b"free" + struct.pack(">Q", 24) + bytes(8)  # 64-bit size
    mdat = struct.pack(">I", 0) + b"mdat" + bytes(100)  # size 0: runs to the end
    boxes = ev.bmff_boxes(ftyp + free + mdat)
    assert [b.name for b in boxes] == ["ftyp", "free", "mdat"]
    assert boxes[0].note.startswith("major brand isom") and "mp41" in boxes[0].note
    assert boxes[1].length == 24 and "64-bit" in boxes[1].note
    assert boxes[2].length == 108 and "end of the file" in boxes[2].note
    assert ev.sniff(ftyp) == "mp4"
    huge = ftyp + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 2**40)
    assert ev.bmff_boxes(huge)[-1].note.startswith("truncated")
    assert ev.bmff_boxes(ftyp + struct.pack(">I", 3) + b"free")[-1].note.startswith("bogus size")
    with pytest.raises(ValueError, match="not an ISO-BMFF"):
        ev.bmff_boxes(b"\x89PNG\r\n\x1a\n")


# --------------------------------------------------------------------------- TIFF


def test_tiff_header_both_byte_orders(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    for key, order in (("tiff_le", "little-endian (II)"), ("tiff_be", "big-endian (MM)")):
        data = blobs[key]
        info = ev.tiff_header(_write(tmp_path, f"{key}.tif", data))
        fmt = "<" if key == "tiff_le" else ">"
        first = struct.unpack(fmt + "I", data[4:8])[0]
        entries = struct.unpack(fmt + "H", data[first:first + 2])[0]
        assert info["byte_order"] == order
        assert info["first_ifd_offset"] == first and info["ifd0_entries"] == entries > 5
        assert info["problems"] == []
        assert ev.is_complete(tmp_path / f"{key}.tif") is True
        segs = ev.structure(tmp_path / f"{key}.tif")
        assert [s.name for s in segs][:1] == ["header"] and "IFD0" in [s.name for s in segs]


def test_tiff_loops_and_bogus_offsets_are_safe(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    # IFD0 whose next-IFD pointer points back at itself
    entry = struct.pack("<HHII", 256, 4, 1, 1)
    looped = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + entry + struct.pack("<I", 8)
    info = ev.tiff_header(looped)
    assert info["ifd0_entries"] == 1 and any("loop" in p for p in info["problems"])
    # first IFD beyond the end of the file
    beyond = b"II*\x00" + struct.pack("<I", 10_000_000) + bytes(8)
    info = ev.tiff_header(beyond)
    assert info["ifd0_entries"] is None and any("beyond the end" in p for p in info["problems"])
    assert ev.is_complete(_write(tmp_path, "beyond.tif", beyond)) is False
    # an entry count far larger than the file
    info = ev.tiff_header(b"MM\x00*" + struct.pack(">I", 8) + b"\xff\xff" + bytes(20))
    assert info["problems"] and info["byte_order"] == "big-endian (MM)"
    # truncated strips make the file incomplete
    data = blobs["tiff_le"]
    info = ev.tiff_header(data)
    cut = data[: min(info["first_ifd_offset"], len(data)) - 100] if info["first_ifd_offset"] > 200 else data[:-200]
    path = _write(tmp_path, "cut.tif", cut)
    assert ev.is_complete(path) is False
    ev.structure(path)  # no exception
    with pytest.raises(ValueError, match="not a TIFF"):
        ev.tiff_header(b"hello world")


def test_tiff_header_reads_an_exif_block(blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    app1 = next(s for s in ev.jpeg_segments(data) if s.name == "APP1")
    tiff = data[app1.offset + 10:app1.end]  # after FF E1, length, "Exif\0\0"
    info = ev.tiff_header(tiff)
    assert info["ifd0_entries"] == 3 and info["problems"] == []


# --------------------------------------------------------------------------- GIF, WEBP, BMP, others


def test_gif_structure(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["gif"]
    path = _write(tmp_path, "a.gif", data)
    segs = ev.structure(path)
    names = [s.name for s in segs]
    assert names[:2] == ["header", "logical screen descriptor"] and names[-1] == "trailer"
    assert names.count("image") == 3
    assert any(s.name == "application extension" and s.note == "NETSCAPE2.0" for s in segs)
    assert sum(s.length for s in segs) == len(data)
    assert ev.is_complete(path) is True
    assert ev.is_complete(_write(tmp_path, "cut.gif", data[:-1])) is False
    assert ev.is_complete(_write(tmp_path, "cut2.gif", data[: len(data) // 2])) is False
    for n in range(1, len(data), 37):
        ev.structure(_write(tmp_path, "c.gif", data[:n]))  # never raises


def test_webp_structure(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    for key, word in (("webp", "lossy 320×240"), ("webp_lossless", "lossless 64×48")):
        data = blobs[key]
        path = _write(tmp_path, f"{key}.webp", data)
        segs = ev.structure(path)
        assert segs[0].name == "RIFF" and any(word == s.note for s in segs), segs
        assert ev.is_complete(path) is True
        assert ev.is_complete(_write(tmp_path, "cut.webp", data[:-10])) is False


def test_bmp_structure(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["bmp"]
    path = _write(tmp_path, "a.bmp", data)
    segs = ev.structure(path)
    assert [s.name for s in segs] == ["file header", "DIB header", "pixel data"]
    assert segs[1].note == "BITMAPINFOHEADER: 64×48, 24-bit, uncompressed"
    assert ev.is_complete(path) is True
    assert ev.is_complete(_write(tmp_path, "cut.bmp", data[:-5])) is False


def test_pdf_zip_text_empty(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    pdf = _write(tmp_path, "a.pdf", blobs["pdf"])
    assert ev.identify(pdf) == "pdf" and ev.structure(pdf) == [] and ev.is_complete(pdf) is True
    assert ev.is_complete(_write(tmp_path, "cut.pdf", blobs["pdf"][:-20])) is False
    z = _write(tmp_path, "a.zip", blobs["zip"])
    assert ev.identify(z) == "zip" and ev.is_complete(z) is True
    assert ev.is_complete(_write(tmp_path, "cut.zip", blobs["zip"][:-30])) is False
    txt = _write(tmp_path, "a.txt", blobs["text"])
    assert ev.identify(txt) == "text" and ev.structure(txt) == [] and ev.is_complete(txt) is None
    empty = _write(tmp_path, "empty.png", b"")
    assert ev.identify(empty) == "empty" and ev.structure(empty) == [] and ev.is_complete(empty) is False
    blob = _write(tmp_path, "blob.bin", bytes(range(256)) * 4)
    assert ev.identify(blob) == "unknown" and ev.is_complete(blob) is None


def test_structure_dispatch(evidence_dir: Path) -> None:
    first = {"jpeg": "SOI", "png": "IHDR", "gif": "header", "tiff": "header", "heic": "ftyp",
             "webp": "RIFF", "bmp": "file header"}
    for rel, (_key, kind, _ok) in FILES.items():
        segs = ev.structure(evidence_dir / rel)
        if kind in first:
            assert segs and segs[0].name == first[kind], rel
            assert all(isinstance(s, ev.Segment) for s in segs)
        else:
            assert segs == [], rel


def test_segment_is_frozen() -> None:
    seg = ev.Segment(0, "FFD8", "SOI", 2, "")
    with pytest.raises(AttributeError):
        seg.offset = 5  # type: ignore[misc]
    assert seg.end == 2
    assert list(pd.DataFrame([seg]).columns) == ["offset", "marker", "name", "length", "note"]


def test_reading_refuses_folders_and_pipes(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        ev.identify(tmp_path)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        with pytest.raises(OSError, match="not a regular file"):
            ev.identify(fifo)  # and it does not hang waiting for a writer


def test_damaged_files_of_every_kind_never_raise(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    rng = random.Random(3)
    path = tmp_path / "damaged"
    for key, data in blobs.items():
        for i in range(40):
            d = bytearray(data[: rng.randrange(1, len(data) + 1)] if i % 2 else data)
            for _ in range(rng.randint(0, 6)):
                at = rng.randrange(len(d))
                d[at:at + 4] = rng.choice([b"\xff\xff\xff\xff", bytes(4), b"\x00\x00\x00\x01", bytes([rng.randrange(256)])])
            path.write_bytes(bytes(d))
            kind = ev.identify(path)
            segs = ev.structure(path)
            assert ev.is_complete(path) in (True, False, None), (key, i)
            assert all(0 <= s.offset <= len(d) and s.end <= len(d) for s in segs), (key, i, segs)
            ev.survey(tmp_path, progress=False)  # and a batch over it never raises either
            assert kind in ev.KINDS


def test_bmp_short_os2_header() -> None:
    data = b"BM" + struct.pack("<IHHI", 0, 0, 0, 30) + struct.pack("<IiiHH", 16, 2, 2, 1, 24)
    assert ev.sniff(data) == "bmp"
    segs = ev._walk_bmp(data)  # 16-byte OS/2 header, no pixels: described, not raised
    assert segs[1].note.startswith("OS22XBITMAPHEADER: 2×2, 24-bit")
    assert segs[-1].note.startswith("truncated")


# --------------------------------------------------------------------------- hex view


def test_hex_view_format(tmp_path: Path) -> None:
    data = b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II*\x00" + bytes(range(0x41, 0x41 + 20))
    out = ev.hex_view(data, 0, 32)
    lines = out.split("\n")
    assert lines[0] == "00000000  FF D8 FF E1 00 10 45 78 69 66 00 00 49 49 2A 00  |......Exif..II*.|"
    assert lines[1] == "00000010  41 42 43 44 45 46 47 48 49 4A 4B 4C 4D 4E 4F 50  |ABCDEFGHIJKLMNOP|"
    short = ev.hex_view(data, 30, 64).split("\n")  # offset in the middle, ragged last line
    assert short[0].startswith("0000001E  4F 50 51 52 53 54")
    assert short[0].index("|") == lines[0].index("|")  # the text column stays aligned
    path = _write(tmp_path, "h.bin", data)
    assert ev.hex_view(path, 4, 20, width=8) == ev.hex_view(data, 4, 20, width=8)
    assert ev.hex_view(path, 4, 20, width=8).split("\n")[1].startswith("0000000C  49 49 2A 00")
    assert ev.hex_view(data, 1000) == ""
    with pytest.raises(ValueError):
        ev.hex_view(data, -1)


# --------------------------------------------------------------------------- survey


def _snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_atime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_survey_inventory(evidence_dir: Path) -> None:
    os.symlink(evidence_dir / "paint.bmp", evidence_dir / "link.bmp")
    os.symlink(evidence_dir / "missing.jpg", evidence_dir / "dangling.jpg")
    if hasattr(os, "mkfifo"):
        os.mkfifo(evidence_dir / "docs" / "pipe.txt")
    regular = [p for p in evidence_dir.rglob("*") if p.is_file() and not p.is_symlink()]

    df = ev.survey(evidence_dir)
    assert list(df.columns) == list(ev.SURVEY_COLUMNS) == [
        "path", "size", "extension", "kind", "extension_ok", "complete", "error"]
    assert len(df) == len(regular) == len(FILES) + 1
    assert list(df["path"]) == sorted(df["path"])
    rows = df.set_index("path")
    for rel, (key, kind, ok) in FILES.items():
        row = rows.loc[rel]
        assert row["kind"] == kind, rel
        assert row["size"] == (evidence_dir / rel).stat().st_size
        assert (row["extension_ok"] is pd.NA) if ok is None else (row["extension_ok"] == ok), rel
        assert row["error"] is None
    assert rows.loc["DCIM/IMG_0002.JPG", "extension"] == "jpg"
    assert rows.loc["renamed/noextension", "extension"] == ""
    assert rows.loc["empty.jpg", "kind"] == "empty" and rows.loc["empty.jpg", "complete"] == False  # noqa: E712
    assert rows.loc["empty.jpg", "extension_ok"] is pd.NA
    assert rows.loc["docs/notes.txt", "complete"] is pd.NA
    assert rows.loc["DCIM/IMG_0001.jpg", "complete"] == True  # noqa: E712
    assert str(df["extension_ok"].dtype) == "boolean" and str(df["complete"].dtype) == "boolean"
    skipped = {s["path"]: s["reason"] for s in df.attrs["skipped"]}
    assert "symbolic link" in skipped["link.bmp"] and "symbolic link" in skipped["dangling.jpg"]
    if hasattr(os, "mkfifo"):
        assert "named pipe" in skipped["docs/pipe.txt"]

    top = ev.survey(evidence_dir, recursive=False, progress=False)
    assert sorted(top["path"]) == ["empty.jpg", "paint.bmp"]


def test_survey_does_not_alter_evidence(evidence_dir: Path) -> None:
    old = 1_500_000_000 * 10**9
    for p in evidence_dir.rglob("*"):
        if p.is_file():
            os.utime(p, ns=(old, old + 10**9))  # atime older than mtime: a plain read would bump it
    before = _snapshot(evidence_dir)
    ev.survey(evidence_dir, progress=True)
    for p in evidence_dir.rglob("*"):
        if p.is_file():
            ev.structure(p), ev.is_complete(p), ev.hex_view(p), ev.identify(p)
    after = _snapshot(evidence_dir)
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    if hasattr(os, "O_NOATIME"):  # Linux: we open with O_NOATIME, so even atime is untouched
        assert {k: v[2] for k, v in after.items()} == {k: v[2] for k, v in before.items()}


def test_survey_records_unreadable_files_and_goes_on(evidence_dir: Path, monkeypatch) -> None:
    locked = evidence_dir / "DCIM" / "IMG_0001.jpg"
    locked.chmod(0)
    try:
        df = ev.survey(evidence_dir, progress=False)
    finally:
        locked.chmod(0o644)
    assert len(df) == len(FILES) + 1
    row = df.set_index("path").loc["DCIM/IMG_0001.jpg"]
    if os.name == "posix" and os.geteuid() == 0:
        # root reads through mode 000, so chmod cannot make the error here; the simulated
        # permission error below checks the same handling on every platform.
        assert row["error"] is None
    else:
        assert "Permission denied" in row["error"] and pd.isna(row["kind"])

    real_open = ev._open_ro

    def deny(path):
        if Path(path).name == "IMG_0001.jpg":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path)

    monkeypatch.setattr(ev, "_open_ro", deny)
    df = ev.survey(evidence_dir, progress=False)
    assert len(df) == len(FILES) + 1
    rows = df.set_index("path")
    bad = rows.loc["DCIM/IMG_0001.jpg"]
    assert bad["error"] == "PermissionError: Permission denied"
    assert pd.isna(bad["kind"]) and bad["size"] == locked.stat().st_size
    assert bad["extension_ok"] is pd.NA and bad["complete"] is pd.NA
    assert rows.drop(index="DCIM/IMG_0001.jpg")["error"].isna().all()


def test_survey_unlistable_folder_and_socket(evidence_dir: Path, monkeypatch) -> None:
    if hasattr(socket, "AF_UNIX"):
        with socket.socket(socket.AF_UNIX) as sock:
            try:
                sock.bind(str(evidence_dir / "s.sock"))  # the socket file stays after close
            except OSError:  # path too long on some systems: not what this test is about
                pass
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "raw":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(ev.os, "scandir", scandir)
    with pytest.warns(UserWarning, match="could not be listed"):
        df = ev.survey(evidence_dir, progress=False)
    assert not any(p.startswith("raw/") for p in df["path"])
    reasons = {s["path"]: s["reason"] for s in df.attrs["skipped"]}
    assert reasons["raw"].startswith("folder not listed")
    if (evidence_dir / "s.sock").exists():
        assert "socket" in reasons["s.sock"]


def test_survey_progress_bar_only_for_many_files(tmp_path: Path, capsys) -> None:
    for i in range(3):
        (tmp_path / f"f{i}.txt").write_text("x")
    ev.survey(tmp_path)
    assert "survey" not in capsys.readouterr().err
    for i in range(3, ev.PROGRESS_THRESHOLD + 1):
        (tmp_path / f"f{i}.txt").write_text("x")
    df = ev.survey(tmp_path)
    assert len(df) == ev.PROGRESS_THRESHOLD + 1 and "survey" in capsys.readouterr().err
    ev.survey(tmp_path, progress=False)
    assert "survey" not in capsys.readouterr().err


def test_survey_empty_and_missing_folders(tmp_path: Path) -> None:
    df = ev.survey(tmp_path)
    assert df.empty and list(df.columns) == list(ev.SURVEY_COLUMNS)
    with pytest.raises(NotADirectoryError):
        ev.survey(tmp_path / "nope")


# --------------------------------------------------------------------------- real camera files

REAL = os.environ.get("VIDLAB_REAL_SAMPLES")


@pytest.mark.realdata
@pytest.mark.skipif(not REAL, reason="set VIDLAB_REAL_SAMPLES to the real-exif-samples folder to run")
def test_real_camera_files() -> None:
    root = Path(REAL or ".")
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    by_ext: dict[str, list[Path]] = {}
    for p in files:
        by_ext.setdefault(p.suffix.lower(), []).append(p)
    assert by_ext.get(".jpg") and by_ext.get(".heic") and by_ext.get(".tiff")

    for p in by_ext.get(".jpg", []) + by_ext.get(".jpeg", []):
        assert ev.identify(p) == "jpeg", p
        segs = ev.jpeg_segments(p)
        names = [s.name for s in segs]
        assert names[0] == "SOI" and "SOS" in names and "EOI" in names, p
        assert ev.structure(p) == segs
        assert ev.is_complete(p) is True, p
        assert ev.extension_matches(p) is True
        assert any(n.startswith("APP") for n in names), p
    for p in by_ext.get(".heic", []) + by_ext.get(".heif", []):
        assert ev.identify(p) == "heic", p
        boxes = ev.structure(p)
        assert boxes[0].name == "ftyp" and "meta" in [b.name for b in boxes], p
        assert ev.is_complete(p) is True
    for p in by_ext.get(".tiff", []) + by_ext.get(".tif", []):
        assert ev.identify(p) == "tiff", p
        info = ev.tiff_header(p)
        assert info["ifd0_entries"] and info["problems"] == [], p
        assert ev.is_complete(p) is True

    # real-camera quirks this walker must cope with
    jpg = root / "jpg"
    names = lambda p: [s.name for s in ev.jpeg_segments(p)]  # noqa: E731
    notes = lambda p: [s.note for s in ev.jpeg_segments(p)]  # noqa: E731
    if (jpg / "tests" / "45-gps_ifd.jpg").exists():
        assert "MPF" in notes(jpg / "tests" / "45-gps_ifd.jpg")  # multi-picture APP2
    if (jpg / "Nikon_D70.jpg").exists():
        segs = ev.jpeg_segments(jpg / "Nikon_D70.jpg")
        assert [s.note for s in segs if s.name == "APP1"] == ["Exif", "XMP"]  # two APP1s
    if (jpg / "corrupted.jpg").exists():
        segs = ev.jpeg_segments(jpg / "corrupted.jpg")
        sos = next(s for s in segs if s.name == "SOS")
        assert "corrupt" in sos.note and names(jpg / "corrupted.jpg")[-1] == "trailing"
    if (jpg / "mobile" / "HMD_Nokia_8.3_5G.jpg").exists():
        assert names(jpg / "mobile" / "HMD_Nokia_8.3_5G.jpg")[1:3] == ["APP1", "APP0"]  # APP1 before JFIF

    df = ev.survey(root, progress=False)
    assert len(df) == len(files)
    assert df["error"].isna().all()
