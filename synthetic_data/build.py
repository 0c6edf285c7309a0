"""Generate one profile's data into <root>/<profile>/, atomically: a half-written profile is never seen as done."""

from __future__ import annotations

import csv
import json
import random
import secrets
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import PIL
import pillow_heif

from synthetic_data.profiles import ProfileSpec, get_spec
from synthetic_data.seized_sample import ANSWER_KEY_COLUMNS, make_seized_sample
from vidlab.course import data_root

GENERATOR_VERSION = "0.1.0"
# Written last: vidlab.course.data_dir treats a profile folder without it as not generated.
RECORD_NAME = "generation.json"


def csv_value(value: Any) -> str:
    """One answer-key cell: booleans as lower-case true/false (pandas reads them back as booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_answer_key(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write answer-key rows as CSV with Unix line endings, so the bytes are the same on every platform."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ANSWER_KEY_COLUMNS)
        writer.writerows([csv_value(row[column]) for column in ANSWER_KEY_COLUMNS] for row in rows)


def generation_record(spec: ProfileSpec, seed: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What was generated and with which encoders; no timestamps, so the same inputs give the same file."""
    return {
        "profile": spec.name,
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        # Encoded bytes depend on these libraries: a version change explains a changed checksum.
        "encoders": {
            "pillow": PIL.__version__,
            "pillow_heif": pillow_heif.__version__,
            "libheif": pillow_heif.libheif_version(),
        },
        "seized_sample": {
            "files": len(rows),
            "kinds": dict(sorted(Counter(row["true_kind"] for row in rows).items())),
            "extension_liars": sum(row["extension_lies"] for row in rows),
            "truncated": sum(row["truncated"] for row in rows),
            "empty": sum(row["empty"] for row in rows),
        },
    }


def build(folder: Path, spec: ProfileSpec, seed: int, progress: bool) -> None:
    """Write every part of a profile into folder, the generation record last."""
    rows = make_seized_sample(folder / "case" / "seized_sample", spec, random.Random(seed), progress=progress)
    write_answer_key(folder / "answer_key" / "seized_sample.csv", rows)
    record = json.dumps(generation_record(spec, seed, rows), indent=2, sort_keys=True) + "\n"
    (folder / RECORD_NAME).write_text(record, encoding="utf-8", newline="\n")


def leftovers(root: Path, profile: str) -> list[Path]:
    """Folders a killed or failed run of this profile left behind."""
    return sorted(root.glob(f".{profile}.partial-*"))


def generate(
    profile: str, root: Path | None = None, seed: int | None = None, progress: bool = True, force: bool = False
) -> Path:
    """Generate a profile's data and return its folder; an existing generation is kept unless force=True."""
    spec = get_spec(profile)
    root = Path(root) if root is not None else data_root()
    target = root / profile
    if target.exists() and not force:
        if (target / RECORD_NAME).is_file():
            return target
        raise FileExistsError(
            f"{target} exists but holds no {RECORD_NAME}: it is not a finished generation; use force=True to replace it"
        )
    root.mkdir(parents=True, exist_ok=True)
    # Assumes one generator per profile at a time; a second one would lose its folder here and fail loudly.
    for stale in leftovers(root, profile):
        shutil.rmtree(stale)
    partial = root / f".{profile}.partial-{secrets.token_hex(4)}"
    partial.mkdir()
    try:
        build(partial, spec, spec.seed if seed is None else seed, progress)
        if target.exists():
            retired = root / f".{profile}.partial-replaced-{secrets.token_hex(4)}"
            target.rename(retired)
            partial.rename(target)
            shutil.rmtree(retired)
        else:
            partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return target
