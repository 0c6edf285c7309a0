"""vidlab.geo: offline reverse geocoding, distances, country outlines and maps, with no network."""

from __future__ import annotations

import io
import math
import socket

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vidlab import geo

BANGKOK = (13.7563, 100.5018)
SYDNEY = (-33.8688, 151.2093)
TOKYO = (35.6762, 139.6503)


def agg_axes():
    fig = Figure(figsize=(6, 4))
    FigureCanvasAgg(fig)
    return fig.subplots()


# --------------------------------------------------------------------------- reverse geocoding


def test_known_cities_are_placed():
    table = geo.reverse_geocode([BANGKOK, SYDNEY, TOKYO])
    assert list(table.columns) == geo.PLACE_COLUMNS
    assert table.loc[0, ["place", "country_code", "country"]].tolist() == ["Bangkok", "TH", "Thailand"]
    assert table.loc[1, ["place", "admin1", "country_code"]].tolist() == ["Sydney", "New South Wales", "AU"]
    # The nearest GeoNames place to central Tokyo is a ward-level town; its prefecture is Tokyo.
    assert table.loc[2, ["admin1", "country_code", "country"]].tolist() == ["Tokyo", "JP", "Japan"]
    assert (table["distance_km"] < 2).all()
    assert table["error"].isna().all()


def test_distance_is_to_the_place_returned():
    row = geo.place(*TOKYO)
    assert row["distance_km"] == pytest.approx(geo.haversine_km(TOKYO, (row["place_lat"], row["place_lon"])), abs=1e-3)


@pytest.mark.parametrize("point", [(-16.8, -179.95), (71.0, 179.9), (-77.85, 166.67), (64.73, -177.5)])
def test_nearest_place_is_the_true_great_circle_nearest(point):
    """Across the 180° meridian and near the poles, where comparing raw degrees goes wrong."""
    gaz = geo._gazetteer(0)
    every_place = geo.haversine_km(point, np.column_stack([gaz.lat, gaz.lon]))
    assert geo.place(*point)["distance_km"] == pytest.approx(every_place.min(), abs=1e-3)


def test_across_the_meridian_the_nearest_place_can_be_on_the_other_side():
    row = geo.place(-16.8, -179.95)  # just west of 180° in Fiji's waters: Vanua Levu lies east of it
    assert row["country_code"] == "FJ"
    assert row["place_lon"] > 179
    assert row["distance_km"] < 100


def test_min_population_gives_the_big_city():
    row = geo.place(*TOKYO, min_population=1_000_000)
    assert row["place"] == "Tokyo"
    assert row["population"] >= 1_000_000


def test_bad_points_give_error_rows_not_exceptions():
    points = [BANGKOK, None, (float("nan"), 100.0), (95.0, 0.0), (0.0, 200.0), (0.0, 0.0), ("north", "east"),
              (1, 2, 3), 42]
    table = geo.reverse_geocode(points)
    assert len(table) == len(points)
    assert table.loc[0, "place"] == "Bangkok" and pd.isna(table.loc[0, "error"])
    bad = table.iloc[1:]
    assert bad["place"].isna().all() and bad["distance_km"].isna().all()
    assert bad["error"].notna().all()
    assert "missing" in bad.loc[1, "error"]
    assert "latitude" in bad.loc[3, "error"] and "longitude" in bad.loc[4, "error"]
    assert "no GPS fix" in bad.loc[5, "error"]
    assert "not a number" in bad.loc[6, "error"]
    assert "pair" in bad.loc[7, "error"] and "pair" in bad.loc[8, "error"]
    only_bad = geo.reverse_geocode([None, (95.0, 0.0)])
    assert only_bad.dtypes.equals(table.dtypes)  # same columns and types, whatever the batch holds


def test_a_table_keeps_its_index_and_finds_gps_columns():
    df = pd.DataFrame({"path": ["a.jpg", "b.jpg"], "gps_lat": [SYDNEY[0], None], "gps_lon": [SYDNEY[1], None]},
                      index=["file-7", "file-9"])
    table = geo.reverse_geocode(df)
    assert list(table.index) == ["file-7", "file-9"]
    assert table.loc["file-7", "place"] == "Sydney"
    assert table.loc["file-9", "error"] == "missing coordinate"
    with pytest.raises(KeyError, match="latitude/longitude"):
        geo.reverse_geocode(pd.DataFrame({"x": [1.0]}))


def test_place_gives_plain_python_values():
    row = geo.place(1.2897, 103.8501)
    assert row["country"] == "Singapore"
    assert type(row["population"]) is int and type(row["distance_km"]) is float
    assert geo.place(None, None)["place"] is None


# --------------------------------------------------------------------------- distances


def test_haversine_known_distances():
    assert geo.haversine_km((51.5074, -0.1278), (48.8566, 2.3522)) == pytest.approx(343.5, abs=1.0)  # London–Paris
    assert geo.haversine_km((0, 0), (0, 1)) == pytest.approx(2 * math.pi * geo.EARTH_RADIUS_KM / 360)
    assert geo.haversine_km((0, 0), (0, 180)) == pytest.approx(math.pi * geo.EARTH_RADIUS_KM)
    assert geo.haversine_km((0, 179.5), (0, -179.5)) == pytest.approx(geo.haversine_km((0, 0), (0, 1)))
    assert geo.haversine_km(SYDNEY, SYDNEY) == 0.0


def test_haversine_is_vectorised():
    a = np.array([BANGKOK, SYDNEY, TOKYO])
    one_to_many = geo.haversine_km(BANGKOK, a)
    assert one_to_many.shape == (3,) and one_to_many[0] == 0.0
    pairwise = geo.haversine_km(a[:, None, :], a[None, :, :])
    assert pairwise.shape == (3, 3)
    assert np.allclose(pairwise, pairwise.T) and np.allclose(np.diag(pairwise), 0)
    assert pairwise[0, 1] == pytest.approx(geo.haversine_km(BANGKOK, SYDNEY))
    with pytest.raises(ValueError, match="last axis"):
        geo.haversine_km([1, 2, 3], [1, 2, 3])


# --------------------------------------------------------------------------- places


def metres_north(point, metres):
    """The point moved `metres` due north (one degree of latitude is the same length everywhere on a sphere)."""
    return point[0] + metres / (1000 * geo.haversine_km((0, 0), (1, 0))), point[1]


def test_positions_metres_apart_share_a_place_and_kilometres_apart_do_not():
    site = [BANGKOK, metres_north(BANGKOK, 5), metres_north(BANGKOK, -12)]
    across_town = [metres_north(BANGKOK, 3000), metres_north(BANGKOK, 3008)]
    positions = [site[0], across_town[0], site[1], SYDNEY, across_town[1], site[2]]
    lats, lons = zip(*positions)
    assert geo.place_groups(lats, lons) == [0, 1, 0, 2, 1, 0]
    assert geo.place_groups(lats, lons, within_km=5) == [0, 0, 0, 1, 0, 0]


def test_a_place_is_measured_from_its_first_position_not_the_last():
    chain = [BANGKOK, metres_north(BANGKOK, 150), metres_north(BANGKOK, 300)]  # 150 m steps, 300 m end to end
    lats, lons = zip(*chain)
    assert geo.place_groups(lats, lons) == [0, 0, 1]
    table = pd.DataFrame({"gps_lat": lats, "gps_lon": lons})
    assert geo.place_groups(table["gps_lat"], table["gps_lon"], within_km=0.35) == [0, 0, 0]


def test_place_groups_of_no_positions_and_of_bad_ones():
    assert geo.place_groups([], []) == []
    with pytest.raises(ValueError, match="position 1 cannot be grouped: missing coordinate"):
        geo.place_groups([BANGKOK[0], float("nan")], [BANGKOK[1], 100.0])
    with pytest.raises(ValueError, match="2 latitudes but 1 longitudes"):
        geo.place_groups([1.0, 2.0], [3.0])
    with pytest.raises(ValueError, match="within_km"):
        geo.place_groups([1.0], [3.0], within_km=-1)


# --------------------------------------------------------------------------- outlines and country_at


def test_shipped_outlines_are_flat_and_coded():
    table = geo.country_outlines()
    assert len(table) > 200
    assert table["lon_min"].min() >= -180 and table["lon_max"].max() <= 180
    assert table["lat_min"].min() >= -90 and table["lat_max"].max() <= 90
    assert table.loc[table["iso_a2"] == "", "name"].tolist() == ["Siachen Glacier"]
    for ring in geo._outlines().rings:  # cut at 180°: no edge jumps across the map (except along the pole)
        jumps = np.abs(np.diff(ring[:, 0])) > 180
        assert not jumps.any() or np.all(np.abs(ring[1:][jumps, 1]) > 89.9)


@pytest.mark.parametrize(("lat", "lon", "code"), [
    (*BANGKOK, "TH"), (-35.2809, 149.1300, "AU"), (40.4168, -3.7038, "ES"), (47.8864, 106.9057, "MN"),
    (-29.5, 28.2, "LS"),            # Lesotho: a hole in South Africa's outline
    (-29.1183, 26.2299, "ZA"),      # Bloemfontein, in South Africa around that hole
    (-16.85, -179.97, "FJ"),        # Fiji east of 180°
    (66.0, -175.0, "RU"),           # Chukotka, east of 180°
    (-18.1416, 178.4419, "FJ"),     # Suva: a harbour, just off the generalised coast
    (-10.49, 105.62, "CX"), (54.5, -3.0, "GB"),
])
def test_country_at(lat, lon, code):
    assert geo.country_at(lat, lon) == code


def test_country_at_sea_and_bad_points():
    assert geo.country_at(0.0, -140.0) is None
    assert geo.country_at(0.0, 0.0) is None
    assert geo.country_at(float("nan"), 10.0) is None
    assert geo.country_at(91.0, 10.0) is None


def test_country_at_near_coast_only_within_the_tolerance():
    offshore = (12.5, 100.5)  # upper Gulf of Thailand, some 45 km from the nearest coast
    assert geo.country_at(*offshore) is None
    assert geo.country_at(*offshore, near_km=60) == "TH"


# --------------------------------------------------------------------------- maps


def test_map_draws_countries_and_points_on_agg():
    ax = agg_axes()
    out = geo.map_points([BANGKOK, SYDNEY, TOKYO, None], ax=ax, labels=["BKK", "SYD", "TYO", "none"])
    assert out is ax
    assert len(ax.patches) == len(geo.country_outlines())
    assert {p.get_label() for p in ax.patches} >= {"Thailand", "Australia", "Japan"}
    (points,) = ax.collections
    assert points.get_offsets().shape == (3, 2)
    assert sorted(t.get_text() for t in ax.texts) == ["BKK", "SYD", "TYO"]
    assert "1 without a usable location" in ax.get_title()
    lon_min, lon_max = ax.get_xlim()
    assert lon_min < 100.5 and lon_max > 151.2
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png")
    assert buf.getvalue().startswith(b"\x89PNG")


def test_map_of_a_table_with_a_label_column():
    df = pd.DataFrame({"lat": [BANGKOK[0], SYDNEY[0]], "lon": [BANGKOK[1], SYDNEY[1]], "file": ["a.jpg", "b.jpg"]})
    ax = geo.map_points(df, ax=agg_axes(), labels="file", extent=(90, 160, -45, 25))
    assert ax.get_xlim() == (90, 160) and ax.get_ylim() == (-45, 25)
    assert sorted(t.get_text() for t in ax.texts) == ["a.jpg", "b.jpg"]


def test_map_across_the_pacific_keeps_points_together():
    fiji, samoa = (-18.1416, 178.4419), (-13.8333, -171.7667)
    ax = geo.map_points([fiji, samoa], ax=agg_axes())
    lon_min, lon_max = ax.get_xlim()
    assert lon_min < 178 and lon_max > 188 and lon_max - lon_min < 40
    xs = ax.collections[0].get_offsets()[:, 0]
    assert sorted(xs) == pytest.approx([178.4419, 360 - 171.7667])
    base = len(geo.country_outlines())
    copies = [p.get_label() for p in ax.patches[base:]]
    assert "Samoa" in copies  # the far side is drawn again east of 180°


def test_map_without_points_shows_the_world():
    ax = geo.map_points([], ax=agg_axes())
    assert ax.get_xlim() == (-180, 180) and ax.get_ylim() == (-90, 90)


# --------------------------------------------------------------------------- offline


def test_geo_opens_no_network_connection(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[1:]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for cached in (geo._geonames_places, geo._gazetteer, geo._outlines, geo._ring_paths):
        cached.cache_clear()  # load the shipped data again, under the guard
    assert geo.place(*BANGKOK)["place"] == "Bangkok"
    assert geo.country_at(*SYDNEY) == "AU"
    assert len(geo.map_points([TOKYO], ax=agg_axes()).patches) > 200
