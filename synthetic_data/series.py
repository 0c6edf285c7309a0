"""Draw and write one series: its scenes once, every shot derived from them, then each of its files in the case.

Runs in a worker process per series (synthetic_data.build); everything random comes from the series' own seed.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from PIL import Image, ImageChops

from synthetic_data import media, signage
from synthetic_data.atlas import Location, location
from synthetic_data.devices import (MODELS, Device, add_grain, clock_reading, headroom, model_qtables, output_size,
                                    sensor_gain, within_grain_reach)
from synthetic_data.draw import (TEXT_FILL, Box, Placement, Setting, calendar_text_box, line_boxes,
                                 render_scene_with_plan, sign_text_box)
from synthetic_data.exif import GpsFix, ShotMetadata, shot_exif, with_thumbnail
from synthetic_data.profiles import ProfileSpec
from synthetic_data.provenance import PLATFORM_SPECS, edited, reshare, screenshot
from synthetic_data.world import DUSK_HAZE, CaseFile, SeriesPlan, Shot, stream
from vidlab.enhance import homography

THUMBNAIL_WIDTH = 160
SCENE_MARGIN = 1.25  # scenes are drawn larger than the photos so close-ups keep their detail
SCENE_CAP = 5000  # ... but no wider: a 6000-pixel camera then enlarges a little, as digital zoom does
MIN_TEXT_PX = 8  # a clue's smallest text line must be this tall in a file to count as readable there
MIN_OBJECT_PX = 24  # a socket or car must be this big in a file to count as recognisable
# Exposure is lifted to leave the sensor gain headroom for the strongest PRNU (gain 1 is stored below 255).
LIFT = headroom(max(model.prnu for model in MODELS))


def text_share(box: Box, text_box: Box, lines: int) -> float:
    """Letter height of the smallest of `lines` lines written in text_box, as a share of the object's box height."""
    smallest = min(y1 - y0 for _, y0, _, y1 in line_boxes(text_box, lines))
    return TEXT_FILL * smallest / (box[3] - box[1])


@dataclass(frozen=True)
class ClueObject:
    """Something in a scene that gives a place away, where it is, and how small its text is relative to it."""

    kind: str
    value: str
    box: Box  # scene pixels
    text_share: float  # height of its smallest text line / its box height (0: recognised by shape, no text)


@dataclass(frozen=True)
class Job:
    """What a worker needs to write one series."""

    plan: SeriesPlan
    spec: ProfileSpec
    case: Path
    staging: Path
    owner_tz: tuple[tuple[str, str], ...]  # seized device name -> its owner's zone (screenshot clocks)


@dataclass
class TakenShot:
    """A shot as the camera wrote it, kept while the series' other files are derived from it."""

    data: bytes
    meta: ShotMetadata
    thumbnail: bytes
    view: tuple[float, float, float, float]  # scene pixels actually framed (after fitting the sensor's aspect)
    display: tuple[int, int]  # upright pixel size
    to_picture: np.ndarray  # 3×3 projective map from scene pixels to upright picture pixels (view and perspective)


def setting_for(plan: SeriesPlan, place: Location, rng: random.Random) -> tuple[Setting, dict[str, Any]]:
    """The scene's texts in the place's language (what the clue plan allows) and the facts they show."""
    clues = plan.clues
    business = signage.business(place, rng)
    first = plan.shots[0].taken.astimezone(ZoneInfo(place.tz))
    calendar: tuple[str, ...] = ()
    month_title = signage.calendar_title(place, first.year, first.month)
    if clues.calendar == "full":
        calendar = (business.name, business.branch, business.phone, business.web, month_title)
    elif clues.calendar == "month":
        calendar = (month_title,)
    main = {"full": (business.name, business.branch, business.phone, business.web), "web": (business.name, business.web),
            "name": (business.name,), "": ()}[clues.sign]
    others = [signage.business(place, rng).name for _ in range(4)]
    prices = [signage.price_tag(place, rng) for _ in range(6)] if clues.prices else []
    setting = Setting(
        font=signage.font_of(place), outdoor=plan.outdoor, plug=place.plug_types[0] if clues.plug else None,
        signs=((main,) if main else ((),)) + tuple((name,) for name in others),
        calendar=calendar, poster=signage.poster_title(place, rng) if clues.poster else None,
        prices=tuple(text for text, _ in prices), driving_side=place.driving_side,
        plates=tuple(signage.number_plate(rng) for _ in range(3)),
    )
    facts = {
        "language": business.language, "business_name": business.name if main or calendar else "",
        "business_branch": business.branch if "full" in (clues.sign, clues.calendar) else "",
        "business_phone": business.phone if "full" in (clues.sign, clues.calendar) else "",
        "business_web": business.web if clues.sign in ("full", "web") or clues.calendar == "full" else "",
        "calendar_month": f"{first:%Y-%m}" if calendar else "", "calendar_title": month_title if calendar else "",
        "plug": setting.plug or "", "currency": prices[0][1] if prices else "", "poster": setting.poster or "",
    }
    return setting, facts


def clue_objects(plan: list[Placement], setting: Setting, facts: dict[str, Any], sign_kind: str) -> list[ClueObject]:
    """The clue-bearing objects of a drawn scene, from its plan."""
    objects = []
    main_lines = setting.signs[0] if setting.signs else ()
    for name, box, options in plan:
        lines = options.get("lines")
        if name == "sign" and lines and lines == main_lines:
            kind = {"full": "business_sign", "web": "web_tld", "name": "shop_sign"}[sign_kind]
            objects.append(ClueObject(kind, " | ".join(lines), box, text_share(box, sign_text_box(box), len(lines))))
        elif name == "sign" and lines:
            objects.append(ClueObject("shop_sign", lines[0], box, text_share(box, sign_text_box(box), 1)))
        elif name == "poster" and options.get("calendar"):
            calendar = options["calendar"]
            if len(calendar) > 1:
                share = text_share(box, calendar_text_box(box), len(calendar) - 1)
                objects.append(ClueObject("business_sign", " | ".join(calendar[:-1]), box, share))
            objects.append(ClueObject("calendar_date", f"{facts['calendar_month']} ({calendar[-1]})", box, 0.08))
        elif name == "poster" and options.get("title"):
            objects.append(ClueObject("poster_language", f"{facts['language']}: {options['title']}", box, 0.13))
        elif name == "socket" and options.get("plug"):
            objects.append(ClueObject("plug_type", options["plug"], box, 0.0))
        elif name == "product" and options.get("price"):
            objects.append(ClueObject("currency", f"{facts['currency']}: {options['price']}", box, 0.27))
        elif name == "vehicle" and options.get("facing"):
            objects.append(ClueObject("driving_side", setting.driving_side or "", box, 0.0))
    return objects


def scene_size(plan: SeriesPlan, long_side: int | None) -> tuple[int, int]:
    """A 4:3 scene big enough for the largest photo of the series, with room to zoom."""
    width = max(max(output_size(device.model, long_side)) for device in plan.devices)
    width = min(round(width * SCENE_MARGIN), SCENE_CAP)
    return width, width * 3 // 4


def fitted_view(shot: Shot, scene: tuple[int, int], aspect: float) -> tuple[float, float, float, float]:
    """The shot's view in scene pixels, trimmed around its centre to the sensor's aspect (width / height)."""
    w, h = scene
    left, top, right, bottom = shot.view[0] * w, shot.view[1] * h, shot.view[2] * w, shot.view[3] * h
    cx, cy = (left + right) / 2, (top + bottom) / 2
    width, height = right - left, bottom - top
    if width / height > aspect:
        width = height * aspect
    else:
        height = width / aspect
    return (cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)


def lighting_table(light: float, warmth: float, haze: int = 0) -> list[int]:
    """A per-channel lookup table: exposure (lifted to make room for the sensor gain), a warm or cool cast, and
    the grey of a haze that lifts the blacks (at dusk); kept within grain reach (see devices.add_grain)."""
    table = []
    for factor in (light * LIFT * (1 + warmth), light * LIFT, light * LIFT * (1 - warmth)):
        table += [within_grain_reach(haze + round(value * factor)) for value in range(256)]
    return table


def lit(scenes: list[Image.Image], cache: dict[tuple[int, float], Image.Image], shot: Shot) -> Image.Image:
    """A scene in the light of a shot, lit once per scene and level (cheaper than lighting every shot)."""
    key = (shot.scene, shot.light)
    if key not in cache:
        cache[key] = scenes[shot.scene].point(lighting_table(shot.light, shot.warmth, DUSK_HAZE if shot.dusk else 0))
    return cache[key]


def scene_quad(view: tuple[float, float, float, float], skew: tuple[float, ...]) -> list[tuple[float, float]]:
    """The scene points a picture's corners see (top-left, top-right, bottom-right, bottom-left): the view's
    corners moved by the shot's perspective offsets (fractions of the view, in the order UL, LL, LR, UR)."""
    left, top, right, bottom = view
    vw, vh = right - left, bottom - top
    s = skew
    return [(left + s[0] * vw, top + s[1] * vh), (right + s[6] * vw, top + s[7] * vh),
            (right + s[4] * vw, bottom + s[5] * vh), (left + s[2] * vw, bottom + s[3] * vh)]


def picture_map(view: tuple[float, float, float, float], skew: tuple[float, ...],
                display: tuple[int, int]) -> np.ndarray:
    """The projective map from scene pixels to a shot's upright picture pixels (a true perspective, so a sign's
    corners in the answer key are where rectification needs them)."""
    frame = [(0.0, 0.0), (display[0], 0.0), (display[0], display[1]), (0.0, display[1])]
    return homography(scene_quad(view, skew), frame)


def expose(scene: Image.Image, shot: Shot, device: Device, size: tuple[int, int],
           view: tuple[float, float, float, float], grain: random.Random) -> Image.Image:
    """The sensor image of a shot: the view cut from the lit scene in one resampling, with a perspective change
    where the shot has one, then fresh grain drawn from `grain`, then the device's own vignetting and PRNU.
    Upright shots are returned in sensor (landscape) orientation, as cameras store them."""
    display = (size[1], size[0]) if shot.portrait else size
    # Nearest-neighbour sampling: four to nine times faster than bilinear at these near-1:1 scales, and the grain
    # and JPEG coding that follow hide its steps.
    if any(shot.skew):
        back = np.linalg.inv(picture_map(view, shot.skew, display))
        back /= back[2, 2]
        picture = scene.transform(display, Image.Transform.PERSPECTIVE, tuple(back.ravel()[:8]),
                                  Image.Resampling.NEAREST, fillcolor=(within_grain_reach(0),) * 3)
    else:
        picture = scene.resize(display, Image.Resampling.NEAREST, box=view)
    if shot.portrait:
        picture = picture.transpose(Image.Transpose.ROTATE_90)  # the camera was turned: pixels stay landscape
    gain = sensor_gain(device.seed, device.model.prnu, device.model.vignetting, size)
    return ImageChops.multiply(add_grain(picture, grain), gain)


def jpeg(picture: Image.Image, **options: Any) -> bytes:
    """Encode with Pillow."""
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", **options)
    return buffer.getvalue()


def offset_text(offset: timedelta) -> str:
    """A UTC offset as EXIF writes it: '+05:45'."""
    minutes = round(offset.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def gps_fix(plan: SeriesPlan, shot: Shot) -> GpsFix:
    """The phone's fix: the series' site moved by the shot's few metres of GPS wander, at the true UTC second."""
    lat, lon, altitude = plan.site
    east, north = shot.gps_offset_m
    return GpsFix(lat + north / 111_320, lon + east / (111_320 * math.cos(math.radians(lat))),
                  altitude, shot.taken.replace(microsecond=0))


def metadata(plan: SeriesPlan, shot: Shot, device: Device, size: tuple[int, int]) -> ShotMetadata:
    """What the device writes for a shot, from what it believes: its clock, its zone, its GPS."""
    clock = clock_reading(device, shot.taken)
    model = device.model
    exposure = Fraction(1, max(15, round(120 * shot.light)))
    return ShotMetadata(
        make=model.make, model=model.model, software=device.software, serial=device.serial, lens=model.lens,
        focal_mm=model.focal_mm, f_number=model.f_number, exposure_s=exposure, iso=100 * (1 + device.seed % 4),
        recorded=clock.replace(tzinfo=None),
        offset=offset_text(clock.utcoffset() or timedelta()) if model.writes_offset else None,
        orientation=6 if shot.portrait else 1, width=size[0], height=size[1],
        gps=gps_fix(plan, shot) if device.gps else None,
    )


def take(scene: Image.Image, plan: SeriesPlan, shot: Shot, long_side: int | None) -> TakenShot:
    """Expose (with fresh grain), thumbnail, tag and encode one shot with its device's own tables."""
    device = plan.devices[shot.device]
    size = output_size(device.model, long_side)
    display = (size[1], size[0]) if shot.portrait else size
    view = fitted_view(shot, scene.size, display[0] / display[1])
    # Grain is the exposure's own (its own seeded stream): shots share only their device's PRNU, as on a camera.
    grain = stream(plan.seed, "grain", shot.index, device.seed)
    sensor = expose(scene, shot, device, size, view, grain)
    thumb = sensor.resize((THUMBNAIL_WIDTH, round(THUMBNAIL_WIDTH * size[1] / size[0])), Image.Resampling.BILINEAR,
                          reducing_gap=2.0)
    thumbnail = jpeg(thumb, quality=70)
    meta = metadata(plan, shot, device, size)
    data = jpeg(sensor, qtables=[list(t) for t in model_qtables(device.model)], subsampling=device.model.subsampling,
                exif=with_thumbnail(shot_exif(meta).tobytes(), thumbnail))
    return TakenShot(data, meta, thumbnail, view, display, picture_map(view, shot.skew, display))


def mapped_corners(box: Box, to_picture: np.ndarray, scale: float = 1.0,
                   shift: tuple[float, float] = (0, 0)) -> list[tuple[float, float]]:
    """A scene box's corners (top-left, top-right, bottom-right, bottom-left) in a picture's upright pixels:
    through the shot's view and perspective, then the picture's scaling, then moved by `shift` (a crop's
    negative corner, or where a photo sits on a screenshot)."""
    x0, y0, x1, y1 = box
    points = to_picture @ np.array([[x0, x1, x1, x0], [y0, y0, y1, y1], [1.0, 1.0, 1.0, 1.0]])
    return [(float(u / w * scale + shift[0]), float(v / w * scale + shift[1])) for u, v, w in points.T]


def visible(objects: list[ClueObject], taken: TakenShot, size: tuple[int, int], scale: float = 1.0,
            crop: tuple[int, int] = (0, 0), offset: tuple[int, int] = (0, 0)) -> list[dict[str, Any]]:
    """The clue objects fully in a picture of `size` and big enough there to read (text) or recognise (shapes);
    boxes and corners are reported shifted by `offset` (where the picture sits in its file, as on a screenshot).
    A text's height is taken at the object's shorter side (the far end of a sign seen at an angle)."""
    found = []
    for item in objects:
        corners = mapped_corners(item.box, taken.to_picture, scale, (-crop[0], -crop[1]))
        xs, ys = [x for x, _ in corners], [y for _, y in corners]
        x0, y0, x1, y1 = round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys))
        inside = x0 >= -2 and y0 >= -2 and x1 <= size[0] + 2 and y1 <= size[1] + 2
        height = min(corners[3][1] - corners[0][1], corners[2][1] - corners[1][1])
        text_px = height * item.text_share
        readable = text_px >= MIN_TEXT_PX if item.text_share else min(x1 - x0, y1 - y0) >= MIN_OBJECT_PX
        if inside and readable:
            box = (x0 + offset[0], y0 + offset[1], x1 + offset[0], y1 + offset[1])
            found.append({"kind": item.kind, "value": item.value, "box": " ".join(map(str, box)),
                          "corners": " ".join(f"{round(x + offset[0])} {round(y + offset[1])}" for x, y in corners),
                          "text_px": round(text_px, 1)})
    return found


def digests(data: bytes) -> dict[str, Any]:
    """Size and the three hashes of a file's bytes."""
    return {"size": len(data), "md5": hashlib.md5(data).hexdigest(), "sha1": hashlib.sha1(data).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest()}


def write(path: Path, data: bytes, modified: datetime) -> None:
    """Write a case file with its planned modification time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stamp = modified.timestamp()
    os.utime(path, (stamp, stamp))


def video_frames(scene: Image.Image, other: Image.Image, size: tuple[int, int], count: int,
                 rng: random.Random) -> tuple[list[Image.Image], int]:
    """A handheld pan across one scene, then a cut to a closer look at the other (or the same) scene."""
    cut = round(count * rng.uniform(0.5, 0.7))
    # Frames are a fraction of the scene's size: shrink the scenes once, not every frame.
    factor = max(1, int(scene.height * 0.7 / size[1]))
    scene, other = scene.reduce(factor), other.reduce(factor)
    w, h = scene.size
    view_h = h * 0.7
    view_w = view_h * size[0] / size[1]
    frames = []
    for index in range(count):
        if index < cut:
            x = (w - view_w) * index / max(1, cut - 1)
            box = (x, h * 0.15, x + view_w, h * 0.15 + view_h)
            frames.append(scene.resize(size, Image.Resampling.BILINEAR, box=box))
        else:
            t = (index - cut) / max(1, count - cut)
            zoom = 0.6 - 0.1 * t
            bw, bh = other.width * zoom, other.width * zoom * size[1] / size[0]
            box = (other.width * 0.2, other.height * 0.2, other.width * 0.2 + bw, other.height * 0.2 + bh)
            frames.append(other.resize(size, Image.Resampling.BILINEAR, box=box))
    return frames, cut


def screen_size(long_side: int) -> tuple[int, int]:
    """The phone screen a screenshot is taken on, in step with the photo's size (a 1600-pixel photo: 720 x 1560)."""
    width = max(240, min(1080, round(long_side * 0.45)))
    return width, width * 13 // 6


def shot_row(plan: SeriesPlan, shot: Shot, taken: TakenShot) -> dict[str, Any]:
    """Answer-key columns every file of a shot shares: who took it, when truly and when its clock said."""
    device = plan.devices[shot.device]
    meta = taken.meta
    return {
        "series_id": plan.series_id, "shot": shot.index, "scene": shot.scene, "device_id": device.device_id,
        "taken_utc": shot.taken.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "recorded_local": meta.recorded.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
        "offset_written": meta.offset or "", "clock_error_s": device.clock_error_s, "clock_tz": device.clock_tz,
        "orientation": meta.orientation,
    }


def sign_view(objects: list[ClueObject], scene: tuple[int, int], skew: tuple[float, ...]
              ) -> tuple[float, float, float, float]:
    """A close view (fractions of the scene) centred on the main business sign, the sign about half its width,
    with room above and below for the perspective's far edge, which reaches beyond the view."""
    x0, y0, x1, y1 = next(item.box for item in objects if item.kind == "business_sign")
    width = min(scene[0], (x1 - x0) / 0.55)
    height = width * 3 / 4
    reach = max(abs(value) for value in skew) * height
    left = min(max(0.0, (x0 + x1 - width) / 2), scene[0] - width)
    top = min(max(reach, (y0 + y1 - height) / 2), scene[1] - height - reach)
    return (left / scene[0], top / scene[1], (left + width) / scene[0], (top + height) / scene[1])


def render_series(job: Job) -> dict[str, Any]:
    """Draw the series' scenes, take its shots, write every file of it in the case; return its answer-key rows."""
    plan, spec = job.plan, job.spec
    rng = random.Random(plan.seed)
    place = location(plan.city_id)
    setting, facts = setting_for(plan, place, rng)
    size = scene_size(plan, spec.long_side)
    scenes, objects = [], []
    for index in range(plan.scenes):
        image, placements = render_scene_with_plan(size, random.Random(plan.seed + index), setting=setting)
        scenes.append(image)
        objects.append(clue_objects(placements, setting, facts, plan.clues.sign))
    shots_framed = tuple(replace(shot, view=sign_view(objects[shot.scene], size, shot.skew)) if shot.dusk else shot
                         for shot in plan.shots)
    plan = replace(plan, shots=shots_framed)
    needed = {file.shot for file in plan.files if file.shot >= 0} | {gone.shot for gone in plan.deleted}
    lit_scenes: dict[tuple[int, float], Image.Image] = {}
    shots = {shot.index: take(lit(scenes, lit_scenes, shot), plan, shot, spec.long_side)
             for shot in plan.shots if shot.index in needed}
    lit_scenes.clear()
    owners = dict(job.owner_tz)
    rows, clue_rows = [], []
    derived: dict[tuple[int, str], tuple[bytes, dict[str, Any]]] = {}
    hashed: dict[int, tuple[bytes, dict[str, Any]]] = {}  # by id(): the bytes are kept alive beside their digests
    for file in plan.files:
        if file.form in ("video", "audio"):
            rows.append(write_media(job, file, scenes, place, rng))
            continue
        shot, taken = plan.shots[file.shot], shots[file.shot]
        data, details = derived_file(file, shot, taken, objects[shot.scene], owners, rng, derived)
        clues = details.pop("clues")
        write(job.case / file.path, data, file.modified)
        if id(data) not in hashed:  # copies of one file (a card and its computer, a forwarded photo) hash once
            hashed[id(data)] = (data, digests(data))
        row = shot_row(plan, shot, taken) | details | hashed[id(data)][1]
        row |= {"path": file.path, "form": file.form, "platform": file.platform, "seized_device": file.seized,
                "modified_utc": file.modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "visible_clues": ";".join(sorted({clue["kind"] for clue in clues}))}
        rows.append(row)
        # Text and objects in a dusk shot are there, but readable only after enhancement (Day 3, session 1).
        clue_rows += [{"series_id": plan.series_id, "path": file.path,
                       "needs_enhancement": shot.dusk and bool(clue["box"])} | clue for clue in clues]
    deleted = []
    for gone in plan.deleted:
        staged = job.staging / f"{plan.series_id}-{gone.shot:03d}.jpg"
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(shots[gone.shot].data)
        deleted.append({"image": gone.image, "name": gone.name, "staged": str(staged), "series_id": plan.series_id,
                        "shot": gone.shot} | shot_row(plan, plan.shots[gone.shot], shots[gone.shot]))
    return {"series_id": plan.series_id, "files": rows, "clues": clue_rows, "deleted": deleted, "facts": facts}


def derived_file(file: CaseFile, shot: Shot, taken: TakenShot, objects: list[ClueObject], owners: dict[str, str],
                 rng: random.Random, cache: dict[tuple[int, str], tuple[bytes, dict[str, Any]]]
                 ) -> tuple[bytes, dict[str, Any]]:
    """The bytes of one case file of a shot, and its answer-key details (size, EXIF, transformations, clues).
    Re-shared and edited copies are made once per shot and service: the same copy reaching two countries is
    byte-identical, as a forwarded file is."""
    key = (shot.index, file.form if file.form != "reshare" else file.platform)
    if file.form != "screenshot" and key in cache:
        data, details = cache[key]
        return data, dict(details, clues=list(details["clues"]))
    made = ["view"] + (["perspective"] if any(shot.skew) else []) + ["lighting"] + (["low_light"] if shot.dusk else [])
    made += ["upright_shot"] if shot.portrait else []
    meta, display = taken.meta, taken.display
    exif_gps = meta.gps is not None
    if file.form == "original":
        data, size = taken.data, display
        details = {"exif": "full", "has_gps": exif_gps, "thumbnail": "same", "clues": visible(objects, taken, size)}
    elif file.form == "edited":
        crop = (rng.uniform(0.05, 0.25), rng.uniform(0.05, 0.25), rng.uniform(0.75, 0.95), rng.uniform(0.75, 0.95))
        data, box = edited(taken.data, meta, taken.thumbnail, crop)
        size = (box[2] - box[0], box[3] - box[1])
        made += ["crop_after_capture", "reencode:editor"]
        details = {"exif": "edited", "has_gps": exif_gps, "thumbnail": "uncropped_original",
                   "clues": visible(objects, taken, size, crop=(box[0], box[1]))}
    elif file.form == "reshare":
        platform = PLATFORM_SPECS[file.platform]
        data, size = reshare(taken.data, platform, meta)
        made += (["resize"] if size != display else []) + [f"reencode:{platform.name}",
                                                           "exif_reduced" if platform.keeps_camera else "exif_stripped"]
        details = {"exif": "reduced" if platform.keeps_camera else "none", "has_gps": False, "thumbnail": "none",
                   "clues": visible(objects, taken, size, scale=size[0] / display[0])}
    else:
        screen = screen_size(max(display))
        clock = datetime.fromtimestamp(file.modified.timestamp(), ZoneInfo(owners[file.seized]))
        data, spot = screenshot(taken.data, screen, f"{clock:%H:%M}", rng)
        size = screen
        made += ["screenshot", "status_bar", "exif_stripped"]
        details = {"exif": "none", "has_gps": False, "thumbnail": "none",
                   "clues": visible(objects, taken, (spot[2] - spot[0], spot[3] - spot[1]),
                                    scale=(spot[2] - spot[0]) / display[0], offset=(0, spot[1]))}
        details["status_bar_time"] = f"{clock:%H:%M}"
    if details["has_gps"] and meta.gps is not None:
        details["clues"].append({"kind": "gps", "value": f"{meta.gps.lat:.6f} {meta.gps.lon:.6f}", "box": "",
                                 "text_px": 0})
    if details["exif"] in ("full", "edited"):
        details["clues"].append({"kind": "device_serial", "value": meta.serial, "box": "", "text_px": 0})
        if meta.offset:
            details["clues"].append({"kind": "utc_offset", "value": meta.offset, "box": "", "text_px": 0})
    details |= {"true_kind": "png" if file.form == "screenshot" else "jpeg", "width": size[0], "height": size[1],
                "transformations": ";".join(made),
                "gps_lat": f"{meta.gps.lat:.6f}" if details["has_gps"] and meta.gps else "",
                "gps_lon": f"{meta.gps.lon:.6f}" if details["has_gps"] and meta.gps else ""}
    details.setdefault("status_bar_time", "")
    if file.form != "screenshot":
        cache[key] = (data, details)
    return data, dict(details, clues=list(details["clues"]))


def write_media(job: Job, file: CaseFile, scenes: list[Image.Image], place: Location, rng: random.Random) -> dict[str, Any]:
    """A series' short phone video (re-showing its scenes) or sound recording (mains hum of its city)."""
    plan, spec = job.plan, job.spec
    path = job.case / file.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if file.form == "video":
        count = round(spec.video_fps * spec.video_seconds)
        frames, cut = video_frames(scenes[0], scenes[-1], spec.video_size, count, rng)
        info = media.write_video(path, frames, spec.video_fps, rng, cuts=[0, cut],
                                 created=file.modified.replace(microsecond=0))
        details = {"true_kind": "mp4", "width": info["width"], "height": info["height"],
                   "transformations": "video;pan;cut", "mains_hz": "",
                   "keyframes": " ".join(map(str, info["keyframe_indices"]))}
    else:
        info = media.write_hum_audio(path, place.mains_hz, spec.audio_seconds, rng)
        details = {"true_kind": "wav", "width": "", "height": "", "transformations": "audio;mains_hum",
                   "mains_hz": info["mains_hz"], "keyframes": ""}
    stamp = file.modified.timestamp()
    os.utime(path, (stamp, stamp))
    return {"series_id": plan.series_id, "shot": "", "path": file.path, "form": file.form, "platform": "",
            "seized_device": file.seized, "modified_utc": file.modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "exif": "none", "has_gps": False, "thumbnail": "none",
            "visible_clues": "mains_hum" if file.form == "audio" else ""} | digests(path.read_bytes()) | details
