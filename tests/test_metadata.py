"""vidlab.metadata: files written with Pillow (or byte by byte where Pillow cannot) in, every field back out."""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import zlib
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from PIL import ExifTags, Image, PngImagePlugin

from vidlab import metadata as md

# --------------------------------------------------------------------------- building files

CAMERA = {
    "make": "VIDLab Optics",
    "model": "Synthetic S2",
    "software": "S2 firmware 1.04",
    "serial": "000123",  # leading zeros: must stay text
    "lens_make": "VIDLab",
    "lens_model": "Zoom 4.2-12mm",
    "lens_serial": "0000777",
    "original": "2024:02:29 23:59:58",
    "subsec": "045",
    "offset": "-03:30",
    "digitized": "2024:03:01 00:00:01",
    "digitized_offset": "+05:45",
    "changed": "2024:03:02 10:11:12",
    "lat": (33.0, 51.0, 35.9),
    "lon": (70.0, 39.0, 1.5),
    "alt": 12.5,
    "gps_date": "2024:03:01",
    "gps_time": (3.0, 29.0, 59.5),
    "orientation": 6,
}


def _picture(w: int = 64, h: int = 48, seed: int = 3) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def _camera_exif() -> Image.Exif:
    """CAMERA as EXIF: IFD0, the Exif IFD and a GPS IFD south and west of the equator/meridian, below sea level."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA["make"]
    exif[ExifTags.Base.Model] = CAMERA["model"]
    exif[ExifTags.Base.Software] = CAMERA["software"]
    exif[ExifTags.Base.DateTime] = CAMERA["changed"]
    exif[ExifTags.Base.Orientation] = CAMERA["orientation"]
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = CAMERA["original"]
    details[ExifTags.Base.SubsecTimeOriginal] = CAMERA["subsec"]
    details[ExifTags.Base.OffsetTimeOriginal] = CAMERA["offset"]
    details[ExifTags.Base.DateTimeDigitized] = CAMERA["digitized"]
    details[ExifTags.Base.OffsetTimeDigitized] = CAMERA["digitized_offset"]
    details[ExifTags.Base.BodySerialNumber] = CAMERA["serial"]
    details[ExifTags.Base.LensMake] = CAMERA["lens_make"]
    details[ExifTags.Base.LensModel] = CAMERA["lens_model"]
    details[ExifTags.Base.LensSerialNumber] = CAMERA["lens_serial"]
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "S", CAMERA["lat"]
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "W", CAMERA["lon"]
    gps[ExifTags.GPS.GPSAltitudeRef], gps[ExifTags.GPS.GPSAltitude] = b"\x01", CAMERA["alt"]
    gps[ExifTags.GPS.GPSDateStamp] = CAMERA["gps_date"]
    gps[ExifTags.GPS.GPSTimeStamp] = CAMERA["gps_time"]
    return exif


def _save(im: Image.Image, path: Path, fmt: str, **kw) -> Path:
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    im.save(path, fmt, **kw)
    return path


def _dms(parts: tuple[float, float, float]) -> float:
    return parts[0] + parts[1] / 60 + parts[2] / 3600


def _ifd(entries: list[tuple[int, int, object]], at: int, e: str = "<", next_ifd: int = 0) -> bytes:
    """An IFD that will sit at offset `at`, its long values right after it (offsets from the same origin).

    Values: str for ASCII (2), int for SHORT (3) / LONG (4) / IFD (13), bytes for UNDEFINED (7),
    a list of (numerator, denominator) pairs for RATIONAL (5).
    """
    data_at = at + 2 + 12 * len(entries) + 4
    head, data = [struct.pack(e + "H", len(entries))], b""
    for tag, typ, value in entries:
        if typ == 2:
            raw, count = value.encode("latin-1") + b"\x00", len(value) + 1
        elif typ == 3:
            raw, count = struct.pack(e + "H", value), 1
        elif typ in (4, 13):
            raw, count = struct.pack(e + "I", value), 1
        elif typ == 5:
            raw, count = b"".join(struct.pack(e + "II", n, d) for n, d in value), len(value)
        else:
            raw, count = bytes(value), len(value)
        if len(raw) <= 4:
            field = raw.ljust(4, b"\x00")
        else:
            field = struct.pack(e + "I", data_at + len(data))
            data += raw + b"\x00" * (len(raw) % 2)
        head.append(struct.pack(e + "HHI", tag, typ, count) + field)
    return b"".join(head) + struct.pack(e + "I", next_ifd) + data


def _tiff(ifd0: list, thumbnail: bytes | None = None, next_ifd: int | None = None) -> bytes:
    """A little-endian TIFF structure (EXIF block) with IFD0 and, if given, an IFD1 JPEG thumbnail."""
    first = _ifd(ifd0, 8)
    if thumbnail is None:
        return b"II*\x00" + struct.pack("<I", 8) + _ifd(ifd0, 8, next_ifd=next_ifd or 0)
    ifd1_at = 8 + len(first)
    probe = _ifd([(0x0201, 4, 0), (0x0202, 4, len(thumbnail))], ifd1_at)
    ifd1 = _ifd([(0x0201, 4, ifd1_at + len(probe)), (0x0202, 4, len(thumbnail))], ifd1_at)
    return b"II*\x00" + struct.pack("<I", 8) + _ifd(ifd0, 8, next_ifd=ifd1_at) + ifd1 + thumbnail


def _with_app1(jpeg: bytes, payload: bytes) -> bytes:
    """A JPEG with an APP1 segment (payload after the length) inserted right after SOI."""
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def _plain_jpeg(quality: int = 90, **kw) -> bytes:
    buf = io.BytesIO()
    _picture().save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


@pytest.fixture(scope="module")
def camera_jpeg(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("camera")
    return _save(_picture(), folder / "IMG_0001.JPG", "JPEG", quality=88, exif=_camera_exif())


def _expected_gps_time() -> pd.Timestamp:
    y, m, d = (int(x) for x in CAMERA["gps_date"].split(":"))
    h, mi, s = CAMERA["gps_time"]
    return pd.Timestamp(datetime(y, m, d, tzinfo=timezone.utc) + timedelta(hours=h, minutes=mi, seconds=s))


def _local(text: str, offset: str | None, subsec: str | None = None) -> pd.Timestamp:
    """What an EXIF date text with SubSec and offset means, computed independently of vidlab."""
    when = datetime.strptime(text, "%Y:%m:%d %H:%M:%S")
    if subsec:
        when += timedelta(seconds=int(subsec) / 10 ** len(subsec))
    if offset:
        sign = -1 if offset[0] == "-" else 1
        when = when.replace(tzinfo=timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))))
    return pd.Timestamp(when)


# --------------------------------------------------------------------------- reading every field


def test_jpeg_every_field_reads_back(camera_jpeg: Path) -> None:
    row = md.metadata_row(camera_jpeg)
    assert list(row) == list(md.METADATA_COLUMNS)
    assert row["error"] is None and row["notes"] is None
    assert row["path"] == str(camera_jpeg)
    assert (row["make"], row["model"], row["software"]) == (CAMERA["make"], CAMERA["model"], CAMERA["software"])
    assert row["body_serial"] == CAMERA["serial"] and isinstance(row["body_serial"], str)
    assert row["body_serial_source"] == "EXIF BodySerialNumber"
    assert (row["lens_make"], row["lens_model"], row["lens_serial"]) == (
        CAMERA["lens_make"], CAMERA["lens_model"], CAMERA["lens_serial"])

    original = row["datetime_original"]
    assert original == _local(CAMERA["original"], CAMERA["offset"], CAMERA["subsec"])
    assert original.utcoffset() == timedelta(hours=-3, minutes=-30)
    assert original.microsecond == 45_000
    assert row["datetime_original_raw"] == CAMERA["original"] and row["offset_time_original"] == CAMERA["offset"]
    assert row["datetime_original_utc"] == original and str(row["datetime_original_utc"].tz) == "UTC"
    assert row["datetime_digitized"] == _local(CAMERA["digitized"], CAMERA["digitized_offset"])
    assert row["datetime_digitized"].utcoffset() == timedelta(hours=5, minutes=45)
    assert row["datetime"] == _local(CAMERA["changed"], None) and row["datetime"].tzinfo is None
    assert row["offset_time"] is None

    assert row["gps_lat"] == pytest.approx(-_dms(CAMERA["lat"]), abs=1e-9)
    assert row["gps_lon"] == pytest.approx(-_dms(CAMERA["lon"]), abs=1e-9)
    assert row["gps_alt"] == pytest.approx(-CAMERA["alt"])
    assert row["gps_datetime_utc"] == _expected_gps_time()

    assert row["orientation"] == CAMERA["orientation"]
    assert (row["width"], row["height"]) == (64, 48)
    assert (row["oriented_width"], row["oriented_height"]) == (48, 64)  # orientation 6: turned a quarter
    assert row["jpeg_quality"] == 88 and row["jpeg_standard_tables"] is True
    assert re.fullmatch(r"[0-9a-f]{16}", row["quant_tables"])
    assert row["thumbnail"] is False and row["has_xmp"] is False


def test_png_exif_chunk(tmp_path: Path) -> None:
    path = _save(_picture(), tmp_path / "shot.png", "PNG", exif=_camera_exif())
    row = md.metadata_row(path)
    assert row["error"] is None
    assert (row["make"], row["model"], row["body_serial"]) == (CAMERA["make"], CAMERA["model"], CAMERA["serial"])
    assert row["datetime_original"] == _local(CAMERA["original"], CAMERA["offset"], CAMERA["subsec"])
    assert (row["gps_lat"], row["gps_lon"]) == pytest.approx((-_dms(CAMERA["lat"]), -_dms(CAMERA["lon"])))
    assert (row["width"], row["height"], row["orientation"]) == (64, 48, 6)
    assert row["jpeg_quality"] is None and row["quant_tables"] is None


def test_damaged_png_still_gives_its_exif(tmp_path: Path) -> None:
    """A bad IHDR checksum makes Pillow refuse the file; its eXIf chunk is still read (and the damage named)."""
    data = bytearray(_save(_picture(), tmp_path / "ok.png", "PNG", exif=_camera_exif()).read_bytes())
    data[29] ^= 0xFF  # last byte of IHDR's CRC (8 signature + 8 chunk head + 13 data)
    path = tmp_path / "bad_crc.png"
    path.write_bytes(bytes(data))
    row = md.metadata_row(path)
    assert row["error"].startswith("not readable as png")
    assert (row["make"], row["body_serial"]) == (CAMERA["make"], CAMERA["serial"])
    assert row["gps_lat"] == pytest.approx(-_dms(CAMERA["lat"]))


def test_heic_with_exif(tmp_path: Path) -> None:
    path = _save(_picture(), tmp_path / "IMG_4100.HEIC", "HEIF", quality=60, exif=_camera_exif())
    row = md.metadata_row(path)
    assert row["error"] is None
    assert (row["make"], row["model"], row["software"]) == (CAMERA["make"], CAMERA["model"], CAMERA["software"])
    assert row["body_serial"] == CAMERA["serial"]
    assert row["datetime_original"] == _local(CAMERA["original"], CAMERA["offset"], CAMERA["subsec"])
    assert row["gps_alt"] == pytest.approx(-CAMERA["alt"])
    assert row["gps_datetime_utc"] == _expected_gps_time()
    # EXIF's orientation is reported; the size is as displayed, libheif having applied the container's rotation
    assert row["orientation"] == CAMERA["orientation"]
    with Image.open(path) as im:
        assert (row["width"], row["height"]) == (row["oriented_width"], row["oriented_height"]) == im.size


def test_tiff_ifds_and_dng_serial(tmp_path: Path) -> None:
    """A real (greyscale) TIFF whose IFD0 points to an Exif and a GPS IFD, as cameras and scanners write them."""
    w, h = 16, 8
    exif_entries = [(0x9003, 2, CAMERA["original"]), (0x9011, 2, CAMERA["offset"])]
    gps_entries = [(1, 2, "N"), (2, 5, [(1, 1), (17, 1), (359, 10)]),
                   (3, 2, "E"), (4, 5, [(103, 1), (51, 1), (25, 10)])]

    def ifd0(exif_at: int, gps_at: int, strip_at: int) -> list:
        return [(0x0100, 3, w), (0x0101, 3, h), (0x0102, 3, 8), (0x0103, 3, 1), (0x0106, 3, 1),
                (0x010F, 2, CAMERA["make"]), (0x0110, 2, CAMERA["model"]), (0x0111, 4, strip_at),
                (0x0112, 3, 8), (0x0115, 3, 1), (0x0116, 3, h), (0x0117, 4, w * h),
                (0x8769, 4, exif_at), (0x8825, 4, gps_at), (0xC62F, 2, "0042107")]

    size0 = len(_ifd(ifd0(0, 0, 0), 8))
    exif_at = 8 + size0
    gps_at = exif_at + len(_ifd(exif_entries, exif_at))
    strip_at = gps_at + len(_ifd(gps_entries, gps_at))
    data = (b"II*\x00" + struct.pack("<I", 8) + _ifd(ifd0(exif_at, gps_at, strip_at), 8)
            + _ifd(exif_entries, exif_at) + _ifd(gps_entries, gps_at) + bytes(range(w * h)))
    path = tmp_path / "scan.tif"
    path.write_bytes(data)
    with Image.open(path) as im:  # Pillow agrees it is a TIFF
        assert im.format == "TIFF"
    row = md.metadata_row(path)
    assert row["error"] is None
    assert (row["make"], row["model"]) == (CAMERA["make"], CAMERA["model"])
    assert (row["body_serial"], row["body_serial_source"]) == ("0042107", "DNG CameraSerialNumber")
    assert row["datetime_original"] == _local(CAMERA["original"], CAMERA["offset"])
    assert (row["gps_lat"], row["gps_lon"]) == pytest.approx((1 + 17 / 60 + 35.9 / 3600, 103 + 51 / 60 + 2.5 / 3600))
    assert (row["width"], row["height"], row["orientation"]) == (w, h, 8)
    assert (row["oriented_width"], row["oriented_height"]) == (h, w)


def test_xmp_presence(tmp_path: Path) -> None:
    xmp = (b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>"
           b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/></x:xmpmeta>")
    jpeg = _save(_picture(), tmp_path / "xmp.jpg", "JPEG", xmp=xmp)
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp.decode())
    png = _save(_picture(), tmp_path / "xmp.png", "PNG", pnginfo=info)
    bare = _save(_picture(), tmp_path / "bare.png", "PNG")
    assert md.metadata_row(jpeg)["has_xmp"] is True
    assert md.metadata_row(png)["has_xmp"] is True
    assert md.metadata_row(bare)["has_xmp"] is False


# --------------------------------------------------------------------------- JPEG encoding


def test_quality_estimate_matches_the_encoder(tmp_path: Path) -> None:
    for quality in (1, 12, 49, 50, 75, 88, 97, 100):
        path = _save(_picture(), tmp_path / f"q{quality}.jpg", "JPEG", quality=quality)
        row = md.metadata_row(path)
        assert (row["jpeg_quality"], row["jpeg_standard_tables"]) == (quality, True), quality
        with Image.open(path) as im:  # natural order, as Pillow reports them
            assert md.quantisation_tables(path) == {slot: list(t) for slot, t in im.quantization.items()}


def test_own_tables_are_told_apart_and_hash_alike(tmp_path: Path) -> None:
    camera_tables = [[2 + (i % 8) + (i // 8) for i in range(64)], [4 + (i % 8) * 2 for i in range(64)]]
    a = _save(_picture(seed=1), tmp_path / "a.jpg", "JPEG", qtables=camera_tables)
    b = _save(_picture(seed=2), tmp_path / "b.jpg", "JPEG", qtables=camera_tables)
    c = _save(_picture(seed=1), tmp_path / "c.jpg", "JPEG", quality=90)
    ra, rb, rc = (md.metadata_row(p) for p in (a, b, c))
    assert ra["jpeg_standard_tables"] is False and 1 <= ra["jpeg_quality"] <= 100
    assert ra["quant_tables"] == rb["quant_tables"] != rc["quant_tables"]
    assert md.quantisation_tables(a) == {0: camera_tables[0], 1: camera_tables[1]}
    assert md.quantisation_tables(_save(_picture(), tmp_path / "p.png", "PNG")) == {}


def test_thumbnail_bytes_from_ifd1(tmp_path: Path) -> None:
    small = _picture(16, 12, seed=9)
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=70)
    thumb = buf.getvalue()
    block = _tiff([(0x010F, 2, CAMERA["make"]), (0x0110, 2, CAMERA["model"])], thumbnail=thumb)
    path = tmp_path / "with_thumb.jpg"
    path.write_bytes(_with_app1(_plain_jpeg(), b"Exif\x00\x00" + block))
    row = md.metadata_row(path)
    assert row["error"] is None and row["thumbnail"] is True and row["make"] == CAMERA["make"]
    assert md.thumbnail_bytes(path) == thumb
    with Image.open(io.BytesIO(md.thumbnail_bytes(path))) as im:
        assert im.size == (16, 12)
    plain = tmp_path / "plain.jpg"
    plain.write_bytes(_plain_jpeg())
    assert md.metadata_row(plain)["thumbnail"] is False and md.thumbnail_bytes(plain) is None


# --------------------------------------------------------------------------- serial numbers in MakerNotes


def _makernote_jpeg(path: Path, make: str, model: str, blob_at: object) -> Path:
    """A JPEG whose Exif IFD holds a MakerNote; blob_at(offset of the blob in the TIFF structure) -> blob bytes."""

    def build(offset: int) -> bytes:
        exif = Image.Exif()
        exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = make, model
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.MakerNote] = blob_at(offset)
        return exif.tobytes()

    first = build(0)
    offset = first.find(blob_at(0)[:12]) - 6  # the blob's place, counted from the TIFF header
    block = build(offset)
    assert len(block) == len(first) and block.find(blob_at(offset)[:12]) - 6 == offset
    path.write_bytes(_with_app1(_plain_jpeg(), block))
    return path


MAKERNOTES = {
    # make, model, blob builder (TIFF offset of the blob -> bytes), expected serial, source.
    # Pillow writes EXIF big-endian: notes without their own byte order follow it (">").
    "canon": ("Canon", "Canon EOS 5D", lambda at: _ifd([(0x000C, 4, 12345678)], at, ">"), "0012345678",
              "Canon MakerNote SerialNumber"),
    "canon 1D": ("Canon", "Canon EOS-1D Mark II", lambda at: _ifd([(0x000C, 4, 4321)], at, ">"), "004321",
                 "Canon MakerNote SerialNumber"),
    "canon D30": ("Canon", "Canon EOS D30", lambda at: _ifd([(0x000C, 4, (0x1A2B << 16) | 345)], at, ">"),
                  "1a2b00345", "Canon MakerNote SerialNumber"),
    "canon internal": ("Canon", "Canon EOS 7D", lambda at: _ifd([(0x0096, 2, "HA0012345")], at, ">"), "HA0012345",
                       "Canon MakerNote InternalSerialNumber"),
    "nikon": ("NIKON CORPORATION", "NIKON D300",
              lambda at: b"Nikon\x00\x02\x10\x00\x00MM\x00*\x00\x00\x00\x08" + _ifd([(0x001D, 2, "0031054")], 8, ">"),
              "0031054", "Nikon MakerNote SerialNumber"),
    "nikon old": ("NIKON", "E990", lambda at: _ifd([(0x00A0, 2, "NO= 20003a1b")], at, ">"), "20003a1b",
                  "Nikon MakerNote SerialNumber"),
    "fujifilm": ("FUJIFILM", "X-T30",
                 lambda at: b"FUJIFILM" + struct.pack("<I", 12) + _ifd([(0x0010, 2, "FF02B0012345")], 12),
                 "FF02B0012345", "Fujifilm MakerNote InternalSerialNumber"),
    "olympus": ("OLYMPUS IMAGING CORP.", "E-M5",
                lambda at: (b"OLYMPUS\x00II\x03\x00" + _ifd([(0x2010, 13, 30)], 12)
                            + _ifd([(0x0101, 2, "BHP012345")], 30)),
                "BHP012345", "Olympus MakerNote SerialNumber"),
    "panasonic": ("Panasonic", "DMC-FZ30",
                  lambda at: b"Panasonic\x00\x00\x00" + _ifd([(0x0025, 7, b"\x00\x00F012345678" + bytes(4))],
                                                                at + 12, ">"),
                  "F012345678", "Panasonic MakerNote InternalSerialNumber"),
}


@pytest.mark.parametrize("case", sorted(MAKERNOTES))
def test_makernote_serials(case: str, tmp_path: Path) -> None:
    make, model, blob, serial, source = MAKERNOTES[case]
    row = md.metadata_row(_makernote_jpeg(tmp_path / "mn.jpg", make, model, blob))
    assert row["error"] is None and row["make"] == make
    assert (row["body_serial"], row["body_serial_source"]) == (serial, source)


def test_exif_serial_wins_and_unknown_notes_are_harmless(tmp_path: Path) -> None:
    exif = _camera_exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.MakerNote] = b"\xde\xad" * 40
    path = _save(_picture(), tmp_path / "both.jpg", "JPEG", exif=exif)
    assert md.metadata_row(path)["body_serial"] == CAMERA["serial"]
    garbage = _makernote_jpeg(tmp_path / "garbage.jpg", "Canon", "Canon EOS 5D", lambda at: b"\xff" * 64)
    row = md.metadata_row(garbage)
    assert row["error"] is None and row["body_serial"] is None and row["make"] == "Canon"


# --------------------------------------------------------------------------- odd values


def test_invalid_dates_are_missing_with_a_note(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "VIDLab Optics"
    exif[ExifTags.Base.DateTime] = "garbage"
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = "0000:00:00 00:00:00"
    details[ExifTags.Base.DateTimeDigitized] = "2023:02:30 10:00:00"
    details[ExifTags.Base.OffsetTimeDigitized] = "+25:00"
    path = _save(_picture(), tmp_path / "dates.jpg", "JPEG", exif=exif)
    row = md.metadata_row(path)
    assert row["error"] is None and row["make"] == "VIDLab Optics"
    assert row["datetime_original"] is None and row["datetime_digitized"] is None and row["datetime"] is None
    assert row["datetime_original_raw"] == "0000:00:00 00:00:00" and row["datetime_raw"] == "garbage"
    for name in ("DateTimeOriginal", "DateTimeDigitized", "DateTime"):
        assert name in row["notes"]
    blank = _save(_picture(), tmp_path / "blank.jpg", "JPEG", exif=_exif_with(DateTimeOriginal="    :  :     :  :  "))
    row = md.metadata_row(blank)
    assert row["datetime_original"] is None and "not a date" in row["notes"] and row["error"] is None


def _exif_with(**details: str) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "VIDLab Optics"
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    for name, value in details.items():
        ifd[getattr(ExifTags.Base, name)] = value
    return exif


def test_bad_offset_leaves_a_naive_time(tmp_path: Path) -> None:
    path = _save(_picture(), tmp_path / "offset.jpg", "JPEG",
                 exif=_exif_with(DateTimeOriginal="2024:05:01 10:00:00", OffsetTimeOriginal="+25:00"))
    row = md.metadata_row(path)
    assert row["datetime_original"] == pd.Timestamp("2024-05-01 10:00:00") and row["datetime_original"].tzinfo is None
    assert row["datetime_original_utc"] is None and "+25:00" in row["notes"]


def test_gps_zero_denominators(tmp_path: Path) -> None:
    """0/0 seconds count as 0 (a common way to leave them unused); n/0 degrees make the position unknown."""
    gps_ok = [(1, 2, "N"), (2, 5, [(10, 1), (30, 1), (0, 0)]), (3, 2, "W"), (4, 5, [(20, 1), (15, 1), (0, 0)]),
              (6, 5, [(0, 0)])]
    gps_bad = [(1, 2, "N"), (2, 5, [(10, 0), (30, 1), (0, 1)]), (3, 2, "E"), (4, 5, [(20, 1), (15, 1), (0, 1)])]
    for name, gps, expected in (("ok", gps_ok, (10.5, -20.25)), ("bad", gps_bad, (None, None))):
        ifd0 = [(0x010F, 2, "VIDLab Optics"), (0x8825, 4, 0)]
        gps_at = 8 + len(_ifd(ifd0, 8))
        block = _tiff([(0x010F, 2, "VIDLab Optics"), (0x8825, 4, gps_at)]) + _ifd(gps, gps_at)
        path = tmp_path / f"gps_{name}.jpg"
        path.write_bytes(_with_app1(_plain_jpeg(), b"Exif\x00\x00" + block))
        row = md.metadata_row(path)
        assert row["error"] is None, row["error"]
        if expected[0] is None:
            assert row["gps_lat"] is None and row["gps_lon"] is None and "zero denominator" in row["notes"]
        else:
            assert (row["gps_lat"], row["gps_lon"]) == pytest.approx(expected) and row["gps_alt"] == 0.0


# --------------------------------------------------------------------------- tables and Parquet


def test_table_one_row_per_path_whatever_the_file(tmp_path: Path, camera_jpeg: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("meeting at noon\n")
    empty = tmp_path / "empty.jpg"
    empty.touch()
    pdf = tmp_path / "doc.jpg"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    wav = tmp_path / "voice.jpg"
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    wav.write_bytes(b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + fmt + b"data" + struct.pack("<I", 0))
    noise = tmp_path / "noise.bin"
    noise.write_bytes(random.Random(1).randbytes(2000))
    odd_name = os.fsencode(tmp_path) + b"/caf\xe9.jpg"  # not UTF-8
    with open(odd_name, "wb") as f:
        f.write(camera_jpeg.read_bytes())
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    paths = [camera_jpeg, text, empty, pdf, wav, noise, tmp_path / "missing.jpg", tmp_path, fifo, odd_name]
    df = md.metadata_table(paths, progress=False)
    assert list(df.columns) == list(md.METADATA_COLUMNS) and len(df) == len(paths)
    errors = dict(zip(df["path"], df["error"]))
    assert errors[str(camera_jpeg)] is None
    assert errors[str(text)] == "not an image: text"
    assert errors[str(empty)] == "empty file (0 bytes)"
    assert errors[str(pdf)] == "not an image: pdf"
    assert errors[str(wav)] == "not an image: wav"
    assert errors[str(noise)] == "not an image: unknown format"
    assert errors[str(tmp_path / "missing.jpg")].startswith("FileNotFoundError")
    assert errors[str(tmp_path)].startswith("IsADirectoryError")
    assert "not a regular file" in errors[str(fifo)]
    assert df.loc[df["path"] == os.fsdecode(odd_name), "make"].item() == CAMERA["make"]
    assert str(df["width"].dtype) == "Int64" and str(df["thumbnail"].dtype) == "boolean"
    assert str(df["gps_datetime_utc"].dtype) == "datetime64[us, UTC]"


def test_typed_frame_gives_every_table_the_same_dtypes(tmp_path: Path, camera_jpeg: Path) -> None:
    full = md.metadata_table([camera_jpeg], progress=False)
    text = tmp_path / "notes.txt"
    text.write_text("no metadata here\n")
    errors_only = md.metadata_table([text], progress=False)
    blank = md.typed_metadata_frame(pd.DataFrame({c: pd.Series([None], dtype=object) for c in md.METADATA_COLUMNS}))
    assert full["make"].item() == CAMERA["make"] and errors_only["make"].item() is None
    assert dict(blank.dtypes) == dict(errors_only.dtypes) == dict(full.dtypes)
    assert str(blank["width"].dtype) == "Int64" and blank["width"].isna().all()


def test_parquet_keeps_mixed_offsets(tmp_path: Path, camera_jpeg: Path) -> None:
    files = [camera_jpeg]
    for name, offset in (("east", "+08:00"), ("none", None), ("west", "-05:00")):
        details = {"DateTimeOriginal": "2024:05:01 10:00:00", "SubsecTimeOriginal": "5"}
        if offset:
            details["OffsetTimeOriginal"] = offset
        files.append(_save(_picture(), tmp_path / f"{name}.jpg", "JPEG", exif=_exif_with(**details)))
    files.append(tmp_path / "missing.jpg")
    df = md.metadata_table(files, progress=False)
    target = tmp_path / "inventory.parquet"
    md.to_parquet(df, target)
    schema = pq.read_schema(target)
    assert str(schema.field("datetime_original").type) == "timestamp[us]"  # local clock time, no zone
    assert str(schema.field("datetime_original_utc").type) == "timestamp[us, tz=UTC]"
    back = md.read_parquet(target)
    assert list(back.columns) == list(df.columns) and len(back) == len(files)
    for column in ("datetime_original", "datetime_digitized", "datetime"):
        for before, after in zip(df[column], back[column]):
            assert (before is None and after is None) or (before == after and before.utcoffset() == after.utcoffset())
    assert back.loc[1, "datetime_original"].utcoffset() == timedelta(hours=8)
    assert back.loc[2, "datetime_original"].tzinfo is None
    assert back.loc[2, "datetime_original"] == pd.Timestamp("2024-05-01 10:00:00.5")
    assert back["body_serial"].tolist() == df["body_serial"].tolist()
    assert back["error"].tolist() == df["error"].tolist()


# --------------------------------------------------------------------------- malformed input


def _full_jpeg() -> bytes:
    """A JPEG with EXIF (all camera fields), an IFD1 thumbnail and XMP: plenty of structure to break."""
    exif_block = _camera_exif().tobytes()
    buf = io.BytesIO()
    _picture(96, 64).save(buf, "JPEG", quality=85, exif=exif_block, xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    return buf.getvalue()


def _app1(data: bytes) -> tuple[int, int]:
    """Start and end of the EXIF APP1 segment (Pillow puts a JFIF APP0 before it)."""
    start = data.find(b"\xff\xe1")
    return start, start + 2 + struct.unpack(">H", data[start + 2:start + 4])[0]


def _assert_row(row: dict) -> None:
    assert list(row) == list(md.METADATA_COLUMNS)
    for column in ("make", "model", "body_serial", "error", "notes"):
        assert row[column] is None or isinstance(row[column], str)
    for column in ("gps_lat", "gps_lon", "gps_alt"):
        assert row[column] is None or isinstance(row[column], float)


def test_truncated_at_many_offsets(tmp_path: Path) -> None:
    data = _full_jpeg()
    app1_start, app1_end = _app1(data)
    cuts = sorted({*range(1, app1_end + 40, 23), app1_end - 1, app1_end + 1, len(data) // 2, len(data) - 1})
    path = tmp_path / "cut.jpg"
    for cut in cuts:
        path.write_bytes(data[:cut])
        row = md.metadata_row(path)
        _assert_row(row)
        if app1_start + 4 < cut < app1_end:  # cut inside the EXIF segment: said so
            assert row["error"] and "truncated" in row["error"], (cut, row["error"])
    path.write_bytes(data[:app1_end + 200])
    row = md.metadata_row(path)  # EXIF whole, image data missing: metadata still read
    assert row["make"] == CAMERA["make"] and row["error"].startswith("truncated")


def test_byte_flips_in_the_exif_segment(tmp_path: Path) -> None:
    data = _full_jpeg()
    app1_start, app1_end = _app1(data)
    rng = random.Random(20240501)
    path = tmp_path / "flipped.jpg"
    for _ in range(150):
        broken = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            broken[rng.randrange(app1_start + 10, app1_end)] = rng.randrange(256)  # inside the TIFF structure
        path.write_bytes(bytes(broken))
        _assert_row(md.metadata_row(path))


def test_ifd0_offset_beyond_the_block(tmp_path: Path) -> None:
    block = b"II*\x00" + struct.pack("<I", 4_294_967_040) + b"\x00" * 16
    path = tmp_path / "far.jpg"
    path.write_bytes(_with_app1(_plain_jpeg(), b"Exif\x00\x00" + block))
    row = md.metadata_row(path)
    assert row["error"] == "truncated EXIF: IFD0 offset 4,294,967,040 beyond the end of the EXIF data (24 bytes)"
    assert row["width"] == 64 and row["jpeg_quality"] == 90  # the rest of the header is still read


def test_exif_without_tiff_header(tmp_path: Path) -> None:
    path = tmp_path / "junk_exif.jpg"
    path.write_bytes(_with_app1(_plain_jpeg(), b"Exif\x00\x00" + b"hello world, not TIFF"))
    row = md.metadata_row(path)
    assert "no TIFF header" in row["error"] and row["width"] == 64


def test_huge_declared_dimensions(tmp_path: Path) -> None:
    png = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
           + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + _png_chunk(b"IEND", b""))
    gif = (b"GIF89a" + struct.pack("<HHBBB", 65535, 65535, 0, 0, 0)
           + b"\x2c" + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0) + b"\x02\x02\x44\x01\x00\x3b")
    jpeg = bytearray(_plain_jpeg())
    sof = jpeg.find(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", 65535, 65535)
    for name, data in (("bomb.png", png), ("bomb.gif", gif), ("bomb.jpg", bytes(jpeg))):
        path = tmp_path / name
        path.write_bytes(data)
        row = md.metadata_row(path)
        assert row["error"].startswith("decompression bomb: "), (name, row["error"])
        assert "pixels declared" in row["error"]


def test_looping_ifds(tmp_path: Path) -> None:
    """A TIFF whose next-IFD offset points back to itself, and an EXIF block whose sub-IFDs point to IFD0."""
    entries = [(0x0100, 3, 4), (0x0101, 3, 4), (0x010F, 2, "Loop Cam"), (0x0111, 4, 8), (0x0117, 4, 16)]
    tiff = b"II*\x00" + struct.pack("<I", 8) + _ifd(entries, 8, next_ifd=8) + bytes(16)
    path = tmp_path / "loop.tif"
    path.write_bytes(tiff)
    row = md.metadata_row(path)
    _assert_row(row)
    assert row["make"] == "Loop Cam"
    loop = [(0x010F, 2, "Loop Cam"), (0x8769, 4, 8), (0x8825, 4, 8)]
    block = b"II*\x00" + struct.pack("<I", 8) + _ifd(loop, 8, next_ifd=8)
    jpeg = tmp_path / "loop.jpg"
    jpeg.write_bytes(_with_app1(_plain_jpeg(), b"Exif\x00\x00" + block))
    row = md.metadata_row(jpeg)
    _assert_row(row)
    assert row["make"] == "Loop Cam" and row["width"] == 64


def test_memory_error_becomes_an_error_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ok.jpg"
    path.write_bytes(_plain_jpeg())

    def exhausted(*_args, **_kw):
        raise MemoryError

    monkeypatch.setattr(md, "_header", exhausted)
    row = md.metadata_row(path)
    assert row["error"].startswith("out of memory")


# --------------------------------------------------------------------------- real camera files


def _dump(folder: Path) -> dict[str, dict[str, str]]:
    """exifread's reference output in the samples' `dump` file: relative path (lower case) -> tag -> printable."""
    files: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in (folder / "dump").read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("Opening: "):
            current = files.setdefault(line.split("/", 1)[1].lower(), {})
        elif current is not None and " (" in line and "): " in line:
            name, rest = line.split(" (", 1)
            current[name] = rest.split("): ", 1)[1]
    return files


def _ratios(text: str) -> list[Fraction]:
    return [Fraction(x.strip()) for x in text.strip("[]").split(",")]


def _real_files(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)).lower(): p for p in folder.rglob("*")
            if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg", ".tif", ".tiff", ".heic", ".heif")}


@pytest.mark.realdata
def test_real_files_agree_with_exifread_dump(real_samples: Path) -> None:
    files, dump = _real_files(real_samples), _dump(real_samples)
    compared = 0
    for rel, tags in dump.items():
        if rel not in files:
            continue  # the few large samples left out of the copy
        row = md.metadata_row(files[rel])
        for tag, column in (("Image Make", "make"), ("Image Model", "model")):
            if tags.get(tag, "").strip():
                assert row[column] == tags[tag].strip(), (rel, column)
                compared += 1
        if tags.get("EXIF DateTimeOriginal", "").strip():
            assert row["datetime_original_raw"] == tags["EXIF DateTimeOriginal"].strip(), rel
            raw = tags["EXIF DateTimeOriginal"].strip()
            if re.fullmatch(r"\d{4}:\d\d:\d\d \d\d:\d\d:\d\d", raw) and not raw.startswith("0000"):
                local = row["datetime_original"]
                assert local.replace(tzinfo=None, microsecond=0) == datetime.strptime(raw, "%Y:%m:%d %H:%M:%S"), rel
            compared += 1
        if "EXIF BodySerialNumber" in tags:
            assert row["body_serial"] == tags["EXIF BodySerialNumber"].strip(), rel
        for axis, column, negative in (("Latitude", "gps_lat", "S"), ("Longitude", "gps_lon", "W")):
            if f"GPS GPS{axis}" in tags:
                parts = _ratios(tags[f"GPS GPS{axis}"])
                value = float(sum(abs(p) / 60 ** i for i, p in enumerate(parts)))
                if tags.get(f"GPS GPS{axis}Ref", "").strip().upper() == negative:
                    value = -value
                assert row[column] == pytest.approx(value, abs=1e-6), (rel, axis)
                compared += 1
        if "GPS GPSAltitude" in tags:
            alt = float(_ratios(tags["GPS GPSAltitude"])[0])
            assert row["gps_alt"] == pytest.approx(-alt if tags.get("GPS GPSAltitudeRef") == "1" else alt), rel
    assert compared > 100  # the comparison really ran


@pytest.mark.realdata
def test_every_real_file_gives_a_row(real_samples: Path) -> None:
    paths = sorted(_real_files(real_samples).values())
    df = md.metadata_table(paths, progress=False)
    assert len(df) == len(paths) and df["path"].tolist() == [str(p) for p in paths]
    invalid = df[df["path"].str.contains("/invalid/|/tests/|corrupted", regex=True)]
    assert len(invalid) >= 10
    # broken files: an error, or a partial row that still says something true about the file
    assert (invalid["error"].notna() | invalid["width"].notna()).all()
    assert df["make"].notna().sum() > 50


@pytest.mark.realdata
def test_real_files_agree_with_exiftool(real_samples: Path) -> None:
    exiftool = shutil.which("exiftool")
    if exiftool is None:
        pytest.skip("exiftool not installed (the exifread dump check still runs)")
    args = [exiftool, "-j", "-G0", "-r", "-EXIF:Make", "-EXIF:Model", "-EXIF:DateTimeOriginal",
            "-Composite:GPSLatitude#", "-Composite:GPSLongitude#", "-EXIF:SerialNumber",
            "-MakerNotes:SerialNumber", "-MakerNotes:InternalSerialNumber", str(real_samples)]
    found = json.loads(subprocess.run(args, capture_output=True, check=False).stdout or b"[]")
    files = _real_files(real_samples)
    serials = 0
    for entry in found:
        path = Path(entry["SourceFile"])
        if str(path.relative_to(real_samples)).lower() not in files:
            continue
        row = md.metadata_row(path)
        for key, column in (("EXIF:Make", "make"), ("EXIF:Model", "model"),
                            ("EXIF:DateTimeOriginal", "datetime_original_raw")):
            if str(entry.get(key, "")).strip():
                assert row[column] == str(entry[key]).strip(), (path.name, key)
        for key, column in (("Composite:GPSLatitude", "gps_lat"), ("Composite:GPSLongitude", "gps_lon")):
            if isinstance(entry.get(key), (int, float)):
                assert row[column] == pytest.approx(entry[key], abs=1e-6), (path.name, key)
        # exiftool prints numeric serials as JSON numbers: compare as text
        theirs = [str(entry[k]).strip() for k in ("EXIF:SerialNumber", "MakerNotes:SerialNumber",
                                                  "MakerNotes:InternalSerialNumber") if k in entry]
        if "EXIF:SerialNumber" in entry:
            assert row["body_serial"] == str(entry["EXIF:SerialNumber"]).strip(), path.name
        if row["body_serial"] is not None:
            assert any(row["body_serial"] == t or t.endswith(" " + row["body_serial"]) for t in theirs), path.name
            serials += 1
    assert serials >= 3
