"""Fictional cameras and phones: their EXIF identity, own JPEG quantisation tables, sensor fingerprint and clock."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from statistics import NormalDist
from zoneinfo import ZoneInfo

import numpy as np
from PIL import Image, ImageChops

# The JPEG standard's example tables (ITU-T T.81 Annex K), in natural (row-major) order.
ANNEX_K_LUMINANCE = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)
ANNEX_K_CHROMINANCE = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, *([99] * 32),
)


@dataclass(frozen=True)
class Model:
    """A fictional camera or phone model: what every unit of it writes and how it encodes."""

    make: str
    model: str
    kind: str  # "phone", "compact", "dslr", "action"
    native: tuple[int, int]  # sensor pixels, landscape
    software: tuple[str, ...]  # firmware versions seen in the field
    quality: int  # the IJG quality its own tables sit near
    subsampling: int  # Pillow's numbering: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0
    writes_offset: bool  # records OffsetTime* (phones and newer cameras do)
    has_gps: bool
    serial_prefix: str
    lens: str
    focal_mm: float
    f_number: float
    vignetting: float  # light lost in the corners, 0..1
    prnu: float  # spread of the pixel-to-pixel sensitivity pattern (photo-response non-uniformity)

    @property
    def name(self) -> str:
        return f"{self.make} {self.model}"


# Makes and models are invented; Kestrel, Halden and Orvell also appear in the Day 1 seized sample.
MODELS: tuple[Model, ...] = (
    Model("Orvell", "Nimbus 8", "phone", (4032, 3024), ("NimbusOS 14.2", "NimbusOS 14.3"), 90, 2, True, True, "ON8",
          "Nimbus 8 back camera 4.2mm f/1.8", 4.2, 1.8, 0.25, 0.010),
    Model("Orvell", "Nimbus 9 Pro", "phone", (4032, 3024), ("NimbusOS 15.0", "NimbusOS 15.1"), 93, 2, True, True, "ON9",
          "Nimbus 9 Pro back triple camera 5.1mm f/1.6", 5.1, 1.6, 0.2, 0.008),
    Model("Miyako", "Sora 5", "phone", (4000, 3000), ("SoraUI 5.0.2",), 92, 2, True, True, "MYS5",
          "Sora 5 wide 4.7mm f/1.9", 4.7, 1.9, 0.3, 0.012),
    Model("Sunbird", "A12", "phone", (3264, 2448), ("A12_V1.3", "A12_V1.5"), 84, 2, True, True, "SBA12",
          "A12 rear 3.5mm f/2.2", 3.5, 2.2, 0.4, 0.015),
    Model("Tamarind", "T3 Lite", "phone", (4608, 3456), ("TamarindOS 3.1",), 88, 2, True, True, "TT3",
          "T3 Lite main 4.0mm f/1.8", 4.0, 1.8, 0.3, 0.011),
    Model("Kestrel", "K20", "compact", (4608, 3456), ("K20 Firmware 1.04",), 92, 1, False, False, "K20",
          "Kestrel Zoom 4.5-45mm f/3.2-5.9", 9.0, 3.5, 0.15, 0.007),
    Model("Kestrel", "K30", "compact", (5184, 3888), ("K30 Ver.1.10", "K30 Ver.1.20"), 94, 1, True, False, "K30",
          "Kestrel Zoom 4.3-86mm f/3.3-6.4", 12.0, 4.0, 0.15, 0.007),
    Model("Halden", "D7", "dslr", (6000, 4000), ("D7 Ver.2.10",), 95, 1, False, False, "HD7",
          "Halden 18-55mm f/3.5-5.6", 24.0, 5.6, 0.1, 0.005),
    Model("Halden", "Z5", "dslr", (6000, 4000), ("Z5 Ver.1.30",), 96, 1, True, False, "HZ5",
          "Halden Z 24-70mm f/4", 35.0, 4.0, 0.1, 0.005),
    Model("Veltra", "Action 4", "action", (4000, 3000), ("VA4 v2.0.1",), 86, 2, False, True, "VA4",
          "Veltra fisheye 2.7mm f/2.8", 2.7, 2.8, 0.45, 0.013),
)


@dataclass(frozen=True)
class Device:
    """One unit of a model as the answer key knows it: its serial, firmware, clock and GPS setting."""

    device_id: str
    model: Model
    serial: str
    software: str
    seed: int  # its sensor fingerprint and noise
    clock_tz: str  # the IANA zone its clock is set to (not always where it is used)
    clock_error_s: int  # how far its clock is off, after the zone
    gps: bool  # GPS tagging switched on


def clock_reading(device: Device, instant: datetime) -> datetime:
    """What the device's clock showed at a true instant: its zone's local time plus its error (aware, in the zone
    the device believes it is in)."""
    return instant.astimezone(ZoneInfo(device.clock_tz)) + timedelta(seconds=device.clock_error_s)


def scaled_table(base: tuple[int, ...], quality: int) -> list[int]:
    """The IJG scaling of a base table to a quality (1-100), entries kept in 1..255."""
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (entry * scale + 50) // 100)) for entry in base]


@lru_cache(maxsize=None)
def model_qtables(model: Model) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The model's own luminance and chrominance tables: its quality's IJG tables with a model-specific tweak, so no
    two models (and no plain quality setting) share them — a camera-identification clue."""
    rng = random.Random(f"qtables:{model.name}")
    tables = []
    for base in (ANNEX_K_LUMINANCE, ANNEX_K_CHROMINANCE):
        table = scaled_table(base, model.quality)
        for index in rng.sample(range(1, 64), 12):  # the DC entry (0) stays as scaled
            table[index] = min(255, max(1, table[index] + rng.choice((-1, 1, 2))))
        tables.append(tuple(table))
    return tables[0], tables[1]


def output_size(model: Model, long_side: int | None) -> tuple[int, int]:
    """The pixel size a model writes under a profile's long-side cap (None: the native sensor size)."""
    width, height = model.native
    if long_side is None or long_side >= width:
        return width, height
    return long_side, round(height * long_side / width)


@lru_cache(maxsize=3)
def sensor_gain(seed: int, prnu: float, vignetting: float, size: tuple[int, int]) -> Image.Image:
    """A device's fixed multiplicative pattern at a size: lens vignetting times its PRNU sensor fingerprint, as an
    RGB image whose 255 means gain 1 (ImageChops.multiply applies it). Gain 1 sits at 255 / headroom so positive
    PRNU survives; photo exposure is lifted by the same factor before (see headroom). The product is formed in
    float and rounded once: rounding each factor apart would leave a pattern that every unit of a model shares."""
    width, height = size
    # Uniform random bytes through the inverse normal CDF (at each byte's bin centre) give Gaussian PRNU, far
    # faster than drawing normal variates for every pixel of a 24-megapixel sensor.
    normal = NormalDist()
    sensitivity = np.array([1 + prnu * normal.inv_cdf((k + 0.5) / 256) for k in range(256)], dtype=np.float32)
    uniform = np.random.default_rng(seed).integers(0, 256, (height, width), dtype=np.uint8)
    ys = np.linspace(-1.0, 1.0, 48, dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, 64, dtype=np.float32)[None, :]
    falloff = Image.fromarray(1.0 - vignetting * (xs * xs + ys * ys) / 2.0)  # smooth: draw small, enlarge
    gain = np.asarray(falloff.resize(size, Image.Resampling.BILINEAR), dtype=np.float32) * (255 / headroom(prnu))
    gain *= sensitivity[uniform]
    plane = Image.fromarray(np.clip(np.rint(gain), 0, 255).astype(np.uint8))
    return Image.merge("RGB", (plane, plane, plane))


def headroom(prnu: float) -> float:
    """Gain 1 is stored as 255 / headroom, leaving room for +3 sigma of PRNU."""
    return 1.0 + 3.0 * prnu


GRAIN_SIGMA = 2.5  # grey levels of read and shot noise, fresh in every exposure
GRAIN_REACH = 8  # grain is cut at this many grey levels either way (3.2 sigma)


@lru_cache(maxsize=1)
def grain_table() -> list[int]:
    """Uniform bytes to Gaussian grain cut at +-GRAIN_REACH (inverse normal CDF at bin centres), written modulo 256
    for ImageChops.add_modulo."""
    normal = NormalDist(0, GRAIN_SIGMA)
    return [max(-GRAIN_REACH, min(GRAIN_REACH, round(normal.inv_cdf((k + 0.5) / 256)))) % 256 for k in range(256)]


def within_grain_reach(value: int) -> int:
    """A grey level kept GRAIN_REACH clear of black and white, where add_grain cannot wrap it round."""
    return min(max(value, GRAIN_REACH), 255 - GRAIN_REACH)


def add_grain(picture: Image.Image, rng: random.Random) -> Image.Image:
    """An RGB picture with fresh grain seeded from rng: every call draws new noise, so two exposures (or scenes)
    share none of it and only a device's PRNU is common to its pictures. The grain is in brightness only (phones
    smooth colour noise away; JPEG's halved colour resolution would blur it anyway), and the picture's values must
    be within grain reach (see within_grain_reach; the generator's lighting keeps them so): the add wraps rather
    than clips. Both make it three times faster than full-colour clipped grain."""
    count = picture.width * picture.height
    raw = np.random.PCG64(rng.getrandbits(64)).random_raw(-(-count // 8)).view(np.uint8)[:count]
    grain = Image.frombuffer("L", picture.size, raw, "raw", "L", 0, 1).point(grain_table())
    return ImageChops.add_modulo(picture, Image.merge("RGB", (grain, grain, grain)))
