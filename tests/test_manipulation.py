"""vidlab.manipulation: error level analysis and the EXIF thumbnail check, on photos edited the way editors do."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthetic_data.devices import add_grain, within_grain_reach
from synthetic_data.draw import render_scene
from synthetic_data.exif import with_thumbnail
from vidlab import manipulation
from vidlab.enhance import PictureError

SIZE = (640, 480)
THUMB = (160, 120)


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return add_grain(render_scene(SIZE, random.Random(21)).point(within_grain_reach), random.Random(2))


@pytest.fixture(scope="module")
def other() -> Image.Image:
    return add_grain(render_scene(SIZE, random.Random(22)).point(within_grain_reach), random.Random(3))


def _exif(thumbnail_of: Image.Image | None, orientation: int = 1, thumbnail: bytes | None = None) -> bytes:
    """EXIF as a camera writes it: Make, Orientation and (unless None) an IFD1 thumbnail of `thumbnail_of`."""
    exif = Image.Exif()
    exif[0x010F] = "Kestrel"
    exif[0x0112] = orientation
    if thumbnail_of is None and thumbnail is None:
        return exif.tobytes()
    if thumbnail is None:
        buffer = io.BytesIO()
        thumbnail_of.resize(THUMB, Image.Resampling.BILINEAR, reducing_gap=2.0).save(buffer, "JPEG", quality=70)
        thumbnail = buffer.getvalue()
    return with_thumbnail(exif.tobytes(), thumbnail)


def _save(picture: Image.Image, path: Path, exif: bytes, quality: int = 92) -> Path:
    picture.save(path, "JPEG", quality=quality, exif=exif)
    return path


# --------------------------------------------------------------------------- thumbnail against image


def test_untouched_photo_is_consistent(photo, tmp_path) -> None:
    check = manipulation.compare_thumbnail(_save(photo, tmp_path / "a.jpg", _exif(photo)))
    assert check.verdict == "consistent" and check.similarity > 0.95
    assert check.rotation == 0 and check.changed_box is None
    assert all(abs(a - b) <= 2 for a, b in zip(check.original_box, (0, 0, *SIZE)))


def test_crop_is_found_with_its_box(photo, tmp_path) -> None:
    box = (137, 91, 137 + 400, 91 + 300)
    check = manipulation.compare_thumbnail(_save(photo.crop(box), tmp_path / "crop.jpg", _exif(photo)))
    assert check.verdict == "cropped" and check.rotation == 0
    assert all(abs(a - b) <= 4 for a, b in zip(check.original_box, box)), check.original_box  # one thumbnail pixel
    assert all(abs(a - b) <= 6 for a, b in zip(check.original_size, SIZE))
    assert check.crop_box == pytest.approx((box[0] / 640, box[1] / 480, box[2] / 640, box[3] / 480), abs=0.01)
    assert "39%" in check.note or "40%" in check.note  # 400×300 of 640×480
    assert check.marked().size == THUMB


def test_upright_crop_of_a_turned_photo_is_found(photo, tmp_path) -> None:
    """A portrait shot is stored landscape with Orientation 6; an editor turns it upright and crops it, keeping the
    landscape thumbnail."""
    upright = photo.transpose(Image.Transpose.ROTATE_270)  # 480×640, as a viewer shows it
    box = (60, 150, 60 + 330, 150 + 420)
    path = _save(upright.crop(box), tmp_path / "upright.jpg", _exif(photo, orientation=1))
    check = manipulation.compare_thumbnail(path)
    assert check.verdict == "cropped" and check.rotation == 270
    assert all(abs(a - b) <= 4 for a, b in zip(check.original_box, box)), check.original_box
    assert check.thumbnail.size == (THUMB[1], THUMB[0])


def test_letterboxed_thumbnail_of_a_wide_photo_is_consistent(photo, tmp_path) -> None:
    """Cameras fit a 16:9 photo into a 4:3 thumbnail with black bars; the bars are not part of the picture."""
    wide = photo.crop((0, 60, 640, 420))  # 640×360
    thumb = Image.new("RGB", THUMB)
    thumb.paste(wide.resize((160, 90), Image.Resampling.BILINEAR), (0, 15))
    buffer = io.BytesIO()
    thumb.save(buffer, "JPEG", quality=70)
    check = manipulation.compare_thumbnail(_save(wide, tmp_path / "wide.jpg", _exif(None, thumbnail=buffer.getvalue())))
    assert check.verdict == "consistent", check
    assert check.crop_box == pytest.approx((0, 15 / 120, 1, 105 / 120), abs=0.01)


def test_pasted_region_shows_as_edited(photo, other, tmp_path) -> None:
    patch = (300, 200, 460, 320)
    edited = photo.copy()
    edited.paste(other.crop(patch), patch[:2])
    check = manipulation.compare_thumbnail(_save(edited, tmp_path / "pasted.jpg", _exif(photo)))
    assert check.verdict == "edited"
    left, top, right, bottom = check.changed_box
    assert left <= 380 <= right and top <= 260 <= bottom  # the patch's centre
    assert left >= patch[0] - 40 and top >= patch[1] - 40 and right <= patch[2] + 40 and bottom <= patch[3] + 40
    assert np.asarray(check.difference).max() > 100


def test_thumbnail_of_another_picture(photo, other, tmp_path) -> None:
    check = manipulation.compare_thumbnail(_save(other, tmp_path / "other.jpg", _exif(photo)))
    assert check.verdict == "different picture" and check.similarity < manipulation.SAME_PICTURE


def test_missing_damaged_and_blank_thumbnails(photo, tmp_path) -> None:
    assert manipulation.compare_thumbnail(_save(photo, tmp_path / "none.jpg", _exif(None))).verdict == "no thumbnail"
    damaged = _save(photo, tmp_path / "damaged.jpg", _exif(None, thumbnail=b"\xff\xd8\xff\xdb" + bytes(300)))
    assert manipulation.compare_thumbnail(damaged).verdict == "unreadable thumbnail"
    blank = Image.new("RGB", SIZE, (120, 120, 120))
    blank_file = _save(blank, tmp_path / "blank.jpg", _exif(blank))
    assert manipulation.compare_thumbnail(blank_file).verdict == "cannot compare"
    text = tmp_path / "text.jpg"
    text.write_text("not a picture")
    assert manipulation.compare_thumbnail(text).verdict == "no thumbnail"


def test_truncated_image_with_a_thumbnail_is_an_error(photo, tmp_path) -> None:
    whole = _save(photo, tmp_path / "whole.jpg", _exif(photo))
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    with pytest.raises(PictureError, match="truncated"):
        manipulation.compare_thumbnail(cut)
    crop = _save(photo.crop((100, 80, 500, 380)), tmp_path / "crop.jpg", _exif(photo))
    table = manipulation.thumbnail_table([whole, cut, crop], progress=False)
    assert list(table.columns) == list(manipulation.THUMBNAIL_COLUMNS)
    assert table["verdict"].tolist() == ["consistent", None, "cropped"]
    assert "truncated" in table.loc[1, "error"] and table.loc[0, "error"] is None
    left, top, right, bottom = map(int, table.loc[2, "original_box"].split(","))
    assert abs(left - 100) <= 4 and abs(bottom - 380) <= 4


# --------------------------------------------------------------------------- error level analysis


def _forged(photo: Image.Image, other: Image.Image, folder: Path, paste: bool) -> tuple[Path, tuple[int, ...]]:
    """A camera JPEG (q75) decoded, optionally given a patch from an uncompressed picture, saved again at q75."""
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=75)
    decoded = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    box = (200, 120, 360, 280)
    if paste:
        decoded.paste(other.crop(box), box[:2])
    path = folder / ("forged.jpg" if paste else "resaved.jpg")
    decoded.save(path, "JPEG", quality=75)
    return path, box


def test_ela_highlights_a_pasted_region(photo, other, tmp_path) -> None:
    """The same box, once pasted in and once untouched: ELA's contrast must come from the paste, not the content
    (busy content alone already lifts a box above the rest, which is why ELA is compared like with like)."""
    path, box = _forged(photo, other, tmp_path, paste=True)
    levels = manipulation.error_level_analysis(path)
    assert levels.quality == 75  # the file's own quality, from its tables
    assert levels.image.size == SIZE and levels.difference.shape == (SIZE[1], SIZE[0])
    untouched, _ = _forged(photo, other, tmp_path, paste=False)
    baseline = manipulation.error_level_analysis(untouched).region_ratio(box)
    # Measured over grain seeds: pasted/untouched 1.7-2.0; a paste ELA cannot see stays near 1.
    assert levels.region_ratio(box) > 1.5 * baseline and levels.region_ratio(box) > 2.5


def test_ela_view_is_upright_and_settings_apply(photo, tmp_path) -> None:
    path = _save(photo, tmp_path / "portrait.jpg", _exif(None, orientation=6), quality=80)
    levels = manipulation.error_level_analysis(path, quality=90, amplify=10)
    assert levels.quality == 90 and levels.difference.shape == (SIZE[1], SIZE[0])
    assert levels.image.size == (SIZE[1], SIZE[0])  # shown as the viewer shows the photo
    png = tmp_path / "p.png"
    photo.save(png)
    assert manipulation.error_level_analysis(png).quality == 90
    assert manipulation.error_level_analysis(photo, quality=60).quality == 60


def test_ela_bad_input(photo, tmp_path) -> None:
    with pytest.raises(ValueError, match="quality"):
        manipulation.error_level_analysis(photo, quality=0)
    text = tmp_path / "t.jpg"
    text.write_text("no")
    with pytest.raises(PictureError, match="not a picture"):
        manipulation.error_level_analysis(text)
    with pytest.raises(ValueError, match="cover part"):
        manipulation.error_level_analysis(photo).region_ratio((0, 0, *SIZE))


@pytest.mark.realdata
def test_real_camera_thumbnails(real_samples: Path) -> None:
    files = sorted(p for p in real_samples.rglob("*") if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg"))
    table = manipulation.thumbnail_table(files, progress=False).set_index("path")
    assert len(table) == len(files)
    originals = table[table.index.str.contains("/(?:gps|hdr|exif-org)/", regex=True)
                      & (table["verdict"] != "no thumbnail")]
    assert len(originals) >= 20
    assert (originals["verdict"] == "consistent").mean() >= 0.9  # camera originals agree with their thumbnails
    assert table.loc[str(real_samples / "jpg" / "corrupted.jpg"), "verdict"] not in ("consistent", None)
