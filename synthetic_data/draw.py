"""Scene drawing with plain Pillow from a closed list of primitives: rooms and streets, never people."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from synthetic_data.signage import runs

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
# (primitive, box, extra keyword options for its drawer: a place's texts, plug type, traffic side, …).
Placement = tuple[str, Box, dict[str, Any]]

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
TEXT_FILL = 0.8  # a line's letters fill this share of its box height (write_line)
FIRST_LINE = 1.5  # a sign's first line (the name) is this many times as tall as the others

FONT_DIR = Path(__file__).with_name("fonts")
# Font key (synthetic_data.signage) -> shipped OFL Noto subset (synthetic_data/fonts/README.md).
FONT_FILES = {
    "latin": "NotoSans-Bold-subset.ttf",
    "thai": "NotoSansThai-Bold-subset.ttf",
    "devanagari": "NotoSansDevanagari-Bold-subset.ttf",
    "cjk_sc": "NotoSansCJKsc-Bold-subset.otf",
    "cjk_tc": "NotoSansCJKtc-Bold-subset.otf",
    "cjk_jp": "NotoSansCJKjp-Bold-subset.otf",
    "cjk_kr": "NotoSansCJKkr-Bold-subset.otf",
}


@dataclass(frozen=True)
class Setting:
    """What a place puts into a scene: its wall socket, its signs and calendar, its prices and its traffic side.

    Every text is already in the place's language; `font` is the font key of its own script (Latin fills in).
    """

    font: str = "latin"
    outdoor: bool = False
    plug: str | None = None  # the socket type on the wall; None: no socket in view
    signs: tuple[tuple[str, ...], ...] = ()  # shop signs, first the main one: lines of name, branch, phone, web
    calendar: tuple[str, ...] = ()  # a business's giveaway calendar: its lines, then the month title
    poster: str | None = None  # an event poster's title
    prices: tuple[str, ...] = ()  # price tags on the products in view
    driving_side: str | None = None  # "left" or "right": which lane the cars on a street keep to
    plates: tuple[str, ...] = ()


@lru_cache(maxsize=None)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's built-in font at a pixel size; cached because loading it costs more than drawing text."""
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=512)
def script_font(key: str, size: int) -> ImageFont.FreeTypeFont:
    """A shipped Noto subset at a pixel size, shaped by raqm so Thai marks and Devanagari conjuncts sit right."""
    return ImageFont.truetype(str(FONT_DIR / FONT_FILES[key]), size, layout_engine=ImageFont.Layout.RAQM)


def text_width(text: str, own_font: str, size: int) -> float:
    """Advance width of a mixed-script line at a pixel size."""
    return sum(script_font(key, size).getlength(piece) for key, piece in runs(text, own_font))


def write_line(draw: ImageDraw.ImageDraw, box: Box, text: str, own_font: str, colour: Colour) -> None:
    """Write one line in the place's scripts as large as fits the box, centred; skip text too small to read."""
    x0, y0, x1, y1 = box
    size = round((y1 - y0) * TEXT_FILL)
    if size < MIN_TEXT_PX or not text:
        return
    width = text_width(text, own_font, size)
    if width > x1 - x0:
        size = int(size * (x1 - x0) / width)
        if size < MIN_TEXT_PX:
            return
        width = text_width(text, own_font, size)
    ascent, descent = script_font("latin", size).getmetrics()
    x = x0 + (x1 - x0 - width) / 2
    baseline = y0 + (y1 - y0 - ascent - descent) / 2 + ascent
    for key, piece in runs(text, own_font):
        face = script_font(key, size)
        draw.text((x, baseline), piece, font=face, fill=colour, anchor="ls")
        x += face.getlength(piece)


def line_boxes(box: Box, count: int) -> list[Box]:
    """Where write_lines puts each of `count` lines in a box: the first taller, the rest equal."""
    x0, y0, x1, y1 = box
    weights = [FIRST_LINE] + [1.0] * (count - 1)
    unit = (y1 - y0) / sum(weights)
    tops = [y0 + unit * sum(weights[:index]) for index in range(count + 1)]
    return [(x0, round(tops[i]), x1, round(tops[i + 1])) for i in range(count)]


def write_lines(draw: ImageDraw.ImageDraw, box: Box, lines: tuple[str, ...], own_font: str, colour: Colour) -> None:
    """Stack lines in a box (see line_boxes)."""
    for line, line_box in zip(lines, line_boxes(box, len(lines))):
        write_line(draw, line_box, line, own_font, colour)


def sign_text_box(box: Box) -> Box:
    """The part of a sign board its lines are written in (inside its padding)."""
    x0, y0, x1, y1 = box
    pad = max(2, (y1 - y0) // 8)
    return (x0 + pad, y0 + pad // 2, x1 - pad, y1 - pad // 2)


def calendar_text_box(box: Box) -> Box:
    """The part of a calendar its business lines are written in (the coloured band above the month)."""
    x0, y0, x1, y1 = box
    pad = (x1 - x0) // 14
    return (x0 + pad, y0 + pad // 2, x1 - pad, y0 + round((y1 - y0) * 0.45) - pad // 4)


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


def draw_sky(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random, skyline: bool = False) -> None:
    """A vertical blue-to-haze gradient with a few flat clouds; with skyline, distant towers seen through a window."""
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
    if skyline:
        haze = jitter((150, 160, 176), rng, 12)
        x = x0
        while x < x1:
            tower_w = max(3, (x1 - x0) // rng.randint(5, 10))
            top = y1 - round((y1 - y0) * rng.uniform(0.2, 0.6))
            draw.rectangle((x, top, x + tower_w, y1), fill=shade(haze, rng.uniform(0.85, 1.1)))
            x += tower_w + rng.randint(0, tower_w // 2)


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


def socket_holes(draw: ImageDraw.ImageDraw, box: Box, plug: str) -> None:
    """The contacts of one IEC World Plugs socket type, face on (A, B, C, D, E, F, G, I, K, M, N, O)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    hole = (40, 40, 40)

    def slot(fx: float, fy: float, fw: float, fh: float) -> None:
        draw.rectangle((x0 + w * (fx - fw / 2), y0 + h * (fy - fh / 2), x0 + w * (fx + fw / 2), y0 + h * (fy + fh / 2)),
                       fill=hole)

    def pin(fx: float, fy: float, fr: float, fill: Colour = hole) -> None:
        r = w * fr
        draw.ellipse((x0 + w * fx - r, y0 + h * fy - r, x0 + w * fx + r, y0 + h * fy + r), fill=fill)

    def recess(fr: float) -> None:
        pin(0.5, 0.5, fr, (214, 212, 206))

    if plug in "AB":
        slot(0.36, 0.42, 0.05, 0.24)
        slot(0.64, 0.42, 0.06, 0.24)  # the neutral blade is wider
        if plug == "B":
            pin(0.5, 0.72, 0.06)
    elif plug in "CEF":
        recess(0.36)
        pin(0.34, 0.5, 0.05)
        pin(0.66, 0.5, 0.05)
        if plug == "E":
            pin(0.5, 0.28, 0.035, (190, 190, 186))  # the socket's own earth pin
        if plug == "F":
            slot(0.5, 0.16, 0.1, 0.05)
            slot(0.5, 0.84, 0.1, 0.05)
    elif plug in "DM":
        scale = 1.0 if plug == "D" else 1.25
        pin(0.5, 0.3, 0.08 * scale)
        pin(0.32, 0.66, 0.055 * scale)
        pin(0.68, 0.66, 0.055 * scale)
    elif plug == "G":
        slot(0.5, 0.3, 0.1, 0.2)
        slot(0.28, 0.65, 0.12, 0.1)
        slot(0.72, 0.65, 0.12, 0.1)
    elif plug == "I":
        slot_w = max(1, w // 20)
        draw.line((x0 + w * 0.3, y0 + h * 0.35, x0 + w * 0.38, y0 + h * 0.55), fill=hole, width=slot_w)
        draw.line((x0 + w * 0.7, y0 + h * 0.35, x0 + w * 0.62, y0 + h * 0.55), fill=hole, width=slot_w)
        draw.line((x0 + w * 0.5, y0 + h * 0.62, x0 + w * 0.5, y0 + h * 0.8), fill=hole, width=slot_w)
    elif plug in "KNO":
        recess(0.38)
        pin(0.33, 0.44, 0.05)
        pin(0.67, 0.44, 0.05)
        if plug == "K":
            draw.pieslice((x0 + w * 0.42, y0 + h * 0.58, x0 + w * 0.58, y0 + h * 0.74), 0, 180, fill=hole)
        else:
            pin(0.5, 0.7 if plug == "O" else 0.64, 0.05)
    else:
        raise ValueError(f"no drawing for plug type {plug!r}")


def draw_socket(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random, plug: str | None = None) -> None:
    """A wall power outlet of a plug type (random among A, C, G, I when not given): plugs are a location clue."""
    x0, y0, x1, y1 = box
    draw.rounded_rectangle(box, radius=max(1, (x1 - x0) // 8), fill=(244, 242, 236), outline=(170, 168, 160))
    socket_holes(draw, box, plug or rng.choice("ACGI"))


def draw_sign(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random, lines: tuple[str, ...] | None = None,
              font_key: str = "latin") -> None:
    """A shop sign board: given lines in the place's scripts (none: a blank board), else a fictional English name
    (and phone, if tall)."""
    x0, y0, x1, y1 = box
    board = jitter(rng.choice(BRIGHT_COLOURS), rng, 10)
    ink = (255, 255, 255) if sum(board) < 400 else (20, 20, 20)
    draw.rectangle(box, fill=board, outline=shade(board, 0.6), width=max(1, (y1 - y0) // 12))
    pad = max(2, (y1 - y0) // 8)
    if lines is not None:
        write_lines(draw, sign_text_box(box), lines, font_key, ink)
        return
    name = rng.choice(SHOP_NAMES)
    if (y1 - y0) * 3 > (x1 - x0):
        middle = (y0 + y1) // 2
        text_centred(draw, (x0 + pad, y0 + pad, x1 - pad, middle), name, ink)
        text_centred(draw, (x0 + pad, middle, x1 - pad, y1 - pad), fictional_phone(rng), ink)
    else:
        text_centred(draw, (x0 + pad, y0 + pad, x1 - pad, y1 - pad), name, ink)


def paint_calendar(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random, lines: tuple[str, ...], font_key: str) -> None:
    """A giveaway wall calendar: the business's lines on top, the month's title, then a grid of day numbers."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    draw.rectangle(box, fill=(250, 250, 246), outline=(60, 60, 60), width=max(1, w // 60))
    band = jitter(rng.choice(BRIGHT_COLOURS), rng, 10)
    header_bottom = y0 + round(h * 0.45)
    draw.rectangle((x0 + w // 30, y0 + w // 30, x1 - w // 30, header_bottom), fill=band)
    ink = (255, 255, 255) if sum(band) < 400 else (20, 20, 20)
    pad = w // 14
    write_lines(draw, calendar_text_box(box), lines[:-1], font_key, ink)
    title_bottom = header_bottom + round(h * 0.1)
    write_line(draw, (x0 + pad, header_bottom + h // 60, x1 - pad, title_bottom), lines[-1], font_key, (20, 20, 20))
    cell_w, cell_h = (w - 2 * pad) / 7, (y1 - pad // 2 - title_bottom) / 5
    first = rng.randint(0, 6)
    for day in range(1, 31):
        row, column = divmod(first + day - 1, 7)
        if row < 5:
            cx, cy = x0 + pad + column * cell_w, title_bottom + row * cell_h
            colour = (190, 30, 30) if column == 0 else (40, 40, 40)
            write_line(draw, (round(cx), round(cy), round(cx + cell_w), round(cy + cell_h)), str(day), "latin", colour)


def draw_poster(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random, title: str | None = None,
                calendar: tuple[str, ...] = (), font_key: str = "latin") -> None:
    """A framed poster (hills and sun under an event title) or, given calendar lines, a business's wall calendar."""
    if calendar:
        paint_calendar(draw, box, rng, calendar, font_key)
        return
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
    if title is None:
        text_centred(draw, title_box, rng.choice(POSTER_TITLES), (30, 30, 30))
    else:
        write_line(draw, title_box, title, font_key, (30, 30, 30))


def draw_product(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random, price: str | None = None,
                 font_key: str = "latin") -> None:
    """A packaged product standing on a surface: a box, a bottle or a can with a coloured label, maybe a price tag."""
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
    if price:
        tag = (x0 - w // 3, y1 - max(4, h // 3), x1 + w // 3, y1)
        draw.rectangle(tag, fill=(252, 236, 90), outline=(60, 60, 60))
        write_line(draw, tag, price, font_key, (20, 20, 20))


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


def draw_vehicle(draw: ImageDraw.ImageDraw, box: Box, rng: random.Random, facing: str | None = None,
                 plate: str | None = None) -> None:
    """A car seen side-on with a fictional number plate; facing left or right shows its head- and tail-lights,
    which tell the direction of its lane and so the side of the road traffic keeps to."""
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
    if facing is None:
        plate = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3)) + f" {rng.randint(0, 9999):04d}"
        plate_box = (x1 - w // 7, body_top + h // 8, x1 - w // 60, body_top + h // 4)
        draw.rectangle(plate_box, fill=(250, 250, 240), outline=(20, 20, 20))
        text_centred(draw, plate_box, plate, (20, 20, 20))
        return
    lamp_w, lamp_h, lamp_y = max(3, w // 25), max(2, h // 10), body_top + h // 10
    front, back = (x1 - lamp_w, x0) if facing == "right" else (x0, x1 - lamp_w)
    draw.rectangle((front, lamp_y, front + lamp_w, lamp_y + lamp_h), fill=(255, 244, 190))  # head-lamp
    draw.rectangle((back, lamp_y, back + lamp_w, lamp_y + lamp_h), fill=(210, 30, 30))  # tail-lamp
    if plate:
        plate_w = w // 7
        px = x0 + w // 20 if facing == "right" else x1 - w // 20 - plate_w  # on the boot, next to the tail-lamp
        plate_box = (px, body_top + h // 8, px + plate_w, body_top + h // 4)
        draw.rectangle(plate_box, fill=(250, 250, 240), outline=(20, 20, 20))
        write_line(draw, plate_box, plate, "latin", (20, 20, 20))


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


def plan_room(size: tuple[int, int], rng: random.Random, setting: Setting | None = None) -> list[Placement]:
    """Where each primitive of an indoor scene goes: wall, floor, window, furniture, products, …

    With a setting, the place's clues go in: its socket (or none), a business calendar or local poster, price tags.
    """
    w, h = size
    horizon = round(h * rng.uniform(0.62, 0.72))
    plan: list[Placement] = [("wall", (0, 0, w, horizon), {}), ("floor", (0, horizon, w, h), {})]
    win_w = round(w * rng.uniform(0.22, 0.32))
    win_x = rng.randint(w // 20, w // 2 - win_w // 2)
    window = (win_x, round(h * 0.1), win_x + win_w, round(h * 0.1) + round(win_w * rng.uniform(0.8, 1.1)))
    plan += [("sky", window, {"skyline": True} if setting else {}), ("window", window, {})]
    poster_w = round(w * rng.uniform(0.12, 0.18))
    poster_x = rng.randint(max(w * 3 // 5, window[2] + w // 40), w - poster_w - w // 20)
    poster_y = round(h * 0.12)
    if setting and setting.calendar:
        # A calendar is read, not glanced at: large enough that its phone number survives a zoomed-out shot, and
        # inside the middle of the wall that every establishing shot keeps, even a 3:2 camera's crop of it.
        poster_w = round(poster_w * 1.5)
        poster_x = min(poster_x, round(w * 0.9) - poster_w)
        poster_y = round(h * 0.15)
    poster = (poster_x, poster_y, poster_x + poster_w, poster_y + round(poster_w * 1.4))
    plan.append(("poster", poster, poster_options(setting)))
    if rng.random() < 0.5 and setting is None:
        sign_x, sign_y = rng.randint(w // 3, w // 2), round(h * 0.04)
        plan.append(("sign", (sign_x, sign_y, sign_x + w // 6, sign_y + h // 12), {}))
    socket = round(w * (0.045 if setting else 0.035))
    socket_x = rng.randint(w // 20, w - socket - w // 20)
    if setting is None:
        plan.append(("socket", (socket_x, horizon - socket * 3, socket_x + socket, horizon - socket * 2), {}))
    furn_w = round(w * rng.uniform(0.3, 0.42))
    furn_x = rng.randint(w // 3, w - furn_w - w // 30)
    furn_top = horizon - round(h * rng.uniform(0.12, 0.2))
    plan.append(("furniture", (furn_x, furn_top, furn_x + furn_w, horizon + round(h * 0.12)), {}))
    if setting and setting.plug:
        socket_x = furn_x - 2 * socket  # beside the furniture, not behind it: the plug type must stay visible
        plan.append(("socket", (socket_x, horizon - socket * 3, socket_x + socket, horizon - socket * 2),
                     {"plug": setting.plug}))
    product_w = max(3, furn_w // 10)
    for i in range(rng.randint(2, 4)):
        px = furn_x + furn_w // 10 + i * product_w * 2
        box = (px, furn_top - round(product_w * rng.uniform(1.2, 2.2)), px + product_w, furn_top)
        plan.append(("product", box, product_options(setting, i)))
    plant_w = round(w * 0.1)
    plant_x = rng.choice((w // 40, w - plant_w - w // 40))
    plan.append(("plant", (plant_x, horizon - round(h * 0.05), plant_x + plant_w, horizon + round(h * 0.18)), {}))
    return plan


def poster_options(setting: Setting | None) -> dict[str, Any]:
    """A poster's texts in a place: its business calendar, else its event title, else (no place) an English title."""
    if setting is None:
        return {}
    if setting.calendar:
        return {"calendar": setting.calendar, "font_key": setting.font}
    return {"title": setting.poster or "", "font_key": setting.font}


def product_options(setting: Setting | None, index: int) -> dict[str, Any]:
    """The price tag of the index-th product in view, when the place has prices."""
    if setting is None or not setting.prices:
        return {}
    return {"price": setting.prices[index % len(setting.prices)], "font_key": setting.font}


def plan_street(size: tuple[int, int], rng: random.Random, setting: Setting | None = None) -> list[Placement]:
    """Where each primitive of a street scene goes: sky, shop fronts with signs, road, cars, trees.

    With a setting, shop signs carry the place's texts (the main sign, the most central, is made larger), windows
    show price tags, and cars keep to the place's side of the road.
    """
    w, h = size
    skyline = round(h * rng.uniform(0.18, 0.3))
    ground = round(h * rng.uniform(0.62, 0.7))
    plan: list[Placement] = [("sky", (0, 0, w, ground), {})]
    x = 0
    shops = 0
    while x < w:
        front_w = round(w * rng.uniform(0.22, 0.36))
        top = skyline + rng.randint(-h // 12, h // 12)
        plan.append(("wall", (x, top, x + front_w, ground), {}))
        sign_top, sign_h = top + h // 20, h // 10
        if setting:  # room for four lines, raised where a low roofline would push it into the shop window
            sign_h = h // 6
            sign_top = min(sign_top, ground - h // 4 - h // 40 - sign_h)
        sign = (x + front_w // 10, sign_top, x + front_w * 9 // 10, sign_top + sign_h)
        plan.append(("sign", sign, sign_options(setting, shops + 1)))
        # A shop window reflects the sky and shows a few products behind the glass.
        shop_window = (x + front_w // 10, max(ground - h // 4, sign[3] + h // 40), x + front_w * 6 // 10, ground - h // 30)
        plan += [("sky", shop_window, {}), ("window", shop_window, {})]
        product_w = max(3, (shop_window[2] - shop_window[0]) // 8)
        for i in range(3):
            px = shop_window[0] + product_w + i * product_w * 2
            box = (px, shop_window[3] - product_w * 2, px + product_w, shop_window[3])
            plan.append(("product", box, product_options(setting, shops * 3 + i)))
        if rng.random() < 0.5:
            poster_x, poster_y = x + front_w * 7 // 10, ground - h // 4
            options = {"title": setting.poster or "", "font_key": setting.font} if setting else {}
            plan.append(("poster", (poster_x, poster_y, poster_x + front_w // 5, poster_y + front_w * 7 // 25), options))
        x += front_w
        shops += 1
    main_sign = promote_main_sign(plan, w, setting) if setting and setting.signs else None
    plan.append(("floor", (0, ground, w, h), {"outdoor": True}))
    for _ in range(rng.randint(1, 2)):
        tree_w = round(w * 0.08)
        tree_x = rng.randint(0, w - tree_w)
        if main_sign and tree_x < main_sign[2] and tree_x + tree_w > main_sign[0]:
            tree_x = main_sign[0] - tree_w if main_sign[0] >= tree_w else main_sign[2]  # never in front of the clue
        plan.append(("plant", (tree_x, ground - round(h * 0.3), tree_x + tree_w, ground + round(h * 0.08)), {}))
    road_top = ground + (h - ground) // 3
    car_bottom = min(h, road_top + round((h - road_top) * 0.8))
    cars = []
    for _ in range(rng.randint(1, 2)):
        car_w = round(w * rng.uniform(0.26, 0.34))
        car_x = rng.randint(-car_w // 4, w - car_w * 3 // 4)
        cars.append((rng.choice(("far", "near")) if setting else "near", car_w, car_x))
    for lane, car_w, car_x in sorted(cars, key=lambda car: car[0] == "near"):  # far lane first: it is behind
        if lane == "far":
            car_w = round(car_w * 0.85)
            bottom = road_top + round((h - road_top) * 0.45)
        else:
            bottom = car_bottom
        options = vehicle_options(setting, lane, len(plan)) if setting else {}
        plan.append(("vehicle", (car_x, bottom - round(car_w * 0.42), car_x + car_w, bottom), options))
    return plan


def sign_options(setting: Setting | None, shop: int) -> dict[str, Any]:
    """A shop sign's lines in a place: the place's n-th secondary sign, or a blank board when it has none."""
    if setting is None:
        return {}
    lines = setting.signs[shop] if shop < len(setting.signs) else ()
    return {"lines": lines, "font_key": setting.font}


def promote_main_sign(plan: list[Placement], w: int, setting: Setting) -> Box:
    """Give the sign nearest the middle of the street the main sign's lines; return where it is."""
    index = min((i for i, (name, _, _) in enumerate(plan) if name == "sign"),
                key=lambda i: abs((plan[i][1][0] + plan[i][1][2]) / 2 - w / 2))
    plan[index] = ("sign", plan[index][1], {"lines": setting.signs[0], "font_key": setting.font})
    return plan[index][1]


def vehicle_options(setting: Setting, lane: str, serial: int) -> dict[str, Any]:
    """Which way a car in a lane faces: seen from across the road, the far lane runs right where traffic keeps left."""
    keeps_left = setting.driving_side == "left"
    facing = "right" if (lane == "far") == keeps_left else "left"
    plate = setting.plates[serial % len(setting.plates)] if setting.plates else None
    return {"facing": facing, "plate": plate}


def plan_scene(size: tuple[int, int], rng: random.Random, setting: Setting | None = None) -> list[Placement]:
    """Lay out a scene, back to front: an indoor room (most photos) or a street; a setting fixes which."""
    if setting is None:
        return (plan_street if rng.random() < 0.4 else plan_room)(size, rng)
    return (plan_street if setting.outdoor else plan_room)(size, rng, setting)


def check_primitives(primitives: Iterable[str] | None) -> set[str]:
    """The allowed primitives, refusing any name outside the closed list."""
    allowed = set(PRIMITIVES if primitives is None else primitives)
    unknown = allowed - set(PRIMITIVES)
    if unknown:
        raise ValueError(f"not drawing primitives: {', '.join(sorted(unknown))}; allowed: {', '.join(PRIMITIVES)}")
    return allowed


def paint(size: tuple[int, int], plan: list[Placement], rng: random.Random, allowed: set[str]) -> Image.Image:
    """Draw a planned scene through the primitive table only."""
    image = Image.new("RGB", size, (128, 128, 128))
    draw = ImageDraw.Draw(image)
    for name, box, options in plan:
        if name in allowed:
            DRAWERS[name](draw, box, rng, **options)
    return image


def render_scene(size: tuple[int, int], rng: random.Random, primitives: Iterable[str] | None = None,
                 setting: Setting | None = None) -> Image.Image:
    """Draw a room or street scene of the given size; `primitives` limits which of PRIMITIVES may appear."""
    return render_scene_with_plan(size, rng, primitives, setting)[0]


def render_scene_with_plan(size: tuple[int, int], rng: random.Random, primitives: Iterable[str] | None = None,
                           setting: Setting | None = None) -> tuple[Image.Image, list[Placement]]:
    """A drawn scene and its plan, whose boxes say where each clue (sign, calendar, socket, price) is."""
    allowed = check_primitives(primitives)
    plan = plan_scene(size, rng, setting)
    return paint(size, plan, rng, allowed), plan


def phone_status_bar(screen: Image.Image, clock: str, battery: float) -> None:
    """A phone's status bar across the top of a screenshot: the local time, signal bars and the battery level.

    Screen chrome, not a scene primitive: screenshots get it, scenes never do."""
    w = screen.width
    bar = max(12, screen.height // 28)
    draw = ImageDraw.Draw(screen)
    draw.rectangle((0, 0, w, bar), fill=(16, 16, 18))
    write_line(draw, (bar // 2, bar // 8, bar * 4, bar - bar // 8), clock, "latin", (240, 240, 240))
    for i in range(4):  # signal strength
        x = w - bar * 4 + i * bar // 4
        draw.rectangle((x, bar - bar // 5 - i * bar // 6 - bar // 6, x + bar // 6, bar - bar // 5), fill=(240, 240, 240))
    x0, y0 = w - bar * 2, bar // 4
    draw.rectangle((x0, y0, x0 + bar * 3 // 2, bar - bar // 4), outline=(240, 240, 240), width=max(1, bar // 12))
    draw.rectangle((x0 + 2, y0 + 2, x0 + 2 + round((bar * 3 // 2 - 4) * battery), bar - bar // 4 - 2), fill=(240, 240, 240))
