"""Carve JPEGs out of a raw disk image by their markers, check each by decoding it, and say what state it is in.

The image is read in chunks (memory stays flat however big it is; a marker split between two chunks is
still found), opened read-only and never written to. Every ``FF D8 FF`` is a candidate: its header is walked
with ``vidlab.formats.jpeg_header_segments``, then its picture data (entropy-coded scan data) is followed to
its end. Carves go to an output folder outside the image's folder; the table says what was found.

How the end is found and the state decided (the generator's deleted files work the same way: they start on
512-byte sectors, a reused file cuts them on a sector or cluster boundary, an overwrite replaces whole sectors):

- Inside scan data only ``FF 00`` (stuffing), fill ``FF FF``, restart markers ``FF D0``-``D7`` and, between
  the scans of a progressive picture, table and scan segments may appear; ``FF D9`` (EOI) ends the picture.
- **Damage** is the first place where the data stops looking like this picture: any other ``FF xx`` pair, or a
  whole sector that cannot be entropy-coded data (no byte above F4 and valid UTF-8, i.e. text or zeros; or all
  ``FF``, i.e. erased flash). A new ``FF D8 FF`` (another file starts) also ends the picture.
- **whole**: EOI reached with no damage, and Pillow decodes every byte without complaint.
- **overwritten**: the structure is damaged (or intact but the decoder rejects the data), and the picture's
  own data visibly resumes afterwards: an EOI preceded by at least ``RESUME_BYTES`` of clean scan data,
  within ``max_gap`` bytes of the damage. The carve runs from SOI to that EOI (the original's length; the
  stretch in between is not the picture's).
- **truncated**: no such EOI before the data stops being the picture (another file's data, the next SOI,
  ``max_gap`` bytes without resumption, the end of the image or ``max_length``). The carve holds the intact
  leading bytes: up to the sector where the damage begins.
- **rejected** (listed only with ``keep_rejected``): an ``FF D8 FF`` that is no picture: the header breaks
  or ends before a frame (SOF) and a scan (SOS), or Pillow cannot read the frame header.

Limits of the rule: an overwrite that ends less than ``RESUME_BYTES`` before the picture's EOI reads as
truncated; a cut followed directly by another picture's scan data (no SOI in between) reads as overwritten.
``intact_length`` is where the damage was seen, exact to the sector where the junk after a cut or an
overwritten stretch starts with a marker or a recognisable sector (usually), else a sector or two late.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import re
import stat
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from vidlab.evidence import PathLike, open_readonly, outside_evidence, progress_bar, short_error, sniff
from vidlab.formats import HEADER_READ, SOF_CODES, jpeg_header_segments

__all__ = ["CARVE_COLUMNS", "STATES", "SECTOR", "RESUME_BYTES", "MAX_LENGTH", "MAX_GAP", "carve", "carve_states"]

SECTOR = 512
#: Bytes per read when streaming the image; candidates reach back at most 2 bytes into the previous chunk.
CHUNK = 4 << 20
#: Bytes per read when following one candidate's picture data.
STEP = 256 << 10
#: Clean scan data needed before an EOI for a damaged picture's own data to count as resumed. Random bytes
#: hold no foreign ``FF xx`` pair for 2 KiB about once in 2,000 tries, so junk rarely passes.
RESUME_BYTES = 2048
#: A carve stops here (the largest camera JPEGs are a few tens of MB).
MAX_LENGTH = 64 << 20
#: How far past the damage to look for the picture's own data resuming.
MAX_GAP = 256 << 10
STATES = ("whole", "truncated", "overwritten", "rejected")
CARVE_COLUMNS = ("offset", "length", "state", "intact_length", "width", "height", "decodes",
                 "md5", "sha1", "sha256", "file", "note")
SOI = b"\xff\xd8\xff"
_SOI_SEARCH = re.compile(rb"\xff(?=\xd8\xff)")  # a lookahead, so overlapping starts (FF D8 FF D8 FF) all count
NOT_DECODED = "not decoded"
# Any FF followed by a byte that is neither stuffing (00) nor fill (FF): the scan data's markers and damage.
_EVENT = re.compile(rb"\xff[\x01-\xfe]")
_RESTARTS = frozenset(range(0xD0, 0xD8))
# Segments that may sit between the scans of a progressive or multi-scan picture.
_BETWEEN_SCANS = frozenset({0xC4, 0xDA, 0xDB, 0xDD, 0xFE, *range(0xE0, 0xF0)})
_EVERY_MARKER = range(256)
# Kinds whose signature is long enough not to turn up by chance in picture data, and their first bytes.
_OTHER_FILES = frozenset({"png", "gif", "tiff", "heic", "avif", "mp4", "webp", "wav", "avi", "zip", "pdf", "sqlite"})
_SIGNATURE_FIRST_BYTES = np.frombuffer(b"\x89GIMR%PS\x00", np.uint8)
_utf8 = codecs.utf_8_decode


@dataclass
class _Candidate:
    """The bytes of one candidate, read on demand from its offset (never past `limit`)."""

    fd: int
    offset: int
    limit: int  # absolute offset reads stop at
    data: bytearray = field(default_factory=bytearray)

    def ensure(self, length: int) -> int:
        """Read until `length` bytes are held (or the limit is reached); how many are held."""
        while len(self.data) < length and self.offset + len(self.data) < self.limit:
            self.read(max(STEP, length - len(self.data)))
        return len(self.data)

    def read(self, size: int) -> bytes:
        """The next `size` bytes (fewer at the limit), kept: the header walker reads through this."""
        at = self.offset + len(self.data)
        chunk = os.pread(self.fd, max(0, min(size, self.limit - at)), at)
        self.data += chunk
        return chunk


@dataclass
class _Walk:
    """Where a picture's data ends and what happened on the way."""

    end: int  # relative to the candidate: just past EOI, or where the intact bytes stop
    damage: int | None  # first damaged byte (relative), None when none was seen
    resumed: bool  # an EOI of the picture's own data came after the damage
    why: str


def _bad_sectors(data: bytearray, start: int, stop: int) -> Iterator[int]:
    """Starts of whole sectors in data[start:stop] that cannot be scan data: text or zeros, erased flash (all FF),
    or the start of another file (its signature at the sector's start, as file systems place files)."""
    count = (stop - start) // SECTOR
    if count <= 0:
        return
    rows = np.frombuffer(data, np.uint8, count * SECTOR, start).reshape(count, SECTOR)
    erased = (rows == 0xFF).all(axis=1)
    # Entropy-coded data is near-random: a sector without a byte above F4 (never in UTF-8) is almost surely not.
    suspect = ~(rows > 0xF4).any(axis=1)
    signed = np.isin(rows[:, 0], _SIGNATURE_FIRST_BYTES)
    for i in np.flatnonzero(erased | suspect | signed):
        sector = bytes(data[start + int(i) * SECTOR:start + (int(i) + 1) * SECTOR])
        if erased[i] or (suspect[i] and _is_text(sector)) or (signed[i] and sniff(sector) in _OTHER_FILES):
            yield start + int(i) * SECTOR


def _is_text(sector: bytes) -> bool:
    """Whether a sector is UTF-8 text (zeros included), allowing characters split at either edge."""
    trimmed = sector.lstrip(bytes(range(0x80, 0xC0)))  # continuation bytes of a character begun earlier
    if len(sector) - len(trimmed) > 3:
        return False
    try:
        _utf8(trimmed, "strict", False)  # final=False: a character cut at the end is fine
    except UnicodeDecodeError:
        return False
    return True


def _follow_scan(c: _Candidate, scan: int, max_gap: int) -> _Walk:
    """Follow scan data from `scan` (relative) to the picture's end; see the module doc for the rule."""
    pos, damage, clean_from, skipped = scan, None, scan, 0
    checked = -(-scan // SECTOR) * SECTOR  # next sector to test; sectors holding header bytes are not tested
    bad: deque[int] = deque()

    def mark(at: int, clean_after: int) -> None:
        nonlocal damage, clean_from
        if damage is None:
            damage = max(scan, at - at % SECTOR)
        clean_from = clean_after

    while True:
        held = c.ensure(pos + SECTOR + 2)
        stop = held - held % SECTOR
        if checked + SECTOR <= stop:
            bad.extend(_bad_sectors(c.data, checked, stop))
            checked = stop
        m = _EVENT.search(c.data, pos, held)
        target = m.start() if m else held
        while bad and bad[0] < target:
            s = bad.popleft()
            if s >= skipped:  # sectors inside a table segment between scans do not count
                mark(s, s + SECTOR)
        if damage is not None and target - damage > max_gap:
            return _Walk(damage, damage, False, f"no picture data for {max_gap:,} bytes after the damage")
        if m is None:
            if c.offset + held >= c.limit:
                end = damage if damage is not None else held
                return _Walk(end, end, False, "data ends (end of image or carve limit)")
            pos = max(pos, held - 1)  # an FF in the last byte needs the next one
            continue
        p, code = m.start(), c.data[m.start() + 1]
        pos = p + 2
        if code in _RESTARTS:
            continue
        if code == 0xD9:
            if damage is None:
                return _Walk(p + 2, None, False, "")
            if p - clean_from >= RESUME_BYTES:
                return _Walk(p + 2, damage, True, "")
            mark(p + 1, p + 2)  # the pair's second byte is the first foreign one
        elif code == 0xD8 and c.ensure(p + 3) >= p + 3 and c.data[p + 2] == 0xFF:
            end = damage if damage is not None else p
            return _Walk(end, end, False, f"another file starts (SOI) at +{p:,}")
        elif code in _BETWEEN_SCANS and damage is None and (end := _segment_end(c, p)):
            pos = skipped = end
        else:
            mark(p + 1, p + 2)  # the pair's second byte is the first foreign one


def _segment_end(c: _Candidate, p: int) -> int | None:
    """Where a table or scan segment found between scans ends, if it is well-formed (random bytes rarely are)."""
    if c.ensure(p + 5) < p + 5:
        return None
    code, length = c.data[p + 1], (c.data[p + 2] << 8) | c.data[p + 3]
    end = p + 2 + length
    if length < 2 or c.ensure(end + 1) < end + 1:
        return None
    body = c.data[p + 4:end]
    if code == 0xDA:  # scan header: component count 1-4, length to match
        return end if body and 1 <= body[0] <= 4 and length == 6 + 2 * body[0] else None
    if code == 0xDD:
        return end if length == 4 and c.data[end] == 0xFF else None
    at = 0
    if code in (0xC4, 0xDB):  # tables must fill the segment exactly
        while at < len(body):
            kind = body[at]
            if code == 0xC4:
                if kind >> 4 > 1 or kind & 15 > 3 or at + 17 > len(body):
                    return None
                at += 17 + sum(body[at + 1:at + 17])
            else:
                if kind >> 4 > 1 or kind & 15 > 3:
                    return None
                at += 129 if kind >> 4 else 65
        if at != len(body):
            return None
    # Random bytes pass as an APPn or comment segment one time in 256 on the FF alone; the next segment must
    # also be one that can come between scans (a table, a scan header, ...): 1 in 3,000.
    if c.ensure(end + 2) < end + 2:
        return None
    return end if c.data[end] == 0xFF and c.data[end + 1] in _BETWEEN_SCANS else None


def _header(c: _Candidate) -> tuple[int, int, int, str]:
    """(scan data start, width, height, problem) of a candidate: its header walked up to the first scan."""
    problems: list[str] = []
    first = c.read(HEADER_READ)
    frame, end = None, 2
    for pos, code, body, declared in jpeg_header_segments(c, first, _EVERY_MARKER, problems):
        end = pos + 4 + declared
        if code in SOF_CODES and len(body) >= 5:
            frame = ((body[3] << 8) | body[4], (body[1] << 8) | body[2])
    if problems:
        return 0, 0, 0, problems[0]
    while c.ensure(end + 2) >= end + 2 and c.data[end] == 0xFF and c.data[end + 1] == 0xFF:
        end += 1  # fill bytes before the next marker
    if c.ensure(end + 4) < end + 4 or c.data[end:end + 2] != b"\xff\xda":
        return 0, 0, 0, "the header ends without a scan (SOS): no picture data"
    if frame is None:
        return 0, 0, 0, "no frame header (SOF) before the scan: not a picture"
    scan = _segment_end(c, end)
    if scan is None:
        return 0, 0, 0, "the scan header (SOS) is cut or malformed: no picture data"
    return scan, *frame, ""


def _decode(carved: bytes, pixels: int, max_pixels: int) -> str | None:
    """'ok' when Pillow decodes every byte (at 1/8 scale: all the coded data is still read), else why not;
    None when Pillow cannot even read the frame header."""
    if pixels > max_pixels:
        return f"{NOT_DECODED}: {pixels:,} pixels is over the {max_pixels:,} limit (decompression bomb guard)"
    try:
        picture = Image.open(io.BytesIO(carved), formats=("JPEG",))
    except (UnidentifiedImageError, SyntaxError, ValueError):
        return None
    try:
        with picture:
            picture.draft(picture.mode, (max(1, picture.width // 8), max(1, picture.height // 8)))
            picture.load()
    except Exception as exc:  # noqa: BLE001 - a broken carve is a finding, not a failure
        return short_error(exc)
    return "ok"


def _carve_one(fd: int, offset: int, size: int, max_length: int, max_gap: int, max_pixels: int
               ) -> tuple[dict, bytes]:
    """One candidate's row (CARVE_COLUMNS but file) and its carved bytes (empty when rejected)."""
    c = _Candidate(fd, offset, min(size, offset + max_length))
    row = dict.fromkeys(CARVE_COLUMNS) | {"offset": offset}
    scan, width, height, problem = _header(c)
    if problem:
        return row | {"state": "rejected", "note": problem}, b""
    walk = _follow_scan(c, scan, max_gap)
    carved = bytes(c.data[:walk.end])
    decodes = _decode(carved, width * height, max_pixels)
    if decodes is None:
        return row | {"state": "rejected", "note": "Pillow cannot read the frame header"}, b""
    if walk.damage is None and walk.end > 2 and carved.endswith(b"\xff\xd9"):
        broken = decodes != "ok" and not decodes.startswith(NOT_DECODED)
        state, note = ("overwritten", "markers intact, picture data broken") if broken else ("whole", "")
    elif walk.resumed:
        state, note = "overwritten", f"damaged from +{walk.damage:,}, picture data resumes before its EOI"
    else:
        state, note = "truncated", walk.why
    intact = walk.end if walk.damage is None else walk.damage
    row |= {"length": len(carved), "state": state, "intact_length": intact, "width": width, "height": height,
            "decodes": decodes, "note": note}
    row |= {name: hashlib.new(name, carved).hexdigest() for name in ("md5", "sha1", "sha256")}
    return row, carved


def _image_size(fd: int) -> int:
    """Bytes in a regular file or a block device (whose st_size is 0)."""
    mode = os.fstat(fd).st_mode
    return os.fstat(fd).st_size if stat.S_ISREG(mode) else os.lseek(fd, 0, os.SEEK_END)


def _save(out: Path, row: dict, carved: bytes) -> str:
    """Write one carve (via a temporary name, so an interrupted run leaves no half file); its file name."""
    name = f"carve_{row['offset']:012d}_{row['state']}.jpg"
    partial = out / f".{name}.partial"
    partial.write_bytes(carved)
    partial.replace(out / name)
    return name


def carve(image: PathLike, out: PathLike | None = None, *, max_length: int = MAX_LENGTH, max_gap: int = MAX_GAP,
          max_pixels: int | None = None, keep_rejected: bool = False, progress: bool | None = None) -> pd.DataFrame:
    """Carve every JPEG from a raw disk image: one row per picture (CARVE_COLUMNS), in offset order.

    out: folder for the carved files (created; refused inside the image's own folder, which is evidence);
    None writes nothing. max_pixels: larger frames are not decoded (default Pillow's MAX_IMAGE_PIXELS).
    keep_rejected: also list FF D8 FF hits that are no picture, with why. States: see the module doc.
    """
    image = Path(image)
    folder = None if out is None else outside_evidence(image.resolve().parent, Path(out))
    limit = Image.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    rows: list[dict] = []
    with open_readonly(image) as f:
        fd = f.fileno()
        size = _image_size(fd)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        buffer = bytearray(2 + CHUNK)
        view = memoryview(buffer)
        tail, pos, skip_to = 0, 0, 0
        with progress_bar(progress if progress is not None else (size > 256 << 20), size, "carving") as bar:
            bar.unit, bar.unit_scale, bar.unit_divisor = "B", True, 1024
            while pos < size:
                got = os.preadv(fd, [view[tail:]], pos)
                if got <= 0:
                    break
                held, base = tail + got, pos - tail
                for found in _SOI_SEARCH.finditer(buffer, 0, held):  # re's literal search beats bytearray.find here
                    hit = found.start()
                    if base + hit >= skip_to:
                        row, carved = _carve_one(fd, base + hit, size, max_length, max_gap, limit)
                        if row["state"] != "rejected":
                            skip_to = base + hit + row["length"]  # thumbnails inside it are not carved again
                            if folder is not None:
                                row["file"] = _save(folder, row, carved)
                        if row["state"] != "rejected" or keep_rejected:
                            rows.append(row)
                tail = min(2, held)  # a marker split between chunks: keep the last two bytes
                buffer[:tail] = buffer[held - tail:held]
                pos += got
                bar.update(got)
    return _table(rows)


def _table(rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with fixed columns and nullable integers."""
    df = pd.DataFrame(rows, columns=list(CARVE_COLUMNS))
    for column in ("offset", "length", "intact_length", "width", "height"):
        df[column] = df[column].astype("Int64")
    for column in ("state", "decodes", "md5", "sha1", "sha256", "file", "note"):
        df[column] = df[column].astype(object)
    return df


def carve_states(table: pd.DataFrame) -> dict[str, int]:
    """How many carves are in each state (every state listed, zeros included): the one-line summary."""
    counts = table["state"].value_counts()
    return {state: int(counts.get(state, 0)) for state in STATES}
