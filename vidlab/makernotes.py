"""Camera serial numbers from MakerNotes, read straight from the bytes of a TIFF/EXIF structure.

exifread is used with ``details=False`` (its MakerNote decoding costs 5–190 ms a file and misreads
some Nikon serials), so the serial numbers Canon, Nikon, Olympus/OM System, Fujifilm and Panasonic
keep in their MakerNotes are read here, from the IFD entries themselves. ``ifd_entries`` and
``entry_uint`` are also how vidlab.metadata checks an EXIF block's IFDs before exifread reads it.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

__all__ = ["Reader", "Entry", "ifd_entries", "entry_uint", "makernote_serial"]

# Bytes per value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, … IFD).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
#: Reads n bytes at a position of a TIFF structure (fewer at its end): read(position, n).
Reader = Callable[[int, int], bytes]
#: One IFD entry: type, count, 4-byte value field, position of the entry.
Entry = tuple[int, int, bytes, int]


def ifd_entries(read: Reader, off: int, e: str) -> dict[int, Entry]:
    """Tag → (type, count, 4-byte value field, entry position) of one IFD; {} when it cannot be read."""
    count = read(off, 2)
    if len(count) < 2:
        return {}
    n = min(struct.unpack(e + "H", count)[0], 1000)
    raw = read(off + 2, 12 * n)
    entries: dict[int, Entry] = {}
    for i, (tag, typ, cnt, value) in enumerate(struct.iter_unpack(e + "HHI4s", raw[:len(raw) - len(raw) % 12])):
        entries.setdefault(tag, (typ, cnt, value, off + 2 + 12 * i))
    return entries


def _entry_bytes(read: Reader, e: str, entry: Entry) -> bytes:
    """The value bytes of an IFD entry (inline or at its offset), at most 4 KiB."""
    typ, cnt, value, _ = entry
    size = cnt * _TYPE_SIZES.get(typ, 1)
    if size <= 4:
        return value[:size]
    return read(struct.unpack(e + "I", value)[0], min(size, 4096))


def _entry_text(read: Reader, e: str, entry: Entry | None) -> str | None:
    """An IFD entry as text, without padding NULs, spaces or 0xFF fill."""
    if entry is None:
        return None
    text = _entry_bytes(read, e, entry).lstrip(b"\x00 ").split(b"\x00", 1)[0].rstrip(b"\xff ").strip()
    return text.decode("latin-1") or None


def entry_uint(read: Reader, e: str, entry: Entry | None) -> int | None:
    """The value of a single SHORT/LONG/IFD entry."""
    if entry is None or entry[0] not in (3, 4, 13) or entry[1] != 1:
        return None
    raw = _entry_bytes(read, e, entry)
    fmt = "H" if entry[0] == 3 else "I"
    return struct.unpack_from(e + fmt, raw)[0] if len(raw) >= struct.calcsize(fmt) else None


def _canon_serial(value: int, model: str) -> str:
    """Canon's numeric SerialNumber as the camera prints it (exiftool's convention)."""
    if re.search(r"EOS D30\b", model):
        return f"{value >> 16:04x}{value & 0xFFFF:05d}"
    return f"{value:06d}" if "EOS-1D" in model else f"{value:010d}"


def _relative(read: Reader, base: int) -> Reader:
    """A reader whose offsets count from base (MakerNotes with their own origin)."""
    return lambda pos, n: read(base + pos, n)


def makernote_serial(read: Reader, e: str, make: str, model: str, note: Entry) -> tuple[str, str] | None:
    """(serial, where it was found) from the MakerNote entry of the makes whose notes carry one; None otherwise.

    `e` is the byte order of the EXIF block ('<' or '>'); a damaged MakerNote may raise (struct.error…).
    """
    if note[1] <= 4:
        return None
    at = struct.unpack(e + "I", note[2])[0]
    sig = read(at, 18)
    maker = make.upper()
    if maker.startswith("CANON"):
        ifd = ifd_entries(read, at, e)
        number = entry_uint(read, e, ifd.get(0x000C))
        if number:
            return _canon_serial(number, model), "Canon MakerNote SerialNumber"
        text = _entry_text(read, e, ifd.get(0x0096))
        return (text, "Canon MakerNote InternalSerialNumber") if text else None
    if "NIKON" in maker:
        if sig.startswith(b"Nikon\x00\x01"):
            return None  # type 1 notes (early Coolpix) have no serial tag
        if sig.startswith(b"Nikon\x00\x02"):  # own TIFF header 10 bytes in, offsets from it
            ie = "<" if sig[10:12] == b"II" else ">"
            rd = _relative(read, at + 10)
            ifd = ifd_entries(rd, struct.unpack(ie + "I", sig[14:18])[0], ie)
        else:
            ie, rd, ifd = e, read, ifd_entries(read, at, e)
        for tag in (0x001D, 0x00A0):
            text = _entry_text(rd, ie, ifd.get(tag))
            if text:
                return re.sub(r"^NO=\s*", "", text, flags=re.I), "Nikon MakerNote SerialNumber"
        return None
    if maker.startswith(("OLYMPUS", "OM DIGITAL")):
        if sig.startswith(b"OLYMPUS\x00") or sig.startswith(b"OM SYSTEM\x00"):
            start = 12 if sig.startswith(b"OLYMPUS") else 16
            ie = "<" if sig[start - 4:start - 2] == b"II" else ">"
            rd, main = _relative(read, at), ifd_entries(_relative(read, at), start, ie)
        elif sig.startswith(b"OLYMP\x00"):
            ie, rd, main = e, read, ifd_entries(read, at + 8, e)
        else:
            return None
        equipment = entry_uint(rd, ie, main.get(0x2010))
        if equipment:
            text = _entry_text(rd, ie, ifd_entries(rd, equipment, ie).get(0x0101))
            if text:
                return text, "Olympus MakerNote SerialNumber"
        return None
    if maker.startswith("FUJIFILM") and sig.startswith(b"FUJIFILM"):
        rd = _relative(read, at)
        text = _entry_text(rd, "<", ifd_entries(rd, struct.unpack("<I", sig[8:12])[0], "<").get(0x0010))
        return (text, "Fujifilm MakerNote InternalSerialNumber") if text else None
    if maker.startswith("PANASONIC") and sig.startswith(b"Panasonic\x00\x00\x00"):
        text = _entry_text(read, e, ifd_entries(read, at + 12, e).get(0x0025))
        return (text, "Panasonic MakerNote InternalSerialNumber") if text else None
    return None
