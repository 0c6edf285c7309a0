"""Plan a whole synthetic case before drawing anything: devices, series, their clues, and where every file lands.

Planning is cheap and runs in one process; drawing and encoding (synthetic_data.series) run in parallel from these
plans. Every random choice comes from a stream named after what it decides (derive_seed), so a series' content
depends on the seed and its id alone, never on worker count or order.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from synthetic_data.atlas import Location, load_atlas, location
from synthetic_data.devices import MODELS, Device, Model, clock_reading
from synthetic_data.profiles import ProfileSpec

SERIES_PREFIX = "VIDSER-"  # long enough that no random bytes in a case file spell a series id by chance
ACTIONABLE = (27, 130)  # the task force's ratio of actionable series
# Clues that locate a series to a city (a series is actionable when one of them reaches the case files).
LOCATING = ("gps", "business_sign", "registered_serial")
# Countries that submit material to the task force, in the order they joined it.
SUBMITTERS = ("AU", "PH", "TH", "MY", "ID", "JP", "KR", "VN", "NZ", "IN", "SG", "KH", "HK", "TW", "GB", "US")
PLATFORMS = ("chatapp", "socialnet", "messenger", "forum")  # re-sharing services, see synthetic_data.provenance
# Exposure levels a shot can have (relative to the drawn scene): few, so each scene is lit once per level.
LIGHT_LEVELS = (0.84, 0.94, 1.02, 1.1)
# A dusk shot of a business sign: light this low, over a haze of street light that lifts the blacks (mean
# brightness about 30 of 255, letters a few grey levels from their board), and seen from the side, so its text is
# legible only after enhancement (the Day 3 exercise). DUSK_SKEW is how far the far edge of the frame reaches
# above and below the view, as a share of its height (the sign's far end comes out about 15 % shorter).
DUSK_LIGHT = 0.15
DUSK_HAZE = 14
DUSK_SKEW = 0.16
DUSK_SHARE = 0.03  # of series (at least one): a few on classroom, one on tiny
# Series that reuse the main camera of an earlier series (same unit: serial, PRNU, tables, clock), as offenders
# keep using one phone; at least two on any profile. A unit serves at most three series.
SHARED_SHARE = 0.12
MAX_SERIES_PER_DEVICE = 3
SHARED_GAP_DAYS = 40  # series that share a unit lie at least this far apart, so its timeline splits into sessions
EPOCH = datetime(2022, 1, 1, tzinfo=timezone.utc)
SPAN_DAYS = 4 * 365 - 90


def derive_seed(seed: int, *labels: object) -> int:
    """A 64-bit seed for one named decision: stable across processes and Python runs (unlike hash())."""
    text = ":".join(str(part) for part in (seed, *labels))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def stream(seed: int, *labels: object) -> random.Random:
    """An independent random stream for one named decision."""
    return random.Random(derive_seed(seed, *labels))


@dataclass(frozen=True)
class SceneClues:
    """Which clue objects a series' scenes show (their texts are chosen when drawing)."""

    sign: str  # main street sign: "full" (name, branch city, phone, web), "web" (name, web), "name", "" (none)
    calendar: str  # room calendar: "full" (a business's, with branch city and phone), "month" (plain), ""
    plug: bool
    prices: bool
    poster: bool


@dataclass(frozen=True)
class Shot:
    """One exposure: which scene, which device, when (true UTC), and how the view is cut from the scene."""

    index: int
    scene: int
    device: int  # index into SeriesPlan.devices
    taken: datetime
    view: tuple[float, float, float, float]  # left, top, right, bottom as fractions of the scene
    skew: tuple[float, ...]  # 8 corner offsets (fractions of the view) for a slight perspective change
    light: float  # one of LIGHT_LEVELS
    warmth: float  # colour cast of the scene's light, the same for all its shots
    portrait: bool
    gps_offset_m: tuple[float, float]  # east, north: the GPS fix wanders a few metres
    dusk: bool = False  # a dim, side-on close-up of the main business sign (its view is set when drawing)


@dataclass(frozen=True)
class SeizedDevice:
    """One evidence item a country submitted: a seized phone, computer or memory card."""

    name: str
    country: str
    platform: str  # android, ios, windows, sdcard
    owner_tz: str


@dataclass(frozen=True)
class CaseFile:
    """One file of a series in the case: which shot, in what form, on which seized device, under what path."""

    path: str  # relative to case/
    shot: int  # -1 for a series' video or audio
    form: str  # original, edited, reshare, screenshot, video, audio
    platform: str  # the re-sharing service of a reshare, else ""
    seized: str
    modified: datetime


@dataclass(frozen=True)
class DeletedShot:
    """A shot's original that survives only as a deleted file inside a seized disk image."""

    shot: int
    name: str
    image: str  # the disk image's path relative to case/


@dataclass(frozen=True)
class SeriesPlan:
    """Everything about one series except its pixels."""

    series_id: str
    seed: int
    city_id: str
    site: tuple[float, float, float]  # lat, lon, altitude of where it was shot
    outdoor: bool
    scenes: int
    devices: tuple[Device, ...]
    shots: tuple[Shot, ...]
    clues: SceneClues
    actionable: bool
    locating: tuple[str, ...]
    exif_stripped: bool  # no original reaches the case: only re-shared, EXIF-less copies
    known: bool
    submitters: tuple[str, ...]
    files: tuple[CaseFile, ...] = ()
    deleted: tuple[DeletedShot, ...] = ()
    video: bool = False
    audio: bool = False
    shares_device: bool = False  # its main unit (devices[0]) also shot another series


@dataclass(frozen=True)
class Registration:
    """A device serial in the case database's register (warranty or an earlier seizure), with where it was."""

    serial: str
    make: str
    model: str
    city: str
    country: str
    source: str


@dataclass(frozen=True)
class World:
    """The whole planned case."""

    seed: int
    series: tuple[SeriesPlan, ...]
    seized: tuple[SeizedDevice, ...]
    registrations: tuple[Registration, ...]
    disk_images: tuple[tuple[str, str], ...]  # (path relative to case/, submitting country)


def series_id(number: int) -> str:
    return f"{SERIES_PREFIX}{number:04d}"


def actionable_count(series: int) -> int:
    """How many of `series` are actionable at the task force's 27-in-130 ratio."""
    return round(series * ACTIONABLE[0] / ACTIONABLE[1])


def country_tz(country: str) -> str:
    """The zone of a country's first atlas city: where its officers and seized devices live."""
    return next(place.tz for place in load_atlas() if place.country_code == country)


def plan_seized(spec: ProfileSpec, seed: int) -> tuple[SeizedDevice, ...]:
    """The submitting countries and their seized devices: a computer and a phone each, then a mix."""
    rng = stream(seed, "seized devices")
    seized = []
    for country in SUBMITTERS[: spec.countries]:
        count = rng.randint(*spec.seized_per_country)
        platforms = ["windows", "android"] + [rng.choice(("android", "ios", "sdcard", "windows")) for _ in range(count - 2)]
        for number, platform in enumerate(platforms, start=1):
            seized.append(SeizedDevice(f"{country}-{number:02d}-{platform}", country, platform, country_tz(country)))
    return tuple(seized)


def pick_location(rng: random.Random) -> Location:
    """Mostly Asia-Pacific; one series in ten elsewhere."""
    places = load_atlas()
    region = "elsewhere" if rng.random() < 0.1 else "asia-pacific"
    return rng.choice([place for place in places if place.region == region])


def make_device(rng: random.Random, device_id: str, place: Location, need_gps: bool) -> Device:
    """A device used at a place: phones keep the network's zone; one camera in four keeps its home zone."""
    models = [model for model in MODELS if model.has_gps] if need_gps else list(MODELS)
    model: Model = rng.choice(models)
    clock_tz = place.tz
    if model.kind in ("compact", "dslr", "action") and rng.random() < 0.25:
        clock_tz = rng.choice([p.tz for p in load_atlas() if p.utc_offset != place.utc_offset])
    return Device(
        device_id=device_id,
        model=model,
        serial=f"{model.serial_prefix}{rng.randrange(10**7, 10**8)}",
        software=rng.choice(model.software),
        seed=rng.getrandbits(63),
        clock_tz=clock_tz,
        clock_error_s=round(rng.gauss(0, 90)),
        gps=model.has_gps and (need_gps or rng.random() < 0.6),
    )


def plan_clues(rng: random.Random, outdoor: bool, locating: tuple[str, ...]) -> SceneClues:
    """Which clue objects the scenes show; only a locating business sign gets a branch city and phone number."""
    sign, calendar = "", ""
    if "business_sign" in locating:
        sign, calendar = ("full", "") if outdoor else ("", "full")
    elif outdoor:
        sign = rng.choice(("web", "name", "name", ""))
    else:
        calendar = rng.choice(("month", "month", ""))
    return SceneClues(sign=sign, calendar=calendar, plug=rng.random() < 0.65, prices=outdoor or rng.random() < 0.6,
                      poster=rng.random() < 0.5)


def plan_shots(rng: random.Random, count: int, scenes: int, devices: int, place: Location,
               models: tuple[Model, ...]) -> tuple[Shot, ...]:
    """Shots over a session (and a later one for a second scene): bursts seconds apart, framings that wander."""
    day = EPOCH + timedelta(days=rng.randrange(SPAN_DAYS))
    local_start = datetime(day.year, day.month, day.day, rng.randint(8, 18), rng.randrange(60), tzinfo=ZoneInfo(place.tz))
    when = local_start.astimezone(timezone.utc) + timedelta(microseconds=rng.randrange(10**6))
    shots: list[Shot] = []
    for index in range(count):
        scene = min(scenes - 1, index * scenes // count)
        first_of_scene = index == 0 or shots[-1].scene != scene
        if first_of_scene and index:
            when += timedelta(hours=rng.uniform(2, 72))
        burst = not first_of_scene and rng.random() < 0.3
        if index and not first_of_scene:
            when += timedelta(seconds=rng.uniform(0.3, 3) if burst else rng.uniform(15, 1800))
        device = 0 if rng.random() < 0.75 else rng.randrange(devices)
        portrait = not first_of_scene and models[device].kind in ("phone",) and rng.random() < 0.3
        if burst:
            previous = shots[-1]
            nudge = [rng.uniform(-0.01, 0.01) for _ in range(2)]
            view = tuple(edge + nudge[i % 2] for i, edge in enumerate(previous.view))
            view = clamp_view(view)  # type: ignore[arg-type]
            shot = replace(previous, index=index, taken=when, view=view)
        else:
            tilted = not first_of_scene and rng.random() < 0.3
            warmth = rng.uniform(-0.06, 0.06) if first_of_scene else shots[-1].warmth  # a room's light keeps its colour
            shot = Shot(index, scene, device, when, pick_view(rng, first_of_scene, portrait),
                        tuple(rng.uniform(-0.03, 0.03) for _ in range(8)) if tilted else (0.0,) * 8,
                        rng.choice(LIGHT_LEVELS), warmth, portrait, (rng.uniform(-12, 12), rng.uniform(-12, 12)))
        shots.append(shot)
    return tuple(shots)


def dusk_shot(rng: random.Random, shots: tuple[Shot, ...], place: Location) -> Shot:
    """An extra shot by the main unit on the series' last day, after dark: the business sign from the side (its
    right-hand end further away), in dim, warm street light."""
    last = shots[-1]
    evening = last.taken.astimezone(ZoneInfo(place.tz)).replace(hour=19, minute=rng.randrange(60))
    taken = max(evening.astimezone(timezone.utc), last.taken + timedelta(minutes=rng.uniform(20, 60)))
    skew = (0.0, 0.0, 0.0, 0.0, 0.0, DUSK_SKEW, 0.0, -DUSK_SKEW)  # UL, LL, LR, UR: the right edge spans more
    return Shot(len(shots), last.scene, 0, taken + timedelta(microseconds=rng.randrange(10**6)), (0.0, 0.0, 1.0, 1.0),
                skew, DUSK_LIGHT, 0.08, False, (rng.uniform(-12, 12), rng.uniform(-12, 12)), dusk=True)


def pick_view(rng: random.Random, establishing: bool, portrait: bool) -> tuple[float, float, float, float]:
    """Part of the scene a shot frames: the whole room first, then closer views, some upright (portrait)."""
    height = rng.uniform(0.93, 1.0) if establishing else rng.uniform(0.7, 0.95)
    width = height * (0.5625 if portrait else 1.0)  # an upright 3:4 frame of a 4:3 scene is 9/16 as wide
    left, top = rng.uniform(0, 1 - width), rng.uniform(0, 1 - height)
    return (left, top, left + width, top + height)


def clamp_view(view: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Shift a view back inside the scene without changing its size."""
    left, top, right, bottom = view
    dx = max(0.0, -left) - max(0.0, right - 1.0)
    dy = max(0.0, -top) - max(0.0, bottom - 1.0)
    return (left + dx, top + dy, right + dx, bottom + dy)


def site_near(rng: random.Random, place: Location) -> tuple[float, float, float]:
    """Where in the city a series was shot: within about 1.5 km of the atlas point, at a plausible altitude."""
    north, east = rng.uniform(-1500, 1500), rng.uniform(-1500, 1500)
    lat = place.lat + north / 111_320
    lon = place.lon + east / (111_320 * math.cos(math.radians(place.lat)))
    return round(lat, 6), round(lon, 6), round(rng.uniform(2, 60), 1)


def plan_series(spec: ProfileSpec, seed: int, number: int, actionable: bool, known: bool, next_device: int,
                borrowed: Device | None = None, city_id: str = "") -> SeriesPlan:
    """One series from its own stream: place, devices, clues and shots (files are placed later). A borrowed unit
    replaces its main device and puts it in that unit's city (city_id): the same owner, another series."""
    sid = series_id(number)
    rng = stream(seed, "series", sid)
    place = pick_location(rng)
    if city_id:
        place = location(city_id)
    outdoor = rng.random() < 0.35
    locating: tuple[str, ...] = ()
    if actionable:
        first = rng.choices(LOCATING, weights=(45, 40, 15))[0]
        second = rng.choice(LOCATING) if rng.random() < 0.25 else first
        locating = tuple(sorted({first, second}))
    device_count = rng.choices((1, 2, 3), weights=(70, 25, 5))[0]
    devices = tuple(make_device(rng, f"DEV-{next_device + k:04d}", place, need_gps="gps" in locating and k == 0)
                    for k in range(device_count))
    if not actionable:
        devices = tuple(replace(device, gps=False) for device in devices)  # a GPS fix would locate it
    if borrowed is not None:
        devices = (borrowed,) + devices[1:]
    scenes = 1 if rng.random() < 0.75 else 2
    # Shots draw on a stream of their own: a borrowed unit (another model) leaves the series' other choices alone.
    shots = plan_shots(stream(seed, "shots", sid), rng.randint(*spec.shots), scenes, device_count, place,
                       tuple(d.model for d in devices))
    return SeriesPlan(
        series_id=sid, seed=rng.getrandbits(63), city_id=place.city_id, site=site_near(rng, place), outdoor=outdoor,
        scenes=scenes, devices=devices, shots=shots, clues=plan_clues(rng, outdoor, locating), actionable=actionable,
        locating=locating, exif_stripped=not actionable and rng.random() < 0.35, known=known,
        submitters=(),
    )


def plan_world(spec: ProfileSpec, seed: int, series_count: int | None = None) -> World:
    """The whole case: seized devices per country, every series, who submitted what, the device register."""
    count = spec.series if series_count is None else series_count
    numbers = range(1, count + 1)
    actionable = set(stream(seed, "actionable").sample(list(numbers), actionable_count(count)))
    known = set(stream(seed, "known").sample(list(numbers), round(count * spec.known_share)))
    series, next_device = [], 1
    for number in numbers:
        plan = plan_series(spec, seed, number, number in actionable, number in known, next_device)
        next_device += len(plan.devices)
        series.append(plan)
    lenders = plan_sharing(series, seed)
    for index, lender in sorted(lenders.items()):
        plan, unit = series[index], series[lender].devices[0]
        series[index] = replace(plan_series(spec, seed, index + 1, plan.actionable, plan.known, 0, unit,
                                            series[lender].city_id), shares_device=True)
        series[lender] = replace(series[lender], shares_device=True)
    series = number_devices(series)
    series = add_dusk_shots(series, seed)
    media = stream(seed, "media")
    videos = set(media.sample(range(count), min(count, spec.videos)))
    audio = set(media.sample(range(count), min(count, spec.audio)))
    series = [replace(plan, video=i in videos, audio=i in audio) for i, plan in enumerate(series)]
    seized = plan_seized(spec, seed)
    disk_images = plan_disk_images(spec, seized)
    placed = place_files(series, seized, disk_images, seed, spec.backup_share)
    return World(seed, tuple(placed), seized, plan_registrations(placed, seed), disk_images)


def can_lend(lender: SeriesPlan, borrower: SeriesPlan) -> bool:
    """Whether the borrower can reuse the lender's main unit without changing what locates either series: no
    registered unit (its serial would locate every series it shot), GPS only where it may locate, originals of
    both in the case, and months apart (a unit's series are separate sessions on its timeline)."""
    unit = lender.devices[0]
    if lender.exif_stripped or borrower.exif_stripped or "registered_serial" in lender.locating + borrower.locating:
        return False
    if unit.gps != ("gps" in borrower.locating) and not (unit.gps and borrower.actionable):
        return False
    return far_apart(lender, borrower)


def far_apart(one: SeriesPlan, other: SeriesPlan) -> bool:
    """Whether two series began at least SHARED_GAP_DAYS apart."""
    return abs((one.shots[0].taken - other.shots[0].taken).days) >= SHARED_GAP_DAYS


def plan_sharing(series: list[SeriesPlan], seed: int) -> dict[int, int]:
    """Which series reuse the main unit of which earlier series (borrower index -> lender index): about
    SHARED_SHARE of them, at least two; the first two lenders are distinct, later borrowers sometimes join a unit
    already lent (three series on one unit)."""
    rng = stream(seed, "shared devices")
    target = max(2, round(len(series) * SHARED_SHARE))
    lent: dict[int, list[int]] = {}
    borrowers: dict[int, int] = {}
    for index in rng.sample(range(len(series)), len(series)):
        if len(borrowers) == target:
            break
        if index in lent:
            continue
        options = [k for k in range(index) if k not in borrowers and len(lent.get(k, [])) < MAX_SERIES_PER_DEVICE - 1
                   and can_lend(series[k], series[index])
                   and all(far_apart(series[index], series[other]) for other in lent.get(k, []))]
        joined = [k for k in options if k in lent]
        fresh = [k for k in options if k not in lent]
        if len(lent) >= 2 and joined and rng.random() < 0.35:
            options = joined
        elif len(lent) < 2 and fresh:  # two different units shared before any unit serves a third series
            options = fresh
        if options:
            lender = rng.choice(options)
            borrowers[index] = lender
            lent.setdefault(lender, []).append(index)
    return borrowers


def number_devices(series: list[SeriesPlan]) -> list[SeriesPlan]:
    """Device ids DEV-0001… in order of first use, a shared unit keeping the id it got in its first series."""
    ids: dict[str, str] = {}
    numbered = []
    for plan in series:
        devices = []
        for device in plan.devices:
            key = f"{device.serial}:{device.seed}"
            ids.setdefault(key, f"DEV-{len(ids) + 1:04d}")
            devices.append(replace(device, device_id=ids[key]))
        numbered.append(replace(plan, devices=tuple(devices)))
    return numbered


def add_dusk_shots(series: list[SeriesPlan], seed: int) -> list[SeriesPlan]:
    """A few actionable series get a street with their business sign and a dusk shot of it, preferring those
    that already show the sign; their other clues stay as planned."""
    rng = stream(seed, "dusk shots")
    actionable = [i for i, plan in enumerate(series) if plan.actionable]
    ranked = sorted(actionable, key=lambda i: (series[i].clues.sign != "full", rng.random()))
    chosen = ranked[: max(1, round(len(series) * DUSK_SHARE))]
    for index in chosen:
        plan = series[index]
        place = location(plan.city_id)
        series[index] = replace(
            plan, outdoor=True, locating=tuple(sorted({*plan.locating, "business_sign"})),
            clues=replace(plan.clues, sign="full", calendar=""),
            shots=plan.shots + (dusk_shot(stream(seed, "dusk", plan.series_id), plan.shots, place),))
    return series


def plan_disk_images(spec: ProfileSpec, seized: tuple[SeizedDevice, ...]) -> tuple[tuple[str, str], ...]:
    """Raw images of wiped memory sticks, one each for the first submitting countries."""
    countries = list(dict.fromkeys(device.country for device in seized))
    return tuple((f"submissions/{country}/{country}-usbstick.dd", country) for country in countries[: spec.disk_images])


def plan_registrations(series: list[SeriesPlan], seed: int) -> tuple[Registration, ...]:
    """The device register: the first device of every series located by serial, among decoy entries."""
    rng = stream(seed, "registrations")
    places = {place.city_id: place for place in load_atlas()}
    entries = []
    for plan in series:
        if "registered_serial" in plan.locating:
            device, place = plan.devices[0], places[plan.city_id]
            entries.append(Registration(device.serial, device.model.make, device.model.model, place.city,
                                        place.country, rng.choice(("warranty registration", "earlier seizure"))))
    for _ in range(max(6, len(entries) * 3)):
        model, place = rng.choice(MODELS), rng.choice(load_atlas())
        entries.append(Registration(f"{model.serial_prefix}{rng.randrange(10**7, 10**8)}", model.make, model.model,
                                    place.city, place.country, rng.choice(("warranty registration", "earlier seizure"))))
    return tuple(sorted(entries, key=lambda entry: entry.serial))


class FolderNames:
    """Paths already used on each seized device (case-insensitive, as Windows and phones compare names), and the
    running counters that phones and apps number their files with."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.counters: dict[str, int] = {}

    def unique(self, path: str) -> str:
        """The path, or 'name (2).ext', 'name (3).ext' … where it is taken."""
        stem, dot, extension = path.rpartition(".")
        candidate, copy = path, 1
        while candidate.lower() in self.used:
            copy += 1
            candidate = f"{stem} ({copy}){dot}{extension}"
        self.used.add(candidate.lower())
        return candidate

    def next(self, key: str, start: int = 1) -> int:
        """The next number of a counter (a phone's IMG_0001 run, an app's per-day number)."""
        self.counters[key] = self.counters.get(key, start - 1) + 1
        return self.counters[key]


def original_name(plan: SeriesPlan, shot: Shot, recorded: datetime) -> str:
    """The name the camera gave the shot: phones date-stamp, cameras count."""
    device = plan.devices[shot.device]
    if device.model.kind == "phone":
        return f"IMG_{recorded:%Y%m%d_%H%M%S}.jpg"
    number = 1 + (device.seed + shot.index) % 9000
    return f"{'VA4_' if device.model.kind == 'action' else 'DSC_'}{number:04d}.JPG"


def original_folder(plan: SeriesPlan, shot: Shot, recorded: datetime, seized: SeizedDevice) -> str:
    """Where an original sits: a computer's import folder per camera and day, or a memory card's DCIM folder."""
    model = plan.devices[shot.device].model
    if seized.platform == "windows":
        return f"Users/owner/Pictures/{model.make} {model.model}/{recorded:%Y-%m-%d}"
    if model.kind == "phone":
        return "DCIM/Camera"
    return f"DCIM/{100 + shot.device}{model.make[:5].upper()}"


def app_name(platform: str, received: datetime, names: FolderNames, rng: random.Random) -> str:
    """How a re-sharing service names a received photo (folder and file), as its Android app saves it."""
    if platform == "chatapp":
        number = names.next(f"wa {received:%Y%m%d}")
        return f"WhatsApp/Media/WhatsApp Images/IMG-{received:%Y%m%d}-WA{number:04d}.jpg"
    if platform == "messenger":
        return f"Telegram/Telegram Images/photo_{received:%Y-%m-%d_%H-%M-%S}.jpg"
    if platform == "socialnet":
        return f"Pictures/Facebook/FB_IMG_{int(received.timestamp() * 1000)}.jpg"
    return f"Download/{rng.getrandbits(48):012x}.jpg"


def received_path(seized: SeizedDevice, form: str, platform: str, received: datetime, names: FolderNames,
                  rng: random.Random, original: str = "") -> str:
    """Where a received copy lands: app folders on Android, the camera roll (renamed) on iOS, Downloads on a PC."""
    if seized.platform == "ios":
        number = names.next("ios camera roll", start=rng.randint(1, 4000))
        folder = f"DCIM/{100 + number // 1000}APPLE"
        return f"{folder}/IMG_{number:04d}.{'PNG' if form == 'screenshot' else 'JPG'}"
    if form == "screenshot":
        return f"Pictures/Screenshots/Screenshot_{received:%Y%m%d-%H%M%S}.png"
    name = original or app_name(platform, received, names, rng)
    if seized.platform == "android":
        return name if not original else f"Download/{original}"
    return f"Users/owner/Downloads/{name.rsplit('/', 1)[-1]}"


def local(instant: datetime, tz: str) -> datetime:
    """A UTC instant as naive local time in a zone (how file names and status bars show it)."""
    return instant.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def place_files(series: list[SeriesPlan], seized: tuple[SeizedDevice, ...], disk_images: tuple[tuple[str, str], ...],
                seed: int, backup_share: float) -> list[SeriesPlan]:
    """Decide who submitted each series and in what form each of its shots reached which seized device."""
    names = {device.name: FolderNames() for device in seized}
    countries = list(dict.fromkeys(device.country for device in seized))
    images = {country: path for path, country in disk_images}
    placed = []
    for plan in series:
        rng = stream(seed, "placement", plan.series_id)
        submitters = tuple(rng.sample(countries, min(len(countries), rng.choices((1, 2, 3), weights=(70, 22, 8))[0])))
        files: list[CaseFile] = []
        deleted: list[DeletedShot] = []
        for k, country in enumerate(submitters):
            here = [device for device in seized if device.country == country]
            if k == 0 and not plan.exif_stripped:
                files += place_originals(plan, rng, here, names, backup_share)
                if country in images and rng.random() < 0.5:
                    deleted += delete_some(plan, rng, images[country])
            else:
                files += place_received(plan, rng, here, names, everything=k == 0)
        files += place_media(plan, rng, [device for device in seized if device.country == submitters[0]], names)
        placed.append(replace(plan, submitters=submitters, files=tuple(files), deleted=tuple(deleted)))
    for image, country in disk_images:  # every disk image holds something to carve
        if not any(gone.image == image for plan in placed for gone in plan.deleted):
            index = next((i for i, plan in enumerate(placed) if plan.submitters[0] == country), 0)
            rng = stream(seed, "placement", "disk image", image)
            extra = tuple(delete_some(placed[index], rng, image))
            placed[index] = replace(placed[index], deleted=placed[index].deleted + extra)
    return placed


def chosen_shots(plan: SeriesPlan, rng: random.Random, share: tuple[float, float], establishing: bool) -> list[Shot]:
    """A share of a series' shots in order; with establishing, every scene's first (widest) shot is among them."""
    picked = {shot.index for shot in plan.shots if rng.random() < rng.uniform(*share)}
    if establishing:
        picked |= {shot.index for shot in plan.shots if shot.index == 0 or plan.shots[shot.index - 1].scene != shot.scene}
    # A dusk shot reaches the case only as its camera original (place_originals adds it): the darkest photo in
    # the case is then always a full-size original whose sign the answer key measured.
    return [shot for shot in plan.shots if shot.index in picked and not shot.dusk]


def place_originals(plan: SeriesPlan, rng: random.Random, here: list[SeizedDevice], names: dict[str, FolderNames],
                    backup_share: float) -> list[CaseFile]:
    """The first submitter holds camera originals on a computer or memory card (often on both: the card and the
    computer it was imported to were seized together), and maybe one edited copy."""
    holders = [device for device in here if device.platform in ("windows", "sdcard")]
    target = rng.choice(holders)
    others = [device for device in holders if device is not target]
    if others and rng.random() < backup_share:
        holders = [target, rng.choice(others)]
    else:
        holders = [target]
    originals = chosen_shots(plan, rng, (0.6, 1.0), establishing=True)
    if ({"gps", "registered_serial"} & set(plan.locating) or plan.shares_device) and all(s.device for s in originals):
        # The first unit must have an original in the case: its GPS or its serial is the clue, or its serial
        # links this series to another one.
        originals = sorted(originals + [next(shot for shot in plan.shots if shot.device == 0)], key=lambda s: s.index)
    originals += [shot for shot in plan.shots if shot.dusk]
    files = []
    for holder in holders:
        placed = []
        for shot in originals:
            device = plan.devices[shot.device]
            recorded = clock_reading(device, shot.taken).replace(tzinfo=None)
            folder = original_folder(plan, shot, recorded, holder)
            path = names[holder.name].unique(f"{folder}/{original_name(plan, shot, recorded)}")
            copied = shot.taken + timedelta(days=rng.uniform(0.5, 30)) if holder.platform == "windows" else shot.taken
            placed.append(CaseFile(evidence_path(holder, path), shot.index, "original", "", holder.name, copied))
        editable = [shot for shot in originals[1:] if not shot.dusk]
        if holder.platform == "windows" and editable and rng.random() < 0.35:
            shot = rng.choice(editable)
            stem = placed[originals.index(shot)].path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            path = names[holder.name].unique(f"Users/owner/Pictures/Edited/{stem}_edit.jpg")
            placed.append(CaseFile(evidence_path(holder, path), shot.index, "edited", "", holder.name,
                                   shot.taken + timedelta(days=rng.uniform(1, 40))))
        files += placed
    return files


def evidence_path(seized: SeizedDevice, path: str) -> str:
    """A path on a seized device as its extraction lays it out (relative to case/): an Android phone's user storage
    under sdcard/, an iPhone's media under private/var/mobile/Media/, computers and cards as they are."""
    storage = {"android": "sdcard/", "ios": "private/var/mobile/Media/"}.get(seized.platform, "")
    return f"submissions/{seized.country}/{seized.name}/{storage}{path}"


def delete_some(plan: SeriesPlan, rng: random.Random, image: str) -> list[DeletedShot]:
    """One to three originals that survive only as deleted files in the country's disk image."""
    daylight = [shot for shot in plan.shots if not shot.dusk]
    shots = rng.sample(daylight, min(len(daylight), rng.randint(1, 3)))
    return [DeletedShot(shot.index, original_name(plan, shot, clock_reading(plan.devices[shot.device], shot.taken)),
                        image) for shot in shots]


def place_received(plan: SeriesPlan, rng: random.Random, here: list[SeizedDevice], names: dict[str, FolderNames],
                   everything: bool) -> list[CaseFile]:
    """Copies a submitter received through a re-sharing service, now and then an untouched original forwarded as a
    file, and a screenshot; a first submitter of a stripped series holds most of the series this way."""
    target = rng.choice([device for device in here if device.platform in ("android", "ios", "windows")])
    platform = rng.choice(PLATFORMS)
    files = []
    for shot in chosen_shots(plan, rng, (0.6, 1.0) if everything else (0.3, 0.7), establishing=everything):
        received = shot.taken + timedelta(hours=rng.uniform(1, 24 * 60))
        when = local(received, target.owner_tz)
        path = received_path(target, "reshare", platform, when, names[target.name], rng)
        files.append(CaseFile(names[target.name].unique(path), shot.index, "reshare", platform, target.name, received))
    if not plan.exif_stripped and rng.random() < 0.15:
        shot = rng.choice([shot for shot in plan.shots if not shot.dusk])
        device = plan.devices[shot.device]
        original = original_name(plan, shot, clock_reading(device, shot.taken).replace(tzinfo=None))
        received = shot.taken + timedelta(hours=rng.uniform(1, 24 * 60))
        path = received_path(target, "original", "", local(received, target.owner_tz), names[target.name], rng, original)
        files.append(CaseFile(names[target.name].unique(path), shot.index, "original", "", target.name, received))
    if target.platform != "windows" and files and rng.random() < 0.2:
        source = rng.choice(files)
        taken = source.modified + timedelta(minutes=rng.uniform(1, 600))
        path = received_path(target, "screenshot", "", local(taken, target.owner_tz), names[target.name], rng)
        files.append(CaseFile(names[target.name].unique(path), source.shot, "screenshot", "", target.name, taken))
    return [replace(file, path=evidence_path(target, file.path)) for file in files]


def place_media(plan: SeriesPlan, rng: random.Random, here: list[SeizedDevice],
                names: dict[str, FolderNames]) -> list[CaseFile]:
    """A series' short video and sound recording, on a phone (else the computer) of its first submitter."""
    phones = [device for device in here if device.platform in ("android", "ios")]
    target = rng.choice(phones or here)
    files = []
    when = plan.shots[-1].taken + timedelta(minutes=rng.uniform(1, 30))
    seen = local(when, location(plan.city_id).tz)
    for form, wanted in (("video", plan.video), ("audio", plan.audio)):
        if not wanted:
            continue
        if target.platform == "windows":
            path = f"Users/owner/{'Videos' if form == 'video' else 'Documents/Sound recordings'}/{seen:%Y%m%d_%H%M%S}"
        elif target.platform == "ios":
            path = f"DCIM/100APPLE/IMG_{names[target.name].next('ios camera roll', start=rng.randint(1, 4000)):04d}"
        else:
            path = f"{'DCIM/Camera/VID' if form == 'video' else 'Recordings/REC'}_{seen:%Y%m%d_%H%M%S}"
        path = names[target.name].unique(path + (".mp4" if form == "video" else ".wav"))
        files.append(CaseFile(evidence_path(target, path), -1, form, "", target.name, when))
    return files

