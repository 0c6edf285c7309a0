"""The Day 1 "anatomy of an image file" sample: a small seized folder of honest, lying, truncated and empty files."""

from __future__ import annotations

import io
import os
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from functools import lru_cache, partial
from pathlib import Path, PurePosixPath
from typing import Any

import pillow_heif
from PIL import ExifTags, Image, ImageEnhance
from tqdm import tqdm

from synthetic_data.draw import SHOP_NAMES, fictional_phone, render_scene
from synthetic_data.profiles import ProfileSpec

pillow_heif.register_heif_opener()

IMAGE_KINDS = frozenset({"jpeg", "png", "gif", "tiff", "heic", "webp", "bmp"})
# Every true_kind and the extensions that honestly belong to it; anything else on a file of that kind is a lie.
EXTENSIONS: dict[str, frozenset[str]] = {
    "jpeg": frozenset({"jpg", "jpeg", "jpe", "jfif"}),
    "png": frozenset({"png"}),
    "gif": frozenset({"gif"}),
    "tiff": frozenset({"tif", "tiff"}),
    "heic": frozenset({"heic", "heif", "hif"}),
    "webp": frozenset({"webp"}),
    "bmp": frozenset({"bmp", "dib"}),
    "pdf": frozenset({"pdf"}),
    "zip": frozenset({"zip"}),
    "text": frozenset({"txt", "log", "ini", "cfg", "csv", "json", "xml", "html", "htm", "md"}),
    "empty": frozenset(),
}
ANSWER_KEY_COLUMNS = (
    "path", "true_kind", "extension", "extension_lies", "truncated", "empty", "is_image", "size", "modified", "description",
)

# The device owner lives at UTC+08:00: EXIF and ZIP hold local clock times, file modification times are instants.
LOCAL_TIME = timezone(timedelta(hours=8))
SAMPLE_START = datetime(2026, 3, 1, 8, 0, tzinfo=LOCAL_TIME)
HOUR, DAY = 3600, 86400
# Consecutive pictures share one drawn scene: bursts look alike as on a real camera roll, and drawing is the cost.
SHOTS_PER_SCENE = 3


@dataclass(frozen=True)
class Device:
    """A fictional camera, phone or scanner: what it writes into EXIF and how hard it compresses."""

    make: str
    model: str
    software: str
    quality: int
    writes_offset: bool  # phones record their UTC offset; most compact cameras do not


CAMERA = Device("Kestrel", "Kestrel K20", "K20 Firmware 1.04", 92, writes_offset=False)
DSLR = Device("Halden", "Halden D7", "D7 Ver.2.10", 95, writes_offset=False)
PHONE = Device("Orvell", "Orvell Nimbus 8", "NimbusOS 14.2", 80, writes_offset=True)
SCANNER = Device("Brightline", "ScanDesk 300", "ScanDesk Utility 2.3", 90, writes_offset=False)


@dataclass(frozen=True)
class Scene:
    """One drawn scene that several pictures are cut from."""

    size: tuple[int, int]
    seed: int


@dataclass(frozen=True)
class Picture:
    """How a file's pixels come from a scene: which part of it, at what size, encoded how."""

    size: tuple[int, int]
    scene_size: tuple[int, int]
    crop: tuple[float, float, float, float]  # left, top, right, bottom as fractions of the scene
    encode: Callable[[Image.Image], bytes]
    scene: int = -1  # which Scene, set once every picture is planned


@dataclass(frozen=True)
class PlannedFile:
    """One file of the sample before it is written: where it goes, what it truly is, and its bytes or picture."""

    path: str
    true_kind: str
    description: str
    modified: datetime
    picture: Picture | None = None
    data: bytes = b""
    truncated: bool = False


def sub_rng(base: int, label: str) -> random.Random:
    """An independent random stream per label, so adding a file does not reshuffle every other file."""
    return random.Random(f"{base}:{label}")


def timeline(rng: random.Random, count: int, burst: bool = False) -> list[datetime]:
    """Increasing local times through the sample month; with burst, some only seconds apart like a camera roll."""
    when = SAMPLE_START + timedelta(seconds=rng.randrange(3 * DAY))
    times = []
    for _ in range(count):
        times.append(when)
        if burst and rng.random() < 0.5:
            when += timedelta(seconds=rng.randint(2, 40))
        else:
            when += timedelta(seconds=rng.randint(HOUR // 2, 2 * DAY))
    return times


def device_exif(device: Device, when: datetime) -> bytes:
    """The few EXIF tags the Day 1 lesson reads: make, model, software and the time the picture was taken."""
    stamp = when.strftime("%Y:%m:%d %H:%M:%S")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = device.make
    exif[ExifTags.Base.Model] = device.model
    exif[ExifTags.Base.Software] = device.software
    exif[ExifTags.Base.DateTime] = stamp
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = stamp
    details[ExifTags.Base.DateTimeDigitized] = stamp
    if device.writes_offset:
        details[ExifTags.Base.OffsetTimeOriginal] = when.isoformat()[-6:]  # "+08:00"
    return exif.tobytes()


def scanner_tags(device: Device, when: datetime) -> dict[int, str]:
    """Make, model, software and date as plain TIFF tags: scanners write them there, not in an EXIF block."""
    return {
        ExifTags.Base.Make: device.make,
        ExifTags.Base.Model: device.model,
        ExifTags.Base.Software: device.software,
        ExifTags.Base.DateTime: when.strftime("%Y:%m:%d %H:%M:%S"),
    }


def pick_crop(
    rng: random.Random, size: tuple[int, int], scene_size: tuple[int, int], zoom: float = 0.82
) -> tuple[float, float, float, float]:
    """A random part of the scene with the picture's aspect ratio, at least `zoom` of the scene high or wide."""
    height = rng.uniform(zoom, 1.0)
    width = height * (size[0] / size[1]) / (scene_size[0] / scene_size[1])
    if width > 1.0:
        height, width = height / width, 1.0
    left = rng.uniform(0.0, 1.0 - width)
    top = rng.uniform(0.0, 1.0 - height)
    return (left, top, left + width, top + height)


def take_shot(scene: Image.Image, picture: Picture) -> Image.Image:
    """Cut the picture's part out of the scene and scale it to the picture's size in one resampling."""
    w, h = scene.size
    left, top, right, bottom = picture.crop
    return scene.resize(picture.size, Image.Resampling.BILINEAR, box=(left * w, top * h, right * w, bottom * h))


def save(picture: Image.Image, format: str, **options: Any) -> bytes:
    """Encode a picture with Pillow (HEIF through pillow_heif) and return the file's bytes."""
    buffer = io.BytesIO()
    picture.save(buffer, format=format, **options)
    return buffer.getvalue()


def animated_gif(picture: Image.Image) -> bytes:
    """A two-frame blinking GIF: one file, two pictures, which the lesson uses to show GIF can animate."""
    brighter = ImageEnhance.Brightness(picture).enhance(1.25)
    return save(picture, "GIF", save_all=True, append_images=[brighter], duration=500, loop=0)


def truncated_jpeg(picture: Image.Image, keep: float, **options: Any) -> bytes:
    """A JPEG cut part-way through its compressed scan data, as an interrupted download leaves it: no FFD9 end."""
    whole = save(picture, "JPEG", **options)
    # Scan data never contains FF DA (FF is always escaped), so the last one starts the scan.
    scan_start = whole.rfind(b"\xff\xda")
    return whole[: scan_start + round((len(whole) - scan_start) * keep)]


def zip_of_photos(picture: Image.Image, names: tuple[str, str], note: str, when: datetime) -> bytes:
    """A ZIP of two re-shared JPEGs (no EXIF) and a note, with fixed entry times so its bytes never change."""
    w, h = picture.size
    photos = (picture.crop((0, 0, w * 2 // 3, h)), picture.crop((w // 3, 0, w, h)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entries = [(name, save(photo, "JPEG", quality=85), zipfile.ZIP_STORED) for name, photo in zip(names, photos)]
        entries.append(("readme.txt", note.encode("utf-8"), zipfile.ZIP_DEFLATED))
        for name, data, compression in entries:
            info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
            info.compress_type = compression
            info.create_system = 3  # otherwise zipfile records the generating OS and bytes differ on Windows
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def pdf_escape(text: str) -> str:
    """Text safe inside a PDF literal string: backslashes and parentheses escaped."""
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def pdf_bytes(title: str, lines: list[str], when: datetime) -> bytes:
    """A minimal valid one-page PDF written by hand: header, six objects, cross-reference table, trailer."""
    text = " T* ".join(f"({pdf_escape(line)}) Tj" for line in lines)
    stream = f"BT /F1 14 Tf 72 770 Td 20 TL {text} ET".encode("latin-1")
    offset = when.strftime("%z")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Title ({pdf_escape(title)}) /Producer (VID Lab synthetic data) "
        f"/CreationDate (D:{when:%Y%m%d%H%M%S}{offset[:3]}'{offset[3:]}') >>".encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def notes_text(rng: random.Random, when: datetime) -> str:
    """A short to-do note mentioning fictional shops and numbers (the kind of clue analysts look for)."""
    first, second = rng.sample(SHOP_NAMES, 2)
    return (
        f"{when:%d/%m} to do\n"
        f"- collect order from {first.title()} ({fictional_phone(rng)})\n"
        f"- ask {second.title()} about the parcel before Friday\n"
        f"- buy batteries, rice, soap\n"
        f"- wifi: KITE-{rng.getrandbits(16):04X}\n"
    )


def log_text(rng: random.Random, when: datetime) -> str:
    """An application sync log with a timestamp on every line."""
    lines = []
    for step in ("sync started", f"uploaded {rng.randint(2, 40)} items", "thumbnail cache pruned", "sync finished"):
        lines.append(f"{when:%Y-%m-%d %H:%M:%S} INFO  {step}")
        when += timedelta(seconds=rng.randint(1, 90))
    return "\n".join(lines) + "\n"


def ini_text(rng: random.Random, when: datetime) -> str:
    """A Windows-style application settings file."""
    return (
        "[General]\r\nLanguage=en\r\nLastFolder=C:\\Users\\owner\\Pictures\r\n"
        f"AutoSync={rng.choice(('true', 'false'))}\r\nLastRun={when:%Y-%m-%dT%H:%M:%S}\r\n"
        f"[Window]\r\nWidth={rng.choice((1280, 1366, 1920))}\r\nHeight={rng.choice((720, 768, 1080))}\r\n"
    )


# (path, writer, description) of the plain-text files, reused with _2, _3 … when a profile wants more.
TEXT_FILES: tuple[tuple[str, Callable[[random.Random, datetime], str], str], ...] = (
    ("Documents/notes.txt", notes_text, "Plain-text to-do note"),
    ("AppData/cache/sync.log", log_text, "Application sync log"),
    ("AppData/settings.ini", ini_text, "Application settings file (INI)"),
)
HTML_ERROR_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n"
    "<body><h1>Not Found</h1><p>The requested image was not found on this server.</p></body></html>\n"
)


def numbered(path: str, number: int) -> str:
    """The path itself for the first file, then name_2.ext, name_3.ext …"""
    if number == 1:
        return path
    pure = PurePosixPath(path)
    return str(pure.with_name(f"{pure.stem}_{number}{pure.suffix}"))


def cut(rng: random.Random, scene_size: tuple[int, int], encode: Callable[[Image.Image], bytes],
        size: tuple[int, int] | None = None, zoom: float = 0.82) -> Picture:
    """A picture of `size` (default: the scene's) cut from a random part of a scene, encoded by `encode`."""
    size = size or scene_size
    return Picture(size, scene_size, pick_crop(rng, size, scene_size, zoom), encode)


def jpeg_with_exif(device: Device, when: datetime) -> Callable[[Image.Image], bytes]:
    """The JPEG encoder of a device: its quality and its EXIF for a photo taken at `when`."""
    return partial(save, format="JPEG", quality=device.quality, exif=device_exif(device, when))


def plan_camera_roll(spec: ProfileSpec, base: int) -> list[PlannedFile]:
    """DCIM folders: compact-camera JPEGs, DSLR JPEGs on the full profile, and the zero-byte file of a failed copy."""
    rng = sub_rng(base, "camera roll")
    times = timeline(rng, spec.jpegs + 1, burst=True)
    files = [
        PlannedFile(f"DCIM/100CAMRA/IMG_{n:04d}.JPG", "jpeg", f"Camera photo with EXIF ({CAMERA.model})", when,
                    cut(rng, spec.image_size, jpeg_with_exif(CAMERA, when)))
        for n, when in enumerate(times[:-1], start=1)
    ]
    files.append(PlannedFile(f"DCIM/100CAMRA/IMG_{spec.jpegs + 1:04d}.JPG", "empty",
                             "Zero-byte file named like the next camera photo (copy interrupted)", times[-1]))
    files += [
        PlannedFile(f"DCIM/101HALDN/DSC_{n:04d}.JPG", "jpeg", f"Large camera photo with EXIF ({DSLR.model})", when,
                    cut(rng, spec.large_image_size, jpeg_with_exif(DSLR, when)))
        for n, when in enumerate(timeline(rng, spec.large_jpegs, burst=True), start=1)
    ]
    return files


def plan_phone_backup(spec: ProfileSpec, base: int) -> list[PlannedFile]:
    """Pictures/PhoneBackup: HEIC phone photos, the last one exported with a .jpg name."""
    rng = sub_rng(base, "phone backup")
    files = []
    for n, when in enumerate(timeline(rng, spec.heics + 1, burst=True), start=1):
        # x265's ultrafast preset encodes about 5x faster than its default, with the same bytes on every run.
        encode = partial(save, format="HEIF", quality=PHONE.quality, enc_params={"preset": "ultrafast"},
                         exif=device_exif(PHONE, when))
        if n <= spec.heics:
            path, description = f"Pictures/PhoneBackup/IMG_{4100 + n}.HEIC", f"Phone photo in HEIC with EXIF ({PHONE.model})"
        else:
            path, description = f"Pictures/PhoneBackup/IMG_{4100 + n}.jpg", "HEIC phone photo exported with a .jpg name"
        files.append(PlannedFile(path, "heic", description, when, cut(rng, spec.image_size, encode)))
    return files


def plan_pictures(spec: ProfileSpec, base: int) -> list[PlannedFile]:
    """Screenshots, downloads, scans, wallpapers, a cached thumbnail and the picture files that lie or are cut short."""
    rng = sub_rng(base, "pictures")
    scene = spec.image_size
    w, h = scene
    files = [
        PlannedFile(f"Pictures/Screenshots/Screenshot_{when:%Y-%m-%d-%H-%M-%S}.png", "png", "Phone screenshot (PNG)", when,
                    cut(rng, scene, partial(save, format="PNG"), size=(h * 9 // 19, h), zoom=0.7))  # phone held upright
        for when in timeline(rng, spec.pngs)
    ]
    files += [
        PlannedFile(f"Downloads/animation_{n:02d}.gif", "gif", "Animated GIF, two frames", when,
                    cut(rng, scene, animated_gif, size=(w // 2, h // 2)))
        for n, when in enumerate(timeline(rng, spec.gifs), start=1)
    ]
    for n, when in enumerate(timeline(rng, spec.tiffs), start=1):
        scan = partial(save, format="TIFF", compression="tiff_lzw", tiffinfo=scanner_tags(SCANNER, when))
        files.append(PlannedFile(f"Documents/Scans/scan_{n:04d}.tif", "tiff", "Scanned photo print (LZW TIFF, scanner tags)",
                                 when, cut(rng, scene, scan)))
    for when in timeline(rng, spec.webps):
        web = partial(save, format="WEBP", quality=75)
        files.append(PlannedFile(f"Downloads/img-{rng.getrandbits(32):08x}.webp", "webp",
                                 "Web image saved from a browser (no EXIF)", when,
                                 cut(rng, scene, web, size=(w * 3 // 4, h * 3 // 4))))
    files += [
        PlannedFile(numbered("Pictures/wallpaper.bmp", n), "bmp", "Uncompressed BMP wallpaper", when,
                    cut(rng, scene, partial(save, format="BMP")))
        for n, when in enumerate(timeline(rng, spec.bmps), start=1)
    ]
    png_time, thumb_time, txt_time, cut_time = timeline(rng, 4)
    cut_short = partial(truncated_jpeg, keep=rng.uniform(0.4, 0.7), quality=CAMERA.quality,
                        exif=device_exif(CAMERA, cut_time))
    thumbnail = partial(save, format="JPEG", quality=70)
    files += [
        PlannedFile("Downloads/wallpaper_hd.jpg", "png", "PNG image saved with a .jpg name", png_time,
                    cut(rng, scene, partial(save, format="PNG"))),
        PlannedFile(f"AppData/cache/thumb_{rng.getrandbits(24):06x}.dat", "jpeg", "JPEG thumbnail cached with a .dat name",
                    thumb_time, cut(rng, scene, thumbnail, size=(max(64, w // 5), max(48, h // 5)))),
        PlannedFile("Documents/old_notes.txt", "jpeg", "Camera photo (with EXIF) renamed to .txt", txt_time,
                    cut(rng, scene, jpeg_with_exif(CAMERA, txt_time))),
        PlannedFile("Downloads/harbour_view.jpg", "jpeg", "Camera photo cut off mid-download: no end-of-image marker",
                    cut_time, cut(rng, scene, cut_short), truncated=True),
    ]
    return files


def plan_documents(spec: ProfileSpec, base: int) -> list[PlannedFile]:
    """PDF invoices, ZIP archives of shared photos, plain-text files, and a web page saved under a .png name."""
    rng = sub_rng(base, "documents")
    files = []
    for n, when in enumerate(timeline(rng, spec.pdfs), start=1):
        lines = [f"INVOICE {n:04d}", rng.choice(SHOP_NAMES).title(), fictional_phone(rng), f"Date: {when:%Y-%m-%d}",
                 f"Items: {rng.randint(1, 6)}", f"Total: {rng.randint(5, 300)}.{rng.randint(0, 99):02d}"]
        files.append(PlannedFile(f"Documents/invoice_{n:04d}.pdf", "pdf", "One-page PDF invoice from a fictional shop",
                                 when, data=pdf_bytes(f"Invoice {n:04d}", lines, when)))
    for n, when in enumerate(timeline(rng, spec.zips), start=1):
        names = (f"IMG-{when:%Y%m%d}-WA{2 * n:04d}.jpg", f"IMG-{when:%Y%m%d}-WA{2 * n + 1:04d}.jpg")
        encode = partial(zip_of_photos, names=names, note=f"photos from {when:%d/%m/%Y}\n", when=when)
        files.append(PlannedFile(f"Downloads/photos_{n:02d}.zip", "zip", "ZIP archive of two re-shared JPEGs and a note",
                                 when, cut(rng, spec.image_size, encode)))
    for n, when in enumerate(timeline(rng, spec.text_files)):
        path, write, description = TEXT_FILES[n % len(TEXT_FILES)]
        files.append(PlannedFile(numbered(path, n // len(TEXT_FILES) + 1), "text", description, when,
                                 data=write(rng, when).encode("utf-8")))
    files.append(PlannedFile("Pictures/shop_logo.png", "text", "HTML error page saved with a .png name",
                             timeline(rng, 1)[0], data=HTML_ERROR_PAGE.encode("utf-8")))
    return files


def assign_scenes(files: list[PlannedFile], base: int) -> tuple[list[PlannedFile], list[Scene]]:
    """Give every SHOTS_PER_SCENE consecutive pictures of one scene size a shared scene; pictures first, by scene."""
    scenes: list[Scene] = []
    open_scene: dict[tuple[int, int], tuple[int, int]] = {}  # scene size -> (scene index, pictures cut from it so far)
    pictures, others = [], []
    for planned in files:
        if planned.picture is None:
            others.append(planned)
            continue
        size = planned.picture.scene_size
        index, used = open_scene.get(size, (-1, SHOTS_PER_SCENE))
        if used == SHOTS_PER_SCENE:
            index, used = len(scenes), 0
            scenes.append(Scene(size, sub_rng(base, f"scene {index}").getrandbits(64)))
        open_scene[size] = (index, used + 1)
        pictures.append(replace(planned, picture=replace(planned.picture, scene=index)))
    pictures.sort(key=lambda planned: planned.picture.scene)
    return pictures + others, scenes


def plan_seized_sample(spec: ProfileSpec, base: int) -> tuple[list[PlannedFile], list[Scene]]:
    """Every file of the sample and the scenes its pictures come from, without drawing or writing anything."""
    files = [planned for part in (plan_camera_roll, plan_phone_backup, plan_pictures, plan_documents)
             for planned in part(spec, base)]
    paths = [planned.path for planned in files]
    if len(set(paths)) != len(paths):
        raise RuntimeError("two planned files share a path; the sample plan needs distinct names")
    return assign_scenes(files, base)


@lru_cache(maxsize=1)
def drawn_scene(scene: Scene) -> Image.Image:
    """Draw a scene once; files are written grouped by scene so one cached drawing serves all its pictures."""
    return render_scene(scene.size, random.Random(scene.seed))


def file_bytes(planned: PlannedFile, scenes: list[Scene]) -> bytes:
    """The exact bytes of one planned file."""
    if planned.picture is None:
        return planned.data
    return planned.picture.encode(take_shot(drawn_scene(scenes[planned.picture.scene]), planned.picture))


def extension_lies(true_kind: str, extension: str) -> bool:
    """Whether a file's extension belongs to another kind; an empty file has no content for it to lie about."""
    return true_kind != "empty" and extension not in EXTENSIONS[true_kind]


def answer_row(planned: PlannedFile, size: int) -> dict[str, Any]:
    """The answer-key row of one written file."""
    extension = PurePosixPath(planned.path).suffix.lower().removeprefix(".")
    return {
        "path": planned.path,
        "true_kind": planned.true_kind,
        "extension": extension,
        "extension_lies": extension_lies(planned.true_kind, extension),
        "truncated": planned.truncated,
        "empty": planned.true_kind == "empty",
        "is_image": planned.true_kind in IMAGE_KINDS,
        "size": size,
        "modified": planned.modified.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "description": planned.description,
    }


def write_file(path: Path, data: bytes, modified: datetime) -> None:
    """Write a file and give it the planned modification (and access) time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = int(modified.timestamp())
    os.utime(path, (stamp, stamp))


def settle_folder_times(folder: Path) -> None:
    """Give every folder the time of its newest entry, as a copy from the device would, so folder times repeat too."""
    for current, subfolders, names in os.walk(folder, topdown=False):
        newest = max(os.stat(os.path.join(current, name)).st_mtime_ns for name in subfolders + names)
        os.utime(current, ns=(newest, newest))


def make_seized_sample(dest: Path, spec: ProfileSpec, rng: random.Random, progress: bool = False) -> list[dict[str, Any]]:
    """Write the seized-folder sample under dest and return its answer key, one row per file, sorted by path."""
    files, scenes = plan_seized_sample(spec, rng.getrandbits(64))
    rows = []
    try:
        for planned in tqdm(files, desc=f"{spec.name}: seized sample", unit="file", disable=not progress):
            data = file_bytes(planned, scenes)
            write_file(dest / planned.path, data, planned.modified)
            rows.append(answer_row(planned, len(data)))
    finally:
        drawn_scene.cache_clear()  # do not keep a large drawing alive after generation
    settle_folder_times(dest)
    return sorted(rows, key=lambda row: row["path"])
