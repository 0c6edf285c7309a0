"""The reference atlas: enough real places, mostly Asia-Pacific, facts that are well-formed and consistent."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from synthetic_data import atlas, signage
from synthetic_data.draw import socket_holes

PLACES = atlas.load_atlas()
# Plug letters the IEC World Plugs list uses (A to O).
IEC_LETTERS = set("ABCDEFGHIJKLMNO")
# ISO 15924 codes the atlas may use.
SCRIPT_CODES = {"Latn", "Thai", "Hans", "Hant", "Jpan", "Kore", "Deva", "Khmr", "Laoo", "Mymr", "Beng", "Sinh",
                "Taml", "Cyrl", "Arab"}


def test_at_least_forty_places_mostly_asia_pacific() -> None:
    regions = [place.region for place in PLACES]
    assert len(PLACES) >= 40
    assert set(regions) == {"asia-pacific", "elsewhere"}
    assert regions.count("asia-pacific") >= 0.75 * len(PLACES)
    assert len({place.city_id for place in PLACES}) == len(PLACES)
    assert len({place.country_code for place in PLACES}) >= 25


def test_every_column_names_its_source_in_the_header() -> None:
    header = [line for line in atlas.ATLAS_PATH.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    columns = [line for line in atlas.ATLAS_PATH.read_text(encoding="utf-8").splitlines() if not line.startswith("#")][0]
    notes = "\n".join(header)
    for column in columns.split(","):
        assert re.search(rf"#\s+(\w+, )*{column}\b", notes), f"no source note for column {column}"
    for source in ("IEC", "ITU", "IANA", "ISO 4217", "GeoNames", "ISO 15924"):
        assert source in notes


@pytest.mark.parametrize("place", PLACES, ids=lambda place: place.city_id)
def test_place_facts_are_well_formed(place: atlas.Location) -> None:
    assert -90 <= place.lat <= 90 and -180 <= place.lon <= 180
    assert place.plug_types and set(place.plug_types) <= IEC_LETTERS
    assert place.mains_hz in (50, 60) and 100 <= place.voltage <= 240
    assert place.driving_side in ("left", "right")
    assert re.fullmatch(r"[1-9]\d{0,2}", place.calling_code)
    assert re.fullmatch(r"\d{0,3}", place.area_code)
    assert re.fullmatch(r"\.[a-z]{2}", place.tld) and place.web_suffix.endswith(place.tld[1:])
    assert re.fullmatch(r"[A-Z]{3}", place.currency_code) and place.currency_symbol
    assert re.fullmatch(r"[A-Z]{2}", place.country_code)
    assert set(place.scripts) <= SCRIPT_CODES and place.languages


@pytest.mark.parametrize("place", PLACES, ids=lambda place: place.city_id)
def test_time_zone_exists_and_its_standard_offset_matches(place: atlas.Location) -> None:
    zone = ZoneInfo(place.tz)
    standard = set()
    for month in (1, 7):
        local = datetime(2025, month, 15, 12, tzinfo=timezone.utc).astimezone(zone)
        standard.add(local.utcoffset() - local.dst())
    assert len(standard) == 1
    minutes = round(standard.pop().total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    assert place.utc_offset == f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def test_well_known_facts() -> None:
    """A few facts checked by hand against the sources named in the header."""
    facts = {place.city_id: place for place in PLACES}
    assert facts["tokyo"].mains_hz == 50 and facts["osaka"].mains_hz == 60  # Japan's split grid
    assert facts["manila"].mains_hz == 60 and facts["seoul"].mains_hz == 60 and facts["bangkok"].mains_hz == 50
    assert facts["kathmandu"].utc_offset == "+05:45" and facts["yangon"].utc_offset == "+06:30"
    assert facts["bangkok"].driving_side == "left" and facts["hanoi"].driving_side == "right"
    assert facts["sydney"].plug_types == ("I",) and "G" in facts["singapore"].plug_types
    assert (facts["bangkok"].calling_code, facts["bangkok"].area_code) == ("66", "2")
    assert facts["london"].tld == ".uk" and facts["london"].country_code == "GB"


def test_every_plug_type_in_the_atlas_can_be_drawn() -> None:
    from PIL import Image, ImageDraw

    for letter in sorted({letter for place in PLACES for letter in place.plug_types}):
        picture = Image.new("RGB", (60, 60), (255, 255, 255))
        socket_holes(ImageDraw.Draw(picture), (0, 0, 60, 60), letter)
        assert picture.getextrema() != ((255, 255),) * 3, letter


def test_every_place_gets_signs_prices_and_a_phone_number() -> None:
    import random

    for place in PLACES:
        rng = random.Random(1)
        business = signage.business(place, rng)
        assert business.phone.startswith(f"+{place.calling_code} ")
        assert business.web.endswith(place.web_suffix)
        text, code = signage.price_tag(place, rng)
        assert text and code in signage.PRICE_FORMATS
        assert signage.calendar_title(place, 2024, 3)


def test_unknown_location_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="bangkok"):
        atlas.location("atlantis")
