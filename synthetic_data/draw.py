"""Scene drawing with plain Pillow from a closed list of primitives: rooms and streets, never people."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

# The closed list of things the generator may draw (DESIGN.md, non-negotiable 1).
# Adding a primitive is a deliberate, reviewed change: tests/test_synthetic_data.py guards it.
PRIMITIVES = (
    "wall",
    "floor",
    "furniture",
    "window",
    "socket",
    "sign",
    "poster",
    "product",
    "vehicle",
    "plant",
    "sky",
)

Box = tuple[int, int, int, int]
Colour = tuple[int, int, int]
# (primitive, box, extra keyword options for its drawer): only the street floor needs any so far.
Placement = tuple[str, Box, dict[str, bool]]

# Fictional names and numbers only: 555-0100 to 555-0199 are reserved for fiction in North American numbering,
# so no real shop gets called; real calling codes belong to the atlas, not to scene text.
SHOP_NAMES = (
    "HARBOUR MART",
    "LOTUS NOODLE HOUSE",
    "SUNRISE PHARMACY",
    "BLUE GECKO CAFE",
    "KITE HARDWARE",
    "JADE TAILORS",
    "CORAL BAY LAUNDRY",
    "PALM GROVE BAKERY",
)
POSTER_TITLES = ("SUMMER FAIR 2026", "NIGHT MARKET", "LIBRARY WEEK", "RIVER FESTIVAL", "CITY MARATHON")
WALL_COLOURS = ((226, 218, 200), (200, 214, 222), (232, 226, 214), (214, 196, 176), (190, 206, 186), (238, 236, 230))
FLOOR_COLOURS = ((150, 110, 74), (128, 96, 70), (170, 166, 160), (96, 92, 90), (182, 150, 112))
BRIGHT_COLOURS = ((196, 52, 44), (40, 96, 170), (236, 178, 40), (46, 140, 90), (120, 60, 140), (230, 110, 40))
# Below this many pixels the built-in font is a smudge; a real photo would not resolve it either.
MIN_TEXT_PX = 7


@lru_cache(maxsize=None)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in font at a pixel size; cached because loading it costs more than drawing text."""
    return ImageFont.load_default(size=size)


def shade(colour: Colour, factor: float) -> Colour:
    """A darker (factor < 1) or lighter (factor > 1) version of a colour, for edges and depth."""
    r, g, b = (min(255, max(0, round(c * factor))) for c in colour)
    return (r, g, b)


def jitter(colour: Colour, rng: random.Random, spread: int = 12) -> Colour:
    """A colour nudged a little, so two walls of the same paint are not pixel-identical."""
    r, g, b = (min(255, max(0, c + rng.randint(-spread, spread))) for c in colour)
    return (r, g, b)


def fictional_phone(rng: random.Random) -> str:
    """A phone number from the 555-01xx range that is reserved for fiction."""
    return f"TEL 555-01{rng.randint(0, 99):02d}"


def text_centred(draw: ImageDraw.ImageDraw, box: Box, text: str, colour: Colour) -> None:
    """Write one line of text as large as fits the box, centred in it; skip text too small to read."""
    x0, y0, x1, y1 = box
    size = y1 - y0
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font(max(size, MIN_TEXT_PX)))
    if right - left > x1 - x0:
        size = size * (x1 - x0) // (right - left)
    if size < MIN_TEXT_PX:
        return
    f = font(size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=f)
    x = x0 + (x1 - x0 - (right - left)) // 2 - left
    y = y0 + (y1 - y0 - (bottom - top)) // 2 - top
    draw.text((x, y), text, font=f, fill=colour)


def draw_sky(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random) -> None:
    """A vertical blue-to-haze gradient with a few flat clouds."""
    x0, y0, x1, y1 = box
    top = jitter((70, 130, 200), rng, 20)
    bottom = jitter((200, 220, 236), rng, 10)
    height = max(y1 - y0, 1)
    for y in range(y0, y1):
        t = (y - y0) / height
        draw.line((x0, y, x1, y), fill=tuple(round(a + (b - a) * t) for a, b in zip(top, bottom)))
    for _ in range(rng.randint(1, 4)):
        cx = rng.randint(x0, x1)
        cy = rng.randint(y0, y0 + height // 2)
        w = max(4, (x1 - x0) // rng.randint(5, 9))
        draw.ellipse((cx - w, cy - w // 4, cx + w, cy + w // 4), fill=(246, 246, 248))


def draw_wall(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random) -> None:
    """A painted, striped-wallpaper or brick wall with a skirting line along the bottom."""
    x0, y0, x1, y1 = box
    paint = jitter(rng.choice(WALL_COLOURS), rng)
    draw.rectangle(box, fill=paint)
    style = rng.choice(("paint", "stripes", "bricks"))
    if style == "stripes":
        step = max(6, (x1 - x0) // rng.randint(12, 30))
        for x in range(x0, x1, step * 2):
            draw.rectangle((x, y0, x + step, y1), fill=shade(paint, 0.94))
    elif style == "bricks":
        brick_h = max(4, (y1 - y0) // rng.randint(14, 24))
        brick_w = brick_h * 3
        mortar = shade(paint, 0.8)
        for row, y in enumerate(range(y0, y1, brick_h)):
            draw.line((x0, y, x1, y), fill=mortar)
            offset = (brick_w // 2) * (row % 2)
            for x in range(x0 - offset, x1, brick_w):
                draw.line((x, y, x, y + brick_h), fill=mortar)
    skirting = max(2, (y1 - y0) // 40)
    draw.rectangle((x0, y1 - skirting, x1, y1), fill=shade(paint, 0.7))


def paint_road(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random) -> None:
    """Street ground for draw_floor: a paved footpath above an asphalt road with lane markings."""
    x0, y0, x1, y1 = box
    kerb = y0 + (y1 - y0) // 3
    paving = jitter((176, 170, 160), rng)
    draw.rectangle((x0, y0, x1, kerb), fill=paving)
    step = max(4, (x1 - x0) // 24)
    for x in range(x0, x1, step):
        draw.line((x, y0, x, kerb), fill=shade(paving, 0.85))
    draw.rectangle((x0, kerb, x1, kerb + max(2, (y1 - y0) // 30)), fill=(210, 206, 196))
    draw.rectangle((x0, kerb + max(2, (y1 - y0) // 30), x1, y1), fill=jitter((72, 72, 76), rng, 6))
    lane_y = kerb + (y1 - kerb) * 2 // 3
    dash = max(6, (x1 - x0) // 16)
    for x in range(x0, x1, dash * 2):
        draw.rectangle((x, lane_y, x + dash, lane_y + max(2, (y1 - y0) // 60)), fill=(236, 230, 200))


def draw_floor(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random, outdoor: bool = False) -> None:
    """Wooden planks, tiles or carpet indoors; outdoors a footpath and road."""
    if outdoor:
        paint_road(draw, box, rng)
        return
    x0, y0, x1, y1 = box
    base = jitter(rng.choice(FLOOR_COLOURS), rng)
    draw.rectangle(box, fill=base)
    style = rng.choice(("planks", "tiles", "carpet"))
    if style == "planks":
        step = max(3, (y1 - y0) // rng.randint(6, 12))
        for y in range(y0, y1, step):
            draw.line((x0, y, x1, y), fill=shade(base, 0.75))
            for x in range(x0 + rng.randint(0, step * 4), x1, step * rng.randint(6, 10)):
                draw.line((x, y, x, y + step), fill=shade(base, 0.8))
    elif style == "tiles":
        step = max(4, (x1 - x0) // rng.randint(8, 16))
        for x in range(x0, x1, step):
            draw.line((x, y0, x, y1), fill=shade(base, 1.15))
        for y in range(y0, y1, max(3, step // 2)):
            draw.line((x0, y, x1, y), fill=shade(base, 1.15))
    else:
        draw.rectangle((x0, y0, x1, y0 + max(2, (y1 - y0) // 30)), fill=shade(base, 0.8))


def draw_window(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random) -> None:
    """A window frame with mullions and optional curtains; what is outside is drawn before it."""
    x0, y0, x1, y1 = box
    frame = rng.choice(((245, 245, 240), (110, 80, 56), (60, 60, 64)))
    width = max(2, (x1 - x0) // 20)
    draw.rectangle(box, outline=frame, width=width)
    draw.line(((x0 + x1) // 2, y0, (x0 + x1) // 2, y1), fill=frame, width=width)
    if rng.random() < 0.5:
        draw.line((x0, (y0 + y1) // 2, x1, (y0 + y1) // 2), fill=frame, width=width)
    if rng.random() < 0.6:
        curtain = jitter(rng.choice(BRIGHT_COLOURS), rng, 30)
        drape = (x1 - x0) // 6
        draw.rectangle((x0 - drape // 2, y0 - width, x0 + drape, y1 + width), fill=curtain)
        draw.rectangle((x1 - drape, y0 - width, x1 + drape // 2, y1 + width), fill=curtain)


def draw_socket(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random) -> None:
    """A wall power outlet; the pin layout varies (type A, C, G or I) because plugs are a location clue."""
    x0, y0, x1, y1 = box
    draw.rounded_rectangle(box, radius=max(1, (x1 - x0) // 8), fill=(244, 242, 236), outline=(170, 168, 160))
    w, h = x1 - x0, y1 - y0
    hole = (40, 40, 40)
    plug_type = rng.choice("ACGI")
    if plug_type == "A":
        for fx in (0.35, 0.65):
            draw.rectangle((x0 + w * fx - w * 0.03, y0 + h * 0.35, x0 + w * fx + w * 0.03, y0 + h * 0.6), fill=hole)
    elif plug_type == "C":
        for fx in (0.33, 0.67):
            r = w * 0.07
            draw.ellipse((x0 + w * fx - r, y0 + h * 0.5 - r, x0 + w * fx + r, y0 + h * 0.5 + r), fill=hole)
    elif plug_type == "G":
        draw.rectangle((x0 + w * 0.45, y0 + h * 0.2, x0 + w * 0.55, y0 + h * 0.4), fill=hole)
        for fx in (0.28, 0.72):
            draw.rectangle((x0 + w * fx - w * 0.06, y0 + h * 0.6, x0 + w * fx + w * 0.06, y0 + h * 0.7), fill=hole)
    else:
        slot = max(1, w // 20)
        draw.line((x0 + w * 0.3, y0 + h * 0.35, x0 + w * 0.38, y0 + h * 0.55), fill=hole, width=slot)
        draw.line((x0 + w * 0.7, y0 + h * 0.35, x0 + w * 0.62, y0 + h * 0.55), fill=hole, width=slot)
        draw.line((x0 + w * 0.5, y0 + h * 0.62, x0 + w * 0.5, y0 + h * 0.8), fill=hole, width=slot)


def draw_sign(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random) -> None:
    """A shop sign board with a fictional name and, on taller boards, a fictional phone number."""
    x0, y0, x1, y1 = box
    board = jitter(rng.choice(BRIGHT_COLOURS), rng, 10)
    ink = (255, 255, 255) if sum(board) < 400 else (20, 20, 20)
    draw.rectangle(box, fill=board, outline=shade(board, 0.6), width=max(1, (y1 - y0) // 12))
    name = rng.choice(SHOP_NAMES)
    pad = max(2, (y1 - y0) // 8)
    if (y1 - y0) * 3 > (x1 - x0):
        middle = (y0 + y1) // 2
        text_centred(draw, (x0 + pad, y0 + pad, x1 - pad, middle), name, ink)
        text_centred(draw, (x0 + pad, middle, x1 - pad, y1 - pad), fictional_phone(rng), ink)
    else:
        text_centred(draw, (x0 + pad, y0 + pad, x1 - pad, y1 - pad), name, ink)


def draw_poster(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random) -> None:
    """A framed poster: an abstract landscape of hills and sun under a short fictional event title."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    draw.rectangle(box, fill=jitter((236, 232, 220), rng), outline=(40, 40, 40), width=max(1, w // 40))
    art_top = y0 + h // 4
    draw.rectangle((x0 + w // 12, art_top, x1 - w // 12, y1 - h // 12), fill=jitter((150, 196, 226), rng, 20))
    sun = max(2, w // 10)
    cx, cy = rng.randint(x0 + w // 4, x1 - w // 4), art_top + h // 6
    draw.ellipse((cx - sun, cy - sun, cx + sun, cy + sun), fill=rng.choice(((250, 200, 60), (240, 120, 60))))
    hill = jitter(rng.choice(((70, 140, 80), (120, 90, 140), (60, 110, 150))), rng, 20)
    peaks = [(x0 + w // 12, y1 - h // 12)]
    for i in range(1, 5):
        peaks.append((x0 + w // 12 + i * (w - w // 6) // 5, rng.randint(art_top + h // 4, y1 - h // 5)))
    peaks.append((x1 - w // 12, y1 - h // 12))
    draw.polygon(peaks, fill=hill)
    title_box = (x0 + w // 12, y0 + h // 24, x1 - w // 12, art_top - h // 24)
    text_centred(draw, title_box, rng.choice(POSTER_TITLES), (30, 30, 30))


def draw_product(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random) -> None:
    """A packaged product standing on a surface: a box, a bottle or a can with a coloured label."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    colour = jitter(rng.choice(BRIGHT_COLOURS), rng, 20)
    kind = rng.choice(("box", "bottle", "can"))
    if kind == "box":
        draw.rectangle(box, fill=colour, outline=shade(colour, 0.6))
        draw.rectangle((x0 + w // 6, y0 + h // 3, x1 - w // 6, y0 + h * 2 // 3), fill=(250, 250, 246))
    elif kind == "bottle":
        neck = w // 3
        draw.rectangle((x0 + neck, y0, x1 - neck, y0 + h // 4), fill=shade(colour, 0.8))
        draw.rounded_rectangle((x0, y0 + h // 4, x1, y1), radius=max(1, w // 4), fill=colour)
        draw.rectangle((x0, y0 + h // 2, x1, y0 + h * 3 // 4), fill=(246, 240, 226))
    else:
        draw.rectangle(box, fill=(196, 198, 204))
        draw.rectangle((x0, y0 + h // 6, x1, y1 - h // 6), fill=colour)


def draw_furniture(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random) -> None:
    """A table, shelf unit, cabinet or sofa in simple flat shapes."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    wood = jitter(rng.choice(((120, 84, 52), (176, 140, 96), (90, 64, 48), (230, 226, 216))), rng)
    kind = rng.choice(("table", "shelf", "cabinet", "sofa"))
    if kind == "table":
        top = max(2, h // 10)
        draw.rectangle((x0, y0, x1, y0 + top), fill=wood)
        leg = max(2, w // 24)
        for lx in (x0 + leg, x1 - 2 * leg):
            draw.rectangle((lx, y0 + top, lx + leg, y1), fill=shade(wood, 0.8))
    elif kind == "shelf":
        draw.rectangle(box, outline=shade(wood, 0.7), width=max(2, w // 40), fill=shade(wood, 1.1))
        for i in range(1, 4):
            y = y0 + i * h // 4
            draw.rectangle((x0, y - max(1, h // 60), x1, y + max(1, h // 60)), fill=wood)
    elif kind == "cabinet":
        draw.rectangle(box, fill=wood, outline=shade(wood, 0.6), width=max(1, w // 60))
        draw.line(((x0 + x1) // 2, y0, (x0 + x1) // 2, y1), fill=shade(wood, 0.6), width=max(1, w // 80))
        knob = max(2, w // 40)
        for kx in ((x0 + x1) // 2 - 3 * knob, (x0 + x1) // 2 + 2 * knob):
            draw.ellipse((kx, y0 + h // 2 - knob, kx + knob, y0 + h // 2), fill=(200, 190, 150))
    else:
        fabric = jitter(rng.choice(BRIGHT_COLOURS), rng, 30)
        draw.rounded_rectangle((x0, y0 + h // 3, x1, y1 - h // 8), radius=max(1, h // 8), fill=fabric)
        draw.rounded_rectangle((x0, y0, x1, y0 + h // 2), radius=max(1, h // 8), fill=shade(fabric, 0.85))
        for lx in (x0 + w // 12, x1 - w // 12 - max(2, w // 30)):
            draw.rectangle((lx, y1 - h // 8, lx + max(2, w // 30), y1), fill=(60, 50, 40))


def draw_vehicle(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random) -> None:
    """A car seen side-on, with a fictional number plate."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    paint = jitter(rng.choice(((200, 30, 30), (30, 60, 140), (230, 230, 226), (40, 40, 44), (180, 180, 186))), rng, 10)
    body_top = y0 + h * 2 // 5
    wheel = h // 4
    draw.polygon(
        [(x0 + w // 5, body_top), (x0 + w * 3 // 10, y0), (x0 + w * 7 // 10, y0), (x0 + w * 4 // 5, body_top)],
        fill=paint,
    )
    glass, roof = (150, 180, 200), y0 + h // 12
    for bottom_left, top_left, top_right, bottom_right in ((6, 8, 12, 12), (13, 13, 17, 19)):  # in 25ths of the length
        x = [x0 + w * step // 25 for step in (bottom_left, top_left, top_right, bottom_right)]
        draw.polygon([(x[0], body_top), (x[1], roof), (x[2], roof), (x[3], body_top)], fill=glass)
    draw.rounded_rectangle((x0, body_top, x1, y1 - wheel // 2), radius=max(1, h // 10), fill=paint)
    for cx in (x0 + w // 5, x1 - w // 5):
        draw.ellipse((cx - wheel, y1 - 2 * wheel, cx + wheel, y1), fill=(28, 28, 28))
        draw.ellipse((cx - wheel // 2, y1 - wheel * 3 // 2, cx + wheel // 2, y1 - wheel // 2), fill=(160, 160, 164))
    plate = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3)) + f" {rng.randint(0, 9999):04d}"
    plate_box = (x1 - w // 7, body_top + h // 8, x1 - w // 60, body_top + h // 4)
    draw.rectangle(plate_box, fill=(250, 250, 240), outline=(20, 20, 20))
    text_centred(draw, plate_box, plate, (20, 20, 20))


def draw_plant(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random) -> None:
    """A potted plant indoors or a street tree: a trunk or pot under round clumps of leaves."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    leaf = jitter(rng.choice(((60, 130, 60), (40, 100, 50), (90, 150, 70))), rng, 15)
    cx = (x0 + x1) // 2
    if h > 2 * w:
        draw.rectangle((cx - w // 10, y0 + h // 3, cx + w // 10, y1), fill=(100, 70, 44))
        crown_bottom = y0 + h // 2
    else:
        pot = [(x0 + w // 4, y1 - h // 3), (x1 - w // 4, y1 - h // 3), (x1 - w // 3, y1), (x0 + w // 3, y1)]
        draw.polygon(pot, fill=(176, 90, 60))
        crown_bottom = y1 - h // 3
    for _ in range(rng.randint(4, 8)):
        r = max(2, w // rng.randint(4, 6))
        lx = rng.randint(x0 + r, max(x0 + r, x1 - r))
        ly = rng.randint(y0 + r, max(y0 + r, crown_bottom - r))
        draw.ellipse((lx - r, ly - r, lx + r, ly + r), fill=shade(leaf, rng.uniform(0.85, 1.15)))


# render_scene draws only through this table, so nothing outside PRIMITIVES can reach a picture.
DRAWERS: dict[str, Callable[..., None]] = {
    name: globals()[f"draw_{name}"] for name in PRIMITIVES
}


def plan_room(size: tuple[int, int], rng: random.Random) -> list[Placement]:
    """Where each primitive of an indoor scene goes: wall, floor, window, furniture, products, …"""
    w, h = size
    horizon = round(h * rng.uniform(0.62, 0.72))
    plan: list[Placement] = [("wall", (0, 0, w, horizon), {}), ("floor", (0, horizon, w, h), {})]
    win_w = round(w * rng.uniform(0.22, 0.32))
    win_x = rng.randint(w // 20, w // 2 - win_w // 2)
    window = (win_x, round(h * 0.1), win_x + win_w, round(h * 0.1) + round(win_w * rng.uniform(0.8, 1.1)))
    plan += [("sky", window, {}), ("window", window, {})]
    poster_w = round(w * rng.uniform(0.12, 0.18))
    poster_x = rng.randint(max(w * 3 // 5, window[2] + w // 40), w - poster_w - w // 20)
    poster_y = round(h * 0.12)
    plan.append(("poster", (poster_x, poster_y, poster_x + poster_w, poster_y + round(poster_w * 1.4)), {}))
    if rng.random() < 0.5:
        sign_x, sign_y = rng.randint(w // 3, w // 2), round(h * 0.04)
        plan.append(("sign", (sign_x, sign_y, sign_x + w // 6, sign_y + h // 12), {}))
    socket = round(w * 0.035)
    socket_x = rng.randint(w // 20, w - socket - w // 20)
    plan.append(("socket", (socket_x, horizon - socket * 3, socket_x + socket, horizon - socket * 2), {}))
    furn_w = round(w * rng.uniform(0.3, 0.42))
    furn_x = rng.randint(w // 3, w - furn_w - w // 30)
    furn_top = horizon - round(h * rng.uniform(0.12, 0.2))
    plan.append(("furniture", (furn_x, furn_top, furn_x + furn_w, horizon + round(h * 0.12)), {}))
    product_w = max(3, furn_w // 10)
    for i in range(rng.randint(2, 4)):
        px = furn_x + furn_w // 10 + i * product_w * 2
        plan.append(("product", (px, furn_top - round(product_w * rng.uniform(1.2, 2.2)), px + product_w, furn_top), {}))
    plant_w = round(w * 0.1)
    plant_x = rng.choice((w // 40, w - plant_w - w // 40))
    plan.append(("plant", (plant_x, horizon - round(h * 0.05), plant_x + plant_w, horizon + round(h * 0.18)), {}))
    return plan


def plan_street(size: tuple[int, int], rng: random.Random) -> list[Placement]:
    """Where each primitive of a street scene goes: sky, shop fronts with signs, road, cars, trees."""
    w, h = size
    skyline = round(h * rng.uniform(0.18, 0.3))
    ground = round(h * rng.uniform(0.62, 0.7))
    plan: list[Placement] = [("sky", (0, 0, w, ground), {})]
    x = 0
    while x < w:
        front_w = round(w * rng.uniform(0.22, 0.36))
        top = skyline + rng.randint(-h // 12, h // 12)
        plan.append(("wall", (x, top, x + front_w, ground), {}))
        sign = (x + front_w // 10, top + h // 20, x + front_w * 9 // 10, top + h // 20 + h // 10)
        plan.append(("sign", sign, {}))
        # A shop window reflects the sky and shows a few products behind the glass.
        shop_window = (x + front_w // 10, max(ground - h // 4, sign[3] + h // 40), x + front_w * 6 // 10, ground - h // 30)
        plan += [("sky", shop_window, {}), ("window", shop_window, {})]
        product_w = max(3, (shop_window[2] - shop_window[0]) // 8)
        for i in range(3):
            px = shop_window[0] + product_w + i * product_w * 2
            plan.append(("product", (px, shop_window[3] - product_w * 2, px + product_w, shop_window[3]), {}))
        if rng.random() < 0.5:
            poster_x, poster_y = x + front_w * 7 // 10, ground - h // 4
            plan.append(("poster", (poster_x, poster_y, poster_x + front_w // 5, poster_y + front_w * 7 // 25), {}))
        x += front_w
    plan.append(("floor", (0, ground, w, h), {"outdoor": True}))
    for _ in range(rng.randint(1, 2)):
        tree_w = round(w * 0.08)
        tree_x = rng.randint(0, w - tree_w)
        plan.append(("plant", (tree_x, ground - round(h * 0.3), tree_x + tree_w, ground + round(h * 0.08)), {}))
    road_top = ground + (h - ground) // 3
    car_bottom = min(h, road_top + round((h - road_top) * 0.8))
    for _ in range(rng.randint(1, 2)):
        car_w = round(w * rng.uniform(0.26, 0.34))
        car_x = rng.randint(-car_w // 4, w - car_w * 3 // 4)
        plan.append(("vehicle", (car_x, car_bottom - round(car_w * 0.42), car_x + car_w, car_bottom), {}))
    return plan


def plan_scene(size: tuple[int, int], rng: random.Random) -> list[Placement]:
    """Lay out an indoor room (most photos) or a street scene, back to front."""
    return (plan_street if rng.random() < 0.4 else plan_room)(size, rng)


def render_scene(size: tuple[int, int], rng: random.Random, primitives: Iterable[str] | None = None) -> Image.Image:
    """Draw a room or street scene of the given size; `primitives` limits which of PRIMITIVES may appear."""
    allowed = set(PRIMITIVES if primitives is None else primitives)
    unknown = allowed - set(PRIMITIVES)
    if unknown:
        raise ValueError(f"not drawing primitives: {', '.join(sorted(unknown))}; allowed: {', '.join(PRIMITIVES)}")
    image = Image.new("RGB", size, (128, 128, 128))
    draw = ImageDraw.Draw(image)
    for name, box, options in plan_scene(size, rng):
        if name in allowed:
            DRAWERS[name](draw, box, rng, **options)
    return image
