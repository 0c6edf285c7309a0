"""The reference atlas: real cities and the facts a scene can give away about them (plugs, scripts, phone codes, …)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

ATLAS_PATH = Path(__file__).with_name("atlas.csv")


@dataclass(frozen=True)
class Location:
    """One atlas row: where a city is and what its streets, sockets, phones and shops look like."""

    city_id: str
    city: str
    city_local: str
    country: str
    country_code: str
    region: str
    lat: float
    lon: float
    tz: str
    utc_offset: str
    plug_types: tuple[str, ...]
    voltage: int
    mains_hz: int
    scripts: tuple[str, ...]
    languages: tuple[str, ...]
    driving_side: str
    calling_code: str
    area_code: str
    tld: str
    web_suffix: str
    currency_code: str
    currency_symbol: str

    def offset_at(self, instant: datetime) -> timedelta:
        """The city's UTC offset at an instant (daylight saving time included)."""
        offset = instant.astimezone(ZoneInfo(self.tz)).utcoffset()
        assert offset is not None  # a ZoneInfo always knows its offset
        return offset


LIST_COLUMNS = frozenset({"plug_types", "scripts", "languages"})
INT_COLUMNS = frozenset({"voltage", "mains_hz"})
FLOAT_COLUMNS = frozenset({"lat", "lon"})


def parse_row(row: dict[str, str]) -> Location:
    """One CSV row as a Location: ';'-lists become tuples, numbers become numbers."""
    values: dict[str, object] = {}
    for column, text in row.items():
        if column in LIST_COLUMNS:
            values[column] = tuple(text.split(";")) if text else ()
        elif column in INT_COLUMNS:
            values[column] = int(text)
        elif column in FLOAT_COLUMNS:
            values[column] = float(text)
        else:
            values[column] = text
    return Location(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def load_atlas(path: Path = ATLAS_PATH) -> tuple[Location, ...]:
    """Every atlas location, in file order; comment lines (#) carry the sources of each column."""
    with path.open(encoding="utf-8", newline="") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return tuple(parse_row(row) for row in csv.DictReader(lines))


def location(city_id: str) -> Location:
    """The atlas location with this id, or a KeyError naming the ids there are."""
    for place in load_atlas():
        if place.city_id == city_id:
            return place
    raise KeyError(f"no atlas location {city_id!r}; known: {', '.join(place.city_id for place in load_atlas())}")
