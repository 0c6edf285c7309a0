"""The `vidlab` command: help on every verb, clear one-line errors, a doctor that tells the truth."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from conftest import ROOT

VERBS = [[], ["lab"], ["data"], ["data", "generate"], ["data", "describe"], ["course"], ["course", "build"], ["course", "check"],
         ["course", "release"], ["course", "collect"], ["course", "autograde"], ["course", "feedback"],
         ["course", "report"], ["course", "reset"], ["course", "pack"], ["course", "schedule"], ["course", "handouts"], ["progress"], ["scan"],
         ["carve"], ["media"], ["match"], ["casedb"], ["casedb", "import"], ["casedb", "export"], ["casedb", "list"],
         ["packages"], ["packages", "validate"], ["packages", "merge"], ["packages", "score"], ["doctor"]]


def vidlab(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vidlab.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=300)


@pytest.mark.parametrize("verb", VERBS, ids=[" ".join(v) or "vidlab" for v in VERBS])
def test_every_verb_has_help(verb):
    result = vidlab(*verb, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: vidlab" in result.stdout


def test_unknown_profile_is_one_clear_line(tmp_path):
    result = vidlab("data", "generate", "--profile", "nonsense", env={"VIDLAB_DATA": str(tmp_path)})
    assert result.returncode != 0
    assert result.stderr.strip() == "vidlab: error: unknown profile 'nonsense': choose one of tiny, classroom, full"
    assert not any(tmp_path.iterdir()), "nothing may be written for a bad profile"


def test_missing_data_is_one_clear_line(tmp_path):
    result = vidlab("course", "check", "--profile", "tiny", env={"VIDLAB_DATA": str(tmp_path / "nowhere")})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "no generated data for profile 'tiny'" in lines[0] and "make data PROFILE=tiny" in lines[0]


def test_doctor_on_a_healthy_setup(tiny_data):
    result = vidlab("doctor", "--profile", "tiny")
    assert result.returncode == 0, result.stderr
    for package in ("jupyterlab", "nbgrader", "papermill", "pandas", "pillow", "exifread"):
        assert package in result.stdout
    assert "server extensions enabled" in result.stdout


def test_doctor_names_missing_data(tmp_path):
    result = vidlab("doctor", "--profile", "tiny", env={"VIDLAB_DATA": str(tmp_path)})
    assert result.returncode == 1
    assert "PROBLEM: no generated data for profile 'tiny'" in result.stderr


def test_data_generate_writes_a_profile(tmp_path):
    result = vidlab("data", "generate", "--profile", "tiny", env={"VIDLAB_DATA": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "tiny" / "generation.json").is_file()
    assert (tmp_path / "tiny" / "case").is_dir()


def test_scan_inventories_the_seized_sample(tiny_data, tmp_path):
    import pandas as pd

    sample = tiny_data / "case" / "seized_sample"
    out = tmp_path / "inventory.parquet"
    result = vidlab("scan", str(sample), "--out", str(out))
    assert result.returncode == 0, result.stderr
    inventory = pd.read_parquet(out)
    files = sorted(p.relative_to(sample).as_posix() for p in sample.rglob("*") if p.is_file())
    assert sorted(inventory["path"]) == files


def test_scan_refuses_to_write_inside_the_evidence(tiny_data):
    sample = tiny_data / "case" / "seized_sample"
    result = vidlab("scan", str(sample), "--out", str(sample / "inventory.parquet"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (sample / "inventory.parquet").exists()


def test_data_describe_summarises_and_draws_a_sheet(tiny_data, tmp_path):
    sheet = tmp_path / "sheet.png"
    result = vidlab("data", "describe", "--profile", "tiny", "--sheet", str(sheet))
    assert result.returncode == 0, result.stderr
    assert "series" in result.stdout and "actionable" in result.stdout
    from PIL import Image

    with Image.open(sheet) as image:
        assert image.format == "PNG" and image.width > 100


def test_data_generate_options_reach_the_generator(tmp_path):
    result = vidlab("data", "generate", "--profile", "tiny", "--out", str(tmp_path), "--series", "2", "--workers", "1")
    assert result.returncode == 0, result.stderr
    import pandas as pd

    series = pd.read_csv(tmp_path / "tiny" / "answer_key" / "series.csv")
    assert len(series) == 2


def test_unwritable_output_is_one_clear_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = vidlab("data", "generate", "--profile", "tiny", "--out", str(blocker / "sub"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_instructor_commands_speak_in_one_line_on_a_fresh_course(tmp_path):
    from vidlab import grading

    course = grading.copy_course(ROOT / "tests" / "fixtures" / "grading" / "class", tmp_path / "course",
                                 ROOT / "grading" / "nbgrader_config.py")
    report = vidlab("--course", str(course), "course", "report", "--out", str(tmp_path / "report"))
    assert report.returncode == 2 and report.stderr.strip() == "vidlab: error: nothing graded yet: autograde some submissions first"
    release = vidlab("--course", str(course), "course", "release", "squares", "--out", str(tmp_path / "zips"))
    assert release.returncode == 2 and "Traceback" not in release.stderr
    assert "no released exercise 'squares'" in release.stderr, "exercises are not built yet in this copy"
    pack = vidlab("course", "pack", "--trainee", "--out", str(tmp_path / "pack.zip"))
    assert pack.returncode == 0 and (tmp_path / "pack.zip").stat().st_size > 0, pack.stderr


def test_casedb_round_trip_and_a_bad_database_on_the_command_line(tiny_data, tmp_path):
    vics = tiny_data / "case" / "case_db" / "known_series_vics.json"
    db = tmp_path / "casedb.sqlite"
    imported = vidlab("casedb", "import", str(vics), "--db", str(db))
    assert imported.returncode == 0 and "imported" in imported.stdout, imported.stderr
    listed = vidlab("casedb", "list", "--db", str(db))
    assert listed.returncode == 0 and "series_id" in listed.stdout and "known" in listed.stdout, listed.stdout
    exported = vidlab("casedb", "export", str(tmp_path / "again.json"), "--db", str(db))
    assert exported.returncode == 0 and (tmp_path / "again.json").stat().st_size > 0, exported.stderr
    not_sqlite = tmp_path / "notes.sqlite"
    not_sqlite.write_text("shopping list")
    refused = vidlab("casedb", "list", "--db", str(not_sqlite))
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert not_sqlite.read_text() == "shopping list"


def test_carve_and_media_on_the_tiny_case(tiny_data, tmp_path):
    [image] = sorted((tiny_data / "case" / "submissions").glob("*/*-usbstick.dd"))[:1]
    carved = vidlab("carve", str(image), "--out", str(tmp_path / "carved"))
    assert carved.returncode == 0, carved.stderr
    truth = pd.read_csv(tiny_data / "answer_key" / "disk_images.csv")
    deleted = truth[truth["image"] == image.relative_to(tiny_data / "case").as_posix()]
    table = pd.read_csv(tmp_path / "carved" / "carved.csv")
    assert sorted(table["offset"]) == sorted(deleted["offset"]), "every deleted picture, at its offset"
    assert carved.stdout.startswith(f"{len(deleted)} JPEGs carved")
    beside = vidlab("carve", str(image), "--out", str(image.parent / "carved"))
    assert beside.returncode == 2 and not (image.parent / "carved").exists()
    heard = vidlab("media", str(tiny_data / "case" / "submissions"), "--out", str(tmp_path / "media"))
    assert heard.returncode == 0, heard.stderr
    audio = pd.read_csv(tmp_path / "media" / "audio.csv")
    assert set(audio["mains_hz"].dropna()) <= {50, 60} and audio["mains_hz"].notna().any()


def test_scan_marks_known_files_and_adds_perceptual_hashes(tiny_data, tmp_path):
    device = next((tiny_data / "case" / "submissions").glob("*/*-02-android"))
    out = tmp_path / "inventory.parquet"
    result = vidlab("scan", str(device), "--out", str(out), "--perceptual",
                    "--known-files", str(tiny_data / "case" / "reference" / "known_files_nsrl.csv"))
    assert result.returncode == 0, result.stderr
    inventory = pd.read_parquet(out)
    truth = pd.read_csv(tiny_data / "answer_key" / "os_files.csv")
    prefix = device.relative_to(tiny_data / "case").as_posix() + "/"
    known_here = truth[truth["path"].str.startswith(prefix) & truth["known"]]
    assert int(inventory["known"].sum()) == len(known_here)
    pictures = inventory[inventory["kind"] == "jpeg"]
    assert len(pictures) and pictures["pdq"].notna().all()


def test_packages_on_the_command_line(tiny_data, tmp_path):
    empty_team = tmp_path / "team_empty"
    empty_team.mkdir()
    scored = vidlab("packages", "score", str(empty_team), "--profile", "tiny", "--csv", str(tmp_path / "board.csv"))
    assert scored.returncode == 0, scored.stderr
    board = pd.read_csv(tmp_path / "board.csv")
    assert board.iloc[0]["recall"] == 0 and "team_empty" in scored.stdout
    broken = tmp_path / "team_broken"
    broken.mkdir()
    (broken / "S1.json").write_text("{not json")
    refused = vidlab("packages", "validate", str(broken))
    assert refused.returncode == 2 and "S1.json" in refused.stderr and "Traceback" not in refused.stderr
