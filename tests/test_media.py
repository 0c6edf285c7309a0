"""vidlab.media: video keyframes, cuts and series matching; mains hum in recordings; checked against tiny's key."""

from __future__ import annotations

import random
import wave
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from synthetic_data.media import write_hum_audio
from vidlab import media


@pytest.fixture(scope="module")
def files(tiny_data: Path) -> pd.DataFrame:
    return pd.read_csv(tiny_data / "answer_key" / "files.csv")


@pytest.fixture(scope="module")
def videos(files: pd.DataFrame) -> pd.DataFrame:
    clips = files[files["form"] == "video"]
    assert len(clips), "the tiny profile has no video"
    return clips


def write_wav(path: Path, samples: np.ndarray, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.clip(np.rint(samples * 32767), -32768, 32767).astype("<i2").tobytes())
    return path


def test_keyframes_and_scene_cuts_match_the_answer_key(tiny_data: Path, videos: pd.DataFrame) -> None:
    for clip in videos.itertuples():
        frames = media.frame_table(tiny_data / "case" / clip.path)
        expected = [int(k) for k in clip.keyframes.split()]
        assert frames["error"].isna().all()
        assert list(frames.loc[frames["keyframe"], "frame"]) == expected
        assert media.scene_cuts(frames) == expected
        assert frames["pdq"].notna().all() and frames["phash"].notna().all()


def test_every_clip_is_matched_to_its_series(tiny_data: Path, files: pd.DataFrame, videos: pd.DataFrame) -> None:
    # one photo per shot (originals, or re-shared copies where no original reached the case)
    photos = files[files["true_kind"].eq("jpeg")].sort_values("form").drop_duplicates(["series_id", "shot"])
    width, height = videos[["width", "height"]].iloc[0]
    reference = media.series_reference([tiny_data / "case" / p for p in photos["path"]], list(photos["series_id"]),
                                       aspect=width / height, progress=False)
    found = media.match_videos([tiny_data / "case" / p for p in videos["path"]], reference, progress=False)
    assert list(found["series"]) == list(videos["series_id"])
    assert found["match"].all() and found["error"].isna().all()
    assert (found["runner_up_distance"] > found["distance"]).all()


def test_a_broken_video_is_an_error_row(tiny_data: Path, videos: pd.DataFrame, tmp_path: Path) -> None:
    data = (tiny_data / "case" / videos["path"].iloc[0]).read_bytes()
    broken = {"cut.mp4": data[:len(data) // 2], "noise.mp4": random.Random(1).randbytes(5000), "empty.mp4": b"",
              "header_only.mp4": data[:64]}
    paths = []
    for name, content in broken.items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(content)
    reference = pd.DataFrame({"path": ["p"], "series": ["S"], "phash": ["0" * 16], "decode_side": [64]})
    found = media.match_videos(paths, reference, progress=False)
    assert len(found) == len(paths)
    assert found["error"].notna().all(), found[["path", "error"]]
    assert found["series"].isna().all()


def test_mains_frequency_of_every_recording(tiny_data: Path, files: pd.DataFrame) -> None:
    recordings = files[files["form"] == "audio"]
    assert len(recordings)
    table = media.hum_table([tiny_data / "case" / p for p in recordings["path"]], progress=False)
    assert list(table["mains_hz"]) == list(recordings["mains_hz"].astype(int))
    assert table["error"].isna().all() and (table["drift_hz"] < 0.1).all()


@pytest.mark.parametrize("hz", [50, 60])
def test_generated_hum_of_either_grid(hz: int, tmp_path: Path) -> None:
    written = write_hum_audio(tmp_path / "rec.wav", hz, 5.0, random.Random(hz))
    samples, rate = media.read_wav(tmp_path / "rec.wav")
    hum = media.mains_hum(samples, rate)
    assert hum.frequency == hz and 1 in hum.harmonics[hz]
    track = media.enf_track(samples, rate, hz)
    assert (np.abs(track["frequency_hz"] - hz) <= written["drift_hz_max"] + 0.02).all()


def test_noise_only_says_no_hum(tmp_path: Path) -> None:
    noise = np.random.default_rng(4).normal(0, 0.05, 8000 * 5)
    samples, rate = media.read_wav(write_wav(tmp_path / "noise.wav", noise))
    hum = media.mains_hum(samples, rate)
    assert hum.frequency is None and hum.reason.startswith("no mains hum found")
    table = media.hum_table([tmp_path / "noise.wav", tmp_path / "missing.wav"], progress=False)
    assert table["mains_hz"].isna().all() and table["error"].isna().tolist() == [True, False]


def test_a_lone_100_hz_tone_is_not_called_hum(tmp_path: Path) -> None:
    """One tone at 100 Hz is 2 x 50 Hz, but a fan or a note makes it too: not enough to name a grid."""
    t = np.arange(8000 * 5) / 8000
    tone = 0.2 * np.sin(2 * np.pi * 100 * t) + np.random.default_rng(5).normal(0, 0.01, t.size)
    hum = media.mains_hum(*media.read_wav(write_wav(tmp_path / "tone.wav", tone)))
    assert hum.frequency is None and "lone tone at 100 Hz" in hum.reason
    assert hum.harmonics[50] == [2] and hum.harmonics[60] == []


def test_enf_track_follows_a_known_drift() -> None:
    rate, seconds = 8000, 20
    t = np.arange(rate * seconds) / rate
    grid = 50 + 0.04 * np.sin(2 * np.pi * t / 10)
    phase = 2 * np.pi * np.cumsum(grid) / rate
    recording = 0.05 * (np.sin(phase) + 0.4 * np.sin(3 * phase)) + np.random.default_rng(6).normal(0, 0.01, t.size)
    track = media.enf_track(recording, rate, 50)
    truth = 50 + 0.04 * np.sin(2 * np.pi * track["time_s"] / 10)  # the grid at each window's centre
    assert len(track) == seconds - 3 and np.abs(track["frequency_hz"] - truth).max() < 0.005


def test_spectrogram_figure(tmp_path: Path) -> None:
    write_hum_audio(tmp_path / "rec.wav", 60, 4.0, random.Random(9))
    samples, rate = media.read_wav(tmp_path / "rec.wav")
    figure = media.spectrogram_figure(samples, rate)
    assert isinstance(figure, Figure) and len(figure.axes) == 2
    figure.savefig(tmp_path / "spectrogram.png")
    assert (tmp_path / "spectrogram.png").stat().st_size > 0
    quiet = media.spectrogram_figure(np.random.default_rng(2).normal(0, 0.05, rate * 3), rate)
    assert len(quiet.axes) == 1 and "no mains hum" in quiet.axes[0].get_title()


def test_read_wav_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "fake.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(ValueError, match="not a PCM WAV"):
        media.read_wav(tmp_path / "fake.wav")


def test_media_files_finds_videos_and_recordings_by_kind(tiny_data: Path, files: pd.DataFrame) -> None:
    videos, recordings = media.media_files(tiny_data / "case" / "submissions")
    case = tiny_data / "case"
    assert sorted(p.relative_to(case).as_posix() for p in videos) == sorted(files.loc[files["form"] == "video", "path"])
    found = {p.relative_to(case).as_posix() for p in recordings}
    os_files = set(pd.read_csv(tiny_data / "answer_key" / "os_files.csv")["path"])
    assert set(files.loc[files["form"] == "audio", "path"]) <= found  # the series' recordings…
    assert found - set(files["path"]) <= os_files  # …and system sounds, which known-file filtering sets aside
    table = media.hum_table([case / p for p in sorted(found)], progress=False)
    hum = table["path"].str.contains("/Recordings/")
    assert table.loc[hum, "error"].isna().all() and table.loc[hum, "mains_hz"].notna().all()
    assert table.loc[~hum, "error"].str.startswith("not a PCM WAV").all()  # placeholder system sounds: error rows
