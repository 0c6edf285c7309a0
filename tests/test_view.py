"""vidlab.view: safe thumbnails, the reveal grid, exposure, break reminders, contact sheets, timelines."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from vidlab import view


def high_frequency(im: Image.Image) -> float:
    """Mean absolute Laplacian of the grey image: large for detail and edges, small when blurred."""
    a = np.asarray(im.convert("L"), dtype=float)
    lap = 4 * a[1:-1, 1:-1] - a[:-2, 1:-1] - a[2:, 1:-1] - a[1:-1, :-2] - a[1:-1, 2:]
    return float(np.abs(lap).mean())


def is_grey(im: Image.Image) -> bool:
    a = np.asarray(im.convert("RGB"))
    return bool((a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all())


def scene(width: int = 640, height: int = 480, seed: int = 1) -> Image.Image:
    """A colourful picture full of hard edges: coloured blocks with a fine stripe pattern."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(height // 16 + 1, width // 16 + 1, 3), dtype=np.uint8)
    a = np.repeat(np.repeat(blocks, 16, axis=0), 16, axis=1)[:height, :width].copy()
    a[::4, :, :] = 255 - a[::4, :, :]
    return Image.fromarray(a, "RGB")


def png_with_size(width: int, height: int) -> bytes:
    """A PNG header that declares a huge picture (a decompression bomb) and holds no pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IEND", b""))


@pytest.fixture
def pictures(tmp_path: Path) -> dict[str, Path]:
    files = {}
    for k, fmt in enumerate(("JPEG", "PNG", "WEBP", "TIFF")):
        files[fmt.lower()] = tmp_path / f"scene_{k}.{fmt.lower()}"
        scene(seed=k).save(files[fmt.lower()], format=fmt)
    whole = files["jpeg"].read_bytes()
    files["truncated"] = tmp_path / "truncated.jpg"
    files["truncated"].write_bytes(whole[: len(whole) // 2])
    files["empty"] = tmp_path / "empty.jpg"
    files["empty"].write_bytes(b"")
    files["text"] = tmp_path / "notes.jpg"
    files["text"].write_text("not a picture\n")
    files["bomb"] = tmp_path / "bomb.png"
    files["bomb"].write_bytes(png_with_size(100_000, 100_000))
    files["missing"] = tmp_path / "gone.jpg"
    files["folder"] = tmp_path / "a_folder.jpg"
    files["folder"].mkdir()
    return files


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def session(clock: FakeClock) -> view.ViewingSession:
    return view.ViewingSession(break_after_minutes=20, clock=clock)


# --------------------------------------------------------------------------- thumbnails


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "tiff"])
def test_safe_thumbnail_is_grey_and_blurred(pictures, fmt):
    safe = view.safe_thumbnail(pictures[fmt], size=128)
    sharp_colour = view.safe_thumbnail(pictures[fmt], size=128, blur=False, grey=False)
    assert safe.size == sharp_colour.size == (128, 128) and safe.mode == "RGB"
    assert is_grey(safe) and not is_grey(sharp_colour)
    assert high_frequency(safe) < 0.15 * high_frequency(sharp_colour)


def test_blur_radius_and_options_do_what_they_say(pictures):
    grey_sharp = view.safe_thumbnail(pictures["png"], size=128, blur=False)
    light = view.safe_thumbnail(pictures["png"], size=128, blur_radius=1)
    strong = view.safe_thumbnail(pictures["png"], size=128, blur_radius=12)
    assert is_grey(grey_sharp) and is_grey(light)
    assert high_frequency(strong) < high_frequency(light) < high_frequency(grey_sharp)
    colour_blurred = view.safe_thumbnail(pictures["png"], size=128, grey=False)
    assert not is_grey(colour_blurred) and high_frequency(colour_blurred) < 0.15 * high_frequency(grey_sharp)


def test_safe_thumbnail_of_an_image_leaves_it_untouched():
    original = scene(320, 200)
    before = original.tobytes()
    thumb = view.safe_thumbnail(original, size=100)
    assert thumb is not original and thumb.size == (100, 100)
    assert original.size == (320, 200) and original.mode == "RGB" and original.tobytes() == before


def test_thumbnail_is_letterboxed_and_follows_exif_orientation(tmp_path):
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": the 300×100 stored picture is upright 100×300
    Image.new("RGB", (300, 100), (220, 30, 30)).save(path, exif=exif)
    thumb = np.asarray(view.safe_thumbnail(path, size=90, blur=False, grey=False)).astype(int)
    assert (np.abs(thumb[:, :25] - view.BACKGROUND).max()) <= 2   # bars left and right: a tall picture
    assert (np.abs(thumb[:, 40:50] - (220, 30, 30)).max()) <= 12


def test_large_jpeg_is_thumbnailed(tmp_path):
    path = tmp_path / "big.jpg"
    scene(3000, 2000).save(path, quality=85)
    thumb = view.safe_thumbnail(path, size=200)
    assert thumb.size == (200, 200) and is_grey(thumb)


@pytest.mark.parametrize(("kind", "words"), [
    ("truncated", "truncated"), ("empty", "empty file"), ("text", "not a picture"),
    ("bomb", "DecompressionBomb"), ("missing", "FileNotFoundError"), ("folder", "IsADirectoryError"),
])
def test_unreadable_files_give_a_placeholder_not_an_exception(pictures, kind, words):
    tile = view.safe_thumbnail(pictures[kind], size=160)
    assert tile.size == (160, 160)
    assert words in tile.info["error"]
    assert high_frequency(tile) > 0  # it carries text, it is not a blank square


def test_thumbnails_leave_evidence_untouched(tiny_data):
    files = sorted(p for p in (tiny_data / "case" / "seized_sample").rglob("*") if p.is_file())
    before = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in files}
    sheet = view.contact_sheet(files, columns=6, size=64)
    after = {p: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in files}
    assert after == before
    rows = -(-len(files) // 6)
    assert sheet.size == (6 * 64 + 7 * view.GAP, rows * (64 + view.CAPTION_HEIGHT) + (rows + 1) * view.GAP)


# --------------------------------------------------------------------------- contact sheet


def test_contact_sheet_writes_a_real_png_of_the_expected_size(pictures, tmp_path):
    paths = [pictures[k] for k in ("jpeg", "png", "webp", "tiff", "truncated")]
    out = tmp_path / "sheet.png"
    returned = view.contact_sheet(paths, out, columns=3, size=96)
    with Image.open(out) as written:
        assert written.format == "PNG"
        assert written.size == returned.size == (3 * 96 + 4 * view.GAP, 2 * (96 + view.CAPTION_HEIGHT) + 3 * view.GAP)
        first_tile = written.convert("RGB").crop((view.GAP, view.GAP, view.GAP + 96, view.GAP + 96))
    assert is_grey(first_tile)
    assert high_frequency(first_tile) < 0.15 * high_frequency(view.safe_thumbnail(paths[0], 96, False, False))


def test_contact_sheet_of_nothing_is_still_a_picture(tmp_path):
    sheet = view.contact_sheet([], tmp_path / "none.png", columns=2, size=50)
    assert sheet.size == (2 * 50 + 3 * view.GAP, 50 + view.CAPTION_HEIGHT + 2 * view.GAP)
    assert (tmp_path / "none.png").read_bytes().startswith(b"\x89PNG")


# --------------------------------------------------------------------------- part of a picture


@pytest.fixture
def pyplot():
    """pyplot on the Agg backend (no screen), every figure closed afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def shown(fig) -> Image.Image:
    """The picture drawn on the figure's axes."""
    (ax,) = fig.axes
    (image,) = ax.images
    return Image.fromarray(np.asarray(image.get_array()))


def test_show_part_has_the_pictures_own_pixel_coordinates_on_the_axes(pyplot):
    box = (40, 30, 360, 270)
    fig = view.show_part(scene(640, 480), box=box)
    (ax,) = fig.axes
    left, right, bottom, top = ax.images[0].get_extent()
    assert (left, top, right, bottom) == box
    assert ax.get_xlim() == (40, 360) and ax.get_ylim() == (270, 30)  # y counts down, as in the picture
    assert ax.get_title() == "safe view (blurred, grey)"
    assert shown(fig).size == (320, 240)
    whole = view.show_part(scene(640, 480), title="#3")
    assert whole.axes[0].images[0].get_extent() == [0, 640, 480, 0] and whole.axes[0].get_title().startswith("#3")


def test_show_part_is_the_safe_view_unless_revealed(pyplot):
    picture, box = scene(640, 480), (40, 30, 360, 270)
    safe = shown(view.show_part(picture, box=box))
    letterbox = (320 - 240) // 2  # the 320×240 part sits in the middle of the viewer's 320×320 square
    expected = view.safe_thumbnail(picture.crop(box), size=320).crop((0, letterbox, 320, letterbox + 240))
    assert np.array_equal(np.asarray(safe), np.asarray(expected))
    colour = shown(view.show_part(picture, box=box, reveal="colour"))
    detail = shown(view.show_part(picture, box=box, reveal=True))
    assert is_grey(safe) and not is_grey(colour) and not is_grey(detail)
    assert np.array_equal(np.asarray(detail), np.asarray(picture.crop(box)))
    assert max(high_frequency(safe), high_frequency(colour)) < 0.15 * high_frequency(detail)


def test_show_part_logs_reveals_in_the_sitting(pyplot, tmp_path):
    sitting = view.ViewingSession()
    view.show_part(scene(200, 100), session=sitting)
    assert sitting.reveals == []  # the safe view is not a reveal
    view.show_part(scene(200, 100), reveal="colour", title="#7", session=sitting)
    path = tmp_path / "sign.png"
    scene(200, 100).save(path)
    view.show_part(path, box=(0, 0, 50, 50), reveal=True, title="sign", session=sitting)
    assert [(r.path, r.level) for r in sitting.reveals] == [("#7", "colour"), (str(path), "detail")]
    assert sitting.images_revealed == 2 and all(r.ended is not None for r in sitting.reveals)


def test_show_part_opens_a_file_read_only_and_upright(pyplot, tmp_path):
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 300×100, upright 100×300
    scene(300, 100).save(path, exif=exif)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    fig = view.show_part(path, box=(0, 150, 100, 300), reveal=True)
    assert fig.axes[0].images[0].get_extent() == [0, 100, 300, 150]
    assert shown(fig).size == (100, 150)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    with pytest.raises(ValueError, match="100×300 pixels"):
        view.show_part(path, box=(0, 0, 300, 100))  # the stored picture's size, not the upright one's


@pytest.mark.parametrize(("box", "words"), [
    ((600, 0, 700, 100), "not inside the picture, which is 640×480 pixels"),
    ((-5, 0, 100, 100), "not inside"),
    ((100, 100, 50, 200), "not inside"),
    ((0, 0, 100), "four numbers"),
    ((0, 0, float("inf"), 100), "four numbers"),
    ("top left", "four numbers"),
])
def test_show_part_refuses_a_box_outside_the_picture(pyplot, box, words):
    with pytest.raises(ValueError, match=words):
        view.show_part(scene(640, 480), box=box)


def test_show_part_refuses_an_unknown_reveal_and_a_file_that_is_not_a_picture(pyplot, pictures):
    with pytest.raises(ValueError, match='reveal must be False .*"colour" or True'):
        view.show_part(scene(64, 64), reveal="color")
    with pytest.raises(ValueError, match="not a picture"):
        view.show_part(pictures["text"])


# --------------------------------------------------------------------------- the viewer


def tile_bytes(viewer: view.SafeViewer) -> list[bytes]:
    return [w.value for w in viewer.image_widgets]


def test_grid_starts_safe(pictures, session):
    viewer = view.SafeViewer([pictures[k] for k in ("jpeg", "png", "webp", "tiff")], size=96, session=session)
    assert viewer.levels == [0, 0, 0, 0]
    for png in tile_bytes(viewer):
        tile = Image.open(io.BytesIO(png))
        assert tile.size == (96, 96) and is_grey(tile)
    assert all(b.description == "Reveal colour" for b in viewer.buttons)


def test_reveal_changes_exactly_one_tile_in_steps(pictures, session):
    viewer = view.SafeViewer([pictures[k] for k in ("jpeg", "png", "webp", "tiff")], size=96, session=session)
    safe = tile_bytes(viewer)

    viewer.buttons[1].click()  # colour, still blurred
    colour = tile_bytes(viewer)
    assert [a != b for a, b in zip(safe, colour)] == [False, True, False, False]
    shown = Image.open(io.BytesIO(colour[1]))
    assert not is_grey(shown) and high_frequency(shown) < 0.15 * high_frequency(viewer.tile_image(1, 2))
    assert viewer.buttons[1].description == "Reveal detail"

    viewer.buttons[1].click()  # detail
    detail = tile_bytes(viewer)
    assert [a != b for a, b in zip(colour, detail)] == [False, True, False, False]
    assert high_frequency(Image.open(io.BytesIO(detail[1]))) > 5 * high_frequency(shown)
    assert viewer.buttons[1].description == "Hide"

    viewer.buttons[1].click()  # hidden again
    assert tile_bytes(viewer) == safe and viewer.levels == [0, 0, 0, 0]


def test_grey_only_grid_reveals_colour_in_one_step(pictures, session):
    viewer = view.SafeViewer([pictures["png"]], size=64, blur=False, session=session)
    assert viewer.buttons[0].description == "Reveal colour"
    viewer.reveal(0)
    assert viewer.levels == [1] and viewer.buttons[0].description == "Hide"
    assert session.reveals[0].level == "colour"
    assert high_frequency(viewer.tile_image(0)) == high_frequency(view.safe_thumbnail(pictures["png"], 64, False, False))


def test_blur_only_grid_and_a_grid_shown_as_is(pictures, session):
    blur_only = view.SafeViewer([pictures["png"]], size=64, grey=False, session=session)
    assert blur_only.buttons[0].description == "Reveal detail" and not is_grey(blur_only.tile_image(0))
    as_is = view.SafeViewer([pictures["png"]], size=64, blur=False, grey=False, session=session)
    assert as_is.buttons[0].disabled and as_is.buttons[0].description == "shown as is"
    as_is.reveal(0)
    assert as_is.levels == [0] and len(session.reveals) == 0


def test_exposure_counter_counts_images_and_time(pictures, session, clock):
    viewer = view.SafeViewer([pictures[k] for k in ("jpeg", "png", "webp")], size=64, session=session)
    viewer.reveal(0)
    clock.now += 30
    viewer.reveal(0)            # on to detail: the same reveal goes on
    clock.now += 10
    viewer.hide(0)
    clock.now += 5
    viewer.reveal(1)
    clock.now += 15
    assert session.images_revealed == 2 and len(session.reveals) == 2
    assert session.seconds_revealed == pytest.approx(40 + 15)  # the open reveal counts up to now
    assert [r.level for r in session.reveals] == ["detail", "colour"]
    viewer.hide_all()
    viewer.reveal(0)
    assert session.images_revealed == 2 and len(session.reveals) == 3
    viewer.refresh()
    assert "2 image(s), 3 time(s)" in viewer.status.value


def test_viewers_in_one_sitting_add_up(pictures, session):
    first = view.SafeViewer([pictures["jpeg"]], size=64, session=session)
    second = view.SafeViewer([pictures["png"]], size=64, session=session)
    first.reveal(0)
    second.reveal(0)
    assert session.images_revealed == 2


def test_break_reminder_appears_after_the_limit(pictures, session, clock):
    viewer = view.SafeViewer([pictures["jpeg"], pictures["png"]], size=64, break_after_minutes=20, session=session)
    assert not viewer.break_reminder_shown
    clock.now += 19 * 60
    viewer.refresh()
    assert not viewer.break_reminder_shown
    viewer.reveal(1)
    clock.now += 61
    viewer.reveal(1)  # any click rechecks the clock
    assert viewer.break_reminder_shown
    assert "20 minutes" in viewer.break_box.value and viewer.break_button.layout.display != "none"

    viewer.break_button.click()
    assert not viewer.break_reminder_shown
    assert viewer.levels == [0, 0] and session.breaks == 1
    clock.now += 19 * 60
    viewer.refresh()
    assert not viewer.break_reminder_shown


def test_in_a_live_kernel_the_reminder_comes_up_without_a_click(pictures, session, clock, monkeypatch):
    monkeypatch.setattr(view, "BREAK_CHECK_DELAY", 0.01)

    async def displayed_then_left_alone() -> view.SafeViewer:
        viewer = view.SafeViewer([pictures["jpeg"]], size=64, break_after_minutes=20, session=session)
        clock.now += 20 * 60 - 0.05
        viewer._repr_mimebundle_()  # what Jupyter calls to show it, inside the kernel's event loop
        clock.now += 0.1
        assert not viewer.break_reminder_shown
        await asyncio.sleep(0.3)  # the kernel sits idle; its loop runs the check
        return viewer

    assert asyncio.run(displayed_then_left_alone()).break_reminder_shown


def test_unreadable_tiles_cannot_be_revealed(pictures, session):
    viewer = view.SafeViewer([pictures["empty"], pictures["jpeg"], pictures["missing"]], size=64, session=session)
    assert viewer.errors[1] is None and "empty" in viewer.errors[0] and "FileNotFound" in viewer.errors[2]
    assert viewer.buttons[0].disabled and viewer.buttons[0].description == "unreadable"
    before = tile_bytes(viewer)
    viewer.reveal(0)
    assert tile_bytes(viewer) == before and session.reveals == []


def test_file_names_are_escaped_in_the_grid(tmp_path, session):
    path = tmp_path / '<img src=x onerror="alert(1)">.png'
    scene(64, 64).save(path)
    viewer = view.SafeViewer([path], size=64, session=session)
    html_out = viewer.widget.children[2].children[0].children[1].value
    assert "<img" not in html_out and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;.png" in html_out


def test_static_fallback_is_the_safe_sheet_even_while_revealed(pictures, session):
    viewer = view.SafeViewer([pictures["jpeg"], pictures["png"]], columns=2, size=80, session=session)
    viewer.reveal(0)
    viewer.reveal(0)
    bundle = viewer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    sheet = Image.open(io.BytesIO(bundle["image/png"]))
    assert sheet.size == (2 * 80 + 3 * view.GAP, 80 + view.CAPTION_HEIGHT + 2 * view.GAP)
    assert is_grey(sheet)
    assert "1 image(s)" in bundle["text/plain"]


def test_safe_grid_uses_the_kernel_sitting(pictures, monkeypatch):
    monkeypatch.setattr(view, "_SESSION", None)
    first = view.safe_grid([pictures["jpeg"]], size=64)
    assert first.session is view.viewing_session()
    assert first.session.break_after_minutes == view.BREAK_AFTER_MINUTES
    second = view.safe_grid([pictures["png"]], size=64, break_after_minutes=5)
    assert second.session is first.session and first.session.break_after_minutes == 5


# --------------------------------------------------------------------------- timelines


def agg_axes():
    fig = Figure(figsize=(6, 2))
    FigureCanvasAgg(fig)
    return fig.subplots()


def plotted_points(ax) -> int:
    return sum(len(c.get_offsets()) for c in ax.collections)


def test_timeline_draws_one_point_per_time_by_device():
    bkk = dt.timezone(dt.timedelta(hours=7))
    times = [dt.datetime(2024, 5, 1, 9, tzinfo=bkk), dt.datetime(2024, 5, 1, 12, tzinfo=bkk), None,
             dt.datetime(2024, 5, 2, 8, tzinfo=bkk), "not a time", dt.datetime(2024, 5, 3, 20, tzinfo=bkk)]
    labels = ["Canon EOS", "Canon EOS", "Canon EOS", "iPhone", "iPhone", "iPhone"]
    ax = view.timeline(times, labels, ax=agg_axes())
    assert plotted_points(ax) == 4 and len(ax.collections) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Canon EOS", "iPhone"]
    assert ax.get_xlabel() == "time (UTC+07:00)"
    assert "2 without a usable time" in ax.get_title()
    ax.figure.canvas.draw()


def test_timeline_of_naive_exif_strings_and_mixed_zones():
    ax = view.timeline(["2024:05:01 10:00:00", "2024:05:01 10:05:00", "2024:05:02 07:00:00"], ax=agg_axes())
    assert plotted_points(ax) == 3 and "no time zone" in ax.get_xlabel()

    utc, bkk = dt.timezone.utc, dt.timezone(dt.timedelta(hours=7))
    ax = view.timeline([dt.datetime(2024, 5, 1, 3, tzinfo=utc), dt.datetime(2024, 5, 1, 10, tzinfo=bkk)],
                       ["a", "b"], ax=agg_axes())
    assert ax.get_xlabel() == "time (UTC)"
    xs = [c.get_offsets()[0, 0] for c in ax.collections]
    assert xs[0] == pytest.approx(xs[1])  # 03:00 UTC and 10:00 at UTC+7 are the same moment

    with pytest.raises(ValueError, match="UTC offset"):
        view.timeline([dt.datetime(2024, 5, 1, 3, tzinfo=utc), dt.datetime(2024, 5, 1, 3)])
    with pytest.raises(ValueError, match="labels"):
        view.timeline([dt.datetime(2024, 5, 1)], ["a", "b"])
