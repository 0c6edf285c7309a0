"""vidlab.bulk: the same inventory on Dask as on the process pool, resumable; DuckDB summaries; known-file filtering."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from vidlab import bulk, scan, similarity


@pytest.fixture(scope="module")
def client():
    """One local Dask cluster (2 single-threaded workers) for the whole module: starting one costs seconds."""
    with bulk.dask_client(True, workers=2) as client:
        yield client


@pytest.fixture(scope="module")
def inventory(tiny_data: Path, tmp_path_factory) -> Path:
    """The tiny case inventoried by the process pool, with perceptual hashes."""
    out = tmp_path_factory.mktemp("bulk") / "inventory.parquet"
    return scan.scan(tiny_data / "case", out, workers=2, perceptual=True, progress=False)


@pytest.fixture(scope="module")
def answer_key(tiny_data: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(tiny_data / "answer_key" / f"{name}.csv") for name in ("files", "os_files")}


def test_pool_inventory_holds_the_true_hashes(inventory: Path, answer_key: dict[str, pd.DataFrame]) -> None:
    df = scan.read_inventory(inventory)
    assert df["path"].is_unique and df["error"].isna().all()
    rows = df.set_index("path")
    for name in ("files", "os_files"):
        key = answer_key[name].set_index("path")
        assert (rows.loc[key.index, "sha256"] == key["sha256"]).all(), name
        assert (rows.loc[key.index, "size"] == key["size"]).all(), name
    pictures = answer_key["files"].query("true_kind in ['jpeg', 'png']")["path"]
    assert rows.loc[pictures, "pdq"].notna().all() and rows.loc[pictures, "phash"].notna().all()
    # the inventory goes straight into near-duplicate search, and what it pairs belongs to one series
    pairs = similarity.near_duplicates(df)
    series = answer_key["files"].set_index("path")["series_id"]
    assert len(pairs) >= 5 and (pairs["path_a"].map(series) == pairs["path_b"].map(series)).all()


def test_dask_gives_the_same_inventory_as_the_pool(inventory: Path, tiny_data: Path, client, tmp_path: Path,
                                                  capsys) -> None:
    # by scheduler address, as a user pointing the scan at a cluster would
    out = scan.scan(tiny_data / "case", tmp_path / "dask.parquet", perceptual=True, dask=client.scheduler.address,
                    progress=True)
    assert "scan" in capsys.readouterr().err  # the progress bar
    assert pq.read_table(out).equals(pq.read_table(inventory))


def _scheduler_idle(client, seconds: float = 10.0) -> bool:
    """Whether the scheduler holds no tasks of ours (cancelled work is released asynchronously)."""
    deadline = time.monotonic() + seconds
    while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_dask_scan_resumes_after_ctrl_c(inventory: Path, tiny_data: Path, client, tmp_path: Path,
                                        monkeypatch) -> None:
    real = bulk.dask_rows
    yielded: list[str] = []

    def interrupted_after(k: int | None):
        def rows(*args, **kwargs):
            for row in real(*args, **kwargs):
                if len(yielded) == k:
                    raise KeyboardInterrupt
                if "path" in row:  # a file's row (the perceptual pass's rows are keyed by SHA-256)
                    yielded.append(row["path"])
                yield row
        return rows

    monkeypatch.setattr(scan, "CHECKPOINT_ROWS", 4)
    monkeypatch.setattr(bulk, "dask_rows", interrupted_after(10))
    out = tmp_path / "inv.parquet"
    with pytest.raises(KeyboardInterrupt):
        scan.scan(tiny_data / "case", out, perceptual=True, dask=client)
    assert not out.exists()  # nothing that looks like a finished inventory
    parts = sorted((tmp_path / "inv.parquet.parts").glob("part-*.parquet"))
    assert [pq.read_metadata(p).num_rows for p in parts] == [4, 4, 2]
    assert _scheduler_idle(client)  # the chunks still queued were cancelled

    total = pq.read_metadata(inventory).num_rows
    yielded.clear()
    monkeypatch.setattr(bulk, "dask_rows", interrupted_after(None))
    scan.scan(tiny_data / "case", out, perceptual=True, dask=client)
    assert len(yielded) == total - 10  # the 10 files in the checkpoint were not read again
    assert pq.read_table(out).equals(pq.read_table(inventory))


def test_a_failing_task_costs_only_its_own_row(client) -> None:
    def task(n: int) -> dict:
        if n == 7:
            raise RuntimeError("cannot read this one")
        return {"n": n, "error": None}

    class Bar:
        n = 0

        def update(self, k: int) -> None:
            self.n += k

    bar = Bar()
    rows = list(bulk.dask_rows(task, list(range(40)), client, bar,
                               lambda n, exc: {"n": n, "error": f"{type(exc).__name__}: {exc}"}))
    assert bar.n == 40
    assert [row["n"] for row in rows] == list(range(40))
    assert [row["n"] for row in rows if row["error"]] == [7]
    assert rows[7]["error"] == "RuntimeError: cannot read this one"


def _pandas_bytes(sizes: pd.Series) -> int:
    return int(sizes.fillna(0).sum())


def test_duckdb_summaries_equal_pandas(inventory: Path) -> None:
    df = scan.read_inventory(inventory)

    by_kind = bulk.files_by_kind(inventory).set_index("kind")
    expected = df.assign(kind=df["kind"].fillna("(not read)")).groupby("kind")["size"]
    assert by_kind["files"].to_dict() == expected.size().to_dict()
    assert by_kind["bytes"].to_dict() == expected.apply(_pandas_bytes).to_dict()
    assert list(by_kind["files"]) == sorted(by_kind["files"], reverse=True)

    by_device = bulk.files_by_device(inventory)
    cameras = df[df["make"].notna() | df["model"].notna()]
    groups = cameras.groupby(["make", "model"], dropna=False)
    assert len(by_device) == groups.ngroups >= 3
    for (make, model), group in groups:
        row = by_device[(by_device["make"] == make) & (by_device["model"] == model)].iloc[0]
        assert row["files"] == len(group) and row["bytes"] == _pandas_bytes(group["size"])
        assert row["serials"] == group["body_serial"].nunique()

    dups = bulk.duplicates(inventory)
    copies = df[df["size"] > 0].groupby("sha256")["path"].apply(sorted)
    copies = copies[copies.map(len) > 1]
    assert len(dups) == len(copies) > 0
    assert {row.sha256: list(row.paths) for row in dups.itertuples()} == copies.to_dict()

    bands = bulk.sizes(inventory)
    assert bands["files"].sum() == len(df) and bands["bytes"].sum() == _pandas_bytes(df["size"])
    limits = dict((label, limit) for limit, label in bulk.SIZE_BANDS)
    lower = 0
    for limit, label in bulk.SIZE_BANDS:
        band = df[(df["size"] >= lower) & (df["size"] < limit)]
        lower = limit
        got = bands[bands["band"] == label]
        assert (got["files"].sum(), got["bytes"].sum()) == (len(band), _pandas_bytes(band["size"])), label
    assert list(bands["band"]) == sorted(bands["band"], key=lambda label: limits.get(label, 2**64))

    jpegs = bulk.query(inventory, "SELECT path FROM inventory WHERE kind = ? AND width >= ? ORDER BY path",
                       ["jpeg", 400])
    assert list(jpegs["path"]) == sorted(df.loc[(df["kind"] == "jpeg") & (df["width"] >= 400), "path"])


_PLATFORMS = {"windows": "WIN", "android": "ANDROID", "ios": "IOS"}


def test_known_files_set_aside_equal_the_answer_key(inventory: Path, tiny_data: Path,
                                                   answer_key: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    known_list = tiny_data / "case" / "reference" / "known_files_nsrl.csv"
    truth = answer_key["os_files"].query("known")
    truth = truth.assign(platform=truth["seized_device"].str.rsplit("-", n=1).str[1].map(_PLATFORMS))
    expected = (truth.groupby(["role", "platform"]).agg(files=("path", "size"), bytes=("size", "sum"))
                .reset_index())

    summary = bulk.set_aside(inventory, known_list)
    pd.testing.assert_frame_equal(summary, expected, check_dtype=False)

    assert bulk.mark_known(inventory, known_list, tmp_path / "marked.parquet").equals(summary)
    marked = scan.read_inventory(tmp_path / "marked.parquet")
    whole = scan.read_inventory(inventory)
    assert list(marked["path"]) == list(whole["path"])  # every file kept, in the inventory's order
    assert set(marked.loc[marked["known"], "path"]) == set(truth["path"])
    assert not marked["path"][marked["known"]].isin(answer_key["files"]["path"]).any()  # no series file set aside
    assert set(marked.loc[marked["known"], "known_role"]) == {"os", "app"}

    # dropping: in place, and marking the result again with the same list finds nothing more
    kept = tmp_path / "kept.parquet"
    kept.write_bytes(inventory.read_bytes())
    assert bulk.mark_known(kept, known_list, kept, drop=True).equals(summary)
    left = scan.read_inventory(kept)
    assert len(left) == len(whole) - len(truth) and not left["path"].isin(truth["path"]).any()
    assert list(left.columns) == list(whole.columns)
    assert bulk.mark_known(tmp_path / "marked.parquet", known_list, tmp_path / "again.parquet").equals(summary)
    assert bulk.set_aside(kept, known_list).empty

    # the roles follow the operating-system products named, when given
    app_only = bulk.set_aside(inventory, known_list, os_products=[])
    assert set(app_only["role"]) == {"app"} and app_only["files"].sum() == len(truth)


def test_bad_input_gives_clear_errors(tmp_path: Path, inventory: Path, monkeypatch) -> None:
    with pytest.raises(FileNotFoundError, match="no inventory file"):
        bulk.files_by_kind(tmp_path / "missing.parquet")
    (tmp_path / "notes.parquet").write_text("not parquet")
    with pytest.raises(ValueError, match="is not a Parquet inventory"):
        bulk.files_by_kind(tmp_path / "notes.parquet")
    (tmp_path / "list.csv").write_text("FileName,FileSize\nbase.apk,12\n")
    with pytest.raises(ValueError, match="no hash column .* FileName, FileSize"):
        bulk.set_aside(inventory, tmp_path / "list.csv")
    with pytest.raises(FileNotFoundError, match="no known-file list"):
        bulk.set_aside(inventory, tmp_path / "missing.csv")
    monkeypatch.setattr(bulk, "CONNECT_SECONDS", 1)
    with pytest.raises(ValueError, match="no Dask scheduler answered at tcp://127.0.0.1:9"):
        scan.scan(tmp_path, tmp_path.parent / "never.parquet", dask="tcp://127.0.0.1:9")
    with pytest.raises(ValueError, match="dask must be True"):
        scan.scan(tmp_path, tmp_path.parent / "never.parquet", dask=3)
