"""What happens to a photo after the camera: re-sharing platforms, an editor's crop, a phone screenshot."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, replace

from PIL import Image, ImageOps

from synthetic_data.devices import ANNEX_K_CHROMINANCE, ANNEX_K_LUMINANCE, scaled_table
from synthetic_data.draw import phone_status_bar
from synthetic_data.exif import ShotMetadata, shot_exif, with_thumbnail

EDITOR = "PhotoTrim 3.2"  # a fictional photo editor: keeps EXIF, crops, forgets to redraw the thumbnail
EDITOR_QUALITY = 92


@dataclass(frozen=True)
class Platform:
    """A re-sharing service: how far it shrinks photos, its encoder settings, and what EXIF survives."""

    name: str
    long_side: int
    quality: int  # its encoder's IJG quality: plain libjpeg tables, unlike any camera's own
    progressive: bool
    keeps_camera: bool  # keeps the camera's EXIF but its serial, GPS and thumbnail (Orientation and size rewritten); else strips all


PLATFORM_SPECS = {
    "chatapp": Platform("chatapp", 1600, 75, False, False),
    "socialnet": Platform("socialnet", 2048, 85, True, False),
    "messenger": Platform("messenger", 2560, 87, False, False),
    "forum": Platform("forum", 1280, 90, False, True),
}


def ijg_qtables(quality: int) -> list[list[int]]:
    """libjpeg's standard tables at a quality: what most web services and editors encode with."""
    return [scaled_table(ANNEX_K_LUMINANCE, quality), scaled_table(ANNEX_K_CHROMINANCE, quality)]


def upright(data: bytes, fit: int | None = None) -> Image.Image:
    """Decode a JPEG the way a service or viewer shows it: rotated by its Orientation, at most `fit` pixels long
    (decoding at a reduced DCT scale first when that is far smaller, as libjpeg-based services do)."""
    image = Image.open(io.BytesIO(data))
    if fit is not None and max(image.size) > 2 * fit:
        image.draft("RGB", (fit, fit))
    image = image.convert("RGB") if image.mode != "RGB" else image
    ImageOps.exif_transpose(image, in_place=True)  # in place: no copy of the (usual) picture already upright
    if fit is not None and max(image.size) > fit:
        scale = fit / max(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BILINEAR)
    return image


def encode(image: Image.Image, quality: int, progressive: bool = False, exif: bytes = b"") -> bytes:
    """A JPEG with standard tables at a quality, 4:2:0 as services send them."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", qtables=ijg_qtables(quality), subsampling=2, progressive=progressive, exif=exif)
    return buffer.getvalue()


def reshare(original: bytes, platform: Platform, meta: ShotMetadata) -> tuple[bytes, tuple[int, int]]:
    """A photo as a platform delivers it: upright, shrunk to its limit, re-encoded with its tables, EXIF stripped
    (or, on a forum, kept without serial, GPS and thumbnail); returns the bytes and the delivered size."""
    image = upright(original, platform.long_side)
    exif = b""
    if platform.keeps_camera:
        kept = shot_exif(replace(meta, orientation=1, width=image.width, height=image.height, gps=None, serial=""))
        exif = kept.tobytes()
    return encode(image, platform.quality, platform.progressive, exif), image.size


def edited(original: bytes, meta: ShotMetadata, thumbnail: bytes, crop: tuple[float, float, float, float]
           ) -> tuple[bytes, tuple[int, int, int, int]]:
    """An editor's crop of a photo: EXIF kept and marked with the editor, but the IFD1 thumbnail still shows the
    uncropped original (the editor did not redraw it); returns the bytes and the crop box in upright pixels."""
    image = upright(original)
    left, top, right, bottom = crop
    box = (round(left * image.width), round(top * image.height), round(right * image.width), round(bottom * image.height))
    cut = image.crop(box)
    exif = shot_exif(replace(meta, software=EDITOR, orientation=1, width=cut.width, height=cut.height)).tobytes()
    return encode(cut, EDITOR_QUALITY, exif=with_thumbnail(exif, thumbnail)), box


def screenshot(original: bytes, screen: tuple[int, int], clock: str, rng: random.Random
               ) -> tuple[bytes, tuple[int, int, int, int]]:
    """A phone screenshot of the photo shown full width on a dark viewer, with the status bar: a PNG without EXIF;
    returns the bytes and where the photo sits on the screen."""
    photo = upright(original, screen[0])
    if photo.width != screen[0]:
        scale = screen[0] / photo.width
        photo = photo.resize((screen[0], round(photo.height * scale)), Image.Resampling.BILINEAR)
    canvas = Image.new("RGB", screen, (12, 12, 14))
    top = (screen[1] - photo.height) // 2
    canvas.paste(photo, (0, top))
    phone_status_bar(canvas, clock, rng.uniform(0.15, 1.0))
    buffer = io.BytesIO()
    canvas.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue(), (0, top, photo.width, top + photo.height)
