"""Near-duplicate index: 10,000 queries against 1.5 million hashes, multi-index hashing vs a numpy brute-force scan.

    .venv/bin/python benchmarks/bench_index.py                       # PDQ and pHash, 1.5 M hashes (~6 minutes)
    .venv/bin/python benchmarks/bench_index.py --hashes 200000       # quicker
    .venv/bin/python benchmarks/bench_index.py --kinds pdq --max-distance 31 40

1.5 million is the size of a national image collection (the issue's ICSE figure). Hashes are uniformly random
(seeded); half the queries are planted near-duplicates of indexed hashes (0 to d + 8 bits flipped, so some fall
just outside d), half are strangers. Both searches run in this process on the same arrays, in memory (no files:
nothing cold or warm about it). The brute-force reference is vidlab.hashindex.brute_force_search: blocks of
hashes word by word against 64 queries at a time with np.bitwise_count — about 4× faster than one query against
every row, so the ratio is against a fair scan. Reported: build time, index memory (arrays it holds) and the
process's peak RSS, search times, their ratio (aim >= 10), and whether the result sets are identical.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidlab.hashindex import HashIndex, brute_force_search  # noqa: E402
from vidlab.similarity import HASH_BITS, THRESHOLDS  # noqa: E402


def planted_queries(hashes: np.ndarray, count: int, max_flips: int, rng: np.random.Generator) -> np.ndarray:
    """Half near copies of indexed hashes (0..max_flips bits flipped), half random strangers."""
    copies = hashes[rng.choice(len(hashes), count // 2)].copy()
    bits = hashes.shape[1] * 64
    flips = rng.integers(0, max_flips + 1, len(copies))
    for row, n in zip(copies, flips):
        for bit in rng.choice(bits, n, replace=False):
            row[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    strangers = rng.integers(0, 2**64, size=(count - len(copies), hashes.shape[1]), dtype=np.uint64)
    return np.vstack([copies, strangers])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def run(kind: str, count: int, queries: int, distances: list[int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    words = HASH_BITS[kind] // 64
    hashes = rng.integers(0, 2**64, size=(count, words), dtype=np.uint64)
    start = time.perf_counter()
    index = HashIndex(hashes)
    build = time.perf_counter() - start
    lengths = sorted(set(index.piece_bits))
    print(f"\n{kind}: {count:,} random {HASH_BITS[kind]}-bit hashes, {index.pieces} pieces of {lengths} bits; "
          f"build {build:.2f} s, index {index.nbytes / 2**20:.0f} MiB (hashes {hashes.nbytes / 2**20:.0f} MiB), "
          f"peak RSS so far {peak_rss_mb():.0f} MiB")
    for d in distances:
        asked = planted_queries(hashes, queries, d + 8, rng)
        start = time.perf_counter()
        found = index.search(asked, d)
        fast = time.perf_counter() - start
        start = time.perf_counter()
        expected = brute_force_search(hashes, asked, d)
        slow = time.perf_counter() - start
        same = all(np.array_equal(a, b) for a, b in zip(found, expected))
        print(f"  d <= {d:3d}: {len(found.query):,} hits; index {fast:7.2f} s ({queries / fast:9,.0f} queries/s), "
              f"brute force {slow:7.2f} s -> {slow / fast:5.1f}x faster (aim >= 10); identical: {same}")
    print(f"  peak RSS {peak_rss_mb():.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hashes", type=int, default=1_500_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--kinds", nargs="+", default=["pdq", "phash"], choices=sorted(HASH_BITS))
    parser.add_argument("--max-distance", type=int, nargs="+",
                        help="distances to search (default: the course threshold; for PDQ also Meta's 31)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    for kind in args.kinds:
        distances = args.max_distance or sorted({THRESHOLDS[kind], *((31,) if kind == "pdq" else ())})
        run(kind, args.hashes, args.queries, distances, args.seed)


if __name__ == "__main__":
    main()
