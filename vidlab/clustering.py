"""Series clustering: group pictures into series from near-duplicate, device, time and scene evidence.

Evidence comes as edges between two pictures, each of a kind an analyst can check by eye:

- ``near_duplicate``: PDQ hashes within the course threshold (turned and mirrored copies too). It links
  copies of one shot — re-shares, re-encodes, thumbnails — never two different shots: a second shot of
  the same room is as far from the first as an unrelated picture (docs/similarity.md).
- ``same_device``: the same make and body serial, taken within ``device_gap`` of the device's previous
  picture. One camera may shoot several series, so the serial alone joins nothing: a session does.
- ``same_model_time``: a picture without a serial (a forum re-share keeps make, model and times) and the
  picture of the same make and model nearest in time, within ``model_gap`` (compared in UTC when both
  offsets are known). Two different serials are never joined this way.
- ``same_scene``: the scene signatures are close. The signature (``scene_signature``) counts which colours
  meet which along the picture's edges (wall against curtain, sign against sky) and which saturated colours
  it holds, after brightness is evened out and a screen's frame trimmed: a closer view, another framing,
  another light or a re-share of the same room keep it, another room mostly does not.

``cluster`` joins the first three kinds outright (connected components: the "parts"), then merges parts by
average linkage of their scene signatures up to ``scene_max_distance``, so one look-alike pair of pictures
cannot join two series (``evidence_edges`` lists such pairs, each picture's nearest look-alikes, for the
analyst to see); every group reports how many edges of each kind hold it together. ``score`` compares groups with an answer key (purity, completeness, adjusted
Rand index…); ``benchmarks/bench_clustering.py`` measures them on the generated cases, kind by kind.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from vidlab import evidence, metadata, similarity
from vidlab.formats import picture_formats

__all__ = [
    "EDGE_KINDS", "LINK_KINDS", "DEVICE_GAP", "MODEL_GAP", "SCENE_MAX_DISTANCE", "SCENE_NEIGHBOURS",
    "PICTURE_KINDS", "scene_signature", "scene_file", "scene_table", "scene_distance", "picture_paths",
    "picture_inventory", "evidence_edges", "cluster", "group_summary", "adjusted_rand", "score",
]

PathLike = str | os.PathLike[str]

EDGE_KINDS: tuple[str, ...] = ("near_duplicate", "same_device", "same_model_time", "same_scene")
#: Kinds that join two pictures outright; same_scene only merges whole parts, by average linkage.
LINK_KINDS: tuple[str, ...] = ("near_duplicate", "same_device", "same_model_time")
#: Longest pause between two pictures of one device that still counts as one session (series shot over
#: a few days, e.g. a second room the next day). Shorter is safer when one device shot several series.
DEVICE_GAP = pd.Timedelta(hours=72)
#: Longest gap between a serial-less picture and the nearest picture of the same make and model.
MODEL_GAP = pd.Timedelta(hours=1)
#: Largest average scene distance (0 same, 1 nothing shared) at which two parts are merged. Chosen on the
#: generated classroom case, on the safe side: the best ARI is at 0.3 and the first wrong merges come at 0.35
#: (bench_clustering.py). Real photographs have not been measured: check merges made by scene alone.
SCENE_MAX_DISTANCE = 0.25
#: Nearest pictures per picture that evidence_edges lists as same_scene (within SCENE_MAX_DISTANCE).
SCENE_NEIGHBOURS = 5
#: The scene average linkage keeps a parts × parts matrix; beyond this many parts it would not fit a laptop.
MAX_SCENE_PARTS = 15_000
#: Kinds of vidlab.evidence.identify that picture_inventory hashes when given a folder.
PICTURE_KINDS = frozenset({"jpeg", "png", "gif", "tiff", "bmp", "webp", "heic", "avif"})

SCENE_SIDE = 96  # long side (px) the signature is computed at
SCENE_LEVELS = 4  # per channel: 64 colours for the co-occurrence counts
SATURATED_LEVELS = 12  # per channel, for the histogram of saturated colours (1,728 bins)
SATURATED = 40  # max − min channel (after brightness is evened out) above which a colour counts as saturated
SCENE_OFFSETS = (2, 4)  # px between the two pixels of a co-occurrence, across and down
_FRAME_TOLERANCE = 8  # channel difference still counted as the frame colour
_FRAME_SHARE = 0.9  # share of a line in the frame colour that makes it part of a bar

EDGE_COLUMNS: tuple[str, ...] = ("a", "b", "path_a", "path_b", "kind", "weight", "detail")
GROUP_COLUMNS: tuple[str, ...] = ("path", "group", "group_size", "reasons")
SCENE_COLUMNS: tuple[str, ...] = ("path", "scene", "scene_error")


# --------------------------------------------------------------------------- the scene signature


def _inner_span(bars: np.ndarray) -> tuple[int, int]:
    """The longest run of non-bar lines when what lies on each side of it is mostly bar lines (a frame);
    else the whole length."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], (~bars).astype(np.int8), [0]])))
    starts, stops = edges[::2], edges[1::2]
    if len(starts) == 0:
        return 0, len(bars)
    best = int(np.argmax(stops - starts))
    start, stop = int(starts[best]), int(stops[best])
    framed = start > 0 and stop < len(bars) and bars[:start].mean() >= 0.75 and bars[stop:].mean() >= 0.75
    return (start, stop) if framed else (0, len(bars))


def _content_box(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of a picture shown inside bars of one colour (a screenshot of a photo on a
    phone, letterboxing); the whole picture when there are no bars on both opposite sides."""
    height, width, _ = rgb.shape
    ring = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.int16)
    frame = np.median(ring, axis=0)
    if (np.abs(ring - frame).max(axis=1) <= _FRAME_TOLERANCE).mean() < 0.5:
        return 0, height, 0, width  # bars would make up most of the outer ring: most photos stop here
    near = np.abs(rgb.astype(np.int16) - frame).max(axis=2) <= _FRAME_TOLERANCE
    # a bar line is almost all frame colour; a status bar's clock and icons break only a few of its lines,
    # so the picture is the longest run of other lines
    top, bottom = _inner_span(near.mean(axis=1) >= _FRAME_SHARE)
    left, right = _inner_span(near[top:bottom].mean(axis=0) >= _FRAME_SHARE)
    if (bottom - top) * (right - left) < 0.1 * height * width:
        return 0, height, 0, width  # nothing big enough inside: keep the whole picture
    return top, bottom, left, right


def _scene_pixels(image: Image.Image) -> np.ndarray:
    """The picture upright, frame trimmed, long side SCENE_SIDE, brightness evened out (mean level 128)."""
    image.draft("RGB", (2 * SCENE_SIDE, 2 * SCENE_SIDE))  # JPEG: decode at a reduced DCT scale
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        grey = Image.new("RGBA", image.size, (128, 128, 128, 255))  # transparency counts as mid grey
        image = Image.alpha_composite(grey, image.convert("RGBA"))
    image = image.convert("RGB")
    image.thumbnail((2 * SCENE_SIDE, 2 * SCENE_SIDE), Image.Resampling.BOX)
    top, bottom, left, right = _content_box(np.asarray(image))
    image = image.crop((left, top, right, bottom))
    image.thumbnail((SCENE_SIDE, SCENE_SIDE), Image.Resampling.BOX)
    pixels = np.asarray(image, dtype=np.float32) + 1.0
    # lighting scales every channel alike (the room's colour cast stays): divide it out
    return pixels * (128.0 / pixels.mean())


def _colour_codes(pixels: np.ndarray, levels: int) -> np.ndarray:
    """Each pixel's colour as one of levels³ codes."""
    q = np.clip((pixels * (levels / 256.0)).astype(np.int64), 0, levels - 1)
    return (q[..., 0] * levels + q[..., 1]) * levels + q[..., 2]


def _cooccurrence(codes: np.ndarray, colours: int) -> np.ndarray:
    """How often two different colours meet SCENE_OFFSETS apart (across or down), unordered pairs."""
    counts = np.zeros(colours * colours)
    for step in SCENE_OFFSETS:
        for a, b in ((codes[:, :-step], codes[:, step:]), (codes[:-step], codes[step:])):
            a, b = a.ravel(), b.ravel()
            differ = a != b
            low, high = np.minimum(a, b)[differ], np.maximum(a, b)[differ]
            counts += np.bincount(low * colours + high, minlength=colours * colours)
    return counts.reshape(colours, colours)[np.triu_indices(colours, 1)]


def _unit(counts: np.ndarray) -> np.ndarray:
    """Square roots of shares: a vector of length 1 whose dot products are Bhattacharyya coefficients."""
    return np.sqrt(counts / counts.sum()) if counts.sum() else counts


def scene_signature(image: Image.Image) -> np.ndarray | None:
    """A picture's scene signature (float32 unit vector), or None when it has too little detail (one colour).

    Two parts: which colours meet which at SCENE_OFFSETS px (64 colours, 2,016 pairs) and a histogram of
    the saturated colours (1,728 bins), each as square roots of shares; crops, zooms, light and re-encoding
    change them little. Compare with scene_distance.
    """
    pixels = _scene_pixels(image)
    if min(pixels.shape[:2]) <= max(SCENE_OFFSETS):
        return None
    meet = _cooccurrence(_colour_codes(pixels, SCENE_LEVELS), SCENE_LEVELS**3)
    if not meet.any():
        return None  # no two colours meet: a blank or one-colour picture looks like every other one
    saturated = (pixels.max(axis=2) - pixels.min(axis=2)) > SATURATED
    bins = SATURATED_LEVELS**3
    colourful = np.bincount(_colour_codes(pixels, SATURATED_LEVELS)[saturated], minlength=bins).astype(float)
    vector = np.concatenate([_unit(meet), _unit(colourful)])
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def scene_distance(a: np.ndarray, b: np.ndarray) -> float:
    """1 − the cosine of two scene signatures: 0 for the same scene statistics, 1 for nothing in common."""
    return float(1.0 - np.dot(a, b))


def scene_file(path: PathLike) -> dict[str, Any]:
    """{path, scene, scene_error} for one file; never raises. Evidence is opened read-only."""
    row: dict[str, Any] = {"path": evidence.printable_path(os.fsdecode(path)), "scene": None, "scene_error": None}
    try:
        with evidence.open_readonly(path) as f, Image.open(f, formats=picture_formats()) as image:
            row["scene"] = scene_signature(image)
        if row["scene"] is None:
            row["scene_error"] = "too little detail for a scene signature (blank or one colour)"
    except UnidentifiedImageError:
        row["scene_error"] = f"not a picture in a format we open ({', '.join(picture_formats())})"
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop a batch
        row["scene_error"] = evidence.short_error(exc)
    return row


def scene_table(paths: Iterable[PathLike], workers: int = 1, progress: bool | None = None) -> pd.DataFrame:
    """One row per path: path, scene (signature or None), scene_error; `workers` processes."""
    paths = list(paths)
    with evidence.progress_bar(progress, len(paths), "scene signatures") as bar:
        rows = list(evidence.rows_in_order(scene_file, paths, workers, bar))
    return pd.DataFrame({c: pd.Series([row[c] for row in rows], dtype=object) for c in SCENE_COLUMNS})


# --------------------------------------------------------------------------- the inventory


def _is_picture(path: Path) -> bool:
    try:
        return evidence.identify(path) in PICTURE_KINDS
    except OSError:
        return True  # unreadable: kept, so that its row says why


def picture_paths(folder: PathLike) -> list[Path]:
    """Files under folder whose content (not name) is a picture kind, and files that cannot be read (their
    rows will say why); symbolic links and special files are left out."""
    root = evidence.evidence_folder(folder)
    return [root / rel for rel, skipped in evidence.folder_entries(root) if skipped is None and _is_picture(root / rel)]


def picture_inventory(source: PathLike | Iterable[PathLike], workers: int = 1,
                      progress: bool | None = None) -> pd.DataFrame:
    """What clustering needs for each picture: perceptual hashes, EXIF metadata and the scene signature.

    `source` is a folder (every picture under it, by content; paths relative to it, the folder in
    ``attrs["root"]``) or a list of files (paths as given). Columns: similarity.HASH_COLUMNS (``error``:
    the picture could not be read), the metadata columns (its own error in ``metadata_error``), ``scene``
    and ``scene_error``. Every file gets a row, never an exception.
    """
    root: Path | None = None
    if isinstance(source, (str, os.PathLike)):
        root = evidence.evidence_folder(source)
        paths: list[Path] = picture_paths(root)
    else:
        paths = [Path(os.fsdecode(p)) for p in source]
    hashes = similarity.hash_table(paths, workers=workers, progress=progress)
    meta = metadata.metadata_table(paths, progress=progress).drop(columns=["path", "width", "height"])
    scenes = scene_table(paths, workers=workers, progress=progress).drop(columns=["path"])
    inventory = pd.concat([hashes, meta.rename(columns={"error": "metadata_error"}), scenes], axis=1)
    if root is not None:
        inventory["path"] = [evidence.printable_path(os.path.relpath(p, root)) for p in paths]
        inventory.attrs["root"] = str(root)
    return inventory


# --------------------------------------------------------------------------- evidence edges


def _text(column: pd.Series) -> pd.Series:
    """Stripped text, None where empty or missing."""
    return column.map(lambda v: v.strip() or None if isinstance(v, str) else None)


def _wall_clock(column: pd.Series) -> pd.Series:
    """Capture times as the camera's own clock read them (zone dropped), NaT where unknown."""
    def local(value: Any) -> Any:
        try:
            value = pd.Timestamp(value)
        except (TypeError, ValueError):
            return pd.NaT
        return value.tz_localize(None) if value is not pd.NaT and value.tzinfo is not None else value
    return pd.to_datetime(column.map(local), errors="coerce").astype("datetime64[us]")


def _utc(inventory: pd.DataFrame) -> pd.Series:
    """Capture times in UTC where the offset is known, NaT elsewhere."""
    if "datetime_original_utc" not in inventory:
        return pd.Series(pd.NaT, index=inventory.index, dtype="datetime64[us, UTC]")
    return pd.to_datetime(inventory["datetime_original_utc"], utc=True, errors="coerce").astype("datetime64[us, UTC]")


def _gap_text(gap: pd.Timedelta) -> str:
    """A time gap in the unit an analyst would say it."""
    seconds = abs(gap.total_seconds())
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _readable(inventory: pd.DataFrame) -> pd.Series:
    """Rows whose picture could be read: bad rows take part in no evidence and stay alone."""
    if "error" not in inventory:
        return pd.Series(True, index=inventory.index)
    return inventory["error"].isna()


def _need(inventory: pd.DataFrame, kind: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in inventory]
    if missing:
        raise ValueError(f"{kind} evidence needs the column(s) {', '.join(missing)}: build the table with "
                         "picture_inventory, or leave the kind out")


def _near_duplicate_edges(inventory: pd.DataFrame) -> pd.DataFrame:
    """Pairs of copies of one shot: PDQ within similarity.THRESHOLDS, turned and mirrored copies included."""
    _need(inventory, "near_duplicate", ("pdq", "pdq_dihedral"))
    rows = inventory[_readable(inventory)]
    if len(similarity.usable(rows, "pdq")) < 2:
        return pd.DataFrame(columns=list(EDGE_COLUMNS))
    pairs = similarity.near_duplicates(rows, "pdq", turned=True)
    return pd.DataFrame({"a": pairs["a"], "b": pairs["b"], "kind": "near_duplicate",
                         "weight": 1.0 - pairs["distance"] / similarity.HASH_BITS["pdq"],
                         "detail": [f"PDQ {d} bits apart" for d in pairs["distance"]]})


def _session_edges(inventory: pd.DataFrame, device_gap: pd.Timedelta) -> pd.DataFrame:
    """Each picture of a device (make + body serial) to the device's previous one, when at most device_gap
    earlier; in UTC when every picture of the device has its offset, else on the device's own clock."""
    _need(inventory, "same_device", ("make", "body_serial", "datetime_original"))
    table = pd.DataFrame({"make": _text(inventory["make"]).fillna(""), "serial": _text(inventory["body_serial"]),
                          "wall": _wall_clock(inventory["datetime_original"]), "utc": _utc(inventory)})
    table = table[_readable(inventory) & table["serial"].notna() & table["wall"].notna()]
    edges = []
    for (make, serial), device in table.groupby(["make", "serial"], sort=False):
        times = device["utc"] if device["utc"].notna().all() else device["wall"]
        order = times.sort_values(kind="stable")
        gaps = order.diff().iloc[1:]
        for (a, b, gap) in zip(order.index[:-1], order.index[1:], gaps):
            if gap <= device_gap:
                edges.append((a, b, "same_device", 1.0, f"{make} serial {serial}, {_gap_text(gap)} apart".lstrip()))
    return pd.DataFrame(edges, columns=["a", "b", "kind", "weight", "detail"])


def _model_time_edges(inventory: pd.DataFrame, model_gap: pd.Timedelta) -> pd.DataFrame:
    """Each serial-less picture to the nearest picture in time of the same make and model, within model_gap."""
    _need(inventory, "same_model_time", ("make", "model", "datetime_original"))
    serial = _text(inventory["body_serial"]) if "body_serial" in inventory else pd.Series(None, index=inventory.index)
    table = pd.DataFrame({"make": _text(inventory["make"]), "model": _text(inventory["model"]), "serial": serial,
                          "wall": _wall_clock(inventory["datetime_original"]), "utc": _utc(inventory),
                          "row": np.arange(len(inventory))})
    table = table[_readable(inventory) & table["make"].notna() & table["model"].notna() & table["wall"].notna()]
    found: dict[tuple[int, int], tuple[pd.Timedelta, str]] = {}
    for (make, model), same in table.groupby(["make", "model"], sort=False):
        same = same.sort_values("wall", kind="stable")
        wall, utc, rows = same["wall"].to_numpy(), same["utc"].to_numpy(), same["row"].to_numpy()
        for i in np.flatnonzero(same["serial"].isna().to_numpy()):
            gaps = []
            for j in (i - 1, i + 1):  # sorted by time: the nearest is a neighbour
                if 0 <= j < len(same):
                    both_utc = not (pd.isna(utc[i]) or pd.isna(utc[j]))  # both offsets known: the true interval
                    gaps.append((pd.Timedelta(abs(utc[j] - utc[i]) if both_utc else abs(wall[j] - wall[i])), j))
            gap, j = min(gaps, default=(None, None), key=lambda g: g[0])
            if gap is not None and gap <= model_gap:
                pair = (min(rows[i], rows[j]), max(rows[i], rows[j]))
                found[pair] = (gap, f"{make} {model}, no serial on one, {_gap_text(gap)} apart")
    labels = inventory.index.to_numpy()
    return pd.DataFrame([(labels[i], labels[j], "same_model_time", 1.0 - gap / model_gap if model_gap else 1.0, text)
                         for (i, j), (gap, text) in sorted(found.items())],
                        columns=["a", "b", "kind", "weight", "detail"])


def _signatures(inventory: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the readable rows that have a scene signature, and those signatures as one matrix."""
    _need(inventory, "same_scene", ("scene",))
    has = (_readable(inventory) & inventory["scene"].map(lambda s: s is not None and len(s) > 0)).to_numpy()
    positions = np.flatnonzero(has)
    if len(positions) == 0:
        return positions, np.zeros((0, 0), dtype=np.float32)
    return positions, np.stack([np.asarray(s, dtype=np.float32) for s in inventory["scene"].iloc[positions]])


def _scene_edges(inventory: pd.DataFrame, max_distance: float, neighbours: int) -> pd.DataFrame:
    """Each picture's nearest `neighbours` pictures by scene signature, when within max_distance."""
    positions, vectors = _signatures(inventory)
    found: dict[tuple[int, int], float] = {}
    for start in range(0, len(positions), 1024):  # blocks keep the similarity matrix small
        block = 1.0 - vectors[start:start + 1024] @ vectors.T
        for row, distances in enumerate(block, start):
            distances[row] = np.inf
            nearest = np.argpartition(distances, neighbours)[:neighbours] if len(distances) > neighbours \
                else np.arange(len(distances))
            for col in nearest[distances[nearest] <= max_distance]:
                found[(min(row, col), max(row, col))] = float(distances[col])
    labels = inventory.index.to_numpy()
    return pd.DataFrame([(labels[positions[i]], labels[positions[j]], "same_scene", 1.0 - d,
                          f"scene distance {d:.2f}") for (i, j), d in sorted(found.items())],
                        columns=["a", "b", "kind", "weight", "detail"])


def _check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    kinds = tuple(kinds)
    unknown = set(kinds) - set(EDGE_KINDS)
    if unknown:
        raise ValueError(f"unknown evidence kind(s) {sorted(unknown)}; choose from {', '.join(EDGE_KINDS)}")
    return kinds


def _check_index(inventory: pd.DataFrame) -> None:
    if not inventory.index.is_unique:
        raise ValueError("the inventory's index labels must be unique (reset_index() gives each row its own)")
    if "path" not in inventory:
        raise ValueError("the inventory needs a path column (picture_inventory makes one)")


def evidence_edges(inventory: pd.DataFrame, kinds: Iterable[str] = EDGE_KINDS, device_gap: pd.Timedelta = DEVICE_GAP,
                   model_gap: pd.Timedelta = MODEL_GAP, scene_max_distance: float = SCENE_MAX_DISTANCE,
                   scene_neighbours: int = SCENE_NEIGHBOURS) -> pd.DataFrame:
    """Every piece of pairwise evidence between pictures of an inventory (see module doc for the kinds).

    Columns: a, b (the inventory's index labels), path_a, path_b, kind, weight (0–1, stronger is higher),
    detail (what an analyst checks: bits apart, the serial and the gap, the scene distance). Rows whose
    picture could not be read (``error``) take part in none.
    """
    kinds = _check_kinds(kinds)
    _check_index(inventory)
    parts = []
    if "near_duplicate" in kinds:
        parts.append(_near_duplicate_edges(inventory))
    if "same_device" in kinds:
        parts.append(_session_edges(inventory, pd.Timedelta(device_gap)))
    if "same_model_time" in kinds:
        parts.append(_model_time_edges(inventory, pd.Timedelta(model_gap)))
    if "same_scene" in kinds:
        parts.append(_scene_edges(inventory, scene_max_distance, scene_neighbours))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float if c == "weight" else object) for c in EDGE_COLUMNS})
    edges = pd.concat(parts, ignore_index=True)
    edges["path_a"] = inventory.loc[edges["a"], "path"].to_numpy()
    edges["path_b"] = inventory.loc[edges["b"], "path"].to_numpy()
    edges["weight"] = edges["weight"].astype(float)
    return edges[list(EDGE_COLUMNS)]


# --------------------------------------------------------------------------- grouping


def _components(count: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of `count` nodes joined by the pairs (a, b): a label per node."""
    graph = coo_array((np.ones(len(a), dtype=np.int8), (a, b)), shape=(count, count))
    return connected_components(graph, directed=False)[1]


def _scene_merge(parts: np.ndarray, inventory: pd.DataFrame, max_distance: float) -> np.ndarray:
    """Parts merged by average linkage of their scene signatures (each part's mean signature: its dot product
    with another part's mean is the average over every pair of their pictures) up to max_distance."""
    positions, vectors = _signatures(inventory)
    if len(positions) == 0:
        return parts
    seen, member = np.unique(parts[positions], return_inverse=True)
    if len(seen) > MAX_SCENE_PARTS:
        raise ValueError(f"{len(seen):,} parts are too many to compare by scene (at most {MAX_SCENE_PARTS:,}): "
                         "cluster one case or device at a time, or leave same_scene out of kinds")
    if len(seen) < 2:
        return parts
    means = np.zeros((len(seen), vectors.shape[1]))
    np.add.at(means, member, vectors)
    means /= np.bincount(member)[:, None]
    distances = np.clip(1.0 - means @ means.T, 0.0, None)
    condensed = distances[np.triu_indices(len(seen), 1)]
    merged = fcluster(linkage(condensed, "average"), max_distance, "distance")
    # every part in a merged cluster takes the cluster's lowest part label, so labels stay part labels
    target = pd.Series(seen).groupby(merged).transform("min").to_numpy()
    relabel = np.arange(parts.max() + 1)
    relabel[seen] = target
    return relabel[parts]


def _numbered(labels: np.ndarray, paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group numbers from 1, largest group first and ties by their first path (so the numbers do not depend
    on the order of the inventory), and each picture's group size."""
    frame = pd.DataFrame({"label": labels, "path": paths})
    size = frame.groupby("label")["path"].transform("size")
    first = frame.groupby("label")["path"].transform("min")
    order = frame.assign(size=-size, first=first).sort_values(["size", "first"], kind="stable")
    number = {label: n for n, label in enumerate(dict.fromkeys(order["label"]), start=1)}
    return frame["label"].map(number).to_numpy(), size.to_numpy()


def _reasons(group: np.ndarray, parts: np.ndarray, edge_kinds: np.ndarray, edge_group: np.ndarray) -> np.ndarray:
    """Per picture, its group's evidence: edges of each kind inside the group, and parts merged by scene."""
    counts = pd.DataFrame({"group": edge_group, "kind": edge_kinds}).value_counts().to_dict()
    merged = pd.DataFrame({"group": group, "part": parts}).groupby("group")["part"].nunique() - 1
    counts.update({(g, "same_scene"): n for g, n in merged[merged > 0].items()})
    text: dict[int, list[str]] = {}
    for (g, kind), n in sorted(counts.items(), key=lambda item: (item[0][0], EDGE_KINDS.index(item[0][1]))):
        text.setdefault(g, []).append(f"{kind} {n}")
    return np.array(["; ".join(text.get(g, [])) for g in group], dtype=object)


def cluster(inventory: pd.DataFrame, edges: pd.DataFrame | None = None, kinds: Iterable[str] = EDGE_KINDS,
            device_gap: pd.Timedelta = DEVICE_GAP, model_gap: pd.Timedelta = MODEL_GAP,
            scene_max_distance: float = SCENE_MAX_DISTANCE) -> pd.DataFrame:
    """Groups of pictures that belong to one series, with the evidence that holds each group together.

    Pictures joined by an edge of a LINK_KINDS kind in `kinds` fall into one part; with "same_scene" in
    `kinds`, parts whose average scene distance is at most scene_max_distance are merged. `edges` (from
    evidence_edges, whose gaps then apply) saves computing them again; only their kinds in `kinds` are used.

    One row per inventory row (same index): path, group (1 = the largest), group_size, reasons ("near_duplicate
    12; same_device 30; same_scene 1": edges of each kind inside the group, same_scene counting the parts
    merged by scene). A picture that could not be read stays alone, its reason saying why.
    """
    kinds = _check_kinds(kinds)
    _check_index(inventory)
    if inventory.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in GROUP_COLUMNS})
    links = tuple(k for k in kinds if k in LINK_KINDS)
    if edges is None:
        edges = evidence_edges(inventory, links, device_gap, model_gap)
    edges = edges[edges["kind"].isin(links)]
    position = pd.Series(np.arange(len(inventory)), index=inventory.index)
    a, b = position[edges["a"]].to_numpy(), position[edges["b"]].to_numpy()
    parts = _components(len(inventory), a, b)
    labels = _scene_merge(parts, inventory, scene_max_distance) if "same_scene" in kinds else parts
    group, size = _numbered(labels, inventory["path"].astype(str).to_numpy())
    reasons = _reasons(group, parts, edges["kind"].to_numpy(), group[a])
    if "error" in inventory:
        bad = inventory["error"].notna().to_numpy()
        reasons[bad] = [f"not grouped: {error}" for error in inventory["error"][bad]]
    return pd.DataFrame({"path": inventory["path"].to_numpy(), "group": group, "group_size": size,
                         "reasons": reasons}, index=inventory.index)


def group_summary(groups: pd.DataFrame) -> pd.DataFrame:
    """One row per group of cluster's output: group, pictures, reasons, and a few of its paths; largest first."""
    summary = groups.groupby("group").agg(pictures=("path", "size"), reasons=("reasons", "first"),
                                          examples=("path", lambda p: "; ".join(sorted(p)[:3])))
    return summary.reset_index().sort_values("group").reset_index(drop=True)


# --------------------------------------------------------------------------- scoring against an answer key


def _codes(labels: Sequence[Any] | np.ndarray) -> np.ndarray:
    return pd.factorize(pd.Series(list(labels), dtype=object), use_na_sentinel=False)[0]


def _contingency(truth: Sequence[Any] | np.ndarray, groups: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Series × groups table of picture counts."""
    t, g = _codes(truth), _codes(groups)
    if len(t) != len(g):
        raise ValueError(f"truth and groups label different numbers of pictures: {len(t)} and {len(g)}")
    table = np.zeros((t.max() + 1 if len(t) else 0, g.max() + 1 if len(g) else 0), dtype=np.int64)
    np.add.at(table, (t, g), 1)
    return table


def _pairs(n: np.ndarray | int) -> np.ndarray | int:
    """How many pairs n things make."""
    return n * (n - 1) // 2


def adjusted_rand(truth: Sequence[Any] | np.ndarray, groups: Sequence[Any] | np.ndarray) -> float:
    """Hubert & Arabie's adjusted Rand index of two labellings: 1 the same partition, about 0 chance, < 0 worse.

    Same definition as scikit-learn's adjusted_rand_score (two trivial partitions that agree score 1).
    """
    table = _contingency(truth, groups)
    n = int(table.sum())
    together = int(_pairs(table).sum())  # pairs in one series and one group
    same_series, same_group = int(_pairs(table.sum(axis=1)).sum()), int(_pairs(table.sum(axis=0)).sum())
    apart = _pairs(n) - same_series - same_group + together  # pairs split in both
    split, joined = same_series - together, same_group - together  # series pairs split; wrong pairs joined
    if split == 0 and joined == 0:
        return 1.0
    return 2.0 * (together * apart - split * joined) / (
        (together + split) * (split + apart) + (together + joined) * (joined + apart))


def _entropy(counts: np.ndarray) -> float:
    shares = counts[counts > 0] / counts.sum()
    return float(-(shares * np.log(shares)).sum())


def _conditional_entropy(table: np.ndarray) -> float:
    """H(rows | columns) of a contingency table."""
    n, column = table.sum(), table.sum(axis=0)
    rows, cols = np.nonzero(table)
    cells = table[rows, cols]
    return float(-(cells / n * np.log(cells / column[cols])).sum())


def score(groups: pd.DataFrame, truth: pd.DataFrame | Mapping[str, Any]) -> dict[str, Any]:
    """How well groups (cluster's output: path, group) match the answer key (path → series_id).

    Only pictures in both are scored. purity: share of pictures in their group's main series;
    inverse_purity: share in their series' main group (how whole series stay); homogeneity, completeness,
    v_measure: the entropy-based versions (Rosenberg & Hirschberg 2007, as scikit-learn computes them);
    adjusted_rand; pair_precision / pair_recall: of the pairs grouped together, the share of one series /
    of the pairs of one series, the share grouped together. Also counts: pictures, series, groups,
    unscored (answer-key pictures absent from groups) and extra_files (pictures outside the key that
    share a group with a series picture).
    """
    if isinstance(truth, pd.DataFrame):
        truth = dict(zip(truth["path"], truth["series_id"]))
    key = {str(p): s for p, s in truth.items() if s is not None and not (isinstance(s, float) and np.isnan(s))}
    paths = groups["path"].astype(str)
    scored = paths.isin(key).to_numpy()
    series = [key[p] for p in paths[scored]]
    labels = groups["group"].to_numpy()[scored]
    if not series:
        raise ValueError("no grouped picture is in the answer key: are both paths relative to the same folder?")
    table = _contingency(series, labels)
    n = table.sum()
    together = int(_pairs(table).sum())
    h_series, h_groups = _entropy(table.sum(axis=1)), _entropy(table.sum(axis=0))
    homogeneity = 1.0 if h_series == 0 else 1.0 - _conditional_entropy(table) / h_series
    completeness = 1.0 if h_groups == 0 else 1.0 - _conditional_entropy(table.T) / h_groups
    series_groups = set(labels)
    return {
        "pictures": int(n), "series": table.shape[0], "groups": table.shape[1],
        "purity": float(table.max(axis=0).sum() / n), "inverse_purity": float(table.max(axis=1).sum() / n),
        "homogeneity": homogeneity, "completeness": completeness,
        "v_measure": 0.0 if homogeneity + completeness == 0 else
        2 * homogeneity * completeness / (homogeneity + completeness),
        "adjusted_rand": adjusted_rand(series, labels),
        "pair_precision": together / max(1, int(_pairs(table.sum(axis=0)).sum())),
        "pair_recall": together / max(1, int(_pairs(table.sum(axis=1)).sum())),
        "unscored": len(set(key) - set(paths)),
        "extra_files": int((~scored & groups["group"].isin(series_groups).to_numpy()).sum()),
    }
