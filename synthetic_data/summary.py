"""What a generated profile holds, for `vidlab data describe`: a summary table and a contact sheet of its scenes."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pandas as pd
from PIL import Image, ImageOps

from vidlab.course import DataMissingError

MB = 1024 * 1024
TILE = (320, 240)
# File kinds by extension, for the "files by type" rows.
KINDS = {".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png", ".mp4": "video", ".wav": "audio", ".dd": "disk image",
         ".sqlite": "database", ".json": "json", ".csv": "csv", ".heic": "heic"}


def read_key(profile_dir: Path, name: str) -> pd.DataFrame:
    """One answer-key table, or a clear error when the folder is not a finished generation."""
    path = Path(profile_dir) / "answer_key" / name
    if not (Path(profile_dir) / "generation.json").is_file() or not path.is_file():
        raise DataMissingError(f"{profile_dir} is not a finished generation (no generation.json or answer_key/{name})")
    return pd.read_csv(path, keep_default_na=False)


def describe(profile_dir: Path) -> pd.DataFrame:
    """Summary of a profile: series (actionable, known, shared), devices, submitting countries, files by type and
    form, sizes; columns section, item, count, size_mb."""
    series = read_key(profile_dir, "series.csv")
    files = read_key(profile_dir, "files.csv")
    devices = read_key(profile_dir, "devices.csv")
    seized = read_key(profile_dir, "seized_devices.csv")
    manifest = read_key(profile_dir, "manifest.csv")
    manifest["kind"] = [KINDS.get(PurePosixPath(path).suffix.lower(), "other") for path in manifest["path"]]
    manifest["part"] = [path.split("/")[1] if path.startswith("case/") else "answer_key" for path in manifest["path"]]
    rows = [
        ("series", "series", len(series), None),
        ("series", "actionable", int(series["actionable"].sum()), None),
        ("series", "known to the case database", int(series["known"].sum()), None),
        ("series", "submitted by several countries", int((series["submitters"].str.count(";") > 0).sum()), None),
        ("series", "locations (cities)", series["city_id"].nunique(), None),
        ("series", "countries shot in", series["country_code"].nunique(), None),
        ("devices", "cameras and phones", len(devices), None),
        ("devices", "makes", devices["make"].nunique(), None),
        ("countries", f"submitting: {', '.join(sorted(seized['country'].unique()))}", seized["country"].nunique(), None),
        ("countries", "seized devices", len(seized), None),
    ]
    for form, group in files.groupby("form"):
        rows.append(("series files by form", form, len(group), group["size"].sum() / MB))
    for kind, group in manifest.groupby("kind"):
        rows.append(("files by type", kind, len(group), group["size"].sum() / MB))
    for part, group in manifest.groupby("part"):
        rows.append(("files by part", part, len(group), group["size"].sum() / MB))
    rows.append(("total", "all generated files", len(manifest), manifest["size"].sum() / MB))
    table = pd.DataFrame(rows, columns=["section", "item", "count", "size_mb"])
    table["size_mb"] = table["size_mb"].round(1)
    return table


def contact_sheet(profile_dir: Path, out_png: Path, n: int = 16) -> Path:
    """A PNG grid of n scenes (one camera original per series, spread over the series) for the README."""
    files = read_key(profile_dir, "files.csv")
    originals = files[(files["form"] == "original")].drop_duplicates("series_id")
    if originals.empty:
        raise DataMissingError(f"{profile_dir} holds no camera originals to show")
    step = max(1, len(originals) // n)
    chosen = originals.iloc[::step].head(n)
    columns = min(4, len(chosen))
    rows = -(-len(chosen) // columns)
    sheet = Image.new("RGB", (columns * TILE[0], rows * TILE[1]), (24, 24, 24))
    for index, path in enumerate(chosen["path"]):
        with Image.open(Path(profile_dir) / "case" / path) as image:
            image.draft("RGB", (TILE[0] * 2, TILE[1] * 2))
            tile = ImageOps.pad(ImageOps.exif_transpose(image).convert("RGB"), TILE, color=(24, 24, 24))
        sheet.paste(tile, ((index % columns) * TILE[0], (index // columns) * TILE[1]))
    out_png = Path(out_png)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out_png, "PNG")
    return out_png
