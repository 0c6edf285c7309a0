"""Matching a case inventory against the known-series database: 20,000 files against 1.5 million known files.

    .venv/bin/python benchmarks/bench_casedb.py                         # 1.5 M known files (building takes minutes)
    .venv/bin/python benchmarks/bench_casedb.py --known 200000          # quicker
    .venv/bin/python benchmarks/bench_casedb.py --work /tmp/casedb_bench  # keep (and reuse) the database

Hashes are random (seeded), so the same arguments give the same files. The database holds `--known` files in
series of 30, each with MD5, SHA-1, SHA-256 and PDQ; the inventory (vidlab.scan's Parquet columns) holds
`--inventory` files, one in ten an exact copy of a known file, one in ten a near-duplicate (PDQ 0-30 bits from a
known file, new MD5), the rest strangers. Timed, in this process, warm (files just written, in the page cache):

- exact: vidlab.casedb.match_inventory without perceptual hashes (DuckDB over the Parquet, SQLite's hash
  indexes for the known side), against the reference of DuckDB just reading both tables whole (the inventory
  Parquet and the same known hashes as Parquet): matching needs less than reading what it matches against.
- a pure-DuckDB hash join of the two Parquet files (what matching costs when the known side is Parquet too),
  and Python's sqlite3 reading the whole media table (what loading the known side into memory would cost).
- near: match_inventory with PDQ hashes (exact + near-duplicates through vidlab.hashindex), in seconds.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidlab import casedb  # noqa: E402
from vidlab.casedb import KnownFile, KnownSeries  # noqa: E402

FILES_PER_SERIES = 30


def hexes(rng: np.random.Generator, count: int, digits: int) -> np.ndarray:
    """`count` random lower-case hex strings of `digits` digits."""
    raw = rng.integers(0, 256, size=(count, digits // 2), dtype=np.uint8)
    return np.array([row.tobytes().hex() for row in raw], dtype=object)


def known_table(count: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"md5": hexes(rng, count, 32), "sha1": hexes(rng, count, 40),
                         "sha256": hexes(rng, count, 64), "pdq": hexes(rng, count, 64),
                         "size": rng.integers(20_000, 9_000_000, count)})


def flipped(pdq: str, bits: int, rng: np.random.Generator) -> str:
    """A PDQ hex with `bits` random bits flipped."""
    value = int(pdq, 16)
    for bit in rng.choice(256, bits, replace=False):
        value ^= 1 << int(bit)
    return f"{value:064x}"


def build_database(path: Path, known: pd.DataFrame) -> float:
    """Write the known files into a case database (series of FILES_PER_SERIES); seconds taken."""
    start = time.perf_counter()
    rows = known.to_dict("records")
    series = (KnownSeries(f"KS-{n // FILES_PER_SERIES:07d}", "bench", "TH", "2024-01-01",
                          tuple(KnownFile(f"{n + k}.jpg", r["md5"], r["sha1"], int(r["size"]), r["pdq"], r["sha256"])
                                for k, r in enumerate(rows[n:n + FILES_PER_SERIES])))
              for n in range(0, len(rows), FILES_PER_SERIES))
    casedb.write_database(path, series)
    return time.perf_counter() - start


def inventory_tables(known: pd.DataFrame, count: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A scan-style inventory and its PDQ table: a tenth exact copies, a tenth near-duplicates, the rest new."""
    rng = np.random.default_rng(seed + 1)
    fresh = known_table(count, seed + 2)
    copies = rng.choice(len(known), count // 5, replace=False)
    exact, near = copies[: count // 10], copies[count // 10:]
    for column in ("md5", "sha1", "sha256", "pdq"):
        fresh.loc[: len(exact) - 1, column] = known[column].to_numpy()[exact]
    bits = rng.integers(0, 31, len(near))
    fresh.loc[len(exact): len(copies) - 1, "pdq"] = [flipped(p, int(b), rng)
                                                      for p, b in zip(known["pdq"].to_numpy()[near], bits)]
    fresh["path"] = [f"submissions/TH/TH-01-windows/Pictures/{n:06d}.jpg" for n in range(count)]
    fresh["kind"] = "jpeg"
    inventory = fresh[["path", "size", "kind", "md5", "sha1", "sha256"]].assign(error=None)
    hashes = fresh[["path", "pdq"]].assign(decode_side=512, flag=None, error=None)
    return inventory, hashes


def timed(task) -> tuple[float, object]:
    start = time.perf_counter()
    result = task()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--known", type=int, default=1_500_000, help="known files in the database")
    parser.add_argument("--inventory", type=int, default=20_000, help="files in the case inventory")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--work", type=Path, help="folder for the files (default: a temporary one)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench_casedb_"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"known_{args.known}_{args.seed}.sqlite"
    known = known_table(args.known, args.seed)
    if db.exists():
        print(f"reusing {db}")
    else:
        print(f"building {db} with {args.known:,} known files … {build_database(db, known):.1f} s")
    inventory, hashes = inventory_tables(known, args.inventory, args.seed)
    inventory_path, known_path = work / "inventory.parquet", work / "known.parquet"
    inventory.to_parquet(inventory_path, index=False)
    known.to_parquet(known_path, index=False)
    print(f"database {db.stat().st_size / 2**20:.0f} MiB; inventory {len(inventory):,} files; warm page cache")

    with duckdb.connect() as connection:
        read_both, _ = timed(lambda: connection.execute(
            # length() of every value: Parquet statistics cannot answer it, so every hash is read
            f"SELECT (SELECT sum(length(md5) + length(sha1) + length(sha256)) FROM read_parquet('{inventory_path}')) "
            f"+ (SELECT sum(length(md5) + length(sha1) + length(sha256)) FROM read_parquet('{known_path}'))"
            ).fetchall())
        join, joined = timed(lambda: connection.execute(
            f"SELECT count(*) FROM read_parquet('{inventory_path}') i JOIN read_parquet('{known_path}') k "
            "USING (md5)").fetchone()[0])
    with sqlite3.connect(db) as connection:
        load, _ = timed(lambda: connection.execute("SELECT md5, sha1, sha256 FROM media").fetchall())
    exact, report = timed(lambda: casedb.match_inventory(inventory_path, db))
    both, full = timed(lambda: casedb.match_inventory(inventory_path, db, hashes))
    planted = args.inventory // 10
    print(f"\nexact matches found {report.exact['path'].nunique():,} of {planted:,} planted "
          f"(pure DuckDB join: {joined:,}); near-duplicates found {full.near['path'].nunique():,} of "
          f"{args.inventory // 5 - planted:,} planted")
    print(f"reference: DuckDB reads both tables whole        {read_both:8.2f} s")
    print(f"match_inventory, exact hashes (DuckDB + SQLite)  {exact:8.2f} s   "
          f"ratio {exact / read_both:.2f}× the reference")
    print(f"pure DuckDB hash join of the two Parquet files    {join:8.2f} s   ratio {join / read_both:.2f}×")
    print(f"sqlite3 loading every known hash into Python      {load:8.2f} s   ratio {load / read_both:.2f}×")
    print(f"match_inventory, exact + PDQ near-duplicates      {both:8.2f} s   "
          f"(near-duplicates ≈ {both - exact:.2f} s)")


if __name__ == "__main__":
    main()
