"""Enhancing a picture to read a clue: levels, gamma, histogram equalisation, sharpening, zoom, perspective.

What enhancement may claim. Every function here re-maps the brightness of pixels that were captured, or
interpolates between them; none adds information. Levels, gamma and equalisation make existing differences of
brightness easier to see; sharpening exaggerates existing edges (and the noise and JPEG blocks with them); zoom
fills new pixels with values computed from their neighbours, so a zoomed number plate shows no digit that the
original pixels did not already hold. A reading that needs the enhancement to "decide" a character is a lead, not a
finding: report the original next to the enhanced copy and the steps with their settings (the functions are
deterministic, so the same steps on the same file give the same pixels).

All functions are pure: they take a PIL image or a numpy array (H×W greyscale or H×W×3 RGB, uint8) and return a new
one of the same kind; nothing is written anywhere. ``open_picture`` reads a file read-only for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from vidlab.evidence import open_readonly
from vidlab.formats import picture_formats, refuse_bomb

__all__ = [
    "PictureError",
    "open_picture",
    "mean_brightness",
    "levels",
    "adjust_gamma",
    "equalise",
    "clahe",
    "unsharp_mask",
    "zoom",
    "INTERPOLATIONS",
    "homography",
    "rectify",
]

PathLike = str | os.PathLike[str]
Picture = TypeVar("Picture", Image.Image, np.ndarray)

#: Interpolation for zoom and rectification: nearest keeps the pixels' blocks honest (nothing in between is
#: invented), bilinear and bicubic smooth, lanczos is sharpest and may ring next to hard edges.
INTERPOLATIONS: dict[str, Image.Resampling] = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


class PictureError(ValueError):
    """A file or array that cannot be used as a picture: empty, not an image, truncated, too small, wrong shape."""


# --------------------------------------------------------------------------- reading


def open_picture(path: PathLike, upright: bool = True, grey: bool = False) -> Image.Image:
    """A file's picture, fully decoded (RGB or L), read-only. `upright` applies EXIF Orientation as viewers do;
    False keeps the pixels as stored, in the sensor's orientation (what camera identification needs). `grey`
    gives brightness only (L): for a JPEG its own luma plane, decoded without colour conversion (twice as fast)."""
    with open_readonly(path) as f:
        if os.fstat(f.fileno()).st_size == 0:
            raise PictureError(f"{os.fspath(path)}: empty file (0 bytes)")
        try:
            with Image.open(f, formats=picture_formats()) as im:
                if grey and im.format == "JPEG":
                    im.draft("L", im.size)  # same size: only the colour conversion is skipped
                refuse_bomb(im)
                im.load()
                picture = ImageOps.exif_transpose(im) if upright else im.copy()
        except UnidentifiedImageError:
            raise PictureError(f"{os.fspath(path)}: not a picture in a format we open "
                               f"({', '.join(picture_formats())})") from None
        except Image.DecompressionBombError as exc:
            raise PictureError(f"{os.fspath(path)}: {exc}") from None
        except (OSError, SyntaxError, ValueError) as exc:  # Pillow's words for truncated and damaged image data
            raise PictureError(f"{os.fspath(path)}: damaged or truncated picture ({exc})") from None
    if grey:
        return picture if picture.mode == "L" else picture.convert("L")
    return picture if picture.mode in ("RGB", "L") else picture.convert("RGB")


def _as_array(picture: Image.Image | np.ndarray) -> np.ndarray:
    """The pixels as a uint8 array, H×W or H×W×3; a clear error for anything else."""
    if isinstance(picture, Image.Image):
        array = np.asarray(picture if picture.mode in ("RGB", "L") else picture.convert("RGB"))
    else:
        array = np.asarray(picture)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3) or array.dtype != np.uint8:
        raise PictureError(f"expected H×W or H×W×3 uint8 pixels, got shape {array.shape} of {array.dtype}")
    if array.shape[0] < 1 or array.shape[1] < 1:
        raise PictureError(f"empty picture: shape {array.shape}")
    return array


def _like(pixels: np.ndarray, original: Picture) -> Picture:
    """Pixels (any real dtype, 0–255) back as uint8 in the caller's kind: PIL image in, PIL image out."""
    out = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    return Image.fromarray(out) if isinstance(original, Image.Image) else out


def _as_image(picture: Image.Image | np.ndarray) -> Image.Image:
    return Image.fromarray(_as_array(picture))


# --------------------------------------------------------------------------- brightness


def mean_brightness(path: PathLike) -> float:
    """Mean grey level (0 black, 255 white) from a draft decode at about 1/8 size: finds dark shots fast.

    NaN when the file is not a picture we can open, so a batch over a whole case never stops.
    """
    try:
        with open_readonly(path) as f, Image.open(f, formats=picture_formats()) as im:
            im.draft("L", (max(1, im.width // 8), max(1, im.height // 8)))
            refuse_bomb(im)
            return float(np.asarray(im.convert("L")).mean())
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        return float("nan")


def levels(picture: Picture, black: float | None = None, white: float | None = None, gamma: float = 1.0,
           clip_percent: float = 0.5) -> Picture:
    """Stretch [black, white] to the full 0–255 range (values outside are clipped), then apply `gamma`.

    A point left as None is taken from the picture: the darkest/brightest `clip_percent` % of its values are let go
    to black/white (an auto-levels). Channels share the points, so colours keep their balance.
    """
    pixels = _as_array(picture).astype(np.float32)
    low = float(np.percentile(pixels, clip_percent)) if black is None else float(black)
    high = float(np.percentile(pixels, 100 - clip_percent)) if white is None else float(white)
    if not high > low:
        raise PictureError(f"white point ({high:g}) must be above black point ({low:g}): "
                           "a single-colour picture has no range to stretch")
    stretched = np.clip((pixels - low) / (high - low), 0.0, 1.0)
    return _like(255.0 * _gamma_curve(stretched, gamma), picture)


def _gamma_curve(unit: np.ndarray, gamma: float) -> np.ndarray:
    if not gamma > 0:
        raise PictureError(f"gamma must be positive, got {gamma}")
    return unit ** (1.0 / gamma)


def adjust_gamma(picture: Picture, gamma: float) -> Picture:
    """Brighten (gamma > 1) or darken (gamma < 1) the mid-tones, black and white unchanged: out = in^(1/gamma),
    as the middle slider of a levels dialogue."""
    return _like(255.0 * _gamma_curve(_as_array(picture) / 255.0, gamma), picture)


def _equalised_lut(histogram: np.ndarray) -> np.ndarray:
    """A 256-entry look-up table that flattens a histogram (its cumulative distribution, stretched to 0–255)."""
    cdf = np.cumsum(histogram, dtype=np.float64)
    first = cdf[np.argmax(cdf > 0)]
    span = cdf[-1] - first
    if span <= 0:  # one grey value only: nothing to spread
        return np.arange(256, dtype=np.float64)
    return np.clip((cdf - first) / span * 255.0, 0, 255)


def _on_luminance(picture: Picture, remap: Callable[[np.ndarray], np.ndarray]) -> Picture:
    """Apply a brightness remapping to the luminance only (colour pictures keep their hue and saturation)."""
    pixels = _as_array(picture)
    if pixels.ndim == 2:
        return _like(remap(pixels), picture)
    ycc = np.asarray(Image.fromarray(pixels).convert("YCbCr")).copy()
    ycc[..., 0] = np.clip(np.rint(remap(ycc[..., 0])), 0, 255).astype(np.uint8)
    return _like(np.asarray(Image.fromarray(ycc, "YCbCr").convert("RGB")), picture)


def equalise(picture: Picture) -> Picture:
    """Global histogram equalisation of the luminance: the grey levels in use are spread evenly over 0–255, which
    pulls detail out of a picture that is dim or flat overall (and exaggerates noise in flat areas)."""
    def remap(luma: np.ndarray) -> np.ndarray:
        return _equalised_lut(np.bincount(luma.ravel(), minlength=256))[luma]
    return _on_luminance(picture, remap)


def _tile_weights(length: int, tiles: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each pixel along one axis: the tile centres before and after it and its weight towards the second."""
    position = np.clip((np.arange(length) + 0.5) / (length / tiles) - 0.5, 0, tiles - 1)
    before = np.minimum(position.astype(int), max(tiles - 2, 0))
    return position - before, before, np.minimum(before + 1, tiles - 1)


def clahe(picture: Picture, tiles: tuple[int, int] = (8, 8), clip_limit: float = 2.0) -> Picture:
    """Contrast-limited adaptive histogram equalisation (Zuiderveld 1994) of the luminance: each of rows×columns
    `tiles` is equalised on its own histogram, so a dark corner and a bright window are each stretched by what they
    hold, not by the whole picture's histogram; the tiles' mappings are blended bilinearly, so no seams show. Each
    histogram is first clipped at `clip_limit` × its mean bin count (the excess spread over all bins), which caps
    the stretch of any grey step at about `clip_limit` times: a flat, noisy wall stays a wall, where global
    equalisation would blow its noise up to the full range. Raise clip_limit (4–8) for stronger local contrast."""
    rows, cols = tiles
    if rows < 1 or cols < 1 or clip_limit <= 0:
        raise PictureError(f"tiles must be at least 1×1 and clip_limit positive, got {tiles} and {clip_limit}")

    def remap(luma: np.ndarray) -> np.ndarray:
        height, width = luma.shape
        if height < rows or width < cols:
            raise PictureError(f"picture {width}×{height} is smaller than {cols}×{rows} tiles")
        ys = np.linspace(0, height, rows + 1).astype(int)
        xs = np.linspace(0, width, cols + 1).astype(int)
        luts = np.empty((rows, cols, 256))
        for r in range(rows):
            for c in range(cols):
                hist = np.bincount(luma[ys[r]:ys[r + 1], xs[c]:xs[c + 1]].ravel(), minlength=256).astype(np.float64)
                limit = max(clip_limit * hist.sum() / 256, 1.0)
                excess = np.maximum(hist - limit, 0).sum()
                luts[r, c] = _equalised_lut(np.minimum(hist, limit) + excess / 256)
        # each pixel blends the mappings of the (up to) four tiles whose centres surround it
        fy, y0, y1 = _tile_weights(height, rows)
        fx, x0, x1 = _tile_weights(width, cols)
        wy, wx = fy[:, None], fx[None, :]
        top = luts[y0[:, None], x0[None, :], luma] * (1 - wx) + luts[y0[:, None], x1[None, :], luma] * wx
        bottom = luts[y1[:, None], x0[None, :], luma] * (1 - wx) + luts[y1[:, None], x1[None, :], luma] * wx
        return top * (1 - wy) + bottom * wy

    return _on_luminance(picture, remap)


# --------------------------------------------------------------------------- sharpness and size


def unsharp_mask(picture: Picture, radius: float = 2.0, amount: float = 1.0, threshold: int = 3) -> Picture:
    """Sharpen: add `amount` × (picture − its Gaussian blur of `radius` px) where that difference exceeds
    `threshold` grey levels (so flat, noisy areas are left alone). Edges get steeper; no lost detail returns."""
    if radius <= 0 or amount < 0:
        raise PictureError(f"radius must be positive and amount not negative, got {radius} and {amount}")
    sharpened = _as_image(picture).filter(ImageFilter.UnsharpMask(radius, round(amount * 100), threshold))
    return sharpened if isinstance(picture, Image.Image) else np.asarray(sharpened)


def _resampling(method: str) -> Image.Resampling:
    try:
        return INTERPOLATIONS[method]
    except KeyError:
        raise PictureError(f"unknown interpolation {method!r}: choose one of {', '.join(INTERPOLATIONS)}") from None


def zoom(picture: Picture, factor: float, box: Sequence[float] | None = None, method: str = "bicubic") -> Picture:
    """Enlarge (or shrink) `box` (left, top, right, bottom in pixels; default the whole picture) by `factor`, with
    the chosen interpolation (INTERPOLATIONS). The new pixels are computed from their neighbours, nothing more."""
    image = _as_image(picture)
    box = tuple(box) if box is not None else (0, 0, image.width, image.height)
    left, top, right, bottom = box
    if not (0 <= left < right <= image.width and 0 <= top < bottom <= image.height):
        raise PictureError(f"box {box} is not inside the {image.width}×{image.height} picture")
    if factor <= 0:
        raise PictureError(f"zoom factor must be positive, got {factor}")
    size = (max(1, round((right - left) * factor)), max(1, round((bottom - top) * factor)))
    out = image.resize(size, _resampling(method), box=box)
    return out if isinstance(picture, Image.Image) else np.asarray(out)


# --------------------------------------------------------------------------- perspective


def homography(source: Sequence[Sequence[float]], target: Sequence[Sequence[float]]) -> np.ndarray:
    """The 3×3 projective map H (H[2, 2] = 1) taking four source points (x, y) onto four target points, solved as
    the 8×8 linear system of the direct linear transform; an error when three of the points lie on one line."""
    src, dst = np.asarray(source, dtype=np.float64), np.asarray(target, dtype=np.float64)
    if src.shape != (4, 2) or dst.shape != (4, 2):
        raise PictureError(f"need four (x, y) points on each side, got shapes {src.shape} and {dst.shape}")
    for points in (src, dst):
        span = max(float(np.ptp(points)), 1e-12)
        for i, j, k in ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)):
            (ax, ay), (bx, by) = points[j] - points[i], points[k] - points[i]
            if abs(ax * by - ay * bx) < 1e-6 * span * span:
                raise PictureError("the four points do not span a quadrilateral (three of them lie on one line)")
    system, rhs = np.zeros((8, 8)), np.zeros(8)
    for i, ((x, y), (u, v)) in enumerate(zip(src, dst)):
        system[2 * i] = (x, y, 1, 0, 0, 0, -u * x, -u * y)
        system[2 * i + 1] = (0, 0, 0, x, y, 1, -v * x, -v * y)
        rhs[2 * i], rhs[2 * i + 1] = u, v
    return np.append(np.linalg.solve(system, rhs), 1.0).reshape(3, 3)


def rectify(picture: Picture, corners: Sequence[Sequence[float]], size: tuple[int, int] | None = None,
            method: str = "bicubic") -> Picture:
    """Undo perspective: the quadrilateral `corners` (top-left, top-right, bottom-right, bottom-left, in pixel
    coordinates whose integers are pixel centres, as matplotlib shows them) becomes an upright width×height
    rectangle whose corner pixels' centres are those four points. `size` defaults to the mean lengths of opposite
    sides. It makes a sign or a screen square-on; what was too small to read at its far end stays so."""
    points = np.asarray(corners, dtype=np.float64)
    if points.shape != (4, 2):
        raise PictureError(f"need four corners (x, y), got shape {points.shape}")
    if size is None:
        side = lambda a, b: float(np.hypot(*(points[a] - points[b])))  # noqa: E731
        size = (max(2, round((side(0, 1) + side(3, 2)) / 2) + 1), max(2, round((side(0, 3) + side(1, 2)) / 2) + 1))
    width, height = size
    if width < 2 or height < 2:
        raise PictureError(f"output size must be at least 2×2, got {size}")
    # Pillow samples pixel centres at +0.5: both sides are shifted into that continuous frame
    target = np.array([(0, 0), (width - 1, 0), (width - 1, height - 1), (0, height - 1)], dtype=np.float64) + 0.5
    to_source = homography(target, points + 0.5)  # Pillow maps each output pixel back to where it comes from
    image = _as_image(picture)
    out = image.transform((width, height), Image.Transform.PERSPECTIVE, tuple(to_source.ravel()[:8]),
                          _resampling(method))
    return out if isinstance(picture, Image.Image) else np.asarray(out)
