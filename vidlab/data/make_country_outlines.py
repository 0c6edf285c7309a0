"""Rebuild countries-50m.npz (the outlines vidlab.geo draws and tests points against) from world-atlas.

Run once by a maintainer, never at run time:

    cd /tmp && npm pack world-atlas@2.0.2 i18n-iso-countries@7.14.0
    tar xzf world-atlas-2.0.2.tgz && mkdir i18n && tar xzf i18n-iso-countries-7.14.0.tgz -C i18n
    python vidlab/data/make_country_outlines.py /tmp/package/countries-50m.json \
        /tmp/i18n/package/codes.json vidlab/data/countries-50m.npz
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

# Natural Earth keeps some areas apart that have no ISO 3166 numeric code of their own. We give
# them the code GeoNames (and so vidlab.geo.reverse_geocode) uses for places there, so that
# country_at() and the reverse geocoder agree; Siachen Glacier is disputed and stays without one.
NO_ISO_CODE = {"Kosovo": "XK", "N. Cyprus": "CY", "Somaliland": "SO", "Siachen Glacier": ""}
# "Indian Ocean Ter." is two Australian external territories with ISO codes of their own:
# Christmas Island (105.6 E) and the Cocos (Keeling) Islands (96.8 E), split at 100 E.
INDIAN_OCEAN_SPLIT_LON = 100.0


def decode_arcs(topology: dict) -> list[np.ndarray]:
    """Each TopoJSON arc as absolute quantized (x, y) integers (arcs are stored delta-encoded)."""
    return [np.cumsum(np.asarray(arc, dtype=np.int64), axis=0) for arc in topology["arcs"]]


def ring_points(ring: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    """Join a ring's arcs (index ~i means arc i reversed), dropping each shared joint point."""
    parts = []
    for k, index in enumerate(ring):
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        parts.append(arc if k == 0 else arc[1:])
    return np.concatenate(parts)


def clip(ring: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Sutherland–Hodgman: the part of a closed ring with lo <= x <= hi (cut edges run along the line)."""
    pts = ring[:-1].astype(float)
    for bound, keep in ((lo, lambda x: x >= lo), (hi, lambda x: x <= hi)):
        if len(pts) == 0:
            break
        out = []
        for k in range(len(pts)):
            cur, prev = pts[k], pts[k - 1]
            if keep(cur[0]) != keep(prev[0]):
                t = (bound - prev[0]) / (cur[0] - prev[0])
                out.append([bound, prev[1] + t * (cur[1] - prev[1])])
            if keep(cur[0]):
                out.append(cur)
        pts = np.asarray(out)
    if len(pts) < 3:
        return np.empty((0, 2), dtype=np.int64)
    pts = np.rint(pts).astype(np.int64)
    return np.concatenate([pts, pts[:1]])


def planar_rings(ring: np.ndarray, period: int, pole_y: tuple[int, int]) -> list[np.ndarray]:
    """A spherical ring as rings of the flat -180..180 map: cut at the 180° meridian, poles closed.

    TopoJSON rings may cross the antimeridian (Fiji, Chukotka) or circle a pole (Antarctica); drawn
    flat they would streak across the map, and point-in-polygon tests would go wrong.
    """
    x = np.unwrap(ring[:, 0], period=period).round().astype(np.int64)
    ring = np.column_stack([x, ring[:, 1]])
    if abs(x[-1] - x[0]) > period // 2:  # goes once round the Earth: close it through the pole
        pole = pole_y[0] if ring[:, 1].mean() < sum(pole_y) / 2 else pole_y[1]
        ring = np.concatenate([ring[:-1], [[x[-1], pole], [x[0], pole], ring[0]]])
    if ring[:, 0].min() >= 0 and ring[:, 0].max() <= period:
        return [ring]
    pieces = []
    for shift in range(int(ring[:, 0].min() // period), int(ring[:, 0].max() // period) + 1):
        piece = clip(ring - [shift * period, 0], 0, period)
        if len(piece) >= 4 and np.ptp(piece[:, 0]) > 0 and np.ptp(piece[:, 1]) > 0:
            pieces.append(piece)
    return pieces


def polygons(geometry: dict) -> list[list[list[int]]]:
    """A Polygon or MultiPolygon geometry as a list of polygons (each a list of rings)."""
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["arcs"]
    return []


def build(atlas_json: Path, codes_json: Path, out: Path) -> None:
    topology = json.loads(atlas_json.read_text(encoding="utf-8"))
    alpha2 = {numeric: a2 for a2, _a3, numeric, _sub in json.loads(codes_json.read_text(encoding="utf-8"))}
    arcs = decode_arcs(topology)
    (scale_x, scale_y) = topology["transform"]["scale"]
    (translate_x, translate_y) = topology["transform"]["translate"]
    period = round(360 / scale_x)  # quantized units per 360° of longitude
    pole_y = (math.ceil((-90 - translate_y) / scale_y), math.floor((90 - translate_y) / scale_y))

    names: list[str] = []
    iso_a2: list[str] = []
    iso_n3: list[str] = []
    rings: list[np.ndarray] = []
    ring_country: list[int] = []

    def add(name: str, a2: str, n3: str, polys: list[list[list[int]]]) -> None:
        names.append(name)
        iso_a2.append(a2)
        iso_n3.append(n3)
        for poly in polys:
            for ring in poly:
                for piece in planar_rings(ring_points(ring, arcs), period, pole_y):
                    rings.append(piece)
                    ring_country.append(len(names) - 1)

    for geometry in topology["objects"]["countries"]["geometries"]:
        name = geometry["properties"]["name"]
        numeric = geometry.get("id") or ""
        polys = polygons(geometry)
        if name == "Indian Ocean Ter.":
            east = [ring_points(p[0], arcs)[:, 0].mean() * scale_x + translate_x > INDIAN_OCEAN_SPLIT_LON
                    for p in polys]
            add("Christmas I.", "CX", "162", [p for p, e in zip(polys, east) if e])
            add("Cocos Is.", "CC", "166", [p for p, e in zip(polys, east) if not e])
            continue
        code = alpha2.get(numeric, NO_ISO_CODE.get(name))
        if code is None:
            raise ValueError(f"no ISO alpha-2 code for {name!r} (numeric {numeric!r})")
        add(name, code, numeric, polys)

    points = np.concatenate(rings)
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rings])]).astype(np.int32)
    deltas = np.diff(points, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    if np.abs(deltas).max() >= 2**31:
        raise ValueError("quantized deltas do not fit int32")
    np.savez_compressed(
        out,
        dxy=deltas.astype(np.int32),
        scale=np.asarray(topology["transform"]["scale"], dtype=np.float64),
        translate=np.asarray(topology["transform"]["translate"], dtype=np.float64),
        ring_offsets=offsets,
        ring_country=np.asarray(ring_country, dtype=np.int16),
        name=np.asarray(names),
        iso_a2=np.asarray(iso_a2),
        iso_n3=np.asarray(iso_n3),
    )
    print(f"{out}: {len(names)} countries, {len(rings)} rings, {len(points)} points")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: make_country_outlines.py countries-50m.json codes.json out.npz")
    build(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
