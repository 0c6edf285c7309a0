"""vidlab.enhance: each enhancement on real pictures, checked by what it does to their pixels."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from synthetic_data.devices import add_grain, within_grain_reach
from synthetic_data.draw import render_scene
from vidlab import enhance
from vidlab.enhance import PictureError


@pytest.fixture(scope="module")
def scene() -> Image.Image:
    return render_scene((320, 240), random.Random(11))


@pytest.fixture(scope="module")
def dim(scene: Image.Image) -> Image.Image:
    """The scene as an underexposed photo: every value squeezed into 20–70."""
    return Image.fromarray((20 + np.asarray(scene, dtype=np.float32) * 50 / 255).astype(np.uint8))


def test_levels_maps_the_points_to_black_and_white() -> None:
    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    out = enhance.levels(ramp, black=50, white=150)
    assert out[0, 50] == 0 and out[0, 150] == 255 and out[0, 100] == 128
    assert (out[:, :50] == 0).all() and (out[:, 150:] == 255).all()
    assert isinstance(out, np.ndarray) and out.dtype == np.uint8


def test_auto_levels_stretches_a_dim_picture(dim: Image.Image) -> None:
    out = enhance.levels(dim)
    pixels = np.asarray(out)
    assert isinstance(out, Image.Image) and out.size == dim.size
    assert np.percentile(pixels, 0.5) <= 2 and np.percentile(pixels, 99.5) >= 253
    # the order of brightness is kept: a monotone remapping
    before, after = np.asarray(dim).ravel(), pixels.ravel()
    order = np.argsort(before, kind="stable")
    assert (np.diff(after[order].astype(int)) >= 0).all()


def test_gamma_brightens_midtones_only() -> None:
    ramp = np.arange(256, dtype=np.uint8).reshape(16, 16)
    brighter = enhance.adjust_gamma(ramp, 2.0)
    assert brighter[0, 0] == 0 and brighter[-1, -1] == 255
    assert brighter.ravel()[128] == round(255 * (128 / 255) ** 0.5)
    assert (brighter.astype(int) >= ramp).all()
    assert (enhance.levels(ramp, 0, 255, gamma=2.0) == brighter).all()


def test_equalisation_spreads_a_dim_histogram(dim: Image.Image) -> None:
    before = np.asarray(dim.convert("L"))
    after = np.asarray(enhance.equalise(dim).convert("L"))
    assert np.ptp(before) <= 51 and np.ptp(after) >= 240
    assert after.std() > 3 * before.std()
    # colour kept: where the dim picture is clearly red, the equalised one is still red
    red = np.asarray(dim)[..., 0].astype(int) - np.asarray(dim)[..., 2] > 10
    out = np.asarray(enhance.equalise(dim)).astype(int)
    assert red.any() and (out[red, 0] > out[red, 2]).mean() > 0.95


def _detail(picture: np.ndarray) -> float:
    """Mean absolute difference from the 5×5 local mean: how much fine detail (and noise) shows."""
    pixels = np.asarray(picture, dtype=np.float32)
    return float(np.abs(pixels - ndimage.uniform_filter(pixels, 5)).mean())


def test_clahe_lifts_a_dark_corner_and_a_bright_window(scene: Image.Image) -> None:
    photo = np.asarray(add_grain(scene.point(within_grain_reach), random.Random(1)).convert("L"), dtype=np.float32)
    photo[:80, :80] *= 0.12  # a corner in deep shadow
    photo[160:, 240:] = 255 - (255 - photo[160:, 240:]) * 0.12  # a window near white
    photo = photo.astype(np.uint8)
    out = enhance.clahe(photo, clip_limit=4.0)
    assert _detail(out[8:72, 8:72]) > 2 * _detail(photo[8:72, 8:72])
    assert _detail(out[168:232, 248:312]) > 3 * _detail(photo[168:232, 248:312])


def test_clahe_does_not_blow_up_the_noise_of_a_flat_wall() -> None:
    wall = (128 + np.random.default_rng(1).normal(0, 1.5, (240, 320))).round().astype(np.uint8)
    assert enhance.clahe(wall, clip_limit=2.0).std() < 4 * wall.std()
    assert enhance.equalise(wall).std() > 30 * wall.std()  # what global equalisation does to it
    flat = enhance.clahe(np.full((64, 64), 90, np.uint8))
    assert np.ptp(flat) == 0  # a uniform picture stays uniform: no invented texture


def test_clahe_blends_tiles_without_seams(scene: Image.Image) -> None:
    out = np.asarray(enhance.clahe(scene.convert("L"), tiles=(4, 4)), dtype=np.float32)
    steps = np.abs(np.diff(out, axis=1))
    seam = steps[:, 79]  # between columns 79 and 80: a tile border
    assert seam.mean() < 2.5 * steps[:, 60:100].mean() + 1


def test_unsharp_mask_steepens_an_edge() -> None:
    edge = np.zeros((32, 64), np.uint8)
    edge[:, 32:] = 200
    soft = np.asarray(Image.fromarray(edge).resize((16, 32)).resize((64, 32), Image.Resampling.BILINEAR))
    sharp = enhance.unsharp_mask(soft, radius=2, amount=1.5, threshold=0)
    assert np.abs(np.diff(sharp[16].astype(int))).max() > np.abs(np.diff(soft[16].astype(int))).max()
    assert (sharp[:, :20] == soft[:, :20]).all()  # flat areas untouched


def test_zoom_interpolations_and_box() -> None:
    checker = (np.indices((4, 4)).sum(axis=0) % 2 * 255).astype(np.uint8)
    nearest = enhance.zoom(checker, 3, method="nearest")
    assert nearest.shape == (12, 12) and (nearest == np.kron(checker, np.ones((3, 3), np.uint8))).all()
    smooth = enhance.zoom(checker, 3, method="bicubic")
    assert len(np.unique(smooth)) > 2  # values in between: computed, not captured
    part = enhance.zoom(Image.fromarray(checker), 2, box=(0, 0, 2, 2), method="lanczos")
    assert part.size == (4, 4)
    with pytest.raises(PictureError, match="unknown interpolation"):
        enhance.zoom(checker, 2, method="magic")
    with pytest.raises(PictureError, match="not inside"):
        enhance.zoom(checker, 2, box=(0, 0, 9, 9))


def _dots(picture: np.ndarray, colour: tuple[int, int, int]) -> tuple[float, float]:
    """Centroid (x, y) of the pixels nearest in colour to `colour`."""
    distance = np.abs(picture.astype(int) - colour).sum(axis=2)
    ys, xs = np.nonzero(distance < 120)
    weights = 120 - distance[ys, xs]
    return float(np.average(xs, weights=weights)), float(np.average(ys, weights=weights))


def test_rectification_maps_four_points_to_a_rectangle_within_a_pixel() -> None:
    """A sign with coloured dots is photographed at a slant (a known perspective); rectifying from the four
    slanted corners puts every dot back where it is on the sign, within a pixel."""
    width, height = 240, 120
    sign = np.full((height, width, 3), 235, np.uint8)
    dots = {(220, 30, 30): (40, 30), (30, 160, 30): (200, 30), (30, 30, 220): (120, 90), (200, 30, 200): (60, 95)}
    yy, xx = np.mgrid[:height, :width]
    for colour, (x, y) in dots.items():
        sign[(xx - x) ** 2 + (yy - y) ** 2 <= 36] = colour
    corners = np.array([(0, 0), (width - 1, 0), (width - 1, height - 1), (0, height - 1)], float)
    slanted = np.array([(60, 40), (330, 80), (300, 230), (50, 190)], float)  # where the corners land in the photo
    # photograph: Pillow maps each photo pixel back onto the sign (pixel centres at +0.5 on both sides)
    back = enhance.homography(slanted + 0.5, corners + 0.5)
    photo = Image.fromarray(sign).transform((400, 280), Image.Transform.PERSPECTIVE, tuple(back.ravel()[:8]),
                                            Image.Resampling.BICUBIC)
    flat = np.asarray(enhance.rectify(photo, slanted, size=(width, height)))
    assert flat.shape == (height, width, 3)
    for colour, (x, y) in dots.items():
        fx, fy = _dots(flat, colour)
        assert abs(fx - x) < 1 and abs(fy - y) < 1, (colour, fx, fy)


def test_homography_maps_its_points_and_refuses_a_line() -> None:
    src = [(0, 0), (10, 0), (10, 5), (0, 5)]
    dst = [(3, 4), (20, 2), (22, 15), (1, 12)]
    h = enhance.homography(src, dst)
    for (x, y), (u, v) in zip(src, dst):
        p = h @ (x, y, 1)
        assert np.allclose(p[:2] / p[2], (u, v))
    with pytest.raises(PictureError, match="one line"):
        enhance.homography([(0, 0), (1, 1), (2, 2), (0, 5)], dst)


def test_default_rectified_size_follows_the_sides(scene: Image.Image) -> None:
    out = enhance.rectify(scene, [(10, 10), (110, 10), (110, 60), (10, 60)], method="nearest")
    assert out.size == (101, 51)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(scene.crop((10, 10, 111, 61))))


def test_open_picture_turns_upright_and_refuses_bad_files(tmp_path) -> None:
    path = tmp_path / "portrait.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (40, 20), (90, 90, 90)).save(path, exif=exif)
    assert enhance.open_picture(path).size == (20, 40)
    assert enhance.open_picture(path, upright=False).size == (40, 20)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(PictureError, match="empty"):
        enhance.open_picture(empty)
    text = tmp_path / "note.jpg"
    text.write_text("not an image")
    with pytest.raises(PictureError, match="not a picture"):
        enhance.open_picture(text)
    cut = tmp_path / "cut.jpg"
    Image.effect_noise((200, 200), 60).save(path)
    cut.write_bytes(path.read_bytes()[:800])
    with pytest.raises(PictureError, match="truncated"):
        enhance.open_picture(cut)


def test_bad_arrays_and_settings_are_refused() -> None:
    with pytest.raises(PictureError, match="uint8"):
        enhance.equalise(np.zeros((4, 4), np.float32))
    with pytest.raises(PictureError, match="shape"):
        enhance.levels(np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(PictureError, match="single-colour"):
        enhance.levels(np.full((8, 8), 7, np.uint8))
    with pytest.raises(PictureError, match="gamma"):
        enhance.adjust_gamma(np.zeros((4, 4), np.uint8), 0)
    with pytest.raises(PictureError, match="smaller than"):
        enhance.clahe(np.zeros((4, 4), np.uint8), tiles=(8, 8))


def test_mean_brightness_tells_a_dark_shot_and_survives_a_bad_file(tmp_path):
    Image.new("L", (640, 480), 30).save(tmp_path / "dusk.jpg", quality=90)
    Image.new("RGB", (640, 480), (200, 200, 200)).save(tmp_path / "day.jpg", quality=90)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff" + bytes(40))
    assert abs(enhance.mean_brightness(tmp_path / "dusk.jpg") - 30) < 2
    assert abs(enhance.mean_brightness(tmp_path / "day.jpg") - 200) < 2
    assert np.isnan(enhance.mean_brightness(tmp_path / "broken.jpg"))
