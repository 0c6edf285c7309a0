"""EXIF and header metadata as rows, one per file: which device made a picture, when, where, how it was encoded.

How it reads, and why:
- EXIF tags come from exifread with ``details=False``. Its MakerNote decoding costs 5–190 ms a
  file on real camera JPEGs (against ~0.3 ms without) and misreads some Nikon serials, so the few
  MakerNote serial numbers an analyst needs (Canon, Nikon, Olympus, Fujifilm, Panasonic) are read
  directly from the MakerNote's IFD (``vidlab.makernotes``).
- A JPEG is read without Pillow: one walk over its markers up to the image data
  (``vidlab.formats.jpeg_header_segments``) yields the EXIF block, XMP presence, the quantisation
  tables and the pixel size. Other formats are opened with Pillow (pillow_heif for HEIC), which
  reads headers, not pixels.
- Files are opened read-only through ``vidlab.evidence``; nothing is decoded beyond headers.

Rows never raise: ``error`` names what is broken (truncated EXIF, not an image, a decompression
bomb, an unreadable file) and whatever could still be read is kept; ``notes`` holds smaller
findings (an invalid date, a GPS value with a zero denominator, exifread's own warnings).

Sizes. ``width``/``height`` are the pixel size as stored, ``oriented_*`` the size once EXIF's
orientation is applied (5–8 turn it a quarter). HEIC is the exception: libheif applies the
container's own rotation, which HEIF readers must follow instead of EXIF's, so both pairs give the
displayed size while ``orientation`` still reports what EXIF says.

Times. ``datetime_original``/``datetime_digitized``/``datetime`` are pandas Timestamps with SubSec
applied, timezone-aware when an OffsetTime* tag (or an offset inside the date text) gives the UTC
offset, naive otherwise; ``*_raw`` keep the text as stored, ``offset_time_*`` the offset text.
``datetime_original_utc`` is the same instant in UTC (only when the offset is known), and
``gps_datetime_utc`` is GPSDateStamp + GPSTimeStamp, always UTC.

Parquet. One Parquet column cannot hold several UTC offsets, so ``to_parquet`` stores each
``datetime*`` column as the local wall-clock time (timezone-naive) beside its ``offset_time*`` text
and the UTC column; ``read_parquet`` puts the aware values back.

JPEG quality. ``jpeg_quality`` is the IJG (libjpeg) quality 1–100 whose scaled standard
luminance and chrominance tables (JPEG Annex K tables × scale, scale = 5000/q below 50 and
200 − 2q from 50, rounded, clamped to 1–255) are nearest to the file's tables, by the sum of
absolute differences. ``jpeg_standard_tables`` is True when they match exactly, as for libjpeg,
Pillow or GIMP saves; cameras and some editors use their own tables, for which the figure is an
equivalent quality. ``quant_tables`` is a short hash of all tables, so equal tables compare equal
(same camera model and setting, or the same re-encoding software); ``quantisation_tables(path)``
gives the tables themselves in natural (row-major) order, as Pillow's ``im.quantization`` does.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import struct
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import IO, Any

import exifread
import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from vidlab.evidence import TIFF_MAGICS, open_readonly, printable_path, progress_bar, short_error, sniff
from vidlab.formats import (HEADER_LIMIT, HEADER_READ, SOF_CODES, XMP_ID, jpeg_header_segments,
                            register_heif_opener)
from vidlab.makernotes import Reader, entry_uint, ifd_entries, makernote_serial

__all__ = [
    "METADATA_COLUMNS",
    "metadata_row",
    "metadata_table",
    "quantisation_tables",
    "thumbnail_bytes",
    "to_parquet",
    "read_parquet",
    "typed_metadata_frame",
]

PathLike = str | os.PathLike[str]

METADATA_COLUMNS: tuple[str, ...] = (
    "path",
    "make", "model", "body_serial", "body_serial_source", "lens_make", "lens_model", "lens_serial", "software",
    "datetime_original", "datetime_digitized", "datetime", "datetime_original_utc",
    "datetime_original_raw", "datetime_digitized_raw", "datetime_raw",
    "offset_time_original", "offset_time_digitized", "offset_time",
    "gps_lat", "gps_lon", "gps_alt", "gps_datetime_utc",
    "orientation", "width", "height", "oriented_width", "oriented_height",
    "jpeg_quality", "jpeg_standard_tables", "quant_tables",
    "thumbnail", "has_xmp", "notes", "error",
)

# (time column, raw text column, offset column, EXIF date tag, SubSec tag, OffsetTime tag)
_TIMES = (
    ("datetime_original", "datetime_original_raw", "offset_time_original",
     "EXIF DateTimeOriginal", "EXIF SubSecTimeOriginal", "EXIF OffsetTimeOriginal"),
    ("datetime_digitized", "datetime_digitized_raw", "offset_time_digitized",
     "EXIF DateTimeDigitized", "EXIF SubSecTimeDigitized", "EXIF OffsetTimeDigitized"),
    ("datetime", "datetime_raw", "offset_time", "Image DateTime", "EXIF SubSecTime", "EXIF OffsetTime"),
)
_TEXT_COLUMNS = ("path", "make", "model", "body_serial", "body_serial_source", "lens_make", "lens_model",
                 "lens_serial", "software", "datetime_original_raw", "datetime_digitized_raw", "datetime_raw",
                 "offset_time_original", "offset_time_digitized", "offset_time", "quant_tables", "notes", "error")
_INT_COLUMNS = ("orientation", "width", "height", "oriented_width", "oriented_height", "jpeg_quality")
_BOOL_COLUMNS = ("jpeg_standard_tables", "thumbnail", "has_xmp")
_FLOAT_COLUMNS = ("gps_lat", "gps_lon", "gps_alt")
_UTC_COLUMNS = ("datetime_original_utc", "gps_datetime_utc")

#: Picture kinds (of vidlab.evidence.sniff) other than JPEG, with the Pillow formats that read them: one plugin
#: is tried instead of all. "unknown" may still be a rarer format Pillow knows; every other kind is not a picture.
_PILLOW_FORMATS: dict[str, list[str] | None] = {
    "png": ["PNG"], "gif": ["GIF"], "tiff": ["TIFF"], "webp": ["WEBP"], "bmp": ["BMP", "DIB"],
    "heic": ["HEIF"], "avif": ["AVIF", "HEIF"], "unknown": None,
}
_JPEG_WANTED = frozenset({0xE1, 0xDB}) | SOF_CODES  # APP1 (EXIF, XMP), quantisation tables, frame header
_MAX_NOTES = 8


# --------------------------------------------------------------------------- readers' warnings


class _Warnings(logging.Handler):
    """Collects the warnings a reader logs about the file being read (per thread), to become row notes.

    Being a handler, it also keeps Python's last-resort handler from printing them to stderr, one line
    per damaged tag, when the application has not configured logging; configured handlers still get them.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        bucket = getattr(self.local, "bucket", None)
        if bucket is not None and len(bucket) < _MAX_NOTES:
            message = record.getMessage().strip().rstrip(".")
            if message not in bucket:
                bucket.append(f"{record.name.split('.')[0]}: {message}")

    @contextmanager
    def collecting(self, notes: list[str], logger: logging.Logger | None = None) -> Iterator[None]:
        """Add what is logged meanwhile (by exifread, or also by `logger` while attached) to notes."""
        bucket: list[str] = []
        self.local.bucket = bucket
        if logger is not None:
            logger.addHandler(self)
        try:
            yield
        finally:
            if logger is not None:
                logger.removeHandler(self)
            self.local.bucket = None
            notes.extend(bucket)


_WARNINGS = _Warnings()
logging.getLogger("exifread").addHandler(_WARNINGS)  # exifread is ours alone; Pillow's logger only while we read


# --------------------------------------------------------------------------- reading the header


@dataclass
class _Header:
    """What a file's header gives besides EXIF tags."""

    exif: IO[bytes] | None = None  # a TIFF structure starting at position 0 (EXIF block or the TIFF file itself)
    exif_size: int = 0
    width: int | None = None
    height: int | None = None
    displayed: bool = False  # width/height are as displayed: HEIC, whose container rotation libheif applies
    orientation: int | None = None  # EXIF's orientation where the reader has reset it in the EXIF block (HEIC)
    tables: dict[int, tuple[int, ...]] = field(default_factory=dict)  # slot -> 64 values in zigzag (file) order
    xmp: bool | None = None
    problems: list[str] = field(default_factory=list)  # -> error
    notes: list[str] = field(default_factory=list)


def _zigzag_positions() -> tuple[int, ...]:
    """For each natural (row-major) index of an 8×8 block, its position in JPEG's zigzag order."""
    cells = sorted(((r, c) for r in range(8) for c in range(8)),
                   key=lambda rc: (rc[0] + rc[1], rc[0] if (rc[0] + rc[1]) % 2 else rc[1]))
    positions = [0] * 64
    for z, (r, c) in enumerate(cells):
        positions[r * 8 + c] = z
    return tuple(positions)


# Zigzag position of each natural (row-major) index of an 8×8 table.
ZIGZAG = _zigzag_positions()


def _dqt_tables(body: bytes, tables: dict[int, tuple[int, ...]]) -> str | None:
    """Add the tables of one DQT segment (zigzag order, as stored); a problem text if it is cut short."""
    i = 0
    while i < len(body):
        precision, slot = body[i] >> 4, body[i] & 15
        size = 128 if precision else 64
        values = body[i + 1:i + 1 + size]
        if len(values) < size:
            return f"DQT table {slot} cut short ({len(values)} of {size} bytes)"
        tables[slot] = struct.unpack(">64H", values) if precision else tuple(values)
        i += 1 + size
    return None


def _tiff_block(blob: bytes, head: _Header, where: str) -> None:
    """Point head.exif at the TIFF structure inside an EXIF blob ('Exif\\0\\0' prefix optional)."""
    start = 6 if blob[:4] == b"Exif" else 0
    if not blob[start:start + 4].startswith(TIFF_MAGICS):
        found = max(blob.find(b"II*\x00", 0, 64), blob.find(b"MM\x00*", 0, 64))
        if found < 0:
            shown = blob[start:start + 8].hex(" ").upper()
            head.problems.append(f"EXIF in {where} has no TIFF header (starts {shown})")
            return
        start = found
    head.exif = io.BytesIO(blob[start:])
    head.exif_size = len(blob) - start


def _jpeg_header(f: IO[bytes], first: bytes) -> _Header:
    """EXIF block, XMP, quantisation tables and frame size from a JPEG's segments before its image data."""
    head = _Header(xmp=False)
    for pos, code, body, declared in jpeg_header_segments(f, first, _JPEG_WANTED, head.problems):
        short = len(body) < declared
        exif = code == 0xE1 and body[:4] == b"Exif" and head.exif is None
        if short:
            head.problems.append(f"truncated{' EXIF' if exif else ''}: the FF{code:02X} segment at {pos:,} declares "
                                 f"{declared:,} bytes, the file ends after {len(body):,}")
        if exif:
            _tiff_block(body, head, "APP1")
        elif code == 0xE1 and body.startswith(XMP_ID):
            head.xmp = True
        elif code == 0xDB and not short:
            problem = _dqt_tables(body, head.tables)
            if problem:
                head.problems.append(problem)
        elif code in SOF_CODES and head.width is None and len(body) >= 5:
            head.height, head.width = struct.unpack(">HH", body[1:5])
    return head


def _exif_chunk(f: IO[bytes], kind: str) -> bytes | None:
    """The EXIF chunk of a PNG (eXIf) or WebP (EXIF), by walking the chunks: for files Pillow gives up on."""
    pos = 8 if kind == "png" else 12
    for _ in range(100_000):
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            return None
        if kind == "png":
            (length,), tag, pad = struct.unpack(">I", head[:4]), head[4:], 4  # the CRC follows the data
        else:
            tag, (length,) = head[:4], struct.unpack("<I", head[4:])
            pad = length & 1
        if tag in (b"eXIf", b"EXIF"):
            return f.read(min(length, HEADER_LIMIT))
        if tag == b"IEND":
            return None
        pos += 8 + length + pad
    return None


_BOMB = re.compile(r"\((\d+) pixels\) exceeds limit of (\d+) pixels")


def _pillow_header(f: IO[bytes], kind: str) -> _Header:
    """Pixel size, EXIF block and XMP presence from Pillow's header read (pixels are not decoded)."""
    head = _Header()
    if kind in ("heic", "avif"):
        register_heif_opener()
    f.seek(0)
    with warnings.catch_warnings(record=True) as caught, _WARNINGS.collecting(head.notes, logging.getLogger("PIL")):
        warnings.simplefilter("always")
        try:
            with Image.open(f, formats=_PILLOW_FORMATS.get(kind)) as im:
                head.width, head.height = im.size
                info = im.info
                head.xmp = bool(info.get("xmp") or info.get("XML:com.adobe.xmp"))
                exif = info.get("exif")
                if kind == "heic":  # HEIF readers must follow the container's rotation (irot/imir), not EXIF's
                    head.displayed = True
                    head.orientation = info.get("original_orientation")
        except Image.DecompressionBombError as exc:
            found = _BOMB.search(str(exc))
            head.problems.append("decompression bomb: " + (
                f"{int(found[1]):,} pixels declared, Pillow refuses above {int(found[2]):,}" if found else str(exc)))
            return head
        except Exception as exc:  # noqa: BLE001 - any reader failure is described, never raised
            what = ("Pillow cannot identify it" if isinstance(exc, UnidentifiedImageError)
                    else f"{type(exc).__name__}: {exc}")
            if kind == "tiff":  # camera raws are TIFF to exifread but not always to Pillow
                head.notes.append(f"not readable by Pillow ({what})")
            else:
                head.problems.append(f"not readable as {kind}: {what}" if kind != "unknown"
                                     else "not an image: unknown format")
            exif = _exif_chunk(f, kind) if kind in ("png", "webp") else None
    for w in caught:
        head.notes.append(f"Pillow: {w.message}")
    if kind == "tiff":
        head.exif_size = os.fstat(f.fileno()).st_size
        f.seek(0)  # a small TIFF is read whole so that damaged IFDs can be defused in memory (see _check_ifds)
        head.exif = io.BytesIO(f.read()) if head.exif_size <= HEADER_LIMIT else f
    elif isinstance(exif, (bytes, bytearray)) and exif:
        _tiff_block(bytes(exif), head, kind.upper())
    return head


def _header(f: IO[bytes], first: bytes) -> tuple[str, _Header]:
    """The kind of file and what its header gives."""
    kind = sniff(first)
    if kind == "jpeg":
        return kind, _jpeg_header(f, first)
    if kind == "empty":
        return kind, _Header(problems=["empty file (0 bytes)"])
    if kind not in _PILLOW_FORMATS:
        return kind, _Header(problems=[f"not an image: {kind}"])
    return kind, _pillow_header(f, kind)


# --------------------------------------------------------------------------- EXIF tags


def _exif_tags(head: _Header) -> dict[str, Any]:
    """exifread's tags of the header's TIFF structure, with its warnings turned into notes."""
    if head.exif is None:
        return {}
    with _WARNINGS.collecting(head.notes):
        try:
            return exifread.process_file(head.exif, details=False, extract_thumbnail=False)
        except Exception as exc:  # noqa: BLE001
            head.problems.append(f"EXIF unreadable ({type(exc).__name__}: {exc})")
            return {}


def _read_at(fh: IO[bytes], pos: int, n: int) -> bytes:
    """n bytes at pos of a TIFF structure (fewer at its end)."""
    if pos < 0 or n <= 0:
        return b""
    fh.seek(pos)
    return fh.read(n)


_SUB_IFDS = {"IFD0": ((0x8769, "Exif IFD"), (0x8825, "GPS IFD"), (0xA005, "Interop IFD")),
             "IFDn": ((0x8825, "GPS IFD"), (0xA005, "Interop IFD")),
             "Exif IFD": ((0x8825, "GPS IFD"), (0xA005, "Interop IFD"))}
_CHAIN_LIMIT = 16


def _check_ifds(head: _Header) -> None:
    """Name IFDs that point or reach past the end of the EXIF data, and defuse them in memory.

    In an in-memory EXIF block (JPEG, PNG, HEIC…) an IFD's entry count is cut to the entries really
    there, and broken IFD pointers are disabled: exifread would otherwise walk up to 65,535 phantom
    entries (a second a file) or give up on the whole block.
    """
    fh, size = head.exif, head.exif_size
    if fh is None:
        return
    start = _read_at(fh, 0, 8)
    if len(start) < 8:
        head.problems.append(f"truncated EXIF: {len(start)} bytes, too short for a TIFF header")
        return
    e = "<" if start[:2] == b"II" else ">"
    read: Reader = lambda pos, n: _read_at(fh, pos, n)  # noqa: E731
    patches: list[tuple[int, bytes]] = []  # (position, bytes) to write into the in-memory copy

    def entries(name: str, off: int) -> int | None:
        """How many entries of the IFD at off exifread can read; None (and a problem) if none."""
        if off < 8:
            head.problems.append(f"EXIF {name} offset {off} points into the TIFF header")
            return None
        if off + 2 > size:
            head.problems.append(f"truncated EXIF: {name} offset {off:,} beyond the end of the EXIF data "
                                 f"({size:,} bytes)")
            return None
        count = struct.unpack(e + "H", read(off, 2))[0]
        if off + 2 + 12 * count <= size:
            return lost_values(name, off, count)
        fit = (size - off - 2) // 12
        head.problems.append(f"truncated EXIF: {name} at {off:,} declares {count:,} entries, only {fit:,} fit")
        tail = off + 2 + 12 * fit
        patches.extend([(off, struct.pack(e + "H", fit)), (tail, bytes(len(read(tail, 4))))])  # and no next IFD
        return lost_values(name, off, fit)

    def lost_values(name: str, off: int, count: int) -> int:
        """Disable single 8-byte values (rational, double) stored past the end: exifread fails on the whole block
        for one of them (IndexError). Returns count."""
        raw = read(off + 2, 12 * count)
        for i, (tag, typ, n, at) in enumerate(struct.iter_unpack(e + "HHII", raw)):
            if n == 1 and typ in (5, 10, 12) and at + 8 > size:
                head.notes.append(f"EXIF {name} tag 0x{tag:04X}: its value lies past the end of the EXIF data (ignored)")
                patches.append((off + 2 + 12 * i + 4, bytes(4)))  # count 0: exifread then reads nothing
        return count

    def sub_ifds(kind: str, off: int) -> None:
        """Check the IFDs that exifread follows from this one; disable broken pointers."""
        found = ifd_entries(read, off, e)
        for tag, sub in _SUB_IFDS[kind]:
            if tag in found:
                entry = found[tag]
                target = entry_uint(read, e, entry)
                if target is None:
                    head.problems.append(f"EXIF {sub} pointer is malformed (type {entry[0]}, count {entry[1]:,})")
                if target is None or entries(sub, target) is None:
                    patches.append((entry[3], b"\xff\xff"))  # an unknown tag: exifread leaves it alone
                elif sub == "Exif IFD":
                    sub_ifds(sub, target)

    off, chain, link_at = struct.unpack(e + "I", start[4:8])[0], [], 0
    while off and off not in chain and len(chain) < _CHAIN_LIMIT:  # exifread follows next-IFD links (loops it stops)
        count = entries(f"IFD{len(chain)}", off)
        if count is None:
            if chain:
                patches.append((link_at, bytes(4)))
            break
        sub_ifds("IFDn" if chain else "IFD0", off)
        chain.append(off)
        link_at = off + 2 + 12 * count
        link = read(link_at, 4)
        off = struct.unpack(e + "I", link)[0] if len(link) == 4 else 0
    if not chain and off == 0:
        head.problems.append("EXIF has no IFD0 (its offset is 0)")
    elif not chain:  # IFD0 unusable: exifread would walk phantom entries (and their sub-IFDs) out of other bytes
        patches.append((4, bytes(4)))
    if patches and isinstance(fh, io.BytesIO):
        block = bytearray(fh.getvalue())
        for pos, raw in patches:
            block[pos:pos + len(raw)] = raw
        head.exif = io.BytesIO(bytes(block))


def _text(tags: dict[str, Any], key: str) -> str | None:
    """A tag as clean text (ASCII, bytes or numbers alike); None when absent or blank."""
    tag = tags.get(key)
    if tag is None:
        return None
    value = tag.values
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", errors="replace") if value.isascii() else bytes(value).decode("latin-1")
    elif isinstance(value, list):
        if value and all(isinstance(v, int) and 0 <= v < 256 for v in value) and tag.field_type in (1, 7):
            value = bytes(value).decode("latin-1")  # BYTE/UNDEFINED text
        else:
            value = " ".join(str(v) for v in value)
    text = str(value).replace("\x00", " ").strip()
    return text or None


# --------------------------------------------------------------------------- times

_DATE = re.compile(r"(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?"
                   r"(?:[.,](\d+))?\s*(Z|[+-]\d{2}:?\d{2})?", re.ASCII)
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})", re.ASCII)
_GPS_DATE = re.compile(r"(\d{4})[:\-](\d{2})[:\-](\d{2})", re.ASCII)


@lru_cache(maxsize=256)
def _offset(text: str | None) -> timezone | None:
    """A UTC offset such as '+08:00', '-0530' or 'Z'; None if absent or not an offset."""
    if not text:
        return None
    text = text.strip()
    if text == "Z":
        return timezone.utc
    m = _OFFSET.fullmatch(text)
    if not m or int(m[2]) > 14 or int(m[3]) >= 60:
        return None
    delta = timedelta(hours=int(m[2]), minutes=int(m[3]))
    return timezone(-delta if m[1] == "-" else delta)


@lru_cache(maxsize=1024)
def _parse_time(raw: str, subsec: str | None, offset: str | None) -> tuple[pd.Timestamp | None, str | None, str | None]:
    """(Timestamp, offset text used, problem) for an EXIF date text with its SubSec and offset texts."""
    m = _DATE.fullmatch(raw.strip())
    if not m:
        return None, offset, f"{raw!r} is not a date (treated as missing)"
    try:
        when = datetime(int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0))
    except ValueError:
        return None, offset, f"{raw!r} is not a valid date (treated as missing)"
    problem = None
    fraction = m[7]
    if subsec:
        digits = subsec.strip()
        if digits.isascii() and digits.isdigit():
            fraction = digits
        else:
            problem = f"SubSec {subsec!r} is not digits (ignored)"
    if fraction:
        when += timedelta(microseconds=int(fraction[:6].ljust(6, "0")))
    if offset is None and m[8]:
        offset = m[8]  # written inside the date text rather than in an OffsetTime tag
    zone = _offset(offset)
    if offset and zone is None:
        problem = f"offset {offset!r} is not a UTC offset (time left without zone)"
    return pd.Timestamp(when.replace(tzinfo=zone) if zone else when), offset, problem


# --------------------------------------------------------------------------- GPS


def _number(value: Any) -> float | None:
    """A rational, integer, float or numeric text as float; None for n/0 (0/0 counts as 0)."""
    if isinstance(value, tuple):  # exifread keeps FLOAT/DOUBLE values as 1-tuples
        value = value[0] if value else None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    try:  # a Ratio keeps n/0 as numerator and denominator without dividing
        num, den = value.numerator, value.denominator
    except AttributeError:
        return None
    if den == 0:
        return 0.0 if num == 0 else None
    return num / den


def _values(tag: Any) -> list[Any]:
    """A tag's values as a list (numbers in a text tag split out)."""
    values = tag.values
    if isinstance(values, str):
        return values.replace(",", " ").split()
    return values if isinstance(values, list) else [values]


def _degrees(tags: dict[str, Any], axis: str, limit: float, negative: str, notes: list[str]) -> float | None:
    """Signed decimal degrees of GPSLatitude/GPSLongitude from degrees, minutes, seconds and its ref."""
    tag = tags.get("GPS GPS" + axis)
    if tag is None:
        return None
    parts = [_number(v) for v in _values(tag)[:3]]
    if not parts or None in parts:
        notes.append(f"GPS {axis} {tag.printable} has a zero denominator or is not a number (ignored)")
        return None
    value = abs(parts[0])
    if len(parts) > 1:
        value += abs(parts[1]) / 60
    if len(parts) > 2:
        value += abs(parts[2]) / 3600
    ref = _text(tags, "GPS GPS" + axis + "Ref")
    if (ref[:1].upper() == negative) if ref else any(p < 0 for p in parts):
        value = -value
    if value > limit or value < -limit:
        notes.append(f"GPS {axis} {value:.6f} is out of range (ignored)")
        return None
    return value


def _gps_time(tags: dict[str, Any], notes: list[str]) -> pd.Timestamp | None:
    """GPSDateStamp + GPSTimeStamp as a UTC Timestamp."""
    date, stamp = _text(tags, "GPS GPSDate"), tags.get("GPS GPSTimeStamp")
    if not date or stamp is None:
        return None
    hms = [_number(v) for v in _values(stamp)]
    m = _GPS_DATE.fullmatch(date.strip())
    try:
        if m is None or len(hms) != 3 or None in hms:
            raise ValueError
        day = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=timezone.utc)
        return pd.Timestamp(day + timedelta(hours=hms[0], minutes=hms[1], seconds=hms[2]))
    except (ValueError, OverflowError):
        notes.append(f"GPS date/time {date!r} {stamp.printable} is not valid (ignored)")
        return None


def _gps(tags: dict[str, Any], notes: list[str]) -> tuple[float | None, float | None, float | None,
                                                          pd.Timestamp | None]:
    """Latitude, longitude, altitude (negative below sea level) and the GPS clock's UTC time."""
    if "GPS GPSLatitude" not in tags and "GPS GPSLongitude" not in tags and "GPS GPSAltitude" not in tags:
        return None, None, None, _gps_time(tags, notes)
    lat = _degrees(tags, "Latitude", 90, "S", notes)
    lon = _degrees(tags, "Longitude", 180, "W", notes)
    if (lat is None) != (lon is None):
        notes.append("GPS has only one of latitude/longitude (position ignored)")
        lat = lon = None
    if lat == 0 and lon == 0:
        notes.append("GPS position is exactly 0,0: usually no fix")
    if (_text(tags, "GPS GPSStatus") or "").upper().startswith("V"):
        notes.append("GPS status V: the receiver reported no valid fix")
    alt = None
    if "GPS GPSAltitude" in tags:
        alt = _number(_values(tags["GPS GPSAltitude"])[0]) if _values(tags["GPS GPSAltitude"]) else None
        ref = tags.get("GPS GPSAltitudeRef")
        if alt is not None and ref is not None and _values(ref)[:1] == [1]:
            alt = -abs(alt)
    return lat, lon, alt, _gps_time(tags, notes)


# --------------------------------------------------------------------------- serial numbers


def _body_serial(head: _Header, tags: dict[str, Any], make: str | None,
                 model: str | None) -> tuple[str | None, str | None]:
    """The camera body's serial number as text, and which tag it came from."""
    for key, where in (("EXIF BodySerialNumber", "EXIF BodySerialNumber"),
                       ("Image Tag 0xC62F", "DNG CameraSerialNumber")):
        text = _text(tags, key)
        if text:
            return text, where
    exif_ifd = tags.get("Image ExifOffset")
    if head.exif is None or not make or exif_ifd is None or not exif_ifd.values:
        return None, None
    fh = head.exif
    read: Reader = lambda pos, n: _read_at(fh, pos, n)  # noqa: E731
    e = "<" if read(0, 2) == b"II" else ">"
    try:
        note = ifd_entries(read, exif_ifd.values[0], e).get(0x927C)
        found = makernote_serial(read, e, make, model or "", note) if note else None
    except Exception:  # noqa: BLE001 - a damaged MakerNote costs the serial, not the row
        head.notes.append(f"{make} MakerNote is damaged: no serial number read from it")
        return None, None
    return found if found else (None, None)


# --------------------------------------------------------------------------- JPEG quality

_IJG_LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)
_IJG_CHROMINANCE = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32),
)


@lru_cache(maxsize=1)
def ijg_tables() -> np.ndarray:
    """IJG standard tables scaled for quality 1..100 as libjpeg's jpeg_set_quality does, zigzag order (100×2×64)."""
    q = np.arange(1, 101)
    scale = np.where(q < 50, 5000 // q, 200 - 2 * q)
    natural = np.array([_IJG_LUMINANCE, _IJG_CHROMINANCE], dtype=np.int64)
    scaled = np.clip((natural[None] * scale[:, None, None] + 50) // 100, 1, 255)
    zigzag = np.empty_like(scaled)
    zigzag[..., list(ZIGZAG)] = scaled
    return zigzag


@lru_cache(maxsize=4096)
def quantisation_summary(tables: tuple[tuple[int, tuple[int, ...]], ...]) -> tuple[int | None, bool | None, str]:
    """(IJG quality estimate, exact IJG tables?, short hash) of a JPEG's quantisation tables (zigzag order)."""
    digest = hashlib.sha1(repr(tables).encode()).hexdigest()[:16]
    by_slot = dict(tables)
    if 0 not in by_slot:
        return None, None, digest
    ref = ijg_tables()
    distance = np.abs(ref[:, 0] - np.array(by_slot[0])).sum(axis=1)
    if 1 in by_slot:
        distance = distance + np.abs(ref[:, 1] - np.array(by_slot[1])).sum(axis=1)
    best = int(np.argmin(distance))
    return best + 1, bool(distance[best] == 0), digest


# --------------------------------------------------------------------------- rows


def _thumbnail_span(head: _Header, tags: dict[str, Any]) -> tuple[int, int] | None:
    """(offset, length) of the IFD1 JPEG thumbnail inside the TIFF structure, if it is really there."""
    start, length = tags.get("Thumbnail JPEGInterchangeFormat"), tags.get("Thumbnail JPEGInterchangeFormatLength")
    if head.exif is None or start is None or length is None or not start.values or not length.values:
        return None
    off, size = start.values[0], length.values[0]
    if not isinstance(off, int) or not isinstance(size, int) or size < 4 or off + size > head.exif_size:
        return None
    return (off, size) if _read_at(head.exif, off, 2) == b"\xff\xd8" else None


def _read(f: IO[bytes]) -> tuple[str, _Header, dict[str, Any]]:
    """Kind, header and EXIF tags of an open file."""
    kind, head = _header(f, f.read(HEADER_READ))
    _check_ifds(head)
    return kind, head, _exif_tags(head)


def _fill(row: dict[str, Any], f: IO[bytes], notes: list[str]) -> None:
    """Fill a row from an open file."""
    kind, head, tags = _read(f)
    for column, key in (("make", "Image Make"), ("model", "Image Model"), ("software", "Image Software"),
                        ("lens_make", "EXIF LensMake"), ("lens_model", "EXIF LensModel"),
                        ("lens_serial", "EXIF LensSerialNumber")):
        row[column] = _text(tags, key)
    row["body_serial"], row["body_serial_source"] = _body_serial(head, tags, row["make"], row["model"])
    for column, raw_column, offset_column, key, subsec_key, offset_key in _TIMES:
        raw = _text(tags, key)
        row[raw_column] = raw
        offset = _text(tags, offset_key)
        if raw is None:
            row[offset_column] = offset
            continue
        row[column], row[offset_column], problem = _parse_time(raw, _text(tags, subsec_key), offset)
        if problem:
            notes.append(f"{key.split()[-1]} {problem}")
    original = row["datetime_original"]
    if original is not None and original.tzinfo is not None:
        row["datetime_original_utc"] = original.tz_convert(timezone.utc)
    row["gps_lat"], row["gps_lon"], row["gps_alt"], row["gps_datetime_utc"] = _gps(tags, notes)
    orientation = head.orientation
    if orientation is None and "Image Orientation" in tags:
        values = tags["Image Orientation"].values
        orientation = values[0] if isinstance(values, list) and values else None
    if orientation is not None and orientation not in range(1, 9):
        notes.append(f"Orientation {orientation!r} is not 1–8 (ignored)")
        orientation = None
    row["orientation"] = orientation
    w, h = head.width, head.height
    if kind == "tiff":  # IFD0's own numbers are the stored size (Pillow 13 reports TIFF sizes already turned)
        stored = [_values(tags[k])[:1] for k in ("Image ImageWidth", "Image ImageLength") if k in tags]
        if len(stored) == 2 and all(v and isinstance(v[0], int) for v in stored):
            w, h = stored[0][0], stored[1][0]
    row["width"], row["height"] = w, h
    turned = orientation in (5, 6, 7, 8) and not head.displayed
    row["oriented_width"], row["oriented_height"] = (h, w) if turned else (w, h)
    if kind == "jpeg" and w and h and w * h > 2 * Image.MAX_IMAGE_PIXELS:
        head.problems.append(f"decompression bomb: {w:,}×{h:,} = {w * h:,} pixels declared, "
                             f"Pillow refuses above {2 * Image.MAX_IMAGE_PIXELS:,}")
    if head.tables:
        key = tuple(sorted(head.tables.items()))
        row["jpeg_quality"], row["jpeg_standard_tables"], row["quant_tables"] = quantisation_summary(key)
    row["thumbnail"] = _thumbnail_span(head, tags) is not None
    row["has_xmp"] = head.xmp if head.xmp is not None else ("Image ApplicationNotes" in tags)
    notes[:0] = head.notes
    if head.problems:
        row["error"] = "; ".join(head.problems)


def _describe(exc: BaseException) -> str:
    """A short, specific error text for an exception out of a file's reading."""
    if isinstance(exc, MemoryError):
        return "out of memory while reading the header (declared sizes far too large)"
    if isinstance(exc, RecursionError):
        return "structure nests or loops too deeply to read"
    return short_error(exc)


def metadata_row(path: PathLike | bytes) -> dict[str, Any]:
    """One file's metadata as a dict keyed by METADATA_COLUMNS; never raises (problems go to `error`)."""
    row: dict[str, Any] = dict.fromkeys(METADATA_COLUMNS)
    row["path"] = os.fsdecode(path)
    notes: list[str] = []
    try:
        with open_readonly(path) as f:
            _fill(row, f, notes)
    except Exception as exc:  # noqa: BLE001 - a batch must survive any one file, MemoryError included
        row["error"] = _describe(exc)
    row["notes"] = "; ".join(notes[:_MAX_NOTES]) or None
    return row


def typed_metadata_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The same dtypes for the metadata columns present whatever the rows hold, so tables stack and save alike.

    Changes `df` in place and returns it; vidlab.scan types its inventory parts with it.
    """
    for columns, dtype in ((_INT_COLUMNS, "Int64"), (_BOOL_COLUMNS, "boolean"), (_FLOAT_COLUMNS, "float64")):
        for column in columns:
            if column in df:
                df[column] = df[column].astype(dtype)
    for column in _UTC_COLUMNS:
        if column in df:
            df[column] = pd.to_datetime(df[column], utc=True).astype("datetime64[us, UTC]")
    # aware and naive Timestamps side by side: only object columns can hold both
    return _as_objects(df, [column for column, *_ in _TIMES] + list(_TEXT_COLUMNS))


def _as_objects(df: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Columns as Python objects with None for missing (not pandas' str dtype with NaN, nor NaT)."""
    for column in columns:
        if column in df:
            df[column] = df[column].astype(object).where(df[column].notna(), None)
    return df


def metadata_table(paths: Iterable[PathLike | bytes], progress: bool | None = None) -> pd.DataFrame:
    """One row per path, always (errors included), columns METADATA_COLUMNS; a progress bar for long lists."""
    paths = list(paths)
    rows = []
    with progress_bar(progress, len(paths), "metadata") as bar:
        for path in paths:
            rows.append(metadata_row(path))
            bar.update()
    # object columns first: pandas' default text dtype cannot hold the undecodable bytes of odd file names
    columns = {c: pd.Series([row[c] for row in rows], dtype=object) for c in METADATA_COLUMNS}
    return typed_metadata_frame(pd.DataFrame(columns))


# --------------------------------------------------------------------------- single values


def thumbnail_bytes(path: PathLike) -> bytes | None:
    """The JPEG thumbnail stored in EXIF IFD1 (JPEGInterchangeFormat), or None; evidence is only read."""
    with open_readonly(path) as f:
        _kind, head, tags = _read(f)
        span = _thumbnail_span(head, tags)
        return _read_at(head.exif, *span) if span and head.exif is not None else None


def quantisation_tables(path: PathLike) -> dict[int, list[int]]:
    """A JPEG's quantisation tables by slot, 64 values each in natural (row-major) order; {} for other files."""
    with open_readonly(path) as f:
        first = f.read(HEADER_READ)
        tables = _jpeg_header(f, first).tables if sniff(first) == "jpeg" else {}
    return {slot: [zigzag[z] for z in ZIGZAG] for slot, zigzag in sorted(tables.items())}


# --------------------------------------------------------------------------- Parquet


def _wall_clock(value: Any) -> Any:
    """The local clock reading of a Timestamp (its zone dropped); None stays None."""
    if value is None or value is pd.NaT:
        return None
    return value.tz_localize(None) if value.tzinfo is not None else value


def to_parquet(df: pd.DataFrame, path: PathLike) -> None:
    """Write a metadata table (or any table holding its columns) to Parquet; read it back with read_parquet."""
    out = df.copy()
    for column, *_ in _TIMES:
        if column in out:
            out[column] = pd.to_datetime(out[column].map(_wall_clock)).astype("datetime64[us]")
    if "path" in out:
        # Parquet text is UTF-8 only: undecodable bytes of odd file names become \xNN escapes
        out["path"] = out["path"].map(lambda path: printable_path(path) if isinstance(path, str) else path)
    out.to_parquet(path, engine="pyarrow", index=False)


def read_parquet(path: PathLike) -> pd.DataFrame:
    """A table written by to_parquet, with each datetime* column aware again where its offset is known."""
    df = pd.read_parquet(path, engine="pyarrow")
    for column, _raw, offset_column, *_ in _TIMES:
        if column not in df:
            continue
        offsets = df[offset_column] if offset_column in df else pd.Series(None, index=df.index)
        values = []
        for local, text in zip(df[column], offsets):
            if pd.isna(local):
                values.append(None)
                continue
            zone = _offset(text if isinstance(text, str) else None)
            values.append(pd.Timestamp(local.to_pydatetime().replace(tzinfo=zone)) if zone else pd.Timestamp(local))
        df[column] = pd.Series(values, index=df.index, dtype=object)
    return _as_objects(df, _TEXT_COLUMNS)
