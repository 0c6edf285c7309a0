"""The generator's cameras carry their own sensor fingerprint and nothing else in common: vidlab.camera's PRNU
matching tells two units of one model apart, whole frames and cropped copies alike."""

from __future__ import annotations

import io
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import uniform_filter

from synthetic_data.devices import MODELS, add_grain, sensor_gain
from synthetic_data.draw import render_scene
from synthetic_data.profiles import get_spec
from synthetic_data.provenance import edited
from synthetic_data.series import take
from synthetic_data.world import Shot, plan_world
from vidlab import camera

LONG_SIDE = 320  # photos 320 × 240: big enough for PRNU (vidlab.camera.MIN_PRNU_SIZE), small enough to be fast
SCENE = (400, 300)
REFERENCES = 8
QUESTIONED = 3


def shots_by(plan, device, scenes: list[Image.Image], count: int, first: int) -> list[bytes]:
    """`count` camera originals by one device, framing the given scenes in turn (same views for every device)."""
    solo = replace(plan, devices=(device,))
    rng = random.Random(first)
    files = []
    for k in range(count):
        left, top = rng.uniform(0, 0.1), rng.uniform(0, 0.1)
        shot = Shot(first + k, 0, 0, plan.shots[0].taken, (left, top, left + 0.88, top + 0.88), (0.0,) * 8,
                    rng.choice((0.94, 1.02)), 0.0, False, (0.0, 0.0))
        files.append(take(scenes[k % len(scenes)], solo, shot, LONG_SIDE).data)
    return files


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[Path]]]:
    """Two units of one phone model (the hardest impostors) in the same rooms: both photograph the SAME scenes
    (references, questioned shots and an editor crop), so any grain a scene passed on to its shots would match."""
    plan = plan_world(get_spec("tiny"), 7).series[0]
    unit = plan.devices[0]
    model = next(model for model in MODELS if model.kind == "phone")
    units = {"A": replace(unit, model=model, seed=101), "B": replace(unit, model=model, seed=202)}
    pool = [render_scene(SCENE, random.Random(500 + i)) for i in range(4)]
    folder = tmp_path_factory.mktemp("twins")
    files: dict[str, dict[str, list[Path]]] = {}
    for name, device in units.items():
        made = {"references": shots_by(plan, device, pool, REFERENCES, 0),
                "questioned": shots_by(plan, device, pool, QUESTIONED, 100)}
        taken = take(pool[0], replace(plan, devices=(device,)),
                     Shot(200, 0, 0, plan.shots[0].taken, (0.05, 0.05, 0.93, 0.93), (0.0,) * 8, 1.02, 0.0, False,
                          (0.0, 0.0)), LONG_SIDE)
        made["crops"] = [edited(taken.data, taken.meta, taken.thumbnail, (0.1, 0.12, 0.8, 0.85))[0]]
        files[name] = {}
        for role, blobs in made.items():
            files[name][role] = []
            for k, data in enumerate(blobs):
                path = folder / f"{name}_{role}_{k}.jpg"
                path.write_bytes(data)
                files[name][role].append(path)
    return files


def test_twin_phones_are_told_apart_by_prnu(twins: dict[str, dict[str, list[Path]]]) -> None:
    for own, other in (("A", "B"), ("B", "A")):
        fingerprint = camera.estimate_fingerprint(twins[own]["references"], label=own)
        for path in twins[own]["questioned"] + twins[own]["crops"]:
            match = camera.match_fingerprint(path, fingerprint)
            assert match.same_camera and match.pce >= camera.PCE_THRESHOLD, (own, path.name, match)
        for path in twins[other]["questioned"] + twins[other]["crops"]:
            match = camera.match_fingerprint(path, fingerprint)
            assert not match.same_camera and match.pce < camera.PCE_THRESHOLD, (own, path.name, match)


def test_a_cropped_copy_is_found_where_it_was_cut(twins: dict[str, dict[str, list[Path]]]) -> None:
    fingerprint = camera.estimate_fingerprint(twins["A"]["references"])
    match = camera.match_fingerprint(twins["A"]["crops"][0], fingerprint)
    assert match.same_camera and match.shift == (round(0.1 * LONG_SIDE), round(0.12 * 240))


def test_grain_is_fresh_in_every_exposure_and_reproducible() -> None:
    flat = Image.new("RGB", (96, 64), (120, 120, 120))
    one, again = (np.asarray(add_grain(flat, random.Random(1)), np.float32) for _ in range(2))
    other = np.asarray(add_grain(flat, random.Random(2)), np.float32)
    assert np.array_equal(one, again)
    assert abs(np.corrcoef(one.ravel(), other.ravel())[0, 1]) < 0.05
    assert 1.5 < one.std() < 3.5 and abs(one.mean() - 120) < 0.5


def test_same_model_gains_share_no_pattern() -> None:
    """Two units of one model (same strong vignetting, weak PRNU) differ only by PRNU: their gains less the lens
    fall-off do not correlate (rounding PRNU and fall-off apart used to leave a common pattern, correlation 0.09)."""
    size = (512, 384)
    residuals = []
    for seed in (1, 2):
        gain = np.asarray(sensor_gain(seed, 0.005, 0.4, size), np.float32)[..., 0]
        residuals.append(gain - uniform_filter(gain, 15))
    assert abs(np.corrcoef(residuals[0].ravel(), residuals[1].ravel())[0, 1]) < 0.02
