"""Perceptual hashes — aHash, dHash, pHash (64 bits) and PDQ (256 bits, with quality and 8 dihedral variants).

All four come from ONE reduced decode per file: a JPEG is decoded straight to luminance at the
smallest DCT scale (1, ½, ¼ or ⅛) that keeps its short side at least ``decode_side`` pixels
(Pillow's draft mode), and other formats are box-reduced by the same rule: 512 pixels for PDQ,
64 for the 64-bit hashes. PDQ's filter is computed for the full size and folded onto the reduced
pixels, so a draft hashes within a few bits of the full decode. Hashes made at different decode
sides can still differ by a bit or two, so every row records its ``decode_side`` and the index
refuses to mix them.

PDQ follows Meta's published algorithm (luminance, two passes of a Jarosz box filter down to
64×64, the 16×16 lowest DCT frequencies, median threshold, gradient quality score); its hex is
Meta's format, so it compares with ThreatExchange hash lists. The 64-bit hashes follow the usual
definitions (as the ``imagehash`` package computes them) and print as the same hex.

Global hashes survive resizing, re-encoding and small edits; they do NOT survive cropping:
crop-robust matching needs local features. Thresholds and measurements: docs/similarity.md.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache, partial
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError
from scipy import sparse

from vidlab.evidence import open_readonly, printable_path, progress_bar, rows_in_order, short_error
from vidlab.formats import picture_formats, refuse_bomb
from vidlab.hashindex import HashIndex

__all__ = [
    "HASH_KINDS", "HASH_BITS", "DECODE_SIDE", "THRESHOLDS", "PDQ_MIN_QUALITY", "MIN_SIDE", "DIHEDRAL",
    "HASH_COLUMNS", "decode_side", "reduced_luma", "hash_image", "hash_file", "hash_table", "distance",
    "bits_to_hex", "hex_to_bits", "usable", "hash_index", "find_matches", "near_duplicates",
]

PathLike = str | os.PathLike[str]

HASH_KINDS: tuple[str, ...] = ("ahash", "dhash", "phash", "pdq")
HASH_BITS: dict[str, int] = {"ahash": 64, "dhash": 64, "phash": 64, "pdq": 256}
#: Short side (px) each hash is made from. A file is decoded once, for the largest side requested; the 64-bit
#: hashes are made from that decode reduced again to 64 px, so they come out alike with or without PDQ.
DECODE_SIDE: dict[str, int] = {"ahash": 64, "dhash": 64, "phash": 64, "pdq": 512}
#: Largest distance (bits) still called a match, from the robustness table in docs/similarity.md: the smallest
#: that matches 95 % of resized, re-encoded, brightened, captioned and re-shared copies, unless unrelated pictures
#: would match more than once in 10,000 pairs first (aHash, dHash). PDQ distances are even; Meta suggests 31.
THRESHOLDS: dict[str, int] = {"ahash": 2, "dhash": 11, "phash": 8, "pdq": 40}
#: PDQ quality below this marks a picture with too little detail to match (blank, flat, nearly one colour).
PDQ_MIN_QUALITY = 50
#: Pictures whose short side is below this many pixels are not hashed: there is too little to go on.
MIN_SIDE = 32
#: PDQ's 8 dihedral variants, in the order of Meta's reference (and of the pdqhash package).
DIHEDRAL: tuple[str, ...] = (
    "original", "rotate90", "rotate180", "rotate270", "flip_vertical", "flip_horizontal", "transpose", "transverse",
)
HASH_COLUMNS: tuple[str, ...] = (
    "path", "width", "height", "decode_side", "scale", *HASH_KINDS, "pdq_quality", "pdq_dihedral", "flag", "error",
)
_ORIENTATION_TAG = 0x0112
_REDUCTIONS = (8, 4, 2, 1)  # what JPEG's DCT scaling offers, used for every format alike


# --------------------------------------------------------------------------- bits and hex


def bits_to_hex(bits: np.ndarray) -> str:
    """Bits (first = most significant) as a hex string, four bits a digit."""
    return np.packbits(np.asarray(bits, dtype=bool).ravel()).tobytes().hex()


def hex_to_bits(text: str) -> np.ndarray:
    """A hex hash as a bool array, most significant bit first."""
    return np.unpackbits(np.frombuffer(bytes.fromhex(text), dtype=np.uint8)).astype(bool)


def distance(a: str, b: str) -> int:
    """Hamming distance between two hex hashes of the same length (how many bits differ)."""
    if len(a) != len(b):
        raise ValueError(f"hashes of different lengths cannot be compared: {len(a) * 4} and {len(b) * 4} bits")
    return (int(a, 16) ^ int(b, 16)).bit_count()


# --------------------------------------------------------------------------- the one decode


def decode_side(kinds: Iterable[str]) -> int:
    """The short side one decode must keep to serve every requested hash."""
    kinds = tuple(kinds)
    unknown = set(kinds) - set(HASH_KINDS)
    if unknown or not kinds:
        raise ValueError(f"unknown hash kind(s) {sorted(unknown) or '(none given)'}; "
                         f"choose from {', '.join(HASH_KINDS)}")
    return max(DECODE_SIDE[k] for k in kinds)


def _reduction(size: tuple[int, int], side: int) -> int:
    """JPEG draft's rule: the largest of 8, 4, 2, 1 that keeps both sides at least `side`."""
    fits = min(size) // side
    return next((r for r in _REDUCTIONS if fits >= r), 1)


def _reduced(luma: Image.Image, side: int) -> Image.Image:
    """A picture box-reduced by the largest of 8, 4, 2, 1 that keeps `side` px."""
    factor = _reduction(luma.size, side)
    return luma.reduce(factor) if factor > 1 else luma


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}  # EXIF orientation -> the turn that makes the picture upright


def reduced_luma(image: Image.Image, side: int) -> tuple[Image.Image, int, tuple[int, int]]:
    """The picture upright (EXIF orientation) as 8-bit luminance reduced by 1–8 to keep `side` px, the factor,
    and the full upright size.

    A JPEG not yet loaded is decoded in draft mode (luminance only, at the reduced DCT scale), so its full
    size is never decoded; other formats are box-reduced by the same rule. Transparency counts as mid grey.
    """
    declared = image.size
    image.draft("L", (side, side))  # no-op for other formats and for images already loaded
    refuse_bomb(image)  # before getexif, which decodes a whole PNG to look for EXIF after its pixels
    try:
        orientation = int(image.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # noqa: BLE001 - a damaged EXIF block must not cost the picture itself
        orientation = 1
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        grey = Image.new("RGBA", image.size, (128, 128, 128, 255))
        image = Image.alpha_composite(grey, image.convert("RGBA"))
    luma = image if image.mode == "L" else image.convert("L")
    luma.load()
    luma = _reduced(luma, side)
    if orientation in _TRANSPOSE:
        luma = luma.transpose(_TRANSPOSE[orientation])
    upright = declared[::-1] if orientation in (5, 6, 7, 8) else declared
    return luma, max(1, round(max(declared) / max(luma.size))), upright


# --------------------------------------------------------------------------- the 64-bit hashes


@lru_cache(maxsize=4)
def _dct_rows(count: int, length: int) -> np.ndarray:
    """The first `count` DCT-II basis rows over `length` samples (unnormalised, as scipy's default)."""
    k = np.arange(count)[:, None]
    n = np.arange(length)[None, :]
    return (2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * length))).astype(np.float32)


def _grid(luma: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """The picture shrunk to size (w, h) with Lanczos, as floats."""
    return np.asarray(luma.resize(size, Image.Resampling.LANCZOS), dtype=np.float32)


def _ahash(luma: Image.Image) -> str:
    """Average hash: which of 8×8 cells are brighter than their mean."""
    cells = _grid(luma, (8, 8))
    return bits_to_hex(cells > cells.mean())


def _dhash(luma: Image.Image) -> str:
    """Difference hash: whether each of 9×8 cells is brighter than its left neighbour (left to right, per row)."""
    cells = _grid(luma, (9, 8))
    return bits_to_hex(cells[:, 1:] > cells[:, :-1])


def _phash(luma: Image.Image) -> str:
    """Perceptual hash: the 8×8 lowest frequencies of a 32×32 DCT, each above or below their median."""
    basis = _dct_rows(8, 32)
    low = basis @ _grid(luma, (32, 32)) @ basis.T
    return bits_to_hex(low > np.median(low))


# --------------------------------------------------------------------------- PDQ


@lru_cache(maxsize=32)
def _jarosz(n: int) -> np.ndarray:
    """64×n weights: PDQ's two box-filter passes along one axis of n pixels, sampled at 64 cell centres.

    The box filter B averages x[k-a .. k+b] (clipped at the ends, divided by the count kept) with window
    w = ⌈n/128⌉, a = w - h, b = h - 1, h = (w + 2) // 2. The weights are S·B·B (S picks the 64 centres),
    built as Bᵀ·Bᵀ·Sᵀ with running sums so that the n×n matrix B is never formed.
    """
    w = (n + 127) // 128
    h = (w + 2) // 2
    k = np.arange(n)
    count = (np.minimum(k + h - 1, n - 1) - np.maximum(k - (w - h), 0) + 1).astype(np.float64)
    lo = np.maximum(k - (h - 1), 0)  # Bᵀ's row j sums x[k]/count[k] over the windows that hold j
    hi = np.minimum(k + (w - h), n - 1)
    weights = np.zeros((n, 64))
    weights[((np.arange(64) + 0.5) * n / 64).astype(int), np.arange(64)] = 1.0
    for _ in range(2):
        sums = np.vstack([np.zeros((1, 64)), np.cumsum(weights / count[:, None], axis=0)])
        weights = sums[hi + 1] - sums[lo]
    return weights.T


@lru_cache(maxsize=32)
def _folded_jarosz(full: int, factor: int, reduced: int) -> sparse.csr_array:
    """The full-size weights folded onto a picture reduced by `factor`: each reduced pixel stands for the
    `factor` pixels it averages, so it takes their summed weight; a draft then hashes almost as its full size.

    Sparse (each row is one narrow band): the product then costs ~0.2 ms and never waits on BLAS threads,
    which stall for tens of milliseconds when the other cores are busy.
    """
    weights = np.zeros((64, reduced * factor))
    weights[:, :full] = _jarosz(full)
    weights = weights.reshape(64, reduced, factor).sum(axis=2)
    weights[weights < 1e-9] = 0.0  # rounding left by the running sums outside each band
    return sparse.csr_array(weights.astype(np.float32))


@lru_cache(maxsize=1)
def _pdq_dct() -> np.ndarray:
    """16×64 DCT rows for frequencies 1..16 (PDQ drops the constant term), orthonormal scale."""
    u = np.arange(1, 17)[:, None]
    j = np.arange(64)[None, :]
    return (np.sqrt(2 / 64) * np.cos(np.pi / 128 * u * (2 * j + 1))).astype(np.float32)


def _pdq_grid(luma: np.ndarray, full: tuple[int, int], factor: int) -> np.ndarray:
    """The 64×64 downsample PDQ hashes (box-filtered twice along each axis, then sampled), as computed on
    the full (width, height) picture, from its luminance reduced by `factor`."""
    rows = _folded_jarosz(full[1], factor, luma.shape[0])
    cols = _folded_jarosz(full[0], factor, luma.shape[1])
    return (cols @ (rows @ luma).T).T


def _pdq_quality(grid: np.ndarray) -> int:
    """PDQ's quality: how much strong gradient the 64×64 holds, 0 (flat) to 100."""
    steps = np.concatenate([(grid[:-1] - grid[1:]).ravel(), (grid[:, :-1] - grid[:, 1:]).ravel()])
    gradient = int(np.abs(np.trunc(steps * np.float32(100) / np.float32(255))).sum())  # whole percents only
    return min(100, gradient // 90)


def _pdq_hex(dct16: np.ndarray) -> str:
    """256 bits: frequency (i, j) above the median is bit 16·i + j; printed from bit 255 down, as Meta does."""
    flat = dct16.ravel()
    median = np.partition(flat, 127)[127]  # the lower of the two middle values, as the reference's Torben median
    return bits_to_hex((flat > median)[::-1])


# Mirroring an axis multiplies DCT frequency u along it by (-1)^u (cos(πu(2(63-j)+1)/128) = (-1)^u cos(πu(2j+1)/128)).
_FLIP = np.where(np.arange(1, 17) % 2 == 1, -1.0, 1.0).astype(np.float32)


def _dihedral(dct16: np.ndarray) -> list[np.ndarray]:
    """The 16×16 DCT of the picture turned or mirrored 8 ways, from sign flips and transposes alone."""
    rows, cols = _FLIP[:, None], _FLIP[None, :]
    return [
        dct16, (dct16 * cols).T, dct16 * rows * cols, (dct16 * rows).T,
        dct16 * rows, dct16 * cols, dct16.T, (dct16 * rows * cols).T,
    ]


# --------------------------------------------------------------------------- one picture


def _empty_row(path: str | None) -> dict[str, Any]:
    """A HASH_COLUMNS row with nothing filled in but the path."""
    return dict.fromkeys(HASH_COLUMNS) | {"path": path}


def hash_image(image: Image.Image, kinds: Sequence[str] = HASH_KINDS, side: int | None = None) -> dict[str, Any]:
    """The requested hashes of a picture, from one reduced decode (see module doc); raises on unreadable pixels.

    Keys as HASH_COLUMNS (path None); hashes not requested are None. `flag` says why a hash must not be
    matched (too little detail); pictures smaller than MIN_SIDE are refused with ValueError, and those with more
    pixels to decode (after the JPEG draft) than Pillow's MAX_IMAGE_PIXELS with DecompressionBombError. `side`
    overrides the decode side, to study its effect (the row records it; indexes refuse to mix sides).
    """
    side = side or decode_side(kinds)
    row = _empty_row(None)
    width, height = image.size
    if min(width, height) < MIN_SIDE:
        raise ValueError(f"too small to hash: {width}×{height} px (needs at least {MIN_SIDE} px on the short side)")
    luma, scale, (row["width"], row["height"]) = reduced_luma(image, side)
    row.update(decode_side=side, scale=scale)
    pixels = np.asarray(luma, dtype=np.float32)
    grid = _pdq_grid(pixels, (row["width"], row["height"]), scale)
    quality = _pdq_quality(grid)
    row["pdq_quality"] = quality
    if quality < PDQ_MIN_QUALITY:
        row["flag"] = f"low detail (PDQ quality {quality} < {PDQ_MIN_QUALITY}): not matched"
    small = _reduced(luma, DECODE_SIDE["phash"]) if {"ahash", "dhash", "phash"} & set(kinds) else luma
    for kind, hasher in (("ahash", _ahash), ("dhash", _dhash), ("phash", _phash)):
        if kind in kinds:
            row[kind] = hasher(small)
    if "pdq" in kinds:
        basis = _pdq_dct()
        variants = [_pdq_hex(v) for v in _dihedral(basis @ grid @ basis.T)]
        row["pdq"], row["pdq_dihedral"] = variants[0], variants
    return row


def hash_file(path: PathLike, kinds: Sequence[str] = HASH_KINDS) -> dict[str, Any]:
    """One file's hashes as a HASH_COLUMNS dict; never raises — problems go to `error`, weak pictures to `flag`.

    Evidence is opened read-only. Non-pictures, truncated or damaged files and pictures under MIN_SIDE
    get an error and no hashes, so they can never match anything.
    """
    row = _empty_row(printable_path(os.fsdecode(path)))
    try:
        decode_side(kinds)
    except ValueError as exc:
        row["error"] = str(exc)
        return row
    try:
        with open_readonly(path) as f:
            if os.fstat(f.fileno()).st_size == 0:
                raise ValueError("empty file (0 bytes)")
            with warnings.catch_warnings():  # Pillow's bomb warning: refuse_bomb decides, after the JPEG draft
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(f, formats=picture_formats())
            with image:
                row.update(hash_image(image, kinds), path=row["path"])
    except UnidentifiedImageError:
        row["error"] = f"not a picture in a format we open ({', '.join(picture_formats())})"
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a batch
        row["error"] = _why(exc)
    return row


def _why(exc: BaseException) -> str:
    """A short reason for an error column; Pillow's truncation messages made plain."""
    text = str(exc)
    if isinstance(exc, OSError) and ("truncated" in text or "broken data stream" in text or "premature end" in text):
        return f"truncated or damaged image data ({text})"
    if isinstance(exc, (ValueError, Image.DecompressionBombError)):
        return text
    return short_error(exc)


def hash_table(paths: Iterable[PathLike], workers: int = 1, progress: bool | None = None,
               kinds: Sequence[str] = HASH_KINDS) -> pd.DataFrame:
    """One row per path (HASH_COLUMNS, errors included) from `workers` processes; a progress bar for long lists."""
    paths = list(paths)
    with progress_bar(progress, len(paths), "perceptual hashes") as bar:
        rows = list(rows_in_order(partial(hash_file, kinds=tuple(kinds)), paths, workers, bar))
    df = pd.DataFrame({c: pd.Series([row[c] for row in rows], dtype=object) for c in HASH_COLUMNS})
    for column in ("width", "height", "decode_side", "scale", "pdq_quality"):
        df[column] = df[column].astype("Int64")
    return df


# --------------------------------------------------------------------------- matching tables of hashes


def usable(table: pd.DataFrame, kind: str = "pdq") -> pd.DataFrame:
    """The rows whose `kind` hash may be matched: hashed, no error, not flagged for low detail."""
    ok = table[kind].notna()
    for column in ("error", "flag"):
        if column in table:
            ok &= table[column].isna()
    return table[ok]


def hash_index(table: pd.DataFrame, kind: str = "pdq") -> tuple[HashIndex, pd.DataFrame]:
    """A HashIndex over a table's usable `kind` hashes, and those rows (index position i is row i)."""
    rows = usable(table, kind)
    if rows.empty:
        raise ValueError(f"no usable {kind} hashes in the table (all missing, in error or flagged)")
    sides = set(rows["decode_side"].dropna().astype(int)) if "decode_side" in rows else set()
    if len(sides) > 1:
        raise ValueError(f"{kind} hashes made from different decode sizes ({sorted(sides)} px) must not be mixed: "
                         "hash every file with the same kinds")
    return HashIndex(list(rows[kind]), decode_side=sides.pop() if sides else None), rows


def _same_decode(index: HashIndex, rows: pd.DataFrame, kind: str) -> None:
    """Refuse to compare hashes made from different decode sizes (they differ by a bit or two for no reason)."""
    sides = set(rows["decode_side"].dropna().astype(int)) if "decode_side" in rows else set()
    if index.decode_side is not None and sides - {index.decode_side}:
        raise ValueError(f"{kind} hashes from a {sorted(sides)} px decode cannot be searched in an index of "
                         f"{index.decode_side} px hashes: hash both tables with the same kinds")


def _hits_table(index: HashIndex, queries: pd.DataFrame, kind: str, max_distance: int, turned: bool
                ) -> pd.DataFrame:
    """(query row, index row, distance, variant) for every pair within max_distance, the nearest variant kept."""
    if turned and kind == "pdq":
        hexes = [h for variants in queries["pdq_dihedral"] for h in variants]
        owner, variant = np.divmod(np.arange(len(hexes)), len(DIHEDRAL))
    else:
        hexes, owner, variant = list(queries[kind]), np.arange(len(queries)), np.zeros(len(queries), dtype=int)
    hits = index.search(hexes, max_distance)
    found = pd.DataFrame({"query": owner[hits.query], "item": hits.item, "distance": hits.distance,
                          "variant": np.array(DIHEDRAL)[variant[hits.query]] if kind == "pdq" else None})
    # the untouched picture wins a tie with a turned one: its hits come first and stable sorting keeps them there
    found = found.sort_values(["query", "item", "distance"], kind="stable")
    return found.drop_duplicates(["query", "item"]).reset_index(drop=True)


def find_matches(found: pd.DataFrame, known: pd.DataFrame, kind: str = "pdq", max_distance: int | None = None,
                 turned: bool = True) -> pd.DataFrame:
    """Every usable found picture within max_distance bits (default THRESHOLDS) of a known one.

    Columns: path, known_path, distance, variant (PDQ: which turn or mirror of the found picture matched,
    when `turned`). Errors and low-detail (flagged) rows on either side never match.
    """
    limit = THRESHOLDS[kind] if max_distance is None else max_distance
    index, known_rows = hash_index(known, kind)
    queries = usable(found, kind)
    _same_decode(index, queries, kind)
    columns = ["path", "known_path", "distance", "variant"]
    if queries.empty:
        return pd.DataFrame(columns=columns)
    hits = _hits_table(index, queries, kind, limit, turned)
    return pd.DataFrame({"path": queries["path"].to_numpy()[hits["query"]],
                         "known_path": known_rows["path"].to_numpy()[hits["item"]],
                         "distance": hits["distance"].to_numpy(), "variant": hits["variant"].to_numpy()},
                        columns=columns)


def near_duplicates(table: pd.DataFrame, kind: str = "pdq", max_distance: int | None = None,
                    turned: bool = False) -> pd.DataFrame:
    """Every pair of usable pictures in one table within max_distance bits: the edges series clustering joins.

    Columns: a, b (the table's index labels, a's row first), path_a, path_b, distance; each pair once.
    `turned` (PDQ) also pairs rotated and mirrored copies, at the cost of 8 searches.
    """
    limit = THRESHOLDS[kind] if max_distance is None else max_distance
    index, rows = hash_index(table, kind)
    if turned and kind == "pdq":
        hits = _hits_table(index, rows, kind, limit, turned=True)
        first = np.minimum(hits["query"], hits["item"]).to_numpy()
        second = np.maximum(hits["query"], hits["item"]).to_numpy()
        pairs = pd.DataFrame({"i": first, "j": second, "distance": hits["distance"].to_numpy()})
        pairs = pairs[pairs["i"] != pairs["j"]].sort_values(["i", "j", "distance"]).drop_duplicates(["i", "j"])
        i, j, dist = pairs["i"].to_numpy(), pairs["j"].to_numpy(), pairs["distance"].to_numpy()
    else:
        i, j, dist = index.pairs_within(limit)
    labels, paths = rows.index.to_numpy(), rows["path"].to_numpy()
    return pd.DataFrame({"a": labels[i], "b": labels[j], "path_a": paths[i], "path_b": paths[j], "distance": dist})
