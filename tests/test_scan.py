"""vidlab.scan: one Parquet row per file whatever the damage, evidence untouched, resumable after Ctrl-C."""

from __future__ import annotations

import hashlib
import os
import random
import struct
import zlib
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from test_evidence import FILES, _deny, _snapshot, blobs, evidence_dir  # noqa: F401 - fixtures

from vidlab import evidence, formats, scan, similarity


def _bomb_png() -> bytes:
    """A valid little PNG whose header declares 100,000 × 100,000 pixels (a decompression bomb)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def _damaged_folder(root: Path, blobs: dict[str, bytes]) -> set[str]:
    """A seized folder of broken things; the shown paths a scan must list, one row each."""
    rng = random.Random(11)
    jpeg = blobs["jpeg_exif"]
    app1 = next(s for s in formats.jpeg_segments(jpeg) if s.name == "APP1")
    (root / "cut").mkdir(parents=True)
    for n in sorted({1, 2, 3, 4, 10, 20, app1.offset + 8, app1.offset + 30, app1.end - 1, app1.end, app1.end + 3,
                     *rng.sample(range(5, len(jpeg)), 20)}):
        (root / "cut" / f"cut_{n:06d}.jpg").write_bytes(jpeg[:n])
    (root / "flipped").mkdir()
    for i in range(20):  # random bytes changed inside the EXIF segment
        data = bytearray(jpeg)
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(app1.offset + 10, app1.end)] = rng.randrange(256)
        (root / "flipped" / f"flip_{i:02d}.jpg").write_bytes(bytes(data))
    for key in ("png", "heic", "tiff_le", "gif", "webp", "pdf", "zip", "wav", "avi", "sqlite"):
        (root / f"whole_{key}.bin").write_bytes(blobs[key])
    (root / "zero.jpg").write_bytes(b"")
    (root / "bomb.png").write_bytes(_bomb_png())
    (root / "locked.jpg").write_bytes(jpeg)
    with open(os.fsencode(root) + b"/caf\xe9_\xff.jpg", "wb") as f:  # not UTF-8: Latin-1 é and a stray byte
        f.write(jpeg)
    with open(os.fsencode(root) + b"/notes.t\xffxt", "wb") as f:  # not UTF-8 in the extension itself
        f.write(b"plain text\n")
    os.symlink(".", root / "cut" / "loop")  # a folder link back into itself
    os.symlink(root / "a_link", root / "b_link")  # two links pointing at each other
    os.symlink(root / "b_link", root / "a_link")
    os.mkfifo(root / "pipe.jpg")
    expected = set()
    for folder, dirs, files in os.walk(root):  # os.walk lists a linked folder but never enters it
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            rel = os.path.relpath(os.path.join(folder, name), root)
            expected.add(os.fsencode(rel).decode("utf-8", "backslashreplace"))
    return expected


def test_scan_gives_one_row_per_file_whatever_the_damage(tmp_path: Path, blobs: dict[str, bytes], monkeypatch) -> None:
    root = tmp_path / "seized"
    expected = _damaged_folder(root, blobs)
    _deny("locked.jpg", monkeypatch)
    out = scan.scan(root, tmp_path / "inventory.parquet")
    df = scan.read_inventory(out)
    assert list(df.columns) == list(scan.SCAN_COLUMNS)
    assert len(df) == len(expected) and set(df["path"]) == expected and df["path"].is_unique
    rows = df.set_index("path")

    for link in ("cut/loop", "a_link", "b_link"):
        assert rows.loc[link, "error"] == "symbolic link (not followed)" and pd.isna(rows.loc[link, "sha256"])
    assert rows.loc["pipe.jpg", "error"] == "named pipe (not a regular file)"
    assert rows.loc["locked.jpg", "error"] == "PermissionError: Permission denied"
    assert pd.isna(rows.loc["locked.jpg", "kind"]) and pd.isna(rows.loc["locked.jpg", "make"])
    weird = rows.loc["caf\\xe9_\\xff.jpg"]
    assert weird["sha256"] == hashlib.sha256(blobs["jpeg_exif"]).hexdigest() and weird["make"] == "VIDLab Optics"
    assert rows.loc["notes.t\\xffxt", "extension"] == "t\\xffxt" and rows.loc["notes.t\\xffxt", "kind"] == "text"
    assert rows.loc["zero.jpg", "kind"] == "empty" and rows.loc["zero.jpg", "complete"] == False  # noqa: E712
    assert rows.loc["zero.jpg", "md5"] == hashlib.md5(b"").hexdigest()
    assert rows.loc["bomb.png", "kind"] == "png" and pd.notna(rows.loc["bomb.png", "metadata_error"])
    assert rows.loc["whole_sqlite.bin", "kind"] == "sqlite" and rows.loc["whole_avi.bin", "kind"] == "avi"

    cut = rows[rows.index.str.startswith("cut/cut_")]
    assert (cut["complete"] == False).all() and cut["error"].isna().all()  # noqa: E712
    for path, row in cut.iterrows():
        data = (root / path).read_bytes()
        assert row["size"] == len(data) and row["sha1"] == hashlib.sha1(data).hexdigest(), path
    flipped = rows[rows.index.str.startswith("flipped/")]
    assert len(flipped) == 20 and flipped["error"].isna().all() and (flipped["kind"] == "jpeg").all()
    # everything not deliberately unreadable was read, hashed and identified
    readable = rows.drop(index=["cut/loop", "a_link", "b_link", "pipe.jpg", "locked.jpg"])
    assert readable["error"].isna().all() and readable["sha256"].notna().all() and readable["kind"].notna().all()


def test_scan_two_workers_give_the_same_inventory(tmp_path: Path, blobs: dict[str, bytes], capsys) -> None:
    root = tmp_path / "seized"
    _damaged_folder(root, blobs)
    one = scan.read_inventory(scan.scan(root, tmp_path / "one.parquet", progress=False))
    assert "scan" not in capsys.readouterr().err
    two = scan.read_inventory(scan.scan(root, tmp_path / "two.parquet", workers=2, progress=True))
    assert "scan" in capsys.readouterr().err
    pd.testing.assert_frame_equal(one, two)


def test_scan_answers_match_the_generated_answer_key(tiny_data: Path, tmp_path: Path) -> None:
    df = scan.read_inventory(scan.scan(tiny_data / "case" / "seized_sample", tmp_path / "inv.parquet"))
    key = pd.read_csv(tiny_data / "answer_key" / "seized_sample.csv")
    assert sorted(df["path"]) == sorted(key["path"])
    both = df.merge(key, on="path", suffixes=("", "_key"))
    assert (both["kind"] == both["true_kind"]).all()
    assert (both["size"] == both["size_key"]).all() and both["error"].isna().all()
    judged = both[both["extension_ok"].notna()]
    assert len(judged) >= len(both) - 2 and (judged["extension_ok"] == ~judged["extension_lies"]).all()
    broken = both["truncated"] | both["empty"]
    assert broken.sum() >= 2 and (both.loc[broken, "complete"] == False).all()  # noqa: E712
    assert (both.loc[~broken & both["is_image"], "complete"] == True).all()  # noqa: E712


def test_scan_leaves_the_evidence_untouched(evidence_dir: Path, tmp_path: Path) -> None:
    old = 1_500_000_000 * 10**9
    for p in evidence_dir.rglob("*"):
        os.utime(p, ns=(old, old + 10**9), follow_symlinks=False)  # atime before mtime: a plain read would bump it
    listing = sorted(evidence_dir.rglob("*"))
    before = _snapshot(evidence_dir)
    scan.scan(evidence_dir, tmp_path / "inv.parquet", workers=2)
    scan.scan(evidence_dir, tmp_path / "inv.parquet")
    after = _snapshot(evidence_dir)
    assert sorted(evidence_dir.rglob("*")) == listing  # nothing written inside the evidence folder
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    if hasattr(os, "O_NOATIME"):
        assert {k: v[2] for k, v in after.items()} == {k: v[2] for k, v in before.items()}
    with pytest.raises(ValueError, match="inside the evidence folder"):
        scan.scan(evidence_dir, evidence_dir / "DCIM" / "inv.parquet")
    assert sorted(evidence_dir.rglob("*")) == listing


def test_scan_inventory_values(evidence_dir: Path, tmp_path: Path) -> None:
    df = scan.read_inventory(scan.scan(evidence_dir, tmp_path / "inv.parquet"))
    rows = df.set_index("path")
    for rel, (_key, kind, ok) in FILES.items():
        assert rows.loc[rel, "kind"] == kind, rel
        assert (pd.isna(rows.loc[rel, "extension_ok"]) if ok is None else rows.loc[rel, "extension_ok"] == ok), rel
    hashed = evidence.manifest(evidence_dir).set_index("path")
    for column in ("size", "mtime", "md5", "sha1", "sha256"):
        assert (rows[column] == hashed.loc[rows.index, column]).all(), column
    assert rows.loc["DCIM/IMG_0001.jpg", "make"] == "VIDLab Optics"
    assert rows.loc["DCIM/IMG_0001.jpg", "model"] == "Synthetic 1"
    assert rows.loc["DCIM/IMG_0001.jpg", "width"] == 320 and rows.loc["DCIM/IMG_0001.jpg", "jpeg_quality"] == 90
    assert rows.loc["docs/notes.txt", "metadata_error"] and pd.isna(rows.loc["docs/notes.txt", "error"])
    assert str(df["size"].dtype) == "Int64" and str(df["complete"].dtype) == "boolean"


def test_scan_resumes_after_ctrl_c(evidence_dir: Path, tmp_path: Path, monkeypatch) -> None:
    for i in range(30):
        (evidence_dir / "bulk" / f"{i:02d}.txt").parent.mkdir(exist_ok=True)
        (evidence_dir / "bulk" / f"{i:02d}.txt").write_text(f"note {i}\n")
    whole = scan.read_inventory(scan.scan(evidence_dir, tmp_path / "whole.parquet"))
    monkeypatch.setattr(scan, "CHECKPOINT_ROWS", 4)
    real_row = scan.file_row
    calls: list[str] = []

    def interrupted_after(k: int):
        def row(root, entry):
            if len(calls) == k:
                raise KeyboardInterrupt
            calls.append(entry[0])
            return real_row(root, entry)
        return row

    out = tmp_path / "inv.parquet"
    monkeypatch.setattr(scan, "file_row", interrupted_after(10))
    with pytest.raises(KeyboardInterrupt):
        scan.scan(evidence_dir, out)
    assert not out.exists()  # no half inventory
    parts = sorted((tmp_path / "inv.parquet.parts").glob("part-*.parquet"))
    assert sum(pq.read_metadata(p).num_rows for p in parts) == 10 and len(parts) == 3  # 4 + 4 + the 2 before Ctrl-C

    calls.clear()
    monkeypatch.setattr(scan, "file_row", interrupted_after(len(whole)))
    scan.scan(evidence_dir, out)
    assert len(calls) == len(whole) - 10  # the first 10 files were not read again
    assert not (tmp_path / "inv.parquet.parts").exists()
    pd.testing.assert_frame_equal(scan.read_inventory(out), whole)

    # a file already in a checkpoint and deleted before the resume leaves no stale row
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        monkeypatch.setattr(scan, "file_row", interrupted_after(10))
        scan.scan(evidence_dir, out)
    gone = whole["path"].iloc[3]
    (evidence_dir / gone).unlink()
    calls.clear()
    monkeypatch.setattr(scan, "file_row", interrupted_after(len(whole)))
    resumed = scan.read_inventory(scan.scan(evidence_dir, out))
    assert len(calls) == len(whole) - 10  # the deleted file was among the 10 in the checkpoint
    pd.testing.assert_frame_equal(resumed, whole[whole["path"] != gone].reset_index(drop=True))

    # without resuming, an interrupted scan starts again from the first file
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        monkeypatch.setattr(scan, "file_row", interrupted_after(10))
        scan.scan(evidence_dir, out)
    calls.clear()
    monkeypatch.setattr(scan, "file_row", interrupted_after(len(whole)))
    scan.scan(evidence_dir, out, resume=False)
    assert len(calls) == len(whole) - 1


def test_scan_with_perceptual_hashes(evidence_dir: Path, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "inv.parquet"
    monkeypatch.setattr(scan, "file_row", lambda root, entry: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        scan.scan(evidence_dir, out)  # a plain scan interrupted ...
    monkeypatch.undo()
    with pytest.raises(ValueError, match="other options"):
        scan.scan(evidence_dir, out, perceptual=True)  # ... is not resumed as one with perceptual hashes
    df = scan.read_inventory(scan.scan(evidence_dir, out, perceptual=True, resume=False))
    assert list(df.columns) == list(scan.inventory_columns(perceptual=True))
    rows = df.set_index("path")
    pictures = rows[rows["kind"].isin(scan.PICTURE_KINDS)]
    assert len(pictures) == sum(kind in scan.PICTURE_KINDS for _key, kind, _ok in FILES.values())
    for rel, row in pictures.iterrows():
        expected = similarity.hash_file(evidence_dir / rel, scan.PERCEPTUAL_KINDS)
        expected["hash_error"] = expected["error"]
        for column in ("phash", "pdq", "pdq_quality", "decode_side", "flag", "hash_error"):
            missing = pd.isna(row[column])
            assert missing == (expected[column] is None) and (missing or row[column] == expected[column]), (rel, column)
    hashed = pictures[pictures["pdq"].notna()]
    assert len(hashed) >= len(pictures) - 2 and (hashed["decode_side"] == 512).all()
    assert all(list(v)[0] == pdq and len(v) == 8 for v, pdq in zip(hashed["pdq_dihedral"], hashed["pdq"]))
    others = rows.drop(index=pictures.index)
    assert others[list(scan.PERCEPTUAL_COLUMNS)].isna().all().all()
    assert str(df["pdq_quality"].dtype) == "Int64"


def test_perceptual_pass_decodes_each_distinct_picture_once_and_resumes(evidence_dir: Path, tmp_path: Path,
                                                                         monkeypatch) -> None:
    for n in range(3):  # the same photo on a card, a computer and a phone backup
        (evidence_dir / f"backup_{n}").mkdir()
        (evidence_dir / f"backup_{n}" / "IMG_0001.jpg").write_bytes((evidence_dir / "DCIM" / "IMG_0001.jpg").read_bytes())
    whole = scan.read_inventory(scan.scan(evidence_dir, tmp_path / "whole.parquet", perceptual=True))
    pictures = whole[whole["kind"].isin(scan.PICTURE_KINDS) & whole["error"].isna()]
    copies = whole[whole["path"].str.endswith("IMG_0001.jpg")]
    assert len(copies) == 4 and copies["pdq"].nunique() == 1 and copies["phash"].notna().all()

    real_hash_file = similarity.hash_file
    decoded: list[str] = []

    def counted(path, kinds):
        if len(decoded) == 2:
            raise KeyboardInterrupt
        decoded.append(os.fspath(path))
        return real_hash_file(path, kinds)

    monkeypatch.setattr(scan, "CHECKPOINT_ROWS", 1)
    monkeypatch.setattr(similarity, "hash_file", counted)
    out = tmp_path / "inv.parquet"
    with pytest.raises(KeyboardInterrupt):
        scan.scan(evidence_dir, out, perceptual=True)
    assert not out.exists() and len(decoded) == 2  # interrupted in the perceptual pass, two pictures kept
    monkeypatch.setattr(similarity, "hash_file", lambda path, kinds: (decoded.append(os.fspath(path)),
                                                                      real_hash_file(path, kinds))[1])
    resumed = scan.read_inventory(scan.scan(evidence_dir, out, perceptual=True))
    assert len(decoded) == len(set(decoded)) == pictures["sha256"].nunique()  # each distinct picture decoded once
    pd.testing.assert_frame_equal(resumed, whole)


def test_scan_refuses_another_scans_checkpoint(evidence_dir: Path, tmp_path: Path, monkeypatch) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.txt").write_text("a")
    monkeypatch.setattr(scan, "file_row", lambda root, entry: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        scan.scan(other, tmp_path / "inv.parquet")
    monkeypatch.undo()
    with pytest.raises(ValueError, match="checkpoint of another folder"):
        scan.scan(evidence_dir, tmp_path / "inv.parquet")
    df = scan.read_inventory(scan.scan(evidence_dir, tmp_path / "inv.parquet", resume=False))
    assert len(df) == len(FILES) + 1


def test_scan_of_an_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    df = scan.read_inventory(scan.scan(tmp_path / "empty", tmp_path / "out" / "inv.parquet"))
    assert df.empty and list(df.columns) == list(scan.SCAN_COLUMNS)
    with pytest.raises(NotADirectoryError):
        scan.scan(tmp_path / "missing", tmp_path / "inv.parquet")
    with pytest.raises(IsADirectoryError, match="the inventory is a file"):
        scan.scan(tmp_path / "empty", tmp_path / "out")


@pytest.mark.realdata
def test_scan_real_camera_files(real_samples: Path, tmp_path: Path) -> None:
    df = scan.read_inventory(scan.scan(real_samples, tmp_path / "real.parquet", workers=2))
    files = [p for p in real_samples.rglob("*") if p.is_file() and not p.is_symlink()]
    assert len(df) == len(files) and df["error"].isna().all()
    hashed = evidence.manifest(real_samples).set_index("path")
    rows = df.set_index("path")
    assert (rows["sha256"] == hashed.loc[rows.index, "sha256"]).all()
    assert set(rows.loc[rows.index.str.endswith((".jpg", ".JPG")), "kind"]) == {"jpeg"}
