"""Video and audio evidence: keyframes, scene cuts and perceptual hashes of video frames, which known series a
clip shows; the mains hum in a sound recording (50 or 60 Hz, from its harmonics) and how the grid frequency drifts.

Video is decoded with PyAV (FFmpeg's libraries ship inside the wheel: nothing to install, nothing online).
Frames are hashed with ``vidlab.similarity.hash_image``, so they compare directly with a ``hash_table`` of
photos made with the same kinds. A file that cannot be decoded becomes a row with an ``error``, never a crash.

Mains hum: the grid runs at 50 Hz (most of Asia, Europe, Africa, Australia) or 60 Hz (the Americas, Korea,
Taiwan, the Philippines, parts of Japan and Saudi Arabia). Equipment near a microphone leaks a hum at that
frequency and its harmonics (100, 150, 200 … or 120, 180, 240 …). ``mains_hum`` measures how far each
expected harmonic rises above the local noise floor and adds the evidence per family; harmonics both share
(300, 600 …) count for neither. It names a frequency only with the fundamental or at least two harmonics of
one family standing out clearly, and otherwise answers ``frequency=None`` with the reason: no guess. A lone
tone at 100 Hz (or 120 Hz) is reported as not enough: one tone can come from anything (a fan, a transformer's
rectifier buzz, a music note), and real hum recordings carry the fundamental or a family of harmonics.
"""

from __future__ import annotations

import os
import wave
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from PIL import Image, ImageOps
from scipy import signal

from vidlab.evidence import PathLike, open_readonly, printable_path, progress_bar, short_error
from vidlab.formats import picture_formats
from vidlab.similarity import DECODE_SIDE, HASH_KINDS, THRESHOLDS, distance, hash_image, usable

__all__ = [
    "FRAME_COLUMNS", "CLIP_COLUMNS", "HUM_COLUMNS", "CUT_THRESHOLD", "MAINS", "MainsHum",
    "video_frames", "frame_table", "scene_cuts", "series_reference", "match_clip", "match_videos",
    "read_wav", "mains_hum", "enf_track", "spectrogram_figure", "hum_table", "media_files",
]

# ---------------------------------------------------------------------------------------------------- video

#: Mean absolute grey-level change (0-255) between consecutive small frames above which a new shot starts:
#: a pan moves the picture a little each frame and stays far below it; a cut to another view jumps above it.
CUT_THRESHOLD = 12.0
PROBE_SIZE = (64, 36)
CUT_SPIKE = 2.0
#: Crop sizes (share of the photo's height) in a series reference: a pan frames about 0.7 of a room, a close-up less.
REFERENCE_SCALES = (0.85, 0.7, 0.55, 0.42)
FRAME_COLUMNS = ("path", "frame", "time_s", "keyframe", "change", "scene_cut", *HASH_KINDS, "decode_side",
                 "flag", "error")
CLIP_COLUMNS = ("path", "frames", "keyframes", "scene_cuts", "series", "distance", "nearest", "matched_frames",
                "runner_up", "runner_up_distance", "match", "error")


def video_frames(path: PathLike) -> Iterator[tuple[int, float, bool, Image.Image]]:
    """(index, time in seconds, coded as a keyframe, picture) of every frame of a video's first video stream."""
    with open_readonly(path) as f, av.open(f, "r") as container:
        if not container.streams.video:
            raise ValueError("no video stream in the file")
        stream = container.streams.video[0]
        for index, frame in enumerate(container.decode(stream)):
            time = float(frame.time) if frame.time is not None else index / float(stream.average_rate or 1)
            yield index, time, bool(frame.key_frame), frame.to_image()


def _probe(picture: Image.Image) -> np.ndarray:
    """A small grey version of a frame: cheap to compare, blind to noise and compression."""
    return np.asarray(picture.convert("L").resize(PROBE_SIZE, Image.Resampling.BILINEAR), dtype=np.float32)


def frame_table(path: PathLike, kinds: Sequence[str] = ("phash", "pdq"), cut_threshold: float = CUT_THRESHOLD,
                side: int | None = None) -> pd.DataFrame:
    """One row per frame (FRAME_COLUMNS): keyframe flag from the codec, change from the frame before, scene cut,
    perceptual hashes. A video that cannot be decoded gives one row with `error` (frames decoded before the
    damage are kept, the error row after them). `side`: decode side for the hashes (default as hash_image)."""
    rows, previous = [], None
    name = printable_path(os.fsdecode(path))
    try:
        for index, time, key, picture in video_frames(path):
            probe = _probe(picture)
            change = float(np.abs(probe - previous).mean()) if previous is not None else None
            previous = probe
            hashed = hash_image(picture, kinds, side)
            rows.append({"path": name, "frame": index, "time_s": round(time, 6), "keyframe": key, "change": change,
                         **{k: hashed[k] for k in HASH_KINDS}, "decode_side": hashed["decode_side"],
                         "flag": hashed["flag"], "error": None})
        if not rows:
            raise ValueError("no frames could be decoded")
    except Exception as exc:  # noqa: BLE001 - a broken video is a finding, not a crash
        rows.append(dict.fromkeys(FRAME_COLUMNS) | {"path": name, "error": _video_error(exc)})
    cuts = _cuts([row["change"] for row in rows if row["error"] is None], cut_threshold)
    for row, cut in zip(rows, cuts):
        row["scene_cut"] = cut
    df = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    df["frame"] = df["frame"].astype("Int64")
    df["decode_side"] = df["decode_side"].astype("Int64")
    return df


def _cuts(changes: list[float | None], threshold: float) -> list[bool]:
    """Which frames start a shot: the first, and each whose change is over the threshold AND a spike, at least
    CUT_SPIKE times the larger change of its neighbours (a zoom or fast pan changes every frame a lot, evenly)."""
    cuts = []
    for i, change in enumerate(changes):
        around = [c for c in (changes[i - 1] if i else None, changes[i + 1] if i + 1 < len(changes) else None)
                  if c is not None]
        cuts.append(change is None or (change > threshold and change >= CUT_SPIKE * max(around, default=0.0)))
    return cuts


def _video_error(exc: BaseException) -> str:
    """Why a video could not be read, in words an analyst can act on."""
    if isinstance(exc, av.error.FFmpegError):
        return f"broken or unsupported video ({type(exc).__name__}: {exc})"
    return short_error(exc)


def scene_cuts(frames: pd.DataFrame) -> list[int]:
    """Frame numbers where a new shot starts (the first frame included)."""
    ok = frames[frames["error"].isna()]
    return [int(i) for i in ok.loc[ok["scene_cut"].astype(bool), "frame"]]


def _series_distances(frames: pd.DataFrame, photos: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Per frame and series: the distance to the series' nearest photo."""
    queries, known = usable(frames, kind), usable(photos, kind)
    if queries.empty or known.empty:
        return pd.DataFrame(columns=["frame", "series", "distance"])
    sides = set(known["decode_side"].dropna().astype(int)) | set(queries["decode_side"].dropna().astype(int))
    if len(sides) > 1:
        raise ValueError(f"frames and photos were hashed at different decode sizes {sorted(sides)}: "
                         "hash both with the same kinds")
    rows = [{"frame": frame, "series": series, "distance": min(distance(h, p) for p in group[kind])}
            for frame, h in zip(queries["frame"], queries[kind]) for series, group in known.groupby("series")]
    return pd.DataFrame(rows)


def match_clip(frames: pd.DataFrame, photos: pd.DataFrame, kind: str = "phash", max_distance: int | None = None
               ) -> dict:
    """Which series a clip shows (CLIP_COLUMNS): for each series, each frame's distance to its nearest photo;
    `distance` is the best quarter of the frames' (25th percentile: a clip may show part of a scene no photo
    covers), `nearest` the single best frame. The series with the lowest distance wins; the runner-up is given
    for contrast; `match` when its nearest frame is within max_distance (default THRESHOLDS[kind])."""
    limit = THRESHOLDS[kind] if max_distance is None else max_distance
    path = frames["path"].iloc[0] if len(frames) else None
    row = dict.fromkeys(CLIP_COLUMNS) | {"path": path}
    errors = frames["error"].dropna()
    ok = frames[frames["error"].isna()]
    row.update(frames=len(ok), keyframes=[int(i) for i in ok.loc[ok["keyframe"].astype(bool), "frame"]],
               scene_cuts=scene_cuts(frames), error=errors.iloc[0] if len(errors) else None)
    pairs = _series_distances(ok, photos, kind)
    if pairs.empty:
        row["error"] = row["error"] or f"no usable {kind} hashes to compare"
        return row
    per_series = pairs.groupby("series")["distance"].agg(
        distance=lambda d: float(d.quantile(0.25)), nearest="min", matched_frames=lambda d: int((d <= limit).sum()))
    per_series = per_series.sort_values(["distance", "nearest"])
    best = per_series.iloc[0]
    row.update(series=per_series.index[0], distance=best["distance"], nearest=int(best["nearest"]),
               matched_frames=int(best["matched_frames"]), match=bool(best["nearest"] <= limit))
    if len(per_series) > 1:
        row.update(runner_up=per_series.index[1], runner_up_distance=float(per_series.iloc[1]["distance"]))
    return row


def _views(picture: Image.Image, aspect: float) -> Iterator[tuple[str, Image.Image]]:
    """The whole picture and a grid of video-shaped crops of it: REFERENCE_SCALES of its height, 3 x 3 positions."""
    yield "whole", picture
    width, height = picture.size
    for scale in REFERENCE_SCALES:
        crop_w = min(width, height * scale * aspect)
        crop_h = crop_w / aspect
        for i in range(3):
            for j in range(3):
                x, y = (width - crop_w) * i / 2, (height - crop_h) * j / 2
                yield f"{scale:.2f}:{i}{j}", picture.crop((round(x), round(y), round(x + crop_w), round(y + crop_h)))


def series_reference(paths: Sequence[PathLike], series: Sequence[str], kind: str = "phash", aspect: float = 16 / 9,
                     progress: bool | None = None) -> pd.DataFrame:
    """Hashes of a series' photos AND of video-shaped crops of them, for match_videos: a phone video frames a
    part of the scene, and global hashes do not survive cropping (docs/similarity.md), so the reference holds
    the parts too. Columns: path, series, view ('whole' or 'scale:xy'), the `kind` hash, decode_side, flag, error.
    `aspect`: the videos' width/height. Unreadable photos are rows with an `error`."""
    if len(paths) != len(series):
        raise ValueError(f"{len(paths)} paths but {len(series)} series labels")
    side = DECODE_SIDE[kind]
    rows = []
    with progress_bar(progress, len(paths), "series reference") as bar:
        for path, label in zip(paths, series):
            name = printable_path(os.fsdecode(path))
            try:
                with open_readonly(path) as f, Image.open(f, formats=picture_formats()) as picture:
                    picture.draft("RGB", (4 * side, 4 * side))  # crops of a quarter of the height still get `side` px
                    upright = ImageOps.exif_transpose(picture.convert("RGB"))
                    upright.thumbnail((8 * side, 8 * side))
                    for view, crop in _views(upright, aspect):
                        hashed = hash_image(crop, (kind,), side)
                        rows.append({"path": name, "series": label, "view": view, kind: hashed[kind],
                                     "decode_side": side, "flag": hashed["flag"], "error": None})
            except Exception as exc:  # noqa: BLE001 - one unreadable photo must not stop the reference
                rows.append({"path": name, "series": label, "view": None, "error": short_error(exc)})
            bar.update(1)
    df = pd.DataFrame(rows, columns=["path", "series", "view", kind, "decode_side", "flag", "error"])
    df["decode_side"] = df["decode_side"].astype("Int64")
    return df


def match_videos(paths: Sequence[PathLike], photos: pd.DataFrame, kind: str = "phash",
                 max_distance: int | None = None, progress: bool | None = None) -> pd.DataFrame:
    """One row per video (CLIP_COLUMNS): its keyframes and cuts, and the series it shows (see match_clip).

    `photos`: series_reference(...) of the series' photos (or any hash table with `kind`, `decode_side` and a
    `series` column: labels from clustering or the case database). Broken videos are rows with an `error`.
    """
    if "series" not in photos:
        raise ValueError("the photo table needs a 'series' column saying which series each photo belongs to")
    sides = set(photos["decode_side"].dropna().astype(int)) if "decode_side" in photos else set()
    if len(sides) > 1:
        raise ValueError(f"the photo table mixes hashes from decode sizes {sorted(sides)}: hash all with the same kinds")
    rows = []
    with progress_bar(progress, len(paths), "videos") as bar:
        for path in paths:
            rows.append(match_clip(frame_table(path, (kind,), side=min(sides, default=None)), photos, kind,
                                  max_distance))
            bar.update(1)
    return pd.DataFrame(rows, columns=list(CLIP_COLUMNS))


# ---------------------------------------------------------------------------------------------------- audio

MAINS = (50, 60)
#: Harmonics examined (1 = the fundamental), as far as the sample rate allows.
HARMONICS = range(1, 9)
#: A harmonic counts as present when it stands this many dB above the noise floor around it.
PRESENT_DB = 10.0
#: Width (Hz) around each harmonic in which its peak is sought: the grid wanders by well under 0.1 Hz,
#: times the harmonic number, plus the analysis' own resolution.
SEARCH_HZ = 0.6
HUM_COLUMNS = ("path", "mains_hz", "reason", "evidence_50", "evidence_60", "harmonics_50", "harmonics_60",
               "drift_hz", "seconds", "sample_rate", "error")


@dataclass(frozen=True)
class MainsHum:
    """What a recording says about the mains frequency: `frequency` None when it says nothing reliable."""

    frequency: int | None
    reason: str
    evidence: dict[int, float] = field(default_factory=dict)  # dB above the floor, summed over present harmonics
    harmonics: dict[int, list[int]] = field(default_factory=dict)  # present harmonic numbers per family


def read_wav(path: PathLike) -> tuple[np.ndarray, int]:
    """Samples (float, -1..1, channels averaged) and sample rate of a PCM WAV; ValueError for other encodings."""
    with open_readonly(path) as f:
        try:
            with wave.open(f, "rb") as wav:
                width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
                raw = wav.readframes(wav.getnframes())
        except (wave.Error, EOFError) as exc:
            raise ValueError(f"not a PCM WAV file we can read ({exc})") from exc
        except RuntimeError:  # the wave module's word for a chunk that claims to run past the end of the file
            raise ValueError("not a PCM WAV file we can read (a chunk runs past the end of the file)") from None
    if rate <= 0:
        raise ValueError(f"not a PCM WAV file we can read (sample rate {rate} Hz)")
    if width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128) / 128
    elif width in (2, 4):
        samples = np.frombuffer(raw, f"<i{width}").astype(np.float64) / float(2 ** (8 * width - 1))
    elif width == 3:
        padded = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        ints = (padded[:, 0].astype(np.int32) | padded[:, 1].astype(np.int32) << 8 | padded[:, 2].astype(np.int32) << 16)
        samples = np.where(ints >= 1 << 23, ints - (1 << 24), ints) / float(1 << 23)
    else:
        raise ValueError(f"unsupported sample width: {width} bytes")
    usable_length = len(samples) - len(samples) % channels
    return samples[:usable_length].reshape(-1, channels).mean(axis=1), rate


def _spectrum(samples: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectrum in dB: 4-second segments (0.25 Hz apart), shorter for short clips so that at least
    7 half-overlapping segments are averaged (a single periodogram's noise peaks would pass for tones)."""
    segment = min(4 * rate, len(samples) // 4)
    freqs, power = signal.welch(samples, rate, nperseg=segment, noverlap=segment // 2, detrend="constant")
    return freqs, 10 * np.log10(power + 1e-20)


def _prominence(freqs: np.ndarray, db: np.ndarray, centre: float, search: float) -> float:
    """How many dB the strongest bin within ±search Hz of centre stands above the median of the band ±8 Hz around."""
    near = np.abs(freqs - centre) <= search
    band = (np.abs(freqs - centre) <= 8) & ~(np.abs(freqs - centre) <= search + 1)
    if not near.any() or band.sum() < 4:
        return 0.0
    return float(db[near].max() - np.median(db[band]))


def mains_hum(samples: np.ndarray, rate: int) -> MainsHum:
    """The mains frequency a recording's hum shows (50 or 60), or None with the reason (module doc: the rule)."""
    if len(samples) < rate:
        return MainsHum(None, "no mains hum found: the recording is shorter than one second")
    if not np.any(samples):
        return MainsHum(None, "no mains hum found: the recording is silent")
    freqs, db = _spectrum(samples, rate)
    shared = {f * k for f in MAINS for k in HARMONICS if (f * k) % 300 == 0}  # 300, 600 …: both families' harmonics
    evidence, present, strength = {}, {}, {}
    for mains in MAINS:
        rises = {k: _prominence(freqs, db, mains * k, SEARCH_HZ * k ** 0.5) for k in HARMONICS
                 if mains * k + 10 < rate / 2 and mains * k not in shared}
        present[mains] = [k for k, rise in rises.items() if rise >= PRESENT_DB]
        evidence[mains] = round(sum(rises[k] for k in present[mains]), 1)
        strength[mains] = rises
    found = {m for m in MAINS if 1 in present[m] or len(present[m]) >= 2}
    if not found:
        lone = [(m * k, m) for m in MAINS for k in present[m]]
        if lone:
            tones = ", ".join(f"{hz} Hz ({hz // m}x{m} Hz)" for hz, m in lone)
            return MainsHum(None, f"no mains hum found: only a lone tone at {tones}, no fundamental or family of "
                                  "harmonics; one tone can come from anything", evidence, present)
        return MainsHum(None, "no mains hum found: no tone at 50 or 60 Hz or their harmonics rises "
                              f"{PRESENT_DB:.0f} dB above the noise", evidence, present)
    best = max(found, key=lambda m: evidence[m])
    other = 110 - best
    if other in found and evidence[other] > 0.5 * evidence[best]:
        return MainsHum(None, f"no mains hum found: both families are present (50 Hz: {evidence[50]} dB, 60 Hz: "
                              f"{evidence[60]} dB), e.g. two sources or music: cannot tell", evidence, present)
    listed = ", ".join(f"{best * k} Hz" for k in present[best])
    return MainsHum(best, f"{best} Hz hum: {listed} stand out", evidence, present)


def enf_track(samples: np.ndarray, rate: int, mains: int, step: float = 1.0, window: float = 4.0) -> pd.DataFrame:
    """The grid frequency over time: per `step` seconds, the hum's strongest harmonic peak (parabolic
    interpolation between spectrum bins, Hann window of `window` seconds, zero-padded 8x), divided by its number.

    Columns time_s, frequency_hz (estimates of the fundamental; NaN where the peak is not found).
    """
    freqs, db = _spectrum(samples, rate)
    harmonics = [k for k in HARMONICS if mains * k + 10 < rate / 2]
    k = max(harmonics, key=lambda h: _prominence(freqs, db, mains * h, SEARCH_HZ * h ** 0.5))
    length = int(min(window, len(samples) / rate) * rate)
    hop, pad = max(1, int(step * rate)), 8 * length
    taper = np.hanning(length)
    bins = np.fft.rfftfreq(pad, 1 / rate)
    near = np.flatnonzero(np.abs(bins - mains * k) <= SEARCH_HZ * k)
    rows = []
    for start in range(0, len(samples) - length + 1, hop):
        chunk = samples[start:start + length] * taper
        mag = np.log(np.abs(np.fft.rfft(chunk, pad))[near] + 1e-20)
        i = int(np.argmax(mag))
        if 0 < i < len(near) - 1:
            a, b, c = mag[i - 1], mag[i], mag[i + 1]
            shift = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c else 0.0
            peak = (bins[near[i]] + shift * (bins[1] - bins[0])) / k
        else:
            peak = np.nan
        rows.append({"time_s": (start + length / 2) / rate, "frequency_hz": peak})
    return pd.DataFrame(rows, columns=["time_s", "frequency_hz"])


def spectrogram_figure(samples: np.ndarray, rate: int, hum: MainsHum | None = None, max_hz: float = 500.0,
                       title: str = "") -> Figure:
    """A spectrogram up to max_hz, the expected harmonics of the hum (if found) marked, and its ENF track below."""
    hum = hum if hum is not None else mains_hum(samples, rate)
    figure = Figure(figsize=(9, 6 if hum.frequency else 4), layout="constrained")
    axes = figure.subplots(2 if hum.frequency else 1, 1, squeeze=False)[:, 0]
    segment = min(len(samples), 2 * rate)
    freqs, times, power = signal.spectrogram(samples, rate, nperseg=segment, noverlap=segment * 3 // 4)
    shown = freqs <= max_hz
    axes[0].pcolormesh(times, freqs[shown], 10 * np.log10(power[shown] + 1e-20), shading="auto", cmap="magma")
    axes[0].set(ylabel="frequency (Hz)", xlabel="time (s)", title=title or hum.reason)
    if hum.frequency:
        for k in HARMONICS:
            if hum.frequency * k <= max_hz:
                axes[0].axhline(hum.frequency * k, color="cyan", lw=0.6, ls="--")
        track = enf_track(samples, rate, hum.frequency)
        axes[1].plot(track["time_s"], track["frequency_hz"], marker=".", color="tab:blue")
        axes[1].axhline(hum.frequency, color="grey", lw=0.8, ls=":")
        axes[1].set(xlabel="time (s)", ylabel="grid frequency (Hz)", title="electric network frequency (ENF)")
    return figure


def hum_table(paths: Sequence[PathLike], progress: bool | None = None) -> pd.DataFrame:
    """One row per recording (HUM_COLUMNS): the mains frequency or why none, the evidence, and the ENF drift
    (largest distance of the track from nominal, Hz). Unreadable files are rows with an `error`."""
    rows = []
    with progress_bar(progress, len(paths), "recordings") as bar:
        for path in paths:
            row = dict.fromkeys(HUM_COLUMNS) | {"path": printable_path(os.fsdecode(path))}
            try:
                samples, rate = read_wav(path)
                hum = mains_hum(samples, rate)
                row.update(mains_hz=hum.frequency, reason=hum.reason, evidence_50=hum.evidence.get(50),
                           evidence_60=hum.evidence.get(60), seconds=round(len(samples) / rate, 3), sample_rate=rate,
                           harmonics_50=" ".join(str(50 * k) for k in hum.harmonics.get(50, [])),
                           harmonics_60=" ".join(str(60 * k) for k in hum.harmonics.get(60, [])))
                if hum.frequency:
                    track = enf_track(samples, rate, hum.frequency)["frequency_hz"]
                    row["drift_hz"] = round(float(np.nanmax(np.abs(track - hum.frequency))), 4)
            except Exception as exc:  # noqa: BLE001 - one bad recording must not stop the batch
                row["error"] = str(exc) if isinstance(exc, ValueError) else short_error(exc)
            rows.append(row)
            bar.update(1)
    df = pd.DataFrame(rows, columns=list(HUM_COLUMNS))
    df["mains_hz"] = df["mains_hz"].astype("Int64")
    df["sample_rate"] = df["sample_rate"].astype("Int64")
    return df


def media_files(folder: PathLike) -> tuple[list[Path], list[Path]]:
    """The videos and WAV recordings under a folder, by their real kind (not their names)."""
    from vidlab.evidence import folder_entries, identify

    root = Path(folder)
    videos, recordings = [], []
    for rel, skipped in folder_entries(root):
        if skipped is None:
            kind = identify(root / rel)
            (videos if kind in ("mp4", "avi") else recordings if kind == "wav" else []).append(root / rel)
    return videos, recordings
