"""Crash safety: `vidlab scan`, `vidlab data generate` and `vidlab casedb import` killed with SIGKILL at seeded
points of their work never leave an output that looks complete but is not, and running the same command again
finishes with the same result as a run that was never interrupted.

Each command runs in its own process group, prints `ready` once its imports are done, and is killed (with any
worker processes) at a seeded fraction of the working time an uninterrupted reference run took in this test.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from vidlab import casedb, cli
from vidlab.scan import read_inventory

SEED = 20261125
KILLS = 3
_READY = "import sys; from vidlab import cli; {setup}; print('ready', flush=True); raise SystemExit(cli.main(sys.argv[1:]))"


def _start(argv: list[str], setup: str = "pass") -> tuple[subprocess.Popen, float]:
    """The command started in a new process group; returns once it is ready, with the time it became ready."""
    proc = subprocess.Popen([sys.executable, "-c", _READY.format(setup=setup), *map(str, argv)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    return proc, time.monotonic()


def _reference(argv: list[str], setup: str = "pass") -> float:
    """Run the command to the end; its working time (after imports) in seconds."""
    proc, ready = _start(argv, setup)
    _out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return time.monotonic() - ready


def _killed(argv: list[str], after: float, setup: str = "pass") -> bool:
    """Start the command and SIGKILL its whole process group `after` seconds into its work; False if it finished first."""
    proc, _ready = _start(argv, setup)
    try:
        proc.wait(timeout=after)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return True
    proc.communicate()
    return False


def _kill_points(work: float, salt: int) -> list[float]:
    rng = random.Random(SEED + salt)
    return sorted(rng.uniform(0.05, 0.95) * work for _ in range(KILLS))


def _again(argv: list[str]) -> None:
    """Run the command again, to the end (in this process: a fresh start costs seconds)."""
    assert cli.main([str(a) for a in argv]) == 0


# --------------------------------------------------------------------------- scan


def _inventory(path: Path) -> pd.DataFrame:
    return read_inventory(path).sort_values("path").reset_index(drop=True)


def test_a_killed_scan_resumes_to_the_same_inventory(tiny_data: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # small checkpoints, so kills land between parts and the resume path is taken
    setup = "import vidlab.scan; vidlab.scan.CHECKPOINT_ROWS = 10"
    folder = tiny_data / "case"
    reference = tmp_path / "reference.parquet"
    work = _reference(["scan", folder, "--out", reference], setup)
    expected = _inventory(reference)
    interrupted = 0
    for n, after in enumerate(_kill_points(work, 1)):
        out = tmp_path / f"run{n}" / "inventory.parquet"
        if _killed(["scan", folder, "--out", out], after, setup):
            interrupted += 1
            # an inventory appears only whole: absent, or exactly what an uninterrupted scan writes
            if out.exists():
                pd.testing.assert_frame_equal(_inventory(out), expected)
        monkeypatch.setattr("vidlab.scan.CHECKPOINT_ROWS", 10)
        _again(["scan", folder, "--out", out])
        pd.testing.assert_frame_equal(_inventory(out), expected)
        assert sorted(p.name for p in out.parent.iterdir()) == ["inventory.parquet"]  # checkpoint cleaned up
    assert interrupted >= 2, "the kills came too late to interrupt the scan: the reference run was too quick"


# --------------------------------------------------------------------------- data generate


def _generation(root: Path) -> dict[str, str]:
    """Every file of a generated profile (relative path → SHA-256)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_killed_generation_leaves_nothing_that_looks_finished(tmp_path: Path) -> None:
    args = ["data", "generate", "--profile", "tiny", "--series", "3", "--workers", "1", "--out"]
    setup = "import synthetic_data"
    work = _reference([*args, tmp_path / "reference"], setup)
    expected = _generation(tmp_path / "reference" / "tiny")
    interrupted = 0
    for n, after in enumerate(_kill_points(work, 2)[:2]):  # two: a generation is the slowest of the three
        root = tmp_path / f"run{n}"
        if _killed([*args, root], after, setup):
            interrupted += 1
            target = root / "tiny"
            assert not target.exists() or _generation(target) == expected, "a half generation sits under the final name"
        _again([*args, root])
        assert _generation(root / "tiny") == expected  # same seed, same bytes, interrupted or not
        assert [p.name for p in root.iterdir()] == ["tiny"]  # the killed run's partial folder was cleared
    assert interrupted >= 1, "the kills came too late to interrupt the generation"


# --------------------------------------------------------------------------- casedb import


def _hash_set(path: Path, series: int, files: int) -> Path:
    """A VICS hash set big enough that importing it takes a while."""
    def hexes(text: str) -> tuple[str, str, str]:
        return tuple(hashlib.new(a, text.encode()).hexdigest() for a in ("md5", "sha1", "sha256"))

    known = [casedb.KnownSeries(f"KS-{i:05d}", f"series {i}", "AU", "2024-01-02", tuple(
        casedb.KnownFile(f"IMG_{j:04d}.jpg", *hexes(f"{i}/{j}")[:2], size=1000 + j, sha256=hexes(f"{i}/{j}")[2])
        for j in range(files))) for i in range(series)]
    return casedb.write_vics(path, known)


def _tables(db: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    return casedb.series_table(db), casedb.media_table(db)


def _same_tables(got: tuple[pd.DataFrame, pd.DataFrame], want: tuple[pd.DataFrame, pd.DataFrame]) -> bool:
    return all(a.equals(b) for a, b in zip(got, want))


def test_a_killed_import_is_all_or_nothing(tiny_data: Path, tmp_path: Path) -> None:
    vics = _hash_set(tmp_path / "hash_set.json", series=200, files=50)
    existing = tiny_data / "case" / "case_db" / "known_series.sqlite"
    # a fresh database (built beside, renamed into place) and an existing one (one transaction)
    fresh_ref, merged_ref = tmp_path / "fresh_ref.sqlite", tmp_path / "merged_ref.sqlite"
    shutil.copy(existing, merged_ref)
    before = _tables(merged_ref)
    work = _reference(["casedb", "import", vics, "--db", fresh_ref])
    _reference(["casedb", "import", vics, "--db", merged_ref])
    fresh_want, merged_want = _tables(fresh_ref), _tables(merged_ref)
    interrupted = 0
    for n, after in enumerate(_kill_points(work, 3)[:2]):
        fresh, merged = tmp_path / f"fresh{n}.sqlite", tmp_path / f"merged{n}.sqlite"
        shutil.copy(existing, merged)
        interrupted += _killed(["casedb", "import", vics, "--db", fresh], after)
        _killed(["casedb", "import", vics, "--db", merged], after)
        assert not fresh.exists() or _same_tables(_tables(fresh), fresh_want)
        assert _same_tables(_tables(merged), before) or _same_tables(_tables(merged), merged_want)
        _again(["casedb", "import", vics, "--db", fresh])
        _again(["casedb", "import", vics, "--db", merged])
        assert not list(tmp_path.glob(f".{fresh.name}.*.partial")), "the next import clears what the killed one left"
        assert fresh.read_bytes() == fresh_ref.read_bytes()  # same content, same bytes
        assert _same_tables(_tables(merged), merged_want)
        # what a kill leaves behind is named as unfinished: hidden, ending .partial (or SQLite's own journal)
        leftovers = {p.name for p in tmp_path.iterdir()} - {vics.name, fresh_ref.name, merged_ref.name} - {
            f"{kind}{i}.sqlite" for kind in ("fresh", "merged") for i in range(n + 1)}
        assert all(name.startswith(".") and ".partial" in name for name in leftovers), leftovers
    assert interrupted >= 1, "the kills came too late to interrupt the import"
