"""Operating-system and application files of a seized device, and the known-file (NSRL-like) list that filters them.

Each platform has one catalogue of system and application files, built from a fixed seed, so the same file
has the same bytes on every device of that platform, as shipped OS files do; a known-file hash list then
removes them. Each device adds files of its own (caches, thumbnail databases, settings), which no list knows.
A few catalogue files came with an update after the reference list was published: identical on every device,
but not in the list, as happens with the real NSRL.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import random
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image

from synthetic_data.draw import render_scene
from synthetic_data.seized_sample import ini_text

PLATFORMS = ("android", "ios", "windows")
ROLES = ("os", "app", "cache", "thumbnail_db")
NSRL_COLUMNS = ("SHA-1", "MD5", "CRC32", "FileName", "FileSize", "ProductCode", "OpSystemCode", "SpecialCode")
CATALOGUE_SIZE = 400
# Share of a catalogue that shipped after the reference list was built: same bytes everywhere, yet unknown.
UNLISTED_SHARE = 0.06
# Share of a device's files that are its own (caches, thumbnails, settings) rather than catalogue files.
OWN_SHARE = (0.2, 0.3)
# Share of the shipped files that belong to installed applications rather than the OS.
APP_SHARE = 0.35


@dataclass(frozen=True)
class Platform:
    """What one platform ships: its OS product, release time, and the path patterns of its files."""

    op_system_code: str
    os_product: int
    released: datetime
    os_files: tuple[tuple[str, str, int, int], ...]  # (path pattern, content kind, min size, max size)
    app_files: tuple[tuple[str, str, int, int], ...]


PLATFORM_SPECS: dict[str, Platform] = {
    "android": Platform("ANDROID", 24001, datetime(2025, 9, 2, tzinfo=timezone.utc), os_files=(
        ("system/lib64/lib{lib}.so", "elf", 8_000, 300_000),
        ("system/lib/lib{lib}.so", "elf", 6_000, 150_000),
        ("system/bin/{lib}d", "elf", 4_000, 90_000),
        ("vendor/lib64/hw/{lib}.default.so", "elf", 5_000, 60_000),
        ("system/framework/{lib}-framework.jar", "jar", 6_000, 200_000),
        ("system/etc/permissions/android.hardware.{lib}.xml", "xml", 300, 3_000),
        ("system/etc/{lib}.conf", "conf", 200, 3_000),
        ("system/fonts/{Word}Sans-{style}.ttf", "font", 30_000, 300_000),
        ("system/media/audio/ui/{Word}.ogg", "ogg", 3_000, 40_000),
    ), app_files=(
        ("system/app/{App}/{App}.apk", "apk", 20_000, 400_000),
        ("system/app/{App}/oat/arm64/{App}.odex", "elf", 10_000, 200_000),
        ("data/app/{package}-{install}/base.apk", "apk", 30_000, 500_000),
        ("data/app/{package}-{install}/lib/arm64/lib{lib}.so", "elf", 8_000, 200_000),
        ("sdcard/Android/data/{package}/files/assets/{lib}_icon.png", "png", 0, 0),
    )),
    "ios": Platform("IOS", 24101, datetime(2025, 9, 15, tzinfo=timezone.utc), os_files=(
        ("System/Library/Frameworks/{Word}Kit.framework/{Word}Kit", "macho", 20_000, 400_000),
        ("System/Library/Frameworks/{Word}Kit.framework/Info.plist", "plist", 600, 2_000),
        ("System/Library/PrivateFrameworks/{Word}Services.framework/{Word}Services", "macho", 10_000, 250_000),
        ("usr/lib/lib{lib}.dylib", "macho", 5_000, 150_000),
        ("System/Library/CoreServices/{Word}.plist", "plist", 400, 3_000),
        ("System/Library/Fonts/Core/{Word}Sans-{style}.ttc", "font", 40_000, 400_000),
        ("System/Library/Audio/UISounds/{word}.caf", "caf", 3_000, 50_000),
    ), app_files=(
        ("private/var/containers/Bundle/Application/{install}/{App}.app/{App}", "macho", 40_000, 500_000),
        ("private/var/containers/Bundle/Application/{install}/{App}.app/Info.plist", "plist", 800, 3_000),
        ("private/var/containers/Bundle/Application/{install}/{App}.app/AppIcon60x60@2x.png", "png", 0, 0),
        ("private/var/containers/Bundle/Application/{install}/{App}.app/Assets.car", "blob", 20_000, 300_000),
        ("private/var/containers/Bundle/Application/{install}/{App}.app/Frameworks/{Word}Kit.framework/{Word}Kit",
         "macho", 20_000, 300_000),
        ("private/var/containers/Bundle/Application/{install}/{App}.app/Base.lproj/{Word}.storyboardc/Info.plist",
         "plist", 300, 1_500),
        ("private/var/containers/Bundle/Application/{install}/{App}.app/{lib}.bundle/{Word}.png", "png", 0, 0),
    )),
    "windows": Platform("WIN", 24201, datetime(2025, 10, 14, tzinfo=timezone.utc), os_files=(
        ("Windows/System32/{lib}.dll", "pe", 8_000, 400_000),
        ("Windows/System32/{lib}svc.exe", "pe", 10_000, 200_000),
        ("Windows/System32/drivers/{lib}.sys", "pe", 8_000, 150_000),
        ("Windows/SysWOW64/{lib}32.dll", "pe", 8_000, 250_000),
        ("Windows/System32/en-US/{lib}.dll.mui", "pe", 2_000, 30_000),
        ("Windows/INF/{lib}.inf", "inf", 500, 8_000),
        ("Windows/Fonts/{word}{style}.ttf", "font", 30_000, 300_000),
        ("Windows/Media/{Word} Chime.wav", "wav", 8_000, 80_000),
    ), app_files=(
        ("Program Files/{Vendor}/{App}/{App}.exe", "pe", 40_000, 600_000),
        ("Program Files/{Vendor}/{App}/{lib}.dll", "pe", 10_000, 300_000),
        ("Program Files/{Vendor}/{App}/resources/{lib}.pak", "blob", 10_000, 300_000),
        ("Program Files/{Vendor}/{App}/assets/{lib}_48.png", "png", 0, 0),
        ("Program Files/{Vendor}/{App}/LICENSE.txt", "licence", 1_000, 6_000),
    )),
}

# Fictional applications (name, vendor); packages and folders derive from them.
APPS = (
    ("Kitewise", "Kitewise Labs"), ("Lumenote", "Lumen Soft"), ("PocketTide", "Tideworks"),
    ("Sparrowmail", "Sparrow Systems"), ("Quillboard", "Quill & Co"), ("OrbitMusic", "Orbit Media"),
    ("Brightcast", "Brightline Apps"), ("HarborPay", "Harbor Fintech"), ("JuniperChat", "Juniper Messaging"),
    ("MosaicGallery", "Mosaic Imaging"), ("NimbusWeather", "Nimbus Forecasts"), ("TandemMaps", "Tandem Geo"),
)
LIB_WORDS = ("media", "audio", "camera", "crypto", "net", "gfx", "codec", "sensor", "input", "ui", "sqlite", "ssl",
             "json", "xml", "font", "hw", "bt", "wifi", "gnss", "power", "vibrator", "usb", "drm", "keystore",
             "render", "shader", "vulkan", "egl", "display", "thermal", "storage", "locale", "update", "sync")
LIB_SUFFIXES = ("", "utils", "service", "hal", "core", "client", "proxy", "jni", "2", "manager", "base", "ext")
WORDS = ("Coral", "Harbor", "Summit", "Meadow", "Aurora", "Delta", "Ember", "Granite", "Lagoon", "Nova", "Pebble",
         "Quartz", "Ripple", "Sable", "Tundra", "Willow", "Zephyr", "Cobalt", "Fable", "Marble")
STYLES = ("Regular", "Bold", "Italic", "Light", "Medium", "Condensed")
USERS = ("user", "owner", "home", "pc", "admin", "family")


@dataclass(frozen=True)
class CatalogueFile:
    """One shipped file of a platform: path pattern (may hold a per-device {install} folder), role, bytes recipe."""

    pattern: str
    role: str
    kind: str
    size: int
    seed: int
    product_code: int
    known: bool


def log_uniform(rng: random.Random, low: int, high: int) -> int:
    """A size between low and high, small sizes as likely per decade as large ones (file sizes are spread that way)."""
    return round(low * (high / low) ** rng.random()) if high > low else low


def fill_pattern(pattern: str, rng: random.Random, app: tuple[str, str]) -> str:
    """A path pattern with its words chosen: library, app, vendor and package names."""
    name, vendor = app
    return pattern.format(
        lib=rng.choice(LIB_WORDS) + rng.choice(LIB_SUFFIXES), Word=rng.choice(WORDS), word=rng.choice(WORDS).lower(),
        style=rng.choice(STYLES), App=name, Vendor=vendor,
        package=f"com.{vendor.split()[0].lower()}.{name.lower()}", install="{install}",
    )


@lru_cache(maxsize=None)
def catalogue(platform: str) -> tuple[CatalogueFile, ...]:
    """The platform's shipped files, the same on every run and every device: OS files first, then applications."""
    spec = PLATFORM_SPECS[platform]
    rng = random.Random(f"vidlab catalogue {platform} v1")
    files: list[CatalogueFile] = []
    taken: set[str] = set()  # case-insensitively, as Windows and default iOS/macOS volumes compare names
    for _ in range(50 * CATALOGUE_SIZE):
        if len(files) == CATALOGUE_SIZE:
            return tuple(files)
        is_app = len(files) >= CATALOGUE_SIZE - CATALOGUE_SIZE // 3
        app_index = rng.randrange(len(APPS))
        pattern, kind, low, high = rng.choice(spec.app_files if is_app else spec.os_files)
        path = fill_pattern(pattern, rng, APPS[app_index])
        if path.lower() in taken:
            continue
        taken.add(path.lower())
        product = spec.os_product + 1 + app_index if is_app else spec.os_product
        files.append(CatalogueFile(path, "app" if is_app else "os", kind, log_uniform(rng, low, high),
                                   rng.getrandbits(64), product, rng.random() >= UNLISTED_SHARE))
    raise RuntimeError(f"the {platform} path patterns cannot make {CATALOGUE_SIZE} distinct file names")


# ---------------------------------------------------------------- file contents


def binary_body(rng: random.Random, size: int, symbols: tuple[str, ...]) -> bytes:
    """Executable-looking bytes: machine-code-like noise, zero padding and a table of symbol names."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        pick = rng.random()
        if pick < 0.6:
            part = rng.randbytes(rng.randint(256, 8192))
        elif pick < 0.75:
            part = bytes(rng.randint(16, 2048))
        else:
            part = b"".join(f"{rng.choice(symbols)}_{rng.choice(LIB_WORDS)}".encode() + b"\0"
                            for _ in range(rng.randint(8, 64)))
        parts.append(part[:left])
        left -= len(parts[-1])
    return b"".join(parts)


def elf_file(rng: random.Random, size: int) -> bytes:
    """A 64-bit little-endian ARM ELF shared object (header, then body)."""
    # e_type shared object, e_machine AArch64, header sizes as the linker writes them; no sections described.
    fields = struct.pack("<HHIQQQIHHHHHH", 3, 183, 1, 0, 64, 0, 0, 64, 56, 0, 64, 0, 0)
    header = b"\x7fELF\x02\x01\x01" + bytes(9) + fields
    return header + binary_body(rng, size - len(header), ("JNI_OnLoad", "android", "__cxa", "pthread"))


def pe_file(rng: random.Random, size: int) -> bytes:
    """A Windows PE image: MZ header, DOS stub message, PE signature."""
    stub = b"MZ\x90\x00" + bytes(56) + struct.pack("<I", 0x80)
    stub += b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21This program cannot be run in DOS mode.\r\r\n$"
    header = stub.ljust(0x80, b"\0") + b"PE\0\0" + struct.pack("<HH", 0x8664, 6) + bytes(16)
    return header + binary_body(rng, size - len(header), ("Dll", "Rtl", "Nt", "Zw", "Get", "Set"))


def macho_file(rng: random.Random, size: int) -> bytes:
    """A 64-bit ARM Mach-O image header followed by its body."""
    header = struct.pack("<IiiIIII", 0xFEEDFACF, 0x0100000C, 0, 6, 20, 2048, 0x00200085) + bytes(4)
    return header + binary_body(rng, size - len(header), ("_objc", "_swift", "_CF", "_NS", "_dispatch"))


def zip_file(rng: random.Random, size: int) -> bytes:
    """An Android JAR/APK: a ZIP of a manifest, Dalvik code and an icon, with fixed entry times (stable bytes)."""
    entries = [
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nCreated-By: 1.0 (Android)\r\n\r\n", zipfile.ZIP_DEFLATED),
        ("classes.dex", b"dex\n035\0" + rng.randbytes(max(64, size - 3000)), zipfile.ZIP_STORED),
        ("res/mipmap-xxhdpi/ic_launcher.png", icon_png(rng, 96), zipfile.ZIP_STORED),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data, compression in entries:
            info = zipfile.ZipInfo(name, date_time=(2008, 1, 1, 0, 0, 0))  # the fixed time Android build tools use
            info.compress_type, info.create_system, info.external_attr = compression, 3, 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def icon_png(rng: random.Random, side: int = 48) -> bytes:
    """An app icon: a little drawn scene (a product, a sign, a poster) as a square PNG."""
    picture = render_scene((side, side), rng, primitives=("wall", "product", "poster", "sign", "plant"))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return buffer.getvalue()


def cached_jpeg(rng: random.Random) -> bytes:
    """A small JPEG of a drawn room or street: what an image cache or thumbnail store holds when no photo is given."""
    buffer = io.BytesIO()
    render_scene((128, 96), rng).save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


def text_fill(lines: Callable[[int], str], size: int) -> bytes:
    """Numbered lines of text until size bytes."""
    parts, total, n = [], 0, 0
    while total < size:
        parts.append(lines(n).encode("utf-8"))
        total += len(parts[-1])
        n += 1
    return b"".join(parts)


def config_text(kind: str, rng: random.Random, size: int) -> bytes:
    """XML permissions, property lists, conf/INF files and licences, about size bytes long."""
    word = rng.choice(LIB_WORDS)
    if kind == "xml":
        body = text_fill(lambda n: f'    <feature name="android.hardware.{word}.{rng.choice(LIB_WORDS)}{n}" />\n', size)
        return b'<?xml version="1.0" encoding="utf-8"?>\n<permissions>\n' + body + b"</permissions>\n"
    if kind == "plist":
        body = text_fill(lambda n: f"\t<key>{rng.choice(WORDS)}{word.title()}{n}</key>\n"
                                   f"\t<string>{rng.randrange(10**6)}</string>\n", size)
        return (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" '
                b'"http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n<dict>\n'
                + body + b"</dict>\n</plist>\n")
    if kind == "inf":
        head = f"; {word}.inf\r\n[Version]\r\nSignature=\"$Windows NT$\"\r\nClass={word.title()}\r\n".encode()
        return head + text_fill(lambda n: f"HKR,,{rng.choice(WORDS)}{n},0x{rng.getrandbits(16):04x}\r\n", size)
    if kind == "licence":
        return text_fill(lambda n: ("THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR "
                                    "IMPLIED.\n" if n % 3 == 0 else f"Section {n}. Terms of use of {word}.\n"), size)
    return text_fill(lambda n: f"{word}.{rng.choice(LIB_WORDS)}_{n}={rng.randrange(1000)}\n", size)


BLOB_MAGIC = {
    "font": b"\x00\x01\x00\x00\x00\x12\x01\x00\x00\x04\x00\x20",
    "ogg": b"OggS\x00\x02" + bytes(8),
    "caf": b"caff\x00\x01\x00\x00desc",
    "wav": b"RIFF\x00\x00\x00\x00WAVEfmt ",
    "blob": b"",
}


def shipped_bytes(entry: CatalogueFile) -> bytes:
    """The exact bytes of a catalogue file; they depend on the entry alone, never on the device."""
    rng = random.Random(entry.seed)
    kind, size = entry.kind, entry.size
    if kind == "elf":
        return elf_file(rng, size)
    if kind == "pe":
        return pe_file(rng, size)
    if kind == "macho":
        return macho_file(rng, size)
    if kind in ("jar", "apk"):
        return zip_file(rng, size)
    if kind == "png":
        return icon_png(rng, rng.choice((48, 96, 120)))
    if kind in BLOB_MAGIC:  # a format known by its first bytes, the rest compressed-looking data
        return BLOB_MAGIC[kind] + rng.randbytes(max(0, size - len(BLOB_MAGIC[kind])))
    return config_text(kind, rng, size)


# ---------------------------------------------------------------- the device's own files


def thumbnail_jpeg(picture: Image.Image) -> bytes:
    """A picture shrunk into the 128x96 box that thumbnail caches use, as a JPEG."""
    small = picture.convert("RGB")
    small.thumbnail((128, 96))
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


def thumbnail_store(header: bytes, record: bytes, jpegs: list[bytes], slot: int = 0) -> bytes:
    """A thumbnail cache as systems keep it: a header, then small JPEGs behind record headers or in fixed slots."""
    parts = [header]
    for jpeg in jpegs:
        entry = record + struct.pack("<I", len(jpeg)) + jpeg if record else jpeg
        parts.append(entry.ljust(slot, b"\0") if slot else entry)
    return b"".join(parts)


# Where a device keeps its own files, per platform: opaque cache blobs, cached images, and one settings file per app.
OWN_PATHS = {
    "android": {"blob": "data/data/{package}/cache/{tag}.tmp",
                "image": "sdcard/Android/data/{package}/cache/image_manager_disk_cache/{tag}{tag}.0",
                "settings": "data/data/{package}/shared_prefs/{package}_preferences.xml"},
    "ios": {"blob": "{container}/Library/Caches/{package}/{tag}.cache",
            "image": "{container}/Library/Caches/{package}/fsCachedData/{TAG}",
            "settings": "{container}/Library/Preferences/{package}.plist"},
    "windows": {"blob": "Users/{user}/AppData/Local/Temp/~DF{TAG}.TMP",
                "image": "Users/{user}/AppData/Local/{vendor}/{name}/Cache/Cache_Data/f_{tag}",
                "settings": "Users/{user}/AppData/Roaming/{vendor}/{name}/settings.ini"},
}
THUMBNAIL_STORES = {  # (path, file header, record header, fixed slot size) of the platform's thumbnail caches
    "android": [("sdcard/DCIM/.thumbnails/.thumbdata4--1967290299", b"", b"\x01", 10240)],
    "ios": [("private/var/mobile/Media/PhotoData/Thumbnails/3303.ithmb", b"", b"", 8192)],
    "windows": [("Users/{user}/AppData/Local/Microsoft/Windows/Explorer/thumbcache_256.db",
                 b"CMMM\x20\x00\x00\x00", b"CMMM", 0),
                ("Users/{user}/Pictures/Thumbs.db", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), b"", 0)],
}


def settings_bytes(platform: str, rng: random.Random, saved: datetime) -> bytes:
    """An app's settings file in the platform's own format: shared-preferences XML, a property list, an INI file."""
    if platform == "windows":
        return ini_text(rng, saved).encode("utf-8")
    return config_text("xml" if platform == "android" else "plist", rng, rng.randint(300, 2000))


def own_files(
    platform: str, rng: random.Random, count: int, user: str, when: datetime, thumbnails: Sequence[Image.Image]
) -> list[tuple[str, str, bytes]]:
    """The device's own caches, thumbnail stores and settings as (path, role, bytes): different on every device."""
    pictures = [thumbnail_jpeg(picture) for picture in thumbnails]
    files: list[tuple[str, str, bytes]] = []
    for path, header, record, slot in THUMBNAIL_STORES[platform][: min(count, max(1, count // 8))]:
        jpegs = pictures or [cached_jpeg(rng) for _ in range(rng.randint(3, 12))]
        files.append((path.format(user=user), "thumbnail_db", thumbnail_store(header, record, jpegs, slot)))
    apps = rng.sample(APPS, 4)
    containers = {name: f"private/var/mobile/Containers/Data/Application/{install_folder(rng)}" for name, _ in apps}
    taken = {path for path, _, _ in files}
    while len(files) < count:
        name, vendor = rng.choice(apps)
        kind = rng.choice(("blob", "image", "settings"))
        tag = f"{rng.getrandbits(40):010x}"
        path = OWN_PATHS[platform][kind].format(
            package=f"com.{vendor.split()[0].lower()}.{name.lower()}", name=name, vendor=vendor, user=user,
            container=containers[name], tag=tag, TAG=tag.upper()[: 4 if platform == "windows" else 10],
        )
        if path in taken:  # an app keeps one settings file
            continue
        taken.add(path)
        if kind == "settings":
            files.append((path, "app", settings_bytes(platform, rng, when - timedelta(minutes=rng.randrange(86_400)))))
        else:
            data = cached_jpeg(rng) if kind == "image" else rng.randbytes(rng.randint(200, 60_000))
            files.append((path, "cache", data))
    return files


def install_folder(rng: random.Random) -> str:
    """A per-device install folder name (a UUID; Android uses its start): same app, different path on each phone."""
    raw = rng.getrandbits(128).to_bytes(16, "big").hex().upper()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


# ---------------------------------------------------------------- writing


def write_file(path: Path, data: bytes, when: datetime) -> None:
    """Write a file and give it a modification time (a naive time counts as UTC, not as this machine's zone)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = int((when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp())
    os.utime(path, (stamp, stamp))


def file_row(path: str, data: bytes, role: str, known: bool, product_code: int | None) -> dict[str, Any]:
    """The answer row of one written file, with the hashes and CRC a known-file list needs."""
    return {
        "path": path,
        "size": len(data),
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
        "role": role,
        "known": known,
        "crc32": f"{zlib.crc32(data):08x}",
        "product_code": product_code,
    }


def pick_shipped(platform: str, rng: random.Random, count: int) -> list[CatalogueFile]:
    """Which catalogue files a device has: OS files in catalogue order, then the files of the apps its owner installed.

    Devices of one platform share their first OS files, and every app two devices both have, byte for byte.
    """
    files = catalogue(platform)
    system = [entry for entry in files if entry.role == "os"]
    by_app: dict[int, list[CatalogueFile]] = {}
    for entry in files:
        if entry.role == "app":
            by_app.setdefault(entry.product_code, []).append(entry)
    wanted_apps = min(sum(map(len, by_app.values())), max(count - len(system), round(count * APP_SHARE)))
    installed = [entry for product in rng.sample(sorted(by_app), len(by_app)) for entry in by_app[product]]
    return system[: count - wanted_apps] + installed[:wanted_apps]


def os_and_app_files(
    dest: Path,
    rng: random.Random,
    count: int,
    platform: str,
    *,
    when: datetime | None = None,
    thumbnails: Sequence[Image.Image] = (),
) -> list[dict[str, Any]]:
    """Write `count` OS/application files of a seized `platform` device under dest; one row per file, sorted by path.

    Rows: path (posix, relative to dest), size, md5, sha1, sha256, role ("os" | "app" | "cache" | "thumbnail_db"),
    known (in the known-file list), crc32 and product_code (what write_known_file_list needs; None for own files).
    when: the device's last use, around which its own files are dated (default: three months after the OS release).
    thumbnails: pictures the device showed, kept small in its thumbnail stores (default: plain shapes); a thumbnail
    of a deleted photo is a classic find.
    """
    if platform not in PLATFORM_SPECS:
        raise ValueError(f"unknown platform {platform!r}: choose one of {', '.join(PLATFORMS)}")
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    spec = PLATFORM_SPECS[platform]
    when = when or spec.released + timedelta(days=90)
    own = max(1, round(count * rng.uniform(*OWN_SHARE))) if count > 1 else 0
    own = max(own, count - len(catalogue(platform)))
    installs: dict[int, str] = {}  # one install folder per app and device
    user = rng.choice(USERS)
    rows = []
    for entry in pick_shipped(platform, rng, count - own):
        if entry.product_code not in installs:
            installs[entry.product_code] = install_folder(rng)
        install = installs[entry.product_code]
        path = entry.pattern.format(install=install if platform == "ios" else install[:8].lower())
        data = shipped_bytes(entry)
        write_file(dest / path, data, spec.released if entry.role == "os" else spec.released + timedelta(days=30))
        rows.append(file_row(path, data, entry.role, entry.known, entry.product_code))
    for path, role, data in own_files(platform, rng, own, user, when, thumbnails):
        write_file(dest / path, data, when - timedelta(minutes=rng.randrange(60 * 24 * 60)))
        rows.append(file_row(path, data, role, False, None))
    paths = [row["path"] for row in rows]
    if len(set(paths)) != len(paths):
        raise RuntimeError("two device files share a path; the device tree plan needs distinct names")
    return sorted(rows, key=lambda row: row["path"])


def write_known_file_list(path: Path, rows: list[dict[str, Any]]) -> int:
    """Write the known files among rows as an NSRL-style CSV (one line per distinct SHA-1, sorted); return how many.

    Format of the NSRL RDS "NSRLFile.txt": quoted upper-case hex hashes, file name, unquoted size and product code,
    quoted OS code, empty special code, CRLF line ends.
    """
    by_sha1: dict[str, dict[str, Any]] = {}
    for row in rows:
        if not row.get("known"):
            continue
        if row.get("product_code") is None or "crc32" not in row:
            raise ValueError(f"known file {row.get('path')!r} has no crc32/product_code: "
                             "rows must come from os_and_app_files")
        by_sha1.setdefault(row["sha1"], row)
    os_codes = {spec.os_product: spec.op_system_code for spec in PLATFORM_SPECS.values()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
        writer.writerow(NSRL_COLUMNS)
        for sha1, row in sorted(by_sha1.items()):
            product = row["product_code"]
            platform_product = max(code for code in os_codes if code <= product)  # apps number after their OS
            writer.writerow([sha1.upper(), row["md5"].upper(), row["crc32"].upper(), PurePosixPath(row["path"]).name,
                             row["size"], product, os_codes[platform_product], ""])
    return len(by_sha1)
