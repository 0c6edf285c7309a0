"""EXIF for generated photos: IFD0, the Exif and GPS IFDs through Pillow, and the IFD1 thumbnail Pillow cannot write."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

EXIF_HEADER = b"Exif\x00\x00"
# A JPEG APP1 segment holds at most 65,533 bytes after its length field; EXIF with its thumbnail must fit.
APP1_LIMIT = 65533
# TIFF field types used by IFD1.
SHORT, LONG, RATIONAL = 3, 4, 5


@dataclass(frozen=True)
class GpsFix:
    """Where and when (UTC, from the satellites) a phone's GPS put a photo."""

    lat: float
    lon: float
    altitude_m: float
    utc: datetime


@dataclass(frozen=True)
class ShotMetadata:
    """What a camera writes about one shot, as the camera believes it (its clock may be wrong)."""

    make: str
    model: str
    software: str
    serial: str
    lens: str
    focal_mm: float
    f_number: float
    exposure_s: Fraction
    iso: int
    recorded: datetime  # the device clock's local time, naive
    offset: str | None  # "+07:00" where the device writes its UTC offset
    orientation: int
    width: int
    height: int
    gps: GpsFix | None


def stamp(when: datetime) -> str:
    """EXIF's date-time format."""
    return when.strftime("%Y:%m:%d %H:%M:%S")


def rational(value: Fraction | int) -> IFDRational:
    """An EXIF rational (Pillow's type) from an exact fraction."""
    value = Fraction(value)
    return IFDRational(value.numerator, value.denominator)


def dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    """Degrees, minutes and seconds (to 1/10,000 s, about 3 mm) of an absolute coordinate, as EXIF rationals."""
    tenths_of_ms = round(abs(value) * 3600 * 10000)
    degrees, rest = divmod(tenths_of_ms, 3600 * 10000)
    minutes, seconds = divmod(rest, 60 * 10000)
    return rational(degrees), rational(minutes), rational(Fraction(seconds, 10000))


def gps_tags(exif: Image.Exif, fix: GpsFix) -> None:
    """Fill the GPS IFD: position, altitude, and the UTC time and date the fix was taken."""
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSVersionID] = b"\x02\x03\x00\x00"
    gps[ExifTags.GPS.GPSLatitudeRef] = "N" if fix.lat >= 0 else "S"
    gps[ExifTags.GPS.GPSLatitude] = dms(fix.lat)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E" if fix.lon >= 0 else "W"
    gps[ExifTags.GPS.GPSLongitude] = dms(fix.lon)
    gps[ExifTags.GPS.GPSAltitudeRef] = b"\x00" if fix.altitude_m >= 0 else b"\x01"
    gps[ExifTags.GPS.GPSAltitude] = rational(Fraction(round(abs(fix.altitude_m) * 10), 10))
    gps[ExifTags.GPS.GPSTimeStamp] = (rational(fix.utc.hour), rational(fix.utc.minute), rational(fix.utc.second))
    gps[ExifTags.GPS.GPSDateStamp] = fix.utc.strftime("%Y:%m:%d")
    gps[ExifTags.GPS.GPSMapDatum] = "WGS-84"


def shot_exif(meta: ShotMetadata) -> Image.Exif:
    """IFD0, Exif IFD and (when the fix exists) GPS IFD of one shot, as a camera or phone writes them."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = meta.make
    exif[ExifTags.Base.Model] = meta.model
    exif[ExifTags.Base.Software] = meta.software
    exif[ExifTags.Base.Orientation] = meta.orientation
    exif[ExifTags.Base.ImageWidth] = meta.width
    exif[ExifTags.Base.ImageLength] = meta.height
    exif[ExifTags.Base.XResolution] = rational(72)
    exif[ExifTags.Base.YResolution] = rational(72)
    exif[ExifTags.Base.ResolutionUnit] = 2
    exif[ExifTags.Base.DateTime] = stamp(meta.recorded)
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.ExifVersion] = b"0232"
    details[ExifTags.Base.DateTimeOriginal] = stamp(meta.recorded)
    details[ExifTags.Base.DateTimeDigitized] = stamp(meta.recorded)
    subsec = f"{meta.recorded.microsecond // 1000:03d}"
    details[ExifTags.Base.SubsecTimeOriginal] = subsec
    details[ExifTags.Base.SubsecTimeDigitized] = subsec
    if meta.offset:
        details[ExifTags.Base.OffsetTime] = meta.offset
        details[ExifTags.Base.OffsetTimeOriginal] = meta.offset
        details[ExifTags.Base.OffsetTimeDigitized] = meta.offset
    details[ExifTags.Base.ExposureTime] = rational(meta.exposure_s)
    details[ExifTags.Base.FNumber] = rational(Fraction(round(meta.f_number * 10), 10))
    details[ExifTags.Base.ISOSpeedRatings] = meta.iso
    details[ExifTags.Base.FocalLength] = rational(Fraction(round(meta.focal_mm * 100), 100))
    if meta.lens:
        details[ExifTags.Base.LensModel] = meta.lens
    if meta.serial:  # services that keep the camera's name drop its serial
        details[ExifTags.Base.BodySerialNumber] = meta.serial
    details[ExifTags.Base.ColorSpace] = 1
    details[ExifTags.Base.ExifImageWidth] = meta.width
    details[ExifTags.Base.ExifImageHeight] = meta.height
    if meta.gps is not None:
        gps_tags(exif, meta.gps)
    return exif


def ifd_entry(order: str, tag: int, kind: int, count: int, value: bytes) -> bytes:
    """One 12-byte IFD entry; `value` is the 4-byte field (a value left-justified, or an offset)."""
    return struct.pack(f"{order}HHI", tag, kind, count) + value.ljust(4, b"\x00")


def with_thumbnail(exif: bytes, thumbnail: bytes) -> bytes:
    """Append an IFD1 holding a JPEG thumbnail to EXIF bytes made by Pillow (which writes IFD0 at offset 8 and
    leaves IFD0's next-IFD pointer at zero), pointing IFD0 at it. Offsets count from the TIFF header."""
    if not exif.startswith(EXIF_HEADER):
        raise ValueError("EXIF bytes must start with the Exif\\0\\0 header Pillow writes")
    tiff = bytearray(exif[len(EXIF_HEADER):])
    order = {b"MM": ">", b"II": "<"}[bytes(tiff[:2])]
    ifd0 = struct.unpack_from(f"{order}I", tiff, 4)[0]
    entries = struct.unpack_from(f"{order}H", tiff, ifd0)[0]
    next_pointer = ifd0 + 2 + 12 * entries
    if struct.unpack_from(f"{order}I", tiff, next_pointer)[0] != 0:
        raise ValueError("IFD0 already links to another IFD")
    if len(tiff) % 2:
        tiff += b"\x00"  # IFDs start on a word boundary
    ifd1 = len(tiff)
    count = 6
    resolution_at = ifd1 + 2 + 12 * count + 4
    thumbnail_at = resolution_at + 16
    short = struct.pack(f"{order}H", 2)
    table = b"".join((
        ifd_entry(order, 0x0103, SHORT, 1, struct.pack(f"{order}H", 6)),  # Compression: JPEG
        ifd_entry(order, 0x011A, RATIONAL, 1, struct.pack(f"{order}I", resolution_at)),  # XResolution
        ifd_entry(order, 0x011B, RATIONAL, 1, struct.pack(f"{order}I", resolution_at + 8)),  # YResolution
        ifd_entry(order, 0x0128, SHORT, 1, short),  # ResolutionUnit: inch
        ifd_entry(order, 0x0201, LONG, 1, struct.pack(f"{order}I", thumbnail_at)),  # JPEGInterchangeFormat
        ifd_entry(order, 0x0202, LONG, 1, struct.pack(f"{order}I", len(thumbnail))),  # ...Length
    ))
    tiff += struct.pack(f"{order}H", count) + table + struct.pack(f"{order}I", 0)
    tiff += struct.pack(f"{order}IIII", 72, 1, 72, 1) + thumbnail
    struct.pack_into(f"{order}I", tiff, next_pointer, ifd1)
    out = EXIF_HEADER + bytes(tiff)
    if len(out) > APP1_LIMIT:
        raise ValueError(f"EXIF with its thumbnail is {len(out):,} bytes; a JPEG APP1 segment holds {APP1_LIMIT:,}")
    return out

