"""Broken files made from valid ones, for the malformed-input tests (tests/test_malformed.py) and the fuzz target.

Valid seeds are drawn here (a camera JPEG whose EXIF has IFD0, an Exif IFD with a Canon MakerNote, an
Interop IFD, a GPS IFD and an IFD1 thumbnail; the same structure as a TIFF file; PNG with eXIf; HEIC and
WebP with EXIF; GIF; BMP; a hum WAV) plus, when given, the tiny profile's own camera files and video.
Every variant is a (name, bytes, how) triple made by one documented kind of damage: truncation at every
JPEG marker (and PNG chunk, BMFF box, RIFF chunk), seeded byte flips in headers and EXIF, oversized
declared dimensions (decompression bombs), looping and recursive IFD offsets, bogus lengths and counts,
wrong magic, zero and tiny files. Same seeds, same variants, byte for byte.
"""

from __future__ import annotations

import io
import math
import os
import random
import re
import struct
import wave
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from vidlab import formats
from vidlab.evidence import sniff

SEED = 20261212
#: Exception names in an ``error`` text that mean a reader bug rather than a damaged file: metadata_row's safety
#: net turns every exception into text, so a bug would otherwise pass for a finding about the file.
BUGS = re.compile(r"\b(IndexError|KeyError|TypeError|AttributeError|NameError|UnboundLocalError|ZeroDivisionError|"
                  r"AssertionError|RecursionError|OverflowError|struct\.error|unpack requires)")


@dataclass(frozen=True)
class Broken:
    """One malformed file: the name it is written under, its bytes, and what was done to it."""

    name: str
    data: bytes
    how: str


# --------------------------------------------------------------------------- building valid seeds


def _ifd(entries: list[tuple[int, int, object]], at: int, next_ifd: int = 0) -> tuple[bytes, dict[int, int]]:
    """A little-endian IFD placed at `at`, long values right after it; and each tag's value-field position.

    Values: str → ASCII, int → LONG (SHORT for tags below 0x0200 that are sizes), bytes → UNDEFINED,
    list of (n, d) → RATIONAL.
    """
    data_at = at + 2 + 12 * len(entries) + 4
    head, data, fields = [struct.pack("<H", len(entries))], b"", {}
    for i, (tag, typ, value) in enumerate(entries):
        if typ == 2:
            raw, count = value.encode("latin-1") + b"\x00", len(value) + 1
        elif typ == 3:
            raw, count = struct.pack("<H", value), 1
        elif typ == 4:
            raw, count = struct.pack("<I", value), 1
        elif typ == 5:
            raw, count = b"".join(struct.pack("<II", n, d) for n, d in value), len(value)
        else:
            raw, count = bytes(value), len(value)
        if len(raw) <= 4:
            field = raw.ljust(4, b"\x00")
        else:
            field = struct.pack("<I", data_at + len(data))
            data += raw + b"\x00" * (len(raw) % 2)
        fields[tag] = at + 2 + 12 * i + 8
        head.append(struct.pack("<HHI", tag, typ, count) + field)
    return b"".join(head) + struct.pack("<I", next_ifd) + data, fields


def _picture(width: int, height: int, seed: int = 7) -> Image.Image:
    """Smooth gradients plus noise: enough detail to hash, small enough to be quick."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (x + y) % 256], axis=-1)
    noisy = base + rng.integers(-20, 21, base.shape)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8), "RGB")


def _jpeg(picture: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    picture.save(buf, "JPEG", quality=85, **kw)
    return buf.getvalue()


@dataclass(frozen=True)
class Layout:
    """Where things are in a camera TIFF structure: IFD starts and the value field of each pointer or size tag."""

    ifds: dict[str, int]
    fields: dict[str, int]  # "<ifd>.<tag hex>" and "<ifd>.next" → position of the 4-byte value field


def camera_tiff(image_strip: bytes | None = None, size: tuple[int, int] = (8, 8)) -> tuple[bytes, Layout]:
    """A TIFF structure as a camera writes it: IFD0 → Exif IFD (Canon MakerNote, Interop IFD), GPS IFD, IFD1
    with a JPEG thumbnail. With `image_strip` (8-bit grey pixels of `size`) it is a whole TIFF file."""
    thumbnail = _jpeg(_picture(32, 24, seed=3))
    ifd0_tags: list[tuple[int, int, object]] = [
        (0x010F, 2, "Canon"), (0x0110, 2, "Canon EOS 5D Mark IV"), (0x0112, 3, 1), (0x0131, 2, "Firmware 1.2.3"),
        (0x0132, 2, "2024:03:01 10:11:12"),
    ]
    if image_strip is not None:
        ifd0_tags = [(0x0100, 4, size[0]), (0x0101, 4, size[1]), (0x0102, 3, 8), (0x0103, 3, 1), (0x0106, 3, 1),
                     (0x0111, 4, 0), (0x0115, 3, 1), (0x0116, 4, size[1]), (0x0117, 4, len(image_strip)),
                     *ifd0_tags]
    ifd0_tags += [(0x8769, 4, 0), (0x8825, 4, 0)]
    # sizes do not depend on offsets: lay out once with zeros, then for real
    ifd0_len = len(_ifd(ifd0_tags, 8)[0])
    canon_note, _ = _ifd([(0x000C, 4, 1234567890), (0x0096, 2, "KX1234567")], 0)
    exif_tags: list[tuple[int, int, object]] = [
        (0x9003, 2, "2024:03:01 10:11:12"), (0x9011, 2, "+08:00"), (0xA431, 2, "0123456789"),
        (0x927C, 7, b"\x00" * len(canon_note)), (0xA005, 4, 0),
    ]
    exif_at = 8 + ifd0_len
    exif_len = len(_ifd(exif_tags, exif_at)[0])
    interop_at = exif_at + exif_len
    interop, interop_fields = _ifd([(0x0001, 2, "R98")], interop_at)
    gps_at = interop_at + len(interop)
    gps_tags = [(0x0001, 2, "S"), (0x0002, 5, [(33, 1), (51, 1), (359, 10)]), (0x0003, 2, "W"),
                (0x0004, 5, [(70, 1), (39, 1), (15, 10)]), (0x001D, 2, "2024:03:01"),
                (0x0007, 5, [(3, 1), (29, 1), (59, 1)])]
    gps, gps_fields = _ifd(gps_tags, gps_at)
    ifd1_at = gps_at + len(gps)
    ifd1_len = len(_ifd([(0x0201, 4, 0), (0x0202, 4, 0)], ifd1_at)[0])
    thumb_at = ifd1_at + ifd1_len
    strip_at = thumb_at + len(thumbnail)
    # the MakerNote's own IFD sits inside its value; find where exif_tags' values put it
    probe, probe_fields = _ifd(exif_tags, exif_at)
    note_at = struct.unpack_from("<I", probe, probe_fields[0x927C] - exif_at)[0]
    canon_note, note_fields = _ifd([(0x000C, 4, 1234567890), (0x0096, 2, "KX1234567")], note_at)
    exif_tags[3] = (0x927C, 7, canon_note)
    exif_tags[4] = (0xA005, 4, interop_at)
    exif, exif_fields = _ifd(exif_tags, exif_at)
    ifd0_tags = [(t, ty, exif_at if t == 0x8769 else gps_at if t == 0x8825 else strip_at if t == 0x0111 else v)
                 for t, ty, v in ifd0_tags]
    ifd0, ifd0_fields = _ifd(ifd0_tags, 8, next_ifd=ifd1_at)
    ifd1, ifd1_fields = _ifd([(0x0201, 4, thumb_at), (0x0202, 4, len(thumbnail))], ifd1_at)
    block = b"II*\x00" + struct.pack("<I", 8) + ifd0 + exif + interop + gps + ifd1 + thumbnail + (image_strip or b"")
    fields = {f"ifd0.{t:04x}": p for t, p in ifd0_fields.items()}
    fields["ifd0.next"] = 8 + 2 + 12 * len(ifd0_tags)
    fields |= {f"exif.{t:04x}": p for t, p in exif_fields.items()}
    fields |= {f"interop.{t:04x}": p for t, p in interop_fields.items()}
    fields |= {f"gps.{t:04x}": p for t, p in gps_fields.items()}
    fields |= {f"ifd1.{t:04x}": p for t, p in ifd1_fields.items()}
    fields["ifd1.next"] = ifd1_at + 2 + 12 * 2
    fields |= {f"makernote.{t:04x}": p for t, p in note_fields.items()}
    ifds = {"ifd0": 8, "exif": exif_at, "interop": interop_at, "gps": gps_at, "ifd1": ifd1_at, "makernote": note_at}
    return block, Layout(ifds, fields)


def camera_jpeg() -> tuple[bytes, int, Layout]:
    """A camera JPEG with the camera_tiff EXIF block and XMP; the offset of its TIFF structure; the layout."""
    block, layout = camera_tiff()
    plain = _jpeg(_picture(160, 120), xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    app1 = b"\xff\xe1" + struct.pack(">H", len(block) + 8) + b"Exif\x00\x00" + block
    return plain[:2] + app1 + plain[2:], 2 + 4 + 6, layout


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int, colour_type: int = 0, inflates: bool = True) -> bytes:
    """A decompression bomb: a valid PNG of zeros whose few hundred KB inflate to width×height pixels
    (`inflates` False: only the header declares them, for sizes a reader must refuse before inflating)."""
    row = b"\x00" + bytes(width * {0: 1, 2: 3}[colour_type])
    packer = zlib.compressobj(1)  # zeros squeeze ~200:1 even at the fastest level
    rows = 256
    idat = (b"".join(packer.compress(row * min(rows, height - done)) for done in range(0, height, rows))
            if inflates else packer.compress(row)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def hum_wav(seconds: float = 2.0, rate: int = 8000, mains: int = 50) -> bytes:
    """A mono 16-bit WAV with a mains hum (fundamental and two harmonics) over quiet noise."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(5)
    samples = sum(0.2 / k * np.sin(2 * math.pi * mains * k * t) for k in (1, 2, 3)) + rng.normal(0, 0.01, t.size)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def seeds(tiny_case: Path | None = None) -> dict[str, tuple[str, bytes]]:
    """Valid files to break: kind → (file name, bytes). `tiny_case`: the tiny profile's case/ folder, whose
    camera JPEG, HEIC, TIFF scan and video are added (files made by the project's own generator)."""
    from vidlab.formats import register_heif_opener

    register_heif_opener()
    picture = _picture(96, 72)
    exif = camera_tiff()[0]
    jpeg, _, _ = camera_jpeg()
    grey = bytes(range(64))
    tiff, _ = camera_tiff(grey, (8, 8))
    out = {"jpeg": ("camera.jpg", jpeg), "tiff": ("camera.tif", tiff), "wav": ("hum.wav", hum_wav())}
    for kind, fmt, name, kw in (("png", "PNG", "shot.png", {"exif": exif}), ("heic", "HEIF", "phone.heic", {"exif": exif}),
                                ("webp", "WEBP", "web.webp", {"exif": exif}), ("gif", "GIF", "anim.gif", {}),
                                ("bmp", "BMP", "wall.bmp", {})):
        buf = io.BytesIO()
        picture.save(buf, fmt, **kw)
        out[kind] = (name, buf.getvalue())
    if tiny_case is not None:
        sample = tiny_case / "seized_sample"
        for kind, rel in (("tiny_jpeg", "DCIM/100CAMRA/IMG_0001.JPG"), ("tiny_heic", "Pictures/PhoneBackup/IMG_4101.HEIC"),
                          ("tiny_tiff", "Documents/Scans/scan_0001.tif")):
            out[kind] = (Path(rel).name, (sample / rel).read_bytes())
        video = sorted(tiny_case.rglob("*.mp4"))[0]
        out["mp4"] = (video.name, video.read_bytes())
    return out


# --------------------------------------------------------------------------- kinds of damage


def _boundaries(data: bytes) -> list[int]:
    """Offsets of every structural piece: JPEG markers, PNG chunks, BMFF boxes; every 64 bytes of the first KiB
    for other kinds."""
    walker = {"jpeg": formats.jpeg_segments, "png": formats.png_chunks, "heic": formats.bmff_boxes,
              "mp4": formats.bmff_boxes}.get(sniff(data))
    if walker is None:
        return list(range(0, min(len(data), 1024), 64))
    return sorted({s.offset for s in walker(data)})


def truncations(name: str, data: bytes) -> Iterator[Broken]:
    """The file cut at every marker/chunk/box: just before it, inside its marker, inside its length, halfway."""
    cuts: set[int] = {1, 2, 3, len(data) // 2, len(data) - 1, len(data) - 2}
    offsets = _boundaries(data)
    for i, at in enumerate(offsets):
        nxt = offsets[i + 1] if i + 1 < len(offsets) else len(data)
        cuts |= {at, at + 1, at + 2, at + 3, at + 5, (at + nxt) // 2}
    for cut in sorted(c for c in cuts if 0 < c < len(data)):
        yield Broken(name, data[:cut], f"truncated at {cut:,} of {len(data):,}")


def flips(name: str, data: bytes, start: int, stop: int, count: int, seed: int) -> Iterator[Broken]:
    """`count` variants, each with 1–8 bytes of data[start:stop] set to random values (seeded)."""
    rng = random.Random(seed)
    stop = min(stop, len(data))
    for n in range(count):
        broken = bytearray(data)
        changed = []
        for _ in range(rng.randint(1, 8)):
            at = rng.randrange(start, stop)
            broken[at] = rng.randrange(256)
            changed.append(at)
        yield Broken(name, bytes(broken), f"byte flips #{n} at {sorted(changed)}")


def _patched(data: bytes, at: int, raw: bytes) -> bytes:
    return data[:at] + raw + data[at + len(raw):]


def ifd_attacks(name: str, data: bytes, base: int, layout: Layout) -> Iterator[Broken]:
    """Looping and recursive IFD offsets, bogus entry counts and value sizes in the TIFF structure at `base`."""
    ifds, fields = layout.ifds, layout.fields
    u32 = lambda v: struct.pack("<I", v)  # noqa: E731
    attacks = {
        "IFD0 next-IFD points to itself": (fields["ifd0.next"], u32(ifds["ifd0"])),
        "IFD1 next-IFD points back to IFD0": (fields["ifd1.next"], u32(ifds["ifd0"])),
        "Exif IFD pointer points to IFD0": (fields["ifd0.8769"], u32(ifds["ifd0"])),
        "GPS IFD pointer points to IFD0": (fields["ifd0.8825"], u32(ifds["ifd0"])),
        "Interop pointer points to the Exif IFD (recursion)": (fields["exif.a005"], u32(ifds["exif"])),
        "Interop pointer points to IFD0": (fields["exif.a005"], u32(ifds["ifd0"])),
        "MakerNote points at IFD0": (fields["exif.927c"], u32(ifds["ifd0"])),
        "Exif IFD pointer far beyond the block": (fields["ifd0.8769"], u32(0xFFFFFF00)),
        "GPS IFD pointer into the TIFF header": (fields["ifd0.8825"], u32(2)),
        "IFD0 offset beyond the block": (4, u32(0xFFFFFFF0)),
        "IFD0 offset 0": (4, u32(0)),
        "IFD0 offset points into the header": (4, u32(3)),
        "thumbnail offset beyond the block": (fields["ifd1.0201"], u32(0x7FFFFFFF)),
        "thumbnail length 4 GiB": (fields["ifd1.0202"], u32(0xFFFFFFFF)),
        "Canon serial offset loops": (fields["makernote.0096"], u32(ifds["makernote"])),
    }
    one_double_far = struct.pack("<HII", 12, 1, 0x7FFFFFF0)  # type, count, offset: one 8-byte value out of reach
    attacks["IFD0 Orientation as one DOUBLE past the end"] = (fields["ifd0.0112"] - 6, one_double_far)
    attacks["GPS latitude as one DOUBLE past the end"] = (fields["gps.0002"] - 6, one_double_far)
    for count_of in ("ifd0", "exif", "gps", "ifd1", "makernote", "interop"):
        attacks[f"{count_of} declares 65,535 entries"] = (ifds[count_of], b"\xff\xff")
    # an entry's count field sits 4 bytes before its value field, its type 6 before
    for key in ("ifd0.010f", "exif.9003", "gps.0002", "exif.927c"):
        attacks[f"{key} count 4 G"] = (fields[key] - 4, u32(0xFFFFFFFF))
        attacks[f"{key} type 0"] = (fields[key] - 6, b"\x00\x00")
        attacks[f"{key} type 99"] = (fields[key] - 6, b"\x63\x00")
    for how, (at, raw) in attacks.items():
        yield Broken(name, _patched(data, base + at, raw), how)


def jpeg_attacks(name: str, data: bytes) -> Iterator[Broken]:
    """Bogus segment lengths and oversized or zero frame sizes in a JPEG."""
    segments = formats.jpeg_segments(data)
    for s in segments:
        if s.name in ("SOI", "EOI") or not s.marker:
            continue
        for length in (0, 1, 2, 3, 0xFFFF):
            yield Broken(name, _patched(data, s.offset + 2, struct.pack(">H", length)), f"{s.name} length {length}")
    sof = next(s.offset for s in segments if s.name.startswith("SOF"))
    for w, h in ((65535, 65535), (65500, 65500), (0, 0), (1, 65535), (13000, 13000)):
        yield Broken(name, _patched(data, sof + 5, struct.pack(">HH", h, w)), f"SOF declares {w}×{h}")
    yield Broken(name, _patched(data, sof + 9, b"\xff"), "SOF declares 255 components")
    yield Broken(name, data[:2] + b"\xff\xe1\xff\xff" + data[2:], "APP1 of 65,535 bytes with no body")
    yield Broken(name, data[:2] + b"\xff" * 5000 + data[2:], "5,000 fill bytes after SOI")
    yield Broken(name, data[:2] + b"\xff\xfe\x00\x10" + b"comment" * 2 + data[2:], "COM segment overlapping the next")
    yield Broken(name, data[:2] + b"\xff\xd8" * 3000 + data[2:], "3,000 repeated SOI markers")
    yield Broken(name, data + b"\x00" * 4096 + data, "two pictures with zeros between")


def png_attacks(name: str, data: bytes) -> Iterator[Broken]:
    """Bogus chunk lengths (CRCs still right where a checker would look), huge IHDR sizes, chunk loops."""
    ihdr = data[16:29]
    for w, h in ((2**31 - 1, 2**31 - 1), (100_000, 100_000), (0, 0), (1, 2**31 - 1)):
        body = struct.pack(">II", w, h) + ihdr[8:]
        yield Broken(name, data[:8] + _png_chunk(b"IHDR", body) + data[33:], f"IHDR declares {w}×{h}")
    chunks = formats.png_chunks(data)
    for s in chunks[1:]:
        for length in (0xFFFFFFFF, 0x7FFFFFFF, 0):
            yield Broken(name, _patched(data, s.offset, struct.pack(">I", length)), f"{s.name} length {length:,}")
    yield Broken(name, data[:8] + _png_chunk(b"eXIf", b"II*\x00\x08\x00\x00\x00" + b"\xff\xff" + bytes(10)) + data[8:],
                 "eXIf before IHDR with 65,535 entries")


def bmff_attacks(name: str, data: bytes) -> Iterator[Broken]:
    """Box sizes 0, 1 (a 64-bit size of 2^63), 7 and 4 GiB; an ispe (image size) of 2^32-1 × 2^32-1."""
    for s in formats.bmff_boxes(data):
        for size, extra in ((0, b""), (1, struct.pack(">Q", 2**63)), (7, b""), (0xFFFFFFFF, b"")):
            broken = _patched(data, s.offset, struct.pack(">I", size))
            if extra:
                broken = broken[:s.offset + 8] + extra + broken[s.offset + 8:]
            yield Broken(name, broken, f"{s.name} box size {size}")
    at = data.find(b"ispe")
    if at > 0:
        yield Broken(name, _patched(data, at + 8, struct.pack(">II", 0xFFFFFFFF, 0xFFFFFFFF)), "ispe 2^32-1 square")
        yield Broken(name, _patched(data, at + 8, struct.pack(">II", 0, 0)), "ispe 0×0")


def riff_attacks(name: str, data: bytes) -> Iterator[Broken]:
    """RIFF sizes of 4 GiB and 0; a WAV whose format chunk says 0 channels or a 3-byte odd sample width."""
    yield Broken(name, _patched(data, 4, struct.pack("<I", 0xFFFFFFFF)), "RIFF size 4 GiB")
    yield Broken(name, _patched(data, 4, struct.pack("<I", 0)), "RIFF size 0")
    fmt = data.find(b"fmt ")
    if fmt > 0:
        yield Broken(name, _patched(data, fmt + 4, struct.pack("<I", 0xFFFFFFF0)), "fmt chunk size 4 GiB")
        yield Broken(name, _patched(data, fmt + 10, struct.pack("<H", 0)), "0 channels")
        yield Broken(name, _patched(data, fmt + 12, struct.pack("<I", 0)), "sample rate 0")
        yield Broken(name, _patched(data, fmt + 22, struct.pack("<H", 7)), "7-bit samples")
    data_at = data.find(b"data")
    if data_at > 0:
        yield Broken(name, _patched(data, data_at + 4, struct.pack("<I", 0xFFFFFFF0)), "data chunk size 4 GiB")


def bmp_gif_attacks(name: str, data: bytes) -> Iterator[Broken]:
    """Oversized BMP and GIF headers."""
    if data.startswith(b"BM"):
        yield Broken(name, _patched(data, 18, struct.pack("<ii", 2**31 - 1, 2**31 - 1)), "BMP 2^31-1 square")
        yield Broken(name, _patched(data, 18, struct.pack("<ii", 30000, -30000)), "BMP 30,000² top-down")
        yield Broken(name, _patched(data, 10, struct.pack("<I", 0xFFFFFFF0)), "BMP pixel offset 4 GiB")
    if data.startswith(b"GIF"):
        yield Broken(name, _patched(data, 6, struct.pack("<HH", 65535, 65535)), "GIF screen 65,535²")


def wrong_magic(seeds_: dict[str, tuple[str, bytes]]) -> Iterator[Broken]:
    """Each seed with its magic damaged, and each kind's magic in front of another kind's body."""
    bodies = [data for _, data in seeds_.values()]
    for name, data in seeds_.values():
        yield Broken(name, b"\x00\x00\x00\x00" + data[4:], "first 4 bytes zeroed")
        yield Broken(name, bytes([data[0] ^ 0xFF]) + data[1:], "first byte inverted")
    magics = {"jpg": b"\xff\xd8\xff\xe1", "png": b"\x89PNG\r\n\x1a\n", "tif": b"II*\x00",
              "heic": b"\x00\x00\x00\x18ftypheic", "bigtiff.tif": b"II+\x00", "webp": b"RIFF\x00\x00\x00\x00WEBP",
              "wav": b"RIFF\xff\xff\xff\xffWAVE", "gif": b"GIF89a", "bmp": b"BM", "mp4": b"\x00\x00\x00\x20ftypisom"}
    for ext, magic in magics.items():
        for i, body in enumerate(bodies[:4]):
            yield Broken(f"magic.{ext}", magic + body[len(magic):], f"{ext} magic on seed #{i}'s body")
        yield Broken(f"magic_only.{ext}", magic, f"{ext} magic alone")


def tiny_files() -> Iterator[Broken]:
    """Empty, near-empty and zero-filled files under picture names."""
    for name, data, how in (("empty.jpg", b"", "zero bytes"), ("ff.jpg", b"\xff", "one FF byte"),
                            ("soi.jpg", b"\xff\xd8", "SOI only"), ("soi_eoi.jpg", b"\xff\xd8\xff\xd9", "SOI then EOI"),
                            ("zeros.jpg", bytes(4096), "4 KiB of zeros"), ("ones.png", b"\xff" * 4096, "4 KiB of FF"),
                            ("exif_only.jpg", b"\xff\xd8\xff\xe1\x00\x08Exif\x00\x00", "SOI and an empty EXIF"),
                            ("tiff_header.tif", b"II*\x00\x08\x00\x00\x00", "TIFF header and nothing")):
        yield Broken(name, data, how)


def broken_files(seeds_: dict[str, tuple[str, bytes]], flips_per_seed: int = 10) -> Iterator[Broken]:
    """Every kind of damage to every seed (deterministic)."""
    jpeg, base, layout = camera_jpeg()
    tiff, tiff_layout = camera_tiff(bytes(range(64)), (8, 8))
    yield from tiny_files()
    yield from wrong_magic(seeds_)
    yield from ifd_attacks("camera.jpg", jpeg, base, layout)
    yield from ifd_attacks("camera.tif", tiff, 0, tiff_layout)
    yield Broken("bomb_grey.png", png_bomb(10_000, 10_000), "PNG bomb: 100 M grey pixels in half a MB")
    yield Broken("bomb_big.png", png_bomb(20_000, 20_000, 2, inflates=False), "PNG declaring 400 M RGB pixels")
    for i, (kind, (name, data)) in enumerate(sorted(seeds_.items())):
        yield from truncations(name, data)
        header_end = min(len(data), 4096)
        if sniff(data) == "jpeg":
            header_end = next((s.offset for s in formats.jpeg_segments(data) if s.name == "SOS"), header_end)
            yield from jpeg_attacks(name, data)
        elif kind.endswith("png"):
            yield from png_attacks(name, data)
        elif sniff(data) in ("heic", "mp4"):
            yield from bmff_attacks(name, data)
        elif sniff(data) in ("wav", "webp"):
            yield from riff_attacks(name, data)
        else:
            yield from bmp_gif_attacks(name, data)
        yield from flips(name, data, 0, header_end, flips_per_seed, SEED + i)
    exif_end = base + len(camera_tiff()[0])
    yield from flips("camera.jpg", jpeg, base, exif_end, 3 * flips_per_seed, SEED - 1)


def exif_span(data: bytes) -> tuple[int, int] | None:
    """Where the TIFF structure of a JPEG's EXIF APP1 segment lies (start, end), or None."""
    try:
        segments = formats.jpeg_segments(data)
    except ValueError:
        return None
    for s in segments:
        if s.name == "APP1" and data[s.offset + 4:s.offset + 10] == b"Exif\x00\x00":
            return s.offset + 10, min(s.end, len(data))
    return None


def real_file_variants(path: Path, count: int, seed: int) -> Iterator[Broken]:
    """Damage to a real camera file: truncation at its markers, and byte flips in its EXIF (MakerNote included)
    or, for other kinds, its first 4 KiB."""
    data = path.read_bytes()
    try:  # cuts inside the picture data all read alike to a header reader: keep those in the header, and the end
        header_end = next(s.offset for s in formats.jpeg_segments(data) if s.name == "SOS") + 16
    except (ValueError, StopIteration):
        header_end = 4096
    yield from (b for b in truncations(path.name, data) if len(b.data) <= header_end or len(b.data) >= len(data) - 2)
    span = exif_span(data)
    start, stop = span if span else (0, min(len(data), 4096))
    if stop - start > 8:
        yield from flips(path.name, data, start + 8, stop, count, seed)


def write_all(folder: Path, broken: list[Broken]) -> list[Path]:
    """Each variant as its own file (numbered, under its claimed name) in folder; the paths in order."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, b in enumerate(broken):
        path = folder / f"{n:05d}_{b.name}"
        path.write_bytes(b.data)
        paths.append(path)
    return paths


def sparse_zeros(path: Path, size: int) -> Path:
    """A file of `size` zero bytes that takes no disk space (a hole), e.g. a wiped drive's image."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def disk_image(path: Path, broken: list[Broken], gap: int = 4096) -> Path:
    """A raw 'disk image' of the variants one after another on sector boundaries, zeros between."""
    with open(path, "wb") as f:
        for b in broken:
            f.write(b.data)
            f.write(bytes(gap - (f.tell() % 512 or 512) + 512))
    return path


__all__ = ["Broken", "Layout", "SEED", "BUGS", "camera_tiff", "camera_jpeg", "png_bomb", "hum_wav", "seeds", "truncations",
           "flips", "ifd_attacks", "jpeg_attacks", "png_attacks", "bmff_attacks", "riff_attacks", "bmp_gif_attacks",
           "wrong_magic", "tiny_files", "broken_files", "exif_span", "real_file_variants", "write_all", "sparse_zeros",
           "disk_image"]

if __name__ == "__main__":  # a quick look: how many variants of each kind
    import collections

    found = list(broken_files(seeds()))
    print(len(found), collections.Counter(os.path.splitext(b.name)[1] for b in found))
