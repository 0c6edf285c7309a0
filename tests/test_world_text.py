"""Scene text: the shipped font subsets hold every character the generator writes, and each script renders glyphs."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw, features

from synthetic_data import draw, signage

FONT_DIR = draw.FONT_DIR
PRIVATE_USE = "\ue000"  # in no font: renders as the .notdef box
SAMPLES = {  # one word per script the course needs, in the font that draws it
    "latin": ("Hà Nội", "Эмийн"),
    "thai": ("ร้านขายยา", "ดอกบัว"),
    "devanagari": ("मेडिकल", "काठमाडौं"),
    "cjk_sc": ("药房", "广州"),
    "cjk_tc": ("藥房", "澳門"),
    "cjk_jp": ("ラーメン", "さくら"),
    "cjk_kr": ("약국", "서울"),
}


def mask(key: str, text: str, size: int = 32) -> bytes:
    """The rendered pixels of text in one shipped font."""
    face = draw.script_font(key, size)
    picture = Image.new("L", (size * (len(text) + 2), size * 2), 0)
    ImageDraw.Draw(picture).text((size // 2, size // 4), text, font=face, fill=255)
    return picture.tobytes()


def test_pillow_shapes_complex_scripts() -> None:
    assert features.check("raqm"), "Pillow without raqm cannot shape Thai marks or Devanagari conjuncts"


@pytest.mark.parametrize("key", signage.FONT_KEYS)
def test_every_character_the_generator_writes_has_a_glyph(key: str) -> None:
    missing = mask(key, PRIVATE_USE)
    absent = [char for char in signage.characters_by_font()[key] if char != " " and mask(key, char) == missing]
    assert not absent, f"{draw.FONT_FILES[key]} lacks {''.join(absent)!r}: rerun synthetic_data/fonts/subset_fonts.py"


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_each_script_renders_glyphs_not_boxes(key: str) -> None:
    first, second = SAMPLES[key]
    boxes = mask(key, PRIVATE_USE * len(first))
    drawn = mask(key, first)
    assert drawn != boxes and any(drawn)
    assert mask(key, first) != mask(key, second)  # different words, different pictures
    assert mask(key, first[0]) != mask(key, first[1])


def test_mixed_script_lines_split_into_runs() -> None:
    assert signage.runs("ร้านขายยา 555-0101", "thai") == [("thai", "ร้านขายยา "), ("latin", "555-0101")]
    assert signage.runs("3,500원", "cjk_kr") == [("latin", "3,500"), ("cjk_kr", "원")]
    assert signage.runs("700円", "latin") == [("latin", "700"), ("cjk_sc", "円")]


def test_fonts_ship_with_their_licence_and_stay_small() -> None:
    files = sorted(FONT_DIR.iterdir())
    assert {name for name in draw.FONT_FILES.values()} <= {path.name for path in files}
    licence = (FONT_DIR / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence and "Noto Sans CJK" in licence
    assert sum(path.stat().st_size for path in files) < 3 * 2**20


def test_write_line_fits_text_in_its_box() -> None:
    picture = Image.new("RGB", (300, 40), (255, 255, 255))
    draw.write_line(ImageDraw.Draw(picture), (10, 5, 290, 35), "สาขากรุงเทพฯ +66 2 555 0101", "thai", (0, 0, 0))
    box = Image.eval(picture.convert("L"), lambda value: 255 - value).getbbox()
    assert box is not None and box[0] >= 10 and box[2] <= 290
