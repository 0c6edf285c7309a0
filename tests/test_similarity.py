"""vidlab.similarity: perceptual hashes from one reduced decode, checked against the reference packages."""

from __future__ import annotations

import os
import random
from pathlib import Path

import imagehash
import numpy as np
import pandas as pd
import pdqhash
import pytest
from PIL import Image, ImageOps

from synthetic_data.draw import render_scene
from vidlab import similarity
from vidlab.similarity import DIHEDRAL, HASH_COLUMNS, distance, hash_file, hash_table

# Sizes a case holds: camera photos (landscape and portrait), re-shares, thumbnails, odd sizes.
SIZES = [(1600, 1200), (1200, 1600), (1024, 768), (2000, 1125), (640, 480), (801, 601), (320, 240), (160, 120)]


def scene(size: tuple[int, int], seed: int) -> Image.Image:
    """A generated room or street, with a little sensor-like noise so it is not flat-coloured."""
    pixels = np.asarray(render_scene(size, random.Random(seed)), dtype=np.int16)
    noise = np.random.default_rng(seed).integers(-4, 5, pixels.shape, dtype=np.int16)
    return Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """32 generated JPEGs and PNGs of many sizes."""
    folder = tmp_path_factory.mktemp("corpus")
    paths = []
    for seed in range(32):
        size = SIZES[seed % len(SIZES)]
        path = folder / f"scene_{seed:02d}.{'png' if seed % 5 == 4 else 'jpg'}"
        scene(size, seed).save(path, quality=90)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def table(corpus: list[Path]) -> pd.DataFrame:
    return hash_table(corpus)


def reference_pdq(picture: Image.Image) -> tuple[list[str], int]:
    """Meta's PDQ (pdqhash, C++) of a fully decoded picture: its 8 dihedral hashes as hex, and the quality."""
    vectors, quality = pdqhash.compute_dihedral(np.asarray(picture.convert("RGB")))
    return [similarity.bits_to_hex(v.astype(bool)) for v in vectors], quality


def test_pdq_agrees_with_meta_reference_on_a_full_decode(corpus: list[Path], table: pd.DataFrame) -> None:
    """Meta's rule for a port: for quality >= 80, within 10 bits of the reference on >= 99 % of pictures."""
    close = []
    for path, row in zip(corpus, table.itertuples()):
        expected, quality = reference_pdq(Image.open(path))
        assert abs(row.pdq_quality - quality) <= 2, path.name
        if quality >= 80:
            close.append(distance(row.pdq, expected[0]) <= 10)
    assert len(close) >= 30
    assert np.mean(close) >= 0.99


def test_pdq_dihedral_variants_agree_with_the_reference(corpus: list[Path], table: pd.DataFrame) -> None:
    for path, row in list(zip(corpus, table.itertuples()))[:8]:
        expected, _ = reference_pdq(Image.open(path))
        assert len(row.pdq_dihedral) == len(DIHEDRAL) == 8
        assert [distance(a, b) <= 10 for a, b in zip(row.pdq_dihedral, expected)] == [True] * 8, path.name


def test_turned_and_mirrored_copies_hash_as_their_variant(corpus: list[Path]) -> None:
    """A rotated (counter-clockwise, as Pillow turns) or mirrored copy hashes as the original's named variant."""
    original = Image.open(corpus[0])
    variants = dict(zip(DIHEDRAL, similarity.hash_image(original)["pdq_dihedral"]))
    copies = {"rotate90": Image.Transpose.ROTATE_90, "rotate180": Image.Transpose.ROTATE_180,
              "rotate270": Image.Transpose.ROTATE_270, "flip_vertical": Image.Transpose.FLIP_TOP_BOTTOM,
              "flip_horizontal": Image.Transpose.FLIP_LEFT_RIGHT, "transpose": Image.Transpose.TRANSPOSE,
              "transverse": Image.Transpose.TRANSVERSE}
    for name, method in copies.items():
        turned = similarity.hash_image(Image.open(corpus[0]).transpose(method))["pdq"]
        assert distance(turned, variants[name]) <= 6, name
        assert distance(turned, variants["original"]) > 60, name


def test_64_bit_hashes_agree_with_imagehash(corpus: list[Path], table: pd.DataFrame) -> None:
    """The draft decode changes aHash/dHash/pHash by a few bits at most against imagehash's full decode."""
    gaps = {"ahash": [], "dhash": [], "phash": []}
    for path, row in zip(corpus, table.itertuples()):
        with Image.open(path) as picture:
            reference = {"ahash": imagehash.average_hash(picture), "dhash": imagehash.dhash(picture),
                         "phash": imagehash.phash(picture)}
        for kind, expected in reference.items():
            gaps[kind].append(distance(getattr(row, kind), str(expected)))
    for kind, gap in gaps.items():
        assert np.median(gap) <= 1 and max(gap) <= 6, (kind, gap)
    assert np.mean(np.array(gaps["phash"]) <= 2) >= 0.9


def test_one_decode_at_the_size_pdq_needs(corpus: list[Path], table: pd.DataFrame) -> None:
    """1600×1200 JPEGs decode at ½ for all four hashes, at ⅛ (then ½ again) for the 64-bit ones alone,
    and the 64-bit hashes come out nearly alike either way."""
    big = [i for i, p in enumerate(corpus) if p.suffix == ".jpg" and Image.open(p).size == (1600, 1200)]
    assert big and set(table.loc[big, "scale"]) == {2} and set(table.loc[big, "decode_side"]) == {512}
    fast = hash_table([corpus[i] for i in big], kinds=("ahash", "dhash", "phash"))
    assert set(fast["scale"]) == {16} and set(fast["decode_side"]) == {64}
    assert fast["pdq"].isna().all()
    for kind in ("ahash", "dhash", "phash"):
        assert max(distance(a, b) for a, b in zip(fast[kind], table.loc[big, kind])) <= 4, kind
    assert list(table.columns) == list(HASH_COLUMNS) and table["error"].isna().all()


def test_exif_orientation_is_applied(corpus: list[Path], tmp_path: Path) -> None:
    """A camera JPEG stored sideways with Orientation 6 hashes like the upright copy a platform delivers."""
    upright = Image.open(corpus[0])
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "sideways.jpg", quality=90, exif=exif)
    sideways = hash_file(tmp_path / "sideways.jpg")
    straight = hash_file(corpus[0])
    assert (sideways["width"], sideways["height"]) == upright.size
    assert distance(sideways["pdq"], straight["pdq"]) <= 10
    assert distance(sideways["phash"], straight["phash"]) <= 4


def test_bad_files_get_errors_and_flags_never_exceptions(tmp_path: Path, corpus: list[Path]) -> None:
    data = corpus[0].read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(data[: len(data) // 2])
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "notes.jpg").write_text("not a picture at all\n")
    Image.new("RGB", (24, 300), (90, 90, 90)).save(tmp_path / "sliver.png")
    Image.new("RGB", (640, 480), (200, 30, 30)).save(tmp_path / "red.jpg")
    Image.new("RGB", (640, 480), (20, 30, 200)).save(tmp_path / "blue.jpg")
    (tmp_path / "folder.jpg").mkdir()
    names = ["truncated.jpg", "empty.jpg", "notes.jpg", "sliver.png", "missing.jpg", "folder.jpg",
             "red.jpg", "blue.jpg"]
    rows = hash_table([tmp_path / n for n in names]).set_index(pd.Index(names))
    assert "truncated" in rows.at["truncated.jpg", "error"]
    assert "empty" in rows.at["empty.jpg", "error"]
    assert "not a picture" in rows.at["notes.jpg", "error"]
    assert "too small" in rows.at["sliver.png", "error"]
    assert "No such file" in rows.at["missing.jpg", "error"]
    assert "directory" in rows.at["folder.jpg", "error"]
    errors = rows.loc[names[:6]]
    assert errors[list(similarity.HASH_KINDS)].isna().all().all() and errors["flag"].isna().all()
    flat = rows.loc[["red.jpg", "blue.jpg"]]
    assert flat["error"].isna().all() and flat["pdq_quality"].max() < similarity.PDQ_MIN_QUALITY
    assert flat["flag"].str.contains("low detail").all()
    # flagged pictures are never matched, not even with themselves
    assert similarity.usable(rows).empty
    with pytest.raises(ValueError, match="no usable"):
        similarity.find_matches(rows, rows)
    known = pd.concat([flat, hash_table(corpus[:1])])
    for kind in similarity.HASH_KINDS:
        assert similarity.find_matches(flat, known, kind, max_distance=64).empty


def test_seized_sample_every_picture_hashed_every_other_file_an_error(tiny_data: Path) -> None:
    """The generator's seized sample: liars, truncated and empty files, non-images; its answer key says which."""
    key = pd.read_csv(tiny_data / "answer_key" / "seized_sample.csv")
    folder = tiny_data / "case" / "seized_sample"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}
    rows = hash_table([folder / p for p in key["path"]], workers=2)
    assert len(rows) == len(key)
    readable = key["is_image"] & ~key["truncated"] & ~key["empty"]
    assert rows.loc[readable, "error"].isna().all() and rows.loc[readable, "pdq"].notna().all()
    assert rows.loc[~readable, "error"].notna().all() and rows.loc[~readable, "pdq"].isna().all()
    assert before == {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def test_find_matches_finds_resized_reencoded_and_mirrored_copies(tmp_path: Path, corpus: list[Path],
                                                                  table: pd.DataFrame) -> None:
    known = table.iloc[:16]
    copies = []
    for i, path in enumerate(corpus[:6]):
        picture = Image.open(path)
        edit = [lambda p: p.resize((p.width // 2, p.height // 2)), ImageOps.mirror, lambda p: p][i % 3]
        copies.append(tmp_path / f"copy_{i}.jpg")
        edit(picture).convert("RGB").save(copies[-1], quality=60)
    strangers = corpus[20:26]
    found = hash_table(copies + strangers)
    for kind in similarity.HASH_KINDS:
        matched = similarity.find_matches(found, known, kind)
        expected = {(str(c), str(p)) for c, p in zip(copies, corpus[:6])}
        if kind != "pdq":  # only PDQ carries the dihedral variants that undo a mirror
            expected = {pair for i, pair in enumerate(sorted(expected)) if i % 3 != 1}
        assert set(zip(matched["path"], matched["known_path"])) == expected, kind
    pdq = similarity.find_matches(found, known).set_index("path")
    assert pdq.at[str(copies[1]), "variant"] == "flip_horizontal" and pdq.at[str(copies[0]), "variant"] == "original"


def test_hashes_from_different_decodes_are_never_mixed(corpus: list[Path], table: pd.DataFrame) -> None:
    fast = hash_table(corpus[:4], kinds=("phash",))
    with pytest.raises(ValueError, match="decode"):
        similarity.find_matches(fast, table, "phash")
    with pytest.raises(ValueError, match="different decode sizes"):
        similarity.hash_index(pd.concat([fast, table]), "phash")


def test_near_duplicates_lists_each_pair_once(tmp_path: Path, corpus: list[Path]) -> None:
    picture = Image.open(corpus[1])
    picture.save(tmp_path / "a.jpg", quality=95)
    picture.resize((800, 600)).save(tmp_path / "b.jpg", quality=70)
    picture.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "c.jpg", quality=80)
    rows = hash_table([tmp_path / "a.jpg", tmp_path / "b.jpg", tmp_path / "c.jpg", corpus[2], corpus[3]])
    plain = similarity.near_duplicates(rows)
    assert list(zip(plain["a"], plain["b"])) == [(0, 1)]
    turned = similarity.near_duplicates(rows, turned=True)
    assert sorted(zip(turned["a"], turned["b"])) == [(0, 1), (0, 2), (1, 2)]
    assert (turned["distance"] <= similarity.THRESHOLDS["pdq"]).all()


def test_distance_and_hex() -> None:
    bits = np.random.default_rng(5).random(256) > 0.5
    text = similarity.bits_to_hex(bits)
    assert len(text) == 64 and np.array_equal(similarity.hex_to_bits(text), bits)
    flipped = bits.copy()
    flipped[[0, 17, 255]] ^= True
    assert distance(text, similarity.bits_to_hex(flipped)) == 3
    with pytest.raises(ValueError, match="different lengths"):
        distance(text, text[:16])
    with pytest.raises(ValueError, match="unknown hash kind"):
        similarity.decode_side(["md5"])
    assert hash_file(os.devnull, kinds=("sha1",))["error"].startswith("unknown hash kind")


@pytest.mark.realdata
def test_real_camera_files_agree_with_meta_reference(real_samples: Path) -> None:
    """Real cameras' JPEGs, TIFFs and HEICs (many sizes, orientations, odd files): no exception, and PDQ within
    Meta's rule against pdqhash on the upright full decode."""
    paths = sorted(p for p in real_samples.rglob("*") if p.is_file())
    rows = hash_table(paths)
    assert len(rows) == len(paths)
    close = []
    for path, row in zip(paths, rows.itertuples()):
        if row.error is None:
            expected, quality = reference_pdq(ImageOps.exif_transpose(Image.open(path)))
            if quality >= 80:
                close.append(distance(row.pdq, expected[0]) <= 10)
    assert len(close) >= 50 and np.mean(close) >= 0.99
