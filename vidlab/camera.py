"""Which camera took a picture: JPEG quantisation tables (which device or software wrote the file) and PRNU (which
individual sensor recorded the pixels).

Quantisation tables. Every JPEG carries the tables its encoder divided the image by. Camera models and firmware
often use their own; software (Pillow, GIMP, most web services) uses the IJG/libjpeg standard tables scaled to a
quality. Equal tables say "written by the same kind of encoder at the same setting" — never which unit; a re-encode
by any software replaces the camera's tables. ``table_summary`` gives a table set's fingerprint (the same short hash
as the ``quant_tables`` column of ``vidlab.metadata``) and IJG-equivalent quality; ``which_writer`` ranks known
writers by how close their tables are.

PRNU (photo-response non-uniformity). Each pixel of a sensor converts light with a slightly different gain, a fixed
multiplicative pattern K unique to the sensor: a picture is I = I0·(1 + K) + noise. Following Lukáš, Fridrich and
Goljan (IEEE TIFS 2006) and Goljan's reference code:
- the noise residual W = I − F(I), F the wavelet denoiser of Mihçak et al. (4-level Daubechies-8 transform, each
  detail coefficient shrunk by a local Wiener filter whose signal variance is the smallest of its 3/5/7/9 windows);
- the fingerprint K = Σ W·I / Σ I² over reference pictures of one camera (maximum-likelihood estimate), then made
  zero-mean along rows and columns and Wiener-filtered in the DFT domain, which removes what all cameras share
  (JPEG's 8×8 grid, colour-filter and read-out patterns) and would otherwise match every camera;
- matching correlates a questioned picture's residual W·I with K and reports the normalised correlation and the
  PCE (peak-to-correlation energy: the squared peak over the mean squared correlation away from it). For pictures
  of other cameras PCE follows the same distribution whatever their size or brightness, so one threshold serves:
  PCE_THRESHOLD. The denoiser matters: on the generator's devices (128² crops, 5 references) the wavelet filter's
  median genuine PCE is 1,500 against 900 for scipy's adaptive Wiener, 460 for a median and 250 for a Gaussian
  filter. PyWavelets gives the same accuracy with the same filter; our 40-line transform avoids the dependency.
Pictures are compared in the sensor's orientation (pixels as stored, EXIF Orientation NOT applied); quarter turns
are tried for copies that were turned, and a cropped copy is found by searching every shift. A resized copy cannot
be matched (its pattern no longer lines up): it gets no camera and a note saying why, never a guess.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image
from scipy import fft, ndimage

from vidlab.enhance import PictureError, open_picture
from vidlab.evidence import progress_bar, short_error
from vidlab.metadata import ZIGZAG, ijg_tables, quantisation_summary, quantisation_tables

__all__ = [
    "TableSummary",
    "table_summary",
    "KnownWriter",
    "standard_writers",
    "course_writers",
    "known_writers",
    "writer_from_files",
    "which_writer",
    "writer_table",
    "WRITER_COLUMNS",
    "PCE_THRESHOLD",
    "MIN_PRNU_SIZE",
    "noise_residual",
    "Fingerprint",
    "estimate_fingerprint",
    "PrnuMatch",
    "match_fingerprint",
    "identify_camera",
    "camera_table",
    "CAMERA_COLUMNS",
]

PathLike = str | os.PathLike[str]
Source = PathLike | Image.Image | np.ndarray

# --------------------------------------------------------------------------- quantisation tables

Tables = Mapping[int, Sequence[int]]


@dataclass(frozen=True)
class TableSummary:
    """A JPEG's table set in brief: fingerprint (hash, as metadata's quant_tables), IJG-equivalent quality, and
    whether the tables are exactly libjpeg's standard ones at that quality (software rather than a camera's own)."""

    fingerprint: str
    quality: int | None
    standard: bool | None


def _zigzag_key(tables: Tables) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """Natural-order tables as vidlab.metadata keys them (slot, zigzag values), for its summary and hash."""
    key = []
    for slot, natural in sorted(tables.items()):
        if len(natural) != 64:
            raise ValueError(f"quantisation table {slot} has {len(natural)} values, not 64")
        zigzag = [0] * 64
        for index, value in enumerate(natural):
            zigzag[ZIGZAG[index]] = int(value)
        key.append((int(slot), tuple(zigzag)))
    return tuple(key)


def table_summary(tables: Tables) -> TableSummary:
    """Fingerprint and IJG-equivalent quality of a table set given in natural (row-major) order by slot."""
    if not tables:
        raise ValueError("no quantisation tables (not a JPEG?)")
    quality, standard, fingerprint = quantisation_summary(_zigzag_key(tables))
    return TableSummary(fingerprint, quality, standard)


@dataclass(frozen=True)
class KnownWriter:
    """A device, platform or program whose JPEG tables are known, and where that knowledge comes from."""

    name: str
    kind: str  # "software", "camera model", "platform", "editor", "reference files" …
    tables: tuple[tuple[int, ...], ...]  # natural order, slot 0 (luminance) first
    source: str

    @cached_property
    def summary(self) -> TableSummary:
        return table_summary(dict(enumerate(self.tables)))


@lru_cache(maxsize=1)
def standard_writers() -> tuple[KnownWriter, ...]:
    """libjpeg's standard tables at each quality 1–100: what Pillow, GIMP, ImageMagick and most web services write."""
    zigzag = ijg_tables()
    writers = []
    for quality in range(1, 101):
        tables = tuple(tuple(int(table[ZIGZAG[n]]) for n in range(64)) for table in zigzag[quality - 1])
        writers.append(KnownWriter(f"IJG standard tables, quality {quality}", "software", tables,
                                   "ITU-T T.81 Annex K tables scaled as libjpeg's jpeg_set_quality"))
    return tuple(writers)


@lru_cache(maxsize=1)
def course_writers() -> tuple[KnownWriter, ...]:
    """The course generator's fictional camera models, re-sharing platforms and photo editor, with their tables
    as synthetic_data writes them (none of these exist outside the course)."""
    from synthetic_data.devices import MODELS, model_qtables
    from synthetic_data.provenance import EDITOR, EDITOR_QUALITY, PLATFORM_SPECS, ijg_qtables

    source = "synthetic_data (course generator)"
    writers = [KnownWriter(f"{model.name} (course camera)", "camera model", model_qtables(model), source)
               for model in MODELS]
    writers += [KnownWriter(f"{name} (course platform)", "platform", tuple(map(tuple, ijg_qtables(spec.quality))),
                            source) for name, spec in PLATFORM_SPECS.items()]
    writers.append(KnownWriter(f"{EDITOR} (course editor)", "editor", tuple(map(tuple, ijg_qtables(EDITOR_QUALITY))),
                               source))
    return tuple(writers)


def known_writers(include_course: bool = True) -> tuple[KnownWriter, ...]:
    """The built-in list: libjpeg's standard tables, plus the course's fictional devices and platforms."""
    return standard_writers() + (course_writers() if include_course else ())


def _tables_of(source: PathLike | Tables) -> dict[int, list[int]]:
    if isinstance(source, Mapping):
        return {int(slot): list(values) for slot, values in source.items()}
    tables = quantisation_tables(source)
    if not tables:
        raise ValueError(f"{os.fspath(source)}: no quantisation tables (not a JPEG)")
    return tables


def writer_from_files(name: str, paths: Iterable[PathLike], kind: str = "reference files") -> KnownWriter:
    """A known writer learnt from reference JPEGs (say, test shots from a seized phone); an error naming the
    fingerprints when the files do not all share one table set."""
    seen: dict[str, tuple[dict[int, list[int]], list[str]]] = {}
    for path in paths:
        tables = _tables_of(path)
        entry = seen.setdefault(table_summary(tables).fingerprint, (tables, []))
        entry[1].append(os.fspath(path))
    if not seen:
        raise ValueError("no reference files given")
    if len(seen) > 1:
        listing = "; ".join(f"{fp}: {len(files)} file(s), e.g. {files[0]}" for fp, (_, files) in seen.items())
        raise ValueError(f"reference files for {name!r} use {len(seen)} different table sets ({listing})")
    tables, files = next(iter(seen.values()))
    return KnownWriter(name, kind, tuple(tuple(tables[slot]) for slot in sorted(tables)),
                       f"{len(files)} reference file(s), e.g. {files[0]}")


def which_writer(source: PathLike | Tables, known: Sequence[KnownWriter] | None = None, top: int = 5) -> pd.DataFrame:
    """Known writers ranked by how close their tables are to a JPEG's (sum of absolute differences over the file's
    tables; 0 = identical). Columns: writer, kind, distance, exact, quality, source.

    An exact match says which encoder setting wrote the file, not which unit; several writers can share tables
    (every program saving with libjpeg at quality 85 does).
    """
    tables = _tables_of(source)
    rows = []
    for writer in known_writers() if known is None else known:
        # a third table (Cr kept apart from Cb) is compared with the writer's last (chrominance) table
        distance = sum(int(np.abs(np.subtract(values, writer.tables[min(slot, len(writer.tables) - 1)])).sum())
                       for slot, values in tables.items())
        rows.append({"writer": writer.name, "kind": writer.kind, "distance": distance, "exact": distance == 0,
                     "quality": writer.summary.quality, "source": writer.source})
    ranked = pd.DataFrame(rows, columns=["writer", "kind", "distance", "exact", "quality", "source"])
    ranked = ranked.sort_values("distance", kind="stable")
    exact = int(ranked["exact"].sum())
    return ranked.head(max(top, exact)).reset_index(drop=True)


def _table(rows: list[dict[str, Any]], columns: Sequence[str], types: Mapping[str, str]) -> pd.DataFrame:
    """Rows as a table: `types` for its number columns (nullable), Python objects with None for the rest."""
    table = pd.DataFrame({c: pd.Series([row[c] for row in rows], dtype=object) for c in columns})
    return table.astype(dict(types))


WRITER_COLUMNS = ("path", "quant_tables", "jpeg_quality", "jpeg_standard_tables", "writer", "writer_kind",
                  "distance", "exact_matches", "error")


def writer_table(paths: Iterable[PathLike], known: Sequence[KnownWriter] | None = None,
                 progress: bool | None = None) -> pd.DataFrame:
    """One row per file: its table fingerprint and quality, the closest known writer and how many writers match
    exactly; an ``error`` instead for files without tables (not JPEG, unreadable). Never raises for one file."""
    paths = list(paths)
    known = known_writers() if known is None else known
    rows = []
    with progress_bar(progress, len(paths), "tables") as bar:
        for path in paths:
            row: dict[str, Any] = dict.fromkeys(WRITER_COLUMNS)
            row["path"] = os.fspath(path)
            try:
                tables = _tables_of(path)
                summary = table_summary(tables)
                row.update(quant_tables=summary.fingerprint, jpeg_quality=summary.quality,
                           jpeg_standard_tables=summary.standard)
                ranked = which_writer(tables, known, top=1)
                if len(ranked):
                    best = ranked.iloc[0]
                    row.update(writer=best["writer"], writer_kind=best["kind"], distance=int(best["distance"]),
                               exact_matches=int(ranked["exact"].sum()))
            except Exception as exc:  # noqa: BLE001 - one bad file is a row, not a crashed batch
                row["error"] = short_error(exc)
            rows.append(row)
            bar.update()
    return _table(rows, WRITER_COLUMNS, {"jpeg_quality": "Int64", "jpeg_standard_tables": "boolean",
                                         "distance": "Int64", "exact_matches": "Int64"})


# --------------------------------------------------------------------------- PRNU: noise residual

#: Decision threshold on PCE: Goljan's 60, checked against distributions measured by benchmarks/bench_prnu.py on
#: the generator's devices (12 cameras with same-model twins, 120 questioned pictures, 1,050 impostor pairs per
#: setting): impostor PCE at most 39 (p99 27) at full frame and 38 on a 512² crop; genuine PCE at least 817 on a
#: 256² crop and 6,800 on 512² from only 5 references. Under chance alone PCE ≥ 60 has odds of about 1e-14 a shift.
PCE_THRESHOLD = 60.0
#: Smallest side (pixels) a picture needs for a PRNU measurement to mean anything.
MIN_PRNU_SIZE = 128
#: Grey levels from which a pixel counts as saturated: clipped pixels carry no sensor pattern.
SATURATED = 250
#: Assumed standard deviation of the picture noise (grey levels) in the denoiser, as in Goljan's code.
DENOISE_SIGMA = 3.0
WAVELET_LEVELS = 4
NO_NOISE = 0.01  # grey levels: a residual no larger than this is rounding, not noise (a flat, drawn or clipped picture)
#: Daubechies' orthonormal 8-tap low-pass filter ("db4"; Daubechies 1992, table 6.1), synthesis order.
_DB8 = np.array([0.2303778133088965, 0.7148465705529157, 0.6308807679298589, -0.027983769416859854,
                 -0.18703481171909309, 0.030841381835560764, 0.0328830116668852, -0.010597401785069032])
_LOW, _HIGH = _DB8.astype(np.float32), (_DB8[::-1] * (-1.0) ** np.arange(8)).astype(np.float32)
_PEAK_NEIGHBOURHOOD = 11  # correlation cells around the peak left out of PCE's energy (Goljan: 11×11)
MIN_SEARCHED = 2000  # searched shifts enough to measure PCE's energy on them alone


def _analyse(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """One level of the periodic orthonormal wavelet transform along an axis: (low-pass, high-pass) halves."""
    step = [slice(None)] * x.ndim
    step[axis] = slice(None, None, 2)
    low = ndimage.correlate1d(x, _LOW, axis=axis, mode="wrap", origin=-4)[tuple(step)]
    high = ndimage.correlate1d(x, _HIGH, axis=axis, mode="wrap", origin=-4)[tuple(step)]
    return low, high


def _synthesise(low: np.ndarray, high: np.ndarray, axis: int) -> np.ndarray:
    """The inverse of _analyse (exact to rounding: the filters are orthonormal)."""
    shape = list(low.shape)
    shape[axis] *= 2
    step = [slice(None)] * low.ndim
    step[axis] = slice(None, None, 2)
    out = np.zeros(shape, np.float32)
    for band, taps in ((low, _LOW), (high, _HIGH)):
        spread = np.zeros(shape, np.float32)
        spread[tuple(step)] = band
        out += ndimage.convolve1d(spread, taps, axis=axis, mode="wrap", origin=-4)
    return out


def _noise_part(coef: np.ndarray, variance: float, mode: str = "reflect") -> np.ndarray:
    """What a local Wiener filter takes for noise in `coef`: coef·σ²/(s² + σ²), s² the signal variance, estimated
    as the smallest local mean square over 3×3 … 9×9 windows less σ² (Mihçak et al. 1999)."""
    energy = coef * coef
    local = np.minimum.reduce([ndimage.uniform_filter(energy, size, mode=mode) for size in (3, 5, 7, 9)])
    return coef * (variance / (np.maximum(local - variance, 0) + variance))


def _wavelet_residual(luma: np.ndarray, sigma: float = DENOISE_SIGMA) -> np.ndarray:
    """W = I − F(I): the detail coefficients' noise parts transformed back, the coarse approximation dropped."""
    height, width = luma.shape
    unit = 1 << WAVELET_LEVELS
    padded = np.pad(luma, ((0, -height % unit), (0, -width % unit)), mode="symmetric").astype(np.float32)
    variance = sigma * sigma
    details = []
    approx = padded
    for _ in range(WAVELET_LEVELS):
        low, high = _analyse(approx, 0)
        (ll, lh), (hl, hh) = _analyse(low, 1), _analyse(high, 1)
        details.append((_noise_part(lh, variance), _noise_part(hl, variance), _noise_part(hh, variance)))
        approx = ll
    approx = np.zeros_like(approx)
    for lh, hl, hh in reversed(details):
        approx = _synthesise(_synthesise(approx, lh, 1), _synthesise(hl, hh, 1), 0)
    return approx[:height, :width]


def _zero_mean(x: np.ndarray) -> np.ndarray:
    """Remove row and column means on each of the four 2×2 lattice phases (colour-filter array and read-out
    patterns that every camera of a kind shares)."""
    out = x - x.mean()
    for dy in (0, 1):
        for dx in (0, 1):
            phase = out[dy::2, dx::2]
            phase -= phase.mean(axis=1, keepdims=True)
            phase -= phase.mean(axis=0, keepdims=True)
    return out


def _wiener_dft(x: np.ndarray) -> np.ndarray:
    """Flatten the spectrum's peaks (periodic patterns such as JPEG's 8×8 grid) by keeping only the noise part of
    each DFT magnitude, the phase unchanged (Goljan's WienerInDFT)."""
    spectrum = fft.rfft2(x, workers=-1)
    magnitude = np.abs(spectrum) / np.sqrt(x.size)
    cleaned = _noise_part(magnitude, float(x.var()), mode="wrap")
    ratio = np.divide(cleaned, magnitude, out=np.zeros_like(magnitude), where=magnitude > 0)
    return fft.irfft2(spectrum * ratio, s=x.shape, workers=-1).astype(np.float32)


def _luma(source: Source) -> np.ndarray:
    """Brightness as float32 in the stored (sensor) orientation. A JPEG path is decoded as its luma plane only."""
    if isinstance(source, np.ndarray):
        pixels = np.asarray(source, dtype=np.float32)
        if pixels.ndim == 3 and pixels.shape[2] == 3:
            return pixels @ np.array([0.299, 0.587, 0.114], np.float32)
        if pixels.ndim != 2:
            raise PictureError(f"expected H×W or H×W×3 pixels, got shape {pixels.shape}")
        return pixels
    image = source if isinstance(source, Image.Image) else open_picture(source, upright=False, grey=True)
    if image.mode == "L":
        return np.asarray(image, dtype=np.float32)
    return np.asarray(image.convert("RGB"), dtype=np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def _check_size(luma: np.ndarray) -> None:
    if min(luma.shape) < MIN_PRNU_SIZE:
        raise PictureError(f"picture {luma.shape[1]}×{luma.shape[0]} is too small for PRNU "
                           f"(at least {MIN_PRNU_SIZE}×{MIN_PRNU_SIZE} pixels)")


def _centre_box(size: tuple[int, int], crop: int | None) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of a centred crop×crop square, or the whole frame."""
    width, height = size
    if crop is None or crop >= min(width, height):
        return (0, 0, width, height)
    left, top = (width - crop) // 2, (height - crop) // 2
    return (left, top, left + crop, top + crop)


def _residual_and_luma(source: Source, box: tuple[int, int, int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(W, I) of a picture (or of `box` in it): saturated pixels get W = 0, as they cannot show the pattern."""
    luma = _luma(source)
    if box is not None:
        left, top, right, bottom = box
        luma = luma[top:bottom, left:right]
    _check_size(luma)
    residual = _wavelet_residual(luma)
    saturated = ndimage.maximum_filter(luma, 3) >= SATURATED
    residual[saturated] = 0
    return residual, luma


def noise_residual(source: Source) -> np.ndarray:
    """A picture's noise residual W = I − F(I) (float32, stored orientation): sensor pattern plus random noise."""
    return _residual_and_luma(source)[0]


# --------------------------------------------------------------------------- PRNU: fingerprints


@dataclass(frozen=True)
class Fingerprint:
    """A camera's estimated sensor pattern K over `box` of its stored frame (width, height)."""

    pattern: np.ndarray  # float32, box-sized, rows × columns
    frame: tuple[int, int]
    box: tuple[int, int, int, int]
    images: int
    label: str = ""

    def save(self, path: PathLike) -> None:
        """Write to a .npz file (work product, never beside the evidence)."""
        np.savez_compressed(path, pattern=self.pattern, frame=self.frame, box=self.box, images=self.images,
                            label=self.label)

    @classmethod
    def load(cls, path: PathLike) -> Fingerprint:
        with np.load(path) as data:
            return cls(data["pattern"].astype(np.float32), tuple(int(v) for v in data["frame"]),
                       tuple(int(v) for v in data["box"]), int(data["images"]), str(data["label"]))


def estimate_fingerprint(pictures: Iterable[Source], crop: int | None = None, label: str = "",
                         progress: bool | None = None) -> Fingerprint:
    """A camera's fingerprint from reference pictures it took (20 or more for a reliable one), all at one stored
    size. `crop` estimates it on a centred crop×crop square only: faster (1600×1200 JPEGs: 0.09 s a picture at 512
    against 0.29 s for the full frame; matching 3× faster), and on the generator's devices just as accurate, but
    then a cropped copy is only found if it still covers part of that square. An error names pictures of another
    size or that cannot be read."""
    pictures = list(pictures)
    if len(pictures) < 2:
        raise ValueError(f"need at least 2 reference pictures (20 or more recommended), got {len(pictures)}")
    numerator = denominator = None
    frame: tuple[int, int] | None = None
    box: tuple[int, int, int, int] | None = None
    with progress_bar(progress, len(pictures), "fingerprint") as bar:
        for index, picture in enumerate(pictures):
            luma = _luma(picture)
            size = (luma.shape[1], luma.shape[0])
            if frame is None:
                frame, box = size, _centre_box(size, crop)
            elif size != frame:
                raise PictureError(f"reference picture {index} ({_name(picture)}) is {size[0]}×{size[1]}, the first "
                                   f"was {frame[0]}×{frame[1]}: a fingerprint needs pictures of one stored size")
            residual, part = _residual_and_luma(luma, box)
            if numerator is None:
                numerator, denominator = np.zeros_like(part), np.zeros_like(part)
            numerator += residual * part
            denominator += part * part
            bar.update()
    pattern = _wiener_dft(_zero_mean(numerator / np.maximum(denominator, 1.0)))
    return Fingerprint(pattern, frame, box, len(pictures), label)


def _name(source: Source) -> str:
    return os.fspath(source) if isinstance(source, (str, os.PathLike)) else type(source).__name__


# --------------------------------------------------------------------------- PRNU: matching


@dataclass(frozen=True)
class PrnuMatch:
    """How strongly a picture carries a fingerprint: PCE and correlation at the best quarter turn and shift."""

    pce: float
    correlation: float
    rotation: int  # degrees anticlockwise the picture was turned to line up with the sensor
    shift: tuple[int, int]  # (x, y) of the picture's top-left corner in the fingerprint's frame
    same_camera: bool
    note: str = ""


def _prepared(residual: np.ndarray, luma: np.ndarray) -> np.ndarray:
    """The questioned term W·I, after the same clean-up as fingerprints get."""
    return _wiener_dft(_zero_mean(residual)) * luma


def _overlap(length: int, frame: int, span: tuple[int, int]) -> np.ndarray:
    """For each circular shift d along one axis: how many of a picture's `length` cells, placed at d in a `frame`
    of cells, fall in the pattern's span [start, stop)."""
    placed, pattern = np.zeros(frame), np.zeros(frame)
    placed[:length] = 1
    pattern[span[0]:span[1]] = 1
    return np.rint(fft.irfft(np.conj(fft.rfft(placed)) * fft.rfft(pattern), n=frame))


def _pce(product: np.ndarray, pattern: np.ndarray, shifts: tuple[int, int],
         box: tuple[int, int, int, int] | None = None) -> tuple[float, tuple[int, int], float]:
    """PCE of the circular cross-correlation of `product` (zero-padded to the pattern's size) with `pattern`, its
    peak looked for among shifts 0..shifts (rows, columns); returns (PCE, (dx, dy), correlation at the peak).

    PCE's energy is the mean squared correlation away from the peak over the shifts searched when there are enough
    of them (a chance peak is then judged against its own competitors), else over every shift at which the picture
    covers as much of the pattern (the pattern may be known only inside `box`, zero elsewhere) as at the peak.
    """
    rows, cols = pattern.shape
    x = np.zeros_like(pattern)
    x[:product.shape[0], :product.shape[1]] = product - product.mean()
    y = pattern - pattern.mean() if box is None else pattern
    corr = fft.irfft2(np.conj(fft.rfft2(x, workers=-1)) * fft.rfft2(y, workers=-1), s=pattern.shape, workers=-1)
    window = corr[:shifts[0] + 1, :shifts[1] + 1]
    dy, dx = np.unravel_index(int(np.argmax(window)), window.shape)
    peak = float(corr[dy, dx])
    if window.size >= MIN_SEARCHED:
        usable = np.zeros(corr.shape, bool)
        usable[:shifts[0] + 1, :shifts[1] + 1] = True
    elif box is not None:
        left, top, right, bottom = box
        overlap = np.outer(_overlap(product.shape[0], rows, (top, bottom)),
                           _overlap(product.shape[1], cols, (left, right)))
        usable = overlap == overlap[dy, dx]
    else:
        usable = np.ones(corr.shape, bool)
    half = _PEAK_NEIGHBOURHOOD // 2
    usable[np.ix_(np.arange(dy - half, dy + half + 1) % rows, np.arange(dx - half, dx + half + 1) % cols)] = False
    energy = float(np.mean(corr[usable] ** 2)) if usable.any() else 0.0
    region = y[dy:dy + product.shape[0], dx:dx + product.shape[1]]
    region = region - region.mean()
    norm = float(np.linalg.norm(x) * np.linalg.norm(region))
    pce = float(np.sign(peak) * peak * peak / energy) if energy > 0 else 0.0
    correlation = float((x[:region.shape[0], :region.shape[1]] * region).sum() / norm) if norm > 0 else 0.0
    return pce, (int(dx), int(dy)), correlation


class _Questioned:
    """A questioned picture's luma, with its prepared products (W·I) cached per quarter turn and region, so that
    matching it against many fingerprints computes each residual once."""

    def __init__(self, source: Source) -> None:
        self.luma = _luma(source)
        _check_size(self.luma)
        self._products: dict[tuple[int, tuple[int, int, int, int] | None], np.ndarray] = {}

    def product(self, turns: int, box: tuple[int, int, int, int] | None) -> np.ndarray:
        key = (turns, box)
        if key not in self._products:
            turned = np.rot90(self.luma, turns)
            if box is not None:
                left, top, right, bottom = box
                turned = turned[top:bottom, left:right]
            residual, luma = _residual_and_luma(np.ascontiguousarray(turned))
            if np.abs(residual).max() < NO_NOISE:
                raise PictureError("no noise left in the picture (flat or saturated): PRNU cannot be measured")
            self._products[key] = _prepared(residual, luma)
        return self._products[key]


def _shrunk(shape: tuple[int, int], frame: tuple[int, int]) -> bool:
    """A picture smaller than the frame with (near enough) its proportions, either way round."""
    rows, cols = shape
    return any(rows < fr and cols < fc and abs(rows / cols - fr / fc) < 0.01 * fr / fc
               for fr, fc in (frame, frame[::-1]))


def _match(questioned: _Questioned, fingerprint: Fingerprint) -> PrnuMatch:
    """Try the quarter turns that fit the fingerprint's frame; the first at or above the threshold wins, else the
    strongest."""
    width, height = fingerprint.frame
    best: PrnuMatch | None = None
    for turns in (0, 2, 1, 3):  # as stored, upside down, then the two quarter turns
        rows, cols = np.rot90(questioned.luma, turns).shape
        if (cols, rows) == (width, height):  # the whole frame: the pattern lines up at shift 0
            product = questioned.product(turns, fingerprint.box)
            pce, _, correlation = _pce(product, fingerprint.pattern, (0, 0))
            shift = (0, 0)
        elif cols <= width and rows <= height:  # a crop of the frame: search every position
            framed = np.zeros((height, width), np.float32)
            left, top, right, bottom = fingerprint.box
            framed[top:bottom, left:right] = fingerprint.pattern
            partial = None if fingerprint.box == (0, 0, width, height) else fingerprint.box
            pce, shift, correlation = _pce(questioned.product(turns, None), framed, (height - rows, width - cols),
                                           partial)
        else:
            continue
        match = PrnuMatch(float(pce), float(correlation), 90 * turns, shift, bool(pce >= PCE_THRESHOLD))
        if best is None or match.pce > best.pce:
            best = match
        if match.same_camera:
            break
    if best is not None and not best.same_camera and _shrunk(questioned.luma.shape, (height, width)):
        best = replace(best, note="smaller than the camera's frame in the same proportions: if it was resized, the "
                                  "pattern no longer lines up and PRNU cannot tell")
    if best is None:
        rows, cols = questioned.luma.shape
        return PrnuMatch(float("nan"), float("nan"), 0, (0, 0), False,
                         f"picture {cols}×{rows} does not fit the fingerprint's {width}×{height} frame in any "
                         "quarter turn (resized?): it cannot be matched")
    return best


def match_fingerprint(source: Source, fingerprint: Fingerprint) -> PrnuMatch:
    """How strongly a picture carries a camera's fingerprint; `same_camera` when PCE ≥ PCE_THRESHOLD.

    Raises PictureError for pictures that cannot be measured (unreadable, smaller than MIN_PRNU_SIZE, flat or
    saturated); a picture of a size that does not fit the frame gets a NaN PCE and a note.
    """
    return _match(_Questioned(source), fingerprint)


def _labelled(fingerprints: Mapping[str, Fingerprint] | Sequence[Fingerprint]) -> list[tuple[str, Fingerprint]]:
    if isinstance(fingerprints, Mapping):
        return list(fingerprints.items())
    return [(fp.label or f"fingerprint {i}", fp) for i, fp in enumerate(fingerprints)]


def identify_camera(source: Source, fingerprints: Mapping[str, Fingerprint] | Sequence[Fingerprint]) -> pd.DataFrame:
    """A picture against every known camera, strongest first: camera, pce, correlation, rotation, shift_x, shift_y,
    same_camera, note. More than one camera above the threshold is a finding to examine, not a tie to break."""
    questioned = _Questioned(source)
    rows = []
    for label, fingerprint in _labelled(fingerprints):
        m = _match(questioned, fingerprint)
        rows.append({"camera": label, "pce": m.pce, "correlation": m.correlation, "rotation": m.rotation,
                     "shift_x": m.shift[0], "shift_y": m.shift[1], "same_camera": m.same_camera, "note": m.note})
    table = pd.DataFrame(rows, columns=["camera", "pce", "correlation", "rotation", "shift_x", "shift_y",
                                        "same_camera", "note"])
    return table.sort_values("pce", ascending=False, na_position="last", kind="stable").reset_index(drop=True)


CAMERA_COLUMNS = ("path", "camera", "pce", "correlation", "rotation", "runner_up", "runner_up_pce", "cameras_matched",
                  "note", "error")


def camera_table(paths: Iterable[PathLike], fingerprints: Mapping[str, Fingerprint] | Sequence[Fingerprint],
                 progress: bool | None = None) -> pd.DataFrame:
    """One row per file: the best-matching camera when its PCE reaches the threshold (else camera is None), its
    PCE and the runner-up's, how many cameras matched; ``error`` for files that cannot be measured."""
    paths = list(paths)
    rows = []
    with progress_bar(progress, len(paths), "PRNU") as bar:
        for path in paths:
            row: dict[str, Any] = dict.fromkeys(CAMERA_COLUMNS)
            row["path"] = os.fspath(path)
            try:
                ranked = identify_camera(path, fingerprints)
                best = ranked.iloc[0]
                row.update(camera=best["camera"] if best["same_camera"] else None, pce=best["pce"],
                           correlation=best["correlation"], rotation=int(best["rotation"]),
                           cameras_matched=int(ranked["same_camera"].sum()), note=best["note"] or None)
                if len(ranked) > 1:
                    row.update(runner_up=ranked.iloc[1]["camera"], runner_up_pce=ranked.iloc[1]["pce"])
            except Exception as exc:  # noqa: BLE001 - one bad file is a row, not a crashed batch
                row["error"] = short_error(exc)
            rows.append(row)
            bar.update()
    return _table(rows, CAMERA_COLUMNS, {"pce": "float64", "correlation": "float64", "rotation": "Int64",
                                         "runner_up_pce": "float64", "cameras_matched": "Int64"})
