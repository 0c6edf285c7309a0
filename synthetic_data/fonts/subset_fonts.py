"""Maintainer tool: cut the shipped Noto subsets down to the characters synthetic_data.signage can write.

Run it again whenever signage.py or atlas.csv gains a character (tests/test_world_text.py says which are missing):

    apt-get download fonts-noto-core fonts-noto-cjk && for d in *.deb; do dpkg-deb -x "$d" noto; done
    .venv/bin/python synthetic_data/fonts/subset_fonts.py noto

Needs fontTools (installed with matplotlib); the generator itself only reads the subsets with Pillow.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

from synthetic_data.signage import characters_by_font

HERE = Path(__file__).parent
TRUETYPE = Path("usr/share/fonts/truetype/noto")
OPENTYPE = Path("usr/share/fonts/opentype/noto")
# font key -> (source file inside the extracted Debian packages, face number in a collection, shipped file name)
SOURCES: dict[str, tuple[Path, int, str]] = {
    "latin": (TRUETYPE / "NotoSans-Bold.ttf", 0, "NotoSans-Bold-subset.ttf"),
    "thai": (TRUETYPE / "NotoSansThai-Bold.ttf", 0, "NotoSansThai-Bold-subset.ttf"),
    "devanagari": (TRUETYPE / "NotoSansDevanagari-Bold.ttf", 0, "NotoSansDevanagari-Bold-subset.ttf"),
    "cjk_jp": (OPENTYPE / "NotoSansCJK-Bold.ttc", 0, "NotoSansCJKjp-Bold-subset.otf"),
    "cjk_kr": (OPENTYPE / "NotoSansCJK-Bold.ttc", 1, "NotoSansCJKkr-Bold-subset.otf"),
    "cjk_sc": (OPENTYPE / "NotoSansCJK-Bold.ttc", 2, "NotoSansCJKsc-Bold-subset.otf"),
    "cjk_tc": (OPENTYPE / "NotoSansCJK-Bold.ttc", 3, "NotoSansCJKtc-Bold-subset.otf"),
}


def load(path: Path, face: int) -> TTFont:
    """One face of a font file or collection."""
    return TTCollection(path).fonts[face] if path.suffix == ".ttc" else TTFont(path)


def cut(source: TTFont, characters: str, out: Path) -> None:
    """Keep only the glyphs of `characters` (with every layout feature, so Thai marks and Devanagari conjuncts
    still shape) and drop hinting, which Pillow does not need at sign sizes."""
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]  # keep copyright and licence records, as the OFL asks
    options.hinting = False
    options.notdef_outline = True  # a visible .notdef box, so a missing glyph is detectable in tests
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=characters)
    subsetter.subset(source)
    source.save(out)


def main(extracted: Path) -> None:
    """Write every shipped subset from fonts extracted out of the Debian packages."""
    for key, characters in characters_by_font().items():
        path, face, name = SOURCES[key]
        cut(load(extracted / path, face), characters, HERE / name)
        print(f"{name}: {len(characters)} characters, {(HERE / name).stat().st_size:,} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
