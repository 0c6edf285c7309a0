"""Was a picture changed after the camera wrote it? Error level analysis and the EXIF thumbnail against the image.

Both are screening aids. They point at places to look; neither proves or excludes an edit on its own, and a finding
goes into a report with the figures and the settings that produced it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageOps
from scipy import ndimage, optimize, signal

from vidlab.camera import table_summary
from vidlab.enhance import open_picture
from vidlab.evidence import progress_bar, short_error
from vidlab.metadata import quantisation_tables, thumbnail_bytes

__all__ = [
    "ErrorLevels",
    "error_level_analysis",
    "ThumbnailCheck",
    "compare_thumbnail",
    "compare_thumbnail_images",
    "thumbnail_table",
    "THUMBNAIL_COLUMNS",
    "SAME_PICTURE",
]

PathLike = str | os.PathLike[str]

# --------------------------------------------------------------------------- error level analysis


@dataclass(frozen=True)
class ErrorLevels:
    """Per-pixel error levels of a picture re-saved at `quality`, as stored (not turned upright)."""

    difference: np.ndarray  # float32, H×W: largest absolute difference over R, G, B, in grey levels
    quality: int
    image: Image.Image  # the difference amplified for viewing (L mode), turned upright like the picture

    def region_ratio(self, box: tuple[int, int, int, int]) -> float:
        """Mean error level inside box (left, top, right, bottom, stored pixels) over the mean outside it."""
        left, top, right, bottom = box
        inside = np.zeros(self.difference.shape, bool)
        inside[top:bottom, left:right] = True
        if not inside.any() or inside.all():
            raise ValueError(f"box {box} must cover part of the {self.difference.shape[1]}×"
                             f"{self.difference.shape[0]} picture, not none or all of it")
        outside = float(self.difference[~inside].mean())
        return float(self.difference[inside].mean()) / outside if outside > 0 else float("inf")


def _resaved(picture: Image.Image, quality: int) -> np.ndarray:
    """The picture after one JPEG round at `quality`, with 4:2:0 chroma as most encoders write it."""
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality, subsampling=2)
    with Image.open(buffer) as again:
        return np.asarray(again.convert("RGB"), dtype=np.float32)


def error_level_analysis(source: PathLike | Image.Image, quality: int | None = None,
                         amplify: float | None = None) -> ErrorLevels:
    """Re-save a picture as JPEG at `quality` and measure how far each pixel moves.

    A JPEG saved repeatedly at one quality settles: re-saving it again changes little. A region pasted in from
    elsewhere (or retouched) before the last save has been through fewer rounds and moves more, so it shows
    brighter. `quality` defaults to the file's own (IJG-equivalent of its tables), where that contrast is strongest;
    90 for other pictures. `amplify` scales the difference for viewing (default: its 99.5th percentile becomes white).

    Caveats, to state with any result: edges, fine texture and text always show higher levels than flat areas, so
    compare like with like (a bright wall beside an equally bright wall); a picture re-saved many times, resized or
    re-shared by a platform levels out and hides earlier edits; a pasted region saved at the same settings as the
    rest after several rounds may not stand out; saturated and very dark areas show little whatever happened. A
    bright region is a reason to look closer, never a finding on its own.
    """
    if isinstance(source, Image.Image):
        picture = source
    else:
        picture = open_picture(source, upright=False)
        tables = quantisation_tables(source) if quality is None else {}
        if tables:
            quality = table_summary(tables).quality
    quality = 90 if quality is None else quality
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be 1–100, got {quality}")
    rgb = picture.convert("RGB")
    difference = np.abs(np.asarray(rgb, dtype=np.float32) - _resaved(rgb, quality)).max(axis=2)
    scale = amplify if amplify is not None else 255.0 / max(float(np.percentile(difference, 99.5)), 1.0)
    shown = Image.fromarray(np.clip(difference * scale, 0, 255).astype(np.uint8))
    orientation = picture.getexif().get(0x0112)
    if orientation in range(2, 9):  # the same turn a viewer gives the picture (ImageOps.exif_transpose)
        shown.getexif()[0x0112] = orientation
        shown = ImageOps.exif_transpose(shown)
    return ErrorLevels(difference, quality, shown)


# --------------------------------------------------------------------------- thumbnail against image

#: Normalised correlation from which the thumbnail and the image count as the same picture. On the generator's
#: photos: the same picture 0.96–0.997 (cropped or not), with a pasted patch 0.87+, another scene ≤ 0.73.
SAME_PICTURE = 0.8
#: Share of the thumbnail's frame the image must cover (each way) to count as not cropped.
UNCROPPED = 0.97
#: Mean absolute difference over 6×6 thumbnail pixels (grey levels) above which a region counts as changed. Real
#: camera originals (the exif-samples collection, 40 files with thumbnails) stay below 27, the generator's photos
#: below 13; a pasted patch that differs from what it covers reaches 60+ (one that looks like it cannot show).
CHANGED = 40.0
MIN_THUMBNAIL = 16
#: Correlation at which the whole image, shrunk to the thumbnail, is taken as found (no narrower crops tried).
WHOLE_PICTURE = 0.9
REFINE_BLUR = 0.6  # Gaussian sigma (thumbnail pixels) on both sides while fitting the image's place
DIFFERENCE_BLUR = 1.0  # … and added before comparing them


@dataclass(frozen=True)
class ThumbnailCheck:
    """What the EXIF thumbnail says about the image.

    verdict: "consistent" (same picture, same framing), "cropped" (the thumbnail shows more than the image),
    "edited" (same framing but a region differs), "different picture", "no thumbnail", "unreadable thumbnail" or
    "cannot compare" (too small or a single colour).
    crop_box: where the image lies in the thumbnail (left, top, right, bottom as fractions of its frame);
    original_box / original_size: the same in the image's own pixel scale, i.e. where the image sat in the
    original picture and how big that was (assuming the image was cropped but not resized).
    """

    verdict: str
    similarity: float | None = None
    rotation: int = 0  # degrees anticlockwise the thumbnail was turned to match the image as stored
    crop_box: tuple[float, float, float, float] | None = None
    original_box: tuple[int, int, int, int] | None = None
    original_size: tuple[int, int] | None = None
    changed_box: tuple[int, int, int, int] | None = None  # in the image's pixels, for "edited"
    thumbnail: Image.Image | None = None  # as turned to match
    difference: Image.Image | None = None  # |thumbnail − image| at thumbnail scale, amplified ×4, inside crop_box
    note: str = ""

    def marked(self) -> Image.Image | None:
        """The thumbnail with the image's place outlined in red (None without a thumbnail)."""
        if self.thumbnail is None:
            return None
        marked = self.thumbnail.convert("RGB")
        if self.crop_box is not None:
            w, h = marked.size
            left, top, right, bottom = self.crop_box
            ImageDraw.Draw(marked).rectangle((left * w, top * h, right * w - 1, bottom * h - 1), outline=(255, 0, 0))
        return marked


def _grey(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.float32)


def _leading(flags: np.ndarray) -> int:
    """How many flags are set before the first unset one (0 when all are set: no picture, no bar)."""
    return 0 if flags.all() else int(np.argmin(flags))


def _without_bars(thumb: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The thumbnail without black bars that letterbox a picture of another aspect, and the bars' sizes
    (left, top, right, bottom)."""
    rows = (thumb.max(axis=1) < 24) & (thumb.std(axis=1) < 3)
    cols = (thumb.max(axis=0) < 24) & (thumb.std(axis=0) < 3)
    top, bottom, left, right = _leading(rows), _leading(rows[::-1]), _leading(cols), _leading(cols[::-1])
    height, width = thumb.shape
    if height - top - bottom < height // 2 or width - left - right < width // 2:
        return thumb, (0, 0, 0, 0)
    return thumb[top:height - bottom, left:width - right], (left, top, right, bottom)


def _ncc_map(area: np.ndarray, template: np.ndarray) -> np.ndarray:
    """Normalised cross-correlation of template at every position where it fits inside area."""
    th, tw = template.shape
    t = template - template.mean()
    t_norm = float(np.sqrt((t * t).sum()))
    if t_norm == 0:
        return np.zeros((area.shape[0] - th + 1, area.shape[1] - tw + 1))
    sums = signal.fftconvolve(area, t[::-1, ::-1], mode="valid")
    window = np.ones((th, tw))
    local = signal.fftconvolve(area, window, mode="valid")
    local_sq = signal.fftconvolve(area * area, window, mode="valid")
    variance = np.maximum(local_sq - local * local / (th * tw), 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(variance > 1e-6, sums / (np.sqrt(variance) * t_norm), 0.0)


def _sampled(thumb: np.ndarray, shape: tuple[int, int], params: np.ndarray) -> np.ndarray:
    """The thumbnail sampled on a template's pixel grid: template pixel (u, v) sits at
    (x0 + (u + 0.5)·kx − 0.5, y0 + (v + 0.5)·ky − 0.5) in thumbnail pixels."""
    x0, y0, kx, ky = params
    rows, cols = shape
    ys = y0 + (np.arange(rows) + 0.5) * ky - 0.5
    xs = x0 + (np.arange(cols) + 0.5) * kx - 0.5
    return ndimage.map_coordinates(thumb, np.meshgrid(ys, xs, indexing="ij"), order=1, mode="nearest")


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / norm) if norm > 0 else 0.0


def _best_position(thumb: np.ndarray, image: Image.Image, width: int) -> tuple[float, int, int, np.ndarray]:
    """(similarity, x, y, template) of the image shrunk to `width` thumbnail pixels, at its best place."""
    template = _grey(image.resize((width, max(2, round(width * image.height / image.width))), Image.Resampling.BOX))
    if template.shape[0] > thumb.shape[0]:
        return -1.0, 0, 0, template
    scores = _ncc_map(thumb, template)
    y, x = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return float(scores[y, x]), int(x), int(y), template


def _placement(thumb: np.ndarray, image: Image.Image) -> tuple[float, np.ndarray, np.ndarray]:
    """Best (similarity, [x0, y0, kx, ky], template) placing the image, shrunk, inside the thumbnail: template
    widths from all of the thumbnail's down to a third of it (every third width, then the best's neighbours),
    then position and scale refined to a fraction of a thumbnail pixel on a template of twice the resolution."""
    height, width = thumb.shape
    widest = min(width, int(height * image.width / image.height))
    narrowest = max(MIN_THUMBNAIL // 2, width // 3)
    if widest < narrowest:
        return -1.0, np.zeros(4), np.zeros((1, 1))
    tried = {widest: _best_position(thumb, image, widest)}
    if tried[widest][0] < WHOLE_PICTURE:  # not simply the whole picture: try narrower templates
        tried |= {w: _best_position(thumb, image, w) for w in range(widest - 3, narrowest - 1, -3)}
    top = max(tried, key=lambda w: tried[w][0])
    tried |= {w: _best_position(thumb, image, w) for w in range(max(narrowest, top - 2), min(widest, top + 2) + 1)
              if w not in tried}
    chosen = max(tried, key=lambda w: tried[w][0])
    score, x, y, template = tried[chosen]
    # sub-pixel refinement of position and scale; a slight blur of both sides evens out their different
    # downscaling filters (the camera's and ours), which otherwise pull the fit by up to a pixel
    thumb, template = ndimage.gaussian_filter(thumb, REFINE_BLUR), ndimage.gaussian_filter(template, REFINE_BLUR)
    start = np.array([x, y, 1.0, 1.0])  # left and top edges of the template, thumbnail pixels per template pixel
    simplex = np.vstack([start, start + np.diag([0.5, 0.5, 0.02, 0.02])])
    result = optimize.minimize(lambda p: -_ncc(_sampled(thumb, template.shape, p), template), start,
                               method="Nelder-Mead",
                               options={"xatol": 0.01, "fatol": 1e-6, "maxiter": 400, "initial_simplex": simplex})
    params = result.x if -result.fun > _ncc(_sampled(thumb, template.shape, start), template) else start
    return score, params, template


def compare_thumbnail_images(thumbnail: Image.Image, image: Image.Image,
                             image_size: tuple[int, int] | None = None) -> ThumbnailCheck:
    """Compare an EXIF thumbnail with its image (both as stored; `image` may be a reduced decode of a picture
    whose real size is `image_size`): the same picture? the same framing? a region changed?"""
    size = image_size or image.size
    if min(thumbnail.size) < MIN_THUMBNAIL or min(image.size) < MIN_THUMBNAIL:
        return ThumbnailCheck("cannot compare", note=f"thumbnail {thumbnail.size} or image {image.size} too "
                              f"small to compare (at least {MIN_THUMBNAIL} pixels a side)")
    grey = _grey(thumbnail)
    if grey.std() < 1 or _grey(image).std() < 1:
        return ThumbnailCheck("cannot compare", thumbnail=thumbnail,
                              note="thumbnail or image is a single colour: nothing to compare")
    limit = 4 * max(thumbnail.size)
    if max(image.size) > limit:  # matching happens at thumbnail scale: shrink once, up front
        image = image.copy()
        image.thumbnail((limit, limit), Image.Resampling.BOX)
    best: tuple[float, int, np.ndarray, np.ndarray, np.ndarray, tuple[int, int, int, int]] | None = None
    for turns in (0, 1, 3, 2):
        trimmed, bars = _without_bars(np.ascontiguousarray(np.rot90(grey, turns)))
        score, params, template = _placement(trimmed, image)
        if best is None or score > best[0]:
            best = (score, turns, params, template, trimmed, bars)
        if score >= WHOLE_PICTURE:
            break
    score, turns, params, template, trimmed, bars = best
    turned = thumbnail.rotate(90 * turns, expand=True)
    if score < SAME_PICTURE:
        return ThumbnailCheck("different picture", score, 90 * turns, thumbnail=turned,
                              note=f"best correlation {score:.2f} < {SAME_PICTURE}: the thumbnail shows another "
                                   "picture")
    x0, y0, kx, ky = params
    rows, cols = template.shape
    tw, th = turned.size
    box = (bars[0] + x0, bars[1] + y0, bars[0] + x0 + cols * kx, bars[1] + y0 + rows * ky)
    crop_box = (box[0] / tw, box[1] / th, box[2] / tw, box[3] / th)
    per_px = (size[0] / (cols * kx), size[1] / (rows * ky))  # image pixels per thumbnail pixel
    original_box = (round(x0 * per_px[0]), round(y0 * per_px[1]),
                    round(x0 * per_px[0]) + size[0], round(y0 * per_px[1]) + size[1])
    original_size = (round(trimmed.shape[1] * per_px[0]), round(trimmed.shape[0] * per_px[1]))
    # local differences at thumbnail scale, brightness matched; a little more blur on both sides lets the cameras'
    # own thumbnail filters (sharpening, other downscaling) pass as unchanged
    seen = ndimage.gaussian_filter(_sampled(ndimage.gaussian_filter(trimmed, REFINE_BLUR), template.shape, params),
                                   DIFFERENCE_BLUR)
    template = ndimage.gaussian_filter(template, DIFFERENCE_BLUR)
    gain, offset = np.polyfit(template.ravel(), seen.ravel(), 1)
    diff = np.abs(seen - (gain * template + offset))
    local = ndimage.uniform_filter(diff, 6)  # mean over 6×6 thumbnail pixels
    difference = Image.fromarray(np.clip(diff * 4, 0, 255).astype(np.uint8))
    cropped = (box[2] - box[0]) < UNCROPPED * trimmed.shape[1] or (box[3] - box[1]) < UNCROPPED * trimmed.shape[0]
    changed_box = None
    ys, xs = np.nonzero(local > CHANGED)
    if len(ys):
        scale = (size[0] / cols, size[1] / rows)
        changed_box = (int(xs.min() * scale[0]), int(ys.min() * scale[1]),
                       int((xs.max() + 1) * scale[0]), int((ys.max() + 1) * scale[1]))
    verdict = "cropped" if cropped else ("edited" if changed_box else "consistent")
    notes = []
    if cropped:
        shown = (box[2] - box[0]) * (box[3] - box[1]) / (trimmed.shape[0] * trimmed.shape[1])
        notes.append(f"the image shows {shown:.0%} of the thumbnail's picture")
    if changed_box:
        notes.append(f"a region differs from the thumbnail (up to {local.max():.0f} grey levels over 6×6 thumbnail "
                     f"pixels, threshold {CHANGED:g}): changed_box")
    return ThumbnailCheck(verdict, score, 90 * turns, crop_box, original_box, original_size, changed_box, turned,
                          difference, "; ".join(notes))


def compare_thumbnail(path: PathLike) -> ThumbnailCheck:
    """The EXIF (IFD1) thumbnail of a file against its image; the file is only read."""
    data = thumbnail_bytes(path)
    if data is None:
        return ThumbnailCheck("no thumbnail", note="no EXIF thumbnail (IFD1) in the file")
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            thumbnail = im.convert("RGB")
    except Exception as exc:  # noqa: BLE001 - a damaged thumbnail is a finding, not a crash
        return ThumbnailCheck("unreadable thumbnail", note=f"the thumbnail cannot be decoded: {exc}")
    return compare_thumbnail_images(thumbnail, open_picture(path, upright=False))


THUMBNAIL_COLUMNS = ("path", "verdict", "similarity", "rotation", "original_box", "original_size", "changed_box",
                     "note", "error")


def thumbnail_table(paths: Iterable[PathLike], progress: bool | None = None) -> pd.DataFrame:
    """compare_thumbnail for many files, one row each (boxes as "left,top,right,bottom" text); an ``error`` for
    files whose image cannot be decoded. Never raises for one file."""
    paths = list(paths)
    rows = []
    with progress_bar(progress, len(paths), "thumbnails") as bar:
        for path in paths:
            row: dict[str, object] = dict.fromkeys(THUMBNAIL_COLUMNS)
            row["path"] = os.fspath(path)
            try:
                check = compare_thumbnail(path)
                row.update(verdict=check.verdict, similarity=check.similarity, rotation=check.rotation,
                           note=check.note or None)
                for column in ("original_box", "original_size", "changed_box"):
                    value = getattr(check, column)
                    row[column] = ",".join(map(str, value)) if value is not None else None
            except Exception as exc:  # noqa: BLE001 - one bad file is a row, not a crashed batch
                row["error"] = short_error(exc)
            rows.append(row)
            bar.update()
    table = pd.DataFrame({c: pd.Series([row[c] for row in rows], dtype=object) for c in THUMBNAIL_COLUMNS})
    return table.astype({"similarity": "float64", "rotation": "Int64"})
