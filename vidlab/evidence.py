"""What a file really is, and proof that evidence is unchanged: signatures, hashes, manifests, verification.

Everything here opens evidence read-only (and, where the OS allows, without touching the
access time), reads headers rather than whole files where it can, and never raises because
of malformed content: a broken or unreadable file becomes a row with an ``error``, not a
crashed batch. How a file of each kind is built, byte by byte, is ``vidlab.formats``.
"""

from __future__ import annotations

import getpass
import hashlib
import io
import json
import os
import signal
import stat
import struct
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, TypeVar

import pandas as pd

if TYPE_CHECKING:
    from tqdm import tqdm

__all__ = [
    "KINDS",
    "files_of_kind",
    "EXTENSIONS",
    "sniff",
    "identify",
    "extension_matches",
    "survey",
    "SURVEY_COLUMNS",
    "HASH_ALGORITHMS",
    "hashes",
    "manifest",
    "write_manifest",
    "read_manifest",
    "MANIFEST_COLUMNS",
    "verify",
    "VERIFY_COLUMNS",
    # building blocks the other toolkit modules share (vidlab.scan, vidlab.metadata, …)
    "TIFF_MAGICS",
    "BIGTIFF_MAGICS",
    "open_readonly",
    "short_error",
    "printable_path",
    "file_extension",
    "progress_bar",
    "evidence_folder",
    "outside_evidence",
    "folder_entries",
    "rows_in_order",
    "chunk_rows",
    "read_ahead",
    "manifest_row",
]

PathLike = str | os.PathLike[str]
T = TypeVar("T")

KINDS: tuple[str, ...] = (
    "jpeg", "png", "gif", "tiff", "heic", "avif", "webp", "bmp",
    "mp4", "avi", "wav", "pdf", "zip", "sqlite", "text", "empty", "unknown",
)

#: How many bytes identify() reads: one page; enough for magic numbers, long ftyp boxes and text.
SNIFF_BYTES = 4096
#: Batch functions show a progress bar by default above this many files.
PROGRESS_THRESHOLD = 200

EXTENSIONS: dict[str, str] = {
    # JPEG and its older JFIF spellings
    "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "jfif": "jpeg", "jif": "jpeg", "jfi": "jpeg",
    "png": "png", "apng": "png",
    "gif": "gif",
    "tif": "tiff", "tiff": "tiff",
    # Camera raw formats built on TIFF (same II*/MM* header, IFDs, strips): report as "tiff".
    "dng": "tiff", "nef": "tiff", "nrw": "tiff", "cr2": "tiff", "arw": "tiff", "srf": "tiff",
    "sr2": "tiff", "pef": "tiff", "orf": "tiff", "rw2": "tiff", "erf": "tiff", "3fr": "tiff",
    # (Canon .cr3 is ISO-BMFF, Fuji .raf has its own header: left out, so they are "can't judge".)
    "heic": "heic", "heif": "heic", "hif": "heic", "heics": "heic", "heifs": "heic",
    "avif": "avif",
    "webp": "webp",
    "bmp": "bmp", "dib": "bmp",
    "pdf": "pdf",
    # ZIP containers: office documents, e-books, Java/Android packages, KMZ maps.
    "zip": "zip", "docx": "zip", "xlsx": "zip", "pptx": "zip", "odt": "zip", "ods": "zip",
    "odp": "zip", "epub": "zip", "jar": "zip", "apk": "zip", "kmz": "zip",
    # ISO base media / QuickTime containers share one structure: report as "mp4".
    "mp4": "mp4", "m4v": "mp4", "mov": "mp4", "qt": "mp4", "3gp": "mp4", "3g2": "mp4", "m4a": "mp4",
    "avi": "avi",
    "wav": "wav", "wave": "wav",
    # SQLite databases (phone apps, browsers). Not ".db": Windows' Thumbs.db is an OLE file, not SQLite.
    "sqlite": "sqlite", "sqlite3": "sqlite", "db3": "sqlite", "sqlitedb": "sqlite",
    # Plain text in its many working forms (SVG and KML are XML text).
    "txt": "text", "log": "text", "ini": "text", "cfg": "text", "conf": "text", "csv": "text",
    "tsv": "text", "json": "text", "xml": "text", "md": "text", "rst": "text", "yaml": "text",
    "yml": "text", "html": "text", "htm": "text", "nfo": "text", "srt": "text", "svg": "text",
    "kml": "text", "gpx": "text", "eml": "text", "vcf": "text",
}

# Extensions that may honestly hold more than their main kind (generic HEIF may carry AV1).
_ALSO_OK: dict[str, frozenset[str]] = {
    "heif": frozenset({"avif"}),
    "hif": frozenset({"avif"}),
}

SURVEY_COLUMNS: tuple[str, ...] = ("path", "size", "extension", "kind", "extension_ok", "complete", "error")


# --------------------------------------------------------------------------- reading


#: Reads larger than this are first cut to the bytes left in the file (see _EvidenceReader).
_BIG_READ = 1 << 20


class _EvidenceReader(io.BufferedReader):
    """A read-only evidence file whose read(n) never asks for more than the bytes left in it.

    Python allocates the n bytes asked for before reading, so a reader trusting a declared length (Pillow
    skipping a PNG chunk that claims 4 GiB, a WAV chunk) would make a 20 KB file cost 4 GiB of memory.
    """

    regular = False

    def read(self, size: int | None = -1) -> bytes:
        if self.regular and size is not None and size > _BIG_READ:
            size = min(size, max(os.fstat(self.fileno()).st_size - self.tell(), 0))
        return super().read(size)


def open_readonly(path: PathLike) -> IO[bytes]:
    """Open evidence read-only, without updating its access time where permitted; refuse folders, pipes and devices.

    The one way the toolkit opens evidence: every module reads files through it.
    """
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    try:
        fd = os.open(path, flags | noatime)
    except PermissionError:
        if not noatime:
            raise
        fd = os.open(path, flags)  # O_NOATIME is only allowed for the owner; fall back
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory", os.fspath(path))
        if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode):
            raise OSError(f"not a regular file: {os.fspath(path)}")
        f = _EvidenceReader(io.FileIO(fd, "r"))
        f.regular = stat.S_ISREG(mode)
        return f
    except BaseException:
        os.close(fd)
        raise


def _read_head(path: PathLike, size: int = SNIFF_BYTES) -> bytes:
    """The first bytes of a file."""
    with open_readonly(path) as f:
        return f.read(size)


# --------------------------------------------------------------------------- sniffing

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
_HEIF_GENERIC = frozenset({b"mif1", b"msf1", b"mif2", b"miaf"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_QT_TOP_BOXES = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_BMP_DIB_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})
#: How TIFF-structured data starts: classic TIFF (every EXIF block; DNG, NEF, CR2, ARW, PEF…), Olympus ORF
#: and Panasonic RW2.
TIFF_MAGICS: tuple[bytes, ...] = (b"II*\x00", b"MM\x00*", b"IIRO", b"IIRS", b"MMOR", b"IIU\x00")
#: How a BigTIFF (64-bit offsets) starts: a file format of its own, never an EXIF block.
BIGTIFF_MAGICS: tuple[bytes, ...] = (b"II+\x00", b"MM\x00+")
_TIFF_FILE_MAGICS = TIFF_MAGICS + BIGTIFF_MAGICS
_RIFF_KINDS = {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}
_TEXT_WHITESPACE = frozenset("\t\n\r\f\v\x1b")
_CONTROL_BYTES = frozenset(set(range(0x20)) - {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1B, 0x08} | {0x7F})


def _bmff_kind(header: bytes) -> str | None:
    """heic/avif/mp4 for an ISO-BMFF header, None if the header is not one."""
    if len(header) >= 12 and header[4:8] == b"ftyp":
        size = struct.unpack_from(">I", header)[0]
        major = header[8:12]
        end = min(len(header), size if size >= 16 else 16)
        compatible = {header[i:i + 4] for i in range(16, end - 3, 4)}
        if major in _AVIF_BRANDS:
            return "avif"
        if major in _HEIC_BRANDS:
            return "heic"
        if major in _HEIF_GENERIC:
            if compatible & _HEIC_BRANDS:
                return "heic"
            if compatible & _AVIF_BRANDS:
                return "avif"
            return "heic"  # generic HEIF still image
        if compatible & _HEIC_BRANDS and not compatible & {b"isom", b"mp41", b"mp42", b"qt  "}:
            return "heic"
        return "mp4"  # isom, mp41, mp42, qt, 3gp, M4V, crx (Canon CR3) …: the ISO/QuickTime container
    if len(header) >= 8 and header[4:8] in _QT_TOP_BOXES:
        size = struct.unpack_from(">I", header)[0]
        if size >= 8 or size in (0, 1):
            return "mp4"  # old QuickTime movie without an ftyp box
    return None


def _looks_like_text(header: bytes) -> bool:
    """Whether bytes read as text: decodable, mostly printable, no binary control codes."""
    if header.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16/32 byte-order marks
        try:
            enc = "utf-32" if header.startswith((b"\xff\xfe\x00\x00",)) else "utf-16"
            body = header[: len(header) - (len(header) % 4 if enc == "utf-32" else len(header) % 2)]
            text = body.decode(enc)
        except UnicodeDecodeError:
            return False
        return _mostly_printable(text)
    if b"\x00" in header:
        return False
    body = header[3:] if header.startswith(b"\xef\xbb\xbf") else header
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(body) - 3 and "end of data" in exc.reason:
            text = body[: exc.start].decode("utf-8", errors="replace")  # cut mid-character
        else:
            text = None
    if text is not None:
        return _mostly_printable(text)
    # legacy 8-bit text (Windows-1252, Latin-1 …): almost no control bytes
    controls = sum(1 for b in body if b in _CONTROL_BYTES)
    high = sum(1 for b in body if b >= 0x80)
    return controls <= len(body) * 0.01 and high <= len(body) * 0.3


def _mostly_printable(text: str) -> bool:
    """At least 95 % printable characters or whitespace."""
    if not text:
        return True
    good = sum(1 for ch in text if ch.isprintable() or ch in _TEXT_WHITESPACE)
    return good >= 0.95 * len(text)


def sniff(header: bytes) -> str:
    """The kind of file its first bytes announce (magic numbers), one of KINDS."""
    h = bytes(header[:SNIFF_BYTES])
    if not h:
        return "empty"
    if h.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if h.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if h.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if h.startswith(_TIFF_FILE_MAGICS):
        return "tiff"
    bmff = _bmff_kind(h)
    if bmff:
        return bmff
    if h.startswith(b"RIFF"):
        form = h[8:12]
        if form in _RIFF_KINDS:
            return _RIFF_KINDS[form]
    if h.startswith(b"BM") and (len(h) < 18 or struct.unpack_from("<I", h, 14)[0] in _BMP_DIB_SIZES):
        return "bmp"
    if h.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "zip"
    if h.startswith(b"%PDF-"):
        return "pdf"
    if h.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    text = _looks_like_text(h)
    if not text and b"%PDF-" in h[:1024]:
        return "pdf"  # readers accept junk before the header within the first KiB (text about PDFs stays text)
    return "text" if text else "unknown"


def identify(path: PathLike) -> str:
    """The real kind of a file, from its first bytes (not its name)."""
    return sniff(_read_head(path))


def file_extension(path: PathLike) -> str:
    """A file name's extension, lower-case and without the dot; '' when there is none."""
    return PurePosixPath(os.fspath(path).replace("\\", "/")).suffix.lower().lstrip(".")


def extension_matches(path: PathLike, kind: str | None = None) -> bool | None:
    """Whether the name's extension fits the real kind; None when we cannot judge."""
    ext = file_extension(path)
    expected = EXTENSIONS.get(ext)
    if expected is None:
        return None
    if kind is None:
        kind = identify(path)
    if kind == "empty":
        return None  # a zero-byte file claims nothing about its content
    return kind == expected or kind in _ALSO_OK.get(ext, frozenset())


# --------------------------------------------------------------------------- walking a folder


def short_error(exc: BaseException) -> str:
    """Why a file could not be read, in one line for an ``error`` column: 'PermissionError: Permission denied'."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}"
    return f"{type(exc).__name__}: {exc}"


def _list_files(root: Path, recursive: bool) -> tuple[list[str], list[dict[str, str]]]:
    """Relative posix paths of regular files under root, and what was skipped (with why)."""
    files: list[str] = []
    skipped: list[dict[str, str]] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                entries = list(it)
        except OSError as exc:
            skipped.append({"path": rel_dir or ".", "reason": f"folder not listed: {short_error(exc)}"})
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            try:
                if entry.is_symlink():
                    skipped.append({"path": rel, "reason": "symbolic link (not followed)"})
                elif entry.is_dir(follow_symlinks=False):
                    if recursive:
                        stack.append(rel)
                elif entry.is_file(follow_symlinks=False):
                    files.append(rel)
                else:
                    mode = entry.stat(follow_symlinks=False).st_mode
                    what = ("named pipe" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode)
                            else "device" if stat.S_ISBLK(mode) or stat.S_ISCHR(mode) else "special file")
                    skipped.append({"path": rel, "reason": f"{what} (not a regular file)"})
            except OSError as exc:
                skipped.append({"path": rel, "reason": short_error(exc)})
    files.sort()
    return files, skipped


def evidence_folder(folder: PathLike) -> Path:
    """The evidence folder the user named, as a Path; NotADirectoryError naming it when it is not a folder."""
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    return root


def printable_path(name: str | bytes) -> str:
    """A file name as text that CSV, JSON and Parquet can all hold: undecodable name bytes become \\xNN escapes."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def progress_bar(show: bool | None, total: int, desc: str) -> tqdm:
    """A tqdm bar counting files (silent when not shown); shown by default only above PROGRESS_THRESHOLD files."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="file", disable=not (show if show is not None else total > PROGRESS_THRESHOLD))


# --------------------------------------------------------------------------- surveying a folder


def _survey_row(root: Path, rel: str) -> dict:
    """One inventory row; errors are recorded, never raised."""
    from vidlab import formats  # formats builds on this module's sniffing, so it is imported when first needed

    row: dict = {"path": rel, "size": None, "extension": file_extension(rel), "kind": None,
                 "extension_ok": None, "complete": None, "error": None}
    path = root / rel
    try:
        row["size"] = os.lstat(path).st_size
        kind = identify(path)
        row["kind"] = kind
        row["extension_ok"] = extension_matches(rel, kind)
        row["complete"] = formats.is_complete(path, kind)
    except Exception as exc:  # noqa: BLE001 - a batch must survive any one file
        row["error"] = short_error(exc)
    return row


def survey(folder: PathLike, recursive: bool = True, progress: bool | None = None) -> pd.DataFrame:
    """One row per regular file under a folder: size, extension, real kind, whether they agree, completeness, error."""
    root = evidence_folder(folder)
    files, skipped = _list_files(root, recursive)
    with progress_bar(progress, len(files), "survey") as bar:
        rows = list(rows_in_order(partial(_survey_row, root), files, 1, bar))
    df = pd.DataFrame(rows, columns=list(SURVEY_COLUMNS))
    df["size"] = df["size"].astype("Int64")
    df["extension_ok"] = df["extension_ok"].astype("boolean")
    df["complete"] = df["complete"].astype("boolean")
    df["error"] = df["error"].astype(object).where(df["error"].notna(), None)
    df.attrs["root"] = str(root)
    df.attrs["skipped"] = skipped
    unlisted = [s["path"] for s in skipped if s["reason"].startswith("folder not listed")]
    if unlisted:
        warnings.warn(f"survey: {len(unlisted)} folder(s) could not be listed, e.g. {unlisted[0]!r}; "
                      "see DataFrame.attrs['skipped']", stacklevel=2)
    return df


# --------------------------------------------------------------------------- hashing

HASH_ALGORITHMS: tuple[str, ...] = ("md5", "sha1", "sha256")
#: Bytes per read when hashing. Measured here for three digests: a 1 MiB readinto loop beats three
#: hashlib.file_digest passes by ~8 % and 64 KiB–4 MiB buffers by 1–3 %.
HASH_BUFFER = 1 << 20
MANIFEST_COLUMNS: tuple[str, ...] = ("path", "size", "mtime", *HASH_ALGORITHMS, "error")
VERIFY_COLUMNS: tuple[str, ...] = ("path", "status", "changed", "error")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def hashes(path: PathLike, algorithms: Sequence[str] = HASH_ALGORITHMS) -> dict[str, str]:
    """Hex digests of one file for several algorithms from a single read (MD5, SHA-1 and SHA-256 by default)."""
    digests = {name: hashlib.new(name) for name in algorithms}
    buf = bytearray(HASH_BUFFER)
    view = memoryview(buf)
    with open_readonly(path) as f:
        raw = getattr(f, "raw", f)  # unbuffered: the kernel copies straight into our buffer
        while n := raw.readinto(buf):
            chunk = view[:n]
            for digest in digests.values():
                digest.update(chunk)
    return {name: digest.hexdigest() for name, digest in digests.items()}


def _utc_iso(ns: int) -> str:
    """Nanoseconds since 1970 as ISO 8601 UTC, every digit kept: '2024-05-01T12:00:00.123456789Z'."""
    seconds, nanos = divmod(ns, 10**9)
    return f"{(_EPOCH + timedelta(seconds=seconds)).replace(tzinfo=None).isoformat()}.{nanos:09d}Z"


# --------------------------------------------------------------------------- many files, one or more processes


def folder_entries(root: Path) -> list[tuple[str, str | None]]:
    """Every entry under root that is not a folder, sorted: (relative path, why it is not read, or None).

    Symbolic links and special files are entries too (with their reason), so a batch gives them a row.
    """
    files, skipped = _list_files(root, recursive=True)
    return sorted([(rel, None) for rel in files] + [(s["path"], s["reason"]) for s in skipped])


def files_of_kind(folder: PathLike, kinds: Sequence[str] = ("jpeg",)) -> list[Path]:
    """Every file under a folder whose real kind (its magic bytes, not its name) is one of `kinds`, in path order.

    Symbolic links and special files are never followed, as everywhere in the toolkit.
    """
    root = Path(folder)
    return [root / rel for rel, skipped in folder_entries(root) if skipped is None and identify(root / rel) in kinds]


def _ignore_interrupts() -> None:
    """Worker processes leave Ctrl-C to the parent, which stops the whole job cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


#: Bytes of the next file the kernel is asked to fetch while the current one is hashed.
READ_AHEAD = 16 << 20


def read_ahead(root: Path, entry: tuple[str, str | None]) -> None:
    """Ask the kernel to start fetching the start of an entry's file now (best effort, never raises): on a cold
    disk the next file then arrives while the CPU still hashes this one (measured: a fifth off a 20 GB manifest)."""
    rel, skipped = entry
    if skipped or not hasattr(os, "posix_fadvise"):
        return
    try:
        fd = os.open(root / rel, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, READ_AHEAD, os.POSIX_FADV_WILLNEED)
    except OSError:
        pass
    finally:
        os.close(fd)


def _told_ahead(items: Sequence[T], ahead: Callable[[T], None] | None) -> Iterator[T]:
    """The items in order, `ahead(next item)` called just before each one is handed out."""
    for index, item in enumerate(items):
        if ahead is not None and index + 1 < len(items):
            ahead(items[index + 1])
        yield item


def chunk_rows(task: Callable[[T], dict], items: Sequence[T], ahead: Callable[[T], None] | None = None) -> list[dict]:
    """One chunk of work, run inside a worker process; `ahead(next item)` is called before each item's task."""
    return [task(item) for item in _told_ahead(items, ahead)]


def rows_in_order(task: Callable[[T], dict], items: Sequence[T], workers: int, bar: tqdm,
                  ahead: Callable[[T], None] | None = None) -> Iterator[dict]:
    """task(item) for every item, in the items' order, on `workers` processes; Ctrl-C stops every one of them.

    At most a few chunks are in flight, so memory stays flat however many items there are. `ahead` (e.g.
    read_ahead) is told of each item just before the one before it is worked on.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if workers == 1 or len(items) < 2:
        for item in _told_ahead(items, ahead):
            yield task(item)
            bar.update(1)
        return
    size = max(1, min(32, len(items) // (workers * 32)))  # small chunks near the end keep every worker busy
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_ignore_interrupts)
    pending: deque[Future[list[dict]]] = deque()

    def oldest() -> list[dict]:
        rows = pending.popleft().result()
        bar.update(len(rows))
        return rows

    try:
        for start in range(0, len(items), size):
            pending.append(pool.submit(chunk_rows, task, items[start:start + size], ahead))
            if len(pending) > 2 * workers:
                yield from oldest()
        while pending:
            yield from oldest()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # only the chunks already running are waited for


# --------------------------------------------------------------------------- manifests


def manifest_row(root: Path, entry: tuple[str, str | None], algorithms: tuple[str, ...]) -> dict:
    """One manifest row for an entry of folder_entries: size, mtime and hashes of the file, or why it was not read."""
    rel, skipped = entry
    row: dict = {"path": printable_path(rel), "size": None, "mtime": None, **dict.fromkeys(algorithms),
                 "error": skipped}
    if skipped:
        return row
    path = root / rel
    try:
        st = os.lstat(path)
        row["size"], row["mtime"] = st.st_size, _utc_iso(st.st_mtime_ns)
        row.update(hashes(path, algorithms))
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a batch
        row["error"] = short_error(exc)
    return row


def _manifest_frame(rows: Iterable[dict], algorithms: Sequence[str]) -> pd.DataFrame:
    """Manifest rows as a DataFrame with fixed columns and a nullable integer size."""
    df = pd.DataFrame(list(rows), columns=["path", "size", "mtime", *algorithms, "error"])
    df["size"] = df["size"].astype("Int64")
    return df


def outside_evidence(root: Path, out: Path) -> Path:
    """`out`, after checking it is not inside the evidence folder (writing there would alter the evidence)."""
    if out.resolve().is_relative_to(root.resolve()):
        raise ValueError(f"refusing to write {out} inside the evidence folder {root}: choose a path outside it")
    return out


def manifest(folder: PathLike, out: PathLike | None = None, workers: int = 1, progress: bool | None = None,
             algorithms: Sequence[str] = HASH_ALGORITHMS) -> pd.DataFrame:
    """One row per file under a folder: path, size, mtime (UTC, to the nanosecond), hashes, error; saved to `out`."""
    root = evidence_folder(folder)
    algorithms = tuple(dict.fromkeys(algorithms))
    for name in algorithms:
        hashlib.new(name)  # an unknown algorithm fails here, before any file is read
    if out is not None:
        outside_evidence(root, Path(out))
    entries = folder_entries(root)
    task = partial(manifest_row, root, algorithms=algorithms)
    with progress_bar(progress, len(entries), "hashing") as bar:
        df = _manifest_frame(rows_in_order(task, entries, workers, bar, partial(read_ahead, root)), algorithms)
    df.attrs["root"] = root.resolve().name
    df.attrs["algorithms"] = list(algorithms)
    if out is not None:
        write_manifest(df, out)
    return df


def _algorithms(df: pd.DataFrame) -> list[str]:
    """The hash columns of a manifest, in their order."""
    return [c for c in df.columns if c not in ("path", "size", "mtime", "error")]


def _operator() -> str:
    """The login name of whoever runs the tool, for the manifest's created_by."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database entry (e.g. some containers)
        return "unknown"


def write_manifest(df: pd.DataFrame, path: PathLike, created_by: str | None = None) -> Path:
    """Save a manifest as CSV or JSON (by the file's suffix); JSON carries who, when, which tool and algorithms.

    The JSON header names the evidence folder but not its absolute path, so a manifest can be shared.
    """
    from vidlab import __version__

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise ValueError(f"a manifest is saved as .csv or .json, not {path.name!r}")
    tmp = path.with_name(path.name + ".part")
    if suffix == ".csv":
        df.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    else:
        header = {
            "tool": "vidlab", "version": __version__, "created_by": created_by or _operator(),
            "created": _utc_iso(time.time_ns()), "root": df.attrs.get("root", ""),
            "algorithms": _algorithms(df), "files": len(df),
        }
        records = df.astype(object).where(df.notna(), None).to_dict("records")
        with open(tmp, "w", encoding="utf-8") as f:  # one file per line: readable, and diffs stay small
            f.write('{"manifest": ' + json.dumps(header, ensure_ascii=False) + ',\n "files": [')
            f.write(",".join("\n  " + json.dumps(r, ensure_ascii=False, default=int) for r in records))
            f.write("\n]}\n")
    os.replace(tmp, path)  # a reader never sees half a manifest
    return path


def read_manifest(path: PathLike) -> pd.DataFrame:
    """A manifest saved by write_manifest (CSV or JSON) as a DataFrame; the JSON header goes to .attrs."""
    path = Path(path)
    suffix = path.suffix.lower()
    header: dict = {}
    if suffix == ".csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    elif suffix == ".json":
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        if not isinstance(document, dict) or not isinstance(document.get("files"), list):
            raise ValueError(f"{path} is not a vidlab manifest: no 'files' list")
        header = document.get("manifest", {})
        columns = None if document["files"] else ["path", "size", "mtime", *header.get("algorithms", []), "error"]
        df = pd.DataFrame(document["files"], columns=columns, dtype=object)
    else:
        raise ValueError(f"a manifest is a .csv or .json file, not {path.name!r}")
    missing = {"path", "size", "mtime", "error"} - set(df.columns)
    if missing or not _algorithms(df):
        raise ValueError(f"{path} is not a vidlab manifest: it lacks {', '.join(sorted(missing)) or 'hash columns'}")
    df = df.astype(object).where(df.notna() & (df != ""), None)  # empty CSV cells are missing values
    df = _manifest_frame(df.to_dict("records"), _algorithms(df))
    df.attrs.update(header)
    return df


# --------------------------------------------------------------------------- verifying against a manifest


def _same(a: object, b: object) -> bool:
    """Equal, counting two missing values as equal."""
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    return str(a) == str(b)


def verify(folder: PathLike, manifest_path: PathLike, workers: int = 1, progress: bool | None = None) -> pd.DataFrame:
    """Check a folder against a manifest: each file ok, changed (which fields), missing, extra or unreadable."""
    expected = read_manifest(manifest_path)
    algorithms = _algorithms(expected)
    current = manifest(folder, workers=workers, progress=progress, algorithms=algorithms)
    fields = ("size", "mtime", *algorithms, "error")
    was = {row["path"]: row for row in expected.to_dict("records")}
    rows = []
    for now in current.to_dict("records"):
        before = was.pop(now["path"], None)
        if before is None:
            rows.append({"path": now["path"], "status": "extra", "changed": "", "error": now["error"]})
        elif not pd.isna(now["error"]) and not _same(now["error"], before["error"]):
            rows.append({"path": now["path"], "status": "unreadable", "changed": "", "error": now["error"]})
        else:
            changed = [f for f in fields if not _same(before[f], now[f])]
            rows.append({"path": now["path"], "status": "changed" if changed else "ok",
                         "changed": ",".join(changed), "error": now["error"]})
    rows += [{"path": p, "status": "missing", "changed": "", "error": None} for p in was]
    df = pd.DataFrame(rows, columns=list(VERIFY_COLUMNS)).sort_values("path", ignore_index=True)
    df.attrs["root"] = current.attrs["root"]
    df.attrs["manifest"] = dict(expected.attrs)
    return df
