"""Safe viewing: blurred greyscale thumbnails first, one image revealed at a time, exposure counted.

Seeing harmful material harms the people who review it, so the course's viewer shows as little
as the task needs. Every tile starts blurred and grey. Its button reveals that one image in
steps, each a deliberate click: first **colour, still blurred** (often enough to read a scene —
the colour of a wall, a logo, a sign), then **detail** (sharp), then **Hide**. The viewer counts
what was revealed and for how long, and reminds the viewer to take a break after a set time.
A cell's output holds only the blurred grey contact sheet (what papermill, nbconvert and static
views show). Widget state, if saved with the notebook (JupyterLab's "Save Widget State
Automatically", off by default; nbclient/papermill runs), holds the tiles as they are at that
moment: press "Hide all" before saving. `show_part` shows one part of a picture (a sign, a price tag)
the same way, safe view first, with the picture's own pixel coordinates on its axes.

State: each viewer keeps its tiles; the sitting (reveals, timings, break clock) is a
`ViewingSession`, by default one per kernel shared by every viewer (`viewing_session()`).
"""

from __future__ import annotations

import asyncio
import html
import io
import math
import os
import re
import textwrap
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps, UnidentifiedImageError

from vidlab.enhance import open_picture
from vidlab.evidence import open_readonly, short_error
from vidlab.formats import picture_formats, refuse_bomb

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "safe_thumbnail",
    "contact_sheet",
    "show_part",
    "Reveal",
    "ViewingSession",
    "viewing_session",
    "SafeViewer",
    "safe_grid",
    "timeline",
]

PathLike = str | os.PathLike[str]

#: Pillow formats the viewer decodes. Others (EPS runs Ghostscript, PDF, PSD, scientific formats)
#: are refused: a viewer must not run outside programs on evidence or guess at exotic files.
#: Letterbox around thumbnails that are not square (a neutral mid grey, the same in every mode).
BACKGROUND = (110, 110, 110)
#: Contact sheets: space between tiles and height of the file-name line under each, in pixels.
GAP = 6
CAPTION_HEIGHT = 18
#: What show_part() shows at each `reveal`: the safe view, colour still blurred, or detail.
REVEAL_TITLES = {False: "safe view (blurred, grey)", "colour": "colour, still blurred", True: "revealed"}
#: Default minutes of viewing before the break reminder.
BREAK_AFTER_MINUTES = 20
#: Seconds after the break falls due that a live kernel rechecks it (so the clock has surely passed).
BREAK_CHECK_DELAY = 1.0


# --------------------------------------------------------------------------- thumbnails


@lru_cache(maxsize=1)
@lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans (shipped with matplotlib) at `px` pixels; Pillow's own font if that is missing.

    Pillow's built-in Aileron has 2-pixel spaces at small sizes, which makes error text hard to read.
    """
    import matplotlib

    try:
        dejavu = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        return ImageFont.truetype(dejavu, max(px, 8))
    except OSError:
        return ImageFont.load_default(size=max(px, 8))


def _fitted(source: PathLike | Image.Image, size: int) -> Image.Image:
    """The picture upright, in colour, fitted into a size×size square (letterboxed); may raise."""
    if isinstance(source, Image.Image):
        picture = _upright(source)  # a new image: the caller's is left as it was
    else:
        with open_readonly(source) as f:
            if os.fstat(f.fileno()).st_size == 0:
                raise ValueError("empty file (0 bytes)")
            with warnings.catch_warnings():  # Pillow's bomb warning: refuse_bomb decides, after the JPEG draft
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                im = Image.open(f, formats=picture_formats())
            with im:
                im.draft("RGB", (size, size))  # JPEG: decode at 1/2…1/8 scale straight away
                refuse_bomb(im)
                picture = _upright(im)
    picture.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
    tile = Image.new("RGB", (size, size), BACKGROUND)
    tile.paste(picture, ((size - picture.width) // 2, (size - picture.height) // 2))
    return tile


def _upright(im: Image.Image) -> Image.Image:
    """A new, loaded RGB image turned by its EXIF orientation; transparent areas on the background grey."""
    try:
        turned = ImageOps.exif_transpose(im)
    except Exception:  # a damaged orientation tag must not cost the picture itself
        turned = im.copy()
    if turned.mode in ("RGBA", "LA", "PA") or (turned.mode == "P" and "transparency" in turned.info):
        rgba = turned.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(flat, rgba).convert("RGB")
    return turned.convert("RGB")


def _obscured(tile: Image.Image, grey: bool, blur: bool, blur_radius: float) -> Image.Image:
    """The tile greyscale (R == G == B) and/or blurred, as RGB."""
    out = tile.convert("L") if grey else tile
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur_radius))
    return out.convert("RGB")


def _placeholder(source: Any, size: int, error: str) -> Image.Image:
    """A dark tile that says which file could not be shown and why; the reason is also in .info."""
    tile = Image.new("RGB", (size, size), (45, 45, 45))
    draw = ImageDraw.Draw(tile)
    px = max(size // 16, 9)
    name = Path(source).name if isinstance(source, (str, os.PathLike)) else type(source).__name__
    width = max(size // (px * 6 // 10), 8)  # characters per line for this font size
    lines = ["cannot show", *textwrap.wrap(name, width)[:2], "", *textwrap.wrap(error, width)[:6]]
    draw.multiline_text((px // 2, px // 2), "\n".join(lines), fill=(225, 225, 225), font=_font(px), spacing=2)
    tile.info["error"] = error
    return tile


def _tile(source: PathLike | Image.Image, size: int) -> tuple[Image.Image, str | None]:
    """The fitted colour tile and None, or a placeholder and the reason the file cannot be shown."""
    try:
        return _fitted(source, size), None
    except UnidentifiedImageError:  # Pillow's message names only a file handle
        error = f"not a picture in a format the viewer opens ({', '.join(picture_formats())})"
        return _placeholder(source, size, error), error
    except Exception as exc:  # any decoder failure (truncated, bomb, unreadable) → a placeholder
        error = short_error(exc)
        return _placeholder(source, size, error), error


def default_blur_radius(size: int) -> float:
    """Blur strong enough to hide detail but keep a scene's layout: 1/32 of the tile (8 px at 256)."""
    return size / 32


def safe_thumbnail(
    path_or_image: PathLike | Image.Image,
    size: int = 256,
    blur: bool = True,
    grey: bool = True,
    blur_radius: float | None = None,
) -> Image.Image:
    """A size×size RGB thumbnail, blurred and greyscale by default; never raises for a bad file.

    The file is opened read-only and only in formats.PICTURE_FORMATS; JPEGs are decoded at
    reduced scale (draft mode). An unreadable file gives a placeholder tile naming the problem
    (also in ``.info["error"]``), so one broken file cannot break a grid.
    """
    tile, error = _tile(path_or_image, size)
    if error is not None:
        return tile
    return _obscured(tile, grey, blur, default_blur_radius(size) if blur_radius is None else blur_radius)


def _caption(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, width_px: int) -> None:
    """One line of text under a tile, shortened in the middle to fit."""
    font = _font(CAPTION_HEIGHT - 6)
    while len(text) > 5 and draw.textlength(text, font=font) > width_px:
        half = len(text) // 2
        text = text[: half - 2] + "…" + text[half + 1:]
    draw.text(xy, text, fill=(40, 40, 40), font=font)


def _sheet(tiles: Sequence[Image.Image], captions: Sequence[str], columns: int, size: int) -> Image.Image:
    """Tiles in a grid with a caption under each, on a light background."""
    rows = max(1, math.ceil(len(tiles) / columns))
    width = columns * size + (columns + 1) * GAP
    height = rows * (size + CAPTION_HEIGHT) + (rows + 1) * GAP
    sheet = Image.new("RGB", (width, height), (245, 245, 245))
    draw = ImageDraw.Draw(sheet)
    if not tiles:
        draw.text((GAP, GAP), "no images", fill=(40, 40, 40), font=_font(CAPTION_HEIGHT - 6))
    for k, (tile, caption) in enumerate(zip(tiles, captions)):
        x = GAP + (k % columns) * (size + GAP)
        y = GAP + (k // columns) * (size + CAPTION_HEIGHT + GAP)
        sheet.paste(tile, (x, y))
        _caption(draw, (x, y + size + 2), caption, size)
    return sheet


def _name(source: PathLike | Image.Image) -> str:
    return Path(source).name if isinstance(source, (str, os.PathLike)) else "(image)"


def contact_sheet(
    paths: Iterable[PathLike],
    out_png: PathLike | None = None,
    columns: int = 4,
    size: int = 192,
    blur: bool = True,
    grey: bool = True,
) -> Image.Image:
    """Safe thumbnails of the files in a grid with their names, written to `out_png` if given.

    The static stand-in for the live viewer (papermill, CI, reports). Sheet size:
    columns·size + (columns+1)·GAP wide, rows·(size+CAPTION_HEIGHT) + (rows+1)·GAP high.
    """
    paths = list(paths)
    tiles = [safe_thumbnail(p, size, blur, grey) for p in paths]
    sheet = _sheet(tiles, [_name(p) for p in paths], columns, size)
    if out_png is not None:
        sheet.save(out_png, format="PNG")
    return sheet


# --------------------------------------------------------------------------- part of a picture


def _checked_box(box: Sequence[float] | None, width: int, height: int) -> tuple[int, int, int, int]:
    """The box (left, top, right, bottom) in whole pixels, the whole picture if None; refused unless inside it."""
    if box is None:
        return 0, 0, width, height
    try:
        left, top, right, bottom = (round(float(v)) for v in box)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"box must be four numbers (left, top, right, bottom), not {box!r}") from None
    if not (0 <= left < right <= width and 0 <= top < bottom <= height):
        raise ValueError(
            f"box {tuple(box)} is not inside the picture, which is {width}×{height} pixels: "
            f"left < right between 0 and {width}, top < bottom between 0 and {height}"
        )
    return left, top, right, bottom


def show_part(
    picture: PathLike | Image.Image,
    box: Sequence[float] | None = None,
    reveal: bool | str = False,
    size: int | None = None,
    title: str = "",
    session: ViewingSession | None = None,
) -> Figure:
    """Part of a picture through the safe viewer, with the picture's own pixel coordinates on the axes.

    `box` = (left, top, right, bottom) in pixels of the upright picture; None shows it whole. Blurred and
    grey by default; reveal="colour" brings colour back (still blurred), reveal=True shows detail: reveal
    detail only for the small part you need to read. A file is opened read-only. `size` is the viewer's
    square in pixels (default: the part's own size, at most 800). The figure shows itself as a cell's
    last line; in the middle of a cell, pass it to display(). A reveal is logged in the sitting (`session`,
    by default the kernel's), as the grid viewer's are.
    """
    if not (reveal is False or reveal is True or reveal == "colour"):
        raise ValueError(f'reveal must be False (safe view), "colour" or True (detail), not {reveal!r}')
    if size is not None and size < 1:
        raise ValueError(f"size must be at least 1 pixel, not {size!r}")
    import matplotlib.pyplot as plt

    # Upright first, so the axes count pixels as the picture is seen, whatever its EXIF orientation.
    whole = _upright(picture) if isinstance(picture, Image.Image) else open_picture(picture)
    box = _checked_box(box, whole.width, whole.height)
    part = whole.crop(box)
    size = size or min(max(part.size), 800)
    tile = safe_thumbnail(part, size=size, blur=reveal is not True, grey=reveal is False)
    scale = min(1.0, size / max(part.size))  # the viewer shrinks a picture to fit, never enlarges it
    shown_w, shown_h = max(1, round(part.width * scale)), max(1, round(part.height * scale))
    left, top = (size - shown_w) // 2, (size - shown_h) // 2
    fig, ax = plt.subplots(figsize=(7, 7 * shown_h / shown_w))
    ax.imshow(tile.crop((left, top, left + shown_w, top + shown_h)), extent=(box[0], box[2], box[3], box[1]))
    ax.set_title(f"{title} · {REVEAL_TITLES[reveal]}" if title else REVEAL_TITLES[reveal])
    ax.grid(alpha=0.3)
    # Out of pyplot's list: Jupyter then shows it once, as the cell's result, not again when the cell ends.
    plt.close(fig)
    if reveal is not False:  # a figure cannot tell when it scrolls away: the look counts, with no duration
        sitting = session or viewing_session()
        name = (title or "a picture in memory") if isinstance(picture, Image.Image) else os.fspath(picture)
        sitting.end(sitting.begin(name, "colour" if reveal == "colour" else "detail"))
    return fig


# --------------------------------------------------------------------------- the sitting


@dataclass
class Reveal:
    """One image shown beyond the safe view: how far (colour or detail) and from when to when."""

    path: str
    level: str
    started: float
    ended: float | None = None


class ViewingSession:
    """One sitting's exposure: what was revealed and for how long, and when a break is due.

    `clock` is any monotonic seconds counter (inject one to test); the break clock starts when
    the session is made and restarts at `took_break()`.
    """

    def __init__(self, break_after_minutes: float = BREAK_AFTER_MINUTES, clock: Callable[[], float] = time.monotonic) -> None:
        self.break_after_minutes = break_after_minutes
        self.clock = clock
        self.since = clock()
        self.breaks = 0
        self.reveals: list[Reveal] = []

    def begin(self, path: str, level: str) -> Reveal:
        """Record that an image is now shown beyond the safe view."""
        reveal = Reveal(path, level, self.clock())
        self.reveals.append(reveal)
        return reveal

    def end(self, reveal: Reveal) -> None:
        """Record that a revealed image is hidden again."""
        if reveal.ended is None:
            reveal.ended = self.clock()

    @property
    def images_revealed(self) -> int:
        """How many different images were revealed."""
        return len({r.path for r in self.reveals})

    @property
    def seconds_revealed(self) -> float:
        """Total time images were shown beyond the safe view (still-open reveals count up to now)."""
        now = self.clock()
        return sum((r.ended if r.ended is not None else now) - r.started for r in self.reveals)

    @property
    def minutes_viewing(self) -> float:
        """Minutes since the sitting began or since the last break."""
        return (self.clock() - self.since) / 60

    @property
    def break_due(self) -> bool:
        return self.minutes_viewing >= self.break_after_minutes

    def took_break(self) -> None:
        """Restart the break clock (reveals stay in the log)."""
        self.since = self.clock()
        self.breaks += 1

    def summary(self) -> str:
        """One line for the viewer's status bar and for notes."""
        shown = self.seconds_revealed
        return (
            f"Revealed this sitting: {self.images_revealed} image(s), {len(self.reveals)} time(s), "
            f"{int(shown // 60)} min {int(shown % 60):02d} s in colour or detail. "
            f"Viewing for {int(self.minutes_viewing)} min; "
            f"break reminder at {self.break_after_minutes:g} min."
        )


_SESSION: ViewingSession | None = None  # the kernel's sitting; the module's only state


def viewing_session() -> ViewingSession:
    """This kernel's sitting, shared by every viewer opened in it, so exposure adds up across grids."""
    global _SESSION
    if _SESSION is None:
        _SESSION = ViewingSession()
    return _SESSION


# --------------------------------------------------------------------------- the viewer


BREAK_MESSAGE = (
    "<b>Time for a break.</b> You have been viewing for {minutes} minutes. Stand up, look away "
    "from the screen, get some air or talk to a colleague, then carry on."
)


def _steps(grey: bool, blur: bool) -> list[tuple[bool, bool]]:
    """(grey, blur) of each reveal step, safe view first: colour comes back before detail."""
    steps = [(grey, blur)]
    if grey:
        steps.append((False, blur))
    if blur:
        steps.append((False, False))
    return steps


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


class SafeViewer:
    """A grid of safe thumbnails with a per-image reveal, an exposure counter and a break reminder.

    In Jupyter it displays as an ipywidgets grid; anywhere that cannot run widgets (papermill,
    nbconvert, a static notebook view) it displays as the blurred grey contact sheet. `reveal(i)`,
    `hide(i)`, `hide_all()` and `took_break()` are what the buttons call; `widget` is the whole
    grid, `image_widgets`/`buttons` the tiles, `status` the exposure counter and `break_box` the
    reminder, which also comes up by itself in a live kernel when the break falls due.
    """

    def __init__(
        self,
        paths: Iterable[PathLike],
        columns: int = 4,
        size: int = 192,
        blur: bool = True,
        grey: bool = True,
        break_after_minutes: float | None = None,
        session: ViewingSession | None = None,
    ) -> None:
        self.paths = [os.fspath(p) for p in paths]
        self.columns, self.size = columns, size
        self.session = session or viewing_session()
        if break_after_minutes is not None:  # applies to the whole sitting, like the session itself
            self.session.break_after_minutes = break_after_minutes
        self.steps = _steps(grey, blur)
        self.blur_radius = default_blur_radius(size)
        self.levels = [0] * len(self.paths)
        self._open: dict[int, Reveal] = {}
        self._break_check: asyncio.TimerHandle | None = None
        tiles = [_tile(p, size) for p in self.paths]  # unreadable files: placeholders, never revealable
        self._tiles = [tile for tile, _ in tiles]
        self.errors = [error for _, error in tiles]
        self._build_widgets()

    # ---- what each tile shows

    def tile_image(self, i: int, level: int | None = None) -> Image.Image:
        """Tile i as shown at a reveal level (default: its current one)."""
        if self.errors[i] is not None:
            return self._tiles[i]
        grey, blur = self.steps[self.levels[i] if level is None else level]
        return _obscured(self._tiles[i], grey, blur, self.blur_radius)

    def _level_name(self, level: int) -> str:
        """'safe', or what the step brings back: 'colour' (grey removed) or 'detail' (blur removed)."""
        if level == 0:
            return "safe"
        was_grey, _ = self.steps[level - 1]
        is_grey, _ = self.steps[level]
        return "colour" if was_grey and not is_grey else "detail"

    def _button_text(self, i: int) -> str:
        if self.errors[i] is not None:
            return "unreadable"
        if len(self.steps) == 1:
            return "shown as is"
        nxt = self.levels[i] + 1
        return "Hide" if nxt == len(self.steps) else f"Reveal {self._level_name(nxt)}"

    # ---- actions

    def reveal(self, i: int) -> None:
        """Move tile i one step on: safe → colour → detail → safe (Hide)."""
        if self.errors[i] is not None or len(self.steps) == 1:
            return
        self._set_level(i, (self.levels[i] + 1) % len(self.steps))

    def hide(self, i: int) -> None:
        """Back to the safe view for tile i."""
        self._set_level(i, 0)

    def hide_all(self) -> None:
        """Every tile back to the safe view (the "Hide all" button: someone walks in, or a break)."""
        for i in range(len(self.paths)):
            self.hide(i)

    def took_break(self) -> None:
        """Hide everything and restart the break clock."""
        self.hide_all()
        self.session.took_break()
        self.refresh()
        self._schedule_break_check()

    def _set_level(self, i: int, level: int) -> None:
        if level == self.levels[i]:
            return
        self.levels[i] = level
        if level == 0:
            self.session.end(self._open.pop(i))
        elif i in self._open:
            self._open[i].level = self._level_name(level)
        else:
            self._open[i] = self.session.begin(self.paths[i], self._level_name(level))
        self.image_widgets[i].value = _png(self.tile_image(i))
        self.buttons[i].description = self._button_text(i)
        self.refresh()

    # ---- widgets

    def _build_widgets(self) -> None:
        import ipywidgets as widgets

        self.image_widgets: list[widgets.Image] = []
        self.buttons: list[widgets.Button] = []
        cells = []
        for i, p in enumerate(self.paths):
            image = widgets.Image(value=_png(self.tile_image(i)), format="png",
                                  width=self.size, height=self.size)
            button = widgets.Button(description=self._button_text(i), disabled=self.errors[i] is not None
                                    or len(self.steps) == 1, layout=widgets.Layout(width=f"{self.size}px"))
            button.on_click(lambda _b, i=i: self.reveal(i))
            # File names on seized media are untrusted text: escaped, never rendered as HTML.
            name = widgets.HTML(f'<div title="{html.escape(p)}" style="width:{self.size}px;overflow:hidden;'
                                f'text-overflow:ellipsis;white-space:nowrap;font-size:11px">'
                                f'{html.escape(Path(p).name)}</div>')
            self.image_widgets.append(image)
            self.buttons.append(button)
            cells.append(widgets.VBox([image, name, button]))
        self.status = widgets.HTML()
        self.break_box = widgets.HTML(layout=widgets.Layout(display="none"))
        self.break_button = widgets.Button(description="I took a break",
                                           layout=widgets.Layout(display="none"))
        self.break_button.on_click(lambda _b: self.took_break())
        hide_all = widgets.Button(description="Hide all", button_style="warning")
        hide_all.on_click(lambda _b: self.hide_all())
        grid = widgets.GridBox(cells, layout=widgets.Layout(
            grid_template_columns=f"repeat({self.columns}, {self.size + 8}px)", grid_gap="6px"))
        self.widget = widgets.VBox([
            widgets.HBox([hide_all, self.status]), widgets.HBox([self.break_box, self.break_button]), grid,
        ])
        self.refresh()

    def _schedule_break_check(self) -> None:
        """In a live kernel, bring the reminder up when the break falls due even if nobody clicks."""
        try:
            loop = asyncio.get_running_loop()  # the kernel's own loop: the check runs while it is idle
        except RuntimeError:  # plain Python: the reminder updates at each click and refresh()
            return
        if self._break_check is not None:
            self._break_check.cancel()
        due_in = (self.session.break_after_minutes - self.session.minutes_viewing) * 60
        self._break_check = loop.call_later(max(due_in, 0.0) + BREAK_CHECK_DELAY, self.refresh)

    def refresh(self) -> None:
        """Update the exposure counter and show or hide the break reminder."""
        self.status.value = f'<span style="font-size:12px">{self.session.summary()}</span>'
        due = self.session.break_due
        self.break_box.value = BREAK_MESSAGE.format(minutes=int(self.session.minutes_viewing)) if due else ""
        self.break_box.layout.display = "" if due else "none"
        self.break_button.layout.display = "" if due else "none"

    @property
    def break_reminder_shown(self) -> bool:
        return self.break_box.layout.display != "none"

    def contact_sheet(self) -> Image.Image:
        """The grid as one picture, every tile in the safe view whatever is revealed on screen."""
        return _sheet([self.tile_image(i, 0) for i in range(len(self.paths))],
                      [_name(p) for p in self.paths], self.columns, self.size)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """Live Jupyter shows the widget; anything else (nbconvert, papermill output) the safe sheet."""
        self._schedule_break_check()
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["image/png"] = _png(self.contact_sheet())
        bundle["text/plain"] = f"SafeViewer of {len(self.paths)} images. {self.session.summary()}"
        return bundle


def safe_grid(
    paths: Iterable[PathLike],
    columns: int = 4,
    size: int = 192,
    blur: bool = True,
    grey: bool = True,
    break_after_minutes: float | None = None,
) -> SafeViewer:
    """A SafeViewer of the files in this kernel's sitting: it shows itself as a cell's last line.

    `break_after_minutes` sets the sitting's reminder (20 minutes unless set). In the middle of a
    cell, pass the viewer to IPython's display().
    """
    return SafeViewer(paths, columns, size, blur, grey, break_after_minutes)


# --------------------------------------------------------------------------- timelines


_EXIF_DATE = re.compile(r"^(\d{4}):(\d{2}):(\d{2})")


def _timestamp(value: Any) -> Any:
    """A pandas Timestamp from a datetime, Timestamp or string (EXIF's 2024:05:01 too); NaT if none."""
    if isinstance(value, str):
        value = _EXIF_DATE.sub(r"\1-\2-\3", value.strip())
    try:
        return pd.Timestamp(value) if value is not None else pd.NaT
    except (ValueError, TypeError):
        return pd.NaT


def _zone_name(stamp: pd.Timestamp) -> str:
    """'Asia/Bangkok' for a named zone, 'UTC+07:00' for a bare offset."""
    name = str(stamp.tzinfo)
    if name.startswith(("tzoffset", "tzlocal", "pytz.FixedOffset")):
        minutes = int(stamp.utcoffset().total_seconds() // 60)
        name = f"UTC{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return name


def _common_axis(stamps: list[pd.Timestamp]) -> tuple[list[pd.Timestamp], str]:
    """Times on one axis and its label: their own zone if they share one, else UTC; naive as given."""
    zoned = [s.tzinfo is not None for s in stamps]
    if not any(zoned):
        return stamps, "camera clock time (no time zone recorded)"
    if not all(zoned):
        raise ValueError(
            "some times carry a UTC offset and some do not: a time without one is a camera clock in an "
            "unknown zone, so they cannot share an axis. Give those a zone (tz_localize) or plot them apart."
        )
    if len({_zone_name(s) for s in stamps}) > 1:
        return [s.tz_convert("UTC").tz_localize(None) for s in stamps], "time (UTC)"
    zone = stamps[0].tzinfo
    return [s.tz_convert(zone).tz_localize(None) for s in stamps], f"time ({_zone_name(stamps[0])})"


def timeline(
    times: Iterable[Any] | pd.Series,
    labels: Iterable[Any] | pd.Series | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Capture times as points on a time axis, one row per device or series label.

    Zone-aware times are drawn in their shared zone (or UTC when they differ); naive times as
    recorded (a camera's clock). Mixing the two is refused with an explanation. Missing or
    unreadable times are left off and counted in the title.
    """
    import matplotlib.dates as mdates

    times = list(times)
    if labels is None:
        labels = ["all"] * len(times)
    else:
        labels = ["(no label)" if pd.isna(v) else str(v) for v in labels]
    if len(labels) != len(times):
        raise ValueError(f"{len(labels)} labels for {len(times)} times")
    parsed = [(_timestamp(t), label) for t, label in zip(times, labels)]
    known = [(t, label) for t, label in parsed if not pd.isna(t)]
    stamps, axis_label = _common_axis([t for t, _ in known])
    if ax is None:
        import matplotlib.pyplot as plt

        rows = len({label for _, label in known})
        _, ax = plt.subplots(figsize=(9, 1.2 + 0.45 * max(rows, 1)))
    groups = list(dict.fromkeys(label for _, label in known))  # first-seen order
    for row, group in enumerate(groups):
        xs = [s.to_pydatetime() for s, (_, label) in zip(stamps, known) if label == group]
        ax.scatter(xs, [row] * len(xs), s=22, alpha=0.8, zorder=3)
    ax.set_yticks(range(len(groups)), groups)
    ax.set_ylim(-0.7, len(groups) - 0.3)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(axis_label)
    ax.grid(axis="x", alpha=0.3)
    missing = len(times) - len(known)
    note = f" ({missing} without a usable time left off)" if missing else ""
    ax.set_title(f"{len(known)} capture times{note}", fontsize=9)
    return ax
