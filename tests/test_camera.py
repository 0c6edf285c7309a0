"""vidlab.camera: quantisation-table fingerprints and writers, PRNU fingerprints and matching, on real files."""

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from synthetic_data.devices import MODELS, model_qtables
from synthetic_data.draw import render_scene
from vidlab import camera
from vidlab.enhance import PictureError
from vidlab.metadata import metadata_row

SIZE = (256, 192)
REFERENCES = 20


# --------------------------------------------------------------------------- synthetic cameras


def _shoot(scene: np.ndarray, pattern: np.ndarray, rng: np.random.Generator, quality: int) -> bytes:
    """A photo of a drawn scene by a sensor with multiplicative pattern K: light × (1 + K), shot noise, JPEG."""
    exposed = scene * rng.uniform(0.75, 1.0) * (1.0 + pattern)
    noisy = exposed + rng.normal(0.0, 1.0, exposed.shape) * np.sqrt(np.maximum(exposed, 1.0) / 4)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[Path]]]:
    """Three synthetic cameras (seeded PRNU, σ 0.6–1 %), 20 reference and 3 questioned shots each, questioned
    scenes never seen among the references."""
    folder = tmp_path_factory.mktemp("cameras")
    scenes = [np.asarray(render_scene(SIZE, random.Random(700 + i)), dtype=np.float32) for i in range(12)]
    shots: dict[str, dict[str, list[Path]]] = {}
    for index, (name, sigma, quality) in enumerate((("A", 0.008, 92), ("B", 0.006, 88), ("C", 0.01, 95))):
        rng = np.random.default_rng(index)
        pattern = rng.normal(0.0, sigma, (SIZE[1], SIZE[0], 1)).astype(np.float32)
        shots[name] = {"references": [], "questioned": []}
        for k in range(REFERENCES + 3):
            role = "references" if k < REFERENCES else "questioned"
            scene = scenes[k % 9] if role == "references" else scenes[9 + k - REFERENCES]
            path = folder / f"{name}_{k:02d}.jpg"
            path.write_bytes(_shoot(scene, pattern, rng, quality))
            shots[name][role].append(path)
    return shots


@pytest.fixture(scope="module")
def fingerprints(cameras: dict[str, dict[str, list[Path]]]) -> dict[str, camera.Fingerprint]:
    return {name: camera.estimate_fingerprint(files["references"], label=name) for name, files in cameras.items()}


def test_each_camera_is_identified_among_three(cameras, fingerprints) -> None:
    for name, files in cameras.items():
        for path in files["questioned"]:
            ranked = camera.identify_camera(path, fingerprints)
            assert ranked.iloc[0]["camera"] == name, ranked
            assert ranked.iloc[0]["same_camera"] and ranked.iloc[0]["pce"] >= camera.PCE_THRESHOLD
            others = ranked[ranked["camera"] != name]
            assert not others["same_camera"].any(), ranked
            assert (others["pce"] < camera.PCE_THRESHOLD / 3).all(), ranked


def test_wrong_camera_is_rejected(cameras, fingerprints) -> None:
    match = camera.match_fingerprint(cameras["B"]["questioned"][0], fingerprints["A"])
    assert not match.same_camera
    assert match.pce < camera.PCE_THRESHOLD
    assert abs(match.correlation) < 0.05


def test_turned_copy_is_found_with_its_turn(cameras, fingerprints, tmp_path) -> None:
    pixels = np.asarray(Image.open(cameras["A"]["questioned"][1]))
    turned = tmp_path / "turned.png"
    Image.fromarray(np.rot90(pixels, -1).copy()).save(turned)  # turned clockwise, as a viewer shows orientation 6
    match = camera.match_fingerprint(turned, fingerprints["A"])
    assert match.same_camera and match.rotation == 90


def test_cropped_copy_is_found_at_its_offset(cameras, fingerprints, tmp_path) -> None:
    cropped = tmp_path / "cropped.jpg"
    Image.open(cameras["C"]["questioned"][0]).crop((37, 21, 37 + 170, 21 + 140)).save(cropped, quality=95)
    match = camera.match_fingerprint(cropped, fingerprints["C"])
    assert match.same_camera and match.shift == (37, 21) and match.rotation == 0
    assert not camera.match_fingerprint(cropped, fingerprints["B"]).same_camera


def test_enlarged_copy_is_reported_unmatchable(cameras, fingerprints, tmp_path) -> None:
    enlarged = tmp_path / "enlarged.jpg"
    Image.open(cameras["A"]["questioned"][0]).resize((320, 240)).save(enlarged, quality=95)
    match = camera.match_fingerprint(enlarged, fingerprints["A"])
    assert np.isnan(match.pce) and not match.same_camera
    assert "does not fit" in match.note


def test_centre_crop_fingerprint_still_identifies(cameras) -> None:
    small = camera.estimate_fingerprint(cameras["B"]["references"], crop=128, label="B")
    assert small.pattern.shape == (128, 128) and small.box == (64, 32, 192, 160)
    assert camera.match_fingerprint(cameras["B"]["questioned"][2], small).same_camera
    assert not camera.match_fingerprint(cameras["A"]["questioned"][2], small).same_camera


def test_fingerprint_survives_save_and_load(fingerprints, tmp_path) -> None:
    fingerprints["A"].save(tmp_path / "a.npz")
    loaded = camera.Fingerprint.load(tmp_path / "a.npz")
    assert loaded.frame == SIZE and loaded.images == REFERENCES and loaded.label == "A"
    np.testing.assert_array_equal(loaded.pattern, fingerprints["A"].pattern)


def test_residual_recovers_added_noise() -> None:
    """The denoiser keeps noise and drops picture content: its residual of a drawn scene plus white noise
    follows the noise, not the scene."""
    scene = np.asarray(render_scene(SIZE, random.Random(3)).convert("L"), dtype=np.float32)
    noise = np.random.default_rng(5).normal(0, 3, scene.shape).astype(np.float32)
    residual = camera.noise_residual(scene + noise)
    assert np.corrcoef(residual.ravel(), noise.ravel())[0, 1] > 0.6
    assert np.abs(residual).mean() < np.abs(noise).mean() * 1.2


def test_camera_table_rows_include_errors(cameras, fingerprints, tmp_path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a picture")
    paths = [cameras["A"]["questioned"][0], cameras["B"]["questioned"][0], bad]
    table = camera.camera_table(paths, fingerprints, progress=False)
    assert list(table.columns) == list(camera.CAMERA_COLUMNS)
    assert table["camera"].tolist()[:2] == ["A", "B"]
    assert table.loc[2, "camera"] is None and "not a picture" in table.loc[2, "error"]
    assert table.loc[0, "cameras_matched"] == 1


def test_bad_pictures_give_clear_errors(fingerprints, tmp_path) -> None:
    tiny = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    with pytest.raises(PictureError, match="too small"):
        camera.match_fingerprint(tiny, fingerprints["A"])
    with pytest.raises(PictureError, match="no noise"):
        camera.match_fingerprint(np.full((192, 256), 128, np.uint8), fingerprints["A"])
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(PictureError, match="empty"):
        camera.noise_residual(empty)
    text = tmp_path / "text.jpg"
    text.write_text("hello")
    with pytest.raises(PictureError, match="not a picture"):
        camera.noise_residual(text)


def test_truncated_jpeg_is_an_error(cameras, tmp_path) -> None:
    data = cameras["A"]["questioned"][0].read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(PictureError, match="truncated"):
        camera.noise_residual(cut)


def test_fingerprint_needs_pictures_of_one_size(cameras, tmp_path) -> None:
    other = tmp_path / "other.jpg"
    Image.open(cameras["A"]["references"][0]).resize((200, 150)).save(other)
    with pytest.raises(PictureError, match="one stored size"):
        camera.estimate_fingerprint([*cameras["A"]["references"][:3], other])
    with pytest.raises(ValueError, match="at least 2"):
        camera.estimate_fingerprint(cameras["A"]["references"][:1])


# --------------------------------------------------------------------------- quantisation tables


def _jpeg(path: Path, **options) -> Path:
    Image.fromarray(np.asarray(render_scene((96, 64), random.Random(1)))).save(path, "JPEG", **options)
    return path


def test_table_summary_agrees_with_metadata(tmp_path) -> None:
    path = _jpeg(tmp_path / "q85.jpg", quality=85)
    summary = camera.table_summary(camera.quantisation_tables(path))
    row = metadata_row(path)
    assert (summary.quality, summary.standard) == (85, True)
    assert summary.fingerprint == row["quant_tables"]


def test_course_camera_is_named_by_its_tables(tmp_path) -> None:
    model = MODELS[3]
    path = _jpeg(tmp_path / "camera.jpg", qtables=[list(t) for t in model_qtables(model)])
    ranked = camera.which_writer(path)
    assert ranked.iloc[0]["writer"] == f"{model.name} (course camera)"
    assert ranked.iloc[0]["exact"] and ranked["exact"].sum() == 1
    assert not camera.table_summary(camera.quantisation_tables(path)).standard


def test_software_save_matches_every_writer_sharing_its_tables(tmp_path) -> None:
    path = _jpeg(tmp_path / "chat.jpg", quality=75)
    ranked = camera.which_writer(path)
    exact = set(ranked.loc[ranked["exact"], "writer"])
    assert exact == {"IJG standard tables, quality 75", "chatapp (course platform)"}
    casework = camera.which_writer(path, camera.known_writers(include_course=False), top=3)
    assert casework.iloc[0]["writer"] == "IJG standard tables, quality 75"
    assert casework["distance"].is_monotonic_increasing and len(casework) == 3


def test_writer_learnt_from_reference_files(tmp_path) -> None:
    tables = [list(t) for t in model_qtables(MODELS[0])]
    refs = [_jpeg(tmp_path / f"ref{i}.jpg", qtables=tables) for i in range(3)]
    writer = camera.writer_from_files("seized phone", refs)
    assert writer.summary.fingerprint == metadata_row(refs[0])["quant_tables"]
    assert camera.which_writer(refs[1], [writer]).iloc[0]["exact"]
    with pytest.raises(ValueError, match="2 different table sets"):
        camera.writer_from_files("mixed", [*refs, _jpeg(tmp_path / "q50.jpg", quality=50)])


def test_writer_table_rows_for_good_and_bad_files(tmp_path) -> None:
    good = _jpeg(tmp_path / "q90.jpg", quality=90)
    png = tmp_path / "p.png"
    Image.new("RGB", (8, 8)).save(png)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[:30])
    table = camera.writer_table([good, png, cut, tmp_path / "missing.jpg"], progress=False)
    assert list(table.columns) == list(camera.WRITER_COLUMNS)
    assert table.loc[0, "jpeg_quality"] == 90 and table.loc[0, "distance"] == 0 and table.loc[0, "exact_matches"] >= 1
    assert table.loc[0, "error"] is None
    assert "no quantisation tables" in table.loc[1, "error"]
    assert table.loc[2, "error"] and table.loc[3, "error"].startswith("FileNotFoundError")


@pytest.mark.realdata
def test_real_camera_tables_agree_with_metadata(real_samples: Path) -> None:
    files = sorted(p for p in real_samples.rglob("*") if p.is_file() and p.suffix.lower() in (".jpg", ".jpeg"))
    table = camera.writer_table(files, camera.known_writers(include_course=False), progress=False)
    assert len(table) == len(files)
    read = table[table["error"].isna()]
    assert len(read) > 0.9 * len(files)
    for row in read.itertuples():
        meta = metadata_row(row.path)
        assert (row.quant_tables, row.jpeg_quality) == (meta["quant_tables"], meta["jpeg_quality"]), row.path
        # libjpeg's own tables are found among the standard writers exactly; a camera's own tables are not
        assert (row.exact_matches >= 1) == bool(row.jpeg_standard_tables), row.path
