"""A raw disk image for the carving session: deleted JPEGs on sector boundaries among the leftovers a used disk holds.

No file system: the image is what unallocated space looks like to a carver. JPEGs start on 512-byte sectors;
most are whole, some are truncated (their later clusters reused by another file), some have a stretch in the
middle overwritten. Between them lie zeroed and erased (0xFF) areas, high-entropy data, text, PDF and ZIP
remnants, and JPEG-looking headers that are not pictures, so a carver has to validate what it cuts by decoding
it. The image is written in chunks: memory use does not grow with its size.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import random
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from synthetic_data.draw import SHOP_NAMES
from synthetic_data.seized_sample import LOCAL_TIME, log_text, notes_text, pdf_bytes

SECTOR = 512
CLUSTER = 4096  # file systems hand out space in clusters: a reused file is cut on a cluster boundary
CHUNK = 1 << 20
MIN_GAP_SECTORS = 8
JPEG_START = b"\xff\xd8\xff"
# What fills the space between deleted pictures, and how often (weights).
FILLERS = {"zeros": 30, "erased": 8, "random": 30, "text": 12, "pdf": 5, "zip": 5, "fake_jpeg": 2}
# Data that can follow a truncated JPEG: another file's content, never empty space, so the cut is visible.
REUSED = ("random", "text", "pdf", "zip")
FAKE_HEADER = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
FAKE_ROOM = 6000
REMNANT_TIME = datetime(2025, 11, 3, 9, 0, tzinfo=LOCAL_TIME)


@dataclass(frozen=True)
class Region:
    """A stretch of the image and what fills it: part of a JPEG (data) or filler of a kind made from a seed."""

    length: int
    kind: str
    seed: int = 0
    data: memoryview | None = None


def round_up(length: int, unit: int = SECTOR) -> int:
    """Length rounded up to a whole number of units."""
    return -(-length // unit) * unit


def scan_start(jpeg: bytes) -> int:
    """Where the compressed picture data begins: after the last start-of-scan header (thumbnails come before it)."""
    marker = jpeg.rfind(b"\xff\xda")
    return marker + 2 + int.from_bytes(jpeg[marker + 2:marker + 4], "big") if marker >= 0 else len(jpeg)


def damage_points(jpeg: bytes, rng: random.Random, state: str) -> tuple[str, int, int]:
    """(state, start, length) of the damage: a cut on a cluster (or sector) boundary, or an overwritten stretch.

    The damage always lies inside the picture data, so headers survive as they would on a real disk;
    a JPEG too small for that stays whole.
    """
    first, end = round_up(scan_start(jpeg) + 1), len(jpeg) - 2  # keep the headers and the end-of-image marker
    if state == "truncated":
        unit = CLUSTER if end - first > 2 * CLUSTER else SECTOR
        cuts = range(round_up(first, unit), end, unit)
        return ("truncated", rng.choice(cuts), 0) if cuts else ("whole", 0, 0)
    if state == "overwritten":
        sectors = (end - first) // SECTOR
        if sectors < 2:
            return "whole", 0, 0
        start = first + SECTOR * rng.randrange(sectors - 1)
        return "overwritten", start, SECTOR * rng.randint(1, min(64, (end - start) // SECTOR))
    return "whole", 0, 0


def pick_states(count: int, rng: random.Random, truncated_share: float, overwritten_share: float) -> list[str]:
    """Each JPEG's intended state: the given shares, at least one of each damage once there are three pictures."""
    truncated = round(count * truncated_share)
    overwritten = round(count * overwritten_share)
    if count >= 3:
        truncated, overwritten = max(1, truncated), max(1, overwritten)
    states = ["truncated"] * truncated + ["overwritten"] * overwritten
    states += ["whole"] * (count - len(states))
    rng.shuffle(states)
    return states


def jpeg_regions(jpeg: bytes, state: str, start: int, length: int, rng: random.Random) -> list[Region]:
    """The regions a deleted JPEG occupies: its bytes (minus the damage), the overwriting data, and the slack."""
    view = memoryview(jpeg)
    if state == "truncated":
        return [Region(start, "jpeg", data=view[:start])]
    if state == "overwritten":
        parts = [Region(start, "jpeg", data=view[:start]),
                 Region(length, rng.choice(("random", "text")), rng.getrandbits(64)),
                 Region(len(jpeg) - start - length, "jpeg", data=view[start + length:])]
    else:
        parts = [Region(len(jpeg), "jpeg", data=view)]
    slack = round_up(len(jpeg)) - len(jpeg)
    if slack:  # the rest of the last sector: zeros, or whatever was there before
        parts.append(Region(slack, rng.choice(("zeros", "random")), rng.getrandbits(64)))
    return parts


def gap_sizes(rng: random.Random, gaps: int, free_sectors: int) -> list[int]:
    """Split the free sectors into `gaps` runs of at least MIN_GAP_SECTORS, at random."""
    extra = free_sectors - gaps * MIN_GAP_SECTORS
    cuts = sorted(rng.randrange(extra + 1) for _ in range(gaps - 1))
    return [MIN_GAP_SECTORS + b - a for a, b in zip([0, *cuts], [*cuts, extra])]


def filler_regions(rng: random.Random, sectors: int, after_cut: bool) -> list[Region]:
    """Fill a gap with leftover data of mixed kinds, runs of one sector to a few megabytes."""
    regions: list[Region] = []
    kinds, weights = list(FILLERS), list(FILLERS.values())
    while sectors:
        run = min(sectors, max(1, round(2 ** rng.uniform(0, 13))))
        kind = rng.choice(REUSED) if after_cut and not regions else rng.choices(kinds, weights)[0]
        regions.append(Region(run * SECTOR, kind, rng.getrandbits(64)))
        sectors -= run
    return regions


def plan_image(
    jpegs: list[tuple[str, bytes]],
    rng: random.Random,
    size_bytes: int,
    truncated_share: float,
    overwritten_share: float,
) -> tuple[list[Region], list[dict[str, Any]]]:
    """Every region of the image in order, and the answer rows of the JPEGs, without writing anything."""
    if size_bytes <= 0 or size_bytes % SECTOR:
        raise ValueError(f"disk image size must be a positive multiple of {SECTOR} bytes, got {size_bytes}")
    for name, data in jpegs:
        if not data.startswith(JPEG_START):
            raise ValueError(f"{name} does not start with a JPEG signature (FF D8 FF)")
    placed = []
    for (name, data), state in zip(jpegs, pick_states(len(jpegs), rng, truncated_share, overwritten_share)):
        state, start, length = damage_points(data, rng, state)
        placed.append((name, data, state, start, length))
    rng.shuffle(placed)  # deleted files lie in no particular order
    used = sum(start if state == "truncated" else round_up(len(data)) for _, data, state, start, _ in placed)
    free_sectors = (size_bytes - used) // SECTOR
    needed = (len(placed) + 1) * MIN_GAP_SECTORS
    if free_sectors < needed:
        raise ValueError(f"a {size_bytes}-byte image cannot hold these JPEGs ({used} bytes) with room between them: "
                         f"use at least {used + needed * SECTOR} bytes")
    gaps = gap_sizes(rng, len(placed) + 1, free_sectors)
    regions = filler_regions(rng, gaps[0], after_cut=False)
    between = list(range(len(regions)))  # indices of the regions that lie between pictures
    rows = []
    offset = sum(region.length for region in regions)
    for (name, data, state, start, length), gap in zip(placed, gaps[1:]):
        rows.append({
            "name": name,
            "offset": offset,
            "length_original": len(data),
            "length_on_disk": start if state != "whole" else len(data),
            "state": state,
            "sha256_original": hashlib.sha256(data).hexdigest(),
        })
        body = jpeg_regions(data, state, start, length, rng)
        filler = filler_regions(rng, gap, after_cut=state == "truncated")
        between += range(len(regions) + len(body), len(regions) + len(body) + len(filler))
        regions += body + filler
        offset += sum(region.length for region in body + filler)
    return plant_fakes(regions, between, rng), rows


def plant_fakes(regions: list[Region], between: list[int], rng: random.Random) -> list[Region]:
    """Make sure the image holds both kinds of false JPEG start, between the pictures: one on a sector boundary,
    one inside other data."""
    roomy = FAKE_ROOM + 2 * SECTOR
    spare = [i for i in between if regions[i].kind in ("zeros", "random") and regions[i].length >= roomy]
    for kind, index in zip(("fake_jpeg", "fake_jpeg_inside"), rng.sample(spare, min(2, len(spare)))):
        regions[index] = Region(regions[index].length, kind, regions[index].seed)
    return regions


def stream(head: bytes, length: int, body: Iterator[bytes]) -> Iterator[bytes]:
    """Exactly `length` bytes: a head, then chunks of the body, cut where the region ends."""
    left = length
    for piece in itertools.chain([head], body):
        piece = piece[:left]
        left -= len(piece)
        yield piece
        if not left:
            return


def repeated(byte: bytes) -> Iterator[bytes]:
    """Endless chunks of one byte value."""
    block = byte * CHUNK
    while True:
        yield block


def random_chunks(rng: random.Random, avoid_ff: bool = False) -> Iterator[bytes]:
    """Endless high-entropy chunks (compressed or encrypted data looks like this); optionally with no 0xFF byte."""
    while True:
        block = rng.randbytes(CHUNK)
        yield block.replace(b"\xff", b"\xfe") if avoid_ff else block


def text_pieces(rng: random.Random) -> Iterator[str]:
    """Endless plain text of the kinds a disk keeps: app logs, notes, web pages, CSV exports."""
    when = REMNANT_TIME + timedelta(days=rng.randrange(120))
    while True:
        style = rng.randrange(4)
        if style == 0:
            yield log_text(rng, when)
        elif style == 1:
            yield notes_text(rng, when)
        elif style == 2:
            shop = rng.choice(SHOP_NAMES).title()
            yield (f"<html><head><title>{shop}</title></head><body><h1>{shop}</h1>"
                   f"<p>Open daily {rng.randint(7, 10)}:00-{rng.randint(17, 22)}:00</p></body></html>\n")
        else:
            rows = (f"{rng.randrange(10**6):06d},{rng.choice(SHOP_NAMES).title()},"
                    f"{rng.randint(1, 99)}.{rng.randrange(100):02d}"
                    for _ in range(rng.randint(3, 30)))
            yield "\n".join(rows) + "\n"
        when += timedelta(minutes=rng.randint(1, 600))


def text_file(rng: random.Random) -> bytes:
    """A deleted text file of 2-64 KiB: logs, notes, web pages or CSV exports."""
    lines, parts, size, wanted = text_pieces(rng), [], 0, rng.randint(2 << 10, 64 << 10)
    while size < wanted:
        parts.append(next(lines).encode("utf-8"))
        size += len(parts[-1])
    return b"".join(parts)[:wanted]


def zip_head(rng: random.Random) -> bytes:
    """The start of a deleted ZIP archive: a real local header and a deflated note, fixed entry time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"notes_{rng.randrange(1000):03d}.txt", date_time=(2025, 11, 3, 9, 0, 0))
        info.compress_type, info.create_system, info.external_attr = zipfile.ZIP_DEFLATED, 3, 0o644 << 16
        archive.writestr(info, notes_text(rng, REMNANT_TIME))
    return buffer.getvalue()


def fake_jpeg_head(rng: random.Random, room: int) -> bytes:
    """A JFIF header whose picture data was overwritten, FF D9 within `room` bytes: no frame in it, nothing decodes."""
    junk = rng.randbytes(rng.randint(min(600, room), room) - len(FAKE_HEADER) - 2).replace(b"\xff", b"\xfe")
    return FAKE_HEADER + junk + b"\xff\xd9"


def region_chunks(region: Region) -> Iterator[bytes]:
    """The bytes of one region, in chunks of at most CHUNK bytes."""
    if region.data is not None:
        for at in range(0, len(region.data), CHUNK):
            yield region.data[at:at + CHUNK]
        return
    rng = random.Random(region.seed)
    kind, length = region.kind, region.length
    if kind == "zeros":
        yield from stream(b"", length, repeated(b"\x00"))
    elif kind == "erased":  # flash memory reads FF where it was erased
        yield from stream(b"", length, repeated(b"\xff"))
    elif kind == "random":
        yield from stream(b"", length, random_chunks(rng))
    elif kind == "text":  # the text file, then the zeroed rest of its clusters
        yield from stream(text_file(rng), length, repeated(b"\x00"))
    elif kind == "pdf":
        lines = [rng.choice(SHOP_NAMES).title(), f"Receipt {rng.randrange(10**5):05d}", f"Total {rng.randint(2, 400)}"]
        yield from stream(pdf_bytes("Receipt", lines, REMNANT_TIME), length, random_chunks(rng))
    elif kind == "zip":
        yield from stream(zip_head(rng), length, random_chunks(rng))
    elif kind == "fake_jpeg":
        yield from stream(fake_jpeg_head(rng, min(FAKE_ROOM, length)), length, repeated(b"\x00"))
    elif kind == "fake_jpeg_inside":  # planted only in regions with room for the lead and the whole fake
        lead = rng.randbytes(rng.randint(1, SECTOR - 1)).replace(b"\xff\xd8", b"\xfe\xd8")
        yield from stream(lead + fake_jpeg_head(rng, FAKE_ROOM), length, random_chunks(rng, avoid_ff=True))
    else:
        raise ValueError(f"unknown filler kind {kind!r}")


def write_disk_image(
    path: Path,
    jpegs: list[tuple[str, bytes]],
    rng: random.Random,
    size_bytes: int,
    *,
    truncated_share: float = 0.15,
    overwritten_share: float = 0.15,
) -> list[dict[str, Any]]:
    """Write a raw image of size_bytes holding the JPEGs as deleted files; return one answer row per JPEG, by offset.

    Rows: name, offset (sector-aligned), length_original, length_on_disk (how many leading bytes of the original
    are on disk intact: all of them when whole, up to the cut or the start of the overwritten stretch otherwise),
    state ("whole" | "truncated" | "overwritten"), sha256_original.
    """
    regions, rows = plan_image(jpegs, rng, size_bytes, truncated_share, overwritten_share)
    written = 0
    with Path(path).open("wb") as out:
        for region in regions:
            for chunk in region_chunks(region):
                written += out.write(chunk)
    if written != size_bytes:
        raise RuntimeError(f"disk image came out at {written} bytes instead of {size_bytes}: the layout plan is wrong")
    return rows
