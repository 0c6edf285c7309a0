"""What is inside a file, byte by byte: segments, chunks, boxes and IFDs, and whether the file is whole.

The walkers read evidence read-only (memory-mapped where possible) and never raise because
of malformed content: a broken file is described, not rejected. The one deliberate error is
a ``ValueError("not a JPEG: ...")``-style message when a walker is handed the wrong kind of
file. Which kind a file is comes from ``vidlab.evidence`` (signatures); this module shows
how a file of that kind is built.
"""

from __future__ import annotations

import mmap
import os
import re
import stat
import struct
import zlib
from collections.abc import Container, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, TYPE_CHECKING

from vidlab.evidence import BIGTIFF_MAGICS, SNIFF_BYTES, TIFF_MAGICS, PathLike, identify, open_readonly, sniff

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "Segment",
    "jpeg_segments",
    "jpeg_header_segments",
    "png_chunks",
    "bmff_boxes",
    "tiff_header",
    "structure",
    "is_complete",
    "hex_view",
    "register_heif_opener",
    "refuse_bomb",
]

Source = str | os.PathLike[str] | bytes | bytearray | memoryview
Buffer = bytes | mmap.mmap  # what the walkers read: bytes given, or a file mapped read-only

#: Walkers stop (with a note) after this many entries, so a hostile file cannot exhaust memory.
MAX_SEGMENTS = 100_000


@dataclass(frozen=True)
class Segment:
    """One structural piece of a file: where it starts, what it is, how long it is."""

    offset: int
    marker: str
    name: str
    length: int
    note: str = ""

    @property
    def end(self) -> int:
        """Offset just past this segment."""
        return self.offset + self.length


# --------------------------------------------------------------------------- reading


@contextmanager
def _buffer(source: Source) -> Iterator[Buffer]:
    """Bytes of a source: the bytes themselves, or a read-only memory map of the file."""
    if isinstance(source, bytes):
        yield source
        return
    if isinstance(source, (bytearray, memoryview)):
        yield bytes(source)
        return
    with open_readonly(source) as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):  # e.g. a whole disk: never slurp it
            raise OSError(f"structure walking needs a regular file: {os.fspath(source)}")
        if st.st_size == 0:
            yield b""
            return
        try:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            mapped = None
        if mapped is None:
            yield f.read()
            return
        try:
            yield mapped
        finally:
            mapped.close()


def _hex(b: bytes) -> str:
    """Bytes as spaced upper-case hex, e.g. 'FF D8 FF'."""
    return " ".join(f"{x:02X}" for x in b)


def _u16be(d: Buffer, p: int) -> int:
    return (d[p] << 8) | d[p + 1]


def _u16le(d: Buffer, p: int) -> int:
    return d[p] | (d[p + 1] << 8)


def _u32be(d: Buffer, p: int) -> int:
    return struct.unpack(">I", d[p:p + 4])[0]


def _u32le(d: Buffer, p: int) -> int:
    return struct.unpack("<I", d[p:p + 4])[0]


def _stopped(segs: list[Segment], pos: int, n: int, unit: str) -> bool:
    """Whether a walk has MAX_SEGMENTS entries already; if so, the rest of the file is recorded as not walked."""
    if len(segs) < MAX_SEGMENTS:
        return False
    segs.append(Segment(pos, "", "stopped", n - pos, f"walk stopped after {MAX_SEGMENTS:,} {unit}"))
    return True


def _ascii(b: bytes, limit: int = 60) -> str:
    """Printable rendering of a short byte string for notes."""
    text = b.decode("utf-8", errors="replace")
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- JPEG

_SOF_NAMES = {
    0xC0: "baseline DCT", 0xC1: "extended sequential DCT", 0xC2: "progressive DCT",
    0xC3: "lossless", 0xC5: "differential sequential DCT", 0xC6: "differential progressive DCT",
    0xC7: "differential lossless", 0xC9: "extended sequential DCT, arithmetic",
    0xCA: "progressive DCT, arithmetic", 0xCB: "lossless, arithmetic",
    0xCD: "differential sequential DCT, arithmetic", 0xCE: "differential progressive DCT, arithmetic",
    0xCF: "differential lossless, arithmetic",
}
_JPEG_NAMES = {
    0x01: "TEM", 0xC4: "DHT", 0xC8: "JPG", 0xCC: "DAC", 0xD8: "SOI", 0xD9: "EOI", 0xDA: "SOS",
    0xDB: "DQT", 0xDC: "DNL", 0xDD: "DRI", 0xDE: "DHP", 0xDF: "EXP", 0xFE: "COM",
}
_STANDALONE = frozenset({0x01, 0xD8, 0xD9, *range(0xD0, 0xD8)})
#: Frame header markers (SOF0–SOF15 but DHT, JPG and DAC): the segment that gives a JPEG's size and coding.
SOF_CODES = frozenset(_SOF_NAMES)
#: How an APP1 segment holding XMP starts.
XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"
# A real segment marker: FF then TEM or C0..FE except the restarts (not a stuffed 00, a fill FF,
# a restart marker, or FF 02..BF, which never occurs in valid data and means corruption).
_NEXT_MARKER = re.compile(rb"\xff[\x01\xc0-\xcf\xd8-\xfe]")
_RESTART = re.compile(rb"\xff[\xd0-\xd7]")
_INVALID = re.compile(rb"\xff[\x02-\xbf]")
_APP_IDS = (
    (b"Exif\x00", "Exif"),
    (XMP_ID, "XMP"),
    (b"http://ns.adobe.com/xmp/extension/\x00", "XMP extension"),
    (b"ICC_PROFILE\x00", "ICC_PROFILE"),
    (b"JFIF\x00", "JFIF"),
    (b"JFXX\x00", "JFXX"),
    (b"MPF\x00", "MPF"),
    (b"Photoshop 3.0\x00", "Photoshop 3.0"),
    (b"Adobe", "Adobe"),
    (b"Ducky", "Ducky"),
    (b"FPXR\x00", "FPXR"),
)


def _marker_name(code: int) -> str:
    """Short JPEG marker name, e.g. SOF0, APP1, RST3."""
    if code in _SOF_NAMES:
        return f"SOF{code - 0xC0}"
    if 0xD0 <= code <= 0xD7:
        return f"RST{code - 0xD0}"
    if 0xE0 <= code <= 0xEF:
        return f"APP{code - 0xE0}"
    if 0xF0 <= code <= 0xFD:
        return f"JPG{code - 0xF0}"
    return _JPEG_NAMES.get(code, "reserved")


def _subsampling(components: list[tuple[int, int, int]]) -> str:
    """Chroma subsampling label from (id, h, v) sampling factors, e.g. '4:2:0'."""
    if len(components) != 3:
        return ""
    (_, h0, v0), (_, h1, v1), (_, h2, v2) = components
    if (h1, v1) != (h2, v2) or h1 == 0 or v1 == 0:
        return "unusual sampling"
    ratio = (h0 // h1 if h0 % h1 == 0 else 0, v0 // v1 if v0 % v1 == 0 else 0)
    return {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (1, 2): "4:4:0", (4, 1): "4:1:1"}.get(
        ratio, f"sampling {h0}x{v0},{h1}x{v1},{h2}x{v2}"
    )


def _jpeg_note(code: int, p: bytes) -> str:
    """What a JPEG segment's payload says, in a few words."""
    try:
        if 0xE0 <= code <= 0xEF:
            for prefix, label in _APP_IDS:
                if p.startswith(prefix):
                    if label == "ICC_PROFILE" and len(p) >= 14:
                        return f"ICC_PROFILE {p[12]}/{p[13]}" if p[13] > 1 else "ICC_PROFILE"
                    return label
            if p[:2] in (b"II", b"MM") and p[6:14] == b"HEAPJPGM":
                return "CIFF (Canon)"
            ident = p[: p.find(b"\x00")] if b"\x00" in p[:40] else p[:0]
            if 2 <= len(ident) <= 40 and all(0x20 <= b < 0x7F for b in ident):
                return ident.decode("ascii").strip()
            return ""
        if code in _SOF_NAMES:
            precision, height, width, nf = p[0], _u16be(p, 1), _u16be(p, 3), p[5]
            comps = [(p[6 + 3 * i], p[7 + 3 * i] >> 4, p[7 + 3 * i] & 15) for i in range(nf) if 7 + 3 * i < len(p)]
            note = f"{_SOF_NAMES[code]} {width}×{height}, {nf} component{'s' if nf != 1 else ''}"
            if precision != 8:
                note += f", {precision}-bit"
            sub = _subsampling(comps)
            return f"{note}, {sub}" if sub else note
        if code == 0xDB:
            tables, i = [], 0
            while i < len(p):
                pq, tq = p[i] >> 4, p[i] & 15
                tables.append(f"{tq}" + (" (16-bit)" if pq else ""))
                i += 1 + (128 if pq else 64)
            return "table" + ("s " if len(tables) > 1 else " ") + ", ".join(tables)
        if code == 0xC4:
            tables, i = [], 0
            while i + 17 <= len(p):
                tc, th = p[i] >> 4, p[i] & 15
                tables.append(f"{'AC' if tc else 'DC'}{th}")
                i += 17 + sum(p[i + 1:i + 17])
            return ", ".join(tables)
        if code == 0xDA:
            ns = p[0]
            ids = [str(p[1 + 2 * k]) for k in range(ns)]
            ss, se, ah_al = p[1 + 2 * ns], p[2 + 2 * ns], p[3 + 2 * ns]
            return f"components {','.join(ids)}; spectral {ss}–{se}; approx {ah_al >> 4}/{ah_al & 15}"
        if code == 0xDD:
            return f"restart every {_u16be(p, 0)} MCUs"
        if code == 0xFE:
            return _ascii(p)
    except (IndexError, struct.error):
        return "malformed"
    return ""


def _trailing_note(data: Buffer, pos: int) -> str:
    """Describe bytes found after a format's proper end."""
    count = len(data) - pos
    head = bytes(data[pos:pos + SNIFF_BYTES])
    if head.startswith(b"\xff\xd8\xff"):
        what = "another JPEG (SOI) follows, e.g. an MPF preview or an appended image"
    elif not head.strip(b"\x00"):
        what = "zero padding" if count <= len(head) else "starts with zero bytes"
    else:
        kind = sniff(head)
        what = f"looks like {kind}" if kind not in ("unknown", "empty") else "unidentified data"
        soi = data.find(b"\xff\xd8\xff", pos)
        if soi >= 0:
            what += f"; a JPEG SOI (FF D8 FF) at {soi:,}"
    return f"{count:,} byte{'s' if count != 1 else ''} after the end: {what}"


def _junk_until_marker(data: Buffer, start: int, segs: list[Segment]) -> int | None:
    """Record bytes that belong to no segment up to the next real marker; its position, or None at EOF."""
    nxt = _NEXT_MARKER.search(data, start)
    stop = nxt.start() if nxt else len(data)
    if stop > start:
        segs.append(Segment(start, "", "junk", stop - start, f"{stop - start:,} bytes outside any segment"))
    return stop if nxt else None


def _scan_note(data: Buffer, start: int, stop: int) -> str:
    """Restart markers and corruption found in entropy-coded data."""
    note = ""
    restarts = sum(1 for _ in _RESTART.finditer(data, start, stop))
    if restarts:
        note += f"; {restarts:,} restart markers"
    bad, first = 0, -1
    for m in _INVALID.finditer(data, start, stop):
        bad, first = bad + 1, first if bad else m.start()
    if bad:
        note += f"; corrupt: {bad:,} invalid FFxx sequence{'s' if bad > 1 else ''} in scan data, first at {first:,}"
    return note


def _walk_jpeg(data: Buffer) -> list[Segment]:
    """Marker-by-marker walk of a JPEG held in memory or mapped."""
    n = len(data)
    if bytes(data[:2]) != b"\xff\xd8":
        raise ValueError(f"not a JPEG: starts with {_hex(bytes(data[:4])) or 'nothing'} (a JPEG starts FF D8)")
    segs = [Segment(0, "FFD8", "SOI", 2, "")]
    pos: int | None = 2
    while pos is not None and pos < n:
        if _stopped(segs, pos, n, "segments"):
            break
        m = pos
        while m < n and data[m] == 0xFF:  # the marker's FF, possibly after fill FFs
            m += 1
        if m == pos:  # not at a marker at all
            pos = _junk_until_marker(data, pos, segs)
            continue
        if m >= n:
            segs.append(Segment(pos, "", "truncated", n - pos, "truncated: file ends inside a marker"))
            break
        mpos, code = m - 1, data[m]
        if code == 0x00 or 0x02 <= code <= 0xBF:  # stuffed byte or invalid code: damage, not a marker
            pos = _junk_until_marker(data, pos, segs)
            continue
        fill = mpos - pos
        marker, name = f"FF{code:02X}", _marker_name(code)
        fill_note = f"after {fill} fill bytes" if fill else ""
        if code in _STANDALONE:
            segs.append(Segment(mpos, marker, name, 2, fill_note))
            pos = mpos + 2
            if code == 0xD9:
                if pos < n:
                    segs.append(Segment(pos, "", "trailing", n - pos, _trailing_note(data, pos)))
                break
            continue
        if mpos + 4 > n:
            segs.append(Segment(mpos, marker, name, n - mpos, "truncated: file ends inside the length field"))
            break
        seg_len = _u16be(data, mpos + 2)
        if seg_len < 2:
            segs.append(Segment(mpos, marker, name, 4, f"bogus length {seg_len}" + (f" ({fill_note})" if fill else "")))
            pos = _junk_until_marker(data, mpos + 4, segs)
            continue
        end = mpos + 2 + seg_len
        if end > n:
            segs.append(Segment(mpos, marker, name, n - mpos,
                                f"truncated: declares {seg_len:,} bytes, only {n - mpos - 2:,} left"))
            break
        wanted = seg_len - 2 if (code in _SOF_NAMES or code in (0xC4, 0xDB, 0xDA, 0xDD)) else min(seg_len - 2, 64)
        note = _jpeg_note(code, bytes(data[mpos + 4:mpos + 4 + wanted])) + (f" ({fill_note})" if fill else "")
        if code != 0xDA:
            segs.append(Segment(mpos, marker, name, seg_len + 2, note))
            pos = end
            continue
        nxt = _NEXT_MARKER.search(data, end)  # the scan runs to the next real marker
        scan_end = nxt.start() if nxt else n
        note += _scan_note(data, end, scan_end)
        if nxt is None:
            segs.append(Segment(mpos, marker, name, n - mpos,
                                f"truncated: scan data runs to the end of the file; {note}"))
            break
        segs.append(Segment(mpos, marker, name, scan_end - mpos, note))
        pos = scan_end
    return segs


def jpeg_segments(source: Source) -> list[Segment]:
    """The markers of a JPEG from SOI on (SOS spans its scan data); describes damage, never raises on it."""
    with _buffer(source) as data:
        return _walk_jpeg(data)


#: Bytes per read when walking a picture's header: one read covers most JPEG headers (camera ones with big EXIF
#: take two).
HEADER_READ = 1 << 14
#: Header walks stop here: a picture with no image data in its first 16 MiB is not a photo.
HEADER_LIMIT = 16 << 20


def jpeg_header_segments(f: IO[bytes], first: bytes, wanted: Container[int],
                         problems: list[str]) -> Iterator[tuple[int, int, bytes, int]]:
    """(offset, marker code, body, declared body length) of each `wanted` segment before a JPEG's image data.

    The fast walk for metadata: `first` is what was already read of `f` (from SOI on) and `f` is read on
    only up to the first scan (SOS). A body shorter than declared means the file ends inside it; the walk
    stops there. Damage to the marker structure ends the walk and is described in `problems`.
    """
    data = first
    pos, last = 2, ""
    while True:
        if pos + 4 > len(data) and len(data) < HEADER_LIMIT:
            data += f.read(max(pos + 4 - len(data), HEADER_READ))
        if pos + 4 > len(data):
            if pos >= HEADER_LIMIT:
                problems.append(f"no image data in the first {HEADER_LIMIT >> 20} MiB of the JPEG")
            elif pos > len(data):
                problems.append(f"truncated or corrupt: {last} runs past the end of the file ({len(data):,} bytes)")
            else:
                problems.append(f"truncated: file ends at {len(data):,} bytes, inside the JPEG header")
            return
        if data[pos] != 0xFF:
            problems.append(f"JPEG header broken at offset {pos:,}: byte {data[pos]:02X} where a marker belongs")
            return
        code = data[pos + 1]
        if code == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if code in (0xDA, 0xD9):  # start of scan (or an early end): the header is over
            return
        if code in _STANDALONE:
            pos += 2
            continue
        length = (data[pos + 2] << 8) | data[pos + 3]
        end = pos + 2 + length
        if length < 2:
            problems.append(f"JPEG header broken at offset {pos:,}: segment length {length}")
            return
        if code not in wanted:
            pos, last = end, f"segment FF{code:02X} at {pos:,} ({length:,} bytes)"
            continue  # skipped unread; the next marker read brings in the bytes between
        if end > len(data):
            data += f.read(end - len(data))
        yield pos, code, data[pos + 4:end], length - 2
        if end > len(data):
            return
        pos = end


# --------------------------------------------------------------------------- PNG

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_COLOURS = {0: "greyscale", 2: "RGB", 3: "palette", 4: "greyscale+alpha", 6: "RGBA"}


def _png_note(ctype: bytes, p: bytes) -> str:
    """What a PNG chunk says, in a few words."""
    try:
        if ctype == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", p[:13])
            note = f"{w}×{h}, {depth}-bit {_PNG_COLOURS.get(colour, f'colour type {colour}')}"
            return note + (", interlaced" if interlace else "")
        if ctype in (b"tEXt", b"zTXt", b"iTXt", b"iCCP"):
            return _ascii(p.split(b"\x00", 1)[0], 79)
        if ctype == b"eXIf":
            return "Exif"
        if ctype == b"PLTE":
            return f"{len(p) // 3} colours"
        if ctype == b"tIME":
            y, mo, d, hh, mi, ss = struct.unpack(">HBBBBB", p[:7])
            return f"{y:04d}-{mo:02d}-{d:02d} {hh:02d}:{mi:02d}:{ss:02d}"
        if ctype == b"pHYs":
            x, y, unit = struct.unpack(">IIB", p[:9])
            return f"{x}×{y} px/m ({x * 0.0254:.0f} dpi)" if unit == 1 else f"{x}:{y} aspect"
        if ctype == b"acTL":
            return f"animated, {_u32be(p, 0)} frames"
    except (IndexError, struct.error):
        return "malformed"
    return ""


def _walk_png(data: Buffer) -> list[Segment]:
    """Chunk-by-chunk walk of a PNG with CRC checks."""
    n = len(data)
    if bytes(data[:8]) != _PNG_SIGNATURE:
        raise ValueError(f"not a PNG: starts with {_hex(bytes(data[:8])) or 'nothing'} (a PNG starts 89 50 4E 47)")
    segs: list[Segment] = []
    pos = 8
    while pos < n:
        if _stopped(segs, pos, n, "chunks"):
            break
        if n - pos < 8:
            segs.append(Segment(pos, "", "truncated", n - pos, "truncated: file ends inside a chunk header"))
            break
        size, ctype = _u32be(data, pos), bytes(data[pos + 4:pos + 8])
        marker = ctype.hex().upper()
        if not ctype.isalpha():
            segs.append(Segment(pos, marker, "junk", n - pos, f"not a chunk (type bytes {_hex(ctype)}); walk stopped"))
            break
        name = ctype.decode("ascii")
        if size > 0x7FFFFFFF:
            segs.append(Segment(pos, marker, name, n - pos, f"bogus length {size:,}; walk stopped"))
            break
        end = pos + 12 + size
        if end > n:
            segs.append(Segment(pos, marker, name, n - pos,
                                f"truncated: declares {size:,} data bytes, only {max(0, n - pos - 8):,} left"))
            break
        body = bytes(data[pos + 8:pos + 8 + size])
        note = _png_note(ctype, body[:4096])
        if zlib.crc32(body, zlib.crc32(ctype)) != _u32be(data, pos + 8 + size):
            note = f"{note}; bad CRC" if note else "bad CRC"
        segs.append(Segment(pos, marker, name, size + 12, note))
        pos = end
        if ctype == b"IEND":
            if pos < n:
                segs.append(Segment(pos, "", "trailing", n - pos, _trailing_note(data, pos)))
            break
    return segs


def png_chunks(source: Source) -> list[Segment]:
    """The chunks of a PNG (after its 8-byte signature), CRC-checked; stops at damage."""
    with _buffer(source) as data:
        return _walk_png(data)


# --------------------------------------------------------------------------- ISO-BMFF


def _fourcc_ok(t: bytes) -> bool:
    """Whether four bytes can be a box type."""
    return len(t) == 4 and all(0x20 <= b < 0x7F or b == 0xA9 for b in t)


def _bmff_note(typ: bytes, data: Buffer, pos: int, hdr: int, size: int) -> str:
    """What a top-level box says, in a few words."""
    body = bytes(data[pos + hdr:pos + min(size, hdr + 512)])
    if typ == b"ftyp" and len(body) >= 8:
        major = body[:4].decode("latin-1")
        compat = [body[i:i + 4].decode("latin-1") for i in range(8, len(body) - 3, 4)]
        return f"major brand {major}" + (f", compatible: {', '.join(compat)}" if compat else "")
    if typ == b"meta" and len(body) >= 20 and body[8:12] == b"hdlr":
        return f"handler {body[20:24].decode('latin-1')}" if len(body) >= 24 else ""
    return ""


def _walk_bmff(data: Buffer) -> list[Segment]:
    """Top-level box walk of an ISO base media file (HEIC, AVIF, MP4, MOV)."""
    n = len(data)
    if n < 8 or not _fourcc_ok(bytes(data[4:8])):
        raise ValueError(f"not an ISO-BMFF file: starts with {_hex(bytes(data[:8])) or 'nothing'}")
    segs: list[Segment] = []
    pos = 0
    while pos < n:
        if _stopped(segs, pos, n, "boxes"):
            break
        if n - pos < 8:
            segs.append(Segment(pos, "", "truncated", n - pos, "truncated: too short for a box header"))
            break
        size, typ = _u32be(data, pos), bytes(data[pos + 4:pos + 8])
        marker = typ.hex().upper()
        if not _fourcc_ok(typ):
            segs.append(Segment(pos, marker, "junk", n - pos, f"not a box (type bytes {_hex(typ)}); walk stopped"))
            break
        name, hdr, extra = typ.decode("latin-1"), 8, ""
        if size == 1:
            if n - pos < 16:
                segs.append(Segment(pos, marker, name, n - pos, "truncated: file ends inside the 64-bit size"))
                break
            size, hdr, extra = struct.unpack(">Q", data[pos + 8:pos + 16])[0], 16, "64-bit size"
        elif size == 0:
            size, extra = n - pos, "extends to the end of the file"
        if size < hdr:
            segs.append(Segment(pos, marker, name, n - pos, f"bogus size {size}; walk stopped"))
            break
        if pos + size > n:
            segs.append(Segment(pos, marker, name, n - pos,
                                f"truncated: declares {size:,} bytes, only {n - pos:,} left"))
            break
        note = "; ".join(x for x in (_bmff_note(typ, data, pos, hdr, size), extra) if x)
        segs.append(Segment(pos, marker, name, size, note))
        pos += size
    return segs


def bmff_boxes(source: Source) -> list[Segment]:
    """The top-level boxes of a HEIC/AVIF/MP4/MOV file (64-bit and to-end sizes handled)."""
    with _buffer(source) as data:
        return _walk_bmff(data)


# --------------------------------------------------------------------------- TIFF

_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4,
                    16: 8, 17: 8, 18: 8}
_TIFF_INT_FORMATS = {3: "H", 4: "I", 8: "h", 9: "i", 13: "I", 16: "Q", 17: "q", 18: "Q"}
_SUB_IFD_TAGS = {34665: "Exif IFD", 34853: "GPS IFD", 40965: "Interop IFD", 330: "SubIFD"}
_DATA_TAG_PAIRS = ((273, 279), (324, 325), (513, 514))  # strips, tiles, JPEG thumbnail
_MAX_IFDS = 256


class _Tiff:
    """A bounds-checked reader of a TIFF's header and IFDs (loop-safe)."""

    def __init__(self, data: Buffer) -> None:
        self.data, self.n = data, len(data)
        head = bytes(data[:16])
        if len(head) < 8 or not head.startswith(TIFF_MAGICS + BIGTIFF_MAGICS):
            raise ValueError(f"not a TIFF: starts with {_hex(head[:8]) or 'nothing'} "
                             "(a TIFF starts 49 49 2A 00 or 4D 4D 00 2A)")
        self.le = head[:2] == b"II"
        self.e = "<" if self.le else ">"
        self.big = head[2:4] in (b"+\x00", b"\x00+")
        self.variant = {b"IIRO": "Olympus ORF (TIFF-based)", b"IIRS": "Olympus ORF (TIFF-based)",
                        b"MMOR": "Olympus ORF (TIFF-based)", b"IIU\x00": "Panasonic RW2 (TIFF-based)"}.get(
            head[:4], "BigTIFF" if self.big else "TIFF")
        self.problems: list[str] = []
        self.cut = False  # some structure points past the end of the file
        if self.big:
            self.first = self._uint(8, 8) if self.n >= 16 else None
        else:
            self.first = self._uint(4, 4)
        self.ifds: list[tuple[str, int, int | None, int]] = []  # name, offset, entries, byte size
        self.entries: dict[int, list[tuple[int, int, int, int]]] = {}  # offset -> (tag, type, count, value pos)
        self._walk()

    def _uint(self, pos: int, size: int) -> int | None:
        if pos < 0 or pos + size > self.n:
            return None
        return int.from_bytes(self.data[pos:pos + size], "little" if self.le else "big")

    def _read_ifd(self, name: str, off: int) -> int | None:
        """Record one IFD; return the offset of the next IFD in its chain (0 for none)."""
        csize, esize, nsize = (8, 20, 8) if self.big else (2, 12, 4)
        count = self._uint(off, csize)
        if count is None:
            self.cut = True
            self.problems.append(f"{name} offset {off:,} is beyond the end of the file ({self.n:,} bytes)")
            return None
        end = off + csize + count * esize
        if count > 10_000 or end > self.n:
            self.cut = True
            self.problems.append(f"{name} at {off:,} claims {count:,} entries, more than the file holds")
            self.ifds.append((name, off, count, min(self.n, end) - off))
            return None
        entries = []
        for i in range(count):
            e = off + csize + i * esize
            tag, typ = self._uint(e, 2), self._uint(e + 2, 2)
            cnt = self._uint(e + 4, 8 if self.big else 4)
            entries.append((tag, typ, cnt, e + (12 if self.big else 8)))
        self.entries[off] = entries
        nxt = self._uint(end, nsize)
        self.ifds.append((name, off, count, csize + count * esize + (nsize if nxt is not None else 0)))
        if nxt is None:
            self.cut = True
            self.problems.append(f"{name}: file ends before the next-IFD pointer")
        return nxt

    def values(self, entry: tuple[int, int, int, int]) -> list[int]:
        """Integer values of one IFD entry (empty if unreadable or not integers)."""
        _tag, typ, cnt, vpos = entry
        fmt = _TIFF_INT_FORMATS.get(typ)
        if fmt is None or cnt is None or cnt > 1_000_000:
            return []
        nbytes = cnt * _TIFF_TYPE_SIZES[typ]
        inline = 8 if self.big else 4
        pos = vpos if nbytes <= inline else self._uint(vpos, inline)
        if pos is None or pos + nbytes > self.n:
            return []
        return list(struct.unpack(f"{self.e}{cnt}{fmt}", self.data[pos:pos + nbytes]))

    def _walk(self) -> None:
        seen: set[int] = set()
        queue: list[tuple[str, int, bool]] = []
        if self.first is None:
            self.cut = True
            self.problems.append("file ends inside the header")
        elif self.first == 0:
            self.problems.append("no IFD (first IFD offset is 0)")
        else:
            queue.append(("IFD0", self.first, True))
        index = 0
        while queue and len(self.ifds) < _MAX_IFDS:
            name, off, chain = queue.pop(0)
            if off in seen:
                self.problems.append(f"{name} at {off:,} was already visited: IFD loop ignored")
                continue
            seen.add(off)
            nxt = self._read_ifd(name, off)
            for entry in self.entries.get(off, []):
                label = _SUB_IFD_TAGS.get(entry[0])
                if label:
                    for k, sub in enumerate(self.values(entry)[:16]):
                        if sub:
                            queue.append((label if k == 0 else f"{label} {k}", sub, False))
            if chain and nxt:
                index += 1
                queue.append((f"IFD{index}", nxt, True))
        if queue:
            self.problems.append(f"stopped after {_MAX_IFDS} IFDs")

    def data_ranges(self) -> list[tuple[int, int]]:
        """(offset, length) of every strip, tile and JPEG thumbnail the IFDs point to."""
        ranges = []
        for entries in self.entries.values():
            by_tag = {e[0]: e for e in entries}
            for off_tag, len_tag in _DATA_TAG_PAIRS:
                if off_tag in by_tag and len_tag in by_tag:
                    offs, lens = self.values(by_tag[off_tag]), self.values(by_tag[len_tag])
                    ranges.extend(zip(offs, lens))
        return ranges


def tiff_header(source: Source) -> dict:
    """Byte order, first IFD offset and IFD0 entry count of a TIFF (or TIFF-based raw / Exif block)."""
    with _buffer(source) as data:
        t = _Tiff(data)
        return {
            "byte_order": "little-endian (II)" if t.le else "big-endian (MM)",
            "format": t.variant,
            "first_ifd_offset": t.first,
            "ifd0_entries": t.ifds[0][2] if t.ifds and t.ifds[0][0] == "IFD0" else None,
            "ifds": [(name, off) for name, off, _c, _s in t.ifds],
            "problems": list(t.problems),
        }


def _tiff_segments(data: Buffer) -> list[Segment]:
    """Header and IFDs of a TIFF, in file order."""
    t = _Tiff(data)
    order = "little-endian (II)" if t.le else "big-endian (MM)"
    segs = [Segment(0, bytes(data[:4]).hex().upper(), "header", 16 if t.big else 8, f"{t.variant}, {order}")]
    for name, off, count, size in t.ifds:
        segs.append(Segment(off, "", name, size, f"{count:,} entries" if count is not None else ""))
    for problem in t.problems:
        segs.append(Segment(t.n, "", "problem", 0, problem))
    return sorted(segs, key=lambda s: s.offset)


# --------------------------------------------------------------------------- GIF, RIFF (WEBP, WAVE, AVI), BMP


def _gif_subblocks(data: Buffer, p: int) -> tuple[int, bool]:
    """End of a chain of GIF data sub-blocks, and whether its terminator was found."""
    n = len(data)
    while p < n:
        size = data[p]
        p += 1
        if size == 0:
            return p, True
        p += size
    return n, False


def _walk_gif(data: Buffer) -> list[Segment]:
    """Header, screen descriptor, extensions, images and trailer of a GIF."""
    n = len(data)
    sig = bytes(data[:6])
    if sig not in (b"GIF87a", b"GIF89a"):
        raise ValueError(f"not a GIF: starts with {_hex(sig) or 'nothing'} (a GIF starts GIF87a/GIF89a)")
    segs = [Segment(0, sig.hex().upper(), "header", 6, sig.decode("ascii"))]
    if n < 13:
        segs.append(Segment(6, "", "truncated", n - 6, "truncated: file ends inside the screen descriptor"))
        return segs
    packed = data[10]
    gct = 3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0
    screen = f"{_u16le(data, 6)}×{_u16le(data, 8)}" + (f", global colour table of {gct // 3} colours" if gct else "")
    segs.append(Segment(6, "", "logical screen descriptor", 7, screen))
    pos = 13
    if gct:
        if pos + gct > n:
            segs.append(Segment(pos, "", "global colour table", n - pos, "truncated"))
            return segs
        segs.append(Segment(pos, "", "global colour table", gct, f"{gct // 3} colours"))
        pos += gct
    labels = {0xF9: "graphic control extension", 0xFE: "comment extension",
              0xFF: "application extension", 0x01: "plain text extension"}
    while pos < n:
        if _stopped(segs, pos, n, "blocks"):
            break
        b = data[pos]
        if b == 0x3B:
            segs.append(Segment(pos, "3B", "trailer", 1, ""))
            if pos + 1 < n:
                segs.append(Segment(pos + 1, "", "trailing", n - pos - 1, _trailing_note(data, pos + 1)))
            break
        if b == 0x21:
            if pos + 2 > n:
                segs.append(Segment(pos, "21", "truncated", n - pos, "truncated: file ends inside a block"))
                break
            label = data[pos + 1]
            end, ok = _gif_subblocks(data, pos + 2)
            note = ""
            if label == 0xFF and pos + 14 <= n:
                note = _ascii(bytes(data[pos + 3:pos + 14]))
            elif label == 0xFE and pos + 3 < n:
                note = _ascii(bytes(data[pos + 3:pos + 3 + data[pos + 2]]))
            elif label == 0xF9 and pos + 6 <= n:
                note = f"delay {_u16le(data, pos + 4) / 100:.2f} s"
            segs.append(Segment(pos, f"21{label:02X}", labels.get(label, "extension"), end - pos,
                                note if ok else "truncated"))
            if not ok:
                break
            pos = end
            continue
        if b == 0x2C:
            if pos + 10 > n:
                segs.append(Segment(pos, "2C", "image", n - pos, "truncated"))
                break
            x, y, w, h, flags = struct.unpack("<HHHHB", data[pos + 1:pos + 10])
            p = pos + 10 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0) + 1  # + LZW code size
            end, ok = (_gif_subblocks(data, p) if p < n else (n, False))
            note = f"{w}×{h} at ({x},{y})" + (", interlaced" if flags & 0x40 else "") + (
                ", local colour table" if flags & 0x80 else "")
            segs.append(Segment(pos, "2C", "image", end - pos, note if ok else f"truncated: {note}"))
            if not ok:
                break
            pos = end
            continue
        segs.append(Segment(pos, f"{b:02X}", "junk", n - pos, f"unexpected byte 0x{b:02X}; walk stopped"))
        break
    return segs


_RIFF_FORMS = {b"WEBP": "WEBP", b"WAVE": "WAVE audio", b"AVI ": "AVI video"}
_WAVE_CODECS = {1: "PCM", 3: "float", 6: "A-law", 7: "µ-law", 0x55: "MP3", 0xFFFE: "extensible"}


def _riff_note(fourcc: bytes, body: bytes) -> str:
    """What the start of a RIFF chunk says (WEBP image size, WAVE audio format, AVI list type)."""
    try:
        if fourcc == b"VP8 " and body[3:6] == b"\x9d\x01\x2a":
            return f"lossy {_u16le(body, 6) & 0x3FFF}×{_u16le(body, 8) & 0x3FFF}"
        if fourcc == b"VP8L" and body[:1] == b"\x2f":
            bits = _u32le(body, 1)
            return f"lossless {(bits & 0x3FFF) + 1}×{((bits >> 14) & 0x3FFF) + 1}"
        if fourcc == b"VP8X":
            w = 1 + (body[4] | body[5] << 8 | body[6] << 16)
            h = 1 + (body[7] | body[8] << 8 | body[9] << 16)
            flags = [f for bit, f in ((0x20, "ICC"), (0x10, "alpha"), (0x08, "Exif"), (0x04, "XMP"),
                                      (0x02, "animation")) if body[0] & bit]
            return f"canvas {w}×{h}" + (f"; {', '.join(flags)}" if flags else "")
        if fourcc == b"EXIF":
            return "Exif"
        if fourcc == b"fmt ":
            codec, channels, rate = _u16le(body, 0), _u16le(body, 2), _u32le(body, 4)
            bits = _u16le(body, 14)
            return f"{_WAVE_CODECS.get(codec, f'codec 0x{codec:04X}')}, {channels} ch, {rate:,} Hz, {bits}-bit"
        if fourcc == b"LIST" and len(body) >= 4:
            return f"list {_ascii(body[:4])}"
    except (IndexError, struct.error):
        return "malformed"
    return ""


def _walk_riff(data: Buffer) -> list[Segment]:
    """RIFF header and top-level chunks of a WEBP image, WAVE audio or AVI video."""
    n = len(data)
    form = bytes(data[8:12])
    if bytes(data[:4]) != b"RIFF" or form not in _RIFF_FORMS:
        raise ValueError(f"not a RIFF WEBP/WAVE/AVI file: starts with {_hex(bytes(data[:12])) or 'nothing'}")
    riff_end = _u32le(data, 4) + 8
    segs = [Segment(0, "52494646", "RIFF", 12, f"{_RIFF_FORMS[form]}, {riff_end:,} bytes declared")]
    limit, pos = min(n, riff_end), 12
    while pos < limit:
        if _stopped(segs, pos, n, "chunks"):
            return segs
        if limit - pos < 8:
            segs.append(Segment(pos, "", "truncated", limit - pos, "truncated: file ends inside a chunk header"))
            return segs
        fourcc, size = bytes(data[pos:pos + 4]), _u32le(data, pos + 4)
        if not _fourcc_ok(fourcc):
            segs.append(Segment(pos, fourcc.hex().upper(), "junk", n - pos, "not a chunk; walk stopped"))
            return segs
        name = fourcc.decode("latin-1").rstrip()
        if pos + 8 + size > n:
            segs.append(Segment(pos, fourcc.hex().upper(), name, n - pos,
                                f"truncated: declares {size:,} bytes, only {n - pos - 8:,} left"))
            return segs
        note = _riff_note(fourcc, bytes(data[pos + 8:pos + 8 + min(size, 32)]))
        length = min(8 + size + (size & 1), n - pos)
        segs.append(Segment(pos, fourcc.hex().upper(), name, length, note))
        pos += length
    if riff_end > n:
        segs.append(Segment(n, "", "truncated", 0, f"truncated: RIFF declares {riff_end:,} bytes, file has {n:,}"))
    elif n > riff_end:
        segs.append(Segment(riff_end, "", "trailing", n - riff_end, _trailing_note(data, riff_end)))
    return segs


_BMP_HEADERS = {12: "BITMAPCOREHEADER", 16: "OS22XBITMAPHEADER", 40: "BITMAPINFOHEADER",
                52: "BITMAPV2INFOHEADER", 56: "BITMAPV3INFOHEADER", 64: "OS22XBITMAPHEADER",
                108: "BITMAPV4HEADER", 124: "BITMAPV5HEADER"}
_BMP_COMPRESSION = {0: "uncompressed", 1: "RLE8", 2: "RLE4", 3: "bitfields", 4: "JPEG", 5: "PNG", 6: "bitfields"}


def _walk_bmp(data: Buffer) -> list[Segment]:
    """File header, DIB header, colour table and pixel data of a BMP."""
    n = len(data)
    if bytes(data[:2]) != b"BM":
        raise ValueError(f"not a BMP: starts with {_hex(bytes(data[:2])) or 'nothing'} (a BMP starts 42 4D)")
    if n < 18:
        return [Segment(0, "424D", "file header", n, "truncated")]
    declared, off_bits, dib = _u32le(data, 2), _u32le(data, 10), _u32le(data, 14)
    segs = [Segment(0, "424D", "file header", 14, f"{declared:,} bytes declared; pixels at {off_bits:,}")]
    if 14 + dib > n or dib < 12:
        segs.append(Segment(14, "", "DIB header", n - 14, "truncated" if dib >= 12 else f"bogus size {dib}"))
        return segs
    if dib == 12:
        w, h, bpp, comp = _u16le(data, 18), _u16le(data, 20), _u16le(data, 24), 0
    else:
        w, h = struct.unpack("<ii", data[18:26])
        bpp, comp = _u16le(data, 28), (_u32le(data, 30) if dib >= 20 else 0)
    method = _BMP_COMPRESSION.get(comp, f"compression {comp}")
    note = f"{_BMP_HEADERS.get(dib, 'DIB')}: {w}×{abs(h)}, {bpp}-bit, {method}"
    segs.append(Segment(14, "", "DIB header", dib, note + (", top-down" if h < 0 else "")))
    p = 14 + dib
    if off_bits > p:
        segs.append(Segment(p, "", "colour table / masks", min(off_bits, n) - p, "" if off_bits <= n else "truncated"))
    if off_bits >= n:
        segs.append(Segment(n, "", "pixel data", 0, "truncated: no pixel data"))
        return segs
    avail = n - off_bits
    if comp in (0, 3, 6) and w > 0 and bpp > 0:
        expected = ((w * bpp + 31) // 32) * 4 * abs(h)
        if avail < expected:
            segs.append(Segment(off_bits, "", "pixel data", avail, f"truncated: {expected:,} bytes expected"))
        else:
            segs.append(Segment(off_bits, "", "pixel data", expected, ""))
            if avail > expected:
                segs.append(Segment(off_bits + expected, "", "trailing", avail - expected,
                                    _trailing_note(data, off_bits + expected)))
    else:
        segs.append(Segment(off_bits, "", "pixel data", avail, _BMP_COMPRESSION.get(comp, "")))
    return segs


# --------------------------------------------------------------------------- dispatch

_WALKERS = {
    "jpeg": _walk_jpeg, "png": _walk_png, "heic": _walk_bmff, "avif": _walk_bmff, "mp4": _walk_bmff,
    "gif": _walk_gif, "tiff": _tiff_segments, "webp": _walk_riff, "wav": _walk_riff, "avi": _walk_riff,
    "bmp": _walk_bmp,
}


def _structure_of(data: Buffer, kind: str) -> list[Segment]:
    """Segments of already-opened data of a known kind ([] for kinds without a walker)."""
    walker = _WALKERS.get(kind)
    if walker is None:
        return []
    try:
        return walker(data)
    except ValueError:  # the content changed kind under us, or a walker refused: describe nothing
        return []


def structure(path: PathLike) -> list[Segment]:
    """The byte-level layout of a file, by its real kind ([] for kinds we do not walk)."""
    kind = identify(path)
    if kind not in _WALKERS:
        return []
    with _buffer(path) as data:
        return _structure_of(data, kind)


def _truncated(segs: list[Segment]) -> bool:
    """Whether a walk ended on damage."""
    return any(s.note.startswith(("truncated", "bogus")) or s.name in ("junk", "truncated", "stopped") for s in segs)


def is_complete(path: PathLike, kind: str | None = None) -> bool | None:
    """Whether a file ends properly (JPEG EOI after a scan, PNG IEND, GIF trailer, …); None if we cannot tell.

    Pass ``kind`` when it is already known (from ``evidence.identify``) to save reading the header again.
    """
    if kind is None:
        kind = identify(path)
    if kind == "empty":
        return False
    if kind not in _WALKERS and kind not in ("pdf", "zip"):
        return None
    with _buffer(path) as data:
        n = len(data)
        if kind == "pdf":
            return b"%%EOF" in bytes(data[max(0, n - 1024):])
        if kind == "zip":
            tail = bytes(data[max(0, n - 65557):])
            at = tail.rfind(b"PK\x05\x06")
            return at >= 0 and at + 22 <= len(tail)
        if kind == "tiff":
            try:
                t = _Tiff(data)
            except ValueError:
                return None
            ranges = t.data_ranges()
            if t.cut or not t.entries or any(off + length > n for off, length in ranges):
                return False
            return True if ranges else None
        segs = _structure_of(data, kind)
    if not segs:
        return False
    names = [s.name for s in segs]
    if kind == "jpeg":
        if "EOI" not in names or "SOS" not in names:
            return False
        return names.index("SOS") < len(names) - 1 - names[::-1].index("EOI")
    if kind == "png":
        return any(s.name == "IEND" and not s.note.startswith("truncated") for s in segs)
    if kind == "gif":
        return "trailer" in names
    return not _truncated(segs)



# --------------------------------------------------------------------------- showing bytes


def hex_view(source: Source, offset: int = 0, length: int = 64, width: int = 16) -> str:
    """A classic hex dump ('00000000  FF D8 FF E1 …  |....|') of part of a file or of bytes."""
    if offset < 0 or length < 0 or width < 1:
        raise ValueError("offset and length must be >= 0 and width >= 1")
    if isinstance(source, (bytes, bytearray, memoryview)):
        chunk = bytes(source[offset:offset + length])
    else:
        with open_readonly(source) as f:
            f.seek(offset)
            chunk = f.read(length)
    lines = []
    for i in range(0, len(chunk), width):
        row = chunk[i:i + width]
        hexes = " ".join(f"{b:02X}" for b in row).ljust(width * 3 - 1)
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in row)
        lines.append(f"{offset + i:08X}  {hexes}  |{text}|")
    return "\n".join(lines)


# --------------------------------------------------------------------------- opening pictures


@lru_cache(maxsize=1)
def register_heif_opener() -> None:
    """Teach Pillow to open HEIC/HEIF through pillow-heif's plugin (once); ImportError when pillow-heif is missing."""
    import pillow_heif

    pillow_heif.register_heif_opener()


# Picture formats the toolkit decodes. A closed list: Pillow would otherwise hand EPS to
# Ghostscript or try PDF, which evidence should never trigger.
PICTURE_FORMATS = ("JPEG", "PNG", "GIF", "TIFF", "BMP", "DIB", "WEBP", "HEIF", "AVIF", "ICO", "PPM", "TGA")


def picture_formats() -> tuple[str, ...]:
    """The PICTURE_FORMATS this Pillow can open (HEIC/HEIF via pillow-heif), for Image.open(formats=...)."""
    from PIL import Image

    try:
        register_heif_opener()
    except ImportError:
        pass
    Image.init()
    return tuple(f for f in PICTURE_FORMATS if f in Image.OPEN)


def refuse_bomb(image: Image.Image) -> None:
    """Raise DecompressionBombError when decoding a picture at its current size (after any draft) would exceed
    Pillow's MAX_IMAGE_PIXELS. Pillow only warns below twice that limit, yet a 300 KB PNG can declare 100 M
    pixels that inflate to hundreds of MB; a JPEG drafted down to a fraction of its size is still decoded."""
    from PIL import Image

    limit = Image.MAX_IMAGE_PIXELS
    pixels = image.width * image.height
    if limit and pixels > limit:
        raise Image.DecompressionBombError(f"decompression bomb: {image.width:,}×{image.height:,} = {pixels:,} "
                                           f"pixels to decode, refused above {limit:,}")
