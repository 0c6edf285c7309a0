"""Carving speed (vidlab.carve) on a large raw image against plain reading of the same bytes, in one run.

Usage: python benchmarks/bench_carve.py [--mb 1024] [--pictures 400] [--image /tmp/vidlab_bench_carve.dd] [--keep]

The image is written by the generator's own disk-image writer (synthetic_data.disk_image): --pictures deleted
JPEGs taken from the classroom profile (tiny if classroom is not generated), 15 % truncated, 15 % overwritten,
among zeros, erased flash, random data, text, PDF and ZIP remnants and false JPEG headers. Reads are WARM: the
image was just written and each timed pass follows the other (pages idle for about a minute are evicted, so the
first pass is repeated after the carve to show whether the cache held). Reported: plain read MB/s (1 MiB reads),
carve MB/s and the ratio carve / read, the share of the carve spent decoding to validate, and whether every
picture came out in the state the answer rows give.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import pandas as pd

from synthetic_data.disk_image import write_disk_image
from vidlab import carve as carving
from vidlab import course


def pictures(count: int) -> list[tuple[str, bytes]]:
    """`count` JPEGs from a generated profile (repeated under new names when it has fewer)."""
    for profile in ("classroom", "tiny"):
        key = course.answer_key_dir(profile) / "files.csv"
        if key.exists():
            files = pd.read_csv(key)
            paths = list(files.loc[files["true_kind"] == "jpeg", "path"])
            case = course.case_dir(profile)
            print(f"pictures from the {profile} profile ({len(paths)} JPEGs)")
            return [(f"{i:05d}_{Path(paths[i % len(paths)]).name}", (case / paths[i % len(paths)]).read_bytes())
                    for i in range(count)]
    raise SystemExit("no generated profile: run `vidlab data generate --profile tiny` first")


def read_speed(path: Path) -> float:
    """Seconds to read the whole file in 1 MiB reads."""
    start = time.perf_counter()
    with path.open("rb", buffering=0) as f:
        while f.read(1 << 20):
            pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--pictures", type=int, default=400)
    parser.add_argument("--image", type=Path, default=Path("/tmp/vidlab_bench_carve.dd"))
    parser.add_argument("--keep", action="store_true", help="keep the image afterwards")
    args = parser.parse_args()
    jpegs = pictures(args.pictures)
    start = time.perf_counter()
    truth = pd.DataFrame(write_disk_image(args.image, jpegs, random.Random(1), args.mb << 20))
    print(f"wrote {args.mb} MB image with {len(truth)} deleted JPEGs in {time.perf_counter() - start:.1f} s")
    try:
        size_mb = args.image.stat().st_size / 2**20
        before = read_speed(args.image)
        decode = carving._decode
        spent = [0.0]

        def timed_decode(*a: object) -> str | None:
            t = time.perf_counter()
            try:
                return decode(*a)
            finally:
                spent[0] += time.perf_counter() - t

        carving._decode = timed_decode  # measure the validation share without changing what runs
        start = time.perf_counter()
        table = carving.carve(args.image, progress=False)
        took = time.perf_counter() - start
        carving._decode = decode
        after = read_speed(args.image)
        read = min(before, after)
        merged = truth.merge(table, on="offset", how="left", suffixes=("_key", ""))
        right = (merged["state"] == merged["state_key"]).sum()
        print(f"plain read (warm, best of before/after): {size_mb / read:8.0f} MB/s  ({before:.2f} s, {after:.2f} s)")
        print(f"carve:                                   {size_mb / took:8.0f} MB/s  ({took:.2f} s, "
              f"{spent[0] / took:.0%} of it decoding to validate)")
        print(f"ratio carve / read speed: {read / took:.2f}  (1.0 = as fast as reading)")
        print(f"pictures found {merged['state'].notna().sum()}/{len(truth)}, state as in the answer rows {right}/"
              f"{len(truth)}: {carving.carve_states(table)}")
    finally:
        if not args.keep:
            args.image.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
