"""PRNU camera identification: accuracy, false matches and speed on the generator's devices, in one run.

Usage:  python benchmarks/bench_prnu.py [--devices 12] [--references 20] [--questioned 10] [--crops 256,512,full]
                                        [--keep DIR] [--seed N] [--standin]

Pictures. When synthetic_data offers its series pipeline (world.plan_world, series.take), the devices are the
classroom profile's own (their seeds, models, PRNU, vignetting, grain and JPEG tables), one unit per model plus
further units of models already chosen (same-model twins are the hardest impostors), photographed by the generator's
`take` at classroom resolution (long side 1600) from drawn scenes: reference shots from one pool of scenes,
questioned shots from another, so no questioned scene was seen while estimating a fingerprint. Each device also
gets derived copies through synthetic_data.provenance: two editor crops (turned upright, cropped, re-encoded) and
one forum re-share (resized: expected to be reported as unmatchable). Without that pipeline, or with --standin, a
stand-in is used: a seeded multiplicative pattern (σ 0.5–1 %) on drawn scenes, fresh shot noise, JPEG q85–95, with
the same kinds of derived copies made by Pillow. The output says which.

The generator draws fresh sensor grain for every exposure (synthetic_data.devices), so images of different
devices share no noise but their sensors' own PRNU; earlier versions laid one grain tile over every scene, which
let the crop search find impostors (PCE up to 189) and is now gone.

For each working size (centre crop N×N, or the full frame) it reports: identification rate (top camera AND
PCE ≥ PCE_THRESHOLD), false matches (impostor pairs at or above the threshold, and pictures given a wrong camera),
genuine and impostor PCE distributions (which is where the threshold comes from), and seconds per picture for
fingerprints and for matching one picture against all cameras, as a ratio to a plain full decode of the same files
measured in the same run (files in the page cache: warm). A last table varies the number of references.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vidlab import camera  # noqa: E402

SCENE = (2000, 1500)  # the classroom profile's scene size: 1600-pixel photos × SCENE_MARGIN 1.25
LONG_SIDE = 1600  # classroom profile


@dataclass
class Device:
    """One camera of the benchmark and its files."""

    name: str
    references: list[Path] = field(default_factory=list)
    questioned: list[Path] = field(default_factory=list)
    crops: list[tuple[Path, tuple[int, int]]] = field(default_factory=list)  # edited copy, expected shift or (-1, -1)
    reshares: list[Path] = field(default_factory=list)


def generator_available() -> bool:
    try:
        from synthetic_data.provenance import edited, reshare  # noqa: F401
        from synthetic_data.series import take  # noqa: F401
        from synthetic_data.world import plan_world  # noqa: F401
    except ImportError:
        return False
    return True


def scenes(count: int, seed: int) -> list[Image.Image]:
    from synthetic_data.devices import add_grain, within_grain_reach
    from synthetic_data.draw import render_scene

    rng = random.Random(seed)
    return [add_grain(render_scene(SCENE, random.Random(seed * 1000 + i)).point(within_grain_reach), rng)
            for i in range(count)]


def generator_devices(count: int, seed: int) -> list[tuple[object, object]]:
    """(device, its series plan) from the classroom world: every model once, then second units of models."""
    from synthetic_data.profiles import get_spec
    from synthetic_data.world import plan_world

    world = plan_world(get_spec("classroom"), seed)
    firsts, twins, models = [], [], set()
    for plan in world.series:
        for device in plan.devices:
            (twins if device.model.name in models else firsts).append((device, plan))
            models.add(device.model.name)
    twins = list({device.model.name: (device, plan) for device, plan in twins}.values())
    return (firsts + twins)[:count]


def write_generator_shots(folder: Path, count: int, references: int, questioned: int, seed: int) -> list[Device]:
    """Shots by the classroom world's devices through the generator's own take/edited/reshare."""
    from synthetic_data.provenance import PLATFORM_SPECS, edited, reshare
    from synthetic_data.series import take
    from synthetic_data.world import Shot, pick_view

    rng = random.Random(seed)
    pool = scenes(2 * references // 3 + questioned, seed)
    reference_scenes, questioned_scenes = pool[:2 * references // 3], pool[2 * references // 3:]
    devices = []
    for device, plan in generator_devices(count, seed):
        solo = replace(plan, devices=(device,))
        bench = Device(f"{device.device_id} {device.model.name}")
        for k in range(references + questioned):
            is_reference = k < references
            portrait = device.model.kind == "phone" and rng.random() < 0.2
            shot = Shot(k, 0, 0, plan.shots[0].taken, pick_view(rng, False, portrait), (0.0,) * 8,
                        rng.uniform(0.8, 1.12), rng.uniform(-0.06, 0.06), portrait, (0.0, 0.0))
            scene = rng.choice(reference_scenes if is_reference else questioned_scenes)
            taken = take(scene, solo, shot, LONG_SIDE)
            path = folder / f"{device.device_id}_{'ref' if is_reference else 'q'}_{k:02d}.jpg"
            path.write_bytes(taken.data)
            (bench.references if is_reference else bench.questioned).append(path)
            if not is_reference and k - references < 2:  # two editor crops of questioned shots
                left, top = rng.uniform(0.02, 0.2), rng.uniform(0.02, 0.2)
                data, box = edited(taken.data, taken.meta, taken.thumbnail,
                                   (left, top, left + rng.uniform(0.6, 0.78), top + rng.uniform(0.6, 0.78)))
                crop = folder / f"{device.device_id}_crop_{k:02d}.jpg"
                crop.write_bytes(data)
                bench.crops.append((crop, (box[0], box[1]) if not portrait else (-1, -1)))
            if not is_reference and k - references == 2:
                data, _ = reshare(taken.data, PLATFORM_SPECS["forum"], taken.meta)
                share = folder / f"{device.device_id}_forum_{k:02d}.jpg"
                share.write_bytes(data)
                bench.reshares.append(share)
        devices.append(bench)
    return devices


def write_standin_shots(folder: Path, count: int, references: int, questioned: int, seed: int) -> list[Device]:
    """The stand-in: seeded multiplicative patterns on drawn scenes, shot noise, JPEG q85–95."""
    from synthetic_data.draw import render_scene

    rng = np.random.default_rng(seed)
    pool = [np.asarray(render_scene((1600, 1200), random.Random(seed * 1000 + i)), np.float32)
            for i in range(references + questioned)]
    devices = []
    for d in range(count):
        pattern = rng.normal(0, rng.uniform(0.005, 0.01), (1200, 1600, 1)).astype(np.float32)
        quality = int(rng.integers(85, 96))
        bench = Device(f"standin-{d:02d} q{quality}")
        for k in range(references + questioned):
            scene = pool[(k + 3 * d) % references] if k < references else pool[references + (k + d) % questioned]
            exposed = scene * rng.uniform(0.7, 1.0) * (1 + pattern)
            noisy = exposed + rng.normal(0, 1, exposed.shape) * np.sqrt(np.maximum(exposed, 1) / 4)
            path = folder / f"standin{d:02d}_{'ref' if k < references else 'q'}_{k:02d}.jpg"
            photo = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
            photo.save(path, quality=quality)
            (bench.references if k < references else bench.questioned).append(path)
            if references <= k < references + 2:  # an editor's crop (re-encoded q92) and a resized re-share
                left, top = int(rng.integers(20, 320)), int(rng.integers(20, 240))
                box = (left, top, left + int(1600 * rng.uniform(0.6, 0.78)), top + int(1200 * rng.uniform(0.6, 0.78)))
                crop = folder / f"standin{d:02d}_crop_{k:02d}.jpg"
                photo.crop(box).save(crop, quality=92)
                bench.crops.append((crop, box[:2]))
                share = folder / f"standin{d:02d}_forum_{k:02d}.jpg"
                photo.resize((1280, 960), Image.Resampling.BILINEAR).save(share, quality=90)
                bench.reshares.append(share)
        devices.append(bench)
    return devices


def decode_rate(paths: list[Path]) -> float:
    """Seconds per file for a plain full decode (the reference)."""
    start = time.perf_counter()
    for path in paths:
        with Image.open(path) as im:
            im.load()
    return (time.perf_counter() - start) / len(paths)


def evaluate(devices: list[Device], crop: int | None, references: int, decode_s: float) -> dict[str, object]:
    start = time.perf_counter()
    prints = {d.name: camera.estimate_fingerprint(d.references[:references], crop=crop, label=d.name) for d in devices}
    fingerprint_s = (time.perf_counter() - start) / sum(min(references, len(d.references)) for d in devices)
    genuine, impostor, correct, wrong, total = [], [], 0, 0, 0
    start = time.perf_counter()
    for device in devices:
        for path in device.questioned:
            ranked = camera.identify_camera(path, prints)
            total += 1
            mine = ranked[ranked["camera"] == device.name].iloc[0]
            genuine.append(mine["pce"])
            others = ranked[(ranked["camera"] != device.name) & ranked["pce"].notna()]
            impostor.extend(others["pce"])
            correct += bool(ranked.iloc[0]["camera"] == device.name and ranked.iloc[0]["same_camera"])
            wrong += bool(others["same_camera"].any())
    match_s = (time.perf_counter() - start) / total
    g, i = np.array(genuine), np.array(impostor)
    return {"crop": "full" if crop is None else f"{crop}²", "refs": references, "correct": correct, "total": total,
            "wrong_images": wrong, "false_pairs": int((i >= camera.PCE_THRESHOLD).sum()), "pairs": len(i),
            "genuine_min": g.min(), "genuine_p5": np.percentile(g, 5), "genuine_median": np.median(g),
            "impostor_max": i.max(), "impostor_p99": np.percentile(i, 99),
            "fingerprint_s": fingerprint_s, "match_s": match_s, "decode_s": decode_s, "prints": prints}


def derived(devices: list[Device], prints: dict[str, camera.Fingerprint]) -> str:
    """Editor crops (cropped, some turned) and forum re-shares (resized) against every camera."""
    found = shifted = landscape = crops = unmatched = shares = 0
    impostor = []
    for device in devices:
        for path, expected in device.crops:
            ranked = camera.identify_camera(path, prints)
            best = ranked.iloc[0]
            crops += 1
            found += bool(best["camera"] == device.name and best["same_camera"])
            impostor.extend(ranked.loc[ranked["camera"] != device.name, "pce"].dropna())
            if expected != (-1, -1):
                landscape += 1
                shifted += bool((best["shift_x"], best["shift_y"]) == expected)
        for path in device.reshares:
            ranked = camera.identify_camera(path, prints)
            shares += 1
            unmatched += bool(not ranked["same_camera"].any())
            impostor.extend(ranked.loc[ranked["camera"] != device.name, "pce"].dropna())
    return (f"editor crops (cropped to 60-78 %, re-encoded q92, portrait ones turned upright): right camera "
            f"{found}/{crops}, exact crop offset {shifted}/{landscape} of the landscape ones\n"
            f"forum re-shares (resized to 1280): no camera matched {unmatched}/{shares} (a resized copy cannot line up "
            f"with the pattern)\nimpostor PCE over these "
            f"{len(impostor)} searched pairs: max {max(impostor):.1f}, p99 {np.percentile(impostor, 99):.1f}, "
            f"{sum(p >= camera.PCE_THRESHOLD for p in impostor)} at or above the threshold")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=12)
    parser.add_argument("--references", type=int, default=20)
    parser.add_argument("--questioned", type=int, default=10)
    parser.add_argument("--crops", default="256,512,full")
    parser.add_argument("--keep", type=Path, help="write the pictures here (else a temporary folder)")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--standin", action="store_true", help="use the stand-in devices even if the generator's exist")
    args = parser.parse_args()
    crops = [None if c == "full" else int(c) for c in args.crops.split(",")]

    with tempfile.TemporaryDirectory(prefix="bench_prnu_") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        if generator_available() and not args.standin:
            source = "the generator's own devices (synthetic_data.world/series/provenance), classroom profile"
            devices = write_generator_shots(folder, args.devices, args.references, args.questioned, args.seed)
        else:
            why = "--standin" if args.standin else "synthetic_data's series pipeline not found"
            source = f"STAND-IN devices ({why})"
            devices = write_standin_shots(folder, args.devices, args.references, args.questioned, args.seed)
        made = time.perf_counter() - start
        count = sum(len(d.references) + len(d.questioned) for d in devices)
        print(f"pictures: {source}\n{len(devices)} devices ({', '.join(d.name for d in devices)}), "
              f"{args.references} references + {args.questioned} questioned each ({count} pictures, made in "
              f"{made:.0f} s), threshold PCE ≥ {camera.PCE_THRESHOLD:g}; files read warm (page cache)\n")
        every = [p for d in devices for p in d.references + d.questioned]
        decode_rate(every[:20])  # warm-up
        decode_s = decode_rate(every)
        header = (f"{'size':>6} {'refs':>4} {'identified':>12} {'wrong img':>9} {'false pairs':>12} "
                  f"{'genuine min/p5/median':>24} {'impostor max/p99':>17} {'fingerprint s/img':>18} "
                  f"{'match s/img':>12}")
        print(header)
        results = {}
        runs = [(crop, args.references) for crop in crops]
        runs += [(512, n) for n in (5, 10) if n < args.references and 512 in crops]
        for crop, refs in runs:
            r = evaluate(devices, crop, refs, decode_s)
            results[(crop, refs)] = r
            print(f"{r['crop']:>6} {refs:>4} {r['correct']:>5}/{r['total']:<3} {100 * r['correct'] / r['total']:4.1f}% "
                  f"{r['wrong_images']:>5}/{r['total']:<3} {r['false_pairs']:>6}/{r['pairs']:<5} "
                  f"{r['genuine_min']:>8.0f}/{r['genuine_p5']:.0f}/{r['genuine_median']:<7.0f} "
                  f"{r['impostor_max']:>8.1f}/{r['impostor_p99']:<6.1f} "
                  f"{r['fingerprint_s']:>6.3f} ({r['fingerprint_s'] / decode_s:4.1f}× dec) "
                  f"{r['match_s']:>5.2f} ({r['match_s'] / decode_s:5.1f}× dec)", flush=True)
        print(f"(dec = a plain full decode of the same JPEGs, {decode_s * 1000:.0f} ms/picture in this run; "
              f"match = one picture against all {len(devices)} cameras)")
        for crop in crops:
            if any(d.crops for d in devices):
                print(f"\n{results[(crop, args.references)]['crop']} fingerprints, derived copies:\n"
                      + derived(devices, results[(crop, args.references)]["prints"]))


if __name__ == "__main__":
    main()
