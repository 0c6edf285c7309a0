"""`vidlab scan`: a folder of evidence into one Parquet inventory — kind, hashes, metadata, perceptual hashes.

One per-file pipeline (``file_row``) run by a local process pool or, for a unit that outgrows one
machine, by Dask (see vidlab.bulk); both give the same rows. Perceptual hashes come in a second pass,
once per distinct picture (by SHA-256): seized cards and the computers they were backed up to hold
the same photos many times, and decoding is the costliest step. Built for folders too big to finish in
one sitting: rows are written to checkpoint part files as they come (memory stays flat however many
files there are), an interrupted scan resumes where it stopped, and the inventory appears only when
it is whole (written beside, then renamed). Evidence is opened read-only, symbolic links are
recorded but never followed, and a file that cannot be read still gets its row, with the reason in
``error``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vidlab import evidence, formats, metadata, similarity
from vidlab.evidence import HASH_ALGORITHMS, PathLike

if TYPE_CHECKING:
    from distributed import Client
    from tqdm import tqdm

__all__ = ["scan", "file_row", "picture_row", "inventory_columns", "SCAN_COLUMNS", "PERCEPTUAL_COLUMNS",
           "PERCEPTUAL_KINDS", "read_inventory"]

T = TypeVar("T")

#: What scan adds per file; then the metadata columns (see vidlab.metadata), then metadata's own error.
FILE_COLUMNS: tuple[str, ...] = (
    "path", "size", "mtime", "kind", "extension", "extension_ok", "complete", *HASH_ALGORITHMS, "error",
)
SCAN_COLUMNS: tuple[str, ...] = (
    *FILE_COLUMNS, *(c for c in metadata.METADATA_COLUMNS if c not in ("path", "error")), "metadata_error",
)
#: Perceptual hashes an inventory carries when asked: pHash for a quick look, PDQ for hash lists and the case
#: database. Both come from one 512-px decode (similarity.decode_side), recorded in `decode_side`.
PERCEPTUAL_KINDS: tuple[str, ...] = ("phash", "pdq")
#: Named as in vidlab.similarity, so an inventory goes straight into similarity.find_matches / near_duplicates;
#: `flag` marks low-detail pictures, `hash_error` why a picture could not be hashed.
PERCEPTUAL_COLUMNS: tuple[str, ...] = ("phash", "pdq", "pdq_quality", "pdq_dihedral", "decode_side", "flag",
                                       "hash_error")
#: File kinds that get perceptual hashes (other kinds would only collect "not a picture" errors).
PICTURE_KINDS = frozenset({"jpeg", "png", "gif", "tiff", "heic", "avif", "webp", "bmp"})
#: A checkpoint is written after this many rows, or after CHECKPOINT_SECONDS, whichever comes first.
CHECKPOINT_ROWS = 500
CHECKPOINT_SECONDS = 60.0
#: What the perceptual pass records per distinct picture.
PICTURE_COLUMNS: tuple[str, ...] = ("sha256", *PERCEPTUAL_COLUMNS)
_TEXT = ("mtime", "kind", "extension", *HASH_ALGORITHMS, "metadata_error", "phash", "pdq", "flag", "hash_error")


def inventory_columns(perceptual: bool = False) -> tuple[str, ...]:
    """An inventory's columns in order: SCAN_COLUMNS, then PERCEPTUAL_COLUMNS when perceptual hashes were asked for."""
    return SCAN_COLUMNS + PERCEPTUAL_COLUMNS if perceptual else SCAN_COLUMNS


def picture_row(root: Path, picture: tuple[str, str]) -> dict:
    """pHash and PDQ of one distinct picture, given as (its SHA-256, a path holding it); never raises: a picture
    that cannot be hashed gets `hash_error`."""
    sha256, rel = picture
    hashed = similarity.hash_file(root / rel, PERCEPTUAL_KINDS)
    return {"sha256": sha256, **{c: hashed[c] for c in PERCEPTUAL_COLUMNS if c != "hash_error"},
            "hash_error": hashed["error"]}


def _failed_picture_row(picture: tuple[str, str], exc: BaseException) -> dict:
    """The row of a picture whose worker process died decoding it."""
    return dict.fromkeys(PICTURE_COLUMNS) | {
        "sha256": picture[0], "hash_error": f"the worker hashing it failed ({evidence.short_error(exc)})"}


def file_row(root: Path, entry: tuple[str, str | None]) -> dict:
    """Everything an inventory records about one file (an entry of evidence.folder_entries) but its perceptual
    hashes; never raises. Problems become `error` (the file) or `metadata_error` (its metadata).
    """
    rel, skipped = entry
    row = dict.fromkeys(SCAN_COLUMNS)
    row.update(evidence.manifest_row(root, entry, HASH_ALGORITHMS))  # path, size, mtime, hashes or error
    row["extension"] = evidence.printable_path(evidence.file_extension(rel))  # Parquet text must be valid UTF-8
    if skipped or row["error"]:
        return row
    path = root / rel
    try:
        kind = evidence.identify(path)
        row.update(kind=kind, extension_ok=evidence.extension_matches(rel, kind),
                   complete=formats.is_complete(path, kind))
        meta = metadata.metadata_row(path)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a scan
        row["error"] = evidence.short_error(exc)
        return row
    row.update({k: v for k, v in meta.items() if k not in ("path", "error")}, metadata_error=meta["error"])
    return row


def _failed_row(entry: tuple[str, str | None], exc: BaseException) -> dict:
    """The row of a file whose worker process died reading it (the file itself may be what killed it)."""
    row = dict.fromkeys(SCAN_COLUMNS)
    rel = entry[0]
    row.update(path=evidence.printable_path(rel), extension=evidence.printable_path(evidence.file_extension(rel)),
               error=f"the worker reading it failed ({evidence.short_error(exc)})")
    return row


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """The same dtypes for every inventory, however written (pandas parts, DuckDB copies), so tables stack alike."""
    df = metadata.typed_metadata_frame(df)
    for column in ("size", "pdq_quality", "decode_side"):
        if column in df:
            df[column] = df[column].astype("Int64")
    for column in ("extension_ok", "complete"):
        if column in df:
            df[column] = df[column].astype("boolean")
    for column in (*_TEXT, "pdq_dihedral"):
        if column in df:
            df[column] = df[column].astype(object).where(df[column].notna(), None)
    return df


def _frame(rows: list[dict], columns: Sequence[str]) -> pd.DataFrame:
    """Rows as a DataFrame with the same dtypes in every part, so the parts join into one table."""
    return _typed(pd.DataFrame(rows, columns=list(columns)))


class _Checkpoint:
    """Part files beside the inventory (<out>.parts/part-00001.parquet …, and pictures-00001.parquet … for the
    perceptual pass) and what they already hold."""

    def __init__(self, out: Path, root: Path, resume: bool, columns: Sequence[str]) -> None:
        self.folder = out.with_name(out.name + ".parts")
        self.columns = tuple(columns)
        self.about = {"root": str(root.resolve()), "algorithms": list(HASH_ALGORITHMS), "columns": list(columns)}
        state = self.folder / "scan.json"
        if self.folder.exists() and resume and state.is_file():
            found = json.loads(state.read_text(encoding="utf-8"))
            if found != self.about:
                other = (f"of another folder ({found.get('root')})" if found.get("root") != self.about["root"]
                         else "made with other options or another version of vidlab (other columns, e.g. with or "
                              "without perceptual hashes)")
                raise ValueError(f"{self.folder} holds a checkpoint {other}: "
                                 "scan again without resuming (--no-resume), or choose another output file")
        elif self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps(self.about), encoding="utf-8")

    def parts(self, kind: str = "part") -> list[Path]:
        return sorted(self.folder.glob(f"{kind}-*.parquet"))

    def done(self, kind: str = "part", key: str = "path") -> set[str]:
        """Keys (paths of files, or SHA-256 of pictures) already written to a part."""
        return {k for part in self.parts(kind) for k in pq.read_table(part, columns=[key])[key].to_pylist()}

    def save(self, rows: list[dict], kind: str = "part") -> None:
        """Write rows as the next part; a part is renamed into place only when whole."""
        parts = self.parts(kind)
        number = int(parts[-1].stem.split("-")[1]) + 1 if parts else 1
        part = self.folder / f"{kind}-{number:05d}.parquet"
        tmp = part.with_suffix(".tmp")
        metadata.to_parquet(_frame(rows, self.columns if kind == "part" else PICTURE_COLUMNS), tmp)
        os.replace(tmp, part)

    def pictures_to_hash(self, real_paths: dict[str, str]) -> list[tuple[str, str]]:
        """(SHA-256, path) of each distinct picture the file parts hold and no pictures part has hashed yet: the
        first path in path order that holds it, as it is on disk (`real_paths` maps the printable path back)."""
        hashed = self.done("pictures", "sha256")
        first: dict[str, str] = {}
        for part in self.parts():
            table = pq.read_table(part, columns=["path", "kind", "sha256", "error"])
            for path, kind, sha256, error in zip(*(table[c].to_pylist() for c in table.column_names)):
                if kind in PICTURE_KINDS and sha256 and error is None and sha256 not in hashed:
                    first.setdefault(sha256, path)
        return sorted(((sha256, real_paths[path]) for sha256, path in first.items() if path in real_paths),
                      key=lambda picture: picture[1])

    def join(self, out: Path, keep: set[str] | None) -> None:
        """All parts as one Parquet file at `out` (atomically), each picture given its perceptual hashes by
        SHA-256 when there was a perceptual pass; only the paths in `keep`, when given."""
        parts = self.parts()
        # A column empty throughout a part is typed null there; such columns are text (numbers, flags and
        # times have fixed types) but for PDQ's list of variants, so a column empty in every part gets that type.
        schema = pa.unify_schemas([pq.read_schema(p) for p in parts])
        empty_type = {"pdq_dihedral": pa.list_(pa.string())}
        schema = pa.schema([f.with_type(empty_type.get(f.name, pa.string())) if pa.types.is_null(f.type) else f
                            for f in schema], metadata=schema.metadata)
        pictures = self._pictures(schema) if PERCEPTUAL_COLUMNS[0] in schema.names else None
        tmp = out.with_name(out.name + ".tmp")
        wanted = None if keep is None else pa.array(sorted(keep), type=pa.string())
        with pq.ParquetWriter(tmp, schema) as writer:
            for part in parts:  # one part in memory at a time
                table = pq.read_table(part).cast(schema)
                if wanted is not None:
                    table = table.filter(pc.is_in(table["path"], value_set=wanted))
                if pictures is not None:
                    table = _with_perceptual(table, pictures)
                writer.write_table(table)
        os.replace(tmp, out)
        shutil.rmtree(self.folder)

    def _pictures(self, schema: pa.Schema) -> pa.Table:
        """Every pictures part as one table, typed as the inventory's perceptual columns."""
        types = pa.schema([schema.field("sha256"), *(schema.field(c) for c in PERCEPTUAL_COLUMNS)])
        tables = [pq.read_table(part).cast(types) for part in self.parts("pictures")]
        return pa.concat_tables(tables) if tables else types.empty_table()


def _with_perceptual(table: pa.Table, pictures: pa.Table) -> pa.Table:
    """An inventory part with the perceptual hashes of its pictures filled in from the pictures table."""
    picture = pc.and_(pc.is_in(table["kind"], value_set=pa.array(sorted(PICTURE_KINDS))), pc.is_null(table["error"]))
    found = pc.if_else(picture, pc.index_in(table["sha256"], value_set=pictures["sha256"]),
                       pa.scalar(None, pa.int32()))
    for column in PERCEPTUAL_COLUMNS:
        table = table.set_column(table.schema.get_field_index(column), table.schema.field(column),
                                 pictures[column].take(found))
    return table


def _rows(task: Callable[[T], dict], items: Sequence[T], bar: tqdm, failed: Callable[[T, BaseException], dict],
          ahead: Callable[[T], None], workers: int | None, client: Client | None) -> Iterator[dict]:
    """task(item) for every item, in order, on the process pool, or on Dask when there is a client."""
    if not items:  # nothing left to do: no workers to start
        return iter(())
    if client is None:
        return evidence.rows_in_order(task, items, workers or 1, bar, ahead)
    from vidlab import bulk  # Dask is imported only when asked for

    return bulk.dask_rows(task, items, client, bar, failed, ahead)


def _picture_ahead(root: Path, picture: tuple[str, str]) -> None:
    """evidence.read_ahead for a (SHA-256, path) of the perceptual pass."""
    evidence.read_ahead(root, (picture[1], None))


def _save_as_they_come(rows: Iterator[dict], checkpoint: _Checkpoint, kind: str) -> None:
    """Write rows to checkpoint parts every CHECKPOINT_ROWS rows or CHECKPOINT_SECONDS, and what came on Ctrl-C."""
    batch: list[dict] = []
    last_save = time.monotonic()
    try:
        for row in rows:
            batch.append(row)
            if len(batch) >= CHECKPOINT_ROWS or time.monotonic() - last_save > CHECKPOINT_SECONDS:
                checkpoint.save(batch, kind)
                batch, last_save = [], time.monotonic()
    finally:  # interrupted or not, the workers are stopped and what was done is kept for the next run
        close = getattr(rows, "close", None)
        if close is not None:
            close()
        if batch or (kind == "part" and not checkpoint.parts()):
            checkpoint.save(batch, kind)


def scan(folder: PathLike, out: PathLike, workers: int | None = None, resume: bool = True,
         progress: bool | None = None, perceptual: bool = False, dask: bool | str | Client | None = None) -> Path:
    """Inventory every file under `folder` into the Parquet file `out`; resumes an interrupted scan unless told not to.

    One row per file (symbolic links and special files included, with why they were not read):
    path, size, mtime (UTC, ns), kind, extension, extension_ok, complete, MD5/SHA-1/SHA-256,
    error, then the EXIF/header metadata of vidlab.metadata and its metadata_error; with `perceptual`,
    pHash and PDQ of every picture (PERCEPTUAL_COLUMNS), decoded once per distinct picture. Read it with
    ``read_inventory`` or query it with vidlab.bulk. Work runs on `workers` local processes (default 1), or
    on Dask when `dask` is True (a LocalCluster of `workers` processes, default 2), a scheduler address, or a
    Client.
    """
    root = evidence.evidence_folder(folder)
    out = evidence.outside_evidence(root, Path(out))
    if out.is_dir():
        raise IsADirectoryError(f"the inventory is a file: {out} is a folder (try {out / 'inventory.parquet'})")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    out.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = _Checkpoint(out, root, resume, inventory_columns(perceptual))
    entries = evidence.folder_entries(root)
    done = checkpoint.done()
    todo = [e for e in entries if evidence.printable_path(e[0]) not in done] if done else entries
    with contextlib.ExitStack() as stack:
        client = None
        if dask is not None and dask is not False and (todo or perceptual):
            from vidlab import bulk

            client = stack.enter_context(bulk.dask_client(dask, workers or bulk.LOCAL_WORKERS))
        with evidence.progress_bar(progress, len(entries), "scan") as bar:
            bar.update(len(entries) - len(todo))
            files = _rows(partial(file_row, root), todo, bar, _failed_row, partial(evidence.read_ahead, root),
                          workers, client)
            _save_as_they_come(files, checkpoint, "part")
        if perceptual:
            real_paths = {evidence.printable_path(rel): rel for rel, skipped in entries if skipped is None}
            pictures = checkpoint.pictures_to_hash(real_paths)
            with evidence.progress_bar(progress, len(pictures), "perceptual hashes") as bar:
                hashed = _rows(partial(picture_row, root), pictures, bar, _failed_picture_row,
                               partial(_picture_ahead, root), workers, client)
                _save_as_they_come(hashed, checkpoint, "pictures")
    # Rows from an earlier run may name files deleted since; a fresh scan's parts hold only current files.
    checkpoint.join(out, {evidence.printable_path(rel) for rel, _ in entries} if done else None)
    return out


def read_inventory(path: PathLike) -> pd.DataFrame:
    """An inventory written by scan (or vidlab.bulk), capture times timezone-aware again where their offset is known."""
    return _typed(metadata.read_parquet(path))
