"""vidlab.formats: walkers over real files (built in test_evidence), damaged at will; never a crash."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

import pandas as pd
import pytest
from test_evidence import FILES, _exif, _jpeg_exif, _noise, _save, _write, _zip, blobs, evidence_dir  # noqa: F401 - fixtures

from vidlab import evidence as ev
from vidlab import formats as fm

# --------------------------------------------------------------------------- JPEG


def _first_occurrences(segs: list[fm.Segment]) -> list[str]:
    seen: list[str] = []
    for s in segs:
        if s.name not in seen:
            seen.append(s.name)
    return seen


def _assert_walk_consistent(segs: list[fm.Segment], data: bytes) -> None:
    """Offsets increase, segments stay inside the file, markers are the bytes at their offsets."""
    last_end = 0
    for s in segs:
        assert s.offset >= last_end and s.length >= 0 and s.end <= len(data), s
        if s.marker.startswith("FF"):
            assert data[s.offset:s.offset + 2].hex().upper() == s.marker, s
        last_end = s.end


def test_jpeg_segments_baseline_with_exif(blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    segs = fm.jpeg_segments(data)
    order = _first_occurrences(segs)
    expected = ["SOI", "APP1", "DQT", "SOF0", "DHT", "SOS", "EOI"]
    assert [n for n in order if n in expected] == expected
    assert segs[0] == fm.Segment(0, "FFD8", "SOI", 2, "")
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
    assert fm.jpeg_segments(path) == fm.jpeg_segments(blobs["jpeg_exif"]) == fm.jpeg_segments(str(path))
    assert fm.jpeg_segments(bytearray(blobs["jpeg_exif"])) == fm.jpeg_segments(path)


def test_jpeg_segments_progressive_has_many_scans(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_progressive"]
    segs = fm.jpeg_segments(data)
    names = [s.name for s in segs]
    assert "SOF2" in names and "SOF0" not in names
    assert names.count("SOS") >= 3
    assert names[-1] == "EOI"
    assert next(s for s in segs if s.name == "SOF2").note.startswith("progressive DCT 320×240, 3 components")
    assert sum(s.length for s in segs) == len(data)
    _assert_walk_consistent(segs, data)
    assert fm.is_complete(_write(tmp_path, "p.jpg", data)) is True


def test_jpeg_restart_markers_are_inside_the_scan() -> None:
    data = _save(_noise(), "JPEG", quality=90, restart_marker_rows=1)
    segs = fm.jpeg_segments(data)
    names = [s.name for s in segs]
    assert "DRI" in names and names.count("SOS") == 1 and names[-1] == "EOI"
    assert not any(n.startswith("RST") for n in names)
    sos = next(s for s in segs if s.name == "SOS")
    assert "restart markers" in sos.note
    assert sum(s.length for s in segs) == len(data)


def test_jpeg_fill_bytes_before_a_marker() -> None:
    data = _jpeg_exif()
    dqt = next(s for s in fm.jpeg_segments(data) if s.name == "DQT")
    padded = data[:dqt.offset] + b"\xff\xff\xff" + data[dqt.offset:]
    segs = fm.jpeg_segments(padded)
    dqt2 = next(s for s in segs if s.name == "DQT")
    assert dqt2.offset == dqt.offset + 3  # points at the real FF DB
    assert "fill" in dqt2.note
    assert segs[-1].name == "EOI"


def test_jpeg_truncated_in_scan(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    sos = next(s for s in fm.jpeg_segments(data) if s.name == "SOS")
    cut = data[: sos.offset + sos.length // 2]
    segs = fm.jpeg_segments(cut)
    assert segs[-1].name == "SOS" and segs[-1].note.startswith("truncated")
    assert segs[-1].end == len(cut)
    assert "EOI" not in [s.name for s in segs]
    assert fm.is_complete(_write(tmp_path, "cut.jpg", cut)) is False
    assert fm.is_complete(_write(tmp_path, "whole.jpg", data)) is True


def test_jpeg_cut_anywhere_never_raises(blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    for cut in list(range(2, 800)) + list(range(800, len(data), 997)):
        segs = fm.jpeg_segments(data[:cut])
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
        segs = fm.jpeg_segments(bytes(damaged))
        assert segs[0].name == "SOI"
        _assert_walk_consistent(segs, bytes(damaged))


_HEADER_WANTED = frozenset({0xE1, 0xDB}) | fm.SOF_CODES  # what vidlab.metadata asks for


def _header_walk(data: bytes) -> tuple[list[tuple[int, int, bytes, int]], list[str]]:
    """What jpeg_header_segments gives for data in a file, after a short first read (so it must read on)."""
    problems: list[str] = []
    f = io.BytesIO(data)
    return list(fm.jpeg_header_segments(f, f.read(100), _HEADER_WANTED, problems)), problems


def test_jpeg_header_walk_agrees_with_the_full_walk(blobs: dict[str, bytes]) -> None:
    for key in ("jpeg_exif", "jpeg_progressive"):
        data = blobs[key]
        segs = fm.jpeg_segments(data)
        sos = next(s for s in segs if s.name == "SOS")
        expected = [(s.offset, s.marker, s.length) for s in segs
                    if s.offset < sos.offset and s.marker and int(s.marker[2:], 16) in _HEADER_WANTED]
        found, problems = _header_walk(data)
        assert problems == [] and len(expected) >= 3, key
        assert [(pos, f"FF{code:02X}", 4 + declared) for pos, code, _, declared in found] == expected, key
        assert [body for _, _, body, _ in found] == [data[s.offset + 4:s.end] for s in segs if s.offset in
                                                    {pos for pos, *_ in found}], key
        assert _header_walk(data[:sos.offset + 4]) == (found, [])  # the image data itself is never needed


def test_jpeg_header_walk_stops_at_damage(blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    (app1_at, code, _, declared), *_ = _header_walk(data)[0]
    found, problems = _header_walk(data[:app1_at + 50])  # cut inside the EXIF segment
    assert code == 0xE1 and declared > 46 and problems == []
    assert [(pos, c, len(body), d) for pos, c, body, d in found] == [(app1_at, 0xE1, 46, declared)]
    assert _header_walk(data[:2] + b"\x00" + data[3:]) == (
        [], ["JPEG header broken at offset 2: byte 00 where a marker belongs"])
    assert _header_walk(data[:app1_at])[1] == [f"truncated: file ends at {app1_at:,} bytes, inside the JPEG header"]


def test_jpeg_bogus_lengths(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    app0 = next(s for s in fm.jpeg_segments(data) if s.name == "APP0")
    small = data[:app0.offset] + _save(_noise(16, 16), "JPEG")[2:]  # short file: SOI + a tiny JPEG body
    small_app0 = next(s for s in fm.jpeg_segments(small) if s.name == "APP0")

    # 1. a length that runs past the end of the file
    past_end = bytearray(small)
    past_end[small_app0.offset + 2:small_app0.offset + 4] = b"\xff\xff"
    segs = fm.jpeg_segments(bytes(past_end))
    assert segs[-1].name == "APP0" and segs[-1].note.startswith("truncated")
    assert segs[-1].end == len(past_end)
    assert fm.is_complete(_write(tmp_path, "past.jpg", bytes(past_end))) is False

    # 2. a length below the minimum of 2: flagged, and the walk resynchronises at the next marker
    zero = bytearray(data)
    zero[app0.offset + 2:app0.offset + 4] = b"\x00\x00"
    segs = fm.jpeg_segments(bytes(zero))
    assert segs[1].name == "APP0" and "bogus length 0" in segs[1].note
    names = [s.name for s in segs]
    assert "junk" in names and names[-1] == "EOI" and "SOF0" in names

    # 3. a length a few bytes short: the walk lands inside the segment, reports junk, then recovers
    short = bytearray(data)
    short[app0.offset + 2:app0.offset + 4] = struct.pack(">H", 16 - 5)
    segs = fm.jpeg_segments(bytes(short))
    junk = next(s for s in segs if s.name == "junk")
    assert junk.offset == app0.offset + 2 + 11 and junk.length == 5
    assert [s.name for s in segs][-1] == "EOI"
    _assert_walk_consistent(segs, bytes(short))


def test_jpeg_trailing_data_after_eoi(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    for extra, words in [(_save(_noise(32, 24), "JPEG"), "another JPEG"),
                         (_zip(), "looks like zip"),
                         (bytes(100), "zero padding")]:
        segs = fm.jpeg_segments(data + extra)
        assert segs[-2].name == "EOI"
        assert segs[-1].name == "trailing" and segs[-1].length == len(extra)
        assert words in segs[-1].note
        assert fm.is_complete(_write(tmp_path, "t.jpg", data + extra)) is True


def test_jpeg_segments_rejects_other_files(blobs: dict[str, bytes]) -> None:
    with pytest.raises(ValueError, match="not a JPEG"):
        fm.jpeg_segments(blobs["png"])
    with pytest.raises(ValueError, match="not a JPEG"):
        fm.jpeg_segments(b"")


def test_jpeg_without_scan_is_incomplete(tmp_path: Path) -> None:
    path = _write(tmp_path, "headers-only.jpg", b"\xff\xd8\xff\xfe\x00\x05hi!\xff\xd9")
    assert [s.name for s in fm.jpeg_segments(path)] == ["SOI", "COM", "EOI"]
    assert fm.jpeg_segments(path)[1].note == "hi!"
    assert fm.is_complete(path) is False


# --------------------------------------------------------------------------- PNG


def test_png_chunks(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["png"]
    chunks = fm.png_chunks(data)
    names = [c.name for c in chunks]
    assert names[0] == "IHDR" and names[-1] == "IEND" and "IDAT" in names
    assert chunks[0].offset == 8 and chunks[0].length == 25 and chunks[0].marker == "49484452"
    assert chunks[0].note == "320×240, 8-bit RGB"
    text = next(c for c in chunks if c.name in ("tEXt", "iTXt", "zTXt"))
    assert text.note == "Software"
    assert not any("bad CRC" in c.note for c in chunks)
    assert chunks[-1].end == len(data) and sum(c.length for c in chunks) == len(data) - 8
    assert fm.png_chunks(_write(tmp_path, "a.png", data)) == chunks
    assert fm.is_complete(tmp_path / "a.png") is True


def test_png_bad_crc_truncation_and_rejection(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["png"]
    idat = next(c for c in fm.png_chunks(data) if c.name == "IDAT")
    flipped = bytearray(data)
    flipped[idat.offset + 8 + 10] ^= 0xFF
    chunks = fm.png_chunks(bytes(flipped))
    bad = [c.name for c in chunks if "bad CRC" in c.note]
    assert bad == ["IDAT"]
    assert chunks[-1].name == "IEND"

    cut = data[: idat.offset + idat.length // 2]
    chunks = fm.png_chunks(cut)
    assert chunks[-1].name == "IDAT" and chunks[-1].note.startswith("truncated")
    assert fm.is_complete(_write(tmp_path, "cut.png", cut)) is False
    for n in range(8, len(data), 211):
        fm.png_chunks(data[:n])  # never raises
    with pytest.raises(ValueError, match="not a PNG"):
        fm.png_chunks(blobs["jpeg_exif"])


def test_png_palette_interlace_and_exif() -> None:
    im = _noise(40, 30).convert("P")
    data = _save(im, "PNG", exif=_exif())
    chunks = fm.png_chunks(data)
    assert chunks[0].note == "40×30, 8-bit palette"
    names = [c.name for c in chunks]
    assert "PLTE" in names and "eXIf" in names
    assert next(c for c in chunks if c.name == "PLTE").note.endswith("colours")
    # Pillow does not write Adam7 PNGs: set the IHDR interlace flag by hand, with a fresh CRC
    ihdr = bytearray(data[8:33])
    ihdr[20] = 1
    ihdr[21:25] = struct.pack(">I", zlib.crc32(bytes(ihdr[4:21])))
    chunks = fm.png_chunks(data[:8] + bytes(ihdr) + data[33:])
    assert chunks[0].note == "40×30, 8-bit palette, interlaced"


# --------------------------------------------------------------------------- ISO-BMFF (HEIC, AVIF, MP4)


def test_heic_boxes(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["heic"]
    path = _write(tmp_path, "x.heic", data)
    assert ev.identify(path) == "heic"
    boxes = fm.bmff_boxes(path)
    names = [b.name for b in boxes]
    assert names[0] == "ftyp" and "meta" in names and "mdat" in names
    assert boxes[0].marker == "66747970" and "major brand heic" in boxes[0].note
    assert sum(b.length for b in boxes) == len(data)
    assert fm.structure(path) == boxes
    assert fm.is_complete(path) is True
    mdat = next(b for b in boxes if b.name == "mdat")
    cut = _write(tmp_path, "cut.heic", data[: mdat.offset + mdat.length // 2])
    assert fm.bmff_boxes(cut)[-1].note.startswith("truncated")
    assert fm.is_complete(cut) is False


def test_avif_is_its_own_kind(tmp_path: Path) -> None:
    try:
        data = _save(_noise(32, 24), "AVIF", quality=50)
    except (KeyError, OSError, ValueError):
        data = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00\x00\x00\x08mdat"
    path = _write(tmp_path, "x.avif", data)
    assert ev.identify(path) == "avif" and ev.extension_matches(path) is True
    assert fm.bmff_boxes(path)[0].note.startswith("major brand avif")


def test_bmff_largesize_and_size_zero() -> None:
    ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41"
    free = struct.pack(">I", 1) + b"free" + struct.pack(">Q", 24) + bytes(8)  # 64-bit size
    mdat = struct.pack(">I", 0) + b"mdat" + bytes(100)  # size 0: runs to the end
    boxes = fm.bmff_boxes(ftyp + free + mdat)
    assert [b.name for b in boxes] == ["ftyp", "free", "mdat"]
    assert boxes[0].note.startswith("major brand isom") and "mp41" in boxes[0].note
    assert boxes[1].length == 24 and "64-bit" in boxes[1].note
    assert boxes[2].length == 108 and "end of the file" in boxes[2].note
    assert ev.sniff(ftyp) == "mp4"
    huge = ftyp + struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", 2**40)
    assert fm.bmff_boxes(huge)[-1].note.startswith("truncated")
    assert fm.bmff_boxes(ftyp + struct.pack(">I", 3) + b"free")[-1].note.startswith("bogus size")
    with pytest.raises(ValueError, match="not an ISO-BMFF"):
        fm.bmff_boxes(b"\x89PNG\r\n\x1a\n")


# --------------------------------------------------------------------------- TIFF


def test_tiff_header_both_byte_orders(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    for key, order in (("tiff_le", "little-endian (II)"), ("tiff_be", "big-endian (MM)")):
        data = blobs[key]
        info = fm.tiff_header(_write(tmp_path, f"{key}.tif", data))
        fmt = "<" if key == "tiff_le" else ">"
        first = struct.unpack(fmt + "I", data[4:8])[0]
        entries = struct.unpack(fmt + "H", data[first:first + 2])[0]
        assert info["byte_order"] == order
        assert info["first_ifd_offset"] == first and info["ifd0_entries"] == entries > 5
        assert info["problems"] == []
        assert fm.is_complete(tmp_path / f"{key}.tif") is True
        segs = fm.structure(tmp_path / f"{key}.tif")
        assert [s.name for s in segs][:1] == ["header"] and "IFD0" in [s.name for s in segs]


def test_tiff_loops_and_bogus_offsets_are_safe(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    # IFD0 whose next-IFD pointer points back at itself
    entry = struct.pack("<HHII", 256, 4, 1, 1)
    looped = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + entry + struct.pack("<I", 8)
    info = fm.tiff_header(looped)
    assert info["ifd0_entries"] == 1 and any("loop" in p for p in info["problems"])
    # first IFD beyond the end of the file
    beyond = b"II*\x00" + struct.pack("<I", 10_000_000) + bytes(8)
    info = fm.tiff_header(beyond)
    assert info["ifd0_entries"] is None and any("beyond the end" in p for p in info["problems"])
    assert fm.is_complete(_write(tmp_path, "beyond.tif", beyond)) is False
    # an entry count far larger than the file
    info = fm.tiff_header(b"MM\x00*" + struct.pack(">I", 8) + b"\xff\xff" + bytes(20))
    assert info["problems"] and info["byte_order"] == "big-endian (MM)"
    # truncated strips make the file incomplete
    data = blobs["tiff_le"]
    info = fm.tiff_header(data)
    cut = data[: min(info["first_ifd_offset"], len(data)) - 100] if info["first_ifd_offset"] > 200 else data[:-200]
    path = _write(tmp_path, "cut.tif", cut)
    assert fm.is_complete(path) is False
    fm.structure(path)  # no exception
    with pytest.raises(ValueError, match="not a TIFF"):
        fm.tiff_header(b"hello world")


def test_tiff_header_reads_an_exif_block(blobs: dict[str, bytes]) -> None:
    data = blobs["jpeg_exif"]
    app1 = next(s for s in fm.jpeg_segments(data) if s.name == "APP1")
    tiff = data[app1.offset + 10:app1.end]  # after FF E1, length, "Exif\0\0"
    info = fm.tiff_header(tiff)
    assert info["ifd0_entries"] == 3 and info["problems"] == []


# --------------------------------------------------------------------------- GIF, WEBP, BMP, others


def test_gif_structure(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["gif"]
    path = _write(tmp_path, "a.gif", data)
    segs = fm.structure(path)
    names = [s.name for s in segs]
    assert names[:2] == ["header", "logical screen descriptor"] and names[-1] == "trailer"
    assert names.count("image") == 3
    assert any(s.name == "application extension" and s.note == "NETSCAPE2.0" for s in segs)
    assert sum(s.length for s in segs) == len(data)
    assert fm.is_complete(path) is True
    assert fm.is_complete(_write(tmp_path, "cut.gif", data[:-1])) is False
    assert fm.is_complete(_write(tmp_path, "cut2.gif", data[: len(data) // 2])) is False
    for n in range(1, len(data), 37):
        fm.structure(_write(tmp_path, "c.gif", data[:n]))  # never raises


def test_webp_structure(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    for key, word in (("webp", "lossy 320×240"), ("webp_lossless", "lossless 64×48")):
        data = blobs[key]
        path = _write(tmp_path, f"{key}.webp", data)
        segs = fm.structure(path)
        assert segs[0].name == "RIFF" and any(word == s.note for s in segs), segs
        assert fm.is_complete(path) is True
        assert fm.is_complete(_write(tmp_path, "cut.webp", data[:-10])) is False


def test_wav_and_avi_structure(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    wav = _write(tmp_path, "hum.wav", blobs["wav"])
    segs = fm.structure(wav)
    assert [s.name for s in segs] == ["RIFF", "fmt", "data"]
    assert segs[0].note.startswith("WAVE audio") and segs[1].note == "PCM, 1 ch, 8,000 Hz, 16-bit"
    assert sum(s.length for s in segs) == len(blobs["wav"])
    assert fm.is_complete(wav) is True
    assert fm.is_complete(_write(tmp_path, "cut.wav", blobs["wav"][:-100])) is False

    avi = _write(tmp_path, "clip.avi", blobs["avi"])
    segs = fm.structure(avi)
    assert [(s.name, s.note) for s in segs[1:]] == [("LIST", "list hdrl"), ("LIST", "list movi"), ("idx1", "")]
    assert segs[0].note.startswith("AVI video") and segs[-1].end == len(blobs["avi"])
    assert fm.is_complete(avi) is True
    movi = segs[2]
    assert fm.is_complete(_write(tmp_path, "cut.avi", blobs["avi"][: movi.offset + movi.length // 2])) is False
    with pytest.raises(ValueError, match="not a RIFF"):
        fm._walk_riff(blobs["jpeg_exif"])


def test_bmp_structure(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    data = blobs["bmp"]
    path = _write(tmp_path, "a.bmp", data)
    segs = fm.structure(path)
    assert [s.name for s in segs] == ["file header", "DIB header", "pixel data"]
    assert segs[1].note == "BITMAPINFOHEADER: 64×48, 24-bit, uncompressed"
    assert fm.is_complete(path) is True
    assert fm.is_complete(_write(tmp_path, "cut.bmp", data[:-5])) is False


def test_pdf_zip_text_empty(tmp_path: Path, blobs: dict[str, bytes]) -> None:
    pdf = _write(tmp_path, "a.pdf", blobs["pdf"])
    assert ev.identify(pdf) == "pdf" and fm.structure(pdf) == [] and fm.is_complete(pdf) is True
    assert fm.is_complete(_write(tmp_path, "cut.pdf", blobs["pdf"][:-20])) is False
    z = _write(tmp_path, "a.zip", blobs["zip"])
    assert ev.identify(z) == "zip" and fm.is_complete(z) is True
    assert fm.is_complete(_write(tmp_path, "cut.zip", blobs["zip"][:-30])) is False
    txt = _write(tmp_path, "a.txt", blobs["text"])
    assert ev.identify(txt) == "text" and fm.structure(txt) == [] and fm.is_complete(txt) is None
    empty = _write(tmp_path, "empty.png", b"")
    assert ev.identify(empty) == "empty" and fm.structure(empty) == [] and fm.is_complete(empty) is False
    blob = _write(tmp_path, "blob.bin", bytes(range(256)) * 4)
    assert ev.identify(blob) == "unknown" and fm.is_complete(blob) is None


def test_structure_dispatch(evidence_dir: Path) -> None:
    first = {"jpeg": "SOI", "png": "IHDR", "gif": "header", "tiff": "header", "heic": "ftyp",
             "webp": "RIFF", "wav": "RIFF", "avi": "RIFF", "bmp": "file header"}
    for rel, (_key, kind, _ok) in FILES.items():
        segs = fm.structure(evidence_dir / rel)
        if kind in first:
            assert segs and segs[0].name == first[kind], rel
            assert all(isinstance(s, fm.Segment) for s in segs)
        else:
            assert segs == [], rel


def test_segment_is_frozen() -> None:
    seg = fm.Segment(0, "FFD8", "SOI", 2, "")
    with pytest.raises(AttributeError):
        seg.offset = 5  # type: ignore[misc]
    assert seg.end == 2
    assert list(pd.DataFrame([seg]).columns) == ["offset", "marker", "name", "length", "note"]


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
            segs = fm.structure(path)
            assert fm.is_complete(path) in (True, False, None), (key, i)
            assert all(0 <= s.offset <= len(d) and s.end <= len(d) for s in segs), (key, i, segs)
            ev.survey(tmp_path, progress=False)  # and a batch over it never raises either
            assert kind in ev.KINDS


def test_bmp_short_os2_header() -> None:
    data = b"BM" + struct.pack("<IHHI", 0, 0, 0, 30) + struct.pack("<IiiHH", 16, 2, 2, 1, 24)
    assert ev.sniff(data) == "bmp"
    segs = fm._walk_bmp(data)  # 16-byte OS/2 header, no pixels: described, not raised
    assert segs[1].note.startswith("OS22XBITMAPHEADER: 2×2, 24-bit")
    assert segs[-1].note.startswith("truncated")


# --------------------------------------------------------------------------- hex view


def test_hex_view_format(tmp_path: Path) -> None:
    data = b"\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II*\x00" + bytes(range(0x41, 0x41 + 20))
    out = fm.hex_view(data, 0, 32)
    lines = out.split("\n")
    assert lines[0] == "00000000  FF D8 FF E1 00 10 45 78 69 66 00 00 49 49 2A 00  |......Exif..II*.|"
    assert lines[1] == "00000010  41 42 43 44 45 46 47 48 49 4A 4B 4C 4D 4E 4F 50  |ABCDEFGHIJKLMNOP|"
    short = fm.hex_view(data, 30, 64).split("\n")  # offset in the middle, ragged last line
    assert short[0].startswith("0000001E  4F 50 51 52 53 54")
    assert short[0].index("|") == lines[0].index("|")  # the text column stays aligned
    path = _write(tmp_path, "h.bin", data)
    assert fm.hex_view(path, 4, 20, width=8) == fm.hex_view(data, 4, 20, width=8)
    assert fm.hex_view(path, 4, 20, width=8).split("\n")[1].startswith("0000000C  49 49 2A 00")
    assert fm.hex_view(data, 1000) == ""
    with pytest.raises(ValueError):
        fm.hex_view(data, -1)



# --------------------------------------------------------------------------- real camera files


@pytest.mark.realdata
def test_real_camera_files(real_samples: Path) -> None:
    files = sorted(p for p in real_samples.rglob("*") if p.is_file() and not p.is_symlink())
    by_ext: dict[str, list[Path]] = {}
    for p in files:
        by_ext.setdefault(p.suffix.lower(), []).append(p)
    assert by_ext.get(".jpg") and by_ext.get(".heic") and by_ext.get(".tiff")

    for p in by_ext.get(".jpg", []) + by_ext.get(".jpeg", []):
        segs = fm.jpeg_segments(p)
        names = [s.name for s in segs]
        assert names[0] == "SOI" and "SOS" in names and "EOI" in names, p
        assert fm.structure(p) == segs
        assert fm.is_complete(p) is True, p
        assert any(n.startswith("APP") for n in names), p
    for p in by_ext.get(".heic", []) + by_ext.get(".heif", []):
        boxes = fm.structure(p)
        assert boxes[0].name == "ftyp" and "meta" in [b.name for b in boxes], p
        assert fm.is_complete(p) is True
    for p in by_ext.get(".tiff", []) + by_ext.get(".tif", []):
        info = fm.tiff_header(p)
        assert info["ifd0_entries"] and info["problems"] == [], p
        assert fm.is_complete(p) is True

    # real-camera quirks this walker must cope with
    jpg = real_samples / "jpg"
    names = lambda p: [s.name for s in fm.jpeg_segments(p)]  # noqa: E731
    notes = lambda p: [s.note for s in fm.jpeg_segments(p)]  # noqa: E731
    if (jpg / "tests" / "45-gps_ifd.jpg").exists():
        assert "MPF" in notes(jpg / "tests" / "45-gps_ifd.jpg")  # multi-picture APP2
    if (jpg / "Nikon_D70.jpg").exists():
        segs = fm.jpeg_segments(jpg / "Nikon_D70.jpg")
        assert [s.note for s in segs if s.name == "APP1"] == ["Exif", "XMP"]  # two APP1s
    if (jpg / "corrupted.jpg").exists():
        segs = fm.jpeg_segments(jpg / "corrupted.jpg")
        sos = next(s for s in segs if s.name == "SOS")
        assert "corrupt" in sos.note and names(jpg / "corrupted.jpg")[-1] == "trailing"
    if (jpg / "mobile" / "HMD_Nokia_8.3_5G.jpg").exists():
        assert names(jpg / "mobile" / "HMD_Nokia_8.3_5G.jpg")[1:3] == ["APP1", "APP0"]  # APP1 before JFIF
