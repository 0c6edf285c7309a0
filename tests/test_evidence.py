"""vidlab.evidence: real files in (made with Pillow, zipfile, wave, sqlite3 or by hand), real answers out.

The sample builders and the `blobs` / `evidence_dir` fixtures here are shared with test_formats and test_scan.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import multiprocessing
import os
import random
import socket
import sqlite3
import struct
import wave
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, PngImagePlugin

from vidlab import evidence as ev
from vidlab import formats as fm

# --------------------------------------------------------------------------- building real files


def _noise(w: int = 320, h: int = 240, seed: int = 7) -> Image.Image:
    """A noisy RGB picture: its JPEG scan data is full of stuffed FF 00 bytes."""
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, w, dtype=np.float64)[None, :, None]
    pixels = np.clip(base + rng.normal(0, 60, (h, w, 3)), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "VIDLab Optics"  # Make
    exif[0x0110] = "Synthetic 1"  # Model
    exif[0x0131] = "vidlab tests"  # Software
    return exif


def _jpeg_exif() -> bytes:
    return _save(_noise(), "JPEG", quality=90, exif=_exif())


def _jpeg_progressive() -> bytes:
    return _save(_noise(), "JPEG", quality=85, progressive=True)


def _png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "VID Lab")
    return _save(_noise(), "PNG", pnginfo=info)


def _gif_animated() -> bytes:
    frames = [_noise(64, 48, seed).convert("P") for seed in (1, 2, 3)]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _tiff_le() -> bytes:
    return _save(_noise(64, 48), "TIFF")


def _tiff_be() -> bytes:
    return _save(Image.frombytes("I;16B", (64, 48), bytes(range(256)) * 24), "TIFF")  # Pillow writes I;16B as MM


def _heic() -> bytes:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return _save(_noise(64, 48), "HEIF", quality=60)


def _pdf() -> bytes:
    body = (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    )
    xref = len(body)
    return body + (
        b"xref\n0 3\n0000000000 65535 f \n0000000019 00000 n \n0000000074 00000 n \n"
        b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n" + str(xref).encode() + b"\n%%EOF\n"
    )


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("notes/readme.txt", "case notes " * 200)
        z.writestr("photo.jpg", _save(_noise(32, 24), "JPEG"))
    return buf.getvalue()


def _wav(seconds: float = 0.25, rate: int = 8000) -> bytes:
    """Mono 16-bit PCM with a 50 Hz mains hum, written by the standard library's wave module."""
    samples = (int(8000 * math.sin(2 * math.pi * 50 * i / rate)) for i in range(int(seconds * rate)))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buf.getvalue()


def _chunk(fourcc: bytes, body: bytes) -> bytes:
    """One RIFF chunk, padded to an even length."""
    return fourcc + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def _avi() -> bytes:
    """A one-frame Motion-JPEG AVI built by hand (the standard library has no AVI writer)."""
    frame = _save(_noise(32, 24), "JPEG", quality=70)
    avih = struct.pack("<14I", 40000, 0, 0, 0x10, 1, 0, 1, 0, 32, 24, 0, 0, 0, 0)
    strh = b"vidsMJPG" + struct.pack("<IHHIIIIIIIIhhhh", 0, 0, 0, 0, 1, 25, 0, 1, len(frame), 0, 0, 0, 0, 32, 24)
    strf = struct.pack("<IiiHH4sIiiII", 40, 32, 24, 1, 24, b"MJPG", 32 * 24 * 3, 0, 0, 0, 0)
    hdrl = b"hdrl" + _chunk(b"avih", avih) + _chunk(b"LIST", b"strl" + _chunk(b"strh", strh) + _chunk(b"strf", strf))
    movi = b"movi" + _chunk(b"00dc", frame)
    idx1 = b"00dc" + struct.pack("<III", 0x10, 4, len(frame))
    return _chunk(b"RIFF", b"AVI " + _chunk(b"LIST", hdrl) + _chunk(b"LIST", movi) + _chunk(b"idx1", idx1))


def _sqlite(tmp: Path) -> bytes:
    """A small SQLite database of the kind phone apps keep, made by the standard library."""
    path = tmp / "messages.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, sent TEXT, body TEXT)")
        db.executemany("INSERT INTO message (sent, body) VALUES (?, ?)",
                       [("2024-05-01T10:00:00Z", "meet at the cafe"), ("2024-05-01T10:05:00Z", "ok")])
    db.close()
    return path.read_bytes()


TEXT = "Exhibit 12 – seized laptop\nÜbersicht, résumé, 日本語\n" * 20


@pytest.fixture(scope="module")
def blobs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every sample, built once per test module."""
    return {
        "jpeg_exif": _jpeg_exif(),
        "jpeg_progressive": _jpeg_progressive(),
        "png": _png(),
        "gif": _gif_animated(),
        "tiff_le": _tiff_le(),
        "tiff_be": _tiff_be(),
        "heic": _heic(),
        "webp": _save(_noise(), "WEBP", quality=80),
        "webp_lossless": _save(_noise(64, 48), "WEBP", lossless=True),
        "bmp": _save(_noise(64, 48), "BMP"),
        "pdf": _pdf(),
        "zip": _zip(),
        "text": TEXT.encode("utf-8"),
        "wav": _wav(),
        "avi": _avi(),
        "sqlite": _sqlite(tmp_path_factory.mktemp("sqlite")),
    }


# name on disk -> (blob key, real kind, extension_ok)
FILES = {
    "DCIM/IMG_0001.jpg": ("jpeg_exif", "jpeg", True),
    "DCIM/IMG_0002.JPG": ("jpeg_progressive", "jpeg", True),
    "DCIM/sub/scan.png": ("png", "png", True),
    "DCIM/sub/anim.gif": ("gif", "gif", True),
    "raw/le.tif": ("tiff_le", "tiff", True),
    "raw/be.tiff": ("tiff_be", "tiff", True),
    "raw/camera.dng": ("tiff_le", "tiff", True),
    "phone/IMG_1234.HEIC": ("heic", "heic", True),
    "phone/shared.heif": ("heic", "heic", True),
    "web/pic.webp": ("webp", "webp", True),
    "web/lossless.webp": ("webp_lossless", "webp", True),
    "paint.bmp": ("bmp", "bmp", True),
    "docs/report.pdf": ("pdf", "pdf", True),
    "docs/archive.zip": ("zip", "zip", True),
    "docs/notes.txt": ("text", "text", True),
    "media/hum.wav": ("wav", "wav", True),
    "media/clip.avi": ("avi", "avi", True),
    "apps/chat.sqlite": ("sqlite", "sqlite", True),
    "apps/contacts.db": ("sqlite", "sqlite", None),  # .db is also Windows' Thumbs.db (OLE): cannot judge
    # renamed files: the name lies about the content
    "renamed/holiday.png": ("jpeg_exif", "jpeg", False),
    "renamed/invoice.pdf": ("png", "png", False),
    "renamed/clip.mp4": ("heic", "heic", False),
    "renamed/list.jpg": ("text", "text", False),
    "renamed/movie.mp4": ("avi", "avi", False),
    "renamed/backup.dat": ("zip", "zip", None),  # extension unknown to us: cannot judge
    "renamed/noextension": ("jpeg_exif", "jpeg", None),
}


@pytest.fixture()
def evidence_dir(tmp_path: Path, blobs: dict[str, bytes]) -> Path:
    """A small seized-device-like folder of real files (plus an empty one)."""
    root = tmp_path / "exhibit"
    for rel, (key, _kind, _ok) in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blobs[key])
    (root / "empty.jpg").write_bytes(b"")
    return root


def _deny(name: str, monkeypatch) -> None:
    """Make every file called `name` unreadable (tests run as root, which reads through chmod 000)."""
    real_open = ev.open_readonly

    def deny(path):
        if Path(path).name == name:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path)

    monkeypatch.setattr(ev, "open_readonly", deny)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    "header, kind",
    [
        (b"", "empty"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "jpeg"),
        (b"\xff\xd8\xff\xe1\x12\x34Exif\x00\x00", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"GIF87a\x01\x00", "gif"),
        (b"GIF89a\x01\x00", "gif"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
        (b"II+\x00\x08\x00\x00\x00", "tiff"),  # BigTIFF
        (b"IIRO\x08\x00\x00\x00", "tiff"),  # Olympus ORF
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "heic"),
        (b"\x00\x00\x00\x14ftypheix\x00\x00\x00\x00mif1", "heic"),
        (b"\x00\x00\x00\x14ftypmsf1\x00\x00\x00\x00hevc", "heic"),
        (b"\x00\x00\x00\x20ftypavif\x00\x00\x00\x00avifmif1miafMA1B", "avif"),
        (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif", "avif"),
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", "mp4"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "mp4"),
        (b"\x00\x00\x00\x08wide\x00\x10\x00\x00mdat", "mp4"),  # old QuickTime, no ftyp
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "webp"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00", "wav"),
        (b"RIFF\xf0\x1f\x00\x00AVI LIST\xc0\x00\x00\x00hdrl", "avi"),
        (b"RIFF\x24\x00\x00\x00AVIX", "unknown"),  # an OpenDML continuation, not a file start
        (b"SQLite format 3\x00\x10\x00\x01\x01\x00@  ", "sqlite"),
        (b"SQLite format 2\n", "text"),  # not the SQLite 3 signature
        (b"BM6\x84\x03\x00\x00\x00\x00\x006\x00\x00\x00(\x00\x00\x00", "bmp"),
        (b"BMW service history\nBMW 320d, 2019\n", "text"),  # starts 'BM' but is text
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),
        (b"\r\n--MIME junk\r\n%PDF-1.4\n%\xe2\xe3\xcf\xd3\n\x00\x01\x02stream", "pdf"),  # junk before the header
        (b"Note: every PDF starts with %PDF-1.7, see ISO 32000.\n", "text"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "zip"),
        (b"PK\x05\x06" + bytes(18), "zip"),  # empty archive
        (b"plain ASCII notes\r\nline two\r\n", "text"),
        ("Übersicht: résumé, 日本語\n".encode(), "text"),
        ("Übersicht: résumé\n".encode("cp1252"), "text"),  # legacy 8-bit text
        ("\ufeffBOM text".encode("utf-8"), "text"),
        ("UTF-16 text with BOM\n".encode("utf-16"), "text"),
        ("日本語".encode() * 3 + "日".encode()[:2], "text"),  # header cut mid-character
        (bytes(range(256)), "unknown"),
        (b"\x00\x00\x00\x01Bud1\x00\x00\x10\x00", "unknown"),  # macOS .DS_Store
    ],
)
def test_sniff_magic_numbers(header: bytes, kind: str) -> None:
    assert ev.sniff(header) == kind
    assert kind in ev.KINDS


def test_sniff_random_binary_is_unknown() -> None:
    rng = random.Random(1)
    for _ in range(50):
        blob = bytes(rng.randrange(256) for _ in range(512))
        assert ev.sniff(blob) == "unknown"


def test_identify_every_real_format(evidence_dir: Path) -> None:
    for rel, (_key, kind, ok) in FILES.items():
        path = evidence_dir / rel
        assert ev.identify(path) == kind, rel
        assert ev.extension_matches(path) is ok, rel
        assert ev.extension_matches(path, kind) is ok, rel
    assert ev.identify(evidence_dir / "empty.jpg") == "empty"


def test_extensions_map() -> None:
    assert set(ev.EXTENSIONS.values()) <= set(ev.KINDS)
    assert all(ext == ext.lower() and not ext.startswith(".") for ext in ev.EXTENSIONS)
    for ext, kind in {"jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "jfif": "jpeg", "png": "png",
                      "gif": "gif", "tif": "tiff", "tiff": "tiff", "heic": "heic", "heif": "heic",
                      "hif": "heic", "webp": "webp", "bmp": "bmp", "pdf": "pdf", "zip": "zip",
                      "mp4": "mp4", "mov": "mp4", "m4v": "mp4", "txt": "text", "log": "text",
                      "ini": "text", "csv": "text", "json": "text", "xml": "text", "md": "text",
                      "avi": "avi", "wav": "wav", "sqlite": "sqlite", "sqlite3": "sqlite",
                      "dng": "tiff", "nef": "tiff", "cr2": "tiff", "arw": "tiff"}.items():
        assert ev.EXTENSIONS[ext] == kind, ext


def test_extension_matches_edge_cases(tmp_path: Path) -> None:
    empty = _write(tmp_path, "broken.jpg", b"")
    assert ev.extension_matches(empty) is None  # a zero-byte file claims nothing
    assert ev.extension_matches("x.JPG", "jpeg") is True
    assert ev.extension_matches("x.jpeg", "png") is False
    assert ev.extension_matches("x.jpg", "unknown") is False
    assert ev.extension_matches("archive.tar.gz", "unknown") is None
    assert ev.extension_matches("README", "text") is None
    assert ev.extension_matches(".bashrc", "text") is None
    assert ev.extension_matches("photo.heif", "avif") is True  # generic HEIF may carry AV1
    assert ev.extension_matches("photo.heic", "avif") is False
    assert ev.extension_matches("raw.NEF", "tiff") is True


def test_reading_refuses_folders_and_pipes(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        ev.identify(tmp_path)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        with pytest.raises(OSError, match="not a regular file"):
            ev.identify(fifo)  # and it does not hang waiting for a writer


# --------------------------------------------------------------------------- survey


def _snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_atime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def test_survey_inventory(evidence_dir: Path) -> None:
    os.symlink(evidence_dir / "paint.bmp", evidence_dir / "link.bmp")
    os.symlink(evidence_dir / "missing.jpg", evidence_dir / "dangling.jpg")
    if hasattr(os, "mkfifo"):
        os.mkfifo(evidence_dir / "docs" / "pipe.txt")
    regular = [p for p in evidence_dir.rglob("*") if p.is_file() and not p.is_symlink()]

    df = ev.survey(evidence_dir)
    assert list(df.columns) == list(ev.SURVEY_COLUMNS) == [
        "path", "size", "extension", "kind", "extension_ok", "complete", "error"]
    assert len(df) == len(regular) == len(FILES) + 1
    assert list(df["path"]) == sorted(df["path"])
    rows = df.set_index("path")
    for rel, (key, kind, ok) in FILES.items():
        row = rows.loc[rel]
        assert row["kind"] == kind, rel
        assert row["size"] == (evidence_dir / rel).stat().st_size
        assert (row["extension_ok"] is pd.NA) if ok is None else (row["extension_ok"] == ok), rel
        assert row["error"] is None
    assert rows.loc["DCIM/IMG_0002.JPG", "extension"] == "jpg"
    assert rows.loc["renamed/noextension", "extension"] == ""
    assert rows.loc["empty.jpg", "kind"] == "empty" and rows.loc["empty.jpg", "complete"] == False  # noqa: E712
    assert rows.loc["empty.jpg", "extension_ok"] is pd.NA
    assert rows.loc["docs/notes.txt", "complete"] is pd.NA
    assert rows.loc["DCIM/IMG_0001.jpg", "complete"] == True  # noqa: E712
    assert str(df["extension_ok"].dtype) == "boolean" and str(df["complete"].dtype) == "boolean"
    skipped = {s["path"]: s["reason"] for s in df.attrs["skipped"]}
    assert "symbolic link" in skipped["link.bmp"] and "symbolic link" in skipped["dangling.jpg"]
    if hasattr(os, "mkfifo"):
        assert "named pipe" in skipped["docs/pipe.txt"]

    top = ev.survey(evidence_dir, recursive=False, progress=False)
    assert sorted(top["path"]) == ["empty.jpg", "paint.bmp"]


def test_reading_does_not_alter_evidence(evidence_dir: Path, tmp_path: Path) -> None:
    old = 1_500_000_000 * 10**9
    for p in evidence_dir.rglob("*"):
        if p.is_file():
            os.utime(p, ns=(old, old + 10**9))  # atime older than mtime: a plain read would bump it
    before = _snapshot(evidence_dir)
    listing = sorted(evidence_dir.rglob("*"))
    ev.survey(evidence_dir, progress=True)
    ev.manifest(evidence_dir, out=tmp_path / "m.json", workers=2)
    ev.verify(evidence_dir, tmp_path / "m.json")
    for p in evidence_dir.rglob("*"):
        if p.is_file():
            fm.structure(p), fm.is_complete(p), fm.hex_view(p), ev.identify(p), ev.hashes(p)
    after = _snapshot(evidence_dir)
    assert sorted(evidence_dir.rglob("*")) == listing  # nothing written inside the evidence folder
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    if hasattr(os, "O_NOATIME"):  # Linux: we open with O_NOATIME, so even atime is untouched
        assert {k: v[2] for k, v in after.items()} == {k: v[2] for k, v in before.items()}


def test_printable_path_escapes_undecodable_names() -> None:
    raw = b"DCIM/caf\xe9_\xff.jpg"  # Latin-1 é and a stray byte: not UTF-8
    assert ev.printable_path(raw) == ev.printable_path(os.fsdecode(raw)) == "DCIM/caf\\xe9_\\xff.jpg"
    assert ev.printable_path("Café/写真.jpg") == "Café/写真.jpg"


def test_survey_records_unreadable_files_and_goes_on(evidence_dir: Path, monkeypatch) -> None:
    locked = evidence_dir / "DCIM" / "IMG_0001.jpg"
    locked.chmod(0)
    try:
        df = ev.survey(evidence_dir, progress=False)
    finally:
        locked.chmod(0o644)
    assert len(df) == len(FILES) + 1
    row = df.set_index("path").loc["DCIM/IMG_0001.jpg"]
    if os.name == "posix" and os.geteuid() == 0:
        # root reads through mode 000, so chmod cannot make the error here; the simulated
        # permission error below checks the same handling on every platform.
        assert row["error"] is None
    else:
        assert "Permission denied" in row["error"] and pd.isna(row["kind"])

    _deny("IMG_0001.jpg", monkeypatch)
    df = ev.survey(evidence_dir, progress=False)
    assert len(df) == len(FILES) + 1
    rows = df.set_index("path")
    bad = rows.loc["DCIM/IMG_0001.jpg"]
    assert bad["error"] == "PermissionError: Permission denied"
    assert pd.isna(bad["kind"]) and bad["size"] == locked.stat().st_size
    assert bad["extension_ok"] is pd.NA and bad["complete"] is pd.NA
    assert rows.drop(index="DCIM/IMG_0001.jpg")["error"].isna().all()


def test_survey_unlistable_folder_and_socket(evidence_dir: Path, monkeypatch) -> None:
    if hasattr(socket, "AF_UNIX"):
        with socket.socket(socket.AF_UNIX) as sock:
            try:
                sock.bind(str(evidence_dir / "s.sock"))  # the socket file stays after close
            except OSError:  # path too long on some systems: not what this test is about
                pass
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "raw":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(ev.os, "scandir", scandir)
    with pytest.warns(UserWarning, match="could not be listed"):
        df = ev.survey(evidence_dir, progress=False)
    assert not any(p.startswith("raw/") for p in df["path"])
    reasons = {s["path"]: s["reason"] for s in df.attrs["skipped"]}
    assert reasons["raw"].startswith("folder not listed")
    if (evidence_dir / "s.sock").exists():
        assert "socket" in reasons["s.sock"]


def test_survey_progress_bar_only_for_many_files(tmp_path: Path, capsys) -> None:
    for i in range(3):
        (tmp_path / f"f{i}.txt").write_text("x")
    ev.survey(tmp_path)
    assert "survey" not in capsys.readouterr().err
    for i in range(3, ev.PROGRESS_THRESHOLD + 1):
        (tmp_path / f"f{i}.txt").write_text("x")
    df = ev.survey(tmp_path)
    assert len(df) == ev.PROGRESS_THRESHOLD + 1 and "survey" in capsys.readouterr().err
    ev.survey(tmp_path, progress=False)
    assert "survey" not in capsys.readouterr().err


def test_survey_empty_and_missing_folders(tmp_path: Path) -> None:
    df = ev.survey(tmp_path)
    assert df.empty and list(df.columns) == list(ev.SURVEY_COLUMNS)
    with pytest.raises(NotADirectoryError):
        ev.survey(tmp_path / "nope")



# --------------------------------------------------------------------------- hashing


def test_hashes_match_hashlib_from_one_read(tmp_path: Path, monkeypatch) -> None:
    rng = random.Random(5)
    sizes = [0, 1, ev.HASH_BUFFER - 1, ev.HASH_BUFFER, 2 * ev.HASH_BUFFER + ev.HASH_BUFFER // 2]
    opened = []
    real_open = ev.open_readonly
    monkeypatch.setattr(ev, "open_readonly", lambda path: opened.append(path) or real_open(path))
    for size in sizes:
        data = rng.randbytes(size)
        path = _write(tmp_path, f"f{size}.bin", data)
        opened.clear()
        assert ev.hashes(path) == {a: hashlib.new(a, data).hexdigest() for a in ("md5", "sha1", "sha256")}, size
        assert len(opened) == 1  # all three digests from a single pass over the file
        assert ev.hashes(path, ("sha512",)) == {"sha512": hashlib.sha512(data).hexdigest()}
    with pytest.raises(ValueError, match="unsupported hash type"):
        ev.hashes(path, ("md5", "nonsense"))
    with pytest.raises(IsADirectoryError):
        ev.hashes(tmp_path)


def test_file_times_keep_every_nanosecond(tmp_path: Path) -> None:
    assert ev._utc_iso(0) == "1970-01-01T00:00:00.000000000Z"
    assert ev._utc_iso(-1) == "1969-12-31T23:59:59.999999999Z"
    path = _write(tmp_path, "a.txt", b"x")
    for ns in (1_700_000_000_123_456_789, 951_782_400 * 10**9 + 7):  # a leap day, 7 ns past the second
        os.utime(path, ns=(ns, ns))
        shown = ev.manifest(tmp_path)["mtime"].iloc[0]
        assert pd.Timestamp(shown).value == ns == path.stat().st_mtime_ns, shown
        assert shown.endswith("Z") and len(shown) == len("2000-02-29T00:00:00.000000007Z")


# --------------------------------------------------------------------------- manifests


def _odd_names(root: Path) -> dict[str, bytes]:
    """Files whose names break naive tools: not UTF-8, a comma, quotes and a newline. Shown path -> bytes."""
    made = {"caf\\xe9.jpg": b"latin-1 name", 'odd, "quoted"\nname.txt': b"csv trouble"}
    with open(os.fsencode(root) + b"/caf\xe9.jpg", "wb") as f:
        f.write(made["caf\\xe9.jpg"])
    (root / 'odd, "quoted"\nname.txt').write_bytes(made['odd, "quoted"\nname.txt'])
    return made


def test_manifest_rows(evidence_dir: Path) -> None:
    odd = _odd_names(evidence_dir)
    os.symlink(evidence_dir / "paint.bmp", evidence_dir / "link.bmp")
    df = ev.manifest(evidence_dir)
    assert list(df.columns) == list(ev.MANIFEST_COLUMNS) == ["path", "size", "mtime", "md5", "sha1", "sha256", "error"]
    assert list(df["path"]) == sorted(df["path"]) and df["path"].is_unique
    assert len(df) == len(FILES) + 1 + len(odd) + 1  # every file, the empty one, odd names, the link
    rows = df.set_index("path")
    for rel in [*FILES, "empty.jpg"]:
        data = (evidence_dir / rel).read_bytes()
        row = rows.loc[rel]
        assert (row["size"], row["md5"], row["sha256"]) == (len(data), hashlib.md5(data).hexdigest(),
                                                           hashlib.sha256(data).hexdigest()), rel
        assert pd.Timestamp(row["mtime"]).value == (evidence_dir / rel).stat().st_mtime_ns
        assert pd.isna(row["error"])
    for shown, data in odd.items():
        assert rows.loc[shown, "sha1"] == hashlib.sha1(data).hexdigest()
    link = rows.loc["link.bmp"]
    assert link["error"] == "symbolic link (not followed)" and pd.isna(link["md5"]) and pd.isna(link["size"])
    assert df.attrs == {"root": "exhibit", "algorithms": ["md5", "sha1", "sha256"]}
    assert list(ev.manifest(evidence_dir, algorithms=["sha256"]).columns) == ["path", "size", "mtime", "sha256", "error"]


def test_manifest_records_unreadable_files(evidence_dir: Path, monkeypatch) -> None:
    _deny("IMG_0001.jpg", monkeypatch)
    rows = ev.manifest(evidence_dir).set_index("path")
    bad = rows.loc["DCIM/IMG_0001.jpg"]
    assert bad["error"] == "PermissionError: Permission denied" and pd.isna(bad["sha256"])
    assert bad["size"] == (evidence_dir / "DCIM/IMG_0001.jpg").stat().st_size
    assert rows.drop(index="DCIM/IMG_0001.jpg")["error"].isna().all()


def test_manifest_two_workers_same_rows(evidence_dir: Path, capsys) -> None:
    _odd_names(evidence_dir)
    one = ev.manifest(evidence_dir, progress=False)
    assert "hashing" not in capsys.readouterr().err
    two = ev.manifest(evidence_dir, workers=2, progress=True)
    assert "hashing" in capsys.readouterr().err
    pd.testing.assert_frame_equal(one, two)
    with pytest.raises(ValueError, match="workers"):
        ev.manifest(evidence_dir, workers=0)


class _InterruptingBar:
    """A progress bar whose second update is a Ctrl-C from the user."""

    def __init__(self) -> None:
        self.updates = 0

    def __enter__(self) -> _InterruptingBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        self.updates += 1
        if self.updates == 2:
            raise KeyboardInterrupt


def test_manifest_ctrl_c_stops_every_worker(evidence_dir: Path, monkeypatch) -> None:
    for i in range(60):
        (evidence_dir / f"bulk{i:02d}.bin").write_bytes(bytes([i]) * 1000)
    monkeypatch.setattr(ev, "progress_bar", lambda *a: _InterruptingBar())
    with pytest.raises(KeyboardInterrupt):
        ev.manifest(evidence_dir, workers=2)
    assert multiprocessing.active_children() == []  # no worker left running


def test_manifest_refuses_to_write_into_evidence(evidence_dir: Path) -> None:
    with pytest.raises(ValueError, match="inside the evidence folder"):
        ev.manifest(evidence_dir, out=evidence_dir / "DCIM" / "manifest.csv")
    assert not (evidence_dir / "DCIM" / "manifest.csv").exists()
    with pytest.raises(NotADirectoryError):
        ev.manifest(evidence_dir / "nope")
    with pytest.raises(ValueError, match="unsupported hash type"):
        ev.manifest(evidence_dir, algorithms=("md5", "md7"))


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_manifest_file_round_trip(evidence_dir: Path, tmp_path: Path, suffix: str) -> None:
    _odd_names(evidence_dir)
    os.symlink("nowhere", evidence_dir / "dangling")
    out = tmp_path / f"exhibit-12{suffix}"
    df = ev.manifest(evidence_dir, out=out)
    back = ev.read_manifest(out)
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert not list(tmp_path.glob("*.part"))  # written whole, then renamed into place
    text = out.read_text(encoding="utf-8")
    assert str(evidence_dir) not in text  # the absolute path (case folders, user names) stays private
    if suffix == ".json":
        header = json.loads(text)["manifest"]
        assert header["tool"] == "vidlab" and header["version"] and header["created_by"]
        assert header["root"] == "exhibit" and header["algorithms"] == ["md5", "sha1", "sha256"]
        assert header["files"] == len(df) and pd.Timestamp(header["created"]).tz is not None
        assert back.attrs["root"] == "exhibit"
        ev.write_manifest(df, out, created_by="DC 4711 Smith")
        assert ev.read_manifest(out).attrs["created_by"] == "DC 4711 Smith"


def test_read_manifest_rejects_other_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=".csv or .json"):
        ev.read_manifest(_write(tmp_path, "m.txt", b"path,size"))
    with pytest.raises(ValueError, match="not a vidlab manifest"):
        ev.read_manifest(_write(tmp_path, "m.json", b'{"anything": 1}'))
    with pytest.raises(ValueError, match="lacks mtime"):
        ev.read_manifest(_write(tmp_path, "m.csv", b"path,size,md5,error\na.jpg,1,00,\n"))
    with pytest.raises(ValueError, match=".csv or .json"):
        ev.write_manifest(ev.manifest(tmp_path), tmp_path / "m.xlsx")


# --------------------------------------------------------------------------- verifying


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_verify_finds_every_kind_of_change(evidence_dir: Path, tmp_path: Path, suffix: str) -> None:
    _odd_names(evidence_dir)
    saved = ev.manifest(evidence_dir, out=tmp_path / f"m{suffix}")
    report = ev.verify(evidence_dir, tmp_path / f"m{suffix}")
    assert list(report.columns) == list(ev.VERIFY_COLUMNS)
    assert (report["status"] == "ok").all() and len(report) == len(saved)

    flipped = evidence_dir / "DCIM" / "IMG_0001.jpg"  # one byte changed, mtime put back as it was
    st = flipped.stat()
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    os.utime(flipped, ns=(st.st_atime_ns, st.st_mtime_ns))
    touched = evidence_dir / "docs" / "report.pdf"  # same bytes, mtime moved by one nanosecond
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 1))
    (evidence_dir / "paint.bmp").unlink()
    (evidence_dir / "DCIM" / "IMG_9999.jpg").write_bytes(b"\xff\xd8\xff planted later")

    report = ev.verify(evidence_dir, tmp_path / f"m{suffix}", workers=2).set_index("path")
    assert report.loc["DCIM/IMG_0001.jpg", "status"] == "changed"
    assert report.loc["DCIM/IMG_0001.jpg", "changed"] == "md5,sha1,sha256"
    assert (report.loc["docs/report.pdf", "status"], report.loc["docs/report.pdf", "changed"]) == ("changed", "mtime")
    assert report.loc["paint.bmp", "status"] == "missing"
    assert report.loc["DCIM/IMG_9999.jpg", "status"] == "extra"
    others = report.drop(index=["DCIM/IMG_0001.jpg", "docs/report.pdf", "paint.bmp", "DCIM/IMG_9999.jpg"])
    assert (others["status"] == "ok").all() and (others["changed"] == "").all()
    assert len(report) == len(saved) + 1


def test_verify_reports_unreadable_files(evidence_dir: Path, tmp_path: Path, monkeypatch) -> None:
    ev.manifest(evidence_dir, out=tmp_path / "m.csv")
    _deny("scan.png", monkeypatch)
    report = ev.verify(evidence_dir, tmp_path / "m.csv").set_index("path")
    assert report.loc["DCIM/sub/scan.png", "status"] == "unreadable"
    assert report.loc["DCIM/sub/scan.png", "error"] == "PermissionError: Permission denied"
    assert (report.drop(index="DCIM/sub/scan.png")["status"] == "ok").all()


# --------------------------------------------------------------------------- real camera files


@pytest.mark.realdata
def test_real_camera_files(real_samples: Path, tmp_path: Path) -> None:
    files = sorted(p for p in real_samples.rglob("*") if p.is_file() and not p.is_symlink())
    kinds = {".jpg": "jpeg", ".jpeg": "jpeg", ".heic": "heic", ".heif": "heic", ".tif": "tiff", ".tiff": "tiff"}
    checked = 0
    for p in files:
        kind = kinds.get(p.suffix.lower())
        if kind:
            assert ev.identify(p) == kind, p
            assert ev.extension_matches(p) is True, p
            checked += 1
    assert checked > 50
    df = ev.survey(real_samples, progress=False)
    assert len(df) == len(files) and df["error"].isna().all()
    saved = ev.manifest(real_samples, out=tmp_path / "real.csv", workers=2)
    for p in files[:: max(1, len(files) // 10)]:
        data = p.read_bytes()
        row = saved.set_index("path").loc[p.relative_to(real_samples).as_posix()]
        assert row["sha256"] == hashlib.sha256(data).hexdigest() and row["md5"] == hashlib.md5(data).hexdigest()
    assert (ev.verify(real_samples, tmp_path / "real.csv")["status"] == "ok").all()


def test_files_of_kind_goes_by_magic_bytes_not_names(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "photo.dat", "JPEG")
    (tmp_path / "sub").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "sub" / "real.jpg", "JPEG")
    Image.new("RGB", (8, 8)).save(tmp_path / "sub" / "png_named.jpg", "PNG")
    (tmp_path / "link.jpg").symlink_to(tmp_path / "sub" / "real.jpg")
    found = ev.files_of_kind(tmp_path)
    assert found == [tmp_path / "photo.dat", tmp_path / "sub" / "real.jpg"]
    assert ev.files_of_kind(tmp_path, ("png",)) == [tmp_path / "sub" / "png_named.jpg"]


def test_read_ahead_never_raises_and_never_follows_links(tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8" + bytes(5000))
    os.mkfifo(tmp_path / "pipe")  # opened without blocking, and a pipe cannot be read ahead
    os.symlink("/etc/passwd", tmp_path / "link")
    before = _snapshot(tmp_path)
    for rel in ("photo.jpg", "pipe", "link", "missing.jpg", "."):
        assert ev.read_ahead(tmp_path, (rel, None)) is None
    assert ev.read_ahead(tmp_path, ("photo.jpg", "symbolic link (not followed)")) is None
    assert _snapshot(tmp_path) == before
