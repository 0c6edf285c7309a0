"""Peak memory of `vidlab scan` at 1× and 4× the number of files: it should stay flat (ratio ≈ 1).

Usage: python benchmarks/bench_scan_memory.py [FOLDER] [--files 1500] [--workers 1]

Each scan runs in a fresh Python process and reports its own peak resident set (ru_maxrss;
with --workers > 1 the largest worker's too). The 1× folder is FOLDER (default: the tiny
profile's seized sample if generated, else a few Pillow-made photos) copied round-robin to
--files files; the 4× folder holds four times as many. Also printed: the peak of a process
that only imports vidlab.scan, so the part the scan itself adds can be compared too.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from vidlab import course, evidence

CHILD = """
import resource, sys, time
from vidlab import scan
start = time.perf_counter()
if sys.argv[1] != "--import-only":
    scan.scan(sys.argv[1], sys.argv[2], workers=int(sys.argv[3]), progress=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
      time.perf_counter() - start)
"""


def sample_files(folder: Path | None) -> list[bytes]:
    """The contents to copy: a given folder's files, else the tiny seized sample, else photos made here."""
    if folder is None:
        try:
            folder = course.case_dir("tiny")
        except course.DataMissingError:
            folder = None
    if folder is not None:
        return [(folder / rel).read_bytes() for rel, skipped in evidence.folder_entries(folder) if skipped is None]
    blobs = []
    for i in range(8):
        exif = Image.Exif()
        exif[0x010F], exif[0x0110] = "VIDLab Optics", f"Bench {i}"
        buf = io.BytesIO()
        Image.new("RGB", (640, 480), (30 * i, 90, 200 - 20 * i)).save(buf, "JPEG", quality=85, exif=exif)
        blobs.append(buf.getvalue())
    return blobs


def fill(root: Path, blobs: list[bytes], count: int) -> None:
    """`count` files, 100 per sub-folder, cycling through the sample contents."""
    for i in range(count):
        path = root / f"d{i // 100:04d}" / f"f{i:07d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blobs[i % len(blobs)])


def peak(args: list[str]) -> tuple[int, int, float]:
    """(own peak KiB, largest worker peak KiB, seconds) of one scan in a fresh process."""
    done = subprocess.run([sys.executable, "-c", CHILD, *args], check=True, capture_output=True, text=True)
    own, children, seconds = done.stdout.split()
    return int(own), int(children), float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, help="sample files to copy (default: tiny seized sample)")
    parser.add_argument("--files", type=int, default=1500, help="number of files at 1× (default 1500)")
    parser.add_argument("--workers", type=int, default=1, help="scan worker processes (default 1)")
    args = parser.parse_args()
    blobs = sample_files(args.folder)
    base, _, _ = peak(["--import-only"])
    print(f"peak RSS of a process that only imports vidlab.scan: {base / 1024:7.1f} MiB")
    results = {}
    with tempfile.TemporaryDirectory(prefix="vidlab-bench-scan-") as tmp:
        for scale in (1, 4):
            root = Path(tmp) / f"x{scale}"
            fill(root, blobs, scale * args.files)
            own, children, seconds = peak([str(root), str(Path(tmp) / f"x{scale}.parquet"), str(args.workers)])
            results[scale] = own
            workers = f", largest worker {children / 1024:6.1f} MiB" if args.workers > 1 else ""
            print(f"{scale}× = {scale * args.files:6,} files: peak RSS {own / 1024:7.1f} MiB{workers}"
                  f"  ({seconds:.1f} s, {scale * args.files / seconds:,.0f} files/s)")
            shutil.rmtree(root)
    print(f"ratio peak 4× / 1×:                      {results[4] / results[1]:5.2f}   (aim ≈ 1)")
    print(f"ratio above the import, 4× / 1×:         {(results[4] - base) / max(1, results[1] - base):5.2f}")


if __name__ == "__main__":
    main()
