"""EXIF writing: every field round-trips through exifread and Pillow, and the hand-written IFD1 thumbnail is valid."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from fractions import Fraction

import exifread
import pytest
from PIL import ExifTags, Image

from synthetic_data.exif import APP1_LIMIT, GpsFix, ShotMetadata, shot_exif, with_thumbnail

META = ShotMetadata(
    make="Orvell", model="Nimbus 8", software="NimbusOS 14.2", serial="ON812345678", lens="Nimbus 8 back 4.2mm f/1.8",
    focal_mm=4.2, f_number=1.8, exposure_s=Fraction(1, 120), iso=200,
    recorded=datetime(2024, 3, 1, 17, 5, 9, 345000), offset="+07:00", orientation=6, width=640, height=480,
    gps=GpsFix(-33.8678, 151.2073, 12.3, datetime(2024, 3, 1, 10, 5, 9, tzinfo=timezone.utc)),
)


def jpeg(size: tuple[int, int], colour: tuple[int, int, int], **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG", **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def photo() -> tuple[bytes, bytes]:
    thumbnail = jpeg((160, 120), (200, 40, 40), quality=70)
    return jpeg((640, 480), (40, 160, 90), exif=with_thumbnail(shot_exif(META).tobytes(), thumbnail)), thumbnail


def decimal(values: object, ref: str) -> float:
    degrees, minutes, seconds = (float(Fraction(str(value))) for value in values)  # type: ignore[union-attr]
    return (-1 if ref in "SW" else 1) * (degrees + minutes / 60 + seconds / 3600)


def test_exifread_reads_every_field(photo: tuple[bytes, bytes]) -> None:
    tags = exifread.process_file(io.BytesIO(photo[0]))
    text = {key: str(value) for key, value in tags.items() if key != "JPEGThumbnail"}
    assert text["Image Make"] == "Orvell" and text["Image Model"] == "Nimbus 8"
    assert text["Image Software"] == "NimbusOS 14.2" and text["EXIF BodySerialNumber"] == "ON812345678"
    assert text["EXIF DateTimeOriginal"] == "2024:03:01 17:05:09" and text["EXIF SubSecTimeOriginal"] == "345"
    assert text["EXIF OffsetTimeOriginal"] == "+07:00"
    assert tags["Image Orientation"].values == [6]
    assert (text["Image ImageWidth"], text["Image ImageLength"]) == ("640", "480")
    assert (text["EXIF ExifImageWidth"], text["EXIF ExifImageLength"]) == ("640", "480")
    lat = decimal(tags["GPS GPSLatitude"].values, text["GPS GPSLatitudeRef"])
    lon = decimal(tags["GPS GPSLongitude"].values, text["GPS GPSLongitudeRef"])
    assert lat == pytest.approx(-33.8678, abs=1e-6) and lon == pytest.approx(151.2073, abs=1e-6)
    assert text["GPS GPSDate"] == "2024:03:01" and text["GPS GPSTimeStamp"] == "[10, 5, 9]"
    assert tags["JPEGThumbnail"] == photo[1]


def test_pillow_reads_every_field(photo: tuple[bytes, bytes]) -> None:
    with Image.open(io.BytesIO(photo[0])) as image:
        exif = image.getexif()
    details = exif.get_ifd(ExifTags.IFD.Exif)
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert (exif[ExifTags.Base.Make], exif[ExifTags.Base.Model]) == ("Orvell", "Nimbus 8")
    assert exif[ExifTags.Base.Orientation] == 6 and exif[ExifTags.Base.Software] == "NimbusOS 14.2"
    assert details[ExifTags.Base.BodySerialNumber] == "ON812345678"
    assert details[ExifTags.Base.DateTimeOriginal] == "2024:03:01 17:05:09"
    assert details[ExifTags.Base.SubsecTimeOriginal] == "345" and details[ExifTags.Base.OffsetTimeOriginal] == "+07:00"
    assert decimal(gps[ExifTags.GPS.GPSLatitude], gps[ExifTags.GPS.GPSLatitudeRef]) == pytest.approx(-33.8678, abs=1e-6)
    assert gps[ExifTags.GPS.GPSDateStamp] == "2024:03:01"
    ifd1 = exif.get_ifd(ExifTags.IFD.IFD1)
    start, length = ifd1[ExifTags.Base.JpegIFOffset], ifd1[ExifTags.Base.JpegIFByteCount]
    assert ifd1[ExifTags.Base.Compression] == 6 and length == len(photo[1])
    tiff = photo[0][photo[0].index(b"Exif\x00\x00") + 6:]
    assert tiff[start:start + length] == photo[1]
    with Image.open(io.BytesIO(tiff[start:start + length])) as thumbnail:
        thumbnail.load()
        assert thumbnail.size == (160, 120)


def test_optional_fields_are_left_out() -> None:
    lean = shot_exif(ShotMetadata(**{**vars(META), "offset": None, "gps": None, "serial": "", "lens": ""}))
    details = lean.get_ifd(ExifTags.IFD.Exif)
    assert ExifTags.Base.OffsetTimeOriginal not in details and ExifTags.Base.BodySerialNumber not in details
    assert not lean.get_ifd(ExifTags.IFD.GPSInfo)


def test_thumbnail_errors_are_specific() -> None:
    exif = shot_exif(META).tobytes()
    with pytest.raises(ValueError, match="Exif"):
        with_thumbnail(exif[6:], b"\xff\xd8\xff\xd9")
    with pytest.raises(ValueError, match="already links"):
        with_thumbnail(with_thumbnail(exif, b"\xff\xd8\xff\xd9"), b"\xff\xd8\xff\xd9")
    with pytest.raises(ValueError, match="APP1"):
        with_thumbnail(exif, b"\xff\xd8" + bytes(APP1_LIMIT))
