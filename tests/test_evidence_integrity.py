"""Evidence is never altered: every bulk command over a copy of the case leaves each byte, size and modification
time as it was, adds and removes nothing inside the evidence folder (folder mtimes would show even a temporary
file), and writes its output only where it was told to; an output aimed inside the evidence is refused."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from vidlab import cli, evidence, metadata, similarity

Snapshot = dict[str, tuple]


def snapshot(folder: Path) -> Snapshot:
    """Every entry under folder (itself included): kind, size, mtime in ns, and SHA-256 of each file's bytes."""
    found: Snapshot = {}
    for here, dirs, files in os.walk(folder):
        for name in [".", *dirs, *files]:
            path = Path(here) / name
            st = path.lstat()
            rel = path.relative_to(folder).as_posix()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path), st.st_mtime_ns)
            elif path.is_dir():
                found[rel] = ("folder", st.st_mtime_ns, st.st_mode)
            else:
                found[rel] = ("file", st.st_size, st.st_mtime_ns, st.st_mode,
                              hashlib.sha256(path.read_bytes()).hexdigest())
    return found


@pytest.fixture()
def case(tiny_data: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny case (the shared one is read by other tests at the same time)."""
    copy = tmp_path / "evidence" / "case"
    shutil.copytree(tiny_data / "case", copy, symlinks=True)
    return copy


def _run(*argv: object) -> int:
    return cli.main([str(a) for a in argv])


def test_every_bulk_command_leaves_the_evidence_untouched(case: Path, tmp_path: Path) -> None:
    before = snapshot(case)
    files = sorted(p for p in case.rglob("*") if p.is_file())
    out = tmp_path / "work"
    assert _run("scan", case, "--out", out / "inventory.parquet", "--workers", "2") == 0
    assert _run("carve", next(case.rglob("*.dd")), "--out", out / "carved") == 0
    assert _run("media", case, "--out", out / "media") == 0
    assert _run("match", out / "inventory.parquet", "--db", case / "case_db" / "known_series.sqlite",
                "--out", out / "match") == 0
    assert len(metadata.metadata_table(files, progress=False)) == len(files)
    assert len(similarity.hash_table(files, workers=2, progress=False)) == len(files)
    assert len(evidence.survey(case, progress=False)) == len(files)
    manifest = evidence.manifest(case, out / "manifest.csv", progress=False)
    assert (evidence.verify(case, out / "manifest.csv", progress=False)["status"] == "ok").all()
    assert len(manifest) == len(files)
    after = snapshot(case)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"evidence changed: {changed[:10]}"
    written = {p.relative_to(out).parts[0] for p in out.rglob("*")}
    assert written == {"inventory.parquet", "carved", "media", "match", "manifest.csv"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence", "work"]  # nothing beside, either


_INSIDE = {
    "scan": lambda case: ["scan", case, "--out", case / "DCIM" / "inventory.parquet"],
    "carve": lambda case: ["carve", next(case.rglob("*.dd")), "--out", next(case.rglob("*.dd")).parent / "carved"],
    "media": lambda case: ["media", case, "--out", case / "media"],
}


@pytest.mark.parametrize("verb", [
    "scan", "carve", "media",
])
def test_an_output_inside_the_evidence_is_refused(case: Path, verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(case)
    code = _run(*_INSIDE[verb](case))
    assert snapshot(case) == before, f"vidlab {verb} wrote inside the evidence folder"
    assert code == 2 and "inside the evidence folder" in capsys.readouterr().err
