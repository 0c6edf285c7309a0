"""PDQ speed and accuracy: vidlab.similarity (numpy, one draft decode) against Meta's C++ via pdqhash, one run.

    .venv/bin/python benchmarks/bench_pdq.py                 # 40 generated 1600×1200 camera JPEGs
    .venv/bin/python benchmarks/bench_pdq.py --folder DIR    # JPEGs of your own (e.g. real camera files)
    .venv/bin/python benchmarks/bench_pdq.py --write-docs    # also docs/figures/draft_vs_full.png

Files as in bench_phash.py; reads are WARM (read once before timing; best of --repeat interleaved passes).
Timed, one process: pdqhash.compute fed by a full decode (the reference; aim: ours >= 4× it), pdqhash fed by
a >= 512 px draft (what DESIGN measured), vidlab PDQ alone, and all four vidlab hashes from one decode.
Accuracy, against pdqhash on the full decode: the share of pictures with quality >= 80 within 10 bits (Meta's
rule for a port: >= 99 %), and the distance distribution for decodes kept at 512 (the default), 256 and 128
px, plus a 512-px draft hashed naively as if it were the full picture (PDQ's filter sized for the draft
instead of folded from the full size) and pHash against imagehash's full decode — the figure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import imagehash
import numpy as np
import pdqhash
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_phash import prime, rates  # noqa: E402
from bench_robustness import FIGURES, make_corpus  # noqa: E402
from vidlab import similarity  # noqa: E402
from vidlab.similarity import bits_to_hex, distance, hash_file, hash_image  # noqa: E402


def reference(path: Path, draft: int | None = None) -> tuple[str, int]:
    """pdqhash (Meta's C++) on the decoded RGB pixels, optionally of a draft decode."""
    with Image.open(path) as picture:
        if draft:
            picture.draft("RGB", (draft, draft))
        vector, quality = pdqhash.compute(np.asarray(picture.convert("RGB")))
    return bits_to_hex(vector.astype(bool)), quality


def naive_draft(path: Path, side: int = 512) -> str:
    """PDQ of a draft decode hashed as if it were the whole picture: the box filter sized for the draft."""
    with Image.open(path) as picture:
        luma, _, _ = similarity.reduced_luma(picture, side)
    grid = similarity._pdq_grid(np.asarray(luma, dtype=np.float32), luma.size, 1)
    basis = similarity._pdq_dct()
    return similarity._pdq_hex(basis @ grid @ basis.T)


def accuracy(paths: list[Path]) -> dict[str, list[int]]:
    """Distance to the reference on the full decode, per way of hashing; 'quality' holds the reference's."""
    gaps: dict[str, list[int]] = {"quality": []}
    for path in paths:
        expected, quality = reference(path)
        gaps["quality"].append(quality)
        ways = {f"PDQ, decode ≥ {side} px": hash_image(Image.open(path), ("pdq",), side=side)["pdq"]
                for side in (512, 256, 128)}
        ways["PDQ, ≥ 512 px draft, naive filter"] = naive_draft(path)
        for way, ours in ways.items():
            gaps.setdefault(way, []).append(distance(ours, expected))
        phash = hash_file(path, kinds=("phash",))["phash"]
        gaps.setdefault("pHash, decode ≥ 64 px", []).append(distance(phash, str(imagehash.phash(Image.open(path)))))
    return gaps


def figure(gaps: dict[str, list[int]], path: Path) -> None:
    """Histograms of the distance between draft and full-decode hashes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ways = [w for w in gaps if w != "quality"]
    fig, axes = plt.subplots(1, len(ways), figsize=(4 * len(ways), 3.6), sharey=True, sharex=True)
    top = max(16, max(max(gaps[w]) for w in ways) + 2)
    for ax, way in zip(axes, ways):
        ax.hist(gaps[way], bins=np.arange(-0.5, top + 1), color="steelblue")
        ax.set_xticks(range(0, top + 1, 2))
        if way.startswith("PDQ"):
            ax.axvline(10.5, color="crimson", linestyle="--", label="Meta's port rule: ≤ 10")
            ax.legend(loc="upper right", fontsize=8)
        ax.set_title(way, fontsize=10)
        ax.set_xlabel("bits different from the full decode")
    axes[0].set_ylabel("pictures")
    fig.suptitle("Hash from a reduced decode vs the reference on the full decode (PDQ: Meta's pdqhash; pHash: "
                 f"imagehash), {len(gaps['quality'])} JPEGs", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, help="use these JPEGs instead of generated ones")
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=9000)
    parser.add_argument("--write-docs", action="store_true", help="write docs/figures/draft_vs_full.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.folder:
            paths = sorted(args.folder.rglob("*.jpg"))[: args.files]
        else:
            made = make_corpus(Path(tmp), args.files, (1600, 1200), args.seed, edits={})
            paths = list(made.loc[made["edit"] == "original", "path"])
        prime(paths)
        work = {
            "pdqhash, full decode (reference)": reference,
            "pdqhash, >= 512 px draft": lambda p: reference(p, 512),
            "vidlab PDQ (>= 512 px draft)": lambda p: hash_file(p, kinds=("pdq",)),
            "vidlab all four (one decode)": lambda p: hash_file(p),
        }
        got = rates(work, paths, args.repeat)
        gaps = accuracy(paths)
        size = "×".join(map(str, Image.open(paths[0]).size)) if args.folder is None else "mixed sizes"
    print(f"{len(paths)} JPEGs ({size}), warm cache, best of {args.repeat}, one process:")
    for name, rate in got.items():
        print(f"  {name:34s} {rate:7.1f} img/s")
    print(f"vidlab PDQ / pdqhash on a full decode: {got['vidlab PDQ (>= 512 px draft)'] / got[next(iter(work))]:.2f}x "
          "(aim >= 4)")
    good = np.array(gaps["quality"]) >= 80
    for way, values in gaps.items():
        if way == "quality":
            continue
        values = np.array(values)
        rule = f"  within 10 bits (quality >= 80): {np.mean(values[good] <= 10):.1%}" if "pHash" not in way else ""
        print(f"  {way:34s} median {np.median(values):4.1f}  p99 {np.percentile(values, 99):5.1f}  "
              f"max {values.max():3d}{rule}")
    print(f"quality >= 80: {good.sum()} of {len(good)} pictures")
    if args.write_docs:
        FIGURES.mkdir(parents=True, exist_ok=True)
        figure(gaps, FIGURES / "draft_vs_full.png")
        print(f"wrote {FIGURES / 'draft_vs_full.png'}")


if __name__ == "__main__":
    main()
