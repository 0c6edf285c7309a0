"""Large data: a case inventory on Dask, DuckDB queries over the Parquet inventory, known-file filtering.

The inventory itself is vidlab.scan's (one row per file: kind, hashes, metadata, perceptual hashes);
``scan.scan(folder, out, dask=...)`` runs its per-file pipeline here on Dask instead of the local
process pool, with the same rows. Queries read the Parquet file in place through DuckDB (columnar,
out of core), so a 20 GB case never has to fit in pandas. Known-file filtering sets aside operating
system and application files whose hashes are in an NSRL-style list, and says how much it set aside.
"""

from __future__ import annotations

import os
import signal
import threading
import warnings
from collections import deque
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import pandas as pd

from vidlab import evidence
from vidlab.evidence import PathLike

if TYPE_CHECKING:
    from distributed import Client
    from tqdm import tqdm

__all__ = [
    "LOCAL_WORKERS", "dask_client", "dask_rows",
    "connect", "query", "files_by_kind", "files_by_device", "duplicates", "sizes",
    "KNOWN_COLUMNS", "mark_known", "set_aside",
]

T = TypeVar("T")

#: Worker processes of a local Dask cluster (one thread each: the work holds the GIL between C calls).
LOCAL_WORKERS = 2
#: Seconds to wait for a Dask scheduler the user named before saying it does not answer.
CONNECT_SECONDS = 10
_LOCAL_CLUSTER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "10s",
}
#: Columns mark_known adds: whether the file is in the list, and what the list says it is.
KNOWN_COLUMNS: tuple[str, ...] = ("known", "known_role", "known_platform", "known_product", "known_name")


# --------------------------------------------------------------------------- Dask


def _leave_ctrl_c_to_us() -> object:
    """A Dask worker plugin: local workers ignore Ctrl-C, which the terminal sends them too; the scan stops them.

    Made here rather than at import, so the DuckDB half of this module does not load Dask.
    """
    from distributed import WorkerPlugin

    class LeaveCtrlCToUs(WorkerPlugin):
        name = "vidlab-leave-ctrl-c"

        def setup(self, worker: object) -> None:
            if threading.current_thread() is threading.main_thread():  # the worker's own thread; only it may
                signal.signal(signal.SIGINT, signal.SIG_IGN)

    return LeaveCtrlCToUs()


@contextmanager
def dask_client(dask: bool | str | Client = True, workers: int = LOCAL_WORKERS) -> Iterator[Client]:
    """A Dask client for the duration: True starts (and then stops) a LocalCluster of `workers` single-threaded
    processes; a string is a scheduler address ("tcp://host:8786"); a Client is used as it is.

    On a real cluster every worker must see the evidence folder at the same path as this machine.
    """
    from distributed import Client, LocalCluster

    if isinstance(dask, Client):
        yield dask
    elif dask is True:
        from dask import config as dask_config

        # Tuned for this work, measured with benchmarks/bench_bulk.py (CPU seconds, 350 pictures): Dask's default
        # MALLOC_TRIM_THRESHOLD_ turns off glibc's adaptive mmap threshold, so every decoded picture's buffers are
        # mapped afresh (300,000 page faults, +40 % CPU); its sampling profiler and 20 ms event-loop ticks add
        # another +30 %. Without them a worker spends what a pool process does. No dashboard, and only this
        # machine can connect; the scheduler's small HTTP server moving off a busy port 8787 is no news.
        with dask_config.set(_LOCAL_CLUSTER_CONFIG), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None)
        with cluster, Client(cluster) as client:
            client.register_plugin(_leave_ctrl_c_to_us())
            yield client
    elif isinstance(dask, str) and dask:
        try:
            client = Client(dask, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"no Dask scheduler answered at {dask} within {CONNECT_SECONDS} s ({exc}): "
                             "check the address, or leave it out to use this machine") from None
        with client:
            yield client
    else:
        raise ValueError(f"dask must be True (a local cluster), a scheduler address or a Client, not {dask!r}")


def dask_rows(task: Callable[[T], dict], items: Sequence[T], client: Client, bar: tqdm,
              failed: Callable[[T, BaseException], dict], ahead: Callable[[T], None] | None = None) -> Iterator[dict]:
    """task(item) for every item, in the items' order, on a Dask cluster; a few chunks in flight, so memory stays flat.

    A chunk whose worker died is run again one item at a time, and an item that fails again gets
    failed(item, error) as its row: one bad file costs its own row, not its neighbours'. `ahead` as in
    evidence.rows_in_order.
    """
    threads = max(1, sum(client.nthreads().values()))
    # Each task costs the scheduler and a worker a few milliseconds, so chunks are as large as still leaves
    # eight per thread to share out (at most 32 files: small chunks near the end keep every worker busy).
    size = max(1, min(32, len(items) // (threads * 8)))
    pending: deque[tuple[Sequence[T], Any]] = deque()

    def one(item: T) -> dict:
        try:
            return client.submit(task, item, pure=False).result()
        except Exception as exc:  # noqa: BLE001 - the item gets an error row instead
            return failed(item, exc)

    def oldest() -> list[dict]:
        chunk, future = pending.popleft()
        try:
            rows = future.result()
        except Exception:  # noqa: BLE001 - a worker died (or the task raised): find which item, if any, is to blame
            rows = [one(item) for item in chunk]
        bar.update(len(rows))
        return rows

    try:
        for start in range(0, len(items), size):
            chunk = items[start:start + size]
            pending.append((chunk, client.submit(evidence.chunk_rows, task, chunk, ahead, pure=False)))
            if len(pending) > 2 * threads:
                yield from oldest()
        while pending:
            yield from oldest()
    finally:  # interrupted: nothing more runs for us on the cluster
        client.cancel([future for _, future in pending])


# --------------------------------------------------------------------------- DuckDB over the inventory


def _literal(text: str) -> str:
    """A SQL string literal (DuckDB cannot take a file name as a parameter when it defines a view)."""
    return "'" + text.replace("'", "''") + "'"


def connect(inventory: PathLike) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB where the Parquet inventory is the view `inventory`, read in place, never loaded whole."""
    path = Path(inventory)
    if not path.is_file():
        raise FileNotFoundError(f"no inventory file at {path}: make one with vidlab scan")
    con = duckdb.connect()
    try:
        con.execute(f"CREATE VIEW inventory AS SELECT * FROM read_parquet({_literal(str(path))})")
    except duckdb.Error as exc:
        con.close()
        raise ValueError(f"{path} is not a Parquet inventory ({exc})") from None
    return con


def query(inventory: PathLike, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> pd.DataFrame:
    """The result of one SQL query over the view `inventory` (DuckDB dialect), as a DataFrame.

    Example: query(inv, "SELECT kind, count(*) AS files FROM inventory GROUP BY kind").
    """
    with connect(inventory) as con:
        return con.execute(sql, params).df()


def files_by_kind(inventory: PathLike) -> pd.DataFrame:
    """Files and bytes of each real kind (what the bytes are, not the extension), most files first."""
    return query(inventory, """
        SELECT coalesce(kind, '(not read)') AS kind, count(*) AS files, coalesce(sum(size), 0)::BIGINT AS bytes
        FROM inventory GROUP BY ALL ORDER BY files DESC, kind""")


def files_by_device(inventory: PathLike) -> pd.DataFrame:
    """Files, bytes and distinct body serials per camera make and model written in the metadata, most files first."""
    return query(inventory, """
        SELECT make, model, count(*) AS files, coalesce(sum(size), 0)::BIGINT AS bytes,
               count(DISTINCT body_serial) AS serials
        FROM inventory WHERE make IS NOT NULL OR model IS NOT NULL
        GROUP BY ALL ORDER BY files DESC, make NULLS LAST, model NULLS LAST""")


def duplicates(inventory: PathLike) -> pd.DataFrame:
    """Byte-identical copies: every SHA-256 held by more than one file, with its paths (empty files left out)."""
    return query(inventory, """
        SELECT sha256, count(*) AS copies, min(size) AS size, list(path ORDER BY path) AS paths
        FROM inventory WHERE sha256 IS NOT NULL AND size > 0
        GROUP BY sha256 HAVING count(*) > 1 ORDER BY copies DESC, sha256""")


#: Upper bounds (bytes, exclusive) and labels of the size bands `sizes` counts.
SIZE_BANDS: tuple[tuple[int, str], ...] = (
    (1, "empty"), (100_000, "under 100 kB"), (1_000_000, "100 kB to 1 MB"), (10_000_000, "1 to 10 MB"),
    (100_000_000, "10 to 100 MB"), (1_000_000_000, "100 MB to 1 GB"), (2**63 - 1, "1 GB and more"),
)


def sizes(inventory: PathLike) -> pd.DataFrame:
    """Files and bytes per size band, smallest band first; files not read (links, errors) last."""
    cases = " ".join(f"WHEN size < {limit} THEN {n}" for n, (limit, _) in enumerate(SIZE_BANDS))
    labels = ", ".join(_literal(label) for _, label in SIZE_BANDS)
    return query(inventory, f"""
        SELECT coalesce([{labels}][n + 1], '(not read)') AS band, count(*) AS files,
               coalesce(sum(size), 0)::BIGINT AS bytes
        FROM (SELECT size, CASE {cases} END AS n FROM inventory)
        GROUP BY n ORDER BY n NULLS LAST""")


# --------------------------------------------------------------------------- known files (NSRL-style lists)

# Column names in NSRL RDS files and common hash-set exports → ours.
_LIST_NAMES = {"sha-256": "sha256", "sha256": "sha256", "sha-1": "sha1", "sha1": "sha1", "md5": "md5",
               "filename": "name", "filesize": "size", "productcode": "product", "opsystemcode": "platform"}
_HASH_ORDER = ("sha256", "sha1", "md5")  # the strongest hash a list holds is the one files are looked up by


def _known_list(con: duckdb.DuckDBPyConnection, known_list: PathLike, os_products: Collection[int] | None) -> str:
    """Load an NSRL-style CSV as the table `known_list` (one row per file content); return the hash it is keyed by."""
    path = Path(known_list)
    if not path.is_file():
        raise FileNotFoundError(f"no known-file list at {path}")
    try:  # all text: hex digests can look like numbers
        raw = con.execute(f"SELECT * FROM read_csv({_literal(str(path))}, header = true, all_varchar = true) LIMIT 0")
        found = [d[0] for d in raw.description]
    except duckdb.Error as exc:
        raise ValueError(f"{path} is not a readable CSV known-file list ({exc})") from None
    columns = {_LIST_NAMES[c.lower()]: c for c in found if c.lower() in _LIST_NAMES}
    hashes = [h for h in _HASH_ORDER if h in columns]
    if not hashes:
        raise ValueError(f"{path} has no hash column (SHA-256, SHA-1 or MD5); its columns are {', '.join(found)}")

    def column(name: str, cast: str = "VARCHAR") -> str:
        if name not in columns:
            return f"NULL::{cast}"
        quoted = '"' + columns[name].replace('"', '""') + '"'
        return (f"nullif(lower(trim({quoted})), '')" if name in _HASH_ORDER
                else f"TRY_CAST(nullif(trim({quoted}), '') AS {cast})")

    # Which products are operating systems: as given, else the course list's rule (NSRL's product table has it
    # for real lists): each platform's first product is the OS itself and its applications are numbered after it.
    os_rule = (f"product IN ({', '.join(str(int(p)) for p in os_products) or 'NULL'})" if os_products is not None
               else "product = min(product) OVER (PARTITION BY platform)")
    key = hashes[0]
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE known_list AS
        WITH listed AS (
            SELECT {', '.join(f'{column(h)} AS {h}' for h in _HASH_ORDER)},
                   {column('size', 'BIGINT')} AS size, {column('product', 'BIGINT')} AS product,
                   {column('platform')} AS platform, {column('name')} AS name
            FROM read_csv({_literal(str(path))}, header = true, all_varchar = true)),
        roles AS (SELECT *, CASE WHEN product IS NULL THEN 'listed' WHEN {os_rule} THEN 'os' ELSE 'app' END AS role
                  FROM listed WHERE {key} IS NOT NULL)
        SELECT {key}, {', '.join(f'min({h}) AS {h}' for h in _HASH_ORDER if h != key)}, min(size) AS size,
               CASE WHEN bool_or(role = 'os') THEN 'os' WHEN bool_or(role = 'app') THEN 'app' ELSE 'listed' END
                   AS role,
               min(platform) AS platform, min(product) AS product, min(name) AS name
        FROM roles GROUP BY {key}""")
    return key


def _marked(con: duckdb.DuckDBPyConnection, inventory: PathLike, known_list: PathLike,
            os_products: Collection[int] | None) -> None:
    """The view `marked`: the inventory with KNOWN_COLUMNS (and file_row_number, its order) from a known-file list."""
    key = _known_list(con, known_list, os_products)
    present = {d[0] for d in con.execute("SELECT * FROM inventory LIMIT 0").description}
    redo = [c for c in KNOWN_COLUMNS if c in present]  # marking a marked inventory again, with another list
    exclude = f"EXCLUDE ({', '.join(redo)})" if redo else ""
    # Every hash the list gives must agree, and the size: a list row names one exact content.
    agree = " AND ".join(f"(k.{h} IS NULL OR k.{h} = i.{h})" for h in (*_HASH_ORDER, "size") if h != key)
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW marked AS
        SELECT i.* {exclude}, k.{key} IS NOT NULL AS known, k.role AS known_role, k.platform AS known_platform,
               k.product AS known_product, k.name AS known_name
        FROM read_parquet({_literal(str(Path(inventory)))}, file_row_number = true) i
        LEFT JOIN known_list k ON i.{key} = k.{key} AND {agree}""")


_SET_ASIDE = """
    SELECT known_role AS role, known_platform AS platform, count(*) AS files, coalesce(sum(size), 0)::BIGINT AS bytes
    FROM marked WHERE known GROUP BY ALL ORDER BY role, platform NULLS LAST"""


def set_aside(inventory: PathLike, known_list: PathLike, os_products: Collection[int] | None = None) -> pd.DataFrame:
    """What a known-file list would set aside: files and bytes per role (os / app) and platform; nothing is written.

    A file is known when the list holds its hash (SHA-256, else SHA-1, else MD5) and every other hash and the
    size the list gives agree. `os_products`: the list's ProductCodes that are operating systems (see mark_known).
    """
    with connect(inventory) as con:
        _marked(con, inventory, known_list, os_products)
        return con.execute(_SET_ASIDE).df()


def mark_known(inventory: PathLike, known_list: PathLike, out: PathLike, drop: bool = False,
               os_products: Collection[int] | None = None) -> pd.DataFrame:
    """Write the inventory to `out` with KNOWN_COLUMNS (with `drop`: without the known files); return set_aside's table.

    `out` appears only when whole and may be the inventory itself. A file's role is `os` when the list's
    ProductCode for it is in `os_products`; by default each platform's lowest ProductCode (how the course's list
    numbers them; pass the operating-system products of NSRLProd.txt for a real NSRL set).
    """
    out = Path(out)
    if out.is_dir():
        raise IsADirectoryError(f"the filtered inventory is a file: {out} is a folder")
    tmp = out.with_name(out.name + ".tmp")
    with connect(inventory) as con:
        _marked(con, inventory, known_list, os_products)
        # file_row_number only kept the inventory's order; the known columns go too when known files are dropped
        dropped = ", ".join(["file_row_number", *KNOWN_COLUMNS]) if drop else "file_row_number"
        con.execute(f"COPY (SELECT * EXCLUDE ({dropped}) FROM marked {'WHERE NOT known' if drop else ''} "
                    f"ORDER BY file_row_number) "
                    f"TO {_literal(str(tmp))} (FORMAT parquet)")
        summary = con.execute(_SET_ASIDE).df()
    os.replace(tmp, out)
    return summary
