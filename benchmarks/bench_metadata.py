"""Metadata rows per second: vidlab.metadata.metadata_table against exiftool and plain exifread, in one run.

Usage:  python benchmarks/bench_metadata.py [FOLDER] [--count N] [--repeat R]

Without FOLDER it writes N camera-like JPEGs (Pillow, EXIF with make, model, serial, times, offset
and GPS) into a temporary folder. Every figure is read from the page cache (a warm-up pass reads
all files first) and is the best of R runs. References, measured over the same files:
- `exiftool -json -fast` as ONE batch process (file list on stdin): the goal is ≥ 10× its rate;
  the figure is skipped, with a message, where exiftool is not installed;
- exifread.process_file(details=False) alone, the parser underneath us: its rate over ours is our
  overhead (header walk, MakerNote serials, dates, GPS, quality, DataFrame).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import exifread
import numpy as np
from PIL import ExifTags, Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vidlab.metadata import metadata_table  # noqa: E402

GOAL = 10.0  # × exiftool -json -fast in one batch (issue 4)


def make_jpegs(folder: Path, count: int, seed: int = 4) -> list[Path]:
    """count 1024×768 JPEGs with a device's EXIF (one scene, varied times and positions)."""
    rng = np.random.default_rng(seed)
    scene = Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)).resize((1024, 768))
    paths = []
    for i in range(count):
        exif = Image.Exif()
        exif[ExifTags.Base.Make] = "VIDLab Optics"
        exif[ExifTags.Base.Model] = "Synthetic S2"
        exif[ExifTags.Base.Software] = "S2 firmware 1.04"
        exif[ExifTags.Base.Orientation] = 1
        stamp = f"2024:03:{1 + i % 28:02d} {8 + i % 12:02d}:{i % 60:02d}:{(7 * i) % 60:02d}"
        exif[ExifTags.Base.DateTime] = stamp
        details = exif.get_ifd(ExifTags.IFD.Exif)
        details[ExifTags.Base.DateTimeOriginal] = details[ExifTags.Base.DateTimeDigitized] = stamp
        details[ExifTags.Base.SubsecTimeOriginal] = f"{i % 1000:03d}"
        details[ExifTags.Base.OffsetTimeOriginal] = "+08:00"
        details[ExifTags.Base.BodySerialNumber] = "0042107"
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (1.0, 17.0, 1.0 + i % 50)
        gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", (103.0, 51.0, 2.5)
        gps[ExifTags.GPS.GPSAltitudeRef], gps[ExifTags.GPS.GPSAltitude] = b"\x00", 15.0
        path = folder / f"IMG_{i:05d}.JPG"
        scene.save(path, quality=88, exif=exif)
        paths.append(path)
    return paths


def best_of(repeat: int, run: Callable[[], object]) -> float:
    """Fastest wall time of repeat runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def exifread_alone(paths: list[Path]) -> None:
    for p in paths:
        with open(p, "rb") as f:
            exifread.process_file(f, details=False, extract_thumbnail=False)


def exiftool_batch(exiftool: str, paths: list[Path]) -> None:
    listing = "\n".join(str(p) for p in paths) + "\n"
    done = subprocess.run([exiftool, "-json", "-fast", "-@", "-"], input=listing.encode(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    if done.returncode not in (0, 1):  # 1: some files were not images or could not be read, as in our rows
        raise RuntimeError(f"exiftool failed with exit status {done.returncode}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", help="read the files in this folder (recursively) instead of generating")
    parser.add_argument("--count", type=int, default=400, help="JPEGs to generate (default 400)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best counts (default 3)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench_metadata_") as tmp:
        if args.folder:
            paths = sorted(p for p in Path(args.folder).rglob("*") if p.is_file())
            source = f"{len(paths)} files under {args.folder}"
        else:
            paths = make_jpegs(Path(tmp), args.count)
            source = f"{len(paths)} generated 1024×768 JPEGs with EXIF"
        if not paths:
            print("no files to read")
            return 1
        for p in paths:  # warm: every figure below reads from the page cache
            p.read_bytes()
        n = len(paths)
        print(f"metadata benchmark: {source}; warm page cache; best of {args.repeat}")

        ours = best_of(args.repeat, lambda: metadata_table(paths, progress=False))
        print(f"  vidlab.metadata_table      {n / ours:8.0f} rows/s")
        plain = best_of(args.repeat, lambda: exifread_alone(paths))
        print(f"  exifread alone (details=False) {n / plain:4.0f} files/s  -> ours is {plain / ours:.2f}× of it "
              f"({(ours - plain) / n * 1e6:+.0f} µs per file on top)")
        exiftool = shutil.which("exiftool")
        if exiftool is None:
            print("  exiftool: SKIPPED, not installed (apt-get install libimage-exiftool-perl); no ratio to report")
            return 0
        tool = best_of(args.repeat, lambda: exiftool_batch(exiftool, paths))
        ratio = tool / ours
        print(f"  exiftool -json -fast (1 process) {n / tool:4.0f} files/s")
        print(f"  ratio vidlab / exiftool: {ratio:.1f}×  (goal ≥ {GOAL:.0f}×: {'met' if ratio >= GOAL else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
