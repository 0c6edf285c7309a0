"""pHash speed: vidlab.similarity against imagehash's phash and against the draft decode alone, in one run.

    .venv/bin/python benchmarks/bench_phash.py                  # 40 generated 1600×1200 camera JPEGs
    .venv/bin/python benchmarks/bench_phash.py --folder DIR     # JPEGs of your own (e.g. the classroom data)

Files: 1600×1200 camera JPEGs made like bench_robustness.py's originals (a generated scene, a little noise,
q92), or every *.jpg under --folder. Reads are WARM: all files are read once before timing, and each figure
is the best of --repeat interleaved passes (on a shared machine the fastest pass is the undisturbed one).
Timed, one process:
  - imagehash.phash on a full decode (its documented use: Image.open then phash);
  - Pillow's draft decode alone at 1/8 scale in RGB (the issue's ceiling for JPEG input), and in L;
  - vidlab.similarity.hash_file(path, kinds=("phash",)): draft to >= 64 px, luminance only;
  - hash_file(path) for all four hashes from one decode (>= 512 px), for comparison.
Ratios: ours / imagehash (aim >= 3.5) and ours / draft-only RGB (aim >= 0.8). Then agreement: every edited
copy against its original and every pair of different pictures (bench_robustness.py's edits, generated here),
judged at THRESHOLDS["phash"] by our pHash and by imagehash's on full decodes: same decision on >= 99 % of pairs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import imagehash
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_robustness import distances, make_corpus  # noqa: E402
from vidlab.similarity import THRESHOLDS, hash_file, hash_table  # noqa: E402


def prime(paths: list[Path]) -> None:
    """Read every file once so the timed passes find it in the page cache."""
    for path in paths:
        path.read_bytes()


def draft_only(mode: str) -> Callable[[Path], object]:
    def decode(path: Path) -> None:
        with Image.open(path) as picture:
            picture.draft(mode, (64, 64))
            picture.load()
    return decode


def rates(work: dict[str, Callable[[Path], object]], paths: list[Path], repeat: int) -> dict[str, float]:
    """Images per second of each task over the files: best of `repeat` passes, tasks interleaved, each task
    run once first (untimed) so that imports and cached filter weights are not counted."""
    for task in work.values():
        task(paths[0])
    best = dict.fromkeys(work, float("inf"))
    for _ in range(repeat):
        for name, task in work.items():
            start = time.perf_counter()
            for path in paths:
                task(path)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(paths) / seconds for name, seconds in best.items()}


def agreement(folder: Path, originals: int, seed: int) -> None:
    """Match / no-match decisions of our pHash and imagehash's at the course threshold, on the same pairs."""
    files = make_corpus(folder, originals, (1600, 1200), seed)
    ours = list(hash_table(files["path"], kinds=("phash",))["phash"])
    theirs = [str(imagehash.phash(Image.open(path))) for path in files["path"]]
    is_original = (files["edit"] == "original").to_numpy()
    same_picture = files["original"].to_numpy()[:, None] == files["original"].to_numpy()[None, is_original]
    pairs = ~(is_original[:, None] & same_picture)  # not an original with itself
    pairs &= (files["edit"] != "same room, another shot").to_numpy()[:, None] | ~same_picture  # different shots: skip
    originals_ours = [h for h, o in zip(ours, is_original) if o]
    originals_theirs = [h for h, o in zip(theirs, is_original) if o]
    limit = THRESHOLDS["phash"]
    ours_match = distances(ours, originals_ours) <= limit
    theirs_match = distances(theirs, originals_theirs) <= limit
    same = (ours_match == theirs_match)[pairs]
    print(f"\ndecisions at pHash <= {limit}: {pairs.sum():,} pairs ({(pairs & same_picture).sum():,} copy-original, "
          f"{(pairs & ~same_picture).sum():,} unrelated); same decision on {same.mean():.2%} (aim >= 99 %); "
          f"matches: ours {ours_match[pairs & same_picture].mean():.1%}, imagehash "
          f"{theirs_match[pairs & same_picture].mean():.1%} of copies; false matches: ours "
          f"{ours_match[pairs & ~same_picture].sum()}, imagehash {theirs_match[pairs & ~same_picture].sum()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, help="time these JPEGs instead of generated ones")
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=9000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.folder:
            paths = sorted(args.folder.rglob("*.jpg"))[: args.files]
        else:
            made = make_corpus(Path(tmp), args.files, (1600, 1200), args.seed, edits={})
            paths = list(made.loc[made["edit"] == "original", "path"])
        prime(paths)
        size = Image.open(paths[0]).size
        work = {
            "imagehash phash (full decode)": lambda p: imagehash.phash(Image.open(p)),
            "draft decode 1/8 RGB only": draft_only("RGB"),
            "draft decode 1/8 L only": draft_only("L"),
            "vidlab pHash": lambda p: hash_file(p, kinds=("phash",)),
            "vidlab all four (one decode)": lambda p: hash_file(p),
        }
        got = rates(work, paths, args.repeat)
    print(f"{len(paths)} JPEGs of {size[0]}×{size[1]} (first file), warm cache, best of {args.repeat}, one process:")
    for name, rate in got.items():
        print(f"  {name:32s} {rate:7.1f} img/s")
    ours = got["vidlab pHash"]
    print(f"vidlab pHash / imagehash phash:   {ours / got['imagehash phash (full decode)']:.2f}x (aim >= 3.5)")
    print(f"vidlab pHash / draft decode only: {ours / got['draft decode 1/8 RGB only']:.2f} (aim >= 0.8; "
          f"{ours / got['draft decode 1/8 L only']:.2f} of the luminance-only draft)")
    with tempfile.TemporaryDirectory() as tmp:
        agreement(Path(tmp), max(10, args.files // 2), args.seed + 1000)


if __name__ == "__main__":
    main()
