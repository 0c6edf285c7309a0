"""Series clustering on a generated case: scores against the answer key, kind of evidence by kind, and its cost.

    .venv/bin/python benchmarks/bench_clustering.py                          # tiny, generated in a temp folder
    .venv/bin/python benchmarks/bench_clustering.py --profile classroom      # ~1-2 min to generate, 0.8 GB, deleted
    .venv/bin/python benchmarks/bench_clustering.py --profile classroom --data /tmp/vidlab-data   # kept for reuse

Every picture under the profile's case/ folder is clustered (series photos, copies and screenshots, and the
OS, app and Day-1 sample pictures around them); the answer key's files.csv scores the series pictures.
Printed:
1. Cost of the inventory in one process, files in the page cache (a first pass reads every file): the
   perceptual hashes alone (similarity.hash_table) are the reference, measured in the same run; the scene
   signatures alone and the whole picture_inventory as ratios of it; then the edges and the clustering.
2. Ablation: the scores with each set of evidence kinds (purity, inverse purity = share of each series in its
   main group, entropy homogeneity/completeness, adjusted Rand index, pair precision/recall, and pictures from
   outside the key put in a series' group).
3. Sweeps of device_gap, model_gap and scene_max_distance with every kind on; where the series pictures left
   outside their series' main group come from (the answer key's form column).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import synthetic_data  # noqa: E402
from vidlab import clustering, similarity  # noqa: E402

MEASURES = ("groups", "purity", "inverse_purity", "homogeneity", "completeness", "adjusted_rand",
            "pair_precision", "pair_recall", "extra_files")
ABLATION = [
    ("near_duplicate",), ("same_device",), ("same_scene",), ("near_duplicate", "same_device"),
    clustering.LINK_KINDS, clustering.EDGE_KINDS,
    tuple(k for k in clustering.EDGE_KINDS if k != "near_duplicate"),
    tuple(k for k in clustering.EDGE_KINDS if k != "same_device"),
    tuple(k for k in clustering.EDGE_KINDS if k != "same_model_time"),
]


def timed(task, *args, **kwargs):
    start = time.perf_counter()
    result = task(*args, **kwargs)
    return result, time.perf_counter() - start


def row(label: str, result: dict) -> str:
    cells = [f"{result[m]:.3f}" if isinstance(result[m], float) else str(result[m]) for m in MEASURES]
    return f"| {label} | " + " | ".join(cells) + " |"


def header(first: str) -> str:
    return f"| {first} | " + " | ".join(MEASURES) + " |\n|" + "---|" * (len(MEASURES) + 1)


def inventory_with_costs(case: Path) -> pd.DataFrame:
    """picture_inventory of the case, timed in one process against its own passes measured alone."""
    paths = clustering.picture_paths(case)
    for path in paths:  # warm the page cache so every pass reads from memory
        path.read_bytes()
    _, t_hash = timed(similarity.hash_table, paths, progress=False)
    _, t_scene = timed(clustering.scene_table, paths, progress=False)
    inventory, t_all = timed(clustering.picture_inventory, case, progress=False)
    n = len(paths)
    print(f"{n:,} pictures under case/, one process, warm page cache:")
    print(f"  perceptual hashes alone (reference) {t_hash:6.1f} s  {n / t_hash:5.0f} pictures/s")
    print(f"  scene signatures alone              {t_scene:6.1f} s  {n / t_scene:5.0f} pictures/s  "
          f"{t_scene / t_hash:.2f}x the hashes")
    print(f"  picture_inventory (hashes, metadata, scene) {t_all:6.1f} s  {n / t_all:5.0f} pictures/s  "
          f"{t_all / t_hash:.2f}x the hashes")
    return inventory


def run(profile_dir: Path) -> None:
    case, truth = profile_dir / "case", pd.read_csv(profile_dir / "answer_key" / "files.csv")
    inventory = inventory_with_costs(case)
    edges, t_edges = timed(clustering.evidence_edges, inventory)
    links = edges[edges["kind"] != "same_scene"]
    groups, t_cluster = timed(clustering.cluster, inventory, links)
    counts = ", ".join(f"{k} {n:,}" for k, n in edges["kind"].value_counts().items())
    print(f"  evidence edges {t_edges:.2f} s ({counts}); clustering {t_cluster:.2f} s")

    print(f"\nAblation (defaults: device_gap {clustering.DEVICE_GAP / pd.Timedelta(hours=1):g} h, "
          f"model_gap {clustering.MODEL_GAP / pd.Timedelta(minutes=1):g} min, "
          f"scene_max_distance {clustering.SCENE_MAX_DISTANCE}):\n")
    print(header("kinds"))
    for kinds in ABLATION:
        result = clustering.score(clustering.cluster(inventory, links, kinds=kinds), truth)
        print(row(" + ".join(kinds), result))

    print("\nSweeps, every kind on:\n")
    print(header("setting"))
    for hours in (1, 6, 24, 72, 168):
        gap_edges = clustering.evidence_edges(inventory, clustering.LINK_KINDS, device_gap=pd.Timedelta(hours=hours))
        print(row(f"device_gap {hours} h", clustering.score(clustering.cluster(inventory, gap_edges), truth)))
    for minutes in (0, 10, 60, 360):
        gap_edges = clustering.evidence_edges(inventory, clustering.LINK_KINDS, model_gap=pd.Timedelta(minutes=minutes))
        print(row(f"model_gap {minutes} min", clustering.score(clustering.cluster(inventory, gap_edges), truth)))
    for distance in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4):
        result = clustering.score(clustering.cluster(inventory, links, scene_max_distance=distance), truth)
        print(row(f"scene_max_distance {distance}", result))

    key = truth.set_index("path")
    scored = groups[groups["path"].isin(key.index)].assign(series=lambda g: key.loc[g["path"], "series_id"].to_numpy(),
                                                           form=lambda g: key.loc[g["path"], "form"].to_numpy())
    main = scored.groupby("series")["group"].agg(lambda g: g.value_counts().index[0])
    outside = scored[scored["group"] != scored["series"].map(main)]
    print(f"\nWith the defaults, {len(outside)} of {len(scored)} series pictures sit outside their series' main group: "
          + ", ".join(f"{form} {n}" for form, n in outside["form"].value_counts().items()))
    print(f"({scored['form'].value_counts().to_dict()} in all)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="tiny", choices=("tiny", "classroom", "full"))
    parser.add_argument("--data", type=Path, help="data root to generate into and keep (default: a temp folder)")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    print(f"bench_clustering: profile {args.profile}, seed {args.seed or 'default'}")
    if args.data:
        run(synthetic_data.generate(args.profile, root=args.data, seed=args.seed))
        return
    with tempfile.TemporaryDirectory(prefix="vidlab-bench-") as folder:
        run(synthetic_data.generate(args.profile, root=folder, seed=args.seed))


if __name__ == "__main__":
    main()
