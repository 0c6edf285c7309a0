"""`vidlab scan`: a folder of evidence into one Parquet inventory — kind, hashes, metadata, one row per file.

Built for folders too big to finish in one sitting: rows are written to checkpoint part files
as they come (memory stays flat however many files there are), an interrupted scan resumes
where it stopped, and the inventory appears only when it is whole (written beside, then
renamed). Evidence is opened read-only, symbolic links are recorded but never followed, and a
file that cannot be read still gets its row, with the reason in ``error``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from vidlab import evidence, formats, metadata
from vidlab.evidence import HASH_ALGORITHMS, PathLike

__all__ = ["scan", "SCAN_COLUMNS", "read_inventory"]

#: What scan adds per file; then the metadata columns (see vidlab.metadata), then metadata's own error.
FILE_COLUMNS: tuple[str, ...] = (
    "path", "size", "mtime", "kind", "extension", "extension_ok", "complete", *HASH_ALGORITHMS, "error",
)
SCAN_COLUMNS: tuple[str, ...] = (
    *FILE_COLUMNS, *(c for c in metadata.METADATA_COLUMNS if c not in ("path", "error")), "metadata_error",
)
#: A checkpoint is written after this many rows, or after CHECKPOINT_SECONDS, whichever comes first.
CHECKPOINT_ROWS = 500
CHECKPOINT_SECONDS = 60.0


def _scan_row(root: Path, entry: tuple[str, str | None]) -> dict:
    """Everything scan records about one file; problems become `error` / `metadata_error`, never exceptions."""
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


def _frame(rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with the same dtypes in every part, so the parts join into one table."""
    df = metadata.typed_metadata_frame(pd.DataFrame(rows, columns=list(SCAN_COLUMNS)))
    df["size"] = df["size"].astype("Int64")
    for column in ("extension_ok", "complete"):
        df[column] = df[column].astype("boolean")
    for column in ("mtime", "kind", "extension", *HASH_ALGORITHMS, "metadata_error"):
        df[column] = df[column].astype(object).where(df[column].notna(), None)
    return df


class _Checkpoint:
    """Part files beside the inventory (<out>.parts/part-00001.parquet …) and what they already hold."""

    def __init__(self, out: Path, root: Path, resume: bool) -> None:
        self.folder = out.with_name(out.name + ".parts")
        self.about = {"root": str(root.resolve()), "algorithms": list(HASH_ALGORITHMS), "columns": list(SCAN_COLUMNS)}
        state = self.folder / "scan.json"
        if self.folder.exists() and resume and state.is_file():
            found = json.loads(state.read_text(encoding="utf-8"))
            if found != self.about:
                other = (f"of another folder ({found.get('root')})" if found.get("root") != self.about["root"]
                         else "made by another version of vidlab (other columns)")
                raise ValueError(f"{self.folder} holds a checkpoint {other}: "
                                 "scan again without resuming (--no-resume), or choose another output file")
        elif self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps(self.about), encoding="utf-8")

    def parts(self) -> list[Path]:
        return sorted(self.folder.glob("part-*.parquet"))

    def done(self) -> set[str]:
        """Paths already written to a part."""
        return {p for part in self.parts() for p in pq.read_table(part, columns=["path"])["path"].to_pylist()}

    def save(self, rows: list[dict]) -> None:
        """Write rows as the next part; a part is renamed into place only when whole."""
        parts = self.parts()
        number = int(parts[-1].stem.split("-")[1]) + 1 if parts else 1
        part = self.folder / f"part-{number:05d}.parquet"
        tmp = part.with_suffix(".tmp")
        metadata.to_parquet(_frame(rows), tmp)
        os.replace(tmp, part)

    def join(self, out: Path, keep: set[str] | None) -> None:
        """All parts as one Parquet file at `out` (atomically); only the paths in `keep`, when given."""
        parts = self.parts()
        # A column empty throughout a part is typed null there; such columns are text (numbers, flags and
        # times have fixed types), so a column empty in every part is stored as text too.
        schema = pa.unify_schemas([pq.read_schema(p) for p in parts])
        schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in schema],
                           metadata=schema.metadata)
        tmp = out.with_name(out.name + ".tmp")
        wanted = None if keep is None else pa.array(sorted(keep), type=pa.string())
        with pq.ParquetWriter(tmp, schema) as writer:
            for part in parts:  # one part in memory at a time
                table = pq.read_table(part).cast(schema)
                if wanted is not None:
                    table = table.filter(pc.is_in(table["path"], value_set=wanted))
                writer.write_table(table)
        os.replace(tmp, out)
        shutil.rmtree(self.folder)


def scan(folder: PathLike, out: PathLike, workers: int = 1, resume: bool = True,
         progress: bool | None = None) -> Path:
    """Inventory every file under `folder` into the Parquet file `out`; resumes an interrupted scan unless told not to.

    One row per file (symbolic links and special files included, with why they were not read):
    path, size, mtime (UTC, ns), kind, extension, extension_ok, complete, MD5/SHA-1/SHA-256,
    error, then the EXIF/header metadata of vidlab.metadata and its metadata_error.
    Read it with ``read_inventory`` (restores timezone-aware capture times) or pandas.
    """
    root = evidence.evidence_folder(folder)
    out = evidence.outside_evidence(root, Path(out))
    if out.is_dir():
        raise IsADirectoryError(f"the inventory is a file: {out} is a folder (try {out / 'inventory.parquet'})")
    out.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = _Checkpoint(out, root, resume)
    entries = evidence.folder_entries(root)
    done = checkpoint.done()
    todo = [e for e in entries if evidence.printable_path(e[0]) not in done] if done else entries
    rows: list[dict] = []
    last_save = time.monotonic()
    with evidence.progress_bar(progress, len(entries), "scan") as bar:
        bar.update(len(entries) - len(todo))
        try:
            for row in evidence.rows_in_order(partial(_scan_row, root), todo, workers, bar):
                rows.append(row)
                if len(rows) >= CHECKPOINT_ROWS or time.monotonic() - last_save > CHECKPOINT_SECONDS:
                    checkpoint.save(rows)
                    rows, last_save = [], time.monotonic()
        finally:  # interrupted or not, what was scanned is kept for the next run
            if rows or not checkpoint.parts():
                checkpoint.save(rows)
    # Rows from an earlier run may name files deleted since; a fresh scan's parts hold only current files.
    checkpoint.join(out, {evidence.printable_path(rel) for rel, _ in entries} if done else None)
    return out


def read_inventory(path: PathLike) -> pd.DataFrame:
    """An inventory written by scan, with capture times timezone-aware again where their offset is known."""
    return metadata.read_parquet(path)
