"""Case inventory speed: hashes + metadata + pHash/PDQ vs just reading and SHA-256-ing the same bytes; Dask vs the pool.

Usage: python benchmarks/bench_bulk.py [--profile classroom | --folder DIR | --full-series N]
                                       [--workers 2] [--cold] [--repeat 1] [--no-dask]

Goals (issue 6): the whole inventory (type, MD5/SHA-1/SHA-256, metadata, pHash + PDQ) on 2 cores within 2× the
time to read and SHA-256 the same bytes on the same cores; Dask (LocalCluster, 2 single-threaded workers) within
1.2× the process pool. Everything is measured in this run. `full` (20 GB) is not generated here: the default is
the classroom profile's case folder; --full-series N generates N series of the `full` profile (camera-native
12–24 MP photos) into a temporary folder, deleted afterwards, as a sample of what full-size files cost.

--cold drops each file from the page cache (posix_fadvise DONTNEED, no root needed) before every timed pass;
otherwise every pass reads from the page cache (warm: the files are read once first). A per-stage breakdown
on a sample of pictures (one process) shows where the time goes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from vidlab import bulk, course, evidence, formats, metadata, scan, similarity


def regular_files(folder: Path) -> list[Path]:
    return [folder / rel for rel, skipped in evidence.folder_entries(folder) if skipped is None]


def evict(paths: list[Path]) -> None:
    """Drop the files' pages from the page cache, so the next read comes from disk."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def warm(paths: list[Path]) -> None:
    for path in paths:
        path.read_bytes()


def _sha256_many(paths: list[Path]) -> int:
    for path in paths:
        with open(path, "rb") as f:
            hashlib.file_digest(f, "sha256")
    return len(paths)


def read_and_sha256(paths: list[Path], workers: int) -> None:
    """The reference: read every byte and SHA-256 it, on the same number of processes, in chunks."""
    chunks = [paths[i::workers * 16] for i in range(workers * 16)]
    with ProcessPoolExecutor(workers) as pool:
        assert sum(pool.map(_sha256_many, chunks)) == len(paths)


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its finished children (pool processes, local Dask workers)."""
    return sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for f in ("ru_utime", "ru_stime"))


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(label: str, run: Callable[[], object], paths: list[Path], cold: bool, client=None) -> tuple[float, float]:
    """Wall and CPU seconds of one pass; CPU includes running Dask workers' (asked of them), which load does not
    inflate the way it inflates wall time on a shared machine."""
    if cold:
        evict(paths)
    workers = sum(client.run(_own_cpu).values()) if client is not None else 0.0
    cpu, start = cpu_seconds(), time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    cpu = cpu_seconds() - cpu + (sum(client.run(_own_cpu).values()) - workers if client is not None else 0.0)
    print(f"  {label:<52} {seconds:8.2f} s wall {cpu:8.2f} s CPU", flush=True)
    return seconds, cpu


def stages(paths: list[Path], sample: int) -> dict[str, float]:
    """Seconds per 1,000 pictures of each stage of the per-file pipeline (one process, warm); MB/s of each stage."""
    pictures = [p for p in paths if evidence.identify(p) in scan.PICTURE_KINDS]
    pictures = random.Random(1).sample(pictures, min(sample, len(pictures)))
    if not pictures:
        return {}
    megabytes = sum(p.stat().st_size for p in pictures) / 1e6
    warm(pictures)
    print(f"\nper-stage cost, one process, warm, {len(pictures)} pictures ({megabytes / len(pictures):.2f} MB each):")
    rates = {}
    for label, step in (("read + SHA-256", lambda p: _sha256_many([p])),
                        ("read + MD5 + SHA-1 + SHA-256", evidence.hashes),
                        ("kind + completeness", lambda p: formats.is_complete(p, evidence.identify(p))),
                        ("metadata", metadata.metadata_row),
                        ("pHash + PDQ (512 px decode)", lambda p: similarity.hash_file(p, scan.PERCEPTUAL_KINDS))):
        start = time.perf_counter()
        for path in pictures:
            step(path)
        seconds = time.perf_counter() - start
        rates[label] = megabytes / seconds
        print(f"  {label:<32} {1000 * seconds / len(pictures):8.1f} s per 1,000 files  {rates[label]:8.0f} MB/s")
    return rates


def work_floor(inventory: Path, rates: dict[str, float], workers: int, reference: float) -> None:
    """The least CPU any inventory needs here: every byte through the three digests, every distinct picture's
    bytes through the decoder (warm rates, so reading from disk comes on top), against the reference's wall time."""
    table = scan.read_inventory(inventory)
    pictures = table[table["kind"].isin(scan.PICTURE_KINDS) & table["sha256"].notna()].drop_duplicates("sha256")
    total, decoded = table["size"].sum() / 1e6, pictures["size"].sum() / 1e6
    cpu = total / rates["read + MD5 + SHA-1 + SHA-256"] + decoded / rates["pHash + PDQ (512 px decode)"]
    print(f"\nwork floor: {total / 1e3:.1f} GB through MD5 + SHA-1 + SHA-256 and {decoded / 1e3:.1f} GB of "
          f"{len(pictures):,} distinct pictures decoded = {cpu:.0f} CPU-s at least, {cpu / workers:.0f} s on "
          f"{workers} workers = {cpu / workers / reference:.2f}× read + SHA-256 before types and metadata")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="classroom", help="data profile whose case folder to inventory")
    parser.add_argument("--folder", type=Path, help="inventory this folder instead")
    parser.add_argument("--full-series", type=int, default=0,
                        help="generate this many series of the full profile in a temporary folder and use them")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cold", action="store_true", help="evict the files from the page cache before each pass")
    parser.add_argument("--repeat", type=int, default=1, help="passes of each measurement; the fastest counts")
    parser.add_argument("--no-dask", action="store_true")
    parser.add_argument("--sample", type=int, default=200, help="pictures in the per-stage breakdown")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench_bulk_"))
    try:
        if args.full_series:
            import synthetic_data

            print(f"generating {args.full_series} series of the full profile in {scratch} …", flush=True)
            folder = synthetic_data.generate("full", root=scratch / "data", series=args.full_series,
                                             progress=False) / "case"
            what = f"full profile, {args.full_series} series only (a sample: full is ~20 GB, 130 series)"
        else:
            folder = args.folder or course.case_dir(args.profile)
            what = str(folder) if args.folder else f"{args.profile} profile case folder (not full)"
        paths = regular_files(folder)
        size = sum(p.stat().st_size for p in paths)
        cache = "cold (each file evicted from the page cache before every pass)" if args.cold else "warm (page cache)"
        print(f"{what}: {len(paths)} files, {size / 1e9:.2f} GB; {args.workers} workers; reads {cache}; "
              f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", flush=True)
        if not args.cold:
            warm(paths)

        out = scratch / "inventory.parquet"
        best: dict[str, tuple[float, float]] = {}

        def measure(key: str, label: str, run: Callable[[], object], client=None) -> None:
            seconds, cpu = timed(label, run, paths, args.cold, client)
            best[key] = min(best.get(key, (float("inf"), 0.0)), (seconds, cpu))

        def inventory(**how) -> Callable[[], object]:
            return lambda: scan.scan(folder, out, workers=args.workers, resume=False, progress=False,
                                     perceptual=True, **how)

        with contextlib.ExitStack() as stack:
            client = None
            if not args.no_dask:
                start = time.perf_counter()
                client = stack.enter_context(bulk.dask_client(True, args.workers))
                client.run(lambda: __import__("vidlab.scan"))  # workers import the toolkit, as pool forks inherit it
                startup = time.perf_counter() - start
                print(f"  Dask LocalCluster start-up and imports: {startup:.2f} s", flush=True)
            for n in range(args.repeat):  # interleaved, so drifting load hits every method alike
                print(f"pass {n + 1}:")
                measure("sha256", "reference: read + SHA-256", lambda: read_and_sha256(paths, args.workers))
                measure("hashes", "read + MD5 + SHA-1 + SHA-256 (evidence.manifest)",
                        lambda: evidence.manifest(folder, workers=args.workers, progress=False))
                measure("pool", "inventory, process pool", inventory())
                if client is not None:
                    measure("dask", "inventory, Dask LocalCluster (running)", inventory(dask=client), client)

        rows = len(scan.read_inventory(out))
        assert rows == len(evidence.folder_entries(folder)), "one row per file"
        reference = best["sha256"][0]
        print(f"\nbest of {args.repeat} ({cache}), {size / 1e6:.0f} MB in {len(paths)} files:")
        for key, label in (("sha256", "read + SHA-256"), ("hashes", "read + MD5 + SHA-1 + SHA-256"),
                           ("pool", "inventory, process pool"), ("dask", "inventory, Dask (cluster running)")):
            if key in best:
                seconds, cpu = best[key]
                print(f"  {label:<34} {seconds:7.2f} s  {cpu:7.2f} CPU-s  {size / 1e6 / seconds:6.0f} MB/s  "
                      f"{len(paths) / seconds:6.0f} files/s  {seconds / reference:6.2f}× read + SHA-256")
        print(f"inventory / (read + SHA-256) = {best['pool'][0] / reference:.2f}× wall, "
              f"{best['pool'][1] / best['sha256'][1]:.2f}× CPU (goal ≤ 2×)")
        if "dask" in best:
            print(f"Dask / pool = {best['dask'][0] / best['pool'][0]:.2f}× wall with the cluster running, "
                  f"{(best['dask'][0] + startup) / best['pool'][0]:.2f}× including its start-up; "
                  f"{best['dask'][1] / best['pool'][1]:.2f}× CPU (goal ≤ 1.2×)")
        rates = stages(paths, args.sample)
        if rates:
            work_floor(out, rates, args.workers, reference)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
